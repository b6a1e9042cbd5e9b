"""The work of ``clean``'s worker processes: each loads the model once, splits
each page of a batch into lines, classifies the whole batch in one model call
and renders the output; the pool (the package's :class:`WorkerPool`) enforces
the per-page time limit by killing and replacing a worker that overruns (no
signals, no threads in the worker)."""
from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable
from functools import partial
from pathlib import Path

from boilerclf.batch.errors import FatalError, reason
from boilerclf.batch.inputs import Page, gunzip
from boilerclf.batch.render import render
from boilerclf.pipeline import Extractor
from boilerclf.processes import Worker, WorkerError, WorkerPool, prepare_worker


def prepare(ex: Extractor, kinds: tuple[str, ...]) -> Extractor:
    """A worker's setup: the model(s) of ``kinds`` loaded and warmed up."""
    prepare_worker(ex, kinds)
    return ex


def handle(ex: Extractor, task: list[tuple], notify: Callable[[tuple], None], fmt: str,
           with_lines: bool) -> list[tuple]:
    """A worker's handler: :func:`process_pages` with the pool's stage messages."""
    return process_pages(ex, task, fmt, with_lines, notify)


def page_task(p: Page) -> tuple:
    """What a worker needs of a page: ``(seq, data, kind, charset, (id, url, source), gz, cut)``."""
    return (p.seq, p.data, p.kind, p.charset, (p.id, p.url, p.source), p.gz, p.cut)


def process_pages(ex: Extractor, task: list[tuple], fmt: str, with_lines: bool,
                  notify: Callable[[tuple], None] | None = None) -> list[tuple]:
    """Clean a batch of pages (:func:`page_task` tuples) in this process.

    Returns one outcome per page, keyed by its ``seq``: ``(seq, "ok", output,
    lines, kept, chars)`` or ``(seq, "error", stage, reason)``; a failure is
    isolated to its page.  ``notify`` hears ``("stage", "parse", seq, 1)``
    before a page is split and ``("stage", "classify", n, n)`` before the model
    call on ``n`` pages (the pool's time limits: one per page).
    ``fmt`` is an output format, or ``"record"`` for the JSONL record as a dict.
    """
    notify = notify or (lambda msg: None)
    out: list[tuple] = []
    split: list[tuple] = []
    for seq, data, kind, charset, meta, gz, cut in task:
        notify(("stage", "parse", seq, 1))
        if gz:
            try:
                data = gunzip(data, ex.max_bytes + 1, partial=cut)
            except (EOFError, zlib.error) as e:
                out.append((seq, "error", "read", f"truncated or corrupt gzip: {reason(e)}"))
                continue
        try:
            lines = ex.lines(data, kind, charset)
            lines.truncated = lines.truncated or cut
            split.append((seq, lines, meta))
        except Exception as e:  # noqa: BLE001 - isolated per page
            out.append((seq, "error", "parse", reason(e)))
    notify(("stage", "classify", len(split), len(split)))
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
            out.append((seq, "error", "classify", reason(r)))
            continue
        try:
            out.append((seq, "ok", *render(r, meta, fmt, with_lines), r.truncated))
        except Exception as e:  # noqa: BLE001
            out.append((seq, "error", "output", reason(e)))
    return out


class Pool(WorkerPool):
    """The pool of ``clean``: batches of pages with the per-page time limit.

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
        super().__init__(jobs, partial(prepare, ex, kinds),
                         partial(handle, fmt=fmt, with_lines=with_lines), timeout)
        self.retry: deque[list[Page]] = deque()
        self.attempts: dict[int, int] = {}

    def submit(self, w: Worker, batch: list[Page]) -> None:  # type: ignore[override]
        super().submit(w, batch, [page_task(p) for p in batch])

    def poll(self, max_wait: float) -> list[tuple]:
        """Wait for worker messages; return finished outcomes ``(seq, status, ...)``."""
        try:
            return super().poll(max_wait)
        except WorkerError as e:
            raise FatalError(str(e)) from None

    def finished(self, task: list[Page], result: list[tuple]) -> list[tuple]:
        return result

    def errored(self, task: list[Page], error: BaseException) -> list[tuple]:
        return [(p.seq, "error", "classify", reason(error)) for p in task]

    def failed(self, batch: list[Page] | None, stage: tuple, why: str) -> list[tuple]:
        """The fate of the batch of a worker that died or overran."""
        batch, (stage, arg) = batch or [], stage
        out: list[tuple] = []
        if stage == "parse":
            culprit = [p for p in batch if p.seq == arg]
            rest = [p for p in batch if p.seq != arg]
            out += [(p.seq, "error", "parse", why) for p in culprit]
            if rest:
                self.retry.appendleft(rest)
        elif len(batch) == 1:
            p = batch[0]
            self.attempts[p.seq] = self.attempts.get(p.seq, 0) + 1
            if stage == "classify" or self.attempts[p.seq] >= 3:
                out.append((p.seq, "error", stage, why))
                self.attempts.pop(p.seq, None)
            else:
                self.retry.appendleft(batch)
        else:  # classify stage (or lost before it started): retry page by page
            for p in reversed(batch):
                self.retry.appendleft([p])
        return out
