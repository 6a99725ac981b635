/*
 * ndgen - a deterministic, streaming generator of wire-reprint corpora with
 * ground truth, for testing and benchmarking neardup.
 *
 * A corpus is a sequence of clusters.  A cluster is one base story (from the
 * shipped datasets/base-stories.txt or from Reuters-21578) written out once
 * unedited (source "wire") and then reprinted by invented outlets, each
 * reprint applying a random subset of the edits real reprints show: new or
 * re-cased headline, dateline and byline changes, truncation, dropped,
 * swapped and locally written paragraphs, page boilerplate, typographic
 * quotes, word typos and OCR-like character noise.  Hard negatives are
 * stories built from one template (earnings, commodity prices, sports
 * results, weather) that differ only in names and numbers: each is its own
 * cluster.  Two presets (pages, digest) add what real news pages hold
 * besides reprints: outlet chrome, shared captions, galleries, fillers,
 * digests, stubs, briefs and write-thru chains, labelled by the rules of a
 * labelled set of real pages (see "page presets").
 *
 * Only the base stories are kept in memory.  Documents go through a bounded
 * window that is shuffled before ids are assigned, so reprints of a story are
 * not adjacent but the memory stays fixed whatever --docs is.  One
 * xoshiro256** stream seeded from --seed drives every choice, so a seed and a
 * command line always give the same bytes.
 */
#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define NDGEN_VERSION "1.0"

/* ================================================================ buffers */

typedef struct {
    char *p;
    size_t n, cap;
} buf_t;

static void die_oom(void)
{
    fputs("ndgen: out of memory\n", stderr);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_oom();
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die_oom();
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void buf_reserve(buf_t *b, size_t extra)
{
    if (b->n + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

static void buf_put(buf_t *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void buf_puts(buf_t *b, const char *s) { buf_put(b, s, strlen(s)); }

static void buf_putc(buf_t *b, char c)
{
    buf_reserve(b, 1);
    b->p[b->n++] = c;
}

__attribute__((format(printf, 2, 3)))
static void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    buf_reserve(b, (size_t)k + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* ================================================================ random */

/* xoshiro256** (Blackman & Vigna 2018), seeded through splitmix64: fast,
 * small state, and good enough for every choice made here. */
typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static double rng_u01(rng_t *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* uniform in [0, n) for n < 2^32 (multiply-shift, no division) */
static uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static int rng_range(rng_t *r, int lo, int hi)
{
    return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

static double rng_uniform(rng_t *r, double a, double b) { return a + (b - a) * rng_u01(r); }

static int rng_chance(rng_t *r, double p) { return p > 0 && rng_u01(r) < p; }

/* Events at rate p per unit are placed by drawing geometric gaps, one draw
 * per event instead of one per character: this keeps noise cheap at scale. */
static uint64_t rng_gap(rng_t *r, double log1mp)
{
    double u = rng_u01(r);
    if (u <= 0)
        u = 0x1.0p-53;
    double g = floor(log(u) / log1mp);
    return g > 1e15 ? (uint64_t)1e15 : (uint64_t)g;
}

#define PICK(r, arr) ((arr)[rng_below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* ================================================================ dates */

/* Civil-date <-> day-number conversions (H. Hinnant's algorithms), used
 * instead of timegm/gmtime so output never depends on the time zone. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static const char *const MONTH_ABBR[12] = {"Jan", "Feb", "March", "April", "May", "June",
                                           "July", "Aug", "Sept", "Oct", "Nov", "Dec"};
static const char *const MONTH_UP[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const WEEKDAY[7] = {"Thursday", "Friday", "Saturday", "Sunday",
                                       "Monday", "Tuesday", "Wednesday"};

static int64_t floordiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static void fmt_iso(char out[32], int64_t t)
{
    int64_t days = floordiv(t, 86400);
    int64_t sec = t - days * 86400;
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60));
}

static int year_of(int64_t t)
{
    int y, m, d;
    civil_from_days(floordiv(t, 86400), &y, &m, &d);
    return y;
}

/* ================================================================ stories */

typedef struct {
    const char *s;
    size_t n;
} span_t;

/* A story as the editor sees it: every span points into memory owned by
 * someone else (a base story, or the hard-negative scratch buffer). */
typedef struct {
    span_t title, city, dateline; /* dateline: as the wire copy prints it */
    int64_t time;
    size_t np;
    span_t *para;
} view_t;

typedef struct {
    char *title, *city, *dateline;
    int64_t time;
    size_t np, bytes;
    span_t *para;
} story_t;

typedef struct {
    story_t *v;
    size_t n, cap;
} stories_t;

static void stories_push(stories_t *ss, story_t st)
{
    if (ss->n == ss->cap) {
        ss->cap = ss->cap ? ss->cap * 2 : 64;
        ss->v = xrealloc(ss->v, ss->cap * sizeof *ss->v);
    }
    ss->v[ss->n++] = st;
}

/* Replace bytes that are not valid UTF-8 by '?', so output is always UTF-8. */
static void utf8_fix(char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++)
            ok = ((unsigned char)s[i + k] >> 6) == 2;
        if (!ok) {
            s[i++] = '?';
            continue;
        }
        if (len == 1 && c < 0x20 && c != '\n')
            s[i] = ' ';
        i += len;
    }
}

/* Collapse runs of white space (including the hard line wraps of the
 * Reuters bodies) to one space and trim both ends; returns the new length. */
static size_t squeeze_ws(char *s, size_t n)
{
    size_t o = 0;
    int sp = 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            if (!sp)
                s[o++] = ' ';
            sp = 1;
        } else {
            s[o++] = c;
            sp = 0;
        }
    }
    while (o > 0 && s[o - 1] == ' ')
        o--;
    s[o] = '\0';
    return o;
}

static void story_add_para(story_t *st, size_t *cap, const char *s, size_t n)
{
    char *p = xstrndup(s, n);
    utf8_fix(p, n);
    n = squeeze_ws(p, n);
    if (n == 0) {
        free(p);
        return;
    }
    if (st->np == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        st->para = xrealloc(st->para, *cap * sizeof *st->para);
    }
    st->para[st->np].s = p;
    st->para[st->np].n = n;
    st->np++;
    st->bytes += n;
}

/* Reuters tables ("Shr 28 cts vs 22 cts", "Net 1.4 mln vs 1.1 mln") come
 * one row per paragraph; rows shorter than `min` bytes are joined to the
 * paragraph before them with a newline, and a short paragraph (a header
 * line) takes the next one in, so edits treat a table as one block rather
 * than cutting it row by row. */
static void story_join_short(story_t *st, size_t min)
{
    size_t k = 0;
    for (size_t i = 0; i < st->np; i++) {
        span_t p = st->para[i];
        if (k > 0 && (p.n < min || st->para[k - 1].n < min)) {
            span_t *q = &st->para[k - 1];
            char *m = xrealloc((char *)q->s, q->n + p.n + 2);
            m[q->n] = '\n';
            memcpy(m + q->n + 1, p.s, p.n);
            m[q->n + 1 + p.n] = '\0';
            q->s = m;
            q->n += p.n + 1;
            st->bytes += 1;
            free((char *)p.s);
        } else {
            st->para[k++] = p;
        }
    }
    st->np = k;
}

/* The shipped base: "### Title", then "@ CITY", then paragraphs separated by
 * blank lines; lines starting with "# " outside a story are comments. */
static int load_shipped(const char *path, stories_t *ss)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    story_t cur = {0};
    size_t cap = 0;
    int in_story = 0;
    buf_t para = {0};
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    /* every shipped story gets a time 0-30 days after 2024-03-01 06:00Z,
     * spread by a fixed rule so the file alone decides the times */
    const int64_t t0 = days_from_civil(2024, 3, 1) * 86400 + 6 * 3600;
    while (1) {
        got = getline(&line, &lcap, f);
        int eof = got < 0;
        size_t n = eof ? 0 : (size_t)got;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        int blank = n == 0;
        int head = !eof && n >= 4 && memcmp(line, "### ", 4) == 0;
        if ((blank || eof || head) && para.n > 0) {
            story_add_para(&cur, &cap, para.p, para.n);
            para.n = 0;
        }
        if (eof || head) {
            if (in_story && cur.np > 0) {
                stories_push(ss, cur);
            } else if (in_story) {
                free(cur.title);
                free(cur.city);
                free(cur.dateline);
            }
            memset(&cur, 0, sizeof cur);
            cap = 0;
            in_story = 0;
        }
        if (eof)
            break;
        if (head) {
            in_story = 1;
            cur.title = xstrndup(line + 4, n - 4);
            utf8_fix(cur.title, n - 4);
            cur.time = t0 + (int64_t)ss->n * 17 * 3600 % (30 * 86400) + (int64_t)(ss->n * 7 % 60) * 60;
        } else if (in_story && n >= 2 && memcmp(line, "@ ", 2) == 0 && cur.np == 0 && para.n == 0) {
            cur.city = xstrndup(line + 2, n - 2);
            utf8_fix(cur.city, n - 2);
            size_t dl = n - 2 + 8;
            cur.dateline = xmalloc(dl);
            snprintf(cur.dateline, dl, "%s \xe2\x80\x94 ", cur.city);
        } else if (in_story && !blank) {
            if (para.n)
                buf_putc(&para, ' ');
            buf_put(&para, line, n);
        }
    }
    free(line);
    free(para.p);
    fclose(f);
    return 0;
}

static int month_from_abbr(const char *s)
{
    for (int i = 0; i < 12; i++)
        if (strncmp(s, MONTH_UP[i], 3) == 0)
            return i + 1;
    return 0;
}

/* FNV-1a, for dropping the Reuters bodies that are exact copies */
static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}

typedef struct {
    uint64_t *slot;
    size_t mask, n;
} hashset_t;

static int hashset_insert(hashset_t *h, uint64_t key)
{
    if (key == 0)
        key = 1;
    if ((h->n + 1) * 2 > h->mask + 1 || !h->slot) {
        size_t cap = h->slot ? (h->mask + 1) * 2 : 1024;
        uint64_t *ns = calloc(cap, sizeof *ns);
        if (!ns)
            die_oom();
        for (size_t i = 0; h->slot && i <= h->mask; i++) {
            if (!h->slot[i])
                continue;
            size_t j = h->slot[i] & (cap - 1);
            while (ns[j])
                j = (j + 1) & (cap - 1);
            ns[j] = h->slot[i];
        }
        free(h->slot);
        h->slot = ns;
        h->mask = cap - 1;
    }
    size_t j = key & h->mask;
    while (h->slot[j]) {
        if (h->slot[j] == key)
            return 0;
        j = (j + 1) & h->mask;
    }
    h->slot[j] = key;
    h->n++;
    return 1;
}

/* Reuters-21578 as gzipped JSONL: bodies of at least 200 characters, the
 * trailing "Reuter" sign-off removed, paragraphs split at "\n    " (newline
 * and four spaces) and their hard line wraps undone. */
static int load_reuters(const char *path, stories_t *ss, size_t *skipped_dup)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return -1;
    gzbuffer(g, 1 << 17);
    buf_t line = {0};
    char chunk[65536];
    hashset_t seen = {0};
    int rc = 0;
    size_t lineno = 0;
    for (;;) {
        line.n = 0;
        int got_any = 0;
        while (gzgets(g, chunk, sizeof chunk)) {
            got_any = 1;
            size_t k = strlen(chunk);
            buf_put(&line, chunk, k);
            if (k && chunk[k - 1] == '\n')
                break;
        }
        if (!got_any)
            break;
        lineno++;
        json_error_t err;
        json_t *o = json_loadb(line.p, line.n, 0, &err);
        if (!o || !json_is_object(o)) {
            fprintf(stderr, "ndgen: %s:%zu: bad JSON: %s\n", path, lineno, err.text);
            json_decref(o);
            rc = -2;
            break;
        }
        const char *body = json_string_value(json_object_get(o, "body"));
        size_t blen = body ? strlen(body) : 0;
        if (blen < 200 || !hashset_insert(&seen, fnv1a(body, blen))) {
            if (blen >= 200)
                (*skipped_dup)++;
            json_decref(o);
            continue;
        }
        story_t st = {0};
        size_t cap = 0;
        /* drop the sign-off */
        size_t end = blen;
        while (end > 0 && (body[end - 1] == ' ' || body[end - 1] == '\n'))
            end--;
        if (end >= 6 && (strncmp(body + end - 6, "Reuter", 6) == 0 || strncmp(body + end - 6, "REUTER", 6) == 0))
            end -= 6;
        size_t start = 0;
        for (size_t i = 0; i <= end; i++) {
            if (i == end || (body[i] == '\n' && i + 4 < end && memcmp(body + i + 1, "    ", 4) == 0)) {
                story_add_para(&st, &cap, body + start, i - start);
                start = i + 1;
            }
        }
        if (st.np == 0) {
            json_decref(o);
            continue;
        }
        story_join_short(&st, 80);
        const char *title = json_string_value(json_object_get(o, "title"));
        if (title && *title) {
            st.title = xstrndup(title, strlen(title));
        } else { /* untitled items: the opening words, cut at a space */
            size_t tn = st.para[0].n < 60 ? st.para[0].n : 60;
            while (tn < st.para[0].n && tn > 20 && st.para[0].s[tn] != ' ')
                tn--;
            st.title = xstrndup(st.para[0].s, tn);
            for (size_t k = 0; k < tn; k++)
                if (st.title[k] == '\n')
                    st.title[k] = ' ';
        }
        utf8_fix(st.title, strlen(st.title));
        st.title[squeeze_ws(st.title, strlen(st.title))] = '\0';
        const char *dl = json_string_value(json_object_get(o, "dateline"));
        if (dl && *dl) {
            size_t dn = strlen(dl);
            while (dn > 0 && dl[dn - 1] == ' ')
                dn--;
            const char *comma = memchr(dl, ',', dn);
            size_t cn = comma ? (size_t)(comma - dl) : dn;
            while (cn > 0 && dl[cn - 1] == ' ')
                cn--;
            while (cn > 0 && *dl == ' ') {
                dl++;
                cn--;
                dn--;
            }
            st.city = xstrndup(dl, cn);
            st.dateline = xmalloc(dn + 2);
            memcpy(st.dateline, dl, dn);
            st.dateline[dn] = ' ';
            st.dateline[dn + 1] = '\0';
            utf8_fix(st.city, cn);
            utf8_fix(st.dateline, dn + 1);
        }
        const char *date = json_string_value(json_object_get(o, "date"));
        int d = 0, y = 0, hh = 0, mm = 0, sec = 0;
        char mon[4] = {0};
        if (date && sscanf(date, "%d-%3[A-Za-z]-%d %d:%d:%d", &d, mon, &y, &hh, &mm, &sec) == 6 &&
            month_from_abbr(mon)) {
            st.time = days_from_civil(y, month_from_abbr(mon), d) * 86400 + hh * 3600 + mm * 60 + sec;
        } else {
            st.time = days_from_civil(1987, 3, 1) * 86400;
        }
        stories_push(ss, st);
        json_decref(o);
    }
    free(line.p);
    free(seen.slot);
    gzclose(g);
    return rc;
}

static void view_of_story(const story_t *st, view_t *v)
{
    v->title = (span_t){st->title, strlen(st->title)};
    v->city = st->city ? (span_t){st->city, strlen(st->city)} : (span_t){"", 0};
    v->dateline = st->dateline ? (span_t){st->dateline, strlen(st->dateline)} : (span_t){"", 0};
    v->time = st->time;
    v->np = st->np;
    v->para = st->para;
}

/* ================================================================ name banks */

/* Every name below is invented for this generator. */
static const char *const OUTLETS[] = {
    "Millbrook Courier", "Harbor City Tribune", "Eastvale Gazette", "Pine County Herald",
    "Riverton Daily", "Lakeshore Post", "Northfield Record", "Cedar Valley Times",
    "Bramford Ledger", "Ashgrove Sentinel", "Coldwater Observer", "Fenwick Star",
    "Glenmoor Chronicle", "Hollis Bay News", "Ironwood Register", "Kettle Falls Journal",
    "Larkspur Examiner", "Marlow Evening Press", "Newcombe Dispatch", "Oldcastle Advertiser",
    "Port Selden Bulletin", "Quarry Hill Monitor", "Redmere Mercury", "Saltash Clarion",
    "Thornbury Enterprise", "Upton Standard", "Valemount Review", "Whitby Plains Leader",
    "KXRT News 7", "WBNF 12 Online", "Channel 9 Eastvale", "Metro News Network",
    "The Daily Aggregate", "NewsNow Digest", "Frontpage Wire Review", "Morning Brief Online",
    "Regional Report", "The Citizen Voice", "Valley Public Radio", "Coastline Media",
};

