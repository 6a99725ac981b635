/*
 * test_job.c - the job (nd_job_*): rows, warnings, errors, progress and
 * the accounting of every record, on small files written for each test.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/job/jobint.h"
#include "../src/neardup.h"

#define STORY_A "The council approved the new budget for the harbour district on Monday " \
                "after a long debate about repairs to the old sea wall and the ferry pier"
#define STORY_B "Heavy snow closed the mountain pass for a second day and the rescue teams " \
                "asked drivers to stay at home until the ploughs had cleared the road"

typedef struct {
    char dir[64];
    char path[96];
} tmpfile_t;

static void write_file(tmpfile_t *t, const char *name, const char *content)
{
    strcpy(t->dir, "/tmp/nd-jobtest-XXXXXX");
    cr_assert_not_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
    FILE *f = fopen(t->path, "w");
    cr_assert_not_null(f);
    fputs(content, f);
    fclose(f);
}

static void remove_file(tmpfile_t *t)
{
    unlink(t->path);
    rmdir(t->dir);
}

/* What the callbacks saw. */
typedef struct {
    size_t rows;
    char ids[16][32];
    uint32_t cluster[16];
    int rep[16];
    size_t warnings;
    int warn_code[8];
    uint64_t warn_line[8];
    char warn_msg[8][256];
    int stop_after; /* on_row returns non-zero at this row (0: never) */
    nd_phase phases[256];
    uint64_t done[256], total[256];
    size_t nprog;
    int explained, shared_words;
    char passage[512];
    char header[64];
    char raw[16][256];
} seen;

static int on_row(void *ctx, const nd_job_row *r)
{
    seen *s = ctx;
    if (s->rows < 16) {
        snprintf(s->ids[s->rows], sizeof s->ids[0], "%.*s", (int)r->id_len, r->id);
        s->cluster[s->rows] = r->cluster;
        s->rep[s->rows] = r->rep;
        if (r->raw)
            snprintf(s->raw[s->rows], sizeof s->raw[0], "%.*s", (int)r->raw_len, r->raw);
        if (r->header)
            snprintf(s->header, sizeof s->header, "%.*s", (int)r->header_len, r->header);
        if (r->explained) {
            s->explained++;
            s->shared_words = (int)r->shared_words;
            snprintf(s->passage, sizeof s->passage, "%.*s", (int)r->passage_len,
                     r->passage);
        }
    }
    s->rows++;
    return s->stop_after && s->rows == (size_t)s->stop_after;
}

static void on_warning(void *ctx, const nd_job_warning *w)
{
    seen *s = ctx;
    if (s->warnings < 8) {
        s->warn_code[s->warnings] = w->code;
        s->warn_line[s->warnings] = w->line;
        snprintf(s->warn_msg[s->warnings], sizeof s->warn_msg[0], "%s", w->message);
    }
    s->warnings++;
}

static void on_progress(void *ctx, const nd_progress *p)
{
    seen *s = ctx;
    if (s->nprog < 256) {
        s->phases[s->nprog] = p->phase;
        s->done[s->nprog] = p->done;
        s->total[s->nprog] = p->total;
        s->nprog++;
    }
}

static int run_job(nd_job_opts *o, seen *s, nd_job_stats *st, char *err, size_t cap)
{
    o->on_row = on_row;
    o->on_warning = on_warning;
    o->on_progress = on_progress;
    o->ctx = s;
    nd_job *job;
    int rc = nd_job_create(o, &job);
    if (rc == ND_OK)
        rc = nd_job_run(job);
    if (st)
        nd_job_stats_get(job, st);
    if (err)
        snprintf(err, cap, "%s", nd_job_errmsg(job));
    nd_job_free(job);
    return rc;
}

static const char *corpus =
    "{\"id\": \"a\", \"text\": \"" STORY_A "\"}\n"
    "{\"id\": \"b\", \"text\": \"" STORY_B "\"}\n"
    "{\"id\": \"c\", \"text\": \"" STORY_A ".\"}\n"
    "{\"id\": 4, \"text\": \"" STORY_B " today\"}\n"
    "{\"id\": \"e\", \"text\": \"a short note about nothing in particular at all\"}\n";

