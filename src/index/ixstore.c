/*
 * ixstore.c - an index directory on disk: snapshot + write-ahead log.
 *
 * index.nds, the snapshot (all integers little-endian):
 *   header, 128 bytes: magic "NDIXSNAP", format version, header size, the
 *     parameter block (48 bytes), generation, document count, id bytes,
 *     XXH3-64 of the body, reserved zeros, XXH3-64 of the first 120 bytes;
 *   body: per document, in order of addition: signature (num_perm u32),
 *     set size u64, time i64, id length u32, id bytes.
 *   Band keys are not stored: open recomputes them, so the file is the raw
 *   signatures plus 20 bytes and the id per document.
 * index.wal, the log: a 64-byte header (magic "NDIXWLOG", version, header
 *   size, generation, XXH3 of the parameter block, XXH3 of the header),
 *   then records [u32 payload length][u32 type][payload][u64 XXH3 of the
 *   preceding 8 + length bytes]:
 *     ADD     time i64, set size u64, id length u32, id, signature
 *     REMOVE  id length u32, id
 *     EVICT   time i64
 * LOCK: flock()ed by the one writer.
 *
 * Crash safety.  Adds are encoded into a memory buffer; nd_index_sync
 * writes it at the end of the log and fdatasyncs.  On open the log is
 * replayed up to the first record that is cut short or fails its checksum;
 * when only zero bytes (or nothing) follow that bad record, it is a tail
 * torn by a crash and is dropped, otherwise the log is corrupt.  (A bit
 * flip in a length field that points past the end looks like a torn tail.)
 * Compaction writes the snapshot of generation g + 1 to a temporary name,
 * fsyncs, renames it over index.nds, fsyncs the directory,
 * then does the same for an empty log of generation g + 1.  A log whose
 * generation is below the snapshot's is already contained in it and is
 * ignored, so a crash between the two renames loses nothing; no step ever
 * overwrites the only copy of acknowledged data in place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "ixint.h"

#define SNAP_NAME "index.nds"
#define SNAP_TMP "index.nds.tmp"
#define WAL_NAME "index.wal"
#define WAL_TMP "index.wal.tmp"
#define LOCK_NAME "LOCK"
#define FORMAT_VERSION 1u
#define SNAP_HDR 128u
#define WAL_HDR 64u
#define PBLOCK 64u
#define REC_ADD 1u
#define REC_REMOVE 2u
#define REC_EVICT 3u
#define FLUSH_AT (1u << 20)

int nd__ix_fail(nd_index *ix, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ix->err, sizeof ix->err, fmt, ap);
    va_end(ap);
    return code;
}

/* ------------------------------------------------------------ encoding */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_sig(unsigned char *p, const uint32_t *sig, unsigned k)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, sig, (size_t)k * 4);
#else
    for (unsigned i = 0; i < k; i++)
        put32(p + 4 * (size_t)i, sig[i]);
#endif
}

static void get_sig(uint32_t *sig, const unsigned char *p, unsigned k)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(sig, p, (size_t)k * 4);
#else
    for (unsigned i = 0; i < k; i++)
        sig[i] = get32(p + 4 * (size_t)i);
#endif
}

static void params_block(const nd_index *ix, unsigned char *b)
{
    uint64_t t;
    memcpy(&t, &ix->p.threshold, 8);
    memset(b, 0, PBLOCK);
    put32(b, (uint32_t)ix->p.shingle);
    put32(b + 4, ix->p.ngram);
    put32(b + 8, ix->p.num_perm);
    put32(b + 12, ix->p.norm);
    put64(b + 16, ix->p.seed);
    put64(b + 24, t);
    put32(b + 32, (uint32_t)ix->p.measure);
    put32(b + 36, ix->m.nbands);
    put32(b + 40, ix->m.rows);
    memcpy(&t, &ix->p.containment, 8);
    put64(b + 48, t);
    put32(b + 56, (uint32_t)ix->p.sketch);
}

/*
 * Parameters from a stored block into *p (on top of nd_params_init);
 * ND_ERR_CORRUPT when they do not pass nd_params_check.
 */
