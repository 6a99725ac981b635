/*
 * test_index_df.c - boilerplate suppression and the figure check in the
 * incremental index: a footer shared by unrelated articles, its document
 * frequency going down with removal and eviction, template reports with
 * other figures, and all of it after close and open.
 *
 * Articles are 40 seeded pseudo-words of their own followed by one footer
 * of 80 pseudo-words (glyph shingles, the default; none shared between two
 * articles' own words).  Two articles share the footer's shingles only:
 * Jaccard near 0.5 (threshold 0.4), so without suppression any two are a
 * match; but below 0.6, so neither counts as a copy of the other (a copy
 * does not count again the shingles of the copy it joins).  With the
 * defaults (boilerplate 0.02, at least 50 documents), a footer shingle is
 * boilerplate once more than max(50, 0.02 n) of the n documents hold it.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/neardup.h"
#include "words.h"


/* nwords pseudo-words of 4..9 letters from seed, appended to t at *n. */
static void words(char *t, size_t *n, uint64_t seed, unsigned nwords)
{
    test_words(t, n, seed * 7919 + 3, nwords);
}

#define FOOTER_SEED 999999u
/* 512 values a signature keep every estimate of two articles' Jaccard
   well inside (0.4, 0.6). */
#define ARTICLE_WORDS 40
#define FOOTER_WORDS 80

/* Article i, with the common footer when footer is set. */
static char *article(unsigned i, int footer)
{
    char *t = malloc(200 * 10 + 1);
    size_t n = 0;
    words(t, &n, i, ARTICLE_WORDS);
    if (footer)
        words(t, &n, FOOTER_SEED, FOOTER_WORDS);
    return t;
}

static nd_params params(double boilerplate)
{
    nd_params p;
    nd_params_init(&p);
    p.threshold = 0.4;
    p.num_perm = 512;
    p.boilerplate = boilerplate;
    return p;
}

/* add_query of article i (with footer) under id "a<i>": the match count. */
static size_t add_article(nd_index *ix, unsigned i, int64_t time)
{
    char id[16];
    int idl = snprintf(id, sizeof id, "a%u", i);
    char *t = article(i, 1);
    nd_match m[100];
    size_t n = 99;
    cr_assert_eq(nd_index_add_query(ix, id, (size_t)idl, t, strlen(t), time,
                                    m, 100, &n),
                 ND_OK, "%s", nd_index_errmsg(ix));
    free(t);
    return n;
}

/* Query with a new article (seed i) and the footer: the match count. */
static size_t query_new(nd_index *ix, unsigned i, nd_match *m, size_t cap)
{
    char *t = article(i, 1);
    size_t n = 99;
    cr_assert_eq(nd_index_query(ix, t, strlen(t), m, cap, &n), ND_OK);
    free(t);
    return n;
}

static int id_is(const nd_match *m, const char *want)
{
    return m->id_len == strlen(want) && memcmp(m->id, want, m->id_len) == 0;
}

/*
 * 80 articles added in order.  Article k meets k earlier ones; the footer
 * is boilerplate for it once k + 1 (itself included) > 50, i.e. from
 * article 50 on.  Before that, every earlier article is a match.
 */
static void add_eighty(nd_index *ix)
{
    for (unsigned k = 0; k < 80; k++) {
        size_t n = add_article(ix, k, k);
        cr_assert_eq(n, k < 50 ? k : 0, "article %u: %zu matches", k, n);
    }
}

Test(index_df, without_suppression_a_shared_footer_links_unrelated_articles)
{
    nd_params p = params(0.0);
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    for (unsigned k = 0; k < 80; k++)
        cr_assert_eq(add_article(ix, k, k), k, "article %u", k);
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.df_docs, 0);
    cr_assert_eq(st.boilerplate_cutoff, 0);
    nd_index_close(ix);
}

Test(index_df, a_frequent_footer_stops_linking_unrelated_articles)
{
    nd_params p = params(0.02);
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    add_eighty(ix);
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.docs, 80);
    cr_assert_eq(st.df_docs, 80);
    cr_assert_eq(st.df_rate, 1);
    cr_assert_eq(st.boilerplate_cutoff, 50); /* max(50, 0.02 * 80) */
    nd_match m[100];
    /* a new article with the footer matches nothing */
    cr_assert_eq(query_new(ix, 1000, m, 100), 0);
    /* a copy of article 60 (sketched without the footer) is found alone */
    cr_assert_eq(query_new(ix, 60, m, 100), 1);
    cr_assert(id_is(&m[0], "a60"));
    cr_assert_eq(m[0].jaccard, 1.0);
    nd_index_close(ix);
}

