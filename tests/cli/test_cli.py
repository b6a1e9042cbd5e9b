"""The ``boilerclf`` command line (typer CliRunner, plus one real subprocess run)."""
from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import boilerclf
from boilerclf import Extractor, metrics
from boilerclf.cli import app
from boilerclf.metrics import snippet_accuracy
from boilerclf.parse.html import html_lines

runner = CliRunner()


@pytest.fixture
def model_args(tiny_models):
    return ["--model", str(tiny_models[0]), "--text-model", str(tiny_models[1])]


@pytest.fixture
def pages_dir(tmp_path, lighthouse_html, library_html, rail_text):
    d = tmp_path / "pages"
    d.mkdir()
    (d / "lighthouse.html").write_bytes(lighthouse_html)
    (d / "library.html").write_bytes(library_html)
    (d / "rail.txt").write_text(rail_text, encoding="utf-8")
    return d


def test_no_args_shows_help():
    r = runner.invoke(app, [])
    assert "clean" in r.output and "eval" in r.output


def test_clean_one_file(pages_dir, model_args, tiny_extractor, lighthouse_html):
    r = runner.invoke(app, ["clean", str(pages_dir / "lighthouse.html"), *model_args])
    assert r.exit_code == 0, r.output
    expected = tiny_extractor.extract(lighthouse_html)
    assert expected  # the tiny model keeps something
    assert r.stdout == expected + "\n"
    assert "==>" not in r.stdout


def test_clean_stdin(model_args, tiny_extractor, rail_text):
    r = runner.invoke(app, ["clean", "-", *model_args], input=rail_text.encode("utf-8"))
    assert r.exit_code == 0, r.output
    assert r.stdout == tiny_extractor.extract(rail_text) + "\n"


def test_clean_stdin_to_out(tmp_path, model_args, tiny_extractor, rail_text):
    out = tmp_path / "o"
    r = runner.invoke(app, ["clean", "-", "-o", str(out), *model_args], input=rail_text.encode("utf-8"))
    assert r.exit_code == 0, r.output
    assert [p.name for p in out.iterdir()] == ["stdin.txt"]
    assert (out / "stdin.txt").read_text(encoding="utf-8") == tiny_extractor.extract(rail_text) + "\n"


def test_clean_kind_option(pages_dir, model_args, tiny_extractor, rail_text):
    r = runner.invoke(app, ["clean", str(pages_dir / "rail.txt"), "--kind", "html", *model_args])
    assert r.exit_code == 0, r.output
    assert r.stdout == tiny_extractor.extract(rail_text, "html") + "\n"


def test_clean_threshold_option(pages_dir, model_args):
    r = runner.invoke(app, ["clean", str(pages_dir / "lighthouse.html"), "--threshold", "0", *model_args])
    assert r.exit_code == 0, r.output
    assert "Privacy policy" in r.stdout and "Politics" in r.stdout  # everything kept
    r = runner.invoke(app, ["clean", str(pages_dir / "lighthouse.html"), "--threshold", "1", *model_args])
    assert r.exit_code == 0, r.output
    assert "Privacy policy" not in r.stdout  # only lines scored 1 kept
    r = runner.invoke(app, ["clean", str(pages_dir / "lighthouse.html"), "--threshold", "1.01", *model_args])
    assert r.exit_code == 2 and r.stdout == ""  # over 1: a usage error, not an empty output


@pytest.mark.parametrize("spec", ["auto", "auto:3", "recall"])
def test_clean_threshold_auto(pages_dir, model_args, tiny_models, spec):
    r = runner.invoke(app, ["clean", str(pages_dir / "lighthouse.html"), "--threshold", spec, *model_args])
    assert r.exit_code == 0, r.output
    ex = boilerclf.Extractor(model=tiny_models[0], text_model=tiny_models[1], threshold=spec)
    want = ex.extract((pages_dir / "lighthouse.html").read_bytes())
    assert want and r.stdout == want + "\n"


