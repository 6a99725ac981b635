/*
 * membench.c - memory of a batch: bytes held per document and peak RSS.
 *
 *   membench [--runs R] [--threads T] [--num-perm K] [N ...]
 *
 * For each N (default 100000 and 1000000) it generates N news-like texts of
 * about 3 KB from a fixed seed (no corpus needed: stories of pseudo-words,
 * a third of them reprints of an earlier story with a new headline and a
 * cut paragraph), adds them to a batch in chunks of 4096, and runs it.  It
 * reports the resident memory the batch holds per document after adding
 * (RSS after minus RSS before, over N), the peak RSS of the whole run
 * (getrusage), and both against the input size; each figure is the median
 * of R runs (default 3), each run in a fresh process so that its peak is
 * its own.  Uses only the public header.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/neardup.h"

#define CHUNK 4096
#define VOCAB 20000
#define TEXT_MAX 8192

typedef struct {
    double held_per_doc;  /* bytes */
    double peak;          /* bytes */
    double input_per_doc; /* bytes */
    double seconds;
    uint64_t clusters, candidates;
} result;

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static char vocab[VOCAB][12];

static void make_vocab(void)
{
    static const char *syl[] = {"ka", "lo", "mi", "ter", "on", "sa", "ri", "den",
                                "pa", "vel", "ur", "no", "ist", "ge", "bra", "tu"};
    uint64_t s = 42;
    for (int w = 0; w < VOCAB; w++) {
        uint64_t r = mix(&s);
        int n = 1 + (int)(r % 3), at = 0;
        for (int i = 0; i < n; i++) {
            const char *y = syl[(r >> (8 + 4 * i)) & 15];
            size_t l = strlen(y);
            memcpy(vocab[w] + at, y, l);
            at += (int)l;
        }
        vocab[w][at] = 0;
    }
}

/* A word index with a Zipf-like skew: the minimum of two uniform draws. */
static int word(uint64_t *s)
{
    uint64_t r = mix(s);
    uint32_t a = (uint32_t)r % VOCAB, b = (uint32_t)(r >> 32) % VOCAB;
    return (int)(a < b ? a : b);
}

/*
 * Document d into out: story d, or with probability 1/3 a reprint of an
 * earlier story (new headline, one of its 8 paragraphs cut).  Returns the
 * length.
 */
static size_t make_doc(uint64_t d, char *out)
{
    /* Streams start at a hash of their number: splitmix steps of one
       stream never run into another's. */
    uint64_t s = d ^ 0x2545f4914f6cdd1dull;
    s = mix(&s);
    uint64_t r = mix(&s);
    uint64_t story = d, cut = 8;
    if (d > 0 && r % 3 == 0) {
        story = d - 1 - (r >> 8) % (d < 1000 ? d : 1000);
        cut = (r >> 40) % 8;
    }
    size_t at = 0;
    /* the headline: the document's own words */
    for (int i = 0; i < 10; i++) {
        const char *w = vocab[word(&s)];
        size_t l = strlen(w);
        memcpy(out + at, w, l);
        at += l;
        out[at++] = ' ';
    }
    out[at++] = '\n';
    uint64_t t = story;
    t = mix(&t);
    for (uint64_t para = 0; para < 8; para++) {
        for (int i = 0; i < 64; i++) {
            const char *w = vocab[word(&t)];
            if (para == cut)
                continue;
            size_t l = strlen(w);
            if (at + l + 2 >= TEXT_MAX)
                break;
            memcpy(out + at, w, l);
            at += l;
            out[at++] = i % 12 == 11 ? '.' : ' ';
        }
        if (para != cut)
            out[at++] = '\n';
    }
    return at;
}

/* Resident bytes now (Linux /proc/self/statm). */
static double rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE);
}

static double peak_rss(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss * 1024.0;
}

