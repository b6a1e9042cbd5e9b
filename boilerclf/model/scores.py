"""Scores of a fitted line model: the two-stage prediction, with numpy and compiled code only.

Stage 1 scores each line from its own features and its neighbours'; stage 2
(the context pass) sees stage 1's scores of the neighbouring lines and, for
each of the line's containers, the character-weighted mean score of the lines
under it and its share of the page's predicted content ("container votes"):
:func:`context_features`, :func:`stage2_input`.

:class:`LineScores` is the prediction half of a line model -- shared by the
estimator that trains one (:class:`boilerclf.model.classifier.LineClassifier`,
scikit-learn) and the model read from a file
(:class:`boilerclf.model.fitted.LinePredictor`, no scikit-learn) -- and
:class:`SiteScores` the same for a site model (:mod:`boilerclf.model.site`).
A stage that is flat trees (:mod:`boilerclf.model.trees`) predicts in compiled
code; any other stage through its own ``predict_proba``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from boilerclf.decide import decision
from boilerclf.features.table import N_STRUCT
from boilerclf.model._ctrees import expit
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


def threshold_param(value: Any) -> float | str:
    """A model's ``threshold`` as stored: a float, or the string of an
    :class:`~boilerclf.decide.decision.Auto` (``ValueError`` for anything else)."""
    d = decision.parse(value)
    return d if isinstance(d, float) else str(d)


class Predicts:
    """``predict_proba`` and ``predict`` from a model's ``decision_scores`` and
    ``threshold`` (a mixin)."""

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        s = self.decision_scores(X)
        return np.column_stack([1.0 - s, s])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """1 for the lines kept at ``threshold`` (per page for ``"auto"``), else 0."""
        X = np.asarray(X, dtype=np.float32)
        return decision.keep(decision.parse(self.threshold), self.decision_scores(X), X).astype(np.int64)


class LineScores(Predicts):
    """Prediction of a two-stage line model (a mixin).

    Reads ``stage1_`` and ``stage2_`` (None without the context pass), their
    flat trees ``trees1_`` and ``trees2_`` (None for a stage that is not flat
    trees), ``threshold`` and the shortcuts ``exit_trees``, ``exit_score`` and
    ``cascade`` (see :class:`~boilerclf.model.classifier.LineClassifier`).
    """

    def check_fitted(self) -> None:
        """Raise when the model has no stages yet (an estimator before ``fit``)."""
        if getattr(self, "stage1_", None) is None:
            raise ValueError(f"this {type(self).__name__} is not fitted")

    def stage_scores(self, k: int, A: np.ndarray) -> np.ndarray:
        """Probability of content from stage ``k`` (1 or 2) for its input matrix
        ``A``: compiled flat trees when the stage has them, else the stage's own
        ``predict_proba``."""
        trees = getattr(self, f"trees{k}_", None)
        if trees is not None:
            return trees.predict_proba1(A)
        return (self.stage1_ if k == 1 else self.stage2_).predict_proba(A)[:, 1]

    def stage1_scores(self, F: np.ndarray) -> np.ndarray:
        """Stage-1 scores, with the early exit (``exit_trees``, ``exit_score``)."""
        trees = getattr(self, "trees1_", None)
        k = getattr(self, "exit_trees", 0)  # models pickled before these existed
        cut = getattr(self, "exit_score", 0.0)
        if trees is None or not 0 < k < trees.n_trees or not cut > 0:
            return self.stage_scores(1, F)
        raw = trees.raw_predict(F, 0, k)
        s1 = expit(raw)
        go = np.flatnonzero(s1 >= cut)
        if len(go):
            s1[go] = expit(trees.raw_predict(F[go], k, init=raw[go]))
        return s1

    def decision_scores(self, X: np.ndarray) -> np.ndarray:
        """Probability that each line is content (1-D)."""
        self.check_fitted()
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        F = X[:, N_STRUCT:]
        s1 = self.stage1_scores(F)
        if self.stage2_ is None:
            return s1
        cut = getattr(self, "cascade", 0.0)
        if not cut > 0:
            return self.stage_scores(2, stage2_input(X, s1))
        out = s1.astype(np.float64)
        go = np.flatnonzero(s1 >= cut)
        if len(go):
            out[go] = self.stage_scores(2, stage2_input(X, s1, go))
        return out


class SiteScores(Predicts):
    """Prediction of a site model (a mixin): a fitted line model ``base_`` with a
    site layer ``site_`` (flat trees ``site_trees_``, or None for a layer that is
    not) on top, blended with weight ``weight_`` (see :mod:`boilerclf.model.site`)."""

    def check_fitted(self) -> None:
        """Raise when the model has no site layer yet (an estimator before ``fit``)."""
        if getattr(self, "site_", None) is None:
            raise ValueError(f"this {type(self).__name__} is not fitted")

    def site_inputs(self, X: np.ndarray, base: LineScores | None = None) -> np.ndarray:
        """The site layer's input for a feature matrix: the line features, the base
        model's context inputs and its final score (``base`` default ``base_``)."""
        base = self.base_ if base is None else base
        s1 = base.stage_scores(1, X[:, N_STRUCT:])
        A = stage2_input(X, s1)  # [F, C]
        s = base.stage_scores(2, A) if base.stage2_ is not None else s1
        return np.hstack([A, s[:, None].astype(np.float32)])

    def decision_scores(self, X: np.ndarray) -> np.ndarray:
        """Probability that each line is content (1-D)."""
        self.check_fitted()
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        Z = self.site_inputs(X)
        trees = getattr(self, "site_trees_", None)
        z = trees.predict_proba1(Z) if trees is not None else self.site_.predict_proba(Z)[:, 1]
        return self.weight_ * z + (1.0 - self.weight_) * Z[:, -1]

