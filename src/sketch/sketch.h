/*
 * sketch.h - MinHash signatures of a set of 64-bit shingle hashes (internal).
 *
 * Three schemes (nd_sketch_algo), each defined exactly here so that a
 * signature depends only on (set, algo, k, seed), on every CPU and code path.
 * All constants come from splitmix64 seeded with seed ^ a per-scheme tag.
 * topk(v) below is v >> 32, arithmetic is mod 2^64, and an empty set gives
 * UINT32_MAX everywhere.
 *
 * ND_SKETCH_KPERM (tag 0x6e65617264757021, "neardup!"): for i < k draw a_i
 *   (forced odd) then b_i; sig[i] = min over x of topk(a_i * x + b_i).
 * ND_SKETCH_OPH (tag 0x6f70682d64656e73, "oph-dens"): draw a (odd), b, c
 *   (odd), then d (odd), e.  y = a*x + b; y ^= y >> 32; y *= c.  x falls in
 *   bin (topk(y) * k) >> 32 with value (uint32_t)y; a bin keeps its least
 *   value, bit 15 cleared.  An empty bin i takes the value of bin next(i, t),
 *   bit 15 set, for the first t = 1..64 where that bin is not empty,
 *   next(i, t) = (topk(w ^ (w >> 29)) * k) >> 32 with z = ((i << 32 | t) ^ e)
 *   * d, w = (z ^ (z >> 32)) * 0xff51afd7ed558ccd; when all 64 are empty, of
 *   the first non-empty bin after next(i, 64), circularly.
 * ND_SKETCH_CMINHASH (tag 0x632d6d696e686173, "c-minhas"): draw g, then a
 *   (odd), then b.  sigma(x) = z ^ (z >> 32) with z = (x ^ g) *
 *   0xff51afd7ed558ccd; s(x) = a * sigma(x); sig[i] = min over x of
 *   topk(s(x) + b + i * 0x9e3779b97f4a7c15).
 * KPERM and CMINHASH values then have bit 15 cleared.
 *
 * Bit 15 of a value (ND__SIG_COPIED) thus says "this bin was empty and
 * copied", in the 32-bit signature and in the batch's 16-bit one alike, and
 * the estimate (nd_sig_jaccard, nd__sig16_jaccard) is the share of equal
 * values among the bins not copied in both signatures: the bins non-empty
 * in A u B (minhash.c says why).  The empty set is UINT32_MAX everywhere
 * (every bin copied) and estimates 0 against anything.
 */
#ifndef ND_SKETCH_H
#define ND_SKETCH_H

#include "../neardup.h"

#define ND__OPH_ATTEMPTS 64
#define ND__SIG_COPIED 0x8000u /* a value's copied-bin bit */
#define ND__CMIN_SIGMA 0xff51afd7ed558ccdull
#define ND__CMIN_SHIFT 0x9e3779b97f4a7c15ull

/*
 * A scheme's constants.  KPERM: a[i], b[i].  CMINHASH: a[0] = a,
 * a[1] = g, b[i] = b + i * shift (the offset of hash i).  OPH: a[0..5) =
 * a, b, c, d, e; b unused.
 */
typedef struct nd__perm {
    nd_sketch_algo algo;
    unsigned k;
    uint64_t *a, *b;
} nd__perm;

/* Code paths of the O(n k) kernels; a bit per path in nd__cpu_paths(). */
typedef enum {
    ND__CPU_SCALAR = 0,
    ND__CPU_AVX2 = 1,
    ND__CPU_AVX512 = 2,
    ND__CPU_COUNT = 3
} nd__cpu;

/* k-permutation MinHash (ND_SKETCH_KPERM), as before the other schemes. */
int nd__perm_init(nd__perm *p, unsigned k, uint64_t seed);
/* Any scheme.  ND_OK, ND_ERR_NOMEM or ND_ERR_PARAM (unknown algo, k not in
 * 1..4096). */
int nd__sketch_init(nd__perm *p, nd_sketch_algo algo, unsigned k, uint64_t seed);
void nd__perm_free(nd__perm *p);

/* sig[0..k) = signature of h[0..n) on the fastest path of this CPU. */
void nd__minhash(const nd__perm *p, const uint64_t *h, size_t n, uint32_t *sig);
/*
 * The same on a given path: ND_OK, or ND_ERR_PARAM (sig untouched) when the
 * path is not built in or the CPU lacks it.  OPH bins keys with AVX-512 on
 * that path and on the scalar code on the others.
 */
