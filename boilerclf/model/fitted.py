"""Models read from model files: predictors that need neither scikit-learn nor scipy.

A model file (:mod:`boilerclf.model.files`) holds the flat trees of a fitted
line model's stages (and of a site model's site layer) and the settings it
was fitted with.  :class:`LinePredictor` and :class:`SitePredictor` are those
models: they predict (:class:`~boilerclf.model.scores.LineScores`,
:class:`~boilerclf.model.scores.SiteScores`) with numpy and compiled code
only, so loading a model and extracting with it imports no scikit-learn.

They are not estimators: they cannot be fitted.  scikit-learn's ``clone``
gives the estimator they came from with the same settings, unfitted -- a
:class:`~boilerclf.model.classifier.LineClassifier`, or a
:class:`~boilerclf.model.site.SiteModel` on the same fitted base -- to train
again (which needs ``boilerclf[train]``).
"""
from __future__ import annotations

from typing import Any

from boilerclf.features.table import FEATURE_NAMES
from boilerclf.model.scores import LineScores, SiteScores, threshold_param
from boilerclf.model.trees import FlatTrees

#: A line model's settings (LineClassifier's parameters but its stage
#: estimators) and their defaults, for a file that does not record one.
LINE_DEFAULTS: dict[str, Any] = {
    "context": True, "n_folds": 2, "max_lines_per_page": 400, "threshold": 0.5, "random_state": 0,
    "exit_trees": 30, "exit_score": 0.0, "cascade": 0.0, "max_iter": 150}
#: A site model's settings (SiteModel's parameters but its base and site-layer
#: estimator) and their defaults.
SITE_DEFAULTS: dict[str, Any] = {"threshold": 0.5, "prior_pages": 1.0, "weight": None,
                                 "balance_pages": True, "random_state": 0}
#: The one stage estimator a model file can record (by its parameters).
RECORDED_ESTIMATOR = "HistGradientBoostingClassifier"


def estimator_from_record(rec: Any):
    """The stage estimator a model file records: a HistGradientBoostingClassifier
    with the recorded parameters, or None (the default estimator, or one that was
    not recorded).  Imports scikit-learn only for a recorded one."""
    if isinstance(rec, dict) and isinstance(rec.get(RECORDED_ESTIMATOR), dict):
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(**rec[RECORDED_ESTIMATOR])
    return None


class _Settings:
    """Settings read and changed as an estimator's parameters are (``get_params``,
    ``set_params``), without the estimators a predictor does not hold."""

    defaults: dict[str, Any] = {}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The settings it was fitted with (the estimator's parameters but its
        base and stage estimators)."""
        return {k: getattr(self, k) for k in self.defaults}

    def set_params(self, **params: Any):
        """Change settings that act at prediction (``threshold``, ``exit_score``,
        ...); returns self."""
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise ValueError(f"{type(self).__name__} has no setting {', '.join(unknown)} "
                             f"(its settings: {', '.join(self.defaults)})")
        for k, v in params.items():
            setattr(self, k, threshold_param(v) if k == "threshold" else v)
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"


class LinePredictor(_Settings, LineScores):
    """A fitted two-stage line model, as a model file holds it.

    ``trees1`` and ``trees2`` are its stages' flat trees (``trees2`` None
    without the context pass); ``params`` its settings (:data:`LINE_DEFAULTS`
    for those not given); ``records`` its stage estimators as the file records
    them (``"estimator"``, ``"context_estimator"``: None, or
    ``{"HistGradientBoostingClassifier": parameters}``), used by ``clone`` only.

    It has a fitted LineClassifier's attributes: each setting, ``stage1_`` and
    ``trees1_`` (the same FlatTrees), ``stage2_`` and ``trees2_``,
    ``classes_``, ``n_features_in_``; ``get_params`` / ``set_params`` read and
    change its settings.
    """

    defaults = LINE_DEFAULTS

    def __init__(self, trees1: FlatTrees, trees2: FlatTrees | None, params: dict | None = None,
                 records: dict | None = None):
        for k, v in {**LINE_DEFAULTS, **(params or {})}.items():
            setattr(self, k, v)
        self.context = trees2 is not None
        self.threshold = threshold_param(self.threshold)
        self.records = {"estimator": None, "context_estimator": None, **(records or {})}
        self.stage1_ = self.trees1_ = trees1
        self.stage2_ = self.trees2_ = trees2
        self.classes_ = trees1.classes_
        self.n_features_in_ = len(FEATURE_NAMES)

    def __sklearn_clone__(self):
        """``sklearn.base.clone``: an unfitted LineClassifier with these settings."""
        from boilerclf.model.classifier import LineClassifier

        return LineClassifier(estimator=estimator_from_record(self.records["estimator"]),
                              context_estimator=estimator_from_record(self.records["context_estimator"]),
                              **self.get_params())


class SitePredictor(_Settings, SiteScores):
    """A fitted site model, as a model file holds it: a fitted line model ``base``
    (a :class:`LinePredictor`), the site layer's flat trees ``site`` and the blend
    ``weight``; ``params`` its settings (:data:`SITE_DEFAULTS` for those not
    given), ``record`` the site layer's estimator as recorded (for ``clone``).

    It has a fitted SiteModel's attributes: each setting, ``base`` and
    ``base_``, ``site_`` and ``site_trees_`` (the same FlatTrees), ``weight_``,
    ``classes_``, ``n_features_in_``; ``get_params`` / ``set_params`` read and
    change its settings.
    """

    defaults = SITE_DEFAULTS

    def __init__(self, base: LinePredictor, site: FlatTrees, weight: float, params: dict | None = None,
                 record: dict | None = None):
        for k, v in {**SITE_DEFAULTS, **(params or {})}.items():
            setattr(self, k, v)
        self.threshold = threshold_param(self.threshold)
        self.record = record
        self.base = self.base_ = base
        self.site_ = self.site_trees_ = site
        self.weight_ = float(weight)
        self.classes_ = site.classes_
        self.n_features_in_ = len(FEATURE_NAMES)

    def __sklearn_clone__(self):
        """``sklearn.base.clone``: an unfitted SiteModel with these settings on the
        same fitted base."""
        from boilerclf.model.site import SiteModel

        return SiteModel(self.base_, estimator=estimator_from_record(self.record), **self.get_params())
