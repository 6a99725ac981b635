/*
 * fuzz_reader.c - libFuzzer target: the JSONL, TSV and text readers through
 * the public nd_reader API.
 *
 * The first input byte picks the format (formats[] below) and whether a
 * time and a source field are read; the rest is the file, served through a
 * memfd (harness.h), so gzip and zstd detection runs too.  Properties,
 * besides no crash and no leak:
 *   - every id is valid JSON; a string id is escaped exactly as jansson's
 *     json_dumps escapes it; lengths agree with the strings;
 *   - a bad record (ND_ERR_DATA) does not stop the reader, and its message
 *     names the file and the line;
 *   - every input line is accounted for, once and in order: for an
 *     uncompressed input, the lines of the records and of the bad records
 *     are exactly the lines that hold a record (JSONL: not blank; TSV: not
 *     empty, after the header; text: all), and each record's raw bytes are
 *     its line as it stands in the input (with a final '\r', less a UTF-8
 *     byte-order mark on line 1); a text record's text is its line less
 *     that '\r';
 *   - CSV, whose quoted fields may hold line breaks: the records and bad
 *     records come in strictly increasing line order, none starting inside
 *     the lines of the record before; a record's raw bytes are its lines as
 *     they stand in the input, from the start of its first line to the end
 *     of a line.
 */
#include "harness.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The formats fuzzed; the first byte's low bits pick one.  A new format
   (CSV) gets its slot here and its rule of which lines are records in
   holds_record(). */
static const nd_format formats[] = {ND_FORMAT_JSONL, ND_FORMAT_TSV,
                                    ND_FORMAT_TEXT, ND_FORMAT_CSV};

typedef struct line {
    const char *p;
    size_t n;     /* less a final '\r' */
    size_t raw_n; /* with it */
} line;

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\f' && s[i] != '\v')
            return 0;
    return 1;
}

static int holds_record(nd_format f, size_t no, const line *l)
{
    switch (f) {
    case ND_FORMAT_TSV:
        return no > 1 && l->n > 0;
    case ND_FORMAT_TEXT:
        return 1;
    default:
        return !blank(l->p, l->n);
    }
}

/* The lines of s[0..n) as the reader cuts them; returns how many. */
static size_t cut_lines(const char *s, size_t n, line *out)
{
    size_t k = 0, i = 0;
    while (i < n) {
        const char *e = memchr(s + i, '\n', n - i);
        size_t len = e ? (size_t)(e - (s + i)) : n - i;
        line l = {s + i, len, len};
        if (k == 0 && l.n >= 3 && memcmp(l.p, "\xef\xbb\xbf", 3) == 0) {
            l.p += 3;
            l.n -= 3;
            l.raw_n -= 3;
        }
        if (l.n && l.p[l.n - 1] == '\r')
            l.n--;
        out[k++] = l;
        i += len + 1;
    }
    return k;
}

static void fail(const char *why, uint64_t lineno)
{
    fprintf(stderr, "%s (line %llu)\n", why, (unsigned long long)lineno);
    abort();
}

/* Whether s[0..n) is a JSON integer: -?(0|[1-9][0-9]*).  The reader keeps
   an integer id as written whatever its size; jansson refuses one beyond
   int64, so such an id is checked here by the grammar alone. */
