/*
 * test_share.c - a batch shared among processes (jobint.h, as neardup-mpi
 * uses it), simulated with threads: P batches each count and sketch a
 * contiguous part of the texts, their count exchange goes through a
 * barrier, and the first brings the others' state in when it runs.  Its
 * clusters, representatives, edges, boilerplate and text counters must
 * equal those of one batch that read every text.  The texts span three
 * sampling levels of the count (2^14, 2^15), and footers sit at the
 * boilerplate cut-off, where counters summed after being halved on each
 * process would round differently.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/job/jobint.h"
#include "../src/neardup.h"
#include "../src/sketch/sketch.h"

#define NDOCS 36000
#define WORDS 30
#define MAXP 4

static char *texts[NDOCS];
static size_t lens[NDOCS];

/* Families of near-copies over a small vocabulary; a footer most texts
   carry; and footers each carried by one text in 44 to 55, about as many
   as the cut-off (2% of the texts). */
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
            char buf[WORDS * 16 + 512];
            size_t at = 0;
            for (int i = 0; i < WORDS; i++) {
                size_t w = base[i];
                if (m && nd__splitmix64(&st) % 100 < 8)
                    w = nd__splitmix64(&st) % nv;
                at += (size_t)snprintf(buf + at, sizeof buf - at, "%s ", vocab[w]);
            }
            if (d % 10 != 0)
                at += (size_t)snprintf(buf + at, sizeof buf - at,
                                       "subscribe now for daily news ");
            for (unsigned k = 0; k < 12; k++)
                if (d % (44 + k) == k)
                    at += (size_t)snprintf(buf + at, sizeof buf - at,
                                           "notice q%u reads the same on page q%u ", k, k);
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

/* ------------------------------------------------- processes as threads */

typedef struct {
    pthread_barrier_t bar;
    unsigned n;
    nd_batch *b[MAXP];
    uint32_t *v[MAXP];
    const void *p[MAXP];
    size_t pn[MAXP];
    uint64_t first[MAXP + 1]; /* process r's texts: [first[r], first[r + 1]) */
    int rc[MAXP];
} world;

typedef struct {
    world *w;
    unsigned rank;
    nd__count_comm comm;
} proc;

static int sum32(void *ctx, uint32_t *v, size_t n)
{
    proc *me = ctx;
    world *w = me->w;
    w->v[me->rank] = v;
    pthread_barrier_wait(&w->bar);
    uint32_t *sum = calloc(n, sizeof *sum);
    for (unsigned r = 0; sum && r < w->n; r++)
        for (size_t i = 0; i < n; i++)
            sum[i] += w->v[r][i];
    pthread_barrier_wait(&w->bar);
    if (!sum)
        return ND_ERR_NOMEM;
    memcpy(v, sum, n * sizeof *v);
    free(sum);
    return ND_OK;
}

static int gather(void *ctx, const void *p, size_t n, void **all, size_t *alln)
{
    proc *me = ctx;
    world *w = me->w;
    w->p[me->rank] = p;
    w->pn[me->rank] = n;
    pthread_barrier_wait(&w->bar);
    size_t total = 0;
    for (unsigned r = 0; r < w->n; r++)
        total += w->pn[r];
    unsigned char *buf = malloc(total ? total : 1);
    for (unsigned r = 0, at = 0; buf && r < w->n; at += (unsigned)w->pn[r], r++)
        if (w->pn[r])
            memcpy(buf + at, w->p[r], w->pn[r]);
    pthread_barrier_wait(&w->bar);
    *all = buf;
    *alln = total;
    return buf ? ND_OK : ND_ERR_NOMEM;
}

/* Processes but the first: their state stays for the first to take. */
static int handed_over(void *ctx, nd_batch *b, char *msg, size_t cap)
{
    proc *me = ctx;
    (void)b;
    pthread_barrier_wait(&me->w->bar);
    snprintf(msg, cap, "handed over");
    return ND_ERR_STATE;
}

