/*
 * neardup.h - the one public header of libneardup.
 *
 * neardup finds exact and near-duplicate texts and groups them into clusters:
 *   normalize -> shingle -> MinHash sketch -> LSH bands -> verify -> cluster.
 * Everything a program may call is declared here; nothing else is API.
 *
 * Error model: functions that can fail return an int, 0 (ND_OK) or a negative
 * ND_ERR_* code; nd_strerror() names the code and the handle's *_errmsg()
 * holds the detail (file, line, field).  The library never prints, never
 * exits and never reads the environment.
 *
 * Thread safety: a handle is used by one thread at a time unless its section
 * says otherwise.  Functions without a handle are thread-safe.
 */
#ifndef NEARDUP_H
#define NEARDUP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(ND_BUILDING_LIBRARY) && defined(__GNUC__)
#define ND_API __attribute__((visibility("default")))
#else
#define ND_API
#endif

/* ---------------------------------------------------------------- version */

#define ND_VERSION_MAJOR 0
#define ND_VERSION_MINOR 1
#define ND_VERSION_PATCH 0
#define ND_VERSION_NUMBER \
    (ND_VERSION_MAJOR * 10000 + ND_VERSION_MINOR * 100 + ND_VERSION_PATCH)
#define ND__STR2(x) #x
#define ND__STR(x) ND__STR2(x)
#define ND_VERSION_STRING \
    ND__STR(ND_VERSION_MAJOR) "." ND__STR(ND_VERSION_MINOR) "." ND__STR(ND_VERSION_PATCH)

/* The version of the library actually linked, as ND_VERSION_NUMBER. */
ND_API unsigned nd_version_number(void);
ND_API const char *nd_version_string(void);

/* ----------------------------------------------------------------- errors */

enum {
    ND_OK = 0,
    ND_ERR_NOMEM = -1,    /* an allocation failed */
    ND_ERR_PARAM = -2,    /* a parameter is out of range or inconsistent */
    ND_ERR_IO = -3,       /* a file could not be opened, read or written,
                             or compressed input is truncated or corrupt */
    ND_ERR_DATA = -4,     /* a malformed input record (the reader can go on) */
    ND_ERR_UTF8 = -5,     /* invalid UTF-8 under ND_NORM_STRICT_UTF8 */
    ND_ERR_BINARY = -6,   /* a directory entry looks binary and was skipped */
    ND_ERR_STATE = -7,    /* the call does not fit the handle's state */
    ND_ERR_FORMAT = -8,   /* a file is not a neardup index, or of a newer
                             format version than this library reads */
    ND_ERR_MISMATCH = -9, /* an index was made with other parameters */
    ND_ERR_CORRUPT = -10, /* a stored index is truncated or damaged */
    ND_ERR_NOTFOUND = -11,/* no such document id, or no index at the path */
    ND_ERR_EXISTS = -12   /* a document with this id is already indexed */
};

/* A static English sentence for an ND_OK or ND_ERR_* code; never NULL. */
ND_API const char *nd_strerror(int code);

/* ------------------------------------------------------------- parameters */

typedef enum {
    ND_SHINGLE_WORD = 0,
    ND_SHINGLE_CHAR = 1,
    ND_SHINGLE_GLYPH = 2
} nd_shingle_kind;

typedef enum {
    ND_MEASURE_JACCARD = 0,     /* |A n B| / |A u B| */
    ND_MEASURE_CONTAINMENT = 1  /* |A n B| / min(|A|, |B|) */
} nd_measure;

typedef enum {
    ND_KEEP_FIRST = 0,    /* the member added first */
    ND_KEEP_LONGEST = 1,  /* the longest text; ties to the first */
    ND_KEEP_EARLIEST = 2, /* the smallest time (nd_doc_meta); ties to the first */
    ND_KEEP_SOURCE = 3    /* the smallest priority (nd_doc_meta), e.g. the
                             wire agency before its reprints; ties to the
                             smallest time, then to the first */
} nd_keep;

/*
 * How a signature is computed (nd_params.sketch).  Signatures made with
 * different schemes cannot be compared.
 */
typedef enum {
    ND_SKETCH_KPERM = 0,    /* k independent permutations: classic MinHash */
    ND_SKETCH_OPH = 1,      /* one permutation hashing into k bins with
                               optimal densification (Shrivastava 2017) */
    ND_SKETCH_CMINHASH = 2  /* one permutation and k circulant shifts
                               (after Li and Li 2021, C-MinHash) */
} nd_sketch_algo;

/* How verified pairs become clusters. */
typedef enum {
    ND_CLUSTER_COMPONENTS = 0, /* connected components of the pairs */
    ND_CLUSTER_GUARDED = 1,    /* pairs strongest first; two clusters join only
                                  when their centers (fullest members) match:
                                  no chaining through bridging documents */
    ND_CLUSTER_ATTACH = 2      /* pairs over the Jaccard threshold make cores;
                                  a text matched by containment alone joins
                                  the one family it is part of, and nothing
                                  joins through a page holding texts of
                                  unrelated families (digests, galleries,
                                  fillers) */
} nd_cluster_method;

