/*
 * output.c - atomic output files and diagnostics.
 *
 * -o FILE is written to FILE.XXXXXX in the same directory and renamed over
 * FILE only when everything was written, so a failed or interrupted run
 * never leaves half a file.  A signal handler removes the temporary file.
 * A FILE that exists and is not a regular file (/dev/null, a named pipe)
 * is written in place: renaming over it would replace the device.  A FILE
 * that is a symbolic link is written through it: the temporary file goes
 * beside the link's target and is renamed over the target, so the link
 * stays.  The new file gets the mode the old one had, or, new, 0666 less
 * the umask, as a file made by open() would (mkstemp makes it 0600).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static char *volatile pending_tmp;

static void on_signal(int sig)
{
    if (pending_tmp)
        unlink(pending_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("neardup: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warn(const cli_opts *o, const char *fmt, ...)
{
    if (o->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("neardup: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_stdin_check(char *const *paths, size_t npaths)
{
    int reads = npaths == 0;
    for (size_t i = 0; i < npaths; i++)
        reads |= strcmp(paths[i], "-") == 0;
    if (reads && cli_std_closed(0)) {
        cli_error("standard input is closed");
        return EXIT_IO;
    }
    return EXIT_OK;
}

int cli_out_open(cli_out *o, const char *path)
{
    memset(o, 0, sizeof *o);
    static char buf[1 << 20];
    if (!path || strcmp(path, "-") == 0) {
        if (cli_std_closed(1)) {
            cli_error("standard output is closed");
            return EXIT_IO;
        }
        o->f = stdout;
        setvbuf(stdout, buf, _IOFBF, sizeof buf);
        return EXIT_OK;
    }
    o->path = path;
    struct stat st, lst;
    int exists = stat(path, &st) == 0;
    if (exists && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        o->target = realpath(path, NULL);
        if (o->target)
            path = o->target;
    }
    if (exists && !S_ISREG(st.st_mode)) {
        o->f = fopen(path, "w");
        if (!o->f) {
            cli_error("%s: %s", path, strerror(errno));
            return EXIT_IO;
        }
        o->direct = 1;
        setvbuf(o->f, buf, _IOFBF, sizeof buf);
        return EXIT_OK;
    }
    size_t n = strlen(path);
    o->tmp = malloc(n + 8);
    if (!o->tmp) {
        cli_error("out of memory");
        return EXIT_IO;
    }
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".XXXXXX", 8);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        cli_error("%s: %s", path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return EXIT_IO;
    }
    mode_t mode;
    if (exists) {
        mode = st.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (fchmod(fd, mode) != 0) {
        cli_error("%s: %s", path, strerror(errno));
        close(fd);
        unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        return EXIT_IO;
    }
    pending_tmp = o->tmp;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    o->f = fdopen(fd, "w");
    if (!o->f) {
        cli_error("%s: %s", path, strerror(errno));
        close(fd);
        cli_out_abort(o);
        return EXIT_IO;
    }
    setvbuf(o->f, buf, _IOFBF, sizeof buf);
    return EXIT_OK;
}

int cli_out_commit(cli_out *o)
{
    const char *name = o->path ? o->path : "<stdout>";
    int bad = fflush(o->f) != 0 || ferror(o->f);
    if (!bad && o->tmp)
        bad = fsync(fileno(o->f)) != 0;
    int err = errno;
    if (o->direct) {
        bad |= fclose(o->f) != 0;
        o->f = NULL;
    }
    if (o->tmp) {
        bad |= fclose(o->f) != 0;
        o->f = NULL;
        if (!bad && rename(o->tmp, o->target ? o->target : o->path) != 0) {
            bad = 1;
            err = errno;
        }
    }
    if (bad) {
        cli_error("%s: %s", name, strerror(err));
        cli_out_abort(o);
        return EXIT_IO;
    }
    pending_tmp = NULL;
    free(o->tmp);
    o->tmp = NULL;
    free(o->target);
    o->target = NULL;
    return EXIT_OK;
}

void cli_out_abort(cli_out *o)
{
    if (o->tmp) {
        if (o->f)
            fclose(o->f);
        unlink(o->tmp);
        pending_tmp = NULL;
        free(o->tmp);
        o->tmp = NULL;
    }
    if (o->direct && o->f)
        fclose(o->f);
    o->f = NULL;
    free(o->target);
    o->target = NULL;
}
