#!/bin/sh
# features.sh - what each accuracy feature of the defaults is worth: the
# engine with all defaults, then with one feature turned off (or the
# chaining guard turned on), then word 3-grams in place of glyph 8-grams,
# then with all of them off at threshold 0.5 (plain MinHash over word
# 3-grams, what other MinHash deduplicators do).
# For each corpus preset and seed it generates a corpus with its ground truth
# (build/ndgen), clusters it with build/neardup and scores the clusters with
# build/ndeval; the table gives the median over the seeds of pairwise F1,
# precision, recall and hard-negative precision.  Writes into OUT
#   features.csv   every run, then the medians (seed "median")
#   features.md    the median table
# OUT is $BUILD/bench unless FEATURE_OUT names another folder (`make
# bench-results` writes the committed bench/results).  Generated corpora go
# to $BUILD/bench/tmp/features/.
#
# Environment: BUILD (default build), FEATURE_OUT, FEATURE_DOCS (documents
# per corpus, default 20000), FEATURE_SEEDS (default "1 2 3"), REUTERS (path
# of reuters21578.jsonl.gz; default ../shared/datasets/reuters21578/ beside
# the tree), FEATURE_REQUIRE_REUTERS (1: no Reuters is an error, not a
# warning).
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DOCS=${FEATURE_DOCS:-20000}
SEEDS=${FEATURE_SEEDS:-1 2 3}
REUTERS=${REUTERS:-../shared/datasets/reuters21578/reuters21578.jsonl.gz}
PY=/usr/bin/python3
OUT=${FEATURE_OUT:-$BUILD/bench}
TMP=$BUILD/bench/tmp/features
PRESETS="web ocr trunc wire hardneg pages digest"
HELSINKI=${HELSINKI:-../shared/datasets/helsinki-dev}

for b in neardup ndgen ndeval; do
    if [ ! -x "$BUILD/$b" ]; then
        echo "features.sh: $BUILD/$b is missing; run 'make bench' (or make all $BUILD/ndgen $BUILD/ndeval)" >&2
        exit 1
    fi
done
if [ -f "$REUTERS" ]; then
    BASE="--reuters $REUTERS"
    BASE_NAME="Reuters-21578"
    echo "base stories: Reuters-21578 ($REUTERS)"
else
    if [ "${FEATURE_REQUIRE_REUTERS:-0}" = 1 ]; then
        echo "features.sh: $REUTERS not found: the committed table needs the" \
             "Reuters-21578 base stories (set REUTERS=path)" >&2
        exit 1
    fi
    BASE=""
    BASE_NAME="the shipped datasets/base-stories.txt"
    echo "features.sh: WARNING: $REUTERS not found: the corpora are made from the" \
         "42 shipped stories, whose families share their text; the scores say little" >&2
fi

rm -rf "$TMP"
mkdir -p "$TMP" "$OUT"
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
RUNS=$TMP/runs.tsv
: > "$RUNS"

# name<TAB>options: one line per setting, in table order.
cat > "$TMP/settings.tsv" <<'EOF'
all defaults	
containment off	--containment 0
boilerplate off	--boilerplate 0
figure check off	--figures 0
components, not attach	--cluster components
guard, not attach	--cluster guarded
word 3-grams	--ngram 3 --sketch kperm --threshold 0.45
plain MinHash	--ngram 3 --sketch kperm --containment 0 --boilerplate 0 --figures 0 --threshold 0.5 --cluster components
plain exact	--ngram 3 --exact --containment 0 --boilerplate 0 --figures 0 --threshold 0.4 --cluster components
EOF

# The real labelled pages, when they are beside the tree: every setting at
# hash seeds 1, 2 and 3 (one collection; the seeds show how much a score
# owes to the hashes), scored by the adjusted Rand index.
if [ -f "$HELSINKI/docs.jsonl.gz" ] && [ -f "$HELSINKI/truth.jsonl.gz" ]; then
    echo "real pages: helsinki-dev ($HELSINKI)"
    gzip -dc "$HELSINKI/docs.jsonl.gz" > "$TMP/helsinki.jsonl"
    gzip -dc "$HELSINKI/truth.jsonl.gz" > "$TMP/helsinki.truth.jsonl"
    for s in $SEEDS; do
        while IFS='	' read -r name opts; do
            # shellcheck disable=SC2086 # opts is a list of options
            "$BUILD/neardup" cluster -q $opts --seed "$s" "$TMP/helsinki.jsonl" > "$TMP/pred.jsonl"
            "$BUILD/ndeval" --json --truth "$TMP/helsinki.truth.jsonl" "$TMP/pred.jsonl" > "$TMP/eval.json"
            printf '%s\t%s\thelsinki\t%s\t' "$name" "$opts" "$s" >> "$RUNS"
            "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1]))
