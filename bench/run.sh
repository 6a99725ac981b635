#!/bin/sh
# run.sh - the short benchmark suite behind `make bench` (a few minutes on
# two cores).  For each corpus preset it generates a seeded corpus with its
# ground truth, times the engine per stage (build/ndbench), scores the
# clusters (build/ndeval) and the reported pairs against an exact reference,
# scans the threshold and the thread count, then writes into OUT
#   summary.json, summary.csv            every figure of the run
#   summary.md                           the same as markdown tables
#   threshold.csv, threads.csv           the data behind the plots
#   scurve.png, f1_threshold.png, threads.png
# OUT is $BUILD/bench unless BENCH_OUT names another folder: a plain run
# never writes over the committed bench/results (`make bench-results` does,
# on purpose).  Generated corpora go to $BUILD/bench/tmp.
#
# The accuracy part needs the Reuters-21578 stories as base texts: the 42
# stories shipped in datasets/base-stories.txt give corpora whose families
# share their text, which no ground truth can score.  Without Reuters the
# run says so at its start and end and in summary.md, and measures speed
# only; with BENCH_REQUIRE_REUTERS=1 it stops (exit 1) instead.
#
# Environment: BUILD (default build), BENCH_OUT (default $BUILD/bench),
# BENCH_DOCS (documents per preset, default 20000), BENCH_SCALE_DOCS
# (documents for the thread scan, default 50000), BENCH_BRUTE (documents of
# the exact pair reference, default 2000), BENCH_SEED (default 1), REUTERS
# (path of reuters21578.jsonl.gz; default
# ../shared/datasets/reuters21578/reuters21578.jsonl.gz beside the tree),
# BENCH_REQUIRE_REUTERS (1: no Reuters is an error).
set -eu

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DOCS=${BENCH_DOCS:-20000}
SCALE_DOCS=${BENCH_SCALE_DOCS:-50000}
BRUTE=${BENCH_BRUTE:-2000}
SEED=${BENCH_SEED:-1}
REUTERS=${REUTERS:-../shared/datasets/reuters21578/reuters21578.jsonl.gz}
PY=/usr/bin/python3
OUT=${BENCH_OUT:-$BUILD/bench}
TMP=$BUILD/bench/tmp
PRESETS="web ocr trunc wire hardneg"
THRESHOLDS="0.3 0.4 0.5 0.6 0.7 0.8 0.9"

for b in ndbench ndgen; do
    if [ ! -x "$BUILD/$b" ]; then
        echo "run.sh: $BUILD/$b is missing; run 'make bench'" >&2
        exit 1
    fi
done
HAVE_EVAL=1
NO_EVAL=""
if [ ! -x "$BUILD/ndeval" ]; then
    HAVE_EVAL=0
    NO_EVAL="$BUILD/ndeval is missing"
fi
if [ ! -x "$PY" ]; then
    echo "run.sh: $PY is missing (make deps-bench installs python3)" >&2
    exit 1
fi

shout() { # a warning that a reader of the log cannot miss
    {
        echo "run.sh: ################################################################"
        echo "run.sh: $1"
        echo "run.sh: ################################################################"
    } >&2
}

if [ -f "$REUTERS" ]; then
    BASE="--reuters $REUTERS"
    BASE_NAME="reuters21578"
    echo "base stories: Reuters-21578 ($REUTERS)"
else
    if [ "${BENCH_REQUIRE_REUTERS:-0}" = 1 ]; then
        echo "run.sh: $REUTERS not found: the committed results need the Reuters-21578" \
             "base stories (set REUTERS=path)" >&2
        exit 1
    fi
    BASE=""
    BASE_NAME="the 42 shipped stories"
    HAVE_EVAL=0
    NO_EVAL="Reuters-21578 not found at $REUTERS"
    shout "NO ACCURACY: $NO_EVAL. The 42 shipped base stories make families that share their text, so no accuracy is measured; speed only. Set REUTERS=path for the full run."
fi

