/*
 * compare.c - the two compares of verification, run on every candidate
 * pair: the equal values of two 16-bit signatures, and the figures two
 * texts agree or conflict on.  The scalar twins here are the reference;
 * compare_avx2.c and compare_avx512.c give exactly their counts, and the
 * fastest path this CPU has is chosen once.
 */
#include <stdatomic.h>

#include "../core/cpu.h"
#include "sketch.h"

/*
 * The 16-bit estimate (nd__sig16_jaccard) counts equal values over the
 * bins not copied in both (bit 15, ND__SIG_COPIED; minhash.c says why), as
 * nd_sig_jaccard does on 32 bits.  The low 16 bits hold that flag and 15
 * bits of value, so a pair of Jaccard J has P(equal) = J + (1 - J) 2^-15
 * in a bin both filled.  The unbiased correction would move an estimate by
 * at most 2^-15, far below its step and its noise (about 0.03 at k = 128),
 * but it would move a pair with exactly threshold * m equal values below
 * the threshold: a systematic shift of the decision by one step.  So it is
 * not applied.
 */
nd__sig16_counts nd__sig16_count_scalar(const uint16_t *a, const uint16_t *b, unsigned k)
{
    unsigned eq = 0, both = 0;
#pragma omp simd reduction(+ : eq, both)
    for (unsigned i = 0; i < k; i++) {
        eq += a[i] == b[i] && !(a[i] & ND__SIG_COPIED);
        both += (a[i] & b[i] & ND__SIG_COPIED) != 0;
    }
    return (nd__sig16_counts){eq, both};
}

nd__figs_counts nd__figs_count_scalar(const uint32_t *a, uint32_t na, const uint32_t *b,
                                      uint32_t nb)
{
    uint32_t agree = 0, conflict = 0;
    for (uint32_t i = 0; i < na; i++) {
        int seen = 0, same = 0;
        for (uint32_t j = 0; j < nb; j++) {
            seen |= (a[i] >> 16) == (b[j] >> 16);
            same |= a[i] == b[j];
        }
        agree += same;
        conflict += seen && !same;
    }
    return (nd__figs_counts){agree, conflict};
}

/* --------------------------------------------------------- dispatch */

unsigned nd__compare_paths(void)
{
    unsigned m = 1u << ND__CPU_SCALAR;
#ifdef ND__HAVE_X86
    if (nd__isa_has(ND__ISA_AVX2 | ND__ISA_POPCNT))
        m |= 1u << ND__CPU_AVX2;
    if (nd__isa_has(ND__ISA_AVX512F | ND__ISA_AVX512BW | ND__ISA_POPCNT))
        m |= 1u << ND__CPU_AVX512;
#endif
    return m;
}

/* The path every compare takes: the fastest, found at the first call
   (racing first calls store the same value). */
static _Atomic int best_path = -1;

static __attribute__((noinline, cold)) nd__cpu find_best(void)
{
    int p = (int)nd__best_path(nd__compare_paths());
    atomic_store_explicit(&best_path, p, memory_order_relaxed);
    return (nd__cpu)p;
}

static inline nd__cpu best(void)
{
    int p = atomic_load_explicit(&best_path, memory_order_relaxed);
    return p < 0 ? find_best() : (nd__cpu)p;
}

nd__sig16_counts nd__sig16_count_on(nd__cpu cpu, const uint16_t *a, const uint16_t *b,
                                    unsigned k)
{
    switch (cpu) {
#ifdef ND__HAVE_X86
    case ND__CPU_AVX512:
        return nd__sig16_count_avx512(a, b, k);
    case ND__CPU_AVX2:
        return nd__sig16_count_avx2(a, b, k);
#endif
    default:
        return nd__sig16_count_scalar(a, b, k);
    }
}

nd__figs_counts nd__figs_count_on(nd__cpu cpu, const uint32_t *a, uint32_t na,
                                  const uint32_t *b, uint32_t nb)
{
    switch (cpu) {
#ifdef ND__HAVE_X86
    case ND__CPU_AVX512:
        return nd__figs_count_avx512(a, na, b, nb);
    case ND__CPU_AVX2:
        return nd__figs_count_avx2(a, na, b, nb);
#endif
    default:
        return nd__figs_count_scalar(a, na, b, nb);
    }
}

/* Once a pair: a jump to the kernel. */
nd__sig16_counts nd__sig16_count(const uint16_t *a, const uint16_t *b, unsigned k)
{
    return nd__sig16_count_on(best(), a, b, k);
}

nd__figs_counts nd__figs_count(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    return nd__figs_count_on(best(), a, na, b, nb);
}
