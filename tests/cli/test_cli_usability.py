"""What a new user of the command line meets first: help, --version, bad thresholds,
files that are not pages, a slow installation."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from importlib.metadata import version

import pytest
from typer.testing import CliRunner

import boilerclf
from boilerclf import InputError
from boilerclf.cli import app
from boilerclf.parse import html as html_mod

runner = CliRunner()

COMMANDS = [[], ["clean"], ["label"], ["review"], ["eval"], ["train"], ["profile"], ["convert-model"]]
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(2000)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" + bytes(100)


@pytest.fixture
def model_args(tiny_models):
    return ["--model", str(tiny_models[0]), "--text-model", str(tiny_models[1])]


# ------------------------------------------------------------------ help

@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "boilerclf")
def test_help_points_at_nothing_a_user_lacks(cmd):
    r = runner.invoke(app, [*cmd, "--help"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.stdout.split())
    assert text.startswith("Usage: ")
    for bad in ("../shared", "shared/", "LODO", "<bool>", "the card", "score.py", "gold"):
        assert bad not in text, (bad, cmd)


def test_help_keeps_brackets():
    text = " ".join(runner.invoke(app, ["clean", "--help"]).stdout.split())
    assert "pip install 'boilerclf[dask]'" in text
    assert "*.jsonl[.gz]" in text and "local[:N]" in text


def _is_bool(p) -> bool:
    desc = getattr(p, "type_descriptor", None)  # typer's own parameters
    if desc is not None:
        return desc.annotation is bool
    return type(getattr(p, "type", None)).__name__ == "BoolParamType"  # click's


def test_every_option_has_help_and_booleans_are_flags():
    import typer

    group = typer.main.get_command(app)
    flags = 0
    for name, cmd in group.commands.items():
        assert cmd.help and cmd.short_help, name
        for p in cmd.params:
            assert getattr(p, "help", None), (name, p.name)
            if _is_bool(p):
                assert p.is_flag, (name, p.name)  # --resume, not --resume true
                flags += 1
    assert flags >= 15


def test_train_help_spells_out_leave_one_dataset_out():
    text = " ".join(runner.invoke(app, ["train", "--help"]).stdout.split())
    assert "leave-one-dataset-out" in text and "model card (MODEL_CARD.md" in text


# ------------------------------------------------------------------ --version

def test_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0
    assert r.stdout == f"boilerclf {version('boilerclf')}\n"


def test_version_in_a_real_process():
    r = subprocess.run([sys.executable, "-m", "boilerclf.cli", "--version"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"boilerclf {version('boilerclf')}"


# ------------------------------------------------------------------ thresholds

@pytest.mark.parametrize("bad", ["1.5", "-0.1", "nan", "inf", "1.01", "strict"])
def test_threshold_outside_0_to_1_is_a_usage_error(tmp_path, model_args, bad):
    page = tmp_path / "p.html"
    page.write_text("<p>A paragraph of words.</p>")
    (tmp_path / "ds" / "html").mkdir(parents=True)
    for cmd in (["clean", str(page)], ["label", str(page), "-o", str(tmp_path / "l.jsonl")],
                ["eval", str(tmp_path / "ds")], ["review", str(page), "--no-browser"]):
        r = runner.invoke(app, [*cmd, f"--threshold={bad}", *model_args[:2]])
        assert r.exit_code == 2, (cmd, r.output)
        assert r.stdout == ""
        assert r.stderr.startswith("error: --threshold must be a number from 0 to 1")
        assert r.stderr.count("\n") == 1 and repr(bad) in r.stderr
    assert not (tmp_path / "l.jsonl").exists()


@pytest.mark.parametrize("good", ["0", "1", "0.35", "auto", "auto:2", "precision", "balanced", "recall"])
def test_thresholds_from_0_to_1_and_presets_still_work(tmp_path, model_args, good):
    page = tmp_path / "p.html"
    page.write_text("<p>A paragraph of words.</p>")
    r = runner.invoke(app, ["clean", str(page), "--threshold", good, "-j", "1", *model_args])
    assert r.exit_code == 0, r.output


# ------------------------------------------------------------------ not pages

def test_files_that_are_not_pages_fail_one_by_one(tmp_path, model_args, lighthouse_html):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a-page.html").write_bytes(lighthouse_html)
    (d / "b-program").write_bytes(ELF)
    (d / "c-paper.pdf").write_bytes(PDF)
    (d / "d-double.html.gz").write_bytes(gzip.compress(gzip.compress(lighthouse_html)))
    (d / "e-page.html.gz").write_bytes(gzip.compress(lighthouse_html))
    errors = tmp_path / "errors.jsonl"
    r = runner.invoke(app, ["clean", str(d), "-j", "1", "--errors", str(errors), *model_args])
    assert r.exit_code == 1, r.output  # some pages failed
    assert "\x00" not in r.stdout and "%PDF" not in r.stdout and "ELF" not in r.stdout
    assert r.stdout.count("==> ") == 2  # the two real pages
    failed = {rec["id"]: rec for rec in map(json.loads, errors.read_text().splitlines())}
    assert sorted(failed) == ["b-program", "c-paper.pdf", "d-double.html.gz"]
    want = {"b-program": "looks like an ELF executable or library",
            "c-paper.pdf": "looks like a PDF document",
            "d-double.html.gz": "looks like gzip-compressed data; decompress it first"}
    for pid, what in want.items():
        assert f"not a text or HTML page ({what})" in failed[pid]["reason"]
        assert f"not a text or HTML page ({what})" in r.stderr


def test_library_refuses_a_pdf_consistently(tiny_extractor):
    for call in (lambda: boilerclf.extract(PDF), lambda: boilerclf.classify(PDF),
                 lambda: tiny_extractor.extract(PDF, "text"), lambda: tiny_extractor.lines(PDF),
                 lambda: boilerclf.html_lines(PDF), lambda: boilerclf.text_lines(PDF)):
        with pytest.raises(InputError, match=r"^not a text or HTML page \(looks like a PDF document\)$"):
            call()
    assert isinstance(tiny_extractor.extract(PDF.decode("latin-1")), str)  # str input is text by definition


# ------------------------------------------------------------------ slow installation

def test_slow_path_is_one_line_on_stderr(tmp_path, model_args, monkeypatch):
    monkeypatch.setattr(html_mod, "slow_reason", "the compiled HTML walker cannot read selectolax 0.3.21's "
                        "lexbor: the check crashed (signal 11)")
    monkeypatch.setattr(html_mod, "slow_warned", False)
    page = tmp_path / "p.html"
    page.write_text("<p>A paragraph of words.</p>")
    r = runner.invoke(app, ["clean", str(page), "-j", "1", "-q", *model_args])
    assert r.exit_code == 0, r.output
    warned = [ln for ln in r.stderr.splitlines() if "2x slower" in ln]
    assert warned == ["warning: boilerclf runs about 2x slower: the compiled HTML walker cannot read "
                      "selectolax 0.3.21's lexbor: the check crashed (signal 11)"]


def test_no_slow_path_line_when_fast(tmp_path, model_args, monkeypatch):
    monkeypatch.setattr(html_mod, "slow_reason", None)
    page = tmp_path / "p.html"
    page.write_text("<p>A paragraph of words.</p>")
    r = runner.invoke(app, ["clean", str(page), "-j", "1", "-q", *model_args])
    assert r.exit_code == 0 and "slower" not in r.stderr
