/*
 * test_io.c - the reader: formats, ids, escapes, errors, compression,
 * directories, long lines and time stamps.  Inputs are written into a fresh
 * mkdtemp directory per test; compressed inputs are made with zlib and zstd
 * directly, so the reader is checked against the libraries' own encoders.
 */
#include "../src/neardup.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static char tmpdir[256];
static char pathbuf[8][512];
static int pathnext;

static void setup(void)
{
    strcpy(tmpdir, "/tmp/nd-io-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static int rm_entry(const char *p, const struct stat *st, int flag,
                    struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void teardown(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmpdir/name, from a small ring of buffers. */
static const char *P(const char *name)
{
    char *b = pathbuf[pathnext++ % 8];
    snprintf(b, sizeof pathbuf[0], "%s/%s", tmpdir, name);
    return b;
}

static void write_bytes(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(P(name), "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_str(const char *name, const char *s)
{
    write_bytes(name, s, strlen(s));
}

static void write_gz(const char *name, const char *s)
{
    gzFile g = gzopen(P(name), "wb");
    cr_assert_not_null(g);
    cr_assert_eq(gzwrite(g, s, (unsigned)strlen(s)), (int)strlen(s));
    cr_assert_eq(gzclose(g), Z_OK);
}

/* zstd frame of s into out (cap bytes); returns its size. */
static size_t zst_of(const char *s, void *out, size_t cap)
{
    size_t n = ZSTD_compress(out, cap, s, strlen(s), 3);
    cr_assert(!ZSTD_isError(n));
    return n;
}

static void write_zst(const char *name, const char *s)
{
    char buf[4096];
    write_bytes(name, buf, zst_of(s, buf, sizeof buf));
}

static size_t file_bytes(const char *name, void *buf, size_t cap)
{
    FILE *f = fopen(P(name), "rb");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static nd_reader *open1(const char *name, const nd_reader_opts *o)
{
    const char *p = P(name);
    nd_reader *r = NULL;
    int rc = nd_reader_open(&p, 1, o, &r);
    cr_assert_eq(rc, ND_OK, "open %s: %d %s", p, rc,
                 r ? nd_reader_errmsg(r) : "");
    return r;
}

/* Expect a record with this id, text and line; the id "@" is that of a
 * record without one: "FILE:LINE" as a JSON string. */
static void expect(nd_reader *r, nd_record *rec, const char *id,
                   const char *text, uint64_t line)
{
    int rc = nd_reader_next(r, rec);
    cr_assert_eq(rc, 1, "rc %d (%s), expected id %s", rc,
                 nd_reader_errmsg(r), id);
    char line_id[600];
    if (strcmp(id, "@") == 0) {
        snprintf(line_id, sizeof line_id, "\"%s:%llu\"", rec->file,
                 (unsigned long long)line);
        id = line_id;
    }
    cr_assert_eq(rec->id_len, strlen(id));
    cr_assert_str_eq(rec->id, id);
    cr_assert_eq(rec->text_len, strlen(text), "text_len %zu for %s",
                 rec->text_len, id);
    cr_assert(memcmp(rec->text, text, rec->text_len) == 0,
              "text of %s: %s", id, rec->text);
    cr_assert_eq(rec->line, line);
}

/* Expect an error code whose message is tmpdir/ + msg. */
static void expect_err(nd_reader *r, int code, const char *msg)
{
    nd_record rec;
    int rc = nd_reader_next(r, &rec);
    cr_assert_eq(rc, code, "rc %d, expected %d (%s)", rc, code,
                 nd_reader_errmsg(r));
    char want[1024];
    snprintf(want, sizeof want, "%s/%s", tmpdir, msg);
    cr_assert_str_eq(nd_reader_errmsg(r), want);
}

static void expect_end(nd_reader *r)
{
    nd_record rec;
    cr_assert_eq(nd_reader_next(r, &rec), 0, "%s", nd_reader_errmsg(r));
    cr_assert_eq(nd_reader_next(r, &rec), 0);
}

TestSuite(io, .init = setup, .fini = teardown);

/* ------------------------------------------------------------------ JSONL */

Test(io, jsonl_ids_of_every_type)
{
    write_str("a.jsonl",
              "{\"id\": \"x1\", \"text\": \"one\"}\n"
              "{\"id\": 42, \"text\": \"two\"}\n"
              "{\"id\": -7, \"text\": \"three\"}\n"
              "{\"text\": \"four\"}\n"
              "{\"id\": null, \"text\": \"five\"}\n"
              "{\"id\": 1.5, \"text\": \"six\"}\n"
              "{\"id\": 100.0, \"text\": \"seven\"}\n"
              "{\"id\": 0.1, \"text\": \"eight\"}\n"
              "{\"id\": 1e300, \"text\": \"nine\"}\n"
              "{\"id\": 9223372036854775807, \"text\": \"ten\"}\n"
              "{\"id\": \"q\\\"b\\\\s/\\u00e9\\u001f\\t\", \"text\": \"11\"}\n");
    nd_reader *r = open1("a.jsonl", NULL);
    nd_record rec;
    expect(r, &rec, "\"x1\"", "one", 1);
    expect(r, &rec, "42", "two", 2);
    expect(r, &rec, "-7", "three", 3);
    expect(r, &rec, "@", "four", 4);
    expect(r, &rec, "@", "five", 5);
    expect(r, &rec, "1.5", "six", 6);
    expect(r, &rec, "100.0", "seven", 7);
    expect(r, &rec, "0.1", "eight", 8);
    expect(r, &rec, "1e+300", "nine", 9);
    expect(r, &rec, "9223372036854775807", "ten", 10);
    /* jansson's escaping: quote, backslash, controls; é stays UTF-8. */
    expect(r, &rec, "\"q\\\"b\\\\s/\xc3\xa9\\u001F\\t\"", "11", 11);
    cr_assert_str_eq(rec.file, P("a.jsonl"));
    cr_assert_eq(rec.meta.has_time, 0);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, jsonl_string_escapes_and_raw)
{
    const char *l1 = "{\"text\": \"caf\\u00e9\\nline \\ud83d\\ude00 \\\"q\\\"\", "
                     "\"id\": \"a\", \"extra\": [1, {\"b\": 2}]}";
    char in[512];
    snprintf(in, sizeof in, "%s\n", l1);
    write_str("e.jsonl", in);
    nd_reader *r = open1("e.jsonl", NULL);
    nd_record rec;
    expect(r, &rec, "\"a\"",
           "caf\xc3\xa9\nline \xf0\x9f\x98\x80 \"q\"", 1);
    cr_assert_eq(rec.raw_len, strlen(l1));
    cr_assert_str_eq(rec.raw, l1);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, tsv_records_carry_their_header)
{
    write_str("h.tsv", "id\ttext\r\n7\tsome words\n");
    nd_reader *r = open1("h.tsv", NULL);
    nd_record rec;
    expect(r, &rec, "\"7\"", "some words", 2);
    cr_assert_eq(rec.header_len, 8);
    cr_assert(memcmp(rec.header, "id\ttext\r", 8) == 0, "as read, with the CR");
    expect_end(r);
    nd_reader_close(r);
    write_str("j.jsonl", "{\"id\": 1, \"text\": \"x\"}\n");
    r = open1("j.jsonl", NULL);
    expect(r, &rec, "1", "x", 1);
    cr_assert_null(rec.header);
    nd_reader_close(r);
}

Test(io, jsonl_invalid_utf8_is_repaired_and_marked)
{
    /* 0xe9 alone (Latin-1 e-acute) and a truncated 3-byte sequence */
    const char *l1 = "{\"id\": \"x\", \"text\": \"caf\xe9 \xe2\x82 ok\"}";
    char in[256];
    snprintf(in, sizeof in, "%s\n{\"id\": \"y\", \"text\": \"fine\"}\n", l1);
    write_str("u.jsonl", in);
    nd_reader *r = open1("u.jsonl", NULL);
    nd_record rec;
    expect(r, &rec, "\"x\"", "caf\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd ok", 1);
    cr_assert_eq(rec.bad_utf8, 1);
    cr_assert_eq(rec.raw_len, strlen(l1), "raw stays as read");
    cr_assert(memcmp(rec.raw, l1, rec.raw_len) == 0);
    expect(r, &rec, "\"y\"", "fine", 2);
    cr_assert_eq(rec.bad_utf8, 0);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, jsonl_text_with_nul)
{
    write_str("n.jsonl", "{\"text\": \"a\\u0000b\"}\n");
    nd_reader *r = open1("n.jsonl", NULL);
    nd_record rec;
    cr_assert_eq(nd_reader_next(r, &rec), 1);
    cr_assert_eq(rec.text_len, 3);
    cr_assert(memcmp(rec.text, "a\0b", 3) == 0);
    nd_reader_close(r);
}

/* Valid JSON is read whatever the size of its numbers; a number is only
 * an error where its value is used and does not fit. */
Test(io, jsonl_numbers_beyond_int64_and_double)
{
    write_str("n.jsonl",
              "{\"id\": \"a\", \"text\": \"x\", \"n\": 123456789012345678901234}\n"
              "{\"id\": \"b\", \"text\": \"y\", \"n\": 1e400, "
              "\"m\": [-1e999, {\"k\": 99999999999999999999}]}\n"
              "{\"id\": 123456789012345678901234, \"text\": \"z\"}\n"
              "{\"id\": 1e400, \"text\": \"w\"}\n"
              "{\"id\": 9223372036854775807, \"text\": \"v\"}\n"
              "{\"id\": \"c\", \"text\": 5, \"n\": 1e400}\n"
              "{\"id\": \"d\", \"text\": \"caf\xe9\", \"n\": 1e400}\n"
              "{\"id\": \"e\", \"text\": \"t\", \"t\": 1e400}\n"
              "{\"id\": \"f\", \"text\": \"t\", \"t\": -99999999999999999999}\n"
              "{\"id\": \"g\", \"text\": \"t\", \"t\": 1700000000000000000, "
              "\"n\": 1e400}\n"
              "{\"id\": 1e300, \"text\": \"u\", \"t\": 1e300}\n");
    nd_reader_opts o = {ND_FORMAT_JSONL, NULL, NULL, "t", NULL, 0};
    nd_reader *r = open1("n.jsonl", &o);
    nd_record rec;
    expect(r, &rec, "\"a\"", "x", 1);
    expect(r, &rec, "\"b\"", "y", 2);
    expect(r, &rec, "123456789012345678901234", "z", 3); /* as written */
    expect_err(r, ND_ERR_DATA,
               "n.jsonl:4: \"id\" is a number beyond the range of a double");
    expect(r, &rec, "9223372036854775807", "v", 5);
    expect_err(r, ND_ERR_DATA, "n.jsonl:6: \"text\" is not a string");
    expect(r, &rec, "\"d\"", "caf\xef\xbf\xbd", 7);
    cr_assert_eq(rec.bad_utf8, 1);
    expect_err(r, ND_ERR_DATA,
               "n.jsonl:8: \"t\" is a number beyond the range of a double");
    expect_err(r, ND_ERR_DATA,
               "n.jsonl:9: \"t\" is a number beyond 64-bit seconds");
    expect(r, &rec, "\"g\"", "t", 10);
    cr_assert_eq(rec.meta.has_time, 1);
    cr_assert_eq(rec.meta.time, 1700000000000000000);
    expect(r, &rec, "1e+300", "u", 11);
    cr_assert_eq(rec.meta.has_time, 0, "a time beyond int64 is no time");
    expect_end(r);
    nd_reader_close(r);
}

/* A record without an id is "FILE:LINE", a string: it cannot be taken for
 * the numeric id 2 of another record, nor for line 2 of another file. */
Test(io, records_without_id_are_file_and_line)
{
    write_str("m.jsonl", "{\"id\": 2, \"text\": \"numbered\"}\n"
                         "{\"text\": \"no id\"}\n");
    write_str("m.txt", "a line\nline two\n");
    write_str("m.tsv", "text\tid\nx\t\n");
    const char *p[3] = {P("m.jsonl"), P("m.txt"), P("m.tsv")};
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(p, 3, NULL, &r), ND_OK);
    nd_record rec;
    char want[600];
    expect(r, &rec, "2", "numbered", 1);
    snprintf(want, sizeof want, "\"%s/m.jsonl:2\"", tmpdir);
    expect(r, &rec, want, "no id", 2);
    expect(r, &rec, "@", "a line", 1);
    snprintf(want, sizeof want, "\"%s/m.txt:2\"", tmpdir);
    expect(r, &rec, want, "line two", 2);
    snprintf(want, sizeof want, "\"%s/m.tsv:2\"", tmpdir);
    expect(r, &rec, want, "x", 2);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, jsonl_crlf_and_blank_lines)
{
    write_str("c.jsonl", "{\"text\": \"a\"}\r\n"
                         "\r\n"
                         "   \t \n"
                         "\n"
                         "{\"text\": \"b\"}\r\n"
                         "{\"text\": \"c\"}"); /* no final newline */
    nd_reader *r = open1("c.jsonl", NULL);
    nd_record rec;
    expect(r, &rec, "@", "a", 1);
    /* raw is the line as it was (dedup writes it back), the CR too */
    cr_assert_str_eq(rec.raw, "{\"text\": \"a\"}\r");
    cr_assert_eq(rec.raw_len, 14);
    expect(r, &rec, "@", "b", 5);
    cr_assert_eq(rec.raw_len, 14);
    expect(r, &rec, "@", "c", 6);
    cr_assert_eq(rec.raw_len, 13);
    expect_end(r);
    nd_reader_close(r);
}

/*
 * Texts of every length from 0 to 99 bytes before an escape, so that the
 * escapes fall at every offset of the decoder's 16-byte steps, the last
 * one ending in an escape on a line without a final newline; read from
 * the file and from its gzip copy, and an empty file is no record.
 */
Test(io, jsonl_escapes_at_every_offset_and_no_final_newline)
{
    enum { LINES = 100 };
    size_t cap = 64 * 1024;
    char *doc = malloc(cap), *want[LINES];
    size_t n = 0;
    for (int i = 0; i < LINES; i++) {
        want[i] = malloc(256);
        size_t w = 0;
        n += (size_t)snprintf(doc + n, cap - n, "{\"id\": %d, \"text\": \"", i);
        for (int k = 0; k < i; k++) {
            doc[n++] = (char)('a' + k % 26);
            want[i][w++] = (char)('a' + k % 26);
        }
        /* an escape, a two-byte character escaped, text, then an escape
           just before the closing quote */
        n += (size_t)snprintf(doc + n, cap - n, "\\n\\u00e9%.*s\\\"\"}%s",
                              i % 40, "0123456789012345678901234567890123456789",
                              i + 1 < LINES ? "\n" : "");
        memcpy(want[i] + w, "\n\xc3\xa9", 3);
        w += 3;
        memcpy(want[i] + w, "0123456789012345678901234567890123456789", (size_t)(i % 40));
        w += (size_t)(i % 40);
        want[i][w++] = '"';
        want[i][w] = '\0';
    }
    doc[n] = '\0';
    write_str("esc.jsonl", doc);
    write_gz("esc.jsonl.gz", doc);
    write_str("empty.jsonl", "");
    const char *names[] = {"esc.jsonl", "esc.jsonl.gz"};
    for (int f = 0; f < 2; f++) {
        nd_reader *r = open1(names[f], NULL);
        nd_record rec;
        for (int i = 0; i < LINES; i++) {
            char id[16];
            snprintf(id, sizeof id, "%d", i);
            expect(r, &rec, id, want[i], (uint64_t)i + 1);
        }
        expect_end(r);
        nd_reader_close(r);
    }
    nd_reader *r = open1("empty.jsonl", NULL);
    expect_end(r);
    nd_reader_close(r);
    for (int i = 0; i < LINES; i++)
        free(want[i]);
    free(doc);
}

Test(io, jsonl_custom_fields_and_id_not_scalar)
{
    write_str("f.jsonl", "{\"doc\": 3, \"body\": \"x\", \"text\": 5}\n"
                         "{\"doc\": [1], \"body\": \"y\"}\n"
                         "{\"doc\": true, \"body\": \"z\"}\n"
                         "{\"doc\": \"k\", \"body\": \"w\"}\n");
    nd_reader_opts o = {ND_FORMAT_AUTO, "doc", "body", NULL, NULL, 0};
    nd_reader *r = open1("f.jsonl", &o);
    nd_record rec;
    expect(r, &rec, "3", "x", 1);
    expect_err(r, ND_ERR_DATA, "f.jsonl:2: \"doc\" is not a string or a number");
    expect_err(r, ND_ERR_DATA, "f.jsonl:3: \"doc\" is not a string or a number");
    expect(r, &rec, "\"k\"", "w", 4);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, jsonl_data_errors_then_go_on)
{
    write_str("d.jsonl", "{\"text\": \"ok1\"}\n"
                         "{\"text\": \"x\",\n"
                         "{\"id\": 2}\n"
                         "{\"text\": 17}\n"
                         "[1, 2]\n"
                         "\"str\"\n"
                         "{\"text\": \"a\"} {}\n"
                         "{\"text\": \"ok2\"}\n");
    nd_reader *r = open1("d.jsonl", NULL);
    nd_record rec;
    expect(r, &rec, "@", "ok1", 1);
    /* The detail after "malformed JSON:" is jansson's own text. */
    expect_err(r, ND_ERR_DATA,
               "d.jsonl:2: malformed JSON: string or '}' expected near end of "
               "file");
    expect_err(r, ND_ERR_DATA, "d.jsonl:3: no \"text\" field");
    expect_err(r, ND_ERR_DATA, "d.jsonl:4: \"text\" is not a string");
    expect_err(r, ND_ERR_DATA, "d.jsonl:5: not a JSON object");
    expect_err(r, ND_ERR_DATA,
               "d.jsonl:6: malformed JSON: '[' or '{' expected near '\"str\"'");
    expect_err(r, ND_ERR_DATA,
               "d.jsonl:7: malformed JSON: end of file expected near '{'");
    expect(r, &rec, "@", "ok2", 8);
    expect_end(r);
    nd_reader_close(r);
}

/* -------------------------------------------------------------- TSV, TEXT */

Test(io, tsv_columns_escapes_and_errors)
{
    write_str("t.tsv", "title\tid\ttext\r\n"
                       "T1\tdoc-1\ta\\tb\\nc\\\\d\\x\r\n"
                       "\n"
                       "T2\t\tplain\n"
                       "T3\tonly two\n"
                       "T4\tdoc-4\tsp\xff ace\t\n"
                       "T5\td\\\"5\tlast\n");
    nd_reader *r = open1("t.tsv", NULL);
    nd_record rec;
    expect(r, &rec, "\"doc-1\"", "a\tb\nc\\d\\x", 2);
    cr_assert_str_eq(rec.raw, "T1\tdoc-1\ta\\tb\\nc\\\\d\\x\r");
    expect(r, &rec, "@", "plain", 4); /* empty id cell: the line number */
    expect_err(r, ND_ERR_DATA, "t.tsv:5: 2 columns, the header has 3");
    expect_err(r, ND_ERR_DATA, "t.tsv:6: 4 columns, the header has 3");
    expect(r, &rec, "\"d\\\\\\\"5\"", "last", 7);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, tsv_without_id_column_and_invalid_utf8_id)
{
    write_str("u.tsv", "text\tkey\nhello\tk\xff\n");
    nd_reader_opts o = {ND_FORMAT_TSV, "key", NULL, NULL, NULL, 0};
    nd_reader *r = open1("u.tsv", &o);
    nd_record rec;
    expect(r, &rec, "\"k\xef\xbf\xbd\"", "hello", 2); /* U+FFFD */
    expect_end(r);
    nd_reader_close(r);

    write_str("v.tsv", "text\nhello\n\nworld\n");
    r = open1("v.tsv", NULL);
    expect(r, &rec, "@", "hello", 2);
    expect(r, &rec, "@", "world", 4);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, tsv_without_text_column_skips_to_next_file)
{
    write_str("a.tsv", "id\tbody\n1\tx\n2\ty\n");
    write_str("b.tsv", "text\nz\n");
    const char *p[2] = {P("a.tsv"), P("b.tsv")};
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(p, 2, NULL, &r), ND_OK);
    nd_record rec;
    expect_err(r, ND_ERR_DATA, "a.tsv:1: no \"text\" column");
    expect(r, &rec, "@", "z", 2);
    cr_assert_str_eq(rec.file, P("b.tsv"));
    expect_end(r);
    nd_reader_close(r);
}

/* ------------------------------------------------------------------- CSV */

Test(io, csv_quoted_fields_span_lines)
{
    write_str("c.csv",
              "\xef\xbb\xbfwhen,id,text,src\r\n"
              "2024-03-01T12:00:00Z,a,\"one, two \"\"three\"\"\",ap\r\n"
              ",,\"first line\r\nsecond line\nthird\",\r\n"
              "\r\n"
              "x, spaced , kept as is ,y\n"
              ",\"\",last,\n");
    nd_reader_opts o = {ND_FORMAT_AUTO, NULL, NULL, "when", "src", 0};
    nd_reader *r = open1("c.csv", &o);
    nd_record rec;
    expect(r, &rec, "\"a\"", "one, two \"three\"", 2);
    cr_assert_eq(rec.meta.has_time, 1);
    cr_assert_eq(rec.meta.time, 1709294400);
    cr_assert_eq(rec.source_len, 2);
    cr_assert(memcmp(rec.source, "ap", 2) == 0);
    cr_assert_str_eq(rec.header, "when,id,text,src\r");
    cr_assert_str_eq(rec.raw,
                     "2024-03-01T12:00:00Z,a,\"one, two \"\"three\"\"\",ap\r");
    /* three lines, named by the first; the CRLF inside the quotes stays */
    expect(r, &rec, "@", "first line\r\nsecond line\nthird", 3);
    cr_assert_eq(rec.meta.has_time, 0);
    cr_assert_str_eq(rec.raw, ",,\"first line\r\nsecond line\nthird\",\r");
    expect(r, &rec, "\" spaced \"", " kept as is ", 7);
    expect(r, &rec, "@", "last", 8);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, csv_malformed_records_are_bad_records)
{
    write_str("m.csv", "id,text\n"
                       "a,ok\n"
                       "b,bad\"quote\n"
                       "c,\"closed\"then text\n"
                       "d,\"two\n"
                       "lines\"x\n"
                       "e,one,two\n"
                       "f,fine\n"
                       "g,\"never closed\n"
                       "h,swallowed\n");
    write_str("n.csv", "id,body\n1,x\n");
    write_str("z.csv", "text\nafter\n");
    const char *p[3] = {P("m.csv"), P("n.csv"), P("z.csv")};
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(p, 3, NULL, &r), ND_OK);
    nd_record rec;
    expect(r, &rec, "\"a\"", "ok", 2);
    const char *q = "malformed CSV: a quote in an unquoted field, or text "
                    "after a closing quote";
    char want[256];
    snprintf(want, sizeof want, "m.csv:3: %s", q);
    expect_err(r, ND_ERR_DATA, want);
    snprintf(want, sizeof want, "m.csv:4: %s", q);
    expect_err(r, ND_ERR_DATA, want);
    snprintf(want, sizeof want, "m.csv:5: %s", q);
    expect_err(r, ND_ERR_DATA, want);
    expect_err(r, ND_ERR_DATA, "m.csv:7: 3 columns, the header has 2");
    expect(r, &rec, "\"f\"", "fine", 8);
    expect_err(r, ND_ERR_DATA,
               "m.csv:9: malformed CSV: a quoted field is not closed");
    expect_err(r, ND_ERR_DATA, "n.csv:1: no \"text\" column");
    expect(r, &rec, "@", "after", 2);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, csv_compressed_and_over_the_limit)
{
    write_gz("g.csv.gz", "text,id\n\"a\nb\",1\n\"cccccccccc\ncccccccccc\","
                         "2\nshort,3\n");
    nd_reader_opts o = {ND_FORMAT_AUTO, NULL, NULL, NULL, NULL, 16};
    nd_reader *r = open1("g.csv.gz", &o);
    nd_record rec;
    expect(r, &rec, "\"1\"", "a\nb", 2);
    /* the record of lines 4-5 is over the limit at line 5: read past */
    expect_err(r, ND_ERR_DATA, "g.csv.gz:4: a record longer than 16 bytes");
    expect(r, &rec, "\"3\"", "short", 6);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, text_lines_empty_lines_are_records)
{
    write_str("l.txt", "first\r\n\nthird {\"not\": json}\n\n");
    nd_reader *r = open1("l.txt", NULL);
    nd_record rec;
    expect(r, &rec, "@", "first", 1);
    cr_assert_str_eq(rec.raw, "first\r");
    expect(r, &rec, "@", "", 2);
    expect(r, &rec, "@", "third {\"not\": json}", 3);
    expect(r, &rec, "@", "", 4);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, explicit_format_overrides_extension)
{
    write_str("x.jsonl", "line one\nline two\n");
    nd_reader_opts o = {ND_FORMAT_TEXT, NULL, NULL, NULL, NULL, 0};
    nd_reader *r = open1("x.jsonl", &o);
    nd_record rec;
    expect(r, &rec, "@", "line one", 1);
    expect(r, &rec, "@", "line two", 2);
    expect_end(r);
    nd_reader_close(r);
}

/* ------------------------------------------------------------ compression */

Test(io, gzip_and_zstd_by_magic_bytes)
{
    const char *doc = "{\"id\": \"g\", \"text\": \"gz text\"}\n"
                      "{\"id\": \"h\", \"text\": \"more\"}\n";
    write_gz("a.jsonl.gz", doc);
    write_zst("b.jsonl.zst", doc);
    write_gz("c.jsonl", doc);   /* compressed, name says nothing */
    write_zst("d.data", doc);
    write_gz("e.tsv.gz", "id\ttext\nt1\ttsv in gz\n");
    write_zst("f.txt.zst", "zstd line\n");
    const char *names[] = {"a.jsonl.gz", "b.jsonl.zst", "c.jsonl", "d.data"};
    for (int i = 0; i < 4; i++) {
        nd_reader *r = open1(names[i], NULL);
        nd_record rec;
        expect(r, &rec, "\"g\"", "gz text", 1);
        cr_assert_str_eq(rec.raw, "{\"id\": \"g\", \"text\": \"gz text\"}");
        expect(r, &rec, "\"h\"", "more", 2);
        expect_end(r);
        nd_reader_close(r);
    }
    nd_reader *r = open1("e.tsv.gz", NULL);
    nd_record rec;
    expect(r, &rec, "\"t1\"", "tsv in gz", 2);
    expect_end(r);
    nd_reader_close(r);
    r = open1("f.txt.zst", NULL);
    expect(r, &rec, "@", "zstd line", 1);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, concatenated_members_and_frames)
{
    unsigned char buf[8192];
    write_gz("p1.gz", "{\"text\": \"p1\"}\n");
    write_gz("p2.gz", "{\"text\": \"p2\"}\n");
    size_t n1 = file_bytes("p1.gz", buf, sizeof buf);
    size_t n2 = file_bytes("p2.gz", buf + n1, sizeof buf - n1);
    write_bytes("cat.jsonl.gz", buf, n1 + n2);
    size_t z1 = zst_of("{\"text\": \"z1\"}\n", buf, sizeof buf);
    size_t z2 = zst_of("{\"text\": \"z2\"}", buf + z1, sizeof buf - z1);
    write_bytes("cat.jsonl.zst", buf, z1 + z2);

    nd_reader *r = open1("cat.jsonl.gz", NULL);
    nd_record rec;
    expect(r, &rec, "@", "p1", 1);
    expect(r, &rec, "@", "p2", 2);
    expect_end(r);
    nd_reader_close(r);
    r = open1("cat.jsonl.zst", NULL);
    expect(r, &rec, "@", "z1", 1);
    expect(r, &rec, "@", "z2", 2);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, zero_padding_after_the_last_gzip_member)
{
    unsigned char buf[8192];
    write_gz("p.gz", "{\"text\": \"p1\"}\n");
    size_t n = file_bytes("p.gz", buf, sizeof buf);
    memset(buf + n, 0, 4096);
    write_bytes("pad.jsonl.gz", buf, n + 4096);
    nd_reader *r = open1("pad.jsonl.gz", NULL);
    nd_record rec;
    expect(r, &rec, "@", "p1", 1);
    expect_end(r);
    nd_reader_close(r);
    /* a non-zero byte after the padding is still garbage */
    buf[n + 4095] = 'x';
    write_bytes("junk.jsonl.gz", buf, n + 4096);
    r = open1("junk.jsonl.gz", NULL);
    expect(r, &rec, "@", "p1", 1);
    expect_err(r, ND_ERR_IO, "junk.jsonl.gz: trailing garbage after gzip stream");
    nd_reader_close(r);
}

/* Compressible but not trivially so: 2000 records of varying text. */
static char *many_records(void)
{
    size_t cap = 2000 * 64;
    char *s = malloc(cap), *o = s;
    for (int i = 0; i < 2000; i++)
        o += sprintf(o, "{\"id\": %d, \"text\": \"doc %d %x\"}\n", i, i * 7919,
                     (unsigned)(i * 2654435761u));
    return s;
}

Test(io, truncated_gzip_is_an_io_error)
{
    char *s = many_records();
    write_gz("full.gz", s);
    free(s);
    static unsigned char buf[1 << 17];
    size_t n = file_bytes("full.gz", buf, sizeof buf);
    cr_assert_lt(n, sizeof buf);
    write_bytes("cut.jsonl.gz", buf, n - 20); /* lose the trailer and more */
    nd_reader *r = open1("cut.jsonl.gz", NULL);
    nd_record rec;
    int rc, count = 0;
    while ((rc = nd_reader_next(r, &rec)) == 1)
        count++;
    cr_assert_eq(rc, ND_ERR_IO);
    cr_assert_gt(count, 100);
    cr_assert_lt(count, 2000);
    char want[512];
    snprintf(want, sizeof want, "%s: truncated gzip stream", P("cut.jsonl.gz"));
    cr_assert_str_eq(nd_reader_errmsg(r), want);
    cr_assert_eq(nd_reader_next(r, &rec), ND_ERR_IO); /* sticky */
    nd_reader_close(r);
}

Test(io, truncated_zstd_is_an_io_error)
{
    char *s = many_records();
    size_t cap = ZSTD_compressBound(strlen(s));
    char *z = malloc(cap);
    size_t n = ZSTD_compress(z, cap, s, strlen(s), 3);
    cr_assert(!ZSTD_isError(n));
    write_bytes("cut.jsonl.zst", z, n / 2);
    free(z);
    free(s);
    nd_reader *r = open1("cut.jsonl.zst", NULL);
    nd_record rec;
    int rc, count = 0;
    while ((rc = nd_reader_next(r, &rec)) == 1)
        count++;
    cr_assert_eq(rc, ND_ERR_IO);
    cr_assert_lt(count, 2000);
    char want[512];
    snprintf(want, sizeof want, "%s: truncated zstd stream", P("cut.jsonl.zst"));
    cr_assert_str_eq(nd_reader_errmsg(r), want);
    cr_assert_eq(nd_reader_next(r, &rec), ND_ERR_IO);
    nd_reader_close(r);
}

Test(io, corrupt_gzip_reports_zlib_message)
{
    write_gz("ok.gz", "{\"text\": \"hello hello hello\"}\n");
    unsigned char buf[512];
    size_t n = file_bytes("ok.gz", buf, sizeof buf);
    buf[n - 8] ^= 0xff; /* the CRC-32 in the trailer */
    write_bytes("bad.gz", buf, n);
    nd_reader *r = open1("bad.gz", NULL);
    nd_record rec;
    cr_assert_eq(nd_reader_next(r, &rec), ND_ERR_IO);
    char want[512];
    snprintf(want, sizeof want, "%s: incorrect data check", P("bad.gz"));
    cr_assert_str_eq(nd_reader_errmsg(r), want);
    nd_reader_close(r);
}

/* --------------------------------------------------------- paths, stdin */

Test(io, missing_file_fails_at_open)
{
    write_str("one.jsonl", "{\"text\": \"a\"}\n");
    write_str("two.jsonl", "{\"text\": \"b\"}\n");
    const char *p[3] = {P("one.jsonl"), P("two.jsonl"), P("nope.jsonl")};
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(p, 3, NULL, &r), ND_ERR_IO);
    cr_assert_not_null(r);
    char want[512];
    snprintf(want, sizeof want, "%s: No such file or directory",
             P("nope.jsonl"));
    cr_assert_str_eq(nd_reader_errmsg(r), want);
    nd_record rec;
    cr_assert_eq(nd_reader_next(r, &rec), ND_ERR_IO);
    nd_reader_close(r);
}

Test(io, file_deleted_after_open_fails_at_next)
{
    write_str("one.jsonl", "{\"text\": \"a\"}\n");
    write_str("two.jsonl", "{\"text\": \"b\"}\n");
    const char *p[2] = {P("one.jsonl"), P("two.jsonl")};
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(p, 2, NULL, &r), ND_OK);
    cr_assert_eq(unlink(P("two.jsonl")), 0);
    nd_record rec;
    expect(r, &rec, "@", "a", 1);
    expect_err(r, ND_ERR_IO, "two.jsonl: No such file or directory");
    cr_assert_eq(nd_reader_next(r, &rec), ND_ERR_IO);
    nd_reader_close(r);
}

Test(io, several_paths_in_order)
{
    write_str("b.jsonl", "{\"text\": \"b1\"}\n{\"text\": \"b2\"}\n");
    write_str("a.txt", "a1\n");
    const char *p[3] = {P("b.jsonl"), P("a.txt"), P("b.jsonl")};
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(p, 3, NULL, &r), ND_OK);
    nd_record rec;
    expect(r, &rec, "@", "b1", 1);
    cr_assert_str_eq(rec.file, p[0]);
    expect(r, &rec, "@", "b2", 2);
    expect(r, &rec, "@", "a1", 1);
    cr_assert_str_eq(rec.file, p[1]);
    expect(r, &rec, "@", "b1", 1);
    expect(r, &rec, "@", "b2", 2);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, stdin_gzip_read_as_jsonl)
{
    write_gz("in.gz", "{\"id\": \"s\", \"text\": \"from stdin\"}\n");
    int fd = open(P("in.gz"), O_RDONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(NULL, 0, NULL, &r), ND_OK);
    nd_record rec;
    expect(r, &rec, "\"s\"", "from stdin", 1);
    cr_assert_str_eq(rec.file, "-");
    expect_end(r);
    nd_reader_close(r);
}

