/*
 * mpimain.c - neardup-mpi: `neardup cluster | dedup | pairs` shared among
 * the processes of an MPI job, with the same options and the same output.
 *
 * No rank reads all the input (plan): the inputs are cut into even byte
 * shares at line starts, files that cannot be cut going whole to one rank.
 * Each rank counts the documents and line ends of its part, and learns
 * from the ranks before it (MPI_Exscan) its first document's number and
 * the line each of its ranges starts at (number_docs).  Its job reads its
 * part only; the boilerplate count samples by the documents' numbers and
 * the ranks merge their counts in the count exchange (the level sums and
 * the held sample: jobint.h), so the counts are one process's.  Each rank
 * sketches its documents; the ranks share candidates and verification
 * (match: band keys by key range, pairs at the owner of their first
 * document, verified there).  For cluster and dedup the ranks then find
 * the connected components of the verified pairs (label rounds) and
 * cluster each on one rank (a hash of its smallest document), which
 * receives its pairs and its members' states; clusters are numbered by first
 * member across the ranks (shared_clusters).  pairs, whose rows name no
 * cluster, clusters the same way only for its counters (--stats,
 * --stats-json).  Rank 0 receives only the summed counters, and the
 * others' warnings and record counters, in rank order, which is input
 * order.
 * Every rank writes its own rows (write_rows): those of its documents
 * for cluster and dedup; for pairs those of the verified pairs whose
 * first document it owns (pair order is by first document, so a rank's
 * pairs are one stretch of the output, in rank order), with the ids (and
 * texts, --explain) of their second documents fetched from their owners.
 *
 * Faults: a rank that fails (an input it cannot read, a bad record, no
 * memory, inputs that differ from rank 0's) prints its rank, host and
 * cause and aborts the whole job (MPI_Abort); a rank that dies is reported
 * by mpirun, which ends the others.  The temporary output file exists only
 * while the ranks write their rows into it; die() and the ranks' SIGTERM
 * handlers remove it.
 *
 * The driver uses internal headers of the job (jobint.h, readerint.h);
 * ARCHITECTURE.md says why.
 */
#include <limits.h>
#include <mpi.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "../cluster/cluster.h"
#include "../core/sort.h"
#include "../job/jobint.h"
#include "../lsh/lsh.h"

/* Bytes of one message at most (MPI counts are int). */
#define PIECE (1 << 28)

static int rank, nranks;
static char host[MPI_MAX_PROCESSOR_NAME];
static char prefix[64 + MPI_MAX_PROCESSOR_NAME];
/* Set when this rank has handed its share to rank 0. */
static int handed_over;
/* Rank 0: documents, bytes of the shares received and of the rows' data
   (--stats). */
static uint64_t gathered_docs, gathered_bytes, gathered_rows;
/* cluster, dedup: each rank writes the rows of its own documents (pairs:
   those of the pairs whose first document it owns). */
static int by_owner;
/* The components are clustered (shared_clusters): cluster, dedup, and
   pairs when its counters are reported (--stats, --stats-json). */
static int clustering;
/* The options, and -o as given (rank 0's command writes to /dev/null). */
static const cli_opts *opts;
static const char *out_path;
/* Documents each rank sketched (rank 0). */
static uint64_t *docs_of;
/* The temporary output file while the ranks write it: removed by die()
   and on SIGTERM, SIGINT, SIGHUP. */
static char *volatile out_tmp;
/* The count exchange (--stats): bytes of level sums this rank sent, and
   of the held sample all ranks sent. */
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
    if (out_tmp)
        unlink(out_tmp);
    va_list ap;
    va_start(ap, fmt);
    cli_verror(fmt, ap); /* cli_error_prefix is prefix */
    va_end(ap);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}

/* Tests only: NEARDUP_MPI_DIE=R makes rank R kill itself where it would
   hand its share over, as a node lost mid-run does; NEARDUP_MPI_DIE=R:rows
   where it would write its rows into the temporary output file. */
static void maybe_die(const char *at)
{
    const char *s = getenv("NEARDUP_MPI_DIE");
    if (!s || !*s || atoi(s) != rank)
        return;
    const char *colon = strchr(s, ':');
    if (colon ? !strcmp(colon + 1, at) : !strcmp(at, "share"))
        raise(SIGKILL);
}

/* ------------------------------------------------ the parts of the input */

/*
 * The inputs, in order, as rank 0 found them: bytes (regular files; 0 for
 * a directory or a FIFO) and whether the file may be read in byte ranges
 * (nd__reader_cuttable).  Every rank compares its own sizes with these.
 */
static uint64_t *in_bytes;
static int *cuttable;
static nd__piece *pieces; /* this rank's parts, in input order */
static size_t npieces;
static uint64_t first_doc, total_docs, bytes_mine;

/* The first byte of total (of nranks shares as even as bytes allow) that
   rank r reads. */
static uint64_t share_start(uint64_t total, int r)
{
    uint64_t q = total / (uint64_t)nranks, rem = total % (uint64_t)nranks;
    return q * (uint64_t)r + ((uint64_t)r < rem ? (uint64_t)r : rem);
}

/* Where the first line that starts at or after byte p of a file of size
   bytes starts (size when none does): the byte after the first '\n' at or
   after p - 1.  The rank that ends at p and the one that starts there
   find the same place. */
static uint64_t line_start(const char *path, uint64_t p, uint64_t size)
{
    if (p == 0 || p >= size)
        return p >= size ? size : 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(EXIT_IO, "%s: %s", path, strerror(errno));
    char b[1 << 16];
    for (uint64_t at = p - 1;;) {
        ssize_t n = pread(fd, b, sizeof b, (off_t)at);
        if (n < 0)
            die(EXIT_IO, "%s: %s", path, strerror(errno));
        char *nl = n ? memchr(b, '\n', (size_t)n) : NULL;
        if (nl || n == 0) {
            close(fd);
            return nl ? at + (uint64_t)(nl - b) + 1 : size;
        }
        at += (uint64_t)n;
    }
}

/* Line ends in bytes [from, to) of a file. */
static uint64_t count_lines(const char *path, uint64_t from, uint64_t to)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(EXIT_IO, "%s: %s", path, strerror(errno));
    char b[1 << 16];
    uint64_t lines = 0;
    while (from < to) {
        size_t want = to - from < sizeof b ? (size_t)(to - from) : sizeof b;
        ssize_t n = pread(fd, b, want, (off_t)from);
        if (n <= 0)
            die(EXIT_IO, "%s: %s", path, n < 0 ? strerror(errno) : "shorter than it was");
        for (char *q = b, *e = b + n; (q = memchr(q, '\n', (size_t)(e - q))); q++)
            lines++;
        from += (uint64_t)n;
    }
    close(fd);
    return lines;
}

/*
 * Cut the input into the ranks' parts.  The inputs are laid end to end
 * (total bytes) and cut into nranks even shares; a file that may be cut
 * goes to the ranks its bytes fall to, each from the first line that
 * starts in its share to the first that starts after it; any other input
 * (compressed, CSV, TSV with its header, a directory) goes whole to the
 * rank its first byte falls to.  Then the ranks count the line ends of
 * their ranges, so each knows its first line's number in the file.
 */
static void plan(const cli_opts *o)
{
    const size_t n = o->npaths;
    in_bytes = calloc(n + 1, sizeof *in_bytes);
    cuttable = calloc(n + 1, sizeof *cuttable);
    pieces = calloc(n + 1, sizeof *pieces);
    uint64_t *mine = calloc(n + 1, sizeof *mine), *theirs = calloc(n + 1, sizeof *theirs);
    uint64_t *lines = calloc(n + 1, sizeof *lines), *before = calloc(n + 1, sizeof *before);
    if (!in_bytes || !cuttable || !pieces || !mine || !theirs || !lines || !before)
        die(EXIT_IO, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(o->paths[i], &st) != 0)
            die(EXIT_IO, "%s: %s", o->paths[i], strerror(errno));
        cuttable[i] = nd__reader_cuttable(o->paths[i], &o->reader, &mine[i]);
        theirs[i] = mine[i];
    }
    MPI_Bcast(theirs, (int)n, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    MPI_Bcast(cuttable, (int)n, MPI_INT, 0, MPI_COMM_WORLD);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (mine[i] != theirs[i])
            die(EXIT_DATA,
                "%s is %llu bytes here and %llu on rank 0: the inputs differ "
                "between the nodes",
                o->paths[i], (unsigned long long)mine[i], (unsigned long long)theirs[i]);
        in_bytes[i] = theirs[i];
        total += in_bytes[i];
    }
    const uint64_t from = share_start(total, rank), to = share_start(total, rank + 1);
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t a = at, size = in_bytes[i];
        at += size;
        if (!cuttable[i]) {
            /* Whole, to the rank of its first byte (the last past the end). */
            int owner = nranks - 1;
            for (int r = 0; r < nranks; r++)
                if (a < share_start(total, r + 1)) {
                    owner = r;
                    break;
                }
            if (owner == rank) {
                pieces[npieces++] = (nd__piece){o->paths[i], 0, 0, 0};
                bytes_mine += size;
            }
            continue;
        }
        if (a + size <= from || a >= to)
            continue;
        uint64_t s = from > a ? from - a : 0, e = to - a < size ? to - a : size;
        s = line_start(o->paths[i], s, size);
        e = line_start(o->paths[i], e, size);
        if (s >= e)
            continue;
        /* The ranks after this one read nothing of a file it ends. */
        if (e < size)
            lines[i] = count_lines(o->paths[i], s, e);
        pieces[npieces++] = (nd__piece){o->paths[i], s, e, 0};
        bytes_mine += e - s;
    }
    /* The line ends before each rank's range of a file are in the ranges
       of the ranks before it. */
    MPI_Exscan(lines, before, (int)n, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    for (size_t k = 0, i = 0; k < npieces; k++) {
        while (o->paths[i] != pieces[k].path)
            i++;
        if (rank && pieces[k].to)
            pieces[k].line0 = before[i];
    }
    free(mine);
    free(theirs);
    free(lines);
    free(before);
}

/*
 * The records of this rank's parts that are documents, counted the way
 * the count pass numbers them (every record the skim yields; with
 * --skip-bad or --strict, the good ones), then this rank's first
 * document's number and all the documents.
 */
