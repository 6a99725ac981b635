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
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
"  --sync-every N      add: make the index durable every N documents\n"
"                      (default 10000; always at the end)\n"
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

static void put_match(FILE *f, const char *key, const nd_match *m)
{
    fprintf(f, "\"%s\": ", key);
    fwrite(m->id, 1, m->id_len, f);
    fprintf(f, ", \"jaccard\": %.4f, \"containment\": %.4f", m->jaccard,
            m->containment);
}

/* add and query: one pass over the records. */
/* run_docs: a sync failed and was reported (the command exits EXIT_IO). */
#define EXIT_SYNC (-2)

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
    int status = EXIT_OK;
    unsigned long long since_sync = 0;
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
            status = EXIT_IO;
            break;
        }
        fputs("{\"id\": ", f);
        fwrite(rec.id, 1, rec.id_len, f);
        if (add) {
            if (n) {
                fputs(", ", f);
                put_match(f, "duplicate_of", &m[0]);
                fputs("}\n", f);
            } else {
                fputs(", \"duplicate_of\": null, \"jaccard\": null, "
                      "\"containment\": null}\n", f);
            }
            if (++since_sync == x->sync_every) {
                since_sync = 0;
                if (nd_index_sync(ix) != ND_OK) {
                    cli_error("%s", nd_index_errmsg(ix));
                    status = EXIT_SYNC;
                }
            }
        } else {
            fputs(", \"matches\": [", f);
            for (size_t i = 0; i < n; i++) {
                fputs(i ? ", {" : "{", f);
                put_match(f, "id", &m[i]);
                fputc('}', f);
            }
            fputs("]}\n", f);
        }
    }
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
    if (!is_add && !is_query && !is_stats && !is_evict) {
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
    int flags = is_add ? ND_INDEX_CREATE : is_evict ? 0 : ND_INDEX_READONLY;
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
