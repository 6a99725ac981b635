#!/bin/sh
# run.sh BUILD - the library's job against the command: examples/cluster.c,
# which uses only neardup.h, must print what `neardup cluster` prints, byte
# for byte, on the bundled sample, on stdin, and on a generated 100,000-
# document corpus (web preset over the Reuters-21578 stories; without them,
# 20,000 documents over the shipped base stories, and the run says so).
# Then --progress off a terminal: every phase, in order, ending at 100%.
#
# REUTERS=path/to/reuters21578.jsonl.gz overrides where Reuters is looked for.
set -u
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT" || exit 2
REUTERS=${REUTERS:-../shared/datasets/reuters21578/reuters21578.jsonl.gz}
ND=$BUILD/neardup
EX=$BUILD/examples/cluster
T=$(mktemp -d /tmp/nd-job-XXXXXX) || exit 2
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "job: FAIL: $1" >&2; }

# same DESCRIPTION ARGS...: the example and the command agree on ARGS.
same() {
    d=$1
    shift
    "$ND" cluster "$@" >"$T/want" 2>"$T/want.err"
    a=$?
    "$EX" "$@" >"$T/got" 2>"$T/got.err"
    b=$?
    if [ "$a" = 0 ] && [ "$b" = 0 ] && [ -s "$T/want" ] && cmp -s "$T/want" "$T/got"; then
        ok
    else
        ko "$d: exit $a and $b"
        diff "$T/want" "$T/got" | head -5 >&2
        cat "$T/got.err" >&2
    fi
}

same "datasets/sample.jsonl" datasets/sample.jsonl
"$ND" cluster <datasets/sample.jsonl >"$T/want" 2>/dev/null
"$EX" <datasets/sample.jsonl >"$T/got" 2>/dev/null
if cmp -s "$T/want" "$T/got"; then ok; else ko "datasets/sample.jsonl on stdin"; fi

if [ -r "$REUTERS" ]; then
    "$BUILD/ndgen" --reuters "$REUTERS" --preset web --docs 100000 --seed 1 \
        --out "$T/corpus.jsonl" --truth "$T/truth.jsonl" || ko "ndgen --reuters"
    what="100,000 generated documents (web preset, Reuters-21578 stories)"
else
    echo "job: $REUTERS not found: 20,000 documents over the shipped base stories instead" >&2
    "$BUILD/ndgen" --preset web --docs 20000 --seed 1 \
        --out "$T/corpus.jsonl" --truth "$T/truth.jsonl" || ko "ndgen"
    what="20,000 generated documents (web preset, shipped stories)"
fi
same "$what" "$T/corpus.jsonl"
# the command really clusters them: far fewer clusters than documents
docs=$(wc -l <"$T/corpus.jsonl")
reps=$(grep -c '"rep": true' "$T/want")
if [ "$reps" -gt 0 ] && [ "$reps" -lt $((docs / 2)) ]; then ok; else
    ko "$what: $reps clusters of $docs documents"; fi

# --progress into a file: each phase in order, its last line at 100%
"$ND" cluster --progress datasets/sample.jsonl >/dev/null 2>"$T/progress"
got=$(sed -n 's/^neardup: \([a-z]*\) .*/\1/p' "$T/progress" | uniq | tr '\n' ' ')
if [ "$got" = "count sketch candidates verify cluster write " ]; then ok; else
    ko "--progress phases: [$got]"; fi
ends=$(awk '{ last[$2] = $0 } END { for (p in last) print last[p] }' "$T/progress" |
    grep -c ' 100% ')
if [ "$ends" = 6 ]; then ok; else ko "--progress: $ends phases end at 100%"; cat "$T/progress" >&2; fi
"$ND" cluster --progress --quiet datasets/sample.jsonl >/dev/null 2>"$T/quiet"
if [ ! -s "$T/quiet" ]; then ok; else ko "--quiet wins over --progress"; fi

echo "job: $pass passed, $fail failed"
[ "$fail" = 0 ]
