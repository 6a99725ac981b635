/*
 * numbers.h - the code paths of the figure scan (numbers.c): the search for
 * the next digit on each instruction set, and the whole scan on a chosen
 * one, for the tests that hold every path to the same output.
 */
#ifndef ND_NUMBERS_H
#define ND_NUMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

/*
 * The first ASCII digit ('0'..'9') of text[i..len), or len when there is
 * none (i <= len).  Reads no byte outside text[i..len).
 */
typedef size_t (*nd__next_digit_fn)(const char *text, size_t i, size_t len);

typedef enum {
    ND__DIGITS_SCALAR = 0, /* eight bytes a word, any CPU */
    ND__DIGITS_AVX2 = 1,   /* 32 bytes a test */
    ND__DIGITS_AVX512 = 2, /* 64 bytes a test (AVX-512 F and BW) */
    ND__DIGITS_PATHS = 3
} nd__digits_path;

/*
 * What the bytes text[base..base + 64) are, bit k for text[base + k] (m[0]),
 * and the 64 after them (m[1]); bytes outside text[0..len) are none of them
 * (base may be negative or run past the end; nothing outside is read).
 * alpha: ASCII letters; digit: ASCII digits; alnum: both; inner: the
 * punctuation that may sit inside a figure (. , : ; ' `); sep: space, comma
 * and dot; other: the letters that are no OCR look-alike of a digit (all
 * but O o l I i).
 */
typedef struct {
    uint64_t alpha, digit, alnum, inner, sep, other;
} nd__byte_masks;
typedef void (*nd__byte_masks_fn)(const char *text, size_t len, ptrdiff_t base,
                                  nd__byte_masks m[2]);

/* Bit p set when path p can run here; detected once. */
unsigned nd__digit_paths(void);

/* On a given path, which must be one of nd__digit_paths(): the digit
   search, the class masks (only AVX-512 has its own: the other paths walk
   byte by byte, and here give nd__byte_masks_scalar), and nd__figures (text.h)
   with them (the same output on every path; nd__figures takes the
   fastest). */
size_t nd__next_digit_on(nd__digits_path p, const char *text, size_t i,
                         size_t len);
void nd__byte_masks_on(nd__digits_path p, const char *text, size_t len,
                       ptrdiff_t base, nd__byte_masks m[2]);
int nd__figures_on(nd__digits_path p, nd__textbuf *t, const char *text,
                   size_t len, uint64_t seed);

size_t nd__next_digit_scalar(const char *text, size_t i, size_t len);
void nd__byte_masks_scalar(const char *text, size_t len, ptrdiff_t base,
                           nd__byte_masks m[2]);
#ifdef ND__TEXT_X86
size_t nd__next_digit_avx2(const char *text, size_t i, size_t len);
size_t nd__next_digit_avx512(const char *text, size_t i, size_t len);
void nd__byte_masks_avx512(const char *text, size_t len, ptrdiff_t base,
                           nd__byte_masks m[2]);
#endif

#endif
