"""Why a line got its score: per-feature contributions from the trees' decision paths.

For each tree, the rows walk from the root to their leaf; at every split the
move from a node to the child taken changes the node's expected value by
``E[child] - E[node]``, and that change is credited to the split's feature
(Saabas' method).  Summed over the trees, a row's contributions plus the
forest's expected value (the baseline plus each root's) give exactly its raw
score (log-odds), so the features with the largest contributions are the ones
that moved the line most, towards content (positive) or boilerplate
(negative).  A node's expected value is the mean of its children's (the flat
trees keep no training counts, so children weigh the same): the reference
score is not the training mean, but the decomposition stays exact.

The forest explained is the one whose score decides the line: a line
model's context stage (stage 2; stage 1 for a line stopped by its cascade,
or a model without context), a site model's site layer.  Everything is
numpy over the flat arrays of :mod:`boilerclf.model.trees`, vectorised over
rows and trees (a loop over the depth of the trees only).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from boilerclf.features.table import FEATURE_NAMES, N_STRUCT
from boilerclf.model._ctrees import expit
from boilerclf.model.scores import CONTEXT_NAMES, LineScores, SiteScores, stage2_input
from boilerclf.model.trees import FlatTrees

#: Input names of stage 1, stage 2 and a site layer.
STAGE1_NAMES = list(FEATURE_NAMES[N_STRUCT:])
STAGE2_NAMES = STAGE1_NAMES + list(CONTEXT_NAMES)
SITE_NAMES = STAGE2_NAMES + ["base_score"]


def node_expectations(trees: FlatTrees) -> np.ndarray:
    """Each node's expected value: its leaf value, or the mean of its children's."""
    return _expectations(trees)


@lru_cache(maxsize=16)
def _expectations(trees: FlatTrees) -> np.ndarray:
    e = trees.value.copy()
    inner = np.flatnonzero(trees.feature >= 0)
    left, right = trees.left[inner], trees.right[inner]
    # children come after their parents: updating until nothing changes settles every level
    for _ in range(len(trees.value)):
        new = 0.5 * (e[left] + e[right])
        if np.array_equal(new, e[inner]):
            break
        e[inner] = new
    return e


def contributions(trees: FlatTrees, A: np.ndarray, start: int = 0,
                  stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(bias, C)`` of the rows of ``A`` over trees ``start <= t < stop``:
    ``bias + C.sum(axis=1)`` is the rows' raw score (with the baseline) and
    ``C[i, f]`` the log-odds feature ``f`` added to row ``i``."""
    A = np.asarray(A, dtype=np.float64)
    stop = trees.n_trees if stop is None else stop
    roots = trees.roots[start:stop].astype(np.int64)
    e = node_expectations(trees)
    n = len(A)
    C = np.zeros((n, A.shape[1]))
    bias = np.full(n, trees.baseline + e[roots].sum())
    if n == 0 or len(roots) == 0:
        return bias, C
    node = np.broadcast_to(roots, (n, len(roots))).copy()
    rows = np.broadcast_to(np.arange(n)[:, None], node.shape)
    while True:
        f = trees.feature[node]
        act = f >= 0
        if not act.any():
            return bias, C
        r, nd, ft = rows[act], node[act], f[act]
        x = A[r, ft]
        go_left = np.where(np.isnan(x), trees.missing_left[nd] == 1, x <= trees.threshold[nd])
        child = np.where(go_left, trees.left[nd], trees.right[nd]).astype(np.int64)
        np.add.at(C, (r, ft), e[child] - e[nd])
        node[act] = child


@dataclass
class LineReasons:
    """Per line: the score, the forest that decided it, and each input's contribution.

    ``contributions[i, j]`` is input ``names[j]``'s log-odds added to line
    ``i`` by the deciding forest (``stage[i]``: ``"stage 1"``, ``"stage 2"``
    or ``"site layer"``); ``inputs[i, j]`` its value; ``bias[i]`` the
    forest's reference score; unused inputs of a line are 0.
    """

    scores: np.ndarray
    names: list[str]
    inputs: np.ndarray
    contributions: np.ndarray
    bias: np.ndarray
    stage: list[str]

    def top(self, i: int, n: int = 6) -> list[dict]:
        """Line ``i``'s ``n`` strongest reasons: ``{"feature", "value", "effect"}``, by |effect|."""
        c = self.contributions[i]
        order = np.argsort(-np.abs(c), kind="stable")[:n]
        return [{"feature": self.names[j], "value": float(self.inputs[i, j]), "effect": float(c[j])}
                for j in order if c[j] != 0]


def _forest(stage) -> FlatTrees:
    if not isinstance(stage, FlatTrees):
        raise ValueError("reasons need a model whose stages are flat trees (a model file)")
    return stage


def line_reasons(model: LineScores | SiteScores, X: np.ndarray) -> LineReasons:
    """The reasons of every line of the feature matrix ``X``
    (:mod:`boilerclf.features.table`) under a line or site model."""
    model.check_fitted()
    X = np.asarray(X, dtype=np.float32)
    n = len(X)
    if isinstance(model, SiteScores):
        trees = _forest(getattr(model, "site_trees_", None) or model.site_)
        Z = model.site_inputs(X)
        bias, C = contributions(trees, Z)
        return LineReasons(model.decision_scores(X), SITE_NAMES, Z.astype(np.float64), C, bias,
                           ["site layer"] * n)
    t1 = _forest(model.trees1_)
    F = X[:, N_STRUCT:]
    scores = model.decision_scores(X)
    k, cut = getattr(model, "exit_trees", 0), getattr(model, "exit_score", 0.0)
    early = 0 < k < t1.n_trees and cut > 0
    if model.stage2_ is None:
        stop1 = np.full(n, t1.n_trees)
        decided1 = np.ones(n, bool)
    else:
        cascade = getattr(model, "cascade", 0.0)
        s1 = model.stage1_scores(F)
        decided1 = s1 < cascade if cascade > 0 else np.zeros(n, bool)
        stop1 = np.full(n, t1.n_trees)
    if early:  # rows stopped after the first k trees were scored by those only
        stop1[expit(t1.raw_predict(F, 0, k)) < cut] = k
    width = len(STAGE2_NAMES) if model.stage2_ is not None else len(STAGE1_NAMES)
    inputs = np.zeros((n, width))
    C = np.zeros((n, width))
    bias = np.zeros(n)
    for stop in np.unique(stop1[decided1]):
        rows = np.flatnonzero(decided1 & (stop1 == stop))
        bias[rows], C[rows, :len(STAGE1_NAMES)] = contributions(t1, F[rows], 0, int(stop))
        inputs[rows, :len(STAGE1_NAMES)] = F[rows]
    rows = np.flatnonzero(~decided1)
    if len(rows):
        A = stage2_input(X, model.stage1_scores(F), rows)
        bias[rows], C[rows] = contributions(_forest(model.trees2_), A)
        inputs[rows] = A
    stage = np.where(decided1, "stage 1", "stage 2").tolist()
    names = STAGE2_NAMES if model.stage2_ is not None else STAGE1_NAMES
    return LineReasons(scores, names, inputs, C, bias, stage)
