/*
 * ndbench - speed, memory and approximation quality of the batch engine.
 *
 *   ndbench [OPTIONS] CORPUS...
 *
 * The corpus is loaded into memory once (that pass also warms the page
 * cache), so the reader is timed on its own and every engine run sees the
 * same bytes.  Each engine run creates a batch, and as the CLI does: when
 * boilerplate suppression is on, counts the shingle document frequencies of
 * every text first (nd_batch_count, in chunks of 4096; the engine counts its
 * time in the sketch stage, and it is also reported on its own), then adds every text in chunks of 4096
 * (nd_batch_add_many: normalize, shingle, sketch), runs it and reads the
 * per-stage seconds from nd_batch_stats.  Figures are medians of --repeat
 * runs after --warmup runs; end to end is the median read plus the median
 * batch time.
 *
 * Memory: the peak RSS of the process (getrusage; it includes the loaded
 * corpus) and the RSS growth per document over the first run, measured after
 * the adds (what a batch holds per document) and after nd_batch_run.  Only
 * the first run is used because the allocator keeps freed memory for reuse.
 *
 * Approximation quality (--brute N): on the first N documents, the exact
 * score of every pair, from the shingle sets (nd_sketcher_shingles), gives
 * the pairs that truly pass the threshold; the pairs the batch reports are
 * scored against them, once with estimated scores (the chosen parameters)
 * and once with exact verification (what LSH alone loses).  The reference
 * applies the engine's match rule (Jaccard >= threshold or containment >=
 * the containment field; or containment under measure containment) to the
 * full shingle sets; boilerplate suppression and the figure check are not
 * part of it, so the reference and both batch runs have them turned off.
 *
 * Only the public header is used.  Output is a table, or one JSON object
 * with --json.  Exit: 0 ok, 1 usage, 2 I/O or engine error, 65 bad input.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../src/neardup.h"

enum { EXIT_OK = 0, EXIT_USAGE = 1, EXIT_IO = 2, EXIT_DATA = 65 };

#define CHUNK 4096
#define MAX_SCAN 32

/* ================================================================ helpers */

static void fatal(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void fatal(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("ndbench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        fatal(EXIT_IO, "out of memory");
    return p;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resident set size now, in bytes, or -1 where /proc is missing. */
static long long rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size, res;
    if (!f)
        return -1;
    int ok = fscanf(f, "%lld %lld", &size, &res) == 2;
    fclose(f);
    return ok ? res * (long long)sysconf(_SC_PAGESIZE) : -1;
}

static long long rss_peak(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (long long)ru.ru_maxrss * 1024; /* Linux reports kilobytes */
}

/* The 1-minute load average, or -1: other work on the machine skews timings. */
static double load_now(void)
{
    double l[1];
    return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
    double tmp[64];
    if (n == 0)
        return 0.0;
    if (n > sizeof tmp / sizeof *tmp)
        n = sizeof tmp / sizeof *tmp;
    memcpy(tmp, v, n * sizeof *v);
    qsort(tmp, n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
}

static double ratio(double num, double den)
{
    return den > 0.0 ? num / den : 0.0;
}

/* ================================================================ options */

typedef struct {
    nd_params p;
    nd_reader_opts ro;
    const char *const *paths;
    size_t npaths;
    size_t limit;          /* 0: every record */
    unsigned repeat, warmup;
    unsigned scan[MAX_SCAN];
    size_t nscan;
    int json;
    const char *pred_out;
    const char *label;
    size_t brute;
} opts;

static void usage(FILE *f)
{
    fputs(
"usage: ndbench [OPTIONS] CORPUS...\n"
"Times the neardup batch engine per stage on a corpus held in memory.\n"
"Engine (as neardup): --threshold T --measure jaccard|containment --ngram N\n"
"  --char-ngram N --num-perm K --bands B --rows R --seed S --threads N --exact\n"
"  --containment C (with jaccard: also match at containment >= C; 0 = off)\n"
"  --sketch kperm|oph|cminhash (signature scheme; default as nd_params_init)\n"
"  --boilerplate F (ignore shingles in more than F of the documents; 0 = off;\n"
"  a counting pass over every text first, as the CLI does)\n"
"  --figures F (pairs that state figures must share this fraction; 0 = off)\n"
"  --cluster components|guarded|attach\n"
"Input: --format jsonl|tsv|text --id-field F --text-field F --limit N (first N)\n"
"Run:\n"
"  --repeat N         timed runs, the median is reported (default 3)\n"
"  --warmup N         untimed runs first (default 1)\n"
"  --threads-scan L   also time each thread count of the list L (e.g. 1,2,4)\n"
"  --pred-out FILE    write {\"id\", \"cluster\"} lines of the last run (for ndeval)\n"
"  --brute N          reported pairs against exact scores of all pairs of the\n"
"                     first N docs (N^2/2 set intersections: keep N small)\n"
"  --label S          a name carried into the JSON output\n"
"  --json             one JSON object on stdout instead of the table\n"
"Exit: 0 ok, 1 usage, 2 I/O or engine error, 65 bad input data.\n", f);
}

static unsigned long long parse_uint(const char *opt, const char *s,
                                     unsigned long long lo,
                                     unsigned long long hi)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        fatal(EXIT_USAGE, "%s: '%s' is not an integer in %llu..%llu", opt,
              s ? s : "", lo, hi);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        fatal(EXIT_USAGE, "%s: '%s' is not an integer in %llu..%llu", opt, s, lo, hi);
    return v;
}

static double parse_unit(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = s && *s ? strtod(s, &end) : NAN;
    if (!s || !*s || errno || *end || !(v > 0.0 && v <= 1.0))
        fatal(EXIT_USAGE, "%s: '%s' is not a number in (0, 1]", opt, s ? s : "");
    return v;
}

static void parse_scan(opts *o, const char *s)
{
    char item[32];
    o->nscan = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= sizeof item || o->nscan == MAX_SCAN)
            fatal(EXIT_USAGE, "--threads-scan: '%s' is not a list like 1,2,4", s);
        memcpy(item, s, n);
        item[n] = '\0';
        o->scan[o->nscan++] = (unsigned)parse_uint("--threads-scan", item, 1, 1024);
        s += n;
        if (*s == ',')
            s++;
    }
}

