/*
 * failalloc.c - an allocator that fails on the n-th call, and reads and
 * writes that come short or interrupted (SQLite's test_malloc.c, for a
 * C library that cannot change its allocator).
 *
 * The test binaries are linked with -Wl,--wrap=NAME for every function
 * defined here as __wrap_NAME: a call from the library's objects (and the
 * test's) reaches the hook, which calls the real function as __real_NAME.
 * Calls from inside the shared libraries are not seen, which decides what a
 * walk can fail: the library's own allocations; jansson's, through its
 * allocator hook; the calls of libc, zlib and zstd that allocate (fopen,
 * opendir, getline's first buffer, realpath, inflateInit2, ZSTD_createDCtx)
 * as a whole.  zlib's window, allocated inside inflate(), and the OpenMP
 * runtime's allocations are not failed: libgomp ends the process on a
 * failed allocation by design.
 *
 * Under ASan __real_malloc is ASan's malloc, so the sanitizer still sees
 * every block and reports leaks at exit; the hook's own table of live
 * blocks lets a walk find a leak at the very allocation that caused it.
 *
 * The command (build/neardup-oom) reads the environment once at start:
 *   ND_FAIL_ALLOC=N   the N-th allocation of the process fails
 *   ND_COUNT_ALLOC=F  write the number of allocations made to file F at exit
 *   ND_SHORT_IO=1     short and interrupted read, pread and pwrite
 *   ND_FAIL_TRACE=1   print the call stack of the failed allocation
 */
#include "failalloc.h"

#include <dirent.h>
#include <execinfo.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
FILE *__real_fopen(const char *path, const char *mode);
DIR *__real_opendir(const char *path);
ssize_t __real_getline(char **line, size_t *cap, FILE *f);
char *__real_realpath(const char *path, char *resolved);
int __real_inflateInit2_(z_streamp strm, int bits, const char *version,
                         int size);
ZSTD_DCtx *__real_ZSTD_createDCtx(void);
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
void *__wrap_malloc(size_t n);
void __wrap_free(void *p);

static atomic_int armed;
static atomic_ulong calls, fail_at;
static atomic_int failed;
static atomic_int short_io;
static atomic_ulong io_calls;
static int trace;

/* ------------------------------------------------------------- counting */

/* 1 when this allocation is to fail. */
static int take(void)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return 0;
    unsigned long k = atomic_fetch_add(&calls, 1) + 1;
    if (k != atomic_load(&fail_at))
        return 0;
    atomic_store(&failed, 1);
    if (trace) {
        void *frames[32];
        fprintf(stderr, "failalloc: allocation %lu fails here:\n", k);
        backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
    }
    errno = ENOMEM;
    return 1;
}

/* -------------------------------------------- live blocks: a hash set */

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t *slots; /* open addressing, linear probing, 0 = empty */
static size_t nslots, nlive;

static size_t slot_of(uintptr_t p)
{
    uint64_t h = (uint64_t)p * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (nslots - 1);
}

static void put_locked(uintptr_t p)
{
    size_t i = slot_of(p);
    while (slots[i])
        i = (i + 1) & (nslots - 1);
    slots[i] = p;
}

static void track(void *p)
{
    if (!p || !atomic_load_explicit(&armed, memory_order_relaxed))
        return;
    pthread_mutex_lock(&live_mu);
    if ((nlive + 1) * 2 > nslots) {
        size_t old = nslots;
        uintptr_t *was = slots;
        nslots = old ? old * 2 : 1 << 12;
        slots = __real_calloc(nslots, sizeof *slots);
        if (!slots)
            abort(); /* the test cannot go on without its table */
        for (size_t i = 0; i < old; i++)
            if (was[i])
                put_locked(was[i]);
        __real_free(was);
    }
    put_locked((uintptr_t)p);
    nlive++;
    pthread_mutex_unlock(&live_mu);
}

/* Forget p; 1 when it was tracked (deletion by backward shift). */
static int untrack(void *p)
{
    int found = 0;
    if (!p)
        return 0;
    pthread_mutex_lock(&live_mu);
    if (nslots) {
        size_t i = slot_of((uintptr_t)p);
        while (slots[i] && slots[i] != (uintptr_t)p)
            i = (i + 1) & (nslots - 1);
        if (slots[i]) {
            found = 1;
            slots[i] = 0;
            nlive--;
            for (size_t j = (i + 1) & (nslots - 1); slots[j];
                 j = (j + 1) & (nslots - 1)) {
                size_t home = slot_of(slots[j]);
                /* slots[j] may move to the hole i unless its home lies
                   cyclically in (i, j]. */
                if ((j > i && (home <= i || home > j)) ||
                    (j < i && home <= i && home > j)) {
                    slots[i] = slots[j];
                    slots[j] = 0;
                    i = j;
                }
            }
        }
    }
    pthread_mutex_unlock(&live_mu);
    return found;
}

