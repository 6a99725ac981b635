/*
 * test_core.c - parameters, LSH layout, sorting, MinHash, banding,
 * union-find and representatives, each on its own.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cluster/cluster.h"
#include "../src/core/sort.h"
#include "../src/lsh/lsh.h"
#include "../src/neardup.h"
#include "../src/sketch/sketch.h"
#include "golden/minhash.h"
#include "pairs.h"

/* ------------------------------------------------------------ params */

Test(params, defaults_are_valid)
{
    nd_params p;
    nd_params_init(&p);
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_OK);
    cr_assert_eq(p.num_perm, 128);
    cr_assert_eq(p.shingle, ND_SHINGLE_GLYPH);
    cr_assert_eq(p.ngram, 8);
    p.ngram = 9;
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_ERR_PARAM, "a glyph window is at most 8");
    p.shingle = ND_SHINGLE_WORD;
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_OK);
}

Test(params, rejects_out_of_range_with_a_message)
{
    nd_params p;
    char msg[100];
    nd_params_init(&p);
    p.threshold = 1.5;
    cr_assert_eq(nd_params_check(&p, msg, sizeof msg), ND_ERR_PARAM);
    cr_assert_str_eq(msg, "threshold must be in (0, 1]");
    nd_params_init(&p);
    p.num_perm = 0;
    cr_assert_eq(nd_params_check(&p, msg, sizeof msg), ND_ERR_PARAM);
    cr_assert_str_eq(msg, "num_perm must be in 1..4096");
    nd_params_init(&p);
    p.bands = 20;
    p.rows = 7;
    cr_assert_eq(nd_params_check(&p, msg, sizeof msg), ND_ERR_PARAM);
    cr_assert_str_eq(msg, "bands * rows must not exceed num_perm");
}

/* The layouts datasketch's _optimal_param(t, k, 0.5, 0.5) picks. */
Test(params, lsh_layout_matches_the_reference_optimum)
{
    static const struct { double t; unsigned k, b, r; } want[] = {
        {0.5, 128, 25, 5}, {0.8, 128, 9, 13}, {0.3, 128, 37, 3},
        {0.5, 256, 42, 6}, {0.9, 64, 3, 21},  {0.7, 128, 14, 9},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        nd_params p;
        nd_params_init(&p);
        p.threshold = want[i].t;
        p.containment = 0;
        p.num_perm = want[i].k;
        unsigned b, r;
        nd_params_lsh(&p, &b, &r);
        cr_expect_eq(b, want[i].b, "t=%.1f k=%u: bands %u, want %u", want[i].t,
                     want[i].k, b, want[i].b);
        cr_expect_eq(r, want[i].r, "t=%.1f k=%u: rows %u, want %u", want[i].t,
                     want[i].k, r, want[i].r);
    }
}

/* The layout as first written: every layout's two integrals of
   P(s) = 1 - (1 - s^r)^b by Simpson's rule, each point its own. */
static double ref_area(double lo, double hi, unsigned b, unsigned r, int want)
{
    double h = (hi - lo) / 64, sum = 0.0;
    for (int i = 0; i <= 64; i++) {
        double s = lo + h * i, f = 1.0 - pow(1.0 - pow(s, r), b);
        if (!want)
            f = 1.0 - f;
        sum += f * (i == 0 || i == 64 ? 1 : (i % 2 ? 4 : 2));
    }
    return sum * h / 3.0;
}

/* The error area of b bands of r rows around t, as first written. */
static double ref_error(double t, unsigned b, unsigned r)
{
    return 0.5 * ref_area(0.0, t, b, r, 1) + 0.5 * ref_area(t, 1.0, b, r, 0);
}

