"""cluster, dedup and pairs over a collection.

Inputs named by path (files, directories, "-" for stdin, FIFOs) are read
and run by the library's job (nd_job_*), the command's own pipeline: both
passes, the reading thread, stdin spooling, keep policies and explain;
rows, warnings and progress come back through its callbacks.  A job reads
only paths, so records held in memory (any iterable) go to a batch
directly: nd_batch_count over every text in one call (its counts do not
depend on the calls), nd_batch_add_many, nd_batch_run."""
import ctypes
import json
import os
import tempfile
import time
import warnings
from collections import namedtuple
from decimal import Decimal

from . import _capi
from ._capi import lib as _lib
from ._errors import (DataError, Utf8Error, _error, _integer, _text_bytes,
                      _time_value, _U64)
from ._params import _SKETCH_PARAMS, _make_params
from ._sketch import Sketcher, _explain

Member = namedtuple("Member", "id cluster rep")
Pair = namedtuple("Pair", "a b jaccard containment")
ExplainedPair = namedtuple(
    "ExplainedPair", "a b jaccard containment exact_jaccard "
    "exact_containment shared_words passage")
Progress = namedtuple("Progress", "phase done total docs seconds")
Progress.__doc__ = """Progress of a batch run: the phase ("count",
"sketch", "candidates", "verify", "cluster", "write"), done and total of
its work (input bytes for count and sketch, total 0 while unknown; bands;
candidate pairs; pairs; rows), the documents read so far and the seconds
since the run started."""

_PHASES = {i: _lib.nd_phase_name(i).decode() for i in range(6)}


class SkipWarning(UserWarning):
    """A record or file skipped: a malformed record (code -4) or invalid
    UTF-8 under strict (-5) with skip_bad, or a binary file (-6).  The
    message names file and line; .file and .line are set for invalid
    UTF-8 in a file (else None)."""

    def __init__(self, message, code=None, file=None, line=None):
        super().__init__(message)
        self.code, self.file, self.line = code, file, line


class BatchResult(list):
    """A list of results with .stats: the run's counters (documents,
    candidates, edges, clusters, ...) and what reading skipped: records
    read = documents + skipped_bad (+ binary files skipped, not records)."""
    stats = None


_DECODER = json.JSONDecoder(parse_float=Decimal)


def _decode_id(raw):
    """A reader's id (JSON text) as a Python value: str, int or Decimal."""
    s = raw.decode("utf-8", "surrogateescape")
    if len(s) > 1 and s[0] == '"' and s[-1] == '"' and "\\" not in s:
        return s[1:-1]  # most ids: a string without escapes
    if s.isdigit() and s.isascii():
        return int(s)
    try:
        v = _DECODER.decode(s)
    except ValueError:
        return s
    return v if isinstance(v, (str, int, Decimal)) else s


def _is_path(x):
    return isinstance(x, (str, os.PathLike))


def _bytes(ptr, n):
    return ctypes.string_at(ptr, n) if n else b""


def _stats(bs, records, skipped_bad, skipped_binary, repaired, rows,
           seconds):
    """The counters of a run as a dict: nd_batch_stats (its text stats
    flattened; "rows" is the LSH layout's) and those of the reading and
    writing (nd_job_stats: "output_rows" are the rows handed back)."""
    d = {"documents": bs.text.docs, "records": records,
         "skipped_bad": skipped_bad, "skipped_binary": skipped_binary,
         "repaired_utf8": repaired}
    for name, _ in _capi.TextStats._fields_[1:]:
        d[name] = getattr(bs.text, name)
    for name, _ in _capi.BatchStatsField._fields_[1:]:
        d[name] = getattr(bs, name)
    d["output_rows"], d["seconds"] = rows, seconds
    return d


# ------------------------------------------------------------ source names

_BLANK = " \t\r\n\v\f"


