"""Writers: one file per page, one JSONL file, or standard output, and the
errors file; everything written is atomic and valid UTF-8."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

from boilerclf.batch.inputs import Page, safe_stem

_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8(text: str) -> bytes:
    """``text`` as UTF-8; lone surrogates (from JSON escapes or undecodable file names)
    become U+FFFD, so every output is valid UTF-8."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text).encode("utf-8")


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
    """One file per page under ``out`` (txt, markdown or html), each written atomically."""

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
