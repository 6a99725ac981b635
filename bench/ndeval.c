/*
 * ndeval.c - accuracy of a clustering against ground truth.
 *
 *   ndeval [--json] --truth TRUTH.jsonl PRED.jsonl|-
 *
 * Both files hold one JSON object per line with an "id" and a "cluster"
 * (a number or a string).  Ids are matched by their JSON text, so the string
 * "5" and the number 5 are different documents.  A truth line may carry
 * "hardneg": true to mark a hard negative: a document that looks like others
 * but is a story of its own.  Its "cluster" is used as given (normally one
 * of its own, or shared with its own reprints); a hard negative without a
 * "cluster" is a singleton.
 *
 * Every figure comes from the contingency table n_ij = |T_i n P_j| of true
 * cluster i and predicted cluster j, never from the pairs themselves, in
 * time and memory linear in the number of documents (for ten million, the
 * JSON reading takes about 30 s and the scoring a small part of that):
 *   - counting-sort the documents by true cluster;
 *   - for each true cluster, count its members per predicted cluster in a
 *     scratch array and reset only the entries it touched: O(n) in all.
 * With a_i = |T_i|, b_j = |P_j|, C(x) = x (x - 1) / 2 and N = C(n):
 *   pairs in the same true cluster       A  = sum_i C(a_i)
 *   pairs in the same predicted cluster  B  = sum_j C(b_j)
 *   pairs in both                        TP = sum_ij C(n_ij)
 *   pairwise precision TP / B, recall TP / A (1 when the denominator is 0);
 *   adjusted Rand index (Hubert & Arabie 1985)
 *       (TP - A B / N) / ((A + B) / 2 - A B / N), 1 when the pair sets agree;
 *   B-cubed (Bagga & Baldwin 1998, averaged over documents)
 *       precision sum_ij n_ij^2 / b_j / n, recall sum_ij n_ij^2 / a_i / n;
 *   hard-negative precision: of the predicted pairs with at least one hard
 *       negative, C(b_j) - C(b_j - h_j) per predicted cluster with h_j hard
 *       negatives, the share that is truly same-cluster,
 *       sum_ij C(n_ij) - C(n_ij - h_ij); 1 when there is no such pair.
 * Pair counts stay below 2^63 up to 4 billion documents; products of pair
 * counts are formed in long double.
 *
 * Exit codes: 0 ok, 1 usage, 2 a file cannot be read, 65 bad data (a
 * malformed line, a duplicate id, an id in one file and not the other),
 * 71 out of memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

enum { EXIT_USAGE = 1, EXIT_IO = 2, EXIT_DATA = 65, EXIT_NOMEM = 71 };

#define NONE UINT32_MAX

static void usage(FILE *f)
{
    fputs("usage: ndeval [--json] --truth TRUTH.jsonl PRED.jsonl|-\n"
          "  Compares a clustering (lines {\"id\": .., \"cluster\": ..}) with the\n"
          "  ground truth (same fields, optional \"hardneg\": true) and prints\n"
          "  pairwise precision/recall/F1, adjusted Rand index, B-cubed\n"
          "  precision/recall/F1 and hard-negative precision.\n"
          "  --json   one JSON object instead of the table\n"
          "exit: 0 ok, 1 usage, 2 unreadable file, 65 bad or mismatched data\n",
          f);
}

static void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("ndeval: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

static void *xrealloc(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        die(EXIT_NOMEM, "out of memory");
    p = realloc(p, n * size != 0 ? n * size : 1);
    if (!p)
        die(EXIT_NOMEM, "out of memory");
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die(EXIT_NOMEM, "out of memory");
    return p;
}

/* ------------------------------------------------------------ interning */

/*
 * Strings -> dense indices 0, 1, ... in order of first insertion.  The
 * strings live NUL-terminated in one growing buffer; an open-addressing
 * table of entry numbers (0 = empty, else index + 1) with linear probing.
 */
typedef struct strtab {
    char *buf;
    size_t len, cap;
    uint64_t *off;
    uint32_t n, ncap;
    uint32_t *slot;
    size_t mask;
} strtab;

static uint64_t str_hash(const char *s, size_t len)
{
    return XXH3_64bits(s, len);
}

static int str_equal(const strtab *t, uint32_t k, const char *s, size_t len)
{
    const char *e = t->buf + t->off[k];
    return memcmp(e, s, len) == 0 && e[len] == '\0';
}

