/*
 * test_glyph.c - glyph n-grams (the default shingles) and OCR-tolerant
 * figures.
 *
 * The expected sets are rebuilt here from the rule as text.h states it: the
 * normalized text with its spaces dropped and look-alikes folded, every
 * window of n glyphs read as an n-byte little-endian word, xored with the
 * seed; the windows whose product with 0x9e3779b97f4a7c15 is below 2^63 are
 * kept, put through the MurmurHash3 finalizer.  OCR variants are written out by hand.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/text/text.h"

static nd__textbuf tb;

static void teardown(void)
{
    nd__textbuf_free(&tb);
}

TestSuite(glyph, .fini = teardown);

static uint64_t fmix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* The folded glyph string of an ASCII, already normalized text. */
static size_t fold(const char *s, char *out)
{
    static const char *const from[] = {"0o", "1il", "ec", "hb", "5s", NULL};
    size_t n = 0;
    for (; *s; s++) {
        char c = *s;
        if (c == ' ')
            continue;
        if (c == 'm') {
            out[n++] = 'r';
            out[n++] = 'n';
            continue;
        }
        if (c == 'w') {
            out[n++] = 'v';
            out[n++] = 'v';
            continue;
        }
        if (c == 'd') {
            out[n++] = 'c';
            out[n++] = 'l';
            continue;
        }
        for (int k = 0; from[k]; k++)
            if (strchr(from[k], c))
                c = from[k][strlen(from[k]) - 1];
        out[n++] = c;
    }
    return n;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The kept window hashes of norm, sorted; the count is returned. */
static size_t expected(const char *norm, unsigned n, uint64_t seed, uint64_t *out)
{
    char g[512];
    size_t ng = fold(norm, g), m = 0;
    for (size_t i = 0; i + n <= ng; i++) {
        uint64_t w = 0;
        for (unsigned j = 0; j < n; j++)
            w |= (uint64_t)(unsigned char)g[i + j] << (8 * j);
        uint64_t v = w ^ seed;
        if (v * 0x9e3779b97f4a7c15ull < 1ull << 63)
            out[m++] = fmix(v);
    }
    qsort(out, m, sizeof *out, cmp);
    return m;
}

static size_t shingles(const char *text, unsigned n, uint64_t seed)
{
    cr_assert_eq(nd__normalize(&tb, text, strlen(text), 0, NULL), ND_OK);
    cr_assert_eq(nd__shingle(&tb, ND_SHINGLE_GLYPH, n, seed), ND_OK);
    return tb.nhashes;
}

Test(glyph, windows_follow_the_stated_rule)
{
    const char *norm = "the harbour bridge will close for repairs from the "
                       "first of june until the end of august said the mayor";
    uint64_t want[512];
    for (uint64_t seed = 1; seed <= 3; seed++) {
        size_t m = expected(norm, 8, seed, want);
        cr_assert_gt(m, 10);
        cr_assert_eq(shingles(norm, 8, seed), m, "seed %llu", (unsigned long long)seed);
        cr_assert_eq(memcmp(tb.hashes, want, m * sizeof *want), 0);
    }
    size_t m = expected(norm, 5, 7, want);
    cr_assert_eq(shingles(norm, 5, 7), m);
    cr_assert_eq(memcmp(tb.hashes, want, m * sizeof *want), 0);
}

Test(glyph, ocr_look_alikes_spaces_and_marks_change_nothing)
{
    const char *clean = "The modern rail line will open in the spring, the "
                        "mayor said on Wednesday.";
    /* rn for m, 1 and I for l, c for e, b for h, 0 for o, a lost space, a
       split word and stray marks */
    const char *scan = "Tbc rnodcrn rai1 Iine wi11 open inthe spr ing, tbe "
                       "may'or said 0n Wcdnes.day.";
    size_t n = shingles(clean, 8, 1);
    uint64_t *a = malloc(n * sizeof *a);
    memcpy(a, tb.hashes, n * sizeof *a);
    cr_assert_eq(shingles(scan, 8, 1), n);
    cr_assert_eq(memcmp(tb.hashes, a, n * sizeof *a), 0);
    free(a);
}

Test(glyph, a_lost_letter_touches_only_the_windows_over_it)
{
    const char *clean = "officials said the bridge would reopen to traffic "
                        "before the end of the month after repairs";
    const char *lost = "officials said the bridge would reopen to trafic "
                       "before the end of the month after repairs";
    size_t na = shingles(clean, 8, 1);
    uint64_t *a = malloc(na * sizeof *a);
    memcpy(a, tb.hashes, na * sizeof *a);
    size_t nb = shingles(lost, 8, 1);
    size_t i = 0, j = 0, only_a = 0, only_b = 0;
    while (i < na || j < nb) {
        if (j == nb || (i < na && a[i] < tb.hashes[j]))
            i++, only_a++;
        else if (i == na || tb.hashes[j] < a[i])
            j++, only_b++;
        else
            i++, j++;
    }
    /* the 8 windows holding the second f go, 7 new ones come */
    cr_assert_leq(only_a, 8);
    cr_assert_leq(only_b, 7);
    cr_assert_gt(na - only_a, 20);
    free(a);
}

Test(glyph, short_texts_and_the_empty_text)
{
    cr_assert_eq(shingles("", 8, 1), 0);
    cr_assert_eq(shingles("  ,, ", 8, 1), 0);
    cr_assert_eq(shingles("a cat", 8, 1), 1, "shorter than a window: one shingle");
    uint64_t one = tb.hashes[0];
    cr_assert_eq(shingles("A  c-a-t", 8, 1), 1);
    cr_assert_eq(tb.hashes[0], one);
    /* long enough for windows: never empty, even if none is chosen */
    cr_assert_geq(shingles("abcdefghij", 8, 1), 1);
}

/* The figures' values (their context left out), sorted. */
static size_t figures(const char *s, uint64_t *out)
{
    cr_assert_eq(nd__figures(&tb, s, strlen(s), 1), ND_OK);
    for (size_t i = 0; i < tb.nfigs; i++)
        out[i] = (tb.figs[i] >> 32) & 0xFFFF;
    for (size_t i = 0; i < tb.nfigs; i++)
        for (size_t j = i + 1; j < tb.nfigs; j++)
            if (out[j] < out[i]) { uint64_t x = out[i]; out[i] = out[j]; out[j] = x; }
    return tb.nfigs;
}

Test(glyph, figures_survive_ocr)
{
    uint64_t a[16], b[16];
    size_t n = figures("In 1487 the 3018 budget rose 10% to 1,250.5", a);
    cr_assert_eq(n, 4);
    /* look-alike digits, a stray mark, a lost space */
    cr_assert_eq(figures("In l487 the 3O18 budget rose 1O% to 1,25'0.5", b), 4);
    cr_assert_eq(memcmp(a, b, sizeof a[0] * 4), 0);
    cr_assert_eq(figures("Inl487 the 3018budget rose 10 % to 12505", b), 4);
    cr_assert_neq(memcmp(a, b, sizeof a[0] * 4), 0,
                  "in a word with other letters l is a letter: 487");
    cr_assert_eq(figures("In 1487 the 3018budget rose 10 % to 12505", b), 4);
    cr_assert_eq(memcmp(a, b, sizeof a[0] * 4), 0);
    /* page furniture: plain years, times of day and days of the month are
       no figures, a year garbled by a scan neither; a figure with a mark
       inside stays one, and so does a number after another word */
    cr_assert_eq(figures("Updated 7:08 AM, July 16, 2018; posted 12:15:05 in l987", b), 0);
    cr_assert_eq(figures("Posted Sept. 3, 2018 and Jul 4", b), 0);
    cr_assert_eq(figures("charged on 16 counts", b), 1, "16 after 'on' is a figure");
    cr_assert_eq(figures("19.87 and 20,18", b), 2);
    /* words without digits are not figures, whatever their letters */
    cr_assert_eq(figures("Oil loll IO", b), 0);
    /* 10lbs: the digits only */
    size_t m = figures("10lbs", b);
    cr_assert_eq(m, 1);
    cr_assert_eq(figures("10 lbs", a), 1);
    cr_assert_eq(a[0], b[0]);
}

/*
 * The whole rule written out plainly for any normalized byte string: fold
 * byte by byte, take every window, keep by the product (or the smallest
 * product when none is kept; all the glyphs when fewer than n), sort,
 * drop repeats.  Returns the count; out has room for len + 1.
 */
static size_t reference_set(const unsigned char *s, size_t len, unsigned n,
                            uint64_t seed, uint64_t *out)
{
    unsigned char *g = malloc(2 * len + 1);
    size_t ng = 0;
    for (size_t i = 0; i < len; i++) {
        switch (s[i]) {
        case ' ': break;
        case '0': case 'o': g[ng++] = 'o'; break;
        case '1': case 'i': case 'l': g[ng++] = 'l'; break;
        case 'e': case 'c': g[ng++] = 'c'; break;
        case 'h': case 'b': g[ng++] = 'b'; break;
        case '5': case 's': g[ng++] = 's'; break;
        case 'm': g[ng++] = 'r'; g[ng++] = 'n'; break;
        case 'w': g[ng++] = 'v'; g[ng++] = 'v'; break;
        case 'd': g[ng++] = 'c'; g[ng++] = 'l'; break;
        default: g[ng++] = s[i];
        }
    }
    size_t m = 0;
    if (ng > 0 && ng <= n) {
        uint64_t w = 0;
        for (size_t j = 0; j < ng; j++)
            w |= (uint64_t)g[j] << (8 * j);
        out[m++] = fmix(w ^ seed);
    } else if (ng > n) {
        uint64_t best = UINT64_MAX, best_v = 0;
        for (size_t i = 0; i + n <= ng; i++) {
            uint64_t w = 0;
            for (unsigned j = 0; j < n; j++)
                w |= (uint64_t)g[i + j] << (8 * j);
            uint64_t v = w ^ seed, p = v * 0x9e3779b97f4a7c15ull;
            if (p < 1ull << 63)
                out[m++] = fmix(v);
            if (p < best) {
                best = p;
                best_v = v;
            }
        }
        if (m == 0)
            out[m++] = fmix(best_v);
    }
    free(g);
    qsort(out, m, sizeof *out, cmp);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || out[u - 1] != out[i])
            out[u++] = out[i];
    return u;
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Put s[0..len) in tb.norm as nd__normalize would leave it. */
static void set_norm(const unsigned char *s, size_t len)
{
    free(tb.norm);
    tb.norm = malloc(len + 16);
    memcpy(tb.norm, s, len);
    memset(tb.norm + len, 0, 16);
    tb.norm_len = len;
    tb.norm_cap = len + 16;
}

Test(glyph, random_texts_follow_the_rule)
{
    /* every byte a normalized text can hold; d m w, spaces and digits
       often, with runs of each */
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789"
                                   "dmwdmwdmw01515ihie      ";
    enum { MAXLEN = 12000 };
    unsigned char *s = malloc(MAXLEN);
    uint64_t *want = malloc((MAXLEN + 1) * sizeof *want);
    uint64_t *bag = malloc((MAXLEN + 1) * sizeof *bag);
    for (int round = 0; round < 400; round++) {
        size_t len = round < 300 ? rng() % 80 : rng() % MAXLEN;
        unsigned high = (unsigned)(rng() % 4); /* 0: ASCII only */
        for (size_t i = 0; i < len; i++) {
            uint64_t r = rng();
            if (high && r % 8 < high)
                s[i] = (unsigned char)(0x80 + (r >> 8) % 128);
            else
                s[i] = (unsigned char)alphabet[(r >> 8) % (sizeof alphabet - 1)];
        }
        unsigned n = 1 + (unsigned)(rng() % 8);
        if (round % 2)
            n = 8;
        uint64_t seed = rng();
        size_t m = reference_set(s, len, n, seed, want);

        set_norm(s, len);
        cr_assert_eq(nd__shingle(&tb, ND_SHINGLE_GLYPH, n, seed), ND_OK);
        cr_assert_eq(tb.nhashes, m, "round %d, len %zu, n %u", round, len, n);
        cr_assert_eq(memcmp(tb.hashes, want, m * sizeof *want), 0,
                     "round %d", round);

        set_norm(s, len);
        cr_assert_eq(nd__shingle_bag(&tb, ND_SHINGLE_GLYPH, n, seed), ND_OK);
        cr_assert_eq(tb.nhashes, m, "bag: round %d", round);
        memcpy(bag, tb.hashes, m * sizeof *bag);
        qsort(bag, m, sizeof *bag, cmp);
        cr_assert_eq(memcmp(bag, want, m * sizeof *want), 0, "bag: round %d",
                     round);
    }
    free(s);
    free(want);
    free(bag);
}

Test(glyph, a_large_text_drops_repeats_in_order)
{
    /* Over 2^16 kept windows (the dedupe table's wide slots) and under
       (its narrow ones): the bag of t + " " + t is the bag of t, in the
       same order, and then the few windows across the join; sorted, it is
       the reference set. */
    static const size_t lens[] = {3000, 400000};
    for (size_t r = 0; r < sizeof lens / sizeof *lens; r++) {
        const size_t len = lens[r], len2 = 2 * len + 1;
        unsigned char *s = malloc(len2);
        uint64_t *want = malloc((len2 + 1) * sizeof *want);
        uint64_t *once = malloc((len + 1) * sizeof *once);
        cr_assert(s && want && once);
        for (size_t i = 0; i < len; i++)
            s[i] = (unsigned char)('a' + rng() % 26);
        s[len] = ' ';
        memcpy(s + len + 1, s, len);
        set_norm(s, len);
        cr_assert_eq(nd__shingle_bag(&tb, ND_SHINGLE_GLYPH, 8, 7), ND_OK);
        const size_t m1 = tb.nhashes;
        cr_assert_eq(m1, reference_set(s, len, 8, 7, want));
        if (r == 1)
            cr_assert_gt(m1, 65536, "the wide slots are exercised");
        memcpy(once, tb.hashes, m1 * sizeof *once);

        set_norm(s, len2);
        cr_assert_eq(nd__shingle_bag(&tb, ND_SHINGLE_GLYPH, 8, 7), ND_OK);
        const size_t m2 = reference_set(s, len2, 8, 7, want);
        cr_assert_eq(tb.nhashes, m2);
        cr_assert_geq(m2, m1);
        cr_assert_leq(m2, m1 + 7);
        cr_assert_eq(memcmp(tb.hashes, once, m1 * sizeof *once), 0,
                     "first occurrences first, in order (len %zu)", len);
        qsort(tb.hashes, m2, sizeof *tb.hashes, cmp);
        cr_assert_eq(memcmp(tb.hashes, want, m2 * sizeof *want), 0);
        free(s);
        free(want);
        free(once);
    }
}

Test(glyph, a_zero_hash_is_kept_once)
{
    /* the seed equal to the window "kkkkkkkk" makes it v = 0, kept (its
       product is 0) and hashed to 0 (the finalizer fixes 0) */
    const char *text = "kkkkkkkk the tax kkkkkkkkk rose kkkkkkkk";
    uint64_t seed = 0x6b6b6b6b6b6b6b6bull, want[64];
    size_t m = reference_set((const unsigned char *)text, strlen(text), 8,
                             seed, want);
    cr_assert_eq(want[0], 0);
    cr_assert_neq(want[1], 0);
    cr_assert_eq(shingles(text, 8, seed), m);
    cr_assert_eq(memcmp(tb.hashes, want, m * sizeof *want), 0);
    cr_assert_eq(nd__normalize(&tb, text, strlen(text), 0, NULL), ND_OK);
    cr_assert_eq(nd__shingle_bag(&tb, ND_SHINGLE_GLYPH, 8, seed), ND_OK);
    cr_assert_eq(tb.nhashes, m);
    size_t zeros = 0;
    for (size_t i = 0; i < m; i++)
        zeros += tb.hashes[i] == 0;
    cr_assert_eq(zeros, 1);
    qsort(tb.hashes, m, sizeof *tb.hashes, cmp);
    cr_assert_eq(memcmp(tb.hashes, want, m * sizeof *want), 0);
}

Test(glyph, one_buffer_drops_repeats_alike_call_after_call)
{
    /* More calls than the dedupe table has stamps, text a once in every 255
       and b in between: a stamp reused without clearing would mark a's
       slots from 255 calls before as in use, holding a's own shingles. */
    const char *text[2] = {
        "the council met again on monday and the council voted again to "
        "delay the vote on the budget",
        "a quick brown fox jumps over lazy dogs while four zebras graze "
        "quietly by that river bank",
    };
    uint64_t want[2][256];
    size_t m[2];
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(nd__normalize(&tb, text[k], strlen(text[k]), 0, NULL),
                     ND_OK);
        m[k] = reference_set((const unsigned char *)tb.norm, tb.norm_len, 8, 1,
                             want[k]);
        cr_assert_gt(m[k], 20);
    }
    nd__textbuf_free(&tb);
    for (int call = 0; call < 600; call++) {
        int k = call % 255 != 0;
        cr_assert_eq(nd__normalize(&tb, text[k], strlen(text[k]), 0, NULL),
                     ND_OK);
        cr_assert_eq(nd__shingle_bag(&tb, ND_SHINGLE_GLYPH, 8, 1), ND_OK);
        cr_assert_eq(tb.nhashes, m[k], "call %d", call);
        qsort(tb.hashes, m[k], sizeof *tb.hashes, cmp);
        cr_assert_eq(memcmp(tb.hashes, want[k], m[k] * sizeof *want[k]), 0,
                     "call %d", call);
    }
}