static const char *const FIRST[] = {
    "Jane", "Marcus", "Elena", "David", "Priya", "Tomas", "Grace", "Samuel", "Aisha", "Henrik",
    "Maria", "Owen", "Lucia", "Kwame", "Nora", "Felix", "Hana", "Victor", "Chloe", "Rafael",
    "Ingrid", "Jamal", "Sofia", "Patrick", "Mei", "Andre", "Ruth", "Daniel", "Yusuf", "Clara",
};
static const char *const LAST[] = {
    "Doe", "Whitfield", "Moreno", "Okafor", "Lindqvist", "Brennan", "Castellano", "Ashby",
    "Nakamura", "Petrov", "Halloran", "Dubois", "Mensah", "Kowalski", "Ferreira", "Sutherland",
    "Abernathy", "Quinlan", "Vasquez", "Thorne", "Iyer", "Caldwell", "Rasmussen", "Okoro",
    "Delacroix", "Hargrove", "Lindgren", "Marchetti", "Oyelaran", "Pemberton",
};
static const char *const TOWNS[] = {
    "Millbrook", "Eastvale", "Harrow Springs", "Pine Ridge", "Riverton", "Coldwater", "Ashgrove",
    "Fenwick", "Glenmoor", "Hollis Bay", "Ironwood", "Kettle Falls", "Larkspur", "Marlow",
    "Newcombe", "Oldcastle", "Port Selden", "Quarry Hill", "Redmere", "Saltash", "Thornbury",
    "Upton", "Valemount", "Whitby Plains", "Bramford", "Cedar Bluff", "Dunmore", "Elkhorn",
};
static const char *const AGENCY[] = {"Associated Press", "Reuters", "Wire Services", "Staff and wire reports"};

static const char *const BOILER[] = {
    "Advertisement",
    "Share this article",
    "Click here to subscribe",
    "Story continues below advertisement",
    "Sign up for our daily newsletter",
    "Follow us on Facebook and Twitter",
    "Share on Facebook Share on Twitter Email",
    "This material may not be published, broadcast, rewritten or redistributed.",
    "Read more:",
    "Recommended Stories",
    "Comments",
    "___",
    "Our journalism takes time and effort. Please consider supporting local news.",
    "Report a typo or error",
};

/* ================================================================ profiles */

typedef struct {
    const char *name;
    double headline;   /* P(headline re-cased, rewritten or dropped) */
    double dateline;   /* P(dateline changed or dropped) */
    double byline;     /* P(byline added) */
    double boiler;     /* P(1-4 boilerplate lines added) */
    double quotes;     /* P(typographic quotes and dashes) */
    double trunc_mild; /* P(last 1-3 paragraphs dropped) */
    double trunc_sev;  /* P(only the first sev_lo..sev_hi of the paragraphs kept) */
    double sev_lo, sev_hi;
    double para_drop;   /* per paragraph after the first: P(dropped) */
    double para_insert; /* P(1-2 local paragraphs inserted) */
    double para_swap;   /* P(two adjacent paragraphs swapped) */
    double typo_doc;    /* P(word typos) */
    double typo_rate;   /* per word */
    double ocr_doc;     /* P(OCR noise) */
    double ocr_lo, ocr_hi; /* per character */
} profile_t;

static const profile_t P_LIGHT = {"light", .5, .5, .4, .6, .5, .3, 0, 0, 0, 0, .05, 0, 1, .005, 0, 0, 0};
static const profile_t P_OCR = {"ocr", .5, .5, .4, .6, .3, .3, 0, 0, 0, 0, .05, 0, 1, .005, 1, .03, .05};
static const profile_t P_TRUNC = {"trunc", .5, .5, .4, .6, .5, .2, 1, .10, .60, 0, .05, 0, 1, .005, 0, 0, 0};
static const profile_t P_WIRE = {"wire", .8, .5, .3, .4, .8, 0, .5, .5, .5, .08, .3, .3, 1, .02, 0, 0, 0};
/* page presets: chrome replaces the boilerplate lines of P_PAGE; no edit
 * cuts a story below ~80 words (see page_reprint) */
static const profile_t P_PAGE = {"page", .5, .5, .4, 0, .5, .3, 0, 0, 0, .03, .1, .15, 1, .005, 0, 0, 0};
static const profile_t P_DIGEST = {"digest", .6, .5, .3, .4, .6, .3, 0, 0, 0, .04, .15, .2, 1, .01, 0, 0, 0};

typedef struct {
    const char *name, *desc;
    const profile_t *prof[4];
    int nprof;
    int rmin, rmax;     /* reprints per base story */
    double hardneg;     /* fraction of clusters that are template hard negatives */
    int hn_rmax;        /* reprints per hard negative: 0..hn_rmax */
    size_t min_bytes;   /* >0: join base paragraphs to about this many bytes */
    uint64_t docs;      /* default --docs; 0 = one pass over the base stories */
    int mode;           /* MODE_CLASSIC, or one of the page models below */
} preset_t;

/* The classic presets write base stories and their reprints only; the page
 * presets add the kinds of documents real news pages hold (see "page
 * presets" below): MODE_PAGES outlet chrome, captions, galleries and very
 * large families, MODE_DIGEST fillers, digests, stubs, briefs and
 * write-thru chains. */
enum { MODE_CLASSIC, MODE_PAGES, MODE_DIGEST };

static const preset_t PRESETS[] = {
    {"web", "light edits: headline, dateline, byline, boilerplate, quotes, mild truncation, 0.5% typos",
     {&P_LIGHT}, 1, 2, 20, 0, 0, 0, 0, MODE_CLASSIC},
    {"ocr", "light edits plus OCR character noise on 3-5% of characters",
     {&P_OCR}, 1, 2, 20, 0, 0, 0, 0, MODE_CLASSIC},
    {"trunc", "light edits plus severe truncation to the first 10-60% of paragraphs",
     {&P_TRUNC}, 1, 2, 20, 0, 0, 0, 0, MODE_CLASSIC},
    {"wire", "headline changes, truncation to half, dropped/added/swapped paragraphs, curly quotes, 2% typos",
     {&P_WIRE}, 1, 2, 12, 0, 0, 0, 0, MODE_CLASSIC},
    {"hardneg", "mostly template hard negatives (earnings, commodity, sports, weather), a few true reprints",
     {&P_LIGHT}, 1, 1, 4, 0.85, 2, 0, 0, MODE_CLASSIC},
    {"scale", "~3 KB documents (base paragraphs joined), light edits, 1,000,000 documents",
     {&P_LIGHT}, 1, 2, 20, 0, 0, 3000, 1000000, MODE_CLASSIC},
    {"sample", "the bundled sample: a mix of web, ocr, trunc and wire edits plus hard negatives",
     {&P_LIGHT, &P_OCR, &P_TRUNC, &P_WIRE}, 4, 3, 12, 0.25, 2, 0, 0, MODE_CLASSIC},
    {"pages", "real pages: outlet chrome with figures, shared captions, galleries, sidebar headlines, "
              "figure typos, two families over 2% of the corpus",
     {&P_PAGE}, 1, 2, 12, 0.05, 2, 0, 0, MODE_PAGES},
    {"digest", "fillers from other stories, digests and live pages, stubs, briefs, write-thru chains",
     {&P_DIGEST, &P_LIGHT}, 2, 2, 10, 0.05, 2, 0, 0, MODE_DIGEST},
};
#define NPRESETS (sizeof PRESETS / sizeof PRESETS[0])

/* ================================================================ text edits */

static int is_alpha(unsigned char c) { return (c | 32) >= 'a' && (c | 32) <= 'z'; }
static int is_alnum(unsigned char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }
static char to_upper(char c) { return (c >= 'a' && c <= 'z') ? (char)(c - 32) : c; }
static char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c; }

static void put_upper(buf_t *o, span_t s)
{
    buf_reserve(o, s.n);
    for (size_t i = 0; i < s.n; i++)
        o->p[o->n++] = to_upper(s.s[i]);
}

static int is_small_word(const char *w, size_t n)
{
    static const char *const small[] = {"a", "an", "the", "of", "in", "on", "at", "to", "for",
                                        "and", "or", "but", "by", "as", "vs", "with"};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++)
        if (strlen(small[i]) == n && strncmp(small[i], w, n) == 0)
            return 1;
    return 0;
}

/* Title Case over ASCII letters; words of an all-caps headline are lowered first. */
static void put_title(buf_t *o, span_t s, size_t max_words)
{
    size_t i = 0, words = 0;
    while (i < s.n && words < max_words) {
        size_t j = i;
        while (j < s.n && s.s[j] != ' ')
            j++;
        char lw[32];
        size_t k = j - i < sizeof lw ? j - i : sizeof lw - 1;
        for (size_t t = 0; t < k; t++)
            lw[t] = to_lower(s.s[i + t]);
        int small = words > 0 && is_small_word(lw, k);
        buf_reserve(o, j - i + 1);
        for (size_t t = i; t < j; t++) {
            char c = to_lower(s.s[t]);
            o->p[o->n++] = (t == i && !small) ? to_upper(c) : c;
        }
        words++;
        while (j < s.n && s.s[j] == ' ')
            j++;
        if (j < s.n && words < max_words)
            o->p[o->n++] = ' ';
        i = j;
    }
}

static void fill_local(rng_t *r, buf_t *o, int year)
{
    const char *town = PICK(r, TOWNS);
    const char *fn = PICK(r, FIRST), *ln = PICK(r, LAST);
    switch (rng_below(r, 8)) {
    case 0:
        buf_printf(o, "Local officials in %s said they were following the situation closely and "
                      "expected to say more later in the week.", town);
        break;
    case 1:
        buf_printf(o, "%s %s, a spokesperson for the %s city council, said residents could find "
                      "updates on the council's website.", fn, ln, town);
        break;
    case 2:
        buf_printf(o, "In %s, about %d people attended a public meeting on the issue on %s "
                      "evening, according to organizers.", town, rng_range(r, 2, 60) * 10, PICK(r, WEEKDAY));
        break;
    case 3:
        buf_printf(o, "The %s has asked %s officials for comment and will update this story.",
                   PICK(r, OUTLETS), town);
        break;
    case 4:
        buf_printf(o, "%s Mayor %s %s said the town had not been directly affected but would "
                      "review its own plans.", town, fn, ln);
        break;
    case 5:
        buf_printf(o, "Residents of %s who have questions can call the county information line "
                      "between 8 a.m. and 5 p.m. on weekdays.", town);
        break;
    case 6:
        buf_printf(o, "A similar proposal was debated in %s in %d but did not advance, records show.",
                   town, year - rng_range(r, 1, 9));
        break;
    default:
        buf_printf(o, "\"We are watching this carefully,\" said %s %s, who owns a small business in "
                      "%s. \"People here want answers.\"", fn, ln, town);
        break;
    }
}

/* "Related:" lines name another base story's headline. */
static const stories_t *g_related;

static void fill_boiler(rng_t *r, buf_t *o, int year)
{
    uint32_t k = rng_below(r, (uint32_t)(sizeof BOILER / sizeof BOILER[0]) + 3);
    if (k == sizeof BOILER / sizeof BOILER[0])
        buf_printf(o, "Copyright %d The Associated Press. All rights reserved.", year);
    else if (k == sizeof BOILER / sizeof BOILER[0] + 1)
        buf_printf(o, "\xc2\xa9 %d %s. All rights reserved.", year, PICK(r, OUTLETS));
    else if (k == sizeof BOILER / sizeof BOILER[0] + 2) {
        const story_t *st = &g_related->v[rng_below(r, (uint32_t)g_related->n)];
        buf_puts(o, "Related: ");
        put_title(o, (span_t){st->title, strlen(st->title)}, 12);
    } else
        buf_puts(o, BOILER[k]);
}

static void fill_dateline(rng_t *r, buf_t *o, const view_t *v)
{
    int y, m, d;
    civil_from_days(floordiv(v->time, 86400), &y, &m, &d);
    switch (rng_below(r, 4)) {
    case 0:
        put_upper(o, v->city);
        buf_puts(o, " (AP) \xe2\x80\x94 ");
        break;
    case 1:
        put_upper(o, v->city);
        buf_printf(o, ", %s %d (Reuters) - ", MONTH_ABBR[m - 1], d);
        break;
    case 2:
        put_upper(o, v->city);
        buf_puts(o, " -- ");
        break;
    default:
        put_title(o, v->city, 8);
        buf_printf(o, ", %s %d \xe2\x80\x94 ", MONTH_ABBR[m - 1], d);
        break;
    }
}

static void fill_byline(rng_t *r, buf_t *o)
{
    const char *fn = PICK(r, FIRST), *ln = PICK(r, LAST);
    switch (rng_below(r, 5)) {
    case 0:
        buf_printf(o, "By %s %s, %s", fn, ln, PICK(r, AGENCY));
        break;
    case 1:
        buf_puts(o, "By ");
        put_upper(o, (span_t){fn, strlen(fn)});
        buf_putc(o, ' ');
        put_upper(o, (span_t){ln, strlen(ln)});
        break;
    case 2:
        buf_printf(o, "By %s %s and %s %s", fn, ln, PICK(r, FIRST), PICK(r, LAST));
        break;
    case 3:
        buf_printf(o, "By The %s", PICK(r, AGENCY));
        break;
    default:
        buf_printf(o, "%s %s | %s", fn, ln, PICK(r, OUTLETS));
        break;
    }
}

/* A rewritten headline: the opening words of the lead, or the old one
 * with a wire update tag or an outlet's suffix. */
static void fill_rewrite(rng_t *r, buf_t *o, const view_t *v)
{
    static const char *const suffix[] = {": what we know", ", officials say", " - report",
                                         ": live updates", " (VIDEO)", ", sources say"};
    switch (rng_below(r, 3)) {
    case 0: {
        span_t lead = v->para[0];
        size_t n = 0;
        while (n < lead.n && lead.s[n] != ',' && !(lead.s[n] == '.' && (n + 1 == lead.n || lead.s[n + 1] == ' ')))
            n++;
        put_title(o, (span_t){lead.s, n}, (size_t)rng_range(r, 6, 11));
        break;
    }
    case 1:
        buf_printf(o, "UPDATE %d-", rng_range(r, 1, 4));
        buf_put(o, v->title.s, v->title.n);
        break;
    default:
        put_title(o, v->title, 20);
        buf_puts(o, PICK(r, suffix));
        break;
    }
}

/* ' -> ’ or ‘, " -> “ or ”, " - " and "--" -> an em dash. */
static void typography(const buf_t *in, buf_t *o)
{
    o->n = 0;
    buf_reserve(o, in->n + in->n / 8 + 16);
    const char *s = in->p;
    size_t n = in->n;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned char prev = i ? (unsigned char)s[i - 1] : ' ';
        if (o->cap - o->n < 8)
            buf_reserve(o, 64);
        if (c == '\'') {
            memcpy(o->p + o->n, is_alnum(prev) || prev == '.' || prev == ',' ? "\xe2\x80\x99" : "\xe2\x80\x98", 3);
            o->n += 3;
        } else if (c == '"') {
            int open = prev == ' ' || prev == '\n' || prev == '(' || prev == '[';
            memcpy(o->p + o->n, open ? "\xe2\x80\x9c" : "\xe2\x80\x9d", 3);
            o->n += 3;
        } else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
            memcpy(o->p + o->n, "\xe2\x80\x94", 3);
            o->n += 3;
            i++;
        } else if (c == '-' && prev == ' ' && i + 1 < n && s[i + 1] == ' ') {
            memcpy(o->p + o->n, "\xe2\x80\x94", 3);
            o->n += 3;
        } else {
            o->p[o->n++] = c;
        }
    }
}

/* Word typos at `rate` per word: swap two letters, drop one, double one, or
 * drop the whole word. */
