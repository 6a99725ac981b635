/*
 * indexcmd.c - neardup index add | query | stats | evict over an index
 * directory (nd_index_open).
 *
 * Options of the index (--index, --max-matches, --before, --sync-every) are
 * taken out of argv first; the rest goes through cli_parse, so input
 * formats, fields, parameters and their checks are those of `cluster`.
 * Parameters given on the command line must equal the stored ones (else
 * exit 1); none given means "whatever the index holds" (defaults for a new
 * one).  Ids are stored as the JSON text the reader gives (a "string" or a
 * number as written), so they print back exactly.
 *
 * add acknowledges a document by printing its line, and prints it only
 * once the document's log record was written (write(2)): a line a reader
 * got survives kill -9.  The index is opened ND_INDEX_BUFFERED and lines
 * wait with their records; a chunk of them is written to the log, then its
 * lines to the output (flushed), when it holds ACK_DOCS documents or
 * ACK_BYTES of lines, at each --sync-every point (then after fdatasync,
 * as at the end), and whenever the input would make the reader wait -- so
 * a document is never held back waiting for the next one.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

typedef struct ixopts {
    const char *action;
    const char *index;
    unsigned long long max_matches, sync_every;
    const char *before;
    int have_params;
} ixopts;

static void ix_usage(FILE *f)
{
    fputs(
"usage: neardup index add   --index DIR [OPTIONS] [FILE|DIR ...]\n"
"       neardup index query --index DIR [--max-matches N] [OPTIONS] [FILE ...]\n"
"       neardup index stats --index DIR\n"
"       neardup index evict --index DIR --before TIME\n"
"\n"
"  add     per document {\"id\", \"duplicate_of\", \"jaccard\", \"containment\"}\n"
"          (the best earlier match, or null, null, null), then index it;\n"
"          creates DIR with the given parameters (see neardup --help)\n"
"  query   per document {\"id\", \"matches\": [{\"id\", \"jaccard\",\n"
"          \"containment\"}, ...]} best first, read-only\n"
"  stats   one JSON object: documents, parameters, boilerplate cut-off,\n"
"          bytes on disk\n"
"  evict   remove documents with time < TIME; prints {\"evicted\": N}\n"
"\n"
"  --index DIR         the index directory (required)\n"
"  --max-matches N     matches per query, 1..100000 (default 10)\n"
"  --sync-every N      add: fdatasync the log every N documents (default\n"
"                      10000) and at the end.  A line is printed once its\n"
"                      document is in the log (it survives kill -9); once\n"
"                      synced, it survives power loss too\n"
"  --before TIME       seconds since the epoch or RFC 3339\n"
"  --time-field F      add: each document's time (default: time of the add)\n"
"Input and parameter options are those of neardup cluster.  Ids are\n"
"compared as written: \"7\" and 7 are two ids.\n"
"\n"
"Exit: 0 ok; 1 usage error, or parameters that differ from the index's;\n"
"2 I/O error, no index at DIR, index locked or damaged; 65 bad input data\n"
"(FILE:LINE), an id already indexed among them (--skip-bad: warn, go on).\n",
          f);
}

static int num_arg(const char *opt, const char *s, unsigned long long lo,
                   unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    if (!(s[0] >= '0' && s[0] <= '9') || errno || *end || v < lo || v > hi) {
        cli_error("%s: '%s' is not an integer in %llu..%llu", opt, s, lo, hi);
        return EXIT_USAGE;
    }
    *out = v;
    return -1;
}

/* "--name" or "--name=value" */
static const char *opt_is(const char *arg, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return NULL;
    return arg[n] == '\0' ? "" : arg[n] == '=' ? arg + n + 1 : NULL;
}

/* Take the index options out of argv (argv[0] is the action); the rest,
 * with argv[0] kept, stays in argv for cli_parse.  *argc is updated. */
