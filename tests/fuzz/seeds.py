#!/usr/bin/env python3
"""seeds.py - write the seed corpora of the fuzz targets (tests/fuzz/corpus/).

Each seed is a small input in the target's own framing (README.md): for most
targets a first byte of settings, then the data.  The index seeds are real
index directories made by the command (neardup index add), so the command
must be built: seeds.py [BUILD_DIR], default build.
"""
import gzip, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


JSONL = (b'{"id": "a1", "text": "Stocks fell 2.5% on Tuesday.", "time": "2024-03-02T10:00:00Z", "source": "AP"}\n'
         b'\n'
         b'{"id": 7, "text": "caf\\u00e9 \\"quoted\\" \\ud83d\\ude00", "time": 1709373600}\n'
         b'{"text": "no id", "time": 1.5e3}\r\n'
         b'{"id": "bad", "text": 5}\n'
         b'not json\n'
         b'   \n'
         b'{"id": null, "text": "\xc3\xa9t\xc3\xa9 \xff bad byte"}')
TSV = (b'id\ttext\ttime\tsource\n'
       b'a1\tStocks fell\\tsharply\\non Tuesday\t2024-03-02 10:00\tAP\n'
       b'\n'
       b'a2\tshort row\n'
       b'a3\tcaf\xc3\xa9\t-5\tReuters\r\n')
TEXT = (b'\xef\xbb\xbfFirst line of text\n'
        b'\n'
        b'Second line, with a tab\tand CR\r\n'
        b'last line without newline')

# reader: format byte 0 JSONL, 1 TSV, 2 text, 3 CSV; +4 time field, +8 source field
put("fuzz_reader", "jsonl", b"\x0c" + JSONL)
put("fuzz_reader", "jsonl-plain", b"\x00" + JSONL.split(b"\n")[0] + b"\n")
put("fuzz_reader", "tsv", b"\x0d" + TSV)
put("fuzz_reader", "tsv-noheader", b"\x01" + b"id\tbody\nx\ty\n")
put("fuzz_reader", "text", b"\x02" + TEXT)
put("fuzz_reader", "csv", b"\x0f" + b'id,text,time,source\r\n'
    b'1,"A ""quoted"" story,\nover two lines",2026-12-07T00:00:00Z,ap\r\n'
    b'\r\n2,plain,1765065600,"x"\n"3","bad"x,,\n4,"open')
put("fuzz_reader", "gzip", b"\x04" + gzip.compress(JSONL[:120]))

# compress: the same framing, compressed by the harness
put("fuzz_compress", "jsonl", b"\x04" + JSONL)
put("fuzz_compress", "tsv", b"\x2d" + TSV)
put("fuzz_compress", "text", b"\x1a" + TEXT)

# jsonscan: first byte picks the member names, then one line
for i, line in enumerate([
        b'{"text": "a b c", "id": "x1", "time": 12}',
        b'{"id": -0, "text": "\\u00e9\\n", "a": [1, {"b": null}], "": true}',
        b'{"text": "dup", "text": "second", "time": 1e3}',
        b'{"id": 123456789012345678901, "text": "big"}',
        b'{"text":"\\ud800"}',
        b' { "time" : "2024-01-01" , "text" : "" } ']):
    put("fuzz_jsonscan", "line%d" % i, bytes([i * 37 % 256]) + line)

# normalize: first byte: shingle kind (0 word, 1 char, 2 glyph), +4 strict
for i, (b, t) in enumerate([
        (0, "Hello, World!  It\u2019s \u201cquoted\u201d \u2014 and ALL CAPS."),
        (1, "\uff26\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 \ufb01 \u00bd \u2460"),
        (2, "Tbe rn0dern 1ife of c0ws; I'll pay $1,250.50 on 2024-03-02."),
        (4, "Stra\u00dfe \u0130stanbul \u03a3\u0399\u03a3\u03a5\u03a6\u039f\u03a3 e\u0301"),
        (6, "\u0645\u0631\u062d\u0628\u0627 \u4f60\u597d\u4e16\u754c \U0001f600 zero\u200bwidth")]):
    put("fuzz_normalize", "text%d" % i, bytes([b]) + t.encode())
put("fuzz_normalize", "badutf8", b"\x04caf\xc3 \xed\xa0\x80 \xf4\x90\x80\x80 ok")

# time: the string, and 8 bytes of instant + 4 of spelling
for i, s in enumerate(["2024-03-02T10:00:00Z", "2024-02-29 23:59:60.5+05:30",
                       "1970-01-01t00:00z", "-62135596800", "0000-01-01",
                       "9999-12-31T23:59:59-0800", "2023-06-15T12:00+02"]):
    put("fuzz_time", "str%d" % i, s)
put("fuzz_time", "instant", (1709373600).to_bytes(8, "little") + b"\x0d\x12\x34\x56")

# options: first byte the command (0 cluster, 1 dedup, 2 pairs), then
# arguments separated by NUL bytes
for i, (c, args) in enumerate([
        (0, ["--threshold", "0.6", "--ngram", "3", "a.jsonl", "-"]),
        (2, ["--explain", "--exact", "--num-perm=64", "--bands", "16", "--rows",
             "4", "--sketch", "kperm", "--seed", "18446744073709551615", "x"]),
        (1, ["--keep", "source", "--source-priority", "p.txt", "--time-field",
             "t", "--window", "72h", "--memory", "600M", "-qo", "out.jsonl", "--", "-x"]),
        (0, ["--format", "tsv", "--id-field", "", "--char-ngram", "5", "--strict",
             "--skip-bad", "--stats", "--threads", "0", "--cluster", "guarded",
             "--containment", "0", "--figures", "0.5", "--boilerplate", "0"]),
        (0, ["--thr", "1.5", "--bogus", "-z", "--glyph-ngram", "9"])]):
    put("fuzz_options", "argv%d" % i, bytes([c]) + b"\0".join(a.encode() for a in args))


def index_seeds(build):
    cli = os.path.join(build, "neardup")
    tmp = tempfile.mkdtemp()
    try:
        docs = os.path.join(tmp, "d.jsonl")
        with open(docs, "wb") as f:
            f.write(b'{"id": "a", "text": "The bank raised its rate by a quarter point.", "time": 100}\n'
                    b'{"id": "b", "text": "The bank raised its key rate by a quarter point on Tuesday.", "time": 200}\n'
                    b'{"id": 3, "text": "Shr 21 cts vs 18 cts Net 4.5 mln vs 3.9 mln", "time": 300}\n')
        ix = os.path.join(tmp, "ix")
        base = [cli, "index", "add", "--index", ix, "-q", "--num-perm", "8",
                "--bands", "4", "--rows", "2"]
        subprocess.run(base + [docs], check=True, stdout=subprocess.DEVNULL)

        def read(name):
            p = os.path.join(ix, name)
            return open(p, "rb").read() if os.path.exists(p) else b""
        def put_ix(name, flags, data):
            # as made, and with bit 1: the harness rewrites the checksums
            put("fuzz_index", name, bytes([flags]) + data)
            put("fuzz_index", name + "-sums", bytes([flags | 2]) + data)
        put_ix("after-add", 1, read("index.nds") + read("index.wal"))
        subprocess.run([cli, "index", "evict", "--index", ix, "--before", "150"],
                       check=True, stdout=subprocess.DEVNULL)
        put_ix("after-evict", 0, read("index.nds") + read("index.wal"))
        put_ix("log-only", 0, read("index.wal"))
    finally:
        shutil.rmtree(tmp)


index_seeds(sys.argv[1] if len(sys.argv) > 1 else "build")
