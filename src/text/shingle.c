/*
 * shingle.c - normalized text to its set of 64-bit shingle hashes (text.h).
 *
 * Word n-grams: each token is hashed once and the n-grams roll over the
 * token hashes (shingle_words).  Character n-grams: a window
 * of n code points slides over the UTF-8 text; its bytes are hashed.  Glyph
 * n-grams (below) are read straight from the folded bytes.
 *
 * The set is made by dropping repeats through a hash table, or, sorted, by
 * sorting (nd__sort_u64_spread: the hashes are uniformly spread) and
 * dropping adjacent repeats.
 */
#include "text.h"
#include "../core/cpu.h"
#include "../core/dfcount.h"
#include "../core/mix.h"
#include "../core/sort.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

int nd__grow_u64(uint64_t **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return ND_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    uint64_t *q = malloc(c * sizeof *q);
    if (!q)
        return ND_ERR_NOMEM;
    free(*p);
    *p = q;
    *cap = c;
    return ND_OK;
}

static uint64_t to_le64(uint64_t x)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
#endif
    return x;
}

/* Eight bytes, the first in the low byte whatever the machine. */
static uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return to_le64(w);
}

/*
 * The high bit of each byte of w that ends a token: ' ' or the final NUL,
 * the only bytes of a normalized text not above ' ' (token bytes are
 * letters, digits or >= 0x80).  Masking the high bits first keeps the add
 * from carrying into the next byte.
 */
static uint64_t token_end(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    return ~((w & ones * 0x7F) + ones * 0x5F) & ~w & ones * 0x80;
}

/*
 * Word n-grams.  A token of at most 8 bytes (most of them) is one masked
 * 8-byte load, its bytes read as a little-endian word w (zero above them,
 * and token bytes are never 0, so w is the token), hashed by a bijection:
 * nd__fmix64(w ^ seed), the MurmurHash3 finalizer.  XXH3 would branch on the
 * length three ways, and those branches mispredict on text.  A longer token
 * is XXH3 of its bytes (seeded).  The n-gram of token hashes t_1 .. t_n is
 * fmix64 of the cyclic polynomial (Cohen 1997, "BuzHash")
 *   rotl(t_1, 21 (n-1)) ^ ... ^ rotl(t_(n-1), 21) ^ t_n   (rotations mod 64),
 * which slides by one token with two rotations and two xors whatever n is.
 * 21 is prime to 64, so the n <= 64 positions rotate by distinct amounts
 * and no reordering of random tokens collides but by chance; the final mix
 * hides the linearity of the xors from MinHash and from the counters that
 * read the low bits.  All of it is integer arithmetic on little-endian
 * loads: the same hashes on every machine.
 */
#define WORD_ROT 21u

static uint64_t rotl64(uint64_t x, unsigned r)
{
    return x << (r & 63) | x >> (-r & 63);
}

/*
 * The end marks of the eight bytes at s, one bit a byte, byte i in bit i.
 * The marks sit at bits 8i + 7; the multiply moves each to bit 56 + i and
 * its other partial products land on distinct bits below 56 or above 63,
 * so nothing carries.
 */
static uint64_t end_bits(const unsigned char *s)
{
    return ((token_end(load64(s)) >> 7) * UINT64_C(0x0102040810204080)) >> 56;
}

/*
 * The offsets of the token ends of s[0..len] (the spaces and the final
 * NUL) into pos; returns their number.  64 bytes at a time become one mask
 * of their ends, and the mask is read off with no dependence on where the
 * tokens fall.  The last block reads only the words up to the NUL's (the
 * 8 bytes of slack after the text cover it).
 */
static size_t token_ends(const unsigned char *s, size_t len, uint64_t *pos)
{
    size_t c = 0, base = 0;
    for (;; base += 64) {
        uint64_t m = 0;
        if (len - base >= 64) {
            for (unsigned i = 0; i < 8; i++)
                m |= end_bits(s + base + 8 * i) << (8 * i);
        } else {
            for (unsigned i = 0; 8 * i <= len - base; i++)
                m |= end_bits(s + base + 8 * i) << (8 * i);
            m &= ~UINT64_C(0) >> (63 - (len - base)); /* nothing after the NUL */
        }
        while (m) {
            pos[c++] = base + (size_t)__builtin_ctzll(m);
            m &= m - 1;
        }
        if (len - base < 64)
            return c;
    }
}

