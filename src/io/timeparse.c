/*
 * timeparse.c - RFC 3339 / ISO 8601 time stamps to epoch seconds.
 *
 * Hand-written rather than strptime/timegm: no locale, no time zone
 * database, no dependence on the C library's year range.  The calendar
 * arithmetic is Howard Hinnant's days_from_civil ("chrono-Compatible
 * Low-Level Date Algorithms"), which counts 400-year eras of 146097 days
 * and is exact for every year representable here.
 */
#include "timeparse.h"

int64_t nd__days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                               /* [0, 399] */
    int64_t mp = (m + 9) % 12;                                 /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;         /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;       /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* n decimal digits at s[*i]; 0 when fewer are there. */
static int digits(const char *s, size_t len, size_t *i, unsigned n,
                  unsigned *val)
{
    unsigned v = 0;
    for (unsigned k = 0; k < n; k++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return 0;
        v = v * 10 + (unsigned)(s[*i] - '0');
        (*i)++;
    }
    *val = v;
    return 1;
}

static int is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int parse_integer(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    if (i == len)
        return 0;
    /* the magnitude of INT64_MIN is one more than INT64_MAX */
    uint64_t v = 0, max = (uint64_t)INT64_MAX + (uint64_t)neg;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        if (v > max / 10)
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max)
            return 0;
    }
    *out = !neg ? (int64_t)v : v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
    return 1;
}

int nd__parse_time(const char *s, size_t len, int64_t *out)
{
    if (parse_integer(s, len, out))
        return 1;
    static const unsigned char mdays[12] = {31, 28, 31, 30, 31, 30,
                                            31, 31, 30, 31, 30, 31};
    size_t i = 0;
    unsigned y, mo, d, h = 0, mi = 0, sec = 0;
    if (!digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
        !digits(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
        !digits(s, len, &i, 2, &d))
        return 0;
    if (mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (unsigned)(mo == 2 && is_leap(y)))
        return 0;
    int64_t offset = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return 0;
        i++;
        if (!digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' ||
            !digits(s, len, &i, 2, &mi))
            return 0;
        if (i < len && s[i] == ':') {
            i++;
            if (!digits(s, len, &i, 2, &sec))
                return 0;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                size_t start = i;
                while (i < len && s[i] >= '0' && s[i] <= '9')
                    i++;
                if (i == start)
                    return 0;
            }
        }
        /* 60 is a leap second: it counts as the next minute's first. */
        if (h > 23 || mi > 59 || sec > 60)
            return 0;
        if (i < len) {
            char c = s[i++];
            if (c == 'Z' || c == 'z') {
                if (i != len)
                    return 0;
            } else if (c == '+' || c == '-') {
                unsigned oh, om = 0;
                if (!digits(s, len, &i, 2, &oh))
                    return 0;
                if (i < len && s[i] == ':') {
                    i++;
                    if (!digits(s, len, &i, 2, &om))
                        return 0;
                } else if (i < len && !digits(s, len, &i, 2, &om)) {
                    return 0;
                }
                if (i != len || oh > 23 || om > 59)
                    return 0;
                offset = (int64_t)(oh * 3600 + om * 60);
                if (c == '-')
                    offset = -offset;
            } else {
                return 0;
            }
        }
    }
    *out = nd__days_from_civil(y, mo, d) * 86400 +
           (int64_t)(h * 3600 + mi * 60 + sec) - offset;
    return 1;
}
