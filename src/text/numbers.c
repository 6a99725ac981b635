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
#include "../core/cpu.h"
#include "../core/mix.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* What each byte is to the scan, in one table instead of chains of
   compares: ASCII digits and letters, the punctuation that may sit inside
   a figure ("1,250.5", "9:30", and what OCR strews between digits), and
   the letters OCR puts for digits; SEP: what may stand between a month
   and its day.  Bytes >= 0x80 are none of them. */
enum { DIGIT = 1, ALPHA = 2, INNER = 4, LOOK = 8, SEP = 16, ALNUM = DIGIT | ALPHA };
static const unsigned char byte_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    16, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 20, 0, 20, 0,
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
 * The same two on the class masks of the 64 bytes before text[a] (base a -
 * 64) and from text[i] (base i), without a loop: the nearest letter is the
 * highest (lowest) bit of the letters in reach, the word the run of ones
 * through it.  Only a word after that runs past the 64 bytes is read on.
 */
/* The masks of the 64 bytes from text[base]. */
static nd__byte_masks masks_at(nd__byte_masks_fn masks, const char *text,
                               size_t len, ptrdiff_t base)
{
    nd__byte_masks two[2];
    masks(text, len, base, two);
    return two[0];
}

/* The masks of text[i - s..i - s + 64) from those of text[i - 64..i)
   (lo) and text[i..i + 64) (hi), 0 < s < 64. */
static nd__byte_masks masks_between(const nd__byte_masks *lo,
                                    const nd__byte_masks *hi, unsigned s)
{
    nd__byte_masks m;
    m.alpha = hi->alpha << s | lo->alpha >> (64 - s);
    m.digit = hi->digit << s | lo->digit >> (64 - s);
    m.alnum = hi->alnum << s | lo->alnum >> (64 - s);
    m.inner = hi->inner << s | lo->inner >> (64 - s);
    m.sep = hi->sep << s | lo->sep >> (64 - s);
    m.other = hi->other << s | lo->other >> (64 - s);
    return m;
}

/* The masks shifted up by s (<< s) or down (>> s), 0 < s < 64: the bits
   shifted in are unknown, and 0. */
static nd__byte_masks masks_up(const nd__byte_masks *m, unsigned s)
{
    return (nd__byte_masks){m->alpha << s, m->digit << s, m->alnum << s,
                            m->inner << s, m->sep << s, m->other << s};
}

static nd__byte_masks masks_down(const nd__byte_masks *m, unsigned s)
{
    return (nd__byte_masks){m->alpha >> s, m->digit >> s, m->alnum >> s,
                            m->inner >> s, m->sep >> s, m->other >> s};
}

static uint32_t word_before_m(const char *text, size_t a, size_t len,
                              const nd__byte_masks *m)
{
    const uint64_t al = m->alpha;
    if (!(al >> 48))
        return 0;
    const unsigned e = 64 - (unsigned)__builtin_clzll(al); /* past its last letter */
    const uint64_t gaps = ~al & ((UINT64_C(1) << (e - 1)) - 1);
    unsigned b = gaps ? 64 - (unsigned)__builtin_clzll(gaps) : 0;
    if (b < e - 16)
        b = e - 16;
    return word_hash(text + (a + b - 64), e - b, text + len);
}

