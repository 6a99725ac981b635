/*
 * minhash.c - the three signature schemes, their portable kernels and the
 * choice of a SIMD path at run time.  The schemes are defined in sketch.h.
 *
 * k permutations (KPERM).  Multiply-shift (Dietzfelbinger et al. 1997) maps
 * a 64-bit key to the top 32 bits of one multiply-add: the cheapest universal
 * family that is good enough for MinHash on already well-mixed XXH3 keys.
 * O(n k) multiplies; the SIMD files do 4 (AVX2) or 8 (AVX-512) at once.
 * Since v -> v >> 32 is monotone, the minimum is taken over the full 64-bit
 * values and shifted once at the end.
 *
 * One permutation hashing (OPH; Li, Owen and Zhang 2012) hashes each key
 * once into one of k bins and keeps the least value per bin: O(n + k).  Bins
 * left empty (small sets) are filled by optimal densification (Shrivastava,
 * ICML 2017): empty bin i probes bins next(i, 1), next(i, 2), ... given by a
 * hash of (i, attempt) and copies the first non-empty one.  Both sets of a
 * pair probe the same sequence, so a copied bin collides exactly when its
 * source does and P(sig_A[i] == sig_B[i]) stays J, which LSH banding needs.
 * The probe hash must mix: the multiply-add d (i << 32 | t) + e used before
 * is linear in (i, t), so for some seeds the probes of neighbouring bins
 * land on the same sources and the copies correlate; on 25k short Reuters
 * texts (3-gram sets under 64) seed 2 gave an estimate RMS error of 0.09
 * against 0.04 for k permutations.  After ND__OPH_ATTEMPTS misses the probe
 * walks forward circularly, which bounds the work on tiny sets at
 * O(k * ND__OPH_ATTEMPTS) and is reached with probability (1 - m/k)^64 for
 * m non-empty bins.
 *
 * Copies add no information, so the estimate leaves them out where both
 * sides copied: bit 15 of a copied value is set (of any other value,
 * cleared), and J is estimated as (equal values) / (bins not copied in
 * both), the OPH estimator of Li, Owen and Zhang 2012 (N_mat / (k - N_emp)).
 * A bin empty in just one set is non-empty in the union, its least key is
 * in one set only, and the flag bits differ: a mismatch, as it should be.
 * On a set smaller than k the non-empty bins are a sample without
 * replacement of the union, so the error is below that of k permutations
 * (sampling with replacement), where densified equal/k is above it: RMS
 * error by union size 32..64 / 64..128 on those Reuters pairs, k = 128,
 * 0.030 / 0.030 against 0.040 / 0.040 (k permutations) and 0.045 / 0.041
 * (densified, equal / k).  The flag costs one value bit: the batch keeps 15.
 *
 * C-MinHash (Li and Li 2021) replaces k permutations of [D] by one
 * permutation sigma that breaks structure in the data and k circulant shifts
 * of a second permutation pi: h_i(v) = min over v's elements j of
 * pi((sigma(j) + i) mod D).  Our universe is 2^64 and pi cannot be a stored
 * table, so we take for pi the multiply-shift map y -> a y (a bijection of
 * Z/2^64) and let the shift act on the ring after it:
 *   h_i(x) = topk(a sigma(x) + b + i G),  G = 2^64 / golden ratio.
 * Because pi is linear, shifting its input by a constant shifts its output
 * by a constant, so each h_i is a rotation of the one circle of positions
 * s(x) = a sigma(x): h_i is the distance from the point -(b + i G) to the
 * next position of the set clockwise.  With s(x) uniform this is an exact
 * MinHash for every i (the next point of A u B lies in A n B with
 * probability J).  The k start points form the Weyl sequence b + i G, which
 * by the three-gap theorem splits the circle into arcs of at most three
 * lengths, all near 2^64 / k: hashes are close to independent while the set
 * has many more points than k, and, since consecutive i land far apart,
 * rows of one LSH band rarely share an arc.  For sets much smaller than k,
 * several start points fall in one gap and repeat the same outcome, so the
 * variance tends to about J (1 - J) / n rather than J (1 - J) / k.  sigma
 * is a murmur-style xor-multiply-xorshift, non-linear so that a sigma is
 * not merely another multiplier.  The gain is speed: one multiply per key
 * and an add and a min per (key, hash), against a multiply per (key, hash).
 */
