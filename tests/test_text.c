/*
 * test_text.c - normalization and shingling (src/text).
 *
 * Golden normalizations are written out by hand from the Unicode data
 * (NFKC, case folding, general categories).  Two independent references
 * check the rest: a byte-at-a-time ASCII normalizer, and utf8proc's
 * whole-string NFKC_Casefold followed by per-code-point classification,
 * against which random mixes of ASCII and non-ASCII text are compared.
 * Shingle hashes are recomputed here from the rules of text.h written out
 * directly (XXH3 from the xxHash library), and word n-grams of short tokens
 * are checked against tests/golden/gen_words.py as well.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../src/core/dfcount.h"
#include "../src/text/text.h"
#include "golden/words.h"

static nd__textbuf tb;

static void teardown(void)
{
    nd__textbuf_free(&tb);
}

TestSuite(text, .fini = teardown);

/* Normalize s (NUL-terminated) in lenient mode; expect ND_OK. */
static const char *norm(const char *s, int *bad)
{
    int b = -1;
    int rc = nd__normalize(&tb, s, strlen(s), 0, &b);
    cr_assert_eq(rc, ND_OK, "normalize(\"%s\") = %d", s, rc);
    cr_assert(b == 0 || b == 1);
    cr_assert_eq(strlen(tb.norm), tb.norm_len);
    if (bad)
        *bad = b;
    return tb.norm;
}

static void expect(const char *in, const char *want)
{
    int bad;
    const char *got = norm(in, &bad);
    cr_expect_str_eq(got, want, "normalize(\"%s\") = \"%s\", want \"%s\"", in,
                     got, want);
    cr_expect_eq(bad, 0, "bad_utf8 set for \"%s\"", in);
}

/* ---------------------------------------------------------------- golden */

Test(text, ascii_basics)
{
    expect("Hello, World!", "hello world");
    expect("  leading   and trailing  ", "leading and trailing");
    expect("tabs\tand\nnew\r\nlines", "tabs and new lines");
    expect("Route 66, 2024-05-01", "route 66 2024 05 01");
    expect("e-mail: foo@example.com", "e mail foo example com");
    expect("x", "x");
    expect("", "");
}

Test(text, apostrophes_join)
{
    expect("don't", "dont");
    expect("don\xe2\x80\x99t", "dont");        /* U+2019 */
    expect("don\xe2\x80\x98t", "dont");        /* U+2018 */
    expect("don\xca\xbct", "dont");            /* U+02BC */
    expect("don\xc2\xb4t", "dont");            /* U+00B4 */
    expect("don`t", "dont");                   /* U+0060 */
    expect("don\xef\xbc\x87t", "dont");        /* U+FF07 */
    expect("'quoted' word", "quoted word");
    expect("rock 'n' roll", "rock n roll");
    expect("the 1990's", "the 1990s");
}

Test(text, quotes_dashes_spaces_fold)
{
    expect("\xe2\x80\x9cSmart\xe2\x80\x9d quotes", "smart quotes");
    expect("a\xe2\x80\x94" "b \xe2\x80\x93 c\xe2\x80\x91" "d", "a b c d");
    expect("wait\xe2\x80\xa6" "done", "wait done"); /* ellipsis */
    expect("a\xc2\xa0" "b", "a b");                 /* NBSP */
    expect("a\xe3\x80\x80" "b", "a b");             /* ideographic space */
    expect("\xc2\xab" "bonjour\xc2\xbb", "bonjour");  /* guillemets */
    expect("price: 5\xe2\x82\xac", "price 5");        /* euro sign */
}

Test(text, nfkc)
{
    expect("\xef\xac\x81nance", "finance");            /* U+FB01 fi */
    expect("\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3", "abc"); /* full-width */
    expect("\xef\xbc\x91\xef\xbc\x92", "12");          /* full-width digits */
    expect("e\xcc\x81", "\xc3\xa9");                   /* e + U+0301 -> é */
    expect("E\xcc\x81", "\xc3\xa9");
    expect("cafe\xcc\x81 bar", "caf\xc3\xa9 bar");
    expect("x\xe2\x80\x94" "e\xcc\x81", "x \xc3\xa9");
    expect("\xc2\xbd", "1 2");                         /* ½ -> 1⁄2 */
    expect("\xe2\x91\xa0", "1");                       /* circled one */
    expect("ex\xc2\xad" "ample", "example");           /* soft hyphen */
    expect("zero\xe2\x80\x8bwidth", "zerowidth");       /* U+200B */
    expect("\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80"); /* Hangul L+V */
}

