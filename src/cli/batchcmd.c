/*
 * batchcmd.c - neardup cluster | dedup | pairs over one batch.
 *
 * Records are read in chunks (texts copied into a chunk buffer, then handed
 * to nd_batch_add_many, which sketches them in parallel and keeps no text).
 * Ids are kept for the output; dedup also spools each raw record to an
 * unlinked temporary file, so memory holds neither texts nor records.
 * Bad records stop the run with exit 65 before any output is written, or,
 * with --skip-bad, are counted and reported; every good record is in the
 * output exactly once.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define CHUNK_DOCS 4096
#define CHUNK_BYTES (64u << 20)

typedef struct {
    char *p;
    size_t n, cap;
} buf;

static int buf_put(buf *b, const void *s, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

/* One chunk of records waiting to be sketched. */
typedef struct {
    buf text;
    size_t n;
    size_t off[CHUNK_DOCS + 1];
    size_t len[CHUNK_DOCS];
    nd_doc_meta meta[CHUNK_DOCS];
    uint64_t line[CHUNK_DOCS];
    buf files; /* NUL-separated file name of each record */
    size_t file_off[CHUNK_DOCS];
    buf keep;  /* id, then the raw record (dedup) of each record */
    size_t keep_off[CHUNK_DOCS + 1], id_len[CHUNK_DOCS];
} chunk;

typedef struct {
    const cli_opts *o;
    nd_batch *batch;
    buf ids;            /* id texts, back to back */
    size_t *id_off;     /* n + 1 offsets into ids */
    size_t nids, cap_ids;
    FILE *spool;        /* dedup: raw records */
    uint64_t *raw_len;
    uint64_t skipped_bad, skipped_binary;
    int any_dir;
    double t0, last_progress;
} run;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(run *r, int done)
{
    if (r->o->quiet || !isatty(STDERR_FILENO))
        return;
    double t = wall();
    if (!done && t - r->last_progress < 0.25)
        return;
    r->last_progress = t;
    fprintf(stderr, "\rneardup: %zu documents read, %.1f s%s", r->nids,
            t - r->t0, done ? "\n" : "");
    fflush(stderr);
}

static int oom(void)
{
    cli_error("out of memory");
    return EXIT_IO;
}

/* Keep the id (and raw record for dedup) of chunk record i, now added. */
static int commit_record(run *r, const chunk *c, size_t i)
{
    if (r->nids + 2 > r->cap_ids) {
        size_t cap = r->cap_ids ? r->cap_ids * 2 : 1 << 14;
        size_t *p = realloc(r->id_off, cap * sizeof *p);
        if (!p)
            return oom();
        r->id_off = p;
        if (r->spool) {
            uint64_t *q = realloc(r->raw_len, cap * sizeof *q);
            if (!q)
                return oom();
            r->raw_len = q;
        }
        r->cap_ids = cap;
    }
    const char *id = c->keep.p + c->keep_off[i];
    size_t id_len = c->id_len[i];
    if (buf_put(&r->ids, id, id_len))
        return oom();
    r->id_off[r->nids] = r->ids.n - id_len;
    r->id_off[r->nids + 1] = r->ids.n;
    if (r->spool) {
        const char *raw = id + id_len;
        size_t n = c->keep_off[i + 1] - c->keep_off[i] - id_len;
        if (fwrite(raw, 1, n, r->spool) != n) {
            cli_error("temporary file: write failed");
            return EXIT_IO;
        }
        r->raw_len[r->nids] = n;
    }
    r->nids++;
    return EXIT_OK;
}

/* Add chunk records [from, to) to the batch; *bad set on ND_ERR_UTF8. */
static int add_range(run *r, const chunk *c, size_t from, size_t to, size_t *bad)
{
    const char *texts[CHUNK_DOCS] = {0};
    if (from == to)
        return ND_OK;
    for (size_t i = from; i < to; i++)
        texts[i - from] = c->text.p + c->off[i];
    int rc = nd_batch_add_many(r->batch, to - from, texts, c->len + from,
                               c->meta + from, bad);
    if (rc != ND_OK)
        return rc;
    for (size_t i = from; i < to; i++)
        if ((rc = commit_record(r, c, i)) != EXIT_OK)
            return rc == EXIT_IO ? ND_ERR_IO : ND_ERR_NOMEM;
    return ND_OK;
}

