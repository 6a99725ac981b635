/*
 * test_chunks.c - a batch's result does not depend on how its texts are
 * handed over: nd_batch_count and nd_batch_add_many in one call or in
 * chunks of any size give the same counts, edges and clusters.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../src/neardup.h"
#include "words.h"

/* More texts than the first pass samples at its full rate (2^14), so
   the sampling rate doubles twice while counting. */
#define DOCS 36000u
#define STORIES 1500u
#define FOOTERS 10u

typedef struct {
    char **texts;
    size_t *lens;
} corpus;

/*
 * Reprints of STORIES stories, each with a line of its own, and footers
 * carried by 0.5% to 5% of the texts, around the 2% cut-off of
 * boilerplate suppression, more often in the first half of the texts than
 * in the second (so a count that depended on where the rate changes would
 * show it).
 */
static corpus make_corpus(void)
{
    corpus c = {calloc(DOCS, sizeof(char *)), calloc(DOCS, sizeof(size_t))};
    cr_assert(c.texts && c.lens);
    uint64_t state = 42;
    for (size_t d = 0; d < DOCS; d++) {
        char *t = malloc(2048);
        cr_assert(t);
        size_t n = 0;
        test_words(t, &n, 1000 + nd__splitmix64(&state) % STORIES, 40);
        test_words(t, &n, 500000 + d, 4);
        for (unsigned f = 0; f < FOOTERS; f++) {
            uint64_t per_mille = 5 * (f + 1) * (d < DOCS / 2 ? 3 : 1) / 2;
            if (nd__splitmix64(&state) % 1000 < per_mille)
                test_words(t, &n, 900000 + f, 10);
        }
        c.texts[d] = t;
        c.lens[d] = n;
    }
    return c;
}

static void free_corpus(corpus *c)
{
    for (size_t d = 0; d < DOCS; d++)
        free(c->texts[d]);
    free(c->texts);
    free(c->lens);
}

/* Count, add and run, handing the texts over `chunk` at a time. */
static nd_batch *run_chunked(const corpus *c, size_t chunk)
{
    nd_params p;
    nd_params_init(&p);
    p.threads = 2;
    nd_batch *b;
    cr_assert_eq(nd_batch_create(&p, &b), ND_OK);
    const char *const *t = (const char *const *)c->texts;
    for (size_t i = 0; i < DOCS; i += chunk) {
        size_t m = DOCS - i < chunk ? DOCS - i : chunk;
        cr_assert_eq(nd_batch_count(b, m, t + i, c->lens + i, NULL), ND_OK);
    }
    for (size_t i = 0; i < DOCS; i += chunk) {
        size_t m = DOCS - i < chunk ? DOCS - i : chunk;
        cr_assert_eq(nd_batch_add_many(b, m, t + i, c->lens + i, NULL, NULL), ND_OK);
    }
    cr_assert_eq(nd_batch_run(b), ND_OK);
    return b;
}

Test(chunks, count_and_add_do_not_depend_on_chunking)
{
    corpus c = make_corpus();
    nd_batch *one = run_chunked(&c, DOCS);
    nd_batch_stats s1;
    nd_batch_stats_get(one, &s1);
    size_t ne1;
    const nd_edge *e1 = nd_batch_edges(one, &ne1);
    /* The corpus is what it is meant to be: reprints, and footers some
       of which are suppressed. */
    cr_assert_gt(ne1, DOCS);
    cr_assert_lt(s1.clusters, DOCS / 4);
    cr_assert_gt(s1.text.suppressed_docs, DOCS / 50);
    cr_assert_lt(s1.text.suppressed_docs, DOCS / 4);
    cr_assert_eq(s1.boilerplate_cutoff, (uint64_t)(0.02 * DOCS));

    static const size_t chunks[] = {1, 7, 4096};
    for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++) {
        nd_batch *b = run_chunked(&c, chunks[k]);
        nd_batch_stats s;
        nd_batch_stats_get(b, &s);
        cr_assert_eq(s.text.suppressed, s1.text.suppressed, "chunks of %zu", chunks[k]);
        cr_assert_eq(s.text.suppressed_docs, s1.text.suppressed_docs,
                     "chunks of %zu", chunks[k]);
        cr_assert_eq(s.candidates, s1.candidates, "chunks of %zu", chunks[k]);
        size_t ne;
        const nd_edge *e = nd_batch_edges(b, &ne);
        cr_assert_eq(ne, ne1, "chunks of %zu: %zu edges, %zu in one call",
                     chunks[k], ne, ne1);
        cr_assert_eq(memcmp(e, e1, ne * sizeof *e), 0, "chunks of %zu", chunks[k]);
        for (size_t d = 0; d < DOCS; d++) {
            cr_assert_eq(nd_batch_cluster(b, d), nd_batch_cluster(one, d));
            cr_assert_eq(nd_batch_rep(b, d), nd_batch_rep(one, d));
        }
        nd_batch_free(b);
    }
    nd_batch_free(one);
    free_corpus(&c);
}
