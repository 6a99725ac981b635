/*
 * fuzz_options.c - libFuzzer target: the command's option parser
 * (cli_parse in src/cli/options.c).
 *
 * The input is an argument vector: the first byte picks the subcommand,
 * the rest is split at NUL bytes into at most 40 arguments.  Properties:
 * the parser returns "go on" (-1), help (0) or a usage error (1); a usage
 * error says why and "go on" says nothing; an accepted vector passes
 * nd_params_check; parsing is the same the second time; and the options an
 * accepted vector stands for, written out again canonically ("--opt=value"
 * each, then "--" and the paths), parse to the same options.
 */
#include "../../src/cli/cli.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The command's cli_error and cli_warn (output.c) only count here. */
static int errors;

void cli_error(const char *fmt, ...)
{
    (void)fmt;
    errors++;
}

void cli_warn(const cli_opts *o, const char *fmt, ...)
{
    (void)o;
    (void)fmt;
}

#define MAX_ARGS 40

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    unsetenv("TMPDIR");
    return 0;
}

/* cli_parse with stdout and stderr (help, "Try 'neardup --help'") muted,
   unless FUZZ_VERBOSE is set. */
static int parse(cli_opts *o, cli_cmd cmd, int argc, char **argv)
{
    static int null_fd = -1, saved[2];
    if (getenv("FUZZ_VERBOSE")) {
        errors = 0;
        return cli_parse(o, cmd, argc, argv);
    }
    if (null_fd < 0)
        null_fd = open("/dev/null", O_WRONLY);
    fflush(stdout);
    fflush(stderr);
    saved[0] = dup(1);
    saved[1] = dup(2);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
    errors = 0;
    int rc = cli_parse(o, cmd, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved[0], 1);
    dup2(saved[1], 2);
    close(saved[0]);
    close(saved[1]);
    return rc;
}

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static void same(const cli_opts *a, const cli_opts *b, const char *what)
{
    const nd_params *p = &a->params, *q = &b->params;
    int ok = a->cmd == b->cmd && p->shingle == q->shingle &&
             p->ngram == q->ngram && p->num_perm == q->num_perm &&
             p->bands == q->bands && p->rows == q->rows &&
             p->threshold == q->threshold && p->measure == q->measure &&
             p->containment == q->containment && p->figures == q->figures &&
             p->boilerplate == q->boilerplate && p->sketch == q->sketch &&
             p->cluster == q->cluster && p->keep == q->keep &&
             p->window == q->window && p->seed == q->seed &&
             p->threads == q->threads && p->norm == q->norm &&
             p->exact == q->exact && p->memory == q->memory &&
             str_eq(p->tmpdir, q->tmpdir) &&
             a->reader.format == b->reader.format &&
             str_eq(a->reader.id_field, b->reader.id_field) &&
             str_eq(a->reader.text_field, b->reader.text_field) &&
             str_eq(a->reader.time_field, b->reader.time_field) &&
             str_eq(a->reader.source_field, b->reader.source_field) &&
             str_eq(a->output, b->output) && a->stats == b->stats &&
             a->quiet == b->quiet && a->skip_bad == b->skip_bad &&
             a->explain == b->explain &&
             str_eq(a->source_priority, b->source_priority) &&
             a->npaths == b->npaths;
    for (size_t i = 0; ok && i < a->npaths; i++)
        ok = strcmp(a->paths[i], b->paths[i]) == 0;
    if (!ok) {
        fprintf(stderr, "options differ: %s\n", what);
        abort();
    }
}

