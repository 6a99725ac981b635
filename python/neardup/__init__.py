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
import ctypes
import datetime as _dt
import json
import math
import operator
import os
import threading
import time as _time
import warnings
from array import array
from collections import namedtuple
from decimal import Decimal

from . import _capi
from ._capi import lib as _lib

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


# ----------------------------------------------------------------- errors

class Error(Exception):
    """A libneardup error.  .code is the ND_ERR_* value (negative),
    .message the library's detail (file, line, field when it has them)."""
    code = None

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NomemError(Error, MemoryError):
    code = -1


class ParamError(Error, ValueError):
    code = -2


class IoError(Error):
    code = -3


class DataError(Error):
    code = -4


class Utf8Error(DataError):
    code = -5


class BinaryError(Error):
    code = -6


class StateError(Error):
    code = -7


class FormatError(Error):
    code = -8


class MismatchError(Error):
    code = -9


class CorruptError(Error):
    code = -10


class NotFoundError(Error):
    code = -11


class ExistsError(Error):
    code = -12


NeardupError = Error  # the name of earlier versions

_BY_CODE = {c.code: c for c in (
    NomemError, ParamError, IoError, DataError, Utf8Error, BinaryError,
    StateError, FormatError, MismatchError, CorruptError, NotFoundError,
    ExistsError)}


def _error(code, detail=None):
    """The exception for code: the library's sentence, then its detail."""
    what = _lib.nd_strerror(code).decode()
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    msg = what if not detail or detail == what else "%s: %s" % (what, detail)
    return _BY_CODE.get(code, Error)(msg, code)


# ------------------------------------------------------- argument checks

def _integer(name, v, lo, hi):
    if isinstance(v, bool) or v is None:
        raise TypeError("%s must be an integer, not %s"
                        % (name, type(v).__name__))
    try:
        v = operator.index(v)
    except TypeError:
        raise TypeError("%s must be an integer, not %s"
                        % (name, type(v).__name__)) from None
    if v < lo or v > hi:
        raise OverflowError("%s=%d is out of range [%d, %d]"
                            % (name, v, lo, hi))
    return v


