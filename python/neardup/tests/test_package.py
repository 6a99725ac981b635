"""The installed package carries its library; defaults come from C."""
import json
import os
import subprocess
import sys

import neardup
from neardup import _capi
from neardup.tests.helpers import cli, tool


def test_library_is_inside_the_package():
    if os.environ.get("NEARDUP_LIB"):
        return  # pointed elsewhere on purpose
    here = os.path.dirname(os.path.abspath(neardup.__file__))
    assert _capi.library_path() == os.path.join(here, "libneardup.so")
    assert os.path.isfile(_capi.library_path())


def test_imports_with_no_environment():
    env = {k: v for k, v in os.environ.items()
           if k not in ("NEARDUP_LIB", "PYTHONPATH")}
    out = subprocess.run(
        [sys.executable, "-c", "import neardup; print(neardup.__version__)"],
        env=env, check=True, capture_output=True, text=True, cwd="/")
    assert out.stdout.strip() == neardup.library_version()
    assert neardup.library_version().count(".") == 2


def test_defaults_are_the_commands(tmp_path):
    """defaults() against what `neardup index stats` reports for an index
    made with no parameters."""
    d = tmp_path / "ix"
    f = tmp_path / "in.jsonl"
    f.write_text('{"id": "a", "text": "some words to index"}\n')
    subprocess.run([tool("NEARDUP_CLI"), "index", "add", "--index", d, f],
                   check=True, capture_output=True)
    st = cli("index", "stats", "--index", d)[0]
    ours = neardup.defaults()
    for k in ("shingle", "ngram", "num_perm", "seed", "threshold", "measure",
              "containment", "figures", "boilerplate", "boilerplate_min"):
        assert ours[k] == st[k], k
    with neardup.Index.open(str(d), readonly=True) as ix:
        p = ix.params()
        assert (p["bands"], p["rows"]) == (st["bands"], st["rows"])
        # ids as the command stores them (JSON text), read back as values
        assert [m.id for m in ix.query("some words to index")] == ["a"]
        assert "a" in ix


def test_an_index_made_here_reads_in_the_command(tmp_path):
    d = str(tmp_path / "ix")
    with neardup.Index(d) as ix:
        ix.add("story-1", "the council approved the new harbour budget today",
               time=1700000000)
        ix.add(7, "a different story about a football match on sunday",
               time=1700000001)
    f = tmp_path / "q.jsonl"
    f.write_text(json.dumps({"id": "q", "text": "the council approved the "
                             "new harbour budget today"}) + "\n")
    got = cli("index", "query", "--index", d, f)[0]
    assert [m["id"] for m in got["matches"]] == ["story-1"]
    st = cli("index", "stats", "--index", d)[0]
    assert (st["documents"], st["time_min"], st["time_max"]) == (
        2, 1700000000, 1700000001)


def test_error_classes():
    assert issubclass(neardup.ParamError, neardup.Error)
    assert issubclass(neardup.ParamError, ValueError)
    assert issubclass(neardup.Utf8Error, neardup.DataError)
    assert neardup.NeardupError is neardup.Error
    codes = {c.code for c in neardup.Error.__subclasses__()}
    assert set(range(-12, 0)) <= codes | {neardup.Utf8Error.code}
