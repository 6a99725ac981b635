#!/usr/bin/env python3
"""ingest.py - an ingestion loop: keep new articles, report the reprints.

    python3 examples/ingest.py [--index DIR] [--threshold T]
                               [--time-field F] [FILE.jsonl ...]

Reads JSON lines ({"id": ..., "text": ...}; stdin without files), checks
each article against an index, adds the new ones and prints one line per
duplicate: {"id": <id>, "duplicate_of": <id>, "jaccard": x,
"containment": y}.  With --index the index lives in DIR and survives
restarts (synced every 1000 articles and at the end); an article whose id
is already indexed is a duplicate of itself.  Articles without a time
(--time-field) get the time of the add, so `neardup index evict --before`
ages them out.

Exit codes as the command's: 2 for a missing or unreadable file, 65 for a
bad line (file and line named; the articles before it stay indexed).
"""
import argparse
import json
import sys

import neardup

SYNC_EVERY = 1000


def records(paths):
    """(file, line number, record) of every non-blank line."""
    for path in paths or ["-"]:
        f = sys.stdin if path == "-" else open(path, encoding="utf-8")
        with f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        yield path, n, json.loads(line)
                    except ValueError as e:
                        raise ValueError("%s:%d: %s" % (path, n, e)) from None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", help="index directory (default: in memory)")
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--time-field")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args(argv)
    params = {} if a.threshold is None else {"threshold": a.threshold}
    added = dups = 0
    try:
        ix = neardup.Index(a.index, **params)
    except (neardup.ParamError, neardup.MismatchError) as e:
        print("ingest.py: %s" % e, file=sys.stderr)
        return 1
    except neardup.Error as e:
        print("ingest.py: %s" % e, file=sys.stderr)
        return 2
    try:
        with ix:
            for path, n, rec in records(a.files):
                try:
                    if not isinstance(rec, dict) or \
                            not isinstance(rec.get("text"), str):
                        raise ValueError("no string \"text\" member")
                    rid = rec.get("id", n)
                    time = rec.get(a.time_field) if a.time_field else None
                    if rid in ix:
                        best = (rid, 1.0, 1.0)
                    else:
                        m = ix.query(rec["text"], limit=1)
                        best = (m[0].id, m[0].jaccard, m[0].containment) \
                            if m else None
                    if not best:
                        ix.add(rid, rec["text"], time=time)
                except (ValueError, TypeError, OverflowError) as e:
                    raise ValueError("%s:%d: %s" % (path, n, e)) from None
                if best:
                    dups += 1
                    print(json.dumps({"id": rid, "duplicate_of": best[0],
                                      "jaccard": round(best[1], 4),
                                      "containment": round(best[2], 4)}))
                    continue
                added += 1
                if added % SYNC_EVERY == 0:
                    ix.sync()
            ix.sync()
    except (OSError, neardup.Error) as e:
        print("ingest.py: %s" % e, file=sys.stderr)
        return 2
    except ValueError as e:
        print("ingest.py: %s" % e, file=sys.stderr)
        return 65
    print("ingest.py: %d added, %d duplicates" % (added, dups),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