/* The first: append the others' documents in process order. */
static int gather_all(void *ctx, nd_batch *b, char *msg, size_t cap)
{
    proc *me = ctx;
    world *w = me->w;
    (void)msg;
    (void)cap;
    pthread_barrier_wait(&w->bar);
    const size_t wb = nd__batch_doc_bytes(b);
    unsigned char *buf = malloc(wb);
    if (!buf)
        return ND_ERR_NOMEM;
    for (unsigned r = 1; r < w->n; r++) {
        const nd_batch *o = w->b[r];
        const size_t base = nd_batch_size(b), m = nd_batch_size(o);
        if (nd__batch_doc_bytes(o) != wb || nd__batch_grow_to(b, base + m) != ND_OK) {
            free(buf);
            return ND_ERR_STATE;
        }
        for (size_t d = 0; d < m; d++) {
            size_t k;
            const uint64_t *set = nd__batch_doc_set(o, d, &k);
            nd__batch_doc_get(o, d, buf);
            nd__batch_doc_put(b, base + d, buf);
            if (nd__batch_doc_set_put(b, base + d, set, k) != ND_OK) {
                free(buf);
                return ND_ERR_NOMEM;
            }
        }
        nd_text_stats st;
        nd__batch_sketched_stats(o, &st);
        nd__batch_add_stats(b, &st);
    }
    free(buf);
    return ND_OK;
}

static proc procs[MAXP];

/* One process: count its texts, add them (chunks that do not follow the
   sampling levels), run. */
static void *run_proc(void *arg)
{
    proc *me = arg;
    world *w = me->w;
    nd_batch *b = w->b[me->rank];
    const char *const *t = (const char *const *)texts;
    const size_t from = (size_t)w->first[me->rank], to = (size_t)w->first[me->rank + 1];
    int rc = ND_OK;
    for (size_t at = from; rc == ND_OK && at < to; at += 1000) {
        size_t n = to - at < 1000 ? to - at : 1000;
        rc = nd_batch_count(b, n, t + at, lens + at, NULL);
    }
    for (size_t at = from; rc == ND_OK && at < to; at += 1000) {
        size_t n = to - at < 1000 ? to - at : 1000;
        rc = nd_batch_add_many(b, n, t + at, lens + at, NULL, NULL);
    }
    w->rc[me->rank] = rc == ND_OK ? nd_batch_run(b) : rc;
    return NULL;
}

typedef struct {
    unsigned procs;
    int exact;
    nd_cluster_method cluster;
    int empty; /* process 1 reads nothing */
} share_case;

ParameterizedTestParameters(share, same_as_one)
{
    static share_case cases[] = {
        {1, 0, ND_CLUSTER_ATTACH, 0},     {2, 0, ND_CLUSTER_ATTACH, 0},
        {3, 0, ND_CLUSTER_ATTACH, 0},     {4, 0, ND_CLUSTER_COMPONENTS, 0},
        {3, 1, ND_CLUSTER_ATTACH, 0},     {3, 0, ND_CLUSTER_ATTACH, 1},
    };
    return cr_make_param_array(share_case, cases, sizeof cases / sizeof *cases);
}

