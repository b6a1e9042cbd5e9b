"""Pages to labels-file records pre-filled by a model: the engine of ``boilerclf label``.

Pages are read by the same readers as ``boilerclf clean`` (files, directories,
JSONL[.gz], WARC[.gz], stdin; see :mod:`boilerclf.batch`), decoded once (the
decoded text is the record's ``source``), split into lines and classified in
batches; each line gets the model's label and score, so a person only corrects
them (``boilerclf review``).  Labelling is for a handful of pages of a site, so
it runs in one process with no per-page time limit.
"""
from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boilerclf import batch
from boilerclf.batch.errors import reason
from boilerclf.batch.inputs import gunzip
from boilerclf.batch.options import inside
from boilerclf.labels.file import page_record
from boilerclf.model.files import SHIPPED_MODELS, ModelError, sha256, shipped_model_path
from boilerclf.parse import lines as _lines
from boilerclf.parse.decode import page_text
from boilerclf.pipeline import Extractor


@dataclass
class Report:
    """What one labelling run did: the records made and the pages that failed."""

    records: list[dict[str, Any]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (page id, reason)
    skipped: int = 0  # pages already in the file (append mode)


def model_name(ex: Extractor, kind: str) -> str:
    """``"<file name> sha256:<12 hex>"`` of the model ``ex`` uses for ``kind``."""
    path = ex.model if kind == "html" else ex.text_model
    p = Path(path) if path is not None else shipped_model_path(SHIPPED_MODELS[kind])
    return f"{p.name} sha256:{sha256(p)[:12]}"


def check_inputs(paths: list[str], opts: batch.Options, out: Path | None = None) -> None:
    """Refuse bad inputs and an ``out`` that is an input (raises :class:`batch.UsageError`)."""
    if not paths:
        raise batch.UsageError("no input given (files, directories or - for stdin)")
    if opts.input_kind not in batch.INPUT_KINDS:
        raise batch.UsageError(f"--kind must be one of {', '.join(batch.INPUT_KINDS)}")
    if opts.input_format not in batch.INPUT_FORMATS:
        raise batch.UsageError(f"--input-format must be one of {', '.join(batch.INPUT_FORMATS)}")
    if paths.count("-") > 1:
        raise batch.UsageError("- (stdin) can be given only once")
    for p in paths:
        if p != "-" and not os.path.exists(p):
            raise batch.UsageError(f"no such file or directory: {p}")
        if p != "-" and out is not None and inside(out.resolve(), Path(p).resolve()):
            raise batch.UsageError(f"--out {out} is or lies inside the input {p}: "
                                   "inputs are never overwritten; choose another --out")


def page_source(page: batch.Page, max_bytes: int) -> str:
    """The decoded text of a page read by :class:`batch.Reader`."""
    data = page.data
    if page.gz:
        data = gunzip(data, max_bytes)
    return page_text(data, page.charset, max_bytes)[0]


def label_pages(paths: list[str], ex: Extractor, opts: batch.Options, *,
                skip_ids: set[str] | frozenset = frozenset(), batch_size: int = 16,
                progress: Callable[[str], None] | None = None) -> Report:
    """Read, split and classify pages into labels-file records (see module docstring).

    Page ids come from the readers (the path under its input root, or the JSONL
    id field); a repeated id gets ``#2``, ``#3``, ...  Pages whose id is in
    ``skip_ids`` are not read.  A page that cannot be read, decoded, parsed or
    classified is listed in ``Report.failed`` and the run goes on; a model file
    that cannot be loaded raises :class:`~boilerclf.model.files.ModelError`.
    """
    report = Report()
    seen: set[str] = set(skip_ids)
    pending: list[tuple[str, str | None, str, _lines.Lines]] = []
    names: dict[str, str] = {}

    def flush() -> None:
        if not pending:
            return
        try:
            results = ex.classify_lines([p[3] for p in pending])
        except ModelError:  # an unusable model file fails the run, not the pages
            raise
        except Exception:  # noqa: BLE001 - find the page(s) at fault one by one
            results = []
            for p in pending:
                try:
                    results.append(ex.classify_lines([p[3]])[0])
                except ModelError:
                    raise
                except Exception as e:  # noqa: BLE001
                    results.append(e)
        for (pid, url, src, ln), r in zip(pending, results):
            if isinstance(r, BaseException):
                report.failed.append((pid, f"classify: {reason(r)}"))
                continue
            if ln.kind not in names:
                names[ln.kind] = model_name(ex, ln.kind)
            report.records.append(page_record(
                pid, src, [x.text for x in r.lines], kind=ln.kind, url=url,
                labels=[int(x.label) for x in r.lines], scores=[x.score for x in r.lines],
                tags=[x.tag for x in r.lines], model=names[ln.kind] if len(ln) else None))
            if progress:
                progress(f"{pid}: {len(ln)} lines, {sum(x.label for x in r.lines)} kept")
        pending.clear()

    reader = batch.Reader(opts, max_bytes=ex.max_bytes)
    for page in reader.pages(batch.list_inputs(paths, opts.globs)):
        pid = page.id
        if pid in skip_ids:
            report.skipped += 1
            continue
        k = 2
        while pid in seen:
            pid = f"{page.id}#{k}"
            k += 1
        seen.add(pid)
        if page.error:
            report.failed.append((pid, f"read: {page.error}"))
            continue
        try:
            src = page_source(page, ex.max_bytes)
        except (EOFError, zlib.error) as e:
            report.failed.append((pid, f"read: truncated or corrupt gzip: {reason(e)}"))
            continue
        except Exception as e:  # noqa: BLE001 - isolated per page
            report.failed.append((pid, f"decode: {reason(e)}"))
            continue
        try:
            ln = ex.lines(src, page.kind)
        except Exception as e:  # noqa: BLE001 - isolated per page
            report.failed.append((pid, f"parse: {reason(e)}"))
            continue
        pending.append((pid, page.url, src, ln))
        if len(pending) >= batch_size:
            flush()
    flush()
    return report

