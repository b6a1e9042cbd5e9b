"""``boilerclf clean`` never harms the user's files.

Outputs are never read back as inputs, every page file is written whole or not
at all, and a full disk or a permission error stops the run with one line and
exit code 2 (no traceback), the pages written before it intact.  The full disk
is simulated by a file object that fails half-way through a write (and, for
standard output, by the real /dev/full).
"""
from __future__ import annotations

import builtins
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boilerclf.batch import writers
from boilerclf.cli import app

runner = CliRunner()


@pytest.fixture
def clean(clean):
    """The batch tests' ``clean``, quiet."""
    return lambda *args: clean(*args, "--quiet")


@pytest.fixture
def pages(tmp_path, lighthouse_html, library_html, rail_html):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.html").write_bytes(lighthouse_html)
    (d / "b.html").write_bytes(library_html)
    (d / "c.html").write_text(rail_html, encoding="utf-8")
    return d


class _FailingFile:
    """A real file that writes half of what it is given, then fails like a full disk."""

    def __init__(self, f, error: int):
        self.f, self.error = f, error

    def write(self, data):
        self.f.write(data[: len(data) // 2])
        self.f.flush()
        raise OSError(self.error, os.strerror(self.error))

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def fail_writes(monkeypatch, match, error=errno.ENOSPC, after: int = 0):
    """Make batch's writes to files whose name satisfies ``match`` fail (after ``after`` writes)."""
    real_open = builtins.open
    count = {"n": 0}

    def fake_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if ("w" in mode or "a" in mode) and match(Path(file).name):
            if count["n"] >= after:
                return _FailingFile(f, error)
            count["n"] += 1
        return f

    monkeypatch.setattr(writers, "open", fake_open, raising=False)


def no_traceback(r):
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit), r.exception  # a clean exit, not an exception
    assert "Traceback" not in r.output


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*.tmp"))


# ------------------------------------------------------------------ full disk, permissions


def test_full_disk_keeps_earlier_pages_and_the_old_file(tmp_path, pages, clean, tiny_extractor,
                                                        lighthouse_html, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.txt").write_text("an earlier run's output\n")
    fail_writes(monkeypatch, lambda name: name == ".b.txt.tmp")
    r = clean(pages, "--out", out)
    no_traceback(r)
    assert "No space left on device" in r.stderr and str(out / "b.txt") in r.stderr
    assert "1 pages written before it are complete" in r.stderr and "--resume" in r.stderr
    assert (out / "a.txt").read_text() == tiny_extractor.extract(lighthouse_html) + "\n"
    assert (out / "b.txt").read_text() == "an earlier run's output\n"  # not half-overwritten
    assert not (out / "c.txt").exists() and leftovers(out) == []


def test_full_disk_in_jsonl_then_resume(tmp_path, pages, clean, monkeypatch):
    out = tmp_path / "clean.jsonl"
    out.write_text('{"id": "from an earlier run"}\n')
    fail_writes(monkeypatch, lambda name: name == "clean.jsonl.tmp", after=1)
    monkeypatch.setattr(writers.FileWriter, "write", _unbuffered_write)
    r = clean(pages, "-f", "jsonl", "--out", out)
    no_traceback(r)
    assert "No space left on device" in r.stderr and "clean.jsonl.tmp" in r.stderr
    assert out.read_text() == '{"id": "from an earlier run"}\n'  # the old output is untouched
    monkeypatch.undo()
    r = clean(pages, "-f", "jsonl", "--out", out, "--resume")
    assert r.exit_code == 0, r.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a.html", "b.html", "c.html"]
    assert not out.with_name("clean.jsonl.tmp").exists()


def _unbuffered_write(self, page, text):
    """FileWriter.write through a fresh file object per record, so the fake can fail one."""
    self.f.flush()
    with writers.open(self.tmp, "ab") as f:  # the failing open of fail_writes
        f.write(text.encode("utf-8"))


def test_permission_denied_on_the_output_directory(tmp_path, pages, clean, monkeypatch):
    out = tmp_path / "out"
    fail_writes(monkeypatch, lambda name: name.endswith(".txt.tmp"), error=errno.EACCES)
    r = clean(pages, "--out", out)
    no_traceback(r)
    assert "Permission denied" in r.stderr
    assert leftovers(out) == [] and not list(out.glob("*.txt"))


def test_unwritable_output_path(tmp_path, pages, clean):
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory")
    r = clean(pages, "-f", "jsonl", "--out", blocker / "clean.jsonl")
    no_traceback(r)
    assert "cannot write --out" in r.stderr
    assert blocker.read_text() == "a file, not a directory"


def test_unwritable_errors_file(tmp_path, pages, clean, monkeypatch):
    (pages / "bad.html.gz").write_bytes(b"\x1f\x8b\x08\x00broken")
    fail_writes(monkeypatch, lambda name: name == "errors.jsonl.tmp")
    r = clean(pages, "--out", tmp_path / "out")
    no_traceback(r)
    assert "cannot write the errors file" in r.stderr


def test_stdout_to_a_full_device(tiny_models, lighthouse_html, tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    page = tmp_path / "page.html"
    page.write_bytes(lighthouse_html * 20)
    with open("/dev/full", "wb") as full:
        p = subprocess.run([sys.executable, "-m", "boilerclf.cli", "clean", str(page), "--jobs", "1",
                            "--model", str(tiny_models[0]), "--text-model", str(tiny_models[1])],
                           stdout=full, stderr=subprocess.PIPE, text=True, timeout=120,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert p.returncode == 2, p.stderr
    assert "No space left on device" in p.stderr and "Traceback" not in p.stderr
    assert "Exception ignored" not in p.stderr


# ------------------------------------------------------------------ outputs are never inputs


def test_links_into_the_output_are_not_followed(tmp_path, pages, clean, lighthouse_html):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.html").write_bytes(lighthouse_html)  # something already in the output
    (pages / "into-out").symlink_to(out, target_is_directory=True)
    (pages / "errors-link.jsonl").symlink_to(out / "errors.jsonl")
    r = clean(pages, "--out", out)
    assert r.exit_code == 0, r.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.txt")) == ["a.txt", "b.txt", "c.txt"]


def test_links_elsewhere_are_still_followed(tmp_path, pages, clean, lighthouse_html):
    other = tmp_path / "other"
    other.mkdir()
    (other / "d.html").write_bytes(lighthouse_html)
    (pages / "more").symlink_to(other, target_is_directory=True)
    r = clean(pages, "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "more" / "d.txt").is_file()


def test_rerun_over_its_own_output_is_refused(tmp_path, pages, clean):
    out = tmp_path / "out"
    assert clean(pages, "--out", out).exit_code == 0
    for args in ([out, "--out", out], [pages, out, "--out", out], [out, "--out", out / "again"],
                 [pages, "--out", pages / "out"]):
        r = clean(*args)
        assert r.exit_code == 2 and "inputs are never overwritten" in r.stderr, args


def test_writes_are_atomic(tmp_path, pages, clean, monkeypatch):
    """Each page file appears whole: it is renamed into place, never written in place."""
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src).name, Path(dst).name, Path(src).read_bytes()))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    out = tmp_path / "out"
    assert clean(pages, "--out", out).exit_code == 0
    assert [(s, d) for s, d, _ in seen] == [(f".{n}.txt.tmp", f"{n}.txt") for n in "abc"]
    for _, d, data in seen:
        assert (out / d).read_bytes() == data


# ------------------------------------------------------------------ limits from the command line


def test_max_bytes_and_max_nodes_options(tmp_path, pages, clean):
    out = tmp_path / "o.jsonl"
    r = clean(pages, "-f", "jsonl", "--out", out, "--max-bytes", "2500")
    assert r.exit_code == 0, r.output
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    assert all(rec["truncated"] for rec in recs)
    full = tmp_path / "full.jsonl"
    assert clean(pages, "-f", "jsonl", "--out", full).exit_code == 0
    whole = [json.loads(x) for x in full.read_text().splitlines()]
    assert not any(rec["truncated"] for rec in whole)
    assert all(a["counts"]["lines"] < b["counts"]["lines"] for a, b in zip(recs, whole))
    r = clean(pages, "-f", "jsonl", "--out", tmp_path / "n.jsonl", "--max-nodes", "50")
    assert r.exit_code == 0
    assert all(json.loads(x)["truncated"] for x in (tmp_path / "n.jsonl").read_text().splitlines())


@pytest.mark.parametrize("args", [["--max-bytes", "0"], ["--max-nodes", "-5"], ["--max-bytes", "x"]])
def test_bad_limits_are_usage_errors(pages, clean, args):
    r = clean(pages, *args)
    assert r.exit_code == 2


def test_summary_counts_truncated_pages(tmp_path, pages, tiny_models):
    r = runner.invoke(app, ["clean", str(pages), "--jobs", "1", "--out", str(tmp_path / "o"),
                            "--max-bytes", "2500", "--model", str(tiny_models[0]),
                            "--text-model", str(tiny_models[1])])
    assert r.exit_code == 0
    assert "3 truncated" in r.stderr
