/*
 * test_index.c - the incremental index: queries, removal, eviction,
 * persistence across processes, parameter and format checks, damaged files,
 * kill -9 during writes, and readers running while one thread writes.
 *
 * Texts are seeded pseudo-random words, so any two distinct texts share
 * almost no word 3-grams and a copy with a few words changed shares most.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/neardup.h"

/* ------------------------------------------------------------ helpers */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* nwords pseudo-words of 4..9 letters from seed, space-separated. */
static char *make_text(uint64_t seed, unsigned nwords)
{
    char *t = malloc((size_t)nwords * 10 + 1);
    size_t n = 0;
    uint64_t s = seed * 7919 + 1;
    for (unsigned w = 0; w < nwords; w++) {
        unsigned len = 4 + (unsigned)(rng_next(&s) % 6);
        for (unsigned i = 0; i < len; i++)
            t[n++] = (char)('a' + rng_next(&s) % 26);
        t[n++] = ' ';
    }
    t[n ? n - 1 : 0] = '\0';
    return t;
}

/* Replace every stride-th word's first letter by 'z' then 'q'. */
static void perturb(char *t, unsigned stride)
{
    unsigned w = 0;
    for (char *p = t; *p; p++) {
        if (p == t || p[-1] == ' ') {
            if (w % stride == stride / 2)
                p[0] = p[0] == 'z' ? 'q' : 'z';
            w++;
        }
    }
}

static char tmpdir_buf[64];
static int janitor_fd = -1;

static void rm_dir(const char *d)
{
    DIR *dir = opendir(d);
    if (!dir)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        unlink(p);
    }
    closedir(dir);
    rmdir(d);
}

/*
 * A folder for the test, removed when the test ends however it ends: by
 * the suite's fini after a pass or a failed assertion, and by a janitor
 * process after a crash or a timeout's kill too.  The janitor waits for
 * the end of a pipe whose writing end this process (and any child it
 * forks) holds, then removes the folder.
 */
static const char *fresh_dir(void)
{
    strcpy(tmpdir_buf, "/tmp/nd-index-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir_buf));
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fds[1]);
        char c;
        while (read(fds[0], &c, 1) != 0 && errno == EINTR)
            ;
        rm_dir(tmpdir_buf);
        _exit(0);
    }
    close(fds[0]);
    janitor_fd = fds[1];
    return tmpdir_buf;
}

static void remove_fresh_dir(void)
{
    if (tmpdir_buf[0])
        rm_dir(tmpdir_buf);
    tmpdir_buf[0] = '\0';
    if (janitor_fd >= 0)
        close(janitor_fd);
    janitor_fd = -1;
}

TestSuite(index, .fini = remove_fresh_dir);

static char *path_in(const char *d, const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", d, name);
    return p;
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) ? -1 : (long)st.st_size;
}

