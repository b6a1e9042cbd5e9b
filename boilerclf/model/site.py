"""Teaching a model a new site: a base model adapted with a few labelled pages.

Users do not have the base model's training data, so the base model is not
refitted.  A :class:`SiteModel` keeps the fitted base model inside and stacks a
small *site layer* on it: a HistGradientBoosting classifier trained on the new
site's labelled lines only, whose inputs are the line features, the base
model's stage-1 score, its context inputs (neighbours' scores, container
votes) and its final score.  A few pages therefore matter fully (they are the
site layer's whole training set), while the base model's knowledge comes in
through its scores: where the site's pages agree with the base model the layer
learns to follow its score, and where they do not (a sidebar the base keeps, a
byline the site's convention drops) it learns the correction from the
features.  Every labelled page weighs the same in the layer's fit, and the
layer's score is blended with the base score by the number *n* of labelled
pages, ``w = n / (n + prior_pages)``, so a single page cannot overrule the
base model alone.

A site model file holds the base model too (its trees and the site layer's,
as arrays, like any model file); :func:`boilerclf.model.classifier.load` accepts it and
the extractor uses it like any model (``decision_scores``, ``threshold``).  Prediction: ``s1 = base.stage1_(F)``, ``C =
context_features(X, s1)``, ``s = base.stage2_([F, C])``, ``z =
site_([F, C, s])``, score ``= weight_ * z + (1 - weight_) * s``.

:func:`cross_validate` measures the gain honestly: k-fold by page over the
labelled pages, F1 (:mod:`boilerclf.metrics`) of the held-out pages with the
base model and with a site model trained on the other pages.

Lines labelled ``-1`` (``null`` in a labels file) are not fitted on but keep
their place on the page, so the features and context of the others are right.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from boilerclf import metrics

from boilerclf.decide import decision
from boilerclf.features.table import FEATURE_NAMES, N_STRUCT, SCHEMA_VERSION
from boilerclf.parse.lines import Lines
from boilerclf.model.classifier import CONTEXT_NAMES, LineClassifier, _flatten, stage2_input
from boilerclf.decide.profile import SiteProfile

#: Names of the site layer's extra inputs (after the line features).
SITE_INPUT_NAMES = [f"base_{n}" for n in CONTEXT_NAMES] + ["base_score"]


def _default_site_estimator(random_state: int | None) -> HistGradientBoostingClassifier:
    # a few hundred lines per page and a handful of pages: small, regularised trees
    return HistGradientBoostingClassifier(
        max_iter=80, learning_rate=0.08, max_leaf_nodes=8, min_samples_leaf=8,
        l2_regularization=1.0, early_stopping=False, random_state=random_state)


#: Threshold of a site model made from a base whose threshold is "auto".  A site
#: layer fitted on a few pages gives scores that are not probabilities of the kind
#: "auto" reads: on 41 sites (benchmarks/RETRAIN.md, 2026-11-23) site models made
#: from 1 / 3 / 5 labelled pages scored 0.882 / 0.923 / 0.931 with "auto",
#: 0.905 / 0.925 / 0.927 at 0.35 and 0.907 / 0.922 / 0.926 at 0.5.
SITE_THRESHOLD = 0.35


def default_threshold(base: LineClassifier) -> float | str:
    """The threshold a site model made from ``base`` gets unless one is given:
    the base's own when it is a number, else :data:`SITE_THRESHOLD`."""
    return base.threshold if isinstance(decision.parse(base.threshold), float) else SITE_THRESHOLD


