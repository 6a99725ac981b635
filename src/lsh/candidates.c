/*
 * candidates.c - batch LSH: sort (band key, doc) pairs, pair equal runs.
 *
 * Instead of hash tables of buckets, each band builds an array of
 * (32-bit band key << 32 | doc) and radix-sorts it on the key (three
 * passes of 11 bits; with every band's keys taken first, the first pass
 * reads them: nd__sort_keys32):
 * memory is 8 bytes a document a band in flight, access is sequential, and
 * the order (hence the output) does not depend on the number of threads.  Bands run in parallel; a
 * band pairs two documents only if no earlier band certainly did (the
 * first-collision rule, below), so a pair shared by many bands comes out
 * about once; each thread keeps its pairs sorted and unique as it goes (the
 * few repeats the rule lets through are dropped there), and the threads'
 * lists are merged at the end.
 *
 * Under a memory limit the same pairs come out in the same order, from
 * bounded buffers.  A band's key words are built in P passes over the
 * documents, each keeping the keys in one P-th of the 32-bit range: equal
 * keys meet in the same pass and documents still go in in order, so the
 * runs of equal keys, and their pairs, are those of one pass over all.
 * Recomputing the keys P times is cheaper than writing them out, as the
 * signatures are in memory anyway.  Each thread's pairs go to a fixed
 * buffer (grown as needed up to its share of the limit): when it fills,
 * the new pairs are sorted, deduped and merged into its sorted prefix; a
 * prefix over half the share is written to a temporary file as a sorted
 * run (spill.c).  If anything was written, the
 * rest follows, and the pairs are read back as the merge of all runs, each
 * pair once: the sorted set of distinct pairs, exactly as in memory.  Pairs
 * are handed out in blocks (nd__cands_next), so the whole list never needs
 * to be in memory at once.
 *
 * The batch stores signatures as b-bit values (Li and Koenig 2010, "b-bit
 * minwise hashing"): the low 16 bits of each 32-bit MinHash value, which
 * are the copied-bin flag (bit 15) and 15 bits of value.  Two values equal
 * in 32 bits are equal in 16, so every band shared in 32 bits is shared in
 * 16 and the candidates are a superset of the 32-bit ones.  A band whose
 * values differ in d of its rows collides with probability about 2^-15d:
 * negligible for unrelated documents, 2^-15 for a near pair that differs
 * in one row of a band.  Measured on 10^6 generated news documents
 * (25 bands x 5 rows): 0.016% more candidates, the same clusters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../core/sort.h"
#include "lsh.h"

/* Seeds the containment bands' keys apart from the main bands'. */
#define CONTAIN_SEED UINT64_C(0x636f6e7461696e73) /* "contains" */

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

/* ------------------------------------------------------- pair collection */

/* Pairs as (a << 32 | b); sorted and unique where a comment says so. */
typedef struct {
    uint64_t *v;
    size_t n, cap;
} vec64;

/*
 * Where one thread's pairs go.  No limit: v grows and is folded into acc
 * (sorted, unique) from time to time.  Under a limit: v, at most `limit`
 * values, has a sorted, unique prefix [0, u); from time to time the rest is
 * sorted and merged into the prefix, and a prefix over half the limit is
 * spilled as a run.
 */
typedef struct {
    uint64_t *v, *tmp;
    size_t n, u, cap, limit; /* under a limit v grows up to limit values */
    vec64 acc;
    int rc;
} sink;

/* What the threads share. */
typedef struct {
    int limited;
    const char *tmpdir;
    nd__spill *spill; /* opened at the first spill */
    int rc;           /* the first error of any thread, with its sentence */
    char err[300];
} shared;

/* Merge sorted, unique a and b into out, dropping repeats; its length. */
static size_t merge_unique(const uint64_t *a, size_t na, const uint64_t *b,
                           size_t nb, uint64_t *out)
{
    size_t i = 0, j = 0, w = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j])
            out[w++] = a[i++];
        else if (b[j] < a[i])
            out[w++] = b[j++];
        else {
            out[w++] = a[i++];
            j++;
        }
    }
    while (i < na)
        out[w++] = a[i++];
    while (j < nb)
        out[w++] = b[j++];
    return w;
}

/*
 * Sort and dedupe v[0..n) (unless it is sorted and unique already), then
 * merge it into the sorted, unique *acc.  The same pair comes out of many
 * bands, so keeping each thread's pairs unique as it goes bounds memory by
 * the distinct pairs, not by bands x pairs.
 */
static int fold(vec64 *acc, uint64_t *v, size_t n, int sorted)
{
    if (!n)
        return ND_OK;
    uint64_t *tmp = sorted ? NULL : malloc(sizeof *tmp * n);
    uint64_t *out = malloc(sizeof *out * (acc->n + n));
    if ((!sorted && !tmp) || !out) {
        free(tmp);
        free(out);
        return ND_ERR_NOMEM;
    }
    size_t m = n;
    if (!sorted) {
        nd__sort_u64(v, tmp, n);
        free(tmp);
        m = nd__unique_u64(v, n);
    }
    size_t w = merge_unique(acc->v, acc->n, v, m, out);
    free(acc->v);
    acc->v = out;
    acc->n = acc->cap = w;
    return ND_OK;
}

