"""Cleaning on a Dask cluster (the ``boilerclf[dask]`` extra).

The same pipeline as :mod:`boilerclf.batch`, with Dask (``dask.distributed``)
as the engine that spreads the work over machines, retries the tasks of a
worker that died and starts replacements:

* :func:`clean_bag` cleans a dask bag of pages (str/bytes, or dict records
  with an HTML field) into a bag of JSON-ready records;
* :func:`clean_dataframe` adds a text column (and, on request, per-page counts
  and an error column) to a dask dataframe with an HTML column;
* :func:`clean_files` turns WARC / JSONL files into cleaned JSONL files, one
  output per input, each written atomically by the worker that cleaned it;
* :func:`run` is ``boilerclf clean --dask``: the batch of ``boilerclf clean``
  with the same outputs, errors file and exit codes.

Models never travel with the tasks: a task carries the :class:`Extractor`'s
settings (model paths, threshold: a few hundred bytes), and each worker process
loads the model once into a per-process cache keyed by those settings
(:func:`worker_extractor`).  :class:`ModelPlugin` fills that cache when a
worker starts, so a model that does not load fails the run before any page
is read.  Model paths must exist on the workers (the shipped models do
wherever boilerclf is installed; put others on a shared file system).  So must
the input paths of :func:`clean_files` and :func:`run`: workers read the
files themselves and only cleaned text comes back.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import dask.bag  # noqa: F401 - the extra's check
    from distributed import Client, WorkerPlugin
except ImportError as e:  # pragma: no cover - depends on the install
    raise ImportError("boilerclf.dask_clean needs the dask extra: pip install 'boilerclf[dask]'") from e

from boilerclf.batch.engine import Output
from boilerclf.batch.errors import FatalError, UsageError, reason
from boilerclf.batch.inputs import InputFile, Page, Reader, list_inputs, split_name
from boilerclf.batch.options import Options, Summary, check
from boilerclf.batch.pool import page_task, process_pages
from boilerclf.batch.progress import Progress
from boilerclf.batch.writers import FileWriter
from boilerclf.pipeline import Extractor
from boilerclf.processes import prepare_worker

__all__ = ["clean_bag", "clean_dataframe", "clean_files", "FileReport", "ModelPlugin",
           "worker_extractor", "connect", "run"]

#: Single-page files cleaned by one task (crawl files are one task each).
PAGES_PER_TASK = 64

# ----------------------------------------------------------------- one model per worker process

_lock = threading.Lock()
_extractors: dict[tuple, Extractor] = {}


def _key(ex: Extractor) -> tuple:
    return (None if ex.model is None else str(ex.model),
            None if ex.text_model is None else str(ex.text_model),
            None if ex.threshold is None else str(ex.threshold), ex.max_bytes, ex.max_nodes,
            getattr(ex, "max_depth", None), getattr(ex, "max_attrs", None),
            _profile_key(getattr(ex, "site_profile", None)), bool(getattr(ex, "trusted", False)),
            bool(getattr(ex, "xref_rule", True)), bool(getattr(ex, "comments", False)),
            bool(getattr(ex, "include_title", False)), bool(getattr(ex, "page_types", True)))


def _profile_key(profile) -> str | None:
    """A digest of a site profile, so extractors that differ only by it do not share a cache slot."""
    if profile is None:
        return None
    body = json.dumps([profile.n_pages, profile.min_share, sorted(profile.counts.items())])
    return hashlib.sha1(body.encode()).hexdigest()


def worker_extractor(ex: Extractor, kinds: tuple[str, ...] = ()) -> Extractor:
    """This process's loaded copy of ``ex`` (same settings), with the models of ``kinds`` loaded.

    The copy is made and loaded once per process and shared by its threads;
    the ``ex`` a task carries holds only settings.
    """
    key = _key(ex)
    with _lock:
        got = _extractors.get(key)
        if got is None:
            got = copy.copy(ex)
            _extractors[key] = got
        if kinds:  # under the lock: threads of a worker load a model once
            prepare_worker(got, kinds)
    return got


def _forget(ex: Extractor) -> None:
    with _lock:
        _extractors.pop(_key(ex), None)


def _absolute(ex: Extractor) -> Extractor:
    """``ex`` with absolute model paths: workers do not share the client's working directory."""
    ex = copy.copy(ex)
    for attr in ("model", "text_model"):
        if getattr(ex, attr) is not None:
            setattr(ex, attr, Path(getattr(ex, attr)).absolute())
    return ex


