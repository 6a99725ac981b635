/*
 * sort.c - LSD radix sorts on 64-bit keys, 8 bits a pass.
 *
 * One counting pass builds all eight histograms; a pass whose byte is the
 * same in every key is skipped, so keys that use few bits (document pairs,
 * small sets) cost only the passes they need.  Below a small size insertion
 * sort wins.
 */
#include <string.h>

#include "sort.h"

#define SMALL 64

#define DEFINE_RADIX(NAME, T, KEY)                                            \
    void NAME(T *v, T *tmp, size_t n)                                         \
    {                                                                         \
        if (n < SMALL) {                                                      \
            for (size_t i = 1; i < n; i++) {                                  \
                T x = v[i];                                                   \
                size_t j = i;                                                 \
                for (; j > 0 && KEY(v[j - 1]) > KEY(x); j--)                  \
                    v[j] = v[j - 1];                                          \
                v[j] = x;                                                     \
            }                                                                 \
            return;                                                           \
        }                                                                     \
        static const unsigned P = 8;                                          \
        size_t count[8][256];                                                 \
        memset(count, 0, sizeof count);                                       \
        for (size_t i = 0; i < n; i++) {                                      \
            uint64_t k = KEY(v[i]);                                           \
            for (unsigned p = 0; p < P; p++)                                  \
                count[p][(k >> (8 * p)) & 0xff]++;                            \
        }                                                                     \
        T *src = v, *dst = tmp;                                               \
        for (unsigned p = 0; p < P; p++) {                                    \
            size_t *c = count[p];                                             \
            if (c[(KEY(src[0]) >> (8 * p)) & 0xff] == n)                      \
                continue;                                                     \
            size_t sum = 0;                                                   \
            for (unsigned d = 0; d < 256; d++) {                              \
                size_t t = c[d];                                              \
                c[d] = sum;                                                   \
                sum += t;                                                     \
            }                                                                 \
            for (size_t i = 0; i < n; i++)                                    \
                dst[c[(KEY(src[i]) >> (8 * p)) & 0xff]++] = src[i];           \
            T *t = src;                                                       \
            src = dst;                                                        \
            dst = t;                                                          \
        }                                                                     \
        if (src != v)                                                         \
            memcpy(v, src, n * sizeof *v);                                    \
    }

#define KEY_U64(x) (x)
#define KEY_KV(x) ((x).key)

DEFINE_RADIX(nd__sort_u64, uint64_t, KEY_U64)
DEFINE_RADIX(nd__sort_kv, nd__kv, KEY_KV)

void nd__sort_u64_hi32(uint64_t *v, uint64_t *tmp, size_t n)
{
    size_t count[4][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (unsigned p = 0; p < 4; p++)
            count[p][(v[i] >> (32 + 8 * p)) & 0xff]++;
    uint64_t *src = v, *dst = tmp;
    for (unsigned p = 0; p < 4; p++) {
        size_t *c = count[p];
        if (n == 0 || c[(src[0] >> (32 + 8 * p)) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (unsigned d = 0; d < 256; d++) {
            size_t t = c[d];
            c[d] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i] >> (32 + 8 * p)) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof *v);
}

size_t nd__unique_u64(uint64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    size_t w = 1;
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[w - 1])
            v[w++] = v[i];
    return w;
}
