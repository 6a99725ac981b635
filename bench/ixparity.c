/*
 * ixparity.c - does the incremental index find what the batch would link?
 * (public API only)
 *
 *   ixparity [--json] [--label L] DOCS TRUTH [DOCS TRUTH ...]
 *
 * Each collection (DOCS: JSONL, gzip or zstd as the reader takes them;
 * TRUTH: lines {"id", "cluster"} as ndeval reads them, plain or gzip) is
 * split by document order: even ordinals are half A, odd ones half B.
 * Half A is added to an in-memory index with the default parameters, then
 * every document of half B is queried (nd_index_query, the 64 best
 * matches).  A document without a truth line is a cluster of its own.
 *
 *   reprints  B documents whose true cluster has a member in A: a reprint
 *             whose story is in the index
 *   recall    share of the reprints whose query returns a match of their
 *             own true cluster
 *   top-prec  among B queries that return any match, share whose best
 *             (first) match is of the query's true cluster
 *   any-prec  share of all returned matches that are of the query's
 *             cluster (a looser view of the false matches)
 *
 * Add and query rates (one thread, sketching included) are reported as
 * measured once; ixparity is about decisions, indexbench about speed.
 *
 * Exit codes: 0 ok, 1 usage, 2 a file cannot be read, 65 bad data.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "../src/neardup.h"

#define MAX_MATCHES 64

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *xrealloc(void *p, size_t n, size_t size)
{
    p = realloc(p, n * size);
    if (!p) {
        fputs("ixparity: out of memory\n", stderr);
        exit(71);
    }
    return p;
}

/* ---------------------------------------------- strings to dense numbers */

typedef struct {
    char **s;
    size_t *len;
    uint32_t *t; /* open addressing: index + 1, 0 empty */
    size_t n, cap, mask;
} strtab;

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static void strtab_rehash(strtab *st, size_t slots)
{
    free(st->t);
    st->t = calloc(slots, sizeof *st->t);
    if (!st->t)
        xrealloc(NULL, 0, 0);
    st->mask = slots - 1;
    for (size_t i = 0; i < st->n; i++) {
        size_t h = hash_bytes(st->s[i], st->len[i]) & st->mask;
        while (st->t[h])
            h = (h + 1) & st->mask;
        st->t[h] = (uint32_t)i + 1;
    }
}

/* The number of s[0..n); add: 1 to add when absent, else UINT32_MAX. */
static uint32_t strtab_get(strtab *st, const char *s, size_t n, int add)
{
    if (!st->t)
        strtab_rehash(st, 1024);
    size_t h = hash_bytes(s, n) & st->mask;
    for (; st->t[h]; h = (h + 1) & st->mask) {
        uint32_t i = st->t[h] - 1;
        if (st->len[i] == n && memcmp(st->s[i], s, n) == 0)
            return i;
    }
    if (!add)
        return UINT32_MAX;
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 1024;
        st->s = xrealloc(st->s, st->cap, sizeof *st->s);
        st->len = xrealloc(st->len, st->cap, sizeof *st->len);
    }
    char *c = xrealloc(NULL, n + 1, 1);
    memcpy(c, s, n);
    c[n] = 0;
    st->s[st->n] = c;
    st->len[st->n] = n;
    st->n++;
    if (2 * st->n > st->mask + 1)
        strtab_rehash(st, 2 * (st->mask + 1));
    else
        st->t[h] = (uint32_t)st->n;
    return (uint32_t)st->n - 1;
}

static void strtab_free(strtab *st)
{
    for (size_t i = 0; i < st->n; i++)
        free(st->s[i]);
    free(st->s);
    free(st->len);
    free(st->t);
    memset(st, 0, sizeof *st);
}

/* ------------------------------------------------------------- the truth */

typedef struct {
    strtab ids;       /* id JSON text -> document */
    strtab labels;    /* cluster JSON text -> true cluster */
    uint32_t *cl;     /* per truth document */
    size_t cap;
} truth;