def _source_names(source_priority):
    """The names of source_priority, checked: each a line of the file the
    job reads (and the command's --source-priority), so no name is empty,
    starts with '#', has blanks at either end or holds a newline or NUL."""
    if source_priority is None:
        return None
    if isinstance(source_priority, (str, bytes)):
        raise TypeError("source_priority is a list of source names, most "
                        "preferred first")
    names, seen = [], set()
    for name in source_priority:
        if not isinstance(name, str):
            raise TypeError("source names are str")
        if (not name or name[0] == "#" or name.strip(_BLANK) != name or
                "\n" in name or "\0" in name):
            raise ValueError("source name %r: not a line of a source list "
                             "(empty, a # first, blanks at an end, a "
                             "newline or NUL)" % name)
        if name in seen:
            raise ValueError("source %r is listed twice" % name)
        seen.add(name)
        names.append(name)
    if not names:
        raise ValueError("source_priority names no source")
    return names


# -------------------------------------------------------- inputs by path

class _Job:
    """One nd_job over paths; the rows it hands back, shaped for kind.

    An exception raised in a callback (the caller's progress, a warning
    turned into an error, or the shaping of a row) is kept: the row
    callback then stops the job (or, if it ends first, nothing is
    returned) and run() raises it."""

    def __init__(self, kind, explain, any_dir, progress):
        self.kind, self.explain, self.any_dir = kind, explain, any_dir
        self.progress = progress
        self.error = None
        self.out = []
        self.stats = None
        self.on_row = _capi.ON_ROW(self._row)
        self.on_warning = _capi.ON_WARNING(self._warning)
        self.on_progress = (_capi.ON_PROGRESS(self._progress)
                            if progress is not None else
                            _capi.ON_PROGRESS())

    def _row(self, ctx, rp):
        if self.error is not None:
            return 1
        try:
            r = rp.contents
            if self.kind == "cluster":
                self.out.append(Member(_decode_id(_bytes(r.id, r.id_len)),
                                       r.cluster, bool(r.rep)))
            elif self.kind == "dedup":
                raw = _bytes(r.raw, r.raw_len)
                self.out.append(_decode_id(raw) if self.any_dir else
                                raw.decode("utf-8", "surrogateescape"))
            else:
                a = _decode_id(_bytes(r.id, r.id_len))
                b = _decode_id(_bytes(r.id_b, r.id_b_len))
                if not self.explain:
                    self.out.append(Pair(a, b, r.jaccard, r.containment))
                else:
                    self.out.append(ExplainedPair(
                        a, b, r.jaccard, r.containment, r.exact_jaccard,
                        r.exact_containment, r.shared_words,
                        _bytes(r.passage, r.passage_len).decode(
                            "utf-8", "surrogateescape")))
        except BaseException as e:  # noqa: B902 - raised by run()
            self.error = e
            return 1
        return 0

    def _warning(self, ctx, wp):
        if self.error is not None:
            return
        try:
            w = wp.contents
            msg = w.message.decode("utf-8", "replace")
            if w.code == DataError.code:
                msg += ", record skipped"
            elif w.code == Utf8Error.code:
                msg += " (strict), record skipped"
            file = w.file.decode("utf-8", "replace") if w.file else None
            # the caller of cluster(), dedup() or pairs() is 6 frames up
            warnings.warn(SkipWarning(msg, w.code, file,
                                      w.line if file else None),
                          stacklevel=6)
        except BaseException as e:  # noqa: B902 - raised by run()
            self.error = e

    def _progress(self, ctx, pp):
        if self.error is not None:
            return
        try:
            p = pp.contents
            self.progress(Progress(_PHASES.get(p.phase, str(p.phase)),
                                   p.done, p.total, p.docs, p.seconds))
        except BaseException as e:  # noqa: B902 - raised by run()
            self.error = e

    def run(self, jo, names):
        """Create and run the job of jo, with names (or None) as its
        source priority list; raises what stopped it."""
        h = ctypes.c_void_p()
        jo.on_row, jo.on_warning = self.on_row, self.on_warning
        jo.on_progress = self.on_progress
        if names is None:
            rc = _lib.nd_job_create(ctypes.byref(jo), ctypes.byref(h))
        else:
            # the job reads the names from a file, as the command does,
            # and has read them once nd_job_create returns
            with tempfile.NamedTemporaryFile(
                    "wb", prefix="neardup-sources-", suffix=".txt") as f:
                f.write("".join(n + "\n" for n in names).encode(
                    "utf-8", "surrogateescape"))
                f.flush()
                jo.source_priority = os.fsencode(f.name)
                rc = _lib.nd_job_create(ctypes.byref(jo), ctypes.byref(h))
        try:
            if rc:
                raise _error(rc, _lib.nd_job_errmsg(h) if h.value else None)
            rc = _lib.nd_job_run(h)
            if self.error is not None:
                raise self.error
            if rc:
                raise _error(rc, _lib.nd_job_errmsg(h))
            st = _capi.JobStats()
            _lib.nd_job_stats_get(h, ctypes.byref(st))
            self.stats = _stats(st.batch, st.records, st.skipped_bad,
                                st.skipped_binary, st.repaired, st.rows,
                                st.seconds)
        finally:
            _lib.nd_job_free(h)
            self.error = None  # no cycle through its traceback


