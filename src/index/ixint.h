/*
 * ixint.h - internals of the incremental index (src/index/).
 *
 *   ixmem.c    documents in memory: slot arrays, id arena, id hash table,
 *              LSH band tables, insert / remove / rebuild / candidate lookup
 *   ixstore.c  the directory on disk: snapshot and write-ahead log formats
 *   ixapi.c    the public nd_index_* functions: locking, sketching with
 *              boilerplate suppression, the figure check
 *
 * Documents live in slots 0..n) in order of addition; a removed slot is
 * marked dead and skipped until a rebuild packs the live slots.
 */
#ifndef ND_IXINT_H
#define ND_IXINT_H

#include <pthread.h>
#include <stdatomic.h>

#include "../neardup.h"
#include "../core/dfcount.h"
#include "../sketch/sketch.h"
#include "../text/text.h"

#define ND__IX_NONE UINT32_MAX

/* One band's table: open addressing, entry = (tag << 32) | head slot. */
typedef struct nd__ixband {
    uint64_t *e;
    size_t mask;  /* capacity - 1, capacity a power of two */
    size_t used;
} nd__ixband;

/* Bits of a document-frequency counter index (dfcount.c). */
#define ND__IX_DF_BITS 20
/* Documents counted into the frequencies before the sample is halved. */
#define ND__IX_DF_SAMPLE (1u << 14)

/*
 * Shingle document frequencies (params.boilerplate > 0), over a sample of
 * the documents: those whose id's sample hash has rate_log low zero bits.
 * Each sampled document keeps its counter list (ixmem.c) so that leaving
 * subtracts exactly what arriving added.
 */
typedef struct nd__ixdf {
    nd__df cnt;
    unsigned rate_log;
    size_t sampled;          /* live documents with a counter list */
} nd__ixdf;

/* Per-call scratch, pooled: one is used by one thread at a time. */
typedef struct nd__ixscratch {
    struct nd__ixscratch *next;
    int ready;               /* tb and perm set up */
    nd__textbuf tb;
    nd__perm perm;
    uint32_t *sig;
    uint64_t setsz;
    uint32_t *raw;           /* the signature before the boilerplate filter */
    int has_raw;             /* raw differs from sig: the filter dropped some */
    uint64_t rawsz;          /* the set size before the filter (with raw) */
    uint32_t figs[ND__FIGS]; /* figures of the text sketched last */
    uint32_t nfigs;
    uint8_t *dfl;            /* its counter list, when it is to be counted */
    size_t dfl_cap;
    uint32_t *tmp;           /* counter indices while a list is made */
    size_t tmp_cap;
    uint32_t *cand;
    size_t ncand, ccap;
    struct nd__ixhit *hits;
    size_t nhits, hcap;      /* every match of the last search, best first */
    uint32_t part[64];       /* stored texts the query holds a part of */
    size_t npart;
} nd__ixscratch;

typedef struct nd__ixhit {
    uint32_t slot;
    int held;                /* a match by containment only, the stored text
                                the smaller: the query holds it */
    double j, c;
} nd__ixhit;

/* An arena block; freed when its last live id goes (p then NULL). */
typedef struct nd__ixblk {
    char *p;
    size_t live;
} nd__ixblk;

typedef struct nd__ixmem {
    unsigned k, rows;
    unsigned nmain;         /* the main bands, of rows values each */
    unsigned crows;         /* the containment bands', after the main ones */
    unsigned nbands;        /* tables: nmain + containment bands */
    size_t n, cap, live;
    uint32_t *sig;          /* cap * k */
    uint64_t *setsz;
    int64_t *time;
    const char **id;
    uint32_t *idlen;
    uint8_t *dead;
    uint32_t *figs;         /* params.figures > 0: cap * ND__FIGS */
    uint8_t *nfigs;         /* figures per document, saturated at 255 */
    uint8_t **dfl;          /* counter list per slot, or NULL (not counted) */
    nd__ixdf *df;           /* shared, owned by the index; NULL: off */
    int with_figs;
    uint64_t var_bytes;     /* stored figure values and counter lists of
                               live documents, as on disk */
    uint32_t *next;         /* nbands * cap, band-major: next[b * cap + s]
                               is the next slot in s's bucket of band b */
    nd__ixband *band;       /* nbands */
    uint32_t *idt;          /* id table: slots, ND__IX_NONE = empty */
    size_t idmask, idused;
    uint32_t *idblk;        /* arena block of each slot's id */
    struct nd__ixblk *blk;  /* id arena: blocks that never move */
    size_t nblk, blkcap, blkused, blksize;
    uint64_t id_bytes;      /* of live documents */
    int loading;            /* between load_begin and load_end: no bands */
} nd__ixmem;

struct nd_index {
    nd_params p;
    nd__ixmem m;
    nd__ixdf df;             /* params.boilerplate > 0 */
    pthread_rwlock_t rw;     /* readers: queries; writer: memory updates */
    pthread_mutex_t wmu;     /* serializes writes */
    pthread_mutex_t poolmu;
    nd__ixscratch *pool;
    atomic_uint_fast64_t queries, candidates;
    /* persistence; dir NULL = in memory */
    char *dir;
    int failed;              /* open failed: only errmsg and close */
    int readonly, dirfd, walfd, lockfd;
    int buffered;            /* ND_INDEX_BUFFERED: records wait in pend */
    uint64_t gen, wal_bytes, snap_bytes;
    unsigned char *pend;     /* encoded log records not yet written */
    size_t plen, pcap;
    uint64_t pend_records, unsynced;
    char err[512];
};

