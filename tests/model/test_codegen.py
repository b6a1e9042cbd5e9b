"""The shipped models' trees compiled as C (boilerclf.model.codegen, boilerclf.model._cmodels):
the same raw scores as the node table to the bit, and only for the forests
they were generated from."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from boilerclf.features import table as features
from boilerclf.model import codegen, trees
from boilerclf.model.files import load
from boilerclf.model.trees import FlatTrees

MODELS = Path(__file__).resolve().parents[2] / "models"
SHIPPED = [MODELS / "boilerclf-html.npz", MODELS / "boilerclf-text.npz"]


def _forests():
    for path in SHIPPED:
        m, _ = load(path)
        for st, ft in (("s1", m.trees1_), ("s2", m.trees2_)):
            yield f"{path.stem}:{st}", ft


def _both(ft: FlatTrees, X, monkeypatch, *args, **kw):
    monkeypatch.setattr(trees, "COMPILED", True)
    a = ft.raw_predict(X, *args, **kw)
    monkeypatch.setattr(trees, "COMPILED", False)
    b = ft.raw_predict(X, *args, **kw)
    monkeypatch.setattr(trees, "COMPILED", True)
    return a, b


def _hard_rows(ft: FlatTrees, base: np.ndarray, seed: int = 0) -> np.ndarray:
    """Rows of ``base`` with features set to the trees' own thresholds (as
    float32, and the float32 values just above and below), NaN and +-inf."""
    rng = np.random.default_rng(seed)
    split = np.flatnonzero(ft.feature >= 0)
    X = np.repeat(base, 4, axis=0)
    for row in X:
        for node in rng.choice(split, size=40):
            f, t = ft.feature[node], np.float32(ft.threshold[node])
            row[f] = rng.choice([t, np.nextafter(t, np.float32(np.inf)),
                                 np.nextafter(t, np.float32(-np.inf)), np.nan, np.inf, -np.inf])
    return X


@pytest.fixture(scope="module")
def page_rows(training_pages):
    html_pages, _ = training_pages
    return features.batch_features([p for p, _ in html_pages])


def test_shipped_models_are_compiled():
    # setup.py generates the C from models/*.npz; a retrain without a rebuild fails here
    names = [n for n, ft in _forests() if not ft.compiled]
    assert not names, f"not compiled (rebuild: pip install -e . or python setup.py build_ext --inplace): {names}"


@pytest.mark.parametrize("name", [n for n, _ in _forests()])
def test_compiled_trees_give_the_node_tables_scores_to_the_bit(name, page_rows, monkeypatch):
    ft = dict(_forests())[name]
    n = ft.n_features_in_
    real = page_rows[:, features.N_STRUCT:]
    if real.shape[1] < n:  # stage 2 also reads the context columns
        rng = np.random.default_rng(1)
        real = np.hstack([real, rng.random((len(real), n - real.shape[1]), dtype=np.float32)])
    real = np.ascontiguousarray(real, dtype=np.float32)
    hard = _hard_rows(ft, real[:50])
    for X in (real, hard):
        a, b = _both(ft, X, monkeypatch)
        assert a.dtype == np.float64 and a.shape == (len(X),)
        np.testing.assert_array_equal(a, b)
        # a part of the trees onto given scores, chained: the same sum
        k = ft.n_trees // 3
        head, _ = _both(ft, X, monkeypatch, 0, k)
        tail, tail_ref = _both(ft, X, monkeypatch, k, init=head)
        np.testing.assert_array_equal(tail, tail_ref)
        np.testing.assert_array_equal(tail, a)
    # strided rows (a column slice, as the model passes stage 1 its inputs) and no rows
    wide = np.hstack([np.zeros((len(hard), 3), np.float32), hard])[:, 3:]
    assert not wide.flags.c_contiguous
    np.testing.assert_array_equal(*_both(ft, wide, monkeypatch))
    assert ft.raw_predict(hard[:0]).shape == (0,)
    # float64 input goes through the node table, with the same result
    np.testing.assert_array_equal(ft.raw_predict(hard.astype(np.float64)), _both(ft, hard, monkeypatch)[0])


def test_shapes_and_ranges_are_checked_on_the_compiled_path():
    _, ft = next(_forests())
    X = np.zeros((2, ft.n_features_in_), np.float32)
    with pytest.raises(ValueError, match="tree range"):
        ft.raw_predict(X, 0, ft.n_trees + 1)
    with pytest.raises(ValueError, match="init has shape"):
        ft.raw_predict(X, 1, init=np.zeros(3))
    with pytest.raises(ValueError):
        ft.raw_predict(np.zeros((2, ft.n_features_in_ + 1), np.float32))


def test_a_changed_forest_walks_the_node_table(monkeypatch, page_rows):
    _, ft = next(_forests())
    assert ft.compiled
    arrays = ft.arrays()
    leaf = np.flatnonzero(arrays["feature"] < 0)[0]
    arrays["value"] = arrays["value"].copy()
    arrays["value"][leaf] += 1.0
    other = FlatTrees.from_arrays(arrays)
    assert not other.compiled and other.digest() != ft.digest()
    X = np.ascontiguousarray(page_rows[:, features.N_STRUCT:], dtype=np.float32)
    hit = other.raw_predict(X) != ft.raw_predict(X)
    # the rows whose walk ends in that leaf of the first tree, and only those, score 1 higher
    assert 0 < hit.sum() <= len(X)
    np.testing.assert_allclose((other.raw_predict(X) - ft.raw_predict(X))[hit], 1.0, rtol=1e-9)


def test_tiny_trained_models_are_not_compiled(tiny_models):
    m, _ = load(tiny_models[0])
    assert not m.trees1_.compiled and m.trees1_._compiled is None


def test_codegen_reads_model_files_as_numpy_does():
    for path in SHIPPED:
        m, _ = load(path)
        got = {f["name"].split(":")[1]: f for f in codegen.read_forests(path)}
        assert sorted(got) == ["s1", "s2"]
        for st, ft in (("s1", m.trees1_), ("s2", m.trees2_)):
            assert got[st]["digest"] == ft.digest()
            assert got[st]["n_features"] == ft.n_features_in_
            for name in codegen.LAYOUT:
                np.testing.assert_array_equal(np.asarray(got[st][name]), getattr(ft, name))


def test_header_generation_never_breaks_the_build(tmp_path):
    bad = tmp_path / "boilerclf-bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    dest = tmp_path / "gen.h"
    names = codegen.write_header([tmp_path / "missing.npz", bad], dest)
    text = dest.read_text()
    assert names == [] and "BCF_N_FORESTS = 0;" in text and "skipped boilerclf-bad.npz" in text
    # a real model: one function per tree, and its digest in the table
    names = codegen.write_header([SHIPPED[1]], dest)
    text = dest.read_text()
    m, _ = load(SHIPPED[1])
    assert names == ["boilerclf-text:s1", "boilerclf-text:s2"]
    assert text.count("static double f0_t") == m.trees1_.n_trees
    assert f'"{m.trees1_.digest()}"' in text and "BCF_N_FORESTS = 2;" in text


def test_environment_switch_turns_compiled_trees_off():
    code = ("from boilerclf.model.files import load; m, _ = load('models/boilerclf-html.npz'); "
            "print(m.trees1_.compiled)")
    root = Path(__file__).resolve().parents[2]
    for env, want in (("0", "False"), ("1", "True")):
        out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                             env={"BOILERCLF_COMPILED_TREES": env, "PATH": "/usr/bin:/bin"}, check=True)
        assert out.stdout.strip() == want


def test_a_pickled_forest_is_compiled_again(page_rows):
    # worker processes (n_jobs, Dask) receive the model pickled
    import pickle

    _, ft = next(_forests())
    back = pickle.loads(pickle.dumps(ft))
    assert back.compiled and back._compiled == ft._compiled
    X = np.ascontiguousarray(page_rows[:, features.N_STRUCT:], dtype=np.float32)
    np.testing.assert_array_equal(back.raw_predict(X), ft.raw_predict(X))
