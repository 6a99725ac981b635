/*
 * minhash.c - k-permutation MinHash with multiply-shift hashing.
 *
 * Multiply-shift (Dietzfelbinger et al. 1997) maps a 64-bit key to its top
 * 32 bits after one multiply-add, which makes it the cheapest universal
 * family that is good enough for MinHash on already well-mixed XXH3 keys.
 */
#include <stdlib.h>
#include <string.h>

#include "sketch.h"

uint64_t nd__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int nd__perm_init(nd__perm *p, unsigned k, uint64_t seed)
{
    p->k = k;
    p->a = malloc(sizeof *p->a * k);
    p->b = malloc(sizeof *p->b * k);
    if (!p->a || !p->b) {
        nd__perm_free(p);
        return ND_ERR_NOMEM;
    }
    uint64_t st = seed ^ 0x6e65617264757021ull; /* "neardup!" */
    for (unsigned i = 0; i < k; i++) {
        p->a[i] = nd__splitmix64(&st) | 1u;
        p->b[i] = nd__splitmix64(&st);
    }
    return ND_OK;
}

void nd__perm_free(nd__perm *p)
{
    free(p->a);
    free(p->b);
    p->a = p->b = NULL;
}

void nd__minhash(const nd__perm *p, const uint64_t *h, size_t n, uint32_t *sig)
{
    const unsigned k = p->k;
    const uint64_t *restrict a = p->a, *restrict b = p->b;
    for (unsigned i = 0; i < k; i++)
        sig[i] = UINT32_MAX;
    for (size_t j = 0; j < n; j++) {
        const uint64_t x = h[j];
        for (unsigned i = 0; i < k; i++) {
            uint32_t v = (uint32_t)((a[i] * x + b[i]) >> 32);
            sig[i] = v < sig[i] ? v : sig[i];
        }
    }
}
