/*
 * test_jsonscan.c - the JSONL field scanner against jansson.
 *
 * jansson (json_loadb with JSON_ALLOW_NUL, what the reader used alone) is
 * the reference: on every line the scanner's verdict and the members it
 * finds must equal what jansson's tree gives.  The scanner may decline a
 * valid line only in the cases it leaves to jansson on purpose (a NUL byte
 * after a number), and accept beyond jansson only lines jansson refuses for
 * a number out of its range (typed BIGNUM when it is a wanted member).  Lines come
 * from a hand-made list of tricky cases and from seeded random mutations of
 * valid records; a few golden values are checked by hand as well, and the
 * reader is run over a file of the tricky lines to see its records agree
 * with jansson's.
 */
#include "../src/neardup.h"
#include "../src/io/jsonscan.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <utf8proc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sline {
    const char *s;
    size_t n;
} sline;

#define L(lit) {lit, sizeof(lit) - 1}

static const char *const NAMES[ND__JS_MAX_FIELDS] = {"text", "id", "time"};

static const sline tricky[] = {
    L("{\"id\": \"a\", \"text\": \"plain\"}"),
    L("{\"text\":\"\"}"),
    L("{}"),
    L(" \t{ \r\n\"text\" \t:\r\n\"x\" } \r\n\t"),
    L("{\"text\": \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041 \\u00e9 \\u20AC\"}"),
    L("{\"text\": \"a\\u0000b\", \"id\": \"\\u0000\"}"),
    L("{\"text\": \"\\ud83d\\ude00 \\uD83D\\uDE00 \\udbff\\udfff\"}"),
    L("{\"text\": \"\\ud800\"}"),
    L("{\"text\": \"\\udc00\"}"),
    L("{\"text\": \"\\ud800\\u0041\"}"),
    L("{\"text\": \"\\ud800\\\\udc00\"}"),
    L("{\"text\": \"\\ud800x\"}"),
    L("{\"text\": \"\\u12\"}"),
    L("{\"text\": \"\\u12g4\"}"),
    L("{\"text\": \"\\x41\"}"),
    L("{\"text\": \"\\'\"}"),
    L("{\"text\": \"tab\there\"}"),
    L("{\"text\": \"nul\0here\"}"),
    L("{\"text\": \"del\x7f ok\"}"),
    L("{\"text\": \"caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d \xf0\x9f\x98\x80\"}"),
    L("{\"text\": \"overlong \xc0\xaf\"}"),
    L("{\"text\": \"overlong \xe0\x80\xaf\"}"),
    L("{\"text\": \"surrogate \xed\xa0\x80\"}"),
    L("{\"text\": \"too big \xf4\x90\x80\x80\"}"),
    L("{\"text\": \"lone \x80\"}"),
    L("{\"text\": \"cut \xe2\x80\"}"),
    L("{\"text\": \"cut \xe2\x80"),
    L("{\"text\": \"x\"} \xc3\xa9"),
    L("\xef\xbb\xbf{\"text\": \"bom\"}"),
    L("{\"text\": \"x\"}\f"),
    L("\v{\"text\": \"x\"}"),
    L("{\"text\": \"x\"}\xc2\xa0"),
    L("{\"text\": \"x\",}"),
    L("{\"text\": \"x\" \"id\": 1}"),
    L("{,\"text\": \"x\"}"),
    L("{\"text\": \"x\", \"a\": [1,]}"),
    L("{\"text\": \"x\", \"a\": [,1]}"),
    L("{\"text\": \"x\", \"a\": [1 2]}"),
    L("{\"text\": \"x\"}}"),
    L("{\"text\": \"x\"} {}"),
    L("{\"text\": \"x\"} x"),
    L("{\"text\": \"x\""),
    L("{\"text\": \"x"),
    L("{\"text\": "),
    L("{\"text\""),
    L("{"),
    L("{text: \"x\"}"),
    L("{'text': 'x'}"),
    L("[{\"text\": \"x\"}]"),
    L("\"text\""),
    L("42"),
    L("null"),
    L("{\"text\": \"x\", \"id\": 42}"),
    L("{\"text\": \"x\", \"id\": -0}"),
    L("{\"text\": \"x\", \"id\": -0.0}"),
    L("{\"text\": \"x\", \"id\": 0.1}"),
    L("{\"text\": \"x\", \"id\": 1e3}"),
    L("{\"text\": \"x\", \"id\": 1E-3}"),
    L("{\"text\": \"x\", \"id\": 1e+300}"),
    L("{\"text\": \"x\", \"id\": 1e400}"),
    L("{\"text\": \"x\", \"id\": -1e400}"),
    L("{\"text\": \"x\", \"id\": 1e-400}"),
    L("{\"text\": \"x\", \"id\": 123456789012345678}"),
    L("{\"text\": \"x\", \"id\": -123456789012345678}"),
    L("{\"text\": \"x\", \"id\": 9223372036854775807}"),
    L("{\"text\": \"x\", \"id\": -9223372036854775808}"),
    L("{\"text\": \"x\", \"id\": 9223372036854775808}"),
    L("{\"text\": \"x\", \"id\": 99999999999999999999999}"),
    L("{\"text\": \"x\", \"id\": 0.000000000000000000000000000001}"),
    L("{\"text\": \"x\", \"id\": 1.7976931348623157e308}"),
    L("{\"text\": \"x\", \"id\": 1.8e308}"),
    L("{\"text\": \"x\", \"id\": 01}"),
    L("{\"text\": \"x\", \"id\": 1.}"),
    L("{\"text\": \"x\", \"id\": .5}"),
    L("{\"text\": \"x\", \"id\": +1}"),
    L("{\"text\": \"x\", \"id\": -}"),
    L("{\"text\": \"x\", \"id\": 1e}"),
    L("{\"text\": \"x\", \"id\": 1e+}"),
    L("{\"text\": \"x\", \"id\": 0x10}"),
    L("{\"text\": \"x\", \"id\": NaN}"),
    L("{\"text\": \"x\", \"id\": Infinity}"),
    L("{\"text\": \"x\", \"id\": -Infinity}"),
    L("{\"text\": \"x\", \"id\": true}"),
    L("{\"text\": \"x\", \"id\": false}"),
    L("{\"text\": \"x\", \"id\": null}"),
    L("{\"text\": \"x\", \"id\": nul}"),
    L("{\"text\": \"x\", \"id\": truex}"),
    L("{\"text\": \"x\", \"id\": True}"),
    L("{\"text\": \"x\", \"id\": [1, \"2\"]}"),
    L("{\"text\": \"x\", \"id\": {\"id\": 1}}"),
    L("{\"text\": \"x\", \"id\": \"q\\\"uote\"}"),
    L("{\"text\": 5}"),
    L("{\"text\": null}"),
    L("{\"text\": [\"x\"]}"),
    L("{\"id\": 1}"),
    L("{\"text\": \"first\", \"text\": \"second\"}"),
    L("{\"text\": \"first\", \"text\": 2}"),
    L("{\"text\": 1, \"text\": \"second\"}"),
    L("{\"id\": 1, \"text\": \"x\", \"id\": \"two\"}"),
    L("{\"meta\": {\"text\": \"inner\", \"id\": 7}, \"text\": \"outer\"}"),
    L("{\"a\": [{\"text\": \"inner\"}], \"text\": \"outer\"}"),
    L("{\"t\\u0065xt\": \"escaped key\"}"),
    L("{\"te\\\\xt\": \"not text\"}"),
    L("{\"text\\u0000\": \"x\"}"),
    L("{\"text\": \"x\", \"n\": {\"a\\u0000\": 1}}"),
    L("{\"\": \"empty key\", \"text\": \"x\"}"),
    L("{\"text\": \"x\", \"a long key\\n\\nwith escapes, longer than any "
      "buffer a short key needs: 0123456789 0123456789 0123456789 0123456789 "
      "0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 "
      "0123456789 0123456789 0123456789 0123456789 0123456789 0123456789 "
      "0123456789 0123456789 0123456789 0123456789\": 1}"),
    L("{\"\\u0074\\u0065\\u0078\\u0074\": \"all escaped\"}"),
    L("{\"text\": \"x\", \"time\": \"2024-01-02T03:04:05Z\"}"),
    L("{\"text\": \"x\", \"time\": 1700000000}"),
    L("{\"text\": \"x\", \"time\": 1700000000.75}"),
    L("{\"text\": \"x\", \"time\": -1.5}"),
    L("{\"text\": \"x\", \"time\": 1e300}"),
    L("{\"text\": \"x\", \"time\": \"2024\\u002d01-02\"}"),
    L("{\"text\": \"x\", \"time\": true}"),
    L("{\"text\": \"x\"\0}"),
    L("{\"text\": \"x\", \"id\": \"x\"}\r"),
};

