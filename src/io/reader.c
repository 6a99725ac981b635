/*
 * reader.c - nd_reader: records from JSONL, TSV, CSV, text lines or
 * directories.
 *
 * Paths are checked when the reader opens (a missing third file fails before
 * any record is produced; a named pipe is only checked, since it can be
 * read once) and directories are walked then, so the list of inputs is fixed
 * up front: one item per file, one per directory entry.  Streams are read
 * line by line through a buffer that starts at 1 MiB and doubles when a line
 * does not fit, up to the record limit (max_record_bytes): a longer line is
 * a bad record and the rest of it is read and dropped a buffer at a time.
 * Lines end at '\n'; one trailing '\r' is no part of the record's fields
 * (CRLF files) but stays in its raw text.  A directory entry is one
 * document and is read whole, up to the same limit.
 *
 * JSONL lines go first through nd__jsonscan (jsonscan.c), which validates
 * the line as strictly as jansson and finds the members without building a
 * tree; a text with escapes is decoded in the same walk, one without is
 * handed out in place.  Lines it
 * declines, and records that are errors, are parsed by jansson, so jansson
 * decides every doubtful case and words every message.
 *
 * Records point into the reader's buffers (the line buffer, the current
 * JSON value, the id and text buffers); the next call reuses them.
 *
 * Ids are printed as JSON: strings with jansson's escaping (no \u escapes
 * beyond control characters, output stays UTF-8; bytes that are not UTF-8,
 * possible only in TSV values and file names, become U+FFFD), integers
 * exactly, reals in the shortest form that reads back as the same double.
 *
 * Errors: ND_ERR_DATA and ND_ERR_BINARY concern one record or one file and
 * the next call goes on; ND_ERR_IO is sticky.  Per the sqlite3_open model,
 * nd_reader_open hands back the reader even when it fails with ND_ERR_IO so
 * that nd_reader_errmsg can name the file; the caller closes it.
 */
#include "../neardup.h"
#include "instream.h"
#include "jsonscan.h"
#include "readerint.h"
#include "timeparse.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK ((size_t)1 << 20)
#define BINARY_PROBE 8192

enum { FMT_DOC = 100 }; /* a directory entry: one file, one document */

typedef struct item {
    char *path;  /* to open and to report; "-" is stdin */
    char *rel;   /* directory entries: the path below the directory */
    int fmt;     /* nd_format, or FMT_DOC */
    uint64_t from, to; /* a byte range of a plain file (nd__reader_open_pieces);
                          to 0: the whole stream */
    uint64_t line0;    /* lines of the file before from */
} item;

typedef struct gbuf {
    char *p;
    size_t len, cap;
} gbuf;

typedef struct cell {
    size_t off, len;
} cell;

struct nd_reader {
    char *id_field, *text_field, *time_field, *source_field;
    nd_format format;
    uint64_t max_record;
    item *items;
    size_t nitems, items_cap, cur;
    int failed;          /* an ND_ERR_IO happened: every call repeats it */
    char err[4096];

    /* the stream being read */
    int active;
    nd__instream *in;
    char *buf;
    size_t start, end, scan, cap;
    int eof;
    uint64_t left;       /* a range: bytes of it not yet read */
    uint64_t lineno;
    size_t raw_len;      /* the current line's length with its CR, if any */

    /* TSV and CSV: column layout from the header line */
    int tsv_header_done;
    size_t tsv_ncols;
    long tsv_text, tsv_id, tsv_time, tsv_source;
    cell *cells;
    size_t cells_cap;

    /* CSV: libcsv's parser, the fields of the record being read (cells
       index csv_fields) and its raw lines */
    struct csv_parser csv;
    int csv_live, csv_done;
    size_t csv_ncells;
    int csv_nomem;
    gbuf csv_fields, csv_raw;

    /* storage behind the last record */
    json_t *json;
    gbuf id, text, tmp, source, fixed;
    gbuf header;  /* TSV: the current file's header line, as read */
};

/* ------------------------------------------------------------- utilities */

static void set_err(nd_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_err(nd_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

static int fail_io(nd_reader *r, const char *path, const char *why)
{
    set_err(r, "%s: %s", path, why);
    r->failed = 1;
    return ND_ERR_IO;
}

static int gb_reserve(gbuf *b, size_t need)
{
    if (need <= b->cap)
        return ND_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return ND_ERR_NOMEM;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p)
        return ND_ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return ND_OK;
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static nd_format format_of(const char *path)
{
    size_t n = strlen(path);
    if (ends_with(path, n, ".gz"))
        n -= 3;
    else if (ends_with(path, n, ".zst"))
        n -= 4;
    if (ends_with(path, n, ".tsv"))
        return ND_FORMAT_TSV;
    if (ends_with(path, n, ".txt"))
        return ND_FORMAT_TEXT;
    if (ends_with(path, n, ".csv"))
        return ND_FORMAT_CSV;
    return ND_FORMAT_JSONL;
}

/* ----------------------------------------------------------- JSON output */

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t k;
    unsigned min;
    if (c >= 0xc2 && c <= 0xdf)
        k = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        k = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        k = 4, min = 0x10000;
    else
        return 0;
    if (n < k)
        return 0;
    unsigned cp = c & (0x3fu >> (k - 1));
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return k;
}

/*
 * s[0..n) with every byte that is not part of a valid UTF-8 sequence
 * replaced by U+FFFD, into b.  Returns the number replaced, or -1 (memory).
 */
static long repair_utf8(gbuf *b, const char *s, size_t n)
{
    if (n > SIZE_MAX / 3 - 1 || gb_reserve(b, 3 * n + 1) < 0)
        return -1;
    const unsigned char *u = (const unsigned char *)s;
    char *o = b->p;
    long bad = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(u + i, n - i);
        if (k == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
            bad++;
        } else {
            memcpy(o, u + i, k);
            o += k;
            i += k;
        }
    }
    b->len = (size_t)(o - b->p);
    return bad;
}

/* s[0..n) as a JSON string into r->id. */
static int quote_id(nd_reader *r, const char *s, size_t n)
{
    /* Worst case: every byte becomes \u00XX (6 bytes), plus quotes, NUL. */
    if (n > (SIZE_MAX - 3) / 6 || gb_reserve(&r->id, 6 * n + 3) < 0)
        return ND_ERR_NOMEM;
    char *o = r->id.p;
    const unsigned char *u = (const unsigned char *)s;
    *o++ = '"';
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
            i++;
        } else if (c < 0x20) {
            static const char short_esc[] = "btn\0fr";
            if (c >= '\b' && c <= '\r' && short_esc[c - '\b']) {
                *o++ = '\\';
                *o++ = short_esc[c - '\b'];
            } else {
                o += sprintf(o, "\\u%04X", c);
            }
            i++;
        } else {
            size_t k = utf8_seq(u + i, n - i);
            if (k == 0) {
                memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
                o += 3;
                i++;
            } else {
                memcpy(o, u + i, k);
                o += k;
                i += k;
            }
        }
    }
    *o++ = '"';
    *o = '\0';
    r->id.len = (size_t)(o - r->id.p);
    return ND_OK;
}

