/*
 * harness.h - what the reader fuzz targets share: bytes served as a file
 * under a fixed path, and a transcript of everything a reader hands out.
 */
#ifndef ND_FUZZ_HARNESS_H
#define ND_FUZZ_HARNESS_H

#include "../../src/neardup.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The descriptor every input is served on, so paths (and with them error
   messages) are the same from one input to the next. */
#define FUZZ_FD 300
#define FUZZ_PATH "/proc/self/fd/300"

/* Put data[0..n) behind FUZZ_PATH; 0 on success. */
static inline int fuzz_serve(const void *data, size_t n)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t left = n;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    int rc = dup2(fd, FUZZ_FD) == FUZZ_FD ? 0 : -1;
    close(fd);
    return rc;
}

typedef struct fuzz_buf {
    char *p;
    size_t len, cap;
} fuzz_buf;

static inline void fb_put(fuzz_buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            abort();
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* A field as its length and bytes, so no two transcripts run together. */
static inline void fb_field(fuzz_buf *b, const char *s, size_t n)
{
    uint64_t len = s ? n : UINT64_MAX;
    fb_put(b, &len, sizeof len);
    if (s)
        fb_put(b, s, n);
}

static inline void fb_u64(fuzz_buf *b, uint64_t v)
{
    fb_put(b, &v, sizeof v);
}

/* Everything one call of nd_reader_next gave, appended to b. */
static inline void fuzz_transcribe(fuzz_buf *b, const nd_reader *r, int rc,
                            const nd_record *rec)
{
    fb_u64(b, (uint64_t)(int64_t)rc);
    if (rc != 1) {
        if (rc < 0) {
            const char *m = nd_reader_errmsg(r);
            fb_field(b, m, strlen(m));
        }
        return;
    }
    fb_field(b, rec->id, rec->id_len);
    fb_field(b, rec->text, rec->text_len);
    fb_field(b, rec->raw, rec->raw_len);
    fb_field(b, rec->file, rec->file ? strlen(rec->file) : 0);
    fb_u64(b, rec->line);
    fb_u64(b, (uint64_t)rec->meta.has_time);
    fb_u64(b, rec->meta.has_time ? (uint64_t)rec->meta.time : 0);
    fb_field(b, rec->source, rec->source_len);
    fb_u64(b, (uint64_t)rec->bad_utf8);
    fb_field(b, rec->header, rec->header_len);
}

#endif
