/* cluster.c - `neardup cluster FILE...` through the library's job: the same
   rows, byte for byte.  Build: cc cluster.c $(pkg-config --cflags --libs neardup) */
#include <stdio.h>

#include <neardup.h>

static int row(void *ctx, const nd_job_row *r)
{
    (void)ctx;
    printf("{\"id\": %.*s, \"cluster\": %u, \"rep\": %s}\n", (int)r->id_len,
           r->id, r->cluster, r->rep ? "true" : "false");
    return 0;
}

static void warning(void *ctx, const nd_job_warning *w)
{
    (void)ctx;
    fprintf(stderr, "cluster: warning: %s\n", w->message);
}

int main(int argc, char **argv)
{
    nd_job_opts o;
    nd_job_opts_init(&o);
    o.paths = (const char *const *)argv + 1;
    o.npaths = (size_t)argc - 1;
    o.on_row = row;
    o.on_warning = warning;
    nd_job *job;
    int rc = nd_job_create(&o, &job);
    if (rc == ND_OK)
        rc = nd_job_run(job);
    if (rc != ND_OK)
        fprintf(stderr, "cluster: %s\n", nd_job_errmsg(job));
    nd_job_free(job);
    return rc == ND_OK ? 0 : 1;
}
