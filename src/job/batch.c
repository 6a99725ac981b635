/*
 * batch.c - the batch engine: sketch in parallel as texts arrive, then
 * candidates (LSH), verification and clusters in nd_batch_run.
 *
 * Texts are not kept.  A document costs its signature as k 16-bit values
 * (the low bits of the 32-bit MinHash values; why that loses nothing:
 * src/lsh/candidates.c) and its shingle-set size as a uint32: 260 bytes at
 * k = 128.  Its text length is kept only for ND_KEEP_LONGEST, its meta only
 * for the keep policies and the window that read it, its figures only with
 * params.figures.  Sizes and
 * lengths saturate at UINT32_MAX (docstore.h).  With params.exact the
 * shingle sets are kept too, for exact scores.  Every parallel loop writes
 * results by document or pair index, so the output is the same for any
 * thread count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../cluster/cluster.h"
#include "chrome.h"
#include "../core/dfcount.h"
#include "../core/docstore.h"
#include "../core/params.h"
#include "../core/sort.h"
#include "../lsh/lsh.h"
#include "../sketch/sketch.h"
#include "jobint.h"

/* 2^20 counters (4 MB): see dfcount.c for the error this allows. */
#define DF_BITS 20
/*
 * Boilerplate is frequent by definition, so a sample finds it: every
 * document is counted until DF_SAMPLE have been, then every second one (the
 * counters halved), and so on.  The first pass shingles at most about
 * 2 * DF_SAMPLE documents however large the collection.
 */
#define DF_SAMPLE (1u << 14)
/*
 * Once the sample has filled, a call counts only 1 text in df_rate, and the
 * caller spends far longer producing the texts than counting them.  Fewer
 * than this many to shingle are counted on the calling thread: a parallel
 * region would leave its other threads spinning, after it ends, on the
 * cores the caller's reading needs.  The counts are the same either way.
 */
#define COUNT_PARALLEL_MIN 1024

/*
 * Held documents this alike (estimated Jaccard of their whole sets) are
 * copies when boilerplate is counted once per group of copies (chrome.c),
 * unless their figures tell them apart at COPIES_FIGS (with the figure
 * check on).  Measured over the presets and helsinki-dev: at 0.4 reports
 * made from one template grouped as copies (hard-negative precision
 * 0.016), at 0.8 the copies of a story under different site chrome did
 * not; without the figures, templates still grouped (hard-negative
 * precision 0.985 against 0.996); at the figure check's own 0.8, page
 * furniture (a temperature, a comment count) split copies of the pages
 * corpus's large families.
 */
#define COPIES_ALIKE 0.6
#define COPIES_FIGS 0.5

/* A pair whose smaller text is contained to this share of the containment
   setting holds part of the other (attach.c: digests). */
#define PARTIAL 0.6

/* Verification fetches the signature of the pair this far ahead. */
#define VERIFY_AHEAD 8

struct nd_batch {
    nd_params p;
    unsigned threads, bands, rows;
    size_t n, cap;
    uint16_t *sigs;      /* n * k low halves of the MinHash values */
    uint32_t *sizes;     /* shingle set sizes, saturated */
    uint32_t *raws;      /* attach: set sizes before boilerplate, saturated */
    uint32_t *lens;      /* ND_KEEP_LONGEST: text lengths, saturated */
    uint8_t *shorts;     /* min_words: 1 for a text under min_words words */
    nd_doc_meta *meta;   /* keep earliest or source, or a time window */
    uint32_t **wide;     /* one full signature of scratch per thread */
    uint32_t *figs;      /* figures > 0: n * ND__FIGS figure sketch values */
    uint32_t *nfigs;     /* figures > 0: distinct figures per document */
    uint64_t **sets;     /* exact mode: sorted shingle sets */
    nd_sketcher **sk;    /* one per thread */
    nd__df df;           /* boilerplate: shingle document frequencies */
    nd__df *own;         /* counters of threads 1.. while counting in
                            parallel, merged into df before df is halved
                            or read (merge_own) */
    nd__held held;       /* boilerplate: shingle sets of a sample of those
                            counted, to tell chrome from big stories */
    uint64_t counted;    /* documents passed to nd_batch_count */
    uint64_t sampled;    /* of which counted into df (1 in df_rate) */
    uint32_t df_rate;
    int filtering;       /* the sketchers drop boilerplate shingles */
    int ran;
    uint32_t *cluster, *rep;
    nd_edge *edges;
    size_t nedges;
    nd_batch_stats st;
    nd__phase_fn on_phase; /* progress of nd_batch_run (jobint.h) */
    void *phase_ctx;
    unsigned share_rank, share_n; /* a shared run (jobint.h); n 0: none */
    nd__gather_fn gather;
    void *gather_ctx;
    const nd__count_comm *comm; /* the count pass shared too (jobint.h) */
    uint64_t count_total; /* a shared count: texts counted by all processes */
    nd__df *levels;      /* shared count: the counters of the finished
                            sampling levels, unhalved, level l at rate 2^l
                            (cnt NULL: none counted here) */
    size_t nlevels;
    nd_text_stats counted_text; /* the sketchers' counters when the count
                                   pass ended */
    nd_text_stats elsewhere;    /* texts sketched by other processes */
    nd__batch_given *given;     /* a shared run's verified pairs (jobint.h) */
    char err[512];
};

void nd__batch_on_phase(nd_batch *b, nd__phase_fn fn, void *ctx)
{
    b->on_phase = fn;
    b->phase_ctx = ctx;
}

void nd__batch_share(nd_batch *b, unsigned rank, unsigned nprocs,
                     nd__gather_fn gather, void *ctx)
{
    b->share_rank = rank;
    b->share_n = nprocs;
    b->gather = gather;
    b->gather_ctx = ctx;
}

/* The sketched state of a document: its signature, set size, set size
   before boilerplate (attach) and figures (figures > 0), in that order. */
size_t nd__batch_doc_bytes(const nd_batch *b)
{
    /* By the params, which decide what grow allocates: the same before the
       first document is added. */
    size_t n = b->p.num_perm * sizeof *b->sigs + sizeof *b->sizes;
    if (b->p.cluster == ND_CLUSTER_ATTACH)
        n += sizeof *b->raws;
    if (b->p.figures > 0.0)
        n += ND__FIGS * sizeof *b->figs + sizeof *b->nfigs;
    if (b->p.keep == ND_KEEP_LONGEST)
        n += sizeof *b->lens;
    if (b->p.min_words)
        n += sizeof *b->shorts;
    if (b->p.keep == ND_KEEP_EARLIEST || b->p.keep == ND_KEEP_SOURCE || b->p.window > 0.0)
        n += sizeof *b->meta;
    return n;
}

