"""Extracting with the shipped models imports neither scikit-learn nor scipy, and
scores as scikit-learn's own tree predictor does; fitting without scikit-learn
says how to install it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import boilerclf
from boilerclf.features import table as features
from boilerclf.model import files
from boilerclf.model.scores import context_features
from boilerclf.model.trees import FlatTrees

ROOT = Path(boilerclf.__file__).resolve().parent.parent
# The CLI (its arguments after the code) where scikit-learn and scipy cannot be imported.
_BLOCKED_CLI = ("import sys\n"
                "class Block:\n"
                "    def find_spec(self, name, path=None, target=None):\n"
                "        if name.split('.')[0] in ('sklearn', 'scipy'):\n"
                "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
                "sys.meta_path.insert(0, Block())\n"
                "sys.argv = ['boilerclf'] + sys.argv[1:]\n"
                "from boilerclf.cli import app\n"
                "app()\n")
FIXTURES = Path(__file__).parent / "fixtures"
HEAVY = ("sklearn", "scipy")

# Run in a fresh interpreter (the code under test, whatever is installed): the
# whole public prediction path on the fixture pages, then list the heavy modules
# it imported.  With BLOCK set, importing scikit-learn or scipy fails there, as
# in an install without them.
_LIGHT_RUN = r"""
import json, os, sys
if os.environ.get("BLOCK"):
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("sklearn", "scipy"):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, Block())
import numpy as np
import boilerclf
from boilerclf.features import table as features
from boilerclf.model import files
from boilerclf.parse.html import html_lines
from boilerclf.parse.text import text_lines

fx, out = sys.argv[1], sys.argv[2]
pages = [open(os.path.join(fx, n), "rb").read() for n in ("lighthouse.html", "library.html", "news_page.html")]
text = open(os.path.join(fx, "rail.txt"), encoding="utf-8").read()
res = {"extract": [boilerclf.extract(p) for p in pages],
       "extract_text": boilerclf.extract_text(text),
       "extract_many": list(boilerclf.Extractor().extract_many(pages + [text])),
       "classify": [[ln.score for ln in boilerclf.classify(p).lines] for p in pages],
       "page_type": boilerclf.classify(pages[0]).page_type}
X = {"html": features.batch_features([html_lines(p) for p in pages]),
     "text": features.batch_features([text_lines(text)] + [text_lines("\n\n".join(html_lines(p).texts)) for p in pages])}
scores = {}
for kind in ("html", "text"):
    model = files.load_model(None, kind)[0]
    scores[kind] = model.decision_scores(X[kind])
    scores[kind + "_full"] = model.set_params(exit_score=0.0, cascade=0.0).decision_scores(X[kind])
np.savez(out + ".npz", **scores, **{"X_" + k: v for k, v in X.items()})
res["heavy"] = sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy"))
try:
    boilerclf.LineClassifier
except ImportError as exc:
    res["fit_error"] = str(exc)
