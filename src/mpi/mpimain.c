/*
 * mpimain.c - neardup-mpi: `neardup cluster | dedup | pairs` shared among
 * the processes of an MPI job, with the same options and the same output.
 *
 * Every rank reads the whole input (the same files on every node: a shared
 * file system or copies) and runs the job's count pass on all of it, so the
 * boilerplate counts are the single-process run's by construction.  In the
 * second pass each rank sketches only its share of the documents (blocks
 * of ND__SHARE_BLOCK by document number, round robin: src/job/jobint.h),
 * the stage that costs most of a run.  Rank 0 then receives the other
 * ranks' sketched state (signature, set sizes, figures: a few hundred
 * bytes a document) and runs candidates, verification, clustering and the
 * rows alone, writing -o to a temporary name renamed when complete.
 *
 * Faults: a rank that fails (an input it cannot read, no memory, inputs
 * that differ from rank 0's) prints its rank, host and cause and aborts
 * the whole job (MPI_Abort); a rank that dies is reported by mpirun, which
 * ends the others.  Rank 0 has no output file open before every share has
 * arrived, and removes its temporary file when terminated.
 *
 * The driver uses internal headers of the job (jobint.h) for the shared
 * sketch; ARCHITECTURE.md says why.
 */
#include <limits.h>
#include <mpi.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "../job/jobint.h"

/* Bytes of one message at most (MPI counts are int). */
#define PIECE (1 << 28)

static int rank, nranks;
static char host[MPI_MAX_PROCESSOR_NAME];
static char prefix[64 + MPI_MAX_PROCESSOR_NAME];
/* Set when this rank has handed its share to rank 0. */
static int handed_over;
/* Rank 0: documents, and bytes of the shares received (--stats). */
static uint64_t gathered_docs, gathered_bytes;
/* Bytes this rank sent in the count exchange: the level sums, the held
   sample (--stats). */
static uint64_t count_sum_bytes, count_held_bytes;

/* mpirun gives every rank its standard streams (stdin: rank 0's, from
   /dev/null elsewhere); the command's reads of stdin are refused below. */
int cli_std_closed(int fd)
{
    (void)fd;
    return 0;
}

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "neardup-mpi: rank R on HOST: <fmt>" and end the whole job. */
static void die(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prefix);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

/* Tests only: NEARDUP_MPI_DIE=R makes rank R kill itself where it would
   hand its share over, as a node lost mid-run does. */
static void maybe_die(void)
{
    const char *s = getenv("NEARDUP_MPI_DIE");
    if (s && *s && atoi(s) == rank)
        raise(SIGKILL);
}

/* What a rank sends before its share: documents read, bytes of the share,
   and the text counters of what it sketched. */
enum { H_DOCS, H_BYTES, H_TEXT, H_LEN = H_TEXT + 6 };

static void pack_text(uint64_t *h, const nd_text_stats *s)
{
    h[0] = s->docs;
    h[1] = s->empty;
    h[2] = s->bad_utf8;
    h[3] = s->bytes;
    h[4] = s->suppressed;
    h[5] = s->suppressed_docs;
}

static void unpack_text(nd_text_stats *s, const uint64_t *h)
{
    s->docs = h[0];
    s->empty = h[1];
    s->bad_utf8 = h[2];
    s->bytes = h[3];
    s->suppressed = h[4];
    s->suppressed_docs = h[5];
}

/* Documents of rank r's share among n. */
static size_t share_docs(size_t n, int r)
{
    size_t blocks = (n + ND__SHARE_BLOCK - 1) / ND__SHARE_BLOCK, m = 0;
    for (size_t i = (size_t)r; i < blocks; i += (size_t)nranks) {
        size_t end = (i + 1) * ND__SHARE_BLOCK;
        m += (end < n ? end : n) - i * ND__SHARE_BLOCK;
    }
    return m;
}

static void send_bytes(const unsigned char *p, size_t n, int to)
{
    while (n) {
        int m = n > PIECE ? PIECE : (int)n;
        MPI_Send(p, m, MPI_BYTE, to, 1, MPI_COMM_WORLD);
        p += m;
        n -= (size_t)m;
    }
}

