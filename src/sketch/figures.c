/*
 * figures.c - a bottom-k sketch of the figures a text states, and the
 * share of figures two texts have in common.
 *
 * A text keeps the ND__FIGS smallest 32-bit values of its figure hashes
 * (text.h, nd__figures) and how many distinct figures it has: a KMV sketch
 * (Bar-Yossef et al. 2002; Beyer et al. 2007).  When both texts have at most
 * ND__FIGS figures the sketches are the sets and the overlap is exact;
 * otherwise the ND__FIGS smallest values of the union estimate the Jaccard
 * similarity of the two figure sets, and the set sizes turn it into the
 * share of the smaller set found in the larger.
 */
#include "sketch.h"

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

double nd__figs_shared(const uint32_t *a, uint32_t na, const uint32_t *b,
                       uint32_t nb)
{
    uint32_t ka = na < ND__FIGS ? na : ND__FIGS, kb = nb < ND__FIGS ? nb : ND__FIGS;
    uint32_t small = na < nb ? na : nb;
    if (small == 0)
        return 0.0;
    /* Walk the union in order, at most ND__FIGS distinct values. */
    uint32_t i = 0, j = 0, seen = 0, both = 0;
    while ((i < ka || j < kb) && seen < ND__FIGS) {
        if (j >= kb || (i < ka && a[i] < b[j]))
            i++;
        else if (i >= ka || b[j] < a[i])
            j++;
        else {
            both++;
            i++;
            j++;
        }
        seen++;
    }
    if (na <= ND__FIGS && nb <= ND__FIGS) {
        /* The sketches are the sets: count the rest of the overlap too. */
        while (i < ka && j < kb) {
            if (a[i] < b[j])
                i++;
            else if (b[j] < a[i])
                j++;
            else {
                both++;
                i++;
                j++;
            }
        }
        return (double)both / small;
    }
    double jac = (double)both / seen;
    double inter = jac * ((double)na + nb) / (1.0 + jac);
    double c = inter / small;
    return c > 1.0 ? 1.0 : c;
}
