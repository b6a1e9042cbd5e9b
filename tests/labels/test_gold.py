"""boilerclf.labels.gold: gold text to per-line coverage and labels."""
from __future__ import annotations

import numpy as np
import pytest

from boilerclf.labels.gold import coverage, labels, snippet_labels
from boilerclf.parse.html import html_lines

PARA = "The new bridge opened to traffic on Monday after three years of building work."
PARA2 = "Drivers queued from early morning to be among the first to cross the river."


def test_full_and_no_coverage():
    texts = ["Home", PARA, "Subscribe to our newsletter today for free", PARA2]
    gold = f"{PARA}\n{PARA2}"
    cov = coverage(texts, gold)
    assert cov.dtype == np.float32
    assert cov.tolist() == [0.0, 1.0, 0.0, 1.0]
    assert labels(texts, gold).tolist() == [0, 1, 0, 1]


def test_short_heading_next_to_content_is_covered_but_same_word_in_menu_is_not():
    page = html_lines(
        "<body><ul><li><a href='/'>Home</a></li><li><a href='/b'>Background</a></li>"
        "<li><a href='/c'>Contact</a></li></ul>"
        f"<h1>Bridge opens</h1><p>{PARA}</p><h2>Background</h2><p>{PARA2}</p></body>")
    assert page.texts == ["Home", "Background", "Contact", "Bridge opens", PARA, "Background", PARA2]
    gold = f"Bridge opens\n{PARA}\nBackground\n{PARA2}"
    cov = coverage(page.texts, gold)
    assert cov[1] == 0.0  # "Background" in the menu
    assert cov[5] == 1.0  # the "Background" subhead between two gold paragraphs
    assert cov[3] == 1.0  # the headline right before the text
    assert cov[0] == cov[2] == 0.0
    assert labels(page.texts, gold).tolist() == [0, 0, 0, 1, 1, 1, 1]


def test_partial_coverage_is_a_share_of_tokens():
    # the line's first 4 tokens run on from gold; the last 4 do not
    texts = ["alpha beta gamma delta one two three four"]
    cov = coverage(texts, "alpha beta gamma delta epsilon")
    assert cov[0] == pytest.approx(0.5)
    assert labels(texts, "alpha beta gamma delta epsilon").tolist() == [1]
    assert labels(texts, "alpha beta gamma delta epsilon", threshold=0.6).tolist() == [0]


def test_gold_with_fewer_than_four_tokens():
    texts = ["Menu", "Short gold text", "something Short gold text else", "Short gold"]
    cov = coverage(texts, "Short gold text")
    assert cov.tolist() == pytest.approx([0.0, 1.0, 0.6, 0.0])


def test_page_with_fewer_than_four_tokens_matches_a_gold_prefix():
    assert coverage(["Breaking news"], "Breaking news from the harbour").tolist() == [1.0]
    assert coverage(["Other words"], "Breaking news from the harbour").tolist() == [0.0]


def test_case_matters_and_lines_without_tokens():
    texts = ["THE NEW BRIDGE OPENED TO TRAFFIC", "--- | ---", PARA]
    cov = coverage(texts, PARA)
    assert cov.tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("gold", ["", None, "   ", "!!! ???"])
def test_empty_gold_gives_zero(gold):
    assert coverage([PARA, "x"], gold).tolist() == [0.0, 0.0]


def test_empty_page():
    assert coverage([], PARA).shape == (0,)
    assert labels([], PARA).shape == (0,)


def test_fixture_page_labels(lighthouse_html, lighthouse_gold):
    L = html_lines(lighthouse_html)
    y = labels(L.texts, lighthouse_gold)
    kept = {t for t, k in zip(L.texts, y) if k}
    for line in lighthouse_gold.splitlines():
        assert line in kept
    for boiler in ("Politics", "Related stories", "Sea wall repairs delayed until next year",
                   "Leave a Reply", "About us", "Share this article Facebook Twitter WhatsApp Email"):
        assert boiler not in kept


def test_snippet_labels_mark_the_lines_that_hold_a_snippet():
    texts = ["Home  News  Sport", "The harbour reopened on Monday after two winters of repairs.",
             "The old sea wall", "now stands a metre higher.", "Share on Twitter", "Cookies & tracking"]
    y = snippet_labels(texts, keep=["reopened on Monday", "sea wall now stands"],
                              drop=["on Twitter", "Cookies &\n tracking", "not on the page"])
    # a snippet across a line break marks both lines; whitespace runs count as one space
    assert y.tolist() == [-1, 1, 1, 1, 0, 0]
    assert y.dtype == np.int8


def test_snippet_labels_leave_a_line_with_both_kinds_unlabelled():
    y = snippet_labels(["Lead paragraph. Related: other story", "Footer"],
                              keep=["Lead paragraph"], drop=["Related: other story"])
    assert y.tolist() == [-1, -1]
    assert snippet_labels([], ["a"], ["b"]).tolist() == []
    assert snippet_labels(["a b c"], [], ["", "  "]).tolist() == [-1]
