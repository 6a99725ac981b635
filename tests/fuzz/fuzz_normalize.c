/*
 * fuzz_normalize.c - libFuzzer target: text normalization through the
 * public sketcher (nd_sketcher_normalize, nd_sketcher_shingles).
 *
 * The first byte picks the shingle kind (word 3, character 5, glyph 8) and
 * strict UTF-8; the rest is the text.  Properties:
 *   - normalizing is idempotent: the normalized form normalizes to itself;
 *   - the form is valid UTF-8 with single spaces between tokens and none at
 *     either end;
 *   - the shingle set of the text is that of its normalized form (shingles
 *     are made from it, as the header promises);
 *   - under strict UTF-8 a text is refused exactly when it is not valid
 *     UTF-8 (checked against the decoder below, which follows RFC 3629:
 *     no overlong forms, no surrogates, nothing above U+10FFFF), and a
 *     valid one normalizes as without the flag.
 */
#include "../../src/neardup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            k = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            k = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k + 1;
    }
    return 1;
}

static nd_sketcher *sketcher(unsigned kind, int strict)
{
    static nd_sketcher *sk[3][2];
    static const unsigned ngram[3] = {3, 5, 8};
    if (!sk[kind][strict]) {
        nd_params p;
        nd_params_init(&p);
        p.shingle = (nd_shingle_kind)kind;
        p.ngram = ngram[kind];
        p.norm = strict ? ND_NORM_STRICT_UTF8 : 0;
        if (nd_sketcher_create(&p, &sk[kind][strict]) != ND_OK)
            abort();
    }
    return sk[kind][strict];
}

static void fail(const char *what, const char *text, size_t n)
{
    fprintf(stderr, "%s: '%.*s'\n", what, (int)n, text);
    abort();
}

/* The shingle set of text, copied (the sketcher's buffer is reused). */
static uint64_t *shingles(nd_sketcher *s, const char *text, size_t len,
                          size_t *n)
{
    const uint64_t *set;
    if (nd_sketcher_shingles(s, text, len, &set, n) != ND_OK)
        abort();
    uint64_t *c = malloc(*n ? *n * sizeof *c : 1);
    if (!c)
        abort();
    if (*n)
        memcpy(c, set, *n * sizeof *c);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    unsigned kind = data[0] % 3;
    int strict = (data[0] >> 2) & 1;
    size_t len = size - 1;
    char *text = malloc(len ? len : 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, len);
    nd_sketcher *s = sketcher(kind, strict);

    const char *out;
    size_t n1;
    int rc = nd_sketcher_normalize(s, text, len, &out, &n1);
    int valid = valid_utf8((const unsigned char *)text, len);
    if (strict && (rc == ND_ERR_UTF8) == valid)
        fail(valid ? "valid UTF-8 refused" : "invalid UTF-8 taken", text, len);
    if (rc == ND_ERR_UTF8 && strict) {
        free(text);
        return 0;
    }
    if (rc != ND_OK)
        abort();
    char *n1s = malloc(n1 + 1);
    if (!n1s)
        abort();
    memcpy(n1s, out, n1 + 1);
    if (n1s[n1] != '\0')
        fail("not NUL-terminated", n1s, n1);
    if (!valid_utf8((const unsigned char *)n1s, n1))
        fail("normalized form is not UTF-8", n1s, n1);
    if (n1 && (n1s[0] == ' ' || n1s[n1 - 1] == ' ' || strstr(n1s, "  ")))
        fail("spaces", n1s, n1);

    size_t n2;
    if (nd_sketcher_normalize(s, n1s, n1, &out, &n2) != ND_OK)
        abort();
    if (n2 != n1 || memcmp(out, n1s, n1) != 0) {
        fprintf(stderr, "once:  '%.*s'\ntwice: '%.*s'\n", (int)n1, n1s,
                (int)n2, out);
        abort();
    }
    if (strict) {
        nd_sketcher *lax = sketcher(kind, 0);
        if (nd_sketcher_normalize(lax, text, len, &out, &n2) != ND_OK ||
            n2 != n1 || memcmp(out, n1s, n1) != 0)
            fail("strict and lax differ on valid UTF-8", text, len);
    }

    size_t a, b;
    uint64_t *sa = shingles(s, text, len, &a);
    uint64_t *sb = shingles(s, n1s, n1, &b);
    if (a != b || (a && memcmp(sa, sb, a * sizeof *sa) != 0))
        fail("the text and its normalized form shingle differently", text,
             len);
    for (size_t i = 1; i < a; i++)
        if (sa[i - 1] >= sa[i])
            fail("shingles not sorted and unique", text, len);
    free(sa);
    free(sb);
    free(n1s);
    free(text);
    return 0;
}
