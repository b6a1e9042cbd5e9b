"""boilerclf.model.trees: flat trees give exactly scikit-learn's probabilities."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.tree import DecisionTreeClassifier

from boilerclf.features import table as features
from boilerclf.features.table import N_STRUCT
from boilerclf.model.classifier import context_features
from boilerclf.model.trees import ARRAYS, FlatTrees


def _random_data(rng, n, d, nan=0.2):
    X = rng.normal(size=(n, d))
    X[rng.random(X.shape) < nan] = np.nan
    return X


@pytest.fixture(scope="module")
def hgb():
    """A model that learnt to route NaN both ways: the label depends on missingness."""
    rng = np.random.default_rng(0)
    X = _random_data(rng, 3000, 8)
    y = ((np.nan_to_num(X[:, 0]) + np.isnan(X[:, 1]) - np.isnan(X[:, 2]) * 0.7) > 0.2).astype(int)
    return HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, min_samples_leaf=5,
                                          random_state=0).fit(X, y)


def test_random_data_with_nan_is_bit_identical(hgb):
    flat = FlatTrees.from_hgb(hgb)
    ml = flat.missing_left[flat.feature >= 0]
    assert ml.any() and not ml.all()  # missing values go left at some nodes, right at others
    rng = np.random.default_rng(1)
    X = _random_data(rng, 5000, 8, nan=0.3)
    X[:5, 0] = [np.inf, -np.inf, 0.0, -0.0, 1e30]
    want = hgb.predict_proba(X)
    assert np.array_equal(flat.predict_proba(X), want)
    assert np.array_equal(flat.predict_proba1(X), want[:, 1])
    assert np.array_equal(flat.raw_predict(X), hgb._raw_predict(X)[:, 0])
    assert np.array_equal(flat.predict(X), hgb.predict(X))
    # values exactly on split thresholds (x <= threshold goes left)
    inner = flat.feature >= 0
    T = np.full((2000, 8), 0.5)
    for f in range(8):
        thr = flat.threshold[inner & (flat.feature == f)]
        if len(thr):
            T[:, f] = rng.choice(thr, 2000)
    assert np.array_equal(flat.predict_proba(T), hgb.predict_proba(T))
    # float32 input (what the pipeline passes), strided and Fortran-ordered views
    X32 = X.astype(np.float32)
    assert np.array_equal(flat.predict_proba1(X32), hgb.predict_proba(X32)[:, 1])
    wide = np.asfortranarray(np.hstack([X32, X32]))[::3, 8:]
    assert np.array_equal(flat.predict_proba1(wide), hgb.predict_proba(wide)[:, 1])
    # other numeric dtypes are converted as scikit-learn converts them
    Xi = rng.integers(-2, 3, size=(100, 8))
    assert np.array_equal(flat.predict_proba1(Xi), hgb.predict_proba(Xi)[:, 1])
    assert flat.predict_proba1(X[:0]).shape == (0,)


def test_compiled_expit_is_scipys_to_the_bit():
    """Predicting maps raw scores with the compiled expit, not scipy's: the two must
    agree to the bit (numpy's ``1 / (1 + np.exp(-x))`` need not: its exp is vectorised)."""
    from boilerclf.model._ctrees import expit
    from scipy.special import expit as scipy_expit

    rng = np.random.default_rng(3)
    parts = [rng.standard_normal(200_000) * s for s in (1e-300, 1e-8, 0.1, 1, 4, 30, 700, 760)]
    bits = rng.integers(0, 2**64, size=400_000, dtype=np.uint64).view(np.float64)
    parts += [bits, np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 709.78, -745.2])]
    x = np.concatenate(parts)
    want, got = scipy_expit(x), expit(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    assert np.array_equal(got.view(np.int64), want.view(np.int64))


def test_reference_predictor_matches_hgb(hgb, sklearn_flat_scores):
    """The conftest helper (used on the shipped models) is itself scikit-learn-exact."""
    X = _random_data(np.random.default_rng(2), 2000, 8)
    assert np.array_equal(sklearn_flat_scores(FlatTrees.from_hgb(hgb), X), hgb.predict_proba(X)[:, 1])


def test_tree_ranges_add_up_to_the_whole_sum(hgb):
    """raw(X, k, init=raw(X, 0, k)) is raw(X) to the bit: a cascade can stop after k trees."""
    f = FlatTrees.from_hgb(hgb)._forest
    X = _random_data(np.random.default_rng(3), 500, 8).astype(np.float32)
    full = f.raw(X)
    assert np.array_equal(full, hgb._raw_predict(X)[:, 0])
    for k in (0, 1, 17, f.n_trees):
        assert np.array_equal(f.raw(X, k, init=f.raw(X, 0, k)), full)
    assert np.array_equal(f.raw(X, 0, 0), np.full(len(X), f.baseline))
    rows = np.arange(0, 500, 7)  # a subset of rows continued
    part = f.raw(X, 0, 10)
    assert np.array_equal(f.raw(X[rows], 10, init=part[rows]), full[rows])
    with pytest.raises(ValueError, match="tree range"):
        f.raw(X, 5, 4)
    with pytest.raises(ValueError, match="tree range"):
        f.raw(X, 0, f.n_trees + 1)
    with pytest.raises(ValueError, match="init"):
        f.raw(X, 1, init=np.zeros(3))


def test_shape_is_checked(hgb):
    flat = FlatTrees.from_hgb(hgb)
    with pytest.raises(ValueError, match="shape"):
        flat.predict_proba1(np.zeros((3, 7)))
    with pytest.raises(ValueError, match="shape"):
        flat.predict_proba1(np.zeros(8))


def test_unsupported_models_are_refused():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    with pytest.raises(ValueError, match="HistGradientBoostingClassifier"):
        FlatTrees.from_hgb(DecisionTreeClassifier().fit(X, X[:, 0] > 0))
    with pytest.raises(ValueError, match="binary"):
        FlatTrees.from_hgb(HistGradientBoostingClassifier(max_iter=3).fit(X, np.digitize(X[:, 0], [-1, 1])))
    Xc = np.column_stack([rng.integers(0, 4, 300), X[:, 1]])
    cat = HistGradientBoostingClassifier(max_iter=3, categorical_features=[0]).fit(Xc, Xc[:, 0] > 1)
    with pytest.raises(ValueError, match="categorical"):
        FlatTrees.from_hgb(cat)


def test_arrays_round_trip_and_pickle(hgb):
    flat = FlatTrees.from_hgb(hgb)
    arrays = flat.arrays()
    assert set(arrays) == set(ARRAYS) | {"meta"}
    again = FlatTrees.from_arrays(arrays)
    X = _random_data(np.random.default_rng(3), 500, 8)
    assert np.array_equal(again.predict_proba1(X), flat.predict_proba1(X))
    assert np.array_equal(pickle.loads(pickle.dumps(flat)).predict_proba1(X), flat.predict_proba1(X))


@pytest.mark.parametrize("damage", ["child-before-parent", "child-out-of-range", "feature-too-big",
                                    "bad-leaf-marker", "roots-unordered", "wrong-dtype", "short-array",
                                    "no-meta"])
def test_malformed_arrays_are_refused(hgb, damage):
    """Arrays from a file are checked before the C loop sees them (no out-of-bounds
    read, no endless loop)."""
    a = {k: v.copy() for k, v in FlatTrees.from_hgb(hgb).arrays().items()}
    inner = np.flatnonzero(a["feature"] >= 0)
    if damage == "child-before-parent":
        a["left"][inner[3]] = inner[3]  # a node that is its own child: a loop
    elif damage == "child-out-of-range":
        a["right"][inner[-1]] = len(a["feature"]) + 10
    elif damage == "feature-too-big":
        a["feature"][inner[0]] = 8
    elif damage == "bad-leaf-marker":
        a["feature"][np.flatnonzero(a["feature"] < 0)[0]] = -7
    elif damage == "roots-unordered":
        a["roots"][[1, 2]] = a["roots"][[2, 1]]
    elif damage == "wrong-dtype":
        a["left"] = a["left"].astype(np.int64)
    elif damage == "short-array":
        a["threshold"] = a["threshold"][:-1]
    elif damage == "no-meta":
        del a["meta"]
    with pytest.raises(ValueError):
        FlatTrees.from_arrays(a)


def test_line_classifier_on_fixture_pages_is_bit_identical(tiny_fitted, tiny_html_model, training_pages):
    """Both stages of a LineClassifier fitted on the fixture pages: the flat trees it
    predicts through give exactly the scores of scikit-learn's predict_proba, and so
    does the model read back from its file."""
    from copy import copy

    model = copy(tiny_fitted[0])
    assert isinstance(model.stage1_, HistGradientBoostingClassifier)
    assert isinstance(model.trees1_, FlatTrees) and isinstance(model.trees2_, FlatTrees)
    X = features.batch_features([p for p, _ in training_pages[0]])
    F = X[:, N_STRUCT:]
    s1 = model.stage1_.predict_proba(F)[:, 1]
    assert np.array_equal(model.trees1_.predict_proba1(F), s1)
    A = np.hstack([F, context_features(X, s1)])
    s2 = model.stage2_.predict_proba(A)[:, 1]
    assert np.array_equal(model.trees2_.predict_proba1(A), s2)
    assert np.array_equal(model.decision_scores(X), s2)
    assert np.array_equal(tiny_html_model.decision_scores(X), s2)
    model.trees1_ = model.trees2_ = None  # the scikit-learn path (a shallow copy: fixture intact)
    assert np.array_equal(model.decision_scores(X), s2)
