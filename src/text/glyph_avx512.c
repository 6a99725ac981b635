/*
 * glyph_avx512.c - the glyph kernels of text.h with AVX-512 (F, BW, DQ,
 * VBMI, VBMI2), called only on CPUs that have them all (nd__text_paths).
 *
 * fold: 32 raw bytes at a time.  vpermb doubles each byte into a pair of
 * lanes, two 128-entry byte lookups (vpermi2b) give each lane its first or
 * second glyph, and vpcompressb packs the lanes that hold one: no glyph is
 * 0, so a byte's missing glyphs, separators and apostrophes fall out.
 * pick: 16 windows at a time from one 32-byte load, each lane's 8 bytes
 * gathered by vpermb; vpmullq gives the choice (the top bit of the
 * product) and the MurmurHash3 finalizer, and vpcompressq packs the kept.
 * Compression goes to a register and is then stored whole (the memory form
 * is microcoded on some CPUs), which is why the outputs need slack.
 * Both compute exactly the scalar code of shingle.c.
 */
#include "text.h"

#ifdef ND__TEXT_X86
#include <immintrin.h>

#define TARGET \
    __attribute__((target("avx512f,avx512bw,avx512dq,avx512vbmi,avx512vbmi2,popcnt")))

/* Byte j of a vector: byte j / 2 of the source (each byte twice). */
static const unsigned char twice[64] = {
    0,  0,  1,  1,  2,  2,  3,  3,  4,  4,  5,  5,  6,  6,  7,  7,
    8,  8,  9,  9,  10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15,
    16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23,
    24, 24, 25, 25, 26, 26, 27, 27, 28, 28, 29, 29, 30, 30, 31, 31};

/* Lane k of 8 bytes: source bytes k .. k + 7 (windows 0..7), and the
   same 8 bytes on (windows 8..15). */
static const unsigned char windows_lo[64] = {
    0, 1, 2, 3, 4,  5,  6,  7,  1, 2, 3, 4,  5,  6,  7,  8,
    2, 3, 4, 5, 6,  7,  8,  9,  3, 4, 5, 6,  7,  8,  9,  10,
    4, 5, 6, 7, 8,  9,  10, 11, 5, 6, 7, 8,  9,  10, 11, 12,
    6, 7, 8, 9, 10, 11, 12, 13, 7, 8, 9, 10, 11, 12, 13, 14};

TARGET size_t nd__fold_ascii_avx512(const unsigned char *s, size_t len,
                                    unsigned char *out, size_t *used)
{
    const __m512i first_lo = _mm512_loadu_si512(nd__glyph_first),
                  first_hi = _mm512_loadu_si512(nd__glyph_first + 64),
                  second_lo = _mm512_loadu_si512(nd__glyph_second),
                  second_hi = _mm512_loadu_si512(nd__glyph_second + 64),
                  dup = _mm512_loadu_si512(twice);
    const __mmask64 odd = 0xAAAAAAAAAAAAAAAAull;
    unsigned char *o = out;
    size_t i = 0;
    while (i < len) {
        const size_t left = len - i;
        /* A text is usually read here first: ask for it a few lines ahead
           (a prefetch past its end is harmless). */
        _mm_prefetch((const char *)s + i + 512, _MM_HINT_T0);
        __mmask64 m = left >= 32 ? 0xFFFFFFFFull : (((__mmask64)1 << left) - 1);
        __m512i x = _mm512_maskz_loadu_epi8(m, s + i);
        const __mmask64 high = _mm512_movepi8_mask(x) & m;
        size_t took = left >= 32 ? 32 : left;
        if (high) {
            took = (size_t)__builtin_ctzll(high);
            m = ((__mmask64)1 << took) - 1;
            x = _mm512_maskz_mov_epi8(m, x);
        }
        const __m512i xx = _mm512_permutexvar_epi8(dup, x);
        const __m512i a = _mm512_permutex2var_epi8(first_lo, xx, first_hi);
        const __m512i b = _mm512_permutex2var_epi8(second_lo, xx, second_hi);
        const __m512i r = _mm512_mask_blend_epi8(odd, a, b);
        const __mmask64 keep = _mm512_test_epi8_mask(r, r);
        _mm512_storeu_si512(o, _mm512_maskz_compress_epi8(keep, r));
        o += __builtin_popcountll(keep);
        i += took;
        if (high)
            break;
    }
    *used = i;
    return (size_t)(o - out);
}

/* The MurmurHash3 finalizer of each lane (mix.h). */
TARGET static inline __m512i fmix8(__m512i x)
{
    const __m512i c1 = _mm512_set1_epi64((long long)0xff51afd7ed558ccdull),
                  c2 = _mm512_set1_epi64((long long)0xc4ceb9fe1a85ec53ull);
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 33));
    x = _mm512_mullo_epi64(x, c1);
    x = _mm512_xor_si512(x, _mm512_srli_epi64(x, 33));
    x = _mm512_mullo_epi64(x, c2);
    return _mm512_xor_si512(x, _mm512_srli_epi64(x, 33));
}

/* Kept lanes of w (among those of lanes), mixed, at o; returns how many. */
TARGET static inline size_t pick8(__m512i w, __mmask8 lanes, __m512i pick,
                                  uint64_t *o)
{
    const __mmask8 keep = (__mmask8)(~_mm512_movepi64_mask(_mm512_mullo_epi64(w, pick)) & lanes);
    _mm512_storeu_si512(o, _mm512_maskz_compress_epi64(keep, fmix8(w)));
    return (size_t)__builtin_popcount(keep);
}

TARGET size_t nd__pick_windows_avx512(const unsigned char *g, size_t from,
                                      size_t to, unsigned n, uint64_t seed,
                                      uint64_t *out)
{
    const __m512i lo = _mm512_loadu_si512(windows_lo),
                  hi = _mm512_add_epi8(lo, _mm512_set1_epi8(8)),
                  mask = _mm512_set1_epi64(n >= 8 ? -1LL : (long long)((1ull << (8 * n)) - 1)),
                  vseed = _mm512_set1_epi64((long long)seed),
                  pick = _mm512_set1_epi64((long long)0x9e3779b97f4a7c15ull);
    uint64_t *o = out;
    size_t i = from;
    for (; i + 16 <= to; i += 16) {
        const __m512i src = _mm512_castsi256_si512(_mm256_loadu_si256((const void *)(g + i)));
        const __m512i w0 = _mm512_xor_si512(
            _mm512_and_si512(_mm512_permutexvar_epi8(lo, src), mask), vseed);
        const __m512i w1 = _mm512_xor_si512(
            _mm512_and_si512(_mm512_permutexvar_epi8(hi, src), mask), vseed);
        o += pick8(w0, 0xFF, pick, o);
        o += pick8(w1, 0xFF, pick, o);
    }
    for (; i < to; i += 8) {
        const __m512i src = _mm512_castsi128_si512(_mm_loadu_si128((const void *)(g + i)));
        const __m512i w = _mm512_xor_si512(
            _mm512_and_si512(_mm512_permutexvar_epi8(lo, src), mask), vseed);
        const size_t left = to - i;
        o += pick8(w, left >= 8 ? 0xFF : (__mmask8)((1u << left) - 1), pick, o);
    }
    return (size_t)(o - out);
}

#endif
