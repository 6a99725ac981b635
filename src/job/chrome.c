/*
 * chrome.c - which frequent shingles are page chrome and which are the
 * text of a story that many pages carry.
 *
 * Boilerplate suppression drops the shingles that more than a fraction of
 * the documents hold: share lines, footers, cookie notices, template
 * sentences.  A story reprinted by more pages than that fraction is
 * frequent too, and dropping its text splits its family.  What tells the
 * two apart is who carries them: chrome is carried by pages of many
 * different texts, a story's text by copies of one text.  So a frequent
 * shingle is counted once per group of copies rather than once per page:
 *
 *  1. The counting pass holds the shingle sets of a nested sample of the
 *     documents it counts (chrome.h: at most ND__HELD_MAX).
 *  2. Before filtering starts, the held documents are grouped: a 64-bin
 *     one-permutation MinHash of each whole set, 32 bands of 2 bins for
 *     candidates, and a pair whose exact Jaccard is 0.6 or more (an
 *     estimate this coarse chained pages that share a long notice) and
 *     whose figures do not tell them apart joins two groups (union-find):
 *     earnings or weather reports made from one template are alike but
 *     are not copies, and their template sentences stay boilerplate.
 *  3. For every frequent shingle the held documents carry (H of them, in
 *     G groups), its count becomes count * G / H.  Chrome keeps its count
 *     (its carriers are different texts, G near H); a story carried by
 *     many copies falls below the cut-off.  A shingle fewer than HELD_MIN
 *     held documents carry keeps its count.
 *
 * Counters are shared by the shingles that fall in them (dfcount.c); a
 * lowered counter is lowered for those few too.  Everything is sorted
 * into a total order first, so the counts do not depend on the order or
 * the threads of the counting.
 */
#include <stdlib.h>
#include <string.h>

#include "../neardup.h"
#include "chrome.h"
#include "../core/mix.h"
#include "../core/sort.h"
#include "../cluster/cluster.h"
#include "../sketch/sketch.h"

/* Bins of the grouping signature, and its bands of two bins. */
#define BINS 64
#define BAND_ROWS 2
/* A shingle must be carried by this many held documents to be judged. */
#define HELD_MIN 8
/* Bits of a group number: groups are held documents, at most
   ND__HELD_MAX of them. */
#define GROUP_BITS 12
_Static_assert(ND__HELD_MAX <= 1u << GROUP_BITS, "a group number fits GROUP_BITS");
/* Fewer held documents are worked on one thread. */
#define PARALLEL_MIN 256
/* The frequent keys are counted, sorted and judged in PARTS parts by the
   top PART_BITS bits of their counter, each part on one thread. */
#define PART_BITS 4
#define PARTS (1u << PART_BITS)

void nd__held_free(nd__held *s)
{
    free(s->ord);
    free(s->figs);
    free(s->nfigs);
    free(s->off);
    free(s->len);
    free(s->h);
    memset(s, 0, sizeof *s);
}

int nd__held_wants(const nd__held *s, uint64_t o)
{
    return o % (s->rate ? s->rate : 1) == 0;
}

/* Double the rate: let go of the documents no longer in the sample. */
static void thin(nd__held *s)
{
    s->rate = s->rate ? s->rate * 2 : 2;
    size_t w = 0, hw = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->ord[i] % s->rate != 0)
            continue;
        if (s->len[i])
            memmove(s->h + hw, s->h + s->off[i], s->len[i] * sizeof *s->h);
        memmove(s->figs + (size_t)w * ND__FIGS, s->figs + (size_t)i * ND__FIGS,
                ND__FIGS * sizeof *s->figs);
        s->nfigs[w] = s->nfigs[i];
        s->ord[w] = s->ord[i];
        s->off[w] = hw;
        s->len[w] = s->len[i];
        hw += s->len[i];
        w++;
    }
    s->n = w;
    s->hn = hw;
}

