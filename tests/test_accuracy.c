/*
 * test_accuracy.c - the features that make wire-reprint clustering right,
 * each pinned on a small hand-made case: containment for truncated
 * reprints, boilerplate suppression, the figure check, the chaining guard.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/dfcount.h"
#include "../src/job/jobint.h"
#include "../src/neardup.h"
#include "../src/sketch/sketch.h"
#include "../src/text/text.h"

/* Deterministic filler: `words` pseudo-random words from a seed. */
static char *story(uint64_t seed, int words)
{
    static const char *syl[] = {"ka", "lo", "mi", "ren", "tor", "vas", "del",
                                "un", "pre", "sto", "bal", "gri", "nef", "os"};
    char *s = malloc((size_t)words * 16 + 1), *p = s;
    for (int w = 0; w < words; w++) {
        int n = 2 + (int)(nd__splitmix64(&seed) % 3);
        if (w)
            *p++ = ' ';
        for (int i = 0; i < n; i++) {
            const char *x = syl[nd__splitmix64(&seed) % 14];
            size_t l = strlen(x);
            memcpy(p, x, l);
            p += l;
        }
    }
    *p = 0;
    return s;
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 2);
    memcpy(s, a, la);
    s[la] = ' ';
    memcpy(s + la + 1, b, lb + 1);
    return s;
}

static nd_batch *cluster(nd_params *p, size_t n, char **texts, int count)
{
    size_t lens[64];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(texts[i]);
    nd_batch *b;
    cr_assert_eq(nd_batch_create(p, &b), ND_OK);
    if (count)
        cr_assert_eq(nd_batch_count(b, n, (const char *const *)texts, lens, NULL), ND_OK);
    cr_assert_eq(nd_batch_add_many(b, n, (const char *const *)texts, lens, NULL, NULL), ND_OK);
    cr_assert_eq(nd_batch_run(b), ND_OK);
    return b;
}

Test(accuracy, truncated_reprint_found_by_containment_not_by_jaccard)
{
    char *full = story(1, 400);
    /* the first third of the story: Jaccard about 0.33, containment 1 */
    char *part = strdup(full);
    size_t cut = strlen(full) / 3;
    while (part[cut] != ' ')
        cut++;
    part[cut] = 0;
    char *texts[] = {full, part, story(2, 400)};
    nd_params p;
    nd_params_init(&p);
    p.containment = 0;
    p.boilerplate = 0;
    p.exact = 1;
    p.bands = 64; /* every pair above ~0.2 is a candidate: this is about */
    p.rows = 2;   /* verification, not about the LSH layout */
    nd_batch *b = cluster(&p, 3, texts, 0);
    cr_assert_neq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 1), "Jaccard alone misses it");
    nd_batch_free(b);
    p.containment = 0.9;
    b = cluster(&p, 3, texts, 0);
    cr_assert_eq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 1), "containment finds it");
    cr_assert_neq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 2));
    size_t ne;
    const nd_edge *e = nd_batch_edges(b, &ne);
    cr_assert_eq(ne, 1);
    cr_assert_float_eq(e[0].containment, 1.0, 1e-6);
    cr_assert_lt(e[0].jaccard, 0.45);
    nd_batch_free(b);
    for (int i = 0; i < 3; i++)
        free(texts[i]);
}

Test(accuracy, footer_no_longer_links_unrelated_stories)
{
    /* 40 short unrelated stories under one long page footer, and one
       story reprinted: the footer makes every pair look alike. */
    enum { N = 41 };
    char *footer = story(99, 60), *texts[N];
    for (int i = 0; i < N - 1; i++) {
        char *s = story(1000 + (uint64_t)i, 30);
        texts[i] = join(s, footer);
        free(s);
    }
    char *again = story(1000, 30);
    texts[N - 1] = join(again, "reprinted with thanks");
    free(again);
    nd_params p;
    nd_params_init(&p);
    p.threshold = 0.5;
    p.boilerplate = 0;
    nd_batch *b = cluster(&p, N, texts, 0);
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    cr_assert_lt(st.clusters, 5, "without suppression the footer merges them");
    nd_batch_free(b);

    p.boilerplate = 0.2;
    p.boilerplate_min = 10;
    b = cluster(&p, N, texts, 1);
    nd_batch_stats_get(b, &st);
    cr_assert_eq(st.clusters, N - 1, "every story alone but the reprint");
    cr_assert_eq(nd_batch_cluster(b, 0), nd_batch_cluster(b, N - 1));
    cr_assert_eq(st.boilerplate_cutoff, 10);
    /* the 40 with the footer; the reprint may lose a common phrase */
    cr_assert_geq(st.text.suppressed_docs, N - 1);
    cr_assert_geq(st.text.suppressed, (N - 1) * 50);
    nd_batch_free(b);
    for (int i = 0; i < N; i++)
        free(texts[i]);
    free(footer);
}

