"""Why a line got its score: per-feature contributions along the trees' paths (boilerclf.model.reasons)."""
from __future__ import annotations

import numpy as np
import pytest
from boilerclf.model._ctrees import expit

from boilerclf.features.table import page_features
from boilerclf.model.files import load_model
from boilerclf.model.reasons import (
    STAGE2_NAMES,
    contributions,
    line_reasons,
    node_expectations,
)
from boilerclf.parse.html import html_lines


def _page(html: bytes):
    L = html_lines(html.decode("utf-8"))
    return L, page_features(L, 0)


def test_contributions_add_up_to_the_raw_score(tiny_html_model, lighthouse_html):
    _, X = _page(lighthouse_html)
    trees = tiny_html_model.trees1_
    F = X[:, 13:].astype(np.float64)
    F[::3, 0] = np.nan  # missing values follow the nodes' missing-go-left flags
    bias, C = contributions(trees, F)
    np.testing.assert_allclose(bias + C.sum(axis=1), trees.raw_predict(F), atol=1e-9)
    bias, C = contributions(trees, F, 0, 5)  # a range of trees
    np.testing.assert_allclose(bias + C.sum(axis=1), trees.raw_predict(F, 0, 5), atol=1e-9)
    unused = np.setdiff1d(np.arange(F.shape[1]), trees.feature[trees.feature >= 0])
    assert not C[:, unused].any()  # a feature no tree splits on moves nothing
    e = node_expectations(trees)
    inner = trees.feature >= 0
    np.testing.assert_allclose(e[inner], 0.5 * (e[trees.left[inner]] + e[trees.right[inner]]))


@pytest.mark.parametrize("which", ["tiny", "shipped"])
def test_line_reasons_explain_the_model_score(which, tiny_html_model, lighthouse_html):
    model = tiny_html_model if which == "tiny" else load_model(None, "html")[0]
    L, X = _page(lighthouse_html)
    r = line_reasons(model, X)
    np.testing.assert_allclose(r.scores, model.decision_scores(X))
    np.testing.assert_allclose(expit(r.bias + r.contributions.sum(axis=1)), r.scores, atol=1e-9)
    assert r.names == STAGE2_NAMES and set(r.stage) <= {"stage 1", "stage 2"}
    if which == "shipped":  # its cascade: lines stage 1 is sure are boilerplate stop there
        assert {"stage 1", "stage 2"} <= set(r.stage)
    top = r.top(0, 4)
    assert 1 <= len(top) <= 4 and abs(top[0]["effect"]) == np.abs(r.contributions[0]).max()
    j = r.names.index(top[0]["feature"])
    assert top[0]["value"] == pytest.approx(r.inputs[0, j])


def test_site_model_reasons_are_the_site_layer(tiny_html_model, lighthouse_html):
    from boilerclf.model.site import SiteModel

    _, X = _page(lighthouse_html)
    y = (np.arange(len(X)) % 3 == 0).astype(np.int64)
    m = SiteModel(tiny_html_model, weight=1.0).fit(X, y)
    r = line_reasons(m, X)
    assert r.names[-1] == "base_score" and set(r.stage) == {"site layer"}
    np.testing.assert_allclose(expit(r.bias + r.contributions.sum(axis=1)), m.decision_scores(X), atol=1e-9)


def test_public_explain(lighthouse_html, tiny_models):
    import boilerclf

    lines, r = boilerclf.explain(lighthouse_html, tiny_models[0])
    assert len(lines) == len(r.scores) and len(lines) > 5
    ex = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1])
    np.testing.assert_allclose(r.scores, [ln.score for ln in ex.classify(lighthouse_html).lines], atol=1e-9)
    with pytest.raises(ValueError, match="kind"):
        boilerclf.explain("x", kind="pdf")
