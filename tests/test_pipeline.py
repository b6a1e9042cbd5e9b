"""The Extractor and the public API (boilerclf.extract / extract_text / classify),
run with tiny models trained on the fixture pages (see conftest.py)."""
from __future__ import annotations

import importlib
import pickle

import numpy as np
import pytest

import boilerclf
from boilerclf import PRESETS, Extractor, InputError, Line, Result
from boilerclf.decide import decision
from boilerclf.decide.decision import Auto
from boilerclf.features.table import FEATURE_NAMES, page_features
from boilerclf.parse.html import html_lines
from boilerclf.parse.text import text_lines

extract_mod = importlib.import_module("boilerclf.pipeline")
files_mod = importlib.import_module("boilerclf.model.files")


def _words(r: Result) -> np.ndarray:
    """Tokens per line of a result classified with ``features=True``."""
    return np.expm1([ln.features["words"] for ln in r.lines])


@pytest.fixture
def api(monkeypatch, tiny_models):
    """The module-level API, with the tiny models standing in for the shipped ones."""
    monkeypatch.setattr(files_mod, "shipped_model_path", _tiny_shipped(tiny_models))
    monkeypatch.setattr(boilerclf, "_default", None)
    return boilerclf


def _tiny_shipped(tiny_models):
    """``shipped_model_path`` with the tiny models as the shipped line models (and no page-type model)."""
    shipped = {files_mod.SHIPPED_MODELS["html"]: tiny_models[0],
               files_mod.SHIPPED_MODELS["text"]: tiny_models[1]}

    def path(name):
        if name not in shipped:
            raise files_mod.ModelError(f"shipped model {name} not found")
        return shipped[name]
    return path


# ------------------------------------------------------------------ classify

def test_classify_result(tiny_extractor, lighthouse_html):
    r = tiny_extractor.classify(lighthouse_html)
    assert isinstance(r, Result)
    assert r.kind == "html" and not r.truncated
    assert r.title == "Council approves plan to restore Point Marlow lighthouse"
    L = html_lines(lighthouse_html)
    assert [ln.text for ln in r.lines] == L.texts
    assert all(isinstance(ln, Line) for ln in r.lines)
    for ln in r.lines:
        assert isinstance(ln.label, bool) and isinstance(ln.score, float)
        assert 0.0 <= ln.score <= 1.0
        assert ln.label == (ln.score >= 0.5)
        assert ln.features is None
    np.testing.assert_allclose(r.scores, [ln.score for ln in r.lines])
    assert r.text == "\n".join(ln.text for ln in r.lines if ln.label)
    assert [ln.tag for ln in r.lines][11:14] == ["h1", "div", "p"]


def test_classify_features(tiny_extractor, lighthouse_html):
    r = tiny_extractor.classify(lighthouse_html, features=True)
    X = page_features(html_lines(lighthouse_html))
    for i, ln in enumerate(r.lines):
        assert isinstance(ln.features, dict)
        assert list(ln.features) == FEATURE_NAMES
        assert ln.features["line"] == i
        np.testing.assert_allclose(list(ln.features.values()), X[i], rtol=1e-6)


def test_tiny_model_separates_its_training_page(tiny_extractor, lighthouse_html, lighthouse_gold, gold_paragraphs):
    # sanity check of the whole wiring: scores land on the right lines
    text = tiny_extractor.extract(lighthouse_html)
    kept = text.splitlines()
    for para in gold_paragraphs(lighthouse_gold):
        assert para in kept
    for boiler in ("Politics", "Kittiwake colony returns to Marlow cliffs", "Leave a Reply", "About us"):
        assert boiler not in kept


def test_kind_detection_and_forcing(tiny_extractor, lighthouse_html, rail_text):
    assert tiny_extractor.classify(lighthouse_html).kind == "html"
    assert tiny_extractor.classify(rail_text).kind == "text"
    assert tiny_extractor.classify(rail_text.encode("utf-8")).kind == "text"
    forced = tiny_extractor.classify(lighthouse_html, kind="text")
    assert forced.kind == "text"
    assert any("<p>" in ln.text for ln in forced.lines)  # markup read as text
    with pytest.raises(InputError):
        tiny_extractor.classify(lighthouse_html, kind="pdf")