/* n containers nested inside the top-level object, arrays and objects in
 * turn with an array innermost, holding a scalar or nothing. */
static char *nested(int n, int scalar, size_t *len)
{
    char *s = malloc(7 * (size_t)n + 64);
    cr_assert_not_null(s);
    char *p = s + sprintf(s, "{\"text\": \"deep\", \"a\": ");
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s", (n - 1 - i) % 2 ? "{\"k\":" : "[");
    if (scalar)
        *p++ = '1';
    for (int i = n - 1; i >= 0; i--)
        *p++ = (n - 1 - i) % 2 ? '}' : ']';
    *p++ = '}';
    *len = (size_t)(p - s);
    return s;
}

/* ---------------------------------------------------------- the oracle */

static int type_of(const json_t *v)
{
    if (!v)
        return ND__JS_ABSENT;
    if (json_is_string(v))
        return ND__JS_STRING;
    if (json_is_integer(v))
        return ND__JS_INT;
    if (json_is_real(v))
        return ND__JS_REAL;
    if (json_is_null(v))
        return ND__JS_NULL;
    return ND__JS_OTHER;
}

/*
 * The case the scanner leaves to jansson: a NUL byte (jansson's lexer skips
 * one right after a number or a literal: it ungets the byte into a buffer
 * where NUL means empty; the scanner rejects it and lets jansson decide).
 */
