/*
 * params.c - defaults, range checks and the LSH layout.
 *
 * The LSH layout follows the usual banding analysis (Leskovec, Rajaraman and
 * Ullman, "Mining of Massive Datasets", ch. 3): with b bands of r rows, two
 * sets of Jaccard similarity s share at least one band with probability
 * P(s) = 1 - (1 - s^r)^b.  We pick the b x r (b * r <= k) that minimises the
 * area of false positives below the threshold t plus false negatives above it,
 * integral_0^t P(s) ds + integral_t^1 (1 - P(s)) ds, weighted equally.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "params.h"

/*
 * The defaults were chosen by measurement (bench/README.md, "Defaults") over
 * the web, ocr, trunc, wire and hardneg corpora: glyph 8-grams (OCR-proof
 * character windows, text.h) signed by one permutation hashing, a match at
 * Jaccard 0.40 or containment 0.65, shingles in over 2% of the documents
 * dropped as boilerplate, figure check at 0.8, connected components.
 */
ND_API void nd_params_init(nd_params *p)
{
    p->shingle = ND_SHINGLE_GLYPH;
    p->ngram = 8;
    p->num_perm = 128;
    p->seed = 1;
    p->threshold = 0.40;
    p->measure = ND_MEASURE_JACCARD;
    p->bands = 0;
    p->rows = 0;
    p->norm = 0;
    p->exact = 0;
    p->keep = ND_KEEP_FIRST;
    p->threads = 0;
    p->sketch = ND_SKETCH_OPH;
    p->containment = 0.65;
    p->cluster = ND_CLUSTER_ATTACH;
    p->figures = 0.8;
    p->boilerplate = 0.02;
    p->boilerplate_min = 50;
    p->window = 0.0;
    p->memory = 0;
    p->tmpdir = NULL;
    p->min_words = 0;
}

ND_API int nd_params_check(const nd_params *p, char *msg, size_t cap)
{
    const char *why = NULL;
    if (p->shingle != ND_SHINGLE_WORD && p->shingle != ND_SHINGLE_CHAR &&
        p->shingle != ND_SHINGLE_GLYPH)
        why = "shingle kind must be word or char";
    else if (p->ngram < 1 || p->ngram > 64)
        why = "ngram must be in 1..64";
    else if (p->shingle == ND_SHINGLE_GLYPH && p->ngram > 8)
        why = "glyph ngram must be in 1..8";
    else if (p->num_perm < 1 || p->num_perm > 4096)
        why = "num_perm must be in 1..4096";
    else if (!(p->threshold > 0.0 && p->threshold <= 1.0))
        why = "threshold must be in (0, 1]";
    else if (p->measure != ND_MEASURE_JACCARD && p->measure != ND_MEASURE_CONTAINMENT)
        why = "measure must be jaccard or containment";
    else if ((p->bands == 0) != (p->rows == 0))
        why = "bands and rows must be given together";
    else if (p->bands && (unsigned long long)p->bands * p->rows > p->num_perm)
        why = "bands * rows must not exceed num_perm";
    else if (p->norm & ~(unsigned)ND_NORM_STRICT_UTF8)
        why = "unknown normalization flag";
    else if (p->keep != ND_KEEP_FIRST && p->keep != ND_KEEP_LONGEST &&
             p->keep != ND_KEEP_EARLIEST && p->keep != ND_KEEP_SOURCE)
        why = "keep must be first, longest, earliest or source";
    else if (!(p->containment >= 0.0 && p->containment <= 1.0))
        why = "containment must be in [0, 1]";
    else if (p->cluster != ND_CLUSTER_COMPONENTS && p->cluster != ND_CLUSTER_GUARDED &&
             p->cluster != ND_CLUSTER_ATTACH)
        why = "cluster must be components, guarded or attach";
    else if (!(p->figures >= 0.0 && p->figures <= 1.0))
        why = "figures must be in [0, 1]";
    else if (!(p->boilerplate >= 0.0 && p->boilerplate <= 1.0))
        why = "boilerplate must be in [0, 1]";
    else if (!(p->window >= 0.0 && isfinite(p->window)))
        why = "window must be a finite number of seconds >= 0";
    else if (p->threads > 1024)
        why = "threads must be in 0..1024";
    else if (p->sketch != ND_SKETCH_KPERM && p->sketch != ND_SKETCH_OPH &&
             p->sketch != ND_SKETCH_CMINHASH)
        why = "sketch must be kperm, oph or cminhash";
    if (!why)
        return ND_OK;
    if (msg && cap)
        snprintf(msg, cap, "%s", why);
    return ND_ERR_PARAM;
}

