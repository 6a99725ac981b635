#!/usr/bin/env python3
# explain-ref.py FILE '"a","b"' ... - the reference behind the explain-*
# cases: per pair the exact Jaccard and containment of the word 3-gram sets,
# the longest shared run of words and the passage as `neardup pairs --explain`
# prints it.  Independent of the C code: Python's Unicode tables for
# normalization, 3-gram tuples instead of hashes, a plain longest common
# substring over the word lists.
import json, sys, unicodedata
APOS = set("'`\u2018\u2019\u02bc\u00b4\uff07")
def norm(t):
    t = unicodedata.normalize("NFKC", t).casefold()
    out, cur = [], []
    for ch in t:
        if ch in APOS:
            continue
        if unicodedata.category(ch)[0] in "LMN":
            cur.append(ch)
        elif cur:
            out.append("".join(cur)); cur = []
    if cur:
        out.append("".join(cur))
    return out
def shingles(w, n=3):
    if not w: return set()
    if len(w) < n: return {tuple(w)}
    return {tuple(w[i:i+n]) for i in range(len(w)-n+1)}
def lcs(a, b):
    best, end = 0, 0
    for i in range(len(a)):
        for j in range(len(b)):
            k = 0
            while i+k < len(a) and j+k < len(b) and a[i+k] == b[j+k]:
                k += 1
            if k > best:
                best, end = k, i + k
    return best, end - best
docs = {}
for line in open(sys.argv[1]):
    r = json.loads(line); docs[json.dumps(r["id"])] = r["text"]
for pair in sys.argv[2:]:
    x, y = pair.split(",")
    wa, wb = norm(docs[x]), norm(docs[y])
    sa, sb = shingles(wa), shingles(wb)
    i = len(sa & sb)
    n, s = lcs(wa, wb)
    p = wa[s:s+n]
    passage = " ".join(p) if n <= 30 else " ".join(p[:15]) + " ... " + " ".join(p[-15:])
    print(x, y, "%.4f %.4f" % (i/len(sa|sb), i/min(len(sa), len(sb))), n, json.dumps(passage))
