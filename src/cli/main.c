/*
 * main.c - the neardup command: subcommand dispatch, --help, --version.
 */
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
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
    if (!strcmp(sub, "cluster"))
        cmd = CMD_CLUSTER;
    else if (!strcmp(sub, "dedup"))
        cmd = CMD_DEDUP;
    else if (!strcmp(sub, "pairs"))
        cmd = CMD_PAIRS;
    else {
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
