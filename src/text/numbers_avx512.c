/*
 * numbers_avx512.c - the digit search of the figure scan (numbers.h) with
 * AVX-512 F and BW, called only on CPUs that have both (nd__digit_paths).
 *
 * 64 bytes a test: a byte is a digit when it minus '0' is below 10 as an
 * unsigned byte (bytes >= 0x80 never are).  The last, partial block is read
 * by a masked load, which touches no byte past the end.  The class masks
 * of 64 bytes come from one masked load (which touches only the bytes
 * inside the text) and a compare a class or letter.
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

/* The masks of 64 bytes x (bytes outside the text read as 0, which no
   class holds). */
__attribute__((target("avx512f,avx512bw"))) static inline nd__byte_masks
classes(__m512i x)
{
    const __m512i low = _mm512_or_si512(x, _mm512_set1_epi8(0x20));
    const __mmask64 alpha = _mm512_cmplt_epu8_mask(
        _mm512_sub_epi8(low, _mm512_set1_epi8('a')), _mm512_set1_epi8(26));
    const __mmask64 digit = _mm512_cmplt_epu8_mask(
        _mm512_sub_epi8(x, _mm512_set1_epi8('0')), _mm512_set1_epi8(10));
    const __mmask64 dot = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('.')),
                    comma = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(',')),
                    space = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(' ')),
                    colons = _mm512_cmpeq_epi8_mask( /* ':' or ';' */
                        _mm512_or_si512(x, _mm512_set1_epi8(1)), _mm512_set1_epi8(';')),
                    quote = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\'')),
                    grave = _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('`')),
                    look = _mm512_cmpeq_epi8_mask(low, _mm512_set1_epi8('o')) |
                           _mm512_cmpeq_epi8_mask(low, _mm512_set1_epi8('i')) |
                           _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('l'));
    return (nd__byte_masks){alpha, digit, alpha | digit, dot | comma | colons | quote | grave,
                            space | dot | comma, alpha & ~look};
}

/* The masks of text[base..base + 64), base anywhere: a masked load reads
   only the bytes inside the text. */
__attribute__((target("avx512f,avx512bw"))) static inline nd__byte_masks
block(const char *text, size_t len, ptrdiff_t base)
{
    uint64_t valid = ~UINT64_C(0);
    if (base < 0)
        valid = base <= -64 ? 0 : valid << -base;
    if ((ptrdiff_t)len - base < 64)
        valid &= (ptrdiff_t)len <= base ? 0
                                        : ((UINT64_C(1) << ((ptrdiff_t)len - base)) - 1);
    /* The address of text[base], by integers: base may lie outside. */
    const void *p = (const void *)((uintptr_t)text + (uintptr_t)base);
    return classes(_mm512_maskz_loadu_epi8(valid, p));
}

__attribute__((target("avx512f,avx512bw"))) void
nd__byte_masks_avx512(const char *text, size_t len, ptrdiff_t base,
                      nd__byte_masks m[2])
{
    if (base >= 0 && (ptrdiff_t)len - base >= 128) { /* most calls */
        m[0] = classes(_mm512_loadu_si512((const void *)(text + base)));
        m[1] = classes(_mm512_loadu_si512((const void *)(text + base + 64)));
    } else {
        m[0] = block(text, len, base);
        m[1] = block(text, len, base + 64);
    }
}

#endif
