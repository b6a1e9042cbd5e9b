"""Features to scores: the line classifier, its context pass, and model files.

:class:`LineClassifier` is a scikit-learn estimator over the matrices of
:mod:`boilerclf.features.table`.  Stage 1 scores each line from its own features
and its neighbours'.  Stage 2 (the context pass, stacked sequential learning)
sees stage 1's scores of the neighbouring lines and, for each of the line's
containers, the character-weighted mean score of the lines under it and its
share of the page's predicted content ("container votes"); it is trained on
out-of-fold stage-1 scores (grouped by page) so it learns from honest scores.

Prediction goes through :mod:`boilerclf.model.trees` (compiled flat trees, the
same probabilities as scikit-learn's ``predict_proba``) whenever a stage is a
binary HistGradientBoostingClassifier, the default; fitting is scikit-learn.

Model files hold arrays and JSON only, so loading one never runs code from
it: a zip of ``.npy`` arrays (the flat trees of both stages, and of a site
model's site layer, :mod:`boilerclf.model.site`) and a JSON header (format version,
feature-schema version, the scikit-learn version that trained it, the
training data, scores and threshold), written by :func:`save`
and read by :func:`load`, which bounds each part before reading it (the
header's size, nesting and values; each array's dtype and shape against its
size and the stage's node count), reads only the members the header calls
for, checks every setting in the header, and never unpickles.  A loaded
model predicts but holds no scikit-learn estimators, so it cannot be refitted
as is (``clone`` it, or retrain with ``boilerclf train``).  :func:`load`
refuses a file whose schema does not match, with a message saying what to do.
Legacy joblib (pickle) model files, which run code when read, load only with
``trusted=True``; :func:`convert` turns one into the safe format.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted

from boilerclf.decide import decision
from boilerclf.features.table import FEATURE_NAMES, N_STRUCT, SCHEMA_VERSION
from boilerclf.parse.lines import N_ANCESTORS
from boilerclf.model.trees import ARRAYS, FlatTrees

CONTEXT_OFFSETS = (-3, -2, -1, 1, 2, 3)
CONTEXT_NAMES = (
    ["s1", "s1_smooth5", "s1_page_mean", "s1_page_max"]
    + [f"s1_{'prev' if o < 0 else 'next'}{abs(o)}" for o in CONTEXT_OFFSETS]
    + [f"anc{k}_{s}" for k in range(N_ANCESTORS) for s in ("vote", "content_share")]
)


class ModelError(Exception):
    """A model file that cannot be used (wrong schema, version, or corrupt)."""


def _page_offsets(X: np.ndarray) -> np.ndarray:
    """Row index of each row's page start (rows of a page are contiguous)."""
    line = X[:, 1].astype(np.int64)
    return np.arange(len(X)) - line


def context_features(X: np.ndarray, s1: np.ndarray) -> np.ndarray:
    """Stage-2 inputs from stage-1 scores ``s1`` (see module docstring)."""
    n = len(X)
    out = np.zeros((n, len(CONTEXT_NAMES)), dtype=np.float32)
    if n == 0:
        return out
    off = _page_offsets(X)
    page = X[:, 0]
    chars = X[:, 2].astype(np.float64)
    s1 = s1.astype(np.float64)
    out[:, 0] = s1
    # smoothed score within the page
    cs = np.concatenate([[0.0], np.cumsum(s1)])
    n_lines_page = np.zeros(n, dtype=np.int64)
    starts = np.flatnonzero(X[:, 1] == 0)
    ends = np.append(starts[1:], n)
    n_lines_page[:] = np.repeat(ends - starts, ends - starts)
    idx = np.arange(n)
    lo = np.maximum(idx - 2, off)
    hi = np.minimum(idx + 3, off + n_lines_page)
    out[:, 1] = (cs[hi] - cs[lo]) / (hi - lo)
    wsum = np.add.reduceat(s1 * chars, starts)
    csum = np.add.reduceat(chars, starts)
    out[:, 2] = np.repeat(wsum / np.maximum(csum, 1.0), ends - starts)
    out[:, 3] = np.repeat(np.maximum.reduceat(s1, starts), ends - starts)
    for j, o in enumerate(CONTEXT_OFFSETS):
        src = idx + o
        ok = (src >= 0) & (src < n)
        ok[ok] &= page[src[ok]] == page[ok]
        col = np.full(n, -1.0)
        col[ok] = s1[src[ok]]
        out[:, 4 + j] = col
    cw = np.concatenate([[0.0], np.cumsum(s1 * chars)])
    cc = np.concatenate([[0.0], np.cumsum(chars)])
    page_content = np.repeat(wsum, ends - starts)
    base = 4 + len(CONTEXT_OFFSETS)
    for k in range(N_ANCESTORS):
        a = off + X[:, 3 + k].astype(np.int64)
        b = off + X[:, 3 + N_ANCESTORS + k].astype(np.int64)
        w = cw[b] - cw[a]
        out[:, base + 2 * k] = w / np.maximum(cc[b] - cc[a], 1.0)
        out[:, base + 2 * k + 1] = w / np.maximum(page_content, 1e-6)
    return out


try:  # compiled (boilerclf/features/_cfeat.pyx); context_features above stays the reference
    from boilerclf.features._cfeat import stage2_input as _stage2_input_c
except ImportError:
    _stage2_input_c = None

_OFFSETS = np.array(CONTEXT_OFFSETS, dtype=np.int64)


