/*
 * spill.c - sorted runs of 64-bit values in a temporary file, and their
 * merge: the disk side of candidate generation under a memory limit.
 *
 * All runs go to one file, made with mkstemp in the folder the caller names
 * and unlinked at once: it has no name from then on and the system frees it
 * when the descriptor closes -- at the end of the run, on every error path,
 * and when the process is killed.  A run is its values, native byte order,
 * at a byte offset the file records; runs are written with pwrite, read
 * with pread, so no file position is shared.
 *
 * Each run is sorted and free of repeats; the merge yields the sorted union
 * of all runs, each value once.  It is a k-way merge over a binary heap of
 * run readers, each reading through its own buffer.  When there are more
 * runs than the memory allows readers (the fan-in), the first fan-in runs
 * are merged into a new run at the end of the file, and again, until the
 * rest fits one merge (the balanced multiway merge of Knuth, TAOCP vol. 3,
 * 5.4.1).  The space of merged runs is not given back: the file holds at
 * most (merge passes + 1) times the spilled values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsh.h"

typedef struct {
    uint64_t off; /* byte offset in the file */
    uint64_t n;   /* values */
} run;

struct nd__spill {
    int fd;
    char dir[256];  /* for messages */
    uint64_t end;   /* bytes written */
    run *runs;
    size_t nruns, cap;
    size_t first;   /* runs before this one are merged into later ones */
    size_t puts;      /* runs written by nd__spill_put */
    uint64_t spilled; /* and their bytes */
};

static int io_fail(const nd__spill *s, const char *what, int e, char *err,
                   size_t cap)
{
    char buf[128];
    const char *why = e ? strerror_r(e, buf, sizeof buf) : "unexpected end of file";
    snprintf(err, cap, "%s a temporary file in %s: %s", what, s->dir, why);
    return ND_ERR_IO;
}