Test(job, cluster_rows_and_progress)
{
    tmpfile_t t;
    write_file(&t, "in.jsonl", corpus);
    const char *paths[] = {t.path};
    for (unsigned threads = 1; threads <= 2; threads++) {
        nd_job_opts o;
        nd_job_opts_init(&o);
        o.paths = paths;
        o.npaths = 1;
        o.params.threads = threads;
        seen s = {0};
        nd_job_stats st;
        cr_assert_eq(run_job(&o, &s, &st, NULL, 0), ND_OK);
        cr_assert_eq(s.rows, 5);
        cr_assert_str_eq(s.ids[0], "\"a\"");
        cr_assert_str_eq(s.ids[3], "4");
        uint32_t want_cluster[] = {0, 1, 0, 1, 2};
        int want_rep[] = {1, 1, 0, 0, 1};
        for (int i = 0; i < 5; i++) {
            cr_assert_eq(s.cluster[i], want_cluster[i], "threads %u doc %d", threads, i);
            cr_assert_eq(s.rep[i], want_rep[i], "threads %u doc %d", threads, i);
        }
        cr_assert_eq(st.records, 5);
        cr_assert_eq(st.rows, 5);
        cr_assert_eq(st.batch.clusters, 3);
        cr_assert_eq(s.warnings, 0);
        /* Every phase in order, each ending with done == total. */
        nd_phase want = ND_PHASE_COUNT;
        for (size_t i = 0; i < s.nprog; i++) {
            cr_assert_geq(s.phases[i], want);
            if (s.phases[i] != want) {
                cr_assert_eq(s.done[i - 1], s.total[i - 1], "phase %s ends done",
                             nd_phase_name(want));
                cr_assert_eq(s.phases[i], want + 1, "no phase is left out");
                want = s.phases[i];
            }
        }
        cr_assert_eq(want, ND_PHASE_WRITE);
        cr_assert_eq(s.done[s.nprog - 1], 5);
        cr_assert_eq(s.total[s.nprog - 1], 5);
    }
    remove_file(&t);
}

Test(job, bad_record_skipped_with_its_line_or_stopping_the_job)
{
    char text[4096];
    snprintf(text, sizeof text, "%s{\"id\": \"x\", \"text\": oops}\n%s", corpus,
             "{\"id\": \"z\", \"text\": \"" STORY_B "\"}\n");
    tmpfile_t t;
    write_file(&t, "in.jsonl", text);
    const char *paths[] = {t.path};
    nd_job_opts o;
    nd_job_opts_init(&o);
    o.paths = paths;
    o.npaths = 1;
    o.skip_bad = 1;
    seen s = {0};
    nd_job_stats st;
    cr_assert_eq(run_job(&o, &s, &st, NULL, 0), ND_OK);
    cr_assert_eq(s.warnings, 1);
    cr_assert_eq(s.warn_code[0], ND_ERR_DATA);
    char where[128];
    snprintf(where, sizeof where, "%s:6:", t.path);
    cr_assert(strncmp(s.warn_msg[0], where, strlen(where)) == 0, "%s", s.warn_msg[0]);
    /* every record accounted for: 6 documents, 1 skipped */
    cr_assert_eq(s.rows, 6);
    cr_assert_eq(st.skipped_bad, 1);
    cr_assert_eq(st.records, 7);
    cr_assert_str_eq(s.ids[5], "\"z\"");
    cr_assert_eq(s.cluster[5], s.cluster[1]);

    seen s2 = {0};
    char err[512];
    o.skip_bad = 0;
    cr_assert_eq(run_job(&o, &s2, NULL, err, sizeof err), ND_ERR_DATA);
    cr_assert_eq(s2.rows, 0, "no row before the inputs are read");
    cr_assert(strncmp(err, where, strlen(where)) == 0, "%s", err);
    remove_file(&t);
}