static unsigned char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n ? *n : 1);
    cr_assert_eq(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void spit(const char *p, const unsigned char *b, size_t n)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

static nd_params params(void)
{
    nd_params p;
    nd_params_init(&p);
    p.threshold = 0.5;
    return p;
}

/* Without document frequencies: records of a fixed size. */
static nd_params params_plain(void)
{
    nd_params p = params();
    p.boilerplate = 0.0;
    return p;
}

static int add_doc(nd_index *ix, const char *prefix, unsigned i, int64_t t)
{
    char id[32];
    int n = snprintf(id, sizeof id, "%s%u", prefix, i);
    char *text = make_text(i, 150);
    int rc = nd_index_add(ix, id, (size_t)n, text, strlen(text), t);
    free(text);
    return rc;
}

/* The best match of doc i's text: its id into best (or "" if none). */
static size_t query_doc(nd_index *ix, unsigned i, char *best, double *j)
{
    nd_match m[8];
    size_t n;
    char *text = make_text(i, 150);
    cr_assert_eq(nd_index_query(ix, text, strlen(text), m, 8, &n), ND_OK);
    free(text);
    best[0] = '\0';
    if (n) {
        memcpy(best, m[0].id, m[0].id_len);
        best[m[0].id_len] = '\0';
        *j = m[0].jaccard;
    }
    return n;
}

/* ------------------------------------------------------------ memory */

Test(index, text_finds_itself_a_near_copy_is_found_unrelated_is_not)
{
    nd_params p = params();
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    for (unsigned i = 0; i < 50; i++)
        cr_assert_eq(add_doc(ix, "d", i, i), ND_OK);
    char best[64];
    double j = 0;
    for (unsigned i = 0; i < 50; i++) {
        char want[16];
        snprintf(want, sizeof want, "d%u", i);
        cr_assert_eq(query_doc(ix, i, best, &j), 1, "doc %u", i);
        cr_assert_str_eq(best, want);
        cr_assert_eq(j, 1.0);
    }
    /* 1 word in 10 changed: of 148 3-grams about 30% differ -> J ~ 0.55 */
    char *near = make_text(7, 150);
    perturb(near, 25); /* 6 words: <= 18 of 148 3-grams -> J >= 0.78 */
    nd_match m[4];
    size_t n;
    cr_assert_eq(nd_index_query(ix, near, strlen(near), m, 4, &n), ND_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(m[0].id_len, 2);
    cr_assert_eq(memcmp(m[0].id, "d7", 2), 0);
    cr_assert(m[0].jaccard > 0.6 && m[0].jaccard < 1.0, "j=%f", m[0].jaccard);
    free(near);
    char *other = make_text(1000, 150);
    cr_assert_eq(nd_index_query(ix, other, strlen(other), m, 4, &n), ND_OK);
    cr_assert_eq(n, 0);
    free(other);
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.docs, 50);
    cr_assert_eq(st.time_min, 0);
    cr_assert_eq(st.time_max, 49);
    cr_assert_eq(st.num_perm, 128);
    cr_assert_eq(st.bands * st.rows <= 128, 1);
    cr_assert_eq(st.disk_bytes, 0);
    nd_index_close(ix);
}

Test(index, equal_scores_rank_older_first_and_cap_cuts)
{
    nd_params p = params();
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    char *t = make_text(3, 120);
    cr_assert_eq(nd_index_add(ix, "late", 4, t, strlen(t), 50), ND_OK);
    cr_assert_eq(nd_index_add(ix, "early", 5, t, strlen(t), 10), ND_OK);
    cr_assert_eq(nd_index_add(ix, "mid", 3, t, strlen(t), 30), ND_OK);
    nd_match m[3];
    size_t n;
    cr_assert_eq(nd_index_query(ix, t, strlen(t), m, 3, &n), ND_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(m[0].id, "early", 5), 0);
    cr_assert_eq(memcmp(m[1].id, "mid", 3), 0);
    cr_assert_eq(memcmp(m[2].id, "late", 4), 0);
    cr_assert_eq(m[1].time, 30);
    cr_assert_eq(nd_index_query(ix, t, strlen(t), m, 1, &n), ND_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(memcmp(m[0].id, "early", 5), 0);
    /* a near copy ranks below exact copies */
    char *u = make_text(3, 120);
    perturb(u, 30);
    cr_assert_eq(nd_index_add(ix, "near", 4, u, strlen(u), 0), ND_OK);
    nd_match m4[4];
    cr_assert_eq(nd_index_query(ix, t, strlen(t), m4, 4, &n), ND_OK);
    cr_assert_eq(n, 4);
    cr_assert_eq(memcmp(m4[3].id, "near", 4), 0);
    cr_assert(m4[3].jaccard < 1.0);
    free(u);
    free(t);
    nd_index_close(ix);
}

Test(index, add_query_sees_only_earlier_docs_and_duplicate_ids_fail)
{
    nd_params p = params();
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    char *t = make_text(5, 100);
    nd_match m[4];
    size_t n = 99;
    cr_assert_eq(nd_index_add_query(ix, "a", 1, t, strlen(t), 1, m, 4, &n),
                 ND_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(nd_index_add_query(ix, "b", 1, t, strlen(t), 2, m, 4, &n),
                 ND_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(m[0].id[0], 'a');
    cr_assert_eq(m[0].jaccard, 1.0);
    cr_assert_eq(m[0].containment, 1.0);
    cr_assert_eq(nd_index_add_query(ix, "b", 1, t, strlen(t), 3, m, 4, &n),
                 ND_ERR_EXISTS);
    cr_assert_eq(n, 0);
    cr_assert_eq(nd_index_add(ix, "a", 1, t, strlen(t), 3), ND_ERR_EXISTS);
    cr_assert(strstr(nd_index_errmsg(ix), "\"a\"") != NULL);
    cr_assert_eq(nd_index_add(ix, "", 0, t, strlen(t), 3), ND_ERR_PARAM);
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.docs, 2);
    free(t);
    nd_index_close(ix);
}

Test(index, remove_forgets_and_allows_re_adding)
{
    nd_params p = params();
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    for (unsigned i = 0; i < 20; i++)
        cr_assert_eq(add_doc(ix, "d", i, i), ND_OK);
    cr_assert_eq(nd_index_remove(ix, "d4", 2), ND_OK);
    cr_assert_eq(nd_index_remove(ix, "d4", 2), ND_ERR_NOTFOUND);
    cr_assert_eq(nd_index_get(ix, "d4", 2, NULL), ND_ERR_NOTFOUND);
    int64_t t = -1;
    cr_assert_eq(nd_index_get(ix, "d5", 2, &t), ND_OK);
    cr_assert_eq(t, 5);
    char best[64];
    double j;
    cr_assert_eq(query_doc(ix, 4, best, &j), 0);
    cr_assert_eq(add_doc(ix, "d", 4, 99), ND_OK);
    cr_assert_eq(query_doc(ix, 4, best, &j), 1);
    cr_assert_str_eq(best, "d4");
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.docs, 20);
    cr_assert_eq(st.removed, 1);
    nd_index_close(ix);
}

Test(index, evict_before_removes_older_docs_only)
{
    nd_params p = params();
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    for (unsigned i = 0; i < 100; i++)
        cr_assert_eq(add_doc(ix, "d", i, 1000 + (int64_t)(i * 37 % 100)),
                     ND_OK);
    size_t k = 0;
    cr_assert_eq(nd_index_evict_before(ix, 1050, &k), ND_OK);
    cr_assert_eq(k, 50);
    char best[64];
    double j;
    for (unsigned i = 0; i < 100; i++) {
        int old = 1000 + (int)(i * 37 % 100) < 1050;
        cr_assert_eq(query_doc(ix, i, best, &j), old ? 0 : 1, "doc %u", i);
    }
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.docs, 50);
    cr_assert_eq(st.time_min, 1050);
    cr_assert_eq(st.time_max, 1099);
    cr_assert_eq(nd_index_evict_before(ix, 0, &k), ND_OK);
    cr_assert_eq(k, 0);
    nd_index_close(ix);
}

/* Removing most docs packs memory; survivors are still found. */
Test(index, packing_after_mass_removal_keeps_survivors)
{
    nd_params p = params();
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    for (unsigned i = 0; i < 3000; i++)
        cr_assert_eq(add_doc(ix, "d", i, i), ND_OK);
    size_t k;
    cr_assert_eq(nd_index_evict_before(ix, 2400, &k), ND_OK);
    cr_assert_eq(k, 2400);
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.docs, 600);
    cr_assert_eq(st.removed, 0);
    char best[64], want[16];
    double j;
    for (unsigned i = 2300; i < 3000; i += 7) {
        size_t n = query_doc(ix, i, best, &j);
        if (i < 2400) {
            cr_assert_eq(n, 0);
        } else {
            snprintf(want, sizeof want, "d%u", i);
            cr_assert_eq(n, 1);
            cr_assert_str_eq(best, want);
        }
    }
    nd_index_close(ix);
}

Test(index, containment_measure_finds_a_cut_copy)
{
    nd_params p = params();
    p.measure = ND_MEASURE_CONTAINMENT;
    p.threshold = 0.8;
    p.bands = 32; /* candidates down to J ~ 0.4, as containment needs */
    p.rows = 4;
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    char *full = make_text(11, 200);
    cr_assert_eq(nd_index_add(ix, "full", 4, full, strlen(full), 0), ND_OK);
    /* the first 120 words: 118 of the 198 3-grams, J = 118/198 ~ 0.60 */
    char *cut = full;
    unsigned w = 0;
    for (char *q = full; *q; q++)
        if (*q == ' ' && ++w == 120) {
            cut = q;
            break;
        }
    size_t cutlen = (size_t)(cut - full);
    nd_match m[2];
    size_t n;
    cr_assert_eq(nd_index_query(ix, full, cutlen, m, 2, &n), ND_OK);
    cr_assert_eq(n, 1);
    cr_assert(m[0].jaccard > 0.45 && m[0].jaccard < 0.75, "j=%f",
              m[0].jaccard);
    cr_assert(m[0].containment > 0.8, "c=%f", m[0].containment);
    nd_params_init(&p);
    p.threshold = 0.8;
    p.containment = 0; /* Jaccard alone */
    nd_index *jx;
    cr_assert_eq(nd_index_create(&p, &jx), ND_OK);
    cr_assert_eq(nd_index_add(jx, "full", 4, full, strlen(full), 0), ND_OK);
    cr_assert_eq(nd_index_query(jx, full, cutlen, m, 2, &n), ND_OK);
    cr_assert_eq(n, 0);
    free(full);
    nd_index_close(jx);
    nd_index_close(ix);
}

