/*
 * sketchbench.c - speed and accuracy of the signature schemes on every code
 * path of this CPU, on generated sets of 64-bit shingle hashes.
 *
 * A micro-benchmark of the internal sketch kernels (src/sketch/sketch.h),
 * so, with figsbench.c, one of the files of bench/ that look past
 * neardup.h: it isolates the sketch stage from normalization and shingling.
 *
 * Speed: ns per document for n shingles, k = 128, median of RUNS runs after
 * a warm-up, each run sketching a pool of documents for about 40 ms.  MB/s
 * is text-equivalent at BYTES_PER_SHINGLE bytes per word shingle (a 3 KB
 * news article gives about 500 word 3-grams).
 * Accuracy: pairs with exact Jaccard J in {0.2, 0.5, 0.8, 0.95} at three set
 * sizes; mean absolute error, bias (mean signed error) and the ratio of the
 * observed standard deviation to sqrt(J (1 - J) / k), the k-permutation
 * ideal.
 *
 * Usage: sketchbench [runs]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/neardup.h"
#include "../src/sketch/sketch.h"

#define K 128
#define POOL 64
#define BYTES_PER_SHINGLE 6.0

static const char *const ALGO[] = {"kperm", "oph", "cminhash"};

/* Equal values / k, as nd_sig_jaccard. */
static double estimate(const uint32_t *a, const uint32_t *b)
{
    unsigned eq = 0;
    for (unsigned i = 0; i < K; i++)
        eq += a[i] == b[i];
    return (double)eq / K;
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

/* ns per document: median of runs. */
static double time_docs(const nd__perm *p, nd__cpu cpu, const uint64_t *keys,
                        size_t n, int runs)
{
    uint32_t sig[K];
    double t[64];
    unsigned sink = 0;
    size_t reps = 1;
    /* warm-up, and a repetition count that fills about 40 ms */
    for (;;) {
        double t0 = now();
        for (size_t r = 0; r < reps; r++)
            for (size_t d = 0; d < POOL; d++) {
                nd__minhash_on(p, cpu, keys + d * n, n, sig);
                sink += sig[d % K];
            }
        if (now() - t0 > 0.04)
            break;
        reps *= 2;
    }
    for (int i = 0; i < runs; i++) {
        double t0 = now();
        for (size_t r = 0; r < reps; r++)
            for (size_t d = 0; d < POOL; d++) {
                nd__minhash_on(p, cpu, keys + d * n, n, sig);
                sink += sig[d % K];
            }
        t[i] = (now() - t0) * 1e9 / (double)(reps * POOL);
    }
    if (sink == 0x12345678u)
        fputs("", stderr);
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    return t[runs / 2];
}

static void speed(int runs)
{
    static const size_t sizes[] = {100, 500, 2000};
    printf("speed, k = %d, median of %d runs: ns/doc (MB/s text-equivalent)\n", K, runs);
    printf("%-9s %-7s %20s %20s %20s\n", "scheme", "path", "n=100", "n=500", "n=2000");
    uint64_t st = 1;
    uint64_t *keys = malloc(sizeof *keys * POOL * 2000);
    for (size_t i = 0; i < POOL * 2000; i++)
        keys[i] = nd__splitmix64(&st);
    for (int a = 0; a < 3; a++) {
        nd__perm p;
        nd__sketch_init(&p, (nd_sketch_algo)a, K, 1);
        for (int cpu = 0; cpu < ND__CPU_COUNT; cpu++) {
            if (!(nd__cpu_paths() >> cpu & 1))
                continue;
            if (a == ND_SKETCH_OPH && cpu > 0)
                continue; /* one path */
            printf("%-9s %-7s", ALGO[a], a == ND_SKETCH_OPH ? "any" : nd__cpu_name((nd__cpu)cpu));
            for (size_t s = 0; s < 3; s++) {
                double ns = time_docs(&p, (nd__cpu)cpu, keys, sizes[s], runs);
                char cell[32];
                snprintf(cell, sizeof cell, "%.0f (%.0f)", ns,
                         (double)sizes[s] * BYTES_PER_SHINGLE / ns * 1e3);
                printf(" %20s", cell);
            }
            printf("\n");
            fflush(stdout);
        }
        nd__perm_free(&p);
    }
    free(keys);
}

static void accuracy(void)
{
    static const size_t sizes[] = {20, 60, 300, 2000};
    static const double js[] = {0.2, 0.5, 0.8, 0.95};
    enum { PAIRS = 400 };
    printf("\naccuracy, k = %d, %d pairs per cell: mean abs error / bias / sd ratio\n", K, PAIRS);
    printf("%-9s %6s", "scheme", "|A u B|");
    for (size_t j = 0; j < 4; j++)
        printf("        J=%-14.2f", js[j]);
    printf("\n");
    uint64_t *a = malloc(sizeof *a * 2000), *b = malloc(sizeof *b * 2000);
    uint32_t sa[K], sb[K];
    for (int al = 0; al < 3; al++) {
        double all_mae = 0, all_bias = 0;
        int cells = 0;
        for (size_t s = 0; s < 4; s++) {
            printf("%-9s %6zu", ALGO[al], sizes[s]);
            for (size_t j = 0; j < 4; j++) {
                /* |A u B| = u, |A n B| = round(J u), the rest split */
                size_t u = sizes[s], in = (size_t)lround(js[j] * (double)u);
                size_t ra = (u - in) / 2, rb = u - in - ra;
                double exact = (double)in / (double)u, sum = 0, sum2 = 0, sumabs = 0;
                uint64_t st = 1000 * s + j;
                for (int t = 0; t < PAIRS; t++) {
                    nd__perm p;
                    nd__sketch_init(&p, (nd_sketch_algo)al, K, (uint64_t)t + 1);
                    for (size_t i = 0; i < in; i++)
                        a[i] = b[i] = nd__splitmix64(&st);
                    for (size_t i = 0; i < ra; i++)
                        a[in + i] = nd__splitmix64(&st);
                    for (size_t i = 0; i < rb; i++)
                        b[in + i] = nd__splitmix64(&st);
                    nd__minhash(&p, a, in + ra, sa);
                    nd__minhash(&p, b, in + rb, sb);
                    double d = estimate(sa, sb) - exact;
                    sum += d;
                    sum2 += d * d;
                    sumabs += fabs(d);
                    nd__perm_free(&p);
                }
                double bias = sum / PAIRS, sd = sqrt(sum2 / PAIRS - bias * bias);
                double ideal = sqrt(exact * (1 - exact) / K);
                printf("  %.4f/%+.4f/%.2f", sumabs / PAIRS, bias, sd / ideal);
                all_mae += sumabs / PAIRS;
                all_bias += bias;
                cells++;
            }
            printf("\n");
        }
        printf("%-9s %6s  mean abs error %.4f, bias %+.4f\n", ALGO[al], "all",
               all_mae / cells, all_bias / cells);
        fflush(stdout);
    }
    free(a);
    free(b);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    if (runs < 1 || runs > 64) {
        fprintf(stderr, "sketchbench: runs must be in 1..64\n");
        return 2;
    }
    speed(runs);
    accuracy();
    return 0;
}
