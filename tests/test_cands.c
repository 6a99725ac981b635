/*
 * test_cands.c - candidate pairs against a brute-force reference.
 *
 * The reference groups the documents of each band by key with qsort, pairs
 * each run by the cap rules (a window of ND_BUCKET_CAP in a main band's
 * long run, nothing in a containment band's, only uneven pairs in a
 * containment band), and sorts and dedupes the union of all bands.  The
 * candidates must be exactly that set, with the same count of capped
 * buckets, for 1 to 3 threads, in memory and spilled: whatever band a pair
 * comes out of first, and however the rule that keeps its repeats out
 * decides, no pair may be lost or added.  The signatures hold families of
 * near copies, families too large for a bucket (so that two members may
 * share a band whose run does not pair them), skipped documents, and
 * sizes that make some pairs uneven.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../src/lsh/lsh.h"
#include "../src/neardup.h"
#include "../src/sketch/sketch.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    uint64_t *v;
    size_t n, cap;
} list;

static void put(list *l, uint64_t x)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 1024;
        l->v = realloc(l->v, sizeof *l->v * l->cap);
        cr_assert_not_null(l->v);
    }
    l->v[l->n++] = x;
}

/* The 32-bit key of a band: two 16-bit rows as they stand, else the top
   of the band's hash (candidates.c). */
static uint32_t ref_key(const uint16_t *sig, unsigned band, unsigned rows,
                        uint64_t seed)
{
    if (rows == 2)
        return (uint32_t)sig[2 * band] << 16 | sig[2 * band + 1];
    return (uint32_t)(nd__band_key16(sig, band, rows, seed) >> 32);
}

/* Every pair of one band into out; *capped counts the runs over the cap. */
static void ref_band(const uint16_t *sigs, size_t n, unsigned k, unsigned band,
                     unsigned rows, uint64_t seed, const uint8_t *skip,
                     const uint32_t *sizes, list *out, uint64_t *capped)
{
    uint64_t *kv = malloc(sizeof *kv * (n ? n : 1));
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!skip || !skip[i])
            kv[m++] = (uint64_t)ref_key(sigs + i * k, band, rows, seed) << 32 | i;
    qsort(kv, m, sizeof *kv, cmp_u64); /* by key, then document */
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && kv[j] >> 32 == kv[i] >> 32)
            j++;
        size_t len = j - i;
        if (len > ND_BUCKET_CAP)
            (*capped)++;
        if (sizes && len <= ND_BUCKET_CAP) {
            for (size_t x = i; x < j; x++)
                for (size_t y = x + 1; y < j; y++) {
                    uint32_t a = (uint32_t)kv[x], b = (uint32_t)kv[y];
                    uint64_t sa = sizes[a], sb = sizes[b];
                    if (sa >= 2 * sb || sb >= 2 * sa)
                        put(out, (uint64_t)a << 32 | b);
                }
        } else if (!sizes) {
            for (size_t x = i; x < j; x++)
                for (size_t y = x + 1; y < j && y - x <= ND_BUCKET_CAP; y++)
                    put(out, (kv[x] & 0xffffffffu) << 32 | (kv[y] & 0xffffffffu));
        }
        i = j;
    }
    free(kv);
}

static const uint64_t SEED = 77;

/* The reference: the sorted, distinct pairs of all bands. */
static list reference(const uint16_t *sigs, size_t n, unsigned k, unsigned bands,
                      unsigned rows, const nd__lsh_contain *cb, const uint8_t *skip,
                      uint64_t *capped)
{
    list l = {0};
    *capped = 0;
    for (unsigned b = 0; b < bands; b++)
        ref_band(sigs, n, k, b, rows, SEED, skip, NULL, &l, capped);
    for (unsigned b = 0; cb && b < cb->bands; b++)
        ref_band(sigs, n, k, b, cb->rows, 0, skip, cb->sizes, &l, capped);
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, cmp_u64);
    size_t w = 0;
    for (size_t i = 0; i < l.n; i++)
        if (!w || l.v[i] != l.v[w - 1])
            l.v[w++] = l.v[i];
    l.n = w;
    return l;
}

/* The stream of nd__lsh_cands16 must be the reference, for 1 to 3 threads,
   in memory, under a limit that spills and under one the band keys fit
   in, with the keys taken first (nd__lsh_key_arrays 1, and by default
   where they fit) or band by band from the signatures (0). */