int nd__held_add(nd__held *s, uint64_t o, const uint64_t *h, size_t n,
                 const uint32_t *figs, uint32_t nfigs)
{
    if (!s->rate)
        s->rate = 1;
    if (n > ND__HELD_SHINGLES)
        n = ND__HELD_SHINGLES;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint64_t *ord = realloc(s->ord, cap * sizeof *ord);
        if (ord)
            s->ord = ord;
        size_t *off = ord ? realloc(s->off, cap * sizeof *off) : NULL;
        if (off)
            s->off = off;
        uint32_t *len = off ? realloc(s->len, cap * sizeof *len) : NULL;
        if (len)
            s->len = len;
        uint32_t *nf = len ? realloc(s->nfigs, cap * sizeof *nf) : NULL;
        if (nf)
            s->nfigs = nf;
        uint32_t *fg = nf ? realloc(s->figs, cap * ND__FIGS * sizeof *fg) : NULL;
        if (!fg)
            return ND_ERR_NOMEM;
        s->figs = fg;
        s->cap = cap;
    }
    if (s->hn + n > s->hcap) {
        size_t cap = s->hcap ? s->hcap : 1 << 16;
        while (cap < s->hn + n)
            cap *= 2;
        uint64_t *p = realloc(s->h, cap * sizeof *p);
        if (!p)
            return ND_ERR_NOMEM;
        s->h = p;
        s->hcap = cap;
    }
    if (n) /* an empty set may be a null pointer */
        memcpy(s->h + s->hn, h, n * sizeof *h);
    if (figs)
        memcpy(s->figs + s->n * ND__FIGS, figs, ND__FIGS * sizeof *figs);
    s->nfigs[s->n] = figs ? nfigs : 0;
    s->ord[s->n] = o;
    s->off[s->n] = s->hn;
    s->len[s->n] = (uint32_t)n;
    s->hn += n;
    s->n++;
    if (s->n > ND__HELD_MAX)
        thin(s);
    return ND_OK;
}

/* One-permutation MinHash of h[0..n): BINS minima, UINT64_MAX if empty. */
static void sign(const uint64_t *h, size_t n, uint64_t seed, uint64_t *sig)
{
    for (unsigned i = 0; i < BINS; i++)
        sig[i] = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        uint64_t m = nd__fmix64(h[i] ^ seed);
        unsigned bin = (unsigned)(m >> 58);
        if (m < sig[bin])
            sig[bin] = m;
    }
}

/* Equal bins over bins filled in either: a coarse estimate of Jaccard. */
static double alike_sigs(const uint64_t *a, const uint64_t *b)
{
    unsigned eq = 0, used = 0;
    for (unsigned i = 0; i < BINS; i++) {
        int fa = a[i] != UINT64_MAX, fb = b[i] != UINT64_MAX;
        used += fa | fb;
        eq += fa && a[i] == b[i];
    }
    return used ? (double)eq / used : 0.0;
}

/*
 * Group the held documents, taken in ordinal order (document i of the
 * grouping is order[i]), into copies: u's sets.  64-bin signatures in
 * bands of two bins give the candidates, each pair judged once however
 * many bands it shares (sorted, so in one order); a pair joins when the estimate
 * is near the bar (standard error about 0.06 at 64 bins: it spares the
 * exact score to pairs far below), the exact Jaccard clears it, and the
 * figures do not tell the two apart.  The held sets are sorted on the way.
 */