rm -rf "$TMP"
mkdir -p "$TMP" "$OUT"
START=$(date +%s)
CORES=$(nproc)

if [ "$HAVE_EVAL" = 0 ]; then
    [ -n "$BASE" ] && shout "NO ACCURACY: $NO_EVAL; speed only."
    THRESHOLDS=""  # the threshold scan is an accuracy curve
    rm -f "$OUT/threshold.csv" "$OUT/f1_threshold.png"
fi

evaluate() { # evaluate PRED TRUTH OUT
    if [ "$HAVE_EVAL" = 1 ]; then
        "$BUILD/ndeval" --json --truth "$2" "$1" > "$3"
    else
        echo null > "$3"
    fi
}

for p in $PRESETS; do
    c=$TMP/$p.jsonl
    t=$TMP/$p.truth.jsonl
    # shellcheck disable=SC2086 # BASE is empty or two words
    "$BUILD/ndgen" --preset "$p" --docs "$DOCS" --seed "$SEED" $BASE \
        --out "$c" --truth "$t"
    echo "== $p: $DOCS docs, default parameters"
    "$BUILD/ndbench" --json --label "$p" --brute "$BRUTE" \
        --pred-out "$TMP/$p.pred.jsonl" "$c" > "$TMP/$p.bench.json"
    evaluate "$TMP/$p.pred.jsonl" "$t" "$TMP/$p.eval.json"
    for th in $THRESHOLDS; do
        "$BUILD/ndbench" --json --label "$p" --repeat 1 --warmup 0 \
            --threshold "$th" --pred-out "$TMP/$p.t$th.pred.jsonl" "$c" \
            > "$TMP/$p.t$th.bench.json"
        evaluate "$TMP/$p.t$th.pred.jsonl" "$t" "$TMP/$p.t$th.eval.json"
    done
done

SCAN=1
n=2
while [ "$n" -le $((CORES * 2)) ]; do
    SCAN="$SCAN,$n"
    n=$((n * 2))
done
echo "== scale: $SCALE_DOCS docs, threads $SCAN"
# shellcheck disable=SC2086
"$BUILD/ndgen" --preset scale --docs "$SCALE_DOCS" --seed "$SEED" $BASE \
    --out "$TMP/scale.jsonl"
"$BUILD/ndbench" --json --label scale --threads-scan "$SCAN" \
    "$TMP/scale.jsonl" > "$TMP/scale.bench.json"

"$PY" - "$TMP" "$OUT" "$PRESETS" "$THRESHOLDS" "$BASE_NAME" "$SEED" "$NO_EVAL" <<'EOF'
import csv, json, os, sys

tmp, out, presets, thresholds, base, seed, no_eval = sys.argv[1:8]
presets, thresholds = presets.split(), thresholds.split()

def load(name):
    with open(os.path.join(tmp, name)) as f:
        return json.load(f)

summary = {"base": base, "seed": int(seed), "accuracy_missing": no_eval or None,
           "presets": {}, "scale": load("scale.bench.json")}
