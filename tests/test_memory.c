/*
 * test_memory.c - the batch's compact store: 16-bit signatures and 32-bit
 * counts give the results the full 32-bit values give.
 *
 * The reference rebuilds the 32-bit pipeline from its parts: signatures from
 * nd_sketcher_sketch, candidates from nd__lsh_candidates over 32-bit values,
 * nd_sig_jaccard, the match rule, union-find.  The batch (16-bit store) must
 * give the same clusters and edges on a corpus whose pairs straddle the
 * threshold.  Expected differences: a candidate pair gains a spurious 16-bit
 * equal value with probability about k * 2^-16 = 0.2%, and that changes a
 * decision only when the pair sits exactly one value below the threshold
 * (a few percent of pairs): about 10^-4 flips per candidate pair, so none on
 * a corpus of a few hundred candidate pairs.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cluster/cluster.h"
#include "../src/core/docstore.h"
#include "../src/core/params.h"
#include "../src/lsh/lsh.h"
#include "../src/neardup.h"
#include "../src/sketch/sketch.h"
#include "pairs.h"

#define NDOCS 480
#define WORDS 150

static char *texts[NDOCS];
static size_t lens[NDOCS];

/* Stories of random words from a large vocabulary, each with members that
 * have 0..14% of their words replaced: word-3-gram Jaccard from 1 down to
 * well under the 0.5 threshold. */
static void make_corpus(void)
{
    uint64_t st = 2024;
    size_t d = 0;
    while (d < NDOCS) {
        uint32_t base[WORDS];
        for (int i = 0; i < WORDS; i++)
            base[i] = (uint32_t)(nd__splitmix64(&st) % 5000);
        for (unsigned m = 0; m < 8 && d < NDOCS; m++, d++) {
            char *buf = malloc(WORDS * 8);
            size_t at = 0;
            unsigned change = m * 2; /* percent */
            for (int i = 0; i < WORDS; i++) {
                uint32_t w = base[i];
                if (nd__splitmix64(&st) % 100 < change)
                    w = (uint32_t)(nd__splitmix64(&st) % 5000);
                at += (size_t)snprintf(buf + at, WORDS * 8 - at, "%sw%u",
                                       i ? " " : "", (unsigned)w);
            }
            texts[d] = buf;
            lens[d] = at;
        }
    }
}

