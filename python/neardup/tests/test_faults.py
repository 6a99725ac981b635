"""Each fault of the first binding, as a test that failed with it."""
import threading
import time

import pytest

import neardup
from neardup import Index
from neardup.tests.helpers import text


def test_default_index_reports_glyph_8():
    with Index() as ix:
        p = ix.params()
    assert (p["shingle"], p["ngram"]) == ("glyph", 8)
    d = neardup.defaults()
    for k in ("shingle", "ngram", "num_perm", "seed", "threshold", "measure",
              "containment", "figures", "boilerplate", "boilerplate_min",
              "sketch", "strict"):
        assert p[k] == d[k], k
    # the layout derived from the threshold, not the 0 x 0 asking for it
    assert p["bands"] > 0 and 0 < p["bands"] * p["rows"] <= p["num_perm"]


@pytest.mark.parametrize("kind,n", [("glyph", 5), ("word", 3), ("char", 6)])
def test_every_shingle_kind(kind, n):
    with Index(shingle=kind, ngram=n) as ix:
        assert (ix.params()["shingle"], ix.params()["ngram"]) == (kind, n)
        ix.add("a", text(1))
        assert [m.id for m in ix.query(text(1))] == ["a"]


def test_index_settings_are_kept(tmp_path):
    d = str(tmp_path / "ix")
    given = dict(containment=0.5, figures=0.0, boilerplate=0.1,
                 boilerplate_min=7, sketch="kperm", threshold=0.7,
                 measure="jaccard", strict=True)
    with Index(d, **given) as ix:
        ix.add("a", text(3))
    with Index.open(d) as ix:
        p = ix.params()
    assert {k: p[k] for k in given} == given


def test_add_without_time_stamps_now():
    before = int(time.time())
    with Index() as ix:
        ix.add("a", text(1))
        ix.add_query("b", text(2))
        after = int(time.time())
        for i in ("a", "b"):
            assert before <= ix.get_time(i) <= after
        assert ix.evict("2000-01-01T00:00:00Z") == 0
        assert len(ix) == 2
        assert ix.evict(after + 1) == 2


def test_close_while_other_threads_query():
    ix = Index()
    for i in range(50):
        ix.add("d%d" % i, text(i))
    started = [threading.Event() for _ in range(4)]
    outcome = [None] * 4

    def reader(k):
        n = 0
        try:
            while True:
                got = ix.query(text(n % 50))
                assert [m.id for m in got] == ["d%d" % (n % 50)]
                n += 1
                started[k].set()
        except neardup.StateError as e:
            outcome[k] = ("closed", n, str(e))
        except BaseException as e:  # noqa: B902 - reported below
            outcome[k] = ("failed", n, repr(e))
            started[k].set()

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for e in started:
        e.wait()
    ix.close()
    for t in threads:
        t.join()
    for kind, n, msg in outcome:
        assert kind == "closed" and n >= 1, msg
        assert "closed" in msg
    with pytest.raises(neardup.StateError):
        ix.query(text(1))
    ix.close()  # again: nothing


def test_none_is_refused():
    with Index() as ix:
        with pytest.raises(TypeError):
            ix.add(None, text(1))
        with pytest.raises(TypeError):
            ix.query(None)
        with pytest.raises(TypeError):
            ix.add("a", None)
        with pytest.raises(TypeError):
            ix.add_query(None, text(1))
        assert len(ix) == 0
        assert "None" not in ix


@pytest.mark.parametrize("call,exc", [
    (lambda ix: ix.add("a", text(1), time=2 ** 64 + 5), OverflowError),
    (lambda ix: ix.add("a", text(1), time=2 ** 63), OverflowError),
    (lambda ix: ix.add("a", text(1), time=-2 ** 63 - 1), OverflowError),
    (lambda ix: ix.add("a", text(1), time="yesterday"), ValueError),
    (lambda ix: ix.add("a", text(1), time=float("nan")), ValueError),
    (lambda ix: ix.evict(2 ** 64), OverflowError),
    (lambda ix: ix.query(text(1), limit=0), OverflowError),
    (lambda ix: ix.query(text(1), limit=2 ** 64 + 1), OverflowError),
    (lambda ix: ix.add(True, text(1)), TypeError),
    (lambda ix: ix.add(1.5, text(1)), TypeError),
    (lambda ix: ix.add("x" * 70000, text(1)), ValueError),
])
def test_index_arguments_are_checked(call, exc):
    with Index() as ix:
        with pytest.raises(exc):
            call(ix)
        assert len(ix) == 0


@pytest.mark.parametrize("kw,exc", [
    (dict(num_perm=2 ** 32 + 128), OverflowError),
    (dict(num_perm=-1), OverflowError),
    (dict(seed=2 ** 64), OverflowError),
    (dict(seed=-1), OverflowError),
    (dict(ngram=2 ** 32 + 3), OverflowError),
    (dict(num_perm="128"), TypeError),
    (dict(num_perm=128.0), TypeError),
    (dict(num_perm=True), TypeError),
    (dict(threshold="0.5"), TypeError),
    (dict(threshold=None), TypeError),
    (dict(shingle=2), TypeError),
    (dict(shingle="words"), ValueError),
    (dict(threshold=float("nan")), ValueError),
    (dict(threshold=1.5), neardup.ParamError),
    (dict(num_perm=0), neardup.ParamError),
    (dict(num_perm=5000), neardup.ParamError),
    (dict(shingle="glyph", ngram=9), neardup.ParamError),
    (dict(strict=1), TypeError),
    (dict(keep="first"), TypeError),  # a batch setting, not an index's
    (dict(nonsense=1), TypeError),
])
def test_parameters_are_checked(kw, exc):
    with pytest.raises(exc):
        Index(**kw)


def test_param_error_carries_the_library_message():
    with pytest.raises(neardup.ParamError) as e:
        Index(threshold=1.5)
    assert isinstance(e.value, ValueError) and e.value.code == -2
    assert "threshold" in str(e.value)


def test_num_perm_is_not_wrapped():
    with Index(num_perm=64) as ix:
        assert ix.params()["num_perm"] == 64
        assert ix.stats()["num_perm"] == 64
