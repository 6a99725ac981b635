/*
 * batchcmd.c - neardup cluster | dedup | pairs: the options become an
 * nd_job, whose rows are formatted here as JSON lines (dedup: the records
 * as read), whose warnings and errors are worded for the command line, and
 * whose progress is drawn on the terminal.
 *
 * The output file is opened when the first row comes (or, with no rows,
 * when the job has succeeded), so a failed job leaves no output behind;
 * with -o it is written to a temporary file and renamed into place.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"

typedef struct {
    const cli_opts *o;
    cli_out out;
    int opened;   /* out is open */
    int failed;   /* opening it failed (the error printed) */
    int progress; /* draw progress on stderr */
    int tty;      /* stderr is a terminal: one line redrawn per phase */
    int line_open; /* a progress line waits for its end */
    double last_line;
    int phase;       /* the phase being reported, -1 before the first */
    double phase_t0; /* when it started, in the job's seconds */
} batch_ui;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* End a progress line that is being redrawn, before other output. */
static void end_line(batch_ui *ui)
{
    if (ui->line_open) {
        fputc('\n', stderr);
        ui->line_open = 0;
    }
}

/* p[0..n) as the inside of a JSON string. */
static void put_json_chars(FILE *f, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
}

/* v in decimal at s, as %u writes it; returns its length. */
static size_t put_u32(char *s, uint32_t v)
{
    char t[10];
    size_t n = 0;
    do
        t[n++] = (char)('0' + v % 10);
    while (v /= 10);
    for (size_t i = 0; i < n; i++)
        s[i] = t[n - 1 - i];
    return n;
}

void cli_row_put(FILE *f, cli_cmd cmd, const nd_job_row *r)
{
    switch (cmd) {
    case CMD_CLUSTER: {
        /* A row a document: formatted by hand, one write after the id
           (fprintf took most of the time the rows take). */
        static const char head[] = "{\"id\": ", mid[] = ", \"cluster\": ",
                          yes[] = ", \"rep\": true}\n", no[] = ", \"rep\": false}\n";
        char tail[sizeof mid + 10 + sizeof no];
        size_t n = sizeof mid - 1;
        memcpy(tail, mid, n);
        n += put_u32(tail + n, r->cluster);
        memcpy(tail + n, r->rep ? yes : no, r->rep ? sizeof yes - 1 : sizeof no - 1);
        n += r->rep ? sizeof yes - 1 : sizeof no - 1;
        fwrite_unlocked(head, 1, sizeof head - 1, f);
        fwrite_unlocked(r->id, 1, r->id_len, f);
        fwrite_unlocked(tail, 1, n, f);
        break;
    }
    case CMD_PAIRS:
        fputs("{\"a\": ", f);
        fwrite(r->id, 1, r->id_len, f);
        fputs(", \"b\": ", f);
        fwrite(r->id_b, 1, r->id_b_len, f);
        fprintf(f, ", \"jaccard\": %.4f, \"containment\": %.4f", r->jaccard,
                r->containment);
        if (r->explained) {
            fprintf(f, ", \"exact_jaccard\": %.4f, \"exact_containment\": %.4f, "
                       "\"shared_words\": %zu, \"passage\": \"",
                    r->exact_jaccard, r->exact_containment, r->shared_words);
            put_json_chars(f, r->passage, r->passage_len);
            fputc('"', f);
        }
        fputs("}\n", f);
        break;
    case CMD_DEDUP:
        if (r->header)
            fwrite(r->header, 1, r->header_len, f);
        fwrite(r->raw, 1, r->raw_len, f);
        fputc('\n', f);
        break;
    }
}

static int on_row(void *ctx, const nd_job_row *r)
{
    batch_ui *ui = ctx;
    if (!ui->opened) {
        if (cli_out_open(&ui->out, ui->o->output) != EXIT_OK) {
            ui->failed = 1;
            return 1;
        }
        ui->opened = 1;
    }
    cli_row_put(ui->out.f, ui->o->cmd, r);
    return 0;
}

static void on_warning(void *ctx, const nd_job_warning *w)
{
    batch_ui *ui = ctx;
    if (ui->o->quiet)
        return;
    end_line(ui);
    switch (w->code) {
    case ND_ERR_DATA:
        cli_warn(ui->o, "%s, record skipped", w->message);
        break;
    case ND_ERR_UTF8:
        cli_warn(ui->o, "%s (--strict), record skipped", w->message);
        break;
    default:
        cli_warn(ui->o, "%s", w->message);
        break;
    }
}

/* n bytes, readably. */
static void put_size(char *s, size_t cap, double n)
{
    if (n >= 1e9)
        snprintf(s, cap, "%.2f GB", n / 1e9);
    else
        snprintf(s, cap, "%.1f MB", n / 1e6);
}

