/*
 * test_oom.c - every allocation of a small batch run, of an index's life on
 * disk and of a reader over every input format fails in turn, and each time
 * the call reports ND_ERR_NOMEM with a message (or, when the failure was
 * absorbed, succeeds with the results of a run that failed nothing), frees
 * every block it made (tests/oom/failalloc.c tracks them; ASan also sees
 * any other), leaves no temporary file, and an index on disk still opens
 * with every document it acknowledged.
 *
 * One thread, so a run makes the same allocations in the same order each
 * time and allocation N is the same call in every run.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../src/neardup.h"
#include "oom/failalloc.h"
#include "words.h"

/* ------------------------------------------------------------ helpers */

static char dir[64];

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void rm_tree(const char *p) { nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void setup(void)
{
    /* a tmpfs where there is one: the index walk syncs hundreds of times */
    strcpy(dir, "/dev/shm/nd-oom-XXXXXX");
    if (!mkdtemp(dir)) {
        strcpy(dir, "/tmp/nd-oom-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
    }
    oom_install();
}

static void teardown(void) { rm_tree(dir); }

static const char *at(const char *name)
{
    static char b[4][256];
    static int i;
    char *p = b[i++ % 4];
    snprintf(p, sizeof b[0], "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(at(name), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

/* Entries in folder d (0 when it is empty). */
static int entries(const char *d)
{
    DIR *dd = opendir(d);
    cr_assert_not_null(dd);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(dd);
    return n;
}

/* What a run produced, as text; compared with the run that failed nothing. */
typedef struct {
    char s[16384];
    size_t n;
} outcome;

static void put(outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(outcome *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(o->s + o->n, sizeof o->s - o->n, fmt, ap);
    va_end(ap);
    cr_assert(k >= 0 && (size_t)k < sizeof o->s - o->n, "outcome overflows");
    o->n += (size_t)k;
}

/*
 * run(ctx, out, msg) returns ND_OK or the first error, with its message in
 * msg; after(ctx, out), when not NULL, runs with nothing failing after a
 * failed run and checks what it left behind.
 */
typedef int (*run_fn)(void *ctx, outcome *out, char *msg, size_t cap);
typedef void (*after_fn)(void *ctx, const outcome *out);

static void walk(const char *name, run_fn run, after_fn after, void *ctx)
{
    static outcome ref, got;
    char msg[512] = "";
    memset(&ref, 0, sizeof ref);
    oom_arm(0);
    int rc = run(ctx, &ref, msg, sizeof msg);
    unsigned long total = oom_disarm();
    cr_assert_eq(rc, ND_OK, "%s: %s", name, msg);
    cr_assert_eq(oom_live(), 0, "%s leaks %zu blocks failing nothing", name,
                 oom_live());
    cr_assert_gt(total, 20, "%s: %lu allocations", name, total);
    unsigned long absorbed = 0;
    for (unsigned long n = 1; n <= total; n++) {
        memset(&got, 0, sizeof got);
        msg[0] = '\0';
        oom_arm(n);
        rc = run(ctx, &got, msg, sizeof msg);
        oom_disarm();
        cr_assert(oom_failed(), "%s: allocation %lu of %lu never came", name,
                  n, total);
        if (rc == ND_OK) {
            absorbed++;
            cr_assert(got.n == ref.n && memcmp(got.s, ref.s, ref.n) == 0,
                      "%s: allocation %lu of %lu failed; the run succeeded "
                      "with other results:\n%s\nnot\n%s",
                      name, n, total, got.s, ref.s);
        } else {
            cr_assert_eq(rc, ND_ERR_NOMEM, "%s: allocation %lu of %lu: %s (%s)",
                         name, n, total, nd_strerror(rc), msg);
            cr_assert_not_null(strstr(msg, "memory"),
                               "%s: allocation %lu of %lu: message \"%s\"",
                               name, n, total, msg);
        }
        cr_assert_eq(oom_live(), 0, "%s: allocation %lu of %lu failed: %zu "
                     "blocks not freed", name, n, total, oom_live());
        if (rc != ND_OK && after)
            after(ctx, &got);
    }
    cr_log_info("%s: %lu allocations failed in turn, %lu absorbed", name,
                total, absorbed);
}

/* ------------------------------------------------------------- corpus */

#define NDOCS 14

static char *texts[NDOCS];
static size_t lens[NDOCS];
static nd_doc_meta metas[NDOCS];

/* Seven stories of 80 words, a copy of each with a footer, and of three of
   them a cut copy; an earnings report and one with other figures; an
   empty text. */
static void make_corpus(void)
{
    static const char footer[] = " Share this article. Copyright 2024 "
                                 "Example Media. All rights reserved.";
    size_t d = 0;
    for (unsigned s = 0; s < 4; s++) {
        char *t = malloc(1200);
        size_t n = 0;
        test_words(t, &n, 100 + s, 80);
        texts[d++] = t;
        char *c = malloc(1300);
        memcpy(c, t, n);
        memcpy(c + n, footer, sizeof footer);
        texts[d++] = c;
        if (s < 3) {
            char *h = malloc(1200);
            memcpy(h, t, n / 2);
            h[n / 2] = '\0';
            texts[d++] = h;
        }
    }
    texts[d++] = strdup("Acme Corp Shr 21 cts vs 18 cts Net 4.5 mln vs 3.9 mln "
                        "Revs 120.3 mln vs 101.7 mln quarterly report");
    texts[d++] = strdup("Acme Corp Shr 25 cts vs 18 cts Net 5.5 mln vs 3.9 mln "
                        "Revs 131.3 mln vs 101.7 mln quarterly report");
    texts[d++] = strdup("");
    cr_assert_eq(d, NDOCS);
    for (size_t i = 0; i < NDOCS; i++) {
        lens[i] = strlen(texts[i]);
        metas[i].time = (int64_t)(i % 5) * 86400;
        metas[i].has_time = i % 4 != 3;
        metas[i].priority = (int32_t)(i % 3);
        metas[i].has_priority = 1;
    }
}

static void free_corpus(void)
{
    for (size_t i = 0; i < NDOCS; i++)
        free(texts[i]);
}

/* -------------------------------------------------------------- batch */

typedef struct {
    nd_params p;
} batch_ctx;

static int run_batch(void *vc, outcome *out, char *msg, size_t cap)
{
    batch_ctx *c = vc;
    nd_batch *b = NULL;
    int rc = nd_batch_create(&c->p, &b);
    if (rc == ND_OK && c->p.boilerplate > 0.0)
        rc = nd_batch_count(b, NDOCS, (const char *const *)texts, lens, NULL);
    if (rc == ND_OK)
        rc = nd_batch_add_many(b, NDOCS, (const char *const *)texts, lens,
                               metas, NULL);
    if (rc == ND_OK)
        rc = nd_batch_run(b);
    if (rc == ND_OK) {
        for (size_t i = 0; i < NDOCS; i++)
            put(out, "%u/%u ", nd_batch_cluster(b, i), nd_batch_rep(b, i));
        size_t ne;
        const nd_edge *e = nd_batch_edges(b, &ne);
        for (size_t i = 0; i < ne; i++)
            put(out, "%u-%u:%.4f ", e[i].a, e[i].b, (double)e[i].jaccard);
    } else {
        snprintf(msg, cap, "%s", b ? nd_batch_errmsg(b) : nd_strerror(rc));
    }
    nd_batch_free(b);
    return rc;
}

static void after_batch(void *vc, const outcome *out)
{
    (void)vc, (void)out;
    cr_assert_eq(entries(dir), 0, "a temporary file is left in %s", dir);
}

static void batch_params(nd_params *p)
{
    nd_params_init(p);
    p->threads = 1;
    p->boilerplate = 0.2; /* the footer, held by 4 of 14 */
    p->boilerplate_min = 2;
}

TestSuite(oom, .init = setup, .fini = teardown, .timeout = 600);

Test(oom, batch_defaults)
{
    make_corpus();
    batch_ctx c;
    batch_params(&c.p);
    walk("batch, defaults", run_batch, after_batch, &c);
    free_corpus();
}

Test(oom, batch_exact_guarded_spilled)
{
    make_corpus();
    batch_ctx c;
    batch_params(&c.p);
    c.p.exact = 1;
    c.p.cluster = ND_CLUSTER_GUARDED;
    c.p.keep = ND_KEEP_SOURCE;
    c.p.window = 3 * 86400;
    c.p.memory = 1; /* every candidate run goes to a temporary file */
    c.p.tmpdir = dir;
    walk("batch, exact, guarded, spilled", run_batch, after_batch, &c);
    free_corpus();
}

Test(oom, batch_words_kperm_components)
{
    make_corpus();
    batch_ctx c;
    batch_params(&c.p);
    c.p.shingle = ND_SHINGLE_WORD;
    c.p.ngram = 3;
    c.p.sketch = ND_SKETCH_KPERM;
    c.p.cluster = ND_CLUSTER_COMPONENTS;
    c.p.keep = ND_KEEP_LONGEST;
    c.p.boilerplate = 0.0;
    walk("batch, word 3-grams, kperm, components", run_batch, after_batch, &c);
    free_corpus();
}

/* ------------------------------------------------------------- reader */

static void write_gz(const char *name, const char *s)
{
    gzFile g = gzopen(at(name), "wb");
    cr_assert_not_null(g);
    cr_assert_eq(gzwrite(g, s, (unsigned)strlen(s)), (int)strlen(s));
    cr_assert_eq(gzclose(g), Z_OK);
}

static void write_zst(const char *name, const char *s)
{
    size_t cap = ZSTD_compressBound(strlen(s));
    void *z = malloc(cap);
    size_t n = ZSTD_compress(z, cap, s, strlen(s), 3);
    cr_assert(!ZSTD_isError(n));
    write_file(name, z, n);
    free(z);
}

static void make_inputs(void)
{
    static const char jsonl[] =
        "{\"id\": \"a1\", \"text\": \"plain words\", \"time\": 7, \"source\": \"wire\"}\n"
        "{\"id\": \"a\\u00e9\", \"text\": \"caf\\u00e9 \\\"quoted\\\"\", \"time\": \"2024-03-02T00:00:00Z\"}\n"
        "\n"
        "{\"id\": 123456789012345678901234, \"text\": \"an id too big\"}\n"
        "{\"id\": 1e5, \"text\": \"a real id\", \"time\": 1.5e3}\n"
        "{\"id\": \"bad\", \"text\": \"byte \xff here\"}\n"
        "{\"id\": \"notext\", \"body\": \"x\"}\n"
        "{\"id\": \"broken\", \"text\": \"no end\n"
        "{\"text\": \"no id at all\"}\n";
    write_file("a.jsonl", jsonl, sizeof jsonl - 1);
    static const char tsv[] = "id\ttext\tsource\n"
                              "t1\tone\\ttab\\nline\tagency\n"
                              "t2\ttoo\tmany\tcolumns\n"
                              "t3\tlast row\t\n";
    write_file("b.tsv", tsv, sizeof tsv - 1);
    static const char txt[] = "first line\nsecond line\n\nfourth line";
    write_file("c.txt", txt, sizeof txt - 1);
    write_gz("d.jsonl.gz", "{\"id\": \"g1\", \"text\": \"gzipped\"}\n"
                           "{\"id\": \"g2\", \"text\": \"again\"}\n");
    write_zst("e.jsonl.zst", "{\"id\": \"z1\", \"text\": \"zstd\"}\n");
    cr_assert_eq(mkdir(at("docs"), 0755), 0);
    cr_assert_eq(mkdir(at("docs/sub"), 0755), 0);
    write_file("docs/x.txt", "a document", 10);
    write_file("docs/sub/y.txt", "another one", 11);
    write_file("docs/.hidden", "skipped", 7);
    write_file("docs/bin", "\x00\x01\x02\x03binary\x00", 11);
}

static int run_reader(void *vc, outcome *out, char *msg, size_t cap)
{
    (void)vc;
    const char *paths[] = {at("a.jsonl"), at("b.tsv"), at("c.txt"),
                           at("d.jsonl.gz"), at("e.jsonl.zst"), at("docs")};
    nd_reader_opts o = {ND_FORMAT_AUTO, NULL, NULL, "time", "source"};
    nd_reader *r = NULL;
    int rc = nd_reader_open(paths, 6, &o, &r);
    nd_record rec;
    while (rc == ND_OK) {
        rc = nd_reader_next(r, &rec);
        if (rc == 1) {
            put(out, "%s:%llu %.*s [%.*s] t%d:%lld s%.*s u%d\n",
                strrchr(rec.file, '/') + 1, (unsigned long long)rec.line,
                (int)rec.id_len, rec.id, (int)rec.text_len, rec.text,
                rec.meta.has_time, (long long)rec.meta.time,
                (int)rec.source_len, rec.source ? rec.source : "", rec.bad_utf8);
            rc = ND_OK;
        } else if (rc == ND_ERR_DATA || rc == ND_ERR_BINARY) {
            put(out, "%s: %s\n", nd_strerror(rc), nd_reader_errmsg(r));
            rc = ND_OK;
        } else if (rc == 0) {
            break;
        }
    }
    if (rc != ND_OK)
        snprintf(msg, cap, "%s", r ? nd_reader_errmsg(r) : nd_strerror(rc));
    nd_reader_close(r);
    return rc;
}

Test(oom, reader_every_format)
{
    make_inputs();
    walk("reader", run_reader, NULL, NULL);
}

/* -------------------------------------------------------------- index */

typedef struct {
    char path[128];
    int acked[NDOCS];  /* added, and not removed since */
    int any;           /* the index was made */
} index_ctx;

static void put_matches(outcome *out, const nd_match *m, size_t n)
{
    for (size_t j = 0; j < n; j++)
        put(out, " %.*s:%.3f", (int)m[j].id_len, m[j].id, m[j].jaccard);
    put(out, "\n");
}

static int index_fail(nd_index *ix, int rc, char *msg, size_t cap)
{
    snprintf(msg, cap, "%s", nd_index_errmsg(ix));
    nd_index_close(ix);
    return rc;
}

/* A failed query leaves the message of the last failed write. */
static int query_fail(nd_index *ix, int rc, char *msg, size_t cap)
{
    snprintf(msg, cap, "%s", nd_strerror(rc));
    nd_index_close(ix);
    return rc;
}

static int run_index(void *vc, outcome *out, char *msg, size_t cap)
{
    index_ctx *c = vc;
    memset(c->acked, 0, sizeof c->acked);
    c->any = 0;
    rm_tree(c->path);
    nd_params p;
    nd_params_init(&p);
    p.threads = 1;
    p.boilerplate_min = 2;
    nd_index *ix = NULL;
    nd_match m[4];
    size_t n;
    char id[16];
    int rc = nd_index_open(c->path, &p, ND_INDEX_CREATE, &ix);
    if (rc != ND_OK)
        return index_fail(ix, rc, msg, cap);
    c->any = 1;
    for (size_t i = 0; i < NDOCS; i++) {
        snprintf(id, sizeof id, "d%zu", i);
        rc = nd_index_add_query(ix, id, strlen(id), texts[i], lens[i],
                                metas[i].time, m, 4, &n);
        if (rc != ND_OK)
            return index_fail(ix, rc, msg, cap);
        c->acked[i] = 1;
        put(out, "%s:", id);
        put_matches(out, m, n);
        if (i == NDOCS / 2 && (rc = nd_index_sync(ix)) != ND_OK)
            return index_fail(ix, rc, msg, cap);
    }
    if ((rc = nd_index_query(ix, texts[1], lens[1], m, 4, &n)) != ND_OK)
        return query_fail(ix, rc, msg, cap);
    put_matches(out, m, n);
    if ((rc = nd_index_remove(ix, "d1", 2)) != ND_OK)
        return index_fail(ix, rc, msg, cap);
    c->acked[1] = 0;
    size_t gone;
    if ((rc = nd_index_evict_before(ix, 86400, &gone)) != ND_OK)
        return index_fail(ix, rc, msg, cap);
    for (size_t i = 0; i < NDOCS; i++)
        if (metas[i].time < 86400)
            c->acked[i] = 0;
    put(out, "evicted %zu\n", gone);
    if ((rc = nd_index_save(ix, NULL)) != ND_OK ||
        (rc = nd_index_sync(ix)) != ND_OK)
        return index_fail(ix, rc, msg, cap);
    nd_index_close(ix);

    if ((rc = nd_index_open(c->path, NULL, ND_INDEX_READONLY, &ix)) != ND_OK)
        return index_fail(ix, rc, msg, cap);
    if ((rc = nd_index_query(ix, texts[4], lens[4], m, 4, &n)) != ND_OK)
        return query_fail(ix, rc, msg, cap);
    put_matches(out, m, n);
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    put(out, "docs %llu\n", (unsigned long long)st.docs);
    nd_index_close(ix);
    return ND_OK;
}

/* A failed run leaves an index that opens (or none, when making it
   failed) and holds every document it acknowledged and did not remove. */
static void after_index(void *vc, const outcome *out)
{
    (void)out;
    index_ctx *c = vc;
    nd_index *ix = NULL;
    int rc = nd_index_open(c->path, NULL, 0, &ix);
    if (rc == ND_ERR_NOTFOUND && !c->any) {
        nd_index_close(ix);
        return;
    }
    cr_assert_eq(rc, ND_OK, "the index does not open after the failure: %s",
                 nd_index_errmsg(ix));
    char id[16];
    for (size_t i = 0; i < NDOCS; i++) {
        snprintf(id, sizeof id, "d%zu", i);
        if (c->acked[i])
            cr_assert_eq(nd_index_get(ix, id, strlen(id), NULL), ND_OK,
                         "%s was acknowledged and is lost", id);
    }
    nd_index_close(ix);
}

Test(oom, index_add_query_reopen)
{
    make_corpus();
    index_ctx c;
    snprintf(c.path, sizeof c.path, "%s/ix", dir);
    walk("index", run_index, after_index, &c);
    free_corpus();
}
