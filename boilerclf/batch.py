"""Batch cleaning: the engine of ``boilerclf clean``.

The same pipeline as :class:`~boilerclf.extract.Extractor`, fed by crawl files
and spread over worker processes::

    sources  ->  Page records  ->  workers (lines -> features -> model)  ->  writers
    (files, dirs, JSONL[.gz],      (id, url, data,      one model call per batch    (txt, markdown,
     WARC[.gz], stdin)              kind, charset)       of pages, output rendered   jsonl; atomic)
                                                         in the worker)

* **Sources** turn every input into :class:`Page` records.  A page that cannot
  even be read (a truncated gzip, a corrupt WARC record, a JSONL line that is
  not JSON) becomes a record with ``error`` set, so it is reported in input
  order like any other failure; the rest of the file is still read.
* **Workers** are processes that load the model once, split each page of a
  batch into lines, classify the whole batch in one model call
  (:meth:`Extractor.classify_lines`) and render the output.  They report each
  stage to the main process, which enforces the per-page time limit by killing
  and replacing a worker that overruns (no signals, no threads in the worker).
* The **main process** reads pages, keeps a bounded number of them in flight,
  and writes results strictly in input order, so ``--jobs 2`` output is
  byte-identical to ``--jobs 1``.

Everything written is atomic: one page's file goes to a temporary name and is
renamed; a single JSONL output grows as ``OUT.tmp`` and is renamed at the end.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .extract import MAX_BYTES, Extractor, InputError

FORMATS = ("txt", "markdown", "jsonl")
INPUT_KINDS = ("auto", "html", "text")
INPUT_FORMATS = ("auto", "page", "jsonl", "warc")
_EXT = {"txt": ".txt", "markdown": ".md"}
_PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".txt", ".text")
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_WARC_SUFFIXES = (".warc",)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)


class UsageError(ValueError):
    """Bad options or paths: the command exits 2 before touching anything."""


class FatalError(RuntimeError):
    """The batch cannot run at all (e.g. the model does not load): exit 2."""


class OutputError(FatalError):
    """An output cannot be written (disk full, permission denied...): the run stops, exit 2.

    Every page written before it is complete (each page file is renamed into
    place whole; a JSONL output is renamed only at the end); ``summary`` holds
    the counts of the run so far.
    """

    def __init__(self, msg: str, summary: Summary | None = None):
        super().__init__(msg)
        self.summary = summary


def _os_reason(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


# ----------------------------------------------------------------- records

@dataclass
class Page:
    """One page read from an input, on its way to a worker.

    ``rel`` is the output path (posix, no extension) under ``--out`` for the
    per-page formats; ``error`` is set when the page could not be read.
    """

    id: str
    source: str
    rel: str
    data: bytes | str | None = None
    url: str | None = None
    kind: str | None = None
    charset: str | None = None
    error: str | None = None
    gz: bool = False  # data is gzip-compressed (decompressed in the worker)
    cut: bool = False  # data was cut at max_bytes while reading (a compressed file's bytes)
    seq: int = -1


@dataclass
class Options:
    """Everything ``boilerclf clean`` can be told (see the CLI for help texts)."""

    format: str = "txt"
    out: Path | None = None
    errors: Path | None = None
    jobs: int = 1
    batch_size: int = 16
    timeout: float | None = 60.0
    resume: bool = False
    lines: bool = False
    quiet: bool = False
    input_kind: str = "auto"
    input_format: str = "auto"
    html_field: str = "html"
    id_field: str = "id"
    url_field: str = "url"
    globs: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str | None:
        return None if self.input_kind == "auto" else self.input_kind


@dataclass
class Summary:
    """Counts of one run (``pages_in`` = cleaned + empty + failed + skipped)."""

    pages_in: int = 0
    cleaned: int = 0
    empty: int = 0
    failed: int = 0
    skipped: int = 0
    truncated: int = 0  # cleaned or empty pages that ran over a limit (cut or flattened)
    other_records: int = 0
    seconds: float = 0.0
    startup: float = 0.0  # starting the workers and loading the model
    errors_path: Path | None = None
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def line(self) -> str:
        busy = self.seconds - self.startup
        rate = self.pages_in / busy if busy > 0 else 0.0
        s = (f"{self.pages_in} pages in: {self.cleaned} cleaned, {self.empty} empty, "
             f"{self.failed} failed")
        if self.skipped:
            s += f", {self.skipped} skipped (already done)"
        if self.truncated:
            s += f"; {self.truncated} truncated (over --max-bytes, --max-nodes or the nesting limits)"
        s += f"; {self.seconds:.1f} s (startup {self.startup:.1f} s, then {rate:.1f} pages/s)"
        if self.other_records:
            s += f"; {self.other_records} non-HTML WARC records ignored"
        if self.failed and self.errors_path is not None:
            s += f"; errors in {self.errors_path}"
        if self.interrupted:
            s += "; INTERRUPTED (run again with --resume)"
        return s


# ----------------------------------------------------------------- sources

@dataclass
class InputFile:
    """One file to read (``path`` None = standard input)."""

    path: Path | None
    label: str  # shown in outputs and errors: the path as the user wrote it
    rel: str    # posix path relative to its input root, mirrored under --out


def split_name(name: str) -> tuple[str, str, bool]:
    """``(stem, format, gzipped)`` of a file name: format is page, jsonl or warc.

    The stem is safe to use under ``--out``: a path component that is empty or
    only dots (``...jsonl`` has the stem ``..``) has its dots replaced by
    underscores, so no output ever lands outside ``--out``.
    """
    gz = name.lower().endswith(".gz")
    base = name[:-3] if gz else name
    low = base.lower()
    stem, fmt = base, "page"
    for f, suffixes in (("jsonl", _JSONL_SUFFIXES), ("warc", _WARC_SUFFIXES), ("page", _PAGE_SUFFIXES)):
        s = next((s for s in suffixes if low.endswith(s) and len(base) > len(s)), None)
        if s is not None:
            stem, fmt = base[: -len(s)], f
            break
    return safe_stem(stem), fmt, gz


def safe_stem(rel: str) -> str:
    """``rel`` (a posix relative path) with no component that is empty, ``.`` or ``..``."""
    parts = rel.split("/")
    if all(p.strip(".") for p in parts):
        return rel
    return "/".join(p if p.strip(".") else "_" * max(1, len(p)) for p in parts)


def safe_name(ident: str) -> str:
    """A file name for a record id: readable, no path separators, collision-safe."""
    s = ident[9:] if ident.startswith("urn:uuid:") else ident
    t = re.sub(r"[^A-Za-z0-9._-]+", "_", s).strip("._")[:100] or "_"
    if t != s:  # changed: keep distinct ids distinct
        t += "-" + hashlib.sha1(ident.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return t


def _matches(rel: str, globs: list[str]) -> bool:
    from fnmatch import fnmatch
    from pathlib import PurePosixPath

    if not globs:
        return True
    name = rel.rsplit("/", 1)[-1]
    return any(PurePosixPath(rel).match(g) if "/" in g else fnmatch(name, g) for g in globs)


def _walk(root: Path, prefix: str = "", seen: set | None = None,
          exclude: tuple[Path, ...] = ()) -> Iterator[tuple[Path, str]]:
    """Files under ``root`` in sorted depth-first order, streamed (no full listing kept).

    Symbolic links are followed, each directory visited once (no link loops),
    except links into ``exclude`` (the outputs: never read back as inputs).
    """
    seen = set() if seen is None else seen
    try:
        st = root.stat()
        if (st.st_dev, st.st_ino) in seen:
            return
        seen.add((st.st_dev, st.st_ino))
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    for e in entries:
        rel = prefix + e.name
        try:
            if exclude and e.is_symlink():
                target = Path(e.path).resolve()
                if any(_inside(target, x) for x in exclude):
                    continue
            if e.is_dir():
                yield from _walk(Path(e.path), rel + "/", seen, exclude)
            elif e.is_file():
                yield Path(e.path), rel
        except OSError:
            continue


def list_inputs(paths: list[str], globs: list[str],
                exclude: tuple[Path, ...] = ()) -> Iterator[InputFile]:
    """The files named by ``paths`` (directories walked recursively, ``-`` = stdin).

    Files reached through a symbolic link into ``exclude`` (resolved paths of
    the outputs) are left out.
    """
    for p in paths:
        if p == "-":
            yield InputFile(None, "-", "stdin")
            continue
        path = Path(p)
        if path.is_dir():
            for f, rel in _walk(path, exclude=exclude):
                if _matches(rel, globs):
                    yield InputFile(f, str(Path(p) / rel), rel)
        else:
            yield InputFile(path, p, path.name)


class Stdin:
    """Standard input, wrapped once: its format is sniffed without consuming it."""

    def __init__(self, opts: Options):
        self.buf = io.BufferedReader(sys.stdin.buffer, 1 << 16)
        head = self.buf.peek(1 << 16)[: 1 << 16]
        self.gz = head[:2] == b"\x1f\x8b"
        if self.gz:
            try:
                head = zlib.decompressobj(31).decompress(head, 4096)
            except zlib.error:
                head = b""
        self.format = opts.input_format if opts.input_format != "auto" else sniff(head)

    def stream(self):
        """The (decompressed) bytes."""
        return io.BufferedReader(gzip.GzipFile(fileobj=self.buf)) if self.gz else self.buf


class Reader:
    """Turns input files into :class:`Page` records (see module docstring)."""

    def __init__(self, opts: Options, max_bytes: int = MAX_BYTES, stdin: Stdin | None = None):
        self.opts = opts
        self.max_bytes = max_bytes
        self.stdin = stdin
        self.other_records = 0  # WARC records that are not HTML responses

    def pages(self, inputs: Iterator[InputFile]) -> Iterator[Page]:
        for inp in inputs:
            yield from self.file_pages(inp)

    def file_pages(self, inp: InputFile) -> Iterator[Page]:
        stem, fmt, gz = split_name(inp.rel)
        if self.opts.input_format != "auto":
            fmt = self.opts.input_format
        try:
            if inp.path is None:
                yield from self._stdin_pages(inp)
                return
            if fmt == "page":
                yield self._file_page(inp, stem, gz)
            elif fmt == "jsonl":
                with open(inp.path, "rb") as raw:
                    stream = _maybe_gunzip(raw)
                    yield from self._jsonl_pages(stream, inp, stem)
            else:
                with open(inp.path, "rb") as f:
                    yield from self._warc_pages(f, inp, stem)
        except OSError as e:  # unreadable or missing file: report it and go on
            yield Page(inp.rel, inp.label, stem, error=f"cannot read file: {_os_reason(e)}")

    # -- one page per file --------------------------------------------------
    def _file_page(self, inp: InputFile, stem: str, gz: bool) -> Page:
        page = Page(inp.rel, inp.label, stem, kind=self.opts.kind)
        with open(inp.path, "rb") as f:
            head = f.read(2)
            f.seek(0)
            page.gz = gz or head == b"\x1f\x8b"
            # compressed pages go to the workers as they are: they decompress in parallel.
            # One byte over the limit tells the Extractor the page was cut.
            page.data = f.read(self.max_bytes + 1)
            if page.gz and len(page.data) > self.max_bytes:
                page.data, page.cut = page.data[: self.max_bytes], True
        return page

    def _stdin_pages(self, inp: InputFile) -> Iterator[Page]:
        stdin = self.stdin or Stdin(self.opts)
        if stdin.format == "jsonl":
            yield from self._jsonl_pages(stdin.stream(), inp, "stdin")
        elif stdin.format == "warc":
            # the WARC reader seeks to skip corrupt records: spool stdin to disk
            with tempfile.TemporaryFile() as tmp:
                shutil.copyfileobj(stdin.buf, tmp, 1 << 20)
                tmp.seek(0)
                yield from self._warc_pages(tmp, inp, "stdin")
        else:
            page = Page("stdin", "-", "stdin", kind=self.opts.kind)
            try:
                page.data = stdin.stream().read(self.max_bytes + 1)
            except (EOFError, OSError, zlib.error) as e:
                page.error = f"truncated or corrupt gzip: {e}"
            yield page

    # -- JSONL ----------------------------------------------------------------
    def _jsonl_pages(self, stream, inp: InputFile, stem: str) -> Iterator[Page]:
        o = self.opts
        lineno = 0
        cap = 4 * self.max_bytes + (1 << 16)  # a JSON string of a max_bytes page, escaped
        try:
            while raw := stream.readline(cap):
                lineno += 1
                if len(raw) >= cap and not raw.endswith(b"\n"):
                    while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass  # skip the rest of the record without holding it
                    rid = str(lineno)
                    yield Page(rid, inp.label, f"{stem}/{safe_name(rid)}",
                               error=f"line {lineno}: record longer than {cap} bytes "
                                     f"(4 x --max-bytes); not read")
                    continue
                if not raw.strip():
                    continue
                err = None
                try:
                    rec = json.loads(raw)
                except ValueError as e:
                    rec, err = None, f"line {lineno}: not valid JSON ({e})"
                if rec is not None and not isinstance(rec, dict):
                    err = f"line {lineno}: not a JSON object"
                rid = str(lineno)
                if err is None:
                    v = rec.get(o.id_field)
                    if v is not None and v != "":
                        rid = str(v)
                page = Page(rid, inp.label, f"{stem}/{safe_name(rid)}", kind=o.kind)
                if err is None:
                    data = rec.get(o.html_field)
                    url = rec.get(o.url_field)
                    page.url = url if isinstance(url, str) else None
                    if isinstance(data, str):
                        page.data = data
                    else:
                        err = (f"line {lineno}: field {o.html_field!r} is missing" if data is None
                               else f"line {lineno}: field {o.html_field!r} is not a string")
                page.error = err
                yield page
        except (EOFError, OSError, zlib.error) as e:
            rid = f"after-line-{lineno}"
            yield Page(rid, inp.label, f"{stem}/{rid}",
                       error=f"truncated or corrupt gzip after line {lineno}: {e}")

    # -- WARC -------------------------------------------------------------------
    def _warc_pages(self, f, inp: InputFile, stem: str) -> Iterator[Page]:
        """HTML response records of a seekable WARC[.gz] stream.

        warcio stops at the first corrupt record; here a failure is reported
        once per corrupt stretch and reading restarts at the next record start
        (the next gzip member, or the next ``WARC/1.`` line).
        """
        from warcio.archiveiterator import ArchiveIterator

        f.seek(0)
        magic = b"\x1f\x8b\x08" if f.read(2) == b"\x1f\x8b" else b"\nWARC/1."
        skip = 0 if magic[0] == 0x1f else 1  # position of the record start within the magic
        pos = 0
        in_corrupt = False
        n_pages, other0 = 0, self.other_records  # of the first pass, for the fallback below
        while True:
            f.seek(pos)
            it = ArchiveIterator(f)
            try:
                for rec in it:
                    in_corrupt = False
                    page = self._warc_record(rec, inp, stem)
                    if page is not None:
                        n_pages += 1
                        yield page
                return
            except Exception as e:  # noqa: BLE001 - any parse failure = a corrupt stretch
                if pos == 0 and skip == 0 and "non-chunked" in str(e):
                    # one gzip member for the whole file, which warcio refuses:
                    # read it as a plain WARC, decompressed to a temporary file
                    self.other_records = other0
                    yield from self._whole_gzip_warc(f, inp, stem, n_pages)
                    return
                bad = max(it.offset, pos)
                if not in_corrupt:
                    rid = f"offset-{bad}"
                    yield Page(rid, inp.label, f"{stem}/{rid}",
                               error=f"corrupt WARC record at byte {bad}: {_reason(e)}")
                in_corrupt = True
                nxt = _find(f, magic, bad + 1)
                if nxt is None:
                    return
                pos = nxt + skip

    def _whole_gzip_warc(self, f, inp: InputFile, stem: str, done: int) -> Iterator[Page]:
        """A WARC gzipped as one member: decompress to a temporary file, skip ``done`` pages."""
        f.seek(0)
        with tempfile.TemporaryFile() as tmp:
            err = None
            try:
                shutil.copyfileobj(gzip.GzipFile(fileobj=f), tmp, 1 << 20)
            except (EOFError, OSError, zlib.error) as e:  # keep what decompressed
                err = e
            tmp.seek(0)
            for i, page in enumerate(self._warc_pages(tmp, inp, stem)):
                if i >= done:
                    yield page
        if err is not None:
            rid = "gzip-end"
            yield Page(rid, inp.label, f"{stem}/{rid}", error=f"truncated or corrupt gzip: {err}")

    def _warc_record(self, rec, inp: InputFile, stem: str) -> Page | None:
        if not rec.rec_type or not (rec.rec_headers.get_header("Content-Length") or "").strip().isdigit():
            # warcio would read such a record to the end of the file
            raise ValueError("invalid WARC record header (no WARC-Type or Content-Length)")
        if rec.rec_type != "response" or rec.http_headers is None:
            self.other_records += 1
            return None
        ctype = rec.http_headers.get_header("Content-Type") or ""
        if ctype.split(";")[0].strip().lower() not in _HTML_TYPES:
            self.other_records += 1
            return None
        rid = (rec.rec_headers.get_header("WARC-Record-ID") or "").strip("<> ")
        url = rec.rec_headers.get_header("WARC-Target-URI")
        rid = rid or url or "record"
        m = _CHARSET_RE.search(ctype)
        page = Page(rid, inp.label, f"{stem}/{safe_name(rid)}", url=url, kind="html",
                    charset=m.group(1) if m else None)
        content = rec.content_stream()
        page.data = content.read(self.max_bytes + 1)  # one byte over: the Extractor marks the cut
        while content.read(1 << 16):  # the rest of a page over the limit, not kept
            pass
        while rec.raw_stream.read(1 << 16):  # the rest of the block, to check its length
            pass
        missing = getattr(rec.raw_stream, "limit", 0) or 0
        if missing > 0:
            page.data = None
            page.error = f"truncated WARC record ({missing} bytes missing)"
        return page


def sniff(head: bytes) -> str:
    """Guess the format of a stream from its first bytes: warc, jsonl or page."""
    h = head.lstrip()
    if h.startswith(b"WARC/"):
        return "warc"
    if h.startswith(b"{"):
        return "jsonl"
    return "page"


def gunzip(data: bytes, cap: int, partial: bool = False) -> bytes:
    """Decompress gzip ``data`` (all members) up to ``cap`` bytes.

    Raises EOFError for a truncated stream (unless ``partial``: ``data`` was
    cut on purpose, what it holds is returned) and zlib.error for corrupt data.
    """
    out: list[bytes] = []
    n = 0
    while data:
        d = zlib.decompressobj(31)
        chunk = d.decompress(data, cap - n)
        out.append(chunk)
        n += len(chunk)
        if n >= cap:
            break
        if not d.eof:
            if partial:
                break
            raise EOFError("compressed file ended before the end-of-stream marker was reached")
        data = d.unused_data.lstrip(b"\x00")
    return b"".join(out)


def _maybe_gunzip(raw):
    """``raw`` itself, or a gzip reader over it when it starts with the gzip magic."""
    buf = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
    if buf.peek(2)[:2] == b"\x1f\x8b":
        return io.BufferedReader(gzip.GzipFile(fileobj=buf))
    return buf


def _find(f, magic: bytes, start: int, chunk: int = 1 << 20) -> int | None:
    """Absolute position of the next ``magic`` at or after ``start`` in a seekable file."""
    f.seek(start)
    base, tail = start, b""
    while True:
        block = f.read(chunk)
        if not block:
            return None
        buf = tail + block
        i = buf.find(magic)
        if i >= 0:
            return base - len(tail) + i
        tail = buf[-(len(magic) - 1):]
        base += len(block)


# ----------------------------------------------------------------- rendering

_MD_ESCAPE = re.compile(r"^(#{1,6}\s|[>*+-]\s|\d{1,9}[.)]\s|```|---)")


def to_markdown(result) -> str:
    """The kept lines as markdown: ``#`` headings by level, ``- `` list items, paragraphs."""
    out: list[str] = []
    prev_li = False
    for ln in result.lines:
        if not ln.label:
            continue
        tag = ln.tag
        is_li = tag == "li"
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            s = "#" * int(tag[1]) + " " + ln.text
        elif is_li:
            s = "- " + ln.text
        else:
            s = ("\\" + ln.text) if _MD_ESCAPE.match(ln.text) else ln.text
        if out:
            out.append("\n" if (is_li and prev_li) else "\n\n")
        out.append(s)
        prev_li = is_li
    return "".join(out)