static int print_id(nd_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int print_id(nd_reader *r, const char *fmt, ...)
{
    if (gb_reserve(&r->id, 64) < 0)
        return ND_ERR_NOMEM;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->id.p, 64, fmt, ap);
    va_end(ap);
    r->id.len = n < 0 ? 0 : (size_t)n;
    return ND_OK;
}

/*
 * The id of a record that has none: the string "FILE:LINE" (the path as
 * given, "-" for stdin).  A line number alone was a number that the next
 * record's own id 7 could also be, and the same in every file.
 */
static int line_id_at(nd_reader *r, const item *it, uint64_t line)
{
    char num[24];
    int k = snprintf(num, sizeof num, ":%llu", (unsigned long long)line);
    size_t n = strlen(it->path);
    if (gb_reserve(&r->tmp, n + (size_t)k + 1) < 0)
        return ND_ERR_NOMEM;
    memcpy(r->tmp.p, it->path, n);
    memcpy(r->tmp.p + n, num, (size_t)k + 1);
    return quote_id(r, r->tmp.p, n + (size_t)k);
}

static int line_id(nd_reader *r, const item *it)
{
    return line_id_at(r, it, r->lineno);
}

/*
 * The shortest %.Ng (N = 1..17) that reads back as v; 17 digits always do.
 * Exponent forms are taken only where a plain form would be long (as in
 * JavaScript and Python), so 100.0 prints as 100.0, not 1e+02.
 */
static int print_real(nd_reader *r, double v)
{
    char tmp[64];
    double a = fabs(v);
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*g", p, v);
        if (strtod(tmp, NULL) == v &&
            (p == 17 || !strchr(tmp, 'e') || a < 1e-4 || a >= 1e16))
            break;
    }
    char radix = localeconv()->decimal_point[0];
    for (char *q = tmp; *q; q++)
        if (*q == radix)
            *q = '.';
    if (!strpbrk(tmp, ".e"))
        strcat(tmp, ".0");
    return print_id(r, "%s", tmp);
}

static void time_of_json(const json_t *v, nd_doc_meta *meta)
{
    meta->time = 0;
    meta->has_time = 0;
    if (json_is_integer(v)) {
        meta->time = json_integer_value(v);
        meta->has_time = 1;
    } else if (json_is_real(v)) {
        double x = floor(json_real_value(v));
        if (x >= -9.2e18 && x <= 9.2e18) {
            meta->time = (int64_t)x;
            meta->has_time = 1;
        }
    } else if (json_is_string(v)) {
        meta->has_time = nd__parse_time(json_string_value(v),
                                        json_string_length(v), &meta->time);
    }
}

/* ------------------------------------------------------------ the inputs */

static int add_item(nd_reader *r, char *path, char *rel, int fmt)
{
    if (r->nitems == r->items_cap) {
        size_t cap = r->items_cap ? 2 * r->items_cap : 8;
        item *p = realloc(r->items, cap * sizeof *p);
        if (!p) {
            free(path);
            free(rel);
            return ND_ERR_NOMEM;
        }
        r->items = p;
        r->items_cap = cap;
    }
    r->items[r->nitems++] = (item){path, rel, fmt, 0, 0, 0};
    return ND_OK;
}

static char *join(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    int slash = na > 0 && a[na - 1] != '/';
    char *p = malloc(na + slash + nb + 1);
    if (!p)
        return NULL;
    memcpy(p, a, na);
    if (slash)
        p[na] = '/';
    memcpy(p + na + slash, b, nb + 1);
    return p;
}

/*
 * Collect the regular files below root/rel.  Names starting with '.' are
 * skipped (VCS metadata, editor files); symbolic links are not followed so
 * a walk always ends and stays inside the tree.
 */
