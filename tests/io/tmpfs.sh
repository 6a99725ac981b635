#!/bin/sh
# tmpfs.sh BUILD CORPUS - run by run.sh under `unshare -m`: writing into a
# 1 MB tmpfs that fills.  The mounts are private to this process's mount
# namespace, so they vanish with it whatever happens.  Prints each failure
# and "tmpfs: N passed" last; exit 77 when a tmpfs cannot be mounted.
set -u
B=$1
BIG=$2
ND=$B/neardup
W=$(mktemp -d)
M=$W/mnt
mkdir "$M"
if ! mount -t tmpfs -o size=1m nd-test "$M" 2> /dev/null; then
    echo "tmpfs: skipped: mounting a tmpfs is not permitted here"
    rm -rf "$W"
    exit 77
fi
trap 'umount "$M"; rm -rf "$W"' EXIT
pass=0
fail=0
FULL='No space left on device$'

# expect NAME CODE PATTERN LISTING: exit CODE, stderr one line matching
# PATTERN, and the tmpfs holding exactly LISTING (ls -A, one line).
expect() {
    why=
    have=$(ls -A "$M" | tr '\n' ' ')
    if [ "$code" != "$2" ]; then
        why="exit $code, want $2"
    elif [ "$(wc -l < "$W/err")" != 1 ] || ! grep -Eq "$3" "$W/err"; then
        why="stderr does not match /$3/"
    elif [ "$have" != "$4" ]; then
        why="the tmpfs holds '$have', want '$4'"
    fi
    if [ -z "$why" ]; then
        pass=$((pass + 1))
    else
        echo "FAIL $1: $why"
        sed -n '1,5p' "$W/err"
        fail=$((fail + 1))
    fi
}

# fill: leave about K kilobytes of the tmpfs free.
fill() {
    rm -f "$M/filler"
    used=$(du -sk "$M" | cut -f1)
    head -c $(((1024 - used - $1) * 1024)) /dev/zero > "$M/filler"
}

# -o: the output does not fit; no temporary file stays, an old file is kept.
fill 16
"$ND" dedup -q -o "$M/out.jsonl" "$BIG" 2> "$W/err"
code=$?; expect "dedup -o on a full tmpfs" 2 "$FULL" "filler "
printf 'old\n' > "$M/out.jsonl"
"$ND" cluster -q -o "$M/out.jsonl" "$BIG" 2> "$W/err"
code=$?; expect "cluster -o over a file on a full tmpfs" 2 "$FULL" "filler out.jsonl "
[ "$(cat "$M/out.jsonl")" = old ] || { echo "FAIL the old out.jsonl changed"; fail=$((fail + 1)); }
rm -f "$M/out.jsonl" "$M/filler"

# --tmpdir: the spilled candidate pairs do not fit.
fill 16
"$ND" cluster -q --memory 1K --tmpdir "$M" -o "$W/out.jsonl" "$BIG" 2> "$W/err"
code=$?; expect "cluster --memory 1K --tmpdir on a full tmpfs" 2 "$FULL" "filler "
[ -e "$W/out.jsonl" ] && { echo "FAIL cluster --tmpdir: out.jsonl written"; fail=$((fail + 1)); }
rm -f "$M/filler"

# The index log: an add that does not fit fails; the index opens, answers,
# and once there is room takes the rest, every document once.
head -200 "$BIG" > "$W/first.jsonl"
sed -n '201,400p' "$BIG" > "$W/second.jsonl"
head -400 "$BIG" > "$W/both.jsonl"
"$ND" index add --index "$M/ix" "$W/first.jsonl" > /dev/null 2> "$W/err" ||
    { echo "FAIL index add on an empty tmpfs"; cat "$W/err"; fail=$((fail + 1)); }
fill 4
"$ND" index add --index "$M/ix" --sync-every 50 "$W/second.jsonl" > /dev/null 2> "$W/err"
code=$?; expect "index add on a full tmpfs" 2 "$FULL" "filler ix "
ls -A "$M/ix" | tr '\n' ' ' > "$W/files"
[ "$(cat "$W/files")" = "LOCK index.nds index.wal " ] ||
    { echo "FAIL the index folder holds $(cat "$W/files")"; fail=$((fail + 1)); }
"$ND" index stats --index "$M/ix" > "$W/stats" 2> "$W/err" &&
    "$ND" index query --index "$M/ix" "$W/first.jsonl" > /dev/null 2>> "$W/err"
code=$?; [ $code = 0 ] && pass=$((pass + 1)) ||
    { echo "FAIL the index after a full disk: exit $code"; cat "$W/err"; fail=$((fail + 1)); }
docs=$(sed -n 's/.*"documents": \([0-9]*\),.*/\1/p' "$W/stats")
[ "${docs:-0}" -ge 200 ] || { echo "FAIL the index after a full disk holds ${docs:-no} documents"; fail=$((fail + 1)); }
rm -f "$M/filler"
"$ND" index add -q --skip-bad --index "$M/ix" "$W/both.jsonl" > /dev/null 2> "$W/err" &&
    "$ND" index stats --index "$M/ix" > "$W/stats" 2>> "$W/err"
code=$?
docs=$(sed -n 's/.*"documents": \([0-9]*\),.*/\1/p' "$W/stats")
[ $code = 0 ] && [ "$docs" = 400 ] && pass=$((pass + 1)) ||
    { echo "FAIL the index with room again: exit $code, ${docs:-no} documents"; cat "$W/err"; fail=$((fail + 1)); }
rm -rf "$M/ix"

# dedup's spool of standard input lives in /tmp: a small tmpfs there, in a
# mount namespace of its own.  This script's files, and perhaps the command
# itself, are under /tmp too: the command is run through a descriptor opened
# before the mount hides it.
unshare -m sh -c 'mount -t tmpfs -o size=64k nd-test /tmp && exec /proc/self/fd/9 dedup -q -' \
    9< "$ND" < "$BIG" > /dev/null 2> "$W/err"
code=$?; expect "dedup - with a full /tmp" 2 'temporary file' ""

echo "tmpfs: $pass passed"
[ $fail = 0 ]
