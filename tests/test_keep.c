/*
 * test_keep.c - the source keep policy (priority, then time, then order),
 * the time window of verification and nd_sketcher_normalize.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "../src/cluster/cluster.h"
#include "../src/neardup.h"

/* ------------------------------------------------------------ policy */

/*
 * Eight documents; the source order ranks them by priority (smaller first,
 * none last), then time (earlier first, none last), then document number:
 *   prio 0: 2 (t20), 5 (t20, ties with 2), 1 (no time)
 *   prio 1: 4 (t10), 0 (t30), 6 (no time)
 *   none:   3 (t1), 7 (no time)
 */
static const nd_doc_meta order_meta[8] = {
    {30, 1, 1, 1}, {0, 0, 0, 1}, {20, 1, 0, 1}, {1, 1, 0, 0},
    {10, 1, 1, 1}, {20, 1, 0, 1}, {0, 0, 1, 1}, {0, 0, 0, 0},
};
static const uint32_t order_want[8] = {2, 5, 1, 4, 0, 6, 3, 7};

static size_t rank_of(uint32_t doc)
{
    for (size_t i = 0; i < 8; i++)
        if (order_want[i] == doc)
            return i;
    return 8;
}

Test(keep, source_order_on_every_pair)
{
    uint64_t len[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nd__docinfo info = {len, order_meta};
    for (uint32_t a = 0; a < 8; a++) {
        for (uint32_t b = a + 1; b < 8; b++) {
            nd__uf u;
            uint32_t cl[8], rep[8];
            cr_assert_eq(nd__uf_init(&u, 8), ND_OK);
            nd__uf_union(&u, a, b);
            cr_assert_eq(nd__clusters(&u, ND_KEEP_SOURCE, &info, cl, rep), 7);
            uint32_t want = rank_of(a) < rank_of(b) ? a : b;
            cr_assert_eq(rep[a], want, "pair %u %u", a, b);
            cr_assert_eq(rep[b], want, "pair %u %u", a, b);
            nd__uf_free(&u);
        }
    }
}

Test(keep, source_picks_the_least_of_a_whole_cluster)
{
    uint64_t len[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    nd__docinfo info = {len, order_meta};
    /* every document but the best two: the third in the order wins */
    nd__uf u;
    uint32_t cl[8], rep[8];
    cr_assert_eq(nd__uf_init(&u, 8), ND_OK);
    uint32_t members[6] = {0, 1, 3, 4, 6, 7};
    for (int i = 1; i < 6; i++)
        nd__uf_union(&u, members[0], members[i]);
    cr_assert_eq(nd__clusters(&u, ND_KEEP_SOURCE, &info, cl, rep), 3);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(rep[members[i]], 1);
    cr_assert_eq(rep[2], 2);
    cr_assert_eq(rep[5], 5);
    nd__uf_free(&u);
}

Test(keep, source_without_meta_keeps_the_first)
{
    uint64_t len[3] = {1, 50, 2};
    nd__docinfo info = {len, NULL};
    nd__uf u;
    uint32_t cl[3], rep[3];
    cr_assert_eq(nd__uf_init(&u, 3), ND_OK);
    nd__uf_union(&u, 2, 1);
    nd__uf_union(&u, 1, 0);
    cr_assert_eq(nd__clusters(&u, ND_KEEP_SOURCE, &info, cl, rep), 1);
    cr_assert_eq(rep[1], 0);
    nd__uf_free(&u);
}

/* ------------------------------------------------------- through a batch */

static const char story[] =
    "The regional parliament approved a plan on Wednesday to build a second "
    "bridge across the bay, ending a decade of debate over where it should "
    "stand. The bridge will carry four lanes of traffic and a rail line.";

/* Add n copies of the story with the given meta and run. */
static nd_batch *run_copies(const nd_params *p, const nd_doc_meta *meta, size_t n)
{
    nd_batch *b;
    cr_assert_eq(nd_batch_create(p, &b), ND_OK);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(nd_batch_add(b, story, strlen(story), &meta[i]), ND_OK);
    cr_assert_eq(nd_batch_run(b), ND_OK);
    return b;
}

Test(keep, batch_source_policy)
{
    nd_params p;
    nd_params_init(&p);
    p.threads = 1;
    p.keep = ND_KEEP_SOURCE;
    /* the unranked copy is earliest; of the two rank-0 copies the earlier */
    nd_doc_meta meta[4] = {{100, 1, 3, 1}, {50, 1, 0, 0}, {300, 1, 0, 1},
                           {200, 1, 0, 1}};
    nd_batch *b = run_copies(&p, meta, 4);
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(nd_batch_cluster(b, i), 0);
        cr_assert_eq(nd_batch_rep(b, i), 3);
    }
    nd_batch_free(b);
}

Test(keep, params_check_knows_source_and_window)
{
    nd_params p;
    nd_params_init(&p);
    cr_assert_eq(p.window, 0.0);
    p.keep = ND_KEEP_SOURCE;
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_OK);
    p.keep = (nd_keep)4;
    char msg[100];
    cr_assert_eq(nd_params_check(&p, msg, sizeof msg), ND_ERR_PARAM);
    cr_assert_str_eq(msg, "keep must be first, longest, earliest or source");
    p.keep = ND_KEEP_FIRST;
    p.window = -1.0;
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_ERR_PARAM);
    p.window = NAN;
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_ERR_PARAM);
    p.window = INFINITY;
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_ERR_PARAM);
    p.window = 3600.0;
    cr_assert_eq(nd_params_check(&p, NULL, 0), ND_OK);
}

