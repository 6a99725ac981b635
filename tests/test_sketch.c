/*
 * test_sketch.c - the three signature schemes on every code path this CPU
 * has: golden vectors from independent Python implementations
 * (tests/golden/gen_minhash.py, gen_sketch.py), agreement of the paths on
 * awkward sizes, accuracy of the Jaccard estimate, empty and tiny sets.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/neardup.h"
#include "../src/lsh/lsh.h"
#include "../src/sketch/sketch.h"
#include "../src/core/dfcount.h"
#include "../src/core/params.h"
#include "../src/text/text.h"
#include "golden/minhash.h"
#include "golden/sketch.h"
#include "pairs.h"

static const nd_sketch_algo ALGOS[] = {ND_SKETCH_KPERM, ND_SKETCH_OPH,
                                       ND_SKETCH_CMINHASH};
static const char *const ALGO_NAMES[] = {"kperm", "oph", "cminhash"};

static uint64_t *keys_of(size_t n, uint64_t seed)
{
    uint64_t *k = malloc(sizeof *k * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        k[i] = nd__splitmix64(&seed);
    return k;
}

static void need_path(nd__cpu cpu)
{
    if (!(nd__cpu_paths() >> cpu & 1))
        cr_skip_test("this CPU has no %s", nd__cpu_name(cpu));
}

ParameterizedTestParameters(sketch, golden_on_every_path)
{
    static nd__cpu cpus[] = {ND__CPU_SCALAR, ND__CPU_AVX2, ND__CPU_AVX512};
    return cr_make_param_array(nd__cpu, cpus, sizeof cpus / sizeof *cpus);
}

ParameterizedTest(nd__cpu *cpu, sketch, golden_on_every_path)
{
    need_path(*cpu);
    uint32_t sig[200];
    for (size_t c = 0; c < sizeof GOLDEN_MINHASH / sizeof *GOLDEN_MINHASH; c++) {
        const golden_minhash *g = &GOLDEN_MINHASH[c];
        nd__perm p;
        cr_assert_eq(nd__perm_init(&p, g->k, g->seed), ND_OK);
        uint64_t *keys = keys_of(g->nkeys, g->key_seed);
        cr_assert_eq(nd__minhash_on(&p, *cpu, keys, g->nkeys, sig), ND_OK);
        for (unsigned i = 0; i < g->k; i++)
            cr_assert_eq(sig[i], g->sig[i], "%s %s[%u]: %08x, want %08x",
                         nd__cpu_name(*cpu), g->name, i, sig[i], g->sig[i]);
        free(keys);
        nd__perm_free(&p);
    }
    for (size_t c = 0; c < sizeof GOLDEN_SKETCH / sizeof *GOLDEN_SKETCH; c++) {
        const golden_sketch *g = &GOLDEN_SKETCH[c];
        nd__perm p;
        cr_assert_eq(nd__sketch_init(&p, (nd_sketch_algo)g->algo, g->k, g->seed), ND_OK);
        uint64_t *keys = keys_of(g->nkeys, g->key_seed);
        cr_assert_eq(nd__minhash_on(&p, *cpu, keys, g->nkeys, sig), ND_OK);
        for (unsigned i = 0; i < g->k; i++)
            cr_assert_eq(sig[i], g->sig[i], "%s %s[%u]: %08x, want %08x",
                         nd__cpu_name(*cpu), g->name, i, sig[i], g->sig[i]);
        free(keys);
        nd__perm_free(&p);
    }
}

/* Every k from 1 to 72 and set sizes around the kernels' chunk of 512 and
   OPH's block of 256. */
