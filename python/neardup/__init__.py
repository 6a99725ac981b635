"""neardup - exact and near-duplicate texts: shingling, MinHash, LSH.

A binding to libneardup (built into this package by pip) through ctypes.

    import neardup
    for m in neardup.cluster("news.jsonl"):          # the CLI's defaults
        print(m.id, m.cluster, m.rep)
    neardup.pairs(["a text", "a text!", "another"])    # ids 0, 1, 2
    with neardup.Index("news.idx") as ix:             # a directory on disk
        for m in ix.add_query("a1", text):
            print("duplicate of", m.id, m.jaccard)

Parameters are the fields of nd_params under their C names, with the
library's defaults (defaults()); enum fields take the command line's words
(shingle="glyph", sketch="oph", keep="longest", ...).  Errors are
neardup.Error, one subclass per library code, carrying its message.
"""
from ._capi import lib as _lib
from ._errors import (BinaryError, CorruptError, DataError, Error,
                      ExistsError, FormatError, IoError, MismatchError,
                      NeardupError, NomemError, NotFoundError, ParamError,
                      StateError, Utf8Error)
from ._params import defaults
from ._sketch import MinHash, Sketcher, explain, sketch
from ._batch import (BatchResult, ExplainedPair, Member, Pair, cluster,
                     dedup, pairs)
from ._index import Index, Match

__all__ = [
    "Error", "NomemError", "ParamError", "IoError", "DataError", "Utf8Error",
    "BinaryError", "StateError", "FormatError", "MismatchError",
    "CorruptError", "NotFoundError", "ExistsError", "NeardupError",
    "defaults", "cluster", "dedup", "pairs", "explain", "sketch",
    "MinHash", "Sketcher", "Index", "Match", "Member", "Pair",
    "ExplainedPair", "BatchResult", "library_version", "__version__",
]

__version__ = _lib.nd_version_string().decode()


def library_version():
    """The version of the libneardup this package loaded."""
    return _lib.nd_version_string().decode()
