"""Whether a site model beats its base model on the site: the gate of ``boilerclf train --base --add``.

A site model is fitted on a handful of labelled pages, so it can be worse
than the base model it adapts (a layer that learnt one template, labels that
disagree between pages) and its user cannot see it.  :func:`estimate` measures
it on the labelled pages themselves: k-fold by page (leave-one-page-out up to
``k`` pages), each held-out page is scored by the base model alone and by the
site model fitted on the other pages, blended with the base's score at each
weight of :data:`BLENDS` (``w * site + (1 - w) * base``).  Per held-out page,
the benchmark's F1 (:mod:`boilerclf.metrics`) of each; the paired differences
site minus base over the pages give the estimated gain and its standard error.

The blend weight chosen (:attr:`GateEstimate.weight`) is the one of best mean
F1 over the held-out pages, provided its mean gain over the base is above
``min_gain``; otherwise 0, the base model alone: the site model is not
expected to help.  With one labelled page there is nothing to hold out and no
estimate (:func:`estimate` raises ``ValueError``).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from boilerclf import metrics
from boilerclf.model.requires import needs_sklearn
from boilerclf.model.scores import LineScores
from boilerclf.model.site import SiteModel, default_site_model
from boilerclf.retrain.pages import LabelledPages

try:
    from sklearn.model_selection import GroupKFold
except ImportError as exc:
    raise needs_sklearn("estimating a site model's gain", exc) from None

#: Blend weights of the site layer tried by the gate (0, the base alone, is always a candidate).
BLENDS = (0.25, 0.5, 0.75, 1.0)


@dataclass
class GateEstimate:
    """Held-out F1 per labelled page of the base model and of each blend.

    ``base_f1[i]`` is page ``page_ids[i]``'s F1 with the base model,
    ``blend_f1[i, j]`` with the site model (fitted without it) at blend weight
    ``weights[j]``; ``weight`` is the blend chosen (0.0: the base alone) and
    ``best`` the index of the best blend, chosen or not.
    """

    page_ids: list[str]
    weights: tuple[float, ...]
    base_f1: np.ndarray
    blend_f1: np.ndarray
    k: int
    best: int
    weight: float

    @property
    def n_pages(self) -> int:
        return len(self.page_ids)

    @property
    def beats_base(self) -> bool:
        """Whether a site layer was chosen (a blend weight above 0)."""
        return self.weight > 0

    def diffs(self, j: int | None = None) -> np.ndarray:
        """Paired differences site minus base per held-out page, for blend ``j`` (default the best)."""
        return self.blend_f1[:, self.best if j is None else j] - self.base_f1

    def gain(self, j: int | None = None) -> float:
        """Mean paired difference (blend ``j``, default the best, minus base) over the held-out pages."""
        return float(self.diffs(j).mean())

    def stderr(self, j: int | None = None) -> float:
        """Standard error of :meth:`gain` (NaN with one page)."""
        d = self.diffs(j)
        return float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else float("nan")

    def summary(self) -> str:
        """One line: held-out F1 of the base and of the best blend, the gain and its standard error."""
        w = self.weights[self.best]
        return (f"held-out F1 over {self.n_pages} pages ({self.k} folds by page): base model "
                f"{self.base_f1.mean():.3f}, site model (blend {w:g}) {self.blend_f1[:, self.best].mean():.3f}; "
                f"mean paired difference {self.gain():+.3f} ± {self.stderr():.3f} (standard error), "
                f"better on {int((self.diffs() > 0).sum())}, worse on {int((self.diffs() < 0).sum())}")

    def as_dict(self) -> dict:
        """The estimate as JSON-able values (for a model file's header)."""
        return {"pages": self.page_ids, "k": self.k, "weights": list(self.weights),
                "base_f1": [round(float(v), 4) for v in self.base_f1],
                "blend_f1": [[round(float(v), 4) for v in row] for row in self.blend_f1],
                "best_weight": self.weights[self.best], "weight": self.weight,
                "gain": round(self.gain(), 4), "stderr": round(self.stderr(), 4)}


def page_f1(data: LabelledPages, scores: np.ndarray, threshold: float | str, ids: list[str]) -> np.ndarray:
    """The benchmark's F1 of each page of ``ids``, from the scores of all rows of ``data``."""
    gold = data.gold()
    pred = data.texts_at(scores, threshold)
    return np.array([metrics.page_prf(*metrics.page_counts(gold[p], pred.get(p, "")))[2] for p in ids])


def estimate(base: LineScores, data: LabelledPages, *, k: int = 5,
             make: Callable[[LineScores], SiteModel] | None = None,
             weights: tuple[float, ...] = BLENDS, min_gain: float = 0.0) -> GateEstimate:
    """Held-out F1 of the base model and of the site model at each blend weight (see the module docstring).

    ``make`` builds the site model from the base (default ``SiteModel(base,
    threshold=default_threshold(base))``; its ``weight`` is set by the gate).
    Raises ``ValueError`` with fewer than 2 labelled pages.
    """
    make = make or default_site_model
    pages = data.pages
    idx, k = data.folds(k, "estimating the gain")
    proto = make(base).set_params(weight=1.0)
    base_final = proto.site_inputs(np.asarray(data.X, np.float32), base)[:, -1].astype(np.float64)
    site = base_final.copy()  # the site layer's own score (weight 1), fold by fold
    for tr_p, te_p in GroupKFold(n_splits=k).split(idx, groups=idx):
        tr = np.isin(pages, idx[tr_p])
        te = np.isin(pages, idx[te_p])
        y = np.where(tr, data.y, -1)
        if len(np.unique(y[y >= 0])) < 2:
            continue  # no site layer can be fitted: the base's score stands
        m = make(base).set_params(weight=1.0).fit(data.X, y)
        site[te] = m.decision_scores(data.X[te])
    ids = [data.ids[i] for i in idx]
    base_f1 = page_f1(data, base.decision_scores(data.X), base.threshold, ids)
    blend_f1 = np.column_stack([page_f1(data, w * site + (1.0 - w) * base_final, proto.threshold, ids)
                                for w in weights])
    means = blend_f1.mean(axis=0)
    best = int(np.argmax(means))  # the first (smallest weight) of equal means
    chosen = float(weights[best]) if means[best] - base_f1.mean() > min_gain else 0.0
    return GateEstimate(ids, tuple(float(w) for w in weights), base_f1, blend_f1, k, best, chosen)
