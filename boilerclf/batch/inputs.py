"""Sources: files, directories, JSONL[.gz], WARC[.gz] and stdin turned into
:class:`Page` records.

A page that cannot even be read (a truncated gzip, a corrupt WARC record, a
JSONL line that is not JSON) becomes a record with ``error`` set, so it is
reported in input order like any other failure; the rest of the file is
still read.
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
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from boilerclf.batch.errors import os_reason, reason
from boilerclf.batch.options import Options, inside
from boilerclf.pipeline import MAX_BYTES

_PAGE_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".txt", ".text")
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_WARC_SUFFIXES = (".warc",)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)


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
                if any(inside(target, x) for x in exclude):
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
            yield Page(inp.rel, inp.label, stem, error=f"cannot read file: {os_reason(e)}")

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
                               error=f"corrupt WARC record at byte {bad}: {reason(e)}")
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