static int declinable(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

/* jansson refused the line for a number beyond int64 or a double only. */
static int range_only(const json_t *j, const json_error_t *err)
{
    return !j && json_error_code(err) == json_error_numeric_overflow;
}

static const char *show(const char *s, size_t n)
{
    static char buf[200];
    size_t o = 0;
    for (size_t i = 0; i < n && o < sizeof buf - 8; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            buf[o++] = (char)c;
        else
            o += (size_t)sprintf(buf + o, "\\x%02x", c);
    }
    buf[o] = '\0';
    return buf;
}

/*
 * The scanner that decodes the text as it goes gives the verdict and the
 * values of the plain one, the text decoded (into a buffer of exactly n
 * bytes, so a write past the room it promises is caught under ASan).
 */
static void check_decode(const char *s, size_t n, int got,
                         const nd__jsval v[ND__JS_MAX_FIELDS])
{
    char *dst = malloc(n ? n : 1);
    nd__jsval d[ND__JS_MAX_FIELDS];
    cr_assert_eq(nd__jsonscan_decode(s, n, NAMES, d, dst), got, "%s", show(s, n));
    for (int i = 0; got && i < ND__JS_MAX_FIELDS; i++) {
        cr_assert_eq(d[i].type, v[i].type, "%s", show(s, n));
        if (i > 0 || v[i].type != ND__JS_STRING) {
            cr_assert(d[i].p == v[i].p && d[i].n == v[i].n &&
                      d[i].escaped == v[i].escaped, "%s", show(s, n));
            continue;
        }
        char *want = malloc(v[i].n + 1);
        size_t k = nd__json_unescape(want, v[i].p, v[i].n);
        cr_assert_eq(d[i].escaped, 0);
        cr_assert_eq(d[i].n, k, "decoded length in %s", show(s, n));
        cr_assert(memcmp(d[i].p, want, k) == 0, "decoded text in %s", show(s, n));
        /* Without an escape the text stays where it is in the line. */
        cr_assert_eq(d[i].p == v[i].p, !v[i].escaped, "%s", show(s, n));
        free(want);
    }
    free(dst);
}

/* Compare scanner and jansson on one line; returns the scanner verdict. */
static int check_line(const char *s, size_t n)
{
    nd__jsval v[ND__JS_MAX_FIELDS];
    int got = nd__jsonscan(s, n, NAMES, v);
    check_decode(s, n, got, v);
    json_error_t err;
    json_t *j = json_loadb(s, n, JSON_ALLOW_NUL, &err);
    int ok = j && json_is_object(j);
    if (got) {
        cr_assert(ok || range_only(j, &err),
                  "scanner accepts what jansson rejects: %s", show(s, n));
    } else {
        cr_assert(!ok || declinable(s, n),
                  "scanner declines a valid line: %s", show(s, n));
    }
    if (got && j) {
        for (int i = 0; i < ND__JS_MAX_FIELDS; i++) {
            json_t *f = json_object_get(j, NAMES[i]);
            if (v[i].type == ND__JS_BIGNUM) {
                cr_assert(json_is_number(f), "%s", show(s, n));
                continue;
            }
            cr_assert_eq(v[i].type, type_of(f), "type of %s in %s", NAMES[i],
                         show(s, n));
            if (v[i].type == ND__JS_STRING) {
                char *d = malloc(v[i].n + 1);
                size_t k = v[i].escaped
                               ? nd__json_unescape(d, v[i].p, v[i].n)
                               : (memcpy(d, v[i].p, v[i].n), v[i].n);
                cr_assert_eq(v[i].escaped, memchr(v[i].p, '\\', v[i].n) != NULL);
                cr_assert_eq(k, json_string_length(f), "length of %s in %s",
                             NAMES[i], show(s, n));
                cr_assert(memcmp(d, json_string_value(f), k) == 0,
                          "value of %s in %s", NAMES[i], show(s, n));
                free(d);
            } else if (v[i].type == ND__JS_INT) {
                cr_assert_eq(nd__json_int(v[i].p, v[i].n),
                             json_integer_value(f), "%s", show(s, n));
            } else if (v[i].type == ND__JS_REAL) {
                double d = 0;
                cr_assert(nd__json_real(v[i].p, v[i].n, &d));
                double want = json_real_value(f);
                cr_assert(memcmp(&d, &want, sizeof d) == 0, "%s",
                          show(s, n));
            }
        }
    }
    json_decref(j);
    return got;
}

/* -------------------------------------------------------------- tests */

Test(jsonscan, tricky_lines_agree_with_jansson)
{
    size_t accepted = 0, total = sizeof tricky / sizeof *tricky;
    for (size_t i = 0; i < total; i++)
        accepted += (size_t)check_line(tricky[i].s, tricky[i].n);
    /* Both verdicts occur often enough for the comparison to mean
     * something. */
    cr_assert_gt(accepted, 40);
    cr_assert_lt(accepted, total - 40);
}

Test(jsonscan, depth_limit_is_jansson_s)
{
    int verdicts[8], k = 0;
    for (int n = 2045; n <= 2048; n++) {
        for (int scalar = 0; scalar <= 1; scalar++) {
            size_t len;
            char *s = nested(n, scalar, &len);
            verdicts[k++] = check_line(s, len);
            free(s);
        }
    }
    /* The object holds n containers: the innermost is at depth n + 1, a
     * scalar inside it at n + 2; jansson allows up to 2048. */
    int want[8] = {1, 1, 1, 1, 1, 0, 0, 0};
    for (int i = 0; i < 8; i++)
        cr_assert_eq(verdicts[i], want[i], "case %d", i);
}

Test(jsonscan, golden_values)
{
    nd__jsval v[ND__JS_MAX_FIELDS];
    static const char esc[] =
        "{\"id\":\"i\",\"text\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9"
        "\\u20ac\\ud83d\\ude00\\u0000.\"}";
    cr_assert_eq(nd__jsonscan(esc, sizeof esc - 1, NAMES, v), 1);
    cr_assert_eq(v[0].type, ND__JS_STRING);
    cr_assert(v[0].escaped);
    char d[64];
    size_t k = nd__json_unescape(d, v[0].p, v[0].n);
    static const char want[] = "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac"
                               "\xf0\x9f\x98\x80\0.";
    cr_assert_eq(k, sizeof want - 1);
    cr_assert(memcmp(d, want, k) == 0);
    cr_assert_eq(v[1].type, ND__JS_STRING);
    cr_assert_eq(v[1].n, 1);
    cr_assert_eq(v[1].p[0], 'i');
    cr_assert(!v[1].escaped);

    static const char dup[] = "{\"text\":\"a\",\"x\":{\"text\":\"b\"},"
                              "\"text\":\"c\",\"id\":-0,\"time\":2.5}";
    cr_assert_eq(nd__jsonscan(dup, sizeof dup - 1, NAMES, v), 1);
    cr_assert_eq(v[0].n, 1);
    cr_assert_eq(v[0].p[0], 'c');
    cr_assert_eq(v[1].type, ND__JS_INT);
    cr_assert_eq(nd__json_int(v[1].p, v[1].n), 0);
    cr_assert_eq(v[2].type, ND__JS_REAL);
    double x = 0;
    cr_assert(nd__json_real(v[2].p, v[2].n, &x));
    cr_assert_eq(x, 2.5);

    /* The same name twice: both slots get the member. */
    const char *const same[ND__JS_MAX_FIELDS] = {"text", "text", NULL};
    cr_assert_eq(nd__jsonscan(dup, sizeof dup - 1, same, v), 1);
    cr_assert_eq(v[1].type, ND__JS_STRING);
    cr_assert_eq(v[1].p, v[0].p);
    cr_assert_eq(v[2].type, ND__JS_ABSENT);
}

/*
 * Long strings are tested 32 bytes a step (16 when decoded): an escape, a
 * multi-byte or bad UTF-8 sequence, a control character or the closing
 * quote at every offset across two steps, with text after it of lengths
 * around a step, in the text (decoded) and in the id (scanned).
 */
Test(jsonscan, specials_at_every_offset_of_long_strings)
{
    static const char *const specials[] = {
        "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00", "\\u0000",
        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3", "\xed\xa0\x80",
        "\x80", "\x1f", "\\x", "\\u12", "\\ud83d", "\"", "",
    };
    static const size_t tails[] = {0, 1, 15, 16, 17, 31, 33};
    char line[256], body[160];
    size_t accepted = 0, total = 0;
    for (int field = 0; field < 2; field++) {
        for (size_t sp = 0; sp < sizeof specials / sizeof *specials; sp++) {
            for (size_t k = 0; k <= 70; k++) {
                for (size_t t = 0; t < sizeof tails / sizeof *tails; t++) {
                    size_t n = 0;
                    for (size_t i = 0; i < k; i++)
                        body[n++] = (char)('a' + i % 26);
                    size_t m = strlen(specials[sp]);
                    memcpy(body + n, specials[sp], m);
                    n += m;
                    for (size_t i = 0; i < tails[t]; i++)
                        body[n++] = (char)('A' + i % 26);
                    int len = field == 0
                                  ? snprintf(line, sizeof line,
                                             "{\"id\":\"x\",\"text\":\"%.*s\"}",
                                             (int)n, body)
                                  : snprintf(line, sizeof line,
                                             "{\"id\":\"%.*s\",\"text\":\"x\"}",
                                             (int)n, body);
                    accepted += (size_t)check_line(line, (size_t)len);
                    total++;
                }
            }
        }
    }
    /* Most lines are valid; the bad sequences and a bare quote are not. */
    cr_assert_gt(accepted, total / 2);
    cr_assert_lt(accepted, total);
}

/* ---------------------------------------------------------- mutations */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static const sline seeds[] = {
    L("{\"id\": \"doc-1\", \"text\": \"The \\u201cquick\\u201d fox\\n\\tjumps.\", \"time\": \"2024-05-06T07:08:09Z\"}"),
    L("{\"id\": 12345, \"source\": \"wire\", \"text\": \"caf\xc3\xa9 \xe2\x80\x9cnews\xe2\x80\x9d\", \"tags\": [1, 2.5, -3e2, true, false, null, {\"text\": \"no\"}]}"),
    L("{\"text\": \"\\ud83d\\ude00 emoji \\\\ back \\\" quote\", \"id\": -0.125, \"time\": 1700000000}"),
    L("{ \"meta\" : { \"id\" : [ [ [ ] ] , { } ] } , \"text\" : \"\" , \"id\" : null }"),
};

Test(jsonscan, random_mutations_agree_with_jansson)
{
    static const char alphabet[] = "{}[]\",:\\/u0123456789abcdefEe+-.tnrl "
                                   "\t\r\n\x00\x1f\x7f\x80\xbf\xc3\xa9\xed"
                                   "\xa0\xf0\xf4\x90\xd8\xdc";
    rng_state = 0x9e3779b97f4a7c15ull;
    char buf[1024];
    size_t accepted = 0, rejected = 0;
    for (int iter = 0; iter < 6000; iter++) {
        const sline *seed = &seeds[rnd() % (sizeof seeds / sizeof *seeds)];
        size_t n = seed->n;
        memcpy(buf, seed->s, n);
        int muts = 1 + (int)(rnd() % 3);
        for (int m = 0; m < muts; m++) {
            size_t at = (size_t)(rnd() % (n + 1));
            char c = alphabet[rnd() % (sizeof alphabet - 1)];
            switch (rnd() % 5) {
            case 0: /* replace */
                if (at < n)
                    buf[at] = c;
                break;
            case 1: /* insert */
                if (n + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = c;
                    n++;
                }
                break;
            case 2: /* delete */
                if (at < n) {
                    memmove(buf + at, buf + at + 1, n - at - 1);
                    n--;
                }
                break;
            case 3: /* truncate */
                n = at;
                break;
            default: { /* copy a span elsewhere */
                size_t from = (size_t)(rnd() % (n + 1));
                size_t k = (size_t)(rnd() % 12);
                if (from + k > n)
                    k = n - from;
                if (n + k < sizeof buf) {
                    memmove(buf + at + k, buf + at, n - at);
                    memmove(buf + at, buf + (from >= at ? from + k : from), k);
                    n += k;
                }
            }
            }
        }
        if (check_line(buf, n))
            accepted++;
        else
            rejected++;
    }
    /* Both verdicts must be well represented for the comparison to mean
     * something. */
    cr_assert_gt(accepted, 300);
    cr_assert_gt(rejected, 3000);
}

/* ------------------------------------------------- through the reader */

/* 1 when s[0..n) is valid UTF-8, by utf8proc's decoder. */
static int utf8_ok(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    while (n) {
        int32_t cp;
        long k = (long)utf8proc_iterate(u, (long)(n < 4 ? n : 4), &cp);
        if (k <= 0)
            return 0;
        u += k;
        n -= (size_t)k;
    }
    return 1;
}

Test(jsonscan, reader_records_match_jansson)
{
    char path[] = "/tmp/nd-jsonscan-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    size_t total = sizeof tricky / sizeof *tricky, *which = malloc(total * sizeof *which), nl = 0;
    for (size_t i = 0; i < total; i++) {
        if (memchr(tricky[i].s, '\n', tricky[i].n))
            continue; /* it would be two lines */
        which[nl++] = i;
        fwrite(tricky[i].s, 1, tricky[i].n, f);
        fputc('\n', f);
    }
    fclose(f);
    nd_reader_opts o = {ND_FORMAT_JSONL, "id", "text", "time", NULL, 0};
    const char *p = path;
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(&p, 1, &o, &r), ND_OK);
    size_t good = 0;
    for (size_t l = 0; l < nl; l++) {
        nd_record rec;
        int rc = nd_reader_next(r, &rec);
        const char *s = tricky[which[l]].s;
        size_t n = tricky[which[l]].n;
        size_t i = l;
        json_error_t err;
        json_t *j = json_loadb(s, n, JSON_ALLOW_NUL, &err);
        if (range_only(j, &err))
            continue; /* valid JSON beyond jansson: test_io.c checks it */
        json_t *t = j && json_is_object(j) ? json_object_get(j, "text") : NULL;
        json_t *id = t ? json_object_get(j, "id") : NULL;
        int valid = t && json_is_string(t) &&
                    (!id || json_is_string(id) || json_is_number(id) ||
                     json_is_null(id));
        if (!j && !utf8_ok(s, n) && rc == 1) {
            /* jansson refuses invalid UTF-8; the reader reads such a line
               with U+FFFD for each bad byte and marks the record */
            cr_assert_eq(rec.bad_utf8, 1, "line %zu: %s", i + 1, show(s, n));
            continue;
        }
        cr_assert_eq(rc, valid ? 1 : ND_ERR_DATA, "line %zu: %s", i + 1,
                     show(s, n));
        if (valid) {
            good++;
            cr_assert_eq(rec.text_len, json_string_length(t));
            cr_assert(memcmp(rec.text, json_string_value(t), rec.text_len) == 0);
            if (id && json_is_string(id)) {
                char *d = json_dumps(id, JSON_ENCODE_ANY);
                cr_assert_str_eq(rec.id, d);
                free(d);
            } else if (id && json_is_integer(id)) {
                cr_assert_eq(strtoll(rec.id, NULL, 10), json_integer_value(id));
            } else if (id && json_is_real(id)) {
                cr_assert_eq(strtod(rec.id, NULL), json_real_value(id));
                cr_assert(strpbrk(rec.id, ".e"), "%s", rec.id);
            } else {
                char want[64];
                snprintf(want, sizeof want, "\"%s:%zu\"", path, i + 1);
                cr_assert_str_eq(rec.id, want);
            }
        }
        json_decref(j);
    }
    nd_reader_close(r);
    unlink(path);
    free(which);
    cr_assert_gt(good, 30, "%zu good of %zu", good, nl);
}
