/*
 * fuzz_index.c - libFuzzer target: the index snapshot and log loader
 * (nd_index_open on src/index/ixstore.c's files).
 *
 * The first input byte picks read-only or writable (bit 0) and whether
 * the checksums are made right (bit 1); the rest is cut at the first
 * "NDIXWLOG" (the log's magic): before it index.nds, from it on index.wal
 * (no log when it is absent; no snapshot when the rest starts with it).
 * With bit 1 the harness writes the XXH3 sums of the snapshot's header and
 * body and of the log's header and of each whole record, as ixstore.c lays
 * them out, so mutations reach the decoding behind the sums instead of
 * stopping at them.  Both files are written into a fresh directory under
 * /dev/shm and opened.  The open must fail with one of its documented codes and a
 * message, or give a consistent index:
 *   - its parameters pass nd_params_check and its stats are coherent;
 *   - every match of a query is a document nd_index_get finds, with the
 *     time the match reports, and scores in [0, 1];
 *   - saved to another directory and opened again, it holds the same
 *     documents (count, times) and answers the same queries the same way;
 *   - writable: a new document added and synced is there after a reopen.
 * LeakSanitizer checks that nothing an open makes outlives the close.
 */
#include "../../src/neardup.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir_a[64], dir_b[64];

static void empty_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (mkdir(dir, 0700) != 0)
            abort();
        return;
    }
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

static void put_file(const char *dir, const char *name, const void *p,
                     size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
        abort();
}

static void put64le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The sums of ixstore.c's layout: snapshot header 192 bytes, the body's
   XXH3 at 144, the header's (of its first 184 bytes) at 184; log header
   64 bytes, its XXH3 (of 56) at 56, then records [u32 length][u32 type]
   [payload][u64 XXH3 of the 8 + length bytes before it]. */
static void fix_snapshot(unsigned char *p, size_t n)
{
    if (n < 192)
        return;
    put64le(p + 144, XXH3_64bits(p + 192, n - 192));
    put64le(p + 184, XXH3_64bits(p, 184));
}

static void fix_log(unsigned char *p, size_t n)
{
    if (n < 64)
        return;
    put64le(p + 56, XXH3_64bits(p, 56));
    size_t pos = 64;
    while (n - pos >= 16) {
        size_t len = (size_t)p[pos] | (size_t)p[pos + 1] << 8 |
                     (size_t)p[pos + 2] << 16 | (size_t)p[pos + 3] << 24;
        if (len > n - pos - 16)
            break;
        put64le(p + pos + 8 + len, XXH3_64bits(p + pos, 8 + len));
        pos += 16 + len;
    }
}

static void fail(const char *why, const nd_index *idx)
{
    fprintf(stderr, "%s (%s)\n", why, nd_index_errmsg(idx));
    abort();
}

static const char *const texts[] = {
    ("The central bank raised its key rate by a quarter point on Tuesday, "
     "citing inflation that has stayed above its target for two years."),
    "Shr 21 cts vs 18 cts Net 4.5 mln vs 3.9 mln Revs 120 mln vs 101 mln",
    "",
};

/* The matches of every probe text, written to a buffer for comparing. */
static size_t probe(nd_index *idx, char *out, size_t cap)
{
    size_t w = 0;
    nd_match m[8];
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
        size_t n = 99;
        if (nd_index_query(idx, texts[t], strlen(texts[t]), m, 8, &n) != ND_OK)
            fail("query failed", idx);
        if (n > 8)
            fail("more matches than room", idx);
        for (size_t i = 0; i < n; i++) {
            int64_t time;
            if (!(m[i].jaccard >= 0.0 && m[i].jaccard <= 1.0) ||
                !(m[i].containment >= 0.0 && m[i].containment <= 1.0))
                fail("score out of [0, 1]", idx);
            if (m[i].id_len == 0 || m[i].id_len > ND_INDEX_MAX_ID)
                fail("id length out of range", idx);
            if (nd_index_get(idx, m[i].id, m[i].id_len, &time) != ND_OK ||
                time != m[i].time)
                fail("a match nd_index_get does not know", idx);
            int k = snprintf(out + w, cap - w, "%zu %.*s %.17g %.17g %lld\n",
                             t, (int)(m[i].id_len > 64 ? 64 : m[i].id_len),
                             m[i].id, m[i].jaccard, m[i].containment,
                             (long long)m[i].time);
            if (k > 0 && (size_t)k < cap - w)
                w += (size_t)k;
        }
    }
    return w;
}

