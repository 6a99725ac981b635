/*
 * job.c - the batch run of `neardup cluster | dedup | pairs` as one call
 * (nd_job_*): reading, both passes, spooling, keep policies, explain and
 * the output rows.
 *
 * Records are read in chunks (texts copied into a chunk buffer, then handed
 * to nd_batch_add_many, which sketches them in parallel and keeps no text).
 * Ids are kept for the rows; dedup also spools each raw record to an
 * unlinked temporary file, so memory holds neither texts nor records.
 * With boilerplate > 0 the records are read once to count shingle document
 * frequencies (nd_batch_count), then once more to be sketched.  Files and
 * directories are simply read again (a second copy of a large collection
 * on disk is avoided); the first reading parses only the records the
 * count's sample holds and skims past the other JSONL lines at the speed
 * of finding their ends (fill_skim); stdin, which
 * cannot be read twice, has its texts spooled to a temporary file in the
 * first pass.  Records refused in the first pass are skipped in the second
 * by their ordinal.
 * explain spools the texts the same way and reads the two texts of each
 * pair back after the run, to score it exactly and find the longest run of
 * normalized words the two share.
 * ND_KEEP_SOURCE maps each record's source name to its line in the
 * source_priority file (unlisted names rank after every listed one) and
 * hands that to the batch as the document's priority.
 * A bad record stops the job before any row is handed over, or, with
 * skip_bad, is counted and reported; every good record is a document.
 * With more than one thread, reading overlaps sketching: a thread of its
 * own reads and parses the next chunk while the library sketches this one
 * (two chunks, swapped under a mutex; see pump).  Reading and parsing take
 * some 15% of the time on news texts; done between the parallel bursts
 * they would leave the other cores idle that long.  The reading side calls
 * no callback and touches nothing the sketching side owns: its warnings,
 * errors and refusals go with the chunk as notes, replayed just before the
 * chunk is sketched, where a serial reading would have reported them.
 * A shared run (jobint.h, src/mpi/) reads pieces of the input in place of
 * the paths, numbers its records from the first it was given, and hands
 * its record counters to the process that clusters (nd__job_export,
 * _import).  The rows of cluster and dedup are written by each process
 * for its own documents, with the clusters it is given
 * (nd__job_write_given); those of pairs by the process owning the pair's
 * first document, which imports the ids (and texts, explain) of the
 * second documents it lacks (nd__job_export_docs, _import_docs,
 * nd__job_write_pairs).
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../neardup.h"
#include "jobint.h"
#include "../io/readerint.h"

#define CHUNK_DOCS 4096
#define CHUNK_BYTES (64u << 20)

typedef struct {
    char *p;
    size_t n, cap;
} buf;

/* Room for n more bytes in b. */
static int buf_reserve(buf *b, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    return 0;
}

static int buf_put(buf *b, const void *s, size_t n)
{
    if (buf_reserve(b, n))
        return -1;
    if (n) /* an empty text may come as a null pointer */
        memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}

/*
 * What reading a chunk produced besides records, in the order it happened:
 * a warning or an error (text in chunk.msgs), or the ordinal of a record
 * refused.
 */
typedef enum { NOTE_WARN, NOTE_ERROR, NOTE_REFUSE } note_kind;

typedef struct {
    note_kind kind;
    int code;      /* NOTE_WARN, NOTE_ERROR: an ND_ERR_* code */
    uint64_t ord;  /* NOTE_REFUSE */
    uint64_t line; /* NOTE_WARN */
    size_t file;   /* NOTE_WARN: offset of the file name in chunk.msgs */
    size_t msg;    /* offset of the message in chunk.msgs */
} note;

/* One chunk of records waiting to be sketched. */
typedef struct {
    buf text;
    size_t n;
    size_t off[CHUNK_DOCS + 1];
    size_t len[CHUNK_DOCS];
    nd_doc_meta meta[CHUNK_DOCS];
    uint64_t line[CHUNK_DOCS];
    buf files; /* NUL-separated file name of each record */
    size_t file_off[CHUNK_DOCS];
    buf keep;  /* id, then the raw record (dedup) of each record */
    size_t keep_off[CHUNK_DOCS + 1], id_len[CHUNK_DOCS];
    uint64_t ord[CHUNK_DOCS]; /* the record's ordinal among those read */
    uint64_t bytes;  /* input bytes the chunk's records took */
    note *notes;
    size_t nnotes, cap_notes;
    buf msgs;   /* NUL-terminated messages of the notes */
    int status; /* ND_OK, or why reading stopped (the error is a note) */
    int last;   /* nothing follows this chunk */
    int oom;    /* a note was lost for want of memory: reading stops here */
} chunk;

struct source_rank {
    char *name;
    size_t len;
    int32_t rank;  /* 0 for the first name of the file */
    uint64_t line;
};

struct nd_job {
    nd_job_opts o;
    nd_batch *batch;
    buf ids;            /* id texts, back to back */
    size_t *id_off;     /* n + 1 offsets into ids */
    size_t nids, cap_ids;
    FILE *spool;        /* dedup: raw records */
    FILE *texts;        /* boilerplate on stdin, explain: texts, meta */
    int counting;       /* boilerplate: the first of two passes */
    int reread;         /* the second pass reads the inputs again */
    int skim;           /* the first pass parses only the records counted */
    uint64_t skimmed;   /* records the skimming first pass met */
    uint64_t *refused;  /* ordinals refused in the first pass, ascending */
    size_t nrefused, cap_refused;
    uint64_t *raw_len;
    uint64_t *text_pos; /* where each document's text is in texts */
    uint64_t texts_end;
    struct source_rank *ranks; /* ND_KEEP_SOURCE, sorted by name */
    size_t nranks;
    buf header;         /* dedup of TSV: the first file's header line */
    int any_dir;
    const nd__piece *pieces; /* read these in place of o.paths (jobint.h) */
    size_t npieces;
    uint64_t count_first;    /* ordinal of the first record read here */
    nd__rows_fn rows_fn;     /* cluster, dedup: writes the rows (jobint.h) */
    void *rows_ctx;
    int ahead;          /* read the next chunk while this one is sketched */
    int ran;
    nd_job_stats st;
    /* progress */
    nd_phase phase;
    uint64_t bytes_total, bytes_done;
    double t0, last_progress;
    char err[1024];
};

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int jfail(nd_job *j, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Set the detail of an error and return its code. */
static int jfail(nd_job *j, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof j->err, fmt, ap);
    va_end(ap);
    return code;
}

static int oom(nd_job *j)
{
    return jfail(j, ND_ERR_NOMEM, "out of memory");
}

/* ------------------------------------------------------------ progress */

ND_API const char *nd_phase_name(nd_phase phase)
{
    switch (phase) {
    case ND_PHASE_COUNT: return "count";
    case ND_PHASE_SKETCH: return "sketch";
    case ND_PHASE_CANDIDATES: return "candidates";
    case ND_PHASE_VERIFY: return "verify";
    case ND_PHASE_CLUSTER: return "cluster";
    case ND_PHASE_WRITE: return "write";
    }
    return "unknown";
}

/* Report progress: always when force (a phase starts or ends), else at
   most every progress_every seconds. */
static void report(nd_job *j, nd_phase phase, uint64_t done, uint64_t total,
                   int force)
{
    if (!j->o.on_progress)
        return;
    double t = wall();
    if (!force && t - j->last_progress < j->o.progress_every)
        return;
    j->last_progress = t;
    nd_progress p = {phase, done, total, j->nids, t - j->t0};
    j->o.on_progress(j->o.ctx, &p);
}

static void batch_phase(void *ctx, nd_phase phase, uint64_t done, uint64_t total)
{
    nd_job *j = ctx;
    report(j, phase, done, total, done == 0 || done == total);
}

/* Remember that the record with this ordinal was refused (first pass). */
static int refuse(nd_job *j, uint64_t ord)
{
    if (!j->counting || !j->reread)
        return ND_OK;
    if (j->nrefused == j->cap_refused) {
        size_t cap = j->cap_refused ? j->cap_refused * 2 : 64;
        uint64_t *p = realloc(j->refused, cap * sizeof *p);
        if (!p)
            return oom(j);
        j->refused = p;
        j->cap_refused = cap;
    }
    j->refused[j->nrefused++] = ord;
    return ND_OK;
}

static void warn(nd_job *j, int code, const char *file, uint64_t line,
                 const char *msg)
{
    if (j->o.on_warning) {
        nd_job_warning w = {code, file, line, msg};
        j->o.on_warning(j->o.ctx, &w);
    }
}

