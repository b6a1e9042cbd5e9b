"""training/ (boilerclf_training): stacking datasets for a fit."""
from __future__ import annotations

import numpy as np
import pytest
from boilerclf_training import train
from boilerclf_training.build import Part

from boilerclf.features.table import page_features
from boilerclf.parse.html import html_lines

PAGE = ("<html><head><title>Harbour</title></head><body><nav><a href='/'>Home</a></nav>"
        "<p>The harbour reopened on Monday after two winters of repairs to the old sea wall.</p>"
        "<p>Comment by Ann: finally!</p></body></html>")


def _part(n_pages: int) -> Part:
    L = html_lines(PAGE)
    X = np.concatenate([page_features(L, i) for i in range(n_pages)])
    cov = np.tile(np.array([0.0, 1.0, 0.6]), n_pages)
    return Part(X, cov, [list(L.texts)] * n_pages, [f"p{i}" for i in range(n_pages)], {})


def test_stack_renumbers_pages_and_labels_by_coverage():
    parts = {"a": _part(2), "b": _part(3)}
    assert len(html_lines(PAGE)) == 3
    d = train.stack(parts, ["a", "b"])
    assert d.names == ["a", "b"] and len(d.X) == 15
    assert d.X[:, 0].tolist() == [p for p in range(5) for _ in range(3)]  # unique, contiguous page ids
    assert d.y.tolist() == [0, 1, 1] * 5                                    # coverage >= 0.5 is content
    assert parts["a"].X[:, 0].max() == 1                                    # the parts are not changed


def test_stack_subsamples_whole_pages():
    parts = {"a": _part(40)}
    d = train.stack(parts, ["a"], max_lines=60, seed=1)
    pages, counts = np.unique(d.X[:, 0], return_counts=True)
    assert 0 < len(d.X) < 120 and (counts == 3).all()  # whole pages kept or dropped


def test_cli_train_refuses_a_missing_card_notes_file_before_training(tmp_path):
    from typer.testing import CliRunner

    from boilerclf.cli import app

    (tmp_path / "ds").mkdir()
    r = CliRunner().invoke(app, ["train", str(tmp_path / "ds"), "--out", str(tmp_path / "m"),
                                 "--card-notes", str(tmp_path / "nope.md")])
    assert r.exit_code == 2 and "card-notes" in r.output and not (tmp_path / "m").exists()


def test_card_rebuilt_from_the_slim_report_reads_the_model_files_header(tmp_path):
    # training_report.json keeps no headers; a card rebuilt from it must still name the schema
    import json
    import shutil
    from pathlib import Path

    from boilerclf_training import card

    from boilerclf.features.table import SCHEMA_VERSION

    models = Path(__file__).parents[2] / "models"
    for name in ("boilerclf-html.npz", "boilerclf-text.npz", "training_report.json"):
        shutil.copy(models / name, tmp_path / name)
    card.write(tmp_path, json.loads((tmp_path / "training_report.json").read_text()))
    text = (tmp_path / "MODEL_CARD.md").read_text()
    head = text.splitlines()[2]
    assert f"features schema {SCHEMA_VERSION}," in head and "None" not in head
    # both models' thresholds come from their files (the text model's is set, not voted)
    from boilerclf.model.files import load

    for kind in ("html", "text"):
        thr = load(tmp_path / f"boilerclf-{kind}.npz")[1]["params"]["threshold"]
        label = "HTML model's" if kind == "html" else "text model's"
        assert f"the {label} threshold {thr}" in text


def test_texts_at_applies_the_rules_of_the_extractor():
    p = _part(1)
    scores = np.array([0.1, 0.9, 0.8])
    assert train.texts_at(p, scores, 0.3)["p0"] == "\n".join(p.texts[0][1:])
    p.markup = np.array([False, False, True])  # e.g. the comment line in a comment section
    assert train.texts_at(p, scores, 0.3)["p0"] == p.texts[0][1]