/* Read TRUTH; 0 ok, else the exit code (message printed). */
static int read_truth(truth *t, const char *path)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ixparity: %s: cannot open\n", path);
        return 2;
    }
    char buf[65536];
    uint64_t line = 0;
    while (gzgets(f, buf, sizeof buf)) {
        line++;
        json_error_t e;
        json_t *o = json_loads(buf, JSON_DECODE_ANY, &e);
        json_t *id = o ? json_object_get(o, "id") : NULL;
        json_t *cl = o ? json_object_get(o, "cluster") : NULL;
        if (!id || (!json_is_string(id) && !json_is_integer(id))) {
            if (o == NULL && buf[strspn(buf, " \t\r\n")] == 0)
                continue;
            fprintf(stderr, "ixparity: %s:%" PRIu64 ": no \"id\"\n", path, line);
            json_decref(o);
            gzclose(f);
            return 65;
        }
        char *idt = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
        char *clt = cl && !json_is_null(cl)
                        ? json_dumps(cl, JSON_ENCODE_ANY | JSON_COMPACT)
                        : NULL;
        size_t before = t->ids.n;
        uint32_t d = strtab_get(&t->ids, idt, strlen(idt), 1);
        if (t->ids.n == before) {
            fprintf(stderr, "ixparity: %s:%" PRIu64 ": duplicate id %s\n", path,
                    line, idt);
            free(idt);
            free(clt);
            json_decref(o);
            gzclose(f);
            return 65;
        }
        if (d >= t->cap) {
            t->cap = t->cap ? 2 * t->cap : 1024;
            t->cl = xrealloc(t->cl, t->cap, sizeof *t->cl);
        }
        if (clt) {
            t->cl[d] = strtab_get(&t->labels, clt, strlen(clt), 1);
        } else {
            /* no JSON text starts with \001: the document's own cluster */
            char own[1024];
            int n = snprintf(own, sizeof own, "\001%s", idt);
            t->cl[d] = strtab_get(&t->labels, own, (size_t)n, 1);
        }
        free(idt);
        free(clt);
        json_decref(o);
    }
    gzclose(f);
    return 0;
}

/* -------------------------------------------------------------- one set */

typedef struct {
    char *id;
    size_t id_len;
    uint32_t cl;
} doc;

typedef struct {
    const char *label;
    size_t docs, a, b, reprints, found, answered, top_ok, matches, match_ok;
    double add_s, query_s;
    uint64_t candidates;
} result;

static nd_params params;
static FILE *misses; /* --misses: one JSON line per reprint not found */