#include <stdlib.h>
#include <string.h>

#include "sketch.h"
#include "../core/cpu.h"

uint64_t nd__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* --------------------------------------------------------- set-up */

int nd__sketch_init(nd__perm *p, nd_sketch_algo algo, unsigned k, uint64_t seed)
{
    p->algo = algo;
    p->k = k;
    p->a = p->b = NULL;
    if (k == 0 || k > 4096 ||
        (algo != ND_SKETCH_KPERM && algo != ND_SKETCH_OPH && algo != ND_SKETCH_CMINHASH))
        return ND_ERR_PARAM;
    size_t na = algo == ND_SKETCH_KPERM ? k : 5;
    p->a = malloc(sizeof *p->a * na);
    p->b = malloc(sizeof *p->b * k);
    if (!p->a || !p->b) {
        nd__perm_free(p);
        return ND_ERR_NOMEM;
    }
    uint64_t st;
    switch (algo) {
    case ND_SKETCH_KPERM:
        st = seed ^ 0x6e65617264757021ull; /* "neardup!" */
        for (unsigned i = 0; i < k; i++) {
            p->a[i] = nd__splitmix64(&st) | 1u;
            p->b[i] = nd__splitmix64(&st);
        }
        break;
    case ND_SKETCH_OPH:
        st = seed ^ 0x6f70682d64656e73ull; /* "oph-dens" */
        p->a[0] = nd__splitmix64(&st) | 1u;
        p->a[1] = nd__splitmix64(&st);
        p->a[2] = nd__splitmix64(&st) | 1u;
        p->a[3] = nd__splitmix64(&st) | 1u;
        p->a[4] = nd__splitmix64(&st);
        memset(p->b, 0, sizeof *p->b * k);
        break;
    case ND_SKETCH_CMINHASH: {
        st = seed ^ 0x632d6d696e686173ull; /* "c-minhas" */
        p->a[1] = nd__splitmix64(&st);
        p->a[0] = nd__splitmix64(&st) | 1u;
        uint64_t off = nd__splitmix64(&st);
        for (unsigned i = 0; i < k; i++, off += ND__CMIN_SHIFT)
            p->b[i] = off;
        p->a[2] = p->a[3] = p->a[4] = 0;
        break;
    }
    }
    return ND_OK;
}

int nd__perm_init(nd__perm *p, unsigned k, uint64_t seed)
{
    return nd__sketch_init(p, ND_SKETCH_KPERM, k, seed);
}

void nd__perm_free(nd__perm *p)
{
    free(p->a);
    free(p->b);
    p->a = p->b = NULL;
}

/* --------------------------------------------------------- portable kernels */

#define MIN(m, v) ((v) < (m) ? (v) : (m))

/* Four hashes at a time, their constants and minima in registers. */
void nd__kperm_scalar(const uint64_t *a, const uint64_t *b, unsigned k,
                      const uint64_t *x, size_t n, uint32_t *sig)
{
    unsigned i = 0;
    for (; i + 4 <= k; i += 4) {
        const uint64_t a0 = a[i], a1 = a[i + 1], a2 = a[i + 2], a3 = a[i + 3];
        const uint64_t b0 = b[i], b1 = b[i + 1], b2 = b[i + 2], b3 = b[i + 3];
        uint64_t m0 = UINT64_MAX, m1 = UINT64_MAX, m2 = UINT64_MAX, m3 = UINT64_MAX;
        for (size_t j = 0; j < n; j++) {
            const uint64_t v = x[j];
            m0 = MIN(m0, a0 * v + b0);
            m1 = MIN(m1, a1 * v + b1);
            m2 = MIN(m2, a2 * v + b2);
            m3 = MIN(m3, a3 * v + b3);
        }
        sig[i] = (uint32_t)(m0 >> 32);
        sig[i + 1] = (uint32_t)(m1 >> 32);
        sig[i + 2] = (uint32_t)(m2 >> 32);
        sig[i + 3] = (uint32_t)(m3 >> 32);
    }
    for (; i < k; i++) {
        uint64_t m = UINT64_MAX;
        for (size_t j = 0; j < n; j++)
            m = MIN(m, a[i] * x[j] + b[i]);
        sig[i] = (uint32_t)(m >> 32);
    }
}

