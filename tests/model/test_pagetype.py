"""The page-type model: fit, file, prediction, and what the library tells."""
from __future__ import annotations

import json

import numpy as np
import pytest

import boilerclf
from boilerclf.features.page import PAGE_FEATURE_NAMES
from boilerclf.model.pagetype import PageTypeError, PageTypePredictor, load, save
from boilerclf.model.pagetype_fit import PageTypeModel


def _data(seed=0):
    rng = np.random.default_rng(seed)
    n = len(PAGE_FEATURE_NAMES)
    y = np.array(["article", "forum", "product"] * 30)
    P = rng.normal(size=(len(y), n))
    P[:, 0] += np.where(y == "article", 3, 0)
    P[:, 1] += np.where(y == "forum", 3, 0)
    return P, y


def test_fit_predict_and_file_round_trip(tmp_path):
    from sklearn.linear_model import LogisticRegression

    P, y = _data()
    m = PageTypeModel(C=0.5).fit(P, y)
    assert m.score(P, y) > 0.9
    ref = LogisticRegression(C=0.5, max_iter=3000).fit((P - m.mean_) / m.scale_, y)
    np.testing.assert_allclose(m.predict_proba(P), ref.predict_proba((P - m.mean_) / m.scale_), atol=1e-6)
    save(m, tmp_path / "pt.npz", trained="today")
    got, head = load(tmp_path / "pt.npz")
    assert head["trained"] == "today" and got.classes_.tolist() == ["article", "forum", "product"]
    assert isinstance(got, PageTypePredictor) and got.get_params() == m.get_params()  # no estimator
    np.testing.assert_array_equal(got.predict(P), m.predict(P))
    np.testing.assert_array_equal(got.predict_proba(P), m.predict_proba(P))


def test_unfitted_model_says_so():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        PageTypeModel().predict(np.zeros((1, len(PAGE_FEATURE_NAMES))))


def test_bad_files_are_refused(tmp_path):
    P, y = _data()
    m = PageTypeModel().fit(P, y)
    (tmp_path / "junk.npz").write_bytes(b"\x00junk")
    with pytest.raises(PageTypeError):
        load(tmp_path / "junk.npz")
    m.coef_ = m.coef_[:, :5]  # wrong shape
    head = {"kind": "pagetype", "classes": list(m.classes_), "features": list(PAGE_FEATURE_NAMES), "params": {}}
    with open(tmp_path / "bad.npz", "wb") as f:
        np.savez(f, mean=m.mean_, scale=m.scale_, coef=m.coef_, intercept=m.intercept_,
                 header=np.frombuffer(json.dumps(head).encode(), np.uint8))
    with pytest.raises(PageTypeError, match="shape"):
        load(tmp_path / "bad.npz")


def test_the_shipped_model_tells_a_news_article(lighthouse_html):
    r = boilerclf.classify(lighthouse_html)
    assert r.page_type == "article" and r.page_type_scores["article"] > 0.5
    assert set(r.page_type_scores) == {"article", "collection", "documentation", "forum", "listing",
                                       "product", "service"}
    assert boilerclf.Extractor(page_types=False).classify(lighthouse_html).page_type == ""
    assert boilerclf.classify("plain text, one line", kind="text").page_type == ""
