/*
 * ixapi.c - the public nd_index_* functions.
 *
 * Locking.  One mutex (wmu) serializes writers; a writer-preferring rwlock
 * (rw) guards the in-memory structures.  A writer does everything that can
 * fail or take long -- sketching, checks, growing the log buffer, building
 * a packed copy after many removals, disk I/O -- while holding only wmu, and
 * takes rw for writing just for the in-memory insert or swap.  Readers hold
 * rw for reading while they collect and verify candidates.  A writer
 * holding wmu may read the structures without rw: no one else changes them.
 * A write is logged (with write(2) unless the index is ND_INDEX_BUFFERED)
 * before memory changes, still under wmu alone: a failed log write changes
 * nothing, and a returned ND_OK means the record is in the log.
 * Id pointers handed out stay valid across adds because ids live in arena
 * blocks that never move (ixmem.c).
 *
 * Sketching is the sketcher's pipeline (normalize, shingle, figures,
 * MinHash: equal signatures for equal texts when nothing is suppressed)
 * with the index's own boilerplate filter in the middle.  Each call borrows
 * its scratch from a small pool guarded by poolmu.
 *
 * Boilerplate.  The batch counts document frequencies over the whole
 * collection before it sketches anything; an index meets its documents one
 * at a time and keeps no texts, so it cannot re-sketch a stored document
 * when one of its shingles later turns frequent.  Storing every shingle set
 * to filter at verification time would cost several times the signature.
 * So a text is filtered once, with the frequencies of the moment, when it
 * is sketched -- for a query as for an add -- and a stored signature keeps
 * the filter of its own time.  That is sound for the question asked: two
 * signatures agree at a position only when both texts hold the shingle
 * that is the minimum there, and the query never holds one that is
 * boilerplate now, so a shared footer adds nothing to the estimate of a
 * query against any stored document, however old.  The stored document's
 * own footer shingles still fill some of its positions: they cannot match
 * the filtered query, so they are told apart with the query's unfiltered
 * signature and left out of the estimate (stale_jaccard).  What the index
 * cannot do is look back: until a footer is held by boilerplate_min
 * documents (and by the boilerplate fraction of them), texts that share it
 * are compared with it, as the batch never does.  A shingle that is no
 * longer frequent (its documents evicted) counts again from then on, for
 * new texts.  A text added as a copy of a counted document counts only
 * what that document lacks (count_as_copy), so a story many pages carry
 * is counted about once per group of copies, as in the batch.
 *
 * Figures.  Each document keeps its figure sketch (figures.c); a match
 * whose figures tell the two texts apart (nd__figs_differ) is refused,
 * as in batch.c.  Signatures given by the caller (nd_index_*_sig) come without
 * figures and without shingles: they are never refused for their figures
 * and never counted in the frequencies.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/params.h"
#include "ixint.h"

static nd__ixscratch *scratch_get(nd_index *ix, int need_sketch)
{
    pthread_mutex_lock(&ix->poolmu);
    nd__ixscratch *s = ix->pool;
    if (s)
        ix->pool = s->next;
    pthread_mutex_unlock(&ix->poolmu);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return NULL;
        s->sig = malloc((size_t)ix->p.num_perm * 4);
        s->raw = malloc((size_t)ix->p.num_perm * 4);
        if (!s->sig || !s->raw) {
            free(s->sig);
            free(s->raw);
            free(s);
            return NULL;
        }
    }
    if (need_sketch && !s->ready) {
        if (nd__sketch_init(&s->perm, ix->p.sketch, ix->p.num_perm,
                            ix->p.seed) == ND_OK) {
            s->ready = 1;
            return s;
        }
        pthread_mutex_lock(&ix->poolmu);
        s->next = ix->pool;
        ix->pool = s;
        pthread_mutex_unlock(&ix->poolmu);
        return NULL;
    }
    return s;
}

static void scratch_put(nd_index *ix, nd__ixscratch *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&ix->poolmu);
    s->next = ix->pool;
    ix->pool = s;
    pthread_mutex_unlock(&ix->poolmu);
}

static void scratch_free_all(nd_index *ix)
{
    nd__ixscratch *s = ix->pool;
    while (s) {
        nd__ixscratch *nx = s->next;
        if (s->ready)
            nd__perm_free(&s->perm);
        nd__textbuf_free(&s->tb);
        free(s->dfl);
        free(s->tmp);
        free(s->sig);
        free(s->raw);
        free(s->cand);
        free(s->hits);
        free(s);
        s = nx;
    }
    ix->pool = NULL;
}

static nd_index *ix_alloc(void)
{
    nd_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return NULL;
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&ix->rw, &a);
    pthread_rwlockattr_destroy(&a);
    pthread_mutex_init(&ix->wmu, NULL);
    pthread_mutex_init(&ix->poolmu, NULL);
    atomic_init(&ix->queries, 0);
    atomic_init(&ix->candidates, 0);
    ix->dirfd = ix->walfd = ix->lockfd = -1;
    return ix;
}

static void ix_free(nd_index *ix)
{
    scratch_free_all(ix);
    nd__ixmem_free(&ix->m);
    nd__ixdf_free(&ix->df);
    nd__ixstore_close(ix);
    pthread_rwlock_destroy(&ix->rw);
    pthread_mutex_destroy(&ix->wmu);
    pthread_mutex_destroy(&ix->poolmu);
    free(ix);
}

ND_API int nd_index_create(const nd_params *p, nd_index **out)
{
    *out = NULL;
    if (!p || nd_params_check(p, NULL, 0) != ND_OK)
        return ND_ERR_PARAM;
    nd_index *ix = ix_alloc();
    if (!ix)
        return ND_ERR_NOMEM;
    unsigned b, r, cb, cr;
    nd_params_lsh(p, &b, &r);
    nd__params_lsh_contain(p, r, &cb, &cr);
    ix->p = *p;
    ix->p.bands = b;
    ix->p.rows = r;
    if ((p->boilerplate > 0.0 && nd__ixdf_init(&ix->df) != ND_OK) ||
        nd__ixmem_init(&ix->m, p->num_perm, b, r, cb, cr, p->figures > 0.0,
                       p->boilerplate > 0.0 ? &ix->df : NULL) != ND_OK) {
        ix_free(ix);
        return ND_ERR_NOMEM;
    }
    *out = ix;
    return ND_OK;
}

ND_API int nd_index_open(const char *path, const nd_params *p, int flags,
                  nd_index **out)
{
    *out = NULL;
    nd_index *ix = ix_alloc();
    if (!ix)
        return ND_ERR_NOMEM;
    *out = ix;
    if (!path ||
        (flags & ~(ND_INDEX_READONLY | ND_INDEX_CREATE | ND_INDEX_BUFFERED))) {
        ix->failed = 1;
        return nd__ix_fail(ix, ND_ERR_PARAM, "bad path or flags");
    }
    int rc = nd__ixstore_open(ix, path, p, flags);
    if (rc != ND_OK) {
        /* keep only the message: the handle serves errmsg and close */
        scratch_free_all(ix);
        nd__ixmem_free(&ix->m);
        nd__ixdf_free(&ix->df);
        nd__ixstore_close(ix);
        ix->failed = 1;
    }
    return rc;
}