Test(text, case_folding)
{
    expect("Stra\xc3\x9f" "e", "strasse");
    expect("\xc3\x9c" "BER", "\xc3\xbc" "ber");
    /* ΟΔΥΣΣΕΎΣ -> οδυσσεύσ */
    expect("\xce\x9f\xce\x94\xce\xa5\xce\xa3\xce\xa3\xce\x95\xce\x8e\xce\xa3",
           "\xce\xbf\xce\xb4\xcf\x85\xcf\x83\xcf\x83\xce\xb5\xcf\x8d\xcf\x83");
    expect("\xcf\x82", "\xcf\x83"); /* final sigma folds to σ */
    /* МОСКВА Привет -> москва привет */
    expect("\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90 "
           "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
           "\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 "
           "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
    expect("\xe5\x8c\x97\xe4\xba\xac\xe3\x80\x82\xe6\xac\xa2",
           "\xe5\x8c\x97\xe4\xba\xac \xe6\xac\xa2"); /* 北京。欢 */
    expect("\xd9\xa3\xd9\xa4", "\xd9\xa3\xd9\xa4");  /* Arabic-Indic digits */
}

Test(text, nothing_left)
{
    expect("!!! ... --- ???", "");
    expect("\xe2\x80\x9c\xe2\x80\x9d\xe2\x80\x94\xe2\x80\xa6", "");
    expect(" \t\n\r  ", "");
    expect("\xc2\xa0\xe3\x80\x80", "");
    expect("'''", "");
}

Test(text, invalid_utf8_repaired)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a\xff" "b", "a b"},              /* lone 0xff */
        {"a\xe2\x82", "a"},                /* truncated sequence at the end */
        {"a\xe2\x82" "b", "a b"},          /* truncated in the middle */
        {"a\xc0\xaf" "b", "a b"},          /* overlong '/' */
        {"a\xed\xa0\x80" "b", "a b"},      /* surrogate */
        {"\x80\x80", ""},                  /* lone continuation bytes */
        {"e\xff\xcc\x81", "e \xcc\x81"},   /* a mark cut from its starter */
        {"caf\xc3\xa9\xff", "caf\xc3\xa9"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int bad;
        const char *got = norm(cases[k].in, &bad);
        cr_expect_str_eq(got, cases[k].want, "case %zu: \"%s\"", k, got);
        cr_expect_eq(bad, 1, "case %zu", k);

        bad = -1;
        int rc = nd__normalize(&tb, cases[k].in, strlen(cases[k].in),
                               ND_NORM_STRICT_UTF8, &bad);
        cr_expect_eq(rc, ND_ERR_UTF8, "case %zu strict: %d", k, rc);
        cr_expect_eq(bad, 1, "case %zu strict", k);
    }
    int bad = -1;
    const char *ok = "caf\xc3\xa9 \xf0\x9f\x98\x80 ok"; /* with an emoji */
    cr_expect_eq(nd__normalize(&tb, ok, strlen(ok), ND_NORM_STRICT_UTF8, &bad),
                 ND_OK);
    cr_expect_eq(bad, 0);
    cr_expect_str_eq(tb.norm, "caf\xc3\xa9 ok");
}

Test(text, embedded_nul_separates)
{
    int bad;
    cr_assert_eq(nd__normalize(&tb, "ab\0cd", 5, 0, &bad), ND_OK);
    cr_expect_str_eq(tb.norm, "ab cd");
    cr_expect_eq(tb.norm_len, 5);
}

/* ------------------------------------------------------------ references */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state += UINT64_C(0x9E3779B97F4A7C15);
    uint64_t z = rng_state;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* The ASCII rules one byte at a time, written without tables. */
static size_t ascii_reference(const char *in, size_t len, char *out)
{
    size_t o = 0;
    int pending = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (pending && o > 0)
                out[o++] = ' ';
            pending = 0;
            out[o++] = c;
        } else if (c != '\'' && c != '`') {
            pending = 1;
        }
    }
    out[o] = '\0';
    return o;
}