static void record(shared *sh, int rc, const char *msg)
{
#pragma omp critical(nd_lsh_err)
    if (sh->rc == ND_OK) {
        sh->rc = rc;
        snprintf(sh->err, sizeof sh->err, "%s", msg ? msg : nd_strerror(rc));
    }
}

/* Under a limit: sort the new pairs into the prefix; spill a full one. */
static int compact(sink *s, shared *sh)
{
    size_t f = s->n - s->u;
    nd__sort_u64(s->v + s->u, s->tmp, f);
    f = nd__unique_u64(s->v + s->u, f);
    size_t w = merge_unique(s->v, s->u, s->v + s->u, f, s->tmp);
    uint64_t *t = s->v;
    s->v = s->tmp;
    s->tmp = t;
    s->u = s->n = w;
    if (w <= s->limit / 2)
        return ND_OK;
    char msg[300];
    int rc = ND_OK;
#pragma omp critical(nd_lsh_spill)
    {
        if (!sh->spill)
            rc = nd__spill_open(sh->tmpdir, &sh->spill, msg, sizeof msg);
        if (rc == ND_OK)
            rc = nd__spill_put(sh->spill, s->v, w, msg, sizeof msg);
    }
    if (rc != ND_OK) {
        record(sh, rc, msg);
        return rc;
    }
    s->u = s->n = 0;
    return ND_OK;
}

static int make_room(sink *s, shared *sh)
{
    if (s->rc != ND_OK)
        return s->rc;
    /* Under a limit: fold the new pairs in (and spill when that fills the
       buffer) rather than grow past the limit, or when they rival the
       kept ones, as without a limit. */
    size_t fresh = s->n - s->u, big = s->u > (1u << 20) ? s->u : (1u << 20);
    if (sh->limited && (s->cap == s->limit || fresh >= big)) {
        if ((s->rc = compact(s, sh)) != ND_OK || s->n < s->cap)
            return s->rc;
    }
    size_t cap = s->cap ? s->cap * 2 : 4096;
    if (sh->limited && cap > s->limit)
        cap = s->limit;
    uint64_t *v = realloc(s->v, cap * sizeof *v);
    if (v)
        s->v = v;
    if (v && sh->limited) {
        free(s->tmp); /* scratch: nothing to keep */
        if ((v = malloc(cap * sizeof *v)) != NULL)
            s->tmp = v;
        else
            s->tmp = NULL;
    }
    if (!v)
        return s->rc = ND_ERR_NOMEM;
    s->cap = cap;
    return ND_OK;
}

static void push(sink *s, shared *sh, uint64_t x)
{
    if (s->n == s->cap && make_room(s, sh) != ND_OK)
        return;
    s->v[s->n++] = x;
}

/*
 * The first-collision rule.  A pair of near copies shares many bands (on
 * 200k `scale` documents, 40.2M pairs came out of the bands for 1.8M
 * distinct ones), and sorting the repeats away was the largest cost of
 * candidate generation.  So band j pairs two documents only if no earlier
 * band certainly pairs them: each distinct pair comes out about once.
 *
 * Band e certainly pairs a and b (a < b) when their rows of e are equal
 * (then so are their keys: the same run) and the cap does not stop it: the
 * run of e is at most ND_BUCKET_CAP long, or e is a main band and
 * b - a <= ND_BUCKET_CAP (documents are in order in a run, so their places
 * are at most that far apart: within the window).  Containment bands come
 * after the main bands, so an earlier containment band is only asked for
 * a pair that a containment band pairs, which is uneven then.  Which runs
 * are over the cap each band publishes once it has seen all its runs (the
 * keys of those runs, ascending); a band not yet published counts as
 * uncertain.  Uncertain is never wrong: the pair comes out twice, and the
 * sort drops the repeat, so the pairs are the same for any timing and
 * number of threads.  Rows that differ while their 32-bit keys collide are
 * uncertain in the same way.
 */
typedef struct {
    uint32_t *keys; /* keys of the band's runs over the cap, ascending */
    size_t n, cap;
    int done;       /* set (release) once keys is complete */
} overcap;

typedef struct {
    const void *sigs;
    int wide;
    unsigned k, bands, rows, cbands, crows;
    uint64_t seed;
    overcap *oc;
    uint8_t *hot; /* 1: in a run over the cap of some published band */
} firsts;

/* The key of band e of document d, as the band loop makes it. */
static uint32_t band_key_of(const firsts *f, uint32_t d, unsigned e);

/* Where the signature of document d starts. */
static inline const char *sig_row(const firsts *f, uint32_t d)
{
    return (const char *)f->sigs + (size_t)d * f->k * (f->wide ? 4 : 2);
}

/* x[0..n) == y[0..n), n even (rows of 16- or 32-bit values), inline. */
static inline int same_rows(const char *x, const char *y, size_t n)
{
    uint64_t a, b;
    for (; n >= 8; n -= 8, x += 8, y += 8) {
        memcpy(&a, x, 8);
        memcpy(&b, y, 8);
        if (a != b)
            return 0;
    }
    if (n >= 4) {
        uint32_t c, d;
        memcpy(&c, x, 4);
        memcpy(&d, y, 4);
        if (c != d)
            return 0;
        n -= 4, x += 4, y += 4;
    }
    if (n) {
        uint16_t c, d;
        memcpy(&c, x, 2);
        memcpy(&d, y, 2);
        return c == d;
    }
    return 1;
}