static size_t check(const uint16_t *sigs, size_t n, unsigned k, unsigned bands,
                    unsigned rows, const nd__lsh_contain *cb, const uint8_t *skip,
                    uint64_t *capped_out)
{
    uint64_t want_capped;
    list want = reference(sigs, n, k, bands, rows, cb, skip, &want_capped);
    const uint64_t roomy = (uint64_t)64 * (bands + (cb ? cb->bands : 0)) * (n + 1);
    for (int keys = -1; keys <= 1; keys++) {
        for (unsigned threads = 1; threads <= 3; threads++)
            for (int limited = 0; limited < 3; limited++) {
                nd__cands *c;
                uint64_t capped;
                char err[300];
                nd__lsh_key_arrays = keys;
                cr_assert_eq(nd__lsh_cands16(sigs, n, k, bands, rows, cb, SEED, skip,
                                             threads, limited == 2 ? roomy : (uint64_t)limited,
                                             NULL, &c, &capped, err, sizeof err),
                             ND_OK, "%s", err);
                nd__lsh_key_arrays = -1;
                size_t at = 0, m;
                const uint64_t *blk;
                do {
                    cr_assert_eq(nd__cands_next(c, &blk, &m, err, sizeof err), ND_OK);
                    cr_assert_leq(at + m, want.n, "more pairs than the reference's %zu",
                                  want.n);
                    for (size_t i = 0; i < m; i++)
                        cr_assert_eq(blk[i], want.v[at + i],
                                     "pair %zu: %u-%u, the reference %u-%u (threads %u, limit %d, keys %d)",
                                     at + i, (unsigned)(blk[i] >> 32), (unsigned)blk[i],
                                     (unsigned)(want.v[at + i] >> 32),
                                     (unsigned)want.v[at + i], threads, limited, keys);
                    at += m;
                } while (m);
                cr_assert_eq(at, want.n, "%zu pairs, the reference %zu (threads %u, limit %d, keys %d)",
                             at, want.n, threads, limited, keys);
                cr_assert_eq(capped, want_capped);
                nd__cands_free(c);
            }
    }
    free(want.v);
    if (capped_out)
        *capped_out = want_capped;
    return want.n;
}

/*
 * n signatures of k values in families of near copies: each member copies
 * its family's base and redraws each value with probability change/64, so
 * members share some bands and not others.  The values are drawn from a
 * small range, so unrelated documents collide in a band now and then.
 */
static uint16_t *families(size_t n, unsigned k, uint64_t seed, size_t big)
{
    uint16_t *sigs = malloc(sizeof *sigs * (n ? n : 1) * k);
    uint16_t base[256];
    uint64_t st = seed;
    size_t left = 0;
    unsigned change = 0;
    for (size_t d = 0; d < n; d++) {
        if (!left) {
            /* a big family is of close copies, so its runs stay long */
            int is_big = nd__splitmix64(&st) % 8 == 0;
            left = is_big ? big : 1 + nd__splitmix64(&st) % 6;
            change = (unsigned)(nd__splitmix64(&st) % (is_big ? 6 : 40));
            for (unsigned i = 0; i < k; i++)
                base[i] = (uint16_t)(nd__splitmix64(&st) % 24);
        }
        left--;
        for (unsigned i = 0; i < k; i++)
            sigs[d * k + i] = nd__splitmix64(&st) % 64 < change
                                  ? (uint16_t)(nd__splitmix64(&st) % 24)
                                  : base[i];
    }
    return sigs;
}

Test(cands, random_families_equal_the_reference)
{
    const unsigned k = 36;
    const size_t n = 1500;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        uint16_t *sigs = families(n, k, seed, 300);
        uint32_t *sizes = malloc(sizeof *sizes * n);
        uint8_t *skip = calloc(n, 1);
        uint64_t st = seed * 1000;
        for (size_t i = 0; i < n; i++) {
            sizes[i] = 10 + (uint32_t)(nd__splitmix64(&st) % 200);
            skip[i] = nd__splitmix64(&st) % 50 == 0;
        }
        nd__lsh_contain cb = {6, 2, sizes};
        uint64_t capped;
        /* hashed main bands, raw containment bands */
        cr_assert_gt(check(sigs, n, k, 8, 3, &cb, skip, &capped), 20000);
        cr_assert_gt(capped, 4, "runs over the cap: %llu", (unsigned long long)capped);
        cr_assert_gt(check(sigs, n, k, 12, 3, NULL, NULL, NULL), 20000);
        cr_assert_gt(check(sigs, n, k, 18, 2, &cb, NULL, NULL), 20000); /* raw main */
        free(sigs);
        free(sizes);
        free(skip);
    }
}

/*
 * 400 documents identical in band 0 (a run over the cap) whose other
 * bands pair only a few far-apart ones: those pairs come out of later
 * bands, although band 0 holds both documents.
 */