Test(text, ascii_fast_path_matches_reference)
{
    static const char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        "     ''``..,,;:!?-_()[]{}\"/\\@#$%^&*+=<>|~\t\n\r\x01\x7f";
    static const char prose[] = "etaoinshrdlucmfwypvbgkjqxzETAOIN0123   .,";
    rng_state = 42;
    char in[600], want[620];
    for (int round = 0; round < 3000; round++) {
        /* odd rounds: mostly letters and single spaces, as in prose */
        const char *abc = round & 1 ? prose : alphabet;
        size_t nabc = round & 1 ? sizeof prose - 1 : sizeof alphabet - 1;
        size_t len = (size_t)(rnd() % 520);
        for (size_t i = 0; i < len; i++)
            in[i] = abc[rnd() % nabc];
        size_t wlen = ascii_reference(in, len, want);
        int bad;
        cr_assert_eq(nd__normalize(&tb, in, len, 0, &bad), ND_OK);
        cr_assert_eq(bad, 0);
        cr_assert_eq(tb.norm_len, wlen, "round %d: length %zu, want %zu",
                     round, tb.norm_len, wlen);
        cr_assert_str_eq(tb.norm, want, "round %d", round);
    }
}

static utf8proc_int32_t ref_apostrophe(utf8proc_int32_t cp, void *data)
{
    (void)data;
    return cp == 0x2018 || cp == 0x2019 || cp == 0x02BC || cp == 0x00B4 ||
                   cp == 0xFF07
               ? '\''
               : cp;
}

/*
 * The whole text through utf8proc_map_custom at once, then each code point
 * classified: the stretch-by-stretch implementation must give the same.
 */
static char *unicode_reference(const char *in)
{
    utf8proc_uint8_t *folded = NULL;
    utf8proc_ssize_t n = utf8proc_map_custom(
        (const utf8proc_uint8_t *)in, (utf8proc_ssize_t)strlen(in), &folded,
        UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
            UTF8PROC_CASEFOLD | UTF8PROC_IGNORE,
        ref_apostrophe, NULL);
    cr_assert(n >= 0, "utf8proc_map_custom: %s", utf8proc_errmsg(n));
    char *out = malloc((size_t)n + 1);
    cr_assert(out);
    size_t o = 0;
    int pending = 0, deleted = 0;
    for (utf8proc_ssize_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(folded + i, n - i, &cp);
        cr_assert(k > 0);
        cp = ref_apostrophe(cp, NULL); /* as made by a decomposition */
        utf8proc_category_t cat = utf8proc_category(cp);
        int keep = cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO;
        /* what composes with the code point before it goes with a deleted
           apostrophe */
        int follows = (cat >= UTF8PROC_CATEGORY_MN &&
                       cat <= UTF8PROC_CATEGORY_ME) ||
                      (cp >= 0x1161 && cp <= 0x1175) ||
                      (cp >= 0x11A8 && cp <= 0x11C2);
        if (deleted && follows) {
            i += k;
            continue;
        }
        deleted = cp == '\'' || cp == '`';
        if (keep) {
            if (pending && o > 0)
                out[o++] = ' ';
            pending = 0;
            memcpy(out + o, folded + i, (size_t)k);
            o += (size_t)k;
        } else if (cp != '\'' && cp != '`') {
            pending = 1;
        }
        i += k;
    }
    out[o] = '\0';
    free(folded);
    return out;
}

Test(text, unicode_matches_whole_string_reference)
{
    static const char *const pieces[] = {
        "a", "e", "E", "o", "Z", "1", " ", ".", "'", "`", "-", "\n",
        "\xcc\x81",         /* U+0301 combining acute */
        "\xcc\xa7",         /* U+0327 combining cedilla */
        "\xcc\x88",         /* U+0308 combining diaeresis */
        "\xc3\xa9",         /* é */
        "\xc3\x89",         /* É */
        "\xc3\x9f",         /* ß */
        "\xef\xac\x81",     /* ﬁ */
        "\xef\xbc\xa1",     /* Ａ */
        "\xe2\x80\x99",     /* ’ */
        "\xc2\xb4",         /* ´ */
        "\xe2\x80\x94",     /* — */
        "\xe2\x80\xa6",     /* … */
        "\xc2\xa0",         /* NBSP */
        "\xc2\xad",         /* soft hyphen */
        "\xce\xa3",         /* Σ */
        "\xd0\x96",         /* Ж */
        "\xe5\x8c\x97",     /* 北 */
        "\xe1\x84\x80",     /* Hangul choseong kiyeok */
        "\xe1\x85\xa1",     /* Hangul jungseong a */
        "\xc2\xbd",         /* ½ */
        "\xef\xbf\xbd",     /* U+FFFD */
        "\xf0\x9d\x90\x80", /* U+1D400 mathematical bold A */
        "\xc5\x89",         /* U+0149 n preceded by apostrophe */
    };
    const size_t np = sizeof pieces / sizeof pieces[0];
    rng_state = 7;
    char in[400];
    for (int round = 0; round < 2000; round++) {
        size_t len = 0, count = (size_t)(rnd() % 60);
        for (size_t k = 0; k < count; k++) {
            const char *p = pieces[rnd() % np];
            memcpy(in + len, p, strlen(p));
            len += strlen(p);
        }
        in[len] = '\0';
        char *want = unicode_reference(in);
        int bad;
        cr_assert_eq(nd__normalize(&tb, in, len, 0, &bad), ND_OK);
        cr_assert_eq(bad, 0);
        cr_assert_str_eq(tb.norm, want, "round %d: input \"%s\"", round, in);
        /* normalizing is idempotent */
        char *once = strdup(tb.norm);
        cr_assert_eq(nd__normalize(&tb, once, strlen(once), 0, &bad), ND_OK);
        cr_assert_str_eq(tb.norm, once, "round %d: input \"%s\"", round, in);
        free(once);
        free(want);
    }
}