ParameterizedTest(share_case *c, share, same_as_one)
{
    make_corpus();
    nd_params p;
    nd_params_init(&p);
    p.threads = 1;
    p.exact = c->exact;
    p.cluster = c->cluster;
    nd_batch *one;
    cr_assert_eq(nd_batch_create(&p, &one), ND_OK);
    for (size_t at = 0; at < NDOCS; at += 1000)
        cr_assert_eq(nd_batch_count(one, 1000, (const char *const *)texts + at, lens + at,
                                    NULL),
                     ND_OK);
    for (size_t at = 0; at < NDOCS; at += 1000)
        cr_assert_eq(nd_batch_add_many(one, 1000, (const char *const *)texts + at,
                                       lens + at, NULL, NULL),
                     ND_OK);
    cr_assert_eq(nd_batch_run(one), ND_OK);

    static world w;
    memset(&w, 0, sizeof w);
    w.n = c->procs;
    cr_assert_eq(pthread_barrier_init(&w.bar, NULL, c->procs), 0);
    for (unsigned r = 0; r <= c->procs; r++)
        w.first[r] = (uint64_t)NDOCS * r / c->procs;
    if (c->empty)
        w.first[2] = w.first[1];
    pthread_t th[MAXP];
    for (unsigned r = 0; r < c->procs; r++) {
        procs[r] = (proc){&w, r, {&procs[r], sum32, gather}};
        cr_assert_eq(nd_batch_create(&p, &w.b[r]), ND_OK);
        nd__batch_share(w.b[r], r, c->procs, r ? handed_over : gather_all, &procs[r]);
        cr_assert_eq(nd__batch_share_count(w.b[r], &procs[r].comm, w.first[r], NDOCS), ND_OK);
    }
    for (unsigned r = 0; r < c->procs; r++)
        cr_assert_eq(pthread_create(&th[r], NULL, run_proc, &procs[r]), 0);
    for (unsigned r = 0; r < c->procs; r++)
        pthread_join(th[r], NULL);
    pthread_barrier_destroy(&w.bar);
    cr_assert_eq(w.rc[0], ND_OK, "%u processes, exact %d, empty %d: %s", c->procs, c->exact, c->empty, nd_batch_errmsg(w.b[0]));
    for (unsigned r = 1; r < c->procs; r++)
        cr_assert_eq(w.rc[r], ND_ERR_STATE, "process %u: %s", r, nd_batch_errmsg(w.b[r]));
    nd_batch *b = w.b[0];

    nd_batch_stats s1, s2;
    nd_batch_stats_get(one, &s1);
    nd_batch_stats_get(b, &s2);
    cr_assert_gt(s1.text.suppressed_docs, NDOCS / 2, "the footer is boilerplate");
    cr_assert_eq(s1.boilerplate_cutoff, s2.boilerplate_cutoff);
    cr_assert_eq(s1.text.suppressed, s2.text.suppressed);
    cr_assert_eq(s1.text.suppressed_docs, s2.text.suppressed_docs);
    cr_assert_eq(s1.text.docs, NDOCS);
    cr_assert_eq(s2.text.docs, NDOCS);
    cr_assert_eq(s1.text.bytes, s2.text.bytes);
    cr_assert_eq(s1.clusters, s2.clusters);
    cr_assert_eq(s1.candidates, s2.candidates);
    size_t ne1, ne2;
    const nd_edge *e1 = nd_batch_edges(one, &ne1), *e2 = nd_batch_edges(b, &ne2);
    cr_assert_gt(ne1, NDOCS / 4, "a corpus of families has pairs (%zu)", ne1);
    cr_assert_eq(ne1, ne2);
    for (size_t i = 0; i < ne1; i++) {
        cr_assert_eq(e1[i].a, e2[i].a);
        cr_assert_eq(e1[i].b, e2[i].b);
        cr_assert_eq(e1[i].jaccard, e2[i].jaccard);
        cr_assert_eq(e1[i].containment, e2[i].containment);
    }
    for (size_t d = 0; d < NDOCS; d++) {
        cr_assert_eq(nd_batch_cluster(one, d), nd_batch_cluster(b, d), "doc %zu", d);
        cr_assert_eq(nd_batch_rep(one, d), nd_batch_rep(b, d), "doc %zu", d);
    }
    for (unsigned r = 0; r < c->procs; r++)
        nd_batch_free(w.b[r]);
    nd_batch_free(one);
    free_corpus();
}

/* The sampling schedule jumped to an ordinal is the one stepped to it. */
Test(share, sched_at_is_stepped)
{
    nd__df_sched s = {0, 0};
    for (uint64_t o = 0; o <= 200000; o++) {
        if (o % 997 == 0 || o == 16384 || o == 16385 || o == 32768 || o == 32769) {
            nd__df_sched at = nd__df_sched_at(o);
            cr_assert_eq(at.rate, s.rate ? s.rate : 1, "ordinal %llu", (unsigned long long)o);
            cr_assert_eq(at.sampled, s.sampled, "ordinal %llu", (unsigned long long)o);
        }
        nd__df_sched_step(&s, o);
    }
    cr_assert_eq(s.rate, 16, "200,000 texts take five levels");
}
