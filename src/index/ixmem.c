/*
 * ixmem.c - the documents of an index in memory.
 *
 * Per document (a slot): signature, set size, time, id, a dead mark and one
 * chain link per LSH band.  Each band has an open-addressing table from a
 * 32-bit tag of the band's hash (XXH3 of its r signature values, seeded by
 * the band number) to the newest slot of that bucket; older slots of the
 * bucket follow through next[slot * bands + band].  Two band hashes that
 * share a tag merge their buckets: that only adds candidates, which
 * verification then rejects, and it keeps a table entry at 8 bytes.
 *
 * After the main bands come the containment bands (when the parameters
 * match by containment too): more bands of fewer rows over the first
 * values of the signature, seeded apart from the main ones.  A short copy
 * contained in a long text has a Jaccard near its share of it, below the
 * main bands' reach; these bands reach it, and a document one of them
 * proposes is a candidate only when one of the two sets is at most half
 * the other (the rule of the batch's containment bands, candidates.c):
 * texts of like sizes are the main bands' work, and without the rule
 * their low-row buckets would propose every look-alike.
 *
 * Ids are copied into an arena of blocks that never move, so the id
 * pointers handed out with matches stay valid while their document lives:
 * a block is freed when the last live id in it goes (news arrives and is
 * evicted in time order, so blocks die whole).  Removal only marks a slot
 * dead; a rebuild (when most slots are dead) packs live slots into fresh
 * arrays and tables that share the same arena.  Nothing here locks: ixapi.c
 * decides who may run what.
 *
 * Document frequencies (boilerplate suppression) are a one-row count sketch
 * (dfcount.c) over a sample of the documents, chosen by a hash of the id:
 * every document while fewer than ND__IX_DF_SAMPLE are counted, then one in
 * two, one in four ... as in batch.c's first pass: boilerplate is frequent
 * by definition, so a sample finds it.  The sample is nested (a document
 * sampled at rate 2^(r+1) is sampled at 2^r), so halving it only removes
 * documents, and each sampled document keeps the sorted list of the counters
 * it incremented, so removal, eviction and halving subtract exactly what was
 * added: the counters are always the sketch of the sampled documents held.
 * A list costs about 2 bytes per shingle (LEB128 gaps between counter
 * indices of 20 bits); at most ND__IX_DF_SAMPLE of them live, so for a
 * large index the cost per document falls with its size.  The sample never
 * grows back when the index shrinks: the texts of unsampled documents are
 * gone.
 */
#include <assert.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "../core/sort.h"
#include "ixint.h"

#define ND__IX_BLOCK 65536u

static void *grow(void *p, size_t n, size_t size)
{
    if (n && size > SIZE_MAX / n)
        return NULL;
    return realloc(p, n * size);
}

int nd__ixmem_init(nd__ixmem *m, unsigned k, unsigned nbands, unsigned rows,
                   unsigned cbands, unsigned crows, int with_figs,
                   nd__ixdf *df)
{
    memset(m, 0, sizeof *m);
    m->with_figs = with_figs;
    m->df = df;
    m->k = k;
    m->nmain = nbands;
    if (!crows || (size_t)cbands * crows > k)
        cbands = crows = 0;
    m->crows = crows;
    nbands += cbands;
    m->nbands = nbands;
    m->rows = rows;
    m->band = calloc(nbands, sizeof *m->band);
    if (!m->band)
        return ND_ERR_NOMEM;
    return ND_OK;
}

void nd__ixmem_free(nd__ixmem *m)
{
    free(m->sig);
    free(m->setsz);
    free(m->time);
    free(m->id);
    free(m->idlen);
    free(m->idblk);
    free(m->dead);
    free(m->figs);
    free(m->nfigs);
    if (m->dfl)
        for (size_t s = 0; s < m->n; s++)
            free(m->dfl[s]);
    free(m->dfl);
    free(m->next);
    if (m->band)
        for (unsigned b = 0; b < m->nbands; b++)
            free(m->band[b].e);
    free(m->band);
    free(m->idt);
    for (size_t i = 0; i < m->nblk; i++)
        free(m->blk[i].p);
    free(m->blk);
    memset(m, 0, sizeof *m);
}