Test(index, empty_text_is_stored_but_never_matches)
{
    nd_params p = params();
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    cr_assert_eq(nd_index_add(ix, "e1", 2, "", 0, 0), ND_OK);
    cr_assert_eq(nd_index_add(ix, "e2", 2, "  ,, ", 5, 0), ND_OK);
    nd_match m[2];
    size_t n = 9;
    cr_assert_eq(nd_index_query(ix, "", 0, m, 2, &n), ND_OK);
    cr_assert_eq(n, 0);
    cr_assert_eq(nd_index_get(ix, "e2", 2, NULL), ND_OK);
    nd_index_close(ix);
    nd_index_close(NULL);
}

/* ------------------------------------------------------------ on disk */

Test(index, persists_across_processes)
{
    const char *d = fresh_dir();
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        nd_params p = params();
        nd_index *ix;
        if (nd_index_open(d, &p, ND_INDEX_CREATE, &ix) != ND_OK)
            _exit(2);
        for (unsigned i = 0; i < 100; i++)
            if (add_doc(ix, "d", i, i) != ND_OK)
                _exit(3);
        if (nd_index_remove(ix, "d10", 3) != ND_OK || nd_index_sync(ix))
            _exit(4);
        _exit(0); /* no close: the sync is the durability point */
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, NULL, ND_INDEX_READONLY, &ix), ND_OK,
                 "%s", nd_index_errmsg(ix));
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.docs, 99);
    char best[64], want[16];
    double j;
    for (unsigned i = 0; i < 100; i++) {
        size_t n = query_doc(ix, i, best, &j);
        cr_assert_eq(n, i == 10 ? 0 : 1, "doc %u", i);
        if (n) {
            snprintf(want, sizeof want, "d%u", i);
            cr_assert_str_eq(best, want);
            cr_assert_eq(j, 1.0);
        }
    }
    cr_assert_eq(add_doc(ix, "x", 1, 0), ND_ERR_STATE);
    nd_params got;
    nd_index_params(ix, &got);
    cr_assert_eq(got.num_perm, 128);
    cr_assert_eq(got.threshold, 0.5);
    nd_index_close(ix);
    rm_dir(d);
}

Test(index, save_of_an_in_memory_index_opens_with_the_same_answers)
{
    const char *d = fresh_dir();
    nd_params p = params_plain();
    nd_index *ix, *jx;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    for (unsigned i = 0; i < 40; i++)
        cr_assert_eq(add_doc(ix, "d", i, i), ND_OK);
    cr_assert_eq(nd_index_save(ix, NULL), ND_ERR_PARAM);
    cr_assert_eq(nd_index_save(ix, d), ND_OK);
    cr_assert_eq(nd_index_open(d, &p, 0, &jx), ND_OK, "%s",
                 nd_index_errmsg(jx));
    char best[64], want[16];
    double j;
    for (unsigned i = 0; i < 40; i++) {
        snprintf(want, sizeof want, "d%u", i);
        cr_assert_eq(query_doc(jx, i, best, &j), 1);
        cr_assert_str_eq(best, want);
    }
    /* snapshot: 192 header + 40 * (512 + 25) + ids d0..d39 (10*2 + 30*3);
       the texts state no figures and no shingle is counted */
    cr_assert_eq(file_size(path_in(d, "index.nds")), 192 + 40 * 537 + 110);
    nd_index *kx;
    cr_assert_eq(nd_index_open(d, NULL, 0, &kx), ND_ERR_STATE);
    cr_assert(strstr(nd_index_errmsg(kx), "open for writing") != NULL);
    nd_index_close(kx);
    nd_index_close(jx);
    nd_index_close(ix);
    rm_dir(d);
}

Test(index, open_refuses_other_params_naming_the_field)
{
    const char *d = fresh_dir();
    nd_params p = params();
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &ix), ND_OK);
    nd_index_close(ix);
    p.num_perm = 64;
    cr_assert_eq(nd_index_open(d, &p, 0, &ix), ND_ERR_MISMATCH);
    cr_assert(strstr(nd_index_errmsg(ix), "num_perm=128") != NULL, "%s",
              nd_index_errmsg(ix));
    cr_assert(strstr(nd_index_errmsg(ix), "num_perm=64") != NULL);
    nd_index_close(ix);
    p = params();
    p.seed = 2;
    cr_assert_eq(nd_index_open(d, &p, 0, &ix), ND_ERR_MISMATCH);
    cr_assert(strstr(nd_index_errmsg(ix), "seed") != NULL);
    nd_index_close(ix);
    p = params();
    p.shingle = ND_SHINGLE_CHAR;
    cr_assert_eq(nd_index_open(d, &p, 0, &ix), ND_ERR_MISMATCH);
    cr_assert(strstr(nd_index_errmsg(ix), "shingle=glyph") != NULL);
    nd_index_close(ix);
    p = params();
    p.threshold = 0.8;
    cr_assert_eq(nd_index_open(d, &p, 0, &ix), ND_ERR_MISMATCH);
    cr_assert(strstr(nd_index_errmsg(ix), "threshold") != NULL);
    nd_index_close(ix);
    cr_assert_eq(nd_index_open("/nonexistent/nd", NULL, 0, &ix),
                 ND_ERR_NOTFOUND);
    nd_index_close(ix);
    rm_dir(d);
    cr_assert_eq(nd_index_open(d, NULL, ND_INDEX_CREATE, &ix), ND_OK);
    nd_params got;
    nd_index_params(ix, &got);
    cr_assert_eq(got.num_perm, 128);
    nd_index_close(ix);
    rm_dir(d);
}

static void make_index_with(const char *d, unsigned ndocs, int compact,
                            nd_params p)
{
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &ix), ND_OK);
    for (unsigned i = 0; i < ndocs; i++)
        cr_assert_eq(add_doc(ix, "d", i, i), ND_OK);
    cr_assert_eq(compact ? nd_index_save(ix, NULL) : nd_index_sync(ix),
                 ND_OK);
    nd_index_close(ix);
}