/* Room for one more document's id, raw length and text position. */
static int room_for_doc(nd_job *j)
{
    if (j->nids + 2 > j->cap_ids) {
        size_t cap = j->cap_ids ? j->cap_ids * 2 : 1 << 14;
        size_t *p = realloc(j->id_off, cap * sizeof *p);
        if (!p)
            return oom(j);
        j->id_off = p;
        if (j->spool) {
            uint64_t *q = realloc(j->raw_len, cap * sizeof *q);
            if (!q)
                return oom(j);
            j->raw_len = q;
        }
        if (j->texts) {
            uint64_t *q = realloc(j->text_pos, cap * sizeof *q);
            if (!q)
                return oom(j);
            j->text_pos = q;
        }
        j->cap_ids = cap;
    }
    return ND_OK;
}

/* Keep the id (and raw record for dedup) of chunk record i, now added. */
static int commit_record(nd_job *j, const chunk *c, size_t i)
{
    int rc = room_for_doc(j);
    if (rc != ND_OK)
        return rc;
    const char *id = c->keep.p + c->keep_off[i];
    size_t id_len = c->id_len[i];
    if (buf_put(&j->ids, id, id_len))
        return oom(j);
    j->id_off[j->nids] = j->ids.n - id_len;
    j->id_off[j->nids + 1] = j->ids.n;
    if (j->spool) {
        const char *raw = id + id_len;
        size_t n = c->keep_off[i + 1] - c->keep_off[i] - id_len;
        if (fwrite(raw, 1, n, j->spool) != n)
            return jfail(j, ND_ERR_IO, "temporary file: write failed");
        j->raw_len[j->nids] = n;
    }
    j->nids++;
    return ND_OK;
}

/* Spool chunk record i's text and meta as document doc. */
static int spool_text(nd_job *j, const chunk *c, size_t i, size_t doc)
{
    uint64_t len = c->len[i];
    if (fwrite(&len, sizeof len, 1, j->texts) != 1 ||
        fwrite(&c->meta[i], sizeof c->meta[i], 1, j->texts) != 1 ||
        fwrite(c->text.p + c->off[i], 1, c->len[i], j->texts) != c->len[i])
        return jfail(j, ND_ERR_IO, "temporary file: write failed");
    j->text_pos[doc] = j->texts_end;
    j->texts_end += sizeof len + sizeof c->meta[i] + len;
    return ND_OK;
}

/*
 * Add chunk records [from, to) to the batch (or, in the first pass of two,
 * count them and spool their texts).  ND_ERR_UTF8 with *bad set: nothing
 * was added; other errors have their detail in j->err.
 */
static int add_range(nd_job *j, const chunk *c, size_t from, size_t to, size_t *bad)
{
    const char *texts[CHUNK_DOCS] = {0};
    if (from == to)
        return ND_OK;
    for (size_t i = from; i < to; i++)
        texts[i - from] = c->text.p + c->off[i];
    int rc = j->counting ? nd_batch_count(j->batch, to - from, texts, c->len + from, bad)
                         : nd_batch_add_many(j->batch, to - from, texts,
                                             c->len + from, c->meta + from, bad);
    if (rc == ND_ERR_UTF8)
        return rc;
    if (rc != ND_OK)
        return jfail(j, rc, "%s", nd_batch_errmsg(j->batch));
    for (size_t i = from; i < to; i++) {
        if ((rc = commit_record(j, c, i)) != ND_OK)
            return rc;
        if (j->texts && (rc = spool_text(j, c, i, j->nids - 1)) != ND_OK)
            return rc;
    }
    return ND_OK;
}

/* Sketch the chunk; under strict UTF-8 a record with invalid UTF-8 is bad. */
static int flush_chunk(nd_job *j, chunk *c)
{
    size_t start = 0;
    while (start < c->n) {
        size_t bad = 0;
        int rc = add_range(j, c, start, c->n, &bad);
        if (rc == ND_OK)
            break;
        if (rc != ND_ERR_UTF8)
            return rc;
        size_t at = start + bad;
        const char *file = c->files.p + c->file_off[at];
        unsigned long long line = (unsigned long long)c->line[at];
        if (!j->o.skip_bad)
            return jfail(j, ND_ERR_UTF8, "%s:%llu: invalid UTF-8", file, line);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s:%llu: invalid UTF-8", file, line);
        warn(j, ND_ERR_UTF8, file, line, msg);
        j->st.skipped_bad++;
        if ((rc = refuse(j, c->ord[at])) != ND_OK)
            return rc;
        if (bad && (rc = add_range(j, c, start, at, NULL)) != ND_OK)
            return rc == ND_ERR_UTF8 ? jfail(j, rc, "invalid UTF-8") : rc;
        start = at + 1;
    }
    c->n = 0;
    c->text.n = 0;
    c->files.n = 0;
    c->keep.n = 0;
    return ND_OK;
}

/* ------------------------------------------------------ keep source */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

static int by_name(const void *pa, const void *pb)
{
    const struct source_rank *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    if (c)
        return c;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return a->line < b->line ? -1 : a->line > b->line;
}

/*
 * Read the source_priority file: one name a line, most preferred first;
 * blank lines and lines starting with # are skipped, blanks around a name
 * are dropped.  A name listed twice or a file without names is
 * ND_ERR_PARAM naming the line.
 */