void nd__ixmem_release_packed(nd__ixmem *m)
{
    /* The id blocks and counter lists now belong to the packed copy; their
       tables do not. */
    free(m->blk);
    m->blk = NULL;
    m->nblk = 0;
    free(m->dfl);
    m->dfl = NULL;
    nd__ixmem_free(m);
}

size_t nd__ixmem_bytes(const nd__ixmem *m)
{
    size_t per = (size_t)m->k * 4 + 8 + 8 + sizeof(char *) + 4 + 4 + 1 +
                 (size_t)m->nbands * 4 + (m->with_figs ? ND__FIGS * 4 + 1 : 0) +
                 (m->df ? sizeof(uint8_t *) : 0);
    size_t b = m->cap * per + (m->idmask ? (m->idmask + 1) * 4 : 0);
    for (unsigned i = 0; i < m->nbands; i++)
        b += m->band[i].e ? (m->band[i].mask + 1) * 8 : 0;
    for (size_t i = 0; i < m->nblk; i++)
        b += m->blk[i].p ? ND__IX_BLOCK : 0;
    if (m->df) {
        b += ((size_t)1 << ND__IX_DF_BITS) * sizeof(unsigned);
        for (size_t s = 0; s < m->n; s++)
            b += nd__ixdf_list_bytes(m->dfl[s]);
    }
    return b;
}

static uint64_t id_hash(const char *id, size_t len)
{
    return XXH3_64bits(id, len);
}

/* Band b: a main band, or containment band b - nmain (its own seeds). */
static uint32_t band_tag(const nd__ixmem *m, const uint32_t *sig, unsigned b)
{
    if (b < m->nmain)
        return (uint32_t)(XXH3_64bits_withSeed(sig + (size_t)b * m->rows,
                                               (size_t)m->rows * 4, b) >> 32);
    return (uint32_t)(XXH3_64bits_withSeed(
                          sig + (size_t)(b - m->nmain) * m->crows,
                          (size_t)m->crows * 4, b) >> 32);
}

/* A containment band proposes x only when one set is at most half the
   other. */
static int uneven(uint64_t a, uint64_t b)
{
    return a < b ? 2 * a <= b : 2 * b <= a;
}

uint32_t nd__ixmem_find(const nd__ixmem *m, const char *id, size_t len)
{
    if (!m->idt)
        return ND__IX_NONE;
    for (size_t i = (size_t)id_hash(id, len) & m->idmask;;
         i = (i + 1) & m->idmask) {
        uint32_t s = m->idt[i];
        if (s == ND__IX_NONE)
            return ND__IX_NONE;
        if (m->idlen[s] == len && memcmp(m->id[s], id, len) == 0)
            return s;
    }
}

static void idt_put(uint32_t *t, size_t mask, const nd__ixmem *m, uint32_t s)
{
    size_t i = (size_t)id_hash(m->id[s], m->idlen[s]) & mask;
    while (t[i] != ND__IX_NONE)
        i = (i + 1) & mask;
    t[i] = s;
}

static void band_put(nd__ixband *bt, uint32_t tag, uint32_t *link,
                     uint32_t slot)
{
    size_t i = tag & bt->mask;
    for (;; i = (i + 1) & bt->mask) {
        uint64_t e = bt->e[i];
        if ((uint32_t)e == ND__IX_NONE) {
            *link = ND__IX_NONE;
            bt->e[i] = (uint64_t)tag << 32 | slot;
            bt->used++;
            return;
        }
        if ((uint32_t)(e >> 32) == tag) {
            *link = (uint32_t)e;
            bt->e[i] = (uint64_t)tag << 32 | slot;
            return;
        }
    }
}

static int band_grow(nd__ixband *bt)
{
    size_t cap = bt->e ? (bt->mask + 1) * 2 : 64;
    uint64_t *e = grow(NULL, cap, sizeof *e);
    if (!e)
        return ND_ERR_NOMEM;
    memset(e, 0xff, cap * sizeof *e);
    size_t mask = cap - 1;
    if (bt->e)
        for (size_t i = 0; i <= bt->mask; i++) {
            uint64_t x = bt->e[i];
            if ((uint32_t)x == ND__IX_NONE)
                continue;
            size_t j = (size_t)(x >> 32) & mask;
            while ((uint32_t)e[j] != ND__IX_NONE)
                j = (j + 1) & mask;
            e[j] = x;
        }
    free(bt->e);
    bt->e = e;
    bt->mask = mask;
    return ND_OK;
}