def test_clean_several_files_prints_headers(pages_dir, model_args):
    r = runner.invoke(app, ["clean", str(pages_dir / "lighthouse.html"), str(pages_dir / "library.html"),
                            *model_args])
    assert r.exit_code == 0, r.output
    assert r.stdout.index("==> lighthouse.html <==") < r.stdout.index("==> library.html <==")


def test_clean_directory_to_out(tmp_path, pages_dir, model_args, tiny_extractor):
    sub = pages_dir / "sub"
    sub.mkdir()
    (sub / "nested.html").write_bytes((pages_dir / "library.html").read_bytes())
    out = tmp_path / "out"
    r = runner.invoke(app, ["clean", str(pages_dir), "--out", str(out), *model_args])
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert len(written) == 4  # one .txt per page, nothing else (no temp files)
    assert all(w.endswith(".txt") for w in written)
    assert "lighthouse.txt" in written and "library.txt" in written and "sub/nested.txt" in written
    for name, src in (("lighthouse.txt", "lighthouse.html"), ("library.txt", "library.html"),
                      ("sub/nested.txt", "sub/nested.html")):
        got = (out / name).read_text(encoding="utf-8")
        assert got == tiny_extractor.extract((pages_dir / src).read_bytes()) + "\n"


def test_clean_missing_path_is_an_error(tmp_path, model_args):
    r = runner.invoke(app, ["clean", str(tmp_path / "nope.html"), *model_args])
    assert r.exit_code == 2
    assert "no such file or directory" in r.stderr


def test_clean_bad_model_is_an_error(pages_dir, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"\x00garbage" * 50)
    r = runner.invoke(app, ["clean", str(pages_dir / "lighthouse.html"), "--model", str(bad)])
    assert r.exit_code == 2
    assert "error:" in r.stderr and "bad.npz" in r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit)


def test_clean_bad_kind_is_an_error(pages_dir, model_args):
    r = runner.invoke(app, ["clean", str(pages_dir / "lighthouse.html"), "--kind", "pdf", *model_args])
    assert r.exit_code == 2
    assert "kind" in r.stderr


@pytest.mark.parametrize("spec", ["strict", "auto:0", "auto:many"])
def test_clean_bad_threshold_is_an_error(pages_dir, model_args, spec):
    r = runner.invoke(app, ["clean", str(pages_dir / "lighthouse.html"), "--threshold", spec, *model_args])
    assert r.exit_code != 0
    assert "threshold" in r.stderr and "precision" in r.stderr and "auto" in r.stderr


# ------------------------------------------------------------------ eval

@pytest.fixture
def dataset(tmp_path, lighthouse_html, library_html, rail_html, lighthouse_gold, library_gold, rail_gold):
    d = tmp_path / "tinyset"
    (d / "html").mkdir(parents=True)
    pages = {"p1": (lighthouse_html, lighthouse_gold), "p2": (library_html, library_gold),
             "p3": (rail_html.encode("utf-8"), rail_gold)}
    for pid, (html, _) in pages.items():
        with gzip.open(d / "html" / f"{pid}.html.gz", "wb") as f:
            f.write(html)
    (d / "ground-truth.json").write_text(json.dumps({pid: {"articleBody": g} for pid, (_, g) in pages.items()}))
    return d, pages


def test_eval_matches_metrics(dataset, tiny_models, tmp_path):
    d, pages = dataset
    pred_out = tmp_path / "pred.json"
    r = runner.invoke(app, ["eval", str(d), "--model", str(tiny_models[0]), "--pred-out", str(pred_out)])
    assert r.exit_code == 0, r.output
    m = re.search(r"tinyset: precision (\d\.\d{3})\s+recall (\d\.\d{3})\s+F1 (\d\.\d{3})\s+\((\d+) pages\)",
                  r.stdout)
    assert m, r.stdout
    ex = Extractor(model=tiny_models[0])
    pred = {pid: ex.extract(html, "html") for pid, (html, _) in pages.items()}
    want = metrics.evaluate({pid: g for pid, (_, g) in pages.items()}, pred)
    assert m.group(1) == f"{want['precision']:.3f}"
    assert m.group(2) == f"{want['recall']:.3f}"
    assert m.group(3) == f"{want['f1']:.3f}"
    assert m.group(4) == "3"
    assert json.loads(pred_out.read_text()) == {k: {"articleBody": v} for k, v in pred.items()}


