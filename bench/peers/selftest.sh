#!/bin/sh
# selftest.sh --datasketch SRC_DIR [BUILD_DIR] - checks datasketch_peer.py on
# the hand-written sample20.jsonl: its clusters must equal sample20.truth.jsonl
# (scored by BUILD_DIR/ndeval), its ids come back in input order, and it
# exits 3 without datasketch.  Skips (exit 0) when datasketch cannot be
# imported.  Last line: "peers: N passed, M failed".
#
# sample20: four stories with reprints (new headline and byline, dateline,
# curly quotes, a cut or an inserted paragraph, OCR slips, upper case and
# doubled spaces; exact Jaccard of word 3-gram sets 0.70 to 1.0), two look-
# alike commodity reports marked hardneg (Jaccard 0.08), eight singletons.
set -u
SRC=
case ${1:-} in
--datasketch=*) SRC=${1#*=}; shift ;;
--datasketch) SRC=${2:-}; shift; [ $# -gt 0 ] && shift ;;
esac
BUILD=${1:-build}
DIR=$(dirname "$0")
PEER=$DIR/datasketch_peer.py
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL $1" >&2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

PY=
for py in ${PYTHON:-} python3 /usr/bin/python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" "$PEER" --check --datasketch "$SRC" >/dev/null 2>"$TMP/why"; then
        PY=$py
        break
    fi
done

# Without datasketch: exit 3 and the message, whatever the interpreter.
py=${PY:-python3}
"$py" "$PEER" --datasketch "$TMP/none" "$DIR/sample20.jsonl" >/dev/null 2>"$TMP/err"
rc=$?
if [ $rc -eq 3 ] && grep -q "datasketch not found at $TMP/none" "$TMP/err"; then
    ok
else
    ko "no datasketch: exit $rc $(cat "$TMP/err")"
fi

if [ -z "$PY" ]; then
    cat "$TMP/why"
    echo "peers: $pass passed, $fail failed, 1 skipped"
    [ "$fail" -eq 0 ]
    exit
fi

if "$PY" "$PEER" --datasketch "$SRC" "$DIR/sample20.jsonl" >"$TMP/out" 2>"$TMP/err" &&
    grep -Eq '^datasketch: 20 docs, 14 clusters, .* docs/s$' "$TMP/err"; then
    ok
else
    ko "peer run: $(cat "$TMP/err")"
fi

# Ids echoed as given (strings and numbers), in input order.
if "$PY" -c '
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1])]
out = [json.loads(l)["id"] for l in open(sys.argv[2])]
sys.exit(ids != out or 2 not in out)
' "$DIR/sample20.jsonl" "$TMP/out"; then ok; else ko "ids"; fi

# Scored against the truth: a perfect clustering.
if "$BUILD/ndeval" --json --truth "$DIR/sample20.truth.jsonl" "$TMP/out" >"$TMP/eval" &&
    "$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(not (m["docs"] == 20 and m["true_clusters"] == 14 and
              m["pred_clusters"] == 14 and m["pair_f1"] == 1.0 and
              m["ari"] == 1.0 and m["hardneg_pairs"] == 0))
' "$TMP/eval"; then ok; else ko "accuracy: $(cat "$TMP/eval")"; fi

# From stdin, the same clusters.
if "$PY" "$PEER" --datasketch "$SRC" - <"$DIR/sample20.jsonl" 2>/dev/null |
    cmp -s - "$TMP/out"; then ok; else ko "stdin"; fi

echo "peers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
