/*
 * test_batch.c - the whole engine against a brute-force reference, and
 * determinism across thread counts.
 *
 * The reference computes exact Jaccard and containment of every pair of
 * shingle sets (all n^2 / 2 of them) and links the pairs that match by the
 * default rule: Jaccard >= threshold or containment >= params.containment.  The engine
 * (LSH + exact verification) must report only pairs the reference has, and
 * must find at least 99% of the reference pairs with Jaccard >= t + 0.1.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cluster/cluster.h"
#include "../src/neardup.h"
#include "../src/sketch/sketch.h"
#include "../src/text/text.h"

#define NDOCS 400
#define WORDS 120

static char *texts[NDOCS];
static size_t lens[NDOCS];

/* Families of near-copies: a base text of random words, then members with
 * a growing share of words replaced, some truncated. */
static void make_corpus(void)
{
    static const char *vocab[] = {
        "market", "shares", "government", "said", "percent", "year", "oil",
        "prices", "bank", "rates", "company", "minister", "talks", "trade",
        "dollar", "week", "officials", "report", "growth", "exports",
        "imports", "billion", "million", "quarter", "profit", "loss", "sales",
        "council", "court", "police", "storm", "rain", "election", "vote",
        "party", "leader", "union", "strike", "workers", "farmers", "wheat",
        "corn", "coffee", "cocoa", "gold", "silver", "copper", "steel",
    };
    const size_t nv = sizeof vocab / sizeof *vocab;
    uint64_t st = 77;
    size_t d = 0;
    while (d < NDOCS) {
        size_t base[WORDS];
        for (int i = 0; i < WORDS; i++)
            base[i] = nd__splitmix64(&st) % nv;
        size_t members = 1 + nd__splitmix64(&st) % 6;
        for (size_t m = 0; m < members && d < NDOCS; m++, d++) {
            char buf[WORDS * 16];
            size_t at = 0;
            unsigned change = (unsigned)(m * (nd__splitmix64(&st) % 12));
            int words = WORDS;
            if (m && nd__splitmix64(&st) % 4 == 0)
                words = WORDS * 2 / 3;
            for (int i = 0; i < words; i++) {
                size_t w = base[i];
                if (nd__splitmix64(&st) % 100 < change)
                    w = nd__splitmix64(&st) % nv;
                at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%s",
                                       i ? " " : "", vocab[w]);
            }
            texts[d] = strdup(buf);
            lens[d] = at;
        }
    }
}

static void free_corpus(void)
{
    for (size_t i = 0; i < NDOCS; i++)
        free(texts[i]);
}

static uint64_t *sets[NDOCS];
static size_t nset[NDOCS];

static void exact_sets(const nd_params *p)
{
    nd__textbuf tb = {0};
    for (size_t i = 0; i < NDOCS; i++) {
        nd__normalize(&tb, texts[i], lens[i], 0, NULL);
        nd__shingle(&tb, p->shingle, p->ngram, p->seed);
        nset[i] = tb.nhashes;
        sets[i] = malloc(8 * (tb.nhashes + 1));
        memcpy(sets[i], tb.hashes, 8 * tb.nhashes);
    }
    nd__textbuf_free(&tb);
}

static double exact_jaccard(size_t a, size_t b, double *containment)
{
    size_t i = 0, j = 0, in = 0;
    while (i < nset[a] && j < nset[b]) {
        if (sets[a][i] < sets[b][j])
            i++;
        else if (sets[a][i] > sets[b][j])
            j++;
        else
            in++, i++, j++;
    }
    size_t small = nset[a] < nset[b] ? nset[a] : nset[b];
    *containment = (double)in / (double)small;
    return (double)in / (double)(nset[a] + nset[b] - in);
}

