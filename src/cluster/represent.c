/*
 * represent.c - cluster numbering and the keep policies.
 *
 * A policy is a strict order on documents; the representative of a cluster
 * is its least member in that order.  Every order ends with the document
 * number, so the choice is stable and independent of threads.
 */
#include <stdlib.h>

#include "cluster.h"

/*
 * -1 when a is earlier than b, 1 when later, 0 when equal or neither has a
 * time; a known time comes before an unknown one.
 */
static int by_time(const nd_doc_meta *x, const nd_doc_meta *y)
{
    if (x->has_time != y->has_time)
        return x->has_time ? -1 : 1;
    if (x->has_time && x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return 0;
}

/* 1 when document a should represent rather than document b (a != b). */
static int better(nd_keep keep, const nd__docinfo *in, uint32_t a, uint32_t b)
{
    int t;
    switch (keep) {
    case ND_KEEP_LONGEST:
        if (in->len && in->len[a] != in->len[b])
            return in->len[a] > in->len[b];
        break;
    case ND_KEEP_EARLIEST:
        if (in->meta && (t = by_time(&in->meta[a], &in->meta[b])) != 0)
            return t < 0;
        break;
    case ND_KEEP_SOURCE:
        if (in->meta) {
            const nd_doc_meta *x = &in->meta[a], *y = &in->meta[b];
            if (x->has_priority != y->has_priority)
                return x->has_priority;
            if (x->has_priority && x->priority != y->priority)
                return x->priority < y->priority;
            if ((t = by_time(x, y)) != 0)
                return t < 0;
        }
        break;
    case ND_KEEP_FIRST:
        break;
    }
    return a < b;
}

size_t nd__clusters(nd__uf *u, nd_keep keep, const nd__docinfo *info,
                    uint32_t *cluster, uint32_t *rep)
{
    size_t n = u->n, next = 0;
    /* best[root] = representative so far; a root is its smallest member. */
    uint32_t *best = malloc(sizeof *best * (n ? n : 1));
    if (!best)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = nd__uf_find(u, (uint32_t)i);
        if (r == i) {
            best[i] = (uint32_t)i;
            cluster[i] = (uint32_t)next++;
        } else {
            cluster[i] = cluster[r];
            if (better(keep, info, (uint32_t)i, best[r]))
                best[r] = (uint32_t)i;
        }
    }
    for (size_t i = 0; i < n; i++)
        rep[i] = best[nd__uf_find(u, (uint32_t)i)];
    free(best);
    return next;
}