/* A mark after a deleted apostrophe was kept and followed the letter
   before it, undecomposed: normalizing the output again composed the two
   ("a`" U+0300 gave "a" U+0300, then "à").  It goes with the apostrophe,
   in one stretch or after an ASCII one, and so do Hangul vowel and final
   jamo, which compose with the jamo before them. */
Test(text, mark_after_apostrophe_goes_with_it)
{
    expect("a`\xcc\x80" "b", "ab");
    expect("a`````\xcc\x80\xcc\x81" "b", "ab");
    expect("don\xe2\x80\x99\xcc\x81t", "dont");
    expect("caf\xc3\xa9'\xcc\x81s", "caf\xc3\xa9s");
    expect("\xe1\x84\x80'\xe1\x85\xa1\xe1\x86\xa8", "\xe1\x84\x80");
    expect("e\xcc\x81", "\xc3\xa9");       /* no apostrophe: composed */
    expect("a \xcc\x80", "a \xcc\x80");     /* after a separator: kept */
    /* an apostrophe made by a decomposition is one too: U+0149 is U+02BC
       and "n", and U+02BC was kept (and deleted when normalized again) */
    expect("o\xc5\x89" "e", "one");
    expect("\xc5\x89\xcc\x81", "\xc5\x84");
    char *once = strdup(norm("x`\xcc\x80", NULL));
    cr_expect_str_eq(norm(once, NULL), "x");
    free(once);
}

Test(text, long_input_grows_buffers)
{
    /* U+FDFA expands to 18 code points: output far longer than input. */
    size_t reps = 5000;
    char *in = malloc(reps * 4 + 1);
    cr_assert(in);
    for (size_t k = 0; k < reps; k++)
        memcpy(in + 4 * k, "\xef\xb7\xba ", 4);
    in[reps * 4] = '\0';
    const char *one = norm("\xef\xb7\xba", NULL);
    size_t onelen = strlen(one);
    cr_assert_gt(onelen, 6);
    char *first = strdup(one);
    const char *all = norm(in, NULL);
    cr_expect_eq(strlen(all), reps * onelen + (reps - 1));
    cr_expect_eq(strncmp(all, first, onelen), 0);
    free(first);
    free(in);
}

/* -------------------------------------------------------------- shingles */

static void shingle_text(const char *text, nd_shingle_kind kind, unsigned n,
                         uint64_t seed)
{
    int bad;
    cr_assert_eq(nd__normalize(&tb, text, strlen(text), 0, &bad), ND_OK);
    cr_assert_eq(nd__shingle(&tb, kind, n, seed), ND_OK);
}

static void assert_sorted_unique(void)
{
    for (size_t i = 1; i < tb.nhashes; i++)
        cr_assert_lt(tb.hashes[i - 1], tb.hashes[i], "at %zu", i);
}

