/*
 * stream_dedup.c - tag near-duplicates in a stream of JSON lines.
 *
 *   stream_dedup [-t THRESHOLD] [-d DIR] < articles.jsonl
 *
 * Reads one JSON object per line with "id" and "text" members and prints,
 * for each, {"id": <id>, "duplicate_of": <id of the best earlier match, or
 * null>, "jaccard": <score>}.  With -d the index lives in directory DIR and
 * survives restarts (synced every 1000 articles and at the end).
 *
 * Built against the installed library:
 *   cc stream_dedup.c $(pkg-config --cflags --libs neardup)
 * The line parser below reads flat objects only (string "text", string or
 * number "id"); a real program would use nd_reader_* from neardup.h.
 */
#include <ctype.h>
#include <neardup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decode the JSON string starting after its opening quote; *end past it. */
static char *json_string(const char *s, const char **end, size_t *len)
{
    char *out = malloc(strlen(s) + 1);
    size_t n = 0;
    while (*s && *s != '"') {
        if (*s == '\\' && s[1]) {
            s++;
            switch (*s) {
            case 'n': out[n++] = '\n'; break;
            case 't': out[n++] = '\t'; break;
            case 'r': out[n++] = '\r'; break;
            case 'b': case 'f': out[n++] = ' '; break;
            case 'u': {
                unsigned cp = 0;
                for (int k = 0; k < 4 && isxdigit((unsigned char)s[1]); k++) {
                    char c = *++s;
                    cp = cp * 16 + (unsigned)(c <= '9' ? c - '0'
                                                       : (c | 32) - 'a' + 10);
                }
                if (cp < 0x80) {
                    out[n++] = (char)cp;
                } else if (cp < 0x800) {
                    out[n++] = (char)(0xC0 | cp >> 6);
                    out[n++] = (char)(0x80 | (cp & 0x3F));
                } else {
                    out[n++] = (char)(0xE0 | cp >> 12);
                    out[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
                    out[n++] = (char)(0x80 | (cp & 0x3F));
                }
                break;
            }
            default: out[n++] = *s;
            }
            s++;
        } else {
            out[n++] = *s++;
        }
    }
    *end = *s ? s + 1 : s;
    *len = n;
    out[n] = '\0';
    return out;
}

/* The raw JSON value of member key (a string with quotes, or a number). */
static const char *member(const char *line, const char *key, size_t *len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(line, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    p += strspn(p, " \t");
    if (*p++ != ':')
        return NULL;
    p += strspn(p, " \t");
    const char *v = p;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && p[1])
                p++;
        if (*p)
            p++;
    } else {
        p += strcspn(p, ",} \t\r\n");
    }
    *len = (size_t)(p - v);
    return *len ? v : NULL;
}

int main(int argc, char **argv)
{
    nd_params p;
    nd_params_init(&p);
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            p.threshold = strtod(argv[++i], NULL);
        } else if (!strcmp(argv[i], "-d") && i + 1 < argc) {
            dir = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [-t THRESHOLD] [-d DIR] < in.jsonl\n",
                    argv[0]);
            return 1;
        }
    }
    nd_index *ix;
    int rc = dir ? nd_index_open(dir, &p, ND_INDEX_CREATE, &ix)
                 : nd_index_create(&p, &ix);
    if (rc != ND_OK) {
        fprintf(stderr, "stream_dedup: %s: %s\n", nd_strerror(rc),
                nd_index_errmsg(ix));
        nd_index_close(ix);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, dups = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        lineno++;
        size_t idlen, tlen;
        const char *id = member(line, "id", &idlen);
        const char *tv = member(line, "text", &tlen);
        if (!id || !tv || *tv != '"') {
            fprintf(stderr, "stream_dedup: line %zu: no id or text\n",
                    lineno);
            continue;
        }
        const char *end;
        size_t len;
        char *text = json_string(tv + 1, &end, &len);
        nd_match m[1];
        size_t n;
        /* the id's JSON text is the key, so it prints back verbatim */
        rc = nd_index_add_query(ix, id, idlen, text, len, (int64_t)lineno, m,
                                1, &n);
        free(text);
        if (rc != ND_OK) {
            fprintf(stderr, "stream_dedup: line %zu: %s: %s\n", lineno,
                    nd_strerror(rc), nd_index_errmsg(ix));
            continue;
        }
        if (n) {
            dups++;
            printf("{\"id\": %.*s, \"duplicate_of\": %.*s, \"jaccard\": "
                   "%.4f}\n",
                   (int)idlen, id, (int)m[0].id_len, m[0].id, m[0].jaccard);
        } else {
            printf("{\"id\": %.*s, \"duplicate_of\": null}\n", (int)idlen,
                   id);
        }
        if (dir && lineno % 1000 == 0 && (rc = nd_index_sync(ix)) != ND_OK)
            fprintf(stderr, "stream_dedup: %s\n", nd_index_errmsg(ix));
    }
    free(line);
    rc = nd_index_sync(ix);
    if (rc != ND_OK)
        fprintf(stderr, "stream_dedup: %s\n", nd_index_errmsg(ix));
    fprintf(stderr, "stream_dedup: %zu records, %zu duplicates\n", lineno,
            dups);
    nd_index_close(ix);
    return rc == ND_OK ? 0 : 2;
}