static void parse_args(opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    nd_params_init(&o->p);
    o->ro.format = ND_FORMAT_AUTO;
    o->ro.id_field = "id";
    o->ro.text_field = "text";
    o->repeat = 3;
    o->warmup = 1;
    int have_word = 0, have_char = 0, i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0)
            break;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(EXIT_OK);
        }
        if (strcmp(a, "--json") == 0) { o->json = 1; continue; }
        if (strcmp(a, "--exact") == 0) { o->p.exact = 1; continue; }
        if (i + 1 >= argc)
            fatal(EXIT_USAGE, "unknown option '%s', or it needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--threshold") == 0)
            o->p.threshold = parse_unit(a, v);
        else if (strcmp(a, "--ngram") == 0) {
            o->p.ngram = (unsigned)parse_uint(a, v, 1, 64);
            o->p.shingle = ND_SHINGLE_WORD;
            have_word = 1;
        } else if (strcmp(a, "--char-ngram") == 0) {
            o->p.ngram = (unsigned)parse_uint(a, v, 1, 64);
            o->p.shingle = ND_SHINGLE_CHAR;
            have_char = 1;
        } else if (strcmp(a, "--glyph-ngram") == 0) {
            o->p.ngram = (unsigned)parse_uint(a, v, 1, 64);
            o->p.shingle = ND_SHINGLE_GLYPH;
            have_char = 1;
        } else if (strcmp(a, "--num-perm") == 0)
            o->p.num_perm = (unsigned)parse_uint(a, v, 1, 4096);
        else if (strcmp(a, "--bands") == 0)
            o->p.bands = (unsigned)parse_uint(a, v, 1, 4096);
        else if (strcmp(a, "--rows") == 0)
            o->p.rows = (unsigned)parse_uint(a, v, 1, 4096);
        else if (strcmp(a, "--seed") == 0)
            o->p.seed = parse_uint(a, v, 0, UINT64_MAX);
        else if (strcmp(a, "--threads") == 0)
            o->p.threads = (unsigned)parse_uint(a, v, 0, 1024);
        else if (strcmp(a, "--measure") == 0) {
            if (strcmp(v, "jaccard") == 0)
                o->p.measure = ND_MEASURE_JACCARD;
            else if (strcmp(v, "containment") == 0)
                o->p.measure = ND_MEASURE_CONTAINMENT;
            else
                fatal(EXIT_USAGE, "--measure: '%s' is not jaccard or containment", v);
        } else if (strcmp(a, "--containment") == 0) {
            o->p.containment = strcmp(v, "0") == 0 ? 0.0 : parse_unit(a, v);
        } else if (strcmp(a, "--boilerplate") == 0) {
            o->p.boilerplate = strcmp(v, "0") == 0 ? 0.0 : parse_unit(a, v);
        } else if (strcmp(a, "--figures") == 0) {
            o->p.figures = strcmp(v, "0") == 0 ? 0.0 : parse_unit(a, v);
        } else if (strcmp(a, "--cluster") == 0) {
            if (strcmp(v, "components") == 0)
                o->p.cluster = ND_CLUSTER_COMPONENTS;
            else if (strcmp(v, "guarded") == 0)
                o->p.cluster = ND_CLUSTER_GUARDED;
            else if (strcmp(v, "attach") == 0)
                o->p.cluster = ND_CLUSTER_ATTACH;
            else
                fatal(EXIT_USAGE, "--cluster: '%s' is not components, guarded or attach", v);
        } else if (strcmp(a, "--sketch") == 0) {
            if (strcmp(v, "kperm") == 0)
                o->p.sketch = ND_SKETCH_KPERM;
            else if (strcmp(v, "oph") == 0)
                o->p.sketch = ND_SKETCH_OPH;
            else if (strcmp(v, "cminhash") == 0)
                o->p.sketch = ND_SKETCH_CMINHASH;
            else
                fatal(EXIT_USAGE, "--sketch: '%s' is not kperm, oph or cminhash", v);
        } else if (strcmp(a, "--format") == 0) {
            static const char *const names[] = {"auto", "jsonl", "tsv", "text"};
            size_t f;
            for (f = 0; f < 4 && strcmp(v, names[f]) != 0; f++)
                ;
            if (f == 4)
                fatal(EXIT_USAGE, "--format: '%s' is not jsonl, tsv or text", v);
            o->ro.format = (nd_format)f;
        } else if (strcmp(a, "--id-field") == 0)
            o->ro.id_field = v;
        else if (strcmp(a, "--text-field") == 0)
            o->ro.text_field = v;
        else if (strcmp(a, "--limit") == 0)
            o->limit = (size_t)parse_uint(a, v, 1, SIZE_MAX);
        else if (strcmp(a, "--repeat") == 0)
            o->repeat = (unsigned)parse_uint(a, v, 1, 64);
        else if (strcmp(a, "--warmup") == 0)
            o->warmup = (unsigned)parse_uint(a, v, 0, 64);
        else if (strcmp(a, "--threads-scan") == 0)
            parse_scan(o, v);
        else if (strcmp(a, "--pred-out") == 0)
            o->pred_out = v;
        else if (strcmp(a, "--label") == 0)
            o->label = v;
        else if (strcmp(a, "--brute") == 0)
            o->brute = (size_t)parse_uint(a, v, 2, 1000000);
        else
            fatal(EXIT_USAGE, "unknown option '%s'", a);
    }
    if (have_word && have_char)
        fatal(EXIT_USAGE, "--ngram and --char-ngram exclude each other");
    char msg[200];
    if (nd_params_check(&o->p, msg, sizeof msg) != ND_OK)
        fatal(EXIT_USAGE, "%s", msg);
    if (i >= argc)
        fatal(EXIT_USAGE, "no corpus given (try --help)");
    o->paths = (const char *const *)(argv + i);
    o->npaths = (size_t)(argc - i);
}