Test(text, shingle_counts)
{
    shingle_text("a b c d e", ND_SHINGLE_WORD, 3, 1);
    cr_expect_eq(tb.nhashes, 3);
    shingle_text("a b c a b c", ND_SHINGLE_WORD, 3, 1); /* abc bca cab abc */
    cr_expect_eq(tb.nhashes, 3);
    shingle_text("a a a a a", ND_SHINGLE_WORD, 2, 1);
    cr_expect_eq(tb.nhashes, 1);
    shingle_text("abcdefg", ND_SHINGLE_CHAR, 5, 1);
    cr_expect_eq(tb.nhashes, 3);
    shingle_text("ab cd", ND_SHINGLE_CHAR, 5, 1); /* exactly n code points */
    cr_expect_eq(tb.nhashes, 1);
    shingle_text("a b", ND_SHINGLE_WORD, 3, 1);
    cr_expect_eq(tb.nhashes, 1);
    shingle_text("abc", ND_SHINGLE_CHAR, 5, 1);
    cr_expect_eq(tb.nhashes, 1);
    shingle_text("", ND_SHINGLE_WORD, 3, 1);
    cr_expect_eq(tb.nhashes, 0);
    shingle_text("?!", ND_SHINGLE_CHAR, 3, 1);
    cr_expect_eq(tb.nhashes, 0);
    shingle_text("\xc3\xa9t\xc3\xa9 \xe5\x8c\x97", ND_SHINGLE_CHAR, 2, 1);
    cr_expect_eq(tb.nhashes, 4); /* "ét" "té" "é " " 北" */
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void sort_unique(uint64_t *a, size_t *n)
{
    qsort(a, *n, sizeof *a, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (k == 0 || a[i] != a[k - 1])
            a[k++] = a[i];
    *n = k;
}

/*
 * The word n-gram rule of text.h written out directly: the token's bytes
 * gathered one at a time, the n-gram as the full xor of rotated hashes.
 */
static uint64_t ref_fmix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    return x ^ (x >> 33);
}

static uint64_t ref_token(const char *tok, size_t len, uint64_t seed)
{
    if (len > 8)
        return XXH3_64bits_withSeed(tok, len, seed);
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++)
        w |= (uint64_t)(unsigned char)tok[i] << (8 * i);
    return ref_fmix64(w ^ seed);
}

static uint64_t ref_ngram(const uint64_t *t, unsigned m)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < m; i++) {
        unsigned r = 21 * (m - 1 - i) % 64;
        x ^= r ? t[i] << r | t[i] >> (64 - r) : t[i];
    }
    return ref_fmix64(x);
}

Test(text, word_hashes_golden)
{
    size_t ncase = sizeof GOLDEN_WORDS / sizeof GOLDEN_WORDS[0];
    for (size_t c = 0; c < ncase; c++) {
        const golden_words *g = &GOLDEN_WORDS[c];
        shingle_text(g->text, ND_SHINGLE_WORD, g->n, g->seed);
        cr_assert_eq(tb.nhashes, g->count, "\"%s\"", g->text);
        cr_expect_eq(memcmp(tb.hashes, g->set, g->count * sizeof *g->set), 0,
                     "\"%s\" n=%u", g->text, g->n);
    }
}

/* Every text length from 1 to 200 bytes, so the text ends at every offset
 * of the 8- and 64-byte blocks it is read in. */
Test(text, word_hashes_every_length)
{
    const uint64_t seed = 31;
    char text[201];
    uint64_t th[100], want[100];
    for (size_t len = 1; len <= 200; len++) {
        size_t ntok = 0, start = 0;
        for (size_t i = 0; i < len; i++) {
            text[i] = i % 7 == 3 && i + 1 < len ? ' ' : (char)('a' + i % 26);
            if (text[i] == ' ' || i + 1 == len) {
                size_t e = text[i] == ' ' ? i : len;
                th[ntok++] = ref_token(text + start, e - start, seed);
                start = i + 1;
            }
        }
        text[len] = '\0';
        size_t nw = 0;
        unsigned m = ntok < 3 ? (unsigned)ntok : 3;
        for (size_t k = 0; k + m <= ntok; k++)
            want[nw++] = ref_ngram(th + k, m);
        sort_unique(want, &nw);
        shingle_text(text, ND_SHINGLE_WORD, 3, seed);
        cr_assert_eq(tb.nhashes, nw, "length %zu", len);
        cr_assert_eq(memcmp(tb.hashes, want, nw * sizeof *want), 0, "length %zu", len);
    }
}

