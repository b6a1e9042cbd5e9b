"""Worker processes: each loads the model once, splits each page of a batch
into lines, classifies the whole batch in one model call and renders the
output; the pool enforces the per-page time limit by killing and replacing a
worker that overruns (no signals, no threads in the worker)."""
from __future__ import annotations

import os
import time
import zlib
from collections import deque
from collections.abc import Callable
from pathlib import Path

from boilerclf.batch.errors import FatalError, reason
from boilerclf.batch.inputs import Page, gunzip
from boilerclf.batch.render import render
from boilerclf.pipeline import Extractor
from boilerclf.processes import prepare_worker, start_context


def worker_main(conn, ex: Extractor, kinds: tuple[str, ...], fmt: str, with_lines: bool,
                 close_fds: tuple[int, ...] = ()) -> None:
    """A worker process: load the model(s) once, then classify batches until told to stop."""
    import signal

    for fd in close_fds:  # forked: the main's ends of the pipes, so a dead main means EOF here
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        prepare_worker(ex, kinds)  # first-call costs are not charged to a page's time limit
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
                out.append((seq, "error", "read", f"truncated or corrupt gzip: {reason(e)}"))
                continue
        try:
            lines = ex.lines(data, kind, charset)
            lines.truncated = lines.truncated or cut
            split.append((seq, lines, meta))
        except Exception as e:  # noqa: BLE001 - isolated per page
            out.append((seq, "error", "parse", reason(e)))
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
            out.append((seq, "error", "classify", reason(r)))
            continue
        try:
            out.append((seq, "ok", *render(r, meta, fmt, with_lines), r.truncated))
        except Exception as e:  # noqa: BLE001
            out.append((seq, "error", "output", reason(e)))
    return out


class Worker:
    def __init__(self, ctx, args: tuple, others: list[Worker] = ()):
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
        first = start_context(initial=True)
        self.workers: list[Worker] = []
        for _ in range(jobs):
            self.workers.append(Worker(first, self.args, self.workers))
        self.retry: deque[list[Page]] = deque()
        self.attempts: dict[int, int] = {}

    def wait_ready(self) -> None:
        """Block until every worker has loaded the model (raises :class:`FatalError`)."""
        while not all(w.ready for w in self.workers):
            self.poll(1.0)

    def idle(self) -> list[Worker]:
        return [w for w in self.workers if w.ready and w.task is None]

    def busy(self) -> bool:
        return any(w.task is not None for w in self.workers)

    def submit(self, w: Worker, batch: list[Page]) -> None:
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

    def _message(self, w: Worker, msg: tuple, done: list) -> None:
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

    def _replace(self, w: Worker) -> None:
        w.stop(kill=True)
        self.workers[self.workers.index(w)] = Worker(start_context(initial=False), self.args)

    def _fail(self, w: Worker, reason: str) -> list[tuple]:
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
