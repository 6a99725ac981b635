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

/*
 * A part of the input: a whole path (to 0), or bytes [from, to) of a plain
 * (uncompressed) JSONL or text file, cut at line starts, whose first line
 * is line line0 + 1 of the file (error messages and FILE:LINE ids name it
 * so).  A range reads no byte-order mark.
 */
typedef struct {
    const char *path;
    uint64_t from, to, line0;
} nd__piece;

/* 1 when path is a plain regular file of JSONL or text records (by the
   reader's rules for opts' format), which may be read in ranges; *size
   its bytes (0 unless a regular file). */
int nd__reader_cuttable(const char *path, const nd_reader_opts *opts, uint64_t *size);

/* nd_reader_open over pieces in order (n 0: nothing, not stdin). */
int nd__reader_open_pieces(const nd__piece *pieces, size_t n,
                           const nd_reader_opts *opts, nd_reader **out);

#endif
