#!/bin/sh
# Checks of the corpus generator: same seed -> same bytes, corpus and truth
# agree line by line, every line is valid JSON with the documented fields,
# one unedited "wire" copy per cluster, reprints dated 0-72 h after it,
# usage errors exit 1, and the committed sample regenerates byte for byte.
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

# validate CORPUS TRUTH DOCS: structure and the invariants of the truth
validate() {
    python3 - "$1" "$2" "$3" <<'EOF'
import json, sys, datetime
corpus, truth, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
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

for p in web ocr trunc wire hardneg sample scale; do
    n=600
    [ "$p" = scale ] && n=3000
    "$NDGEN" --preset "$p" --docs $n --seed 7 --out "$T/a.jsonl" --truth "$T/a.truth" &&
        "$NDGEN" --preset "$p" --docs $n --seed 7 --out "$T/b.jsonl" --truth "$T/b.truth"
    check "$p: runs" test $? -eq 0
    check "$p: same seed, same corpus" cmp "$T/a.jsonl" "$T/b.jsonl"
    check "$p: same seed, same truth" cmp "$T/a.truth" "$T/b.truth"
    check "$p: valid JSON, truth matches corpus" validate "$T/a.jsonl" "$T/a.truth" $n
    "$NDGEN" --preset "$p" --docs $n --seed 8 --out "$T/c.jsonl"
    check "$p: another seed, another corpus" sh -c "! cmp -s '$T/a.jsonl' '$T/c.jsonl'"
done

# one pass over the base stories (no --docs), a window smaller than the corpus
check "default size runs" "$NDGEN" --preset wire --window 50 --out "$T/w.jsonl" --truth "$T/w.truth"
check "default size valid" validate "$T/w.jsonl" "$T/w.truth" 0
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
    "$NDGEN" --reuters "$REUTERS" --preset wire --docs 2000 --seed 3 --out "$T/r1.jsonl" --truth "$T/r1.truth" &&
        "$NDGEN" --reuters "$REUTERS" --preset wire --docs 2000 --seed 3 --out "$T/r2.jsonl"
    check "reuters: runs" test $? -eq 0
    check "reuters: same seed, same corpus" cmp "$T/r1.jsonl" "$T/r2.jsonl"
    check "reuters: valid" validate "$T/r1.jsonl" "$T/r1.truth" 2000
else
    echo "gen: $REUTERS not found, Reuters checks skipped" >&2
fi

echo "gen: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