/* ------------------------------------------------ kernels and raw text */

#include "golden/glyphs.h"

static void need_text_path(nd__text_path p)
{
    if (!(nd__text_paths() >> p & 1))
        cr_skip_test("this CPU has no path %d", (int)p);
}

/* The glyphs of one raw ASCII byte, written plainly. */
static size_t raw_fold1(unsigned char c, unsigned char *o)
{
    if (c >= 'A' && c <= 'Z')
        c = (unsigned char)(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
        return 0;
    char norm[2] = {(char)c, 0};
    return fold(norm, (char *)o);
}

/* A set from the kernels of one path, as shingle.c assembles it. */
static size_t set_on_path(nd__text_path p, const char *text, unsigned n,
                          uint64_t seed, uint64_t *out)
{
    size_t len = strlen(text), used;
    unsigned char *g = calloc(2 * len + ND__GLYPH_SLACK + 16, 1);
    size_t ng = nd__fold_ascii_on(p, (const unsigned char *)text, len, g, &used);
    cr_assert_eq(used, len);
    memset(g + ng, 0, 16);
    size_t m = 0;
    uint64_t mask = n >= 8 ? UINT64_MAX : (1ull << (8 * n)) - 1;
    if (ng > 0 && ng <= n) {
        uint64_t w;
        memcpy(&w, g, 8);
        out[m++] = fmix((w & mask) ^ seed);
    } else if (ng > n) {
        m = nd__pick_windows_on(p, g, 0, ng - n + 1, n, seed, out);
        if (m == 0) {
            uint64_t best = UINT64_MAX, bv = 0;
            for (size_t i = 0; i + n <= ng; i++) {
                uint64_t w;
                memcpy(&w, g + i, 8);
                w = (w & mask) ^ seed;
                if (w * 0x9e3779b97f4a7c15ull < best) {
                    best = w * 0x9e3779b97f4a7c15ull;
                    bv = w;
                }
            }
            out[m++] = fmix(bv);
        }
    }
    free(g);
    qsort(out, m, sizeof *out, cmp);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || out[u - 1] != out[i])
            out[u++] = out[i];
    return u;
}