Test(params, layout_is_the_direct_computation_s)
{
    static const unsigned ks[] = {16, 64, 100, 128, 256};
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
        for (int ti = 1; ti < 50; ti++) {
            nd_params p;
            nd_params_init(&p);
            p.threshold = ti / 50.0;
            p.containment = 0;
            p.num_perm = ks[ki];
            double t = p.threshold, best = INFINITY;
            unsigned wb = 1, wr = p.num_perm;
            for (unsigned b = 1; b <= p.num_perm; b++)
                for (unsigned r = 1; r <= p.num_perm / b; r++) {
                    double e = ref_error(t, b, r);
                    if (e < best - 1e-12) {
                        best = e;
                        wb = b;
                        wr = r;
                    }
                }
            unsigned b, r;
            nd_params_lsh(&p, &b, &r);
            cr_assert(b == wb && r == wr, "t=%.2f k=%u: %u x %u, want %u x %u",
                      t, p.num_perm, b, r, wb, wr);
        }
    }
}

Test(params, explicit_layout_is_kept)
{
    nd_params p;
    nd_params_init(&p);
    p.bands = 16;
    p.rows = 8;
    unsigned b, r;
    nd_params_lsh(&p, &b, &r);
    cr_assert_eq(b, 16);
    cr_assert_eq(r, 8);
}

Test(errors, every_code_has_a_message)
{
    cr_assert_str_eq(nd_strerror(ND_OK), "no error");
    cr_assert_str_eq(nd_strerror(ND_ERR_IO), "input/output error");
    cr_assert_str_eq(nd_strerror(-999), "unknown error");
    cr_assert_eq(nd_version_number(), ND_VERSION_NUMBER);
}

/* ------------------------------------------------------------ sort */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

Test(sort, radix_equals_qsort_at_many_sizes)
{
    uint64_t st = 3;
    static const size_t sizes[] = {0, 1, 2, 63, 64, 65, 1000, 100000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        uint64_t *v = malloc(8 * (n + 1)), *w = malloc(8 * (n + 1)),
                 *t = malloc(8 * (n + 1));
        for (size_t i = 0; i < n; i++) {
            /* Mix of full-width keys and keys with few set bits. */
            uint64_t z = nd__splitmix64(&st);
            v[i] = w[i] = i % 3 ? z : z & 0xff00ff;
        }
        nd__sort_u64(v, t, n);
        qsort(w, n, 8, cmp_u64);
        cr_assert(n == 0 || memcmp(v, w, 8 * n) == 0, "n=%zu", n);
        free(v);
        free(w);
        free(t);
    }
}

Test(sort, spread_equals_qsort_on_uniform_and_skewed_keys)
{
    /* Uniform hashes (the linear path), keys in few buckets (the insertion
     * sort's budget runs out and qsort finishes), repeats, and sizes about
     * the switch from plain insertion. */
    static const size_t sizes[] = {0, 1, 2, 31, 32, 33, 500, 8192, 40000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        uint64_t *v = malloc(8 * (n + 1)), *w = malloc(8 * (n + 1)),
                 *t = malloc(8 * (2 * n + 1));
        cr_assert(v && w && t);
        for (unsigned kind = 0; kind < 4; kind++) {
            uint64_t st = 5 + kind;
            for (size_t i = 0; i < n; i++) {
                uint64_t z = nd__splitmix64(&st);
                v[i] = w[i] = kind == 0   ? z
                              : kind == 1 ? z & 0xffffff      /* all in bucket 0 */
                              : kind == 2 ? z % 5             /* repeats */
                                          : (i % 2 ? z : ~(uint64_t)i); /* half descending */
            }
            nd__sort_u64_spread(v, t, n);
            qsort(w, n, 8, cmp_u64);
            cr_assert(n == 0 || memcmp(v, w, 8 * n) == 0, "n=%zu kind=%u", n, kind);
        }
        free(v);
        free(w);
        free(t);
    }
}

/* Candidate-pair keys a << 32 | b with a < b < 2^bits, as LSH emits them. */
static uint64_t pair_key(uint64_t *st, unsigned bits)
{
    uint64_t a, b;
    do {
        a = nd__splitmix64(st) & ((UINT64_C(1) << bits) - 1);
        b = nd__splitmix64(st) & ((UINT64_C(1) << bits) - 1);
    } while (a == b);
    return a < b ? a << 32 | b : b << 32 | a;
}