static void make_index(const char *d, unsigned ndocs, int compact)
{
    make_index_with(d, ndocs, compact, params());
}

static int open_rc(const char *d, uint64_t *docs)
{
    nd_index *ix;
    int rc = nd_index_open(d, NULL, ND_INDEX_READONLY, &ix);
    if (getenv("ND_TEST_VERBOSE"))
        fprintf(stderr, "open: %s\n", nd_index_errmsg(ix));
    if (rc == ND_OK && docs) {
        nd_index_stats st;
        nd_index_stats_get(ix, &st);
        *docs = st.docs;
    }
    nd_index_close(ix);
    return rc;
}

Test(index, newer_format_version_is_refused)
{
    const char *d = fresh_dir();
    make_index(d, 3, 1);
    size_t n;
    unsigned char *b = slurp(path_in(d, "index.nds"), &n);
    cr_assert_eq(b[8], 4);
    b[8] = 5;
    spit(path_in(d, "index.nds"), b, n);
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, NULL, 0, &ix), ND_ERR_FORMAT);
    cr_assert(strstr(nd_index_errmsg(ix), "version 5 is newer") != NULL,
              "%s", nd_index_errmsg(ix));
    nd_index_close(ix);
    /* format 3 held signatures and figure sketches of an older definition */
    b[8] = 3;
    spit(path_in(d, "index.nds"), b, n);
    cr_assert_eq(nd_index_open(d, NULL, 0, &ix), ND_ERR_FORMAT);
    cr_assert(strstr(nd_index_errmsg(ix), "format version 3 (signatures and "
                                          "figure sketches of an older "
                                          "definition) is not read") != NULL,
              "%s", nd_index_errmsg(ix));
    nd_index_close(ix);
    /* format 2 hashed word shingles by another rule */
    b[8] = 2;
    spit(path_in(d, "index.nds"), b, n);
    cr_assert_eq(nd_index_open(d, NULL, 0, &ix), ND_ERR_FORMAT);
    cr_assert(strstr(nd_index_errmsg(ix), "format version 2") != NULL,
              "%s", nd_index_errmsg(ix));
    nd_index_close(ix);
    /* the header of format 1: 128 bytes */
    b[8] = 1;
    b[12] = 128;
    spit(path_in(d, "index.nds"), b, n);
    cr_assert_eq(nd_index_open(d, NULL, 0, &ix), ND_ERR_FORMAT);
    cr_assert(strstr(nd_index_errmsg(ix), "format version 1") != NULL,
              "%s", nd_index_errmsg(ix));
    nd_index_close(ix);
    memcpy(b, "NOTANIDX", 8);
    spit(path_in(d, "index.nds"), b, n);
    cr_assert_eq(open_rc(d, NULL), ND_ERR_FORMAT);
    free(b);
    rm_dir(d);
}

Test(index, truncated_snapshot_is_corrupt_at_every_length)
{
    const char *d = fresh_dir();
    make_index(d, 5, 1);
    size_t n;
    unsigned char *b = slurp(path_in(d, "index.nds"), &n);
    cr_assert_eq(open_rc(d, NULL), ND_OK);
    for (size_t len = 0; len < n; len += (len < 200 ? 1 : 97)) {
        spit(path_in(d, "index.nds"), b, len);
        cr_assert_eq(open_rc(d, NULL), ND_ERR_CORRUPT, "length %zu", len);
    }
    free(b);
    rm_dir(d);
}

Test(index, bit_flips_in_the_snapshot_never_open_silently)
{
    const char *d = fresh_dir();
    make_index(d, 6, 1);
    size_t n;
    unsigned char *b = slurp(path_in(d, "index.nds"), &n);
    uint64_t s = 42;
    for (int round = 0; round < 300; round++) {
        size_t at = round < 128 ? (size_t)round : rng_next(&s) % n;
        unsigned bit = (unsigned)(rng_next(&s) % 8);
        b[at] ^= (unsigned char)(1u << bit);
        spit(path_in(d, "index.nds"), b, n);
        int rc = open_rc(d, NULL);
        cr_assert(rc == ND_ERR_CORRUPT || rc == ND_ERR_FORMAT,
                  "byte %zu bit %u: rc %d", at, bit, rc);
        b[at] ^= (unsigned char)(1u << bit);
    }
    free(b);
    rm_dir(d);
}

/* Each add record: 16 framing + 20 + id + 4 * 128 + 1 figure count + 4
 * list length (no figures, not counted). */
Test(index, torn_log_tail_opens_with_the_complete_records)
{
    const char *d = fresh_dir();
    make_index_with(d, 10, 0, params_plain()); /* d0..d9: ids of 2 bytes */
    size_t n;
    unsigned char *b = slurp(path_in(d, "index.wal"), &n);
    size_t rec = 16 + 20 + 2 + 512 + 5;
    cr_assert_eq(n, 64 + 10 * rec);
    for (size_t len = 64; len <= n; len += 37) {
        spit(path_in(d, "index.wal"), b, len);
        uint64_t docs = 99;
        cr_assert_eq(open_rc(d, &docs), ND_OK, "length %zu", len);
        cr_assert_eq(docs, (len - 64) / rec, "length %zu", len);
    }
    /* a torn tail of zeros, as a crashed file system may leave */
    unsigned char *z = calloc(1, n + 300);
    memcpy(z, b, n - rec + 5);
    spit(path_in(d, "index.wal"), z, n + 300);
    uint64_t docs = 0;
    cr_assert_eq(open_rc(d, &docs), ND_OK);
    cr_assert_eq(docs, 9);
    /* a damaged record in the middle is corruption, not a tail */
    memcpy(z, b, n);
    z[64 + 3 * rec + 100] ^= 4;
    spit(path_in(d, "index.wal"), z, n);
    cr_assert_eq(open_rc(d, NULL), ND_ERR_CORRUPT);
    /* the last record whole but damaged: no crash leaves that */
    memcpy(z, b, n);
    z[n - 3] ^= 4;
    spit(path_in(d, "index.wal"), z, n);
    cr_assert_eq(open_rc(d, NULL), ND_ERR_CORRUPT);
    /* a writable open cuts a torn tail off for good */
    spit(path_in(d, "index.wal"), b, n - 100);
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, NULL, 0, &ix), ND_OK);
    nd_index_close(ix);
    cr_assert_eq(file_size(path_in(d, "index.wal")), (long)(64 + 9 * rec));
    free(z);
    free(b);
    rm_dir(d);
}

