/*
 * batchcmd.c - neardup cluster | dedup | pairs over one batch.
 *
 * Records are read in chunks (texts copied into a chunk buffer, then handed
 * to nd_batch_add_many, which sketches them in parallel and keeps no text).
 * Ids are kept for the output; dedup also spools each raw record to an
 * unlinked temporary file, so memory holds neither texts nor records.
 * With --boilerplate the records are read once to count shingle document
 * frequencies (nd_batch_count), then once more to be sketched.  Files and
 * directories are simply read again (parsing runs at over 1 GB/s, and a
 * second copy of a large collection on disk is avoided); stdin, which
 * cannot be read twice, has its texts spooled to a temporary file in the
 * first pass.  Records refused in the first pass are skipped in the second
 * by their ordinal.
 * pairs --explain spools the texts the same way and reads the two texts of
 * each pair back after the run, to score it exactly and find the longest
 * run of normalized words the two share.
 * --keep source maps each record's source name to its line in the
 * --source-priority file (unlisted names rank after every listed one) and
 * hands that to the library as the document's priority.
 * Bad records stop the run with exit 65 before any output is written, or,
 * with --skip-bad, are counted and reported; every good record is in the
 * output exactly once.
 * With more than one thread, reading overlaps sketching: a thread of its
 * own reads and parses the next chunk while the library sketches this one
 * (two chunks, swapped under a mutex; see pump).  Reading and parsing take
 * some 15% of the time on news texts; done between the parallel bursts
 * they would leave the other cores idle that long.  The reading side
 * prints nothing and touches nothing the sketching side owns: its
 * warnings, errors and refusals go with the chunk as notes, replayed just
 * before the chunk is sketched, where a serial reading would have printed
 * them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cli.h"

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
 * a warning or an error to print (text in chunk.msgs), or the ordinal of a
 * record refused.
 */
typedef enum { NOTE_WARN, NOTE_ERROR, NOTE_REFUSE } note_kind;

typedef struct {
    note_kind kind;
    uint64_t ord;  /* NOTE_REFUSE */
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
    note *notes;
    size_t nnotes, cap_notes;
    buf msgs;   /* NUL-terminated messages of the notes */
    int status; /* EXIT_OK, or why reading stopped (the error is a note) */
    int last;   /* nothing follows this chunk */
    int oom;    /* a note was lost for want of memory: reading stops here */
} chunk;

typedef struct {
    const cli_opts *o;
    nd_batch *batch;
    buf ids;            /* id texts, back to back */
    size_t *id_off;     /* n + 1 offsets into ids */
    size_t nids, cap_ids;
    FILE *spool;        /* dedup: raw records */
    FILE *texts;        /* --boilerplate, --explain: texts, meta */
    int counting;       /* --boilerplate: the first of two passes */
    int reread;         /* the second pass reads the inputs again */
    uint64_t *refused;  /* ordinals refused in the first pass, ascending */
    size_t nrefused, cap_refused;
    uint64_t *raw_len;
    uint64_t *text_pos; /* where each document's text is in texts */
    uint64_t texts_end;
    struct source_rank *ranks; /* --keep source, sorted by name */
    size_t nranks;
    uint64_t skipped_bad, skipped_binary;
    uint64_t repaired;  /* JSONL lines read with U+FFFD for invalid UTF-8 */
    buf header;         /* dedup of TSV: the first file's header line */
    int any_dir;
    int ahead;          /* read the next chunk while this one is sketched */
    double t0, last_progress;
} run;