static int walk(nd_reader *r, const char *root, const char *rel)
{
    char *dir = *rel ? join(root, rel) : dupstr(root);
    if (!dir)
        return ND_ERR_NOMEM;
    DIR *d = opendir(dir);
    if (!d) {
        int rc = errno == ENOMEM ? ND_ERR_NOMEM : fail_io(r, dir, strerror(errno));
        free(dir);
        return rc;
    }
    int rc = ND_OK;
    struct dirent *e;
    while (rc == ND_OK) {
        errno = 0;
        if (!(e = readdir(d))) {
            if (errno)
                rc = fail_io(r, dir, strerror(errno));
            break;
        }
        if (e->d_name[0] == '.')
            continue;
        char *crel = *rel ? join(rel, e->d_name) : dupstr(e->d_name);
        char *cpath = crel ? join(root, crel) : NULL;
        struct stat st;
        if (!crel || !cpath) {
            rc = ND_ERR_NOMEM;
        } else if (lstat(cpath, &st) != 0) {
            rc = fail_io(r, cpath, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(r, root, crel);
        } else if (S_ISREG(st.st_mode)) {
            rc = add_item(r, cpath, crel, FMT_DOC);
            cpath = crel = NULL;
        }
        free(crel);
        free(cpath);
    }
    closedir(d);
    free(dir);
    return rc;
}

static int cmp_rel(const void *a, const void *b)
{
    return strcmp(((const item *)a)->rel, ((const item *)b)->rel);
}

static int add_path(nd_reader *r, const char *path)
{
    if (strcmp(path, "-") == 0) {
        char *p = dupstr(path);
        if (!p)
            return ND_ERR_NOMEM;
        return add_item(r, p, NULL,
                        r->format == ND_FORMAT_AUTO ? ND_FORMAT_JSONL
                                                    : r->format);
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return fail_io(r, path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        size_t first = r->nitems;
        int rc = walk(r, path, "");
        if (rc < 0)
            return rc;
        qsort(r->items + first, r->nitems - first, sizeof *r->items, cmp_rel);
        return ND_OK;
    }
    /* A named pipe is only checked for permission: opening it here would
       take the writer's data, and it can be read once only. */
    if (S_ISFIFO(st.st_mode)) {
        if (access(path, R_OK) != 0)
            return fail_io(r, path, strerror(errno));
    } else {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return fail_io(r, path, strerror(errno));
        close(fd);
    }
    char *p = dupstr(path);
    if (!p)
        return ND_ERR_NOMEM;
    return add_item(r, p, NULL,
                    r->format == ND_FORMAT_AUTO ? format_of(path) : r->format);
}

ND_API int nd_reader_open(const char *const *paths, size_t n,
                          const nd_reader_opts *opts, nd_reader **out)
{
    if (!out)
        return ND_ERR_PARAM;
    *out = NULL;
    if (n > 0 && !paths)
        return ND_ERR_PARAM;
    nd_reader_opts o = {ND_FORMAT_AUTO, NULL, NULL, NULL, NULL, 0};
    if (opts)
        o = *opts;
    if (o.format < ND_FORMAT_AUTO || o.format > ND_FORMAT_CSV)
        return ND_ERR_PARAM;
    for (size_t i = 0; i < n; i++)
        if (!paths[i])
            return ND_ERR_PARAM;
    nd_reader *r = calloc(1, sizeof *r);
    if (!r)
        return ND_ERR_NOMEM;
    r->format = o.format;
    r->max_record = o.max_record_bytes ? o.max_record_bytes
                                       : ND_RECORD_MAX_DEFAULT;
    r->id_field = dupstr(o.id_field ? o.id_field : "id");
    r->text_field = dupstr(o.text_field ? o.text_field : "text");
    r->time_field = o.time_field ? dupstr(o.time_field) : NULL;
    r->source_field = o.source_field ? dupstr(o.source_field) : NULL;
    if (!r->id_field || !r->text_field || (o.time_field && !r->time_field) ||
        (o.source_field && !r->source_field)) {
        nd_reader_close(r);
        return ND_ERR_NOMEM;
    }
    int rc = ND_OK;
    if (n == 0)
        rc = add_path(r, "-");
    for (size_t i = 0; i < n && rc == ND_OK; i++)
        rc = add_path(r, paths[i]);
    if (rc == ND_ERR_NOMEM) {
        nd_reader_close(r);
        return rc;
    }
    *out = r;
    return rc;
}

/* ------------------------------------------------------------ the stream */

static int open_fd(nd_reader *r, const item *it, int *fd)
{
    if (it->fmt != FMT_DOC && strcmp(it->path, "-") == 0) {
        *fd = STDIN_FILENO;
        return ND_OK;
    }
    *fd = open(it->path, O_RDONLY);
    if (*fd < 0)
        return fail_io(r, it->path, strerror(errno));
    return ND_OK;
}

/* libcsv's options: RFC 4180 strictly; records end at '\n' only (a CR
   before it is taken off by next_line), and white space is data. */
static int csv_is_lf(unsigned char c)
{
    return c == '\n';
}

static int csv_no_space(unsigned char c)
{
    (void)c;
    return 0;
}

/* A fresh parser: at a new file, and after a malformed record. */
static int csv_restart(nd_reader *r)
{
    if (r->csv_live)
        csv_free(&r->csv);
    r->csv_live = 0;
    if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return ND_ERR_NOMEM;
    csv_set_term_func(&r->csv, csv_is_lf);
    csv_set_space_func(&r->csv, csv_no_space);
    r->csv_live = 1;
    return ND_OK;
}

static int start_stream(nd_reader *r, const item *it)
{
    int fd;
    const char *why = NULL;
    int rc = open_fd(r, it, &fd);
    if (rc < 0)
        return rc;
    if (it->to && it->from && lseek(fd, (off_t)it->from, SEEK_SET) < 0) {
        rc = fail_io(r, it->path, strerror(errno));
        close(fd);
        return rc;
    }
    rc = nd__instream_open(fd, fd != STDIN_FILENO, &r->in, &why);
    if (rc < 0) {
        if (fd != STDIN_FILENO)
            close(fd);
        return rc == ND_ERR_NOMEM ? rc : fail_io(r, it->path, why);
    }
    r->active = 1;
    r->start = r->end = r->scan = 0;
    r->eof = 0;
    r->left = it->to ? it->to - it->from : 0;
    r->lineno = it->line0;
    r->tsv_header_done = 0;
    csv_restart(r);
    return ND_OK;
}

static void end_stream(nd_reader *r)
{
    nd__instream_close(r->in);
    r->in = NULL;
    r->active = 0;
    r->cur++;
}

/* Read the stream into the buffer from r->end; sets eof at the end. */
static int fill(nd_reader *r)
{
    const char *why = NULL;
    const int range = r->items[r->cur].to != 0;
    size_t want = r->cap - r->end - 1;
    if (range && want > r->left)
        want = (size_t)r->left;
    ssize_t got = want ? nd__instream_read(r->in, r->buf + r->end, want, &why) : 0;
    if (got < 0)
        return got == ND_ERR_NOMEM ? ND_ERR_NOMEM
                                   : fail_io(r, r->items[r->cur].path, why);
    if (got == 0)
        r->eof = 1;
    if (range)
        r->left -= (uint64_t)got;
    r->end += (size_t)got;
    return ND_OK;
}

/*
 * Drop the rest of a line that is over the limit: what the buffer holds
 * from r->start, then the stream up to the next '\n', a buffer at a time
 * (a line of gigabytes, or a small gzip bomb, costs no memory).  Returns
 * LINE_TOO_LONG or an error.
 */
enum { LINE_TOO_LONG = 2 };

static int skip_line(nd_reader *r)
{
    for (;;) {
        char *nl = r->end > r->scan
                       ? memchr(r->buf + r->scan, '\n', r->end - r->scan)
                       : NULL;
        if (nl) {
            r->start = r->scan = (size_t)(nl - r->buf) + 1;
            return LINE_TOO_LONG;
        }
        r->start = r->scan = r->end = 0;
        if (r->eof)
            return LINE_TOO_LONG;
        int rc = fill(r);
        if (rc < 0)
            return rc;
    }
}

/*
 * The next line of the stream without its '\n' and one trailing '\r'
 * (*len); *raw_len counts that '\r', and a NUL follows the raw line in
 * place.  Returns 1, 0 at the end, LINE_TOO_LONG for a line longer than
 * r->max_record (skipped), or an error.
 */
static int next_line(nd_reader *r, char **line, size_t *len, size_t *raw_len)
{
    for (;;) {
        char *nl = r->end > r->scan
                       ? memchr(r->buf + r->scan, '\n', r->end - r->scan)
                       : NULL;
        size_t stop, next;
        if (nl) {
            stop = (size_t)(nl - r->buf);
            next = stop + 1;
        } else if (r->eof) {
            if (r->start == r->end)
                return 0;
            stop = next = r->end;
        } else if (r->end - r->start > r->max_record) {
            r->scan = r->end;
            return skip_line(r);
        } else {
            r->scan = r->end;
            if (r->start > 0) {
                memmove(r->buf, r->buf + r->start, r->end - r->start);
                r->end -= r->start;
                r->scan -= r->start;
                r->start = 0;
            }
            /* Keep one spare byte for the NUL after an unterminated line. */
            if (r->cap - r->end < BLOCK / 2 + 1) {
                size_t cap = r->cap ? 2 * r->cap : BLOCK;
                if (cap < r->cap)
                    return ND_ERR_NOMEM;
                /* Here end <= max_record: max_record + BLOCK always has
                   the room, and a longer line is never held. */
                if (r->max_record < SIZE_MAX - BLOCK &&
                    cap > r->max_record + BLOCK)
                    cap = r->max_record + BLOCK;
                char *p = realloc(r->buf, cap);
                if (!p)
                    return ND_ERR_NOMEM;
                r->buf = p;
                r->cap = cap;
            }
            int rc = fill(r);
            if (rc < 0)
                return rc;
            continue;
        }
        if (stop - r->start > r->max_record) {
            r->start = r->scan = next;
            return LINE_TOO_LONG;
        }
        *line = r->buf + r->start;
        *len = *raw_len = stop - r->start;
        (*line)[*len] = '\0';
        if (*len > 0 && (*line)[*len - 1] == '\r')
            (*len)--;
        r->start = r->scan = next;
        return 1;
    }
}

/* --------------------------------------------------------------- formats */

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\f' && s[i] != '\v')
            return 0;
    return 1;
}

/* A string value of the scanner, decoded into b unless it has no escape. */
static int scan_string_value(gbuf *b, const nd__jsval *v, const char **s,
                             size_t *n)
{
    if (!v->escaped) {
        *s = v->p;
        *n = v->n;
        return ND_OK;
    }
    if (gb_reserve(b, v->n + 1) < 0)
        return ND_ERR_NOMEM;
    *n = nd__json_unescape(b->p, v->p, v->n);
    b->p[*n] = '\0';
    *s = b->p;
    return ND_OK;
}

/*
 * jansson failed for want of memory.  Only lines the scanner declines reach
 * jansson (a line it vouches for is read by the scanner, with the record's
 * own errors), so an invalid token from jansson is the line's fault.
 */
static int jansson_oom(const json_error_t *e)
{
    return json_error_code(e) == json_error_out_of_memory;
}

/* A BIGNUM of the scanner that is an integer (no fraction, no exponent). */
static int integer_text(const nd__jsval *v)
{
    return !memchr(v->p, '.', v->n) && !memchr(v->p, 'e', v->n) &&
           !memchr(v->p, 'E', v->n);
}

/* A record's number that does not fit where it is used. */
static int out_of_range(nd_reader *r, const item *it, const char *field,
                        const char *what)
{
    set_err(r, "%s:%llu: \"%s\" is a number beyond %s", it->path,
            (unsigned long long)r->lineno, field, what);
    return ND_ERR_DATA;
}

/* The id from the scanner's value into r->id. */
static int scan_id(nd_reader *r, const item *it, const nd__jsval *id)
{
    const char *s;
    size_t n;
    double d;
    int rc;
    switch (id->type) {
    case ND__JS_ABSENT:
    case ND__JS_NULL:
        return line_id(r, it);
    case ND__JS_STRING:
        rc = scan_string_value(&r->tmp, id, &s, &n);
        return rc < 0 ? rc : quote_id(r, s, n);
    case ND__JS_INT:
        return print_id(r, "%" JSON_INTEGER_FORMAT,
                        (json_int_t)nd__json_int(id->p, id->n));
    case ND__JS_BIGNUM:
        /* An integer id is kept exactly as written, whatever its size. */
        if (integer_text(id)) {
            if (gb_reserve(&r->id, id->n + 1) < 0)
                return ND_ERR_NOMEM;
            memcpy(r->id.p, id->p, id->n);
            r->id.p[id->n] = '\0';
            r->id.len = id->n;
            return ND_OK;
        }
        /* fall through */
    case ND__JS_REAL:
        if (!nd__json_real(id->p, id->n, &d))
            return ND_ERR_NOMEM;
        if (isinf(d))
            return out_of_range(r, it, r->id_field, "the range of a double");
        return print_real(r, d);
    default:
        set_err(r, "%s:%llu: \"%s\" is not a string or a number", it->path,
                (unsigned long long)r->lineno, r->id_field);
        return ND_ERR_DATA;
    }
}

/* The time from the scanner's value into meta. */
static int scan_time(nd_reader *r, const item *it, const nd__jsval *tm,
                     nd_doc_meta *meta)
{
    const char *s;
    size_t n;
    double d;
    int rc;
    meta->time = 0;
    meta->has_time = 0;
    if (tm->type == ND__JS_INT) {
        meta->time = nd__json_int(tm->p, tm->n);
        meta->has_time = 1;
    } else if (tm->type == ND__JS_BIGNUM && integer_text(tm)) {
        char buf[32];
        if (tm->n >= sizeof buf)
            return out_of_range(r, it, r->time_field, "64-bit seconds");
        memcpy(buf, tm->p, tm->n);
        buf[tm->n] = '\0';
        errno = 0;
        long long v = strtoll(buf, NULL, 10);
        if (errno == ERANGE)
            return out_of_range(r, it, r->time_field, "64-bit seconds");
        meta->time = v;
        meta->has_time = 1;
    } else if (tm->type == ND__JS_REAL || tm->type == ND__JS_BIGNUM) {
        if (!nd__json_real(tm->p, tm->n, &d))
            return ND_ERR_NOMEM;
        if (isinf(d))
            return out_of_range(r, it, r->time_field, "the range of a double");
        double x = floor(d);
        if (x >= -9.2e18 && x <= 9.2e18) {
            meta->time = (int64_t)x;
            meta->has_time = 1;
        }
    } else if (tm->type == ND__JS_STRING) {
        if ((rc = scan_string_value(&r->tmp, tm, &s, &n)) < 0)
            return rc;
        meta->has_time = nd__parse_time(s, n, &meta->time);
    }
    return ND_OK;
}

/*
 * The fast path for a JSONL record: nd__jsonscan validates the line and
 * finds the members, and the record is made here exactly as from jansson's
 * tree, with jansson's messages for a record that is an error.  Returns 1,
 * an error, or 0 when the line must go through jansson (a line the scanner
 * declines: jansson words the message of a malformed line).
 */
static int scan_jsonl(nd_reader *r, const item *it, const char *line,
                      size_t len, nd_record *rec)
{
    const char *names[ND__JS_MAX_FIELDS] = {r->text_field, r->id_field,
                                            r->time_field, r->source_field};
    nd__jsval v[ND__JS_MAX_FIELDS];
    /* The text is decoded into r->text as the line is scanned. */
    if (gb_reserve(&r->text, len + 1) < 0)
        return ND_ERR_NOMEM;
    if (!nd__jsonscan_decode(line, len, names, v, r->text.p))
        return 0;
    if (v[0].type == ND__JS_ABSENT) {
        set_err(r, "%s:%llu: no \"%s\" field", it->path,
                (unsigned long long)r->lineno, r->text_field);
        return ND_ERR_DATA;
    }
    if (v[0].type != ND__JS_STRING) {
        set_err(r, "%s:%llu: \"%s\" is not a string", it->path,
                (unsigned long long)r->lineno, r->text_field);
        return ND_ERR_DATA;
    }
    int rc = scan_id(r, it, &v[1]);
    if (rc < 0)
        return rc;
    if ((rc = scan_time(r, it, &v[2], &rec->meta)) < 0)
        return rc;
    if (v[3].type == ND__JS_STRING &&
        (rc = scan_string_value(&r->source, &v[3], &rec->source,
                                &rec->source_len)) < 0)
        return rc;
    if ((rc = scan_string_value(&r->text, &v[0], &rec->text,
                                &rec->text_len)) < 0)
        return rc;
    return 1;
}

/*
 * Lines that are empty or only white space are not JSONL records.  Lines
 * the scanner does not vouch for are parsed by jansson, which gives the
 * same record for a valid line and the error message for a bad one.
 */
static int parse_jsonl(nd_reader *r, const item *it, char *line, size_t len,
                       nd_record *rec)
{
    if (blank(line, len))
        return 0;
    int rc = scan_jsonl(r, it, line, len, rec);
    if (rc != 0)
        return rc;
    json_error_t jerr;
    /* JSON_ALLOW_NUL: a text may hold \u0000; lengths are explicit. */
    r->json = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
    if (!r->json && jansson_oom(&jerr))
        return ND_ERR_NOMEM;
    if (!r->json) {
        /* JSON must be UTF-8; a line that is JSON once its bad bytes are
           U+FFFD is read so, and marked (raw stays as read). */
        long bad = repair_utf8(&r->fixed, line, len);
        if (bad < 0)
            return ND_ERR_NOMEM;
        if (bad > 0 &&
            (rc = scan_jsonl(r, it, r->fixed.p, r->fixed.len, rec)) != 0) {
            rec->bad_utf8 = rc == 1;
            return rc;
        }
        if (bad > 0) {
            json_error_t fixerr;
            r->json = json_loadb(r->fixed.p, r->fixed.len, JSON_ALLOW_NUL, &fixerr);
            if (!r->json && jansson_oom(&fixerr))
                return ND_ERR_NOMEM;
            if (r->json)
                rec->bad_utf8 = 1;
        }
    }
    if (!r->json) {
        set_err(r, "%s:%llu: malformed JSON: %s", it->path,
                (unsigned long long)r->lineno, jerr.text);
        return ND_ERR_DATA;
    }
    if (!json_is_object(r->json)) {
        set_err(r, "%s:%llu: not a JSON object", it->path,
                (unsigned long long)r->lineno);
        return ND_ERR_DATA;
    }
    json_t *t = json_object_get(r->json, r->text_field);
    if (!t) {
        set_err(r, "%s:%llu: no \"%s\" field", it->path,
                (unsigned long long)r->lineno, r->text_field);
        return ND_ERR_DATA;
    }
    if (!json_is_string(t)) {
        set_err(r, "%s:%llu: \"%s\" is not a string", it->path,
                (unsigned long long)r->lineno, r->text_field);
        return ND_ERR_DATA;
    }
    json_t *id = json_object_get(r->json, r->id_field);
    if (!id || json_is_null(id))
        rc = line_id(r, it);
    else if (json_is_string(id))
        rc = quote_id(r, json_string_value(id), json_string_length(id));
    else if (json_is_integer(id))
        rc = print_id(r, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    else if (json_is_real(id))
        rc = print_real(r, json_real_value(id));
    else {
        set_err(r, "%s:%llu: \"%s\" is not a string or a number", it->path,
                (unsigned long long)r->lineno, r->id_field);
        return ND_ERR_DATA;
    }
    if (rc < 0)
        return rc;
    if (r->time_field)
        time_of_json(json_object_get(r->json, r->time_field), &rec->meta);
    if (r->source_field) {
        json_t *src = json_object_get(r->json, r->source_field);
        if (json_is_string(src)) {
            rec->source = json_string_value(src);
            rec->source_len = json_string_length(src);
        }
    }
    rec->text = json_string_value(t);
    rec->text_len = json_string_length(t);
    return 1;
}

/* TSV value escapes: \t \n \r \\; any other backslash stays as written. */
static size_t tsv_unescape(char *dst, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < n) {
            char e = s[i + 1];
            char v = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r'
                   : e == '\\' ? '\\' : 0;
            if (v) {
                dst[o++] = v;
                i++;
                continue;
            }
        }
        dst[o++] = c;
    }
    dst[o] = '\0';
    return o;
}