/* x[0..n) == y[0..n) for n bytes of rows; the widths of 3 and 2 rows of
   16-bit values without a branch (whether two copies share a band is a
   coin toss a branch would miss half the time). */
static inline int same_band(const char *x, const char *y, size_t n)
{
    uint32_t a, b;
    uint16_t c, d;
    if (n == 6) {
        memcpy(&a, x, 4);
        memcpy(&b, y, 4);
        memcpy(&c, x + 4, 2);
        memcpy(&d, y + 4, 2);
        return ((a ^ b) | (uint32_t)(c ^ d)) == 0;
    }
    if (n == 4) {
        memcpy(&a, x, 4);
        memcpy(&b, y, 4);
        return a == b;
    }
    return same_rows(x, y, n);
}

/* a and b have the same rows values from value off on. */
static int rows_equal(const firsts *f, uint32_t a, uint32_t b, size_t off,
                      unsigned rows)
{
    const size_t w = f->wide ? 4 : 2;
    return same_band(sig_row(f, a) + off * w, sig_row(f, b) + off * w, rows * w);
}

static int over_cap(const overcap *o, uint32_t key)
{
    size_t lo = 0, hi = o->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->n && o->keys[lo] == key;
}

/*
 * What a band's pairing reads of the rule: the bands published when it
 * took ready[] (acquired), and after that, a document's hot byte, which
 * then holds every mark of those bands.
 */
typedef struct {
    const firsts *f;
    unsigned band;
    uint8_t *ready; /* ready[e]: band e was published */
} rule;

/* Take which of the bands before r->band are published. */
static void rule_ready(rule *r)
{
    for (unsigned e = 0; e < r->band; e++)
        r->ready[e] = (uint8_t)__atomic_load_n(&r->f->oc[e].done, __ATOMIC_ACQUIRE);
}

/* Band e, whose rows a and b share, pairs them certainly (1), or maybe
   not (0): its run may be over the cap.  hot: a's hot byte. */
static inline int certain(const rule *r, uint32_t a, uint32_t b, unsigned e, int hot)
{
    if (e < r->f->bands && b - a <= ND_BUCKET_CAP)
        return 1;
    return r->ready[e] && (!hot || !over_cap(&r->f->oc[e], band_key_of(r->f, a, e)));
}

/* The rule after the main bands: the containment bands before the band,
   and any band of 32-bit values. */
static int first_band_slow(const rule *r, uint32_t a, uint32_t b, int hot)
{
    const firsts *f = r->f;
    const unsigned band = r->band, nmain = band < f->bands ? band : f->bands;
    if (f->wide)
        for (unsigned e = 0; e < nmain; e++)
            if (rows_equal(f, a, b, (size_t)e * f->rows, f->rows) &&
                certain(r, a, b, e, hot))
                return 0;
    for (unsigned e = f->bands; e < band; e++)
        if (rows_equal(f, a, b, (size_t)(e - f->bands) * f->crows, f->crows) &&
            certain(r, a, b, e, hot))
            return 0;
    return 1;
}

/* 1 when no band from `from` to before r->band certainly pairs a and b
   (a < b); from is 0, or with 16-bit values at most the main bands. */
static inline int first_band_from(const rule *r, uint32_t a, uint32_t b, int hot,
                                  unsigned from)
{
    const firsts *f = r->f;
    if (!f->wide) {
        /* The main bands' rows lie side by side from the signature's
           start: walk them with one pointer a document. */
        const unsigned rows = f->rows, nmain = r->band < f->bands ? r->band : f->bands;
        const size_t n = 2 * (size_t)rows;
        const char *x = sig_row(f, a) + from * n, *y = sig_row(f, b) + from * n;
        for (unsigned e = from; e < nmain; e++, x += n, y += n)
            if (same_band(x, y, n) && certain(r, a, b, e, hot))
                return 0;
        if (r->band <= f->bands)
            return 1;
    }
    return first_band_slow(r, a, b, hot);
}

/* 1 when no band before r->band certainly pairs a and b (a < b). */
static inline int first_band(const rule *r, uint32_t a, uint32_t b, int hot)
{
    return first_band_from(r, a, b, hot, 0);
}

/* a's hot byte, read after r's ready[] was taken. */
static int hot_of(const rule *r, uint32_t a)
{
    return __atomic_load_n(&r->f->hot[a], __ATOMIC_RELAXED);
}

/*
 * The rule for a whole run at once.  Most runs of a band after the first
 * are copies that an earlier band already put in one run: on 200k `scale`
 * documents 34M of the 39M pairs the rule was asked came from runs whose
 * members all share the rows of some earlier band.  If such a band e
 * certainly pairs every pair of the run (as certain() decides for one
 * pair: a main band whose run spans at most ND_BUCKET_CAP document
 * numbers, or a published band whose run of these members is not over
 * the cap), no pair of the run is the first of its band: the run is
 * skipped after m row compares a band instead of m(m-1)/2 pair tests.
 * docs[0..m) ascending, m >= 2.
 */