rows, trows = [], []
for p in presets:
    b, e = load(p + ".bench.json"), load(p + ".eval.json")
    sweep = []
    for t in thresholds:
        tb, te = load("%s.t%s.bench.json" % (p, t)), load("%s.t%s.eval.json" % (p, t))
        r = {"threshold": float(t), "bands": tb["params"]["bands"], "rows": tb["params"]["rows"],
             "docs_per_s": tb["docs_per_s"]["batch"]}
        if te:
            for k in ("pair_precision", "pair_recall", "pair_f1", "ari", "bcubed_f1",
                      "hardneg_precision"):
                r[k] = te[k]
        sweep.append(r)
        trows.append(dict(preset=p, **r))
    summary["presets"][p] = {"bench": b, "eval": e, "threshold_sweep": sweep}
    br = b["brute"] or {}
    row = {"preset": p, "docs": b["docs"], "mb": round(b["bytes"] / 1e6, 3),
           "threshold": b["params"]["threshold"], "bands": b["params"]["bands"],
           "rows": b["params"]["rows"], "threads": b["params"]["threads"],
           "read_s": b["seconds"]["read"], "sketch_s": b["seconds"]["sketch"],
           "lsh_s": b["seconds"]["lsh"], "verify_s": b["seconds"]["verify"],
           "cluster_s": b["seconds"]["cluster"], "total_s": b["seconds"]["total"],
           "docs_per_s": b["docs_per_s"]["total"], "mb_per_s": b["mb_per_s"]["total"],
           "peak_rss_mb": round(b["memory"]["peak_rss_bytes"] / 1e6, 1),
           "bytes_per_doc": b["memory"]["bytes_per_doc_run"],
           "brute_precision": br.get("precision"), "brute_recall": br.get("recall"),
           "brute_f1": br.get("f1")}
    for k in ("pair_precision", "pair_recall", "pair_f1", "ari", "bcubed_f1",
              "hardneg_precision"):
        row[k] = e[k] if e else None
    rows.append(row)

# Other work on the machine slows the runs and flattens the thread scan.
loads = [summary["presets"][p]["bench"]["load_start"] for p in presets] + \
        [summary["scale"]["load_start"]]
cores = summary["scale"]["cores"]
busy = max(loads) >= cores
summary["busy_machine"] = busy

with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=1)
    f.write("\n")

def write_csv(name, rs):
    with open(os.path.join(out, name), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rs[0].keys()))
        w.writeheader()
        w.writerows(rs)

write_csv("summary.csv", rows)
if trows:
    write_csv("threshold.csv", trows)
scan = summary["scale"]["threads_scan"]
write_csv("threads.csv", [{"threads": s["threads"], "docs_per_s": s["docs_per_s"],
                           "mb_per_s": s["mb_per_s"], "speedup": s["speedup"],
                           "sketch_s": s["sketch"], "lsh_s": s["lsh"],
                           "verify_s": s["verify"], "cluster_s": s["cluster"]}
                          for s in scan])

# gnuplot data: one block per preset, and the thread scan.
with open(os.path.join(tmp, "threshold.dat"), "w") as f:
    for p in presets:
        f.write("%s\n" % p)
        for r in summary["presets"][p]["threshold_sweep"]:
            f.write("%g %s %s %s %s\n" % (r["threshold"], r.get("pair_precision", "NaN"),
                                          r.get("pair_recall", "NaN"), r.get("pair_f1", "NaN"),
                                          r.get("ari", "NaN")))
        f.write("\n\n")
with open(os.path.join(tmp, "threads.dat"), "w") as f:
    for s in scan:
        f.write("%d %.1f %.3f\n" % (s["threads"], s["docs_per_s"], s["speedup"]))

def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)

md = []
w = md.append
if no_eval:
    w("**NO ACCURACY MEASURED: %s.** The accuracy columns are n/a and there is no "
      "threshold scan; the speed figures stand." % no_eval)
    w("")
if busy:
    w("**BUSY MACHINE: load average up to %.2f on %d cores while it ran; the speed "
      "columns and the thread scan measure the other work as much as the engine "
      "(the accuracy figures do not depend on load).**" % (max(loads), cores))
    w("")
s0 = summary["presets"][presets[0]]["bench"]
w("Measured by `make bench` (bench/run.sh) on %d cores, load average %.2f at the start; "
  "%d docs per preset, seed %s, base stories: %s; median of %d runs after %d warm-up; "
  "%s %d-grams, %s, k = %d, Jaccard %g or containment %g (%d x %d bands), boilerplate %g, "
  "figures %g, cluster %s, %d threads. Exact-pair P / R: the first %d docs against the "
  "exact match rule on full shingle sets (boilerplate and figure check off in that "
  "comparison)."
  % (s0["cores"], s0["load_start"], s0["docs"], seed, base, s0["repeat"], s0["warmup"],
     s0["params"]["shingle"], s0["params"]["ngram"], s0["params"]["sketch"],
     s0["params"]["num_perm"],
     s0["params"]["threshold"], s0["params"]["containment"], s0["params"]["bands"],
     s0["params"]["rows"], s0["params"]["boilerplate"], s0["params"]["figures"],
     s0["params"]["cluster"], s0["params"]["threads"], s0["brute"]["docs"] if s0["brute"] else 0))
