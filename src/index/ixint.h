/*
 * ixint.h - internals of the incremental index (src/index/).
 *
 *   ixmem.c    documents in memory: slot arrays, id arena, id hash table,
 *              LSH band tables, insert / remove / rebuild / candidate lookup
 *   ixstore.c  the directory on disk: snapshot and write-ahead log formats
 *   ixapi.c    the public nd_index_* functions: locking, sketcher pool
 *
 * Documents live in slots 0..n) in order of addition; a removed slot is
 * marked dead and skipped until a rebuild packs the live slots.
 */
#ifndef ND_IXINT_H
#define ND_IXINT_H

#include <pthread.h>
#include <stdatomic.h>

#include "../neardup.h"

#define ND__IX_NONE UINT32_MAX

/* One band's table: open addressing, entry = (tag << 32) | head slot. */
typedef struct nd__ixband {
    uint64_t *e;
    size_t mask;  /* capacity - 1, capacity a power of two */
    size_t used;
} nd__ixband;

/* Per-call scratch, pooled: one is used by one thread at a time. */
typedef struct nd__ixscratch {
    struct nd__ixscratch *next;
    nd_sketcher *sk;
    uint32_t *sig;
    uint32_t *cand;
    size_t ncand, ccap;
    struct nd__ixhit *hits;
    size_t hcap;
} nd__ixscratch;

typedef struct nd__ixhit {
    uint32_t slot;
    double j, c;
} nd__ixhit;

/* An arena block; freed when its last live id goes (p then NULL). */
typedef struct nd__ixblk {
    char *p;
    size_t live;
} nd__ixblk;

typedef struct nd__ixmem {
    unsigned k, nbands, rows;
    size_t n, cap, live;
    uint32_t *sig;          /* cap * k */
    uint64_t *setsz;
    int64_t *time;
    const char **id;
    uint32_t *idlen;
    uint8_t *dead;
    uint32_t *next;         /* cap * nbands: next slot in the band bucket */
    nd__ixband *band;       /* nbands */
    uint32_t *idt;          /* id table: slots, ND__IX_NONE = empty */
    size_t idmask, idused;
    uint32_t *idblk;        /* arena block of each slot's id */
    struct nd__ixblk *blk;  /* id arena: blocks that never move */
    size_t nblk, blkcap, blkused, blksize;
    uint64_t id_bytes;      /* of live documents */
} nd__ixmem;

struct nd_index {
    nd_params p;
    nd__ixmem m;
    pthread_rwlock_t rw;     /* readers: queries; writer: memory updates */
    pthread_mutex_t wmu;     /* serializes writes */
    pthread_mutex_t poolmu;
    nd__ixscratch *pool;
    atomic_uint_fast64_t queries, candidates;
    /* persistence; dir NULL = in memory */
    char *dir;
    int failed;              /* open failed: only errmsg and close */
    int readonly, dirfd, walfd, lockfd;
    uint64_t gen, wal_bytes, snap_bytes;
    unsigned char *pend;     /* encoded log records not yet written */
    size_t plen, pcap;
    uint64_t pend_records, unsynced;
    char err[512];
};

/* ixmem.c */
int nd__ixmem_init(nd__ixmem *m, unsigned k, unsigned nbands, unsigned rows);
void nd__ixmem_free(nd__ixmem *m);
size_t nd__ixmem_bytes(const nd__ixmem *m);
uint32_t nd__ixmem_find(const nd__ixmem *m, const char *id, size_t len);
/* Room for one more document with an id of id_len bytes: ND_OK or NOMEM. */
int nd__ixmem_reserve(nd__ixmem *m, size_t id_len);
/* After a successful reserve: cannot fail. */
void nd__ixmem_insert(nd__ixmem *m, const char *id, size_t id_len,
                      const uint32_t *sig, uint64_t setsz, int64_t time);
void nd__ixmem_kill(nd__ixmem *m, uint32_t slot);
/* Kill every live slot with time < time; returns how many. */
size_t nd__ixmem_evict(nd__ixmem *m, int64_t time);
/*
 * Pack live slots into new memory in *out, which shares m's id arena: ids
 * do not move.  m stays usable; release it with nd__ixmem_release_packed.
 */
int nd__ixmem_rebuild(const nd__ixmem *m, nd__ixmem *out);
/* Free what was packed away, but not the arena *out now owns. */
void nd__ixmem_release_packed(nd__ixmem *m);
/* Candidates of sig into s->cand (sorted, unique, live). */
int nd__ixmem_candidates(const nd__ixmem *m, const uint32_t *sig,
                         nd__ixscratch *s);

/* ixstore.c */
int nd__ixstore_open(nd_index *ix, const char *path, const nd_params *p,
                     int flags);
int nd__ixstore_log_add(nd_index *ix, const char *id, size_t id_len,
                        const uint32_t *sig, uint64_t setsz, int64_t time);
int nd__ixstore_log_remove(nd_index *ix, const char *id, size_t id_len);
int nd__ixstore_log_evict(nd_index *ix, int64_t time);
/* Room in ix->pend for a record of payload bytes (ND_OK or NOMEM). */
int nd__ixstore_reserve(nd_index *ix, size_t payload);
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