static int run_settled(const rule *r, const uint32_t *docs, size_t m)
{
    const firsts *f = r->f;
    const size_t wsz = f->wide ? 4 : 2;
    const char *x0 = sig_row(f, docs[0]);
    const int near = docs[m - 1] - docs[0] <= ND_BUCKET_CAP;
    int hot = -1; /* docs[0]'s hot byte, read when first needed */
    const char *x1 = sig_row(f, docs[1]);
    for (unsigned e = 0; e < r->band; e++) {
        const int main = e < f->bands;
        const size_t n = (main ? f->rows : f->crows) * wsz,
                     off = (main ? e : e - f->bands) * n;
        /* the second member first: most bands end there */
        if (!same_band(x0 + off, x1 + off, n))
            continue;
        size_t t = 2;
        while (t < m && same_band(x0 + off, sig_row(f, docs[t]) + off, n))
            t++;
        if (t < m)
            continue;
        if (main && near)
            return 1;
        if (!r->ready[e])
            continue;
        if (hot < 0)
            hot = hot_of(r, docs[0]);
        if (!hot || !over_cap(&f->oc[e], band_key_of(f, docs[0], e)))
            return 1;
    }
    return 0;
}

/*
 * The pairs of a run (of at most RUN_LOCAL members: all pairs, no window)
 * that the rule keeps, band 0 asked of all partners of a member at once:
 * most pairs of near copies share band 0, and a branch a pair on it would
 * be a coin toss.  The partners that band 0 does not settle are gathered
 * without a branch, then asked of the other bands.
 */
#define RUN_LOCAL ND_BUCKET_CAP /* a run this short is paired whole */

static void pair_run_band0(const uint64_t *run, size_t m, sink *out, shared *sh,
                           const rule *r)
{
    const firsts *f = r->f;
    uint64_t g[RUN_LOCAL]; /* the rows of band 0, side by side */
    uint32_t d[RUN_LOCAL], rest[RUN_LOCAL];
    for (size_t t = 0; t < m; t++) {
        d[t] = (uint32_t)run[t];
        const uint16_t *x = (const uint16_t *)f->sigs + (size_t)d[t] * f->k;
        uint64_t v = 0;
        for (unsigned q = 0; q < f->rows; q++)
            v = v << 16 | x[q];
        g[t] = v;
    }
    for (size_t i = 0; i + 1 < m && out->rc == ND_OK; i++) {
        const uint32_t a = d[i];
        const int hot = hot_of(r, a);
        /* band 0 pairs a with an equal partner certainly if the partner is
           near, or if band 0 was published and a is in none of its runs
           over the cap */
        const uint64_t far_ok = r->ready[0] && !hot;
        size_t nr = 0;
        for (size_t j = i + 1; j < m; j++) {
            const uint64_t settled = (g[j] == g[i]) & (far_ok | (d[j] - a <= ND_BUCKET_CAP));
            rest[nr] = d[j];
            nr += !settled;
        }
        for (size_t q = 0; q < nr; q++)
            if (first_band_from(r, a, rest[q], hot, 1))
                push(out, sh, (uint64_t)a << 32 | rest[q]);
    }
}

/*
 * Pairs of one run of equal keys: v holds (key << 32 | doc), docs ascending
 * within a run as the sort is stable and documents go in in order.  With
 * r, only the pairs no band before r->band certainly pairs (the rule
 * above).
 */
static void pair_run_if(const uint64_t *run, size_t m, sink *out, shared *sh,
                        uint64_t *capped, const rule *r)
{
    size_t window = m > ND_BUCKET_CAP ? ND_BUCKET_CAP : m;
    if (m > ND_BUCKET_CAP)
        (*capped)++;
    if (r && m <= RUN_LOCAL) {
        uint32_t d[RUN_LOCAL];
        for (size_t t = 0; t < m; t++)
            d[t] = (uint32_t)run[t];
        if (run_settled(r, d, m))
            return;
    }
    if (r && !r->f->wide && r->band > 0 && r->f->bands > 0 && r->f->rows <= 4 &&
        m <= RUN_LOCAL) {
        pair_run_band0(run, m, out, sh, r);
        return;
    }
    for (size_t i = 0; i < m && out->rc == ND_OK; i++) {
        const uint32_t a = (uint32_t)run[i];
        const int hot = r ? hot_of(r, a) : 0;
        for (size_t j = i + 1; j < m && j <= i + window; j++) {
            uint32_t b = (uint32_t)run[j];
            if (!r || first_band(r, a, b, hot))
                push(out, sh, (uint64_t)a << 32 | b);
        }
    }
}

static void pair_run(const uint64_t *run, size_t m, sink *out, shared *sh,
                     uint64_t *capped)
{
    pair_run_if(run, m, out, sh, capped, NULL);
}

/*
 * The pairs of a run of a containment band (at most ND_BUCKET_CAP
 * members): only those of which one has at most half the shingles of the
 * other.  The members are ordered by size once, (size << 32 | doc), so
 * each one's partners are the members from the first twice its size on:
 * a size is read once a member, not once a pair.  A run whose largest
 * member is under twice its smallest (most runs: copies of one text) has
 * none, and is not ordered.
 */
