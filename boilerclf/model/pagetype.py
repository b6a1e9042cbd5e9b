"""The page-type model: what kind of page a page is, from its page vector.

A multinomial logistic regression over standardised page vectors
(:mod:`boilerclf.features.page`), fitted with scikit-learn and predicted with
numpy.  Its file holds only arrays and a JSON header (never unpickled): the
classes, the column names it was fitted on, the scaler and the weights.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from boilerclf.features.page import PAGE_FEATURE_NAMES

#: The page-type model shipped beside the line models.
SHIPPED_PAGETYPE = "pagetype.npz"


class PageTypeError(ValueError):
    """A page-type model file that cannot be used."""


class PageTypeModel(ClassifierMixin, BaseEstimator):
    """Page type from a page vector; scikit-learn estimator conventions.

    ``C`` is the inverse strength of the L2 penalty of the logistic regression.
    """

    def __init__(self, C: float = 0.03, max_iter: int = 3000):
        self.C = C
        self.max_iter = max_iter

    def fit(self, P: np.ndarray, y) -> PageTypeModel:
        from sklearn.linear_model import LogisticRegression

        P = np.asarray(P, dtype=np.float64)
        self.mean_ = P.mean(axis=0)
        scale = P.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter).fit((P - self.mean_) / self.scale_, y)
        self.classes_ = np.asarray(lr.classes_).astype(str)
        self.coef_ = lr.coef_.astype(np.float64)
        self.intercept_ = lr.intercept_.astype(np.float64)
        self.feature_names_ = list(PAGE_FEATURE_NAMES)
        return self

    def _check(self) -> None:
        check_is_fitted(self, ["coef_", "classes_"])

    def predict_proba(self, P: np.ndarray) -> np.ndarray:
        """Probability of each of ``classes_`` per page vector (rows of ``P``)."""
        self._check()
        z = ((np.asarray(P, dtype=np.float64) - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, P: np.ndarray) -> np.ndarray:
        self._check()
        return self.classes_[np.argmax(self.predict_proba(P), axis=1)]


def save(model: PageTypeModel, path: str | Path, **info) -> None:
    """Write ``model`` as arrays and a JSON header (``info`` goes into the header)."""
    model._check()
    head = {"kind": "pagetype", "classes": list(model.classes_), "features": model.feature_names_,
            "params": model.get_params(), **info}
    with open(path, "wb") as f:
        np.savez_compressed(f, mean=model.mean_, scale=model.scale_, coef=model.coef_,
                            intercept=model.intercept_, header=np.frombuffer(json.dumps(head).encode(), np.uint8))


def load(path: str | Path) -> tuple[PageTypeModel, dict]:
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
    m = PageTypeModel(**{p: v for p, v in (head.get("params") or {}).items() if p in ("C", "max_iter")})
    m.mean_, m.scale_, m.coef_, m.intercept_ = arrays["mean"], arrays["scale"], arrays["coef"], arrays["intercept"]
    m.classes_ = np.asarray(head["classes"]).astype(str)
    m.feature_names_ = list(head["features"])
    return m, head