Test(io, bad_parameters)
{
    nd_reader *r = (nd_reader *)1;
    nd_reader_opts o = {(nd_format)9, NULL, NULL, NULL, NULL, 0};
    const char *p = "-";
    cr_assert_eq(nd_reader_open(&p, 1, &o, &r), ND_ERR_PARAM);
    cr_assert_null(r);
    cr_assert_eq(nd_reader_open(NULL, 1, NULL, &r), ND_ERR_PARAM);
    cr_assert_eq(nd_reader_open(&p, 1, NULL, NULL), ND_ERR_PARAM);
    nd_reader_close(NULL);
}

/* ------------------------------------------------------------ directories */

Test(io, directory_walk_order_ids_binary_and_compression)
{
    cr_assert_eq(mkdir(P("d"), 0755), 0);
    cr_assert_eq(mkdir(P("d/a"), 0755), 0);
    cr_assert_eq(mkdir(P("d/.git"), 0755), 0);
    write_str("d/b.txt", "bee\n");
    write_str("d/a.txt", "ay");
    write_str("d/a/z.md", "zed");
    write_bytes("d/a/bin.dat", "ab\0cd", 5);
    write_gz("d/c.gz", "gz \"content\"");
    write_str("d/.hidden", "no");
    write_str("d/.git/config", "no");
    write_str("d/q\"e.txt", "quote");
    cr_assert_eq(symlink(P("d/b.txt"), P("d/link.txt")), 0);
    const char *p = P("d/");
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(&p, 1, NULL, &r), ND_OK);
    nd_record rec;
    /* Bytewise path order: '.' (2e) < '/' (2f), so a.txt before a/... */
    expect(r, &rec, "\"a.txt\"", "ay", 1);
    cr_assert_str_eq(rec.file, P("d/a.txt"));
    cr_assert_str_eq(rec.raw, "ay");
    expect_err(r, ND_ERR_BINARY, "d/a/bin.dat: binary file skipped");
    expect(r, &rec, "\"a/z.md\"", "zed", 1);
    expect(r, &rec, "\"b.txt\"", "bee\n", 1);
    expect(r, &rec, "\"c.gz\"", "gz \"content\"", 1);
    expect(r, &rec, "\"q\\\"e.txt\"", "quote", 1);
    expect_end(r);
    nd_reader_close(r);
}