/*
 * An index of 6 documents in its snapshot and 8 in its log (ids of 2 and 3
 * bytes: d0..d5, then e0..e7, each log record of 16 + 20 + 2 + 512 + 5
 * bytes).  Its log's bytes into *wal (n of them).
 */
#define LOG_REC (16 + 20 + 2 + 512 + 5)
static unsigned char *snapshot_and_log(const char *d, size_t *n)
{
    nd_params p = params_plain();
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &ix), ND_OK);
    for (unsigned i = 0; i < 6; i++)
        cr_assert_eq(add_doc(ix, "d", i, i), ND_OK);
    cr_assert_eq(nd_index_save(ix, NULL), ND_OK);
    for (unsigned i = 0; i < 8; i++)
        cr_assert_eq(add_doc(ix, "e", i, i), ND_OK);
    cr_assert_eq(nd_index_sync(ix), ND_OK);
    nd_index_close(ix);
    unsigned char *b = slurp(path_in(d, "index.wal"), n);
    cr_assert_eq(*n, 64 + 8 * LOG_REC);
    return b;
}

/* Opening, read-only and for writing, fails with rc and a message that
 * holds what; the log is left byte for byte as it was (want, n). */
static void open_fails_leaving_the_log(const char *d, int rc, const char *what,
                                       const unsigned char *want, size_t n,
                                       const char *ctx)
{
    for (int flags = ND_INDEX_READONLY; flags >= 0; flags--) {
        nd_index *ix;
        cr_assert_eq(nd_index_open(d, NULL, flags, &ix), rc, "%s: %s", ctx,
                     nd_index_errmsg(ix));
        cr_assert(strstr(nd_index_errmsg(ix), what) != NULL, "%s: %s", ctx,
                  nd_index_errmsg(ix));
        nd_index_close(ix);
        if (want) {
            size_t m;
            unsigned char *got = slurp(path_in(d, "index.wal"), &m);
            cr_assert(m == n && memcmp(got, want, n) == 0,
                      "%s: the log was changed", ctx);
            free(got);
        }
    }
}

Test(index, a_damaged_length_field_is_damage_not_a_torn_tail)
{
    const char *d = fresh_dir();
    size_t n;
    unsigned char *b = snapshot_and_log(d, &n);
    /* the high byte of the first record's length: it points far past the
       end, as a write cut short would; the records after it tell */
    b[67] = 0x7f;
    spit(path_in(d, "index.wal"), b, n);
    open_fails_leaving_the_log(d, ND_ERR_CORRUPT,
                               "index.wal: offset 64: damaged record, and "
                               "complete records follow at offset 619",
                               b, n, "byte 67");
    b[67] = 0;
    /* every bit of every record's length, type and checksum, the last
       record's too */
    char ctx[64];
    for (unsigned r = 0; r < 8; r++) {
        size_t at = 64 + r * LOG_REC;
        size_t fields[] = {at, at + 1, at + 2, at + 3, at + 4, at + 7,
                           at + LOG_REC - 8, at + LOG_REC - 1};
        for (unsigned f = 0; f < sizeof fields / sizeof *fields; f++)
            for (unsigned bit = 0; bit < 8; bit++) {
                b[fields[f]] ^= (unsigned char)(1u << bit);
                spit(path_in(d, "index.wal"), b, n);
                snprintf(ctx, sizeof ctx, "byte %zu bit %u", fields[f], bit);
                open_fails_leaving_the_log(d, ND_ERR_CORRUPT, "index.wal: "
                                           "offset ", b, n, ctx);
                b[fields[f]] ^= (unsigned char)(1u << bit);
            }
    }
    /* undamaged again, it opens whole */
    spit(path_in(d, "index.wal"), b, n);
    uint64_t docs = 0;
    cr_assert_eq(open_rc(d, &docs), ND_OK);
    cr_assert_eq(docs, 14);
    free(b);
}

Test(index, bit_flips_in_the_log_never_open_silently)
{
    const char *d = fresh_dir();
    size_t n;
    unsigned char *b = snapshot_and_log(d, &n);
    uint64_t s = 9;
    char ctx[64];
    for (int round = 0; round < 300; round++) {
        size_t at = (size_t)(rng_next(&s) % n);
        unsigned bit = (unsigned)(rng_next(&s) % 8);
        b[at] ^= (unsigned char)(1u << bit);
        spit(path_in(d, "index.wal"), b, n);
        snprintf(ctx, sizeof ctx, "byte %zu bit %u", at, bit);
        int rc = open_rc(d, NULL);
        cr_assert(rc == ND_ERR_CORRUPT || rc == ND_ERR_FORMAT, "%s: rc %d",
                  ctx, rc);
        b[at] ^= (unsigned char)(1u << bit);
    }
    spit(path_in(d, "index.wal"), b, n);
    uint64_t docs = 0;
    cr_assert_eq(open_rc(d, &docs), ND_OK);
    cr_assert_eq(docs, 14);
    free(b);
}

Test(index, a_missing_log_is_damage)
{
    const char *d = fresh_dir();
    size_t n;
    unsigned char *b = snapshot_and_log(d, &n);
    cr_assert_eq(unlink(path_in(d, "index.wal")), 0);
    open_fails_leaving_the_log(d, ND_ERR_CORRUPT, "index.wal: missing", NULL,
                               0, "no log");
    cr_assert_eq(file_size(path_in(d, "index.wal")), -1, "a log was made");
    spit(path_in(d, "index.wal"), b, n);
    uint64_t docs = 0;
    cr_assert_eq(open_rc(d, &docs), ND_OK);
    cr_assert_eq(docs, 14);
    free(b);
}

/* A creation cut short between the log and the snapshot leaves no index;
 * a log with records and no snapshot is damage. */