/* Slot arrays to cap entries; next keeps its band-major layout. */
static int slots_grow(nd__ixmem *m, size_t cap)
{
    void *p;
    if (cap >= ND__IX_NONE)
        return ND_ERR_NOMEM;
    if (!m->loading) {
        uint32_t *nx = grow(NULL, cap, (size_t)m->nbands * 4);
        if (!nx)
            return ND_ERR_NOMEM;
        if (m->next)
            for (unsigned b = 0; b < m->nbands; b++)
                memcpy(nx + (size_t)b * cap, m->next + (size_t)b * m->cap,
                       m->n * 4);
        free(m->next);
        m->next = nx;
    }
    if (!(p = grow(m->sig, cap, (size_t)m->k * 4)))
        return ND_ERR_NOMEM;
    m->sig = p;
    if (!(p = grow(m->setsz, cap, sizeof *m->setsz)))
        return ND_ERR_NOMEM;
    m->setsz = p;
    if (!(p = grow(m->time, cap, sizeof *m->time)))
        return ND_ERR_NOMEM;
    m->time = p;
    if (!(p = grow(m->id, cap, sizeof *m->id)))
        return ND_ERR_NOMEM;
    m->id = p;
    if (!(p = grow(m->idlen, cap, sizeof *m->idlen)))
        return ND_ERR_NOMEM;
    m->idlen = p;
    if (!(p = grow(m->idblk, cap, sizeof *m->idblk)))
        return ND_ERR_NOMEM;
    m->idblk = p;
    if (!(p = grow(m->dead, cap, 1)))
        return ND_ERR_NOMEM;
    m->dead = p;
    if (m->with_figs) {
        if (!(p = grow(m->figs, cap, ND__FIGS * 4)))
            return ND_ERR_NOMEM;
        m->figs = p;
        if (!(p = grow(m->nfigs, cap, 1)))
            return ND_ERR_NOMEM;
        m->nfigs = p;
    }
    if (m->df) {
        if (!(p = grow(m->dfl, cap, sizeof *m->dfl)))
            return ND_ERR_NOMEM;
        m->dfl = p;
    }
    m->cap = cap;
    return ND_OK;
}

/* The id table to at least cap entries (a power of two), rehashed. */
static int idt_grow(nd__ixmem *m, size_t cap)
{
    uint32_t *t = grow(NULL, cap, 4);
    if (!t)
        return ND_ERR_NOMEM;
    memset(t, 0xff, cap * 4);
    if (m->idt)
        for (size_t i = 0; i <= m->idmask; i++)
            if (m->idt[i] != ND__IX_NONE)
                idt_put(t, cap - 1, m, m->idt[i]);
    free(m->idt);
    m->idt = t;
    m->idmask = cap - 1;
    return ND_OK;
}

int nd__ixmem_reserve(nd__ixmem *m, size_t id_len)
{
    int rc;
    if (m->n == m->cap &&
        (rc = slots_grow(m, m->cap ? m->cap + m->cap / 2 : 256)))
        return rc;
    if ((!m->idt || (m->idused + 1) * 2 > m->idmask + 1) &&
        (rc = idt_grow(m, m->idt ? (m->idmask + 1) * 2 : 256)))
        return rc;
    for (unsigned b = 0; !m->loading && b < m->nbands; b++) {
        nd__ixband *bt = &m->band[b];
        if (!bt->e || (bt->used + 1) * 2 > bt->mask + 1) {
            rc = band_grow(bt);
            if (rc)
                return rc;
        }
    }
    if (id_len && (!m->nblk || !m->blk[m->nblk - 1].p ||
                   m->blksize - m->blkused < id_len)) {
        if (m->nblk == m->blkcap) {
            size_t c = m->blkcap ? m->blkcap * 2 : 16;
            nd__ixblk *p = grow(m->blk, c, sizeof *p);
            if (!p)
                return ND_ERR_NOMEM;
            m->blk = p;
            m->blkcap = c;
        }
        size_t sz = id_len > ND__IX_BLOCK ? id_len : ND__IX_BLOCK;
        char *blk = malloc(sz);
        if (!blk)
            return ND_ERR_NOMEM;
        if (m->nblk && m->blk[m->nblk - 1].p && !m->blk[m->nblk - 1].live) {
            free(m->blk[m->nblk - 1].p); /* emptied while current */
            m->blk[m->nblk - 1].p = NULL;
        }
        m->blk[m->nblk++] = (nd__ixblk){blk, 0};
        m->blksize = sz;
        m->blkused = 0;
    }
    return ND_OK;
}

