/*
 * dfcount.h - document frequencies of shingles, approximately (internal).
 */
#ifndef ND_DFCOUNT_H
#define ND_DFCOUNT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A one-row count sketch; it over-counts (collisions), never under-counts. */
typedef struct nd__df {
    atomic_uint *cnt; /* 1 << bits counters */
    unsigned bits;
} nd__df;

int nd__df_init(nd__df *d, unsigned bits);
void nd__df_free(nd__df *d);
/*
 * Count one document's shingle set (unique hashes).  Thread-safe among the
 * threads of an OpenMP parallel region; outside one, calls on one counter
 * must not overlap (they may overlap nd__df_get).
 */
void nd__df_add(nd__df *d, const uint64_t *h, size_t n);
/* nd__df_add by the one thread that counts into d: also inside a parallel
   region, where each thread counts into a counter of its own. */
void nd__df_add_own(nd__df *d, const uint64_t *h, size_t n);
/* Add the counters of from (of as many bits) to d's and clear from's. */
void nd__df_merge(nd__df *d, nd__df *from);
/* Uncount what nd__df_add counted for the same hashes; thread-safe. */
void nd__df_sub(nd__df *d, const uint64_t *h, size_t n);
/* Halve every counter (the sampling rate was halved). */
void nd__df_halve(nd__df *d);
/* bits[w] bit b: counter 64 w + b is above cutoff; bits has room for
   ((1 << d->bits) + 63) / 64 words. */
void nd__df_above(const nd__df *d, uint32_t cutoff, uint64_t *bits);

/* The counter of shingle h: its low bits (the hashes are uniform). */
static inline atomic_uint *nd__df_counter(const nd__df *d, uint64_t h)
{
    return &d->cnt[h & (((uint64_t)1 << d->bits) - 1)];
}

/* Start loading the counter of h (a hint; lookups follow). */
static inline void nd__df_prefetch(const nd__df *d, uint64_t h)
{
#if defined(__GNUC__)
    __builtin_prefetch(nd__df_counter(d, h));
#else
    (void)d;
    (void)h;
#endif
}

/* The (over-)estimated number of documents that hold shingle h. */
static inline uint32_t nd__df_get(const nd__df *d, uint64_t h)
{
    return atomic_load_explicit(nd__df_counter(d, h), memory_order_relaxed);
}

#endif