Test(accuracy, count_needs_boilerplate_and_comes_first)
{
    nd_params p;
    nd_params_init(&p);
    p.boilerplate = 0;
    nd_batch *b;
    nd_batch_create(&p, &b);
    const char *t = "some words here";
    size_t l = 15;
    cr_assert_eq(nd_batch_count(b, 1, &t, &l, NULL), ND_ERR_STATE);
    nd_batch_free(b);
    p.boilerplate = 0.5;
    nd_batch_create(&p, &b);
    cr_assert_eq(nd_batch_add(b, t, l, NULL), ND_OK);
    cr_assert_eq(nd_batch_count(b, 1, &t, &l, NULL), ND_ERR_STATE);
    nd_batch_free(b);
}

Test(accuracy, figure_check_tells_template_reports_apart)
{
#define TPL                                                                  \
    "%s reported first-quarter net income of $%d.%d million, or %d cents a "  \
    "share, compared with $%d.%d million, or %d cents a share, a year "       \
    "earlier. Revenue rose to $%d million from $%d million. The company "     \
    "said it expects second-quarter results to be in line with analysts' "    \
    "estimates and will pay a dividend of %d cents a share on June %d."
    char *texts[3];
    for (int i = 0; i < 3; i++) {
        char buf[1024];
        int v = i == 2 ? 0 : i; /* text 2 repeats text 0's figures */
        snprintf(buf, sizeof buf, TPL, "Acme Corp",
                 10 + v * 7, 3 + v, 41 + v * 5, 9 + v * 3, 8 - v, 33 + v,
                 120 + v * 13, 101 + v * 9, 11 + v, 14 + v);
        texts[i] = strdup(buf);
    }
    nd_params p;
    nd_params_init(&p);
    p.threshold = 0.4;
    p.figures = 0;
    p.boilerplate = 0;
    nd_batch *b = cluster(&p, 3, texts, 0);
    cr_assert_eq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 1),
                 "words alone merge the two reports");
    nd_batch_free(b);
    p.figures = 0.7;
    b = cluster(&p, 3, texts, 0);
    cr_assert_neq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 1), "figures differ");
    cr_assert_eq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 2), "same figures");
    nd_batch_free(b);
    for (int i = 0; i < 3; i++)
        free(texts[i]);
}

/* Defined below the figure tests that use it. */
static size_t values_of(const nd__textbuf *t, uint32_t *out);

Test(accuracy, figures_are_read_whole_from_the_raw_text)
{
    nd__textbuf t = {0};
    const char *s = "Shares rose $0.21 to 1,250.5 at 9:30 a.m.; 3 of 4 said so. 3";
    cr_assert_eq(nd__figures(&t, s, strlen(s), 1), ND_OK);
    cr_assert_eq(t.nfigs, 5, "0.21 1250.5 3 4 and 3 again in another context, no time of day");
    nd__textbuf u = {0};
    const char *r = "0.21 1250.5 3 4 so 3";
    nd__figures(&u, r, strlen(r), 1);
    cr_assert_eq(u.nfigs, 5);
    uint32_t vt[5], vu[5];
    values_of(&t, vt);
    values_of(&u, vu);
    cr_assert_eq(memcmp(vt, vu, sizeof vt), 0, "the same values, in other contexts");
    nd__textbuf_free(&t);
    nd__textbuf_free(&u);
}

/* A lone digit at every offset of a text of letters, spaces and UTF-8 bytes
   (the scan skips eight bytes at a time) is found, and only it. */