void nd__batch_doc_get(const nd_batch *b, size_t doc, unsigned char *out)
{
    const size_t k = b->p.num_perm;
    memcpy(out, b->sigs + doc * k, k * sizeof *b->sigs);
    out += k * sizeof *b->sigs;
    memcpy(out, &b->sizes[doc], sizeof *b->sizes);
    out += sizeof *b->sizes;
    if (b->raws) {
        memcpy(out, &b->raws[doc], sizeof *b->raws);
        out += sizeof *b->raws;
    }
    if (b->p.figures > 0.0) {
        memcpy(out, b->figs + doc * ND__FIGS, ND__FIGS * sizeof *b->figs);
        out += ND__FIGS * sizeof *b->figs;
        memcpy(out, &b->nfigs[doc], sizeof *b->nfigs);
        out += sizeof *b->nfigs;
    }
    if (b->lens) {
        memcpy(out, &b->lens[doc], sizeof *b->lens);
        out += sizeof *b->lens;
    }
    if (b->shorts) {
        memcpy(out, &b->shorts[doc], sizeof *b->shorts);
        out += sizeof *b->shorts;
    }
    if (b->meta)
        memcpy(out, &b->meta[doc], sizeof *b->meta);
}

void nd__batch_doc_put(nd_batch *b, size_t doc, const unsigned char *in)
{
    const size_t k = b->p.num_perm;
    memcpy(b->sigs + doc * k, in, k * sizeof *b->sigs);
    in += k * sizeof *b->sigs;
    memcpy(&b->sizes[doc], in, sizeof *b->sizes);
    in += sizeof *b->sizes;
    if (b->raws) {
        memcpy(&b->raws[doc], in, sizeof *b->raws);
        in += sizeof *b->raws;
    }
    if (b->p.figures > 0.0) {
        memcpy(b->figs + doc * ND__FIGS, in, ND__FIGS * sizeof *b->figs);
        in += ND__FIGS * sizeof *b->figs;
        memcpy(&b->nfigs[doc], in, sizeof *b->nfigs);
        in += sizeof *b->nfigs;
    }
    if (b->lens) {
        memcpy(&b->lens[doc], in, sizeof *b->lens);
        in += sizeof *b->lens;
    }
    if (b->shorts) {
        memcpy(&b->shorts[doc], in, sizeof *b->shorts);
        in += sizeof *b->shorts;
    }
    if (b->meta)
        memcpy(&b->meta[doc], in, sizeof *b->meta);
}

const uint64_t *nd__batch_doc_set(const nd_batch *b, size_t doc, size_t *m)
{
    *m = b->p.exact && b->sets ? b->sizes[doc] : 0;
    return *m ? b->sets[doc] : NULL;
}

int nd__batch_doc_set_put(nd_batch *b, size_t doc, const uint64_t *set, size_t m)
{
    if (!b->p.exact)
        return ND_OK;
    free(b->sets[doc]);
    b->sets[doc] = malloc(sizeof *set * (m ? m : 1));
    if (!b->sets[doc])
        return ND_ERR_NOMEM;
    if (m)
        memcpy(b->sets[doc], set, m * sizeof *set);
    return ND_OK;
}

/* The sum of the sketchers' counters. */
static void text_stats(const nd_batch *b, nd_text_stats *st)
{
    memset(st, 0, sizeof *st);
    for (unsigned t = 0; t < b->threads; t++) {
        nd_text_stats s;
        nd_sketcher_stats(b->sk[t], &s);
        st->docs += s.docs;
        st->empty += s.empty;
        st->bad_utf8 += s.bad_utf8;
        st->bytes += s.bytes;
        st->suppressed += s.suppressed;
        st->suppressed_docs += s.suppressed_docs;
    }
}

void nd__batch_sketched_stats(const nd_batch *b, nd_text_stats *s)
{
    text_stats(b, s);
    s->docs -= b->counted_text.docs;
    s->empty -= b->counted_text.empty;
    s->bad_utf8 -= b->counted_text.bad_utf8;
    s->bytes -= b->counted_text.bytes;
    s->suppressed -= b->counted_text.suppressed;
    s->suppressed_docs -= b->counted_text.suppressed_docs;
}

void nd__batch_add_stats(nd_batch *b, const nd_text_stats *s)
{
    b->elsewhere.docs += s->docs;
    b->elsewhere.empty += s->empty;
    b->elsewhere.bad_utf8 += s->bad_utf8;
    b->elsewhere.bytes += s->bytes;
    b->elsewhere.suppressed += s->suppressed;
    b->elsewhere.suppressed_docs += s->suppressed_docs;
}

static void phase(const nd_batch *b, nd_phase ph, uint64_t done, uint64_t total)
{
    if (b->on_phase)
        b->on_phase(b->phase_ctx, ph, done, total);
}

static double now(void)
{
#ifdef _OPENMP
    return omp_get_wtime();
#else
    return 0.0;
#endif
}

static int fail(nd_batch *b, int code, const char *msg)
{
    snprintf(b->err, sizeof b->err, "%s", msg ? msg : nd_strerror(code));
    return code;
}

ND_API int nd_batch_create(const nd_params *p, nd_batch **out)
{
    *out = NULL;
    if (nd_params_check(p, NULL, 0) != ND_OK)
        return ND_ERR_PARAM;
    nd_batch *b = calloc(1, sizeof *b);
    if (!b)
        return ND_ERR_NOMEM;
    b->p = *p;
    b->threads = p->threads;
#ifdef _OPENMP
    if (!b->threads)
        b->threads = (unsigned)omp_get_max_threads();
#endif
    if (!b->threads)
        b->threads = 1;
    nd_params_lsh(p, &b->bands, &b->rows);
    b->sk = calloc(b->threads, sizeof *b->sk);
    if (!b->sk) {
        free(b);
        return ND_ERR_NOMEM;
    }
    b->wide = calloc(b->threads, sizeof *b->wide);
    if (!b->wide) {
        nd_batch_free(b);
        return ND_ERR_NOMEM;
    }
    for (unsigned t = 0; t < b->threads; t++) {
        b->wide[t] = malloc(sizeof *b->wide[t] * p->num_perm);
        if (!b->wide[t] || nd_sketcher_create(p, &b->sk[t]) != ND_OK) {
            nd_batch_free(b);
            return ND_ERR_NOMEM;
        }
    }
    if (p->boilerplate > 0.0 && nd__df_init(&b->df, DF_BITS) != ND_OK) {
        nd_batch_free(b);
        return ND_ERR_NOMEM;
    }
    b->st.bands = b->bands;
    b->st.rows = b->rows;
    nd__params_lsh_contain(p, b->rows, &b->st.contain_bands, &b->st.contain_rows);
    *out = b;
    return ND_OK;
}

static void free_own(nd_batch *b)
{
    for (unsigned t = 1; b->own && t < b->threads; t++)
        nd__df_free(&b->own[t - 1]);
    free(b->own);
    b->own = NULL;
}

/*
 * Counters of their own for threads 1.. of a parallel count (thread 0
 * counts into df): a plain increment in place of a locked one, which holds
 * up the loads of the 4 MB of counters behind it (dfcount.c).  Sums do
 * not depend on who counted what.  0 when there is no memory for them:
 * the threads then share df.
 */
static int make_own(nd_batch *b)
{
    if (b->own)
        return 1;
    if (b->threads < 2 || !(b->own = calloc(b->threads - 1, sizeof *b->own)))
        return 0;
    for (unsigned t = 1; t < b->threads; t++)
        if (nd__df_init(&b->own[t - 1], b->df.bits) != ND_OK) {
            free_own(b);
            return 0;
        }
    return 1;
}

