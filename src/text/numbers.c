/*
 * numbers.c - the figures a text states (text.h).
 *
 * Reports built from one template (earnings, commodity prices, weather,
 * sports results) share most of their words and differ in their figures;
 * reprints of one story copy its figures.  The verification stage compares
 * the figures of two texts, so this file only lists them.  They are read
 * from the raw text, where "$0.21" is still one figure and not the two
 * tokens normalization makes of it.
 */
#include "numbers.h"
#include "text.h"
#include "../core/mix.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* What each byte is to the scan, in one table instead of chains of
   compares: ASCII digits and letters, the punctuation that may sit inside
   a figure ("1,250.5", "9:30", and what OCR strews between digits), and
   the letters OCR puts for digits.  Bytes >= 0x80 are none of them. */
enum { DIGIT = 1, ALPHA = 2, INNER = 4, LOOK = 8, ALNUM = DIGIT | ALPHA };
static const unsigned char byte_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 4, 0, 4, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 0, 0, 0, 0,
    0, 2, 2, 2, 2, 2, 2, 2, 2, 10, 2, 2, 2, 2, 2, 10,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0,
    4, 2, 2, 2, 2, 2, 2, 2, 2, 10, 2, 2, 10, 2, 2, 10,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0};

static inline unsigned class_of(char c) { return byte_class[(unsigned char)c]; }

static inline int is_digit(char c) { return class_of(c) & DIGIT; }

static inline int is_alpha(char c) { return class_of(c) & ALPHA; }

/* The digit an OCR look-alike stands for ('O', 'o': 0; 'l', 'I', 'i': 1),
   a digit itself, or 0. */
static inline char digit_of(char c)
{
    const unsigned k = class_of(c);
    if (k & DIGIT)
        return c;
    if (k & LOOK)
        return (c | 0x20) == 'o' ? '0' : '1';
    return 0;
}

/*
 * The first digit at or after i in text[0..len), or len.  News text is a few
 * percent digits, so it is skipped eight bytes at a time: the high bit of
 * each byte of w that lies in '0'..'9' (exact for every byte; bytes >= 0x80
 * never match).  The vector paths (numbers_avx2.c, numbers_avx512.c) test
 * 32 and 64 bytes at a time and return the same.
 */
size_t nd__next_digit_scalar(const char *text, size_t i, size_t len)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), low7 = ones * 0x7F;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, text + i, 8);
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
#endif
        uint64_t x = w & low7;
        uint64_t m = (ones * (127 + '9' + 1) - x) & ~w & (x + ones * (127 - ('0' - 1))) &
                     ones * 0x80;
        if (m)
            return i + ((size_t)__builtin_ctzll(m) >> 3);
    }
    while (i < len && !is_digit(text[i]))
        i++;
    return i;
}

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LITTLE_ENDIAN_LOADS 1
#endif
#endif

/* A hash of a word of n (>= 1) letters: its first 8, case folded, and n.
   The text is readable up to end: away from it the 8 bytes are read whole
   and the ones past the word masked off (a fixed-size load, not a copy of
   a variable length). */
static inline uint32_t word_hash(const char *w, size_t n, const char *end)
{
    const size_t k = n < 8 ? n : 8;
    uint64_t x = 0;
#ifdef LITTLE_ENDIAN_LOADS
    if (end - w >= 8) {
        memcpy(&x, w, 8);
        x &= ~UINT64_C(0) >> (8 * (8 - k));
    } else
#endif
    {
        (void)end;
        memcpy(&x, w, k);
    }
    x |= UINT64_C(0x2020202020202020) >> (8 * (8 - k));
    return (uint32_t)(nd__fmix64(x ^ (uint64_t)n << 56) >> 32);
}

/* The hash of the nearest word of letters before text[a] (within 16
   bytes) of text[0..len), or 0. */
static uint32_t word_before(const char *text, size_t a, size_t len)
{
    size_t lim = a > 16 ? a - 16 : 0, e = a;
    while (e > lim && !is_alpha(text[e - 1]))
        e--;
    size_t b = e;
    while (b > 0 && e - b < 16 && is_alpha(text[b - 1]))
        b--;
    return e > lim && b < e ? word_hash(text + b, e - b, text + len) : 0;
}

/* The hash of the nearest word of letters at or after text[i] (within 16
   bytes), or 0. */
