#!/bin/sh
# Checks of the corpus generator: same seed -> same bytes, corpus and truth
# agree line by line, every line is valid JSON with the documented fields,
# one unedited "wire" copy per cluster, reprints dated 0-72 h after it,
# no two originals that are the same story, usage errors exit 1, and the
# committed sample regenerates byte for byte.  The page presets (pages,
# digest) are checked against their labelling rules instead of the
# one-wire-copy invariants (see pagerules below).
#
# usage: datasets/check-gen.sh [path/to/ndgen]   (run from anywhere)
# REUTERS=path/to/reuters21578.jsonl.gz adds a Reuters run; skipped when absent.

cd "$(dirname "$0")/.." || exit 2
NDGEN=${1:-build/ndgen}
REUTERS=${REUTERS:-../shared/datasets/reuters21578/reuters21578.jsonl.gz}
T=$(mktemp -d) || exit 2
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "gen: FAIL: $*" >&2; }
check() { # description, command...
    d=$1
    shift
    if "$@" >"$T/out" 2>&1; then ok; else bad "$d"; sed 's/^/    /' "$T/out" >&2; fi
}

if [ ! -x "$NDGEN" ]; then
    echo "gen: $NDGEN not built (make gen)" >&2
    exit 2
fi

# validate CORPUS TRUTH DOCS [pages]: structure and the invariants of the
# truth; with "pages" (the page presets) clusters may have no wire copy or
# several (a write-thru segment), and every truth line names its kind
validate() {
    python3 - "$1" "$2" "$3" "${4:-}" <<'EOF'
import json, sys, datetime
corpus, truth, want, pages = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "pages"
KINDS = {"story", "big", "gallery", "stub", "digest", "brief", "writethru"}
def parse(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                out.append(json.loads(line))
            except ValueError as e:
                sys.exit("%s:%d: %s" % (path, n, e))
    return out
docs, tr = parse(corpus), parse(truth)
if want and len(docs) != want:
    sys.exit("%d documents, wanted %d" % (len(docs), want))
if len(docs) != len(tr):
    sys.exit("corpus has %d lines, truth %d" % (len(docs), len(tr)))
width = len(docs[0]["id"]) if docs else 0
wire, times, hn = {}, {}, {}
for i, (d, t) in enumerate(zip(docs, tr), 1):
    if sorted(d) != ["id", "published", "source", "text"]:
        sys.exit("line %d: fields %s" % (i, sorted(d)))
    if d["id"] != t["id"] or d["id"] != "d%0*d" % (width - 1, i):
        sys.exit("line %d: id %s / truth %s" % (i, d["id"], t["id"]))
    if not isinstance(d["text"], str) or not d["text"].strip():
        sys.exit("line %d: empty text" % i)
    c = t["cluster"]
    if not isinstance(c, int) or c < 0:
        sys.exit("line %d: cluster %r" % (i, c))
    if t.get("hardneg"):
        if t.get("template") not in ("earnings", "commodity", "sports", "weather"):
            sys.exit("line %d: template %r" % (i, t.get("template")))
        if hn.setdefault(c, t["template"]) != t["template"]:
            sys.exit("line %d: cluster %d mixes templates" % (i, c))
    elif "template" in t:
        sys.exit("line %d: template without hardneg" % i)
    ts = datetime.datetime.strptime(d["published"], "%Y-%m-%dT%H:%M:%SZ")
    if pages:
        if t.get("kind") not in KINDS:
            sys.exit("line %d: kind %r" % (i, t.get("kind")))
        continue
    if "kind" in t:
        sys.exit("line %d: kind in a classic preset" % i)
    times.setdefault(c, []).append(ts)
    if d["source"] == "wire":
        if c in wire:
            sys.exit("cluster %d has two wire copies" % c)
        wire[c] = ts
missing = set(times) - set(wire)
if missing:
    sys.exit("clusters without a wire copy: %s" % sorted(missing)[:5])
for c, ts in times.items():
    for x in ts:
        h = (x - wire[c]).total_seconds() / 3600
        if not 0 <= h <= 72:
            sys.exit("cluster %d: reprint %.1f h after the wire copy" % (c, h))
EOF
}

# distinct CORPUS TRUTH: no two originals (source "wire", hard negatives aside)
# are the same story by ndgen's rule on word 3-gram sets: Jaccard >= 0.5 or
# containment |A n B| / min(|A|, |B|) >= 0.8.  Computed here exactly, without
# ndgen's cap on frequent shingles: a prefix filter over the rarest shingles.
distinct() {
    python3 - "$1" "$2" <<'EOF'
import json, re, sys
from collections import defaultdict
APOS = re.compile("['`\u2018\u2019]")
TOK = re.compile("[A-Za-z0-9]+")
def shingles(text):
    toks = [t.lower() for t in TOK.findall(APOS.sub("", text))]
    if len(toks) < 3:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i:i + 3]) for i in range(len(toks) - 2)}
sets = []
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], encoding="utf-8") as g:
    for line, tline in zip(f, g):
        d, t = json.loads(line), json.loads(tline)
        if d["source"] == "wire" and not t.get("hardneg"):
            sets.append((d["id"], shingles(d["text"])))
