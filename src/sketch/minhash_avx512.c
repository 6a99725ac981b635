/*
 * minhash_avx512.c - the O(n k) kernels with AVX-512 F + DQ (built with
 * -mavx512f -mavx512dq, called only when the CPU has both).
 *
 * Eight 64-bit hash lanes per vector; vpmullq gives the low 64 bits of a
 * 64 x 64 multiply directly and vpminuq the unsigned minimum, so the lanes
 * compute exactly the scalar expressions of sketch.h.  Blocks of 32 hashes
 * keep their constants and minima in 12 registers while the whole set
 * streams past; a masked block takes the last k mod 8.
 */
#include "sketch.h"

#include <string.h>

#if defined(ND__HAVE_X86) && defined(__AVX512F__) && defined(__AVX512DQ__)
#include <immintrin.h>

/* sig[0..w) = min(sig, topk(m)) for the w <= 8 lanes of mask mk. */
static void merge8(uint32_t *sig, __mmask8 mk, __m512i m)
{
    __m512i old = _mm512_maskz_loadu_epi32((__mmask16)mk, sig);
    old = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(old));
    m = _mm512_min_epu64(old, _mm512_srli_epi64(m, 32));
    _mm512_mask_cvtepi64_storeu_epi32(sig, mk, m);
}

void nd__kperm_avx512(const uint64_t *a, const uint64_t *b, unsigned k,
                      const uint64_t *x, size_t n, uint32_t *sig)
{
    const __m512i ones = _mm512_set1_epi64(-1);
    unsigned i = 0;
    for (; i + 32 <= k; i += 32) {
        const __m512i a0 = _mm512_loadu_si512(a + i), a1 = _mm512_loadu_si512(a + i + 8),
                      a2 = _mm512_loadu_si512(a + i + 16), a3 = _mm512_loadu_si512(a + i + 24);
        const __m512i b0 = _mm512_loadu_si512(b + i), b1 = _mm512_loadu_si512(b + i + 8),
                      b2 = _mm512_loadu_si512(b + i + 16), b3 = _mm512_loadu_si512(b + i + 24);
        __m512i m0 = ones, m1 = ones, m2 = ones, m3 = ones;
        for (size_t j = 0; j < n; j++) {
            const __m512i xv = _mm512_set1_epi64((long long)x[j]);
            m0 = _mm512_min_epu64(m0, _mm512_add_epi64(_mm512_mullo_epi64(a0, xv), b0));
            m1 = _mm512_min_epu64(m1, _mm512_add_epi64(_mm512_mullo_epi64(a1, xv), b1));
            m2 = _mm512_min_epu64(m2, _mm512_add_epi64(_mm512_mullo_epi64(a2, xv), b2));
            m3 = _mm512_min_epu64(m3, _mm512_add_epi64(_mm512_mullo_epi64(a3, xv), b3));
        }
        _mm256_storeu_si256((__m256i *)(void *)(sig + i),
                            _mm512_cvtepi64_epi32(_mm512_srli_epi64(m0, 32)));
        _mm256_storeu_si256((__m256i *)(void *)(sig + i + 8),
                            _mm512_cvtepi64_epi32(_mm512_srli_epi64(m1, 32)));
        _mm256_storeu_si256((__m256i *)(void *)(sig + i + 16),
                            _mm512_cvtepi64_epi32(_mm512_srli_epi64(m2, 32)));
        _mm256_storeu_si256((__m256i *)(void *)(sig + i + 24),
                            _mm512_cvtepi64_epi32(_mm512_srli_epi64(m3, 32)));
    }
    for (; i < k; i += 8) {
        unsigned w = k - i < 8 ? k - i : 8;
        __mmask8 mk = (__mmask8)((1u << w) - 1);
        const __m512i av = _mm512_maskz_loadu_epi64(mk, a + i);
        const __m512i bv = _mm512_maskz_loadu_epi64(mk, b + i);
        __m512i m = ones;
        for (size_t j = 0; j < n; j++) {
            const __m512i xv = _mm512_set1_epi64((long long)x[j]);
            m = _mm512_min_epu64(m, _mm512_add_epi64(_mm512_mullo_epi64(av, xv), bv));
        }
        _mm512_mask_cvtepi64_storeu_epi32(sig + i, mk, _mm512_srli_epi64(m, 32));
    }
}