static void free_corpus(void)
{
    for (size_t i = 0; i < NDOCS; i++)
        free(texts[i]);
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

/* The 32-bit pipeline: edges (a << 32 | b) that pass, and clusters. */
typedef struct {
    uint64_t *cand, *edge;
    size_t ncand, nedge;
    uint32_t cluster[NDOCS], rep[NDOCS];
    uint32_t *sig;
} reference;

static void run_reference(const nd_params *p, reference *r)
{
    const unsigned k = p->num_perm;
    unsigned bands, rows;
    nd_params_lsh(p, &bands, &rows);
    nd_sketcher *sk;
    cr_assert_eq(nd_sketcher_create(p, &sk), ND_OK);
    r->sig = malloc(sizeof *r->sig * k * NDOCS);
    uint64_t size[NDOCS];
    uint8_t skip[NDOCS];
    for (size_t i = 0; i < NDOCS; i++) {
        cr_assert_eq(nd_sketcher_sketch(sk, texts[i], lens[i], r->sig + i * k,
                                        &size[i]), ND_OK);
        skip[i] = size[i] == 0;
    }
    nd_sketcher_free(sk);
    uint64_t capped;
    cr_assert_eq(nd__lsh_candidates(r->sig, NDOCS, k, bands, rows, p->seed, skip, 1,
                                    &r->cand, &r->ncand, &capped), ND_OK);
    r->edge = malloc(sizeof *r->edge * (r->ncand ? r->ncand : 1));
    r->nedge = 0;
    nd__uf uf;
    cr_assert_eq(nd__uf_init(&uf, NDOCS), ND_OK);
    for (size_t i = 0; i < r->ncand; i++) {
        uint32_t a = (uint32_t)(r->cand[i] >> 32), b = (uint32_t)r->cand[i];
        double j = nd_sig_jaccard(r->sig + (size_t)a * k, r->sig + (size_t)b * k, k);
        uint64_t small = size[a] < size[b] ? size[a] : size[b];
        uint64_t large = size[a] < size[b] ? size[b] : size[a];
        if (nd__params_match(p, j, nd_containment(j, small, large))) {
            r->edge[r->nedge++] = r->cand[i];
            nd__uf_union(&uf, a, b);
        }
    }
    nd__docinfo info = {NULL, NULL};
    cr_assert_gt(nd__clusters(&uf, ND_KEEP_FIRST, &info, r->cluster, r->rep), 0);
    nd__uf_free(&uf);
}

static void free_reference(reference *r)
{
    free(r->cand);
    free(r->edge);
    free(r->sig);
}

/* Bins not copied in both: the denominator of the estimate. */
static unsigned filled(const uint32_t *a, const uint32_t *b, unsigned k)
{
    unsigned m = 0;
    for (unsigned i = 0; i < k; i++)
        m += !(a[i] & b[i] & ND__SIG_COPIED);
    return m;
}

Test(memory, sig16_store_gives_the_32_bit_clusters)
{
    make_corpus();
    nd_params p;
    nd_params_init(&p);
    p.threshold = 0.5; /* 64 of 128 values: pairs can sit exactly on it */
    p.containment = 0;
    p.threads = 2;
    reference ref;
    run_reference(&p, &ref);
    nd_batch *b = run_batch(&p);

    /* The corpus straddles the threshold: it tests something. */
    size_t clusters = 0;
    for (size_t i = 0; i < NDOCS; i++)
        if (ref.cluster[i] + 1u > clusters)
            clusters = ref.cluster[i] + 1u;
    cr_assert_gt(ref.nedge, 200, "only %zu edges", ref.nedge);
    cr_assert_lt(ref.nedge, ref.ncand, "every candidate passed");
    cr_assert_gt(clusters, NDOCS / 8, "clusters %zu", clusters);

    /* 16-bit candidates hold every 32-bit one; none or nearly none more. */
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    cr_assert_geq(st.candidates, ref.ncand);
    cr_assert_leq(st.candidates, ref.ncand + 1, "%llu vs %zu",
                  (unsigned long long)st.candidates, ref.ncand);

    size_t ne;
    const nd_edge *e = nd_batch_edges(b, &ne);
    cr_assert_eq(ne, ref.nedge);
    size_t jdiff = 0;
    for (size_t i = 0; i < ne; i++) {
        cr_assert_eq((uint64_t)e[i].a << 32 | e[i].b, ref.edge[i], "edge %zu", i);
        const unsigned k = p.num_perm;
        double j32 = nd_sig_jaccard(ref.sig + (size_t)e[i].a * k,
                                    ref.sig + (size_t)e[i].b * k, k);
        /* one spurious equal value at most, of m compared */
        unsigned m = filled(ref.sig + (size_t)e[i].a * k, ref.sig + (size_t)e[i].b * k, k);
        cr_assert_geq(e[i].jaccard, (float)j32);
        cr_assert_leq(e[i].jaccard, (float)(j32 + 1.0 / m));
        jdiff += e[i].jaccard != (float)j32;
    }
    cr_assert_leq(jdiff, 2, "%zu edges with a spurious equal value", jdiff);
    /* Pairs exactly at the threshold pass, as with 32 bits (the b-bit
       correction would drop them): the corpus has some. */
    size_t at = 0;
    for (size_t i = 0; i < ne; i++)
        at += e[i].jaccard == (float)p.threshold;
    cr_assert_geq(at, 5, "%zu edges at the threshold", at);
    for (size_t i = 0; i < NDOCS; i++) {
        cr_assert_eq(nd_batch_cluster(b, i), ref.cluster[i], "doc %zu", i);
        cr_assert_eq(nd_batch_rep(b, i), ref.rep[i], "doc %zu", i);
    }
    nd_batch_free(b);
    free_reference(&ref);
    free_corpus();
}

ParameterizedTestParameters(memory, sig16_store_same_for_any_thread_count)
{
    static unsigned threads[] = {2, 3, 4};
    return cr_make_param_array(unsigned, threads, 3);
}

ParameterizedTest(unsigned *threads, memory, sig16_store_same_for_any_thread_count)
{
    make_corpus();
    nd_params p;
    nd_params_init(&p);
    p.cluster = ND_CLUSTER_GUARDED;
    p.keep = ND_KEEP_LONGEST;
    p.threads = 1;
    nd_batch *one = run_batch(&p);
    p.threads = *threads;
    nd_batch *many = run_batch(&p);
    size_t n1, n2;
    const nd_edge *e1 = nd_batch_edges(one, &n1), *e2 = nd_batch_edges(many, &n2);
    cr_assert_gt(n1, 0);
    cr_assert_eq(n1, n2);
    cr_assert_eq(memcmp(e1, e2, n1 * sizeof *e1), 0);
    for (size_t i = 0; i < NDOCS; i++) {
        cr_assert_eq(nd_batch_cluster(one, i), nd_batch_cluster(many, i));
        cr_assert_eq(nd_batch_rep(one, i), nd_batch_rep(many, i));
    }
    nd_batch_free(one);
    nd_batch_free(many);
    free_corpus();
}

/*
 * The premise of the b-bit store: the low bits of a MinHash value are
 * uniform, so two unequal values agree in their low b bits with probability
 * 2^-b.  Then P(b-bit equal) = J + (1 - J) 2^-b, and Li and Koenig's
 * (P - 2^-b) / (1 - 2^-b) is unbiased.  Bit 15 is the copied flag, not a
 * value bit: 16 bits compare 15 of value, and bins copied in both are left
 * out as the library's estimate does.  Checked for every sketch scheme on
 * pairs of known Jaccard (the grid of minhash/estimate_within_3_over_sqrt_k).
 */
static double bbit_estimate(const uint32_t *a, const uint32_t *b, unsigned k,
                            unsigned bits, int correct)
{
    /* the low `bits` bits, less the copied flag (bit 15) when among them */
    uint32_t mask = (bits == 32 ? UINT32_MAX : (1u << bits) - 1) & ~ND__SIG_COPIED;
    int vbits = bits > 15 ? (int)bits - 1 : (int)bits;
    unsigned eq = 0, m = 0;
    for (unsigned i = 0; i < k; i++) {
        uint32_t ca = a[i] & ND__SIG_COPIED, cb = b[i] & ND__SIG_COPIED;
        if (ca && cb)
            continue;
        m++;
        eq += !ca && !cb && (a[i] & mask) == (b[i] & mask);
    }
    double p = m ? (double)eq / m : 0.0, c = ldexp(1.0, -vbits);
    return correct && bits < 32 ? (p - c) / (1.0 - c) : p;
}


ParameterizedTestParameters(memory, bbit_estimates_are_unbiased)
{
    static nd_sketch_algo algos[] = {ND_SKETCH_KPERM, ND_SKETCH_OPH, ND_SKETCH_CMINHASH};
    return cr_make_param_array(nd_sketch_algo, algos, 3);
}

ParameterizedTest(nd_sketch_algo *algo, memory, bbit_estimates_are_unbiased)
{
    const unsigned k = 128;
    double err32 = 0, err16 = 0, err8 = 0, err8raw = 0, abs32 = 0, abs16 = 0, diff16 = 0;
    int pairs = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        nd__perm p;
        cr_assert_eq(nd__sketch_init(&p, *algo, k, seed), ND_OK);
        uint64_t st = seed * 7919;
        KNOWN_PAIRS(common, extra) {
            known_pair kp;
            known_pair_make(&kp, common, extra, &st);
            uint32_t sa[128], sb[128];
            uint16_t ha[128], hb[128];
            nd__minhash(&p, kp.a, kp.na, sa);
            nd__minhash(&p, kp.b, kp.nb, sb);
            nd__sig16_from32(sa, k, ha);
            nd__sig16_from32(sb, k, hb);
            double exact = kp.jaccard;
            double j32 = nd_sig_jaccard(sa, sb, k);
            double j16 = nd__sig16_jaccard(ha, hb, k);
            cr_assert_float_eq(j16, bbit_estimate(sa, sb, k, 16, 0), 1e-12);
            err32 += j32 - exact;
            err16 += j16 - exact;
            abs32 += fabs(j32 - exact);
            abs16 += fabs(j16 - exact);
            diff16 += j16 - j32;
            err8 += bbit_estimate(sa, sb, k, 8, 1) - exact;
            err8raw += bbit_estimate(sa, sb, k, 8, 0) - exact;
            pairs++;
            known_pair_free(&kp);
        }
        nd__perm_free(&p);
    }
    /*
     * 880 pairs, per-pair standard deviation about 0.04 (sqrt(J(1-J)/k)):
     * the mean of an unbiased estimator lies within 0.0014 of 0 at one
     * standard error, so |mean| < 0.005 is 3.5 standard errors.
     */
    cr_assert_lt(fabs(err32 / pairs), 0.005, "32-bit bias %.5f", err32 / pairs);
    cr_assert_lt(fabs(err16 / pairs), 0.005, "16-bit bias %.5f", err16 / pairs);
    cr_assert_lt(fabs(err8 / pairs), 0.005, "corrected 8-bit bias %.5f", err8 / pairs);
    /* 16 bits (15 of value) add (1 - J) 2^-15 on average: ~3.4 spurious
       equal values in 880 * 128 value pairs, each about 1/128.  Below 1e-4
       means < 12 of them. */
    cr_assert_geq(diff16, 0.0);
    cr_assert_lt(diff16 / pairs, 1e-4, "16 vs 32 bits %.6f", diff16 / pairs);
    cr_assert_lt(fabs(abs16 - abs32) / pairs, 1e-4, "mean |error| %.5f vs %.5f",
                 abs16 / pairs, abs32 / pairs);
    /* Uncorrected 8 bits overestimate by (1 - J) / 256 >= 0.0008 here (J <=
       0.8 on most of the grid): the correction is what removes it. */
    cr_assert_gt(err8raw / pairs - err8 / pairs, 0.0008);
}