static uint32_t word_after(const char *text, size_t i, size_t len)
{
    size_t lim = i + 16 < len ? i + 16 : len, b = i;
    while (b < lim && !is_alpha(text[b]))
        b++;
    size_t e = b;
    while (e < len && is_alpha(text[e]))
        e++;
    return b < lim && b < e ? word_hash(text + b, e - b, text + len) : 0;
}

/*
 * A figure is kept as (its context << 32 | its value): 16 bits of the words
 * around it (the nearest word before and after) and 16 bits of its digits.
 * The figure check compares values only where contexts meet ("Shr 21 cts"
 * against "Shr 18 cts"): a figure whose context the other text lacks (a
 * paragraph it cut, a local paragraph) is no evidence either way.
 */
static int push_fig(nd__textbuf *t, const char *d, size_t n, uint64_t seed,
                    uint32_t ctx)
{
    if (t->nfigs == t->figs_cap) {
        size_t cap = t->figs_cap ? t->figs_cap * 2 : 64;
        uint64_t *p = realloc(t->figs, cap * sizeof *p);
        if (!p)
            return ND_ERR_NOMEM;
        t->figs = p;
        t->figs_cap = cap;
    }
    /* Up to 19 digits are a number: mixed with its length and the seed
       (a leading zero counts); longer runs are hashed as text. */
    uint64_t x = 0;
    if (n <= 19) {
        for (size_t i = 0; i < n; i++)
            x = x * 10 + (uint64_t)(d[i] - '0');
        x = nd__fmix64(x ^ ((uint64_t)n << 59) ^ seed);
    } else {
        x = XXH3_64bits_withSeed(d, n, seed);
    }
    uint32_t v = (uint32_t)x & 0xFFFFu;
    const uint64_t f = (uint64_t)((ctx & 0xFFFF0000u) | v) << 32;
    /* Kept sorted as they come (at most ND__FIGS_KEPT + 1): the place of f
       tells a repeat too, and no sort is left for the end. */
    size_t k = t->nfigs;
    while (k > 0 && t->figs[k - 1] > f)
        k--;
    if (k > 0 && t->figs[k - 1] == f)
        return ND_OK;
    memmove(t->figs + k + 1, t->figs + k, (t->nfigs - k) * sizeof *t->figs);
    t->figs[k] = f;
    t->nfigs++;
    return ND_OK;
}

/*
 * Whether digits d[0..n) are evidence about the story: a year (19xx, 20xx
 * written plainly), a time of day (digits around a ':', up to hh:mm:ss)
 * and a day of the month (one or two digits after a month's name) say
 * little, and they are where copies of one story differ most: page
 * furniture ("Updated 7:08 AM", "Posted July 16, 2018"); the caller leaves
 * out the days (after_month).  Reports made
 * from one template differ in their amounts, prices and scores, which are
 * kept, single digits too (a score of 3-1).
 */
/* 1 when the word of letters ending just before text[a] (across spaces,
   a comma or a dot) names a month: "July 16", "Sept. 3". */
static int after_month(const char *text, size_t a)
{
    static const char *const months[] = {
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec", "january", "february", "march", "april", "june", "july",
        "august", "september", "october", "november", "december"};
    size_t e = a;
    while (e > 0 && a - e < 3 && (text[e - 1] == ' ' || text[e - 1] == '.' ||
                                  text[e - 1] == ','))
        e--;
    size_t b = e;
    while (b > 0 && e - b < 10 && is_alpha(text[b - 1]))
        b--;
    if (e - b < 3 || (b > 0 && is_alpha(text[b - 1])))
        return 0;
    switch (text[b] | 0x20) { /* the first letters months start with */
    case 'j': case 'f': case 'm': case 'a': case 's': case 'o': case 'n': case 'd':
        break;
    default:
        return 0;
    }
    for (size_t m = 0; m < sizeof months / sizeof *months; m++) {
        size_t k = 0;
        while (months[m][k] && b + k < e && (text[b + k] | 0x20) == months[m][k])
            k++;
        if (!months[m][k] && b + k == e)
            return 1;
    }
    return 0;
}

static int telling(const char *d, size_t n, int colon, int punct)
{
    if (colon && n <= 6)
        return 0;
    if (n == 4 && !punct && ((d[0] == '1' && d[1] == '9') || (d[0] == '2' && d[1] == '0')))
        return 0;
    return 1;
}

/*
 * A figure is its digits alone: the punctuation inside it is dropped, so
 * "1,250.5" and "12505" are one figure, and so are "1987" and the "19.87"
 * or "19'87" of a scan with a stray mark.  A word made only of digits and
 * their look-alikes ("l987", "2O18", "1O%") is read as the number OCR
 * garbled; in any other word ("10lbs", "in1987") only the digits count.
 * Figures that tell little (telling()) are left out.
 */
