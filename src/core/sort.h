/*
 * sort.h - radix sorts used by the stages (internal).
 */
#ifndef ND_SORT_H
#define ND_SORT_H

#include <stddef.h>
#include <stdint.h>

/* A band key and the document it belongs to. */
typedef struct nd__kv {
    uint64_t key;
    uint32_t doc;
} nd__kv;

/*
 * Sort v[0..n) ascending; tmp has room for n values and is clobbered.  The
 * result ends in v.  Bits that are equal in every key cost no pass.
 */
void nd__sort_u64(uint64_t *v, uint64_t *tmp, size_t n);

/*
 * The same for keys spread uniformly over 64 bits (hashes): one bucket pass
 * on the top bits and an insertion sort, linear in time; any keys are
 * sorted, skewed ones in O(n log n).  scratch has room for 2n + 1 values.
 */
void nd__sort_u64_spread(uint64_t *v, uint64_t *scratch, size_t n);

/* The first index of ascending v[0..n) whose value is >= k (n if none). */
size_t nd__lower_u64(const uint64_t *v, size_t n, uint64_t k);

/* The same by key, stably: equal keys keep their input order. */
void nd__sort_kv(nd__kv *v, nd__kv *tmp, size_t n);

/*
 * Sort v[0..n) by its top 32 bits only (4 passes), stably: values whose top
 * halves are equal keep their input order.  tmp has room for n values.
 */
void nd__sort_u64_hi32(uint64_t *v, uint64_t *tmp, size_t n);

/*
 * The documents i < n not skipped (skip NULL, or skip[i] == 0) as
 * keys[i] << 32 | i, sorted by key, documents ascending within a key, into
 * out; returns how many.  out and tmp have room for n values; tmp is
 * clobbered.  n < 2^32.
 */
size_t nd__sort_keys32(const uint32_t *keys, const uint8_t *skip, size_t n,
                       uint64_t *out, uint64_t *tmp);

/* Remove adjacent repeats of a sorted array; returns the new length. */
size_t nd__unique_u64(uint64_t *v, size_t n);

#endif