/* ================================================================ corpus */

typedef struct {
    char *text;            /* every text back to back */
    size_t *off, *len;     /* per document */
    char *ids;             /* id JSON texts back to back */
    size_t *id_off;        /* n + 1 offsets */
    size_t n, cap, text_n, text_cap, ids_n, ids_cap;
    uint64_t bytes;
} corpus;

static void put(char **buf, size_t *n, size_t *cap, const char *s, size_t len)
{
    if (*n + len > *cap) {
        size_t c = *cap ? *cap : 1 << 20;
        while (c < *n + len)
            c *= 2;
        *buf = xrealloc(*buf, c);
        *cap = c;
    }
    if (len)
        memcpy(*buf + *n, s, len);
    *n += len;
}

static nd_reader *open_reader(const opts *o)
{
    nd_reader *r = NULL;
    int rc = nd_reader_open(o->paths, o->npaths, &o->ro, &r);
    if (rc != ND_OK)
        fatal(EXIT_IO, "%s", r ? nd_reader_errmsg(r) : nd_strerror(rc));
    return r;
}

/* 1: a record; 0: the end.  Bad records and binary files stop the run. */
static int next_record(nd_reader *r, nd_record *rec)
{
    int rc = nd_reader_next(r, rec);
    if (rc >= 0)
        return rc;
    fatal(rc == ND_ERR_IO ? EXIT_IO : EXIT_DATA, "%s", nd_reader_errmsg(r));
}

static void corpus_load(const opts *o, corpus *c)
{
    memset(c, 0, sizeof *c);
    nd_reader *r = open_reader(o);
    nd_record rec;
    c->id_off = xrealloc(NULL, sizeof *c->id_off);
    c->id_off[0] = 0;
    while ((!o->limit || c->n < o->limit) && next_record(r, &rec)) {
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 1 << 14;
            c->off = xrealloc(c->off, c->cap * sizeof *c->off);
            c->len = xrealloc(c->len, c->cap * sizeof *c->len);
            c->id_off = xrealloc(c->id_off, (c->cap + 1) * sizeof *c->id_off);
        }
        c->off[c->n] = c->text_n;
        c->len[c->n] = rec.text_len;
        put(&c->text, &c->text_n, &c->text_cap, rec.text, rec.text_len);
        put(&c->ids, &c->ids_n, &c->ids_cap, rec.id, rec.id_len);
        c->id_off[c->n + 1] = c->ids_n;
        c->bytes += rec.text_len;
        c->n++;
    }
    nd_reader_close(r);
}

static void corpus_free(corpus *c)
{
    free(c->text);
    free(c->off);
    free(c->len);
    free(c->ids);
    free(c->id_off);
}

/* One timed pass of the reader over what the corpus holds. */
static double time_read(const opts *o, size_t n)
{
    double t0 = wall();
    nd_reader *r = open_reader(o);
    nd_record rec;
    size_t got = 0;
    volatile size_t sink = 0;
    while (got < n && next_record(r, &rec)) {
        sink += rec.text_len + (rec.text_len ? (unsigned char)rec.text[0] : 0);
        got++;
    }
    nd_reader_close(r);
    (void)sink;
    return wall() - t0;
}

/* ================================================================ runs */