void nd__cmin_avx512(uint64_t a, uint64_t g, const uint64_t *b, unsigned k,
                     const uint64_t *x, size_t n, uint32_t *sig)
{
    enum { CHUNK = 512 };
    uint64_t s[CHUNK];
    const __m512i ones = _mm512_set1_epi64(-1), av = _mm512_set1_epi64((long long)a),
                  gv = _mm512_set1_epi64((long long)g),
                  sigma = _mm512_set1_epi64((long long)ND__CMIN_SIGMA);
    for (unsigned i = 0; i < k; i++)
        sig[i] = UINT32_MAX;
    for (size_t j0 = 0; j0 < n; j0 += CHUNK) {
        size_t c = n - j0 < CHUNK ? n - j0 : CHUNK;
        for (size_t j = 0; j < c; j += 8) {
            size_t w = c - j < 8 ? c - j : 8;
            __mmask8 mk = (__mmask8)((1u << w) - 1);
            __m512i z = _mm512_maskz_loadu_epi64(mk, x + j0 + j);
            z = _mm512_mullo_epi64(_mm512_xor_si512(z, gv), sigma);
            z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 32));
            _mm512_mask_storeu_epi64(s + j, mk, _mm512_mullo_epi64(av, z));
        }
        unsigned i = 0;
        for (; i + 32 <= k; i += 32) {
            const __m512i o0 = _mm512_loadu_si512(b + i), o1 = _mm512_loadu_si512(b + i + 8),
                          o2 = _mm512_loadu_si512(b + i + 16), o3 = _mm512_loadu_si512(b + i + 24);
            __m512i m0 = ones, m1 = ones, m2 = ones, m3 = ones;
            for (size_t j = 0; j < c; j++) {
                const __m512i sv = _mm512_set1_epi64((long long)s[j]);
                m0 = _mm512_min_epu64(m0, _mm512_add_epi64(sv, o0));
                m1 = _mm512_min_epu64(m1, _mm512_add_epi64(sv, o1));
                m2 = _mm512_min_epu64(m2, _mm512_add_epi64(sv, o2));
                m3 = _mm512_min_epu64(m3, _mm512_add_epi64(sv, o3));
            }
            merge8(sig + i, 0xff, m0);
            merge8(sig + i + 8, 0xff, m1);
            merge8(sig + i + 16, 0xff, m2);
            merge8(sig + i + 24, 0xff, m3);
        }
        for (; i < k; i += 8) {
            unsigned w = k - i < 8 ? k - i : 8;
            __mmask8 mk = (__mmask8)((1u << w) - 1);
            const __m512i ov = _mm512_maskz_loadu_epi64(mk, b + i);
            __m512i m = ones;
            for (size_t j = 0; j < c; j++)
                m = _mm512_min_epu64(m, _mm512_add_epi64(_mm512_set1_epi64((long long)s[j]), ov));
            merge8(sig + i, mk, m);
        }
    }
}

/*
 * OPH binning: the bin and value of eight keys at once (vpmullq for the two
 * 64-bit multiplies, vpmuludq for the bin's 32 x 32 product), a block of
 * OPH_BLOCK keys stored as (bin << 32 | value) words, then each word's
 * minimum taken in turn, as the scalar loop does.  Reading a block back
 * after all its vector stores, rather than eight lanes after each store,
 * keeps the scalar loads from waiting on the store just before them: a
 * third less time a key on `scale` sets (1.8 ns against 2.6, one core).
 */
#define OPH_BLOCK 256