Test(io, directory_binary_probe_is_after_decompression)
{
    cr_assert_eq(mkdir(P("d"), 0755), 0);
    char *big = malloc(20000);
    memset(big, 'x', 20000);
    big[9000] = '\0'; /* past the 8 KiB probe: text with a NUL */
    write_bytes("d/late.txt", big, 20000);
    free(big);
    gzFile g = gzopen(P("d/zbin.gz"), "wb");
    gzwrite(g, "a\0b", 3);
    gzclose(g);
    const char *p = P("d");
    nd_reader *r = NULL;
    cr_assert_eq(nd_reader_open(&p, 1, NULL, &r), ND_OK);
    nd_record rec;
    cr_assert_eq(nd_reader_next(r, &rec), 1);
    cr_assert_str_eq(rec.id, "\"late.txt\"");
    cr_assert_eq(rec.text_len, 20000);
    cr_assert_eq(rec.text[9000], '\0');
    cr_assert_eq(rec.text[19999], 'x');
    expect_err(r, ND_ERR_BINARY, "d/zbin.gz: binary file skipped");
    expect_end(r);
    nd_reader_close(r);
}

/* -------------------------------------------------------------- long line */

Test(io, fifty_megabyte_line)
{
    size_t n = 50u << 20;
    const char *head = "{\"id\": \"big\", \"text\": \"";
    const char *tail = "\"}\n{\"text\": \"after\"}\n";
    FILE *f = fopen(P("big.jsonl"), "wb");
    cr_assert_not_null(f);
    fputs(head, f);
    char *chunk = malloc(1 << 20);
    for (size_t i = 0; i < (1u << 20); i++)
        chunk[i] = (char)('a' + i % 26);
    for (size_t k = 0; k < n >> 20; k++)
        fwrite(chunk, 1, 1 << 20, f);
    free(chunk);
    fputs(tail, f);
    fclose(f);
    nd_reader *r = open1("big.jsonl", NULL);
    nd_record rec;
    cr_assert_eq(nd_reader_next(r, &rec), 1, "%s", nd_reader_errmsg(r));
    cr_assert_str_eq(rec.id, "\"big\"");
    cr_assert_eq(rec.text_len, n);
    cr_assert_eq(rec.text[0], 'a');
    cr_assert_eq(rec.text[n - 1], (char)('a' + ((1u << 20) - 1) % 26));
    cr_assert_eq(rec.raw_len, n + strlen(head) + 2);
    expect(r, &rec, "@", "after", 2);
    expect_end(r);
    nd_reader_close(r);
}