/* Remember that the record with this ordinal was refused (first pass). */
static int refuse(run *r, uint64_t ord)
{
    if (!r->counting || !r->reread)
        return 0;
    if (r->nrefused == r->cap_refused) {
        size_t cap = r->cap_refused ? r->cap_refused * 2 : 64;
        uint64_t *p = realloc(r->refused, cap * sizeof *p);
        if (!p)
            return -1;
        r->refused = p;
        r->cap_refused = cap;
    }
    r->refused[r->nrefused++] = ord;
    return 0;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(run *r, int done)
{
    if (r->o->quiet || !isatty(STDERR_FILENO))
        return;
    double t = wall();
    if (!done && t - r->last_progress < 0.25)
        return;
    r->last_progress = t;
    fprintf(stderr, "\rneardup: %zu documents read, %.1f s%s", r->nids,
            t - r->t0, done ? "\n" : "");
    fflush(stderr);
}

static int oom(void)
{
    cli_error("out of memory");
    return EXIT_IO;
}

/* Keep the id (and raw record for dedup) of chunk record i, now added. */
static int commit_record(run *r, const chunk *c, size_t i)
{
    if (r->nids + 2 > r->cap_ids) {
        size_t cap = r->cap_ids ? r->cap_ids * 2 : 1 << 14;
        size_t *p = realloc(r->id_off, cap * sizeof *p);
        if (!p)
            return oom();
        r->id_off = p;
        if (r->spool) {
            uint64_t *q = realloc(r->raw_len, cap * sizeof *q);
            if (!q)
                return oom();
            r->raw_len = q;
        }
        if (r->texts) {
            uint64_t *q = realloc(r->text_pos, cap * sizeof *q);
            if (!q)
                return oom();
            r->text_pos = q;
        }
        r->cap_ids = cap;
    }
    const char *id = c->keep.p + c->keep_off[i];
    size_t id_len = c->id_len[i];
    if (buf_put(&r->ids, id, id_len))
        return oom();
    r->id_off[r->nids] = r->ids.n - id_len;
    r->id_off[r->nids + 1] = r->ids.n;
    if (r->spool) {
        const char *raw = id + id_len;
        size_t n = c->keep_off[i + 1] - c->keep_off[i] - id_len;
        if (fwrite(raw, 1, n, r->spool) != n) {
            cli_error("temporary file: write failed");
            return EXIT_IO;
        }
        r->raw_len[r->nids] = n;
    }
    r->nids++;
    return EXIT_OK;
}

/* Spool chunk record i's text and meta as document doc. */
static int spool_text(run *r, const chunk *c, size_t i, size_t doc)
{
    uint64_t len = c->len[i];
    if (fwrite(&len, sizeof len, 1, r->texts) != 1 ||
        fwrite(&c->meta[i], sizeof c->meta[i], 1, r->texts) != 1 ||
        fwrite(c->text.p + c->off[i], 1, c->len[i], r->texts) != c->len[i])
        return EXIT_IO;
    r->text_pos[doc] = r->texts_end;
    r->texts_end += sizeof len + sizeof c->meta[i] + len;
    return EXIT_OK;
}

/* add_range: commit_record failed and said why. */
#define REPORTED 1

/*
 * Add chunk records [from, to) to the batch (or, in the first pass of two,
 * count them and spool their texts); *bad set on ND_ERR_UTF8.
 */
static int add_range(run *r, const chunk *c, size_t from, size_t to, size_t *bad)
{
    const char *texts[CHUNK_DOCS] = {0};
    if (from == to)
        return ND_OK;
    for (size_t i = from; i < to; i++)
        texts[i - from] = c->text.p + c->off[i];
    int rc = r->counting ? nd_batch_count(r->batch, to - from, texts, c->len + from, bad)
                         : nd_batch_add_many(r->batch, to - from, texts,
                                             c->len + from, c->meta + from, bad);
    if (rc != ND_OK)
        return rc;
    for (size_t i = from; i < to; i++) {
        if (commit_record(r, c, i) != EXIT_OK)
            return REPORTED;
        if (r->texts && spool_text(r, c, i, r->nids - 1) != EXIT_OK)
            return ND_ERR_IO;
    }
    return ND_OK;
}

/* Sketch the chunk; under --strict a record with invalid UTF-8 is bad. */
static int flush_chunk(run *r, chunk *c)
{
    size_t start = 0;
    while (start < c->n) {
        size_t bad = 0;
        int rc = add_range(r, c, start, c->n, &bad);
        if (rc == ND_OK)
            break;
        if (rc != ND_ERR_UTF8) {
            if (rc != REPORTED)
                cli_error("%s", rc == ND_ERR_IO ? "temporary file: write failed"
                                                : nd_batch_errmsg(r->batch));
            return EXIT_IO;
        }
        size_t at = start + bad;
        const char *file = c->files.p + c->file_off[at];
        unsigned long long line = (unsigned long long)c->line[at];
        if (!r->o->skip_bad) {
            cli_error("%s:%llu: invalid UTF-8 (--strict)", file, line);
            return EXIT_DATA;
        }
        cli_warn(r->o, "%s:%llu: invalid UTF-8 (--strict), record skipped",
                 file, line);
        r->skipped_bad++;
        if (refuse(r, c->ord[at]) < 0)
            return oom();
        if (bad && (rc = add_range(r, c, start, at, NULL)) != ND_OK) {
            if (rc != REPORTED)
                cli_error("%s", rc == ND_ERR_IO ? "temporary file: write failed"
                                                : nd_batch_errmsg(r->batch));
            return EXIT_IO;
        }
        start = at + 1;
    }
    c->n = 0;
    c->text.n = 0;
    c->files.n = 0;
    c->keep.n = 0;
    return EXIT_OK;
}

/* ------------------------------------------------------ --keep source */

struct source_rank {
    char *name;
    size_t len;
    int32_t rank;  /* 0 for the first name of the file */
    uint64_t line;
};

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
 * Read the --source-priority file: one name a line, most preferred first;
 * blank lines and lines starting with # are skipped, blanks around a name
 * are dropped.  A name listed twice or a file without names is a usage
 * error naming the line.
 */
static int load_sources(run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
        return EXIT_IO;
    }
    char *line = NULL;
    size_t cap = 0, nalloc = 0;
    ssize_t got;
    uint64_t lineno = 0;
    int status = EXIT_OK;
    while (status == EXIT_OK && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t a = 0, z = (size_t)got;
        while (z > 0 && is_blank(line[z - 1]))
            z--;
        while (a < z && is_blank(line[a]))
            a++;
        if (a == z || line[a] == '#')
            continue;
        if (memchr(line + a, '\0', z - a)) {
            cli_error("%s:%llu: a NUL byte in a source name", path,
                      (unsigned long long)lineno);
            status = EXIT_USAGE;
            break;
        }
        if (r->nranks == INT32_MAX) {
            cli_error("%s:%llu: too many source names", path,
                      (unsigned long long)lineno);
            status = EXIT_USAGE;
            break;
        }
        if (r->nranks == nalloc) {
            nalloc = nalloc ? nalloc * 2 : 64;
            struct source_rank *p = realloc(r->ranks, nalloc * sizeof *p);
            if (!p) {
                status = oom();
                break;
            }
            r->ranks = p;
        }
        char *name = malloc(z - a + 1);
        if (!name) {
            status = oom();
            break;
        }
        memcpy(name, line + a, z - a);
        name[z - a] = '\0';
        r->ranks[r->nranks] = (struct source_rank){name, z - a,
                                                   (int32_t)r->nranks, lineno};
        r->nranks++;
    }
    if (status == EXIT_OK && ferror(f)) {
        cli_error("%s: read failed", path);
        status = EXIT_IO;
    }
    free(line);
    fclose(f);
    if (status != EXIT_OK)
        return status;
    if (!r->nranks) {
        cli_error("%s: no source names", path);
        return EXIT_USAGE;
    }
    qsort(r->ranks, r->nranks, sizeof *r->ranks, by_name);
    const struct source_rank *dup = NULL, *first = NULL;
    for (size_t i = 1; i < r->nranks; i++) {
        const struct source_rank *x = &r->ranks[i - 1], *y = &r->ranks[i];
        if (x->len == y->len && !memcmp(x->name, y->name, x->len) &&
            (!dup || y->line < dup->line)) {
            dup = y;
            first = x;
            while (first > r->ranks && first[-1].len == x->len &&
                   !memcmp(first[-1].name, x->name, x->len))
                first--;
        }
    }
    if (dup) {
        cli_error("%s:%llu: source '%s' is already listed on line %llu", path,
                  (unsigned long long)dup->line, dup->name,
                  (unsigned long long)first->line);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* The rank of a source name; unlisted and missing names come after all. */
static int32_t source_priority(const run *r, const char *name, size_t len)
{
    if (!name)
        return (int32_t)r->nranks;
    size_t lo = 0, hi = r->nranks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct source_rank *x = &r->ranks[mid];
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
    return (int32_t)r->nranks;
}

static void free_sources(run *r)
{
    for (size_t i = 0; i < r->nranks; i++)
        free(r->ranks[i].name);
    free(r->ranks);
}

/* The reader over the command's inputs, or NULL (the error printed). */
static nd_reader *open_inputs(const cli_opts *o)
{
    nd_reader *rd;
    int rc = nd_reader_open((const char *const *)o->paths, o->npaths,
                            &o->reader, &rd);
    if (rc != ND_OK) {
        cli_error("%s", rd ? nd_reader_errmsg(rd) : nd_strerror(rc));
        nd_reader_close(rd);
        return NULL;
    }
    return rd;
}

/* What the library keeps of a record: its time and, for --keep source,
   the rank of its source. */
static nd_doc_meta record_meta(const run *r, const nd_record *rec)
{
    nd_doc_meta m = rec->meta;
    if (r->o->params.keep == ND_KEEP_SOURCE) {
        m.priority = source_priority(r, rec->source, rec->source_len);
        m.has_priority = 1;
    }
    return m;
}

/* Add chunk texts [0, n) to the batch (second pass: no refusals left). */
static int add_chunk(run *r, chunk *c)
{
    const char *texts[CHUNK_DOCS] = {0};
    for (size_t i = 0; i < c->n; i++)
        texts[i] = c->text.p + c->off[i];
    if (c->n && nd_batch_add_many(r->batch, c->n, texts, c->len, c->meta, NULL) != ND_OK) {
        cli_error("%s", nd_batch_errmsg(r->batch));
        return EXIT_IO;
    }
    c->n = 0;
    c->text.n = 0;
    return EXIT_OK;
}

/* ------------------------------------------------------ reading ahead */

/*
 * The reading side of a pass.  It fills chunks and prints nothing: what it
 * has to say goes into the chunk as notes.  Its counters are added to the
 * run's once the pass is over.
 */
typedef struct feed {
    run *r;
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
    c->status = EXIT_OK;
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
static void note_add(chunk *c, note_kind kind, uint64_t ord, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void note_add(chunk *c, note_kind kind, uint64_t ord, const char *fmt, ...)
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
    c->notes[c->nnotes++] = (note){kind, ord, at};
}

/* Reading stops at this chunk with status; the error is already a note. */
static void chunk_stop(chunk *c, int status)
{
    c->status = status;
    c->last = 1;
}

static void chunk_oom(chunk *c)
{
    note_add(c, NOTE_ERROR, 0, "out of memory");
    chunk_stop(c, EXIT_IO);
}

/* Copy record rec into chunk c; all: what the first pass keeps of it too. */
static int put_record(const run *r, chunk *c, const nd_record *rec,
                      uint64_t ord, int all)
{
    size_t i = c->n;
    c->off[i] = c->text.n;
    c->len[i] = rec->text_len;
    c->meta[i] = record_meta(r, rec);
    if (buf_put(&c->text, rec->text, rec->text_len))
        return -1;
    if (all) {
        c->line[i] = rec->line;
        c->ord[i] = ord;
        c->file_off[i] = c->files.n;
        c->keep_off[i] = c->keep.n;
        c->id_len[i] = rec->id_len;
        /* A directory entry is a whole file: dedup prints its id instead. */
        int raw_is_id = r->any_dir;
        if (buf_put(&c->files, rec->file, strlen(rec->file) + 1) ||
            buf_put(&c->keep, rec->id, rec->id_len) ||
            (r->spool && (raw_is_id ? buf_put(&c->keep, rec->id, rec->id_len)
                                    : buf_put(&c->keep, rec->raw, rec->raw_len))))
            return -1;
        c->keep_off[i + 1] = c->keep.n;
    }
    c->n++;
    return 0;
}

/* A chunk ends where the next record would overflow it, as it always has:
   nd_batch_count samples by chunk, so the boundaries are part of the result. */
static int chunk_full(const chunk *c, const nd_record *rec)
{
    return c->n == CHUNK_DOCS || (c->n && c->text.n + rec->text_len > CHUNK_BYTES);
}

/* The first pass: records, with what is wrong with the bad ones. */
static void fill_first(feed *f, chunk *c)
{
    run *r = f->r;
    const cli_opts *o = r->o;
    nd_record rec;
    if (f->holding) {
        f->holding = 0;
        if (put_record(r, c, &f->held, f->held_ord, 1)) {
            chunk_oom(c);
            return;
        }
    }
    while (!c->oom) {
        int rc = nd_reader_next(f->rd, &rec);
        if (rc == 0) {
            c->last = 1;
            return;
        }
        if (rc == ND_ERR_BINARY) {
            note_add(c, NOTE_WARN, 0, "%s", nd_reader_errmsg(f->rd));
            f->skipped_binary++;
            continue;
        }
        if (rc == ND_ERR_DATA) {
            if (!o->skip_bad) {
                note_add(c, NOTE_ERROR, 0, "%s", nd_reader_errmsg(f->rd));
                chunk_stop(c, EXIT_DATA);
                return;
            }
            note_add(c, NOTE_WARN, 0, "%s, record skipped", nd_reader_errmsg(f->rd));
            f->skipped_bad++;
            continue;
        }
        if (rc < 0) {
            note_add(c, NOTE_ERROR, 0, "%s", nd_reader_errmsg(f->rd));
            chunk_stop(c, EXIT_IO);
            return;
        }
        uint64_t ord = f->ordinal++;
        if (rec.header && !r->header.n && r->spool &&
            (buf_put(&r->header, rec.header, rec.header_len) ||
             buf_put(&r->header, "\n", 1))) {
            chunk_oom(c);
            return;
        }
        if (rec.bad_utf8) {
            if (o->params.norm & ND_NORM_STRICT_UTF8) {
                if (!o->skip_bad) {
                    note_add(c, NOTE_ERROR, 0, "%s:%llu: invalid UTF-8 (--strict)",
                             rec.file, (unsigned long long)rec.line);
                    chunk_stop(c, EXIT_DATA);
                    return;
                }
                note_add(c, NOTE_WARN, 0,
                         "%s:%llu: invalid UTF-8 (--strict), record skipped",
                         rec.file, (unsigned long long)rec.line);
                f->skipped_bad++;
                note_add(c, NOTE_REFUSE, ord, NULL);
                continue;
            }
            f->repaired++;
        }
        if (chunk_full(c, &rec)) {
            f->held = rec;
            f->held_ord = ord;
            f->holding = 1;
            return;
        }
        if (put_record(r, c, &rec, ord, 1)) {
            chunk_oom(c);
            return;
        }
    }
}

/*
 * The second pass over files and directories: the records the first pass
 * kept.  The reader is deterministic, so bad records come back as the same
 * errors (already reported) and good ones in the same order.
 */
static void fill_reread(feed *f, chunk *c)
{
    const run *r = f->r;
    nd_record rec;
    if (f->holding) {
        f->holding = 0;
        if (put_record(r, c, &f->held, 0, 0)) {
            chunk_oom(c);
            return;
        }
        f->added++;
    }
    for (;;) {
        int rc = nd_reader_next(f->rd, &rec);
        if (rc == 0) {
            c->last = 1;
            return;
        }
        if (rc == ND_ERR_BINARY || rc == ND_ERR_DATA)
            continue;
        if (rc < 0) {
            note_add(c, NOTE_ERROR, 0, "%s", nd_reader_errmsg(f->rd));
            chunk_stop(c, EXIT_IO);
            return;
        }
        uint64_t ord = f->ordinal++;
        if (f->next_refused < r->nrefused && r->refused[f->next_refused] == ord) {
            f->next_refused++;
            continue;
        }
        if (chunk_full(c, &rec)) {
            f->held = rec;
            f->holding = 1;
            return;
        }
        if (put_record(r, c, &rec, 0, 0)) {
            chunk_oom(c);
            return;
        }
        f->added++;
    }
}

/* The second pass over stdin: the texts spooled by the first. */
static void fill_spooled(feed *f, chunk *c)
{
    FILE *in = f->r->texts;
    while (f->left && c->n < CHUNK_DOCS && (c->n == 0 || c->text.n < CHUNK_BYTES)) {
        uint64_t len;
        size_t i = c->n;
        if (fread(&len, sizeof len, 1, in) != 1 ||
            fread(&c->meta[i], sizeof c->meta[i], 1, in) != 1 ||
            len > SIZE_MAX - c->text.n) {
            note_add(c, NOTE_ERROR, 0, "temporary file: read failed");
            chunk_stop(c, EXIT_IO);
            return;
        }
        c->off[i] = c->text.n;
        c->len[i] = (size_t)len;
        if (buf_reserve(&c->text, (size_t)len)) {
            chunk_oom(c);
            return;
        }
        if (fread(c->text.p + c->text.n, 1, (size_t)len, in) != len) {
            note_add(c, NOTE_ERROR, 0, "temporary file: read failed");
            chunk_stop(c, EXIT_IO);
            return;
        }
        c->text.n += (size_t)len;
        c->n++;
        f->left--;
    }
    c->last = f->left == 0;
}

/* Print and record the chunk's notes in order; EXIT_OK or why reading
   stopped. */
static int replay(run *r, const chunk *c)
{
    for (size_t i = 0; i < c->nnotes; i++) {
        const note *n = &c->notes[i];
        switch (n->kind) {
        case NOTE_WARN:
            cli_warn(r->o, "%s", c->msgs.p + n->msg);
            break;
        case NOTE_ERROR:
            cli_error("%s", c->msgs.p + n->msg);
            break;
        case NOTE_REFUSE:
            if (refuse(r, n->ord) < 0)
                return oom();
            break;
        }
    }
    /* Reading stopped where memory ran out, whatever it had to say. */
    return c->oom ? oom() : c->status;
}

/* The first pass takes a chunk: its notes, then the chunk itself, as a
   serial reading prints them. */
static int take_first(run *r, chunk *c)
{
    int st = replay(r, c);
    if (st == EXIT_OK)
        st = flush_chunk(r, c);
    progress(r, 0);
    return st;
}

/* The second pass takes a chunk. */
static int take_again(run *r, chunk *c)
{
    int st = replay(r, c);
    return st == EXIT_OK ? add_chunk(r, c) : st;
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
 * Run one pass: f fills chunks, take sketches them.  With r->ahead a thread
 * fills one chunk while the other is sketched (the two alternate); else one
 * chunk is filled, then sketched.  Either way take sees the same chunks and
 * the same notes in the same order, so stderr, the exit code and the
 * result do not depend on the thread count.
 */
static int pump(run *r, feed *f, chunk *const slot[2], int (*take)(run *, chunk *))
{
    pthread_t th;
    int threaded = r->ahead && slot[1];
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
            st = take(r, c);
        } while (st == EXIT_OK && !c->last);
        return st;
    }
    for (int k = 0;; k ^= 1) {
        pthread_mutex_lock(&f->mu);
        while (!f->full[k])
            pthread_cond_wait(&f->cv, &f->mu);
        pthread_mutex_unlock(&f->mu);
        st = take(r, slot[k]);
        int last = slot[k]->last;
        pthread_mutex_lock(&f->mu);
        f->full[k] = 0;
        f->stop = st != EXIT_OK;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        if (st != EXIT_OK || last)
            break;
    }
    pthread_join(th, NULL);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    return st;
}

/* The second pass over files and directories. */
static int reread_pass(run *r, chunk *const slot[2])
{
    feed f = {.r = r, .fill = fill_reread};
    r->counting = 0;
    if (!(f.rd = open_inputs(r->o)))
        return EXIT_IO;
    int status = pump(r, &f, slot, take_again);
    nd_reader_close(f.rd);
    if (status == EXIT_OK && f.added != r->nids) {
        cli_error("the input changed between the two passes (%llu records, "
                  "then %llu)", (unsigned long long)r->nids,
                  (unsigned long long)f.added);
        status = EXIT_IO;
    }
    return status;
}

/* The second pass over stdin: sketch the spooled texts. */
static int second_pass(run *r, chunk *const slot[2])
{
    feed f = {.r = r, .fill = fill_spooled, .left = r->nids};
    r->counting = 0;
    if (fflush(r->texts) != 0 || fseek(r->texts, 0, SEEK_SET) != 0) {
        cli_error("temporary file: read failed");
        return EXIT_IO;
    }
    return f.left ? pump(r, &f, slot, take_again) : EXIT_OK;
}

static int read_all(run *r, chunk *const slot[2])
{
    feed f = {.r = r, .fill = fill_first};
    if (!(f.rd = open_inputs(r->o)))
        return EXIT_IO;
    int status = pump(r, &f, slot, take_first);
    nd_reader_close(f.rd);
    r->skipped_bad += f.skipped_bad;
    r->skipped_binary += f.skipped_binary;
    r->repaired += f.repaired;
    if (status == EXIT_OK && r->counting)
        status = r->reread ? reread_pass(r, slot) : second_pass(r, slot);
    return status;
}

static void put_id(FILE *f, const run *r, size_t doc)
{
    fwrite(r->ids.p + r->id_off[doc], 1, r->id_off[doc + 1] - r->id_off[doc], f);
}

/* ------------------------------------------------------------ --explain */

#define EXPLAIN_WORDS 5000 /* words of each text searched for the passage */
#define PASSAGE_HALF 15    /* a longer passage prints 15 words, " ... ", 15 */

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
static int side_load(run *r, nd_sketcher *sk, side *s, size_t doc)
{
    uint64_t len;
    nd_doc_meta meta;
    s->doc = doc;
    s->text.n = s->norm.n = 0;
    if (fseeko(r->texts, (off_t)r->text_pos[doc], SEEK_SET) != 0 ||
        fread(&len, sizeof len, 1, r->texts) != 1 ||
        fread(&meta, sizeof meta, 1, r->texts) != 1) {
        cli_error("temporary file: read failed");
        return EXIT_IO;
    }
    if (s->text.cap < len + 1) {
        char *p = realloc(s->text.p, (size_t)len + 1);
        if (!p)
            return oom();
        s->text.p = p;
        s->text.cap = (size_t)len + 1;
    }
    if (fread(s->text.p, 1, (size_t)len, r->texts) != len) {
        cli_error("temporary file: read failed");
        return EXIT_IO;
    }
    s->text.n = (size_t)len;

    const uint64_t *set;
    size_t n;
    if (nd_sketcher_shingles(sk, s->text.p, s->text.n, &set, &n) != ND_OK)
        return oom();
    if (n > s->set_cap) {
        uint64_t *p = realloc(s->set, n * sizeof *p);
        if (!p)
            return oom();
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
        return oom();
    s->nw = 0;
    for (size_t i = 0; i < nlen && s->nw < EXPLAIN_WORDS;) {
        size_t j = i;
        while (j < nlen && s->norm.p[j] != ' ')
            j++;
        if (s->nw == s->w_cap) {
            size_t cap = s->w_cap ? s->w_cap * 2 : 256;
            word *p = realloc(s->w, cap * sizeof *p);
            if (!p)
                return oom();
            s->w = p;
            s->w_cap = cap;
        }
        s->w[s->nw++] = (word){s->norm.p + i, j - i, word_hash(s->norm.p + i, j - i)};
        i = j + 1;
    }
    return EXIT_OK;
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

/* p[0..n) as the inside of a JSON string. */
static void put_json_chars(FILE *f, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
}

/* Words [from, to) of s as they stand in its normalized text. */
static void put_words(FILE *f, const side *s, size_t from, size_t to)
{
    const char *p = s->w[from].p;
    const char *e = s->w[to - 1].p + s->w[to - 1].len;
    put_json_chars(f, p, (size_t)(e - p));
}

static int write_explained(run *r, FILE *f)
{
    size_t ne;
    const nd_edge *e = nd_batch_edges(r->batch, &ne);
    if (fflush(r->texts) != 0) {
        cli_error("temporary file: write failed");
        return EXIT_IO;
    }
    nd_sketcher *sk = NULL;
    if (nd_sketcher_create(&r->o->params, &sk) != ND_OK)
        return oom();
    side a = {0}, b = {0};
    uint32_t *row = malloc((EXPLAIN_WORDS + 1) * sizeof *row);
    int status = row ? EXIT_OK : oom();
    for (size_t i = 0; i < ne && status == EXIT_OK; i++) {
        if (i == 0 || a.doc != e[i].a)
            status = side_load(r, sk, &a, e[i].a);
        if (status == EXIT_OK)
            status = side_load(r, sk, &b, e[i].b);
        if (status != EXIT_OK)
            break;
        double j, c;
        nd_exact_scores(a.set, a.nset, b.set, b.nset, &j, &c);
        size_t start, run_len = longest_run(&a, &b, row, &start);
        fputs("{\"a\": ", f);
        put_id(f, r, e[i].a);
        fputs(", \"b\": ", f);
        put_id(f, r, e[i].b);
        fprintf(f, ", \"jaccard\": %.4f, \"containment\": %.4f, "
                   "\"exact_jaccard\": %.4f, \"exact_containment\": %.4f, "
                   "\"shared_words\": %zu, \"passage\": ",
                e[i].jaccard, e[i].containment, j, c, run_len);
        fputc('"', f);
        if (run_len > 2 * PASSAGE_HALF) {
            put_words(f, &a, start, start + PASSAGE_HALF);
            fputs(" ... ", f);
            put_words(f, &a, start + run_len - PASSAGE_HALF, start + run_len);
        } else if (run_len) {
            put_words(f, &a, start, start + run_len);
        }
        fputs("\"}\n", f);
    }
    free(row);
    side_free(&a);
    side_free(&b);
    nd_sketcher_free(sk);
    return status;
}

static int write_output(run *r, FILE *f)
{
    size_t n = nd_batch_size(r->batch);
    switch (r->o->cmd) {
    case CMD_CLUSTER:
        for (size_t i = 0; i < n; i++) {
            fputs("{\"id\": ", f);
            put_id(f, r, i);
            fprintf(f, ", \"cluster\": %u, \"rep\": %s}\n",
                    nd_batch_cluster(r->batch, i),
                    nd_batch_rep(r->batch, i) == i ? "true" : "false");
        }
        break;
    case CMD_PAIRS: {
        if (r->o->explain)
            return write_explained(r, f);
        size_t ne;
        const nd_edge *e = nd_batch_edges(r->batch, &ne);
        for (size_t i = 0; i < ne; i++) {
            fputs("{\"a\": ", f);
            put_id(f, r, e[i].a);
            fputs(", \"b\": ", f);
            put_id(f, r, e[i].b);
            fprintf(f, ", \"jaccard\": %.4f, \"containment\": %.4f}\n",
                    e[i].jaccard, e[i].containment);
        }
        break;
    }
    case CMD_DEDUP: {
        if (fflush(r->spool) != 0 || fseek(r->spool, 0, SEEK_SET) != 0) {
            cli_error("temporary file: read failed");
            return EXIT_IO;
        }
        /* TSV keeps its header, so the output reads back as TSV. */
        if (r->header.n)
            fwrite(r->header.p, 1, r->header.n, f);
        char *tmp = NULL;
        size_t tcap = 0;
        for (size_t i = 0; i < n; i++) {
            size_t len = (size_t)r->raw_len[i];
            if (len > tcap) {
                char *p = realloc(tmp, len);
                if (!p) {
                    free(tmp);
                    return oom();
                }
                tmp = p;
                tcap = len;
            }
            if (fread(tmp, 1, len, r->spool) != len) {
                free(tmp);
                cli_error("temporary file: read failed");
                return EXIT_IO;
            }
            if (nd_batch_rep(r->batch, i) == i) {
                fwrite(tmp, 1, len, f);
                fputc('\n', f);
            }
        }
        free(tmp);
        break;
    }
    }
    return EXIT_OK;
}

static void print_stats(const run *r, double secs)
{
    nd_batch_stats st;
    nd_batch_stats_get(r->batch, &st);
    fprintf(stderr,
            "neardup: %llu documents (%llu empty, %llu with invalid UTF-8, "
            "%llu bad records skipped, %llu binary files skipped), "
            "%llu candidate pairs, %llu edges, %llu clusters, "
            "%llu capped buckets, %llu pairs refused by the chaining guard, "
            "%llu boilerplate shingles dropped from %llu documents "
            "(cut-off %llu documents); "
            "%u bands x %u rows; %.2f MB in %.2f s\n",
            (unsigned long long)st.text.docs, (unsigned long long)st.text.empty,
            (unsigned long long)(st.text.bad_utf8 + r->repaired),
            (unsigned long long)r->skipped_bad,
            (unsigned long long)r->skipped_binary,
            (unsigned long long)st.candidates, (unsigned long long)st.edges,
            (unsigned long long)st.clusters,
            (unsigned long long)st.capped_buckets,
            (unsigned long long)st.guard_rejected,
            (unsigned long long)st.text.suppressed,
            (unsigned long long)st.text.suppressed_docs,
            (unsigned long long)st.boilerplate_cutoff, st.bands, st.rows,
            st.text.bytes / 1e6, secs);
}

int cli_batch(const cli_opts *o)
{
    if (cli_stdin_check(o->paths, o->npaths) != EXIT_OK)
        return EXIT_IO;
    run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.t0 = wall();
    for (size_t i = 0; i < o->npaths; i++) {
        struct stat sb;
        if (strcmp(o->paths[i], "-") != 0 && stat(o->paths[i], &sb) == 0 &&
            S_ISDIR(sb.st_mode))
            r.any_dir = 1;
    }
    if (nd_batch_create(&o->params, &r.batch) != ND_OK)
        return oom();
    r.counting = o->params.boilerplate > 0.0;
    r.reread = r.counting && !o->explain && o->npaths > 0;
    for (size_t i = 0; r.reread && i < o->npaths; i++) {
        struct stat sb;
        r.reread = strcmp(o->paths[i], "-") != 0 && stat(o->paths[i], &sb) == 0 &&
                   (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode));
    }
    if ((o->cmd == CMD_DEDUP && !(r.spool = tmpfile())) ||
        (((r.counting && !r.reread) || o->explain) && !(r.texts = tmpfile()))) {
        cli_error("cannot create a temporary file");
        if (r.spool)
            fclose(r.spool);
        nd_batch_free(r.batch);
        return EXIT_IO;
    }
    /* The spools are written and read sequentially: large buffers. */
    if (r.spool)
        setvbuf(r.spool, NULL, _IOFBF, 1 << 20);
    if (r.texts)
        setvbuf(r.texts, NULL, _IOFBF, 1 << 20);
    if (o->source_priority) {
        int st = load_sources(&r, o->source_priority);
        if (st != EXIT_OK) {
            free_sources(&r);
            if (r.spool)
                fclose(r.spool);
            if (r.texts)
                fclose(r.texts);
            nd_batch_free(r.batch);
            return st;
        }
    }
    /* Reading ahead needs a second chunk and a core for the reading. */
    unsigned threads = o->params.threads;
#ifdef _OPENMP
    if (!threads)
        threads = (unsigned)omp_get_max_threads();
#endif
    r.ahead = threads > 1;
    chunk *slot[2] = {calloc(1, sizeof(chunk)), NULL};
    if (slot[0] && r.ahead)
        slot[1] = calloc(1, sizeof(chunk));
    int status = slot[0] ? read_all(&r, slot) : oom();
    chunk_free(slot[0]);
    chunk_free(slot[1]);
    progress(&r, 1);
    if (status == EXIT_OK && nd_batch_run(r.batch) != ND_OK) {
        cli_error("%s", nd_batch_errmsg(r.batch));
        status = EXIT_IO;
    }
    if (status == EXIT_OK) {
        cli_out out;
        status = cli_out_open(&out, o->output);
        if (status == EXIT_OK) {
            status = write_output(&r, out.f);
            if (status == EXIT_OK)
                status = cli_out_commit(&out);
            else
                cli_out_abort(&out);
        }
    }
    if (status == EXIT_OK && o->stats)
        print_stats(&r, wall() - r.t0);
    if (r.spool)
        fclose(r.spool);
    if (r.texts)
        fclose(r.texts);
    free(r.ids.p);
    free(r.id_off);
    free(r.raw_len);
    free(r.refused);
    free(r.header.p);
    free(r.text_pos);
    free_sources(&r);
    nd_batch_free(r.batch);
    return status;
}
