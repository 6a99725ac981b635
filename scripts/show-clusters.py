#!/usr/bin/env python3
"""show-clusters.py CORPUS.jsonl < clusters.jsonl

Print the clusters neardup found, largest first: each member's id, a star on
the representative, and the start of its text.  Standard library only.
"""
import json
import sys


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: show-clusters.py CORPUS.jsonl < clusters.jsonl")
    texts = {}
    with open(sys.argv[1], encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                rec = json.loads(line)
                texts[json.dumps(rec.get("id", n))] = rec.get("text", "")
    clusters = {}
    for line in sys.stdin:
        rec = json.loads(line)
        clusters.setdefault(rec["cluster"], []).append(rec)
    groups = sorted(clusters.values(), key=lambda m: (-len(m), m[0]["cluster"]))
    shown = [g for g in groups if len(g) > 1]
    print("%d documents, %d clusters, %d with more than one member"
          % (sum(map(len, groups)), len(groups), len(shown)))
    for g in shown[:12]:
        print("\ncluster %d (%d documents):" % (g[0]["cluster"], len(g)))
        for rec in g[:6]:
            text = " ".join(texts.get(json.dumps(rec["id"]), "").split())
            print("  %s %-10s %s" % ("*" if rec.get("rep") else " ",
                                      rec["id"], text[:64]))
        if len(g) > 6:
            print("    ... and %d more" % (len(g) - 6))
    if len(shown) > 12:
        print("\n... and %d more clusters" % (len(shown) - 12))


if __name__ == "__main__":
    main()