def stage2_input(X: np.ndarray, s1: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Stage 2's input for the rows ``rows`` (default all) of a feature matrix:
    ``np.hstack([X[rows, N_STRUCT:], context_features(X, s1)[rows]])``, as float32,
    computed for those rows only (compiled when it can be; same values)."""
    X = np.asarray(X, dtype=np.float32)
    rows = np.arange(len(X)) if rows is None else np.asarray(rows, dtype=np.int64)
    starts = np.flatnonzero(X[:, 1] == 0)
    if _stage2_input_c is None or not len(starts) or starts[0] != 0:
        return np.hstack([X[rows, N_STRUCT:], context_features(X, s1)[rows]])
    X = np.ascontiguousarray(X)
    s1 = np.ascontiguousarray(s1, dtype=np.float64)
    chars = X[:, 2].astype(np.float64)
    out = np.empty((len(rows), X.shape[1] - N_STRUCT + len(CONTEXT_NAMES)), dtype=np.float32)
    _stage2_input_c(X, s1, rows, starts, np.add.reduceat(s1 * chars, starts),
                    np.add.reduceat(chars, starts), np.maximum.reduceat(s1, starts),
                    N_STRUCT, N_ANCESTORS, _OFFSETS, out)
    return out


def _flatten(est) -> FlatTrees | None:
    """The flat trees of a fitted stage, or None when it is not a binary
    HistGradientBoostingClassifier over numerical features."""
    if est is None or isinstance(est, FlatTrees):
        return est
    try:
        return FlatTrees.from_hgb(est)
    except ValueError:
        return None


def _default_base(random_state: int | None, max_iter: int = 150) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=random_state,
    )


class LineClassifier(ClassifierMixin, BaseEstimator):
    """Two-stage line classifier over :mod:`boilerclf.features.table` matrices.

    Parameters
    ----------
    estimator : classifier, default HistGradientBoostingClassifier
        The stage-1 model (cloned); any scikit-learn classifier with
        ``predict_proba``.
    context : bool, default True
        Whether to train the stage-2 context pass.
    context_estimator : classifier, default same as ``estimator``
        The stage-2 model (cloned).
    n_folds : int, default 2
        Folds (grouped by page) for the out-of-fold stage-1 scores.
    max_lines_per_page : int or None, default 400
        Fit on at most this many lines of each page (drawn at random), so long
        pages do not drown short ones (cheaper than sample weights, which slow
        HistGradientBoosting down about 4x).  Context features are still
        computed on whole pages.  400 beat 150 in HTML leave-one-dataset-out
        runs with two seeds (8-set macro +0.0017 and +0.0031).
    threshold : float or "auto", default 0.5
        Score at or above which a line is content, or ``"auto"`` (also
        ``"auto:<recall weight>"``): a threshold chosen per page from the
        page's own scores (:mod:`boilerclf.decide.decision`).  The shipped models
        say which they use (``boilerclf train`` picks it by LODO F1).
    random_state : int or None, default 0
    exit_trees, exit_score : int, float, default 30, 0.0
        Early exit of stage 1 at prediction: after its first ``exit_trees``
        trees, a line whose score so far is below ``exit_score`` stops there
        (that score is its stage-1 score); the other lines go through every
        tree.  ``exit_score=0`` (the default) runs every tree.  Only for
        stages that are flat trees (the default).
    cascade : float, default 0.0
        A line whose stage-1 score is below this skips stage 2 and keeps its
        stage-1 score (the context inputs of the other lines still use every
        line's stage-1 score).  0 (the default) sends every line through both
        stages.

        ``boilerclf train`` gives the HTML model ``exit_score=0.05,
        cascade=0.05`` (``training/train.py``, ``SHORTCUTS``), stored in its
        file: the trees then do about half the work at the same F1, measured
        leave-one-dataset-out on the shared sets (model card).  Fitting uses
        neither setting (stage 2 learns from full out-of-fold scores).
    max_iter : int, default 150
        Trees per stage of the default estimator (HistGradientBoosting at
        learning rate 0.1, 31 leaves); ignored for a stage given its own
        ``estimator`` / ``context_estimator``.

    Attributes (after ``fit``): ``stage1_``, ``stage2_`` (None without the
    context pass) the fitted stage models; ``trees1_``, ``trees2_`` their
    :class:`~boilerclf.model.trees.FlatTrees` (None for a stage that is not a binary
    HistGradientBoostingClassifier, which then predicts through scikit-learn).
    A model read from a file has FlatTrees as its stages (it predicts, but
    ``fit`` a clone to train again).

    The first ``N_STRUCT`` columns of ``X`` are the structure columns of
    :mod:`boilerclf.features.table` (page id, line index, ...); rows of one page must
    be contiguous and in order, so split data by page (e.g. ``GroupKFold`` with
    ``groups=X[:, 0]``).
    """

    def __init__(self, estimator=None, context: bool = True, context_estimator=None,
                 n_folds: int = 2, max_lines_per_page: int | None = 400, threshold: float = 0.5,
                 random_state: int | None = 0, exit_trees: int = 30, exit_score: float = 0.0,
                 cascade: float = 0.0, max_iter: int = 150):
        self.estimator = estimator
        self.context = context
        self.context_estimator = context_estimator
        self.n_folds = n_folds
        self.max_lines_per_page = max_lines_per_page
        self.threshold = threshold
        self.random_state = random_state
        self.exit_trees = exit_trees
        self.exit_score = exit_score
        self.cascade = cascade
        self.max_iter = max_iter

    def _base(self, which):
        est = which if which is not None else (
            self.estimator if self.estimator is not None
            else _default_base(self.random_state, getattr(self, "max_iter", 150)))
        return clone(est)

    def _row_mask(self, X: np.ndarray, labelled: np.ndarray) -> np.ndarray:
        """Rows to fit on: at most ``max_lines_per_page`` random labelled lines per page."""
        cap = self.max_lines_per_page
        if not cap:
            return labelled.copy()
        pages = X[:, 0]
        rng = np.random.default_rng(self.random_state)
        # labelled lines first within a page, in random order (the same draws
        # and order as without the key when every line is labelled)
        order = np.lexsort((rng.random(len(X)), ~labelled, pages))
        sp = pages[order]
        first = np.searchsorted(sp, sp)
        rank = np.empty(len(X), dtype=np.int64)
        rank[order] = np.arange(len(X)) - first
        return (rank < cap) & labelled

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None):
        """Fit stage 1, then stage 2 on out-of-fold stage-1 scores. Returns self.

        ``y`` is 1 (content) or 0 (boilerplate) per line, or -1 for a line
        without a label (a page labelled only in part, such as a page of
        snippets that must or must not be kept): such a line is no training
        row, but its stage-1 score is part of its neighbours' context inputs.
        """
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y).astype(np.int64)
        if X.ndim != 2 or X.shape[1] != len(FEATURE_NAMES):
            raise ValueError(f"X must have {len(FEATURE_NAMES)} columns (features schema "
                             f"{SCHEMA_VERSION}), got shape {X.shape}")
        if y.shape != (len(X),) or not np.isin(y, (-1, 0, 1)).all():
            raise ValueError("y must hold one label per row of X: 1 (content), 0 (boilerplate) "
                             "or -1 (no label)")
        labelled = y >= 0
        if not labelled.any():
            raise ValueError("y has no labelled line (every label is -1)")
        y = np.maximum(y, 0)
        F = X[:, N_STRUCT:]
        rows = self._row_mask(X, labelled)
        sw = None if sample_weight is None else np.asarray(sample_weight)

        def fit_on(est, A, mask):
            kw = {} if sw is None else {"sample_weight": sw[mask]}
            return est.fit(A[mask], y[mask], **kw)

        self.stage1_ = fit_on(self._base(None), F, rows)
        self.classes_ = self.stage1_.classes_
        self.n_features_in_ = X.shape[1]
        self.stage2_ = None
        if self.context:
            groups = X[:, 0]
            oof = np.zeros(len(X))
            folds = min(self.n_folds, len(np.unique(groups)))
            if folds >= 2:
                for tr, te in GroupKFold(n_splits=folds).split(F, y, groups):
                    mask = np.zeros(len(X), dtype=bool)
                    mask[tr] = True
                    m = fit_on(self._base(None), F, mask & rows)
                    cls = list(m.classes_)  # a fold of few labelled lines may hold one class
                    oof[te] = m.predict_proba(F[te])[:, cls.index(1)] if 1 in cls else 0.0
            else:
                oof = self.stage1_.predict_proba(F)[:, 1]
            C = context_features(X, oof)
            self.stage2_ = fit_on(self._base(self.context_estimator), np.hstack([F, C]), rows)
        self.trees1_ = _flatten(self.stage1_)
        self.trees2_ = _flatten(self.stage2_)
        return self

    def _stage_scores(self, k: int, A: np.ndarray) -> np.ndarray:
        """Probability of content from stage ``k``: compiled flat trees when the
        stage has them, else the stage's own ``predict_proba``."""
        trees = getattr(self, f"trees{k}_", None)
        if trees is not None:
            return trees.predict_proba1(A)
        return (self.stage1_ if k == 1 else self.stage2_).predict_proba(A)[:, 1]

    def _stage1_scores(self, F: np.ndarray) -> np.ndarray:
        """Stage-1 scores, with the early exit (``exit_trees``, ``exit_score``)."""
        trees = getattr(self, "trees1_", None)
        k = getattr(self, "exit_trees", 0)  # models pickled before these existed
        cut = getattr(self, "exit_score", 0.0)
        if trees is None or not 0 < k < trees.n_trees or not cut > 0:
            return self._stage_scores(1, F)
        raw = trees.raw_predict(F, 0, k)
        s1 = expit(raw)
        go = np.flatnonzero(s1 >= cut)
        if len(go):
            s1[go] = expit(trees.raw_predict(F[go], k, init=raw[go]))
        return s1

    def decision_scores(self, X: np.ndarray) -> np.ndarray:
        """Probability that each line is content (1-D)."""
        check_is_fitted(self, "stage1_")
        X = np.asarray(X, dtype=np.float32)
        if len(X) == 0:
            return np.zeros(0, dtype=np.float64)
        F = X[:, N_STRUCT:]
        s1 = self._stage1_scores(F)
        if self.stage2_ is None:
            return s1
        cut = getattr(self, "cascade", 0.0)
        if not cut > 0:
            return self._stage_scores(2, stage2_input(X, s1))
        out = s1.astype(np.float64)
        go = np.flatnonzero(s1 >= cut)
        if len(go):
            out[go] = self._stage_scores(2, stage2_input(X, s1, go))
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        s = self.decision_scores(X)
        return np.column_stack([1.0 - s, s])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """1 for the lines kept at ``threshold`` (per page for ``"auto"``), else 0."""
        X = np.asarray(X, dtype=np.float32)
        return decision.keep(decision.parse(self.threshold), self.decision_scores(X), X).astype(np.int64)


def threshold_param(value: Any) -> float | str:
    """A model's ``threshold`` as stored: a float, or the string of an
    :class:`~boilerclf.decide.decision.Auto` (``ValueError`` for anything else)."""
    d = decision.parse(value)
    return d if isinstance(d, float) else str(d)


# ---------------------------------------------------------------- model files

#: Version of the model-file layout (1 was a joblib pickle of the estimator).
FORMAT_VERSION = 2
_MAGIC = b"PK\x03\x04"  # a zip file
_MAX_UNZIPPED = 256 << 20  # refuse files that would unpack to more than this
#: Most bytes ``header.json`` may unpack to (the shipped headers are about 2 KB).
MAX_HEADER_BYTES = 1 << 20
#: Deepest nesting of lists and objects in a header (the shipped headers: 3).
MAX_HEADER_DEPTH = 32
#: Most values (about: containers plus commas) in a header.
MAX_HEADER_ITEMS = 100_000
#: Most tree nodes in one stage of a model file: 28 times the shipped stages'
#: 9,165 (e.g. 4,000 trees of 31 leaves).  Every array of a stage is checked
#: against this count before it is read.
MAX_STAGE_NODES = 1 << 18
_NPY_PREAMBLE = 1024  # bytes of an .npy member before its data, at most
_MAX_DIRECTORY = 64 << 10  # bytes of the zip's central directory, at most
_STAGES = ("s1", "s2", "site")
_STAGE_ARRAYS = (*ARRAYS, "meta")
_MAX_MEMBERS = 1 + len(_STAGES) * len(_STAGE_ARRAYS)
_PARAMS = ("context", "n_folds", "max_lines_per_page", "threshold", "random_state", "exit_trees",
           "exit_score", "cascade", "max_iter")
_SITE_PARAMS = ("threshold", "prior_pages", "balance_pages", "random_state")
#: File names of the shipped models (the package ``boilerclf.models``, the ``models/`` folder).
SHIPPED_MODELS = {"html": "boilerclf-html.npz", "text": "boilerclf-text.npz"}


def _sklearn_version() -> str:
    return ".".join(sklearn.__version__.split(".")[:2])


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"a model-file header holds JSON values only, not {type(o).__name__}")


def _estimator_record(est) -> dict | None:
    """A stage estimator parameter as JSON: None, or a HistGradientBoostingClassifier's
    parameters when they survive a JSON round trip (else ``{"unrecorded": name}``)."""
    if est is None:
        return None
    if type(est) is HistGradientBoostingClassifier:
        params = est.get_params(deep=False)
        try:
            if json.loads(json.dumps(params)) == params:
                return {"HistGradientBoostingClassifier": params}
        except (TypeError, ValueError):
            pass
    return {"unrecorded": type(est).__name__}


def _estimator_from_record(rec: Any):
    if isinstance(rec, dict) and isinstance(rec.get("HistGradientBoostingClassifier"), dict):
        return HistGradientBoostingClassifier(**rec["HistGradientBoostingClassifier"])
    return None


def _line_record(model: LineClassifier) -> dict:
    return {"class": "LineClassifier",
            "params": {k: getattr(model, k) for k in _PARAMS},
            "estimator": _estimator_record(model.estimator),
            "context_estimator": _estimator_record(model.context_estimator)}


def save(model: LineClassifier, path: str | Path, *, kind: str, **header: Any) -> dict:
    """Write ``model`` with a header to ``path`` (atomically); returns the header.

    The file is a zip of ``header.json`` and ``.npy`` arrays (the flat trees
    of each stage), with fixed timestamps, so the same model gives the same
    bytes.  ``header`` values must be JSON (numbers, strings, lists, dicts;
    numpy scalars and arrays are converted; NaN is written as Python's json does).
    Only models whose stages are binary HistGradientBoostingClassifiers (the
    default) can be saved (``ValueError`` otherwise).
    """
    from boilerclf.model.site import SiteModel

    site = isinstance(model, SiteModel)
    if site:
        check_is_fitted(model, "site_")
        base = model.base_
    else:
        base = model
    check_is_fitted(base, "stage1_")
    stages = {"s1": _flatten(base.stage1_), "s2": _flatten(base.stage2_),
              "site": _flatten(model.site_) if site else None}
    if stages["s1"] is None or (base.stage2_ is not None and stages["s2"] is None) or \
            (site and stages["site"] is None):
        raise ValueError("only models whose stages are binary HistGradientBoostingClassifiers "
                         "over numerical features (the default) can be saved")
    estimator = _line_record(base)
    if site:
        estimator = {"class": "SiteModel", "params": {k: getattr(model, k) for k in _SITE_PARAMS},
                     "weight": float(model.weight_), "estimator": _estimator_record(model.estimator),
                     "base": estimator}
    head = {
        "format": "boilerclf-model",
        "format_version": FORMAT_VERSION,
        "schema_version": SCHEMA_VERSION,
        "sklearn_version": _sklearn_version(),
        "kind": kind,
        "n_features": len(FEATURE_NAMES),
        "estimator": estimator,
        **header,
    }
    text = json.dumps(head, indent=1, sort_keys=True, default=_json_default)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        def put(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)

        put("header.json", text.encode("utf-8"))
        for st, trees in stages.items():
            if trees is None:
                continue
            for name, arr in trees.arrays().items():
                b = io.BytesIO()
                np.lib.format.write_array(b, np.ascontiguousarray(arr), allow_pickle=False)
                put(f"{st}_{name}.npy", b.getvalue())
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(path)
    return json.loads(text)


def sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def shipped_model_path(name: str) -> Path:
    """Path of the shipped model file ``name`` (``models/``, installed as ``boilerclf.models``)."""
    from importlib.resources import files

    try:
        p = Path(str(files("boilerclf.models") / name))
    except ModuleNotFoundError:  # running from a checkout without install
        p = Path(__file__).resolve().parent.parent / "models" / name
    if not p.is_file():
        raise ModelError(f"shipped model {name} not found at {p}")
    return p


def check_shipped_digest(p: Path) -> None:
    """Check a shipped model against the SHA-256 digest stored beside it
    (``digests.json``); raises :class:`ModelError`."""
    digests_file = p.with_name("digests.json")
    try:
        want = json.loads(digests_file.read_text())[p.name]
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelError(f"no digest for shipped model {p.name} in {digests_file}") from None
    if sha256(p) != want:
        raise ModelError(f"shipped model {p} does not match its SHA-256 digest: the file was "
                         f"modified or corrupted; reinstall boilerclf")


def shipped_name(path: str | Path) -> str | None:
    """The file name of the shipped model that ``path`` names, else None.

    A shipped model is named by its kind (``"html"``, ``"text"``), its file
    name with or without ``.npz`` (``"boilerclf-html.npz"``), or that name in
    ``models/`` as in a checkout (``"models/boilerclf-html.npz"``).
    """
    p = Path(path)
    if p.is_absolute() or str(p.parent) not in (".", "models"):
        return None
    for kind, name in SHIPPED_MODELS.items():
        if p.name in (name, name[: -len(".npz")]) or (p.name == kind and str(p.parent) == "."):
            return name
    return None


def load(path: str | Path, *, trusted: bool = False) -> tuple[LineClassifier, dict]:
    """Load a model file; raises :class:`ModelError` with a clear message.

    The model is a :class:`LineClassifier` or a site model
    (:class:`boilerclf.model.site.SiteModel`: a LineClassifier inside with a site
    layer on top, with the same ``decision_scores`` / ``threshold``).

    A path that does not exist but names a shipped model (:func:`shipped_name`:
    ``"html"``, ``"boilerclf-html.npz"``, ``"models/boilerclf-html.npz"``, ...)
    loads the installed shipped model, after checking its SHA-256 digest, from
    any working directory.

    Model files are arrays and JSON (see :func:`save`) and never unpickled.
    A legacy joblib/pickle model file runs code while it is read, so it is
    refused unless ``trusted=True`` (only for files whose origin you trust;
    :func:`convert` then rewrites it in the safe format).
    """
    path = Path(path)
    if not path.exists():
        name = shipped_name(path)
        if name is None:
            raise ModelError(f"model file not found: {path} (the shipped models are "
                             f"{', '.join(repr(k) for k in SHIPPED_MODELS)})")
        path = shipped_model_path(name)
        check_shipped_digest(path)
    if not path.is_file():
        raise ModelError(f"model file {path} is not a file")
    try:
        with open(path, "rb") as f:
            magic = f.read(len(_MAGIC))
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc}") from None
    if magic == _MAGIC:
        return _load_arrays(path)
    if not trusted:
        raise ModelError(
            f"{path} is not a boilerclf model file (arrays + JSON). If it is a model saved by an "
            f"older boilerclf (a joblib/pickle file), reading it would run code stored in the file, "
            f"so it is refused: only if you trust where it came from, load it with trusted=True "
            f"(API) or --trusted-model (CLI), and convert it once with `boilerclf convert-model "
            f"OLD NEW --trusted-model`")
    return _load_pickle(path)


