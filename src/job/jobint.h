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
 * A run shared among processes (src/mpi/): each process adds the
 * documents of its own part of the input, the parts in process order
 * making up the input, and sketches them.  At the start of nd_batch_run,
 * gather(ctx, b, msg, cap) is called once: the process that goes on grows
 * its batch to every document (nd__batch_grow_to) and puts the others'
 * state in (nd__batch_doc_put, nd__batch_doc_set_put) and returns ND_OK;
 * any other code makes nd_batch_run fail with it (msg, NUL-terminated, is
 * the detail).
 */
typedef int (*nd__gather_fn)(void *ctx, nd_batch *b, char *msg, size_t cap);
void nd__batch_share(nd_batch *b, unsigned rank, unsigned nprocs,
                     nd__gather_fn gather, void *ctx);
int nd__batch_grow_to(nd_batch *b, size_t n);
/* Bytes of one document's state: signature, set sizes, figures, and the
   text length, short-text flag and meta where the params keep them (the
   same for equal params). */
size_t nd__batch_doc_bytes(const nd_batch *b);
/* Copy out, or in, the state of document doc < nd_batch_size. */
void nd__batch_doc_get(const nd_batch *b, size_t doc, unsigned char *out);
void nd__batch_doc_put(nd_batch *b, size_t doc, const unsigned char *in);
/* The exact shingle set of document doc (*m elements; NULL, 0 without
   params.exact), and a copy of one put in (ND_OK or ND_ERR_NOMEM). */
const uint64_t *nd__batch_doc_set(const nd_batch *b, size_t doc, size_t *m);
int nd__batch_doc_set_put(nd_batch *b, size_t doc, const uint64_t *set, size_t m);
/*
 * Candidates and verification shared too (src/mpi/).  Each process takes
 * the band keys of its documents: nd__batch_bands bands (the first *main
 * the main ones, then the containment bands), the 32-bit keys of
 * documents [0, n) in one (key[d]: lsh.h nd__lsh_key16), whether a
 * document takes part (0; 1 an empty text, 2 a
 * short one: neither has candidates) and its set size (which containment
 * bands pair by).  nd__batch_verify verifies pairs[0..m) (a << 32 | b,
 * documents of b) as nd_batch_run does: e[i] is the pair scored, kind[i]
 * ND__V_MATCH, ND__V_NO or the rule that refused it, with ND__V_PART set
 * when the attach clustering reads it as holding part of the other.
 * Then the process that goes on gives the batch, from gather, the
 * verified pairs of all (global document numbers; edges and part
 * malloc'ed, which the batch takes, as it takes g, which must outlive
 * nd_batch_run) and the counters of candidates and verification; its
 * batch then holds, at their numbers, the state of every document the
 * pairs name, and nd_batch_run clusters them.
 */
enum { ND__V_NO = 0, ND__V_MATCH = 1, ND__V_FIGURES = 2, ND__V_WINDOW = 3, ND__V_PART = 4 };
typedef struct {
    nd_edge *edges, *part;
    size_t nedges, npart;
    uint64_t candidates, capped, figures_refused, window_refused, short_docs;
    double seconds_lsh, seconds_verify;
    /* Clustered elsewhere (each connected component on one process):
       with clustered set, edges and part are NULL, nd_batch_run clusters
       nothing and reports these counters, and the batch holds no clusters
       (nd_batch_cluster and nd_batch_rep give UINT32_MAX). */
    int clustered;
    uint64_t all_edges, clusters, guard_rejected;
    double seconds_cluster;
} nd__batch_given;
unsigned nd__batch_bands(const nd_batch *b, unsigned *main);
void nd__batch_band_keys(const nd_batch *b, unsigned band, size_t n, uint32_t *key);
int nd__batch_skipped(const nd_batch *b, size_t doc);
uint32_t nd__batch_set_size(const nd_batch *b, size_t doc);
void nd__batch_verify(const nd_batch *b, const uint64_t *pairs, size_t m, nd_edge *e,
                      uint8_t *kind);
void nd__batch_give(nd_batch *b, nd__batch_given *g);
/* An empty batch of b's params (ND_OK, ND_ERR_NOMEM): the process that
   owns connected components grows it (nd__batch_grow_to), puts their
   documents' state in, gives it their pairs and runs it, the clustering
   of one process on them. */
int nd__batch_sibling(const nd_batch *b, nd_batch **out);

/* The text counters of the texts this process sketched (the count pass
   left out); and counters of texts sketched elsewhere, added to those
   nd_batch_stats_get reports. */
void nd__batch_sketched_stats(const nd_batch *b, nd_text_stats *s);
void nd__batch_add_stats(nd_batch *b, const nd_text_stats *s);

