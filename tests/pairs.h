/*
 * pairs.h - pairs of hash sets with a known Jaccard similarity, for the
 * tests of estimators (test helper, included by several test files).
 *
 * A = common + a-only, B = common + b-only, the extra keys split between
 * them: J = common / (common + extra).  KNOWN_PAIRS walks the grid the
 * estimator tests share: 11 x 9 pairs from 10 to 450 keys.
 */
#ifndef ND_TEST_PAIRS_H
#define ND_TEST_PAIRS_H

#include <stdint.h>
#include <stdlib.h>

#include "../src/sketch/sketch.h"

typedef struct {
    uint64_t *a, *b;
    size_t na, nb;
    double jaccard;
} known_pair;

#define KNOWN_PAIRS(common, extra)                    \
    for (int common = 10; common <= 300; common += 29) \
        for (int extra = 0; extra <= 300; extra += 37)

static inline void known_pair_make(known_pair *p, int common, int extra,
                                   uint64_t *st)
{
    p->na = (size_t)(common + extra / 2);
    p->nb = (size_t)(common + extra - extra / 2);
    p->a = malloc(8 * p->na);
    p->b = malloc(8 * p->nb);
    for (int i = 0; i < common; i++)
        p->a[i] = p->b[i] = nd__splitmix64(st);
    for (size_t i = (size_t)common; i < p->na; i++)
        p->a[i] = nd__splitmix64(st);
    for (size_t i = (size_t)common; i < p->nb; i++)
        p->b[i] = nd__splitmix64(st);
    p->jaccard = (double)common / (common + extra);
}

static inline void known_pair_free(known_pair *p)
{
    free(p->a);
    free(p->b);
}

#endif
