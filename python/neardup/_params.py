"""nd_params from keywords, with the library's defaults (nd_params_init)."""
import ctypes
import os

from . import _capi
from ._capi import lib as _lib
from ._errors import _U32, _U64, _error, _integer, _real

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
