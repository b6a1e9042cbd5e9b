"""Fitting the page-type model (:mod:`boilerclf.model.pagetype`) with scikit-learn."""
from __future__ import annotations

import numpy as np

from boilerclf.features.page import PAGE_FEATURE_NAMES
from boilerclf.model.pagetype import PageTypeScores
from boilerclf.model.requires import needs_sklearn

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.validation import check_is_fitted
except ImportError as exc:
    raise needs_sklearn("fitting a page-type model (PageTypeModel)", exc) from None


class PageTypeModel(PageTypeScores, ClassifierMixin, BaseEstimator):
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

    def check_fitted(self) -> None:
        check_is_fitted(self, ["coef_", "classes_"])