/* Add the threads' own counters to df. */
static void merge_own(nd_batch *b)
{
    for (unsigned t = 1; b->own && t < b->threads; t++)
        nd__df_merge(&b->df, &b->own[t - 1]);
}

ND_API void nd_batch_free(nd_batch *b)
{
    if (!b)
        return;
    for (unsigned t = 0; b->sk && t < b->threads; t++)
        nd_sketcher_free(b->sk[t]);
    free(b->sk);
    for (unsigned t = 0; b->wide && t < b->threads; t++)
        free(b->wide[t]);
    free(b->wide);
    nd__df_free(&b->df);
    for (size_t l = 0; l < b->nlevels; l++)
        nd__df_free(&b->levels[l]);
    free(b->levels);
    free_own(b);
    nd__held_free(&b->held);
    if (b->sets)
        for (size_t i = 0; i < b->n; i++)
            free(b->sets[i]);
    free(b->sets);
    free(b->sigs);
    free(b->sizes);
    free(b->raws);
    free(b->lens);
    free(b->shorts);
    free(b->meta);
    free(b->figs);
    free(b->nfigs);
    free(b->cluster);
    free(b->rep);
    free(b->edges);
    free(b);
}

/* A uint64 copy of v[0..n) for the cluster stage, which reads 64-bit
   sizes; held only while it runs. */
static uint64_t *widen(const uint32_t *v, size_t n)
{
    uint64_t *w = malloc(sizeof *w * (n ? n : 1));
    if (w)
        for (size_t i = 0; i < n; i++)
            w[i] = v[i];
    return w;
}

static int grow(nd_batch *b, size_t need)
{
    if (need <= b->cap)
        return ND_OK;
    if (need > UINT32_MAX)
        return ND_ERR_PARAM;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < need)
        cap *= 2;
    size_t k = b->p.num_perm;
    void *p;
#define GROW(field, count)                                          \
    do {                                                            \
        p = realloc(b->field, (count) * sizeof *b->field);          \
        if (!p)                                                     \
            return ND_ERR_NOMEM;                                    \
        b->field = p;                                               \
    } while (0)
    GROW(sigs, cap * k);
    GROW(sizes, cap);
    if (b->p.cluster == ND_CLUSTER_ATTACH)
        GROW(raws, cap);
    if (b->p.keep == ND_KEEP_LONGEST)
        GROW(lens, cap);
    if (b->p.min_words)
        GROW(shorts, cap);
    if (b->p.keep == ND_KEEP_EARLIEST || b->p.keep == ND_KEEP_SOURCE ||
        b->p.window > 0.0)
        GROW(meta, cap);
    if (b->p.exact)
        GROW(sets, cap);
    if (b->p.figures > 0.0) {
        GROW(figs, cap * ND__FIGS);
        GROW(nfigs, cap);
    }
#undef GROW
    b->cap = cap;
    return ND_OK;
}

/* 1 when s[0..n) is valid UTF-8 (as utf8proc decodes it). */
static int valid_utf8(const char *s, size_t n)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    while (n) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, (utf8proc_ssize_t)(n < 4 ? n : 4), &cp);
        if (k <= 0 || cp < 0)
            return 0;
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

/*
 * Count texts [from, to) of a call, all under one sampling rate: the
 * caller cuts the call where the sample fills (count_segment_end).
 */
static void count_segment(nd_batch *b, size_t from, size_t to,
                          const char *const *texts, const size_t *lens,
                          size_t *first_bad, int *first_rc)
{
    const uint64_t base = b->counted, rate = b->df_rate;
    const int parallel = (uint64_t)(to - from) / rate >= COUNT_PARALLEL_MIN;
    const int own = parallel && make_own(b);
    size_t fbad = *first_bad;
    int frc = *first_rc;
#pragma omp parallel num_threads(b->threads) if (parallel)
    {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
#pragma omp for schedule(dynamic, 8)
        for (size_t i = from; i < to; i++) {
            const uint64_t o = base + (i - from);
            int r = ND_OK;
            if (o % rate == 0) {
                const uint64_t *set;
                size_t m;
                /* Counted as the set is made, unless threads share df. */
                if (own || !parallel)
                    r = nd__sketcher_bag_count(b->sk[t], texts[i], lens[i],
                                               t ? &b->own[t - 1] : &b->df, &set, &m);
                else if ((r = nd__sketcher_bag(b->sk[t], texts[i], lens[i], &set,
                                               &m)) == ND_OK)
                    nd__df_add(&b->df, set, m);
                if (r == ND_OK) {
                    uint32_t figs[ND__FIGS], nfigs = 0;
                    int held;
#pragma omp critical(nd_batch_held)
                    held = nd__held_wants(&b->held, o);
                    if (held && b->p.figures > 0.0 &&
                        (r = nd__sketcher_read_figures(b->sk[t], texts[i], lens[i])) == ND_OK)
                        nd__sketcher_figures(b->sk[t], figs, &nfigs);
#pragma omp critical(nd_batch_held)
                    if (r == ND_OK && held && nd__held_wants(&b->held, o))
                        r = nd__held_add(&b->held, o, set, m,
                                         b->p.figures > 0.0 ? figs : NULL, nfigs);
                }
            }
            if (r != ND_OK) {
#pragma omp critical(nd_batch_bad)
                if (i < fbad) {
                    fbad = i;
                    frc = r;
                }
            }
        }
    }
    *first_bad = fbad;
    *first_rc = frc;
}

/*
 * Where the segment of a call that starts at from (at ordinal
 * b->counted) ends: after the text that fills the sample at the present
 * rate, or at n.  The rate doubles between two texts, never inside a
 * parallel loop, so the counts are the same for any chunking of the calls.
 */
static size_t count_segment_end(const nd_batch *b, size_t from, size_t n)
{
    const uint64_t rate = b->df_rate, need = DF_SAMPLE - b->sampled;
    const uint64_t first = (rate - b->counted % rate) % rate;
    const uint64_t last = first + (need - 1) * rate; /* offset of the filling text */
    return (uint64_t)(n - from) > last ? from + (size_t)last + 1 : n;
}

/* Texts of ordinals [from, to) that are in the sample at rate. */
static uint64_t sampled_in(uint64_t from, uint64_t to, uint64_t rate)
{
    return (to + rate - 1) / rate - (from + rate - 1) / rate;
}

/* The sampling of nd_batch_count text by text: the rate doubles, and the
   sample halves, before the first text after the sample has filled. */
int nd__df_sched_step(nd__df_sched *s, uint64_t ord)
{
    if (!s->rate)
        s->rate = 1;
    if (s->sampled >= DF_SAMPLE) {
        s->rate *= 2;
        s->sampled /= 2;
    }
    if (ord % s->rate)
        return 0;
    s->sampled++;
    return 1;
}

/* A shared count: keep the finished level's counters as they are, and
   count the next level from zero (merge_shared halves them). */
static int push_level(nd_batch *b)
{
    nd__df *p = realloc(b->levels, (b->nlevels + 1) * sizeof *p);
    if (!p)
        return ND_ERR_NOMEM;
    b->levels = p;
    nd__df next;
    if (nd__df_init(&next, b->df.bits) != ND_OK)
        return ND_ERR_NOMEM;
    b->levels[b->nlevels++] = b->df;
    b->df = next;
    return ND_OK;
}