/* Split line into r->cells; returns the number of cells or an error. */
static long tsv_split(nd_reader *r, const char *line, size_t len)
{
    size_t n = 0, off = 0;
    for (;;) {
        if (n == r->cells_cap) {
            size_t cap = r->cells_cap ? 2 * r->cells_cap : 16;
            cell *p = realloc(r->cells, cap * sizeof *p);
            if (!p)
                return ND_ERR_NOMEM;
            r->cells = p;
            r->cells_cap = cap;
        }
        const char *tab = memchr(line + off, '\t', len - off);
        size_t stop = tab ? (size_t)(tab - line) : len;
        r->cells[n++] = (cell){off, stop - off};
        if (!tab)
            return (long)n;
        off = stop + 1;
    }
}

static int tsv_header(nd_reader *r, const item *it, const char *line,
                      size_t len)
{
    long n = tsv_split(r, line, len);
    if (n < 0)
        return (int)n;
    if (gb_reserve(&r->tmp, len + 1) < 0)
        return ND_ERR_NOMEM;
    r->tsv_ncols = (size_t)n;
    r->tsv_text = r->tsv_id = r->tsv_time = r->tsv_source = -1;
    for (long i = n - 1; i >= 0; i--) { /* backwards: the first name wins */
        tsv_unescape(r->tmp.p, line + r->cells[i].off, r->cells[i].len);
        if (strcmp(r->tmp.p, r->text_field) == 0)
            r->tsv_text = i;
        if (strcmp(r->tmp.p, r->id_field) == 0)
            r->tsv_id = i;
        if (r->time_field && strcmp(r->tmp.p, r->time_field) == 0)
            r->tsv_time = i;
        if (r->source_field && strcmp(r->tmp.p, r->source_field) == 0)
            r->tsv_source = i;
    }
    if (r->tsv_text < 0) {
        set_err(r, "%s:%llu: no \"%s\" column", it->path,
                (unsigned long long)r->lineno, r->text_field);
        return ND_ERR_DATA;
    }
    /* As read, with the CR of a CRLF line. */
    if (gb_reserve(&r->header, r->raw_len + 1) < 0)
        return ND_ERR_NOMEM;
    memcpy(r->header.p, line, r->raw_len);
    r->header.p[r->raw_len] = '\0';
    r->header.len = r->raw_len;
    r->tsv_header_done = 1;
    return 0;
}

