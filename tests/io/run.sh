#!/bin/sh
# run.sh BUILD - the command when its output or its storage fails.
#
#   /dev/full as -o and as standard output, for every command that writes;
#   a reader that goes away (`neardup cluster | head -1`), with SIGPIPE
#   default (killed by it, silent) and ignored (exit 2, "Broken pipe");
#   a 1 MB tmpfs that fills (tests/io/tmpfs.sh, in a mount namespace of its
#   own, so no mount outlives it): -o, --tmpdir spills, dedup's spool of
#   standard input, the index log;
#   reads and writes that come short or interrupted (EINTR): the whole CLI
#   suite again with BUILD/neardup-oom and ND_SHORT_IO=1.
# Every failure must exit 2 with one line naming the cause, leave no output
# file and no temporary file.  Prints each failure and "io: N passed,
# M failed, K skipped" last.
set -u
B=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ND=$B/neardup
DATA=$HERE/../cli/data
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
pass=0
fail=0
skip=0
mkdir "$W/tmp"
export TMPDIR=$W/tmp

# check NAME CODE PATTERN: the last command exited CODE (in $code) and its
# stderr ($W/err) is one line matching the extended regex PATTERN (empty
# PATTERN: stderr is empty); TMPDIR is empty.
check() {
    why=
    if [ "$code" != "$2" ]; then
        why="exit $code, want $2"
    elif [ -z "$3" ] && [ -s "$W/err" ]; then
        why="stderr not empty"
    elif [ -n "$3" ] && { [ "$(wc -l < "$W/err")" != 1 ] || ! grep -Eq "$3" "$W/err"; }; then
        why="stderr does not match /$3/"
    elif [ -n "$(ls -A "$TMPDIR")" ]; then
        why="left in TMPDIR: $(ls -A "$TMPDIR")"
    fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
    else
        echo "FAIL $1: $why"
        sed -n '1,5p' "$W/err"
        fail=$((fail + 1))
        rm -rf "$TMPDIR" && mkdir "$TMPDIR"
    fi
}

"$B/ndgen" --preset web --docs 3000 --seed 3 --base "$HERE/../../datasets/base-stories.txt" \
    > "$W/big.jsonl" || exit 2
FULL='^neardup: .*No space left on device$'

# ----------------------------------------------------------- /dev/full
for cmd in cluster dedup pairs; do
    "$ND" $cmd -o /dev/full "$DATA/news.jsonl" 2> "$W/err"
    code=$?; check "$cmd -o /dev/full" 2 "$FULL"
    "$ND" $cmd "$DATA/news.jsonl" > /dev/full 2> "$W/err"
    code=$?; check "$cmd > /dev/full" 2 "$FULL"
done
"$ND" index add --index "$W/ix" "$DATA/news.jsonl" > /dev/full 2> "$W/err"
code=$?; check "index add > /dev/full" 2 "$FULL"
"$ND" index query --index "$W/ix" "$DATA/news.jsonl" > /dev/full 2> "$W/err"
code=$?; check "index query > /dev/full" 2 "$FULL"
"$ND" index stats --index "$W/ix" > "$W/out" 2> "$W/err"
code=$?; check "index stats after writing to /dev/full" 0 ""
grep -q '"documents": 7,' "$W/out" || { echo "FAIL index after /dev/full: $(cat "$W/out")"; fail=$((fail + 1)); }

# ------------------------------------------------------- closed pipe
# SIGPIPE as it comes: killed by it (128 + 13), silent.
for cmd in cluster dedup; do
    { "$ND" $cmd "$W/big.jsonl" 2> "$W/err"; echo $? > "$W/code"; } | head -1 > "$W/first"
    code=$(cat "$W/code"); check "$cmd | head -1" 141 ""
    [ "$(wc -l < "$W/first")" = 1 ] || { echo "FAIL $cmd | head -1: no first line"; fail=$((fail + 1)); }
done
{ "$ND" dedup - < "$W/big.jsonl" 2> "$W/err"; echo $? > "$W/code"; } | head -1 > /dev/null
code=$(cat "$W/code"); check "dedup - (spooled) | head -1" 141 ""
# SIGPIPE ignored (as under some shells and services): EPIPE, exit 2.
for cmd in cluster dedup; do
    { (trap '' PIPE; exec "$ND" $cmd "$W/big.jsonl") 2> "$W/err"; echo $? > "$W/code"; } | head -1 > /dev/null
    code=$(cat "$W/code"); check "$cmd | head -1, SIGPIPE ignored" 2 '^neardup: .*Broken pipe$'
done

# ------------------------------------------------------- a full tmpfs
if unshare -m true 2> /dev/null; then
    out=$(unshare -m sh "$HERE/tmpfs.sh" "$B" "$W/big.jsonl" 2>&1)
    rc=$?
else
    out="tmpfs: skipped: no mount namespace here (unshare -m is not permitted)"
    rc=77
fi
case $rc in
0) pass=$((pass + $(echo "$out" | sed -n 's/^tmpfs: \([0-9]*\) passed$/\1/p'))) ;;
77) echo "$out"; skip=$((skip + 1)) ;;
*) echo "$out"; fail=$((fail + 1)) ;;
esac

# ------------------------------------------- short and interrupted I/O
if ND_SHORT_IO=1 "$HERE/../cli/run.sh" "$B/neardup-oom" > "$W/short" 2>&1; then
    pass=$((pass + 1))
else
    echo "FAIL the CLI cases with short and interrupted reads and writes:"
    grep -v '^cli: ' "$W/short" | sed -n '1,40p'
    fail=$((fail + 1))
fi

echo "io: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