Test(accuracy, figures_found_at_every_offset)
{
    nd__textbuf t = {0}, one = {0};
    cr_assert_eq(nd__figures(&one, "7", 1, 1), ND_OK);
    cr_assert_eq(one.nfigs, 1);
    const char fill[] = "ab \xc3\xa9/:x;Z\x80\xff~@ ";
    char s[40];
    for (size_t len = 1; len < sizeof s; len++)
        for (size_t at = 0; at < len; at++) {
            for (size_t i = 0; i < len; i++)
                s[i] = fill[(i * 7 + len) % (sizeof fill - 1)];
            s[at] = '7';
            if (at > 0)
                s[at - 1] = ' ';
            if (at + 1 < len)
                s[at + 1] = ' ';
            cr_assert_eq(nd__figures(&t, s, len, 1), ND_OK);
            cr_assert_eq(t.nfigs, 1, "length %zu, digit at %zu", len, at);
            cr_assert_eq((t.figs[0] >> 32) & 0xFFFF, (one.figs[0] >> 32) & 0xFFFF);
        }
    nd__textbuf_free(&t);
    nd__textbuf_free(&one);
}

/* A text of many figures is read up to one more than a check reads: that
   is enough to know the check abstains; what is read is sorted and
   distinct, and a repeated figure counts once. */
Test(accuracy, many_figures_read_up_to_one_past_the_check)
{
    nd__textbuf t = {0};
    char s[16384];
    size_t n = 0;
    /* 300 figures, each between its own word and "x" ("ab 0 x ac 37 x
       ..."), each twice in a row */
    for (int i = 0; i < 300; i++) {
        int f = (i * 37) % 300;
        for (int rep = 0; rep < 2; rep++)
            n += (size_t)snprintf(s + n, sizeof s - n, "%c%c %d x ", 'a' + f / 26,
                                  'a' + f % 26, f);
    }
    cr_assert_eq(nd__figures(&t, s, n, 1), ND_OK);
    cr_assert_eq(t.nfigs, ND__FIGS_KEPT + 1);
    for (size_t i = 1; i < t.nfigs; i++)
        cr_assert_lt(t.figs[i - 1], t.figs[i]);
    /* the same text cut after its 16th figure: all 16, the check reads it */
    n = 0;
    for (int i = 0; i < ND__FIGS_KEPT; i++) {
        int f = (i * 37) % 300;
        for (int rep = 0; rep < 2; rep++)
            n += (size_t)snprintf(s + n, sizeof s - n, "%c%c %d x ", 'a' + f / 26,
                                  'a' + f % 26, f);
    }
    cr_assert_eq(nd__figures(&t, s, n, 1), ND_OK);
    cr_assert_eq(t.nfigs, ND__FIGS_KEPT);
    nd__textbuf_free(&t);
}

/* A figure of the sketch: 16 bits of context above 16 bits of value. */
static uint64_t fig(uint32_t ctx, uint32_t val)
{
    return (uint64_t)((ctx & 0xFFFFu) << 16 | (val & 0xFFFFu)) << 32;
}

/* The sketch of n figures (sorted first, as nd__figures leaves them). */
static uint32_t sketch_of(uint64_t *f, size_t n, uint32_t *out)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (f[j] < f[i]) { uint64_t t = f[i]; f[i] = f[j]; f[j] = t; }
    uint32_t count;
    nd__figs_sketch(f, n, out, &count);
    return count;
}

Test(accuracy, figure_check_compares_figures_in_shared_contexts)
{
    uint32_t sa[ND__FIGS], sb[ND__FIGS], sc[ND__FIGS];
    /* Six figures in six contexts; the other report: three agree, three
       conflict (same context, another value). */
    uint64_t x[6], y[6];
    for (uint32_t i = 0; i < 6; i++) {
        x[i] = fig(100 + i, 7 * i + 1);
        y[i] = fig(100 + i, i < 3 ? 7 * i + 1 : 900 + i);
    }
    uint32_t na = sketch_of(x, 6, sa), nb = sketch_of(y, 6, sb);
    cr_assert(nd__figs_differ(sa, na, sb, nb, 0.8));
    cr_assert(nd__figs_differ(sa, na, sb, nb, 0.51));
    cr_assert_not(nd__figs_differ(sa, na, sb, nb, 0.5), "3 of 6 agree: not below 0.5");
    cr_assert_not(nd__figs_differ(sa, na, sa, na, 0.8));
    cr_assert_not(nd__figs_differ(sa, 0, sb, nb, 0.8), "no figures: no evidence");
    cr_assert_not(nd__figs_differ(sa, na, sb, nb, 0.0), "check off");
    /* Figures whose context the other text lacks are no evidence: the
       same six values in other contexts (a passage the other cut). */
    uint64_t z[6];
    for (uint32_t i = 0; i < 6; i++)
        z[i] = fig(200 + i, 900 + i);
    uint32_t nz = sketch_of(z, 6, sc);
    cr_assert_not(nd__figs_differ(sa, na, sc, nz, 0.8));
    /* One slip among agreeing figures is no veto; one conflict with
       nothing agreeing is (a short report stating one amount). */
    uint64_t w[6];
    for (uint32_t i = 0; i < 6; i++)
        w[i] = fig(100 + i, i == 2 ? 555 : 7 * i + 1);
    nz = sketch_of(w, 6, sc);
    cr_assert_not(nd__figs_differ(sa, na, sc, nz, 0.8), "5 of 6 agree, one slip");
    uint64_t one[1] = {fig(100, 1)}, other[2] = {fig(100, 2), fig(300, 5)};
    uint32_t s1[ND__FIGS], s2[ND__FIGS];
    uint32_t n1 = sketch_of(one, 1, s1), n2 = sketch_of(other, 2, s2);
    cr_assert(nd__figs_differ(s1, n1, s2, n2, 0.8), "150 mln against 30 mln");
    /* More figures than the sketch holds: no answer, no veto. */
    uint64_t many[40];
    for (uint32_t i = 0; i < 40; i++)
        many[i] = fig(100 + i, 3000 + i);
    uint32_t nm = sketch_of(many, 40, sc);
    cr_assert_eq(nm, 40);
    cr_assert_not(nd__figs_differ(sa, na, sc, nm, 0.8));
}