static int group_copies(nd__held *s, const uint32_t *order, double alike,
                        double min_share, uint64_t seed, unsigned threads,
                        nd__uf *u)
{
    const size_t n = s->n;
    uint64_t *sigs = malloc(n * BINS * sizeof *sigs);
    nd__kv *kv = malloc(2 * n * sizeof *kv);
    if (!sigs || !kv) {
        free(sigs);
        free(kv);
        return ND_ERR_NOMEM;
    }
    const uint64_t gseed = nd__fmix64(seed ^ UINT64_C(0x6368726f6d65)); /* "chrome" */
    int nomem = 0;
    (void)threads; /* read only by the OpenMP pragmas */
    /* Each document's signature and sorted set are its own: in parallel. */
#pragma omp parallel num_threads(threads) if (threads > 1 && n >= PARALLEL_MIN)
    {
        uint64_t *tmp = malloc((2 * ND__HELD_SHINGLES + 1) * sizeof *tmp);
        if (!tmp) {
#pragma omp atomic write
            nomem = 1;
        }
#pragma omp for schedule(dynamic, 16)
        for (size_t i = 0; i < n; i++) {
            uint32_t d = order[i];
            if (!tmp)
                continue;
            sign(s->h + s->off[d], s->len[d], gseed, sigs + i * BINS);
            nd__sort_u64_spread(s->h + s->off[d], tmp, s->len[d]);
        }
        free(tmp);
    }
    if (nomem) {
        free(sigs);
        free(kv);
        return ND_ERR_NOMEM;
    }
    /* The candidate pairs of every band, each once. */
    size_t np = 0, cap = 0;
    uint64_t *pairs = NULL;
    for (unsigned band = 0; band < BINS / BAND_ROWS; band++) {
        for (size_t i = 0; i < n; i++) {
            const uint64_t *v = sigs + i * BINS + band * BAND_ROWS;
            kv[i].key = v[0] == UINT64_MAX ? UINT64_MAX : nd__fmix64(v[0] ^ nd__fmix64(v[1] + band));
            kv[i].doc = (uint32_t)i;
        }
        nd__sort_kv(kv, kv + n, n);
        for (size_t i = 0; i < n;) {
            size_t j = i + 1;
            while (j < n && kv[j].key == kv[i].key)
                j++;
            for (size_t x = i; x < j && kv[i].key != UINT64_MAX; x++)
                for (size_t y = x + 1; y < j && y <= x + 64; y++) {
                    if (np == cap) {
                        size_t c = cap ? 2 * cap : 4096;
                        uint64_t *p = realloc(pairs, 2 * c * sizeof *p);
                        if (!p) {
                            free(pairs);
                            free(sigs);
                            free(kv);
                            return ND_ERR_NOMEM;
                        }
                        pairs = p;
                        cap = c;
                    }
                    pairs[np++] = (uint64_t)kv[x].doc << 32 | kv[y].doc;
                }
            i = j;
        }
        /* Folded as they come, so the list stays near the distinct pairs. */
        if (np > cap / 2) {
            nd__sort_u64(pairs, pairs + cap, np);
            np = nd__unique_u64(pairs, np);
        }
    }
    if (np) {
        nd__sort_u64(pairs, pairs + cap, np);
        np = nd__unique_u64(pairs, np);
    }
    for (size_t i = 0; i < np; i++) {
        uint32_t a = (uint32_t)(pairs[i] >> 32), b = (uint32_t)pairs[i];
        uint32_t da = order[a], db = order[b];
        double jac, cont;
        if (nd__uf_find(u, a) == nd__uf_find(u, b) ||
            alike_sigs(sigs + (size_t)a * BINS, sigs + (size_t)b * BINS) < alike - 0.2)
            continue;
        nd_exact_scores(s->h + s->off[da], s->len[da], s->h + s->off[db], s->len[db],
                        &jac, &cont);
        if (jac >= alike &&
            !nd__figs_differ(s->figs + (size_t)da * ND__FIGS, s->nfigs[da],
                             s->figs + (size_t)db * ND__FIGS, s->nfigs[db], min_share))
            nd__uf_union(u, a, b);
    }
    free(pairs);
    free(sigs);
    free(kv);
    return ND_OK;
}

/*
 * Count every frequent shingle the held documents carry once per group:
 * (counter << GROUP_BITS | group) for each carrier, sorted.  A count is a
 * counter's, so counters are what is judged (a rare collision of two
 * frequent shingles judges them together), and the keys sort in few
 * passes.  Which counters are frequent is read once into a bitmap (128 KB
 * for 2^20 counters, in cache), not looked up twice a held shingle in the
 * counters themselves (random reads of 4 MB).
 */
