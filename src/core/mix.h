/*
 * mix.h - the 64-bit finalizer of MurmurHash3 (Appleby), which the stages
 * use to spread words that are already partly random (internal).
 */
#ifndef ND_MIX_H
#define ND_MIX_H

#include <stdint.h>

static inline uint64_t nd__fmix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

#endif