/* Normalization flags (nd_params.norm). */
#define ND_NORM_STRICT_UTF8 0x1u /* invalid UTF-8 is ND_ERR_UTF8, not U+FFFD */

/*
 * Settings of a sketcher, a batch or an index.  Fill with nd_params_init(),
 * then change fields.  The struct may grow in a minor version (rebuild then).
 */
typedef struct nd_params {
    nd_shingle_kind shingle; /* word or character n-grams */
    unsigned ngram;          /* n of the n-grams, 1..64 */
    unsigned num_perm;       /* k, values per signature, 1..4096 */
    uint64_t seed;           /* seeds the shingle hash and the permutations */
    double threshold;        /* similarity at or above which two texts match */
    nd_measure measure;      /* what threshold applies to */
    unsigned bands, rows;    /* LSH layout; 0 and 0 = derived from threshold */
    unsigned norm;           /* ND_NORM_* flags */
    int exact;               /* 1: keep shingle sets, verify by exact scores */
    nd_keep keep;            /* which member represents a cluster */
    unsigned threads;        /* 0 = all cores */
    nd_sketch_algo sketch;   /* signature scheme */
    double containment;      /* with measure jaccard: also match when the
                                containment of the smaller text in the larger
                                is >= this (0: off), so shortened reprints
                                match; the LSH layout then aims lower */
    nd_cluster_method cluster; /* how pairs become clusters */
    double figures;          /* figure check: a pair of texts that both state
                                1 to 16 figures (numbers such as 1,250.5;
                                years, times of day and days of the month
                                are not figures) does not match when, of the
                                figures in contexts both texts have, two
                                conflict (or one and none agrees) and fewer
                                than this fraction agree (0: off); tells
                                apart reports made from one template */
    double boilerplate;      /* batch: shingles held by more than this
                                fraction of the documents counted with
                                nd_batch_count (and by at least
                                boilerplate_min of them) do not count toward
                                similarity (0: off) */
    unsigned boilerplate_min;
    double window;           /* batch: two documents whose times (nd_doc_meta,
                                both known) are more than this many seconds
                                apart never match (0: off); a story repeated
                                a year later is then a new story */
    uint64_t memory;         /* batch: bytes candidate generation may hold
                                beyond the stored signatures (0: no limit);
                                what does not fit is sorted into runs in a
                                temporary file and merged back, with the
                                same results.  A floor of a few KB a buffer
                                applies however low the value */
    const char *tmpdir;      /* batch: folder of that temporary file, and
                                job: of its spools (NULL: /tmp); not copied:
                                it must stay valid until nd_batch_run (the
                                job: nd_job_free) returns.  Each file is
                                unlinked as soon as it is made */
    unsigned min_words;      /* batch: a text of fewer words (runs of bytes
                                other than space, tab, CR, LF, VT, FF) is
                                its own cluster, never a candidate (0: off) */
} nd_params;

/* The measured defaults. */
ND_API void nd_params_init(nd_params *p);

/*
 * ND_OK when every field is in range; otherwise ND_ERR_PARAM and, when msg is
 * not NULL, a sentence naming the field in msg (at most cap bytes, with NUL).
 */
ND_API int nd_params_check(const nd_params *p, char *msg, size_t cap);

/*
 * The LSH layout for p: p->bands and p->rows when both are set, otherwise the
 * b x r (b * r <= num_perm) that minimises the false-positive plus
 * false-negative area of the S-curve 1 - (1 - s^r)^b around the Jaccard
 * target: the threshold, or for a containment c (measure containment, or
 * the containment field) the Jaccard c/(3 - c) of a text of half the length
 * of the other that is contained to the degree c, whichever is lower.
 */
ND_API void nd_params_lsh(const nd_params *p, unsigned *bands, unsigned *rows);

/* ------------------------------------------------------------- sketching */

/*
 * A sketcher turns one text into a signature of num_perm uint32 values plus
 * the size of its shingle set.  It owns scratch buffers: one per thread.
 * Signatures of equal texts under equal parameters are equal on every
 * machine and every code path.
 */
typedef struct nd_sketcher nd_sketcher;

/* Stats of the texts a sketcher has seen. */
typedef struct nd_text_stats {
    uint64_t docs;          /* texts sketched */
    uint64_t empty;         /* texts with no token after normalization */
    uint64_t bad_utf8;      /* texts that held invalid UTF-8 (repaired) */
    uint64_t bytes;         /* input bytes */
    uint64_t suppressed;    /* shingles dropped as boilerplate (occurrences) */
    uint64_t suppressed_docs; /* texts that lost at least one */
} nd_text_stats;

ND_API int nd_sketcher_create(const nd_params *p, nd_sketcher **out);
ND_API void nd_sketcher_free(nd_sketcher *s);

/*
 * Sketch text[0..len) into sig[0..num_perm) (caller-owned) and *set_size
 * (may be NULL).  An empty shingle set gives set_size 0 and all values
 * UINT32_MAX.  Returns ND_OK, or ND_ERR_UTF8 under ND_NORM_STRICT_UTF8.
 * neardup never keeps the text pointer.
 */
