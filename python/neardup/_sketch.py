"""Signatures (MinHash), the sketcher, and explaining a pair."""
import ctypes
import threading
from array import array

from ._capi import lib as _lib
from ._errors import StateError, _error, _text_bytes
from ._params import _SKETCH_PARAMS, _make_params, _params_dict

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
