"""Shared by the tests: texts, and the command and corpus they compare
against (NEARDUP_CLI, NEARDUP_NDGEN, NEARDUP_ROOT, set by tests/python.sh;
the tests that need them are skipped without)."""
import json
import os
import random
import subprocess

import pytest


def text(seed, words=150):
    r = random.Random(seed)
    return " ".join("".join(r.choice("abcdefghijklmnopqrstuvwxyz")
                            for _ in range(r.randint(4, 9)))
                    for _ in range(words))


def near(seed):
    w = text(seed).split()
    for i in range(10, len(w), 30):  # 5 of 150 words
        w[i] = "zz" + w[i]
    return " ".join(w)


def tool(name):
    path = os.environ.get(name)
    if not path:
        pytest.skip("%s is not set (tests/python.sh sets it)" % name)
    return path


def root():
    return tool("NEARDUP_ROOT")


def sample():
    return os.path.join(root(), "datasets", "sample.jsonl")


def cli(*args):
    """The command's output lines as JSON (or as text with raw=True)."""
    out = subprocess.run([tool("NEARDUP_CLI")] + [str(a) for a in args],
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def cli_raw(*args):
    return subprocess.run([tool("NEARDUP_CLI")] + [str(a) for a in args],
                          check=True, capture_output=True,
                          text=True).stdout.splitlines()


def ndgen(out, *args):
    subprocess.run([tool("NEARDUP_NDGEN")] + [str(a) for a in args] +
                   ["--out", str(out)], check=True, cwd=root())
    return str(out)
