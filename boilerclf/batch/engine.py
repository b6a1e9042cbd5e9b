"""The run: pages read in input order, sent to the pool in batches, and their
outcomes written in input order, with the memory of the main process bounded."""
from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from boilerclf.batch.errors import OutputError, os_reason
from boilerclf.batch.inputs import Page, Reader, Stdin, list_inputs, split_name
from boilerclf.batch.options import Options, Summary, check, default_errors_path
from boilerclf.batch.pool import Pool
from boilerclf.batch.progress import Progress
from boilerclf.batch.writers import DirWriter, ErrorLog, FileWriter, StdoutWriter
from boilerclf.pipeline import Extractor

_EXT = {"txt": ".txt", "markdown": ".md", "html": ".html"}


def single_page(paths: list[str], opts: Options, stdin: Stdin | None) -> bool:
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
                self.writer = StdoutWriter(opts.format, headers=not single_page(paths, opts, stdin))
            elif opts.format == "jsonl":
                self.writer = FileWriter(opts.out, opts.resume)
            else:
                opts.out.mkdir(parents=True, exist_ok=True)
                self.writer = DirWriter(opts.out, _EXT[opts.format])
        except OSError as e:
            raise OutputError(f"cannot write --out {opts.out}: {os_reason(e)}", summ) from None
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
                raise OutputError(f"cannot write {self.writer.target(page)}: {os_reason(e)}") from None
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
                                  f"{os_reason(e)}") from None
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
                failure = OutputError(f"cannot write {self.writer.target(None)}: {os_reason(e)}")
        try:
            if failure is None:
                self.errlog.finish()
            else:
                self.errlog.abandon()
        except OSError as e:
            self.errlog.abandon()
            if failure is None:
                failure = OutputError(f"cannot write the errors file {self.errlog.path}: {os_reason(e)}")
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
    queued = 0  # bytes of the pages in ``queue``
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
                    queued += page_bytes(page)
            full = n_read - next_out >= limit or held >= MAX_HELD_BYTES
            for w in pool.idle():
                if pool.retry:
                    pool.submit(w, pool.retry.popleft())
                elif queue and (len(queue) >= opts.batch_size or exhausted or full
                                or queued >= MAX_BATCH_BYTES):
                    batch = take_batch(queue, opts.batch_size)
                    queued -= sum(map(page_bytes, batch))
                    pool.submit(w, batch)
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
