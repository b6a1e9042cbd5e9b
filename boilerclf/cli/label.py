"""``boilerclf label``: a labels file pre-filled with the model's labels."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from boilerclf.cli.common import (
    FORMAT_HELP,
    GLOB_HELP,
    HTML_FIELD_HELP,
    ID_FIELD_HELP,
    KIND_HELP,
    PAGES_HELP,
    SITE_PROFILE_HELP,
    TEXT_MODEL_HELP,
    THRESHOLD_HELP,
    URL_FIELD_HELP,
    app,
    check_threshold,
    fail_usage,
    make_extractor,
    note_slow_path,
    plural,
)
from boilerclf.model.files import ModelError


@app.command(short_help="Pre-fill a labels file with the model's labels, for a person to correct.")
def label(
    paths: list[str] = typer.Argument(..., metavar="PATH", help=PAGES_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="The labels file to write: JSON lines, one page per line "
                             "with its lines and their labels."),
    model: Optional[Path] = typer.Option(None, help="HTML model whose labels pre-fill the file (default: the model "
                                         "shipped with boilerclf)."),
    text_model: Optional[Path] = typer.Option(None, help=TEXT_MODEL_HELP),
    threshold: Optional[str] = typer.Option(None, help=THRESHOLD_HELP),
    input_kind: str = typer.Option("auto", "--kind", "--input-kind", help=KIND_HELP),
    input_format: str = typer.Option("auto", "--input-format", help=FORMAT_HELP),
    glob: list[str] = typer.Option([], "--glob", help=GLOB_HELP),
    html_field: str = typer.Option("html", "--html-field", help=HTML_FIELD_HELP),
    id_field: str = typer.Option("id", "--id-field", help=ID_FIELD_HELP),
    url_field: str = typer.Option("url", "--url-field", help=URL_FIELD_HELP),
    append: bool = typer.Option(False, "--append", help="Add to an existing labels file: its pages are kept "
                                "as they are, pages with an id already in it are skipped."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing labels file."),
    suggest: int = typer.Option(0, "--suggest", metavar="N", help="Write only the N pages whose labels would "
                                "teach a site model most: the pages with the most words the model is unsure of, "
                                "from as many different page templates as there are (0: every page)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-page lines, no summary."),
    site_profile: Optional[Path] = typer.Option(None, "--site-profile", help=SITE_PROFILE_HELP),
) -> None:
    """Pre-fill a labels file with the model's labels, for a person to correct (boilerclf review).

    With --suggest N, every page is classified and only the N pages most
    worth labelling are written (listed on stderr, best first).

    Exit code 0 when every page was labelled, 1 when some failed (listed on
    stderr), 2 on bad usage or an unusable model.
    """
    from boilerclf import batch
    from boilerclf.labels import file as labelsfile
    from boilerclf.labels import prefill as labelling

    check_threshold(threshold)
    if suggest < 0:
        fail_usage(f"--suggest must be 0 (every page) or more, not {suggest}")
    opts = batch.Options(input_kind=input_kind, input_format=input_format, html_field=html_field,
                         id_field=id_field, url_field=url_field, globs=list(glob))
    try:
        labelling.check_inputs(paths, opts, out)
    except batch.UsageError as e:
        fail_usage(str(e))
    if append and force:
        fail_usage("--append and --force exclude each other")
    if out.is_dir():
        fail_usage(f"--out {out} is a directory; it names the labels file")
    old: list[dict] = []
    if out.exists():
        if not (append or force):
            fail_usage(f"{out} exists: --append to add pages to it, --force to overwrite it")
        if append:
            try:
                old = labelsfile.read_labels(out)
            except (labelsfile.LabelsError, OSError) as e:
                fail_usage(str(e))
    ex = make_extractor(model, text_model, threshold, site_profile)
    note_slow_path()
    say = None if quiet else (lambda msg: typer.echo(msg, err=True))
    try:
        report = labelling.label_pages(paths, ex, opts, skip_ids={r["id"] for r in old}, progress=say)
    except ModelError as e:
        fail_usage(str(e))
    for pid, reason in report.failed:
        typer.echo(f"failed: {pid}: {reason}", err=True)
    if suggest:
        from boilerclf.labels.suggest import suggest as suggest_pages

        picked = suggest_pages(report.records, suggest)
        n_tmpl = len({p.template for p in picked})
        typer.echo(f"suggested {plural(len(picked), 'page')} of {len(report.records)} to label "
                   f"({plural(n_tmpl, 'template')}), best first:", err=True)
        for p in picked:
            typer.echo(f"  {p.id}: {p.uncertainty:.0f} uncertain words ({100 * p.uncertain_share:.0f}% of its "
                       f"words), template {p.template + 1}", err=True)
        report.records = [report.records[p.index] for p in picked]
    labelsfile.write_labels(out, old + report.records)
    if not quiet:
        n_lines = sum(len(r["lines"]) for r in report.records)
        kept = sum(ln["label"] == 1 for r in report.records for ln in r["lines"])
        msg = (f"{plural(len(report.records), 'page')} labelled ({plural(n_lines, 'line')}, {kept} kept by the model), "
               f"{len(report.failed)} failed")
        if report.skipped:
            msg += f", {report.skipped} already in the file"
        typer.echo(f"{msg}; wrote {out} ({plural(len(old) + len(report.records), 'page')})", err=True)
    raise typer.Exit(1 if report.failed else 0)
