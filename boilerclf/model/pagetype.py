"""The page-type model: what kind of page a page is, from its page vector.

A multinomial logistic regression over standardised page vectors
(:mod:`boilerclf.features.page`), fitted with scikit-learn
(:class:`boilerclf.model.pagetype_fit.PageTypeModel`) and predicted with numpy
(:class:`PageTypeScores`).  Its file holds only arrays and a JSON header (never
unpickled): the classes, the column names it was fitted on, the scaler and
the weights; :func:`load` reads it as a :class:`PageTypePredictor`, which
needs no scikit-learn.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from boilerclf.features.page import PAGE_FEATURE_NAMES

#: The page-type model shipped beside the line models.
SHIPPED_PAGETYPE = "pagetype.npz"


class PageTypeError(ValueError):
    """A page-type model file that cannot be used."""


class PageTypeScores:
    """Prediction of a fitted page-type model (a mixin): reads ``mean_``,
    ``scale_``, ``coef_``, ``intercept_`` and ``classes_``."""

    def check_fitted(self) -> None:
        """Raise when the model has no weights yet (an estimator before ``fit``)."""
        if getattr(self, "coef_", None) is None:
            raise ValueError(f"this {type(self).__name__} is not fitted")

    def predict_proba(self, P: np.ndarray) -> np.ndarray:
        """Probability of each of ``classes_`` per page vector (rows of ``P``)."""
        self.check_fitted()
        z = ((np.asarray(P, dtype=np.float64) - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, P: np.ndarray) -> np.ndarray:
        self.check_fitted()
        return self.classes_[np.argmax(self.predict_proba(P), axis=1)]


class PageTypePredictor(PageTypeScores):
    """A fitted page-type model as its file holds it (no scikit-learn):
    ``params`` the settings it was fitted with (``C``, ``max_iter``)."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                 classes, feature_names, params: dict | None = None):
        self.mean_, self.scale_, self.coef_, self.intercept_ = mean, scale, coef, intercept
        self.classes_ = np.asarray(classes).astype(str)
        self.feature_names_ = list(feature_names)
        self.params = dict(params or {})

    def get_params(self, deep: bool = True) -> dict:
        return dict(self.params)


def save(model: PageTypeScores, path: str | Path, **info) -> None:
    """Write ``model`` as arrays and a JSON header (``info`` goes into the header)."""
    model.check_fitted()
    head = {"kind": "pagetype", "classes": list(model.classes_), "features": model.feature_names_,
            "params": model.get_params(), **info}
    with open(path, "wb") as f:
        np.savez_compressed(f, mean=model.mean_, scale=model.scale_, coef=model.coef_,
                            intercept=model.intercept_, header=np.frombuffer(json.dumps(head).encode(), np.uint8))


def load(path: str | Path) -> tuple[PageTypePredictor, dict]:
    """Read a page-type model file; :class:`PageTypeError` if it is not one this version can use."""
    try:
        with np.load(path, allow_pickle=False) as z:
            head = json.loads(bytes(z["header"]).decode())
            arrays = {k: np.asarray(z[k], dtype=np.float64) for k in ("mean", "scale", "coef", "intercept")}
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as e:
        raise PageTypeError(f"cannot read page-type model {path}: {e}") from None
    if not isinstance(head, dict) or head.get("kind") != "pagetype":
        raise PageTypeError(f"{path} is not a page-type model")
    n, k = len(PAGE_FEATURE_NAMES), len(head.get("classes") or ())
    if head.get("features") != list(PAGE_FEATURE_NAMES):
        raise PageTypeError(f"{path} was fitted on other page features than this version computes")
    if (arrays["mean"].shape != (n,) or arrays["scale"].shape != (n,) or arrays["coef"].shape != (k, n)
            or arrays["intercept"].shape != (k,) or k < 2 or not np.isfinite(arrays["coef"]).all()):
        raise PageTypeError(f"{path}: arrays of the wrong shape")
    params = {p: v for p, v in (head.get("params") or {}).items() if p in ("C", "max_iter")}
    return PageTypePredictor(arrays["mean"], arrays["scale"], arrays["coef"], arrays["intercept"],
                             head["classes"], head["features"], params), head