ParameterizedTestParameters(glyph, golden_on_every_path)
{
    static nd__text_path paths[] = {ND__TEXT_SCALAR, ND__TEXT_AVX512};
    return cr_make_param_array(nd__text_path, paths, sizeof paths / sizeof *paths);
}

ParameterizedTest(nd__text_path *p, glyph, golden_on_every_path)
{
    need_text_path(*p);
    uint64_t *got = malloc(4096 * sizeof *got);
    for (size_t c = 0; c < sizeof GOLDEN_GLYPHS / sizeof *GOLDEN_GLYPHS; c++) {
        const golden_glyphs *gg = &GOLDEN_GLYPHS[c];
        size_t m = set_on_path(*p, gg->text, gg->n, gg->seed, got);
        cr_assert_eq(m, gg->count, "path %d, case %zu", (int)*p, c);
        cr_assert_eq(memcmp(got, gg->set, m * sizeof *got), 0, "path %d, case %zu",
                     (int)*p, c);
    }
    free(got);
}

Test(glyph, golden_from_raw_text)
{
    for (size_t c = 0; c < sizeof GOLDEN_GLYPHS / sizeof *GOLDEN_GLYPHS; c++) {
        const golden_glyphs *gg = &GOLDEN_GLYPHS[c];
        for (int sorted = 0; sorted < 2; sorted++) {
            int bad = -1;
            cr_assert_eq(nd__shingle_text(&tb, gg->text, strlen(gg->text), 0, &bad,
                                          ND_SHINGLE_GLYPH, gg->n, gg->seed, sorted),
                         ND_OK);
            cr_assert_eq(bad, 0);
            cr_assert_eq(tb.nhashes, gg->count, "case %zu", c);
            if (!sorted)
                qsort(tb.hashes, tb.nhashes, sizeof *tb.hashes, cmp);
            cr_assert_eq(memcmp(tb.hashes, gg->set, gg->count * sizeof *gg->set), 0,
                         "case %zu, sorted %d", c, sorted);
        }
    }
}