/* ------------------------------------------------------------ window */

Test(window, far_apart_copies_never_match)
{
    nd_params p;
    nd_params_init(&p);
    p.threads = 1;
    p.window = 72 * 3600.0;
    const int64_t day = 86400;
    /* 0 and 1 exactly 72 h apart: linked; 2 a year later: apart */
    nd_doc_meta meta[3] = {{0, 1, 0, 0}, {3 * day, 1, 0, 0}, {365 * day, 1, 0, 0}};
    nd_batch *b = run_copies(&p, meta, 3);
    cr_assert_eq(nd_batch_cluster(b, 0), 0);
    cr_assert_eq(nd_batch_cluster(b, 1), 0);
    cr_assert_eq(nd_batch_cluster(b, 2), 1);
    size_t ne;
    const nd_edge *e = nd_batch_edges(b, &ne);
    cr_assert_eq(ne, 1);
    cr_assert_eq(e[0].a, 0);
    cr_assert_eq(e[0].b, 1);
    nd_batch_free(b);

    p.window = 0.0;
    b = run_copies(&p, meta, 3);
    cr_assert_eq(nd_batch_cluster(b, 2), 0);
    nd_batch_edges(b, &ne);
    cr_assert_eq(ne, 3);
    nd_batch_free(b);
}

Test(window, a_document_without_time_is_not_restricted)
{
    nd_params p;
    nd_params_init(&p);
    p.threads = 1;
    p.window = 3600.0;
    nd_doc_meta meta[3] = {{0, 1, 0, 0}, {INT64_MAX, 1, 0, 0}, {0, 0, 0, 0}};
    nd_batch *b = run_copies(&p, meta, 3);
    size_t ne;
    const nd_edge *e = nd_batch_edges(b, &ne);
    cr_assert_eq(ne, 2);
    cr_assert_eq(e[0].a, 0);
    cr_assert_eq(e[0].b, 2);
    cr_assert_eq(e[1].a, 1);
    cr_assert_eq(e[1].b, 2);
    /* components: joined through the untimed copy */
    cr_assert_eq(nd_batch_cluster(b, 1), 0);
    nd_batch_free(b);

    /* the guard asks the same question of the centers: the untimed copy
       is linked to both others, so it is the center, and both join it */
    p.cluster = ND_CLUSTER_GUARDED;
    b = run_copies(&p, meta, 3);
    cr_assert_eq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 2));
    cr_assert_eq(nd_batch_cluster(b, 1), nd_batch_cluster(b, 0));
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    cr_assert_eq(st.guard_rejected, 0);
    nd_batch_free(b);
}

/* ------------------------------------------------------------ normalize */

Test(normalize, public_form_is_the_shingled_form)
{
    nd_params p;
    nd_params_init(&p);
    nd_sketcher *s;
    cr_assert_eq(nd_sketcher_create(&p, &s), ND_OK);
    const char *t = "  Don\xe2\x80\x99t STOP\xe2\x80\x94the press!  ";
    const char *out;
    size_t n;
    cr_assert_eq(nd_sketcher_normalize(s, t, strlen(t), &out, &n), ND_OK);
    cr_assert_eq(n, strlen("dont stop the press"));
    cr_assert_str_eq(out, "dont stop the press");
    cr_assert_eq(nd_sketcher_normalize(s, " ,; ", 4, &out, &n), ND_OK);
    cr_assert_eq(n, 0);
    cr_assert_str_eq(out, "");
    nd_sketcher_free(s);
}