Test(index, a_log_without_its_snapshot)
{
    const char *d = fresh_dir();
    nd_params p = params_plain();
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &ix), ND_OK);
    nd_index_close(ix);
    cr_assert_eq(file_size(path_in(d, "index.wal")), 64);
    cr_assert_eq(unlink(path_in(d, "index.nds")), 0);
    cr_assert_eq(open_rc(d, NULL), ND_ERR_NOTFOUND);
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &ix), ND_OK, "%s",
                 nd_index_errmsg(ix));
    cr_assert_eq(add_doc(ix, "d", 1, 1), ND_OK);
    nd_index_close(ix);
    cr_assert_eq(unlink(path_in(d, "index.nds")), 0);
    cr_assert_eq(open_rc(d, NULL), ND_ERR_CORRUPT);
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &ix), ND_ERR_CORRUPT);
    cr_assert(strstr(nd_index_errmsg(ix), "index.nds: missing, but a log is "
                                          "present") != NULL,
              "%s", nd_index_errmsg(ix));
    nd_index_close(ix);
    cr_assert_eq(file_size(path_in(d, "index.wal")), 64 + LOG_REC);
}

/* A FIFO in the place of a file fails the open at once (the test's
 * timeout catches a hang). */
Test(index, a_fifo_in_place_of_a_file_is_refused, .timeout = 60)
{
    const char *d = fresh_dir();
    size_t n;
    unsigned char *b = snapshot_and_log(d, &n);
    static const char *const names[] = {"index.wal", "index.nds", "LOCK"};
    char keep[600];
    for (unsigned i = 0; i < 3; i++) {
        snprintf(keep, sizeof keep, "%s.keep", path_in(d, names[i]));
        cr_assert_eq(rename(path_in(d, names[i]), keep), 0);
        cr_assert_eq(mkfifo(path_in(d, names[i]), 0600), 0);
        for (int flags = i == 2 ? 0 : ND_INDEX_READONLY; flags >= 0;
             flags--) {
            nd_index *ix;
            cr_assert_eq(nd_index_open(d, NULL, flags, &ix), ND_ERR_FORMAT,
                         "%s", names[i]);
            char want[64];
            snprintf(want, sizeof want, "%s: not a regular file", names[i]);
            cr_assert(strstr(nd_index_errmsg(ix), want) != NULL, "%s",
                      nd_index_errmsg(ix));
            nd_index_close(ix);
        }
        cr_assert_eq(unlink(path_in(d, names[i])), 0);
        snprintf(keep, sizeof keep, "%s.keep", path_in(d, names[i]));
        cr_assert_eq(rename(keep, path_in(d, names[i])), 0);
        uint64_t docs = 0;
        cr_assert_eq(open_rc(d, &docs), ND_OK);
        cr_assert_eq(docs, 14);
    }
    free(b);
}

/*
 * An add whose log record cannot be written (the file size limit stops it
 * part way) returns ND_ERR_IO and changes nothing: the document is neither
 * found nor matched, its bytes are cut off the log, and it can be added
 * once the log takes it.  Each add that returned ND_OK is in the log
 * without a sync or close.
 */
Test(index, a_failed_log_write_changes_nothing)
{
    const char *d = fresh_dir();
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        nd_params p = params_plain();
        nd_index *ix;
        if (nd_index_open(d, &p, ND_INDEX_CREATE, &ix) != ND_OK)
            _exit(2);
        for (unsigned i = 0; i < 3; i++)
            if (add_doc(ix, "d", i, i) != ND_OK)
                _exit(3);
        struct rlimit rl;
        getrlimit(RLIMIT_FSIZE, &rl);
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = (rlim_t)(64 + 3 * LOG_REC + 100);
        if (setrlimit(RLIMIT_FSIZE, &rl) || add_doc(ix, "d", 3, 3) != ND_ERR_IO)
            _exit(4);
        nd_match m[4];
        size_t n = 9;
        char *text = make_text(3, 150);
        nd_index_stats st;
        nd_index_stats_get(ix, &st);
        if (nd_index_get(ix, "d3", 2, NULL) != ND_ERR_NOTFOUND ||
            nd_index_query(ix, text, strlen(text), m, 4, &n) != ND_OK ||
            n != 0 || st.docs != 3)
            _exit(5);
        free(text);
        rl.rlim_cur = was;
        if (setrlimit(RLIMIT_FSIZE, &rl) || add_doc(ix, "d", 3, 3) != ND_OK)
            _exit(6);
        _exit(0); /* no sync, no close */
    }
    int status;
    waitpid(pid, &status, 0);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    cr_assert_eq(file_size(path_in(d, "index.wal")), 64 + 4 * LOG_REC);
    uint64_t docs = 0;
    cr_assert_eq(open_rc(d, &docs), ND_OK);
    cr_assert_eq(docs, 4);
}

/*
 * raw: a signature (512 bytes) per document, plus, when shingles are
 * counted, 2 bytes for each of its shingles (counter indices of 20 bits, a
 * few hundred of them in 2^20: gaps of thousands take two LEB128 bytes).
 */
static void disk_size_within_bound(nd_params p)
{
    const char *d = fresh_dir();
    nd_sketcher *sk;
    cr_assert_eq(nd_sketcher_create(&p, &sk), ND_OK);
    char *text = make_text(0, 150);
    const uint64_t *set;
    size_t m;
    cr_assert_eq(nd_sketcher_shingles(sk, text, strlen(text), &set, &m), ND_OK);
    cr_assert_gt(m, 100);
    free(text);
    nd_sketcher_free(sk);
    long per = 512 + (p.boilerplate > 0.0 ? 2 * (long)m : 0);
    nd_index *ix;
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &ix), ND_OK);
    for (unsigned i = 0; i < 4000; i++) {
        cr_assert_eq(add_doc(ix, "article-", i, i), ND_OK);
        if (i % 500 == 499)
            cr_assert_eq(nd_index_sync(ix), ND_OK);
    }
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    long raw = 4000L * per;
    long disk = file_size(path_in(d, "index.nds")) +
                file_size(path_in(d, "index.wal"));
    cr_assert_eq((long)st.disk_bytes, disk);
    cr_assert(disk <= raw * 3 / 2, "%ld > 1.5 * %ld", disk, raw);
    size_t k;
    for (unsigned i = 0; i < 3000; i += 2)
        cr_assert_eq(nd_index_remove(ix, "article-1", 9), i ? ND_ERR_NOTFOUND
                                                            : ND_OK);
    cr_assert_eq(nd_index_evict_before(ix, 2000, &k), ND_OK);
    cr_assert_eq(k, 1999); /* article-1 was removed already */
    cr_assert_eq(nd_index_sync(ix), ND_OK);
    nd_index_stats_get(ix, &st);
    cr_assert_eq(st.docs, 2000);
    cr_assert_eq(st.df_docs, p.boilerplate > 0.0 ? 2000 : 0);
    cr_assert(st.generation >= 2, "no compaction: gen %llu",
              (unsigned long long)st.generation);
    disk = file_size(path_in(d, "index.nds")) +
           file_size(path_in(d, "index.wal"));
    cr_assert(disk <= 2000L * per * 3 / 2, "%ld", disk);
    nd_index_close(ix);
    rm_dir(d);
}