static uint32_t word_after_m(const char *text, size_t i, size_t len,
                             const nd__byte_masks *m, unsigned known)
{
    /* Bits from known on are unknown, and 0. */
    const uint64_t al = m->alpha;
    if (!(al & 0xFFFF))
        return 0;
    const unsigned b = (unsigned)__builtin_ctzll(al);
    const uint64_t rest = ~al >> b;
    const unsigned e = rest ? b + (unsigned)__builtin_ctzll(rest) : 64;
    size_t end = i + e;
    if (e >= known)
        while (end < len && is_alpha(text[end]))
            end++;
    return word_hash(text + i + b, end - i - b, text + len);
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
    for (size_t j = t->nfigs; j > k; j--) /* a few: no call to memmove */
        t->figs[j] = t->figs[j - 1];
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
/* The first letters of each month's name (all but "september", of 9), as
   little-endian words; a longer name of one of them matches only itself. */
static const uint64_t month_keys[] = {
    UINT64_C(0x00000000006e616a), /* jan */
    UINT64_C(0x0000000000626566), /* feb */
    UINT64_C(0x000000000072616d), /* mar */
    UINT64_C(0x0000000000727061), /* apr */
    UINT64_C(0x000000000079616d), /* may */
    UINT64_C(0x00000000006e756a), /* jun */
    UINT64_C(0x00000000006c756a), /* jul */
    UINT64_C(0x0000000000677561), /* aug */
    UINT64_C(0x0000000000706573), /* sep */
    UINT64_C(0x0000000074706573), /* sept */
    UINT64_C(0x000000000074636f), /* oct */
    UINT64_C(0x0000000000766f6e), /* nov */
    UINT64_C(0x0000000000636564), /* dec */
    UINT64_C(0x00797261756e616a), /* january */
    UINT64_C(0x7972617572626566), /* february */
    UINT64_C(0x000000686372616d), /* march */
    UINT64_C(0x0000006c69727061), /* april */
    UINT64_C(0x00000000656e756a), /* june */
    UINT64_C(0x00000000796c756a), /* july */
    UINT64_C(0x0000747375677561), /* august */
    UINT64_C(0x007265626f74636f), /* october */
    UINT64_C(0x7265626d65766f6e), /* november */
    UINT64_C(0x7265626d65636564), /* december */
};
#define SEPTEMBE UINT64_C(0x65626d6574706573)

/* 1 when text[b..e) (3 to 10 letters of text[..len)) names a month: its
   letters, folded, as one word against the keys (no month has 10). */
static int is_month(const char *text, size_t b, size_t e, size_t len)
{
    const size_t n = e - b, k = n < 8 ? n : 8;
    uint64_t x = 0;
#ifdef LITTLE_ENDIAN_LOADS
    if (len - b >= 8) {
        memcpy(&x, text + b, 8);
        x &= ~UINT64_C(0) >> (8 * (8 - k));
    } else
#endif
    {
        for (size_t j = 0; j < k; j++)
            x |= (uint64_t)(unsigned char)text[b + j] << (8 * j);
    }
    x |= UINT64_C(0x2020202020202020) >> (8 * (8 - k)); /* letters: lower case */
    if (n > 8)
        return n == 9 && x == SEPTEMBE && (text[b + 8] | 0x20) == 'r';
    int hit = 0;
    for (size_t m = 0; m < sizeof month_keys / sizeof *month_keys; m++)
        hit |= x == month_keys[m];
    return hit;
}

/* 1 when the word of letters ending just before text[a] (across spaces,
   a comma or a dot) names a month: "July 16", "Sept. 3". */
static int after_month(const char *text, size_t a, size_t len)
{
    size_t e = a;
    while (e > 0 && a - e < 3 && (class_of(text[e - 1]) & SEP))
        e--;
    size_t b = e;
    while (b > 0 && e - b < 10 && is_alpha(text[b - 1]))
        b--;
    if (e - b < 3 || (b > 0 && is_alpha(text[b - 1])))
        return 0;
    return is_month(text, b, e, len);
}

/* The same on the class masks of the 64 bytes before text[a]. */
static int after_month_m(const char *text, size_t a, size_t len,
                         const nd__byte_masks *m)
{
    const uint64_t not_sep = ~m->sep;
    unsigned t = not_sep ? (unsigned)__builtin_clzll(not_sep) : 64;
    const unsigned e = 64 - (t < 3 ? t : 3);
    const uint64_t below = e < 64 ? (UINT64_C(1) << e) - 1 : ~UINT64_C(0);
    const uint64_t gaps = ~m->alpha & below;
    const unsigned b = gaps ? 64 - (unsigned)__builtin_clzll(gaps) : 0;
    if (e - b < 3 || e - b > 10) /* longer: its first 10 letters, not a word */
        return 0;
    return is_month(text, a + b - 64, a + e - 64, len);
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
 * The word around a digit at text[i]: alphanumerics with inner punctuation
 * between them, not reaching back into the last word (text[..done)).  Its
 * start, and its end with whether it holds letters other than look-alikes.
 */
static size_t word_start(const char *text, size_t i, size_t done)
{
    size_t a = i;
    while (a > done) {
        const unsigned k = class_of(text[a - 1]);
        if (!(k & ALNUM) &&
            !((k & INNER) && a - 1 > done && (class_of(text[a - 2]) & ALNUM)))
            break;
        a--;
    }
    return a;
}

static size_t word_end(const char *text, size_t a, size_t len, int *others)
{
    size_t i = a;
    *others = 0;
    while (i < len) {
        const unsigned k = class_of(text[i]);
        if (k & ALNUM) {
            *others |= (k & (DIGIT | LOOK)) == 0;
            i++;
        } else if ((k & INNER) && i > a && i + 1 < len &&
                   (class_of(text[i + 1]) & ALNUM)) {
            i++;
        } else {
            break;
        }
    }
    return i;
}

/*
 * The same two on class masks (base i - 64, base a): a byte belongs to the
 * word when it is alphanumeric or inner punctuation after an alphanumeric
 * (before one going forward), and the word ends at the nearest byte that
 * does not.  Where the masks cannot tell (a word longer than they reach)
 * the loops above answer.
 */
static size_t word_start_m(const char *text, size_t i, size_t done,
                           const nd__byte_masks *m)
{
    const uint64_t in = m->alnum | (m->inner & m->alnum << 1);
    const uint64_t out = ~in;
    if (out <= 1) /* the word may start before the masks */
        return word_start(text, i, done);
    const size_t a = i + 64 - (size_t)__builtin_clzll(out) - 64; /* past it */
    if (a > done)
        return a;
    /* Back to the last word: its last byte joins only if alphanumeric. */
    return done < i && !(class_of(text[done]) & ALNUM) ? done + 1 : done;
}

static size_t word_end_m(const char *text, size_t a, size_t len, int *others,
                         const nd__byte_masks *m)
{
    const uint64_t in = m->alnum | (m->inner & m->alnum >> 1 & ~UINT64_C(1));
    const uint64_t out = ~in;
    const unsigned n = out ? (unsigned)__builtin_ctzll(out) : 64;
    if (n >= 63) /* the word may run past the masks */
        return word_end(text, a, len, others);
    *others = (m->other & ((UINT64_C(1) << n) - 1)) != 0;
    return a + n;
}

/*
 * A figure is its digits alone: the punctuation inside it is dropped, so
 * "1,250.5" and "12505" are one figure, and so are "1987" and the "19.87"
 * or "19'87" of a scan with a stray mark.  A word made only of digits and
 * their look-alikes ("l987", "2O18", "1O%") is read as the number OCR
 * garbled; in any other word ("10lbs", "in1987") only the digits count.
 * Figures that tell little (telling()) are left out.
 *
 * next_digit finds the digits; masks, when the path has them, reads the
 * bytes around each as bit masks, which spares the walks around it their
 * mispredicted loop exits.
 */
static int figures_with(nd__next_digit_fn next_digit, nd__byte_masks_fn masks,
                        nd__textbuf *t, const char *text, size_t len,
                        uint64_t seed)
{
    const uint64_t fseed = seed ^ 0x66696775726573ull; /* "figures" */
    char buf[64];
    t->nfigs = 0;
    size_t i = 0, done = 0;
    nd__byte_masks before, after;
    unsigned after_known = 64;
    size_t d = next_digit(text, 0, len); /* the digit the word is found from */
    while (d < len) {
        size_t a;
        int others;
        /* With masks: those of the 64 bytes before the digit and the 64
           from it, which hold the word and the words around it but for
           long words (then more masks or the loops). */
        nd__byte_masks lo, hi, here;
        if (masks) {
            nd__byte_masks two[2];
            masks(text, len, (ptrdiff_t)d - 64, two);
            lo = two[0];
            hi = two[1];
            a = word_start_m(text, d, done, &lo);
            if (a == d)
                here = hi;
            else if (d - a < 64)
                here = masks_between(&lo, &hi, (unsigned)(d - a));
            else
                here = masks_at(masks, text, len, (ptrdiff_t)a);
            i = word_end_m(text, a, len, &others, &here);
            /* Before the word (base a - 64): from lo when the word started
               at most 32 bytes before the digit (word_before_m and
               after_month_m read no further back than 32 bytes). */
            if (d - a <= 32)
                before = d == a ? lo : masks_up(&lo, (unsigned)(d - a));
            else
                before = masks_at(masks, text, len, (ptrdiff_t)a - 64);
            /* After it (base i): from hi when 16 bytes past its end are in
               it. */
            if (i - d <= 48) {
                after = i == d ? hi : masks_down(&hi, (unsigned)(i - d));
                after_known = 64 - (unsigned)(i - d);
            } else {
                after = masks_at(masks, text, len, (ptrdiff_t)i);
                after_known = 64;
            }
        } else {
            a = word_start(text, d, done);
            i = word_end(text, a, len, &others);
        }
        done = i;
        size_t n = 0;
        int colon = 0, punct = 0, have_ctx = 0;
        uint32_t ctx = 0;
        for (size_t j = a; j <= i; j++) {
            char c = j < i ? (others ? (is_digit(text[j]) ? text[j] : 0)
                                     : digit_of(text[j]))
                           : 0;
            if (c) {
                if (n < sizeof buf)
                    buf[n++] = c;
            } else if (n && (j == i || (class_of(text[j]) & ALNUM))) {
                if (telling(buf, n, colon, punct) &&
                    !(n <= 2 && !punct && /* perhaps "July 16" */
                      (masks ? after_month_m(text, a, len, &before)
                             : after_month(text, a, len)))) {
                    if (!have_ctx) {
                        const uint32_t wb = masks ? word_before_m(text, a, len, &before)
                                                  : word_before(text, a, len);
                        const uint32_t wa = masks ? word_after_m(text, i, len, &after,
                                                                 after_known)
                                                  : word_after(text, i, len);
                        ctx = (wb * 31u + wa) * 2654435761u;
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
        /* The next digit: in the masks if they reach it. */
        if (masks && i - d < 64) {
            const uint64_t rest = hi.digit >> (i - d);
            if (rest) {
                d = i + (size_t)__builtin_ctzll(rest);
                continue;
            }
            i = d + 64;
        }
        d = next_digit(text, i < len ? i : len, len);
    }
    return ND_OK;
}

/* --------------------------------------------------------- dispatch */

unsigned nd__digit_paths(void)
{
    unsigned m = 1u << ND__DIGITS_SCALAR;
#ifdef ND__TEXT_X86
    if (nd__isa_has(ND__ISA_AVX2))
        m |= 1u << ND__DIGITS_AVX2;
    if (nd__isa_has(ND__ISA_AVX512F | ND__ISA_AVX512BW))
        m |= 1u << ND__DIGITS_AVX512;
#endif
    return m;
}

/* The class masks of text[base..base + 128) (numbers.h), byte by byte:
   what the vector paths compute at once, and their answer near the ends of
   a text. */
void nd__byte_masks_scalar(const char *text, size_t len, ptrdiff_t base,
                           nd__byte_masks m[2])
{
    for (unsigned h = 0; h < 2; h++) {
        uint64_t alpha = 0, digit = 0, alnum = 0, inner = 0, sep = 0, other = 0;
        for (unsigned k = 0; k < 64; k++) {
            const ptrdiff_t at = base + (ptrdiff_t)(64 * h + k);
            if (at < 0 || (size_t)at >= len)
                continue;
            const unsigned c = class_of(text[at]);
            const uint64_t bit = UINT64_C(1) << k;
            alpha |= c & ALPHA ? bit : 0;
            digit |= c & DIGIT ? bit : 0;
            alnum |= c & ALNUM ? bit : 0;
            inner |= c & INNER ? bit : 0;
            sep |= c & SEP ? bit : 0;
            other |= (c & (ALPHA | LOOK)) == ALPHA ? bit : 0;
        }
        m[h] = (nd__byte_masks){alpha, digit, alnum, inner, sep, other};
    }
}

typedef struct {
    nd__next_digit_fn next_digit;
    nd__byte_masks_fn masks; /* NULL: the walks loop byte by byte */
} scan_path;

static scan_path path_of(nd__digits_path p)
{
    switch (p) {
#ifdef ND__TEXT_X86
    case ND__DIGITS_AVX2:
        return (scan_path){nd__next_digit_avx2, NULL}; /* masks: no gain */
    case ND__DIGITS_AVX512:
        return (scan_path){nd__next_digit_avx512, nd__byte_masks_avx512};
#endif
    default:
        return (scan_path){nd__next_digit_scalar, NULL};
    }
}

/* The fastest path of this CPU. */
static nd__digits_path best_path(void)
{
    return (nd__digits_path)nd__best_path(nd__digit_paths());
}

size_t nd__next_digit_on(nd__digits_path p, const char *text, size_t i,
                         size_t len)
{
    return path_of(p).next_digit(text, i, len);
}

void nd__byte_masks_on(nd__digits_path p, const char *text, size_t len,
                       ptrdiff_t base, nd__byte_masks m[2])
{
    const nd__byte_masks_fn f = path_of(p).masks;
    (f ? f : nd__byte_masks_scalar)(text, len, base, m);
}

int nd__figures_on(nd__digits_path p, nd__textbuf *t, const char *text,
                   size_t len, uint64_t seed)
{
    const scan_path sp = path_of(p);
    return figures_with(sp.next_digit, sp.masks, t, text, len, seed);
}

int nd__figures(nd__textbuf *t, const char *text, size_t len, uint64_t seed)
{
    return nd__figures_on(best_path(), t, text, len, seed);
}