class SiteModel(ClassifierMixin, BaseEstimator):
    """A fitted base :class:`~boilerclf.model.classifier.LineClassifier` with a site layer on top.

    Parameters
    ----------
    base : LineClassifier
        A fitted model (e.g. ``boilerclf.load_model(...)``); used as it is,
        never refitted or cloned (like a "prefit" estimator).
    estimator : classifier, default small HistGradientBoostingClassifier
        The site layer (cloned).
    threshold : float or "auto", default 0.5
        Score at or above which a line is content, or ``"auto"`` (a threshold
        per page, :mod:`boilerclf.decide.decision`).
    prior_pages : float, default 1.0
        How many pages the base model's opinion is worth: the score is
        ``w * site + (1 - w) * base`` with ``w = n / (n + prior_pages)`` for
        ``n`` labelled pages, so one page does not overrule the base model
        alone (0: the site layer only).
    balance_pages : bool, default True
        Weight the lines so that every labelled page weighs the same (a long
        page with hundreds of labelled lines does not drown a short one).
    random_state : int or None, default 0

    ``X`` is a :mod:`boilerclf.features.table` matrix (rows of a page contiguous and
    in order); ``y`` is 1 / 0, or -1 for lines without a label.
    """

    def __init__(self, base: LineClassifier | None = None, estimator=None, threshold: float = 0.5,
                 prior_pages: float = 1.0, balance_pages: bool = True, random_state: int | None = 0):
        self.base = base
        self.estimator = estimator
        self.threshold = threshold
        self.prior_pages = prior_pages
        self.balance_pages = balance_pages
        self.random_state = random_state

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        base = self.base
        s1 = base._stage_scores(1, X[:, N_STRUCT:])
        A = stage2_input(X, s1)  # [F, C]
        s = base._stage_scores(2, A) if base.stage2_ is not None else s1
        return np.hstack([A, s[:, None].astype(np.float32)])

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
        """Fit the site layer on the labelled lines (``y >= 0``) of ``X``. Returns self."""
        if self.base is None:
            raise ValueError("SiteModel needs a fitted base model (base=...)")
        check_is_fitted(self.base, "stage1_")
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y).astype(np.int64)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"X must have {len(FEATURE_NAMES)} columns (features schema "
                             f"{SCHEMA_VERSION}), got shape {X.shape}")
        keep = y >= 0
        if len(np.unique(y[keep])) < 2:
            raise ValueError("the labelled lines must include both content (1) and boilerplate (0)")
        Z = self._inputs(X)
        w = np.ones(int(keep.sum())) if sample_weight is None else np.asarray(sample_weight, float)[keep]
        if self.balance_pages:
            _, page_of, n_of = np.unique(X[keep, 0], return_inverse=True, return_counts=True)
            w = w / n_of[page_of]
            w *= len(w) / w.sum()
        kw = {} if sample_weight is None and not self.balance_pages else {"sample_weight": w}
        est = clone(self.estimator) if self.estimator is not None else _default_site_estimator(self.random_state)
        self.site_ = est.fit(Z[keep], y[keep], **kw)
        self.site_trees_ = _flatten(self.site_)
        self.base_ = self.base
        n_pages = len(np.unique(X[keep, 0]))
        self.weight_ = n_pages / (n_pages + self.prior_pages)
        self.classes_ = self.site_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def decision_scores(self, X: np.ndarray) -> np.ndarray:
        """Probability that each line is content (1-D)."""
        check_is_fitted(self, "site_")
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        Z = self._inputs(X)
        trees = getattr(self, "site_trees_", None)
        z = trees.predict_proba1(Z) if trees is not None else self.site_.predict_proba(Z)[:, 1]
        return self.weight_ * z + (1.0 - self.weight_) * Z[:, -1]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        s = self.decision_scores(X)
        return np.column_stack([1.0 - s, s])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """1 for the lines kept at ``threshold`` (per page for ``"auto"``), else 0."""
        X = np.asarray(X, dtype=np.float32)
        return decision.keep(decision.parse(self.threshold), self.decision_scores(X), X).astype(np.int64)


# ------------------------------------------------------------ labelled pages

@dataclass
class LabelledPages:
    """Labelled pages as one matrix: features, labels (-1 = none), texts, ids."""

    X: np.ndarray
    y: np.ndarray
    texts: list[list[str]]
    ids: list[str]

    @property
    def pages(self) -> np.ndarray:
        return self.X[:, 0].astype(np.int64)

    def gold(self) -> dict[str, str]:
        """Per page, the text of its lines labelled content (the reference for F1)."""
        out = {}
        for i, pid in enumerate(self.ids):
            ys = self.y[self.pages == i]
            out[pid] = "\n".join(t for t, lab in zip(self.texts[i], ys) if lab == 1)
        return out

    def texts_at(self, scores: np.ndarray, threshold: float | str) -> dict[str, str]:
        """Predicted text per page from the scores of all rows at ``threshold``
        (a number or ``"auto"``, chosen per page from all its rows); lines
        without a label are left out, as they are of :meth:`gold`."""
        keep = decision.keep(decision.parse(threshold), scores, self.X) & (self.y >= 0)
        pages = self.pages
        out = {}
        for i, pid in enumerate(self.ids):
            out[pid] = "\n".join(t for t, k in zip(self.texts[i], keep[pages == i]) if k)
        return out


def stack_pages(pages: list[tuple[str, Lines, np.ndarray]]) -> LabelledPages:
    """``(id, lines, labels)`` triples to one :class:`LabelledPages` (page ids 0..n-1)."""
    from boilerclf.features.table import page_features

    mats, ys = [], []
    for j, (_, L, lab) in enumerate(pages):
        if len(lab) != len(L):
            raise ValueError(f"page {pages[j][0]!r}: {len(lab)} labels for {len(L)} lines")
        mats.append(page_features(L, j))
        ys.append(np.asarray(lab, dtype=np.int64))
    X = np.concatenate(mats) if mats else np.zeros((0, len(FEATURE_NAMES)), np.float32)
    y = np.concatenate(ys) if ys else np.zeros(0, np.int64)
    return LabelledPages(X, y, [list(p[1].texts) for p in pages], [p[0] for p in pages])


