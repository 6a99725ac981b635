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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../neardup.h"
#include "dfcount.h"

/*
 * Counters of a huge page's size or more are laid on huge pages (Linux
 * transparent huge pages, asked for with madvise): their lookups are
 * random, and on 4 KB pages nearly each one also missed the TLB.  The
 * block is over-allocated by a huge page to align them, and the block's
 * address is kept in the word before them; calloc's fresh pages are zero,
 * so the huge pages the kernel faults in are too.  Measured: the time the
 * counting loop spends on 2^20 counters beyond dropping repeats, over the
 * 48M shingles of 100k web pages, 40% less; the whole run on those pages
 * (bench/README.md) faults 16% fewer pages and takes 2% less CPU.
 */
#define DF_HUGE ((size_t)2 << 20)

static int df_huge(unsigned bits)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    return ((size_t)1 << bits) * sizeof(atomic_uint) >= DF_HUGE;
#else
    (void)bits;
    return 0;
#endif
}

int nd__df_init(nd__df *d, unsigned bits)
{
    d->bits = bits;
    d->cnt = NULL;
    if (!df_huge(bits)) {
        d->cnt = calloc((size_t)1 << bits, sizeof *d->cnt);
        return d->cnt ? ND_OK : ND_ERR_NOMEM;
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const size_t size = ((size_t)1 << bits) * sizeof *d->cnt;
    char *mem = calloc(size + DF_HUGE, 1);
    if (!mem)
        return ND_ERR_NOMEM;
    const uintptr_t at = ((uintptr_t)mem + sizeof mem + DF_HUGE - 1) & ~(uintptr_t)(DF_HUGE - 1);
    char *c = mem + (at - (uintptr_t)mem);
    memcpy(c - sizeof mem, &mem, sizeof mem);
    (void)madvise(c, size, MADV_HUGEPAGE); /* a hint: 4 KB pages serve too */
    d->cnt = (atomic_uint *)(void *)c;
#endif
    return ND_OK;
}

void nd__df_free(nd__df *d)
{
    if (d->cnt && df_huge(d->bits)) {
        char *mem;
        memcpy(&mem, (char *)(void *)d->cnt - sizeof mem, sizeof mem);
        free(mem);
    } else {
        free(d->cnt);
    }
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

void nd__df_above(const nd__df *d, uint32_t cutoff, uint64_t *bits)
{
    const size_t n = (size_t)1 << d->bits, words = (n + 63) / 64;
    for (size_t w = 0; w < words; w++) {
        uint64_t b = 0;
        for (size_t k = 0; k < 64 && 64 * w + k < n; k++)
            b |= (uint64_t)(atomic_load_explicit(&d->cnt[64 * w + k], memory_order_relaxed) >
                            cutoff)
                 << k;
        bits[w] = b;
    }
}