static int params_read(nd_index *ix, const unsigned char *b, nd_params *p,
                       unsigned *bands, unsigned *rows)
{
    uint64_t t = get64(b + 24);
    nd_params_init(p);
    p->shingle = (nd_shingle_kind)get32(b);
    p->ngram = get32(b + 4);
    p->num_perm = get32(b + 8);
    p->norm = get32(b + 12);
    p->seed = get64(b + 16);
    memcpy(&p->threshold, &t, 8);
    p->measure = (nd_measure)get32(b + 32);
    *bands = get32(b + 36);
    *rows = get32(b + 40);
    t = get64(b + 48);
    memcpy(&p->containment, &t, 8);
    p->sketch = (nd_sketch_algo)get32(b + 56);
    p->bands = *bands;
    p->rows = *rows;
    char msg[200];
    if (nd_params_check(p, msg, sizeof msg) != ND_OK || *bands == 0 ||
        *rows == 0 || (uint64_t)*bands * *rows > p->num_perm)
        return nd__ix_fail(ix, ND_ERR_CORRUPT,
                           "%s: stored parameters are invalid", ix->dir);
    return ND_OK;
}

/* ND_ERR_MISMATCH naming the first field where asked differs from stored. */
static int params_compare(nd_index *ix, const nd_params *st, unsigned sb,
                          unsigned sr, const nd_params *q)
{
    unsigned qb, qr;
    nd_params_lsh(q, &qb, &qr);
#define ND__CMP(field, fmt, a, b)                                          \
    if ((a) != (b))                                                        \
        return nd__ix_fail(ix, ND_ERR_MISMATCH,                            \
                           "%s: the index was made with " field "=" fmt    \
                           ", asked for " field "=" fmt,                   \
                           ix->dir, a, b);
    ND__CMP("shingle", "%s", st->shingle == ND_SHINGLE_CHAR ? "char" : "word",
            q->shingle == ND_SHINGLE_CHAR ? "char" : "word")
    ND__CMP("ngram", "%u", st->ngram, q->ngram)
    ND__CMP("num_perm", "%u", st->num_perm, q->num_perm)
    ND__CMP("seed", "%llu", (unsigned long long)st->seed,
            (unsigned long long)q->seed)
    ND__CMP("norm", "0x%x", st->norm, q->norm)
    ND__CMP("threshold", "%.17g", st->threshold, q->threshold)
    ND__CMP("measure", "%s",
            st->measure == ND_MEASURE_CONTAINMENT ? "containment" : "jaccard",
            q->measure == ND_MEASURE_CONTAINMENT ? "containment" : "jaccard")
    ND__CMP("containment", "%.17g", st->containment, q->containment)
    ND__CMP("sketch", "%u", (unsigned)st->sketch, (unsigned)q->sketch)
    ND__CMP("bands", "%u", sb, qb)
    ND__CMP("rows", "%u", sr, qr)
#undef ND__CMP
    return ND_OK;
}

/* ------------------------------------------------------------ file i/o */

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const unsigned char *p = buf;
    while (len) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Bytes read (short only at end of file), or -1. */
static ssize_t read_full(int fd, void *buf, size_t len, uint64_t off)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, p + got, len - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int io_fail(nd_index *ix, const char *what, const char *name)
{
    return nd__ix_fail(ix, ND_ERR_IO, "%s/%s: %s: %s", ix->dir, name, what,
                       strerror(errno));
}

/* ------------------------------------------------------------ snapshot */

typedef struct wbuf {
    int fd;
    uint64_t off;
    unsigned char *b;
    size_t len, cap;
    XXH3_state_t *h;
} wbuf;

static int wbuf_flush(wbuf *w)
{
    if (w->len == 0)
        return 0;
    XXH3_64bits_update(w->h, w->b, w->len);
    if (write_all(w->fd, w->b, w->len, w->off))
        return -1;
    w->off += w->len;
    w->len = 0;
    return 0;
}

/*
 * Write the live documents of ix as snapshot generation gen into dirfd
 * (tmp, fsync, rename, fsync dir).  *size receives the file size.
 */
