#!/bin/sh
# run.sh BUILD_DIR - checks BUILD_DIR/ndeval against figures computed by hand
# for the small truth/prediction files beside this script, against a brute
# force pair enumeration on a random clustering, and its exit codes and
# FILE:LINE messages on bad input.  Last line: "eval: N passed, M failed".
set -u
BUILD=${1:-build}
NDEVAL="$BUILD/ndeval"
DIR=$(dirname "$0")
PY=${PYTHON:-python3}
pass=0
fail=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL $1" >&2; }

# figures NAME TRUTH PRED EXPECTED: EXPECTED is a Python dict whose values
# may be written as fractions; every key must match to 1e-9.
figures() {
    if ! "$NDEVAL" --json --truth "$2" "$3" >"$TMP/out" 2>"$TMP/err"; then
        ko "$1: exit $? $(cat "$TMP/err")"
        return
    fi
    if "$PY" -c '
import json, sys
got = json.load(open(sys.argv[1]))
exp = eval(sys.argv[2])
bad = [k for k in exp if k not in got or abs(got[k] - exp[k]) > 1e-9]
for k in bad:
    print("  %s: got %s, expected %r" % (k, got.get(k), exp[k]), file=sys.stderr)
sys.exit(1 if bad else 0)
' "$TMP/out" "$4"; then ok; else ko "$1"; fi
}

# status NAME CODE PATTERN ARGS...: exit code CODE and stderr matching the
# extended regular expression PATTERN.
status() {
    name=$1 code=$2 pattern=$3
    shift 3
    "$NDEVAL" "$@" >/dev/null 2>"$TMP/err"
    rc=$?
    if [ "$rc" -eq "$code" ] && grep -Eq "$pattern" "$TMP/err"; then
        ok
    else
        ko "$name: exit $rc, stderr: $(cat "$TMP/err")"
    fi
}

# Perfect: truth {a,b} {c,d,e} {f}; the prediction has the same partition
# under other labels and in another order.
#   A = C(2)+C(3)+C(1) = 1+3+0 = 4 = B = TP: every figure 1, ARI 1.
figures perfect "$DIR/perfect.truth.jsonl" "$DIR/perfect.pred.jsonl" '{
  "docs": 6, "true_clusters": 3, "pred_clusters": 3,
  "pair_precision": 1, "pair_recall": 1, "pair_f1": 1, "ari": 1,
  "bcubed_precision": 1, "bcubed_recall": 1, "bcubed_f1": 1,
  "hardneg_pairs": 0, "hardneg_precision": 1}'

# All singletons predicted; truth {1,2} {3,4} {5,6}.
#   A = 3, B = 0, TP = 0: precision 1 (no predicted pair), recall 0, F1 0.
#   N = C(6) = 15, E = A B / N = 0, ARI = (0 - 0) / (3/2 - 0) = 0.
#   B-cubed: each doc 1/1 precise, recalls 1 of 2: P 1, R 1/2,
#   F1 = 2 (1)(1/2) / (3/2) = 2/3.
figures singletons "$DIR/pairs.truth.jsonl" "$DIR/singletons.pred.jsonl" '{
  "docs": 6, "true_clusters": 3, "pred_clusters": 6,
  "pair_precision": 1, "pair_recall": 0, "pair_f1": 0, "ari": 0,
  "bcubed_precision": 1, "bcubed_recall": 1/2, "bcubed_f1": 2/3,
  "hardneg_pairs": 0, "hardneg_precision": 1}'

# Everything merged into one cluster; truth {1,2} {3,4} {5,6}.
#   A = 3, B = C(6) = 15, TP = 3: P = 3/15 = 1/5, R = 1,
#   F1 = 2 (1/5) / (6/5) = 1/3.  E = 3 * 15 / 15 = 3, max = (3+15)/2 = 9,
#   ARI = (3 - 3) / (9 - 3) = 0.
#   B-cubed: each doc shares 2 of 6: P = 1/3, R = 1, F1 = (2/3)/(4/3) = 1/2.
figures merged "$DIR/pairs.truth.jsonl" "$DIR/merged.pred.jsonl" '{
  "docs": 6, "true_clusters": 3, "pred_clusters": 1,
  "pair_precision": 1/5, "pair_recall": 1, "pair_f1": 1/3, "ari": 0,
  "bcubed_precision": 1/3, "bcubed_recall": 1, "bcubed_f1": 1/2,
  "hardneg_pairs": 0, "hardneg_precision": 1}'