Test(index_df, removal_and_eviction_lower_the_frequency_again)
{
    nd_params p = params(0.02);
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    add_eighty(ix);
    nd_match m[100];
    cr_assert_eq(query_new(ix, 1000, m, 100), 0);
    /* 40 of the 80 leave: the footer is held by 40 <= 50, no longer
     * boilerplate, and the articles stored with it (a40..a49) match */
    for (unsigned k = 0; k < 40; k++) {
        char id[16];
        int idl = snprintf(id, sizeof id, "a%u", k);
        cr_assert_eq(nd_index_remove(ix, id, (size_t)idl), ND_OK);
    }
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.df_docs, 40);
    cr_assert_eq(query_new(ix, 1000, m, 100), 10);
    for (size_t i = 0; i < 10; i++)
        cr_assert(m[i].time >= 40 && m[i].time < 50, "time %lld",
                  (long long)m[i].time);
    size_t k = 0;
    cr_assert_eq(nd_index_evict_before(ix, 45, &k), ND_OK);
    cr_assert_eq(k, 5);
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.df_docs, 35);
    cr_assert_eq(query_new(ix, 1000, m, 100), 5);
    /* adding 16 more with the footer: 51 hold it, boilerplate again */
    for (unsigned j = 100; j < 116; j++)
        add_article(ix, j, j);
    cr_assert_eq(query_new(ix, 1000, m, 100), 0);
    nd_index_close(ix);
}

/*
 * A story carried by more copies than the boilerplate share: 200 words
 * and one word of its own per copy (copies of one another, Jaccard near
 * 0.99).  Counted once per page, its every shingle would be boilerplate
 * from the 51st copy on, and a new copy would be left with its one own
 * word; counted once per group of copies, as the batch counts, it stays
 * text while the footer of unrelated articles still turns boilerplate.
 */
static char *story_copy(unsigned i)
{
    char *t = malloc(300 * 10 + 1);
    size_t n = 0;
    words(t, &n, 424242, 200);
    words(t, &n, 8000 + i, 1);
    return t;
}

Test(index_df, a_story_many_copies_carry_is_not_boilerplate)
{
    nd_params p = params(0.02);
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    for (unsigned i = 0; i < 80; i++) {
        char id[16];
        int idl = snprintf(id, sizeof id, "s%u", i);
        char *t = story_copy(i);
        cr_assert_eq(nd_index_add(ix, id, (size_t)idl, t, strlen(t), i), ND_OK);
        free(t);
    }
    add_eighty(ix);
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.df_docs, 160);
    cr_assert_eq(st.boilerplate_cutoff, 50); /* max(50, 0.02 * 160) */
    nd_match m[100];
    char *t = story_copy(1000);
    size_t n = 0;
    cr_assert_eq(nd_index_query(ix, t, strlen(t), m, 100, &n), ND_OK);
    free(t);
    cr_assert_eq(n, 80);
    for (size_t i = 0; i < n; i++)
        cr_assert(m[i].id[0] == 's' && m[i].jaccard > 0.9, "%.*s %f",
                  (int)m[i].id_len, m[i].id, m[i].jaccard);
    cr_assert_eq(query_new(ix, 1000, m, 100), 0);
    nd_index_close(ix);
}

/*
 * The limit of telling chrome from a story by who carries it, shared with
 * the batch: a footer so long that it alone makes two articles copies
 * (150 words after 40 of their own: Jaccard near 0.65 >= 0.6) is counted
 * once for all of them, as one story's text would be, and never turns
 * boilerplate.
 */
Test(index_df, a_footer_that_makes_articles_copies_counts_once)
{
    nd_params p = params(0.02);
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    for (unsigned k = 0; k < 80; k++) {
        char id[16];
        int idl = snprintf(id, sizeof id, "a%u", k);
        char *t = malloc(200 * 10 + 1);
        size_t len = 0;
        words(t, &len, k, ARTICLE_WORDS);
        words(t, &len, FOOTER_SEED, 150);
        nd_match m[100];
        size_t n = 99;
        cr_assert_eq(nd_index_add_query(ix, id, (size_t)idl, t, len, k, m, 100,
                                        &n), ND_OK);
        free(t);
        cr_assert_eq(n, k, "article %u: %zu matches", k, n);
    }
    nd_index_close(ix);
}

/* ------------------------------------------------------------ figures */

/*
 * A template report: 60 fixed pseudo-words with five figures after words
 * 10, 20, 30, 40 and 50.  Two reports from the template with other figures
 * differ in 15 of about 63 shingles: Jaccard near 48 / 78 = 0.62, a match
 * by words alone.
 */
static char *report(const char *const figs[5], unsigned noise)
{
    char *t = malloc(2000);
    size_t n = 0;
    for (unsigned part = 0; part < 6; part++) {
        words(t, &n, 5000 + part, 10);
        if (part < 5)
            n += (size_t)sprintf(t + n, " %s", figs[part]);
    }
    if (noise)
        words(t, &n, 7000 + noise, 1);
    return t;
}