/*
 * Containment c of A in B with |A| = rho |B| means Jaccard
 * c rho / (1 + rho - c rho); at rho = 1/2 that is c / (3 - c).  Shorter
 * copies than half are found only when their Jaccard clears the S-curve.
 */
static double jaccard_of_containment(double c)
{
    return c / (3.0 - c);
}

double nd__params_lsh_target(const nd_params *p)
{
    if (p->measure == ND_MEASURE_CONTAINMENT)
        return jaccard_of_containment(p->threshold);
    double t = p->threshold;
    if (p->containment > 0.0) {
        double tc = jaccard_of_containment(p->containment);
        t = tc < t ? tc : t;
    }
    return t;
}

int nd__params_match(const nd_params *p, double jaccard, double containment)
{
    if (p->measure == ND_MEASURE_CONTAINMENT)
        return containment >= p->threshold;
    return jaccard >= p->threshold ||
           (p->containment > 0.0 && containment >= p->containment);
}

/* P(s) for b bands of r rows. */
static double collide(double s, unsigned b, unsigned r)
{
    return 1.0 - pow(1.0 - pow(s, r), b);
}

/* Simpson's rule over [lo, hi] of P (want = 1) or 1 - P (want = 0). */
static double area(double lo, double hi, unsigned b, unsigned r, int want)
{
    enum { STEPS = 64 };
    double h = (hi - lo) / STEPS, sum = 0.0;
    for (int i = 0; i <= STEPS; i++) {
        double s = lo + h * i, f = collide(s, b, r);
        if (!want)
            f = 1.0 - f;
        sum += f * (i == 0 || i == STEPS ? 1 : (i % 2 ? 4 : 2));
    }
    return sum * h / 3.0;
}

/*
 * area(0, t, b, r, 1) and area(t, 1, b, r, 0) with 1 - s^r of each point
 * read from q (q[i] for [0, t], q[STEPS + 1 + i] for [t, 1]), computed
 * once a row count rather than once a layout: the same operations on the
 * same numbers, so the same sums, for half the calls of pow.
 */
static double area_pair(double t, unsigned b, const double *q)
{
    enum { STEPS = 64 };
    double sum[2];
    for (int half = 0; half < 2; half++) {
        const double lo = half ? t : 0.0, hi = half ? 1.0 : t;
        const double h = (hi - lo) / STEPS;
        double acc = 0.0;
        for (int i = 0; i <= STEPS; i++) {
            double f = 1.0 - pow(q[half * (STEPS + 1) + i], b);
            if (half)
                f = 1.0 - f;
            acc += f * (i == 0 || i == STEPS ? 1 : (i % 2 ? 4 : 2));
        }
        sum[half] = acc * h / 3.0;
    }
    return 0.5 * sum[0] + 0.5 * sum[1];
}

/* 1 - s^r at the points of area's two integrals around t (area_pair). */
static void inner_points(double t, unsigned r, double *q)
{
    enum { STEPS = 64 };
    for (int half = 0; half < 2; half++) {
        const double lo = half ? t : 0.0, hi = half ? 1.0 : t;
        const double h = (hi - lo) / STEPS;
        for (int i = 0; i <= STEPS; i++)
            q[half * (STEPS + 1) + i] = 1.0 - pow(lo + h * i, r);
    }
}