nd__df_sched nd__df_sched_at(uint64_t n)
{
    uint64_t o = 0, rate = 1, sampled = 0;
    while (o < n) {
        const uint64_t first = (o + rate - 1) / rate * rate;
        const uint64_t fill = first + (DF_SAMPLE - sampled - 1) * rate;
        if (fill + 1 >= n) {
            sampled += sampled_in(o, n, rate);
            break;
        }
        o = fill + 1;
        rate *= 2;
        sampled = DF_SAMPLE / 2;
    }
    return (nd__df_sched){rate, sampled};
}

int nd__batch_share_count(nd_batch *b, const nd__count_comm *comm, uint64_t first,
                          uint64_t total)
{
    const nd__df_sched s = nd__df_sched_at(first);
    b->comm = comm;
    b->counted = first;
    b->count_total = total;
    b->df_rate = (uint32_t)s.rate;
    b->sampled = s.sampled;
    /* The levels before this process's texts: nothing counted here. */
    for (uint64_t r = 1; r < s.rate; r *= 2) {
        nd__df *p = realloc(b->levels, (b->nlevels + 1) * sizeof *p);
        if (!p)
            return ND_ERR_NOMEM;
        b->levels = p;
        b->levels[b->nlevels++] = (nd__df){NULL, b->df.bits};
    }
    return ND_OK;
}

int nd__batch_grow_to(nd_batch *b, size_t n)
{
    if (n <= b->n)
        return ND_OK;
    int rc = grow(b, n);
    if (rc != ND_OK)
        return rc;
    if (b->p.exact)
        for (size_t d = b->n; d < n; d++)
            b->sets[d] = NULL;
    b->n = n;
    return ND_OK;
}

ND_API int nd_batch_count(nd_batch *b, size_t n, const char *const *texts,
                          const size_t *lens, size_t *bad)
{
    if (b->p.boilerplate <= 0.0 || b->filtering || b->ran)
        return fail(b, ND_ERR_STATE, "nd_batch_count needs boilerplate > 0 "
                                     "and comes before nd_batch_add");
    size_t first_bad = SIZE_MAX;
    int first_rc = ND_OK;
    double t0 = now();
    if (!b->df_rate)
        b->df_rate = 1;
    if (b->p.norm & ND_NORM_STRICT_UTF8) {
        /* Every text must be valid, in the sample or not; a bad one
           fails the call before anything is counted. */
#pragma omp parallel for num_threads(b->threads) schedule(dynamic, 64) \
    if (n >= COUNT_PARALLEL_MIN)
        for (size_t i = 0; i < n; i++)
            if (!valid_utf8(texts[i], lens[i])) {
#pragma omp critical(nd_batch_bad)
                if (i < first_bad)
                    first_bad = i;
            }
        if (first_bad != SIZE_MAX) {
            if (bad)
                *bad = first_bad;
            b->st.seconds_sketch += now() - t0;
            return fail(b, ND_ERR_UTF8, "invalid UTF-8");
        }
    }
    /*
     * Every counted text is sampled until DF_SAMPLE have been, then the
     * rate doubles and the counters halve, text by text in ordinal order:
     * the call is cut into segments at those points.
     */
    for (size_t from = 0; from < n && first_rc == ND_OK;) {
        if (b->sampled >= DF_SAMPLE) {
            merge_own(b);
            if (!b->comm)
                nd__df_halve(&b->df);
            else if (push_level(b) != ND_OK)
                return fail(b, ND_ERR_NOMEM, NULL);
            b->df_rate *= 2;
            b->sampled /= 2;
        }
        size_t to = count_segment_end(b, from, n);
        count_segment(b, from, to, texts, lens, &first_bad, &first_rc);
        if (first_rc != ND_OK)
            break;
        b->sampled += sampled_in(b->counted, b->counted + (to - from), b->df_rate);
        b->counted += to - from;
        from = to;
    }
    b->st.seconds_sketch += now() - t0;
    if (first_rc != ND_OK) {
        if (bad)
            *bad = first_bad;
        return fail(b, first_rc, NULL);
    }
    return ND_OK;
}

/* ------------------------------------------------- the shared count */

_Static_assert(sizeof(atomic_uint) == sizeof(uint32_t), "a counter is a uint32");

/* One held document as it travels: ordinal, shingle count, figure count,
   the figures, then the shingles. */
typedef struct {
    uint64_t ord;
    uint32_t len, nfigs;
    uint32_t figs[ND__FIGS];
} held_head;

/* The held sample one process counting texts [0, n) would end with: its
   ordinals only (the schedule and the sample depend on nothing else). */
static int held_ordinals(uint64_t n, nd__held *sim)
{
    uint64_t o = 0, rate = 1, sampled = 0;
    memset(sim, 0, sizeof *sim);
    while (o < n) {
        const uint64_t first = (o + rate - 1) / rate * rate;
        const uint64_t fill = first + (DF_SAMPLE - sampled - 1) * rate;
        const uint64_t end = fill + 1 < n ? fill + 1 : n;
        for (uint64_t x = first; x < end; x += rate)
            if (nd__held_wants(sim, x) && nd__held_add(sim, x, NULL, 0, NULL, 0) != ND_OK)
                return ND_ERR_NOMEM;
        o = fill + 1;
        rate *= 2;
        sampled = DF_SAMPLE / 2;
    }
    return ND_OK;
}

static int by_ord(const void *pa, const void *pb)
{
    uint64_t a = (*(const held_head *const *)pa)->ord;
    uint64_t b = (*(const held_head *const *)pb)->ord;
    return (a > b) - (a < b);
}

/* 1 when ordinal o is among the n sorted ordinals at ord. */
static int among(const uint64_t *ord, size_t n, uint64_t o)
{
    size_t i = nd__lower_u64(ord, n, o);
    return i < n && ord[i] == o;
}

/*
 * The held sample of a shared count: every process works out which
 * ordinals one process counting all texts would hold at the end, sends
 * those of them it holds (its own texts, held at a rate no higher than one
 * process's), and keeps what all sent, in ordinal order.
 */
