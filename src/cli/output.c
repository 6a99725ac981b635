/*
 * output.c - atomic output files and diagnostics.
 *
 * -o FILE is written to a temporary file in the same directory and renamed
 * over FILE only when everything was written, so a failed or interrupted run
 * never leaves half a file.  Where the file system supports it (ext4, xfs,
 * btrfs, tmpfs) the temporary file is made with O_TMPFILE: it has no name
 * while it is written, so even kill -9 leaves nothing behind, and it gets
 * one by linkat() at the end (straight as FILE when FILE does not exist,
 * else as FILE.XXXXXX renamed over FILE at once).  Elsewhere it is
 * FILE.XXXXXX from mkstemp, removed by a signal handler on SIGINT, SIGTERM
 * and SIGHUP; only kill -9 can leave that one.
 * A FILE that exists and is not a regular file (/dev/null, a named pipe)
 * is written in place: renaming over it would replace the device.  A FILE
 * that is a symbolic link is written through it: the temporary file goes
 * beside the link's target and is renamed over the target, so the link
 * stays.  The new file gets the mode the old one had, or, new, 0666 less
 * the umask, as a file made by open() would (mkstemp makes it 0600).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

const char *cli_error_prefix = "neardup";
int (*cli_job_hook)(nd_job *job);

void cli_verror(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", cli_error_prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_verror(fmt, ap);
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

/*
 * An unnamed file (O_TMPFILE) in the directory of path, or -1 where the
 * kernel or the file system has none (the caller falls back to mkstemp).
 */
static int open_unnamed(const char *path)
{
#ifdef O_TMPFILE
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + 1)
                      : strdup(".");
    if (!dir)
        return -1;
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    free(dir);
    return fd;
#else
    (void)path;
    return -1;
#endif
}

/*
 * Give the unnamed file fd the name dest: when dest does not exist, link it
 * there; else link it as tmp (dest.XXXXXX, XXXXXX tried until free) and
 * rename that over dest.  Returns 0 or -1 with errno set.
 */
static int link_unnamed(int fd, char *tmp, const char *dest)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    const char *name = dest;
    unsigned long seed = (unsigned long)getpid() * 2654435761ul ^
                         (unsigned long)time(NULL);
    for (int tries = 0; tries < 100; tries++) {
        int rc = linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW);
        if (rc != 0 && errno == ENOENT)
            rc = linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH);
        if (rc == 0)
            break;
        if (errno != EEXIST)
            return -1;
        /* dest exists: a fresh name beside it, renamed over it below */
        static const char digits[] =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        char *x = tmp + strlen(tmp) - 6;
        for (int i = 0; i < 6; i++) {
            seed = seed * 6364136223846793005ul + 1442695040888963407ul;
            x[i] = digits[(seed >> 33) % 62];
        }
        name = tmp;
    }
    if (name == dest)
        return 0;
    pending_tmp = tmp;
    if (rename(tmp, dest) != 0) {
        int err = errno;
        unlink(tmp);
        pending_tmp = NULL;
        errno = err;
        return -1;
    }
    pending_tmp = NULL;
    return 0;
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
    int fd = open_unnamed(path);
    o->unnamed = fd >= 0;
    if (fd < 0)
        fd = mkstemp(o->tmp);
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
        if (!o->unnamed)
            unlink(o->tmp);
        free(o->tmp);
        o->tmp = NULL;
        return EXIT_IO;
    }
    if (!o->unnamed)
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
    if (o->tmp && o->unnamed) {
        const char *dest = o->target ? o->target : o->path;
        if (!bad && link_unnamed(fileno(o->f), o->tmp, dest) != 0) {
            bad = 1;
            err = errno;
        }
        bad |= fclose(o->f) != 0;
        o->f = NULL;
    } else if (o->tmp) {
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
        if (!o->unnamed)
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