def _check_schema(path: Path, head: dict) -> None:
    if head.get("schema_version") != SCHEMA_VERSION:
        raise ModelError(
            f"{path} was trained for feature schema {head.get('schema_version')}, this boilerclf "
            f"computes schema {SCHEMA_VERSION}: retrain it with `boilerclf train`")


def _load_arrays(path: Path) -> tuple[LineClassifier, dict]:
    """A model file in the safe format.  Every part is bounded before it is
    read: the zip directory, the header's size, nesting and value count, and
    each array's dtype and shape against its size and the stage's node count;
    members that the header does not call for are refused unread."""
    try:
        _check_directory(path)
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = [i.filename for i in infos]
            if len(set(names)) != len(names):
                raise ModelError(f"{path} repeats a member name: not a boilerclf model file")
            if sum(i.file_size for i in infos) > _MAX_UNZIPPED:
                raise ModelError(f"{path} unpacks to more than {_MAX_UNZIPPED >> 20} MB: not a "
                                 f"boilerclf model file")
            for i in infos:
                if i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise ModelError(f"{path}: member {i.filename!r} uses compression method "
                                     f"{i.compress_type} (a model file is stored or deflated)")
            head = _read_header(path, z)
            stages = _read_stages(path, z, head)
        model = _model_from_header(head, stages["s1"], stages["s2"], stages["site"])
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - truncated zip, bad arrays, bad JSON, ...
        raise ModelError(f"cannot read model file {path} (truncated or corrupt?): "
                         f"{type(exc).__name__}: {exc}") from None
    return model, head