ND_API int nd_sketcher_sketch(nd_sketcher *s, const char *text, size_t len,
                              uint32_t *sig, uint64_t *set_size);
ND_API void nd_sketcher_stats(const nd_sketcher *s, nd_text_stats *st);

/*
 * The shingle set of text[0..len): *set points to *n hashes, sorted and
 * unique, owned by the sketcher and valid until its next call.  For exact
 * scores (brute-force references, --exact).  Same errors as sketching.
 */
ND_API int nd_sketcher_shingles(nd_sketcher *s, const char *text, size_t len,
                                const uint64_t **set, size_t *n);

/*
 * The normalized form of text[0..len) that shingles are made from: its
 * tokens joined by single spaces.  *out points to *out_len bytes (and a
 * NUL), owned by the sketcher and valid until its next call.  Same errors
 * as sketching.
 */
ND_API int nd_sketcher_normalize(nd_sketcher *s, const char *text, size_t len,
                                 const char **out, size_t *out_len);

/*
 * The Jaccard similarity two signatures estimate: equal values over the
 * values not marked copied (bit 15) in both; 0 when every one is.
 */
ND_API double nd_sig_jaccard(const uint32_t *a, const uint32_t *b, unsigned k);

/*
 * Exact scores of two shingle sets (sorted, unique, as nd_sketcher_shingles
 * gives them): Jaccard |A n B| / |A u B| and the containment of the smaller
 * in the larger, |A n B| / min(|A|, |B|); both 0 when a set is empty.
 */
ND_API void nd_exact_scores(const uint64_t *a, size_t na, const uint64_t *b,
                            size_t nb, double *jaccard, double *containment);

/*
 * Containment of A in B, |A n B| / |A|, from an estimated Jaccard j and the
 * two set sizes: j (|A| + |B|) / ((1 + j) |A|), clamped to [0, 1].
 */
ND_API double nd_containment(double j, uint64_t size_a, uint64_t size_b);

/* ------------------------------------------------------------------ batch */

/*
 * A batch clusters a fixed collection: add every text, run once, then read
 * clusters and edges.  Texts are sketched as they are added and not kept
 * (unless params.exact), so memory grows with the number of documents, not
 * with their size.  Documents are numbered 0, 1, ... in the order added.
 * A batch owns everything it returns; results live until nd_batch_free.
 */
typedef struct nd_batch nd_batch;

/* Optional per-document facts for keep policies. */
typedef struct nd_doc_meta {
    int64_t time;   /* e.g. seconds since the epoch; used by ND_KEEP_EARLIEST */
    int has_time;   /* 0: time unknown (sorts after every known time) */
    int32_t priority; /* smaller is preferred; used by ND_KEEP_SOURCE */
    int has_priority; /* 0: no priority (sorts after every known one) */
} nd_doc_meta;

/* A verified pair of documents, a < b. */
typedef struct nd_edge {
    uint32_t a, b;
    float jaccard;      /* estimated, or exact when params.exact */
    float containment;  /* of the smaller set in the larger */
} nd_edge;

/* Counters of a run, for --stats and the benchmark. */
typedef struct nd_batch_stats {
    nd_text_stats text;
    uint64_t candidates;     /* distinct candidate pairs from LSH */
    uint64_t edges;          /* pairs that passed verification */
    uint64_t clusters;       /* clusters, singletons included */
    uint64_t capped_buckets; /* LSH buckets too large to pair in full */
    unsigned bands, rows;    /* the LSH layout used */
    double seconds_sketch;   /* wall time in nd_batch_add* */
    double seconds_lsh;      /* candidate generation */
    double seconds_verify;   /* verification */
    double seconds_cluster;  /* union-find and representatives */
    uint64_t guard_rejected; /* ND_CLUSTER_GUARDED: pairs the chaining
                                guard refused to join; ND_CLUSTER_ATTACH:
                                containment joins the attach rules refused
                                (a stub, a container holding other
                                families, a core that mostly lacks the text) */
    uint64_t boilerplate_cutoff; /* documents above which a shingle is
                                    boilerplate (0: no suppression) */
    uint64_t spill_runs;     /* sorted runs of candidates written to the
                                temporary file under params.memory */
    uint64_t spill_bytes;    /* and their bytes */
    unsigned contain_bands, contain_rows; /* the containment bands after the
                                main ones (0 and 0: none) */
    uint64_t figures_refused; /* candidate pairs that met the match rule
                                 but whose figures told them apart */
    uint64_t window_refused;  /* and those further apart in time than
                                 params.window */
    uint64_t short_docs;      /* texts under params.min_words words */
} nd_batch_stats;

ND_API int nd_batch_create(const nd_params *p, nd_batch **out);
ND_API void nd_batch_free(nd_batch *b);

/*
 * Add n texts at once (sketched in parallel).  meta may be NULL.  On
 * ND_ERR_UTF8 (strict mode) nothing is added and *bad (if not NULL) is the
 * index of the first offending text.
 */