/* A line over max_record_bytes is a bad record named by file and line; the
 * reader goes on after it, in plain and compressed input, at the end of a
 * file, for a TSV header and for a directory entry. */
Test(io, records_over_the_limit_are_bad_records)
{
    char big[301];
    memset(big, 'x', 300);
    big[300] = '\0';
    char in[2048];
    snprintf(in, sizeof in,
             "{\"id\": 1, \"text\": \"short\"}\n"
             "{\"id\": 2, \"text\": \"%s\"}\n"
             "{\"id\": 3, \"text\": \"%.78s\"}\r\n" /* 100 bytes with CR */
             "{\"id\": 4, \"text\": \"after\"}\n"
             "%s", big, big, big); /* unterminated, over the limit */
    write_str("l.jsonl", in);
    write_gz("l.jsonl.gz", in);
    nd_reader_opts o = {ND_FORMAT_AUTO, NULL, NULL, NULL, NULL, 100};
    const char *names[] = {"l.jsonl", "l.jsonl.gz"};
    for (int k = 0; k < 2; k++) {
        nd_reader *r = open1(names[k], &o);
        nd_record rec;
        char msg[128];
        expect(r, &rec, "1", "short", 1);
        snprintf(msg, sizeof msg, "%s:2: a record longer than 100 bytes",
                 names[k]);
        expect_err(r, ND_ERR_DATA, msg);
        expect(r, &rec, "3", big + 222, 3);
        cr_assert_eq(rec.raw_len, 100);
        expect(r, &rec, "4", "after", 4);
        snprintf(msg, sizeof msg, "%s:5: a record longer than 100 bytes",
                 names[k]);
        expect_err(r, ND_ERR_DATA, msg);
        expect_end(r);
        nd_reader_close(r);
    }
    /* A TSV header over the limit: the file cannot be read. */
    write_str("h.tsv", "id\ttext\tsome rather long column names here\n"
                       "a\tb\tc\n");
    write_str("ok.tsv", "id\ttext\na\tb\n");
    const char *p[] = {P("h.tsv"), P("ok.tsv")};
    nd_reader *r;
    o.max_record_bytes = 20;
    cr_assert_eq(nd_reader_open(p, 2, &o, &r), ND_OK);
    nd_record rec;
    expect_err(r, ND_ERR_DATA, "h.tsv:1: a record longer than 20 bytes");
    expect(r, &rec, "\"a\"", "b", 2);
    expect_end(r);
    nd_reader_close(r);
    /* A directory entry over the limit is skipped whole. */
    cr_assert_eq(mkdir(P("d"), 0755), 0);
    write_str("d/a.txt", "a short story");
    write_str("d/b.txt", big);
    write_str("d/c.txt", "another");
    const char *d = P("d");
    o.max_record_bytes = 100;
    cr_assert_eq(nd_reader_open(&d, 1, &o, &r), ND_OK);
    expect(r, &rec, "\"a.txt\"", "a short story", 1);
    expect_err(r, ND_ERR_DATA, "d/b.txt: a document longer than 100 bytes");
    expect(r, &rec, "\"c.txt\"", "another", 1);
    expect_end(r);
    nd_reader_close(r);
}