/* The id is at id (in block blk) already, or copied when blk is NONE.
 * dfl is stored as given: counting it is the caller's business. */
static void insert(nd__ixmem *m, const char *id, size_t id_len, uint32_t blk,
                   const uint32_t *sig, uint64_t setsz, int64_t time,
                   const uint32_t *figs, uint32_t nfigs, uint8_t *dfl)
{
    uint32_t s = (uint32_t)m->n++;
    if (blk == ND__IX_NONE) {
        blk = (uint32_t)(m->nblk - 1);
        char *dst = m->blk[blk].p + m->blkused;
        memcpy(dst, id, id_len);
        m->blkused += id_len;
        id = dst;
    }
    m->blk[blk].live++;
    m->idblk[s] = blk;
    m->id[s] = id;
    m->idlen[s] = (uint32_t)id_len;
    memcpy(m->sig + (size_t)s * m->k, sig, (size_t)m->k * 4);
    m->setsz[s] = setsz;
    m->time[s] = time;
    m->dead[s] = 0;
    if (m->with_figs) {
        uint32_t *f = m->figs + (size_t)s * ND__FIGS;
        if (figs && nfigs)
            memcpy(f, figs, ND__FIGS * 4);
        else
            memset(f, 0xff, ND__FIGS * 4);
        m->nfigs[s] = (uint8_t)(nfigs > 255 ? 255 : nfigs);
        m->var_bytes += 4 * (uint64_t)nd__ixfigs_kept(m->nfigs[s]);
    }
    if (m->df) {
        m->dfl[s] = dfl;
        m->var_bytes += dfl ? nd__ixdf_list_bytes(dfl) - 4 : 0;
    }
    idt_put(m->idt, m->idmask, m, s);
    m->idused++;
    m->live++;
    m->id_bytes += id_len;
    for (unsigned b = 0; !m->loading && b < m->nbands; b++) {
        uint32_t *link = &m->next[(size_t)b * m->cap + s];
        if (setsz == 0)
            *link = ND__IX_NONE;
        else
            band_put(&m->band[b], band_tag(m, sig, b), link, s);
    }
}

/* ------------------------------------------------------------ frequencies */

static uint64_t sample_hash(const char *id, size_t len)
{
    return XXH3_64bits_withSeed(id, len, 0x6466736d706c6521ull);
}

int nd__ixdf_sampled(const nd__ixdf *df, const char *id, size_t len)
{
    uint64_t mask = ((uint64_t)1 << df->rate_log) - 1;
    return (sample_hash(id, len) & mask) == 0;
}

int nd__ixdf_init(nd__ixdf *df)
{
    df->rate_log = 0;
    df->sampled = 0;
    return nd__df_init(&df->cnt, ND__IX_DF_BITS);
}

void nd__ixdf_free(nd__ixdf *df)
{
    nd__df_free(&df->cnt);
}

size_t nd__ixdf_list_bytes(const uint8_t *l)
{
    if (!l)
        return 0;
    return 4 + ((size_t)l[0] | (size_t)l[1] << 8 | (size_t)l[2] << 16 |
                (size_t)l[3] << 24);
}

/* Call f(df, counter) for each counter of list l. */
static void list_apply(nd__df *d, const uint8_t *l,
                       void (*f)(nd__df *, const uint64_t *, size_t))
{
    size_t len = nd__ixdf_list_bytes(l) - 4;
    const uint8_t *p = l + 4, *end = p + len;
    uint64_t at = 0;
    int first = 1;
    while (p < end) {
        uint64_t v = 0;
        unsigned sh = 0;
        do
            v |= (uint64_t)(*p & 0x7f) << sh, sh += 7;
        while (*p++ & 0x80);
        at = first ? v : at + v;
        first = 0;
        f(d, &at, 1);
    }
}

