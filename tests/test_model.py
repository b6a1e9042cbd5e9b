"""boilerclf.model: the LineClassifier estimator and model files."""
from __future__ import annotations

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted

import boilerclf
from boilerclf import features, labels
from boilerclf.model import CONTEXT_NAMES, LineClassifier, ModelError, context_features, load, save


@pytest.fixture(scope="module")
def data(training_pages):
    html_pages, _ = training_pages
    X = features.batch_features([p for p, _ in html_pages])
    y = np.concatenate([labels.labels(p.texts, g) for p, g in html_pages])
    assert 0 < y.sum() < len(y)
    return X, y


def quick(**kw) -> LineClassifier:
    kw.setdefault("estimator", DecisionTreeClassifier(max_depth=4, random_state=0))
    kw.setdefault("n_folds", 2)
    return LineClassifier(**kw)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return quick().fit(X, y)


def test_not_fitted_before_fit(data):
    clf = quick()
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    with pytest.raises(NotFittedError):
        clf.predict_proba(data[0])
    with pytest.raises(NotFittedError):
        clf.decision_scores(data[0])


def test_fit_returns_self_and_is_fitted(data):
    X, y = data
    clf = quick()
    assert clf.fit(X, y) is clf
    check_is_fitted(clf)
    assert clf.classes_.tolist() == [0, 1]
    assert clf.n_features_in_ == len(features.FEATURE_NAMES)
    assert clf.stage2_ is not None


def test_fit_rejects_wrong_column_count(data):
    X, y = data
    with pytest.raises(ValueError, match="columns"):
        quick().fit(X[:, :-1], y)


def test_predict_proba_and_predict(fitted, data):
    X, _ = data
    P = fitted.predict_proba(X)
    assert P.shape == (len(X), 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert ((P >= 0) & (P <= 1)).all()
    s = fitted.decision_scores(X)
    np.testing.assert_array_equal(P[:, 1], s)
    np.testing.assert_array_equal(fitted.predict(X), (s >= fitted.threshold).astype(int))
    assert fitted.decision_scores(X[:0]).shape == (0,)


def test_fits_the_training_pages(fitted, data):
    X, y = data
    assert (fitted.predict(X) == y).mean() > 0.9


def test_context_false_is_single_stage(data):
    X, y = data
    clf = quick(context=False).fit(X, y)
    assert clf.stage2_ is None
    s1 = clf.stage1_.predict_proba(X[:, features.N_STRUCT:])[:, 1]
    np.testing.assert_allclose(clf.decision_scores(X), s1)


def test_clone_and_params(fitted):
    params = fitted.get_params()
    for key in ("estimator", "context", "context_estimator", "n_folds", "max_lines_per_page",
                "threshold", "random_state"):
        assert key in params
    c = clone(fitted)
    assert c is not fitted
    assert c.get_params()["n_folds"] == 2 and c.get_params()["threshold"] == 0.5
    assert not hasattr(c, "stage1_")
    with pytest.raises(NotFittedError):
        check_is_fitted(c)
    c.set_params(threshold=0.8, n_folds=3)
    assert c.threshold == 0.8 and c.n_folds == 3
    with pytest.raises(ValueError):
        c.set_params(no_such_param=1)


def test_set_params_threshold_changes_predict(data):
    X, y = data
    clf = quick().fit(X, y)
    s = clf.decision_scores(X)
    clf.set_params(threshold=1.01)
    assert clf.predict(X).sum() == 0
    clf.set_params(threshold=0.0)
    assert clf.predict(X).sum() == len(X)
    clf.set_params(threshold=float(np.median(s)))
    np.testing.assert_array_equal(clf.predict(X), (s >= np.median(s)).astype(int))


def test_deterministic_with_random_state(data):
    X, y = data
    a = quick(max_lines_per_page=10).fit(X, y).decision_scores(X)
    b = quick(max_lines_per_page=10).fit(X, y).decision_scores(X)
    np.testing.assert_array_equal(a, b)


def test_context_features_shape_and_neighbours(data):
    X, _ = data
    s1 = np.linspace(0, 1, len(X))
    C = context_features(X, s1)
    assert C.shape == (len(X), len(CONTEXT_NAMES))
    np.testing.assert_allclose(C[:, 0], s1, rtol=1e-6)
    prev1 = CONTEXT_NAMES.index("s1_prev1")
    starts = np.flatnonzero(X[:, 1] == 0)
    assert (C[starts, prev1] == -1).all()  # no neighbour across a page boundary
    inner = np.setdiff1d(np.arange(len(X)), starts)
    np.testing.assert_allclose(C[inner, prev1], s1[inner - 1], rtol=1e-6)


# ------------------------------------------------------------------ model files

def test_save_load_round_trip(tmp_path, tiny_html_model, data):
    X, _ = data
    path = tmp_path / "m.joblib"
    head = save(tiny_html_model, path, kind="html", note="round trip")
    assert head["schema_version"] == features.SCHEMA_VERSION and head["kind"] == "html"
    assert head["n_features"] == len(features.FEATURE_NAMES) and head["note"] == "round trip"
    m, h = load(path)
    assert isinstance(m, LineClassifier)
    assert h == head
    np.testing.assert_array_equal(m.decision_scores(X), tiny_html_model.decision_scores(X))
    assert not list(tmp_path.glob("*.tmp"))  # atomic write leaves no temp file
    assert isinstance(boilerclf.load_model(path), LineClassifier)


def test_save_unfitted_raises(tmp_path):
    with pytest.raises(NotFittedError):
        save(quick(), tmp_path / "x.joblib", kind="html")


def test_wrong_schema_version_is_refused(tmp_path, fitted):
    path = tmp_path / "old.joblib"
    save(fitted, path, kind="html", schema_version=features.SCHEMA_VERSION + 1)
    with pytest.raises(ModelError, match=r"feature schema .*retrain"):
        load(path)


def test_wrong_sklearn_version_is_refused(tmp_path, fitted):
    path = tmp_path / "sk.joblib"
    save(fitted, path, kind="html", sklearn_version="0.1")
    with pytest.raises(ModelError, match=r"scikit-learn 0\.1"):
        load(path)


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load(tmp_path / "nope.joblib")


@pytest.mark.parametrize("content", ["truncated", "random", "empty", "text", "pickle-of-list",
                                     "no-header", "not-a-classifier"])
def test_bad_model_files_raise_model_error(tmp_path, fitted, content):
    good = tmp_path / "good.joblib"
    save(fitted, good, kind="html")
    bad = tmp_path / "bad.joblib"
    if content == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif content == "random":
        bad.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif content == "empty":
        bad.write_bytes(b"")
    elif content == "text":
        bad.write_text("this is not a model\n")
    elif content == "pickle-of-list":
        bad.write_bytes(pickle.dumps([1, 2, 3]))
    elif content == "no-header":
        joblib.dump({"model": fitted}, bad)
    elif content == "not-a-classifier":
        head = load(good)[1]
        joblib.dump({"header": head, "model": DecisionTreeClassifier()}, bad)
    with pytest.raises(ModelError) as info:
        load(bad)
    assert str(bad) in str(info.value)


def test_extractor_with_bad_model_file_raises_model_error(tmp_path):
    bad = tmp_path / "corrupt.joblib"
    bad.write_bytes(bytes(range(256)) * 4)
    ex = boilerclf.Extractor(model=bad)
    with pytest.raises(ModelError):
        ex.extract("<html><body><p>Some text here.</p></body></html>")