static nd_batch *run_batch(const nd_params *p)
{
    nd_batch *b;
    cr_assert_eq(nd_batch_create(p, &b), ND_OK);
    cr_assert_eq(nd_batch_add_many(b, NDOCS, (const char *const *)texts, lens,
                                   NULL, NULL), ND_OK);
    cr_assert_eq(nd_batch_run(b), ND_OK);
    return b;
}

Test(batch, agrees_with_brute_force_reference, .init = make_corpus,
     .fini = free_corpus)
{
    nd_params p;
    nd_params_init(&p);
    p.exact = 1;
    p.threads = 2;
    exact_sets(&p);
    nd_batch *b = run_batch(&p);
    size_t ne;
    const nd_edge *e = nd_batch_edges(b, &ne);

    size_t ref = 0, strong = 0, strong_found = 0, k = 0;
    for (size_t x = 0; x < NDOCS; x++)
        for (size_t y = x + 1; y < NDOCS; y++) {
            double c, j = exact_jaccard(x, y, &c);
            int match = j >= p.threshold || c >= p.containment;
            while (k < ne && (e[k].a < x || (e[k].a == x && e[k].b < y)))
                k++;
            int found = k < ne && e[k].a == x && e[k].b == y;
            if (found)
                cr_assert_float_eq(e[k].jaccard, j, 1e-6, "exact score %zu-%zu", x, y);
            if (match)
                ref++;
            else
                cr_assert(!found, "pair %zu-%zu (J=%.3f, C=%.3f) does not match", x, y, j, c);
            if (j >= p.threshold + 0.1) {
                strong++;
                strong_found += found;
            }
        }
    cr_assert_gt(strong, 50, "the corpus must hold clear duplicates (%zu)", strong);
    cr_assert_geq((double)strong_found / strong, 0.99, "found %zu of %zu",
                  strong_found, strong);
    cr_assert_leq(ne, ref);

    /* Clusters are the connected components of the reported edges. */
    nd__uf u;
    nd__uf_init(&u, NDOCS);
    for (size_t i = 0; i < ne; i++)
        nd__uf_union(&u, e[i].a, e[i].b);
    for (size_t x = 0; x < NDOCS; x++)
        for (size_t y = x + 1; y < NDOCS; y++)
            cr_assert_eq(nd__uf_find(&u, (uint32_t)x) == nd__uf_find(&u, (uint32_t)y),
                         nd_batch_cluster(b, x) == nd_batch_cluster(b, y));
    nd__uf_free(&u);
    for (size_t i = 0; i < NDOCS; i++)
        free(sets[i]);
    nd_batch_free(b);
}

ParameterizedTestParameters(batch, same_output_for_any_thread_count)
{
    static unsigned threads[] = {2, 8};
    return cr_make_param_array(unsigned, threads, 2);
}

ParameterizedTest(unsigned *threads, batch, same_output_for_any_thread_count,
                  .init = make_corpus, .fini = free_corpus)
{
    nd_params p;
    nd_params_init(&p);
    p.threads = 1;
    nd_batch *one = run_batch(&p);
    p.threads = *threads;
    nd_batch *many = run_batch(&p);
    for (size_t i = 0; i < NDOCS; i++) {
        cr_assert_eq(nd_batch_cluster(one, i), nd_batch_cluster(many, i));
        cr_assert_eq(nd_batch_rep(one, i), nd_batch_rep(many, i));
    }
    size_t n1, n2;
    const nd_edge *e1 = nd_batch_edges(one, &n1), *e2 = nd_batch_edges(many, &n2);
    cr_assert_eq(n1, n2);
    cr_assert(n1 > 0);
    cr_assert_eq(memcmp(e1, e2, n1 * sizeof *e1), 0);
    nd_batch_stats s1, s2;
    nd_batch_stats_get(one, &s1);
    nd_batch_stats_get(many, &s2);
    cr_assert_eq(s1.candidates, s2.candidates);
    cr_assert_eq(s1.text.docs, NDOCS);
    nd_batch_free(one);
    nd_batch_free(many);
}