static void strtab_grow(strtab *t)
{
    size_t cap = t->mask ? (t->mask + 1) * 2 : 1024;
    free(t->slot);
    t->slot = xcalloc(cap, sizeof *t->slot);
    t->mask = cap - 1;
    for (uint32_t k = 0; k < t->n; k++) {
        const char *e = t->buf + t->off[k];
        size_t i = str_hash(e, strlen(e)) & t->mask;
        while (t->slot[i])
            i = (i + 1) & t->mask;
        t->slot[i] = k + 1;
    }
}

/* The index of s, or NONE. */
static uint32_t strtab_find(const strtab *t, const char *s, size_t len)
{
    if (!t->mask)
        return NONE;
    size_t i = str_hash(s, len) & t->mask;
    for (; t->slot[i]; i = (i + 1) & t->mask)
        if (str_equal(t, t->slot[i] - 1, s, len))
            return t->slot[i] - 1;
    return NONE;
}

/* The index of s, added when new; *added tells which. */
static uint32_t strtab_add(strtab *t, const char *s, size_t len, int *added)
{
    uint32_t k = strtab_find(t, s, len);
    *added = k == NONE;
    if (k != NONE)
        return k;
    if (t->n == NONE - 1)
        die(EXIT_DATA, "more than %" PRIu32 " distinct values", NONE - 1);
    if ((size_t)t->n + 1 > (t->mask + 1) / 2)
        strtab_grow(t);
    if (t->len + len + 1 > t->cap) {
        t->cap = (t->len + len + 1) * 2;
        t->buf = xrealloc(t->buf, t->cap, 1);
    }
    if (t->n == t->ncap) {
        t->ncap = t->ncap ? t->ncap * 2 : 1024;
        t->off = xrealloc(t->off, t->ncap, sizeof *t->off);
    }
    memcpy(t->buf + t->len, s, len);
    t->buf[t->len + len] = '\0';
    k = t->n++;
    t->off[k] = t->len;
    t->len += len + 1;
    size_t i = str_hash(s, len) & t->mask;
    while (t->slot[i])
        i = (i + 1) & t->mask;
    t->slot[i] = k + 1;
    return k;
}

static const char *strtab_get(const strtab *t, uint32_t k)
{
    return t->buf + t->off[k];
}

static void strtab_free(strtab *t)
{
    free(t->buf);
    free(t->off);
    free(t->slot);
}

/* -------------------------------------------------------------- reading */

/* One parsed line: the JSON text of id and cluster (malloc'd by jansson). */
typedef struct line_rec {
    char *id;
    char *cluster;    /* NULL when absent or null */
    int hardneg;
} line_rec;

static int is_label(const json_t *v)
{
    return json_is_string(v) || json_is_integer(v) || json_is_real(v);
}

/*
 * Parse one line into rec.  0: a record; 1: a blank line.  Dies with
 * FILE:LINE on malformed input.
 */
static int parse_line(const char *file, uint64_t lineno, const char *s,
                      size_t len, int need_cluster, line_rec *rec)
{
    size_t i = 0;
    while (i < len && s[i] != '\0' && strchr(" \t\r\n", s[i]))
        i++;
    if (i == len)
        return 1;
    json_error_t err;
    json_t *o = json_loadb(s, len, 0, &err);
    if (!o)
        die(EXIT_DATA, "%s:%" PRIu64 ": not JSON: %s", file, lineno, err.text);
    if (!json_is_object(o))
        die(EXIT_DATA, "%s:%" PRIu64 ": not a JSON object", file, lineno);
    const json_t *id = json_object_get(o, "id");
    if (!id)
        die(EXIT_DATA, "%s:%" PRIu64 ": no \"id\"", file, lineno);
    if (!is_label(id))
        die(EXIT_DATA, "%s:%" PRIu64 ": \"id\" is not a string or a number",
            file, lineno);
    const json_t *cl = json_object_get(o, "cluster");
    if ((!cl || json_is_null(cl)) && need_cluster)
        die(EXIT_DATA, "%s:%" PRIu64 ": no \"cluster\"", file, lineno);
    if (cl && !json_is_null(cl) && !is_label(cl))
        die(EXIT_DATA,
            "%s:%" PRIu64 ": \"cluster\" is not a string or a number", file,
            lineno);
    int has_cluster = cl && !json_is_null(cl);
    rec->id = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
    rec->cluster = has_cluster
                       ? json_dumps(cl, JSON_ENCODE_ANY | JSON_COMPACT)
                       : NULL;
    rec->hardneg = json_is_true(json_object_get(o, "hardneg"));
    json_decref(o);
    if (!rec->id || (has_cluster && !rec->cluster))
        die(EXIT_NOMEM, "out of memory");
    return 0;
}

