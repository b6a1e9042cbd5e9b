"""training/ (boilerclf_training): stacking datasets for a fit."""
from __future__ import annotations

import numpy as np

from boilerclf.features import page_features
from boilerclf.lines import html_lines
from boilerclf_training import train
from boilerclf_training.build import Part

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

    from boilerclf.features import SCHEMA_VERSION
    from boilerclf_training import card

    models = Path(__file__).parent.parent / "models"
    for name in ("boilerclf-html.npz", "boilerclf-text.npz", "training_report.json"):
        shutil.copy(models / name, tmp_path / name)
    card.write(tmp_path, json.loads((tmp_path / "training_report.json").read_text()))
    text = (tmp_path / "MODEL_CARD.md").read_text()
    head = text.splitlines()[2]
    assert f"features schema {SCHEMA_VERSION}," in head and "None" not in head
    # both models' thresholds come from their files (the text model's is set, not voted)
    from boilerclf.model import load

    for kind in ("html", "text"):
        thr = load(tmp_path / f"boilerclf-{kind}.npz")[1]["params"]["threshold"]
        label = "HTML model's" if kind == "html" else "text model's"
        assert f"the {label} threshold {thr}" in text


def test_texts_at_applies_the_rules_of_the_extractor():
    p = _part(1)
    scores = np.array([0.1, 0.9, 0.8])
    assert train.texts_at(p, scores, 0.3)["p0"] == "\n".join(p.texts[0][1:])
    p.capped = np.array([False, False, True])  # e.g. the comment line in a comment section
    assert train.texts_at(p, scores, 0.3)["p0"] == p.texts[0][1]


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