/* The hash of the token s[0..l), l >= 1. */
static uint64_t token_hash(const unsigned char *s, size_t l, uint64_t seed)
{
    return l <= 8 ? nd__fmix64((load64(s) & (~UINT64_C(0) >> (64 - 8 * l))) ^ seed)
                  : XXH3_64bits_withSeed(s, l, seed);
}

static int shingle_words(nd__textbuf *t, unsigned n, uint64_t seed,
                         size_t *count)
{
    const unsigned char *s = (const unsigned char *)t->norm;
    int rc = nd__grow_u64(&t->tmp, &t->tmp_cap, t->norm_len / 2 + 1);
    if (rc)
        return rc;
    uint64_t *th = t->tmp; /* token ends, then their hashes in place */
    const size_t ntok = token_ends(s, t->norm_len, th);
    const size_t nsh = ntok < n ? 1 : ntok - n + 1;
    rc = nd__grow_u64(&t->hashes, &t->hashes_cap, nsh);
    if (rc)
        return rc;
    const size_t len = ntok < n ? ntok : n;
    uint64_t x = 0;
    size_t a = 0; /* where token i starts; tokens are not empty */
    for (size_t i = 0; i < len; i++) {
        const size_t e = (size_t)th[i];
        th[i] = token_hash(s + a, e - a, seed);
        x = rotl64(x, WORD_ROT) ^ th[i];
        a = e + 1;
    }
    uint64_t *out = t->hashes;
    out[0] = nd__fmix64(x);
    /* Token i enters with no rotation and token i - n leaves with n. */
    const unsigned gone = (unsigned)(len * WORD_ROT);
    for (size_t i = len; i < ntok; i++) {
        const size_t e = (size_t)th[i];
        th[i] = token_hash(s + a, e - a, seed);
        x = rotl64(x, WORD_ROT) ^ th[i] ^ rotl64(th[i - len], gone);
        out[i - len + 1] = nd__fmix64(x);
        a = e + 1;
    }
    *count = nsh;
    return ND_OK;
}

