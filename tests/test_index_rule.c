/*
 * test_index_rule.c - the index decides as the batch does: short copies
 * contained in long texts (containment bands), the stub rule, the digest
 * rule, and copies of documents stored before their template turned
 * boilerplate.
 *
 * Texts are passages of seeded pseudo-words (none shared between two
 * passages), joined with spaces; the default parameters (glyph shingles,
 * Jaccard 0.4 or containment 0.65, boilerplate 0.02 of at least 50
 * documents).  Every value asserted is that of fixed texts and seeds.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/neardup.h"
#include "words.h"


/* Append passage `seed` of nwords pseudo-words of 4..9 letters to t. */
static void passage(char *t, size_t *n, uint64_t seed, unsigned nwords)
{
    test_words(t, n, seed * 6007 + 11, nwords);
}

/* A text of up to four passages (seed 0 ends the list). */
static char *text_of(uint64_t s1, unsigned w1, uint64_t s2, unsigned w2,
                     uint64_t s3, unsigned w3, uint64_t s4, unsigned w4)
{
    char *t = malloc(((size_t)w1 + w2 + w3 + w4) * 10 + 1);
    size_t n = 0;
    t[0] = '\0';
    if (s1)
        passage(t, &n, s1, w1);
    if (s2)
        passage(t, &n, s2, w2);
    if (s3)
        passage(t, &n, s3, w3);
    if (s4)
        passage(t, &n, s4, w4);
    return t;
}

static nd_index *fresh(double boilerplate)
{
    nd_params p;
    nd_params_init(&p);
    p.boilerplate = boilerplate;
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    return ix;
}

static void add(nd_index *ix, const char *id, char *t)
{
    cr_assert_eq(nd_index_add(ix, id, strlen(id), t, strlen(t), 0), ND_OK,
                 "%s", nd_index_errmsg(ix));
    free(t);
}

/* Query with t (freed): the match count, the best into *best. */
static size_t query(nd_index *ix, char *t, nd_match *best)
{
    nd_match m[8];
    size_t n = 99;
    cr_assert_eq(nd_index_query(ix, t, strlen(t), m, 8, &n), ND_OK);
    free(t);
    if (n && best)
        *best = m[0];
    return n;
}

static int is(const nd_match *m, const char *id)
{
    return m->id_len == strlen(id) && memcmp(m->id, id, m->id_len) == 0;
}

/* ------------------------------------------------- containment bands */

/*
 * A 100-word excerpt of a 300-word story: containment 1, Jaccard near
 * 0.33 (below the threshold: a match by containment), which the main
 * bands (42 of 3 rows) propose with a probability near 0.8 and the
 * containment bands (30 of 2 rows, sizes 2x apart) near 0.97.  Found in
 * both directions.
 */
Test(index_rule, a_short_copy_contained_in_a_long_text_is_found)
{
    nd_index *ix = fresh(0.0);
    add(ix, "story", text_of(1, 100, 2, 200, 0, 0, 0, 0));
    nd_match b;
    cr_assert_eq(query(ix, text_of(1, 100, 0, 0, 0, 0, 0, 0), &b), 1);
    cr_assert(is(&b, "story"));
    cr_assert(b.jaccard < 0.4 && b.containment >= 0.65, "%f %f", b.jaccard,
              b.containment);
    nd_index_close(ix);

    ix = fresh(0.0);
    add(ix, "excerpt", text_of(1, 100, 0, 0, 0, 0, 0, 0));
    cr_assert_eq(query(ix, text_of(1, 100, 2, 200, 0, 0, 0, 0), &b), 1);
    cr_assert(is(&b, "excerpt"));
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.bands, 42); /* the main bands; the containment bands
                                   are the index's own */
    nd_index_close(ix);
}

/* Twenty excerpts, each of its own 300-word story: every one found. */
Test(index_rule, every_excerpt_finds_its_story)
{
    nd_index *ix = fresh(0.0);
    for (unsigned i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%u", i);
        add(ix, id, text_of(100 + i, 200, 200 + i, 100, 0, 0, 0, 0));
    }
    for (unsigned i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%u", i);
        nd_match b;
        cr_assert_eq(query(ix, text_of(200 + i, 100, 0, 0, 0, 0, 0, 0), &b), 1,
                     "excerpt %u", i);
        cr_assert(is(&b, id));
    }
    nd_index_close(ix);
}

/* The containment bands are built again when an index is opened. */
Test(index_rule, containment_bands_survive_close_and_open)
{
    char d[] = "/tmp/nd-index-rule-XXXXXX";
    cr_assert_not_null(mkdtemp(d));
    nd_params p;
    nd_params_init(&p);
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &ix), ND_OK);
    for (unsigned i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%u", i);
        add(ix, id, text_of(100 + i, 200, 200 + i, 100, 0, 0, 0, 0));
        if (i == 9)
            cr_assert_eq(nd_index_save(ix, NULL), ND_OK); /* half in the log */
    }
    nd_index_close(ix);
    cr_assert_eq(nd_index_open(d, NULL, ND_INDEX_READONLY, &ix), ND_OK, "%s",
                 nd_index_errmsg(ix));
    for (unsigned i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%u", i);
        nd_match b;
        cr_assert_eq(query(ix, text_of(200 + i, 100, 0, 0, 0, 0, 0, 0), &b), 1,
                     "excerpt %u", i);
        cr_assert(is(&b, id));
    }
    nd_index_close(ix);
    const char *names[] = {"index.nds", "index.wal", "LOCK"};
    for (int i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", d, names[i]);
        unlink(path);
    }
    cr_assert_eq(rmdir(d), 0);
}

