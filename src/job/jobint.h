/*
 * jobint.h - what job.c asks of batch.c beyond the public header
 * (internal).
 */
#ifndef ND_JOBINT_H
#define ND_JOBINT_H

#include <stdint.h>

#include "../neardup.h"
#include "../io/readerint.h"

/*
 * Progress of nd_batch_run: fn(ctx, phase, done, total) at the start and
 * end of ND_PHASE_CANDIDATES, ND_PHASE_VERIFY and ND_PHASE_CLUSTER, and
 * between their steps (bands, blocks of pairs); called on the thread that
 * called nd_batch_run.  fn NULL: none.
 */
typedef void (*nd__phase_fn)(void *ctx, nd_phase phase, uint64_t done,
                             uint64_t total);
void nd__batch_on_phase(nd_batch *b, nd__phase_fn fn, void *ctx);

/*
 * A run shared among processes (src/mpi/): every process adds the same
 * documents in the same order, but sketches only its share of them --
 * blocks of ND__SHARE_BLOCK documents by number, block i to process
 * i % nprocs (all of them with params.exact, whose shingle sets are not
 * exchanged) -- and keeps for the others only what it reads from the text
 * itself (length, word count, meta; under ND_NORM_STRICT_UTF8 every text
 * is still checked, so the first invalid one fails the same call).  At the
 * start of nd_batch_run, gather(ctx, b, msg, cap) is called once: it must
 * bring every document it wants compared into this batch with
 * nd__batch_doc_put and return ND_OK to go on, or any other code to make
 * nd_batch_run fail with it (msg, NUL-terminated, is the detail).
 */
#define ND__SHARE_BLOCK 4096
typedef int (*nd__gather_fn)(void *ctx, nd_batch *b, char *msg, size_t cap);
void nd__batch_share(nd_batch *b, unsigned rank, unsigned nprocs,
                     nd__gather_fn gather, void *ctx);
/* 1 when this process sketches document doc (or would, once added). */
int nd__batch_sketches(const nd_batch *b, size_t doc);
/* Bytes of one document's sketched state (the same for equal params). */
size_t nd__batch_doc_bytes(const nd_batch *b);
/* Copy out, or in, the sketched state of document doc < nd_batch_size. */
void nd__batch_doc_get(const nd_batch *b, size_t doc, unsigned char *out);
void nd__batch_doc_put(nd_batch *b, size_t doc, const unsigned char *in);
/*
 * A shared run where each process reads a part of the input (src/mpi/):
 * after nd__batch_share, every process adds the documents of its own part
 * only and sketches all of them; the one that runs grows its batch to
 * every document (nd__batch_grow_to) in its gather and puts the others'
 * state in, which then also carries the text lengths, short-text flags
 * and meta, and with params.exact the shingle sets (nd__batch_doc_set).
 */
void nd__batch_share_range(nd_batch *b);
int nd__batch_grow_to(nd_batch *b, size_t n);
/* The exact shingle set of document doc (*m elements; NULL, 0 without
   params.exact), and a copy of one put in (ND_OK or ND_ERR_NOMEM). */
const uint64_t *nd__batch_doc_set(const nd_batch *b, size_t doc, size_t *m);
int nd__batch_doc_set_put(nd_batch *b, size_t doc, const uint64_t *set, size_t m);
/* The text counters of the texts this process sketched (the count pass
   left out); and counters of texts sketched elsewhere, added to those
   nd_batch_stats_get reports. */
void nd__batch_sketched_stats(const nd_batch *b, nd_text_stats *s);
void nd__batch_add_stats(nd_batch *b, const nd_text_stats *s);

/*
 * The count pass of a shared run (nd_batch_count, boilerplate > 0): every
 * process still passes every text, but shingles only the sampled texts of
 * its own blocks (nd__batch_counts: the blocks of nd__batch_share), and
 * keeps its counters one sampling level at a time instead of halving them.
 * Before the first add, the processes sum each level (sum32), and each
 * applies the halvings to the sums in order as one process counting all
 * texts would: halving is not linear, the sum of halved counters is not
 * the halved sum.  The held sample of chrome.c is exchanged whole
 * (gather) and rebuilt from the ordinals one process would hold, so the
 * counts every process filters with are a single process's, exactly.
 * Both calls are collective: every process makes them, in the same order.
 */
typedef struct {
    void *ctx;
    /* Sum v[0..n) element by element over the processes, in place on
       each; ND_OK or an error code. */
    int (*sum32)(void *ctx, uint32_t *v, size_t n);
    /* The n bytes at p of every process, concatenated in process order,
       into *all (malloc'd, the caller frees) of *alln bytes. */
    int (*gather)(void *ctx, const void *p, size_t n, void **all, size_t *alln);
} nd__count_comm;
/* Share the count pass too (call after nd__batch_share, before the first
   nd_batch_count); comm is not copied and must outlive the count pass. */
void nd__batch_share_count(nd_batch *b, const nd__count_comm *comm);
/* 1 when this process shingles the text of ordinal ord if it is sampled. */
int nd__batch_counts(const nd_batch *b, uint64_t ord);
/* With nd__batch_share_range: this process's texts are ordinals
   [first, ...) of total counted by all (before the first nd_batch_count);
   ND_OK or ND_ERR_NOMEM. */
int nd__batch_count_from(nd_batch *b, uint64_t first, uint64_t total);

/*
 * A job of a shared run that reads part of the input (src/mpi/), set
 * before nd_job_run: it reads pieces (not copied; they must outlive the
 * run) in place of opts.paths, and its records are documents [first, ...)
 * of total, the ordinals its count pass samples by.
 */
void nd__job_pieces(nd_job *j, const nd__piece *pieces, size_t n);
int nd__job_count_from(nd_job *j, uint64_t first, uint64_t total);
/* Report a warning through the job's on_warning (one that another
   process met). */
void nd__job_warn(nd_job *j, const nd_job_warning *w);
/*
 * What the rows need of a job's documents (ids; raw records for dedup;
 * texts and meta for explain) and its record counters, as a byte stream:
 * export hands it to put in order, after the job has read all; import,
 * on another job of the same options, reads it with get and appends those
 * documents after its own.  put and get return ND_OK or an error code,
 * which the call returns.
 */
typedef int (*nd__put_fn)(void *ctx, const void *p, size_t n);
typedef int (*nd__get_fn)(void *ctx, void *p, size_t n);
int nd__job_export(nd_job *j, nd__put_fn put, void *ctx);
int nd__job_import(nd_job *j, nd__get_fn get, void *ctx);

/* The batch of a job, from nd_job_create on (NULL before). */
nd_batch *nd__job_batch_early(nd_job *j);

/*
 * Which texts nd_batch_count shingles: it counts a sample that depends on
 * the texts' ordinals alone.  Start from {0} and step once per text, in
 * order: 1 when the text of ordinal ord is in the sample, 0 when the call
 * does not read it (it may then be any text, even an empty one).
 */
typedef struct {
    uint64_t rate, sampled;
} nd__df_sched;
int nd__df_sched_step(nd__df_sched *s, uint64_t ord);
/* The state after stepping through ordinals [0, n). */
nd__df_sched nd__df_sched_at(uint64_t n);

#endif