Test(text, word_hashes_by_hand)
{
    const uint64_t seed = 12345;
    uint64_t t[3] = {ref_token("a", 1, seed), ref_token("bb", 2, seed),
                     ref_token("c", 1, seed)};
    uint64_t want[2] = {ref_ngram(t, 2), ref_ngram(t + 1, 2)};
    size_t n = 2;
    sort_unique(want, &n);
    shingle_text("A, bb; C.", ND_SHINGLE_WORD, 2, seed);
    cr_assert_eq(tb.nhashes, 2);
    cr_expect_eq(tb.hashes[0], want[0]);
    cr_expect_eq(tb.hashes[1], want[1]);

    /* tokens with UTF-8 bytes next to the spaces: 5, 2, 10 and 8 bytes */
    const char *u[4] = {"\xc3\xa9\xe5\x8c\x97", "\xd0\xb6",
                        "\xce\xb1\xce\xb2\xce\xb3\xce\xb4\xce\xb5",
                        "\xce\xb1\xce\xb2\xce\xb3\xce\xb4"};
    uint64_t tu[4];
    for (int k = 0; k < 4; k++)
        tu[k] = ref_token(u[k], strlen(u[k]), seed);
    cr_expect_eq(tu[2], XXH3_64bits_withSeed(u[2], 10, seed));
    shingle_text("\xc3\x89\xe5\x8c\x97 \xd0\x96 "
                 "\xce\x91\xce\x92\xce\x93\xce\x94\xce\x95",
                 ND_SHINGLE_WORD, 3, seed);
    cr_assert_eq(tb.nhashes, 1);
    cr_expect_eq(tb.hashes[0], ref_ngram(tu, 3));
    shingle_text("\xce\x91\xce\x92\xce\x93\xce\x94", ND_SHINGLE_WORD, 1, seed);
    cr_assert_eq(tb.nhashes, 1);
    cr_expect_eq(tb.hashes[0], ref_ngram(tu + 3, 1));

    /* fewer tokens than n: one shingle of all of them */
    shingle_text("a bb", ND_SHINGLE_WORD, 5, seed);
    cr_assert_eq(tb.nhashes, 1);
    cr_expect_eq(tb.hashes[0], ref_ngram(t, 2));
}

Test(text, char_hashes_by_hand)
{
    const uint64_t seed = 99;
    /* "é a": code points é, ' ', a; bigrams "é " and " a" */
    uint64_t want[2] = {XXH3_64bits_withSeed("\xc3\xa9 ", 3, seed),
                        XXH3_64bits_withSeed(" a", 2, seed)};
    size_t n = 2;
    sort_unique(want, &n);
    shingle_text("\xc3\x89 a", ND_SHINGLE_CHAR, 2, seed);
    cr_assert_eq(tb.nhashes, 2);
    cr_expect_eq(tb.hashes[0], want[0]);
    cr_expect_eq(tb.hashes[1], want[1]);

    shingle_text("xy", ND_SHINGLE_CHAR, 4, seed);
    cr_assert_eq(tb.nhashes, 1);
    cr_expect_eq(tb.hashes[0], XXH3_64bits_withSeed("xy", 2, seed));
}

Test(text, seed_changes_hashes)
{
    shingle_text("the quick brown fox", ND_SHINGLE_WORD, 3, 1);
    cr_assert_eq(tb.nhashes, 2);
    uint64_t a0 = tb.hashes[0], a1 = tb.hashes[1];
    shingle_text("the quick brown fox", ND_SHINGLE_WORD, 3, 2);
    cr_assert_eq(tb.nhashes, 2);
    cr_expect(tb.hashes[0] != a0 && tb.hashes[0] != a1);
    cr_expect(tb.hashes[1] != a0 && tb.hashes[1] != a1);
}

Test(text, typographic_variants_shingle_alike)
{
    shingle_text("Don\xe2\x80\x99t stop", ND_SHINGLE_WORD, 1, 5);
    cr_assert_eq(tb.nhashes, 2);
    uint64_t a[2] = {tb.hashes[0], tb.hashes[1]};
    shingle_text("don't STOP!", ND_SHINGLE_WORD, 1, 5);
    cr_assert_eq(tb.nhashes, 2);
    cr_expect_eq(tb.hashes[0], a[0]);
    cr_expect_eq(tb.hashes[1], a[1]);

    shingle_text("\xe2\x80\x9c" "Don\xe2\x80\x99t stop\xe2\x80\x9d \xe2\x80\x94 "
                 "ever", ND_SHINGLE_WORD, 2, 5);
    cr_assert_eq(tb.nhashes, 2);
    uint64_t b[2] = {tb.hashes[0], tb.hashes[1]};
    shingle_text("\"don't STOP\" -- ever", ND_SHINGLE_WORD, 2, 5);
    cr_assert_eq(tb.nhashes, 2);
    cr_expect_eq(tb.hashes[0], b[0]);
    cr_expect_eq(tb.hashes[1], b[1]);
}