ND_API int nd_batch_add_many(nd_batch *b, size_t n, const char *const *texts,
                             const size_t *lens, const nd_doc_meta *meta,
                             size_t *bad);
ND_API int nd_batch_add(nd_batch *b, const char *text, size_t len,
                        const nd_doc_meta *meta);

/*
 * Boilerplate suppression, first pass: count the document frequency of the
 * shingles of n texts (in parallel).  Call it for every text, in any chunks
 * (the counts are the same for any chunking), before the first
 * nd_batch_add*; then add the same texts.  Only with params.boilerplate > 0
 * (else ND_ERR_STATE).  On ND_ERR_UTF8 (strict mode) nothing is counted and
 * *bad (if not NULL) is the index of the first offending text.
 */
ND_API int nd_batch_count(nd_batch *b, size_t n, const char *const *texts,
                          const size_t *lens, size_t *bad);

/*
 * Find candidates, verify them and cluster.  Once per batch.  Errors:
 * ND_ERR_NOMEM, ND_ERR_IO (the temporary file of params.memory could not be
 * made, written or read: the detail names its folder and the cause).
 */
ND_API int nd_batch_run(nd_batch *b);

ND_API size_t nd_batch_size(const nd_batch *b);
/* Cluster number of a document: 0, 1, ... in order of first member. */
ND_API uint32_t nd_batch_cluster(const nd_batch *b, size_t doc);
/* The representative document of a document's cluster. */
ND_API uint32_t nd_batch_rep(const nd_batch *b, size_t doc);
/* The verified pairs, sorted by (a, b); *n receives their number. */
ND_API const nd_edge *nd_batch_edges(const nd_batch *b, size_t *n);
ND_API void nd_batch_stats_get(const nd_batch *b, nd_batch_stats *st);
/* Detail of the last error, never NULL. */
ND_API const char *nd_batch_errmsg(const nd_batch *b);

/* ------------------------------------------------------ incremental index */

/*
 * An index answers, for each incoming text, "have I seen this before, and
 * which one?".  It keeps per document its id, a time, the signature, the
 * shingle-set size and the figures it states -- never the text.  A match is
 * a candidate from the LSH bands (nd_params_lsh) whose estimated Jaccard is
 * >= params.threshold (ND_MEASURE_JACCARD) or whose containment -- of the
 * query in the document or of the document in the query, whichever is
 * larger, from nd_containment with the stored set sizes -- is >=
 * params.threshold (ND_MEASURE_CONTAINMENT), and whose figures agree
 * (params.figures, as in a batch).  A text with an empty shingle set is
 * stored but never matches, nor is matched.  params.exact, keep, threads,
 * cluster and window are ignored.
 *
 * Boilerplate (params.boilerplate > 0): the index counts the document
 * frequency of shingles as documents come and go (over a sample of them
 * once more than 16,384 are counted); a text is sketched -- for a query or
 * an add -- without the shingles held by more than params.boilerplate of
 * the documents indexed (and by at least params.boilerplate_min of them).
 * A stored signature keeps what was boilerplate when it was added, so a
 * footer is ignored only once it is frequent: the first documents that
 * share it may match one another, as they would not in a batch.
 *
 * An index lives in memory (nd_index_create) or in a directory
 * (nd_index_open).  A directory holds a snapshot (index.nds), a write-ahead
 * log (index.wal) and a lock file; it is read on open in time proportional
 * to its size, never rebuilt from texts.  Writes are appended to the log.
 * Promise, by level: a write (add, remove, evict) that returned ND_OK was
 * written to the log with write(2) -- with ND_INDEX_BUFFERED, once a later
 * nd_index_flush or nd_index_sync returned ND_OK -- and survives the death
 * of the process (kill -9) at any moment; one made before a successful
 * nd_index_sync, which fdatasyncs the log, survives power loss too.  After
 * such a crash the directory opens and holds those documents (it may hold
 * later ones too); a log record torn by the crash is dropped on open.  Any
 * other damage -- a record that fails its checksum with complete records
 * after it, a missing log, a snapshot or log that is not a regular file --
 * fails the open with ND_ERR_CORRUPT or ND_ERR_FORMAT naming the file (and
 * the offset) and changes nothing on disk.
 * Sync compacts the log into a new snapshot when removed documents and log
 * records make the directory more than a quarter larger than a fresh
 * snapshot; the snapshot takes about num_perm * 4 + 25 + id length bytes per
 * document, plus 4 per figure of a text stating 1 to 16, plus about 2 per
 * shingle of each document in the frequency sample.  One process at a time
 * opens a directory for writing.
 *
 * Thread safety: every function but nd_index_close may be called from any
 * number of threads at once on one index.  Queries (nd_index_query*,
 * nd_index_get, nd_index_stats_get) run in parallel with each other and
 * wait only for the short in-memory step of a write; writes (add, remove,
 * evict, sync, save) are serialized.  Sketching happens outside any lock.
 *
 * Ownership: the index copies ids and never keeps the text pointers.  The
 * ids in returned matches are owned by the index: they stay valid through
 * later adds and syncs, and until the matched document is removed or evicted
 * by any thread, or the index is closed.
 */
