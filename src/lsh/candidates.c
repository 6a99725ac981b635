/*
 * candidates.c - batch LSH: sort (band key, doc) pairs, pair equal runs.
 *
 * Instead of hash tables of buckets, each band builds an array of
 * (32-bit band key << 32 | doc) and radix-sorts it on the key (4 passes):
 * memory is 8 bytes a document a band in flight, access is sequential, and
 * the order (hence the output) does not depend on the number of threads.  Bands run in parallel; each thread
 * keeps its pairs sorted and unique as it goes (a pair shared by many bands
 * is kept once), and the threads' lists are merged at the end.
 *
 * The batch stores signatures as b-bit values (Li and Koenig 2010, "b-bit
 * minwise hashing"): the low 16 bits of each 32-bit MinHash value.  Two
 * values equal in 32 bits are equal in 16, so every band shared in 32 bits
 * is shared in 16 and the candidates are a superset of the 32-bit ones.
 * A band whose values differ in d of its rows collides with probability
 * 2^-16d: negligible for unrelated documents, 2^-16 for a near pair that
 * differs in one row of a band.  Measured on 10^6 generated news documents
 * (25 bands x 5 rows): 0.016% more candidates, the same clusters.
 */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../core/sort.h"
#include "lsh.h"

uint64_t nd__band_key(const uint32_t *sig, unsigned band, unsigned rows,
                      uint64_t seed)
{
    return XXH3_64bits_withSeed(sig + (size_t)band * rows,
                                (size_t)rows * sizeof *sig, seed + band);
}

uint64_t nd__band_key16(const uint16_t *sig, unsigned band, unsigned rows,
                        uint64_t seed)
{
    return XXH3_64bits_withSeed(sig + (size_t)band * rows,
                                (size_t)rows * sizeof *sig, seed + band);
}

void nd__sig16_from32(const uint32_t *sig, unsigned k, uint16_t *out)
{
    for (unsigned i = 0; i < k; i++)
        out[i] = (uint16_t)sig[i];
}

/*
 * Equal 16-bit values / k.  A pair of Jaccard J has P(equal) = J + (1 - J)
 * 2^-16, so the unbiased estimate is (P - 2^-16) / (1 - 2^-16).  That
 * correction moves an estimate by at most 2^-16, far below the estimate's
 * step 1/k (k <= 4096) and its noise (about 0.04 at k = 128), but it would
 * move a pair with exactly threshold * k equal values below the threshold:
 * a systematic shift of the decision by one step.  So it is not applied.
 */
double nd__sig16_jaccard(const uint16_t *a, const uint16_t *b, unsigned k)
{
    unsigned eq = 0;
#pragma omp simd reduction(+ : eq)
    for (unsigned i = 0; i < k; i++)
        eq += a[i] == b[i];
    return k ? (double)eq / k : 0.0;
}

typedef struct {
    uint64_t *v;
    size_t n, cap;
    int oom;
} vec64;

static void push(vec64 *p, uint64_t x)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4096;
        uint64_t *v = realloc(p->v, cap * sizeof *v);
        if (!v) {
            p->oom = 1;
            return;
        }
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = x;
}

/*
 * Pairs of one run of equal keys: v holds (key << 32 | doc), docs ascending
 * within a run as the sort is stable and documents go in in order.
 */
static void pair_run(const uint64_t *run, size_t m, vec64 *out, uint64_t *capped)
{
    size_t window = m > ND_BUCKET_CAP ? ND_BUCKET_CAP : m;
    if (m > ND_BUCKET_CAP)
        (*capped)++;
    for (size_t i = 0; i < m; i++)
        for (size_t j = i + 1; j < m && j <= i + window; j++)
            push(out, (run[i] & 0xffffffffu) << 32 | (run[j] & 0xffffffffu));
}

/* The key of one band of document i: sigs holds 32-bit (wide) or 16-bit
   values. */
static uint64_t key_of(const void *sigs, int wide, size_t i, unsigned k,
                       unsigned band, unsigned rows, uint64_t seed)
{
    if (wide)
        return nd__band_key((const uint32_t *)sigs + i * k, band, rows, seed);
    return nd__band_key16((const uint16_t *)sigs + i * k, band, rows, seed);
}

/*
 * Sort and dedupe p->v[0..n), then merge it into the sorted, unique *acc
 * (dropping repeats); p is emptied.  The same pair comes out of many bands,
 * so keeping each thread's pairs unique as it goes bounds memory by the
 * distinct pairs, not by bands x pairs.
 */
