/*
 * dfcount.c - shingle document frequencies for boilerplate suppression: a
 * count sketch of one row (Cormode and Muthukrishnan 2005, count-min with
 * d = 1).
 *
 * 2^bits 32-bit counters indexed by the low bits of the (uniform) XXH3
 * shingle hash.  Counts never go down, so a shingle is over-counted by the
 * shingles it shares a counter with: on average (counted shingles / 2^bits),
 * about 15 for the at most 2^15 sampled news documents in 2^20 counters,
 * far below the smallest cut-off it serves in a large collection.
 * A rare shingle is dropped by mistake only when it shares a counter with a
 * frequent one (frequent shingles / 2^bits, under 1%); it is then dropped
 * from every text that holds it, so the similarity of two copies hardly
 * moves.  One row of 4 MB rather than two of 16 MB: the random lookups
 * measured as the largest cost of the stage.  The incremental index
 * subtracts a document's hashes again when it leaves (nd__df_sub), so its
 * counters are always those of the documents it holds.  Threads add
 * with relaxed atomic increments: sums do not depend on their order.
 */
#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../neardup.h"
#include "dfcount.h"

int nd__df_init(nd__df *d, unsigned bits)
{
    d->bits = bits;
    d->cnt = calloc((size_t)1 << bits, sizeof *d->cnt);
    return d->cnt ? ND_OK : ND_ERR_NOMEM;
}

void nd__df_free(nd__df *d)
{
    free(d->cnt);
    d->cnt = NULL;
}

/*
 * A locked increment costs tens of cycles and holds up the loads behind
 * it; when no other thread of a parallel region can be counting (the batch
 * counting on one thread, the index under its writer's lock), a plain
 * load and store of the counter does, and the out-of-order core overlaps
 * the cache misses of the 4 MB of counters: 2.5 times faster measured.
 * Both are atomic operations, so readers may still look up meanwhile.
 */
void nd__df_add(nd__df *d, const uint64_t *h, size_t n)
{
#ifdef _OPENMP
    const int shared = omp_in_parallel();
#else
    const int shared = 0; /* no parallel regions: one thread counts */
#endif
    if (shared) {
        for (size_t i = 0; i < n; i++)
            atomic_fetch_add_explicit(nd__df_counter(d, h[i]), 1u,
                                      memory_order_relaxed);
        return;
    }
    nd__df_add_own(d, h, n);
}

void nd__df_add_own(nd__df *d, const uint64_t *h, size_t n)
{
    enum { AHEAD = 16 };
    for (size_t i = 0; i < n && i < AHEAD; i++)
        nd__df_prefetch(d, h[i]);
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            nd__df_prefetch(d, h[i + AHEAD]);
        atomic_uint *c = nd__df_counter(d, h[i]);
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1u,
                              memory_order_relaxed);
    }
}

void nd__df_merge(nd__df *d, nd__df *from)
{
    size_t n = (size_t)1 << d->bits;
    for (size_t i = 0; i < n; i++) {
        unsigned v = atomic_load_explicit(&from->cnt[i], memory_order_relaxed);
        if (v) {
            atomic_store_explicit(&d->cnt[i],
                                  atomic_load_explicit(&d->cnt[i], memory_order_relaxed) + v,
                                  memory_order_relaxed);
            atomic_store_explicit(&from->cnt[i], 0u, memory_order_relaxed);
        }
    }
}

void nd__df_sub(nd__df *d, const uint64_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        atomic_fetch_sub_explicit(nd__df_counter(d, h[i]), 1u, memory_order_relaxed);
}

void nd__df_halve(nd__df *d)
{
    size_t n = (size_t)1 << d->bits;
    for (size_t i = 0; i < n; i++)
        atomic_store_explicit(&d->cnt[i],
                              atomic_load_explicit(&d->cnt[i], memory_order_relaxed) / 2,
                              memory_order_relaxed);
}
