"""ctypes declarations of neardup.h: structs, enums and function types.

The structs mirror the header field by field.  Each ends in a zeroed tail,
room for fields a later minor version appends (the header allows it), so a
library newer than these declarations never writes past them.
"""
import ctypes
import os

c_int, c_uint, c_double = ctypes.c_int, ctypes.c_uint, ctypes.c_double
c_size_t, c_uint64, c_int64 = ctypes.c_size_t, ctypes.c_uint64, ctypes.c_int64
c_int32, c_uint32 = ctypes.c_int32, ctypes.c_uint32
c_char_p, c_void_p, P = ctypes.c_char_p, ctypes.c_void_p, ctypes.POINTER

ND_INDEX_READONLY = 0x1
ND_INDEX_CREATE = 0x2
ND_INDEX_MAX_ID = 65535
ND_NORM_STRICT_UTF8 = 0x1

# Enum names as the command line spells them, value -> name.
SHINGLE = {0: "word", 1: "char", 2: "glyph"}
MEASURE = {0: "jaccard", 1: "containment"}
KEEP = {0: "first", 1: "longest", 2: "earliest", 3: "source"}
SKETCH = {0: "kperm", 1: "oph", 2: "cminhash"}
CLUSTER = {0: "components", 1: "guarded", 2: "attach"}
FORMAT = {0: "auto", 1: "jsonl", 2: "tsv", 3: "text"}

_TAIL = ("_tail", ctypes.c_uint8 * 256)


class Params(ctypes.Structure):
    _fields_ = [
        ("shingle", c_int),
        ("ngram", c_uint),
        ("num_perm", c_uint),
        ("seed", c_uint64),
        ("threshold", c_double),
        ("measure", c_int),
        ("bands", c_uint),
        ("rows", c_uint),
        ("norm", c_uint),
        ("exact", c_int),
        ("keep", c_int),
        ("threads", c_uint),
        ("sketch", c_int),
        ("containment", c_double),
        ("cluster", c_int),
        ("figures", c_double),
        ("boilerplate", c_double),
        ("boilerplate_min", c_uint),
        ("window", c_double),
        ("memory", c_uint64),
        ("tmpdir", c_char_p),
        _TAIL,
    ]


class TextStats(ctypes.Structure):
    _fields_ = [(n, c_uint64) for n in (
        "docs", "empty", "bad_utf8", "bytes", "suppressed",
        "suppressed_docs")]


class BatchStats(ctypes.Structure):
    _fields_ = [
        ("text", TextStats),
        ("candidates", c_uint64),
        ("edges", c_uint64),
        ("clusters", c_uint64),
        ("capped_buckets", c_uint64),
        ("bands", c_uint),
        ("rows", c_uint),
        ("seconds_sketch", c_double),
        ("seconds_lsh", c_double),
        ("seconds_verify", c_double),
        ("seconds_cluster", c_double),
        ("guard_rejected", c_uint64),
        ("boilerplate_cutoff", c_uint64),
        ("spill_runs", c_uint64),
        ("spill_bytes", c_uint64),
        _TAIL,
    ]


class DocMeta(ctypes.Structure):
    _fields_ = [
        ("time", c_int64),
        ("has_time", c_int),
        ("priority", c_int32),
        ("has_priority", c_int),
    ]


class Edge(ctypes.Structure):
    _fields_ = [
        ("a", c_uint32),
        ("b", c_uint32),
        ("jaccard", ctypes.c_float),
        ("containment", ctypes.c_float),
    ]


class Match(ctypes.Structure):
    _fields_ = [
        ("id", c_void_p),
        ("id_len", c_size_t),
        ("jaccard", c_double),
        ("containment", c_double),
        ("time", c_int64),
    ]


class IndexStats(ctypes.Structure):
    _fields_ = [
        ("docs", c_uint64),
        ("removed", c_uint64),
        ("unsynced", c_uint64),
        ("time_min", c_int64),
        ("time_max", c_int64),
        ("num_perm", c_uint),
        ("bands", c_uint),
        ("rows", c_uint),
        ("disk_bytes", c_uint64),
        ("memory_bytes", c_uint64),
        ("generation", c_uint64),
        ("queries", c_uint64),
        ("candidates", c_uint64),
        ("df_docs", c_uint64),
        ("df_rate", c_uint64),
        ("boilerplate_cutoff", c_uint64),
        _TAIL,
    ]


class ReaderOpts(ctypes.Structure):
    _fields_ = [
        ("format", c_int),
        ("id_field", c_char_p),
        ("text_field", c_char_p),
        ("time_field", c_char_p),
        ("source_field", c_char_p),
        _TAIL,
    ]


class Record(ctypes.Structure):
    _fields_ = [
        ("id", c_void_p),
        ("id_len", c_size_t),
        ("text", c_void_p),
        ("text_len", c_size_t),
        ("raw", c_void_p),
        ("raw_len", c_size_t),
        ("file", c_char_p),
        ("line", c_uint64),
        ("meta", DocMeta),
        ("source", c_void_p),
        ("source_len", c_size_t),
        ("bad_utf8", c_int),
        ("header", c_void_p),
        ("header_len", c_size_t),
        _TAIL,
    ]


