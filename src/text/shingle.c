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
 * few hundred to a few thousand hashes: an LSD radix sort (8 passes of 8
 * bits, all histograms counted in one read, a pass skipped when every key
 * falls into one bucket) beats comparison sorts there; below RADIX_MIN keys
 * insertion sort is cheaper than clearing the histograms.
 */
#include "text.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define RADIX_MIN 64

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

static void insertion_sort(uint64_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Sort a[0..n) using tmp[0..n); the result is in a. */
static void radix_sort(uint64_t *a, uint64_t *tmp, size_t n)
{
    if (n < RADIX_MIN) {
        insertion_sort(a, n);
        return;
    }
    enum { PASSES = 8 };
    size_t count[PASSES][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        uint64_t v = a[i];
        for (int p = 0; p < PASSES; p++)
            count[p][(v >> (8 * p)) & 0xFF]++;
    }
    uint64_t *from = a, *to = tmp;
    for (int p = 0; p < PASSES; p++) {
        size_t *c = count[p];
        if (c[(from[0] >> (8 * p)) & 0xFF] == n)
            continue;
        size_t sum = 0;
        for (int b = 0; b < 256; b++) {
            size_t k = c[b];
            c[b] = sum;
            sum += k;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t v = from[i];
            to[c[(v >> (8 * p)) & 0xFF]++] = v;
        }
        uint64_t *sw = from;
        from = to;
        to = sw;
    }
    if (from != a)
        memcpy(a, from, n * sizeof *a);
}

static size_t unique(uint64_t *a, size_t n)
{
    if (n == 0)
        return 0;
    size_t k = 1;
    for (size_t i = 1; i < n; i++)
        if (a[i] != a[k - 1])
            a[k++] = a[i];
    return k;
}

static int shingle_words(nd__textbuf *t, unsigned n, uint64_t seed,
                         size_t *count)
{
    const char *s = t->norm, *end = t->norm + t->norm_len;
    size_t ntok = 0;
    for (const char *p = s; p < end; p++)
        ntok += *p == ' ';
    ntok++; /* tokens = spaces + 1 in a non-empty text */

    int rc = grow_u64(&t->tmp, &t->tmp_cap, ntok);
    if (rc)
        return rc;
    uint64_t *th = t->tmp;
    for (size_t k = 0; k < ntok; k++) {
        const char *e = memchr(s, ' ', (size_t)(end - s));
        if (!e)
            e = end;
        th[k] = to_le64(XXH3_64bits_withSeed(s, (size_t)(e - s), seed));
        s = e + 1;
    }

    size_t nsh = ntok < n ? 1 : ntok - n + 1;
    size_t w = ntok < n ? ntok : n;
    rc = grow_u64(&t->hashes, &t->hashes_cap, nsh);
    if (rc)
        return rc;
    for (size_t k = 0; k < nsh; k++)
        t->hashes[k] = XXH3_64bits_withSeed(th + k, w * sizeof *th, seed);
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
    rc = grow_u64(&t->tmp, &t->tmp_cap, count);
    if (rc)
        return rc;
    radix_sort(t->hashes, t->tmp, count);
    t->nhashes = unique(t->hashes, count);
    return ND_OK;
}
