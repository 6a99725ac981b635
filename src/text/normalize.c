/*
 * normalize.c - UTF-8 text to space-joined tokens (see text.h).
 *
 * Most news text is ASCII, so the input is read in two modes.
 *
 * ASCII: one table maps each byte to what it becomes: a lowercase letter or
 * digit (kept), a space (separator) or 0 (apostrophe, deleted).  The byte
 * loop is branch-free: the mapped byte is always stored and the output
 * pointer advances unless the byte is deleted or is a separator following a
 * separator (or the start).  So the output may end in one pending space,
 * trimmed at the end, and never holds two spaces in a row.  Most of the
 * input goes eight bytes at a time instead (put_word8); a word with a high
 * bit drops to the byte loop, which stops at the first non-ASCII byte.
 *
 * Non-ASCII: a maximal run of valid non-ASCII UTF-8 goes through utf8proc
 * (NFKC + case folding, default-ignorable characters removed) as one
 * stretch.  Composition needs the starter a combining mark follows, and that
 * starter may be ASCII ("e" + U+0301 is "é"), so when the run follows an
 * ASCII letter or digit, that byte is taken back from the output and handed
 * to utf8proc with the run.  ASCII characters never compose with what
 * follows them as the second of a pair, and are all starters, so a run can
 * end at the next ASCII byte.  Apostrophe look-alikes are mapped to U+0027
 * before decomposition (U+00B4 would otherwise decompose to a space and a
 * combining accent, splitting "don´t"), and after it (U+0149 decomposes to
 * U+02BC and "n").  Each resulting code point is then
 * kept (letters, marks, numbers), deleted (U+0027, U+0060) or a separator
 * (everything else, U+FFFD included).  An invalid byte ends the run and
 * stands for U+FFFD, a separator.  A code point that composes with the one
 * before it (a mark, a Hangul vowel or final jamo) right after a deleted one
 * is deleted with it: kept, it would follow the letter before the
 * apostrophe, and normalizing the output again would compose the two.
 */
#include "text.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Byte class for ASCII: the byte written, ' ' for a separator, 0 deleted. */
static const unsigned char ascii_map[128] = {
#define SP ' '
    SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP,
    SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP, SP,
    /*  !"#$%&'()*+,-./ */
    SP, SP, SP, SP, SP, SP, SP, 0, SP, SP, SP, SP, SP, SP, SP, SP,
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', SP, SP, SP, SP, SP, SP,
    SP, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', SP, SP, SP, SP, SP,
    /* ` is deleted like ' */
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', SP, SP, SP, SP, SP,
#undef SP
};

#define ONES UINT64_C(0x0101010101010101)
#define HIGH_BITS (ONES * 0x80)

/* Eight bytes, the first in the low byte whatever the machine. */
static inline uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
#endif
    return w;
}

static inline void store64(unsigned char *p, uint64_t w)
{
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
#endif
    memcpy(p, &w, 8);
}

/* The high bit of each byte of w (all < 0x80) that lies in [lo, hi]. */
static inline uint64_t in_range(uint64_t w, unsigned lo, unsigned hi)
{
    return (w + ONES * (0x80 - lo)) & ~(w + ONES * (0x7F - hi)) & HIGH_BITS;
}

static inline int has_apostrophe(uint64_t w)
{
    return (in_range(w, '\'', '\'') | in_range(w, '`', '`')) != 0;
}

/*
 * One ASCII byte at o.  *more: the output ends in a token character.  The
 * mapped byte is always stored; the pointer moves past it unless it is
 * deleted or a separator that follows a separator or the start.
 */
static inline unsigned char *put_ascii(unsigned char *o, unsigned char c,
                                       unsigned *more)
{
    unsigned char v = ascii_map[c];
    unsigned word = v != ' ';
    *o = v;
    o += (v != 0) & (word | *more);
    *more = v ? word : *more;
    return o;
}

/*
 * Eight ASCII bytes without apostrophes, classified at once (SWAR): with
 * nothing deleted, a byte is written when it or the byte before it is a
 * token character, so the per-byte work is a store and an add, and when
 * all eight are written (no two separators in a row: most words of prose)
 * one 8-byte store does.
 */