static int merge_held(nd_batch *b)
{
    const nd__count_comm *c = b->comm;
    nd__held *h = &b->held;
    nd__held sim;
    if (held_ordinals(b->counted, &sim) != ND_OK) {
        nd__held_free(&sim);
        return ND_ERR_NOMEM;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < h->n; i++)
        if (among(sim.ord, sim.n, h->ord[i]))
            bytes += sizeof(held_head) + (size_t)h->len[i] * sizeof *h->h;
    unsigned char *out = malloc(bytes ? bytes : 1), *all = NULL;
    if (!out) {
        nd__held_free(&sim);
        return ND_ERR_NOMEM;
    }
    unsigned char *w = out;
    for (size_t i = 0; i < h->n; i++) {
        if (!among(sim.ord, sim.n, h->ord[i]))
            continue;
        held_head hd = {h->ord[i], h->len[i], h->nfigs[i], {0}};
        memcpy(hd.figs, h->figs + i * ND__FIGS, sizeof hd.figs);
        memcpy(w, &hd, sizeof hd);
        w += sizeof hd;
        if (h->len[i])
            memcpy(w, h->h + h->off[i], (size_t)h->len[i] * sizeof *h->h);
        w += (size_t)h->len[i] * sizeof *h->h;
    }
    size_t alln = 0;
    void *got = NULL;
    int rc = c->gather(c->ctx, out, bytes, &got, &alln);
    free(out);
    if (rc != ND_OK) {
        nd__held_free(&sim);
        return rc;
    }
    all = got;
    /* Index what came (aligned copies of the heads), sorted by ordinal. */
    size_t m = 0;
    for (size_t at = 0; at + sizeof(held_head) <= alln; m++) {
        held_head hd;
        memcpy(&hd, all + at, sizeof hd);
        at += sizeof hd + (size_t)hd.len * sizeof(uint64_t);
    }
    held_head *heads = malloc(sizeof *heads * (m ? m : 1));
    const held_head **order = malloc(sizeof *order * (m ? m : 1));
    size_t *where = malloc(sizeof *where * (m ? m : 1));
    rc = heads && order && where ? ND_OK : ND_ERR_NOMEM;
    for (size_t i = 0, at = 0; rc == ND_OK && i < m; i++) {
        memcpy(&heads[i], all + at, sizeof heads[i]);
        where[i] = at + sizeof heads[i];
        order[i] = &heads[i];
        at = where[i] + (size_t)heads[i].len * sizeof(uint64_t);
    }
    if (rc == ND_OK)
        qsort(order, m, sizeof *order, by_ord);
    nd__held_free(h);
    h->rate = sim.rate;
    uint64_t *set = NULL;
    size_t setcap = 0;
    for (size_t i = 0, k = 0; rc == ND_OK && i < sim.n; i++) {
        while (k < m && order[k]->ord < sim.ord[i])
            k++;
        if (k == m || order[k]->ord != sim.ord[i]) {
            rc = ND_ERR_STATE; /* a process let go of a document it owed */
            break;
        }
        const held_head *hd = order[k];
        if (hd->len > setcap) {
            uint64_t *p = realloc(set, hd->len * sizeof *p);
            if (!p) {
                rc = ND_ERR_NOMEM;
                break;
            }
            set = p;
            setcap = hd->len;
        }
        if (hd->len)
            memcpy(set, all + where[hd - heads], hd->len * sizeof *set);
        rc = nd__held_add(h, hd->ord, set, hd->len, hd->figs, hd->nfigs);
    }
    free(set);
    free(heads);
    free(order);
    free(where);
    free(all);
    nd__held_free(&sim);
    return rc;
}

/*
 * The counters of a shared count: each level summed over the processes,
 * then halved and added level after level, as nd_batch_count does with
 * the counters of a single process.  Every process has as many levels (it
 * stepped through every ordinal), so the sums pair up.
 */
static int merge_shared(nd_batch *b)
{
    const nd__count_comm *c = b->comm;
    const size_t m = (size_t)1 << b->df.bits;
    /* Every process sums as many levels as all the texts took. */
    const nd__df_sched end = nd__df_sched_at(b->count_total);
    b->counted = b->count_total;
    b->df_rate = (uint32_t)end.rate;
    b->sampled = end.sampled;
    size_t total = 0;
    for (uint64_t r = 1; r < b->df_rate; r *= 2)
        total++;
    int rc = push_level(b);
    while (rc == ND_OK && b->nlevels <= total) {
        nd__df *p = realloc(b->levels, (b->nlevels + 1) * sizeof *p);
        if (!p)
            return ND_ERR_NOMEM;
        b->levels = p;
        b->levels[b->nlevels++] = (nd__df){NULL, b->df.bits};
    }
    /* b->df (empty) becomes the sum, level after level. */
    for (size_t l = 0; rc == ND_OK && l < b->nlevels; l++) {
        nd__df *d = &b->levels[l];
        if (!d->cnt && nd__df_init(d, b->df.bits) != ND_OK)
            return ND_ERR_NOMEM;
        rc = c->sum32(c->ctx, (uint32_t *)(void *)d->cnt, m);
        if (rc != ND_OK)
            return rc;
        nd__df_halve(&b->df);
        nd__df_merge(&b->df, d);
        nd__df_free(d);
    }
    free(b->levels);
    b->levels = NULL;
    b->nlevels = 0;
    return merge_held(b);
}

/* Before the first add: tell chrome from big stories among the frequent
   shingles, then install the boilerplate cut-off in the sketchers. */
static int start_filtering(nd_batch *b)
{
    b->filtering = 1;
    text_stats(b, &b->counted_text);
    merge_own(b);
    free_own(b);
    if (b->p.boilerplate <= 0.0 || !(b->comm ? b->count_total : b->counted))
        return ND_OK;
    int src = b->comm ? merge_shared(b) : ND_OK;
    if (src != ND_OK)
        return src;
    double cut = b->p.boilerplate * (double)b->counted;
    if (cut < b->p.boilerplate_min)
        cut = b->p.boilerplate_min;
    b->st.boilerplate_cutoff = (uint64_t)cut;
    cut /= b->df_rate; /* in sampled documents */
    const uint32_t c = (uint32_t)(cut > UINT32_MAX ? UINT32_MAX : cut);
    uint64_t lowered;
    int rc = nd__chrome_sort_out(&b->df, &b->held, c, COPIES_ALIKE,
                                 b->p.figures > 0.0 ? COPIES_FIGS : 0.0,
                                 b->p.seed, b->threads, &lowered);
    nd__held_free(&b->held);
    if (rc != ND_OK)
        return rc;
    for (unsigned t = 0; t < b->threads; t++)
        nd__sketcher_filter(b->sk[t], &b->df, c);
    return ND_OK;
}

/* 1 when text[0..len) holds fewer than min words: runs of bytes other
   than ASCII blanks (a cheap count, read only up to the min-th word). */
static uint8_t fewer_words(const char *text, size_t len, unsigned min)
{
    unsigned words = 0;
    int in_word = 0;
    for (size_t i = 0; i < len && words < min; i++) {
        unsigned char c = (unsigned char)text[i];
        int blank = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
                    c == '\f';
        words += !blank && !in_word;
        in_word = !blank;
    }
    return words < min;
}

