"""Hostile and malformed model files: bounded reads, checked settings, shipped names.

Every part of a model file is bounded before it is read (the header's size,
nesting and values; each array's dtype and shape against its size and the
stage's node count; members the header does not call for are refused), every
number in the header is checked, and the shipped models load by name from any
working directory.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

import boilerclf
from boilerclf.features import table as features
from boilerclf.model import files as model_mod
from boilerclf.model import header as header_mod
from boilerclf.model.classifier import CONTEXT_NAMES
from boilerclf.model.files import ModelError, load
from boilerclf.model.trees import FlatTrees


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> None:
    with zipfile.ZipFile(path, "w", compression) as z:
        for n, b in members.items():
            z.writestr(n, b)


def _npy(a) -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array(b, np.asarray(a), allow_pickle=False)
    return b.getvalue()


def _array(members, name) -> np.ndarray:
    return np.lib.format.read_array(io.BytesIO(members[name]))


def _with_header(src, dst, change) -> None:
    m = _members(src)
    head = json.loads(m["header.json"])
    change(head)
    _write(dst, {**m, "header.json": json.dumps(head).encode()})


def _refused(path, *words) -> str:
    """The one-line ModelError message for ``path``, which names the file and ``words``."""
    with pytest.raises(ModelError) as info:
        load(path)
    msg = str(info.value)
    assert str(path) in msg and "\n" not in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


def _stream_header(path, members, head_prefix: bytes, chunk: bytes, n_chunks: int, tail: bytes) -> None:
    """A model file whose header.json is written in pieces (big, without holding it in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("header.json", "w", force_zip64=True) as f:
            f.write(head_prefix)
            for _ in range(n_chunks):
                f.write(chunk)
            f.write(tail)
        for n, b in members.items():
            if n != "header.json":
                z.writestr(n, b)


# ----------------------------------------------------------------- the header

def test_header_size_is_checked_before_it_is_read(tmp_path, tiny_models):
    m = _members(tiny_models[0])
    big = tmp_path / "big-header.npz"
    prefix = m["header.json"].rstrip()[:-1] + b', "junk": ['
    _stream_header(big, m, prefix, b"0," * 4096, 200, b"0]}")  # 1.6 MB of zeros, 1.6 KB deflated
    assert big.stat().st_size < 50_000
    _refused(big, "header.json unpacks to", str(header_mod.MAX_HEADER_BYTES))


@pytest.mark.parametrize("case", ["deep-list", "deep-object", "many-values", "many-keys", "long-int",
                                  "not-utf8", "not-an-object"])
def test_header_shape_is_bounded(tmp_path, tiny_models, case):
    m = _members(tiny_models[0])
    text = m["header.json"].decode().rstrip()[:-1]
    junk = {"deep-list": "[" * 100_000 + "]" * 100_000,
            "deep-object": '{"a":' * 40 + "0" + "}" * 40,
            "many-values": "[" + ",".join(["[]"] * 120_000) + "]",
            "many-keys": "{" + ",".join(['"k":0'] * 110_000) + "}",
            "long-int": "1" * 5000}.get(case)
    raw = (text + f', "junk": {junk}}}').encode() if junk else \
        {"not-utf8": b'{"format": "\xff\xfe"}', "not-an-object": b"[1, 2, 3]"}[case]
    bad = tmp_path / "bad.npz"
    _write(bad, {**m, "header.json": raw})
    msg = _refused(bad)
    words = {"deep-list": "nested", "deep-object": "nested", "many-values": "values",
             "many-keys": "values", "long-int": "digits"}
    if case in words:
        assert words[case] in msg and "header.json" in msg


def test_header_scan_ignores_brackets_in_strings_and_is_linear():
    ok = {"a": ["x]]]{{{", {"b": '\\"[[[', "c": "\\\\"}], "d": "[" * 1000}
    assert header_mod.parse_header(json.dumps(ok).encode()) == ok
    nest = header_mod.MAX_HEADER_DEPTH
    assert header_mod.parse_header(b"[" * nest + b"]" * nest) is not None
    with pytest.raises(ValueError, match="nested"):
        header_mod.parse_header(b"[" * (nest + 1) + b"]" * (nest + 1))
    # texts that make a naive string pattern backtrack quadratically: about 1 MB each
    for text in ('"' + '\\"' * 500_000, '"\\' * 500_000, '"' + "a" * 1_000_000, '["\\\\",' * 170_000,
                 '"a",' * 250_000):
        t = time.process_time()
        with pytest.raises(ValueError):
            header_mod.parse_header(text.encode())
        assert time.process_time() - t < 2.0


# ----------------------------------------------------------------- the members

@pytest.mark.parametrize("case", ["junk-member", "junk-stage", "junk-array-name", "site-without-site-header",
                                  "oversized-declared-member", "longer-than-the-stage", "wrong-dtype",
                                  "two-dimensional", "trailing-bytes", "repeated-member", "bzip2",
                                  "too-many-members", "zip64", "no-trees"])
def test_members_are_bounded_before_they_are_read(tmp_path, tiny_models, monkeypatch, case):
    good = tiny_models[0]
    m = _members(good)
    bad = tmp_path / "bad.npz"
    n_nodes = max(len(_array(m, "s1_feature.npy")), len(_array(m, "s2_feature.npy")))
    words: tuple = ()
    if case == "junk-member":
        _write(bad, {**m, "junk.npy": _npy(np.zeros(1000))})
        words = ("'junk.npy'", "not part of")
    elif case == "junk-stage":
        _write(bad, {**m, "s3_value.npy": m["s1_value.npy"]})
        words = ("s3_value.npy",)
    elif case == "junk-array-name":
        _write(bad, {**m, "s1_extra.npy": m["s1_value.npy"]})
        words = ("s1_extra.npy",)
    elif case == "site-without-site-header":
        _write(bad, {**m, **{n.replace("s2_", "site_"): b for n, b in m.items() if n.startswith("s2_")}})
        words = ("not a site model",)
    elif case == "oversized-declared-member":
        monkeypatch.setattr(model_mod, "MAX_STAGE_NODES", n_nodes)
        load(good)  # the tiny model is within the lowered bound
        _write(bad, {**m, "s1_value.npy": _npy(np.zeros(n_nodes + 200))})
        words = ("s1_value.npy", f"more than a stage of {n_nodes} tree nodes")
    elif case == "longer-than-the-stage":
        n1 = len(_array(m, "s1_feature.npy"))
        _write(bad, {**m, "s1_value.npy": _npy(np.zeros(n1 + 1))})
        words = ("s1_value.npy", f"{n1 + 1} entries for {n1} tree nodes")
    elif case == "wrong-dtype":
        _write(bad, {**m, "s1_left.npy": _npy(_array(m, "s1_left.npy").astype(np.int64))})
        words = ("s1_left.npy", "int32")
    elif case == "two-dimensional":
        _write(bad, {**m, "s1_meta.npy": _npy(_array(m, "s1_meta.npy").reshape(2, 2))})
        words = ("s1_meta.npy", "1-D")
    elif case == "trailing-bytes":
        _write(bad, {**m, "s1_value.npy": m["s1_value.npy"] + b"\0" * 64})
        words = ("s1_value.npy", "bytes")
    elif case == "repeated-member":
        _write(bad, m)
        with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(bad, "a") as z:
            z.writestr("s1_value.npy", _npy(np.zeros(n_nodes)))
        words = ("repeats a member",)
    elif case == "bzip2":
        _write(bad, m, zipfile.ZIP_BZIP2)
        words = ("compression method",)
    elif case == "too-many-members":
        _write(bad, {**m, **{f"pad{k}": b"" for k in range(40)}})
        words = ("members",)
    elif case == "zip64":  # a zip64 directory can declare any number of members
        monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
        _write(bad, m)
        monkeypatch.undo()
        words = ("ZIP64",)
    elif case == "no-trees":
        _write(bad, {**m, **{n: _npy(_array(m, n)[:0]) for n in m if n.startswith("s1_") and "meta" not in n}})
        words = ("0 tree nodes",)
    _refused(bad, *words)


_PEAK = r"""
import json, sys
def rss(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
from boilerclf.model.files import ModelError, load
load(sys.argv[1])  # warm up: imports, a first model
out = {}
for path in sys.argv[1:]:
    base = rss("VmRSS:")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current RSS
    try:
        load(path)
        what = "loaded"
    except ModelError as exc:
        what = str(exc)
    out[path] = {"peak": rss("VmHWM:") - base, "result": what}
print(json.dumps(out))
"""


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux /proc to reset peak RSS")
def test_hostile_model_files_cost_no_memory(tmp_path, tiny_models):
    """A big header (100 MB of zeros, 100 KB deflated), a 24 MB junk value in
    the header, and junk array members (24 MB random, 200 MB of zeros) once
    cost 0.5 GB, 45 MB, 23 MB and 230 MB of peak RSS to load; they are now
    refused before any of it is read."""
    m = _members(tiny_models[0])
    head = json.loads(m["header.json"])
    files = {}
    files["big-header"] = tmp_path / "big-header.npz"
    _stream_header(files["big-header"], m, json.dumps(head)[:-1].encode() + b', "junk": [',
                   b"0," * (1 << 16), 800, b"0]}")
    files["junk-value"] = tmp_path / "junk-value.npz"
    _write(files["junk-value"], {**m, "header.json": json.dumps({**head, "junk": "x" * (24 << 20)}).encode()})
    files["junk-member"] = tmp_path / "junk-member.npz"
    _write(files["junk-member"], {**m, "junk.npy": _npy(np.random.default_rng(0).random(3 << 20))},
           zipfile.ZIP_STORED)
    files["zero-member"] = tmp_path / "zero-member.npz"
    with zipfile.ZipFile(files["zero-member"], "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in m.items():
            z.writestr(n, b)
        with z.open("s2_junk.npy", "w", force_zip64=True) as f:  # 200 MB of float64 zeros
            np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False,
                                                     "shape": (200 << 17,)})
            for _ in range(200):
                f.write(bytes(1 << 20))
    paths = [str(tiny_models[0])] + [str(p) for p in files.values()]
    out = subprocess.run([sys.executable, "-c", _PEAK, *paths], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got[paths[0]]["result"] == "loaded"
    for name, p in files.items():
        r = got[str(p)]
        assert r["result"] != "loaded" and str(p) in r["result"], (name, r)
        assert r["peak"] < 8 << 20, (name, r)  # MB-scale noise, not the size of the junk


# ---------------------------------------------------------- numbers in the header

def _params(**kw):
    def change(h):
        h["estimator"]["params"].update(kw)
    return change


_BAD_SETTINGS = {
    "threshold-nan": (_params(threshold=float("nan")), "estimator.params.threshold"),
    "threshold-negative": (_params(threshold=-0.2), "estimator.params.threshold"),
    "threshold-above-one": (_params(threshold=1.5), "estimator.params.threshold"),
    "threshold-infinite": (_params(threshold=float("inf")), "estimator.params.threshold"),
    "threshold-nan-string": (_params(threshold="nan"), "estimator.params.threshold"),
    "threshold-list": (_params(threshold=[0.5]), "estimator.params.threshold"),
    "auto-weight-nan": (_params(threshold="auto:nan"), "estimator.params.threshold"),
    "auto-weight-negative": (_params(threshold="auto:-1"), "estimator.params.threshold"),
    "exit-score-nan": (_params(exit_score=float("nan")), "estimator.params.exit_score"),
    "exit-score-negative": (_params(exit_score=-0.1), "estimator.params.exit_score"),
    "cascade-nan": (_params(cascade=float("nan")), "estimator.params.cascade"),
    "cascade-bool": (_params(cascade=True), "estimator.params.cascade"),
    "exit-trees-float": (_params(exit_trees=2.5), "estimator.params.exit_trees"),
    "exit-trees-huge": (_params(exit_trees=10**30), "estimator.params.exit_trees"),
    "max-iter-zero": (_params(max_iter=0), "estimator.params.max_iter"),
    "n-folds-zero": (_params(n_folds=0), "estimator.params.n_folds"),
    "max-lines-negative": (_params(max_lines_per_page=-1), "estimator.params.max_lines_per_page"),
    "random-state-negative": (_params(random_state=-1), "estimator.params.random_state"),
    "context-string": (_params(context="yes"), "estimator.params.context"),
    "params-not-object": (lambda h: h["estimator"].update(params=[1]), "estimator.params"),
    "recorded-estimator-nan": (
        lambda h: h["estimator"].update(estimator={"HistGradientBoostingClassifier": {"learning_rate": float("nan")}}),
        "estimator.estimator"),
    "recorded-estimator-bad-param": (
        lambda h: h["estimator"].update(context_estimator={"HistGradientBoostingClassifier": {"max_iter": -5}}),
        "estimator.context_estimator"),
    "recorded-estimator-unknown-param": (
        lambda h: h["estimator"].update(estimator={"HistGradientBoostingClassifier": {"no_such": 1}}),
        "estimator.estimator"),
    "class-unknown": (lambda h: h["estimator"].update({"class": "Other"}), "estimator.class"),
    "estimator-missing": (lambda h: h.pop("estimator"), "estimator"),
    "top-params-threshold-nan": (lambda h: h.update(params={"threshold": float("nan")}), "params.threshold"),
    "top-params-cascade": (lambda h: h.update(params={"cascade": 2}), "params.cascade"),
    "n-features-float": (lambda h: h.update(n_features=float(h["n_features"])), "n_features"),
}


@pytest.mark.parametrize("case", sorted(_BAD_SETTINGS))
def test_every_setting_in_the_header_is_checked(tmp_path, tiny_models, case):
    change, field = _BAD_SETTINGS[case]
    bad = tmp_path / "bad.npz"
    _with_header(tiny_models[0], bad, change)
    msg = _refused(bad, "bad model header", field)
    assert "truncated or corrupt" not in msg


@pytest.mark.parametrize("kw", [{"threshold": 0.0}, {"threshold": 1}, {"threshold": "auto:0.5"},
                                {"exit_score": 1.0, "cascade": 0}, {"max_lines_per_page": None},
                                {"random_state": None}, {"exit_trees": 0, "n_folds": 1}])
def test_settings_at_the_ends_of_their_ranges_load(tmp_path, tiny_models, kw):
    ok = tmp_path / "ok.npz"
    _with_header(tiny_models[0], ok, _params(**kw))
    m, _ = load(ok)
    for k, v in kw.items():
        got = m.get_params()[k]
        assert got == v or str(got) == str(v)


def _edit_array(name, edit):
    def change(members):
        a = _array(members, name).copy()
        edit(a)
        return {**members, name: _npy(a)}
    return change


_BAD_ARRAYS = {
    "baseline-nan": (_edit_array("s1_meta.npy", lambda a: a.__setitem__(0, np.nan)), "baseline"),
    "baseline-infinite": (_edit_array("s2_meta.npy", lambda a: a.__setitem__(0, -np.inf)), "baseline"),
    "leaf-value-nan": (_edit_array("s1_value.npy", lambda a: a.__setitem__(-1, np.nan)), "value"),
    "split-threshold-nan": (_edit_array("s2_threshold.npy", lambda a: a.__setitem__(0, np.nan)), "threshold"),
    "classes-swapped": (_edit_array("s1_meta.npy", lambda a: a.__setitem__(slice(2, 4), [1, 0])), "classes"),
    "classes-equal": (_edit_array("s1_meta.npy", lambda a: a.__setitem__(slice(2, 4), [1, 1])), "class labels"),
    "classes-nan": (_edit_array("s1_meta.npy", lambda a: a.__setitem__(2, np.nan)), "class labels"),
    "features-huge": (_edit_array("s1_meta.npy", lambda a: a.__setitem__(1, 1e300)), "feature count"),
}


@pytest.mark.parametrize("case", sorted(_BAD_ARRAYS))
def test_numbers_in_the_arrays_are_checked(tmp_path, tiny_models, case):
    edit, words = _BAD_ARRAYS[case]
    bad = tmp_path / "bad.npz"
    _write(bad, edit(_members(tiny_models[0])))
    _refused(bad, words)


def test_split_thresholds_may_be_infinite(tmp_path, tiny_models, training_pages):
    """A split that sends every number left has an infinite threshold (scikit-learn makes them)."""
    m = _members(tiny_models[0])
    feature = _array(m, "s1_feature.npy")
    inner = int(np.flatnonzero(feature >= 0)[0])
    ok = tmp_path / "ok.npz"
    _write(ok, _edit_array("s1_threshold.npy", lambda a: a.__setitem__(inner, np.inf))(m))
    loaded, _ = load(ok)
    X = features.batch_features([p for p, _ in training_pages[0]])
    assert np.isfinite(loaded.decision_scores(X)).all()


@pytest.fixture
def site_file(tmp_path, tiny_models):
    """A site model file on the tiny HTML model, with a one-leaf site layer."""
    m = _members(tiny_models[0])
    head = json.loads(m["header.json"])
    n_inputs = len(features.FEATURE_NAMES) - features.N_STRUCT + len(CONTEXT_NAMES) + 1
    layer = FlatTrees(feature=np.array([-1], np.int32), threshold=np.zeros(1), missing_left=np.zeros(1, np.uint8),
                      left=np.array([-1], np.int32), right=np.array([-1], np.int32), value=np.array([0.25]),
                      roots=np.array([0], np.int32), baseline=0.0, n_features_in_=n_inputs)
    head["estimator"] = {"class": "SiteModel", "weight": 0.5, "estimator": None, "base": head["estimator"],
                         "params": {"threshold": 0.4, "prior_pages": 1.0, "balance_pages": True,
                                    "random_state": 0}}
    path = tmp_path / "site.npz"
    _write(path, {**m, "header.json": json.dumps(head).encode(),
                  **{f"site_{k}.npy": _npy(v) for k, v in layer.arrays().items()}})
    return path


@pytest.mark.parametrize("field,value", [("weight", float("nan")), ("weight", -0.5), ("weight", True),
                                         ("params.prior_pages", float("nan")), ("params.prior_pages", -1.0),
                                         ("params.weight", 1.5), ("params.weight", "x"),
                                         ("params.threshold", float("nan")), ("params.balance_pages", 1),
                                         ("base.params.cascade", float("nan"))])
def test_site_model_settings_are_checked(tmp_path, site_file, field, value):
    from boilerclf.model.fitted import SitePredictor

    assert isinstance(load(site_file)[0], SitePredictor)

    def change(h):
        d = h["estimator"]
        *path, last = field.split(".")
        for k in path:
            d = d[k]
        d[last] = value

    bad = tmp_path / "bad.npz"
    _with_header(site_file, bad, change)
    _refused(bad, "bad model header", f"estimator.{field}")


# ------------------------------------------------------ shipped models by name

@pytest.mark.parametrize("name", ["models/boilerclf-html.npz", "boilerclf-html.npz", "boilerclf-html", "html",
                                  "models/boilerclf-text.npz", "text"])
def test_shipped_models_load_by_name_from_any_directory(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    model, head = load(name)
    assert head["kind"] == ("text" if "text" in name else "html")
    shipped = model_mod.shipped_model_path(model_mod.SHIPPED_MODELS[head["kind"]])
    assert head == load(shipped)[1]


def test_readme_extractor_works_outside_the_checkout(tmp_path, monkeypatch, lighthouse_html):
    monkeypatch.chdir(tmp_path)
    want = boilerclf.Extractor().extract(lighthouse_html)
    assert want
    assert boilerclf.Extractor(model="models/boilerclf-html.npz").extract(lighthouse_html) == want
    assert isinstance(boilerclf.load_model("html"), boilerclf.LinePredictor)
    # in a fresh interpreter too (nothing cached, nothing found relative to the cwd)
    code = ("import sys, boilerclf; "
            "print(len(boilerclf.Extractor(model='models/boilerclf-html.npz', text_model='text')"
            ".extract(sys.stdin.buffer.read())))")
    out = subprocess.run([sys.executable, "-c", code], input=lighthouse_html, capture_output=True,
                         cwd=tmp_path, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr.decode()
    assert int(out.stdout) == len(want)


def test_a_file_on_disk_wins_over_the_shipped_name(tmp_path, monkeypatch, tiny_models):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "boilerclf-html.npz").write_bytes(tiny_models[0].read_bytes())
    _, head = load("models/boilerclf-html.npz")
    assert head["trained"] == "test"  # the tiny model, not the shipped one


@pytest.mark.parametrize("name", ["models/boilerclf-nope.npz", "elsewhere/boilerclf-html.npz", "models/html",
                                  "htm", "boilerclf-html.npz.bak"])
def test_missing_paths_are_named_in_one_line(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError) as info:
        load(name)
    msg = str(info.value)
    assert msg.startswith(f"model file not found: {name} ") and "\n" not in msg, msg
    with pytest.raises(ModelError, match="not found"):
        boilerclf.Extractor(model=name).extract("<p>Some text here.</p>")


def test_shipped_name_checks_the_digest(tmp_path, monkeypatch):
    src = model_mod.shipped_model_path("boilerclf-html.npz")
    d = tmp_path / "pkg"
    d.mkdir()
    (d / "boilerclf-html.npz").write_bytes(src.read_bytes() + b"tampered")
    (d / "digests.json").write_bytes(src.with_name("digests.json").read_bytes())
    monkeypatch.setattr(model_mod, "shipped_model_path", lambda name: d / name)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="SHA-256"):
        load("html")
