/*
 * test_spill.c - candidate generation under a memory limit.
 *
 * The merge of spilled runs is checked against qsort and dedupe of the
 * same values; the whole batch under a limit so small that it spills many
 * runs (and merges them in several passes) must give the very edges,
 * clusters and counts of the run without a limit, for 1, 2 and 3 threads.
 * Write errors and a missing folder must fail the run with ND_ERR_IO and a
 * sentence naming the folder, and no temporary file may be left behind.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../src/lsh/lsh.h"
#include "../src/neardup.h"
#include "../src/sketch/sketch.h"

#define NDOCS 3000
#define WORDS 90

static char *texts[NDOCS];
static size_t lens[NDOCS];

/* Families of near-copies over a vocabulary of made-up words: most
   families are small, a few are large enough to fill LSH buckets. */
static void make_corpus(void)
{
    static const char *syl[] = {"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi",
                                "ze", "po", "da", "gu", "fe", "hi", "jo", "be"};
    uint64_t st = 2024;
    size_t d = 0;
    while (d < NDOCS) {
        uint32_t base[WORDS];
        for (int i = 0; i < WORDS; i++)
            base[i] = (uint32_t)(nd__splitmix64(&st) & 0xffff);
        size_t members = nd__splitmix64(&st) % 10 == 0 ? 40 : 1 + nd__splitmix64(&st) % 5;
        for (size_t m = 0; m < members && d < NDOCS; m++, d++) {
            char buf[WORDS * 10];
            size_t at = 0;
            unsigned change = (unsigned)(m ? nd__splitmix64(&st) % 30 : 0);
            for (int i = 0; i < WORDS; i++) {
                uint32_t w = base[i];
                if (nd__splitmix64(&st) % 100 < change)
                    w = (uint32_t)(nd__splitmix64(&st) & 0xffff);
                if (i)
                    buf[at++] = ' ';
                for (int s = 0; s < 4; s++) {
                    memcpy(buf + at, syl[(w >> (4 * s)) & 15], 2);
                    at += 2;
                }
            }
            buf[at] = '\0';
            texts[d] = strdup(buf);
            lens[d] = at;
        }
    }
}

static void free_corpus(void)
{
    for (size_t i = 0; i < NDOCS; i++)
        free(texts[i]);
}

static nd_batch *run_batch(unsigned threads, uint64_t memory, const char *dir,
                           int *rc)
{
    nd_params p;
    nd_params_init(&p);
    p.threads = threads;
    p.memory = memory;
    p.tmpdir = dir;
    nd_batch *b;
    cr_assert_eq(nd_batch_create(&p, &b), ND_OK);
    cr_assert_eq(nd_batch_add_many(b, NDOCS, (const char *const *)texts, lens,
                                   NULL, NULL), ND_OK);
    *rc = nd_batch_run(b);
    return b;
}

/* Entries of a folder other than . and .. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

Test(spill, merge_is_the_sorted_union_of_the_runs)
{
    char dir[] = "/tmp/nd-spill-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    nd__spill *s;
    char err[300];
    cr_assert_eq(nd__spill_open(dir, &s, err, sizeof err), ND_OK);
    cr_assert_eq(entries(dir), 0, "the spill file has no name");

    /* 37 runs of up to 3000 values from a range small enough that runs
       share many values; one run empty. */
    enum { RUNS = 37, MAXN = 3000 };
    uint64_t *all = malloc(sizeof *all * RUNS * MAXN), *run = malloc(sizeof *run * MAXN);
    size_t total = 0;
    uint64_t st = 5;
    for (int r = 0; r < RUNS; r++) {
        size_t n = r == 7 ? 0 : nd__splitmix64(&st) % MAXN;
        for (size_t i = 0; i < n; i++)
            run[i] = nd__splitmix64(&st) % 20000;
        qsort(run, n, sizeof *run, cmp_u64);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!m || run[i] != run[m - 1])
                run[m++] = run[i];
        memcpy(all + total, run, m * sizeof *run);
        total += m;
        cr_assert_eq(nd__spill_put(s, run, m, err, sizeof err), ND_OK);
    }
    cr_assert_eq(nd__spill_runs(s), RUNS - 1, "an empty run is not written");
    qsort(all, total, sizeof *all, cmp_u64);
    size_t want = 0;
    for (size_t i = 0; i < total; i++)
        if (!want || all[i] != all[want - 1])
            all[want++] = all[i];

    /* 20 KB of buffers: fan-in 4, so two merge passes before the last */
    nd__merge *m;
    cr_assert_eq(nd__merge_open(s, 20000, &m, err, sizeof err), ND_OK);
    size_t got = 0, k;
    uint64_t buf[777];
    do {
        cr_assert_eq(nd__merge_read(m, buf, 777, &k, err, sizeof err), ND_OK);
        for (size_t i = 0; i < k; i++, got++) {
            cr_assert_lt(got, want);
            cr_assert_eq(buf[i], all[got], "value %zu", got);
        }
    } while (k);
    cr_assert_eq(got, want);
    nd__merge_close(m);
    nd__spill_close(s);
    cr_assert_eq(entries(dir), 0);
    cr_assert_eq(rmdir(dir), 0);
    free(all);
    free(run);
}