@pytest.mark.parametrize("threshold", [0.5, 0.3, "auto", "auto:0.3"])
def test_the_lodo_path_and_the_extractor_keep_the_same_lines(tmp_path, tiny_models, threshold, lighthouse_html,
                                                             lighthouse_gold, library_html, library_gold,
                                                             rail_html, rail_gold):
    """The numbers of the model card come from training's texts_at; the library's
    from the Extractor: for the same model, pages and threshold, the same text."""
    from boilerclf_training import build

    from boilerclf import Extractor
    from boilerclf.model.files import load

    pages = {"lighthouse": (lighthouse_html, lighthouse_gold), "library": (library_html, library_gold),
             "rail": (rail_html.encode("utf-8"), rail_gold),
             "xref": (b"<article><h1>Tide tables</h1><p>" + b"The spring tides reach the harbour wall twice a "
                      b"month, and the council posts the times outside the ferry office. " * 4
                      + b"</p><p>See also: Harbour wall repairs</p><div class='comments'><p>Comment by Ann: "
                        b"the ferry times changed again this week, and nobody told us about it.</p></div>"
                        b"</article>", "The spring tides")}
    _gold_set(tmp_path, "tiny", pages)
    part = build.build(tmp_path / "tiny", tmp_path / "cache")["html"]
    model = load(tiny_models[0])[0]
    for include_title in (False, True):
        got = train.texts_at(part, model.decision_scores(part.X), threshold, headline=include_title)
        ex = Extractor(model=tiny_models[0], threshold=threshold, include_title=include_title)
        want = dict(zip(part.ids, ex.extract_many([pages[i][0] for i in part.ids], kind="html")))
        assert got == want
        assert any(got.values()) and part.markup.any()  # the rules had lines to cap
        # the headline decides the first line: in by include_title, out by default
        assert got["library"].startswith("Westby library to open on Sundays") is include_title


def test_threshold_is_picked_on_the_larger_sets_only():
    # A 5-page set that peaks at 0.45 must not outvote two large sets that peak at 0.35.
    f1 = {"big_a": {0.35: 0.90, 0.45: 0.88}, "big_b": {0.35: 0.80, 0.45: 0.79},
          "tiny": {0.35: 0.70, 0.45: 0.90}}
    by_thr = {t: {n: {"f1": f1[n][t]} for n in f1} for t in (0.35, 0.45)}
    best, macro, voters = train.pick_threshold(by_thr, {"big_a": 300, "big_b": 100, "tiny": 5})
    assert best == 0.35
    assert voters == ["big_a", "big_b"]
    assert macro[0.35] == np.mean([0.90, 0.80])
    # Over all three sets 0.45 would win (0.857 vs 0.800).
    assert train.pick_threshold(by_thr, {"big_a": 300, "big_b": 100, "tiny": 5}, min_pages=1)[0] == 0.45
    # With no set large enough, every set votes.
    assert train.pick_threshold(by_thr, {"big_a": 3, "big_b": 3, "tiny": 3})[0] == 0.45


def test_auto_is_a_candidate_and_wins_ties_but_presets_are_not_candidates():
    by_thr = {0.35: {"a": {"f1": 0.9001}}, "auto": {"a": {"f1": 0.9004}}, "auto:3": {"a": {"f1": 0.95}}}
    best, macro, _ = train.pick_threshold(by_thr, {"a": 50})
    assert best == "auto" and "auto:3" not in macro
    by_thr["auto"]["a"]["f1"] = 0.890
    assert train.pick_threshold(by_thr, {"a": 50})[0] == 0.35
    assert {"auto", "auto:0.3", "auto:3", 0.35} <= set(train.THRESHOLDS)


def test_threshold_ties_to_three_decimals_go_towards_one_half():
    by_thr = {0.3: {"a": {"f1": 0.9004}}, 0.35: {"a": {"f1": 0.9001}}, 0.7: {"a": {"f1": 0.5}}}
    assert train.pick_threshold(by_thr, {"a": 50})[0] == 0.35