def test_text_pages(tiny_extractor, rail_text, rail_gold, gold_paragraphs):
    r = tiny_extractor.classify(rail_text)
    assert [ln.text for ln in r.lines] == text_lines(rail_text).texts
    assert r.title == "The Coastal Courier"
    assert tiny_extractor.extract(rail_text, "text") == r.text
    kept = r.text.splitlines()
    for para in gold_paragraphs(rail_gold):
        assert para in kept


def test_charset_argument(tiny_extractor):
    page = "<html><body><p>caf\u00e9 na\u00efve r\u00e9sum\u00e9 with enough words to be a line.</p></body></html>"
    r = tiny_extractor.classify(page.encode("cp1252"), charset="windows-1252")
    assert r.lines[0].text.startswith("caf\u00e9 na\u00efve r\u00e9sum\u00e9")


# ------------------------------------------------------------------ thresholds

def test_presets_values():
    weights = [PRESETS[p].recall_weight for p in ("precision", "balanced", "recall")]
    assert weights == sorted(weights) and len(set(weights)) == 3
    assert PRESETS["balanced"] == Auto()
    assert extract_mod.resolve_threshold("precision", 0.5) == PRESETS["precision"]
    assert extract_mod.resolve_threshold("recall", 0.5) == PRESETS["recall"]
    assert extract_mod.resolve_threshold("auto", 0.5) == Auto()
    assert extract_mod.resolve_threshold("auto:2", 0.5) == Auto(2.0)
    assert extract_mod.resolve_threshold(None, "auto") == Auto()
    assert extract_mod.resolve_threshold("0.25", 0.5) == 0.25
    assert extract_mod.resolve_threshold(None, 0.42) == 0.42
    assert extract_mod.resolve_threshold(0.9, 0.5) == 0.9
    for bad in ("strict", "auto:0", "auto:x", True):
        with pytest.raises(ValueError, match="precision"):
            extract_mod.resolve_threshold(bad, 0.5)


@pytest.mark.parametrize("preset,thr", [("precision", None), ("balanced", None), ("recall", None),
                                        ("auto", None), ("0.9", 0.9), (0.05, 0.05)])
def test_threshold_sets_labels(tiny_models, lighthouse_html, preset, thr):
    ex = Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=preset)
    r = ex.classify(lighthouse_html, features=True)
    assert_labels_follow_scores(r)
    if thr is None:  # chosen for the page from its own scores and words
        want = decision.page_threshold(r.scores, _words(r), extract_mod.resolve_threshold(preset, 0.5).recall_weight)
        assert r.threshold == want
        assert any(ln.label for ln in r.lines) and not all(ln.label for ln in r.lines)
    else:
        assert r.threshold == thr


def assert_labels_follow_scores(r: Result, include_title: bool = False) -> None:
    """A line is kept when its score reaches the page's threshold; the headline
    line is kept exactly when ``include_title``."""
    assert r.headline >= 0 and r.lines[r.headline].text == r.title
    assert [ln.label for ln in r.lines] == [include_title if i == r.headline else ln.score >= r.threshold
                                           for i, ln in enumerate(r.lines)]


def test_the_headline_is_the_title_and_kept_only_on_request(tiny_models, lighthouse_html):
    for include_title in (False, True):
        ex = Extractor(model=tiny_models[0], threshold=0.0, include_title=include_title)
        r = ex.classify(lighthouse_html)
        assert_labels_follow_scores(r, include_title)
        assert r.title == "Council approves plan to restore Point Marlow lighthouse"  # not <title>'s
        assert (r.title in r.text.splitlines()) is include_title
        assert ex.extract(lighthouse_html) == r.text


