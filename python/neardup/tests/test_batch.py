"""cluster, dedup and pairs against the command on the same input."""
import json
import os
import subprocess
import sys
import threading
import warnings

import pytest

import neardup
from neardup.tests.helpers import cli, cli_raw, ndgen, sample


def assignments(rows):
    return [(r["id"], r["cluster"], r["rep"]) for r in rows]


def test_cluster_sample_as_the_command():
    got = neardup.cluster(sample())
    want = assignments(cli("cluster", sample()))
    assert len(want) == 417
    assert [tuple(m) for m in got] == want
    assert got.stats["documents"] == got.stats["records"] == 417
    assert 1 < got.stats["clusters"] < 417


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return ndgen(tmp_path_factory.mktemp("gen") / "gen.jsonl",
                 "--docs", 2000, "--seed", 1)


def test_cluster_generated_corpus_as_the_command(corpus):
    got = neardup.cluster(corpus)
    want = assignments(cli("cluster", corpus))
    assert len(want) == 2000
    assert [tuple(m) for m in got] == want
    assert got.stats["boilerplate_cutoff"] > 0  # the count pass ran


def test_cluster_of_an_iterable_as_of_the_file(corpus):
    with open(corpus, encoding="utf-8") as f:
        recs = [json.loads(line) for line in f]
    want = assignments(cli("cluster", corpus))
    by_tuple = neardup.cluster((r["id"], r["text"]) for r in recs)
    assert [tuple(m) for m in by_tuple] == want
    by_dict = neardup.cluster(recs)
    assert [tuple(m) for m in by_dict] == want
    texts = neardup.cluster([r["text"] for r in recs])
    assert [(recs[m.id]["id"], m.cluster, m.rep) for m in texts] == want


@pytest.mark.parametrize("args,kw", [
    (["--keep", "longest"], dict(keep="longest")),
    (["--keep", "earliest", "--time-field", "published"],
     dict(keep="earliest", time_field="published")),
    (["--cluster", "components", "--threshold", "0.6"],
     dict(cluster="components", threshold=0.6)),
    (["--boilerplate", "0", "--figures", "0"],
     dict(boilerplate=0, figures=0)),
    (["--time-field", "published", "--window", "6h"],
     dict(time_field="published", window=6 * 3600)),
    (["--memory", "64K"], dict(memory=64 << 10)),
    (["--ngram", "3", "--sketch", "kperm", "--exact"],
     dict(shingle="word", ngram=3, sketch="kperm", exact=True)),
])
def test_settings_as_the_command(corpus, args, kw):
    got = neardup.cluster(corpus, **kw)
    assert [tuple(m) for m in got] == assignments(cli("cluster", corpus,
                                                      *args))


def test_keep_source_as_the_command(corpus, tmp_path):
    with open(corpus, encoding="utf-8") as f:
        sources = sorted({json.loads(line)["source"] for line in f})
    prio = sources[::-3]
    pf = tmp_path / "prio.txt"
    pf.write_text("\n".join(prio) + "\n")
    got = neardup.cluster(corpus, keep="source", source_priority=prio)
    want = assignments(cli("cluster", corpus, "--keep", "source",
                           "--source-priority", pf))
    assert [tuple(m) for m in got] == want
    with pytest.raises(ValueError):
        neardup.cluster(corpus, keep="source")
    with pytest.raises(ValueError):
        neardup.cluster(corpus, keep="source", source_priority=["a", "a"])


def test_pairs_as_the_command(corpus):
    got = neardup.pairs(corpus)
    want = cli("pairs", corpus)
    assert len(want) > 100
    assert [(p.a, p.b, round(p.jaccard, 4), round(p.containment, 4))
            for p in got] == [(w["a"], w["b"], w["jaccard"],
                               w["containment"]) for w in want]


def test_pairs_explain_as_the_command():
    got = neardup.pairs(sample(), explain=True)
    want = cli("pairs", "--explain", sample())
    assert len(got) == len(want) > 0
    for p, w in zip(got, want):
        assert (p.a, p.b, round(p.jaccard, 4), round(p.containment, 4),
                round(p.exact_jaccard, 4), round(p.exact_containment, 4),
                p.shared_words, p.passage) == tuple(w.values())


