"""Worker processes: how they start and how each is prepared, for every engine.

The library's ``Extractor.extract_many(n_jobs=...)``, the ``boilerclf clean``
pool and a Dask worker all start and prepare their worker processes here:
:func:`start_context` chooses how a process starts (a fork of this one when
that is safe, else a forkserver) and :func:`prepare_worker` makes a process
ready to classify (one thread for numeric libraries, the models loaded and
warmed up, the slow-path warning already given by the main process).
:class:`WorkerPool` runs tasks on such processes with per-stage time limits;
the library and the ``clean`` command use it (Dask brings its own workers and
prepares them with :func:`prepare_worker`).
"""
from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from boilerclf.parse.html import SlowPathWarning


def fork_is_safe() -> bool:
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


def start_context(initial: bool):
    """How to start a worker.

    The first workers fork from this process when that is safe (quick: the
    model code is already imported; the CLI's process never runs the model).
    Otherwise, and for replacements started while the progress bar's thread
    may run, they fork from a forkserver: a clean process.
    """
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if initial and "fork" in methods and fork_is_safe():
        return mp.get_context("fork")
    if "forkserver" in methods:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["boilerclf.batch"])
        return ctx
    return mp.get_context("spawn")


def prepare_worker(ex, kinds: tuple[str, ...] = ()) -> None:
    """Make this process ready to run the extractor ``ex``: numeric libraries on one
    thread (parallelism is across processes), the models of ``kinds`` loaded, and
    the parser and model warmed up on a small page."""
    warnings.simplefilter("ignore", SlowPathWarning)  # the main process has said it once
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except Exception:  # noqa: BLE001 - optional
        pass
    warm = []
    for k in kinds:
        ex.model_for(k)
        warm.append(ex.lines("<p>Warm up the parser and the model.</p>", k))
    if warm:
        ex.classify_lines(warm)


class WorkerError(RuntimeError):
    """A worker process could not start, or died, or overran its time limit."""


def worker_main(conn, setup: Callable[[], Any], handle: Callable[..., Any],
                 close_fds: tuple[int, ...] = ()) -> None:
    """A worker process: ``state = setup()`` once, then ``handle(state, task, notify)``
    for each task until told to stop."""
    import signal

    for fd in close_fds:  # forked: the main's ends of the pipes, so a dead main means EOF here
        try:
            os.close(fd)
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        state = setup()  # first-call costs are not charged to a task's time limit
    except BaseException as e:  # noqa: BLE001 - reported as fatal to the main process
        try:
            conn.send(("fatal", str(e) or type(e).__name__))
        except OSError:
            pass
        return
    def notify(msg: tuple) -> None:
        try:
            conn.send(msg)
        except OSError as e:  # the main process is gone: end the task and the worker
            raise EOFError from e

    try:
        conn.send(("ready",))
        while True:
            task = conn.recv()
            if task is None:
                return
            try:
                result = handle(state, task, notify)
            except EOFError:
                raise
            except Exception as e:  # noqa: BLE001 - the main process decides
                try:
                    conn.send(("error", e))
                except Exception:  # noqa: BLE001 - an exception that does not pickle
                    conn.send(("error", RuntimeError(f"{type(e).__name__}: {e}")))
                continue
            conn.send(("done", result))
    except (EOFError, OSError):  # the main process is gone (killed): end quietly
        return


class Worker:
    """One worker process and the main process's end of its pipe."""

    def __init__(self, ctx, setup: Callable[[], Any], handle: Callable[..., Any],
                 others: Sequence[Worker] = ()):
        parent, child = ctx.Pipe(duplex=True)
        close: tuple[int, ...] = ()
        if ctx.get_start_method() == "fork":
            close = (parent.fileno(), *(w.conn.fileno() for w in others))
        self.proc = ctx.Process(target=worker_main, args=(child, setup, handle, close), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        self.ready = False
        self.task: Any = None
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


class WorkerPool:
    """Worker processes with per-stage time limits: the one pool of the package.

    Each process runs ``state = setup()`` once, then ``handle(state, task,
    notify)`` for each task it is sent.  A handler may call ``notify(("stage",
    name, arg, n))`` as it moves on; the task's deadline is then ``timeout * n``
    seconds from that moment (``timeout=None``: no limit).  A worker that
    overruns its deadline or dies is killed and replaced, and :meth:`failed`
    decides the fate of its task; the default raises :class:`WorkerError`.
    :meth:`poll` returns what :meth:`finished` makes of each finished task.
    ``ctx`` is the first workers' start context (default: :func:`start_context`).
    """

    def __init__(self, jobs: int, setup: Callable[[], Any], handle: Callable[..., Any],
                 timeout: float | None = None, ctx=None):
        self.setup, self.handle = setup, handle
        self.timeout = timeout
        first = ctx or start_context(initial=True)
        self.workers: list[Worker] = []
        for _ in range(jobs):
            self.workers.append(Worker(first, setup, handle, self.workers))

    def finished(self, task: Any, result: Any) -> list:
        """The outcomes of a finished task (default: ``[(task, result)]``)."""
        return [(task, result)]

    def errored(self, task: Any, error: BaseException) -> list:
        """The outcomes of a task whose handler raised ``error`` (default: raise it)."""
        raise error

    def failed(self, task: Any, stage: tuple, reason: str) -> list:
        """The outcomes of a task whose worker died or overran (default: raise)."""
        raise WorkerError(reason)

    def wait_ready(self) -> None:
        """Block until every worker has run its setup (raises :class:`WorkerError`)."""
        while not all(w.ready for w in self.workers):
            self.poll(1.0)

    def idle(self) -> list[Worker]:
        return [w for w in self.workers if w.ready and w.task is None]

    def busy(self) -> bool:
        return any(w.task is not None for w in self.workers)

    def submit(self, w: Worker, task: Any, payload: Any) -> None:
        """Send ``payload`` to the idle worker ``w``; ``task`` is what the outcomes refer to."""
        w.task = task
        w.stage = ("send", None)
        w.deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            w.conn.send(payload)
        except (OSError, ValueError):  # it died: the next poll sees EOF and handles the task
            pass

    def poll(self, max_wait: float) -> list:
        """Wait up to ``max_wait`` s for worker messages; return the outcomes of finished tasks."""
        from multiprocessing.connection import wait

        now = time.monotonic()
        deadlines = [w.deadline for w in self.workers if w.task is not None and w.deadline]
        if deadlines:
            max_wait = max(0.0, min(max_wait, min(deadlines) - now))
        done: list = []
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
                    raise WorkerError(f"a worker process died while starting (exit code {code})")
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
            raise WorkerError(msg[1])
        elif kind == "stage":
            w.stage = msg[1:3]
            if self.timeout is not None:
                w.deadline = time.monotonic() + self.timeout * max(1, msg[3])
        elif kind in ("done", "error"):
            task = w.task
            w.task, w.stage, w.deadline = None, ("idle", None), None
            done += self.finished(task, msg[1]) if kind == "done" else self.errored(task, msg[1])

    def _replace(self, w: Worker) -> None:
        w.stop(kill=True)
        self.workers[self.workers.index(w)] = Worker(start_context(initial=False), self.setup,
                                                     self.handle)

    def _fail(self, w: Worker, reason: str) -> list:
        task, stage = w.task, w.stage
        self._replace(w)
        return self.failed(task, stage, reason)

    def close(self, kill: bool = False) -> None:
        for w in self.workers:
            w.stop(kill=kill)
