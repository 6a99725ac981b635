"""The incremental index: round trips, errors, persistence."""
import os
import subprocess
import sys

import pytest

import neardup
from neardup import Index, NeardupError
from neardup.tests.helpers import near, text

ND_ERR_MISMATCH, ND_ERR_NOTFOUND, ND_ERR_EXISTS = -9, -11, -12


def test_round_trip_in_memory():
    with Index(threshold=0.5) as ix:
        for i in range(30):
            ix.add("d%d" % i, text(i), time=i)
        assert len(ix) == 30
        m = ix.query(text(4))
        assert [x.id for x in m] == ["d4"]
        assert m[0].jaccard == 1.0 and m[0].containment == 1.0
        assert m[0].time == 4
        m = ix.query(near(9))
        assert [x.id for x in m] == ["d9"] and 0.6 < m[0].jaccard < 1.0
        assert ix.query(text(999)) == []
        assert "d3" in ix and "nope" not in ix


def test_add_query_duplicate_id_remove_evict():
    ix = Index()
    assert ix.add_query("a", text(1), time=10) == []
    got = ix.add_query("b", text(1), time=20)
    assert [(x.id, x.jaccard) for x in got] == [("a", 1.0)]
    with pytest.raises(NeardupError) as e:
        ix.add("a", text(2))
    assert e.value.code == ND_ERR_EXISTS
    ix.remove("a")
    with pytest.raises(NeardupError) as e:
        ix.remove("a")
    assert e.value.code == ND_ERR_NOTFOUND
    ix.add("c", text(3), time=5)
    assert ix.evict_before(15) == 1
    assert [x.id for x in ix.query(text(1))] == ["b"]
    assert ix.query(text(3)) == []
    ix.close()
    ix.close()


def test_unicode_ids_round_trip():
    with Index() as ix:
        ix.add("étude-ü", text(5))
        assert ix.query(text(5))[0].id == "étude-ü"


def test_persistence_across_processes(tmp_path):
    d = str(tmp_path / "idx")
    code = ("import neardup\n"
            "from neardup.tests.helpers import text\n"
            "ix = neardup.Index(%r, threshold=0.6)\n"
            "[ix.add('d%%d' %% i, text(i), time=i) for i in range(25)]\n"
            "ix.sync()\n"
            "import os; os._exit(0)\n") % d
    subprocess.run([sys.executable, "-c", code], check=True,
                   env=dict(os.environ))
    with Index.open(d, readonly=True) as ix:
        assert len(ix) == 25
        assert ix.params()["threshold"] == 0.6
        assert [x.id for x in ix.query(text(17))] == ["d17"]
        with pytest.raises(NeardupError):
            ix.add("x", text(1))


def test_save_and_mismatch(tmp_path):
    d = str(tmp_path / "saved")
    with Index(num_perm=64, threshold=0.5) as ix:
        for i in range(10):
            ix.add(str(i), text(i))
        ix.save(d)
    with pytest.raises(NeardupError) as e:
        Index.open(d, num_perm=128)
    assert e.value.code == ND_ERR_MISMATCH
    assert "num_perm=64" in str(e.value)
    with Index.open(d) as ix:
        assert ix.stats()["docs"] == 10
        assert ix.stats()["num_perm"] == 64
        assert [x.id for x in ix.query(text(7))] == ["7"]
    with pytest.raises(NeardupError) as e:
        Index.open(str(tmp_path / "missing"))
    assert e.value.code == ND_ERR_NOTFOUND


def test_version_string():
    assert neardup.library_version().count(".") == 2


def test_threads_add_query_and_remove_at_once():
    import threading
    ix = Index()
    n_threads, per = 4, 25

    def adder(k):
        for i in range(per):
            ix.add("t%d-%d" % (k, i), text(1000 * k + i), time=i)

    threads = [threading.Thread(target=adder, args=(k,))
               for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ix) == n_threads * per
    ids = ["t%d-%d" % (k, i) for k in range(n_threads) for i in range(per)]
    for k in range(n_threads):
        assert [m.id for m in ix.query(text(1000 * k + 7))] == ["t%d-7" % k]

    started = [threading.Event() for _ in range(3)]
    stop = threading.Event()
    seen, errors = [set() for _ in range(3)], []

    def reader(j):
        try:
            while not stop.is_set():
                for k in range(n_threads):
                    for m in ix.query(text(1000 * k + j)):
                        seen[j].add(m.id)
                started[j].set()
        except BaseException as e:  # noqa: B902 - reported below
            errors.append(repr(e))
            started[j].set()

    readers = [threading.Thread(target=reader, args=(j,)) for j in range(3)]
    for t in readers:
        t.start()
    for e in started:
        e.wait()
    for i in ids:  # removes free what queries copy ids from
        ix.remove(i)
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    for j in range(3):
        assert seen[j] <= {"t%d-%d" % (k, j) for k in range(n_threads)}
        assert seen[j]
    assert len(ix) == 0 and ix.query(text(7)) == []
    ix.close()