def test_dedup_as_the_command(corpus):
    got = neardup.dedup(corpus)
    assert got == cli_raw("dedup", corpus)
    assert len(got) == got.stats["clusters"] < 2000


def test_dedup_of_an_iterable_keeps_the_items():
    docs = ["the quick brown fox jumps over the lazy dog near the river",
            "an unrelated text about the weather in the northern hills",
            "the quick brown fox jumps over the lazy dog near the river!"]
    assert neardup.dedup(docs) == docs[:2]
    assert [tuple(p)[:2] for p in neardup.pairs(docs)] == [(0, 2)]


def test_bad_record_names_file_and_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_text('{"id": "a", "text": "one text here"}\n'
                 '{"id": "b", "text": "two"}\n'
                 '{"id": "c", "text": 3}\n'
                 '{"id": "d", "text": "four"}\n')
    with pytest.raises(neardup.DataError) as e:
        neardup.cluster(str(f))
    assert "bad.jsonl:3" in str(e.value) and e.value.code == -4
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = neardup.cluster(str(f), skip_bad=True)
    assert [m.id for m in got] == ["a", "b", "d"]
    assert any("bad.jsonl:3" in str(x.message) for x in w)
    st = got.stats
    assert (st["records"], st["documents"], st["skipped_bad"]) == (4, 3, 1)


def test_invalid_utf8_under_strict(tmp_path):
    f = tmp_path / "u.txt"
    f.write_bytes(b"first line of text\nbad \xff byte\nthird line\n")
    with pytest.raises(neardup.Utf8Error) as e:
        neardup.cluster(str(f), strict=True)
    assert "u.txt:2" in str(e.value)
    with pytest.warns(UserWarning, match="u.txt:2"):
        got = neardup.cluster(str(f), strict=True, skip_bad=True)
    want = cli("cluster", "--strict", "--skip-bad", "-q", f)
    assert [m.id for m in got] == [w["id"] for w in want]
    assert len(got) == 2 and got.stats["skipped_bad"] == 1
    assert neardup.cluster(str(f)).stats["documents"] == 3


def test_missing_file_is_an_io_error(tmp_path):
    with pytest.raises(neardup.IoError) as e:
        neardup.cluster(str(tmp_path / "nope.jsonl"))
    assert "nope.jsonl" in str(e.value)