typedef struct {
    double batch, count, sketch, lsh, verify, cluster;
    nd_batch_stats st;
    long long rss_before, rss_added, rss_ran;
} run_result;

static void die_batch(nd_batch *b, int rc, const char *what)
{
    fatal(EXIT_IO, "%s: %s", what, b ? nd_batch_errmsg(b) : nd_strerror(rc));
}

/*
 * One engine run over documents [0, n) with parameters p.  The batch is
 * returned in *keep when keep is not NULL, else freed.
 */
static void run_once(const nd_params *p, const corpus *c, size_t n,
                     run_result *res, nd_batch **keep)
{
    const char *texts[CHUNK];
    nd_batch *b;
    memset(res, 0, sizeof *res);
    res->rss_before = rss_now();
    double t0 = wall();
    int rc = nd_batch_create(p, &b);
    if (rc != ND_OK)
        die_batch(NULL, rc, "nd_batch_create");
    for (size_t i = 0; p->boilerplate > 0.0 && i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        for (size_t j = 0; j < m; j++)
            texts[j] = c->text + c->off[i + j];
        rc = nd_batch_count(b, m, texts, c->len + i, NULL);
        if (rc != ND_OK)
            die_batch(b, rc, "nd_batch_count");
    }
    res->count = wall() - t0;
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        for (size_t j = 0; j < m; j++)
            texts[j] = c->text + c->off[i + j];
        rc = nd_batch_add_many(b, m, texts, c->len + i, NULL, NULL);
        if (rc != ND_OK)
            die_batch(b, rc, "nd_batch_add_many");
    }
    res->rss_added = rss_now();
    rc = nd_batch_run(b);
    if (rc != ND_OK)
        die_batch(b, rc, "nd_batch_run");
    res->batch = wall() - t0;
    res->rss_ran = rss_now();
    nd_batch_stats_get(b, &res->st);
    res->sketch = res->st.seconds_sketch;
    res->lsh = res->st.seconds_lsh;
    res->verify = res->st.seconds_verify;
    res->cluster = res->st.seconds_cluster;
    if (keep)
        *keep = b;
    else
        nd_batch_free(b);
}

/* Medians of each timing over runs[0..n); counters from the last run. */
static run_result median_of(const run_result *runs, size_t n)
{
    double v[64];
    run_result m = runs[n - 1];
#define MED(field)                              \
    do {                                        \
        for (size_t i = 0; i < n; i++)          \
            v[i] = runs[i].field;               \
        m.field = median(v, n);                 \
    } while (0)
    MED(batch);
    MED(count);
    MED(sketch);
    MED(lsh);
    MED(verify);
    MED(cluster);
#undef MED
    return m;
}

/* Median over o->repeat runs after o->warmup runs; *first is the first run. */
static run_result timed_runs(const opts *o, const nd_params *p, const corpus *c,
                             run_result *first, nd_batch **last)
{
    run_result runs[64], r;
    for (unsigned w = 0; w < o->warmup; w++) {
        run_once(p, c, c->n, &r, NULL);
        if (w == 0 && first)
            *first = r;
    }
    for (unsigned i = 0; i < o->repeat; i++) {
        int is_last = i + 1 == o->repeat;
        run_once(p, c, c->n, &runs[i], is_last ? last : NULL);
        if (i == 0 && o->warmup == 0 && first)
            *first = runs[i];
    }
    return median_of(runs, o->repeat);
}

static unsigned effective_threads(unsigned t)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return t ? t : (unsigned)(n > 0 ? n : 1);
}

/* ================================================================ quality */

typedef struct {
    size_t docs;
    uint64_t all_pairs;           /* pairs of non-empty documents */
    uint64_t ref_pairs;           /* pairs whose exact score passes */
    uint64_t pairs, hit;          /* the chosen parameters, estimated scores */
    uint64_t pairs_exact, hit_exact; /* the same layout, exact verification */
    double precision, recall, f1;
    double precision_exact, recall_exact, f1_exact;
    double mae_jaccard, max_err_jaccard;
    double seconds_ref;
} brute_result;

/* Passing pairs as (a << 32 | b) with their exact Jaccard. */
typedef struct {
    uint64_t *key;
    double *jac;
    size_t n, cap;
} pairvec;

static void pair_push(pairvec *x, uint64_t key, double jac)
{
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 64;
        x->key = xrealloc(x->key, x->cap * sizeof *x->key);
        x->jac = xrealloc(x->jac, x->cap * sizeof *x->jac);
    }
    x->key[x->n] = key;
    x->jac[x->n++] = jac;
}

/* |A n B| of two sorted sets; no branch on the data in the loop. */
static uint64_t intersect(const uint64_t *a, size_t na, const uint64_t *b,
                          size_t nb)
{
    size_t i = 0, j = 0;
    uint64_t c = 0;
    while (i < na && j < nb) {
        uint64_t x = a[i], y = b[j];
        c += x == y;
        i += x <= y;
        j += y <= x;
    }
    return c;
}

