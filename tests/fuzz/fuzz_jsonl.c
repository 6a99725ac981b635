/*
 * fuzz_jsonl.c - libFuzzer target for the reader (not built by default).
 *
 * The first input byte picks the format (JSONL, TSV, TEXT) and whether a
 * time field is read; the rest is the file, served through a memfd so gzip
 * and zstd detection runs too.  Besides "no crash, no leak" it checks that
 * every id is valid JSON, that string ids are escaped exactly as jansson's
 * json_dumps escapes them, and that lengths agree with the strings.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -DND_BUILDING_LIBRARY -Isrc tests/fuzz/fuzz_jsonl.c src/io/[a-z]*.c \
 *     -ljansson -lz -lzstd -o build/fuzz_jsonl
 *   build/fuzz_jsonl -max_len=65536 corpus/
 */
#include "../../src/neardup.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    nd_reader_opts o = {(nd_format)(1 + data[0] % 3), NULL, NULL,
                        (data[0] & 4) ? "time" : NULL, NULL};
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    const char *p = path;
    nd_reader *r = NULL;
    if (nd_reader_open(&p, 1, &o, &r) == ND_OK) {
        nd_record rec;
        int rc;
        while ((rc = nd_reader_next(r, &rec)) != 0 && rc != ND_ERR_IO) {
            if (rc != 1)
                continue;
            json_error_t err;
            json_t *id = json_loadb(rec.id, rec.id_len,
                                    JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
            if (!id || strlen(rec.id) != rec.id_len || rec.line == 0)
                abort();
            if (json_is_string(id)) { /* the same escaping as jansson */
                char *d = json_dumps(id, JSON_ENCODE_ANY);
                if (!d || strcmp(d, rec.id) != 0)
                    abort();
                free(d);
            }
            json_decref(id);
        }
    }
    nd_reader_close(r);
    close(fd);
    return 0;
}
