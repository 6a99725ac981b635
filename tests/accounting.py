#!/usr/bin/python3
"""accounting.py NEARDUP ARGS... - run `NEARDUP ARGS...` and, for cluster and
dedup, check that every input record is accounted for.

It runs the command exactly as asked (standard input, output and error pass
through; the exit status, or the signal, is the command's), then reads the
inputs itself (JSONL, TSV, text, directories; gzip and zstd by their first
bytes; "-" is standard input) and requires, of a run that exited 0:

  cluster: one output line per input record, in input order, with the
           record's id, except the records a warning names as skipped
           (file and line); clusters numbered 0, 1, ... in order of their
           first member, each with exactly one representative;
  dedup:   the output is the input records of the representatives, as read
           and in input order (TSV: after the first file's header line;
           a directory's documents: their ids), the representatives being
           those of `cluster` with the same arguments, which is checked as
           above: so dedup's output plus the records it removed is the
           input.

A violation is printed on stderr as "accounting: ..." and the exit status
is 70.  Runs it cannot judge (an option it does not know, --skip-bad with
-q, a closed standard stream, -o naming something other than a regular
file) are passed through unchecked.  With ACCOUNTING_LOG=FILE each run
checked appends a line to FILE.
"""
import csv
import gzip
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
from decimal import Decimal

VALUE = {"threshold", "ngram", "char-ngram", "glyph-ngram", "num-perm", "bands",
         "rows", "threads", "seed", "measure", "sketch", "containment", "keep",
         "cluster", "figures", "boilerplate", "format", "id-field", "text-field",
         "time-field", "source-field", "source-priority", "window", "memory",
         "tmpdir", "output", "max-record-bytes", "stats-json", "min-words"}
FLAG = {"explain", "stats", "quiet", "skip-bad", "strict", "exact", "progress"}

WILD = ("?", None)  # the id of a record this script cannot read itself


class Unjudged(Exception):
    """The run is passed through unchecked."""


class Violation(Exception):
    pass


def parse_args(args):
    """(options, paths) as getopt_long reads them, or Unjudged."""
    opts, paths, i = {}, [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            paths += args[i + 1:]
            break
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            known = [n for n in VALUE | FLAG if n.startswith(name)]
            if name in VALUE | FLAG:
                known = [name]
            if len(known) != 1:
                raise Unjudged
            name = known[0]
            if name in VALUE:
                if not eq:
                    i += 1
                    if i >= len(args):
                        raise Unjudged
                    val = args[i]
                opts[name] = val
            else:
                opts[name] = True
        elif a.startswith("-") and a != "-":
            j = 1
            while j < len(a):
                c = a[j]
                if c == "q":
                    opts["quiet"] = True
                elif c == "o":
                    val = a[j + 1:]
                    if not val:
                        i += 1
                        if i >= len(args):
                            raise Unjudged
                        val = args[i]
                    opts["output"] = val
                    break
                else:
                    raise Unjudged
                j += 1
        else:
            paths.append(a)
        i += 1
    return opts, paths


# ------------------------------------------------------------- the inputs

def decompress(data):
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise Unjudged from e
    if data[:4] == b"\x28\xb5\x2f\xfd":
        p = subprocess.run(["zstd", "-dcq"], input=data, capture_output=True)
        if p.returncode:
            raise Unjudged
        return p.stdout
    return data


def lines_of(data):
    """(line number, line, raw line) as the reader cuts them: the line
    without its CR, the raw one with it, as dedup writes it back."""
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    for n, raw in enumerate(parts, 1):
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        line = raw[:-1] if raw.endswith(b"\r") else raw
        yield n, line, raw


def line_id(path, n):
    """The id of a record without one: its file and line."""
    return ("s", "%s:%d" % (path, n))


def number(s):
    return ("n", Decimal(s))


def jsonl_id(line, path, n, id_field, text_field):
    def no_constant(c):
        raise ValueError(c)
    try:
        v = json.loads(line.decode("utf-8", "replace"), parse_int=Decimal,
                       parse_float=Decimal, parse_constant=no_constant)
    except ValueError:
        return WILD
    if not isinstance(v, dict) or not isinstance(v.get(text_field), str):
        return WILD
    i = v.get(id_field)
    if i is None:
        return line_id(path, n)
    if isinstance(i, str):
        return ("s", i)
    if isinstance(i, Decimal):
        return ("n", i)
    return WILD


def tsv_unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s) and s[i + 1] in "tnr\\":
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def format_of(path, opts):
    f = opts.get("format", "auto")
    if f != "auto":
        return f
    name = path
    for z in (".gz", ".zst"):
        if name.endswith(z):
            name = name[: -len(z)]
    for ext, fmt in ((".tsv", "tsv"), (".csv", "csv"), (".txt", "text")):
        if name.endswith(ext):
            return fmt
    return "jsonl"