static void number_docs(const cli_opts *o)
{
    nd_reader *rd = NULL;
    int rc = nd__reader_open_pieces(pieces, npieces, &o->reader, &rd);
    if (rc != ND_OK)
        die(EXIT_IO, "%s", rd ? nd_reader_errmsg(rd) : nd_strerror(rc));
    const int strict = (o->params.norm & ND_NORM_STRICT_UTF8) != 0;
    const int parse = o->skip_bad || strict;
    uint64_t docs = 0;
    nd_record rec;
    while ((rc = nd__reader_next_skim(rd, parse, &rec)) != 0) {
        if (rc == 2 || (rc == 1 && !(rec.bad_utf8 && strict)))
            docs++;
        else if (rc < 0 && rc != ND_ERR_DATA && rc != ND_ERR_BINARY)
            die(EXIT_IO, "%s", nd_reader_errmsg(rd));
    }
    nd_reader_close(rd);
    MPI_Exscan(&docs, &first_doc, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        first_doc = 0;
    MPI_Allreduce(&docs, &total_docs, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
}

/* ------------------------------------------------------- the warnings */

/* Ranks but 0: the warnings of their reading, in order, for rank 0 to
   print after its own (code, line, file, message). */
static unsigned char *warns;
static size_t nwarns, capwarns;

static void keep_bytes(const void *p, size_t n)
{
    if (nwarns + n > capwarns) {
        size_t cap = capwarns ? capwarns * 2 : 4096;
        while (cap < nwarns + n)
            cap *= 2;
        unsigned char *q = realloc(warns, cap);
        if (!q)
            die(EXIT_IO, "out of memory");
        warns = q;
        capwarns = cap;
    }
    memcpy(warns + nwarns, p, n);
    nwarns += n;
}

static void keep_warning(void *ctx, const nd_job_warning *w)
{
    (void)ctx;
    int32_t code = w->code;
    uint64_t line = w->line, fl = strlen(w->file ? w->file : ""), ml = strlen(w->message);
    keep_bytes(&code, sizeof code);
    keep_bytes(&line, sizeof line);
    keep_bytes(&fl, sizeof fl);
    keep_bytes(w->file ? w->file : "", fl);
    keep_bytes(&ml, sizeof ml);
    keep_bytes(w->message, ml);
}

/* A string kept by keep_warning (its length, then its bytes) into *out,
   NUL-terminated (grown as needed); returns what follows it. */
static const unsigned char *take_string(const unsigned char *p, char **out)
{
    uint64_t n;
    memcpy(&n, p, sizeof n);
    p += sizeof n;
    char *s = realloc(*out, n + 1);
    if (!s)
        die(EXIT_IO, "out of memory");
    memcpy(s, p, n);
    s[n] = '\0';
    *out = s;
    return p + n;
}

/* Rank 0: report the warnings of a rank, as its job would have. */
static void replay_warnings(nd_job *job, const unsigned char *p, size_t n)
{
    const unsigned char *end = p + n;
    char *file = NULL, *msg = NULL;
    while (p < end) {
        int32_t code;
        uint64_t line;
        memcpy(&code, p, sizeof code);
        p += sizeof code;
        memcpy(&line, p, sizeof line);
        p += sizeof line;
        p = take_string(p, &file);
        p = take_string(p, &msg);
        nd_job_warning w = {code, file, line, msg};
        nd__job_warn(job, &w);
    }
    free(file);
    free(msg);
}

/* -------------------------------------------------------- the exchange */

/* What a rank sends rank 0 after the shared verification: its documents,
   bytes of warnings, bytes it read, and the text counters of what it
   sketched. */
enum { H_DOCS, H_WARN, H_READ, H_TEXT, H_LEN = H_TEXT + 6 };

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

static void send_bytes(const void *p, size_t n, int to)
{
    const unsigned char *q = p;
    while (n) {
        int m = n > PIECE ? PIECE : (int)n;
        MPI_Send(q, m, MPI_BYTE, to, 1, MPI_COMM_WORLD);
        q += m;
        n -= (size_t)m;
    }
}

static void recv_bytes(void *p, size_t n, int from)
{
    unsigned char *q = p;
    while (n) {
        int m = n > PIECE ? PIECE : (int)n;
        MPI_Recv(q, m, MPI_BYTE, from, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        q += m;
        n -= (size_t)m;
    }
}

/* The rows' data of a job (nd__job_export) as a stream of messages of at
   most STREAM bytes, tag 2, an empty one at the end. */
#define STREAM (1 << 20)

typedef struct {
    unsigned char *buf;
    size_t n, at;
    int peer;
    uint64_t bytes;
} stream;

static int stream_put(void *ctx, const void *p, size_t n)
{
    stream *s = ctx;
    const unsigned char *q = p;
    while (n) {
        size_t m = STREAM - s->n < n ? STREAM - s->n : n;
        memcpy(s->buf + s->n, q, m);
        s->n += m;
        q += m;
        n -= m;
        if (s->n == STREAM) {
            MPI_Send(s->buf, (int)s->n, MPI_BYTE, s->peer, 2, MPI_COMM_WORLD);
            s->bytes += s->n;
            s->n = 0;
        }
    }
    return ND_OK;
}

static int stream_get(void *ctx, void *p, size_t n)
{
    stream *s = ctx;
    unsigned char *q = p;
    while (n) {
        if (s->at == s->n) {
            MPI_Status st;
            int m;
            MPI_Recv(s->buf, STREAM, MPI_BYTE, s->peer, 2, MPI_COMM_WORLD, &st);
            MPI_Get_count(&st, MPI_BYTE, &m);
            if (m <= 0)
                die(EXIT_IO, "rank %d's documents ended early", s->peer);
            s->n = (size_t)m;
            s->at = 0;
            s->bytes += s->n;
        }
        size_t m = s->n - s->at < n ? s->n - s->at : n;
        memcpy(q, s->buf + s->at, m);
        s->at += m;
        q += m;
        n -= m;
    }
    return ND_OK;
}

/* ------------------------------------------- the shared candidates */

/*
 * Candidates, verification and the clusters' input, shared (jobint.h).
 * Band by band, each rank computes the keys of its documents and sends
 * each (key, document) to the rank that owns the key (its top bits:
 * key * nranks >> 32), in document order; the owner receives them in
 * rank order, which is document order, sorts them by key (stably) and
 * pairs the runs of equal keys as one process does (nd__lsh_pair_runs):
 * the same runs, in the same order, so the same pairs.  Each rank sends
 * its pairs (a < b) to the rank that owns document a, which keeps them
 * sorted and unique: every rank holds the candidates of its documents,
 * the distinct pairs of one process.  It fetches the state of each
 * distinct b it lacks from b's owner (a request, then the answers as
 * nd__batch_doc_get records with their exact sets) and verifies its pairs
 * as one process does.  The components are then clustered where they
 * are owned (shared_clusters); pairs keep their verified pairs, in pair
 * order, for the rows.
 */

/* The first document of each rank, and the total, at [nranks]. */
static uint64_t *starts;
/* Bytes this rank sent to the others (--stats): band keys, pairs, the
   requests and answers of the states fetched, and (pairs) of the ids
   fetched for the rows. */
static uint64_t sent_keys, sent_pairs, sent_fetch, sent_ids;
/* Rank 0: the same summed over the ranks, the states fetched, the label
   rounds' bytes, the components' and the cluster numbers back; and
   (pairs) the documents whose ids were fetched. */
static uint64_t all_sent[8], all_ids[2];

static int owner_of(uint64_t doc)
{
    int lo = 0, hi = nranks - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (starts[mid] <= doc)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die(EXIT_IO, "out of memory for %zu bytes", n);
    return p;
}

/*
 * Send bytes[r] bytes of buf (in rank order) to each rank r, and receive
 * what each sends this one, in rank order, into *out (malloc'ed) of *got
 * bytes; from[r] (if not NULL) the bytes from rank r.  *sent counts the
 * bytes to the other ranks.
 */
static void exchange(const void *buf, const uint64_t *bytes, void **out, uint64_t *got,
                     uint64_t *from, uint64_t *sent)
{
    uint64_t *in = xmalloc(sizeof *in * (size_t)nranks);
    int *sc = xmalloc(sizeof *sc * (size_t)nranks * 4), *sd = sc + nranks,
        *rc = sc + 2 * nranks, *rd = sc + 3 * nranks;
    MPI_Alltoall(bytes, 1, MPI_UINT64_T, in, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    uint64_t so = 0, ro = 0;
    for (int r = 0; r < nranks; r++) {
        if (so > INT_MAX || ro > INT_MAX || bytes[r] > INT_MAX - so ||
            in[r] > INT_MAX - ro)
            die(EXIT_IO, "over %d bytes in one exchange: use more ranks", INT_MAX);
        sc[r] = (int)bytes[r];
        sd[r] = (int)so;
        rc[r] = (int)in[r];
        rd[r] = (int)ro;
        so += bytes[r];
        ro += in[r];
        if (r != rank)
            *sent += bytes[r];
        if (from)
            from[r] = in[r];
    }
    *out = xmalloc((size_t)ro);
    if (MPI_Alltoallv(buf, sc, sd, MPI_BYTE, *out, rc, rd, MPI_BYTE, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
        die(EXIT_IO, "an exchange among the ranks failed");
    *got = ro;
    free(in);
    free(sc);
}

/* Sort v[0..n) and drop repeats; the new length. */
static size_t sort_unique(uint64_t *v, size_t n)
{
    uint64_t *tmp = xmalloc(sizeof *tmp * n);
    nd__sort_u64(v, tmp, n);
    free(tmp);
    return nd__unique_u64(v, n);
}

/*
 * Pairs kept sorted and unique as they come.  Under --memory (lim > 0
 * values) a set over half its limit after sorting goes to a temporary
 * file as a sorted run (spill.c), and the set is read back as the merge
 * of its runs: the same pairs, in the same order, from bounded buffers.
 */
typedef struct {
    uint64_t *v;
    size_t n, cap, kept, lim, at;
    nd__spill *spill;
    nd__merge *merge;
    uint64_t *blk;
} pairset;

static void pairs_fail(int rc, const char *err)
{
    die(EXIT_IO, "%s", rc == ND_ERR_NOMEM ? "out of memory for the candidates" : err);
}

/* Fold the pairs added since the last fold in; spill a full set. */
static void pairs_fold(pairset *p)
{
    p->kept = p->n = sort_unique(p->v, p->n);
    if (p->lim && p->n > p->lim / 2) {
        char err[300];
        int rc = p->spill ? ND_OK
                          : nd__spill_open(opts->params.tmpdir, &p->spill, err, sizeof err);
        if (rc == ND_OK)
            rc = nd__spill_put(p->spill, p->v, p->n, err, sizeof err);
        if (rc != ND_OK)
            pairs_fail(rc, err);
        p->kept = p->n = 0;
    }
}

/* After pairs were appended to p->v: fold when they rival the kept ones
   (amortised linear), or fill the limit. */
static void pairs_check(pairset *p)
{
    const size_t fresh = p->n - p->kept;
    if (p->lim ? p->n >= p->lim : fresh >= (p->kept > (1u << 20) ? p->kept : (1u << 20)))
        pairs_fold(p);
}

static void pairs_add(pairset *p, const uint64_t *x, size_t m)
{
    if (p->n + m > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (cap < p->n + m)
            cap *= 2;
        uint64_t *v = realloc(p->v, sizeof *v * cap);
        if (!v)
            pairs_fail(ND_ERR_NOMEM, NULL);
        p->v = v;
        p->cap = cap;
    }
    if (m)
        memcpy(p->v + p->n, x, m * sizeof *x);
    p->n += m;
    pairs_check(p);
}

/* No more pairs: ready to be read in order. */
static void pairs_done(pairset *p)
{
    pairs_fold(p);
    if (!p->spill)
        return;
    char err[300];
    int rc = nd__spill_put(p->spill, p->v, p->n, err, sizeof err);
    free(p->v);
    p->v = NULL;
    p->n = p->cap = p->kept = 0;
    if (rc == ND_OK)
        rc = nd__merge_open(p->spill, (size_t)(opts->params.memory / 4), &p->merge, err,
                            sizeof err);
    if (rc == ND_OK && !(p->blk = malloc(sizeof *p->blk * p->lim)))
        rc = ND_ERR_NOMEM;
    if (rc != ND_OK)
        pairs_fail(rc, err);
}

/* The next pairs in order, at most max (0: all): *m of them at the
   pointer returned, valid until the next call; *m 0 at the end. */
static const uint64_t *pairs_next(pairset *p, size_t max, size_t *m)
{
    if (!p->merge) {
        size_t k = p->n - p->at;
        if (max && k > max)
            k = max;
        const uint64_t *v = p->v ? p->v + p->at : NULL;
        p->at += k;
        *m = k;
        return v;
    }
    char err[300];
    int rc = nd__merge_read(p->merge, p->blk, max && max < p->lim ? max : p->lim, m, err,
                            sizeof err);
    if (rc != ND_OK)
        pairs_fail(rc, err);
    return p->blk;
}

static void pairs_free(pairset *p)
{
    nd__merge_close(p->merge);
    nd__spill_close(p->spill);
    free(p->blk);
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* The candidates of every band, each sent to the rank that owns its
   first document: this rank's candidates, sorted and unique, into
   *got_pairs, and the distinct second documents of them held elsewhere
   (sorted) into *wantp (*nwant). */
static void band_pairs(const nd_batch *b, uint64_t *capped, uint64_t *shorts, pairset *got_pairs,
                       uint64_t **wantp, size_t *nwant)
{
    const size_t n = nd_batch_size(b);
    const uint64_t first = starts[rank];
    unsigned main;
    const unsigned nb = nd__batch_bands(b, &main);
    uint8_t *skip = xmalloc(n);
    for (size_t d = 0; d < n; d++) {
        int s = nd__batch_skipped(b, d);
        skip[d] = s != 0;
        *shorts += s == 2;
    }
    uint32_t *key = xmalloc(sizeof *key * n);
    uint64_t *bytes = xmalloc(sizeof *bytes * (size_t)nranks);
    uint64_t *at = xmalloc(sizeof *at * (size_t)nranks);
    uint64_t *send = xmalloc(sizeof *send * 2 * n);
    /* Values a set holds under --memory: 8 bytes each and as many of
       sort scratch, a quarter of the limit for each of the two. */
    const size_t lim = opts->params.memory
                           ? (size_t)(opts->params.memory / 64 > 4096 ? opts->params.memory / 64
                                                                       : 4096)
                           : 0;
    pairset mine = {0};
    mine.lim = lim;
    for (unsigned band = 0; band < nb; band++) {
        /* (key << 32 | document), and the set size in a containment band. */
        const size_t w = band < main ? 1 : 2;
        memset(bytes, 0, sizeof *bytes * (size_t)nranks);
        nd__batch_band_keys(b, band, n, key);
        for (size_t d = 0; d < n; d++)
            if (!skip[d])
                bytes[((uint64_t)key[d] * (uint64_t)nranks) >> 32] += w * sizeof *send;
        for (uint64_t r = 0, o = 0; r < (uint64_t)nranks; r++) {
            at[r] = o;
            o += bytes[r] / sizeof *send;
        }
        for (size_t d = 0; d < n; d++) {
            if (skip[d])
                continue;
            uint64_t *p = send + at[((uint64_t)key[d] * (uint64_t)nranks) >> 32];
            p[0] = (uint64_t)key[d] << 32 | (first + d);
            if (w == 2)
                p[1] = nd__batch_set_size(b, d);
            at[((uint64_t)key[d] * (uint64_t)nranks) >> 32] += w;
        }
        void *in;
        uint64_t got;
        exchange(send, bytes, &in, &got, NULL, &sent_keys);
        const uint64_t *rec = in;
        const size_t m = (size_t)(got / sizeof *send / w);
        /* Runs by key, members by their rank-order place, which is
           document order; pairs of places, then of documents. */
        uint64_t *kv = xmalloc(sizeof *kv * m), *tmp = xmalloc(sizeof *tmp * m);
        uint32_t *doc = xmalloc(sizeof *doc * m), *size = w == 2 ? xmalloc(sizeof *size * m)
                                                                  : NULL;
        for (size_t i = 0; i < m; i++) {
            kv[i] = (rec[i * w] >> 32) << 32 | i;
            doc[i] = (uint32_t)rec[i * w];
            if (size)
                size[i] = (uint32_t)rec[i * w + 1];
        }
        free(in);
        nd__sort_u64_hi32(kv, tmp, m);
        free(tmp);
        const size_t before = mine.n;
        if (nd__lsh_pair_runs(kv, m, size, &mine.v, &mine.n, &mine.cap, capped) != ND_OK)
            die(EXIT_IO, "out of memory for the candidates");
        for (size_t i = before; i < mine.n; i++)
            mine.v[i] = (uint64_t)doc[mine.v[i] >> 32] << 32 | doc[(uint32_t)mine.v[i]];
        free(kv);
        free(doc);
        free(size);
        /* Kept unique as they come: a pair of many bands is held once. */
        pairs_check(&mine);
    }
    free(skip);
    free(key);
    free(send);
    pairs_done(&mine);
    /* To the owners of the first documents (sorted, so by owner), in
       rounds of at most lim pairs from each rank under --memory. */
    const uint64_t end = starts[rank + 1];
    uint64_t *want = NULL;
    size_t nw = 0, wcap = 0, wkept = 0;
    got_pairs->lim = lim;
    for (;;) {
        size_t m;
        const uint64_t *v = pairs_next(&mine, lim, &m);
        memset(bytes, 0, sizeof *bytes * (size_t)nranks);
        for (size_t i = 0; i < m; i++)
            bytes[owner_of(v[i] >> 32)] += sizeof *v;
        void *in;
        uint64_t got;
        exchange(v, bytes, &in, &got, NULL, &sent_pairs);
        const uint64_t *p = in;
        const size_t k = (size_t)(got / sizeof *p);
        /* The second documents held elsewhere (b >= end, as a is here). */
        for (size_t i = 0; i < k; i++) {
            if ((uint32_t)p[i] < end)
                continue;
            if (nw == wcap) {
                wcap = wcap ? wcap * 2 : 4096;
                uint64_t *w = realloc(want, sizeof *w * wcap);
                if (!w)
                    die(EXIT_IO, "out of memory for the documents to fetch");
                want = w;
            }
            want[nw++] = (uint32_t)p[i];
            if (nw - wkept >= (wkept > 4096 ? wkept : 4096))
                wkept = nw = sort_unique(want, nw);
        }
        pairs_add(got_pairs, p, k);
        free(in);
        int more = m > 0, any = 0;
        MPI_Allreduce(&more, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (!any)
            break;
    }
    pairs_free(&mine);
    pairs_done(got_pairs);
    free(bytes);
    free(at);
    *nwant = sort_unique(want, nw);
    *wantp = want;
}

/* The state of document d of b (nd__batch_doc_get) and its exact set
   (length, elements) at p, or only its bytes when p is NULL. */
static size_t state_put(const nd_batch *b, size_t d, unsigned char *p)
{
    const size_t w = nd__batch_doc_bytes(b);
    size_t m;
    const uint64_t *set = nd__batch_doc_set(b, d, &m);
    const size_t exact = opts->params.exact ? sizeof(uint64_t) + m * sizeof *set : 0;
    if (p) {
        nd__batch_doc_get(b, d, p);
        if (exact) {
            uint64_t len = m;
            memcpy(p + w, &len, sizeof len);
            if (m)
                memcpy(p + w + sizeof len, set, m * sizeof *set);
        }
    }
    return w + exact;
}

/* Put a state of state_put into document d of b; what follows it. */
static const unsigned char *state_take(nd_batch *b, size_t d, const unsigned char *p)
{
    const size_t w = nd__batch_doc_bytes(b);
    nd__batch_doc_put(b, d, p);
    p += w;
    if (opts->params.exact) {
        uint64_t len;
        memcpy(&len, p, sizeof len);
        p += sizeof len;
        uint64_t *set = xmalloc(sizeof *set * (size_t)len);
        if (len)
            memcpy(set, p, (size_t)len * sizeof *set);
        if (nd__batch_doc_set_put(b, d, set, (size_t)len) != ND_OK)
            die(EXIT_IO, "out of memory");
        free(set);
        p += len * sizeof *set;
    }
    return p;
}

/* ------------------------------------- the clusters, by connected component */

/*
 * cluster and dedup: every clustering method decides inside one connected
 * component of the graph of the verified pairs (src/cluster/): the
 * union-find of the components method joins the two ends of a pair; the
 * guard (guard.c) joins the clusters of the two ends of an edge when
 * their centers match, each center a member of one of them, its degree
 * summed over its own edges; attach (attach.c) makes cores of the edges,
 * asks holds() of a core's first members (in document order) and a text
 * of a linked core, and joins two cores an edge links; the keep policy
 * (represent.c) compares the members of one cluster.  Attach also reads
 * the partial pairs, as the texts a container holds: holds_other(), for
 * a container and a text of an edge, reads each other text it holds,
 * whose core counts only when it is the text's core or linked to it (by
 * an edge, so in the component), and whose state share() reads.  So a
 * partial pair's partner outside the component is read, never joined:
 * it goes along with the component (its state and the partial pair) as
 * a guest, its own clusters made elsewhere.  Every order these follow
 * (edges sorted by their scores, then documents; roots, which are the
 * smallest members; first members; held texts) is one of document
 * numbers, which a numbering in ascending global order keeps.  So each
 * component is clustered alone, as one process clusters it among all
 * the others:
 *
 *  1. components of the edges: labels, each document's smallest known
 *     fellow member, min-propagated in rounds until an Allreduce says
 *     none changed; within a rank a union-find over its edges joins at
 *     once what they link (the pairs of a document are on its owner), an
 *     owner spreads what it receives through its own edges in the same
 *     round, and each rank follows its documents' labels to the labels
 *     those hold (shortcutting);
 *  2. each component with two members or more goes to one rank
 *     (comp_rank, a hash of its label): its edges and the partial pairs
 *     of its members from the ranks that verified them, the state of each
 *     member and guest once, from the rank owning it; that rank numbers
 *     its components' documents in ascending global order in a batch of
 *     its own (nd__batch_sibling) and runs it, the clustering of one
 *     process (batch.c's cluster());
 *  3. each member's owner learns the global number of its cluster's first
 *     member and whether it represents it; clusters are numbered by first
 *     member over the ranks (MPI_Exscan of the first members each rank
 *     owns), a document learning its first member's number from that
 *     member's owner.
 *
 * No rank holds more than its documents, its pairs and the components it
 * clusters.
 */

/* This rank's documents' rows: their clusters' numbers and the
   representatives' flags. */
static nd__doc_row *my_rows;
static size_t my_nrows;
/* Bytes this rank sent for the clusters (--stats): label rounds, pairs
   and states to the components' owners, first members and cluster
   numbers back; the rounds. */
static uint64_t sent_labels, sent_comp, sent_back, label_rounds;
/* Rank 0: the components, the documents in them, and the most documents
   one rank clustered (with the partners of partial pairs). */
static uint64_t comp_count, comp_docs_all, comp_docs_max;

/* Bytes to each rank of n values (8 bytes each) of sorted documents v, each
   to its owner. */
static void bytes_by_owner(const uint64_t *v, size_t n, uint64_t *bytes)
{
    memset(bytes, 0, sizeof *bytes * (size_t)nranks);
    for (size_t i = 0; i < n; i++)
        bytes[owner_of(v[i])] += sizeof *v;
}

/* Labels within the rank: each set of root (the components of its pairs)
   takes its least label, then each of its n documents whose label is
   another of its documents takes that one's (shortcutting: a smaller
   document, whose label is settled first).  1 when a label changed. */
static int settle(uint64_t *lab, uint64_t *low, const uint32_t *root, size_t nodes, size_t n,
                  uint64_t first)
{
    int changed = 0;
    for (size_t x = 0; x < nodes; x++)
        low[x] = UINT64_MAX;
    for (size_t x = 0; x < nodes; x++)
        if (lab[x] < low[root[x]])
            low[root[x]] = lab[x];
    for (size_t x = 0; x < nodes; x++)
        if (low[root[x]] < lab[x]) {
            lab[x] = low[root[x]];
            changed = 1;
        }
    for (size_t i = 0; i < n; i++)
        if (lab[i] >= first && lab[i] < first + i && lab[lab[i] - first] < lab[i]) {
            lab[i] = lab[lab[i] - first];
            changed = 1;
        }
    return changed;
}

/*
 * The components of the verified pairs (edges) and each document's label
 * in them, the smallest document of its component.  For this rank's n
 * documents then the documents of other ranks its edges and partial
 * pairs name (rem, sorted): lab[] (a document in no edge is its own
 * label) and in_edge[], 1 for a document in an edge of any rank.
 */
typedef struct {
    size_t n, nr;
    uint64_t *rem, *lab;
    uint8_t *in_edge;
} comps;

static size_t comp_node(const comps *c, uint64_t d)
{
    const uint64_t first = starts[rank];
    return d >= first && d < first + c->n ? (size_t)(d - first)
                                          : c->n + nd__lower_u64(c->rem, c->nr, d);
}

static void components(size_t n, const nd_edge *edges, size_t ne, const nd_edge *part,
                       size_t npart, comps *c)
{
    const uint64_t first = starts[rank], end = starts[rank + 1];
    /* The documents of other ranks the pairs name (all second ones), and
       whether an edge names them (bit 0). */
    uint64_t *rem = xmalloc(sizeof *rem * (ne + npart));
    size_t nr = 0;
    for (size_t i = 0; i < ne; i++)
        if (edges[i].b >= end)
            rem[nr++] = (uint64_t)edges[i].b << 1 | 1;
    for (size_t i = 0; i < npart; i++)
        if (part[i].b >= end)
            rem[nr++] = (uint64_t)part[i].b << 1;
    nr = nr ? sort_unique(rem, nr) : 0;
    /* One entry a document, flagged when an edge names it. */
    size_t u = 0;
    for (size_t i = 0; i < nr; i++) {
        if (u && rem[u - 1] >> 1 == rem[i] >> 1)
            rem[u - 1] |= rem[i] & 1;
        else
            rem[u++] = rem[i];
    }
    nr = u;
    /* Nodes: this rank's documents, then rem: in global order. */
    const size_t nodes = n + nr;
    if (nodes >= UINT32_MAX)
        die(EXIT_IO, "over %u documents in the pairs of one rank: use more ranks",
            UINT32_MAX);
    uint64_t *lab = xmalloc(sizeof *lab * nodes), *low = xmalloc(sizeof *low * nodes);
    uint8_t *in_edge = xmalloc(nodes);
    memset(in_edge, 0, nodes);
    for (size_t i = 0; i < n; i++)
        lab[i] = first + i;
    for (size_t j = 0; j < nr; j++)
        lab[n + j] = rem[j] >> 1;
    nd__uf uf;
    if (nd__uf_init(&uf, nodes) != ND_OK)
        die(EXIT_IO, "out of memory for the components of %zu documents", nodes);
    for (size_t i = 0; i < ne; i++) {
        const size_t x = (size_t)(edges[i].a - first);
        const size_t y = edges[i].b < end ? (size_t)(edges[i].b - first)
                                          : n + nd__lower_u64(lab + n, nr, edges[i].b);
        nd__uf_union(&uf, (uint32_t)x, (uint32_t)y);
        in_edge[x] = in_edge[y] = 1;
    }
    uint32_t *root = xmalloc(sizeof *root * nodes);
    for (size_t x = 0; x < nodes; x++)
        root[x] = nd__uf_find(&uf, (uint32_t)x);
    nd__uf_free(&uf);
    /* Each owner learns which of its documents each rank holds (asks, in
       rank order, each rank's sorted) and which are in an edge there. */
    uint64_t *rbytes = xmalloc(sizeof *rbytes * (size_t)nranks);
    uint64_t *abytes = xmalloc(sizeof *abytes * (size_t)nranks);
    memset(rbytes, 0, sizeof *rbytes * (size_t)nranks);
    for (size_t j = 0; j < nr; j++)
        rbytes[owner_of(rem[j] >> 1)] += sizeof *rem;
    void *in;
    uint64_t got;
    exchange(rem, rbytes, &in, &got, abytes, &sent_labels);
    uint64_t *ask = in;
    const size_t nask = (size_t)(got / sizeof *ask);
    for (size_t k = 0; k < nask; k++) {
        in_edge[(ask[k] >> 1) - first] |= ask[k] & 1;
        ask[k] >>= 1;
    }
    for (size_t j = 0; j < nr; j++)
        rem[j] >>= 1;
    uint64_t *val = xmalloc(sizeof *val * (nr > nask ? nr : nask));
    for (;;) {
        /* Within the rank: each component of its edges takes its least
           label; the labels of others' documents go to their owners, who
           keep the least and spread it through their own edges at once. */
        int changed = settle(lab, low, root, nodes, n, first);
        for (size_t j = 0; j < nr; j++)
            val[j] = lab[n + j];
        exchange(val, rbytes, &in, &got, NULL, &sent_labels);
        const uint64_t *v = in;
        for (size_t k = 0; k < nask; k++)
            if (v[k] < lab[ask[k] - first]) {
                lab[ask[k] - first] = v[k];
                changed = 1;
            }
        free(in);
        changed |= settle(lab, low, root, nodes, n, first);
        /* The owners' labels back to the ranks that hold their documents. */
        for (size_t k = 0; k < nask; k++)
            val[k] = lab[ask[k] - first];
        exchange(val, abytes, &in, &got, NULL, &sent_labels);
        v = in;
        for (size_t j = 0; j < nr; j++)
            if (v[j] < lab[n + j]) {
                lab[n + j] = v[j];
                changed = 1;
            }
        free(in);
        label_rounds++;
        int any = 0;
        MPI_Allreduce(&changed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (!any)
            break;
    }
    /* Settled: every rank holds its owner's label of the others'
       documents.  Whether an edge of any rank names them. */
    for (size_t k = 0; k < nask; k++)
        val[k] = in_edge[ask[k] - first];
    exchange(val, abytes, &in, &got, NULL, &sent_labels);
    const uint64_t *v = in;
    for (size_t j = 0; j < nr; j++)
        in_edge[n + j] = (uint8_t)v[j];
    free(in);
    free(val);
    free(ask);
    free(rbytes);
    free(abytes);
    free(root);
    free(low);
    *c = (comps){n, nr, rem, lab, in_edge};
}

static void comps_free(comps *c)
{
    free(c->rem);
    free(c->lab);
    free(c->in_edge);
}

/*
 * The rank that clusters the component labelled l (its smallest
 * document): a hash of l, not l's owner.  Copies of a story are spread
 * through an input in arrival order, so the smallest member of most
 * components falls early: by owner, the first ranks would cluster nearly
 * all (9,975 of 10,000 documents on one of 3 ranks, a web corpus).
 */
static int comp_rank(uint64_t l)
{
    return (int)(((l * 0x9e3779b97f4a7c15ull) >> 32) * (uint64_t)nranks >> 32);
}

/* The rank clustering the component of document d (-1: d is in no edge). */
static int comp_owner(const comps *c, uint64_t d)
{
    const size_t x = comp_node(c, d);
    return c->in_edge[x] ? comp_rank(c->lab[x]) : -1;
}

/* Edges (part 0) to the ranks clustering their components; partial
   pairs (part 1) to those of the components of each end in an edge (once
   when both are one).  In pair order; v is freed once copied out, and
   those this rank receives go into *out (*got). */
static void pairs_to_owners(const comps *c, nd_edge *v, size_t m, int part, nd_edge **out,
                            size_t *got)
{
    uint64_t *bytes = xmalloc(sizeof *bytes * (size_t)nranks);
    uint64_t *at = xmalloc(sizeof *at * (size_t)nranks);
    memset(bytes, 0, sizeof *bytes * (size_t)nranks);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m; i++) {
            int d[2] = {comp_owner(c, v[i].a), part ? comp_owner(c, v[i].b) : -1};
            if (d[1] == d[0])
                d[1] = -1;
            for (int k = 0; k < 2; k++)
                if (d[k] >= 0) {
                    if (pass == 0)
                        bytes[d[k]] += sizeof *v;
                    else
                        (*out)[at[d[k]]++] = v[i];
                }
        }
        if (pass == 0) {
            uint64_t o = 0;
            for (int r = 0; r < nranks; r++) {
                at[r] = o;
                o += bytes[r] / sizeof *v;
            }
            *out = xmalloc((size_t)o * sizeof *v);
        }
    }
    free(v);
    void *in;
    uint64_t n;
    exchange(*out, bytes, &in, &n, NULL, &sent_comp);
    free(*out);
    free(bytes);
    free(at);
    *out = in;
    *got = (size_t)(n / sizeof **out);
}

/* Sort v[0..n) and drop repeats; the new length (n may be 0). */
static size_t sort_unique0(uint64_t *v, size_t n)
{
    return n ? sort_unique(v, n) : 0;
}

/*
 * Every rank: cluster the components it owns and number the clusters
 * (above), its documents the first n of b; my_rows gets their rows.
 * edges and part are freed.  s[0..5) gets (summed over the ranks at rank 0) the edges, the clusters,
 * the pairs or joins the method refused, the components and the
 * documents in them.
 */
static void shared_clusters(const nd_batch *b, size_t n, nd_edge *edges, size_t ne,
                            nd_edge *part, size_t npart, uint64_t *s)
{
    const uint64_t first = starts[rank];
    comps c;
    components(n, edges, ne, part, npart, &c);

    nd_edge *E, *P;
    size_t ke, kp;
    pairs_to_owners(&c, edges, ne, 0, &E, &ke);
    /*
     * The states the components' owners read (dest << 32 | document): a
     * document in an edge, at the owner of its component; the partner of
     * a partial pair, at the owner of the component of the other end
     * (attach reads it as a text its container holds, and is no member).
     * Asked of the documents' owners, which send each state once a rank.
     */
    uint64_t *bytes = xmalloc(sizeof *bytes * (size_t)nranks);
    uint64_t *from = xmalloc(sizeof *from * (size_t)nranks);
    uint64_t *req = xmalloc(sizeof *req * (2 * npart + 1));
    size_t nq = 0;
    for (size_t i = 0; i < npart; i++) {
        const int da = comp_owner(&c, part[i].a), db = comp_owner(&c, part[i].b);
        if (da >= 0)
            req[nq++] = (uint64_t)part[i].b << 32 | (uint64_t)da;
        if (db >= 0)
            req[nq++] = (uint64_t)part[i].a << 32 | (uint64_t)db;
    }
    pairs_to_owners(&c, part, npart, 1, &P, &kp);
    /* By the document's owner (document order), as (dest << 32 | doc). */
    nq = sort_unique0(req, nq);
    memset(bytes, 0, sizeof *bytes * (size_t)nranks);
    for (size_t i = 0; i < nq; i++) {
        bytes[owner_of(req[i] >> 32)] += sizeof *req;
        req[i] = (req[i] & 0xffffffffu) << 32 | req[i] >> 32;
    }
    void *in;
    uint64_t got;
    exchange(req, bytes, &in, &got, NULL, &sent_comp);
    free(req);
    uint64_t *asked = in;
    size_t na = (size_t)(got / sizeof *asked), nl = na, nmem = 0;
    uint64_t *L = xmalloc(sizeof *L * (na + n + 1));
    memcpy(L, asked, na * sizeof *L);
    free(asked);
    for (size_t i = 0; i < n; i++)
        if (c.in_edge[i]) {
            L[nl++] = (uint64_t)comp_rank(c.lab[i]) << 32 | (first + i);
            nmem++;
        }
    nl = sort_unique0(L, nl);
    /* Numbers, then states, by dest (ascending documents within each). */
    uint64_t *ids = xmalloc(sizeof *ids * (nl + 1));
    memset(bytes, 0, sizeof *bytes * (size_t)nranks);
    for (size_t j = 0; j < nl; j++) {
        ids[j] = L[j] & 0xffffffffu;
        bytes[L[j] >> 32] += sizeof *ids;
    }
    exchange(ids, bytes, &in, &got, from, &sent_comp);
    free(ids);
    const uint64_t *docs = in;
    const size_t k = (size_t)(got / sizeof *docs);
    memset(bytes, 0, sizeof *bytes * (size_t)nranks);
    size_t sbytes = 0;
    for (size_t j = 0; j < nl; j++)
        sbytes += state_put(b, (size_t)((L[j] & 0xffffffffu) - first), NULL);
    unsigned char *st = xmalloc(sbytes), *p = st;
    for (size_t j = 0; j < nl; j++) {
        const size_t w = state_put(b, (size_t)((L[j] & 0xffffffffu) - first), p);
        p += w;
        bytes[L[j] >> 32] += w;
    }
    void *sin;
    exchange(st, bytes, &sin, &got, NULL, &sent_comp);
    free(st);

    /* The components owned here, with the partners their partial pairs
       name: documents in ascending global order. */
    nd_batch *lb;
    if (nd__batch_sibling(b, &lb) != ND_OK || nd__batch_grow_to(lb, k) != ND_OK)
        die(EXIT_IO, "out of memory for the components of %zu documents", k);
    const unsigned char *q = sin;
    for (size_t i = 0; i < k; i++)
        q = state_take(lb, i, q);
    free(sin);
    uint8_t *member = xmalloc(k + 1);
    memset(member, 0, k + 1);
    for (size_t i = 0; i < ke; i++) {
        E[i].a = (uint32_t)nd__lower_u64(docs, k, E[i].a);
        E[i].b = (uint32_t)nd__lower_u64(docs, k, E[i].b);
        member[E[i].a] = member[E[i].b] = 1;
    }
    for (size_t i = 0; i < kp; i++) {
        P[i].a = (uint32_t)nd__lower_u64(docs, k, P[i].a);
        P[i].b = (uint32_t)nd__lower_u64(docs, k, P[i].b);
    }
    nd__batch_given lg = {0};
    lg.edges = E;
    lg.nedges = ke;
    lg.part = P;
    lg.npart = kp;
    nd__batch_give(lb, &lg);
    if (nd_batch_run(lb) != ND_OK)
        die(EXIT_IO, "clustering %zu documents: %s", k, nd_batch_errmsg(lb));
    nd_batch_stats lst;
    nd_batch_stats_get(lb, &lst);
    /* Each member: its cluster's first member << 1 | it represents it,
       back to its owner (in the order it sent them). */
    uint32_t *firstof = xmalloc(sizeof *firstof * (size_t)(lst.clusters + 1));
    for (uint64_t cl = 0; cl < lst.clusters; cl++)
        firstof[cl] = UINT32_MAX;
    uint64_t *ans = xmalloc(sizeof *ans * (k + 1));
    size_t na2 = 0, ncomp = 0, nmembers = 0;
    for (int r = 0, i = 0; r < nranks; r++) {
        const size_t cnt = (size_t)(from[r] / sizeof *docs);
        bytes[r] = 0;
        for (size_t t = 0; t < cnt; t++, i++) {
            const uint32_t cl = nd_batch_cluster(lb, (size_t)i);
            if (firstof[cl] == UINT32_MAX)
                firstof[cl] = (uint32_t)i;
            if (!member[i])
                continue;
            ans[na2++] = docs[firstof[cl]] << 1 | (nd_batch_rep(lb, (size_t)i) == (size_t)i);
            bytes[r] += sizeof *ans;
            nmembers++;
        }
    }
    nd_batch_free(lb);
    free(firstof);
    free(member);
    free(in);
    exchange(ans, bytes, &in, &got, NULL, &sent_back);
    free(ans);
    if (got / sizeof(uint64_t) != nmem)
        die(EXIT_IO, "%zu clusters came back for %zu documents in components",
            (size_t)(got / sizeof(uint64_t)), nmem);
    uint64_t *fm = xmalloc(sizeof *fm * (n + 1));
    for (size_t i = 0; i < n; i++)
        fm[i] = (first + i) << 1 | 1;
    const uint64_t *back = in;
    for (size_t j = 0, t = 0; j < nl; j++) {
        const uint64_t d = L[j] & 0xffffffffu;
        if (d >= first && d < first + n && c.in_edge[d - first] &&
            (L[j] >> 32) == (uint64_t)comp_rank(c.lab[d - first]))
            fm[d - first] = back[t++];
    }
    free(in);
    free(L);
    for (size_t i = 0; i < n; i++)
        ncomp += c.in_edge[i] && c.lab[i] == first + i;
    comps_free(&c);

    /* Clusters numbered by first member: those of the ranks before, then
       this rank's in order. */
    uint64_t nfirst = 0, before = 0, total = 0;
    for (size_t i = 0; i < n; i++)
        nfirst += fm[i] >> 1 == first + i;
    MPI_Exscan(&nfirst, &before, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        before = 0;
    MPI_Allreduce(&nfirst, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (total > UINT32_MAX)
        die(EXIT_IO, "over %u clusters", UINT32_MAX);
    my_nrows = n;
    my_rows = xmalloc(sizeof *my_rows * (n + 1));
    uint64_t *want = xmalloc(sizeof *want * (n + 1));
    size_t nw = 0;
    for (size_t i = 0, next = (size_t)before; i < n; i++) {
        const uint64_t f = fm[i] >> 1;
        my_rows[i].flags = fm[i] & 1 ? ND__ROW_REP : 0;
        if (f == first + i)
            my_rows[i].cluster = (uint32_t)next++;
        else if (f >= first)
            my_rows[i].cluster = my_rows[f - first].cluster;
        else
            want[nw++] = f;
    }
    /* First members of other ranks: their numbers from their owners. */
    nw = sort_unique0(want, nw);
    bytes_by_owner(want, nw, bytes);
    exchange(want, bytes, &in, &got, from, &sent_back);
    uint64_t *nums = in;
    for (size_t j = 0; j < (size_t)(got / sizeof *nums); j++)
        nums[j] = my_rows[nums[j] - first].cluster;
    exchange(nums, from, &in, &got, NULL, &sent_back);
    free(nums);
    nums = in;
    for (size_t i = 0; i < n; i++) {
        const uint64_t f = fm[i] >> 1;
        if (f < first)
            my_rows[i].cluster = (uint32_t)nums[nd__lower_u64(want, nw, f)];
    }
    free(in);
    free(want);
    free(fm);
    free(bytes);
    free(from);

    uint64_t mine[5] = {ne, 0, lst.guard_rejected, ncomp, nmembers}, docs_here = k;
    MPI_Reduce(mine, s, 5, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    s[1] = total;
    MPI_Reduce(&docs_here, &comp_docs_max, 1, MPI_UINT64_T, MPI_MAX, 0, MPI_COMM_WORLD);
}

/* Pairs verified at a time: bounded buffers (17 bytes a pair). */
#define VERIFY_BLOCK (1u << 18)

/* The counters of candidates and verification, summed at rank 0. */
enum { M_CANDS, M_CAPPED, M_FIGS, M_WINDOW, M_SHORT, M_LEN };

/* pairs: this rank's verified pairs, in pair order, for its rows. */
static nd_edge *pair_edges;
static size_t pair_ne;

/* Every rank: the candidates and verification of its documents, and the
   clusters (shared_clusters); rank 0 gives b (g) the summed counters. */
static void match(nd_batch *b, nd__batch_given *g)
{
    const double t0 = MPI_Wtime();
    const size_t n = nd_batch_size(b);
    starts = xmalloc(sizeof *starts * ((size_t)nranks + 1));
    uint64_t mine = n;
    MPI_Allgather(&mine, 1, MPI_UINT64_T, starts, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    uint64_t sum = 0;
    for (int r = 0; r <= nranks; r++) {
        uint64_t c = r < nranks ? starts[r] : 0;
        starts[r] = sum;
        sum += c;
    }
    const uint64_t first = starts[rank], end = starts[rank + 1];
    uint64_t h[M_LEN] = {0};
    pairset cands = {0};
    uint64_t *want;
    size_t nf;
    band_pairs(b, &h[M_CAPPED], &h[M_SHORT], &cands, &want, &nf);
    const double t1 = MPI_Wtime();

    uint64_t *bytes = xmalloc(sizeof *bytes * (size_t)nranks);
    uint64_t *from = xmalloc(sizeof *from * (size_t)nranks);
    memset(bytes, 0, sizeof *bytes * (size_t)nranks);
    for (size_t i = 0; i < nf; i++)
        bytes[owner_of(want[i])] += sizeof *want;
    void *in;
    uint64_t got;
    exchange(want, bytes, &in, &got, from, &sent_fetch);
    /* The answers: the states asked for, in the order asked. */
    const uint64_t *ask = in;
    const size_t nask = (size_t)(got / sizeof *ask);
    size_t abytes = 0;
    for (size_t i = 0; i < nask; i++)
        abytes += state_put(b, (size_t)(ask[i] - first), NULL);
    unsigned char *ans = xmalloc(abytes), *p = ans;
    memset(bytes, 0, sizeof *bytes * (size_t)nranks);
    for (int r = 0, i = 0; r < nranks; r++)
        for (uint64_t k = 0; k < from[r] / sizeof *ask; k++, i++) {
            size_t s = state_put(b, (size_t)(ask[i] - first), p);
            p += s;
            bytes[r] += s;
        }
    free(in);
    exchange(ans, bytes, &in, &got, NULL, &sent_fetch);
    free(ans);
    if (nd__batch_grow_to(b, n + nf) != ND_OK)
        die(EXIT_IO, "out of memory for the states of %zu documents", nf);
    const unsigned char *q = in;
    for (size_t i = 0; i < nf; i++)
        q = state_take(b, n + i, q);
    free(in);

    /* Verify in blocks, in pair order, the documents by their places in b. */
    nd_edge *edges = NULL, *part = NULL;
    size_t ne = 0, ecap = 0, npart = 0, partcap = 0;
    uint64_t *blk = xmalloc(sizeof *blk * VERIFY_BLOCK);
    nd_edge *e = xmalloc(sizeof *e * VERIFY_BLOCK);
    uint8_t *kind = xmalloc(VERIFY_BLOCK);
    for (;;) {
        size_t m;
        const uint64_t *pairs = pairs_next(&cands, VERIFY_BLOCK, &m);
        if (!m)
            break;
        h[M_CANDS] += m;
        for (size_t i = 0; i < m; i++) {
            uint64_t x = pairs[i] >> 32, y = (uint32_t)pairs[i];
            y = y < end ? y - first : n + nd__lower_u64(want, nf, y);
            blk[i] = (x - first) << 32 | y;
        }
        nd__batch_verify(b, blk, m, e, kind);
        for (size_t i = 0; i < m; i++) {
            const int k = kind[i] & ~ND__V_PART;
            h[M_FIGS] += k == ND__V_FIGURES;
            h[M_WINDOW] += k == ND__V_WINDOW;
            if (k != ND__V_MATCH && !(kind[i] & ND__V_PART))
                continue;
            nd_edge **v = k == ND__V_MATCH ? &edges : &part;
            size_t *c = k == ND__V_MATCH ? &ne : &npart, *cp = k == ND__V_MATCH ? &ecap : &partcap;
            if (*c == *cp) {
                *cp = *cp ? *cp * 2 : 4096;
                nd_edge *grown = realloc(*v, sizeof **v * *cp);
                if (!grown)
                    die(EXIT_IO, "out of memory for the verified pairs");
                *v = grown;
            }
            e[i].a = (uint32_t)(pairs[i] >> 32);
            e[i].b = (uint32_t)pairs[i];
            (*v)[(*c)++] = e[i];
        }
    }
    free(blk);
    free(e);
    free(kind);
    pairs_free(&cands);
    const double t2 = MPI_Wtime();

    /* Each component clustered on one rank; pairs keep their edges for
       the rows, which name no cluster, and cluster only for the
       counters. */
    free(want);
    uint64_t s[5] = {0}, hs[M_LEN] = {0};
    if (!by_owner) {
        pair_edges = edges;
        pair_ne = ne;
        if (clustering) {
            edges = xmalloc(sizeof *edges * (ne + 1));
            if (ne)
                memcpy(edges, pair_edges, sizeof *edges * ne);
        }
    }
    if (clustering) {
        shared_clusters(b, n, edges, ne, part, npart, s);
    } else {
        free(part);
        uint64_t e1 = ne;
        MPI_Reduce(&e1, &s[0], 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    }
    MPI_Reduce(h, hs, M_LEN, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    const double t3 = MPI_Wtime();
    if (rank == 0) {
        g->candidates = hs[M_CANDS];
        g->capped = hs[M_CAPPED];
        g->figures_refused = hs[M_FIGS];
        g->window_refused = hs[M_WINDOW];
        g->short_docs = hs[M_SHORT];
        g->clustered = 1;
        g->all_edges = s[0];
        g->clusters = s[1];
        g->guard_rejected = s[2];
        comp_count = s[3];
        comp_docs_all = s[4];
        g->seconds_lsh = t1 - t0;
        g->seconds_verify = t2 - t1;
        g->seconds_cluster = t3 - t2;
        nd__batch_give(b, g);
    }
    free(bytes);
    free(from);
    uint64_t sent[8] = {sent_keys, sent_pairs, sent_fetch, 0, nf,
                        sent_labels, sent_comp, sent_back};
    MPI_Reduce(sent, all_sent, 8, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
}

/* A rank other than 0: the shared candidates and verification (match),
   then its counters, its warnings and the rows' data of its job to rank
   0; then stop the batch (ND_ERR_STATE, handed_over set). */
static int gather_send(void *ctx, nd_batch *b, char *msg, size_t cap)
{
    nd_job *job = ctx;
    maybe_die("share");
    const size_t n = nd_batch_size(b);
    uint64_t h[H_LEN];
    nd_text_stats st;
    nd__batch_sketched_stats(b, &st);
    match(b, NULL);
    h[H_DOCS] = n;
    h[H_WARN] = nwarns;
    h[H_READ] = bytes_mine;
    pack_text(h + H_TEXT, &st);
    MPI_Send(h, H_LEN, MPI_UINT64_T, 0, 0, MPI_COMM_WORLD);
    send_bytes(warns, nwarns, 0);
    stream s = {malloc(STREAM), 0, 0, 0, 0};
    if (!s.buf)
        die(EXIT_IO, "out of memory");
    if (nd__job_export(job, 0, stream_put, &s) != ND_OK)
        die(EXIT_IO, "%s", nd_job_errmsg(job));
    if (s.n)
        MPI_Send(s.buf, (int)s.n, MPI_BYTE, 0, 2, MPI_COMM_WORLD);
    MPI_Send(s.buf, 0, MPI_BYTE, 0, 2, MPI_COMM_WORLD);
    free(s.buf);
    handed_over = 1;
    snprintf(msg, cap, "share handed over");
    return ND_ERR_STATE;
}

/* Bytes each rank read (--stats). */
static uint64_t *read_by;

/* Rank 0: append every other rank's documents to the batch and the job,
   in rank order, which is input order. */
static int gather_recv(void *ctx, nd_batch *b, char *msg, size_t cap)
{
    nd_job *job = ctx;
    (void)msg;
    (void)cap;
    maybe_die("share");
    static nd__batch_given given;
    const size_t n0 = nd_batch_size(b);
    match(b, &given);
    stream s = {malloc(STREAM), 0, 0, 0, 0};
    read_by = calloc((size_t)nranks, sizeof *read_by);
    docs_of = calloc((size_t)nranks, sizeof *docs_of);
    if (!s.buf || !read_by || !docs_of)
        die(EXIT_IO, "out of memory");
    read_by[0] = bytes_mine;
    docs_of[0] = n0;
    for (int r = 1; r < nranks; r++) {
        uint64_t h[H_LEN];
        MPI_Recv(h, H_LEN, MPI_UINT64_T, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        read_by[r] = h[H_READ];
        docs_of[r] = h[H_DOCS];
        if (starts[r + 1] - starts[r] != h[H_DOCS])
            die(EXIT_IO, "rank %d sent the counters of %llu documents, not %llu", r,
                (unsigned long long)h[H_DOCS],
                (unsigned long long)(starts[r + 1] - starts[r]));
        gathered_bytes += sizeof h;
        nd_text_stats st;
        unpack_text(&st, h + H_TEXT);
        nd__batch_add_stats(b, &st);
        unsigned char *wb = malloc((size_t)h[H_WARN] + 1);
        if (!wb)
            die(EXIT_IO, "out of memory");
        recv_bytes(wb, (size_t)h[H_WARN], r);
        replay_warnings(job, wb, (size_t)h[H_WARN]);
        free(wb);
        s.peer = r;
        s.n = s.at = 0;
        if (nd__job_import(job, 0, stream_get, &s) != ND_OK)
            die(EXIT_IO, "%s", nd_job_errmsg(job));
        int end;
        MPI_Status mst;
        MPI_Recv(s.buf, STREAM, MPI_BYTE, r, 2, MPI_COMM_WORLD, &mst);
        MPI_Get_count(&mst, MPI_BYTE, &end);
        if (s.at != s.n || end != 0)
            die(EXIT_IO, "rank %d sent more than its documents", r);
    }
    gathered_rows += s.bytes;
    free(s.buf);
    gathered_docs = starts[nranks];
    return ND_OK;
}

/* ------------------------------------------------------------ the rows */

/*
 * cluster and dedup: each rank knows the cluster and the representative
 * flag of its documents (shared_clusters); pairs: its verified pairs, and
 * it fetches what their rows print of their second documents
 * (spool_pairs).  Each formats its own rows, with the command's code,
 * into a spool.  With -o a regular
 * file (or none yet), rank 0 makes the temporary file beside it (shared
 * file system), each rank writes its bytes at its offset (MPI_Exscan of
 * the byte counts) with pwrite, and rank 0 renames it into place once
 * every rank has said it succeeded (MPI_Allreduce); else (stdout, a
 * device, a pipe) rank 0 writes the ranks' bytes in rank order.
 */

static void on_term(int sig)
{
    if (out_tmp)
        unlink(out_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int spool_row(void *ctx, const nd_job_row *r)
{
    FILE *f = ctx;
    cli_row_put(f, opts->cmd, r);
    return ferror(f) ? 1 : 0;
}

static FILE *rows_spool(void)
{
    const char *dir = opts->params.tmpdir && *opts->params.tmpdir ? opts->params.tmpdir
                                                                  : "/tmp";
    size_t len = strlen(dir);
    char *path = malloc(len + sizeof "/neardup-rows-XXXXXX");
    if (!path)
        die(EXIT_IO, "out of memory");
    memcpy(path, dir, len);
    strcpy(path + len, "/neardup-rows-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        die(EXIT_IO, "creating a temporary file in %s: %s", dir, strerror(errno));
    unlink(path);
    free(path);
    FILE *f = fdopen(fd, "w+");
    if (!f)
        die(EXIT_IO, "out of memory");
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    return f;
}

/* Copy the n bytes of spool f to fd at off (pwrite), or, fd < 0, send
   them to rank 0 (tag 3, an empty message at the end).  0 or an errno. */
static int spool_out(FILE *f, uint64_t n, int fd, uint64_t off)
{
    static char b[1 << 20];
    int err = 0;
    if (fseeko(f, 0, SEEK_SET) != 0)
        err = errno ? errno : EIO;
    while (n && !err) {
        size_t m = n < sizeof b ? (size_t)n : sizeof b;
        if (fread(b, 1, m, f) != m) {
            err = EIO;
            break;
        }
        if (fd < 0) {
            MPI_Send(b, (int)m, MPI_BYTE, 0, 3, MPI_COMM_WORLD);
        } else {
            for (size_t done = 0; done < m;) {
                ssize_t w = pwrite(fd, b + done, m - done, (off_t)(off + done));
                if (w < 0) {
                    err = errno;
                    break;
                }
                done += (size_t)w;
            }
            off += m;
        }
        n -= m;
    }
    if (fd < 0)
        MPI_Send(b, 0, MPI_BYTE, 0, 3, MPI_COMM_WORLD);
    return err;
}

/* cluster, dedup: the rows of this rank's documents (my_rows) into sp. */
static void spool_docs(nd_job *job, FILE *sp)
{
    const size_t mine = nd__job_docs(job);
    if (mine != my_nrows)
        die(EXIT_IO, "%zu documents read and %zu clustered", mine, my_nrows);
    nd__doc_row *given = my_rows;
    /* The TSV header (dedup), rank 0's. */
    size_t hlen = 0;
    const char *h0 = nd__job_header(job, &hlen);
    uint64_t hl = rank == 0 ? hlen : 0;
    MPI_Bcast(&hl, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    char *header = malloc((size_t)hl + 1);
    if (!header)
        die(EXIT_IO, "out of memory");
    if (rank == 0 && hl)
        memcpy(header, h0, (size_t)hl);
    if (hl)
        MPI_Bcast(header, (int)hl, MPI_BYTE, 0, MPI_COMM_WORLD);
    /* The header goes before the first representative of all. */
    uint64_t reps = 0, reps_before = 0;
    for (size_t i = 0; i < mine; i++)
        reps += (given[i].flags & ND__ROW_REP) != 0;
    MPI_Exscan(&reps, &reps_before, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        reps_before = 0;
    for (size_t i = 0; hl && !reps_before && i < mine; i++)
        if (given[i].flags & ND__ROW_REP) {
            given[i].flags |= ND__ROW_HEADER;
            break;
        }
    if (nd__job_write_given(job, given, first_doc, header, (size_t)hl, spool_row, sp) !=
            ND_OK ||
        fflush(sp) != 0)
        die(EXIT_IO, "%s", ferror(sp) ? "temporary file: write failed" : nd_job_errmsg(job));
    free(header);
}

/* What a job exports (nd__job_export_docs), into memory and back. */
typedef struct {
    unsigned char *p;
    size_t n, cap, at;
} membuf;

static int mem_put(void *ctx, const void *p, size_t n)
{
    membuf *m = ctx;
    if (m->n + n > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->n + n)
            cap *= 2;
        unsigned char *q = realloc(m->p, cap);
        if (!q)
            die(EXIT_IO, "out of memory for the documents asked for the pairs' rows");
        m->p = q;
        m->cap = cap;
    }
    if (n)
        memcpy(m->p + m->n, p, n);
    m->n += n;
    return ND_OK;
}

static int mem_get(void *ctx, void *p, size_t n)
{
    membuf *m = ctx;
    if (n > m->n - m->at)
        die(EXIT_IO, "the documents fetched for the pairs' rows ended early");
    if (n)
        memcpy(p, m->p + m->at, n);
    m->at += n;
    return ND_OK;
}

/*
 * pairs: the rows of this rank's verified pairs (pair_edges), whose
 * first documents it owns, into sp.  The rows name the ids of both
 * documents (and explain reads both texts): the second documents held
 * elsewhere, each once, are asked of their owners (sorted), which answer
 * with their ids (and texts with their meta), in the order asked; this
 * rank appends them after its own documents.
 */
static void spool_pairs(nd_job *job, FILE *sp)
{
    const uint64_t first = starts[rank], end = starts[rank + 1];
    const size_t own = nd__job_docs(job);
    if (own != end - first)
        die(EXIT_IO, "%zu documents read and %llu sketched", own,
            (unsigned long long)(end - first));
    uint64_t *want = xmalloc(sizeof *want * (pair_ne + 1));
    size_t nw = 0;
    for (size_t i = 0; i < pair_ne; i++)
        if (pair_edges[i].b >= end)
            want[nw++] = pair_edges[i].b;
    nw = sort_unique0(want, nw);
    uint64_t *bytes = xmalloc(sizeof *bytes * (size_t)nranks);
    uint64_t *from = xmalloc(sizeof *from * (size_t)nranks);
    bytes_by_owner(want, nw, bytes);
    void *in;
    uint64_t got;
    exchange(want, bytes, &in, &got, from, &sent_ids);
    uint64_t *ask = in;
    const size_t nask = (size_t)(got / sizeof *ask);
    for (size_t k = 0; k < nask; k++) {
        if (ask[k] < first || ask[k] >= end)
            die(EXIT_IO, "asked for document %llu, not this rank's",
                (unsigned long long)ask[k]);
        ask[k] -= first;
    }
    membuf out = {0};
    size_t at = 0;
    for (int r = 0; r < nranks; r++) {
        const size_t cnt = (size_t)(from[r] / sizeof *ask), before = out.n;
        if (nd__job_export_docs(job, ask + at, cnt, mem_put, &out) != ND_OK)
            die(EXIT_IO, "%s", nd_job_errmsg(job));
        bytes[r] = out.n - before;
        at += cnt;
    }
    free(in);
    exchange(out.p, bytes, &in, &got, NULL, &sent_ids);
    free(out.p);
    membuf back = {in, (size_t)got, (size_t)got, 0};
    if (nd__job_import_docs(job, nw, mem_get, &back) != ND_OK)
        die(EXIT_IO, "%s", nd_job_errmsg(job));
    if (back.at != back.n)
        die(EXIT_IO, "%zu bytes more than the %zu documents asked for",
            back.n - back.at, nw);
    free(in);
    if (nd__job_write_pairs(job, pair_edges, pair_ne, first, own, want, nw, my_rows, spool_row,
                            sp) != ND_OK ||
        fflush(sp) != 0)
        die(EXIT_IO, "%s", ferror(sp) ? "temporary file: write failed" : nd_job_errmsg(job));
    uint64_t mine[2] = {sent_ids, nw};
    MPI_Reduce(mine, all_ids, 2, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    free(want);
    free(bytes);
    free(from);
    free(pair_edges);
    pair_edges = NULL;
}

/* Every rank: the rows of its documents (cluster, dedup) or of its pairs.
   ND_OK, or ND_ERR_STATE with the cause printed. */
static int write_rows(nd_job *job)
{
    FILE *sp = rows_spool();
    nd_job_stats st0;
    nd_job_stats_get(job, &st0);
    if (by_owner)
        spool_docs(job, sp);
    else
        spool_pairs(job, sp);
    free(my_rows);
    my_rows = NULL;
    nd_job_stats st1;
    nd_job_stats_get(job, &st1);
    uint64_t rows = st1.rows - st0.rows, all_rows = 0;
    MPI_Reduce(&rows, &all_rows, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        nd__job_add_rows(job, all_rows - rows);
    const uint64_t bytes = (uint64_t)ftello(sp);
    uint64_t off = 0;
    MPI_Exscan(&bytes, &off, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        off = 0;

    /* A regular file (or a new one): the temporary file beside it. */
    int to_file = 0;
    mode_t mode = 0;
    char *target = NULL;
    if (rank == 0 && out_path && strcmp(out_path, "-")) {
        struct stat sb;
        if (lstat(out_path, &sb) == 0 && S_ISLNK(sb.st_mode))
            target = realpath(out_path, NULL);
        if (!target)
            target = strdup(out_path);
        if (!target)
            die(EXIT_IO, "out of memory");
        if (stat(target, &sb) != 0) {
            mode_t um = umask(0);
            umask(um);
            mode = 0666 & ~um;
            to_file = 1;
        } else if (S_ISREG(sb.st_mode)) {
            mode = sb.st_mode & 07777;
            to_file = 1;
        }
    }
    MPI_Bcast(&to_file, 1, MPI_INT, 0, MPI_COMM_WORLD);
    int err = 0;
    if (to_file) {
        signal(SIGTERM, on_term);
        signal(SIGINT, on_term);
        signal(SIGHUP, on_term);
        uint64_t nl = 0;
        char *tmp = NULL;
        if (rank == 0) {
            nl = strlen(target) + 7;
            tmp = malloc(nl + 1);
            if (!tmp)
                die(EXIT_IO, "out of memory");
            snprintf(tmp, nl + 1, "%s.XXXXXX", target);
            int fd = mkstemp(tmp);
            if (fd < 0)
                die(EXIT_IO, "%s: %s", tmp, strerror(errno));
            out_tmp = tmp;
            if (fchmod(fd, mode) != 0 || close(fd) != 0)
                die(EXIT_IO, "%s: %s", tmp, strerror(errno));
        }
        MPI_Bcast(&nl, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
        if (rank) {
            tmp = malloc((size_t)nl + 1);
            if (!tmp)
                die(EXIT_IO, "out of memory");
        }
        MPI_Bcast(tmp, (int)nl + 1, MPI_CHAR, 0, MPI_COMM_WORLD);
        out_tmp = tmp;
        /* Every rank knows the name before any writes: whichever survives
           a rank lost removes the file when mpirun ends it. */
        MPI_Barrier(MPI_COMM_WORLD);
        maybe_die("rows");
        int fd = open(tmp, O_WRONLY);
        if (fd < 0)
            err = errno;
        if (!err)
            err = spool_out(sp, bytes, fd, off);
        if (fd >= 0 && !err && fsync(fd) != 0)
            err = errno;
        if (fd >= 0 && close(fd) != 0 && !err)
            err = errno;
        if (err)
            cli_error("%s: %s", tmp, strerror(err));
        int ok = !err, all_ok = 0;
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        if (rank == 0) {
            if (all_ok && rename(tmp, target) != 0) {
                cli_error("%s: %s", target, strerror(errno));
                all_ok = 0;
            }
            if (!all_ok)
                unlink(tmp);
        }
        out_tmp = NULL;
        free(tmp);
        err = !all_ok;
    } else if (rank) {
        err = spool_out(sp, bytes, -1, 0);
        if (err)
            cli_error("temporary file: %s", strerror(err));
    } else {
        FILE *f = out_path && strcmp(out_path, "-") ? fopen(out_path, "w") : stdout;
        if (!f)
            die(EXIT_IO, "%s: %s", out_path, strerror(errno));
        static char b[1 << 20];
        if (fseeko(sp, 0, SEEK_SET) != 0)
            err = 1;
        for (size_t m; !err && (m = fread(b, 1, sizeof b, sp)) > 0;)
            err = fwrite(b, 1, m, f) != m;
        for (int r = 1; r < nranks; r++) {
            for (;;) {
                MPI_Status mst;
                int m;
                MPI_Recv(b, sizeof b, MPI_BYTE, r, 3, MPI_COMM_WORLD, &mst);
                MPI_Get_count(&mst, MPI_BYTE, &m);
                if (m <= 0)
                    break;
                if (!err)
                    err = fwrite(b, 1, (size_t)m, f) != (size_t)m;
            }
        }
        if (fflush(f) != 0 || ferror(f))
            err = 1;
        if (f != stdout && fclose(f) != 0)
            err = 1;
        if (err)
            cli_error("%s: write failed",
                      out_path && strcmp(out_path, "-") ? out_path : "standard output");
    }
    free(target);
    fclose(sp);
    return err ? ND_ERR_STATE : ND_OK;
}

/* Rank 0, in place of the job's rows: write_rows, as every rank. */
static int rows_root(void *ctx, nd_job *job)
{
    (void)ctx;
    return write_rows(job);
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
    count_held_bytes += total;
    free(sizes);
    *all = buf;
    *alln = total;
    return ND_OK;
}

static const nd__count_comm count_comm = {NULL, comm_sum32, comm_gather};


/* The job of a rank, made by cli_batch on rank 0: its part of the input,
   its documents' numbers, the exchanges. */
static void share(nd_job *job)
{
    nd_batch *b = nd__job_batch_early(job);
    nd__batch_share(b, (unsigned)rank, (unsigned)nranks, rank ? gather_send : gather_recv,
                    job);
    if (nd__batch_share_count(b, &count_comm, first_doc, total_docs) != ND_OK)
        die(EXIT_IO, "out of memory");
    nd__job_pieces(job, pieces, npieces);
    nd__job_count_from(job, first_doc);
    if (rank == 0)
        nd__job_rows_by(job, rows_root, NULL);
}

static int share_job(nd_job *job)
{
    share(job);
    return 0;
}

/* Another rank: the job as cli_batch makes it, without rows; its
   warnings are kept for rank 0. */
static int run_share(const cli_opts *o)
{
    nd_job_opts jo;
    cli_job_opts(o, &jo);
    jo.on_warning = keep_warning;
    nd_job *job;
    int rc = nd_job_create(&jo, &job);
    if (rc != ND_OK) {
        if (!job)
            die(EXIT_IO, "out of memory");
        die(rc == ND_ERR_PARAM ? EXIT_USAGE : EXIT_IO, "%s", nd_job_errmsg(job));
    }
    share(job);
    rc = nd_job_run(job);
    if (!handed_over)
        die(rc == ND_ERR_DATA || rc == ND_ERR_UTF8 ? EXIT_DATA : EXIT_IO, "%s",
            rc == ND_OK ? "the job ended before the exchange" : nd_job_errmsg(job));
    int status = EXIT_OK;
    if (write_rows(job) != ND_OK)
        status = EXIT_IO;
    nd_job_free(job);
    return status;
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
    int std_in = o.npaths == 0;
    for (size_t i = 0; i < o.npaths; i++)
        std_in |= !strcmp(o.paths[i], "-");
    if (std_in) {
        if (rank == 0)
            cli_error("reads files only: standard input reaches one rank");
        MPI_Finalize();
        return EXIT_USAGE;
    }
    plan(&o);
    number_docs(&o);
    opts = &o;
    out_path = o.output;
    by_owner = cmd != CMD_PAIRS;
    clustering = by_owner || o.stats || o.stats_json;
    if (rank == 0) {
        cli_job_hook = share_job;
        /* The rows go to -o by write_rows. */
        cli_opts o0 = o;
        o0.output = "/dev/null";
        status = cli_batch(&o0);
        if (status != EXIT_OK)
            MPI_Abort(MPI_COMM_WORLD, status);
        if (o.stats)
            fprintf(stderr,
                    "neardup-mpi: %d ranks; the shares sent to rank 0: %llu bytes, "
                    "%.1f a document; the rows' data: %llu bytes, %.1f a document\n",
                    nranks, (unsigned long long)gathered_bytes,
                    gathered_docs ? (double)gathered_bytes / (double)gathered_docs : 0.0,
                    (unsigned long long)gathered_rows,
                    gathered_docs ? (double)gathered_rows / (double)gathered_docs : 0.0);
        if (o.stats) {
            fprintf(stderr,
                    "neardup-mpi: the count exchange: %llu bytes of level sums a "
                    "rank, %llu bytes of held sample in all\n",
                    (unsigned long long)count_sum_bytes,
                    (unsigned long long)count_held_bytes);
            const double nd = gathered_docs ? (double)gathered_docs : 1.0;
            fprintf(stderr,
                    "neardup-mpi: bytes sent among the ranks a document: band keys "
                    "%.1f, pairs %.1f, states fetched %.1f (%llu states)\n",
                    (double)all_sent[0] / nd, (double)all_sent[1] / nd,
                    (double)all_sent[2] / nd, (unsigned long long)all_sent[4]);
            if (!by_owner)
                fprintf(stderr,
                        "neardup-mpi: the pairs' rows by the owners of their first "
                        "documents: the partners' ids%s fetched %.1f bytes a document "
                        "(%llu documents)\n",
                        o.explain ? " and texts" : "", (double)all_ids[0] / nd,
                        (unsigned long long)all_ids[1]);
            if (clustering)
                fprintf(stderr,
                        "neardup-mpi: clusters by connected component: %llu rounds of "
                        "labels, %.1f bytes a document; pairs and states to the "
                        "components' owners %.1f; first members and cluster numbers "
                        "back %.1f; %llu components of %llu documents, at most %llu "
                        "documents clustered on one rank\n",
                        (unsigned long long)label_rounds, (double)all_sent[5] / nd,
                        (double)all_sent[6] / nd, (double)all_sent[7] / nd,
                        (unsigned long long)comp_count, (unsigned long long)comp_docs_all,
                        (unsigned long long)comp_docs_max);
            fprintf(stderr, "neardup-mpi: bytes read by rank:");
            for (int r = 0; read_by && r < nranks; r++)
                fprintf(stderr, " %llu", (unsigned long long)read_by[r]);
            fputc('\n', stderr);
        }
    } else {
        status = run_share(&o);
    }
    free(in_bytes);
    free(cuttable);
    free(pieces);
    free(read_by);
    free(docs_of);
    free(warns);
    MPI_Finalize();
    return status;
}