_ZIP_END = struct.Struct("<4s4H2LH")  # end-of-central-directory record
_ZIP_END_SIG, _ZIP64_LOCATOR_SIG = b"PK\x05\x06", b"PK\x06\x07"


def _check_directory(path: Path) -> None:
    """Refuse a zip whose central directory is larger than a model file's
    before :mod:`zipfile` reads it (it keeps an object per member)."""
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        n = min(size, _ZIP_END.size + 0xFFFF)
        f.seek(size - n)
        tail = f.read(n)
    at = tail.rfind(_ZIP_END_SIG)
    if at < 0 or at + _ZIP_END.size > len(tail):
        return  # no directory: zipfile says the file is not a zip
    _, _, _, on_disk, members, dir_size, _, _ = _ZIP_END.unpack_from(tail, at)
    if at >= 20 and tail[at - 20:at - 16] == _ZIP64_LOCATOR_SIG:
        raise ModelError(f"{path} is a ZIP64 archive: not a boilerclf model file")
    if max(on_disk, members) > _MAX_MEMBERS or dir_size > _MAX_DIRECTORY:
        raise ModelError(f"{path} is a zip of {max(on_disk, members)} members ({dir_size} bytes of "
                         f"directory): not a boilerclf model file (at most {_MAX_MEMBERS} members)")