class ModelPlugin(WorkerPlugin):
    """Loads an extractor's models on every worker, including workers that join later.

    ``client.register_plugin(ModelPlugin(ex))`` raises the loading error of the
    first worker that fails (e.g. :class:`~boilerclf.ModelError`).
    """

    def __init__(self, ex: Extractor, kinds: tuple[str, ...] = ("html", "text")):
        self.ex = ex
        self.kinds = kinds
        self.name = "boilerclf-model-" + hashlib.sha1(repr((_key(ex), kinds)).encode()).hexdigest()[:12]

    def setup(self, worker: Any) -> None:
        worker_extractor(self.ex, self.kinds)

    def teardown(self, worker: Any) -> None:
        _forget(self.ex)


# ----------------------------------------------------------------- the tasks

def _clean_unit(ex: Extractor, ropts: Options, inputs: list[InputFile],
                skip: dict | None = None) -> tuple[list[tuple[Page, tuple | None]], int]:
    """Read and clean ``inputs`` on a worker: ``([(page without data, outcome), ...], other_records)``.

    The outcome is None for a page that could not be read (``page.error``) or
    already in the output: ``skip`` maps ``(source, id)`` to the number of
    records of that key written before, and the first that many pages of the
    key are skipped (as :meth:`boilerclf.batch.writers.FileWriter.done` decides); the
    caller decides about those.
    """
    wex = worker_extractor(ex)
    reader = Reader(ropts, wex.max_bytes)
    out: list[tuple[Page, tuple | None]] = []
    todo: list[Page] = []

    def flush() -> None:
        res = {r[0]: r for r in process_pages(wex, [page_task(p) for p in todo],
                                                    ropts.format, ropts.lines)}
        for p in todo:
            out[p.seq] = (p, res[p.seq])
            p.data = None
        todo.clear()

    met: dict = {}
    for inp in inputs:
        for page in reader.file_pages(inp):
            page.seq = len(out)
            out.append((page, None))
            if page.error is None and not _already_done(page, skip, met):
                todo.append(page)
                if len(todo) >= ropts.batch_size:
                    flush()
            else:
                page.data = None
    if todo:
        flush()
    return out, reader.other_records


def _already_done(page: Page, skip: dict | None, met: dict) -> bool:
    """Whether ``page`` is among the first ``skip[(source, id)]`` pages of its key."""
    if not skip:
        return False
    key = (page.source, page.id)
    n = met.get(key, 0)
    met[key] = n + 1
    return n < skip.get(key, 0)


def _reader_options(opts: Options) -> Options:
    return dataclasses.replace(opts, out=None, errors=None, globs=[], resume=False)


def _units(inputs: Iterator[InputFile], opts: Options) -> Iterator[list[InputFile]]:
    """Tasks: each crawl file (JSONL, WARC) alone, single-page files in groups."""
    group: list[InputFile] = []
    for inp in inputs:
        fmt = split_name(inp.rel)[1] if opts.input_format == "auto" else opts.input_format
        if fmt != "page":
            if group:
                yield group
                group = []
            yield [inp]
        else:
            group.append(inp)
            if len(group) >= PAGES_PER_TASK:
                yield group
                group = []
    if group:
        yield group


def _for_worker(inp: InputFile) -> InputFile:
    return dataclasses.replace(inp, path=inp.path.absolute()) if inp.path is not None else inp


# ----------------------------------------------------------------- bags and dataframes

def _records(items: list, ex: Extractor, kind: str | None, html_field: str, id_field: str,
             url_field: str, lines: bool, batch_size: int = 64) -> list[dict]:
    """Clean one partition of pages into records (see :func:`clean_bag`)."""
    out: list[dict | None] = [None] * len(items)
    tasks: list[tuple] = []
    for i, item in enumerate(items):
        rid = url = None
        if isinstance(item, dict):
            data, rid, url = item.get(html_field), item.get(id_field), item.get(url_field)
        else:
            data = item
        if isinstance(data, (str, bytes)):
            tasks.append((i, data, kind, None, (rid, url, None), False, False))
        else:
            what = "missing" if data is None else f"a {type(data).__name__}, not str or bytes"
            out[i] = {"id": rid, "url": url, "title": None, "text": None, "counts": None,
                      "error": {"stage": "read", "reason": f"page {what}"}}
    if tasks:
        wex = worker_extractor(ex)
        for k in range(0, len(tasks), batch_size):
            chunk = tasks[k:k + batch_size]
            for res in process_pages(wex, chunk, "record", lines):
                i = res[0]
                if res[1] == "ok":
                    rec = res[2]
                    del rec["source"]
                    rec["error"] = None
                else:
                    src = items[i] if isinstance(items[i], dict) else {}
                    rec = {"id": src.get(id_field), "url": src.get(url_field), "title": None,
                           "text": None, "counts": None, "error": {"stage": res[2], "reason": res[3]}}
                out[i] = rec
    return out  # type: ignore[return-value]


