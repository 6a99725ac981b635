/*
 * attach.c - clusters that do not chain: pairs alike as wholes make cores,
 * and a text contained in another joins one family at most.
 *
 * Connected components over every verified pair let one containment pair
 * merge two stories: a stub, a caption or a filler paragraph is contained
 * in pages of different stories, and a page that carries a photo gallery
 * beside its story contains both.  Here the two kinds of pair play
 * different parts.
 *
 *  1. Pairs whose Jaccard clears the threshold are alike as wholes: their
 *     connected components are the cores.
 *  2. A pair that matched by containment alone says "the smaller text is
 *     part of the larger", its container, when the smaller text is not a
 *     stub (r->min_contained: a teaser, a caption or a blurb contained in
 *     a story is not a copy of it; stubs join only copies of themselves,
 *     by Jaccard).  A container that also holds a
 *     text of another core, unlinked to the first and covering another
 *     part of the container, holds several things (a digest, a live page,
 *     a story beside a gallery, a reprint with another story's paragraph):
 *     nothing is attached through it.  Two texts that cover the same part
 *     of it (two cuts of one story's lead, two scans of it) do not make it
 *     a digest.
 *  3. A core joins another core only when at least half of that core's
 *     members (of its first SUPPORT_SAMPLE) contain it, judged from their
 *     signatures, not only from the pairs LSH found: a story's lead is in
 *     every version of the story, a gallery or a filler in the one page
 *     that carries it.
 *  4. The core of a smaller text joins the core of its best container
 *     (highest Jaccard, then containment, then smallest core), one only.
 *
 * Two cores are linked when some verified pair joins a member of one to a
 * member of the other.  Every decision reads the cores of step 1 and the
 * pairs sorted into a total order, and the joins are made after all are
 * decided, so the clusters depend neither on the order of the pairs nor on
 * the thread count.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "../core/sort.h"

/* A container holding more contained texts than this is a digest. */
#define MAX_HELD 64
/* The support of a container core is counted over this many members. */
#define SUPPORT_SAMPLE 64

/* One containment pair between two cores. */
typedef struct held {
    uint32_t small, large;  /* the cores of the contained text and container */
    uint32_t container;     /* the containing document */
    uint32_t contained;     /* the contained document */
    float jaccard, containment;
} held;

/* Order: contained core, container core, container, then strongest pair
   first, then contained document: a total order. */
static int cmp_held(const void *p, const void *q)
{
    const held *x = p, *y = q;
    if (x->small != y->small)
        return x->small < y->small ? -1 : 1;
    if (x->large != y->large)
        return x->large < y->large ? -1 : 1;
    if (x->container != y->container)
        return x->container < y->container ? -1 : 1;
    if (x->jaccard != y->jaccard)
        return x->jaccard > y->jaccard ? -1 : 1;
    if (x->containment != y->containment)
        return x->containment > y->containment ? -1 : 1;
    return x->contained < y->contained ? -1 : x->contained > y->contained;
}

static uint64_t pair_key(uint32_t x, uint32_t y)
{
    return x < y ? (uint64_t)x << 32 | y : (uint64_t)y << 32 | x;
}

static int has(const uint64_t *v, size_t n, uint64_t k)
{
    size_t i = nd__lower_u64(v, n, k);
    return i < n && v[i] == k;
}

typedef struct attach_ctx {
    nd__uf *u;
    const uint64_t *links, *holds; /* sorted core pairs; (container, text) */
    size_t nl, nh;
    const nd__attach_rule *r;
} attach_ctx;

/*
 * 1 when `container` holds, besides the text `doc`, a text of another core
 * that is not linked to doc's core and covers another part of the
 * container.
 */
static int holds_other(const attach_ctx *a, uint32_t container, uint32_t doc)
{
    size_t lo = nd__lower_u64(a->holds, a->nh, (uint64_t)container << 32), end = lo;
    while (end < a->nh && a->holds[end] >> 32 == container)
        end++;
    if (end - lo > MAX_HELD)
        return 1;
    uint32_t core = nd__uf_find(a->u, doc);
    for (size_t i = lo; i < end; i++) {
        uint32_t other = (uint32_t)a->holds[i], oc = nd__uf_find(a->u, other);
        if (oc != core && !has(a->links, a->nl, pair_key(oc, core)) &&
            !a->r->share(a->r->ctx, container, doc, other))
            return 1;
    }
    return 0;
}

/* 1 when x is the stronger pair: higher Jaccard, then containment. */
static int stronger(const held *x, const held *y)
{
    return x->jaccard > y->jaccard ||
           (x->jaccard == y->jaccard && x->containment > y->containment);
}

/* 1 when e->a is the contained text of e: the smaller set; equal sizes,
   the later document. */
static int a_contained(const nd_edge *e, const uint32_t *set_size)
{
    return set_size[e->a] < set_size[e->b] ||
           (set_size[e->a] == set_size[e->b] && e->a > e->b);
}

/*
 * The first `most` members of every set of u, in document order: those of
 * the set whose root is c are list[start[c] .. start[c + 1]).  ND_OK or
 * ND_ERR_NOMEM.
 */