/* ------------------------------------------------------ the stub rule */

/*
 * A 12-word teaser contained in a story is no copy of it (a stub: under
 * 25 words, 58 glyph shingles; it has 48); a 40-word excerpt is; the
 * teaser matches its own copy by Jaccard.
 */
Test(index_rule, a_contained_stub_matches_only_by_jaccard)
{
    nd_index *ix = fresh(0.0);
    add(ix, "story", text_of(1, 12, 2, 28, 3, 160, 0, 0));
    cr_assert_eq(query(ix, text_of(1, 12, 0, 0, 0, 0, 0, 0), NULL), 0);
    nd_match b;
    cr_assert_eq(query(ix, text_of(1, 12, 2, 28, 0, 0, 0, 0), &b), 1);
    cr_assert(is(&b, "story"));
    add(ix, "teaser", text_of(1, 12, 0, 0, 0, 0, 0, 0));
    cr_assert_eq(query(ix, text_of(1, 12, 0, 0, 0, 0, 0, 0), &b), 1);
    cr_assert(is(&b, "teaser"));
    cr_assert_eq(b.jaccard, 1.0);
    nd_index_close(ix);
}

/* ---------------------------------------------------- the digest rule */

/*
 * Three stories of 60 words; a digest holds the first two and a story of
 * its own: it holds two things, and is a copy of neither.  A text holding
 * one of them beside words of its own is its copy; a copy of the digest
 * matches the digest.
 */
Test(index_rule, a_digest_of_two_stories_is_a_copy_of_neither)
{
    nd_index *ix = fresh(0.0);
    add(ix, "a", text_of(11, 60, 0, 0, 0, 0, 0, 0));
    add(ix, "b", text_of(12, 60, 0, 0, 0, 0, 0, 0));
    cr_assert_eq(query(ix, text_of(11, 60, 12, 60, 13, 60, 0, 0), NULL), 0);
    nd_match b;
    cr_assert_eq(query(ix, text_of(11, 60, 14, 40, 0, 0, 0, 0), &b), 1);
    cr_assert(is(&b, "a"));
    add(ix, "digest", text_of(11, 60, 12, 60, 13, 60, 0, 0));
    cr_assert_eq(query(ix, text_of(11, 60, 12, 60, 13, 60, 0, 0), &b), 1);
    cr_assert(is(&b, "digest"));
    cr_assert_eq(b.jaccard, 1.0);
    nd_index_close(ix);
}

/* Two cuts of one story held by a longer version are not two things. */
Test(index_rule, two_cuts_of_one_story_do_not_make_a_digest)
{
    nd_index *ix = fresh(0.0);
    add(ix, "lead", text_of(21, 60, 0, 0, 0, 0, 0, 0));
    add(ix, "lead+", text_of(21, 60, 22, 20, 0, 0, 0, 0));
    nd_match m[8];
    size_t n = 0;
    char *t = text_of(21, 60, 22, 20, 23, 120, 0, 0);
    cr_assert_eq(nd_index_query(ix, t, strlen(t), m, 8, &n), ND_OK);
    free(t);
    cr_assert_eq(n, 2);
    nd_index_close(ix);
}

/* ------------------------------------- templates that turned frequent */

/*
 * A report stored first, with a 60-word template: 40 words of its own, so
 * Jaccard near 0.4 against a copy once the template is boilerplate.  Then
 * 60 other reports on the template make it boilerplate.  A copy of the
 * first report, sketched without the template, is its copy by Jaccard:
 * the bins of the stored signature whose minimum is a template shingle
 * are left out of the estimate, not counted as disagreements.
 */
Test(index_rule, a_copy_of_a_report_stored_before_its_template_turned_frequent)
{
    nd_index *ix = fresh(0.02);
    add(ix, "r0", text_of(1000, 40, 999, 60, 0, 0, 0, 0));
    for (unsigned i = 1; i <= 60; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%u", i);
        add(ix, id, text_of(1000 + i, 40, 999, 60, 0, 0, 0, 0));
    }
    nd_match b;
    /* a new report on the template: the template alone matches nothing */
    cr_assert_eq(query(ix, text_of(5000, 40, 999, 60, 0, 0, 0, 0), NULL), 0);
    cr_assert_eq(query(ix, text_of(1000, 40, 999, 60, 0, 0, 0, 0), &b), 1);
    cr_assert(is(&b, "r0"));
    cr_assert(b.jaccard > 0.9, "%f", b.jaccard);
    nd_index_close(ix);
}
