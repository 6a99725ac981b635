#!/bin/sh
# run.sh BUILD - the NEWS-COPY loader on a tiny file in that format.
#
# test_inf_data.json / full_test_gt.json here were written for this test:
# story 1 (1001, 1002, 1003: the pairs 1001-1002 and 1003-1002, so one
# component of three), story 2 (2001, 2002), two lone articles.
set -u
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "newscopy: FAIL: $1: got [$2], want [$3]"; fi; }

$PY "$ROOT/bench/newscopy/convert.py" "$HERE/test_inf_data.json" \
    "$HERE/full_test_gt.json" "$TMP/c.jsonl" "$TMP/t.jsonl" 2>"$TMP/err"
check "convert exit" "$?" "0"
check "convert summary" "$(cat "$TMP/err")" \
    "convert.py: 7 articles, 3 labelled pairs, 4 clusters"
check "truth" "$(tr -d '\n' <"$TMP/t.jsonl")" \
    '{"id": "1001", "cluster": 0}{"id": "1002", "cluster": 0}{"id": "1003", "cluster": 0}{"id": "2001", "cluster": 1}{"id": "2002", "cluster": 1}{"id": "3001", "cluster": 2}{"id": "4001", "cluster": 3}'
check "text is headline, blank line, article" \
    "$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["text"][:30])' "$TMP/c.jsonl")" \
    "ROAD BILL PASSES

The state le"
out=$(BUILD="$ROOT/$BUILD" "$ROOT/bench/newscopy/run.sh" "$HERE" 2>/dev/null | grep "adjusted Rand")
check "neardup finds the two stories" "$out" "adjusted Rand index   1.000000"
echo '[["1001", "9999"]]' >"$TMP/bad.json"
$PY "$ROOT/bench/newscopy/convert.py" "$HERE/test_inf_data.json" "$TMP/bad.json" \
    "$TMP/c2" "$TMP/t2" 2>"$TMP/err2"
check "unknown id refused" "$?" "1"
check "unknown id named" "$(cat "$TMP/err2")" \
    "convert.py: $TMP/bad.json: pair 1 names '9999', not in $HERE/test_inf_data.json"
out=$("$ROOT/bench/newscopy/run.sh" "$TMP" 2>&1)
check "absent data skipped" "$out" "run.sh: $TMP/test_inf_data.json not found; skipping"
echo "newscopy: $pass passed, $fail failed"
[ "$fail" = 0 ]
