/*
 * timeparse.h - record times as seconds since the epoch (internal).
 */
#ifndef ND_TIMEPARSE_H
#define ND_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse s[0..len): an optionally signed decimal integer (seconds), or an
 * RFC 3339 / ISO 8601 date-time "YYYY-MM-DD[(T|t| )HH:MM[:SS[.frac]]][Z|z|
 * +HH:MM|-HH:MM|+HHMM|+HH]" (no zone means UTC; a date alone is midnight
 * UTC; the fraction is dropped).  Returns 1 and *out, or 0 when s is not
 * one of these.
 */
int nd__parse_time(const char *s, size_t len, int64_t *out);

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
int64_t nd__days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
