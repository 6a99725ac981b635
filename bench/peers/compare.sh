#!/bin/sh
# compare.sh - neardup against datasketch on one corpus: speed and accuracy.
#
#   bench/peers/compare.sh --datasketch SRC_DIR CORPUS.jsonl TRUTH.jsonl \
#       [neardup cluster options]
#
# Runs `neardup cluster` (all cores unless --threads is given) and
# datasketch_peer.py with the same threshold, word n-gram, num_perm and, when
# given, seed and bands/rows (defaults 0.5, 3, 128), times both by the wall
# clock, scores both with ndeval against TRUTH and prints them side by side.
# When datasketch cannot be imported from SRC_DIR (or no SRC_DIR is given)
# it says so and exits 0.
#
# Environment: BUILD (default build/ beside bench/), NEARDUP and NDEVAL (the
# two binaries, default $BUILD/neardup and $BUILD/ndeval), PYTHON (an
# interpreter with numpy and scipy; otherwise the first of python3 and
# /usr/bin/python3 that can import datasketch).
# Exit: 0 done or skipped, 1 usage or settings the peer cannot match,
# 2 a missing binary or file, 3 a run failed.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
NEARDUP=${NEARDUP:-$BUILD/neardup}
NDEVAL=${NDEVAL:-$BUILD/ndeval}
PEER=$ROOT/bench/peers/datasketch_peer.py

usage() {
    echo "usage: $0 --datasketch SRC_DIR CORPUS.jsonl TRUTH.jsonl [neardup options]" >&2
    exit 1
}

SRC=
case ${1:-} in
--datasketch=*) SRC=${1#*=}; shift ;;
--datasketch) [ $# -ge 2 ] || usage; SRC=$2; shift 2 ;;
esac
[ $# -ge 2 ] || usage
CORPUS=$1
TRUTH=$2
shift 2

# The settings both tools get; the rest of the options go to neardup alone
# (split on white space: values with spaces are not supported).
THRESHOLD=0.5 NGRAM=3 NUM_PERM=128 SEED='' BANDS='' ROWS='' THREADS=''
ID_FIELD='' TEXT_FIELD=''
need_value() { [ $# -ge 2 ] || { echo "compare.sh: $1 needs a value" >&2; exit 1; }; }
ND_OPTS=
while [ $# -gt 0 ]; do
    opt=$1 val=
    case $opt in
    --*=*) val=${opt#*=}; opt=${opt%%=*}; shift ;;
    --threshold|--ngram|--num-perm|--seed|--bands|--rows|--threads|--id-field|--text-field)
        need_value "$@"; val=$2; shift 2 ;;
    *) shift ;;
    esac
    case $opt in
    --threshold) THRESHOLD=$val ;;
    --ngram) NGRAM=$val ;;
    --num-perm) NUM_PERM=$val ;;
    --seed) SEED=$val ;;
    --bands) BANDS=$val ;;
    --rows) ROWS=$val ;;
    --threads) THREADS=$val ;;
    --id-field) ID_FIELD=$val ;;
    --text-field) TEXT_FIELD=$val ;;
    --char-ngram|--measure)
        echo "compare.sh: $opt has no datasketch counterpart here (word n-grams, Jaccard only)" >&2
        exit 1 ;;
    *) ND_OPTS="$ND_OPTS $opt${val:+=$val}" ;; # an option or its value

    esac
done
THREADS=${THREADS:-$(nproc 2>/dev/null || echo 1)}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

PY=
for py in ${PYTHON:-} python3 /usr/bin/python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" "$PEER" --check --datasketch "$SRC" >"$TMP/check" 2>&1; then
        PY=$py
        break
    fi
done
if [ -z "$PY" ]; then
    # The peer's own words: "datasketch not found at SRC_DIR (why); skipping".
    sed 's/^/compare.sh: /' "$TMP/check"
    exit 0
fi

for f in "$NEARDUP" "$NDEVAL"; do
    [ -x "$f" ] || { echo "compare.sh: $f not found (build it with make)" >&2; exit 2; }
done
for f in "$CORPUS" "$TRUTH"; do
    [ -r "$f" ] || { echo "compare.sh: $f: cannot read" >&2; exit 2; }
done

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Both runs read the corpus from the page cache, not the disk.
cat "$CORPUS" >/dev/null

