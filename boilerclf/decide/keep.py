"""Scores to kept lines: the one function every user of a model goes through.

The library's :class:`~boilerclf.Extractor`, training and its
leave-one-dataset-out evaluation, the choice of a model's threshold and the
site models' cross-validation all turn a model's line scores into kept lines
with :func:`kept_lines`, so that every number measured on a model is the
number the library gives.

For a batch of pages (rows of a page contiguous, the page id in column 0 of
the feature matrix, as :mod:`boilerclf.features.table` makes it):

1. the rules after the model (:mod:`boilerclf.decide.rules`) cap the scores
   of cross-reference lines and, in HTML, of the lines the markup hides or
   puts in a readers' comment section (in plain text, of the lines from a
   comment section's heading on), at :data:`~boilerclf.decide.rules.CAP`;
2. a site profile (:mod:`boilerclf.decide.profile`), if any, damps the lines
   that repeat across the site's pages;
3. each page gets its threshold from the decision
   (:mod:`boilerclf.decide.decision`): a fixed number, or ``auto``, chosen from
   the page's own scores, where a capped line counts as boilerplate and is
   never kept;
4. a line is kept when its score reaches its page's threshold;
5. the page's headline (the line the features place the page's title on,
   :func:`headline_rows`) is then dropped from the body, or kept in its
   place with ``headline=True``, whatever its score: whether a main text
   starts with its headline is a convention of the reader, not something a
   line's features can tell (HTML pages; text pages keep the model's call).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from boilerclf.decide import decision as _decision
from boilerclf.decide import rules
from boilerclf.features.table import FEATURE_NAMES

_C_HAS_HEAD = FEATURE_NAMES.index("has_head")
_C_HEAD_DIST = FEATURE_NAMES.index("head_dist")


@dataclass
class Kept:
    """What :func:`kept_lines` decided, one entry per line (row)."""

    scores: np.ndarray      # final scores: the rules' caps and the site profile applied
    thresholds: np.ndarray  # the threshold of the line's page
    keep: np.ndarray        # bool: score >= threshold
    starts: np.ndarray      # first row of each page, and the number of rows at the end
    pages: np.ndarray       # the page id (column 0 of the features) of each page
    headlines: np.ndarray   # the headline row of each page, -1 for none


def page_starts(X: np.ndarray) -> np.ndarray:
    """First row of each page of a feature matrix (page id in column 0), and ``len(X)``."""
    pages = np.asarray(X[:, 0])
    if not len(pages):
        return np.zeros(1, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, pages[1:] != pages[:-1]])
    return np.r_[starts, len(pages)].astype(np.int64)


def headline_rows(X: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The headline row of each page of a feature matrix, -1 for a page
    without one: the line of distance 0 from the headline, on a page that has
    one (:func:`boilerclf.features.table.headline_columns`)."""
    rows = np.flatnonzero((np.asarray(X[:, _C_HAS_HEAD]) > 0) & (np.asarray(X[:, _C_HEAD_DIST]) == 0))
    out = np.full(len(starts) - 1, -1, dtype=np.int64)
    page = np.searchsorted(starts, rows, side="right") - 1
    out[page[::-1]] = rows[::-1]  # the first such row of a page wins
    return out


def kept_lines(raw: np.ndarray, X: np.ndarray, texts: list[str], decision: float | _decision.Auto, *,
               markup: np.ndarray | None = None, xref_rule: bool = True, profile=None,
               headline: bool | None = None, comment_tail: bool = False) -> Kept:
    """The kept lines of a batch of pages from the model's ``raw`` scores.

    ``texts`` are the lines' texts (one per row); ``markup`` holds what the
    markup says of HTML lines (:func:`boilerclf.decide.rules.markup_codes`,
    applied page by page; a boolean array: the lines to cap), or None for text
    pages; ``xref_rule`` turns the cross-reference rule on;
    ``profile`` is a :class:`~boilerclf.decide.profile.SiteProfile` or None;
    ``headline`` False drops each page's headline line from the kept lines,
    True keeps it, None leaves it to its score; ``comment_tail`` caps the
    lines of plain-text pages' comment sections
    (:func:`boilerclf.decide.rules.comment_tail_mask`).
    """
    raw = np.asarray(raw, dtype=np.float64)
    starts = page_starts(X)
    words = _decision.line_words(X)
    scores = rules.cap_scores(raw, texts, words) if xref_rule else raw  # one search for the batch
    capped = scores < raw  # lines a rule capped (for "auto": never kept)
    if markup is not None and markup.any():
        if markup.dtype != bool:
            chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            markup = rules.markup_caps(markup, chars, starts, scores)
        scores = np.where(markup, np.minimum(scores, rules.CAP), scores)
        capped |= markup
    if comment_tail:
        tail = rules.comment_tail_mask(texts, scores, starts)
        if tail.any():
            scores = np.where(tail, np.minimum(scores, rules.CAP), scores)
            capped |= tail
    if profile is not None and scores is raw:
        scores = scores.copy()
    thresholds = np.empty(len(scores), dtype=np.float64)
    for a, b in zip(starts[:-1].tolist(), starts[1:].tolist()):
        s = scores[a:b]
        if profile is not None:
            s = scores[a:b] = profile.apply(s, texts[a:b])
        if isinstance(decision, _decision.Auto):
            t = auto_threshold(decision, s, words[a:b], capped[a:b], texts[a:b], xref_rule)
        else:
            t = float(decision)
        thresholds[a:b] = t
    heads = headline_rows(X, starts)
    keep = scores >= thresholds
    if headline is not None:
        keep[heads[heads >= 0]] = headline
    return Kept(scores, thresholds, keep, starts, np.asarray(X[starts[:-1], 0]), heads)


def auto_threshold(auto: _decision.Auto, s: np.ndarray, words: np.ndarray, capped: np.ndarray,
                   texts: list[str], xref_rule: bool = True) -> float:
    """One page's threshold under ``auto``.  The batch's search for the lines
    the rules cap (cross-reference lines, comment-form prompts, author boxes)
    covered only the lines scored above the cap; should the threshold reach
    below it, the lines it would add are searched too, so that ``auto``
    never keeps such a line."""
    t = _decision.page_threshold(s, words, auto.recall_weight, capped)
    if t <= rules.CAP and xref_rule:
        low = np.flatnonzero((s >= t) & (s <= rules.CAP) & ~capped)
        if len(low):
            hit = rules.xref_mask([texts[j] for j in low.tolist()]) | rules.bio_mask(texts, low)[low]
            if hit.any():
                capped = capped.copy()
                capped[low[hit]] = True
                t = _decision.page_threshold(s, words, auto.recall_weight, capped)
    return t


def page_texts(kept: Kept, texts: list[str], ids: list[str],
               labelled: np.ndarray | None = None) -> dict[str, str]:
    """Per page id, its kept lines joined by newlines (only the ``labelled`` rows,
    if given); the page of id ``ids[k]`` has ``k`` in column 0 of the features,
    and a page without lines gets the empty text."""
    keep = kept.keep if labelled is None else kept.keep & labelled
    out = dict.fromkeys(ids, "")
    for page, a, b in zip(kept.pages.tolist(), kept.starts[:-1].tolist(), kept.starts[1:].tolist()):
        out[ids[int(page)]] = "\n".join(t for t, k in zip(texts[a:b], keep[a:b].tolist()) if k)
    return out