/* ------------------------------------------------------------ the API */

static void *json_alloc(size_t n) { return __wrap_malloc(n); }
static void json_release(void *p) { __wrap_free(p); }

void oom_install(void) { json_set_alloc_funcs(json_alloc, json_release); }

void oom_arm(unsigned long n)
{
    pthread_mutex_lock(&live_mu);
    if (nslots)
        memset(slots, 0, nslots * sizeof *slots);
    nlive = 0;
    pthread_mutex_unlock(&live_mu);
    atomic_store(&calls, 0);
    atomic_store(&failed, 0);
    atomic_store(&fail_at, n);
    atomic_store(&armed, 1);
}

unsigned long oom_disarm(void)
{
    atomic_store(&armed, 0);
    return atomic_load(&calls);
}

int oom_failed(void) { return atomic_load(&failed); }

size_t oom_live(void)
{
    pthread_mutex_lock(&live_mu);
    size_t n = nlive;
    pthread_mutex_unlock(&live_mu);
    return n;
}

void oom_short_io(int on) { atomic_store(&short_io, on); }

/* ----------------------------------------------------------- allocators */

void *__wrap_malloc(size_t n)
{
    if (take())
        return NULL;
    void *p = __real_malloc(n);
    track(p);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (take())
        return NULL;
    void *p = __real_calloc(n, size);
    track(p);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    if (n && take())
        return NULL;
    void *q = __real_realloc(p, n);
    if (q || !n) {
        /* A tracked block stays tracked under its new address; an older
           one stays untracked. */
        int was = untrack(p);
        if (q && (was || !p))
            track(q);
    }
    return q;
}

void __wrap_free(void *p)
{
    untrack(p);
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = __wrap_malloc(n);
    return p ? memcpy(p, s, n) : NULL;
}

char *__wrap_strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = __wrap_malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ----------------------------------- library calls that allocate inside */

FILE *__wrap_fopen(const char *path, const char *mode)
{
    return take() ? NULL : __real_fopen(path, mode);
}

DIR *__wrap_opendir(const char *path)
{
    return take() ? NULL : __real_opendir(path);
}

/* getline allocates at least when it has no buffer yet; later calls grow it
   only for a longer line, which the hook cannot know, so they pass. */
ssize_t __wrap_getline(char **line, size_t *cap, FILE *f)
{
    if (!*line && take())
        return -1;
    return __real_getline(line, cap, f);
}

char *__wrap_realpath(const char *path, char *resolved)
{
    if (!resolved && take())
        return NULL;
    return __real_realpath(path, resolved);
}

int __wrap_inflateInit2_(z_streamp strm, int bits, const char *version,
                         int size)
{
    return take() ? Z_MEM_ERROR : __real_inflateInit2_(strm, bits, version, size);
}

ZSTD_DCtx *__wrap_ZSTD_createDCtx(void)
{
    return take() ? NULL : __real_ZSTD_createDCtx();
}

/* ---------------------------------------------------- short, interrupted */

/* How many of n bytes this call moves: 0 = interrupted. */
static size_t io_quota(size_t n)
{
    if (!atomic_load_explicit(&short_io, memory_order_relaxed) || !n)
        return n;
    unsigned long k = atomic_fetch_add(&io_calls, 1);
    if (k % 2 == 0)
        return 0;
    size_t q = 1 + (k / 2) % 8 * (n / 8); /* 1 byte to 7/8 of n */
    return q < n ? q : n;
}

ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    size_t q = io_quota(n);
    if (!q && n) {
        errno = EINTR;
        return -1;
    }
    return __real_read(fd, buf, q);
}

ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off)
{
    size_t q = io_quota(n);
    if (!q && n) {
        errno = EINTR;
        return -1;
    }
    return __real_pread(fd, buf, q, off);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    size_t q = io_quota(n);
    if (!q && n) {
        errno = EINTR;
        return -1;
    }
    return __real_pwrite(fd, buf, q, off);
}

/* ------------------------------------------------- the command's set-up */

static const char *count_file;

__attribute__((constructor)) static void from_environment(void)
{
    const char *fail = getenv("ND_FAIL_ALLOC");
    count_file = getenv("ND_COUNT_ALLOC");
    const char *sio = getenv("ND_SHORT_IO");
    const char *tr = getenv("ND_FAIL_TRACE");
    trace = tr && *tr == '1';
    if (sio && *sio == '1')
        oom_short_io(1);
    if (fail || count_file) {
        oom_install();
        oom_arm(fail ? strtoul(fail, NULL, 10) : 0);
    }
}

__attribute__((destructor)) static void report(void)
{
    if (!count_file)
        return;
    unsigned long n = atomic_load(&calls);
    FILE *f = __real_fopen(count_file, "w");
    if (f) {
        fprintf(f, "%lu\n", n);
        fclose(f);
    }
}
