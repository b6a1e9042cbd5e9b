#!/usr/bin/env python3
"""Speed and memory of boilerclf beside the peer extractors (a benchmark, not a test).

    python benchmarks/speed.py [--dataset dragnet] [--pages 300] [--model PATH]
                               [--scale-pages 1000] [--stream N]
                               [--write-md benchmarks/SPEED.md] [--json OUT]

What it measures
----------------
The first ``--pages`` ids (sorted) of a shared dataset
(``../shared/datasets/<name>/``, via ``peers.load_dataset``) are loaded
into memory as raw bytes.  Every run below happens in its own fresh Python
subprocess, so peak memory is per extractor; the pages reach the child through
a pickle file, so every child starts with the same pages in memory.

Single process (each child pinned to one core with ``os.sched_setaffinity``
when possible, before anything else is imported, so OpenMP in scikit-learn
also sees one core):

* ``boilerclf``        ``Extractor(model).extract(page_bytes, "html")`` per page;
* ``boilerclf batch``  ``Extractor(model).extract_many(pages, kind="html",
                       batch_size=64, n_jobs=1)`` over all pages at once;
* the peers            ``trafilatura``, ``readability``, ``justext``,
                       ``boilerpy3``, ``resiliparse`` from ``peers.RAW_PEERS``,
                       and ``turbohtml`` (``parse(raw, detect_encoding=True).main_text()``)
                       (the raw functions; exceptions are caught here, so the
                       page counts with ``''`` and the error is counted);
* ``parse floor: lexbor``  selectolax ``LexborHTMLParser(text)`` on the text
                       boilerclf's own decoder (``boilerclf.parse.decode.decode``)
                       makes; decoding is done before timing and not counted;
* ``parse floor: lexbor on the raw bytes``  ``LexborHTMLParser(page_bytes)``: lexbor
                       reads bytes as UTF-8, so this floor skips decoding and the
                       encoding back to UTF-8 that a ``str`` costs (for a page that
                       is not UTF-8 it parses mojibake: a floor, not an extractor);
* ``parse floor: lxml``    ``lxml.html.document_fromstring(text)`` on the same
                       text (a leading ``<?xml ...?>`` declaration stripped,
                       as benchmarks/parsers.py does, since lxml refuses
                       ``str`` input carrying one).

Each child imports its extractor (and loads the model), runs a warm-up over
the first ``--warmup`` pages (20), then times one pass over all pages with
``time.perf_counter`` per page (wall) and ``time.process_time`` for the pass
(CPU of the whole process, all threads).  Reported: pages/s, MB/s of raw
input bytes, median and p95 ms/page (not defined for batch mode: pages come
out 64 at a time), wall and CPU seconds, peak RSS, errors (raised or timed
out) and empty outputs, throughput relative to trafilatura, and the time per
page relative to the lexbor parse floor.

Peak RSS is the child's ``VmHWM`` (``/proc/self/status``), the high-water mark
of its own address space.  ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is
recorded in the JSON too but not used: on Linux it carries over the parent's
peak across fork+exec, so it would show the benchmark driver, not the
extractor.  A per-page time limit (``--page-timeout``, SIGALRM) stops a page
stuck in Python code; a child past ``--timeout`` seconds is killed and its
row says so.

``boilerclf_unpinned`` is the per-page boilerclf run again without pinning,
i.e. with the default thread settings (the compiled tree predictor runs on
one thread either way; a model whose stages fall back to scikit-learn would
use its OpenMP threads): it shows what a user gets by default on this machine.

Scaling: ``extract_many(n_jobs=1)`` against ``extract_many(n_jobs=2)`` on the
same pages repeated to ``--scale-pages`` (1000), one ``extract_many`` call
each, so the n_jobs=2 figure includes starting its process pool.  The n_jobs=1
child is pinned to one core and warmed up; the n_jobs=2 children are not
pinned (workers inherit the affinity) and not warmed up in the parent (a
parent that has already predicted makes its forked workers hang in OpenMP).
n_jobs=2 runs three times: with the default environment and with
``OMP_NUM_THREADS=1``, both fed the list of pages (which reaches forked workers
with the fork: they are sent index ranges), and fed a generator over it (every
page pickled to a worker through a pipe).  Peak RSS for n_jobs=2 is the largest sum of the RSS of
the child and its workers, sampled every 0.1 s with psutil (forked workers
share pages, so the sum overstates).

Memory flatness (``--stream N``, 0 = skip): ``extract_many`` over the pages
cycled to N pages (batch 64, n_jobs=1, pinned), VmRSS sampled before the
first page and every N/10 pages; the samples and the growth from the 20 %
mark to the end are reported.

The machine may be shared with other work (its load average at start and end
is printed): treat the numbers as indicative and compare rows of one run.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import pickle
import platform
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

PEER_RUNS = ["trafilatura", "readability", "justext", "boilerpy3", "resiliparse", "turbohtml"]
SINGLE_RUNS = ["boilerclf", "boilerclf_batch", *PEER_RUNS, "floor_lexbor", "floor_lexbor_bytes", "floor_lxml",
               "boilerclf_unpinned"]
#: Runs that are never pinned (they show the default, unpinned behaviour).
UNPINNED_RUNS = {"boilerclf_unpinned"}
LABELS = {
    "boilerclf": "boilerclf (extract per page)",
    "boilerclf_batch": "boilerclf batch (extract_many, 64, n_jobs=1)",
    "boilerclf_unpinned": "boilerclf (extract per page), not pinned",
    "floor_lexbor": "parse floor: selectolax LexborHTMLParser",
    "floor_lexbor_bytes": "parse floor: selectolax LexborHTMLParser on the raw bytes",
    "floor_lxml": "parse floor: lxml.html.document_fromstring",
}
LIBS = ["boilerclf", "selectolax", "lxml", "numpy", "scikit-learn", "trafilatura",
        "readability-lxml", "justext", "boilerpy3", "resiliparse", "turbohtml", "psutil"]
BATCH_SIZE = 64
#: Scaling runs: (n_jobs, extra environment, how the pages are fed).  The third
#: shows n_jobs=2 with one OpenMP thread per worker (what a worker initializer
#: limiting threads gives); the last feeds a generator, so every page is
#: pickled to a worker (a list reaches forked workers with the fork).
SCALE_RUNS = [(1, {}, "list"), (2, {}, "list"), (2, {"OMP_NUM_THREADS": "1"}, "list"),
              (2, {}, "generator")]


def _env_desc(env: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in env.items()) or "default env"


# ============================================================================
# child side: one run in a fresh process

def _status_kb(field: str) -> int:
    """A ``/proc/self/status`` value in kB (VmRSS, VmHWM), or 0 if unavailable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:  # non-Linux fallback: current RSS only
        import psutil
        return psutil.Process().memory_info().rss // 1024
    except Exception:  # noqa: BLE001
        return 0