void nd__cmin_scalar(uint64_t a, uint64_t g, const uint64_t *b, unsigned k,
                     const uint64_t *x, size_t n, uint32_t *sig)
{
    enum { CHUNK = 512 };
    uint64_t s[CHUNK];
    for (unsigned i = 0; i < k; i++)
        sig[i] = UINT32_MAX;
    for (size_t j0 = 0; j0 < n; j0 += CHUNK) {
        size_t c = n - j0 < CHUNK ? n - j0 : CHUNK;
        for (size_t j = 0; j < c; j++)
            s[j] = nd__cmin_pos(a, g, x[j0 + j]);
        unsigned i = 0;
        for (; i + 4 <= k; i += 4) {
            const uint64_t o0 = b[i], o1 = b[i + 1], o2 = b[i + 2], o3 = b[i + 3];
            uint64_t m0 = UINT64_MAX, m1 = UINT64_MAX, m2 = UINT64_MAX, m3 = UINT64_MAX;
            for (size_t j = 0; j < c; j++) {
                const uint64_t v = s[j];
                m0 = MIN(m0, v + o0);
                m1 = MIN(m1, v + o1);
                m2 = MIN(m2, v + o2);
                m3 = MIN(m3, v + o3);
            }
            sig[i] = MIN(sig[i], (uint32_t)(m0 >> 32));
            sig[i + 1] = MIN(sig[i + 1], (uint32_t)(m1 >> 32));
            sig[i + 2] = MIN(sig[i + 2], (uint32_t)(m2 >> 32));
            sig[i + 3] = MIN(sig[i + 3], (uint32_t)(m3 >> 32));
        }
        for (; i < k; i++) {
            uint64_t m = UINT64_MAX;
            for (size_t j = 0; j < c; j++)
                m = MIN(m, s[j] + b[i]);
            sig[i] = MIN(sig[i], (uint32_t)(m >> 32));
        }
    }
}

/* --------------------------------------------------------- OPH */

static unsigned oph_bin(uint64_t top, unsigned k)
{
    return (unsigned)(((top >> 32) * k) >> 32);
}

static unsigned oph_probe(uint64_t d, uint64_t e, unsigned i, uint64_t t, unsigned k)
{
    uint64_t z = (((uint64_t)i << 32 | t) ^ e) * d;
    z = (z ^ (z >> 32)) * ND__CMIN_SIGMA;
    return oph_bin(z ^ (z >> 29), k);
}

/*
 * Bins, then optimal densification; sig doubles as the bin array.  Which
 * bins received a key is kept a byte a bin: a bitmap of k = 128 bins is two
 * words, and or-ing every key into one of them chains each key's store to
 * the last one's.
 */