def _job_opts(kind, paths, p, opts, skip_bad, explain):
    jo = _capi.JobOpts()
    _lib.nd_job_opts_init(ctypes.byref(jo))
    jo.kind = _capi.JOB_KIND[kind]
    # nd_params as _make_params checked it (its strings stay alive in p)
    ctypes.memmove(ctypes.addressof(jo.params), ctypes.addressof(p),
                   ctypes.sizeof(_capi.ParamsField))
    fmt = opts["format"]
    if fmt is not None:
        names = {s: k for k, s in _capi.FORMAT.items()}
        if fmt not in names:
            raise ValueError("format=%r: not one of %s"
                             % (fmt, ", ".join(sorted(names))))
        jo.reader.format = names[fmt]
    for f in ("id_field", "text_field", "time_field", "source_field"):
        if opts[f] is not None:
            if not isinstance(opts[f], str):
                raise TypeError("%s must be a str" % f)
            setattr(jo.reader, f, opts[f].encode())
    if opts["max_record_bytes"] is not None:
        jo.reader.max_record_bytes = _integer(
            "max_record_bytes", opts["max_record_bytes"], 1, _U64)
    enc = [os.fsencode(x) for x in paths]
    jo.paths = (ctypes.c_char_p * len(enc))(*enc)
    jo.npaths = len(enc)
    jo.skip_bad = int(skip_bad)
    jo.explain = int(explain)
    return jo


def _batch_paths(kind, paths, p, opts, names, skip_bad, explain, progress):
    jo = _job_opts(kind, paths, p, opts, skip_bad, explain)
    any_dir = any(os.path.isdir(x) for x in paths if x not in ("-", b"-"))
    job = _Job(kind, explain, any_dir, progress)
    job.run(jo, names)
    res = BatchResult(job.out)
    res.stats = job.stats
    return res


# ------------------------------------------------------ records in memory

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


class _Batch:
    """An nd_batch fed with texts held in memory."""

    def __init__(self, p, skip_bad):
        self.skip_bad = skip_bad
        self.skipped_bad = 0
        h = ctypes.c_void_p()
        rc = _lib.nd_batch_create(ctypes.byref(p), ctypes.byref(h))
        if rc:
            raise _error(rc)
        self.h = h

    def close(self):
        _lib.nd_batch_free(self.h)

    def check(self, rc):
        if rc:
            raise _error(rc, _lib.nd_batch_errmsg(self.h))

    def feed(self, texts, metas, counting):
        """Count or add texts (positions 0..n-1 of a list of records);
        under strict, a text of invalid UTF-8 is a bad record: an error,
        or with skip_bad a warning and skipped.  The positions refused."""
        n = len(texts)
        arr = (ctypes.c_char_p * n)(*texts)
        lens = (ctypes.c_size_t * n)(*[len(t) for t in texts])
        meta = (_capi.DocMeta * n)(*metas) if metas is not None else None

        def call(a, b, bad):
            pa = ctypes.cast(ctypes.byref(arr, a * ctypes.sizeof(
                ctypes.c_char_p)), ctypes.POINTER(ctypes.c_char_p))
            pl = ctypes.cast(ctypes.byref(lens, a * ctypes.sizeof(
                ctypes.c_size_t)), ctypes.POINTER(ctypes.c_size_t))
            if counting:
                return _lib.nd_batch_count(self.h, b - a, pa, pl, bad)
            pm = None if meta is None else ctypes.cast(
                ctypes.byref(meta, a * ctypes.sizeof(_capi.DocMeta)),
                ctypes.POINTER(_capi.DocMeta))
            return _lib.nd_batch_add_many(self.h, b - a, pa, pl, pm, bad)

        refused, start = [], 0
        while start < n:
            bad = ctypes.c_size_t(0)
            rc = call(start, n, ctypes.byref(bad))
            if rc != Utf8Error.code:
                self.check(rc)
                break
            at = start + bad.value
            msg = "record %d: invalid UTF-8 (strict)" % at
            if not self.skip_bad:
                raise Utf8Error(msg, rc)
            # the caller of cluster(), dedup() or pairs() is 5 frames up
            warnings.warn(SkipWarning(msg + ", record skipped", rc),
                          stacklevel=5)
            self.skipped_bad += 1
            refused.append(at)
            if at > start:
                self.check(call(start, at, None))
            start = at + 1
        return refused