Test(sketch, paths_agree_on_every_k)
{
    static const size_t sizes[] = {0, 1, 2, 7, 33, 255, 256, 257, 511, 512, 513, 1025};
    uint32_t want[73], got[73];
    for (size_t a = 0; a < 3; a++)
        for (unsigned k = 1; k <= 72; k++) {
            nd__perm p;
            cr_assert_eq(nd__sketch_init(&p, ALGOS[a], k, k * 7u), ND_OK);
            for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
                uint64_t *keys = keys_of(sizes[s], k + s);
                cr_assert_eq(nd__minhash_on(&p, ND__CPU_SCALAR, keys, sizes[s], want), ND_OK);
                for (int cpu = 1; cpu < ND__CPU_COUNT; cpu++) {
                    if (!(nd__cpu_paths() >> cpu & 1))
                        continue;
                    memset(got, 0x5a, sizeof got);
                    cr_assert_eq(nd__minhash_on(&p, (nd__cpu)cpu, keys, sizes[s], got), ND_OK);
                    cr_assert_arr_eq(got, want, k * sizeof *got, "%s %s k=%u n=%zu",
                                     ALGO_NAMES[a], nd__cpu_name((nd__cpu)cpu), k, sizes[s]);
                    cr_assert_eq(got[k], 0x5a5a5a5au, "wrote past sig[k)");
                }
                nd__minhash(&p, keys, sizes[s], got);
                cr_assert_arr_eq(got, want, k * sizeof *got, "default path");
                free(keys);
            }
            nd__perm_free(&p);
        }
}

/*
 * OPH's densification on every path, for k up to and past 512 (the
 * AVX-512 one's bitmap of full bins) and sets from one key (a bin found
 * only past the attempted probes, by the scan) to a few per bin.
 */
Test(sketch, oph_densification_agrees_on_large_k)
{
    static const unsigned ks[] = {64, 128, 200, 511, 512, 513, 1000, 4096};
    static const size_t sizes[] = {1, 2, 3, 10, 60, 300, 2000};
    uint32_t *want = malloc(4097 * sizeof *want), *got = malloc(4097 * sizeof *got);
    cr_assert(want && got);
    for (size_t a = 0; a < sizeof ks / sizeof *ks; a++) {
        const unsigned k = ks[a];
        nd__perm p;
        cr_assert_eq(nd__sketch_init(&p, ND_SKETCH_OPH, k, 11u * k), ND_OK);
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            uint64_t *keys = keys_of(sizes[s], k ^ (unsigned)s);
            cr_assert_eq(nd__minhash_on(&p, ND__CPU_SCALAR, keys, sizes[s], want), ND_OK);
            unsigned copied = 0;
            for (unsigned i = 0; i < k; i++)
                copied += (want[i] & ND__SIG_COPIED) != 0;
            if (sizes[s] < k / 2)
                cr_assert_gt(copied, 0, "k=%u n=%zu: empty bins filled", k, sizes[s]);
            for (int cpu = 1; cpu < ND__CPU_COUNT; cpu++) {
                if (!(nd__cpu_paths() >> cpu & 1))
                    continue;
                memset(got, 0x5a, 4097 * sizeof *got);
                cr_assert_eq(nd__minhash_on(&p, (nd__cpu)cpu, keys, sizes[s], got), ND_OK);
                cr_assert_arr_eq(got, want, k * sizeof *got, "%s k=%u n=%zu",
                                 nd__cpu_name((nd__cpu)cpu), k, sizes[s]);
                cr_assert_eq(got[k], 0x5a5a5a5au, "wrote past sig[k)");
            }
            free(keys);
        }
        nd__perm_free(&p);
    }
    free(want);
    free(got);
}

Test(sketch, bad_path_and_bad_scheme_are_refused)
{
    nd__perm p;
    cr_assert_eq(nd__sketch_init(&p, (nd_sketch_algo)3, 8, 1), ND_ERR_PARAM);
    cr_assert_eq(nd__sketch_init(&p, ND_SKETCH_OPH, 0, 1), ND_ERR_PARAM);
    cr_assert_eq(nd__sketch_init(&p, ND_SKETCH_OPH, 4097, 1), ND_ERR_PARAM);
    cr_assert_eq(nd__sketch_init(&p, ND_SKETCH_OPH, 8, 1), ND_OK);
    uint32_t sig[8] = {0};
    uint64_t key = 1;
    cr_assert_eq(nd__minhash_on(&p, ND__CPU_COUNT, &key, 1, sig), ND_ERR_PARAM);
    cr_assert_eq(sig[0], 0, "untouched");
    cr_assert(nd__cpu_paths() & 1u << ND__CPU_SCALAR);
    nd__perm_free(&p);
}