/* Bytes in the UTF-8 sequence led by byte b (t->norm is valid UTF-8). */
static size_t cp_len(unsigned char b)
{
    return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

static int shingle_chars(nd__textbuf *t, unsigned n, uint64_t seed,
                         size_t *count)
{
    const unsigned char *s = (const unsigned char *)t->norm;
    const unsigned char *end = s + t->norm_len;
    int rc = nd__grow_u64(&t->hashes, &t->hashes_cap, t->norm_len);
    if (rc)
        return rc;

    const unsigned char *a = s, *b = s;
    for (unsigned k = 0; k < n && b < end; k++)
        b += cp_len(*b);
    size_t nsh = 0;
    for (;;) {
        t->hashes[nsh++] = XXH3_64bits_withSeed(a, (size_t)(b - a), seed);
        if (b >= end)
            break;
        a += cp_len(*a);
        b += cp_len(*b);
    }
    *count = nsh;
    return ND_OK;
}

/*
 * Glyph n-grams: the normalized text read as a stream of glyphs, with the
 * separators dropped and look-alike letters folded to one glyph, so the
 * errors of OCR (rn/m, l/1/i, O/0, e/c, h/b, lost and stray spaces, stray
 * punctuation) leave the stream unchanged.  Glyphs are bytes, so a window
 * of n <= 8 of them is one unaligned 8-byte load, masked: no rolling hash,
 * no loop-carried state.  It is kept when a multiply-shift of it falls in
 * the lower half (a choice made by the content alone, so two copies keep
 * the same windows where they agree), and a kept window is hashed by the
 * MurmurHash3 finalizer (a bijection).  Measured (bench/README.md, "Glyph 8-grams"):
 * 8-glyph windows beat 9 to 12 on OCR, truncation and wire reprints, and
 * keeping a half of them is as accurate as keeping all, a quarter is not.
 */
#define GLYPH_RATE_BITS 1
#define GLYPH_KEEP (UINT64_C(1) << (64 - GLYPH_RATE_BITS))
#define GLYPH_PICK UINT64_C(0x9e3779b97f4a7c15) /* 2^64 / golden ratio */
#define GLYPH_BLOCK 4096

/*
 * The fold, one entry a glyph-bearing byte: (byte, first glyph, second
 * glyph or 0).  Glyph codes are the folded bytes themselves.
 */
#define GLYPH_FOLD(X)                                                          \
    X('a', 'a', 0) X('b', 'b', 0) X('c', 'c', 0) X('d', 'c', 'l')              \
    X('e', 'c', 0) X('f', 'f', 0) X('g', 'g', 0) X('h', 'b', 0)                \
    X('i', 'l', 0) X('j', 'j', 0) X('k', 'k', 0) X('l', 'l', 0)                \
    X('m', 'r', 'n') X('n', 'n', 0) X('o', 'o', 0) X('p', 'p', 0)              \
    X('q', 'q', 0) X('r', 'r', 0) X('s', 's', 0) X('t', 't', 0)                \
    X('u', 'u', 0) X('v', 'v', 0) X('w', 'v', 'v') X('x', 'x', 0)              \
    X('y', 'y', 0) X('z', 'z', 0)
#define GLYPH_DIGITS(X)                                                        \
    X('0', 'o', 0) X('1', 'l', 0) X('2', '2', 0) X('3', '3', 0)                \
    X('4', '4', 0) X('5', 's', 0) X('6', '6', 0) X('7', '7', 0)                \
    X('8', '8', 0) X('9', '9', 0)

/*
 * What each normalized byte becomes: its glyphs in the low 16 bits (the
 * first in the low byte; 0, 1 or 2 of them) and their number above.
 */
#define GLYPH_COUNT_SHIFT 16
#define GLYPH_ENTRY(a, b) \
    ((uint32_t)((a) | (b) << 8) | (uint32_t)(1 + ((b) != 0)) << GLYPH_COUNT_SHIFT)
static const uint32_t glyph_map[256] = {
#define LOWER(c, a, b) [c] = GLYPH_ENTRY(a, b),
    GLYPH_FOLD(LOWER) GLYPH_DIGITS(LOWER)
#define HI16(x) GLYPH_ENTRY(x, 0), GLYPH_ENTRY(x + 1, 0), GLYPH_ENTRY(x + 2, 0),  \
    GLYPH_ENTRY(x + 3, 0), GLYPH_ENTRY(x + 4, 0), GLYPH_ENTRY(x + 5, 0),          \
    GLYPH_ENTRY(x + 6, 0), GLYPH_ENTRY(x + 7, 0), GLYPH_ENTRY(x + 8, 0),          \
    GLYPH_ENTRY(x + 9, 0), GLYPH_ENTRY(x + 10, 0), GLYPH_ENTRY(x + 11, 0),        \
    GLYPH_ENTRY(x + 12, 0), GLYPH_ENTRY(x + 13, 0), GLYPH_ENTRY(x + 14, 0),       \
    GLYPH_ENTRY(x + 15, 0)
    [0x80] = HI16(0x80), HI16(0x90), HI16(0xA0), HI16(0xB0), HI16(0xC0),
    HI16(0xD0), HI16(0xE0), HI16(0xF0),
#undef HI16
};

/*
 * The same for a byte of raw ASCII text, which normalization would have
 * lowercased (letters), kept (digits) or dropped (apostrophes) or made a
 * space (the rest): the glyphs of its normalized form.
 */
static const uint32_t glyph_raw[128] = {
#define UPPER(c, a, b) [c - 'a' + 'A'] = GLYPH_ENTRY(a, b),
    GLYPH_FOLD(LOWER) GLYPH_FOLD(UPPER) GLYPH_DIGITS(LOWER)
#undef UPPER
};

/* The first and the second glyph (0: none) of each raw ASCII byte, for
   the vector paths' byte lookups. */
const unsigned char nd__glyph_first[128] = {
#define FIRST(c, a, b) [c] = a,
#define FIRST_UP(c, a, b) [c - 'a' + 'A'] = a,
    GLYPH_FOLD(FIRST) GLYPH_FOLD(FIRST_UP) GLYPH_DIGITS(FIRST)
#undef FIRST
#undef FIRST_UP
};
const unsigned char nd__glyph_second[128] = {
#define SECOND(c, a, b) [c] = b,
#define SECOND_UP(c, a, b) [c - 'a' + 'A'] = b,
    GLYPH_FOLD(SECOND) GLYPH_FOLD(SECOND_UP) GLYPH_DIGITS(SECOND)
#undef SECOND
#undef SECOND_UP
};
#undef LOWER

/*
 * One byte's glyphs at o, from its table entry: both glyph bytes are
 * stored whether it has 0, 1 or 2 (the unused ones are overwritten next),
 * and the output advances by the count the entry gives: no branch and no
 * test per byte.
 */
static unsigned char *fold1(unsigned char *o, uint32_t g)
{
    uint16_t two = (uint16_t)g;
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    two = __builtin_bswap16(two);
#endif
#endif
    memcpy(o, &two, 2);
    return o + (g >> GLYPH_COUNT_SHIFT);
}

/*
 * The glyphs of t->norm into out; returns their number.  The text is read
 * eight bytes at a time past its end into the NUL padding, which folds to
 * nothing.
 */
static size_t fold_glyphs(const nd__textbuf *t, unsigned char *out)
{
    const unsigned char *s = (const unsigned char *)t->norm;
    const unsigned char *end = s + t->norm_len;
    unsigned char *o = out;
    for (; s < end; s += 8) {
        o = fold1(o, glyph_map[s[0]]);
        o = fold1(o, glyph_map[s[1]]);
        o = fold1(o, glyph_map[s[2]]);
        o = fold1(o, glyph_map[s[3]]);
        o = fold1(o, glyph_map[s[4]]);
        o = fold1(o, glyph_map[s[5]]);
        o = fold1(o, glyph_map[s[6]]);
        o = fold1(o, glyph_map[s[7]]);
    }
    return (size_t)(o - out);
}

size_t nd__fold_ascii_scalar(const unsigned char *s, size_t len,
                             unsigned char *out, size_t *used)
{
    unsigned char *o = out;
    size_t i = 0;
    for (; i + 8 <= len && !(load64(s + i) & UINT64_C(0x8080808080808080)); i += 8) {
        o = fold1(o, glyph_raw[s[i]]);
        o = fold1(o, glyph_raw[s[i + 1]]);
        o = fold1(o, glyph_raw[s[i + 2]]);
        o = fold1(o, glyph_raw[s[i + 3]]);
        o = fold1(o, glyph_raw[s[i + 4]]);
        o = fold1(o, glyph_raw[s[i + 5]]);
        o = fold1(o, glyph_raw[s[i + 6]]);
        o = fold1(o, glyph_raw[s[i + 7]]);
    }
    for (; i < len && s[i] < 0x80; i++)
        o = fold1(o, glyph_raw[s[i]]);
    *used = i;
    return (size_t)(o - out);
}

/*
 * The kept windows among those starting at glyphs from..to-1, unmixed, into
 * out; returns their number.  Inlined twice, so that the usual n = 8 reads
 * its windows unmasked.  Every window is stored, and out moves on past the
 * kept ones only: the choice is a coin toss a branch would mispredict.
 */
static inline size_t select_windows(const unsigned char *g, size_t from,
                                    size_t to, uint64_t mask, uint64_t seed,
                                    uint64_t *out)
{
    uint64_t *o = out;
    size_t i = from;
#define SELECT(k)                                                   \
    do {                                                            \
        uint64_t w = (load64(g + i + (k)) & mask) ^ seed;           \
        *o = w;                                                     \
        o += 1 - (size_t)((w * GLYPH_PICK) >> 63);                  \
    } while (0)
    for (; i + 4 <= to; i += 4) {
        SELECT(0);
        SELECT(1);
        SELECT(2);
        SELECT(3);
    }
    for (; i < to; i++)
        SELECT(0);
#undef SELECT
    return (size_t)(o - out);
}

size_t nd__pick_windows_scalar(const unsigned char *g, size_t from, size_t to,
                               unsigned n, uint64_t seed, uint64_t *out)
{
    const size_t c =
        n >= 8 ? select_windows(g, from, to, UINT64_MAX, seed, out)
               : select_windows(g, from, to, (UINT64_C(1) << (8 * n)) - 1, seed, out);
    for (size_t k = 0; k < c; k++)
        out[k] = nd__fmix64(out[k]);
    return c;
}

/* --------------------------------------------------------- dispatch */

unsigned nd__text_paths(void)
{
    unsigned m = 1u << ND__TEXT_SCALAR;
#ifdef ND__TEXT_X86
    if (nd__isa_has(ND__ISA_AVX512F | ND__ISA_AVX512BW | ND__ISA_AVX512DQ |
                    ND__ISA_AVX512VBMI | ND__ISA_AVX512VBMI2 | ND__ISA_POPCNT))
        m |= 1u << ND__TEXT_AVX512;
#endif
    return m;
}

/* The fastest path of this CPU. */
static nd__text_path best_path(void)
{
    return (nd__text_path)nd__best_path(nd__text_paths());
}

size_t nd__fold_ascii_on(nd__text_path p, const unsigned char *s, size_t len,
                         unsigned char *out, size_t *used)
{
#ifdef ND__TEXT_X86
    if (p == ND__TEXT_AVX512)
        return nd__fold_ascii_avx512(s, len, out, used);
#endif
    (void)p;
    return nd__fold_ascii_scalar(s, len, out, used);
}

size_t nd__fold_ascii(const unsigned char *s, size_t len, unsigned char *out,
                      size_t *used)
{
    return nd__fold_ascii_on(best_path(), s, len, out, used);
}

size_t nd__pick_windows_on(nd__text_path p, const unsigned char *g, size_t from,
                           size_t to, unsigned n, uint64_t seed, uint64_t *out)
{
#ifdef ND__TEXT_X86
    if (p == ND__TEXT_AVX512)
        return nd__pick_windows_avx512(g, from, to, n, seed, out);
#endif
    (void)p;
    return nd__pick_windows_scalar(g, from, to, n, seed, out);
}

/* ------------------------------------------------------ glyph windows */

/* Room for need glyph bytes and the slack after them, contents kept. */
int nd__glyphs_reserve(nd__textbuf *t, size_t need)
{
    need += ND__GLYPH_SLACK;
    if (need <= t->glyphs_cap)
        return ND_OK;
    size_t c = t->glyphs_cap ? t->glyphs_cap : 256;
    while (c < need)
        c *= 2;
    unsigned char *q = realloc(t->glyphs, c);
    if (!q)
        return ND_ERR_NOMEM;
    t->glyphs = q;
    t->glyphs_cap = c;
    return ND_OK;
}

/* The windows of n glyphs of t->glyphs[0..ng), chosen and mixed, into
   t->hashes[0..*count), repeats and all. */
static int glyph_windows(nd__textbuf *t, size_t ng, unsigned n, uint64_t seed,
                         size_t *count)
{
    unsigned char *g = t->glyphs;
    *count = 0;
    if (ng == 0)
        return ND_OK;
    memset(g + ng, 0, 16); /* the windows read 16 bytes at a time */
    /* About half the windows are kept: room grows a block at a time. */
    int rc = nd__grow_u64(&t->hashes, &t->hashes_cap,
                      (ng < GLYPH_BLOCK ? ng : ng / 2) + GLYPH_BLOCK + 8);
    if (rc)
        return rc;
    uint64_t *out = t->hashes;
    const uint64_t mask = n >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * n)) - 1;
    if (ng <= n) {
        out[0] = nd__fmix64((load64(g) & mask) ^ seed); /* all of a short text */
        *count = 1;
        return ND_OK;
    }
    /*
     * The window starting at glyph i is the word of its n bytes, so it
     * needs no rolling hash.  It is kept when the top bit of one
     * multiply-shift of it is 0, and only kept windows are mixed.
     */
    const nd__text_path path = best_path();
    size_t nsh = 0;
    for (size_t i = 0; i + n <= ng;) {
        if (t->hashes_cap - nsh < GLYPH_BLOCK + 8) {
            uint64_t *q = realloc(t->hashes, 2 * t->hashes_cap * sizeof *q);
            if (!q)
                return ND_ERR_NOMEM;
            t->hashes = out = q;
            t->hashes_cap *= 2;
        }
        size_t end = ng - n + 1 - i < GLYPH_BLOCK ? ng - n + 1 : i + GLYPH_BLOCK;
        nsh += nd__pick_windows_on(path, g, i, end, n, seed, out + nsh);
        i = end;
    }
    if (nsh == 0) {
        /* No window chosen (a short text): keep the one nearest to it. */
        uint64_t best = UINT64_MAX, w0 = 0;
        for (size_t i = 0; i + n <= ng; i++) {
            uint64_t w = (load64(g + i) & mask) ^ seed;
            if (w * GLYPH_PICK < best) {
                best = w * GLYPH_PICK;
                w0 = w;
            }
        }
        out[0] = nd__fmix64(w0);
        nsh = 1;
    }
    *count = nsh;
    return ND_OK;
}