/* The values (low 16 bits of each figure's top half), sorted. */
static size_t values_of(const nd__textbuf *t, uint32_t *out)
{
    for (size_t i = 0; i < t->nfigs; i++)
        out[i] = (uint32_t)(t->figs[i] >> 32) & 0xFFFFu;
    for (size_t i = 0; i < t->nfigs; i++)
        for (size_t j = i + 1; j < t->nfigs; j++)
            if (out[j] < out[i]) { uint32_t x = out[i]; out[i] = out[j]; out[j] = x; }
    return t->nfigs;
}

Test(accuracy, document_frequencies_never_undercount)
{
    nd__df d;
    cr_assert_eq(nd__df_init(&d, 16), ND_OK);
    uint64_t st = 8, h[500];
    for (int i = 0; i < 500; i++)
        h[i] = nd__splitmix64(&st);
    for (int doc = 0; doc < 30; doc++)
        nd__df_add(&d, h, (size_t)(doc < 10 ? 500 : 50)); /* first 50 in all */
    int exact = 0;
    for (int i = 0; i < 500; i++) {
        uint32_t want = i < 50 ? 30 : 10;
        cr_assert_geq(nd__df_get(&d, h[i]), want);
        exact += nd__df_get(&d, h[i]) == want;
    }
    /* 500 shingles in 2^16 counters: about 4 share a counter */
    cr_assert_geq(exact, 490, "%d exact counts", exact);
    nd__df_halve(&d);
    cr_assert_geq(nd__df_get(&d, h[0]), 15);
    nd__df_free(&d);
}

/* Counting split over counters of their own, then merged, gives the
   counts of one counter; the merged-from counters are left empty. */
Test(accuracy, document_frequencies_merge_to_the_same_counts)
{
    nd__df one, a, b;
    cr_assert_eq(nd__df_init(&one, 12), ND_OK);
    cr_assert_eq(nd__df_init(&a, 12), ND_OK);
    cr_assert_eq(nd__df_init(&b, 12), ND_OK);
    uint64_t st = 3, h[300];
    for (int i = 0; i < 300; i++)
        h[i] = nd__splitmix64(&st);
    for (int doc = 0; doc < 40; doc++) {
        size_t n = (size_t)(50 + doc * 6);
        nd__df_add(&one, h, n);
        nd__df_add_own(doc % 3 ? &a : &b, h, n);
    }
    nd__df_merge(&a, &b);
    for (size_t i = 0; i < (size_t)1 << 12; i++) {
        cr_assert_eq(atomic_load(&a.cnt[i]), atomic_load(&one.cnt[i]), "counter %zu", i);
        cr_assert_eq(atomic_load(&b.cnt[i]), 0u);
    }
    cr_assert_eq(nd__df_get(&a, h[0]), 40);
    nd__df_free(&one);
    nd__df_free(&a);
    nd__df_free(&b);
}

/* The count's sample by ordinal: all of the first 16384 texts, then one
   in 2 up to 32768, one in 4 up to 65536, and so on: 8192 texts at each rate. */
