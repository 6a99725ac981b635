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

/*
 * The candidates of nd__lsh_candidates16 as a stream, for the batch: with
 * memory > 0 the arrays candidate generation holds stay near that many
 * bytes and what does not fit goes to a temporary file in tmpdir (NULL:
 * /tmp); memory 0 is no limit.  Read the pairs in order with
 * nd__cands_next.  On error returns ND_ERR_NOMEM or ND_ERR_IO with a
 * sentence in err[0..cap).
 */
typedef struct nd__cands nd__cands;

/*
 * Containment bands: `bands` more bands of `rows` rows over the same
 * signatures (rows < the main bands' rows, so a lower Jaccard collides),
 * whose buckets pair only documents of which one has at most half the
 * shingles of the other (sizes[]): a short copy contained in a long text
 * has a Jaccard near its share of it, below the main bands' reach.
 */
typedef struct nd__lsh_contain {
    unsigned bands, rows;
    const uint32_t *sizes;
} nd__lsh_contain;

/* cb may be NULL: no containment bands. */
int nd__lsh_cands16(const uint16_t *sigs, size_t n, unsigned k,
                    unsigned bands, unsigned rows, const nd__lsh_contain *cb,
                    uint64_t seed, const uint8_t *skip, unsigned threads,
                    uint64_t memory, const char *tmpdir, nd__cands **out,
                    uint64_t *capped, char *err, size_t cap);
/*
 * Whether candidate generation takes every band's keys first, in one pass
 * over the signatures (4 bytes a document a band, freed after the bands):
 * -1 (the default) when they fit (always without a limit, in a quarter of
 * one under it), 0 never, 1 always.  The pairs are the same either way;
 * tests set it to reach both paths.
 */
extern int nd__lsh_key_arrays;
/* The most pairs one nd__cands_next gives. */
size_t nd__cands_block(const nd__cands *c);
/* The next *m pairs at *pairs (valid until the next call); *m 0 at the end. */
int nd__cands_next(nd__cands *c, const uint64_t **pairs, size_t *m, char *err,
                   size_t cap);
/* Runs written to the temporary file and their bytes (0 and 0 in memory). */
void nd__cands_spilled(const nd__cands *c, uint64_t *runs, uint64_t *bytes);
void nd__cands_free(nd__cands *c);

/*
 * Bands shared among processes, each pairing the runs of the keys it
 * owns: the 32-bit key nd__lsh_cands16 gives a signature in band `band`
 * (bands main bands, then cb's; cb may be NULL without them), and the
 * pairs of one band's kv[0..m) (key << 32 | i, sorted by key, i ascending
 * within a key) paired as nd__lsh_cands16 pairs them: sizes NULL, a main
 * band (runs over ND_BUCKET_CAP by the window, counted in *capped); else
 * a containment band of set sizes sizes[i].  The pairs (i << 32 | j),
 * i < j, neither sorted nor unique, are appended to the malloc'ed
 * *pairs (*n of them, room for *cap).  ND_OK or ND_ERR_NOMEM.
 */
uint32_t nd__lsh_key16(const uint16_t *sig, unsigned band, unsigned bands, unsigned rows,
                       const nd__lsh_contain *cb, uint64_t seed);
int nd__lsh_pair_runs(const uint64_t *kv, size_t m, const uint32_t *sizes,
                      uint64_t **pairs, size_t *n, size_t *cap, uint64_t *capped);

/* ---- spill.c: sorted runs of values on disk and their merge ---- */

typedef struct nd__spill nd__spill;
typedef struct nd__merge nd__merge;

/* A temporary file in dir (NULL: /tmp), already unlinked. */
int nd__spill_open(const char *dir, nd__spill **out, char *err, size_t cap);
/* Write v[0..n), sorted and free of repeats, as one run.  Not thread-safe. */
int nd__spill_put(nd__spill *s, const uint64_t *v, size_t n, char *err,
                  size_t cap);
size_t nd__spill_runs(const nd__spill *s);
uint64_t nd__spill_bytes(const nd__spill *s);
/* Close (and so delete) the file; NULL is fine. */
void nd__spill_close(nd__spill *s);

/*
 * The sorted union of every run of s, each value once, with buffers of
 * about `memory` bytes (merging runs into longer ones first when there are
 * too many).  s must outlive the merge.
 */
int nd__merge_open(nd__spill *s, size_t memory, nd__merge **out, char *err,
                   size_t cap);
/* Up to cap next values into out; *got 0 at the end. */
int nd__merge_read(nd__merge *m, uint64_t *out, size_t cap, size_t *got,
                   char *err, size_t errcap);
void nd__merge_close(nd__merge *m);

#endif