def test_cache_digest_covers_the_compiled_feature_code(monkeypatch):
    from boilerclf_training import build

    with_compiled = build._code_digest()
    monkeypatch.setattr(build, "_COMPILED", ())
    assert build._code_digest() != with_compiled  # a change to _cfeat.pyx re-parses the pages


def test_stack_keeps_unlabelled_lines_and_weights_a_set():
    snip = _part(2)
    snip.cov = np.tile(np.array([0.0, np.nan, 1.0], np.float32), 2)  # a snippet set: NaN = no label
    parts = {"a": _part(1), "s": snip}
    d = train.stack(parts, ["a", "s"], weights={"s": 20.0})
    assert d.y.tolist() == [0, 1, 1] + [0, -1, 1] * 2
    assert d.w.tolist() == [1.0] * 3 + [20.0] * 6
    assert train.stack(parts, ["a", "s"]).w is None  # no weights: the plain fit


def _gold_set(root, name, pages):
    import gzip
    import json

    (root / name / "html").mkdir(parents=True)
    for pid, (html, _) in pages.items():
        (root / name / "html" / f"{pid}.html.gz").write_bytes(gzip.compress(html))
    (root / name / "ground-truth.json").write_text(json.dumps({p: {"articleBody": g} for p, (_, g) in pages.items()}))


def test_run_trains_on_snippet_sets_and_scores_them_with_a_model_that_has_not_seen_them(
        tmp_path, lighthouse_html, lighthouse_gold, library_html, library_gold, rail_html, rail_gold):
    import gzip
    import json

    from boilerclf_training import card

    from boilerclf.model.files import load

    root = tmp_path / "ds"
    _gold_set(root, "ga", {"a": (lighthouse_html, lighthouse_gold)})
    _gold_set(root, "gb", {"b": (rail_html.encode(), rail_gold)})
    (root / "sn" / "html").mkdir(parents=True)
    (root / "sn" / "html" / "c.html.gz").write_bytes(gzip.compress(library_html))
    sn = {"c": {"with": ["will open on Sundays from the first week of June", "reading club"],
                "without": ["School wins national robotics prize", "Letters: parking"]}}
    (root / "sn" / "snippets.json").write_text(json.dumps(sn))
    # trafilatura's output on the snippet page (a peers cache, as benchmarks/quality.py writes it)
    # labels the lines no snippet touches: the pseudo labels
    peers = tmp_path / "peers"
    (peers / "trafilatura").mkdir(parents=True)
    (peers / "trafilatura" / "sn.json").write_text(json.dumps({"c": {"articleBody": library_gold}}))
    logs = []
    report = train.run(root, tmp_path / "m", cache_dir=tmp_path / "cache", params={"max_iter": 5},
                       peers_cache=peers, log=logs.append)
    assert report["train_sets"] == ["ga", "gb"] and set(report["lodo"]) == {"ga", "gb"}
    n_lines = len(html_lines(library_html))
    assert report["snippet_sets"] == {"sets": ["sn"], "weight": train.SNIPPET_WEIGHT, "mode": "html",
                                      "pseudo_labels": {"peer": "trafilatura", "weight": train.PSEUDO_WEIGHT,
                                                        "lines": {"sn": n_lines - 4}}}
    held = report["snippets"]["sn"]
    assert held["n_snippets"] == 4 and 0 <= held["snippet_accuracy"] <= 1
    assert held["trained_without"] == "sn"
    assert any("labelled 4" in s for s in logs)  # the lines of the four snippets
    html_head = load(tmp_path / "m" / "boilerclf-html.npz")[1]
    text_head = load(tmp_path / "m" / "boilerclf-text.npz")[1]
    assert html_head["train_sets"] == ["ga", "gb", "sn"] and text_head["train_sets"] == ["ga", "gb"]
    card.write(tmp_path / "m", report)
    text = (tmp_path / "m" / "MODEL_CARD.md").read_text()
    assert "| sn (snippets, HTML model only) |" in text and "Snippet accuracy on sn" in text
    assert "labelled by trafilatura's output on the page" in text and f"(sn: {n_lines - 4} lines)" in text
    # snippet_sets=[]: the gold sets alone, as before
    plain = train.run(root, tmp_path / "m2", cache_dir=tmp_path / "cache", params={"max_iter": 5},
                      snippet_sets=[], log=logs.append, lodo=False)
    assert "snippets" not in plain and "snippet_sets" not in plain
    # a peer whose output is neither cached nor computable: refused before any model is written
    with pytest.raises(ValueError, match="pseudo labels: no output of nopeer on sn"):
        train.run(root, tmp_path / "m3", cache_dir=tmp_path / "cache", params={"max_iter": 5},
                  peers_cache=peers, pseudo_peer="nopeer", log=logs.append)
    assert not list((tmp_path / "m3").glob("*.npz"))
    # pseudo_peer=None: snippet lines alone, as before
    snip_only = train.run(root, tmp_path / "m4", cache_dir=tmp_path / "cache", params={"max_iter": 5},
                          pseudo_peer=None, log=logs.append, lodo=False)
    assert snip_only["snippet_sets"] == {"sets": ["sn"], "weight": train.SNIPPET_WEIGHT, "mode": "html"}


