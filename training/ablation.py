"""Measure one change at a time: the ablation runs behind the model card's table.

Each *variant* is a named change to the training recipe: model parameters,
feature columns switched off (set to a constant, so the trees cannot use
them), or per-dataset weights (a set's pages repeated or subsampled).  Every
variant is scored on every dataset with full gold without ever training on
the dataset it is scored on, either by full leave-one-dataset-out
(``--lodo``, what the card's headline numbers use) or, cheaper, by a two-fold
split of the datasets (:data:`SPLIT`: each half trains a model scored on the
other half; siblings such as utomo_big5/utomo_chaos sit in different halves
so that both schemes see a similar neighbour in training).

Usage (from a checkout, caches as for ``boilerclf train``)::

    python -m boilerclf_training.ablation ../shared/datasets --cache ../cache/lines \
        --variant base --variant no_context --out ablation.json
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

from boilerclf import metrics
from boilerclf.features.table import FEATURE_NAMES, N_STRUCT
from boilerclf.model.classifier import LineClassifier

from . import build, datasets, train

#: Two halves of the full-gold datasets for the cheap scheme.
SPLIT = (
    ("dragnet", "canola", "utomo_big5", "webmainbench_sample"),
    ("readability", "tiptopjaw_wceb2026_llm", "utomo_chaos", "cleaneval", "cleanportaleval"),
)

#: Column used to try a "gold convention" input (whole-page vs article gold)
#: without a schema change: ``gap_before`` is constant 0 in HTML mode.
CONVENTION_COL = FEATURE_NAMES.index("gap_before")
WHOLE_PAGE_SETS = ("cleaneval", "cleanportaleval", "canola")

#: Named variants: ``params`` for :class:`LineClassifier` (``hgb`` for the
#: HistGradientBoosting parameters of both stages), ``drop`` regexes of feature
#: names switched off, ``weights`` per dataset (repeat / subsample its pages).
VARIANTS: dict[str, dict] = {
    "base": {},
    "no_context": {"params": {"context": False}},
    "no_neighbours": {"drop": [r"^(prev|next)\d_"]},
    "no_containers": {"drop": [r"^anc\d_"]},
    "no_main": {"drop": [r"main\d\d", r"^dense_dist$"]},
    "no_hints": {"drop": [r"^hint_"]},
    "no_title": {"drop": [r"title_"]},
    "no_repeat": {"drop": [r"repeat"]},
    "no_markup": {"drop": [r"^in_", r"^tag_", r"^heading$", r"^depth"]},
    "no_lexical": {"drop": [r"stopwords", r"short_words", r"punct", r"cap_words", r"upper", r"digit"]},
    "convention": {"convention": WHOLE_PAGE_SETS},
    "convention_article": {"convention": WHOLE_PAGE_SETS, "convention_eval_own": False},
    "hgb_300": {"params": {"hgb": {"max_iter": 300}}},
    "hgb_63leaves": {"params": {"hgb": {"max_leaf_nodes": 63}}},
    "hgb_75": {"params": {"hgb": {"max_iter": 75}}},
    "lines_300": {"params": {"max_lines_per_page": 300}},
    "wholepage_half": {"weights": {"cleaneval": 0.5, "canola": 0.5, "cleanportaleval": 0.5}},
    "article_x2": {"weights": {"dragnet": 2, "utomo_big5": 2, "utomo_chaos": 2, "readability": 2}},
}


def _hgb(**kw):
    from sklearn.ensemble import HistGradientBoostingClassifier

    base = dict(max_iter=150, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40,
                l2_regularization=1.0, early_stopping=False, random_state=0)
    base.update(kw)
    return HistGradientBoostingClassifier(**base)


def make_model(variant: dict) -> LineClassifier:
    params = dict(variant.get("params", {}))
    hgb = params.pop("hgb", None)
    if hgb:
        params["estimator"] = _hgb(**hgb)
    return LineClassifier(**params)


def drop_mask(variant: dict) -> np.ndarray:
    """Boolean mask over ``FEATURE_NAMES`` of the columns the variant switches off."""
    pats = [re.compile(p) for p in variant.get("drop", [])]
    mask = np.array([any(p.search(n) for p in pats) for n in FEATURE_NAMES])
    mask[:N_STRUCT] = False
    return mask


def weighted(parts: dict[str, build.Part], names: list[str], weights: dict[str, float],
             seed: int = 0, convention: tuple[str, ...] = ()) -> train.Data:
    """Stack ``names`` with each set's pages repeated (weight > 1) or subsampled (< 1).
    Rows of the sets in ``convention`` get 1 in the :data:`CONVENTION_COL` column."""
    rng = np.random.default_rng(seed)
    Xs, ys, base = [], [], 0
    for n in names:
        p = parts[n]
        w = float(weights.get(n, 1.0))
        pages = p.X[:, 0].astype(np.int64)
        n_pages = int(pages.max()) + 1 if len(pages) else 0
        reps = int(w) if w >= 1 else 1
        keep = np.ones(n_pages, bool) if w >= 1 else rng.random(n_pages) < w
        for _ in range(reps):
            m = keep[pages]
            X = p.X[m].copy()
            new_id = np.cumsum(keep) - 1
            X[:, 0] = new_id[pages[m]] + base
            if n in convention:
                X[:, CONVENTION_COL] = 1.0
            base += int(keep.sum())
            Xs.append(X)
            ys.append(p.y[m])
    return train.Data(np.concatenate(Xs), np.concatenate(ys), list(names))


def scores_for(variant: dict, parts: dict[str, build.Part], train_names: list[str],
               eval_names: list[str]) -> dict[str, np.ndarray]:
    """Fit the variant on ``train_names``; line scores of each of ``eval_names``."""
    from boilerclf.model import classifier as model_mod
    from boilerclf.model import scores as scores_mod

    orig, orig_input = model_mod.context_features, scores_mod.stage2_input
    if variant.get("context_drop"):  # switch stage-2 inputs off, in this call only
        cols = [model_mod.CONTEXT_NAMES.index(n) for n in variant["context_drop"]]

        def patched(X, s1):  # what fit sees
            C = orig(X, s1)
            C[:, cols] = 0.0
            return C

        def patched_input(X, s1, rows=None):  # what prediction sees
            A = orig_input(X, s1, rows)
            A[:, [A.shape[1] - len(model_mod.CONTEXT_NAMES) + c for c in cols]] = 0.0
            return A

        model_mod.context_features = patched  # fit: LineClassifier's module
        scores_mod.stage2_input = patched_input  # prediction: LineScores's module
    try:
        return _scores_for(variant, parts, train_names, eval_names)
    finally:
        model_mod.context_features, scores_mod.stage2_input = orig, orig_input


def _scores_for(variant: dict, parts: dict[str, build.Part], train_names: list[str],
                eval_names: list[str]) -> dict[str, np.ndarray]:
    conv = tuple(variant.get("convention", ()))
    data = weighted(parts, train_names, variant.get("weights", {}), convention=conv)
    mask = drop_mask(variant)
    if mask.any():
        data.X[:, mask] = 0.0
    model = make_model(variant).fit(data.X, data.y)
    out = {}
    for n in eval_names:
        X = parts[n].X
        own = n in conv and variant.get("convention_eval_own", True)
        if mask.any() or own:
            X = X.copy()
            X[:, mask] = 0.0
            if own:  # scored in its own (whole-page) convention
                X[:, CONVENTION_COL] = 1.0
        out[n] = model.decision_scores(X)
    return out


def run_variant(name: str, parts: dict[str, build.Part], sets: list[str], *, lodo: bool,
                n_jobs: int = 1, kind: str = "html") -> dict:
    variant = VARIANTS[name]
    from joblib import Parallel, delayed

    if lodo:
        jobs = [([s for s in sets if s != n], [n]) for n in sets]
    else:
        jobs = [([s for s in sets if s not in half], [s for s in sets if s in half]) for half in SPLIT]
    t0 = time.time()
    res = Parallel(n_jobs=n_jobs)(delayed(scores_for)(variant, parts, tr, ev) for tr, ev in jobs)
    scores = {k: v for r in res for k, v in r.items()}
    by_thr = {t: {n: metrics.evaluate(parts[n].gold, train.texts_at(parts[n], scores[n], t, kind=kind))
                  for n in sets} for t in train.THRESHOLDS}
    macro = {t: float(np.mean([m["f1"] for m in v.values()])) for t, v in by_thr.items()}
    best = train.pick_threshold(by_thr, {n: len(parts[n].gold) for n in sets})[0]
    return {"variant": name, "scheme": "lodo" if lodo else "split", "threshold": best,
            "macro_f1": macro[best], "f1": {n: by_thr[best][n]["f1"] for n in sets},
            "precision": {n: by_thr[best][n]["precision"] for n in sets},
            "recall": {n: by_thr[best][n]["recall"] for n in sets},
            "macro_by_threshold": {str(t): v for t, v in macro.items()}, "seconds": round(time.time() - t0)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--variant", action="append", default=None, choices=sorted(VARIANTS))
    ap.add_argument("--lodo", action="store_true", help="full leave-one-dataset-out")
    ap.add_argument("--mode", default="html", choices=("html", "text"))
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, help="append results as JSON lines")
    a = ap.parse_args(argv)
    sets = datasets.gold_sets(a.root)
    key = "html" if a.mode == "html" else build.text_mode("render")  # text: boilerclf's own rendering
    parts = {n: build.build(a.root / n, a.cache, n_jobs=a.jobs)[key] for n in sets}
    for name in a.variant or ["base"]:
        r = run_variant(name, parts, sets, lodo=a.lodo, n_jobs=a.jobs, kind=a.mode)
        r["mode"] = a.mode
        print(f"{name:16s} macro {r['macro_f1']:.4f} thr {r['threshold']} ({r['seconds']}s) "
              + " ".join(f"{n[:8]} {v:.3f}" for n, v in r["f1"].items()), flush=True)
        if a.out:
            with open(a.out, "a") as f:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
