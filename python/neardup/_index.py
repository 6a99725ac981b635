"""The incremental index, guarded so that close() is safe under threads."""
import ctypes
import json
import os
import threading
import time as _time
from collections import namedtuple

from . import _capi
from ._batch import _decode_id
from ._capi import lib as _lib
from ._errors import StateError, _error, _integer, _text_bytes, \
    _time_value
from ._params import _INDEX_PARAMS, _SKETCH_PARAMS, _make_params, \
    _params_dict
from ._sketch import MinHash, Sketcher

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
        self._sketcher_lock = threading.Lock()

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
            with self._sketcher_lock:
                if self._sketcher is None:
                    self._sketcher = Sketcher(**self._sig_params)
            return self._sketcher.sketch(text)

    def add(self, id, text, time=None):
        """Index text (str, bytes, or a MinHash of this index's
        parameters) under id (str or int).  time: seconds since the epoch,
        a datetime or an RFC 3339 string; None stamps now, as the command
        does.  ExistsError when id is indexed.  A document added by its
        MinHash has no figures (never refused for them) and is not counted
        in the index's shingle frequencies."""
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
