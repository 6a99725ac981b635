/*
 * fuzz_compress.c - libFuzzer target: gzip and zstd input.
 *
 * The first input byte picks the format and the compression settings; the
 * rest is a file.  The harness compresses it with zlib (gzip framing) and
 * libzstd, each once as one member or frame and once cut in two at a point
 * the input picks (two gzip members, two zstd frames, as `cat a.gz b.gz`
 * makes), and reads all five through nd_reader under one path.  Property:
 * the five transcripts (every record, every field, every error message)
 * are identical.  Then the compressed streams cut short: the reader must
 * end with ND_ERR_IO (a truncated stream is never a clean, shorter one),
 * having handed out only records of the full transcript, in order (unless
 * it read nothing after a refused TSV header).
 * A plain input that begins with a compression magic number is not a plain
 * file and is skipped.
 */
#include "harness.h"

#include <zlib.h>
#include <zstd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const nd_format formats[] = {ND_FORMAT_JSONL, ND_FORMAT_TSV,
                                    ND_FORMAT_TEXT, ND_FORMAT_JSONL};

static void gzip_member(fuzz_buf *out, const void *s, size_t n, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    size_t cap = deflateBound(&z, (uLong)n) + 32;
    char *buf = malloc(cap);
    z.next_in = (Bytef *)s;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)buf;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        abort();
    fb_put(out, buf, cap - z.avail_out);
    deflateEnd(&z);
    free(buf);
}

static void zstd_frame(fuzz_buf *out, const void *s, size_t n, int level)
{
    size_t cap = ZSTD_compressBound(n);
    char *buf = malloc(cap ? cap : 1);
    size_t got = ZSTD_compress(buf, cap, s, n, level);
    if (ZSTD_isError(got))
        abort();
    fb_put(out, buf, got);
    free(buf);
}

/* The transcript of reading data[0..n) served as a file; *io set when the
   reader ended on ND_ERR_IO. */
static fuzz_buf transcript(const void *d, size_t n, const nd_reader_opts *o,
                           int *io)
{
    fuzz_buf b = {0};
    fb_put(&b, "", 0);
    *io = 0;
    if (fuzz_serve(d, n) != 0)
        abort();
    const char *p = FUZZ_PATH;
    nd_reader *r = NULL;
    int rc = nd_reader_open(&p, 1, o, &r);
    if (rc != ND_OK) {
        *io = 1;
    } else {
        nd_record rec;
        while ((rc = nd_reader_next(r, &rec)) != 0) {
            if (rc == ND_ERR_IO) {
                *io = 1;
                break;
            }
            fuzz_transcribe(&b, r, rc, &rec);
        }
    }
    nd_reader_close(r);
    return b;
}

static void differ(const char *what, const fuzz_buf *a, const fuzz_buf *b)
{
    size_t i = 0;
    while (i < a->len && i < b->len && a->p[i] == b->p[i])
        i++;
    fprintf(stderr, "%s: transcripts of %zu and %zu bytes differ at %zu:\n",
            what, a->len, b->len, i);
    size_t from = i > 40 ? i - 40 : 0;
    fprintf(stderr, "plain: '%.*s'\nother: '%.*s'\n",
            (int)((a->len > from ? a->len - from : 0) < 120 ? a->len - from : 120),
            a->p + from,
            (int)((b->len > from ? b->len - from : 0) < 120 ? b->len - from : 120),
            b->p + from);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256 * 1024)
        return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    if ((n >= 2 && in[0] == '\x1f' && in[1] == '\x8b') ||
        (n >= 4 && memcmp(in, "\x28\xb5\x2f\xfd", 4) == 0))
        return 0;
    nd_reader_opts o = {.format = formats[data[0] % 4],
                        .time_field = (data[0] & 4) ? "time" : NULL};
    int gz_level = (data[0] >> 3) % 10;
    int zs_level = 1 + (data[0] >> 3) % 9; /* above 9 only costs time */
    size_t cut = n ? (size_t)data[0] * 7919 % (n + 1) : 0;

    int io;
    fuzz_buf plain = transcript(in, n, &o, &io);
    if (io)
        differ("plain input read with an I/O error", &plain, &plain);

    /* A TSV file whose header names no text column is left unread after
       it, so its end, cut short or not, is never seen. */
    int64_t first = 0;
    if (plain.len >= sizeof first)
        memcpy(&first, plain.p, sizeof first);
    int header_refused = o.format == ND_FORMAT_TSV && first == ND_ERR_DATA;

    fuzz_buf streams[4] = {{0}, {0}, {0}, {0}};
    gzip_member(&streams[0], in, n, gz_level);
    gzip_member(&streams[1], in, cut, gz_level);
    gzip_member(&streams[1], in + cut, n - cut, gz_level);
    zstd_frame(&streams[2], in, n, zs_level);
    zstd_frame(&streams[3], in, cut, zs_level);
    zstd_frame(&streams[3], in + cut, n - cut, zs_level);
    static const char *const names[4] = {"gzip", "gzip, two members", "zstd",
                                         "zstd, two frames"};
    for (int i = 0; i < 4; i++) {
        fuzz_buf t = transcript(streams[i].p, streams[i].len, &o, &io);
        if (io || t.len != plain.len || memcmp(t.p, plain.p, t.len) != 0)
            differ(names[i], &plain, &t);
        free(t.p);
        /* cut short: an I/O error, after a prefix of the records */
        size_t keep = streams[i].len - 1 -
                      (size_t)data[0] % (streams[i].len > 8 ? 8 : 1);
        if (keep < 4) /* less than the magic number is a plain file */
            keep = 4;
        if ((i == 0 || i == 2) && !header_refused) {
            t = transcript(streams[i].p, keep, &o, &io);
            if (!io || t.len > plain.len || memcmp(t.p, plain.p, t.len) != 0)
                differ(i ? "truncated zstd" : "truncated gzip", &plain, &t);
            free(t.p);
        }
        free(streams[i].p);
    }
    free(plain.p);
    return 0;
}