void nd__oph_bins_avx512(uint64_t a, uint64_t b, uint64_t c, unsigned k,
                         const uint64_t *x, size_t n, uint32_t *sig,
                         unsigned char *full)
{
    const __m512i va = _mm512_set1_epi64((long long)a), vb = _mm512_set1_epi64((long long)b),
                  vc = _mm512_set1_epi64((long long)c), vk = _mm512_set1_epi64(k);
    uint64_t lane[OPH_BLOCK];
    for (size_t j0 = 0; j0 < n; j0 += OPH_BLOCK) {
        const size_t m = n - j0 < OPH_BLOCK ? n - j0 : OPH_BLOCK;
        for (size_t j = 0; j < m; j += 8) {
            const unsigned w = m - j < 8 ? (unsigned)(m - j) : 8;
            const __m512i xv =
                _mm512_maskz_loadu_epi64((__mmask8)((1u << w) - 1), x + j0 + j);
            __m512i y = _mm512_add_epi64(_mm512_mullo_epi64(va, xv), vb);
            y = _mm512_mullo_epi64(_mm512_xor_si512(y, _mm512_srli_epi64(y, 32)), vc);
            const __m512i bin = _mm512_mul_epu32(_mm512_srli_epi64(y, 32), vk);
            /* bin in the high half (its product's top 32 bits), value in the
               low; the lanes past m are stored and never read */
            _mm512_storeu_si512(lane + j, _mm512_mask_blend_epi32((__mmask16)0xAAAA, y, bin));
        }
        for (size_t l = 0; l < m; l++) {
            const unsigned i = (unsigned)(lane[l] >> 32);
            const uint32_t v = (uint32_t)lane[l];
            sig[i] = v < sig[i] ? v : sig[i];
            full[i] = 1;
        }
    }
}

/*
 * OPH's densification (minhash.c, oph) with the probes of an empty bin
 * eight at a time: the bins that received a key are a bitmap of k <= 512
 * bits, one vector, read by vpermq and a variable shift, and the first
 * probe that finds a full bin is the lowest set bit of the lanes' mask.
 * The scalar loop tests one probe at a time, and its exits (a bin full or
 * not, a probe found or not) are taken at random.
 */
_Static_assert(ND__OPH_ATTEMPTS % 8 == 0, "whole vectors of probes");

void nd__oph_densify_avx512(uint64_t d, uint64_t e, unsigned k, uint32_t *sig,
                            const unsigned char *full)
{
    uint64_t fw[8] = {0}, bins[8];
    for (unsigned i = 0; i < k; i += 8) {
        uint64_t x = 0; /* eight bytes of 0 or 1 packed into eight bits */
        memcpy(&x, full + i, k - i < 8 ? k - i : 8);
        fw[i >> 6] |= (x * 0x0102040810204080ull) >> 56 << (i & 63);
    }
    for (unsigned i = 0; i < k; i++)
        sig[i] &= ~(ND__SIG_COPIED * full[i]);
    const __m512i vd = _mm512_set1_epi64((long long)d), ve = _mm512_set1_epi64((long long)e),
                  sigma = _mm512_set1_epi64((long long)ND__CMIN_SIGMA),
                  vk = _mm512_set1_epi64(k), fullv = _mm512_loadu_si512(fw),
                  six3 = _mm512_set1_epi64(63), one = _mm512_set1_epi64(1),
                  lane = _mm512_setr_epi64(1, 2, 3, 4, 5, 6, 7, 8);
    for (unsigned w = 0; w * 64 < k; w++) {
        uint64_t empty = ~fw[w];
        if (k - w * 64 < 64)
            empty &= ((uint64_t)1 << (k - w * 64)) - 1;
        while (empty) {
            const unsigned i = w * 64 + (unsigned)__builtin_ctzll(empty);
            empty &= empty - 1;
            const __m512i iv = _mm512_set1_epi64((long long)((uint64_t)i << 32));
            unsigned next = 0;
            int found = 0;
            for (uint64_t t = 0; t < ND__OPH_ATTEMPTS && !found; t += 8) {
                __m512i z = _mm512_or_si512(iv, _mm512_add_epi64(lane, _mm512_set1_epi64((long long)t)));
                z = _mm512_mullo_epi64(_mm512_xor_si512(z, ve), vd);
                z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 32)), sigma);
                z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 29));
                const __m512i bin = _mm512_srli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(z, 32), vk), 32);
                const __m512i bit = _mm512_srlv_epi64(
                    _mm512_permutexvar_epi64(_mm512_srli_epi64(bin, 6), fullv),
                    _mm512_and_si512(bin, six3));
                const __mmask8 f = _mm512_test_epi64_mask(bit, one);
                _mm512_storeu_si512(bins, bin);
                found = f != 0;
                next = (unsigned)bins[found ? __builtin_ctz(f) : 7];
            }
            while (!found) { /* past the attempts: the next full bin */
                next = next + 1 == k ? 0 : next + 1;
                found = full[next];
            }
            sig[i] = sig[next] | ND__SIG_COPIED;
        }
    }
}

#else
typedef int nd__no_avx512; /* ISO C wants a declaration in every file */
#endif
