"""ctypes declarations of neardup.h: structs, enums and function types.

The structs mirror the header field by field.  Each that the library
fills ends in a zeroed tail, room for fields a later minor version appends
(the header allows it), so a library newer than these declarations never
writes past them.  A struct that is a field of another (nd_params in
nd_job_opts, ...) has a second mirror without the tail (ParamsField, ...),
whose size is the header's.
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
FORMAT = {0: "auto", 1: "jsonl", 2: "tsv", 3: "text", 4: "csv"}
JOB_KIND = {"cluster": 0, "dedup": 1, "pairs": 2}

_TAIL = ("_tail", ctypes.c_uint8 * 256)


_PARAMS_FIELDS = [
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
    ("min_words", c_uint),
]


class Params(ctypes.Structure):
    _fields_ = _PARAMS_FIELDS + [_TAIL]


class ParamsField(ctypes.Structure):
    """nd_params as a field of another struct: no tail."""
    _fields_ = _PARAMS_FIELDS


class TextStats(ctypes.Structure):
    _fields_ = [(n, c_uint64) for n in (
        "docs", "empty", "bad_utf8", "bytes", "suppressed",
        "suppressed_docs")]


_BATCH_STATS_FIELDS = [
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
    ("contain_bands", c_uint),
    ("contain_rows", c_uint),
    ("figures_refused", c_uint64),
    ("window_refused", c_uint64),
    ("short_docs", c_uint64),
]


class BatchStats(ctypes.Structure):
    _fields_ = _BATCH_STATS_FIELDS + [_TAIL]


class BatchStatsField(ctypes.Structure):
    """nd_batch_stats as a field of nd_job_stats: no tail."""
    _fields_ = _BATCH_STATS_FIELDS


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


_READER_OPTS_FIELDS = [
    ("format", c_int),
    ("id_field", c_char_p),
    ("text_field", c_char_p),
    ("time_field", c_char_p),
    ("source_field", c_char_p),
    ("max_record_bytes", c_uint64),
]


class ReaderOpts(ctypes.Structure):
    _fields_ = _READER_OPTS_FIELDS + [_TAIL]


class ReaderOptsField(ctypes.Structure):
    """nd_reader_opts as a field of nd_job_opts: no tail."""
    _fields_ = _READER_OPTS_FIELDS


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


# ------------------------------------------------------------------ job

class Progress(ctypes.Structure):
    _fields_ = [
        ("phase", c_int),
        ("done", c_uint64),
        ("total", c_uint64),
        ("docs", c_uint64),
        ("seconds", c_double),
    ]


class JobWarning(ctypes.Structure):
    _fields_ = [
        ("code", c_int),
        ("file", c_char_p),
        ("line", c_uint64),
        ("message", c_char_p),
    ]


class JobRow(ctypes.Structure):
    _fields_ = [
        ("doc", c_uint32),
        ("id", c_void_p),
        ("id_len", c_size_t),
        ("cluster", c_uint32),
        ("rep", c_int),
        ("raw", c_void_p),
        ("raw_len", c_size_t),
        ("header", c_void_p),
        ("header_len", c_size_t),
        ("doc_b", c_uint32),
        ("id_b", c_void_p),
        ("id_b_len", c_size_t),
        ("jaccard", c_double),
        ("containment", c_double),
        ("explained", c_int),
        ("exact_jaccard", c_double),
        ("exact_containment", c_double),
        ("shared_words", c_size_t),
        ("passage", c_void_p),
        ("passage_len", c_size_t),
    ]


# The callbacks of nd_job_opts.  ctypes calls them holding the GIL, on the
# thread that called nd_job_run.
ON_ROW = ctypes.CFUNCTYPE(c_int, c_void_p, P(JobRow))
ON_WARNING = ctypes.CFUNCTYPE(None, c_void_p, P(JobWarning))
ON_PROGRESS = ctypes.CFUNCTYPE(None, c_void_p, P(Progress))


class JobOpts(ctypes.Structure):
    _fields_ = [
        ("kind", c_int),
        ("params", ParamsField),
        ("reader", ReaderOptsField),
        ("paths", P(c_char_p)),
        ("npaths", c_size_t),
        ("skip_bad", c_int),
        ("explain", c_int),
        ("source_priority", c_char_p),
        ("on_row", ON_ROW),
        ("on_warning", ON_WARNING),
        ("on_progress", ON_PROGRESS),
        ("progress_every", c_double),
        ("ctx", c_void_p),
        _TAIL,
    ]


class JobStats(ctypes.Structure):
    _fields_ = [
        ("batch", BatchStatsField),
        ("records", c_uint64),
        ("skipped_bad", c_uint64),
        ("skipped_binary", c_uint64),
        ("repaired", c_uint64),
        ("rows", c_uint64),
        ("seconds", c_double),
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
    "nd_phase_name": (c_char_p, [c_int]),
    "nd_job_opts_init": (None, [P(JobOpts)]),
    "nd_job_create": (c_int, [P(JobOpts), P(c_void_p)]),
    "nd_job_run": (c_int, [c_void_p]),
    "nd_job_stats_get": (None, [c_void_p, P(JobStats)]),
    "nd_job_errmsg": (c_char_p, [c_void_p]),
    "nd_job_free": (None, [c_void_p]),
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