typedef struct nd_index nd_index;

#define ND_INDEX_READONLY 0x1 /* open for queries only; writes: ND_ERR_STATE */
#define ND_INDEX_CREATE 0x2   /* make the directory when it holds no index */
#define ND_INDEX_BUFFERED 0x4 /* writes wait in memory (up to 1 MB of them)
                                 for nd_index_flush or nd_index_sync */

#define ND_INDEX_MAX_ID 65535 /* longest id in bytes */

typedef struct nd_match {
    const char *id;     /* the matched document's id (not NUL-terminated) */
    size_t id_len;
    double jaccard;     /* estimated from the signatures */
    double containment; /* the larger of the two directions */
    int64_t time;       /* the matched document's time */
} nd_match;

typedef struct nd_index_stats {
    uint64_t docs;          /* documents in the index */
    uint64_t removed;       /* removed or evicted, memory not yet reclaimed */
    uint64_t unsynced;      /* log records not yet made durable */
    int64_t time_min, time_max; /* of the documents; 0 and 0 when empty */
    unsigned num_perm, bands, rows;
    uint64_t disk_bytes;    /* snapshot + log on disk (0 in memory) */
    uint64_t memory_bytes;  /* heap held by the index */
    uint64_t generation;    /* snapshots written in the directory's life */
    uint64_t queries;       /* queries answered since create or open */
    uint64_t candidates;    /* LSH candidates verified by those queries */
    uint64_t df_docs;       /* documents whose shingles are counted, 1 in
                               df_rate of those indexed (0: boilerplate off) */
    uint64_t df_rate;
    uint64_t boilerplate_cutoff; /* documents above which a shingle is
                                    boilerplate now (0: off) */
} nd_index_stats;

/* A new, empty index in memory.  ND_ERR_PARAM when nd_params_check fails. */
ND_API int nd_index_create(const nd_params *p, nd_index **out);

/*
 * Open the index in directory path.  p NULL takes the stored parameters
 * (the nd_params_init defaults for a new index); otherwise they must equal
 * the stored ones (shingle, ngram, num_perm, seed, norm, threshold, measure,
 * containment, sketch, figures, boilerplate, boilerplate_min and the LSH
 * layout of nd_params_lsh), else ND_ERR_MISMATCH naming the field.  flags:
 * ND_INDEX_READONLY, ND_INDEX_CREATE, ND_INDEX_BUFFERED.  Errors: ND_ERR_NOTFOUND (no index and
 * no ND_INDEX_CREATE), ND_ERR_FORMAT (not an index, a newer format, or an
 * older one, which is not read: format 1 before figures and boilerplate,
 * 2 before the present word shingle hash, 3 before the copied-bin flag of
 * the signatures and the figures in context; rebuild such an index from
 * its texts),
 * ND_ERR_CORRUPT (truncated or damaged), ND_ERR_STATE (another process has
 * it open for writing), ND_ERR_IO, ND_ERR_NOMEM.  On error *out is still
 * set: a handle that serves only nd_index_errmsg and nd_index_close (or
 * NULL when even it could not be allocated; nd_index_errmsg(NULL) is
 * "out of memory").
 */
ND_API int nd_index_open(const char *path, const nd_params *p, int flags,
                         nd_index **out);

/*
 * Sketch text[0..len) and add it under id[0..id_len) (1..ND_INDEX_MAX_ID
 * bytes, any bytes) with a time (any unit; nd_index_evict_before compares
 * it).  ND_ERR_EXISTS when the id is already indexed (nothing changes; use
 * nd_index_remove first to replace), ND_ERR_UTF8 under ND_NORM_STRICT_UTF8,
 * ND_ERR_STATE on a read-only index, ND_ERR_IO when the log cannot be
 * written (nothing changes).  ND_OK: the document is in the log (above).
 */
ND_API int nd_index_add(nd_index *idx, const char *id, size_t id_len,
                        const char *text, size_t len, int64_t time);
/* The same with a signature of num_perm values made by nd_sketcher_sketch
 * under the index's parameters.  Such a document has no figures (it is
 * never refused for them) and is not counted in the shingle frequencies. */
ND_API int nd_index_add_sig(nd_index *idx, const char *id, size_t id_len,
                            const uint32_t *sig, uint64_t set_size,
                            int64_t time);

/*
 * The indexed documents that match text[0..len), best first: by jaccard,
 * then containment (both descending), then older first (time, then order of
 * addition).  At most cap are written to out; *n receives how many.
 */
ND_API int nd_index_query(nd_index *idx, const char *text, size_t len,
                          nd_match *out, size_t cap, size_t *n);
/* The same for a signature: no figure check, no boilerplate filter. */
ND_API int nd_index_query_sig(nd_index *idx, const uint32_t *sig,
                              uint64_t set_size, nd_match *out, size_t cap,
                              size_t *n);

/*
 * Query, then add, with one sketch and no write in between: the matches are
 * among the documents indexed before.  On ND_ERR_EXISTS nothing is added and
 * *n is 0.
 */
