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
#include "text.h"
#include "../core/sort.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Punctuation that may sit inside a figure: "1,250.5", "9:30", and what
 * OCR strews between digits. */
static int is_inner(char c)
{
    return c == '.' || c == ',' || c == ':' || c == ';' || c == '\'' ||
           c == '`';
}

/* The digit an OCR look-alike stands for, or 0. */
static char digit_of(char c)
{
    switch (c) {
    case 'O': case 'o': return '0';
    case 'l': case 'I': case 'i': return '1';
    default: return is_digit(c) ? c : 0;
    }
}

/*
 * The first digit at or after i in text[0..len), or len.  News text is a few
 * percent digits, so it is skipped eight bytes at a time: the high bit of
 * each byte of w that lies in '0'..'9' (exact for every byte; bytes >= 0x80
 * never match).
 */
static size_t next_digit(const char *text, size_t i, size_t len)
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

static int push_fig(nd__textbuf *t, const char *d, size_t n, uint64_t seed)
{
    if (t->nfigs == t->figs_cap) {
        size_t cap = t->figs_cap ? t->figs_cap * 2 : 64;
        uint64_t *p = realloc(t->figs, cap * sizeof *p);
        if (!p)
            return ND_ERR_NOMEM;
        t->figs = p;
        t->figs_cap = cap;
    }
    t->figs[t->nfigs++] = XXH3_64bits_withSeed(d, n, seed);
    return ND_OK;
}

/*
 * Whether digits d[0..n) are evidence about the story: a year (19xx, 20xx
 * written plainly) and a time of day (digits around a ':', up to hh:mm:ss)
 * say little, and they are where copies of one story differ most: page
 * furniture ("Updated 7:08 AM", "Posted July 16, 2018").  Reports made
 * from one template differ in their amounts, prices and scores, which are
 * kept, single digits too (a score of 3-1).
 */
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
int nd__figures(nd__textbuf *t, const char *text, size_t len, uint64_t seed)
{
    const uint64_t fseed = seed ^ 0x66696775726573ull; /* "figures" */
    char buf[64];
    t->nfigs = 0;
    size_t i = 0, done = 0;
    while ((i = next_digit(text, i, len)) < len) {
        /* The word around this digit: alphanumerics with inner
           punctuation between them, not reaching into the last word. */
        size_t a = i, digits = 0, others = 0;
        while (a > done && (is_alnum(text[a - 1]) ||
                            (is_inner(text[a - 1]) && a - 1 > done &&
                             is_alnum(text[a - 2]))))
            a--;
        i = a;
        while (i < len) {
            char c = text[i];
            if (is_alnum(c)) {
                if (is_digit(c))
                    digits++;
                else if (!digit_of(c))
                    others++;
                i++;
            } else if (is_inner(c) && i > a && i + 1 < len &&
                       is_alnum(text[i + 1])) {
                i++;
            } else {
                break;
            }
        }
        done = i;
        size_t n = 0;
        int colon = 0, punct = 0;
        for (size_t j = a; j <= i; j++) {
            char d = j < i ? (others ? (is_digit(text[j]) ? text[j] : 0)
                                     : digit_of(text[j]))
                           : 0;
            if (d) {
                if (n < sizeof buf)
                    buf[n++] = d;
            } else if (n && (j == i || is_alnum(text[j]))) {
                if (telling(buf, n, colon, punct)) {
                    int rc = push_fig(t, buf, n, fseed);
                    if (rc)
                        return rc;
                }
                n = 0;
                colon = punct = 0;
            } else if (n && j < i) {
                colon |= text[j] == ':';
                punct = 1;
            }
        }
    }
    /* The sort's scratch is the second half of the array (a few figures
       are sorted by insertion and never touch it). */
    if (t->figs_cap < 2 * t->nfigs) {
        uint64_t *p = realloc(t->figs, 2 * t->nfigs * sizeof *p);
        if (!p)
            return ND_ERR_NOMEM;
        t->figs = p;
        t->figs_cap = 2 * t->nfigs;
    }
    nd__sort_u64(t->figs, t->figs + t->nfigs, t->nfigs);
    t->nfigs = nd__unique_u64(t->figs, t->nfigs);
    return ND_OK;
}