static void pair_run_uneven_if(const uint64_t *run, size_t m, sink *out,
                               shared *sh, const uint32_t *sizes, const rule *r)
{
    uint64_t v[ND_BUCKET_CAP];
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < m; i++) {
        uint64_t z = sizes[(uint32_t)run[i]];
        lo = z < lo ? z : lo;
        hi = z > hi ? z : hi;
    }
    if (hi < 2 * lo)
        return;
    if (r) {
        uint32_t d[ND_BUCKET_CAP];
        for (size_t t = 0; t < m; t++)
            d[t] = (uint32_t)run[t];
        if (run_settled(r, d, m))
            return;
    }
    for (size_t i = 0; i < m; i++) {
        uint32_t d = (uint32_t)run[i];
        uint64_t x = (uint64_t)sizes[d] << 32 | d;
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    size_t from = 0;
    for (size_t i = 0; i < m && out->rc == ND_OK; i++) {
        uint64_t twice = 2 * (v[i] >> 32);
        while (from < m && (v[from] >> 32) < twice)
            from++;
        for (size_t j = from; j < m; j++) {
            uint32_t a = (uint32_t)v[i], b = (uint32_t)v[j];
            if (a > b) {
                uint32_t t = a;
                a = b;
                b = t;
            }
            if (!r || first_band(r, a, b, hot_of(r, a)))
                push(out, sh, (uint64_t)a << 32 | b);
        }
    }
}

static void pair_run_uneven(const uint64_t *run, size_t m, sink *out, shared *sh,
                            const uint32_t *sizes)
{
    pair_run_uneven_if(run, m, out, sh, sizes, NULL);
}


/* The 32-bit key of band `band` of two 16-bit rows: the two values side
   by side.  They are MinHash values already, as uniform as a hash of them;
   keys are compared only within their band. */
static uint64_t raw_key2(const uint16_t *sig, unsigned band)
{
    return (uint64_t)sig[2 * band] << 16 | sig[2 * band + 1];
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

/* The 32-bit key of band e (main bands first) of document d. */
static uint32_t band_key_of(const firsts *f, uint32_t d, unsigned e)
{
    if (!f->wide) {
        const nd__lsh_contain cb = {0, f->crows, NULL};
        return nd__lsh_key16((const uint16_t *)f->sigs + (size_t)d * f->k, e, f->bands,
                             f->rows, &cb, f->seed);
    }
    const int main = e < f->bands;
    const unsigned bi = main ? e : e - f->bands, br = main ? f->rows : f->crows;
    return (uint32_t)(key_of(f->sigs, 1, d, f->k, bi, br,
                             main ? f->seed : f->seed ^ CONTAIN_SEED) >> 32);
}

/* ------------------------------------------------ bands shared among processes */

uint32_t nd__lsh_key16(const uint16_t *sig, unsigned band, unsigned bands, unsigned rows,
                       const nd__lsh_contain *cb, uint64_t seed)
{
    const int main = band < bands;
    const unsigned bi = main ? band : band - bands, br = main ? rows : cb->rows;
    if (br == 2)
        return (uint32_t)raw_key2(sig, bi);
    return (uint32_t)(nd__band_key16(sig, bi, br, main ? seed : seed ^ CONTAIN_SEED) >> 32);
}

int nd__lsh_pair_runs(const uint64_t *kv, size_t m, const uint32_t *sizes,
                      uint64_t **pairs, size_t *n, size_t *cap, uint64_t *capped)
{
    shared sh = {0, NULL, NULL, ND_OK, {0}};
    sink s = {*pairs, NULL, *n, 0, *cap, 0, {NULL, 0, 0}, ND_OK};
    for (size_t i = 0; i < m && s.rc == ND_OK;) {
        size_t j = i + 1;
        while (j < m && kv[j] >> 32 == kv[i] >> 32)
            j++;
        if (sizes && j - i > ND_BUCKET_CAP)
            (*capped)++;
        else if (sizes && j - i > 1)
            pair_run_uneven(kv + i, j - i, &s, &sh, sizes);
        else if (j - i > 1)
            pair_run(kv + i, j - i, &s, &sh, capped);
        i = j;
    }
    *pairs = s.v;
    *n = s.n;
    *cap = s.cap;
    return s.rc;
}

/* ------------------------------------------------------------- the stream */

struct nd__cands {
    uint64_t *v;       /* in memory: every pair */
    size_t n, at;
    nd__spill *spill;  /* spilled: the runs and their merge */
    nd__merge *merge;
    uint64_t *blk;
    size_t block;
};

size_t nd__cands_block(const nd__cands *c) { return c->block; }

int nd__cands_next(nd__cands *c, const uint64_t **pairs, size_t *m, char *err,
                   size_t cap)
{
    if (!c->merge) {
        size_t k = c->n - c->at < c->block ? c->n - c->at : c->block;
        *pairs = c->v ? c->v + c->at : NULL;
        *m = k;
        c->at += k;
        return ND_OK;
    }
    *pairs = c->blk;
    return nd__merge_read(c->merge, c->blk, c->block, m, err, cap);
}

void nd__cands_spilled(const nd__cands *c, uint64_t *runs, uint64_t *bytes)
{
    *runs = nd__spill_runs(c->spill);
    *bytes = nd__spill_bytes(c->spill);
}

void nd__cands_free(nd__cands *c)
{
    if (!c)
        return;
    nd__merge_close(c->merge);
    nd__spill_close(c->spill);
    free(c->blk);
    free(c->v);
    free(c);
}

/* ------------------------------------------------------------ the bands */

/* How many run members ahead of the one paired a signature is fetched. */
#define SIG_AHEAD 16

static void prefetch_sig(const firsts *f, uint32_t d)
{
    __builtin_prefetch(sig_row(f, d));
}

/* Add the key of a run over the cap to its band's list (keys come in
   ascending order: parts are slices of the key range in order), and mark
   its members hot. */
static int note_over_cap(overcap *o, const firsts *f, const uint64_t *run, size_t m)
{
    const uint32_t key = (uint32_t)(run[0] >> 32);
    for (size_t i = 0; i < m; i++)
        __atomic_store_n(&f->hot[(uint32_t)run[i]], 1, __ATOMIC_RELAXED);
    if (o->n == o->cap) {
        size_t c = o->cap ? o->cap * 2 : 16;
        uint32_t *v = realloc(o->keys, sizeof *v * c);
        if (!v)
            return ND_ERR_NOMEM;
        o->keys = v;
        o->cap = c;
    }
    o->keys[o->n++] = key;
    return ND_OK;
}

/*
 * The budget under a limit of `memory` bytes: a quarter for the threads'
 * band arrays (key words and sort scratch, 16 bytes a document), half for
 * their pair buffers (value and scratch, 16 bytes a pair), the last quarter
 * for every band's keys if they fit in it (band_keys); after the bands,
 * half for the merge's read buffers and a quarter for the block of pairs
 * the batch verifies at a time (8 bytes a pair here, 17 in the batch).
 */
#define FLOOR 1024 /* the least entries of any buffer, however low the limit */

static size_t share(uint64_t memory, size_t div)
{
    uint64_t v = memory / div;
    return v < FLOOR ? FLOOR : v > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)v;
}