/* Sketch the chunk; under --strict a record with invalid UTF-8 is bad. */
static int flush_chunk(run *r, chunk *c)
{
    size_t start = 0;
    while (start < c->n) {
        size_t bad = 0;
        int rc = add_range(r, c, start, c->n, &bad);
        if (rc == ND_OK)
            break;
        if (rc != ND_ERR_UTF8) {
            cli_error("%s", rc == ND_ERR_IO ? "temporary file: write failed"
                                            : nd_batch_errmsg(r->batch));
            return EXIT_IO;
        }
        size_t at = start + bad;
        const char *file = c->files.p + c->file_off[at];
        unsigned long long line = (unsigned long long)c->line[at];
        if (!r->o->skip_bad) {
            cli_error("%s:%llu: invalid UTF-8 (--strict)", file, line);
            return EXIT_DATA;
        }
        cli_warn(r->o, "%s:%llu: invalid UTF-8 (--strict), record skipped",
                 file, line);
        r->skipped_bad++;
        if (bad && add_range(r, c, start, at, NULL) != ND_OK) {
            cli_error("%s", nd_batch_errmsg(r->batch));
            return EXIT_IO;
        }
        start = at + 1;
    }
    c->n = 0;
    c->text.n = 0;
    c->files.n = 0;
    c->keep.n = 0;
    return EXIT_OK;
}

static int read_all(run *r, chunk *c)
{
    const cli_opts *o = r->o;
    nd_reader *rd;
    int rc = nd_reader_open((const char *const *)o->paths, o->npaths,
                            &o->reader, &rd);
    if (rc != ND_OK) {
        cli_error("%s", rd ? nd_reader_errmsg(rd) : nd_strerror(rc));
        nd_reader_close(rd);
        return EXIT_IO;
    }
    nd_record rec;
    int status = EXIT_OK;
    for (;;) {
        rc = nd_reader_next(rd, &rec);
        if (rc == 0)
            break;
        if (rc == ND_ERR_BINARY) {
            cli_warn(o, "%s", nd_reader_errmsg(rd));
            r->skipped_binary++;
            continue;
        }
        if (rc == ND_ERR_DATA) {
            if (!o->skip_bad) {
                cli_error("%s", nd_reader_errmsg(rd));
                status = EXIT_DATA;
                break;
            }
            cli_warn(o, "%s, record skipped", nd_reader_errmsg(rd));
            r->skipped_bad++;
            continue;
        }
        if (rc < 0) {
            cli_error("%s", nd_reader_errmsg(rd));
            status = EXIT_IO;
            break;
        }
        if (c->n == CHUNK_DOCS || (c->n && c->text.n + rec.text_len > CHUNK_BYTES)) {
            status = flush_chunk(r, c);
            if (status != EXIT_OK)
                break;
        }
        size_t i = c->n;
        c->off[i] = c->text.n;
        c->len[i] = rec.text_len;
        c->meta[i] = rec.meta;
        c->line[i] = rec.line;
        c->file_off[i] = c->files.n;
        c->keep_off[i] = c->keep.n;
        c->id_len[i] = rec.id_len;
        /* A directory entry is a whole file: dedup prints its id instead. */
        int raw_is_id = r->any_dir;
        if (buf_put(&c->text, rec.text, rec.text_len) ||
            buf_put(&c->files, rec.file, strlen(rec.file) + 1) ||
            buf_put(&c->keep, rec.id, rec.id_len) ||
            (r->spool && (raw_is_id ? buf_put(&c->keep, rec.id, rec.id_len)
                                    : buf_put(&c->keep, rec.raw, rec.raw_len)))) {
            status = oom();
            break;
        }
        c->keep_off[i + 1] = c->keep.n;
        c->n++;
        progress(r, 0);
    }
    if (status == EXIT_OK && c->n)
        status = flush_chunk(r, c);
    nd_reader_close(rd);
    return status;
}

static void put_id(FILE *f, const run *r, size_t doc)
{
    fwrite(r->ids.p + r->id_off[doc], 1, r->id_off[doc + 1] - r->id_off[doc], f);
}

