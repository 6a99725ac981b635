"""The batch functions over paths run the library's job: its progress,
its warnings, its counters, and an exception raised in a callback."""
import json
import os
import tempfile
import warnings

import pytest

import neardup
from neardup.tests.helpers import cli, cli_raw, ndgen, sample

PHASES = ["count", "sketch", "candidates", "verify", "cluster", "write"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return ndgen(tmp_path_factory.mktemp("gen") / "gen.jsonl",
                 "--docs", 2000, "--seed", 2)


def by_phase(reports):
    """The phases in the order reported, each with its reports."""
    phases = []
    for r in reports:
        if not phases or phases[-1][0] != r.phase:
            phases.append((r.phase, []))
        phases[-1][1].append(r)
    return phases


def test_progress_of_a_file_tells_every_phase(corpus):
    got = []
    res = neardup.cluster(corpus, progress=got.append)
    phases = by_phase(got)
    assert [name for name, _ in phases] == PHASES
    for name, reps in phases:
        assert reps[0].done == 0, name
        assert reps[-1].done == reps[-1].total > 0, name
        assert [r.done for r in reps] == sorted(r.done for r in reps), name
    with open(corpus, "rb") as f:
        size = len(f.read())
    assert phases[0][1][-1].total == phases[1][1][-1].total == size
    assert phases[-1][1][-1].total == len(res) == 2000
    assert got[-1].docs == 2000
    assert [r.seconds for r in got] == sorted(r.seconds for r in got)
    # without boilerplate there is no count pass
    got = []
    neardup.cluster(corpus, boilerplate=0, progress=got.append)
    assert [name for name, _ in by_phase(got)] == PHASES[1:]


def test_progress_of_an_iterable_tells_count_and_sketch():
    texts = ["a text about the harbour strike and its end",
             "a text about the harbour strike and its end!", "other"]
    got = []
    res = neardup.cluster(texts, progress=got.append)
    size = sum(len(t) for t in texts)
    assert [(r.phase, r.done, r.total, r.docs) for r in got] == [
        ("count", 0, size, 3), ("count", size, size, 3),
        ("sketch", 0, size, 3), ("sketch", size, size, 3)]
    assert [m.cluster for m in res] == [0, 0, 1]


class Stop(Exception):
    pass


@pytest.mark.parametrize("phase", ["count", "verify", "write"])
def test_an_exception_in_progress_stops_the_job(corpus, phase):
    calls = []

    def progress(p):
        calls.append(p.phase)
        if p.phase == phase:
            raise Stop(phase)

    with pytest.raises(Stop) as e:
        neardup.pairs(corpus, progress=progress)
    assert e.value.args == (phase,)
    assert calls[-1] == phase  # not called again once it raised
    assert calls.count(phase) == 1
    # the library is left as it was: the next run goes through
    assert len(neardup.dedup(corpus)) < 2000


def test_an_exception_in_progress_of_an_iterable():
    def progress(p):
        if p.phase == "sketch":
            raise Stop()

    with pytest.raises(Stop):
        neardup.cluster(["one text", "two texts"], progress=progress)


def test_progress_must_be_callable(corpus):
    with pytest.raises(TypeError):
        neardup.cluster(corpus, progress=1)


def test_warnings_name_file_and_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_bytes(b'{"id": "a", "text": "one text here"}\n'
                  b'{"id": "b", "text": 2}\n'
                  b'{"id": "c", "text": "bad \xff byte"}\n')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = neardup.cluster(str(f), skip_bad=True, strict=True)
    assert [m.id for m in got] == ["a"]
    assert [(x.category, x.message.code, x.message.file, x.message.line)
            for x in w] == [(neardup.SkipWarning, -4, None, None),
                            (neardup.SkipWarning, -5, str(f), 3)]
    assert str(w[0].message).startswith(str(f) + ":2: ")
    assert str(w[0].message).endswith(", record skipped")
    assert str(w[1].message) == ("%s:3: invalid UTF-8 (strict), record "
                                 "skipped" % f)
    assert w[0].filename == __file__  # attributed to the caller
    st = got.stats
    assert (st["records"], st["documents"], st["skipped_bad"]) == (3, 1, 2)


def test_a_warning_made_an_error_stops_the_job(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": "a", "text": "one"}\n{"id": "b"}\n'
                 '{"id": "c", "text": "three"}\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error", neardup.SkipWarning)
        with pytest.raises(neardup.SkipWarning) as e:
            neardup.dedup(str(f), skip_bad=True)
    assert "bad.jsonl:2" in str(e.value) and e.value.code == -4


def test_binary_files_are_warned_and_counted(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("a text about apples and pears")
    (d / "b.bin").write_bytes(b"\x00\x01\x02binary\x00" * 10)
    with pytest.warns(neardup.SkipWarning, match="b.bin") as w:
        got = neardup.cluster(str(d))
    assert [m.id for m in got] == ["a.txt"]
    assert [x.message.code for x in w] == [-6]
    assert got.stats["skipped_binary"] == 1


# The command's --stats-json names for the keys of .stats.
STATS_JSON = {
    "documents": "documents", "empty": "empty",
    "invalid_utf8": "bad_utf8", "bad_records_skipped": "skipped_bad",
    "binary_files_skipped": "skipped_binary",
    "short_documents": "short_docs", "candidate_pairs": "candidates",
    "edges": "edges", "figures_refused": "figures_refused",
    "window_refused": "window_refused", "clusters": "clusters",
    "attach_refused": "guard_rejected", "capped_buckets": "capped_buckets",
    "boilerplate_shingles_dropped": "suppressed",
    "boilerplate_documents": "suppressed_docs",
    "boilerplate_cutoff": "boilerplate_cutoff", "bands": "bands",
    "rows": "rows", "containment_bands": "contain_bands",
    "containment_rows": "contain_rows", "spill_runs": "spill_runs",
    "spill_bytes": "spill_bytes", "bytes": "bytes",
}


def test_stats_are_the_commands(corpus, tmp_path):
    out = tmp_path / "stats.json"
    cli("cluster", "-q", "--time-field", "published", "--window", "2h",
        "--min-words", "150", "--stats-json", out, corpus)
    want = json.loads(out.read_text())
    got = neardup.cluster(corpus, time_field="published", window=7200,
                          min_words=150)
    st = got.stats
    for k, name in STATS_JSON.items():
        assert st[name] == want[k], name
    assert st["short_docs"] > 0 and st["window_refused"] > 0
    assert st["contain_bands"] > 0 and st["edges"] > 0
    assert st["records"] == st["documents"] == st["output_rows"] == 2000
    assert st["repaired_utf8"] == 0 and st["seconds"] > 0
    # an iterable's run counts the same
    with open(corpus, encoding="utf-8") as f:
        recs = [json.loads(line) for line in f]
    it = neardup.cluster(recs, time_field="published", window=7200,
                         min_words=150)
    assert it == got
    for k in STATS_JSON.values():
        if k != "bytes":  # the file's text after JSON unescaping, the same
            assert it.stats[k] == st[k], k


def test_csv_and_long_records_as_the_command(tmp_path):
    f = tmp_path / "in.csv"
    f.write_text('id,text\n'
                 'a,"the harbour strike ended on monday, after talks"\n'
                 'b,"the harbour strike ended on monday, after ""long"" '
                 'talks"\n'
                 'c,"' + "x" * 300 + '"\n'
                 'd,"apples and pears were cheap at the market"\n')
    with pytest.warns(neardup.SkipWarning, match=r"in\.csv:4: "):
        got = neardup.cluster(str(f), max_record_bytes=200, skip_bad=True)
    want = cli("cluster", "-q", "--max-record-bytes", "200", "--skip-bad", f)
    assert [tuple(m) for m in got] == [(w["id"], w["cluster"], w["rep"])
                                       for w in want]
    assert [m.id for m in got] == ["a", "b", "d"]
    assert got.stats["skipped_bad"] == 1
    with pytest.warns(neardup.SkipWarning):
        kept = neardup.dedup(str(f), format="csv", max_record_bytes=200,
                             skip_bad=True)
    assert kept == cli_raw("dedup", "-q", "--max-record-bytes", "200",
                           "--skip-bad", f)[1:]
    with pytest.raises(OverflowError):
        neardup.cluster(str(f), max_record_bytes=0)


def test_keep_source_of_an_iterable_as_of_the_file(corpus, tmp_path,
                                                  monkeypatch):
    with open(corpus, encoding="utf-8") as f:
        recs = [json.loads(line) for line in f]
    prio = sorted({r["source"] for r in recs})[1::2]
    got = neardup.cluster(recs, keep="source", source_priority=prio)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert got == neardup.cluster(corpus, keep="source",
                                  source_priority=prio)
    assert os.listdir(tmp_path) == []  # the job's list of names is gone
    assert sum(m.rep for m in got) < 2000


@pytest.mark.parametrize("names,exc", [
    ([], ValueError), (["ap", "#wire"], ValueError), ([" ap"], ValueError),
    (["ap\n"], ValueError), (["a\nb"], ValueError), ([""], ValueError),
    (["a\0b"], ValueError), (["ap", 3], TypeError), ("ap", TypeError),
])
def test_source_names_are_lines_of_a_source_list(corpus, names, exc):
    with pytest.raises(exc):
        neardup.cluster(corpus, keep="source", source_priority=names)
    with pytest.raises(exc):
        neardup.cluster(["one text"], keep="source", source_priority=names)


def test_source_priority_goes_with_keep_source():
    with pytest.raises(ValueError):
        neardup.cluster(sample(), source_priority=["ap"])