Test(spill, stream_equals_the_array_of_candidates, .init = make_corpus,
     .fini = free_corpus)
{
    nd_params p;
    nd_params_init(&p);
    unsigned k = p.num_perm, bands, rows;
    nd_params_lsh(&p, &bands, &rows);
    nd_sketcher *sk;
    cr_assert_eq(nd_sketcher_create(&p, &sk), ND_OK);
    uint16_t *sigs = malloc(sizeof *sigs * NDOCS * k);
    uint32_t *wide = malloc(sizeof *wide * k);
    for (size_t i = 0; i < NDOCS; i++) {
        cr_assert_eq(nd_sketcher_sketch(sk, texts[i], lens[i], wide, NULL), ND_OK);
        nd__sig16_from32(wide, k, sigs + i * k);
    }
    uint64_t *pairs, capped, capped2;
    size_t np;
    cr_assert_eq(nd__lsh_candidates16(sigs, NDOCS, k, bands, rows, p.seed, NULL, 2,
                                      &pairs, &np, &capped), ND_OK);
    cr_assert_gt(np, 10000, "enough pairs to spill: %zu", np);
    nd__cands *c;
    char err[300];
    cr_assert_eq(nd__lsh_cands16(sigs, NDOCS, k, bands, rows, NULL, p.seed, NULL, 3, 1,
                                 "/tmp", &c, &capped2, err, sizeof err), ND_OK);
    uint64_t runs, bytes;
    nd__cands_spilled(c, &runs, &bytes);
    cr_assert_geq(runs, 5, "runs spilled: %llu", (unsigned long long)runs);
    cr_assert_geq(bytes, np * 8, "every distinct pair went to disk at least once");
    size_t at = 0, m;
    const uint64_t *blk;
    do {
        cr_assert_eq(nd__cands_next(c, &blk, &m, err, sizeof err), ND_OK);
        cr_assert_leq(m, nd__cands_block(c));
        cr_assert_leq(at + m, np);
        cr_assert_eq(memcmp(blk, pairs + at, m * sizeof *blk), 0, "block at %zu", at);
        at += m;
    } while (m);
    cr_assert_eq(at, np);
    cr_assert_eq(capped, capped2);
    nd__cands_free(c);
    free(pairs);
    free(sigs);
    free(wide);
    nd_sketcher_free(sk);
}

Test(spill, batch_output_is_the_same_under_a_tiny_limit, .init = make_corpus,
     .fini = free_corpus)
{
    char dir[] = "/tmp/nd-spill-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    int rc;
    nd_batch *ref = run_batch(1, 0, NULL, &rc);
    cr_assert_eq(rc, ND_OK);
    size_t n1;
    const nd_edge *e1 = nd_batch_edges(ref, &n1);
    nd_batch_stats s1;
    nd_batch_stats_get(ref, &s1);
    cr_assert_gt(n1, 1000);
    cr_assert_eq(s1.spill_runs, 0);
    /* 1 byte: every buffer at its floor; 300 KB: a middle case */
    const uint64_t limits[] = {1, 300000};
    for (unsigned t = 1; t <= 3; t++) {
        for (int l = 0; l < 2; l++) {
            nd_batch *b = run_batch(t, limits[l], dir, &rc);
            cr_assert_eq(rc, ND_OK, "%s", nd_batch_errmsg(b));
            nd_batch_stats s2;
            nd_batch_stats_get(b, &s2);
            cr_assert_geq(s2.spill_runs, l ? 2 : 10, "threads %u limit %llu: %llu runs",
                          t, (unsigned long long)limits[l],
                          (unsigned long long)s2.spill_runs);
            cr_assert_eq(s2.candidates, s1.candidates);
            cr_assert_eq(s2.capped_buckets, s1.capped_buckets);
            cr_assert_eq(s2.clusters, s1.clusters);
            size_t n2;
            const nd_edge *e2 = nd_batch_edges(b, &n2);
            cr_assert_eq(n2, n1);
            cr_assert_eq(memcmp(e1, e2, n1 * sizeof *e1), 0);
            for (size_t i = 0; i < NDOCS; i++) {
                cr_assert_eq(nd_batch_cluster(b, i), nd_batch_cluster(ref, i));
                cr_assert_eq(nd_batch_rep(b, i), nd_batch_rep(ref, i));
            }
            nd_batch_free(b);
            cr_assert_eq(entries(dir), 0, "no temporary file left");
        }
    }
    nd_batch_free(ref);
    cr_assert_eq(rmdir(dir), 0);
}

Test(spill, a_missing_folder_is_an_io_error, .init = make_corpus,
     .fini = free_corpus)
{
    int rc;
    nd_batch *b = run_batch(2, 1, "/nonexistent/neardup", &rc);
    cr_assert_eq(rc, ND_ERR_IO);
    cr_assert_str_eq(nd_batch_errmsg(b), "creating a temporary file in "
                                         "/nonexistent/neardup: No such file or directory");
    nd_batch_free(b);
    /* no limit, no file needed: the folder is never looked at */
    b = run_batch(2, 0, "/nonexistent/neardup", &rc);
    cr_assert_eq(rc, ND_OK);
    nd_batch_free(b);
}

Test(spill, a_failed_write_is_an_io_error_and_leaves_no_file,
     .init = make_corpus, .fini = free_corpus)
{
    char dir[] = "/tmp/nd-spill-test-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    /* Files may not grow past 64 KB: a write beyond fails with EFBIG
       (the signal that would otherwise end the process is ignored). */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {65536, 65536};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc;
    nd_batch *b = run_batch(2, 1, dir, &rc);
    cr_assert_eq(rc, ND_ERR_IO);
    char want[200];
    snprintf(want, sizeof want, "writing a temporary file in %s: File too large", dir);
    cr_assert_str_eq(nd_batch_errmsg(b), want);
    size_t ne;
    nd_batch_edges(b, &ne);
    cr_assert_eq(ne, 0);
    nd_batch_free(b);
    cr_assert_eq(entries(dir), 0);
    cr_assert_eq(rmdir(dir), 0);
}