def test_threshold_extremes_and_monotone(tiny_models, lighthouse_html):
    def kept(thr, include_title=False):
        ex = Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=thr, include_title=include_title)
        return [ln.label for ln in ex.classify(lighthouse_html).lines]

    assert all(kept(0.0, include_title=True)) and not any(kept(1.0))
    with pytest.raises(ValueError, match="threshold"):
        kept(1.01)
    prec, rec = kept("precision"), kept("recall")
    assert all(r for p, r in zip(prec, rec) if p)  # recall keeps a superset


def test_bad_threshold_raises(tiny_models, lighthouse_html):
    with pytest.raises(ValueError, match="strict"):  # when the Extractor is made, not at the first page
        Extractor(model=tiny_models[0], threshold="strict")


# ------------------------------------------------------------------ module-level API

def test_api_extract_and_classify(api, tiny_extractor, lighthouse_html, rail_text):
    assert api.extract(lighthouse_html) == tiny_extractor.extract(lighthouse_html, "html")
    assert api.extract(lighthouse_html.decode("utf-8")) == api.extract(lighthouse_html)
    assert api.extract(lighthouse_html, url="https://example.org/a") == api.extract(lighthouse_html)
    assert api.extract_text(rail_text) == tiny_extractor.extract(rail_text, "text")
    r = api.classify(lighthouse_html, features=True)
    assert isinstance(r, Result) and r.lines[0].features is not None
    assert api.classify(rail_text).kind == "text"
    assert api.classify(lighthouse_html, kind="text").kind == "text"


def test_api_threshold_on_fresh_default(api, lighthouse_html):
    # (the first call: the default extractor has not loaded its model yet)
    r = api.classify(lighthouse_html, threshold="recall", features=True)
    assert_labels_follow_scores(r)
    assert r.threshold == decision.page_threshold(r.scores, _words(r), PRESETS["recall"].recall_weight)
    r = api.classify(lighthouse_html, threshold=0.0, include_title=True)
    assert all(ln.label for ln in r.lines)
    assert api.extract(lighthouse_html, threshold=0.0, include_title=True) == r.text
    assert api.extract(lighthouse_html, threshold=0.0) == "\n".join(
        ln.text for i, ln in enumerate(r.lines) if i != r.headline)


# ------------------------------------------------------------------ pickling and many pages

def test_extractor_is_picklable(tiny_extractor, lighthouse_html):
    before = tiny_extractor.extract(lighthouse_html)  # loads the model
    data = pickle.dumps(tiny_extractor)
    assert len(data) < 10_000  # loaded models are not part of the state
    clone = pickle.loads(data)
    assert isinstance(clone, Extractor)
    assert clone.model == tiny_extractor.model and clone.text_model == tiny_extractor.text_model
    assert clone.extract(lighthouse_html) == before


@pytest.fixture(scope="module")
def many_pages(lighthouse_html, library_html, rail_text, rail_html):
    pages = [lighthouse_html, rail_text, library_html, b"", rail_html, "<html><body></body></html>",
             library_html.decode("utf-8"), rail_text.encode("utf-8"), lighthouse_html]
    return pages


def test_extract_many_in_order(tiny_extractor, many_pages):
    one_by_one = [tiny_extractor.extract(p) for p in many_pages]
    assert one_by_one[3] == "" and one_by_one[5] == ""
    assert len(set(one_by_one)) >= 4
    for bs in (1, 2, 64):
        got = list(tiny_extractor.extract_many(iter(many_pages), batch_size=bs))
        assert got == one_by_one, bs


def test_extract_many_n_jobs_2_matches_n_jobs_1(tiny_extractor, many_pages, timeout_run):
    seq = list(tiny_extractor.extract_many(many_pages, batch_size=2, n_jobs=1))
    par = timeout_run(lambda: list(tiny_extractor.extract_many(many_pages, batch_size=2, n_jobs=2)), 120)
    assert par == seq
    assert len(par) == len(many_pages)


