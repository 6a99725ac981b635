/*
 * sort.c - radix sorts on 64-bit keys.
 *
 * Small arrays: insertion sort.  Medium arrays (and nd__sort_kv): LSD radix
 * sort, 8 bits a pass; one counting pass builds all eight histograms and a
 * pass whose byte is the same in every key is skipped, so keys that use few
 * bits cost only the passes they need.
 *
 * Large arrays of u64 keys (the candidate pairs a << 32 | b, millions to
 * hundreds of millions of them) are bound by memory traffic: each LSD pass
 * streams the whole array through DRAM twice.  For them nd__sort_u64 takes
 * one MSD pass on the top bits that vary (found from the OR and AND of all
 * keys), which splits the array into buckets small enough to stay in L2,
 * then sorts each bucket by LSD passes in cache.  The LSD digits of a bucket
 * cover only the bits that vary, with a width (up to 12 bits) chosen to
 * need the fewest passes, so the constant bits between b's top and bit 32
 * cost nothing.  Each key then crosses DRAM a fixed few times whatever its
 * width: OR/AND pass, counting pass, MSD scatter, and the bucket's read and
 * final write.
 */
#include <stdlib.h>
#include <string.h>

#include "sort.h"

#define SMALL 64

#define DEFINE_RADIX(NAME, T, KEY)                                            \
    void NAME(T *v, T *tmp, size_t n)                                         \
    {                                                                         \
        if (n < SMALL) {                                                      \
            for (size_t i = 1; i < n; i++) {                                  \
                T x = v[i];                                                   \
                size_t j = i;                                                 \
                for (; j > 0 && KEY(v[j - 1]) > KEY(x); j--)                  \
                    v[j] = v[j - 1];                                          \
                v[j] = x;                                                     \
            }                                                                 \
            return;                                                           \
        }                                                                     \
        static const unsigned P = 8;                                          \
        size_t count[8][256];                                                 \
        memset(count, 0, sizeof count);                                       \
        for (size_t i = 0; i < n; i++) {                                      \
            uint64_t k = KEY(v[i]);                                           \
            for (unsigned p = 0; p < P; p++)                                  \
                count[p][(k >> (8 * p)) & 0xff]++;                            \
        }                                                                     \
        T *src = v, *dst = tmp;                                               \
        for (unsigned p = 0; p < P; p++) {                                    \
            size_t *c = count[p];                                             \
            if (c[(KEY(src[0]) >> (8 * p)) & 0xff] == n)                      \
                continue;                                                     \
            size_t sum = 0;                                                   \
            for (unsigned d = 0; d < 256; d++) {                              \
                size_t t = c[d];                                              \
                c[d] = sum;                                                   \
                sum += t;                                                     \
            }                                                                 \
            for (size_t i = 0; i < n; i++)                                    \
                dst[c[(KEY(src[i]) >> (8 * p)) & 0xff]++] = src[i];           \
            T *t = src;                                                       \
            src = dst;                                                        \
            dst = t;                                                          \
        }                                                                     \
        if (src != v)                                                         \
            memcpy(v, src, n * sizeof *v);                                    \
    }

#define KEY_U64(x) (x)
#define KEY_KV(x) ((x).key)

static DEFINE_RADIX(sort_u64_lsd8, uint64_t, KEY_U64)
DEFINE_RADIX(nd__sort_kv, nd__kv, KEY_KV)

/* ------------------------------------------------------------ large u64 */

#define BIG ((size_t)1 << 16)         /* from here on, the path below */
#define BUCKET_MAX ((size_t)1 << 17)  /* a bucket this big splits again */
#define BUCKET_TARGET ((size_t)1 << 15) /* 2 x 256 KB: x and y in L2 */
#define MSD_MAX_BITS 10
#define LSD_MAX_BITS 12
#define MSD_MAX_DEPTH 4

static unsigned top_bit(uint64_t x)
{
    return 63u - (unsigned)__builtin_clzll(x);
}

/*
 * Cover the set bits of mask by intervals [s, s + w), lowest first (greedy,
 * which needs the fewest intervals); write their starts to shift and return
 * how many there are.
 */
static unsigned cover(uint64_t mask, unsigned w, unsigned shift[64])
{
    unsigned p = 0;
    while (mask) {
        unsigned s = (unsigned)__builtin_ctzll(mask);
        shift[p++] = s;
        mask = s + w >= 64 ? 0 : mask & (~(uint64_t)0 << (s + w));
    }
    return p;
}

