"""``boilerclf clean`` as an attacker would use it: hostile file names and ids,
planted symbolic links, repeated ids under ``--resume``, memory held by the
main process, and the counts and messages of runs that fail half-way.

Every corpus is built in ``tmp_path`` from the fixture pages; the model is the
session's tiny model (conftest).
"""
from __future__ import annotations

import json
import os
from collections import deque
from functools import partial
from pathlib import Path

import pytest

from boilerclf import batch
from boilerclf.batch import engine
from boilerclf.batch.engine import Output, take_batch
from boilerclf.batch.pool import Pool, handle, prepare
from boilerclf.batch.writers import DirWriter, FileWriter, open_new
from boilerclf.processes import worker_main


def record(rid, html: str) -> str:
    return json.dumps({"id": rid, "html": html}) + "\n"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ writes outside --out

@pytest.mark.parametrize("name", ["...jsonl", "..jsonl", "....jsonl.gz", "...warc", "...html"])
def test_dotted_input_names_stay_inside_out(tmp_path, clean, name, lighthouse_html, library_html):
    c, v = tmp_path / "c", tmp_path / "v"
    c.mkdir()
    (v / "out").mkdir(parents=True)
    (v / "con.txt").write_text("precious\n")
    (v / "_.txt").write_text("precious too\n")
    if name.endswith((".jsonl", ".jsonl.gz")):
        data = record("con", "<p>x</p>").encode()
        if name.endswith(".gz"):
            import gzip
            data = gzip.compress(data)
        (c / name).write_bytes(data)
    elif name.endswith(".warc"):
        from test_batch import build_warc  # real-looking records, one of them corrupt
        build_warc(c / name, lighthouse_html, library_html, gz=False)
    else:
        (c / name).write_bytes(lighthouse_html)
    r = clean(c, "--out", v / "out")
    assert r.exit_code == (1 if name.endswith(".warc") else 0), r.output
    assert (v / "con.txt").read_text() == "precious\n"
    assert (v / "_.txt").read_text() == "precious too\n"
    assert sorted(tree(v)) == ["_.txt", "con.txt", *sorted("out/" + k for k in tree(v / "out"))]
    assert tree(v / "out")  # the pages were written, inside out


def test_dotted_name_in_a_subdirectory_does_not_collide(tmp_path, clean):
    c = tmp_path / "c"
    (c / "sub").mkdir(parents=True)
    (c / "sub" / "...jsonl").write_text(record("con", "<p>The first page of the crawl.</p>"))
    (c / "con.jsonl").write_text("")
    (c / "top.jsonl").write_text(record("x", "<p>A page at the top.</p>"))
    out = tmp_path / "out"
    r = clean(c, "--out", out)
    assert r.exit_code == 0, r.output
    assert "2 pages in: 2 cleaned" in r.stderr
    names = sorted(tree(out))
    assert len(names) == 2 and all(not n.startswith("con") for n in names), names
    assert any(n.startswith("sub/") for n in names)


def test_dir_writer_never_leaves_out_whatever_the_name(tmp_path):
    out = tmp_path / "out"
    w = DirWriter(out, ".txt")
    for rel in ("../evil", "a/../../evil", "/etc/evil", "./x", "a//b", ".."):
        page = batch.Page("id", "src", rel)
        w.assign(page)
        path = w.path(page).resolve()
        assert out.resolve() in path.parents, (rel, path)


def test_split_name_stems_are_safe():
    assert batch.split_name("...jsonl") == ("__", "jsonl", False)
    assert batch.split_name("sub/...jsonl")[0] == "sub/__"
    assert batch.split_name("..jsonl.gz") == ("_", "jsonl", True)
    assert batch.split_name("a.b.jsonl") == ("a.b", "jsonl", False)
    assert batch.split_name("..hidden.html")[0] == "..hidden"  # dots inside a real name stay


# ------------------------------------------------------------------ planted symbolic links

