/*
 * jsonscan.h - a validating one-pass scanner for one JSONL line that pulls
 * out a few top-level fields without building a tree (internal).
 *
 * It accepts the lines jansson's json_loadb(JSON_ALLOW_NUL) accepts as an
 * object, and also those jansson refuses only for a number out of its
 * range; or it declines: a declined line may still be valid (rare shapes
 * the scanner leaves to jansson), so the caller then parses it with
 * jansson, which also words the error.
 */
#ifndef ND_JSONSCAN_H
#define ND_JSONSCAN_H

#include <stddef.h>
#include <stdint.h>

enum {
    ND__JS_ABSENT = 0, /* the field is not a top-level member */
    ND__JS_STRING,     /* p..p+n is the body between the quotes */
    ND__JS_INT,        /* p..p+n is the number text, at most 18 digits */
    ND__JS_REAL,       /* p..p+n is the number text, finite as a double */
    ND__JS_NULL,
    ND__JS_OTHER,      /* true, false, an object or an array */
    ND__JS_BIGNUM      /* p..p+n is the number text, of any other size: an
                          integer of 19 or more digits, or a real that may
                          overflow a double */
};

/* A top-level member's value as written in the line (the last one of that
 * name, as jansson keeps the last of duplicate keys). */
typedef struct nd__jsval {
    const char *p;
    size_t n;
    int type;
    int escaped; /* strings: the body holds a backslash escape */
} nd__jsval;

#define ND__JS_MAX_FIELDS 4

/*
 * Scan line[0..len) (it need not be NUL-terminated).  names[i] (NUL-
 * terminated, NULL to skip) are looked up among the top-level keys; out[i]
 * gets its value.  Returns 1 when the line is one valid JSON object (and
 * out[] is filled), 0 when the caller must ask jansson.
 */
int nd__jsonscan(const char *line, size_t len,
                 const char *const names[ND__JS_MAX_FIELDS],
                 nd__jsval out[ND__JS_MAX_FIELDS]);

/*
 * nd__jsonscan, with the string value of names[0] decoded as it is scanned
 * into dst (room for len bytes) when it holds an escape: out[0] (and any
 * out[i] of the same name) then points into dst, escaped 0.  A text without
 * escapes stays in place.  dst NULL: nd__jsonscan.
 */
int nd__jsonscan_decode(const char *line, size_t len,
                        const char *const names[ND__JS_MAX_FIELDS],
                        nd__jsval out[ND__JS_MAX_FIELDS], char *dst);

/*
 * Decode the body of a string the scanner accepted into dst (room for n
 * bytes: decoding never lengthens).  Returns the decoded length.
 */
size_t nd__json_unescape(char *dst, const char *s, size_t n);

/* The value of an ND__JS_INT. */
int64_t nd__json_int(const char *s, size_t n);

/* The value of an ND__JS_REAL (or a real ND__JS_BIGNUM) into *v, read as
 * jansson reads it (strtod in the current locale with '.' as the radix);
 * an overflow gives +-HUGE_VAL.  Returns 0 when out of memory. */
int nd__json_real(const char *s, size_t n, double *v);

#endif
