/*
 * cpu.h - the instruction sets of this CPU, found once, and the fastest of
 * a stage's code paths (internal).  A stage with kernels for several
 * instruction sets numbers its paths from its scalar twin (0) up to the
 * fastest, and sets a path's bit when nd__isa() has what it needs.
 */
#ifndef ND_CPU_H
#define ND_CPU_H

enum {
    ND__ISA_AVX2 = 1u << 0,
    ND__ISA_AVX512F = 1u << 1,
    ND__ISA_AVX512DQ = 1u << 2,
    ND__ISA_AVX512BW = 1u << 3,
    ND__ISA_AVX512VBMI = 1u << 4,
    ND__ISA_AVX512VBMI2 = 1u << 5,
    ND__ISA_POPCNT = 1u << 6
};

/* The ND__ISA_* sets of this CPU: none off x86-64 or without GCC's
   builtins.  Detected on the first call. */
unsigned nd__isa(void);

/* Whether this CPU has every set in need. */
static inline int nd__isa_has(unsigned need)
{
    return (nd__isa() & need) == need;
}

/* The fastest path of a mask of paths that can run (bit 0 is taken as
   set: the scalar path runs anywhere). */
static inline unsigned nd__best_path(unsigned paths)
{
    return 31u - (unsigned)__builtin_clz(paths | 1u);
}

#endif
