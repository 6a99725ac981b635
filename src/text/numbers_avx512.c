/*
 * numbers_avx512.c - the digit search of the figure scan (numbers.h) with
 * AVX-512 F and BW, called only on CPUs that have both (nd__digit_paths).
 *
 * 64 bytes a test: a byte is a digit when it minus '0' is below 10 as an
 * unsigned byte (bytes >= 0x80 never are).  The last, partial block is read
 * by a masked load, which touches no byte past the end.
 */
#include "numbers.h"

#ifdef ND__TEXT_X86
#include <immintrin.h>

__attribute__((target("avx512f,avx512bw"))) size_t
nd__next_digit_avx512(const char *text, size_t i, size_t len)
{
    const __m512i zero = _mm512_set1_epi8('0'), ten = _mm512_set1_epi8(10);
    for (; i + 64 <= len; i += 64) {
        const __m512i x = _mm512_loadu_si512((const void *)(text + i));
        const __mmask64 d = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, zero), ten);
        if (d)
            return i + (size_t)__builtin_ctzll(d);
    }
    if (i < len) {
        const __mmask64 m = ((__mmask64)1 << (len - i)) - 1;
        const __m512i x = _mm512_maskz_loadu_epi8(m, text + i);
        const __mmask64 d =
            _mm512_cmplt_epu8_mask(_mm512_sub_epi8(x, zero), ten) & m;
        if (d)
            return i + (size_t)__builtin_ctzll(d);
    }
    return len;
}

#endif