static int snap_write(nd_index *ix, int dirfd, uint64_t gen, uint64_t *size)
{
    const nd__ixmem *m = &ix->m;
    size_t rec = (size_t)m->k * 4 + 20;
    wbuf w = {.fd = -1, .off = SNAP_HDR};
    w.cap = rec + ND_INDEX_MAX_ID > (4u << 20) ? rec + ND_INDEX_MAX_ID
                                                : (4u << 20);
    w.b = malloc(w.cap);
    w.h = XXH3_createState();
    if (!w.b || !w.h) {
        free(w.b);
        XXH3_freeState(w.h);
        return nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory writing %s",
                           SNAP_NAME);
    }
    XXH3_64bits_reset(w.h);
    int rc = ND_OK;
    w.fd = openat(dirfd, SNAP_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                  0666);
    if (w.fd < 0) {
        rc = io_fail(ix, "cannot create", SNAP_TMP);
        goto out;
    }
    for (size_t s = 0; s < m->n; s++) {
        if (m->dead[s])
            continue;
        if (w.cap - w.len < rec + m->idlen[s] && wbuf_flush(&w)) {
            rc = io_fail(ix, "cannot write", SNAP_TMP);
            goto out;
        }
        unsigned char *p = w.b + w.len;
        put_sig(p, m->sig + s * m->k, m->k);
        p += (size_t)m->k * 4;
        put64(p, m->setsz[s]);
        put64(p + 8, (uint64_t)m->time[s]);
        put32(p + 16, m->idlen[s]);
        memcpy(p + 20, m->id[s], m->idlen[s]);
        w.len += rec + m->idlen[s];
    }
    if (wbuf_flush(&w)) {
        rc = io_fail(ix, "cannot write", SNAP_TMP);
        goto out;
    }
    unsigned char h[SNAP_HDR];
    memset(h, 0, sizeof h);
    memcpy(h, "NDIXSNAP", 8);
    put32(h + 8, FORMAT_VERSION);
    put32(h + 12, SNAP_HDR);
    params_block(ix, h + 16);
    put64(h + 80, gen);
    put64(h + 88, m->live);
    put64(h + 96, m->id_bytes);
    put64(h + 104, XXH3_64bits_digest(w.h));
    put64(h + 120, XXH3_64bits(h, 120));
    if (write_all(w.fd, h, sizeof h, 0)) {
        rc = io_fail(ix, "cannot write", SNAP_TMP);
        goto out;
    }
    if (fsync(w.fd)) {
        rc = io_fail(ix, "cannot fsync", SNAP_TMP);
        goto out;
    }
    if (renameat(dirfd, SNAP_TMP, dirfd, SNAP_NAME)) {
        rc = io_fail(ix, "cannot rename", SNAP_TMP);
        goto out;
    }
    if (fsync(dirfd)) {
        rc = io_fail(ix, "cannot fsync the directory", ".");
        goto out;
    }
    *size = w.off;
out:
    if (w.fd >= 0)
        close(w.fd);
    free(w.b);
    XXH3_freeState(w.h);
    return rc;
}

static int snap_corrupt(nd_index *ix, const char *why)
{
    return nd__ix_fail(ix, ND_ERR_CORRUPT, "%s/%s: %s", ix->dir, SNAP_NAME,
                       why);
}

/* The snapshot header: magic, version, checksum; parameters into ix. */
static int snap_header(nd_index *ix, int fd, const nd_params *asked,
                       uint64_t fsize, uint64_t *ndocs, uint64_t *idbytes,
                       uint64_t *bodysum)
{
    unsigned char h[SNAP_HDR];
    ssize_t r = read_full(fd, h, sizeof h, 0);
    if (r < 0)
        return io_fail(ix, "cannot read", SNAP_NAME);
    if (r >= 8 && memcmp(h, "NDIXSNAP", 8) != 0)
        return nd__ix_fail(ix, ND_ERR_FORMAT,
                           "%s/%s: not a neardup index snapshot", ix->dir,
                           SNAP_NAME);
    if (r < (ssize_t)sizeof h)
        return snap_corrupt(ix, "truncated header");
    uint32_t ver = get32(h + 8);
    if (ver > FORMAT_VERSION)
        return nd__ix_fail(ix, ND_ERR_FORMAT,
                           "%s/%s: format version %u is newer than this "
                           "library reads (%u)",
                           ix->dir, SNAP_NAME, ver, FORMAT_VERSION);
    if (get64(h + 120) != XXH3_64bits(h, 120) || ver == 0 ||
        get32(h + 12) != SNAP_HDR)
        return snap_corrupt(ix, "header checksum mismatch");
    nd_params st;
    unsigned sb, sr;
    int rc = params_read(ix, h + 16, &st, &sb, &sr);
    if (rc)
        return rc;
    if (asked && (rc = params_compare(ix, &st, sb, sr, asked)))
        return rc;
    if (asked) {
        ix->p = *asked;
        ix->p.bands = sb;
        ix->p.rows = sr;
    } else {
        ix->p = st;
    }
    if ((rc = nd__ixmem_init(&ix->m, st.num_perm, sb, sr)))
        return nd__ix_fail(ix, rc, "out of memory");
    ix->gen = get64(h + 80);
    *ndocs = get64(h + 88);
    *idbytes = get64(h + 96);
    *bodysum = get64(h + 104);
    uint64_t rec = (uint64_t)st.num_perm * 4 + 20;
    if (*ndocs > fsize / rec || *idbytes > fsize ||
        SNAP_HDR + *ndocs * rec + *idbytes != fsize)
        return snap_corrupt(ix, "size does not match its header (truncated?)");
    return ND_OK;
}

