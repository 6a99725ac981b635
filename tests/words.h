/*
 * words.h - pseudo-words for texts of known overlap (test helper, included
 * by several test files).
 */
#ifndef ND_TEST_WORDS_H
#define ND_TEST_WORDS_H

#include <stddef.h>
#include <stdint.h>

#include "../src/sketch/sketch.h"

/* nwords pseudo-words of 4..9 letters drawn from state, appended to t at
   *n (a space between words), NUL-terminated. */
static inline void test_words(char *t, size_t *n, uint64_t state, unsigned nwords)
{
    for (unsigned w = 0; w < nwords; w++) {
        if (*n)
            t[(*n)++] = ' ';
        unsigned len = 4 + (unsigned)(nd__splitmix64(&state) % 6);
        for (unsigned i = 0; i < len; i++)
            t[(*n)++] = (char)('a' + nd__splitmix64(&state) % 26);
    }
    t[*n] = '\0';
}

#endif
