"""Shared fixtures for the boilerclf test suite.

Everything here is self-contained: the pages under ``tests/fixtures/`` are
hand-written, and the models used by the API/CLI tests are tiny
``LineClassifier`` s trained on those pages in a few seconds (session scope).
Nothing reads ``../shared`` and nothing touches the network.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from boilerclf.features import table as features
from boilerclf.labels import gold as labels
from boilerclf.model import classifier as model
from boilerclf.model import files
from boilerclf.parse import html as html_mod
from boilerclf.parse import lines
from boilerclf.parse import text as text_mod

FIXTURES = Path(__file__).parent / "fixtures"

# Tiny models and tiny data: OpenMP threads only cost time here (and the CI
# box has two cores), so keep the whole session single-threaded.
_THREAD_LIMITS = threadpool_limits(limits=1)

# Property tests: no example database on disk, no per-example deadline (CI boxes are slow).
settings.register_profile("boilerclf", database=None, deadline=None)
settings.load_profile("boilerclf")


def read_fixture(name: str, mode: str = "rb"):
    path = FIXTURES / name
    return path.read_bytes() if mode == "rb" else path.read_text(encoding="utf-8")


def _gold_paragraphs(gold: str, min_words: int = 15) -> list[str]:
    """The long (article-paragraph) lines of a gold text."""
    return [ln for ln in gold.splitlines() if len(ln.split()) >= min_words]


@pytest.fixture(scope="session")
def gold_paragraphs():
    """``gold_paragraphs(gold)``: the article paragraphs (lines of 15+ words) of a gold text."""
    return _gold_paragraphs


# ------------------------------------------------------------------ pages

@pytest.fixture(scope="session")
def lighthouse_html() -> bytes:
    """News page: cookie banner, nav, breadcrumb repeating the headline, h1,
    8 paragraphs + subhead, share buttons, author bio, related list, comment
    form, footer, scripts."""
    return read_fixture("lighthouse.html")


@pytest.fixture(scope="session")
def lighthouse_gold() -> str:
    return read_fixture("lighthouse.gold.txt", "r")


@pytest.fixture(scope="session")
def library_html() -> bytes:
    """Second news page with div/br markup, sidebar, Disqus-like comments."""
    return read_fixture("library.html")


@pytest.fixture(scope="session")
def library_gold() -> str:
    return read_fixture("library.gold.txt", "r")


@pytest.fixture(scope="session")
def rail_text() -> str:
    """Plain-text dump of a news page (site name, date, headline twice,
    8 paragraphs, "See also:" + 5 titles, author bio, "Leave a Reply")."""
    return read_fixture("rail.txt", "r")


@pytest.fixture(scope="session")
def rail_gold() -> str:
    return read_fixture("rail.gold.txt", "r")


def _rail_as_html(text: str) -> str:
    """The rail story as a third, programmatic HTML page (for the tiny model)."""
    ls = [ln for ln in text.splitlines() if ln.strip()]
    site, date, head, _, *rest = ls
    i = rest.index("See also:")
    paras, related, tail = rest[:i], rest[i + 1:i + 6], rest[i + 6:]
    bio, reply, notice = tail
    nav = "".join(f'<li><a href="/{w.lower()}">{w}</a></li>' for w in ("Home", "Travel", "Local", "Sport"))
    rel = "".join(f'<li><a href="/s/{k}">{t}</a></li>' for k, t in enumerate(related))
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (
        f"<html><head><title>{head} - {site}</title></head><body>"
        f'<header><a class="logo" href="/">{site}</a><nav class="menu"><ul>{nav}</ul></nav></header>'
        f'<article><h1>{head}</h1><p class="date">{date}</p><div class="article-body">{body}</div>'
        f'<div class="author-bio"><p>{bio}</p></div></article>'
        f'<aside class="related"><h3>See also</h3><ul>{rel}</ul></aside>'
        f'<div id="respond"><h3>{reply}</h3><form><p>{notice}</p><textarea></textarea>'
        f"<button>Post</button></form></div>"
        f'<footer class="site-footer"><p>Copyright 2024 {site}</p></footer></body></html>'
    )


@pytest.fixture(scope="session")
def rail_html(rail_text) -> str:
    return _rail_as_html(rail_text)


# ------------------------------------------------------------------ tiny models

def tiny_classifier() -> model.LineClassifier:
    return model.LineClassifier(
        HistGradientBoostingClassifier(max_iter=30, learning_rate=0.1, min_samples_leaf=3,
                                       random_state=0),
        context=True, n_folds=2, max_lines_per_page=None, random_state=0,
    )


def _fit(pages: list[tuple[lines.Lines, str]]) -> model.LineClassifier:
    X = features.batch_features([p for p, _ in pages])
    y = np.concatenate([labels.labels(p.texts, g) for p, g in pages])
    return tiny_classifier().fit(X, y)


@pytest.fixture(scope="session")
def training_pages(lighthouse_html, lighthouse_gold, library_html, library_gold,
                   rail_text, rail_gold, rail_html):
    """(html pages, text pages): lists of (Lines, gold text)."""
    html = [
        (html_mod.html_lines(lighthouse_html), lighthouse_gold),
        (html_mod.html_lines(library_html), library_gold),
        (html_mod.html_lines(rail_html), rail_gold),
    ]
    text = [(text_mod.text_lines(rail_text), rail_gold)] + [
        (text_mod.text_lines("\n\n".join(p.texts)), g) for p, g in html[:2]
    ]
    return html, text


@pytest.fixture(scope="session")
def tiny_fitted(training_pages) -> tuple[model.LineClassifier, model.LineClassifier]:
    """A tiny HTML model and a tiny text model as fitted (scikit-learn stages inside);
    do not modify them."""
    html_pages, text_pages = training_pages
    return _fit(html_pages), _fit(text_pages)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, tiny_fitted) -> tuple[Path, Path]:
    """Paths of the tiny HTML and text models, saved with model.save."""
    d = tmp_path_factory.mktemp("models")
    html_path, text_path = d / "tiny-html.npz", d / "tiny-text.npz"
    files.save(tiny_fitted[0], html_path, kind="html", trained="test")
    files.save(tiny_fitted[1], text_path, kind="text", trained="test")
    return html_path, text_path


@pytest.fixture(scope="session")
def tiny_html_model(tiny_models) -> model.LineClassifier:
    """The tiny HTML model as read back from its file (flat-tree stages)."""
    return files.load(tiny_models[0])[0]


@pytest.fixture
def tiny_extractor(tiny_models):
    from boilerclf import Extractor

    return Extractor(model=tiny_models[0], text_model=tiny_models[1])


# ------------------------------------------------------------------ labels files

def _labels_records(lighthouse_html: bytes, rail_text: str) -> list[dict]:
    """Two labels-file pages with known labels: the lighthouse page (every line
    boilerplate but line 5, scores 0.5) and the rail text (every line content)."""
    from boilerclf.labels import file as labelsfile

    src = lighthouse_html.decode("utf-8")
    ln = html_mod.html_lines(src)
    first = labelsfile.page_record("lighthouse", src, ln.texts, url="https://example.org/lh",
                                   labels=[int(j == 5) for j in range(len(ln))],
                                   scores=[0.5] * len(ln), model="m sha256:0")
    tl = text_mod.text_lines(rail_text)
    second = labelsfile.page_record("rail", rail_text, tl.texts, kind="text", labels=[1] * len(tl))
    return [first, second]


@pytest.fixture(scope="session")
def labels_records():
    """``labels_records(html_bytes, text)``: two labels-file records with known labels."""
    return _labels_records


# ------------------------------------------------------------------ helpers

def _sklearn_flat_scores(flat, X) -> np.ndarray:
    """Probabilities of a :class:`~boilerclf.model.trees.FlatTrees` computed by
    scikit-learn's own compiled tree predictor (``TreePredictor.predict``, the
    one HistGradientBoostingClassifier runs), summed as ``_raw_predict`` sums
    and mapped by the same expit: an independent check of the C predictor on
    trees that have no scikit-learn estimator any more (the shipped models)."""
    from scipy.special import expit
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    X = np.asarray(X, dtype=np.float64)
    raw = np.zeros(len(X))
    raw += flat.baseline
    no_cats = np.zeros((0, 8), dtype=np.uint32)
    ends = [*flat.roots[1:], len(flat.feature)]
    for start, end in zip(flat.roots, ends):
        nodes = np.zeros(end - start, dtype=PREDICTOR_RECORD_DTYPE)
        leaf = flat.feature[start:end] < 0
        nodes["is_leaf"] = leaf
        nodes["feature_idx"] = np.where(leaf, 0, flat.feature[start:end])
        nodes["num_threshold"] = flat.threshold[start:end]
        nodes["missing_go_to_left"] = flat.missing_left[start:end]
        nodes["left"] = np.where(leaf, 0, flat.left[start:end] - start)
        nodes["right"] = np.where(leaf, 0, flat.right[start:end] - start)
        nodes["value"] = flat.value[start:end]
        raw += TreePredictor(nodes, no_cats, no_cats).predict(
            X, known_cat_bitsets=no_cats, f_idx_map=np.zeros(X.shape[1], dtype=np.uint32), n_threads=1)
    return expit(raw)


@pytest.fixture(scope="session")
def sklearn_flat_scores():
    """``sklearn_flat_scores(flat_trees, X)``: scikit-learn's tree predictor on flat trees."""
    return _sklearn_flat_scores


def run_with_timeout(fn, timeout: float = 60.0):
    """Run ``fn()`` in a thread; fail (not hang) if it takes longer than ``timeout``.

    Returns fn's result, re-raises its exception.  The limit is deliberately
    generous: it catches hangs and pathological slowness, not speed.
    """
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        pytest.fail(f"did not finish within {timeout:.0f}s (hang or pathological slowness)")
    if "error" in box:
        raise box["error"]
    return box.get("value")


@pytest.fixture
def timeout_run():
    return run_with_timeout
