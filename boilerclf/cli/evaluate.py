"""``boilerclf eval``: the model scored on pages with known main texts."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from boilerclf.cli.common import (
    MODEL_HELP,
    SITE_PROFILE_HELP,
    THRESHOLD_HELP,
    TRUSTED_HELP,
    app,
    check_threshold,
    fail_usage,
    make_extractor,
    note_slow_path,
)
from boilerclf.metrics import snippet_accuracy
from boilerclf.model.files import ModelError


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
    include_title: bool = typer.Option(False, "--include-title", help="Keep each page's headline in its main "
                                       "text (for main texts that start with the headline)."),
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

    check_threshold(threshold)
    ex = make_extractor(model, None, threshold, site_profile, trusted=trusted_model, comments=comments,
                        include_title=include_title)
    note_slow_path()
    try:
        ex.model_for("html")
        head = load_model(model, "html", trusted=trusted_model)[1]  # cached: the file is read once
    except ModelError as e:
        fail_usage(str(e))
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