static void insertion(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/*
 * Sort a[0..m), whose keys differ only in the bits of mask, by LSD passes
 * between a and b; the result ends in b if to_b, else in a.  m < 2^32.
 */
static void lsd(uint64_t *a, uint64_t *b, size_t m, uint64_t mask, int to_b)
{
    if (m < SMALL || !mask) {
        if (mask)
            insertion(a, m);
        if (to_b)
            memcpy(b, a, m * sizeof *a);
        return;
    }
    /*
     * The width of least cost: a pass costs about the same up to 10 bits
     * (the counts stay in L1), 10% more at 11 bits and 25% more at 12; a
     * final copy, when the passes end in the wrong array, costs an eighth
     * of a pass.  Ties go to the narrower width.
     */
    unsigned shift[64], w = 0, p, best = UINT32_MAX;
    for (unsigned tw = LSD_MAX_BITS; tw >= 4; tw--) {
        if (((size_t)1 << tw) > 2 * m)
            continue;
        unsigned tp = cover(mask, tw, shift);
        unsigned cost = tp * (tw <= 10 ? 8 : tw == 11 ? 9 : 10) +
                        ((tp & 1) != (unsigned)to_b);
        if (cost <= best) {
            best = cost;
            w = tw;
        }
    }
    p = cover(mask, w, shift);
    const uint64_t dm = ((uint64_t)1 << w) - 1;
    uint32_t cnt[2][1u << LSD_MAX_BITS];
    uint32_t *c = cnt[0], *nx = cnt[1];
    memset(c, 0, sizeof *cnt);
    for (size_t i = 0; i < m; i++)
        c[(a[i] >> shift[0]) & dm]++;
    uint64_t *src = a, *dst = b;
    for (unsigned q = 0; q < p; q++) {
        unsigned s = shift[q];
        unsigned s2 = q + 1 < p ? shift[q + 1] : 0;
        memset(nx, 0, sizeof *cnt);
        if (c[(src[0] >> s) & dm] == m) {
            if (q + 1 < p)
                for (size_t i = 0; i < m; i++)
                    nx[(src[i] >> s2) & dm]++;
        } else {
            uint32_t sum = 0;
            for (size_t d = 0; d <= dm; d++) {
                uint32_t t = c[d];
                c[d] = sum;
                sum += t;
            }
            for (size_t i = 0; i < m; i++) {
                uint64_t k = src[i];
                dst[c[(k >> s) & dm]++] = k;
                nx[(k >> s2) & dm]++;
            }
            uint64_t *t = src;
            src = dst;
            dst = t;
        }
        uint32_t *t = c;
        c = nx;
        nx = t;
    }
    uint64_t *want = to_b ? b : a;
    if (src != want)
        memcpy(want, src, m * sizeof *a);
}

static void part(uint64_t *a, uint64_t *b, size_t m, uint64_t mask, int to_b,
                 unsigned depth);

/*
 * One MSD pass on the top varying bits of a[0..n), scattering into b, then
 * each bucket sorted in place of its own; the result ends in b if to_b.
 */
static void msd(uint64_t *a, uint64_t *b, size_t n, uint64_t mask, int to_b,
                unsigned depth)
{
    unsigned hi = top_bit(mask), bits = 1;
    while (bits < MSD_MAX_BITS && bits <= hi && (n >> bits) > BUCKET_TARGET)
        bits++;
    unsigned s = hi + 1 - bits;
    const uint64_t dm = ((uint64_t)1 << bits) - 1;
    size_t c[1u << MSD_MAX_BITS];
    memset(c, 0, sizeof c);
    for (size_t i = 0; i < n; i++)
        c[(a[i] >> s) & dm]++;
    size_t sum = 0;
    for (size_t d = 0; d <= dm; d++) {
        size_t t = c[d];
        c[d] = sum;
        sum += t;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k = a[i];
        b[c[(k >> s) & dm]++] = k;
    }
    /* Now c[d] is where bucket d ends. */
    uint64_t low = s ? mask & (~(uint64_t)0 >> (64 - s)) : 0;
    for (size_t d = 0, from = 0; d <= dm; from = c[d++])
        part(b + from, a + from, c[d] - from, low, !to_b, depth + 1);
}

static uint64_t varying_bits(const uint64_t *v, size_t n)
{
    uint64_t any = 0, all = ~(uint64_t)0;
    for (size_t i = 0; i < n; i++) {
        any |= v[i];
        all &= v[i];
    }
    return any ^ all;
}

/*
 * Sort a[0..m), whose keys differ at most in the bits of mask; the result
 * ends in b if to_b, else in a.  A bucket that is still large (skewed keys,
 * or more keys than the MSD digit can split) is split again on the bits
 * that vary in it.
 */
static void part(uint64_t *a, uint64_t *b, size_t m, uint64_t mask, int to_b,
                 unsigned depth)
{
    if (m > BUCKET_MAX && depth > 0 && depth < MSD_MAX_DEPTH)
        mask = varying_bits(a, m);
    if (m > BUCKET_MAX && depth < MSD_MAX_DEPTH && mask) {
        msd(a, b, m, mask, to_b, depth);
    } else if (m > UINT32_MAX) {
        sort_u64_lsd8(a, b, m);
        if (to_b)
            memcpy(b, a, m * sizeof *a);
    } else {
        lsd(a, b, m, mask, to_b);
    }
}

void nd__sort_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
    if (n < BIG) {
        sort_u64_lsd8(v, tmp, n);
        return;
    }
    part(v, tmp, n, varying_bits(v, n), 0, 0);
}