/*
 * One progress report: the phase, its share done, its rate and what is
 * left.  On a terminal the phase's line is redrawn and ended when the
 * phase ends; otherwise (--progress into a file or pipe) a line is written
 * when a phase ends and at most every second within it.
 */
static void on_progress(void *ctx, const nd_progress *p)
{
    batch_ui *ui = ctx;
    int ends = p->total ? p->done == p->total : 0;
    if ((int)p->phase != ui->phase) {
        end_line(ui);
        ui->phase = (int)p->phase;
        ui->phase_t0 = p->seconds;
    }
    double t = wall();
    if (!ui->tty && !ends && t - ui->last_line < 1.0)
        return;
    ui->last_line = t;
    double secs = p->seconds - ui->phase_t0;
    int bytes = p->phase == ND_PHASE_COUNT || p->phase == ND_PHASE_SKETCH;
    static const char *unit[] = {"", "", "bands", "pairs", "pairs", "rows"};
    char what[96], rate[64] = "", eta[48] = "", share[16] = "";
    if (bytes) {
        char a[32], b[32];
        put_size(a, sizeof a, (double)p->done);
        put_size(b, sizeof b, (double)p->total);
        if (p->total)
            snprintf(what, sizeof what, "%s of %s", a, b);
        else
            snprintf(what, sizeof what, "%s", a);
        if (secs > 0.0 && p->done)
            snprintf(rate, sizeof rate, ", %.1f MB/s", (double)p->done / 1e6 / secs);
    } else {
        if (p->total)
            snprintf(what, sizeof what, "%llu of %llu %s",
                     (unsigned long long)p->done, (unsigned long long)p->total,
                     unit[p->phase]);
        else
            snprintf(what, sizeof what, "%llu %s", (unsigned long long)p->done,
                     unit[p->phase]);
    }
    if (p->total) {
        snprintf(share, sizeof share, "%3d%% ",
                 (int)(100.0 * (double)p->done / (double)p->total));
        if (p->done && !ends && secs > 0.0)
            snprintf(eta, sizeof eta, ", %.0f s left",
                     secs * (double)(p->total - p->done) / (double)p->done);
    }
    fprintf(stderr, "%sneardup: %-10s %s%s%s%s, %llu documents, %.1f s%s",
            ui->tty ? "\r" : "", nd_phase_name(p->phase), share, what, rate, eta,
            (unsigned long long)p->docs, p->seconds,
            !ui->tty ? "\n" : ends ? "\033[K\n" : "\033[K");
    ui->line_open = ui->tty && !ends;
    fflush(stderr);
}

/* The match rule the parameters make, e.g. "jaccard >= 0.40 or
   containment >= 0.65, figures agree (0.80)". */
static void match_rule(const nd_params *p, char *s, size_t cap)
{
    int n;
    if (p->measure == ND_MEASURE_CONTAINMENT)
        n = snprintf(s, cap, "containment >= %.2f", p->threshold);
    else if (p->containment > 0.0)
        n = snprintf(s, cap, "jaccard >= %.2f or containment >= %.2f", p->threshold,
                     p->containment);
    else
        n = snprintf(s, cap, "jaccard >= %.2f", p->threshold);
    if (n > 0 && (size_t)n < cap && p->exact)
        n += snprintf(s + n, cap - (size_t)n, " (exact scores)");
    if (n > 0 && (size_t)n < cap && p->figures > 0.0)
        n += snprintf(s + n, cap - (size_t)n, ", figures agree (%.2f)", p->figures);
    if (n > 0 && (size_t)n < cap && p->window > 0.0)
        n += snprintf(s + n, cap - (size_t)n, ", times within %.0f s", p->window);
}

/* The clustering that ran: attach needs the Jaccard measure, and under
   the containment measure pairs are joined as components. */
static nd_cluster_method method_run(const nd_params *p)
{
    return p->cluster == ND_CLUSTER_ATTACH && p->measure != ND_MEASURE_JACCARD
               ? ND_CLUSTER_COMPONENTS
               : p->cluster;
}

static const char *method_name(nd_cluster_method m)
{
    return m == ND_CLUSTER_GUARDED ? "guarded"
         : m == ND_CLUSTER_ATTACH  ? "attach"
                                   : "components";
}