static void typos(rng_t *r, const buf_t *in, buf_t *o, double rate)
{
    o->n = 0;
    buf_reserve(o, in->n + 64);
    const double l1p = log1p(-rate);
    uint64_t gap = rng_gap(r, l1p);
    const char *s = in->p;
    size_t n = in->n, i = 0;
    while (i < n) {
        if (!is_alpha((unsigned char)s[i])) {
            o->p[o->n++] = s[i++];
            continue;
        }
        size_t j = i;
        while (j < n && is_alpha((unsigned char)s[j]))
            j++;
        size_t wl = j - i;
        if (gap > 0) {
            gap--;
            memcpy(o->p + o->n, s + i, wl);
            o->n += wl;
            i = j;
            continue;
        }
        gap = rng_gap(r, l1p);
        buf_reserve(o, wl + 2);
        uint32_t op = rng_below(r, 4);
        if (op == 0 && wl >= 2) {
            size_t k = i + rng_below(r, (uint32_t)(wl - 1));
            memcpy(o->p + o->n, s + i, wl);
            o->p[o->n + (k - i)] = s[k + 1];
            o->p[o->n + (k - i) + 1] = s[k];
            o->n += wl;
        } else if (op == 1 && wl >= 3) {
            size_t k = i + rng_below(r, (uint32_t)wl);
            memcpy(o->p + o->n, s + i, k - i);
            o->n += k - i;
            memcpy(o->p + o->n, s + k + 1, j - k - 1);
            o->n += j - k - 1;
        } else if (op == 2) {
            size_t k = i + rng_below(r, (uint32_t)wl);
            memcpy(o->p + o->n, s + i, k - i + 1);
            o->n += k - i + 1;
            memcpy(o->p + o->n, s + k, j - k);
            o->n += j - k;
        } else if (op == 3 && j < n && s[j] == ' ' && o->n > 0 && o->p[o->n - 1] == ' ') {
            j++; /* the word and the space after it go */
        } else {
            memcpy(o->p + o->n, s + i, wl);
            o->n += wl;
        }
        i = j;
        buf_reserve(o, 64);
    }
}

/* OCR-like noise at `rate` per character: look-alike glyphs (rn/m, l/1,
 * O/0, e/c, h/b, i/l), lost spaces, words split by a stray space, stray
 * punctuation, and dropped letters.  Only ASCII bytes are touched, so
 * UTF-8 sequences stay whole. */
static void ocr(rng_t *r, const buf_t *in, buf_t *o, double rate)
{
    static const char stray[] = ".,'`:;";
    o->n = 0;
    buf_reserve(o, in->n + in->n / 8 + 64);
    const double l1p = log1p(-rate);
    const char *s = in->p;
    size_t n = in->n, i = 0;
    uint64_t gap = rng_gap(r, l1p);
    while (i < n) {
        if (o->cap - o->n < 8)
            buf_reserve(o, 256);
        size_t run = gap < n - i ? (size_t)gap : n - i;
        if (run > 0) {
            buf_reserve(o, run + 8);
            memcpy(o->p + o->n, s + i, run);
            o->n += run;
            i += run;
            gap -= run;
            continue;
        }
        gap = rng_gap(r, l1p);
        char c = s[i];
        if ((unsigned char)c >= 0x80 || c == '\n') {
            o->p[o->n++] = s[i++];
            continue;
        }
        i++;
        switch (c) {
        case 'm':
            buf_puts(o, "rn");
            continue;
        case 'r':
            if (i < n && s[i] == 'n') {
                o->p[o->n++] = 'm';
                i++;
                continue;
            }
            break;
        case 'l': o->p[o->n++] = rng_below(r, 2) ? '1' : 'I'; continue;
        case '1': o->p[o->n++] = 'l'; continue;
        case 'I': o->p[o->n++] = 'l'; continue;
        case 'i': o->p[o->n++] = 'l'; continue;
        case 'O': o->p[o->n++] = '0'; continue;
        case 'o': o->p[o->n++] = rng_below(r, 2) ? '0' : 'c'; continue;
        case '0': o->p[o->n++] = 'O'; continue;
        case 'e': o->p[o->n++] = 'c'; continue;
        case 'c': o->p[o->n++] = 'e'; continue;
        case 'h': o->p[o->n++] = 'b'; continue;
        case ' ': continue; /* two words run together */
        default: break;
        }
        switch (rng_below(r, 3)) {
        case 0: /* word split */
            o->p[o->n++] = c;
            if (is_alpha((unsigned char)c))
                o->p[o->n++] = ' ';
            break;
        case 1:
            o->p[o->n++] = c;
            o->p[o->n++] = stray[rng_below(r, sizeof stray - 1)];
            break;
        default: /* letter lost */
            if (!is_alpha((unsigned char)c))
                o->p[o->n++] = c;
            break;
        }
    }
}

/* ================================================================ documents */

typedef struct {
    rng_t rng;
    buf_t a, b;     /* assembly and transform buffers */
    size_t *idx;    /* paragraph plan: >=0 story paragraph, -1 local insert */
    size_t idx_cap;
} editor_t;

#define LOCAL_PARA ((size_t)-1)

static void plan_reserve(editor_t *e, size_t n)
{
    if (n > e->idx_cap) {
        e->idx_cap = n * 2;
        e->idx = xrealloc(e->idx, e->idx_cap * sizeof *e->idx);
    }
}

static void write_original(const view_t *v, buf_t *o)
{
    o->n = 0;
    buf_put(o, v->title.s, v->title.n);
    for (size_t i = 0; i < v->np; i++) {
        buf_put(o, "\n\n", 2);
        if (i == 0)
            buf_put(o, v->dateline.s, v->dateline.n);
        buf_put(o, v->para[i].s, v->para[i].n);
    }
}

/* One reprint of `v` under profile `pf`; returns the editor buffer holding it. */
static const buf_t *write_reprint(editor_t *e, const view_t *v, const profile_t *pf)
{
    rng_t *r = &e->rng;
    size_t n = v->np;
    plan_reserve(e, n + 4);
    size_t *idx = e->idx;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;

    if (n > 1 && rng_chance(r, pf->trunc_mild)) {
        /* at most a third of the story, so "mild" stays mild on short ones */
        size_t cut = (size_t)rng_range(r, 1, 3), cap = n / 3 ? n / 3 : 1;
        n -= cut < cap ? cut : cap;
    }
    if (n > 1 && rng_chance(r, pf->trunc_sev)) {
        double f = rng_uniform(r, pf->sev_lo, pf->sev_hi);
        size_t keep = (size_t)(f * (double)n + 0.5);
        n = keep < 1 ? 1 : keep < n ? keep : n;
    }
    if (pf->para_drop > 0) {
        size_t k = 1;
        for (size_t i = 1; i < n; i++)
            if (!rng_chance(r, pf->para_drop))
                idx[k++] = idx[i];
        n = k;
    }
    if (n >= 2 && rng_chance(r, pf->para_swap)) {
        size_t k = rng_below(r, (uint32_t)(n - 1));
        size_t t = idx[k];
        idx[k] = idx[k + 1];
        idx[k + 1] = t;
    }
    if (rng_chance(r, pf->para_insert)) {
        int m = rng_below(r, 4) ? 1 : 2;
        for (int t = 0; t < m; t++) {
            size_t at = 1 + rng_below(r, (uint32_t)n);
            memmove(idx + at + 1, idx + at, (n - at) * sizeof *idx);
            idx[at] = LOCAL_PARA;
            n++;
        }
    }

    int year = year_of(v->time);
    buf_t *a = &e->a;
    a->n = 0;
    /* headline */
    int hl_drop = 0;
    if (rng_chance(r, pf->headline)) {
        switch (rng_below(r, 7)) {
        case 0:
        case 1: put_upper(a, v->title); break;
        case 2:
        case 3: put_title(a, v->title, 40); break;
        case 4:
        case 5: fill_rewrite(r, a, v); break;
        default: hl_drop = 1; break;
        }
    } else {
        buf_put(a, v->title.s, v->title.n);
    }
    int first = !hl_drop;
    if (rng_chance(r, pf->byline)) {
        if (first)
            buf_put(a, "\n\n", 2);
        fill_byline(r, a);
        first = 1;
    }
    int nboil = rng_chance(r, pf->boiler) ? rng_range(r, 1, 4) : 0;
    int boil_top = nboil > 0 && rng_below(r, 2) ? 1 : 0;
    int boil_bottom = nboil > boil_top ? rng_range(r, 0, nboil - boil_top) : 0;
    int boil_mid = nboil - boil_top - boil_bottom;
    for (int t = 0; t < boil_top; t++) {
        if (first)
            buf_put(a, "\n\n", 2);
        fill_boiler(r, a, year);
        first = 1;
    }
    int dl_mode = 0; /* 0 keep, 1 drop, 2 replace */
    if (v->city.n && rng_chance(r, pf->dateline))
        dl_mode = rng_below(r, 3) == 0 ? 1 : 2;
    for (size_t i = 0; i < n; i++) {
        if (first)
            buf_put(a, "\n\n", 2);
        first = 1;
        if (boil_mid > 0 && i > 0 && rng_below(r, (uint32_t)(n - i + 1)) < (uint32_t)boil_mid) {
            fill_boiler(r, a, year);
            buf_put(a, "\n\n", 2);
            boil_mid--;
        }
        if (idx[i] == LOCAL_PARA) {
            fill_local(r, a, year);
            continue;
        }
        if (idx[i] == 0) {
            if (dl_mode == 0)
                buf_put(a, v->dateline.s, v->dateline.n);
            else if (dl_mode == 2)
                fill_dateline(r, a, v);
        }
        buf_put(a, v->para[idx[i]].s, v->para[idx[i]].n);
    }
    for (int t = 0; t < boil_bottom + boil_mid; t++) {
        buf_put(a, "\n\n", 2);
        fill_boiler(r, a, year);
    }

    buf_t *cur = &e->a, *alt = &e->b, *tmp;
    if (rng_chance(r, pf->quotes)) {
        typography(cur, alt);
        tmp = cur, cur = alt, alt = tmp;
    }
    if (pf->typo_rate > 0 && rng_chance(r, pf->typo_doc)) {
        typos(r, cur, alt, pf->typo_rate);
        tmp = cur, cur = alt, alt = tmp;
    }
    if (pf->ocr_hi > 0 && rng_chance(r, pf->ocr_doc)) {
        ocr(r, cur, alt, rng_uniform(r, pf->ocr_lo, pf->ocr_hi));
        tmp = cur, cur = alt, alt = tmp;
    }
    return cur;
}

/* ================================================================ hard negatives */

enum { T_EARNINGS, T_COMMODITY, T_SPORTS, T_WEATHER, T_COUNT };
static const char *const TEMPLATE_NAME[T_COUNT] = {"earnings", "commodity", "sports", "weather"};

static const char *const CO_HEAD[] = {
    "Ardent", "Bellwether", "Cobalt Ridge", "Dunmore", "Everline", "Foxglove", "Garnet", "Halvorsen",
    "Ironbridge", "Juniper", "Kestrel", "Larchmont", "Meridian Crest", "Northwind", "Oakhurst",
    "Pellham", "Quillon", "Redfern", "Silverlake", "Tamarack", "Umberfield", "Vantage Point",
    "Westbrook", "Yarrow", "Zenmark",
};
static const char *const CO_TAIL[] = {
    "Industries", "Holdings", "Corp", "Systems", "Foods", "Energy", "Financial", "Logistics",
    "Pharmaceuticals", "Software", "Retail Group", "Materials",
};

typedef struct {
    const char *name, *unit, *exch;
    double lo, hi;
} commodity_t;

static const commodity_t COMMOD[] = {
    {"Corn", "bushel", "Chicago Board of Trade", 3.5, 7.5},
    {"Soybean", "bushel", "Chicago Board of Trade", 9, 16},
    {"Wheat", "bushel", "Chicago Board of Trade", 4.5, 9},
    {"Coffee", "pound", "ICE Futures U.S.", 1.1, 2.6},
    {"Cocoa", "metric ton", "ICE Futures U.S.", 2200, 9000},
    {"Sugar", "pound", "ICE Futures U.S.", 0.12, 0.28},
    {"Cotton", "pound", "ICE Futures U.S.", 0.6, 1.1},
    {"Copper", "pound", "Comex", 3.2, 4.9},
    {"Gold", "ounce", "Comex", 1700, 2400},
    {"Silver", "ounce", "Comex", 18, 31},
    {"Crude oil", "barrel", "New York Mercantile Exchange", 60, 95},
    {"Natural gas", "million British thermal units", "New York Mercantile Exchange", 1.6, 4.5},
};

static const char *const MASCOT[] = {"Hawks", "Rivermen", "Comets", "Bears", "Foxes", "Pioneers",
                                     "Stallions", "Mariners", "Wolves", "Rangers", "Kings", "Otters"};

/* Fills scratch text and then points the view's spans into it. */
static void make_hardneg(rng_t *r, int tmpl, int64_t t, buf_t *sc, span_t *para, view_t *v)
{
    size_t off[16];
    size_t np = 0;
    sc->n = 0;
    int y, m, d;
    civil_from_days(floordiv(t, 86400), &y, &m, &d);
    const char *wd = WEEKDAY[(floordiv(t, 86400) % 7 + 7) % 7];
    const char *town = PICK(r, TOWNS);
#define NEXT_PARA() (off[np++] = sc->n)
    if (tmpl == T_EARNINGS) {
        char co[64];
        snprintf(co, sizeof co, "%s %s", PICK(r, CO_HEAD), PICK(r, CO_TAIL));
        static const char *const quarter[] = {"first-quarter", "second-quarter", "third-quarter", "fourth-quarter"};
        int q = (int)rng_below(r, 4);
        double ni = rng_uniform(r, 5, 900), ni0 = ni * rng_uniform(r, 0.6, 1.4);
        int eps = rng_range(r, 3, 240), eps0 = (int)(eps * rng_uniform(r, 0.6, 1.4)) + 1;
        double rev = ni * rng_uniform(r, 6, 14), rev0 = rev * rng_uniform(r, 0.85, 1.15);
        int up = rev >= rev0;
        buf_printf(sc, "%s %s profit %s %d%%", co, quarter[q], ni >= ni0 ? "rises" : "falls",
                   (int)(fabs(ni - ni0) / ni0 * 100 + 0.5));
        NEXT_PARA();
        buf_printf(sc, "%s reported %s net income of $%.1f million, or %d cents a share, compared "
                       "with $%.1f million, or %d cents a share, a year earlier.",
                   co, quarter[q], ni, eps, ni0, eps0);
        NEXT_PARA();
        buf_printf(sc, "Revenue %s %.1f percent to $%.1f million from $%.1f million, the %s-based "
                       "company said in a statement.",
                   up ? "rose" : "fell", fabs(rev - rev0) / rev0 * 100, rev, rev0, town);
        NEXT_PARA();
        buf_printf(sc, "Analysts polled by %s Research had expected earnings of %d cents a share on "
                       "revenue of $%.1f million.",
                   PICK(r, CO_HEAD), eps + rng_range(r, -12, 12), rev * rng_uniform(r, 0.95, 1.05));
        NEXT_PARA();
        buf_printf(sc, "The company said it now expects full-year revenue of between $%d million and "
                       "$%d million, %s its previous forecast.",
                   (int)(rev * 3.8), (int)(rev * 4.2),
                   rng_below(r, 2) ? "above" : "in line with");
        NEXT_PARA();
        buf_printf(sc, "Shares of %s %s %.1f percent to $%.2f in extended trading on %s.", co,
                   rng_below(r, 2) ? "rose" : "fell", rng_uniform(r, 0.2, 9), rng_uniform(r, 8, 240), wd);
        NEXT_PARA();
    } else if (tmpl == T_COMMODITY) {
        const commodity_t *c = &PICK(r, COMMOD);
        double p = rng_uniform(r, c->lo, c->hi), ch = p * rng_uniform(r, 0.002, 0.03);
        int up = (int)rng_below(r, 2);
        const char *mon = MONTH_ABBR[(m + rng_range(r, 0, 5)) % 12];
        buf_printf(sc, "%s futures %s on %s", c->name, up ? "rise" : "fall", wd);
        NEXT_PARA();
        buf_printf(sc, "%s futures %s on %s, with the %s contract settling %s %.2f at $%.2f a %s on "
                       "the %s.",
                   c->name, up ? "rose" : "fell", wd, mon, up ? "up" : "down", ch, p, c->unit, c->exch);
        NEXT_PARA();
        buf_printf(sc, "Traders said prices were %s by %s and by a %s dollar, while trading volume "
                       "was %s the 30-day average.",
                   up ? "supported" : "weighed down",
                   rng_below(r, 2) ? "weather forecasts in growing areas" : "fresh export figures",
                   rng_below(r, 2) ? "weaker" : "firmer", rng_below(r, 2) ? "above" : "below");
        NEXT_PARA();
        buf_printf(sc, "The most active contract traded between $%.2f and $%.2f during the session. "
                       "Open interest %s by %d contracts.",
                   p - ch * 1.6, p + ch * 0.7, up ? "rose" : "fell", rng_range(r, 200, 9000));
        NEXT_PARA();
        buf_printf(sc, "Analyst %s %s of %s Commodities said the market would watch the government's "
                       "next supply report, due on %s.",
                   PICK(r, FIRST), PICK(r, LAST), PICK(r, CO_HEAD), PICK(r, WEEKDAY));
        NEXT_PARA();
    } else if (tmpl == T_SPORTS) {
        const char *ta = PICK(r, TOWNS), *tb = PICK(r, TOWNS);
        const char *ma = PICK(r, MASCOT), *mb = PICK(r, MASCOT);
        int s1 = rng_range(r, 85, 125), s2 = s1 - rng_range(r, 1, 22);
        const char *pf = PICK(r, FIRST), *pl = PICK(r, LAST);
        buf_printf(sc, "%s %s beat %s %s %d-%d", ta, ma, tb, mb, s1, s2);
        NEXT_PARA();
        buf_printf(sc, "%s %s scored %d points and the %s %s beat the %s %s %d-%d on %s night.", pf, pl,
                   rng_range(r, 18, 44), ta, ma, tb, mb, s1, s2, wd);
        NEXT_PARA();
        buf_printf(sc, "%s %s added %d points and %d rebounds for %s, which has won %d of its last %d "
                       "games.",
                   PICK(r, FIRST), PICK(r, LAST), rng_range(r, 8, 25), rng_range(r, 4, 15), ta,
                   rng_range(r, 3, 7), rng_range(r, 7, 10));
        NEXT_PARA();
        buf_printf(sc, "%s %s led %s with %d points. The %s have lost %d straight.", PICK(r, FIRST),
                   PICK(r, LAST), tb, rng_range(r, 15, 36), mb, rng_range(r, 2, 6));
        NEXT_PARA();
        buf_printf(sc, "%s: Host %s on %s. %s: At %s on %s.", ma, PICK(r, TOWNS), PICK(r, WEEKDAY), mb,
                   PICK(r, TOWNS), PICK(r, WEEKDAY));
        NEXT_PARA();
    } else {
        const char *county = PICK(r, TOWNS);
        static const char *const warn[] = {"winter storm warning", "flood watch", "heat advisory",
                                           "severe thunderstorm warning", "wind advisory"};
        const char *w = PICK(r, warn);
        int hi = rng_range(r, 10, 99), lo = hi - rng_range(r, 8, 25);
        buf_printf(sc, "%c%s issued for %s County", to_upper(w[0]), w + 1, county);
        NEXT_PARA();
        buf_printf(sc, "The National Weather Service issued a %s for %s County until %d p.m. %s.", w,
                   county, rng_range(r, 1, 11), wd);
        NEXT_PARA();
        buf_printf(sc, "Forecasters said %d to %d inches of %s were possible, with the heaviest amounts "
                       "expected %s.",
                   rng_range(r, 1, 3), rng_range(r, 4, 9), hi < 40 ? "snow" : "rain",
                   rng_below(r, 2) ? "north of the county" : "in the late afternoon");
        NEXT_PARA();
        buf_printf(sc, "Highs will reach %d degrees with lows near %d. Winds could gust to %d mph.", hi, lo,
                   rng_range(r, 20, 60));
        NEXT_PARA();
        buf_printf(sc, "Residents of %s and %s were urged to avoid travel if possible and to check on "
                       "elderly neighbors.",
                   PICK(r, TOWNS), PICK(r, TOWNS));
        NEXT_PARA();
    }
#undef NEXT_PARA
    /* off[0] ends the title, off[k] ends paragraph k */
    v->title = (span_t){sc->p, off[0]};
    for (size_t k = 1; k < np; k++)
        para[k - 1] = (span_t){sc->p + off[k - 1], off[k] - off[k - 1]};
    v->para = para;
    v->np = np - 1;
    v->city = (span_t){town, strlen(town)};
    v->dateline = (span_t){"", 0};
    v->time = t;
}

