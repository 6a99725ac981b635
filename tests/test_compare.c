/*
 * test_compare.c - verification's compares (src/sketch/compare.c) on every
 * code path this CPU has, against counts known by construction.
 *
 * Signatures are built bin by bin from the cases the count distinguishes
 * (equal or not, bit 15 set in a, in b, in both, values equal in 15 bits
 * but not in the flag), each bin's case adding to the expected counts as
 * it is drawn, for every k of 1..80 and the sizes around the vectors'
 * widths up to 4096.  Each signature sits at the end of a buffer of its
 * exact size, one value off alignment, so a read past it shows under ASan.
 *
 * Figure sketches are drawn from tiny alphabets of contexts and values
 * (0xffff among them, the context of the sketch's UINT32_MAX padding) so
 * that agreements, conflicts, repeats and padding read inside nb all
 * occur; the expected counts come from the definition, written out below.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/core/params.h"
#include "../src/sketch/sketch.h"

static nd__cpu PATHS[] = {ND__CPU_SCALAR, ND__CPU_AVX2, ND__CPU_AVX512};

static void need_path(nd__cpu cpu)
{
    if (!(nd__compare_paths() >> cpu & 1))
        cr_skip_test("this CPU has no %s for the compares", nd__cpu_name(cpu));
}

static uint64_t next(uint64_t *s)
{
    return nd__splitmix64(s);
}

Test(compare, scalar_always_there)
{
    cr_assert(nd__compare_paths() & 1u << ND__CPU_SCALAR);
}

/* ------------------------------------------------------------ signatures */

/* One bin of each case; eq and both grow by what the case counts. */
static void draw_bin(uint64_t *st, uint16_t *a, uint16_t *b, unsigned *eq, unsigned *both)
{
    const uint16_t v = (uint16_t)(next(st) & 0x7fff), w = (uint16_t)(v ^ 0x1234);
    switch (next(st) % 7) {
    case 0: /* equal, not copied */
        *a = *b = v;
        ++*eq;
        break;
    case 1: /* equal, copied in both */
        *a = *b = (uint16_t)(v | 0x8000);
        ++*both;
        break;
    case 2: /* different, neither copied */
        *a = v;
        *b = w;
        break;
    case 3: /* copied in a only */
        *a = (uint16_t)(v | 0x8000);
        *b = w;
        break;
    case 4: /* copied in b only */
        *a = v;
        *b = (uint16_t)(w | 0x8000);
        break;
    case 5: /* copied in both, different */
        *a = (uint16_t)(v | 0x8000);
        *b = (uint16_t)(w | 0x8000);
        ++*both;
        break;
    default: /* the same 15 bits, the flag in one only */
        *a = (uint16_t)(v | 0x8000);
        *b = v;
        if (next(st) & 1) {
            uint16_t t = *a;
            *a = *b;
            *b = t;
        }
        break;
    }
}

static const unsigned SIZES[] = {95, 96, 97, 111, 112, 113, 127, 128, 129, 143, 144, 160,
                                 191, 192, 255, 256, 257, 1000, 1024, 4095, 4096};

/* Check every path's counts on signatures of k values, `rounds` times. */
static void check_sig16(nd__cpu cpu, unsigned k, unsigned rounds, uint64_t seed)
{
    /* One spare value in front: the signature starts off alignment. */
    uint16_t *ba = malloc(sizeof *ba * (k + 1)), *bb = malloc(sizeof *bb * (k + 1));
    cr_assert(ba && bb);
    uint16_t *a = ba + 1, *b = bb + 1;
    uint64_t st = seed;
    for (unsigned r = 0; r < rounds; r++) {
        unsigned eq = 0, both = 0;
        for (unsigned i = 0; i < k; i++)
            draw_bin(&st, &a[i], &b[i], &eq, &both);
        const nd__sig16_counts c = nd__sig16_count_on(cpu, a, b, k);
        cr_assert(c.eq == eq && c.both == both, "%s k %u round %u: eq %u both %u, want %u %u",
                  nd__cpu_name(cpu), k, r, c.eq, c.both, eq, both);
        /* The counts are the same from b's side only for `both`. */
        cr_assert_eq(nd__sig16_count_on(cpu, b, a, k).both, both);
    }
    free(ba);
    free(bb);
}

