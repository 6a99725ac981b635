/*
 * readbench.c - throughput of nd_reader alone: open the inputs, iterate every
 * record, touch each text, report MB/s of input (file bytes) per run and the
 * median of the runs.  The first run is a warm-up (page cache) and is not
 * counted.
 *
 * -c hashes every id, text and time (FNV-1a) to compare two builds' output.
 *
 *   build/readbench [-c] [-r RUNS] [-t TIME_FIELD] FILE...
 */
#include "../src/neardup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    return h;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs = 5, argi = 1, hash = 0;
    const char *time_field = NULL;
    while (argi + 1 < argc && argv[argi][0] == '-') {
        if (strcmp(argv[argi], "-c") == 0) {
            hash = 1;
            argi++;
            continue;
        }
        if (strcmp(argv[argi], "-r") == 0)
            runs = atoi(argv[argi + 1]);
        else if (strcmp(argv[argi], "-t") == 0)
            time_field = argv[argi + 1];
        else
            break;
        argi += 2;
    }
    if (argi >= argc || runs < 1 || runs > 100) {
        fprintf(stderr, "usage: readbench [-r RUNS] [-t TIME_FIELD] FILE...\n");
        return 2;
    }
    const char *const *paths = (const char *const *)(argv + argi);
    size_t npaths = (size_t)(argc - argi);
    double bytes = 0;
    for (size_t i = 0; i < npaths; i++) {
        struct stat st;
        if (stat(paths[i], &st) == 0)
            bytes += (double)st.st_size;
    }
    nd_reader_opts o = {ND_FORMAT_AUTO, NULL, NULL, time_field, NULL, 0};
    double mbs[100];
    for (int run = 0; run <= runs; run++) {
        nd_reader *r = NULL;
        if (nd_reader_open(paths, npaths, &o, &r) != ND_OK) {
            fprintf(stderr, "readbench: %s\n", nd_reader_errmsg(r));
            nd_reader_close(r);
            return 1;
        }
        unsigned long long docs = 0, bad = 0, sum = 0;
        uint64_t h = 0xcbf29ce484222325ull;
        nd_record rec;
        int rc;
        double t0 = now();
        while ((rc = nd_reader_next(r, &rec)) != 0 && rc != ND_ERR_IO) {
            if (rc != 1) {
                bad++;
                if (hash)
                    h = fnv(h, nd_reader_errmsg(r), strlen(nd_reader_errmsg(r)));
                continue;
            }
            docs++;
            sum += rec.text_len + rec.id_len;
            if (rec.text_len)
                sum += (unsigned char)rec.text[rec.text_len - 1];
            if (hash) {
                h = fnv(h, rec.id, rec.id_len + 1);
                h = fnv(h, rec.text, rec.text_len);
                h = fnv(h, &rec.text_len, sizeof rec.text_len);
                h = fnv(h, &rec.meta.has_time, sizeof rec.meta.has_time);
                h = fnv(h, &rec.meta.time, sizeof rec.meta.time);
            }
        }
        double secs = now() - t0;
        nd_reader_close(r);
        if (rc == ND_ERR_IO) {
            fprintf(stderr, "readbench: read error\n");
            return 1;
        }
        if (run == 0) {
            printf("%llu records, %llu bad, checksum %llu, hash %016llx\n",
                   docs, bad, sum, (unsigned long long)h);
            continue;
        }
        mbs[run - 1] = bytes / 1e6 / secs;
        printf("run %d: %.3f s  %.1f MB/s\n", run, secs, mbs[run - 1]);
    }
    qsort(mbs, (size_t)runs, sizeof *mbs, cmp_double);
    printf("median: %.1f MB/s\n", mbs[runs / 2]);
    return 0;
}
