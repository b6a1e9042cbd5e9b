"""Features to scores: the line classifier and its context pass.

:class:`LineClassifier` is a scikit-learn estimator over the matrices of
:mod:`boilerclf.features.table`.  Stage 1 scores each line from its own features
and its neighbours'.  Stage 2 (the context pass, stacked sequential learning)
sees stage 1's scores of the neighbouring lines and, for each of the line's
containers, the character-weighted mean score of the lines under it and its
share of the page's predicted content ("container votes"); it is trained on
out-of-fold stage-1 scores (grouped by page) so it learns from honest scores.

Prediction goes through :mod:`boilerclf.model.trees` (compiled flat trees, the
same probabilities as scikit-learn's ``predict_proba``) whenever a stage is a
binary HistGradientBoostingClassifier, the default; fitting is scikit-learn.
Model files are :mod:`boilerclf.model.files`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from boilerclf.decide import decision
from boilerclf.features.table import FEATURE_NAMES, N_STRUCT, SCHEMA_VERSION
from boilerclf.model.trees import FlatTrees, expit
from boilerclf.parse.lines import N_ANCESTORS

CONTEXT_OFFSETS = (-3, -2, -1, 1, 2, 3)
CONTEXT_NAMES = (
    ["s1", "s1_smooth5", "s1_page_mean", "s1_page_max"]
    + [f"s1_{'prev' if o < 0 else 'next'}{abs(o)}" for o in CONTEXT_OFFSETS]
    + [f"anc{k}_{s}" for k in range(N_ANCESTORS) for s in ("vote", "content_share")]
)




def _page_offsets(X: np.ndarray) -> np.ndarray:
    """Row index of each row's page start (rows of a page are contiguous)."""
    line = X[:, 1].astype(np.int64)
    return np.arange(len(X)) - line


def context_features(X: np.ndarray, s1: np.ndarray) -> np.ndarray:
    """Stage-2 inputs from stage-1 scores ``s1`` (see module docstring)."""
    n = len(X)
    out = np.zeros((n, len(CONTEXT_NAMES)), dtype=np.float32)
    if n == 0:
        return out
    off = _page_offsets(X)
    page = X[:, 0]
    chars = X[:, 2].astype(np.float64)
    s1 = s1.astype(np.float64)
    out[:, 0] = s1
    # smoothed score within the page
    cs = np.concatenate([[0.0], np.cumsum(s1)])
    n_lines_page = np.zeros(n, dtype=np.int64)
    starts = np.flatnonzero(X[:, 1] == 0)
    ends = np.append(starts[1:], n)
    n_lines_page[:] = np.repeat(ends - starts, ends - starts)
    idx = np.arange(n)
    lo = np.maximum(idx - 2, off)
    hi = np.minimum(idx + 3, off + n_lines_page)
    out[:, 1] = (cs[hi] - cs[lo]) / (hi - lo)
    wsum = np.add.reduceat(s1 * chars, starts)
    csum = np.add.reduceat(chars, starts)
    out[:, 2] = np.repeat(wsum / np.maximum(csum, 1.0), ends - starts)
    out[:, 3] = np.repeat(np.maximum.reduceat(s1, starts), ends - starts)
    for j, o in enumerate(CONTEXT_OFFSETS):
        src = idx + o
        ok = (src >= 0) & (src < n)
        ok[ok] &= page[src[ok]] == page[ok]
        col = np.full(n, -1.0)
        col[ok] = s1[src[ok]]
        out[:, 4 + j] = col
    cw = np.concatenate([[0.0], np.cumsum(s1 * chars)])
    cc = np.concatenate([[0.0], np.cumsum(chars)])
    page_content = np.repeat(wsum, ends - starts)
    base = 4 + len(CONTEXT_OFFSETS)
    for k in range(N_ANCESTORS):
        a = off + X[:, 3 + k].astype(np.int64)
        b = off + X[:, 3 + N_ANCESTORS + k].astype(np.int64)
        w = cw[b] - cw[a]
        out[:, base + 2 * k] = w / np.maximum(cc[b] - cc[a], 1.0)
        out[:, base + 2 * k + 1] = w / np.maximum(page_content, 1e-6)
    return out


