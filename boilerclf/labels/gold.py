"""Gold text to per-line labels, for training and evaluation.

A line is aligned with the gold by token 4-grams (the metric's shingles): the
page's lines are tokenised into one stream (``\\w+`` runs, case kept, as in the
metric), and every 4-gram of the stream that occurs in the gold marks its four
tokens as covered.  A line's *coverage* is the share of its tokens covered.

Because 4-grams run across line boundaries, a short line (fewer than four
tokens: a heading, "Share", a date) is covered only when the gold has it next
to the text that surrounds it on the page, which is what tells a real subhead
from the same word in a menu.  A gold with fewer than four tokens is matched
as one short shingle.  The label is ``coverage >= 0.5``.

A page labelled by snippets instead (text its output must or must not
contain, as trafilatura_eval is) labels only the lines that hold one
(:func:`snippet_labels`); its other lines have no label (-1).
"""
from __future__ import annotations

import re

import numpy as np

_TOKEN_RE = re.compile(r"\w+")
NGRAM = 4


def coverage(texts: list[str], gold: str) -> np.ndarray:
    """Share of each line's tokens covered by gold 4-grams (0..1, float32)."""
    per_line = [_TOKEN_RE.findall(t) for t in texts]
    counts = np.fromiter((len(p) for p in per_line), dtype=np.int64, count=len(texts))
    stream = [tok for p in per_line for tok in p]
    gold_toks = _TOKEN_RE.findall(gold or "")
    out = np.zeros(len(texts), dtype=np.float32)
    if not stream or not gold_toks:
        return out
    covered = np.zeros(len(stream), dtype=bool)
    if len(gold_toks) < NGRAM:
        k = len(gold_toks)
        target = tuple(gold_toks)
        for i in range(len(stream) - k + 1):
            if tuple(stream[i:i + k]) == target:
                covered[i:i + k] = True
    else:
        gold_set = {tuple(gold_toks[i:i + NGRAM]) for i in range(len(gold_toks) - NGRAM + 1)}
        for i in range(len(stream) - NGRAM + 1):
            if tuple(stream[i:i + NGRAM]) in gold_set:
                covered[i:i + NGRAM] = True
        if len(stream) < NGRAM and tuple(stream) in {g[:len(stream)] for g in gold_set}:
            covered[:] = True
    line_of = np.repeat(np.arange(len(texts)), counts)
    hit = np.bincount(line_of, weights=covered, minlength=len(texts))
    np.divide(hit, np.maximum(counts, 1), out=out, casting="unsafe")
    return out


def labels(texts: list[str], gold: str, threshold: float = 0.5) -> np.ndarray:
    """1 for lines whose coverage by the gold is at least ``threshold``, else 0."""
    return (coverage(texts, gold) >= threshold).astype(np.int8)


_WS_RE = re.compile(r"\s+")


def snippet_labels(texts: list[str], keep: list[str], drop: list[str]) -> np.ndarray:
    """Labels from snippets (trafilatura_eval's format): 1 for the lines that
    hold a snippet of ``keep`` (text that must be in the output), 0 for those
    that hold one of ``drop`` (text that must not), -1 (no label) for the rest
    and for a line that holds both.  Whitespace runs count as one space; a
    snippet that runs across lines marks each line it touches."""
    norm = [_WS_RE.sub(" ", t) for t in texts]
    joined = " ".join(norm)
    starts = np.cumsum([0] + [len(t) + 1 for t in norm])[:-1]
    ends = starts + np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
    hit = np.zeros((len(texts), 2), dtype=bool)
    for label, snippets in ((1, keep), (0, drop)):
        for s in snippets or ():
            s = _WS_RE.sub(" ", s).strip()
            if not s:
                continue
            inside = [i for i, t in enumerate(norm) if s in t]
            if inside:
                hit[inside, label] = True
                continue
            j = joined.find(s)
            if j >= 0:
                hit[(starts < j + len(s)) & (ends > j), label] = True
    out = np.full(len(texts), -1, dtype=np.int8)
    out[hit[:, 1] & ~hit[:, 0]] = 1
    out[hit[:, 0] & ~hit[:, 1]] = 0
    return out