static int run_set(const char *docs_path, const char *truth_path,
                   const char *label, result *r)
{
    memset(r, 0, sizeof *r);
    r->label = label;
    truth t = {0};
    int rc = read_truth(&t, truth_path);
    if (rc)
        return rc;
    nd_reader *rd;
    const char *paths[1] = {docs_path};
    if (nd_reader_open(paths, 1, NULL, &rd) != ND_OK) {
        fprintf(stderr, "ixparity: %s\n",
                rd ? nd_reader_errmsg(rd) : "cannot open");
        nd_reader_close(rd);
        return 2;
    }
    nd_index *ix;
    if (nd_index_create(&params, &ix) != ND_OK) {
        fputs("ixparity: cannot create an index\n", stderr);
        return 71;
    }
    /* clusters with a member in A, known once A is read: B texts are kept */
    size_t nl = t.labels.n, bcap = 0, nb = 0;
    unsigned char *in_a = calloc(nl + 1, 1);
    doc *bd = NULL;
    char **btext = NULL;
    size_t *blen = NULL;
    nd_record rec;
    int got;
    double t0 = now(), add_s = 0;
    while ((got = nd_reader_next(rd, &rec)) != 0) {
        if (got < 0) {
            fprintf(stderr, "ixparity: %s\n", nd_reader_errmsg(rd));
            if (got == ND_ERR_IO)
                return 2;
            continue;
        }
        uint32_t d = strtab_get(&t.ids, rec.id, rec.id_len, 0);
        uint32_t cl;
        if (d == UINT32_MAX) {
            char own[1024];
            int n = snprintf(own, sizeof own, "\001%.*s", (int)rec.id_len, rec.id);
            cl = strtab_get(&t.labels, own, (size_t)n, 1);
            in_a = xrealloc(in_a, t.labels.n + 1, 1);
            for (; nl < t.labels.n; nl++)
                in_a[nl] = 0;
        } else {
            cl = t.cl[d];
        }
        if (r->docs++ % 2 == 0) {
            double s = now();
            int a = nd_index_add(ix, rec.id, rec.id_len, rec.text, rec.text_len, 0);
            add_s += now() - s;
            if (a != ND_OK) {
                fprintf(stderr, "ixparity: add %.*s: %s\n", (int)rec.id_len,
                        rec.id, nd_index_errmsg(ix));
                return 65;
            }
            in_a[cl] = 1;
            r->a++;
        } else {
            if (nb == bcap) {
                bcap = bcap ? 2 * bcap : 1024;
                bd = xrealloc(bd, bcap, sizeof *bd);
                btext = xrealloc(btext, bcap, sizeof *btext);
                blen = xrealloc(blen, bcap, sizeof *blen);
            }
            bd[nb].id = xrealloc(NULL, rec.id_len, 1);
            memcpy(bd[nb].id, rec.id, rec.id_len);
            bd[nb].id_len = rec.id_len;
            bd[nb].cl = cl;
            btext[nb] = xrealloc(NULL, rec.text_len + 1, 1);
            memcpy(btext[nb], rec.text, rec.text_len);
            blen[nb] = rec.text_len;
            nb++;
        }
    }
    (void)t0;
    nd_reader_close(rd);
    r->add_s = add_s;
    r->b = nb;
    nd_match m[MAX_MATCHES];
    double q0 = now();
    for (size_t i = 0; i < nb; i++) {
        size_t n;
        if (nd_index_query(ix, btext[i], blen[i], m, MAX_MATCHES, &n) != ND_OK) {
            fprintf(stderr, "ixparity: query %.*s: %s\n", (int)bd[i].id_len,
                    bd[i].id, nd_index_errmsg(ix));
            return 65;
        }
        int reprint = in_a[bd[i].cl], found = 0;
        r->reprints += reprint;
        for (size_t j = 0; j < n; j++) {
            uint32_t d = strtab_get(&t.ids, m[j].id, m[j].id_len, 0);
            uint32_t mc = d == UINT32_MAX ? UINT32_MAX : t.cl[d];
            int ok = mc == bd[i].cl;
            if (d == UINT32_MAX) {
                char own[1024];
                int len = snprintf(own, sizeof own, "\001%.*s", (int)m[j].id_len,
                                   m[j].id);
                ok = strtab_get(&t.labels, own, (size_t)len, 0) == bd[i].cl;
            }
            r->matches++;
            r->match_ok += ok;
            found |= ok;
            if (j == 0) {
                r->answered++;
                r->top_ok += ok;
                if (misses && !ok)
                    fprintf(misses, "{\"set\": \"%s\", \"id\": %.*s, "
                            "\"cluster\": %s, \"top\": %.*s, \"jaccard\": %.4f, "
                            "\"containment\": %.4f}\n", label, (int)bd[i].id_len,
                            bd[i].id, t.labels.s[bd[i].cl], (int)m[j].id_len,
                            m[j].id, m[j].jaccard, m[j].containment);
            }
        }
        r->found += reprint && found;
        if (misses && reprint && !found)
            fprintf(misses, "{\"set\": \"%s\", \"id\": %.*s, \"cluster\": %s, "
                    "\"matches\": %zu}\n", label, (int)bd[i].id_len, bd[i].id,
                    t.labels.s[bd[i].cl], n);
    }
    r->query_s = now() - q0;
    nd_index_stats st;
    nd_index_stats_get(ix, &st);
    r->candidates = st.candidates;
    nd_index_close(ix);
    for (size_t i = 0; i < nb; i++) {
        free(bd[i].id);
        free(btext[i]);
    }
    free(bd);
    free(btext);
    free(blen);
    free(in_a);
    free(t.cl);
    strtab_free(&t.ids);
    strtab_free(&t.labels);
    return 0;
}

static double share(size_t a, size_t b)
{
    return b ? (double)a / (double)b : 1.0;
}

