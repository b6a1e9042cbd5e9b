"""Cross-reference lines ("See also: ...") are dropped after the model."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest

import boilerclf
from boilerclf.cues import CAP, cap_scores, xref_mask

PARAS = [
    "The harbour council said on Monday that the old pier will be rebuilt next spring, after two "
    "winters of storms left the sea wall cracked and the walkway closed to the public.",
    "Fishermen had asked for the repairs for years. The council's plan puts the cost at four "
    "million euros, most of it from a regional fund for coastal towns.",
    "Work is to start in March and to last eighteen months, during which boats will moor at the "
    "new jetty on the north side of the bay, the council said.",
]


@pytest.mark.parametrize("line", [
    "See also: TSMC says second $17 billion factory in Japan will produce 3nm chips",
    "SEE ALSO: The History of GIFs",
    "Read more: Council approves the budget",
    "Related articles",
    "Related: New UK hotel swaps Bibles for Kindles",
    "  Also read - What is app testing?",
    "You might also like: ten walks by the sea",
    "Lire aussi : Les critiques de la CNIL",
    "Lesen Sie auch: Der Hafen wird saniert",
    "Читайте также: новости",
    "相关阅读：港口将重建",
    "See also:",
])
def test_xref_lines_match(line):
    assert xref_mask(["Intro paragraph.", line, "Outro."]).tolist() == [False, True, False]


@pytest.mark.parametrize("line", [
    "Seeing also the second factory, the minister said it would open in May.",
    "Related parties must disclose their holdings, the regulator said.",
    "He said: read more books.",
    "The report, see also page 4, was published on Monday.",
    "Readers also read the paper online.",
    "",
])
def test_prose_does_not_match(line):
    assert not xref_mask([line]).any()


def test_mask_maps_matches_to_the_right_lines():
    texts = ["a", "", "See also: x", "b\nRead more: y", "c", "Related"]
    assert xref_mask(texts).tolist() == [False, False, True, True, False, True]
    assert xref_mask([]).shape == (0,)
    s = np.array([0.9, 0.9, 0.9, 0.2, 0.9, 0.01])
    out = cap_scores(s, texts)
    assert out.tolist() == [0.9, 0.9, CAP, CAP, 0.9, 0.01]


def _text_page(mid: str) -> str:
    return "\n\n".join([PARAS[0], PARAS[1], mid, PARAS[2]])


def test_extractor_drops_see_also_in_both_modes(tiny_models):
    mid = "See also: Council approves the harbour budget after a long night of debate in the town hall"
    html = "<html><body><article>" + "".join(f"<p>{t}</p>" for t in (PARAS[0], PARAS[1], mid, PARAS[2])) \
        + "</article></body></html>"
    on = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1)
    off = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=0.1, xref_rule=False)
    for page, kind in ((_text_page(mid), "text"), (html, "html")):
        r_on, r_off = on.classify(page, kind), off.classify(page, kind)
        s_on = {ln.text: ln.score for ln in r_on.lines}
        s_off = {ln.text: ln.score for ln in r_off.lines}
        assert s_on[mid] == min(s_off[mid], CAP) and mid not in r_on.text
        # only that line changes
        assert {t: v for t, v in s_on.items() if t != mid} == {t: v for t, v in s_off.items() if t != mid}
    # with the rule off and a threshold under the model's score, the line is kept
    low = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], xref_rule=False,
                              threshold=min(s_off[mid], 0.5) / 2)
    assert mid in low.extract(html, "html")


_POOL = ["See also: x", "Read more", "Related: a\nb", "plain prose.", "", "a\nSee also: y", "Menu"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_POOL), st.sampled_from([0.0, 0.01, CAP, 0.06, 0.5, 1.0])),
                max_size=12))
def test_cap_scores_searches_only_lines_above_the_cap(rows):
    """Searching only the lines above the cap gives what capping every match gives."""
    texts = [t for t, _ in rows]
    s = np.array([v for _, v in rows], dtype=np.float64)
    expect = np.where(xref_mask(texts), np.minimum(s, CAP), s)
    np.testing.assert_array_equal(cap_scores(s, texts), expect)
