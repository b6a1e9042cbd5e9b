"""Worker processes: how they start and how each is prepared, for every engine.

The library's ``Extractor.extract_many(n_jobs=...)``, the ``boilerclf clean``
pool and a Dask worker all start and prepare their worker processes here:
:func:`start_context` chooses how a process starts (a fork of this one when
that is safe, else a forkserver) and :func:`prepare_worker` makes a process
ready to classify (one thread for numeric libraries, the models loaded and
warmed up, the slow-path warning already given by the main process).
"""
from __future__ import annotations

import os
import time
import warnings

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