/*
 * The first line names the columns.  Empty lines are skipped.  An id column
 * gives string ids (TSV has no types); an empty id cell, like a missing id
 * column, gives the line number.
 */
static int parse_tsv(nd_reader *r, const item *it, char *line, size_t len,
                     nd_record *rec)
{
    if (!r->tsv_header_done)
        return tsv_header(r, it, line, len);
    if (len == 0)
        return 0;
    long n = tsv_split(r, line, len);
    if (n < 0)
        return (int)n;
    if ((size_t)n != r->tsv_ncols) {
        set_err(r, "%s:%llu: %ld columns, the header has %zu", it->path,
                (unsigned long long)r->lineno, n, r->tsv_ncols);
        return ND_ERR_DATA;
    }
    const cell *t = &r->cells[r->tsv_text];
    if (gb_reserve(&r->text, t->len + 1) < 0)
        return ND_ERR_NOMEM;
    rec->header = r->header.p;
    rec->header_len = r->header.len;
    rec->text = r->text.p;
    rec->text_len = tsv_unescape(r->text.p, line + t->off, t->len);
    int rc;
    if (r->tsv_id >= 0 && r->cells[r->tsv_id].len > 0) {
        const cell *c = &r->cells[r->tsv_id];
        if (gb_reserve(&r->tmp, c->len + 1) < 0)
            return ND_ERR_NOMEM;
        size_t k = tsv_unescape(r->tmp.p, line + c->off, c->len);
        rc = quote_id(r, r->tmp.p, k);
    } else {
        rc = line_id(r, it);
    }
    if (rc < 0)
        return rc;
    if (r->tsv_time >= 0) {
        const cell *c = &r->cells[r->tsv_time];
        rec->meta.has_time =
            nd__parse_time(line + c->off, c->len, &rec->meta.time);
    }
    if (r->tsv_source >= 0) {
        const cell *c = &r->cells[r->tsv_source];
        if (gb_reserve(&r->source, c->len + 1) < 0)
            return ND_ERR_NOMEM;
        rec->source = r->source.p;
        rec->source_len = tsv_unescape(r->source.p, line + c->off, c->len);
    }
    return 1;
}