set -- cluster --threshold "$THRESHOLD" --ngram "$NGRAM" --num-perm "$NUM_PERM" \
    --threads "$THREADS"
[ -n "$SEED" ] && set -- "$@" --seed "$SEED"
[ -n "$BANDS" ] && set -- "$@" --bands "$BANDS"
[ -n "$ROWS" ] && set -- "$@" --rows "$ROWS"
[ -n "$ID_FIELD" ] && set -- "$@" --id-field "$ID_FIELD"
[ -n "$TEXT_FIELD" ] && set -- "$@" --text-field "$TEXT_FIELD"
# shellcheck disable=SC2086 # ND_OPTS holds whole options, split on purpose
set -- "$@" $ND_OPTS "$CORPUS"
echo "neardup $*" >&2
t0=$(now)
"$NEARDUP" "$@" >"$TMP/neardup.jsonl" 2>"$TMP/neardup.err" ||
    { cat "$TMP/neardup.err" >&2; echo "compare.sh: neardup failed" >&2; exit 3; }
t1=$(now)
ND_SECONDS=$(elapsed "$t0" "$t1")

set -- --datasketch "$SRC" --threshold "$THRESHOLD" --ngram "$NGRAM" \
    --num-perm "$NUM_PERM"
[ -n "$SEED" ] && set -- "$@" --seed "$SEED"
[ -n "$BANDS" ] && set -- "$@" --bands "$BANDS"
[ -n "$ROWS" ] && set -- "$@" --rows "$ROWS"
[ -n "$ID_FIELD" ] && set -- "$@" --id-field "$ID_FIELD"
[ -n "$TEXT_FIELD" ] && set -- "$@" --text-field "$TEXT_FIELD"
set -- "$@" "$CORPUS"
echo "datasketch_peer.py $*" >&2
t0=$(now)
"$PY" "$PEER" "$@" >"$TMP/datasketch.jsonl" 2>"$TMP/datasketch.err" ||
    { cat "$TMP/datasketch.err" >&2; echo "compare.sh: datasketch peer failed" >&2; exit 3; }
t1=$(now)
DS_SECONDS=$(elapsed "$t0" "$t1")

for tool in neardup datasketch; do
    "$NDEVAL" --json --truth "$TRUTH" "$TMP/$tool.jsonl" >"$TMP/$tool.eval" ||
        { echo "compare.sh: ndeval failed on the $tool output" >&2; exit 3; }
done

"$PY" - "$TMP" "$CORPUS" "$ND_SECONDS" "$DS_SECONDS" \
    "$THRESHOLD" "$NGRAM" "$NUM_PERM" "$THREADS" <<'EOF'
import json, sys
tmp, corpus, nd_s, ds_s, thr, ngram, k, threads = sys.argv[1:]
nd = json.load(open(tmp + "/neardup.eval"))
ds = json.load(open(tmp + "/datasketch.eval"))
nd_s, ds_s = float(nd_s), float(ds_s)
n = nd["docs"]
inproc = open(tmp + "/datasketch.err").read().strip().splitlines()
print("corpus %s: %d docs, %d true clusters" % (corpus, n, nd["true_clusters"]))
print("settings: threshold %s, word %s-grams, %s permutations; neardup on %s threads"
      % (thr, ngram, k, threads))
row = "%-22s %12s %12s"
print(row % ("", "neardup", "datasketch"))
print(row % ("wall seconds", "%.3f" % nd_s, "%.3f" % ds_s))
rate = lambda s: n / s if s > 0 else float("inf")
print(row % ("docs/s", "%.0f" % rate(nd_s), "%.0f" % rate(ds_s)))
for key, name in (("pred_clusters", "clusters"),
                  ("pair_precision", "pairwise precision"),
                  ("pair_recall", "pairwise recall"),
                  ("pair_f1", "pairwise F1"), ("ari", "ARI"),
                  ("bcubed_f1", "B-cubed F1"),
                  ("hardneg_precision", "hard-neg precision")):
    fmt = "%d" if isinstance(nd[key], int) else "%.4f"
    print(row % (name, fmt % nd[key], fmt % ds[key]))
print("speed ratio: neardup %.1fx datasketch (wall clock, start-up included)"
      % (rate(nd_s) / rate(ds_s)))
if inproc:
    print("datasketch in-process: " + inproc[-1].split("; ")[-1])
EOF