static int take_index_opts(ixopts *x, int *argc, char **argv)
{
    static const char *const own[] = {"--index", "--max-matches",
                                      "--sync-every", "--before"};
    static const char *const params[] = {
        "--threshold", "--ngram", "--char-ngram", "--num-perm", "--bands",
        "--rows", "--measure", "--containment", "--seed", "--strict",
        "--figures", "--boilerplate"};
    int w = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i], *val = NULL;
        int which = -1;
        if (strcmp(a, "--") == 0) {
            while (i < *argc)
                argv[w++] = argv[i++];
            break;
        }
        for (int k = 0; k < 4 && which < 0; k++)
            if ((val = opt_is(a, own[k])))
                which = k;
        for (int k = 0; k < 12 && which < 0; k++)
            if (opt_is(a, params[k]))
                x->have_params = 1;
        if (which < 0) {
            argv[w++] = argv[i];
            continue;
        }
        if (!*val) {
            if (i + 1 >= *argc) {
                cli_error("option '%s' needs a value", a);
                return EXIT_USAGE;
            }
            val = argv[++i];
        }
        int rc = -1;
        switch (which) {
        case 0: x->index = val; break;
        case 1: rc = num_arg("--max-matches", val, 1, 100000, &x->max_matches); break;
        case 2: rc = num_arg("--sync-every", val, 1, UINT32_MAX, &x->sync_every); break;
        case 3: x->before = val; break;
        }
        if (rc != -1)
            return rc;
    }
    *argc = w;
    argv[w] = NULL;
    return -1;
}

/* Seconds since the epoch, or RFC 3339 (date, date-time, Z or offset). */
static int parse_when(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s && !errno && !*end) {
        *out = v;
        return 0;
    }
    static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S",
                                       "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S",
                                       "%Y-%m-%d"};
    for (int i = 0; i < 5; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *e = strptime(s, fmts[i], &tm);
        if (e && *e == '\0') {
            *out = (int64_t)timegm(&tm) - tm.tm_gmtoff;
            return 0;
        }
    }
    return -1;
}

static int open_failed(const ixopts *x, nd_index *ix, int rc)
{
    if (rc == ND_ERR_NOTFOUND)
        cli_error("%s: no index there", x->index);
    else
        cli_error("%s", nd_index_errmsg(ix));
    nd_index_close(ix);
    return rc == ND_ERR_MISMATCH || rc == ND_ERR_PARAM ? EXIT_USAGE : EXIT_IO;
}

/* Lines of documents added whose records may not be in the log yet. */
typedef struct acks {
    char *b;
    size_t len, cap;
    size_t docs;
} acks;

#define ACK_DOCS 1024
#define ACK_BYTES ((size_t)1 << 20)

static int ack_put(acks *a, const char *s, size_t n)
{
    if (a->cap - a->len < n) {
        size_t c = a->cap ? a->cap : 4096;
        while (c - a->len < n)
            c *= 2;
        char *b = realloc(a->b, c);
        if (!b)
            return -1;
        a->b = b;
        a->cap = c;
    }
    memcpy(a->b + a->len, s, n);
    a->len += n;
    return 0;
}

/* The line of an added document: its best earlier match (m) or none. */
static int ack_line(acks *a, const nd_record *rec, const nd_match *m)
{
    char num[96];
    int bad = ack_put(a, "{\"id\": ", 7) || ack_put(a, rec->id, rec->id_len);
    if (!m) {
        static const char none[] = ", \"duplicate_of\": null, \"jaccard\": "
                                   "null, \"containment\": null}\n";
        bad = bad || ack_put(a, none, sizeof none - 1);
    } else {
        int n = snprintf(num, sizeof num,
                         ", \"jaccard\": %.4f, \"containment\": %.4f}\n",
                         m->jaccard, m->containment);
        bad = bad || ack_put(a, ", \"duplicate_of\": ", 18) ||
              ack_put(a, m->id, m->id_len) || ack_put(a, num, (size_t)n);
    }
    a->docs++;
    return bad ? -1 : 0;
}

/* The index's write or sync failed and was reported: the command exits
   EXIT_IO and does not report the same error again. */