static int check_writable(nd_index *ix)
{
    if (ix->failed)
        return nd__ix_fail(ix, ND_ERR_STATE, "the index failed to open");
    if (ix->readonly)
        return nd__ix_fail(ix, ND_ERR_STATE, "%s: the index is read-only",
                           ix->dir);
    return ND_OK;
}

/*
 * With wmu held: add one signed document with its figures (may be NULL)
 * and counter list (may be NULL: not counted).
 */
static int add_locked(nd_index *ix, const char *id, size_t id_len,
                      const uint32_t *sig, uint64_t setsz, int64_t time,
                      const uint32_t *figs, uint32_t nfigs,
                      const uint8_t *list)
{
    nd__ixmem *m = &ix->m;
    if (nd__ixmem_find(m, id, id_len) != ND__IX_NONE)
        return nd__ix_fail(ix, ND_ERR_EXISTS, "id \"%.*s\" is already indexed",
                           (int)(id_len > 200 ? 200 : id_len), id);
    uint8_t *dfl = NULL;
    /* the sample may have been halved since the text was sketched */
    if (list && m->df && nd__ixdf_sampled(m->df, id, id_len)) {
        size_t lb = nd__ixdf_list_bytes(list);
        if (!(dfl = malloc(lb)))
            return nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory");
        memcpy(dfl, list, lb);
    }
    if (!figs)
        nfigs = 0;
    size_t payload = 20 + id_len + (size_t)m->k * 4 + 1 +
                     4 * (size_t)nd__ixfigs_kept(nfigs) + 4 +
                     (dfl ? nd__ixdf_list_bytes(dfl) - 4 : 0);
    int rc = nd__ixstore_reserve(ix, payload);
    if (rc) {
        free(dfl);
        return rc;
    }
    pthread_rwlock_wrlock(&ix->rw);
    rc = nd__ixmem_reserve(m, id_len);
    pthread_rwlock_unlock(&ix->rw);
    if (rc) {
        free(dfl);
        return nd__ix_fail(ix, rc, "out of memory");
    }
    /* the log first: memory holds only what the log holds */
    rc = nd__ixstore_log_add(ix, id, id_len, sig, setsz, time, figs, nfigs,
                             dfl);
    if (rc) {
        free(dfl);
        return rc;
    }
    /* dfl belongs to the index now, and lives while the document does */
    pthread_rwlock_wrlock(&ix->rw);
    nd__ixmem_insert(m, id, id_len, sig, setsz, time, figs, nfigs, dfl);
    pthread_rwlock_unlock(&ix->rw);
    return ND_OK;
}

