/*
 * numbers.c - the figures a text states (text.h).
 *
 * Reports built from one template (earnings, commodity prices, weather,
 * sports results) share most of their words and differ in their figures;
 * reprints of one story copy its figures.  The verification stage compares
 * the figures of two texts, so this file only lists them.  They are read
 * from the raw text, where "$0.21" is still one figure and not the two
 * tokens normalization makes of it.
 */
#include "text.h"
#include "../core/sort.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

int nd__figures(nd__textbuf *t, const char *text, size_t len, uint64_t seed)
{
    const uint64_t fseed = seed ^ 0x66696775726573ull; /* "figures" */
    char buf[64];
    t->nfigs = 0;
    size_t i = 0;
    while (i < len) {
        if (!is_digit(text[i])) {
            i++;
            continue;
        }
        size_t n = 0;
        while (i < len) {
            char c = text[i];
            if (is_digit(c)) {
                if (n < sizeof buf)
                    buf[n++] = c;
                i++;
            } else if ((c == '.' || c == ',' || c == ':') && i + 1 < len &&
                       is_digit(text[i + 1])) {
                if (c != ',' && n < sizeof buf)
                    buf[n++] = c;
                i++;
            } else {
                break;
            }
        }
        if (t->nfigs == t->figs_cap) {
            size_t cap = t->figs_cap ? t->figs_cap * 2 : 64;
            uint64_t *p = realloc(t->figs, cap * sizeof *p);
            if (!p)
                return ND_ERR_NOMEM;
            t->figs = p;
            t->figs_cap = cap;
        }
        t->figs[t->nfigs++] = XXH3_64bits_withSeed(buf, n, fseed);
    }
    if (t->nfigs > 1)
        qsort(t->figs, t->nfigs, sizeof *t->figs, cmp_u64);
    t->nfigs = nd__unique_u64(t->figs, t->nfigs);
    return ND_OK;
}
