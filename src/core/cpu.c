/*
 * cpu.c - which instruction sets this CPU has (cpu.h).
 */
#include <stdatomic.h>

#include "cpu.h"

/* Marks a detection done, so that a CPU with none of the sets is not
   asked again. */
#define DETECTED (1u << 31)

unsigned nd__isa(void)
{
    /* Racing first calls store the same value. */
    static _Atomic unsigned cached;
    unsigned m = atomic_load_explicit(&cached, memory_order_relaxed);
    if (m)
        return m & ~DETECTED;
    m = DETECTED;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    /* The builtin takes a string literal only. */
    m |= __builtin_cpu_supports("avx2") ? ND__ISA_AVX2 : 0;
    m |= __builtin_cpu_supports("avx512f") ? ND__ISA_AVX512F : 0;
    m |= __builtin_cpu_supports("avx512dq") ? ND__ISA_AVX512DQ : 0;
    m |= __builtin_cpu_supports("avx512bw") ? ND__ISA_AVX512BW : 0;
    m |= __builtin_cpu_supports("avx512vbmi") ? ND__ISA_AVX512VBMI : 0;
    m |= __builtin_cpu_supports("avx512vbmi2") ? ND__ISA_AVX512VBMI2 : 0;
    m |= __builtin_cpu_supports("popcnt") ? ND__ISA_POPCNT : 0;
#endif
    atomic_store_explicit(&cached, m, memory_order_relaxed);
    return m & ~DETECTED;
}
