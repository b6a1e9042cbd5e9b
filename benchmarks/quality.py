"""Quality table: boilerclf (leave-one-dataset-out) beside the peers, per dataset.

boilerclf's numbers per full-gold dataset come from the LODO evaluation that
`boilerclf train` ran (models/training_report.json: each set scored by a model
that never saw it); the peers' from their predictions on the same pages
(benchmarks/peers.py, cached under --peers-cache and scored here with the same
metric).  trafilatura_eval (no full gold) is scored by snippet accuracy: when
the shipped HTML model trained on its snippets (``boilerclf train`` does by
default), with the number the training report holds for a model trained
without them; otherwise with the shipped model.

    python benchmarks/quality.py --datasets ../shared/datasets --peers-cache ../cache/peers \
        --write-md benchmarks/QUALITY.md
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import peers as peers_mod  # noqa: E402
from boilerclf_training import datasets  # noqa: E402

from boilerclf import Extractor, metrics  # noqa: E402

PEERS = ["trafilatura", "trafilatura_comments", "readability", "justext", "boilerpy3", "resiliparse"]


def peer_f1(root: Path, name: str, peer: str, cache: Path) -> dict | None:
    path = cache / peer / f"{name}.json"
    if not path.exists():
        return None
    pred = {k: (v or {}).get("articleBody") or "" for k, v in json.loads(path.read_text()).items()}
    gold = {k: (v.get("articleBody") or "") for k, v in datasets.load_gold(root / name).items()}
    return metrics.evaluate(gold, pred)


def model_snippet_accuracy(root: Path, model: str | None) -> float:
    """Snippet accuracy of ``model`` (default: the shipped one) run on trafilatura_eval."""
    d = root / "trafilatura_eval"
    snippets = datasets.load_snippets(d)
    ids = [i for i in datasets.page_ids(d) if i in snippets]
    pred = dict(zip(ids, Extractor(model=model).extract_many(
        (datasets.read_html(d, i) for i in ids), kind="html")))
    return metrics.snippet_accuracy(snippets, pred)["snippet_accuracy"]


def snippet_row(root: Path, cache: Path, ours: float) -> dict:
    """trafilatura_eval snippet accuracy: boilerclf's (``ours``) and each cached peer's."""
    snippets = datasets.load_snippets(root / "trafilatura_eval")
    row = {"boilerclf": ours}
    for p in PEERS:
        path = cache / p / "trafilatura_eval.json"
        if path.exists():
            row[p] = peers_mod.snippet_accuracy(snippets, json.loads(path.read_text()))["snippet_accuracy"]
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default=str(HERE.parent.parent / "shared" / "datasets"))
    ap.add_argument("--peers-cache", default="../cache/peers")
    ap.add_argument("--report", default=str(HERE.parent / "models" / "training_report.json"))
    ap.add_argument("--model", default=None)
    ap.add_argument("--write-md", default=None)
    args = ap.parse_args()
    root, cache = Path(args.datasets), Path(args.peers_cache)
    report = json.loads(Path(args.report).read_text())
    lodo = report["lodo"]
    rows = []
    for name in sorted(lodo):
        ours = lodo[name].get("html")
        peer = {p: peer_f1(root, name, p, cache) for p in PEERS}
        rows.append((name, ours, peer))
    hdr = "| dataset | boilerclf P | R | **F1** | " + " | ".join(f"{p} F1" for p in PEERS) + " | Δ vs trafilatura |"
    out = [hdr, "|" + "---|" * (5 + len(PEERS))]
    macro_ours, macro_traf = [], []
    for name, ours, peer in rows:
        cells = [f"{peer[p]['f1']:.3f}" if peer[p] else "–" for p in PEERS]
        traf = peer["trafilatura"]["f1"] if peer["trafilatura"] else float("nan")
        delta = ours["f1"] - traf
        macro_ours.append(ours["f1"])
        macro_traf.append(traf)
        out.append(f"| {name} | {ours['precision']:.3f} | {ours['recall']:.3f} | **{ours['f1']:.3f}** | "
                   + " | ".join(cells) + f" | {delta:+.3f} |")
    mo, mt = sum(macro_ours) / len(macro_ours), sum(macro_traf) / len(macro_traf)
    out.append(f"| **macro** | | | **{mo:.3f}** | **{mt:.3f}** |" + " |" * (len(PEERS) - 1) + f" {mo - mt:+.3f} |")
    snip = None
    if (root / "trafilatura_eval").exists():
        held = (report.get("snippets") or {}).get("trafilatura_eval")
        trained_on = "trafilatura_eval" in ((report.get("snippet_sets") or {}).get("sets") or [])
        if trained_on and args.model is None:
            # the shipped model has seen these snippets: the score of the model trained without them
            if not held:
                raise SystemExit("the shipped model trained on trafilatura_eval, but the report has no "
                                 "held-out snippet accuracy (run boilerclf train with LODO)")
            snip = snippet_row(root, cache, held["snippet_accuracy"])
            pseudo = (report.get("snippet_sets") or {}).get("pseudo_labels")
            what = ("HTML model trained without trafilatura_eval; the shipped model trains on its snippets"
                    + (f" and on {pseudo['peer']}'s output for its other lines" if pseudo else ""))
        else:
            snip = snippet_row(root, cache, model_snippet_accuracy(root, args.model))
            what = "shipped model; not a training set" if args.model is None else f"model {args.model}"
    if snip:
        out += ["", f"trafilatura_eval snippet accuracy ({what}):", "",
                "| boilerclf | " + " | ".join(PEERS) + " |", "|" + "---|" * (1 + len(PEERS)),
                f"| **{snip['boilerclf']:.3f}** | " + " | ".join(
                    f"{snip[p]:.3f}" if p in snip else "–" for p in PEERS) + " |"]
    table = "\n".join(out)
    print(table)
    if args.write_md:
        md = Path(args.write_md)
        prev = md.read_text() if md.exists() else ""
        keep = prev.split("<!-- end of generated table -->", 1)[1] if "<!-- end of generated table -->" in prev else ""
        md.write_text(
            "# Quality\n\n"
            f"Generated {time.strftime('%Y-%m-%d')} by `python benchmarks/quality.py --write-md benchmarks/QUALITY.md` "
            "(boilerclf: leave-one-dataset-out scores from `models/training_report.json`, written by "
            "`boilerclf train ../shared/datasets`; peers: `python benchmarks/peers.py` predictions on the "
            "same pages; metric: the benchmark's shingle F1, `shared/tools/score.py`).\n\n"
            + table + "\n\n<!-- end of generated table -->" + keep)


if __name__ == "__main__":
    main()