/* ================================================================ output */

typedef struct {
    size_t off, len;
    uint64_t cluster;
    int64_t time;
    int source;   /* -1 wire, else OUTLETS index */
    int tmpl;     /* -1 not a hard negative */
    size_t xoff, xlen; /* extra truth fields (page presets), in writer_t.xarena */
} rec_t;

typedef struct {
    FILE *out, *truth;
    const char *out_name, *truth_name;
    buf_t arena, xarena, ob, tb;
    rec_t *rec;
    size_t nrec, window;
    uint64_t next_id, bytes_out;
    int idw;
    rng_t shuf;
} writer_t;

static void json_escape(buf_t *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(o, n + n / 16 + 8);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != '"' && s[j] != '\\')
            j++;
        buf_put(o, s + i, j - i);
        if (j == n)
            break;
        unsigned char c = (unsigned char)s[j];
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') {
            e[1] = (char)c;
            buf_put(o, e, 2);
        } else if (c == '\n') {
            buf_put(o, "\\n", 2);
        } else if (c == '\t') {
            buf_put(o, "\\t", 2);
        } else {
            buf_put(o, e, 6);
        }
        i = j + 1;
    }
}

static void write_or_die(FILE *f, const char *name, buf_t *b)
{
    if (b->n && fwrite(b->p, 1, b->n, f) != b->n) {
        fprintf(stderr, "ndgen: %s: write failed: %s\n", name, strerror(errno));
        exit(2);
    }
    b->n = 0;
}

static void writer_flush(writer_t *w)
{
    /* Fisher-Yates over the window: reprints of one story end up apart */
    for (size_t i = w->nrec; i > 1; i--) {
        size_t j = rng_below(&w->shuf, (uint32_t)i);
        rec_t t = w->rec[i - 1];
        w->rec[i - 1] = w->rec[j];
        w->rec[j] = t;
    }
    for (size_t i = 0; i < w->nrec; i++) {
        const rec_t *rc = &w->rec[i];
        char id[32], ts[32];
        snprintf(id, sizeof id, "d%0*llu", w->idw, (unsigned long long)++w->next_id);
        fmt_iso(ts, rc->time);
        buf_printf(&w->ob, "{\"id\": \"%s\", \"text\": \"", id);
        json_escape(&w->ob, w->arena.p + rc->off, rc->len);
        buf_printf(&w->ob, "\", \"source\": \"%s\", \"published\": \"%s\"}\n",
                   rc->source < 0 ? "wire" : OUTLETS[rc->source], ts);
        if (w->truth) {
            buf_printf(&w->tb, "{\"id\": \"%s\", \"cluster\": %llu", id, (unsigned long long)rc->cluster);
            if (rc->tmpl >= 0)
                buf_printf(&w->tb, ", \"hardneg\": true, \"template\": \"%s\"", TEMPLATE_NAME[rc->tmpl]);
            if (rc->xlen)
                buf_put(&w->tb, w->xarena.p + rc->xoff, rc->xlen);
            buf_puts(&w->tb, "}\n");
        }
        if (w->ob.n >= (1u << 20)) {
            w->bytes_out += w->ob.n;
            write_or_die(w->out, w->out_name, &w->ob);
        }
        if (w->tb.n >= (1u << 20))
            write_or_die(w->truth, w->truth_name, &w->tb);
    }
    w->bytes_out += w->ob.n;
    write_or_die(w->out, w->out_name, &w->ob);
    if (w->truth)
        write_or_die(w->truth, w->truth_name, &w->tb);
    w->nrec = 0;
    w->arena.n = 0;
    w->xarena.n = 0;
}

/* `extra`: truth fields after "cluster" (", \"kind\": ..."), or NULL */
static void writer_add_x(writer_t *w, const buf_t *text, uint64_t cluster, int64_t t, int source,
                         int tmpl, const buf_t *extra)
{
    rec_t *rc = &w->rec[w->nrec++];
    rc->xoff = w->xarena.n;
    rc->xlen = extra ? extra->n : 0;
    if (extra)
        buf_put(&w->xarena, extra->p, extra->n);
    rc->off = w->arena.n;
    rc->len = text->n;
    rc->cluster = cluster;
    rc->time = t;
    rc->source = source;
    rc->tmpl = tmpl;
    buf_put(&w->arena, text->p, text->n);
    if (w->nrec == w->window)
        writer_flush(w);
}

static void writer_add(writer_t *w, const buf_t *text, uint64_t cluster, int64_t t, int source, int tmpl)
{
    writer_add_x(w, text, cluster, t, source, tmpl, NULL);
}

/* ================================================================ near-duplicate bases */

/* Reuters-21578 holds the same story more than once under different ids: an
 * UPDATE, a correction, a shorter first take.  Reprints of two such bases
 * would land in two truth clusters, and a detector that rightly puts them
 * together would be charged with false positives.  So the base is cleaned
 * before generation, by an exact method independent of the library:
 *
 *   - a story's text is its wire copy (write_original); tokens are runs of
 *     ASCII letters and digits, lowercased, with apostrophes (' ` and the
 *     curly U+2018/U+2019) deleted and every other byte separating them;
 *   - its shingles are the set of word 3-grams (one shingle of all tokens
 *     when there are fewer than three), each hashed to 64 bits;
 *   - an inverted index shingle -> stories yields candidate pairs through
 *     the shingles found in 2..DEDUP_MAX_DF stories: a shingle in more is
 *     boilerplate and cannot make two stories one on its own.  A posting is
 *     one 64-bit word, the story number in the low bits under the top bits
 *     of the hash, so one radix sort builds the index in 16 bytes per
 *     shingle at the peak (for Reuters ~2.2 million shingles, ~35 MB, freed
 *     before generation starts);
 *   - a pair whose count of shared rare shingles, plus the frequent
 *     shingles it might also share, could reach a threshold is shingled
 *     again with full 64-bit hashes and intersected exactly;
 *   - two stories are the same when J = |A n B| / |A u B| >= 0.5 or
 *     C = |A n B| / min(|A|, |B|) >= 0.8.  Stories are taken in input order
 *     and one is dropped when it is the same as a story already kept, so no
 *     two kept stories are the same (a chain A~B~C with A, C apart keeps A
 *     and C).
 *
 * Kept pairs with 0.3 <= J < 0.5 (templated look-alikes: prices, earnings,
 * auctions with other figures) are only counted: they are different
 * stories, the hard negatives real wires contain. */

#define DEDUP_MAX_DF 50

typedef struct {
    uint32_t a, b; /* a < b */
} pair_t;

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdULL;
    z = (z ^ (z >> 33)) * 0xc4ceb9fe1a85ec53ULL;
    return z ^ (z >> 33);
}

