/*
 * chrome.h - telling page chrome from a big story among the frequent
 * shingles (internal; chrome.c says how).
 */
#ifndef ND_CHROME_H
#define ND_CHROME_H

#include <stddef.h>
#include <stdint.h>

#include "../core/dfcount.h"

/*
 * The shingle sets of a nested sample of the counted documents: document
 * o (its ordinal among all counted) is held while o % rate == 0, and rate
 * doubles (the others let go) whenever more than ND__HELD_MAX are held, so
 * the sample is the same whatever the order and the chunks of the adds.
 */
#define ND__HELD_MAX 4096u
/* Shingles kept of one held document (a huge text is held in part). */
#define ND__HELD_SHINGLES 8192u

typedef struct nd__held {
    uint64_t *ord;     /* ordinals of the held documents */
    uint32_t *figs;    /* ND__FIGS figure values a document (sketch.h) */
    uint32_t *nfigs;   /* and how many figures it states */
    size_t *off;       /* where each one's shingles start in h */
    uint32_t *len;     /* and how many */
    uint64_t *h;       /* the shingles, document after document */
    size_t n, cap, hn, hcap;
    uint64_t rate;
} nd__held;

void nd__held_free(nd__held *s);
/* 1 when the document of ordinal o belongs to the held sample now. */
int nd__held_wants(const nd__held *s, uint64_t o);
/* Hold document o's shingles and figure sketch (figs NULL: none; call
   with nd__held_wants(s, o) true; not thread-safe).  ND_OK or
   ND_ERR_NOMEM. */
int nd__held_add(nd__held *s, uint64_t o, const uint64_t *h, size_t n,
                 const uint32_t *figs, uint32_t nfigs);

/*
 * Lower the counts of the frequent shingles that are a big story's text
 * rather than chrome.  A shingle held by more than `cutoff` documents of
 * df (in sampled documents) is chrome when the held documents that carry
 * it are different texts; when they are mostly copies of one another
 * (Jaccard >= alike over their whole sets, and figures that do not tell
 * them apart at min_share, nd__figs_differ; 0: figures not read: reports
 * made from one template are not copies), its count becomes a count of groups: df times groups over
 * carriers.  Counts of shingles too rare among the held documents to
 * judge stay.  Works on up to `threads` OpenMP threads; the counts are the
 * same for any number.  Returns ND_OK or ND_ERR_NOMEM (then df is
 * unchanged).
 */
int nd__chrome_sort_out(nd__df *df, nd__held *s, uint32_t cutoff, double alike,
                        double min_share, uint64_t seed, unsigned threads,
                        uint64_t *lowered);

#endif
