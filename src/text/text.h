/*
 * text.h - normalization and shingling, the first two stages (internal).
 *
 * normalize: UTF-8 text -> tokens joined by single spaces, no leading or
 *   trailing space.  NFKC + case folding (utf8proc) with an ASCII fast path;
 *   letters, marks and numbers are kept, apostrophes (' ` and the
 *   typographic forms U+2018 U+2019 U+02BC U+00B4 U+FF07) are deleted so
 *   "don't" and "don’t" both become "dont", default-ignorable characters
 *   (soft hyphen, zero-width space, ...) are deleted as NFKC_Casefold does,
 *   every other character (punctuation, symbols, dashes, white space,
 *   controls) separates tokens.  Invalid UTF-8 bytes become U+FFFD (a
 *   separator), or ND_ERR_UTF8 under ND_NORM_STRICT_UTF8.
 * shingle: normalized text -> the set of 64-bit shingle hashes, sorted
 *   ascending, unique.  Word n-grams: a token of at most 8 bytes, read as
 *   the little-endian word w of its bytes (zero above them), hashes to
 *   fmix64(w ^ seed) (the MurmurHash3 finalizer), a longer one to XXH3 of
 *   its bytes (seeded); the n-gram of token hashes t_1 .. t_n hashes to
 *   fmix64(rotl(t_1, 21 (n-1)) ^ ... ^ rotl(t_(n-1), 21) ^ t_n), rotations
 *   mod 64.  Character n-grams: XXH3 of the
 *   UTF-8 bytes of n consecutive code points of the normalized text.  Glyph
 *   n-grams (n <= 8, the default): the normalized text with its spaces
 *   dropped and OCR look-alikes folded (0 o -> o; 1 i l -> l; e c -> c;
 *   h b -> b; 5 s -> s; m -> rn; w -> vv; d -> cl; other bytes, UTF-8
 *   included, stay), every window of n glyph bytes read as an n-byte
 *   little-endian word w; with v = w ^ seed, a window is kept when
 *   v * 0x9e3779b97f4a7c15 (mod 2^64) < 2^63 (half of them, chosen by
 *   content alone, so two copies keep the same windows where they agree),
 *   and stored as fmix64(v) (the MurmurHash3 finalizer).  When no window is
 *   kept the one with the smallest product is.  A text with fewer than n tokens (code
 *   points, glyphs) but at least one gives one shingle of all of them; an
 *   empty text gives the empty set.
 */
#ifndef ND_TEXT_H
#define ND_TEXT_H

#include "../neardup.h"

/* Per-thread scratch; zero-initialise, release with nd__textbuf_free. */
typedef struct nd__textbuf {
    char *norm;          /* normalized text, NUL-terminated; 8 NUL bytes
                            follow the text, for word-at-a-time reads */
    size_t norm_len, norm_cap;
    uint64_t *hashes;    /* shingle set, sorted, unique */
    size_t nhashes, hashes_cap;
    uint64_t *tmp;       /* scratch (token hashes, code point offsets ...) */
    size_t tmp_cap;
    void *aux;           /* scratch owned by normalize.c */
    size_t aux_cap;
    uint64_t *figs;      /* figures of the text (numbers.c) */
    size_t nfigs, figs_cap;
    unsigned char *glyphs; /* the text as folded glyphs (shingle.c) */
    size_t glyphs_cap;
    unsigned char *stamps; /* slots in use when equal to stamp (shingle.c) */
    size_t stamps_cap;
    unsigned char stamp;
} nd__textbuf;

void nd__textbuf_free(nd__textbuf *t);

/*
 * Normalize in[0..len) into t->norm / t->norm_len.  *bad_utf8 (may be NULL) is
 * set to 1 when invalid UTF-8 was repaired, else 0.
 * Returns ND_OK, ND_ERR_NOMEM, or ND_ERR_UTF8 when flags has
 * ND_NORM_STRICT_UTF8 and the input is not valid UTF-8.
 */
int nd__normalize(nd__textbuf *t, const char *in, size_t len, unsigned flags,
                  int *bad_utf8);

/*
 * Shingle t->norm (as left by nd__normalize) into t->hashes / t->nhashes
 * (sorted, unique); n >= 1.
 * Returns ND_OK or ND_ERR_NOMEM.
 */
int nd__shingle(nd__textbuf *t, nd_shingle_kind kind, unsigned n,
                uint64_t seed);
/*
 * As nd__shingle, but the set is left in no particular order (what MinHash
 * and counting need): repeats are dropped by hashing, not sorting.
 */
int nd__shingle_bag(nd__textbuf *t, nd_shingle_kind kind, unsigned n,
                    uint64_t seed);

/* The figure check reads texts of at most this many figures. */
#define ND__FIGS_KEPT 16

/*
 * The figures of text[0..len) (the raw text, not the normalized one): every
 * maximal run of ASCII digits with single '.', ',' or ':' between digits
 * ("1,250.5", "0.21"), punctuation dropped, mixed into 16 bits, with 16 bits
 * of its context (the words around it) above them; distinct and sorted, into
 * t->figs / t->nfigs.  Reading stops at the ND__FIGS_KEPT + 1st: nfigs
 * above ND__FIGS_KEPT says "more than the check reads".  Plain years (19xx,
 * 20xx), times of day ("9:30") and days of the month ("July 16") are left
 * out: page furniture, not evidence.  Returns ND_OK or ND_ERR_NOMEM.
 */
int nd__figures(nd__textbuf *t, const char *text, size_t len, uint64_t seed);

#endif