_SIGS = {
    "nd_strerror": (c_char_p, [c_int]),
    "nd_version_string": (c_char_p, []),
    "nd_version_number": (c_uint, []),
    "nd_params_init": (None, [P(Params)]),
    "nd_params_check": (c_int, [P(Params), c_char_p, c_size_t]),
    "nd_params_lsh": (None, [P(Params), P(c_uint), P(c_uint)]),
    "nd_sketcher_create": (c_int, [P(Params), P(c_void_p)]),
    "nd_sketcher_free": (None, [c_void_p]),
    "nd_sketcher_sketch": (c_int, [c_void_p, c_char_p, c_size_t,
                                   P(c_uint32), P(c_uint64)]),
    "nd_sketcher_shingles": (c_int, [c_void_p, c_char_p, c_size_t,
                                     P(P(c_uint64)), P(c_size_t)]),
    "nd_sketcher_normalize": (c_int, [c_void_p, c_char_p, c_size_t,
                                      P(c_void_p), P(c_size_t)]),
    "nd_sig_jaccard": (c_double, [P(c_uint32), P(c_uint32), c_uint]),
    "nd_exact_scores": (None, [P(c_uint64), c_size_t, P(c_uint64), c_size_t,
                               P(c_double), P(c_double)]),
    "nd_containment": (c_double, [c_double, c_uint64, c_uint64]),
    "nd_batch_create": (c_int, [P(Params), P(c_void_p)]),
    "nd_batch_free": (None, [c_void_p]),
    "nd_batch_add_many": (c_int, [c_void_p, c_size_t, P(c_char_p),
                                  P(c_size_t), P(DocMeta), P(c_size_t)]),
    "nd_batch_count": (c_int, [c_void_p, c_size_t, P(c_char_p), P(c_size_t),
                               P(c_size_t)]),
    "nd_batch_run": (c_int, [c_void_p]),
    "nd_batch_size": (c_size_t, [c_void_p]),
    "nd_batch_cluster": (c_uint32, [c_void_p, c_size_t]),
    "nd_batch_rep": (c_uint32, [c_void_p, c_size_t]),
    "nd_batch_edges": (P(Edge), [c_void_p, P(c_size_t)]),
    "nd_batch_stats_get": (None, [c_void_p, P(BatchStats)]),
    "nd_batch_errmsg": (c_char_p, [c_void_p]),
    "nd_index_create": (c_int, [P(Params), P(c_void_p)]),
    "nd_index_open": (c_int, [c_char_p, P(Params), c_int, P(c_void_p)]),
    "nd_index_add": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p,
                             c_size_t, c_int64]),
    "nd_index_add_sig": (c_int, [c_void_p, c_char_p, c_size_t, P(c_uint32),
                                 c_uint64, c_int64]),
    "nd_index_query": (c_int, [c_void_p, c_char_p, c_size_t, P(Match),
                               c_size_t, P(c_size_t)]),
    "nd_index_query_sig": (c_int, [c_void_p, P(c_uint32), c_uint64,
                                   P(Match), c_size_t, P(c_size_t)]),
    "nd_index_add_query": (c_int, [c_void_p, c_char_p, c_size_t, c_char_p,
                                   c_size_t, c_int64, P(Match), c_size_t,
                                   P(c_size_t)]),
    "nd_index_get": (c_int, [c_void_p, c_char_p, c_size_t, P(c_int64)]),
    "nd_index_remove": (c_int, [c_void_p, c_char_p, c_size_t]),
    "nd_index_evict_before": (c_int, [c_void_p, c_int64, P(c_size_t)]),
    "nd_index_sync": (c_int, [c_void_p]),
    "nd_index_save": (c_int, [c_void_p, c_char_p]),
    "nd_index_params": (None, [c_void_p, P(Params)]),
    "nd_index_stats_get": (None, [c_void_p, P(IndexStats)]),
    "nd_index_errmsg": (c_char_p, [c_void_p]),
    "nd_index_close": (None, [c_void_p]),
    "nd_reader_open": (c_int, [P(c_char_p), c_size_t, P(ReaderOpts),
                               P(c_void_p)]),
    "nd_reader_next": (c_int, [c_void_p, P(Record)]),
    "nd_reader_errmsg": (c_char_p, [c_void_p]),
    "nd_reader_close": (None, [c_void_p]),
}

LIBNAME = "libneardup.so"


def library_path():
    """The library this package loads: $NEARDUP_LIB when set (a test may
    point it at a sanitizer build), else the copy installed beside this
    file."""
    return os.environ.get("NEARDUP_LIB") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), LIBNAME)


def load():
    path = library_path()
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise ImportError("neardup: cannot load %s (%s); reinstall the "
                          "package (pip install ./python)" % (path, e)) from e
    for name, (res, args) in _SIGS.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
    return lib


lib = load()
