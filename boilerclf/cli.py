"""The ``boilerclf`` command line: clean, label, review, eval, train, profile."""
from __future__ import annotations

import json
import os
import signal
import threading
import warnings
from pathlib import Path
from typing import Optional

import typer

from boilerclf.metrics import snippet_accuracy
from boilerclf.model.files import ModelError
from boilerclf.parse import html as html_mod
from boilerclf.pipeline import (
    MAX_BYTES,
    MAX_NODES,
    PRESETS,
    Extractor,
    resolve_threshold,
)

# Plain help: rich markup would eat bracketed words such as boilerclf[dask], and rich
# help shows a type placeholder after every flag.
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Learned boilerplate removal for web pages: keep the main text of a page, "
                  "drop the menus, footers, ads and other boilerplate around it.")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("boilerclf")
        except PackageNotFoundError:  # running from a source tree that is not installed
            from boilerclf import __version__ as v
        typer.echo(f"boilerclf {v}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version of boilerclf and exit."),
) -> None:
    pass


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _n(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "s")


TRUSTED_HELP = ("Also accept model files in the old pickle (joblib) format. Loading one runs code stored "
                "in the file: use it only for files whose origin you trust, and convert them once with "
                "'boilerclf convert-model'.")
THRESHOLD_HELP = ("Which lines to keep: a number from 0 to 1 (the lines the model scores at or above it), "
                  "auto (a threshold chosen for each page from its own scores), or a preset: precision "
                  "(keeps less), balanced (the same as auto) or recall (keeps more). Default: the model's own "
                  "(auto for the shipped HTML model).")
KIND_HELP = "What the pages are: html, text (plain text, e.g. already extracted) or auto (decided for each page)."
FORMAT_HELP = ("How to read the inputs: auto (by file name: *.jsonl[.gz] and *.warc[.gz] are crawls, other "
               "files one page each; standard input is sniffed), page (one page per file), jsonl (one JSON "
               "object per line) or warc (a web archive).")
GLOB_HELP = ("In directories, read only the files matching this pattern (repeatable; e.g. '*.html.gz', "
             "'news/**/*.html').")
HTML_FIELD_HELP = "JSONL input: the field that holds the page."
ID_FIELD_HELP = "JSONL input: the field that holds the page id (default: the line number)."
URL_FIELD_HELP = "JSONL input: the field that holds the page URL."
SITE_PROFILE_HELP = ("A site profile made by 'boilerclf profile': the lines that repeat across the site's pages "
                     "(menus, footers) get lower scores.")
MODEL_HELP = "HTML model file (default: the model shipped with boilerclf)."
TEXT_MODEL_HELP = "Plain-text model file (default: the model shipped with boilerclf)."
PAGES_HELP = ("Pages: files, directories (read recursively), *.jsonl[.gz] and *.warc[.gz] crawls, or - for "
              "standard input (as for clean).")


