#!/usr/bin/env python3
"""datasketch_peer.py - cluster a JSONL corpus with datasketch, as neardup does.

    datasketch_peer.py --datasketch SRC_DIR [--threshold T] [--ngram N]
                       [--num-perm K] [--seed S] [--bands B --rows R]
                       CORPUS.jsonl|- > clusters.jsonl

The reference point for neardup's speed and accuracy: the same pipeline built
from datasketch's MinHash and MinHashLSH, the way its users write it.

  normalize  NFKC, case folding, apostrophes deleted, every character that is
             not a letter, mark or digit separates tokens (neardup's rules,
             with Python's unicodedata instead of utf8proc)
  shingle    word n-grams, the n tokens joined by one space, UTF-8; a text of
             fewer than n tokens (but at least one) is one shingle
  sketch     MinHash(num_perm=K, seed=S).update_batch(shingles) (SHA-1 of
             each shingle, K universal-hash permutations); every MinHash is a
             copy() of one empty template, as MinHash.bulk/generator do, so
             the K permutations are drawn once, not once per document
  LSH        MinHashLSH(threshold=T, num_perm=K): bands and rows chosen by
             datasketch's own optimiser, or given (--bands B --rows R, passed
             as params=(B, R)); each document queries the index, then
             is inserted, so each candidate pair is seen once
  verify     a candidate joins when MinHash.jaccard (estimated) >= T
  cluster    union-find; cluster numbers 0, 1, ... in order of first member

A text with no token has no shingle; it is left a singleton (an empty MinHash
would match every other empty one).  Output: one {"id": ..., "cluster": N}
per input record, in input order; ids are echoed as given, a record without
one gets its 1-based line number.  stderr: documents, seconds from the first
read to the finished clusters (Python and datasketch start-up excluded), and
docs/s.

Exit: 0 ok, 1 usage, 2 unreadable corpus, 3 datasketch cannot be imported
from SRC_DIR, 65 a malformed record.
"""

import argparse
import itertools
import json
import os
import re
import sys
import time
import unicodedata

EXIT_USAGE, EXIT_IO, EXIT_NO_DATASKETCH, EXIT_DATA = 1, 2, 3, 65

# ' and its typographic forms; NFKC has already folded U+FF07 into '.
APOSTROPHES = {ord(c): None for c in "'\u2018\u2019\u201b\u02bc"}


def mark_class():
    """A regex character class of every combining mark (categories M*).

    Marks live below U+30000 and in U+E0100..U+E01EF (variation selectors).
    """
    ranges, start, prev = [], None, None
    for cp in itertools.chain(range(0x30000), range(0xE0000, 0xE0200)):
        if unicodedata.category(chr(cp)).startswith("M"):
            if start is None:
                start = cp
            elif cp != prev + 1:
                ranges.append((start, prev))
                start = cp
            prev = cp
    if start is not None:
        ranges.append((start, prev))
    return "".join("\\U%08x-\\U%08x" % r for r in ranges)


# Letters and digits are str.isalnum() ([^\W_] in re); marks are added.
TOKEN = re.compile("(?:[^\\W_]|[%s])+" % mark_class())


def tokens(text):
    text = unicodedata.normalize("NFKC", text).casefold()
    return TOKEN.findall(text.translate(APOSTROPHES))


def shingles(toks, n):
    if not toks:
        return []
    if len(toks) <= n:
        return [" ".join(toks).encode("utf-8")]
    return list({" ".join(toks[i:i + n]).encode("utf-8")
                 for i in range(len(toks) - n + 1)})


def import_datasketch(src):
    """The datasketch package in src (src/datasketch/__init__.py), or exit 3."""
    where = src if src else "(no --datasketch given)"

    def skip(why):
        print("datasketch not found at %s%s; skipping"
              % (where, " (%s)" % why if why else ""), file=sys.stderr)
        sys.exit(EXIT_NO_DATASKETCH)

    if not src or not os.path.isfile(os.path.join(src, "datasketch",
                                                  "__init__.py")):
        skip(None)
    src = os.path.abspath(src)
    sys.path.insert(0, src)
    try:
        import datasketch
    except ImportError as e:
        skip(str(e))
    found = os.path.dirname(os.path.abspath(datasketch.__file__ or ""))
    if found != os.path.join(src, "datasketch"):
        skip("another datasketch was imported: %s" % found)
    if not all(hasattr(datasketch, a) for a in ("MinHash", "MinHashLSH")):
        skip("no MinHash or MinHashLSH in it")
    return datasketch


