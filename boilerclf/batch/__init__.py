"""Batch cleaning: the engine of ``boilerclf clean``.

The same pipeline as :class:`~boilerclf.pipeline.Extractor`, fed by crawl files
and spread over worker processes::

    sources  ->  Page records  ->  workers (lines -> features -> model)  ->  writers
    (files, dirs, JSONL[.gz],      (id, url, data,      one model call per batch    (txt, markdown,
     WARC[.gz], stdin)              kind, charset)       of pages, output rendered   html, jsonl;
                                                         in the worker)              atomic)

* **Sources** turn every input into :class:`Page` records.  A page that cannot
  even be read (a truncated gzip, a corrupt WARC record, a JSONL line that is
  not JSON) becomes a record with ``error`` set, so it is reported in input
  order like any other failure; the rest of the file is still read.
* **Workers** are processes that load the model once, split each page of a
  batch into lines, classify the whole batch in one model call
  (:meth:`Extractor.classify_lines`) and render the output.  They report each
  stage to the main process, which enforces the per-page time limit by killing
  and replacing a worker that overruns (no signals, no threads in the worker).
* The **main process** reads pages, keeps a bounded number of them in flight,
  and writes results strictly in input order, so ``--jobs 2`` output is
  byte-identical to ``--jobs 1``.

One module a job: :mod:`.inputs` (sources), :mod:`.pool` (workers),
:mod:`.render` (output formats), :mod:`.writers` (files and errors file),
:mod:`.engine` (the run), :mod:`.options` (options, counts and checks),
:mod:`.errors`, :mod:`.progress`, and :mod:`.cluster` (the same run on a
Dask cluster, with the ``dask`` extra).

Everything written is atomic: one page's file goes to a temporary name and is
renamed; a single JSONL output grows as ``OUT.tmp`` and is renamed at the end.
"""
from boilerclf.batch.engine import run
from boilerclf.batch.errors import FatalError, OutputError, UsageError
from boilerclf.batch.inputs import (
    InputFile,
    Page,
    Reader,
    list_inputs,
    safe_name,
    split_name,
)
from boilerclf.batch.options import (
    FORMATS,
    INPUT_FORMATS,
    INPUT_KINDS,
    Options,
    Summary,
    check,
)
from boilerclf.batch.pool import process_pages

__all__ = [
    "FORMATS", "INPUT_FORMATS", "INPUT_KINDS", "FatalError", "InputFile", "Options", "OutputError",
    "Page", "Reader", "Summary", "UsageError", "check", "list_inputs", "process_pages", "run",
    "safe_name", "split_name",
]
