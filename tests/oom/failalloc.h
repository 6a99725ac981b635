/*
 * failalloc.h - fault injection for the tests (tests/oom/failalloc.c).
 *
 * A binary linked with failalloc.o and the Makefile's WRAP_LDFLAGS
 * (-Wl,--wrap=malloc and the rest) sends every allocation made by the
 * library's and its own objects through the hooks below; the shared
 * libraries neardup uses allocate as they always do, except jansson, whose
 * allocator oom_install() replaces.  Calls that allocate inside a shared
 * library (fopen, opendir, getline with no buffer yet, realpath,
 * inflateInit2, ZSTD_createDCtx) count as one allocation each and fail as
 * that function does when memory runs out.
 */
#ifndef ND_TEST_FAILALLOC_H
#define ND_TEST_FAILALLOC_H

#include <stddef.h>

/* Route jansson's allocations through the hooks (once, before use). */
void oom_install(void);

/* Count allocations from now on; the n-th (1-based) fails, once (0: none).
   Blocks allocated from now on are tracked until freed. */
void oom_arm(unsigned long n);
/* Stop failing and tracking; returns the allocations counted since
   oom_arm. */
unsigned long oom_disarm(void);
/* 1 when the armed failure has happened. */
int oom_failed(void);
/* Blocks allocated since oom_arm and not freed yet. */
size_t oom_live(void);

/* 1: read, pread and pwrite move less than asked (from one byte to seven
   eighths of it), and every other call is interrupted (EINTR) before it
   moves any. */
void oom_short_io(int on);

#endif