/* Canonical arguments for o, malloc'ed strings in out; returns how many. */
static int render(const cli_opts *o, char **out)
{
    static const char *const measures[] = {"jaccard", "containment"};
    static const char *const sketches[] = {"kperm", "oph", "cminhash"};
    static const char *const keeps[] = {"first", "longest", "earliest",
                                        "source"};
    static const char *const methods[] = {"components", "guarded", "attach"};
    static const char *const formats[] = {"auto", "jsonl", "tsv", "text"};
    static const char *const ngrams[] = {"--ngram", "--char-ngram",
                                         "--glyph-ngram"};
    const nd_params *p = &o->params;
    nd_params d;
    nd_params_init(&d);
    int n = 0;
    char b[512];
#define ARG(...) (snprintf(b, sizeof b, __VA_ARGS__), out[n++] = strdup(b))
    ARG("cmd");
    ARG("--threshold=%.17g", p->threshold);
    ARG("--containment=%.17g", p->containment);
    ARG("--figures=%.17g", p->figures);
    ARG("--boilerplate=%.17g", p->boilerplate);
    if (p->shingle != d.shingle || p->ngram != d.ngram) {
        if ((unsigned)p->shingle > 2)
            abort();
        ARG("%s=%u", ngrams[p->shingle], p->ngram);
    }
    ARG("--num-perm=%u", p->num_perm);
    if (p->bands)
        ARG("--bands=%u", p->bands);
    if (p->rows)
        ARG("--rows=%u", p->rows);
    ARG("--threads=%u", p->threads);
    ARG("--seed=%llu", (unsigned long long)p->seed);
    ARG("--measure=%s", measures[p->measure]);
    ARG("--sketch=%s", sketches[p->sketch]);
    ARG("--keep=%s", keeps[p->keep]);
    ARG("--cluster=%s", methods[p->cluster]);
    ARG("--format=%s", formats[o->reader.format]);
    if (p->window > 0.0) {
        if (p->window != floor(p->window))
            abort();
        ARG("--window=%.0fs", p->window);
    }
    if (p->memory)
        ARG("--memory=%llu", (unsigned long long)p->memory);
    if (p->tmpdir)
        ARG("--tmpdir=%s", p->tmpdir);
    if (p->norm & ND_NORM_STRICT_UTF8)
        ARG("--strict");
    if (p->exact)
        ARG("--exact");
    ARG("--id-field=%s", o->reader.id_field);
    ARG("--text-field=%s", o->reader.text_field);
    if (o->reader.time_field)
        ARG("--time-field=%s", o->reader.time_field);
    if (o->reader.source_field)
        ARG("--source-field=%s", o->reader.source_field);
    if (o->source_priority)
        ARG("--source-priority=%s", o->source_priority);
    if (o->output)
        ARG("--output=%s", o->output);
    if (o->stats)
        ARG("--stats");
    if (o->quiet)
        ARG("-q");
    if (o->skip_bad)
        ARG("--skip-bad");
    if (o->explain)
        ARG("--explain");
    ARG("--");
    for (size_t i = 0; i < o->npaths; i++)
        out[n++] = strdup(o->paths[i]);
#undef ARG
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    cli_cmd cmd = (cli_cmd)(data[0] % 3);
    /* "cmd", then the arguments, each its own allocation (ASan bounds) */
    char *args[MAX_ARGS + 1], *copy[MAX_ARGS + 1];
    int argc = 0;
    args[argc++] = strdup("cmd");
    size_t i = 1;
    while (i < size && argc < MAX_ARGS) {
        const uint8_t *e = memchr(data + i, 0, size - i);
        size_t n = e ? (size_t)(e - data) - i : size - i;
        args[argc] = malloc(n + 1);
        memcpy(args[argc], data + i, n);
        args[argc++][n] = '\0';
        i += n + 1;
    }
    args[argc] = NULL;
    memcpy(copy, args, sizeof args);

    cli_opts a, b;
    int rc = parse(&a, cmd, argc, args);
    int said = errors;
    if (rc != -1 && rc != 0 && rc != 1)
        abort();
    if ((rc == 1) != (said > 0)) {
        fprintf(stderr, "exit %d with %d messages\n", rc, said);
        abort();
    }
    /* again, on a fresh vector of the same arguments: the same answer
       (nothing of the first parse, such as getopt's place in a cluster of
       short options, may carry over) */
    char *again[MAX_ARGS + 1];
    for (int k = 0; k < argc; k++)
        again[k] = strdup(copy[k]);
    again[argc] = NULL;
    if (parse(&b, cmd, argc, again) != rc || errors != said) {
        fprintf(stderr, "parsed twice: exit %d, then %d\n", rc,
                parse(&b, cmd, argc, again));
        abort();
    }
    if (rc == -1) {
        char msg[200];
        if (nd_params_check(&a.params, msg, sizeof msg) != ND_OK)
            abort();
        same(&a, &b, "parsed twice");
        char *canon[2 * MAX_ARGS + 64];
        int m = render(&a, canon);
        canon[m] = NULL;
        if (parse(&b, cmd, m, canon) != -1) {
            for (int k = 0; k < m; k++)
                fprintf(stderr, "[%s] ", canon[k]);
            fprintf(stderr, "\ncanonical arguments refused\n");
            abort();
        }
        same(&a, &b, "written out and parsed again");
        for (int k = 0; k < m; k++)
            free(canon[k]);
    }
    for (int k = 0; k < argc; k++) {
        free(copy[k]);
        free(again[k]);
    }
    return 0;
}
