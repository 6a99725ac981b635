/*
 * jobint.h - what job.c asks of batch.c beyond the public header
 * (internal).
 */
#ifndef ND_JOBINT_H
#define ND_JOBINT_H

#include <stdint.h>

#include "../neardup.h"

/*
 * Progress of nd_batch_run: fn(ctx, phase, done, total) at the start and
 * end of ND_PHASE_CANDIDATES, ND_PHASE_VERIFY and ND_PHASE_CLUSTER, and
 * between their steps (bands, blocks of pairs); called on the thread that
 * called nd_batch_run.  fn NULL: none.
 */
typedef void (*nd__phase_fn)(void *ctx, nd_phase phase, uint64_t done,
                             uint64_t total);
void nd__batch_on_phase(nd_batch *b, nd__phase_fn fn, void *ctx);

#endif