static size_t apos_len(const char *s, size_t n, size_t i)
{
    if (s[i] == '\'' || s[i] == '`')
        return 1;
    if (i + 2 < n && (unsigned char)s[i] == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
        ((unsigned char)s[i + 2] == 0x98 || (unsigned char)s[i + 2] == 0x99))
        return 3;
    return 0;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static int cmp_pair_b(const void *x, const void *y)
{
    const pair_t *p = x, *q = y;
    if (p->b != q->b)
        return (p->b > q->b) - (p->b < q->b);
    return (p->a > q->a) - (p->a < q->a);
}

static void u64_push(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 4096;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[(*n)++] = x;
}

/* Appends the sorted, distinct word 3-gram hashes of s to *v. */
static void shingle3(const char *s, size_t n, uint64_t **v, size_t *nv, size_t *cap)
{
    uint64_t w[3] = {0, 0, 0};
    size_t ntok = 0, first = *nv, i = 0;
    while (i < n) {
        if (!is_alnum((unsigned char)s[i]) && !apos_len(s, n, i)) {
            i++;
            continue;
        }
        uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a of the lowercased token */
        int any = 0;
        for (;;) {
            size_t al;
            if (i < n && is_alnum((unsigned char)s[i])) {
                h = (h ^ (unsigned char)to_lower(s[i])) * 0x100000001b3ULL;
                any = 1;
                i++;
            } else if (i < n && (al = apos_len(s, n, i)) > 0) {
                i += al;
            } else {
                break;
            }
        }
        if (!any)
            continue;
        w[0] = w[1];
        w[1] = w[2];
        w[2] = h;
        if (++ntok >= 3)
            u64_push(v, nv, cap, mix64(mix64(mix64(w[0]) ^ w[1]) ^ w[2]));
    }
    if (ntok > 0 && ntok < 3) {
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (size_t k = 3 - ntok; k < 3; k++)
            h = mix64(h ^ w[k]);
        u64_push(v, nv, cap, h);
    }
    uint64_t *a = *v + first;
    size_t m = *nv - first, u = 0;
    qsort(a, m, sizeof *a, cmp_u64);
    for (size_t k = 0; k < m; k++)
        if (u == 0 || a[k] != a[u - 1])
            a[u++] = a[k];
    *nv = first + u;
}

/* LSD radix sort, 16 bits a pass (four passes: the result ends in p) */
static void radix_sort_u64(uint64_t *p, size_t n)
{
    uint64_t *src = p, *dst = xmalloc((n ? n : 1) * sizeof *dst), *spare = dst;
    size_t *cnt = xmalloc(65536 * sizeof *cnt);
    for (int shift = 0; shift < 64; shift += 16) {
        memset(cnt, 0, 65536 * sizeof *cnt);
        for (size_t i = 0; i < n; i++)
            cnt[(src[i] >> shift) & 0xffff]++;
        size_t sum = 0;
        for (size_t d = 0; d < 65536; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[cnt[(src[i] >> shift) & 0xffff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    free(cnt);
    free(spare);
}

static size_t intersect_sorted(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    size_t i = 0, j = 0, k = 0;
    while (i < na && j < nb) {
        if (a[i] < b[j]) {
            i++;
        } else if (a[i] > b[j]) {
            j++;
        } else {
            k++;
            i++;
            j++;
        }
    }
    return k;
}

/* inter over the sets' sizes: the rule for "the same story" */
static int same_story(size_t inter, size_t na, size_t nb)
{
    size_t uni = na + nb - inter, mn = na < nb ? na : nb;
    return 2 * inter >= uni || 5 * inter >= 4 * mn;
}

static int look_alike(size_t inter, size_t na, size_t nb) { return 10 * inter >= 3 * (na + nb - inter); }

/* Drops from ss every story that is the same as an earlier kept one;
 * returns how many were dropped, and in *lookalikes the kept pairs with
 * 0.3 <= J < 0.5. */
static void story_shingles(const story_t *st, buf_t *text, uint64_t **v, size_t *nv, size_t *cap)
{
    view_t vw;
    view_of_story(st, &vw);
    write_original(&vw, text);
    *nv = 0;
    shingle3(text->p, text->n, v, nv, cap);
}

static size_t dedup_bases(stories_t *ss, size_t *lookalikes)
{
    size_t n = ss->n;
    *lookalikes = 0;
    if (n < 2)
        return 0;
    int sb = 1; /* bits of a story number in a posting */
    while (sb < 63 && ((size_t)1 << sb) < n)
        sb++;
    const uint64_t smask = ((uint64_t)1 << sb) - 1;
    /* a story of b bytes has at most b / 2 + 1 shingles: the postings are
     * allocated for that bound, and only the pages written take memory */
    size_t bound = 0;
    for (size_t i = 0; i < n; i++) {
        bound += strlen(ss->v[i].title) + (ss->v[i].dateline ? strlen(ss->v[i].dateline) : 0) + 2;
        bound += ss->v[i].bytes + 2 * ss->v[i].np;
    }
    bound = bound / 2 + n;
    uint64_t *post = xmalloc(bound * sizeof *post);
    size_t *size = xmalloc(n * sizeof *size);
    size_t npost = 0, cap = 0, m;
    uint64_t *one = NULL, *two = NULL;
    size_t cap2 = 0, m2;
    buf_t text = {0};
    for (size_t i = 0; i < n; i++) {
        story_shingles(&ss->v[i], &text, &one, &m, &cap);
        size[i] = m;
        for (size_t k = 0; k < m; k++)
            post[npost++] = (one[k] & ~smask) | i;
    }
    radix_sort_u64(post, npost);

    /* per story: the first postings of its rare shingles' runs, and how
     * many frequent shingles it has */
    size_t *nfreq = calloc(n, sizeof *nfreq);
    size_t *roff = calloc(n + 1, sizeof *roff);
    if (!nfreq || !roff)
        die_oom();
    for (size_t s = 0, e; s < npost; s = e) {
        for (e = s + 1; e < npost && (post[e] ^ post[s]) <= smask;)
            e++;
        for (size_t k = s; k < e; k++) {
            if (e - s > DEDUP_MAX_DF)
                nfreq[post[k] & smask]++;
            else if (e - s > 1)
                roff[(post[k] & smask) + 1]++;
        }
    }
    for (size_t i = 0; i < n; i++)
        roff[i + 1] += roff[i];
    size_t *runs = xmalloc((roff[n] ? roff[n] : 1) * sizeof *runs);
    size_t *fill = xmalloc(n * sizeof *fill);
    memcpy(fill, roff, n * sizeof *fill);
    for (size_t s = 0, e; s < npost; s = e) {
        for (e = s + 1; e < npost && (post[e] ^ post[s]) <= smask;)
            e++;
        if (e - s > 1 && e - s <= DEDUP_MAX_DF)
            for (size_t k = s; k < e; k++)
                runs[fill[post[k] & smask]++] = s;
    }
    free(fill);

    /* candidate pairs (i, j > i) by counting shared rare shingles */
    uint32_t *cnt = calloc(n, sizeof *cnt);
    uint32_t *touched = xmalloc(n * sizeof *touched);
    pair_t *same = NULL, *alike = NULL;
    size_t nsame = 0, samecap = 0, nalike = 0, alikecap = 0;
    for (size_t i = 0; i < n; i++) {
        size_t nt = 0;
        for (size_t r = roff[i]; r < roff[i + 1]; r++) {
            size_t s0 = runs[r];
            for (size_t k = s0; k < npost && (post[k] ^ post[s0]) <= smask; k++) {
                uint32_t j = (uint32_t)(post[k] & smask);
                if (j <= i)
                    continue;
                if (cnt[j]++ == 0)
                    touched[nt++] = j;
            }
        }
        size_t na = size[i];
        int have_i = 0;
        for (size_t t = 0; t < nt; t++) {
            uint32_t j = touched[t];
            size_t nb = size[j];
            size_t ub = cnt[j] + (nfreq[i] < nfreq[j] ? nfreq[i] : nfreq[j]);
            cnt[j] = 0;
            if (ub > na)
                ub = na;
            if (ub > nb)
                ub = nb;
            if (!same_story(ub, na, nb) && !look_alike(ub, na, nb))
                continue;
            if (!have_i)
                story_shingles(&ss->v[i], &text, &one, &m, &cap);
            have_i = 1;
            story_shingles(&ss->v[j], &text, &two, &m2, &cap2);
            size_t inter = intersect_sorted(one, m, two, m2);
            pair_t p = {(uint32_t)i, j};
            if (same_story(inter, na, nb)) {
                if (nsame == samecap) {
                    samecap = samecap ? samecap * 2 : 256;
                    same = xrealloc(same, samecap * sizeof *same);
                }
                same[nsame++] = p;
            } else if (look_alike(inter, na, nb)) {
                if (nalike == alikecap) {
                    alikecap = alikecap ? alikecap * 2 : 256;
                    alike = xrealloc(alike, alikecap * sizeof *alike);
                }
                alike[nalike++] = p;
            }
        }
    }
    free(cnt);
    free(touched);
    free(runs);
    free(roff);
    free(nfreq);
    free(post);
    free(size);
    free(one);
    free(two);
    free(text.p);

    /* in input order: a story goes when it is the same as a kept earlier one */
    unsigned char *keep = xmalloc(n);
    memset(keep, 1, n);
    if (nsame > 1)
        qsort(same, nsame, sizeof *same, cmp_pair_b);
    for (size_t k = 0; k < nsame; k++)
        if (keep[same[k].a])
            keep[same[k].b] = 0;
    for (size_t k = 0; k < nalike; k++)
        *lookalikes += keep[alike[k].a] && keep[alike[k].b];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep[i]) {
            ss->v[o++] = ss->v[i];
            continue;
        }
        story_t *st = &ss->v[i];
        for (size_t k = 0; k < st->np; k++)
            free((char *)st->para[k].s);
        free(st->para);
        free(st->title);
        free(st->city);
        free(st->dateline);
    }
    ss->n = o;
    free(keep);
    free(same);
    free(alike);
    return n - o;
}

/* ================================================================ page presets */

/* The presets `pages` and `digest` model what real news pages hold beyond
 * a story and its reprints, and label them by the rules used for a set of
 * labelled real pages:
 *
 *   - a family is one story in one version chain: pages whose body is
 *     mostly the same text, whatever headline, byline, chrome or cuts;
 *   - a paragraph shared with another story (a filler, a background
 *     paragraph) does not make two stories one family;
 *   - a stub (teaser, paywall stub, video blurb) of under ~40 words of body
 *     is a cluster of its own even when a full article contains it, unless
 *     it is a near-exact copy of another stub;
 *   - a page holding many stories (digest, live page) never joins a story
 *     it contains, only versions of the same page;
 *   - a write-thru chain is cut where consecutive versions stop sharing
 *     most of the body;
 *   - chrome and captions make no family, but pages whose body is the same
 *     gallery of captions do;
 *   - a misleading sidebar headline above a story changes nothing.
 *
 * Every document of these presets gets a "kind" in the truth ("story",
 * "big", "gallery", "stub", "digest", "brief", "writethru") and, where one
 * applies, the clusters whose text it borrows ("contains" for a digest,
 * "filler" and "background" for a story page) or its place in a chain
 * ("chain", "version"), so the checks can verify the rules from the files. */

#define PAGE_OUTLETS 30 /* the first 30 of OUTLETS carry chrome */
#define NCAPTIONS 40    /* shared photo captions of a corpus */
#define RING 64         /* recent base stories that digests, stubs and fillers quote */
#define STUB_WORDS 28   /* at most this many words of lead in a stub */
#define MIN_KEEP 80     /* words a cut reprint keeps (or the whole story's 80%) */

/* ---------------------------------------------------------------- chrome */

enum { C_FIXED, C_WEATHER, C_STAMP, C_SCRAPED, C_COMMENTS, C_PHONE, C_TRENDING };

typedef struct {
    int kind;
    char *text; /* C_FIXED only */
} cline_t;

/* One outlet's page furniture: fixed lines (name, menu, cookie notice,
 * share line, credit, about-us footer) and lines whose figures change from
 * page to page (temperature, "Updated" stamp, comment count, which desk
 * phone, the date the page was captured, the headlines trending). */
typedef struct {
    cline_t head[8], foot[8];
    int nhead, nfoot;
    const char *town;
    int phone[2][2];
    int stamp_style, comment_style;
} chrome_t;

static const char *const MENU[] = {"Home", "News", "Local", "Sports", "Business", "Opinion",
                                   "Obituaries", "Entertainment", "Weather", "Classifieds",
                                   "e-Edition", "Jobs", "Real Estate", "Contact"};
static const char *const SKY[] = {"Sunny", "Partly Cloudy", "Cloudy", "Light Rain", "Fog", "Clear",
                                  "Showers", "Windy"};
static const char *const GROUP[] = {"Lakeland", "Summit", "Heartland", "Bayview", "Granite State",
                                    "Prairie", "Tidewater"};

static char *chrome_text(buf_t *t)
{
    char *s = xstrndup(t->p, t->n);
    t->n = 0;
    return s;
}

static void chrome_build(chrome_t *c, int o, rng_t *r)
{
    const char *name = OUTLETS[o];
    buf_t t = {0};
    memset(c, 0, sizeof *c);
    c->town = PICK(r, TOWNS);
    for (int k = 0; k < 2; k++) {
        c->phone[k][0] = rng_range(r, 201, 989);
        c->phone[k][1] = rng_range(r, 2000000, 9999999);
    }
    c->stamp_style = (int)rng_below(r, 3);
    c->comment_style = (int)rng_below(r, 3);
    static const char *const tagline[][2] = {
        {"Local news, sports and weather for ", " and the valley"},
        {"Serving ", " and the surrounding communities"},
        {"", "'s trusted source for news"},
        {"News from ", " and around the region, updated all day"},
    };
    uint32_t tl = rng_below(r, 4);
    buf_printf(&t, "%s | %s%s%s", name, tagline[tl][0], c->town, tagline[tl][1]);
    c->head[c->nhead++] = (cline_t){C_FIXED, chrome_text(&t)};
    if (rng_chance(r, .8)) {
        static const char *const sep[] = {" | ", " \xc2\xb7 ", " ", " / "};
        const char *sp = PICK(r, sep);
        int any = 0;
        for (size_t k = 0; k < sizeof MENU / sizeof MENU[0]; k++)
            if (k < 2 || rng_chance(r, .55)) {
                buf_printf(&t, "%s%s", any ? sp : "", MENU[k]);
                any = 1;
            }
        c->head[c->nhead++] = (cline_t){C_FIXED, chrome_text(&t)};
    }
    if (rng_chance(r, .5)) {
        static const char *const sub[] = {"Subscribe | Log In | e-Edition | Newsletters",
                                          "Sign In Subscribe Now",
                                          "Subscribe for $1 a week | Manage account"};
        buf_puts(&t, PICK(r, sub));
        c->head[c->nhead++] = (cline_t){C_FIXED, chrome_text(&t)};
    }
    if (rng_chance(r, .5))
        c->head[c->nhead++] = (cline_t){C_WEATHER, NULL};
    int cookie = rng_chance(r, .5) ? 1 + (int)rng_below(r, 2) : 0; /* 1 head, 2 foot */
    if (cookie) {
        buf_printf(&t, "We use cookies and similar technologies to %s, to provide social media "
                       "features and to analyze our traffic. We also share information about your "
                       "use of our site with our %s partners. By continuing to use %s you agree to "
                       "our Privacy Policy and Terms of Service.",
                   rng_below(r, 2) ? "personalize content and ads" : "improve your experience",
                   rng_below(r, 2) ? "advertising and analytics" : "social media, advertising and analytics",
                   name);
        cline_t l = {C_FIXED, chrome_text(&t)};
        if (cookie == 1)
            c->head[c->nhead++] = l;
        else
            c->foot[c->nfoot++] = l;
    }
    if (rng_chance(r, .7))
        c->head[c->nhead++] = (cline_t){C_STAMP, NULL};
    if (rng_chance(r, .6)) {
        static const char *const share[] = {"Share this: Facebook | Twitter | Email | Print",
                                            "Share on Facebook Share on Twitter Share via Email",
                                            "Facebook Twitter WhatsApp SMS Email Print Copy article link Save"};
        buf_puts(&t, PICK(r, share));
        c->foot[c->nfoot++] = (cline_t){C_FIXED, chrome_text(&t)};
    }
    if (rng_chance(r, .5))
        c->foot[c->nfoot++] = (cline_t){C_COMMENTS, NULL};
    if (rng_chance(r, .5)) {
        static const char *const credit[] = {"Credit: The Associated Press", "Credit: AP",
                                             "Photo credit: The Associated Press"};
        buf_puts(&t, PICK(r, credit));
        c->foot[c->nfoot++] = (cline_t){C_FIXED, chrome_text(&t)};
    }
    if (rng_chance(r, .5))
        c->foot[c->nfoot++] = (cline_t){C_PHONE, NULL};
    if (rng_chance(r, .4))
        c->foot[c->nfoot++] = (cline_t){C_TRENDING, NULL};
    if (rng_chance(r, .8)) {
        buf_printf(&t, "%s is published by %s Media Group, %d %s Street, %s. All rights reserved. "
                       "Terms of Use | Privacy Policy | Cookie Settings | Contact Us | Advertise | Careers",
                   name, PICK(r, GROUP), rng_range(r, 10, 2400), PICK(r, LAST), c->town);
        c->foot[c->nfoot++] = (cline_t){C_FIXED, chrome_text(&t)};
    }
    if (rng_chance(r, .3))
        c->foot[c->nfoot++] = (cline_t){C_SCRAPED, NULL};
    assert(c->nhead <= 8 && c->nfoot <= 8);
    free(t.p);
}

static void chrome_free(chrome_t *c)
{
    for (int k = 0; k < c->nhead; k++)
        free(c->head[k].text);
    for (int k = 0; k < c->nfoot; k++)
        free(c->foot[k].text);
}

/* one chrome line of a page published at t; figures drawn per page */
static void chrome_line(rng_t *r, buf_t *o, const chrome_t *c, const cline_t *l, int64_t t,
                        const stories_t *ss)
{
    int y, m, d;
    int64_t day = floordiv(t, 86400), sec = t - day * 86400;
    civil_from_days(day, &y, &m, &d);
    int hh = (int)(sec / 3600), mm = (int)(sec / 60 % 60);
    switch (l->kind) {
    case C_FIXED:
        buf_puts(o, l->text);
        break;
    case C_WEATHER:
        buf_printf(o, "%s %d\xc2\xb0" "F %s", c->town, rng_range(r, 18, 96), PICK(r, SKY));
        break;
    case C_STAMP: {
        /* a page is updated 0-9 hours after it is published */
        int64_t u = sec + rng_range(r, 0, 9 * 3600);
        int uh = (int)(u / 3600 % 24), um = (int)(u / 60 % 60);
        if (c->stamp_style == 0)
            buf_printf(o, "Updated %d:%02d %s EST", uh % 12 ? uh % 12 : 12, um, uh < 12 ? "AM" : "PM");
        else if (c->stamp_style == 1)
            buf_printf(o, "Posted: %s %d, %d / %02d:%02d", MONTH_ABBR[m - 1], d, y, hh, mm);
        else
            buf_printf(o, "Last updated %d-%02d-%02d %02d:%02d", y, m, d, uh, um);
        break;
    }
    case C_SCRAPED: {
        int y2, m2, d2;
        civil_from_days(day + rng_range(r, 0, 12), &y2, &m2, &d2);
        buf_printf(o, "Page captured %d-%02d-%02d %02d:%02d UTC", y2, m2, d2, rng_range(r, 0, 23),
                   rng_range(r, 0, 59));
        break;
    }
    case C_COMMENTS: {
        int n = rng_range(r, 0, 140);
        if (c->comment_style == 0)
            buf_printf(o, "%d comments", n);
        else if (c->comment_style == 1)
            buf_printf(o, "Comments (%d)", n);
        else
            buf_printf(o, "Join the conversation: %d comments. Comments are moderated.", n);
        break;
    }
    case C_PHONE: {
        const int *p = c->phone[rng_below(r, 2)];
        buf_printf(o, "Have a news tip? Call the newsroom at (%d) %03d-%04d or email the editors.",
                   p[0], p[1] / 10000, p[1] % 10000);
        break;
    }
    default: { /* C_TRENDING: headlines of other stories */
        buf_puts(o, "Most read:");
        for (int k = 0; k < 3; k++) {
            const story_t *st = &ss->v[rng_below(r, (uint32_t)ss->n)];
            buf_puts(o, k ? " | " : " ");
            put_title(o, (span_t){st->title, strlen(st->title)}, 10);
        }
        break;
    }
    }
}

/* out = chrome head, an optional sidebar headline, body (with a caption
 * after its second paragraph), chrome foot */
static void page_wrap(rng_t *r, buf_t *out, const chrome_t *c, const buf_t *body, const char *sidebar,
                      const char *caption, int64_t t, const stories_t *ss)
{
    out->n = 0;
    for (int k = 0; k < c->nhead; k++) {
        chrome_line(r, out, c, &c->head[k], t, ss);
        buf_put(out, "\n\n", 2);
    }
    if (sidebar) {
        put_title(out, (span_t){sidebar, strlen(sidebar)}, 14);
        buf_put(out, "\n\n", 2);
    }
    size_t at = body->n;
    if (caption) {
        int seen = 0;
        for (size_t i = 0; i + 1 < body->n; i++)
            if (body->p[i] == '\n' && body->p[i + 1] == '\n' && ++seen == 2) {
                at = i;
                break;
            }
    }
    buf_put(out, body->p, at);
    if (caption) {
        buf_put(out, "\n\n", 2);
        buf_puts(out, caption);
    }
    buf_put(out, body->p + at, body->n - at);
    for (int k = 0; k < c->nfoot; k++) {
        buf_put(out, "\n\n", 2);
        chrome_line(r, out, c, &c->foot[k], t, ss);
    }
}

/* ---------------------------------------------------------------- small edits */

static size_t count_words(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        w += is_alnum((unsigned char)s[i]) && (i == 0 || !is_alnum((unsigned char)s[i - 1]));
    return w;
}

/* Slips inside figures, at p per number of two or more digits: a digit
 * lost ("1,250" -> "1,20"), changed, or swapped with its neighbour. */
static void figure_typos(rng_t *r, const buf_t *in, buf_t *o, double p)
{
    o->n = 0;
    buf_reserve(o, in->n + 16);
    const char *s = in->p;
    size_t n = in->n, i = 0;
    while (i < n) {
        int digit = s[i] >= '0' && s[i] <= '9';
        if (!digit || (i > 0 && is_alnum((unsigned char)s[i - 1]))) {
            o->p[o->n++] = s[i++];
            continue;
        }
        size_t j = i, nd = 0; /* the number is s[i..j), nd digits */
        for (;; j++) {
            if (j < n && s[j] >= '0' && s[j] <= '9')
                nd++;
            else if (!(j + 1 < n && (s[j] == ',' || s[j] == '.') && s[j + 1] >= '0' && s[j + 1] <= '9'))
                break;
        }
        size_t at = j; /* the digit to touch: none yet */
        uint32_t op = 0;
        if (nd >= 2 && rng_chance(r, p)) {
            op = rng_below(r, 3);
            do
                at = i + 1 + rng_below(r, (uint32_t)(j - i - 1));
            while (s[at] == ',' || s[at] == '.');
        }
        for (size_t k = i; k < j; k++) {
            if (k != at) {
                o->p[o->n++] = s[k];
            } else if (op == 1) {
                o->p[o->n++] = (char)('0' + (s[k] - '0' + 1 + (int)rng_below(r, 9)) % 10);
            } else if (op == 2 && k > i && s[k - 1] != ',' && s[k - 1] != '.') {
                char prev = o->p[o->n - 1];
                o->p[o->n - 1] = s[k];
                o->p[o->n++] = prev;
            } else if (op == 2) {
                o->p[o->n++] = s[k];
            } /* op 0: the digit is lost */
        }
        i = j;
    }
}

/* Photo captions: invented people doing invented things, with a credit
 * line; `extra` (may be empty) is a sentence added before the credit. */
static void fill_caption(rng_t *r, buf_t *o, int64_t t, span_t extra)
{
    static const char *const role[] = {
        "a volunteer firefighter", "the owner of a bakery", "a retired teacher", "a city council member",
        "a high school student", "a dairy farmer", "a nurse", "a county engineer", "a bus driver",
        "a union organizer", "a shop owner", "a wildlife biologist", "a state trooper", "a pastor",
    };
    static const char *const act[] = {
        "walks past a flooded field", "speaks to reporters outside city hall",
        "looks over damage to a home", "holds a sign during a rally", "waits in line at a polling station",
        "sorts donated food at a warehouse", "inspects a fallen tree", "cheers from the stands",
        "repairs a fence after the storm", "carries supplies to a shelter", "reads a statement",
        "stands near a closed bridge", "lights a candle at a vigil", "checks water levels at the dam",
    };
    int y, m, d;
    int64_t day = floordiv(t, 86400) - rng_range(r, 0, 20);
    civil_from_days(day, &y, &m, &d);
    switch (rng_below(r, 4)) {
    case 0: break;
    case 1: buf_puts(o, "FILE - "); break;
    case 2: buf_printf(o, "In this photo provided by the %s Police Department, ", PICK(r, TOWNS)); break;
    default: buf_puts(o, "In this image taken from video, "); break;
    }
    buf_printf(o, "%s %s, %s, %s in %s, %s, %s %d, %d.", PICK(r, FIRST), PICK(r, LAST), PICK(r, role),
               PICK(r, act), PICK(r, TOWNS), WEEKDAY[(day % 7 + 7) % 7], MONTH_ABBR[m - 1], d, y);
    if (extra.n) {
        buf_putc(o, ' ');
        buf_put(o, extra.s, extra.n);
    }
    buf_printf(o, " (%s/%s %s)", rng_below(r, 3) ? "AP Photo" : "Staff photo", PICK(r, FIRST), PICK(r, LAST));
}

/* ---------------------------------------------------------------- sentences */

/* Splits a paragraph at ". ", "? " or "! " before a capital or a quote,
 * appending the sentences (at least `minw` words) to *out. */
static void split_sentences(span_t p, size_t minw, span_t **out, size_t *n, size_t *cap)
{
    size_t s = 0;
    for (size_t i = 0; i < p.n; i++) {
        int stop = (p.s[i] == '.' || p.s[i] == '?' || p.s[i] == '!') && i + 2 < p.n && p.s[i + 1] == ' ' &&
                   ((p.s[i + 2] >= 'A' && p.s[i + 2] <= 'Z') || p.s[i + 2] == '"');
        if (!stop && i + 1 < p.n)
            continue;
        size_t e = i + 1;
        if (count_words(p.s + s, e - s) >= minw) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                *out = xrealloc(*out, *cap * sizeof **out);
            }
            (*out)[(*n)++] = (span_t){p.s + s, e - s};
        }
        s = i + 2;
    }
}

/* ---------------------------------------------------------------- the generator */

typedef struct {
    size_t story;
    uint64_t cluster;
} ring_t;

typedef struct {
    const preset_t *ps;
    const stories_t *ss;
    const size_t *perm;
    size_t next_base;
    editor_t *ed;
    writer_t *w;
    uint64_t docs, emitted, cluster;
    double hardneg;
    ring_t ring[RING];
    size_t nring;
    chrome_t chrome[PAGE_OUTLETS];
    char *caption[NCAPTIONS];
    buf_t t1, t2, page, x, orig, hn, brief, chain[2];
    span_t hn_para[16], *comp, *bg, *sent, *pool, *spans;
    size_t comp_cap, bg_cap, sent_cap, pool_cap, spans_cap, npool, pool_next;
    uint64_t *sh[2];
    size_t sh_n[2], sh_cap[2];
    uint64_t n_story, n_big, n_big_docs, n_gallery, n_stub, n_digest, n_brief, n_chain, n_seg, n_hard,
        n_filler, n_bg, n_comp;
} gen_t;

static int gen_full(const gen_t *g) { return g->docs && g->emitted >= g->docs; }

/* truth extras: g->x holds ", \"kind\": ..." for the next emits */
__attribute__((format(printf, 2, 3)))
static void gen_x(gen_t *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert(k >= 0 && (size_t)k < sizeof tmp);
    g->x.n = 0;
    buf_put(&g->x, tmp, (size_t)k);
}

static void gen_emit(gen_t *g, const buf_t *text, uint64_t cluster, int64_t t, int src, int tmpl)
{
    assert(!gen_full(g));
    writer_add_x(g->w, text, cluster, t, src, tmpl, &g->x);
    g->emitted++;
}

static int gen_outlet(gen_t *g)
{
    int n = g->ps->mode == MODE_PAGES ? PAGE_OUTLETS : (int)(sizeof OUTLETS / sizeof OUTLETS[0]);
    return (int)rng_below(&g->ed->rng, (uint32_t)n);
}

/* The next base story (its index), or -1 and a recombined story in
 * g->comp once the base is used up (approximate truth, as for classic). */
static long gen_take(gen_t *g, view_t *v)
{
    rng_t *r = &g->ed->rng;
    if (g->next_base < g->ss->n) {
        size_t i = g->perm[g->next_base++];
        view_of_story(&g->ss->v[i], v);
        return (long)i;
    }
    size_t np = (size_t)rng_range(r, 4, 7);
    if (np > g->comp_cap) {
        g->comp_cap = np * 2;
        g->comp = xrealloc(g->comp, g->comp_cap * sizeof *g->comp);
    }
    const story_t *lead = NULL;
    for (size_t k = 0; k < np; k++) {
        const story_t *st = &g->ss->v[rng_below(r, (uint32_t)g->ss->n)];
        if (!lead)
            lead = st;
        g->comp[k] = st->para[rng_below(r, (uint32_t)st->np)];
    }
    view_of_story(lead, v);
    v->para = g->comp;
    v->np = np;
    g->n_comp++;
    return -1;
}

static void gen_remember(gen_t *g, long story, uint64_t cluster)
{
    if (story < 0)
        return;
    if (g->nring < RING) {
        g->ring[g->nring++] = (ring_t){(size_t)story, cluster};
    } else {
        memmove(g->ring, g->ring + 1, (RING - 1) * sizeof *g->ring);
        g->ring[RING - 1] = (ring_t){(size_t)story, cluster};
    }
}

/* the lead paragraph of a story as its wire copy prints it */
static void put_lead(buf_t *o, const story_t *st)
{
    if (st->dateline)
        buf_puts(o, st->dateline);
    buf_put(o, st->para[0].s, st->para[0].n);
}

/* A reprint that keeps at least MIN_KEEP words (or 80% of a shorter
 * story): a cut below that would be an excerpt, labelled apart by the
 * rules.  Up to 8 draws, then the original; the result is in g->t1. */
static void page_reprint(gen_t *g, const view_t *v, const profile_t *pf)
{
    size_t ow = count_words(g->orig.p, g->orig.n);
    size_t need = ow * 8 / 10 < MIN_KEEP ? ow * 8 / 10 : MIN_KEEP;
    for (int tries = 0; tries < 8; tries++) {
        const buf_t *txt = write_reprint(g->ed, v, pf);
        if (count_words(txt->p, txt->n) >= need) {
            g->t1.n = 0;
            buf_put(&g->t1, txt->p, txt->n);
            return;
        }
    }
    g->t1.n = 0;
    buf_put(&g->t1, g->orig.p, g->orig.n);
}

/* writes g->t1 as a page of outlet src (pages preset: chrome, maybe a
 * shared caption and a sidebar headline; figure typos in reprints) */
static void gen_page(gen_t *g, uint64_t cluster, int64_t t, int src, int tmpl, int reprint)
{
    rng_t *r = &g->ed->rng;
    if (g->ps->mode != MODE_PAGES) {
        gen_emit(g, &g->t1, cluster, t, src, tmpl);
        return;
    }
    assert(src >= 0 && src < PAGE_OUTLETS);
    const buf_t *body = &g->t1;
    if (reprint && rng_chance(r, .35)) {
        figure_typos(r, &g->t1, &g->t2, .15);
        body = &g->t2;
    }
    const char *sidebar = NULL, *caption = NULL;
    if (reprint && rng_chance(r, .08))
        sidebar = g->ss->v[rng_below(r, (uint32_t)g->ss->n)].title;
    if (rng_chance(r, .3))
        caption = g->caption[rng_below(r, NCAPTIONS)];
    page_wrap(r, &g->page, &g->chrome[src], body, sidebar, caption, t, g->ss);
    gen_emit(g, &g->page, cluster, t, src, tmpl);
}

/* A story cluster: the wire copy and `reprints` pages.  Digest preset:
 * with p .1 the story carries a background paragraph of a recent story,
 * and a reprint with p .25 a filler, the lead of another recent story. */
static void gen_story(gen_t *g, int reprints, const char *kind)
{
    rng_t *r = &g->ed->rng;
    view_t v;
    long si = gen_take(g, &v);
    uint64_t c = g->cluster++;
    long bg = -1;
    if (g->ps->mode == MODE_DIGEST && g->nring > 0 && v.np >= 2 && rng_chance(r, .1)) {
        const ring_t *o = &g->ring[rng_below(r, (uint32_t)g->nring)];
        const story_t *os = &g->ss->v[o->story];
        if (v.np + 1 > g->bg_cap) {
            g->bg_cap = (v.np + 1) * 2;
            g->bg = xrealloc(g->bg, g->bg_cap * sizeof *g->bg);
        }
        memcpy(g->bg, v.para, v.np * sizeof *v.para);
        g->bg[v.np] = g->bg[v.np - 1];
        g->bg[v.np - 1] = os->para[os->np > 1 ? 1 + rng_below(r, (uint32_t)(os->np - 1)) : 0];
        v.para = g->bg;
        v.np++;
        bg = (long)o->cluster;
        g->n_bg++;
    }
    if (bg >= 0)
        gen_x(g, ", \"kind\": \"%s\", \"background\": %ld", kind, bg);
    else
        gen_x(g, ", \"kind\": \"%s\"", kind);
    write_original(&v, &g->orig); /* the wire feed: no chrome */
    gen_emit(g, &g->orig, c, v.time, -1, -1);
    for (int k = 0; k < reprints && !gen_full(g); k++) {
        const profile_t *pf = g->ps->prof[rng_below(r, (uint32_t)g->ps->nprof)];
        int64_t t = v.time + rng_range(r, 0, 72 * 3600);
        int src = gen_outlet(g);
        page_reprint(g, &v, pf);
        long filler = -1;
        if (g->ps->mode == MODE_DIGEST && g->nring > 1 && rng_chance(r, .25)) {
            const ring_t *o = &g->ring[rng_below(r, (uint32_t)g->nring)];
            const story_t *os = &g->ss->v[o->story];
            size_t lw = count_words(os->para[0].s, os->para[0].n);
            if (o->cluster != (uint64_t)bg && 2 * lw <= count_words(g->t1.p, g->t1.n)) {
                /* at the end, or before a paragraph after the lead */
                size_t at = g->t1.n, seen = 0, want = rng_below(r, 2) ? 0 : 2 + rng_below(r, 3);
                for (size_t i = 0; want && i + 1 < g->t1.n; i++)
                    if (g->t1.p[i] == '\n' && g->t1.p[i + 1] == '\n' && ++seen == want) {
                        at = i;
                        break;
                    }
                g->t2.n = 0;
                buf_put(&g->t2, g->t1.p, at);
                buf_put(&g->t2, "\n\n", 2);
                put_lead(&g->t2, os);
                buf_put(&g->t2, g->t1.p + at, g->t1.n - at);
                g->t1.n = 0;
                buf_put(&g->t1, g->t2.p, g->t2.n);
                filler = (long)o->cluster;
                g->n_filler++;
            }
        }
        if (filler >= 0 && bg >= 0)
            gen_x(g, ", \"kind\": \"%s\", \"background\": %ld, \"filler\": %ld", kind, bg, filler);
        else if (filler >= 0)
            gen_x(g, ", \"kind\": \"%s\", \"filler\": %ld", kind, filler);
        else if (bg >= 0)
            gen_x(g, ", \"kind\": \"%s\", \"background\": %ld", kind, bg);
        else
            gen_x(g, ", \"kind\": \"%s\"", kind);
        gen_page(g, c, t, src, -1, 1);
    }
    if (bg < 0) /* a story with a borrowed paragraph is not quoted again */
        gen_remember(g, si, c);
}

static void gen_hardneg(gen_t *g)
{
    rng_t *r = &g->ed->rng;
    view_t v;
    int tmpl = (int)(g->n_hard++ % T_COUNT);
    int64_t t = g->ss->v[g->perm[rng_below(r, (uint32_t)g->ss->n)]].time + rng_range(r, 0, 30 * 86400);
    make_hardneg(r, tmpl, t, &g->hn, g->hn_para, &v);
    int reprints = rng_range(r, 0, g->ps->hn_rmax);
    uint64_t c = g->cluster++;
    gen_x(g, ", \"kind\": \"story\"");
    write_original(&v, &g->orig);
    gen_emit(g, &g->orig, c, v.time, -1, tmpl);
    for (int k = 0; k < reprints && !gen_full(g); k++) {
        int64_t tk = v.time + rng_range(r, 0, 72 * 3600);
        int src = gen_outlet(g);
        page_reprint(g, &v, g->ps->prof[0]);
        gen_page(g, c, tk, src, tmpl, 1);
    }
}

static span_t gen_donor(gen_t *g);

/* A photo gallery: 6-10 captions of its own (a sentence of an unused base
 * story in each), on 1-5 pages of different outlets under different
 * headlines.  Same captions, same family; no wire copy. */
static void gen_gallery(gen_t *g)
{
    rng_t *r = &g->ed->rng;
    view_t v;
    gen_take(g, &v);
    size_t ns = 0;
    for (size_t k = 0; k < v.np; k++)
        split_sentences(v.para[k], 6, &g->sent, &ns, &g->sent_cap);
    int ncap = rng_range(r, 6, 10);
    buf_t *body = &g->brief;
    body->n = 0;
    uint64_t c = g->cluster++;
    g->n_gallery++;
    gen_x(g, ", \"kind\": \"gallery\"");
    for (int k = 0; k < ncap; k++) {
        if (k)
            buf_put(body, "\n\n", 2);
        fill_caption(r, body, v.time, (size_t)k < ns ? g->sent[k] : gen_donor(g));
    }
    int pages = rng_range(r, 1, 5);
    for (int p = 0; p < pages && !gen_full(g); p++) {
        static const char *const head[] = {"Photos: ", "In pictures: ", "Gallery: ", "PHOTOS: "};
        g->t1.n = 0;
        buf_puts(&g->t1, PICK(r, head));
        put_title(&g->t1, v.title, (size_t)rng_range(r, 5, 9));
        buf_put(&g->t1, "\n\n", 2);
        buf_put(&g->t1, body->p, body->n);
        int64_t t = v.time + rng_range(r, 0, 72 * 3600);
        gen_page(g, c, t, gen_outlet(g), -1, 0);
    }
}

/* bytes of s holding its first w words */
static size_t cut_words(const char *s, size_t n, size_t w)
{
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_alnum((unsigned char)s[i]) && (i == 0 || !is_alnum((unsigned char)s[i - 1])) && ++seen > w) {
            size_t e = i;
            while (e > 0 && !is_alnum((unsigned char)s[e - 1]))
                e--;
            return e;
        }
    }
    return n;
}