static uint64_t large_key(unsigned kind, size_t i, size_t n, uint64_t *st)
{
    switch (kind) {
    case 0:
        return pair_key(st, 20);
    case 1:
        return pair_key(st, 24);
    case 2:
        return nd__splitmix64(st);
    case 3: /* all equal */
        return UINT64_C(0x0123456789abcdef);
    case 4: /* top bit set in every key: bit 63 is constant */
        return pair_key(st, 22) | UINT64_C(1) << 63;
    case 5: /* top bit set in half the keys: msb = 63 varies */
        return pair_key(st, 22) | (uint64_t)(i & 1) << 63;
    case 6: /* few distinct values */
        return UINT64_C(0x9e3779b97f4a7c15) * (nd__splitmix64(st) % 7);
    default: /* skewed: two thirds in one narrow range, one big bucket */
        return 3 * i < 2 * n ? UINT64_C(0x5555) << 40 | (nd__splitmix64(st) & 0xfffff)
                             : nd__splitmix64(st);
    }
}

Test(sort, radix_equals_qsort_on_large_arrays)
{
    /* Around the switch to the MSD path (2^16 keys), past one L2 bucket
     * (2^17), and large enough to split into many buckets. */
    static const size_t sizes[] = {(1u << 16) - 1, 1u << 16, (1u << 16) + 1,
                                   (1u << 17) + 3, 300000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        uint64_t *v = malloc(8 * n), *w = malloc(8 * n), *t = malloc(8 * n);
        cr_assert(v && w && t);
        for (unsigned kind = 0; kind < 8; kind++) {
            uint64_t st = 77 + kind;
            for (size_t i = 0; i < n; i++)
                v[i] = w[i] = large_key(kind, i, n, &st);
            nd__sort_u64(v, t, n);
            qsort(w, n, 8, cmp_u64);
            cr_assert(memcmp(v, w, 8 * n) == 0, "n=%zu kind=%u", n, kind);
        }
        free(v);
        free(w);
        free(t);
    }
}

Test(sort, kv_is_stable)
{
    nd__kv v[300], t[300];
    for (uint32_t i = 0; i < 300; i++) {
        v[i].key = (i * 7919u) % 5;
        v[i].doc = i;
    }
    nd__sort_kv(v, t, 300);
    for (size_t i = 1; i < 300; i++) {
        cr_assert_leq(v[i - 1].key, v[i].key);
        if (v[i - 1].key == v[i].key)
            cr_assert_lt(v[i - 1].doc, v[i].doc);
    }
}

Test(sort, top_half_is_stable)
{
    uint64_t v[1000], t[1000], st = 9;
    for (uint32_t i = 0; i < 1000; i++)
        v[i] = (nd__splitmix64(&st) % 37) << 32 | i; /* key 0..36, then order */
    nd__sort_u64_hi32(v, t, 1000);
    for (size_t i = 1; i < 1000; i++) {
        cr_assert_leq(v[i - 1] >> 32, v[i] >> 32);
        if (v[i - 1] >> 32 == v[i] >> 32)
            cr_assert_lt((uint32_t)v[i - 1], (uint32_t)v[i], "input order kept");
    }
}

Test(sort, top_half_is_stable_on_wide_keys)
{
    /* Uniform 32-bit top halves over sizes on both sides of the insertion
     * path, the low halves in no order: equal top halves keep their input
     * order, as a stable reference (by top half, then position) says. */
    static const size_t sizes[] = {2, 63, 64, 5000, 70000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        uint64_t *v = malloc(8 * n), *t = malloc(8 * n), *w = malloc(8 * n);
        cr_assert(v && t && w);
        uint64_t st = 21;
        for (size_t i = 0; i < n; i++) {
            uint64_t hi = nd__splitmix64(&st) >> 32;
            if (i % 4 == 0)
                hi &= 0xff; /* repeats of the top half */
            v[i] = hi << 32 | (nd__splitmix64(&st) & 0xffffffffu);
            w[i] = hi << 32 | i; /* the reference: by top half, then position */
        }
        uint64_t *orig = malloc(8 * n);
        cr_assert(orig);
        memcpy(orig, v, 8 * n);
        nd__sort_u64_hi32(v, t, n);
        qsort(w, n, 8, cmp_u64);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(v[i], orig[(uint32_t)w[i]], "n=%zu i=%zu", n, i);
        free(orig);
        free(v);
        free(t);
        free(w);
    }
}

