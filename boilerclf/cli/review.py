"""``boilerclf review``: the local page to review and correct labels."""
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
    TEXT_MODEL_HELP,
    THRESHOLD_HELP,
    URL_FIELD_HELP,
    app,
    check_threshold,
    fail_usage,
    note_slow_path,
    open_browser,
    plural,
)
from boilerclf.model.files import ModelError
from boilerclf.pipeline import (
    Extractor,
)


@app.command(short_help="Review and correct labels in a local web page.")
def review(
    paths: list[str] = typer.Argument(..., metavar="PATH", help="A labels file (from 'boilerclf label') to "
                                      "review and correct, or pages (as for label) to see the model's labels "
                                      "without saving anything."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on. Any other than 127.0.0.1 (this computer "
                             "only) lets anyone who can reach it read the pages and change the labels file."),
    port: int = typer.Option(0, help="Port to listen on (0: any free port)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the URL; do not open a browser."),
    read_only: bool = typer.Option(False, "--read-only", help="Show a labels file without saving anything."),
    model: Optional[Path] = typer.Option(None, help="HTML model for pages, and whose reasons are shown for "
                                         "a line (default: the model shipped with boilerclf)."),
    text_model: Optional[Path] = typer.Option(None, help=TEXT_MODEL_HELP),
    threshold: Optional[str] = typer.Option(None, help=THRESHOLD_HELP),
    input_kind: str = typer.Option("auto", "--kind", "--input-kind", help=KIND_HELP),
    input_format: str = typer.Option("auto", "--input-format", help=FORMAT_HELP),
    glob: list[str] = typer.Option([], "--glob", help=GLOB_HELP),
    html_field: str = typer.Option("html", "--html-field", help=HTML_FIELD_HELP),
    id_field: str = typer.Option("id", "--id-field", help=ID_FIELD_HELP),
    url_field: str = typer.Option("url", "--url-field", help=URL_FIELD_HELP),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every request on standard error."),
) -> None:
    """Review and label in a local web page: lines coloured by label with their scores.

    Click a line (or space/x on the selected one) to flip it, shift-click for
    a range, j/k to move, n/p for pages; "why" (or w) shows the inputs that
    moved a line's score most, u jumps to the next uncertain line; the labels
    file is saved atomically.
    Stop with Ctrl-C.
    """
    from boilerclf import batch
    from boilerclf.labels import file as labelsfile
    from boilerclf.labels import prefill as labelling
    from boilerclf.labels.review import Review, ReviewServer, is_labels_file

    if len(paths) > 1 and any(map(is_labels_file, paths)):
        fail_usage("review one labels file at a time (or only pages)")
    def model_for(kind: str):  # the model whose reasons the page shows
        from boilerclf.model.files import load_model

        return load_model(model if kind == "html" else text_model, kind)[0]

    if len(paths) == 1 and is_labels_file(paths[0]):
        try:
            rev = Review.open(paths[0], readonly=read_only, model_for=model_for)
        except (labelsfile.LabelsError, OSError) as e:
            fail_usage(str(e))
    else:
        check_threshold(threshold)
        note_slow_path()
        opts = batch.Options(input_kind=input_kind, input_format=input_format, html_field=html_field,
                             id_field=id_field, url_field=url_field, globs=list(glob))
        try:
            labelling.check_inputs(paths, opts)
            report = labelling.label_pages(paths, Extractor(model=model, text_model=text_model,
                                                            threshold=threshold), opts)
        except (batch.UsageError, ModelError) as e:
            fail_usage(str(e))
        for pid, reason in report.failed:
            typer.echo(f"failed: {pid}: {reason}", err=True)
        if not report.records:
            typer.echo("no page to show", err=True)
            raise typer.Exit(1)
        rev = Review(report.records, model_for=model_for)
    try:
        server = ReviewServer(rev, host, port, verbose=verbose)
    except OSError as e:
        fail_usage(f"cannot listen on {host}:{port}: {e}")
    mode = "read-only" if rev.readonly else f"saving to {rev.path}"
    typer.echo(f"boilerclf review: {plural(len(rev.records), 'page')}, {mode}; open {server.url}  (Ctrl-C stops)", err=True)
    if server.allowed_hosts is None:
        typer.echo(f"warning: listening on {host}: anyone who can reach it can read the pages"
                   + ("" if rev.readonly else " and change the file"), err=True)
    old_term = None
    if threading.current_thread() is threading.main_thread():  # a kill stops the server in its loop
        old_term = signal.signal(signal.SIGTERM, lambda signum, frame: server.stop_soon())
    try:
        if not no_browser:
            open_browser(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    typer.echo("stopped", err=True)
