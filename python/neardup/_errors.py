"""Errors: one class per library code, and the checks of arguments."""
import datetime as _dt
import math
import operator

from ._capi import lib as _lib

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