# Mixed: truth T1={1,2,3,4} T2={5,6,7} T3={8,9} T4={10};
# prediction P1={1,2,3} P2={4,5,6} P3={7,8,9,10}.
#   n_ij: (T1,P1)=3 (T1,P2)=1 (T2,P2)=2 (T2,P3)=1 (T3,P3)=2 (T4,P3)=1
#   A = 6+3+1+0 = 10, B = 3+3+6 = 12, TP = 3+0+1+0+1+0 = 5
#   P = 5/12, R = 5/10, F1 = 2 (5/12)(1/2) / (11/12) = 5/11
#   N = C(10) = 45, E = 10*12/45 = 8/3, max = 11,
#   ARI = (5 - 8/3) / (11 - 8/3) = (7/3) / (25/3) = 7/25
#   B-cubed P = (9/3 + 1/3 + 4/3 + 1/4 + 4/4 + 1/4) / 10 = (37/6)/10 = 37/60
#   B-cubed R = (9/4 + 1/4 + 4/3 + 1/3 + 4/2 + 1/1) / 10 = (43/6)/10 = 43/60
#   B-cubed F1 = 2 (37/60)(43/60) / (80/60) = 3182/4800
figures mixed "$DIR/mixed.truth.jsonl" "$DIR/mixed.pred.jsonl" '{
  "docs": 10, "true_clusters": 4, "pred_clusters": 3,
  "true_pairs": 10, "pred_pairs": 12, "shared_pairs": 5,
  "pair_precision": 5/12, "pair_recall": 1/2, "pair_f1": 5/11, "ari": 7/25,
  "bcubed_precision": 37/60, "bcubed_recall": 43/60, "bcubed_f1": 3182/4800,
  "hardneg_pairs": 0, "hardneg_precision": 1}'

# Hard negatives merged wrongly: truth A={a1,a2,a3}, H1={h1*,h1r},
# H2={h2*}, h3* without a cluster (its own); * = hardneg.
# Prediction P1={a1,a2,a3,h1,h1r}, P2={h2,h3}.
#   Pairs with a hard negative: P1 C(5)-C(4) = 4 (h1 with a1,a2,a3,h1r),
#   P2 C(2)-C(0) = 1 (h2,h3): 5, truly same only (h1,h1r): 1/5.
#   A = 3+1 = 4, B = 10+1 = 11, TP = 3+1 = 4: P = 4/11, R = 1,
#   F1 = 2 (4/11) / (15/11) = 8/15.  N = C(7) = 21, E = 44/21,
#   ARI = (4 - 44/21) / (15/2 - 44/21) = (40/21) / (227/42) = 80/227.
#   B-cubed P = (9/5 + 4/5 + 1/2 + 1/2) / 7 = 18/35, R = 7/7 = 1,
#   F1 = 2 (18/35) / (53/35) = 36/53.
figures hardneg "$DIR/hardneg.truth.jsonl" "$DIR/hardneg.pred.jsonl" '{
  "docs": 7, "true_clusters": 4, "pred_clusters": 2,
  "pair_precision": 4/11, "pair_recall": 1, "pair_f1": 8/15, "ari": 80/227,
  "bcubed_precision": 18/35, "bcubed_recall": 1, "bcubed_f1": 36/53,
  "hardneg_pairs": 5, "hardneg_precision": 1/5}'

# Ids are JSON texts: 5 and "5" are two documents ("\u0035" is "5");
# a blank line is skipped.  Truth {5,6} {"5"} {"7"}, predicted the same.
figures idtype "$DIR/idtype.truth.jsonl" "$DIR/idtype.pred.jsonl" '{
  "docs": 4, "true_clusters": 3, "pred_clusters": 3,
  "pair_precision": 1, "pair_recall": 1, "ari": 1, "bcubed_f1": 1}'

# Prediction on stdin.
if "$NDEVAL" --json --truth "$DIR/mixed.truth.jsonl" - <"$DIR/mixed.pred.jsonl" \
    | grep -q '"ari":0.28,'; then ok; else ko "stdin"; fi