static int write_output(run *r, FILE *f)
{
    size_t n = nd_batch_size(r->batch);
    switch (r->o->cmd) {
    case CMD_CLUSTER:
        for (size_t i = 0; i < n; i++) {
            fputs("{\"id\": ", f);
            put_id(f, r, i);
            fprintf(f, ", \"cluster\": %u, \"rep\": %s}\n",
                    nd_batch_cluster(r->batch, i),
                    nd_batch_rep(r->batch, i) == i ? "true" : "false");
        }
        break;
    case CMD_PAIRS: {
        size_t ne;
        const nd_edge *e = nd_batch_edges(r->batch, &ne);
        for (size_t i = 0; i < ne; i++) {
            fputs("{\"a\": ", f);
            put_id(f, r, e[i].a);
            fputs(", \"b\": ", f);
            put_id(f, r, e[i].b);
            fprintf(f, ", \"jaccard\": %.4f, \"containment\": %.4f}\n",
                    e[i].jaccard, e[i].containment);
        }
        break;
    }
    case CMD_DEDUP: {
        if (fflush(r->spool) != 0 || fseek(r->spool, 0, SEEK_SET) != 0) {
            cli_error("temporary file: read failed");
            return EXIT_IO;
        }
        char *tmp = NULL;
        size_t tcap = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = (size_t)r->raw_len[i];
            if (len > tcap) {
                char *p = realloc(tmp, len);
                if (!p) {
                    free(tmp);
                    return oom();
                }
                tmp = p;
                tcap = len;
            }
            if (fread(tmp, 1, len, r->spool) != len) {
                free(tmp);
                cli_error("temporary file: read failed");
                return EXIT_IO;
            }
            if (nd_batch_rep(r->batch, i) == i) {
                fwrite(tmp, 1, len, f);
                fputc('\n', f);
            }
        }
        free(tmp);
        break;
    }
    }
    return EXIT_OK;
}

static void print_stats(const run *r, double secs)
{
    nd_batch_stats st;
    nd_batch_stats_get(r->batch, &st);
    fprintf(stderr,
            "neardup: %llu documents (%llu empty, %llu with invalid UTF-8, "
            "%llu bad records skipped, %llu binary files skipped), "
            "%llu candidate pairs, %llu edges, %llu clusters, "
            "%llu capped buckets; %u bands x %u rows; %.2f MB in %.2f s\n",
            (unsigned long long)st.text.docs, (unsigned long long)st.text.empty,
            (unsigned long long)st.text.bad_utf8,
            (unsigned long long)r->skipped_bad,
            (unsigned long long)r->skipped_binary,
            (unsigned long long)st.candidates, (unsigned long long)st.edges,
            (unsigned long long)st.clusters,
            (unsigned long long)st.capped_buckets, st.bands, st.rows,
            st.text.bytes / 1e6, secs);
}

int cli_batch(const cli_opts *o)
{
    run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.t0 = wall();
    for (size_t i = 0; i < o->npaths; i++) {
        struct stat sb;
        if (strcmp(o->paths[i], "-") != 0 && stat(o->paths[i], &sb) == 0 &&
            S_ISDIR(sb.st_mode))
            r.any_dir = 1;
    }
    if (nd_batch_create(&o->params, &r.batch) != ND_OK)
        return oom();
    if (o->cmd == CMD_DEDUP && !(r.spool = tmpfile())) {
        cli_error("cannot create a temporary file");
        nd_batch_free(r.batch);
        return EXIT_IO;
    }
    chunk *c = calloc(1, sizeof *c);
    int status = c ? read_all(&r, c) : oom();
    if (c) {
        free(c->text.p);
        free(c->files.p);
        free(c->keep.p);
        free(c);
    }
    progress(&r, 1);
    if (status == EXIT_OK && nd_batch_run(r.batch) != ND_OK) {
        cli_error("%s", nd_batch_errmsg(r.batch));
        status = EXIT_IO;
    }
    if (status == EXIT_OK) {
        cli_out out;
        status = cli_out_open(&out, o->output);
        if (status == EXIT_OK) {
            status = write_output(&r, out.f);
            if (status == EXIT_OK)
                status = cli_out_commit(&out);
            else
                cli_out_abort(&out);
        }
    }
    if (status == EXIT_OK && o->stats)
        print_stats(&r, wall() - r.t0);
    if (r.spool)
        fclose(r.spool);
    free(r.ids.p);
    free(r.id_off);
    free(r.raw_len);
    nd_batch_free(r.batch);
    return status;
}