w("")
w("| preset | docs | MB | docs/s | MB/s | sketch s | lsh s | verify s | peak RSS MB "
  "| bytes/doc | pair P | pair R | pair F1 | ARI | hard-neg P | exact-pair P | exact-pair R |")
w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    w("| %s | %d | %.2f | %.0f | %.2f | %.3f | %.3f | %.3f | %.1f | %.0f | %s | %s | %s | %s | %s | %s | %s |"
      % (r["preset"], r["docs"], r["mb"], r["docs_per_s"], r["mb_per_s"], r["sketch_s"],
         r["lsh_s"], r["verify_s"], r["peak_rss_mb"], r["bytes_per_doc"],
         fmt(r["pair_precision"], ".4f"), fmt(r["pair_recall"], ".4f"),
         fmt(r["pair_f1"], ".4f"), fmt(r["ari"], ".4f"), fmt(r["hardneg_precision"], ".4f"),
         fmt(r["brute_precision"], ".4f"), fmt(r["brute_recall"], ".4f")))
sc = summary["scale"]
w("")
w("Thread scan: scale preset, %d docs (%.1f MB), median of %d runs, load average %.2f at the start."
  % (sc["docs"], sc["bytes"] / 1e6, sc["repeat"], sc["load_start"]))
w("")
w("| threads | docs/s | MB/s | speedup | sketch s | lsh s | verify s | cluster s |")
w("|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in scan:
    w("| %d | %.0f | %.2f | %.2f | %.3f | %.3f | %.3f | %.4f |"
      % (s["threads"], s["docs_per_s"], s["mb_per_s"], s["speedup"], s["sketch"], s["lsh"],
         s["verify"], s["cluster"]))
with open(os.path.join(out, "summary.md"), "w") as f:
    f.write("\n".join(md) + "\n")
print("\n" + "\n".join(md))
p0 = summary["presets"][presets[0]]["bench"]["params"]
with open(os.path.join(tmp, "plot.env"), "w") as f:
    f.write("B=%d R=%d T=%g K=%d WHAT='%s %d-grams, k = %d, containment %g, other settings default'\n"
            % (p0["bands"], p0["rows"], p0["threshold"], p0["num_perm"], p0["shingle"],
               p0["ngram"], p0["num_perm"], p0["containment"]))
EOF

. "$TMP/plot.env"
NP=$(echo "$PRESETS" | wc -w)
gnuplot -e "out='$OUT/scurve.png'; b=$B; r=$R; t=$T; k=$K" bench/plots/scurve.gp
if [ "$HAVE_EVAL" = 1 ]; then
    gnuplot -e "out='$OUT/f1_threshold.png'; data='$TMP/threshold.dat'; n=$NP; what='$WHAT'" \
        bench/plots/f1_threshold.gp
fi
gnuplot -e "out='$OUT/threads.png'; data='$TMP/threads.dat'; cores=$CORES; what='scale preset, $SCALE_DOCS docs'" \
    bench/plots/threads.gp
echo "wrote $OUT/summary.json, summary.csv, summary.md, threads.csv and the plots" \
     "$([ "$HAVE_EVAL" = 1 ] && echo "(with threshold.csv) ")in $(( $(date +%s) - START )) s on $CORES cores"
[ "$HAVE_EVAL" = 1 ] || shout "NO ACCURACY: $NO_EVAL; the figures above are speed only."
if grep -q '^\*\*BUSY MACHINE' "$OUT/summary.md"; then
    shout "BUSY MACHINE: the speed figures above measure other work too (summary.md)."
fi