def test_pseudo_labels_fill_only_the_lines_no_snippet_touches():
    from boilerclf_training import build

    snip = _part(3)  # lines: nav "Home", the harbour sentence, the comment
    snip.cov = np.array([0.0, np.nan, np.nan] + [np.nan] * 3 + [np.nan, 1.0, np.nan], np.float32)
    peer = {"p0": "The harbour reopened on Monday after two winters of repairs to the old sea wall.",
            "p2": "Home. Comment by Ann: finally!"}  # p1: no peer output, keeps its NaNs
    part, mask = build.pseudo_labelled(snip, peer)
    assert part.y.tolist() == [0, 1, 0] + [-1] * 3 + [0, 1, 1]
    assert mask.tolist() == [False, True, True] + [False] * 3 + [True, False, True]
    assert np.isnan(snip.cov).sum() == 7  # the part given is not changed


def test_stack_takes_a_weight_per_line():
    parts = {"a": _part(1), "s": _part(2)}
    d = train.stack(parts, ["a", "s"], weights={"s": np.array([20.0, 1.0, 1.0] * 2)})
    assert d.w.tolist() == [1.0] * 3 + [20.0, 1.0, 1.0] * 2


def test_peer_texts_runs_trafilatura_without_comments_and_caches_it(tmp_path, monkeypatch, lighthouse_html):
    import json
    import sys
    import types

    calls = []

    def extract(raw, **kw):
        calls.append(kw)
        if b"<p>junk" == raw:
            raise RuntimeError("broken page")
        return "the lighthouse text"

    monkeypatch.setitem(sys.modules, "trafilatura", types.SimpleNamespace(extract=extract))
    _gold_set(tmp_path / "ds", "g", {"a": (lighthouse_html, "gold"), "b": (b"<p>junk", "gold b")})
    got = train.peer_texts(tmp_path / "ds", "g", tmp_path / "peers", "trafilatura", ["a", "b"])
    assert got == {"a": "the lighthouse text", "b": ""}  # a page it fails on: empty, not a lost set
    assert calls == [{"include_comments": False}] * 2  # as benchmarks/peers.py runs it
    assert json.loads((tmp_path / "peers" / "trafilatura" / "g.json").read_text())["a"] == {
        "articleBody": "the lighthouse text"}
    calls.clear()
    assert train.peer_texts(tmp_path / "ds", "g", tmp_path / "peers", "trafilatura", ["a", "b"]) == got
    assert not calls  # from the cache
    assert train.peer_scores(tmp_path / "ds", "g", tmp_path / "peers")["f1"] < 0.5
    assert train.peer_texts(tmp_path / "ds", "g", None, "other", ["a", "b"]) is None