static int shingle_glyphs(nd__textbuf *t, unsigned n, uint64_t seed,
                          size_t *count)
{
    int rc = nd__glyphs_reserve(t, 2 * t->norm_len + 8);
    if (rc)
        return rc;
    return glyph_windows(t, fold_glyphs(t, t->glyphs), n, seed, count);
}

/*
 * Drop repeats from a[0..n) in place, order kept, through an open-addressing
 * table indexed by the top bits of the (uniform) hashes.  A slot holds not
 * the key but where the key went in the output, 16 bits (32 above 2^16
 * keys), and a busy slot's key is read from the output, a[tab[j]], which
 * is in cache.  A slot is in use when its stamp (t->stamps, a byte a slot)
 * equals this call's number, so nothing is cleared per call (all stamps
 * once in 255 calls) and no value is reserved for an empty slot.  The
 * table is roomy, 32n to 64n slots up to 2^DEDUPE_ROOMY_BITS (2n to 4n at
 * the least), so a key's home slot is nearly always free or holds the key
 * itself: whether it is busy is a byte of the stamps, read first, and the
 * rest takes no branch but the one on that byte (the output advances when
 * the slot was free).  The probe loop is left for the rare collision.
 * Measured on news text (one thread, the default glyph shingles): 16n
 * slots and a bitmap of used slots made the sketch stage 15% faster than
 * 2n to 4n slots cleared per call, stamps 4% faster again; slots of 16-bit
 * places in place of the 64-bit keys let the table be twice as roomy in
 * less memory (a page of 1,500 keys: 64 KB of stamps and 128 KB of places,
 * where 32 KB and 256 KB held half the slots), which shingling took 4%
 * less time on (10,000 `scale` pages); 16n slots of places gained nothing
 * over 16n of keys, and a table of places and stamps together, or one
 * cleared per call, lost 5-15%: the busy test must hit L1.
 */