int nd__ixdf_list_check(const uint8_t *l, size_t len)
{
    const uint8_t *p = l, *end = l + len;
    uint64_t at = 0;
    int first = 1;
    while (p < end) {
        uint64_t v = 0;
        unsigned sh = 0;
        for (;;) {
            if (p == end || sh > 21)
                return ND_ERR_CORRUPT;
            v |= (uint64_t)(*p & 0x7f) << sh;
            sh += 7;
            if (!(*p++ & 0x80))
                break;
        }
        if (!first && v == 0)
            return ND_ERR_CORRUPT;
        at = first ? v : at + v;
        first = 0;
        if (at >= ((uint64_t)1 << ND__IX_DF_BITS))
            return ND_ERR_CORRUPT;
    }
    return ND_OK;
}

int nd__ixdf_list(nd__ixscratch *s, const uint64_t *h, size_t n)
{
    if (s->tmp_cap < 2 * n) {
        uint32_t *t = grow(s->tmp, 2 * n, sizeof *t);
        if (!t)
            return ND_ERR_NOMEM;
        s->tmp = t;
        s->tmp_cap = 2 * n;
    }
    /* LSD radix sort of the counter indices, two digits of 10 bits; the
       digits of the first pass come straight from the hashes */
    enum { DIG = ND__IX_DF_BITS / 2, NB = 1 << DIG };
    _Static_assert(ND__IX_DF_BITS == 2 * DIG, "two digits");
    size_t cnt[NB + 1];
    uint32_t *out = s->tmp + n;
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++)
        cnt[(h[i] & (NB - 1)) + 1]++;
    for (size_t d = 1; d <= NB; d++)
        cnt[d] += cnt[d - 1];
    for (size_t i = 0; i < n; i++)
        out[cnt[h[i] & (NB - 1)]++] =
            (uint32_t)(h[i] & (((uint64_t)1 << ND__IX_DF_BITS) - 1));
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++)
        cnt[(out[i] >> DIG) + 1]++;
    for (size_t d = 1; d <= NB; d++)
        cnt[d] += cnt[d - 1];
    for (size_t i = 0; i < n; i++)
        s->tmp[cnt[out[i] >> DIG]++] = out[i];
    size_t need = 4 + 3 * n; /* a gap below 2^21 takes at most 3 bytes */
    if (s->dfl_cap < need) {
        uint8_t *d = realloc(s->dfl, need);
        if (!d)
            return ND_ERR_NOMEM;
        s->dfl = d;
        s->dfl_cap = need;
    }
    uint8_t *p = s->dfl + 4;
    for (size_t i = 0; i < n; i++) {
        if (i && s->tmp[i] == s->tmp[i - 1])
            continue;
        uint32_t v = i ? s->tmp[i] - s->tmp[i - 1] : s->tmp[i];
        while (v >= 0x80) {
            *p++ = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        *p++ = (uint8_t)v;
    }
    uint32_t len = (uint32_t)(p - (s->dfl + 4));
    for (int i = 0; i < 4; i++)
        s->dfl[i] = (uint8_t)(len >> (8 * i));
    return ND_OK;
}

/* The next counter of a list at *p (before end), after *at (first: none). */
static uint32_t list_next(const uint8_t **p, uint32_t at, int first)
{
    uint32_t v = 0;
    unsigned sh = 0;
    do
        v |= (uint32_t)(**p & 0x7f) << sh, sh += 7;
    while (*(*p)++ & 0x80);
    return first ? v : at + v;
}