/*
 * Every pair of documents [0, n) that matches, in ascending (a, b) order.
 * Scores and rule are the engine's exact verification: containment >= t
 * under measure containment, else Jaccard >= t or, when p->containment is
 * set, containment >= p->containment.  Documents with an empty shingle set
 * take no part, as in the engine.  Under Jaccard alone a pair whose sizes
 * rule it out (J <= small / large) is not intersected.  Rows run in parallel, each
 * into its own list, so the order does not depend on the threads.
 */
static void exact_pairs(const nd_params *p, const corpus *c, size_t n,
                        pairvec *out, uint64_t *all_pairs)
{
    nd_sketcher *sk;
    if (nd_sketcher_create(p, &sk) != ND_OK)
        fatal(EXIT_IO, "nd_sketcher_create failed");
    uint64_t **set = xrealloc(NULL, n * sizeof *set);
    size_t *size = xrealloc(NULL, n * sizeof *size), nonempty = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t *h;
        int rc = nd_sketcher_shingles(sk, c->text + c->off[i], c->len[i], &h,
                                      &size[i]);
        if (rc != ND_OK)
            fatal(EXIT_DATA, "document %zu: %s", i, nd_strerror(rc));
        set[i] = xrealloc(NULL, size[i] * sizeof *h);
        if (size[i])
            memcpy(set[i], h, size[i] * sizeof *h);
        nonempty += size[i] > 0;
    }
    nd_sketcher_free(sk);
    *all_pairs = (uint64_t)nonempty * (nonempty ? nonempty - 1 : 0) / 2;

    const int cont = p->measure == ND_MEASURE_CONTAINMENT;
    const double t = p->threshold, tc = cont ? 0.0 : p->containment;
    pairvec *row = xrealloc(NULL, n * sizeof *row);
    memset(row, 0, n * sizeof *row);
    const long long nn = (long long)n;
#pragma omp parallel for schedule(dynamic, 4) num_threads(effective_threads(p->threads))
    for (long long xi = 0; xi < nn; xi++) {
        size_t x = (size_t)xi;
        uint64_t sx = size[x];
        for (size_t y = x + 1; sx && y < n; y++) {
            uint64_t sy = size[y];
            if (!sy)
                continue;
            uint64_t small = sx < sy ? sx : sy, large = sx < sy ? sy : sx;
            if (!cont && tc <= 0.0 && (double)small / (double)large < t)
                continue;
            uint64_t in = intersect(set[x], sx, set[y], sy);
            double j = (double)in / (double)(sx + sy - in);
            double ci = (double)in / (double)small;
            if (cont ? ci >= t : j >= t || (tc > 0.0 && ci >= tc))
                pair_push(&row[x], (uint64_t)x << 32 | y, j);
        }
    }
    memset(out, 0, sizeof *out);
    for (size_t x = 0; x < n; x++) {
        for (size_t i = 0; i < row[x].n; i++)
            pair_push(out, row[x].key[i], row[x].jac[i]);
        free(row[x].key);
        free(row[x].jac);
        free(set[x]);
    }
    free(row);
    free(set);
    free(size);
}

/* Pairs of x also in ref (both ascending); error of jaccard on them. */
static uint64_t common_pairs(const nd_edge *x, size_t nx, const pairvec *ref,
                             double *sum_err, double *max_err)
{
    size_t i = 0, j = 0;
    uint64_t hit = 0;
    while (i < nx && j < ref->n) {
        uint64_t kx = (uint64_t)x[i].a << 32 | x[i].b, kr = ref->key[j];
        if (kx < kr)
            i++;
        else if (kx > kr)
            j++;
        else {
            double e = fabs((double)x[i].jaccard - ref->jac[j]);
            if (sum_err)
                *sum_err += e;
            if (max_err && e > *max_err)
                *max_err = e;
            hit++;
            i++;
            j++;
        }
    }
    return hit;
}

static double f1_of(double p, double r)
{
    return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0;
}

static void brute_force(const opts *o, const corpus *c, brute_result *br)
{
    size_t n = o->brute < c->n ? o->brute : c->n;
    memset(br, 0, sizeof *br);
    br->docs = n;

    pairvec truth;
    double t0 = wall();
    exact_pairs(&o->p, c, n, &truth, &br->all_pairs);
    br->seconds_ref = wall() - t0;

    /* The reference knows only the match rule on full shingle sets. */
    nd_params est = o->p;
    est.exact = 0;
    est.boilerplate = 0.0;
    est.figures = 0.0;
    nd_params exa = est;
    exa.exact = 1;
    run_result re, rx;
    nd_batch *best, *bexa;
    run_once(&est, c, n, &re, &best);
    run_once(&exa, c, n, &rx, &bexa);

    size_t ne, nx;
    const nd_edge *ee = nd_batch_edges(best, &ne);
    const nd_edge *ex = nd_batch_edges(bexa, &nx);
    double sum_err = 0.0, max_err = 0.0;
    br->ref_pairs = truth.n;
    br->pairs = ne;
    br->hit = common_pairs(ee, ne, &truth, &sum_err, &max_err);
    br->pairs_exact = nx;
    br->hit_exact = common_pairs(ex, nx, &truth, NULL, NULL);
    /* With nothing to find and nothing found, nothing was missed. */
    br->precision = ne ? (double)br->hit / (double)ne : 1.0;
    br->recall = truth.n ? (double)br->hit / (double)truth.n : 1.0;
    br->f1 = f1_of(br->precision, br->recall);
    br->precision_exact = nx ? (double)br->hit_exact / (double)nx : 1.0;
    br->recall_exact = truth.n ? (double)br->hit_exact / (double)truth.n : 1.0;
    br->f1_exact = f1_of(br->precision_exact, br->recall_exact);
    br->mae_jaccard = br->hit ? sum_err / (double)br->hit : 0.0;
    br->max_err_jaccard = max_err;
    free(truth.key);
    free(truth.jac);
    nd_batch_free(best);
    nd_batch_free(bexa);
}

