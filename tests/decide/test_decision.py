"""Per-page thresholds (boilerclf.decide.decision): what "auto" keeps, and that every
path (Extractor, LineClassifier.predict, training's texts_at, model files)
applies the same rule."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf import Auto, Extractor
from boilerclf.decide import decision
from boilerclf.features.table import FEATURE_NAMES, page_features
from boilerclf.model.files import load, save
from boilerclf.parse.html import html_lines

# One page of a short blog post the model is unsure of: a menu, two body
# paragraphs scored only 0.25 and 0.2, a footer.
UNSURE_SCORES = np.array([0.02, 0.01, 0.25, 0.20, 0.03])
UNSURE_WORDS = np.array([3.0, 2.0, 60.0, 45.0, 8.0])


def test_unsure_page_keeps_its_best_lines_where_a_fixed_threshold_keeps_nothing():
    t = decision.page_threshold(UNSURE_SCORES, UNSURE_WORDS)
    kept = UNSURE_SCORES >= t
    assert kept.tolist() == [False, False, True, True, False]
    assert not (UNSURE_SCORES >= 0.35).any()


def test_confident_page_leaves_out_a_long_doubtful_block():
    # 100 words of article at 0.95, then a 100-word teaser block at 0.3:
    # keeping the block costs more expected precision than it adds recall.
    s = np.array([0.95, 0.3])
    w = np.array([100.0, 100.0])
    assert decision.page_threshold(s, w) == 0.95
    # weighing recall 3x keeps it
    assert decision.page_threshold(s, w, recall_weight=3.0) == 0.3


def test_capped_lines_are_never_kept():
    # A rescue page (nothing above 0.25) whose comment section a rule capped at 0.05:
    # the long comments count as boilerplate, and the threshold stays above them.
    s = np.array([0.01, 0.25, 0.20, 0.05, 0.05, 0.04])
    w = np.array([3.0, 60.0, 45.0, 400.0, 300.0, 2.0])
    capped = np.array([False, False, False, True, True, False])
    assert decision.page_threshold(s, w) <= 0.05  # without the mask the comments' mass pulls it down
    t = decision.page_threshold(s, w, capped=capped)
    assert (s >= t).tolist() == [False, True, True, False, False, False]
    # a page whose best choice would sit at the cap is raised just above it
    s2 = np.array([0.05, 0.05, 0.01])
    w2 = np.array([10.0, 50.0, 5.0])
    t2 = decision.page_threshold(s2, w2, capped=np.array([True, False, False]))
    assert t2 > 0.05 and not (s2 >= t2).any()


def test_lines_without_words_do_not_move_the_threshold():
    s = np.array([0.9, 0.6, 0.05])
    w = np.array([50.0, 40.0, 30.0])
    t = decision.page_threshold(s, w)
    # an empty-text line (a rule, an image) scored anywhere changes nothing
    for extra in (0.99, 0.7, 0.01):
        assert decision.page_threshold(np.r_[s, extra], np.r_[w, 0.0]) == t


@pytest.mark.parametrize("scores,words", [([], []), ([0.0, 0.0], [5.0, 9.0]), ([0.8, 0.4], [0.0, 0.0])])
def test_page_without_expected_content_gets_the_fixed_fallback(scores, words):
    assert decision.page_threshold(np.array(scores), np.array(words)) == decision.EMPTY_PAGE_THRESHOLD


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 200)), min_size=1, max_size=40))
def test_more_recall_weight_never_keeps_less(rows):
    s = np.array([r[0] for r in rows])
    w = np.array([float(r[1]) for r in rows])
    t = [decision.page_threshold(s, w, c) for c in (0.3, 1.0, 3.0)]
    assert t[0] >= t[1] >= t[2]
    assert all(x in s or x == decision.EMPTY_PAGE_THRESHOLD for x in t)


def test_parse():
    assert decision.parse("auto") == Auto() and decision.parse(" AUTO ") == Auto()
    assert decision.parse("auto:2.5") == Auto(2.5)
    assert decision.parse(0.4) == 0.4 and decision.parse("0.4") == 0.4
    assert decision.parse(Auto(3)) == Auto(3)
    assert str(Auto()) == "auto" and str(Auto(0.3)) == "auto:0.3"
    for bad in ("auto:", "auto:-1", "auto:inf", "strict", None, True, [0.5]):
        with pytest.raises(ValueError):
            decision.parse(bad)


@pytest.mark.parametrize("value", [0, 0.0, 1, 1.0, "0", "1", " 0.35 ", np.float32(0.5), np.int64(1)])
def test_parse_accepts_thresholds_from_0_to_1(value):
    assert decision.parse(value) == float(value)


@pytest.mark.parametrize("bad", [1.5, -0.1, 1.01, "1.5", "-0.1", "nan", "NaN", float("nan"), "inf", float("-inf"),
                                 np.float64(2.0), 2, -1])
def test_parse_rejects_thresholds_outside_0_to_1(bad):
    with pytest.raises(ValueError, match=r"^a threshold must be a number from 0 to 1 .*not ") as e:
        decision.parse(bad)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("bad", [1.5, -0.1, "nan"])
def test_library_rejects_thresholds_outside_0_to_1(bad):
    import boilerclf

    page = "<html><body><p>A paragraph of some words for the model to score.</p></body></html>"
    with pytest.raises(ValueError):
        boilerclf.extract(page, threshold=bad)
    with pytest.raises(ValueError):
        boilerclf.classify(page, threshold=bad)


def _pages_matrix(pages_scores: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """A feature matrix with only the page and words columns filled, and its scores."""
    n = sum(len(s) for s, _ in pages_scores)
    X = np.zeros((n, len(FEATURE_NAMES)), np.float32)
    scores, row = [], 0
    for i, (s, w) in enumerate(pages_scores):
        X[row:row + len(s), 0] = i
        X[row:row + len(s), FEATURE_NAMES.index("words")] = np.log1p(w)
        scores.append(s)
        row += len(s)
    return X, np.concatenate(scores)


def test_thresholds_are_per_page():
    confident = (np.array([0.95, 0.9, 0.1]), np.array([80.0, 60.0, 20.0]))
    X, s = _pages_matrix([confident, (UNSURE_SCORES, UNSURE_WORDS), confident])
    t = decision.thresholds(Auto(), s, X)
    assert np.allclose(t[:3], 0.9) and np.allclose(t[-3:], 0.9)
    assert np.allclose(t[3:8], 0.2)
    assert decision.keep(Auto(), s, X).tolist() == [True, True, False, False, False, True, True, False,
                                                    True, True, False]
    assert decision.keep(0.5, s, X).tolist() == (s >= 0.5).tolist()


def test_extractor_model_and_training_agree(tiny_models, lighthouse_html):
    """The Extractor's page threshold, LineClassifier.predict and training's texts_at
    all apply the same rule (the benchmark numbers are those of the product)."""
    from boilerclf_training import build, train

    from boilerclf.decide import rules as cues

    ex = Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold="auto", xref_rule=False)
    r = ex.classify(lighthouse_html)
    L = html_lines(lighthouse_html)
    X = page_features(L)
    model, _ = load(tiny_models[0])
    raw = model.decision_scores(X)
    capped = cues.markup_mask(L.hints, L.flags, L.texts)  # hidden elements, comment sections
    assert capped.any() and not capped.all()
    scores = np.where(capped, np.minimum(raw, cues.CAP), raw)
    assert np.allclose(scores, r.scores)
    assert r.threshold == decision.page_threshold(scores, decision.line_words(X), capped=capped)
    want = decision.keep(Auto(), scores, X, capped)
    want[r.headline] = False  # the headline line: out of the body by default
    assert [ln.label for ln in r.lines] == want.tolist()
    assert not any(ln.label for ln, c in zip(r.lines, capped) if c)
    model.threshold = "auto"
    assert model.predict(X).tolist() == decision.keep(Auto(), raw, X).astype(int).tolist()
    part = build.Part(X, np.zeros(len(X)), [list(L.texts)], ["p"], {"p": ""}, capped)
    assert train.texts_at(part, raw, "auto", headline=False)["p"] == r.text


def test_model_file_keeps_auto(tmp_path, tiny_fitted, training_pages):
    from sklearn.base import clone

    from boilerclf.features import table as features

    X = features.batch_features([p for p, _ in training_pages[0]])
    fitted = clone(tiny_fitted[0])
    fitted.__dict__.update({k: v for k, v in tiny_fitted[0].__dict__.items() if k.endswith("_")})
    fitted.set_params(threshold="auto:2")
    save(fitted, tmp_path / "m.npz", kind="html")
    loaded, head = load(tmp_path / "m.npz")
    assert loaded.threshold == "auto:2" and head["estimator"]["params"]["threshold"] == "auto:2"
    want = decision.keep(Auto(2.0), loaded.decision_scores(X), X)
    assert loaded.predict(X).tolist() == want.astype(int).tolist()
    assert 0 < want.sum() < len(want)
    assert Extractor(model=tmp_path / "m.npz").model_for("html")[1] == Auto(2.0)


def test_model_file_with_a_bad_threshold_is_refused(tmp_path, tiny_models):
    import json
    import zipfile

    from boilerclf import ModelError

    src = zipfile.ZipFile(tiny_models[0])
    head = json.loads(src.read("header.json"))
    head["estimator"]["params"]["threshold"] = "sometimes"
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as z:
        for name in src.namelist():
            z.writestr(name, json.dumps(head) if name == "header.json" else src.read(name))
    with pytest.raises(ModelError, match="threshold|decision"):
        load(tmp_path / "bad.npz")


class _StubModel:
    """Stands in for a model: fixed scores for the lines of one page."""

    threshold = "auto"

    def __init__(self, scores):
        self.scores = np.asarray(scores, dtype=np.float64)

    def decision_scores(self, X):
        assert len(X) == len(self.scores)
        return self.scores.copy()


def test_auto_never_keeps_a_cross_reference_line_even_below_the_cap():
    # A page the model is unsure of: the article at 0.04, a "See also" line at 0.03
    # (below the cap, so the batch's search skipped it), a menu and a footer lower still.
    article = " ".join(["The harbour authority said the new ferry would run every hour from May."] * 5)
    html = (f"<html><body><p>Home News Sport</p><p>{article}</p>"
            "<p>See also: Another story about the ferry timetable</p><p>Copyright 2024</p></body></html>")
    L = html_lines(html)
    assert [t[:9] for t in L.texts] == ["Home News", article[:9], "See also:", "Copyright"]
    scores = [1e-5, 0.04, 0.03, 1e-5]
    for rule, want in ((True, [False, True, False, False]), (False, [False, True, True, False])):
        ex = Extractor(threshold="auto", xref_rule=rule)
        ex.__dict__["_m_html"] = (_StubModel(scores), Auto())
        r = ex.classify(html)
        assert [ln.label for ln in r.lines] == want, rule
        assert r.threshold <= 0.04


def test_extractor_refuses_a_bad_threshold_when_made():
    from boilerclf import Extractor

    for bad in (1.5, -0.1, float("nan"), "sometimes"):
        with pytest.raises(ValueError, match="from 0 to 1"):
            Extractor(threshold=bad)
    assert Extractor(threshold="recall").threshold == "recall"