static int fold(vec64 *acc, vec64 *p)
{
    if (!p->n)
        return ND_OK;
    uint64_t *tmp = malloc(sizeof *tmp * p->n);
    uint64_t *out = malloc(sizeof *out * (acc->n + p->n));
    if (!tmp || !out) {
        free(tmp);
        free(out);
        return ND_ERR_NOMEM;
    }
    nd__sort_u64(p->v, tmp, p->n);
    free(tmp);
    size_t m = nd__unique_u64(p->v, p->n), i = 0, j = 0, w = 0;
    const uint64_t *a = acc->v, *b = p->v;
    while (i < acc->n || j < m) {
        uint64_t x;
        if (j >= m || (i < acc->n && a[i] < b[j]))
            x = a[i++];
        else if (i >= acc->n || b[j] < a[i])
            x = b[j++];
        else {
            x = a[i++];
            j++;
        }
        out[w++] = x;
    }
    free(acc->v);
    acc->v = out;
    acc->n = acc->cap = w;
    p->n = 0;
    return ND_OK;
}

static int candidates(const void *sigs, int wide, size_t n, unsigned k,
                      unsigned bands, unsigned rows, uint64_t seed,
                      const uint8_t *skip, unsigned threads,
                      uint64_t **pairs, size_t *npairs, uint64_t *capped)
{
    *pairs = NULL;
    *npairs = 0;
    *capped = 0;
    if (threads < 1)
        threads = 1;
    vec64 *acc = calloc(threads, sizeof *acc);   /* per thread: unique */
    vec64 *fresh = calloc(threads, sizeof *fresh); /* per thread: new pairs */
    uint64_t *caps = calloc(threads, sizeof *caps);
    int oom = !acc || !fresh || !caps;

    if (!oom) {
#pragma omp parallel num_threads(threads)
        {
            int t = 0;
#ifdef _OPENMP
            t = omp_get_thread_num();
#endif
            uint64_t *kv = malloc(sizeof *kv * (n ? n : 1));
            uint64_t *tmp = malloc(sizeof *tmp * (n ? n : 1));
            if (!kv || !tmp)
                fresh[t].oom = 1;
#pragma omp for schedule(dynamic, 1)
            for (unsigned band = 0; band < bands; band++) {
                if (fresh[t].oom)
                    continue;
                /* (32 bits of the band key, doc): a 32-bit collision only
                   adds a candidate that verification drops (about n^2/2^33
                   a band: 116 at a million documents) */
                size_t m = 0;
                for (size_t i = 0; i < n; i++) {
                    if (skip && skip[i])
                        continue;
                    kv[m++] = (key_of(sigs, wide, i, k, band, rows, seed) >> 32) << 32 | i;
                }
                nd__sort_u64_hi32(kv, tmp, m);
                for (size_t i = 0; i < m;) {
                    size_t j = i + 1;
                    while (j < m && kv[j] >> 32 == kv[i] >> 32)
                        j++;
                    if (j - i > 1)
                        pair_run(kv + i, j - i, &fresh[t], &caps[t]);
                    i = j;
                }
                /* Fold when the new pairs rival the kept ones: amortised
                   linear, and memory stays near the distinct pairs. */
                if (!fresh[t].oom && fresh[t].n >= (acc[t].n > (1u << 20) ? acc[t].n : (1u << 20)) &&
                    fold(&acc[t], &fresh[t]) != ND_OK)
                    fresh[t].oom = 1;
            }
            if (!fresh[t].oom && fold(&acc[t], &fresh[t]) != ND_OK)
                fresh[t].oom = 1;
            free(fresh[t].v);
            fresh[t].v = NULL;
            free(kv);
            free(tmp);
        }
    }

    /* The threads' lists, each sorted and unique, folded into one. */
    for (unsigned t = 0; !oom && t < threads; t++) {
        oom |= fresh[t].oom;
        *capped += caps[t];
    }
    for (unsigned t = 1; !oom && t < threads; t++) {
        if (fold(&acc[0], &acc[t]) != ND_OK)
            oom = 1;
        free(acc[t].v);
        acc[t].v = NULL;
    }
    if (oom) {
        for (unsigned t = 0; acc && t < threads; t++)
            free(acc[t].v);
        free(acc);
        free(fresh);
        free(caps);
        return ND_ERR_NOMEM;
    }
    *pairs = acc[0].v ? acc[0].v : malloc(sizeof **pairs);
    *npairs = acc[0].n;
    free(acc);
    free(fresh);
    free(caps);
    return *pairs ? ND_OK : ND_ERR_NOMEM;
}

int nd__lsh_candidates(const uint32_t *sigs, size_t n, unsigned k,
                       unsigned bands, unsigned rows, uint64_t seed,
                       const uint8_t *skip, unsigned threads,
                       uint64_t **pairs, size_t *npairs, uint64_t *capped)
{
    return candidates(sigs, 1, n, k, bands, rows, seed, skip, threads, pairs,
                      npairs, capped);
}

int nd__lsh_candidates16(const uint16_t *sigs, size_t n, unsigned k,
                         unsigned bands, unsigned rows, uint64_t seed,
                         const uint8_t *skip, unsigned threads,
                         uint64_t **pairs, size_t *npairs, uint64_t *capped)
{
    return candidates(sigs, 0, n, k, bands, rows, seed, skip, threads, pairs,
                      npairs, capped);
}