def clean_bag(pages: dask.bag.Bag, extractor: Extractor | None = None, *, kind: str | None = None,
              html_field: str = "html", id_field: str = "id", url_field: str = "url",
              lines: bool = False) -> dask.bag.Bag:
    """Clean a bag of pages; one record per page, in the same partitions and order.

    An element is a page (str or bytes) or a dict record holding the page in
    ``html_field`` (and an id and URL).  A record is ``{"id", "url", "title",
    "text", "counts": {"lines", "kept", "chars"}, "error"}`` (plus ``"lines"``,
    every line with its label and score, with ``lines=True``); for a page that
    could not be cleaned ``text`` is None and ``error`` is ``{"stage", "reason"}``.
    ``kind`` is "html", "text" or None (detected per page).
    """
    ex = _absolute(extractor or Extractor())
    return pages.map_partitions(_records, ex, kind, html_field, id_field, url_field, lines)


def _frame(part, ex: Extractor, html_column: str, kind: str | None, text_column: str,
           counts: bool, error_column: str | None):
    import pandas as pd

    pages = [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v
             for v in part[html_column].tolist()]  # missing values read as missing
    recs = _records(pages, ex, kind, "", "", "", False) if pages else []
    cols = {text_column: pd.Series([r["text"] for r in recs], index=part.index, dtype="string")}
    if counts:
        for name in ("lines", "kept", "chars"):
            cols[name] = pd.Series([r["counts"][name] if r["counts"] else None for r in recs],
                                   index=part.index, dtype="Int64")
    if error_column is not None:
        cols[error_column] = pd.Series(
            [f"{r['error']['stage']}: {r['error']['reason']}" if r["error"] else None for r in recs],
            index=part.index, dtype="string")
    return part.assign(**cols)


def clean_dataframe(df, html_column: str = "html", extractor: Extractor | None = None, *,
                    kind: str | None = None, text_column: str = "text", counts: bool = False,
                    error_column: str | None = None):
    """``df`` (a dask dataframe) with the main text of each page of ``html_column`` added.

    Adds ``text_column`` (string; missing for a page that could not be cleaned
    or is not a string), and with ``counts=True`` the columns ``lines``,
    ``kept`` and ``chars`` (Int64), and with ``error_column`` a column holding
    ``"stage: reason"`` for the pages that failed.
    """
    ex = _absolute(extractor or Extractor())
    args = (ex, html_column, kind, text_column, counts, error_column)
    return df.map_partitions(_frame, *args, meta=_frame(df._meta, *args))


# ----------------------------------------------------------------- files to files

@dataclass
class FileReport:
    """What :func:`clean_files` did with one input file."""

    input: str
    output: Path
    errors: Path | None = None  # the errors file, when some page failed
    pages: int = 0
    cleaned: int = 0
    empty: int = 0
    failed: int = 0
    other_records: int = 0
    skipped: bool = False  # the output was already there (``resume``)
    error: str | None = None  # the whole file failed (e.g. its worker kept dying)


def _clean_file(ex: Extractor, ropts: Options, inp: InputFile, out: Path, errors: Path) -> FileReport:
    """A task of :func:`clean_files`: one input to one JSONL output, written on the worker."""
    pages, other = _clean_unit(ex, ropts, [inp])
    summ = Summary()
    opts = dataclasses.replace(ropts, format="jsonl", out=out, errors=errors)
    output = Output([str(inp.path)], opts, summ, None, lambda msg: None)
    output.errlog.remove_stale = True  # this run's errors file, or none
    ok = False
    try:
        for page, res in pages:
            output.put(page, output.admit(page) or res)
        ok = True
    finally:
        output.finish(ok)
    return FileReport(inp.label, out, errors if summ.failed else None, summ.pages_in, summ.cleaned,
                      summ.empty, summ.failed, other)