static int check_id(nd_index *ix, const char *id, size_t id_len)
{
    if (!id || id_len == 0 || id_len > ND_INDEX_MAX_ID)
        return nd__ix_fail(ix, ND_ERR_PARAM,
                           "an id is 1 to %u bytes", ND_INDEX_MAX_ID);
    return ND_OK;
}

ND_API int nd_index_add_sig(nd_index *ix, const char *id, size_t id_len,
                     const uint32_t *sig, uint64_t set_size, int64_t time)
{
    pthread_mutex_lock(&ix->wmu);
    int rc = check_writable(ix);
    if (rc == ND_OK)
        rc = check_id(ix, id, id_len);
    if (rc == ND_OK)
        rc = add_locked(ix, id, id_len, sig, set_size, time, NULL, 0, NULL);
    pthread_mutex_unlock(&ix->wmu);
    return rc;
}

/*
 * Sketch text into a borrowed scratch *sp: signature and set size without
 * the boilerplate of the moment, figures, and -- for an add (id given) of
 * a document in the frequency sample -- its counter list (listed).
 */
/*
 * The Jaccard of the query and stored slot c as the batch would see it,
 * with both texts filtered by the frequencies of now; *csize: c's set
 * size likewise.  A stored signature keeps the filter of its own time: a
 * bin whose minimum was a shingle that is boilerplate now cannot agree
 * with the query's filtered signature, and counting it as a disagreement
 * makes an early copy of a story whose template lines turned frequent
 * later look unlike it.  The query's unfiltered signature (raw) tells
 * those bins: where raw and the filtered signature differ, the query's
 * own minimum was boilerplate now, and where the stored value equals the
 * raw one, both texts held that same shingle.  Such bins are left out of
 * the estimate -- neither agreement nor disagreement, as copied bins are
 * -- and c's set size loses their share.  Without raw (nothing filtered,
 * or a signature given by the caller) this is nd_sig_jaccard.  Bins whose
 * stale minimum the query does not hold stay disagreements: the estimate
 * errs low, as before, never high.
 */
static double stale_jaccard(const nd__ixmem *m, const uint32_t *q,
                            const uint32_t *raw, uint32_t c, uint64_t *csize)
{
    const uint32_t *d = m->sig + (size_t)c * m->k;
    unsigned eq = 0, both = 0, stale = 0, dfull = 0;
    for (unsigned i = 0; i < m->k; i++) {
        dfull += !(d[i] & ND__SIG_COPIED);
        if (raw && raw[i] != q[i] && d[i] == raw[i]) {
            stale++;
            continue;
        }
        eq += q[i] == d[i] && !(q[i] & ND__SIG_COPIED);
        both += (q[i] & d[i] & ND__SIG_COPIED) != 0;
    }
    *csize = m->setsz[c];
    if (stale && dfull) {
        double keep = dfull > stale ? (double)(dfull - stale) / dfull : 0.0;
        *csize = (uint64_t)((double)m->setsz[c] * keep + 0.5);
    }
    return m->k > both + stale ? (double)eq / (m->k - both - stale) : 0.0;
}

