/*
 * docstore.h - how the batch narrows per-document counts (internal).
 *
 * Shingle-set sizes and text lengths are kept as uint32: a text of 4 GB is
 * no document, and a count past UINT32_MAX is stored as UINT32_MAX, which
 * still sorts at or above every real count (keep longest, the guard's
 * centers) and keeps containment estimates in [0, 1].
 */
#ifndef ND_DOCSTORE_H
#define ND_DOCSTORE_H

#include <stdint.h>

static inline uint32_t nd__sat32(uint64_t x)
{
    return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

#endif
