#!/usr/bin/env python3
"""convert.py - NEWS-COPY (Silcock et al. 2023) to neardup's corpus and truth.

    convert.py TEST_INF_DATA.json FULL_TEST_GT.json CORPUS.jsonl TRUTH.jsonl

test_inf_data.json maps an article id to {"headline", "article", "byline", ...};
full_test_gt.json is a list of [id1, id2] pairs of reprints of one story.  The
truth clusters are the connected components of those pairs; every other
article is a cluster of its own.  The text neardup sees is the headline, a
blank line, then the article (the byline is left out: it names the paper, not
the story).  Ids are written as JSON strings, in sorted order, so the corpus
is the same on every run.  Standard library only.
"""
import json
import sys


def find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


def main(argv):
    if len(argv) != 5:
        sys.exit("usage: convert.py TEST_INF_DATA.json FULL_TEST_GT.json "
                 "CORPUS.jsonl TRUTH.jsonl")
    data_path, gt_path, corpus_path, truth_path = argv[1:]
    with open(data_path, encoding="utf-8") as f:
        data = json.load(f)
    with open(gt_path, encoding="utf-8") as f:
        pairs = json.load(f)
    if not isinstance(data, dict) or not isinstance(pairs, list):
        sys.exit("convert.py: %s must map ids to articles and %s must list "
                 "pairs" % (data_path, gt_path))
    ids = sorted(data, key=str)
    parent = {i: i for i in ids}
    for n, pair in enumerate(pairs, 1):
        if not isinstance(pair, list) or len(pair) != 2:
            sys.exit("convert.py: %s: pair %d is not [id1, id2]" % (gt_path, n))
        a, b = (str(x) for x in pair)
        for x in (a, b):
            if x not in parent:
                sys.exit("convert.py: %s: pair %d names %r, not in %s"
                         % (gt_path, n, x, data_path))
        ra, rb = find(parent, a), find(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    cluster, number = {}, {}
    for i in ids:
        root = find(parent, i)
        number.setdefault(root, len(number))
        cluster[i] = number[root]
    with open(corpus_path, "w", encoding="utf-8") as out:
        for i in ids:
            rec = data[i]
            text = (rec.get("headline") or "").strip()
            article = (rec.get("article") or "").strip()
            text = text + "\n\n" + article if text else article
            out.write(json.dumps({"id": str(i), "text": text},
                                 ensure_ascii=False) + "\n")
    with open(truth_path, "w", encoding="utf-8") as out:
        for i in ids:
            out.write(json.dumps({"id": str(i), "cluster": cluster[i]}) + "\n")
    print("convert.py: %d articles, %d labelled pairs, %d clusters"
          % (len(ids), len(pairs), len(number)), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