static inline unsigned char *put_word8(unsigned char *o, uint64_t w,
                                       unsigned *more)
{
    uint64_t upper = in_range(w, 'A', 'Z');
    uint64_t word = upper | in_range(w, 'a', 'z') | in_range(w, '0', '9');
    uint64_t m = (word >> 7) * 0xFF;
    uint64_t mapped = ((w | (upper >> 2)) & m) | (ONES * ' ' & ~m);
    uint64_t keep = word | (word << 8) | (uint64_t)(*more << 7);
    *more = (unsigned)(word >> 63);
    if (keep == HIGH_BITS) {
        store64(o, mapped);
        return o + 8;
    }
    for (int k = 0; k < 8; k++) {
        *o = (unsigned char)(mapped >> (8 * k));
        o += (keep >> (8 * k + 7)) & 1;
    }
    return o;
}

static const utf8proc_option_t DECOMP_OPTS =
    UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
    UTF8PROC_IGNORE;

/* Grow t->norm to hold at least need bytes, keeping its contents. */
static int norm_reserve(nd__textbuf *t, size_t need)
{
    if (need <= t->norm_cap)
        return ND_OK;
    size_t cap = t->norm_cap ? t->norm_cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(t->norm, cap);
    if (!p)
        return ND_ERR_NOMEM;
    t->norm = p;
    t->norm_cap = cap;
    return ND_OK;
}

static utf8proc_int32_t map_apostrophe(utf8proc_int32_t cp, void *data)
{
    (void)data;
    switch (cp) {
    case 0x2018: case 0x2019: case 0x02BC: case 0x00B4: case 0xFF07:
        return '\'';
    default:
        return cp;
    }
}

static int keeps(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO;
}

/* A mark, or a Hangul vowel or final jamo: what composes with the code point
   before it. */
static int follows(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_MN && c <= UTF8PROC_CATEGORY_ME) ||
           (cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2);
}

/*
 * The code point k of a stretch as it is classified: apostrophe look-alikes
 * mapped again (a decomposition may make one), and -1 for one that goes
 * with the deleted code point before it.  *deleted: the code point before
 * was deleted; updated.
 */
static utf8proc_int32_t stretch_cp(utf8proc_int32_t cp, int *deleted)
{
    cp = map_apostrophe(cp, NULL);
    if (cp < 0x80) {
        *deleted = ascii_map[cp] == 0;
        return cp;
    }
    if (*deleted && follows(cp))
        return -1;
    *deleted = 0;
    return cp;
}

static unsigned char *put_utf8(unsigned char *o, utf8proc_int32_t cp)
{
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return o + 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return o + 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return o + 4;
}

/* A separator at output offset *olen: one space unless at the start or
 * after a space. */
static void put_sep(nd__textbuf *t, size_t *olen)
{
    if (*olen > 0 && t->norm[*olen - 1] != ' ')
        t->norm[(*olen)++] = ' ';
}

/*
 * NFKC + case fold the valid UTF-8 in s[0..n) into t->aux; returns the
 * number of code points, or ND_ERR_NOMEM.
 */
