"""The ``boilerclf`` command line: clean, eval, train."""
from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Optional

import typer

from .extract import Extractor, resolve_threshold
from .model import ModelError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Learned boilerplate removal for web pages.")


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


TRUSTED_HELP = ("Also accept legacy joblib/pickle model files. Reading one runs code stored in "
                "it: use only for files whose origin you trust (and convert them with convert-model).")


def _fail_usage(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


@app.command()
def clean(
    paths: list[str] = typer.Argument(..., help="Files or directories (walked recursively), or - for stdin. "
                                      "*.jsonl[.gz] and *.warc[.gz] are read as crawls, other files as one page each."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output directory (txt, markdown: one file per page, "
                                       "mirroring the input paths and ids) or file (jsonl). Default: stdout."),
    fmt: str = typer.Option("txt", "--format", "-f", help="txt, markdown (headings and list items kept) or jsonl "
                            "(id, url, source, title, text, counts)."),
    lines: bool = typer.Option(False, "--lines", help="jsonl: add every line with its label and score."),
    input_kind: str = typer.Option("auto", "--input-kind", "--kind",
                                   help="Pages are html, text (already-extracted plain text) or auto (detect per page)."),
    input_format: str = typer.Option("auto", "--input-format",
                                     help="auto (by file name; stdin sniffed), page, jsonl or warc."),
    glob: list[str] = typer.Option([], "--glob", help="Only files matching this pattern in directories "
                                   "(repeatable; e.g. '*.html.gz', 'news/**/*.html')."),
    html_field: str = typer.Option("html", "--html-field", help="JSONL field with the page."),
    id_field: str = typer.Option("id", "--id-field", help="JSONL field with the page id (default: line number)."),
    url_field: str = typer.Option("url", "--url-field", help="JSONL field with the page URL."),
    jobs: int = typer.Option(_cpus(), "--jobs", "-j", help="Worker processes (each loads the model once)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Pages per model call."),
    timeout: float = typer.Option(60.0, "--timeout", help="Per-page time limit in seconds (0: none); a page over "
                                  "it fails with 'timeout' and its worker is replaced."),
    resume: bool = typer.Option(False, "--resume", help="Skip pages whose output already exists."),
    errors: Optional[Path] = typer.Option(None, "--errors", help="Errors file, JSONL (default: OUT/errors.jsonl, "
                                          "OUT-STEM.errors.jsonl for a jsonl --out, ./errors.jsonl for stdout)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no summary."),
    model: Optional[Path] = typer.Option(None, help="HTML model file (default: shipped)."),
    text_model: Optional[Path] = typer.Option(None, help="Plain-text model file (default: shipped)."),
    threshold: Optional[str] = typer.Option(None, help="Score threshold or precision|balanced|recall."),
    trusted_model: bool = typer.Option(False, "--trusted-model", help=TRUSTED_HELP),
) -> None:
    """Clean pages in batch: the main text of every page, in input order.

    Exit code 0 when every page was cleaned, 1 when some failed (listed in the
    errors file), 2 on bad usage or an unusable model.
    """
    from . import batch

    try:
        resolve_threshold(threshold, 0.5)
    except ValueError as e:
        _fail_usage(str(e))
    opts = batch.Options(
        format=fmt, out=out, errors=errors, jobs=jobs, batch_size=batch_size, timeout=timeout,
        resume=resume, lines=lines, quiet=quiet, input_kind=input_kind, input_format=input_format,
        html_field=html_field, id_field=id_field, url_field=url_field, globs=list(glob))
    ex = Extractor(model=model, text_model=text_model, threshold=threshold, trusted=trusted_model)
    old_term = None
    if threading.current_thread() is threading.main_thread():
        old_term = signal.signal(signal.SIGTERM, _interrupt)  # a kill cleans up like Ctrl-C
    try:
        summary = batch.run(paths, ex, opts)
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


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def snippet_accuracy(snippets: dict, pred: dict[str, str]) -> dict:
    """trafilatura_eval's metric: "with" snippets must be in the output, "without" must not."""
    good = total = 0
    for pid, sn in snippets.items():
        text = pred.get(pid, "")
        for s in sn.get("with") or []:
            total += 1
            good += s in text
        for s in sn.get("without") or []:
            total += 1
            good += s not in text
    return {"snippet_accuracy": good / total if total else float("nan"), "n_snippets": total}


@app.command("eval")
def eval_cmd(
    dataset_dir: Path = typer.Argument(..., help="A dataset folder: html/<id>.html.gz + ground-truth.json."),
    model: Optional[Path] = typer.Option(None, help="HTML model file (default: shipped)."),
    threshold: Optional[str] = typer.Option(None, help="Score threshold or precision|balanced|recall."),
    pred_out: Optional[Path] = typer.Option(None, "--pred-out", help="Write predictions JSON (score.py format)."),
    trusted_model: bool = typer.Option(False, "--trusted-model", help=TRUSTED_HELP),
) -> None:
    """Precision / recall / F1 (the benchmark's shingle metric) on a dataset folder."""
    from boilerclf_training import datasets

    from . import metrics

    ex = Extractor(model=model, threshold=threshold, trusted=trusted_model)
    try:
        ex._get("html")
    except ModelError as e:
        _fail_usage(str(e))
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


@app.command()
def train(
    datasets_root: Path = typer.Argument(..., help="Folder of dataset folders, e.g. ../shared/datasets."),
    out: Path = typer.Option(Path("models"), help="Where to write the models and MODEL_CARD.md."),
    cache: Path = typer.Option(Path(".cache/lines"), help="Cache of parsed pages and features."),
    sets: Optional[str] = typer.Option(None, help="Comma-separated training sets (default: all with gold)."),
    lodo: bool = typer.Option(True, help="Run leave-one-dataset-out evaluation."),
    peers_cache: Optional[Path] = typer.Option(None, help="Cache of peer predictions (<peer>/<set>.json)."),
    max_lines: int = typer.Option(0, help="Subsample pages to about this many training lines (0: all)."),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Processes for parsing."),
) -> None:
    """Train the HTML and text models, evaluate them LODO, write models/ and the card."""
    from boilerclf_training import card, train as tr

    report = tr.run(datasets_root, out, cache_dir=cache,
                    train_sets=sets.split(",") if sets else None, lodo=lodo,
                    peers_cache=peers_cache, max_lines=max_lines, n_jobs=jobs,
                    log=lambda s: typer.echo(s, err=True))
    card.write(out, report)
    typer.echo(f"wrote {out}/MODEL_CARD.md")


@app.command("convert-model")
def convert_model(
    src: Path = typer.Argument(..., help="A legacy joblib/pickle model file."),
    dst: Path = typer.Argument(..., help="Where to write it as arrays + JSON (e.g. model.npz)."),
    trusted_model: bool = typer.Option(False, "--trusted-model", help="Required: confirms you trust SRC, "
                                       "which runs code while it is read."),
) -> None:
    """Rewrite a legacy (pickled) model file in the safe format (same header, same scores)."""
    from .model import convert

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