ParameterizedTestParameters(glyph, kernels_follow_the_rule)
{
    static nd__text_path paths[] = {ND__TEXT_SCALAR, ND__TEXT_AVX512};
    return cr_make_param_array(nd__text_path, paths, sizeof paths / sizeof *paths);
}

/* Every length up to 300 around the vector widths, high bytes anywhere,
   and windows over every span, width and seed. */
ParameterizedTest(nd__text_path *p, glyph, kernels_follow_the_rule)
{
    need_text_path(*p);
    enum { MAX = 300 };
    unsigned char s[MAX], want[2 * MAX + 2];
    unsigned char *got = malloc(2 * MAX + ND__GLYPH_SLACK);
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)round % MAX;
        for (size_t i = 0; i < len; i++)
            s[i] = (unsigned char)(rng() % 128);
        if (round % 3 == 0 && len)
            s[rng() % len] = (unsigned char)(0x80 + rng() % 128);
        size_t nw = 0, stop = 0;
        while (stop < len && s[stop] < 0x80)
            nw += raw_fold1(s[stop++], want + nw);
        size_t used = SIZE_MAX;
        size_t ng = nd__fold_ascii_on(*p, s, len, got, &used);
        cr_assert_eq(used, stop, "round %d", round);
        cr_assert_eq(ng, nw, "round %d", round);
        cr_assert_eq(memcmp(got, want, ng), 0, "round %d", round);
    }
    free(got);

    enum { G = 600 };
    unsigned char g[G + 16];
    uint64_t out[G + 8], ref[G];
    for (int round = 0; round < 2000; round++) {
        for (size_t i = 0; i < G + 16; i++)
            g[i] = (unsigned char)rng();
        size_t from = rng() % 64, to = from + rng() % (G - 64);
        unsigned n = 1 + (unsigned)(rng() % 8);
        uint64_t seed = round % 5 ? rng() : 0;
        uint64_t mask = n >= 8 ? UINT64_MAX : (1ull << (8 * n)) - 1;
        size_t m = 0;
        for (size_t i = from; i < to; i++) {
            uint64_t w = 0;
            for (unsigned j = 0; j < n; j++)
                w |= (uint64_t)g[i + j] << (8 * j);
            w = (w & mask) ^ seed;
            if (w * 0x9e3779b97f4a7c15ull < 1ull << 63)
                ref[m++] = fmix(w);
        }
        size_t c = nd__pick_windows_on(*p, g, from, to, n, seed, out);
        cr_assert_eq(c, m, "round %d", round);
        cr_assert_eq(memcmp(out, ref, m * sizeof *ref), 0, "round %d", round);
    }
}