if len(sets) < 2:
    sys.exit("%d originals" % len(sets))
df, post = defaultdict(int), defaultdict(list)
for k, (_, s) in enumerate(sets):
    for x in s:
        df[x] += 1
        post[x].append(k)
# J >= 0.5 and C >= 0.8 both imply |A n B| >= 2/3 min(|A|, |B|): such a pair
# shares one of the |A| - ceil(2|A|/3) + 1 rarest shingles of its smaller set A.
same = []
for k, (_, a) in enumerate(sets):
    for x in sorted(a, key=lambda x: (df[x], x))[:len(a) - (2 * len(a) + 2) // 3 + 1]:
        for j in post[x]:
            b = sets[j][1]
            if j == k or len(b) < len(a) or (len(b) == len(a) and j < k):
                continue
            inter = len(a & b)
            if 2 * inter >= len(a) + len(b) - inter or 5 * inter >= 4 * len(a):
                same.append("%s %s: J %.3f, C %.3f" % (sets[k][0], sets[j][0],
                            inter / (len(a) + len(b) - inter), inter / len(a)))
if same:
    sys.exit("same story twice: " + "; ".join(sorted(set(same))[:5]))
EOF
}

# pagerules CORPUS TRUTH: the labelling rules of the page presets, checked
# from the files (the truth names each document's kind and the clusters
# whose text it borrows).
pagerules() {
    python3 - "$1" "$2" <<'EOF'
import json, re, sys
from collections import defaultdict
APOS = re.compile("['`\u2018\u2019]")
TOK = re.compile("[A-Za-z0-9]+")
def shingles(text):
    toks = [t.lower() for t in TOK.findall(APOS.sub("", text))]
    return {tuple(toks[i:i + 3]) for i in range(len(toks) - 2)}
def words(text):
    return len(TOK.findall(text))
docs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
tr = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
members = defaultdict(list)
lead = {}  # cluster -> the lead paragraph of its (first) wire copy
for d, t in zip(docs, tr):
    members[t["cluster"]].append((d, t))
    if d["source"] == "wire" and t["cluster"] not in lead:
        blocks = d["text"].split("\n\n")
        lead[t["cluster"]] = blocks[1] if len(blocks) > 1 else ""
def fail(msg):
    sys.exit(msg)
for c, ms in members.items():
    kinds = {t["kind"] for _, t in ms}
    # stubs, digests and galleries never share a cluster with anything else
    for k in ("stub", "digest", "gallery"):
        if k in kinds and kinds != {k}:
            fail("cluster %d mixes %s with %s" % (c, k, sorted(kinds)))
    if kinds == {"stub"}:
        if len(ms) > 2:
            fail("stub cluster %d has %d pages" % (c, len(ms)))
        for d, t in ms:
            body = d["text"].split("\n\n", 1)[1]
            if words(body) >= 40:
                fail("stub %s has %d words of body" % (d["id"], words(body)))
            if t["of"] == c or t["of"] not in lead:
                fail("stub %s: story %r" % (d["id"], t["of"]))
            teaser = body.split("\n\n")[0].replace("VIDEO: ", "").rstrip("\u2026")
            if teaser not in lead[t["of"]]:
                fail("stub %s: teaser not in the lead of cluster %d" % (d["id"], t["of"]))
for d, t in zip(docs, tr):
    c = t["cluster"]
    if t["kind"] == "digest":
        cs = t["contains"]
        if len(set(cs)) != len(cs) or len(cs) < 3 or c in cs:
            fail("digest %s: cluster %d contains %s" % (d["id"], c, cs))
        for x in cs:
            if x not in lead or lead[x] not in d["text"]:
                fail("digest %s: lead of cluster %d missing" % (d["id"], x))
    for f in ("filler", "background"):
        if f in t and (t[f] == c or t[f] not in lead):
            fail("%s %s: %s cluster %r" % (t["kind"], d["id"], f, t[f]))
    if "filler" in t and lead[t["filler"]] not in d["text"]:
        fail("%s: filler lead of cluster %d missing" % (d["id"], t["filler"]))
# write-thru chains: consecutive versions share a cluster exactly when their
# bodies share half: 2 |A n B| >= max(|A|, |B|) on word 3-grams
chains = defaultdict(dict)
for d, t in zip(docs, tr):
    if t["kind"] == "writethru" and d["source"] == "wire":
        chains[t["chain"]][t["version"]] = (t["cluster"], shingles(d["text"].split("\n\n", 1)[1]))
owner = {}
for ch, vs in chains.items():
    for k in sorted(vs):
        c, a = vs[k]
        if owner.setdefault(c, ch) != ch:
            fail("chains %d and %d share cluster %d" % (owner[c], ch, c))
        if k - 1 in vs:
            c0, b = vs[k - 1]
            same = 2 * len(a & b) >= max(len(a), len(b))
            if same != (c == c0):
                fail("chain %d: versions %d, %d share %d of %d/%d 3-grams, clusters %d %d"
                     % (ch, k - 1, k, len(a & b), len(b), len(a), c0, c))
if any(t["kind"] == "big" for t in tr):  # the pages preset
    n = len(docs)
    if not any(len(ms) >= 50 and len(ms) > 0.02 * n for ms in members.values()):
        fail("no family of 50 pages and over 2%% of %d" % n)
    where = defaultdict(set)
    for d, t in zip(docs, tr):
        if t["kind"] != "gallery":
            for b in d["text"].split("\n\n"):
                if "Photo/" in b:
                    where[b].add(t["cluster"])
    if not any(len(cs) > 1 for cs in where.values()):
        fail("no caption on pages of two stories")
EOF
}