def test_eval_threshold_zero_keeps_everything(dataset, tiny_models):
    d, pages = dataset
    r = runner.invoke(app, ["eval", str(d), "--model", str(tiny_models[0]), "--threshold", "0", "--include-title"])
    assert r.exit_code == 0, r.output
    # every line kept: the prediction is the whole page
    pred = {pid: "\n".join(html_lines(html).texts) for pid, (html, _) in pages.items()}
    want = metrics.evaluate({pid: g for pid, (_, g) in pages.items()}, pred)
    assert f"precision {want['precision']:.3f}  recall {want['recall']:.3f}" in r.stdout
    assert want["recall"] > 0.95 and want["precision"] < 0.9


def test_eval_snippets(dataset, tiny_models, lighthouse_gold):
    d, _ = dataset
    (d / "ground-truth.json").unlink()
    para = lighthouse_gold.splitlines()[1]
    (d / "snippets.json").write_text(json.dumps(
        {"p1": {"with": [para], "without": ["Leave a Reply", "Privacy policy"]}}))
    r = runner.invoke(app, ["eval", str(d), "--model", str(tiny_models[0])])
    assert r.exit_code == 0, r.output
    assert "snippet accuracy 1.000 (3 snippets)" in r.stdout


def test_snippet_accuracy():
    m = snippet_accuracy({"a": {"with": ["x y"], "without": ["z"]}, "b": {"with": ["q"]}},
                         {"a": "w x y", "b": "nothing"})
    assert m == {"snippet_accuracy": 2 / 3, "n_snippets": 3}


# ------------------------------------------------------------------ console script

def _console_script() -> str:
    exe = Path(sys.executable).with_name("boilerclf")
    if exe.is_file():
        return str(exe)
    found = shutil.which("boilerclf")
    if not found:
        pytest.fail("the `boilerclf` console script is not installed (pip install -e '.[test]')")
    return found


def test_console_script_clean(pages_dir, tiny_models, tiny_extractor, lighthouse_html):
    proc = subprocess.run(
        [_console_script(), "clean", str(pages_dir / "lighthouse.html"),
         "--model", str(tiny_models[0]), "--text-model", str(tiny_models[1])],
        capture_output=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode("utf-8") == tiny_extractor.extract(lighthouse_html) + "\n"


def test_clean_comments_option_keeps_the_comment_thread_to_the_model(tmp_path, model_args):
    from pages import COMMENTS, PARAS
    from pages import blog as _blog

    page = tmp_path / "blog.html"
    page.write_text(_blog("id='comments'"), encoding="utf-8")
    # a threshold just above the cap: the tiny model keeps the comments unless the rule caps them
    r = runner.invoke(app, ["clean", str(page), "--threshold", "0.06", *model_args])
    assert r.exit_code == 0, r.output
    assert all(p in r.stdout for p in PARAS) and not any(c in r.stdout for c in COMMENTS)
    r = runner.invoke(app, ["clean", str(page), "--threshold", "0.06", "--comments", *model_args])
    assert r.exit_code == 0, r.output
    assert all(c in r.stdout for c in COMMENTS)


def test_eval_says_when_the_model_was_trained_on_the_set(dataset, tiny_models, tiny_fitted, tmp_path):
    from boilerclf.model import files as model_mod

    d, _ = dataset
    r = runner.invoke(app, ["eval", str(d), "--model", str(tiny_models[0])])
    assert r.exit_code == 0 and "not a score on unseen pages" not in r.stderr
    seen = tmp_path / "seen.npz"
    model_mod.save(tiny_fitted[0], seen, kind="html", trained="test", train_sets=["other", "tinyset"])
    r = runner.invoke(app, ["eval", str(d), "--model", str(seen)])
    assert r.exit_code == 0, r.output
    assert "trained on tinyset's pages" in r.stderr and "tinyset: precision" in r.stdout
