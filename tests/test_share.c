/*
 * test_share.c - a batch shared among processes (jobint.h, as neardup-mpi
 * uses it), simulated in one: P batches add the same texts, each sketches
 * its blocks of ND__SHARE_BLOCK documents, the first brings the others'
 * state in when it runs.  Its clusters, representatives, edges and text
 * counters must equal those of one batch that sketched everything.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/job/jobint.h"
#include "../src/neardup.h"
#include "../src/sketch/sketch.h"

/* Over two blocks and a part: every process of 3 gets a share, uneven. */
#define NDOCS (2 * ND__SHARE_BLOCK + 1500)
#define WORDS 40

static char *texts[NDOCS];
static size_t lens[NDOCS];

/* Families of near-copies over a small vocabulary, with a footer most
   texts carry (boilerplate for the count pass). */
static void make_corpus(void)
{
    static const char *vocab[] = {
        "market", "shares", "government", "said", "percent", "year", "oil",
        "prices", "bank", "rates", "company", "minister", "talks", "trade",
        "dollar", "week", "officials", "report", "growth", "exports", "storm",
        "imports", "billion", "million", "quarter", "profit", "loss", "sales",
        "council", "court", "police", "rain", "election", "vote", "wheat",
    };
    const size_t nv = sizeof vocab / sizeof *vocab;
    uint64_t st = 91;
    size_t d = 0;
    while (d < NDOCS) {
        size_t base[WORDS];
        for (int i = 0; i < WORDS; i++)
            base[i] = nd__splitmix64(&st) % nv;
        size_t members = 1 + nd__splitmix64(&st) % 5;
        for (size_t m = 0; m < members && d < NDOCS; m++, d++) {
            char buf[WORDS * 16 + 64];
            size_t at = 0;
            for (int i = 0; i < WORDS; i++) {
                size_t w = base[i];
                if (m && nd__splitmix64(&st) % 100 < 8)
                    w = nd__splitmix64(&st) % nv;
                at += (size_t)snprintf(buf + at, sizeof buf - at, "%s ", vocab[w]);
            }
            if (d % 10 != 0)
                at += (size_t)snprintf(buf + at, sizeof buf - at,
                                       "subscribe now for daily news");
            texts[d] = strdup(buf);
            lens[d] = at;
        }
    }
}

static void free_corpus(void)
{
    for (size_t d = 0; d < NDOCS; d++)
        free(texts[d]);
}

typedef struct {
    nd_batch **b;
    unsigned n;
} procs;

static int handed_over(void *ctx, nd_batch *b, char *msg, size_t cap)
{
    (void)ctx;
    (void)b;
    snprintf(msg, cap, "handed over");
    return ND_ERR_STATE;
}

static int gather_all(void *ctx, nd_batch *b, char *msg, size_t cap)
{
    (void)msg;
    (void)cap;
    const procs *p = ctx;
    const size_t w = nd__batch_doc_bytes(b);
    unsigned char *buf = malloc(w);
    cr_assert_not_null(buf);
    const size_t n = nd_batch_size(b);
    for (unsigned r = 1; r < p->n; r++) {
        size_t mine = 0;
        for (size_t d = 0; d < n; d++)
            mine += (size_t)nd__batch_sketches(p->b[r], d);
        if (mine == n) /* params.exact: every process sketched every text */
            continue;
        nd_text_stats st;
        nd__batch_sketched_stats(p->b[r], &st);
        nd__batch_add_stats(b, &st);
        for (size_t d = 0; d < n; d++)
            if (nd__batch_sketches(p->b[r], d)) {
                cr_assert(!nd__batch_sketches(b, d), "document %zu sketched twice", d);
                nd__batch_doc_get(p->b[r], d, buf);
                nd__batch_doc_put(b, d, buf);
            }
    }
    free(buf);
    return ND_OK;
}

static void fill(nd_batch *b)
{
    const char *const *t = (const char *const *)texts;
    /* Chunks that do not follow the blocks. */
    for (size_t at = 0; at < NDOCS; at += 1000) {
        size_t n = NDOCS - at < 1000 ? NDOCS - at : 1000;
        cr_assert_eq(nd_batch_count(b, n, t + at, lens + at, NULL), ND_OK);
    }
    for (size_t at = 0; at < NDOCS; at += 1000) {
        size_t n = NDOCS - at < 1000 ? NDOCS - at : 1000;
        cr_assert_eq(nd_batch_add_many(b, n, t + at, lens + at, NULL, NULL), ND_OK);
    }
}

typedef struct {
    unsigned procs;
    int exact;
    nd_cluster_method cluster;
} share_case;