static int count_groups(nd__df *df, const nd__held *s, const uint32_t *order,
                        nd__uf *u, uint32_t cutoff, unsigned threads, uint64_t *lowered)
{
    const size_t n = s->n;
    const unsigned bits = df->bits;
    const uint64_t mask = ((uint64_t)1 << bits) - 1;
    const size_t words = ((size_t)mask >> 6) + 1;
    /* A key's part: the top bits of its counter (all in part 0 when the
       counters are fewer than the parts). */
    const unsigned shift = bits > PART_BITS ? bits - PART_BITS : 0;
    const int parallel = threads > 1 && n >= PARALLEL_MIN;
    (void)parallel; /* read only by the OpenMP pragmas */
    uint64_t *often = malloc(words * sizeof *often);
    uint64_t *g = malloc((n ? n : 1) * sizeof *g);
    /* at[i * PARTS + p]: where document i's keys of part p go. */
    size_t *at = malloc((n ? n : 1) * PARTS * sizeof *at);
    if (!often || !g || !at) {
        free(often);
        free(g);
        free(at);
        return ND_ERR_NOMEM;
    }
    nd__df_above(df, cutoff, often);
    for (size_t i = 0; i < n; i++)
        g[i] = nd__uf_find(u, (uint32_t)i);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16) if (parallel)
    for (size_t i = 0; i < n; i++) {
        const uint64_t *h = s->h + s->off[order[i]];
        const uint32_t len = s->len[order[i]];
        size_t c[PARTS] = {0};
        for (uint32_t t = 0; t < len; t++) {
            const uint64_t k = h[t] & mask;
            c[k >> shift] += often[k >> 6] >> (k & 63) & 1;
        }
        memcpy(at + i * PARTS, c, sizeof c);
    }
    /* The parts one after the other, each document's keys in order. */
    size_t start[PARTS + 1], m = 0;
    for (unsigned p = 0; p < PARTS; p++) {
        start[p] = m;
        for (size_t i = 0; i < n; i++) {
            const size_t c = at[i * PARTS + p];
            at[i * PARTS + p] = m;
            m += c;
        }
    }
    start[PARTS] = m;
    uint64_t *fk = malloc((2 * m + 1) * sizeof *fk);
    if (!fk) {
        free(often);
        free(g);
        free(at);
        return ND_ERR_NOMEM;
    }
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16) if (parallel)
    for (size_t i = 0; i < n; i++) {
        const uint64_t *h = s->h + s->off[order[i]];
        const uint32_t len = s->len[order[i]];
        size_t *w = at + i * PARTS;
        for (uint32_t t = 0; t < len; t++) {
            const uint64_t k = h[t] & mask;
            if (often[k >> 6] >> (k & 63) & 1)
                fk[w[k >> shift]++] = k << GROUP_BITS | g[i];
        }
    }
    free(often);
    free(g);
    free(at);
    /* A part holds every key of its counters: sorted and judged alone. */
    uint64_t low = 0;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (parallel) \
    reduction(+ : low)
    for (unsigned p = 0; p < PARTS; p++) {
        uint64_t *v = fk + start[p];
        const size_t pm = start[p + 1] - start[p];
        nd__sort_u64(v, fk + m + start[p], pm);
        for (size_t i = 0; i < pm;) {
            const uint64_t counter = v[i] >> GROUP_BITS;
            size_t j = i + 1, groups = 1;
            for (; j < pm && v[j] >> GROUP_BITS == counter; j++)
                groups += v[j] != v[j - 1];
            size_t carriers = j - i;
            if (carriers >= HELD_MIN && groups < carriers) {
                atomic_uint *c = &df->cnt[counter];
                uint32_t was = atomic_load_explicit(c, memory_order_relaxed);
                uint32_t now = (uint32_t)(((uint64_t)was * groups + carriers - 1) / carriers);
                if (now < was) {
                    atomic_store_explicit(c, now, memory_order_relaxed);
                    low += was > cutoff && now <= cutoff;
                }
            }
            i = j;
        }
    }
    *lowered += low;
    free(fk);
    return ND_OK;
}

int nd__chrome_sort_out(nd__df *df, nd__held *s, uint32_t cutoff, double alike,
                        double min_share, uint64_t seed, unsigned threads,
                        uint64_t *lowered)
{
    *lowered = 0;
    const size_t n = s->n;
    if (n < 2)
        return ND_OK;
    uint32_t *order = malloc(n * sizeof *order);
    nd__kv *kv = malloc(2 * n * sizeof *kv);
    nd__uf u = {0};
    int rc = order && kv ? nd__uf_init(&u, n) : ND_ERR_NOMEM;
    if (rc == ND_OK) {
        /* The held documents in ordinal order, whatever order the
           counting threads held them in. */
        for (size_t i = 0; i < n; i++)
            kv[i] = (nd__kv){s->ord[i], (uint32_t)i};
        nd__sort_kv(kv, kv + n, n);
        for (size_t i = 0; i < n; i++)
            order[i] = kv[i].doc;
        rc = group_copies(s, order, alike, min_share, seed, threads, &u);
    }
    free(kv);
    if (rc == ND_OK)
        rc = count_groups(df, s, order, &u, cutoff, threads, lowered);
    nd__uf_free(&u);
    free(order);
    return rc;
}