ND_API int nd_batch_add_many(nd_batch *b, size_t n, const char *const *texts,
                             const size_t *lens, const nd_doc_meta *meta,
                             size_t *bad)
{
    if (b->ran)
        return fail(b, ND_ERR_STATE, "documents added after nd_batch_run");
    int rc = b->filtering ? ND_OK : start_filtering(b);
    if (rc != ND_OK)
        return fail(b, rc, rc == ND_ERR_STATE ? "the shared count: a held document is missing"
                                              : NULL);
    rc = grow(b, b->n + n);
    if (rc != ND_OK)
        return fail(b, rc, rc == ND_ERR_PARAM ? "more than 2^32-1 documents" : NULL);
    double t0 = now();
    const size_t k = b->p.num_perm, base = b->n;
    const int exact = b->p.exact;
    size_t first_bad = SIZE_MAX;
    int first_rc = ND_OK;
    nd_text_stats *before = malloc(sizeof *before * b->threads);
    if (!before)
        return fail(b, ND_ERR_NOMEM, NULL);
    for (unsigned t = 0; t < b->threads; t++)
        nd_sketcher_stats(b->sk[t], &before[t]);

#pragma omp parallel num_threads(b->threads)
    {
        int t = 0;
#ifdef _OPENMP
        t = omp_get_thread_num();
#endif
        nd_sketcher *sk = b->sk[t];
#pragma omp for schedule(dynamic, 8)
        for (size_t i = 0; i < n; i++) {
            size_t d = base + i;
            uint64_t size = 0;
            int r = ND_OK;
            r = nd_sketcher_sketch(sk, texts[i], lens[i], b->wide[t], &size);
            nd__sig16_from32(b->wide[t], (unsigned)k, b->sigs + d * k);
            if (exact) /* freed on failure, whether or not it was made */
                b->sets[d] = NULL;
            if (r == ND_OK && exact) {
                size_t m;
                const uint64_t *set = nd__sketcher_set(sk, &m);
                b->sets[d] = malloc(sizeof *set * (m ? m : 1));
                if (!b->sets[d])
                    r = ND_ERR_NOMEM;
                else if (m) /* an empty set may be a null pointer */
                    memcpy(b->sets[d], set, m * sizeof *set);
            }
            if (r != ND_OK) {
#pragma omp critical(nd_batch_bad)
                if (i < first_bad) {
                    first_bad = i;
                    first_rc = r;
                }
            }
            if (r == ND_OK && b->p.figures > 0.0)
                nd__sketcher_figures(sk, b->figs + d * ND__FIGS, &b->nfigs[d]);
            b->sizes[d] = nd__sat32(size);
            if (b->raws)
                b->raws[d] = nd__sat32(r == ND_OK ? nd__sketcher_raw_size(sk) : 0);
            if (b->lens)
                b->lens[d] = nd__sat32(lens[i]);
            if (b->shorts)
                b->shorts[d] = fewer_words(texts[i], lens[i], b->p.min_words);
            if (b->meta) {
                if (meta)
                    b->meta[d] = meta[i];
                else
                    memset(&b->meta[d], 0, sizeof b->meta[d]);
            }
        }
    }
    if (first_rc != ND_OK) {
        if (exact)
            for (size_t i = 0; i < n; i++) {
                free(b->sets[base + i]);
                b->sets[base + i] = NULL;
            }
        /* Nothing was added: forget what the sketchers counted. */
        for (unsigned t = 0; t < b->threads; t++)
            nd__sketcher_stats_set(b->sk[t], &before[t]);
        free(before);
        if (bad)
            *bad = first_bad;
        return fail(b, first_rc, first_rc == ND_ERR_UTF8 ? "invalid UTF-8" : NULL);
    }
    free(before);
    b->n += n;
    b->st.seconds_sketch += now() - t0;
    return ND_OK;
}

ND_API int nd_batch_add(nd_batch *b, const char *text, size_t len,
                        const nd_doc_meta *meta)
{
    return nd_batch_add_many(b, 1, &text, &len, meta, NULL);
}

/* The Jaccard and containment of documents x and y, estimated or exact. */
static void score(const nd_batch *b, uint32_t x, uint32_t y, double *j, double *c)
{
    const unsigned k = b->p.num_perm;
    uint64_t sx = b->sizes[x], sy = b->sizes[y];
    uint64_t small = sx < sy ? sx : sy, large = sx < sy ? sy : sx;
    if (b->p.exact) {
        nd_exact_scores(b->sets[x], sx, b->sets[y], sy, j, c);
    } else {
        *j = nd__sig16_jaccard(b->sigs + (size_t)x * k, b->sigs + (size_t)y * k, k);
        *c = nd_containment(*j, small, large);
    }
}

/* Score the pair (a, b); 1 when it passes the threshold. */
/* What verification said of a pair: a match, or which rule refused it. */
enum { V_NO = 0, V_MATCH = 1, V_FIGURES = 2, V_WINDOW = 3 };

static int verify_why(const nd_batch *b, uint32_t x, uint32_t y, nd_edge *e)
{
    double j, c;
    score(b, x, y, &j, &c);
    e->a = x;
    e->b = y;
    e->jaccard = (float)j;
    e->containment = (float)c;
    if (!nd__params_match(&b->p, j, c))
        return V_NO;
    if (b->p.figures > 0.0 &&
        nd__figs_differ(b->figs + (size_t)x * ND__FIGS, b->nfigs[x],
                        b->figs + (size_t)y * ND__FIGS, b->nfigs[y], b->p.figures))
        return V_FIGURES;
    if (b->p.window > 0.0 && b->meta[x].has_time && b->meta[y].has_time &&
        ((double)b->meta[x].time - (double)b->meta[y].time > b->p.window ||
         (double)b->meta[y].time - (double)b->meta[x].time > b->p.window))
        return V_WINDOW;
    return V_MATCH;
}

static int verify(const nd_batch *b, uint32_t x, uint32_t y, nd_edge *e)
{
    return verify_why(b, x, y, e) == V_MATCH;
}

/* The guard's question (and the attach clustering's): do x and y match? */
static int docs_match(void *ctx, uint32_t x, uint32_t y)
{
    nd_edge e;
    return verify(ctx, x, y, &e);
}

/*
 * The attach clustering's question: do x and y, both contained in l, cover
 * a common part of it?  A signature position where x agrees with l says
 * that l's least shingle there is in x; where x and y both agree with l, it
 * is in both.  Texts that cover different parts of l (the stories of a
 * digest) share almost none of the positions each has with l; two cuts of
 * one lead share most of them.  With exact sets the same question is asked
 * of the sets.
 */
static int share_part(void *ctx, uint32_t l, uint32_t x, uint32_t y)
{
    const nd_batch *b = ctx;
    size_t ax = 0, ay = 0, both = 0;
    if (b->p.exact) {
        /* Walk l's sorted set, looking each element up in x's and y's. */
        const uint64_t *L = b->sets[l], *X = b->sets[x], *Y = b->sets[y];
        size_t nl = b->sizes[l], nx = b->sizes[x], ny = b->sizes[y], i = 0, j = 0;
        for (size_t t = 0; t < nl; t++) {
            while (i < nx && X[i] < L[t])
                i++;
            while (j < ny && Y[j] < L[t])
                j++;
            int in_x = i < nx && X[i] == L[t], in_y = j < ny && Y[j] == L[t];
            ax += in_x;
            ay += in_y;
            both += in_x & in_y;
        }
    } else {
        const size_t k = b->p.num_perm;
        const uint16_t *L = b->sigs + l * k, *X = b->sigs + x * k, *Y = b->sigs + y * k;
        for (size_t t = 0; t < k; t++) {
            if (L[t] & ND__SIG_COPIED) /* a copy of another of l's bins */
                continue;
            int in_x = X[t] == L[t], in_y = Y[t] == L[t];
            ax += in_x;
            ay += in_y;
            both += in_x & in_y;
        }
    }
    return nd__same_part((unsigned)ax, (unsigned)ay, (unsigned)both);
}