#define DEDUPE_SLOTS 32
#define DEDUPE_ROOMY_BITS 16

/* How far ahead the counting variant asks for a counter (dfcount.c). */
#define DEDUPE_COUNT_AHEAD 16

/*
 * COUNT: also add one to the counter (cnt, indexed by the hash under
 * cmask) of each distinct value, as nd__df_add_own does, when it is first
 * seen: the counters' cache misses then overlap the table's work, where a
 * second pass over the set waited on them alone.
 */
#define DEFINE_DEDUPE(NAME, T, COUNT)                                          \
    static size_t NAME(T *tab, unsigned char *stamps, unsigned bits,           \
                       unsigned char now, uint64_t *a, size_t n, size_t stop,  \
                       atomic_uint *cnt, uint64_t cmask)                       \
    {                                                                          \
        const size_t mask = ((size_t)1 << bits) - 1;                           \
        const unsigned shift = 64 - bits;                                      \
        size_t w = 0;                                                          \
        (void)cnt;                                                             \
        (void)cmask;                                                           \
        if (COUNT)                                                             \
            for (size_t i = 0; i < n && i < DEDUPE_COUNT_AHEAD; i++)           \
                __builtin_prefetch(&cnt[a[i] & cmask]);                        \
        for (size_t i = 0; i < n && w < stop; i++) {                           \
            if (COUNT && i + DEDUPE_COUNT_AHEAD < n)                           \
                __builtin_prefetch(&cnt[a[i + DEDUPE_COUNT_AHEAD] & cmask]);   \
            const uint64_t v = a[i];                                           \
            size_t j = (size_t)(v >> shift);                                   \
            int busy = stamps[j] == now;                                       \
            if (busy && a[tab[j]] != v) {                                      \
                do {                                                           \
                    j = (j + 1) & mask;                                        \
                    busy = stamps[j] == now;                                   \
                } while (busy && a[tab[j]] != v);                              \
            }                                                                  \
            /* busy: a repeat of a[tab[j]]; else v is new, slot j free */      \
            if (!busy) {                                                       \
                tab[j] = (T)w;                                                 \
                if (COUNT) {                                                   \
                    atomic_uint *c = &cnt[v & cmask];                          \
                    atomic_store_explicit(                                     \
                        c, atomic_load_explicit(c, memory_order_relaxed) + 1u, \
                        memory_order_relaxed);                                 \
                }                                                              \
            }                                                                  \
            stamps[j] = now;                                                   \
            a[w] = v;                                                          \
            w += !busy;                                                        \
        }                                                                      \
        return w;                                                              \
    }

