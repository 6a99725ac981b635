/*
 * ixstore.c - an index directory on disk: snapshot + write-ahead log.
 *
 * index.nds, the snapshot (all integers little-endian):
 *   header, 192 bytes: magic "NDIXSNAP", format version, header size, the
 *     parameter block (96 bytes), generation, document count, id bytes,
 *     variable bytes (figures and counter lists), XXH3-64 of the body,
 *     the frequency sample's rate (log2) and counter bits, reserved zeros,
 *     XXH3-64 of the first 184 bytes;
 *   body: per document, in order of addition: signature (num_perm u32),
 *     set size u64, time i64, id length u32, id bytes, figure count u8
 *     (saturated) and, when it is 3..16, that many u32 figure values, then
 *     L u32 and a counter list of L - 1 bytes (L 0: not counted; ixmem.c).
 *   Band keys and frequency counters are not stored: open recomputes them
 *   from the signatures and the lists, so the file is the raw signatures
 *   plus 25 bytes, the id, the figures and the lists per document.  Open
 *   fills the slots from the snapshot and the log first, then builds each
 *   band table once at its final size (ixmem.c), in time linear in the
 *   documents.
 * index.wal, the log: a 64-byte header (magic "NDIXWLOG", version, header
 *   size, generation, XXH3 of the parameter block, XXH3 of the header),
 *   then records [u32 payload length][u32 type][payload][u64 XXH3 of the
 *   preceding 8 + length bytes]:
 *     ADD     time i64, set size u64, id length u32, id, signature, then
 *             figures and counter list as in the snapshot
 *     REMOVE  id length u32, id
 *     EVICT   time i64
 *   The sample's halvings are not logged: replaying the adds and removals
 *   in order repeats them.
 * Older formats are refused with ND_ERR_FORMAT, each with its own message,
 *   since none can be converted without the texts: format 1 (before figures
 *   and boilerplate) has neither figures nor shingle counts to give; format
 *   2 hashed word shingles by an older rule; format 3 holds signatures
 *   before the copied-bin bit (bit 15 of a value, sketch.h) and the
 *   estimator that skips such bins, and figure sketches that still counted
 *   years and times of day as figures: its documents would be compared
 *   with new ones on other terms.
 * LOCK: flock()ed by the one writer.
 *
 * Crash safety.  Each write is encoded into a memory buffer and, unless
 * the index was opened ND_INDEX_BUFFERED, written at the end of the log
 * with write(2) before the call returns (memory changes only once the
 * record is in the log): an acknowledged write survives the death of the
 * process.  Buffered, records wait for nd_index_flush (or 1 MB of them).
 * nd_index_sync writes what waits and fdatasyncs: it survives power loss.
 *
 * On open the log is replayed up to the first record that is cut short or
 * fails its checksum.  What a crash leaves there is a torn tail, dropped
 * (and cut off by a writable open): a final record cut short by the end of
 * the file (a write that did not finish), or zero bytes from inside the
 * final record, over its checksum, to the end (a file system that grew the
 * file before its data reached the disk).  Anything else is damage, and the
 * open fails with ND_ERR_CORRUPT naming the offset, touching nothing: a
 * complete record whose checksum fails, a record header no writer makes
 * (unknown type, a length beyond any record's), a last record whose bytes
 * check out under another length (its length field was hit), and above all
 * any complete, checksummed record after the bad one -- so a flipped
 * length field never passes for a torn tail and never has the next writer
 * cut away the records behind it.
 *
 * A directory with a snapshot has a log: the log is made before the
 * snapshot of a new index (a creation cut short leaves only an empty log
 * of generation 1, opened as no index at all), and compaction replaces it
 * by rename.  A missing log is therefore damage too, as are a snapshot or
 * log that is not a regular file (opened O_NONBLOCK: a FIFO does not hang
 * the open).
 *
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
#include "../core/params.h"

#define SNAP_NAME "index.nds"
#define SNAP_TMP "index.nds.tmp"
#define WAL_NAME "index.wal"
#define WAL_TMP "index.wal.tmp"
#define LOCK_NAME "LOCK"
#define FORMAT_VERSION 4u
#define SNAP_HDR 192u
#define SNAP_SUM 184u
#define WAL_HDR 64u
#define PBLOCK 96u
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

/* Bytes of a document's figures and counter list as stored. */
static size_t extras_size(uint32_t nfigs, const uint8_t *dfl)
{
    return 1 + 4 * (size_t)nd__ixfigs_kept(nfigs) + 4 +
           (dfl ? nd__ixdf_list_bytes(dfl) - 4 : 0);
}