static const char *const figs_a[5] = {"1,250", "37", "4.5", "2019", "88"};
static const char *const figs_b[5] = {"1,310", "41", "4.5", "2020", "91"};

static size_t report_matches(nd_index *ix, const char *const figs[5],
                             unsigned noise)
{
    char *t = report(figs, noise);
    nd_match m[4];
    size_t n = 99;
    cr_assert_eq(nd_index_query(ix, t, strlen(t), m, 4, &n), ND_OK);
    free(t);
    return n;
}

static void add_report(nd_index *ix, const char *id, const char *const f[5])
{
    char *t = report(f, 0);
    cr_assert_eq(nd_index_add(ix, id, strlen(id), t, strlen(t), 0), ND_OK);
    free(t);
}

Test(index_df, template_reports_with_other_figures_do_not_match)
{
    nd_params p = params(0.02);
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    add_report(ix, "q3", figs_a);
    /* the same figures, a word more: a reprint */
    cr_assert_eq(report_matches(ix, figs_a, 1), 1);
    /* one figure of five in common: 0.2 < 0.8 */
    cr_assert_eq(report_matches(ix, figs_b, 0), 0);
    nd_index_close(ix);

    p.figures = 0.0;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    add_report(ix, "q3", figs_a);
    cr_assert_eq(report_matches(ix, figs_b, 0), 1);
    nd_index_close(ix);
}

/* ------------------------------------------------------------ on disk */

static void rm_tree(const char *d)
{
    DIR *dir = opendir(d);
    if (!dir)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        unlink(path);
    }
    closedir(dir);
    rmdir(d);
}

Test(index_df, frequencies_and_figures_survive_close_and_open)
{
    char d[] = "/tmp/nd-index-df-XXXXXX";
    cr_assert_not_null(mkdtemp(d));
    nd_params p = params(0.02);
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &ix), ND_OK);
    /* 30 articles into the snapshot, 50 more (and the report) in the log */
    for (unsigned k = 0; k < 30; k++)
        add_article(ix, k, k);
    cr_assert_eq(nd_index_save(ix, NULL), ND_OK);
    for (unsigned k = 30; k < 80; k++)
        add_article(ix, k, k);
    add_report(ix, "q3", figs_a);
    nd_index_close(ix);

    cr_assert_eq(nd_index_open(d, NULL, ND_INDEX_READONLY, &ix), ND_OK, "%s",
                 nd_index_errmsg(ix));
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.docs, 81);
    cr_assert_eq(st.df_docs, 81);
    nd_match m[100];
    cr_assert_eq(query_new(ix, 1000, m, 100), 0);
    cr_assert_eq(report_matches(ix, figs_a, 1), 1);
    cr_assert_eq(report_matches(ix, figs_b, 0), 0);
    nd_index_close(ix);

    /* compacted: the same from the snapshot alone */
    cr_assert_eq(nd_index_open(d, NULL, 0, &ix), ND_OK);
    cr_assert_eq(nd_index_save(ix, NULL), ND_OK);
    for (unsigned k = 0; k < 40; k++) {
        char id[16];
        int idl = snprintf(id, sizeof id, "a%u", k);
        cr_assert_eq(nd_index_remove(ix, id, (size_t)idl), ND_OK);
    }
    nd_index_close(ix);
    cr_assert_eq(nd_index_open(d, NULL, ND_INDEX_READONLY, &ix), ND_OK);
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.df_docs, 41);
    cr_assert_eq(query_new(ix, 1000, m, 100), 10);
    cr_assert_eq(report_matches(ix, figs_b, 0), 0);
    nd_index_close(ix);

    /* other boilerplate settings are a mismatch, named */
    nd_params q = params(0.05);
    cr_assert_eq(nd_index_open(d, &q, 0, &ix), ND_ERR_MISMATCH);
    cr_assert(strstr(nd_index_errmsg(ix), "boilerplate=0.02") != NULL, "%s",
              nd_index_errmsg(ix));
    nd_index_close(ix);
    q = params(0.02);
    q.boilerplate_min = 10;
    cr_assert_eq(nd_index_open(d, &q, 0, &ix), ND_ERR_MISMATCH);
    cr_assert(strstr(nd_index_errmsg(ix), "boilerplate_min=50") != NULL);
    nd_index_close(ix);
    q = params(0.02);
    q.figures = 0.5;
    cr_assert_eq(nd_index_open(d, &q, 0, &ix), ND_ERR_MISMATCH);
    cr_assert(strstr(nd_index_errmsg(ix), "figures=0.8") != NULL);
    nd_index_close(ix);
    rm_tree(d);
}