static int sketch(nd_index *ix, nd__ixscratch **sp, const char *text,
                  size_t len, const char *id, size_t id_len, int *listed)
{
    nd__ixscratch *s = *sp = scratch_get(ix, 1);
    *listed = 0;
    if (!s)
        return ND_ERR_NOMEM;
    nd__textbuf *tb = &s->tb;
    s->nfigs = 0;
    int rc = nd__normalize(tb, text, len, ix->p.norm, NULL);
    if (rc == ND_OK)
        rc = nd__shingle_bag(tb, ix->p.shingle, ix->p.ngram, ix->p.seed);
    if (rc == ND_OK && ix->p.figures > 0.0) {
        rc = nd__figures(tb, text, len, ix->p.seed);
        if (rc == ND_OK)
            nd__figs_sketch(tb->figs, tb->nfigs, s->figs, &s->nfigs);
    }
    if (rc != ND_OK)
        return rc;
    size_t n = tb->nhashes;
    if (ix->p.boilerplate > 0.0) {
        pthread_rwlock_rdlock(&ix->rw);
        int self = id && nd__ixdf_sampled(ix->m.df, id, id_len);
        if (self)
            rc = nd__ixdf_list(s, tb->hashes, n);
        *listed = self && rc == ND_OK;
        n = nd__ixdf_filter(&ix->m, &ix->p, tb->hashes, n, self);
        pthread_rwlock_unlock(&ix->rw);
        if (rc != ND_OK)
            return rc;
    }
    nd__minhash(&s->perm, tb->hashes, n, s->sig);
    /* the unfiltered signature, when the filter dropped some (behind the
       kept ones: the set is all there) */
    s->has_raw = n < tb->nhashes;
    if (s->has_raw)
        nd__minhash(&s->perm, tb->hashes, tb->nhashes, s->raw);
    s->setsz = n;
    s->rawsz = tb->nhashes;
    return ND_OK;
}

static int cmp_hit(const nd__ixhit *a, const nd__ixhit *b, const nd__ixmem *m)
{
    if (a->j != b->j)
        return a->j > b->j ? -1 : 1;
    if (a->c != b->c)
        return a->c > b->c ? -1 : 1;
    if (m->time[a->slot] != m->time[b->slot])
        return m->time[a->slot] < m->time[b->slot] ? -1 : 1;
    return a->slot < b->slot ? -1 : a->slot > b->slot;
}

/* Insertion sort of the best `keep` hits to the front: lists are short. */
static void rank(nd__ixhit *h, size_t n, const nd__ixmem *m)
{
    for (size_t i = 1; i < n; i++) {
        nd__ixhit x = h[i];
        size_t j = i;
        while (j > 0 && cmp_hit(&x, &h[j - 1], m) < 0) {
            h[j] = h[j - 1];
            j--;
        }
        h[j] = x;
    }
}

/* 1 when the figures of a query and of slot c tell two reports apart. */
static int figures_differ(const nd_index *ix, const uint32_t *qf,
                          uint32_t qn, uint32_t c)
{
    const nd__ixmem *m = &ix->m;
    return m->with_figs && nd__figs_differ(qf, qn, m->figs + (size_t)c * ND__FIGS,
                                           m->nfigs[c], ix->p.figures);
}

/* Held texts compared pairwise before a query is called a digest. */
#define ND__IX_MAX_HELD 64
/* A stored text the query holds this share of the containment setting of,
   short of a match, still counts for telling digests (batch.c). */
#define ND__IX_PARTIAL 0.6

/* 1 when stored x and y cover the same part of the query q (batch.c's
   share_part): at least half the bins the lesser of them agrees with q on
   are bins both agree on. */
static int same_part(const nd__ixmem *m, const uint32_t *q, uint32_t x,
                     uint32_t y)
{
    const uint32_t *X = m->sig + (size_t)x * m->k, *Y = m->sig + (size_t)y * m->k;
    unsigned ax = 0, ay = 0, both = 0;
    for (unsigned t = 0; t < m->k; t++) {
        if (q[t] & ND__SIG_COPIED)
            continue;
        int in_x = X[t] == q[t], in_y = Y[t] == q[t];
        ax += in_x;
        ay += in_y;
        both += in_x & in_y;
    }
    return nd__same_part(ax, ay, both);
}

