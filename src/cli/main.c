/*
 * main.c - the neardup command: subcommand dispatch, --help, --version.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The standard streams the caller closed (neardup ... >&- or <&-). */
static int closed_std[3];

int cli_std_closed(int fd)
{
    return fd >= 0 && fd < 3 && closed_std[fd];
}

/*
 * A closed standard stream's descriptor is taken by /dev/null at once, so
 * no file opened later (a temporary file, an input) lands on 0, 1 or 2 and
 * is read or written as the stream; using the stream is then an I/O error
 * (cli_std_closed).
 */
static void guard_std(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        closed_std[fd] = 1;
        int n = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
}

/*
 * OpenMP threads waiting for the next parallel loop spin by default before
 * they sleep, on the cores that the reading thread (and, on a shared
 * machine, everyone else) needs between the loops: 27% of the CPU samples
 * on Reuters-21578, 9% on 200k scale documents.  Told to sleep at once
 * (OMP_WAIT_POLICY=passive) the default run took 13% (scale) to 24%
 * (Reuters) less CPU time and 16-19% less wall time on 2 loaded cores.
 * The runtime reads the setting when it loads, before main: unless the
 * caller chose a wait policy, neardup runs itself again with it set (on
 * failure it goes on as it is).  Not under Valgrind (its preload in
 * LD_PRELOAD), which refuses to run /proc/self/exe.  Before guard_std,
 * which would hide a closed standard stream from the new image.
 */
static void wait_passively(char **argv)
{
    const char *pre = getenv("LD_PRELOAD");
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") ||
        (pre && strstr(pre, "vgpreload")))
        return;
    if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
}

int main(int argc, char **argv)
{
    wait_passively(argv);
    guard_std();
    if (argc < 2) {
        cli_usage(stderr);
        return EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        cli_usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(sub, "--version") || !strcmp(sub, "-V")) {
        printf("neardup %s (library %s)\n", ND_VERSION_STRING, nd_version_string());
        return EXIT_OK;
    }
    if (!strcmp(sub, "index"))
        return cli_index(argc - 1, argv + 1);
    cli_cmd cmd;
    if (!cli_batch_command(sub, &cmd)) {
        static const char *const cmds[] = {"cluster", "dedup", "pairs", "index",
                                           "help", NULL};
        const char *near = cli_closest(sub, strlen(sub), cmds);
        if (near)
            cli_error("unknown command '%s'; did you mean '%s'?", sub, near);
        else
            cli_error("unknown command '%s'", sub);
        fputs("Try 'neardup --help'.\n", stderr);
        return EXIT_USAGE;
    }
    cli_opts o;
    int rc = cli_parse(&o, cmd, argc - 1, argv + 1);
    if (rc != -1)
        return rc;
    return cli_batch(&o);
}