def cross_validate(base: LineClassifier, data: LabelledPages, *, k: int = 5,
                   make: Callable[[LineClassifier], SiteModel] | None = None,
                   profile: SiteProfile | None = None) -> dict:
    """F1 of the held-out pages before (base model) and after (site model), k-fold by page.

    Pages whose lines carry no label are never held out.  ``make`` builds the
    site model from the base (default ``SiteModel(base, threshold=default_threshold(base))``).
    Returns ``{"before": metrics, "after": metrics, "k": folds, "n_pages": n}``;
    with a site ``profile``, also ``"before_profile"`` and ``"after_profile"``
    (the scores with the profile applied).
    """
    make = make or (lambda b: SiteModel(b, threshold=default_threshold(b)))
    pages = data.pages
    labelled = np.array([(data.y[pages == i] >= 0).any() for i in range(len(data.ids))], bool)
    idx = np.flatnonzero(labelled)
    k = min(k, len(idx))
    if k < 2:
        raise ValueError("cross-validation needs at least 2 labelled pages")
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
            damped = np.concatenate([profile.apply(sc[pages == i], data.texts[i])
                                     for i in range(len(data.ids))]) if len(sc) else sc
            out[name + "_profile"] = metrics.evaluate(g, data.texts_at(damped, thr))
    return out


# ------------------------------------------------------------ boilerclf train --base

def labelled_pages(records: list[dict], kind: str = "html", *, unreviewed: bool = False
                   ) -> tuple[LabelledPages, list[str]]:
    """Labels-file records to :class:`LabelledPages` (lines recomputed from each
    record's source and checked against its texts, see
    :func:`boilerclf.labels.file.source_lines`).

    Only reviewed records of ``kind`` with at least one labelled line are used
    (all records of ``kind`` with ``unreviewed``); returns the pages and the
    ids of the records left out, with the reason.
    """
    from boilerclf.labels.file import label_array, source_lines

    chosen, skipped = [], []
    for rec in records:
        if rec["kind"] != kind:
            skipped.append(f"{rec['id']} (kind {rec['kind']}, the base model is for {kind})")
        elif not (rec["reviewed"] or unreviewed):
            skipped.append(f"{rec['id']} (not reviewed)")
        else:
            lab = label_array(rec)
            if not (lab >= 0).any():
                skipped.append(f"{rec['id']} (no labelled line)")
            else:
                chosen.append((rec["id"], source_lines(rec), lab))
    return stack_pages(chosen), skipped


def train_site(base_path: str | Path | None, labels_paths: list[str | Path], out: str | Path, *,
               unreviewed: bool = False, folds: int = 5, prior_pages: float = 1.0,
               threshold: float | None = None, profile: SiteProfile | None = None,
               log: Callable[[str], None] = print) -> dict:
    """``boilerclf train --base BASE --add LABELS --out OUT``: fit a :class:`SiteModel`
    on the labelled pages, report k-fold F1 before and after, save it; returns the header."""
    import time

    from boilerclf.pipeline import _model_path, load_model
    from boilerclf.labels.file import read_labels
    from boilerclf.model.classifier import save, sha256

    base_file = Path(base_path) if base_path is not None else _model_path("boilerclf-html.npz")
    base, base_head = load_model(base_path, "html")
    if not isinstance(base, LineClassifier):
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

    cv = None
    if n >= 2:
        t0 = time.time()
        cv = cross_validate(base, data, k=folds, make=make, profile=profile)
        log(f"cross-validation, {cv['k']} folds by page over {cv['n_pages']} pages ({time.time() - t0:.1f} s):")
        for name in ("before", "after", "before_profile", "after_profile"):
            if name not in cv:
                continue
            m = cv[name]
            what = ("base model" if name.startswith("before") else "site model") + \
                (" + site profile" if name.endswith("profile") else "")
            log(f"  {name.split('_')[0]:6} ({what}): "
                f"precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}")
        log(f"  F1 gain {cv['after']['f1'] - cv['before']['f1']:+.3f}")
    else:
        log("one labelled page: no cross-validation (label 2 or more pages to measure the gain)")
    model = make(base).fit(data.X, data.y)
    head = save(model, out, kind=kind, trained=time.strftime("%Y-%m-%d"),
                params={"threshold": thr, "prior_pages": prior_pages},
                site={"pages": data.ids, "labelled_lines": n_lab, "cv": cv,
                      "base": {"file": base_file.name, "sha256": sha256(base_file),
                               "train_sets": base_head.get("train_sets")}})
    log(f"wrote {out} ({n} pages, {n_lab} labelled lines)")
    return head
