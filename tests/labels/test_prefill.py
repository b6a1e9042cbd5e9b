"""``boilerclf label``: pages to a labels file pre-filled with the model's labels."""
from __future__ import annotations

import gzip
import json

import pytest
from typer.testing import CliRunner

from boilerclf.cli import app
from boilerclf.labels import file as labelsfile
from boilerclf.model.files import sha256

runner = CliRunner()


@pytest.fixture
def model_args(tiny_models):
    return ["--model", str(tiny_models[0]), "--text-model", str(tiny_models[1])]


@pytest.fixture
def pages_dir(tmp_path, lighthouse_html, library_html, rail_text):
    d = tmp_path / "pages"
    (d / "news").mkdir(parents=True)
    (d / "news" / "lighthouse.html").write_bytes(lighthouse_html)
    (d / "library.html.gz").write_bytes(gzip.compress(library_html))
    (d / "rail.txt").write_text(rail_text, encoding="utf-8")
    return d


def test_label_directory(tmp_path, pages_dir, model_args, tiny_models, tiny_extractor,
                         lighthouse_html, rail_text):
    out = tmp_path / "labels.jsonl"
    r = runner.invoke(app, ["label", str(pages_dir), "--out", str(out), *model_args])
    assert r.exit_code == 0, r.output
    assert "3 pages labelled" in r.output and "0 failed" in r.output
    recs = labelsfile.read_labels(out)
    assert [x["id"] for x in recs] == ["library.html.gz", "news/lighthouse.html", "rail.txt"]
    by_id = {x["id"]: x for x in recs}
    light, rail = by_id["news/lighthouse.html"], by_id["rail.txt"]
    assert light["kind"] == "html" and rail["kind"] == "text"
    assert light["source"] == lighthouse_html.decode("utf-8") and rail["source"] == rail_text
    assert light["model"] == f"{tiny_models[0].name} sha256:{sha256(tiny_models[0])[:12]}"
    assert rail["model"].startswith(tiny_models[1].name + " sha256:")
    assert not any(x["reviewed"] for x in recs)
    # labels and scores are the model's, and the lines recompute exactly from the source
    want = tiny_extractor.classify(lighthouse_html)
    assert [ln["text"] for ln in light["lines"]] == [ln.text for ln in want.lines]
    assert [ln["label"] for ln in light["lines"]] == [int(ln.label) for ln in want.lines]
    assert [ln["score"] for ln in light["lines"]] == pytest.approx([ln.score for ln in want.lines], abs=1e-4)
    assert [ln["tag"] for ln in light["lines"]] == [ln.tag for ln in want.lines]
    assert {ln["label"] for ln in light["lines"]} == {0, 1}
    for rec in recs:
        assert labelsfile.source_lines(rec).texts == [ln["text"] for ln in rec["lines"]]


def test_label_jsonl_input_threshold_and_kind(tmp_path, model_args, lighthouse_html, rail_text):
    src = tmp_path / "crawl.jsonl"
    src.write_text(
        json.dumps({"id": "a", "url": "https://example.org/a", "html": lighthouse_html.decode()}) + "\n"
        + json.dumps({"id": "b", "html": rail_text}) + "\n"
        + json.dumps({"id": "c"}) + "\n", encoding="utf-8")
    out = tmp_path / "labels.jsonl"
    r = runner.invoke(app, ["label", str(src), "-o", str(out), "--threshold", "0", "--kind", "text",
                            *model_args])
    assert r.exit_code == 1, r.output  # record c has no html field
    assert "failed: c: read: line 3: field 'html' is missing" in r.output
    recs = labelsfile.read_labels(out)
    assert [(x["id"], x["url"], x["kind"]) for x in recs] == [
        ("a", "https://example.org/a", "text"), ("b", None, "text")]
    assert all(ln["label"] == 1 for x in recs for ln in x["lines"])  # threshold 0 keeps all


def test_label_refuses_to_overwrite_and_appends(tmp_path, pages_dir, model_args):
    out = tmp_path / "labels.jsonl"
    assert runner.invoke(app, ["label", str(pages_dir / "rail.txt"), "-o", str(out), *model_args]).exit_code == 0
    recs = labelsfile.read_labels(out)
    recs[0]["lines"][0]["label"] = 1 - recs[0]["lines"][0]["label"]  # a person's correction
    recs[0]["reviewed"] = True
    labelsfile.write_labels(out, recs)

    r = runner.invoke(app, ["label", str(pages_dir / "rail.txt"), "-o", str(out), *model_args])
    assert r.exit_code == 2 and "exists" in r.output
    r = runner.invoke(app, ["label", str(pages_dir), "-o", str(out), "--append", *model_args])
    assert r.exit_code == 0, r.output
    assert "1 already in the file" in r.output
    got = labelsfile.read_labels(out)
    assert [x["id"] for x in got] == ["rail.txt", "library.html.gz", "news/lighthouse.html"]
    assert got[0] == recs[0]  # the reviewed page is kept as it was
    r = runner.invoke(app, ["label", str(pages_dir / "rail.txt"), "-o", str(out), "--force", *model_args])
    assert r.exit_code == 0, r.output
    assert [x["reviewed"] for x in labelsfile.read_labels(out)] == [False]


def test_label_usage_errors(tmp_path, pages_dir, model_args):
    r = runner.invoke(app, ["label", str(tmp_path / "nope.html"), "-o", str(tmp_path / "l.jsonl"), *model_args])
    assert r.exit_code == 2 and "no such file" in r.output
    r = runner.invoke(app, ["label", str(pages_dir), "-o", str(pages_dir / "l.jsonl"), *model_args])
    assert r.exit_code == 2 and "inside the input" in r.output
    r = runner.invoke(app, ["label", str(pages_dir), "-o", str(tmp_path / "l.jsonl"), "--kind", "pdf", *model_args])
    assert r.exit_code == 2 and "--kind" in r.output
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a model")
    r = runner.invoke(app, ["label", str(pages_dir), "-o", str(tmp_path / "l.jsonl"), "--model", str(bad)])
    assert r.exit_code == 2, r.output
    assert not (tmp_path / "l.jsonl").exists()


def test_label_corrupt_gzip_page_fails_alone(tmp_path, pages_dir, model_args, library_html):
    (pages_dir / "library.html.gz").write_bytes(gzip.compress(library_html)[:200])
    out = tmp_path / "labels.jsonl"
    r = runner.invoke(app, ["label", str(pages_dir), "-o", str(out), *model_args])
    assert r.exit_code == 1
    assert "failed: library.html.gz: read: truncated or corrupt gzip" in r.output
    assert [x["id"] for x in labelsfile.read_labels(out)] == ["news/lighthouse.html", "rail.txt"]


def test_label_repeated_ids_are_made_unique(tmp_path, pages_dir, model_args):
    out = tmp_path / "labels.jsonl"
    r = runner.invoke(app, ["label", str(pages_dir / "rail.txt"), str(pages_dir / "rail.txt"), "-o", str(out),
                            *model_args])
    assert r.exit_code == 0, r.output
    assert [x["id"] for x in labelsfile.read_labels(out)] == ["rail.txt", "rail.txt#2"]


def test_model_name_of_the_shipped_model():
    from boilerclf import Extractor
    from boilerclf.labels.prefill import model_name

    name = model_name(Extractor(), "html")
    assert name.startswith("boilerclf-html.npz sha256:") and len(name.split(":")[1]) == 12