/* Room for need edges in the growing array *v (room for *cap), doubled
   from 4096 as often as it takes. */
static int reserve_edges(nd_edge **v, size_t *cap, size_t need)
{
    if (need <= *cap)
        return ND_OK;
    size_t c = *cap;
    while (c < need)
        c = c ? c * 2 : 4096;
    nd_edge *p = realloc(*v, sizeof *p * c);
    if (!p)
        return ND_ERR_NOMEM;
    *v = p;
    *cap = c;
    return ND_OK;
}

/* ---------------------------------------------- a shared run (jobint.h) */

/* The containment bands of the batch's params (0 bands: none). */
static nd__lsh_contain contain_bands(const nd_batch *b)
{
    nd__lsh_contain cb = {0, 0, b->sizes};
    nd__params_lsh_contain(&b->p, b->rows, &cb.bands, &cb.rows);
    return cb;
}

unsigned nd__batch_bands(const nd_batch *b, unsigned *main)
{
    *main = b->bands;
    return b->bands + contain_bands(b).bands;
}

void nd__batch_band_keys(const nd_batch *b, unsigned band, size_t n, uint32_t *key)
{
    const nd__lsh_contain cb = contain_bands(b);
#pragma omp parallel for num_threads(b->threads) schedule(static)
    for (size_t d = 0; d < n; d++)
        key[d] = nd__lsh_key16(b->sigs + d * b->p.num_perm, band, b->bands, b->rows, &cb,
                               b->p.seed);
}

int nd__batch_skipped(const nd_batch *b, size_t doc)
{
    if (b->sizes[doc] == 0)
        return 1;
    return b->shorts && b->shorts[doc] ? 2 : 0;
}

uint32_t nd__batch_set_size(const nd_batch *b, size_t doc)
{
    return b->sizes[doc];
}

void nd__batch_verify(const nd_batch *b, const uint64_t *pairs, size_t m, nd_edge *e,
                      uint8_t *kind)
{
    const int attach = b->p.cluster == ND_CLUSTER_ATTACH &&
                       b->p.measure == ND_MEASURE_JACCARD && b->p.containment > 0.0;
#pragma omp parallel for num_threads(b->threads) schedule(static)
    for (size_t i = 0; i < m; i++) {
        int v = verify_why(b, (uint32_t)(pairs[i] >> 32), (uint32_t)pairs[i], &e[i]);
        kind[i] = v == V_MATCH     ? ND__V_MATCH
                  : v == V_FIGURES ? ND__V_FIGURES
                  : v == V_WINDOW  ? ND__V_WINDOW
                                   : ND__V_NO;
        if (v != V_MATCH && attach && e[i].jaccard < b->p.threshold &&
            e[i].containment >= PARTIAL * b->p.containment)
            kind[i] |= ND__V_PART;
    }
}

void nd__batch_give(nd_batch *b, nd__batch_given *g)
{
    b->given = g;
}

int nd__batch_sibling(const nd_batch *b, nd_batch **out)
{
    return nd_batch_create(&b->p, out);
}

static int cluster(nd_batch *b, nd_edge *part, size_t npart);

ND_API int nd_batch_run(nd_batch *b)
{
    if (b->ran)
        return fail(b, ND_ERR_STATE, "nd_batch_run called twice");
    if (b->comm && !b->filtering) {
        /* A process with no document of its own still takes part in the
           count exchange. */
        int frc = start_filtering(b);
        if (frc != ND_OK)
            return fail(b, frc, NULL);
    }
    if (b->gather) {
        char gmsg[sizeof b->err];
        gmsg[0] = '\0';
        nd__gather_fn gather = b->gather;
        b->gather = NULL;
        int grc = gather(b->gather_ctx, b, gmsg, sizeof gmsg);
        if (grc != ND_OK)
            return fail(b, grc, gmsg[0] ? gmsg : NULL);
    }
    if (b->given) {
        /* Candidates and verification were shared: cluster what they gave. */
        nd__batch_given *g = b->given;
        b->given = NULL;
        b->edges = g->edges;
        b->nedges = g->nedges;
        b->st.candidates = g->candidates;
        b->st.capped_buckets = g->capped;
        b->st.figures_refused = g->figures_refused;
        b->st.window_refused = g->window_refused;
        b->st.short_docs = g->short_docs;
        b->st.seconds_lsh = g->seconds_lsh;
        b->st.seconds_verify = g->seconds_verify;
        if (g->clustered) {
            b->st.edges = g->all_edges;
            b->st.clusters = g->clusters;
            b->st.guard_rejected = g->guard_rejected;
            b->st.seconds_cluster = g->seconds_cluster;
            b->ran = 1;
            return ND_OK;
        }
        return cluster(b, g->part, g->npart);
    }
    const size_t n = b->n;
    double t0 = now();
    uint8_t *skip = malloc(n ? n : 1);
    if (!skip)
        return fail(b, ND_ERR_NOMEM, NULL);
    for (size_t i = 0; i < n; i++) {
        /* Empty and short texts are their own clusters: no candidates. */
        skip[i] = b->sizes[i] == 0 || (b->shorts && b->shorts[i]);
        b->st.short_docs += b->shorts && b->shorts[i] && b->sizes[i] != 0;
    }
    nd__cands *cands;
    char msg[sizeof b->err];
    nd__lsh_contain cb = {0, 0, b->sizes};
    nd__params_lsh_contain(&b->p, b->rows, &cb.bands, &cb.rows);
    phase(b, ND_PHASE_CANDIDATES, 0, b->bands + cb.bands);
    int rc = nd__lsh_cands16(b->sigs, n, b->p.num_perm, b->bands, b->rows, &cb,
                             b->p.seed, skip, b->threads, b->p.memory, b->p.tmpdir,
                             &cands, &b->st.capped_buckets, msg, sizeof msg);
    free(skip);
    if (rc != ND_OK)
        return fail(b, rc, msg);
    nd__cands_spilled(cands, &b->st.spill_runs, &b->st.spill_bytes);
    phase(b, ND_PHASE_CANDIDATES, b->bands + cb.bands, b->bands + cb.bands);
    phase(b, ND_PHASE_VERIFY, 0, 0);
    double t1 = now(), merging = 0.0;

    /* Verify in blocks as the candidates come: only the pairs that pass
       are kept as edges, so memory holds one block of candidates, not an
       edge a candidate. */
    const size_t block = nd__cands_block(cands);
    size_t np = 0, ne = 0, cap = 0;
    nd_edge *edges = NULL, *blk = malloc(sizeof *blk * block);
    /* The attach clustering also reads the pairs that hold part of each
       other (containment of the smaller >= PARTIAL x the setting, below
       the rule): they tell digests apart. */
    const int attach = b->p.cluster == ND_CLUSTER_ATTACH &&
                       b->p.measure == ND_MEASURE_JACCARD && b->p.containment > 0.0;
    nd_edge *part = NULL;
    size_t npart = 0, partcap = 0;
    uint8_t *keep = malloc(block);
    if (!blk || !keep)
        rc = ND_ERR_NOMEM;
    while (rc == ND_OK) {
        const uint64_t *pairs;
        size_t m;
        double tm = now();
        rc = nd__cands_next(cands, &pairs, &m, msg, sizeof msg);
        merging += now() - tm;
        if (rc != ND_OK || !m)
            break;
        np += m;
        /* Pairs come sorted: the first documents run in order, the second
           ones jump, so what verification reads of them (cold) is fetched
           a few pairs ahead: every line of the signature (k * 2 bytes,
           which need not start a line: 5 lines at k = 128), the set size,
           the figure sketch (64 bytes, 2 lines). */
        const size_t sigbytes = b->p.exact ? 0 : (size_t)b->p.num_perm * sizeof *b->sigs;
        const int figs = b->p.figures > 0.0;
        size_t n1 = 0, n2 = 0, nfig = 0, nwin = 0;
#pragma omp parallel for num_threads(b->threads) schedule(static) \
    reduction(+ : n1, n2, nfig, nwin)
        for (size_t i = 0; i < m; i++) {
            if (i + VERIFY_AHEAD < m) {
                const size_t y = (uint32_t)pairs[i + VERIFY_AHEAD];
                if (sigbytes) {
                    const uintptr_t s = (uintptr_t)(b->sigs + y * b->p.num_perm);
                    for (uintptr_t l = s & ~(uintptr_t)63; l < s + sigbytes; l += 64)
                        __builtin_prefetch((const void *)l);
                }
                __builtin_prefetch(b->sizes + y);
                if (figs) {
                    __builtin_prefetch(b->nfigs + y);
                    __builtin_prefetch(b->figs + y * ND__FIGS);
                    __builtin_prefetch(b->figs + y * ND__FIGS + ND__FIGS - 1);
                }
            }
            int v = verify_why(b, (uint32_t)(pairs[i] >> 32), (uint32_t)pairs[i],
                               &blk[i]);
            keep[i] = v == V_MATCH;
            if (!keep[i] && attach && blk[i].jaccard < b->p.threshold &&
                blk[i].containment >= PARTIAL * b->p.containment)
                keep[i] = 2;
            n1 += keep[i] == 1;
            n2 += keep[i] == 2;
            nfig += v == V_FIGURES;
            nwin += v == V_WINDOW;
        }
        b->st.figures_refused += nfig;
        b->st.window_refused += nwin;
        if (reserve_edges(&edges, &cap, ne + n1) != ND_OK ||
            reserve_edges(&part, &partcap, npart + n2) != ND_OK) {
            rc = ND_ERR_NOMEM;
            break;
        }
        for (size_t i = 0; i < m; i++) {
            if (keep[i] == 1)
                edges[ne++] = blk[i];
            else if (keep[i] == 2)
                part[npart++] = blk[i];
        }
        /* The number of candidates is known only at the end. */
        phase(b, ND_PHASE_VERIFY, np, 0);
    }
    nd__cands_free(cands);
    free(blk);
    free(keep);
    if (rc != ND_OK) {
        free(edges);
        free(part);
        return fail(b, rc, rc == ND_ERR_IO ? msg : NULL);
    }
    b->edges = edges;
    b->nedges = ne;
    phase(b, ND_PHASE_VERIFY, np, np);
    b->st.candidates = np;
    b->st.seconds_lsh = t1 - t0 + merging;
    b->st.seconds_verify = now() - t1 - merging;
    return cluster(b, part, npart);
}

