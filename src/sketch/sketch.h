/*
 * sketch.h - MinHash over a set of 64-bit shingle hashes (internal).
 *
 * k multiply-shift permutations h_i(x) = (a_i * x + b_i) >> 32 (mod 2^64),
 * a_i odd; the signature holds min over the set of h_i for each i.  The a_i,
 * b_i come from splitmix64 seeded with the user's seed, so a signature depends
 * only on (set, k, seed), on every CPU and code path.
 */
#ifndef ND_SKETCH_H
#define ND_SKETCH_H

#include "../neardup.h"

typedef struct nd__perm {
    unsigned k;
    uint64_t *a, *b;
} nd__perm;

int nd__perm_init(nd__perm *p, unsigned k, uint64_t seed);
void nd__perm_free(nd__perm *p);

/* sig[0..k) = MinHash of h[0..n); all UINT32_MAX when n == 0. */
void nd__minhash(const nd__perm *p, const uint64_t *h, size_t n, uint32_t *sig);

/* The shingle set of the last text a sketcher sketched (exact mode). */
const uint64_t *nd__sketcher_set(const nd_sketcher *s, size_t *n);
/* Reset a sketcher's counters (a batch add that failed adds nothing). */
void nd__sketcher_stats_set(nd_sketcher *s, const nd_text_stats *st);

/* splitmix64: the project's seed expander. */
uint64_t nd__splitmix64(uint64_t *state);

#endif