/* ------------------------------------------------------------------- time */

/* Whether each record of path has a time, and which, line by line. */
typedef struct { int has; int64_t t; } time_want;
static void expect_times(const char *path, const nd_reader_opts *o,
                         const time_want *want, size_t n)
{
    nd_reader *r = open1(path, o);
    nd_record rec;
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(nd_reader_next(r, &rec), 1);
        cr_assert_eq(rec.meta.has_time, want[i].has, "line %zu", i + 1);
        if (want[i].has)
            cr_assert_eq(rec.meta.time, want[i].t, "line %zu: %lld", i + 1,
                         (long long)rec.meta.time);
    }
    expect_end(r);
    nd_reader_close(r);
}

Test(io, time_field)
{
    write_str("t.jsonl",
              "{\"text\": \"a\", \"ts\": \"2024-03-01T12:00:00Z\"}\n"
              "{\"text\": \"b\", \"ts\": \"2024-03-01T14:00:00+02:00\"}\n"
              "{\"text\": \"c\", \"ts\": \"2024-03-01\"}\n"
              "{\"text\": \"d\", \"ts\": 1700000000}\n"
              "{\"text\": \"e\", \"ts\": 1700000000.9}\n"
              "{\"text\": \"f\", \"ts\": \"yesterday\"}\n"
              "{\"text\": \"g\"}\n"
              "{\"text\": \"h\", \"ts\": \"2024-02-29T23:59:59.250z\"}\n"
              "{\"text\": \"i\", \"ts\": \"2023-02-29\"}\n"
              "{\"text\": \"j\", \"ts\": \"1970-01-01T00:30:00+0130\"}\n"
              "{\"text\": \"k\", \"ts\": \"1900-01-01 00:00:00\"}\n"
              "{\"text\": \"l\", \"ts\": \"2024-03-01T25:00:00Z\"}\n"
              "{\"text\": \"m\", \"ts\": \"2024-03-01T12:00:00Zjunk\"}\n"
              "{\"text\": \"n\", \"ts\": \"-3600\"}\n");
    static const time_want want[] = {
        {1, 1709294400}, {1, 1709294400}, {1, 1709251200}, {1, 1700000000},
        {1, 1700000000}, {0, 0},          {0, 0},          {1, 1709251199},
        {0, 0},          {1, -3600},      {1, -2208988800}, {0, 0},
        {0, 0},          {1, -3600}};
    nd_reader_opts o = {ND_FORMAT_AUTO, NULL, NULL, "ts", NULL, 0};
    expect_times("t.jsonl", &o, want, sizeof want / sizeof want[0]);
}

