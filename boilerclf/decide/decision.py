"""Scores to kept lines: a fixed threshold, or a threshold chosen per page.

A *decision* is either a number from 0 to 1 (keep the lines scored at or
above it) or :class:`Auto`, which chooses each page's threshold from the
page's own scores.  For a page, :class:`Auto` keeps the ``k`` best-scored
lines, with ``k`` the one that maximises

    expected precision + recall_weight * expected recall

reading each line's score as the probability that its words are content and
weighting lines by their words: for the ``k`` best lines, expected precision
is ``sum(score * words) / sum(words)`` over those lines, expected recall the
same numerator over ``sum(score * words)`` over the whole page.

Why this sum: the benchmark's F1 is the harmonic mean of the *page-averaged*
precision and recall, so one page moves it by (a constant times) its
precision plus its recall; with the two averages near each other the
constants are about equal, hence ``recall_weight=1`` (the default).

What it does in practice: a page whose article the model scores low as a
whole (a short blog post at 0.25, a page of an unseen layout) keeps its best
lines instead of coming out empty, and a page of many confident lines keeps
about what a threshold near 0.5 would; leave-one-dataset-out it beats every
fixed threshold with the same trees (``docs/research/model-history.md``,
"Per-page thresholds").  Larger
``recall_weight`` keeps more (the "recall" preset), smaller keeps less
("precision").

Lines without words (weight 0) do not move the choice; they are kept when
they score at or above the page's threshold.  Lines that a rule capped after
the model (cross-references, hidden text, comment sections:
:mod:`boilerclf.decide.rules`) count as boilerplate and are never kept by it.  A
page whose lines all have score 0 or no words gets
:data:`EMPTY_PAGE_THRESHOLD`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from boilerclf.features.table import FEATURE_NAMES

#: The threshold of a page with no expected content (every score 0, or no words).
EMPTY_PAGE_THRESHOLD = 0.5
_WORDS = FEATURE_NAMES.index("words")  # log1p of the line's tokens
_TINY = 1e-9


@dataclass(frozen=True)
class Auto:
    """Choose each page's threshold (see the module docstring)."""

    recall_weight: float = 1.0

    def __post_init__(self) -> None:
        w = self.recall_weight
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < w < float("inf"):
            raise ValueError(f"recall_weight must be a positive number, not {w!r}")

    def __str__(self) -> str:
        return "auto" if self.recall_weight == 1.0 else f"auto:{self.recall_weight:g}"


def parse(spec: float | str | Auto) -> float | Auto:
    """A decision from a number from 0 to 1, ``"auto"``, ``"auto:<recall weight>"``
    or an :class:`Auto` (``ValueError`` with a one-line message for anything
    else: a number outside 0..1, NaN, another word)."""
    if isinstance(spec, Auto):
        return spec
    if isinstance(spec, str):
        s = spec.strip().lower()
        if s == "auto":
            return Auto()
        if s.startswith("auto:"):
            try:
                return Auto(float(s[5:]))
            except ValueError:
                raise ValueError(f"not a decision: {spec!r} (auto:<positive number>)") from None
        try:
            value = float(s)
        except ValueError:
            raise ValueError(f"not a decision: {spec!r}") from None
    elif isinstance(spec, bool) or not isinstance(spec, (int, float, np.floating, np.integer)):
        raise ValueError(f"not a decision: {spec!r}")
    else:
        value = float(spec)
    if not 0.0 <= value <= 1.0:  # also NaN
        raise ValueError(f"a threshold must be a number from 0 to 1 (line scores are in 0..1), not {spec!r}")
    return value


def line_words(X: np.ndarray) -> np.ndarray:
    """Tokens per line, from a feature matrix of :mod:`boilerclf.features.table`."""
    return np.expm1(np.asarray(X[:, _WORDS], dtype=np.float64))


def page_threshold(scores: np.ndarray, words: np.ndarray, recall_weight: float = 1.0,
                   capped: np.ndarray | None = None) -> float:
    """The threshold :class:`Auto` chooses for one page's line scores and words.

    ``capped`` marks the lines whose score a rule capped after the model
    (:mod:`boilerclf.decide.rules`): they count as boilerplate (score 0) in the choice,
    and the threshold is raised just above their scores if it would keep one.
    """
    s = np.asarray(scores, dtype=np.float64)
    if not len(s):
        return EMPTY_PAGE_THRESHOLD
    q = s if capped is None else np.where(capped, 0.0, s)
    order = np.argsort(-q, kind="stable")
    q = q[order]
    w = np.maximum(np.asarray(words, dtype=np.float64)[order], 0.0) + _TINY
    hit = np.cumsum(q * w)
    total = hit[-1]
    if not total > len(s) * _TINY:
        return EMPTY_PAGE_THRESHOLD
    gain = hit / np.cumsum(w) + recall_weight * hit / total
    t = float(q[int(np.argmax(gain))])
    if capped is not None and capped.any():
        top = float(s[capped].max())
        if top >= t:
            t = float(np.nextafter(top, np.inf))
    return t


def thresholds(decision: float | Auto, scores: np.ndarray, X: np.ndarray,
               capped: np.ndarray | None = None) -> np.ndarray:
    """Per line, the threshold of its page under ``decision`` (rows of a page
    contiguous, page id in column 0 of ``X``, as :mod:`boilerclf.features.table`
    makes it; ``capped`` as for :func:`page_threshold`)."""
    if not isinstance(decision, Auto):
        return np.full(len(scores), float(decision))
    out = np.empty(len(scores), dtype=np.float64)
    if not len(scores):
        return out
    pages = np.asarray(X[:, 0])
    starts = np.flatnonzero(np.r_[True, pages[1:] != pages[:-1]])
    ends = np.r_[starts[1:], len(pages)]
    words = line_words(X)
    for a, b in zip(starts.tolist(), ends.tolist()):
        out[a:b] = page_threshold(scores[a:b], words[a:b], decision.recall_weight,
                                  None if capped is None else capped[a:b])
    return out


def keep(decision: float | Auto, scores: np.ndarray, X: np.ndarray,
         capped: np.ndarray | None = None) -> np.ndarray:
    """Which lines a decision keeps (boolean, one per row of ``X``)."""
    scores = np.asarray(scores, dtype=np.float64)
    return scores >= thresholds(decision, scores, X, capped)