def _pin(cpu: int | None) -> str:
    if cpu is None or cpu < 0:
        return "not pinned"
    try:
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError) as e:
        return f"not pinned ({type(e).__name__})"


class _PageTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so libraries' ``except Exception`` miss it."""


def _on_alarm(signum, frame):
    raise _PageTimeout()


def _load_decoder():
    """boilerclf.parse.decode.decode, loaded from its file so the floor child does not
    import the rest of boilerclf (numpy, scikit-learn) and its RSS stays a floor."""
    import importlib.util
    spec = importlib.util.find_spec("boilerclf")
    loc = list(spec.submodule_search_locations)[0]
    mspec = importlib.util.spec_from_file_location("_boilerclf_decode",
                                                   os.path.join(loc, "parse", "decode.py"))
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)
    return mod.decode


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def _setup(run: str, raws: list[bytes], spec: dict):
    """(function of one input, list of inputs); inputs are precomputed here, untimed."""
    if run == "boilerclf" or run.startswith("boilerclf_"):
        from boilerclf import Extractor
        ex = Extractor(model=spec["model"])
        ex.model_for("html")  # load the model now, not inside the first timed page
        return ex, raws
    if run == "turbohtml":  # its main-content extraction, as benchmarks/modern.py runs it
        import turbohtml
        return (lambda raw: turbohtml.parse(raw, detect_encoding=True).main_text() or ""), raws
    if run in PEER_RUNS:
        import peers
        return peers.RAW_PEERS[run], raws
    if run == "floor_lexbor_bytes":  # lexbor reads the bytes as UTF-8: no decoding, no encoding back
        from selectolax.lexbor import LexborHTMLParser
        return LexborHTMLParser, raws
    if run in ("floor_lexbor", "floor_lxml"):
        decode = _load_decoder()
        texts = []
        for r in raws:
            t = decode(r)
            if "\x00" in t:  # as boilerclf.parse.html.html_lines does
                t = t.replace("\x00", "\ufffd")
            if run == "floor_lxml":
                t = _XML_DECL.sub("", t, count=1)
            texts.append(t)
        if run == "floor_lexbor":
            from selectolax.lexbor import LexborHTMLParser
            return LexborHTMLParser, texts
        import lxml.html
        return lxml.html.document_fromstring, texts
    raise SystemExit(f"unknown run {run!r}")


