/*
 * jsonscan.c - validate one JSONL line and find a few top-level members.
 *
 * Parsing a news record with jansson builds a tree, copies every string
 * byte by byte through its lexer and frees it all again; for the reader that
 * was over half of a whole clustering run.  The reader needs only the text,
 * the id and perhaps a time, so this scanner walks the line once with a
 * small explicit stack (no recursion), checks the grammar of RFC 8259 and
 * records where the wanted members' values are, copying nothing; or, for
 * the reader, decodes the text as it scans it (nd__jsonscan_decode: the
 * scan and the copy of the escapes' bytes in one walk of the text rather
 * than a scan and then an unescape of a text with \n every line).
 *
 * Strictness is jansson's, since jansson stays the reference: white space is
 * only space, tab, CR and LF; strings must be valid UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF), hold no control character below
 * 0x20, use only the escapes \" \\ \/ \b \f \n \r \t \uXXXX, and a \u
 * surrogate must be a high one followed by a low one; a key may not decode
 * to a NUL; values nest at most 2048 deep, counting the top-level object as
 * depth 1 and a scalar inside it as depth 2 (jansson's parse_value counts
 * every value); of duplicate keys the last one counts.  Numbers follow the
 * JSON grammar, which bounds neither size nor precision.  jansson refuses a
 * line with an integer outside int64 or a real that overflows a double,
 * even in a member nobody reads; the scanner accepts it (RFC 8259 leaves
 * the range to the reader of the value).  Integers of up to 18 digits and
 * reals whose decimal magnitude is at most 10^300 are typed INT and REAL,
 * any other number BIGNUM: its reader (reader.c) checks the range, and only
 * where the value is used.
 *
 * Strings, nearly all of a record's bytes, are skipped eight bytes at a time:
 * one 64-bit word is tested at once for a quote, a backslash, a control
 * character or a byte >= 0x80 (the classic "has zero byte" bit trick of
 * Mycroft, applied to w ^ '"' etc.); only such bytes leave the fast loop.
 * The lowest flagged byte of that test is always a true hit, so on
 * little-endian machines the count of trailing zero bits jumps straight to
 * it; elsewhere the word is walked byte by byte.  With SSE2 (every x86-64)
 * 32 bytes are tested a step first: a quote, a backslash, or a byte below
 * 0x20 as a signed char, which is a control character or any byte >= 0x80
 * (about twice the speed of the words on news text).
 */
#include "jsonscan.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 2048

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Bytes of w that are zero get their high bit set (the lowest exactly). */
static inline uint64_t zero_bytes(uint64_t w)
{
    return (w - ONES) & ~w & HIGHS;
}

