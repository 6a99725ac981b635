/*
 * cluster.h - union-find and cluster representatives (internal).
 */
#ifndef ND_CLUSTER_H
#define ND_CLUSTER_H

#include "../neardup.h"

/* Disjoint sets over 0..n-1; a root is always the smallest member. */
typedef struct nd__uf {
    uint32_t *parent;
    size_t n;
} nd__uf;

int nd__uf_init(nd__uf *u, size_t n);
void nd__uf_free(nd__uf *u);
uint32_t nd__uf_find(nd__uf *u, uint32_t x);
/* Join the sets of a and b; returns 1 if they were apart. */
int nd__uf_union(nd__uf *u, uint32_t a, uint32_t b);

/*
 * Join the sets of the two documents of every edge whose Jaccard is at
 * least min_jaccard, on up to `threads` threads at once; the sets (and
 * their roots) are those of calling nd__uf_union on each edge in turn.
 */
void nd__uf_union_edges(nd__uf *u, const nd_edge *edges, size_t ne,
                        float min_jaccard, unsigned threads);

/* 1 when documents x and y match (the verification rule). */
typedef int (*nd__match_fn)(void *ctx, uint32_t x, uint32_t y);

/*
 * Join the documents of u along edges, strongest first, but join two
 * clusters only when their centers (largest sum of Jaccard over their
 * verified pairs, then largest shingle set) match.  Counts the
 * edges refused in *rejected.  ND_OK or ND_ERR_NOMEM.
 */
int nd__cluster_guarded(nd__uf *u, const nd_edge *edges, size_t ne,
                        const uint64_t *set_size, nd__match_fn match,
                        void *ctx, uint64_t *rejected);

/* What the attach clustering asks of the documents (attach.c). */
typedef struct nd__attach_rule {
    float alike;               /* Jaccard at which a pair makes a core */
    const uint32_t *set_size;  /* shingle set sizes (saturated): the smaller
                                  is contained */
    const uint32_t *raw_size;  /* the same before boilerplate was dropped */
    uint64_t min_contained;    /* a contained text smaller than this (a stub,
                                  a caption, a teaser) joins nothing */
    const nd_edge *partial;    /* pairs whose smaller text is partly in the
                                  larger (below the rule): they only tell
                                  that the larger holds part of it */
    size_t npartial;
    void *ctx;
    /* 1 when x and y, both contained in `container`, cover a common part
       of it (two cuts of one lead), 0 when different parts (two stories
       of a digest) */
    int (*share)(void *ctx, uint32_t container, uint32_t x, uint32_t y);
    /* 1 when `large` holds `small` under the match rule */
    int (*holds)(void *ctx, uint32_t large, uint32_t small);
} nd__attach_rule;

/*
 * Clusters that do not chain (attach.c): the edges whose Jaccard is at
 * least r->alike make cores; an edge below it (a containment match) joins
 * the smaller text's core to its best container's core, one at most, and
 * none through a container that holds texts of unrelated cores.  Counts the containment edges refused in
 * *refused.  ND_OK or ND_ERR_NOMEM.
 */
int nd__cluster_attach(nd__uf *u, const nd_edge *edges, size_t ne,
                       const nd__attach_rule *r, unsigned threads, uint64_t *refused);

/* What a keep policy looks at. */
typedef struct nd__docinfo {
    const uint64_t *len;      /* text length in bytes */
    const nd_doc_meta *meta;  /* time and priority; may be NULL */
} nd__docinfo;

/*
 * Number the sets of u 0, 1, ... in order of their first member into
 * cluster[], and set rep[i] to the representative of i's set chosen by
 * `keep` (ties always to the smallest document).  Returns the number of
 * clusters, or 0 with n > 0 when memory ran out.
 */
size_t nd__clusters(nd__uf *u, nd_keep keep, const nd__docinfo *info,
                    uint32_t *cluster, uint32_t *rep);

#endif
