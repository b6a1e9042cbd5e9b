"""``boilerclf clean``: the main text of pages, files, directories and crawls, in batch."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Optional

import typer

from boilerclf.cli.common import (
    FORMAT_HELP,
    GLOB_HELP,
    HTML_FIELD_HELP,
    ID_FIELD_HELP,
    KIND_HELP,
    MODEL_HELP,
    SITE_PROFILE_HELP,
    TEXT_MODEL_HELP,
    THRESHOLD_HELP,
    TRUSTED_HELP,
    URL_FIELD_HELP,
    app,
    check_threshold,
    cpus,
    fail_usage,
    interrupt,
    make_extractor,
    note_slow_path,
    silence_stdout,
)
from boilerclf.model.files import ModelError
from boilerclf.pipeline import (
    MAX_BYTES,
    MAX_NODES,
)


@app.command(short_help="Extract the main text of pages: files, directories, crawls.")
def clean(
    paths: list[str] = typer.Argument(..., metavar="PATH", help="Files, directories (read recursively), or - "
                                      "for standard input. *.jsonl[.gz] (one JSON object per line) and *.warc[.gz] "
                                      "(web archives) are read as crawls of many pages, other files as one page each."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write: a directory for txt, markdown and html "
                                       "(one file per page, mirroring the input paths and ids), a file for jsonl. "
                                       "Default: standard output."),
    fmt: str = typer.Option("txt", "--format", "-f", help="txt; markdown (headings, paragraphs, lists, tables, code "
                            "blocks, quotes); html (the same blocks as clean HTML: no scripts, no attributes but "
                            "href, src and alt); or jsonl (one JSON object per page: id, url, source, title, text, "
                            "counts)."),
    links: bool = typer.Option(False, "--links", help="markdown and html: keep links, as [text](url) and <a href> "
                               "(only http, https, mailto, ftp and tel addresses; by default a link's text only)."),
    images: bool = typer.Option(False, "--images", help="markdown and html: keep the images of kept blocks, as "
                                "![alt](src) and <img src alt>."),
    lines: bool = typer.Option(False, "--lines", help="jsonl: add every line of the page with its label and score."),
    input_kind: str = typer.Option("auto", "--input-kind", "--kind", help=KIND_HELP),
    input_format: str = typer.Option("auto", "--input-format", help=FORMAT_HELP),
    glob: list[str] = typer.Option([], "--glob", help=GLOB_HELP),
    html_field: str = typer.Option("html", "--html-field", help=HTML_FIELD_HELP),
    id_field: str = typer.Option("id", "--id-field", help=ID_FIELD_HELP),
    url_field: str = typer.Option("url", "--url-field", help=URL_FIELD_HELP),
    jobs: int = typer.Option(cpus(), "--jobs", "-j", help="Worker processes (each loads the model once; "
                             "default: the CPUs this process may use)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Pages per model call."),
    timeout: float = typer.Option(60.0, "--timeout", help="Time limit per page in seconds (0: none); a page over "
                                  "it fails with 'timeout' and its worker process is replaced."),
    resume: bool = typer.Option(False, "--resume", help="Skip the pages whose output already exists (to go on "
                                "with an interrupted run)."),
    errors: Optional[Path] = typer.Option(None, "--errors", help="Where to list the pages that failed, as JSON "
                                          "lines (default: OUT/errors.jsonl, OUT-STEM.errors.jsonl for a jsonl "
                                          "--out; with output to standard output, no file: each failed "
                                          "page is printed on standard error)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no summary."),
    model: Optional[Path] = typer.Option(None, help=MODEL_HELP),
    text_model: Optional[Path] = typer.Option(None, help=TEXT_MODEL_HELP),
    threshold: Optional[str] = typer.Option(None, help=THRESHOLD_HELP),
    dask: Optional[str] = typer.Option(None, "--dask", metavar="SCHEDULER",
                                       help="Run on a Dask cluster: a scheduler address (tcp://host:8786), "
                                       "a scheduler file (.json), or local[:N] for N local worker processes "
                                       "(default: --jobs). The workers read the inputs themselves (no standard "
                                       "input). Needs the dask extra: pip install 'boilerclf[dask]'."),
    site_profile: Optional[Path] = typer.Option(None, "--site-profile", help=SITE_PROFILE_HELP),
    max_bytes: int = typer.Option(MAX_BYTES, "--max-bytes", help="Bytes read per page (after gzip "
                                  "decompression); the rest of a longer page is ignored and the page "
                                  "counted as truncated."),
    max_nodes: int = typer.Option(MAX_NODES, "--max-nodes", help="Elements and text pieces (DOM nodes) read per "
                                  "HTML page; the rest of a larger page is ignored and the page counted as "
                                  "truncated."),
    trusted_model: bool = typer.Option(False, "--trusted-model", help=TRUSTED_HELP),
    comments: bool = typer.Option(False, "--comments", help="Let the model judge readers' comment sections (by "
                                  "default they are dropped: they are not part of an article's main text)."),
    include_title: bool = typer.Option(False, "--include-title", help="Keep each HTML page's headline in its "
                                       "main text, in its place (by default the body comes without it)."),
) -> None:
    """Clean pages in batch: the main text of every page, in input order.

    Exit code 0 when every page was cleaned, 1 when some failed (listed in the
    errors file), 2 on bad usage, an unusable model or an output that cannot be
    written (full disk, permission denied; the pages written before are complete).
    """
    from boilerclf import batch

    check_threshold(threshold)
    opts = batch.Options(
        format=fmt, out=out, errors=errors, jobs=jobs, batch_size=batch_size, timeout=timeout,
        resume=resume, lines=lines, quiet=quiet, input_kind=input_kind, input_format=input_format,
        html_field=html_field, id_field=id_field, url_field=url_field, globs=list(glob))
    try:
        ex = make_extractor(model, text_model, threshold, site_profile, max_bytes=max_bytes, max_nodes=max_nodes,
                        trusted=trusted_model, comments=comments, include_title=include_title,
                            links=links, images=images)
    except ValueError as e:
        fail_usage(str(e).replace("max_bytes", "--max-bytes").replace("max_nodes", "--max-nodes"))
    note_slow_path()
    old_term = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, interrupt)  # a kill cleans up like Ctrl-C
    try:
        if dask is None:
            summary = batch.run(paths, ex, opts)
        else:
            try:
                from boilerclf.batch import cluster
            except ImportError as e:
                raise batch.UsageError(str(e)) from None
            summary = cluster.run(paths, ex, opts, dask)
    except batch.OutputError as e:
        if out is None:
            silence_stdout()
        if not quiet and e.summary is not None and e.summary.pages_in:
            typer.echo(e.summary.line(), err=True)
        fail_usage(str(e))
    except (batch.UsageError, batch.FatalError, ModelError) as e:
        fail_usage(str(e))
    except KeyboardInterrupt:  # before the run started
        typer.echo("interrupted", err=True)
        raise typer.Exit(130)
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    if not quiet or summary.interrupted:
        typer.echo(summary.line(), err=True)
    raise typer.Exit(130 if summary.interrupted else summary.exit_code)
