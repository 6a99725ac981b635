/*
 * params.h - what the stages share about parameters (internal).
 */
#ifndef ND_PARAMS_H
#define ND_PARAMS_H

#include "../neardup.h"

/* The Jaccard similarity the automatic LSH layout aims at. */
double nd__params_lsh_target(const nd_params *p);

/* The containment bands under main bands of `rows` rows: 0 and 0 when
   none (params.c). */
void nd__params_lsh_contain(const nd_params *p, unsigned rows, unsigned *cbands,
                            unsigned *crows);

/*
 * 1 when a pair with these scores matches under p: containment >= threshold
 * (measure containment), or Jaccard >= threshold or containment >=
 * p->containment (measure jaccard).  containment is that of the smaller set
 * in the larger.
 */
int nd__params_match(const nd_params *p, double jaccard, double containment);

/* The shingles in a stub's worth of words (params.c): a smaller text
   contained in another is not a copy of it. */
uint64_t nd__params_stub_shingles(const nd_params *p);

/* "word", "char" or "glyph". */
const char *nd__shingle_name(nd_shingle_kind k);

#endif