static void print_stats(const cli_opts *o, const nd_job_stats *js, double secs)
{
    const nd_batch_stats *st = &js->batch;
    char rule[160], guard[96] = "", layout[96], shorts[64] = "";
    if (o->params.min_words)
        snprintf(shorts, sizeof shorts, ", %llu under %u words",
                 (unsigned long long)st->short_docs, o->params.min_words);
    match_rule(&o->params, rule, sizeof rule);
    const nd_cluster_method m = method_run(&o->params);
    if (m == ND_CLUSTER_GUARDED)
        snprintf(guard, sizeof guard, ", %llu pairs refused by the chaining guard",
                 (unsigned long long)st->guard_rejected);
    else if (m == ND_CLUSTER_ATTACH)
        snprintf(guard, sizeof guard, ", %llu containment joins refused",
                 (unsigned long long)st->guard_rejected);
    int n = snprintf(layout, sizeof layout, "%u bands x %u rows", st->bands, st->rows);
    if (st->contain_bands && n > 0 && (size_t)n < sizeof layout)
        snprintf(layout + n, sizeof layout - (size_t)n,
                 " + %u containment bands x %u rows", st->contain_bands,
                 st->contain_rows);
    fprintf(stderr,
            "neardup: %llu documents (%llu empty, %llu with invalid UTF-8, "
            "%llu bad records skipped, %llu binary files skipped%s), "
            "match: %s; "
            "%llu candidate pairs, %llu edges (%llu pairs refused by figures, "
            "%llu by the time window), %llu clusters (%s%s), "
            "%llu capped buckets, "
            "%llu boilerplate shingles dropped from %llu documents "
            "(cut-off %llu documents); "
            "%s; %.2f MB in %.2f s\n",
            (unsigned long long)st->text.docs, (unsigned long long)st->text.empty,
            (unsigned long long)(st->text.bad_utf8 + js->repaired),
            (unsigned long long)js->skipped_bad,
            (unsigned long long)js->skipped_binary, shorts, rule,
            (unsigned long long)st->candidates, (unsigned long long)st->edges,
            (unsigned long long)st->figures_refused,
            (unsigned long long)st->window_refused,
            (unsigned long long)st->clusters, method_name(m), guard,
            (unsigned long long)st->capped_buckets,
            (unsigned long long)st->text.suppressed,
            (unsigned long long)st->text.suppressed_docs,
            (unsigned long long)st->boilerplate_cutoff, layout,
            st->text.bytes / 1e6, secs);
}

/* The same figures as print_stats, as one JSON object in o->stats_json
   (written atomically). */
static int write_stats_json(const cli_opts *o, const nd_job_stats *js, double secs)
{
    const nd_batch_stats *st = &js->batch;
    char rule[160];
    match_rule(&o->params, rule, sizeof rule);
    json_t *j = json_object();
    if (!j) {
        cli_error("out of memory");
        return EXIT_IO;
    }
#define U(k, v) json_object_set_new(j, k, json_integer((json_int_t)(v)))
#define F(k, v) json_object_set_new(j, k, json_real(v))
    U("documents", st->text.docs);
    U("empty", st->text.empty);
    U("invalid_utf8", st->text.bad_utf8 + js->repaired);
    U("bad_records_skipped", js->skipped_bad);
    U("binary_files_skipped", js->skipped_binary);
    U("min_words", o->params.min_words);
    U("short_documents", st->short_docs);
    json_object_set_new(j, "match_rule", json_string(rule));
    F("threshold", o->params.threshold);
    json_object_set_new(j, "measure", json_string(o->params.measure == ND_MEASURE_CONTAINMENT
                                                      ? "containment" : "jaccard"));
    F("containment", o->params.containment);
    F("figures", o->params.figures);
    F("window", o->params.window);
    U("candidate_pairs", st->candidates);
    U("edges", st->edges);
    U("figures_refused", st->figures_refused);
    U("window_refused", st->window_refused);
    U("clusters", st->clusters);
    const nd_cluster_method m = method_run(&o->params);
    json_object_set_new(j, "cluster_method", json_string(method_name(m)));
    U("attach_refused", m == ND_CLUSTER_ATTACH ? st->guard_rejected : 0);
    U("guard_refused", m == ND_CLUSTER_GUARDED ? st->guard_rejected : 0);
    U("capped_buckets", st->capped_buckets);
    U("boilerplate_shingles_dropped", st->text.suppressed);
    U("boilerplate_documents", st->text.suppressed_docs);
    U("boilerplate_cutoff", st->boilerplate_cutoff);
    U("bands", st->bands);
    U("rows", st->rows);
    U("containment_bands", st->contain_bands);
    U("containment_rows", st->contain_rows);
    U("spill_runs", st->spill_runs);
    U("spill_bytes", st->spill_bytes);
    U("bytes", st->text.bytes);
    F("seconds", secs);
    F("seconds_sketch", st->seconds_sketch);
    F("seconds_candidates", st->seconds_lsh);
    F("seconds_verify", st->seconds_verify);
    F("seconds_cluster", st->seconds_cluster);
#undef U
#undef F
    cli_out out;
    int status = cli_out_open(&out, o->stats_json);
    if (status == EXIT_OK) {
        if (json_dumpf(j, out.f, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                        JSON_REAL_PRECISION(10)) != 0 ||
            fputc('\n', out.f) == EOF) {
            cli_error("%s: write failed", o->stats_json);
            cli_out_abort(&out);
            status = EXIT_IO;
        } else {
            status = cli_out_commit(&out);
        }
    }
    json_decref(j);
    return status;
}