/* A teaser, paywall stub or video blurb of a recent story: its headline
 * and the first 12-28 words of its lead.  Its own cluster; with p .2 a
 * second page carries the same stub (the same cluster: a stub family). */
static void gen_stub(gen_t *g)
{
    rng_t *r = &g->ed->rng;
    const ring_t *o = &g->ring[rng_below(r, (uint32_t)g->nring)];
    const story_t *st = &g->ss->v[o->story];
    span_t lead = st->para[0];
    size_t cut = cut_words(lead.s, lead.n, (size_t)rng_range(r, 12, STUB_WORDS));
    int style = (int)rng_below(r, 4), copies = rng_chance(r, .2) ? 2 : 1;
    static const char *const trailer[] = {"Read more", "Subscribe to continue reading.",
                                          "Watch the video above.", "This article is for subscribers only."};
    uint64_t c = g->cluster++;
    g->n_stub++;
    gen_x(g, ", \"kind\": \"stub\", \"of\": %llu", (unsigned long long)o->cluster);
    for (int k = 0; k < copies && !gen_full(g); k++) {
        g->t1.n = 0;
        if (k == 0 || rng_below(r, 2))
            buf_puts(&g->t1, st->title);
        else
            put_title(&g->t1, (span_t){st->title, strlen(st->title)}, 40);
        buf_put(&g->t1, "\n\n", 2);
        if (style == 2)
            buf_puts(&g->t1, "VIDEO: ");
        buf_put(&g->t1, lead.s, cut);
        buf_puts(&g->t1, "\xe2\x80\xa6\n\n");
        buf_puts(&g->t1, trailer[style]);
        int64_t t = st->time + rng_range(r, 0, 48 * 3600);
        gen_page(g, c, t, gen_outlet(g), -1, 0);
    }
}