def test_several_files_and_a_directory(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("a whole file is one document about apples")
    (d / "b.txt").write_text("a whole file is one document about apples")
    (d / "c.txt").write_text("something else entirely, pears and plums")
    got = neardup.cluster(str(d))
    assert [tuple(m) for m in got] == [("a.txt", 0, True),
                                       ("b.txt", 0, False),
                                       ("c.txt", 1, True)]
    assert neardup.dedup(str(d)) == ["a.txt", "c.txt"]
    f1, f2 = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    f1.write_text('{"id": 1, "text": "a story about the harbour strike"}\n')
    f2.write_text('{"id": 2, "text": "a story about the harbour strike"}\n')
    assert [tuple(m) for m in neardup.cluster([f1, f2])] == [(1, 0, True),
                                                             (2, 0, False)]


@pytest.mark.parametrize("data,exc", [
    (None, TypeError),
    (b"bytes", TypeError),
    ([None], TypeError),
    ([("a", None)], TypeError),
    ([(None, "text")], TypeError),
    ([("a", "text", 2 ** 70)], OverflowError),
    ([{"id": "a"}], neardup.DataError),
])
def test_batch_arguments_are_checked(data, exc):
    with pytest.raises(exc):
        neardup.cluster(data)


def test_stdin_like_iterables_are_read_once():
    gen = (t for t in ["one text", "one text", "two"])
    assert [m.cluster for m in neardup.cluster(gen)] == [0, 0, 1]


def test_empty_input():
    got = neardup.cluster([])
    assert got == [] and got.stats["documents"] == 0


def test_past_the_count_sample_as_the_command(tmp_path):
    """20,000 texts: past the 16,384 the boilerplate count takes in full,
    where its result depends on how the texts are handed to it (counted
    in one call, 5,133 of these texts land elsewhere); both the file and
    an iterable are counted in the command's chunks."""
    f = ndgen(tmp_path / "big.jsonl", "--preset", "sample", "--docs", 20000,
              "--seed", 3)
    want = assignments(cli("cluster", f))
    assert [tuple(m) for m in neardup.cluster(f)] == want
    with open(f, encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh]
    got = neardup.cluster((r["id"], r["text"]) for r in recs)
    assert [tuple(m) for m in got] == want


def test_tsv_as_the_command(tmp_path):
    f = tmp_path / "in.tsv"
    rows = [("k1", "the harbour strike ended on monday after talks"),
            ("k2", "the harbour strike ended on monday after long talks"),
            ("k3", "apples and pears were cheap at the market\\tthis week")]
    f.write_text("key\tbody\n" + "".join("%s\t%s\n" % r for r in rows))
    kw = dict(id_field="key", text_field="body")
    args = ["--id-field", "key", "--text-field", "body"]
    got = neardup.cluster(str(f), **kw)
    assert [tuple(m) for m in got] == assignments(cli("cluster", f, *args))
    assert [m.cluster for m in got] == [0, 0, 1]
    want = cli_raw("dedup", f, *args)
    assert want[0] == "key\tbody"  # the command writes the header first
    assert neardup.dedup(str(f), **kw) == want[1:]


def test_memory_bound_spills_with_the_same_clusters(corpus, tmp_path):
    free = neardup.cluster(corpus)
    bound = neardup.cluster(corpus, memory=64 << 10, tmpdir=str(tmp_path))
    assert free.stats["spill_runs"] == 0 and bound.stats["spill_runs"] > 0
    assert bound == free
    assert os.listdir(tmp_path) == []  # the spill file was unlinked
    with pytest.raises(neardup.IoError) as e:
        neardup.cluster(corpus, memory=64 << 10,
                        tmpdir=str(tmp_path / "missing"))
    assert "missing" in str(e.value)


def test_stdin_is_read_once_and_held():
    """stdin cannot be read twice: its records are held, so the count pass
    and the adds see the same texts, and dedup hands back the records."""
    code = ("import neardup, json\n"
            "r = neardup.cluster('-')\n"
            "print(json.dumps([list(m) for m in r]))\n")
    with open(sample(), "rb") as f:
        out = subprocess.run([sys.executable, "-c", code], stdin=f,
                             check=True, capture_output=True).stdout
    want = assignments(cli("cluster", sample()))
    assert [tuple(x) for x in json.loads(out)] == want
    code = ("import neardup, sys\n"
            "for line in neardup.dedup('-', keep='longest'):\n"
            "    print(line)\n")
    with open(sample(), "rb") as f:
        out = subprocess.run([sys.executable, "-c", code], stdin=f,
                             check=True, capture_output=True,
                             text=True).stdout.splitlines()
    assert out == cli_raw("dedup", "--keep", "longest", sample())


def test_a_fifo_is_read_once_and_held(tmp_path):
    fifo = str(tmp_path / "in.fifo")
    os.mkfifo(fifo)

    def writer():
        try:
            with open(sample(), "rb") as src, open(fifo, "wb") as dst:
                dst.write(src.read())
        except BrokenPipeError:
            pass  # the reader gave up: the test fails on its own

    t = threading.Thread(target=writer)
    t.start()
    try:
        got = neardup.pairs(fifo, explain=True)
    finally:
        # a writer still waiting for a reader is let go (open, close)
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        t.join()
    want = cli("pairs", "--explain", sample())
    assert len(got) == len(want) > 0
    assert [(p.a, p.b, p.shared_words) for p in got] == [
        (w["a"], w["b"], w["shared_words"]) for w in want]
