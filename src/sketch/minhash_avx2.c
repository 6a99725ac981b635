/*
 * minhash_avx2.c - the O(n k) kernels with AVX2 (built with -mavx2, called
 * only when the CPU has it).
 *
 * AVX2 has no 64 x 64 multiply and no unsigned 64-bit minimum, but only the
 * top 32 bits of v = a x + b are kept, and with a = ah 2^32 + al and
 * x = xh 2^32 + xl,
 *   topk(v) = topk(al xl + b) + al xh + ah xl   (mod 2^32),
 * three 32 x 32 -> 64 multiplies (vpmuludq) whose 32-bit sum lands in the
 * low half of each 64-bit lane.  The high halves collect garbage that the
 * 32-bit minimum (vpminud) keeps apart, and only the low halves are stored.
 * C-MinHash needs topk(s + b) only: a 64-bit add, a shift and vpminud.
 */
#include "sketch.h"

#if defined(ND__HAVE_X86) && defined(__AVX2__)
#include <immintrin.h>

/* The low 32 bits of each 64-bit lane of m into sig[0..4). */
static __m128i low_halves(__m256i m)
{
    const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(m, even));
}

static void store4(uint32_t *sig, __m256i m)
{
    _mm_storeu_si128((__m128i *)(void *)sig, low_halves(m));
}

static void merge4(uint32_t *sig, __m256i m)
{
    __m128i old = _mm_loadu_si128((const __m128i *)(const void *)sig);
    _mm_storeu_si128((__m128i *)(void *)sig, _mm_min_epu32(old, low_halves(m)));
}

/* topk(a x + b) in the low half of each lane; xl, xh broadcast halves of x. */
static __m256i kperm4(__m256i a, __m256i ah, __m256i b, __m256i xl, __m256i xh)
{
    __m256i t = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epu32(a, xl), b), 32);
    __m256i c = _mm256_add_epi32(_mm256_mul_epu32(ah, xl), _mm256_mul_epu32(a, xh));
    return _mm256_add_epi32(t, c);
}

void nd__kperm_avx2(const uint64_t *a, const uint64_t *b, unsigned k,
                    const uint64_t *x, size_t n, uint32_t *sig)
{
    const __m256i ones = _mm256_set1_epi64x(-1);
    unsigned i = 0;
    for (; i + 8 <= k; i += 8) {
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)(const void *)(a + i));
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)(const void *)(a + i + 4));
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(b + i));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + i + 4));
        const __m256i h0 = _mm256_srli_epi64(a0, 32), h1 = _mm256_srli_epi64(a1, 32);
        __m256i m0 = ones, m1 = ones;
        for (size_t j = 0; j < n; j++) {
            const __m256i xl = _mm256_set1_epi64x((long long)x[j]);
            const __m256i xh = _mm256_srli_epi64(xl, 32);
            m0 = _mm256_min_epu32(m0, kperm4(a0, h0, b0, xl, xh));
            m1 = _mm256_min_epu32(m1, kperm4(a1, h1, b1, xl, xh));
        }
        store4(sig + i, m0);
        store4(sig + i + 4, m1);
    }
    if (i < k)
        nd__kperm_scalar(a + i, b + i, k - i, x, n, sig + i);
}

void nd__cmin_avx2(uint64_t a, uint64_t g, const uint64_t *b, unsigned k,
                   const uint64_t *x, size_t n, uint32_t *sig)
{
    enum { CHUNK = 512 };
    uint64_t s[CHUNK];
    const __m256i ones = _mm256_set1_epi64x(-1);
    for (unsigned i = 0; i < k; i++)
        sig[i] = UINT32_MAX;
    for (size_t j0 = 0; j0 < n; j0 += CHUNK) {
        size_t c = n - j0 < CHUNK ? n - j0 : CHUNK;
        for (size_t j = 0; j < c; j++)
            s[j] = nd__cmin_pos(a, g, x[j0 + j]);
        unsigned i = 0;
        for (; i + 16 <= k; i += 16) {
            const __m256i o0 = _mm256_loadu_si256((const __m256i *)(const void *)(b + i));
            const __m256i o1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + i + 4));
            const __m256i o2 = _mm256_loadu_si256((const __m256i *)(const void *)(b + i + 8));
            const __m256i o3 = _mm256_loadu_si256((const __m256i *)(const void *)(b + i + 12));
            __m256i m0 = ones, m1 = ones, m2 = ones, m3 = ones;
            for (size_t j = 0; j < c; j++) {
                const __m256i sv = _mm256_set1_epi64x((long long)s[j]);
                m0 = _mm256_min_epu32(m0, _mm256_srli_epi64(_mm256_add_epi64(sv, o0), 32));
                m1 = _mm256_min_epu32(m1, _mm256_srli_epi64(_mm256_add_epi64(sv, o1), 32));
                m2 = _mm256_min_epu32(m2, _mm256_srli_epi64(_mm256_add_epi64(sv, o2), 32));
                m3 = _mm256_min_epu32(m3, _mm256_srli_epi64(_mm256_add_epi64(sv, o3), 32));
            }
            merge4(sig + i, m0);
            merge4(sig + i + 4, m1);
            merge4(sig + i + 8, m2);
            merge4(sig + i + 12, m3);
        }
        for (; i < k; i++) {
            uint64_t m = UINT64_MAX;
            for (size_t j = 0; j < c; j++) {
                uint64_t v = s[j] + b[i];
                m = v < m ? v : m;
            }
            uint32_t v = (uint32_t)(m >> 32);
            sig[i] = v < sig[i] ? v : sig[i];
        }
    }
}

#else
typedef int nd__no_avx2; /* ISO C wants a declaration in every file */
#endif