static int snap_load(nd_index *ix, int fd, const nd_params *asked)
{
    struct stat sb;
    if (fstat(fd, &sb))
        return io_fail(ix, "cannot stat", SNAP_NAME);
    uint64_t fsize = (uint64_t)sb.st_size, ndocs = 0, idbytes = 0, sum = 0;
    int rc = snap_header(ix, fd, asked, fsize, &ndocs, &idbytes, &sum);
    if (rc)
        return rc;
    nd__ixmem *m = &ix->m;
    size_t rec = (size_t)m->k * 4 + 20;
    size_t cap = (4u << 20) > 2 * (rec + ND_INDEX_MAX_ID)
                     ? (4u << 20)
                     : 2 * (rec + ND_INDEX_MAX_ID);
    unsigned char *buf = malloc(cap);
    uint32_t *sig = malloc((size_t)m->k * 4);
    XXH3_state_t *h = XXH3_createState();
    if (!buf || !sig || !h) {
        rc = nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory");
        goto out;
    }
    XXH3_64bits_reset(h);
    uint64_t off = SNAP_HDR;
    size_t have = 0, pos = 0;
    for (uint64_t d = 0; d < ndocs; d++) {
        if (have - pos < rec + ND_INDEX_MAX_ID && off < fsize) {
            memmove(buf, buf + pos, have - pos);
            have -= pos;
            pos = 0;
            uint64_t want = fsize - off;
            if (want > cap - have)
                want = cap - have;
            ssize_t r = read_full(fd, buf + have, (size_t)want, off);
            if (r < 0) {
                rc = io_fail(ix, "cannot read", SNAP_NAME);
                goto out;
            }
            if ((uint64_t)r != want) {
                rc = snap_corrupt(ix, "file shrank while being read");
                goto out;
            }
            XXH3_64bits_update(h, buf + have, (size_t)want);
            have += (size_t)want;
            off += want;
        }
        if (have - pos < rec) {
            rc = snap_corrupt(ix, "truncated document record");
            goto out;
        }
        const unsigned char *p = buf + pos;
        uint32_t idlen = get32(p + (size_t)m->k * 4 + 16);
        if (idlen == 0 || idlen > ND_INDEX_MAX_ID ||
            have - pos < rec + idlen) {
            rc = snap_corrupt(ix, "bad id length in a document record");
            goto out;
        }
        const char *id = (const char *)p + rec;
        if (nd__ixmem_find(m, id, idlen) != ND__IX_NONE) {
            rc = snap_corrupt(ix, "an id appears twice");
            goto out;
        }
        if ((rc = nd__ixmem_reserve(m, idlen))) {
            rc = nd__ix_fail(ix, rc, "out of memory");
            goto out;
        }
        get_sig(sig, p, m->k);
        nd__ixmem_insert(m, id, idlen, sig, get64(p + (size_t)m->k * 4),
                         (int64_t)get64(p + (size_t)m->k * 4 + 8));
        pos += rec + idlen;
    }
    if (pos != have || off != fsize || m->id_bytes != idbytes) {
        rc = snap_corrupt(ix, "records do not fill the file");
        goto out;
    }
    if (XXH3_64bits_digest(h) != sum) {
        rc = snap_corrupt(ix, "body checksum mismatch");
        goto out;
    }
    ix->snap_bytes = fsize;
out:
    free(buf);
    free(sig);
    XXH3_freeState(h);
    return rc;
}

/* ------------------------------------------------------------ log */

static void wal_header(const nd_index *ix, uint64_t gen, unsigned char *h)
{
    unsigned char pb[PBLOCK];
    params_block(ix, pb);
    memset(h, 0, WAL_HDR);
    memcpy(h, "NDIXWLOG", 8);
    put32(h + 8, FORMAT_VERSION);
    put32(h + 12, WAL_HDR);
    put64(h + 16, gen);
    put64(h + 24, XXH3_64bits(pb, PBLOCK));
    put64(h + 56, XXH3_64bits(h, 56));
}

