/*
 * instream.c - plain, gzip and zstd byte sources behind one read call.
 *
 * The first up to 4 bytes are read into the compressed-input buffer and
 * compared with the gzip (1f 8b) and zstd (28 b5 2f fd) magic numbers; for
 * plain input those bytes are simply handed out first.  Decompression is
 * streaming (zlib inflate, ZSTD_decompressStream) over a 1 MiB input buffer,
 * so memory does not depend on the file size.
 *
 * End of input is only a clean end when the decoder has finished its last
 * member or frame: inflate must have returned Z_STREAM_END and
 * ZSTD_decompressStream must have returned 0.  Anything else is a truncated
 * stream, reported as an I/O error rather than silently shortened data.
 */
#include "instream.h"

#include "../neardup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

enum { KIND_PLAIN, KIND_GZIP, KIND_ZSTD };

#define IN_CAP ((size_t)1 << 20)

struct nd__instream {
    int fd, own_fd;
    int kind;
    unsigned char *in;      /* raw (compressed) bytes not yet consumed */
    size_t in_pos, in_len;
    int in_eof;
    z_stream zs;
    int zs_live;            /* inflateInit2 done */
    int gz_member_end;      /* the last member ended; more input may follow */
    ZSTD_DCtx *zd;
    size_t zret;            /* last ZSTD_decompressStream result; 0 = frame end */
    int zstarted;
};

static ssize_t read_fd(int fd, void *dst, size_t cap, const char **why)
{
    for (;;) {
        ssize_t n = read(fd, dst, cap);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        *why = strerror(errno);
        return ND_ERR_IO;
    }
}

/* Refill the raw buffer once it is empty; sets in_eof at the end. */
static int refill(nd__instream *s, const char **why)
{
    if (s->in_pos < s->in_len || s->in_eof)
        return ND_OK;
    ssize_t n = read_fd(s->fd, s->in, IN_CAP, why);
    if (n < 0)
        return (int)n;
    s->in_pos = 0;
    s->in_len = (size_t)n;
    if (n == 0)
        s->in_eof = 1;
    return ND_OK;
}

int nd__instream_open(int fd, int own_fd, nd__instream **out,
                      const char **why)
{
    *out = NULL;
    nd__instream *s = calloc(1, sizeof *s);
    if (!s || !(s->in = malloc(IN_CAP))) {
        free(s);
        *why = "out of memory";
        return ND_ERR_NOMEM;
    }
    s->fd = fd;
    s->own_fd = own_fd;
    memset(s->in, 0, 4);
    while (s->in_len < 4) {
        ssize_t n = read_fd(fd, s->in + s->in_len, IN_CAP - s->in_len, why);
        if (n < 0) {
            nd__instream_close(s);
            return (int)n;
        }
        if (n == 0) {
            s->in_eof = 1;
            break;
        }
        s->in_len += (size_t)n;
    }
    const unsigned char *m = s->in;
    if (s->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        s->kind = KIND_GZIP;
        /* 15 + 16: a gzip wrapper only, with the largest window. */
        if (inflateInit2(&s->zs, 15 + 16) != Z_OK) {
            nd__instream_close(s);
            *why = "out of memory";
            return ND_ERR_NOMEM;
        }
        s->zs_live = 1;
    } else if (s->in_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 &&
               m[2] == 0x2f && m[3] == 0xfd) {
        s->kind = KIND_ZSTD;
        if (!(s->zd = ZSTD_createDCtx())) {
            nd__instream_close(s);
            *why = "out of memory";
            return ND_ERR_NOMEM;
        }
    }
    *out = s;
    return ND_OK;
}

static ssize_t read_plain(nd__instream *s, void *dst, size_t cap,
                          const char **why)
{
    if (s->in_pos < s->in_len) {
        size_t n = s->in_len - s->in_pos;
        if (n > cap)
            n = cap;
        memcpy(dst, s->in + s->in_pos, n);
        s->in_pos += n;
        return (ssize_t)n;
    }
    if (s->in_eof)
        return 0;
    return read_fd(s->fd, dst, cap, why);
}

/*
 * Zero bytes after the last gzip member (tape blocks, padded images) end
 * the data, as gzip -d accepts them; anything else after them is garbage.
 */
