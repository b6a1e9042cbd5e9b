"""The article-extraction benchmark's shingle precision / recall / F1.

Same definition as ``shared/tools/score.py`` (4-token shingles of ``\\w+``
tokens as multisets, per-page counts normalised so every page weighs the same,
precision averaged over pages with a non-empty prediction, recall over pages
with a non-empty gold, F1 the harmonic mean of the averages), so that
``boilerclf eval`` prints the same numbers to three decimals; and
trafilatura_eval's snippet accuracy (:func:`snippet_accuracy`).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_TOKEN_RE = re.compile(r"\w+")
NGRAM = 4


def shingles(text: str) -> Counter:
    """Multiset of 4-token shingles (a 1-3 token text is one short shingle)."""
    toks = _TOKEN_RE.findall(text or "")
    if not toks:
        return Counter()
    if len(toks) < NGRAM:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i:i + NGRAM]) for i in range(len(toks) - NGRAM + 1))


def page_counts(gold: str, pred: str) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of one page."""
    gs, ps = shingles(gold), shingles(pred)
    tp = sum((gs & ps).values())
    fp = sum(ps.values()) - tp
    fn = sum(gs.values()) - tp
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def page_prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    """Precision, recall and F1 of one page from its normalised counts."""
    if fp == 0 and fn == 0:
        return 1.0, 1.0, 1.0
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def aggregate(counts: Iterable[tuple[float, float, float]]) -> dict:
    """Benchmark precision / recall / F1 over pages' normalised counts."""
    counts = list(counts)
    ps = [page_prf(*c)[0] for c in counts if c[0] + c[1] > 0]
    rs = [page_prf(*c)[1] for c in counts if c[0] + c[2] > 0]
    p = sum(ps) / len(ps) if ps else float("nan")
    r = sum(rs) / len(rs) if rs else float("nan")
    f1 = 2 * p * r / (p + r) if (p + r) > 0 else 0.0
    return {"precision": p, "recall": r, "f1": f1, "n_pages": len(counts)}


def evaluate(gold: dict[str, str], pred: dict[str, str]) -> dict:
    """Score predictions ``{id: text}`` against gold ``{id: text}`` (missing = empty)."""
    return aggregate(page_counts(gold[k], pred.get(k, "")) for k in gold)


def snippet_accuracy(snippets: dict, pred: dict[str, str]) -> dict:
    """trafilatura_eval's metric: "with" snippets must be in the output, "without" must not."""
    good = total = 0
    for pid, sn in snippets.items():
        text = pred.get(pid, "")
        for s in sn.get("with") or []:
            total += 1
            good += s in text
        for s in sn.get("without") or []:
            total += 1
            good += s not in text
    return {"snippet_accuracy": good / total if total else float("nan"), "n_snippets": total}