def csv_records(path, data, id_field):
    """A CSV file's records (its first line the header), each named by its
    first line; a file Python's strict reader refuses is not judged."""
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    src = io.StringIO(text, newline="")
    raw_lines = data.split(b"\n")
    rd = csv.reader(src, strict=True)
    out, header, cols, prev = [], None, None, 0
    try:
        for row in rd:
            first, last = prev + 1, rd.line_num
            prev = last
            raw = b"\n".join(raw_lines[first - 1:last])
            if first == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if cols is None:
                cols, header = row, raw
                continue
            if not row:
                continue
            rid = WILD
            if len(row) == len(cols):
                cell = row[cols.index(id_field)] if id_field in cols else ""
                rid = ("s", cell) if cell else line_id(path, first)
            out.append((path, first, rid, raw))
    except csv.Error as e:
        raise Unjudged from e
    return out, header


def records(paths, opts, stdin):
    """Every record: (file, line, id, raw output line); the first TSV
    header."""
    id_field = opts.get("id-field", "id")
    text_field = opts.get("text-field", "text")
    out, header = [], None
    for path in paths or ["-"]:
        if path != "-" and os.path.isdir(path):
            for rel in walk(path, ""):
                full = os.path.join(path, rel)
                idtext = json.dumps(rel, ensure_ascii=False).encode()
                out.append((full, 1, ("s", rel), idtext))
            continue
        if path == "-":
            data = stdin
        else:
            with open(path, "rb") as f:
                data = f.read()
        data = decompress(data)
        fmt = format_of(path, opts)
        if fmt == "csv":
            recs, head = csv_records(path, data, id_field)
            out += recs
            if header is None:
                header = head
        elif fmt == "tsv":
            cols = None
            for n, line, raw in lines_of(data):
                if cols is None:
                    cols = line.decode("utf-8", "replace").split("\t")
                    if header is None:
                        header = raw
                    continue
                if not line:
                    continue
                cells = line.decode("utf-8", "replace").split("\t")
                rid = WILD
                if len(cells) == len(cols):
                    cell = cells[cols.index(id_field)] if id_field in cols else ""
                    rid = ("s", tsv_unescape(cell)) if cell else line_id(path, n)
                out.append((path, n, rid, raw))
        elif fmt == "text":
            for n, line, raw in lines_of(data):
                out.append((path, n, line_id(path, n), raw))
        else:
            for n, line, raw in lines_of(data):
                if not line.strip(b" \t\f\v"):
                    continue
                out.append((path, n, jsonl_id(line, path, n, id_field, text_field), raw))
    return out, header


def walk(root, rel):
    """A directory's regular files below it, sorted, hidden ones left out,
    symbolic links not followed."""
    here = os.path.join(root, rel) if rel else root
    for name in sorted(os.listdir(here), key=os.fsencode):
        if name.startswith("."):
            continue
        r = os.path.join(rel, name) if rel else name
        p = os.path.join(root, r)
        if os.path.islink(p):
            continue
        if os.path.isdir(p):
            yield from walk(root, r)
        elif os.path.isfile(p):
            yield r


WARNED = re.compile(r"^neardup: warning: (.+?):(\d+): .*record skipped$")
BINARY = re.compile(r"^neardup: warning: (.+): binary file skipped$")


def warned(stderr):
    keys = set()
    for line in stderr.decode("utf-8", "replace").splitlines():
        m = WARNED.match(line)
        if m:
            keys.add((os.path.normpath(m.group(1)), int(m.group(2))))
        m = BINARY.match(line)
        if m:
            keys.add((os.path.normpath(m.group(1)), 1))
    return keys


# ---------------------------------------------------------------- checks

def out_id(v):
    if isinstance(v, str):
        return ("s", v)
    if isinstance(v, Decimal):
        return ("n", v)
    raise Violation("id %r is neither a string nor a number" % (v,))