def _read_header(path: Path, z: zipfile.ZipFile) -> dict:
    """The checked header of an open model file (:class:`ModelError` otherwise)."""
    try:
        info = z.getinfo("header.json")
    except KeyError:
        raise ModelError(f"{path} is a zip file but not a boilerclf model file") from None
    if info.file_size > MAX_HEADER_BYTES:
        raise ModelError(f"{path}: header.json unpacks to {info.file_size} bytes, more than the "
                         f"{MAX_HEADER_BYTES} of a model header: not a boilerclf model file")
    with z.open(info) as f:
        raw = f.read(MAX_HEADER_BYTES + 1)
    try:
        head = parse_header(raw)
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"{path}: header.json is not a model header: {exc}") from None
    if not isinstance(head, dict) or head.get("format") != "boilerclf-model":
        raise ModelError(f"{path} is not a boilerclf model file")
    if head.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"{path} is model-file format {head.get('format_version')!r:.40}, this boilerclf "
            f"reads format {FORMAT_VERSION}: use the boilerclf that wrote it, or retrain")
    _check_schema(path, head)
    problem = header_problem(head)
    if problem:
        raise ModelError(f"{path}: bad model header: {problem}")
    return head


# a JSON string, or an unterminated one up to the end (always matches at a quote: linear time)
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.S)
_OPEN, _CLOSE = np.frombuffer(b"[{", np.uint8), np.frombuffer(b"]}", np.uint8)