/* ================================================================ output */

static void write_pred(const char *path, const corpus *c, const nd_batch *b)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fatal(EXIT_IO, "%s: %s", path, strerror(errno));
    for (size_t i = 0; i < c->n; i++) {
        fputs("{\"id\": ", f);
        fwrite(c->ids + c->id_off[i], 1, c->id_off[i + 1] - c->id_off[i], f);
        fprintf(f, ", \"cluster\": %u}\n", nd_batch_cluster(b, i));
    }
    if (ferror(f) | fclose(f))
        fatal(EXIT_IO, "%s: write failed", path);
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

typedef struct {
    unsigned threads;
    run_result r;
} scan_row;

typedef struct {
    const opts *o;
    const corpus *c;
    unsigned threads;
    double read;
    run_result m, first;
    long long peak_rss;
    double load_start, load_end;
    scan_row scan[MAX_SCAN];
    size_t nscan;
    brute_result br;
    int have_brute;
} report;

static const char *shingle_name(const nd_params *p)
{
    return p->shingle == ND_SHINGLE_CHAR ? "char" : p->shingle == ND_SHINGLE_GLYPH ? "glyph" : "word";
}

static const char *sketch_name(const nd_params *p)
{
    return p->sketch == ND_SKETCH_OPH        ? "oph"
           : p->sketch == ND_SKETCH_CMINHASH ? "cminhash"
                                             : "kperm";
}

static const char *cluster_name(const nd_params *p)
{
    return p->cluster == ND_CLUSTER_GUARDED ? "guarded"
           : p->cluster == ND_CLUSTER_ATTACH ? "attach"
                                             : "components";
}

static const char *measure_name(const nd_params *p)
{
    return p->measure == ND_MEASURE_CONTAINMENT ? "containment" : "jaccard";
}

static double per_doc(long long a, long long b, size_t n)
{
    return a >= 0 && b >= 0 && n ? (double)(b - a) / (double)n : -1.0;
}

