/*
 * compare_avx2.c - verification's compares (compare.c) with AVX2 and
 * POPCNT (built with -mavx2, called only on CPUs that have both).
 *
 * Signatures: 16 values a vector.  A lane is equal-and-not-copied when the
 * compare says equal and a's bit 15 (spread by an arithmetic shift) is
 * clear; copied in both when bit 15 of a & b is set.  Two vectors of lane
 * masks pack into one of bytes (saturation keeps 0 and -1), whose
 * movemask counts 32 lanes with one popcount.  The last k mod 16 values
 * are counted by the scalar twin.
 *
 * Figures: a sketch is ND__FIGS = 16 values, two vectors; each of b's
 * values is broadcast and compared with all of a's values and contexts at
 * once, so a[i] learns whether b holds it (same) or its context (seen).
 */
#include "sketch.h"

#if defined(ND__HAVE_X86) && defined(__AVX2__)
#include <immintrin.h>

/* The lanes of a mask vector of 16-bit lanes, as 16 bits. */
static inline unsigned lanes16(__m256i m)
{
    /* packs works within 128-bit halves: the order of the bits does not
       matter to a count. */
    return (unsigned)_mm256_movemask_epi8(_mm256_packs_epi16(m, _mm256_setzero_si256()));
}

__attribute__((target("avx2,popcnt"))) nd__sig16_counts
nd__sig16_count_avx2(const uint16_t *a, const uint16_t *b, unsigned k)
{
    unsigned eq = 0, both = 0, i = 0;
    for (; i + 32 <= k; i += 32) {
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)(const void *)(a + i));
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(b + i));
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)(const void *)(a + i + 16));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + i + 16));
        const __m256i e0 = _mm256_andnot_si256(_mm256_srai_epi16(a0, 15), _mm256_cmpeq_epi16(a0, b0));
        const __m256i e1 = _mm256_andnot_si256(_mm256_srai_epi16(a1, 15), _mm256_cmpeq_epi16(a1, b1));
        const __m256i c0 = _mm256_srai_epi16(_mm256_and_si256(a0, b0), 15);
        const __m256i c1 = _mm256_srai_epi16(_mm256_and_si256(a1, b1), 15);
        eq += (unsigned)__builtin_popcount((unsigned)_mm256_movemask_epi8(_mm256_packs_epi16(e0, e1)));
        both += (unsigned)__builtin_popcount((unsigned)_mm256_movemask_epi8(_mm256_packs_epi16(c0, c1)));
    }
    if (i + 16 <= k) {
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)(const void *)(a + i));
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(b + i));
        eq += (unsigned)__builtin_popcount(
            lanes16(_mm256_andnot_si256(_mm256_srai_epi16(a0, 15), _mm256_cmpeq_epi16(a0, b0))));
        both += (unsigned)__builtin_popcount(
            lanes16(_mm256_srai_epi16(_mm256_and_si256(a0, b0), 15)));
        i += 16;
    }
    if (i < k) {
        const nd__sig16_counts t = nd__sig16_count_scalar(a + i, b + i, k - i);
        eq += t.eq;
        both += t.both;
    }
    return (nd__sig16_counts){eq, both};
}

__attribute__((target("avx2,popcnt"))) nd__figs_counts
nd__figs_count_avx2(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    const __m256i a0 = _mm256_loadu_si256((const __m256i *)(const void *)a);
    const __m256i a1 = _mm256_loadu_si256((const __m256i *)(const void *)(a + 8));
    const __m256i x0 = _mm256_srli_epi32(a0, 16), x1 = _mm256_srli_epi32(a1, 16);
    const unsigned live = (1u << na) - 1; /* na <= 16 */
    if (na == nb) {
        /* The same sketch (the common case of reprints): all agree. */
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)b);
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + 8));
        const unsigned same =
            (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a0, b0))) |
            (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a1, b1))) << 8;
        if ((same & live) == live)
            return (nd__figs_counts){na, 0};
    }
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, c0 = s0, c1 = s0;
    for (uint32_t j = 0; j < nb; j++) {
        const __m256i v = _mm256_set1_epi32((int)b[j]);
        const __m256i x = _mm256_set1_epi32((int)(b[j] >> 16));
        s0 = _mm256_or_si256(s0, _mm256_cmpeq_epi32(a0, v));
        s1 = _mm256_or_si256(s1, _mm256_cmpeq_epi32(a1, v));
        c0 = _mm256_or_si256(c0, _mm256_cmpeq_epi32(x0, x));
        c1 = _mm256_or_si256(c1, _mm256_cmpeq_epi32(x1, x));
    }
    const unsigned same = ((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(s0)) |
                           (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(s1)) << 8) &
                          live;
    const unsigned seen = ((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(c0)) |
                           (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(c1)) << 8) &
                          live;
    return (nd__figs_counts){(uint32_t)__builtin_popcount(same),
                             (uint32_t)__builtin_popcount(seen & ~same)};
}

#else
typedef int nd__no_compare_avx2; /* ISO C wants a declaration in every file */
#endif