/* A digest or live page: the headlines and leads of 3-6 recent stories
 * of different clusters, in 1-3 versions (an item added at the top or the
 * last one dropped); the versions are one family, apart from every story
 * they contain. */
static void gen_digest(gen_t *g)
{
    rng_t *r = &g->ed->rng;
    size_t order[RING], items = (size_t)rng_range(r, 3, 6);
    unsigned char two[RING]; /* an item with its second paragraph too */
    for (size_t k = 0; k < g->nring; k++)
        order[k] = k;
    for (size_t k = 0; k < g->nring; k++) { /* partial Fisher-Yates: order[0..] random */
        size_t j = k + rng_below(r, (uint32_t)(g->nring - k));
        size_t t = order[k];
        order[k] = order[j];
        order[j] = t;
        two[k] = (unsigned char)rng_chance(r, .3);
    }
    size_t first = 0, last = items; /* items are order[first..last) */
    int versions = rng_range(r, 1, 3), style = (int)rng_below(r, 4);
    uint64_t c = g->cluster++;
    g->n_digest++;
    int64_t t = 0;
    for (size_t k = 0; k < items; k++)
        if (g->ss->v[g->ring[order[k]].story].time > t)
            t = g->ss->v[g->ring[order[k]].story].time;
    t += rng_range(r, 3600, 6 * 3600);
    for (int ver = 0; ver < versions && !gen_full(g); ver++) {
        if (ver > 0 && last < g->nring && rng_below(r, 2)) {
            /* the newest item goes on top: it is order[last], moved to first */
            size_t nw = order[last], nt = two[last];
            memmove(order + first + 1, order + first, (last - first) * sizeof *order);
            memmove(two + first + 1, two + first, last - first);
            order[first] = nw;
            two[first] = (unsigned char)nt;
            last++;
        } else if (ver > 0 && last - first > 3) {
            last--;
        }
        g->t1.n = 0;
        switch (style) {
        case 0:
            buf_puts(&g->t1, "The Latest: ");
            put_title(&g->t1, (span_t){g->ss->v[g->ring[order[first]].story].title,
                                       strlen(g->ss->v[g->ring[order[first]].story].title)}, 10);
            break;
        case 1: {
            int y, m, d;
            civil_from_days(floordiv(t, 86400), &y, &m, &d);
            buf_printf(&g->t1, "News digest for %s, %s %d", WEEKDAY[(floordiv(t, 86400) % 7 + 7) % 7],
                       MONTH_ABBR[m - 1], d);
            break;
        }
        case 2: buf_puts(&g->t1, "Live updates: the day's top stories"); break;
        default: buf_puts(&g->t1, "Morning Briefing: what you need to know today"); break;
        }
        g->x.n = 0;
        buf_puts(&g->x, ", \"kind\": \"digest\", \"contains\": [");
        for (size_t k = first; k < last; k++) {
            const story_t *st = &g->ss->v[g->ring[order[k]].story];
            buf_put(&g->t1, "\n\n", 2);
            if (style == 0 && k > first)
                buf_puts(&g->t1, "___\n\n");
            put_title(&g->t1, (span_t){st->title, strlen(st->title)}, 16);
            buf_put(&g->t1, "\n\n", 2);
            put_lead(&g->t1, st);
            if (two[k] && st->np > 1) {
                buf_put(&g->t1, "\n\n", 2);
                buf_put(&g->t1, st->para[1].s, st->para[1].n);
            }
            buf_printf(&g->x, "%s%llu", k > first ? ", " : "", (unsigned long long)g->ring[order[k]].cluster);
        }
        buf_putc(&g->x, ']');
        int64_t tv = t + ver * rng_range(r, 1800, 4 * 3600);
        gen_page(g, c, tv, gen_outlet(g), -1, 0);
    }
}

/* A brief: the first 40-120 words of an unused base story (whole
 * paragraphs, the last cut at a sentence or, failing that, a word), and
 * its reprints. */
static void gen_brief(gen_t *g, int reprints)
{
    rng_t *r = &g->ed->rng;
    view_t v;
    gen_take(g, &v);
    size_t budget = (size_t)rng_range(r, 40, 120), words = 0, np = 0;
    size_t off[64];
    buf_t *b = &g->brief;
    b->n = 0;
    for (size_t k = 0; k < v.np && np < 32 && words < budget; k++) {
        span_t p = v.para[k];
        size_t pw = count_words(p.s, p.n), take = p.n;
        if (words + pw > budget) {
            if (words >= 40)
                break;
            take = 0; /* the last sentence end that fits, if it reaches 40 words */
            for (size_t i = 0; i < p.n; i++)
                if (p.s[i] == '.' && (i + 1 == p.n || p.s[i + 1] == ' ')) {
                    size_t w = count_words(p.s, i + 1);
                    if (words + w > budget)
                        break;
                    if (words + w >= 40)
                        take = i + 1;
                }
            if (!take)
                take = cut_words(p.s, p.n, budget - words);
            pw = budget;
        }
        off[2 * np] = b->n;
        buf_put(b, p.s, take);
        if (take < p.n && p.s[take - 1] != '.')
            buf_putc(b, '.');
        off[2 * np + 1] = b->n;
        np++;
        words += pw;
    }
    if (np > g->spans_cap) {
        g->spans_cap = np * 2;
        g->spans = xrealloc(g->spans, g->spans_cap * sizeof *g->spans);
    }
    for (size_t k = 0; k < np; k++)
        g->spans[k] = (span_t){b->p + off[2 * k], off[2 * k + 1] - off[2 * k]};
    v.para = g->spans;
    v.np = np;
    uint64_t c = g->cluster++;
    g->n_brief++;
    gen_x(g, ", \"kind\": \"brief\"");
    write_original(&v, &g->orig);
    gen_emit(g, &g->orig, c, v.time, -1, -1);
    for (int k = 0; k < reprints && !gen_full(g); k++) {
        int64_t t = v.time + rng_range(r, 0, 72 * 3600);
        int src = gen_outlet(g);
        page_reprint(g, &v, g->ps->prof[g->ps->nprof - 1]);
        gen_page(g, c, t, src, -1, 1);
    }
}

/* the next donor sentence for a write-thru chain, from unused base stories */
static span_t gen_donor(gen_t *g)
{
    while (g->pool_next >= g->npool) {
        view_t v;
        gen_take(g, &v);
        g->npool = g->pool_next = 0;
        for (size_t k = 0; k < v.np; k++)
            split_sentences(v.para[k], 6, &g->pool, &g->npool, &g->pool_cap);
    }
    return g->pool[g->pool_next++];
}

/* A write-thru chain: 4-7 wire versions of one story, each rewriting
 * 20-40% of the previous one's sentences with new ones (and sometimes
 * adding or dropping one), one step of the chain with p .4 a major
 * rewrite (60-80%).  Versions k-1 and k are one family while their bodies
 * share at least half: with A and B the sets of word 3-grams of the two
 * bodies (the wire text after the headline, tokens as in dedup_bases),
 * 2 |A n B| >= max(|A|, |B|); the chain is cut where this fails.  Each
 * version has 0-2 reprints, in its segment's cluster. */
static void gen_chain(gen_t *g)
{
    rng_t *r = &g->ed->rng;
    view_t v;
    gen_take(g, &v);
    span_t title = v.title, dateline = v.dateline;
    int64_t t = v.time;
    size_t ns = 0;
    for (size_t k = 0; k < v.np; k++)
        split_sentences(v.para[k], 4, &g->sent, &ns, &g->sent_cap);
    if (ns > 14)
        ns = 14;
    while (ns < 8) {
        span_t d = gen_donor(g);
        if (ns == g->sent_cap) {
            g->sent_cap = g->sent_cap ? g->sent_cap * 2 : 64;
            g->sent = xrealloc(g->sent, g->sent_cap * sizeof *g->sent);
        }
        g->sent[ns++] = d;
    }
    if (g->sent_cap < 32) {
        g->sent_cap = 32;
        g->sent = xrealloc(g->sent, g->sent_cap * sizeof *g->sent);
    }
    int versions = rng_range(r, 4, 7);
    int major = rng_chance(r, .4) ? rng_range(r, 1, versions - 1) : -1;
    uint64_t chain = g->n_chain++, c = g->cluster++;
    g->n_seg++;
    for (int k = 0; k < versions && !gen_full(g); k++) {
        if (k > 0) {
            double f = k == major ? rng_uniform(r, .6, .8) : rng_uniform(r, .2, .4);
            size_t m = (size_t)(f * (double)ns + 0.5), left = ns;
            unsigned char mark[32] = {0};
            if (m < 1)
                m = 1;
            if (rng_chance(r, .6)) { /* a new lead */
                mark[0] = 1;
                m--;
                left--;
            }
            for (size_t i = 0; i < ns; i++) { /* m of the remaining, uniformly */
                if (mark[i])
                    continue;
                if (rng_below(r, (uint32_t)left) < m) {
                    mark[i] = 1;
                    m--;
                }
                left--;
            }
            for (size_t i = 0; i < ns; i++)
                if (mark[i])
                    g->sent[i] = gen_donor(g);
            if (ns < 24 && rng_chance(r, .3))
                g->sent[ns++] = gen_donor(g);
            if (ns > 6 && rng_chance(r, .25)) {
                size_t d = 1 + rng_below(r, (uint32_t)(ns - 1));
                memmove(g->sent + d, g->sent + d + 1, (ns - d - 1) * sizeof *g->sent);
                ns--;
            }
            t += rng_range(r, 1800, 3 * 3600);
        }
        /* the version: headline, then the lead sentence alone and pairs */
        buf_t *b = &g->chain[k & 1];
        b->n = 0;
        if (k > 0)
            buf_printf(b, "UPDATE %d-", k);
        buf_put(b, title.s, title.n);
        size_t body = b->n + 2;
        for (size_t i = 0; i < ns; i++) {
            buf_puts(b, i == 0 || i % 2 == 1 ? "\n\n" : " ");
            if (i == 0)
                buf_put(b, dateline.s, dateline.n);
            buf_put(b, g->sent[i].s, g->sent[i].n);
        }
        g->sh_n[k & 1] = 0;
        shingle3(b->p + body, b->n - body, &g->sh[k & 1], &g->sh_n[k & 1], &g->sh_cap[k & 1]);
        if (k > 0) {
            size_t na = g->sh_n[0], nb = g->sh_n[1];
            size_t inter = intersect_sorted(g->sh[0], na, g->sh[1], nb);
            if (2 * inter < (na > nb ? na : nb)) {
                c = g->cluster++;
                g->n_seg++;
            }
        }
        gen_x(g, ", \"kind\": \"writethru\", \"chain\": %llu, \"version\": %d", (unsigned long long)chain, k);
        g->orig.n = 0;
        buf_put(&g->orig, b->p, b->n);
        gen_emit(g, &g->orig, c, t, -1, -1);
        /* reprints see the version as a story: its paragraphs in b */
        size_t np = 0;
        for (size_t i = body, s = body; i <= b->n; i++)
            if (i == b->n || (b->p[i] == '\n' && i + 1 < b->n && b->p[i + 1] == '\n')) {
                if (np == g->spans_cap) {
                    g->spans_cap = g->spans_cap ? g->spans_cap * 2 : 32;
                    g->spans = xrealloc(g->spans, g->spans_cap * sizeof *g->spans);
                }
                g->spans[np++] = (span_t){b->p + s, i - s};
                s = i + 2;
                i++;
            }
        view_t vv = {.title = {b->p, body - 2}, .city = {"", 0}, .dateline = {"", 0}, .time = t,
                     .np = np, .para = g->spans};
        int reprints = rng_range(r, 0, 2);
        for (int p = 0; p < reprints && !gen_full(g); p++) {
            int64_t tp = t + rng_range(r, 0, 12 * 3600);
            int src = gen_outlet(g);
            page_reprint(g, &vv, g->ps->prof[g->ps->nprof - 1]);
            gen_page(g, c, tp, src, -1, 1);
        }
    }
}

/* Runs a page preset; returns the documents written.  `est` is the
 * corpus size the big families are sized for. */
