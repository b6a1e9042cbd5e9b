"""Flat trees: a fitted HistGradientBoosting classifier as plain arrays, predicted in C.

:meth:`FlatTrees.from_hgb` turns a fitted binary
:class:`~sklearn.ensemble.HistGradientBoostingClassifier` (numerical features
only) into one table of nodes over all its trees -- per node the feature
index (-1 for a leaf), the float64 threshold, whether a missing value (NaN)
goes left, the left and right child (absolute indices), the leaf value -- plus
each tree's root and the baseline score.  :meth:`FlatTrees.predict_proba1`
scores a float32 or float64 matrix in compiled code (``boilerclf.model._ctrees``:
one thread, no GIL, no input validation beyond the shape) and gives exactly
scikit-learn's ``predict_proba(X)[:, 1]``: the same comparisons in float64,
the same summation order, the same logistic link as ``scipy.special.expit``
(:func:`boilerclf.model._ctrees.expit`, compiled: predicting needs no scipy).

The shipped models' trees are also compiled as C code when boilerclf is
built (:mod:`boilerclf.model.codegen`); a FlatTrees whose arrays match one of those
forests (by digest) predicts through it, about twice as fast, with the same
scores to the bit.  Set ``BOILERCLF_COMPILED_TREES=0`` (or
``boilerclf.model.trees.COMPILED = False``) to use the node table for every model.

The arrays are all a model file needs (:func:`boilerclf.model.files.save` writes
them with a JSON header, no pickle), and :meth:`FlatTrees.from_arrays` checks
them before the compiled code sees them, so a corrupt or hostile file cannot
make the predictor read out of bounds or loop.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from boilerclf.model import codegen
from boilerclf.model._ctrees import Forest, expit

try:
    from boilerclf.model._cmodels import add_raw as compiled_add_raw
    from boilerclf.model._cmodels import digests as compiled_digests
    _COMPILED_INDEX = {d: k for k, d in enumerate(compiled_digests())}
except ImportError:  # built without it: every forest walks the node table
    compiled_add_raw = None
    _COMPILED_INDEX = {}

#: Whether forests that were compiled at build time predict through their C code.
COMPILED = os.environ.get("BOILERCLF_COMPILED_TREES", "1") != "0"

#: Most input features a stored forest may declare (its ``meta`` array).
MAX_FEATURES = 1 << 20

#: Array names and dtypes of a :class:`FlatTrees` (also the names in model files).
ARRAYS = {
    "feature": np.int32,
    "threshold": np.float64,
    "missing_left": np.uint8,
    "left": np.int32,
    "right": np.int32,
    "value": np.float64,
    "roots": np.int32,
}


@dataclass(eq=False)
class FlatTrees:
    """A binary tree ensemble with a logistic link, as flat arrays.

    Use :meth:`from_hgb` (from a fitted model) or :meth:`from_arrays` (from
    stored arrays).  It is a predictor, not an estimator: it cannot be fitted.
    It has ``classes_``, ``n_features_in_``, :meth:`predict_proba` and
    :meth:`predict` so code written for a scikit-learn classifier can use it.
    """

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    baseline: float
    n_features_in_: int
    classes_: np.ndarray = field(default_factory=lambda: np.array([0, 1]))
    _forest: Forest = field(init=False, repr=False)
    _compiled: int | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        for name, dt in ARRAYS.items():
            a = np.asarray(getattr(self, name))
            if a.ndim != 1 or a.dtype != dt:
                raise ValueError(f"{name} must be a 1-D {np.dtype(dt).name} array, "
                                 f"got {a.ndim}-D {a.dtype}")
            setattr(self, name, a)
        self.baseline = float(self.baseline)
        if not np.isfinite(self.baseline):
            raise ValueError(f"baseline must be a finite number, not {self.baseline!r}")
        if not np.isfinite(self.value).all():
            raise ValueError("value (the leaf values) must be finite numbers")
        if np.isnan(self.threshold).any():
            raise ValueError("threshold (the split thresholds) must not be NaN")
        self.n_features_in_ = int(self.n_features_in_)
        self.classes_ = np.asarray(self.classes_)
        if self.classes_.shape != (2,):
            raise ValueError("FlatTrees is a binary classifier: classes_ must have 2 labels")
        # checks every index (bounds, children after parents) before any prediction
        self._forest = Forest(self.feature, self.threshold, self.missing_left, self.left,
                              self.right, self.value, self.roots, self.baseline,
                              self.n_features_in_)
        self._compiled = _COMPILED_INDEX.get(self.digest()) if _COMPILED_INDEX else None

    def digest(self) -> str:
        """The forest's :func:`boilerclf.model.codegen.digest` (of its node arrays and
        feature count; not of the baseline or the class labels)."""
        return codegen.digest({name: np.ascontiguousarray(getattr(self, name), dtype=fmt).tobytes()
                               for name, fmt in codegen.LAYOUT.items()}, self.n_features_in_)

    @property
    def compiled(self) -> bool:
        """Whether this forest predicts through trees compiled at build time."""
        return self._compiled is not None and COMPILED

    # -------------------------------------------------------------- building
    @classmethod
    def from_hgb(cls, est) -> FlatTrees:
        """Flatten a fitted binary HistGradientBoostingClassifier without
        categorical features (raises ``ValueError`` otherwise)."""
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.utils.validation import check_is_fitted

        if not isinstance(est, HistGradientBoostingClassifier):
            raise ValueError(f"expected a HistGradientBoostingClassifier, got {type(est).__name__}")
        check_is_fitted(est)
        if est.n_trees_per_iteration_ != 1 or len(est.classes_) != 2:
            raise ValueError("only binary HistGradientBoostingClassifier models can be flattened")
        if est.is_categorical_ is not None or getattr(est, "_preprocessor", None) is not None:
            raise ValueError("models with categorical features cannot be flattened")
        if type(est._loss).__name__ != "HalfBinomialLoss":
            raise ValueError(f"unsupported loss {type(est._loss).__name__}")
        nodes = [p[0].nodes for p in est._predictors]
        if any(n["is_categorical"].any() for n in nodes):
            raise ValueError("models with categorical splits cannot be flattened")
        sizes = np.array([len(n) for n in nodes], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        allnodes = np.concatenate(nodes)
        shift = np.repeat(offsets, sizes)
        leaf = allnodes["is_leaf"].astype(bool)
        feature = np.where(leaf, -1, allnodes["feature_idx"]).astype(np.int32)
        left = np.where(leaf, -1, allnodes["left"].astype(np.int64) + shift).astype(np.int32)
        right = np.where(leaf, -1, allnodes["right"].astype(np.int64) + shift).astype(np.int32)
        baseline = np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)
        return cls(
            feature=feature,
            threshold=np.where(leaf, 0.0, allnodes["num_threshold"]).astype(np.float64),
            missing_left=np.where(leaf, 0, allnodes["missing_go_to_left"]).astype(np.uint8),
            left=left, right=right,
            value=np.where(leaf, allnodes["value"], 0.0).astype(np.float64),
            roots=offsets.astype(np.int32),
            baseline=float(baseline[0]),
            n_features_in_=int(est.n_features_in_),
            classes_=np.asarray(est.classes_),
        )

    def arrays(self) -> dict[str, np.ndarray]:
        """The node arrays plus ``meta`` (float64: baseline, n_features, the two class labels)."""
        out = {name: getattr(self, name) for name in ARRAYS}
        out["meta"] = np.array([self.baseline, self.n_features_in_, *self.classes_.astype(np.float64)])
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> FlatTrees:
        """Inverse of :meth:`arrays`; raises ``ValueError`` on arrays that do not
        form a well-made ensemble (wrong dtypes or shapes, bad indices)."""
        missing = sorted((set(ARRAYS) | {"meta"}) - set(arrays))
        if missing:
            raise ValueError(f"missing arrays: {', '.join(missing)}")
        meta = np.asarray(arrays["meta"])
        if meta.dtype != np.float64 or meta.shape != (4,):
            raise ValueError("meta must be 4 float64 values")
        n_features = meta[1]
        if not (np.isfinite(n_features) and n_features == int(n_features)
                and 1 <= n_features <= MAX_FEATURES):
            raise ValueError(f"bad feature count {n_features}")
        classes = meta[2:]
        if not (np.isfinite(classes).all() and np.array_equal(classes, np.round(classes))
                and classes[0] != classes[1] and np.abs(classes).max() < 2.0 ** 53):
            raise ValueError("class labels must be two different integers")
        return cls(**{name: arrays[name] for name in ARRAYS}, baseline=meta[0],
                   n_features_in_=int(n_features), classes_=classes.astype(np.int64))

    # ------------------------------------------------------------ predicting
    @property
    def n_trees(self) -> int:
        return len(self.roots)

    def raw_predict(self, X: np.ndarray, start: int = 0, stop: int | None = None,
                    init: np.ndarray | None = None) -> np.ndarray:
        """Raw scores (log-odds, float64) of a 2-D float32 or float64 matrix.

        ``start``/``stop`` sum only trees ``start <= t < stop``, onto ``init``
        (the raw scores of the trees before ``start``) or the baseline; the
        two parts chained give the whole sum to the bit (compiled trees or
        not, see :attr:`compiled`)."""
        if (self.compiled and isinstance(X, np.ndarray) and X.dtype == np.float32 and X.ndim == 2
                and X.shape[1] == self.n_features_in_ and (X.shape[0] == 0 or X.strides[1] == X.itemsize)):
            if init is None:
                out = np.full(X.shape[0], self.baseline, dtype=np.float64)
            else:
                out = np.array(init, dtype=np.float64, copy=True)
                if out.shape != (X.shape[0],):
                    raise ValueError(f"init has shape {out.shape}, not ({X.shape[0]},)")
            # add_raw checks the tree range
            return compiled_add_raw(self._compiled, X, start, self.n_trees if stop is None else stop, out)
        return self._forest.raw(X, start, stop, init)

    def predict_proba1(self, X: np.ndarray) -> np.ndarray:
        """Probability of ``classes_[1]`` for each row (1-D float64)."""
        return expit(self.raw_predict(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """``(n, 2)`` class probabilities, as scikit-learn's ``predict_proba``."""
        p = self.predict_proba1(X)
        out = np.empty((len(p), 2))
        out[:, 1] = p
        out[:, 0] = 1 - p
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels, as scikit-learn's ``predict`` (argmax of the probabilities)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_forest", "_compiled")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__post_init__()


def flatten(est) -> FlatTrees | None:
    """The flat trees of a fitted stage, or None when it is not a binary
    HistGradientBoostingClassifier over numerical features."""
    if est is None or isinstance(est, FlatTrees):
        return est
    try:
        return FlatTrees.from_hgb(est)
    except ValueError:
        return None