static int figures_with(nd__next_digit_fn next_digit, nd__textbuf *t,
                        const char *text, size_t len, uint64_t seed)
{
    const uint64_t fseed = seed ^ 0x66696775726573ull; /* "figures" */
    char buf[64];
    t->nfigs = 0;
    size_t i = 0, done = 0;
    while ((i = next_digit(text, i, len)) < len) {
        /* The word around this digit: alphanumerics with inner
           punctuation between them, not reaching into the last word. */
        size_t a = i, others = 0;
        while (a > done) {
            const unsigned k = class_of(text[a - 1]);
            if (!(k & ALNUM) &&
                !((k & INNER) && a - 1 > done && (class_of(text[a - 2]) & ALNUM)))
                break;
            a--;
        }
        i = a;
        while (i < len) {
            const unsigned k = class_of(text[i]);
            if (k & ALNUM) {
                others += (k & (DIGIT | LOOK)) == 0;
                i++;
            } else if ((k & INNER) && i > a && i + 1 < len &&
                       (class_of(text[i + 1]) & ALNUM)) {
                i++;
            } else {
                break;
            }
        }
        done = i;
        size_t n = 0;
        int colon = 0, punct = 0, have_ctx = 0;
        uint32_t ctx = 0;
        for (size_t j = a; j <= i; j++) {
            char d = j < i ? (others ? (is_digit(text[j]) ? text[j] : 0)
                                     : digit_of(text[j]))
                           : 0;
            if (d) {
                if (n < sizeof buf)
                    buf[n++] = d;
            } else if (n && (j == i || (class_of(text[j]) & ALNUM))) {
                if (telling(buf, n, colon, punct) &&
                    !(n <= 2 && !punct && after_month(text, a))) {
                    if (!have_ctx) {
                        ctx = (word_before(text, a, len) * 31u +
                               word_after(text, i, len)) *
                              2654435761u;
                        have_ctx = 1;
                    }
                    int rc = push_fig(t, buf, n, fseed, ctx);
                    if (rc)
                        return rc;
                    if (t->nfigs > ND__FIGS_KEPT)
                        return ND_OK; /* more than a check reads */
                }
                n = 0;
                colon = punct = 0;
            } else if (n && j < i) {
                colon |= text[j] == ':';
                punct = 1;
            }
        }
    }
    return ND_OK;
}

/* --------------------------------------------------------- dispatch */

unsigned nd__digit_paths(void)
{
    /* Racing first calls store the same value. */
    static _Atomic unsigned cached;
    unsigned m = atomic_load_explicit(&cached, memory_order_relaxed);
    if (m)
        return m;
    m = 1u << ND__DIGITS_SCALAR;
#ifdef ND__TEXT_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2"))
        m |= 1u << ND__DIGITS_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        m |= 1u << ND__DIGITS_AVX512;
#endif
    atomic_store_explicit(&cached, m, memory_order_relaxed);
    return m;
}

static nd__next_digit_fn digit_finder(nd__digits_path p)
{
    switch (p) {
#ifdef ND__TEXT_X86
    case ND__DIGITS_AVX2:
        return nd__next_digit_avx2;
    case ND__DIGITS_AVX512:
        return nd__next_digit_avx512;
#endif
    default:
        return nd__next_digit_scalar;
    }
}

/* The digit finder of the fastest path of this CPU, chosen once. */
static nd__next_digit_fn best_finder(void)
{
    static _Atomic(nd__next_digit_fn) best;
    nd__next_digit_fn f = atomic_load_explicit(&best, memory_order_relaxed);
    if (!f) {
        unsigned m = nd__digit_paths();
        int c = ND__DIGITS_PATHS - 1;
        while (!(m >> c & 1))
            c--;
        f = digit_finder((nd__digits_path)c);
        atomic_store_explicit(&best, f, memory_order_relaxed);
    }
    return f;
}

size_t nd__next_digit_on(nd__digits_path p, const char *text, size_t i,
                         size_t len)
{
    return digit_finder(p)(text, i, len);
}

int nd__figures_on(nd__digits_path p, nd__textbuf *t, const char *text,
                   size_t len, uint64_t seed)
{
    return figures_with(digit_finder(p), t, text, len, seed);
}

int nd__figures(nd__textbuf *t, const char *text, size_t len, uint64_t seed)
{
    return figures_with(best_finder(), t, text, len, seed);
}