static FILE *open_input(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdin;
    FILE *f = fopen(path, "r");
    if (!f)
        die(EXIT_IO, "%s: %s", path, strerror(errno));
    return f;
}

static void close_input(FILE *f, const char *path)
{
    if (ferror(f))
        die(EXIT_IO, "%s: read error", path);
    if (f != stdin)
        fclose(f);
}

/* Documents in truth order, and the two labellings. */
typedef struct corpus {
    strtab ids;          /* id JSON text -> document number */
    strtab tlabels;      /* truth cluster text -> dense true cluster */
    strtab plabels;      /* predicted cluster text -> dense pred cluster */
    uint32_t *tcl, *pcl; /* cluster of each document; pcl NONE = not seen */
    uint64_t *tline, *pline;
    unsigned char *hard;
    size_t cap;
} corpus;

static void read_truth(corpus *c, const char *path)
{
    FILE *f = open_input(path);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    uint64_t lineno = 0;
    while ((got = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        line_rec r;
        if (parse_line(path, lineno, line, (size_t)got, 0, &r))
            continue;
        int added;
        uint32_t d = strtab_add(&c->ids, r.id, strlen(r.id), &added);
        if (!added)
            die(EXIT_DATA, "%s:%" PRIu64 ": duplicate id %s (first on line %" PRIu64 ")",
                path, lineno, r.id, c->tline[d]);
        if (!r.cluster && !r.hardneg)
            die(EXIT_DATA, "%s:%" PRIu64 ": no \"cluster\"", path, lineno);
        if (d == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 1024;
            c->tcl = xrealloc(c->tcl, c->cap, sizeof *c->tcl);
            c->tline = xrealloc(c->tline, c->cap, sizeof *c->tline);
            c->hard = xrealloc(c->hard, c->cap, sizeof *c->hard);
        }
        if (r.cluster) {
            c->tcl[d] = strtab_add(&c->tlabels, r.cluster, strlen(r.cluster),
                                   &added);
        } else {
            /* No JSON text starts with \001: this label is the doc's own. */
            size_t n = strlen(r.id);
            char *own = xrealloc(NULL, n + 2, 1);
            own[0] = '\001';
            memcpy(own + 1, r.id, n + 1);
            c->tcl[d] = strtab_add(&c->tlabels, own, n + 1, &added);
            free(own);
        }
        c->tline[d] = lineno;
        c->hard[d] = (unsigned char)(r.hardneg != 0);
        free(r.id);
        free(r.cluster);
    }
    free(line);
    close_input(f, path);
    if (c->ids.n == 0)
        die(EXIT_DATA, "%s: no documents", path);
}

static void read_pred(corpus *c, const char *path, const char *truth_path)
{
    size_t n = c->ids.n;
    c->pcl = xrealloc(NULL, n, sizeof *c->pcl);
    c->pline = xrealloc(NULL, n, sizeof *c->pline);
    for (size_t d = 0; d < n; d++)
        c->pcl[d] = NONE;
    FILE *f = open_input(path);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    uint64_t lineno = 0;
    while ((got = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        line_rec r;
        if (parse_line(path, lineno, line, (size_t)got, 1, &r))
            continue;
        uint32_t d = strtab_find(&c->ids, r.id, strlen(r.id));
        if (d == NONE)
            die(EXIT_DATA, "%s:%" PRIu64 ": id %s is not in %s", path, lineno,
                r.id, truth_path);
        if (c->pcl[d] != NONE)
            die(EXIT_DATA, "%s:%" PRIu64 ": duplicate id %s (first on line %" PRIu64 ")",
                path, lineno, r.id, c->pline[d]);
        int added;
        c->pcl[d] = strtab_add(&c->plabels, r.cluster, strlen(r.cluster),
                               &added);
        c->pline[d] = lineno;
        free(r.id);
        free(r.cluster);
    }
    free(line);
    close_input(f, path);
    for (size_t d = 0; d < n; d++)
        if (c->pcl[d] == NONE)
            die(EXIT_DATA, "%s:%" PRIu64 ": id %s is missing from %s",
                truth_path, c->tline[d], strtab_get(&c->ids, (uint32_t)d),
                path);
}

/* -------------------------------------------------------------- scoring */

typedef struct metrics {
    uint64_t docs, true_clusters, pred_clusters;
    uint64_t true_pairs, pred_pairs, shared_pairs;
    uint64_t hardneg_pairs, hardneg_true_pairs;
    double pair_precision, pair_recall, pair_f1, ari;
    double bcubed_precision, bcubed_recall, bcubed_f1, hardneg_precision;
} metrics;

/* x (x - 1) / 2; x <= 2^32, so the product fits in 64 bits. */
static uint64_t pairs(uint64_t x)
{
    return x < 2 ? 0 : x * (x - 1) / 2;
}

static double ratio(uint64_t num, uint64_t den)
{
    return den ? (double)num / (double)den : 1.0;
}

static double harmonic(double p, double r)
{
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

static void score(const corpus *c, metrics *m)
{
    size_t n = c->ids.n, nt = c->tlabels.n, np = c->plabels.n;
    uint32_t *a = xcalloc(nt + 1, sizeof *a);   /* a[i]: |T_i|, then offsets */
    uint32_t *b = xcalloc(np, sizeof *b);       /* b[j]: |P_j| */
    uint32_t *hb = xcalloc(np, sizeof *hb);     /* hard negatives in P_j */
    for (size_t d = 0; d < n; d++) {
        a[c->tcl[d] + 1]++;
        b[c->pcl[d]]++;
        hb[c->pcl[d]] += c->hard[d];
    }

    /* a[i + 1] is |T_i|; turn a into start offsets of a counting sort. */
    uint64_t true_pairs = 0;
    for (size_t i = 0; i < nt; i++) {
        true_pairs += pairs(a[i + 1]);
        a[i + 1] += a[i];
    }
    uint32_t *order = xrealloc(NULL, n, sizeof *order);
    uint32_t *fill = xrealloc(NULL, nt, sizeof *fill);
    memcpy(fill, a, nt * sizeof *fill);
    for (size_t d = 0; d < n; d++)
        order[fill[c->tcl[d]]++] = (uint32_t)d;
    free(fill);

    uint64_t pred_pairs = 0, hard_pairs = 0;
    for (size_t j = 0; j < np; j++) {
        pred_pairs += pairs(b[j]);
        hard_pairs += pairs(b[j]) - pairs(b[j] - hb[j]);
    }

    uint32_t *cnt = xcalloc(np, sizeof *cnt);
    uint32_t *hcnt = xcalloc(np, sizeof *hcnt);
    uint32_t *touched = xrealloc(NULL, np, sizeof *touched);
    uint64_t shared = 0, hard_true = 0;
    long double bc_p = 0, bc_r = 0;
    for (size_t i = 0; i < nt; i++) {
        size_t nt_touched = 0;
        uint32_t ai = a[i + 1] - a[i];
        for (uint32_t k = a[i]; k < a[i + 1]; k++) {
            uint32_t d = order[k], j = c->pcl[d];
            if (cnt[j]++ == 0)
                touched[nt_touched++] = j;
            hcnt[j] += c->hard[d];
        }
        for (size_t t = 0; t < nt_touched; t++) {
            uint32_t j = touched[t];
            uint64_t nij = cnt[j];
            shared += pairs(nij);
            hard_true += pairs(nij) - pairs(nij - hcnt[j]);
            bc_p += (long double)nij * (long double)nij / (long double)b[j];
            bc_r += (long double)nij * (long double)nij / (long double)ai;
            cnt[j] = 0;
            hcnt[j] = 0;
        }
    }
    free(a);
    free(b);
    free(hb);
    free(order);
    free(cnt);
    free(hcnt);
    free(touched);

    m->docs = n;
    m->true_clusters = nt;
    m->pred_clusters = np;
    m->true_pairs = true_pairs;
    m->pred_pairs = pred_pairs;
    m->shared_pairs = shared;
    m->pair_precision = ratio(shared, pred_pairs);
    m->pair_recall = ratio(shared, true_pairs);
    m->pair_f1 = harmonic(m->pair_precision, m->pair_recall);

    if (shared == true_pairs && shared == pred_pairs) {
        m->ari = 1.0;
    } else {
        long double all = (long double)pairs(n);
        long double expect = (long double)true_pairs * (long double)pred_pairs / all;
        long double max = ((long double)true_pairs + (long double)pred_pairs) / 2;
        m->ari = max - expect != 0
                     ? (double)(((long double)shared - expect) / (max - expect))
                     : 0.0;
    }

    m->bcubed_precision = (double)(bc_p / (long double)n);
    m->bcubed_recall = (double)(bc_r / (long double)n);
    m->bcubed_f1 = harmonic(m->bcubed_precision, m->bcubed_recall);
    m->hardneg_pairs = hard_pairs;
    m->hardneg_true_pairs = hard_true;
    m->hardneg_precision = ratio(hard_true, hard_pairs);
}

/* --------------------------------------------------------------- output */

static void print_json(const metrics *m)
{
    json_t *o = json_object();
    if (!o)
        die(EXIT_NOMEM, "out of memory");
    json_object_set_new(o, "docs", json_integer((json_int_t)m->docs));
    json_object_set_new(o, "true_clusters", json_integer((json_int_t)m->true_clusters));
    json_object_set_new(o, "pred_clusters", json_integer((json_int_t)m->pred_clusters));
    json_object_set_new(o, "true_pairs", json_integer((json_int_t)m->true_pairs));
    json_object_set_new(o, "pred_pairs", json_integer((json_int_t)m->pred_pairs));
    json_object_set_new(o, "shared_pairs", json_integer((json_int_t)m->shared_pairs));
    json_object_set_new(o, "pair_precision", json_real(m->pair_precision));
    json_object_set_new(o, "pair_recall", json_real(m->pair_recall));
    json_object_set_new(o, "pair_f1", json_real(m->pair_f1));
    json_object_set_new(o, "ari", json_real(m->ari));
    json_object_set_new(o, "bcubed_precision", json_real(m->bcubed_precision));
    json_object_set_new(o, "bcubed_recall", json_real(m->bcubed_recall));
    json_object_set_new(o, "bcubed_f1", json_real(m->bcubed_f1));
    json_object_set_new(o, "hardneg_pairs", json_integer((json_int_t)m->hardneg_pairs));
    json_object_set_new(o, "hardneg_precision", json_real(m->hardneg_precision));
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!s)
        die(EXIT_NOMEM, "out of memory");
    puts(s);
    free(s);
    json_decref(o);
}

static void print_table(const metrics *m)
{
    printf("%-20s %" PRIu64 "\n", "docs", m->docs);
    printf("%-20s %" PRIu64 "\n", "true clusters", m->true_clusters);
    printf("%-20s %" PRIu64 "\n", "pred clusters", m->pred_clusters);
    printf("%-20s %" PRIu64 " true, %" PRIu64 " predicted, %" PRIu64 " both\n",
           "same-cluster pairs", m->true_pairs, m->pred_pairs, m->shared_pairs);
    printf("%-20s %9s %9s %9s\n", "", "precision", "recall", "F1");
    printf("%-20s %9.6f %9.6f %9.6f\n", "pairwise", m->pair_precision,
           m->pair_recall, m->pair_f1);
    printf("%-20s %9.6f %9.6f %9.6f\n", "B-cubed", m->bcubed_precision,
           m->bcubed_recall, m->bcubed_f1);
    printf("%-20s %9.6f\n", "adjusted Rand index", m->ari);
    printf("%-20s %9.6f  (%" PRIu64 " predicted pairs with a hard negative)\n",
           "hard-neg precision", m->hardneg_precision, m->hardneg_pairs);
}

int main(int argc, char **argv)
{
    const char *truth = NULL, *pred = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--json") == 0) {
            json = 1;
        } else if (strcmp(s, "--truth") == 0) {
            if (++i == argc) {
                usage(stderr);
                return EXIT_USAGE;
            }
            truth = argv[i];
        } else if (strncmp(s, "--truth=", 8) == 0) {
            truth = s + 8;
        } else if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (s[0] == '-' && s[1] != '\0') {
            fprintf(stderr, "ndeval: unknown option %s\n", s);
            usage(stderr);
            return EXIT_USAGE;
        } else if (!pred) {
            pred = s;
        } else {
            fprintf(stderr, "ndeval: more than one prediction file\n");
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!truth || !pred || strcmp(truth, "-") == 0) {
        usage(stderr);
        return EXIT_USAGE;
    }

    corpus c;
    memset(&c, 0, sizeof c);
    read_truth(&c, truth);
    read_pred(&c, pred, truth);
    metrics m;
    score(&c, &m);
    if (json)
        print_json(&m);
    else
        print_table(&m);

    strtab_free(&c.ids);
    strtab_free(&c.tlabels);
    strtab_free(&c.plabels);
    free(c.tcl);
    free(c.pcl);
    free(c.tline);
    free(c.pline);
    free(c.hard);
    if (fflush(stdout) != 0 || ferror(stdout))
        die(EXIT_IO, "write error on stdout");
    return 0;
}