def _batch_items(kind, data, p, opts, names, skip_bad, explain, progress,
                 sk_params):
    t0 = time.monotonic()
    ranks = {n: i for i, n in enumerate(names or ())}
    keep_source = p.keep == 3
    ids, texts, metas, items = [], [], [], []
    for i, item in enumerate(data):
        rid, text, t, src = _record_fields(item, i, opts)
        if rid is None or isinstance(rid, bool):
            raise TypeError("record %d: the id must not be %r" % (i, rid))
        m = _capi.DocMeta()
        if t is not None:
            m.time, m.has_time = _time_value(t, "record %d: time" % i), 1
        if keep_source:
            m.priority, m.has_priority = ranks.get(src, len(ranks)), 1
        ids.append(rid)
        texts.append(_text_bytes(text, "record %d: text" % i))
        metas.append(m)
        items.append(item)

    def report(phase, done, total):
        if progress is not None:
            progress(Progress(phase, done, total, len(texts),
                              time.monotonic() - t0))

    b = _Batch(p, skip_bad)
    try:
        keep = list(range(len(texts)))
        if p.boilerplate > 0 and texts:
            total = sum(map(len, texts))
            report("count", 0, total)
            gone = set(b.feed(texts, None, True))
            keep = [i for i in keep if i not in gone]
            report("count", total, total)
        sel = [texts[i] for i in keep]
        total = sum(map(len, sel))
        report("sketch", 0, total)
        if sel:
            gone = set(b.feed(sel, [metas[i] for i in keep], False))
            keep = [i for j, i in enumerate(keep) if j not in gone]
        report("sketch", total, total)
        b.check(_lib.nd_batch_run(b.h))
        n = _lib.nd_batch_size(b.h)
        assert n == len(keep)
        if kind == "cluster":
            res = BatchResult(Member(ids[keep[i]],
                                     _lib.nd_batch_cluster(b.h, i),
                                     _lib.nd_batch_rep(b.h, i) == i)
                              for i in range(n))
        elif kind == "dedup":
            res = BatchResult(items[keep[i]] for i in range(n)
                              if _lib.nd_batch_rep(b.h, i) == i)
        else:
            ne = ctypes.c_size_t()
            e = _lib.nd_batch_edges(b.h, ctypes.byref(ne))
            edges = [(e[i].a, e[i].b, float(e[i].jaccard),
                      float(e[i].containment)) for i in range(ne.value)]
            res = BatchResult()
            if not explain:
                res.extend(Pair(ids[keep[a]], ids[keep[b_]], j, c)
                           for a, b_, j, c in edges)
            else:
                with Sketcher(**sk_params) as sk:
                    for a, b_, j, c in edges:
                        x = _explain(sk, texts[keep[a]], texts[keep[b_]],
                                     j, c)
                        res.append(ExplainedPair(
                            ids[keep[a]], ids[keep[b_]], j, c,
                            x["exact_jaccard"], x["exact_containment"],
                            x["shared_words"], x["passage"]))
        st = _capi.BatchStats()
        _lib.nd_batch_stats_get(b.h, ctypes.byref(st))
        res.stats = _stats(st, len(texts), b.skipped_bad, 0, 0, len(res),
                           time.monotonic() - t0)
        return res
    finally:
        b.close()


