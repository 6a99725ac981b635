/*
 * test_chrome.c - telling chrome from a big story among the frequent
 * shingles (src/job/chrome.c): the counts it leaves are the same on any
 * number of threads, with enough held documents to be worked in parallel.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../src/neardup.h"
#include "../src/core/dfcount.h"
#include "../src/core/mix.h"
#include "../src/job/chrome.h"

#define BITS 20
#define HELD 1200u    /* held documents, above the parallel minimum */
#define UNIQUE 600u   /* documents 0.. each tell a story of their own */
#define STORIES 5u    /* the others are copies of one of these */
#define OWN 40u       /* shingles of a document's own */
#define STORY 200u    /* shingles of its story */
#define CHROME 40u    /* shingles every document carries */
#define CUTOFF 60u    /* counts above this are frequent */

/* Shingle j of kind k (0 own, 1 story, 2 chrome) of owner x. */
static uint64_t shingle(unsigned k, uint64_t x, uint64_t j)
{
    return nd__fmix64(((uint64_t)k << 56) ^ (x << 24) ^ j ^ UINT64_C(0x5eed));
}

/* The held sample and the counts of HELD documents. */
static void build(nd__held *h, nd__df *df)
{
    static uint64_t set[OWN + STORY + CHROME];
    memset(h, 0, sizeof *h);
    cr_assert_eq(nd__df_init(df, BITS), ND_OK);
    for (uint64_t d = 0; d < HELD; d++) {
        size_t m = 0;
        for (uint64_t j = 0; j < OWN; j++)
            set[m++] = shingle(0, d, j);
        for (uint64_t j = 0; j < STORY; j++)
            set[m++] = shingle(1, d < UNIQUE ? d : UNIQUE + d % STORIES, j);
        for (uint64_t j = 0; j < CHROME; j++)
            set[m++] = shingle(2, 0, j);
        nd__df_add(df, set, m);
        cr_assert(nd__held_wants(h, d));
        cr_assert_eq(nd__held_add(h, d, set, m, NULL, 0), ND_OK);
    }
}

static uint32_t count_of(const nd__df *df, uint64_t x)
{
    return atomic_load(nd__df_counter(df, x));
}

Test(chrome, counts_equal_for_1_2_and_4_threads)
{
    static const unsigned threads[] = {1, 2, 4};
    uint32_t *first = malloc(sizeof *first << BITS);
    uint64_t first_lowered = 0;
    cr_assert_not_null(first);
    for (unsigned r = 0; r < 3; r++) {
        nd__held h;
        nd__df df;
        uint64_t lowered = 0;
        build(&h, &df);
        cr_assert_eq(nd__chrome_sort_out(&df, &h, CUTOFF, 0.6, 0.0, 1, threads[r], &lowered),
                     ND_OK);
        /* A story's 120 copies are one group: its count falls below the
           cut-off; chrome, on 605 different texts, stays above it. */
        cr_assert_leq(count_of(&df, shingle(1, UNIQUE + 3, 7)), CUTOFF, "%u threads",
                      threads[r]);
        cr_assert_geq(count_of(&df, shingle(2, 0, 5)), UNIQUE + STORIES, "%u threads",
                      threads[r]);
        cr_assert_geq(lowered, STORIES * STORY - STORY / 10, "%u threads", threads[r]);
        cr_assert_leq(lowered, STORIES * STORY, "%u threads", threads[r]);
        if (r == 0) {
            for (size_t c = 0; c < (size_t)1 << BITS; c++)
                first[c] = atomic_load(&df.cnt[c]);
            first_lowered = lowered;
        } else {
            cr_assert_eq(lowered, first_lowered, "%u threads", threads[r]);
            for (size_t c = 0; c < (size_t)1 << BITS; c++)
                cr_assert_eq(atomic_load(&df.cnt[c]), first[c], "counter %zu, %u threads", c,
                             threads[r]);
        }
        nd__held_free(&h);
        nd__df_free(&df);
    }
    free(first);
}
