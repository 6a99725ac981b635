/*
 * lsh.h - candidate pairs from LSH banding, batch mode (internal).
 */
#ifndef ND_LSH_H
#define ND_LSH_H

#include "../neardup.h"

/* A bucket with more members than this is paired by a sliding window. */
#define ND_BUCKET_CAP 128

/* The 64-bit key of band `band` (rows values starting at sig[band*rows]). */
uint64_t nd__band_key(const uint32_t *sig, unsigned band, unsigned rows,
                      uint64_t seed);

/* The same over 16-bit values (the batch's compact signatures). */
uint64_t nd__band_key16(const uint16_t *sig, unsigned band, unsigned rows,
                        uint64_t seed);

/* out[0..k) = the low 16 bits of sig[0..k): the batch's stored signature. */
void nd__sig16_from32(const uint32_t *sig, unsigned k, uint16_t *out);

/* The Jaccard similarity two 16-bit signatures estimate: equal values / k
   (why without the b-bit correction: candidates.c). */
double nd__sig16_jaccard(const uint16_t *a, const uint16_t *b, unsigned k);

/*
 * Every pair of documents that share a band key (its top 32 bits: a rare
 * collision only adds a candidate), once, as (a << 32 | b) with
 * a < b, sorted ascending.  sigs holds n signatures of k values; documents
 * with skip[i] != 0 take no part.  Buckets over ND_BUCKET_CAP pair each
 * member with the next ND_BUCKET_CAP members only; *capped counts them.
 * *pairs is malloc'ed (free it).  Runs on `threads` threads.
 */
int nd__lsh_candidates(const uint32_t *sigs, size_t n, unsigned k,
                       unsigned bands, unsigned rows, uint64_t seed,
                       const uint8_t *skip, unsigned threads,
                       uint64_t **pairs, size_t *npairs, uint64_t *capped);
/* The same over n signatures of k 16-bit values. */
int nd__lsh_candidates16(const uint16_t *sigs, size_t n, unsigned k,
                         unsigned bands, unsigned rows, uint64_t seed,
                         const uint8_t *skip, unsigned threads,
                         uint64_t **pairs, size_t *npairs, uint64_t *capped);

#endif
