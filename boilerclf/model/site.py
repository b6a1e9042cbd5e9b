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
base model alone -- or by a given ``weight``, as ``boilerclf train`` does
with the weight that cross-validation over the labelled pages chose.

A site model file holds the base model too (its trees and the site layer's,
as arrays, like any model file); :func:`boilerclf.model.files.load` reads it as a
:class:`~boilerclf.model.fitted.SitePredictor` (no scikit-learn) and the extractor
uses it like any model (``decision_scores``, ``threshold``).  Prediction
(:class:`~boilerclf.model.scores.SiteScores`): ``s1 = base.stage1_(F)``, ``C =
context_features(X, s1)``, ``s = base.stage2_([F, C])``, ``z =
site_([F, C, s])``, score ``= weight_ * z + (1 - weight_) * s``.

Training one from a labels file and measuring its gain are
:mod:`boilerclf.retrain.site`.

Lines labelled ``-1`` (``null`` in a labels file) are not fitted on but keep
their place on the page, so the features and context of the others are right.
"""
from __future__ import annotations

import numpy as np

from boilerclf.decide import decision
from boilerclf.features.table import FEATURE_NAMES, SCHEMA_VERSION
from boilerclf.model.requires import needs_sklearn
from boilerclf.model.scores import CONTEXT_NAMES, LineScores, SiteScores
from boilerclf.model.trees import flatten

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, clone
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:
    raise needs_sklearn("fitting a site model (SiteModel)", exc) from None

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


def default_threshold(base: LineScores) -> float | str:
    """The threshold a site model made from ``base`` gets unless one is given:
    the base's own when it is a number, else :data:`SITE_THRESHOLD`."""
    return base.threshold if isinstance(decision.parse(base.threshold), float) else SITE_THRESHOLD


class SiteModel(SiteScores, ClassifierMixin, BaseEstimator):
    """A fitted base line model with a site layer on top.

    Parameters
    ----------
    base : LineClassifier or LinePredictor
        A fitted line model (e.g. ``boilerclf.load_model(...)``); used as it is,
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
    weight : float or None, default None
        The blend weight of the site layer, from 0 (the base model's scores
        only) to 1 (the site layer's only); None: ``n / (n + prior_pages)``.
        ``boilerclf train --base --add`` sets it to the weight that did best
        in cross-validation over the labelled pages (:mod:`boilerclf.retrain.gate`).
    balance_pages : bool, default True
        Weight the lines so that every labelled page weighs the same (a long
        page with hundreds of labelled lines does not drown a short one).
    random_state : int or None, default 0

    ``X`` is a :mod:`boilerclf.features.table` matrix (rows of a page contiguous and
    in order); ``y`` is 1 / 0, or -1 for lines without a label.
    """

    def __init__(self, base: LineScores | None = None, estimator=None, threshold: float = 0.5,
                 prior_pages: float = 1.0, weight: float | None = None, balance_pages: bool = True,
                 random_state: int | None = 0):
        self.base = base
        self.estimator = estimator
        self.threshold = threshold
        self.prior_pages = prior_pages
        self.weight = weight
        self.balance_pages = balance_pages
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
        """Fit the site layer on the labelled lines (``y >= 0``) of ``X``. Returns self."""
        if self.base is None:
            raise ValueError("SiteModel needs a fitted base model (base=...)")
        self.base.check_fitted()
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y).astype(np.int64)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"X must have {len(FEATURE_NAMES)} columns (features schema "
                             f"{SCHEMA_VERSION}), got shape {X.shape}")
        keep = y >= 0
        if len(np.unique(y[keep])) < 2:
            raise ValueError("the labelled lines must include both content (1) and boilerplate (0)")
        Z = self.site_inputs(X, self.base)
        w = np.ones(int(keep.sum())) if sample_weight is None else np.asarray(sample_weight, float)[keep]
        if self.balance_pages:
            _, page_of, n_of = np.unique(X[keep, 0], return_inverse=True, return_counts=True)
            w = w / n_of[page_of]
            w *= len(w) / w.sum()
        kw = {} if sample_weight is None and not self.balance_pages else {"sample_weight": w}
        est = clone(self.estimator) if self.estimator is not None else _default_site_estimator(self.random_state)
        self.site_ = est.fit(Z[keep], y[keep], **kw)
        self.site_trees_ = flatten(self.site_)
        self.base_ = self.base
        if self.weight is not None and not 0.0 <= float(self.weight) <= 1.0:  # also NaN
            raise ValueError(f"weight must be from 0 to 1 (or None), not {self.weight!r}")
        n_pages = len(np.unique(X[keep, 0]))
        self.weight_ = (n_pages / (n_pages + self.prior_pages) if self.weight is None
                        else float(self.weight))
        self.classes_ = self.site_.classes_
        self.n_features_in_ = X.shape[1]
        return self

    def check_fitted(self) -> None:
        check_is_fitted(self, "site_")


# ------------------------------------------------------------ labelled pages


def default_site_model(base: LineScores) -> SiteModel:
    """The site model a retrain makes from ``base`` unless told otherwise:
    ``SiteModel(base, threshold=default_threshold(base))``."""
    return SiteModel(base, threshold=default_threshold(base))
