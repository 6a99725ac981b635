#!/bin/sh
# run.sh DIR [neardup cluster options] - the NEWS-COPY benchmark.
#
# DIR holds test_inf_data.json and full_test_gt.json (NEWS-COPY, Silcock et
# al. 2023; not shipped: get it from its authors).  Converts them, clusters
# with build/neardup and prints ndeval's figures (the field reports ARI).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$HERE/../../build}
[ $# -ge 1 ] || { echo "usage: run.sh DIR [neardup options]" >&2; exit 1; }
DIR=$1
shift
for f in test_inf_data.json full_test_gt.json; do
    [ -r "$DIR/$f" ] || { echo "run.sh: $DIR/$f not found; skipping" >&2; exit 0; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
$PY "$HERE/convert.py" "$DIR/test_inf_data.json" "$DIR/full_test_gt.json" \
    "$TMP/corpus.jsonl" "$TMP/truth.jsonl"
"$BUILD/neardup" cluster -q "$@" "$TMP/corpus.jsonl" >"$TMP/pred.jsonl"
"$BUILD/ndeval" --truth "$TMP/truth.jsonl" "$TMP/pred.jsonl"
