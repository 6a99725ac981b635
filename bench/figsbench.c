/*
 * figsbench.c - the speed of the figure scan (nd__figures) alone, on every
 * code path of this CPU, over the texts of a corpus held in memory.
 *
 * Like sketchbench.c a micro-benchmark of internals (src/text/numbers.h):
 * it isolates the scan from reading, shingling and the rest of the sketch
 * stage.  Each text is touched just before it is scanned, as the sketch
 * stage has just read it when it looks for figures, and a pass that only
 * touches the texts is timed too and taken off.  Times are the thread's
 * CPU time of a pass, median of RUNS passes after a warm-up.  Every path
 * must give the same figures; the figures' checksum and what the scan met
 * (texts, figures kept, texts cut short at the early stop) are printed.
 *
 * Usage: figsbench [-r RUNS] [--text-field F] FILE...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/neardup.h"
#include "../src/text/numbers.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    char *bytes;
    size_t *off, n, cap, size, size_cap;
} corpus;

static int add_text(corpus *c, const char *t, size_t len)
{
    if (c->n + 1 >= c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 1024;
        size_t *p = realloc(c->off, cap * sizeof *p);
        if (!p)
            return -1;
        c->off = p;
        c->cap = cap;
    }
    if (c->size + len > c->size_cap) {
        size_t cap = c->size_cap ? 2 * c->size_cap : (size_t)1 << 20;
        while (cap < c->size + len)
            cap *= 2;
        char *p = realloc(c->bytes, cap);
        if (!p)
            return -1;
        c->bytes = p;
        c->size_cap = cap;
    }
    memcpy(c->bytes + c->size, t, len);
    c->off[c->n++] = c->size;
    c->size += len;
    c->off[c->n] = c->size;
    return 0;
}

/* One pass: the CPU seconds; *sum, *figs, *stops describe the output. */
static double pass(const corpus *c, int path, nd__textbuf *tb, uint64_t *sum,
                   uint64_t *figs, uint64_t *stops)
{
    volatile unsigned char sink = 0;
    uint64_t h = 0, nf = 0, ns = 0;
    const double t0 = cpu_now();
    for (size_t d = 0; d < c->n; d++) {
        const char *t = c->bytes + c->off[d];
        const size_t len = c->off[d + 1] - c->off[d];
        for (size_t q = 0; q < len; q += 64)
            sink ^= (unsigned char)t[q];
        if (path < 0)
            continue;
        if (nd__figures_on((nd__digits_path)path, tb, t, len, 1) != ND_OK) {
            fprintf(stderr, "figsbench: out of memory\n");
            exit(1);
        }
        for (size_t k = 0; k < tb->nfigs; k++)
            h = (h ^ tb->figs[k]) * 0x100000001b3ull;
        h = (h ^ tb->nfigs) * 0x100000001b3ull;
        nf += tb->nfigs;
        ns += tb->nfigs > ND__FIGS_KEPT;
    }
    const double t = cpu_now() - t0;
    (void)sink;
    *sum = h;
    *figs = nf;
    *stops = ns;
    return t;
}

int main(int argc, char **argv)
{
    int runs = 5, argi = 1;
    const char *text_field = NULL;
    for (; argi < argc && argv[argi][0] == '-'; argi++) {
        if (!strcmp(argv[argi], "-r") && argi + 1 < argc)
            runs = atoi(argv[++argi]);
        else if (!strcmp(argv[argi], "--text-field") && argi + 1 < argc)
            text_field = argv[++argi];
        else
            break;
    }
    if (argi >= argc || runs < 1 || runs > 100) {
        fprintf(stderr, "usage: figsbench [-r RUNS (1-100)] [--text-field F] FILE...\n");
        return 2;
    }
    nd_reader_opts o = {ND_FORMAT_AUTO, NULL, text_field, NULL, NULL, 0};
    nd_reader *r = NULL;
    if (nd_reader_open((const char *const *)(argv + argi), (size_t)(argc - argi), &o,
                       &r) != ND_OK) {
        fprintf(stderr, "figsbench: %s\n", nd_reader_errmsg(r));
        nd_reader_close(r);
        return 1;
    }
    corpus c = {0};
    nd_record rec;
    int rc;
    while ((rc = nd_reader_next(r, &rec)) != 0 && rc != ND_ERR_IO)
        if (rc == 1 && add_text(&c, rec.text, rec.text_len)) {
            fprintf(stderr, "figsbench: out of memory\n");
            return 1;
        }
    if (rc == ND_ERR_IO) {
        fprintf(stderr, "figsbench: %s\n", nd_reader_errmsg(r));
        return 1;
    }
    nd_reader_close(r);

    nd__textbuf tb = {0};
    uint64_t sum, figs, stops, first = 0;
    double t[100];
    for (int k = 0; k <= runs; k++)
        t[k] = pass(&c, -1, &tb, &sum, &figs, &stops);
    qsort(t + 1, (size_t)runs, sizeof *t, cmp_double);
    const double touch = t[1 + runs / 2];
    printf("%zu texts, %.1f MB; touching them: %.4f s a pass\n", c.n, (double)c.size / 1e6,
           touch);
    static const char *const names[] = {"scalar", "avx2", "avx512"};
    int status = 0, have_first = 0;
    for (int p = 0; p < ND__DIGITS_PATHS; p++) {
        if (!(nd__digit_paths() >> p & 1))
            continue;
        for (int k = 0; k <= runs; k++) /* the first is the warm-up */
            t[k] = pass(&c, p, &tb, &sum, &figs, &stops);
        qsort(t + 1, (size_t)runs, sizeof *t, cmp_double);
        const double s = t[1 + runs / 2] - touch;
        printf("%-7s %.4f s a pass (median of %d; min %.4f max %.4f), %.0f MB/s, "
               "%.1f ns a text; %llu figures, %llu texts past %d, checksum %016llx\n",
               names[p], s, runs, t[1] - touch, t[runs] - touch,
               (double)c.size / 1e6 / s, s * 1e9 / (double)(c.n ? c.n : 1),
               (unsigned long long)figs, (unsigned long long)stops, ND__FIGS_KEPT,
               (unsigned long long)sum);
        if (have_first && sum != first) {
            fprintf(stderr, "figsbench: path %s gives other figures\n", names[p]);
            status = 1;
        }
        first = sum;
        have_first = 1;
    }
    nd__textbuf_free(&tb);
    free(c.bytes);
    free(c.off);
    return status;
}