def _real(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError("%s must be a number, not %s"
                        % (name, type(v).__name__))
    v = float(v)
    if math.isnan(v):
        raise ValueError("%s must not be NaN" % name)
    return v


def _text_bytes(v, name="text"):
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    raise TypeError("%s must be str or bytes, not %s"
                    % (name, type(v).__name__))


_U32 = (1 << 32) - 1
_U64 = (1 << 64) - 1
_I64 = (-(1 << 63), (1 << 63) - 1)


def _time_value(v, name="time"):
    """Seconds since the epoch from an int, a finite float, a datetime or
    an RFC 3339 / ISO 8601 string (UTC when it names no zone)."""
    if isinstance(v, str):
        try:
            v = _dt.datetime.fromisoformat(v.replace("Z", "+00:00")
                                           .replace("z", "+00:00"))
        except ValueError:
            raise ValueError("%s: %r is not RFC 3339" % (name, v)) from None
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        return _integer(name, math.floor(v.timestamp()), *_I64)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError("%s must be finite" % name)
        v = math.floor(v)
    return _integer(name, v, *_I64)


# ------------------------------------------------------------ parameters

_ENUMS = {
    "shingle": _capi.SHINGLE, "measure": _capi.MEASURE, "keep": _capi.KEEP,
    "sketch": _capi.SKETCH, "cluster": _capi.CLUSTER,
}
_UNSIGNED = {"ngram": _U32, "num_perm": _U32, "bands": _U32, "rows": _U32,
             "threads": _U32, "boilerplate_min": _U32, "seed": _U64,
             "memory": _U64}
_REALS = ("threshold", "containment", "figures", "boilerplate", "window")
_BOOLS = ("exact", "strict")
# What an index keeps (the other fields are batch settings).
_INDEX_PARAMS = ("shingle", "ngram", "num_perm", "seed", "threshold",
                 "measure", "containment", "figures", "boilerplate",
                 "boilerplate_min", "bands", "rows", "sketch", "strict")
_ALL_PARAMS = _INDEX_PARAMS + ("keep", "cluster", "exact", "window",
                               "threads", "memory", "tmpdir")
# What a signature depends on.
_SKETCH_PARAMS = ("shingle", "ngram", "num_perm", "seed", "sketch", "strict")


def _params_dict(p, names=_ALL_PARAMS):
    d = {}
    for name in names:
        if name in _ENUMS:
            d[name] = _ENUMS[name].get(getattr(p, name), getattr(p, name))
        elif name == "strict":
            d[name] = bool(p.norm & _capi.ND_NORM_STRICT_UTF8)
        elif name == "exact":
            d[name] = bool(p.exact)
        elif name == "tmpdir":
            d[name] = None if p.tmpdir is None else os.fsdecode(p.tmpdir)
        else:
            d[name] = getattr(p, name)
    return d


def defaults():
    """Every parameter with the library's default (nd_params_init)."""
    p = _capi.Params()
    _lib.nd_params_init(ctypes.byref(p))
    return _params_dict(p)


def _make_params(given, allowed=_ALL_PARAMS):
    """nd_params from nd_params_init and the given keywords, checked."""
    p = _capi.Params()
    _lib.nd_params_init(ctypes.byref(p))
    for name, v in given.items():
        if name not in allowed:
            raise TypeError("unknown parameter %r" % name)
        if v is None:
            raise TypeError("%s must not be None" % name)
        if name in _ENUMS:
            names = {s: k for k, s in _ENUMS[name].items()}
            if not isinstance(v, str):
                raise TypeError("%s must be a str, one of %s"
                                % (name, ", ".join(sorted(names))))
            if v not in names:
                raise ValueError("%s=%r: not one of %s"
                                 % (name, v, ", ".join(sorted(names))))
            setattr(p, name, names[v])
        elif name in _UNSIGNED:
            setattr(p, name, _integer(name, v, 0, _UNSIGNED[name]))
        elif name in _REALS:
            setattr(p, name, _real(name, v))
        elif name in _BOOLS:
            if not isinstance(v, bool):
                raise TypeError("%s must be a bool" % name)
            if name == "exact":
                p.exact = int(v)
            elif v:
                p.norm |= _capi.ND_NORM_STRICT_UTF8
            else:
                p.norm &= ~_capi.ND_NORM_STRICT_UTF8
        elif name == "tmpdir":
            p.tmpdir = os.fsencode(v)
    msg = ctypes.create_string_buffer(256)
    if _lib.nd_params_check(ctypes.byref(p), msg, 256) != 0:
        raise _error(-2, msg.value)
    return p


# ------------------------------------------------------------ signatures

class MinHash:
    """A text's signature: num_perm 32-bit values (.hashvalues) and the
    size of its shingle set (.set_size), with the parameters that made it.
    Made by sketch(), Sketcher.sketch() or Index.sketch()."""

    __slots__ = ("hashvalues", "set_size", "_params")

    def __init__(self, hashvalues, set_size, params):
        self.hashvalues = array("I", hashvalues)
        self.set_size = set_size
        self._params = dict(params)

    @property
    def num_perm(self):
        return len(self.hashvalues)

    @property
    def seed(self):
        return self._params["seed"]

    @property
    def params(self):
        """What the signature depends on: shingle, ngram, num_perm, seed,
        sketch, strict."""
        return dict(self._params)

    def digest(self):
        """A copy of the values."""
        return array("I", self.hashvalues)

    def count(self):
        """The number of distinct shingles of the text."""
        return self.set_size

    def _check_like(self, other):
        if not isinstance(other, MinHash):
            raise TypeError("expected a MinHash, not %s"
                            % type(other).__name__)
        if other._params != self._params:
            diff = [k for k in self._params
                    if self._params[k] != other._params.get(k)]
            raise ValueError("signatures made with different parameters (%s)"
                             " cannot be compared" % ", ".join(diff))

    def _c_values(self):
        return (ctypes.c_uint32 * len(self.hashvalues)).from_buffer_copy(
            self.hashvalues)

    def jaccard(self, other):
        """The Jaccard similarity the two signatures estimate."""
        self._check_like(other)
        return _lib.nd_sig_jaccard(self._c_values(), other._c_values(),
                                   len(self.hashvalues))

    def containment(self, other):
        """The containment of this text in other, |A n B| / |A|, from the
        estimated Jaccard and the two set sizes."""
        return _lib.nd_containment(self.jaccard(other), self.set_size,
                                   other.set_size)

    def __len__(self):
        return len(self.hashvalues)

    def __eq__(self, other):
        return (isinstance(other, MinHash) and self._params == other._params
                and self.set_size == other.set_size
                and self.hashvalues == other.hashvalues)

    def __hash__(self):
        return hash((bytes(self.hashvalues), self.set_size))

    def __repr__(self):
        return "MinHash(num_perm=%d, set_size=%d)" % (self.num_perm,
                                                      self.set_size)


class Sketcher:
    """Sketches, shingles and normalizes single texts under one set of
    parameters (those of _SKETCH_PARAMS matter).  Safe to share between
    threads (calls are serialized); one per thread runs them in parallel."""

    def __init__(self, **params):
        self._p = _make_params(params)
        self._sig_params = _params_dict(self._p, _SKETCH_PARAMS)
        self._lock = threading.Lock()
        h = ctypes.c_void_p()
        rc = _lib.nd_sketcher_create(ctypes.byref(self._p), ctypes.byref(h))
        if rc:
            raise _error(rc)
        self._h = h
        self._sig = (ctypes.c_uint32 * self._p.num_perm)()

    def _handle(self):
        if self._h is None:
            raise StateError("the sketcher is closed", -7)
        return self._h

    def sketch(self, text):
        """The MinHash of text (str or bytes)."""
        t = _text_bytes(text)
        size = ctypes.c_uint64()
        with self._lock:
            rc = _lib.nd_sketcher_sketch(self._handle(), t, len(t), self._sig,
                                         ctypes.byref(size))
            if rc:
                raise _error(rc)
            return MinHash(self._sig, size.value, self._sig_params)

    def shingles(self, text):
        """The text's shingle hashes, sorted and unique."""
        t = _text_bytes(text)
        ptr, n = ctypes.POINTER(ctypes.c_uint64)(), ctypes.c_size_t()
        with self._lock:
            rc = _lib.nd_sketcher_shingles(self._handle(), t, len(t),
                                           ctypes.byref(ptr), ctypes.byref(n))
            if rc:
                raise _error(rc)
            return ptr[:n.value] if n.value else []

    def normalize(self, text):
        """The normalized text shingles are made from (tokens joined by
        single spaces)."""
        t = _text_bytes(text)
        ptr, n = ctypes.c_void_p(), ctypes.c_size_t()
        with self._lock:
            rc = _lib.nd_sketcher_normalize(self._handle(), t, len(t),
                                            ctypes.byref(ptr), ctypes.byref(n))
            if rc:
                raise _error(rc)
            return ctypes.string_at(ptr, n.value).decode("utf-8",
                                                         "surrogateescape")

    def close(self):
        with self._lock:
            if self._h is not None:
                _lib.nd_sketcher_free(self._h)
                self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def sketch(text, **params):
    """The MinHash of one text (parameters as defaults(), e.g. num_perm)."""
    with Sketcher(**params) as s:
        return s.sketch(text)


# --------------------------------------------------------------- explain

_EXPLAIN_WORDS = 5000  # words of each text searched for the passage
_PASSAGE_HALF = 15     # a longer passage is 15 words, " ... ", 15


def _longest_run(a, b):
    """The first longest run of words a and b share: (start in a, length)."""
    from difflib import SequenceMatcher
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(
        0, len(a), 0, len(b))
    return m.a, m.size


def _explain(sk, ta, tb, jaccard=None, containment=None):
    ma, mb = sk.sketch(ta), sk.sketch(tb)
    if jaccard is None:
        jaccard = ma.jaccard(mb)
        small, large = sorted((ma.set_size, mb.set_size))
        containment = _lib.nd_containment(jaccard, small, large)
    sa, sb = sk.shingles(ta), sk.shingles(tb)
    ca = (ctypes.c_uint64 * len(sa))(*sa)
    cb = (ctypes.c_uint64 * len(sb))(*sb)
    ej, ec = ctypes.c_double(), ctypes.c_double()
    _lib.nd_exact_scores(ca, len(sa), cb, len(sb), ctypes.byref(ej),
                         ctypes.byref(ec))
    wa = sk.normalize(ta).split(" ")[:_EXPLAIN_WORDS]
    wb = sk.normalize(tb).split(" ")[:_EXPLAIN_WORDS]
    wa, wb = [w for w in wa if w], [w for w in wb if w]
    start, n = _longest_run(wa, wb)
    if n > 2 * _PASSAGE_HALF:
        passage = (" ".join(wa[start:start + _PASSAGE_HALF]) + " ... " +
                   " ".join(wa[start + n - _PASSAGE_HALF:start + n]))
    else:
        passage = " ".join(wa[start:start + n])
    return {"jaccard": jaccard, "containment": containment,
            "exact_jaccard": ej.value, "exact_containment": ec.value,
            "shared_words": n, "passage": passage}


def explain(a, b, **params):
    """Why two texts are (or are not) alike: the estimated jaccard and
    containment (of the smaller in the larger), the exact ones from the
    full shingle sets, shared_words (the longest run of normalized words
    both share, searched in the first 5000 of each) and that passage.
    There is no collection here, so no boilerplate is suppressed."""
    with Sketcher(**params) as sk:
        return _explain(sk, a, b)


# ----------------------------------------------------------------- batch

Member = namedtuple("Member", "id cluster rep")
Pair = namedtuple("Pair", "a b jaccard containment")
ExplainedPair = namedtuple(
    "ExplainedPair", "a b jaccard containment exact_jaccard "
    "exact_containment shared_words passage")


class BatchResult(list):
    """A list of results with .stats: the run's counters (documents,
    candidates, edges, clusters, ...) and what reading skipped: records
    read = documents + skipped_bad (+ binary files skipped, not records)."""
    stats = None


# A chunk ends where the next text would take it past 4096 texts or 64 MB,
# as in the command: the boilerplate count samples by chunk.
_CHUNK_DOCS = 4096
_CHUNK_BYTES = 64 << 20


def _decode_id(raw):
    """A reader's id (JSON text) as a Python value: str, int or Decimal."""
    s = raw.decode("utf-8", "surrogateescape")
    try:
        v = json.loads(s, parse_float=Decimal)
    except ValueError:
        return s
    return v if isinstance(v, (str, int, Decimal)) else s


def _is_path(x):
    return isinstance(x, (str, os.PathLike))


class _Run:
    """One batch: texts counted (boilerplate), then added, then run.

    Every batch function goes through _batch(), the only place that knows
    how the library is driven (nd_batch_count over all texts in the
    command's chunks, then nd_batch_add_many, then nd_batch_run)."""

    def __init__(self, p, skip_bad):
        self.p = p
        self.skip_bad = skip_bad
        self.counting = p.boilerplate > 0
        self.strict = bool(p.norm & _capi.ND_NORM_STRICT_UTF8)
        h = ctypes.c_void_p()
        rc = _lib.nd_batch_create(ctypes.byref(p), ctypes.byref(h))
        if rc:
            raise _error(rc)
        self.h = h
        self.skipped_bad = 0
        self.skipped_binary = 0
        self.repaired = 0
        self.records = 0

    def close(self):
        if self.h is not None:
            _lib.nd_batch_free(self.h)
            self.h = None

    def feed(self, texts, metas, counting, where):
        """Count or add texts; under strict, a text of invalid UTF-8 is a
        bad record: an error, or with skip_bad skipped.  Returns the
        positions refused."""
        n = len(texts)
        if not n:
            return []
        arr = (ctypes.c_char_p * n)(*texts)
        lens = (ctypes.c_size_t * n)(*[len(t) for t in texts])
        meta = (_capi.DocMeta * n)(*metas) if metas is not None else None
        szp, szm = ctypes.sizeof(ctypes.c_char_p), ctypes.sizeof(_capi.DocMeta)
        refused, start = [], 0

        def call(a, b, bad):
            pa = ctypes.cast(ctypes.byref(arr, a * szp),
                             ctypes.POINTER(ctypes.c_char_p))
            pl = ctypes.cast(ctypes.byref(lens, a * ctypes.sizeof(
                ctypes.c_size_t)), ctypes.POINTER(ctypes.c_size_t))
            if counting:
                return _lib.nd_batch_count(self.h, b - a, pa, pl, bad)
            pm = None if meta is None else ctypes.cast(
                ctypes.byref(meta, a * szm), ctypes.POINTER(_capi.DocMeta))
            return _lib.nd_batch_add_many(self.h, b - a, pa, pl, pm, bad)

        while start < n:
            bad = ctypes.c_size_t(0)
            rc = call(start, n, ctypes.byref(bad))
            if rc == 0:
                break
            if rc != -5:
                raise _error(rc, _lib.nd_batch_errmsg(self.h))
            at = start + bad.value
            msg = "%s: invalid UTF-8 (strict)" % where(at)
            if not self.skip_bad:
                raise Utf8Error(msg, -5)
            warnings.warn(msg + ", record skipped", stacklevel=4)
            self.skipped_bad += 1
            refused.append(at)
            if at > start:
                rc = call(start, at, None)
                if rc:
                    raise _error(rc, _lib.nd_batch_errmsg(self.h))
            start = at + 1
        return refused

    def run(self):
        rc = _lib.nd_batch_run(self.h)
        if rc:
            raise _error(rc, _lib.nd_batch_errmsg(self.h))

    def stats(self):
        st = _capi.BatchStats()
        _lib.nd_batch_stats_get(self.h, ctypes.byref(st))
        d = {"documents": st.text.docs, "records": self.records,
             "skipped_bad": self.skipped_bad,
             "skipped_binary": self.skipped_binary,
             "repaired_utf8": self.repaired}
        for name, _ in _capi.TextStats._fields_[1:]:
            d[name] = getattr(st.text, name)
        for name, _ in _capi.BatchStats._fields_[1:-1]:
            d[name] = getattr(st, name)
        return d


def _chunks(lens):
    """[from, to) ranges of texts as the command chunks them."""
    start, size = 0, 0
    for i, n in enumerate(lens):
        if i - start == _CHUNK_DOCS or (i > start and size + n > _CHUNK_BYTES):
            yield start, i
            start, size = i, 0
        size += n
    if start < len(lens):
        yield start, len(lens)


def _record_fields(item, i, opts):
    """(id, text, time, source) of one item of an iterable."""
    if isinstance(item, (str, bytes, bytearray, memoryview)):
        return i, item, None, None
    if isinstance(item, dict):
        tf, idf = opts["text_field"] or "text", opts["id_field"] or "id"
        if tf not in item:
            raise DataError("record %d: no %r field" % (i, tf), -4)
        return (item.get(idf, i), item[tf],
                item.get(opts["time_field"]) if opts["time_field"] else None,
                item.get(opts["source_field"] or "source"))
    if isinstance(item, tuple) and len(item) in (2, 3):
        return item[0], item[1], item[2] if len(item) == 3 else None, None
    raise TypeError("record %d: expected a text, an (id, text[, time]) "
                    "tuple or a dict, not %s" % (i, type(item).__name__))


def _meta(time, source, ranks, keep_source):
    m = _capi.DocMeta()
    if time is not None:
        m.time, m.has_time = time, 1
    if keep_source:
        m.priority = ranks.get(source, len(ranks))
        m.has_priority = 1
    return m


def _ranks(source_priority):
    if source_priority is None:
        return {}
    if isinstance(source_priority, (str, bytes)):
        raise TypeError("source_priority is a list of source names, most "
                        "preferred first")
    ranks = {}
    for i, name in enumerate(source_priority):
        if not isinstance(name, str):
            raise TypeError("source names are str")
        if name in ranks:
            raise ValueError("source %r is listed twice" % name)
        ranks[name] = i
    return ranks


def _batch_items(r, data, opts, ranks):
    """Count and add the records of an iterable; their ids and items."""
    ids, texts, metas, items = [], [], [], []
    keep_source = r.p.keep == 3
    for i, item in enumerate(data):
        rid, text, t, src = _record_fields(item, i, opts)
        if rid is None or isinstance(rid, bool):
            raise TypeError("record %d: the id must not be %r" % (i, rid))
        if t is not None:
            t = _time_value(t, "record %d: time" % i)
        ids.append(rid)
        texts.append(_text_bytes(text, "record %d: text" % i))
        metas.append(_meta(t, src, ranks, keep_source))
        items.append(item)
    r.records = len(texts)
    where = "record {}".format
    keep = list(range(len(texts)))
    if r.counting:
        gone = set()
        for a, b in _chunks([len(t) for t in texts]):
            for k in r.feed(texts[a:b], None, True,
                            lambda j, a=a: where(a + j)):
                gone.add(a + k)
        keep = [i for i in keep if i not in gone]
    sel = [texts[i] for i in keep]
    selm = [metas[i] for i in keep]
    kept = []
    for a, b in _chunks([len(t) for t in sel]):
        refused = set(r.feed(sel[a:b], selm[a:b], False,
                             lambda j, a=a: where(keep[a + j])))
        kept.extend(keep[a + j] for j in range(b - a) if j not in refused)
    return ([ids[i] for i in kept], [items[i] for i in kept],
            [texts[i] for i in kept])


class _Files:
    """Records of files through nd_reader, read as often as needed."""

    def __init__(self, paths, opts):
        self.paths = [os.fsencode(p) for p in paths]
        self.ropts = _capi.ReaderOpts()
        fmt = opts["format"]
        if fmt is not None:
            names = {s: k for k, s in _capi.FORMAT.items()}
            if fmt not in names:
                raise ValueError("format=%r: not one of %s"
                                 % (fmt, ", ".join(sorted(names))))
            self.ropts.format = names[fmt]
        for f in ("id_field", "text_field", "time_field", "source_field"):
            if opts[f] is not None:
                if not isinstance(opts[f], str):
                    raise TypeError("%s must be a str" % f)
                setattr(self.ropts, f, opts[f].encode())

    def records(self, on_bad, on_binary):
        """(ordinal, record) of every good record, in order."""
        n = len(self.paths)
        arr = (ctypes.c_char_p * n)(*self.paths)
        h = ctypes.c_void_p()
        rc = _lib.nd_reader_open(arr, n, ctypes.byref(self.ropts),
                                 ctypes.byref(h))
        if rc:
            msg = _lib.nd_reader_errmsg(h) if h.value else None
            _lib.nd_reader_close(h)
            raise _error(rc, msg)
        rec, ordinal = _capi.Record(), 0
        try:
            while True:
                rc = _lib.nd_reader_next(h, ctypes.byref(rec))
                if rc == 0:
                    return
                if rc == -6:
                    on_binary(_lib.nd_reader_errmsg(h).decode("utf-8",
                                                              "replace"))
                    continue
                if rc == -4:
                    on_bad(_lib.nd_reader_errmsg(h).decode("utf-8",
                                                           "replace"))
                    continue
                if rc < 0:
                    raise _error(rc, _lib.nd_reader_errmsg(h))
                yield ordinal, rec
                ordinal += 1
        finally:
            _lib.nd_reader_close(h)


def _batch_files(r, files, ranks):
    """Count and add the records of files, reading them twice when
    counting (as the command does); their ids and where they stand."""
    keep_source = r.p.keep == 3

    def bad(msg):
        if not r.skip_bad:
            raise DataError(msg, -4)
        warnings.warn(msg + ", record skipped", stacklevel=5)
        r.skipped_bad += 1
        r.records += 1

    def binary(msg):
        warnings.warn(msg, stacklevel=5)
        r.skipped_binary += 1

    def quiet(msg):
        pass

    def meta(rec):
        src = (ctypes.string_at(rec.source, rec.source_len).decode(
            "utf-8", "surrogateescape") if rec.source else None)
        m = _capi.DocMeta.from_buffer_copy(rec.meta)
        if keep_source:
            m.priority = ranks.get(src, len(ranks))
            m.has_priority = 1
        return m

    refused = set()
    ids, ords = [], []

    def passes(first):
        """Feed chunk by chunk; the first pass checks and counts."""
        counting = first and r.counting
        texts, metas, recs = [], [], []
        size = 0

        def flush():
            gone = r.feed(texts, None if counting else metas, counting,
                          lambda j: "%s:%d" % recs[j][:2])
            for j in gone:
                refused.add(recs[j][2])
            if not counting:
                g = set(gone)
                for j, (_, _, o, rid) in enumerate(recs):
                    if j not in g:
                        ids.append(rid)
                        ords.append(o)

        for o, rec in files.records(bad if first else quiet,
                                    binary if first else quiet):
            if first:
                r.records += 1
                if rec.bad_utf8:
                    if r.strict:
                        msg = "%s:%d: invalid UTF-8 (strict)" % (
                            rec.file.decode("utf-8", "replace"), rec.line)
                        if not r.skip_bad:
                            raise Utf8Error(msg, -5)
                        warnings.warn(msg + ", record skipped", stacklevel=4)
                        r.skipped_bad += 1
                        refused.add(o)
                        continue
                    r.repaired += 1
            elif o in refused:
                continue
            n = rec.text_len
            if texts and (len(texts) == _CHUNK_DOCS or
                          size + n > _CHUNK_BYTES):
                flush()
                texts, metas, recs, size = [], [], [], 0
            texts.append(ctypes.string_at(rec.text, n))
            metas.append(meta(rec))
            rid = _decode_id(ctypes.string_at(rec.id, rec.id_len)) \
                if not counting else None
            recs.append((rec.file.decode("utf-8", "replace"), rec.line, o,
                         rid))
            size += n
        if texts:
            flush()

    passes(True)
    if r.counting:
        passes(False)
    return ids, ords


def _batch(data, params, opts, source_priority, skip_bad, want):
    """Run one batch over data; (ids, items or ordinals, texts, result).

    The one function the batch calls go through: cluster numbers and
    representatives (want "cluster"), or the verified edges ("pairs")."""
    if not isinstance(skip_bad, bool):
        raise TypeError("skip_bad must be a bool")
    if data is None:
        raise TypeError("data must be a path or an iterable of records")
    p = _make_params(params)
    ranks = _ranks(source_priority)
    if p.keep == 3 and source_priority is None:
        raise ValueError("keep='source' needs source_priority")
    if p.keep == 3 and opts["source_field"] is None:
        opts = dict(opts, source_field="source")
    paths = None
    if _is_path(data):
        paths = [data]
    elif isinstance(data, list) and data and all(
            isinstance(x, os.PathLike) for x in data):
        paths = data
    r = _Run(p, skip_bad)
    try:
        if paths is not None:
            files = _Files(paths, opts)
            ids, where = _batch_files(r, files, ranks)
            texts = None
        else:
            if isinstance(data, (bytes, bytearray)):
                raise TypeError("data must be a path or an iterable of "
                                "records, not bytes")
            ids, where, texts = _batch_items(r, data, opts, ranks)
            files = None
        r.run()
        n = _lib.nd_batch_size(r.h)
        assert n == len(ids)
        if want == "cluster":
            out = ([_lib.nd_batch_cluster(r.h, i) for i in range(n)],
                   [_lib.nd_batch_rep(r.h, i) for i in range(n)])
        else:
            ne = ctypes.c_size_t()
            e = _lib.nd_batch_edges(r.h, ctypes.byref(ne))
            out = [(e[i].a, e[i].b, float(e[i].jaccard),
                    float(e[i].containment)) for i in range(ne.value)]
        stats = r.stats()
        return ids, where, texts, files, out, stats
    finally:
        r.close()


_READER_KW = ("format", "id_field", "text_field", "time_field",
              "source_field")


def _split(kw):
    opts = {k: kw.pop(k, None) for k in _READER_KW}
    return opts, kw


def cluster(data, *, source_priority=None, skip_bad=False, **kw):
    """Cluster a collection as `neardup cluster` does.

    data: a path (str or os.PathLike: JSONL, TSV, text, a directory,
    .gz/.zst) or a list of pathlib paths; or an iterable of records, each
    a text (id: its position), an (id, text) or (id, text, time) tuple,
    or a dict (fields id_field, text_field, time_field, source_field).
    Keywords: the parameters of defaults(); format, id_field, text_field,
    time_field, source_field as the command's options; source_priority,
    with keep="source", a list of source names, most preferred first;
    skip_bad warns about bad records and goes on.

    Returns a BatchResult of Member(id, cluster, rep), in input order;
    clusters are numbered 0, 1, ... in order of their first member."""
    opts, params = _split(kw)
    ids, _, _, _, (cl, rep), stats = _batch(data, params, opts,
                                            source_priority, skip_bad,
                                            "cluster")
    res = BatchResult(Member(ids[i], cl[i], rep[i] == i)
                      for i in range(len(ids)))
    res.stats = stats
    return res


def dedup(data, *, source_priority=None, skip_bad=False, **kw):
    """The records to keep (each cluster's representative), in input
    order: the items as given for an iterable; for files, each record as
    read (str, no newline; for a directory, its id), as `neardup dedup`
    prints them (a TSV header is not a record and is left out).
    Arguments as cluster()."""
    opts, params = _split(kw)
    ids, where, _, files, (cl, rep), stats = _batch(
        data, params, opts, source_priority, skip_bad, "cluster")
    keep = [i for i in range(len(ids)) if rep[i] == i]
    if files is None:
        res = BatchResult(where[i] for i in keep)
    else:
        wanted = {where[i] for i in keep}
        res = BatchResult()
        is_dir = any(os.path.isdir(p) for p in files.paths)
        for o, rec in files.records(lambda m: None, lambda m: None):
            if o in wanted:
                if is_dir:
                    res.append(_decode_id(ctypes.string_at(rec.id,
                                                           rec.id_len)))
                else:
                    res.append(ctypes.string_at(rec.raw, rec.raw_len)
                               .decode("utf-8", "surrogateescape"))
    res.stats = stats
    return res


def pairs(data, *, explain=False, source_priority=None, skip_bad=False,
          **kw):
    """The verified similar pairs as Pair(a, b, jaccard, containment),
    a before b in input order, sorted; containment is that of the smaller
    shingle set in the larger.  With explain=True, ExplainedPair with the
    exact scores and the longest shared passage (see explain()).
    Arguments as cluster()."""
    if not isinstance(explain, bool):
        raise TypeError("explain must be a bool")
    opts, params = _split(kw)
    ids, where, texts, files, edges, stats = _batch(
        data, params, opts, source_priority, skip_bad, "pairs")
    if not explain:
        res = BatchResult(Pair(ids[a], ids[b], j, c) for a, b, j, c in edges)
    else:
        if texts is None:  # read the texts of the pairs back
            need = {where[d] for e in edges for d in e[:2]}
            got = {o: ctypes.string_at(rec.text, rec.text_len)
                   for o, rec in files.records(lambda m: None,
                                               lambda m: None) if o in need}
            texts = {d: got[where[d]] for e in edges for d in e[:2]}
        res = BatchResult()
        sk_params = {k: v for k, v in params.items() if k in _SKETCH_PARAMS}
        with Sketcher(**sk_params) as sk:
            for a, b, j, c in edges:
                x = _explain(sk, texts[a], texts[b], j, c)
                res.append(ExplainedPair(ids[a], ids[b], j, c,
                                         x["exact_jaccard"],
                                         x["exact_containment"],
                                         x["shared_words"], x["passage"]))
    res.stats = stats
    return res


# ----------------------------------------------------------------- index

Match = namedtuple("Match", "id jaccard containment time")


def _id_bytes(v):
    """An id as the command stores it: its JSON text ("a1" with quotes,
    7 without), so the two read each other's indexes."""
    if isinstance(v, bool) or v is None:
        raise TypeError("an id is a str or an int, not %r" % (v,))
    if isinstance(v, str):
        b = json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")
    elif isinstance(v, int):
        b = str(v).encode()
    else:
        raise TypeError("an id is a str or an int, not %s"
                        % type(v).__name__)
    if len(b) > _capi.ND_INDEX_MAX_ID:
        raise ValueError("an id is at most %d bytes as JSON"
                         % _capi.ND_INDEX_MAX_ID)
    return b


class _Guard:
    """Shared use of a handle by calls, exclusive by the calls that free
    what others read (remove, evict, close); close waits for the calls in
    flight, and every later call raises StateError."""

    def __init__(self, what):
        self._c = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0
        self.closed = False
        self._what = what

    def _closed_error(self):
        return StateError("the %s is closed" % self._what, -7)

    def shared(self):
        g = self

        class _Shared:
            def __enter__(self):
                with g._c:
                    while g._writer or g._waiting:
                        g._c.wait()
                    if g.closed:
                        raise g._closed_error()
                    g._readers += 1

            def __exit__(self, *exc):
                with g._c:
                    g._readers -= 1
                    g._c.notify_all()
        return _Shared()

    def exclusive(self, closing=False):
        g = self

        class _Exclusive:
            def __enter__(self):
                with g._c:
                    g._waiting += 1
                    try:
                        while g._writer or g._readers:
                            g._c.wait()
                    finally:
                        g._waiting -= 1
                    if g.closed and not closing:
                        g._c.notify_all()
                        raise g._closed_error()
                    g._writer = True

            def __exit__(self, *exc):
                with g._c:
                    g._writer = False
                    if closing:
                        g.closed = True
                    g._c.notify_all()
        return _Exclusive()


class Index:
    """An incremental near-duplicate index, in memory (path None) or in a
    directory (made when missing, unless create=False).

    Parameters (those of defaults() that an index keeps: shingle, ngram,
    num_perm, seed, threshold, measure, containment, figures, boilerplate,
    boilerplate_min, bands, rows, sketch, strict) left out take the
    library's defaults for a new index and the stored values for an
    existing one; when any is given, all must equal the stored ones (else
    MismatchError naming the field).  Safe to use from many threads,
    close() included."""

    def __init__(self, path=None, *, readonly=False, create=True, limit=10,
                 **params):
        self._h = None
        self._guard = _Guard("index")
        if not isinstance(readonly, bool) or not isinstance(create, bool):
            raise TypeError("readonly and create must be bool")
        self.limit = _integer("limit", limit, 1, 1 << 20)
        p = _make_params(params, _INDEX_PARAMS)
        h = ctypes.c_void_p()
        if path is None:
            if readonly:
                raise ValueError("an index in memory cannot be read-only")
            rc = _lib.nd_index_create(ctypes.byref(p), ctypes.byref(h))
            if rc:
                raise _error(rc)
        else:
            flags = (_capi.ND_INDEX_READONLY if readonly else 0) | \
                    (_capi.ND_INDEX_CREATE if create and not readonly else 0)
            rc = _lib.nd_index_open(os.fsencode(path),
                                    ctypes.byref(p) if params else None,
                                    flags, ctypes.byref(h))
            if rc:
                msg = _lib.nd_index_errmsg(h)
                _lib.nd_index_close(h)
                raise _error(rc, msg)
        self._h = h
        self._sig_params = _params_dict(self._params(), _SKETCH_PARAMS)
        self._sketcher = None

    @classmethod
    def open(cls, path, readonly=False, **params):
        """Open an existing index directory (NotFoundError when none)."""
        return cls(path, readonly=readonly, create=False, **params)

    # -- helpers
    def _check(self, rc):
        if rc:
            raise _error(rc, _lib.nd_index_errmsg(self._h))

    def _params(self):
        p = _capi.Params()
        _lib.nd_index_params(self._h, ctypes.byref(p))
        return p

    def _limit(self, limit):
        return self.limit if limit is None else _integer("limit", limit, 1,
                                                         1 << 20)

    @staticmethod
    def _matches(buf, n):
        return [Match(_decode_id(ctypes.string_at(buf[i].id, buf[i].id_len)),
                      buf[i].jaccard, buf[i].containment, buf[i].time)
                for i in range(n)]

    def _sig(self, m):
        m_params = m._params
        if m_params != self._sig_params:
            raise ValueError("the signature was made with other parameters "
                             "than the index's (%s)" % ", ".join(
                                 k for k in self._sig_params
                                 if self._sig_params[k] != m_params.get(k)))
        return m._c_values()

    # -- API
    def sketch(self, text):
        """The MinHash of text under the index's parameters."""
        with self._guard.shared():
            if self._sketcher is None:
                self._sketcher = Sketcher(**self._sig_params)
        return self._sketcher.sketch(text)

    def add(self, id, text, time=None):
        """Index text (str, bytes, or a MinHash of this index's
        parameters) under id (str or int).  time: seconds since the epoch,
        a datetime or an RFC 3339 string; None stamps now, as the command
        does.  ExistsError when id is indexed."""
        i = _id_bytes(id)
        t = int(_time.time()) if time is None else _time_value(time)
        if isinstance(text, MinHash):
            sig = self._sig(text)
            with self._guard.shared():
                self._check(_lib.nd_index_add_sig(self._h, i, len(i), sig,
                                                  text.set_size, t))
            return
        b = _text_bytes(text)
        with self._guard.shared():
            self._check(_lib.nd_index_add(self._h, i, len(i), b, len(b), t))

    insert = add  # datasketch's MinHashLSH.insert(key, minhash)

    def query(self, text, limit=None):
        """The indexed documents that match text (or a MinHash), best
        first, as Match(id, jaccard, containment, time); at most limit."""
        cap = self._limit(limit)
        buf = (_capi.Match * cap)()
        n = ctypes.c_size_t()
        if isinstance(text, MinHash):
            sig = self._sig(text)
            with self._guard.shared():
                rc = _lib.nd_index_query_sig(self._h, sig, text.set_size, buf,
                                             cap, ctypes.byref(n))
                if rc:
                    raise _error(rc)
                return self._matches(buf, n.value)
        b = _text_bytes(text)
        with self._guard.shared():
            rc = _lib.nd_index_query(self._h, b, len(b), buf, cap,
                                     ctypes.byref(n))
            if rc:
                raise _error(rc)
            return self._matches(buf, n.value)

    def add_query(self, id, text, time=None, limit=None):
        """Query, then add: the matches among the documents indexed
        before (as `neardup index add` reports them)."""
        i, b = _id_bytes(id), _text_bytes(text)
        t = int(_time.time()) if time is None else _time_value(time)
        cap = self._limit(limit)
        buf = (_capi.Match * cap)()
        n = ctypes.c_size_t()
        with self._guard.shared():
            self._check(_lib.nd_index_add_query(self._h, i, len(i), b, len(b),
                                                t, buf, cap, ctypes.byref(n)))
            return self._matches(buf, n.value)

    def remove(self, id):
        """Remove one document; NotFoundError when id is not indexed."""
        i = _id_bytes(id)
        with self._guard.exclusive():
            self._check(_lib.nd_index_remove(self._h, i, len(i)))

    def evict(self, before):
        """Remove the documents whose time is before `before` (seconds,
        a datetime or RFC 3339); returns how many."""
        t = _time_value(before, "before")
        k = ctypes.c_size_t()
        with self._guard.exclusive():
            self._check(_lib.nd_index_evict_before(self._h, t,
                                                   ctypes.byref(k)))
        return k.value

    evict_before = evict

    def sync(self):
        """Make every write so far durable."""
        with self._guard.shared():
            self._check(_lib.nd_index_sync(self._h))

    def save(self, path=None):
        """Write a fresh snapshot into directory path (None: compact in
        place)."""
        with self._guard.shared():
            self._check(_lib.nd_index_save(
                self._h, None if path is None else os.fsencode(path)))

    def get_time(self, id):
        """The time stored with id, or None when id is not indexed."""
        i = _id_bytes(id)
        t = ctypes.c_int64()
        with self._guard.shared():
            rc = _lib.nd_index_get(self._h, i, len(i), ctypes.byref(t))
        return t.value if rc == 0 else None

    def __contains__(self, id):
        return self.get_time(id) is not None

    def stats(self):
        st = _capi.IndexStats()
        with self._guard.shared():
            _lib.nd_index_stats_get(self._h, ctypes.byref(st))
        return {name: getattr(st, name)
                for name, _ in _capi.IndexStats._fields_[:-1]}

    def params(self):
        """The index's parameters; bands and rows as the LSH layout used."""
        with self._guard.shared():
            p = self._params()
        b, r = ctypes.c_uint(), ctypes.c_uint()
        _lib.nd_params_lsh(ctypes.byref(p), ctypes.byref(b), ctypes.byref(r))
        d = _params_dict(p, _INDEX_PARAMS)
        d["bands"], d["rows"] = b.value, r.value
        return d

    def __len__(self):
        return self.stats()["docs"]

    @property
    def closed(self):
        return self._guard.closed

    def close(self):
        """Sync (a writable directory) and release; waits for the calls of
        other threads in flight.  Idempotent."""
        with self._guard.exclusive(closing=True):
            if self._h is not None:
                _lib.nd_index_close(self._h)
                self._h = None
            if self._sketcher is not None:
                self._sketcher.close()
                self._sketcher = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if getattr(self, "_h", None) is not None:
                self.close()
        except Exception:
            pass