static int load_sources(nd_job *j, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return jfail(j, ND_ERR_IO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, nalloc = 0;
    ssize_t got;
    uint64_t lineno = 0;
    int status = ND_OK;
    while (status == ND_OK && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t a = 0, z = (size_t)got;
        while (z > 0 && is_blank(line[z - 1]))
            z--;
        while (a < z && is_blank(line[a]))
            a++;
        if (a == z || line[a] == '#')
            continue;
        if (memchr(line + a, '\0', z - a)) {
            status = jfail(j, ND_ERR_PARAM, "%s:%llu: a NUL byte in a source name",
                           path, (unsigned long long)lineno);
            break;
        }
        if (j->nranks == INT32_MAX) {
            status = jfail(j, ND_ERR_PARAM, "%s:%llu: too many source names",
                           path, (unsigned long long)lineno);
            break;
        }
        if (j->nranks == nalloc) {
            nalloc = nalloc ? nalloc * 2 : 64;
            struct source_rank *p = realloc(j->ranks, nalloc * sizeof *p);
            if (!p) {
                status = oom(j);
                break;
            }
            j->ranks = p;
        }
        char *name = malloc(z - a + 1);
        if (!name) {
            status = oom(j);
            break;
        }
        memcpy(name, line + a, z - a);
        name[z - a] = '\0';
        j->ranks[j->nranks] = (struct source_rank){name, z - a,
                                                   (int32_t)j->nranks, lineno};
        j->nranks++;
    }
    if (status == ND_OK && ferror(f))
        status = jfail(j, ND_ERR_IO, "%s: read failed", path);
    free(line);
    fclose(f);
    if (status != ND_OK)
        return status;
    if (!j->nranks)
        return jfail(j, ND_ERR_PARAM, "%s: no source names", path);
    qsort(j->ranks, j->nranks, sizeof *j->ranks, by_name);
    const struct source_rank *dup = NULL, *first = NULL;
    for (size_t i = 1; i < j->nranks; i++) {
        const struct source_rank *x = &j->ranks[i - 1], *y = &j->ranks[i];
        if (x->len == y->len && !memcmp(x->name, y->name, x->len) &&
            (!dup || y->line < dup->line)) {
            dup = y;
            first = x;
            while (first > j->ranks && first[-1].len == x->len &&
                   !memcmp(first[-1].name, x->name, x->len))
                first--;
        }
    }
    if (dup)
        return jfail(j, ND_ERR_PARAM, "%s:%llu: source '%s' is already listed on line %llu",
                     path, (unsigned long long)dup->line, dup->name,
                     (unsigned long long)first->line);
    return ND_OK;
}

/* The rank of a source name; unlisted and missing names come after all. */
static int32_t source_priority(const nd_job *j, const char *name, size_t len)
{
    if (!name)
        return (int32_t)j->nranks;
    size_t lo = 0, hi = j->nranks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct source_rank *x = &j->ranks[mid];
        size_t n = x->len < len ? x->len : len;
        int c = memcmp(x->name, name, n);
        if (!c && x->len != len)
            c = x->len < len ? -1 : 1;
        if (!c)
            return x->rank;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (int32_t)j->nranks;
}

static void free_sources(nd_job *j)
{
    for (size_t i = 0; i < j->nranks; i++)
        free(j->ranks[i].name);
    free(j->ranks);
    j->ranks = NULL;
    j->nranks = 0;
}

/* The reader over the job's inputs, or NULL (the error in j->err). */
static nd_reader *open_inputs(nd_job *j)
{
    nd_reader *rd;
    int rc = j->pieces ? nd__reader_open_pieces(j->pieces, j->npieces, &j->o.reader, &rd)
                       : nd_reader_open(j->o.paths, j->o.npaths, &j->o.reader, &rd);
    if (rc != ND_OK) {
        jfail(j, ND_ERR_IO, "%s", rd ? nd_reader_errmsg(rd) : nd_strerror(rc));
        nd_reader_close(rd);
        return NULL;
    }
    return rd;
}

/* What the library keeps of a record: its time and, for ND_KEEP_SOURCE,
   the rank of its source. */
static nd_doc_meta record_meta(const nd_job *j, const nd_record *rec)
{
    nd_doc_meta m = rec->meta;
    if (j->o.params.keep == ND_KEEP_SOURCE) {
        m.priority = source_priority(j, rec->source, rec->source_len);
        m.has_priority = 1;
    }
    return m;
}

/* Add chunk texts [0, n) to the batch (second pass: no refusals left). */
static int add_chunk(nd_job *j, chunk *c)
{
    const char *texts[CHUNK_DOCS] = {0};
    for (size_t i = 0; i < c->n; i++)
        texts[i] = c->text.p + c->off[i];
    int rc;
    if (c->n && (rc = nd_batch_add_many(j->batch, c->n, texts, c->len, c->meta,
                                        NULL)) != ND_OK)
        return jfail(j, rc == ND_ERR_UTF8 ? ND_ERR_IO : rc, "%s",
                     nd_batch_errmsg(j->batch));
    c->n = 0;
    c->text.n = 0;
    return ND_OK;
}

/* ------------------------------------------------------ reading ahead */

/*
 * The reading side of a pass.  It fills chunks and calls no callback: what
 * it has to say goes into the chunk as notes.  Its counters are added to
 * the job's once the pass is over.
 */
typedef struct feed {
    nd_job *j;
    void (*fill)(struct feed *f, chunk *c);
    nd_reader *rd;       /* the first pass and the second over the inputs */
    nd_record held;      /* a record that did not fit the previous chunk */
    uint64_t held_ord;
    int holding;
    uint64_t ordinal;    /* records read so far in this pass */
    size_t next_refused; /* the second pass over the inputs */
    uint64_t added;
    size_t left;         /* the spooled pass: documents still to read */
    uint64_t skipped_bad, skipped_binary, repaired;
    nd__df_sched sched;  /* the skimming pass: which records are counted */

    /* Hand-over between the reading thread and the sketching one. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    chunk *slot[2];
    int full[2];
    int stop;            /* the sketching side gave up: read no more */
} feed;

static void chunk_reset(chunk *c)
{
    c->n = 0;
    c->text.n = c->files.n = c->keep.n = c->msgs.n = 0;
    c->nnotes = 0;
    c->bytes = 0;
    c->status = ND_OK;
    c->last = c->oom = 0;
}

static void chunk_free(chunk *c)
{
    if (!c)
        return;
    free(c->text.p);
    free(c->files.p);
    free(c->keep.p);
    free(c->msgs.p);
    free(c->notes);
    free(c);
}

/* Record a note; fmt is NULL for NOTE_REFUSE.  On failure reading stops
   at this chunk with c->oom set. */
static void note_add(chunk *c, note_kind kind, int code, uint64_t ord,
                     const char *file, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static void note_add(chunk *c, note_kind kind, int code, uint64_t ord,
                     const char *file, uint64_t line, const char *fmt, ...)
{
    if (c->nnotes == c->cap_notes) {
        size_t cap = c->cap_notes ? c->cap_notes * 2 : 16;
        note *p = realloc(c->notes, cap * sizeof *p);
        if (!p) {
            c->oom = c->last = 1;
            return;
        }
        c->notes = p;
        c->cap_notes = cap;
    }
    size_t at_file = c->msgs.n;
    if (file && buf_put(&c->msgs, file, strlen(file) + 1)) {
        c->oom = c->last = 1;
        return;
    }
    size_t at = c->msgs.n;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        int len = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (len < 0 || buf_reserve(&c->msgs, (size_t)len + 1)) {
            c->oom = c->last = 1;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(c->msgs.p + at, (size_t)len + 1, fmt, ap);
        va_end(ap);
        c->msgs.n += (size_t)len + 1;
    }
    c->notes[c->nnotes++] = (note){kind, code, ord, line,
                                   file ? at_file : SIZE_MAX, at};
}

/* Reading stops at this chunk with status; the error is already a note. */
static void chunk_stop(chunk *c, int status)
{
    c->status = status;
    c->last = 1;
}

static void chunk_oom(chunk *c)
{
    note_add(c, NOTE_ERROR, ND_ERR_NOMEM, 0, NULL, 0, "out of memory");
    chunk_stop(c, ND_ERR_NOMEM);
}

/* Copy record rec into chunk c; all: what the first pass keeps of it too. */
static int put_record(const nd_job *j, chunk *c, const nd_record *rec,
                      uint64_t ord, int all)
{
    size_t i = c->n;
    c->off[i] = c->text.n;
    c->len[i] = rec->text_len;
    c->meta[i] = record_meta(j, rec);
    c->bytes += rec->raw_len + 1;
    if (buf_put(&c->text, rec->text, rec->text_len))
        return -1;
    if (all) {
        c->line[i] = rec->line;
        c->ord[i] = ord;
        c->file_off[i] = c->files.n;
        c->keep_off[i] = c->keep.n;
        c->id_len[i] = rec->id_len;
        /* A directory entry is a whole file: dedup gives its id instead. */
        int raw_is_id = j->any_dir;
        if (buf_put(&c->files, rec->file, strlen(rec->file) + 1) ||
            buf_put(&c->keep, rec->id, rec->id_len) ||
            (j->spool && (raw_is_id ? buf_put(&c->keep, rec->id, rec->id_len)
                                    : buf_put(&c->keep, rec->raw, rec->raw_len))))
            return -1;
        c->keep_off[i + 1] = c->keep.n;
    }
    c->n++;
    return 0;
}

/* A chunk ends where the next record would overflow it. */
static int chunk_full(const chunk *c, const nd_record *rec)
{
    return c->n == CHUNK_DOCS || (c->n && c->text.n + rec->text_len > CHUNK_BYTES);
}

/* The record held back from the previous chunk, put first into this one:
   0 none held, 1 put, -1 out of memory (the chunk says so).  first: as
   put_record's, with the held ordinal. */
static int take_held(const nd_job *j, feed *f, chunk *c, int first)
{
    if (!f->holding)
        return 0;
    f->holding = 0;
    if (put_record(j, c, &f->held, first ? f->held_ord : 0, first)) {
        chunk_oom(c);
        return -1;
    }
    return 1;
}

/* Put rec into the chunk, or hold it for the next when this one is full:
   0 put, 1 held (the chunk ends), -1 out of memory. */
static int put_or_hold(const nd_job *j, feed *f, chunk *c, const nd_record *rec,
                       uint64_t ord, int first)
{
    if (chunk_full(c, rec)) {
        f->held = *rec;
        f->held_ord = ord;
        f->holding = 1;
        return 1;
    }
    if (put_record(j, c, rec, ord, first)) {
        chunk_oom(c);
        return -1;
    }
    return 0;
}

/* The first pass: records, with what is wrong with the bad ones. */
static void fill_first(feed *f, chunk *c)
{
    nd_job *j = f->j;
    const nd_job_opts *o = &j->o;
    nd_record rec;
    if (take_held(j, f, c, 1) < 0)
        return;
    while (!c->oom) {
        int rc = nd_reader_next(f->rd, &rec);
        if (rc == 0) {
            c->last = 1;
            return;
        }
        if (rc == ND_ERR_BINARY) {
            note_add(c, NOTE_WARN, rc, 0, "", 0, "%s", nd_reader_errmsg(f->rd));
            f->skipped_binary++;
            continue;
        }
        if (rc == ND_ERR_DATA) {
            if (!o->skip_bad) {
                note_add(c, NOTE_ERROR, rc, 0, NULL, 0, "%s", nd_reader_errmsg(f->rd));
                chunk_stop(c, ND_ERR_DATA);
                return;
            }
            note_add(c, NOTE_WARN, rc, 0, "", 0, "%s", nd_reader_errmsg(f->rd));
            f->skipped_bad++;
            continue;
        }
        if (rc < 0) {
            note_add(c, NOTE_ERROR, ND_ERR_IO, 0, NULL, 0, "%s", nd_reader_errmsg(f->rd));
            chunk_stop(c, ND_ERR_IO);
            return;
        }
        uint64_t ord = f->ordinal++;
        if (rec.header && !j->header.n && j->spool &&
            (buf_put(&j->header, rec.header, rec.header_len) ||
             buf_put(&j->header, "\n", 1))) {
            chunk_oom(c);
            return;
        }
        if (rec.bad_utf8) {
            if (o->params.norm & ND_NORM_STRICT_UTF8) {
                if (!o->skip_bad) {
                    note_add(c, NOTE_ERROR, ND_ERR_UTF8, 0, NULL, 0,
                             "%s:%llu: invalid UTF-8", rec.file,
                             (unsigned long long)rec.line);
                    chunk_stop(c, ND_ERR_UTF8);
                    return;
                }
                note_add(c, NOTE_WARN, ND_ERR_UTF8, 0, rec.file, rec.line,
                         "%s:%llu: invalid UTF-8", rec.file,
                         (unsigned long long)rec.line);
                f->skipped_bad++;
                note_add(c, NOTE_REFUSE, 0, ord, NULL, 0, NULL);
                continue;
            }
            f->repaired++;
        }
        if (put_or_hold(j, f, c, &rec, ord, 1))
            return;
    }
}

/*
 * The second pass over files and directories: the records the first pass
 * kept.  The reader is deterministic, so bad records come back as the same
 * errors (already reported) and good ones in the same order.
 */
static void fill_reread(feed *f, chunk *c)
{
    const nd_job *j = f->j;
    nd_record rec;
    int held = take_held(j, f, c, 0);
    if (held < 0)
        return;
    f->added += (uint64_t)held;
    for (;;) {
        int rc = nd_reader_next(f->rd, &rec);
        if (rc == 0) {
            c->last = 1;
            return;
        }
        if (rc == ND_ERR_BINARY || rc == ND_ERR_DATA)
            continue;
        if (rc < 0) {
            note_add(c, NOTE_ERROR, ND_ERR_IO, 0, NULL, 0, "%s", nd_reader_errmsg(f->rd));
            chunk_stop(c, ND_ERR_IO);
            return;
        }
        uint64_t ord = f->ordinal++;
        if (f->next_refused < j->nrefused && j->refused[f->next_refused] == ord) {
            f->next_refused++;
            continue;
        }
        if (put_or_hold(j, f, c, &rec, 0, 0))
            return;
        f->added++;
    }
}

/*
 * The first pass skimmed: only the records nd_batch_count will shingle are
 * parsed; the others go as empty texts, which it does not read.  A bad
 * record that is not parsed here stops the second pass, which reads every
 * record as fill_first does.  Without skip_bad every record the reader
 * yields is a document or stops the job, so the ordinals, and with them
 * the counts, are those of a full first pass.
 */
static void fill_skim(feed *f, chunk *c)
{
    const nd_job *j = f->j;
    nd_record rec;
    if (take_held(j, f, c, 0) < 0)
        return;
    for (;;) {
        nd__df_sched next = f->sched;
        int rc = nd__reader_next_skim(f->rd, nd__df_sched_step(&next, f->ordinal), &rec);
        if (rc == 0) {
            c->last = 1;
            return;
        }
        if (rc == ND_ERR_BINARY) /* warned about in the second pass */
            continue;
        if (rc == ND_ERR_DATA || rc < 0) {
            rc = rc == ND_ERR_DATA ? rc : ND_ERR_IO;
            note_add(c, NOTE_ERROR, rc, 0, NULL, 0, "%s", nd_reader_errmsg(f->rd));
            chunk_stop(c, rc);
            return;
        }
        f->sched = next;
        f->ordinal++;
        if (rc == 2)
            rec.text = NULL, rec.text_len = 0;
        if (put_or_hold(j, f, c, &rec, 0, 0))
            return;
    }
}

/* The second pass over stdin: the texts spooled by the first. */
static void fill_spooled(feed *f, chunk *c)
{
    FILE *in = f->j->texts;
    while (f->left && c->n < CHUNK_DOCS && (c->n == 0 || c->text.n < CHUNK_BYTES)) {
        uint64_t len;
        size_t i = c->n;
        if (fread(&len, sizeof len, 1, in) != 1 ||
            fread(&c->meta[i], sizeof c->meta[i], 1, in) != 1 ||
            len > SIZE_MAX - c->text.n) {
            note_add(c, NOTE_ERROR, ND_ERR_IO, 0, NULL, 0, "temporary file: read failed");
            chunk_stop(c, ND_ERR_IO);
            return;
        }
        c->off[i] = c->text.n;
        c->len[i] = (size_t)len;
        if (buf_reserve(&c->text, (size_t)len)) {
            chunk_oom(c);
            return;
        }
        if (fread(c->text.p + c->text.n, 1, (size_t)len, in) != len) {
            note_add(c, NOTE_ERROR, ND_ERR_IO, 0, NULL, 0, "temporary file: read failed");
            chunk_stop(c, ND_ERR_IO);
            return;
        }
        c->text.n += (size_t)len;
        c->bytes += sizeof len + sizeof c->meta[i] + len;
        c->n++;
        f->left--;
    }
    c->last = f->left == 0;
}

/* Report and record the chunk's notes in order; ND_OK or why reading
   stopped (the detail in j->err). */
static int replay(nd_job *j, const chunk *c)
{
    for (size_t i = 0; i < c->nnotes; i++) {
        const note *n = &c->notes[i];
        switch (n->kind) {
        case NOTE_WARN:
            warn(j, n->code, n->file == SIZE_MAX ? "" : c->msgs.p + n->file,
                 n->line, c->msgs.p + n->msg);
            break;
        case NOTE_ERROR:
            jfail(j, n->code, "%s", c->msgs.p + n->msg);
            break;
        case NOTE_REFUSE: {
            int rc = refuse(j, n->ord);
            if (rc != ND_OK)
                return rc;
            break;
        }
        }
    }
    /* Reading stopped where memory ran out, whatever it had to say. */
    return c->oom ? oom(j) : c->status;
}

static void pass_progress(nd_job *j, const chunk *c, int force)
{
    j->bytes_done += c->bytes;
    uint64_t done = j->bytes_done;
    /* Records take a little more or less than the files hold (compressed
       input, line ends): the phase ends at 100% only when it ends. */
    if (j->bytes_total && done >= j->bytes_total)
        done = j->bytes_total - 1;
    report(j, j->phase, done, j->bytes_total, force);
}

/* The first pass takes a chunk: its notes, then the chunk itself, as a
   serial reading reports them. */
static int take_first(nd_job *j, chunk *c)
{
    int st = replay(j, c);
    if (st == ND_OK)
        st = flush_chunk(j, c);
    pass_progress(j, c, 0);
    return st;
}

/* The skimming first pass takes a chunk: counts it, keeps nothing. */
static int take_skim(nd_job *j, chunk *c)
{
    const char *texts[CHUNK_DOCS];
    int st = replay(j, c);
    for (size_t i = 0; i < c->n; i++)
        texts[i] = c->text.p ? c->text.p + c->off[i] : "";
    if (st == ND_OK && c->n &&
        (st = nd_batch_count(j->batch, c->n, texts, c->len, NULL)) != ND_OK)
        st = jfail(j, st, "%s", nd_batch_errmsg(j->batch));
    j->skimmed += c->n;
    pass_progress(j, c, 0);
    return st;
}

/* The second pass takes a chunk. */
static int take_again(nd_job *j, chunk *c)
{
    int st = replay(j, c);
    if (st == ND_OK)
        st = add_chunk(j, c);
    pass_progress(j, c, 0);
    return st;
}

static void *read_ahead(void *arg)
{
    feed *f = arg;
    for (int k = 0;; k ^= 1) {
        pthread_mutex_lock(&f->mu);
        while (f->full[k] && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
        int stop = f->stop;
        pthread_mutex_unlock(&f->mu);
        if (stop)
            break;
        chunk *c = f->slot[k];
        chunk_reset(c);
        f->fill(f, c);
        int last = c->last;
        pthread_mutex_lock(&f->mu);
        f->full[k] = 1;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        if (last)
            break;
    }
    return NULL;
}

/*
 * Run one pass: f fills chunks, take sketches them.  With j->ahead a thread
 * fills one chunk while the other is sketched (the two alternate); else one
 * chunk is filled, then sketched.  Either way take sees the same chunks and
 * the same notes in the same order, so the callbacks, the result and the
 * error do not depend on the thread count.
 */
static int pump(nd_job *j, feed *f, chunk *const slot[2], int (*take)(nd_job *, chunk *))
{
    pthread_t th;
    int threaded = j->ahead && slot[1];
    if (threaded) {
        f->slot[0] = slot[0];
        f->slot[1] = slot[1];
        f->full[0] = f->full[1] = f->stop = 0;
        if (pthread_mutex_init(&f->mu, NULL) != 0)
            threaded = 0;
        else if (pthread_cond_init(&f->cv, NULL) != 0) {
            pthread_mutex_destroy(&f->mu);
            threaded = 0;
        } else if (pthread_create(&th, NULL, read_ahead, f) != 0) {
            pthread_cond_destroy(&f->cv);
            pthread_mutex_destroy(&f->mu);
            threaded = 0;
        }
    }
    int st;
    if (!threaded) {
        chunk *c = slot[0];
        do {
            chunk_reset(c);
            f->fill(f, c);
            st = take(j, c);
        } while (st == ND_OK && !c->last);
        return st;
    }
    for (int k = 0;; k ^= 1) {
        pthread_mutex_lock(&f->mu);
        while (!f->full[k])
            pthread_cond_wait(&f->cv, &f->mu);
        pthread_mutex_unlock(&f->mu);
        st = take(j, slot[k]);
        int last = slot[k]->last;
        pthread_mutex_lock(&f->mu);
        f->full[k] = 0;
        f->stop = st != ND_OK;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        if (st != ND_OK || last)
            break;
    }
    pthread_join(th, NULL);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    return st;
}

static void start_phase(nd_job *j, nd_phase phase, uint64_t total)
{
    j->phase = phase;
    j->bytes_done = 0;
    j->bytes_total = total;
    report(j, phase, 0, total, 1);
}

/* The last report of a phase has done == total, also when the total was
   not known before. */
static void end_phase(nd_job *j)
{
    uint64_t total = j->bytes_total ? j->bytes_total : j->bytes_done;
    report(j, j->phase, total, total, 1);
}

/* The second pass over files and directories. */
static int reread_pass(nd_job *j, chunk *const slot[2])
{
    feed f = {.j = j, .fill = fill_reread};
    j->counting = 0;
    if (!(f.rd = open_inputs(j)))
        return ND_ERR_IO;
    int status = pump(j, &f, slot, take_again);
    nd_reader_close(f.rd);
    if (status == ND_OK && f.added != j->nids)
        status = jfail(j, ND_ERR_IO,
                       "the input changed between the two passes (%llu records, "
                       "then %llu)", (unsigned long long)j->nids,
                       (unsigned long long)f.added);
    return status;
}

/* The second pass over stdin: sketch the spooled texts. */
static int second_pass(nd_job *j, chunk *const slot[2])
{
    feed f = {.j = j, .fill = fill_spooled, .left = j->nids};
    j->counting = 0;
    if (fflush(j->texts) != 0 || fseek(j->texts, 0, SEEK_SET) != 0)
        return jfail(j, ND_ERR_IO, "temporary file: read failed");
    return f.left ? pump(j, &f, slot, take_again) : ND_OK;
}

/* Bytes in the inputs when they are all regular files, else 0: unknown
   (stdin, a FIFO, a directory). */
static uint64_t input_bytes(const nd_job *j)
{
    if (!j->o.npaths)
        return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < j->o.npaths; i++) {
        struct stat sb;
        if (strcmp(j->o.paths[i], "-") == 0 || stat(j->o.paths[i], &sb) != 0)
            return 0;
        if (!S_ISREG(sb.st_mode))
            return 0;
        total += (uint64_t)sb.st_size;
    }
    return total;
}

/* Both passes when the first skims: then every record is read as by a
   single pass. */
static int skim_passes(nd_job *j, chunk *const slot[2], uint64_t total)
{
    feed f = {.j = j, .fill = fill_skim, .ordinal = j->count_first,
              .sched = nd__df_sched_at(j->count_first)};
    if (!(f.rd = open_inputs(j)))
        return ND_ERR_IO;
    int status = pump(j, &f, slot, take_skim);
    nd_reader_close(f.rd);
    if (status != ND_OK)
        return status;
    end_phase(j);
    start_phase(j, ND_PHASE_SKETCH, total);
    j->counting = 0;
    feed g = {.j = j, .fill = fill_first};
    if (!(g.rd = open_inputs(j)))
        return ND_ERR_IO;
    status = pump(j, &g, slot, take_first);
    nd_reader_close(g.rd);
    j->st.skipped_bad += g.skipped_bad;
    j->st.skipped_binary += g.skipped_binary;
    j->st.repaired += g.repaired;
    if (status == ND_OK && j->nids != j->skimmed)
        status = jfail(j, ND_ERR_IO,
                       "the input changed between the two passes (%llu records, "
                       "then %llu)", (unsigned long long)j->skimmed,
                       (unsigned long long)j->nids);
    if (status == ND_OK)
        end_phase(j);
    return status;
}

static int read_all(nd_job *j, chunk *const slot[2])
{
    feed f = {.j = j, .fill = fill_first};
    uint64_t total = input_bytes(j);
    start_phase(j, j->counting ? ND_PHASE_COUNT : ND_PHASE_SKETCH, total);
    if (j->skim)
        return skim_passes(j, slot, total);
    if (!(f.rd = open_inputs(j)))
        return ND_ERR_IO;
    int status = pump(j, &f, slot, take_first);
    nd_reader_close(f.rd);
    j->st.skipped_bad += f.skipped_bad;
    j->st.skipped_binary += f.skipped_binary;
    j->st.repaired += f.repaired;
    if (status != ND_OK)
        return status;
    end_phase(j);
    if (j->counting) {
        start_phase(j, ND_PHASE_SKETCH, j->reread ? total : j->texts_end);
        status = j->reread ? reread_pass(j, slot) : second_pass(j, slot);
        if (status == ND_OK)
            end_phase(j);
    }
    return status;
}

/* ------------------------------------------------------------ explain */

#define EXPLAIN_WORDS 5000 /* words of each text searched for the passage */
#define PASSAGE_HALF 15    /* a longer passage gives 15 words, " ... ", 15 */

typedef struct {
    const char *p;
    size_t len;
    uint64_t h;
} word;

/* One text of a pair, read back from the spool, with what it yields. */
typedef struct {
    size_t doc;
    buf text, norm;
    uint64_t *set;
    size_t nset, set_cap;
    word *w;
    size_t nw, w_cap;
} side;

static void side_free(side *s)
{
    free(s->text.p);
    free(s->norm.p);
    free(s->set);
    free(s->w);
}

/* FNV-1a: words are compared by hash, then by bytes. */
static uint64_t word_hash(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3u;
    return h;
}

/* Read document doc back and take its shingle set and first words. */
static int side_load(nd_job *j, nd_sketcher *sk, side *s, size_t doc)
{
    uint64_t len;
    nd_doc_meta meta;
    s->doc = doc;
    s->text.n = s->norm.n = 0;
    if (fseeko(j->texts, (off_t)j->text_pos[doc], SEEK_SET) != 0 ||
        fread(&len, sizeof len, 1, j->texts) != 1 ||
        fread(&meta, sizeof meta, 1, j->texts) != 1)
        return jfail(j, ND_ERR_IO, "temporary file: read failed");
    if (s->text.cap < len + 1) {
        char *p = realloc(s->text.p, (size_t)len + 1);
        if (!p)
            return oom(j);
        s->text.p = p;
        s->text.cap = (size_t)len + 1;
    }
    if (fread(s->text.p, 1, (size_t)len, j->texts) != len)
        return jfail(j, ND_ERR_IO, "temporary file: read failed");
    s->text.n = (size_t)len;

    const uint64_t *set;
    size_t n;
    if (nd_sketcher_shingles(sk, s->text.p, s->text.n, &set, &n) != ND_OK)
        return oom(j);
    if (n > s->set_cap) {
        uint64_t *p = realloc(s->set, n * sizeof *p);
        if (!p)
            return oom(j);
        s->set = p;
        s->set_cap = n;
    }
    if (n)
        memcpy(s->set, set, n * sizeof *set);
    s->nset = n;

    const char *norm;
    size_t nlen;
    if (nd_sketcher_normalize(sk, s->text.p, s->text.n, &norm, &nlen) != ND_OK ||
        buf_put(&s->norm, norm, nlen + 1))
        return oom(j);
    s->nw = 0;
    for (size_t i = 0; i < nlen && s->nw < EXPLAIN_WORDS;) {
        size_t e = i;
        while (e < nlen && s->norm.p[e] != ' ')
            e++;
        if (s->nw == s->w_cap) {
            size_t cap = s->w_cap ? s->w_cap * 2 : 256;
            word *p = realloc(s->w, cap * sizeof *p);
            if (!p)
                return oom(j);
            s->w = p;
            s->w_cap = cap;
        }
        s->w[s->nw++] = (word){s->norm.p + i, e - i, word_hash(s->norm.p + i, e - i)};
        i = e + 1;
    }
    return ND_OK;
}

/*
 * The longest run of consecutive words a and b share: the classic dynamic
 * programme over the two word sequences, run[i][j] = run[i-1][j-1] + 1 when
 * word i of a equals word j of b, kept in one row; O(|a| |b|) time, which
 * EXPLAIN_WORDS bounds.  The first longest run in a wins.
 */
static size_t longest_run(const side *a, const side *b, uint32_t *row,
                          size_t *start)
{
    size_t best = 0, end = 0;
    for (size_t j = 0; j <= b->nw; j++)
        row[j] = 0;
    for (size_t i = 0; i < a->nw; i++) {
        const word *x = &a->w[i];
        uint32_t diag = 0; /* row[j] of the previous i, before overwriting */
        for (size_t j = 0; j < b->nw; j++) {
            const word *y = &b->w[j];
            uint32_t up = row[j + 1];
            uint32_t v = x->h == y->h && x->len == y->len &&
                                 !memcmp(x->p, y->p, x->len)
                             ? diag + 1
                             : 0;
            row[j + 1] = v;
            diag = up;
            if (v > best) {
                best = v;
                end = i + 1;
            }
        }
    }
    *start = end - best;
    return best;
}

/* Append words [from, to) of s as they stand in its normalized text. */
static int put_words(buf *out, const side *s, size_t from, size_t to)
{
    const char *p = s->w[from].p;
    const char *e = s->w[to - 1].p + s->w[to - 1].len;
    return buf_put(out, p, (size_t)(e - p));
}

/* ------------------------------------------------------------- rows */

static void set_id(const nd_job *j, size_t doc, const char **id, size_t *len)
{
    *id = j->ids.p + j->id_off[doc];
    *len = j->id_off[doc + 1] - j->id_off[doc];
}

static int emit(nd_job *j, const nd_job_row *row)
{
    j->st.rows++;
    if (j->o.on_row(j->o.ctx, row) != 0)
        return jfail(j, ND_ERR_STATE, "the row callback stopped the job");
    return ND_OK;
}

/* Where the rows of pairs find their documents: this job's own, numbered
   first, first + 1, ..., then others[0..nothers) (sorted numbers),
   appended after them; the clusters of its own (given, or the batch's). */
typedef struct {
    uint64_t first;
    size_t own;
    const uint64_t *others;
    size_t nothers;
    const nd__doc_row *given;
} pair_docs;

static size_t pair_doc(const pair_docs *m, uint64_t d)
{
    if (d >= m->first && d - m->first < m->own)
        return (size_t)(d - m->first);
    size_t lo = 0, hi = m->nothers;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->others[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return m->own + lo;
}

/* The rows of the pairs e[0..ne), in order, to on_row. */
static int write_pairs_of(nd_job *j, const nd_edge *e, size_t ne, const pair_docs *m,
                          int (*on_row)(void *ctx, const nd_job_row *row), void *ctx)
{
    start_phase(j, ND_PHASE_WRITE, ne);
    if (j->texts && fflush(j->texts) != 0)
        return jfail(j, ND_ERR_IO, "temporary file: write failed");
    nd_sketcher *sk = NULL;
    side a = {0}, b = {0};
    uint32_t *row = NULL;
    buf passage = {0};
    int status = ND_OK;
    if (j->o.explain) {
        if (nd_sketcher_create(&j->o.params, &sk) != ND_OK ||
            !(row = malloc((EXPLAIN_WORDS + 1) * sizeof *row)))
            status = oom(j);
    }
    for (size_t i = 0; i < ne && status == ND_OK; i++) {
        const size_t la = pair_doc(m, e[i].a), lb = pair_doc(m, e[i].b);
        nd_job_row r = {0};
        r.doc = e[i].a;
        r.doc_b = e[i].b;
        set_id(j, la, &r.id, &r.id_len);
        set_id(j, lb, &r.id_b, &r.id_b_len);
        r.jaccard = e[i].jaccard;
        r.containment = e[i].containment;
        r.cluster = m->given ? m->given[la].cluster : nd_batch_cluster(j->batch, e[i].a);
        if (j->o.explain) {
            if (i == 0 || a.doc != la)
                status = side_load(j, sk, &a, la);
            if (status == ND_OK)
                status = side_load(j, sk, &b, lb);
            if (status != ND_OK)
                break;
            nd_exact_scores(a.set, a.nset, b.set, b.nset, &r.exact_jaccard,
                            &r.exact_containment);
            size_t start, run_len = longest_run(&a, &b, row, &start);
            passage.n = 0;
            int bad = 0;
            if (run_len > 2 * PASSAGE_HALF) {
                bad = put_words(&passage, &a, start, start + PASSAGE_HALF) ||
                      buf_put(&passage, " ... ", 5) ||
                      put_words(&passage, &a, start + run_len - PASSAGE_HALF,
                                start + run_len);
            } else if (run_len) {
                bad = put_words(&passage, &a, start, start + run_len);
            }
            if (bad) {
                status = oom(j);
                break;
            }
            r.explained = 1;
            r.shared_words = run_len;
            r.passage = passage.n ? passage.p : "";
            r.passage_len = passage.n;
        }
        j->st.rows++;
        if (on_row(ctx, &r) != 0)
            status = jfail(j, ND_ERR_STATE, "the row callback stopped the job");
        report(j, ND_PHASE_WRITE, i + 1, ne, i + 1 == ne);
    }
    free(row);
    free(passage.p);
    side_free(&a);
    side_free(&b);
    nd_sketcher_free(sk);
    return status;
}

static int write_pairs(nd_job *j)
{
    size_t ne;
    const nd_edge *e = nd_batch_edges(j->batch, &ne);
    const pair_docs m = {0, j->nids, NULL, 0, NULL};
    return write_pairs_of(j, e, ne, &m, j->o.on_row, j->o.ctx);
}

int nd__job_write_pairs(nd_job *j, const nd_edge *e, size_t ne, uint64_t first, size_t own,
                        const uint64_t *others, size_t nothers, const nd__doc_row *given,
                        int (*on_row)(void *ctx, const nd_job_row *row), void *ctx)
{
    if (own + nothers != j->nids)
        return jfail(j, ND_ERR_STATE, "%zu documents held for the pairs' rows, not %zu",
                     j->nids, own + nothers);
    const pair_docs m = {first, own, others, nothers, given};
    return write_pairs_of(j, e, ne, &m, on_row, ctx);
}

/* Read the next len bytes of the record spool into *out (grown as
   needed): ND_OK, or the error, its detail set. */
static int spool_next(nd_job *j, char **out, size_t *cap, size_t len)
{
    if (len > *cap) {
        char *p = realloc(*out, len);
        if (!p)
            return oom(j);
        *out = p;
        *cap = len;
    }
    if (fread(*out, 1, len, j->spool) != len)
        return jfail(j, ND_ERR_IO, "temporary file: read failed");
    return ND_OK;
}

static int write_docs(nd_job *j)
{
    size_t n = nd_batch_size(j->batch);
    start_phase(j, ND_PHASE_WRITE, n);
    if (j->o.kind == ND_JOB_CLUSTER) {
        for (size_t i = 0; i < n; i++) {
            nd_job_row r = {0};
            r.doc = (uint32_t)i;
            set_id(j, i, &r.id, &r.id_len);
            r.cluster = nd_batch_cluster(j->batch, i);
            r.rep = nd_batch_rep(j->batch, i) == i;
            int st = emit(j, &r);
            if (st != ND_OK)
                return st;
            report(j, ND_PHASE_WRITE, i + 1, n, i + 1 == n);
        }
        return ND_OK;
    }
    if (fflush(j->spool) != 0 || fseek(j->spool, 0, SEEK_SET) != 0)
        return jfail(j, ND_ERR_IO, "temporary file: read failed");
    char *tmp = NULL;
    size_t tcap = 0;
    int first = 1, st = ND_OK;
    for (size_t i = 0; i < n && st == ND_OK; i++) {
        size_t len = (size_t)j->raw_len[i];
        if ((st = spool_next(j, &tmp, &tcap, len)) != ND_OK)
            break;
        if (nd_batch_rep(j->batch, i) == i) {
            nd_job_row r = {0};
            r.doc = (uint32_t)i;
            set_id(j, i, &r.id, &r.id_len);
            r.cluster = nd_batch_cluster(j->batch, i);
            r.rep = 1;
            r.raw = len ? tmp : "";
            r.raw_len = len;
            /* TSV keeps its header, so the output reads back as TSV. */
            if (first && j->header.n) {
                r.header = j->header.p;
                r.header_len = j->header.n;
            }
            first = 0;
            st = emit(j, &r);
        }
        report(j, ND_PHASE_WRITE, i + 1, n, i + 1 == n);
    }
    free(tmp);
    return st;
}

/*
 * A shared run's rows of this job's own documents (jobint.h): as
 * write_docs, the cluster and the representatives given.
 */
int nd__job_write_given(nd_job *j, const nd__doc_row *given, uint64_t first,
                        const char *header, size_t hlen,
                        int (*on_row)(void *ctx, const nd_job_row *row), void *ctx)
{
    const size_t n = j->nids;
    if (j->spool && (fflush(j->spool) != 0 || fseek(j->spool, 0, SEEK_SET) != 0))
        return jfail(j, ND_ERR_IO, "temporary file: read failed");
    char *tmp = NULL;
    size_t tcap = 0;
    int st = ND_OK;
    for (size_t i = 0; i < n && st == ND_OK; i++) {
        nd_job_row r = {0};
        r.doc = (uint32_t)(first + i);
        set_id(j, i, &r.id, &r.id_len);
        r.cluster = given[i].cluster;
        r.rep = (given[i].flags & ND__ROW_REP) != 0;
        if (j->o.kind == ND_JOB_DEDUP) {
            size_t len = (size_t)j->raw_len[i];
            if ((st = spool_next(j, &tmp, &tcap, len)) != ND_OK)
                break;
            if (!r.rep)
                continue;
            r.raw = len ? tmp : "";
            r.raw_len = len;
            if ((given[i].flags & ND__ROW_HEADER) && hlen) {
                r.header = header;
                r.header_len = hlen;
            }
        }
        j->st.rows++;
        if (on_row(ctx, &r) != 0)
            st = jfail(j, ND_ERR_STATE, "the row callback stopped the job");
    }
    free(tmp);
    return st;
}

/* A spool: a temporary file in dir, unlinked as soon as it is made, so no
   exit path or kill leaves it behind (as the candidates' spill file). */
static FILE *spool_open(const char *dir)
{
    size_t len = strlen(dir);
    char *path = malloc(len + sizeof "/neardup-spool-XXXXXX");
    if (!path) {
        errno = ENOMEM;
        return NULL;
    }
    memcpy(path, dir, len);
    strcpy(path + len, "/neardup-spool-XXXXXX");
    int fd = mkstemp(path);
    if (fd >= 0)
        unlink(path);
    free(path);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w+");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

/* --------------------------------------------------------------- API */

ND_API void nd_job_opts_init(nd_job_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kind = ND_JOB_CLUSTER;
    nd_params_init(&o->params);
    o->reader.format = ND_FORMAT_AUTO;
    o->progress_every = 0.25;
}

ND_API int nd_job_create(const nd_job_opts *opts, nd_job **out)
{
    nd_job *j = calloc(1, sizeof *j);
    *out = j;
    if (!j)
        return ND_ERR_NOMEM;
    j->o = *opts;
    char msg[256];
    if (nd_params_check(&opts->params, msg, sizeof msg) != ND_OK)
        return jfail(j, ND_ERR_PARAM, "%s", msg);
    if (opts->kind != ND_JOB_CLUSTER && opts->kind != ND_JOB_DEDUP &&
        opts->kind != ND_JOB_PAIRS)
        return jfail(j, ND_ERR_PARAM, "kind is not a job kind");
    if (opts->explain && opts->kind != ND_JOB_PAIRS)
        return jfail(j, ND_ERR_PARAM, "explain works with pairs only");
    if ((opts->params.keep == ND_KEEP_SOURCE) != (opts->source_priority != NULL))
        return jfail(j, ND_ERR_PARAM, "keep source goes with a source_priority file");
    if (opts->npaths && !opts->paths)
        return jfail(j, ND_ERR_PARAM, "npaths without paths");
    if (!(j->o.progress_every >= 0.0))
        j->o.progress_every = 0.25;
    for (size_t i = 0; i < opts->npaths; i++) {
        struct stat sb;
        if (strcmp(opts->paths[i], "-") != 0 && stat(opts->paths[i], &sb) == 0 &&
            S_ISDIR(sb.st_mode))
            j->any_dir = 1;
    }
    j->counting = opts->params.boilerplate > 0.0;
    j->reread = j->counting && !opts->explain && opts->npaths > 0;
    for (size_t i = 0; j->reread && i < opts->npaths; i++) {
        struct stat sb;
        j->reread = strcmp(opts->paths[i], "-") != 0 && stat(opts->paths[i], &sb) == 0 &&
                    (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode));
    }
    /* Skimming keeps the ordinals only when every record read is a
       document: no record is skipped as bad, none refused for its UTF-8. */
    j->skim = j->reread && !opts->skip_bad &&
              !(opts->params.norm & ND_NORM_STRICT_UTF8);
    const char *dir = opts->params.tmpdir && *opts->params.tmpdir ? opts->params.tmpdir : "/tmp";
    if ((opts->kind == ND_JOB_DEDUP && !(j->spool = spool_open(dir))) ||
        (((j->counting && !j->reread) || opts->explain) && !(j->texts = spool_open(dir))))
        return jfail(j, errno == ENOMEM ? ND_ERR_NOMEM : ND_ERR_IO,
                     "creating a temporary file in %s: %s", dir, strerror(errno));
    /* The spools are written and read sequentially: large buffers. */
    if (j->spool)
        setvbuf(j->spool, NULL, _IOFBF, 1 << 20);
    if (j->texts)
        setvbuf(j->texts, NULL, _IOFBF, 1 << 20);
    if (opts->source_priority) {
        int rc = load_sources(j, opts->source_priority);
        if (rc != ND_OK)
            return rc;
    }
    int rc = nd_batch_create(&opts->params, &j->batch);
    if (rc != ND_OK)
        return jfail(j, rc, "%s", nd_strerror(rc));
    nd__batch_on_phase(j->batch, opts->on_progress ? batch_phase : NULL, j);
    /* Reading ahead needs a second chunk and a core for the reading. */
    unsigned threads = opts->params.threads;
#ifdef _OPENMP
    if (!threads)
        threads = (unsigned)omp_get_max_threads();
#endif
    j->ahead = threads > 1;
    return ND_OK;
}

ND_API int nd_job_run(nd_job *j)
{
    if (!j->batch || j->ran)
        return jfail(j, ND_ERR_STATE, "a job runs once, after nd_job_create succeeded");
    j->ran = 1;
    j->t0 = j->last_progress = wall();
    chunk *slot[2] = {calloc(1, sizeof(chunk)), NULL};
    if (slot[0] && j->ahead)
        slot[1] = calloc(1, sizeof(chunk));
    int status = slot[0] ? read_all(j, slot) : oom(j);
    chunk_free(slot[0]);
    chunk_free(slot[1]);
    j->st.records = j->nids + j->st.skipped_bad;
    if (status == ND_OK && (status = nd_batch_run(j->batch)) != ND_OK)
        status = jfail(j, status, "%s", nd_batch_errmsg(j->batch));
    if (status == ND_OK && j->o.on_row)
        status = j->rows_fn                ? j->rows_fn(j->rows_ctx, j)
               : j->o.kind == ND_JOB_PAIRS ? write_pairs(j)
                                           : write_docs(j);
    nd_batch_stats_get(j->batch, &j->st.batch);
    j->st.seconds = wall() - j->t0;
    if (status != ND_OK)
        return status;
    j->ran = 2;
    return ND_OK;
}

ND_API void nd_job_stats_get(const nd_job *j, nd_job_stats *st)
{
    *st = j->st;
}

/* ------------------------------------------------- a shared run (jobint.h) */

void nd__job_pieces(nd_job *j, const nd__piece *pieces, size_t n)
{
    j->pieces = pieces;
    j->npieces = n;
}

void nd__job_count_from(nd_job *j, uint64_t first)
{
    j->count_first = first;
}

void nd__job_rows_by(nd_job *j, nd__rows_fn fn, void *ctx)
{
    j->rows_fn = fn;
    j->rows_ctx = ctx;
}

size_t nd__job_docs(const nd_job *j)
{
    return j->nids;
}

const char *nd__job_header(const nd_job *j, size_t *len)
{
    *len = j->header.n;
    return j->header.p;
}

void nd__job_add_rows(nd_job *j, uint64_t rows)
{
    j->st.rows += rows;
}

void nd__job_warn(nd_job *j, const nd_job_warning *w)
{
    warn(j, w->code, w->file, w->line, w->message);
}

static int put_u64(nd__put_fn put, void *ctx, uint64_t v)
{
    return put(ctx, &v, sizeof v);
}

/*
 * What the rows need of this process's documents, in order: a head (the
 * documents, the records skipped, bad or binary, the repaired ones, and
 * the TSV header), then, with docs, each document's id, its raw record
 * (dedup) and its text with its meta (explain), each length first.
 */
int nd__job_export(nd_job *j, int docs, nd__put_fn put, void *ctx)
{
    int rc = ND_OK;
    if ((rc = put_u64(put, ctx, j->nids)) != ND_OK ||
        (rc = put_u64(put, ctx, j->st.skipped_bad)) != ND_OK ||
        (rc = put_u64(put, ctx, j->st.skipped_binary)) != ND_OK ||
        (rc = put_u64(put, ctx, j->st.repaired)) != ND_OK ||
        (rc = put_u64(put, ctx, j->header.n)) != ND_OK ||
        (j->header.n && (rc = put(ctx, j->header.p, j->header.n)) != ND_OK) || !docs)
        return rc;
    if ((j->spool && (fflush(j->spool) != 0 || fseek(j->spool, 0, SEEK_SET) != 0)) ||
        (j->texts && (fflush(j->texts) != 0 || fseek(j->texts, 0, SEEK_SET) != 0)))
        return jfail(j, ND_ERR_IO, "temporary file: read failed");
    buf tmp = {0};
    for (size_t d = 0; d < j->nids && rc == ND_OK; d++) {
        const size_t idlen = j->id_off[d + 1] - j->id_off[d];
        if ((rc = put_u64(put, ctx, idlen)) != ND_OK ||
            (rc = put(ctx, j->ids.p + j->id_off[d], idlen)) != ND_OK)
            break;
        for (int k = 0; k < 2 && rc == ND_OK; k++) {
            FILE *f = k ? j->texts : j->spool;
            if (!f)
                continue;
            uint64_t len = 0;
            size_t head = 0;
            if (k) {
                if (fread(&len, sizeof len, 1, f) != 1) {
                    rc = jfail(j, ND_ERR_IO, "temporary file: read failed");
                    break;
                }
                head = sizeof(nd_doc_meta);
            } else {
                len = j->raw_len[d];
            }
            tmp.n = 0;
            if (buf_reserve(&tmp, (size_t)len + head)) {
                rc = oom(j);
                break;
            }
            if (fread(tmp.p, 1, (size_t)len + head, f) != (size_t)len + head) {
                rc = jfail(j, ND_ERR_IO, "temporary file: read failed");
                break;
            }
            if ((rc = put_u64(put, ctx, len)) == ND_OK)
                rc = put(ctx, tmp.p, (size_t)len + head);
        }
    }
    free(tmp.p);
    return rc;
}

/* What the rows of pairs need of documents docs[0..n) of this job (its
   own numbering), as nd__job_export writes each: the id, and the text with
   its meta (explain).  Not for dedup (raw records are read in order). */
int nd__job_export_docs(nd_job *j, const uint64_t *docs, size_t n, nd__put_fn put, void *ctx)
{
    if (j->spool)
        return jfail(j, ND_ERR_STATE, "records are exported in order only");
    if (j->texts && fflush(j->texts) != 0)
        return jfail(j, ND_ERR_IO, "temporary file: write failed");
    buf tmp = {0};
    int rc = ND_OK;
    for (size_t i = 0; i < n && rc == ND_OK; i++) {
        const size_t d = (size_t)docs[i];
        if (d >= j->nids) {
            rc = jfail(j, ND_ERR_STATE, "document %zu of %zu asked for", d, j->nids);
            break;
        }
        const size_t idlen = j->id_off[d + 1] - j->id_off[d];
        if ((rc = put_u64(put, ctx, idlen)) != ND_OK ||
            (rc = put(ctx, j->ids.p + j->id_off[d], idlen)) != ND_OK || !j->texts)
            continue;
        uint64_t len;
        if (fseeko(j->texts, (off_t)j->text_pos[d], SEEK_SET) != 0 ||
            fread(&len, sizeof len, 1, j->texts) != 1) {
            rc = jfail(j, ND_ERR_IO, "temporary file: read failed");
            break;
        }
        tmp.n = 0;
        if (buf_reserve(&tmp, (size_t)len + sizeof(nd_doc_meta))) {
            rc = oom(j);
            break;
        }
        if (fread(tmp.p, 1, (size_t)len + sizeof(nd_doc_meta), j->texts) !=
            (size_t)len + sizeof(nd_doc_meta)) {
            rc = jfail(j, ND_ERR_IO, "temporary file: read failed");
            break;
        }
        if ((rc = put_u64(put, ctx, len)) == ND_OK)
            rc = put(ctx, tmp.p, (size_t)len + sizeof(nd_doc_meta));
    }
    free(tmp.p);
    return rc;
}

static int get_u64(nd__get_fn get, void *ctx, uint64_t *v)
{
    return get(ctx, v, sizeof *v);
}

/* Append n documents as export writes them (each id, raw record, text
   with meta) after this job's documents; tmp is scratch. */
static int import_docs(nd_job *j, uint64_t n, nd__get_fn get, void *ctx, buf *tmp)
{
    int rc = ND_OK;
    if ((j->spool && fseeko(j->spool, 0, SEEK_END) != 0) ||
        (j->texts && fseeko(j->texts, 0, SEEK_END) != 0))
        return jfail(j, ND_ERR_IO, "temporary file: write failed");
    for (uint64_t d = 0; d < n && rc == ND_OK; d++) {
        uint64_t len;
        if ((rc = room_for_doc(j)) != ND_OK || (rc = get_u64(get, ctx, &len)) != ND_OK)
            break;
        if (buf_reserve(&j->ids, (size_t)len)) {
            rc = oom(j);
            break;
        }
        if ((rc = get(ctx, j->ids.p + j->ids.n, (size_t)len)) != ND_OK)
            break;
        j->id_off[j->nids] = j->ids.n;
        j->ids.n += (size_t)len;
        j->id_off[j->nids + 1] = j->ids.n;
        for (int k = 0; k < 2 && rc == ND_OK; k++) {
            FILE *f = k ? j->texts : j->spool;
            if (!f)
                continue;
            const size_t head = k ? sizeof(nd_doc_meta) : 0;
            tmp->n = 0;
            if ((rc = get_u64(get, ctx, &len)) != ND_OK)
                break;
            if (buf_reserve(tmp, (size_t)len + head)) {
                rc = oom(j);
                break;
            }
            if ((rc = get(ctx, tmp->p, (size_t)len + head)) != ND_OK)
                break;
            if ((k && fwrite(&len, sizeof len, 1, f) != 1) ||
                fwrite(tmp->p, 1, (size_t)len + head, f) != (size_t)len + head) {
                rc = jfail(j, ND_ERR_IO, "temporary file: write failed");
                break;
            }
            if (k) {
                j->text_pos[j->nids] = j->texts_end;
                j->texts_end += sizeof len + head + len;
            } else {
                j->raw_len[j->nids] = len;
            }
        }
        if (rc == ND_OK)
            j->nids++;
    }
    return rc;
}

/* Append what nd__job_export wrote elsewhere, after this job's documents
   (with docs), or count them only. */
int nd__job_import(nd_job *j, int docs, nd__get_fn get, void *ctx)
{
    uint64_t n, bad, binary, repaired, hlen;
    int rc;
    if ((rc = get_u64(get, ctx, &n)) != ND_OK || (rc = get_u64(get, ctx, &bad)) != ND_OK ||
        (rc = get_u64(get, ctx, &binary)) != ND_OK ||
        (rc = get_u64(get, ctx, &repaired)) != ND_OK ||
        (rc = get_u64(get, ctx, &hlen)) != ND_OK)
        return rc;
    buf tmp = {0};
    if (buf_reserve(&tmp, (size_t)hlen + 1))
        return oom(j);
    if (hlen && (rc = get(ctx, tmp.p, (size_t)hlen)) != ND_OK) {
        free(tmp.p);
        return rc;
    }
    /* The first file with a header gives it, as when one process reads. */
    if (hlen && !j->header.n && j->spool && buf_put(&j->header, tmp.p, (size_t)hlen)) {
        free(tmp.p);
        return oom(j);
    }
    j->st.skipped_bad += bad;
    j->st.skipped_binary += binary;
    j->st.repaired += repaired;
    j->st.records += n + bad;
    if (!docs) {
        free(tmp.p);
        return ND_OK;
    }
    rc = import_docs(j, n, get, ctx, &tmp);
    free(tmp.p);
    return rc;
}

int nd__job_import_docs(nd_job *j, uint64_t n, nd__get_fn get, void *ctx)
{
    buf tmp = {0};
    int rc = import_docs(j, n, get, ctx, &tmp);
    free(tmp.p);
    return rc;
}

nd_batch *nd__job_batch_early(nd_job *j)
{
    return j ? j->batch : NULL;
}

ND_API const nd_batch *nd_job_batch(const nd_job *j)
{
    return j && j->ran == 2 ? j->batch : NULL;
}

ND_API const char *nd_job_errmsg(const nd_job *j)
{
    if (!j)
        return "out of memory";
    return j->err[0] ? j->err : "no error";
}

ND_API void nd_job_free(nd_job *j)
{
    if (!j)
        return;
    if (j->spool)
        fclose(j->spool);
    if (j->texts)
        fclose(j->texts);
    free(j->ids.p);
    free(j->id_off);
    free(j->raw_len);
    free(j->refused);
    free(j->header.p);
    free(j->text_pos);
    free_sources(j);
    nd_batch_free(j->batch);
    free(j);
}
