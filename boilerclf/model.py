"""Features to scores: the line classifier, its context pass, and model files.

:class:`LineClassifier` is a scikit-learn estimator over the matrices of
:mod:`boilerclf.features`.  Stage 1 scores each line from its own features
and its neighbours'.  Stage 2 (the context pass, stacked sequential learning)
sees stage 1's scores of the neighbouring lines and, for each of the line's
containers, the character-weighted mean score of the lines under it and its
share of the page's predicted content ("container votes"); it is trained on
out-of-fold stage-1 scores (grouped by page) so it learns from honest scores.

Model files are joblib dumps of ``{"header": ..., "model": ...}``; the header
records the feature-schema version, the scikit-learn version, the training
data and the scores.  :func:`load` refuses a file whose schema or
scikit-learn version does not match, with a message saying what to do.
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from .features import FEATURE_NAMES, N_STRUCT, SCHEMA_VERSION
from .lines import N_ANCESTORS

CONTEXT_OFFSETS = (-3, -2, -1, 1, 2, 3)
CONTEXT_NAMES = (
    ["s1", "s1_smooth5", "s1_page_mean", "s1_page_max"]
    + [f"s1_{'prev' if o < 0 else 'next'}{abs(o)}" for o in CONTEXT_OFFSETS]
    + [f"anc{k}_{s}" for k in range(N_ANCESTORS) for s in ("vote", "content_share")]
)


class ModelError(Exception):
    """A model file that cannot be used (wrong schema, version, or corrupt)."""


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


def _default_base(random_state: int | None) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=random_state,
    )


class LineClassifier(ClassifierMixin, BaseEstimator):
    """Two-stage line classifier over :mod:`boilerclf.features` matrices.

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
    max_lines_per_page : int or None, default 150
        Fit on at most this many lines of each page (drawn at random), so long
        pages do not drown short ones (cheaper than sample weights, which slow
        HistGradientBoosting down about 4x).  Context features are still
        computed on whole pages.
    threshold : float, default 0.5
        Score at or above which a line is content.
    random_state : int or None, default 0

    The first ``N_STRUCT`` columns of ``X`` are the structure columns of
    :mod:`boilerclf.features` (page id, line index, ...); rows of one page must
    be contiguous and in order, so split data by page (e.g. ``GroupKFold`` with
    ``groups=X[:, 0]``).
    """

    def __init__(self, estimator=None, context: bool = True, context_estimator=None,
                 n_folds: int = 2, max_lines_per_page: int | None = 150, threshold: float = 0.5,
                 random_state: int | None = 0):
        self.estimator = estimator
        self.context = context
        self.context_estimator = context_estimator
        self.n_folds = n_folds
        self.max_lines_per_page = max_lines_per_page
        self.threshold = threshold
        self.random_state = random_state

    def _base(self, which):
        est = which if which is not None else (
            self.estimator if self.estimator is not None else _default_base(self.random_state))
        return clone(est)

    def _row_mask(self, X: np.ndarray) -> np.ndarray:
        """Rows to fit on: at most ``max_lines_per_page`` random lines per page."""
        cap = self.max_lines_per_page
        if not cap:
            return np.ones(len(X), dtype=bool)
        pages = X[:, 0]
        rng = np.random.default_rng(self.random_state)
        order = np.lexsort((rng.random(len(X)), pages))
        sp = pages[order]
        first = np.searchsorted(sp, sp)
        rank = np.empty(len(X), dtype=np.int64)
        rank[order] = np.arange(len(X)) - first
        return rank < cap

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
        """Fit stage 1, then stage 2 on out-of-fold stage-1 scores. Returns self."""
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y).astype(np.int64)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"X must have {len(FEATURE_NAMES)} columns (features schema "
                             f"{SCHEMA_VERSION}), got shape {X.shape}")
        F = X[:, N_STRUCT:]
        rows = self._row_mask(X)
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
                    oof[te] = m.predict_proba(F[te])[:, 1]
            else:
                oof = self.stage1_.predict_proba(F)[:, 1]
            C = context_features(X, oof)
            self.stage2_ = fit_on(self._base(self.context_estimator), np.hstack([F, C]), rows)
        return self

    def decision_scores(self, X: np.ndarray) -> np.ndarray:
        """Probability that each line is content (1-D)."""
        check_is_fitted(self, "stage1_")
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        F = X[:, N_STRUCT:]
        s1 = self.stage1_.predict_proba(F)[:, 1]
        if self.stage2_ is None:
            return s1
        C = context_features(X, s1)
        return self.stage2_.predict_proba(np.hstack([F, C]))[:, 1]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        s = self.decision_scores(X)
        return np.column_stack([1.0 - s, s])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.decision_scores(X) >= self.threshold).astype(np.int64)


# ---------------------------------------------------------------- model files

def _sklearn_version() -> str:
    return ".".join(sklearn.__version__.split(".")[:2])


def save(model: LineClassifier, path: str | Path, *, kind: str, **header: Any) -> dict:
    """Write ``model`` with a header to ``path`` (atomically); returns the header."""
    import joblib

    check_is_fitted(model)
    head = {
        "format": "boilerclf-model",
        "schema_version": SCHEMA_VERSION,
        "sklearn_version": _sklearn_version(),
        "kind": kind,
        "n_features": len(FEATURE_NAMES),
        **header,
    }
    path = Path(path)
    buf = io.BytesIO()
    joblib.dump({"header": head, "model": model}, buf, compress=3)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)
    return head


def sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load(path: str | Path) -> tuple[LineClassifier, dict]:
    """Load a model file; raises :class:`ModelError` with a clear message.

    The model is a :class:`LineClassifier` or a site model
    (:class:`boilerclf.site.SiteModel`: a LineClassifier inside with a site
    layer on top, with the same ``decision_scores`` / ``threshold``).
    """
    import joblib

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        obj = joblib.load(path)
    except Exception as exc:  # corrupt, truncated, or not a joblib file
        raise ModelError(f"cannot read model file {path}: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, dict) or "header" not in obj or "model" not in obj:
        raise ModelError(f"{path} is not a boilerclf model file")
    head = obj["header"]
    if head.get("schema_version") != SCHEMA_VERSION:
        raise ModelError(
            f"{path} was trained for feature schema {head.get('schema_version')}, this boilerclf "
            f"computes schema {SCHEMA_VERSION}: retrain it with `boilerclf train`")
    if head.get("sklearn_version") != _sklearn_version():
        raise ModelError(
            f"{path} was saved with scikit-learn {head.get('sklearn_version')}, this is "
            f"{_sklearn_version()}: install that version or retrain with `boilerclf train`")
    model = obj["model"]
    from .site import SiteModel

    if not isinstance(model, (LineClassifier, SiteModel)):
        raise ModelError(f"{path} does not hold a LineClassifier or a SiteModel")
    return model, head


def header_json(head: dict) -> str:
    return json.dumps(head, indent=2, sort_keys=True, default=str)