DEFINE_DEDUPE(dedupe16, uint16_t, 0)
DEFINE_DEDUPE(dedupe32, uint32_t, 0)
DEFINE_DEDUPE(count16, uint16_t, 1)
DEFINE_DEDUPE(count32, uint32_t, 1)

/* Stops once stop distinct values are found (the table is sized for as
   many): *out is then stop.  With df, counts each distinct value into it
   (stop is then len). */
static int dedupe_hashes(nd__textbuf *t, uint64_t *a, size_t len, size_t stop,
                         nd__df *df, size_t *out)
{
    if (len >= UINT32_MAX) /* beyond any text a reader passes */
        return ND_ERR_NOMEM;
    const size_t n = len < stop ? len : stop;
    unsigned bits = 1, least = 1;
    while (((size_t)1 << bits) < DEDUPE_SLOTS * n && bits < DEDUPE_ROOMY_BITS)
        bits++;
    while (((size_t)1 << least) < 2 * n)
        least++;
    if (bits < least)
        bits = least;
    const size_t size = (size_t)1 << bits;
    const int wide = n > UINT16_MAX;
    if (t->dedupe_cap < size) {
        void *q = malloc(size * 4);
        unsigned char *st = q ? calloc(size, 1) : NULL;
        if (!st) {
            free(q);
            return ND_ERR_NOMEM;
        }
        free(t->dedupe);
        free(t->stamps);
        t->dedupe = q;
        t->stamps = st;
        t->dedupe_cap = size;
        t->stamp = 0;
    }
    if (t->stamp == (unsigned char)-1) {
        memset(t->stamps, 0, t->dedupe_cap);
        t->stamp = 0;
    }
    const unsigned char now = ++t->stamp;
    if (df) {
        const uint64_t cmask = ((uint64_t)1 << df->bits) - 1;
        *out = wide ? count32((uint32_t *)t->dedupe, t->stamps, bits, now, a, len,
                              n, df->cnt, cmask)
                    : count16((uint16_t *)t->dedupe, t->stamps, bits, now, a, len,
                              n, df->cnt, cmask);
    } else {
        *out = wide ? dedupe32((uint32_t *)t->dedupe, t->stamps, bits, now, a, len,
                               n, NULL, 0)
                    : dedupe16((uint16_t *)t->dedupe, t->stamps, bits, now, a, len,
                               n, NULL, 0);
    }
    return ND_OK;
}