/* A fresh, empty log of generation gen; on success ix->walfd is it. */
static int wal_create(nd_index *ix, int dirfd, uint64_t gen, int *fdout)
{
    unsigned char h[WAL_HDR];
    wal_header(ix, gen, h);
    int fd = openat(dirfd, WAL_TMP, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
                    0666);
    if (fd < 0)
        return io_fail(ix, "cannot create", WAL_TMP);
    if (write_all(fd, h, WAL_HDR, 0) || fsync(fd) ||
        renameat(dirfd, WAL_TMP, dirfd, WAL_NAME) || fsync(dirfd)) {
        int rc = io_fail(ix, "cannot write", WAL_NAME);
        close(fd);
        return rc;
    }
    *fdout = fd;
    return ND_OK;
}

static int wal_corrupt(nd_index *ix, uint64_t off, const char *why)
{
    return nd__ix_fail(ix, ND_ERR_CORRUPT, "%s/%s: offset %llu: %s", ix->dir,
                       WAL_NAME, (unsigned long long)off, why);
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Apply one checked record. */
static int wal_apply(nd_index *ix, uint32_t type, const unsigned char *p,
                     uint32_t len, uint64_t off, uint32_t *sig)
{
    nd__ixmem *m = &ix->m;
    if (type == REC_ADD) {
        if (len < 20)
            return wal_corrupt(ix, off, "short ADD record");
        uint32_t idlen = get32(p + 16);
        if (idlen == 0 || idlen > ND_INDEX_MAX_ID ||
            len != 20 + idlen + (uint64_t)m->k * 4)
            return wal_corrupt(ix, off, "bad ADD record length");
        const char *id = (const char *)p + 20;
        if (nd__ixmem_find(m, id, idlen) != ND__IX_NONE)
            return wal_corrupt(ix, off, "ADD of an id already present");
        int rc = nd__ixmem_reserve(m, idlen);
        if (rc)
            return nd__ix_fail(ix, rc, "out of memory");
        get_sig(sig, p + 20 + idlen, m->k);
        nd__ixmem_insert(m, id, idlen, sig, get64(p + 8),
                         (int64_t)get64(p));
    } else if (type == REC_REMOVE) {
        if (len < 4 || get32(p) != len - 4)
            return wal_corrupt(ix, off, "bad REMOVE record length");
        uint32_t s = nd__ixmem_find(m, (const char *)p + 4, len - 4);
        if (s == ND__IX_NONE)
            return wal_corrupt(ix, off, "REMOVE of an absent id");
        nd__ixmem_kill(m, s);
    } else if (type == REC_EVICT) {
        if (len != 8)
            return wal_corrupt(ix, off, "bad EVICT record length");
        nd__ixmem_evict(m, (int64_t)get64(p));
    } else {
        return wal_corrupt(ix, off, "unknown record type");
    }
    return ND_OK;
}

/*
 * Replay index.wal onto memory.  *valid receives the length of the good
 * prefix (0: the log is stale or missing and must be recreated).
 */
static int wal_load(nd_index *ix, int fd, uint64_t *valid)
{
    *valid = 0;
    struct stat sb;
    if (fstat(fd, &sb))
        return io_fail(ix, "cannot stat", WAL_NAME);
    uint64_t fsize = (uint64_t)sb.st_size;
    if (fsize > SIZE_MAX)
        return nd__ix_fail(ix, ND_ERR_NOMEM, "log too large");
    unsigned char *buf = malloc(fsize ? (size_t)fsize : 1);
    uint32_t *sig = malloc((size_t)ix->m.k * 4);
    int rc = ND_OK;
    if (!buf || !sig) {
        rc = nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory reading the log");
        goto out;
    }
    ssize_t r = read_full(fd, buf, (size_t)fsize, 0);
    if (r < 0) {
        rc = io_fail(ix, "cannot read", WAL_NAME);
        goto out;
    }
    size_t n = (size_t)r;
    if (n >= 8 && memcmp(buf, "NDIXWLOG", 8) != 0) {
        rc = nd__ix_fail(ix, ND_ERR_FORMAT, "%s/%s: not a neardup index log",
                         ix->dir, WAL_NAME);
        goto out;
    }
    if (n < WAL_HDR) {
        rc = wal_corrupt(ix, 0, "truncated header");
        goto out;
    }
    uint32_t ver = get32(buf + 8);
    if (ver > FORMAT_VERSION) {
        rc = nd__ix_fail(ix, ND_ERR_FORMAT,
                         "%s/%s: format version %u is newer than this "
                         "library reads (%u)",
                         ix->dir, WAL_NAME, ver, FORMAT_VERSION);
        goto out;
    }
    unsigned char expect[WAL_HDR];
    uint64_t gen = get64(buf + 16);
    wal_header(ix, gen, expect);
    if (get64(buf + 56) != XXH3_64bits(buf, 56)) {
        rc = wal_corrupt(ix, 0, "header checksum mismatch");
        goto out;
    }
    if (memcmp(buf, expect, WAL_HDR) != 0) {
        rc = nd__ix_fail(ix, ND_ERR_CORRUPT,
                         "%s/%s: the log belongs to other parameters",
                         ix->dir, WAL_NAME);
        goto out;
    }
    if (gen < ix->gen)
        goto out; /* already in the snapshot */
    if (gen > ix->gen) {
        rc = wal_corrupt(ix, 0, "log is newer than the snapshot");
        goto out;
    }
    size_t pos = WAL_HDR;
    while (pos < n) {
        size_t left = n - pos;
        uint32_t len = left >= 8 ? get32(buf + pos) : 0;
        if (left < 8 || (uint64_t)len + 16 > left)
            break; /* cut short: a torn tail */
        const unsigned char *p = buf + pos;
        if (get64(p + 8 + len) != XXH3_64bits(p, 8 + (size_t)len)) {
            size_t end = pos + 16 + (size_t)len;
            if (all_zero(buf + end, n - end))
                break;
            rc = wal_corrupt(ix, pos, "record checksum mismatch");
            goto out;
        }
        if ((rc = wal_apply(ix, get32(p + 4), p + 8, len, pos, sig)))
            goto out;
        pos += 16 + (size_t)len;
    }
    *valid = pos;
out:
    free(buf);
    free(sig);
    return rc;
}

/* ------------------------------------------------------------ writing */

static int pend_flush(nd_index *ix)
{
    if (ix->plen == 0)
        return ND_OK;
    if (ix->walfd < 0)
        return nd__ix_fail(ix, ND_ERR_IO, "%s/%s: the log is unavailable "
                           "after an earlier error; sync to recover",
                           ix->dir, WAL_NAME);
    if (write_all(ix->walfd, ix->pend, ix->plen, ix->wal_bytes)) {
        int rc = io_fail(ix, "cannot write", WAL_NAME);
        if (ftruncate(ix->walfd, (off_t)ix->wal_bytes)) {
            /* the bytes beyond wal_bytes are a tail the next open drops */
        }
        return rc;
    }
    ix->wal_bytes += ix->plen;
    ix->plen = 0;
    return ND_OK;
}

int nd__ixstore_reserve(nd_index *ix, size_t payload)
{
    if (!ix->dir)
        return ND_OK;
    if (ix->plen >= FLUSH_AT && ix->walfd >= 0) {
        int rc = pend_flush(ix);
        if (rc)
            return rc;
    }
    size_t need = ix->plen + 16 + payload;
    if (need > ix->pcap) {
        size_t c = ix->pcap ? ix->pcap : 4096;
        while (c < need)
            c *= 2;
        unsigned char *p = realloc(ix->pend, c);
        if (!p)
            return nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory");
        ix->pend = p;
        ix->pcap = c;
    }
    return ND_OK;
}

static unsigned char *rec_begin(nd_index *ix, uint32_t type, size_t payload)
{
    unsigned char *p = ix->pend + ix->plen;
    put32(p, (uint32_t)payload);
    put32(p + 4, type);
    return p + 8;
}

static void rec_end(nd_index *ix, size_t payload)
{
    unsigned char *p = ix->pend + ix->plen;
    put64(p + 8 + payload, XXH3_64bits(p, 8 + payload));
    ix->plen += 16 + payload;
    ix->unsynced++;
}

int nd__ixstore_log_add(nd_index *ix, const char *id, size_t id_len,
                        const uint32_t *sig, uint64_t setsz, int64_t time)
{
    if (!ix->dir)
        return ND_OK;
    size_t payload = 20 + id_len + (size_t)ix->m.k * 4;
    unsigned char *p = rec_begin(ix, REC_ADD, payload);
    put64(p, (uint64_t)time);
    put64(p + 8, setsz);
    put32(p + 16, (uint32_t)id_len);
    memcpy(p + 20, id, id_len);
    put_sig(p + 20 + id_len, sig, ix->m.k);
    rec_end(ix, payload);
    return ND_OK;
}

int nd__ixstore_log_remove(nd_index *ix, const char *id, size_t id_len)
{
    if (!ix->dir)
        return ND_OK;
    unsigned char *p = rec_begin(ix, REC_REMOVE, 4 + id_len);
    put32(p, (uint32_t)id_len);
    memcpy(p + 4, id, id_len);
    rec_end(ix, 4 + id_len);
    return ND_OK;
}

int nd__ixstore_log_evict(nd_index *ix, int64_t time)
{
    if (!ix->dir)
        return ND_OK;
    unsigned char *p = rec_begin(ix, REC_EVICT, 8);
    put64(p, (uint64_t)time);
    rec_end(ix, 8);
    return ND_OK;
}

int nd__ixstore_compact_due(const nd_index *ix)
{
    const nd__ixmem *m = &ix->m;
    uint64_t fresh = SNAP_HDR + (uint64_t)m->live * ((uint64_t)m->k * 4 + 20) +
                     m->id_bytes;
    uint64_t disk = ix->snap_bytes + ix->wal_bytes + ix->plen;
    return disk > fresh + fresh / 4 + 65536;
}

/* Compact in place: snapshot gen + 1, then an empty log gen + 1. */
static int compact(nd_index *ix)
{
    uint64_t size;
    int rc = snap_write(ix, ix->dirfd, ix->gen + 1, &size);
    if (rc)
        return rc;
    ix->gen++;
    ix->snap_bytes = size;
    ix->plen = 0;
    ix->unsynced = 0;
    if (ix->walfd >= 0)
        close(ix->walfd);
    ix->walfd = -1;
    ix->wal_bytes = 0;
    int fd;
    if ((rc = wal_create(ix, ix->dirfd, ix->gen, &fd)))
        return rc; /* the snapshot holds everything; the next sync retries */
    ix->walfd = fd;
    ix->wal_bytes = WAL_HDR;
    return ND_OK;
}

int nd__ixstore_sync(nd_index *ix)
{
    if (!ix->dir || ix->readonly)
        return ND_OK;
    if (ix->walfd < 0)
        return compact(ix);
    int rc = pend_flush(ix);
    if (rc)
        return rc;
    if (ix->unsynced) {
        if (fdatasync(ix->walfd))
            return io_fail(ix, "cannot fdatasync", WAL_NAME);
        ix->unsynced = 0;
    }
    if (nd__ixstore_compact_due(ix))
        return compact(ix);
    return ND_OK;
}

static int same_dir(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int nd__ixstore_save(nd_index *ix, const char *path)
{
    if (ix->dir && (!path || same_dir(ix->dirfd, path))) {
        if (ix->readonly)
            return nd__ix_fail(ix, ND_ERR_STATE,
                               "%s: the index is open read-only", ix->dir);
        return compact(ix);
    }
    if (!path)
        return nd__ix_fail(ix, ND_ERR_PARAM,
                           "an index in memory needs a path to save to");
    char *own = ix->dir;
    ix->dir = (char *)path; /* for messages */
    int rc = ND_OK, dfd = -1, lfd = -1, wfd = -1;
    uint64_t size;
    if (mkdir(path, 0777) && errno != EEXIST) {
        rc = io_fail(ix, "cannot make the directory", ".");
        goto out;
    }
    dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc = io_fail(ix, "cannot open the directory", ".");
        goto out;
    }
    lfd = openat(dfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (lfd < 0) {
        rc = io_fail(ix, "cannot open", LOCK_NAME);
        goto out;
    }
    if (flock(lfd, LOCK_EX | LOCK_NB)) {
        rc = nd__ix_fail(ix, ND_ERR_STATE,
                         "%s: the index there is open for writing", path);
        goto out;
    }
    if (unlinkat(dfd, WAL_NAME, 0) && errno != ENOENT) {
        rc = io_fail(ix, "cannot remove", WAL_NAME);
        goto out;
    }
    if ((rc = snap_write(ix, dfd, 1, &size)) ||
        (rc = wal_create(ix, dfd, 1, &wfd)))
        goto out;
out:
    if (wfd >= 0)
        close(wfd);
    if (lfd >= 0)
        close(lfd);
    if (dfd >= 0)
        close(dfd);
    ix->dir = own;
    return rc;
}

/* ------------------------------------------------------------ open */

static int open_new(nd_index *ix, const nd_params *p)
{
    nd_params def;
    if (!p) {
        nd_params_init(&def);
        p = &def;
    }
    unsigned b, r;
    nd_params_lsh(p, &b, &r);
    ix->p = *p;
    ix->p.bands = b;
    ix->p.rows = r;
    int rc = nd__ixmem_init(&ix->m, p->num_perm, b, r);
    if (rc)
        return nd__ix_fail(ix, rc, "out of memory");
    ix->gen = 1;
    if ((rc = snap_write(ix, ix->dirfd, 1, &ix->snap_bytes)) ||
        (rc = wal_create(ix, ix->dirfd, 1, &ix->walfd)))
        return rc;
    ix->wal_bytes = WAL_HDR;
    return ND_OK;
}

int nd__ixstore_open(nd_index *ix, const char *path, const nd_params *p,
                     int flags)
{
    ix->readonly = (flags & ND_INDEX_READONLY) != 0;
    ix->dir = strdup(path);
    if (!ix->dir)
        return nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory");
    if (p) {
        char msg[256];
        if (nd_params_check(p, msg, sizeof msg) != ND_OK)
            return nd__ix_fail(ix, ND_ERR_PARAM, "%s", msg);
    }
    int create = (flags & ND_INDEX_CREATE) && !ix->readonly;
    if (create && mkdir(path, 0777) && errno != EEXIST)
        return io_fail(ix, "cannot make the directory", ".");
    ix->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ix->dirfd < 0) {
        if (errno == ENOENT)
            return nd__ix_fail(ix, ND_ERR_NOTFOUND, "%s: no index there",
                               path);
        return io_fail(ix, "cannot open the directory", ".");
    }
    if (!ix->readonly) {
        ix->lockfd = openat(ix->dirfd, LOCK_NAME,
                            O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (ix->lockfd < 0)
            return io_fail(ix, "cannot open", LOCK_NAME);
        if (flock(ix->lockfd, LOCK_EX | LOCK_NB))
            return nd__ix_fail(ix, ND_ERR_STATE,
                               "%s: the index is open for writing elsewhere",
                               path);
        unlinkat(ix->dirfd, SNAP_TMP, 0);
        unlinkat(ix->dirfd, WAL_TMP, 0);
    }
    int sfd = openat(ix->dirfd, SNAP_NAME, O_RDONLY | O_CLOEXEC);
    int wfd = openat(ix->dirfd, WAL_NAME,
                     (ix->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    int rc = ND_OK;
    if (sfd < 0) {
        if (errno != ENOENT)
            rc = io_fail(ix, "cannot open", SNAP_NAME);
        else if (wfd >= 0)
            rc = snap_corrupt(ix, "missing, but a log is present");
        else if (!create)
            rc = nd__ix_fail(ix, ND_ERR_NOTFOUND, "%s: no index there", path);
        else
            rc = open_new(ix, p);
        if (wfd >= 0)
            close(wfd);
        return rc;
    }
    rc = snap_load(ix, sfd, p);
    close(sfd);
    uint64_t valid = 0;
    if (rc == ND_OK && wfd >= 0)
        rc = wal_load(ix, wfd, &valid);
    if (rc == ND_OK && !ix->readonly) {
        if (valid == 0) {
            if (wfd >= 0)
                close(wfd);
            wfd = -1;
            rc = wal_create(ix, ix->dirfd, ix->gen, &ix->walfd);
            valid = WAL_HDR;
        } else {
            struct stat st;
            if (fstat(wfd, &st) == 0 && (uint64_t)st.st_size > valid &&
                (ftruncate(wfd, (off_t)valid) || fsync(wfd)))
                rc = io_fail(ix, "cannot cut the torn tail of", WAL_NAME);
            ix->walfd = wfd;
            wfd = -1;
        }
        ix->wal_bytes = valid;
    } else {
        ix->wal_bytes = valid;
    }
    if (wfd >= 0)
        close(wfd);
    return rc;
}

void nd__ixstore_close(nd_index *ix)
{
    if (ix->walfd >= 0)
        close(ix->walfd);
    if (ix->lockfd >= 0)
        close(ix->lockfd);
    if (ix->dirfd >= 0)
        close(ix->dirfd);
    ix->walfd = ix->lockfd = ix->dirfd = -1;
    free(ix->dir);
    free(ix->pend);
    ix->dir = NULL;
    ix->pend = NULL;
}
