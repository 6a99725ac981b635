/*
 * test_figures.c - the figure scan on every code path against a plain
 * reference.
 *
 * The reference below is the scan as first written, compare by compare and
 * byte by byte (a digit search without words, a copy of each word for its
 * hash, a sort at the end).  Every path of nd__figures must give its output
 * exactly, value for value and in order, with the same early stop, on
 * random bytes and on news-like texts built from the cases the rules name:
 * figures with inner punctuation, OCR look-alikes, months, times, years,
 * long digit runs, more figures than a check reads.  Texts are copied into
 * buffers of their exact size, so a read past the end shows under ASan.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "../src/core/mix.h"
#include "../src/text/numbers.h"
#include "../src/text/text.h"

/* --------------------------------------------------------- reference */

static int ref_digit(char c) { return c >= '0' && c <= '9'; }

static int ref_alnum(char c)
{
    return ref_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ref_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static int ref_inner(char c)
{
    return c == '.' || c == ',' || c == ':' || c == ';' || c == '\'' || c == '`';
}

static char ref_digit_of(char c)
{
    switch (c) {
    case 'O': case 'o': return '0';
    case 'l': case 'I': case 'i': return '1';
    default: return ref_digit(c) ? c : 0;
    }
}

static uint32_t ref_word_hash(const char *w, size_t n)
{
    unsigned char b[8];
    memset(b, 0, sizeof b);
    for (size_t k = 0; k < n && k < 8; k++)
        b[k] = (unsigned char)(w[k] | 0x20);
    uint64_t x = 0;
    for (int k = 7; k >= 0; k--)
        x = x << 8 | b[k];
    return (uint32_t)(nd__fmix64(x ^ (uint64_t)n << 56) >> 32);
}

static uint32_t ref_word_before(const char *text, size_t a)
{
    size_t lim = a > 16 ? a - 16 : 0, e = a;
    while (e > lim && !ref_alpha(text[e - 1]))
        e--;
    size_t b = e;
    while (b > 0 && e - b < 16 && ref_alpha(text[b - 1]))
        b--;
    return e > lim && b < e ? ref_word_hash(text + b, e - b) : 0;
}

static uint32_t ref_word_after(const char *text, size_t i, size_t len)
{
    size_t lim = i + 16 < len ? i + 16 : len, b = i;
    while (b < lim && !ref_alpha(text[b]))
        b++;
    size_t e = b;
    while (e < len && ref_alpha(text[e]))
        e++;
    return b < lim && b < e ? ref_word_hash(text + b, e - b) : 0;
}

static int ref_after_month(const char *text, size_t a)
{
    static const char *const months[] = {
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct",
        "nov", "dec", "january", "february", "march", "april", "june", "july",
        "august", "september", "october", "november", "december"};
    size_t e = a;
    while (e > 0 && a - e < 3 &&
           (text[e - 1] == ' ' || text[e - 1] == '.' || text[e - 1] == ','))
        e--;
    size_t b = e;
    while (b > 0 && e - b < 10 && ref_alpha(text[b - 1]))
        b--;
    if (e - b < 3 || (b > 0 && ref_alpha(text[b - 1])))
        return 0;
    for (size_t m = 0; m < sizeof months / sizeof *months; m++) {
        size_t k = 0;
        while (months[m][k] && b + k < e && (text[b + k] | 0x20) == months[m][k])
            k++;
        if (!months[m][k] && b + k == e)
            return 1;
    }
    return 0;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* The figures of text[0..len) into out (room for ND__FIGS_KEPT + 1);
   returns their number. */
static size_t ref_figures(const char *text, size_t len, uint64_t seed, uint64_t *out)
{
    const uint64_t fseed = seed ^ 0x66696775726573ull;
    char buf[64];
    size_t nf = 0, i = 0, done = 0;
    for (;;) {
        while (i < len && !ref_digit(text[i]))
            i++;
        if (i == len)
            break;
        size_t a = i, others = 0;
        while (a > done && (ref_alnum(text[a - 1]) ||
                            (ref_inner(text[a - 1]) && a - 1 > done &&
                             ref_alnum(text[a - 2]))))
            a--;
        i = a;
        while (i < len) {
            char c = text[i];
            if (ref_alnum(c)) {
                if (!ref_digit_of(c))
                    others++;
                i++;
            } else if (ref_inner(c) && i > a && i + 1 < len && ref_alnum(text[i + 1])) {
                i++;
            } else {
                break;
            }
        }
        done = i;
        size_t n = 0;
        int colon = 0, punct = 0;
        for (size_t j = a; j <= i; j++) {
            char d = j < i ? (others ? (ref_digit(text[j]) ? text[j] : 0)
                                     : ref_digit_of(text[j]))
                           : 0;
            if (d) {
                if (n < sizeof buf)
                    buf[n++] = d;
            } else if (n && (j == i || ref_alnum(text[j]))) {
                int year = n == 4 && !punct &&
                           ((buf[0] == '1' && buf[1] == '9') || (buf[0] == '2' && buf[1] == '0'));
                int time = colon && n <= 6;
                int day = n <= 2 && !punct && ref_after_month(text, a);
                if (!year && !time && !day) {
                    uint32_t ctx = (ref_word_before(text, a) * 31u +
                                    ref_word_after(text, i, len)) * 2654435761u;
                    uint64_t x = 0;
                    if (n <= 19) {
                        for (size_t k = 0; k < n; k++)
                            x = x * 10 + (uint64_t)(buf[k] - '0');
                        x = nd__fmix64(x ^ ((uint64_t)n << 59) ^ fseed);
                    } else {
                        x = XXH3_64bits_withSeed(buf, n, fseed);
                    }
                    uint64_t f = (uint64_t)((ctx & 0xFFFF0000u) | ((uint32_t)x & 0xFFFFu)) << 32;
                    int seen = 0;
                    for (size_t k = 0; k < nf; k++)
                        seen |= out[k] == f;
                    if (!seen)
                        out[nf++] = f;
                    if (nf > ND__FIGS_KEPT)
                        goto enough;
                }
                n = 0;
                colon = punct = 0;
            } else if (n && j < i) {
                colon |= text[j] == ':';
                punct = 1;
            }
        }
    }
enough:
    qsort(out, nf, sizeof *out, cmp_u64);
    return nf;
}

/* --------------------------------------------------------- inputs */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t pick(size_t n) { return (size_t)(next_rand() % n); }

/* Pieces of news text around figures. */
static const char *const PIECES[] = {
    "Shr", "cts", "vs", "loss", "Net", "mln", "Revs", "profit", "Year", "the",
    "budget", "rose", "to", "in", "on", "counts", "Updated", "Posted", "AM",
    "July", "Sept.", "Jan", "jan.", "March", "Mayday", "december", "Octo",
    "SEPTEMBER", "Nov,", "1,250.5", "0.21", "$3.5", "10%", "3-1", "9:30",
    "12:15:05", "7:08", "19'87", "19.87", "1987", "2018", "20", "19",
    "l987", "2O18", "1O%", "10lbs", "in1987", "I2", "oo", "O", "l", "i1",
    "a.1", "1.a", "1..2", "1,,2", "`5`", ";7;", "5;6", "x9y", "007", "00",
    "123456789012345678", "1234567890123456789", "12345678901234567890",
    "123456789012345678901234567890123456789012345678901234567890123456789",
    "Abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyzabcdefghij",
    "\xc3\xa9t\xc3\xa9", "\xe2\x80\x94", "\x80", "\xff", "\xc2\xa0"};
static const char *const SEPS[] = {" ", " ", " ", ", ", ". ", "\n", "\n\n", "-",
                                   "", "(", ") ", " -- ", "\t", "/", ":", "'"};

/* A news-like text of about len bytes into s (room for len + 200). */
static size_t news_text(char *s, size_t len)
{
    size_t n = 0;
    while (n < len) {
        const char *p = PIECES[pick(sizeof PIECES / sizeof *PIECES)];
        if (pick(3) == 0) { /* a fresh number */
            char num[32];
            int w = snprintf(num, sizeof num, "%llu",
                             (unsigned long long)(next_rand() % (pick(4) ? 1000 : 100000000)));
            memcpy(s + n, num, (size_t)w);
            n += (size_t)w;
        } else {
            memcpy(s + n, p, strlen(p));
            n += strlen(p);
        }
        const char *q = SEPS[pick(sizeof SEPS / sizeof *SEPS)];
        memcpy(s + n, q, strlen(q));
        n += strlen(q);
    }
    return n;
}

/* Random bytes: digits, letters, inner punctuation, look-alikes, spaces,
   bytes >= 0x80, in proportions that make words of all shapes. */
static size_t random_text(char *s, size_t len)
{
    static const char alphabet[] = "0123456789OolIiabcxyzJjSsAM.,:;'`  -\n%$";
    for (size_t k = 0; k < len; k++) {
        size_t r = pick(20);
        s[k] = r == 0 ? (char)(0x80 + pick(128))
                      : alphabet[pick(sizeof alphabet - 1)];
    }
    return len;
}

static void need_path(nd__digits_path p)
{
    if (!(nd__digit_paths() >> p & 1))
        cr_skip_test("this CPU has no path %d", (int)p);
}

/* nd__figures on path p gives the reference's figures for text[0..len),
   read from a buffer of exactly len bytes. */
static void check_text(nd__digits_path p, nd__textbuf *t, const char *text,
                       size_t len, uint64_t seed, const char *what)
{
    char *exact = malloc(len ? len : 1);
    cr_assert_not_null(exact);
    memcpy(exact, text, len);
    uint64_t want[ND__FIGS_KEPT + 1];
    size_t nw = ref_figures(exact, len, seed, want);
    cr_assert_eq(nd__figures_on(p, t, exact, len, seed), ND_OK);
    if (t->nfigs != nw || (nw && memcmp(t->figs, want, nw * sizeof *want))) {
        char show[200];
        size_t k = len < sizeof show - 1 ? len : sizeof show - 1;
        memcpy(show, exact, k);
        show[k] = 0;
        cr_assert_fail("path %d, %s, length %zu: %zu figures, want %zu: \"%s\"",
                       (int)p, what, len, t->nfigs, nw, show);
    }
    free(exact);
}

ParameterizedTestParameters(figures, digit_search_on_every_path)
{
    static nd__digits_path paths[] = {ND__DIGITS_SCALAR, ND__DIGITS_AVX2,
                                      ND__DIGITS_AVX512};
    return cr_make_param_array(nd__digits_path, paths, sizeof paths / sizeof *paths);
}

/* Every length 0..200, a digit (or none) at every offset among letters,
   spaces and bytes >= 0x80 (which are no digits: '0' + 0x80 neither), and
   every starting point. */
ParameterizedTest(nd__digits_path *p, figures, digit_search_on_every_path)
{
    need_path(*p);
    static const char fill[] = "ab \xc3\xa9/:x;Z\x80\xff~@ \xb0\xb9\xba\x2f\x3a";
    for (size_t len = 0; len <= 200; len++)
        for (size_t at = 0; at <= len; at++) {
            char *s = malloc(len ? len : 1);
            cr_assert_not_null(s);
            for (size_t k = 0; k < len; k++)
                s[k] = fill[(k * 7 + len) % (sizeof fill - 1)];
            if (at < len)
                s[at] = (char)('0' + (at + len) % 10);
            size_t from_step = len > 70 ? 7 : 1;
            for (size_t from = 0; from <= len; from += from_step) {
                size_t want = from <= at ? at : len;
                size_t got = nd__next_digit_on(*p, s, from, len);
                cr_assert_eq(got, want, "path %d, length %zu, digit at %zu, from %zu: %zu",
                             (int)*p, len, at, from, got);
            }
            free(s);
        }
}

ParameterizedTestParameters(figures, digit_search_on_random_bytes)
{
    static nd__digits_path paths[] = {ND__DIGITS_SCALAR, ND__DIGITS_AVX2,
                                      ND__DIGITS_AVX512};
    return cr_make_param_array(nd__digits_path, paths, sizeof paths / sizeof *paths);
}

/* Random bytes of every length up to 200, many digits among them: the
   search agrees with a byte loop from every start. */
ParameterizedTest(nd__digits_path *p, figures, digit_search_on_random_bytes)
{
    need_path(*p);
    rng = 12345;
    char s[200];
    for (int round = 0; round < 40; round++)
        for (size_t len = 0; len <= sizeof s; len++) {
            for (size_t k = 0; k < len; k++)
                s[k] = (char)(pick(8) ? 0x80 + pick(128) : pick(128));
            for (size_t from = 0; from <= len; from++) {
                size_t want = from;
                while (want < len && !(s[want] >= '0' && s[want] <= '9'))
                    want++;
                cr_assert_eq(nd__next_digit_on(*p, s, from, len), want,
                             "path %d, length %zu, from %zu", (int)*p, len, from);
            }
        }
}

ParameterizedTestParameters(figures, the_reference_on_every_path)
{
    static nd__digits_path paths[] = {ND__DIGITS_SCALAR, ND__DIGITS_AVX2,
                                      ND__DIGITS_AVX512};
    return cr_make_param_array(nd__digits_path, paths, sizeof paths / sizeof *paths);
}

/* News-like texts of every size from a few words to well past the early
   stop, each also cut at every length (the words at the end of a text and
   the context read near it), and random byte strings. */
ParameterizedTest(nd__digits_path *p, figures, the_reference_on_every_path)
{
    need_path(*p);
    nd__textbuf t = {0};
    char *s = malloc(4096 + 200);
    cr_assert_not_null(s);
    rng = 777;
    size_t stopped = 0, few = 0;
    for (int round = 0; round < 400; round++) {
        size_t len = news_text(s, round < 200 ? 1 + pick(300) : 1 + pick(4096));
        check_text(*p, &t, s, len, (uint64_t)round, "news");
        stopped += t.nfigs > ND__FIGS_KEPT;
        few += t.nfigs > 0 && t.nfigs <= ND__FIGS_KEPT;
        if (round < 40)
            for (size_t cut = 0; cut < len; cut++)
                check_text(*p, &t, s, cut, 1, "news, cut");
    }
    cr_assert_gt(stopped, 50, "texts past the early stop: %zu", stopped);
    cr_assert_gt(few, 50, "texts under it: %zu", few);
    for (int round = 0; round < 2000; round++) {
        size_t len = random_text(s, pick(400));
        check_text(*p, &t, s, len, 3, "random");
    }
    free(s);
    nd__textbuf_free(&t);
}

/* The rules, by hand, on the default path: the reference reads them so. */
Test(figures, the_reference_reads_the_rules)
{
    uint64_t f[ND__FIGS_KEPT + 1];
    static const char *const none[] = {
        "Updated 7:08 AM", "Posted July 16, 2018", "Sept. 3", "in l987",
        "12:15:05", "no digits at all", ""};
    for (size_t k = 0; k < sizeof none / sizeof *none; k++)
        cr_assert_eq(ref_figures(none[k], strlen(none[k]), 1, f), 0, "%s", none[k]);
    cr_assert_eq(ref_figures("Shr 21 cts vs 18 cts", 20, 1, f), 2);
    uint64_t g[ND__FIGS_KEPT + 1];
    cr_assert_eq(ref_figures("rose 1,250.5 pct", 16, 1, f), 1);
    cr_assert_eq(ref_figures("rose 12505 pct", 14, 1, g), 1);
    cr_assert_eq(f[0], g[0], "the same digits, the same words around");
    cr_assert_eq(ref_figures("charged on 16 counts", 20, 1, f), 1);
}

ParameterizedTestParameters(figures, class_masks_on_every_path)
{
    static nd__digits_path paths[] = {ND__DIGITS_SCALAR, ND__DIGITS_AVX2,
                                      ND__DIGITS_AVX512};
    return cr_make_param_array(nd__digits_path, paths, sizeof paths / sizeof *paths);
}

/* The class masks of 128 bytes from every base, before the text, across
   it and past its end, against each byte's class written plainly. */
ParameterizedTest(nd__digits_path *p, figures, class_masks_on_every_path)
{
    need_path(*p);
    rng = 99;
    for (size_t len = 0; len <= 300; len += len < 140 ? 1 : 37) {
        char *s = malloc(len ? len : 1);
        cr_assert_not_null(s);
        random_text(s, len);
        for (ptrdiff_t base = -140; base <= (ptrdiff_t)len + 10; base++) {
            nd__byte_masks m[2];
            nd__byte_masks_on(*p, s, len, base, m);
            for (int h = 0; h < 2; h++)
                for (int k = 0; k < 64; k++) {
                    const ptrdiff_t at = base + 64 * h + k;
                    const char c = at >= 0 && at < (ptrdiff_t)len ? s[at] : 0;
                    const int in = at >= 0 && at < (ptrdiff_t)len;
                    const int alpha = in && ref_alpha(c), digit = in && ref_digit(c);
                    const int want[6] = {
                        alpha, digit, alpha || digit, in && ref_inner(c),
                        in && (c == ' ' || c == ',' || c == '.'),
                        alpha && !ref_digit_of(c)};
                    const uint64_t got[6] = {m[h].alpha, m[h].digit, m[h].alnum,
                                             m[h].inner, m[h].sep, m[h].other};
                    for (int q = 0; q < 6; q++)
                        cr_assert_eq((int)(got[q] >> k & 1), want[q],
                                     "path %d, length %zu, base %td, byte %td, mask %d",
                                     (int)*p, len, base, at, q);
                }
        }
        free(s);
    }
}