/*
 * The batch's digest rule (cluster/attach.c), on the query's side: a
 * query that holds, by containment alone, two stored texts that do not
 * match each other and cover different parts of it holds several things
 * (a digest, a live page, a story beside another story's paragraph); it
 * is a copy of none of them, and those matches are dropped.  A stored text
 * the query holds a part of (s->part: containment of at least
 * ND__IX_PARTIAL of the setting) counts as held for telling, as in the
 * batch, since a digest holds only each story's lead.  Matches by Jaccard
 * stay (a copy of the same digest).  Returns the new count.
 */
/* 1 when stored x and y, both held by the query q, are two things. */
static int two_things(const nd_index *ix, const uint32_t *q, uint32_t x,
                      uint32_t y)
{
    const nd__ixmem *m = &ix->m;
    double j = nd_sig_jaccard(m->sig + (size_t)x * m->k,
                              m->sig + (size_t)y * m->k, m->k);
    double c1 = nd_containment(j, m->setsz[x], m->setsz[y]);
    double c2 = nd_containment(j, m->setsz[y], m->setsz[x]);
    return !nd__params_match(&ix->p, j, c1 > c2 ? c1 : c2) &&
           !same_part(m, q, x, y);
}

static size_t drop_if_digest(const nd_index *ix, const uint32_t *q,
                             const nd__ixscratch *s, size_t n)
{
    nd__ixhit *h = s->hits;
    size_t held = 0;
    for (size_t i = 0; i < n; i++)
        held += h[i].held;
    if (held == 0 || held + s->npart < 2)
        return n;
    int several = held > ND__IX_MAX_HELD;
    for (size_t a = 0; a < n && !several; a++) {
        if (!h[a].held)
            continue;
        for (size_t b = a + 1; b < n && !several; b++)
            several = h[b].held && two_things(ix, q, h[a].slot, h[b].slot);
        for (size_t b = 0; b < s->npart && !several; b++)
            several = two_things(ix, q, h[a].slot, s->part[b]);
    }
    if (!several)
        return n;
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (!h[i].held)
            h[w++] = h[i];
    return w;
}

/* With rw read-held (or wmu held): candidates, verification, ranking
 * into s->hits.  qf: the query's figure sketch of qn figures (qn 0: no
 * check). */
static int search(nd_index *ix, const uint32_t *sig, const uint32_t *raw,
                  uint64_t setsz, const uint32_t *qf, uint32_t qn,
                  nd__ixscratch *s)
{
    const nd__ixmem *m = &ix->m;
    s->nhits = 0;
    if (setsz == 0)
        return ND_OK;
    int rc = nd__ixmem_candidates(m, sig, setsz, s);
    if (rc)
        return rc;
    if (s->hcap < s->ncand) {
        nd__ixhit *h = realloc(s->hits, s->ncand * sizeof *h);
        if (!h)
            return ND_ERR_NOMEM;
        s->hits = h;
        s->hcap = s->ncand;
    }
    size_t nh = 0;
    const uint64_t stub = nd__params_stub_shingles(&ix->p);
    s->npart = 0;
    for (size_t i = 0; i < s->ncand; i++) {
        uint32_t c = s->cand[i];
        if (m->setsz[c] == 0)
            continue;
        uint64_t csz;
        double j = stale_jaccard(m, sig, raw, c, &csz);
        if (csz == 0)
            continue;
        double c1 = nd_containment(j, setsz, csz);
        double c2 = nd_containment(j, csz, setsz);
        double cont = c1 > c2 ? c1 : c2;
        if (!nd__params_match(&ix->p, j, cont)) {
            /* part of a stored text in the query: evidence of a digest */
            if (csz < setsz && c1 < c2 && c2 >= ND__IX_PARTIAL * ix->p.containment &&
                s->npart < sizeof s->part / sizeof *s->part)
                s->part[s->npart++] = c;
            continue;
        }
        if (figures_differ(ix, qf, qn, c))
            continue;
        /* the stub rule: a contained stub is no copy of its container;
           the batch counts a stub's words before boilerplate is dropped,
           which the index knows of the query only (a stored text keeps
           its filtered size) */
        if (j < ix->p.threshold && ix->p.measure == ND_MEASURE_JACCARD &&
            (setsz < csz ? (raw ? s->rawsz : setsz) : csz) < stub)
            continue;
        s->hits[nh++] = (nd__ixhit){c, j < ix->p.threshold && csz < setsz, j,
                                    cont};
    }
    nh = drop_if_digest(ix, sig, s, nh);
    rank(s->hits, nh, m);
    s->nhits = nh;
    return ND_OK;
}