static void print_json(const report *rp)
{
    const opts *o = rp->o;
    const corpus *c = rp->c;
    const run_result *m = &rp->m;
    const double mb = (double)c->bytes / 1e6, total = rp->read + m->batch;
    printf("{\"tool\": \"ndbench\", \"version\": \"%s\", \"label\": ",
           nd_version_string());
    if (o->label)
        json_string(o->label);
    else
        fputs("null", stdout);
    fputs(", \"corpus\": [", stdout);
    for (size_t i = 0; i < o->npaths; i++) {
        if (i)
            fputs(", ", stdout);
        json_string(o->paths[i]);
    }
    printf("], \"cores\": %ld, \"load_start\": %.2f, \"load_end\": %.2f, "
           "\"docs\": %zu, \"bytes\": %llu, \"repeat\": %u, \"warmup\": %u,\n",
           sysconf(_SC_NPROCESSORS_ONLN), rp->load_start, rp->load_end, c->n,
           (unsigned long long)c->bytes, o->repeat, o->warmup);
    printf(" \"params\": {\"sketch\": \"%s\", \"shingle\": \"%s\", \"ngram\": %u, \"num_perm\": %u, "
           "\"threshold\": %g, \"measure\": \"%s\", \"containment\": %g, "
           "\"boilerplate\": %g, \"boilerplate_min\": %u, \"figures\": %g, "
           "\"cluster\": \"%s\", \"bands\": %u, \"rows\": %u, "
           "\"seed\": %llu, \"threads\": %u, \"exact\": %d},\n",
           sketch_name(&o->p), shingle_name(&o->p), o->p.ngram, o->p.num_perm,
           o->p.threshold, measure_name(&o->p), o->p.containment, o->p.boilerplate,
           o->p.boilerplate_min, o->p.figures, cluster_name(&o->p), m->st.bands,
           m->st.rows, (unsigned long long)o->p.seed, rp->threads, o->p.exact);
    printf(" \"seconds\": {\"read\": %.6f, \"count\": %.6f, \"sketch\": %.6f, \"lsh\": %.6f, "
           "\"verify\": %.6f, \"cluster\": %.6f, \"batch\": %.6f, \"total\": %.6f},\n",
           rp->read, m->count, m->sketch, m->lsh, m->verify, m->cluster, m->batch, total);
    printf(" \"docs_per_s\": {\"read\": %.1f, \"sketch\": %.1f, \"batch\": %.1f, "
           "\"total\": %.1f},\n",
           ratio((double)c->n, rp->read), ratio((double)c->n, m->sketch),
           ratio((double)c->n, m->batch), ratio((double)c->n, total));
    printf(" \"mb_per_s\": {\"read\": %.2f, \"sketch\": %.2f, \"batch\": %.2f, "
           "\"total\": %.2f},\n",
           ratio(mb, rp->read), ratio(mb, m->sketch), ratio(mb, m->batch),
           ratio(mb, total));
    printf(" \"counts\": {\"candidates\": %llu, \"edges\": %llu, \"clusters\": %llu, "
           "\"capped_buckets\": %llu, \"empty\": %llu, \"bad_utf8\": %llu, "
           "\"boilerplate_cutoff\": %llu, \"suppressed\": %llu, "
           "\"suppressed_docs\": %llu, \"guard_rejected\": %llu},\n",
           (unsigned long long)m->st.candidates, (unsigned long long)m->st.edges,
           (unsigned long long)m->st.clusters,
           (unsigned long long)m->st.capped_buckets,
           (unsigned long long)m->st.text.empty,
           (unsigned long long)m->st.text.bad_utf8,
           (unsigned long long)m->st.boilerplate_cutoff,
           (unsigned long long)m->st.text.suppressed,
           (unsigned long long)m->st.text.suppressed_docs,
           (unsigned long long)m->st.guard_rejected);
    printf(" \"memory\": {\"peak_rss_bytes\": %lld, \"corpus_bytes_in_memory\": %llu, "
           "\"bytes_per_doc_added\": %.1f, \"bytes_per_doc_run\": %.1f, "
           "\"signature_bytes\": %u},\n",
           rp->peak_rss,
           (unsigned long long)(c->text_cap + c->ids_cap +
                                c->cap * (2 * sizeof(size_t)) +
                                (c->cap + 1) * sizeof(size_t)),
           per_doc(rp->first.rss_before, rp->first.rss_added, c->n),
           per_doc(rp->first.rss_before, rp->first.rss_ran, c->n),
           2 * o->p.num_perm);
    fputs(" \"threads_scan\": [", stdout);
    for (size_t i = 0; i < rp->nscan; i++) {
        const run_result *r = &rp->scan[i].r;
        printf("%s\n  {\"threads\": %u, \"batch\": %.6f, \"sketch\": %.6f, "
               "\"lsh\": %.6f, \"verify\": %.6f, \"cluster\": %.6f, "
               "\"docs_per_s\": %.1f, \"mb_per_s\": %.2f, \"speedup\": %.3f}",
               i ? "," : "", rp->scan[i].threads, r->batch, r->sketch, r->lsh,
               r->verify, r->cluster, ratio((double)c->n, r->batch),
               ratio(mb, r->batch), ratio(rp->scan[0].r.batch, r->batch));
    }
    fputs("],\n \"brute\": ", stdout);
    if (rp->have_brute) {
        const brute_result *b = &rp->br;
        printf("{\"rule\": \"match rule on full shingle sets; boilerplate and "
               "figures off in the reference and both batch runs\", "
               "\"docs\": %zu, \"all_pairs\": %llu, \"ref_pairs\": %llu, "
               "\"ref_seconds\": %.3f, \"pairs\": %llu, \"true_pairs\": %llu, "
               "\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, "
               "\"jaccard_mae\": %.6f, \"jaccard_max_err\": %.6f, "
               "\"exact_verify\": {\"pairs\": %llu, \"true_pairs\": %llu, "
               "\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f}}",
               b->docs, (unsigned long long)b->all_pairs,
               (unsigned long long)b->ref_pairs, b->seconds_ref,
               (unsigned long long)b->pairs, (unsigned long long)b->hit,
               b->precision, b->recall, b->f1, b->mae_jaccard,
               b->max_err_jaccard, (unsigned long long)b->pairs_exact,
               (unsigned long long)b->hit_exact, b->precision_exact,
               b->recall_exact, b->f1_exact);
    } else {
        fputs("null", stdout);
    }
    fputs("}\n", stdout);
}