static void oph(const nd__perm *p, nd__cpu cpu, const uint64_t *x, size_t n,
                uint32_t *sig)
{
    const unsigned k = p->k;
    const uint64_t a = p->a[0], b = p->a[1], c = p->a[2], d = p->a[3],
                   e = p->a[4];
    unsigned char full[4096]; /* bin i received a key (k <= 4096) */
    memset(full, 0, k);
    for (unsigned i = 0; i < k; i++)
        sig[i] = UINT32_MAX;
#ifdef ND__HAVE_X86
    if (cpu == ND__CPU_AVX512)
        nd__oph_bins_avx512(a, b, c, k, x, n, sig, full);
    else
#endif
        for (size_t j = 0; j < n; j++) {
            uint64_t y = a * x[j] + b;
            y = (y ^ (y >> 32)) * c;
            unsigned bin = oph_bin(y, k);
            uint32_t v = (uint32_t)y;
            sig[bin] = v < sig[bin] ? v : sig[bin];
            full[bin] = 1;
        }
    if (n == 0)
        return;
#ifdef ND__HAVE_X86
    if (cpu == ND__CPU_AVX512 && k <= 512) {
        nd__oph_densify_avx512(d, e, k, sig, full);
        return;
    }
#endif
    (void)cpu;
    for (unsigned i = 0; i < k; i++) {
        if (full[i]) {
            sig[i] &= ~ND__SIG_COPIED;
            continue;
        }
        unsigned next = 0;
        int found = 0;
        for (uint64_t t = 1; t <= ND__OPH_ATTEMPTS && !found; t++) {
            next = oph_probe(d, e, i, t, k);
            found = full[next];
        }
        while (!found) {
            next = next + 1 == k ? 0 : next + 1;
            found = full[next];
        }
        sig[i] = sig[next] | ND__SIG_COPIED;
    }
}

/* --------------------------------------------------------- dispatch */

unsigned nd__cpu_paths(void)
{
    unsigned m = 1u << ND__CPU_SCALAR;
#ifdef ND__HAVE_X86
    if (nd__isa_has(ND__ISA_AVX2))
        m |= 1u << ND__CPU_AVX2;
    if (nd__isa_has(ND__ISA_AVX512F | ND__ISA_AVX512DQ))
        m |= 1u << ND__CPU_AVX512;
#endif
    return m;
}

const char *nd__cpu_name(nd__cpu cpu)
{
    static const char *const names[ND__CPU_COUNT] = {"scalar", "avx2", "avx512"};
    return (unsigned)cpu < ND__CPU_COUNT ? names[cpu] : "?";
}

int nd__minhash_on(const nd__perm *p, nd__cpu cpu, const uint64_t *h, size_t n,
                   uint32_t *sig)
{
    if ((unsigned)cpu >= ND__CPU_COUNT || !(nd__cpu_paths() >> cpu & 1))
        return ND_ERR_PARAM;
    const unsigned k = p->k;
    if (p->algo == ND_SKETCH_OPH) {
        oph(p, cpu, h, n, sig);
        return ND_OK;
    }
    if (n == 0) {
        for (unsigned i = 0; i < k; i++)
            sig[i] = UINT32_MAX;
        return ND_OK;
    }
    const int kperm = p->algo == ND_SKETCH_KPERM;
    switch (cpu) {
#ifdef ND__HAVE_X86
    case ND__CPU_AVX512:
        if (kperm)
            nd__kperm_avx512(p->a, p->b, k, h, n, sig);
        else
            nd__cmin_avx512(p->a[0], p->a[1], p->b, k, h, n, sig);
        break;
    case ND__CPU_AVX2:
        if (kperm)
            nd__kperm_avx2(p->a, p->b, k, h, n, sig);
        else
            nd__cmin_avx2(p->a[0], p->a[1], p->b, k, h, n, sig);
        break;
#endif
    default:
        if (kperm)
            nd__kperm_scalar(p->a, p->b, k, h, n, sig);
        else
            nd__cmin_scalar(p->a[0], p->a[1], p->b, k, h, n, sig);
        break;
    }
    for (unsigned i = 0; i < k; i++)
        sig[i] &= ~ND__SIG_COPIED; /* no value of these schemes is a copy */
    return ND_OK;
}

void nd__minhash(const nd__perm *p, const uint64_t *h, size_t n, uint32_t *sig)
{
    nd__minhash_on(p, (nd__cpu)nd__best_path(nd__cpu_paths()), h, n, sig);
}
