/*
 * compare_avx512.c - verification's compares (compare.c) with AVX-512 F
 * and BW and POPCNT, called only on CPUs that have all three.
 *
 * Signatures: 32 values a vector, compared into a mask register; a's and
 * b's copied bits are the sign bits of their lanes (vpmovw2m), so a block
 * counts eq = popcount(equal & ~copied_a) and both = popcount(copied_a &
 * copied_b).  The last k mod 32 values come by a masked load, which
 * touches no value past the end, and count only inside the mask.
 *
 * Figures: a sketch of ND__FIGS = 16 values is one vector; each of b's
 * values is broadcast and compared with all of a's values and contexts at
 * once, so a[i] learns whether b holds it (same) or its context (seen).
 */
#include "sketch.h"

#if defined(ND__HAVE_X86) && defined(__AVX512F__)
#include <immintrin.h>

_Static_assert(ND__FIGS == 16, "a figure sketch is one vector of 16 lanes");

__attribute__((target("avx512f,avx512bw,popcnt"))) nd__sig16_counts
nd__sig16_count_avx512(const uint16_t *a, const uint16_t *b, unsigned k)
{
    unsigned eq = 0, both = 0, i = 0;
    for (; i + 32 <= k; i += 32) {
        const __m512i va = _mm512_loadu_si512((const void *)(a + i));
        const __m512i vb = _mm512_loadu_si512((const void *)(b + i));
        const __mmask32 ca = _mm512_movepi16_mask(va), cb = _mm512_movepi16_mask(vb);
        const __mmask32 e = _mm512_cmpeq_epi16_mask(va, vb);
        eq += (unsigned)__builtin_popcount((unsigned)(e & ~ca));
        both += (unsigned)__builtin_popcount((unsigned)(ca & cb));
    }
    if (i < k) {
        const __mmask32 live = (__mmask32)((1u << (k - i)) - 1);
        const __m512i va = _mm512_maskz_loadu_epi16(live, a + i);
        const __m512i vb = _mm512_maskz_loadu_epi16(live, b + i);
        const __mmask32 ca = _mm512_movepi16_mask(va), cb = _mm512_movepi16_mask(vb);
        const __mmask32 e = _mm512_mask_cmpeq_epi16_mask(live, va, vb);
        eq += (unsigned)__builtin_popcount((unsigned)(e & ~ca));
        both += (unsigned)__builtin_popcount((unsigned)(ca & cb));
    }
    return (nd__sig16_counts){eq, both};
}

__attribute__((target("avx512f,avx512bw,popcnt"))) nd__figs_counts
nd__figs_count_avx512(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    const __m512i va = _mm512_loadu_si512((const void *)a);
    const __m512i xa = _mm512_srli_epi32(va, 16);
    const __mmask16 live = (__mmask16)((1u << na) - 1); /* na <= 16 */
    if (na == nb) {
        /* The same sketch (the common case of reprints): all agree. */
        const __m512i vb = _mm512_loadu_si512((const void *)b);
        if (_mm512_mask_cmpeq_epi32_mask(live, va, vb) == live)
            return (nd__figs_counts){na, 0};
    }
    __mmask16 same = 0, seen = 0;
    for (uint32_t j = 0; j < nb; j++) {
        same |= _mm512_cmpeq_epi32_mask(va, _mm512_set1_epi32((int)b[j]));
        seen |= _mm512_cmpeq_epi32_mask(xa, _mm512_set1_epi32((int)(b[j] >> 16)));
    }
    same &= live;
    seen &= live;
    return (nd__figs_counts){(uint32_t)__builtin_popcount(same),
                             (uint32_t)__builtin_popcount((unsigned)(seen & ~same))};
}

#else
typedef int nd__no_compare_avx512; /* ISO C wants a declaration in every file */
#endif