/* A time of seconds as text covers every int64: the least one was refused
   (its magnitude is one more than the greatest). */
Test(io, time_text_integers_at_the_int64_limits)
{
    write_str("t.jsonl",
              "{\"text\": \"a\", \"ts\": \"-9223372036854775808\"}\n"
              "{\"text\": \"b\", \"ts\": \"9223372036854775807\"}\n"
              "{\"text\": \"c\", \"ts\": \"+9223372036854775807\"}\n"
              "{\"text\": \"d\", \"ts\": \"9223372036854775808\"}\n"
              "{\"text\": \"e\", \"ts\": \"-9223372036854775809\"}\n"
              "{\"text\": \"f\", \"ts\": \"-0\"}\n");
    static const time_want want[] = {
        {1, INT64_MIN}, {1, INT64_MAX}, {1, INT64_MAX}, {0, 0}, {0, 0}, {1, 0}};
    nd_reader_opts o = {.format = ND_FORMAT_AUTO, .time_field = "ts"};
    expect_times("t.jsonl", &o, want, sizeof want / sizeof want[0]);
}

Test(io, time_column_in_tsv)
{
    write_str("t.tsv", "when\ttext\n2024-03-01T12:00:00Z\ta\nnever\tb\n");
    nd_reader_opts o = {ND_FORMAT_AUTO, NULL, NULL, "when", NULL, 0};
    nd_reader *r = open1("t.tsv", &o);
    nd_record rec;
    expect(r, &rec, "@", "a", 2);
    cr_assert_eq(rec.meta.has_time, 1);
    cr_assert_eq(rec.meta.time, 1709294400);
    expect(r, &rec, "@", "b", 3);
    cr_assert_eq(rec.meta.has_time, 0);
    expect_end(r);
    nd_reader_close(r);
}
