"""Batch cleaning (``boilerclf clean``): inputs, outputs, failures, resume, parallelism.

Every corpus is built here in ``tmp_path`` from the hand-written fixture pages;
the model is the session's tiny model (conftest).  Most runs go through
typer's CliRunner; the interrupted runs are real ``boilerclf clean``
subprocesses, killed mid-run.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from boilerclf import batch
from boilerclf import processes as pool
from boilerclf.batch.render import to_markdown
from boilerclf.cli import app
from boilerclf.pipeline import Line, Result

runner = CliRunner()


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------ corpora

@pytest.fixture
def tree(tmp_path, lighthouse_html, library_html, rail_text, rail_html):
    """A directory tree: .html, .htm, .html.gz and a plain-text .txt page."""
    d = tmp_path / "in"
    (d / "news" / "2024").mkdir(parents=True)
    (d / "notes").mkdir()
    (d / "lighthouse.html").write_bytes(lighthouse_html)
    (d / "news" / "library.htm").write_bytes(library_html)
    (d / "news" / "2024" / "rail.html.gz").write_bytes(gzip.compress(rail_html.encode("utf-8")))
    (d / "notes" / "rail.txt").write_text(rail_text, encoding="utf-8")
    return d


@pytest.fixture
def tree_expected(tiny_extractor, lighthouse_html, library_html, rail_text, rail_html):
    return {
        "lighthouse.txt": tiny_extractor.extract(lighthouse_html),
        "news/library.txt": tiny_extractor.extract(library_html),
        "news/2024/rail.txt": tiny_extractor.extract(rail_html),
        "notes/rail.txt": tiny_extractor.extract(rail_text),  # detected as plain text
    }


def _warc_response(w: WARCWriter, url: str, body: bytes, ctype: str) -> None:
    http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
    w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))


CAFE_PAGE = ("<html><head><title>Caf\u00e9 news</title></head><body><h1>Caf\u00e9 cr\u00e8me</h1>"
             "<p>Le caf\u00e9 cr\u00e8me co\u00fbte deux euros \u00e0 la gare, a price the town council "
             "has kept since the station reopened.</p></body></html>")


def build_warc(path: Path, lighthouse_html: bytes, library_html: bytes, *, gz: bool) -> list[str]:
    """A WARC (written with warcio) with a corrupt record, non-HTML records, and
    a cp1252 page whose charset is only in the HTTP header.  Returns the URLs of
    the HTML responses that must come out."""
    def record(fn) -> bytes:
        buf = io.BytesIO()
        fn(WARCWriter(buf, gzip=gz))
        return buf.getvalue()

    parts = [
        record(lambda w: w.write_record(w.create_warc_record(
            "http://news.example/", "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")))),
        record(lambda w: _warc_response(w, "http://news.example/lighthouse", lighthouse_html,
                                        "text/html; charset=utf-8")),
        record(lambda w: _warc_response(w, "http://news.example/logo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
                                        "image/png")),
        # a corrupt record: a broken gzip member / a WARC header without type or length
        (b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4) if gz
        else b"WARC/1.0\r\nthis is not a header\r\n\r\ngarbage garbage\r\n\r\n",
        record(lambda w: _warc_response(w, "http://news.example/cafe", CAFE_PAGE.encode("cp1252"),
                                        "text/html; charset=windows-1252")),
        record(lambda w: _warc_response(w, "http://news.example/library", library_html, "text/html")),
    ]
    path.write_bytes(b"".join(parts))
    return ["http://news.example/lighthouse", "http://news.example/cafe", "http://news.example/library"]


# ------------------------------------------------------------------ directory trees

def test_directory_tree_to_txt(tmp_path, tree, tree_expected, clean):
    out = tmp_path / "out"
    r = clean(tree, "--out", out)
    assert r.exit_code == 0, r.output
    got = files(out)
    assert got == {k: (v + "\n").encode("utf-8") for k, v in tree_expected.items()}
    assert all(tree_expected.values())  # the tiny model keeps something on every page
    assert "4 pages in: 4 cleaned, 0 empty, 0 failed" in r.stderr
    assert not (out / "errors.jsonl").exists()


def test_glob_filters_directory_walk(tmp_path, tree, clean):
    out = tmp_path / "out"
    r = clean(tree, "--out", out, "--glob", "*.htm*", "--glob", "news/**/*.gz")
    assert r.exit_code == 0, r.output
    assert sorted(files(out)) == ["lighthouse.txt", "news/2024/rail.txt", "news/library.txt"]


def test_stdout_headers_and_single_page(tree, tree_expected, clean):
    r = clean(tree)
    assert r.exit_code == 0, r.output
    assert r.stdout.count("==> ") == 4
    assert f"==> news/library.htm <==\n{tree_expected['news/library.txt']}\n" in r.stdout
    r = clean(tree / "lighthouse.html")
    assert r.exit_code == 0 and r.stdout == tree_expected["lighthouse.txt"] + "\n"


def test_markdown_keeps_headings_and_lists(tmp_path, clean):
    d = tmp_path / "md"
    d.mkdir()
    (d / "page.html").write_text(
        "<html><body><h1>Main title</h1><p>First paragraph with some words.</p>"
        "<h3>Sub heading</h3><ul><li>One item</li><li>Two items</li></ul>"
        "<p># not a heading</p><ol><li>Third</li></ol></body></html>", encoding="utf-8")
    out = tmp_path / "out"
    r = clean(d, "--out", out, "--format", "markdown", "--threshold", "0", "--include-title")  # every line
    assert r.exit_code == 0, r.output
    body = ("First paragraph with some words.\n\n### Sub heading\n\n"
            "- One item\n- Two items\n\n\\# not a heading\n\n1. Third\n")
    assert (out / "page.md").read_text(encoding="utf-8") == "# Main title\n\n" + body
    r = clean(d, "--out", out, "--format", "markdown", "--threshold", "0")  # the body: no headline
    assert r.exit_code == 0, r.output
    assert (out / "page.md").read_text(encoding="utf-8") == body


def test_markdown_and_html_formats_with_links(tmp_path, clean):
    d = tmp_path / "pages"
    d.mkdir()
    (d / "page.html").write_text(
        "<html><body><h2>Gauges</h2><p>See <a href='https://example.org/g'>the list</a> and "
        "<a href='javascript:alert(1)'>this</a>.</p><table><tr><th>Name</th><th>Flow</th></tr>"
        "<tr><td>Mill</td><td>12</td></tr></table><pre>a = 1\n  b = 2</pre>"
        "<script>alert(2)</script></body></html>", encoding="utf-8")
    out = tmp_path / "out"
    r = clean(d, "--out", out, "--format", "markdown", "--threshold", "0", "--links")
    assert r.exit_code == 0, r.output
    assert (out / "page.md").read_text(encoding="utf-8") == (
        "## Gauges\n\nSee [the list](https://example.org/g) and this.\n\n"
        "| Name | Flow |\n| --- | --- |\n| Mill | 12 |\n\n```\na = 1\n  b = 2\n```\n")
    r = clean(d, "--out", out, "--format", "html", "--threshold", "0")
    assert r.exit_code == 0, r.output
    page = (out / "page.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>\n") and page.endswith("</html>\n")
    assert ("<h2>Gauges</h2>\n<p>See the list and this.</p>\n<table>\n<tr><th>Name</th><th>Flow</th></tr>\n"
            "<tr><td>Mill</td><td>12</td></tr>\n</table>\n<pre><code>a = 1\n  b = 2</code></pre>\n") in page
    assert "script" not in page
    r = clean(d / "page.html", "--format", "html", "--threshold", "0", "--links")  # to standard output
    assert r.exit_code == 0 and '<p>See <a href="https://example.org/g">the list</a> and this.</p>' in r.stdout


def test_markdown_of_text_pages():
    lines = [Line("Head", True, 0.9, "h2"), Line("dropped", False, 0.1, "p"),
             Line("a", True, 0.9, "li"), Line("b", True, 0.9, "li"), Line("1. para", True, 0.8, "")]
    assert to_markdown(Result(lines)) == "## Head\n\n- a\n- b\n\n\\1. para"


# ------------------------------------------------------------------ JSONL in, JSONL out

@pytest.fixture
def crawl_jsonl(tmp_path, lighthouse_html, library_html, rail_html):
    """The same three records as crawl.jsonl and crawl2.jsonl.gz, with custom field names."""
    recs = [{"key": "lh", "link": "http://a.example/lh", "body": lighthouse_html.decode("utf-8")},
            {"key": "lib/2024 (1)", "link": "http://a.example/lib", "body": library_html.decode("utf-8")},
            {"link": "http://a.example/rail", "body": rail_html}]  # no id: the line number
    text = "".join(json.dumps(r) + "\n" for r in recs)
    d = tmp_path / "crawl"
    d.mkdir()
    (d / "crawl.jsonl").write_text(text, encoding="utf-8")
    (d / "crawl2.jsonl.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    return d, recs


def test_jsonl_and_jsonl_gz(tmp_path, crawl_jsonl, clean, tiny_extractor):
    d, recs = crawl_jsonl
    out = tmp_path / "clean.jsonl"
    r = clean(d, "-f", "jsonl", "--out", out, "--html-field", "body", "--id-field", "key",
              "--url-field", "link", "--lines")
    assert r.exit_code == 0, r.output
    got = jsonl(out)
    assert [(g["source"], g["id"]) for g in got] == [
        (str(d / name), i) for name in ("crawl.jsonl", "crawl2.jsonl.gz") for i in ("lh", "lib/2024 (1)", "3")]
    for g, rec in zip(got, recs + recs):
        want = tiny_extractor.classify(rec["body"])
        assert g["url"] == rec["link"]
        assert g["title"] == want.title and g["text"] == want.text
        assert g["counts"] == {"lines": len(want.lines), "kept": sum(ln.label for ln in want.lines),
                               "chars": len(want.text)}
        assert [(ln["text"], ln["label"], ln["tag"]) for ln in g["lines"]] == [
            (ln.text, ln.label, ln.tag) for ln in want.lines]
        assert [ln["score"] for ln in g["lines"]] == pytest.approx([ln.score for ln in want.lines], abs=1e-6)
        assert g["threshold"] == pytest.approx(want.threshold, abs=1e-6)
    assert not out.with_name("clean.jsonl.tmp").exists()


def test_jsonl_to_txt_uses_ids_as_file_names(tmp_path, crawl_jsonl, clean, tiny_extractor):
    d, recs = crawl_jsonl
    out = tmp_path / "out"
    r = clean(d / "crawl.jsonl", "--out", out, "--html-field", "body", "--id-field", "key")
    assert r.exit_code == 0, r.output
    names = sorted(files(out))
    assert names[0] == "crawl/3.txt" and names[1] == "crawl/lh.txt"
    assert names[2].startswith("crawl/lib_2024_1-") and len(names) == 3  # sanitised, hash-suffixed
    assert (out / "crawl" / "lh.txt").read_text(encoding="utf-8") == tiny_extractor.extract(recs[0]["body"]) + "\n"


def test_jsonl_bad_lines_are_reported(tmp_path, lighthouse_html, clean):
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps({"id": "ok", "html": lighthouse_html.decode()}) + "\n{not json\n"
                 + json.dumps({"id": "nohtml"}) + "\n" + json.dumps({"id": "num", "html": 5}) + "\n[1]\n",
                 encoding="utf-8")
    out = tmp_path / "o.jsonl"
    r = clean(f, "-f", "jsonl", "-o", out)
    assert r.exit_code == 1, r.output
    assert [g["id"] for g in jsonl(out)] == ["ok"]
    errs = jsonl(tmp_path / "o.errors.jsonl")
    assert [(e["id"], e["stage"]) for e in errs] == [("2", "read"), ("nohtml", "read"), ("num", "read"),
                                                     ("5", "read")]
    assert "not valid JSON" in errs[0]["reason"] and "missing" in errs[1]["reason"]
    assert "5 pages in: 1 cleaned, 0 empty, 4 failed" in r.stderr


def test_plain_text_pages(tmp_path, rail_text, clean, tiny_extractor):
    f = tmp_path / "texts.jsonl"
    f.write_text(json.dumps({"id": "r", "text": rail_text}) + "\n", encoding="utf-8")
    r = clean(f, "-f", "jsonl", "--html-field", "text", "--input-kind", "text")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["text"] == tiny_extractor.extract(rail_text, "text")


def test_stdin_jsonl_and_page(crawl_jsonl, clean, tiny_extractor, rail_text):
    d, recs = crawl_jsonl
    r = clean("-", "-f", "jsonl", "--html-field", "body", "--id-field", "key",
              input=(d / "crawl2.jsonl.gz").read_bytes())
    assert r.exit_code == 0, r.output
    got = [json.loads(line) for line in r.stdout.splitlines()]
    assert [g["id"] for g in got] == ["lh", "lib/2024 (1)", "3"] and {g["source"] for g in got} == {"-"}
    assert got[0]["text"] == tiny_extractor.extract(recs[0]["body"])
    r = clean("-", input=rail_text.encode("utf-8"))
    assert r.exit_code == 0 and r.stdout == tiny_extractor.extract(rail_text) + "\n"


# ------------------------------------------------------------------ WARC

@pytest.mark.parametrize("gz", [True, False], ids=["warc.gz", "warc"])
def test_warc_html_records_corrupt_record_and_charset(tmp_path, gz, lighthouse_html, library_html,
                                                      clean, tiny_extractor):
    f = tmp_path / ("crawl.warc.gz" if gz else "crawl.warc")
    urls = build_warc(f, lighthouse_html, library_html, gz=gz)
    out = tmp_path / "out.jsonl"
    r = clean(f, "-f", "jsonl", "--out", out, "--lines")
    assert r.exit_code == 1, r.output  # the corrupt record failed
    got = jsonl(out)
    assert [g["url"] for g in got] == urls  # request and image records skipped, the rest read
    assert all(g["id"].startswith("urn:uuid:") for g in got)
    assert got[0]["text"] == tiny_extractor.extract(lighthouse_html)
    assert got[2]["text"] == tiny_extractor.extract(library_html)
    # the charset comes from the HTTP header: these cp1252 bytes are not UTF-8 and declare nothing
    assert [ln["text"] for ln in got[1]["lines"]][:1] == ["Caf\u00e9 cr\u00e8me"]
    assert got[1]["title"] == "Caf\u00e9 cr\u00e8me"  # the headline as shown, decoded
    errs = jsonl(tmp_path / "out.errors.jsonl")
    assert len(errs) == 1 and "corrupt WARC record" in errs[0]["reason"], errs
    assert "4 pages in: 3 cleaned, 0 empty, 1 failed" in r.stderr, r.stderr
    assert "2 non-HTML WARC records ignored" in r.stderr


def test_warc_truncated_and_txt_names(tmp_path, lighthouse_html, library_html, clean):
    f = tmp_path / "crawl.warc.gz"
    build_warc(f, lighthouse_html, library_html, gz=True)
    data = f.read_bytes()
    f.write_bytes(data[:-200])  # cut into the last record
    out = tmp_path / "out"
    r = clean(f, "--out", out)
    assert r.exit_code == 1, r.output
    names = sorted(files(out))
    assert len(names) == 3 and "errors.jsonl" in names  # lighthouse + cafe + errors
    assert all(n.startswith("crawl/") and n.endswith(".txt") for n in names if n != "errors.jsonl")
    reasons = [e["reason"] for e in jsonl(out / "errors.jsonl")]
    assert len(reasons) == 2 and "corrupt WARC record" in reasons[0] and "truncated WARC record" in reasons[1]


def test_warc_from_stdin(tmp_path, lighthouse_html, library_html, clean):
    f = tmp_path / "crawl.warc.gz"
    urls = build_warc(f, lighthouse_html, library_html, gz=True)
    r = clean("-", "-f", "jsonl", "--errors", tmp_path / "e.jsonl", input=f.read_bytes())
    assert r.exit_code == 1, r.output
    assert [json.loads(x)["url"] for x in r.stdout.splitlines()] == urls


# ------------------------------------------------------------------ failures

def test_truncated_gzip_is_reported_and_the_rest_read(tmp_path, lighthouse_html, library_html, rail_html, clean):
    d = tmp_path / "in"
    d.mkdir()
    pages = [lighthouse_html.decode(), library_html.decode(), rail_html] * 3
    blob = gzip.compress("".join(json.dumps({"id": f"r{i}", "html": p}) + "\n"
                                 for i, p in enumerate(pages)).encode())
    (d / "a.jsonl.gz").write_bytes(blob[: len(blob) * 2 // 3])
    (d / "b.html.gz").write_bytes(gzip.compress(lighthouse_html)[:500])
    (d / "c.html").write_bytes(library_html)
    out = tmp_path / "out.jsonl"
    r = clean(d, "-f", "jsonl", "-o", out)
    assert r.exit_code == 1, r.output
    got = [g["id"] for g in jsonl(out)]
    ids = [f"r{i}" for i in range(len(pages))]
    n = len(got) - 1
    assert 1 <= n < len(pages) and got[:n] == ids[:n]  # the complete records before the cut
    assert got[-1] == "c.html"  # and the next file
    errs = jsonl(tmp_path / "out.errors.jsonl")
    assert [e["source"] for e in errs] == [str(d / "a.jsonl.gz"), str(d / "b.html.gz")]
    assert all("truncated or corrupt gzip" in e["reason"] for e in errs)


def test_time_limit_stops_a_pathological_page(tmp_path, lighthouse_html, library_html, clean, tiny_extractor):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.html").write_bytes(lighthouse_html)
    # 66,666 lines of 20 words (the node limit; 12 MB): about half a second in the walk,
    # features and model, several times the limit with one page per batch, against
    # milliseconds for a normal page (deep nesting, the old example, is flattened by boilerclf.parse.guard now and
    # parses in milliseconds; two-word lines now finish within the limit)
    (d / "b_deep.html").write_text("<html><body>" + ("<div><p>" + "word " * 20 + "</p></div>") * 100_000
                                   + "</body></html>")
    (d / "c.html").write_bytes(library_html)
    out = tmp_path / "out"
    t0 = time.monotonic()
    r = clean(d, "--out", out, "--timeout", "0.1", "--batch-size", "1")
    took = time.monotonic() - t0
    assert r.exit_code == 1, r.output
    assert sorted(files(out)) == ["a.txt", "c.txt", "errors.jsonl"]
    assert (out / "c.txt").read_text() == tiny_extractor.extract(library_html) + "\n"  # after the kill
    (err,) = jsonl(out / "errors.jsonl")
    # (on a loaded machine the 0.1 s can run out while the 12 MB page is still being sent)
    assert err["id"] == "b_deep.html" and err["stage"] in ("send", "parse", "classify")
    assert err["reason"].startswith("timeout")
    assert took < 30


# ------------------------------------------------------------------ exit codes, refusals

def test_exit_codes(tmp_path, tree, clean):
    assert clean(tree, "--out", tmp_path / "o1").exit_code == 0
    (tree / "zz.html.gz").write_bytes(b"\x1f\x8b\x08\x00broken")
    assert clean(tree, "--out", tmp_path / "o2").exit_code == 1
    for args in ([tmp_path / "missing"], [tree, "--format", "pdf"], [tree, "--resume"],
                 [tree, "--lines"], [tree, "--input-kind", "pdf"], [tree, "--threshold", "strict"],
                 [tree, "--jobs", "0"], [tree, "--timeout", "-1"], [tree, "--bogus-option"]):
        r = clean(*args)
        assert r.exit_code == 2, (args, r.output)


def test_bad_model_is_exit_2(tmp_path, tree):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    r = runner.invoke(app, ["clean", str(tree), "--out", str(tmp_path / "o"), "--model", str(bad),
                            "--input-kind", "html", "--jobs", "1"])
    assert r.exit_code == 2 and "bad.npz" in r.stderr
    assert not (tmp_path / "o").exists()


def test_relative_model_paths(tmp_path, tiny_models, tree, tiny_extractor, lighthouse_html):
    """Workers fork from a server process started elsewhere: relative paths still work."""
    shutil.copy(tiny_models[0], tmp_path / "m.npz")
    shutil.copy(tiny_models[1], tmp_path / "t.npz")
    r = runner.invoke(app, ["clean", str(tree / "lighthouse.html"), "--model", "m.npz",
                            "--text-model", "t.npz", "--jobs", "1"])
    assert r.exit_code == 0, r.output
    assert r.stdout == tiny_extractor.extract(lighthouse_html) + "\n"


def test_output_never_overwrites_input(tmp_path, crawl_jsonl, tree, clean):
    d, _ = crawl_jsonl
    src = d / "crawl.jsonl"
    before = src.read_bytes()
    cases = [
        [src, "-f", "jsonl", "--out", src],                 # output file = input file
        [d, "-f", "jsonl", "--out", d / "clean.jsonl"],      # output file inside an input dir
        [tree, "--out", tree],                                # output dir = input dir
        [tree, "--out", tree / "clean"],                      # output dir inside an input dir
        [tree / "lighthouse.html", "--out", tmp_path],        # output dir contains an input
        [src, "-f", "jsonl", "--errors", src],                # errors file = input file
        [tree, "--out", tmp_path / "ok", "--errors", tree / "e.jsonl"],
    ]
    for args in cases:
        r = clean(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "error:" in r.stderr
    assert src.read_bytes() == before
    assert not (tree / "clean").exists() and not (d / "clean.jsonl").exists()
    assert not (tmp_path / "ok").exists()


def test_safe_name_and_split_name():
    assert batch.safe_name("page-1") == "page-1"
    assert batch.safe_name("urn:uuid:1234-abcd") == "1234-abcd"
    a, b = batch.safe_name("a/b"), batch.safe_name("a b")
    assert a != b and "/" not in a and a.startswith("a_b-")
    assert batch.safe_name("..") != ".." and "/" not in batch.safe_name("../../etc/passwd")
    assert batch.split_name("x.warc.gz") == ("x", "warc", True)
    assert batch.split_name("x.JSONL") == ("x", "jsonl", False)
    assert batch.split_name("a.html.gz") == ("a", "page", True)
    assert batch.split_name("a.php") == ("a.php", "page", False)


def test_same_output_name_gets_a_suffix(tmp_path, lighthouse_html, library_html, clean):
    for sub, page in (("x", lighthouse_html), ("y", library_html)):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "page.html").write_bytes(page)
    out = tmp_path / "out"
    r = clean(tmp_path / "x", tmp_path / "y", "--out", out)
    assert r.exit_code == 0, r.output
    assert sorted(files(out)) == ["page.txt", "page~2.txt"]


# ------------------------------------------------------------------ parallel, resume

@pytest.fixture
def mixed(tmp_path, tree, crawl_jsonl, lighthouse_html, library_html):
    """Directory tree + JSONL + JSONL.gz + WARC (with a corrupt record) in one input list."""
    d, _ = crawl_jsonl
    w = tmp_path / "w"
    w.mkdir()
    build_warc(w / "crawl.warc.gz", lighthouse_html, library_html, gz=True)
    return [tree, d, w]


def test_jobs_2_is_byte_identical_to_jobs_1(tmp_path, mixed, clean):
    outs = {}
    for jobs in (1, 2):
        o = tmp_path / f"j{jobs}"
        r = clean(*mixed, "-f", "jsonl", "--lines", "--out", o / "all.jsonl", "--batch-size", "2",
                  "--html-field", "body", "--id-field", "key", jobs=jobs)
        assert r.exit_code == 1, r.output  # the WARC's corrupt record
        r = clean(*mixed, "--out", o / "txt", "--batch-size", "3", "--html-field", "body", jobs=jobs)
        assert r.exit_code == 1, r.output
        outs[jobs] = files(o)
    assert outs[1] == outs[2]
    assert len(outs[1]) == 2 + 4 + 6 + 3 + 1  # jsonl + its errors; 4 + 6 + 3 pages + errors


def test_forkserver_workers_give_the_same_output(tmp_path, tree, clean, monkeypatch):
    """Workers fork from this process only when no other thread runs here; else from a forkserver."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert clean(tree, "--out", a, jobs=2).exit_code == 0
    monkeypatch.setattr(pool, "fork_is_safe", lambda: False)
    assert clean(tree, "--out", b, jobs=2).exit_code == 0
    assert files(a) == files(b) and len(files(a)) == 4