/*
 * By the top halves only: LSD passes (lsd, stable) on the bits of the top
 * halves that vary, at the width of fewest passes (three of 11 bits for
 * uniform 32-bit band keys, where 8-bit digits took four).
 */
void nd__sort_u64_hi32(uint64_t *v, uint64_t *tmp, size_t n)
{
    if (n < SMALL) {
        for (size_t i = 1; i < n; i++) {
            uint64_t x = v[i];
            size_t j = i;
            for (; j > 0 && v[j - 1] >> 32 > x >> 32; j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
        return;
    }
    const uint64_t mask = varying_bits(v, n) & ~(uint64_t)UINT32_MAX;
    if (n <= UINT32_MAX) {
        lsd(v, tmp, n, mask, 0);
        return;
    }
    size_t count[4][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (unsigned p = 0; p < 4; p++)
            count[p][(v[i] >> (32 + 8 * p)) & 0xff]++;
    uint64_t *src = v, *dst = tmp;
    for (unsigned p = 0; p < 4; p++) {
        size_t *c = count[p];
        if (c[(src[0] >> (32 + 8 * p)) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (unsigned d = 0; d < 256; d++) {
            size_t t = c[d];
            c[d] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i] >> (32 + 8 * p)) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}

/*
 * The band keys of candidate generation: 32-bit hashes, one a document,
 * paired with the document number and sorted by key.  The first LSD pass
 * reads the keys themselves (4 bytes a document) and writes the pairs in
 * place, so the pairs are never written in input order first; the three
 * digits' counts come from one read of the keys before it; and with an odd
 * number of passes the first writes to out, so the last does too and no
 * final copy is needed.  Digits of 11 bits (three passes, 16 KB of counts
 * each in L1), a digit constant over all keys skipped.
 */
#define K32_BITS 11
#define K32_SMALL 4096 /* below this, the general sort */

/* The documents not skipped as keys[i] << 32 | i, in input order, into
   out; returns how many. */
static size_t keyed_docs(const uint32_t *keys, const uint8_t *skip, size_t n,
                         uint64_t *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!skip || !skip[i])
            out[m++] = (uint64_t)keys[i] << 32 | i;
    return m;
}

size_t nd__sort_keys32(const uint32_t *keys, const uint8_t *skip, size_t n,
                       uint64_t *out, uint64_t *tmp)
{
    enum { D = 1u << K32_BITS };
    if (n < K32_SMALL) {
        const size_t m = keyed_docs(keys, skip, n, out);
        nd__sort_u64_hi32(out, tmp, m);
        return m;
    }
    uint32_t cnt[3][D];
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) {
        const uint32_t k = keys[i];
        cnt[0][k & (D - 1)]++;
        cnt[1][(k >> K32_BITS) & (D - 1)]++;
        cnt[2][k >> (2 * K32_BITS)]++;
    }
    size_t m = n;
    /* The skipped documents (few) taken back out, 8 flags at a time. */
    for (size_t i = 0; skip && i < n; i += 8) {
        uint64_t w = 0;
        if (i + 8 <= n)
            memcpy(&w, skip + i, 8);
        if (i + 8 <= n && !w)
            continue;
        for (size_t j = i; j < i + 8 && j < n; j++)
            if (skip[j]) {
                const uint32_t k = keys[j];
                cnt[0][k & (D - 1)]--;
                cnt[1][(k >> K32_BITS) & (D - 1)]--;
                cnt[2][k >> (2 * K32_BITS)]--;
                m--;
            }
    }
    if (!m)
        return 0;
    /* The digits that vary, lowest first; their counts made offsets. */
    unsigned pass[3], p = 0;
    for (unsigned q = 0; q < 3; q++) {
        int constant = 0; /* one digit in all m keys */
        for (unsigned d = 0; d < D && !constant; d++)
            constant = cnt[q][d] == m;
        if (constant)
            continue;
        uint32_t sum = 0;
        for (unsigned d = 0; d < D; d++) {
            const uint32_t t = cnt[q][d];
            cnt[q][d] = sum;
            sum += t;
        }
        pass[p++] = q;
    }
    /* The first pass reads the keys; with p passes in all it writes where
       the last one ends in out. */
    if (!p) /* one key: the documents in order */
        return keyed_docs(keys, skip, n, out);
    uint64_t *restrict dst = p & 1 ? out : tmp;
    {
        uint32_t *restrict c = cnt[pass[0]];
        const unsigned s = K32_BITS * pass[0];
        size_t i = 0;
        if (skip) /* 8 documents at a time where none is skipped */
            for (; i + 8 <= n; i += 8) {
                uint64_t w;
                memcpy(&w, skip + i, 8);
                if (w) {
                    for (size_t j = i; j < i + 8; j++)
                        if (!skip[j])
                            dst[c[(keys[j] >> s) & (D - 1)]++] = (uint64_t)keys[j] << 32 | j;
                    continue;
                }
                for (size_t j = i; j < i + 8; j++)
                    dst[c[(keys[j] >> s) & (D - 1)]++] = (uint64_t)keys[j] << 32 | j;
            }
        for (; i < n; i++)
            if (!skip || !skip[i])
                dst[c[(keys[i] >> s) & (D - 1)]++] = (uint64_t)keys[i] << 32 | i;
    }
    for (unsigned q = 1; q < p; q++) {
        const uint64_t *restrict src = dst;
        uint64_t *restrict to = dst == out ? tmp : out;
        uint32_t *restrict c = cnt[pass[q]];
        const unsigned s = 32 + K32_BITS * pass[q];
        for (size_t i = 0; i < m; i++) {
            const uint64_t v = src[i];
            to[c[(v >> s) & (D - 1)]++] = v;
        }
        dst = to;
    }
    return m;
}

size_t nd__unique_u64(uint64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    size_t w = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[w - 1])
            v[w++] = v[i];
    return w;
}

/* ------------------------------------------------------ uniform keys */

#define SPREAD_SMALL 32

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/*
 * Insertion sort; input that is far from sorted (more than budget moves)
 * is handed to qsort instead, so the worst case stays n log n.
 */
static void insertion_budget(uint64_t *a, size_t n, size_t budget)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
        if (i - j > budget) {
            qsort(a, n, sizeof *a, cmp_u64);
            return;
        }
        budget -= i - j;
    }
}

/*
 * Keys spread uniformly (shingle hashes): distributing them into about n
 * buckets by their top bits leaves each bucket with one or two keys, and
 * one insertion sort pass finishes, in linear time: four to seven times
 * faster than an 8-pass LSD radix sort at 150 to 5000 keys.
 */
void nd__sort_u64_spread(uint64_t *a, uint64_t *scratch, size_t n)
{
    if (n < SPREAD_SMALL) {
        insertion_budget(a, n, SIZE_MAX);
        return;
    }
    unsigned bits = 0;
    while (((size_t)2 << bits) <= n)
        bits++;
    size_t nb = (size_t)1 << bits; /* n/2 < nb <= n */
    unsigned shift = 64 - bits;
    uint64_t *to = scratch, *count = scratch + n;
    memset(count, 0, (nb + 1) * sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[(a[i] >> shift) + 1]++;
    for (size_t b = 1; b <= nb; b++)
        count[b] += count[b - 1];
    for (size_t i = 0; i < n; i++)
        to[count[a[i] >> shift]++] = a[i];
    memcpy(a, to, n * sizeof *a);
    insertion_budget(a, n, 4 * n);
}

size_t nd__lower_u64(const uint64_t *v, size_t n, uint64_t k)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