static int first_members(nd__uf *u, uint32_t most, uint32_t **startp, uint32_t **listp)
{
    const size_t n = u->n;
    uint32_t *start = calloc(n + 1, sizeof *start);
    uint32_t *list = malloc(sizeof *list * (n ? n : 1));
    uint32_t *listed = calloc(n ? n : 1, sizeof *listed);
    if (!start || !list || !listed) {
        free(start);
        free(list);
        free(listed);
        return ND_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        listed[nd__uf_find(u, (uint32_t)i)]++;
    for (size_t i = 0; i < n; i++)
        start[i + 1] = start[i] + (listed[i] < most ? listed[i] : most);
    memset(listed, 0, n * sizeof *listed);
    for (size_t i = 0; i < n; i++) {
        uint32_t c = nd__uf_find(u, (uint32_t)i);
        if (start[c] + listed[c] < start[c + 1])
            list[start[c] + listed[c]++] = (uint32_t)i;
    }
    free(listed);
    *startp = start;
    *listp = list;
    return ND_OK;
}

int nd__cluster_attach(nd__uf *u, const nd_edge *edges, size_t ne,
                       const nd__attach_rule *r, unsigned threads, uint64_t *refused)
{
    const float alike = r->alike;
    const uint32_t *set_size = r->set_size;
    *refused = 0;
    nd__uf_union_edges(u, edges, ne, alike, threads);

    size_t m = 0;
    for (size_t i = 0; i < ne; i++)
        if (edges[i].jaccard < alike &&
            nd__uf_find(u, edges[i].a) != nd__uf_find(u, edges[i].b))
            m++;
    if (!m)
        return ND_OK;
    held *h = malloc(sizeof *h * m);
    uint64_t *links = malloc(sizeof *links * 2 * m);
    uint64_t *holds = malloc(sizeof *holds * 2 * (m + r->npartial));
    uint32_t *start = NULL, *list = NULL;
    int rc = h && links && holds ? first_members(u, SUPPORT_SAMPLE, &start, &list)
                                 : ND_ERR_NOMEM;
    if (rc != ND_OK)
        goto done;
    m = 0;
    for (size_t i = 0; i < ne; i++) {
        const nd_edge *e = &edges[i];
        if (e->jaccard >= alike)
            continue;
        uint32_t ca = nd__uf_find(u, e->a), cb = nd__uf_find(u, e->b);
        if (ca == cb)
            continue;
        int a_small = a_contained(e, set_size);
        if (r->raw_size[a_small ? e->a : e->b] < r->min_contained) {
            (*refused)++;
            continue;
        }
        h[m] = (held){a_small ? ca : cb, a_small ? cb : ca, a_small ? e->b : e->a,
                      a_small ? e->a : e->b, e->jaccard, e->containment};
        links[m] = pair_key(ca, cb);
        holds[m] = (uint64_t)h[m].container << 32 | h[m].contained;
        m++;
    }
    /* A part of a text held counts as holding it, for telling digests. */
    size_t mh = m;
    for (size_t i = 0; i < r->npartial; i++) {
        const nd_edge *e = &r->partial[i];
        int a_small = a_contained(e, set_size);
        uint32_t small = a_small ? e->a : e->b, large = a_small ? e->b : e->a;
        if (nd__uf_find(u, small) != nd__uf_find(u, large))
            holds[mh++] = (uint64_t)large << 32 | small;
    }
    nd__sort_u64(links, links + m, m);
    nd__sort_u64(holds, holds + mh, mh);
    attach_ctx a = {u, links, holds, nd__unique_u64(links, m), nd__unique_u64(holds, mh), r};

    /* Per contained core and container core: the strongest pair through a
       container that is no digest, kept when at least half of the
       container core (of its first SUPPORT_SAMPLE members) holds the
       contained text. */
    qsort(h, m, sizeof *h, cmp_held);
    size_t nc = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        int found = 0;
        held best = {0};
        for (; j < m && h[j].small == h[i].small && h[j].large == h[i].large; j++) {
            if (holds_other(&a, h[j].container, h[j].contained))
                continue;
            if (!found || stronger(&h[j], &best))
                best = h[j];
            found = 1;
        }
        int keep = found;
        if (found) {
            uint32_t holders = 0, all = start[best.large + 1] - start[best.large];
            for (uint32_t t = start[best.large]; t < start[best.large + 1]; t++)
                holders += list[t] == best.container ||
                           r->holds(r->ctx, list[t], best.contained);
            keep = 2 * holders >= all;
        }
        if (keep)
            h[nc++] = best;
        else
            *refused += j - i;
        i = j;
    }

    /* Per contained core: the best container core, the only one joined.
       The joins come after every decision. */
    size_t nj = 0;
    uint32_t *join = (uint32_t *)holds; /* holds is read no more */
    for (size_t i = 0; i < nc;) {
        size_t j = i + 1, best = i;
        for (; j < nc && h[j].small == h[i].small; j++)
            if (stronger(&h[j], &h[best]))
                best = j;
        *refused += j - i - 1;
        join[nj++] = h[best].small;
        join[nj++] = h[best].large;
        i = j;
    }
    for (size_t i = 0; i < nj; i += 2)
        nd__uf_union(u, join[i], join[i + 1]);
done:
    free(h);
    free(links);
    free(holds);
    free(start);
    free(list);
    return rc;
}