def test_cli_train_refuses_a_snippet_set_without_snippets_before_training(tmp_path):
    from typer.testing import CliRunner

    from boilerclf.cli import app

    (tmp_path / "ds" / "nope").mkdir(parents=True)
    r = CliRunner().invoke(app, ["train", str(tmp_path / "ds"), "--out", str(tmp_path / "m"),
                                 "--snippet-sets", "nope"])
    assert r.exit_code == 2 and "snippets.json" in r.output and not (tmp_path / "m").exists()
    (tmp_path / "ds" / "sn").mkdir()
    (tmp_path / "ds" / "sn" / "snippets.json").write_text("{}")
    # names are stripped ("a, b" is two sets), so only the missing one is refused
    r = CliRunner().invoke(app, ["train", str(tmp_path / "ds"), "--out", str(tmp_path / "m"),
                                 "--snippet-sets", "sn, nope"])
    assert r.exit_code == 2 and "'nope'" in r.output and "'sn'" not in r.output
    assert not (tmp_path / "m").exists()


def test_cli_train_refuses_a_pseudo_peer_without_output_before_training(tmp_path):
    import importlib.util
    from unittest import mock

    from typer.testing import CliRunner

    from boilerclf.cli import app

    (tmp_path / "ds" / "sn").mkdir(parents=True)
    (tmp_path / "ds" / "sn" / "snippets.json").write_text("{}")
    r = CliRunner().invoke(app, ["train", str(tmp_path / "ds"), "--out", str(tmp_path / "m"),
                                 "--pseudo-peer", "readability", "--peers-cache", str(tmp_path / "peers")])
    assert r.exit_code == 2 and "no output of readability on sn" in r.output
    assert "--pseudo-peer none" in r.output and not (tmp_path / "m").exists()
    # the default peer, trafilatura, not installed and not cached: refused too, saying how to get it
    find_spec = importlib.util.find_spec
    with mock.patch("importlib.util.find_spec", lambda n, *a: None if n == "trafilatura" else find_spec(n, *a)):
        r = CliRunner().invoke(app, ["train", str(tmp_path / "ds"), "--out", str(tmp_path / "m")])
    assert r.exit_code == 2 and "trafilatura is not installed (pip install -e '.[bench]')" in r.output
    assert not (tmp_path / "m").exists()


def test_snippet_sets_are_the_folders_with_snippets_and_no_full_gold(tmp_path):
    from boilerclf_training import datasets

    for name, files in {"gold": ["ground-truth.json"], "snip": ["snippets.json"],
                        "both": ["ground-truth.json", "snippets.json"], "trafilatura_eval": ["snippets.json"],
                        "empty": []}.items():
        (tmp_path / name).mkdir()
        for f in files:
            (tmp_path / name / f).write_text("{}")
    assert datasets.gold_sets(tmp_path) == ["both", "gold"]
    assert datasets.snippet_sets(tmp_path) == ["snip", "trafilatura_eval"]


def test_domain_folds_never_split_a_site():
    gold = {f"p{i}": {"domain": f"site{i % 7}.example"} for i in range(40)}
    gold["q"] = {"url": "https://www.news.example/a/1"}  # no domain key: the URL's host
    gold["r"] = {"url": "https://www.news.example/b/2"}
    ids = sorted(gold)
    folds = train.domain_folds(gold, ids, "domain", k=3)
    assert set(folds.tolist()) == {0, 1, 2}
    by_site: dict[str, set] = {}
    for pid, f in zip(ids, folds.tolist()):
        by_site.setdefault(gold[pid].get("domain") or "news", set()).add(f)
    assert all(len(fs) == 1 for fs in by_site.values())
    assert (train.domain_folds(gold, ids, "domain", k=3) == folds).all()  # the same folds every run