/* search, counted in the statistics, and the best cap matches into out. */
static int query_locked(nd_index *ix, const uint32_t *sig,
                        const uint32_t *raw, uint64_t setsz,
                        const uint32_t *qf, uint32_t qn, nd__ixscratch *s,
                        nd_match *out, size_t cap, size_t *n)
{
    const nd__ixmem *m = &ix->m;
    *n = 0;
    atomic_fetch_add_explicit(&ix->queries, 1, memory_order_relaxed);
    int rc = search(ix, sig, raw, setsz, qf, qn, s);
    if (rc)
        return rc;
    if (setsz)
        atomic_fetch_add_explicit(&ix->candidates, s->ncand,
                                  memory_order_relaxed);
    size_t nh = s->nhits;
    if (nh > cap)
        nh = cap;
    for (size_t i = 0; i < nh; i++) {
        uint32_t c = s->hits[i].slot;
        out[i] = (nd_match){m->id[c], m->idlen[c], s->hits[i].j,
                            s->hits[i].c, m->time[c]};
    }
    *n = nh;
    return ND_OK;
}

ND_API int nd_index_query_sig(nd_index *ix, const uint32_t *sig,
                              uint64_t set_size, nd_match *out, size_t cap,
                              size_t *n)
{
    *n = 0;
    if (ix->failed)
        return ND_ERR_STATE;
    nd__ixscratch *s = scratch_get(ix, 0);
    if (!s)
        return ND_ERR_NOMEM;
    pthread_rwlock_rdlock(&ix->rw);
    int rc = query_locked(ix, sig, NULL, set_size, NULL, 0, s, out, cap, n);
    pthread_rwlock_unlock(&ix->rw);
    scratch_put(ix, s);
    return rc;
}

ND_API int nd_index_query(nd_index *ix, const char *text, size_t len,
                          nd_match *out, size_t cap, size_t *n)
{
    *n = 0;
    if (ix->failed)
        return ND_ERR_STATE;
    nd__ixscratch *s;
    int listed;
    int rc = sketch(ix, &s, text, len, NULL, 0, &listed);
    if (rc == ND_OK) {
        pthread_rwlock_rdlock(&ix->rw);
        rc = query_locked(ix, s->sig, s->has_raw ? s->raw : NULL, s->setsz,
                              s->figs, s->nfigs, s, out,
                          cap, n);
        pthread_rwlock_unlock(&ix->rw);
    }
    scratch_put(ix, s);
    return rc;
}

/*
 * With wmu held, for a text about to be added and counted (its list in
 * s->dfl): when it is a copy (Jaccard >= ND__IX_ALIKE) of a stored document
 * that is counted, it counts only the counters that document lacks.
 * searched: s->hits already holds its matches.
 *
 * This is the batch's answer (core/chrome.c) to a story that more than
 * the boilerplate share of the documents carry: a frequent shingle counts
 * once per group of copies, not once per page, so chrome -- carried by
 * pages of many different texts -- stays frequent while a big story's
 * text does not turn into boilerplate and split its family.  The batch
 * groups a held sample of shingle sets after counting; an index meets
 * each text once, so a text is grouped when it arrives, with the copy the
 * index already holds: its shingles that copy also holds are not counted
 * again, the rest (its own page chrome, its edits) are.  The list kept is
 * what was counted, so removal subtracts exactly that; when the copy
 * counted first goes, the story's count drops with it (it errs towards
 * keeping text, never towards dropping more).
 */
/* A copy, for counting: Jaccard at least this (the batch's, batch.c). */
#define ND__IX_ALIKE 0.6

static int count_as_copy(nd_index *ix, nd__ixscratch *s, int searched)
{
    const nd__ixmem *m = &ix->m;
    if (!searched) {
        int rc = search(ix, s->sig, s->has_raw ? s->raw : NULL, s->setsz,
                        s->figs, s->nfigs, s);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < s->nhits; i++) {
        if (s->hits[i].j < ND__IX_ALIKE)
            break; /* ranked by Jaccard first */
        if (m->dfl[s->hits[i].slot]) {
            nd__ixdf_list_minus(s, m->dfl[s->hits[i].slot]);
            break;
        }
    }
    return ND_OK;
}