Test(accuracy, count_sample_by_ordinal)
{
    nd__df_sched s = {0};
    uint64_t in = 0;
    for (uint64_t o = 0; o < 262144; o++) {
        int want = o < 16384 ? 1 : o < 32768 ? o % 2 == 0 : o < 65536 ? o % 4 == 0
                 : o < 131072 ? o % 8 == 0 : o % 16 == 0;
        int got = nd__df_sched_step(&s, o);
        cr_assert_eq(got, want, "ordinal %llu", (unsigned long long)o);
        in += (uint64_t)got;
    }
    cr_assert_eq(in, 16384 + 4 * 8192);
    cr_assert_eq(nd__df_sched_step(&s, 262144), 1);
    cr_assert_eq(nd__df_sched_step(&s, 262160), 0); /* one in 32 now */
}

/* A copy of s with every 40th word replaced (a light reprint edit). */
static char *reprint(const char *s, uint64_t seed)
{
    char *r = malloc(strlen(s) + 64), *o = r;
    int w = 0;
    for (const char *p = s; *p;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (++w % 40 == 0) {
            o += sprintf(o, "zz%llu", (unsigned long long)(seed % 1000));
            seed = seed * 31 + 7;
        } else {
            memcpy(o, p, n);
            o += n;
        }
        p += n;
        if (*p == ' ')
            *o++ = *p++;
    }
    *o = 0;
    return r;
}

Test(accuracy, chaining_guard_splits_a_chain)
{
    /* Two stories, each with its original and three reprints, and one
       digest B = half of story 1 + half of story 2 that matches both
       originals: components chain the two families through B; the guard
       joins clusters only when their centers (the originals, linked to
       every reprint) match, and the originals do not. */
    char *x = story(11, 150), *y = story(12, 150), *z = story(13, 150),
         *w = story(14, 150);
    char *a = join(x, y), *c = join(z, w);
    char *texts[] = {a, reprint(a, 1), reprint(a, 2), reprint(a, 3), join(y, z),
                     c, reprint(c, 4), reprint(c, 5), reprint(c, 6)};
    nd_params p;
    nd_params_init(&p);
    p.threshold = 0.3;
    p.containment = 0;
    p.figures = 0;
    p.boilerplate = 0;
    p.exact = 1;
    p.bands = 64;
    p.rows = 2;
    nd_batch *b = cluster(&p, 9, texts, 0);
    cr_assert_eq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 5), "components chain the stories");
    nd_batch_free(b);
    p.cluster = ND_CLUSTER_GUARDED;
    b = cluster(&p, 9, texts, 0);
    for (int i = 1; i < 4; i++)
        cr_assert_eq(nd_batch_cluster(b, 0), nd_batch_cluster(b, (size_t)i));
    for (int i = 6; i < 9; i++)
        cr_assert_eq(nd_batch_cluster(b, 5), nd_batch_cluster(b, (size_t)i));
    cr_assert_neq(nd_batch_cluster(b, 0), nd_batch_cluster(b, 5), "the guard keeps them apart");
    nd_batch_stats st;
    nd_batch_stats_get(b, &st);
    cr_assert_geq(st.guard_rejected, 1);
    nd_batch_free(b);
    for (int i = 0; i < 9; i++)
        free(texts[i]);
    free(x);
    free(y);
    free(z);
    free(w);
}

Test(accuracy, sampled_first_pass_still_refuses_bad_utf8)
{
    /* After 2^16 counted texts the first pass samples every second one;
       an unsampled text with invalid UTF-8 must still fail under strict. */
    nd_params p;
    nd_params_init(&p);
    p.boilerplate = 0.5;
    p.norm = ND_NORM_STRICT_UTF8;
    nd_batch *b;
    cr_assert_eq(nd_batch_create(&p, &b), ND_OK);
    enum { N = 1 << 16 };
    const char **t = malloc(sizeof *t * N);
    size_t *l = malloc(sizeof *l * N);
    for (size_t i = 0; i < N; i++) {
        t[i] = "plain words";
        l[i] = 11;
    }
    cr_assert_eq(nd_batch_count(b, N, t, l, NULL), ND_OK);
    const char *more[] = {"fine text", "bad \xff text", "fine again"};
    size_t ml[] = {9, 10, 10}, bad = 99;
    cr_assert_eq(nd_batch_count(b, 3, more, ml, &bad), ND_ERR_UTF8);
    cr_assert_eq(bad, 1, "the unsampled second text");
    free(t);
    free(l);
    nd_batch_free(b);
}