/* ixmem.c */
/*
 * nbands bands of rows values, then cbands containment bands of crows
 * values (0 and 0: none; core/params.c nd__params_lsh_contain): their
 * buckets propose only documents of which one has at most half the set
 * size of the other, as the batch's containment bands do.
 */
int nd__ixmem_init(nd__ixmem *m, unsigned k, unsigned nbands, unsigned rows,
                   unsigned cbands, unsigned crows, int with_figs,
                   nd__ixdf *df);
void nd__ixmem_free(nd__ixmem *m);
size_t nd__ixmem_bytes(const nd__ixmem *m);
uint32_t nd__ixmem_find(const nd__ixmem *m, const char *id, size_t len);
/* Room for one more document with an id of id_len bytes: ND_OK or NOMEM. */
int nd__ixmem_reserve(nd__ixmem *m, size_t id_len);
/*
 * After a successful reserve: cannot fail.  figs may be NULL (nfigs 0).
 * dfl (a counter list from nd__ixdf_list, or NULL) is taken over: it is
 * counted into the frequencies, then the sample is thinned if it grew
 * past ND__IX_DF_SAMPLE.
 */
void nd__ixmem_insert(nd__ixmem *m, const char *id, size_t id_len,
                      const uint32_t *sig, uint64_t setsz, int64_t time,
                      const uint32_t *figs, uint32_t nfigs, uint8_t *dfl);
void nd__ixmem_kill(nd__ixmem *m, uint32_t slot);
/*
 * Bulk loading: load_begin sizes the slot arrays and id table for n
 * documents and defers the band tables; inserts, kills and evictions then
 * touch only slots.  load_end builds every band table at its final size
 * (ND_OK or ND_ERR_NOMEM; on error m is still a valid, band-less index to
 * free).  No candidate lookup between the two.
 */
int nd__ixmem_load_begin(nd__ixmem *m, size_t n);
int nd__ixmem_load_end(nd__ixmem *m);
/* Kill every live slot with time < time; returns how many. */
size_t nd__ixmem_evict(nd__ixmem *m, int64_t time);
/*
 * Pack live slots into new memory in *out, which shares m's id arena: ids
 * do not move.  m stays usable; release it with nd__ixmem_release_packed.
 */
int nd__ixmem_rebuild(const nd__ixmem *m, nd__ixmem *out);
/* Free what was packed away, but not the arena *out now owns. */
void nd__ixmem_release_packed(nd__ixmem *m);
/* Candidates of sig (of a set of setsz shingles) into s->cand (sorted,
 * unique, live). */
int nd__ixmem_candidates(const nd__ixmem *m, const uint32_t *sig,
                         uint64_t setsz, nd__ixscratch *s);

/* Frequencies: init and free the counters (ixmem.c). */
int nd__ixdf_init(nd__ixdf *df);
void nd__ixdf_free(nd__ixdf *df);
/* 1 when a document with this id is counted at the sample's rate. */
int nd__ixdf_sampled(const nd__ixdf *df, const char *id, size_t len);
/*
 * Move to the front of h[0..n) (a shingle set) the shingles no more than
 * the cut-off share of the documents hold, the others behind them; self:
 * the text is about to be added and counted, so it counts as one of them.
 * Returns how many are kept.  Caller holds rw (read) or wmu.
 */
size_t nd__ixdf_filter(const nd__ixmem *m, const nd_params *p, uint64_t *h,
                       size_t n, int self);
/* Documents above which a shingle is boilerplate now, or 0 (off). */
uint64_t nd__ixdf_cutoff(const nd__ixmem *m, const nd_params *p, int self);
/*
 * The counter list of h[0..n) into s->dfl: u32 byte length, then the
 * sorted distinct counter indices as LEB128 varints of their gaps.
 */
int nd__ixdf_list(nd__ixscratch *s, const uint64_t *h, size_t n);
/*
 * s->dfl less the counters of list l (a stored document's): what a copy
 * of that document adds to the frequencies (ixapi.c).  Cannot fail.
 */
void nd__ixdf_list_minus(nd__ixscratch *s, const uint8_t *l);
/* Bytes of a list (its length field included); 0 for NULL. */
size_t nd__ixdf_list_bytes(const uint8_t *l);
/* ND_OK when l[0..len) is a well-formed list body, else ND_ERR_CORRUPT. */
int nd__ixdf_list_check(const uint8_t *l, size_t len);
/* Figure values stored for a document with nfigs figures. */
unsigned nd__ixfigs_kept(uint32_t nfigs);

/* ixstore.c */
int nd__ixstore_open(nd_index *ix, const char *path, const nd_params *p,
                     int flags);
/*
 * Log one write, before memory changes: encoded into ix->pend (room made
 * by nd__ixstore_reserve) and, unless buffered, written to the log at
 * once.  ND_OK, or the write error with the record dropped.
 */
int nd__ixstore_log_add(nd_index *ix, const char *id, size_t id_len,
                        const uint32_t *sig, uint64_t setsz, int64_t time,
                        const uint32_t *figs, uint32_t nfigs,
                        const uint8_t *dfl);
int nd__ixstore_log_remove(nd_index *ix, const char *id, size_t id_len);
int nd__ixstore_log_evict(nd_index *ix, int64_t time);
/* Room in ix->pend for a record of payload bytes (ND_OK or NOMEM). */
int nd__ixstore_reserve(nd_index *ix, size_t payload);
/* Write what waits in ix->pend to the log (write(2), no fdatasync). */
int nd__ixstore_flush(nd_index *ix);
int nd__ixstore_sync(nd_index *ix);
int nd__ixstore_save(nd_index *ix, const char *path);
int nd__ixstore_compact_due(const nd_index *ix);
void nd__ixstore_close(nd_index *ix);
int nd__ix_fail(nd_index *ix, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