/*
 * The keys of every band: keys[band][d].  A band reads a few bytes of each
 * signature, but one cache line of it: taken band by band from the
 * signatures, the keys stream 72 lines a document (42 + 30 bands), 4.6 KB
 * to use 0.4 KB.  Taken in one pass over the signatures, each line is read
 * once, and a band then reads its keys in order, 4 bytes a document, and
 * frees them.  The keys are those the band loop would make.  NULL when
 * out of memory (the bands then take their keys from the signatures).
 */
int nd__lsh_key_arrays = -1;

static void free_keys(uint32_t **keys, unsigned nb)
{
    for (unsigned b = 0; keys && b < nb; b++)
        free(keys[b]);
    free(keys);
}

static uint32_t **band_keys(const void *sigs, int wide, size_t n, unsigned k,
                            unsigned bands, unsigned rows, const nd__lsh_contain *cb,
                            uint64_t seed, unsigned threads)
{
    const unsigned nb = bands + (cb ? cb->bands : 0);
    (void)threads; /* read only by the OpenMP pragma */
    if (!n || !nb || n > SIZE_MAX / 4)
        return NULL;
    uint32_t **keys = calloc(nb, sizeof *keys);
    for (unsigned b = 0; keys && b < nb; b++)
        if (!(keys[b] = malloc(sizeof **keys * n))) {
            free_keys(keys, nb);
            return NULL;
        }
    if (!keys)
        return NULL;
    enum { BLOCK = 512 }; /* documents a band at a time: the writes stay in order */
    const size_t nblk = (n + BLOCK - 1) / BLOCK;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t blk = 0; blk < nblk; blk++) {
        const size_t lo = blk * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
        for (unsigned band = 0; band < nb; band++) {
            const int main = band < bands;
            const unsigned bi = main ? band : band - bands, br = main ? rows : cb->rows;
            const uint64_t bseed = main ? seed : seed ^ CONTAIN_SEED;
            uint32_t *out = keys[band];
            if (!wide && br == 2)
                for (size_t i = lo; i < hi; i++)
                    out[i] = (uint32_t)raw_key2((const uint16_t *)sigs + i * k, bi);
            else
                for (size_t i = lo; i < hi; i++)
                    out[i] = (uint32_t)(key_of(sigs, wide, i, k, bi, br, bseed) >> 32);
        }
    }
    return keys;
}

