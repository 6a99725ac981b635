/*
 * numbers_avx2.c - the digit search of the figure scan (numbers.h) with
 * AVX2, called only on CPUs that have it (nd__digit_paths).
 *
 * 32 bytes a test: adding 0x80 - '0' moves '0'..'9' to the ten smallest
 * signed bytes, -128..-119, which one signed compare picks (bytes >= 0x80
 * land on -48..79, never there).  AVX2 has no masked byte load, so the
 * last bytes, fewer than 32, go through the scalar search.  The class
 * masks of 64 bytes inside the text: two loads and a compare a class or
 * letter; near the ends of the text the scalar code gives them.
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

/* Bit k: byte k of x is in lo..lo + n - 1 (n <= 128). */
__attribute__((target("avx2"))) static inline unsigned in_range(__m256i x, char lo,
                                                                int n)
{
    const __m256i y = _mm256_add_epi8(x, _mm256_set1_epi8((char)(0x80 - lo)));
    return (unsigned)_mm256_movemask_epi8(
        _mm256_cmpgt_epi8(_mm256_set1_epi8((char)(-128 + n)), y));
}

__attribute__((target("avx2"))) static inline unsigned eq(__m256i x, char c)
{
    return (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, _mm256_set1_epi8(c)));
}

/* The masks of the 64 bytes at p, all inside the text. */
__attribute__((target("avx2"))) static inline nd__byte_masks block(const char *p)
{
    uint64_t alpha = 0, digit = 0, alnum = 0, inner = 0, sep = 0, other = 0;
    for (int h = 1; h >= 0; h--) {
        const __m256i x = _mm256_loadu_si256((const void *)(p + 32 * h));
        const __m256i low = _mm256_or_si256(x, _mm256_set1_epi8(0x20));
        const unsigned al = in_range(low, 'a', 26), di = in_range(x, '0', 10),
                       dot = eq(x, '.'), comma = eq(x, ','),
                       look = eq(low, 'o') | eq(low, 'i') | eq(x, 'l');
        alpha = alpha << 32 | al;
        digit = digit << 32 | di;
        alnum = alnum << 32 | (al | di);
        inner = inner << 32 | (dot | comma | eq(x, ':') | eq(x, ';') | eq(x, '\'') |
                               eq(x, '`'));
        sep = sep << 32 | (dot | comma | eq(x, ' '));
        other = other << 32 | (al & ~look);
    }
    return (nd__byte_masks){alpha, digit, alnum, inner, sep, other};
}

__attribute__((target("avx2"))) void
nd__byte_masks_avx2(const char *text, size_t len, ptrdiff_t base,
                    nd__byte_masks m[2])
{
    if (base < 0 || (ptrdiff_t)len - base < 128) {
        nd__byte_masks_scalar(text, len, base, m);
        return;
    }
    m[0] = block(text + base);
    m[1] = block(text + base + 64);
}

#endif