Test(batch, empty_texts_stay_alone)
{
    nd_params p;
    nd_params_init(&p);
    nd_batch *b;
    nd_batch_create(&p, &b);
    const char *t[] = {"", "  \t\n ", "", "the same words here", "the same words here"};
    size_t l[] = {0, 5, 0, 19, 19};
    cr_assert_eq(nd_batch_add_many(b, 5, t, l, NULL, NULL), ND_OK);
    cr_assert_eq(nd_batch_run(b), ND_OK);
    cr_assert_eq(nd_batch_cluster(b, 0), 0);
    cr_assert_eq(nd_batch_cluster(b, 1), 1);
    cr_assert_eq(nd_batch_cluster(b, 2), 2);
    cr_assert_eq(nd_batch_cluster(b, 3), 3);
    cr_assert_eq(nd_batch_cluster(b, 4), 3);
    cr_assert_eq(nd_batch_rep(b, 4), 3);
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    cr_assert_eq(st.text.empty, 3);
    cr_assert_eq(st.clusters, 4);
    cr_assert_eq(nd_batch_run(b), ND_ERR_STATE);
    nd_batch_free(b);
}

Test(batch, strict_utf8_adds_nothing_and_names_the_record)
{
    nd_params p;
    nd_params_init(&p);
    p.norm = ND_NORM_STRICT_UTF8;
    nd_batch *b;
    nd_batch_create(&p, &b);
    const char *t[] = {"fine text", "bad \xff byte", "also bad \xc3"};
    size_t l[] = {9, 10, 11}, bad = 99;
    cr_assert_eq(nd_batch_add_many(b, 3, t, l, NULL, &bad), ND_ERR_UTF8);
    cr_assert_eq(bad, 1);
    cr_assert_eq(nd_batch_size(b), 0);
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    cr_assert_eq(st.text.docs, 0);
    nd_batch_free(b);
}

/*
 * Unions on several threads give the sets and roots of the serial unions:
 * 2^18 documents in chains and random groups, 300k edges (above the size
 * below which the unions stay on one thread), in a shuffled order.
 */
Test(batch, union_edges_on_threads_equal_serial_unions)
{
    const size_t n = (size_t)1 << 18, ne = 300000;
    nd_edge *e = malloc(sizeof *e * ne);
    cr_assert_not_null(e);
    uint64_t st = 11;
    for (size_t i = 0; i < ne; i++) {
        uint32_t a = (uint32_t)(nd__splitmix64(&st) % n), b;
        if (i % 3 == 0)
            b = (uint32_t)((a + 1) % n); /* long chains */
        else
            b = (uint32_t)(a ^ (nd__splitmix64(&st) % 64)); /* groups of 64 */
        if (a > b) {
            uint32_t t = a;
            a = b;
            b = t;
        }
        e[i] = (nd_edge){.a = a, .b = b};
    }
    nd__uf ref;
    cr_assert_eq(nd__uf_init(&ref, n), ND_OK);
    for (size_t i = 0; i < ne; i++)
        nd__uf_union(&ref, e[i].a, e[i].b);
    size_t nsets = 0;
    for (size_t x = 0; x < n; x++)
        nsets += nd__uf_find(&ref, (uint32_t)x) == x;
    cr_assert(nsets > 1000 && nsets < n / 4, "%zu sets", nsets);
    static const unsigned threads[] = {2, 4};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        nd__uf u;
        cr_assert_eq(nd__uf_init(&u, n), ND_OK);
        nd__uf_union_edges(&u, e, ne, 0.0f, threads[t]);
        for (size_t x = 0; x < n; x++)
            cr_assert_eq(nd__uf_find(&u, (uint32_t)x), nd__uf_find(&ref, (uint32_t)x),
                         "document %zu, %u threads", x, threads[t]);
        nd__uf_free(&u);
    }
    nd__uf_free(&ref);
    free(e);
}
