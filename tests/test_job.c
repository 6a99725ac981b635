/*
 * test_job.c - the job (nd_job_*): rows, warnings, errors, progress and
 * the accounting of every record, on small files written for each test.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