/* A long text of words drawn from a small vocabulary: the set must equal
 * the n-grams computed here, sorted and deduplicated with qsort. */
static void check_long(nd_shingle_kind kind, unsigned n, size_t ntok,
                       unsigned vocab)
{
    const uint64_t seed = 2024;
    char *text = malloc(ntok * 24 + 1);
    uint64_t *th = malloc(ntok * sizeof *th);
    uint64_t *want = malloc(ntok * 24 * sizeof *want);
    cr_assert(text && th && want);
    size_t len = 0;
    for (size_t k = 0; k < ntok; k++) {
        unsigned w = (unsigned)(rnd() % vocab);
        char tok[24]; /* 2 to 19 bytes, across the 8-byte and 64-byte blocks */
        const int r = snprintf(tok, sizeof tok, "w%u%.*s", w, (int)(w * 7 % 16),
                               "abcdefghijklmnop");
        cr_assert(r > 0 && (size_t)r < sizeof tok);
        const size_t tl = (size_t)r;
        th[k] = ref_token(tok, tl, seed);
        if (k)
            text[len++] = ' ';
        memcpy(text + len, tok, tl);
        len += tl;
    }
    text[len] = '\0';
    size_t nw = 0;
    if (kind == ND_SHINGLE_WORD) {
        for (size_t k = 0; k + n <= ntok; k++)
            want[nw++] = ref_ngram(th + k, n);
    } else {
        for (size_t k = 0; k + n <= len; k++) /* ASCII: bytes = code points */
            want[nw++] = XXH3_64bits_withSeed(text + k, n, seed);
    }
    sort_unique(want, &nw);
    shingle_text(text, kind, n, seed);
    cr_assert_eq(tb.nhashes, nw, "%zu shingles, want %zu", tb.nhashes, nw);
    cr_assert_eq(memcmp(tb.hashes, want, nw * sizeof *want), 0);
    assert_sorted_unique();
    free(text);
    free(th);
    free(want);
}

Test(text, long_sets_equal_reference)
{
    rng_state = 3;
    check_long(ND_SHINGLE_WORD, 3, 5000, 300);
    check_long(ND_SHINGLE_WORD, 1, 4000, 1000);  /* many repeats */
    check_long(ND_SHINGLE_WORD, 5, 40, 10);      /* insertion-sort size */
    check_long(ND_SHINGLE_WORD, 2, 300, 4);      /* at most 16 distinct */
    check_long(ND_SHINGLE_WORD, 64, 700, 40);    /* every rotation */
    check_long(ND_SHINGLE_CHAR, 5, 3000, 200);
    check_long(ND_SHINGLE_CHAR, 24, 800, 50);
}

Test(text, free_resets)
{
    shingle_text("some words here", ND_SHINGLE_WORD, 2, 0);
    nd__textbuf_free(&tb);
    cr_expect_null(tb.norm);
    cr_expect_null(tb.hashes);
    cr_expect_eq(tb.nhashes, 0);
    nd__textbuf_free(&tb); /* twice is harmless */
    nd__textbuf_free(NULL);
}

/* -------------------------------------------------- counting the set */

/*
 * Text of ntok words drawn from a vocabulary of vocab ("w" and a number),
 * each of them from rnd(); vocab 0: every word distinct.
 */
static char *words_text(size_t ntok, size_t vocab)
{
    char *s = malloc(ntok * 12 + 1), *o = s;
    cr_assert_not_null(s);
    for (size_t i = 0; i < ntok; i++)
        o += sprintf(o, "%sw%zu", i ? " " : "", vocab ? (size_t)(rnd() % vocab) : i);
    *o = '\0';
    return s;
}

/*
 * nd__shingle_text_count against nd__shingle_text then nd__df_add_own: the
 * same set in the same order and the same counters, over several texts
 * counted in turn into one df of 2^bits counters.
 */
