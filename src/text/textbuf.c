/*
 * textbuf.c - release of the per-thread scratch of the text stage (text.h).
 */
#include "text.h"

#include <stdlib.h>
#include <string.h>

void nd__textbuf_free(nd__textbuf *t)
{
    if (!t)
        return;
    free(t->norm);
    free(t->hashes);
    free(t->tmp);
    free(t->aux);
    free(t->figs);
    free(t->glyphs);
    free(t->dedupe);
    free(t->stamps);
    memset(t, 0, sizeof *t);
}
