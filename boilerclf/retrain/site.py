"""Retraining on a site: labelled pages of a labels file to a :class:`~boilerclf.model.site.SiteModel`.

:func:`train_site` reads the labels files, builds the pages' features, fits
the site layer on a base model and saves the site model.  :func:`cross_validate`
measures the gain honestly: k-fold by page over the labelled pages, F1
(:mod:`boilerclf.metrics`) of the held-out pages with the base model and with a
site model trained on the other pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from boilerclf import metrics
from boilerclf.decide import decision
from boilerclf.decide.keep import kept_lines, page_texts
from boilerclf.decide.profile import SiteProfile
from boilerclf.decide.rules import markup_codes
from boilerclf.features.table import FEATURE_NAMES
from boilerclf.model.requires import needs_sklearn
from boilerclf.model.scores import LineScores
from boilerclf.model.site import SiteModel, default_threshold
from boilerclf.parse.lines import Lines

try:
    from sklearn.model_selection import GroupKFold
except ImportError as exc:
    raise needs_sklearn("retraining on a site", exc) from None


@dataclass
class LabelledPages:
    """Labelled pages as one matrix: features, labels (-1 = none), texts, ids,
    and what the markup says of the HTML lines (:func:`boilerclf.decide.rules.markup_codes`)."""

    X: np.ndarray
    y: np.ndarray
    texts: list[list[str]]
    ids: list[str]
    markup: np.ndarray | None = None

    @property
    def pages(self) -> np.ndarray:
        return self.X[:, 0].astype(np.int64)

    def gold(self) -> dict[str, str]:
        """Per page, the text of its lines labelled content (the reference for F1)."""
        out = {}
        for i, pid in enumerate(self.ids):
            ys = self.y[self.pages == i]
            out[pid] = "\n".join(t for t, lab in zip(self.texts[i], ys) if lab == 1)
        return out

    def texts_at(self, scores: np.ndarray, threshold: float | str,
                 profile: SiteProfile | None = None) -> dict[str, str]:
        """Predicted text per page from the scores of all rows at ``threshold``
        (a number or ``"auto"``, chosen per page from all its rows), through
        :func:`boilerclf.decide.keep.kept_lines` as in the library; lines
        without a label are left out, as they are of :meth:`gold`."""
        texts = [t for page in self.texts for t in page]
        got = kept_lines(scores, self.X, texts, decision.parse(threshold), markup=self.markup,
                         profile=profile)
        return page_texts(got, texts, self.ids, labelled=self.y >= 0)


def stack_pages(pages: list[tuple[str, Lines, np.ndarray]]) -> LabelledPages:
    """``(id, lines, labels)`` triples to one :class:`LabelledPages` (page ids 0..n-1)."""
    from boilerclf.features.table import page_features

    mats, ys, marks = [], [], []
    for j, (_, L, lab) in enumerate(pages):
        if len(lab) != len(L):
            raise ValueError(f"page {pages[j][0]!r}: {len(lab)} labels for {len(L)} lines")
        mats.append(page_features(L, j))
        ys.append(np.asarray(lab, dtype=np.int64))
        marks.append(markup_codes(L.hints, L.flags) if L.kind == "html" else np.zeros(len(L), np.uint8))
    X = np.concatenate(mats) if mats else np.zeros((0, len(FEATURE_NAMES)), np.float32)
    y = np.concatenate(ys) if ys else np.zeros(0, np.int64)
    markup = np.concatenate(marks) if marks else np.zeros(0, bool)
    return LabelledPages(X, y, [list(p[1].texts) for p in pages], [p[0] for p in pages], markup)


def cross_validate(base: LineScores, data: LabelledPages, *, k: int = 5,
                   make: Callable[[LineScores], SiteModel] | None = None,
                   profile: SiteProfile | None = None) -> dict:
    """F1 of the held-out pages before (base model) and after (site model), k-fold by page.

    Pages whose lines carry no label are never held out.  ``make`` builds the
    site model from the base (default ``SiteModel(base, threshold=default_threshold(base))``).
    Returns ``{"before": metrics, "after": metrics, "k": folds, "n_pages": n}``;
    with a site ``profile``, also ``"before_profile"`` and ``"after_profile"``
    (the scores with the profile applied).
    """
    make = make or (lambda b: SiteModel(b, threshold=default_threshold(b)))
    pages = data.pages
    labelled = np.array([(data.y[pages == i] >= 0).any() for i in range(len(data.ids))], bool)
    idx = np.flatnonzero(labelled)
    k = min(k, len(idx))
    if k < 2:
        raise ValueError("cross-validation needs at least 2 labelled pages")
    gold = data.gold()
    before_s = base.decision_scores(data.X)
    after_s = before_s.copy()
    thr_after = make(base).threshold
    for tr_p, te_p in GroupKFold(n_splits=k).split(idx, groups=idx):
        tr = np.isin(pages, idx[tr_p])
        te = np.isin(pages, idx[te_p])
        y = np.where(tr, data.y, -1)
        if len(np.unique(y[y >= 0])) < 2:
            after_s[te] = before_s[te]
            continue
        m = make(base).fit(data.X, y)
        after_s[te] = m.decision_scores(data.X[te])
        thr_after = m.threshold
    held = [data.ids[i] for i in idx]
    g = {p: gold[p] for p in held}
    out = {"before": metrics.evaluate(g, data.texts_at(before_s, base.threshold)),
           "after": metrics.evaluate(g, data.texts_at(after_s, thr_after)),
           "k": k, "n_pages": len(idx)}
    if profile is not None:
        for name, sc, thr in (("before", before_s, base.threshold), ("after", after_s, thr_after)):
            out[name + "_profile"] = metrics.evaluate(g, data.texts_at(sc, thr, profile))
    return out


# ------------------------------------------------------------ boilerclf train --base

def labelled_pages(records: list[dict], kind: str = "html", *, unreviewed: bool = False
                   ) -> tuple[LabelledPages, list[str]]:
    """Labels-file records to :class:`LabelledPages` (lines recomputed from each
    record's source and checked against its texts, see
    :func:`boilerclf.labels.file.source_lines`).

    Only reviewed records of ``kind`` with at least one labelled line are used
    (all records of ``kind`` with ``unreviewed``); returns the pages and the
    ids of the records left out, with the reason.
    """
    from boilerclf.labels.file import label_array, source_lines

    chosen, skipped = [], []
    for rec in records:
        if rec["kind"] != kind:
            skipped.append(f"{rec['id']} (kind {rec['kind']}, the base model is for {kind})")
        elif not (rec["reviewed"] or unreviewed):
            skipped.append(f"{rec['id']} (not reviewed)")
        else:
            lab = label_array(rec)
            if not (lab >= 0).any():
                skipped.append(f"{rec['id']} (no labelled line)")
            else:
                chosen.append((rec["id"], source_lines(rec), lab))
    return stack_pages(chosen), skipped


def train_site(base_path: str | Path | None, labels_paths: list[str | Path], out: str | Path, *,
               unreviewed: bool = False, folds: int = 5, prior_pages: float = 1.0,
               threshold: float | None = None, profile: SiteProfile | None = None,
               log: Callable[[str], None] = print) -> dict:
    """``boilerclf train --base BASE --add LABELS --out OUT``: fit a :class:`SiteModel`
    on the labelled pages, report k-fold F1 before and after, save it; returns the header."""
    import time

    from boilerclf.labels.file import read_labels
    from boilerclf.model.files import (
        SHIPPED_MODELS,
        load_model,
        save,
        sha256,
        shipped_model_path,
    )

    base_file = Path(base_path) if base_path is not None else shipped_model_path(SHIPPED_MODELS["html"])
    base, base_head = load_model(base_path, "html")
    if not isinstance(base, LineScores):
        raise ValueError(f"{base_file} is already a site model: give the general model it was made from")
    kind = base_head.get("kind", "html")
    records = [r for p in labels_paths for r in read_labels(p)]
    data, skipped = labelled_pages(records, kind, unreviewed=unreviewed)
    for s in skipped:
        log(f"skipped {s}")
    n = len(data.ids)
    n_lab = int((data.y >= 0).sum())
    if n == 0:
        hint = "" if unreviewed else " (only reviewed pages are used: review them, or pass --unreviewed)"
        raise ValueError(f"no labelled {kind} page in {', '.join(map(str, labels_paths))}{hint}")
    if len(np.unique(data.y[data.y >= 0])) < 2:
        raise ValueError("the labelled lines must include both content and boilerplate")
    thr = default_threshold(base) if threshold is None else threshold

    def make(b):
        return SiteModel(b, threshold=thr, prior_pages=prior_pages)

    cv = None
    if n >= 2:
        t0 = time.time()
        cv = cross_validate(base, data, k=folds, make=make, profile=profile)
        log(f"cross-validation, {cv['k']} folds by page over {cv['n_pages']} pages ({time.time() - t0:.1f} s):")
        for name in ("before", "after", "before_profile", "after_profile"):
            if name not in cv:
                continue
            m = cv[name]
            what = ("base model" if name.startswith("before") else "site model") + \
                (" + site profile" if name.endswith("profile") else "")
            log(f"  {name.split('_')[0]:6} ({what}): "
                f"precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}")
        log(f"  F1 gain {cv['after']['f1'] - cv['before']['f1']:+.3f}")
    else:
        log("one labelled page: no cross-validation (label 2 or more pages to measure the gain)")
    model = make(base).fit(data.X, data.y)
    head = save(model, out, kind=kind, trained=time.strftime("%Y-%m-%d"),
                params={"threshold": thr, "prior_pages": prior_pages},
                site={"pages": data.ids, "labelled_lines": n_lab, "cv": cv,
                      "base": {"file": base_file.name, "sha256": sha256(base_file),
                               "train_sets": base_head.get("train_sets")}})
    log(f"wrote {out} ({n} pages, {n_lab} labelled lines)")
    return head