Test(sketch, params_default_and_range)
{
    nd_params p;
    nd_params_init(&p);
    cr_assert_eq(p.sketch, ND_SKETCH_OPH);
    p.sketch = ND_SKETCH_CMINHASH;
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_OK);
    p.sketch = (nd_sketch_algo)3;
    char msg[64];
    cr_assert_eq(nd_params_check(&p, msg, sizeof msg), ND_ERR_PARAM);
    cr_assert(strstr(msg, "sketch"), "%s", msg);
}

Test(sketch, empty_set_is_all_max)
{
    for (size_t a = 0; a < 3; a++) {
        nd__perm p;
        nd__sketch_init(&p, ALGOS[a], 40, 1);
        for (int cpu = 0; cpu < ND__CPU_COUNT; cpu++) {
            uint32_t sig[40];
            if (nd__minhash_on(&p, (nd__cpu)cpu, NULL, 0, sig) != ND_OK)
                continue;
            for (int i = 0; i < 40; i++)
                cr_assert_eq(sig[i], UINT32_MAX, "%s", ALGO_NAMES[a]);
        }
        nd__perm_free(&p);
    }
}

/*
 * Sets far smaller than k leave most OPH bins empty; densification must
 * still make equal sets agree everywhere, disjoint sets (almost) nowhere,
 * and a set that shares 1 of 2 keys agree about half the time.
 */
Test(sketch, oph_small_sets)
{
    const unsigned k = 128;
    nd__perm p;
    nd__sketch_init(&p, ND_SKETCH_OPH, k, 3);
    uint32_t sa[128], sb[128];
    for (size_t n = 1; n <= 20; n++) {
        uint64_t *a = keys_of(n, 100 + n), *b = keys_of(n, 100 + n);
        nd__minhash(&p, a, n, sa);
        nd__minhash(&p, b, n, sb);
        cr_assert_eq(nd_sig_jaccard(sa, sb, k), 1.0, "n=%zu", n);
        free(b);
        b = keys_of(n, 900 + n);
        nd__minhash(&p, b, n, sb);
        cr_assert_lt(nd_sig_jaccard(sa, sb, k), 0.05, "disjoint n=%zu", n);
        free(a);
        free(b);
    }
    /* {x, y} against {x, z}: J = 1/3 */
    double sum = 0;
    for (uint64_t t = 0; t < 200; t++) {
        uint64_t st = t * 3 + 1, a[2], b[2];
        a[0] = b[0] = nd__splitmix64(&st);
        a[1] = nd__splitmix64(&st);
        b[1] = nd__splitmix64(&st);
        nd__minhash(&p, a, 2, sa);
        nd__minhash(&p, b, 2, sb);
        sum += nd_sig_jaccard(sa, sb, k);
    }
    cr_assert_float_eq(sum / 200, 1.0 / 3, 0.05, "mean %.4f", sum / 200);
    nd__perm_free(&p);
}

/*
 * Pairs with a known exact Jaccard: A = common + a-only, B = common + b-only,
 * sets of 10 to 450 keys, several permutation seeds.  Each scheme estimates
 * J with standard deviation about sqrt(J (1 - J) / k): the mean absolute
 * error must stay under 3 / sqrt(k) (and in fact near 0.8 of one standard
 * deviation), the mean signed error (bias) near 0.
 */
typedef struct { double mae, bias; } accuracy;

static accuracy measure(nd_sketch_algo algo, unsigned k)
{
    uint64_t st = 11;
    double abs_err = 0, err = 0;
    int pairs = 0;
    uint32_t *sa = malloc(sizeof *sa * k), *sb = malloc(sizeof *sb * k);
    for (uint64_t seed = 1; seed <= 4; seed++) {
        nd__perm p;
        nd__sketch_init(&p, algo, k, seed);
        KNOWN_PAIRS(common, extra) {
            known_pair kp;
            known_pair_make(&kp, common, extra, &st);
            nd__minhash(&p, kp.a, kp.na, sa);
            nd__minhash(&p, kp.b, kp.nb, sb);
            double d = nd_sig_jaccard(sa, sb, k) - kp.jaccard;
            abs_err += fabs(d);
            err += d;
            pairs++;
            known_pair_free(&kp);
        }
        nd__perm_free(&p);
    }
    free(sa);
    free(sb);
    return (accuracy){abs_err / pairs, err / pairs};
}

