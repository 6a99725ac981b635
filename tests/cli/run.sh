#!/bin/sh
# run.sh NEARDUP - end-to-end tests of the command line.
#
# Each directory under tests/cli/cases/ is one test:
#   cmd    a shell script; $ND runs the neardup binary (cluster and dedup
#          through tests/accounting.py, which checks that every input
#          record is accounted for), $DATA the folder
#          tests/cli/data, $TMP a fresh empty folder (also the working dir)
#   out    the exact expected stdout (absent: stdout must be empty)
#   err    the exact expected stderr (absent: stderr must be empty)
#   code   the expected exit status (absent: 0)
# Prints a diff for each failure and "cli: N passed, M failed" last.
set -u
ND_REAL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/data
# Every cluster and dedup run is checked for records lost or repeated.
ND=$HERE/nd-checked
export ND ND_REAL DATA
pass=0
fail=0
for dir in "$HERE"/cases/*/; do
    name=$(basename "$dir")
    TMP=$(mktemp -d)
    export TMP
    (cd "$TMP" && sh "$dir/cmd" >"$TMP/.out" 2>"$TMP/.err")
    code=$?
    want_code=0
    [ -f "$dir/code" ] && want_code=$(cat "$dir/code")
    ok=1
    if [ "$code" != "$want_code" ]; then
        echo "FAIL $name: exit $code, want $want_code"
        ok=0
    fi
    for s in out err; do
        want=/dev/null
        [ -f "$dir/$s" ] && want="$dir/$s"
        if ! cmp -s "$want" "$TMP/.$s"; then
            echo "FAIL $name: std$s differs (- want, + got)"
            diff -u "$want" "$TMP/.$s" | sed -n '3,40p'
            ok=0
        fi
    done
    if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
    rm -rf "$TMP"
done
echo "cli: $pass passed, $fail failed"
[ $fail = 0 ]
