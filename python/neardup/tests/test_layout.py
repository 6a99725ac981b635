"""The ctypes structs against neardup.h, by a C compiler: every field the
binding mirrors sits at the header's offset with the header's size, and
each struct of the header fits in its mirror (whose zeroed tail takes
fields a later version appends)."""
import ctypes
import os
import shutil
import subprocess

import pytest

from neardup import _capi
from neardup.tests.helpers import root

STRUCTS = {
    "nd_params": _capi.Params, "nd_text_stats": _capi.TextStats,
    "nd_batch_stats": _capi.BatchStats, "nd_doc_meta": _capi.DocMeta,
    "nd_edge": _capi.Edge, "nd_match": _capi.Match,
    "nd_index_stats": _capi.IndexStats, "nd_reader_opts": _capi.ReaderOpts,
    "nd_record": _capi.Record,
}


def fields(cls):
    return [f[0] for f in cls._fields_ if f[0] != "_tail"]


def test_structs_match_the_header(tmp_path):
    cc = shutil.which(os.environ.get("CC", "cc"))
    if not cc:
        pytest.skip("no C compiler")
    lines = ["#include <stddef.h>", "#include <stdio.h>",
             '#include "neardup.h"', "int main(void) {"]
    for c, cls in STRUCTS.items():
        lines.append('printf("%s %%zu\\n", sizeof(%s));' % (c, c))
        for f in fields(cls):
            lines.append('printf("%s.%s %%zu %%zu\\n", offsetof(%s, %s), '
                         'sizeof(((%s *)0)->%s));' % (c, f, c, f, c, f))
    lines += ["return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", "-I", os.path.join(root(), "src"),
                    str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True,
                         text=True).stdout.split("\n")
    got = {}
    for line in filter(None, out):
        name, *nums = line.split()
        got[name] = tuple(int(n) for n in nums)
    for c, cls in STRUCTS.items():
        assert got[c][0] <= ctypes.sizeof(cls), c
        for f in fields(cls):
            desc = getattr(cls, f)
            assert got["%s.%s" % (c, f)] == (desc.offset, desc.size), \
                "%s.%s" % (c, f)