/*
 * Sketch text and add it under id; when query, first query it against what
 * is already indexed (an id already there is refused before the query).
 */
static int add_text(nd_index *ix, const char *id, size_t id_len,
                    const char *text, size_t len, int64_t time,
                    int query, nd_match *out, size_t cap, size_t *n)
{
    nd__ixscratch *s;
    int listed;
    if (ix->failed)
        return ND_ERR_STATE;
    int rc = sketch(ix, &s, text, len, id, id_len, &listed);
    if (rc == ND_OK) {
        pthread_mutex_lock(&ix->wmu);
        rc = check_writable(ix);
        if (rc == ND_OK)
            rc = check_id(ix, id, id_len);
        if (rc == ND_OK && query &&
            nd__ixmem_find(&ix->m, id, id_len) != ND__IX_NONE)
            rc = nd__ix_fail(ix, ND_ERR_EXISTS,
                             "id \"%.*s\" is already indexed",
                             (int)(id_len > 200 ? 200 : id_len), id);
        if (rc == ND_OK && query)
            rc = query_locked(ix, s->sig, s->has_raw ? s->raw : NULL, s->setsz,
                              s->figs, s->nfigs, s, out,
                              cap, n);
        if (rc == ND_OK && listed)
            rc = count_as_copy(ix, s, query);
        if (rc == ND_OK)
            rc = add_locked(ix, id, id_len, s->sig, s->setsz, time, s->figs,
                            s->nfigs, listed ? s->dfl : NULL);
        if (rc != ND_OK && query)
            *n = 0;
        pthread_mutex_unlock(&ix->wmu);
    }
    if (rc == ND_ERR_NOMEM) {
        pthread_mutex_lock(&ix->wmu);
        nd__ix_fail(ix, rc, "out of memory");
        pthread_mutex_unlock(&ix->wmu);
    }
    scratch_put(ix, s);
    return rc;
}

ND_API int nd_index_add(nd_index *ix, const char *id, size_t id_len,
                 const char *text, size_t len, int64_t time)
{
    return add_text(ix, id, id_len, text, len, time, 0, NULL, 0, NULL);
}

ND_API int nd_index_add_query(nd_index *ix, const char *id, size_t id_len,
                       const char *text, size_t len, int64_t time,
                       nd_match *out, size_t cap, size_t *n)
{
    *n = 0;
    return add_text(ix, id, id_len, text, len, time, 1, out, cap, n);
}

ND_API int nd_index_get(nd_index *ix, const char *id, size_t id_len,
                        int64_t *time)
{
    if (ix->failed)
        return ND_ERR_STATE;
    pthread_rwlock_rdlock(&ix->rw);
    uint32_t s = nd__ixmem_find(&ix->m, id, id_len);
    if (s != ND__IX_NONE && time)
        *time = ix->m.time[s];
    pthread_rwlock_unlock(&ix->rw);
    return s == ND__IX_NONE ? ND_ERR_NOTFOUND : ND_OK;
}

/*
 * With wmu held: once most slots are dead, build a packed copy without
 * blocking readers, then swap it in.
 */
static void maybe_pack(nd_index *ix)
{
    nd__ixmem *m = &ix->m;
    size_t dead = m->n - m->live;
    if (dead < 1024 || dead < m->live)
        return;
    nd__ixmem fresh;
    if (nd__ixmem_rebuild(m, &fresh) != ND_OK)
        return; /* stays correct, only larger */
    nd__ixmem old;
    pthread_rwlock_wrlock(&ix->rw);
    old = *m;
    *m = fresh;
    pthread_rwlock_unlock(&ix->rw);
    nd__ixmem_release_packed(&old);
}

ND_API int nd_index_remove(nd_index *ix, const char *id, size_t id_len)
{
    pthread_mutex_lock(&ix->wmu);
    int rc = check_writable(ix);
    uint32_t s = ND__IX_NONE;
    if (rc == ND_OK && (s = nd__ixmem_find(&ix->m, id, id_len)) == ND__IX_NONE)
        rc = nd__ix_fail(ix, ND_ERR_NOTFOUND, "id \"%.*s\" is not indexed",
                         (int)(id_len > 200 ? 200 : id_len), id);
    if (rc == ND_OK)
        rc = nd__ixstore_reserve(ix, 4 + id_len);
    if (rc == ND_OK)
        rc = nd__ixstore_log_remove(ix, id, id_len);
    if (rc == ND_OK) {
        pthread_rwlock_wrlock(&ix->rw);
        nd__ixmem_kill(&ix->m, s);
        pthread_rwlock_unlock(&ix->rw);
        maybe_pack(ix);
    }
    pthread_mutex_unlock(&ix->wmu);
    return rc;
}