/* The shingle hashes of t->norm, repeats and all, into t->hashes. */
static int shingle_raw(nd__textbuf *t, nd_shingle_kind kind, unsigned n,
                       uint64_t seed, size_t *count)
{
    t->nhashes = 0;
    *count = 0;
    if (t->norm_len == 0)
        return ND_OK;
    assert(n > 0);
    return kind == ND_SHINGLE_CHAR    ? shingle_chars(t, n, seed, count)
           : kind == ND_SHINGLE_GLYPH ? shingle_glyphs(t, n, seed, count)
                                      : shingle_words(t, n, seed, count);
}

/* The set from count raw hashes in t->hashes: sorted or in no order. */
static int finish_set(nd__textbuf *t, size_t count, int sorted)
{
    t->nhashes = 0;
    if (!sorted)
        return count ? dedupe_hashes(t, t->hashes, count, count, NULL, &t->nhashes)
                     : ND_OK;
    int rc = nd__grow_u64(&t->tmp, &t->tmp_cap, 2 * count + 1);
    if (rc)
        return rc;
    nd__sort_u64_spread(t->hashes, t->tmp, count);
    t->nhashes = nd__unique_u64(t->hashes, count);
    return ND_OK;
}

int nd__shingle_bag(nd__textbuf *t, nd_shingle_kind kind, unsigned n,
                    uint64_t seed)
{
    size_t count;
    int rc = shingle_raw(t, kind, n, seed, &count);
    return rc ? rc : finish_set(t, count, 0);
}