def _per_page(fn, inputs, page_timeout: float, record) -> None:
    """Call fn on every input; record(index, seconds, output or None, error or None)."""
    for i, x in enumerate(inputs):
        err = out = None
        if page_timeout:
            signal.setitimer(signal.ITIMER_REAL, page_timeout)
        t0 = time.perf_counter()
        try:
            out = fn(x)
        except _PageTimeout:
            err = "timeout"
        except Exception as e:  # noqa: BLE001 - a failing page counts with ''
            err = f"{type(e).__name__}: {e}"[:200]
        finally:
            if page_timeout:
                signal.setitimer(signal.ITIMER_REAL, 0)
        record(i, time.perf_counter() - t0, out, err)


class _Tally:
    """Counts of extract_many outputs, without keeping them (so the harness
    itself does not grow with the number of pages)."""

    def __init__(self, on_output=None):
        self.done = self.empty = self.chars = 0
        self.on_output = on_output

    def add(self, out: str) -> None:
        self.done += 1
        self.chars += len(out)
        self.empty += not out.strip()
        if self.on_output is not None:
            self.on_output(self.done)


def _many(ex, pages, n_jobs: int, on_output=None, feed: str = "list") -> tuple[_Tally, list]:
    """extract_many over pages (a list, or a generator over it with ``feed="generator"``),
    tallying outputs; a raising batch is counted once and skipped (its pages count
    as ''), and the call resumes after it.  Returns (tally, errors)."""
    tally = _Tally(on_output)
    errors: list = []
    while tally.done < len(pages):
        src = pages[tally.done:] if tally.done else pages
        try:
            for out in ex.extract_many(iter(src) if feed == "generator" else src, kind="html",
                                       batch_size=BATCH_SIZE, n_jobs=n_jobs):
                tally.add(out if isinstance(out, str) else "")
        except Exception as e:  # noqa: BLE001
            errors.append(f"{type(e).__name__}: {e}"[:200])
            for _ in range(min(BATCH_SIZE, len(pages) - tally.done)):
                tally.add("")
    return tally, errors


_SAMPLER = """
import os, sys, time, psutil
root = psutil.Process(int(sys.argv[1])); every = float(sys.argv[2]); me = os.getpid(); peak = 0
while True:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        break
    for p in procs:
        try:
            total += p.memory_info().rss if p.pid != me else 0
        except Exception:
            pass
    peak = max(peak, total)
    print(peak, flush=True)
    time.sleep(every)
"""


class _RssSampler:
    """Sampler of the RSS of this process plus its children (psutil), run in a
    separate process rather than a thread: a thread here would make
    extract_many start its workers from a forkserver instead of forking them."""

    def __init__(self, every: float = 0.1):
        self.every = every
        self.peak = 0

    def __enter__(self):
        import subprocess
        self._p = subprocess.Popen([sys.executable, "-c", _SAMPLER, str(os.getpid()), str(self.every)],
                                   stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc):
        self._p.terminate()
        out, _ = self._p.communicate()
        vals = [int(v) for v in out.split()]
        self.peak = max(vals, default=0)