/* The exit code of a failed job, its error printed. */
static int job_failed(batch_ui *ui, const nd_job *job, int rc)
{
    end_line(ui);
    switch (rc) {
    case ND_ERR_STATE: /* on_row stopped it: the output's error is printed */
        return EXIT_IO;
    case ND_ERR_DATA:
        cli_error("%s", nd_job_errmsg(job));
        return EXIT_DATA;
    case ND_ERR_UTF8:
        cli_error("%s (--strict)", nd_job_errmsg(job));
        return EXIT_DATA;
    case ND_ERR_PARAM:
        cli_error("%s", nd_job_errmsg(job));
        return EXIT_USAGE;
    default:
        cli_error("%s", nd_job_errmsg(job));
        return EXIT_IO;
    }
}

/*
 * Warn when the threshold cannot make the match stricter: a pair with
 * Jaccard j is contained (the smaller set in the larger) to at least
 * 2j / (1 + j), so with containment c every pair from j = c / (2 - c) up
 * matches by containment whatever the threshold above it.
 */
static void check_reach(const cli_opts *o)
{
    const nd_params *p = &o->params;
    if (p->measure != ND_MEASURE_JACCARD || p->containment <= 0.0)
        return;
    double reach = p->containment / (2.0 - p->containment);
    if (p->threshold > reach + 1e-9)
        cli_warn(o, "--threshold %.2f is above the reach of --containment %.2f: "
                    "every pair with Jaccard %.2f or more is contained to %.2f "
                    "and matches anyway; lower --containment (0 turns it off) "
                    "for a stricter match",
                 p->threshold, p->containment, reach, p->containment);
}

void cli_job_opts(const cli_opts *o, nd_job_opts *jo)
{
    nd_job_opts_init(jo);
    jo->kind = o->cmd == CMD_DEDUP   ? ND_JOB_DEDUP
               : o->cmd == CMD_PAIRS ? ND_JOB_PAIRS
                                     : ND_JOB_CLUSTER;
    jo->params = o->params;
    jo->reader = o->reader;
    jo->paths = (const char *const *)o->paths;
    jo->npaths = o->npaths;
    jo->skip_bad = o->skip_bad;
    jo->explain = o->explain;
    jo->source_priority = o->source_priority;
}

int cli_batch(const cli_opts *o)
{
    if (cli_stdin_check(o->paths, o->npaths) != EXIT_OK)
        return EXIT_IO;
    check_reach(o);
    double t0 = wall();
    batch_ui ui;
    memset(&ui, 0, sizeof ui);
    ui.o = o;
    ui.phase = -1;
    ui.tty = isatty(STDERR_FILENO);
    ui.progress = !o->quiet && (ui.tty || o->progress);

    nd_job_opts jo;
    cli_job_opts(o, &jo);
    jo.on_row = on_row;
    jo.on_warning = on_warning;
    jo.on_progress = ui.progress ? on_progress : NULL;
    jo.ctx = &ui;

    nd_job *job;
    int rc = nd_job_create(&jo, &job);
    if (rc != ND_OK) {
        int st = rc == ND_ERR_NOMEM && !job ? (cli_error("out of memory"), EXIT_IO)
                                            : job_failed(&ui, job, rc);
        nd_job_free(job);
        return st;
    }
    if (cli_job_hook && (rc = cli_job_hook(job)) != 0) {
        nd_job_free(job);
        return rc;
    }
    rc = nd_job_run(job);
    int status = EXIT_OK;
    if (rc != ND_OK)
        status = ui.failed ? EXIT_IO : job_failed(&ui, job, rc);
    else if (!ui.opened && cli_out_open(&ui.out, o->output) != EXIT_OK)
        status = EXIT_IO;
    else {
        ui.opened = 1;
        status = cli_out_commit(&ui.out);
        ui.opened = 0; /* committed, or cleaned up by the commit */
    }
    if (status != EXIT_OK && ui.opened)
        cli_out_abort(&ui.out);
    end_line(&ui);
    if (status == EXIT_OK && (o->stats || o->stats_json)) {
        nd_job_stats st;
        nd_job_stats_get(job, &st);
        double secs = wall() - t0;
        if (o->stats)
            print_stats(o, &st, secs);
        if (o->stats_json)
            status = write_stats_json(o, &st, secs);
    }
    nd_job_free(job);
    return status;
}