#define EXIT_SYNC (-2)

/*
 * Write the waiting records to the log (sync: and fdatasync it), then the
 * waiting lines to f.  Lines whose records could not be written are not
 * printed.  EXIT_OK, EXIT_SYNC (the index's error, printed when say) or
 * EXIT_IO (an error of f, which cli_out_commit reports).
 */
static int acknowledge(nd_index *ix, acks *a, FILE *f, int sync, int say)
{
    int rc = sync ? nd_index_sync(ix) : a->docs ? nd_index_flush(ix) : ND_OK;
    size_t len = a->len;
    a->len = a->docs = 0;
    if (rc != ND_OK) {
        if (say)
            cli_error("%s", nd_index_errmsg(ix));
        return EXIT_SYNC;
    }
    if (len && (fwrite(a->b, 1, len, f) != len || fflush(f)))
        return EXIT_IO;
    return EXIT_OK;
}

/*
 * How the input arrives: 0 from files and directories only (a chunk may
 * wait for the next documents: they are there); 1 from a standard input
 * that is no file, polled before each read; 2 from a named input that is
 * no file (a FIFO, a device), which cannot be polled: every document is
 * acknowledged at once.
 */
static int input_kind(const cli_opts *o)
{
    int kind = 0;
    struct stat st;
    for (size_t i = 0; i <= o->npaths; i++) {
        int is_stdin = i == o->npaths ? o->npaths == 0
                                      : strcmp(o->paths[i], "-") == 0;
        if (i == o->npaths && !is_stdin)
            break;
        if (is_stdin) {
            if (fstat(0, &st) || !S_ISREG(st.st_mode))
                kind = kind > 1 ? kind : 1;
        } else if (stat(o->paths[i], &st) == 0 && !S_ISREG(st.st_mode) &&
                   !S_ISDIR(st.st_mode)) {
            kind = 2;
        }
    }
    return kind;
}