def parse_header(raw: bytes) -> Any:
    """JSON text of a model header, checked before it is parsed: at most
    :data:`MAX_HEADER_BYTES` bytes, :data:`MAX_HEADER_DEPTH` levels of lists
    and objects, :data:`MAX_HEADER_ITEMS` values and 100-digit integers
    (``ValueError`` otherwise)."""
    if len(raw) > MAX_HEADER_BYTES:
        raise ValueError(f"more than {MAX_HEADER_BYTES} bytes")
    text = raw.decode("utf-8")
    shape = np.frombuffer(_JSON_STRING.sub("", text).encode("utf-8"), np.uint8)
    step = np.isin(shape, _OPEN).astype(np.int32) - np.isin(shape, _CLOSE)
    depth = int(np.cumsum(step).max(initial=0))
    if depth > MAX_HEADER_DEPTH:
        raise ValueError(f"nested {depth} levels deep (at most {MAX_HEADER_DEPTH})")
    items = int((step > 0).sum() + (shape == ord(",")).sum())
    if items > MAX_HEADER_ITEMS:
        raise ValueError(f"about {items} values (at most {MAX_HEADER_ITEMS})")
    return json.loads(text, parse_int=_parse_int)


def _parse_int(s: str) -> int:
    if len(s) > 100:
        raise ValueError(f"an integer of {len(s)} digits")
    return int(s)


# checks of the header's settings: each returns what a valid value is, or None when it is one
_MAX_INT = 2**31 - 1


def _number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def _unit(v: Any) -> str | None:
    return None if _number(v) and 0.0 <= v <= 1.0 else "a number in [0, 1]"


def _non_negative(v: Any) -> str | None:
    return None if _number(v) and 0.0 <= v <= 1e12 else "a finite number >= 0"


def _int_in(lo: int, hi: int = _MAX_INT, optional: bool = False):
    def check(v: Any) -> str | None:
        if optional and v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            return f"an integer in [{lo}, {hi}]" + (" or null" if optional else "")
        return None
    return check


def _flag(v: Any) -> str | None:
    return None if isinstance(v, bool) else "true or false"


def _threshold_spec(v: Any) -> str | None:
    try:
        d = decision.parse(v)
    except (ValueError, TypeError):
        d = None
    if d is None or (isinstance(d, float) and not 0.0 <= d <= 1.0):
        return 'a number in [0, 1], "auto" or "auto:<positive number>"'
    return None


_LINE_CHECKS = {"context": _flag, "n_folds": _int_in(1), "max_lines_per_page": _int_in(0, optional=True),
                "threshold": _threshold_spec, "random_state": _int_in(0, 2**32 - 1, optional=True),
                "exit_trees": _int_in(0), "exit_score": _unit, "cascade": _unit, "max_iter": _int_in(1)}
_SITE_CHECKS = {"threshold": _threshold_spec, "prior_pages": _non_negative, "balance_pages": _flag,
                "random_state": _int_in(0, 2**32 - 1, optional=True)}