static size_t put_extras(unsigned char *p, const uint32_t *figs,
                         uint32_t nfigs, const uint8_t *dfl)
{
    unsigned kept = figs ? nd__ixfigs_kept(nfigs) : 0;
    p[0] = (unsigned char)(!figs ? 0 : nfigs > 255 ? 255 : nfigs);
    for (unsigned i = 0; i < kept; i++)
        put32(p + 1 + 4 * i, figs[i]);
    size_t at = 1 + 4 * (size_t)kept;
    size_t body = dfl ? nd__ixdf_list_bytes(dfl) - 4 : 0;
    put32(p + at, dfl ? (uint32_t)body + 1 : 0);
    if (dfl)
        memcpy(p + at + 4, dfl + 4, body);
    return at + 4 + body;
}

/*
 * Read stored extras from p[0..avail): figures into figs (ND__FIGS values,
 * UINT32_MAX beyond those kept) and *nfigs, and the counter list into a new
 * *dfl (NULL when not counted).  Bytes used, or 0 when malformed (*dfl is
 * then NULL), or SIZE_MAX when out of memory.
 */
static size_t get_extras(const unsigned char *p, size_t avail, uint32_t *figs,
                         uint32_t *nfigs, uint8_t **dfl)
{
    *dfl = NULL;
    if (avail < 5)
        return 0;
    *nfigs = p[0];
    unsigned kept = nd__ixfigs_kept(*nfigs);
    size_t at = 1 + 4 * (size_t)kept;
    if (avail < at + 4)
        return 0;
    for (unsigned i = 0; i < ND__FIGS; i++)
        figs[i] = i < kept ? get32(p + 1 + 4 * i) : UINT32_MAX;
    for (unsigned i = 1; i < kept; i++)
        if (figs[i] <= figs[i - 1])
            return 0;
    uint32_t l = get32(p + at);
    at += 4;
    if (l == 0)
        return at;
    size_t body = l - 1;
    if (avail - at < body ||
        nd__ixdf_list_check(p + at, body) != ND_OK)
        return 0;
    uint8_t *d = malloc(4 + body);
    if (!d)
        return SIZE_MAX;
    put32(d, (uint32_t)body);
    memcpy(d + 4, p + at, body);
    *dfl = d;
    return at + body;
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
    put32(b + 36, ix->m.nmain);
    put32(b + 40, ix->m.rows);
    memcpy(&t, &ix->p.containment, 8);
    put64(b + 48, t);
    put32(b + 56, (uint32_t)ix->p.sketch);
    put32(b + 60, ix->p.boilerplate_min);
    memcpy(&t, &ix->p.boilerplate, 8);
    put64(b + 64, t);
    memcpy(&t, &ix->p.figures, 8);
    put64(b + 72, t);
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
    p->boilerplate_min = get32(b + 60);
    t = get64(b + 64);
    memcpy(&p->boilerplate, &t, 8);
    t = get64(b + 72);
    memcpy(&p->figures, &t, 8);
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
    ND__CMP("shingle", "%s", nd__shingle_name(st->shingle),
            nd__shingle_name(q->shingle))
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
    ND__CMP("figures", "%.17g", st->figures, q->figures)
    ND__CMP("boilerplate", "%.17g", st->boilerplate, q->boilerplate)
    if (st->boilerplate > 0.0)
        ND__CMP("boilerplate_min", "%u", st->boilerplate_min,
                q->boilerplate_min)
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

/*
 * openat() a file of the directory that must be a regular file.  O_NONBLOCK
 * keeps a FIFO in its place from blocking the open; it is cleared again
 * (it means nothing to a regular file).  Returns the descriptor, or -1 with
 * errno (ENOENT: absent), or -2 when the name is not a regular file.
 */
static int open_regular(int dirfd, const char *name, int flags, mode_t mode)
{
    int fd = openat(dirfd, name, flags | O_NONBLOCK | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -2;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int not_regular(nd_index *ix, const char *name)
{
    return nd__ix_fail(ix, ND_ERR_FORMAT, "%s/%s: not a regular file",
                       ix->dir, name);
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
    w.cap = 8u << 20;
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
        const uint8_t *dfl = m->df ? m->dfl[s] : NULL;
        const uint32_t *figs = m->with_figs ? m->figs + s * ND__FIGS : NULL;
        uint32_t nf = m->with_figs ? m->nfigs[s] : 0;
        size_t ext = extras_size(nf, dfl);
        if (w.cap - w.len < rec + m->idlen[s] + ext && wbuf_flush(&w)) {
            rc = io_fail(ix, "cannot write", SNAP_TMP);
            goto out;
        }
        if (w.cap < rec + m->idlen[s] + ext) {
            unsigned char *nb = realloc(w.b, rec + m->idlen[s] + ext);
            if (!nb) {
                rc = nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory writing %s",
                                 SNAP_NAME);
                goto out;
            }
            w.b = nb;
            w.cap = rec + m->idlen[s] + ext;
        }
        unsigned char *p = w.b + w.len;
        put_sig(p, m->sig + s * m->k, m->k);
        p += (size_t)m->k * 4;
        put64(p, m->setsz[s]);
        put64(p + 8, (uint64_t)m->time[s]);
        put32(p + 16, m->idlen[s]);
        memcpy(p + 20, m->id[s], m->idlen[s]);
        put_extras(p + 20 + m->idlen[s], figs, nf, dfl);
        w.len += rec + m->idlen[s] + ext;
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
    put64(h + 112, gen);
    put64(h + 120, m->live);
    put64(h + 128, m->id_bytes);
    put64(h + 136, m->var_bytes);
    put64(h + 144, XXH3_64bits_digest(w.h));
    put32(h + 152, m->df ? m->df->rate_log : 0);
    put32(h + 156, ND__IX_DF_BITS);
    put64(h + SNAP_SUM, XXH3_64bits(h, SNAP_SUM));
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
                       uint64_t *varbytes, uint64_t *bodysum)
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
    if (ver == 1 && get32(h + 12) == 128)
        return nd__ix_fail(ix, ND_ERR_FORMAT,
                           "%s/%s: format version 1 (before figure checks "
                           "and boilerplate suppression) is not read by "
                           "this library (%u): index the texts anew",
                           ix->dir, SNAP_NAME, FORMAT_VERSION);
    if (ver == 2 && get32(h + 12) == SNAP_HDR)
        return nd__ix_fail(ix, ND_ERR_FORMAT,
                           "%s/%s: format version 2 (word shingles hashed "
                           "by an older rule) is not read by this library "
                           "(%u): index the texts anew",
                           ix->dir, SNAP_NAME, FORMAT_VERSION);
    if (ver == 3 && get32(h + 12) == SNAP_HDR)
        return nd__ix_fail(ix, ND_ERR_FORMAT,
                           "%s/%s: format version 3 (signatures and figure "
                           "sketches of an older definition) is not read by "
                           "this library (%u): index the texts anew",
                           ix->dir, SNAP_NAME, FORMAT_VERSION);
    if (get64(h + SNAP_SUM) != XXH3_64bits(h, SNAP_SUM) ||
        ver != FORMAT_VERSION || get32(h + 12) != SNAP_HDR)
        return snap_corrupt(ix, "header checksum mismatch");
    if (get32(h + 156) != ND__IX_DF_BITS || get32(h + 152) > 63)
        return snap_corrupt(ix, "bad frequency sample fields");
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
    unsigned cb, cr;
    nd__params_lsh_contain(&st, sr, &cb, &cr);
    if ((st.boilerplate > 0.0 && (rc = nd__ixdf_init(&ix->df))) ||
        (rc = nd__ixmem_init(&ix->m, st.num_perm, sb, sr, cb, cr,
                             st.figures > 0.0,
                             st.boilerplate > 0.0 ? &ix->df : NULL)))
        return nd__ix_fail(ix, rc, "out of memory");
    if (ix->m.df)
        ix->df.rate_log = get32(h + 152);
    else if (get32(h + 152))
        return snap_corrupt(ix, "bad frequency sample fields");
    ix->gen = get64(h + 112);
    *ndocs = get64(h + 120);
    *idbytes = get64(h + 128);
    *varbytes = get64(h + 136);
    *bodysum = get64(h + 144);
    uint64_t rec = (uint64_t)st.num_perm * 4 + 25;
    if (*ndocs > fsize / rec || *idbytes > fsize || *varbytes > fsize ||
        SNAP_HDR + *ndocs * rec + *idbytes + *varbytes != fsize)
        return snap_corrupt(ix, "size does not match its header (truncated?)");
    return ND_OK;
}

static int snap_load(nd_index *ix, int fd, const nd_params *asked)
{
    struct stat sb;
    if (fstat(fd, &sb))
        return io_fail(ix, "cannot stat", SNAP_NAME);
    uint64_t fsize = (uint64_t)sb.st_size, ndocs = 0, idbytes = 0, sum = 0,
             varbytes = 0;
    int rc = snap_header(ix, fd, asked, fsize, &ndocs, &idbytes, &varbytes,
                         &sum);
    if (rc)
        return rc;
    nd__ixmem *m = &ix->m;
    size_t rec = (size_t)m->k * 4 + 20;
    /* the longest record: an id of ND_INDEX_MAX_ID, all figures kept, a
       list of 3 bytes per counter at most */
    size_t most = rec + ND_INDEX_MAX_ID + 5 + 4 * ND__FIGS +
                  3 * ((size_t)1 << ND__IX_DF_BITS);
    size_t cap = 2 * most;
    uint32_t figs[ND__FIGS];
    unsigned char *buf = malloc(cap);
    uint32_t *sig = malloc((size_t)m->k * 4);
    XXH3_state_t *h = XXH3_createState();
    if (!buf || !sig || !h) {
        rc = nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory");
        goto out;
    }
    XXH3_64bits_reset(h);
    if ((rc = nd__ixmem_load_begin(m, (size_t)ndocs))) {
        rc = nd__ix_fail(ix, rc, "out of memory");
        goto out;
    }
    uint64_t off = SNAP_HDR;
    size_t have = 0, pos = 0;
    for (uint64_t d = 0; d < ndocs; d++) {
        if (have - pos < most && off < fsize) {
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
        uint32_t nf;
        uint8_t *dfl;
        size_t ext = get_extras(p + rec + idlen, have - pos - rec - idlen,
                                figs, &nf, &dfl);
        if (ext == SIZE_MAX) {
            rc = nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (ext == 0 || (dfl && !m->df) || (nf && !m->with_figs) ||
            (dfl && !nd__ixdf_sampled(m->df, id, idlen))) {
            free(dfl);
            rc = snap_corrupt(ix, "bad figures or counter list in a "
                                  "document record");
            goto out;
        }
        get_sig(sig, p, m->k);
        nd__ixmem_insert(m, id, idlen, sig, get64(p + (size_t)m->k * 4),
                         (int64_t)get64(p + (size_t)m->k * 4 + 8), figs, nf,
                         dfl);
        pos += rec + idlen + ext;
    }
    if (pos != have || off != fsize || m->id_bytes != idbytes ||
        m->var_bytes != varbytes) {
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

/* The longest payload written for a record of this type; 0: no such type. */
static uint64_t rec_most(const nd_index *ix, uint32_t type)
{
    switch (type) {
    case REC_ADD:
        return 20 + ND_INDEX_MAX_ID + (uint64_t)ix->m.k * 4 + 5 +
               4 * ND__FIGS + 3 * ((uint64_t)1 << ND__IX_DF_BITS);
    case REC_REMOVE:
        return 4 + ND_INDEX_MAX_ID;
    case REC_EVICT:
        return 8;
    default:
        return 0;
    }
}

/* 1 when a complete record of a known type with a good checksum starts at
 * buf[q] (of n bytes). */
static int rec_ok_at(const nd_index *ix, const unsigned char *buf, size_t n,
                     size_t q)
{
    if (n - q < 16)
        return 0;
    uint32_t type = get32(buf + q + 4);
    if (type < REC_ADD || type > REC_EVICT)
        return 0;
    uint64_t len = get32(buf + q);
    if (len > rec_most(ix, type) || len + 16 > n - q)
        return 0;
    return get64(buf + q + 8 + len) == XXH3_64bits(buf + q, 8 + (size_t)len);
}

/*
 * The record at buf[pos] (of n bytes) is cut short by the end of the log or
 * fails its checksum.  ND_OK when it is a tail torn by a crash, else
 * ND_ERR_CORRUPT saying why (the rules are at the top of the file).
 */
static int wal_tail(nd_index *ix, unsigned char *buf, size_t n, size_t pos)
{
    char why[160];
    for (size_t q = pos + 1; q + 16 <= n; q++)
        if (rec_ok_at(ix, buf, n, q)) {
            snprintf(why, sizeof why,
                     "damaged record, and complete records follow at offset "
                     "%zu; the log is left as it is", q);
            return wal_corrupt(ix, pos, why);
        }
    size_t left = n - pos, z = n; /* buf[z..n) are the zeros ending the log */
    while (z > pos && buf[z - 1] == 0)
        z--;
    if (z == pos || left < 8)
        return ND_OK; /* zeros only, or cut inside the record header */
    uint32_t len = get32(buf + pos), type = get32(buf + pos + 4);
    uint64_t most = rec_most(ix, type);
    if (most == 0 || len > most) {
        snprintf(why, sizeof why,
                 "damaged record header (type %u, length %u); the log is "
                 "left as it is", type, len);
        return wal_corrupt(ix, pos, why);
    }
    if ((uint64_t)len + 16 > left) {
        if (left >= 16) {
            /* do its bytes make a whole record under another length? */
            put32(buf + pos, (uint32_t)(left - 16));
            int whole = get64(buf + n - 8) == XXH3_64bits(buf + pos, left - 8);
            put32(buf + pos, len);
            if (whole)
                return wal_corrupt(ix, pos, "damaged length field in the last "
                                            "record; the log is left as it "
                                            "is");
        }
        return ND_OK; /* a write cut short */
    }
    if (z <= pos + 8 + (size_t)len)
        return ND_OK; /* zeros from inside it, over its checksum, to the end */
    return wal_corrupt(ix, pos, "record checksum mismatch; the log is left as "
                                "it is");
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
        size_t fixed = 20 + (size_t)idlen + (size_t)m->k * 4;
        if (idlen == 0 || idlen > ND_INDEX_MAX_ID || len < fixed)
            return wal_corrupt(ix, off, "bad ADD record length");
        const char *id = (const char *)p + 20;
        if (nd__ixmem_find(m, id, idlen) != ND__IX_NONE)
            return wal_corrupt(ix, off, "ADD of an id already present");
        uint32_t figs[ND__FIGS], nf;
        uint8_t *dfl;
        size_t ext = get_extras(p + fixed, len - fixed, figs, &nf, &dfl);
        if (ext == SIZE_MAX)
            return nd__ix_fail(ix, ND_ERR_NOMEM, "out of memory");
        if (ext == 0 || fixed + ext != len || (dfl && !m->df) ||
            (nf && !m->with_figs) ||
            (dfl && !nd__ixdf_sampled(m->df, id, idlen))) {
            free(dfl);
            return wal_corrupt(ix, off, "bad figures or counter list in an "
                                        "ADD record");
        }
        int rc = nd__ixmem_reserve(m, idlen);
        if (rc) {
            free(dfl);
            return nd__ix_fail(ix, rc, "out of memory");
        }
        get_sig(sig, p + 20 + idlen, m->k);
        nd__ixmem_insert(m, id, idlen, sig, get64(p + 8), (int64_t)get64(p),
                         figs, nf, dfl);
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
        const unsigned char *p = buf + pos;
        if (left < 8 || (uint64_t)len + 16 > left ||
            get64(p + 8 + len) != XXH3_64bits(p, 8 + (size_t)len)) {
            if ((rc = wal_tail(ix, buf, n, pos)))
                goto out;
            break;
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

int nd__ixstore_flush(nd_index *ix)
{
    if (!ix->dir || ix->readonly)
        return ND_OK;
    return pend_flush(ix);
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

/*
 * Seal the record begun at ix->plen.  Unbuffered, write it to the log now;
 * when that fails it is dropped, as if never made, and the error returned.
 */
static int rec_end(nd_index *ix, size_t payload)
{
    size_t at = ix->plen;
    unsigned char *p = ix->pend + at;
    put64(p + 8 + payload, XXH3_64bits(p, 8 + payload));
    ix->plen += 16 + payload;
    ix->unsynced++;
    if (ix->buffered)
        return ND_OK;
    int rc = pend_flush(ix);
    if (rc) {
        ix->plen = at;
        ix->unsynced--;
    }
    return rc;
}

int nd__ixstore_log_add(nd_index *ix, const char *id, size_t id_len,
                        const uint32_t *sig, uint64_t setsz, int64_t time,
                        const uint32_t *figs, uint32_t nfigs,
                        const uint8_t *dfl)
{
    if (!ix->dir)
        return ND_OK;
    if (!figs)
        nfigs = 0;
    size_t payload = 20 + id_len + (size_t)ix->m.k * 4 +
                     extras_size(nfigs, dfl);
    unsigned char *p = rec_begin(ix, REC_ADD, payload);
    put64(p, (uint64_t)time);
    put64(p + 8, setsz);
    put32(p + 16, (uint32_t)id_len);
    memcpy(p + 20, id, id_len);
    put_sig(p + 20 + id_len, sig, ix->m.k);
    put_extras(p + 20 + id_len + (size_t)ix->m.k * 4, figs, nfigs, dfl);
    return rec_end(ix, payload);
}

int nd__ixstore_log_remove(nd_index *ix, const char *id, size_t id_len)
{
    if (!ix->dir)
        return ND_OK;
    unsigned char *p = rec_begin(ix, REC_REMOVE, 4 + id_len);
    put32(p, (uint32_t)id_len);
    memcpy(p + 4, id, id_len);
    return rec_end(ix, 4 + id_len);
}

int nd__ixstore_log_evict(nd_index *ix, int64_t time)
{
    if (!ix->dir)
        return ND_OK;
    unsigned char *p = rec_begin(ix, REC_EVICT, 8);
    put64(p, (uint64_t)time);
    return rec_end(ix, 8);
}

int nd__ixstore_compact_due(const nd_index *ix)
{
    const nd__ixmem *m = &ix->m;
    uint64_t fresh = SNAP_HDR + (uint64_t)m->live * ((uint64_t)m->k * 4 + 25) +
                     m->id_bytes + m->var_bytes;
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
    lfd = open_regular(dfd, LOCK_NAME, O_RDWR | O_CREAT, 0666);
    if (lfd < 0) {
        rc = lfd == -2 ? not_regular(ix, LOCK_NAME)
                       : io_fail(ix, "cannot open", LOCK_NAME);
        goto out;
    }
    if (flock(lfd, LOCK_EX | LOCK_NB)) {
        rc = nd__ix_fail(ix, ND_ERR_STATE,
                         "%s: the index there is open for writing", path);
        goto out;
    }
    /* the index there goes first, then the log is made before the
       snapshot: cut short, this leaves no index or a refused one, never a
       snapshot without its log */
    if (unlinkat(dfd, SNAP_NAME, 0) && errno != ENOENT) {
        rc = io_fail(ix, "cannot remove", SNAP_NAME);
        goto out;
    }
    if ((rc = wal_create(ix, dfd, 1, &wfd)) ||
        (rc = snap_write(ix, dfd, 1, &size)))
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
    unsigned b, r, cb, cr;
    nd_params_lsh(p, &b, &r);
    nd__params_lsh_contain(p, r, &cb, &cr);
    ix->p = *p;
    ix->p.bands = b;
    ix->p.rows = r;
    int rc = ND_OK;
    if ((p->boilerplate > 0.0 && (rc = nd__ixdf_init(&ix->df))) ||
        (rc = nd__ixmem_init(&ix->m, p->num_perm, b, r, cb, cr,
                             p->figures > 0.0,
                             p->boilerplate > 0.0 ? &ix->df : NULL)))
        return nd__ix_fail(ix, rc, "out of memory");
    ix->gen = 1;
    /* the log first: a snapshot is never without its log */
    if ((rc = wal_create(ix, ix->dirfd, 1, &ix->walfd)) ||
        (rc = snap_write(ix, ix->dirfd, 1, &ix->snap_bytes)))
        return rc;
    ix->wal_bytes = WAL_HDR;
    return ND_OK;
}

/*
 * 1 when the log open as fd is what a creation cut short leaves: the bare
 * header of an empty log of generation 1, made before its snapshot.
 */
static int creation_cut_short(int fd)
{
    unsigned char h[WAL_HDR + 1];
    return read_full(fd, h, sizeof h, 0) == (ssize_t)WAL_HDR &&
           memcmp(h, "NDIXWLOG", 8) == 0 &&
           get64(h + 56) == XXH3_64bits(h, 56) && get64(h + 16) == 1;
}

int nd__ixstore_open(nd_index *ix, const char *path, const nd_params *p,
                     int flags)
{
    ix->readonly = (flags & ND_INDEX_READONLY) != 0;
    ix->buffered = (flags & ND_INDEX_BUFFERED) != 0;
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
        ix->lockfd = open_regular(ix->dirfd, LOCK_NAME, O_RDWR | O_CREAT,
                                  0666);
        if (ix->lockfd == -2)
            return not_regular(ix, LOCK_NAME);
        if (ix->lockfd < 0)
            return io_fail(ix, "cannot open", LOCK_NAME);
        if (flock(ix->lockfd, LOCK_EX | LOCK_NB))
            return nd__ix_fail(ix, ND_ERR_STATE,
                               "%s: the index is open for writing elsewhere",
                               path);
        unlinkat(ix->dirfd, SNAP_TMP, 0);
        unlinkat(ix->dirfd, WAL_TMP, 0);
    }
    int sfd = open_regular(ix->dirfd, SNAP_NAME, O_RDONLY, 0);
    if (sfd == -2)
        return not_regular(ix, SNAP_NAME);
    if (sfd < 0 && errno != ENOENT)
        return io_fail(ix, "cannot open", SNAP_NAME);
    int wfd = open_regular(ix->dirfd, WAL_NAME,
                           ix->readonly ? O_RDONLY : O_RDWR, 0);
    int rc = ND_OK;
    if (wfd == -2)
        rc = not_regular(ix, WAL_NAME);
    else if (wfd < 0 && errno != ENOENT)
        rc = io_fail(ix, "cannot open", WAL_NAME);
    else if (sfd < 0 && wfd >= 0 && !creation_cut_short(wfd))
        rc = snap_corrupt(ix, "missing, but a log is present");
    else if (sfd < 0 && !create)
        rc = nd__ix_fail(ix, ND_ERR_NOTFOUND, "%s: no index there", path);
    else if (sfd < 0)
        rc = open_new(ix, p);
    else if (wfd < 0)
        rc = nd__ix_fail(ix, ND_ERR_CORRUPT,
                         "%s/%s: missing; the log beside the snapshot holds "
                         "what was written since, so none is made in its "
                         "place",
                         path, WAL_NAME);
    if (rc != ND_OK || sfd < 0) {
        if (sfd >= 0)
            close(sfd);
        if (wfd >= 0)
            close(wfd);
        return rc;
    }
    rc = snap_load(ix, sfd, p);
    close(sfd);
    uint64_t valid = 0;
    if (rc == ND_OK)
        rc = wal_load(ix, wfd, &valid);
    if (rc == ND_OK && (rc = nd__ixmem_load_end(&ix->m)))
        rc = nd__ix_fail(ix, rc, "out of memory building the band tables");
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