/* Disjoint sets: low 8 bits agree 1/256 of the time, low 16 bits 1/65536. */
Test(memory, low_bits_collide_at_the_uniform_rate)
{
    const unsigned k = 128;
    nd__perm p;
    cr_assert_eq(nd__sketch_init(&p, ND_SKETCH_KPERM, k, 9), ND_OK);
    uint64_t st = 31;
    unsigned eq8 = 0, eq16 = 0, eq32 = 0, slots = 0;
    for (int pair = 0; pair < 2000; pair++) {
        uint64_t a[40], b[40];
        for (int i = 0; i < 40; i++) {
            a[i] = nd__splitmix64(&st);
            b[i] = nd__splitmix64(&st);
        }
        uint32_t sa[128], sb[128];
        nd__minhash(&p, a, 40, sa);
        nd__minhash(&p, b, 40, sb);
        for (unsigned i = 0; i < k; i++) {
            eq8 += (uint8_t)sa[i] == (uint8_t)sb[i];
            eq16 += (uint16_t)sa[i] == (uint16_t)sb[i];
            eq32 += sa[i] == sb[i];
            slots++;
        }
    }
    nd__perm_free(&p);
    /* 256000 slots: 1000 expected 8-bit agreements, sd 31.6; 3.9 16-bit. */
    cr_assert_eq(eq32, 0);
    cr_assert(eq8 > 900 && eq8 < 1100, "8-bit agreements %u of %u", eq8, slots);
    cr_assert_leq(eq16, 15, "16-bit agreements %u", eq16);
}