ParameterizedTestParameters(share, same_as_one)
{
    static share_case cases[] = {
        {2, 0, ND_CLUSTER_ATTACH},     {3, 0, ND_CLUSTER_ATTACH},
        {4, 0, ND_CLUSTER_COMPONENTS}, {3, 1, ND_CLUSTER_ATTACH},
    };
    return cr_make_param_array(share_case, cases, sizeof cases / sizeof *cases);
}

ParameterizedTest(share_case *c, share, same_as_one)
{
    make_corpus();
    nd_params p;
    nd_params_init(&p);
    p.threads = 2;
    p.exact = c->exact;
    p.cluster = c->cluster;
    nd_batch *one;
    cr_assert_eq(nd_batch_create(&p, &one), ND_OK);
    fill(one);
    cr_assert_eq(nd_batch_run(one), ND_OK);

    nd_batch *b[4] = {0};
    procs pr = {b, c->procs};
    for (unsigned r = 0; r < c->procs; r++) {
        cr_assert_eq(nd_batch_create(&p, &b[r]), ND_OK);
        nd__batch_share(b[r], r, c->procs, r ? handed_over : gather_all, &pr);
        fill(b[r]);
    }
    for (unsigned r = 1; r < c->procs; r++)
        cr_assert_eq(nd_batch_run(b[r]), ND_ERR_STATE);
    cr_assert_eq(nd_batch_run(b[0]), ND_OK, "%s", nd_batch_errmsg(b[0]));

    size_t ne1, ne2;
    const nd_edge *e1 = nd_batch_edges(one, &ne1), *e2 = nd_batch_edges(b[0], &ne2);
    cr_assert_gt(ne1, NDOCS / 4, "a corpus of families has pairs (%zu)", ne1);
    cr_assert_eq(ne1, ne2);
    for (size_t i = 0; i < ne1; i++) {
        cr_assert_eq(e1[i].a, e2[i].a);
        cr_assert_eq(e1[i].b, e2[i].b);
        cr_assert_eq(e1[i].jaccard, e2[i].jaccard);
        cr_assert_eq(e1[i].containment, e2[i].containment);
    }
    for (size_t d = 0; d < NDOCS; d++) {
        cr_assert_eq(nd_batch_cluster(one, d), nd_batch_cluster(b[0], d), "doc %zu", d);
        cr_assert_eq(nd_batch_rep(one, d), nd_batch_rep(b[0], d), "doc %zu", d);
    }
    nd_batch_stats s1, s2;
    nd_batch_stats_get(one, &s1);
    nd_batch_stats_get(b[0], &s2);
    cr_assert_eq(s1.text.docs, NDOCS);
    cr_assert_eq(s2.text.docs, NDOCS);
    cr_assert_eq(s1.text.bytes, s2.text.bytes);
    cr_assert_gt(s1.text.suppressed_docs, 0, "the footer is boilerplate");
    cr_assert_eq(s1.text.suppressed, s2.text.suppressed);
    cr_assert_eq(s1.text.suppressed_docs, s2.text.suppressed_docs);
    cr_assert_eq(s1.clusters, s2.clusters);
    cr_assert_eq(s1.candidates, s2.candidates);

    for (unsigned r = 0; r < c->procs; r++)
        nd_batch_free(b[r]);
    nd_batch_free(one);
    free_corpus();
}

/* Under the strict mode a text another process sketches still fails the
   call that adds it, at the same index. */
Test(share, strict_utf8_checked_everywhere)
{
    nd_params p;
    nd_params_init(&p);
    p.boilerplate = 0.0;
    p.norm |= ND_NORM_STRICT_UTF8;
    nd_batch *b;
    cr_assert_eq(nd_batch_create(&p, &b), ND_OK);
    nd__batch_share(b, 0, 2, handed_over, NULL);
    enum { N = ND__SHARE_BLOCK + 10 };
    char **t = calloc(N, sizeof *t);
    size_t *l = calloc(N, sizeof *l);
    cr_assert(t && l);
    for (size_t i = 0; i < N; i++) {
        t[i] = (char *)"plain words of a text";
        l[i] = strlen(t[i]);
    }
    t[ND__SHARE_BLOCK + 3] = (char *)"bad \xff byte";
    l[ND__SHARE_BLOCK + 3] = strlen(t[ND__SHARE_BLOCK + 3]);
    cr_assert(!nd__batch_sketches(b, ND__SHARE_BLOCK + 3));
    size_t bad = 0;
    cr_assert_eq(nd_batch_add_many(b, N, (const char *const *)t, l, NULL, &bad),
                 ND_ERR_UTF8);
    cr_assert_eq(bad, ND__SHARE_BLOCK + 3);
    cr_assert_eq(nd_batch_size(b), 0);
    free(t);
    free(l);
    nd_batch_free(b);
}
