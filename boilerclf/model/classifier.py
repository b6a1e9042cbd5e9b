"""Features to scores: the line classifier and its context pass.

:class:`LineClassifier` is a scikit-learn estimator over the matrices of
:mod:`boilerclf.features.table`.  Stage 1 scores each line from its own features
and its neighbours'.  Stage 2 (the context pass, stacked sequential learning)
sees stage 1's scores of the neighbouring lines and, for each of the line's
containers, the character-weighted mean score of the lines under it and its
share of the page's predicted content ("container votes"); it is trained on
out-of-fold stage-1 scores (grouped by page) so it learns from honest scores.

Prediction is :class:`~boilerclf.model.scores.LineScores` (the stages' inputs
are computed there too), through :mod:`boilerclf.model.trees` (compiled flat
trees, the same probabilities as scikit-learn's ``predict_proba``) whenever a
stage is a binary HistGradientBoostingClassifier, the default; fitting is
scikit-learn (the ``train`` extra).  Model files are :mod:`boilerclf.model.files`;
a model read from one is a :class:`~boilerclf.model.fitted.LinePredictor`, which
predicts without scikit-learn.
"""
from __future__ import annotations

import numpy as np

from boilerclf.features.table import FEATURE_NAMES, N_STRUCT, SCHEMA_VERSION
from boilerclf.model.requires import needs_sklearn
from boilerclf.model.scores import (  # the context pass's inputs are computed there
    CONTEXT_NAMES,
    CONTEXT_OFFSETS,
    LineScores,
    context_features,
    stage2_input,
    threshold_param,
)
from boilerclf.model.trees import flatten

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, clone
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:
    raise needs_sklearn("fitting a line model (LineClassifier)", exc) from None

__all__ = ["LineClassifier", "CONTEXT_NAMES", "CONTEXT_OFFSETS", "context_features", "stage2_input",
           "flatten", "threshold_param"]


def _default_base(random_state: int | None, max_iter: int = 150) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=random_state,
    )


class LineClassifier(LineScores, ClassifierMixin, BaseEstimator):
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
        runs (``docs/research/model-history.md``).
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
        file: the trees then do about half the work at the same F1
        (``docs/research/model-history.md``).  Fitting uses
        neither setting (stage 2 learns from full out-of-fold scores).
    max_iter : int, default 150
        Trees per stage of the default estimator (HistGradientBoosting at
        learning rate 0.1, 31 leaves); ignored for a stage given its own
        ``estimator`` / ``context_estimator``.

    Attributes (after ``fit``): ``stage1_``, ``stage2_`` (None without the
    context pass) the fitted stage models; ``trees1_``, ``trees2_`` their
    :class:`~boilerclf.model.trees.FlatTrees` (None for a stage that is not a binary
    HistGradientBoostingClassifier, which then predicts through scikit-learn).
    A model read from a file is a :class:`~boilerclf.model.fitted.LinePredictor`
    with FlatTrees as its stages: it predicts, and ``clone`` gives the
    LineClassifier with its settings to train again.

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

    def check_fitted(self) -> None:
        check_is_fitted(self, "stage1_")