Test(cands, a_pair_band_zero_does_not_reach_comes_out_later)
{
    const unsigned k = 12, bands = 4, rows = 3;
    const size_t n = 400;
    uint16_t *sigs = malloc(sizeof *sigs * n * k);
    for (size_t d = 0; d < n; d++)
        for (unsigned i = 0; i < k; i++)
            sigs[d * k + i] = i < rows ? 7 : (uint16_t)(1000 + d * k + i);
    /* 0 and 399 share band 2, 5 and 300 band 1 and band 3, 10 and 11 band
       3 (already paired by band 0's window). */
    memcpy(sigs + 399 * k + 6, sigs + 0 * k + 6, 3 * sizeof *sigs);
    memcpy(sigs + 300 * k + 3, sigs + 5 * k + 3, 3 * sizeof *sigs);
    memcpy(sigs + 300 * k + 9, sigs + 5 * k + 9, 3 * sizeof *sigs);
    memcpy(sigs + 11 * k + 9, sigs + 10 * k + 9, 3 * sizeof *sigs);
    check(sigs, n, k, bands, rows, NULL, NULL, NULL);
    uint64_t capped;
    list want = reference(sigs, n, k, bands, rows, NULL, NULL, &capped);
    cr_assert_eq(capped, 1);
    uint64_t far[] = {(uint64_t)0 << 32 | 399, (uint64_t)5 << 32 | 300};
    for (int i = 0; i < 2; i++)
        cr_assert_not_null(bsearch(&far[i], want.v, want.n, sizeof *want.v, cmp_u64));
    free(want.v);
    free(sigs);
}

/* Containment bands over the cap pair nothing; under it, only the uneven
   pairs, even of documents a main band already holds together. */
Test(cands, containment_runs_over_and_under_the_cap)
{
    const unsigned k = 8;
    const size_t n = 600;
    uint16_t *sigs = malloc(sizeof *sigs * n * k);
    uint32_t *sizes = malloc(sizeof *sizes * n);
    for (size_t d = 0; d < n; d++) {
        for (unsigned i = 0; i < k; i++)
            sigs[d * k + i] = (uint16_t)(d * k + i + 1);
        sizes[d] = (uint32_t)(d % 7 + 1) * 10;
    }
    /* 200 documents share containment band 0 (over the cap); groups of 5
       share containment band 1, and groups of 3 share main band 1 too. */
    for (size_t d = 0; d < 200; d++)
        sigs[d * k + 0] = sigs[d * k + 1] = 9;
    for (size_t d = 200; d < n; d++) {
        size_t g = (d - 200) / 5 * 5 + 200;
        memcpy(sigs + d * k + 2, sigs + g * k + 2, 2 * sizeof *sigs);
        if ((d - 200) % 5 < 3)
            memcpy(sigs + d * k + 4, sigs + g * k + 4, 4 * sizeof *sigs);
    }
    nd__lsh_contain cb = {2, 2, sizes};
    check(sigs, n, k, 2, 4, &cb, NULL, NULL);
    free(sigs);
    free(sizes);
}

Test(cands, empty_one_and_all_skipped)
{
    const unsigned k = 6;
    uint16_t sigs[3 * 6] = {0};
    uint32_t sizes[3] = {5, 10, 20};
    uint8_t skip[3] = {1, 1, 1};
    nd__lsh_contain cb = {3, 2, sizes};
    check(sigs, 0, k, 2, 3, &cb, NULL, NULL);
    check(sigs, 1, k, 2, 3, &cb, NULL, NULL);
    check(sigs, 3, k, 2, 3, &cb, skip, NULL);
    skip[1] = 0;
    check(sigs, 3, k, 2, 3, &cb, skip, NULL);
    check(sigs, 3, k, 2, 3, &cb, NULL, NULL);
}

/* The array form over 32-bit values: the pairs of bands shared by the full
   values, each once. */