Test(index, disk_size_stays_within_one_and_a_half_raw_signatures)
{
    disk_size_within_bound(params_plain());
}

Test(index, disk_size_with_counted_shingles_stays_within_its_bound)
{
    disk_size_within_bound(params());
}

/* ------------------------------------------------------------ kill -9 */

/*
 * The writer adds docs k<start>, k<start+1>, ... and writes the count of
 * acknowledged docs to the pipe after each acknowledgement: unbuffered
 * (even rounds), each add that returned ND_OK; buffered (odd rounds), the
 * adds before each nd_index_flush, nd_index_sync or nd_index_save that
 * returned ND_OK.  Now and then it syncs or compacts.
 */
static void writer(const char *d, int fd, int buffered)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives a failed test */
    nd_params p = params();
    nd_index *ix;
    if (nd_index_open(d, &p, ND_INDEX_CREATE | (buffered ? ND_INDEX_BUFFERED
                                                         : 0),
                      &ix) != ND_OK)
        _exit(2);
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    uint64_t next = st.docs;
    for (unsigned round = 0;; round++) {
        for (unsigned i = 0; i < 1 + round % 7; i++, next++) {
            if (add_doc(ix, "k", (unsigned)next, (int64_t)next) != ND_OK)
                _exit(3);
            if (!buffered && write(fd, &(uint64_t){next + 1}, 8) != 8)
                _exit(5);
        }
        int rc = round % 11 == 10 ? nd_index_save(ix, NULL)
                 : round % 5 == 4 ? nd_index_sync(ix)
                                  : buffered ? nd_index_flush(ix) : ND_OK;
        if (rc != ND_OK)
            _exit(4);
        if (buffered && write(fd, &next, sizeof next) != sizeof next)
            _exit(5);
    }
}

Test(index, kill_9_at_random_moments_keeps_every_acknowledged_doc,
     .timeout = 120)
{
    const char *d = fresh_dir();
    uint64_t acked = 0, s = 7;
    for (int round = 0; round < 30; round++) {
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
            close(fds[0]);
            writer(d, fds[1], round % 2);
        }
        close(fds[1]);
        /* Wait for the writer's first acknowledgement of this round (an
           event, not a guessed delay: a loaded machine may take long to
           start it), then kill it at a random moment after. */
        uint64_t v;
        ssize_t got = read(fds[0], &v, sizeof v);
        if (got != (ssize_t)sizeof v)
            kill(pid, SIGKILL);
        cr_assert_eq(got, (ssize_t)sizeof v,
                     "round %d: the writer acknowledged nothing", round);
        cr_assert_gt(v, acked, "round %d: no new document acknowledged", round);
        acked = v;
        /* a third of the rounds at once, while the first adds wait for
           their first sync */
        struct timespec ts = {0, (long)(rng_next(&s) % 40000000)};
        if (round % 3 != 0)
            nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        cr_assert(WIFSIGNALED(status), "writer exited with %d",
                  WEXITSTATUS(status));
        /* every acknowledgement the reader got, to the last */
        while (read(fds[0], &v, sizeof v) == sizeof v)
            acked = v;
        close(fds[0]);
        nd_index *ix;
        int rc = nd_index_open(d, NULL, ND_INDEX_READONLY, &ix);
        cr_assert_eq(rc, ND_OK, "round %d: %s", round, nd_index_errmsg(ix));
        nd_index_stats st;
        nd_index_stats_get(ix, &st);
        cr_assert(st.docs >= acked, "round %d: %llu docs < %llu acked",
                  round, (unsigned long long)st.docs,
                  (unsigned long long)acked);
        char id[32];
        for (uint64_t i = 0; i < st.docs; i++) {
            int n = snprintf(id, sizeof id, "k%llu", (unsigned long long)i);
            cr_assert_eq(nd_index_get(ix, id, (size_t)n, NULL), ND_OK,
                         "round %d: %s missing", round, id);
        }
        nd_index_close(ix);
    }
    cr_assert_geq(acked, 30, "every round acknowledges one document at least");
}

/* ------------------------------------------------------------ threads */

typedef struct reader_arg {
    nd_index *ix;
    volatile int *stop;
    unsigned checked, bad;
} reader_arg;

static void *reader(void *p)
{
    reader_arg *a = p;
    char *texts[40];
    for (unsigned i = 0; i < 40; i++)
        texts[i] = make_text(i, 150);
    nd_match m[8];
    for (unsigned r = 0; !__atomic_load_n(a->stop, __ATOMIC_ACQUIRE); r++) {
        unsigned i = r % 40;
        size_t n;
        char want[16];
        int wl = snprintf(want, sizeof want, "p%u", i);
        if (nd_index_query(a->ix, texts[i], strlen(texts[i]), m, 8, &n) ||
            n < 1 || m[0].jaccard != 1.0 || m[0].id_len != (size_t)wl ||
            memcmp(m[0].id, want, (size_t)wl) != 0)
            a->bad++;
        __atomic_add_fetch(&a->checked, 1, __ATOMIC_RELEASE);
    }
    for (unsigned i = 0; i < 40; i++)
        free(texts[i]);
    return NULL;
}

Test(index, readers_run_while_one_thread_writes, .timeout = 120)
{
    nd_params p = params();
    nd_index *ix;
    cr_assert_eq(nd_index_create(&p, &ix), ND_OK);
    for (unsigned i = 0; i < 40; i++)
        cr_assert_eq(add_doc(ix, "p", i, 1 << 30), ND_OK);
    volatile int stop = 0;
    reader_arg ra[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
        ra[t] = (reader_arg){ix, &stop, 0, 0};
        cr_assert_eq(pthread_create(&th[t], NULL, reader, &ra[t]), 0);
    }
    /* the writes start once every reader runs (a loaded machine may start
       them late) */
    for (int t = 0; t < 3; t++)
        while (__atomic_load_n(&ra[t].checked, __ATOMIC_ACQUIRE) == 0)
            sched_yield();
    /* writes: adds (growing every array), removes, evictions */
    for (unsigned i = 1000; i < 2500; i++) {
        cr_assert_eq(add_doc(ix, "w", i, i), ND_OK);
        if (i % 10 == 9) {
            char id[16];
            int n = snprintf(id, sizeof id, "w%u", i - 5);
            cr_assert_eq(nd_index_remove(ix, id, (size_t)n), ND_OK);
        }
        if (i % 250 == 0) {
            size_t k;
            cr_assert_eq(nd_index_evict_before(ix, i - 100, &k), ND_OK);
        }
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int t = 0; t < 3; t++) {
        pthread_join(th[t], NULL);
        cr_assert(ra[t].checked > 0);
        cr_assert_eq(ra[t].bad, 0, "reader %d: %u of %u wrong", t, ra[t].bad,
                     ra[t].checked);
    }
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    cr_assert(st.queries >= ra[0].checked + ra[1].checked + ra[2].checked);
    nd_index_close(ix);
}

