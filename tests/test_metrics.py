"""boilerclf.metrics against hand computations."""
from __future__ import annotations

import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf.metrics import aggregate, evaluate, page_counts, page_prf, shingles

GOLD = "one two three four five six"            # shingles 1234 2345 3456
PART = "one two three four five seven eight"    # 1234 2345 345s 45se -> tp 2, fp 2, fn 1


def test_shingles():
    assert shingles("a b c d e") == Counter({("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1})
    assert shingles("Hello, world!") == Counter({("Hello", "world"): 1})  # short text: one shingle
    assert shingles("") == Counter() and shingles(None) == Counter() and shingles("-- !") == Counter()
    assert shingles("x y z w x y z w")[("x", "y", "z", "w")] == 2  # a multiset


def test_exact_match():
    assert page_counts(GOLD, GOLD) == (1.0, 0.0, 0.0)
    m = evaluate({"a": GOLD}, {"a": GOLD})
    assert (m["precision"], m["recall"], m["f1"], m["n_pages"]) == (1.0, 1.0, 1.0, 1)


def test_partial_match_by_hand():
    tp, fp, fn = page_counts(GOLD, PART)
    assert (tp, fp, fn) == pytest.approx((2 / 5, 2 / 5, 1 / 5))
    p, r, f = page_prf(tp, fp, fn)
    assert p == pytest.approx(2 / 4)
    assert r == pytest.approx(2 / 3)
    assert f == pytest.approx(2 * (1 / 2) * (2 / 3) / (1 / 2 + 2 / 3))
    m = evaluate({"a": GOLD}, {"a": PART})
    assert m["precision"] == pytest.approx(0.5) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(4 / 7)


def test_empty_prediction():
    assert page_counts(GOLD, "") == (0.0, 0.0, 1.0)
    m = evaluate({"a": GOLD}, {"a": ""})
    assert math.isnan(m["precision"])  # no page with a prediction
    assert m["recall"] == 0.0 and m["f1"] == 0.0
    assert evaluate({"a": GOLD}, {})["recall"] == 0.0  # missing = empty


def test_empty_gold():
    assert page_counts("", PART) == (0.0, 1.0, 0.0)
    m = evaluate({"a": ""}, {"a": PART})
    assert m["precision"] == 0.0
    assert math.isnan(m["recall"])
    assert m["f1"] == 0.0


def test_both_empty():
    assert page_counts("", "") == (0.0, 0.0, 0.0)
    assert page_prf(0.0, 0.0, 0.0) == (1.0, 1.0, 1.0)
    m = evaluate({"a": ""}, {"a": ""})
    assert math.isnan(m["precision"]) and math.isnan(m["recall"])


def test_pages_weigh_the_same_and_averages_are_per_page():
    gold = {"a": GOLD, "b": GOLD, "c": GOLD + " " + "word " * 200, "d": GOLD}
    pred = {"a": GOLD, "b": PART, "c": GOLD + " " + "word " * 200, "d": ""}
    m = evaluate(gold, pred)
    # precision over a, b, c (d has no prediction); recall over all four
    p = (1 + 0.5 + 1) / 3
    r = (1 + 2 / 3 + 1 + 0) / 4
    assert m["precision"] == pytest.approx(p)
    assert m["recall"] == pytest.approx(r)
    assert m["f1"] == pytest.approx(2 * p * r / (p + r))
    assert m["n_pages"] == 4


def test_duplicated_prediction_is_penalised():
    tp, fp, fn = page_counts("a b c d", "a b c d a b c d")
    assert page_prf(tp, fp, fn)[:2] == pytest.approx((1 / 5, 1.0))


def test_case_sensitive_tokens():
    assert page_counts("The Cat sat down", "the cat sat down") == (0.0, 0.5, 0.5)


def test_aggregate_of_nothing():
    m = aggregate([])
    assert math.isnan(m["precision"]) and math.isnan(m["recall"]) and m["n_pages"] == 0


words = st.lists(st.sampled_from("a b c d e f".split()), max_size=12).map(" ".join)


@settings(max_examples=80, deadline=None)
@given(words, words)
def test_bounds_and_symmetry(gold, pred):
    tp, fp, fn = page_counts(gold, pred)
    assert all(0 <= v <= 1 for v in (tp, fp, fn))
    assert tp + fp + fn == pytest.approx(1.0) or tp + fp + fn == 0
    p, r, f = page_prf(tp, fp, fn)
    assert 0 <= p <= 1 and 0 <= r <= 1 and 0 <= f <= 1
    # swapping gold and prediction swaps precision and recall
    p2, r2, _ = page_prf(*page_counts(pred, gold))
    assert (p2, r2) == pytest.approx((r, p))