/* ------------------------------------------------------------------ CSV */

/*
 * CSV (RFC 4180) through libcsv, strict: a quote inside an unquoted field,
 * or anything but a delimiter or the line end after a closing quote, is a
 * malformed record.  A quoted field may hold newlines, so a record can take
 * several lines: lines are fed to the parser one at a time (without the '\n',
 * which is fed after, as "\r\n" when the line ended in CRLF inside a quoted
 * field, so such a field keeps its line break as written) until a record
 * is complete.  The record is named by its first line; its raw text is its
 * lines as read.  The first record names the columns, as in TSV.
 */

static void csv_on_field(void *s, size_t len, void *data)
{
    nd_reader *r = data;
    if (r->csv_nomem)
        return;
    if (r->csv_ncells == r->cells_cap) {
        size_t cap = r->cells_cap ? 2 * r->cells_cap : 16;
        cell *p = realloc(r->cells, cap * sizeof *p);
        if (!p) {
            r->csv_nomem = 1;
            return;
        }
        r->cells = p;
        r->cells_cap = cap;
    }
    gbuf *f = &r->csv_fields;
    if (gb_reserve(f, f->len + len + 1) < 0) {
        r->csv_nomem = 1;
        return;
    }
    if (len)
        memcpy(f->p + f->len, s, len);
    f->p[f->len + len] = '\0';
    r->cells[r->csv_ncells++] = (cell){f->len, len};
    f->len += len + 1;
}

static void csv_on_record(int c, void *data)
{
    (void)c;
    ((nd_reader *)data)->csv_done = 1;
}

/* A bad CSV record: the message, and a fresh parser for the next line. */
static int csv_bad(nd_reader *r, const item *it, uint64_t line,
                   const char *what)
{
    set_err(r, "%s:%llu: %s", it->path, (unsigned long long)line, what);
    if (csv_restart(r) < 0)
        return ND_ERR_NOMEM;
    return ND_ERR_DATA;
}

/*
 * Read lines until one CSV record is complete: 1 (its fields in r->cells
 * over r->csv_fields, its raw lines in r->csv_raw, *first its first line),
 * 0 at the end of the stream, or an error.
 */
