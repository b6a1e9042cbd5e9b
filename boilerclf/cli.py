"""The ``boilerclf`` command line: clean, eval, train."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .extract import Extractor, InputError
from .model import ModelError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Learned boilerplate removal for web pages.")

KIND_HELP = "Input kind: auto (detect), html or text."


def _kind(kind: str) -> str | None:
    if kind not in ("auto", "html", "text"):
        raise typer.BadParameter("kind must be auto, html or text")
    return None if kind == "auto" else kind


def _inputs(paths: list[str]) -> list[tuple[str, bytes]]:
    out = []
    for p in paths:
        if p == "-":
            out.append(("stdin", sys.stdin.buffer.read()))
            continue
        path = Path(p)
        if path.is_dir():
            for f in sorted(x for x in path.rglob("*") if x.is_file()):
                out.append((str(f.relative_to(path)), f.read_bytes()))
        elif path.is_file():
            out.append((path.name, path.read_bytes()))
        else:
            raise typer.BadParameter(f"no such file or directory: {p}")
    return out


@app.command()
def clean(
    paths: list[str] = typer.Argument(..., help="Files or directories, or - for stdin."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write one .txt per page here."),
    kind: str = typer.Option("auto", help=KIND_HELP),
    model: Optional[Path] = typer.Option(None, help="HTML model file (default: shipped)."),
    text_model: Optional[Path] = typer.Option(None, help="Plain-text model file (default: shipped)."),
    threshold: Optional[str] = typer.Option(None, help="Score threshold or precision|balanced|recall."),
) -> None:
    """Print (or write) the main text of each page."""
    ex = Extractor(model=model, text_model=text_model, threshold=threshold)
    failed = 0
    try:
        pages = _inputs(paths)
    except typer.BadParameter as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2)
    for name, data in pages:
        try:
            text = ex.extract(data, _kind(kind))
        except (ModelError, typer.BadParameter) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(2)
        except (InputError, ValueError, RecursionError, MemoryError) as e:
            typer.echo(f"error: {name}: {e}", err=True)
            failed += 1
            continue
        if out is None:
            if len(pages) > 1:
                typer.echo(f"==> {name} <==")
            typer.echo(text)
        else:
            dest = out / (name.replace(".html", "").replace(".htm", "") + ".txt")
            if dest.suffix != ".txt":
                dest = dest.with_suffix(".txt")
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".tmp")
            tmp.write_text(text + "\n", encoding="utf-8")
            tmp.replace(dest)
    raise typer.Exit(1 if failed else 0)


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
) -> None:
    """Precision / recall / F1 (the benchmark's shingle metric) on a dataset folder."""
    from boilerclf_training import datasets

    from . import metrics

    ex = Extractor(model=model, threshold=threshold)
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


if __name__ == "__main__":  # pragma: no cover
    app()
