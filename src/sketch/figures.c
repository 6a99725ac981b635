/*
 * figures.c - a bottom-k sketch of the figures a text states, and the
 * share of figures two texts have in common.
 *
 * A text keeps the ND__FIGS smallest 32-bit values of its figure hashes
 * (text.h, nd__figures) and how many distinct figures it has.  Reports made
 * from one template are short and state a handful of figures, so when both
 * texts have at most ND__FIGS figures the sketches are the sets and their
 * overlap is exact.  For texts with more figures the check abstains: an
 * estimate from a bottom-k sketch this small was measured to refuse true
 * reprints of figure-heavy market stories, whose words tell them apart
 * anyway.  Each figure carries its context (numbers.c), and only figures
 * whose context both texts have are compared: those that agree, and those
 * that conflict ("Shr 21 cts" against "Shr 18 cts").  A veto needs two
 * conflicts at least, so one figure mistyped or misread does not split a
 * reprint, and fewer agreements than the setting's share of the compared.
 */
#include "sketch.h"
#include "../text/text.h"

_Static_assert(ND__FIGS == ND__FIGS_KEPT, "the sketch holds every figure a check reads");

void nd__figs_sketch(const uint64_t *figs, size_t n, uint32_t *out,
                     uint32_t *count)
{
    /* figs is sorted by 64-bit value; the top 32 bits keep that order. */
    uint32_t m = 0;
    for (size_t i = 0; i < n && m < ND__FIGS; i++) {
        uint32_t v = (uint32_t)(figs[i] >> 32);
        if (m == 0 || v != out[m - 1])
            out[m++] = v;
    }
    for (uint32_t i = m; i < ND__FIGS; i++)
        out[i] = UINT32_MAX;
    *count = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int nd__figs_differ(const uint32_t *a, uint32_t na, const uint32_t *b,
                    uint32_t nb, double min_share)
{
    if (min_share <= 0.0 || na < ND__FIGS_MIN || nb < ND__FIGS_MIN ||
        na > ND__FIGS || nb > ND__FIGS)
        return 0;
    /* From the side with fewer figures: each of its figures whose context
       the other has agrees or conflicts. */
    if (nb < na) {
        const uint32_t *t = a;
        a = b;
        b = t;
        uint32_t tn = na;
        na = nb;
        nb = tn;
    }
    const nd__figs_counts c = nd__figs_count(a, na, b, nb);
    const uint32_t agree = c.agree, conflict = c.conflict;
    return (conflict >= 2 || (conflict == 1 && agree == 0)) &&
           (double)agree < min_share * (agree + conflict);
}