static void check_stats(nd_index *idx, nd_index_stats *st)
{
    nd_index_stats_get(idx, st);
    nd_params p;
    nd_index_params(idx, &p);
    char msg[200];
    if (nd_params_check(&p, msg, sizeof msg) != ND_OK)
        fail(msg, idx);
    if (st->num_perm != p.num_perm || st->bands * st->rows > p.num_perm ||
        st->bands == 0 || st->rows == 0)
        fail("stats disagree with the parameters", idx);
    if (st->docs && st->time_min > st->time_max)
        fail("time_min after time_max", idx);
    if (!st->docs && (st->time_min || st->time_max))
        fail("times of an empty index", idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 20))
        return 0;
    if (!dir_a[0]) {
        snprintf(dir_a, sizeof dir_a, "/dev/shm/nd-fuzz-%d-a", (int)getpid());
        snprintf(dir_b, sizeof dir_b, "/dev/shm/nd-fuzz-%d-b", (int)getpid());
    }
    int writable = data[0] & 1;
    size_t n = size - 1;
    unsigned char *in = malloc(n ? n : 1);
    if (!in)
        return 0;
    memcpy(in, data + 1, n);
    const unsigned char *wal = memmem(in, n, "NDIXWLOG", 8);
    size_t snap_len = wal ? (size_t)(wal - in) : n;
    if (data[0] & 2) {
        fix_snapshot(in, snap_len);
        fix_log(in + snap_len, n - snap_len);
    }
    empty_dir(dir_a);
    empty_dir(dir_b);
    if (snap_len)
        put_file(dir_a, "index.nds", in, snap_len);
    if (wal)
        put_file(dir_a, "index.wal", wal, n - snap_len);
    free(in);

    nd_index *idx = NULL;
    int rc = nd_index_open(dir_a, NULL, writable ? 0 : ND_INDEX_READONLY, &idx);
    if (rc != ND_OK) {
        if (rc != ND_ERR_FORMAT && rc != ND_ERR_CORRUPT &&
            rc != ND_ERR_NOTFOUND && rc != ND_ERR_NOMEM)
            fail("open failed with an undocumented code", idx);
        const char *m = nd_index_errmsg(idx);
        if (!m || !*m)
            fail("open failed without a message", idx);
        nd_index_close(idx);
        return 0;
    }
    nd_index_stats st, st2;
    check_stats(idx, &st);
    static char before[1 << 14], after[1 << 14];
    size_t nb = probe(idx, before, sizeof before);

    if (nd_index_save(idx, dir_b) != ND_OK)
        fail("save failed", idx);
    nd_index *copy = NULL;
    if (nd_index_open(dir_b, NULL, ND_INDEX_READONLY, &copy) != ND_OK)
        fail("the saved copy does not open", copy);
    check_stats(copy, &st2);
    if (st2.docs != st.docs || st2.time_min != st.time_min ||
        st2.time_max != st.time_max)
        fail("the saved copy holds other documents", copy);
    size_t na = probe(copy, after, sizeof after);
    if (na != nb || memcmp(before, after, nb) != 0)
        fail("the saved copy answers otherwise", copy);
    nd_index_close(copy);

    if (writable) {
        static const char id[] = "fuzz-added-document";
        rc = nd_index_add(idx, id, sizeof id - 1, texts[0], strlen(texts[0]),
                          7);
        if (rc != ND_OK && rc != ND_ERR_EXISTS)
            fail("add failed", idx);
        if (nd_index_sync(idx) != ND_OK)
            fail("sync failed", idx);
        nd_index_close(idx);
        idx = NULL;
        if (nd_index_open(dir_a, NULL, ND_INDEX_READONLY, &idx) != ND_OK)
            fail("the index does not open after an add", idx);
        check_stats(idx, &st2);
        if (st2.docs != st.docs + (rc == ND_OK) ||
            nd_index_get(idx, id, sizeof id - 1, NULL) != ND_OK)
            fail("the added document is not there after a reopen", idx);
    }
    nd_index_close(idx);
    return 0;
}