/* ------------------------------------------------------------ bulk open */

/*
 * Opening builds each band table in one sorted pass; an index built in
 * memory by one insert at a time is the independent reference.  Signatures
 * drawn from a small alphabet give large shared buckets and crowded tables
 * (entries displaced past the end wrap around); removals and empty sets
 * leave dead and unbanded slots.  Every query must return the same matches
 * in the same order, and visit the same number of candidates.
 */
static void same_answers(nd_index *a, nd_index *b, unsigned alphabet,
                         unsigned nq)
{
    enum { K = 8, CAP = 4096 };
    static nd_match ma[CAP], mb[CAP];
    uint64_t s = alphabet; /* the indexed signatures: every tag is asked */
    nd_index_stats sa, sb;
    nd_index_stats_get(a, &sa);
    nd_index_stats_get(b, &sb);
    cr_assert_eq(sa.docs, sb.docs);
    for (unsigned q = 0; q < nq; q++) {
        uint32_t sig[K];
        for (unsigned i = 0; i < K; i++)
            sig[i] = (uint32_t)(rng_next(&s) % alphabet);
        size_t na, nb;
        cr_assert_eq(nd_index_query_sig(a, sig, 100, ma, CAP, &na), ND_OK);
        cr_assert_eq(nd_index_query_sig(b, sig, 100, mb, CAP, &nb), ND_OK);
        cr_assert_eq(na, nb, "query %u: %zu vs %zu matches", q, na, nb);
        for (size_t i = 0; i < na; i++) {
            cr_assert_eq(ma[i].id_len, mb[i].id_len);
            cr_assert_eq(memcmp(ma[i].id, mb[i].id, ma[i].id_len), 0);
            cr_assert_eq(ma[i].jaccard, mb[i].jaccard);
        }
    }
    nd_index_stats ea, eb;
    nd_index_stats_get(a, &ea);
    nd_index_stats_get(b, &eb);
    cr_assert_eq(ea.candidates - sa.candidates, eb.candidates - sb.candidates);
    cr_assert_geq(ea.candidates - sa.candidates, nq);
}

static void bulk_open_case(unsigned alphabet, unsigned ndocs, int churn,
                           unsigned bands)
{
    enum { K = 8 };
    nd_params p;
    nd_params_init(&p);
    p.num_perm = K;
    p.bands = bands;
    p.rows = K / bands;
    p.threshold = 0.25;
    const char *d = fresh_dir();
    nd_index *mem, *disk;
    cr_assert_eq(nd_index_create(&p, &mem), ND_OK);
    cr_assert_eq(nd_index_open(d, &p, ND_INDEX_CREATE, &disk), ND_OK);
    uint64_t s = alphabet;
    char id[32];
    for (unsigned i = 0; i < ndocs; i++) {
        uint32_t sig[K];
        for (unsigned j = 0; j < K; j++)
            sig[j] = (uint32_t)(rng_next(&s) % alphabet);
        uint64_t setsz = churn && i % 97 == 5 ? 0 : 100;
        int n = snprintf(id, sizeof id, "d%u", i);
        cr_assert_eq(nd_index_add_sig(mem, id, (size_t)n, sig, setsz, i), ND_OK);
        cr_assert_eq(nd_index_add_sig(disk, id, (size_t)n, sig, setsz, i), ND_OK);
        if (churn && i % 7 == 3) {
            n = snprintf(id, sizeof id, "d%u", i / 2);
            cr_assert_eq(nd_index_remove(mem, id, (size_t)n),
                         nd_index_remove(disk, id, (size_t)n));
        }
    }
    nd_index_close(disk); /* everything is in the log: replayed on open */
    cr_assert_eq(nd_index_open(d, NULL, ND_INDEX_READONLY, &disk), ND_OK);
    same_answers(mem, disk, alphabet, ndocs);
    nd_index_close(disk);
    cr_assert_eq(nd_index_open(d, NULL, 0, &disk), ND_OK);
    cr_assert_eq(nd_index_save(disk, NULL), ND_OK); /* all in the snapshot */
    nd_index_close(disk);
    cr_assert_eq(nd_index_open(d, NULL, 0, &disk), ND_OK);
    same_answers(mem, disk, alphabet, ndocs);
    /* the bulk-built tables keep growing one insert at a time */
    for (unsigned i = ndocs; i < ndocs + 3000; i++) {
        uint32_t sig[K];
        for (unsigned j = 0; j < K; j++)
            sig[j] = (uint32_t)(rng_next(&s) % alphabet);
        int n = snprintf(id, sizeof id, "d%u", i);
        cr_assert_eq(nd_index_add_sig(mem, id, (size_t)n, sig, 100, i), ND_OK);
        cr_assert_eq(nd_index_add_sig(disk, id, (size_t)n, sig, 100, i), ND_OK);
    }
    same_answers(mem, disk, alphabet, ndocs + 3000);
    nd_index_close(disk);
    nd_index_close(mem);
    rm_dir(d);
}

Test(index, bulk_open_answers_as_one_insert_at_a_time_large_buckets)
{
    bulk_open_case(40, 3000, 1, 8);
}

Test(index, bulk_open_answers_as_one_insert_at_a_time_crowded_parallel)
{
    bulk_open_case(3000, 20000, 1, 8);
}

/* 4095 distinct tags in one band fill an 8192-entry table to just under
 * half: in some of the 32 tables built here a run of entries reaches the
 * end and wraps to the front, and one band means a lost entry is a lost
 * candidate. */
Test(index, bulk_open_answers_as_one_insert_at_a_time_wrapping_tables)
{
    for (unsigned v = 0; v < 16; v++)
        bulk_open_case((1u << 30) + v, 4095, 0, 1);
}
