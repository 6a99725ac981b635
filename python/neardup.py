"""neardup - a ctypes binding to libneardup's incremental index.

Standard library only, no build step.  The shared library is found through
the NEARDUP_LIB environment variable (a path to libneardup.so) or, failing
that, ctypes.util.find_library("neardup").

    from neardup import Index
    with Index("news.idx", threshold=0.8) as ix:      # a directory on disk
        for m in ix.add_query("a1", text, time=ts):
            print("duplicate of", m.id, m.jaccard)
        ix.sync()

Ids are str (stored as UTF-8) or bytes; matches return them as str.
"""
import ctypes
import ctypes.util
import os
from collections import namedtuple

__all__ = ["Index", "Match", "NeardupError", "library_version"]

ND_INDEX_READONLY = 0x1
ND_INDEX_CREATE = 0x2


class _Params(ctypes.Structure):
    # Mirrors nd_params in neardup.h; the tail is room for fields a newer
    # minor version may add, which nd_params_init fills.
    _fields_ = [
        ("shingle", ctypes.c_int),
        ("ngram", ctypes.c_uint),
        ("num_perm", ctypes.c_uint),
        ("seed", ctypes.c_uint64),
        ("threshold", ctypes.c_double),
        ("measure", ctypes.c_int),
        ("bands", ctypes.c_uint),
        ("rows", ctypes.c_uint),
        ("norm", ctypes.c_uint),
        ("exact", ctypes.c_int),
        ("keep", ctypes.c_int),
        ("threads", ctypes.c_uint),
        ("_reserved", ctypes.c_uint8 * 128),
    ]


class _Match(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_void_p),
        ("id_len", ctypes.c_size_t),
        ("jaccard", ctypes.c_double),
        ("containment", ctypes.c_double),
        ("time", ctypes.c_int64),
    ]


class _Stats(ctypes.Structure):
    _fields_ = [
        ("docs", ctypes.c_uint64),
        ("removed", ctypes.c_uint64),
        ("unsynced", ctypes.c_uint64),
        ("time_min", ctypes.c_int64),
        ("time_max", ctypes.c_int64),
        ("num_perm", ctypes.c_uint),
        ("bands", ctypes.c_uint),
        ("rows", ctypes.c_uint),
        ("disk_bytes", ctypes.c_uint64),
        ("memory_bytes", ctypes.c_uint64),
        ("generation", ctypes.c_uint64),
        ("queries", ctypes.c_uint64),
        ("candidates", ctypes.c_uint64),
        ("df_docs", ctypes.c_uint64),
        ("df_rate", ctypes.c_uint64),
        ("boilerplate_cutoff", ctypes.c_uint64),
    ]


Match = namedtuple("Match", "id jaccard containment time")


