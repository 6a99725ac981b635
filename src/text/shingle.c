/*
 * shingle.c - normalized text to its set of 64-bit shingle hashes (text.h).
 *
 * Word n-grams: every token is hashed once (XXH3, seeded) into t->tmp, and an
 * n-gram is XXH3 over its n token hashes, 8n bytes, so a token is read once
 * however large n is.  The token hashes are stored little-endian so the
 * n-gram hashes are the same on every machine.  Character n-grams: a window
 * of n code points slides over the UTF-8 text; its bytes are hashed.
 *
 * The set is made by sorting and dropping repeats.  Per document there are a
 * few hundred to a few thousand hashes, uniformly spread: one bucket pass on
 * the top bits and an insertion sort finish in linear time, four to seven
 * times faster than an 8-pass LSD radix sort at 150 to 5000 keys.
 */
#include "text.h"
#include "../core/sort.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define SMALL_SORT 32

static int grow_u64(uint64_t **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return ND_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    uint64_t *q = malloc(c * sizeof *q);
    if (!q)
        return ND_ERR_NOMEM;
    free(*p);
    *p = q;
    *cap = c;
    return ND_OK;
}

static uint64_t to_le64(uint64_t x)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
#endif
    return x;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/*
 * Insertion sort; input that is far from sorted (more than budget moves)
 * is handed to qsort instead, so the worst case stays n log n.
 */
/* Eight bytes, the first in the low byte whatever the machine. */
static uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return to_le64(w);
}

/*
 * The high bit of each byte of w that ends a token: ' ' or the final NUL,
 * the only bytes of a normalized text not above ' ' (token bytes are
 * letters, digits or >= 0x80).  Masking the high bits first keeps the add
 * from carrying into the next byte.
 */
static uint64_t token_end(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    return ~((w & ones * 0x7F) + ones * 0x5F) & ~w & ones * 0x80;
}

static void insertion_sort(uint64_t *a, size_t n, size_t budget)
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
 * Sort a[0..n) using scratch[0..2n+1).  Shingle hashes are uniform, so
 * distributing them into about n buckets by their top bits leaves each
 * bucket with one or two keys, and one insertion sort pass finishes.
 */
static void sort_hashes(uint64_t *a, uint64_t *scratch, size_t n)
{
    if (n < SMALL_SORT) {
        insertion_sort(a, n, SIZE_MAX);
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
    insertion_sort(a, n, 4 * n);
}

static int shingle_words(nd__textbuf *t, unsigned n, uint64_t seed,
                         size_t *count)
{
    const unsigned char *s = (const unsigned char *)t->norm;
    int rc = grow_u64(&t->tmp, &t->tmp_cap, t->norm_len / 2 + 1);
    if (rc)
        return rc;
    uint64_t *th = t->tmp;
    size_t ntok = 0;
    for (;;) {
        const unsigned char *e = s;
        uint64_t m;
        while (!(m = token_end(load64(e))))
            e += 8;
        e += __builtin_ctzll(m) >> 3;
        th[ntok++] = to_le64(XXH3_64bits_withSeed(s, (size_t)(e - s), seed));
        if (!*e)
            break;
        s = e + 1;
    }

    size_t nsh = ntok < n ? 1 : ntok - n + 1;
    size_t w = ntok < n ? ntok : n;
    rc = grow_u64(&t->hashes, &t->hashes_cap, nsh);
    if (rc)
        return rc;
    /* A constant length lets the compiler fold XXH3's length dispatch. */
    switch (w) {
#define NGRAMS(W)                                                       \
    case W:                                                             \
        for (size_t k = 0; k < nsh; k++)                                \
            t->hashes[k] = XXH3_64bits_withSeed(th + k, W * 8, seed);   \
        break;
        NGRAMS(1) NGRAMS(2) NGRAMS(3) NGRAMS(4) NGRAMS(5)
#undef NGRAMS
    default:
        for (size_t k = 0; k < nsh; k++)
            t->hashes[k] = XXH3_64bits_withSeed(th + k, w * 8, seed);
    }
    *count = nsh;
    return ND_OK;
}

/* Bytes in the UTF-8 sequence led by byte b (t->norm is valid UTF-8). */
static size_t cp_len(unsigned char b)
{
    return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

static int shingle_chars(nd__textbuf *t, unsigned n, uint64_t seed,
                         size_t *count)
{
    const unsigned char *s = (const unsigned char *)t->norm;
    const unsigned char *end = s + t->norm_len;
    int rc = grow_u64(&t->hashes, &t->hashes_cap, t->norm_len);
    if (rc)
        return rc;

    const unsigned char *a = s, *b = s;
    for (unsigned k = 0; k < n && b < end; k++)
        b += cp_len(*b);
    size_t nsh = 0;
    for (;;) {
        t->hashes[nsh++] = XXH3_64bits_withSeed(a, (size_t)(b - a), seed);
        if (b >= end)
            break;
        a += cp_len(*a);
        b += cp_len(*b);
    }
    *count = nsh;
    return ND_OK;
}

int nd__shingle(nd__textbuf *t, nd_shingle_kind kind, unsigned n,
                uint64_t seed)
{
    t->nhashes = 0;
    if (t->norm_len == 0)
        return ND_OK;
    assert(n > 0);
    size_t count = 0;
    int rc = kind == ND_SHINGLE_CHAR ? shingle_chars(t, n, seed, &count)
                                     : shingle_words(t, n, seed, &count);
    if (rc)
        return rc;
    rc = grow_u64(&t->tmp, &t->tmp_cap, 2 * count + 1);
    if (rc)
        return rc;
    sort_hashes(t->hashes, t->tmp, count);
    t->nhashes = nd__unique_u64(t->hashes, count);
    return ND_OK;
}
