/*
 * sketcher.c - the public sketcher: text -> normalize -> shingle -> MinHash.
 */
#include <stdlib.h>

#include "../text/text.h"
#include "../core/dfcount.h"
#include "../core/params.h"
#include "sketch.h"

struct nd_sketcher {
    nd_params p;
    nd__perm perm;
    nd__textbuf tb;
    nd_text_stats st;
    const nd__df *df;    /* boilerplate filter, or NULL */
    uint32_t df_cutoff;
    uint64_t *often;     /* bit i: counter i of df is above df_cutoff */
    size_t often_cap;    /* words of often */
    int often_ready;     /* often is that of df and df_cutoff */
    uint64_t raw;        /* the last text's shingles before the filter
                            (below stub exact, else at least stub) */
    uint64_t stub;       /* nd__params_stub_shingles of p */
    uint64_t *keep;      /* the shingles the filter passes, repeats and all */
    size_t keep_cap;
};

void nd__sketcher_filter(nd_sketcher *s, const nd__df *df, uint32_t cutoff)
{
    s->df = df;
    s->df_cutoff = cutoff;
    s->often_ready = 0;
}

/*
 * The counters above the cut-off as a bitmap, read once the counting is
 * over: a frequent shingle is then one bit of 128 KB (2^20 counters), which
 * stays in the core's cache, where its 32-bit counter is a random read of
 * 4 MB.  A frequent counter is rare, so the bitmap is sparse, and the
 * decision is the counter's own.
 */
static int often_build(nd_sketcher *s)
{
    const size_t n = (size_t)1 << s->df->bits, words = (n + 63) / 64;
    if (s->often_cap < words) {
        uint64_t *q = realloc(s->often, words * sizeof *q);
        if (!q)
            return ND_ERR_NOMEM;
        s->often = q;
        s->often_cap = words;
    }
    nd__df_above(s->df, s->df_cutoff, s->often);
    s->often_ready = 1;
    return ND_OK;
}

/*
 * Filter and shingle text: the set of its shingles that at most df_cutoff
 * documents hold into s->tb (sorted when `sorted`), the number before the
 * filter into s->raw.  The filter runs on the stream of shingles, repeats
 * and all, before the repeats are dropped, so the table that drops them
 * sees only the few that pass (most of a page's shingles are its site's
 * boilerplate); passing one by one, they make the same set as filtering the
 * set.  The size before the filter is wanted only against the stub bound
 * (attach.c: a contained text smaller than it is not attached), so it is
 * counted, through the table, only when the set after the filter is below
 * the bound, and then only until the count reaches the bound (the first
 * shingles of a page are nearly all new); else that set's size, already as
 * large, stands for it.
 * st.suppressed counts the occurrences dropped.
 */
static int filter_text(nd_sketcher *s, const char *text, size_t len, int *bad,
                       int sorted)
{
    nd__textbuf *t = &s->tb;
    size_t n;
    s->raw = 0;
    int rc = nd__shingle_stream(t, text, len, s->p.norm, bad, s->p.shingle,
                                s->p.ngram, s->p.seed, &n);
    if (rc == ND_OK && !s->often_ready)
        rc = often_build(s);
    if (rc == ND_OK)
        rc = nd__grow_u64(&s->keep, &s->keep_cap, n + 1);
    if (rc != ND_OK)
        return rc;
    const uint64_t *h = t->hashes, *often = s->often;
    uint64_t *k = s->keep;
    const uint64_t mask = ((uint64_t)1 << s->df->bits) - 1;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t v = h[i], c = v & mask; /* the counter of v (dfcount.h) */
        k[w] = v; /* kept or not, written; w counts the kept */
        w += !(often[c >> 6] >> (c & 63) & 1);
    }
    s->st.suppressed += n - w;
    s->st.suppressed_docs += w < n;
    /* The kept become t's shingles; the stream stays in s->keep. */
    uint64_t *stream = t->hashes;
    size_t stream_cap = t->hashes_cap;
    t->hashes = s->keep;
    t->hashes_cap = s->keep_cap;
    s->keep = stream;
    s->keep_cap = stream_cap;
    rc = nd__shingle_finish(t, w, sorted);
    if (rc != ND_OK)
        return rc;
    if (t->nhashes >= s->stub) {
        s->raw = t->nhashes;
        return ND_OK;
    }
    size_t raw;
    rc = nd__shingle_distinct(t, s->keep, n, s->stub, &raw);
    s->raw = raw;
    return rc;
}

ND_API int nd_sketcher_create(const nd_params *p, nd_sketcher **out)
{
    *out = NULL;
    if (nd_params_check(p, NULL, 0) != ND_OK)
        return ND_ERR_PARAM;
    nd_sketcher *s = calloc(1, sizeof *s);
    if (!s)
        return ND_ERR_NOMEM;
    s->p = *p;
    s->stub = nd__params_stub_shingles(p);
    if (nd__sketch_init(&s->perm, p->sketch, p->num_perm, p->seed) != ND_OK) {
        free(s);
        return ND_ERR_NOMEM;
    }
    *out = s;
    return ND_OK;
}

ND_API void nd_sketcher_free(nd_sketcher *s)
{
    if (!s)
        return;
    nd__perm_free(&s->perm);
    nd__textbuf_free(&s->tb);
    free(s->often);
    free(s->keep);
    free(s);
}