def _fail_usage(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def _check_threshold(threshold: Optional[str]) -> None:
    """A --threshold that is no number from 0 to 1, auto or preset is a usage error (exit 2)."""
    if threshold is None:
        return
    try:
        resolve_threshold(threshold, 0.5)
    except ValueError:
        _fail_usage(f"--threshold must be a number from 0 to 1, auto, auto:<recall weight> or one of "
                    f"{', '.join(PRESETS)}; not {threshold!r}")


def _note_slow_path() -> None:
    """One line on stderr when HTML pages will take the slow Python walker (the
    library's SlowPathWarning, shown here once instead of by every worker)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", html_mod.SlowPathWarning)
        html_mod.warn_slow_path()
    for w in caught:
        typer.echo(f"warning: {w.message}", err=True)


def _extractor(model, text_model, threshold, site_profile, **limits) -> Extractor:
    """An Extractor for a command; a bad site profile is a usage error (exit 2)."""
    from boilerclf.decide.profile import ProfileError

    try:
        return Extractor(model=model, text_model=text_model, threshold=threshold, site_profile=site_profile,
                         **limits)
    except ProfileError as e:
        _fail_usage(str(e))


@app.command(short_help="Extract the main text of pages: files, directories, crawls.")
def clean(
    paths: list[str] = typer.Argument(..., metavar="PATH", help="Files, directories (read recursively), or - "
                                      "for standard input. *.jsonl[.gz] (one JSON object per line) and *.warc[.gz] "
                                      "(web archives) are read as crawls of many pages, other files as one page each."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write: a directory for txt and markdown "
                                       "(one file per page, mirroring the input paths and ids), a file for jsonl. "
                                       "Default: standard output."),
    fmt: str = typer.Option("txt", "--format", "-f", help="txt, markdown (headings and list items kept) or jsonl "
                            "(one JSON object per page: id, url, source, title, text, counts)."),
    lines: bool = typer.Option(False, "--lines", help="jsonl: add every line of the page with its label and score."),
    input_kind: str = typer.Option("auto", "--input-kind", "--kind", help=KIND_HELP),
    input_format: str = typer.Option("auto", "--input-format", help=FORMAT_HELP),
    glob: list[str] = typer.Option([], "--glob", help=GLOB_HELP),
    html_field: str = typer.Option("html", "--html-field", help=HTML_FIELD_HELP),
    id_field: str = typer.Option("id", "--id-field", help=ID_FIELD_HELP),
    url_field: str = typer.Option("url", "--url-field", help=URL_FIELD_HELP),
    jobs: int = typer.Option(_cpus(), "--jobs", "-j", help="Worker processes (each loads the model once; "
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
) -> None:
    """Clean pages in batch: the main text of every page, in input order.

    Exit code 0 when every page was cleaned, 1 when some failed (listed in the
    errors file), 2 on bad usage, an unusable model or an output that cannot be
    written (full disk, permission denied; the pages written before are complete).
    """
    from boilerclf import batch

    _check_threshold(threshold)
    opts = batch.Options(
        format=fmt, out=out, errors=errors, jobs=jobs, batch_size=batch_size, timeout=timeout,
        resume=resume, lines=lines, quiet=quiet, input_kind=input_kind, input_format=input_format,
        html_field=html_field, id_field=id_field, url_field=url_field, globs=list(glob))
    try:
        ex = _extractor(model, text_model, threshold, site_profile, max_bytes=max_bytes, max_nodes=max_nodes,
                        trusted=trusted_model, comments=comments)
    except ValueError as e:
        _fail_usage(str(e).replace("max_bytes", "--max-bytes").replace("max_nodes", "--max-nodes"))
    _note_slow_path()
    old_term = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _interrupt)  # a kill cleans up like Ctrl-C
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
            _silence_stdout()
        if not quiet and e.summary is not None and e.summary.pages_in:
            typer.echo(e.summary.line(), err=True)
        _fail_usage(str(e))
    except (batch.UsageError, batch.FatalError, ModelError) as e:
        _fail_usage(str(e))
    except KeyboardInterrupt:  # before the run started
        typer.echo("interrupted", err=True)
        raise typer.Exit(130)
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    if not quiet or summary.interrupted:
        typer.echo(summary.line(), err=True)
    raise typer.Exit(130 if summary.interrupted else summary.exit_code)


def _open_browser(url: str) -> None:
    """Open ``url`` in the desktop's browser; never a console browser on a display-less box."""
    import sys
    import webbrowser

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        typer.echo("no display: open the URL in a browser yourself", err=True)
        return
    if not webbrowser.open(url):
        typer.echo("could not start a browser: open the URL yourself", err=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _silence_stdout() -> None:
    """Point standard output at /dev/null: it failed (full disk, closed pipe), and the
    interpreter's final flush would fail again with a traceback-like message."""
    import sys

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (e.g. a test runner)
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except OSError:
        pass


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
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No per-page lines, no summary."),
    site_profile: Optional[Path] = typer.Option(None, "--site-profile", help=SITE_PROFILE_HELP),
) -> None:
    """Pre-fill a labels file with the model's labels, for a person to correct (boilerclf review).

    Exit code 0 when every page was labelled, 1 when some failed (listed on
    stderr), 2 on bad usage or an unusable model.
    """
    from boilerclf import batch
    from boilerclf.labels import file as labelsfile
    from boilerclf.labels import prefill as labelling

    _check_threshold(threshold)
    opts = batch.Options(input_kind=input_kind, input_format=input_format, html_field=html_field,
                         id_field=id_field, url_field=url_field, globs=list(glob))
    try:
        labelling.check_inputs(paths, opts, out)
    except batch.UsageError as e:
        _fail_usage(str(e))
    if append and force:
        _fail_usage("--append and --force exclude each other")
    if out.is_dir():
        _fail_usage(f"--out {out} is a directory; it names the labels file")
    old: list[dict] = []
    if out.exists():
        if not (append or force):
            _fail_usage(f"{out} exists: --append to add pages to it, --force to overwrite it")
        if append:
            try:
                old = labelsfile.read_labels(out)
            except (labelsfile.LabelsError, OSError) as e:
                _fail_usage(str(e))
    ex = _extractor(model, text_model, threshold, site_profile)
    _note_slow_path()
    say = None if quiet else (lambda msg: typer.echo(msg, err=True))
    try:
        report = labelling.label_pages(paths, ex, opts, skip_ids={r["id"] for r in old}, progress=say)
    except ModelError as e:
        _fail_usage(str(e))
    for pid, reason in report.failed:
        typer.echo(f"failed: {pid}: {reason}", err=True)
    labelsfile.write_labels(out, old + report.records)
    if not quiet:
        n_lines = sum(len(r["lines"]) for r in report.records)
        kept = sum(ln["label"] == 1 for r in report.records for ln in r["lines"])
        msg = (f"{_n(len(report.records), 'page')} labelled ({_n(n_lines, 'line')}, {kept} kept by the model), "
               f"{len(report.failed)} failed")
        if report.skipped:
            msg += f", {report.skipped} already in the file"
        typer.echo(f"{msg}; wrote {out} ({_n(len(old) + len(report.records), 'page')})", err=True)
    raise typer.Exit(1 if report.failed else 0)


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
    model: Optional[Path] = typer.Option(None, help="HTML model for pages (default: the model shipped with "
                                         "boilerclf)."),
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
    a range, j/k to move, n/p for pages; the labels file is saved atomically.
    Stop with Ctrl-C.
    """
    from boilerclf import batch
    from boilerclf.labels import file as labelsfile
    from boilerclf.labels import prefill as labelling
    from boilerclf.labels.review import Review, ReviewServer, is_labels_file

    if len(paths) > 1 and any(map(is_labels_file, paths)):
        _fail_usage("review one labels file at a time (or only pages)")
    if len(paths) == 1 and is_labels_file(paths[0]):
        try:
            rev = Review.open(paths[0], readonly=read_only)
        except (labelsfile.LabelsError, OSError) as e:
            _fail_usage(str(e))
    else:
        _check_threshold(threshold)
        _note_slow_path()
        opts = batch.Options(input_kind=input_kind, input_format=input_format, html_field=html_field,
                             id_field=id_field, url_field=url_field, globs=list(glob))
        try:
            labelling.check_inputs(paths, opts)
            report = labelling.label_pages(paths, Extractor(model=model, text_model=text_model,
                                                            threshold=threshold), opts)
        except (batch.UsageError, ModelError) as e:
            _fail_usage(str(e))
        for pid, reason in report.failed:
            typer.echo(f"failed: {pid}: {reason}", err=True)
        if not report.records:
            typer.echo("no page to show", err=True)
            raise typer.Exit(1)
        rev = Review(report.records)
    try:
        server = ReviewServer(rev, host, port, verbose=verbose)
    except OSError as e:
        _fail_usage(f"cannot listen on {host}:{port}: {e}")
    mode = "read-only" if rev.readonly else f"saving to {rev.path}"
    typer.echo(f"boilerclf review: {_n(len(rev.records), 'page')}, {mode}; open {server.url}  (Ctrl-C stops)", err=True)
    if server.allowed_hosts is None:
        typer.echo(f"warning: listening on {host}: anyone who can reach it can read the pages"
                   + ("" if rev.readonly else " and change the file"), err=True)
    old_term = None
    if threading.current_thread() is threading.main_thread():  # a kill stops the server in its loop
        old_term = signal.signal(signal.SIGTERM, lambda signum, frame: server.stop_soon())
    try:
        if not no_browser:
            _open_browser(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    typer.echo("stopped", err=True)


@app.command("eval", short_help="Score the model on pages with known main texts.")
def eval_cmd(
    dataset_dir: Path = typer.Argument(..., metavar="DATASET_DIR", help="A folder of pages with known main texts: "
                                       "html/ID.html.gz for each page, and ground-truth.json ({ID: {\"articleBody\": "
                                       "main text}}) or snippets.json ({ID: {\"with\": [texts the output must "
                                       "contain], \"without\": [texts it must not]}})."),
    model: Optional[Path] = typer.Option(None, help=MODEL_HELP),
    threshold: Optional[str] = typer.Option(None, help=THRESHOLD_HELP),
    pred_out: Optional[Path] = typer.Option(None, "--pred-out", help="Also write the extracted texts, as JSON: "
                                            "{ID: {\"articleBody\": text}}."),
    site_profile: Optional[Path] = typer.Option(None, "--site-profile", help=SITE_PROFILE_HELP),
    trusted_model: bool = typer.Option(False, "--trusted-model", help=TRUSTED_HELP),
    comments: bool = typer.Option(False, "--comments", help="Let the model judge readers' comment sections (for "
                                  "main texts that include the comments)."),
) -> None:
    """Score the model on a folder of pages with known main texts.

    Prints precision, recall and F1 of the extracted words against the known
    main texts (compared as overlapping 4-word sequences, each page weighing
    the same), or, with snippets.json, the share of snippets found (or not
    found) as they should be.
    """
    from boilerclf_training import datasets

    from boilerclf import metrics
    from boilerclf.model.files import load_model

    _check_threshold(threshold)
    ex = _extractor(model, None, threshold, site_profile, trusted=trusted_model, comments=comments)
    _note_slow_path()
    try:
        ex.model_for("html")
        head = load_model(model, "html", trusted=trusted_model)[1]  # cached: the file is read once
    except ModelError as e:
        _fail_usage(str(e))
    if dataset_dir.name in (head.get("train_sets") or []):
        typer.echo(f"note: the model was trained on {dataset_dir.name}'s pages, so this is not a score "
                   "on unseen pages (the model card has the leave-one-dataset-out scores)", err=True)
    ids = datasets.page_ids(dataset_dir)
    pred = dict(zip(ids, ex.extract_many((datasets.read_html(dataset_dir, i) for i in ids), kind="html")))
    if pred_out:
        pred_out.write_text(json.dumps({k: {"articleBody": v} for k, v in pred.items()}))
    snip = dataset_dir / "snippets.json"
    if not (dataset_dir / "ground-truth.json").exists() and snip.exists():
        m = snippet_accuracy(json.loads(snip.read_text()), pred)
        typer.echo(f"snippet accuracy {m['snippet_accuracy']:.3f} ({m['n_snippets']} snippets)")
        return
    gold = {k: (v.get("articleBody") or "") for k, v in datasets.load_gold(dataset_dir).items()}
    m = metrics.evaluate(gold, pred)
    typer.echo(f"{dataset_dir.name}: precision {m['precision']:.3f}  recall {m['recall']:.3f}  "
               f"F1 {m['f1']:.3f}  ({m['n_pages']} pages)")


@app.command(short_help="Train the models, or adapt a model to a new site.")
def train(
    datasets_root: Optional[Path] = typer.Argument(None, metavar="DATASETS_ROOT", help="Full training: a folder "
                                                   "of dataset folders, each as for 'boilerclf eval'. Not with "
                                                   "--base/--add."),
    out: Optional[Path] = typer.Option(None, help="Full training: the folder to write the model files and the "
                                       "model card (MODEL_CARD.md) to (default: models). With --add: the site "
                                       "model file to write, e.g. site.npz."),
    base: Optional[Path] = typer.Option(None, help="Site retraining: the model file to adapt (default: the HTML "
                                        "model shipped with boilerclf)."),
    add: list[Path] = typer.Option([], "--add", help="Site retraining: a labels file of the new site's pages, "
                                   "made with 'boilerclf label' and corrected with 'boilerclf review' "
                                   "(repeatable)."),
    unreviewed: bool = typer.Option(False, "--unreviewed", help="With --add: also learn from the pages not "
                                    "marked as reviewed."),
    folds: int = typer.Option(5, help="With --add: the F1 before and after is measured by cross-validation: the "
                              "labelled pages are split into this many groups, each scored by a model adapted "
                              "on the others."),
    prior_pages: float = typer.Option(1.0, help="With --add: how many labelled pages the base model's opinion "
                                      "is worth (0: learn from the labelled pages alone)."),
    site_profile: Optional[Path] = typer.Option(None, "--site-profile", help="With --add: also report the "
                                                "cross-validated F1 with this site profile (from 'boilerclf "
                                                "profile') applied."),
    cache: Path = typer.Option(Path(".cache/lines"), help="Folder for the parsed pages and features, reused by "
                               "later runs."),
    sets: Optional[str] = typer.Option(None, help="Comma-separated names of the dataset folders to train on "
                                       "(default: every folder with a ground-truth.json)."),
    snippet_sets: Optional[str] = typer.Option(
        None, "--snippet-sets", help="Comma-separated dataset folders labelled only by snippets (a snippets.json "
        "of texts each page's output must or must not contain) whose snippet lines also train the HTML model "
        "(default: every such folder; 'none' for none)."),
    snippet_weight: Optional[float] = typer.Option(None, help="Weight in training of a line labelled by a "
                                                   "snippet (default 20: a snippet-labelled page then weighs "
                                                   "about as much as a page with a full main text)."),
    pseudo_peer: str = typer.Option("trafilatura", "--pseudo-peer", help="Another extractor whose output labels "
                                    "the other lines of the snippet-labelled folders: read from --peers-cache, or "
                                    "trafilatura run here when it is installed (pip install trafilatura); 'none' "
                                    "for none."),
    pseudo_weight: Optional[float] = typer.Option(None, help="Weight in training of a line labelled by "
                                                  "--pseudo-peer (default 1, as a line of a page with a full "
                                                  "main text)."),
    lodo: bool = typer.Option(True, "--lodo/--no-lodo", help="Score the models leave-one-dataset-out: for each "
                              "dataset folder, a model trained without it is scored on it (the model card's "
                              "scores on unseen sites). --no-lodo skips this (faster)."),
    peers_cache: Optional[Path] = typer.Option(None, help="Folder of other extractors' outputs: "
                                               "EXTRACTOR/DATASET.json, each {ID: {\"articleBody\": text}}."),
    max_lines: int = typer.Option(0, help="Subsample pages down to about this many training lines (0: all)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Processes for parsing pages."),
    text_threshold: Optional[float] = typer.Option(
        0.6, help="Threshold shipped with the plain-text model, from 0 to 1 (default 0.6: the lowest that drops "
        "the bylines, author bios and comment forms of four example plain-text news pages; the model card "
        "lists the leave-one-dataset-out scores at every threshold). A negative value ships the threshold of "
        "best leave-one-dataset-out F1, averaged over the dataset folders, instead."),
    card_notes: Optional[Path] = typer.Option(None, "--card-notes", help="A Markdown file appended to the model "
                                              "card (MODEL_CARD.md)."),
) -> None:
    """Train the HTML and plain-text models, or adapt a model to a new site.

    Full training (DATASETS_ROOT): train on folders of pages with known main
    texts, score the models leave-one-dataset-out (each folder scored by a
    model trained without it), and write the model files and the model card
    (MODEL_CARD.md, which reports those scores) to --out.

    Site retraining (--add, optionally --base): adapt a model to a new site
    from a few labelled pages; prints the F1 before and after, by
    cross-validation over the labelled pages, and writes a model file that
    loads anywhere a model loads (--model, boilerclf.load_model).
    """
    if base is not None or add:
        from boilerclf.labels.file import LabelsError
        from boilerclf.retrain.site import train_site

        if datasets_root is not None:
            _fail_usage("give either DATASETS_ROOT (full training) or --base/--add (site retraining), not both")
        if not add:
            _fail_usage("--base needs --add LABELS.jsonl (the new site's labelled pages)")
        if out is None or out.is_dir():
            _fail_usage("with --base/--add, --out names the site model file to write, e.g. --out site.npz")
        if folds < 2:
            _fail_usage("--folds must be at least 2")
        _note_slow_path()
        for p in add:
            if not p.is_file():
                _fail_usage(f"labels file not found: {p}")
        from boilerclf.decide.profile import SiteProfile

        try:
            prof = SiteProfile.load(site_profile) if site_profile is not None else None
            train_site(base, add, out, unreviewed=unreviewed, folds=folds, prior_pages=prior_pages,
                       profile=prof, log=lambda s: typer.echo(s, err=True))
        except (ModelError, LabelsError, ValueError, OSError) as e:
            _fail_usage(str(e))
        return
    if datasets_root is None:
        _fail_usage("give DATASETS_ROOT (full training) or --base/--add (site retraining)")
    if text_threshold is not None and not text_threshold <= 1:  # also NaN; negative: the best one
        _fail_usage(f"--text-threshold must be a number from 0 to 1 (or negative), not {text_threshold}")
    if card_notes is not None and not card_notes.is_file():
        _fail_usage(f"--card-notes: file not found: {card_notes}")  # before, not after, a long training
    from boilerclf_training import card, datasets
    from boilerclf_training import train as tr

    _note_slow_path()
    out = out or Path("models")
    names = None if snippet_sets is None else [
        n for n in (x.strip() for x in snippet_sets.split(",")) if n and n.lower() != "none"]
    try:  # before, not after, a long training
        names = datasets.resolve_snippet_sets(datasets_root, names)
    except ValueError as e:
        _fail_usage(f"--snippet-sets: {e}")
    peer = None if pseudo_peer.strip().lower() in ("", "none") else pseudo_peer.strip()
    why = tr.peer_output_missing(names, peers_cache, peer) if peer else None
    if why:  # before, not after, a long training
        _fail_usage(f"--pseudo-peer {peer}: {why}; or --pseudo-peer none")
    report = tr.run(datasets_root, out, cache_dir=cache,
                    train_sets=sets.split(",") if sets else None, lodo=lodo,
                    snippet_sets=names, pseudo_peer=peer,
                    **({} if snippet_weight is None else {"snippet_weight": snippet_weight}),
                    **({} if pseudo_weight is None else {"pseudo_weight": pseudo_weight}),
                    peers_cache=peers_cache, max_lines=max_lines, n_jobs=jobs,
                    thresholds={"text": text_threshold} if text_threshold is not None and text_threshold >= 0
                    else None, log=lambda s: typer.echo(s, err=True))
    if card_notes is not None:
        report["extra_md"] = card_notes.read_text(encoding="utf-8")
    card.write(out, report)
    typer.echo(f"wrote {out}/MODEL_CARD.md")


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
        _fail_usage("--min-share must be in (0, 1]")
    opts = batch.Options(input_kind=input_kind, input_format=input_format, html_field=html_field,
                         globs=list(glob))
    try:
        labelling.check_inputs(paths, opts, out)
    except batch.UsageError as e:
        _fail_usage(str(e))
    ex = Extractor()
    _note_slow_path()
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
        _fail_usage(f"a site profile needs at least 2 pages of the site ({len(texts)} read)")
    prof = SiteProfile.from_pages(texts, min_share=min_share)
    prof.save(out)
    if not quiet:
        damped = sum(int((prof.share(t) >= min_share).sum()) for t in texts)
        total = sum(len(t) for t in texts)
        typer.echo(f"{len(texts)} pages, {len(prof.counts)} line texts on 2+ pages; "
                   f"{damped} of {total} lines ({damped / max(total, 1):.0%}) on >= {min_share:.0%} of "
                   f"the pages; wrote {out}", err=True)
    raise typer.Exit(1 if failed else 0)


@app.command("convert-model", short_help="Rewrite an old pickle model file in the safe format.")
def convert_model(
    src: Path = typer.Argument(..., metavar="SRC", help="A model file in the old pickle (joblib) format."),
    dst: Path = typer.Argument(..., metavar="DST", help="Where to write it in the safe format (e.g. model.npz)."),
    trusted_model: bool = typer.Option(False, "--trusted-model", help="Required: confirms you trust SRC (reading "
                                       "it runs code stored in it)."),
) -> None:
    """Rewrite a model file from the old pickle format in the safe format (same scores).

    The safe format is arrays and JSON: loading it never runs code from the file.
    """
    from boilerclf.model.files import convert

    if not trusted_model:
        _fail_usage(f"reading {src} runs code stored in it: pass --trusted-model if you trust its origin")
    if dst.exists() and dst.resolve() == src.resolve():
        _fail_usage("DST must differ from SRC")
    try:
        head = convert(src, dst)
    except ModelError as e:
        _fail_usage(str(e))
    typer.echo(f"wrote {dst} ({head.get('kind')} model, feature schema {head.get('schema_version')})")


if __name__ == "__main__":  # pragma: no cover
    app()
