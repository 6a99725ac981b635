/*
 * numbers_avx2.c - the digit search of the figure scan (numbers.h) with
 * AVX2, called only on CPUs that have it (nd__digit_paths).
 *
 * 32 bytes a test: adding 0x80 - '0' moves '0'..'9' to the ten smallest
 * signed bytes, -128..-119, which one signed compare picks (bytes >= 0x80
 * land on -48..79, never there).  AVX2 has no masked byte load, so the
 * last bytes, fewer than 32, go through the scalar search.  (Class masks
 * for the walks around a digit, as numbers_avx512.c has, took more time
 * than they saved with 32-byte vectors: this path walks byte by byte.)
 */
#include "numbers.h"

#ifdef ND__TEXT_X86
#include <immintrin.h>

__attribute__((target("avx2"))) size_t
nd__next_digit_avx2(const char *text, size_t i, size_t len)
{
    const __m256i shift = _mm256_set1_epi8((char)(0x80 - '0')),
                  bound = _mm256_set1_epi8(-128 + 10);
    for (; i + 32 <= len; i += 32) {
        const __m256i x = _mm256_loadu_si256((const void *)(text + i));
        const __m256i y = _mm256_add_epi8(x, shift);
        const unsigned d = (unsigned)_mm256_movemask_epi8(_mm256_cmpgt_epi8(bound, y));
        if (d)
            return i + (size_t)__builtin_ctz(d);
    }
    return nd__next_digit_scalar(text, i, len);
}

#endif