Test(cands, wide_signatures_equal_the_pairs_of_shared_bands)
{
    const unsigned k = 24, bands = 8, rows = 3;
    const size_t n = 700;
    uint16_t *narrow = families(n, k, 5, 200);
    uint32_t *sigs = malloc(sizeof *sigs * n * k);
    for (size_t i = 0; i < n * k; i++)
        sigs[i] = narrow[i];
    uint64_t *pairs, capped;
    size_t np;
    cr_assert_eq(nd__lsh_candidates(sigs, n, k, bands, rows, SEED, NULL, 2, &pairs, &np,
                                    &capped),
                 ND_OK);
    list l = {0};
    uint64_t want_capped = 0;
    for (unsigned b = 0; b < bands; b++) {
        uint64_t *kv = malloc(sizeof *kv * n);
        for (size_t i = 0; i < n; i++)
            kv[i] = (nd__band_key(sigs + i * k, b, rows, SEED) >> 32) << 32 | i;
        qsort(kv, n, sizeof *kv, cmp_u64);
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && kv[j] >> 32 == kv[i] >> 32)
                j++;
            want_capped += j - i > ND_BUCKET_CAP;
            for (size_t x = i; x < j; x++)
                for (size_t y = x + 1; y < j && y - x <= ND_BUCKET_CAP; y++)
                    put(&l, (kv[x] & 0xffffffffu) << 32 | (kv[y] & 0xffffffffu));
            i = j;
        }
        free(kv);
    }
    qsort(l.v, l.n, sizeof *l.v, cmp_u64);
    size_t w = 0;
    for (size_t i = 0; i < l.n; i++)
        if (!w || l.v[i] != l.v[w - 1])
            l.v[w++] = l.v[i];
    cr_assert_gt(w, 1000, "enough pairs to mean something: %zu", w);
    cr_assert_gt(want_capped, 0);
    cr_assert_eq(np, w);
    cr_assert_eq(memcmp(pairs, l.v, w * sizeof *pairs), 0);
    cr_assert_eq(capped, want_capped);
    free(l.v);
    free(pairs);
    free(sigs);
    free(narrow);
}

/*
 * Whole runs the rule settles at once (candidates.c, run_settled): runs
 * whose members all share the rows of an earlier band.  900 documents:
 * the first 400 identical in band 0 (a run over the cap, so band 0 pairs
 * only documents at most ND_BUCKET_CAP apart); among them groups of 12
 * spread over all 400 share bands 1 and 2 (a run of band 2 identical to
 * one of band 1, both under the cap: band 2 adds nothing), and groups of
 * 8 a third of the way apart share band 3 alone (their far pairs come
 * out of band 3 only, though band 0 holds all of them).  The other 500
 * form families of exact copies, identical runs in every band, some
 * spanning more than ND_BUCKET_CAP document numbers.  Main bands of 3
 * and of 5 rows (the two pairing paths), containment bands over them.
 */
Test(cands, runs_identical_to_an_earlier_band)
{
    const unsigned k = 30;
    const size_t n = 900;
    uint16_t *sigs = malloc(sizeof *sigs * n * k);
    uint32_t *sizes = malloc(sizeof *sizes * n);
    for (size_t d = 0; d < n; d++) {
        for (unsigned i = 0; i < k; i++)
            sigs[d * k + i] = (uint16_t)(d * k + i + 1);
        sizes[d] = (uint32_t)(d % 5 + 1) * 7;
    }
    for (unsigned rows = 3; rows <= 5; rows += 2) {
        for (size_t d = 0; d < n; d++)
            for (unsigned i = 0; i < k; i++)
                sigs[d * k + i] = (uint16_t)(d * k + i + 1);
        for (size_t d = 0; d < 400; d++) {
            for (unsigned i = 0; i < rows; i++)
                sigs[d * k + i] = 7;
            /* group d % 33: members d, d + 33, ... (span up to 396) */
            for (unsigned i = rows; i < 3 * rows; i++)
                sigs[d * k + i] = (uint16_t)(50000 + (d % 33) * 8 + i);
            /* group d % 133: members d, d + 133, d + 266 */
            for (unsigned i = 3 * rows; i < 4 * rows; i++)
                sigs[d * k + i] = (uint16_t)(40000 + (d % 133) * 8 + i);
        }
        /* families of exact copies: every band the same run */
        for (size_t d = 400; d < n; d++) {
            size_t f = (d - 400) % 50; /* members d, d + 50, ... */
            for (unsigned i = 0; i < k; i++)
                sigs[d * k + i] = (uint16_t)(30000 + f * k + i);
        }
        nd__lsh_contain cb = {4, 2, sizes};
        uint64_t capped;
        size_t got = check(sigs, n, k, k / rows, rows, &cb, NULL, &capped);
        cr_assert_geq(capped, 1);
        /* band 0's 400 windowed (400 x 128 - 128 x 129 / 2 pairs), the far
           pairs of bands 1-3, the 50 families of 10 */
        cr_assert_gt(got, (size_t)400 * 128 - 128 * 129 / 2 + 50 * 45, "%zu pairs", got);
        got = check(sigs, n, k, k / rows, rows, NULL, NULL, NULL);
        cr_assert_gt(got, (size_t)400 * 128 - 128 * 129 / 2 + 50 * 45, "%zu pairs", got);
    }
    free(sigs);
    free(sizes);
}