static int json_integer_syntax(const char *s, size_t n)
{
    size_t i = n && s[0] == '-';
    if (i == n || (s[i] == '0' && n - i > 1))
        return 0;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static void check_id(const nd_record *rec)
{
    json_error_t err;
    if (strlen(rec->id) != rec->id_len || rec->line == 0)
        fail("id is not JSON", rec->line);
    if (json_integer_syntax(rec->id, rec->id_len))
        return;
    json_t *id = json_loadb(rec->id, rec->id_len,
                            JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!id)
        fail("id is not JSON", rec->line);
    if (json_is_string(id)) { /* the same escaping as jansson */
        char *d = json_dumps(id, JSON_ENCODE_ANY);
        if (!d || strcmp(d, rec->id) != 0)
            fail("id escaped otherwise than by jansson", rec->line);
        free(d);
    }
    json_decref(id);
}

/* A CSV record (uncompressed input): it starts at or after *next, its raw
   bytes are the input from the start of its first line up to a line end
   (end points one past the input); *next moves past its lines. */
static void check_csv(const nd_record *rec, const line *lines, size_t nlines,
                      const char *end, uint64_t *next)
{
    if (rec->line < *next || rec->line > nlines)
        fail("CSV records out of line order", rec->line);
    const char *p = lines[rec->line - 1].p;
    if (rec->raw_len > (size_t)(end - p) || memcmp(rec->raw, p, rec->raw_len) != 0)
        fail("raw is not the record's lines", rec->line);
    if (p + rec->raw_len != end && p[rec->raw_len] != '\n')
        fail("raw does not end at a line end", rec->line);
    uint64_t breaks = 0;
    for (size_t i = 0; i < rec->raw_len; i++)
        breaks += rec->raw[i] == '\n';
    *next = rec->line + breaks + 1;
}

/* The line a bad record's message names: "<path>:<line>: ...". */
static uint64_t message_line(const char *m)
{
    size_t n = strlen(FUZZ_PATH);
    if (strncmp(m, FUZZ_PATH ":", n + 1) != 0)
        fail("message does not name the file", 0);
    char *end;
    unsigned long long v = strtoull(m + n + 1, &end, 10);
    if (end == m + n + 1 || *end != ':' || v == 0)
        fail("message does not name the line", 0);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    nd_format fmt = formats[data[0] % 4];
    nd_reader_opts o = {.format = fmt,
                        .time_field = (data[0] & 4) ? "time" : NULL,
                        .source_field = (data[0] & 8) ? "source" : NULL};
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    if (fuzz_serve(in, n) != 0)
        return 0;
    int compressed = n >= 2 && ((in[0] == '\x1f' && in[1] == '\x8b') ||
                                (n >= 4 && memcmp(in, "\x28\xb5\x2f\xfd", 4) == 0));
    line *lines = malloc((n + 1) * sizeof *lines);
    size_t nlines = cut_lines(in, n, lines);
    uint64_t *seen = malloc((n + 1) * sizeof *seen);
    size_t nseen = 0;

    uint64_t csv_next = 1; /* CSV: the first line a next record may start on */
    const char *p = FUZZ_PATH;
    nd_reader *r = NULL;
    int rc = nd_reader_open(&p, 1, &o, &r);
    int io = rc != ND_OK;
    if (rc == ND_OK) {
        nd_record rec;
        while ((rc = nd_reader_next(r, &rec)) != 0) {
            if (rc == ND_ERR_IO) {
                io = 1;
                break;
            }
            if (rc == ND_ERR_DATA) {
                uint64_t at = message_line(nd_reader_errmsg(r));
                seen[nseen++] = at;
                if (fmt == ND_FORMAT_CSV && !compressed) {
                    if (at < csv_next)
                        fail("CSV records out of line order", at);
                    csv_next = at + 1;
                }
                continue;
            }
            if (rc != 1)
                fail("unexpected return", 0);
            check_id(&rec);
            if (!rec.file || strcmp(rec.file, FUZZ_PATH) != 0)
                fail("record names another file", rec.line);
            seen[nseen++] = rec.line;
            if (compressed)
                continue;
            if (fmt == ND_FORMAT_CSV) {
                check_csv(&rec, lines, nlines, in + n, &csv_next);
                continue;
            }
            if (rec.line > nlines)
                fail("record past the last line", rec.line);
            const line *l = &lines[rec.line - 1];
            if (rec.raw_len != l->raw_n || memcmp(rec.raw, l->p, l->raw_n) != 0)
                fail("raw is not the line", rec.line);
            if (fmt == ND_FORMAT_TEXT &&
                (rec.text_len != l->n || memcmp(rec.text, l->p, l->n) != 0))
                fail("text is not the line", rec.line);
        }
    }
    nd_reader_close(r);
    if (!compressed && fmt != ND_FORMAT_CSV) {
        if (io)
            fail("I/O error on a plain input", 0);
        size_t k = 0;
        for (size_t i = 0; i < nlines; i++) {
            /* a TSV file whose header is refused has nothing after it */
            if (fmt == ND_FORMAT_TSV && i == 1 && nseen && seen[0] == 1)
                break;
            int want = holds_record(fmt, i + 1, &lines[i]) ||
                       (fmt == ND_FORMAT_TSV && i == 0 && nseen &&
                        seen[0] == 1);
            if (!want)
                continue;
            if (k >= nseen || seen[k] != i + 1)
                fail("line not accounted for", i + 1);
            k++;
        }
        if (k != nseen)
            fail("more records than lines", k < nseen ? seen[k] : 0);
    }
    free(seen);
    free(lines);
    return 0;
}