class NeardupError(Exception):
    """A libneardup error: .code is the ND_ERR_* value (negative)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _load():
    path = os.environ.get("NEARDUP_LIB") or ctypes.util.find_library("neardup")
    if not path:
        raise OSError("libneardup not found: set NEARDUP_LIB to its path")
    lib = ctypes.CDLL(path)
    P, c_int, c_size_t = ctypes.POINTER, ctypes.c_int, ctypes.c_size_t
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    sigs = {
        "nd_strerror": (cp, [c_int]),
        "nd_version_string": (cp, []),
        "nd_params_init": (None, [P(_Params)]),
        "nd_params_check": (c_int, [P(_Params), cp, c_size_t]),
        "nd_index_create": (c_int, [P(_Params), P(vp)]),
        "nd_index_open": (c_int, [cp, P(_Params), c_int, P(vp)]),
        "nd_index_add": (c_int, [vp, cp, c_size_t, cp, c_size_t,
                                 ctypes.c_int64]),
        "nd_index_query": (c_int, [vp, cp, c_size_t, P(_Match), c_size_t,
                                   P(c_size_t)]),
        "nd_index_add_query": (c_int, [vp, cp, c_size_t, cp, c_size_t,
                                       ctypes.c_int64, P(_Match), c_size_t,
                                       P(c_size_t)]),
        "nd_index_get": (c_int, [vp, cp, c_size_t, P(ctypes.c_int64)]),
        "nd_index_remove": (c_int, [vp, cp, c_size_t]),
        "nd_index_evict_before": (c_int, [vp, ctypes.c_int64, P(c_size_t)]),
        "nd_index_sync": (c_int, [vp]),
        "nd_index_save": (c_int, [vp, cp]),
        "nd_index_params": (None, [vp, P(_Params)]),
        "nd_index_stats_get": (None, [vp, P(_Stats)]),
        "nd_index_errmsg": (cp, [vp]),
        "nd_index_close": (None, [vp]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
    return lib


_lib = None


def _L():
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def library_version():
    return _L().nd_version_string().decode()


def _bytes(s):
    if isinstance(s, bytes):
        return s
    return str(s).encode("utf-8", "surrogateescape")


_SHINGLES = {"word": 0, "char": 1}
_MEASURES = {"jaccard": 0, "containment": 1}


def _params(threshold, num_perm, ngram, shingle, seed, measure, bands, rows):
    p = _Params()
    _L().nd_params_init(ctypes.byref(p))
    if threshold is not None:
        p.threshold = threshold
    if num_perm is not None:
        p.num_perm = num_perm
    if ngram is not None:
        p.ngram = ngram
    if shingle is not None:
        p.shingle = _SHINGLES[shingle]
    if seed is not None:
        p.seed = seed
    if measure is not None:
        p.measure = _MEASURES[measure]
    if bands is not None:
        p.bands = bands
    if rows is not None:
        p.rows = rows
    msg = ctypes.create_string_buffer(256)
    if _L().nd_params_check(ctypes.byref(p), msg, 256) != 0:
        raise NeardupError(-2, msg.value.decode())
    return p


class Index:
    """A near-duplicate index, in memory (path None) or in a directory.

    Parameters left as None take the library defaults for a new index and
    the stored values for an existing one; given ones must match what is
    stored (else NeardupError with code ND_ERR_MISMATCH).
    """

    def __init__(self, path=None, *, threshold=None, num_perm=None,
                 ngram=None, shingle=None, seed=None, measure=None,
                 bands=None, rows=None, readonly=False, create=True,
                 limit=16):
        self._h = None
        self.limit = limit
        L = _L()
        given = [threshold, num_perm, ngram, shingle, seed, measure, bands,
                 rows]
        p = _params(*given)
        h = ctypes.c_void_p()
        if path is None:
            rc = L.nd_index_create(ctypes.byref(p), ctypes.byref(h))
            if rc:
                raise NeardupError(rc, L.nd_strerror(rc).decode())
        else:
            flags = (ND_INDEX_READONLY if readonly else 0) | \
                    (ND_INDEX_CREATE if create and not readonly else 0)
            pp = ctypes.byref(p) if any(g is not None for g in given) \
                else None
            rc = L.nd_index_open(os.fsencode(path), pp, flags,
                                 ctypes.byref(h))
            if rc:
                msg = L.nd_index_errmsg(h).decode(errors="replace")
                L.nd_index_close(h)
                raise NeardupError(rc, msg)
        self._h = h

    @classmethod
    def open(cls, path, readonly=False, **params):
        """Open an existing index directory (no creation)."""
        return cls(path, readonly=readonly, create=False, **params)

    # -- helpers
    def _handle(self):
        if self._h is None:
            raise NeardupError(-7, "the index is closed")
        return self._h

    def _check(self, rc):
        if rc:
            msg = _L().nd_index_errmsg(self._h).decode(errors="replace")
            raise NeardupError(rc, "%s: %s" % (
                _L().nd_strerror(rc).decode(), msg))

    @staticmethod
    def _matches(buf, n):
        return [Match(ctypes.string_at(buf[i].id, buf[i].id_len).decode(
                          "utf-8", "surrogateescape"),
                      buf[i].jaccard, buf[i].containment, buf[i].time)
                for i in range(n)]

    # -- API
    def add(self, id, text, time=0):
        """Index text under id; NeardupError (ND_ERR_EXISTS) if id is there."""
        i, t = _bytes(id), _bytes(text)
        self._check(_L().nd_index_add(self._handle(), i, len(i), t, len(t),
                                      time))

    def query(self, text, limit=None):
        """The matching indexed documents, best first, as Match tuples."""
        t = _bytes(text)
        cap = limit or self.limit
        buf = (_Match * cap)()
        n = ctypes.c_size_t()
        rc = _L().nd_index_query(self._handle(), t, len(t), buf, cap,
                                 ctypes.byref(n))
        if rc:
            raise NeardupError(rc, _L().nd_strerror(rc).decode())
        return self._matches(buf, n.value)

    def add_query(self, id, text, time=0, limit=None):
        """Query, then add: the matches among documents indexed before."""
        i, t = _bytes(id), _bytes(text)
        cap = limit or self.limit
        buf = (_Match * cap)()
        n = ctypes.c_size_t()
        self._check(_L().nd_index_add_query(self._handle(), i, len(i), t,
                                            len(t), time, buf, cap,
                                            ctypes.byref(n)))
        return self._matches(buf, n.value)

    def remove(self, id):
        i = _bytes(id)
        self._check(_L().nd_index_remove(self._handle(), i, len(i)))

    def evict_before(self, time):
        """Remove documents with time < time; returns how many."""
        k = ctypes.c_size_t()
        self._check(_L().nd_index_evict_before(self._handle(), time,
                                               ctypes.byref(k)))
        return k.value

    def sync(self):
        self._check(_L().nd_index_sync(self._handle()))

    def save(self, path=None):
        """Write a fresh snapshot to directory path (None: compact in place)."""
        self._check(_L().nd_index_save(
            self._handle(), None if path is None else os.fsencode(path)))

    def get_time(self, id):
        """The time stored with id, or None when id is not indexed."""
        i = _bytes(id)
        t = ctypes.c_int64()
        rc = _L().nd_index_get(self._handle(), i, len(i), ctypes.byref(t))
        return t.value if rc == 0 else None

    def __contains__(self, id):
        return self.get_time(id) is not None

    def stats(self):
        st = _Stats()
        _L().nd_index_stats_get(self._handle(), ctypes.byref(st))
        return {name: getattr(st, name) for name, _ in _Stats._fields_}

    def params(self):
        p = _Params()
        _L().nd_index_params(self._handle(), ctypes.byref(p))
        return {"threshold": p.threshold, "num_perm": p.num_perm,
                "ngram": p.ngram, "seed": p.seed, "bands": p.bands,
                "rows": p.rows,
                "shingle": "char" if p.shingle == 1 else "word",
                "measure": "containment" if p.measure == 1 else "jaccard"}

    def __len__(self):
        return self.stats()["docs"]

    def close(self):
        """Sync (for a writable directory) and release.  Idempotent."""
        if self._h is not None:
            _L().nd_index_close(self._h)
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