int nd__spill_open(const char *dir, nd__spill **out, char *err, size_t cap)
{
    *out = NULL;
    if (!dir || !*dir)
        dir = "/tmp";
    nd__spill *s = calloc(1, sizeof *s);
    size_t len = strlen(dir);
    char *path = malloc(len + sizeof "/neardup-spill-XXXXXX");
    if (!s || !path) {
        free(s);
        free(path);
        snprintf(err, cap, "%s", nd_strerror(ND_ERR_NOMEM));
        return ND_ERR_NOMEM;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    memcpy(path, dir, len);
    strcpy(path + len, "/neardup-spill-XXXXXX");
    s->fd = mkstemp(path);
    if (s->fd < 0) {
        int rc = io_fail(s, "creating", errno, err, cap);
        free(path);
        free(s);
        return rc;
    }
    unlink(path);
    free(path);
    *out = s;
    return ND_OK;
}

void nd__spill_close(nd__spill *s)
{
    if (!s)
        return;
    close(s->fd);
    free(s->runs);
    free(s);
}

size_t nd__spill_runs(const nd__spill *s) { return s ? s->puts : 0; }
uint64_t nd__spill_bytes(const nd__spill *s) { return s ? s->spilled : 0; }

static int write_at(nd__spill *s, const void *p, size_t n, uint64_t off,
                    char *err, size_t cap)
{
    const char *c = p;
    while (n) {
        ssize_t w = pwrite(s->fd, c, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return io_fail(s, "writing", w < 0 ? errno : ENOSPC, err, cap);
        c += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return ND_OK;
}

static int read_at(const nd__spill *s, void *p, size_t n, uint64_t off,
                   char *err, size_t cap)
{
    char *c = p;
    while (n) {
        ssize_t r = pread(s->fd, c, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return io_fail(s, "reading", r < 0 ? errno : 0, err, cap);
        c += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return ND_OK;
}

static int add_run(nd__spill *s, uint64_t off, uint64_t n)
{
    if (s->nruns == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 64;
        run *r = realloc(s->runs, c * sizeof *r);
        if (!r)
            return ND_ERR_NOMEM;
        s->runs = r;
        s->cap = c;
    }
    s->runs[s->nruns].off = off;
    s->runs[s->nruns].n = n;
    s->nruns++;
    return ND_OK;
}

int nd__spill_put(nd__spill *s, const uint64_t *v, size_t n, char *err, size_t cap)
{
    if (!n)
        return ND_OK;
    uint64_t off = s->end;
    int rc = write_at(s, v, n * sizeof *v, off, err, cap);
    if (rc == ND_OK && (rc = add_run(s, off, n)) != ND_OK)
        snprintf(err, cap, "%s", nd_strerror(rc));
    if (rc == ND_OK) {
        s->end += n * sizeof *v;
        s->spilled += n * sizeof *v;
        s->puts++;
    }
    return rc;
}

/* ------------------------------------------------------------- merging */

typedef struct {
    uint64_t off, left; /* where the unread values start, how many */
    uint64_t *buf;
    size_t pos, len;
} reader;

struct nd__merge {
    nd__spill *s;
    reader *r;
    uint32_t *heap; /* reader indexes, smallest head value on top */
    size_t nr, nh, bufvals;
    uint64_t last;
    int started;
};

/* The fan-in and the values a reader buffers for a memory budget. */
static void plan(size_t memory, size_t *fanin, size_t *bufvals)
{
    size_t f = memory / (8 * 512);
    f = f > 1 ? f - 1 : 1;
    if (f < 2)
        f = 2;
    if (f > 256)
        f = 256;
    size_t b = memory / 8 / (f + 1);
    if (b < 512)
        b = 512;
    if (b > (1u << 17))
        b = 1u << 17;
    *fanin = f;
    *bufvals = b;
}

static int refill(nd__merge *m, reader *r, char *err, size_t cap)
{
    size_t k = r->left < m->bufvals ? (size_t)r->left : m->bufvals;
    int rc = read_at(m->s, r->buf, k * sizeof *r->buf, r->off, err, cap);
    if (rc != ND_OK)
        return rc;
    r->off += k * sizeof *r->buf;
    r->left -= k;
    r->pos = 0;
    r->len = k;
    return ND_OK;
}

static uint64_t head(const nd__merge *m, size_t h)
{
    const reader *r = &m->r[m->heap[h]];
    return r->buf[r->pos];
}

static void sift_down(nd__merge *m, size_t h)
{
    for (;;) {
        size_t l = 2 * h + 1, best = h;
        if (l < m->nh && head(m, l) < head(m, best))
            best = l;
        if (l + 1 < m->nh && head(m, l + 1) < head(m, best))
            best = l + 1;
        if (best == h)
            return;
        uint32_t t = m->heap[h];
        m->heap[h] = m->heap[best];
        m->heap[best] = t;
        h = best;
    }
}

void nd__merge_close(nd__merge *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nr; i++)
        free(m->r[i].buf);
    free(m->r);
    free(m->heap);
    free(m);
}

/* A merge of runs [from, to) of s. */
static int merge_of(nd__spill *s, size_t from, size_t to, size_t bufvals,
                    nd__merge **out, char *err, size_t cap)
{
    nd__merge *m = calloc(1, sizeof *m);
    size_t nr = to - from;
    int rc = ND_OK;
    if (!m || !(m->r = calloc(nr ? nr : 1, sizeof *m->r)) ||
        !(m->heap = malloc((nr ? nr : 1) * sizeof *m->heap)))
        rc = ND_ERR_NOMEM;
    if (m)
        m->nr = nr;
    for (size_t i = 0; rc == ND_OK && i < nr; i++)
        if (!(m->r[i].buf = malloc(bufvals * sizeof *m->r[i].buf)))
            rc = ND_ERR_NOMEM;
    if (rc != ND_OK) {
        snprintf(err, cap, "%s", nd_strerror(rc));
        nd__merge_close(m);
        *out = NULL;
        return rc;
    }
    m->s = s;
    m->bufvals = bufvals;
    for (size_t i = 0; i < nr; i++) {
        reader *r = &m->r[i];
        r->off = s->runs[from + i].off;
        r->left = s->runs[from + i].n;
        if (r->left) {
            if ((rc = refill(m, r, err, cap)) != ND_OK) {
                nd__merge_close(m);
                *out = NULL;
                return rc;
            }
            m->heap[m->nh++] = (uint32_t)i;
        }
    }
    for (size_t h = m->nh / 2; h-- > 0;)
        sift_down(m, h);
    *out = m;
    return ND_OK;
}

int nd__merge_read(nd__merge *m, uint64_t *out, size_t cap, size_t *got,
                   char *err, size_t errcap)
{
    size_t w = 0;
    while (w < cap && m->nh) {
        reader *r = &m->r[m->heap[0]];
        uint64_t x = r->buf[r->pos++];
        if (!m->started || x != m->last) {
            out[w++] = x;
            m->last = x;
            m->started = 1;
        }
        if (r->pos == r->len) {
            if (r->left) {
                int rc = refill(m, r, err, errcap);
                if (rc != ND_OK) {
                    *got = w;
                    return rc;
                }
            } else {
                m->heap[0] = m->heap[--m->nh];
            }
        }
        sift_down(m, 0);
    }
    *got = w;
    return ND_OK;
}

int nd__merge_open(nd__spill *s, size_t memory, nd__merge **out, char *err,
                   size_t cap)
{
    size_t fanin, bufvals;
    plan(memory, &fanin, &bufvals);
    uint64_t *obuf = NULL;
    while (s->nruns - s->first > fanin) {
        if (!obuf && !(obuf = malloc(bufvals * sizeof *obuf))) {
            snprintf(err, cap, "%s", nd_strerror(ND_ERR_NOMEM));
            return ND_ERR_NOMEM;
        }
        /* fanin readers and an output buffer: within the budget */
        nd__merge *m;
        int rc = merge_of(s, s->first, s->first + fanin, bufvals, &m, err, cap);
        uint64_t off = s->end, n = 0;
        size_t got;
        while (rc == ND_OK &&
               (rc = nd__merge_read(m, obuf, bufvals, &got, err, cap)) == ND_OK && got) {
            rc = write_at(s, obuf, got * sizeof *obuf, off + n * sizeof *obuf, err, cap);
            n += got;
        }
        nd__merge_close(m);
        if (rc == ND_OK && (rc = add_run(s, off, n)) != ND_OK)
            snprintf(err, cap, "%s", nd_strerror(rc));
        if (rc != ND_OK) {
            free(obuf);
            return rc;
        }
        s->end += n * sizeof *obuf;
        s->first += fanin;
    }
    free(obuf);
    return merge_of(s, s->first, s->nruns, bufvals, out, err, cap);
}
