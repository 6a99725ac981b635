/*
 * index_threads.c - one writer and several readers on one index.
 *
 *   index_threads [READERS]
 *
 * A writer thread adds, removes and evicts articles while READERS threads
 * (default 4) keep querying a fixed set of articles that must always be
 * found, each as its own best match with Jaccard 1.  Prints the query rate
 * and exits 1 if any answer was wrong.  Build it with -fsanitize=thread
 * against a library built the same way to check the locking:
 *   make BUILD=build/tsan OPT=-O1 SAN=-fsanitize=thread build/tsan/libneardup.a
 *   cc -std=c11 -D_GNU_SOURCE -fsanitize=thread -Isrc examples/index_threads.c \
 *      build/tsan/libneardup.a -fopenmp -lxxhash -lutf8proc -ljansson -lz \
 *      -lzstd -lm -lpthread -o build/tsan/index_threads
 */
#include <neardup.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIXED 40
#define WRITES 3000

static char *article(unsigned seed)
{
    char *t = malloc(150 * 10 + 1);
    size_t n = 0;
    uint64_t s = seed * 2654435761u + 17;
    for (int w = 0; w < 150; w++) {
        int len = 4 + (int)((s >> 33) % 6);
        for (int i = 0; i < len; i++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            t[n++] = (char)('a' + (s >> 33) % 26);
        }
        t[n++] = ' ';
    }
    t[n - 1] = '\0';
    return t;
}

static nd_index *ix;
static atomic_int done;
static atomic_ulong queries, wrong;

static void *reader(void *arg)
{
    (void)arg;
    char *texts[FIXED];
    for (unsigned i = 0; i < FIXED; i++)
        texts[i] = article(i);
    nd_match m[4];
    for (unsigned r = 0; !atomic_load(&done); r++) {
        unsigned i = r % FIXED;
        char want[16];
        size_t n, wl = (size_t)snprintf(want, sizeof want, "fixed-%u", i);
        if (nd_index_query(ix, texts[i], strlen(texts[i]), m, 4, &n) != ND_OK ||
            n == 0 || m[0].jaccard != 1.0 || m[0].id_len != wl ||
            memcmp(m[0].id, want, wl) != 0)
            atomic_fetch_add(&wrong, 1);
        atomic_fetch_add(&queries, 1);
    }
    for (unsigned i = 0; i < FIXED; i++)
        free(texts[i]);
    return NULL;
}

static int add(const char *prefix, unsigned i, int64_t t)
{
    char id[32];
    int n = snprintf(id, sizeof id, "%s-%u", prefix, i);
    char *text = article(i);
    int rc = nd_index_add(ix, id, (size_t)n, text, strlen(text), t);
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
    int nreaders = argc > 1 ? atoi(argv[1]) : 4;
    if (nreaders < 1 || nreaders > 64)
        nreaders = 4;
    nd_params p;
    nd_params_init(&p);
    if (nd_index_create(&p, &ix) != ND_OK)
        return 2;
    for (unsigned i = 0; i < FIXED; i++)
        if (add("fixed", i, INT64_MAX) != ND_OK)
            return 2;
    pthread_t th[64];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int t = 0; t < nreaders; t++)
        pthread_create(&th[t], NULL, reader, NULL);
    int bad = 0;
    for (unsigned i = 1000; i < 1000 + WRITES; i++) {
        bad |= add("stream", i, i) != ND_OK;
        if (i % 10 == 9) {
            char id[32];
            int n = snprintf(id, sizeof id, "stream-%u", i - 5);
            bad |= nd_index_remove(ix, id, (size_t)n) != ND_OK;
        }
        if (i % 500 == 0) {
            size_t k;
            bad |= nd_index_evict_before(ix, (int64_t)i - 200, &k) != ND_OK;
        }
    }
    atomic_store(&done, 1);
    for (int t = 0; t < nreaders; t++)
        pthread_join(th[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) +
                 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    printf("index_threads: %d readers, %lu queries (%.0f/s) during %d writes,"
           " %lu wrong; %llu docs left\n",
           nreaders, atomic_load(&queries), (double)atomic_load(&queries) / sec,
           WRITES, atomic_load(&wrong), (unsigned long long)st.docs);
    nd_index_close(ix);
    return bad || atomic_load(&wrong) ? 1 : 0;
}
