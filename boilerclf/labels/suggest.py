"""Which pages of a crawl to label: the engine of ``boilerclf label --suggest N``.

Labelling a page teaches a site model most where the model is unsure of
many words, and a second page of the same template teaches less than a page
of another one.  Each pre-filled page (a labels-file record with the model's
scores) gets:

- its *uncertainty*: the words of its lines weighted by how unsure the
  model is of each line, ``1 - |2 score - 1|`` (1 at a score of 0.5, 0 at 0
  or 1), summed over the page;
- its *template*: the set of its lines' texts that repeat on other pages of
  the crawl (menus, footers, headings of the same layout); two pages of one
  template share most of them (Jaccard similarity of the sets).

The pages are picked greedily: first the most uncertain page, then each
time the page of largest ``uncertainty * (1 - similarity to the closest page
already picked)``, so an uncertain page of a template already picked waits
for the other templates (once every template has a page, the most uncertain
pages left).  :func:`templates` groups the pages by that
similarity (for the report).  numpy over the pages; the lines' texts are
hashed once (:func:`boilerclf.decide.profile.line_keys`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from boilerclf.decide.profile import line_keys

#: Pages at least this similar (Jaccard of their repeated lines) are one template in the report.
SAME_TEMPLATE = 0.5


@dataclass
class Suggestion:
    """A page to label: its index in the records, id, uncertainty (uncertain
    words), share of its words that are uncertain, and template number."""

    index: int
    id: str
    uncertainty: float
    uncertain_share: float
    template: int


def line_uncertainty(scores: np.ndarray) -> np.ndarray:
    """``1 - |2 s - 1|``: 1 for a score of 0.5, 0 for 0 or 1 (NaN, no score: 0)."""
    s = np.asarray(scores, dtype=np.float64)
    return np.nan_to_num(1.0 - np.abs(2.0 * s - 1.0), nan=0.0)


def page_uncertainty(records: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Per record: uncertain words (sum over lines of words x uncertainty) and their share of its words."""
    unc, share = np.zeros(len(records)), np.zeros(len(records))
    for k, rec in enumerate(records):
        scores = np.array([np.nan if ln["score"] is None else ln["score"] for ln in rec["lines"]], float)
        words = np.array([len(ln["text"].split()) for ln in rec["lines"]], float)
        unc[k] = float(line_uncertainty(scores) @ words)
        share[k] = unc[k] / words.sum() if words.sum() else 0.0
    return unc, share


def template_similarity(records: list[dict[str, Any]]) -> np.ndarray:
    """Jaccard similarity of the pages' sets of repeated line texts (lines on 2 pages or more)."""
    keys = [set(line_keys(ln["text"] for ln in rec["lines"])) for rec in records]
    index: dict[str, int] = {}
    rows, cols = [], []
    for k, ks in enumerate(keys):
        for key in ks:
            rows.append(k)
            cols.append(index.setdefault(key, len(index)))
    n = len(records)
    if not n:
        return np.zeros((0, 0))
    M = np.zeros((n, len(index)), dtype=np.float32)
    M[rows, cols] = 1.0
    M = M[:, M.sum(axis=0) >= 2]  # the repeated lines only
    inter = M @ M.T
    size = M.sum(axis=1)
    union = size[:, None] + size[None, :] - inter
    sim = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0).astype(np.float64)
    np.fill_diagonal(sim, 1.0)
    return sim


def templates(sim: np.ndarray, same: float = SAME_TEMPLATE) -> np.ndarray:
    """Template number per page: pages linked by a similarity >= ``same`` share one
    (connected components, numbered from 0 by first page)."""
    n = len(sim)
    label = np.full(n, -1)
    nxt = 0
    for start in range(n):
        if label[start] >= 0:
            continue
        label[start] = nxt
        todo = [start]
        while todo:
            i = todo.pop()
            new = np.flatnonzero((sim[i] >= same) & (label < 0))
            label[new] = nxt
            todo.extend(new.tolist())
        nxt += 1
    return label


def suggest(records: list[dict[str, Any]], n: int) -> list[Suggestion]:
    """The ``n`` pages (of pre-filled ``records``) whose labels would teach a site model most, best first."""
    if n < 1:
        raise ValueError(f"the number of pages to suggest must be at least 1, not {n}")
    unc, share = page_uncertainty(records)
    sim = template_similarity(records)
    tmpl = templates(sim)
    picked: list[int] = []
    closest = np.zeros(len(records))  # similarity to the closest page picked so far
    for _ in range(min(n, len(records))):
        gain = unc * (1.0 - closest)
        if np.delete(gain, picked).max() <= 0:  # every template picked: the most uncertain page left
            gain = unc.copy()
        gain[picked] = -np.inf
        best = int(np.argmax(gain))
        picked.append(best)
        closest = np.maximum(closest, sim[best])
    return [Suggestion(i, records[i]["id"], float(unc[i]), float(share[i]), int(tmpl[i])) for i in picked]