def child_main(spec: dict) -> None:
    pinned = _pin(spec.get("cpu"))  # first: before numpy/OpenMP start threads
    import gc
    import logging
    import resource
    import warnings
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    if spec.get("page_timeout"):
        signal.signal(signal.SIGALRM, _on_alarm)

    with open(spec["pages_file"], "rb") as f:
        raws: list[bytes] = pickle.load(f)
    run, mode = spec["run"], spec["mode"]
    base_rss_kb = _status_kb("VmRSS")

    t0 = time.perf_counter()
    fn, inputs = _setup(run, raws, spec)
    setup_s = time.perf_counter() - t0
    warm = inputs[: spec["warmup"]]
    res: dict = {"run": run, "mode": mode, "pinned": pinned, "setup_s": setup_s,
                 "base_rss_mb": base_rss_kb / 1024, "n_input": len(raws)}

    if mode == "single":
        if run == "boilerclf_batch":
            _many(fn, warm, 1)
        elif run in ("boilerclf", "boilerclf_unpinned"):
            _per_page(lambda x: fn.extract(x, "html"), warm, spec["page_timeout"], lambda *a: None)
        else:
            _per_page(fn, warm, spec["page_timeout"], lambda *a: None)
        gc.collect()
        times = [0.0] * len(inputs)
        errors: list[str] = []
        state = {"empty": 0, "chars": 0}

        def record(i, secs, out, err):
            if times is not None:
                times[i] = secs
            if err is not None:
                errors.append(err)
            if isinstance(out, str):
                state["chars"] += len(out)
                state["empty"] += not out.strip()
            elif run in ("boilerclf", "boilerclf_unpinned", *PEER_RUNS):
                state["empty"] += 1

        c0, w0 = time.process_time(), time.perf_counter()
        if run == "boilerclf_batch":
            times = None
            tally, errors = _many(fn, inputs, 1)
            state["empty"], state["chars"] = tally.empty, tally.chars
        elif run in ("boilerclf", "boilerclf_unpinned"):
            _per_page(lambda x: fn.extract(x, "html"), inputs, spec["page_timeout"], record)
        else:
            _per_page(fn, inputs, spec["page_timeout"], record)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        res.update(n=len(inputs), wall_s=wall, cpu_s=cpu, times=times, errors=len(errors),
                   timeouts=sum(e == "timeout" for e in errors), error_samples=errors[:3],
                   empty=state["empty"] if not run.startswith("floor_") else None,
                   out_chars=state["chars"])

    elif mode == "scale":
        n_jobs = spec["n_jobs"]
        pages = [raws[i % len(raws)] for i in range(spec["scale_pages"])]
        if n_jobs == 1:
            for x in warm:
                fn.extract(x, "html")
        # n_jobs > 1: the parent must not predict before extract_many forks its
        # pool: once scikit-learn's OpenMP threads exist in a process, forked
        # workers that predict hang (libgomp is not fork-safe).  The workers
        # inherit the loaded model and warm up on their first batch, timed.
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        if n_jobs > 1:
            with _RssSampler() as sampler:
                tally, errors = _many(fn, pages, n_jobs, feed=spec.get("feed", "list"))
            res["sampled_peak_rss_mb"] = sampler.peak / 2**20
        else:
            tally, errors = _many(fn, pages, n_jobs)
        wall = time.perf_counter() - w0
        ch = resource.getrusage(resource.RUSAGE_CHILDREN)  # pool workers, reaped at pool exit
        cpu = time.process_time() - c0 + ch.ru_utime + ch.ru_stime
        res.update(n=len(pages), n_jobs=n_jobs, wall_s=wall, cpu_s=cpu, errors=len(errors),
                   error_samples=errors[:3], empty=tally.empty)

    elif mode == "stream":
        n = spec["stream"]
        step = max(1, n // 10)
        for x in warm:
            fn.extract(x, "html")
        gc.collect()
        samples = [(0, _status_kb("VmRSS") / 1024)]

        def on_output(k):
            if k % step == 0 or k == n:
                if samples[-1][0] != k:
                    samples.append((k, _status_kb("VmRSS") / 1024))

        import itertools
        stream = list(itertools.islice(itertools.cycle(range(len(raws))), n))
        c0, w0 = time.process_time(), time.perf_counter()
        # _many slices its input on restart, so hand it a lazy list-like of pages
        _, errors = _many(fn, _Cycled(raws, stream), 1, on_output)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        res.update(n=n, wall_s=wall, cpu_s=cpu, errors=len(errors), error_samples=errors[:3],
                   samples=samples)

    res["peak_rss_mb"] = _status_kb("VmHWM") / 1024
    res["ru_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open(spec["out"], "w") as f:
        json.dump(res, f)


class _Cycled:
    """A read-only sequence of raws[idx[i]] that does not copy the page bytes."""

    def __init__(self, raws, idx, start=0):
        self.raws, self.idx, self.start = raws, idx, start

    def __len__(self):
        return len(self.idx) - self.start

    def __getitem__(self, k):
        if isinstance(k, slice):
            s = k.start or 0
            return _Cycled(self.raws, self.idx, self.start + s)
        return self.raws[self.idx[self.start + k]]

    def __iter__(self):
        for j in range(self.start, len(self.idx)):
            yield self.raws[self.idx[j]]


# ============================================================================
# parent side: run the children, collect, format

def _default_cpu() -> int | None:
    try:
        return max(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def run_child(spec: dict, workdir: Path, timeout: float, log) -> dict:
    out = workdir / (f"{spec['run']}-{spec['mode']}-{spec.get('n_jobs', 0)}-{len(spec.get('env', {}))}"
                     f"-{spec.get('feed', 'list')}.json")
    spec = {**spec, "out": str(out)}
    errf = workdir / (out.stem + ".stderr")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps(spec)]
    t0 = time.perf_counter()
    with open(errf, "wb") as ef:
        env = {**os.environ, **spec.get("env", {})}
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=ef, start_new_session=True,
                             env=env)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # the child and any pool workers it started
            p.wait()
            log(f"  {spec['run']}: killed after {timeout:.0f} s")
            return {"run": spec["run"], "failed": f"timed out after {timeout:.0f} s"}
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
    if rc != 0 or not out.is_file():
        tail = errf.read_text(errors="replace").strip().splitlines()[-3:]
        log(f"  {spec['run']}: exit {rc}: " + " | ".join(tail))
        return {"run": spec["run"], "failed": f"exit {rc}: " + " | ".join(tail)[-300:]}
    res = json.loads(out.read_text())
    res["child_total_s"] = time.perf_counter() - t0
    return res


def _pct(sorted_vals: list[float], q: float) -> float:
    """Nearest-rank percentile of a sorted list."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(-(-q * len(sorted_vals) // 1)) - 1))
    return sorted_vals[k]


def summarise(res: dict, total_bytes: int) -> dict:
    if "failed" in res:
        return res
    n, wall = res["n"], res["wall_s"]
    s = {**res, "pages_s": n / wall if wall else float("inf"),
         "mb_s": total_bytes / 2**20 / wall if wall else float("inf"),
         "mean_ms": 1000 * wall / n if n else float("nan")}
    if res.get("times"):
        t = sorted(res["times"])
        s["median_ms"] = 1000 * _pct(t, 0.5)
        s["p95_ms"] = 1000 * _pct(t, 0.95)
    s.pop("times", None)
    return s


def _f(x, fmt="{:.1f}", none="—"):
    if x is None:
        return none
    try:
        if x != x:  # nan
            return none
    except TypeError:
        return none
    return fmt.format(x)


def single_table(rows: list[dict]) -> str:
    by = {r["run"]: r for r in rows}
    traf = by.get("trafilatura", {}).get("pages_s")
    floor = by.get("floor_lexbor", {}).get("mean_ms")
    head = ("| extractor | pages/s | MB/s | median ms | p95 ms | wall s | CPU s | pages/CPU-s "
            "| peak RSS MB | × trafilatura (pages/s) | × lexbor floor (ms/page) | errors | empty |")
    lines = [head, "|---|" + "---:|" * 12]
    for r in rows:
        name = LABELS.get(r["run"], r["run"])
        if "failed" in r:
            lines.append(f"| {name} | failed: {r['failed']} |" + " |" * 11)
            continue
        err = str(r["errors"]) + (f" ({r['timeouts']} timeouts)" if r.get("timeouts") else "")
        lines.append("| " + " | ".join([
            name, _f(r["pages_s"]), _f(r["mb_s"], "{:.2f}"),
            _f(r.get("median_ms"), "{:.2f}"), _f(r.get("p95_ms"), "{:.2f}"),
            _f(r["wall_s"], "{:.2f}"), _f(r["cpu_s"], "{:.2f}"),
            _f(r["n"] / r["cpu_s"] if r["cpu_s"] else None), _f(r["peak_rss_mb"], "{:.0f}"),
            _f(r["pages_s"] / traf if traf else None, "{:.2f}×"),
            _f(r["mean_ms"] / floor if floor else None, "{:.1f}×"),
            err, _f(r.get("empty"), "{}"),
        ]) + " |")
    return "\n".join(lines)


def floor_lines(rows: list[dict]) -> list[str]:
    by = {r["run"]: r for r in rows if "failed" not in r}
    out = []
    fl = by.get("floor_lexbor")
    if fl:
        for k in ("boilerclf", "boilerclf_batch"):
            if k in by:
                out.append(f"- {LABELS[k]}: {by[k]['mean_ms']:.2f} ms/page = "
                           f"{by[k]['mean_ms'] / fl['mean_ms']:.1f}× the lexbor parse floor "
                           f"({fl['mean_ms']:.2f} ms/page); parsing is "
                           f"{100 * fl['mean_ms'] / by[k]['mean_ms']:.0f} % of boilerclf's time.")
    fb = by.get("floor_lexbor_bytes")
    if fb:
        for k in ("boilerclf", "boilerclf_batch"):
            if k in by:
                out.append(f"- {LABELS[k]}: {by[k]['mean_ms'] / fb['mean_ms']:.1f}× lexbor's parse of the raw "
                           f"bytes ({fb['mean_ms']:.2f} ms/page, no decoding).")
    if "boilerclf" in by and "boilerclf_unpinned" in by:
        a, b = by["boilerclf"], by["boilerclf_unpinned"]
        out.append(f"- boilerclf not pinned (default thread settings; the compiled tree "
                   f"predictor runs on one thread either way): "
                   f"{b['pages_s']:.1f} pages/s and {b['cpu_s']:.2f} CPU s against "
                   f"{a['pages_s']:.1f} pages/s and {a['cpu_s']:.2f} CPU s pinned to one core "
                   f"({a['pages_s'] / b['pages_s']:.1f}× the throughput when pinned).")
    tr = by.get("trafilatura")
    if tr:
        for k in ("boilerclf", "boilerclf_batch"):
            if k in by:
                out.append(f"- {LABELS[k]}: {by[k]['pages_s'] / tr['pages_s']:.2f}× "
                           f"trafilatura's throughput ({by[k]['pages_s']:.1f} vs "
                           f"{tr['pages_s']:.1f} pages/s).")
    return out


def scaling_section(rows: list[dict]) -> list[str]:
    lines = ["| extract_many | pages | wall s | pages/s | MB/s | CPU s (incl. workers) | peak RSS MB | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    base = None
    ratios = []
    for r in rows:
        name = (f"n_jobs={r.get('n_jobs', '?')}, {_env_desc(r.get('env', {}))}, "
                f"pages from a {r.get('feed', 'list')}")
        if "failed" in r:
            lines.append(f"| {name} | failed: {r['failed']} |" + " |" * 6)
            continue
        name += f", {r['pinned']}"
        rss = (f"{r['sampled_peak_rss_mb']:.0f} (sum, sampled)" if "sampled_peak_rss_mb" in r
               else f"{r['peak_rss_mb']:.0f}")
        lines.append(f"| {name} | {r['n']} | {r['wall_s']:.2f} | "
                     f"{r['pages_s']:.1f} | {r['mb_s']:.2f} | {r['cpu_s']:.2f} | {rss} | {r['errors']} |")
        if r["n_jobs"] == 1 and base is None:
            base = r
        elif base is not None:
            ratios.append(f"{r['pages_s'] / base['pages_s']:.2f}× with {_env_desc(r.get('env', {}))}, "
                          f"pages from a {r.get('feed', 'list')}")
    if ratios:
        lines.append("")
        lines.append("Throughput ratio n_jobs=2 / n_jobs=1: **" + "**, **".join(ratios) + "** "
                     "(ideal on 2 free cores: 2×; includes starting the pool).")
    return lines


def stream_section(r: dict) -> list[str]:
    if "failed" in r:
        return [f"Stream run failed: {r['failed']}"]
    samples = r["samples"]
    lines = ["| pages done | VmRSS MB |", "|---:|---:|"]
    lines += [f"| {k} | {mb:.1f} |" for k, mb in samples]
    n = r["n"]
    at20 = min((s for s in samples if s[0] >= 0.2 * n), key=lambda s: s[0], default=None)
    end = samples[-1]
    lines.append("")
    if at20 and end[0] > at20[0]:
        g = end[1] - at20[1]
        lines.append(f"Growth from the 20 % mark ({at20[0]} pages, {at20[1]:.1f} MB) to the end "
                     f"({end[0]} pages, {end[1]:.1f} MB): **{g:+.1f} MB** "
                     f"({100 * g / at20[1]:+.1f} %, {1024 * g / (end[0] - at20[0]):+.2f} KB/page). "
                     f"From the 20 % mark on, the samples range {min(m for k, m in samples if k >= at20[0]):.1f}"
                     f"–{max(m for k, m in samples if k >= at20[0]):.1f} MB (one sample per tenth is noisy: "
                     f"RSS moves with the batch in flight). "
                     f"Throughput {r['n'] / r['wall_s']:.1f} pages/s, peak RSS {r['peak_rss_mb']:.0f} MB, "
                     f"errors {r['errors']}.")
    return lines


def machine_info() -> list[str]:
    import importlib.metadata as md
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem = float("nan")
    vers = []
    for lib in LIBS:
        try:
            vers.append(f"{lib} {md.version(lib)}")
        except md.PackageNotFoundError:
            vers.append(f"{lib} (not installed)")
    out = [f"- nproc {os.cpu_count()}, CPU: {cpu}, memory {mem:.0f} GiB",
           f"- Python {platform.python_version()} ({platform.platform()})",
           "- " + ", ".join(vers)]
    blas = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_") or k == "OMP_NUM_THREADS"}
    if blas:
        out.append("- environment: " + ", ".join(f"{k}={v}" for k, v in sorted(blas.items())))
    return out


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _parse_names(arg: str) -> list[str]:
    if arg == "all":
        return list(SINGLE_RUNS)
    if arg == "none":
        return []
    names = [x.strip() for x in arg.split(",") if x.strip()]
    bad = [n for n in names if n not in SINGLE_RUNS]
    if bad:
        raise SystemExit(f"unknown extractor(s) {bad}; choose from {SINGLE_RUNS}")
    return [n for n in SINGLE_RUNS if n in names]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Speed and memory of boilerclf beside its peers.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="dragnet", help="a folder of the shared datasets (dragnet)")
    ap.add_argument("--datasets-dir", default=None, help="default: peers.DATASETS_DIR")
    ap.add_argument("--pages", type=int, default=300, help="first N page ids, sorted (300)")
    ap.add_argument("--warmup", type=int, default=20, help="untimed warm-up pages per run (20)")
    ap.add_argument("--model", default=None, help="boilerclf HTML model file (default: the shipped one)")
    ap.add_argument("--extractors", default="all",
                    help="comma list of single-process runs, 'all' or 'none' (%s)" % ",".join(SINGLE_RUNS))
    ap.add_argument("--scale-pages", type=int, default=1000,
                    help="pages for the n_jobs=1 vs 2 scaling run, 0 = skip (1000)")
    ap.add_argument("--stream", type=int, default=0, help="memory-flatness run over N pages (0 = skip)")
    ap.add_argument("--cpu", type=int, default=_default_cpu(),
                    help="core to pin single-process runs to; -1 = do not pin (default: last allowed core)")
    ap.add_argument("--page-timeout", type=float, default=30.0,
                    help="per-page limit in seconds, SIGALRM; 0 = none (30)")
    ap.add_argument("--timeout", type=float, default=1800.0,
                    help="limit for one run's subprocess in seconds (1800)")
    ap.add_argument("--write-md", default=None, help="also write the report to this markdown file")
    ap.add_argument("--json", default=None, help="also write the raw results as JSON")
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._child is not None:
        child_main(json.loads(args._child))
        return 0

    sys.path.insert(0, str(HERE))
    import peers

    def _term(signum, frame):  # kill the running child (run_child) and clean up on SIGTERM
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, _term)

    def log(msg: str) -> None:
        print(time.strftime("%H:%M:%S"), msg, file=sys.stderr, flush=True)

    runs = _parse_names(args.extractors)
    needs_model = any(r.startswith("boilerclf") for r in runs) or args.scale_pages or args.stream
    model_desc = "not used"
    if needs_model:
        from boilerclf.model.files import ModelError, load_model
        try:
            _, head = load_model(args.model)
        except ModelError as e:
            raise SystemExit(f"boilerclf model: {e}\n(pass --model PATH to a trained model file)")
        where = f"`{args.model}`" if args.model else "the shipped model"
        extra = [f"{k} {head[k]}" for k in ("trained", "schema_version", "sklearn_version")
                 if head.get(k) is not None]
        if head.get("train_sets"):
            extra.append("train sets " + ", ".join(head["train_sets"]))
        model_desc = where + (f" ({'; '.join(extra)})" if extra else "")

    ddir = Path(args.datasets_dir) if args.datasets_dir else peers.DATASETS_DIR
    ids, pages, _ = peers.load_dataset(args.dataset, ddir)
    ids = ids[: args.pages]
    raws = [pages[i] for i in ids]
    del pages
    if not raws:
        raise SystemExit(f"no pages in {ddir / args.dataset}")
    total_bytes = sum(map(len, raws))
    load_start = _loadavg()
    started = _dt.datetime.now().astimezone()
    log(f"{len(raws)} pages of {args.dataset}, {total_bytes / 2**20:.2f} MB raw; "
        f"load average {load_start}")

    results: dict = {"single": [], "scaling": [], "stream": None}
    with tempfile.TemporaryDirectory(prefix="boilerclf-speed-") as tmp:
        work = Path(tmp)
        pages_file = work / "pages.pkl"
        with open(pages_file, "wb") as f:
            pickle.dump(raws, f, protocol=pickle.HIGHEST_PROTOCOL)
        base = {"pages_file": str(pages_file), "warmup": args.warmup, "model": args.model,
                "page_timeout": args.page_timeout}

        for run in runs:
            log(f"single: {run}")
            cpu = None if run in UNPINNED_RUNS else args.cpu
            r = run_child({**base, "run": run, "mode": "single", "cpu": cpu}, work,
                          args.timeout, log)
            r = summarise(r, total_bytes)
            if "failed" not in r:
                log(f"  {r['pages_s']:.1f} pages/s, peak RSS {r['peak_rss_mb']:.0f} MB, "
                    f"errors {r['errors']}")
            results["single"].append(r)

        if args.scale_pages:
            scale_bytes = sum(len(raws[i % len(raws)]) for i in range(args.scale_pages))
            for nj, env, feed in SCALE_RUNS:
                log(f"scaling: extract_many n_jobs={nj} {_env_desc(env)}, pages from a {feed}, "
                    f"over {args.scale_pages} pages")
                spec = {**base, "run": "boilerclf_scale", "mode": "scale", "n_jobs": nj, "env": env,
                        "feed": feed, "scale_pages": args.scale_pages,
                        "cpu": args.cpu if nj == 1 else None}
                r = run_child(spec, work, args.timeout, log)
                r.setdefault("n_jobs", nj)
                r["env"], r["feed"] = env, feed
                r = summarise(r, scale_bytes)
                if "failed" not in r:
                    log(f"  {r['pages_s']:.1f} pages/s")
                results["scaling"].append(r)

        if args.stream:
            log(f"stream: {args.stream} pages through extract_many")
            r = run_child({**base, "run": "boilerclf_stream", "mode": "stream",
                           "stream": args.stream, "cpu": args.cpu}, work,
                          max(args.timeout, args.stream * 2.0), log)
            results["stream"] = r

    ended = _dt.datetime.now().astimezone()
    load_end = _loadavg()
    pinned = next((r["pinned"] for r in results["single"] if "pinned" in r),
                  _pin(None) if args.cpu is None or args.cpu < 0 else f"pinned to CPU {args.cpu}")
    cmd = "python benchmarks/speed.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None
                                                                           else sys.argv[1:]))
    md: list[str] = [
        "# boilerclf speed and memory",
        "",
        f"Command: `{cmd}`",
        "",
        f"Date: {started:%Y-%m-%d %H:%M %Z} (took {(ended - started).total_seconds() / 60:.1f} min)",
        "",
        "Machine:",
        *machine_info(),
        f"- load average (1, 5, 15 min) at start {load_start}, at end {load_end}",
        "",
        "**The machine may be shared with other work**, so the numbers are indicative: compare "
        "rows of one run rather than figures across runs or machines.",
        "",
        f"Data: `{args.dataset}`, the first {len(raws)} page ids (sorted), "
        f"{total_bytes / 2**20:.2f} MB of raw HTML ({total_bytes / len(raws) / 1024:.1f} KB/page mean). "
        f"Model: {model_desc}.",
        "",
        f"## Single process ({pinned}; each extractor in a fresh subprocess)",
        "",
        f"Warm-up {args.warmup} pages, then one timed pass over all {len(raws)} pages. MB/s counts raw "
        "input bytes. Peak RSS is the child's VmHWM and includes the interpreter and the "
        f"{total_bytes / 2**20:.1f} MB of pages held in memory (a child holding only the pages: "
        f"about {min((r['base_rss_mb'] for r in results['single'] if 'base_rss_mb' in r), default=float('nan')):.0f} MB). "
        "CPU s is the process's CPU time over the timed pass (all its threads); on a busy machine "
        "pages/CPU-s is steadier than pages/s. The parse floors time parsing "
        "only (decoding to `str` before timing, not counted; their children also hold the "
        "decoded texts, hence their RSS); their `errors` would be parser exceptions. Batch mode has no per-page latency (pages come out 64 at a time). "
        "Errors: the page raised (or passed the per-page limit) and counts with `''`; "
        "empty: output blank.",
        "",
        single_table(results["single"]),
        "",
        *floor_lines(results["single"]),
    ]
    errs = [r for r in results["single"] if r.get("error_samples")]
    if errs:
        md += ["", "Error samples:"]
        for r in errs:
            md.append(f"- {r['run']}: " + "; ".join(f"`{e}`" for e in r["error_samples"]))
    if results["scaling"]:
        md += ["", f"## Scaling: extract_many n_jobs=1 vs n_jobs=2 ({args.scale_pages} pages, "
               f"the {len(raws)} pages repeated)", "",
               "One `extract_many(batch_size=64)` call each. n_jobs=1 runs pinned to one core "
               "after a warm-up; n_jobs=2 runs unpinned (the machine has "
               f"{os.cpu_count()} cores), its time includes starting the pool and the workers' "
               "first batches, and its parent is not warmed up (with scikit-learn's tree "
               "predictor, OpenMP threads in a parent made the pool workers it forked hang; "
               "the compiled flat trees start no threads, the rule stays for models that "
               "fall back to scikit-learn). "
               "The last row sets OMP_NUM_THREADS=1 so each worker predicts on one thread. "
               "CPU s adds the workers' CPU time. Peak RSS for n_jobs=2 is the largest sampled "
               "sum over the parent and its workers (forked workers share pages, so the sum "
               "overstates).", "",
               *scaling_section(results["scaling"])]
    if results["stream"] is not None:
        md += ["", f"## Memory flatness: {args.stream} pages streamed through extract_many "
               f"(batch 64, n_jobs=1, the pages cycled)", "",
               *stream_section(results["stream"])]
    text = "\n".join(md) + "\n"
    print(text)
    if args.write_md:
        md_path = Path(args.write_md)
        # a hand-written "## Profile" section at the end (benchmarks/profile_batch.py
        # figures) survives regeneration
        old = md_path.read_text(encoding="utf-8") if md_path.exists() else ""
        keep = old[old.find("\n## Profile"):] if "\n## Profile" in old else ""
        md_path.write_text(text.rstrip("\n") + "\n" + keep, encoding="utf-8")
        log(f"wrote {args.write_md}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "ids": ids, **results},
                                              indent=1, default=str))
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
