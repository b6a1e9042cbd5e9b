"""Retraining on a site: labelled pages of a labels file to a :class:`~boilerclf.model.site.SiteModel`.

:func:`train_site` reads the labels files, builds the pages' features,
estimates by cross-validation over the labelled pages whether a site model
beats the base model and with which blend weight (the gate,
:mod:`boilerclf.retrain.gate`), then fits the site layer on all the pages and
saves the site model -- or, when the gate finds no gain, saves nothing and
raises :class:`NoGain` (unless ``force``).  :func:`cross_validate` measures the
gain of a given site model the same way (k-fold by page, F1 of the held-out
pages with the base model and with a site model trained on the other pages).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from boilerclf import metrics
from boilerclf.decide.profile import SiteProfile
from boilerclf.model.requires import needs_sklearn
from boilerclf.model.scores import LineScores
from boilerclf.model.site import SiteModel, default_site_model, default_threshold
from boilerclf.retrain import gate
from boilerclf.retrain.pages import LabelledPages, labelled_pages, stack_pages

try:
    from sklearn.model_selection import GroupKFold
except ImportError as exc:
    raise needs_sklearn("retraining on a site", exc) from None

__all__ = ["LabelledPages", "NoGain", "cross_validate", "labelled_pages", "stack_pages", "train_site"]

try:
    from sklearn.model_selection import GroupKFold
except ImportError as exc:
    raise needs_sklearn("retraining on a site", exc) from None


def cross_validate(base: LineScores, data: LabelledPages, *, k: int = 5,
                   make: Callable[[LineScores], SiteModel] | None = None,
                   profile: SiteProfile | None = None) -> dict:
    """F1 of the held-out pages before (base model) and after (site model), k-fold by page.

    Pages whose lines carry no label are never held out.  ``make`` builds the
    site model from the base (default ``SiteModel(base, threshold=default_threshold(base))``).
    Returns ``{"before": metrics, "after": metrics, "k": folds, "n_pages": n}``;
    with a site ``profile``, also ``"before_profile"`` and ``"after_profile"``
    (the scores with the profile applied).
    """
    make = make or default_site_model
    pages = data.pages
    idx, k = data.folds(k, "cross-validation")
    gold = data.gold()
    before_s = base.decision_scores(data.X)
    after_s = before_s.copy()
    thr_after = make(base).threshold
    for tr_p, te_p in GroupKFold(n_splits=k).split(idx, groups=idx):
        tr = np.isin(pages, idx[tr_p])
        te = np.isin(pages, idx[te_p])
        y = np.where(tr, data.y, -1)
        if len(np.unique(y[y >= 0])) < 2:
            after_s[te] = before_s[te]
            continue
        m = make(base).fit(data.X, y)
        after_s[te] = m.decision_scores(data.X[te])
        thr_after = m.threshold
    held = [data.ids[i] for i in idx]
    g = {p: gold[p] for p in held}
    out = {"before": metrics.evaluate(g, data.texts_at(before_s, base.threshold)),
           "after": metrics.evaluate(g, data.texts_at(after_s, thr_after)),
           "k": k, "n_pages": len(idx)}
    if profile is not None:
        for name, sc, thr in (("before", before_s, base.threshold), ("after", after_s, thr_after)):
            out[name + "_profile"] = metrics.evaluate(g, data.texts_at(sc, thr, profile))
    return out


# ------------------------------------------------------------ boilerclf train --base

class NoGain(ValueError):
    """The gate found that a site model would not beat the base model (nothing was written)."""


def train_site(base_path: str | Path | None, labels_paths: list[str | Path], out: str | Path, *,
               unreviewed: bool = False, folds: int = 5, prior_pages: float = 1.0,
               threshold: float | None = None, profile: SiteProfile | None = None,
               force: bool = False, weight: float | None = None,
               log: Callable[[str], None] = print) -> dict:
    """``boilerclf train --base BASE --add LABELS --out OUT``: fit a :class:`SiteModel`
    on the labelled pages and save it; returns the header.

    The gate (:func:`boilerclf.retrain.gate.estimate`, ``folds`` folds by page)
    measures the held-out F1 of the base model and of the site model at each
    blend weight and chooses the weight.  When no weight beats the base (or
    there is one labelled page, so nothing to measure on), nothing is written
    and :class:`NoGain` is raised with the reason -- unless ``force``: then the
    site model is written with the blend of ``prior_pages`` (``n / (n +
    prior_pages)`` for ``n`` pages).  ``weight`` fixes the blend weight (the
    gate still measures and may refuse).
    """
    import time

    from boilerclf.labels.file import read_labels
    from boilerclf.model.files import (
        SHIPPED_MODELS,
        load_model,
        save,
        sha256,
        shipped_model_path,
    )

    base_file = Path(base_path) if base_path is not None else shipped_model_path(SHIPPED_MODELS["html"])
    base, base_head = load_model(base_path, "html")
    if not isinstance(base, LineScores):
        raise ValueError(f"{base_file} is already a site model: give the general model it was made from")
    kind = base_head.get("kind", "html")
    records = [r for p in labels_paths for r in read_labels(p)]
    data, skipped = labelled_pages(records, kind, unreviewed=unreviewed)
    for s in skipped:
        log(f"skipped {s}")
    n = len(data.ids)
    n_lab = int((data.y >= 0).sum())
    if n == 0:
        hint = "" if unreviewed else " (only reviewed pages are used: review them, or pass --unreviewed)"
        raise ValueError(f"no labelled {kind} page in {', '.join(map(str, labels_paths))}{hint}")
    if len(np.unique(data.y[data.y >= 0])) < 2:
        raise ValueError("the labelled lines must include both content and boilerplate")
    thr = default_threshold(base) if threshold is None else threshold

    def make(b):
        return SiteModel(b, threshold=thr, prior_pages=prior_pages)

    est = None
    if n >= 2:
        t0 = time.time()
        weights = gate.BLENDS if weight is None else (float(weight),)
        est = gate.estimate(base, data, k=folds, make=make, weights=weights)
        log(f"gate: {est.summary()} ({time.time() - t0:.1f} s)")
        if profile is not None:
            cv = cross_validate(base, data, k=folds, make=make, profile=profile)
            for name in ("before_profile", "after_profile"):
                what = "base model" if name.startswith("before") else "site model"
                log(f"  with the site profile, {what}: F1 {cv[name]['f1']:.3f}")
        if est.beats_base:
            reason = None
            log(f"gate: the site model beats the base model; blend weight {est.weight:g} "
                f"(score = {est.weight:g} x site layer + {1 - est.weight:g} x base model)")
        else:
            reason = (f"the site model does not beat the base model on the labelled pages "
                      f"(held-out F1 {est.gain():+.3f} ± {est.stderr():.3f} over {est.n_pages} pages)")
    else:
        reason = "one labelled page: the gain cannot be measured (label 2 or more pages)"
    if reason is not None and not force:
        raise NoGain(f"no model written: {reason}; --force writes it anyway")
    model = make(base)
    if reason is None:
        model.set_params(weight=est.weight)
    elif weight is not None:
        model.set_params(weight=weight)
    model.fit(data.X, data.y)
    head = save(model, out, kind=kind, trained=time.strftime("%Y-%m-%d"),
                params={"threshold": thr, "prior_pages": prior_pages, "weight": model.weight},
                site={"pages": data.ids, "labelled_lines": n_lab,
                      "gate": None if est is None else {**est.as_dict(), "forced": reason is not None},
                      "base": {"file": base_file.name, "sha256": sha256(base_file),
                               "train_sets": base_head.get("train_sets")}})
    if reason is not None:
        log(f"written anyway (--force): {reason}; blend weight {model.weight_:.2f}")
    log(f"wrote {out} ({n} pages, {n_lab} labelled lines)")
    return head