/*
 * Shingling the raw text (the glyphs folded from it directly) gives the
 * set of normalizing first, on texts made to stress the non-ASCII runs:
 * combining marks after ASCII letters and digits, compatibility forms,
 * typographic apostrophes, upper case beyond ASCII, default-ignorables,
 * invalid bytes; with and without --strict, sorted and not.
 */
Test(glyph, raw_text_gives_the_set_of_the_normalized_text)
{
    static const char *const pieces[] = {
        "the", "Cafe", "caf\xc3\xa9", "cafe\xcc\x81", "e\xcc\x81\xcc\x81", "5\xcc\x81",
        "na\xc3\xafve", "\xef\xac\x81nance", "\xef\xbc\xa6\xef\xbd\x95ll",
        "don\xe2\x80\x99t", "it\xc2\xb4s", "\xe2\x80\x9cquoted\xe2\x80\x9d",
        "Stra\xc3\x9f" "e", "\xce\xa3\xce\x9f\xce\xa6", "\xe6\x97\xa5\xe6\x9c\xac",
        "soft\xc2\xad" "hyphen", "zero\xe2\x80\x8bwidth", "\xe2\x85\xab", "\xc2\xbd",
        "A\xcc\x8a", "Modern", "wired", "$1,250.5", "O'Brien", "`tick`", " ",
        "  ", "\n", "-", "\xe2\x80\x94", "...", "\xff", "\xc3", "\xe2\x80",
        "\xed\xa0\x80", "x\xc3\x28", "\xf0\x9f\x98\x80"};
    enum { NP = sizeof pieces / sizeof *pieces };
    char text[4096];
    nd__textbuf ref = {0};
    for (int round = 0; round < 1500; round++) {
        size_t len = 0, np = rng() % 60;
        for (size_t k = 0; k < np; k++) {
            const char *pc = pieces[rng() % NP];
            size_t l = strlen(pc);
            memcpy(text + len, pc, l);
            len += l;
            if (rng() % 2)
                text[len++] = ' ';
        }
        unsigned flags = round % 4 == 3 ? ND_NORM_STRICT_UTF8 : 0;
        unsigned n = round % 3 ? 8 : 1 + (unsigned)(rng() % 8);
        uint64_t seed = rng();
        int sorted = round % 2;
        int bad_ref = -1, bad = -1;
        int rc_ref = nd__normalize(&ref, text, len, flags, &bad_ref);
        if (rc_ref == ND_OK)
            rc_ref = sorted ? nd__shingle(&ref, ND_SHINGLE_GLYPH, n, seed)
                            : nd__shingle_bag(&ref, ND_SHINGLE_GLYPH, n, seed);
        int rc = nd__shingle_text(&tb, text, len, flags, &bad, ND_SHINGLE_GLYPH, n,
                                  seed, sorted);
        cr_assert_eq(rc, rc_ref, "round %d", round);
        cr_assert_eq(bad, bad_ref, "round %d", round);
        if (rc != ND_OK)
            continue;
        cr_assert_eq(tb.nhashes, ref.nhashes, "round %d", round);
        if (!sorted) {
            qsort(tb.hashes, tb.nhashes, sizeof *tb.hashes, cmp);
            qsort(ref.hashes, ref.nhashes, sizeof *ref.hashes, cmp);
        }
        cr_assert_eq(memcmp(tb.hashes, ref.hashes, tb.nhashes * sizeof *tb.hashes), 0,
                     "round %d", round);
    }
    nd__textbuf_free(&ref);
}
