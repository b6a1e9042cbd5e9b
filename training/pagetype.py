"""Fit the page-type model on the labelled sets that give each page's type.

    python -m boilerclf_training.pagetype DATASETS --out models

Each page of a set whose gold has a ``page_type`` (wcxb_dev: seven types) is
split into lines, its page vector computed (:mod:`boilerclf.features.page`),
and a :class:`~boilerclf.model.pagetype_fit.PageTypeModel` fitted on them.  Its
accuracy is measured first by k-fold cross-validation grouped by site (no
site in two folds), per type, and written beside the model
(``pagetype_report.json``) for the model card.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from boilerclf.features.page import page_vectors
from boilerclf.features.table import page_features
from boilerclf.model.pagetype import SHIPPED_PAGETYPE, save
from boilerclf.model.pagetype_fit import PageTypeModel
from boilerclf.parse.html import html_lines, page_meta

from . import datasets
from .train import domain_folds


def vectors(ds_dir: Path) -> tuple[np.ndarray, np.ndarray, list[str], dict]:
    """Page vectors, page types, ids and gold of the typed pages of a set (the
    address is the page's own: the gold's URL is not given to the model)."""
    gold = datasets.load_gold(ds_dir)
    ids = [p for p in datasets.page_ids(ds_dir) if (gold.get(p) or {}).get("page_type")]
    rows = []
    for pid in ids:
        L = html_lines(datasets.read_html(ds_dir, pid))
        X = page_features(L)
        rows.append(page_vectors(X, [page_meta(L)])[0])
    return np.array(rows), np.array([gold[p]["page_type"] for p in ids]), ids, gold


def run(root: str | Path, out_dir: str | Path, sets: list[str], *, k: int = 5, C: float = 0.03,
        log=print) -> dict:
    root, out_dir = Path(root), Path(out_dir)
    P, y, groups = [], [], []
    for name in sets:
        t0 = time.time()
        p, t, ids, gold = vectors(root / name)
        P.append(p)
        y.append(t)
        groups.append(domain_folds(gold, ids, datasets.KFOLD_SETS.get(name, "domain"), k=k))
        log(f"page vectors of {name}: {len(ids)} pages ({time.time() - t0:.0f}s)")
    P, y, folds = np.vstack(P), np.concatenate(y), np.concatenate(groups)
    pred = np.empty(len(y), dtype=object)
    for f in range(k):
        m = PageTypeModel(C=C).fit(P[folds != f], y[folds != f])
        pred[folds == f] = m.predict(P[folds == f])
    types = sorted(set(y.tolist()))
    report = {"sets": list(sets), "pages": len(y), "k": k, "C": C,
              "accuracy": float((pred == y).mean()),
              "majority": float(max((y == t).mean() for t in types)),
              "per_type": {t: {"pages": int((y == t).sum()), "recall": float((pred[y == t] == t).mean()),
                               "precision": float((y[pred == t] == t).mean()) if (pred == t).any() else 0.0}
                           for t in types},
              "confusion": {t: {u: int(((y == t) & (pred == u)).sum()) for u in types} for t in types}}
    log(f"page type, {k}-fold by site: accuracy {report['accuracy']:.3f} "
        f"(the most frequent type alone: {report['majority']:.3f})")
    model = PageTypeModel(C=C).fit(P, y)
    out_dir.mkdir(parents=True, exist_ok=True)
    save(model, out_dir / SHIPPED_PAGETYPE, train_sets=list(sets), trained=time.strftime("%Y-%m-%d"),
         cv=report)
    (out_dir / "pagetype_report.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    log(f"wrote {out_dir / SHIPPED_PAGETYPE}")
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--sets", default="wcxb_dev", help="comma-separated sets with a page_type per page")
    ap.add_argument("-k", type=int, default=5)
    args = ap.parse_args()
    run(args.datasets, args.out, args.sets.split(","), k=args.k)


if __name__ == "__main__":
    main()