try:  # compiled (boilerclf/features/_cfeat.pyx); context_features above stays the reference
    from boilerclf.features._cfeat import stage2_input as stage2_input_compiled
except ImportError:
    stage2_input_compiled = None

_OFFSETS = np.array(CONTEXT_OFFSETS, dtype=np.int64)


def stage2_input(X: np.ndarray, s1: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Stage 2's input for the rows ``rows`` (default all) of a feature matrix:
    ``np.hstack([X[rows, N_STRUCT:], context_features(X, s1)[rows]])``, as float32,
    computed for those rows only (compiled when it can be; same values)."""
    X = np.asarray(X, dtype=np.float32)
    rows = np.arange(len(X)) if rows is None else np.asarray(rows, dtype=np.int64)
    starts = np.flatnonzero(X[:, 1] == 0)
    if stage2_input_compiled is None or not len(starts) or starts[0] != 0:
        return np.hstack([X[rows, N_STRUCT:], context_features(X, s1)[rows]])
    X = np.ascontiguousarray(X)
    s1 = np.ascontiguousarray(s1, dtype=np.float64)
    chars = X[:, 2].astype(np.float64)
    out = np.empty((len(rows), X.shape[1] - N_STRUCT + len(CONTEXT_NAMES)), dtype=np.float32)
    stage2_input_compiled(X, s1, rows, starts, np.add.reduceat(s1 * chars, starts),
                    np.add.reduceat(chars, starts), np.maximum.reduceat(s1, starts),
                    N_STRUCT, N_ANCESTORS, _OFFSETS, out)
    return out


def flatten(est) -> FlatTrees | None:
    """The flat trees of a fitted stage, or None when it is not a binary
    HistGradientBoostingClassifier over numerical features."""
    if est is None or isinstance(est, FlatTrees):
        return est
    try:
        return FlatTrees.from_hgb(est)
    except ValueError:
        return None


def _default_base(random_state: int | None, max_iter: int = 150) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=random_state,
    )


class LineClassifier(ClassifierMixin, BaseEstimator):
    """Two-stage line classifier over :mod:`boilerclf.features.table` matrices.

    Parameters
    ----------
    estimator : classifier, default HistGradientBoostingClassifier
        The stage-1 model (cloned); any scikit-learn classifier with
        ``predict_proba``.
    context : bool, default True
        Whether to train the stage-2 context pass.
    context_estimator : classifier, default same as ``estimator``
        The stage-2 model (cloned).
    n_folds : int, default 2
        Folds (grouped by page) for the out-of-fold stage-1 scores.
    max_lines_per_page : int or None, default 400
        Fit on at most this many lines of each page (drawn at random), so long
        pages do not drown short ones (cheaper than sample weights, which slow
        HistGradientBoosting down about 4x).  Context features are still
        computed on whole pages.  400 beat 150 in HTML leave-one-dataset-out
        runs with two seeds (8-set macro +0.0017 and +0.0031).
    threshold : float or "auto", default 0.5
        Score at or above which a line is content, or ``"auto"`` (also
        ``"auto:<recall weight>"``): a threshold chosen per page from the
        page's own scores (:mod:`boilerclf.decide.decision`).  The shipped models
        say which they use (``boilerclf train`` picks it by LODO F1).
    random_state : int or None, default 0
    exit_trees, exit_score : int, float, default 30, 0.0
        Early exit of stage 1 at prediction: after its first ``exit_trees``
        trees, a line whose score so far is below ``exit_score`` stops there
        (that score is its stage-1 score); the other lines go through every
        tree.  ``exit_score=0`` (the default) runs every tree.  Only for
        stages that are flat trees (the default).
    cascade : float, default 0.0
        A line whose stage-1 score is below this skips stage 2 and keeps its
        stage-1 score (the context inputs of the other lines still use every
        line's stage-1 score).  0 (the default) sends every line through both
        stages.

        ``boilerclf train`` gives the HTML model ``exit_score=0.05,
        cascade=0.05`` (``training/train.py``, ``SHORTCUTS``), stored in its
        file: the trees then do about half the work at the same F1, measured
        leave-one-dataset-out on the shared sets (model card).  Fitting uses
        neither setting (stage 2 learns from full out-of-fold scores).
    max_iter : int, default 150
        Trees per stage of the default estimator (HistGradientBoosting at
        learning rate 0.1, 31 leaves); ignored for a stage given its own
        ``estimator`` / ``context_estimator``.

    Attributes (after ``fit``): ``stage1_``, ``stage2_`` (None without the
    context pass) the fitted stage models; ``trees1_``, ``trees2_`` their
    :class:`~boilerclf.model.trees.FlatTrees` (None for a stage that is not a binary
    HistGradientBoostingClassifier, which then predicts through scikit-learn).
    A model read from a file has FlatTrees as its stages (it predicts, but
    ``fit`` a clone to train again).

    The first ``N_STRUCT`` columns of ``X`` are the structure columns of
    :mod:`boilerclf.features.table` (page id, line index, ...); rows of one page must
    be contiguous and in order, so split data by page (e.g. ``GroupKFold`` with
    ``groups=X[:, 0]``).
    """

    def __init__(self, estimator=None, context: bool = True, context_estimator=None,
                 n_folds: int = 2, max_lines_per_page: int | None = 400, threshold: float = 0.5,
                 random_state: int | None = 0, exit_trees: int = 30, exit_score: float = 0.0,
                 cascade: float = 0.0, max_iter: int = 150):
        self.estimator = estimator
        self.context = context
        self.context_estimator = context_estimator
        self.n_folds = n_folds
        self.max_lines_per_page = max_lines_per_page
        self.threshold = threshold
        self.random_state = random_state
        self.exit_trees = exit_trees
        self.exit_score = exit_score
        self.cascade = cascade
        self.max_iter = max_iter

    def _base(self, which):
        est = which if which is not None else (
            self.estimator if self.estimator is not None
            else _default_base(self.random_state, getattr(self, "max_iter", 150)))
        return clone(est)

    def _row_mask(self, X: np.ndarray, labelled: np.ndarray) -> np.ndarray:
        """Rows to fit on: at most ``max_lines_per_page`` random labelled lines per page."""
        cap = self.max_lines_per_page
        if not cap:
            return labelled.copy()
        pages = X[:, 0]
        rng = np.random.default_rng(self.random_state)
        # labelled lines first within a page, in random order (the same draws
        # and order as without the key when every line is labelled)
        order = np.lexsort((rng.random(len(X)), ~labelled, pages))
        sp = pages[order]
        first = np.searchsorted(sp, sp)
        rank = np.empty(len(X), dtype=np.int64)
        rank[order] = np.arange(len(X)) - first
        return (rank < cap) & labelled

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
        """Fit stage 1, then stage 2 on out-of-fold stage-1 scores. Returns self.

        ``y`` is 1 (content) or 0 (boilerplate) per line, or -1 for a line
        without a label (a page labelled only in part, such as a page of
        snippets that must or must not be kept): such a line is no training
        row, but its stage-1 score is part of its neighbours' context inputs.
        """
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y).astype(np.int64)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"X must have {len(FEATURE_NAMES)} columns (features schema "
                             f"{SCHEMA_VERSION}), got shape {X.shape}")
        if y.shape != (len(X),) or not np.isin(y, (-1, 0, 1)).all():
            raise ValueError("y must hold one label per row of X: 1 (content), 0 (boilerplate) "
                             "or -1 (no label)")
        labelled = y >= 0
        if not labelled.any():
            raise ValueError("y has no labelled line (every label is -1)")
        y = np.maximum(y, 0)
        F = X[:, N_STRUCT:]
        rows = self._row_mask(X, labelled)
        sw = None if sample_weight is None else np.asarray(sample_weight)

        def fit_on(est, A, mask):
            kw = {} if sw is None else {"sample_weight": sw[mask]}
            return est.fit(A[mask], y[mask], **kw)

        self.stage1_ = fit_on(self._base(None), F, rows)
        self.classes_ = self.stage1_.classes_
        self.n_features_in_ = X.shape[1]
        self.stage2_ = None
        if self.context:
            groups = X[:, 0]
            oof = np.zeros(len(X))
            folds = min(self.n_folds, len(np.unique(groups)))
            if folds >= 2:
                for tr, te in GroupKFold(n_splits=folds).split(F, y, groups):
                    mask = np.zeros(len(X), dtype=bool)
                    mask[tr] = True
                    m = fit_on(self._base(None), F, mask & rows)
                    cls = list(m.classes_)  # a fold of few labelled lines may hold one class
                    oof[te] = m.predict_proba(F[te])[:, cls.index(1)] if 1 in cls else 0.0
            else:
                oof = self.stage1_.predict_proba(F)[:, 1]
            C = context_features(X, oof)
            self.stage2_ = fit_on(self._base(self.context_estimator), np.hstack([F, C]), rows)
        self.trees1_ = flatten(self.stage1_)
        self.trees2_ = flatten(self.stage2_)
        return self

    def _stage_scores(self, k: int, A: np.ndarray) -> np.ndarray:
        """Probability of content from stage ``k``: compiled flat trees when the
        stage has them, else the stage's own ``predict_proba``."""
        trees = getattr(self, f"trees{k}_", None)
        if trees is not None:
            return trees.predict_proba1(A)
        return (self.stage1_ if k == 1 else self.stage2_).predict_proba(A)[:, 1]

    def _stage1_scores(self, F: np.ndarray) -> np.ndarray:
        """Stage-1 scores, with the early exit (``exit_trees``, ``exit_score``)."""
        trees = getattr(self, "trees1_", None)
        k = getattr(self, "exit_trees", 0)  # models pickled before these existed
        cut = getattr(self, "exit_score", 0.0)
        if trees is None or not 0 < k < trees.n_trees or not cut > 0:
            return self._stage_scores(1, F)
        raw = trees.raw_predict(F, 0, k)
        s1 = expit(raw)
        go = np.flatnonzero(s1 >= cut)
        if len(go):
            s1[go] = expit(trees.raw_predict(F[go], k, init=raw[go]))
        return s1

    def decision_scores(self, X: np.ndarray) -> np.ndarray:
        """Probability that each line is content (1-D)."""
        check_is_fitted(self, "stage1_")
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        F = X[:, N_STRUCT:]
        s1 = self._stage1_scores(F)
        if self.stage2_ is None:
            return s1
        cut = getattr(self, "cascade", 0.0)
        if not cut > 0:
            return self._stage_scores(2, stage2_input(X, s1))
        out = s1.astype(np.float64)
        go = np.flatnonzero(s1 >= cut)
        if len(go):
            out[go] = self._stage_scores(2, stage2_input(X, s1, go))
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        s = self.decision_scores(X)
        return np.column_stack([1.0 - s, s])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """1 for the lines kept at ``threshold`` (per page for ``"auto"``), else 0."""
        X = np.asarray(X, dtype=np.float32)
        return decision.keep(decision.parse(self.threshold), self.decision_scores(X), X).astype(np.int64)


def threshold_param(value: Any) -> float | str:
    """A model's ``threshold`` as stored: a float, or the string of an
    :class:`~boilerclf.decide.decision.Auto` (``ValueError`` for anything else)."""
    d = decision.parse(value)
    return d if isinstance(d, float) else str(d)


# ---------------------------------------------------------------- model files