def test_planted_links_at_temporary_names_are_not_followed(tmp_path, clean):
    pages = tmp_path / "in"
    pages.mkdir()
    (pages / "a.html").write_text("<p>" + "A paragraph of the first page, long enough. " * 8 + "</p>")
    (pages / "b.html").write_bytes(b"\x1f\x8b\x08broken gzip")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".a.txt.tmp").symlink_to(victim)        # a page file's temporary name
    (out / "errors.jsonl.tmp").symlink_to(victim)  # the errors file's
    r = clean(pages, "--out", out)
    assert r.exit_code == 1, r.output  # b failed, a was cleaned
    assert victim.read_text() == "precious\n"
    assert (out / "a.txt").is_file() and not (out / "a.txt").is_symlink()
    assert json.loads((out / "errors.jsonl").read_text())["id"] == "b.html"

    jl = tmp_path / "o.jsonl"
    (tmp_path / "o.jsonl.tmp").symlink_to(victim)  # the JSONL output's
    r = clean(pages / "a.html", "-f", "jsonl", "--out", jl)
    assert r.exit_code == 0, r.output
    assert victim.read_text() == "precious\n"
    assert json.loads(jl.read_text())["id"] == "a.html"
    (tmp_path / "o.jsonl.tmp").symlink_to(victim)  # and with --resume
    r = clean(pages / "a.html", "-f", "jsonl", "--out", jl, "--resume")
    assert r.exit_code == 0, r.output
    assert victim.read_text() == "precious\n"