static ssize_t zero_padding(nd__instream *s, const char **why)
{
    for (;;) {
        for (; s->in_pos < s->in_len; s->in_pos++) {
            if (s->in[s->in_pos] != 0) {
                *why = "trailing garbage after gzip stream";
                return ND_ERR_IO;
            }
        }
        int rc = refill(s, why);
        if (rc < 0)
            return rc;
        if (s->in_pos == s->in_len)
            return 0;
    }
}

static ssize_t read_gzip(nd__instream *s, void *dst, size_t cap,
                         const char **why)
{
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    for (;;) {
        int rc = refill(s, why);
        if (rc < 0)
            return rc;
        if (s->gz_member_end) {
            if (s->in_pos == s->in_len)
                return 0;
            if (s->in[s->in_pos] == 0)
                return zero_padding(s, why);
            /* Another member follows, as in `cat a.gz b.gz`. */
            if (s->in[s->in_pos] != 0x1f) {
                *why = "trailing garbage after gzip stream";
                return ND_ERR_IO;
            }
            if (inflateReset(&s->zs) != Z_OK) {
                *why = "gzip stream error";
                return ND_ERR_IO;
            }
            s->gz_member_end = 0;
        }
        s->zs.next_in = s->in + s->in_pos;
        s->zs.avail_in = (uInt)(s->in_len - s->in_pos);
        s->zs.next_out = dst;
        s->zs.avail_out = (uInt)cap;
        size_t before = s->in_pos;
        int zr = inflate(&s->zs, Z_NO_FLUSH);
        s->in_pos = s->in_len - s->zs.avail_in;
        size_t got = cap - s->zs.avail_out;
        if (got == 0 && s->in_pos == before && s->in_pos < s->in_len &&
            zr != Z_STREAM_END) {
            *why = "corrupt gzip stream";
            return ND_ERR_IO;
        }
        if (zr == Z_STREAM_END) {
            s->gz_member_end = 1;
        } else if (zr == Z_MEM_ERROR) {
            *why = "out of memory";
            return ND_ERR_NOMEM;
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            *why = s->zs.msg ? s->zs.msg : "corrupt gzip stream";
            return ND_ERR_IO;
        }
        if (got > 0)
            return (ssize_t)got;
        if (!s->gz_member_end && s->in_pos == s->in_len && s->in_eof) {
            *why = "truncated gzip stream";
            return ND_ERR_IO;
        }
    }
}

static ssize_t read_zstd(nd__instream *s, void *dst, size_t cap,
                         const char **why)
{
    for (;;) {
        int rc = refill(s, why);
        if (rc < 0)
            return rc;
        if (s->in_pos == s->in_len && s->in_eof && s->zret == 0 &&
            s->zstarted) {
            /* Every frame ended; flush nothing more. */
            return 0;
        }
        ZSTD_inBuffer in = {s->in + s->in_pos, s->in_len - s->in_pos, 0};
        ZSTD_outBuffer out = {dst, cap, 0};
        size_t zr = ZSTD_decompressStream(s->zd, &out, &in);
        s->in_pos += in.pos;
        if (ZSTD_isError(zr)) {
            *why = ZSTD_getErrorName(zr);
            return ND_ERR_IO;
        }
        if (out.pos == 0 && in.pos == 0 && in.size > 0) {
            *why = "corrupt zstd stream";
            return ND_ERR_IO;
        }
        s->zret = zr;
        s->zstarted = 1;
        if (out.pos > 0)
            return (ssize_t)out.pos;
        if (s->in_pos == s->in_len && s->in_eof) {
            if (zr == 0)
                return 0;
            *why = "truncated zstd stream";
            return ND_ERR_IO;
        }
    }
}

ssize_t nd__instream_read(nd__instream *s, void *dst, size_t cap,
                          const char **why)
{
    switch (s->kind) {
    case KIND_GZIP:
        return read_gzip(s, dst, cap, why);
    case KIND_ZSTD:
        return read_zstd(s, dst, cap, why);
    default:
        return read_plain(s, dst, cap, why);
    }
}

void nd__instream_close(nd__instream *s)
{
    if (!s)
        return;
    if (s->zs_live)
        inflateEnd(&s->zs);
    ZSTD_freeDCtx(s->zd);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    free(s->in);
    free(s);
}