int nd__minhash_on(const nd__perm *p, nd__cpu cpu, const uint64_t *h, size_t n,
                   uint32_t *sig);
/* Bit c set when path c can run here; detected once. */
unsigned nd__cpu_paths(void);
const char *nd__cpu_name(nd__cpu cpu);

/*
 * Kernels.  kperm: sig[i] = topk(min_j a[i] * x[j] + b[i]).  rot:
 * sig[i] = topk(min_j s[j] + b[i]).  cmin: rot after s[j] = a * sigma_g(x[j])
 * (a, g as in nd__perm).  n > 0 for all.
 */
void nd__kperm_scalar(const uint64_t *a, const uint64_t *b, unsigned k,
                      const uint64_t *x, size_t n, uint32_t *sig);
void nd__cmin_scalar(uint64_t a, uint64_t g, const uint64_t *b, unsigned k,
                     const uint64_t *x, size_t n, uint32_t *sig);
#if defined(__x86_64__) && defined(__GNUC__)
#define ND__HAVE_X86 1
void nd__kperm_avx2(const uint64_t *a, const uint64_t *b, unsigned k,
                    const uint64_t *x, size_t n, uint32_t *sig);
void nd__cmin_avx2(uint64_t a, uint64_t g, const uint64_t *b, unsigned k,
                   const uint64_t *x, size_t n, uint32_t *sig);
void nd__kperm_avx512(const uint64_t *a, const uint64_t *b, unsigned k,
                      const uint64_t *x, size_t n, uint32_t *sig);
void nd__cmin_avx512(uint64_t a, uint64_t g, const uint64_t *b, unsigned k,
                     const uint64_t *x, size_t n, uint32_t *sig);
/* OPH: each key's minimum into its bin of sig[0..k), full[bin] = 1. */
void nd__oph_bins_avx512(uint64_t a, uint64_t b, uint64_t c, unsigned k,
                         const uint64_t *x, size_t n, uint32_t *sig,
                         unsigned char *full);
/* OPH's densification, k <= 512: the same values as the scalar loop. */
void nd__oph_densify_avx512(uint64_t d, uint64_t e, unsigned k, uint32_t *sig,
                            const unsigned char *full);
#endif

/*
 * The compares of verification (compare.c), on each path of nd__cpu (a bit
 * per path in nd__compare_paths(); AVX-512 needs F and BW, both need
 * POPCNT); every path gives the scalar twin's counts exactly.
 *
 * Two signatures of k 16-bit values: eq counts the bins equal and not
 * copied in a, both the bins copied in a and in b.
 */
typedef struct {
    unsigned eq, both;
} nd__sig16_counts;
/*
 * The figures of sketch a (its first na values) against sketch b (its
 * first nb), sketches of ND__FIGS values (nd__figs_sketch), na and nb at
 * most ND__FIGS: agree counts a's values that b holds, conflict a's other
 * values whose context (the top 16 bits) b holds.
 */
typedef struct {
    uint32_t agree, conflict;
} nd__figs_counts;
unsigned nd__compare_paths(void);
nd__sig16_counts nd__sig16_count_on(nd__cpu cpu, const uint16_t *a, const uint16_t *b,
                                    unsigned k);
nd__figs_counts nd__figs_count_on(nd__cpu cpu, const uint32_t *a, uint32_t na,
                                  const uint32_t *b, uint32_t nb);
/* The same on the fastest path. */
nd__sig16_counts nd__sig16_count(const uint16_t *a, const uint16_t *b, unsigned k);
nd__figs_counts nd__figs_count(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb);
/* The Jaccard similarity two 16-bit signatures estimate: eq / (k - both),
   0 when every bin is copied in both (why without the b-bit correction:
   compare.c). */
static inline double nd__sig16_jaccard(const uint16_t *a, const uint16_t *b, unsigned k)
{
    const nd__sig16_counts c = nd__sig16_count(a, b, k);
    return k > c.both ? (double)c.eq / (k - c.both) : 0.0;
}
/* The kernels of each path. */
nd__sig16_counts nd__sig16_count_scalar(const uint16_t *a, const uint16_t *b, unsigned k);
nd__figs_counts nd__figs_count_scalar(const uint32_t *a, uint32_t na, const uint32_t *b,
                                      uint32_t nb);