static utf8proc_ssize_t decompose(nd__textbuf *t, const unsigned char *s,
                                  size_t n)
{
    utf8proc_int32_t *buf = t->aux;
    size_t cap = t->aux_cap / sizeof *buf;
    utf8proc_ssize_t m;
    for (;;) {
        m = utf8proc_decompose_custom(s, (utf8proc_ssize_t)n, buf,
                                      (utf8proc_ssize_t)cap, DECOMP_OPTS,
                                      map_apostrophe, NULL);
        if (m < 0)
            return ND_ERR_NOMEM; /* the run was validated: only overflow */
        if ((size_t)m <= cap)
            break;
        size_t ncap = cap ? cap : 64;
        while (ncap < (size_t)m)
            ncap *= 2;
        free(t->aux);
        t->aux = buf = malloc(ncap * sizeof *buf);
        t->aux_cap = buf ? ncap * sizeof *buf : 0;
        if (!buf)
            return ND_ERR_NOMEM;
        cap = ncap;
    }
    m = utf8proc_normalize_utf32(buf, m, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    return m < 0 ? ND_ERR_NOMEM : m;
}

/*
 * NFKC + case fold the valid UTF-8 in s[0..n) and append its classified
 * code points at *olen.  rest is the input still to come after it, for
 * which the ASCII loop needs room of one byte each.  deleted: the code
 * point before s was deleted (an ASCII apostrophe or backquote).
 */
static int put_stretch(nd__textbuf *t, const unsigned char *s, size_t n,
                       size_t *olen, size_t rest, int deleted)
{
    utf8proc_ssize_t m = decompose(t, s, n);
    if (m < 0)
        return (int)m;
    const utf8proc_int32_t *buf = t->aux;
    int rc = norm_reserve(t, *olen + 5 * (size_t)m + rest + 16);
    if (rc)
        return rc;
    unsigned char *base = (unsigned char *)t->norm;
    unsigned char *o = base + *olen;
    for (utf8proc_ssize_t k = 0; k < m; k++) {
        utf8proc_int32_t cp = stretch_cp(buf[k], &deleted);
        if (cp < 0) {
            continue;
        } else if (cp < 0x80) {
            unsigned char v = ascii_map[cp];
            if (v == ' ') {
                if (o > base && o[-1] != ' ')
                    *o++ = ' ';
            } else if (v) {
                *o++ = v;
            }
        } else if (keeps(cp)) {
            o = put_utf8(o, cp);
        } else if (o > base && o[-1] != ' ') {
            *o++ = ' ';
        }
    }
    *olen = (size_t)(o - base);
    return ND_OK;
}

/* Writes a stretch's output at *out (put_stretch, or glyph_stretch below). */
typedef int (*stretch_fn)(nd__textbuf *t, const unsigned char *s, size_t n,
                          size_t *out, size_t rest, int deleted);

/* The byte before src[i] is deleted: an apostrophe or backquote. */
static int after_deleted(const unsigned char *src, size_t i)
{
    return i > 0 && src[i - 1] < 0x80 && ascii_map[src[i - 1]] == 0;
}

/*
 * The non-ASCII bytes at src[*ip..len): valid runs through put (from s,
 * which may take in the ASCII letter or digit before them), an invalid byte
 * sets *bad_utf8 and is a separator (sep: put_sep, when the output has
 * them), or ND_ERR_UTF8 under ND_NORM_STRICT_UTF8.  *ip moves past them.
 * deleted: the byte before them is an apostrophe or backquote.
 */
static int non_ascii(nd__textbuf *t, const unsigned char *src, size_t len,
                     size_t *ip, size_t s, size_t *out, stretch_fn put,
                     int sep, unsigned flags, int *bad_utf8, int deleted)
{
    size_t i = *ip;
    int rc;
    while (i < len && src[i] >= 0x80) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate(src + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n > 0) {
            i += (size_t)n;
            continue;
        }
        if (i > s &&
            (rc = put(t, src + s, i - s, out, len - i, deleted)) != ND_OK)
            return rc;
        *bad_utf8 = 1;
        if (flags & ND_NORM_STRICT_UTF8)
            return ND_ERR_UTF8;
        if (sep)
            put_sep(t, out);
        s = ++i;
        deleted = 0;
    }
    *ip = i;
    return i > s ? put(t, src + s, i - s, out, len - i, deleted) : ND_OK;
}