/* --threshold --containment --figures --boilerplate --bands --rows */
static int set_param(const char *k, const char *v)
{
    char *end;
    double x = strtod(v, &end);
    if (*end || end == v)
        return 0;
    if (strcmp(k, "threshold") == 0)
        params.threshold = x;
    else if (strcmp(k, "containment") == 0)
        params.containment = x;
    else if (strcmp(k, "figures") == 0)
        params.figures = x;
    else if (strcmp(k, "boilerplate") == 0)
        params.boilerplate = x;
    else if (strcmp(k, "bands") == 0)
        params.bands = (unsigned)x;
    else if (strcmp(k, "rows") == 0)
        params.rows = (unsigned)x;
    else
        return 0;
    return 1;
}

static int usage(void)
{
    fputs("usage: ixparity [--json] [--label L]... DOCS TRUTH [DOCS TRUTH ...]\n"
          "  Adds the even documents of each collection to an index (default\n"
          "  parameters), queries the odd ones, and reports the recall of\n"
          "  reprints whose story is indexed and the precision of the best\n"
          "  match.  --label names the next collection (default: DOCS).\n"
          "  --threshold --containment --figures --boilerplate --bands --rows X\n"
          "  change the default parameters.  --misses FILE: a JSON line for\n"
          "  each reprint whose story was not found and each wrong best match.\n",
          stderr);
    return 1;
}

int main(int argc, char **argv)
{
    int json = 0;
    nd_params_init(&params);
    const char *label = NULL;
    const char *sets[64][3];
    size_t ns = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc) {
            label = argv[++i];
        } else if (strcmp(argv[i], "--misses") == 0 && i + 1 < argc) {
            if (!(misses = fopen(argv[++i], "w"))) {
                fprintf(stderr, "ixparity: %s: cannot write\n", argv[i]);
                return 2;
            }
        } else if (strncmp(argv[i], "--", 2) == 0 && i + 1 < argc &&
                   set_param(argv[i] + 2, argv[i + 1])) {
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage();
        } else {
            if (i + 1 >= argc || ns == 64)
                return usage();
            sets[ns][0] = argv[i];
            sets[ns][1] = argv[i + 1];
            sets[ns][2] = label ? label : argv[i];
            label = NULL;
            ns++;
            i++;
        }
    }
    if (ns == 0)
        return usage();
    if (!json)
        printf("%-10s %6s %6s %8s %8s %8s %8s %8s %9s %9s\n", "set", "A", "B",
               "reprints", "recall", "answered", "top-prec", "any-prec",
               "add/s", "query/s");
    else
        printf("[\n");
    for (size_t s = 0; s < ns; s++) {
        result r;
        int rc = run_set(sets[s][0], sets[s][1], sets[s][2], &r);
        if (rc)
            return rc;
        double rec = share(r.found, r.reprints), top = share(r.top_ok, r.answered),
               any = share(r.match_ok, r.matches);
        if (json)
            printf("  {\"set\": \"%s\", \"a\": %zu, \"b\": %zu, \"reprints\": %zu, "
                   "\"found\": %zu, \"recall\": %.4f, \"answered\": %zu, "
                   "\"top_ok\": %zu, \"top_precision\": %.4f, \"matches\": %zu, "
                   "\"any_precision\": %.4f, \"candidates\": %" PRIu64 ", "
                   "\"add_per_s\": %.0f, \"query_per_s\": %.0f}%s\n",
                   r.label, r.a, r.b, r.reprints, r.found, rec, r.answered,
                   r.top_ok, top, r.matches, any, r.candidates,
                   r.add_s > 0 ? (double)r.a / r.add_s : 0.0,
                   r.query_s > 0 ? (double)r.b / r.query_s : 0.0,
                   s + 1 < ns ? "," : "");
        else
            printf("%-10s %6zu %6zu %8zu %8.4f %8zu %8.4f %8.4f %9.0f %9.0f\n",
                   r.label, r.a, r.b, r.reprints, rec, r.answered, top, any,
                   r.add_s > 0 ? (double)r.a / r.add_s : 0.0,
                   r.query_s > 0 ? (double)r.b / r.query_s : 0.0);
        fflush(stdout);
    }
    if (json)
        printf("]\n");
    if (misses)
        fclose(misses);
    return 0;
}