# A random clustering of 3000 documents (with hard negatives) against brute
# force: every same-cluster pair listed, ARI by the pair-confusion formula.
"$PY" - "$TMP" <<'EOF'
import itertools, json, random, sys
from collections import defaultdict
rnd = random.Random(7)
n = 3000
truth = [rnd.randrange(900) for _ in range(n)]
hard = [rnd.random() < 0.05 for _ in range(n)]
pred = [t if rnd.random() < 0.7 else rnd.randrange(1200) for t in truth]
with open(sys.argv[1] + "/r.truth", "w") as f:
    for i in range(n):
        rec = {"id": "d%d" % i, "cluster": truth[i]}
        if hard[i]:
            rec["hardneg"] = True
        f.write(json.dumps(rec) + "\n")
order = list(range(n))
rnd.shuffle(order)
with open(sys.argv[1] + "/r.pred", "w") as f:
    for i in order:
        f.write(json.dumps({"id": "d%d" % i, "cluster": "p%d" % pred[i]}) + "\n")

def members(lab):
    m = defaultdict(set)
    for i, c in enumerate(lab):
        m[c].add(i)
    return m
tm, pm = members(truth), members(pred)
def pairset(m):
    return {p for s in m.values() for p in itertools.combinations(sorted(s), 2)}
T, P = pairset(tm), pairset(pm)
tp = len(T & P); fp = len(P - T); fn = len(T - P)
tn = n * (n - 1) // 2 - tp - fp - fn
hp = [p for p in P if hard[p[0]] or hard[p[1]]]
prec, rec = tp / len(P), tp / len(T)
bp = sum(len(tm[truth[i]] & pm[pred[i]]) / len(pm[pred[i]]) for i in range(n)) / n
br = sum(len(tm[truth[i]] & pm[pred[i]]) / len(tm[truth[i]]) for i in range(n)) / n
exp = {
    "docs": n, "true_clusters": len(tm), "pred_clusters": len(pm),
    "true_pairs": len(T), "pred_pairs": len(P), "shared_pairs": tp,
    "pair_precision": prec, "pair_recall": rec,
    "pair_f1": 2 * prec * rec / (prec + rec),
    "ari": 2 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn)),
    "bcubed_precision": bp, "bcubed_recall": br,
    "bcubed_f1": 2 * bp * br / (bp + br),
    "hardneg_pairs": len(hp),
    "hardneg_precision": sum(p in T for p in hp) / len(hp),
}
with open(sys.argv[1] + "/r.expect", "w") as f:
    f.write(repr(exp))
EOF
if [ -s "$TMP/r.expect" ]; then
    figures random "$TMP/r.truth" "$TMP/r.pred" "$(cat "$TMP/r.expect")"
else
    ko "random: generator failed"
fi

# Errors: FILE:LINE and the exit code.
T=$DIR/pairs.truth.jsonl
status unknown-id 65 'unknown\.pred\.jsonl:3: id "3" is not in' \
    --truth "$T" "$DIR/unknown.pred.jsonl"
status missing-id 65 'pairs\.truth\.jsonl:5: id 5 is missing from' \
    --truth "$T" "$DIR/missing.pred.jsonl"
status dup-pred 65 'dup\.pred\.jsonl:7: duplicate id 2 \(first on line 2\)' \
    --truth "$T" "$DIR/dup.pred.jsonl"
status dup-truth 65 'dup\.truth\.jsonl:3: duplicate id 1 \(first on line 1\)' \
    --truth "$DIR/dup.truth.jsonl" "$DIR/dup.pred.jsonl"
status bad-json 65 'bad\.pred\.jsonl:2: not JSON' \
    --truth "$T" "$DIR/bad.pred.jsonl"
status no-file 2 'no/such/file' --truth "$T" "$DIR/no/such/file"
status no-truth-file 2 'no/such/truth' --truth "$DIR/no/such/truth" "$DIR/merged.pred.jsonl"
status no-args 1 'usage'
status no-pred 1 'usage' --truth "$T"
status bad-option 1 'unknown option' --frobnicate --truth "$T" "$DIR/merged.pred.jsonl"

echo "eval: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
