"""Labelled pages as one feature matrix: what retraining and its gate learn from and score.

:func:`labelled_pages` turns labels-file records into :class:`LabelledPages`
(the lines recomputed from each record's source), :func:`stack_pages` does it
for ``(id, lines, labels)`` triples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from boilerclf.decide import decision
from boilerclf.decide.keep import kept_lines, page_texts
from boilerclf.decide.profile import SiteProfile
from boilerclf.decide.rules import markup_codes
from boilerclf.features.table import FEATURE_NAMES
from boilerclf.parse.lines import Lines


@dataclass
class LabelledPages:
    """Labelled pages as one matrix: features, labels (-1 = none), texts, ids,
    what the markup says of the HTML lines (:func:`boilerclf.decide.rules.markup_codes`)
    and the pages' kind ("html" or "text")."""

    X: np.ndarray
    y: np.ndarray
    texts: list[list[str]]
    ids: list[str]
    markup: np.ndarray | None = None
    kind: str = "html"

    @property
    def pages(self) -> np.ndarray:
        return self.X[:, 0].astype(np.int64)

    def labelled(self) -> np.ndarray:
        """The indices of the pages with at least one labelled line, in order."""
        return np.unique(self.pages[self.y >= 0])

    def folds(self, k: int, what: str) -> tuple[np.ndarray, int]:
        """``(labelled(), folds)``: the labelled pages and how many folds of them
        a page-grouped k-fold makes (``k``, at most one page per fold); raises
        ``ValueError`` ("``what`` needs at least 2 labelled pages") with fewer than 2."""
        idx = self.labelled()
        k = min(k, len(idx))
        if k < 2:
            raise ValueError(f"{what} needs at least 2 labelled pages")
        return idx, k

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
                         profile=profile, comment_tail=self.kind == "text")
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
    kind = pages[0][1].kind if pages else "html"
    return LabelledPages(X, y, [list(p[1].texts) for p in pages], [p[0] for p in pages], markup, kind)


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