/*
 * The count pass of a shared run (nd_batch_count, boilerplate > 0): a
 * process counts the texts of its part, ordinals [first, ...) of the total
 * all count, sampled by those ordinals as one process counting every text
 * samples them, and keeps its counters one sampling level at a time
 * instead of halving them.  Before the first add (or at nd_batch_run, when
 * it has none), the processes sum each level (sum32), and each applies the
 * halvings to the sums in order, as that one process would: halving is
 * not linear, the sum of halved counters is not the halved sum.  Then
 * each works out which ordinals that process would hold in chrome.c's
 * sample, the holders send them (gather), and each groups the same
 * sample: the counts every process filters with are a single process's,
 * exactly.  Both calls are collective: every process makes them, in the
 * same order.
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
/* Share the count pass (before the first nd_batch_count); comm is not
   copied and must outlive the count pass.  ND_OK or ND_ERR_NOMEM. */
int nd__batch_share_count(nd_batch *b, const nd__count_comm *comm, uint64_t first,
                          uint64_t total);

/*
 * A job of a shared run (src/mpi/), set before nd_job_run: it reads
 * pieces (not copied; they must outlive the run) in place of opts.paths,
 * and its records are documents first, first + 1, ... of all: the
 * ordinals its count pass samples by (with nd__batch_share_count on its
 * batch).
 */
void nd__job_pieces(nd_job *j, const nd__piece *pieces, size_t n);
void nd__job_count_from(nd_job *j, uint64_t first);
/* Report a warning through the job's on_warning (one that another
   process met). */
void nd__job_warn(nd_job *j, const nd_job_warning *w);
/*
 * A job's record counters and TSV header and, with docs, what the rows
 * need of its documents (ids; raw records for dedup; texts and meta for
 * explain), as a byte stream: export hands it to put in order, after the
 * job has read all; import, on another job of the same options, reads it
 * with get, adds the counters and, with docs, appends those documents
 * after its own.  put and get return ND_OK or an error code, which the
 * call returns.
 */
typedef int (*nd__put_fn)(void *ctx, const void *p, size_t n);
typedef int (*nd__get_fn)(void *ctx, void *p, size_t n);
int nd__job_export(nd_job *j, int docs, nd__put_fn put, void *ctx);
int nd__job_import(nd_job *j, int docs, nd__get_fn get, void *ctx);

/*
 * The rows of cluster and dedup in a shared run, each process writing its
 * own documents'.  The process that clustered sets rows_by before
 * nd_job_run: after the batch has run, fn(ctx, j) is called in place of
 * writing every row (pairs too: nd__job_write_pairs below), and its code
 * is the run's.  Each process
 * then calls write_given with given[d] for its d-th document (of
 * nd__job_docs, numbered first, first + 1, ... of all): the rows, as
 * nd_job_run's, go to on_row (non-zero stops it: ND_ERR_STATE), the
 * header (hlen bytes, dedup) before the row flagged ND__ROW_HEADER, and
 * are counted in the job's stats; add_rows counts rows written elsewhere.
 */
typedef struct {
    uint32_t cluster;
    uint32_t flags;
} nd__doc_row;
enum { ND__ROW_REP = 1, ND__ROW_HEADER = 2 };
typedef int (*nd__rows_fn)(void *ctx, nd_job *j);
void nd__job_rows_by(nd_job *j, nd__rows_fn fn, void *ctx);
size_t nd__job_docs(const nd_job *j);
/* The TSV header the rows start with (the first file's), *len 0 if none. */
const char *nd__job_header(const nd_job *j, size_t *len);
int nd__job_write_given(nd_job *j, const nd__doc_row *given, uint64_t first,
                        const char *header, size_t hlen,
                        int (*on_row)(void *ctx, const nd_job_row *row), void *ctx);
void nd__job_add_rows(nd_job *j, uint64_t rows);
/*
 * The rows of pairs in a shared run, each process writing those of the
 * pairs whose first document it owns.  export_docs puts what the rows
 * need of its documents docs[] (its own numbering from 0: the id, and the
 * text with its meta for explain) for the process that writes a pair of
 * them; import_docs appends n documents so put after its own.  Then
 * write_pairs hands the rows of e[0..ne) (global numbers, sorted by
 * (a, b); a among its own documents, numbered first, ..., first + own - 1,
 * b among them or others[0..nothers), sorted, the documents it imported
 * in that order) to on_row, counted in the job's stats; given, if not
 * NULL, the clusters of its own documents.
 */
int nd__job_export_docs(nd_job *j, const uint64_t *docs, size_t n, nd__put_fn put, void *ctx);
int nd__job_import_docs(nd_job *j, uint64_t n, nd__get_fn get, void *ctx);
int nd__job_write_pairs(nd_job *j, const nd_edge *e, size_t ne, uint64_t first, size_t own,
                        const uint64_t *others, size_t nothers, const nd__doc_row *given,
                        int (*on_row)(void *ctx, const nd_job_row *row), void *ctx);

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