/*
 * Band keys with their documents: the reference is qsort of key << 32 | i
 * over the documents not skipped.  Sizes on both sides of the small path
 * and not multiples of 8; keys uniform, with one, two or all three 11-bit
 * digits constant (so 3, 2, 1 and 0 passes, ending in out either way);
 * nothing, some, runs of more than 8, or all documents skipped.
 */
Test(sort, keys32_equals_the_reference)
{
    static const size_t sizes[] = {0, 1, 100, 4095, 4096, 5003, 70001};
    static const uint32_t masks[] = {0xffffffffu, 0xffc00000u, 0x003fffffu, 0x7ffu, 0};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
        for (size_t q = 0; q < sizeof masks / sizeof *masks; q++)
            for (int sk = 0; sk < 4; sk++) {
                const size_t n = sizes[s];
                uint32_t *keys = malloc(4 * (n + 1));
                uint8_t *skip = malloc(n + 1);
                uint64_t *out = malloc(8 * (n + 1)), *t = malloc(8 * (n + 1)),
                         *w = malloc(8 * (n + 1));
                cr_assert(keys && skip && out && t && w);
                uint64_t st = 100 * s + 10 * q + (uint64_t)sk;
                size_t m = 0;
                for (size_t i = 0; i < n; i++) {
                    keys[i] = (uint32_t)nd__splitmix64(&st) & masks[q];
                    skip[i] = sk == 1 ? i % 7 == 3 : sk == 2 ? i % 50 < 20 : sk == 3;
                    if (!sk || !skip[i])
                        w[m++] = (uint64_t)keys[i] << 32 | i;
                }
                qsort(w, m, 8, cmp_u64);
                cr_assert_eq(nd__sort_keys32(keys, sk ? skip : NULL, n, out, t), m,
                             "n=%zu mask %x skip %d", n, masks[q], sk);
                cr_assert(m == 0 || memcmp(out, w, 8 * m) == 0, "n=%zu mask %x skip %d", n,
                          masks[q], sk);
                free(keys);
                free(skip);
                free(out);
                free(t);
                free(w);
            }
}

Test(sort, unique)
{
    uint64_t v[] = {1, 1, 2, 3, 3, 3, 9};
    cr_assert_eq(nd__unique_u64(v, 7), 4);
    cr_assert_eq(v[3], 9);
    cr_assert_eq(nd__unique_u64(v, 0), 0);
}

/* ------------------------------------------------------------ minhash */

static uint64_t *keys_of(unsigned n, uint64_t seed)
{
    uint64_t *k = malloc(sizeof *k * (n ? n : 1));
    for (unsigned i = 0; i < n; i++)
        k[i] = nd__splitmix64(&seed);
    return k;
}

Test(minhash, golden_vectors)
{
    for (size_t c = 0; c < sizeof GOLDEN_MINHASH / sizeof *GOLDEN_MINHASH; c++) {
        const golden_minhash *g = &GOLDEN_MINHASH[c];
        nd__perm p;
        cr_assert_eq(nd__perm_init(&p, g->k, g->seed), ND_OK);
        uint64_t *keys = keys_of(g->nkeys, g->key_seed);
        uint32_t sig[128];
        nd__minhash(&p, keys, g->nkeys, sig);
        for (unsigned i = 0; i < g->k; i++)
            cr_assert_eq(sig[i], g->sig[i], "%s[%u]: %08x, want %08x", g->name,
                         i, sig[i], g->sig[i]);
        free(keys);
        nd__perm_free(&p);
    }
}

Test(minhash, empty_set_is_all_max)
{
    nd__perm p;
    nd__perm_init(&p, 8, 1);
    uint32_t sig[8];
    nd__minhash(&p, NULL, 0, sig);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(sig[i], UINT32_MAX);
    nd__perm_free(&p);
}