print("%.4f\t%.4f\t%.4f\t%.4f" % (d["ari"], d["pair_precision"], d["pair_recall"], d["hardneg_precision"]))' \
                "$TMP/eval.json" >> "$RUNS"
        done < "$TMP/settings.tsv"
    done
    rm -f "$TMP/helsinki.jsonl" "$TMP/helsinki.truth.jsonl"
    REAL=helsinki
else
    echo "real pages: helsinki-dev not found at $HELSINKI; its column is left out"
    REAL=""
fi

for s in $SEEDS; do
    for p in $PRESETS; do
        c=$TMP/$p.$s.jsonl
        t=$TMP/$p.$s.truth.jsonl
        # shellcheck disable=SC2086 # BASE is empty or two words
        "$BUILD/ndgen" --preset "$p" --docs "$DOCS" --seed "$s" $BASE --out "$c" --truth "$t"
        while IFS='	' read -r name opts; do
            # shellcheck disable=SC2086 # opts is a list of options
            "$BUILD/neardup" cluster -q $opts "$c" > "$TMP/pred.jsonl"
            "$BUILD/ndeval" --json --truth "$t" "$TMP/pred.jsonl" > "$TMP/eval.json"
            printf '%s\t%s\t%s\t%s\t' "$name" "$opts" "$p" "$s" >> "$RUNS"
            "$PY" -c 'import json, sys; d = json.load(open(sys.argv[1]))
print("%.4f\t%.4f\t%.4f\t%.4f" % (d["pair_f1"], d["pair_precision"], d["pair_recall"], d["hardneg_precision"]))' \
                "$TMP/eval.json" >> "$RUNS"
        done < "$TMP/settings.tsv"
        echo "features: $p seed $s done, $(( $(date +%s) - START )) s"
        rm -f "$c" "$t"
    done
done
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)

"$PY" - "$RUNS" "$OUT" "$PRESETS $REAL" "$SEEDS" "$DOCS" "$BASE_NAME" \
    "$(( $(date +%s) - START ))" "$LOAD_START" "$LOAD_END" "$(nproc)" <<'EOF'
import csv, os, statistics, sys

runs, out, presets, seeds, docs, base, secs, l0, l1, cores = sys.argv[1:11]
presets, seeds = presets.split(), seeds.split()
rows, order = [], []
with open(runs) as f:
    for line in f:
        name, opts, p, s, f1, pr, rc, hn = line.rstrip("\n").split("\t")
        if name not in order:
            order.append(name)
        rows.append({"setting": name, "options": opts, "preset": p, "seed": s,
                     "pair_f1": float(f1), "pair_precision": float(pr),
                     "pair_recall": float(rc), "hardneg_precision": float(hn)})
keys = ("pair_f1", "pair_precision", "pair_recall", "hardneg_precision")
med = {}
for name in order:
    for p in presets:
        rs = [r for r in rows if r["setting"] == name and r["preset"] == p]
        m = {k: statistics.median(r[k] for r in rs) for k in keys}
        med[name, p] = m
        rows.append(dict(setting=name, options=rs[0]["options"], preset=p, seed="median", **m))
with open(os.path.join(out, "features.csv"), "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
    w.writeheader()
    for r in rows:
        w.writerow({k: ("%.4f" % v if isinstance(v, float) else v) for k, v in r.items()})

opts = {r["setting"]: r["options"] or "(none)" for r in rows}
md = []
w = md.append
w("Measured by `bench/features.sh`: %s docs per corpus, base stories %s, seeds %s, "
  "median over the seeds; `build/neardup cluster` scored by `build/ndeval`. "
  "%d runs in %s s on %s cores (load average %s at the start, %s at the end; "
  "the figures are accuracy, not speed, and do not depend on load)."
  % (docs, base, ", ".join(seeds), len(order) * len(presets) * len(seeds), secs,
     cores, l0, l1))
w("")
w("Pairwise F1 (precision / recall) on the generated corpora; on `helsinki` (the real "
  "pages of helsinki-dev, hash seeds %s) the adjusted Rand index (pairwise precision / "
  "recall); for `hardneg` also the hard-negative precision:" % ", ".join(seeds))
w("")
w("| setting | options | " + " | ".join(presets) + " | hardneg: hard-neg P |")
w("|---|---|" + "---:|" * (len(presets) + 1))
for name in order:
    cells = ["%.4f (%.4f / %.4f)" % (med[name, p]["pair_f1"], med[name, p]["pair_precision"],
                                     med[name, p]["pair_recall"]) for p in presets]
    hn = "%.4f" % med[name, "hardneg"]["hardneg_precision"] if "hardneg" in presets else "n/a"
    w("| %s | `%s` | %s | %s |" % (name, opts[name], " | ".join(cells), hn))
with open(os.path.join(out, "features.md"), "w") as f:
    f.write("\n".join(md) + "\n")
print("\n".join(md))
EOF
echo "wrote $OUT/features.csv and $OUT/features.md in $(( $(date +%s) - START )) s"