static void print_table(const report *rp)
{
    const opts *o = rp->o;
    const corpus *c = rp->c;
    const run_result *m = &rp->m;
    const double mb = (double)c->bytes / 1e6, total = rp->read + m->batch;
    printf("neardup %s on %zu docs, %.2f MB; %s %u-grams, %s k=%u, %u x %u bands, "
           "%s >= %g, %u threads (%ld cores); median of %u after %u warm-up\n",
           nd_version_string(), c->n, mb, shingle_name(&o->p), o->p.ngram,
           sketch_name(&o->p), o->p.num_perm, m->st.bands, m->st.rows, measure_name(&o->p),
           o->p.threshold, rp->threads, sysconf(_SC_NPROCESSORS_ONLN),
           o->repeat, o->warmup);
    printf("containment %g, boilerplate %g (min %u docs), figures %g, cluster %s\n",
           o->p.containment, o->p.boilerplate, o->p.boilerplate_min, o->p.figures,
           cluster_name(&o->p));
    printf("load average %.2f at the start, %.2f at the end\n", rp->load_start,
           rp->load_end);
    printf("%-10s %10s %12s %10s\n", "stage", "seconds", "docs/s", "MB/s");
    const struct { const char *name; double s; } rows[] = {
        {"read", rp->read}, {"sketch", m->sketch}, {"lsh", m->lsh},
        {"verify", m->verify}, {"cluster", m->cluster},
        {"batch", m->batch}, {"total", total},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        printf("%-10s %10.4f %12.0f %10.2f\n", rows[i].name, rows[i].s,
               ratio((double)c->n, rows[i].s), ratio(mb, rows[i].s));
    if (o->p.boilerplate > 0.0)
        printf("sketch includes the boilerplate counting pass, %.4f s; cutoff %llu "
               "docs, %llu shingles dropped from %llu docs\n",
               m->count, (unsigned long long)m->st.boilerplate_cutoff,
               (unsigned long long)m->st.text.suppressed,
               (unsigned long long)m->st.text.suppressed_docs);
    printf("candidates %llu, edges %llu, clusters %llu, capped buckets %llu, "
           "empty texts %llu\n",
           (unsigned long long)m->st.candidates, (unsigned long long)m->st.edges,
           (unsigned long long)m->st.clusters,
           (unsigned long long)m->st.capped_buckets,
           (unsigned long long)m->st.text.empty);
    printf("peak RSS %.1f MB; held per document %.0f bytes after adding, %.0f "
           "after the run (stored signature %u bytes)\n",
           (double)rp->peak_rss / 1e6,
           per_doc(rp->first.rss_before, rp->first.rss_added, c->n),
           per_doc(rp->first.rss_before, rp->first.rss_ran, c->n),
           2 * o->p.num_perm);
    if (rp->nscan) {
        printf("\n%-8s %10s %12s %10s %8s %8s %8s %8s %8s\n", "threads",
               "batch s", "docs/s", "MB/s", "speedup", "sketch", "lsh",
               "verify", "cluster");
        for (size_t i = 0; i < rp->nscan; i++) {
            const run_result *r = &rp->scan[i].r;
            printf("%-8u %10.4f %12.0f %10.2f %8.2f %8.4f %8.4f %8.4f %8.4f\n",
                   rp->scan[i].threads, r->batch, ratio((double)c->n, r->batch),
                   ratio(mb, r->batch), ratio(rp->scan[0].r.batch, r->batch),
                   r->sketch, r->lsh, r->verify, r->cluster);
        }
    }
    if (rp->have_brute) {
        const brute_result *b = &rp->br;
        printf("\nagainst exact scores of all %llu pairs of the first %zu docs "
               "(%.2f s): %llu pairs pass\n"
               "  (match rule on full shingle sets; boilerplate suppression and "
               "figure check off in these runs)\n",
               (unsigned long long)b->all_pairs, b->docs, b->seconds_ref,
               (unsigned long long)b->ref_pairs);
        printf("  %-22s %8s %8s %9s %9s %9s\n", "", "pairs", "true", "precision",
               "recall", "F1");
        printf("  %-22s %8llu %8llu %9.4f %9.4f %9.4f\n", "estimated scores",
               (unsigned long long)b->pairs, (unsigned long long)b->hit,
               b->precision, b->recall, b->f1);
        printf("  %-22s %8llu %8llu %9.4f %9.4f %9.4f\n", "exact verification",
               (unsigned long long)b->pairs_exact,
               (unsigned long long)b->hit_exact, b->precision_exact,
               b->recall_exact, b->f1_exact);
        printf("  Jaccard estimate error on true pairs: mean %.4f, max %.4f\n",
               b->mae_jaccard, b->max_err_jaccard);
    }
}

/* ================================================================ main */

int main(int argc, char **argv)
{
    opts o;
    parse_args(&o, argc, argv);

    corpus c;
    corpus_load(&o, &c);
    if (c.n == 0)
        fatal(EXIT_DATA, "the corpus holds no document");

    report rp;
    memset(&rp, 0, sizeof rp);
    rp.o = &o;
    rp.c = &c;
    rp.threads = effective_threads(o.p.threads);
    rp.load_start = load_now();

    double reads[64];
    for (unsigned i = 0; i < o.repeat; i++)
        reads[i] = time_read(&o, c.n);
    rp.read = median(reads, o.repeat);

    nd_batch *last = NULL;
    rp.m = timed_runs(&o, &o.p, &c, &rp.first, &last);
    if (o.pred_out)
        write_pred(o.pred_out, &c, last);
    nd_batch_free(last);

    for (size_t i = 0; i < o.nscan; i++) {
        nd_params p = o.p;
        p.threads = o.scan[i];
        rp.scan[i].threads = o.scan[i];
        rp.scan[i].r = timed_runs(&o, &p, &c, NULL, NULL);
    }
    rp.nscan = o.nscan;
    /* Before the reference run, whose k may be far larger. */
    rp.peak_rss = rss_peak();
    rp.load_end = load_now();

    if (o.brute) {
        brute_force(&o, &c, &rp.br);
        rp.have_brute = 1;
    }

    if (o.json)
        print_json(&rp);
    else
        print_table(&rp);
    corpus_free(&c);
    if (fflush(stdout) != 0)
        fatal(EXIT_IO, "stdout: write failed");
    return EXIT_OK;
}