static void recv_bytes(unsigned char *p, size_t n, int from)
{
    while (n) {
        int m = n > PIECE ? PIECE : (int)n;
        MPI_Recv(p, m, MPI_BYTE, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        p += m;
        n -= (size_t)m;
    }
}

/* A rank other than 0: send the sketched state of its share, in document
   order, then stop the batch (ND_ERR_STATE, handed_over set). */
static int gather_send(void *ctx, nd_batch *b, char *msg, size_t cap)
{
    (void)ctx;
    maybe_die();
    const size_t n = nd_batch_size(b), w = nd__batch_doc_bytes(b);
    size_t m = 0;
    for (size_t d = 0; d < n; d++)
        m += (size_t)nd__batch_sketches(b, d);
    /* More than its share: every rank sketched every document
       (params.exact), rank 0 too; nothing to send. */
    const int all = m != share_docs(n, rank);
    if (all)
        m = 0;
    unsigned char *buf = malloc(m * w + 1);
    if (!buf)
        die(EXIT_IO, "out of memory for the %zu bytes of its share", m * w);
    size_t at = 0;
    for (size_t d = 0; d < n && !all; d++)
        if (nd__batch_sketches(b, d))
            nd__batch_doc_get(b, d, buf + at++ * w);
    uint64_t h[H_LEN];
    nd_text_stats st;
    nd__batch_sketched_stats(b, &st);
    if (all)
        memset(&st, 0, sizeof st);
    h[H_DOCS] = n;
    h[H_BYTES] = at * w;
    pack_text(h + H_TEXT, &st);
    MPI_Send(h, H_LEN, MPI_UINT64_T, 0, 0, MPI_COMM_WORLD);
    send_bytes(buf, at * w, 0);
    free(buf);
    handed_over = 1;
    snprintf(msg, cap, "share handed over");
    return ND_ERR_STATE;
}

/* Rank 0: receive every other rank's share into the batch. */
static int gather_recv(void *ctx, nd_batch *b, char *msg, size_t cap)
{
    (void)ctx;
    (void)msg;
    (void)cap;
    maybe_die();
    const size_t n = nd_batch_size(b), w = nd__batch_doc_bytes(b);
    unsigned char *buf = NULL;
    for (int r = 1; r < nranks; r++) {
        uint64_t h[H_LEN];
        MPI_Recv(h, H_LEN, MPI_UINT64_T, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (h[H_DOCS] != n)
            die(EXIT_DATA,
                "rank %d read %llu documents and rank 0 %zu: the inputs differ "
                "between the nodes",
                r, (unsigned long long)h[H_DOCS], n);
        /* Nothing comes with params.exact: every rank sketched all. */
        const size_t m = h[H_BYTES] / (w ? w : 1);
        unsigned char *p = realloc(buf, m * w + 1);
        if (!p)
            die(EXIT_IO, "out of memory for the %zu bytes of rank %d's share", m * w, r);
        buf = p;
        recv_bytes(buf, m * w, r);
        gathered_bytes += m * w + sizeof h;
        nd_text_stats st;
        unpack_text(&st, h + H_TEXT);
        nd__batch_add_stats(b, &st);
        if (m && m == share_docs(n, r)) {
            size_t at = 0;
            for (size_t i = (size_t)r * ND__SHARE_BLOCK; i < n;
                 i += (size_t)nranks * ND__SHARE_BLOCK) {
                size_t end = i + ND__SHARE_BLOCK < n ? i + ND__SHARE_BLOCK : n;
                for (size_t d = i; d < end; d++)
                    nd__batch_doc_put(b, d, buf + at++ * w);
            }
        }
    }
    free(buf);
    gathered_docs = n;
    return ND_OK;
}

/* The count exchange (jobint.h): the sums of one sampling level. */
static int comm_sum32(void *ctx, uint32_t *v, size_t n)
{
    (void)ctx;
    while (n) {
        int m = n > PIECE / 4 ? PIECE / 4 : (int)n;
        if (MPI_Allreduce(MPI_IN_PLACE, v, m, MPI_UINT32_T, MPI_SUM, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            die(EXIT_IO, "the count exchange failed");
        count_sum_bytes += (uint64_t)m * sizeof *v;
        v += m;
        n -= (size_t)m;
    }
    return ND_OK;
}

/* The count exchange: every rank's held sample, to every rank, in rank
   order (each rank broadcasts its own in pieces). */
static int comm_gather(void *ctx, const void *p, size_t n, void **all, size_t *alln)
{
    (void)ctx;
    uint64_t mine = n, *sizes = malloc(sizeof *sizes * (size_t)nranks);
    if (!sizes)
        die(EXIT_IO, "out of memory");
    MPI_Allgather(&mine, 1, MPI_UINT64_T, sizes, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    size_t total = 0;
    for (int r = 0; r < nranks; r++)
        total += (size_t)sizes[r];
    unsigned char *buf = malloc(total ? total : 1);
    if (!buf)
        die(EXIT_IO, "out of memory for the %zu bytes of the held sample", total);
    size_t at = 0;
    for (int r = 0; r < nranks; r++) {
        if (r == rank && n)
            memcpy(buf + at, p, n);
        for (size_t done = 0; done < sizes[r];) {
            int m = sizes[r] - done > PIECE ? PIECE : (int)(sizes[r] - done);
            MPI_Bcast(buf + at + done, m, MPI_BYTE, r, MPI_COMM_WORLD);
            done += (size_t)m;
        }
        at += (size_t)sizes[r];
    }
    count_held_bytes += n;
    free(sizes);
    *all = buf;
    *alln = total;
    return ND_OK;
}

static const nd__count_comm count_comm = {NULL, comm_sum32, comm_gather};

/* Rank 0's job, made by cli_batch: shared before it runs. */
static int share_job(nd_job *job)
{
    nd__batch_share(nd__job_batch_early(job), 0, (unsigned)nranks, gather_recv, NULL);
    nd__batch_share_count(nd__job_batch_early(job), &count_comm);
    return 0;
}

/* Another rank: the job as cli_batch makes it, without rows or messages. */
static int run_share(const cli_opts *o)
{
    nd_job_opts jo;
    nd_job_opts_init(&jo);
    jo.kind = ND_JOB_CLUSTER; /* no spool of records or texts: no rows here */
    jo.params = o->params;
    jo.reader = o->reader;
    jo.paths = (const char *const *)o->paths;
    jo.npaths = o->npaths;
    jo.skip_bad = o->skip_bad;
    jo.source_priority = o->source_priority;
    nd_job *job;
    int rc = nd_job_create(&jo, &job);
    if (rc != ND_OK) {
        if (!job)
            die(EXIT_IO, "out of memory");
        die(rc == ND_ERR_PARAM ? EXIT_USAGE : EXIT_IO, "%s", nd_job_errmsg(job));
    }
    nd__batch_share(nd__job_batch_early(job), (unsigned)rank, (unsigned)nranks,
                    gather_send, NULL);
    nd__batch_share_count(nd__job_batch_early(job), &count_comm);
    rc = nd_job_run(job);
    if (!handed_over)
        die(rc == ND_ERR_DATA || rc == ND_ERR_UTF8 ? EXIT_DATA : EXIT_IO, "%s",
            rc == ND_OK ? "the job ended before the exchange" : nd_job_errmsg(job));
    nd_job_free(job);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    int provided;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fputs("neardup-mpi: MPI could not start\n", stderr);
        return EXIT_IO;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    int len = 0;
    MPI_Get_processor_name(host, &len);
    snprintf(prefix, sizeof prefix, "neardup-mpi: rank %d on %s", rank, host);
    cli_error_prefix = prefix;

    cli_cmd cmd = CMD_CLUSTER;
    const char *sub = argc > 1 ? argv[1] : "";
    int known = cli_batch_command(sub, &cmd);
    int status;
    if (!known) {
        if (rank == 0)
            fputs("usage: mpirun [MPI OPTIONS] neardup-mpi cluster|dedup|pairs "
                  "[OPTIONS] FILE... [-o OUT]\n"
                  "The options are neardup's ('neardup --help').\n",
                  argc > 1 && strcmp(sub, "--help") && strcmp(sub, "-h") ? stderr
                                                                        : stdout);
        status = argc > 1 && (!strcmp(sub, "--help") || !strcmp(sub, "-h")) ? EXIT_OK
                                                                           : EXIT_USAGE;
        MPI_Finalize();
        return status;
    }
    cli_opts o;
    /* Rank 0 prints what parsing has to say, once. */
    int saved_out = -1, saved_err = -1, null = -1;
    if (rank != 0) {
        fflush(stdout);
        fflush(stderr);
        saved_out = dup(STDOUT_FILENO);
        saved_err = dup(STDERR_FILENO);
        null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
    }
    int rc = cli_parse(&o, cmd, argc - 1, argv + 1);
    if (rank != 0) {
        fflush(stdout);
        fflush(stderr);
        if (saved_out >= 0)
            dup2(saved_out, STDOUT_FILENO);
        if (saved_err >= 0)
            dup2(saved_err, STDERR_FILENO);
        if (null >= 0)
            close(null);
    }
    if (rc != -1) {
        MPI_Finalize();
        return rc;
    }
    if (o.npaths == 0 || (o.npaths == 1 && !strcmp(o.paths[0], "-"))) {
        if (rank == 0)
            cli_error("reads files only: standard input reaches one rank");
        MPI_Finalize();
        return EXIT_USAGE;
    }
    if (rank == 0) {
        cli_job_hook = share_job;
        status = cli_batch(&o);
        if (status != EXIT_OK)
            MPI_Abort(MPI_COMM_WORLD, status);
        if (o.stats)
            fprintf(stderr,
                    "neardup-mpi: %d ranks; the shares sent to rank 0: %llu bytes, "
                    "%.1f a document\n",
                    nranks, (unsigned long long)gathered_bytes,
                    gathered_docs ? (double)gathered_bytes / (double)gathered_docs : 0.0);
        if (o.stats)
            fprintf(stderr,
                    "neardup-mpi: the count exchange, rank 0: %llu bytes of level "
                    "sums, %llu bytes of held sample\n",
                    (unsigned long long)count_sum_bytes,
                    (unsigned long long)count_held_bytes);
    } else {
        status = run_share(&o);
    }
    MPI_Finalize();
    return status;
}
