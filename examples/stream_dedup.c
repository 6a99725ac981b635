/*
 * stream_dedup.c - tag near-duplicates in a stream of records.
 *
 *   stream_dedup [-t THRESHOLD] [-d DIR] [FILE ...]     (no FILE: stdin)
 *
 * Reads the inputs with the library's reader (JSONL with "id" and "text"
 * members, TSV, text, directories, .gz/.zst: the formats of neardup
 * cluster) and prints, for each record, {"id": <id>, "duplicate_of": <id of
 * the best earlier match, or null>, "jaccard": <score>}.  With -d the index
 * lives in directory DIR and survives restarts (synced every 1000 records
 * and at the end).  A bad record is reported with its file and line and
 * skipped; the last line on stderr accounts for every record.
 *
 * Exit: 0 ok, 1 usage error, 2 I/O error, 65 some records were bad.
 *
 * Built against the installed library:
 *   cc stream_dedup.c $(pkg-config --cflags --libs neardup)
 */
#include <neardup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-t THRESHOLD] [-d DIR] [FILE ...]\n", argv0);
    return 1;
}

int main(int argc, char **argv)
{
    nd_params p;
    nd_params_init(&p);
    const char *dir = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "-t") && i + 1 < argc)
            p.threshold = strtod(argv[++i], &end);
        else if (!strcmp(argv[i], "-d") && i + 1 < argc)
            dir = argv[++i];
        else
            return usage(argv[0]);
        if (end && *end)
            return usage(argv[0]);
    }
    char msg[200];
    if (nd_params_check(&p, msg, sizeof msg) != ND_OK) {
        fprintf(stderr, "stream_dedup: %s\n", msg);
        return 1;
    }
    nd_index *ix;
    int rc = dir ? nd_index_open(dir, &p, ND_INDEX_CREATE, &ix)
                 : nd_index_create(&p, &ix);
    if (rc != ND_OK) {
        fprintf(stderr, "stream_dedup: %s: %s\n", nd_strerror(rc),
                ix ? nd_index_errmsg(ix) : "");
        nd_index_close(ix);
        return 2;
    }
    nd_reader *r;
    rc = nd_reader_open((const char *const *)argv + i, (size_t)(argc - i), NULL, &r);
    if (rc != ND_OK) {
        fprintf(stderr, "stream_dedup: %s\n", r ? nd_reader_errmsg(r) : nd_strerror(rc));
        nd_reader_close(r);
        nd_index_close(ix);
        return 2;
    }
    size_t tagged = 0, dups = 0, bad = 0;
    const char *failed = NULL; /* an I/O error that stops the run */
    nd_record rec;
    while (!failed && (rc = nd_reader_next(r, &rec)) != 0) {
        if (rc == ND_ERR_IO) {
            failed = nd_reader_errmsg(r);
            break;
        }
        if (rc < 0) { /* a bad record or a binary file: named, skipped */
            fprintf(stderr, "stream_dedup: %s\n", nd_reader_errmsg(r));
            bad++;
            continue;
        }
        nd_match m;
        size_t n;
        /* the id's JSON text is the key, so it prints back verbatim */
        rc = nd_index_add_query(ix, rec.id, rec.id_len, rec.text, rec.text_len,
                                (int64_t)(tagged + bad + 1), &m, 1, &n);
        if (rc == ND_ERR_EXISTS) {
            fprintf(stderr, "stream_dedup: %s:%llu: id %.*s is already indexed\n",
                    rec.file, (unsigned long long)rec.line, (int)rec.id_len, rec.id);
            bad++;
            continue;
        }
        if (rc != ND_OK) {
            failed = nd_strerror(rc);
            break;
        }
        tagged++;
        if (n) {
            dups++;
            printf("{\"id\": %.*s, \"duplicate_of\": %.*s, \"jaccard\": %.4f}\n",
                   (int)rec.id_len, rec.id, (int)m.id_len, m.id, m.jaccard);
        } else {
            printf("{\"id\": %.*s, \"duplicate_of\": null}\n", (int)rec.id_len, rec.id);
        }
        if (dir && tagged % 1000 == 0 && nd_index_sync(ix) != ND_OK)
            failed = nd_index_errmsg(ix);
    }
    if (failed)
        fprintf(stderr, "stream_dedup: %s\n", failed);
    else if (nd_index_sync(ix) != ND_OK)
        fprintf(stderr, "stream_dedup: %s\n", failed = nd_index_errmsg(ix));
    if (fflush(stdout) != 0 || ferror(stdout))
        fprintf(stderr, "stream_dedup: %s\n", failed = "cannot write the output");
    fprintf(stderr, "stream_dedup: %zu records: %zu tagged (%zu duplicates), %zu bad%s\n",
            tagged + bad, tagged, dups, bad, failed ? ", then stopped" : "");
    nd_reader_close(r);
    nd_index_close(ix);
    return failed ? 2 : bad ? 65 : 0;
}