ND_API int nd_index_add_query(nd_index *idx, const char *id, size_t id_len,
                              const char *text, size_t len, int64_t time,
                              nd_match *out, size_t cap, size_t *n);

/* ND_OK and *time (may be NULL) when id is indexed, else ND_ERR_NOTFOUND. */
ND_API int nd_index_get(nd_index *idx, const char *id, size_t id_len,
                        int64_t *time);

/* Remove one document.  ND_ERR_NOTFOUND when the id is not indexed. */
ND_API int nd_index_remove(nd_index *idx, const char *id, size_t id_len);

/* Remove every document whose time is < time; *removed (may be NULL)
 * receives how many. */
ND_API int nd_index_evict_before(nd_index *idx, int64_t time, size_t *removed);

/*
 * Write every write so far to the log with write(2), without fdatasync:
 * they survive the death of the process.  Needed only under
 * ND_INDEX_BUFFERED (else each write was written before it returned).
 * ND_ERR_IO when the log cannot be written (the writes stay waiting).
 * ND_OK at once for an in-memory or read-only index.
 */
ND_API int nd_index_flush(nd_index *idx);

/*
 * Make every write so far durable (write the log, fdatasync), then compact
 * when due.  ND_OK at once for an in-memory or read-only index.
 */
ND_API int nd_index_sync(nd_index *idx);

/*
 * Write the whole index as a fresh snapshot into directory path (made if
 * missing; an index there is replaced), durably.  path NULL (or the index's
 * own directory) compacts the index in place.  The handle stays what it was:
 * an in-memory index stays in memory; open path to work on the copy.
 */
ND_API int nd_index_save(nd_index *idx, const char *path);

/* The parameters the index was made with. */
ND_API void nd_index_params(const nd_index *idx, nd_params *p);
ND_API void nd_index_stats_get(nd_index *idx, nd_index_stats *st);

/* Detail of the last failed open or write, never NULL.  Query errors leave
 * it unchanged. */
ND_API const char *nd_index_errmsg(const nd_index *idx);

/* Sync (errors are lost: call nd_index_sync first to see them), release the
 * directory and free everything.  NULL is a no-op. */
ND_API void nd_index_close(nd_index *idx);

/* ---------------------------------------------------------------- reading */

/*
 * A reader streams records from files, directories or stdin:
 *   JSONL   one JSON object per line, text and id taken from named fields;
 *   TSV     a header line naming the columns, then one record per line,
 *           values with \t \n \r \\ escapes;
 *   CSV     RFC 4180 with a header record, like TSV;
 *   TEXT    one document per line, the id "FILE:LINE";
 *   a directory: every regular file below it (sorted by path), one document
 *           each, the id its path relative to the directory.
 * gzip and zstd input (also on stdin) is recognised by its first bytes and
 * decompressed.  The path "-" is stdin.
 */
typedef enum {
    ND_FORMAT_AUTO = 0, /* by extension: .tsv, .csv, .txt, otherwise JSONL */
    ND_FORMAT_JSONL = 1,
    ND_FORMAT_TSV = 2,
    ND_FORMAT_TEXT = 3,
    ND_FORMAT_CSV = 4   /* RFC 4180: a header record names the columns, as
                           in TSV; quoted fields may hold commas, "" and
                           newlines (a record then spans lines) */
} nd_format;

typedef struct nd_reader_opts {
    nd_format format;
    const char *id_field;   /* default "id" */
    const char *text_field; /* default "text" */
    const char *time_field; /* NULL: no time; else RFC 3339 text or a number */
    const char *source_field; /* NULL: no source; else a string field
                                 (JSONL) or column (TSV) */
    uint64_t max_record_bytes; /* a longer record (line, directory entry) is
                                  ND_ERR_DATA, read past without being held
                                  whole; 0: ND_RECORD_MAX_DEFAULT */
} nd_reader_opts;

/* The default bound on one record: 64 MiB. */
#define ND_RECORD_MAX_DEFAULT ((uint64_t)64 << 20)

/*
 * One record.  Every pointer stays valid until the next nd_reader_next or
 * nd_reader_close and is owned by the reader.
 */
typedef struct nd_record {
    const char *id;    /* the id as JSON text, ready to print: a "string"
                          or a number exactly as written; a record without an
                          id gets the string "FILE:LINE" (file as given, "-"
                          for stdin; 1-based line), which no numeric id and no
                          other file's record can equal */
    size_t id_len;
    const char *text;  /* the decoded text (UTF-8 unless the input was not) */
    size_t text_len;
    const char *raw;   /* the record as it stood in the input, without its
                          '\n' (the '\r' of a CRLF line stays) */
    size_t raw_len;
    const char *file;  /* the path it came from ("-" for stdin) */
    uint64_t line;     /* 1-based line (1 for a directory entry) */
    nd_doc_meta meta;  /* time, when opts.time_field was given and present */
    const char *source; /* opts.source_field's value, or NULL when absent or
                           not a string */
    size_t source_len;
    int bad_utf8;       /* 1: a JSONL line held invalid UTF-8, read with
                           U+FFFD in place of each bad byte (raw as read) */
    const char *header; /* TSV: the header line of the record's file, as
                           read; NULL for other formats */
    size_t header_len;
} nd_record;

