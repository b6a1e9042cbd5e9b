"""boilerclf.model.classifier: the LineClassifier estimator and model files."""
from __future__ import annotations

import io
import json
import os
import pickle
import shlex
import zipfile

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import check_is_fitted
from typer.testing import CliRunner

import boilerclf
from boilerclf.cli import app
from boilerclf.features import table as features
from boilerclf.labels import gold as labels
from boilerclf.model import files as files_mod
from boilerclf.model import scores as scores_mod
from boilerclf.model.classifier import CONTEXT_NAMES, LineClassifier, context_features
from boilerclf.model.files import ModelError, load, save
from boilerclf.model.fitted import LinePredictor
from boilerclf.model.trees import FlatTrees


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
    clf.set_params(threshold=1.0)
    np.testing.assert_array_equal(clf.predict(X), (s >= 1.0).astype(int))
    with pytest.raises(ValueError, match="0 to 1"):  # no threshold outside the scores' range
        clf.set_params(threshold=1.01).predict(X)
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


@pytest.mark.parametrize("subset", ["all", "every_third", "random", "none"])
def test_stage2_input_equals_the_numpy_reference(data, subset):
    """The compiled stage-2 input (what prediction uses) is bit-identical to
    hstack([F, context_features]) on the same rows."""
    X, _ = data
    rng = np.random.default_rng(3)
    s1 = rng.random(len(X))
    s1[::7] = 0.0  # ties and zero scores, as after the early exit
    rows = {"all": None, "every_third": np.arange(0, len(X), 3),
            "random": np.sort(rng.choice(len(X), len(X) // 2, replace=False)),
            "none": np.zeros(0, dtype=np.int64)}[subset]
    want = np.hstack([X[:, features.N_STRUCT:], context_features(X, s1)])
    want = want if rows is None else want[rows]
    assert scores_mod.stage2_input_compiled is not None  # the compiled one is tested
    got = scores_mod.stage2_input(X, s1, rows)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_stage2_input_refuses_rows_it_cannot_place(data):
    X, _ = data
    s1 = np.zeros(len(X))
    with pytest.raises(ValueError):
        scores_mod.stage2_input(X, s1, np.array([5, 3]))  # not ascending
    with pytest.raises(ValueError):
        scores_mod.stage2_input(X, s1, np.array([len(X)]))


# ------------------------------------------------------------------ model files

def _legacy(path, head, obj) -> None:
    """Write a format-1 (joblib pickle) model file as boilerclf used to."""
    joblib.dump({"header": head, "model": obj}, path, compress=3)


def _legacy_head(**kw) -> dict:
    return {"format": "boilerclf-model", "schema_version": features.SCHEMA_VERSION,
            "sklearn_version": files_mod.sklearn_version(), "kind": "html",
            "n_features": len(features.FEATURE_NAMES), **kw}


def test_save_load_round_trip(tmp_path, tiny_fitted, data):
    X, _ = data
    fitted = tiny_fitted[0]
    path = tmp_path / "m.npz"
    head = save(fitted, path, kind="html", note="round trip", scores={"f1": np.float64(0.5)})
    assert head["schema_version"] == features.SCHEMA_VERSION and head["kind"] == "html"
    assert head["n_features"] == len(features.FEATURE_NAMES) and head["note"] == "round trip"
    assert head["format_version"] == files_mod.FORMAT_VERSION and head["scores"] == {"f1": 0.5}
    m, h = load(path)
    assert isinstance(m, LinePredictor) and not isinstance(m, LineClassifier)
    assert h == head
    assert isinstance(m.stage1_, FlatTrees) and isinstance(m.stage2_, FlatTrees)
    np.testing.assert_array_equal(m.decision_scores(X), fitted.decision_scores(X))
    np.testing.assert_array_equal(m.predict(X), fitted.predict(X))
    assert m.threshold == fitted.threshold and m.get_params()["n_folds"] == fitted.n_folds
    assert not list(tmp_path.glob("*.tmp"))  # atomic write leaves no temp file
    assert isinstance(boilerclf.load_model(path), LinePredictor)
    # arrays and JSON only: every member is header.json or an .npy without objects
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert names[0] == "header.json" and all(n.endswith(".npy") for n in names[1:])
        assert json.loads(z.read("header.json")) == head
    with np.load(path, allow_pickle=False) as z:
        assert all(z[n[:-4]].dtype != object for n in names[1:])
    # the same model gives the same bytes
    save(fitted, tmp_path / "again.npz", kind="html", note="round trip", scores={"f1": 0.5})
    assert (tmp_path / "again.npz").read_bytes() == path.read_bytes()


def test_loaded_model_predicts_and_a_clone_refits(tmp_path, tiny_models, data):
    X, y = data
    m, _ = load(tiny_models[0])
    with pytest.raises(AttributeError):
        m.stage1_.fit  # a loaded model's stages are predictors, not estimators
    c = clone(m)
    assert isinstance(c.estimator, HistGradientBoostingClassifier)  # recorded in the header
    assert c.estimator.get_params()["max_iter"] == 30
    c.fit(X, y)
    np.testing.assert_array_equal(c.decision_scores(X), m.decision_scores(X))


def _with(model, **params):
    """A copy of fitted ``model`` with other prediction settings (the fixture stays intact)."""
    c = clone(model).set_params(**params)
    for k in ("stage1_", "stage2_", "trees1_", "trees2_", "classes_", "n_features_in_"):
        setattr(c, k, getattr(model, k))
    return c


def test_prediction_shortcuts_are_off_by_default_and_on_for_trained_html_models():
    from boilerclf_training.train import SHORTCUTS

    p = LineClassifier().get_params()
    assert (p["exit_score"], p["cascade"]) == (0.0, 0.0)
    assert SHORTCUTS["html"] == {"exit_trees": 30, "exit_score": 0.05, "cascade": 0.05}
    assert not SHORTCUTS["text"]


def test_cascade_skips_stage_two_for_low_stage_one_scores(tmp_path, tiny_fitted, data):
    X, _ = data
    full = _with(tiny_fitted[0], exit_score=0.0, cascade=0.0)
    s_full = full.decision_scores(X)
    s1 = full.stage_scores(1, X[:, features.N_STRUCT:].astype(np.float32))
    levels = np.unique(s1)
    assert len(levels) > 2
    cut = float(levels[len(levels) // 2])
    c = _with(full, cascade=cut)
    s = c.decision_scores(X)
    low = s1 < cut
    assert 0 < low.sum() < len(X)
    np.testing.assert_array_equal(s[low], s1[low])  # skipped lines keep the stage-1 score
    np.testing.assert_array_equal(s[~low], s_full[~low])  # the others are scored as before
    # the setting travels with the model file
    save(c, tmp_path / "c.npz", kind="html")
    m, head = load(tmp_path / "c.npz")
    assert m.cascade == cut and head["estimator"]["params"]["cascade"] == cut
    np.testing.assert_array_equal(m.decision_scores(X), s)


def test_max_iter_sets_the_trees_of_both_default_stages(tmp_path, data):
    X, y = data
    m = LineClassifier(max_iter=7, max_lines_per_page=None).fit(X, y)
    assert (m.trees1_.n_trees, m.trees2_.n_trees) == (7, 7)
    assert m.stage1_.max_iter == 7 and m.stage2_.max_iter == 7
    # a stage given its own estimator keeps it
    own = LineClassifier(max_iter=7, estimator=HistGradientBoostingClassifier(max_iter=4),
                         context=False).fit(X, y)
    assert own.trees1_.n_trees == 4
    save(m, tmp_path / "m.npz", kind="html")
    back, head = load(tmp_path / "m.npz")
    assert back.max_iter == 7 and head["estimator"]["params"]["max_iter"] == 7
    np.testing.assert_array_equal(back.decision_scores(X), m.decision_scores(X))


def test_early_exit_of_stage_one(tiny_fitted, data):
    X, _ = data
    F = X[:, features.N_STRUCT:].astype(np.float32)
    full = _with(tiny_fitted[0], exit_score=0.0, cascade=0.0)
    trees = full.trees1_
    k = trees.n_trees // 3
    partial = 1 / (1 + np.exp(-trees.raw_predict(F, 0, k)))
    levels = np.unique(partial)
    assert len(levels) > 2
    cut = float(levels[len(levels) // 2])
    e = _with(full, exit_trees=k, exit_score=cut)
    s1 = e.stage1_scores(F)
    stop = partial < cut
    assert 0 < stop.sum() < len(F)
    np.testing.assert_allclose(s1[stop], partial[stop], rtol=1e-12)  # stopped after k trees
    np.testing.assert_array_equal(s1[~stop], full.stage_scores(1, F)[~stop])  # the rest: exact
    # off when exit_trees is 0 or covers every tree
    for kw in ({"exit_trees": 0}, {"exit_trees": trees.n_trees}, {"exit_score": 0.0}):
        np.testing.assert_array_equal(_with(e, **kw).stage1_scores(F), full.stage_scores(1, F))


def test_save_unfitted_raises(tmp_path):
    with pytest.raises(NotFittedError):
        save(quick(), tmp_path / "x.npz", kind="html")


def test_save_refuses_stages_that_are_not_hgb(tmp_path, fitted):
    with pytest.raises(ValueError, match="HistGradientBoosting"):
        save(fitted, tmp_path / "x.npz", kind="html")
    assert not (tmp_path / "x.npz").exists()


def test_wrong_schema_version_is_refused(tmp_path, tiny_fitted):
    path = tmp_path / "old.npz"
    save(tiny_fitted[0], path, kind="html", schema_version=features.SCHEMA_VERSION + 1)
    with pytest.raises(ModelError, match=r"feature schema .*retrain"):
        load(path)


def test_other_sklearn_version_loads_safe_format(tmp_path, tiny_fitted, data):
    """Flat trees do not depend on scikit-learn: the version is recorded, not required."""
    path = tmp_path / "sk.npz"
    save(tiny_fitted[0], path, kind="html", sklearn_version="0.1")
    m, h = load(path)
    assert h["sklearn_version"] == "0.1"
    np.testing.assert_array_equal(m.decision_scores(data[0]), tiny_fitted[0].decision_scores(data[0]))


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load(tmp_path / "nope.npz")


def _rezip(src, dst, edit) -> None:
    """Copy model file ``src`` to ``dst``, passing {name: bytes} through ``edit``."""
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members = edit(members)
    with zipfile.ZipFile(dst, "w") as z:
        for n, b in members.items():
            z.writestr(n, b)


def _npy(a) -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array(b, a, allow_pickle=True)
    return b.getvalue()


@pytest.mark.parametrize("content", [
    "truncated", "truncated-head", "random", "empty", "text", "zip-without-header", "header-not-json",
    "not-our-format", "future-format", "missing-array", "object-array", "loop-in-tree",
    "feature-out-of-range", "wrong-width", "zip-bomb", "bad-cascade", "bad-exit",
    "bad-max-iter", "nan-threshold", "negative-threshold", "nan-baseline", "junk-member", "header-bomb"])
def test_bad_model_files_raise_model_error(tmp_path, tiny_models, monkeypatch, content):
    good = tiny_models[0]
    bad = tmp_path / "bad.npz"
    raw = good.read_bytes()

    def head_edit(**kw):
        def edit(m):
            h = json.loads(m["header.json"])
            h.update(kw)
            return {**m, "header.json": json.dumps(h).encode()}
        return edit

    if content == "truncated":
        bad.write_bytes(raw[: len(raw) // 2])
    elif content == "truncated-head":
        bad.write_bytes(raw[:10])
    elif content == "random":
        bad.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif content == "empty":
        bad.write_bytes(b"")
    elif content == "text":
        bad.write_text("this is not a model\n")
    elif content == "zip-without-header":
        _rezip(good, bad, lambda m: {k: v for k, v in m.items() if k != "header.json"})
    elif content == "header-not-json":
        _rezip(good, bad, lambda m: {**m, "header.json": b"{not json"})
    elif content == "not-our-format":
        _rezip(good, bad, head_edit(format="something-else"))
    elif content == "future-format":
        _rezip(good, bad, head_edit(format_version=99))
    elif content == "missing-array":
        _rezip(good, bad, lambda m: {k: v for k, v in m.items() if k != "s2_left.npy"})
    elif content == "object-array":  # a pickled object array inside: np.load must refuse it
        _rezip(good, bad, lambda m: {**m, "s1_value.npy": _npy(np.array([object()] * 3))})
    elif content == "loop-in-tree":
        def loop(m):
            left = np.lib.format.read_array(io.BytesIO(m["s1_left.npy"]))
            left[0] = 0  # the root is its own left child
            return {**m, "s1_left.npy": _npy(left)}
        _rezip(good, bad, loop)
    elif content == "feature-out-of-range":
        def far(m):
            f = np.lib.format.read_array(io.BytesIO(m["s1_feature.npy"]))
            f[0] = 10**6
            return {**m, "s1_feature.npy": _npy(f)}
        _rezip(good, bad, far)
    elif content == "wrong-width":  # stage 1 of the text model in the html model's stage 2
        with zipfile.ZipFile(good) as z:
            s1 = {n.replace("s1_", "s2_"): z.read(n) for n in z.namelist() if n.startswith("s1_")}
        _rezip(good, bad, lambda m: {**m, **s1})
    elif content in ("bad-cascade", "bad-exit", "bad-max-iter"):  # header settings are checked
        def casc(m):
            h = json.loads(m["header.json"])
            if content == "bad-cascade":
                h["estimator"]["params"]["cascade"] = "0.5; rm -rf /"
            elif content == "bad-exit":
                h["estimator"]["params"]["exit_trees"] = -3
            else:
                h["estimator"]["params"]["max_iter"] = 2.5
            return {**m, "header.json": json.dumps(h).encode()}
        _rezip(good, bad, casc)
    elif content in ("nan-threshold", "negative-threshold"):  # every page would come out empty / whole
        def thr(m):
            h = json.loads(m["header.json"])
            h["estimator"]["params"]["threshold"] = float("nan") if content == "nan-threshold" else -1
            return {**m, "header.json": json.dumps(h).encode()}
        _rezip(good, bad, thr)
    elif content == "nan-baseline":
        def nan_base(m):
            meta = np.lib.format.read_array(io.BytesIO(m["s1_meta.npy"]))
            meta[0] = np.nan
            return {**m, "s1_meta.npy": _npy(meta)}
        _rezip(good, bad, nan_base)
    elif content == "junk-member":  # members the header does not call for are refused unread
        _rezip(good, bad, lambda m: {**m, "junk.npy": _npy(np.zeros(1000))})
    elif content == "header-bomb":  # the header's size is checked before it is read
        with zipfile.ZipFile(good) as z:
            members = {n: z.read(n) for n in z.namelist()}
        with zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("header.json", members.pop("header.json")[:-1] + b', "x": "' + b" " * (2 << 20) + b'"}')
            for n, b in members.items():
                z.writestr(n, b)
    elif content == "zip-bomb":  # sizes come from the zip directory: nothing is unpacked
        _rezip(good, bad, lambda m: {**m, "pad.npy": _npy(np.zeros(1 << 17))})
        with zipfile.ZipFile(good) as z:
            monkeypatch.setattr(files_mod, "MAX_UNZIPPED", sum(i.file_size for i in z.infolist()) + 1000)
        load(good)  # the good file is within the lowered limit
    with pytest.raises(ModelError) as info:
        load(bad)
    assert str(bad) in str(info.value)
    if content == "zip-bomb":
        assert "unpacks to more than" in str(info.value)
    want = {"nan-threshold": "threshold", "negative-threshold": "threshold", "nan-baseline": "baseline",
            "junk-member": "junk.npy", "header-bomb": "header.json"}.get(content)
    assert want is None or want in str(info.value)


def test_truncated_file_says_so(tmp_path, tiny_models):
    bad = tmp_path / "cut.npz"
    bad.write_bytes(tiny_models[0].read_bytes()[:-100])
    with pytest.raises(ModelError, match="truncated or corrupt"):
        load(bad)


def test_extractor_with_bad_model_file_raises_model_error(tmp_path):
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(bytes(range(256)) * 4)
    ex = boilerclf.Extractor(model=bad)
    with pytest.raises(ModelError):
        ex.extract("<html><body><p>Some text here.</p></body></html>")


# ------------------------------------------------------- legacy (pickle) files

def test_legacy_file_needs_trust(tmp_path, tiny_fitted, data):
    X, _ = data
    path = tmp_path / "legacy.joblib"
    _legacy(path, _legacy_head(note="old"), tiny_fitted[0])
    with pytest.raises(ModelError, match=r"runs? code.*trusted=True.*--trusted-model"):
        load(path)
    with pytest.raises(ModelError, match="trusted=True"):
        boilerclf.load_model(path)
    m, h = load(path, trusted=True)
    assert h["note"] == "old" and isinstance(m.trees1_, FlatTrees)  # predicts through flat trees
    np.testing.assert_array_equal(m.decision_scores(X), tiny_fitted[0].decision_scores(X))
    assert isinstance(boilerclf.load_model(path, trusted=True), LineClassifier)


def test_convert_legacy_file(tmp_path, tiny_fitted, data):
    """What was done to the shipped models: the converted file scores exactly as
    scikit-learn's predict_proba on the pickled estimators, header kept."""
    X, _ = data
    old = tmp_path / "legacy.joblib"
    _legacy(old, _legacy_head(train_sets=["a", "b"], lodo={"a": {"f1": 0.9}}, params={"threshold": 0.35}),
            tiny_fitted[0])
    new = tmp_path / "new.npz"
    r = CliRunner().invoke(app, ["convert-model", str(old), str(new)])
    assert r.exit_code == 2 and "--trusted-model" in r.stderr and not new.exists()
    r = CliRunner().invoke(app, ["convert-model", str(old), str(new), "--trusted-model"])
    assert r.exit_code == 0, r.output
    m, h = load(new)
    assert h["train_sets"] == ["a", "b"] and h["lodo"] == {"a": {"f1": 0.9}}
    assert h["params"] == {"threshold": 0.35} and h["format_version"] == files_mod.FORMAT_VERSION
    ref = tiny_fitted[0]
    s1 = ref.stage1_.predict_proba(X[:, features.N_STRUCT:])[:, 1]
    want = ref.stage2_.predict_proba(np.hstack([X[:, features.N_STRUCT:], context_features(X, s1)]))[:, 1]
    np.testing.assert_array_equal(m.decision_scores(X), want)


@pytest.mark.parametrize("content", ["pickle-of-list", "no-header", "not-a-classifier", "old-sklearn",
                                     "old-schema"])
def test_bad_legacy_files_trusted(tmp_path, tiny_fitted, content):
    bad = tmp_path / "bad.joblib"
    if content == "pickle-of-list":
        bad.write_bytes(pickle.dumps([1, 2, 3]))
    elif content == "no-header":
        joblib.dump({"model": tiny_fitted[0]}, bad)
    elif content == "not-a-classifier":
        _legacy(bad, _legacy_head(), DecisionTreeClassifier())
    elif content == "old-sklearn":
        _legacy(bad, _legacy_head(sklearn_version="0.1"), tiny_fitted[0])
    elif content == "old-schema":
        _legacy(bad, _legacy_head(schema_version=features.SCHEMA_VERSION + 1), tiny_fitted[0])
    with pytest.raises(ModelError) as info:
        load(bad, trusted=True)
    assert str(bad) in str(info.value)
    if content == "old-sklearn":
        assert "scikit-learn 0.1" in str(info.value)
    with pytest.raises(ModelError, match="trusted=True"):  # and refused outright without trust
        load(bad)


# ---------------------------------------------------- a model file with a payload

class _Payload:
    """Unpickling this runs ``touch MARKER``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(self.marker)}",))


@pytest.fixture
def evil(tmp_path):
    """(pickle file, joblib file, marker): loading either would create the marker."""
    marker = tmp_path / "PAYLOAD-RAN"
    pkl, jl = tmp_path / "evil.pkl", tmp_path / "evil.joblib"
    pkl.write_bytes(pickle.dumps({"header": _legacy_head(), "model": _Payload(marker)}))
    joblib.dump({"header": _legacy_head(), "model": _Payload(marker)}, jl, compress=3)
    # the payload is real: unpickling runs it
    pickle.loads(pkl.read_bytes())
    assert marker.exists()
    marker.unlink()
    return pkl, jl, marker


def test_malicious_model_never_runs(evil, tmp_path, lighthouse_html):
    pkl, jl, marker = evil
    for path in (pkl, jl):
        with pytest.raises(ModelError, match=r"not a boilerclf model file.*run code"):
            load(path)
        with pytest.raises(ModelError, match="trusted=True"):
            boilerclf.load_model(path)
        with pytest.raises(ModelError, match="trusted=True"):
            boilerclf.Extractor(model=path).extract(lighthouse_html)
        with pytest.raises(ModelError, match="trusted=True"):
            boilerclf.Extractor(text_model=path).extract("Some text.\n\nMore text here.", "text")
        for cmd in (["clean", str(tmp_path / "p.html"), "--model", str(path), "--jobs", "1"],
                    ["clean", str(tmp_path / "p.html"), "--model", str(path), "--jobs", "2",
                     "--out", str(tmp_path / "out")]):
            (tmp_path / "p.html").write_bytes(lighthouse_html)
            r = CliRunner().invoke(app, cmd)
            assert r.exit_code == 2, r.output
            assert str(path) in r.stderr and "--trusted-model" in r.stderr
        assert not marker.exists()
    # trusted means trusted: the file is unpickled (and the payload runs)
    with pytest.raises(ModelError, match="LineClassifier"):
        load(pkl, trusted=True)
    assert marker.exists()


def test_unlabelled_lines_give_context_but_are_no_training_rows(data):
    X, y = data
    pages = X[:, 0].astype(int)
    part = np.where(pages == 0, -1, y)  # page 0 keeps labels on two lines only
    first = np.flatnonzero(pages == 0)
    two = [first[y[first] == 1][0], first[y[first] == 0][0]]
    part[two] = y[two]
    n_lab = int((part >= 0).sum())
    m = quick(max_lines_per_page=None).fit(X, part)
    assert m.stage1_.tree_.n_node_samples[0] == n_lab  # rows: the labelled lines only
    assert m.stage2_.tree_.n_node_samples[0] == n_lab
    # stage 1 is the model fitted on the labelled lines alone
    alone = clone(m.estimator).fit(X[part >= 0, features.N_STRUCT:], part[part >= 0])
    np.testing.assert_array_equal(m.stage1_.predict_proba(X[:, features.N_STRUCT:]),
                                  alone.predict_proba(X[:, features.N_STRUCT:]))
    # the per-page cap draws from the labelled lines: two labelled of many still both train
    capped = quick(max_lines_per_page=2).fit(X, part)
    n_pages = len(np.unique(pages))
    assert capped.stage1_.tree_.n_node_samples[0] == 2 * n_pages


def test_fit_refuses_labels_other_than_content_boilerplate_or_none(data):
    X, y = data
    for bad in (np.where(y == 1, 2, y), np.full(len(y), -1), y[:-1]):
        with pytest.raises(ValueError):
            quick().fit(X, bad)
