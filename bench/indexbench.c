/*
 * indexbench.c - speed and size of the incremental index (public API only).
 *
 * Indexes N synthetic articles of about 3 KB (default 1,000,000) into a
 * directory under /tmp, then reports: add throughput (one thread, sketching
 * included, periodic syncs included), the latency of one sync after a
 * batch of adds, compaction, open time (median of --runs opens), query
 * latency percentiles for a 3 KB article (one thread; half the queries are
 * near copies of indexed articles, half are new texts), bytes on disk per
 * document against the raw signature (num_perm * 4 bytes), and the memory
 * the opened index reports (nd_index_stats.memory_bytes) per document.
 *
 * Texts are synthesised deterministically from the document number: words
 * drawn with a skewed (squared-uniform) distribution from a fixed
 * vocabulary of 20,000 pseudo-words, so common words repeat as in prose
 * while word 3-grams are nearly unique per article.  A near copy replaces
 * about one word in thirty.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../src/neardup.h"

#define VOCAB 20000
#define ARTICLE_BYTES 3000
#define SYNC_EVERY 10000

static char vocab[VOCAB][12];
static unsigned char vocab_len[VOCAB];

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void make_vocab(void)
{
    uint64_t s = 12345;
    for (unsigned i = 0; i < VOCAB; i++) {
        unsigned len = 2 + (unsigned)(splitmix(&s) % 9);
        for (unsigned j = 0; j < len; j++)
            vocab[i][j] = (char)('a' + splitmix(&s) % 26);
        vocab_len[i] = (unsigned char)len;
    }
}

/* Article number doc into buf (at least ARTICLE_BYTES + 64); variant 0 is
 * the indexed text, variant v > 0 a near copy.  Returns its length. */