typedef struct nd_reader nd_reader;

/*
 * Open paths[0..n) in order; n == 0 reads stdin.  opts may be NULL.  Every
 * path is checked at once: on ND_ERR_IO *out is still a reader whose errmsg
 * names the file (close it); on ND_ERR_PARAM or ND_ERR_NOMEM *out is NULL.
 */
ND_API int nd_reader_open(const char *const *paths, size_t n,
                          const nd_reader_opts *opts, nd_reader **out);
/*
 * 1 and *rec filled: a record; 0: the end.  ND_ERR_DATA (a bad record,
 * detail names file and line) and ND_ERR_BINARY (a skipped file): the
 * caller may call again to go on.  ND_ERR_IO: reading stops.
 */
ND_API int nd_reader_next(nd_reader *r, nd_record *rec);
ND_API const char *nd_reader_errmsg(const nd_reader *r);
ND_API void nd_reader_close(nd_reader *r);

/* -------------------------------------------------------------------- job */

/*
 * A job is the batch run of `neardup cluster | dedup | pairs` as one call:
 * it reads the inputs through nd_reader, runs every stage below, and hands
 * each output row, each warning and the progress to callbacks.  Programs
 * that link libneardup get the same engine and the same output as the
 * command.
 *
 * The stages, each a public call, so that a driver of its own (another
 * reader, or a distributed run) can make them in the same order:
 *   count       nd_batch_count over every text, in any chunks (only with
 *               params.boilerplate > 0); the counts do not depend on the
 *               chunks.  The job reads files and directories twice (once
 *               to count, once to sketch); stdin is spooled to an unlinked
 *               temporary file in between.
 *   sketch      nd_batch_add_many over the same texts in the same order.
 *   candidates  \
 *   verify       > nd_batch_run
 *   cluster     /
 *   write       rows from nd_batch_cluster, nd_batch_rep, nd_batch_edges.
 * With more than one thread, the job reads and parses the next chunk of
 * records on a thread of its own while the library sketches the present
 * one; the callbacks are always called on the thread that called
 * nd_job_run, in input order, so what they receive does not depend on the
 * thread count.
 *
 * Every record read is accounted for: it is a document (numbered 0, 1, ...
 * in input order), or it is skipped with a warning (opts.skip_bad), or it
 * stops the job (ND_ERR_DATA, ND_ERR_UTF8) before any row is written.
 *
 * Ownership: nd_job_create copies opts, but not the strings it points to
 * (paths, the reader's field names, source_priority, params.tmpdir): they
 * must stay valid until nd_job_free.  Every pointer a callback receives is
 * valid only during that call.
 */
typedef struct nd_job nd_job;

typedef enum {
    ND_JOB_CLUSTER = 0, /* a row for every document: its cluster and
                           whether it represents it */
    ND_JOB_DEDUP = 1,   /* a row for every representative, with its
                           record as read */
    ND_JOB_PAIRS = 2    /* a row for every verified pair */
} nd_job_kind;

typedef enum {
    ND_PHASE_COUNT = 0,      /* first pass: boilerplate counts */
    ND_PHASE_SKETCH = 1,     /* second pass (the only one without
                                boilerplate): signatures */
    ND_PHASE_CANDIDATES = 2, /* LSH bands */
    ND_PHASE_VERIFY = 3,     /* candidate pairs scored */
    ND_PHASE_CLUSTER = 4,    /* pairs into clusters */
    ND_PHASE_WRITE = 5       /* rows handed to on_row */
} nd_phase;

/* The phase's name in lower case ("count", "sketch", ...); never NULL. */
ND_API const char *nd_phase_name(nd_phase phase);

typedef struct nd_progress {
    nd_phase phase;
    uint64_t done, total; /* work of the phase: count and sketch, input
                             bytes (total 0 while unknown: stdin, a FIFO,
                             a directory); candidates, bands; verify,
                             candidate pairs (total 0 until the end);
                             cluster, pairs; write, rows.  The phase's last
                             report has done == total */
    uint64_t docs;        /* documents read so far */
    double seconds;       /* since nd_job_run started */
} nd_progress;

/* A record skipped (opts.skip_bad), or a file skipped as binary. */
typedef struct nd_job_warning {
    int code;            /* ND_ERR_DATA: a malformed record; ND_ERR_UTF8:
                            invalid UTF-8 under ND_NORM_STRICT_UTF8;
                            ND_ERR_BINARY: a binary file */
    const char *file;    /* ND_ERR_UTF8: the input it came from ("-":
                            stdin); otherwise "" (the message names it) */
    uint64_t line;       /* ND_ERR_UTF8: its 1-based line; otherwise 0 */
    const char *message; /* a sentence that starts with the file, and for
                            a record "file:line: " */
} nd_job_warning;