def test_kfold_scores_every_page_by_a_model_that_has_not_seen_its_site(monkeypatch):
    parts = {"a": _part(4), "w": _part(6)}
    seen = []

    def fake_fold(mp, others, name, max_lines, params, weights, rows, unlabel, score_rows, score_X):
        trained = set(np.unique(mp[name].X[rows[name], 0]).astype(int).tolist())
        (X,) = score_X
        scored = set(np.unique(X[:, 0]).astype(int).tolist())
        seen.append((others, trained, scored, unlabel))
        return [np.full(len(X), float(min(scored)))]

    monkeypatch.setattr(train, "_lodo_fold", fake_fold)
    folds = np.array([0, 0, 1, 1, 2, 2])
    out = train.kfold_scores(parts, ["a"], "w", folds, 0, {}, unlabel_headline=True)
    assert len(seen) == 3
    for others, trained, scored, unlabel in seen:
        assert others == ["a", "w"] and unlabel and not trained & scored
        assert trained | scored == set(range(6))
    # each page's rows hold the score of the model of its fold
    assert out.tolist() == [float(2 * (p // 2)) for p in parts["w"].X[:, 0].astype(int).tolist()]


def test_stack_unlabels_the_headline_line_on_request():
    from boilerclf.features.table import FEATURE_NAMES

    p = _part(2)
    X = p.X.copy()
    X[:, FEATURE_NAMES.index("has_head")] = 1
    X[:, FEATURE_NAMES.index("head_dist")] = np.tile([-1.0, 0.0, 1.0], 2)  # line 1 is each page's headline
    p = Part(X, p.cov, p.texts, p.ids, {})
    assert train.stack({"a": p}, ["a"]).y.tolist() == [0, 1, 1] * 2
    assert train.stack({"a": p}, ["a"], unlabel_headline=True).y.tolist() == [0, -1, 1] * 2


def test_run_trains_only_the_modes_asked(tmp_path, lighthouse_html, lighthouse_gold, rail_html, rail_gold):
    from typer.testing import CliRunner

    from boilerclf.cli import app

    root = tmp_path / "ds"
    _gold_set(root, "ga", {"a": (lighthouse_html, lighthouse_gold)})
    _gold_set(root, "gb", {"b": (rail_html.encode(), rail_gold)})
    train.run(root, tmp_path / "m", cache_dir=tmp_path / "cache", params={"max_iter": 5}, snippet_sets=[],
              lodo=False, modes=("html",), log=lambda s: None)
    assert sorted(p.name for p in (tmp_path / "m").glob("*.npz")) == ["boilerclf-html.npz"]
    r = CliRunner().invoke(app, ["train", str(root), "--out", str(tmp_path / "m2"), "--modes", "html,pdf"])
    assert r.exit_code == 2 and "--modes" in r.output and not (tmp_path / "m2").exists()


def test_text_model_trains_on_every_dumper_and_is_scored_on_each(tmp_path, monkeypatch, lighthouse_html,
                                                                  lighthouse_gold, rail_html, rail_gold):
    from boilerclf_training import build, card, datasets

    from boilerclf.model.files import load

    monkeypatch.setattr(datasets, "KFOLD_SETS", {"ga": "site"})
    root = tmp_path / "ds"
    _gold_set(root, "ga", {"a": (lighthouse_html, lighthouse_gold), "a2": (lighthouse_html, lighthouse_gold)})
    _gold_set(root, "gb", {"b": (rail_html.encode(), rail_gold)})
    dumpers = ("render", "html-text", "inscriptis", "lxml", "bs4")
    logs = []
    report = train.run(root, tmp_path / "m", cache_dir=tmp_path / "cache", params={"max_iter": 5},
                       snippet_sets=[], modes=("text",), dumpers=dumpers, log=logs.append)
    for n in ("ga", "gb"):
        per = report["lodo"][n]["text_dumpers"]
        assert list(per) == list(dumpers) and all(0 <= m["f1"] <= 1 for m in per.values())
        # the set's text row is the mean over the dumpers
        assert report["lodo"][n]["text"]["f1"] == pytest.approx(np.mean([m["f1"] for m in per.values()]))
        assert all(m["recall"] > 0.9 for m in report["lodo"][n]["text_keep_all"].values())
        for d in dumpers:  # held-out texts per dumper, for the per page type tables
            assert (tmp_path / "cache" / "heldout" / f"{n}.text-{d}.lodo.json").is_file()
    assert any("html-text" in s and "(all " in s for s in logs)
    # the set the shipped model trains on: k-fold by site, every dumper's dump scored by its fold's model
    kf = report["kfold"]["ga"]
    assert list(kf["text_dumpers"]) == list(dumpers) and kf["folds"]["k"] == 5
    assert kf["text"]["f1"] == pytest.approx(np.mean([m["f1"] for m in kf["text_dumpers"].values()]))
    assert all((tmp_path / "cache" / "heldout" / f"ga.text-{d}.json").is_file() for d in dumpers)
    assert load(tmp_path / "m" / "boilerclf-text.npz")[1]["train_sets"] == ["ga", "gb"]
    card.write(tmp_path / "m", report)
    assert "| ga |" in (tmp_path / "m" / "MODEL_CARD.md").read_text()
    # each dumper's dump is its own part of the same pages; the mix takes every page once
    parts = build.build(root / "ga", tmp_path / "cache", dumpers=dumpers)
    assert set(parts) == {"html", *(f"text:{d}" for d in dumpers)}
    texts = {d: parts[f"text:{d}"].texts[0] for d in dumpers}
    assert texts["bs4"] != texts["inscriptis"] and any("lighthouse" in t.lower() for t in texts["html-text"])
    mix = build.mixed({d: parts[f"text:{d}"] for d in dumpers}, seed=3)
    assert mix.ids == ["a", "a2"] and any(mix.texts[0] == t for t in texts.values())
    assert len(mix.X) == len(mix.texts[0]) + len(mix.texts[1]) == len(mix.cov)


def test_cli_train_refuses_an_unknown_dumper_before_training(tmp_path, lighthouse_html, lighthouse_gold):
    from typer.testing import CliRunner

    from boilerclf.cli import app

    root = tmp_path / "ds"
    _gold_set(root, "ga", {"a": (lighthouse_html, lighthouse_gold)})
    r = CliRunner().invoke(app, ["train", str(root), "--out", str(tmp_path / "m"), "--dumpers", "render,lynx"])
    assert r.exit_code == 2 and "lynx" in r.output and not (tmp_path / "m").exists()


def test_merge_takes_one_modes_scores_from_the_run_that_retrained_it():
    from boilerclf_training import card

    base = {"commit": "aaa", "note": "old", "lodo": {"s": {"html": {"f1": 0.9}, "text": {"f1": 0.7},
                                                         "text_by_threshold": {"0.5": 1}}},
            "kfold": {"w": {"html": {"f1": 0.8}, "folds": {"k": 5}}},
            "thresholds": {"html": {"best": "auto"}, "text": {"set": 0.6}}}
    new = {"commit": "bbb", "lodo": {"s": {"text": {"f1": 0.8}, "text_dumpers": {"bs4": {"f1": 0.75}}}},
           "kfold": {"w": {"text": {"f1": 0.85}, "folds": {"k": 5}}},
           "thresholds": {"text": {"best": "auto"}}}
    got = card.merge(base, new, "text")
    assert got["lodo"]["s"] == {"html": {"f1": 0.9}, "text": {"f1": 0.8}, "text_dumpers": {"bs4": {"f1": 0.75}}}
    assert got["kfold"]["w"] == {"html": {"f1": 0.8}, "text": {"f1": 0.85}, "folds": {"k": 5}}
    assert got["thresholds"] == {"html": {"best": "auto"}, "text": {"best": "auto"}}
    assert got["commits"] == {"html": "aaa", "text": "bbb"} and "note" not in got
    assert base["lodo"]["s"]["text"] == {"f1": 0.7}  # the base report is left as it was
