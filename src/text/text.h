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
    void *dedupe;        /* the table that drops repeats (shingle.c) */
    unsigned char *stamps; /* its slots in use when equal to stamp */
    size_t dedupe_cap;   /* slots of both */
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

/*
 * Normalize and shingle in[0..len) (flags, *bad_utf8 and errors as
 * nd__normalize) into t->hashes / t->nhashes, sorted and unique when
 * `sorted`, else unique in no particular order: the same set as
 * nd__normalize then nd__shingle (or nd__shingle_bag).  Glyph n-grams are
 * folded from the raw text without writing the normalized one (t->norm is
 * then left as it was).
 */
int nd__shingle_text(nd__textbuf *t, const char *in, size_t len, unsigned flags,
                     int *bad_utf8, nd_shingle_kind kind, unsigned n,
                     uint64_t seed, int sorted);

/*
 * The first half of nd__shingle_text: the shingle hashes of in[0..len),
 * repeats and all, in text order, into t->hashes[0..*count) (t->nhashes is
 * left 0).  nd__shingle_finish(t, count, sorted) then makes of
 * t->hashes[0..count) the set nd__shingle_text would, so a filter of single
 * shingles may run on the stream in between (the set of what passes is the
 * same as filtering the set).
 */
int nd__shingle_stream(nd__textbuf *t, const char *in, size_t len,
                       unsigned flags, int *bad_utf8, nd_shingle_kind kind,
                       unsigned n, uint64_t seed, size_t *count);
int nd__shingle_finish(nd__textbuf *t, size_t count, int sorted);

/* Make *p hold at least need values (contents not kept: a scratch buffer;
   on failure *p is unchanged): ND_OK or ND_ERR_NOMEM. */
int nd__grow_u64(uint64_t **p, size_t *cap, size_t need);

/*
 * Drop the repeats of a[0..n) in place (the distinct values first, in no
 * particular order) and store their number in *out, through the table of t;
 * a need not be t->hashes.  Once stop distinct values are found it stops
 * there (*out is then stop and the rest of a is left unread): what a bound
 * on the number needs.  Returns ND_OK or ND_ERR_NOMEM.
 */
int nd__shingle_distinct(nd__textbuf *t, uint64_t *a, size_t n, size_t stop,
                         size_t *out);

struct nd__df;
/*
 * nd__shingle_text unsorted, counting each shingle of the set into df as
 * nd__df_add_own does (only this thread counts into df), in the pass that
 * drops the repeats.
 */
int nd__shingle_text_count(nd__textbuf *t, const char *in, size_t len,
                           unsigned flags, int *bad_utf8, nd_shingle_kind kind,
                           unsigned n, uint64_t seed, struct nd__df *df);

/*
 * The glyphs (above) of the normalized form of in[0..len) into
 * t->glyphs[0..*nglyphs), without writing the normalized text: ASCII is
 * folded byte by byte, non-ASCII runs go through the normalization of
 * nd__normalize.  Flags, *bad_utf8 (may be NULL) and the return value as
 * nd__normalize.
 */
int nd__normalize_glyphs(nd__textbuf *t, const char *in, size_t len,
                         unsigned flags, int *bad_utf8, size_t *nglyphs);
/* Bytes writable past the glyphs a buffer holds (vector stores). */
#define ND__GLYPH_SLACK 128
/* t->glyphs with room for need glyphs and the slack; contents kept. */
int nd__glyphs_reserve(nd__textbuf *t, size_t need);
/* The first and the second glyph (0: none) of each ASCII byte of raw text
   (its normalized form's: upper case folds as lower case, apostrophes and
   separators have none). */
extern const unsigned char nd__glyph_first[128], nd__glyph_second[128];

/*
 * The two inner loops of glyph shingling, on each code path of the CPU
 * (chosen once at run time; every path gives the same bytes).
 * fold_ascii: the glyphs of the raw ASCII bytes at the start of s[0..len)
 *   into out (2 len + ND__GLYPH_SLACK bytes of room); returns their number,
 *   *used = the bytes read (up to the first byte >= 0x80).
 * pick_windows: the windows of n (1..8) glyphs starting at g[from..to),
 *   each read as the n-byte little-endian word w, xored with the seed and
 *   kept when its product with 0x9e3779b97f4a7c15 is below 2^63, into out
 *   as fmix64(w ^ seed), in order; returns their number.  g is readable to
 *   g[to + 15] and out has room for to - from + 8 values.
 */
typedef enum {
    ND__TEXT_SCALAR = 0,
    ND__TEXT_AVX512 = 1, /* AVX-512 F, BW, DQ, VBMI and VBMI2 */
    ND__TEXT_PATHS = 2
} nd__text_path;
/* Bit p set when path p can run here; detected once. */
unsigned nd__text_paths(void);
size_t nd__fold_ascii(const unsigned char *s, size_t len, unsigned char *out,
                      size_t *used);
/* On a given path, which must be one of nd__text_paths(). */
size_t nd__fold_ascii_on(nd__text_path p, const unsigned char *s, size_t len,
                         unsigned char *out, size_t *used);
size_t nd__pick_windows_on(nd__text_path p, const unsigned char *g, size_t from,
                           size_t to, unsigned n, uint64_t seed, uint64_t *out);
size_t nd__fold_ascii_scalar(const unsigned char *s, size_t len,
                             unsigned char *out, size_t *used);
size_t nd__pick_windows_scalar(const unsigned char *g, size_t from, size_t to,
                               unsigned n, uint64_t seed, uint64_t *out);
#if defined(__x86_64__) && defined(__GNUC__)
#define ND__TEXT_X86 1
size_t nd__fold_ascii_avx512(const unsigned char *s, size_t len,
                             unsigned char *out, size_t *used);
size_t nd__pick_windows_avx512(const unsigned char *g, size_t from, size_t to,
                               unsigned n, uint64_t seed, uint64_t *out);
#endif

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