static int candidates(const void *sigs, int wide, size_t n, unsigned k,
                      unsigned bands, unsigned rows, const nd__lsh_contain *cb,
                      uint64_t seed,
                      const uint8_t *skip, unsigned threads, uint64_t memory,
                      const char *tmpdir, nd__cands **out, uint64_t *capped,
                      char *err, size_t errcap)
{
    *out = NULL;
    *capped = 0;
    if (threads < 1)
        threads = 1;
    shared sh = {memory > 0, tmpdir, NULL, ND_OK, {0}};
    /* Under a limit a band's keys are taken in `parts` passes, each over
       the documents whose key falls in its slice of the 32-bit range. */
    size_t kcap = n ? n : 1, pcap = 0;
    unsigned parts = 1;
    if (sh.limited) {
        size_t per = share(memory, (size_t)4 * threads * 16);
        if (n > per) {
            uint64_t p = ((uint64_t)n + n / 4 + per - 1) / per;
            parts = p > 65536 ? 65536 : (unsigned)p;
            kcap = n / parts + n / parts / 4 + FLOOR;
        }
        pcap = share(memory, (size_t)2 * threads * 16);
    }
    sink *snk = calloc(threads, sizeof *snk);
    uint64_t *caps = calloc(threads, sizeof *caps);
    nd__cands *c = calloc(1, sizeof *c);
    const unsigned nb = bands + (cb ? cb->bands : 0);
    overcap *oc = calloc(nb ? nb : 1, sizeof *oc);
    uint8_t *hot = calloc(n ? n : 1, 1);
    /* The keys first, in one pass over the signatures, when they fit: in
       the quarter of a limit the bands' other buffers leave. */
    const uint64_t kbytes = (uint64_t)4 * nb * n;
    uint32_t **keys = NULL;
    if (nd__lsh_key_arrays > 0 ||
        (nd__lsh_key_arrays < 0 && (!sh.limited || kbytes <= memory / 4)))
        keys = band_keys(sigs, wide, n, k, bands, rows, cb, seed, threads);
    const firsts fr = {sigs, wide, k, bands, rows, cb ? cb->bands : 0,
                       cb ? cb->rows : 0, seed, oc, hot};
    if (!snk || !caps || !c || !oc || !hot)
        record(&sh, ND_ERR_NOMEM, NULL);

    if (sh.rc == ND_OK) {
#pragma omp parallel num_threads(threads)
        {
            int t = 0;
#ifdef _OPENMP
            t = omp_get_thread_num();
#endif
            sink *s = &snk[t];
            size_t cap = kcap;
            uint64_t *kv = malloc(sizeof *kv * cap);
            uint64_t *tmp = malloc(sizeof *tmp * cap);
            uint8_t *ready = malloc(nb ? nb : 1);
            s->limit = pcap;
            if (!kv || !tmp || !ready)
                s->rc = ND_ERR_NOMEM;
            const unsigned extra = cb ? cb->bands : 0;
#pragma omp for schedule(dynamic, 1)
            for (unsigned band = 0; band < bands + extra; band++) {
                /* The main bands, then the containment bands (cb). */
                const int main = band < bands;
                const unsigned bi = main ? band : band - bands, br = main ? rows : cb->rows;
                const uint64_t bseed = main ? seed : seed ^ CONTAIN_SEED;
                /* Two 16-bit rows are a 32-bit key as they stand. */
                const int raw2 = !wide && br == 2;
                for (unsigned part = 0; part < parts; part++) {
                    if (s->rc != ND_OK)
                        break;
                    /* (32 bits of the band key, doc): a 32-bit collision
                       only adds a candidate that verification drops (about
                       n^2/2^33 a band: 116 at a million documents) */
                    size_t m = 0;
                    const uint32_t *bk = keys ? keys[band] : NULL;
                    /* the keys taken and one pass: sorted as they go in
                       (cap >= n) */
                    const int sorted = bk && parts == 1;
                    if (sorted)
                        m = nd__sort_keys32(bk, skip, n, kv, tmp);
                    for (size_t i = 0; i < n && !sorted; i++) {
                        if (skip && skip[i])
                            continue;
                        uint64_t hi = bk ? bk[i] : raw2 ? raw_key2((const uint16_t *)sigs + i * k, bi)
                                           : key_of(sigs, wide, i, k, bi, br, bseed) >> 32;
                        if (parts > 1 && (hi * parts) >> 32 != part)
                            continue;
                        if (m == cap) {
                            size_t c2 = cap + cap / 2;
                            uint64_t *a = realloc(kv, sizeof *a * c2);
                            if (a)
                                kv = a;
                            uint64_t *b = a ? realloc(tmp, sizeof *b * c2) : NULL;
                            if (!b) {
                                s->rc = ND_ERR_NOMEM;
                                break;
                            }
                            tmp = b;
                            cap = c2;
                        }
                        kv[m++] = hi << 32 | i;
                    }
                    if (s->rc != ND_OK)
                        break;
                    if (!sorted)
                        nd__sort_u64_hi32(kv, tmp, m);
                    rule ru = {&fr, band, ready};
                    rule_ready(&ru);
                    size_t ahead = 0;
                    for (size_t i = 0; i < m && s->rc == ND_OK;) {
                        size_t j = i + 1;
                        while (j < m && kv[j] >> 32 == kv[i] >> 32)
                            j++;
                        /* A containment band shared by more documents than
                           a bucket pairs is a common phrase, not a copy:
                           it is skipped (counted as capped). */
                        /* The first cache line of the signatures the
                           rule reads next. */
                        for (; ahead < m && ahead < j + SIG_AHEAD; ahead++)
                            prefetch_sig(&fr, (uint32_t)kv[ahead]);
                        if (j - i > ND_BUCKET_CAP &&
                            note_over_cap(&oc[band], &fr, kv + i, j - i) != ND_OK)
                            s->rc = ND_ERR_NOMEM;
                        else if (!main && j - i > ND_BUCKET_CAP)
                            caps[t]++;
                        else if (!main && j - i > 1 && !band)
                            pair_run_uneven(kv + i, j - i, s, &sh, cb->sizes);
                        else if (!main && j - i > 1)
                            pair_run_uneven_if(kv + i, j - i, s, &sh, cb->sizes, &ru);
                        else if (j - i > 1 && !band) /* the first pairs all */
                            pair_run(kv + i, j - i, s, &sh, &caps[t]);
                        else if (j - i > 1)
                            pair_run_if(kv + i, j - i, s, &sh, &caps[t], &ru);
                        i = j;
                    }
                }
                if (keys) { /* this band's keys: read by this thread only */
                    free(keys[band]);
                    keys[band] = NULL;
                }
                __atomic_store_n(&oc[band].done, 1, __ATOMIC_RELEASE);
                /* No limit: fold when the new pairs rival the kept ones:
                   amortised linear, and memory stays near the distinct
                   pairs. */
                if (!sh.limited && s->rc == ND_OK &&
                    s->n >= (s->acc.n > (1u << 20) ? s->acc.n : (1u << 20))) {
                    s->rc = fold(&s->acc, s->v, s->n, 0);
                    s->n = 0;
                }
            }
            free(kv);
            free(tmp);
            free(ready);
            if (s->rc == ND_OK && !sh.limited) {
                s->rc = fold(&s->acc, s->v, s->n, 0);
                free(s->v);
                s->v = NULL;
            } else if (s->rc == ND_OK && s->n > s->u) {
                s->rc = compact(s, &sh);
            }
            if (sh.limited) {
                /* what stayed in the buffer: sorted and unique */
                s->acc.v = s->v;
                s->acc.n = s->u;
                free(s->tmp);
            } else if (s->rc != ND_OK) {
                free(s->v);
            }
            s->v = s->tmp = NULL;
        }
    }

    free_keys(keys, nb);
    for (unsigned t = 0; snk && caps && t < threads; t++) {
        if (snk[t].rc != ND_OK)
            record(&sh, snk[t].rc, NULL);
        *capped += caps[t];
    }
    if (sh.rc == ND_OK && sh.spill) {
        /* Something went to disk: the rest joins it, and the merge reads
           all of it back. */
        for (unsigned t = 0; t < threads && sh.rc == ND_OK; t++)
            sh.rc = nd__spill_put(sh.spill, snk[t].acc.v, snk[t].acc.n, sh.err,
                                  sizeof sh.err);
        for (unsigned t = 0; t < threads; t++) {
            free(snk[t].acc.v);
            snk[t].acc.v = NULL;
        }
        c->spill = sh.spill;
        sh.spill = NULL;
        c->block = share(memory, (size_t)4 * 25);
        if (c->block > (1u << 20))
            c->block = 1u << 20;
        if (sh.rc == ND_OK &&
            (sh.rc = nd__merge_open(c->spill, share(memory, 2), &c->merge, sh.err,
                                    sizeof sh.err)) == ND_OK &&
            !(c->blk = malloc(sizeof *c->blk * c->block)))
            record(&sh, ND_ERR_NOMEM, NULL);
    } else if (sh.rc == ND_OK) {
        /* The threads' lists, each sorted and unique, merged into one. */
        for (unsigned t = 1; t < threads && sh.rc == ND_OK; t++) {
            if (fold(&snk[0].acc, snk[t].acc.v, snk[t].acc.n, 1) != ND_OK)
                record(&sh, ND_ERR_NOMEM, NULL);
            free(snk[t].acc.v);
            snk[t].acc.v = NULL;
        }
        c->v = snk[0].acc.v;
        c->n = snk[0].acc.n;
        snk[0].acc.v = NULL;
        c->block = sh.limited ? share(memory, (size_t)4 * 25) : (size_t)1 << 20;
        if (c->block > (1u << 20))
            c->block = 1u << 20;
    }
    for (unsigned t = 0; snk && t < threads; t++)
        free(snk[t].acc.v);
    free(snk);
    free(caps);
    for (unsigned b = 0; oc && b < nb; b++)
        free(oc[b].keys);
    free(oc);
    free(hot);
    nd__spill_close(sh.spill);
    if (sh.rc != ND_OK) {
        nd__cands_free(c);
        snprintf(err, errcap, "%s", sh.err);
        return sh.rc;
    }
    *out = c;
    return ND_OK;
}

