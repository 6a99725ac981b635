/*
 * fuzz_jsonscan.c - libFuzzer target: the JSONL field scanner against
 * jansson (make fuzz; tests/fuzz/README.md).
 *
 * The first input byte picks the member names looked up (so duplicates,
 * equal names and absent fields all occur); the rest is one line.  When the
 * scanner accepts, jansson must accept the same line as an object and give
 * the same type and value for every member, or refuse it only for a number
 * beyond its range (the scanner types such a member BIGNUM: valid JSON is
 * read whatever its numbers); when it declines, jansson must reject the
 * line or it must be one the scanner leaves to jansson on purpose (a NUL
 * byte).  The input is copied to a buffer of its exact size so ASan sees
 * any over-read.
 */
#include "../../src/io/jsonscan.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int declinable(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const pool[] = {"text", "id", "time", "a", "", NULL};
    if (size < 1)
        return 0;
    const char *names[ND__JS_MAX_FIELDS];
    for (int i = 0; i < ND__JS_MAX_FIELDS; i++)
        names[i] = pool[(data[0] >> (2 * i)) % 6];
    size_t n = size - 1;
    char *line = malloc(n ? n : 1);
    if (!line)
        return 0;
    memcpy(line, data + 1, n);

    nd__jsval v[ND__JS_MAX_FIELDS];
    int got = nd__jsonscan(line, n, names, v);
    json_error_t err;
    json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, &err);
    int ok = j && json_is_object(j);
    int range_only = !j && json_error_code(&err) == json_error_numeric_overflow;
    if (got && !ok && !range_only)
        abort();
    if (!got && ok && !declinable(line, n))
        abort();
    for (int i = 0; got && j && i < ND__JS_MAX_FIELDS; i++) {
        json_t *f = names[i] ? json_object_get(j, names[i]) : NULL;
        if (v[i].type == ND__JS_BIGNUM) {
            if (!json_is_number(f))
                abort();
            continue;
        }
        if (v[i].type != type_of(f))
            abort();
        if (v[i].type == ND__JS_STRING) {
            char *d = malloc(v[i].n + 1);
            if (!d)
                abort();
            size_t k = nd__json_unescape(d, v[i].p, v[i].n);
            if (k != json_string_length(f) ||
                memcmp(d, json_string_value(f), k) != 0 ||
                (!v[i].escaped && k != v[i].n))
                abort();
            free(d);
        } else if (v[i].type == ND__JS_INT) {
            if (nd__json_int(v[i].p, v[i].n) != json_integer_value(f))
                abort();
        } else if (v[i].type == ND__JS_REAL) {
            double x, want = json_real_value(f);
            if (nd__json_real(v[i].p, v[i].n, &x) &&
                memcmp(&x, &want, sizeof x) != 0)
                abort();
        }
    }
    /* Decoding the first name's string as it is scanned: the same verdict,
       the same values, that string decoded (into exactly n bytes). */
    char *dst = malloc(n ? n : 1);
    nd__jsval w[ND__JS_MAX_FIELDS];
    if (!dst || nd__jsonscan_decode(line, n, names, w, dst) != got)
        abort();
    for (int i = 0; got && i < ND__JS_MAX_FIELDS; i++) {
        if (w[i].type != v[i].type)
            abort();
        if (v[i].type != ND__JS_STRING || !names[0] || !names[i] ||
            strcmp(names[i], names[0]) != 0) {
            if (w[i].p != v[i].p || w[i].n != v[i].n || w[i].escaped != v[i].escaped)
                abort();
            continue;
        }
        char *d = malloc(v[i].n + 1);
        if (!d)
            abort();
        size_t k = nd__json_unescape(d, v[i].p, v[i].n);
        if (w[i].escaped || w[i].n != k || memcmp(w[i].p, d, k) != 0)
            abort();
        free(d);
    }
    free(dst);
    json_decref(j);
    free(line);
    return 0;
}