ParameterizedTestParameters(sketch, estimate_within_3_over_sqrt_k)
{
    static nd_sketch_algo algos[] = {ND_SKETCH_KPERM, ND_SKETCH_OPH,
                                     ND_SKETCH_CMINHASH};
    return cr_make_param_array(nd_sketch_algo, algos, sizeof algos / sizeof *algos);
}

ParameterizedTest(nd_sketch_algo *algo, sketch, estimate_within_3_over_sqrt_k)
{
    static const unsigned ks[] = {64, 128, 256};
    for (size_t i = 0; i < sizeof ks / sizeof *ks; i++) {
        accuracy a = measure(*algo, ks[i]);
        cr_log_info("%s k=%u: mean abs error %.4f, bias %+.4f", ALGO_NAMES[*algo],
                    ks[i], a.mae, a.bias);
        cr_assert_lt(a.mae, 3.0 / sqrt(ks[i]), "%s k=%u mae %.4f", ALGO_NAMES[*algo],
                     ks[i], a.mae);
        cr_assert_lt(a.mae, 0.8 / sqrt(ks[i]), "%s k=%u mae %.4f", ALGO_NAMES[*algo],
                     ks[i], a.mae);
        cr_assert_lt(fabs(a.bias), 0.25 / sqrt(ks[i]), "%s k=%u bias %+.4f",
                     ALGO_NAMES[*algo], ks[i], a.bias);
    }
}

/*
 * Short texts: 32 keys each, 15 shared (J = 15/49), k = 128, so most OPH
 * bins are empty.  The estimate leaves out the bins copied in both and must
 * beat k permutations, whose standard deviation is sqrt(J (1 - J) / k) =
 * 0.041: measured 0.030 (16 and 32 bits alike).  Before, densified equal/k
 * with a linear probe hash measured 0.063 (0.09 on texts for seed 2);
 * densified equal/k with the mixing probe about 0.045.  Seeds 1..4, 250
 * pairs each.
 */
Test(sketch, oph_short_sets_beat_k_permutations)
{
    const unsigned k = 128;
    const double J = 15.0 / 49;
    double se = 0, se16 = 0, bias = 0;
    int pairs = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        nd__perm p;
        cr_assert_eq(nd__sketch_init(&p, ND_SKETCH_OPH, k, seed), ND_OK);
        uint64_t st = seed * 1000003;
        for (int t = 0; t < 250; t++) {
            uint64_t a[32], b[32];
            uint32_t sa[128], sb[128];
            uint16_t ha[128], hb[128];
            for (int i = 0; i < 15; i++)
                a[i] = b[i] = nd__splitmix64(&st);
            for (int i = 15; i < 32; i++) {
                a[i] = nd__splitmix64(&st);
                b[i] = nd__splitmix64(&st);
            }
            nd__minhash(&p, a, 32, sa);
            nd__minhash(&p, b, 32, sb);
            /* a copied bin is flagged, a filled one not: 32 keys fill at
               most 32 bins */
            unsigned own = 0;
            for (unsigned i = 0; i < k; i++)
                own += !(sa[i] & ND__SIG_COPIED);
            cr_assert(own >= 20 && own <= 32, "%u filled bins", own);
            nd__sig16_from32(sa, k, ha);
            nd__sig16_from32(sb, k, hb);
            double d = nd_sig_jaccard(sa, sb, k) - J;
            double d16 = nd__sig16_jaccard(ha, hb, k) - J;
            se += d * d;
            se16 += d16 * d16;
            bias += d;
            pairs++;
        }
        nd__perm_free(&p);
    }
    double rmse = sqrt(se / pairs), rmse16 = sqrt(se16 / pairs);
    cr_log_info("oph, 32 keys, J %.3f: rms error %.4f (16 bits %.4f), bias %+.4f",
                J, rmse, rmse16, bias / pairs);
    cr_assert_lt(rmse, 0.036, "rms error %.4f", rmse);
    cr_assert_lt(rmse16, 0.036, "16-bit rms error %.4f", rmse16);
    cr_assert_lt(fabs(bias / pairs), 0.004, "bias %+.4f", bias / pairs);
}