def read_corpus(path, id_field, text_field):
    """[(id JSON text, text)], or exit 2 / 65."""
    docs = []
    try:
        f = sys.stdin if path == "-" else open(path, encoding="utf-8",
                                               errors="replace")
    except OSError as e:
        print("datasketch_peer: %s: %s" % (path, e.strerror), file=sys.stderr)
        sys.exit(EXIT_IO)
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as e:
                print("datasketch_peer: %s:%d: not JSON: %s" % (path, lineno, e),
                      file=sys.stderr)
                sys.exit(EXIT_DATA)
            if not isinstance(rec, dict):
                print("datasketch_peer: %s:%d: not a JSON object"
                      % (path, lineno), file=sys.stderr)
                sys.exit(EXIT_DATA)
            text = rec.get(text_field)
            if not isinstance(text, str):
                print("datasketch_peer: %s:%d: no text field \"%s\""
                      % (path, lineno, text_field), file=sys.stderr)
                sys.exit(EXIT_DATA)
            doc_id = rec.get(id_field, lineno)
            docs.append((json.dumps(doc_id, ensure_ascii=False), text))
    return docs


def cluster(docs, ds, threshold, ngram, num_perm, seed, layout, stats):
    """Cluster number of each document (0, 1, ... by first member)."""
    n = len(docs)
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    lsh = ds.MinHashLSH(threshold=threshold, num_perm=num_perm, params=layout)
    stats["bands"], stats["rows"] = lsh.b, lsh.r
    template = ds.MinHash(num_perm=num_perm, seed=seed)
    sketches = [None] * n
    candidates = edges = 0
    for i, (_, text) in enumerate(docs):
        sh = shingles(tokens(text), ngram)
        if not sh:
            continue
        m = template.copy()
        m.update_batch(sh)
        for j in lsh.query(m):
            candidates += 1
            if m.jaccard(sketches[j]) >= threshold:
                edges += 1
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        lsh.insert(i, m)
        sketches[i] = m
    stats["candidates"], stats["edges"] = candidates, edges

    number, out = {}, []
    for i in range(n):
        out.append(number.setdefault(find(i), len(number)))
    return out


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print("%s: %s" % (self.prog, message), file=sys.stderr)
        sys.exit(EXIT_USAGE)


def main():
    ap = Parser(
        description="Cluster a JSONL corpus with datasketch MinHash + LSH.")
    ap.add_argument("--datasketch", metavar="SRC_DIR",
                    help="a datasketch source tree (holding datasketch/)")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--ngram", type=int, default=3)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bands", type=int, default=0)
    ap.add_argument("--rows", type=int, default=0)
    ap.add_argument("--id-field", default="id")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--check", action="store_true",
                    help="only check that datasketch can be imported")
    ap.add_argument("corpus", nargs="?", metavar="CORPUS.jsonl")
    args = ap.parse_args()
    if not args.check and args.corpus is None:
        ap.error("no corpus given")
    if not 0.0 < args.threshold <= 1.0 or args.ngram < 1 or args.num_perm < 2:
        ap.error("need 0 < threshold <= 1, ngram >= 1, num-perm >= 2")
    if (args.bands > 0) != (args.rows > 0) or args.bands * args.rows > args.num_perm:
        ap.error("--bands and --rows go together, bands * rows <= num-perm")
    layout = (args.bands, args.rows) if args.bands > 0 else None

    ds = import_datasketch(args.datasketch)
    if args.check:
        print("datasketch %s at %s" % (getattr(ds, "__version__", "?"),
                                       os.path.dirname(ds.__file__)))
        return 0

    t0 = time.perf_counter()
    docs = read_corpus(args.corpus, args.id_field, args.text_field)
    stats = {}
    labels = cluster(docs, ds, args.threshold, args.ngram, args.num_perm,
                     args.seed, layout, stats)
    seconds = time.perf_counter() - t0

    out = sys.stdout
    for (doc_id, _), c in zip(docs, labels):
        out.write('{"id": %s, "cluster": %d}\n' % (doc_id, c))
    out.flush()
    n = len(docs)
    print("datasketch: %d docs, %d clusters, %d candidates, %d edges, "
          "%d bands x %d rows; %.3f s, %.0f docs/s"
          % (n, len(set(labels)), stats["candidates"], stats["edges"],
             stats["bands"], stats["rows"], seconds,
             n / seconds if seconds > 0 else 0.0), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
