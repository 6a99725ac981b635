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

/* Bit p set when path p can run here; detected once. */
unsigned nd__digit_paths(void);

/* On a given path, which must be one of nd__digit_paths(): the digit
   search, and nd__figures (text.h) with it (the same output on every
   path; nd__figures takes the fastest). */
size_t nd__next_digit_on(nd__digits_path p, const char *text, size_t i,
                         size_t len);
int nd__figures_on(nd__digits_path p, nd__textbuf *t, const char *text,
                   size_t len, uint64_t seed);

size_t nd__next_digit_scalar(const char *text, size_t i, size_t len);
#ifdef ND__TEXT_X86
size_t nd__next_digit_avx2(const char *text, size_t i, size_t len);
size_t nd__next_digit_avx512(const char *text, size_t i, size_t len);
#endif

#endif