static size_t article(uint64_t doc, unsigned variant, char *buf)
{
    uint64_t s = doc * 0x2545f4914f6cdd1dull + 7, e = doc ^ (variant * 977u);
    size_t n = 0;
    while (n < ARTICLE_BYTES) {
        uint64_t r = splitmix(&s);
        double u = (double)(r >> 11) / 9007199254740992.0;
        unsigned w = (unsigned)(u * u * VOCAB);
        if (variant && splitmix(&e) % 30 == 0)
            w = (unsigned)(splitmix(&e) % VOCAB);
        memcpy(buf + n, vocab[w], vocab_len[w]);
        n += vocab_len[w];
        buf[n++] = (r & 0xf) == 0 ? '.' : ' ';
        if (buf[n - 1] == '.')
            buf[n++] = ' ';
    }
    return n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double pct(const double *sorted, size_t n, double p)
{
    size_t i = (size_t)(p * (double)n);
    return sorted[i >= n ? n - 1 : i];
}

static uint64_t file_size(const char *dir, const char *name)
{
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static int die(const char *what, const nd_index *ix)
{
    fprintf(stderr, "indexbench: %s: %s\n", what, nd_index_errmsg(ix));
    return 1;
}

static int usage(void)
{
    fputs("usage: indexbench [--docs N] [--queries Q] [--runs R] [--dir DIR]\n"
          "                  [--keep] [--json] | --open DIR [--runs R]\n"
          "  --docs N     articles to index (default 1000000)\n"
          "  --queries Q  queries timed (default 20000)\n"
          "  --runs R     opens timed, median reported (default 3)\n"
          "  --dir DIR    index directory (default /tmp/ndixbench-XXXXXX)\n"
          "  --keep       leave the index directory in place\n"
          "  --json       one JSON object instead of the table\n"
          "  --open DIR   only time read-only opens of the index in DIR\n",
          stderr);
    return 1;
}

static int parse_num(const char *s, unsigned long long *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return !*s || *end || errno || *s == '-';
}

int main(int argc, char **argv)
{
    unsigned long long docs = 1000000, queries = 20000, runs = 3;
    const char *dir = NULL;
    const char *open_only = NULL;
    int json = 0, keep = 0;
    for (int i = 1; i < argc; i++) {
        unsigned long long *num = NULL;
        if (!strcmp(argv[i], "--docs"))
            num = &docs;
        else if (!strcmp(argv[i], "--queries"))
            num = &queries;
        else if (!strcmp(argv[i], "--runs"))
            num = &runs;
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--open") && i + 1 < argc)
            open_only = argv[++i];
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--keep"))
            keep = 1;
        else
            return usage();
        if (num && (i + 1 >= argc || parse_num(argv[++i], num) || *num == 0))
            return usage();
    }
    if (open_only) {
        double *t = malloc(runs * sizeof *t);
        nd_index *ix;
        for (unsigned r = 0; t && r < runs; r++) {
            double t0 = now();
            if (nd_index_open(open_only, NULL, ND_INDEX_READONLY, &ix) != ND_OK)
                return die("open", ix);
            t[r] = now() - t0;
            nd_index_close(ix);
        }
        if (t)
            printf("open %s: median of %llu: %.3f s\n", open_only, runs,
                   median(t, runs));
        free(t);
        return 0;
    }
    char tmpl[] = "/tmp/ndixbench-XXXXXX";
    if (!dir) {
        if (!mkdtemp(tmpl)) {
            perror("indexbench: mkdtemp");
            return 1;
        }
        dir = tmpl;
    }
    make_vocab();
    nd_params p;
    nd_params_init(&p);
    char *text = malloc(ARTICLE_BYTES + 64);
    double *lat = malloc(queries * sizeof *lat);
    double *opens = malloc(runs * sizeof *opens);
    double *syncs = malloc((docs / SYNC_EVERY + 1) * sizeof *syncs);
    if (!text || !lat || !opens || !syncs)
        return 1;

    /* add */
    nd_index *ix;
    if (nd_index_open(dir, &p, ND_INDEX_CREATE, &ix) != ND_OK)
        return die("open", ix);
    double t_add = 0, t0;
    size_t nsync = 0;
    char id[32];
    for (uint64_t d = 0; d < docs; d++) {
        size_t len = article(d, 0, text);
        int idlen = snprintf(id, sizeof id, "doc-%llu", (unsigned long long)d);
        t0 = now();
        if (nd_index_add(ix, id, (size_t)idlen, text, len, (int64_t)d) != ND_OK)
            return die("add", ix);
        t_add += now() - t0;
        if ((d + 1) % SYNC_EVERY == 0) {
            t0 = now();
            if (nd_index_sync(ix) != ND_OK)
                return die("sync", ix);
            double dt = now() - t0;
            t_add += dt;
            syncs[nsync++] = dt;
        }
    }
    t0 = now();
    if (nd_index_sync(ix) != ND_OK)
        return die("sync", ix);
    double t_sync_last = now() - t0;
    t0 = now();
    if (nd_index_save(ix, NULL) != ND_OK)
        return die("compact", ix);
    double t_compact = now() - t0;
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    nd_index_close(ix);
    uint64_t disk = file_size(dir, "index.nds") + file_size(dir, "index.wal");

    /* open (read-only: the snapshot is read, bands are built) */
    for (unsigned r = 0; r < runs; r++) {
        t0 = now();
        if (nd_index_open(dir, NULL, ND_INDEX_READONLY, &ix) != ND_OK)
            return die("open", ix);
        opens[r] = now() - t0;
        if (r + 1 < runs)
            nd_index_close(ix);
    }

    /* queries: sketch + lookup + verify, one thread */
    nd_match m[16];
    size_t nm, found = 0;
    for (uint64_t q = 0; q < 200; q++) { /* warm-up */
        size_t len = article(docs + queries + q, 0, text);
        if (nd_index_query(ix, text, len, m, 16, &nm) != ND_OK)
            return die("query", ix);
    }
    for (uint64_t q = 0; q < queries; q++) {
        uint64_t d = (q * 2654435761u) % docs;
        size_t len = q % 2 ? article(d, 1, text) : article(docs + q, 0, text);
        t0 = now();
        if (nd_index_query(ix, text, len, m, 16, &nm) != ND_OK)
            return die("query", ix);
        lat[q] = now() - t0;
        found += nm > 0;
    }
    nd_index_stats_get(ix, &st);
    double mem_per_doc = (double)st.memory_bytes / (double)docs;
    nd_index_close(ix);
    qsort(lat, queries, sizeof *lat, cmp_double);

    double add_rate = (double)docs / t_add;
    double sync_med = nsync ? median(syncs, nsync) : t_sync_last;
    double open_med = median(opens, runs);
    double per_doc = (double)disk / (double)docs;
    double raw = (double)p.num_perm * 4;
    double p50 = pct(lat, queries, 0.50) * 1e6, p99 = pct(lat, queries, 0.99) * 1e6,
           p999 = pct(lat, queries, 0.999) * 1e6;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (json) {
        printf("{\"docs\": %llu, \"article_bytes\": %d, \"num_perm\": %u, "
               "\"bands\": %u, \"rows\": %u, \"cores\": %ld, "
               "\"add_docs_per_s\": %.0f, \"sync_s\": %.6f, "
               "\"compact_s\": %.3f, \"open_s\": %.3f, "
               "\"query_us\": {\"p50\": %.1f, \"p99\": %.1f, \"p999\": %.1f}, "
               "\"queries\": %llu, \"queries_matched\": %zu, "
               "\"candidates_per_query\": %.2f, \"disk_bytes\": %llu, "
               "\"disk_bytes_per_doc\": %.1f, \"ratio_to_signature\": %.3f, "
               "\"memory_bytes_per_doc\": %.1f}\n",
               docs, ARTICLE_BYTES, p.num_perm, st.bands, st.rows, cores,
               add_rate, sync_med, t_compact, open_med, p50, p99, p999, queries,
               found, (double)st.candidates / (double)st.queries,
               (unsigned long long)disk, per_doc, per_doc / raw, mem_per_doc);
    } else {
        printf("index of %llu articles of ~%d bytes, num_perm %u, %u bands x "
               "%u rows, %ld cores\n",
               docs, ARTICLE_BYTES, p.num_perm, st.bands, st.rows, cores);
        printf("  %-34s %12.0f docs/s\n", "add (1 thread, sketch included)", add_rate);
        printf("  %-34s %12.3f ms\n", "sync after 10k adds (median)", sync_med * 1e3);
        printf("  %-34s %12.3f s\n", "compact (fresh snapshot)", t_compact);
        printf("  %-34s %12.3f s\n", "open (median)", open_med);
        printf("  %-34s %12.1f us\n", "query p50", p50);
        printf("  %-34s %12.1f us\n", "query p99", p99);
        printf("  %-34s %12.1f us\n", "query p999", p999);
        printf("  %-34s %12zu of %llu\n", "queries with a match", found, queries);
        printf("  %-34s %12.2f\n", "candidates per query",
               (double)st.candidates / (double)st.queries);
        printf("  %-34s %12.1f bytes\n", "disk per document", per_doc);
        printf("  %-34s %12.3f x\n", "disk / raw signature", per_doc / raw);
        printf("  %-34s %12.1f bytes\n", "memory per document (opened)",
               mem_per_doc);
    }
    if (!keep) {
        char path[4096];
        const char *names[] = {"index.nds", "index.wal", "LOCK"};
        for (int i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            unlink(path);
        }
        rmdir(dir);
    }
    free(text);
    free(lat);
    free(opens);
    free(syncs);
    return 0;
}
