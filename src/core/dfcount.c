/*
 * dfcount.c - a count-min sketch (Cormode and Muthukrishnan 2005) of
 * shingle document frequencies, for boilerplate suppression.
 *
 * Two rows of 2^bits 32-bit counters, indexed by two disjoint bit fields of
 * the (uniform) XXH3 shingle hash; the estimate is the smaller counter.  It
 * never under-counts, and with 2^22 counters a row the excess is the total
 * number of counted shingles / 2^22 on average: about 120 for a million
 * documents, far below the cut-offs it serves.  Threads add with relaxed
 * atomic increments: the sums, hence the results, do not depend on the
 * order of additions.
 */
#include <stdlib.h>

#include "../neardup.h"
#include "dfcount.h"

int nd__df_init(nd__df *d, unsigned bits)
{
    d->bits = bits;
    d->cnt = calloc((size_t)2 << bits, sizeof *d->cnt);
    return d->cnt ? ND_OK : ND_ERR_NOMEM;
}

void nd__df_free(nd__df *d)
{
    free(d->cnt);
    d->cnt = NULL;
}

static size_t slot(const nd__df *d, uint64_t h, int row)
{
    size_t mask = ((size_t)1 << d->bits) - 1;
    return row ? ((size_t)1 << d->bits) + (size_t)((h >> 32) & mask)
               : (size_t)(h & mask);
}

void nd__df_add(nd__df *d, const uint64_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        atomic_fetch_add_explicit(&d->cnt[slot(d, h[i], 0)], 1u, memory_order_relaxed);
        atomic_fetch_add_explicit(&d->cnt[slot(d, h[i], 1)], 1u, memory_order_relaxed);
    }
}

void nd__df_halve(nd__df *d)
{
    size_t n = (size_t)2 << d->bits;
    for (size_t i = 0; i < n; i++)
        atomic_store_explicit(&d->cnt[i],
                              atomic_load_explicit(&d->cnt[i], memory_order_relaxed) / 2,
                              memory_order_relaxed);
}

uint32_t nd__df_get(const nd__df *d, uint64_t h)
{
    unsigned a = atomic_load_explicit(&d->cnt[slot(d, h, 0)], memory_order_relaxed);
    unsigned b = atomic_load_explicit(&d->cnt[slot(d, h, 1)], memory_order_relaxed);
    return a < b ? a : b;
}