/* 1 when standard input has bytes (or its end) to read without waiting. */
static int stdin_ready(void)
{
    struct pollfd p = {.fd = 0, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

static void put_match(FILE *f, const char *key, const nd_match *m)
{
    fprintf(f, "\"%s\": ", key);
    fwrite(m->id, 1, m->id_len, f);
    fprintf(f, ", \"jaccard\": %.4f, \"containment\": %.4f", m->jaccard,
            m->containment);
}


/* add and query: one pass over the records. */
static int run_docs(const ixopts *x, const cli_opts *o, nd_index *ix, FILE *f)
{
    int add = strcmp(x->action, "add") == 0;
    size_t cap = add ? 1 : (size_t)x->max_matches;
    nd_match *m = malloc(cap * sizeof *m);
    nd_reader *rd = NULL;
    if (!m) {
        cli_error("out of memory");
        return EXIT_IO;
    }
    if (cli_stdin_check(o->paths, o->npaths) != EXIT_OK) {
        free(m);
        return EXIT_IO;
    }
    int rc = nd_reader_open((const char *const *)o->paths, o->npaths,
                            &o->reader, &rd);
    if (rc != ND_OK) {
        cli_error("%s", rd ? nd_reader_errmsg(rd) : nd_strerror(rc));
        nd_reader_close(rd);
        free(m);
        return EXIT_IO;
    }
    int status = EXIT_OK, kind = add ? input_kind(o) : 0;
    unsigned long long since_sync = 0;
    acks a = {0};
    nd_record rec;
    while (status == EXIT_OK && (rc = nd_reader_next(rd, &rec)) != 0) {
        if (rc == ND_ERR_BINARY) {
            cli_warn(o, "%s", nd_reader_errmsg(rd));
            continue;
        }
        if (rc == ND_ERR_DATA) {
            if (!o->skip_bad) {
                cli_error("%s", nd_reader_errmsg(rd));
                status = EXIT_DATA;
            } else {
                cli_warn(o, "%s, record skipped", nd_reader_errmsg(rd));
            }
            continue;
        }
        if (rc < 0) {
            cli_error("%s", nd_reader_errmsg(rd));
            status = EXIT_IO;
            break;
        }
        size_t n = 0;
        if (add) {
            int64_t t = rec.meta.has_time ? rec.meta.time : (int64_t)time(NULL);
            rc = nd_index_add_query(ix, rec.id, rec.id_len, rec.text,
                                    rec.text_len, t, m, cap, &n);
        } else {
            rc = nd_index_query(ix, rec.text, rec.text_len, m, cap, &n);
        }
        if (rc == ND_ERR_EXISTS || rc == ND_ERR_UTF8 || rc == ND_ERR_PARAM) {
            const char *why = rc == ND_ERR_EXISTS ? "is already indexed"
                              : rc == ND_ERR_UTF8 ? "has invalid UTF-8 (--strict)"
                                                  : "is too long";
            int idl = rec.id_len > 200 ? 200 : (int)rec.id_len;
            if (!o->skip_bad) {
                cli_error("%s:%llu: id %.*s %s", rec.file,
                          (unsigned long long)rec.line, idl, rec.id, why);
                status = EXIT_DATA;
            } else {
                cli_warn(o, "%s:%llu: id %.*s %s, record skipped", rec.file,
                         (unsigned long long)rec.line, idl, rec.id, why);
            }
            continue;
        }
        if (rc != ND_OK) {
            cli_error("%s", add ? nd_index_errmsg(ix) : nd_strerror(rc));
            status = add ? EXIT_SYNC : EXIT_IO;
            break;
        }
        if (add) {
            if (ack_line(&a, &rec, n ? &m[0] : NULL)) {
                cli_error("out of memory");
                status = EXIT_IO;
            } else if (++since_sync == x->sync_every) {
                since_sync = 0;
                status = acknowledge(ix, &a, f, 1, 1);
            } else if (a.docs >= ACK_DOCS || a.len >= ACK_BYTES ||
                       kind == 2 || (kind == 1 && !stdin_ready())) {
                status = acknowledge(ix, &a, f, 0, 1);
            }
        } else {
            fputs("{\"id\": ", f);
            fwrite(rec.id, 1, rec.id_len, f);
            fputs(", \"matches\": [", f);
            for (size_t i = 0; i < n; i++) {
                fputs(i ? ", {" : "{", f);
                put_match(f, "id", &m[i]);
                fputc('}', f);
            }
            fputs("]}\n", f);
        }
    }
    /* what was added before a bad record stays added and is acknowledged;
       at the end of the input, after fdatasync */
    if (add) {
        int st = acknowledge(ix, &a, f, status == EXIT_OK, status != EXIT_SYNC);
        if (status == EXIT_OK)
            status = st;
    }
    free(a.b);
    nd_reader_close(rd);
    free(m);
    return status;
}

static int cmd_stats(nd_index *ix, FILE *f)
{
    nd_index_stats st;
    nd_params p;
    nd_index_stats_get(ix, &st);
    nd_index_params(ix, &p);
    fprintf(f,
            "{\"documents\": %llu, \"removed\": %llu, \"time_min\": %lld, "
            "\"time_max\": %lld, \"shingle\": \"%s\", \"ngram\": %u, "
            "\"num_perm\": %u, \"seed\": %llu, \"threshold\": %g, "
            "\"measure\": \"%s\", \"containment\": %g, \"bands\": %u, "
            "\"rows\": %u, \"figures\": %g, \"boilerplate\": %g, "
            "\"boilerplate_min\": %u, \"boilerplate_cutoff\": %llu, "
            "\"df_docs\": %llu, \"df_rate\": %llu, \"disk_bytes\": %llu, "
            "\"generation\": %llu}\n",
            (unsigned long long)st.docs, (unsigned long long)st.removed,
            (long long)st.time_min, (long long)st.time_max,
            p.shingle == ND_SHINGLE_CHAR ? "char" : p.shingle == ND_SHINGLE_GLYPH ? "glyph" : "word", p.ngram,
            st.num_perm, (unsigned long long)p.seed, p.threshold,
            p.measure == ND_MEASURE_CONTAINMENT ? "containment" : "jaccard",
            p.containment, st.bands, st.rows, p.figures, p.boilerplate,
            p.boilerplate_min, (unsigned long long)st.boilerplate_cutoff,
            (unsigned long long)st.df_docs, (unsigned long long)st.df_rate,
            (unsigned long long)st.disk_bytes,
            (unsigned long long)st.generation);
    return EXIT_OK;
}

int cli_index(int argc, char **argv)
{
    ixopts x = {.max_matches = 10, .sync_every = 10000};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        ix_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    x.action = argv[1];
    int is_add = !strcmp(x.action, "add"), is_query = !strcmp(x.action, "query"),
        is_stats = !strcmp(x.action, "stats"), is_evict = !strcmp(x.action, "evict");
    static const char *const actions[] = {"add", "query", "stats", "evict", NULL};
    static const char *const ix_opts[] = {"index", "max-matches", "sync-every",
                                          "before", NULL};
    cli_suggest_also(ix_opts);
    if (!is_add && !is_query && !is_stats && !is_evict) {
        const char *near = cli_closest(x.action, strlen(x.action), actions);
        if (near)
            cli_error("unknown index command '%s'; did you mean '%s'?", x.action, near);
        else
            cli_error("unknown index command '%s'", x.action);
        fputs("Try 'neardup index --help'.\n", stderr);
        return EXIT_USAGE;
    }
    argc--;
    argv++;
    int rc = take_index_opts(&x, &argc, argv);
    if (rc != -1)
        return rc;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ix_usage(stdout);
            return EXIT_OK;
        }
    cli_opts o;
    if ((rc = cli_parse(&o, CMD_CLUSTER, argc, argv)) != -1)
        return rc;
    if (!x.index) {
        cli_error("index %s needs --index DIR", x.action);
        return EXIT_USAGE;
    }
    if (is_evict != (x.before != NULL)) {
        cli_error(is_evict ? "index evict needs --before TIME"
                           : "--before belongs to index evict");
        return EXIT_USAGE;
    }
    int64_t before = 0;
    if (is_evict && parse_when(x.before, &before)) {
        cli_error("--before: '%s' is not seconds since the epoch or RFC 3339",
                  x.before);
        return EXIT_USAGE;
    }
    if ((is_stats || is_evict) && o.npaths) {
        cli_error("index %s takes no input files", x.action);
        return EXIT_USAGE;
    }
    nd_index *ix;
    int flags = is_add ? ND_INDEX_CREATE | ND_INDEX_BUFFERED
                : is_evict ? 0 : ND_INDEX_READONLY;
    rc = nd_index_open(x.index, x.have_params ? &o.params : NULL, flags, &ix);
    if (rc != ND_OK)
        return open_failed(&x, ix, rc);
    cli_out out;
    int status = cli_out_open(&out, o.output);
    if (status == EXIT_OK) {
        if (is_stats) {
            status = cmd_stats(ix, out.f);
        } else if (is_evict) {
            size_t k = 0;
            if (nd_index_evict_before(ix, before, &k) != ND_OK) {
                cli_error("%s", nd_index_errmsg(ix));
                status = EXIT_IO;
            } else {
                fprintf(out.f, "{\"evicted\": %zu}\n", k);
            }
        } else {
            status = run_docs(&x, &o, ix, out.f);
        }
        /* what was added stays added: its lines are written even after a
         * bad record */
        int wst = cli_out_commit(&out);
        if (status == EXIT_OK)
            status = wst;
    }
    if (!is_query && !is_stats && nd_index_sync(ix) != ND_OK &&
        status != EXIT_SYNC) {
        cli_error("%s", nd_index_errmsg(ix));
        if (status == EXIT_OK)
            status = EXIT_IO;
    }
    if (status == EXIT_SYNC)
        status = EXIT_IO;
    nd_index_close(ix);
    return status;
}