Test(job, strict_utf8_warning_names_file_and_line)
{
    char text[4096];
    snprintf(text, sizeof text, "%s{\"id\": \"u\", \"text\": \"bad \xff byte\"}\n", corpus);
    tmpfile_t t;
    write_file(&t, "in.jsonl", text);
    const char *paths[] = {t.path};
    nd_job_opts o;
    nd_job_opts_init(&o);
    o.paths = paths;
    o.npaths = 1;
    o.params.norm |= ND_NORM_STRICT_UTF8;
    o.skip_bad = 1;
    seen s = {0};
    nd_job_stats st;
    cr_assert_eq(run_job(&o, &s, &st, NULL, 0), ND_OK);
    cr_assert_eq(s.rows, 5);
    cr_assert_eq(s.warnings, 1);
    cr_assert_eq(s.warn_code[0], ND_ERR_UTF8);
    cr_assert_eq(s.warn_line[0], 6);
    cr_assert_eq(st.records, 6);
    o.skip_bad = 0;
    seen s2 = {0};
    char err[512], want[256];
    cr_assert_eq(run_job(&o, &s2, NULL, err, sizeof err), ND_ERR_UTF8);
    snprintf(want, sizeof want, "%s:6: invalid UTF-8", t.path);
    cr_assert_str_eq(err, want);
    cr_assert_eq(s2.rows, 0);
    remove_file(&t);
}

Test(job, row_callback_stops_the_job)
{
    tmpfile_t t;
    write_file(&t, "in.jsonl", corpus);
    const char *paths[] = {t.path};
    nd_job_opts o;
    nd_job_opts_init(&o);
    o.paths = paths;
    o.npaths = 1;
    seen s = {.stop_after = 2};
    cr_assert_eq(run_job(&o, &s, NULL, NULL, 0), ND_ERR_STATE);
    cr_assert_eq(s.rows, 2);
    remove_file(&t);
}

Test(job, dedup_tsv_keeps_the_header_and_the_records)
{
    tmpfile_t t;
    write_file(&t, "in.tsv",
               "id\ttext\n"
               "a\t" STORY_A "\n"
               "b\t" STORY_B "\n"
               "c\t" STORY_A ".\n");
    const char *paths[] = {t.path};
    nd_job_opts o;
    nd_job_opts_init(&o);
    o.kind = ND_JOB_DEDUP;
    o.paths = paths;
    o.npaths = 1;
    seen s = {0};
    cr_assert_eq(run_job(&o, &s, NULL, NULL, 0), ND_OK);
    cr_assert_eq(s.rows, 2);
    cr_assert_str_eq(s.header, "id\ttext\n");
    cr_assert_str_eq(s.raw[0], "a\t" STORY_A);
    cr_assert_str_eq(s.raw[1], "b\t" STORY_B);
    remove_file(&t);
}

Test(job, pairs_explained)
{
    tmpfile_t t;
    write_file(&t, "in.jsonl", corpus);
    const char *paths[] = {t.path};
    nd_job_opts o;
    nd_job_opts_init(&o);
    o.kind = ND_JOB_PAIRS;
    o.explain = 1;
    o.paths = paths;
    o.npaths = 1;
    seen s = {0};
    cr_assert_eq(run_job(&o, &s, NULL, NULL, 0), ND_OK);
    cr_assert_eq(s.rows, 2);
    cr_assert_eq(s.explained, 2);
    /* a and c share all 27 words of story A; the last pair is b and 4,
       which share story B's 27 */
    cr_assert_eq(s.shared_words, 27);
    cr_assert_str_eq(s.passage, "heavy snow closed the mountain pass for a second "
                                "day and the rescue teams asked drivers to stay at "
                                "home until the ploughs had cleared the road");
    remove_file(&t);
}

/* What nd__job_export_docs puts, in memory for nd__job_import_docs. */
typedef struct {
    unsigned char p[4096];
    size_t n, at;
} bytes_t;

static int put_bytes(void *ctx, const void *p, size_t n)
{
    bytes_t *b = ctx;
    cr_assert_leq(b->n + n, sizeof b->p);
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return ND_OK;
}

static int get_bytes(void *ctx, void *p, size_t n)
{
    bytes_t *b = ctx;
    cr_assert_leq(b->at + n, b->n);
    memcpy(p, b->p + b->at, n);
    b->at += n;
    return ND_OK;
}

/* The second ids of the rows, then on_row. */
typedef struct {
    seen s;
    char b[16][32];
} pair_seen;

static int on_pair(void *ctx, const nd_job_row *r)
{
    pair_seen *p = ctx;
    if (p->s.rows < 16)
        snprintf(p->b[p->s.rows], sizeof p->b[0], "%.*s", (int)r->id_b_len, r->id_b);
    return on_row(&p->s, r);
}

/* A shared run's pairs: the job holding a pair's first document imports
   the id and text of the second from the job that read it, and writes
   the row as one job would (explained). */