def check_cluster(recs, skipped, output):
    """The accounted records with their rep flags."""
    kept = [r for r in recs if (os.path.normpath(r[0]), r[1]) not in skipped]
    lines = output.splitlines()
    if len(lines) != len(kept):
        raise Violation("%d records read, %d skipped with a warning, %d output lines"
                        % (len(recs), len(recs) - len(kept), len(lines)))
    seen, reps = {}, {}
    flags = []
    for r, line in zip(kept, lines):
        try:
            o = json.loads(line, parse_int=Decimal, parse_float=Decimal)
            got, c, rep = out_id(o["id"]), o["cluster"], o["rep"]
        except (ValueError, KeyError, TypeError) as e:
            raise Violation("output line %r: %s" % (line[:200], e)) from e
        if r[2] != WILD and got != r[2]:
            raise Violation("%s:%d has id %s, the output line %s" % (r[0], r[1], r[2][1], got[1]))
        if c not in seen:
            if c != len(seen):
                raise Violation("cluster %s comes where %d was due" % (c, len(seen)))
            seen[c] = 0
        if rep is True:
            reps[c] = reps.get(c, 0) + 1
        elif rep is not False:
            raise Violation("rep %r" % (rep,))
        flags.append((r, rep))
    for c in seen:
        if reps.get(c, 0) != 1:
            raise Violation("cluster %s has %d representatives" % (c, reps.get(c, 0)))
    return flags


def check_dedup(flags, header, output):
    want = [header] if header is not None else []
    want += [r[3] for r, rep in flags if rep]
    got = output.split(b"\n")
    if got and got[-1] == b"":
        got.pop()
    if got != want:
        for k, (g, w) in enumerate(zip(got, want)):
            if g != w:
                raise Violation("dedup line %d is %r, the record %r" % (k + 1, g[:120], w[:120]))
        raise Violation("dedup wrote %d lines; %d representatives%s"
                        % (len(got), len(want) - (header is not None),
                           " and the header" if header is not None else ""))


# ------------------------------------------------------------------ main

def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def main():
    real, args = sys.argv[1], sys.argv[2:]
    try:
        if not args or args[0] not in ("cluster", "dedup") or not is_open(0) \
                or not is_open(1):
            raise Unjudged
        opts, paths = parse_args(args[1:])
        if opts.get("skip-bad") and opts.get("quiet"):
            raise Unjudged
        for path in paths:
            # A named pipe is read once, by the command.
            if path != "-" and os.path.exists(path) and \
                    stat.S_ISFIFO(os.stat(path).st_mode):
                raise Unjudged
    except Unjudged:
        os.execv(real, [real] + args)
    output = opts.get("output")
    if output == "-":
        output = None
    uses_stdin = not paths or "-" in paths
    stdin = sys.stdin.buffer.read() if uses_stdin else None
    p = subprocess.run([real] + args, input=stdin,
                       stdin=None if uses_stdin else sys.stdin,
                       stdout=subprocess.PIPE if output is None else None,
                       stderr=subprocess.PIPE)
    try:
        if output is None:
            sys.stdout.buffer.write(p.stdout)
            sys.stdout.buffer.flush()
    except BrokenPipeError:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    sys.stderr.buffer.write(p.stderr)
    sys.stderr.buffer.flush()
    if p.returncode < 0:
        signal.signal(-p.returncode, signal.SIG_DFL)
        os.kill(os.getpid(), -p.returncode)
    if p.returncode != 0:
        sys.exit(p.returncode)
    try:
        if output is not None:
            if not os.path.isfile(output):
                raise Unjudged
            with open(output, "rb") as f:
                result = f.read()
        else:
            result = p.stdout
        recs, header = records(paths, opts, stdin)
        if args[0] == "cluster":
            check_cluster(recs, warned(p.stderr), result)
        else:
            cargs = ["cluster"] + strip_output(args[1:])
            c = subprocess.run([real] + cargs, input=stdin,
                               stdin=None if uses_stdin else subprocess.DEVNULL,
                               capture_output=True)
            if c.returncode != 0:
                raise Violation("cluster with dedup's arguments exits %d" % c.returncode)
            flags = check_cluster(recs, warned(c.stderr), c.stdout)
            check_dedup(flags, header, result)
        log = os.environ.get("ACCOUNTING_LOG")
        if log:
            with open(log, "a") as f:
                f.write("%s: %d records accounted for\n" % (args[0], len(recs)))
    except Unjudged:
        pass
    except Violation as v:
        sys.stderr.write("accounting: %s %s: %s\n" % (args[0], " ".join(args[1:]), v))
        sys.exit(70)
    sys.exit(0)


def strip_output(args):
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a in ("-o", "--output"):
            skip = True
        elif a.startswith("--output=") or (a.startswith("-o") and not a.startswith("--")):
            pass
        else:
            out.append(a)
    return out


if __name__ == "__main__":
    main()