ParameterizedTestParameters(compare, sig16_counts)
{
    return cr_make_param_array(nd__cpu, PATHS, sizeof PATHS / sizeof *PATHS);
}

ParameterizedTest(nd__cpu *cpu, compare, sig16_counts)
{
    need_path(*cpu);
    for (unsigned k = 1; k <= 80; k++)
        check_sig16(*cpu, k, 20, k);
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++)
        check_sig16(*cpu, SIZES[s], 5, 1000 + s);
}

ParameterizedTestParameters(compare, sig16_uniform)
{
    return cr_make_param_array(nd__cpu, PATHS, sizeof PATHS / sizeof *PATHS);
}

/* Whole signatures of one case: every bin counts, or none does. */
ParameterizedTest(nd__cpu *cpu, compare, sig16_uniform)
{
    need_path(*cpu);
    enum { K = 200 };
    uint16_t a[K], b[K];
    for (unsigned k = 1; k <= K; k += k < 70 ? 1 : 13) {
        for (unsigned i = 0; i < k; i++)
            a[i] = b[i] = (uint16_t)(i * 97);
        nd__sig16_counts c = nd__sig16_count_on(*cpu, a, b, k);
        cr_assert(c.eq == k && c.both == 0, "all equal, k %u: %u %u", k, c.eq, c.both);
        for (unsigned i = 0; i < k; i++)
            a[i] = b[i] = 0xffff;
        c = nd__sig16_count_on(*cpu, a, b, k);
        cr_assert(c.eq == 0 && c.both == k, "all copied, k %u: %u %u", k, c.eq, c.both);
        for (unsigned i = 0; i < k; i++)
            b[i] = 0x7fff;
        c = nd__sig16_count_on(*cpu, a, b, k);
        cr_assert(c.eq == 0 && c.both == 0, "flag apart, k %u: %u %u", k, c.eq, c.both);
        c = nd__sig16_count_on(*cpu, b, a, k);
        cr_assert(c.eq == 0 && c.both == 0, "flag apart, k %u: %u %u", k, c.eq, c.both);
    }
}

Test(compare, sig16_jaccard)
{
    uint16_t a[128], b[128];
    for (unsigned i = 0; i < 128; i++) {
        a[i] = (uint16_t)i;
        b[i] = i < 64 ? (uint16_t)i : (uint16_t)(i + 1000);
    }
    cr_assert_eq(nd__sig16_jaccard(a, b, 128), 0.5);
    /* 32 bins copied in both leave 96, of which 64 equal. */
    for (unsigned i = 96; i < 128; i++)
        a[i] = b[i] = (uint16_t)(0x8000 | i);
    cr_assert_eq(nd__sig16_jaccard(a, b, 128), 64.0 / 96.0);
    for (unsigned i = 0; i < 128; i++)
        a[i] = b[i] = 0xffff;
    cr_assert_eq(nd__sig16_jaccard(a, b, 128), 0.0, "every bin copied in both");
}

/* --------------------------------------------------------------- figures */

/* The definition: a's figures (first na) that b (first nb) holds, and a's
   others whose context b holds. */
static nd__figs_counts figs_reference(const uint32_t *a, uint32_t na, const uint32_t *b,
                                      uint32_t nb)
{
    nd__figs_counts c = {0, 0};
    for (uint32_t i = 0; i < na; i++) {
        int held = 0, context = 0;
        for (uint32_t j = 0; j < nb; j++) {
            held = held || a[i] == b[j];
            context = context || a[i] >> 16 == b[j] >> 16;
        }
        if (held)
            c.agree++;
        else if (context)
            c.conflict++;
    }
    return c;
}

static uint32_t draw_fig(uint64_t *st)
{
    static const uint32_t part[] = {0, 1, 2, 0xffff};
    return part[next(st) % 4] << 16 | part[next(st) % 4];
}

ParameterizedTestParameters(compare, figs_counts)
{
    return cr_make_param_array(nd__cpu, PATHS, sizeof PATHS / sizeof *PATHS);
}