ND_API int nd_index_evict_before(nd_index *ix, int64_t time, size_t *removed)
{
    size_t k = 0;
    pthread_mutex_lock(&ix->wmu);
    int rc = check_writable(ix);
    if (rc == ND_OK)
        rc = nd__ixstore_reserve(ix, 8);
    /* logged before memory changes, and only when it removes something */
    const nd__ixmem *m = &ix->m;
    size_t due = 0;
    for (size_t s = 0; rc == ND_OK && s < m->n; s++)
        due += !m->dead[s] && m->time[s] < time;
    if (rc == ND_OK && due)
        rc = nd__ixstore_log_evict(ix, time);
    if (rc == ND_OK && due) {
        pthread_rwlock_wrlock(&ix->rw);
        k = nd__ixmem_evict(&ix->m, time);
        pthread_rwlock_unlock(&ix->rw);
        maybe_pack(ix);
    }
    pthread_mutex_unlock(&ix->wmu);
    if (removed)
        *removed = k;
    return rc;
}

ND_API int nd_index_flush(nd_index *ix)
{
    pthread_mutex_lock(&ix->wmu);
    int rc = ix->failed ? ND_ERR_STATE : nd__ixstore_flush(ix);
    pthread_mutex_unlock(&ix->wmu);
    return rc;
}

ND_API int nd_index_sync(nd_index *ix)
{
    pthread_mutex_lock(&ix->wmu);
    int rc = ix->failed ? ND_ERR_STATE : nd__ixstore_sync(ix);
    pthread_mutex_unlock(&ix->wmu);
    return rc;
}

ND_API int nd_index_save(nd_index *ix, const char *path)
{
    pthread_mutex_lock(&ix->wmu);
    int rc = ix->failed ? ND_ERR_STATE : nd__ixstore_save(ix, path);
    pthread_mutex_unlock(&ix->wmu);
    return rc;
}

ND_API void nd_index_params(const nd_index *ix, nd_params *p)
{
    *p = ix->p;
}

ND_API void nd_index_stats_get(nd_index *ix, nd_index_stats *st)
{
    memset(st, 0, sizeof *st);
    if (ix->failed)
        return;
    pthread_mutex_lock(&ix->wmu);
    pthread_rwlock_rdlock(&ix->rw);
    const nd__ixmem *m = &ix->m;
    st->docs = m->live;
    st->removed = m->n - m->live;
    int first = 1;
    for (size_t s = 0; s < m->n; s++) {
        if (m->dead[s])
            continue;
        if (first || m->time[s] < st->time_min)
            st->time_min = m->time[s];
        if (first || m->time[s] > st->time_max)
            st->time_max = m->time[s];
        first = 0;
    }
    st->num_perm = m->k;
    st->bands = m->nmain;
    st->rows = m->rows;
    st->memory_bytes = nd__ixmem_bytes(m) + ix->pcap;
    if (m->df) {
        st->df_docs = m->df->sampled;
        st->df_rate = (uint64_t)1 << m->df->rate_log;
        st->boilerplate_cutoff = nd__ixdf_cutoff(m, &ix->p, 0);
    }
    pthread_rwlock_unlock(&ix->rw);
    st->unsynced = ix->unsynced;
    st->disk_bytes = ix->dir ? ix->snap_bytes + ix->wal_bytes : 0;
    st->generation = ix->gen;
    pthread_mutex_unlock(&ix->wmu);
    st->queries = atomic_load_explicit(&ix->queries, memory_order_relaxed);
    st->candidates =
        atomic_load_explicit(&ix->candidates, memory_order_relaxed);
}

const char *nd_index_errmsg(const nd_index *ix)
{
    if (!ix)
        return "out of memory";
    return ix->err[0] ? ix->err : "no error";
}

ND_API void nd_index_close(nd_index *ix)
{
    if (!ix)
        return;
    if (!ix->failed && ix->dir && !ix->readonly)
        nd__ixstore_sync(ix);
    ix_free(ix);
}