/* Flags, in their high bit, the bytes a string scan must stop at. */
static inline uint64_t special_bytes(uint64_t w)
{
    return (w & HIGHS) | zero_bytes(w ^ (ONES * '"')) |
           zero_bytes(w ^ (ONES * '\\')) | ((w - ONES * 0x20) & ~w & HIGHS);
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_FLAGGED(m) ((size_t)__builtin_ctzll(m) >> 3)
#endif

/* x86-64 always has SSE2: strings are then skimmed 32 bytes a step. */
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#define ND_SCAN_SSE2 1
#endif

static int hexval(unsigned c)
{
    if (c - '0' < 10)
        return (int)(c - '0');
    c |= 0x20;
    if (c - 'a' < 6)
        return (int)(c - 'a' + 10);
    return -1;
}

/* The 4 hex digits at s (s[0..4) must exist), or -1. */
static long hex4(const unsigned char *s)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(s[i]);
        if (h < 0)
            return -1;
        v = (v << 4) | h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at s (s < e, *s >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *s, const unsigned char *e)
{
    unsigned c = s[0];
    size_t avail = (size_t)(e - s);
    if (c >= 0xc2 && c <= 0xdf)
        return avail >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (avail < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
            return 0; /* overlong, or a surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (avail < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
            return 0; /* overlong, or above U+10FFFF */
        return 4;
    }
    return 0;
}

enum { STR_ESCAPED = 1, STR_NUL = 2 };

/*
 * The \u escape at *sp (which starts "\u"): its code point, a surrogate
 * pair taken as one, with *sp moved past it; -1 when it is not a valid
 * one (a lone or reversed surrogate, a bad digit, too short).  \u0000 sets
 * STR_NUL in *flags.
 */
static long escape_u(const unsigned char **sp, const unsigned char *e, int *flags)
{
    const unsigned char *s = *sp;
    if (e - s < 6)
        return -1;
    long u = hex4(s + 2);
    if (u < 0 || (u >= 0xdc00 && u <= 0xdfff))
        return -1;
    if (u == 0)
        *flags |= STR_NUL;
    s += 6;
    if (u >= 0xd800 && u <= 0xdbff) {
        if (e - s < 6 || s[0] != '\\' || s[1] != 'u')
            return -1;
        long lo = hex4(s + 2);
        if (lo < 0xdc00 || lo > 0xdfff)
            return -1;
        s += 6;
        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
    }
    *sp = s;
    return u;
}

/*
 * s is just past an opening quote.  Returns the closing quote, or NULL if
 * the string is invalid or unterminated; *flags gets STR_*.
 */
static const unsigned char *scan_string(const unsigned char *s,
                                        const unsigned char *e, int *flags)
{
    *flags = 0;
    for (;;) {
#ifdef ND_SCAN_SSE2
        /* 32 bytes a step: a quote, a backslash, or a byte below 0x20 as
           a signed char (control characters and every byte >= 0x80). */
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                      space = _mm_set1_epi8(0x20);
        while (e - s >= 32) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
            __m128i ma = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, quote),
                                                   _mm_cmpeq_epi8(a, bslash)),
                                      _mm_cmplt_epi8(a, space));
            __m128i mb = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(b, quote),
                                                   _mm_cmpeq_epi8(b, bslash)),
                                      _mm_cmplt_epi8(b, space));
            uint32_t m = (uint32_t)_mm_movemask_epi8(ma) |
                         (uint32_t)_mm_movemask_epi8(mb) << 16;
            if (m) {
                s += __builtin_ctz(m);
                goto special;
            }
            s += 32;
        }
#endif
        while (e - s >= 8) {
            uint64_t w;
            memcpy(&w, s, 8);
            uint64_t m = special_bytes(w);
            if (m) {
#ifdef FIRST_FLAGGED
                s += FIRST_FLAGGED(m);
#endif
                break;
            }
            s += 8;
        }
#ifdef ND_SCAN_SSE2
    special:
#endif
        if (s >= e)
            return NULL;
        unsigned c = *s;
        if (c == '"')
            return s;
        if (c == '\\') {
            *flags |= STR_ESCAPED;
            if (e - s < 2)
                return NULL;
            switch (s[1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n':
            case 'r': case 't':
                s += 2;
                continue;
            case 'u':
                break;
            default:
                return NULL;
            }
            if (escape_u(&s, e, flags) < 0)
                return NULL;
        } else if (c < 0x20) {
            return NULL;
        } else if (c >= 0x80) {
            size_t k = utf8_len(s, e);
            if (!k)
                return NULL;
            s += k;
        } else {
            s++;
        }
    }
}