int nd__normalize(nd__textbuf *t, const char *in, size_t len, unsigned flags,
                  int *bad_utf8)
{
    int ignored;
    if (!bad_utf8)
        bad_utf8 = &ignored;
    const unsigned char *src = (const unsigned char *)in;
    int rc = norm_reserve(t, len + 16);
    *bad_utf8 = 0;
    if (rc)
        return rc;

    size_t i = 0, olen = 0;
    while (i < len) {
        /* ASCII until the first byte with the high bit. */
        unsigned char *base = (unsigned char *)t->norm;
        unsigned char *o = base + olen;
        unsigned more = o > base && o[-1] != ' ';
        while (i + 8 <= len) {
            uint64_t w = load64(src + i);
            if (w & HIGH_BITS)
                break;
            if (has_apostrophe(w)) {
                for (int k = 0; k < 8; k++)
                    o = put_ascii(o, src[i + k], &more);
            } else {
                o = put_word8(o, w, &more);
            }
            i += 8;
        }
        /* The tail, or up to the high byte of the word that stopped us. */
        while (i < len && src[i] < 0x80)
            o = put_ascii(o, src[i++], &more);
        olen = (size_t)(o - base);
        if (i >= len)
            break;

        /* Non-ASCII: valid runs through utf8proc, invalid bytes separate. */
        size_t s = i;
        if (i > 0 && src[i - 1] < 0x80 && ascii_map[src[i - 1]] > ' ') {
            s = i - 1;
            olen--;
        }
        rc = non_ascii(t, src, len, &i, s, &olen, put_stretch, 1, flags, bad_utf8,
                       after_deleted(src, i));
        if (rc == ND_ERR_UTF8) {
            t->norm_len = 0;
            store64((unsigned char *)t->norm, 0);
        }
        if (rc)
            return rc;
    }
    if (olen > 0 && t->norm[olen - 1] == ' ')
        olen--;
    /* The NUL and 7 more: shingle.c reads the text a word at a time. */
    store64((unsigned char *)t->norm + olen, 0);
    t->norm_len = olen;
    return ND_OK;
}

/* ------------------------------------------------------------- glyphs */

/* The number of glyphs of a raw ASCII byte. */
static size_t glyph_count(unsigned char c)
{
    return (nd__glyph_first[c] != 0) + (nd__glyph_second[c] != 0);
}

/*
 * As put_stretch, but the glyphs of what it would write go to
 * t->glyphs[*ng..): separators write nothing, an ASCII letter or digit its
 * glyphs, any other kept code point its UTF-8 bytes (each its own glyph).
 */
static int glyph_stretch(nd__textbuf *t, const unsigned char *s, size_t n,
                         size_t *ng, size_t rest, int deleted)
{
    utf8proc_ssize_t m = decompose(t, s, n);
    if (m < 0)
        return (int)m;
    const utf8proc_int32_t *buf = t->aux;
    int rc = nd__glyphs_reserve(t, *ng + 4 * (size_t)m + 2 * rest);
    if (rc)
        return rc;
    unsigned char *o = t->glyphs + *ng;
    for (utf8proc_ssize_t k = 0; k < m; k++) {
        utf8proc_int32_t cp = stretch_cp(buf[k], &deleted);
        if (cp < 0) {
            continue;
        } else if (cp < 0x80) {
            unsigned char v = ascii_map[cp];
            if (v > ' ') {
                o[0] = nd__glyph_first[v];
                o[1] = nd__glyph_second[v];
                o += glyph_count(v);
            }
        } else if (keeps(cp)) {
            o = put_utf8(o, cp);
        }
    }
    *ng = (size_t)(o - t->glyphs);
    return ND_OK;
}

/*
 * nd__normalize's loop with glyphs for output.  Normalization maps each
 * ASCII byte on its own (no ASCII byte composes with what follows it as
 * the second of a pair), and a separator becomes no glyph, so the ASCII
 * runs need only the byte's glyphs; the non-ASCII runs are normalized as
 * nd__normalize does, taking back the glyphs of an ASCII letter or digit
 * they may compose with.
 */
int nd__normalize_glyphs(nd__textbuf *t, const char *in, size_t len,
                         unsigned flags, int *bad_utf8, size_t *nglyphs)
{
    int ignored;
    if (!bad_utf8)
        bad_utf8 = &ignored;
    const unsigned char *src = (const unsigned char *)in;
    *bad_utf8 = 0;
    *nglyphs = 0;
    int rc = nd__glyphs_reserve(t, 2 * len);
    if (rc)
        return rc;
    size_t i = 0, ng = 0;
    while (i < len) {
        size_t used;
        ng += nd__fold_ascii(src + i, len - i, t->glyphs + ng, &used);
        i += used;
        if (i >= len)
            break;
        size_t s = i;
        if (i > 0 && src[i - 1] < 0x80 && ascii_map[src[i - 1]] > ' ') {
            s = i - 1;
            ng -= glyph_count(src[i - 1]);
        }
        rc = non_ascii(t, src, len, &i, s, &ng, glyph_stretch, 0, flags, bad_utf8,
                       after_deleted(src, i));
        if (rc)
            return rc;
    }
    *nglyphs = ng;
    return ND_OK;
}
