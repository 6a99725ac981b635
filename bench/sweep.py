#!/usr/bin/python3
"""sweep.py - accuracy and speed of the engine over a grid of parameters.

    /usr/bin/python3 bench/sweep.py [--docs 5000] [--jobs N] [...]

For every corpus preset (generated with build/ndgen and its ground truth) and
every combination of shingle kind and size, k, threshold and measure, runs
build/ndbench once (boilerplate suppression, figure check and clustering as
the engine's defaults unless --boilerplate, --figures, --cluster are given) (one thread, no warm-up) with --pred-out and scores the
clusters with build/ndeval.  Writes

    OUT/sweep.csv   one row per (preset, setting)
    OUT/sweep.md    markdown tables: the best threshold of each
                              setting by mean pairwise F1 over the presets,
                              the best settings per preset, and the default

and prints sweep.md.  The documents-per-second figures are single-thread
batch throughput with --jobs runs side by side: they rank settings against
each other, they are not the engine's speed (bench/run.sh measures that).
OUT is build/bench unless --out names another folder (bench/results holds a
committed sweep; write there only on purpose).  Corpora go to
build/bench/tmp/sweep/.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_list(s, conv=str):
    return [conv(x) for x in s.split(",") if x]


def shingle_args(sh):
    """'w3' -> word 3-grams, 'c10' -> character 10-grams."""
    kind, n = sh[0], int(sh[1:])
    if kind == "w":
        return ["--ngram", str(n)]
    if kind == "c":
        return ["--char-ngram", str(n)]
    raise SystemExit("sweep.py: shingle '%s' is not w<N> or c<N>" % sh)


def shingle_name(sh):
    return ("word %d" if sh[0] == "w" else "char %d") % int(sh[1:])


def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r.stdout


def one(a, tmp, preset, sketch, sh, k, th, measure, cont, idx):
    corpus = os.path.join(tmp, preset + ".jsonl")
    truth = os.path.join(tmp, preset + ".truth.jsonl")
    pred = os.path.join(tmp, "pred%d.jsonl" % idx)
    cmd = [os.path.join(a.build, "ndbench"), "--json", "--repeat", "1", "--warmup", "0",
           "--threads", "1", "--num-perm", str(k), "--threshold", str(th),
           "--measure", measure, "--sketch", sketch, "--seed", str(a.seed),
           "--containment", "%g" % cont,
           "--pred-out", pred] + shingle_args(sh)
    for opt in ("boilerplate", "figures", "cluster"):
        if getattr(a, opt) is not None:
            cmd += ["--" + opt, str(getattr(a, opt))]
    if a.brute:
        cmd += ["--brute", str(a.brute)]
    b = json.loads(run(cmd + [corpus]))
    e = json.loads(run([os.path.join(a.build, "ndeval"), "--json", "--truth", truth, pred]))
    os.unlink(pred)
    row = {"preset": preset, "sketch": sketch, "shingle": sh, "k": k,
           "measure": measure if not cont else "jaccard+c%g" % cont, "threshold": th,
           "bands": b["params"]["bands"], "rows": b["params"]["rows"],
           "precision": e["pair_precision"], "recall": e["pair_recall"], "f1": e["pair_f1"],
           "ari": e["ari"], "bcubed_f1": e["bcubed_f1"],
           "hardneg_precision": e["hardneg_precision"],
           "docs_per_s": b["docs_per_s"]["batch"]}
    if a.brute:
        row["ref_precision"] = b["brute"]["precision"]
        row["ref_recall"] = b["brute"]["recall"]
    return row


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def markdown(a, rows, presets, seconds):
    out = []
    w = out.append
    w("Sweep: %d docs per preset (%s), seed %d, base stories: %s; %d runs in %.0f s "
      "with %d jobs on a %d-core machine." % (a.docs, ", ".join(presets), a.seed, a.base_name,
                                             len(rows), seconds, a.jobs, os.cpu_count()))
    w("Command: `%s`" % " ".join(["/usr/bin/python3", "bench/sweep.py"] + sys.argv[1:]))
    w("")
    w("### Best threshold of each setting (by mean pairwise F1 over the presets)")
    w("")
    w("| sketch | shingles | k | measure | threshold | b x r | "
      + " | ".join("F1 " + p for p in presets) + " | mean F1 | mean P | mean R | mean ARI | docs/s |")
    w("|---|---|---:|---|---:|---|" + "---:|" * (len(presets) + 5))
    groups = {}
    for r in rows:
        groups.setdefault((r["sketch"], r["shingle"], r["k"], r["measure"]), {}).setdefault(
            r["threshold"], []).append(r)
    for (sk, sh, k, m), by_t in groups.items():
        best_t = max(by_t, key=lambda t: mean([r["f1"] for r in by_t[t]]))
        rs = {r["preset"]: r for r in by_t[best_t]}
        first = next(iter(rs.values()))
        w("| %s | %s | %d | %s | %.2f | %d x %d | %s | %.4f | %.4f | %.4f | %.4f | %.0f |" % (
            sk, shingle_name(sh), k, m, best_t, first["bands"], first["rows"],
            " | ".join("%.4f" % rs[p]["f1"] if p in rs else "n/a" for p in presets),
            mean([r["f1"] for r in rs.values()]), mean([r["precision"] for r in rs.values()]),
            mean([r["recall"] for r in rs.values()]), mean([r["ari"] for r in rs.values()]),
            mean([r["docs_per_s"] for r in rs.values()])))
    w("")
    w("### The five best settings of each preset")
    w("")
    w("| preset | sketch | shingles | k | measure | threshold | P | R | F1 | ARI | docs/s |")
    w("|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for p in presets:
        best = sorted((r for r in rows if r["preset"] == p), key=lambda r: -r["f1"])[:5]
        for r in best:
            w("| %s | %s | %s | %d | %s | %.2f | %.4f | %.4f | %.4f | %.4f | %.0f |" % (
                p, r["sketch"], shingle_name(r["shingle"]), r["k"], r["measure"], r["threshold"],
                r["precision"], r["recall"], r["f1"], r["ari"], r["docs_per_s"]))
    dflt = [r for r in rows if r["shingle"] == "w3" and r["k"] == 128
            and r["measure"] == "jaccard" and r["sketch"] == "kperm"]
    if dflt:
        w("")
        w("### Word 3-grams, k = 128, Jaccard, k permutations, every threshold")
        w("")
        w("| preset | threshold | b x r | P | R | F1 | ARI | hard-neg P | docs/s |")
        w("|---|---:|---|---:|---:|---:|---:|---:|---:|")
        for r in sorted(dflt, key=lambda r: (presets.index(r["preset"]), r["threshold"])):
            w("| %s | %.2f | %d x %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.0f |" % (
                r["preset"], r["threshold"], r["bands"], r["rows"], r["precision"],
                r["recall"], r["f1"], r["ari"], r["hardneg_precision"], r["docs_per_s"]))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=5000, help="documents per preset (5000)")
    ap.add_argument("--presets", default="web,ocr,trunc,wire,hardneg")
    ap.add_argument("--shingles", default="w2,w3,w4,w5,w6,w7,c5,c10,c15,c20,c25",
                    help="w<N> word N-grams, c<N> character N-grams")
    ap.add_argument("--k", default="64,128,256", help="num_perm values")
    ap.add_argument("--thresholds", default="0.3,0.4,0.5,0.6,0.7,0.8,0.9")
    ap.add_argument("--measures", default="jaccard,containment")
    ap.add_argument("--sketches", default="kperm", help="kperm, oph, cminhash")
    ap.add_argument("--containments", default="0",
                    help="with jaccard: also match at containment >= C (0 = off)")
    ap.add_argument("--boilerplate", help="as ndbench; default the engine's (0.02)")
    ap.add_argument("--figures", help="as ndbench; default the engine's (0.8)")
    ap.add_argument("--cluster", help="components or guarded; default components")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--brute", type=int, default=0,
                    help="also score pairs against the exact reference on N docs")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench"))
    ap.add_argument("--reuters", default=os.path.join(
        os.path.dirname(ROOT), "shared", "datasets", "reuters21578", "reuters21578.jsonl.gz"))
    a = ap.parse_args()
    presets = parse_list(a.presets)
    grid = [(p, sk, sh, k, th, m, c) for p in presets for sk in parse_list(a.sketches)
            for sh in parse_list(a.shingles)
            for k in parse_list(a.k, int) for m in parse_list(a.measures)
            for th in parse_list(a.thresholds, float)
            for c in parse_list(a.containments, float) if m == "jaccard" or c == 0]
    for b in ("ndbench", "ndgen", "ndeval"):
        if not os.access(os.path.join(a.build, b), os.X_OK):
            raise SystemExit("sweep.py: %s/%s is missing; run 'make bench' first" % (a.build, b))

    tmp = os.path.join(ROOT, "build", "bench", "tmp", "sweep")
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(tmp, exist_ok=True)
    base = ["--reuters", a.reuters] if os.path.isfile(a.reuters) else []
    a.base_name = "Reuters-21578" if base else "the shipped datasets/base-stories.txt"
    for p in presets:
        run([os.path.join(a.build, "ndgen"), "--preset", p, "--docs", str(a.docs),
             "--seed", str(a.seed), "--out", os.path.join(tmp, p + ".jsonl"),
             "--truth", os.path.join(tmp, p + ".truth.jsonl")] + base)

    t0 = time.time()
    rows = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        futs = [ex.submit(one, a, tmp, *g, i) for i, g in enumerate(grid)]
        for i, f in enumerate(concurrent.futures.as_completed(futs), 1):
            rows.append(f.result())
            if i % 20 == 0 or i == len(futs):
                print("sweep: %d/%d runs, %.0f s" % (i, len(futs), time.time() - t0),
                      file=sys.stderr)
    seconds = time.time() - t0
    order = {(g[0], g[1], g[2], g[3], g[4],
              g[5] if not g[6] else "jaccard+c%g" % g[6]): i for i, g in enumerate(grid)}
    rows.sort(key=lambda r: order[(r["preset"], r["sketch"], r["shingle"], r["k"],
                                   r["threshold"], r["measure"])])

    with open(os.path.join(a.out, "sweep.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        wr.writeheader()
        for r in rows:
            wr.writerow({k: ("%.0f" % v if k == "docs_per_s" else "%g" % v if k == "threshold"
                             else "%.3f" % v if isinstance(v, float) else v)
                         for k, v in r.items()})
    md = markdown(a, rows, presets, seconds)
    with open(os.path.join(a.out, "sweep.md"), "w") as f:
        f.write(md)
    sys.stdout.write(md)


if __name__ == "__main__":
    main()