static int csv_record(nd_reader *r, const item *it, uint64_t *first)
{
    r->csv_fields.len = r->csv_raw.len = r->csv_ncells = 0;
    r->csv_done = r->csv_nomem = 0;
    *first = 0;
    for (;;) {
        char *line;
        size_t len, raw_len;
        int rc = next_line(r, &line, &len, &raw_len);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (*first == 0)
                return 0;
            /* The stream ended inside a record: only an open quote can. */
            int bad = csv_fini(&r->csv, csv_on_field, csv_on_record, r) != 0;
            if (r->csv_nomem)
                return ND_ERR_NOMEM;
            if (bad || !r->csv_done)
                return csv_bad(r, it, *first,
                               "malformed CSV: a quoted field is not closed");
            if (csv_restart(r) < 0)
                return ND_ERR_NOMEM;
            return 1;
        }
        r->lineno++;
        if (*first == 0)
            *first = r->lineno;
        if (rc == LINE_TOO_LONG ||
            r->csv_raw.len + 1 + raw_len > r->max_record) {
            char what[64];
            snprintf(what, sizeof what, "a record longer than %llu bytes",
                     (unsigned long long)r->max_record);
            return csv_bad(r, it, *first, what);
        }
        if (r->lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
            line += 3;
            len -= 3;
            raw_len -= 3;
        }
        gbuf *raw = &r->csv_raw;
        if (gb_reserve(raw, raw->len + 1 + raw_len + 1) < 0)
            return ND_ERR_NOMEM;
        if (raw->len)
            raw->p[raw->len++] = '\n';
        memcpy(raw->p + raw->len, line, raw_len);
        raw->len += raw_len;
        raw->p[raw->len] = '\0';

        size_t done = csv_parse(&r->csv, line, len, csv_on_field,
                                csv_on_record, r);
        if (done == len) {
            /* pstate 2 is libcsv's FIELD_BEGUN: inside the quotes */
            int open = r->csv.quoted && r->csv.pstate == 2;
            const char *end = open && raw_len > len ? "\r\n" : "\n";
            size_t k = strlen(end);
            if (csv_parse(&r->csv, end, k, csv_on_field, csv_on_record, r) != k)
                done = 0;
        }
        if (r->csv_nomem || csv_error(&r->csv) == CSV_ENOMEM ||
            csv_error(&r->csv) == CSV_ETOOBIG)
            return ND_ERR_NOMEM;
        if (done != len)
            return csv_bad(r, it, *first,
                           "malformed CSV: a quote in an unquoted field, or "
                           "text after a closing quote");
        if (r->csv_done)
            return 1;
        if (r->csv.pstate == 0) {
            /* an empty line, outside any record */
            *first = 0;
            raw->len = 0;
        }
    }
}

/* The first record of a CSV file: the names of its columns. */
static int csv_header(nd_reader *r, const item *it, uint64_t line)
{
    const char *f = r->csv_fields.p;
    r->tsv_ncols = r->csv_ncells;
    r->tsv_text = r->tsv_id = r->tsv_time = r->tsv_source = -1;
    for (long i = (long)r->csv_ncells - 1; i >= 0; i--) {
        const char *name = f + r->cells[i].off;
        if (strcmp(name, r->text_field) == 0)
            r->tsv_text = i;
        if (strcmp(name, r->id_field) == 0)
            r->tsv_id = i;
        if (r->time_field && strcmp(name, r->time_field) == 0)
            r->tsv_time = i;
        if (r->source_field && strcmp(name, r->source_field) == 0)
            r->tsv_source = i;
    }
    if (r->tsv_text < 0) {
        set_err(r, "%s:%llu: no \"%s\" column", it->path,
                (unsigned long long)line, r->text_field);
        return ND_ERR_DATA;
    }
    if (gb_reserve(&r->header, r->csv_raw.len + 1) < 0)
        return ND_ERR_NOMEM;
    memcpy(r->header.p, r->csv_raw.p, r->csv_raw.len + 1);
    r->header.len = r->csv_raw.len;
    r->tsv_header_done = 1;
    return ND_OK;
}

/* The next CSV record: 1, 0 at the end of the stream, or an error. */
static int next_csv(nd_reader *r, const item *it, nd_record *rec)
{
    uint64_t line;
    int rc;
    while ((rc = csv_record(r, it, &line)) == 1 && !r->tsv_header_done)
        if ((rc = csv_header(r, it, line)) < 0)
            return rc;
    if (rc != 1)
        return rc;
    rec->raw = r->csv_raw.p;
    rec->raw_len = r->csv_raw.len;
    rec->line = line;
    if (r->csv_ncells != r->tsv_ncols) {
        set_err(r, "%s:%llu: %zu columns, the header has %zu", it->path,
                (unsigned long long)line, r->csv_ncells, r->tsv_ncols);
        return ND_ERR_DATA;
    }
    const char *f = r->csv_fields.p;
    const cell *t = &r->cells[r->tsv_text];
    rec->header = r->header.p;
    rec->header_len = r->header.len;
    rec->text = f + t->off;
    rec->text_len = t->len;
    if (r->tsv_id >= 0 && r->cells[r->tsv_id].len > 0)
        rc = quote_id(r, f + r->cells[r->tsv_id].off, r->cells[r->tsv_id].len);
    else
        rc = line_id_at(r, it, line);
    if (rc < 0)
        return rc;
    if (r->tsv_time >= 0) {
        const cell *c = &r->cells[r->tsv_time];
        rec->meta.has_time = nd__parse_time(f + c->off, c->len, &rec->meta.time);
    }
    if (r->tsv_source >= 0) {
        rec->source = f + r->cells[r->tsv_source].off;
        rec->source_len = r->cells[r->tsv_source].len;
    }
    return 1;
}

/* One document per line; an empty line is a record with an empty text. */
static int parse_text(nd_reader *r, const item *it, char *line, size_t len,
                      nd_record *rec)
{
    rec->text = line;
    rec->text_len = len;
    return line_id(r, it) < 0 ? ND_ERR_NOMEM : 1;
}

/* A directory entry: the whole (decompressed) file is one document. */
static int read_doc(nd_reader *r, const item *it, nd_record *rec)
{
    int rc = start_stream(r, it);
    if (rc < 0)
        return rc;
    r->text.len = 0;
    int checked = 0;
    for (;;) {
        if (gb_reserve(&r->text, r->text.len + BLOCK + 1) < 0) {
            end_stream(r);
            return ND_ERR_NOMEM;
        }
        const char *why = NULL;
        ssize_t got = nd__instream_read(r->in, r->text.p + r->text.len,
                                        BLOCK, &why);
        if (got < 0) {
            end_stream(r);
            return got == ND_ERR_NOMEM ? ND_ERR_NOMEM
                                       : fail_io(r, it->path, why);
        }
        r->text.len += (size_t)got;
        if (r->text.len > r->max_record) {
            end_stream(r);
            set_err(r, "%s: a document longer than %llu bytes", it->path,
                    (unsigned long long)r->max_record);
            return ND_ERR_DATA;
        }
        if (!checked && (got == 0 || r->text.len >= BINARY_PROBE)) {
            size_t probe = r->text.len < BINARY_PROBE ? r->text.len
                                                      : BINARY_PROBE;
            checked = 1;
            if (memchr(r->text.p, '\0', probe)) {
                end_stream(r);
                set_err(r, "%s: binary file skipped", it->path);
                return ND_ERR_BINARY;
            }
        }
        if (got == 0)
            break;
    }
    end_stream(r);
    r->text.p[r->text.len] = '\0';
    rc = quote_id(r, it->rel, strlen(it->rel));
    if (rc < 0)
        return rc;
    rec->text = rec->raw = r->text.p;
    rec->text_len = rec->raw_len = r->text.len;
    rec->line = 1;
    return 1;
}