void nd__ixdf_list_minus(nd__ixscratch *s, const uint8_t *l)
{
    const uint8_t *a = s->dfl + 4, *aend = a + nd__ixdf_list_bytes(s->dfl) - 4;
    const uint8_t *b = l + 4, *bend = b + nd__ixdf_list_bytes(l) - 4;
    /* Written in place: a kept counter's gap is the sum of the gaps read
       since the last one kept, never longer than they were together. */
    uint8_t *w = s->dfl + 4;
    uint32_t x = 0, y = 0, last = 0;
    int fa = 1, fw = 1, hb = b < bend;
    if (hb)
        y = list_next(&b, 0, 1);
    while (a < aend) {
        x = list_next(&a, x, fa);
        fa = 0;
        while (hb && y < x) {
            if (b < bend)
                y = list_next(&b, y, 0);
            else
                hb = 0;
        }
        if (hb && y == x)
            continue;
        uint32_t v = fw ? x : x - last;
        last = x;
        fw = 0;
        while (v >= 0x80) {
            *w++ = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        *w++ = (uint8_t)v;
        assert(w <= a);
    }
    uint32_t len = (uint32_t)(w - (s->dfl + 4));
    for (int i = 0; i < 4; i++)
        s->dfl[i] = (uint8_t)(len >> (8 * i));
}

static void uncount(nd__ixmem *m, uint32_t slot)
{
    uint8_t *l = m->dfl[slot];
    if (!l)
        return;
    list_apply(&m->df->cnt, l, nd__df_sub);
    m->var_bytes -= nd__ixdf_list_bytes(l) - 4;
    free(l);
    m->dfl[slot] = NULL;
    m->df->sampled--;
}

/* Halve the sample until it holds at most ND__IX_DF_SAMPLE documents. */
static void thin(nd__ixmem *m)
{
    nd__ixdf *df = m->df;
    while (df->sampled > ND__IX_DF_SAMPLE && df->rate_log < 63) {
        df->rate_log++;
        for (size_t s = 0; s < m->n; s++)
            if (m->dfl[s] && !nd__ixdf_sampled(df, m->id[s], m->idlen[s]))
                uncount(m, (uint32_t)s);
    }
}

uint64_t nd__ixdf_cutoff(const nd__ixmem *m, const nd_params *p, int self)
{
    if (!m->df)
        return 0;
    double docs = (double)(m->df->sampled + (self != 0)) *
                  (double)((uint64_t)1 << m->df->rate_log);
    double cut = p->boilerplate * docs;
    if (cut < p->boilerplate_min)
        cut = p->boilerplate_min;
    return (uint64_t)cut;
}

size_t nd__ixdf_filter(const nd__ixmem *m, const nd_params *p, uint64_t *h,
                       size_t n, int self)
{
    if (!m->df)
        return n;
    /* in sampled documents, as batch.c's start_filtering */
    double cut = (double)nd__ixdf_cutoff(m, p, self) /
                 (double)((uint64_t)1 << m->df->rate_log);
    uint64_t c = cut > (double)UINT32_MAX ? UINT32_MAX : (uint64_t)cut;
    const nd__df *d = &m->df->cnt;
    size_t w = 0;
    enum { AHEAD = 16 };
    for (size_t i = 0; i < n && i < AHEAD; i++)
        nd__df_prefetch(d, h[i]);
    for (size_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            nd__df_prefetch(d, h[i + AHEAD]);
        if ((uint64_t)nd__df_get(d, h[i]) + (self != 0) <= c) {
            uint64_t x = h[w];
            h[w++] = h[i];
            h[i] = x;
        }
    }
    return w;
}

unsigned nd__ixfigs_kept(uint32_t nfigs)
{
    return nfigs >= ND__FIGS_MIN && nfigs <= ND__FIGS ? nfigs : 0;
}

void nd__ixmem_insert(nd__ixmem *m, const char *id, size_t id_len,
                      const uint32_t *sig, uint64_t setsz, int64_t time,
                      const uint32_t *figs, uint32_t nfigs, uint8_t *dfl)
{
    if (!m->df) {
        free(dfl);
        dfl = NULL;
    }
    insert(m, id, id_len, ND__IX_NONE, sig, setsz, time, figs, nfigs, dfl);
    if (dfl) {
        list_apply(&m->df->cnt, dfl, nd__df_add);
        m->df->sampled++;
        thin(m);
    }
}

/* Linear-probing deletion by backward shift: no tombstones in the table. */
void nd__ixmem_kill(nd__ixmem *m, uint32_t slot)
{
    size_t i = (size_t)id_hash(m->id[slot], m->idlen[slot]) & m->idmask;
    while (m->idt[i] != slot)
        i = (i + 1) & m->idmask;
    for (size_t j = (i + 1) & m->idmask;; j = (j + 1) & m->idmask) {
        uint32_t s = m->idt[j];
        if (s == ND__IX_NONE)
            break;
        size_t home = (size_t)id_hash(m->id[s], m->idlen[s]) & m->idmask;
        /* s may move to i when its home is not in (i, j] cyclically */
        if (((j - home) & m->idmask) >= ((j - i) & m->idmask)) {
            m->idt[i] = s;
            i = j;
        }
    }
    m->idt[i] = ND__IX_NONE;
    m->idused--;
    m->dead[slot] = 1;
    m->live--;
    if (m->with_figs)
        m->var_bytes -= 4 * (uint64_t)nd__ixfigs_kept(m->nfigs[slot]);
    if (m->df)
        uncount(m, slot);
    m->id_bytes -= m->idlen[slot];
    nd__ixblk *b = &m->blk[m->idblk[slot]];
    if (--b->live == 0 && m->idblk[slot] != m->nblk - 1) {
        free(b->p);
        b->p = NULL;
    }
}

int nd__ixmem_rebuild(const nd__ixmem *m, nd__ixmem *out)
{
    int rc = nd__ixmem_init(out, m->k, m->nmain, m->rows, m->nbands - m->nmain,
                            m->crows, m->with_figs, m->df);
    if (rc)
        return rc;
    /* a private copy of the block table, live counts from zero */
    out->blk = grow(NULL, m->blkcap, sizeof *out->blk);
    if (!out->blk) {
        nd__ixmem_free(out);
        return ND_ERR_NOMEM;
    }
    for (size_t i = 0; i < m->nblk; i++)
        out->blk[i] = (nd__ixblk){m->blk[i].p, 0};
    out->nblk = m->nblk;
    out->blkcap = m->blkcap;
    out->blksize = m->blksize;
    out->blkused = m->blkused;
    rc = nd__ixmem_load_begin(out, m->live);
    for (size_t s = 0; rc == ND_OK && s < m->n; s++) {
        if (m->dead[s])
            continue;
        rc = nd__ixmem_reserve(out, 0);
        if (rc == ND_OK)
            insert(out, m->id[s], m->idlen[s], m->idblk[s],
                   m->sig + s * m->k, m->setsz[s], m->time[s],
                   m->with_figs ? m->figs + s * ND__FIGS : NULL,
                   m->with_figs ? m->nfigs[s] : 0, m->df ? m->dfl[s] : NULL);
    }
    if (rc == ND_OK)
        rc = nd__ixmem_load_end(out);
    if (rc)
        nd__ixmem_release_packed(out);
    return rc;
}

/* ------------------------------------------------------------ bulk load */

int nd__ixmem_load_begin(nd__ixmem *m, size_t n)
{
    assert(m->n == 0 && !m->next);
    m->loading = 1;
    size_t t = 256;
    while (t < 2 * (n + 1))
        t *= 2;
    int rc = slots_grow(m, n > 256 ? n : 256);
    if (rc == ND_OK)
        rc = idt_grow(m, t);
    return rc;
}

static uint32_t rotr32(uint32_t x, unsigned r)
{
    return r ? (x >> r) | (x << (32 - r)) : x;
}

/*
 * Build band b's table in one pass, at its final size.  Every live slot
 * with a non-empty set gives (tag rotated right by the table's bit count,
 * slot): sorting those (stable radix sort, slots already ascending) orders
 * them by home position, then tag, then slot.  A run of equal tags is one
 * bucket: its slots chain newest to oldest, as inserts in slot order would
 * leave them.  Buckets are then laid out left to right, each at its home
 * or just after the previous one -- a valid linear-probing table, since
 * every position from a home to its entry is occupied -- and those pushed
 * past the end wrap to the front by ordinary probing afterwards.  Memory
 * is touched in order except the link column, which is 4 bytes per slot.
 */
static int band_build(nd__ixmem *m, unsigned b, nd__kv *kv, nd__kv *tmp)
{
    nd__ixband *bt = &m->band[b];
    uint32_t *link = m->next + (size_t)b * m->cap;
    size_t cnt = 0, cap = 64;
    for (size_t s = 0; s < m->n; s++) {
        link[s] = ND__IX_NONE;
        if (!m->dead[s] && m->setsz[s])
            kv[cnt++] = (nd__kv){band_tag(m, m->sig + s * m->k, b),
                                 (uint32_t)s};
    }
    while (cap < 2 * (cnt + 1))
        cap *= 2;
    unsigned bits = 0;
    while (((size_t)1 << bits) < cap)
        bits++;
    unsigned rot = bits < 32 ? bits : 0;
    for (size_t i = 0; i < cnt; i++)
        kv[i].key = rotr32((uint32_t)kv[i].key, rot);
    nd__sort_kv(kv, tmp, cnt);
    uint64_t *e = grow(NULL, cap, sizeof *e);
    if (!e)
        return ND_ERR_NOMEM;
    memset(e, 0xff, cap * sizeof *e);
    size_t mask = cap - 1, free_at = 0, nwrap = 0, used = 0;
    for (size_t i = 0, j; i < cnt; i = j) {
        for (j = i + 1; j < cnt && kv[j].key == kv[i].key; j++)
            link[kv[j].doc] = kv[j - 1].doc;
        uint32_t tag = rotr32((uint32_t)kv[i].key, (32 - rot) % 32);
        uint64_t entry = (uint64_t)tag << 32 | kv[j - 1].doc;
        size_t pos = tag & mask;
        if (pos < free_at)
            pos = free_at;
        if (pos > mask) {
            tmp[nwrap++].key = entry;
        } else {
            e[pos] = entry;
            free_at = pos + 1;
        }
        used++;
    }
    for (size_t w = 0; w < nwrap; w++) {
        size_t pos = (size_t)(tmp[w].key >> 32) & mask;
        while ((uint32_t)e[pos] != ND__IX_NONE)
            pos = (pos + 1) & mask;
        e[pos] = tmp[w].key;
    }
    bt->e = e;
    bt->mask = mask;
    bt->used = used;
    return ND_OK;
}

/* Bands are independent: built in parallel, one sort buffer per thread. */
int nd__ixmem_load_end(nd__ixmem *m)
{
    assert(m->loading && !m->next);
    m->next = grow(NULL, m->cap, (size_t)m->nbands * 4);
    if (!m->next)
        return ND_ERR_NOMEM;
    m->loading = 0;
    int rc = ND_OK, threads = m->n >= 16384 ? omp_get_max_threads() : 1;
    if (threads > (int)m->nbands)
        threads = (int)m->nbands;
    size_t sz = (m->n ? m->n : 1) * sizeof(nd__kv);
#pragma omp parallel num_threads(threads)
    {
        nd__kv *kv = malloc(sz), *tmp = malloc(sz);
#pragma omp for schedule(dynamic, 1)
        for (int b = 0; b < (int)m->nbands; b++)
            if (!kv || !tmp || band_build(m, (unsigned)b, kv, tmp) != ND_OK) {
#pragma omp atomic write
                rc = ND_ERR_NOMEM;
            }
        free(kv);
        free(tmp);
    }
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int nd__ixmem_candidates(const nd__ixmem *m, const uint32_t *sig,
                         uint64_t setsz, nd__ixscratch *s)
{
    s->ncand = 0;
    for (unsigned b = 0; b < m->nbands; b++) {
        const nd__ixband *bt = &m->band[b];
        if (!bt->e)
            continue;
        uint32_t tag = band_tag(m, sig, b);
        uint32_t head = ND__IX_NONE;
        for (size_t i = tag & bt->mask;; i = (i + 1) & bt->mask) {
            uint64_t e = bt->e[i];
            if ((uint32_t)e == ND__IX_NONE)
                break;
            if ((uint32_t)(e >> 32) == tag) {
                head = (uint32_t)e;
                break;
            }
        }
        for (uint32_t x = head; x != ND__IX_NONE;
             x = m->next[(size_t)b * m->cap + x]) {
            if (m->dead[x] || (b >= m->nmain && !uneven(setsz, m->setsz[x])))
                continue;
            if (s->ncand == s->ccap) {
                size_t c = s->ccap ? s->ccap * 2 : 64;
                uint32_t *p = grow(s->cand, c, sizeof *p);
                if (!p)
                    return ND_ERR_NOMEM;
                s->cand = p;
                s->ccap = c;
            }
            s->cand[s->ncand++] = x;
        }
    }
    if (s->ncand > 1) {
        qsort(s->cand, s->ncand, sizeof *s->cand, cmp_u32);
        size_t w = 1;
        for (size_t i = 1; i < s->ncand; i++)
            if (s->cand[i] != s->cand[w - 1])
                s->cand[w++] = s->cand[i];
        s->ncand = w;
    }
    return ND_OK;
}

size_t nd__ixmem_evict(nd__ixmem *m, int64_t time)
{
    size_t k = 0;
    for (size_t s = 0; s < m->n; s++)
        if (!m->dead[s] && m->time[s] < time) {
            nd__ixmem_kill(m, (uint32_t)s);
            k++;
        }
    return k;
}
