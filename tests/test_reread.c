/*
 * test_reread.c - a file that changes between the job's two reading
 * passes (boilerplate on: the first counts, the second sketches, and a
 * file is simply read again).  The file is cut or extended from the
 * progress callback at the start of the second pass, which the job calls
 * before it opens the inputs again, so the change falls between the two
 * passes at every thread count.  Both first passes are tried: the one that
 * skims (the default) and the one that parses every record (skip_bad).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/neardup.h"

#define LINE(id, words) "{\"id\": \"" id "\", \"text\": \"" words "\"}\n"

static const char *five =
    LINE("a", "The council approved the new budget for the harbour district on Monday")
    LINE("b", "Heavy snow closed the mountain pass for a second day and the rescue teams")
    LINE("c", "The council approved the new budget for the harbour district on Monday.")
    LINE("d", "Heavy snow closed the mountain pass for a second day and the rescue crews")
    LINE("e", "a short note about nothing in particular at all");

enum { CUT_AT_LINE, CUT_IN_LINE, GROW };

typedef struct {
    char dir[64], path[96];
    int change;   /* what happens to the file between the passes */
    int changed;  /* it happened */
    size_t rows;
} rig;

static void put(const char *path, const char *mode, const char *text)
{
    FILE *f = fopen(path, mode);
    cr_assert_not_null(f);
    cr_assert_eq(fputs(text, f) >= 0, 1);
    cr_assert_eq(fclose(f), 0);
}

/* The first report of the sketch phase: the count pass is over and the
   inputs are not open yet. */
static void on_progress(void *ctx, const nd_progress *p)
{
    rig *g = ctx;
    if (p->phase != ND_PHASE_SKETCH || g->changed)
        return;
    g->changed = 1;
    /* Three whole lines; or two and the start of the third. */
    off_t three = (off_t)(strchr(strchr(strchr(five, '\n') + 1, '\n') + 1, '\n') + 1 - five);
    if (g->change == CUT_AT_LINE)
        cr_assert_eq(truncate(g->path, three), 0);
    else if (g->change == CUT_IN_LINE)
        cr_assert_eq(truncate(g->path, three - 20), 0);
    else
        put(g->path, "a", LINE("f", "one more record written while the job ran"));
}

static int on_row(void *ctx, const nd_job_row *r)
{
    (void)r;
    ((rig *)ctx)->rows++;
    return 0;
}

/* Run cluster over the rig's file: the code, the message in err. */
static int run(rig *g, unsigned threads, int skip_bad, char *err, size_t cap)
{
    strcpy(g->dir, "/tmp/nd-reread-XXXXXX");
    cr_assert_not_null(mkdtemp(g->dir));
    snprintf(g->path, sizeof g->path, "%s/in.jsonl", g->dir);
    put(g->path, "w", five);
    g->changed = 0;
    g->rows = 0;
    const char *paths[] = {g->path};
    nd_job_opts o;
    nd_job_opts_init(&o);
    o.paths = paths;
    o.npaths = 1;
    o.params.threads = threads;
    o.skip_bad = skip_bad;
    o.on_progress = on_progress;
    o.on_row = on_row;
    o.ctx = g;
    cr_assert_gt(o.params.boilerplate, 0, "the default reads the file twice");
    nd_job *job;
    int rc = nd_job_create(&o, &job);
    if (rc == ND_OK)
        rc = nd_job_run(job);
    snprintf(err, cap, "%s", nd_job_errmsg(job));
    nd_job_free(job);
    unlink(g->path);
    rmdir(g->dir);
    cr_assert_eq(g->changed, 1, "the file was changed between the passes");
    return rc;
}

/* The change fails the run with want, whatever the threads and the first
   pass, and hands over no row. */
static void fails_as(int change, const char *want)
{
    for (unsigned threads = 1; threads <= 2; threads++) {
        for (int skip_bad = 0; skip_bad <= 1; skip_bad++) {
            rig g = {.change = change};
            char err[512];
            cr_assert_eq(run(&g, threads, skip_bad, err, sizeof err), ND_ERR_IO,
                         "threads %u skip_bad %d: %s", threads, skip_bad, err);
            cr_assert_str_eq(err, want, "threads %u skip_bad %d", threads, skip_bad);
            cr_assert_eq(g.rows, 0, "no row of a failed job");
        }
    }
}

Test(reread, a_file_cut_at_a_line_between_the_passes)
{
    fails_as(CUT_AT_LINE, "the input changed between the two passes (5 records, then 3)");
}

Test(reread, a_file_grown_between_the_passes)
{
    fails_as(GROW, "the input changed between the two passes (5 records, then 6)");
}

/* Cut inside the third record: that record is now malformed JSON, named
   by file and line, and stops the job; skipped (skip_bad), the count of
   the second pass is short. */
Test(reread, a_file_cut_inside_a_record_between_the_passes)
{
    for (unsigned threads = 1; threads <= 2; threads++) {
        rig g = {.change = CUT_IN_LINE};
        char err[512];
        cr_assert_eq(run(&g, threads, 0, err, sizeof err), ND_ERR_DATA, "%s", err);
        char want[160];
        snprintf(want, sizeof want, "%s:3: malformed JSON", g.path);
        cr_assert_eq(strncmp(err, want, strlen(want)), 0, "%s", err);
        cr_assert_eq(g.rows, 0);

        g = (rig){.change = CUT_IN_LINE};
        cr_assert_eq(run(&g, threads, 1, err, sizeof err), ND_ERR_IO, "%s", err);
        cr_assert_str_eq(err, "the input changed between the two passes "
                              "(5 records, then 2)");
        cr_assert_eq(g.rows, 0);
    }
}
