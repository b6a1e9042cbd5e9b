"""``boilerclf profile``: the lines that repeat across a site's pages."""
from __future__ import annotations

from pathlib import Path

import typer

from boilerclf.cli.common import (
    FORMAT_HELP,
    GLOB_HELP,
    HTML_FIELD_HELP,
    KIND_HELP,
    app,
    fail_usage,
    note_slow_path,
)
from boilerclf.pipeline import (
    Extractor,
)


@app.command(short_help="Learn the lines that repeat across a site's pages.")
def profile(
    paths: list[str] = typer.Argument(..., metavar="PATH", help="Pages of ONE site (no labels needed): files, "
                                      "directories, *.jsonl[.gz] and *.warc[.gz] crawls, or - for standard input "
                                      "(as for clean)."),
    out: Path = typer.Option(..., "--out", "-o", help="The site profile to write (JSON)."),
    min_share: float = typer.Option(0.5, help="Lines found on at least this share of the pages (above 0, up to "
                                    "1) get lower scores."),
    input_kind: str = typer.Option("auto", "--kind", "--input-kind", help=KIND_HELP),
    input_format: str = typer.Option("auto", "--input-format", help=FORMAT_HELP),
    glob: list[str] = typer.Option([], "--glob", help=GLOB_HELP),
    html_field: str = typer.Option("html", "--html-field", help=HTML_FIELD_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary."),
) -> None:
    """Learn the lines that repeat across a site's pages (menus, footers, lists of related articles).

    Use the profile with --site-profile on clean, eval and label (or
    site_profile= in the Python API): the lines found on at least --min-share
    of the site's pages get lower scores, so they are dropped more often.
    """
    from boilerclf import batch
    from boilerclf.decide.profile import SiteProfile
    from boilerclf.labels import prefill as labelling

    if not 0 < min_share <= 1:
        fail_usage("--min-share must be in (0, 1]")
    opts = batch.Options(input_kind=input_kind, input_format=input_format, html_field=html_field,
                         globs=list(glob))
    try:
        labelling.check_inputs(paths, opts, out)
    except batch.UsageError as e:
        fail_usage(str(e))
    ex = Extractor()
    note_slow_path()
    texts, failed = [], 0
    for page in batch.Reader(opts, max_bytes=ex.max_bytes).pages(batch.list_inputs(paths, opts.globs)):
        try:
            if page.error:
                raise ValueError(page.error)
            texts.append(ex.lines(labelling.page_source(page, ex.max_bytes), page.kind).texts)
        except Exception as e:  # noqa: BLE001 - a bad page is reported, the rest still count
            failed += 1
            typer.echo(f"failed: {page.id}: {batch.errors.reason(e)}", err=True)
    if len(texts) < 2:
        fail_usage(f"a site profile needs at least 2 pages of the site ({len(texts)} read)")
    prof = SiteProfile.from_pages(texts, min_share=min_share)
    prof.save(out)
    if not quiet:
        damped = sum(int((prof.share(t) >= min_share).sum()) for t in texts)
        total = sum(len(t) for t in texts)
        typer.echo(f"{len(texts)} pages, {len(prof.counts)} line texts on 2+ pages; "
                   f"{damped} of {total} lines ({damped / max(total, 1):.0%}) on >= {min_share:.0%} of "
                   f"the pages; wrote {out}", err=True)
    raise typer.Exit(1 if failed else 0)