/*
 * Pairs of sets with a known exact Jaccard: A = common + a-only, B = common
 * + b-only.  The MinHash estimate has standard deviation sqrt(J(1-J)/k);
 * the mean absolute error over many pairs must stay under 3/sqrt(k).
 */
Test(minhash, estimate_within_3_over_sqrt_k)
{
    const unsigned k = 128;
    nd__perm p;
    nd__perm_init(&p, k, 5);
    uint64_t st = 11;
    double total_err = 0;
    int pairs = 0;
    KNOWN_PAIRS(common, extra) {
        known_pair kp;
        known_pair_make(&kp, common, extra, &st);
        uint32_t sa[128], sb[128];
        nd__minhash(&p, kp.a, kp.na, sa);
        nd__minhash(&p, kp.b, kp.nb, sb);
        total_err += fabs(nd_sig_jaccard(sa, sb, k) - kp.jaccard);
        pairs++;
        known_pair_free(&kp);
    }
    double mean = total_err / pairs;
    cr_assert_lt(mean, 3.0 / sqrt(k), "mean error %.4f", mean);
    /* and it is an estimator, not noise: well under the bound */
    cr_assert_lt(mean, 0.06, "mean error %.4f", mean);
    nd__perm_free(&p);
}

Test(minhash, containment_from_jaccard_and_sizes)
{
    /* A (40) inside B (100): J = 40/100, C(A in B) = 1, C(B in A) = 0.4 */
    cr_assert_float_eq(nd_containment(0.4, 40, 100), 1.0, 1e-12);
    cr_assert_float_eq(nd_containment(0.4, 100, 40), 0.4, 1e-12);
    cr_assert_float_eq(nd_containment(0.0, 10, 10), 0.0, 1e-12);
    cr_assert_float_eq(nd_containment(0.9, 0, 10), 0.0, 1e-12);
}

/* ------------------------------------------------------------ LSH */

/*
 * A generated corpus of signatures: groups of near-copies of random sets
 * with Jaccard from 0.3 to 1.0 between members.  Every pair whose estimated
 * similarity is >= threshold + 0.1 must come out of banding (>= 99%), and
 * every emitted pair must really share a band.
 */
Test(lsh, finds_pairs_above_threshold)
{
    const unsigned k = 128;
    const size_t groups = 60, per = 6, n = groups * per;
    nd__perm p;
    nd__perm_init(&p, k, 9);
    uint32_t *sigs = malloc(sizeof *sigs * k * n);
    uint64_t st = 21;
    for (size_t g = 0; g < groups; g++) {
        uint64_t base[200];
        for (int i = 0; i < 200; i++)
            base[i] = nd__splitmix64(&st);
        for (size_t m = 0; m < per; m++) {
            uint64_t set[200];
            int keep = 200 - (int)(m * 25 * (g % 4 + 1) / 4); /* vary overlap */
            for (int i = 0; i < 200; i++)
                set[i] = i < keep ? base[i] : nd__splitmix64(&st);
            nd__minhash(&p, set, 200, sigs + (g * per + m) * k);
        }
    }
    nd_params par;
    nd_params_init(&par);
    par.threshold = 0.5;
    unsigned bands, rows;
    nd_params_lsh(&par, &bands, &rows);
    uint64_t *pairs, capped;
    size_t np;
    cr_assert_eq(nd__lsh_candidates(sigs, n, k, bands, rows, 1, NULL, 2, &pairs,
                                    &np, &capped), ND_OK);
    cr_assert_eq(capped, 0);
    size_t want = 0, found = 0, j = 0;
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++) {
            double est = nd_sig_jaccard(sigs + a * k, sigs + b * k, k);
            uint64_t key = (uint64_t)a << 32 | b;
            while (j < np && pairs[j] < key)
                j++;
            int got = j < np && pairs[j] == key;
            if (est >= par.threshold + 0.1) {
                want++;
                found += got;
            }
        }
    cr_assert_gt(want, 100, "the corpus must hold matching pairs (%zu)", want);
    cr_assert_geq((double)found / want, 0.99, "found %zu of %zu", found, want);
    for (size_t i = 1; i < np; i++)
        cr_assert_lt(pairs[i - 1], pairs[i], "sorted and unique");
    for (size_t i = 0; i < np; i++) {
        uint32_t a = (uint32_t)(pairs[i] >> 32), b = (uint32_t)pairs[i];
        int share = 0;
        for (unsigned band = 0; band < bands && !share; band++)
            share = nd__band_key(sigs + (size_t)a * k, band, rows, 1) ==
                    nd__band_key(sigs + (size_t)b * k, band, rows, 1);
        cr_assert(share, "pair %u-%u shares no band", a, b);
    }
    free(pairs);
    free(sigs);
    nd__perm_free(&p);
}