Test(memory, counts_saturate_at_uint32_max)
{
    cr_assert_eq(nd__sat32(0), 0);
    cr_assert_eq(nd__sat32(3000), 3000);
    cr_assert_eq(nd__sat32(UINT32_MAX - 1ull), UINT32_MAX - 1u);
    cr_assert_eq(nd__sat32(UINT32_MAX), UINT32_MAX);
    cr_assert_eq(nd__sat32((uint64_t)UINT32_MAX + 1), UINT32_MAX);
    cr_assert_eq(nd__sat32(5ull << 32), UINT32_MAX);
    cr_assert_eq(nd__sat32(UINT64_MAX), UINT32_MAX);
}

/* Lengths are kept (narrowed) for keep longest: the longest member still
   represents, ties to the first. */
Test(memory, keep_longest_reads_the_narrowed_lengths)
{
    const char *t[4] = {
        "the council approved the budget for the new bridge on monday evening",
        "the council approved the budget for the new bridge on monday evening after a long debate",
        "the council approved the budget for the new bridge on monday evening",
        "storm warnings for the coast tonight",
    };
    size_t l[4];
    for (int i = 0; i < 4; i++)
        l[i] = strlen(t[i]);
    nd_params p;
    nd_params_init(&p);
    p.keep = ND_KEEP_LONGEST;
    p.threshold = 0.6;
    p.containment = 0.8; /* 0 and 2 lie inside 1 */
    p.threads = 1;
    nd_batch *b;
    cr_assert_eq(nd_batch_create(&p, &b), ND_OK);
    cr_assert_eq(nd_batch_add_many(b, 4, t, l, NULL, NULL), ND_OK);
    cr_assert_eq(nd_batch_run(b), ND_OK);
    cr_assert_eq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 1));
    cr_assert_eq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 2));
    cr_assert_eq(nd_batch_rep(b, 0), 1);
    cr_assert_eq(nd_batch_rep(b, 2), 1);
    cr_assert_eq(nd_batch_rep(b, 3), 3);
    nd_batch_free(b);
}