/* The UTF-8 encoding of code point u at o; the bytes written. */
static size_t put_utf8(char *o, unsigned long u)
{
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xc0 | (u >> 6));
        o[1] = (char)(0x80 | (u & 0x3f));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (char)(0xe0 | (u >> 12));
        o[1] = (char)(0x80 | ((u >> 6) & 0x3f));
        o[2] = (char)(0x80 | (u & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (u >> 18));
    o[1] = (char)(0x80 | ((u >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((u >> 6) & 0x3f));
    o[3] = (char)(0x80 | (u & 0x3f));
    return 4;
}

/*
 * scan_string, decoding the body into dst as it goes: the same strings
 * accepted, *dlen the decoded length.  The output never runs ahead of the
 * input (an escape is longer than what it stands for), so dst needs room
 * for the bytes from s to e, and a whole step of 16 bytes stored before it
 * is tested stays inside that room.
 */
static const unsigned char *scan_decode(const unsigned char *s,
                                        const unsigned char *e, int *flags,
                                        char *dst, size_t *dlen)
{
    char *o = dst;
    *flags = 0;
    for (;;) {
#ifdef ND_SCAN_SSE2
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                      space = _mm_set1_epi8(0x20);
        while (e - s >= 16) {
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)s);
            _mm_storeu_si128((__m128i *)(void *)o, a);
            __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(a, quote),
                                                  _mm_cmpeq_epi8(a, bslash)),
                                     _mm_cmplt_epi8(a, space));
            unsigned bits = (unsigned)_mm_movemask_epi8(m);
            if (bits) {
                unsigned k = (unsigned)__builtin_ctz(bits);
                s += k;
                o += k;
                break;
            }
            s += 16;
            o += 16;
        }
#endif
        if (s >= e)
            return NULL;
        unsigned c = *s;
        if (c == '"') {
            *dlen = (size_t)(o - dst);
            return s;
        }
        if (c == '\\') {
            *flags |= STR_ESCAPED;
            if (e - s < 2)
                return NULL;
            static const char simple[] = {['"'] = '"', ['\\'] = '\\',
                                          ['/'] = '/', ['b'] = '\b',
                                          ['f'] = '\f', ['n'] = '\n',
                                          ['r'] = '\r', ['t'] = '\t'};
            unsigned x = s[1];
            if (x < sizeof simple && simple[x]) {
                *o++ = simple[x];
                s += 2;
                continue;
            }
            long u;
            if (x != 'u' || (u = escape_u(&s, e, flags)) < 0)
                return NULL;
            o += put_utf8(o, (unsigned long)u);
        } else if (c < 0x20) {
            return NULL;
        } else if (c >= 0x80) {
            size_t k = utf8_len(s, e);
            if (!k)
                return NULL;
            memcpy(o, s, k);
            o += k;
            s += k;
        } else {
            *o++ = (char)c;
            s++;
        }
    }
}