for p in web ocr trunc wire hardneg sample scale pages digest; do
    n=600
    [ "$p" = scale ] && n=3000
    mode=
    case $p in pages | digest) mode=pages ;; esac
    "$NDGEN" --preset "$p" --docs $n --seed 7 --out "$T/a.jsonl" --truth "$T/a.truth" &&
        "$NDGEN" --preset "$p" --docs $n --seed 7 --out "$T/b.jsonl" --truth "$T/b.truth"
    check "$p: runs" test $? -eq 0
    check "$p: same seed, same corpus" cmp "$T/a.jsonl" "$T/b.jsonl"
    check "$p: same seed, same truth" cmp "$T/a.truth" "$T/b.truth"
    check "$p: valid JSON, truth matches corpus" validate "$T/a.jsonl" "$T/a.truth" $n $mode
    [ -n "$mode" ] && check "$p: labelling rules" pagerules "$T/a.jsonl" "$T/a.truth"
    "$NDGEN" --preset "$p" --docs $n --seed 8 --out "$T/c.jsonl"
    check "$p: another seed, another corpus" sh -c "! cmp -s '$T/a.jsonl' '$T/c.jsonl'"
done

# one pass over the base stories (no --docs), a window smaller than the corpus
check "default size runs" "$NDGEN" --preset wire --window 50 --out "$T/w.jsonl" --truth "$T/w.truth"
check "default size valid" validate "$T/w.jsonl" "$T/w.truth" 0
check "default size: no two originals are the same story" distinct "$T/w.jsonl" "$T/w.truth"
"$NDGEN" --preset wire --window 50 >"$T/w2.jsonl"
check "stdout equals --out" cmp "$T/w.jsonl" "$T/w2.jsonl"

# the committed sample
"$NDGEN" --preset sample --seed 1 --out "$T/s.jsonl" --truth "$T/s.truth"
check "sample regenerates byte for byte" cmp "$T/s.jsonl" datasets/sample.jsonl
check "sample truth regenerates byte for byte" cmp "$T/s.truth" datasets/sample-truth.jsonl
check "sample is valid" validate datasets/sample.jsonl datasets/sample-truth.jsonl 0

# usage errors exit 1, information exits 0
for args in "--bogus" "--preset nope" "--docs 0" "--docs 12x" "--docs -3" "--seed" \
    "--hardneg 1.5" "--window 0" "--reuters x --base y"; do
    # shellcheck disable=SC2086
    "$NDGEN" $args >/dev/null 2>&1
    check "usage error exits 1: $args" test $? -eq 1
done
check "--help" "$NDGEN" --help
check "--list-presets" "$NDGEN" --list-presets
"$NDGEN" --base "$T/none.txt" >/dev/null 2>&1
check "missing base file exits 2" test $? -eq 2

if [ -r "$REUTERS" ]; then
    "$NDGEN" --reuters "$REUTERS" --preset wire --docs 3000 --seed 3 --out "$T/r1.jsonl" --truth "$T/r1.truth" &&
        "$NDGEN" --reuters "$REUTERS" --preset wire --docs 3000 --seed 3 --out "$T/r2.jsonl"
    check "reuters: runs" test $? -eq 0
    check "reuters: same seed, same corpus" cmp "$T/r1.jsonl" "$T/r2.jsonl"
    check "reuters: valid" validate "$T/r1.jsonl" "$T/r1.truth" 3000
    check "reuters: no two originals are the same story" distinct "$T/r1.jsonl" "$T/r1.truth"
    for p in pages digest; do
        "$NDGEN" --reuters "$REUTERS" --preset $p --docs 3000 --seed 3 --out "$T/r1.jsonl" --truth "$T/r1.truth" &&
            "$NDGEN" --reuters "$REUTERS" --preset $p --docs 3000 --seed 3 --out "$T/r2.jsonl" --truth "$T/r2.truth"
        check "reuters $p: runs" test $? -eq 0
        check "reuters $p: same seed, same corpus" cmp "$T/r1.jsonl" "$T/r2.jsonl"
        check "reuters $p: same seed, same truth" cmp "$T/r1.truth" "$T/r2.truth"
        check "reuters $p: valid" validate "$T/r1.jsonl" "$T/r1.truth" 3000 pages
        check "reuters $p: labelling rules" pagerules "$T/r1.jsonl" "$T/r1.truth"
    done
else
    echo "gen: $REUTERS not found, Reuters checks skipped" >&2
fi

echo "gen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