def test_open_new_refuses_a_link_planted_after_the_check(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    tmp = tmp_path / "x.tmp"
    real_unlink = os.unlink

    def unlink_then_plant(path, *a, **k):  # the race: a link appears between unlink and open
        real_unlink(path, *a, **k)
        os.symlink(victim, path)

    tmp.write_text("leftover")
    monkeypatch.setattr(os, "unlink", unlink_then_plant)
    with pytest.raises(OSError):
        open_new(tmp)
    assert victim.read_text() == "precious"


# ------------------------------------------------------------------ --resume with repeated ids

def test_resume_keeps_every_record_when_ids_repeat(tmp_path, clean):
    paras = ["The council voted on the harbour plan after a long debate on Tuesday.",
             "Residents said the new ferry timetable would change their mornings.",
             "The museum reopened its east wing with a show of local photographs."]
    recs = []
    for i in range(12):
        rid = "dup" if i in (2, 7) else ("" if i in (4, 9) else ("5" if i == 10 else f"p{i}"))
        recs.append(record(rid, f"<article><p>{paras[i % 3]} Story {i}.</p></article>"))
    src = tmp_path / "crawl.jsonl"
    src.write_text("".join(recs))
    ref = tmp_path / "ref.jsonl"
    assert clean(src, "-f", "jsonl", "--out", ref).exit_code == 0
    want = ref.read_bytes()
    assert want.count(b"\n") == 12
    out = tmp_path / "out.jsonl"
    lines = want.splitlines(keepends=True)
    for cut in (3, 5, 8, 11):  # stopped after the first occurrence of a repeated id, and later
        out.with_name("out.jsonl.tmp").write_bytes(b"".join(lines[:cut]) + b'{"id": "half')
        r = clean(src, "-f", "jsonl", "--out", out, "--resume")
        assert r.exit_code == 0, r.output
        assert f"{cut} skipped" in r.stderr
        assert out.read_bytes() == want, cut


# ------------------------------------------------------------------ memory of the main process

def test_main_process_holds_pages_by_bytes(tmp_path, clean, monkeypatch):
    pages = tmp_path / "in"
    pages.mkdir()
    for i in range(30):
        (pages / f"p{i:02}.html").write_text(
            f"<p>Page {i}: " + "a sentence of the article body, " * 400 + "</p>")
    monkeypatch.setattr(engine, "MAX_HELD_BYTES", 30_000)  # about two pages
    monkeypatch.setattr(engine, "MAX_BATCH_BYTES", 20_000)
    held = {"now": 0, "max": 0, "batch": 0}
    real_pages, real_put, real_submit = batch.Reader.pages, Output.put, Pool.submit

    def pages_spy(self, inputs):
        for p in real_pages(self, inputs):
            held["now"] += 1
            held["max"] = max(held["max"], held["now"])
            yield p

    def put_spy(self, page, res):
        held["now"] -= 1
        return real_put(self, page, res)

    def submit_spy(self, w, b):
        held["batch"] = max(held["batch"], len(b))
        return real_submit(self, w, b)

    monkeypatch.setattr(batch.Reader, "pages", pages_spy)
    monkeypatch.setattr(Output, "put", put_spy)
    monkeypatch.setattr(Pool, "submit", submit_spy)
    r = clean(pages, "--out", tmp_path / "out")
    assert r.exit_code == 0 and "30 pages in: 30 cleaned" in r.stderr, r.output
    assert held["max"] <= 3, held  # not 4 x jobs x batch size = 64
    assert held["batch"] == 1, held


def test_take_batch_bounds_bytes_but_takes_one_page_at_least():
    big = batch.Page("a", "s", "a", data=b"x" * (engine.MAX_BATCH_BYTES + 10))
    small = [batch.Page(str(i), "s", str(i), data=b"y" * 100) for i in range(5)]
    q = deque([big, *small])
    assert take_batch(q, 16) == [big]
    assert take_batch(q, 3) == small[:3]
    assert take_batch(q, 16) == small[3:] and not q


# ------------------------------------------------------------------ counts and messages

def test_counts_add_up_after_a_write_failure(tmp_path, clean, monkeypatch):
    pages = tmp_path / "in"
    pages.mkdir()
    for i in range(6):
        (pages / f"p{i}.html").write_text(f"<p>Page {i}: " + "words of the story go here. " * 20 + "</p>")
    real = FileWriter.write
    n = {"calls": 0}

    def fail_fourth(self, page, text):
        n["calls"] += 1
        if n["calls"] == 4:
            self.f.write(text.encode()[:10])  # half a record reaches the file
            raise OSError(28, "No space left on device")
        return real(self, page, text)

    monkeypatch.setattr(FileWriter, "write", fail_fourth)
    out = tmp_path / "o.jsonl"
    r = clean(pages, "-f", "jsonl", "--out", out)
    assert r.exit_code == 2
    summary = [ln for ln in r.stderr.splitlines() if "pages in" in ln][0]
    assert summary.startswith("3 pages in: 3 cleaned, 0 empty, 0 failed"), summary
    assert "the 3 records written before it are complete" in r.stderr
    tmp = out.with_name("o.jsonl.tmp")
    assert [json.loads(x)["id"] for x in tmp.read_text().splitlines()] == ["p0.html", "p1.html", "p2.html"]


def test_lone_surrogate_ids_give_valid_utf8(tmp_path, clean):
    src = tmp_path / "c.jsonl"
    src.write_text('{"id": "a\\ud800b", "html": "<p>Some article text that is long enough.</p>"}\n'
                   '{"id": "bad\\udfff", "html": 7}\n')
    for args in (("-f", "jsonl", "--out", tmp_path / "o.jsonl"), ("-f", "jsonl"), ("--out", tmp_path / "t")):
        r = clean(src, *args)
        assert r.exit_code == 1, r.output
    data = (tmp_path / "o.jsonl").read_bytes()
    assert json.loads(data.decode("utf-8"))["id"] == "a\ufffdb"
    errs = (tmp_path / "o.errors.jsonl").read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert json.loads(errs)["id"] == "bad\ufffd"
    assert r.stdout_bytes == b""
    for p in (tmp_path / "t").rglob("*"):
        if p.is_file():
            p.read_bytes().decode("utf-8")


def test_worker_ends_quietly_when_the_main_process_is_gone(tiny_extractor, capsys):
    class GonePipe:
        def __init__(self):
            self.sent = []

        def send(self, msg):
            if msg[0] == "stage":
                raise BrokenPipeError(32, "Broken pipe")
            self.sent.append(msg)

        def recv(self):
            return [(0, "<p>Hello there, a page.</p>", "html", None, ("id", None, "s"), False, False)]

    conn = GonePipe()
    worker_main(conn, partial(prepare, tiny_extractor, ("html",)),
                partial(handle, fmt="txt", with_lines=False))  # returns, no traceback
    assert conn.sent == [("ready",)]


def test_missing_file_among_others_is_one_failed_page(tmp_path, clean, lighthouse_html):
    (tmp_path / "a.html").write_bytes(lighthouse_html)
    r = clean(tmp_path / "a.html", tmp_path / "gone.html", "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    assert (tmp_path / "out" / "a.txt").is_file()
    (err,) = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert err["reason"] == "cannot read file: No such file or directory"
    assert "gone.html: cannot read file" in r.stderr and "[gone.html]" not in r.stderr
    r = clean(tmp_path / "gone.html", tmp_path / "gone2.html")
    assert r.exit_code == 2 and "no such file or directory" in r.stderr


def test_stdout_runs_leave_no_errors_file_behind(tmp_path, clean, lighthouse_html):
    (tmp_path / "a.html").write_bytes(lighthouse_html)
    (tmp_path / "b.html.gz").write_bytes(b"\x1f\x8b\x08 not really gzip")
    for quiet in ((), ("--quiet",)):
        r = clean(tmp_path / "a.html", tmp_path / "b.html.gz", *quiet)
        assert r.exit_code == 1
        assert "b.html.gz: truncated or corrupt gzip" in r.stderr
        assert not (tmp_path / "errors.jsonl").exists()
    r = clean(tmp_path / "b.html.gz", "--errors", tmp_path / "e.jsonl")
    assert json.loads((tmp_path / "e.jsonl").read_text())["id"] == "b.html.gz"
