"""Signatures, explain, and the index fed with them (datasketch style)."""
import pytest

import neardup
from neardup.tests.helpers import near, text


def test_sketch_values_and_estimate():
    a, b = neardup.sketch(text(1)), neardup.sketch(near(1))
    assert len(a) == a.num_perm == len(a.hashvalues) == 128
    assert a.seed == 1 and a.count() > 100
    assert a == neardup.sketch(text(1)) and a != b
    assert a.jaccard(a) == 1.0
    j = a.jaccard(b)
    assert 0.5 < j < 1.0 and j == b.jaccard(a)
    assert neardup.sketch(text(1)).jaccard(neardup.sketch(text(2))) < 0.1
    d = a.digest()
    d[0] ^= 1
    assert a.hashvalues[0] != d[0]


def test_estimate_tracks_exact_jaccard():
    x = neardup.explain(text(5), near(5))
    assert abs(x["jaccard"] - x["exact_jaccard"]) < 0.15
    assert 0.5 < x["exact_jaccard"] < 1.0
    # near() changes words 10, 40, 70, ...: the longest run is 29 words
    assert x["shared_words"] == 29
    assert x["passage"] == " ".join(text(5).split()[11:40])
    y = neardup.explain(text(6), text(6) + " tail")
    assert y["shared_words"] == 150
    words = text(6).split()
    assert y["passage"] == " ".join(words[:15] + ["..."] + words[-15:])


def test_num_perm_and_params_must_agree():
    a = neardup.sketch(text(1), num_perm=64)
    assert len(a) == 64
    with pytest.raises(ValueError, match="num_perm"):
        a.jaccard(neardup.sketch(text(1)))
    with pytest.raises(ValueError, match="seed"):
        neardup.sketch(text(1), seed=2).jaccard(neardup.sketch(text(1)))
    with pytest.raises(TypeError):
        a.jaccard("text")


def test_sketcher_reuse_shingles_and_normalize():
    with neardup.Sketcher(shingle="word", ngram=2) as s:
        assert s.normalize("Hello,  “World”!  Hi") == "hello world hi"
        sh = s.shingles("one two three")
        assert len(sh) == 2 and sh == sorted(sh)
        assert s.sketch("one two three").count() == 2
    with pytest.raises(neardup.StateError):
        s.sketch("x")


def test_index_insert_and_query_by_signature():
    with neardup.Index(threshold=0.5) as ix:
        for i in range(20):
            ix.insert("d%d" % i, ix.sketch(text(i)), time=i)
        ix.add("t", text(40))
        got = ix.query(neardup.sketch(near(3)))
        assert [m.id for m in got] == ["d3"] and got[0].jaccard > 0.5
        assert [m.id for m in ix.query(ix.sketch(text(40)))] == ["t"]
        with pytest.raises(ValueError, match="num_perm"):
            ix.query(neardup.sketch(text(3), num_perm=64))
        with pytest.raises(ValueError, match="seed"):
            ix.insert("x", neardup.sketch(text(3), seed=9))