Test(lsh, giant_bucket_is_capped_but_connected)
{
    const unsigned k = 4;
    const size_t n = 1000;
    uint32_t *sigs = calloc(n * k, sizeof *sigs); /* all identical */
    uint64_t *pairs, capped;
    size_t np;
    cr_assert_eq(nd__lsh_candidates(sigs, n, k, 2, 2, 1, NULL, 1, &pairs, &np,
                                    &capped), ND_OK);
    cr_assert_eq(capped, 2);
    cr_assert_lt(np, n * (n - 1) / 2);
    nd__uf u;
    nd__uf_init(&u, n);
    for (size_t i = 0; i < np; i++)
        nd__uf_union(&u, (uint32_t)(pairs[i] >> 32), (uint32_t)pairs[i]);
    for (uint32_t i = 0; i < n; i++)
        cr_assert_eq(nd__uf_find(&u, i), 0);
    nd__uf_free(&u);
    free(pairs);
    free(sigs);
}

Test(lsh, skipped_documents_take_no_part)
{
    uint32_t sigs[3 * 4] = {0};
    uint8_t skip[3] = {0, 1, 0};
    uint64_t *pairs, capped;
    size_t np;
    nd__lsh_candidates(sigs, 3, 4, 2, 2, 1, skip, 1, &pairs, &np, &capped);
    cr_assert_eq(np, 1);
    cr_assert_eq(pairs[0], (uint64_t)0 << 32 | 2);
    free(pairs);
}

/* ------------------------------------------------------------ cluster */

Test(cluster, union_find_roots_are_smallest)
{
    nd__uf u;
    nd__uf_init(&u, 6);
    cr_assert_eq(nd__uf_union(&u, 4, 5), 1);
    cr_assert_eq(nd__uf_union(&u, 5, 2), 1);
    cr_assert_eq(nd__uf_union(&u, 2, 4), 0);
    cr_assert_eq(nd__uf_find(&u, 5), 2);
    cr_assert_eq(nd__uf_find(&u, 0), 0);
    nd__uf_free(&u);
}

Test(cluster, numbering_and_keep_policies)
{
    /* sets {0, 3, 4} {1} {2, 5} */
    uint64_t len[6] = {10, 5, 7, 30, 30, 7};
    nd_doc_meta meta[6] = {{50, 1, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0},
                           {20, 1, 0, 0}, {10, 1, 0, 0}, {5, 1, 0, 0}};
    uint32_t cl[6], rep[6];
    nd__docinfo info = {len, meta};
    static const struct { nd_keep keep; uint32_t rep0, rep2; } want[] = {
        {ND_KEEP_FIRST, 0, 2},
        {ND_KEEP_LONGEST, 3, 2},   /* 3 and 4 tie at 30: the first wins */
        {ND_KEEP_EARLIEST, 4, 5},  /* unknown time sorts last */
    };
    for (size_t w = 0; w < 3; w++) {
        nd__uf u;
        nd__uf_init(&u, 6);
        nd__uf_union(&u, 3, 4);
        nd__uf_union(&u, 0, 4);
        nd__uf_union(&u, 5, 2);
        cr_assert_eq(nd__clusters(&u, want[w].keep, &info, cl, rep), 3);
        uint32_t want_cl[6] = {0, 1, 2, 0, 0, 2};
        for (int i = 0; i < 6; i++)
            cr_assert_eq(cl[i], want_cl[i]);
        cr_assert_eq(rep[0], want[w].rep0, "policy %zu", w);
        cr_assert_eq(rep[3], want[w].rep0);
        cr_assert_eq(rep[2], want[w].rep2, "policy %zu", w);
        cr_assert_eq(rep[1], 1);
        nd__uf_free(&u);
    }
}