#ifdef ND__HAVE_X86
nd__sig16_counts nd__sig16_count_avx2(const uint16_t *a, const uint16_t *b, unsigned k);
nd__sig16_counts nd__sig16_count_avx512(const uint16_t *a, const uint16_t *b, unsigned k);
nd__figs_counts nd__figs_count_avx2(const uint32_t *a, uint32_t na, const uint32_t *b,
                                    uint32_t nb);
nd__figs_counts nd__figs_count_avx512(const uint32_t *a, uint32_t na, const uint32_t *b,
                                      uint32_t nb);
#endif

/* s = a * sigma_g(x), the C-MinHash position of a shingle hash. */
static inline uint64_t nd__cmin_pos(uint64_t a, uint64_t g, uint64_t x)
{
    uint64_t z = (x ^ g) * ND__CMIN_SIGMA;
    return a * (z ^ (z >> 32));
}

/* Figures: a bottom-ND__FIGS sketch of the numbers a text states. */
#define ND__FIGS 16

/* out[0..ND__FIGS) from the sorted figure hashes; *count = n. */
void nd__figs_sketch(const uint64_t *figs, size_t n, uint32_t *out,
                     uint32_t *count);
/*
 * Do two texts x and y, both held by a third, cover a common part of it?
 * ax and ay are the signature positions (not copied in the holder) where
 * each agrees with the holder, both where both do: two cuts of one lead
 * share most of their positions, two stories of a digest almost none.  The
 * batch's attach clustering and the index's digest rule ask it alike.
 */
static inline int nd__same_part(unsigned ax, unsigned ay, unsigned both)
{
    unsigned least = ax < ay ? ax : ay;
    return least && 2 * both >= least;
}

/* Fewer figures than this in either text: no evidence, no figure check. */
#define ND__FIGS_MIN 1

/*
 * The figure check of a matching pair, for the batch and the index alike:
 * 1 when the figures of two texts tell them apart.  That needs strong
 * evidence: both texts state ND__FIGS_MIN..ND__FIGS figures, and of the
 * smaller set's figures whose context (the words around them) the other
 * text also has, at least two conflict (another value in that context)
 * and fewer than min_share agree.  One slip of a keyboard or a scanner
 * inside a figure is no evidence, nor a figure in a passage the other
 * text lacks.
 */
int nd__figs_differ(const uint32_t *a, uint32_t na, const uint32_t *b,
                    uint32_t nb, double min_share);
/* The shingles of the last text sketched before boilerplate was dropped:
   exact when fewer than nd__params_stub_shingles (what the stub rule reads
   them against), else a number at least that large (sketcher.c). */
uint64_t nd__sketcher_raw_size(const nd_sketcher *s);
/* Read the figures of a text into the sketcher (for nd__sketcher_figures)
   without sketching it.  ND_OK or ND_ERR_NOMEM. */
int nd__sketcher_read_figures(nd_sketcher *s, const char *text, size_t len);
/* The figures of the last text a sketcher sketched (params.figures > 0). */
void nd__sketcher_figures(const nd_sketcher *s, uint32_t *out, uint32_t *count);

/* From now on, drop shingles held by more than cutoff documents of df.  The
   counts are read at the next text sketched and must not change while the
   filter is in use (the batch counts before it adds). */
struct nd__df;
void nd__sketcher_filter(nd_sketcher *s, const struct nd__df *df, uint32_t cutoff);

/* The shingle set of the last text a sketcher sketched (exact mode). */
const uint64_t *nd__sketcher_set(const nd_sketcher *s, size_t *n);
/* The shingle set of text[0..len), in no particular order (for counting). */
int nd__sketcher_bag(nd_sketcher *s, const char *text, size_t len,
                     const uint64_t **set, size_t *n);
/* nd__sketcher_bag, counting the set into df as nd__df_add_own does (only
   this thread counts into df) while it is made. */
int nd__sketcher_bag_count(nd_sketcher *s, const char *text, size_t len,
                           struct nd__df *df, const uint64_t **set, size_t *n);
/* Reset a sketcher's counters (a batch add that failed adds nothing). */
void nd__sketcher_stats_set(nd_sketcher *s, const nd_text_stats *st);

/* splitmix64: the project's seed expander. */
uint64_t nd__splitmix64(uint64_t *state);

#endif