static void check_count(const char *const *texts, size_t ntexts,
                        nd_shingle_kind kind, unsigned n, unsigned bits)
{
    nd__textbuf ref = {0};
    nd__df want, got;
    cr_assert_eq(nd__df_init(&want, bits), ND_OK);
    cr_assert_eq(nd__df_init(&got, bits), ND_OK);
    for (size_t i = 0; i < ntexts; i++) {
        const size_t len = strlen(texts[i]);
        cr_assert_eq(nd__shingle_text(&ref, texts[i], len, 0, NULL, kind, n, 9, 0), ND_OK);
        nd__df_add_own(&want, ref.hashes, ref.nhashes);
        cr_assert_eq(nd__shingle_text_count(&tb, texts[i], len, 0, NULL, kind, n, 9, &got),
                     ND_OK);
        cr_assert_eq(tb.nhashes, ref.nhashes, "text %zu: %zu shingles, want %zu", i,
                     tb.nhashes, ref.nhashes);
        cr_assert(tb.nhashes == 0 ||
                      memcmp(tb.hashes, ref.hashes, tb.nhashes * sizeof *tb.hashes) == 0,
                  "text %zu: another set or order", i);
    }
    size_t total = 0, any = 0;
    for (size_t i = 0; i < ntexts; i++)
        any += texts[i][0] != '\0';
    for (size_t c = 0; c < (size_t)1 << bits; c++) {
        const unsigned w = atomic_load(&want.cnt[c]), g = atomic_load(&got.cnt[c]);
        cr_assert_eq(g, w, "counter %zu: %u, want %u", c, g, w);
        total += g;
    }
    cr_assert_eq(total > 0, any > 0, "counted %zu with %zu texts not empty", total, any);
    nd__df_free(&want);
    nd__df_free(&got);
    nd__textbuf_free(&ref);
}

Test(text, counting_the_set_equals_counting_after)
{
    rng_state = 11;
    const char *empty[] = {""};
    check_count(empty, 1, ND_SHINGLE_GLYPH, 8, 10);
    char *all = words_text(3000, 1); /* one word: every shingle a repeat */
    char *none = words_text(3000, 0); /* every word new */
    char *some = words_text(5000, 400);
    char *wide = words_text(70000, 0); /* more distinct than 16-bit places */
    const char *mix[] = {all, none, some, "", some, wide, all};
    check_count(mix, 7, ND_SHINGLE_WORD, 1, 12);
    check_count(mix, 7, ND_SHINGLE_WORD, 3, 20);
    check_count(mix, 7, ND_SHINGLE_GLYPH, 8, 16);
    /* Many texts in turn: the table's stamps wrap past 255 calls. */
    enum { MANY = 300 };
    char *many[MANY];
    for (size_t i = 0; i < MANY; i++)
        many[i] = words_text(1 + rnd() % 200, 50 + i);
    check_count((const char *const *)many, MANY, ND_SHINGLE_GLYPH, 8, 14);
    for (size_t i = 0; i < MANY; i++)
        free(many[i]);
    free(all);
    free(none);
    free(some);
    free(wide);
}

/*
 * Counters of a huge page or more (2^19 and up) are laid on a huge-page
 * boundary (dfcount.c), smaller ones are not: both start at zero, count,
 * merge and halve alike, and free (the sanitizers check the block).
 */
Test(text, df_counters_on_either_allocation)
{
    const unsigned sizes[] = {4, 18, 19, 21};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const unsigned bits = sizes[s];
        const size_t n = (size_t)1 << bits;
        nd__df d, e;
        cr_assert_eq(nd__df_init(&d, bits), ND_OK);
        cr_assert_eq(nd__df_init(&e, bits), ND_OK);
#ifdef __linux__
        if (bits >= 19)
            cr_assert_eq((uintptr_t)(void *)d.cnt % ((uintptr_t)2 << 20), 0,
                         "2^%u counters not on a huge-page boundary", bits);
#endif
        for (size_t c = 0; c < n; c++)
            cr_assert_eq(atomic_load(&d.cnt[c]), 0u, "2^%u: counter %zu not zero", bits, c);
        const uint64_t h[] = {0, 1, n - 1, n, 3 * n + 1, UINT64_MAX};
        nd__df_add_own(&d, h, 6);
        nd__df_add_own(&e, h, 6);
        nd__df_add_own(&e, h, 6);
        nd__df_merge(&d, &e);
        nd__df_halve(&d);
        /* Two hashes a counter, counted three times, halved. */
        cr_assert_eq(nd__df_get(&d, 0), 3u); /* 0 and n */
        cr_assert_eq(nd__df_get(&d, 1), 3u); /* 1 and 3n + 1 */
        cr_assert_eq(nd__df_get(&d, n - 1), 3u); /* n - 1 and UINT64_MAX */
        cr_assert_eq(nd__df_get(&d, 2), 0u);
        cr_assert_eq(nd__df_get(&e, n - 1), 0u);
        nd__df_free(&d);
        nd__df_free(&e);
        cr_assert_null(d.cnt);
        nd__df_free(&d); /* freeing twice is harmless */
    }
}
