/*
 * unionfind.c - disjoint sets with path halving.
 *
 * Union links the larger root under the smaller, so a root is its set's
 * smallest member and the result does not depend on the order of unions.
 * Without union by rank the worst case is O(log n) amortised per operation
 * with path halving, which measured faster here than keeping ranks.
 *
 * nd__uf_union_edges runs the unions of many edges on several threads at
 * once (a lock-free union-find in the manner of Anderson and Woll 1991):
 * a root is linked under the other by a compare-and-swap that fails if it
 * stopped being a root meanwhile (then both are found again), and path
 * halving swaps a parent for its grandparent only if it is unchanged.  A
 * parent is never larger than its child, links go from the larger root to
 * the smaller and halving moves to an ancestor, so every parent only ever
 * decreases and relaxed atomics on the one array suffice; each root stays
 * its set's smallest member, so the sets and roots are those of the serial
 * unions, whatever the interleaving.  Measured on 10^7 documents and
 * 3.8 x 10^7 edges in sorted order: 0.59 s serially, 0.32 s on 2 threads
 * (the atomics cost 10% on one thread, which therefore runs the plain
 * loop, as do small edge lists).
 */
#include <stdlib.h>

#include "cluster.h"

int nd__uf_init(nd__uf *u, size_t n)
{
    u->n = n;
    u->parent = malloc(sizeof *u->parent * (n ? n : 1));
    if (!u->parent)
        return ND_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        u->parent[i] = (uint32_t)i;
    return ND_OK;
}

void nd__uf_free(nd__uf *u)
{
    free(u->parent);
    u->parent = NULL;
    u->n = 0;
}

uint32_t nd__uf_find(nd__uf *u, uint32_t x)
{
    uint32_t *p = u->parent;
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

int nd__uf_union(nd__uf *u, uint32_t a, uint32_t b)
{
    a = nd__uf_find(u, a);
    b = nd__uf_find(u, b);
    if (a == b)
        return 0;
    if (a < b)
        u->parent[b] = a;
    else
        u->parent[a] = b;
    return 1;
}

static uint32_t find_shared(uint32_t *p, uint32_t x)
{
    for (;;) {
        uint32_t up = __atomic_load_n(&p[x], __ATOMIC_RELAXED);
        if (up == x)
            return x;
        uint32_t top = __atomic_load_n(&p[up], __ATOMIC_RELAXED);
        if (top != up)
            __atomic_compare_exchange_n(&p[x], &up, top, 0, __ATOMIC_RELAXED,
                                        __ATOMIC_RELAXED);
        x = top;
    }
}

void nd__uf_union_edges(nd__uf *u, const nd_edge *edges, size_t ne,
                        float min_jaccard, unsigned threads)
{
    uint32_t *p = u->parent;
    if (threads <= 1 || ne <= 65536) {
        for (size_t i = 0; i < ne; i++)
            if (edges[i].jaccard >= min_jaccard)
                nd__uf_union(u, edges[i].a, edges[i].b);
        return;
    }
#pragma omp parallel for num_threads(threads) schedule(static, 4096)
    for (size_t i = 0; i < ne; i++) {
        if (edges[i].jaccard < min_jaccard)
            continue;
        uint32_t a = edges[i].a, b = edges[i].b;
        for (;;) {
            a = find_shared(p, a);
            b = find_shared(p, b);
            if (a == b)
                break;
            if (a > b) {
                uint32_t t = a;
                a = b;
                b = t;
            }
            uint32_t root = b;
            if (__atomic_compare_exchange_n(&p[b], &root, a, 0, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                break;
        }
    }
}
