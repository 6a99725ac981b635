#!/bin/sh
# run.sh BUILD - every allocation of a few small command runs fails in turn.
#
# BUILD/neardup-oom is the command linked with tests/oom/failalloc.c: with
# ND_FAIL_ALLOC=N its N-th allocation fails (ND_COUNT_ALLOC counts them).
# Each walk runs a command once to count its allocations (one thread, so
# the count is the same every time), then once per allocation with that one
# failing.  Every run must either fail cleanly (exit 2, one line
# "neardup: ... out of memory" on stderr besides the warnings of records
# read before, no -o file, no temporary file left
# in TMPDIR) or, when the failure was absorbed, succeed with the output of
# the run that failed nothing.  After a failed `index add` the index must
# open, and adding the same input again (--skip-bad: the ids already
# indexed are warnings) must leave every document indexed once.  Under
# ASan a leak on any of these paths fails the run (exit 23).
# Prints each failure and "oom: N runs, M failed" last.
set -u
B=$(cd "$1" && pwd)
ND=$B/neardup-oom
REAL=$B/neardup
DATA=$(cd "$(dirname "$0")/../cli/data" && pwd)
# fsync on a tmpfs costs nothing: the index walks sync often
W=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$W"' EXIT
export DATA ND REAL OMP_NUM_THREADS=1
runs=0
failed=0

# walk NAME SETUP COMMAND [AFTER]: SETUP and COMMAND are shell text run in
# a fresh folder; COMMAND runs neardup-oom once (the count is per
# process); its -o file, if any, is out.jsonl.  AFTER, run
# after a failed COMMAND, must exit 0 (and prints what is compared).
walk() {
    name=$1 setup=$2 cmd=$3 after=${4:-}
    ref=$W/ref.$name
    rm -rf "$ref" && mkdir -p "$ref/tmp" && cd "$ref" || exit 2
    sh -c "$setup" || { echo "FAIL $name: set-up"; failed=$((failed + 1)); return; }
    ND_COUNT_ALLOC=$W/count TMPDIR=$ref/tmp sh -c "$cmd" > .out 2> .err
    code=$?
    total=$(cat "$W/count" 2>/dev/null || echo 0)
    if [ $code != 0 ] || [ "$total" -lt 1 ]; then
        echo "FAIL $name: the run without failures exits $code after $total allocations"
        cat .err
        failed=$((failed + 1))
        return
    fi
    n=1
    while [ $n -le "$total" ]; do
        d=$W/run
        rm -rf "$d" && mkdir -p "$d/tmp" && cd "$d" || exit 2
        sh -c "$setup"
        ND_FAIL_ALLOC=$n TMPDIR=$d/tmp sh -c "$cmd" > .out 2> .err
        code=$?
        why=
        if [ $code = 0 ]; then
            cmp -s .out "$ref/.out" || why="exit 0 with other output"
            [ -e "$ref/out.jsonl" ] && ! cmp -s out.jsonl "$ref/out.jsonl" &&
                why="exit 0 with another out.jsonl"
        elif [ $code != 2 ]; then
            why="exit $code"
        elif [ "$(grep -vc '^neardup: warning: ' .err)" != 1 ] ||
             ! grep -Eq '^neardup: .*(out of memory|Cannot allocate memory)' .err; then
            why="stderr is not one line on memory (warnings aside)"
        elif [ -e out.jsonl ]; then
            why="out.jsonl left behind"
        elif [ -n "$after" ] && ! sh -c "$after" > .after 2>&1; then
            why="afterwards: $(head -3 .after)"
        fi
        [ -z "$why" ] && [ -n "$(ls -A tmp)" ] && why="left in TMPDIR: $(ls -A tmp)"
        runs=$((runs + 1))
        if [ -n "$why" ]; then
            echo "FAIL $name: allocation $n of $total: $why"
            sed -n '1,5p' .err
            failed=$((failed + 1))
        fi
        n=$((n + 1))
    done
    cd "$W" || exit 2
}

walk cluster-o 'cp "$DATA/news.jsonl" in.jsonl' \
    '"$ND" cluster --threads 1 -o out.jsonl in.jsonl'
walk dedup-stdin '' \
    '"$ND" dedup --threads 1 --stats - < "$DATA/news.jsonl"'
walk pairs-exact-explain '' \
    '"$ND" pairs --threads 1 --exact --explain "$DATA/news.jsonl" "$DATA/passage.jsonl"'
walk cluster-spill '' \
    '"$ND" cluster --threads 1 --memory 1K --cluster guarded --keep longest -o out.jsonl "$DATA/news.jsonl" "$DATA/wire.jsonl"'
walk keep-source-window '' \
    '"$ND" cluster --threads 1 --keep source --source-priority "$DATA/wire-sources.txt" --time-field time --window 3d "$DATA/wire.jsonl"'
walk tsv-gz-skip-bad 'printf "id\ttext\n1\tone two three four\n2\ttwo\tcolumns\n" | gzip > in.tsv.gz' \
    '"$ND" cluster --threads 1 --skip-bad --format tsv in.tsv.gz'
walk dedup-directory 'mkdir dir && cp "$DATA/news.jsonl" dir/a && printf "plain words here\n" > dir/b' \
    '"$ND" dedup --threads 1 -o out.jsonl dir'
walk odd-jsonl 'printf "{\"id\": 1e400, \"text\": \"x\"}\n{\"id\": 3, \"text\": \"bad \377 byte\"}\n" > odd.jsonl' \
    '"$ND" cluster --threads 1 --skip-bad odd.jsonl'
walk index-add 'cp "$DATA/news.jsonl" in.jsonl' \
    '"$ND" index add --index ix --sync-every 2 in.jsonl' \
    '"$REAL" index add -q --skip-bad --index ix in.jsonl > /dev/null &&
     "$REAL" index stats --index ix | grep -q "\"documents\": 7,"'
walk index-query '"$REAL" index add --index ix "$DATA/news.jsonl" > /dev/null' \
    '"$ND" index query --index ix "$DATA/news.jsonl"'
walk index-evict '"$REAL" index add --index ix "$DATA/news.jsonl" > /dev/null' \
    '"$ND" index evict --index ix --before 1' \
    '"$REAL" index stats --index ix > /dev/null'

echo "oom: $runs runs, $failed failed"
[ $failed = 0 ]
