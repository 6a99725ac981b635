"""cluster, dedup and pairs over a collection: one batch each.

_batch() is the one place that drives the library's batch (nd_batch_count
over every text in the command's chunks, nd_batch_add_many, nd_batch_run);
the functions above it only shape its results."""
import ctypes
import json
import os
import stat
import warnings
from collections import namedtuple
from decimal import Decimal

from . import _capi
from ._capi import lib as _lib
from ._errors import (DataError, Utf8Error, _error, _text_bytes,
                      _time_value)
from ._params import _SKETCH_PARAMS, _make_params
from ._sketch import Sketcher, _explain

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
    kept = _count_and_add(r, texts, metas, "record {}".format)
    return ([ids[i] for i in kept], [items[i] for i in kept],
            [texts[i] for i in kept])


def _count_and_add(r, texts, metas, where):
    """Count (boilerplate) then add texts held in memory, in the command's
    chunks; the positions added.  where(i) names text i in messages."""
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
    return kept


class _Files:
    """Records of files through nd_reader, read as often as needed."""

    def __init__(self, paths, opts):
        self.paths = [os.fsencode(p) for p in paths]
        self.any_dir = any(os.path.isdir(p) for p in self.paths)
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

    def rereadable(self):
        """Whether every input can be read again: regular files and
        directories, not stdin ("-") or a FIFO."""
        for p in self.paths:
            if p == b"-":
                return False
            try:
                st = os.stat(p)
            except OSError:
                continue  # the reader names it
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                return False
        return True

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


def _batch_files(r, files, ranks, hold):
    """Count and add the records of files, reading them twice when
    counting (as the command does): their ids and ordinals.  With hold
    (stdin, a FIFO: an input that cannot be read again) they are read
    once and held: their ids, records as read (dedup) and texts."""
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

    def checked(recs):
        """The records of the first reading that are not refused."""
        for o, rec in recs:
            r.records += 1
            if rec.bad_utf8:
                if r.strict:
                    msg = "%s:%d: invalid UTF-8 (strict)" % (
                        rec.file.decode("utf-8", "replace"), rec.line)
                    if not r.skip_bad:
                        raise Utf8Error(msg, -5)
                    warnings.warn(msg + ", record skipped", stacklevel=5)
                    r.skipped_bad += 1
                    refused.add(o)
                    continue
                r.repaired += 1
            yield o, rec

    refused = set()
    ids, ords = [], []
    if hold:
        texts, metas, raws, where = [], [], [], []
        for o, rec in checked(files.records(bad, binary)):
            texts.append(ctypes.string_at(rec.text, rec.text_len))
            metas.append(meta(rec))
            ids.append(_decode_id(ctypes.string_at(rec.id, rec.id_len)))
            raws.append(ids[-1] if files.any_dir else ctypes.string_at(
                rec.raw, rec.raw_len).decode("utf-8", "surrogateescape"))
            where.append("%s:%d" % (rec.file.decode("utf-8", "replace"),
                                    rec.line))
        kept = _count_and_add(r, texts, metas, where.__getitem__)
        return ([ids[i] for i in kept], [raws[i] for i in kept],
                [texts[i] for i in kept])

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

        recs_in = (checked(files.records(bad, binary)) if first else
                   files.records(quiet, quiet))
        for o, rec in recs_in:
            if not first and o in refused:
                continue
            n = rec.text_len
            if texts and (len(texts) == _CHUNK_DOCS or
                          size + n > _CHUNK_BYTES):
                flush()
                texts, metas, recs, size = [], [], [], 0
            texts.append(ctypes.string_at(rec.text, n))
            if not counting:
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
    return ids, ords, None


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
            hold = not files.rereadable()
            ids, where, texts = _batch_files(r, files, ranks, hold)
            if hold:
                files = None  # where holds the records as read
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

    An iterable is held in memory (its texts are counted, then added),
    and so are stdin ("-") and FIFOs; files are read twice instead, as the
    command reads them.

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
        for o, rec in files.records(lambda m: None, lambda m: None):
            if o in wanted:
                if files.any_dir:
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
