/*
 * fuzz_time.c - libFuzzer target: record times (src/io/timeparse.c).
 *
 * Two halves.  The input as a string: when nd__parse_time accepts it, the
 * same instant written canonically ("YYYY-MM-DDTHH:MM:SSZ", for years
 * 0..9999) and as a decimal integer parses back to the same value, and an
 * input that already is canonical (after folding 't', ' ' and 'z', seconds
 * below 60) is exactly the canonical form of its value.  The first 8 bytes
 * as an instant: written in the many spellings the parser takes (separator,
 * fraction, zone as Z, +HH:MM, +HHMM or +HH with the local time shifted to
 * match), each parses to that instant.  The calendar is checked against an
 * independent one: civil_from_days below (the inverse algorithm) and, for
 * instants glibc can represent, gmtime_r.
 */
#include "../../src/io/timeparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Days since 1970-01-01 to y-m-d (Hinnant's civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The fields of instant t; 0 when its year is outside 0..9999. */
static int fields(int64_t t, int64_t *y, unsigned *mo, unsigned *d,
                  unsigned *h, unsigned *mi, unsigned *s)
{
    if (t < -62167219200LL || t >= 253402300800LL)
        return 0;
    int64_t days = floordiv(t, 86400), sod = t - days * 86400;
    civil_from_days(days, y, mo, d);
    *h = (unsigned)(sod / 3600);
    *mi = (unsigned)(sod / 60 % 60);
    *s = (unsigned)(sod % 60);
    return 1;
}

static int canonical(int64_t t, char *buf, size_t cap)
{
    int64_t y;
    unsigned mo, d, h, mi, s;
    if (!fields(t, &y, &mo, &d, &h, &mi, &s))
        return 0;
    snprintf(buf, cap, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, mo,
             d, h, mi, s);
    return 1;
}

static void expect(const char *s, int64_t want)
{
    int64_t got;
    if (!nd__parse_time(s, strlen(s), &got) || got != want) {
        fprintf(stderr, "'%s' should read as %lld\n", s, (long long)want);
        abort();
    }
}

static void check_string(const char *s, size_t n)
{
    int64_t t;
    if (!nd__parse_time(s, n, &t))
        return;
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", (long long)t);
    expect(buf, t);
    if (!canonical(t, buf, sizeof buf))
        return;
    expect(buf, t);
    /* glibc's calendar agrees with ours */
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm)) {
        char g[64];
        snprintf(g, sizeof g, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
        if (strcmp(g, buf) != 0)
            abort();
    }
    if (n != 20)
        return;
    char f[21];
    memcpy(f, s, 20);
    f[20] = '\0';
    if (f[10] == 't' || f[10] == ' ')
        f[10] = 'T';
    if (f[19] == 'z')
        f[19] = 'Z';
    if (f[17] == '6') /* a leap second is the next minute's first */
        return;
    if (f[4] == '-' && f[10] == 'T' && f[19] == 'Z' && strcmp(f, buf) != 0) {
        fprintf(stderr, "'%s' read as %lld, which is '%s'\n", f,
                (long long)t, buf);
        abort();
    }
}

/* Instant t spelled in the way the bits of how pick. */
static void check_instant(int64_t t, uint32_t how)
{
    char buf[96];
    snprintf(buf, sizeof buf, "%lld", (long long)t);
    expect(buf, t);
    snprintf(buf, sizeof buf, "%+lld", (long long)t);
    expect(buf, t);
    /* an offset of up to 23:59, whole minutes or hours */
    int off = (int)(how >> 8) % (24 * 60);
    if (how & 0x10)
        off -= off % 60;
    if (how & 0x20)
        off = -off;
    int64_t y;
    unsigned mo, d, h, mi, s;
    if (!fields(t, &y, &mo, &d, &h, &mi, &s) ||
        !fields(t + (int64_t)off * 60, &y, &mo, &d, &h, &mi, &s))
        return;
    static const char seps[] = "Tt ";
    char sep = seps[how % 3];
    int n = snprintf(buf, sizeof buf, "%04lld-%02u-%02u%c%02u:%02u",
                     (long long)y, mo, d, sep, h, mi);
    if (s || (how & 4)) {
        n += snprintf(buf + n, sizeof buf - (size_t)n, ":%02u", s);
        if (how & 8)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%c%u",
                          (how & 0x40) ? ',' : '.', how >> 20);
    }
    unsigned a = (unsigned)(off < 0 ? -off : off);
    char sign = off < 0 ? '-' : '+';
    switch ((how >> 7) & 1 ? 4 : (how >> 24) % 4) {
    case 0:
        if (off == 0) {
            snprintf(buf + n, sizeof buf - (size_t)n, "%c",
                     (how & 0x80000) ? 'z' : 'Z');
            break;
        }
        /* fall through */
    case 1:
        snprintf(buf + n, sizeof buf - (size_t)n, "%c%02u:%02u", sign,
                 a / 60, a % 60);
        break;
    case 2:
        snprintf(buf + n, sizeof buf - (size_t)n, "%c%02u%02u", sign,
                 a / 60, a % 60);
        break;
    case 3:
        if (a % 60 == 0) {
            snprintf(buf + n, sizeof buf - (size_t)n, "%c%02u", sign, a / 60);
            break;
        }
        snprintf(buf + n, sizeof buf - (size_t)n, "%c%02u:%02u", sign,
                 a / 60, a % 60);
        break;
    default: /* no zone: UTC, so only without an offset */
        if (off != 0)
            snprintf(buf + n, sizeof buf - (size_t)n, "%c%02u:%02u", sign,
                     a / 60, a % 60);
        break;
    }
    expect(buf, t);
    /* midnight: the date alone */
    if (fields(t, &y, &mo, &d, &h, &mi, &s) && h == 0 && mi == 0 && s == 0) {
        snprintf(buf, sizeof buf, "%04lld-%02u-%02u", (long long)y, mo, d);
        expect(buf, t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    check_string(s, size);
    free(s);
    if (size >= 12) {
        int64_t t;
        uint32_t how;
        memcpy(&t, data, 8);
        memcpy(&how, data + 8, 4);
        /* mostly inside years 0..9999, where the spellings apply */
        if (!(how & 0x8000))
            t = t % 253402300800LL;
        check_instant(t, how);
    }
    return 0;
}