/* ----------------------------------------------------------------- next */

/*
 * The next record; with parse 0, a JSONL line that is not blank is counted
 * as a record and left unparsed (2, rec holds its file and line only), as
 * the boilerplate count's sample skims the records it does not count.
 */
static int next_record(nd_reader *r, nd_record *rec, int parse)
{
    if (!r || !rec)
        return ND_ERR_PARAM;
    if (r->failed)
        return ND_ERR_IO;
    json_decref(r->json);
    r->json = NULL;
    memset(rec, 0, sizeof *rec);
    for (;;) {
        if (r->cur >= r->nitems)
            return 0;
        const item *it = &r->items[r->cur];
        int rc;
        if (it->fmt == FMT_DOC) {
            rc = read_doc(r, it, rec);
        } else if (it->fmt == ND_FORMAT_CSV) {
            if (!r->active && (rc = start_stream(r, it)) < 0)
                return rc;
            rc = next_csv(r, it, rec);
            if (rc == 0) {
                end_stream(r);
                continue;
            }
            if (rc == ND_ERR_DATA && !r->tsv_header_done)
                end_stream(r); /* no header: nothing to read */
        } else {
            if (!r->active && (rc = start_stream(r, it)) < 0)
                return rc;
            char *line;
            size_t len, raw_len;
            rc = next_line(r, &line, &len, &raw_len);
            if (rc == 0) {
                end_stream(r);
                continue;
            }
            if (rc < 0)
                return rc;
            r->lineno++;
            if (rc == LINE_TOO_LONG) {
                set_err(r, "%s:%llu: a record longer than %llu bytes", it->path,
                        (unsigned long long)r->lineno,
                        (unsigned long long)r->max_record);
                /* A header is the file's layout: nothing to read without. */
                if (it->fmt == ND_FORMAT_TSV && !r->tsv_header_done)
                    end_stream(r);
                memset(rec, 0, sizeof *rec);
                return ND_ERR_DATA;
            }
            /* A UTF-8 byte-order mark starting a stream is no part of its
               first record (nor of a TSV header's first column name). */
            if (r->lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
                line += 3;
                len -= 3;
                raw_len -= 3;
            }
            /* raw keeps a CR of CRLF: dedup writes the line as it was. */
            rec->raw = line;
            rec->raw_len = r->raw_len = raw_len;
            rec->line = r->lineno;
            if (it->fmt == ND_FORMAT_TSV) {
                rc = parse_tsv(r, it, line, len, rec);
                if (rc == ND_ERR_DATA && !r->tsv_header_done)
                    end_stream(r); /* no text column: nothing to read */
            } else if (it->fmt == ND_FORMAT_TEXT) {
                rc = parse_text(r, it, line, len, rec);
            } else if (!parse) {
                if (blank(line, len))
                    continue;
                rec->file = it->path;
                return 2;
            } else {
                rc = parse_jsonl(r, it, line, len, rec);
            }
            if (rc == 0)
                continue;
        }
        if (rc == 1) {
            rec->id = r->id.p;
            rec->id_len = r->id.len;
            rec->file = it->path;
        } else {
            memset(rec, 0, sizeof *rec);
        }
        return rc;
    }
}

ND_API int nd_reader_next(nd_reader *r, nd_record *rec)
{
    int rc = next_record(r, rec, 1);
    if (rc == ND_ERR_NOMEM)
        set_err(r, "out of memory");
    return rc;
}

int nd__reader_next_skim(nd_reader *r, int parse, nd_record *rec)
{
    int rc = next_record(r, rec, parse);
    if (rc == ND_ERR_NOMEM)
        set_err(r, "out of memory");
    return rc;
}

int nd__reader_cuttable(const char *path, const nd_reader_opts *opts, uint64_t *size)
{
    *size = 0;
    struct stat st;
    if (strcmp(path, "-") == 0 || stat(path, &st) != 0)
        return 0;
    if (S_ISREG(st.st_mode))
        *size = (uint64_t)st.st_size;
    nd_format f = opts && opts->format != ND_FORMAT_AUTO ? opts->format : format_of(path);
    if (!S_ISREG(st.st_mode) || (f != ND_FORMAT_JSONL && f != ND_FORMAT_TEXT))
        return 0;
    /* Compressed content is told by its magic number, as the stream does. */
    unsigned char m[4] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, m, sizeof m);
    close(fd);
    if (got >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        return 0;
    if (got >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        return 0;
    return 1;
}

int nd__reader_open_pieces(const nd__piece *pieces, size_t n,
                           const nd_reader_opts *opts, nd_reader **out)
{
    const char **paths = calloc(n ? n : 1, sizeof *paths);
    if (!paths)
        return ND_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        paths[i] = pieces[i].path;
    /* n 0 would read stdin: an empty list of items instead. */
    int rc = nd_reader_open(paths, n, opts, out);
    free(paths);
    if (n == 0 && *out) {
        free((*out)->items[0].path);
        free((*out)->items[0].rel);
        (*out)->nitems = 0;
    }
    if (rc != ND_OK)
        return rc;
    /* One item a path but for directories; a range is of a plain file. */
    size_t k = 0;
    for (size_t i = 0; i < n && k < (*out)->nitems; i++) {
        item *it = &(*out)->items[k];
        if (it->fmt != FMT_DOC && strcmp(it->path, pieces[i].path) == 0) {
            if (pieces[i].to) {
                it->from = pieces[i].from;
                it->to = pieces[i].to;
                it->line0 = pieces[i].line0;
            }
            k++;
        } else {
            while (k < (*out)->nitems && (*out)->items[k].fmt == FMT_DOC)
                k++;
        }
    }
    return ND_OK;
}

ND_API const char *nd_reader_errmsg(const nd_reader *r)
{
    return r ? r->err : "no reader";
}

ND_API void nd_reader_close(nd_reader *r)
{
    if (!r)
        return;
    nd__instream_close(r->in);
    json_decref(r->json);
    for (size_t i = 0; i < r->nitems; i++) {
        free(r->items[i].path);
        free(r->items[i].rel);
    }
    free(r->items);
    free(r->buf);
    free(r->cells);
    free(r->id.p);
    free(r->text.p);
    free(r->tmp.p);
    free(r->source.p);
    free(r->fixed.p);
    free(r->header.p);
    free(r->csv_fields.p);
    free(r->csv_raw.p);
    if (r->csv_live)
        csv_free(&r->csv);
    free(r->id_field);
    free(r->text_field);
    free(r->time_field);
    free(r->source_field);
    free(r);
}