static int one_run(size_t n, unsigned threads, unsigned k, result *out)
{
    nd_params p;
    nd_params_init(&p);
    p.threads = threads;
    p.num_perm = k;
    char *text = malloc((size_t)CHUNK * TEXT_MAX);
    const char **ptr = malloc(sizeof *ptr * CHUNK);
    size_t *len = malloc(sizeof *len * CHUNK);
    nd_batch *b = NULL;
    if (!text || !ptr || !len || nd_batch_create(&p, &b) != ND_OK)
        return -1;
    memset(text, 0, (size_t)CHUNK * TEXT_MAX);
    double before = rss_now();
    double input = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t base = 0; base < n; base += CHUNK) {
        size_t m = n - base < CHUNK ? n - base : CHUNK;
        for (size_t i = 0; i < m; i++) {
            ptr[i] = text + i * TEXT_MAX;
            len[i] = make_doc(base + i, text + i * TEXT_MAX);
            input += (double)len[i];
        }
        if (nd_batch_add_many(b, m, ptr, len, NULL, NULL) != ND_OK)
            return -1;
    }
    double after = rss_now();
    if (nd_batch_run(b) != ND_OK)
        return -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    out->held_per_doc = (after - before) / (double)n;
    out->peak = peak_rss();
    out->input_per_doc = input / (double)n;
    out->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    out->clusters = st.clusters;
    out->candidates = st.candidates;
    nd_batch_free(b);
    free(text);
    free(ptr);
    free(len);
    return 0;
}

/* One run in a child process, so that its peak RSS is its own. */
static int run_child(size_t n, unsigned threads, unsigned k, result *out)
{
    int fd[2];
    if (pipe(fd))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fd[0]);
        result r;
        int rc = one_run(n, threads, k, &r);
        if (rc == 0 && write(fd[1], &r, sizeof r) != (ssize_t)sizeof r)
            rc = -1;
        _exit(rc ? 1 : 0);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], out, sizeof *out);
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return got == (ssize_t)sizeof *out && WIFEXITED(status) && !WEXITSTATUS(status)
               ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static unsigned long parse(const char *s, const char *what)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v == 0) {
        fprintf(stderr, "membench: bad %s: %s\n", what, s);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv)
{
    int runs = 3;
    unsigned threads = 0, k = 128;
    size_t sizes[16], nsizes = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc)
            runs = (int)parse(argv[++i], "run count");
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = (unsigned)parse(argv[++i], "thread count");
        else if (!strcmp(argv[i], "--num-perm") && i + 1 < argc)
            k = (unsigned)parse(argv[++i], "num-perm");
        else if (argv[i][0] != '-' && nsizes < 16)
            sizes[nsizes++] = parse(argv[i], "document count");
        else {
            fprintf(stderr, "usage: membench [--runs R] [--threads T] "
                            "[--num-perm K] [N ...]\n");
            return 1;
        }
    }
    if (runs > 15)
        runs = 15;
    if (!nsizes) {
        sizes[nsizes++] = 100000;
        sizes[nsizes++] = 1000000;
    }
    make_vocab();
    printf("neardup %s membench: k=%u, median of %d runs\n", nd_version_string(), k, runs);
    printf("%10s %12s %12s %12s %14s %10s %10s %10s %12s\n", "docs", "input B/doc",
           "held B/doc", "held/input", "peak RSS MB", "peak/input", "seconds",
           "clusters", "candidates");
    for (size_t s = 0; s < nsizes; s++) {
        double held[15], peak[15], secs[15], input = 0;
        uint64_t clusters = 0, candidates = 0;
        for (int r = 0; r < runs; r++) {
            result res;
            if (run_child(sizes[s], threads, k, &res)) {
                fprintf(stderr, "membench: run failed at %zu documents\n", sizes[s]);
                return 2;
            }
            held[r] = res.held_per_doc;
            peak[r] = res.peak;
            secs[r] = res.seconds;
            input = res.input_per_doc;
            clusters = res.clusters;
            candidates = res.candidates;
        }
        double h = median(held, runs), pk = median(peak, runs);
        printf("%10zu %12.0f %12.1f %12.4f %14.1f %10.4f %10.2f %10llu %12llu\n",
               sizes[s], input, h, h / input, pk / 1048576.0,
               pk / (input * (double)sizes[s]), median(secs, runs),
               (unsigned long long)clusters, (unsigned long long)candidates);
        fflush(stdout);
    }
    return 0;
}