typedef struct nd_job_row {
    uint32_t doc;          /* cluster, dedup: the document; pairs: the
                              first of the pair */
    const char *id;        /* its id as JSON text (nd_record.id) */
    size_t id_len;
    uint32_t cluster;      /* cluster, dedup: cluster number, 0, 1, ... in
                              order of first member */
    int rep;               /* cluster: 1 when it represents its cluster */
    const char *raw;       /* dedup: the record as read (a directory entry:
                              its id); NULL otherwise */
    size_t raw_len;
    const char *header;    /* dedup of TSV, on the first row only: the
                              header line of the first file (with its
                              newline), to write before the row; else NULL */
    size_t header_len;
    uint32_t doc_b;        /* pairs: the second document, doc < doc_b */
    const char *id_b;
    size_t id_b_len;
    double jaccard;        /* pairs: estimated (exact with params.exact) */
    double containment;    /* pairs: of the smaller set in the larger */
    int explained;         /* pairs with opts.explain: the fields below */
    double exact_jaccard, exact_containment; /* from the shingle sets */
    size_t shared_words;   /* the longest run of normalized words both
                              texts share (among their first 5000 words) */
    const char *passage;   /* that run, normalized, UTF-8; over 30 words:
                              the first 15, " ... ", the last 15 */
    size_t passage_len;
} nd_job_row;

typedef struct nd_job_opts {
    nd_job_kind kind;
    nd_params params;
    nd_reader_opts reader;
    const char *const *paths; /* inputs; npaths 0 or the path "-": stdin */
    size_t npaths;
    int skip_bad;       /* 1: a malformed record, or invalid UTF-8 under
                           ND_NORM_STRICT_UTF8, is a warning and skipped;
                           0: it stops the job */
    int explain;        /* pairs: exact scores and the shared passage
                           (texts spooled to a temporary file) */
    const char *source_priority; /* ND_KEEP_SOURCE: a file of source names
                           (reader.source_field), one a line, most
                           preferred first; blank lines and lines starting
                           with # are skipped.  A record's priority is its
                           source's line among the names; unlisted sources
                           rank after every listed one */
    /* Called for each row, in order: cluster and dedup by document,
       pairs by (doc, doc_b).  Non-zero stops the job (ND_ERR_STATE, the
       detail says the caller stopped it).  NULL: rows are not made. */
    int (*on_row)(void *ctx, const nd_job_row *row);
    /* Called for each skipped record or file, in input order; may be NULL. */
    void (*on_warning)(void *ctx, const nd_job_warning *w);
    /* Called at the start and end of each phase and at most every
       opts.progress_every seconds within it; may be NULL. */
    void (*on_progress)(void *ctx, const nd_progress *p);
    double progress_every; /* default 0.25 */
    void *ctx;          /* passed to the callbacks */
} nd_job_opts;

/* Counters of a job: the batch's and the reading's. */
typedef struct nd_job_stats {
    nd_batch_stats batch;
    uint64_t records;        /* records read (good and skipped) */
    uint64_t skipped_bad;    /* records skipped (opts.skip_bad) */
    uint64_t skipped_binary; /* files skipped as binary */
    uint64_t repaired;       /* JSONL lines read with U+FFFD for invalid
                                UTF-8 (not strict) */
    uint64_t rows;           /* rows handed to on_row */
    double seconds;          /* nd_job_run, wall time */
} nd_job_stats;

/* Defaults: ND_JOB_CLUSTER, nd_params_init, the reader's defaults, stdin,
   no callbacks. */
ND_API void nd_job_opts_init(nd_job_opts *o);

/*
 * A job for opts (copied).  Errors: ND_ERR_PARAM (nd_params_check fails,
 * explain without ND_JOB_PAIRS, a source_priority file without names or
 * with a name listed twice: the detail names file and line), ND_ERR_IO
 * (the source_priority file cannot be read), ND_ERR_NOMEM.  On error *out
 * is still a job that serves nd_job_errmsg and nd_job_free (or NULL when
 * even it could not be allocated).
 */
ND_API int nd_job_create(const nd_job_opts *opts, nd_job **out);

/*
 * Run the job: read, count, sketch, find and verify pairs, cluster, then
 * call on_row for every row.  Once per job.  Errors (the detail in
 * nd_job_errmsg): ND_ERR_DATA (a malformed record without skip_bad: file
 * and line), ND_ERR_UTF8 (invalid UTF-8 under ND_NORM_STRICT_UTF8 without
 * skip_bad: file and line), ND_ERR_IO (an input could not be opened or
 * read, changed between the two passes, or a temporary file failed),
 * ND_ERR_STATE (on_row stopped it, or run twice), ND_ERR_NOMEM.  No row is
 * handed over unless every input was read and clustered.
 */
ND_API int nd_job_run(nd_job *job);

ND_API void nd_job_stats_get(const nd_job *job, nd_job_stats *st);
/* The batch the job ran (results as nd_batch_* give them), or NULL before
   nd_job_run succeeded.  Owned by the job. */
ND_API const nd_batch *nd_job_batch(const nd_job *job);
/* Detail of the last error, never NULL. */
ND_API const char *nd_job_errmsg(const nd_job *job);
/* NULL is a no-op. */
ND_API void nd_job_free(nd_job *job);

#ifdef __cplusplus
}
#endif
#endif /* NEARDUP_H */