int nd__shingle(nd__textbuf *t, nd_shingle_kind kind, unsigned n,
                uint64_t seed)
{
    size_t count;
    int rc = shingle_raw(t, kind, n, seed, &count);
    return rc ? rc : finish_set(t, count, 1);
}

int nd__shingle_stream(nd__textbuf *t, const char *in, size_t len,
                       unsigned flags, int *bad_utf8, nd_shingle_kind kind,
                       unsigned n, uint64_t seed, size_t *count)
{
    t->nhashes = 0;
    *count = 0;
    if (kind != ND_SHINGLE_GLYPH) {
        int rc = nd__normalize(t, in, len, flags, bad_utf8);
        return rc ? rc : shingle_raw(t, kind, n, seed, count);
    }
    assert(n > 0);
    size_t ng;
    int rc = nd__normalize_glyphs(t, in, len, flags, bad_utf8, &ng);
    return rc ? rc : glyph_windows(t, ng, n, seed, count);
}

int nd__shingle_finish(nd__textbuf *t, size_t count, int sorted)
{
    return finish_set(t, count, sorted);
}

int nd__shingle_distinct(nd__textbuf *t, uint64_t *a, size_t n, size_t stop,
                         size_t *out)
{
    *out = 0;
    return n && stop ? dedupe_hashes(t, a, n, stop, NULL, out) : ND_OK;
}

int nd__shingle_text(nd__textbuf *t, const char *in, size_t len, unsigned flags,
                     int *bad_utf8, nd_shingle_kind kind, unsigned n,
                     uint64_t seed, int sorted)
{
    size_t count;
    int rc = nd__shingle_stream(t, in, len, flags, bad_utf8, kind, n, seed, &count);
    return rc ? rc : finish_set(t, count, sorted);
}

int nd__shingle_text_count(nd__textbuf *t, const char *in, size_t len,
                           unsigned flags, int *bad_utf8, nd_shingle_kind kind,
                           unsigned n, uint64_t seed, nd__df *df)
{
    size_t count;
    int rc = nd__shingle_stream(t, in, len, flags, bad_utf8, kind, n, seed, &count);
    t->nhashes = 0;
    return rc || !count ? rc : dedupe_hashes(t, t->hashes, count, count, df, &t->nhashes);
}
