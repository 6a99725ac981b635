#!/bin/sh
# ixparity.sh - the index against the batch's decisions on every preset and
# the labelled pages (bench/README.md, "The index against the truth").
#   bench/ixparity.sh [--json]    (after make: build/ndgen, build/ixparity)
# Environment: BUILD (build), REUTERS, HELSINKI (a directory holding
# docs.jsonl.gz and truth.jsonl.gz), IXP_DOCS (20000), IXP_TMP.
set -eu
opts="$*"
here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
reuters=${REUTERS:-$here/../shared/datasets/reuters21578/reuters21578.jsonl.gz}
helsinki=${HELSINKI:-$here/../shared/datasets/helsinki-dev}
docs=${IXP_DOCS:-20000}
tmp=${IXP_TMP:-$here/bench/results/tmp/ixparity}
mkdir -p "$tmp"
base=""
[ -f "$reuters" ] && base="--reuters $reuters" ||
    echo "ixparity.sh: no Reuters-21578 at $reuters: shipped base stories" >&2
set --
for p in web ocr trunc wire hardneg pages digest; do
    c="$tmp/$p-$docs.jsonl"
    [ -s "$c" ] || "$build/ndgen" $base --preset $p --docs "$docs" --seed 1 \
        --out "$c" --truth "$tmp/$p-$docs.truth.jsonl"
    set -- "$@" --label $p "$c" "$tmp/$p-$docs.truth.jsonl"
done
if [ -f "$helsinki/docs.jsonl.gz" ] && [ -f "$helsinki/truth.jsonl.gz" ]; then
    set -- "$@" --label helsinki "$helsinki/docs.jsonl.gz" "$helsinki/truth.jsonl.gz"
else
    echo "ixparity.sh: no labelled pages at $helsinki: skipped" >&2
fi
exec "$build/ixparity" $opts "$@"