static uint64_t gen_run(gen_t *g, uint64_t est, int stats, uint64_t seed)
{
    rng_t *r = &g->ed->rng;
    const preset_t *ps = g->ps;
    if (ps->mode == MODE_PAGES) {
        /* the outlets are the same in every corpus: their own seed */
        rng_t cr;
        rng_seed(&cr, 0xc0ffee5eedULL);
        for (int o = 0; o < PAGE_OUTLETS; o++)
            chrome_build(&g->chrome[o], o, &cr);
        for (int k = 0; k < NCAPTIONS; k++) {
            g->t1.n = 0;
            fill_caption(r, &g->t1, g->ss->v[rng_below(r, (uint32_t)g->ss->n)].time, (span_t){"", 0});
            g->caption[k] = xstrndup(g->t1.p, g->t1.n);
        }
    }
    /* pages: one or two stories carried by 2.25-2.5% of the pages (at least 50) */
    uint64_t big = est / 40 + 1 < 50 ? 50 : est / 40 + 1;
    int nbig = ps->mode == MODE_PAGES ? (est >= 10000 ? 2 : 1) : 0, bigs = 0;
    uint64_t big_at[2] = {0, est / 2};
    while (g->docs ? !gen_full(g) : g->next_base < g->ss->n) {
        if (bigs < nbig && g->emitted >= big_at[bigs]) {
            uint64_t n = bigs ? big * 9 / 10 : big;
            uint64_t before = g->emitted;
            gen_story(g, (int)n - 1, "big");
            g->n_big++;
            g->n_big_docs += g->emitted - before;
            bigs++;
        } else if (rng_chance(r, g->hardneg)) {
            gen_hardneg(g);
        } else if (ps->mode == MODE_PAGES && rng_chance(r, .06)) {
            gen_gallery(g);
        } else if (ps->mode == MODE_DIGEST && g->nring >= 6 && rng_chance(r, .12)) {
            gen_digest(g);
        } else if (ps->mode == MODE_DIGEST && g->nring >= 1 && rng_chance(r, .15)) {
            gen_stub(g);
        } else if (ps->mode == MODE_DIGEST && rng_chance(r, .10)) {
            gen_chain(g);
        } else if (ps->mode == MODE_DIGEST && rng_chance(r, .15)) {
            gen_brief(g, rng_range(r, 1, 6));
        } else {
            gen_story(g, rng_range(r, ps->rmin, ps->rmax), "story");
            g->n_story++;
        }
    }
    if (stats)
        fprintf(stderr,
                "ndgen: preset %s seed %llu: %llu docs, %llu clusters: %llu stories (%llu with a "
                "filler reprint, %llu with a background paragraph), %llu big families of %llu docs, "
                "%llu galleries, %llu stubs, %llu digests, %llu briefs, %llu write-thru chains in %llu "
                "segments, %llu hard negatives, %llu recombined stories\n",
                ps->name, (unsigned long long)seed, (unsigned long long)g->emitted,
                (unsigned long long)g->cluster, (unsigned long long)g->n_story,
                (unsigned long long)g->n_filler, (unsigned long long)g->n_bg, (unsigned long long)g->n_big,
                (unsigned long long)g->n_big_docs, (unsigned long long)g->n_gallery,
                (unsigned long long)g->n_stub, (unsigned long long)g->n_digest,
                (unsigned long long)g->n_brief, (unsigned long long)g->n_chain,
                (unsigned long long)g->n_seg, (unsigned long long)g->n_hard, (unsigned long long)g->n_comp);
    if (ps->mode == MODE_PAGES) {
        for (int o = 0; o < PAGE_OUTLETS; o++)
            chrome_free(&g->chrome[o]);
        for (int k = 0; k < NCAPTIONS; k++)
            free(g->caption[k]);
    }
    buf_t *bufs[] = {&g->t1, &g->t2, &g->page, &g->x, &g->orig, &g->hn, &g->brief, &g->chain[0], &g->chain[1]};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        free(bufs[k]->p);
    free(g->comp);
    free(g->bg);
    free(g->sent);
    free(g->pool);
    free(g->spans);
    free(g->sh[0]);
    free(g->sh[1]);
    return g->emitted;
}


/* ================================================================ command line */

static void usage(FILE *f)
{
    fputs("usage: ndgen [--preset NAME] [--docs N] [--seed S] [--out FILE] [--truth FILE]\n"
          "             [--reuters PATH | --base PATH] [--window N] [--hardneg FRAC] [--stats]\n"
          "       ndgen --list-presets | --help | --version\n"
          "\n"
          "Writes a JSONL corpus of wire-story reprints {\"id\",\"text\",\"source\",\"published\"}\n"
          "and, with --truth, one {\"id\",\"cluster\"} line per document (hard negatives add\n"
          "\"hardneg\": true and \"template\"). Same options and seed -> same bytes.\n"
          "\n"
          "  --preset NAME    web (default), ocr, trunc, wire, hardneg, scale, sample,\n"
          "                   pages, digest\n"
          "  --docs N         total documents (default: one pass over the base stories;\n"
          "                   scale: 1000000); beyond the base, stories are recombined\n"
          "  --seed S         64-bit seed (default 1)\n"
          "  --out FILE       corpus (default stdout)\n"
          "  --truth FILE     ground truth (default: none)\n"
          "  --reuters PATH   base stories from reuters21578.jsonl.gz\n"
          "  --base PATH      shipped base stories (default datasets/base-stories.txt)\n"
          "  --window N       shuffle window in documents (default 10000)\n"
          "  --hardneg FRAC   fraction of clusters that are template hard negatives\n"
          "  --stats          a summary line on stderr\n",
          f);
}

static void list_presets(void)
{
    for (size_t i = 0; i < NPRESETS; i++) {
        const preset_t *p = &PRESETS[i];
        printf("%-8s %s\n", p->name, p->desc);
        printf("         reprints %d-%d per story, hard negatives %.0f%% of clusters", p->rmin, p->rmax,
               p->hardneg * 100);
        if (p->min_bytes)
            printf(", ~%zu-byte bases", p->min_bytes);
        if (p->docs)
            printf(", %llu docs by default", (unsigned long long)p->docs);
        printf("\n");
        for (int k = 0; k < p->nprof; k++) {
            const profile_t *f = p->prof[k];
            printf("         edits(%s): headline %.2f dateline %.2f byline %.2f boiler %.2f quotes %.2f"
                   " trunc-mild %.2f trunc-severe %.2f [%.2f,%.2f] drop %.2f insert %.2f swap %.2f"
                   " typos %.3f/word ocr %.2f [%.3f,%.3f]/char\n",
                   f->name, f->headline, f->dateline, f->byline, f->boiler, f->quotes, f->trunc_mild,
                   f->trunc_sev, f->sev_lo, f->sev_hi, f->para_drop, f->para_insert, f->para_swap,
                   f->typo_doc * f->typo_rate, f->ocr_doc, f->ocr_lo, f->ocr_hi);
        }
    }
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_frac(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= 0 && v <= 1))
        return -1;
    *out = v;
    return 0;
}

__attribute__((format(printf, 1, 2), noreturn))
static void bad_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ndgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'ndgen --help'.\n", stderr);
    exit(1);
}

/* Default location of the shipped stories: ./datasets, then next to the
 * binary's build directory. */
static char *find_base(const char *argv0)
{
    const char *rel = "datasets/base-stories.txt";
    FILE *f = fopen(rel, "rb");
    if (f) {
        fclose(f);
        return xstrndup(rel, strlen(rel));
    }
    const char *slash = strrchr(argv0, '/');
    if (slash) {
        size_t dn = (size_t)(slash - argv0);
        size_t cap = dn + 40;
        char *p = xmalloc(cap);
        snprintf(p, cap, "%.*s/../datasets/base-stories.txt", (int)dn, argv0);
        return p;
    }
    return xstrndup(rel, strlen(rel));
}

int main(int argc, char **argv)
{
    const preset_t *ps = &PRESETS[0];
    uint64_t docs = 0, seed = 1, window = 10000;
    int have_docs = 0, stats = 0;
    double hardneg = -1;
    const char *out_name = NULL, *truth_name = NULL, *reuters = NULL, *base = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDS_ARG()                                            \
    do {                                                       \
        if (!v)                                                \
            bad_usage("option %s needs an argument", a);       \
        i++;                                                   \
    } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("ndgen %s\n", NDGEN_VERSION);
            return 0;
        } else if (!strcmp(a, "--list-presets")) {
            list_presets();
            return 0;
        } else if (!strcmp(a, "--stats")) {
            stats = 1;
        } else if (!strcmp(a, "--preset")) {
            NEEDS_ARG();
            ps = NULL;
            for (size_t k = 0; k < NPRESETS; k++)
                if (!strcmp(PRESETS[k].name, v))
                    ps = &PRESETS[k];
            if (!ps)
                bad_usage("unknown preset '%s' (see --list-presets)", v);
        } else if (!strcmp(a, "--docs")) {
            NEEDS_ARG();
            if (parse_u64(v, &docs) || docs == 0 || docs > 999999999999ULL)
                bad_usage("--docs wants a positive integer, not '%s'", v);
            have_docs = 1;
        } else if (!strcmp(a, "--seed")) {
            NEEDS_ARG();
            if (parse_u64(v, &seed))
                bad_usage("--seed wants a non-negative integer, not '%s'", v);
        } else if (!strcmp(a, "--window")) {
            NEEDS_ARG();
            if (parse_u64(v, &window) || window == 0 || window > 100000000)
                bad_usage("--window wants an integer in 1..100000000, not '%s'", v);
        } else if (!strcmp(a, "--hardneg")) {
            NEEDS_ARG();
            if (parse_frac(v, &hardneg) || hardneg >= 1)
                bad_usage("--hardneg wants a fraction in [0, 1), not '%s'", v);
        } else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
            NEEDS_ARG();
            out_name = v;
        } else if (!strcmp(a, "--truth")) {
            NEEDS_ARG();
            truth_name = v;
        } else if (!strcmp(a, "--reuters")) {
            NEEDS_ARG();
            reuters = v;
        } else if (!strcmp(a, "--base")) {
            NEEDS_ARG();
            base = v;
        } else {
            bad_usage("unknown option '%s'", a);
        }
#undef NEEDS_ARG
    }
    if (reuters && base)
        bad_usage("%s", "--reuters and --base exclude each other");
    if (hardneg < 0)
        hardneg = ps->hardneg;
    if (!have_docs)
        docs = ps->docs;

    stories_t ss = {0};
    size_t dups = 0;
    char *base_path = NULL;
    if (reuters) {
        int rc = load_reuters(reuters, &ss, &dups);
        if (rc == -1) {
            fprintf(stderr, "ndgen: %s: cannot open: %s\n", reuters, strerror(errno));
            return 2;
        }
        if (rc < 0)
            return 65;
    } else {
        base_path = base ? xstrndup(base, strlen(base)) : find_base(argv[0]);
        if (load_shipped(base_path, &ss) < 0) {
            fprintf(stderr, "ndgen: %s: cannot open: %s\n", base_path, strerror(errno));
            free(base_path);
            return 2;
        }
    }
    if (ss.n == 0) {
        fprintf(stderr, "ndgen: no base stories in %s\n", reuters ? reuters : base_path);
        return 65;
    }
    size_t lookalikes = 0;
    size_t near_dups = dedup_bases(&ss, &lookalikes);

    writer_t w = {0};
    w.out_name = out_name ? out_name : "<stdout>";
    w.truth_name = truth_name;
    w.out = out_name ? fopen(out_name, "wb") : stdout;
    if (!w.out) {
        fprintf(stderr, "ndgen: %s: cannot open: %s\n", out_name, strerror(errno));
        return 2;
    }
    if (truth_name) {
        w.truth = fopen(truth_name, "wb");
        if (!w.truth) {
            fprintf(stderr, "ndgen: %s: cannot open: %s\n", truth_name, strerror(errno));
            return 2;
        }
    }
    w.window = (size_t)window;
    w.rec = xmalloc(w.window * sizeof *w.rec);
    w.idw = 7;
    for (uint64_t lim = 10000000; docs >= lim && w.idw < 19; lim *= 10)
        w.idw++;

    g_related = &ss;
    editor_t ed = {0};
    rng_seed(&ed.rng, seed);
    rng_seed(&w.shuf, seed ^ 0x5eed5eed5eed5eedULL);

    /* the base stories in a seeded order, used once each before any recombination */
    size_t *perm = xmalloc(ss.n * sizeof *perm);
    for (size_t i = 0; i < ss.n; i++)
        perm[i] = i;
    for (size_t i = ss.n; i > 1; i--) {
        size_t j = rng_below(&ed.rng, (uint32_t)i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }

    buf_t scratch = {0};
    span_t hn_para[16];
    span_t *comp = NULL;
    size_t comp_cap = 0, next_base = 0;
    uint64_t emitted = 0, cluster = 0, n_base = 0, n_comp = 0, n_hard = 0;
    buf_t orig = {0};

    if (ps->mode != MODE_CLASSIC) {
        gen_t g = {.ps = ps, .ss = &ss, .perm = perm, .ed = &ed, .w = &w, .docs = docs, .hardneg = hardneg};
        /* one pass: about one wire copy and (rmin + rmax) / 2 reprints a story */
        uint64_t est = docs ? docs : (uint64_t)ss.n * (uint64_t)(2 + ps->rmin + ps->rmax) / 2;
        emitted = gen_run(&g, est, stats, seed);
    }
    while (ps->mode == MODE_CLASSIC && (docs ? emitted < docs : next_base < ss.n)) {
        view_t v;
        int tmpl = -1;
        int reprints;
        if (rng_chance(&ed.rng, hardneg)) {
            tmpl = (int)(n_hard % T_COUNT); /* round robin: every template shows up */
            int64_t t = ss.v[perm[rng_below(&ed.rng, (uint32_t)ss.n)]].time + rng_range(&ed.rng, 0, 30 * 86400);
            make_hardneg(&ed.rng, tmpl, t, &scratch, hn_para, &v);
            reprints = rng_range(&ed.rng, 0, ps->hn_rmax);
            n_hard++;
        } else {
            if (!ps->min_bytes && next_base < ss.n) {
                view_of_story(&ss.v[perm[next_base++]], &v);
                n_base++;
            } else {
                /* Joined stories: whole base stories while the first pass lasts,
                 * then random paragraphs of random stories. */
                size_t target = ps->min_bytes ? (size_t)rng_range(&ed.rng, (int)ps->min_bytes * 2 / 3,
                                                                   (int)ps->min_bytes * 4 / 3)
                                              : 0;
                int min_paras = ps->min_bytes ? 1 : rng_range(&ed.rng, 4, 7);
                size_t np = 0, bytes = 0;
                const story_t *lead = NULL;
                while ((bytes < target || np < (size_t)min_paras) && np < 400) {
                    const story_t *st;
                    size_t from, cnt;
                    if (next_base < ss.n) {
                        st = &ss.v[perm[next_base++]];
                        from = 0;
                        cnt = st->np;
                    } else {
                        st = &ss.v[rng_below(&ed.rng, (uint32_t)ss.n)];
                        from = rng_below(&ed.rng, (uint32_t)st->np);
                        cnt = 1;
                    }
                    if (!lead)
                        lead = st;
                    if (np + cnt > comp_cap) {
                        comp_cap = (np + cnt) * 2;
                        comp = xrealloc(comp, comp_cap * sizeof *comp);
                    }
                    for (size_t k = 0; k < cnt; k++) {
                        comp[np++] = st->para[from + k];
                        bytes += st->para[from + k].n;
                    }
                }
                view_of_story(lead, &v);
                v.para = comp;
                v.np = np;
                n_comp++;
            }
            reprints = rng_range(&ed.rng, ps->rmin, ps->rmax);
        }
        write_original(&v, &orig);
        writer_add(&w, &orig, cluster, v.time, -1, tmpl);
        emitted++;
        for (int k = 0; k < reprints && (!docs || emitted < docs); k++) {
            const profile_t *pf = ps->prof[rng_below(&ed.rng, (uint32_t)ps->nprof)];
            int64_t t = v.time + rng_range(&ed.rng, 0, 72 * 3600);
            int src = (int)rng_below(&ed.rng, (uint32_t)(sizeof OUTLETS / sizeof OUTLETS[0]));
            const buf_t *txt = write_reprint(&ed, &v, pf);
            writer_add(&w, txt, cluster, t, src, tmpl);
            emitted++;
        }
        cluster++;
    }
    writer_flush(&w);
    if (w.out != stdout ? fclose(w.out) != 0 : fflush(w.out) != 0) {
        fprintf(stderr, "ndgen: %s: write failed: %s\n", w.out_name, strerror(errno));
        return 2;
    }
    if (w.truth && fclose(w.truth) != 0) {
        fprintf(stderr, "ndgen: %s: write failed: %s\n", truth_name, strerror(errno));
        return 2;
    }
    if (stats && ps->mode == MODE_CLASSIC)
        fprintf(stderr,
                "ndgen: preset %s seed %llu: %llu docs, %llu bytes, %llu clusters (%llu base, %llu "
                "recombined, %llu hard negatives) from %zu base stories (%zu exact and %zu near "
                "copies dropped, %zu look-alike pairs kept apart)\n",
                ps->name, (unsigned long long)seed, (unsigned long long)emitted,
                (unsigned long long)w.bytes_out, (unsigned long long)cluster, (unsigned long long)n_base,
                (unsigned long long)n_comp, (unsigned long long)n_hard, ss.n, dups, near_dups, lookalikes);

    for (size_t i = 0; i < ss.n; i++) {
        for (size_t k = 0; k < ss.v[i].np; k++)
            free((char *)ss.v[i].para[k].s);
        free(ss.v[i].para);
        free(ss.v[i].title);
        free(ss.v[i].city);
        free(ss.v[i].dateline);
    }
    free(ss.v);
    free(perm);
    free(comp);
    free(scratch.p);
    free(orig.p);
    free(ed.a.p);
    free(ed.b.p);
    free(ed.idx);
    free(w.arena.p);
    free(w.xarena.p);
    free(w.ob.p);
    free(w.tb.p);
    free(w.rec);
    free(base_path);
    return 0;
}
