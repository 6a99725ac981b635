#!/bin/sh
# scale.sh - `neardup cluster` end to end on a large corpus: wall time, CPU
# time (user + system) and peak memory (median of the runs) at each thread
# count, the speed-up over
# the first thread count, and the ratio of the wall time to that of
# `wc -l` on the same file (median of as many runs: the floor of reading
# it).  Then the engine stage by stage on one core: `build/ndbench
# --threads 1` on the first --stage-docs documents (default 100,000; 0
# skips it), each stage's median seconds and MB/s a core; the sketch stage
# (normalize, shingle, boilerplate count and filter, MinHash, figures) is
# the fingerprinting figure.
#
#   bench/scale.sh [--docs N] [--runs R] [--threads "1 2"] [--corpus FILE]
#                  [--stage-docs N] [-- neardup cluster options]
#
# Without --corpus it generates `build/ndgen --preset scale --reuters ...
# --docs N --seed 2` (1,000,000 documents by default, 3.3 GB) into
# bench/results/tmp/scale/ (not committed) and keeps it for the next run.
# The corpus is read once first so that every run finds it in the page
# cache when it fits; runs write to a temporary file that is removed.
#
# Environment: BUILD (default build), REUTERS (path of
# reuters21578.jsonl.gz; default ../shared/datasets/reuters21578/ beside
# the tree).
# Exit: 0 done, 1 usage, 2 a missing binary or file, 3 a run failed.
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REUTERS=${REUTERS:-../shared/datasets/reuters21578/reuters21578.jsonl.gz}
DOCS=1000000 RUNS=3 THREADS=$(nproc 2>/dev/null || echo 1) CORPUS= STAGE_DOCS=100000
usage() {
    echo "usage: $0 [--docs N] [--runs R] [--threads \"1 2\"] [--corpus FILE]" \
        "[--stage-docs N] [-- options]" >&2
    exit 1
}
while [ $# -gt 0 ]; do
    case $1 in
    --docs) [ $# -ge 2 ] || usage; DOCS=$2; shift 2 ;;
    --runs) [ $# -ge 2 ] || usage; RUNS=$2; shift 2 ;;
    --threads) [ $# -ge 2 ] || usage; THREADS=$2; shift 2 ;;
    --corpus) [ $# -ge 2 ] || usage; CORPUS=$2; shift 2 ;;
    --stage-docs) [ $# -ge 2 ] || usage; STAGE_DOCS=$2; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
    esac
done
case $RUNS in '' | *[!0-9]* | 0) usage ;; esac
case $STAGE_DOCS in '' | *[!0-9]*) usage ;; esac

for f in "$BUILD/neardup" "$BUILD/ndgen"; do
    [ -x "$f" ] || { echo "scale.sh: $f not found (make all gen)" >&2; exit 2; }
done
if [ "$STAGE_DOCS" -gt 0 ]; then
    [ -x "$BUILD/ndbench" ] || { echo "scale.sh: $BUILD/ndbench not found (make $BUILD/ndbench)" >&2; exit 2; }
    command -v python3 >/dev/null || { echo "scale.sh: python3 not found" >&2; exit 2; }
fi
[ -x /usr/bin/time ] || { echo "scale.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }

if [ -z "$CORPUS" ]; then
    CORPUS=bench/results/tmp/scale/scale-$DOCS.jsonl
    if [ ! -s "$CORPUS" ]; then
        [ -r "$REUTERS" ] || { echo "scale.sh: $REUTERS: cannot read (set REUTERS)" >&2; exit 2; }
        mkdir -p "$(dirname "$CORPUS")"
        "$BUILD/ndgen" --preset scale --reuters "$REUTERS" --docs "$DOCS" --seed 2 \
            --out "$CORPUS.part" || { echo "scale.sh: ndgen failed" >&2; exit 3; }
        mv "$CORPUS.part" "$CORPUS"
    fi
fi
[ -r "$CORPUS" ] || { echo "scale.sh: $CORPUS: cannot read" >&2; exit 2; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat "$CORPUS" >/dev/null
BYTES=$(wc -c <"$CORPUS")
LINES=$(wc -l <"$CORPUS")
echo "corpus $CORPUS: $LINES documents, $BYTES bytes; $(nproc 2>/dev/null || echo '?') cores," \
    "load average $(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?') at the start"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$TMP/wc"
r=0
while [ $r -lt "$RUNS" ]; do
    /usr/bin/time -f "%e" -o "$TMP/time" wc -l "$CORPUS" >/dev/null
    cat "$TMP/time" >>"$TMP/wc"
    r=$((r + 1))
done
WC=$(median <"$TMP/wc")
echo "wc -l: $WC s (median of $RUNS)"
printf '%-8s %10s %10s %12s %10s %9s %9s  %s\n' threads "wall s" "cpu s" "docs/s" "RSS MB" \
    speedup "x wc -l" "runs (s)"

first=
for t in $THREADS; do
    : >"$TMP/walls"
    : >"$TMP/rss"
    : >"$TMP/cpu"
    r=0
    while [ $r -lt "$RUNS" ]; do
        /usr/bin/time -f "%e %M %U %S" -o "$TMP/time" "$BUILD/neardup" cluster -q --threads "$t" \
            "$@" -o "$TMP/out.jsonl" "$CORPUS" ||
            { echo "scale.sh: neardup failed at $t threads" >&2; exit 3; }
        cut -d' ' -f1 "$TMP/time" >>"$TMP/walls"
        cut -d' ' -f2 "$TMP/time" >>"$TMP/rss"
        awk '{ print $3 + $4 }' "$TMP/time" >>"$TMP/cpu"
        r=$((r + 1))
    done
    wall=$(median <"$TMP/walls")
    rss=$(median <"$TMP/rss")
    cpu=$(median <"$TMP/cpu")
    [ -n "$first" ] || first=$wall
    awk -v t="$t" -v w="$wall" -v c="$cpu" -v k="$rss" -v n="$LINES" -v f="$first" -v wc="$WC" \
        -v runs="$(sort -n "$TMP/walls" | tr '\n' ' ')" \
        'BEGIN { printf "%-8s %10.2f %10.2f %12.0f %10.0f %8.2fx %9s  %s\n", t, w, c, n / w, k / 1024, f / w,
                 (wc > 0 ? sprintf("%.0fx", w / wc) : "-"), runs }'
done

[ "$STAGE_DOCS" -gt 0 ] || exit 0
# ndbench takes the engine options of neardup cluster, not -q or -o.
"$BUILD/ndbench" --threads 1 --repeat "$RUNS" --warmup 1 --limit "$STAGE_DOCS" --json \
    "$@" "$CORPUS" >"$TMP/stages.json" ||
    { echo "scale.sh: ndbench failed" >&2; exit 3; }
python3 - "$TMP/stages.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
mb = r["bytes"] / 1e6
print("per stage on one core: ndbench --threads 1 on the first %d documents (%.1f MB), "
      "median of %d; load average %.2f at the start" % (r["docs"], mb, r["repeat"], r["load_start"]))
print("%-10s %10s %12s" % ("stage", "seconds", "MB/s a core"))
sec = r["seconds"]
for st in ("read", "sketch", "lsh", "verify", "cluster", "batch"):
    s = sec[st]
    print("%-10s %10.3f %12.1f" % (st, s, mb / s if s > 0 else float("inf")))
print("fingerprinting (the sketch stage, its boilerplate count of %.3f s included): %.1f MB/s a core"
      % (sec["count"], mb / sec["sketch"] if sec["sketch"] > 0 else float("inf")))
PY