def _batch(kind, data, params, opts, source_priority, skip_bad,
           explain=False, progress=None):
    """Run one batch over data: a BatchResult of kind's rows with .stats.
    The one function cluster, dedup and pairs go through."""
    if not isinstance(skip_bad, bool):
        raise TypeError("skip_bad must be a bool")
    if not isinstance(explain, bool):
        raise TypeError("explain must be a bool")
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable")
    if data is None:
        raise TypeError("data must be a path or an iterable of records")
    p = _make_params(params)
    names = _source_names(source_priority)
    if p.keep == 3 and names is None:
        raise ValueError("keep='source' needs source_priority")
    if p.keep != 3 and names is not None:
        raise ValueError("source_priority goes with keep='source'")
    if p.keep == 3 and opts["source_field"] is None:
        opts = dict(opts, source_field="source")
    paths = None
    if _is_path(data):
        paths = [data]
    elif isinstance(data, list) and data and all(
            isinstance(x, os.PathLike) for x in data):
        paths = data
    if paths is not None:
        return _batch_paths(kind, paths, p, opts, names, skip_bad, explain,
                            progress)
    if isinstance(data, (bytes, bytearray)):
        raise TypeError("data must be a path or an iterable of records, "
                        "not bytes")
    sk_params = {k: v for k, v in params.items() if k in _SKETCH_PARAMS}
    return _batch_items(kind, data, p, opts, names, skip_bad, explain,
                        progress, sk_params)


_READER_KW = ("format", "id_field", "text_field", "time_field",
              "source_field", "max_record_bytes")


def _split(kw):
    opts = {k: kw.pop(k, None) for k in _READER_KW}
    return opts, kw


def cluster(data, *, source_priority=None, skip_bad=False, progress=None,
            **kw):
    """Cluster a collection as `neardup cluster` does.

    data: a path (str or os.PathLike: JSONL, TSV, CSV, text, a directory,
    .gz/.zst, "-" for stdin) or a list of pathlib paths; or an iterable
    of records, each a text (id: its position), an (id, text) or
    (id, text, time) tuple, or a dict (fields id_field, text_field,
    time_field, source_field).
    Keywords: the parameters of defaults(); format, id_field, text_field,
    time_field, source_field, max_record_bytes as the command's options;
    source_priority, with keep="source", a list of source names, most
    preferred first; skip_bad warns (SkipWarning) about bad records and
    goes on; progress, a callable given a Progress at the start and end
    of each phase and at most every 0.25 s within it.

    Paths are read by the library's job as the command reads them (files
    twice when counting boilerplate; stdin and FIFOs once, spooled to a
    temporary file).  An iterable is held in memory; for it, progress
    tells the count and sketch phases at their start and end.  An
    exception raised in progress (or by a warning filter set to "error")
    stops the run, at the latest before its first row, and is raised
    here; nothing is returned.

    Returns a BatchResult of Member(id, cluster, rep), in input order;
    clusters are numbered 0, 1, ... in order of their first member."""
    opts, params = _split(kw)
    return _batch("cluster", data, params, opts, source_priority, skip_bad,
                  progress=progress)


def dedup(data, *, source_priority=None, skip_bad=False, progress=None,
          **kw):
    """The records to keep (each cluster's representative), in input
    order: the items as given for an iterable; for files, each record as
    read (str, no newline; for a directory, its id), as `neardup dedup`
    prints them (a TSV header is not a record and is left out).
    Arguments as cluster()."""
    opts, params = _split(kw)
    return _batch("dedup", data, params, opts, source_priority, skip_bad,
                  progress=progress)


def pairs(data, *, explain=False, source_priority=None, skip_bad=False,
          progress=None, **kw):
    """The verified similar pairs as Pair(a, b, jaccard, containment),
    a before b in input order, sorted; containment is that of the smaller
    shingle set in the larger.  With explain=True, ExplainedPair with the
    exact scores and the longest shared passage (see explain()).
    Arguments as cluster()."""
    opts, params = _split(kw)
    return _batch("pairs", data, params, opts, source_priority, skip_bad,
                  explain, progress)