def render(result, page: tuple, fmt: str, with_lines: bool) -> tuple[str, int, int, int]:
    """``(output text, lines, kept lines, chars)`` of one classified page.

    ``page`` is ``(id, url, source)``; ``fmt`` "record" gives the JSONL record as a dict.
    """
    text = result.text
    n_kept = sum(1 for ln in result.lines if ln.label)
    counts = (len(result.lines), n_kept, len(text))
    if fmt == "txt":
        return text + "\n", *counts
    if fmt == "markdown":
        return to_markdown(result) + "\n", *counts
    rid, url, source = page
    rec = {"id": rid, "url": url, "source": source, "title": result.title, "text": text,
           "counts": {"lines": counts[0], "kept": counts[1], "chars": counts[2]},
           "truncated": result.truncated}
    if with_lines:
        rec["threshold"] = round(float(result.threshold), 6)  # the page's own with "auto"
        rec["lines"] = [{"text": ln.text, "label": ln.label, "score": round(ln.score, 6),
                         "tag": ln.tag} for ln in result.lines]
    if fmt == "record":
        return rec, *counts
    return json.dumps(rec, ensure_ascii=False) + "\n", *counts


# ----------------------------------------------------------------- workers

_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(text: str) -> bytes:
    """``text`` as UTF-8; lone surrogates (from JSON escapes or undecodable file names)
    become U+FFFD, so every output is valid UTF-8."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def clip(msg: str, n: int = 240) -> str:
    """A one-line, printable, bounded error message."""
    msg = "".join(c if c.isprintable() else " " for c in msg)
    msg = " ".join(msg.split())
    return msg if len(msg) <= n else msg[: n - 3] + "..."


def _reason(e: BaseException) -> str:
    msg = clip(str(e))
    if isinstance(e, InputError) and msg:  # its message says what the input is
        return msg
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def worker_main(conn, ex: Extractor, kinds: tuple[str, ...], fmt: str, with_lines: bool,
                 close_fds: tuple[int, ...] = ()) -> None:
    """A worker process: load the model(s) once, then classify batches until told to stop."""
    import signal
    import warnings

    from .lines import SlowPathWarning

    for fd in close_fds:  # forked: the main's ends of the pipes, so a dead main means EOF here
        try:
            os.close(fd)
        except OSError:
            pass
    warnings.simplefilter("ignore", SlowPathWarning)  # the main process has said it once
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)  # parallelism is across processes
    except Exception:  # noqa: BLE001 - optional
        pass
    try:
        warm = []
        for k in kinds:
            ex._get(k)
            warm.append(ex.lines("<p>Warm up the parser and the model.</p>", k))
        ex.classify_lines(warm)  # first-call costs are not charged to a page's time limit
    except BaseException as e:  # noqa: BLE001 - reported as fatal to the main process
        try:
            conn.send(("fatal", str(e) or type(e).__name__))
        except OSError:
            pass
        return
    try:
        conn.send(("ready",))
        while True:
            task = conn.recv()
            if task is None:
                return
            conn.send(("done", process_pages(ex, task, fmt, with_lines, conn.send)))
    except (EOFError, OSError):  # the main process is gone (killed): end quietly
        return


def page_task(p: Page) -> tuple:
    """What a worker needs of a page: ``(seq, data, kind, charset, (id, url, source), gz, cut)``."""
    return (p.seq, p.data, p.kind, p.charset, (p.id, p.url, p.source), p.gz, p.cut)


def process_pages(ex: Extractor, task: list[tuple], fmt: str, with_lines: bool,
                  notify: Callable[[tuple], None] | None = None) -> list[tuple]:
    """Clean a batch of pages (:func:`page_task` tuples) in this process.

    Returns one outcome per page, keyed by its ``seq``: ``(seq, "ok", output,
    lines, kept, chars)`` or ``(seq, "error", stage, reason)``; a failure is
    isolated to its page.  ``notify`` hears ``("page", seq)`` before a page is
    split and ``("model", n)`` before the model call (the pool's time limits).
    ``fmt`` is an output format, or ``"record"`` for the JSONL record as a dict.
    """
    notify = notify or (lambda msg: None)
    out: list[tuple] = []
    split: list[tuple] = []
    for seq, data, kind, charset, meta, gz, cut in task:
        notify(("page", seq))
        if gz:
            try:
                data = gunzip(data, ex.max_bytes + 1, partial=cut)
            except (EOFError, zlib.error) as e:
                out.append((seq, "error", "read", f"truncated or corrupt gzip: {_reason(e)}"))
                continue
        try:
            lines = ex.lines(data, kind, charset)
            lines.truncated = lines.truncated or cut
            split.append((seq, lines, meta))
        except Exception as e:  # noqa: BLE001 - isolated per page
            out.append((seq, "error", "parse", _reason(e)))
    notify(("model", len(split)))
    try:
        results = ex.classify_lines([s[1] for s in split])
    except Exception:  # noqa: BLE001 - find the page(s) at fault one by one
        results = []
        for s in split:
            try:
                results.append(ex.classify_lines([s[1]])[0])
            except Exception as e:  # noqa: BLE001
                results.append(e)
    for (seq, _, meta), r in zip(split, results):
        if isinstance(r, BaseException):
            out.append((seq, "error", "classify", _reason(r)))
            continue
        try:
            out.append((seq, "ok", *render(r, meta, fmt, with_lines), r.truncated))
        except Exception as e:  # noqa: BLE001
            out.append((seq, "error", "output", _reason(e)))
    return out


def _fork_is_safe() -> bool:
    """True when this process runs no thread but its main one, OpenBLAS's and jemalloc's.

    A forked child inherits no threads; a library that already started some
    (an OpenMP pool after an unrestricted scikit-learn call, a Python thread)
    can hang in the child.  OpenBLAS's pthreads re-create themselves on fork,
    and jemalloc's background purging thread (started by a library that
    scikit-learn's import loads) is stopped and restarted by its fork handlers.
    """
    import threading

    try:
        from threadpoolctl import threadpool_info

        blas = sum(max(0, int(i.get("num_threads", 1)) - 1) for i in threadpool_info()
                   if i.get("internal_api") == "openblas" and i.get("threading_layer") == "pthreads")
        for attempt in range(4):
            if attempt:  # a thread just joined (a closed pool's) can take a moment to be gone
                time.sleep(0.005 * attempt)
            if threading.active_count() != 1:
                continue
            tasks = 0
            for t in os.listdir("/proc/self/task"):
                try:
                    with open(f"/proc/self/task/{t}/comm") as f:
                        tasks += f.read().strip() != "jemalloc_bg_thd"
                except OSError:  # the thread ended meanwhile
                    pass
            if tasks <= 1 + blas:
                return True
        return False
    except Exception:  # noqa: BLE001 - no /proc, no threadpoolctl: take the safe road
        return False


def _mp_context(initial: bool):
    """How to start a worker.

    The first workers fork from this process when that is safe (quick: the
    model code is already imported; the CLI's process never runs the model).
    Otherwise, and for replacements started while the progress bar's thread
    may run, they fork from a forkserver: a clean process.
    """
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if initial and "fork" in methods and _fork_is_safe():
        return mp.get_context("fork")
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["boilerclf.batch"])
        return ctx
    return mp.get_context("spawn")


class _Worker:
    def __init__(self, ctx, args: tuple, others: list[_Worker] = ()):
        parent, child = ctx.Pipe(duplex=True)
        close: tuple[int, ...] = ()
        if ctx.get_start_method() == "fork":
            close = (parent.fileno(), *(w.conn.fileno() for w in others))
        self.proc = ctx.Process(target=worker_main, args=(child, *args, close), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        self.ready = False
        self.task: list[Page] | None = None
        self.stage: tuple = ("start", None)
        self.deadline: float | None = None

    def stop(self, kill: bool = False) -> None:
        if not kill:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                kill = True
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()


class Pool:
    """Worker processes with per-stage deadlines (the per-page time limit).

    A worker that overruns its deadline or dies is killed and replaced; the
    page it was splitting fails (``timeout``), the other pages of its batch go
    back to the queue; a batch that overruns in the model stage is retried
    one page at a time, so only the page at fault fails.
    """

    def __init__(self, ex: Extractor, jobs: int, timeout: float | None, kinds: tuple[str, ...],
                 fmt: str, with_lines: bool):
        import copy

        ex = copy.copy(ex)  # workers fork from the forkserver, whose working directory may differ
        for attr in ("model", "text_model"):
            if getattr(ex, attr) is not None:
                setattr(ex, attr, Path(getattr(ex, attr)).resolve())
        self.args = (ex, kinds, fmt, with_lines)
        self.timeout = timeout
        first = _mp_context(initial=True)
        self.workers: list[_Worker] = []
        for _ in range(jobs):
            self.workers.append(_Worker(first, self.args, self.workers))
        self.retry: deque[list[Page]] = deque()
        self.attempts: dict[int, int] = {}

    def wait_ready(self) -> None:
        """Block until every worker has loaded the model (raises :class:`FatalError`)."""
        while not all(w.ready for w in self.workers):
            self.poll(1.0)

    def idle(self) -> list[_Worker]:
        return [w for w in self.workers if w.ready and w.task is None]

    def busy(self) -> bool:
        return any(w.task is not None for w in self.workers)

    def submit(self, w: _Worker, batch: list[Page]) -> None:
        w.task = batch
        w.stage = ("send", None)
        w.deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            w.conn.send([page_task(p) for p in batch])
        except (OSError, ValueError):  # it died: the next poll sees EOF and handles the batch
            pass

    def poll(self, max_wait: float) -> list[tuple]:
        """Wait for worker messages; return finished outcomes ``(seq, status, ...)``."""
        from multiprocessing.connection import wait

        now = time.monotonic()
        deadlines = [w.deadline for w in self.workers if w.task is not None and w.deadline]
        if deadlines:
            max_wait = max(0.0, min(max_wait, min(deadlines) - now))
        done: list[tuple] = []
        ready = wait([w.conn for w in self.workers], max_wait)
        for w in list(self.workers):
            if w.conn not in ready:
                continue
            try:
                while w.conn.poll():
                    self._message(w, w.conn.recv(), done)
            except (EOFError, OSError):
                code = w.proc.exitcode if not w.proc.is_alive() else None
                if not w.ready:
                    self._replace(w)
                    raise FatalError(f"a worker process died while starting (exit code {code})")
                done += self._fail(w, f"worker process died (exit code {code})")
        now = time.monotonic()
        for w in list(self.workers):
            if w.task is not None and w.deadline is not None and now > w.deadline:
                done += self._fail(w, f"timeout: over the {self.timeout:g} s time limit")
        return done

    def _message(self, w: _Worker, msg: tuple, done: list) -> None:
        kind = msg[0]
        if kind == "ready":
            w.ready = True
        elif kind == "fatal":
            raise FatalError(msg[1])
        elif kind == "page":
            w.stage = ("parse", msg[1])
            if self.timeout is not None:
                w.deadline = time.monotonic() + self.timeout
        elif kind == "model":
            w.stage = ("classify", msg[1])
            if self.timeout is not None:
                w.deadline = time.monotonic() + self.timeout * max(1, msg[1])
        elif kind == "done":
            done += msg[1]
            w.task, w.stage, w.deadline = None, ("idle", None), None

    def _replace(self, w: _Worker) -> None:
        w.stop(kill=True)
        self.workers[self.workers.index(w)] = _Worker(_mp_context(initial=False), self.args)

    def _fail(self, w: _Worker, reason: str) -> list[tuple]:
        """Kill ``w``, replace it, and decide the fate of its batch."""
        batch, (stage, arg) = w.task or [], w.stage
        self._replace(w)
        out: list[tuple] = []
        if stage == "parse":
            culprit = [p for p in batch if p.seq == arg]
            rest = [p for p in batch if p.seq != arg]
            out += [(p.seq, "error", "parse", reason) for p in culprit]
            if rest:
                self.retry.appendleft(rest)
        elif len(batch) == 1:
            p = batch[0]
            self.attempts[p.seq] = self.attempts.get(p.seq, 0) + 1
            if stage == "classify" or self.attempts[p.seq] >= 3:
                out.append((p.seq, "error", stage, reason))
                self.attempts.pop(p.seq, None)
            else:
                self.retry.appendleft(batch)
        else:  # classify stage (or lost before it started): retry page by page
            for p in reversed(batch):
                self.retry.appendleft([p])
        return out

    def close(self, kill: bool = False) -> None:
        for w in self.workers:
            w.stop(kill=kill)


# ----------------------------------------------------------------- writers

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _exclusive(path, flags: int) -> int:
    return os.open(path, flags | os.O_EXCL | _NOFOLLOW, 0o666)


def open_new(path: Path, mode: str = "wb"):
    """A new file at ``path``, created exclusively, never through a symbolic link.

    Whatever is at ``path`` already (a leftover temporary file, or a link
    planted there to redirect the output) is removed first; the file is then
    created with ``O_EXCL | O_NOFOLLOW``, so a link planted in between makes
    the open fail instead of writing elsewhere.
    """
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return open(path, mode, opener=_exclusive)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file, renamed over it.

    The temporary file ``.NAME.tmp`` is created exclusively (:func:`open_new`).
    On failure (e.g. a full disk) it is removed and ``path``, if it existed,
    is left as it was.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open_new(tmp) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class DirWriter:
    """One file per page under ``out`` (txt or markdown), each written atomically."""

    def __init__(self, out: Path, ext: str):
        self.out = out
        self.ext = ext
        self.used: set[bytes] = set()
        self.dirs: set[Path] = set()

    def assign(self, page: Page) -> None:
        """Give ``page`` a unique output path (``name~2`` on a clash), in input order."""
        page.rel = safe_stem(page.rel)  # never outside ``out``, whatever made the name
        rel, n = page.rel, 1
        while True:
            key = hashlib.blake2b(rel.encode("utf-8", "surrogatepass"), digest_size=8).digest()
            if key not in self.used:
                self.used.add(key)
                page.rel = rel
                return
            n += 1
            rel = f"{page.rel}~{n}"

    def path(self, page: Page) -> Path:
        return self.out / (page.rel + self.ext)

    def done(self, page: Page) -> bool:
        return self.path(page).is_file()

    def target(self, page: Page | None) -> str:
        return str(self.path(page)) if page is not None else str(self.out)

    def write(self, page: Page, text: str) -> None:
        p = self.path(page)
        if p.parent not in self.dirs:
            p.parent.mkdir(parents=True, exist_ok=True)
            self.dirs.add(p.parent)
        _atomic_write(p, utf8(text))

    def finish(self, ok: bool) -> None:
        pass


class FileWriter:
    """All pages into one JSONL file: ``OUT.tmp`` grows in input order, renamed at the end.

    With ``resume``, the complete records of ``OUT.tmp`` (or of ``OUT``) are kept and
    their pages skipped.  Records are matched by ``(source, id)`` and by their
    order among the records of that key, so ids that repeat in an input (or
    empty ids replaced by line numbers that clash with real ids) are each
    resumed once: the n-th page of a key is done when the output holds n.
    """

    def __init__(self, out: Path, resume: bool):
        self.out = out
        self.tmp = out.with_name(out.name + ".tmp")
        self.seen: Counter[tuple[str, str]] = Counter()  # complete records per (source, id)
        self.met: Counter[tuple[str, str]] = Counter()   # pages of each key admitted so far
        out.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(self.tmp):  # never ours: a link planted to redirect the output
            os.unlink(self.tmp)
        if resume and (self.tmp.is_file() or out.is_file()):
            if not self.tmp.is_file():
                with open(out, "rb") as src, open_new(self.tmp) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            self.good = self._load_done()
            self.f = open(self.tmp, "ab", opener=lambda p, fl: os.open(p, fl | _NOFOLLOW))
        else:
            self.good = 0
            self.f = open_new(self.tmp)
        self.written = 0  # records written by this run

    def _load_done(self) -> int:
        """Count the complete records of ``OUT.tmp``, cut it after the last; its new size."""
        good = 0
        with open(self.tmp, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break
                try:
                    rec = json.loads(line)
                    self.seen[(str(rec["source"]), str(rec["id"]))] += 1
                except (ValueError, KeyError, TypeError):
                    break
                good += len(line)
        fd = os.open(self.tmp, os.O_WRONLY | _NOFOLLOW)
        try:  # drop a half-written last record
            os.ftruncate(fd, good)
        finally:
            os.close(fd)
        return good

    def assign(self, page: Page) -> None:
        pass

    def done(self, page: Page) -> bool:
        """Whether ``page``'s record is already in the output (call once per page, in input order)."""
        key = (page.source, page.id)
        n = self.met[key]
        self.met[key] = n + 1
        return n < self.seen[key]

    def target(self, page: Page | None) -> str:
        return str(self.tmp)

    def write(self, page: Page, text: str) -> None:
        """Append one record, flushed: ``self.written`` counts only records that reached the file."""
        data = utf8(text)
        self.f.write(data)
        self.f.flush()
        self.good += len(data)
        self.written += 1

    def finish(self, ok: bool) -> None:
        """Close and, if ``ok``, rename into place (raises OSError if that fails).

        A run that failed leaves ``OUT.tmp`` cut after its last complete record.
        """
        if not ok:
            try:
                self.f.close()
            except OSError:  # the flush of a full disk fails again
                pass
            try:
                fd = os.open(self.tmp, os.O_WRONLY | _NOFOLLOW)
                try:
                    os.ftruncate(fd, self.good)
                finally:
                    os.close(fd)
            except OSError:
                pass
            return
        self.f.close()
        os.replace(self.tmp, self.out)


class StdoutWriter:
    """Everything to standard output; per-page formats get ``==> id <==`` headers."""

    def __init__(self, fmt: str, headers: bool):
        self.stream = getattr(sys.stdout, "buffer", None)
        self.headers = headers and fmt != "jsonl"

    def assign(self, page: Page) -> None:
        pass

    def done(self, page: Page) -> bool:
        return False

    def target(self, page: Page | None) -> str:
        return "standard output"

    def write(self, page: Page, text: str) -> None:
        if self.headers:
            text = f"==> {page.id} <==\n{text}"
        if self.stream is not None:
            self.stream.write(utf8(text))
        else:
            sys.stdout.write(text)

    def finish(self, ok: bool) -> None:
        try:
            (self.stream or sys.stdout).flush()
        except OSError:
            if ok:
                raise


class ErrorLog:
    """The errors file (JSONL: id, source, stage, reason); created on the first error.

    It grows as ``PATH.tmp`` and is renamed at the end; a run without errors
    removes a stale errors file left in ``--out`` by an earlier run.
    """

    def __init__(self, path: Path | None, remove_stale: bool):
        self.path = path  # None: no file (output to stdout; each error is printed on stderr)
        self.tmp = path.with_name(path.name + ".tmp") if path is not None else None
        self.remove_stale = remove_stale
        self.f = None
        self.count = 0

    def write(self, page: Page, stage: str, reason: str) -> None:
        if self.path is None:
            self.count += 1
            return
        if self.f is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.f = open_new(self.tmp)
        rec = {"id": page.id, "source": page.source, "url": page.url, "stage": stage, "reason": reason}
        self.f.write(utf8(json.dumps(rec, ensure_ascii=False) + "\n"))
        self.f.flush()
        self.count += 1

    def finish(self) -> None:
        if self.f is not None:
            self.f.close()
            self.f = None
            os.replace(self.tmp, self.path)
        elif self.remove_stale and self.path is not None and self.path.is_file():
            self.path.unlink()

    def abandon(self) -> None:
        """Close after a write failure; what was logged stays in ``PATH.tmp``."""
        if self.f is not None:
            try:
                self.f.close()
            except OSError:
                pass
            self.f = None


# ----------------------------------------------------------------- checks

def _inside(p: Path, root: Path) -> bool:
    return p == root or root in p.parents


def default_errors_path(opts: Options) -> Path | None:
    """Where failed pages are listed: beside ``--out``; with output to stdout, no
    file (each failure is printed on stderr) unless ``--errors`` names one."""
    if opts.out is None:
        return None
    if opts.format == "jsonl":
        name = opts.out.name[:-6] if opts.out.name.endswith(".jsonl") else opts.out.name
        return opts.out.with_name(name + ".errors.jsonl")
    return opts.out / "errors.jsonl"


def check(paths: list[str], opts: Options) -> None:
    """Refuse bad usage before anything is read or written (raises :class:`UsageError`)."""
    if not paths:
        raise UsageError("no input given (files, directories or - for stdin)")
    if opts.format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    if opts.input_kind not in INPUT_KINDS:
        raise UsageError(f"--input-kind must be one of {', '.join(INPUT_KINDS)}")
    if opts.input_format not in INPUT_FORMATS:
        raise UsageError(f"--input-format must be one of {', '.join(INPUT_FORMATS)}")
    if opts.jobs < 1 or opts.batch_size < 1:
        raise UsageError("--jobs and --batch-size must be at least 1")
    if opts.timeout is not None and opts.timeout < 0:
        raise UsageError("--timeout must be >= 0 (0 = no limit)")
    if opts.resume and opts.out is None:
        raise UsageError("--resume needs --out (it skips pages whose output exists)")
    if opts.lines and opts.format != "jsonl":
        raise UsageError("--lines needs --format jsonl")
    if paths.count("-") > 1:
        raise UsageError("- (stdin) can be given only once")
    roots: list[Path] = []
    missing: list[str] = []
    for p in paths:
        if p == "-":
            continue
        if not os.path.exists(p):  # among others: a failed page of the run, the rest go on
            missing.append(p)
            continue
        roots.append(Path(p).resolve())
    if missing and len(missing) == len(paths):
        raise UsageError(f"no such file or directory: {missing[0]}"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    out = opts.out.resolve() if opts.out is not None else None
    errors = opts.errors or default_errors_path(opts)
    errors = errors.resolve() if errors is not None else None
    if out is not None:
        if opts.format == "jsonl" and out.is_dir():
            raise UsageError(f"--out {opts.out} is a directory; with --format jsonl it names a file")
        if opts.format != "jsonl" and out.exists() and not out.is_dir():
            raise UsageError(f"--out {opts.out} is a file; with --format {opts.format} it names a directory")
        for r in roots:
            if _inside(out, r) or (opts.format != "jsonl" and _inside(r, out)):
                raise UsageError(f"--out {opts.out} is, contains or lies inside the input {r}: "
                                 "inputs are never overwritten; choose another --out")
    for r in roots:
        if errors is not None and (_inside(errors, r) or _inside(errors.with_name(errors.name + ".tmp"), r)):
            raise UsageError(f"the errors file {errors} would be written inside the input {r}: "
                             "choose another --errors")
        if out is not None and opts.format == "jsonl" and _inside(out.with_name(out.name + ".tmp"), r):
            raise UsageError(f"--out {opts.out}.tmp (written while running) is the input {r}")
    if out is not None and errors is not None and errors == out:
        raise UsageError("--errors and --out are the same path")


# ----------------------------------------------------------------- the run

class Progress:
    """A rich progress line (pages, pages/s, errors) on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool):
        self.bar = None
        self.console = None
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import Progress as RichProgress
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(file=sys.stderr)
        self.bar = RichProgress(
            SpinnerColumn(), TextColumn("{task.completed:>8.0f} pages"),
            TextColumn("{task.fields[rate]:>7.1f} pages/s"),
            TextColumn("[red]{task.fields[errors]} errors"), TimeElapsedColumn(),
            console=self.console, transient=True)
        self.task = self.bar.add_task("clean", total=None, rate=0.0, errors=0)
        self.bar.start()
        self.t0 = time.monotonic()
        self.last = 0.0

    def update(self, done: int, errors: int, force: bool = False) -> None:
        if self.bar is None:
            return
        now = time.monotonic()
        if force or now - self.last > 0.1:
            self.last = now
            self.bar.update(self.task, completed=done, errors=errors,
                            rate=done / max(now - self.t0, 1e-9))

    def log(self, msg: str) -> None:
        if self.console is not None:
            self.console.print(msg, markup=False, highlight=False)
        else:
            print(msg, file=sys.stderr)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _single_page(paths: list[str], opts: Options, stdin: Stdin | None) -> bool:
    """True when the input is one page (stdout then gets no ``==>`` headers)."""
    if len(paths) != 1 or opts.input_format not in ("auto", "page"):
        return False
    p = paths[0]
    if p == "-":
        return stdin is not None and stdin.format == "page"
    return not os.path.isdir(p) and split_name(Path(p).name)[1] == "page"


MAX_LOGGED_ERRORS = 20


def where(page: Page) -> str:
    """``SOURCE [ID]`` of a page for messages; a page file (its id is its name) only once."""
    if page.source == page.id or page.source.endswith("/" + page.id):
        return page.source
    return f"{page.source} [{page.id}]"


class Output:
    """The writing end of a run, shared by every engine: outcomes in, files out.

    :meth:`admit` takes pages in input order as they are read (output names,
    read errors, ``--resume`` skips); :meth:`put` takes their outcomes, again in
    input order, and writes the output, the errors file and the counts.
    """

    def __init__(self, paths: list[str], opts: Options, summ: Summary, stdin: Stdin | None,
                 say: Callable[[str], None]):
        self.opts = opts
        self.summ = summ
        self.say = say
        self.errors_path = opts.errors or default_errors_path(opts)
        if self.errors_path is None and opts.quiet:  # no errors file: failures still reach stderr
            self.say = lambda msg: print(msg, file=sys.stderr)
        summ.errors_path = self.errors_path
        try:
            if opts.out is None:
                self.writer = StdoutWriter(opts.format, headers=not _single_page(paths, opts, stdin))
            elif opts.format == "jsonl":
                self.writer = FileWriter(opts.out, opts.resume)
            else:
                opts.out.mkdir(parents=True, exist_ok=True)
                self.writer = DirWriter(opts.out, _EXT[opts.format])
        except OSError as e:
            raise OutputError(f"cannot write --out {opts.out}: {_os_reason(e)}", summ) from None
        self.errlog = ErrorLog(self.errors_path, remove_stale=opts.out is not None
                               and opts.format != "jsonl" and opts.errors is None)

    def paths(self) -> tuple[Path, ...]:
        """The run's own output paths (and their temporary names): never read as inputs."""
        outs = [x.resolve() for x in (self.errors_path, self.opts.out) if x is not None]
        return tuple(outs + [x.with_name(x.name + ".tmp") for x in outs])

    def admit(self, page: Page) -> tuple | None:
        """Assign ``page`` its output; its outcome if it needs no worker (read error, done)."""
        self.writer.assign(page)
        if page.error is not None:
            return (page.seq, "error", "read", page.error)
        if self.opts.resume and self.writer.done(page):
            return (page.seq, "skipped")
        return None

    def put(self, page: Page, res: tuple) -> None:
        """Write one outcome (``process_pages``'s, or ``admit``'s); raises
        :class:`OutputError` when the output or the errors file cannot be written."""
        summ = self.summ
        if res[1] == "ok":
            try:
                self.writer.write(page, res[2])
            except OSError as e:
                raise OutputError(f"cannot write {self.writer.target(page)}: {_os_reason(e)}") from None
            summ.truncated += bool(res[6])
            if res[4]:
                summ.cleaned += 1
            else:
                summ.empty += 1
        elif res[1] == "skipped":
            summ.skipped += 1
        else:
            try:
                self.errlog.write(page, res[2], res[3])
            except OSError as e:
                raise OutputError(f"cannot write the errors file {self.errlog.tmp}: "
                                  f"{_os_reason(e)}") from None
            summ.failed += 1
            if summ.failed <= MAX_LOGGED_ERRORS or self.errlog.path is None:
                self.say(f"error: {where(page)}: {res[3]}")
            elif summ.failed == MAX_LOGGED_ERRORS + 1:
                self.say(f"error: more failed pages; see {self.errors_path}")
        summ.pages_in += 1  # counted once its outcome is written: the counts always add up

    def finish(self, ok: bool, failure: OutputError | None = None) -> OutputError | None:
        """Close the outputs; a run that did not finish (``ok`` False) leaves
        ``OUT.tmp``.  Returns ``failure``, or the write error met while closing."""
        try:
            self.writer.finish(ok)
        except OSError as e:
            if failure is None:
                failure = OutputError(f"cannot write {self.writer.target(None)}: {_os_reason(e)}")
        try:
            if failure is None:
                self.errlog.finish()
            else:
                self.errlog.abandon()
        except OSError as e:
            self.errlog.abandon()
            if failure is None:
                failure = OutputError(f"cannot write the errors file {self.errlog.path}: {_os_reason(e)}")
        return failure


#: Bytes of page data the main process holds at most (pages read, not yet written),
#: beside the page count limit of ``4 x jobs x batch size``; one page over it is still read.
MAX_HELD_BYTES = 256 << 20
#: Bytes of page data sent to a worker in one batch at most (at least one page).
MAX_BATCH_BYTES = 32 << 20


def page_bytes(page: Page) -> int:
    """The memory a page's data takes (0 without data)."""
    return 0 if page.data is None else sys.getsizeof(page.data)


def take_batch(queue: deque[Page], size: int) -> list[Page]:
    """Up to ``size`` pages from the front of ``queue`` and under :data:`MAX_BATCH_BYTES` (at least one)."""
    out = [queue.popleft()]
    n = page_bytes(out[0])
    while queue and len(out) < size and n + page_bytes(queue[0]) <= MAX_BATCH_BYTES:
        n += page_bytes(queue[0])
        out.append(queue.popleft())
    return out


def run(paths: list[str], ex: Extractor, opts: Options, *,
        log: Callable[[str], None] | None = None) -> Summary:
    """Clean every page of ``paths`` (see module docstring); returns the :class:`Summary`.

    Raises :class:`UsageError` for bad options or paths and :class:`FatalError`
    when the model cannot be loaded; nothing is written in either case.  Raises
    :class:`OutputError` when an output cannot be written (the pages written
    before it are complete).
    """
    check(paths, opts)
    if opts.timeout == 0:
        opts.timeout = None
    t0 = time.monotonic()
    summ = Summary()
    kinds = ("html", "text") if opts.kind is None else (opts.kind,)
    pool = Pool(ex, opts.jobs, opts.timeout, kinds, opts.format, opts.lines)
    try:
        pool.wait_ready()
    except BaseException:
        pool.close(kill=True)
        raise
    summ.startup = time.monotonic() - t0
    stdin = Stdin(opts) if "-" in paths else None
    prog = Progress(not opts.quiet and sys.stderr.isatty())
    say = log or (prog.log if not opts.quiet else (lambda msg: None))
    try:
        output = Output(paths, opts, summ, stdin, say)
    except OutputError:
        pool.close(kill=True)
        raise
    reader = Reader(opts, ex.max_bytes, stdin)
    source = reader.pages(list_inputs(paths, opts.globs, exclude=output.paths()))
    limit = opts.jobs * opts.batch_size * 4  # pages read but not yet written
    queue: deque[Page] = deque()
    pending: dict[int, Page] = {}
    outcomes: dict[int, tuple] = {}
    n_read = next_out = 0
    held = 0  # bytes of the pages read but not yet written
    exhausted = False
    ok = False
    failure: OutputError | None = None
    try:
        while True:
            while not exhausted and n_read - next_out < limit and (held < MAX_HELD_BYTES
                                                                   or n_read == next_out):
                page = next(source, None)
                if page is None:
                    exhausted = True
                    break
                page.seq = n_read
                n_read += 1
                pending[page.seq] = page
                held += page_bytes(page)
                res = output.admit(page)
                if res is not None:
                    outcomes[page.seq] = res
                else:
                    queue.append(page)
            full = n_read - next_out >= limit or held >= MAX_HELD_BYTES
            for w in pool.idle():
                if pool.retry:
                    pool.submit(w, pool.retry.popleft())
                elif queue and (len(queue) >= opts.batch_size or exhausted or full
                                or sum(map(page_bytes, queue)) >= MAX_BATCH_BYTES):
                    pool.submit(w, take_batch(queue, opts.batch_size))
            while next_out in outcomes:
                page = pending.pop(next_out)
                output.put(page, outcomes.pop(next_out))
                held -= page_bytes(page)
                next_out += 1
            prog.update(next_out, summ.failed)
            if exhausted and next_out == n_read:
                break
            if queue or pool.retry or pool.busy() or not pool.idle():
                for res in pool.poll(0.5):
                    outcomes[res[0]] = res
        ok = True
    except KeyboardInterrupt:
        summ.interrupted = True
    except OutputError as e:
        failure = e
    finally:
        prog.stop()
        pool.close(kill=not ok)
        failure = output.finish(ok, failure)
        summ.other_records = reader.other_records
        summ.seconds = time.monotonic() - t0
    if failure is not None:
        written = summ.cleaned + summ.empty
        if isinstance(output.writer, FileWriter):
            written = output.writer.written
        if opts.out is None:
            where = ""
        elif isinstance(output.writer, FileWriter):
            where = (f"the {written} records written before it are complete in {output.writer.tmp}; "
                     "run again with --resume once fixed")
        else:
            where = f"{written} pages written before it are complete; run again with --resume once fixed"
        failure.args = (f"{failure.args[0]} ({where})" if where else failure.args[0],)
        failure.summary = summ
        raise failure
    return summ