static int is_ws(unsigned c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const unsigned char *skip_ws(const unsigned char *s,
                                    const unsigned char *e)
{
    while (s < e && is_ws(*s))
        s++;
    return s;
}

static int is_digit(unsigned c)
{
    return c - '0' < 10;
}

/*
 * A number at s (s < e).  Returns its end, or NULL if it is malformed; *real
 * is 0 for an integer of at most 18 digits, 1 for a real of magnitude at
 * most 10^300, 2 for any other number.
 */
static const unsigned char *scan_number(const unsigned char *s,
                                        const unsigned char *e, int *real)
{
    if (*s == '-')
        s++;
    if (s >= e || !is_digit(*s))
        return NULL;
    const unsigned char *digits = s;
    if (*s == '0') {
        s++;
        if (s < e && is_digit(*s))
            return NULL;
    } else {
        while (s < e && is_digit(*s))
            s++;
    }
    /* Significant integer digits; "0" has none. */
    long mag = *digits == '0' ? 0 : (long)(s - digits);
    *real = 0;
    if (s < e && *s == '.') {
        *real = 1;
        s++;
        if (s >= e || !is_digit(*s))
            return NULL;
        while (s < e && is_digit(*s))
            s++;
    }
    if (s < e && (*s == 'e' || *s == 'E')) {
        *real = 1;
        s++;
        int neg = 0;
        if (s < e && (*s == '+' || *s == '-'))
            neg = *s++ == '-';
        if (s >= e || !is_digit(*s))
            return NULL;
        long x = 0;
        while (s < e && is_digit(*s)) {
            if (x < 100000)
                x = 10 * x + (*s - '0');
            s++;
        }
        mag += neg ? -x : x;
    }
    if (*real ? mag > 300 : mag > 18)
        *real = 2;
    return s;
}

/* A bit for each wanted name equal to key[0..n), or -1 to decline. */
static int match_key(const unsigned char *key, size_t n, int escaped,
                     const char *const names[ND__JS_MAX_FIELDS],
                     const size_t lens[ND__JS_MAX_FIELDS])
{
    char tmp[256];
    const char *k = (const char *)key;
    if (escaped) {
        /* An escape of 6 bytes (\uXXXX) decodes to at least 1 byte. */
        size_t longest = 0;
        for (int i = 0; i < ND__JS_MAX_FIELDS; i++)
            if (names[i] && lens[i] > longest)
                longest = lens[i];
        if (n / 6 > longest)
            return 0;
        if (n > sizeof tmp)
            return -1;
        n = nd__json_unescape(tmp, k, n);
        k = tmp;
    }
    int bits = 0;
    for (int i = 0; i < ND__JS_MAX_FIELDS; i++)
        if (names[i] && lens[i] == n && memcmp(names[i], k, n) == 0)
            bits |= 1 << i;
    return bits;
}

static void put(nd__jsval out[ND__JS_MAX_FIELDS], int fields, nd__jsval v)
{
    for (int i = 0; i < ND__JS_MAX_FIELDS; i++)
        if (fields & (1 << i))
            out[i] = v;
}

int nd__jsonscan(const char *line, size_t len,
                 const char *const names[ND__JS_MAX_FIELDS],
                 nd__jsval out[ND__JS_MAX_FIELDS])
{
    return nd__jsonscan_decode(line, len, names, out, NULL);
}

int nd__jsonscan_decode(const char *line, size_t len,
                        const char *const names[ND__JS_MAX_FIELDS],
                        nd__jsval out[ND__JS_MAX_FIELDS], char *dst)
{
    const unsigned char *s = (const unsigned char *)line;
    const unsigned char *e = s + len;
    size_t lens[ND__JS_MAX_FIELDS];
    for (int i = 0; i < ND__JS_MAX_FIELDS; i++) {
        lens[i] = names[i] ? strlen(names[i]) : 0;
        out[i] = (nd__jsval){NULL, 0, ND__JS_ABSENT, 0};
    }
    /* stack[d] is 1 for an object, 0 for an array; depth = open containers */
    unsigned char stack[MAX_DEPTH + 1];
    size_t depth = 0;
    int fields = 0; /* bits of the wanted members whose value comes next */

    s = skip_ws(s, e);
    if (s >= e || *s != '{')
        return 0;
    s++;
    stack[depth++] = 1;
    s = skip_ws(s, e);
    if (s < e && *s == '}') {
        s++;
        depth = 0;
        goto done;
    }

    for (;;) {
        /* A member: key, colon, then the value below. */
        if (s >= e || *s != '"')
            return 0;
        int flags;
        const unsigned char *q = scan_string(s + 1, e, &flags);
        if (!q || (flags & STR_NUL))
            return 0;
        fields = 0;
        if (depth == 1) {
            fields = match_key(s + 1, (size_t)(q - s - 1), flags & STR_ESCAPED,
                               names, lens);
            if (fields < 0)
                return 0;
        }
        s = skip_ws(q + 1, e);
        if (s >= e || *s != ':')
            return 0;
        s = skip_ws(s + 1, e);

    value:
        if (s >= e || depth + 1 > MAX_DEPTH)
            return 0;
        {
            const unsigned char *v = s;
            int type;
            switch (*s) {
            case '"':
                if (dst && (fields & 1)) {
                    size_t dn = 0;
                    q = scan_decode(s + 1, e, &flags, dst, &dn);
                    if (!q)
                        return 0;
                    s = q + 1;
                    put(out, fields,
                        flags & STR_ESCAPED
                            ? (nd__jsval){dst, dn, ND__JS_STRING, 0}
                            : (nd__jsval){(const char *)v + 1,
                                          (size_t)(q - v - 1), ND__JS_STRING, 0});
                    goto after_value;
                }
                q = scan_string(s + 1, e, &flags);
                if (!q)
                    return 0;
                s = q + 1;
                if (fields)
                    put(out, fields,
                        (nd__jsval){(const char *)v + 1, (size_t)(q - v - 1),
                                    ND__JS_STRING, flags & STR_ESCAPED});
                goto after_value;
            case '{':
            case '[':
                if (fields)
                    put(out, fields,
                        (nd__jsval){(const char *)v, 0, ND__JS_OTHER, 0});
                fields = 0;
                stack[depth++] = *s == '{';
                s = skip_ws(s + 1, e);
                if (s < e && *s == (stack[depth - 1] ? '}' : ']')) {
                    s++;
                    depth--;
                    goto after_value;
                }
                if (stack[depth - 1])
                    continue; /* a key */
                goto value;
            case 't':
                if (e - s < 4 || memcmp(s, "true", 4) != 0)
                    return 0;
                s += 4;
                type = ND__JS_OTHER;
                break;
            case 'f':
                if (e - s < 5 || memcmp(s, "false", 5) != 0)
                    return 0;
                s += 5;
                type = ND__JS_OTHER;
                break;
            case 'n':
                if (e - s < 4 || memcmp(s, "null", 4) != 0)
                    return 0;
                s += 4;
                type = ND__JS_NULL;
                break;
            default: {
                int real;
                if (*s != '-' && !is_digit(*s))
                    return 0;
                if (!(s = scan_number(s, e, &real)))
                    return 0;
                type = real == 2 ? ND__JS_BIGNUM
                       : real ? ND__JS_REAL : ND__JS_INT;
                break;
            }
            }
            if (fields)
                put(out, fields,
                    (nd__jsval){(const char *)v, (size_t)(s - v), type, 0});
        }

    after_value:
        fields = 0;
        for (;;) {
            s = skip_ws(s, e);
            if (s >= e)
                return 0;
            if (*s == ',') {
                s = skip_ws(s + 1, e);
                if (stack[depth - 1])
                    break; /* the next key */
                goto value;
            }
            if (*s != (stack[depth - 1] ? '}' : ']'))
                return 0;
            s++;
            if (--depth == 0)
                goto done;
        }
    }

done:
    return skip_ws(s, e) == e;
}

size_t nd__json_unescape(char *dst, const char *src, size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    const unsigned char *e = s + n;
    char *o = dst;
    for (;;) {
        const unsigned char *b = NULL;
#ifdef ND_SCAN_SSE2
        /* 16 bytes copied a step up to the next backslash.  The output
           never runs ahead of the input (an escape is longer than what it
           stands for), so a whole step stays inside dst[0..n). */
        const __m128i bslash = _mm_set1_epi8('\\');
        while (e - s >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
            _mm_storeu_si128((__m128i *)(void *)o, v);
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, bslash));
            if (m) {
                unsigned k = (unsigned)__builtin_ctz(m);
                s += k;
                o += k;
                b = s;
                break;
            }
            s += 16;
            o += 16;
        }
#endif
        if (!b)
            b = memchr(s, '\\', (size_t)(e - s));
        size_t run = (size_t)((b ? b : e) - s);
        memcpy(o, s, run);
        o += run;
        if (!b)
            break;
        s = b + 1;
        unsigned c = *s++;
        switch (c) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            /* The scanner accepted the body: the escape is a valid one. */
            const unsigned char *q = b;
            int f = 0;
            long u = escape_u(&q, e, &f);
            if (u < 0)
                u = 'u', q = b + 2; /* not reached; 1 byte for 2 */
            s = q;
            o += put_utf8(o, (unsigned long)u);
            break;
        }
        default: /* " \ / */
            *o++ = (char)c;
        }
    }
    return (size_t)(o - dst);
}

int64_t nd__json_int(const char *s, size_t n)
{
    int neg = n > 0 && *s == '-';
    int64_t v = 0;
    for (size_t i = (size_t)neg; i < n; i++)
        v = 10 * v + (s[i] - '0');
    return neg ? -v : v;
}

int nd__json_real(const char *s, size_t n, double *v)
{
    char small[512];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char radix = localeconv()->decimal_point[0];
    char *dot = memchr(buf, '.', n);
    if (dot && radix != '.')
        *dot = radix;
    *v = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return 1;
}