ParameterizedTest(nd__cpu *cpu, compare, figs_counts)
{
    need_path(*cpu);
    uint64_t st = 77;
    unsigned agreed = 0, conflicted = 0, same = 0;
    for (unsigned round = 0; round < 20000; round++) {
        uint32_t a[ND__FIGS], b[ND__FIGS];
        uint32_t na = (uint32_t)(next(&st) % (ND__FIGS + 1));
        uint32_t nb = (uint32_t)(next(&st) % (ND__FIGS + 1));
        for (unsigned i = 0; i < ND__FIGS; i++) {
            a[i] = draw_fig(&st);
            b[i] = draw_fig(&st);
        }
        switch (round % 4) {
        case 0: /* b a copy of a (the common case), beyond na too or not */
            nb = na;
            memcpy(b, a, sizeof b);
            if (round % 8 == 4 && na < ND__FIGS)
                b[na] ^= 1;
            same++;
            break;
        case 1: /* the sketches' padding, read inside the counts */
            for (unsigned i = na / 2; i < ND__FIGS; i++)
                a[i] = UINT32_MAX;
            for (unsigned i = nb / 2; i < ND__FIGS; i++)
                b[i] = UINT32_MAX;
            break;
        case 2: /* one figure changed, the rest the same */
            nb = na;
            memcpy(b, a, sizeof b);
            if (na)
                b[next(&st) % na] ^= 1u << (next(&st) % 32);
            break;
        default:
            break;
        }
        const nd__figs_counts want = figs_reference(a, na, b, nb);
        const nd__figs_counts got = nd__figs_count_on(*cpu, a, na, b, nb);
        cr_assert(got.agree == want.agree && got.conflict == want.conflict,
                  "%s round %u (na %u nb %u): agree %u conflict %u, want %u %u",
                  nd__cpu_name(*cpu), round, na, nb, got.agree, got.conflict, want.agree,
                  want.conflict);
        agreed += want.agree > 0;
        conflicted += want.conflict > 0;
    }
    /* The draws reach every outcome often. */
    cr_assert(agreed > 10000 && conflicted > 3000 && same == 5000, "%u %u %u", agreed,
              conflicted, same);
}

Test(compare, figs_known)
{
    /* a: (context 1, 5), (2, 6), (3, 7), (4, 8); b: (1, 5), (2, 9), (3, 10),
       (7, 7), then padding. */
    uint32_t a[ND__FIGS], b[ND__FIGS];
    for (unsigned i = 0; i < ND__FIGS; i++)
        a[i] = b[i] = UINT32_MAX;
    a[0] = 1u << 16 | 5, a[1] = 2u << 16 | 6, a[2] = 3u << 16 | 7, a[3] = 4u << 16 | 8;
    b[0] = 1u << 16 | 5, b[1] = 2u << 16 | 9, b[2] = 3u << 16 | 10, b[3] = 7u << 16 | 7;
    for (size_t p = 0; p < sizeof PATHS / sizeof *PATHS; p++) {
        if (!(nd__compare_paths() >> PATHS[p] & 1))
            continue;
        nd__figs_counts c = nd__figs_count_on(PATHS[p], a, 4, b, 4);
        cr_assert(c.agree == 1 && c.conflict == 2, "%s: %u %u", nd__cpu_name(PATHS[p]),
                  c.agree, c.conflict);
        c = nd__figs_count_on(PATHS[p], a, 4, a, 4);
        cr_assert(c.agree == 4 && c.conflict == 0);
        /* b's fifth value is padding: nothing of a has its context. */
        c = nd__figs_count_on(PATHS[p], a, 4, b, 5);
        cr_assert(c.agree == 1 && c.conflict == 2);
        c = nd__figs_count_on(PATHS[p], a, 0, b, 4);
        cr_assert(c.agree == 0 && c.conflict == 0);
        c = nd__figs_count_on(PATHS[p], a, 4, b, 0);
        cr_assert(c.agree == 0 && c.conflict == 0);
    }
    /* Two conflicts and one agreement out of three: apart below 0.5. */
    cr_assert(nd__figs_differ(a, 4, b, 4, 0.8));
    cr_assert_not(nd__figs_differ(a, 4, b, 4, 0.3));
}