/* k permutations and C-MinHash never flag a value as copied. */
Test(sketch, only_oph_flags_copies)
{
    uint64_t *keys = keys_of(5, 77);
    uint32_t sig[64];
    for (size_t a = 0; a < 3; a++) {
        nd__perm p;
        nd__sketch_init(&p, ALGOS[a], 64, 9);
        nd__minhash(&p, keys, 5, sig);
        unsigned flagged = 0;
        for (unsigned i = 0; i < 64; i++)
            flagged += (sig[i] & ND__SIG_COPIED) != 0;
        if (ALGOS[a] == ND_SKETCH_OPH)
            cr_assert_geq(flagged, 59, "oph: %u of 64 flagged for 5 keys", flagged);
        else
            cr_assert_eq(flagged, 0, "%s: %u flagged", ALGO_NAMES[a], flagged);
        nd__perm_free(&p);
    }
    free(keys);
}

/*
 * The size before the filter as the sketcher promises it (sketch.h): n, the
 * set's true size, when below the stub bound, else at least the bound, so
 * the stub rule decides as on n.
 */
static void raw_size_is(const nd_sketcher *s, uint64_t n)
{
    nd_params p;
    nd_params_init(&p);
    const uint64_t stub = nd__params_stub_shingles(&p), raw = nd__sketcher_raw_size(s);
    if (n < stub)
        cr_assert_eq(raw, n);
    else
        cr_assert_geq(raw, stub, "%llu shingles", (unsigned long long)n);
}

/*
 * The boilerplate filter drops exactly the shingles whose counter is above
 * the cut-off, whatever the sketcher reads the counters through, and a new
 * cut-off takes effect at the next text.
 */
Test(sketch, filter_drops_the_shingles_above_the_cutoff)
{
    nd_params p;
    nd_params_init(&p);
    nd_sketcher *raw, *s, *ex;
    cr_assert_eq(nd_sketcher_create(&p, &raw), ND_OK);
    cr_assert_eq(nd_sketcher_create(&p, &s), ND_OK);
    p.exact = 1;
    cr_assert_eq(nd_sketcher_create(&p, &ex), ND_OK);
    nd__df df;
    cr_assert_eq(nd__df_init(&df, 20), ND_OK);
    enum { N = 60 };
    char text[N][400];
    uint64_t r = 99;
    for (int d = 0; d < N; d++) {
        int len = snprintf(text[d], sizeof text[d], "Story %d of the day.", d);
        for (int w = 0; w < 25; w++)
            len += snprintf(text[d] + len, sizeof text[d] - (size_t)len, " w%llu",
                            (unsigned long long)(nd__splitmix64(&r) % 5000));
        /* a footer on two of every three */
        if (d % 3)
            snprintf(text[d] + len, sizeof text[d] - (size_t)len,
                     " Share this story on social media. Copyright 2026.");
        const uint64_t *set;
        size_t n;
        cr_assert_eq(nd__sketcher_bag(raw, text[d], strlen(text[d]), &set, &n), ND_OK);
        nd__df_add(&df, set, n);
    }
    uint32_t sig[128];
    const uint32_t cutoffs[] = {10, 1000, 30};
    for (size_t c = 0; c < 3; c++) {
        nd__sketcher_filter(s, &df, cutoffs[c]);
        nd__sketcher_filter(ex, &df, cutoffs[c]);
        size_t dropped_texts = 0;
        for (int d = 0; d < N; d++) {
            const uint64_t *set;
            size_t n, want = 0;
            cr_assert_eq(nd__sketcher_bag(raw, text[d], strlen(text[d]), &set, &n), ND_OK);
            for (size_t i = 0; i < n; i++)
                want += nd__df_get(&df, set[i]) <= cutoffs[c];
            uint64_t size;
            cr_assert_eq(nd_sketcher_sketch(s, text[d], strlen(text[d]), sig, &size), ND_OK);
            cr_assert_eq(size, want, "cut-off %u, text %d", cutoffs[c], d);
            raw_size_is(s, n);
            /* the set made and sorted (exact) gives the same values */
            uint32_t sig2[128];
            uint64_t size2;
            cr_assert_eq(nd_sketcher_sketch(ex, text[d], strlen(text[d]), sig2, &size2), ND_OK);
            cr_assert_eq(size2, size);
            raw_size_is(ex, n);
            cr_assert_eq(memcmp(sig, sig2, sizeof sig), 0, "cut-off %u, text %d", cutoffs[c], d);
            dropped_texts += want < n;
        }
        cr_assert_eq(dropped_texts, cutoffs[c] < N ? N : 0, "cut-off %u",
                     cutoffs[c]);
        nd_text_stats st, st2;
        nd_sketcher_stats(s, &st);
        nd_sketcher_stats(ex, &st2);
        cr_assert_eq(st.suppressed, st2.suppressed);
        cr_assert_eq(st.suppressed_docs, st2.suppressed_docs);
        cr_assert_eq(st.empty, st2.empty);
    }
    nd__df_free(&df);
    nd_sketcher_free(raw);
    nd_sketcher_free(s);
    nd_sketcher_free(ex);
}