def _console_script() -> str:
    exe = Path(sys.executable).with_name("boilerclf")
    return str(exe) if exe.is_file() else shutil.which("boilerclf") or pytest.fail("boilerclf not installed")


@pytest.fixture
def many_pages(tmp_path, lighthouse_html, library_html):
    """200 small distinct pages in nested folders (enough to stop a run half-way)."""
    d = tmp_path / "many"
    for i in range(200):
        sub = d / f"s{i % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        base = (lighthouse_html if i % 2 else library_html).decode()
        (sub / f"p{i:03d}.html").write_text(base.replace("<body>", f"<body><p>Page number {i}.</p>", 1),
                                            encoding="utf-8")
    return d


def _start(args: list, model_args: list) -> subprocess.Popen:
    return subprocess.Popen([_console_script(), "clean", *map(str, args), *model_args, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _wait_for(cond, proc: subprocess.Popen, limit: float = 60.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() - t0 < limit, "the run never got going"
        time.sleep(0.01)


def test_killed_run_resumes_to_the_same_result(tmp_path, many_pages, model_args, clean):
    ref = tmp_path / "ref"
    assert clean(many_pages, "--out", ref, jobs=2).exit_code == 0
    want = files(ref)
    out = tmp_path / "out"
    proc = _start([many_pages, "--out", out, "--jobs", "1", "--batch-size", "1"], model_args)
    _wait_for(lambda: out.is_dir() and sum(1 for _ in out.rglob("*.txt")) >= 20, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers, no chance to clean up
    proc.wait(30)
    done = {k: v for k, v in files(out).items() if not Path(k).name.startswith(".")}
    assert 20 <= len(done) < len(want)  # really stopped half-way
    assert all(want[k] == v for k, v in done.items())  # every file there is complete
    mtimes = {k: (out / k).stat().st_mtime_ns for k in done}
    r = clean(many_pages, "--out", out, "--resume", jobs=2)
    assert r.exit_code == 0, r.output
    assert f"{len(done)} skipped" in r.stderr
    assert {k: v for k, v in files(out).items() if not Path(k).name.startswith(".")} == want
    assert all((out / k).stat().st_mtime_ns == t for k, t in mtimes.items())  # not rewritten


def test_terminated_jsonl_run_resumes_to_the_same_result(tmp_path, many_pages, model_args, clean):
    ref = tmp_path / "ref.jsonl"
    assert clean(many_pages, "-f", "jsonl", "--out", ref, jobs=2).exit_code == 0
    out = tmp_path / "out.jsonl"
    tmp = tmp_path / "out.jsonl.tmp"
    proc = _start([many_pages, "-f", "jsonl", "--out", out, "--jobs", "2", "--batch-size", "1"], model_args)
    _wait_for(lambda: tmp.is_file() and tmp.stat().st_size > 40_000, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 130
    assert not out.exists() and tmp.is_file()  # never a complete-looking partial output
    partial = tmp.read_bytes()
    assert 0 < partial.count(b"\n") < 200
    with open(tmp, "ab") as f:  # as if killed in the middle of a record
        f.write(b'{"id": "half-writ')
    r = clean(many_pages, "-f", "jsonl", "--out", out, "--resume")
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == ref.read_bytes() and not tmp.exists()
    # resuming a finished run skips everything and changes nothing
    r = clean(many_pages, "-f", "jsonl", "--out", out, "--resume")
    assert r.exit_code == 0 and "200 skipped" in r.stderr
    assert out.read_bytes() == ref.read_bytes()


def test_clean_include_title_keeps_the_headline_in_its_place(tmp_path, clean, lighthouse_html):
    page = tmp_path / "lighthouse.html"
    page.write_bytes(lighthouse_html)
    headline = "Council approves plan to restore Point Marlow lighthouse"
    plain = clean(page, "--format", "jsonl", "--lines")
    titled = clean(page, "--format", "jsonl", "--lines", "--include-title")
    assert plain.exit_code == 0 == titled.exit_code, plain.output + titled.output
    a, b = json.loads(plain.stdout), json.loads(titled.stdout)
    assert a["title"] == b["title"] == headline  # the headline as shown, not <title>'s "... | The Harbour Gazette"
    assert a["lines"][a["headline"]]["text"] == headline
    assert headline not in a["text"].splitlines() and headline in b["text"].splitlines()
    # the same body otherwise
    assert [x for x in b["text"].splitlines() if x != headline] == a["text"].splitlines()