/* Cluster the batch's edges (attach: and part[0..npart), which it frees),
   then the ran state. */
static int cluster(nd_batch *b, nd_edge *part, size_t npart)
{
    const size_t n = b->n, ne = b->nedges;
    phase(b, ND_PHASE_CLUSTER, 0, ne);
    double t2 = now();

    nd__uf uf;
    b->cluster = malloc(sizeof *b->cluster * (n ? n : 1));
    b->rep = malloc(sizeof *b->rep * (n ? n : 1));
    if (!b->cluster || !b->rep || nd__uf_init(&uf, n) != ND_OK) {
        free(part);
        return fail(b, ND_ERR_NOMEM, NULL);
    }
    if (b->p.cluster == ND_CLUSTER_GUARDED) {
        uint64_t *sizes = widen(b->sizes, n);
        int grc = sizes ? nd__cluster_guarded(&uf, b->edges, ne, sizes, docs_match,
                                              b, &b->st.guard_rejected)
                        : ND_ERR_NOMEM;
        free(sizes);
        if (grc != ND_OK) {
            nd__uf_free(&uf);
            return fail(b, ND_ERR_NOMEM, NULL);
        }
    } else if (b->p.cluster == ND_CLUSTER_ATTACH && b->p.measure == ND_MEASURE_JACCARD) {
        nd__attach_rule r = {(float)b->p.threshold, b->sizes, b->raws,
                             nd__params_stub_shingles(&b->p), part, npart, b, share_part,
                             docs_match};
        int arc = nd__cluster_attach(&uf, b->edges, ne, &r, b->threads, &b->st.guard_rejected);
        free(part);
        part = NULL;
        if (arc != ND_OK) {
            nd__uf_free(&uf);
            return fail(b, ND_ERR_NOMEM, NULL);
        }
    } else {
        nd__uf_union_edges(&uf, b->edges, ne, 0.0f, b->threads);
    }
    free(part);
    uint64_t *lens = b->lens ? widen(b->lens, n) : NULL;
    nd__docinfo info = {lens, b->meta};
    size_t nc = b->lens && !lens ? 0
                                 : nd__clusters(&uf, b->p.keep, &info, b->cluster, b->rep);
    free(lens);
    nd__uf_free(&uf);
    if (n && !nc)
        return fail(b, ND_ERR_NOMEM, NULL);
    double t3 = now();
    phase(b, ND_PHASE_CLUSTER, ne, ne);

    b->st.edges = ne;
    b->st.clusters = nc;
    b->st.seconds_cluster = t3 - t2;
    b->ran = 1;
    return ND_OK;
}

ND_API size_t nd_batch_size(const nd_batch *b) { return b->n; }

ND_API uint32_t nd_batch_cluster(const nd_batch *b, size_t doc)
{
    return b->ran && b->cluster && doc < b->n ? b->cluster[doc] : UINT32_MAX;
}

ND_API uint32_t nd_batch_rep(const nd_batch *b, size_t doc)
{
    return b->ran && b->rep && doc < b->n ? b->rep[doc] : UINT32_MAX;
}

ND_API const nd_edge *nd_batch_edges(const nd_batch *b, size_t *n)
{
    *n = b->ran ? b->nedges : 0;
    return b->edges;
}

ND_API void nd_batch_stats_get(const nd_batch *b, nd_batch_stats *st)
{
    *st = b->st;
    text_stats(b, &st->text);
    st->text.docs += b->elsewhere.docs;
    st->text.empty += b->elsewhere.empty;
    st->text.bad_utf8 += b->elsewhere.bad_utf8;
    st->text.bytes += b->elsewhere.bytes;
    st->text.suppressed += b->elsewhere.suppressed;
    st->text.suppressed_docs += b->elsewhere.suppressed_docs;
}

ND_API const char *nd_batch_errmsg(const nd_batch *b)
{
    return b->err[0] ? b->err : "no error";
}
