"""examples/ingest.py: the duplicates it prints, what it keeps, its exits."""
import json
import os
import subprocess
import sys

import neardup
from neardup.tests.helpers import near, root, text


def ingest(*args, stdin=None):
    script = os.path.join(root(), "examples", "ingest.py")
    return subprocess.run([sys.executable, script] + [str(a) for a in args],
                          input=stdin, capture_output=True, text=True)


def test_ingest_prints_duplicates_and_keeps_the_new(tmp_path):
    lines = [{"id": "a", "text": text(1)}, {"id": "b", "text": text(2)},
             {"id": "c", "text": near(1)}, {"id": 4, "text": text(3)},
             {"id": "e", "text": text(2)}]
    f = tmp_path / "in.jsonl"
    f.write_text("".join(json.dumps(x) + "\n" for x in lines))
    d = tmp_path / "ix"
    r = ingest("--index", d, f)
    assert r.returncode == 0, r.stderr
    out = [json.loads(x) for x in r.stdout.splitlines()]
    assert [(o["id"], o["duplicate_of"]) for o in out] == [("c", "a"),
                                                           ("e", "b")]
    assert out[1]["jaccard"] == 1.0 and 0.5 < out[0]["jaccard"] < 1.0
    assert "3 added, 2 duplicates" in r.stderr
    with neardup.Index.open(str(d), readonly=True) as ix:
        assert len(ix) == 3 and "a" in ix and 4 in ix and "c" not in ix
    again = ingest("--index", d, stdin=json.dumps(lines[0]) + "\n")
    assert [json.loads(x)["duplicate_of"] for x in
            again.stdout.splitlines()] == ["a"]


def test_ingest_exit_codes(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": 3}\n')
    r = ingest(bad)
    assert r.returncode == 65 and "bad.jsonl:2" in r.stderr
    r = ingest(tmp_path / "missing.jsonl")
    assert r.returncode == 2 and "missing.jsonl" in r.stderr
    r = ingest("--threshold", "2", bad)
    assert r.returncode == 1 and "threshold" in r.stderr