def _output_names(inputs: list[InputFile], out_dir: Path) -> list[tuple[Path, Path]]:
    used: set[str] = set()
    names = []
    for inp in inputs:
        stem = split_name(inp.rel)[0].rsplit("/", 1)[-1]
        name, n = stem, 1
        while name in used:
            n += 1
            name = f"{stem}~{n}"
        used.add(name)
        names.append((out_dir / f"{name}.jsonl", out_dir / f"{name}.errors.jsonl"))
    return names


def clean_files(paths: list[str | Path], out_dir: str | Path, extractor: Extractor | None = None, *,
                client: Client | None = None, resume: bool = False, lines: bool = False,
                html_field: str = "html", id_field: str = "id", url_field: str = "url",
                input_kind: str = "auto", batch_size: int = 16) -> list[FileReport]:
    """Clean WARC / JSONL files (plain or gzipped) on a cluster: one JSONL output per input.

    ``out_dir/STEM.jsonl`` holds the records of ``boilerclf clean --format jsonl``
    for the input ``STEM.warc.gz`` (``STEM~2`` if two inputs share a stem), and
    ``out_dir/STEM.errors.jsonl`` the pages that failed, if any.  Each output is
    written by the worker that cleaned the file, as ``.tmp`` then renamed, so
    an output that exists is complete; with ``resume`` those inputs are skipped.
    A worker that dies has its file re-run by Dask; a file whose task fails
    for good gets a :class:`FileReport` with ``error`` set, and the others go on.
    Reports come back in input order.  ``client`` defaults to the current one.
    The model is loaded on every worker first (:class:`ModelPlugin`): a model
    that does not load raises before any file is read.
    """
    from distributed import as_completed, get_client

    client = client or get_client()
    out_dir = Path(out_dir)
    inputs = [InputFile(Path(p).absolute(), str(p), Path(p).name) for p in paths]
    for inp in inputs:
        if split_name(inp.rel)[1] == "page":
            raise UsageError(f"{inp.label}: clean_files takes WARC or JSONL files (.warc[.gz], .jsonl[.gz])")
    ropts = Options(format="jsonl", lines=lines, batch_size=batch_size, input_kind=input_kind,
                    html_field=html_field, id_field=id_field, url_field=url_field)
    ex = _absolute(extractor or Extractor())
    plugin = ModelPlugin(ex, ("html", "text") if input_kind == "auto" else (input_kind,))
    try:
        client.register_plugin(plugin, name=plugin.name)  # a model that does not load raises here
    except BaseException:
        _unregister(client, plugin)
        raise
    reports: list[FileReport | None] = [None] * len(inputs)
    futures = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for i, (inp, (out, errors)) in enumerate(zip(inputs, _output_names(inputs, out_dir))):
            if resume and out.is_file():
                reports[i] = FileReport(inp.label, out, errors if errors.is_file() else None, skipped=True)
            else:
                futures[client.submit(_clean_file, ex, ropts, inp, out, errors, pure=False)] = (i, inp, out)
        for fut in as_completed(futures):
            i, inp, out = futures[fut]
            try:
                reports[i] = fut.result()
            except Exception as e:  # noqa: BLE001 - one file's failure is reported, the rest go on
                reports[i] = FileReport(inp.label, out, error=reason(e))
            fut.release()
    finally:
        for fut in futures:
            fut.cancel()
        _unregister(client, plugin)
    return reports  # type: ignore[return-value]


# ----------------------------------------------------------------- boilerclf clean --dask

def connect(address: str, jobs: int = 1) -> tuple[Client, Any]:
    """A client for ``address``: ``local`` / ``local:N`` (a LocalCluster of N worker processes,
    default ``jobs``), a scheduler file (JSON), or a scheduler address.  Returns ``(client, cluster)``
    with ``cluster`` None unless it was started here."""
    if address == "local" or address.startswith("local:"):
        n = address[6:]
        if n and (not n.isdigit() or int(n) < 1):
            raise UsageError(f"--dask {address}: local:N needs a number of workers N >= 1")
        from distributed import LocalCluster

        cluster = LocalCluster(n_workers=int(n) if n else jobs, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)
        return Client(cluster), cluster
    try:
        if address.endswith(".json") and Path(address).is_file():
            return Client(scheduler_file=address, timeout=30), None
        return Client(address, timeout=30), None
    except (OSError, TimeoutError, ValueError) as e:
        raise FatalError(f"cannot reach the Dask scheduler at {address}: {e}") from None