const uint64_t *nd__sketcher_set(const nd_sketcher *s, size_t *n)
{
    *n = s->tb.nhashes;
    return s->tb.hashes;
}

/*
 * Normalize and shingle text into s->tb (the set empty on error), sorted
 * when `sorted`, which only exact scores need.
 */
static int shingle_text(nd_sketcher *s, const char *text, size_t len, int *bad,
                        int sorted)
{
    int rc = nd__shingle_text(&s->tb, text, len, s->p.norm, bad, s->p.shingle,
                              s->p.ngram, s->p.seed, sorted);
    if (rc != ND_OK)
        s->tb.nhashes = 0;
    return rc;
}

int nd__sketcher_bag(nd_sketcher *s, const char *text, size_t len,
                     const uint64_t **set, size_t *n)
{
    int rc = shingle_text(s, text, len, NULL, 0);
    *set = s->tb.hashes;
    *n = s->tb.nhashes;
    return rc;
}

int nd__sketcher_bag_count(nd_sketcher *s, const char *text, size_t len,
                           nd__df *df, const uint64_t **set, size_t *n)
{
    int rc = nd__shingle_text_count(&s->tb, text, len, s->p.norm, NULL,
                                    s->p.shingle, s->p.ngram, s->p.seed, df);
    if (rc != ND_OK)
        s->tb.nhashes = 0;
    *set = s->tb.hashes;
    *n = s->tb.nhashes;
    return rc;
}

ND_API int nd_sketcher_shingles(nd_sketcher *s, const char *text, size_t len,
                                const uint64_t **set, size_t *n)
{
    int rc = shingle_text(s, text, len, NULL, 1);
    *set = s->tb.hashes;
    *n = s->tb.nhashes;
    return rc;
}

ND_API int nd_sketcher_normalize(nd_sketcher *s, const char *text, size_t len,
                                 const char **out, size_t *out_len)
{
    int rc = nd__normalize(&s->tb, text, len, s->p.norm, NULL);
    if (rc != ND_OK || !s->tb.norm) {
        *out = "";
        *out_len = 0;
        return rc;
    }
    *out = s->tb.norm;
    *out_len = s->tb.norm_len;
    return ND_OK;
}

ND_API int nd_sketcher_sketch(nd_sketcher *s, const char *text, size_t len,
                              uint32_t *sig, uint64_t *set_size)
{
    int bad = 0, rc;
    if (s->df) {
        rc = filter_text(s, text, len, &bad, s->p.exact);
    } else {
        rc = shingle_text(s, text, len, &bad, s->p.exact);
        s->raw = rc == ND_OK ? s->tb.nhashes : 0;
    }
    if (rc == ND_OK && s->p.figures > 0.0)
        rc = nd__figures(&s->tb, text, len, s->p.seed);
    else
        s->tb.nfigs = 0;
    if (rc != ND_OK) {
        s->tb.nhashes = 0;
        s->tb.nfigs = 0;
        return rc;
    }
    nd__minhash(&s->perm, s->tb.hashes, s->tb.nhashes, sig);
    if (set_size)
        *set_size = s->tb.nhashes;
    s->st.docs++;
    s->st.bytes += len;
    s->st.empty += s->tb.nhashes == 0;
    s->st.bad_utf8 += bad != 0;
    return ND_OK;
}

ND_API void nd_sketcher_stats(const nd_sketcher *s, nd_text_stats *st)
{
    *st = s->st;
}

uint64_t nd__sketcher_raw_size(const nd_sketcher *s)
{
    return s->raw;
}

int nd__sketcher_read_figures(nd_sketcher *s, const char *text, size_t len)
{
    int rc = nd__figures(&s->tb, text, len, s->p.seed);
    if (rc != ND_OK)
        s->tb.nfigs = 0;
    return rc;
}

void nd__sketcher_figures(const nd_sketcher *s, uint32_t *out, uint32_t *count)
{
    nd__figs_sketch(s->tb.figs, s->tb.nfigs, out, count);
}

void nd__sketcher_stats_set(nd_sketcher *s, const nd_text_stats *st)
{
    s->st = *st;
}

/* Equal values over the bins not copied in both (sketch.h, ND__SIG_COPIED). */
ND_API double nd_sig_jaccard(const uint32_t *a, const uint32_t *b, unsigned k)
{
    unsigned eq = 0, both = 0;
    for (unsigned i = 0; i < k; i++) {
        eq += a[i] == b[i] && !(a[i] & ND__SIG_COPIED);
        both += (a[i] & b[i] & ND__SIG_COPIED) != 0;
    }
    return k > both ? (double)eq / (k - both) : 0.0;
}

ND_API void nd_exact_scores(const uint64_t *a, size_t na, const uint64_t *b,
                            size_t nb, double *jaccard, double *containment)
{
    size_t i = 0, j = 0, in = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j])
            i++;
        else if (a[i] > b[j])
            j++;
        else {
            in++;
            i++;
            j++;
        }
    }
    size_t small = na < nb ? na : nb;
    *jaccard = in ? (double)in / (double)(na + nb - in) : 0.0;
    *containment = in ? (double)in / (double)small : 0.0;
}

ND_API double nd_containment(double j, uint64_t size_a, uint64_t size_b)
{
    if (size_a == 0)
        return 0.0;
    double c = j * ((double)size_a + (double)size_b) / ((1.0 + j) * (double)size_a);
    return c < 0.0 ? 0.0 : c > 1.0 ? 1.0 : c;
}