def _shown(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def _params_problem(where: str, params: Any, checks: dict) -> str | None:
    if params is None:
        return None
    if not isinstance(params, dict):
        return f"{where} must be an object, not {_shown(params)}"
    for k, check in checks.items():
        if k in params:
            want = check(params[k])
            if want:
                return f"{where}.{k} must be {want}, not {_shown(params[k])}"
    return None


def _estimator_problem(where: str, rec: Any) -> str | None:
    """A recorded stage estimator (used by ``clone``): null, unrecorded, or
    HistGradientBoostingClassifier parameters that scikit-learn accepts."""
    if rec is None:
        return None
    if not isinstance(rec, dict):
        return f"{where} must be an object or null, not {_shown(rec)}"
    params = rec.get("HistGradientBoostingClassifier")
    if params is None:
        return None
    if not isinstance(params, dict):
        return f"{where}.HistGradientBoostingClassifier must be an object, not {_shown(params)}"
    for k, v in params.items():
        if isinstance(v, float) and not math.isfinite(v):
            return f"{where}.HistGradientBoostingClassifier.{k} must be finite, not {v!r}"
    try:
        HistGradientBoostingClassifier(**params)._validate_params()
    except (TypeError, ValueError) as exc:
        return f"{where}.HistGradientBoostingClassifier: {str(exc).splitlines()[0]}"
    return None


def _line_problem(where: str, rec: Any) -> str | None:
    if not isinstance(rec, dict) or rec.get("class") != "LineClassifier":
        return f'{where}.class must be "LineClassifier"'
    return (_params_problem(f"{where}.params", rec.get("params"), _LINE_CHECKS)
            or _estimator_problem(f"{where}.estimator", rec.get("estimator"))
            or _estimator_problem(f"{where}.context_estimator", rec.get("context_estimator")))


def header_problem(head: dict) -> str | None:
    """What is wrong with the settings in a model header (a phrase naming
    the field), or None: every number a model uses must be finite and in its
    range (probabilities and score cut-offs in [0, 1], counts integers, the
    threshold a number in [0, 1] or "auto[:<positive number>]")."""
    for k in ("format_version", "schema_version", "n_features"):
        if k in head and (isinstance(head[k], bool) or not isinstance(head[k], int)):
            return f"{k} must be an integer, not {_shown(head[k])}"
    rec = head.get("estimator")
    if not isinstance(rec, dict):
        return f"estimator must be an object, not {_shown(rec)}"
    if rec.get("class") == "SiteModel":
        problem = (_params_problem("estimator.params", rec.get("params"), _SITE_CHECKS)
                   or _estimator_problem("estimator.estimator", rec.get("estimator"))
                   or _line_problem("estimator.base", rec.get("base")))
        if problem:
            return problem
        if _unit(rec.get("weight")):
            return f"estimator.weight (the site-model weight) must be a number in [0, 1], " \
                   f"not {_shown(rec.get('weight'))}"
    elif rec.get("class") == "LineClassifier":
        problem = _line_problem("estimator", rec)
        if problem:
            return problem
    else:
        return f'estimator.class must be "LineClassifier" or "SiteModel", not {_shown(rec.get("class"))}'
    # the training settings recorded beside the model (boilerclf train, train_site)
    return _params_problem("params", head.get("params"), {**_LINE_CHECKS, **_SITE_CHECKS})


def _read_stages(path: Path, z: zipfile.ZipFile, head: dict) -> dict[str, FlatTrees | None]:
    """The stages' flat trees, from the members the header calls for: stage 1,
    stage 2 (a model without the context pass has none), and the site layer
    of a site model."""
    site = head["estimator"].get("class") == "SiteModel"
    wanted = ("s1", "s2", "site") if site else ("s1", "s2")
    for name in z.namelist():
        if name == "header.json":
            continue
        st, _, arr = name.removesuffix(".npy").partition("_")
        if st == "site" and not site:
            raise ModelError(f"{path}: site-layer member {name!r} in a file whose header is not a "
                             f"site model")
        if not name.endswith(".npy") or st not in wanted or arr not in _STAGE_ARRAYS:
            raise ModelError(f"{path}: member {_shown(name)} is not part of a boilerclf model file")
    present = set(z.namelist())
    out: dict[str, FlatTrees | None] = {st: None for st in _STAGES}
    for st in wanted:
        infos = {a: z.getinfo(f"{st}_{a}.npy") for a in _STAGE_ARRAYS if f"{st}_{a}.npy" in present}
        if not infos and st == "s2":
            continue
        missing = [f"{st}_{a}" for a in _STAGE_ARRAYS if a not in infos]
        if missing:
            raise ValueError(f"missing arrays: {', '.join(missing)}")
        out[st] = FlatTrees.from_arrays(_read_stage(path, z, infos))
    return out


def _read_stage(path: Path, z: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> dict[str, np.ndarray]:
    """One stage's arrays.  Each member's dtype, shape and size are checked
    from its .npy preamble, and the stage's node count against
    :data:`MAX_STAGE_NODES`, before any array data is read."""
    layout = {}
    for a, info in infos.items():
        dtype = np.dtype(ARRAYS.get(a, np.float64))
        if info.file_size > _NPY_PREAMBLE + MAX_STAGE_NODES * dtype.itemsize:
            raise ModelError(f"{path}: member {info.filename} unpacks to {info.file_size} bytes, more "
                             f"than a stage of {MAX_STAGE_NODES} tree nodes needs")
        with z.open(info) as f:
            pre = io.BytesIO(f.read(min(info.file_size, _NPY_PREAMBLE)))
        version = np.lib.format.read_magic(pre)
        if version == (1, 0):
            shape, _, got = np.lib.format.read_array_header_1_0(pre, max_header_size=_NPY_PREAMBLE)
        elif version == (2, 0):
            shape, _, got = np.lib.format.read_array_header_2_0(pre, max_header_size=_NPY_PREAMBLE)
        else:
            raise ValueError(f"{info.filename} is .npy format {version}, not 1.0 or 2.0")
        if got != dtype or len(shape) != 1:
            raise ValueError(f"{info.filename} must be a 1-D {dtype.name} array, not "
                             f"{len(shape)}-D {got}")
        if info.file_size != pre.tell() + shape[0] * dtype.itemsize:
            raise ValueError(f"{info.filename} holds {info.file_size} bytes, not the "
                             f"{pre.tell() + shape[0] * dtype.itemsize} of its shape {shape}")
        layout[a] = (info, dtype, shape[0], pre.tell())
    nodes = layout["feature"][2]
    if not 1 <= nodes <= MAX_STAGE_NODES:
        raise ModelError(f"{path}: a stage of {nodes} tree nodes (at most {MAX_STAGE_NODES})")
    for a in ARRAYS:
        n = layout[a][2]
        if a == "roots" and not 1 <= n <= nodes or a != "roots" and n != nodes:
            raise ValueError(f"{layout[a][0].filename} has {n} entries for {nodes} tree nodes")
    if layout["meta"][2] != 4:
        raise ValueError("meta must be 4 float64 values")
    out = {}
    for a, (info, dtype, n, offset) in layout.items():
        with z.open(info) as f:
            out[a] = np.frombuffer(f.read(), dtype=dtype, count=n, offset=offset)
    return out


def _model_from_header(head: dict, s1: FlatTrees | None, s2: FlatTrees | None,
                       site: FlatTrees | None = None):
    """The model a (checked, :func:`header_problem`) header describes: a
    LineClassifier, or a SiteModel on one."""
    if head.get("n_features") != len(FEATURE_NAMES):
        raise ValueError(f"header n_features is {head.get('n_features')}, not {len(FEATURE_NAMES)}")
    for st, trees in (("stage 1", s1), ("stage 2", s2), ("the site layer", site)):
        if trees is not None and trees.classes_.tolist() != [0, 1]:
            raise ValueError(f"{st} must have the classes [0, 1] (boilerplate, content), "
                             f"not {trees.classes_.tolist()}")
    rec = head.get("estimator") or {}
    if rec.get("class") != "SiteModel":
        if site is not None:
            raise ValueError("site-layer arrays in a file whose header is not a site model")
        return _line_model(rec, s1, s2)
    from boilerclf.model.site import SiteModel

    base = _line_model(rec.get("base") or {}, s1, s2)
    n_inputs = len(FEATURE_NAMES) - N_STRUCT + len(CONTEXT_NAMES) + 1
    if site is None or site.n_features_in_ != n_inputs:
        raise ValueError(f"a site model's site layer must take {n_inputs} features")
    weight = rec.get("weight")
    if _unit(weight):
        raise ValueError(f"site-model weight must be a number in [0, 1], not {weight!r}")
    params = {k: v for k, v in (rec.get("params") or {}).items() if k in _SITE_PARAMS}
    model = SiteModel(base, estimator=_estimator_from_record(rec.get("estimator")), **params)
    model.threshold = threshold_param(model.threshold)
    model.base_ = base
    model.site_ = model.site_trees_ = site
    model.weight_ = float(weight)
    model.classes_ = site.classes_
    model.n_features_in_ = len(FEATURE_NAMES)
    return model


def _line_model(rec: dict, s1: FlatTrees | None, s2: FlatTrees | None) -> LineClassifier:
    n_features = len(FEATURE_NAMES) - N_STRUCT
    if s1 is None or s1.n_features_in_ != n_features:
        raise ValueError(f"stage 1 must take {n_features} features")
    if s2 is not None and s2.n_features_in_ != n_features + len(CONTEXT_NAMES):
        raise ValueError(f"stage 2 must take {n_features + len(CONTEXT_NAMES)} features")
    params = {k: v for k, v in (rec.get("params") or {}).items() if k in _PARAMS}
    problem = _params_problem("params", params, _LINE_CHECKS)
    if problem:
        raise ValueError(problem)
    model = LineClassifier(estimator=_estimator_from_record(rec.get("estimator")),
                           context_estimator=_estimator_from_record(rec.get("context_estimator")),
                           **params)
    model.context = s2 is not None
    model.threshold = threshold_param(model.threshold)
    model.stage1_ = model.trees1_ = s1
    model.stage2_ = model.trees2_ = s2
    model.classes_ = s1.classes_
    model.n_features_in_ = len(FEATURE_NAMES)
    return model


def _load_pickle(path: Path) -> tuple[LineClassifier, dict]:
    """A legacy (format 1) joblib model file; runs whatever code the file holds."""
    import joblib

    try:
        obj = joblib.load(path)
    except Exception as exc:  # corrupt, truncated, or not a joblib file
        raise ModelError(f"cannot read model file {path}: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, dict) or "header" not in obj or "model" not in obj:
        raise ModelError(f"{path} is not a boilerclf model file")
    head = obj["header"]
    if not isinstance(head, dict):
        raise ModelError(f"{path} is not a boilerclf model file")
    _check_schema(path, head)
    if head.get("sklearn_version") != _sklearn_version():
        raise ModelError(
            f"{path} was saved with scikit-learn {head.get('sklearn_version')}, this is "
            f"{_sklearn_version()}: install that version or retrain with `boilerclf train`")
    model = obj["model"]
    from boilerclf.model.site import SiteModel

    if isinstance(model, SiteModel):
        model.site_trees_ = _flatten(model.site_)
        base = model.base_
    elif isinstance(model, LineClassifier):
        base = model
    else:
        raise ModelError(f"{path} does not hold a LineClassifier or a SiteModel")
    base.trees1_ = _flatten(base.stage1_)
    base.trees2_ = _flatten(base.stage2_)
    return model, head


def convert(src: str | Path, dst: str | Path) -> dict:
    """Rewrite a trusted legacy (joblib/pickle) model file in the safe format.

    Reads ``src`` with ``trusted=True`` -- it runs code from the file, so only
    convert files whose origin you trust -- and saves it to ``dst`` with the
    same header (schema, training sets, scores, threshold); the new file gives
    the same scores.  Returns the new header.
    """
    model, head = load(src, trusted=True)
    keep = {k: v for k, v in head.items()
            if k not in ("format", "format_version", "kind", "n_features", "estimator")}
    return save(model, dst, kind=head.get("kind", "html"), **keep)


def header_json(head: dict) -> str:
    return json.dumps(head, indent=2, sort_keys=True, default=str)
