/*
 * guard.c - clustering with a chaining guard.
 *
 * Plain connected components let one bridging document (a digest quoting two
 * stories, a template shared by different reports) chain unrelated stories
 * into one cluster.  Here edges are taken strongest first, and two clusters
 * join only when their centers match each other under the same rule that
 * made the edge.  The center of a cluster is its most central member: the
 * one with the largest sum of Jaccard similarity over its verified pairs
 * (then the largest shingle set, then the smaller document).  The wire
 * original is what every reprint was made from, so it is close to all of
 * them; a digest that bridges two stories may match as many documents, but
 * each only weakly, so it does not become a center.
 *
 * Like star clustering (Aslam et al. 2004) with weighted degree picking the
 * stars.  Edges are sorted into a total order before anything is summed, so
 * the result does not depend on threads.
 */
#include <stdlib.h>

#include "cluster.h"

/* Edge order: Jaccard, then containment, descending; then (a, b). */
static int stronger(const nd_edge *x, const nd_edge *y)
{
    if (x->jaccard != y->jaccard)
        return x->jaccard > y->jaccard;
    if (x->containment != y->containment)
        return x->containment > y->containment;
    if (x->a != y->a)
        return x->a < y->a;
    return x->b < y->b;
}

static int cmp_edges(const void *p, const void *q)
{
    const nd_edge *x = p, *y = q;
    return stronger(x, y) ? -1 : stronger(y, x) ? 1 : 0;
}

int nd__cluster_guarded(nd__uf *u, const nd_edge *edges, size_t ne,
                        const uint64_t *set_size, nd__match_fn match,
                        void *ctx, uint64_t *rejected)
{
    *rejected = 0;
    nd_edge *e = malloc(sizeof *e * (ne ? ne : 1));
    uint32_t *center = malloc(sizeof *center * (u->n ? u->n : 1));
    if (!e || !center) {
        free(e);
        free(center);
        return ND_ERR_NOMEM;
    }
    for (size_t i = 0; i < ne; i++)
        e[i] = edges[i];
    qsort(e, ne, sizeof *e, cmp_edges);
    double *degree = calloc(u->n ? u->n : 1, sizeof *degree);
    if (!degree) {
        free(e);
        free(center);
        return ND_ERR_NOMEM;
    }
    for (size_t i = 0; i < ne; i++) {
        degree[e[i].a] += e[i].jaccard;
        degree[e[i].b] += e[i].jaccard;
    }
    for (size_t i = 0; i < u->n; i++)
        center[i] = (uint32_t)i;
    for (size_t i = 0; i < ne; i++) {
        uint32_t ra = nd__uf_find(u, e[i].a), rb = nd__uf_find(u, e[i].b);
        if (ra == rb)
            continue;
        uint32_t ca = center[ra], cb = center[rb];
        /* The edge itself is the centers' pair when both are centers. */
        int ok = (ca == e[i].a && cb == e[i].b) || match(ctx, ca, cb);
        if (!ok) {
            (*rejected)++;
            continue;
        }
        uint32_t c = degree[ca] != degree[cb] ? (degree[ca] > degree[cb] ? ca : cb)
                     : set_size[ca] != set_size[cb] ? (set_size[ca] > set_size[cb] ? ca : cb)
                     : (ca < cb ? ca : cb);
        nd__uf_union(u, ra, rb);
        center[nd__uf_find(u, ra)] = c;
    }
    free(e);
    free(center);
    free(degree);
    return ND_OK;
}