def run(paths: list[str], ex: Extractor, opts: Options, scheduler: str | Client, *,
        log: Callable[[str], None] | None = None) -> Summary:
    """``boilerclf clean --dask SCHEDULER``: :func:`boilerclf.batch.run` on a cluster.

    Workers read the input files (so they must see the same paths) and clean
    them, a crawl file or a group of single-page files per task; this process
    writes the results in input order through the same writers, so outputs,
    errors file and exit code are those of a local run.  Differences: stdin
    cannot be read (refused), ``--timeout`` is not enforced per page, and a
    task that fails for good (its worker died ``distributed.scheduler.allowed-failures``
    times) is reported as one error for each of its input files.  ``scheduler``
    is an address for :func:`connect` or a :class:`~distributed.Client`.
    """
    check(paths, opts)
    if "-" in paths:
        raise UsageError("--dask cannot read stdin (workers read the input files): give files")
    t0 = time.monotonic()
    summ = Summary()
    ex = _absolute(ex)
    kinds = ("html", "text") if opts.kind is None else (opts.kind,)
    if isinstance(scheduler, str):
        client, cluster = connect(scheduler, opts.jobs)
    else:
        client, cluster = scheduler, None
    plugin = ModelPlugin(ex, kinds)
    try:
        try:
            client.register_plugin(plugin, name=plugin.name)
        except Exception as e:  # noqa: BLE001 - the model does not load on a worker
            _unregister(client, plugin)
            raise FatalError(f"the model does not load on the workers: {reason(e)}") from None
        summ.startup = time.monotonic() - t0
        _clean_on(client, paths, ex, opts, summ, log)
    finally:
        _unregister(client, plugin)
        if isinstance(scheduler, str):
            client.close()
        if cluster is not None:
            cluster.close()
        summ.seconds = time.monotonic() - t0
    return summ


def _unregister(client: Client, plugin: ModelPlugin) -> None:
    try:
        client.unregister_worker_plugin(plugin.name)
    except Exception:  # noqa: BLE001 - not registered, or the cluster is gone
        pass


def _clean_on(client: Client, paths: list[str], ex: Extractor, opts: Options, summ: Summary,
              log: Callable[[str], None] | None) -> None:
    prog = Progress(not opts.quiet and sys.stderr.isatty())
    say = log or (prog.log if not opts.quiet else (lambda msg: None))
    output = Output(paths, opts, summ, None, say)
    ropts = _reader_options(opts)
    seen = output.writer.seen if isinstance(output.writer, FileWriter) and opts.resume else None
    units = _units(list_inputs(paths, opts.globs), opts)
    inflight: deque = deque()
    n = 0
    ok = False
    try:
        while True:
            # tasks in flight: twice the cluster's threads (it may grow), results held by the
            # workers until this process writes them in input order
            window = max(4, 2 * sum(client.nthreads().values()))
            for unit in itertools.islice(units, max(0, window - len(inflight))):
                labels = {inp.label for inp in unit}
                skip = {k: v for k, v in seen.items() if k[0] in labels} if seen else None
                unit = [_for_worker(inp) for inp in unit]
                inflight.append((unit, client.submit(_clean_unit, ex, ropts, unit, skip, pure=False)))
            if not inflight:
                break
            unit, fut = inflight.popleft()
            try:
                pages, other = fut.result()
            except Exception as e:  # noqa: BLE001 - e.g. KilledWorker: report its files, go on
                why = f"task failed on the cluster: {reason(e)}"
                pages = [(Page(inp.rel, inp.label, split_name(inp.rel)[0]), (0, "error", "worker", why))
                         for inp in unit]
                other = 0
            fut.release()
            summ.other_records += other
            for page, res in pages:
                page.seq = n
                n += 1
                got = output.admit(page)
                if got is None and res is None:  # cannot happen: the worker skipped what is not done
                    got = (page.seq, "error", "worker", "page was not cleaned")
                output.put(page, got or res)
            prog.update(n, summ.failed)
        ok = True
    except KeyboardInterrupt:
        summ.interrupted = True
    finally:
        prog.stop()
        for _, fut in inflight:
            fut.cancel()
        output.finish(ok)