Test(job, pairs_of_a_partner_read_elsewhere)
{
    tmpfile_t t1, t2;
    write_file(&t1, "a.jsonl",
               "{\"id\": \"a\", \"text\": \"" STORY_A "\"}\n"
               "{\"id\": \"b\", \"text\": \"" STORY_B "\"}\n");
    write_file(&t2, "b.jsonl",
               "{\"id\": \"c\", \"text\": \"" STORY_B " today\"}\n"
               "{\"id\": \"d\", \"text\": \"" STORY_A ".\"}\n");
    nd_job *job[2];
    seen s[2] = {{0}, {0}};
    const char *paths[2] = {t1.path, t2.path};
    for (int k = 0; k < 2; k++) {
        nd_job_opts o;
        nd_job_opts_init(&o);
        o.kind = ND_JOB_PAIRS;
        o.explain = 1;
        o.paths = &paths[k];
        o.npaths = 1;
        o.on_row = on_row;
        o.ctx = &s[k];
        cr_assert_eq(nd_job_create(&o, &job[k]), ND_OK);
        cr_assert_eq(nd_job_run(job[k]), ND_OK);
        cr_assert_eq(s[k].rows, 0); /* no pair within a file */
    }
    /* Documents 0..3 of all: a, b (job 0), c, d (job 1); the pairs of
       job 0's documents name d (3) and c (2). */
    bytes_t b = {{0}, 0, 0};
    const uint64_t ask[2] = {0, 1}; /* c and d, job 1's numbering */
    cr_assert_eq(nd__job_export_docs(job[1], ask, 2, put_bytes, &b), ND_OK);
    cr_assert_eq(nd__job_import_docs(job[0], 2, get_bytes, &b), ND_OK);
    cr_assert_eq(b.at, b.n);
    const nd_edge e[2] = {{0, 3, 0.9f, 0.95f}, {1, 2, 0.8f, 1.0f}};
    const uint64_t others[2] = {2, 3};
    pair_seen r = {0};
    cr_assert_eq(nd__job_write_pairs(job[0], e, 2, 0, 2, others, 2, NULL, on_pair, &r), ND_OK);
    cr_assert_eq(r.s.rows, 2);
    cr_assert_str_eq(r.s.ids[0], "\"a\"");
    cr_assert_str_eq(r.b[0], "\"d\"");
    cr_assert_str_eq(r.s.ids[1], "\"b\"");
    cr_assert_str_eq(r.b[1], "\"c\"");
    cr_assert_eq(r.s.explained, 2);
    /* b and c share story B's 27 words: c's text came from job 1 */
    cr_assert_eq(r.s.shared_words, 27);
    cr_assert_str_eq(r.s.passage, "heavy snow closed the mountain pass for a second "
                                "day and the rescue teams asked drivers to stay at "
                                "home until the ploughs had cleared the road");
    /* A count that does not add up is refused. */
    cr_assert_eq(nd__job_write_pairs(job[0], e, 2, 0, 2, others, 1, NULL, on_pair, &r),
                 ND_ERR_STATE);
    for (int k = 0; k < 2; k++)
        nd_job_free(job[k]);
    remove_file(&t1);
    remove_file(&t2);
}

Test(job, options_checked_at_create)
{
    nd_job_opts o;
    nd_job_opts_init(&o);
    o.explain = 1; /* cluster */
    nd_job *job;
    cr_assert_eq(nd_job_create(&o, &job), ND_ERR_PARAM);
    cr_assert_str_eq(nd_job_errmsg(job), "explain works with pairs only");
    nd_job_free(job);
    nd_job_opts_init(&o);
    o.params.threshold = 2.0;
    cr_assert_eq(nd_job_create(&o, &job), ND_ERR_PARAM);
    nd_job_free(job);
    nd_job_opts_init(&o);
    const char *missing[] = {"/nonexistent/dir/in.jsonl"};
    o.paths = missing;
    o.npaths = 1;
    cr_assert_eq(nd_job_create(&o, &job), ND_OK);
    cr_assert_eq(nd_job_run(job), ND_ERR_IO);
    cr_assert_not_null(strstr(nd_job_errmsg(job), "/nonexistent/dir/in.jsonl"));
    cr_assert_eq(nd_job_run(job), ND_ERR_STATE, "a job runs once");
    nd_job_free(job);
    nd_job_free(NULL);
}