ND_API void nd_params_lsh(const nd_params *p, unsigned *bands, unsigned *rows)
{
    if (p->bands && p->rows) {
        *bands = p->bands;
        *rows = p->rows;
        return;
    }
    double t = nd__params_lsh_target(p), best = INFINITY;
    unsigned bb = 1, br = p->num_perm;
    /* 2 x 65 points a row count; without the memory, each layout its own. */
    double *q = malloc((size_t)p->num_perm * 130 * sizeof *q);
    for (unsigned r = 1; q && r <= p->num_perm; r++)
        inner_points(t, r, q + (size_t)(r - 1) * 130);
    for (unsigned b = 1; b <= p->num_perm; b++) {
        for (unsigned r = 1; r <= p->num_perm / b; r++) {
            double e = q ? area_pair(t, b, q + (size_t)(r - 1) * 130)
                         : 0.5 * area(0.0, t, b, r, 1) + 0.5 * area(t, 1.0, b, r, 0);
            if (e < best - 1e-12) {
                best = e;
                bb = b;
                br = r;
            }
        }
    }
    free(q);
    *bands = bb;
    *rows = br;
}

/*
 * The containment bands (lsh.h) of a batch whose main bands have `rows`
 * rows: a text contained to `containment` in one CONTAIN_RATIO times its
 * size has Jaccard c rho / (1 + rho - c rho) (0.19 at c = 0.65, rho = 1/3),
 * below the main layout's aim (which is set for half-length copies); bands
 * of one row fewer, as many as minimise the error area around that
 * Jaccard (30 of 2 rows at k = 128), find it.  Measured on helsinki-dev and
 * the generated presets (bench/README.md): 16 to 48 such bands gave the
 * same clusters within 0.002 of F1, for 40-60% more candidates.  None
 * without containment.
 */
#define CONTAIN_RATIO 3.0
void nd__params_lsh_contain(const nd_params *p, unsigned rows, unsigned *cbands,
                            unsigned *crows)
{
    *cbands = *crows = 0;
    if (p->measure != ND_MEASURE_JACCARD || p->containment <= 0.0 || rows < 2)
        return;
    const double rho = 1.0 / CONTAIN_RATIO, c = p->containment;
    double t = c * rho / (1.0 + rho - c * rho), best = INFINITY;
    unsigned r = rows - 1;
    double q[130];
    inner_points(t, r, q);
    for (unsigned b = 1; b <= p->num_perm / r; b++) {
        double e = area_pair(t, b, q);
        if (e < best - 1e-12) {
            best = e;
            *cbands = b;
        }
    }
    *crows = r;
}

/*
 * A text of fewer words than this (counted in shingles before boilerplate
 * is dropped) is a stub (a teaser, a caption, a video blurb): contained in
 * a story, it is not a copy of it.  The labelled pages of helsinki-dev put
 * a page with under ~40 words of body alone; the generated corpora cut
 * short Reuters items to 25-40 words and call those copies.  Measured
 * over both (bench/README.md): 25 let the digest corpus's stubs join their
 * stories (F1 0.929), 35 and 40 split short copies of the web and ocr
 * corpora (F1 0.998 -> 0.997, 0.990 -> 0.988); 30 served all.
 */
#define STUB_WORDS 30

/*
 * The shingles of a stub's worth of words: glyph windows are about one a
 * letter, half of them kept (2.35 a word measured on news), word n-grams
 * one a word, character n-grams one a character (about 5.7 a word with
 * its space).
 */
uint64_t nd__params_stub_shingles(const nd_params *p)
{
    double per_word = p->shingle == ND_SHINGLE_GLYPH ? 2.35
                      : p->shingle == ND_SHINGLE_CHAR ? 5.7
                                                      : 1.0;
    return (uint64_t)(STUB_WORDS * per_word);
}

const char *nd__shingle_name(nd_shingle_kind k)
{
    return k == ND_SHINGLE_CHAR ? "char" : k == ND_SHINGLE_GLYPH ? "glyph" : "word";
}