/* ------------------------------------------------------------ matching */

#include "../src/core/params.h"

Test(params, containment_rule_and_lsh_target)
{
    nd_params p;
    nd_params_init(&p);
    cr_assert_float_eq(p.containment, 0.65, 1e-12, "on by default");
    p.containment = 0;
    p.threshold = 0.5;
    cr_assert(nd__params_match(&p, 0.5, 0.0));
    cr_assert(!nd__params_match(&p, 0.45, 0.99), "containment off");
    cr_assert_float_eq(nd__params_lsh_target(&p), 0.5, 1e-12);
    p.containment = 0.8;
    cr_assert(nd__params_match(&p, 0.45, 0.8));
    cr_assert(!nd__params_match(&p, 0.45, 0.79));
    /* half-length copy contained to 0.8: J = 0.8 / 2.2 */
    cr_assert_float_eq(nd__params_lsh_target(&p), 0.8 / 2.2, 1e-12);
    unsigned b_auto, r_auto;
    nd_params_lsh(&p, &b_auto, &r_auto);
    nd_params q = p;
    q.containment = 0;
    q.threshold = 0.8 / 2.2;
    unsigned b, r;
    nd_params_lsh(&q, &b, &r);
    cr_assert_eq(b, b_auto);
    cr_assert_eq(r, r_auto);
    p.measure = ND_MEASURE_CONTAINMENT;
    p.threshold = 0.9;
    cr_assert(nd__params_match(&p, 0.1, 0.9));
    cr_assert(!nd__params_match(&p, 1.0, 0.89));
    p.containment = 1.5;
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_ERR_PARAM);
}

Test(minhash, exact_scores_of_sets)
{
    const uint64_t a[] = {1, 3, 5, 7}, b[] = {3, 5, 7, 9, 11, 13};
    double j, c;
    nd_exact_scores(a, 4, b, 6, &j, &c);
    cr_assert_float_eq(j, 3.0 / 7.0, 1e-12); /* {3 5 7} of {1 3 5 7 9 11 13} */
    cr_assert_float_eq(c, 3.0 / 4.0, 1e-12); /* of the smaller, a */
    nd_exact_scores(a, 4, NULL, 0, &j, &c);
    cr_assert_float_eq(j, 0.0, 1e-12);
    cr_assert_float_eq(c, 0.0, 1e-12);
    nd_exact_scores(a, 4, a, 4, &j, &c);
    cr_assert_float_eq(j, 1.0, 1e-12);
    cr_assert_float_eq(c, 1.0, 1e-12);
}

Test(params, containment_layout_is_the_direct_computation_s)
{
    static const double cs[] = {0.3, 0.5, 0.65, 0.8, 0.95};
    static const unsigned ks[] = {64, 128, 256};
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
        for (size_t ci = 0; ci < sizeof cs / sizeof *cs; ci++) {
            for (unsigned rows = 2; rows <= 9; rows++) {
                nd_params p;
                nd_params_init(&p);
                p.num_perm = ks[ki];
                p.containment = cs[ci];
                double rho = 1.0 / 3.0, c = p.containment;
                double t = c * rho / (1.0 + rho - c * rho), best = INFINITY;
                unsigned r = rows - 1, wb = 0;
                for (unsigned b = 1; b <= p.num_perm / r; b++) {
                    double e = ref_error(t, b, r);
                    if (e < best - 1e-12) {
                        best = e;
                        wb = b;
                    }
                }
                unsigned cb, cr;
                nd__params_lsh_contain(&p, rows, &cb, &cr);
                cr_assert(cb == wb && cr == r, "c=%.2f k=%u rows %u: %u x %u, want %u x %u",
                          c, p.num_perm, rows, cb, cr, wb, r);
            }
        }
    }
}
