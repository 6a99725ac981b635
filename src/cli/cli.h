/*
 * cli.h - what the neardup command's files share.  The command uses only
 * the public header of the library.
 */
#ifndef ND_CLI_H
#define ND_CLI_H

#include <stdarg.h>
#include <stdio.h>

#include "../neardup.h"

/* Exit codes (documented in README.md and `neardup --help`). */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 1,
    EXIT_IO = 2,
    EXIT_DATA = 65 /* sysexits EX_DATAERR */
};

typedef enum { CMD_CLUSTER, CMD_DEDUP, CMD_PAIRS } cli_cmd;

typedef struct cli_opts {
    cli_cmd cmd;
    nd_params params;
    nd_reader_opts reader;
    const char *output;   /* NULL or "-": stdout */
    int stats, quiet, skip_bad;
    int progress;                /* --progress: also when stderr is no tty */
    const char *stats_json;      /* --stats-json FILE: the stats as JSON */
    int explain;                 /* pairs: exact scores, shared passage */
    const char *source_priority; /* --keep source: the file of names */
    char **paths;
    size_t npaths;
} cli_opts;

/* Print "<cli_error_prefix>: <fmt>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_verror(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* "neardup"; neardup-mpi names its rank and host there. */
extern const char *cli_error_prefix;
/* NULL, or called by cli_batch with the job made and not yet run
   (neardup-mpi shares it among processes); non-zero is the exit code to
   fail with, the message printed. */
extern int (*cli_job_hook)(nd_job *job);
/* Print "neardup: warning: <fmt>" on stderr unless quiet. */
void cli_warn(const cli_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Parse argv (after the subcommand) into o.  Returns -1 when the caller
 * should go on, or an exit code (help printed: 0; usage error: 1).
 */
int cli_parse(cli_opts *o, cli_cmd cmd, int argc, char **argv);
/* The batch command a name names (cluster, dedup, pairs): 1 and *cmd set,
   or 0. */
int cli_batch_command(const char *name, cli_cmd *cmd);
void cli_usage(FILE *f);
/* The name in the NULL-terminated names that typed[0..len) is a slip of
 * (an edit or two, by length), the first closest; NULL when none is. */
const char *cli_closest(const char *typed, size_t len, const char *const *names);
/* More long-option names (without "--", NULL-terminated, at most 15) that
 * cli_parse offers when an option is unknown. */
void cli_suggest_also(const char *const *names);

/* Output written to a temporary file and renamed on success (atomic). */
typedef struct cli_out {
    FILE *f;
    char *tmp;        /* temporary path, NULL for stdout */
    const char *path;
    char *target;     /* path is a symbolic link: what it names (malloc'ed) */
    int direct; /* a device or pipe, written in place */
    int unnamed; /* the temporary file is O_TMPFILE: tmp is only the name
                    it may be linked as before the rename */
} cli_out;

/* 1 when the caller started neardup with standard stream fd closed. */
int cli_std_closed(int fd);
/* EXIT_OK, or EXIT_IO with a message when the inputs are standard input
   (no path, or "-") and it is closed. */
int cli_stdin_check(char *const *paths, size_t npaths);

int cli_out_open(cli_out *o, const char *path);
/* Flush, sync and rename into place; EXIT_OK or EXIT_IO (message printed). */
int cli_out_commit(cli_out *o);
/* Remove the temporary file, if any. */
void cli_out_abort(cli_out *o);

/* Write the line of row r of command cmd to f (dedup: the record as
   read, after the header when the row has one). */
void cli_row_put(FILE *f, cli_cmd cmd, const nd_job_row *r);

/* The job options of the batch command o (its callbacks left NULL). */
void cli_job_opts(const cli_opts *o, nd_job_opts *jo);
/* The batch subcommands: cluster, dedup, pairs. */
int cli_batch(const cli_opts *o);
/* neardup index add|query|stats|evict; argv[0] is "index". */
int cli_index(int argc, char **argv);

#endif