json.dump(res, open(out + ".json", "w"))
"""


def _light_run(tmp_path: Path, block: bool) -> tuple[dict, dict]:
    out = tmp_path / ("blocked" if block else "light")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("BLOCK", None)
    if block:
        env["BLOCK"] = "1"
    run = subprocess.run([sys.executable, "-c", _LIGHT_RUN, str(FIXTURES), str(out)], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    with np.load(str(out) + ".npz") as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads((Path(str(out) + ".json")).read_text()), arrays


@pytest.fixture(scope="module")
def light(tmp_path_factory):
    """The prediction path run in a fresh interpreter that has scikit-learn and scipy."""
    return _light_run(tmp_path_factory.mktemp("light"), block=False)


@pytest.fixture(scope="module")
def blocked(tmp_path_factory):
    """The same in an interpreter that cannot import them."""
    return _light_run(tmp_path_factory.mktemp("blocked"), block=True)


def test_extracting_imports_neither_sklearn_nor_scipy(light):
    res, _ = light
    assert res["heavy"] == []
    assert all(res["extract"]) and res["extract_text"] and res["page_type"] == "article"
    assert "fit_error" not in res  # they are installed: LineClassifier imports them on first use


def test_extracting_works_without_sklearn_and_scipy_installed(light, blocked):
    got, got_arrays = blocked
    want, want_arrays = light
    assert got["heavy"] == []
    for k in ("extract", "extract_text", "extract_many", "classify", "page_type"):
        assert got[k] == want[k], k
    for k, v in want_arrays.items():
        assert np.array_equal(got_arrays[k], v), k
    # what needs scikit-learn says so, in one line, with the extra to install
    assert "\n" not in got["fit_error"] and "pip install 'boilerclf[train]'" in got["fit_error"]
    assert "LineClassifier" in got["fit_error"]


def test_texts_are_those_of_this_process(light, lighthouse_html, library_html, rail_text):
    """The light interpreter extracts what this one does (scikit-learn imported here)."""
    res, _ = light
    assert res["extract"][:2] == [boilerclf.extract(lighthouse_html), boilerclf.extract(library_html)]
    assert res["extract_text"] == boilerclf.extract_text(rail_text)
    assert res["extract_many"][0] == res["extract"][0] and res["extract_many"][-1] == res["extract_text"]


def _prefix(trees: FlatTrees, k: int) -> FlatTrees:
    """The first ``k`` trees of a forest (its trees' nodes are contiguous, in order)."""
    n = int(trees.roots[k]) if k < trees.n_trees else len(trees.feature)
    return FlatTrees(feature=trees.feature[:n], threshold=trees.threshold[:n],
                     missing_left=trees.missing_left[:n], left=trees.left[:n], right=trees.right[:n],
                     value=trees.value[:n], roots=trees.roots[:k], baseline=trees.baseline,
                     n_features_in_=trees.n_features_in_, classes_=trees.classes_)


def _reference_scores(model, X: np.ndarray, sklearn_flat_scores, shortcuts: bool) -> np.ndarray:
    """A line model's scores computed with scikit-learn's tree predictor and
    scipy's expit (``sklearn_flat_scores``) and the numpy context features, with
    the model's early exit and cascade when ``shortcuts``."""
    F = X[:, features.N_STRUCT:]
    s1 = sklearn_flat_scores(model.trees1_, F)
    if shortcuts and model.exit_score > 0 and 0 < model.exit_trees < model.trees1_.n_trees:
        s1 = sklearn_flat_scores(_prefix(model.trees1_, model.exit_trees), F)
        go = s1 >= model.exit_score
        s1[go] = sklearn_flat_scores(model.trees1_, F[go])
    A = np.hstack([F, context_features(X, s1)]).astype(np.float32)
    s2 = sklearn_flat_scores(model.trees2_, A)
    if shortcuts and model.cascade > 0:
        s2 = np.where(s1 >= model.cascade, s2, s1)
    return s2


def test_light_scores_are_sklearns_to_the_bit(light, sklearn_flat_scores):
    """The shipped models' scores in the light interpreter, with the shortcuts the
    HTML model ships with and without them, against scikit-learn's own tree
    predictor on the same trees."""
    _, arrays = light
    for kind in ("html", "text"):
        model = files.load_model(None, kind)[0]
        X = arrays["X_" + kind]
        assert len(X) > 100
        for shortcuts, name in ((True, kind), (False, kind + "_full")):
            want = _reference_scores(model, X, sklearn_flat_scores, shortcuts)
            assert np.array_equal(arrays[name], want), (kind, shortcuts)
        if kind == "html":  # the shortcuts act on these pages
            assert not np.array_equal(arrays["html"], arrays["html_full"])


def test_a_loaded_model_clones_to_the_estimator(tiny_models):
    from sklearn.base import clone

    from boilerclf.model.classifier import LineClassifier
    from boilerclf.model.fitted import LINE_DEFAULTS, SITE_DEFAULTS, LinePredictor
    from boilerclf.model.site import SiteModel

    m = boilerclf.load_model(tiny_models[0])
    assert isinstance(m, LinePredictor) and not hasattr(m, "fit")
    c = clone(m)
    assert type(c) is LineClassifier and not hasattr(c, "stage1_")
    assert {k: c.get_params()[k] for k in LINE_DEFAULTS} == m.get_params()
    # the predictors' defaults are the estimators' (for files that leave a setting out)
    assert {k: LineClassifier().get_params()[k] for k in LINE_DEFAULTS} == LINE_DEFAULTS
    assert {k: SiteModel().get_params()[k] for k in SITE_DEFAULTS} == SITE_DEFAULTS
    with pytest.raises(ValueError, match="no setting"):
        m.set_params(estimator=None)


def test_training_commands_without_sklearn_say_what_to_install(tmp_path, labels_records,
                                                               lighthouse_html, rail_text):
    """``boilerclf train`` (site retraining and full training) where scikit-learn
    cannot be imported: exit 2 and one line naming the extra, no traceback."""
    from boilerclf import write_labels

    labels = tmp_path / "labels.jsonl"
    write_labels(labels, labels_records(lighthouse_html, rail_text))
    (tmp_path / "datasets").mkdir()
    code = _BLOCKED_CLI
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for args in (["train", "--base", "html", "--add", str(labels), "--out", str(tmp_path / "site.npz")],
                 ["train", str(tmp_path / "datasets"), "--out", str(tmp_path / "models")]):
        run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                             cwd=tmp_path, env=env, timeout=300)
        assert run.returncode == 2, run.stderr
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
        assert "needs scikit-learn" in run.stderr and "pip install 'boilerclf[train]'" in run.stderr
    assert not (tmp_path / "site.npz").exists()


def test_cli_clean_works_where_scikit_learn_and_scipy_cannot_be_imported(tmp_path):
    """``boilerclf clean`` of a page, as after ``pip install boilerclf`` (no ``train`` extra):
    the same text as the library gives, and neither package imported."""
    code = _BLOCKED_CLI
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    page = FIXTURES / "news_page.html"
    run = subprocess.run([sys.executable, "-c", code, "clean", str(page), "--out", str(tmp_path / "out")],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    (got,) = list((tmp_path / "out").glob("*.txt"))
    assert got.read_text(encoding="utf-8").strip() == boilerclf.extract(page.read_bytes()).strip()