/*
 * The filter runs on the stream of shingles before their repeats are
 * dropped: the same signature, set size and stub decision as the set made
 * first and filtered after, on pages of heavy boilerplate (a long footer
 * most pages share, and its lines repeated), on pages with none, and on
 * short texts whose kept set is under the stub bound while the whole is
 * over it, or both under.  The dropped occurrences are counted.
 */
Test(sketch, filter_on_the_stream_equals_filter_on_the_set)
{
    nd_params p;
    nd_params_init(&p);
    const uint64_t stub = nd__params_stub_shingles(&p);
    nd_sketcher *s, *ref;
    cr_assert_eq(nd_sketcher_create(&p, &s), ND_OK);
    cr_assert_eq(nd_sketcher_create(&p, &ref), ND_OK);
    nd__perm perm;
    cr_assert_eq(nd__sketch_init(&perm, p.sketch, p.num_perm, p.seed), ND_OK);
    nd__df df;
    cr_assert_eq(nd__df_init(&df, 20), ND_OK);
    enum { N = 120, CUTOFF = 20 };
    static char text[N][8192];
    static const char footer[] =
        " Subscribe to our newsletter for the latest headlines. Follow us on"
        " social media. Terms of use, privacy policy and cookie settings."
        " Copyright 2026 The Daily Courier, all rights reserved.";
    uint64_t r = 7;
    for (int d = 0; d < N; d++) {
        /* d % 4: 0 a long page with the footer thrice, 1 a long page with
           none, 2 a short page with the footer, 3 a short page alone */
        const int kind = d % 4, words = kind < 2 ? 300 : 2 + d % 40;
        int len = snprintf(text[d], sizeof text[d], "Item %d.", d);
        if (kind == 0 || kind == 2)
            len += snprintf(text[d] + len, sizeof text[d] - (size_t)len, "%s", footer);
        for (int w = 0; w < words; w++)
            len += snprintf(text[d] + len, sizeof text[d] - (size_t)len, " %s%llu",
                            w % 7 ? "word" : "the",
                            (unsigned long long)(nd__splitmix64(&r) % 100000));
        if (kind == 0)
            len += snprintf(text[d] + len, sizeof text[d] - (size_t)len, "%s%s",
                            footer, footer);
        cr_assert_lt((size_t)len, sizeof text[d] - 1);
        const uint64_t *set;
        size_t n;
        cr_assert_eq(nd__sketcher_bag(ref, text[d], strlen(text[d]), &set, &n), ND_OK);
        nd__df_add(&df, set, n);
    }
    nd__sketcher_filter(s, &df, CUTOFF);
    /* the footer's shingles, all frequent (more than half the pages) */
    const uint64_t *fset;
    size_t footer_kept;
    cr_assert_eq(nd__sketcher_bag(ref, footer, strlen(footer), &fset, &footer_kept), ND_OK);
    cr_assert_gt(footer_kept, 40);
    for (size_t i = 0; i < footer_kept; i++)
        cr_assert_gt(nd__df_get(&df, fset[i]), CUTOFF);
    nd__textbuf tb = {0};
    uint64_t *kept = malloc(sizeof *kept * 8192);
    cr_assert_not_null(kept);
    unsigned cases[4][2] = {{0}}; /* [kind][kept set under the stub bound] */
    unsigned under_over = 0;      /* kept under the bound, all of it over */
    uint64_t dropped = 0;
    size_t dropped_docs = 0;
    for (int d = 0; d < N; d++) {
        /* the reference: the whole set, filtered, then sketched */
        const uint64_t *set;
        size_t n, m = 0;
        cr_assert_eq(nd__sketcher_bag(ref, text[d], strlen(text[d]), &set, &n), ND_OK);
        for (size_t i = 0; i < n; i++)
            if (nd__df_get(&df, set[i]) <= CUTOFF)
                kept[m++] = set[i];
        uint32_t want[128], sig[128];
        cr_assert_eq(p.num_perm, 128u);
        nd__minhash(&perm, kept, m, want);
        /* the occurrences of the dropped shingles, counted on the stream */
        nd_text_stats st;
        nd_sketcher_stats(s, &st);
        uint64_t size;
        cr_assert_eq(nd_sketcher_sketch(s, text[d], strlen(text[d]), sig, &size), ND_OK);
        cr_assert_eq(size, m, "text %d", d);
        cr_assert_eq(memcmp(sig, want, sizeof sig), 0, "text %d", d);
        const uint64_t raw = nd__sketcher_raw_size(s);
        cr_assert_eq(raw < stub, n < stub, "text %d: %llu before the filter, told %llu", d,
                     (unsigned long long)n, (unsigned long long)raw);
        if (n < stub)
            cr_assert_eq(raw, n, "text %d", d);
        nd_text_stats st2;
        nd_sketcher_stats(s, &st2);
        /* the occurrences of the frequent shingles in the text's stream */
        size_t c;
        cr_assert_eq(nd__shingle_stream(&tb, text[d], strlen(text[d]), p.norm, NULL,
                                        p.shingle, p.ngram, p.seed, &c), ND_OK);
        uint64_t occ = 0;
        for (size_t i = 0; i < c; i++)
            occ += nd__df_get(&df, tb.hashes[i]) > CUTOFF;
        cr_assert_eq(st2.suppressed - st.suppressed, occ, "text %d", d);
        /* the stream's distinct count, whole and up to the bound */
        size_t all, upto;
        memcpy(kept, tb.hashes, c * sizeof *kept);
        cr_assert_eq(nd__shingle_distinct(&tb, kept, c, SIZE_MAX, &all), ND_OK);
        cr_assert_eq(all, n, "text %d", d);
        cr_assert_eq(nd__shingle_distinct(&tb, tb.hashes, c, stub, &upto), ND_OK);
        cr_assert_eq(upto, n < stub ? n : stub, "text %d", d);
        cr_assert_geq(occ, n - m, "text %d", d);
        cr_assert_eq(st2.suppressed_docs - st.suppressed_docs, m < n, "text %d", d);
        if (d % 4 == 0) /* the footer, thrice: its shingles are dropped thrice */
            cr_assert_geq(st2.suppressed - st.suppressed, n - m + 2 * footer_kept, "text %d", d);
        dropped += st2.suppressed - st.suppressed;
        dropped_docs += m < n;
        cases[d % 4][m < stub]++;
        under_over += m < stub && n >= stub;
    }
    /* every kind of text met, and the cases the raw count is needed for */
    cr_assert_eq(cases[0][0], N / 4, "long pages keep more than the bound");
    cr_assert_eq(cases[1][0], N / 4);
    cr_assert_gt(cases[2][1], 0);
    cr_assert_gt(cases[3][1], 0);
    cr_assert_gt(cases[3][0], 0);
    cr_assert_gt(under_over, 0);
    cr_assert_geq(dropped_docs, N / 2, "the pages with the footer at least");
    nd_text_stats st;
    nd_sketcher_stats(s, &st);
    cr_assert_eq(st.suppressed, dropped);
    cr_assert_eq(st.suppressed_docs, dropped_docs);
    free(kept);
    nd__textbuf_free(&tb);
    nd__df_free(&df);
    nd__perm_free(&perm);
    nd_sketcher_free(s);
    nd_sketcher_free(ref);
}