int nd__lsh_cands16(const uint16_t *sigs, size_t n, unsigned k,
                    unsigned bands, unsigned rows, const nd__lsh_contain *cb,
                    uint64_t seed, const uint8_t *skip, unsigned threads,
                    uint64_t memory, const char *tmpdir, nd__cands **out,
                    uint64_t *capped, char *err, size_t cap)
{
    return candidates(sigs, 0, n, k, bands, rows, cb && cb->bands ? cb : NULL, seed,
                      skip, threads, memory, tmpdir, out, capped, err, cap);
}

/* Every pair in one array: the stream without a limit, taken whole. */
static int as_array(const void *sigs, int wide, size_t n, unsigned k,
                    unsigned bands, unsigned rows, uint64_t seed,
                    const uint8_t *skip, unsigned threads, uint64_t **pairs,
                    size_t *npairs, uint64_t *capped)
{
    nd__cands *c;
    char err[300];
    *pairs = NULL;
    *npairs = 0;
    int rc = candidates(sigs, wide, n, k, bands, rows, NULL, seed, skip, threads, 0,
                        NULL, &c, capped, err, sizeof err);
    if (rc != ND_OK)
        return rc;
    *pairs = c->v ? c->v : malloc(sizeof **pairs);
    *npairs = c->n;
    c->v = NULL;
    nd__cands_free(c);
    return *pairs ? ND_OK : ND_ERR_NOMEM;
}

int nd__lsh_candidates(const uint32_t *sigs, size_t n, unsigned k,
                       unsigned bands, unsigned rows, uint64_t seed,
                       const uint8_t *skip, unsigned threads,
                       uint64_t **pairs, size_t *npairs, uint64_t *capped)
{
    return as_array(sigs, 1, n, k, bands, rows, seed, skip, threads, pairs,
                    npairs, capped);
}

int nd__lsh_candidates16(const uint16_t *sigs, size_t n, unsigned k,
                         unsigned bands, unsigned rows, uint64_t seed,
                         const uint8_t *skip, unsigned threads,
                         uint64_t **pairs, size_t *npairs, uint64_t *capped)
{
    return as_array(sigs, 0, n, k, bands, rows, seed, skip, threads, pairs,
                    npairs, capped);
}
