/*
 * instream.h - a byte source over a file descriptor that undoes gzip or zstd
 * compression when the first bytes carry their magic number (internal).
 *
 * The kind is decided by content, never by file name, so compressed stdin
 * works and a misnamed file is still read right.  Concatenated gzip members
 * and zstd frames are read one after the other, as gzip -d and zstd -d do;
 * zero bytes after the last gzip member are padding, as gzip -d takes them.
 */
#ifndef ND_INSTREAM_H
#define ND_INSTREAM_H

#include <stddef.h>
#include <sys/types.h>

typedef struct nd__instream nd__instream;

/*
 * Take fd (closed by nd__instream_close when own_fd) and detect its kind.
 * Returns ND_OK, ND_ERR_NOMEM, or ND_ERR_IO with *why a static or library
 * message (for read errors, strerror text).
 */
int nd__instream_open(int fd, int own_fd, nd__instream **out,
                      const char **why);

/*
 * Read up to cap (> 0) decompressed bytes into dst.  Returns the number of
 * bytes, 0 at the end, or a negative ND_ERR_* code with *why set ("truncated
 * gzip stream", "truncated zstd stream", a zlib/zstd message or strerror).
 */
ssize_t nd__instream_read(nd__instream *s, void *dst, size_t cap,
                          const char **why);

void nd__instream_close(nd__instream *s);

#endif
