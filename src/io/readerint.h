/*
 * readerint.h - what the job asks of the reader beyond the public header
 * (internal).
 */
#ifndef ND_READERINT_H
#define ND_READERINT_H

#include "../neardup.h"

/*
 * nd_reader_next, except that with parse 0 a JSONL line that is not blank
 * is not parsed: it returns 2 with rec->file and rec->line set and nothing
 * else.  Records of other
 * formats are parsed either way.  A reader skimmed so yields, over the
 * same inputs, one record where nd_reader_next yields one, or an error
 * (a line it would find bad is a record here when not parsed).
 */
int nd__reader_next_skim(nd_reader *r, int parse, nd_record *rec);

#endif