_RANGES_SCRIPT = """
import json, pickle, sys
import boilerclf, boilerclf.processes as b
ex = boilerclf.Extractor(model=sys.argv[1])
pages = pickle.load(open(sys.argv[2], "rb"))  # str and bytes pages
seq = list(ex.extract_many(pages, batch_size=3, n_jobs=1))
sent = []
real = b.WorkerPool.submit
def spy(self, w, task, job):
    sent.append([job[0], list(job[1:3]) if job[0] == "range" else len(job[1])])
    return real(self, w, task, job)
b.WorkerPool.submit = spy
out = {"fork": b.fork_is_safe()}
for how, ps in (("list", list(pages)), ("tuple", tuple(pages)), ("iter", iter(pages))):
    sent.clear()
    out[how] = [list(ex.extract_many(ps, batch_size=3, n_jobs=2)) == seq, list(sent)]
print(json.dumps(out))
"""


def test_extract_many_n_jobs_2_sends_forked_workers_index_ranges(tiny_models, many_pages, tmp_path):
    """A list or tuple of pages reaches forked workers with the fork (they are
    sent index ranges, not pages); any other iterable is sent batch by batch.
    Same output either way.  (In a fresh process: this one may run threads
    that make forking unsafe.)"""
    import json
    import pickle
    import subprocess
    import sys

    pages = tmp_path / "pages.pickle"
    pages.write_bytes(pickle.dumps(list(many_pages)))
    r = subprocess.run([sys.executable, "-c", _RANGES_SCRIPT, str(tiny_models[0]), str(pages)],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["fork"] is True
    n = len(many_pages)
    for how in ("list", "tuple"):
        same, sent = out[how]
        assert same, how
        assert sent == [["range", [i, i + 3]] for i in range(0, n, 3)], how
    same, sent = out["iter"]
    assert same and {name for name, _ in sent} == {"pages"}
    assert sum(k for _, k in sent) == n


def test_extract_many_n_jobs_2_raises_what_a_worker_raised(tiny_extractor, lighthouse_html, timeout_run):
    """A page that fails in a worker fails the call as it does with one process."""
    pages = [lighthouse_html] * 6 + [object()] + [lighthouse_html] * 6
    with pytest.raises(boilerclf.InputError) as seq:
        list(tiny_extractor.extract_many(pages, batch_size=2, n_jobs=1))

    def run():
        with pytest.raises(boilerclf.InputError) as par:
            list(tiny_extractor.extract_many(pages, batch_size=2, n_jobs=2))
        return par

    assert str(timeout_run(run, 120).value) == str(seq.value) == "a page must be str or bytes, not object"


def test_extract_many_stopped_early_ends_its_workers(tiny_extractor, many_pages):
    import multiprocessing as mp

    before = {p.pid for p in mp.active_children()}
    it = tiny_extractor.extract_many(list(many_pages) * 3, batch_size=2, n_jobs=2)
    assert next(it) == tiny_extractor.extract(many_pages[0])
    assert {p.pid for p in mp.active_children()} - before  # workers run
    it.close()
    assert not {p.pid for p in mp.active_children()} - before


def test_the_library_and_clean_share_one_pool():
    from boilerclf.batch.pool import Pool
    from boilerclf.processes import WorkerPool

    assert issubclass(Pool, WorkerPool)


def test_extract_many_workers_fork_only_without_other_threads(tiny_extractor, many_pages, timeout_run,
                                                              monkeypatch):
    """Workers fork from this process when it runs no other thread (fast start), else
    come from a forkserver; the output is the same either way."""
    import threading

    from boilerclf import processes as pool

    seq = list(tiny_extractor.extract_many(many_pages, batch_size=4, n_jobs=1))
    starts = []
    real = pool.start_context

    def spy(initial):
        ctx = real(initial)
        starts.append(ctx.get_start_method())
        return ctx

    monkeypatch.setattr(pool, "start_context", spy)
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not pool.fork_is_safe()  # a Python thread runs
        par = timeout_run(lambda: list(tiny_extractor.extract_many(many_pages, batch_size=4, n_jobs=2)), 120)
    finally:
        stop.set()
        t.join()
    assert par == seq and starts[-1] == "forkserver"
    if pool.fork_is_safe():  # no thread left (OpenBLAS's and jemalloc's do not count)
        par = timeout_run(lambda: list(tiny_extractor.extract_many(many_pages, batch_size=4, n_jobs=2)), 120)
        assert par == seq and starts[-1] == "fork"


def test_a_fresh_process_may_fork_its_workers(tiny_models, tmp_path):
    """After importing boilerclf and classifying a page, a plain process runs no
    thread that makes forking unsafe (scikit-learn's import starts jemalloc's
    background thread, which does not count), so extract_many's workers fork."""
    import subprocess
    import sys

    code = ("import boilerclf, boilerclf.processes as b; "
            f"ex = boilerclf.Extractor(model={str(tiny_models[0])!r}); "
            "ex.extract('<p>The harbour opened today after long repairs to the wall.</p>'); "
            "print(b.fork_is_safe())")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


def test_extract_many_is_lazy(tiny_extractor, lighthouse_html):
    seen = []

    def pages():
        for i in range(5):
            seen.append(i)
            yield lighthouse_html

    it = tiny_extractor.extract_many(pages(), batch_size=2)
    first = next(it)
    assert first and seen == [0, 1]  # only the first batch was read
    assert len(list(it)) == 4


def test_extract_many_kind(tiny_extractor, rail_text):
    as_text = list(tiny_extractor.extract_many([rail_text], kind="text"))
    as_html = list(tiny_extractor.extract_many([rail_text], kind="html"))
    assert as_text == [tiny_extractor.extract(rail_text, "text")]
    assert as_html == [tiny_extractor.extract(rail_text, "html")]


def test_classify_lines_mixed_batch(tiny_extractor, lighthouse_html, rail_text):
    pages = [text_lines(rail_text), html_lines(lighthouse_html), html_lines(""), text_lines("")]
    res = tiny_extractor.classify_lines(pages)
    assert [r.kind for r in res] == ["text", "html", "html", "text"]
    assert res[0].text == tiny_extractor.extract(rail_text, "text")
    assert res[1].text == tiny_extractor.extract(lighthouse_html, "html")
    assert res[2].lines == [] and res[3].lines == []


# ------------------------------------------------------------------ limits

def test_max_bytes_cuts_input(tiny_models, lighthouse_html):
    ex = Extractor(model=tiny_models[0], text_model=tiny_models[1], max_bytes=1500)
    full = Extractor(model=tiny_models[0], text_model=tiny_models[1]).classify(lighthouse_html)
    cut = ex.classify(lighthouse_html)
    assert 0 < len(cut.lines) < len(full.lines)
    assert "All rights reserved" not in " ".join(ln.text for ln in cut.lines)


def test_max_nodes_sets_truncated(tiny_models, lighthouse_html):
    ex = Extractor(model=tiny_models[0], text_model=tiny_models[1], max_nodes=40)
    r = ex.classify(lighthouse_html)
    assert r.truncated
    assert 0 < len(r.lines) < len(html_lines(lighthouse_html))


def test_public_names():
    for name in boilerclf.__all__:
        assert hasattr(boilerclf, name), name
    assert callable(boilerclf.extract) and callable(boilerclf.extract_text) and callable(boilerclf.classify)
    assert isinstance(boilerclf.__version__, str)


def test_api_threshold_after_default_loaded(monkeypatch, tiny_models, lighthouse_html):

    import boilerclf

    monkeypatch.setattr(files_mod, "shipped_model_path", _tiny_shipped(tiny_models))
    monkeypatch.setattr(boilerclf, "_default", None)
    boilerclf.extract(lighthouse_html)
    assert all(ln.label for ln in boilerclf.classify(lighthouse_html, threshold=0.0, include_title=True).lines)
    r = boilerclf.classify(lighthouse_html, threshold="precision", features=True)
    assert_labels_follow_scores(r)
    assert r.threshold == decision.page_threshold(r.scores, _words(r), PRESETS["precision"].recall_weight)
