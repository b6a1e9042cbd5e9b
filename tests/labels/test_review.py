"""The review server's JSON API (the page itself is driven in test_review_browser.py)."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from boilerclf.cli import app
from boilerclf.labels import file as labelsfile
from boilerclf.labels.review import (
    Review,
    is_labels_file,
)


def call(server, method: str, path: str, body=None, headers=None):
    """One request; a POST carries the server's token (when the test knows it)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    h = {"Content-Type": "application/json"} if body is not None else {}
    if method == "POST" and getattr(server, "token", None):
        h["X-Boilerclf-Token"] = server.token
    h.update(headers or {})
    conn.request(method, path, body=None if body is None else
                 (body if isinstance(body, bytes) else json.dumps(body).encode()), headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    ctype = r.getheader("Content-Type", "")
    return r.status, (json.loads(data) if ctype.startswith("application/json") else data)


def test_state_page_and_save(serve, labels_file):
    server = serve(Review.open(labels_file))
    status, page = call(server, "GET", "/")
    assert status == 200 and b"boilerclf review" in page and b"<script>" in page
    assert b"http://" not in page.replace(b"http://www.w3.org", b"") and b"https://" not in page  # no external assets
    status, st = call(server, "GET", "/api/state")
    assert status == 200 and st["file"] == "labels.jsonl" and not st["readonly"]
    assert [p["id"] for p in st["pages"]] == ["lighthouse", "rail"]
    n = st["pages"][0]["n"]
    assert st["pages"][0]["content"] == 1 and st["pages"][0]["boilerplate"] == n - 1
    status, p = call(server, "GET", "/api/page?i=0")
    assert status == 200 and p["index"] == 0 and p["url"] == "https://example.org/lh"
    assert "source" not in p and len(p["lines"]) == n

    labels = [ln["label"] for ln in p["lines"]]
    labels[2], labels[3], labels[5] = 1, None, 0
    status, summ = call(server, "POST", "/api/page?i=0",
                        {"id": "lighthouse", "labels": labels, "version": p["version"]})
    assert status == 200, summ
    assert summ["version"] != p["version"]
    assert summ["version"] == call(server, "GET", "/api/page?i=0")[1]["version"]
    assert summ["reviewed"] and summ["content"] == 1 and summ["unlabelled"] == 1
    on_disk = labelsfile.read_labels(labels_file)
    assert [ln["label"] for ln in on_disk[0]["lines"]] == labels and on_disk[0]["reviewed"]
    assert on_disk[1]["reviewed"] is False
    assert sorted(os.listdir(labels_file.parent)) == [".labels.jsonl.lock", "labels.jsonl"]  # no temp file
    # a second save after the server's own write is no conflict
    version = call(server, "GET", "/api/page?i=1")[1]["version"]
    status, _ = call(server, "POST", "/api/page?i=1",
                     {"id": "rail", "labels": [0] * st["pages"][1]["n"], "version": version})
    assert status == 200
    assert {ln["label"] for ln in labelsfile.read_labels(labels_file)[1]["lines"]} == {0}


@pytest.mark.parametrize("path, body, headers, status, message", [
    ("/api/page?i=0", {"id": "rail", "labels": []}, {}, 400, "page 0 is 'lighthouse'"),
    ("/api/page?i=0", {"id": "lighthouse", "labels": [1]}, {}, 400, "got 1 labels"),
    ("/api/page?i=0", {"id": "lighthouse", "labels": "all"}, {}, 400, "got no labels"),
    ("/api/page?i=1", {"id": "rail", "labels": None}, {}, 400, "got no labels"),
    ("/api/page?i=9", {"id": "rail", "labels": []}, {}, 404, "no such page"),
    ("/api/page?i=0", b"{not json", {}, 400, "Expecting"),
    ("/api/page?i=0", b"[]", {}, 400, "not a JSON object"),
    ("/api/page?i=0", {"id": "lighthouse", "labels": []}, {"Content-Type": "text/plain"}, 415, "application/json"),
    ("/api/page?i=0", {"id": "lighthouse", "labels": []}, {"Host": "attacker.example:80"}, 403, "Host"),
])
def test_bad_saves_are_refused_and_change_nothing(serve, labels_file, path, body, headers, status, message):
    server = serve(Review.open(labels_file))
    before = labels_file.read_bytes()
    got, err = call(server, "POST", path, body, headers)
    assert got == status and message in err["error"]
    assert labels_file.read_bytes() == before


def test_wrong_label_value_is_refused(serve, labels_file):
    server = serve(Review.open(labels_file))
    n = call(server, "GET", "/api/state")[1]["pages"][0]["n"]
    status, err = call(server, "POST", "/api/page?i=0", {"id": "lighthouse", "labels": [2] * n})
    assert status == 400 and "label must be 0, 1 or null" in err["error"]
    assert labelsfile.read_labels(labels_file)[0]["reviewed"] is False


def test_host_header_is_checked_on_reads(serve, labels_file):
    server = serve(Review.open(labels_file))
    assert call(server, "GET", "/api/state", headers={"Host": f"localhost:{server.port}"})[0] == 200
    assert call(server, "GET", "/api/state", headers={"Host": f"rebound.example:{server.port}"})[0] == 403
    assert call(server, "GET", "/nope")[0] == 404


def test_file_changed_on_disk(serve, labels_file, labels_records, lighthouse_html, rail_text):
    """Another program's change to the page is a conflict; its changes to other pages are kept."""
    server = serve(Review.open(labels_file))
    v0, v1 = (call(server, "GET", f"/api/page?i={i}")[1]["version"] for i in (0, 1))
    recs = labels_records(lighthouse_html, rail_text)
    recs[1]["reviewed"] = True
    recs.append(labelsfile.page_record("new", "x", ["x"], kind="text"))
    labelsfile.write_labels(labels_file, recs)  # someone else rewrote the file
    status, err = call(server, "POST", "/api/page?i=1", {"id": "rail", "labels": [0] * len(recs[1]["lines"]),
                                                         "version": v1})
    assert status == 409 and "reload the page" in err["error"] and "nothing was saved" in err["error"]
    assert labelsfile.read_labels(labels_file) == recs
    n = len(recs[0]["lines"])
    status, summ = call(server, "POST", "/api/page?i=0", {"id": "lighthouse", "labels": [1] * n, "version": v0})
    assert status == 200, summ
    on_disk = labelsfile.read_labels(labels_file)
    assert [r["id"] for r in on_disk] == ["lighthouse", "rail", "new"] and on_disk[1:] == recs[1:]
    assert {ln["label"] for ln in on_disk[0]["lines"]} == {1}
    st = call(server, "GET", "/api/state")[1]  # the server shows the file as it is now
    assert [p["id"] for p in st["pages"]] == ["lighthouse", "rail", "new"] and st["pages"][1]["reviewed"]
    labels_file.unlink()
    status, err = call(server, "POST", "/api/page?i=2", {"id": "new", "labels": [0], "version": "x"})
    assert status == 409 and "removed" in err["error"]
    assert not labels_file.exists()


def test_read_only(serve, labels_file, labels_records):
    server = serve(Review.open(labels_file, readonly=True))
    st = call(server, "GET", "/api/state")[1]
    assert st["readonly"]
    before = labels_file.read_bytes()
    status, err = call(server, "POST", "/api/page?i=1", {"id": "rail", "labels": [0] * st["pages"][1]["n"]})
    assert status == 403 and "read-only" in err["error"]
    assert labels_file.read_bytes() == before
    mem = serve(Review(labels_records(b"<p>x</p>", "a\nb")))  # predictions, no file
    assert call(mem, "GET", "/api/state")[1] == {
        "file": None, "readonly": True, "pages": [
            {"id": "lighthouse", "url": "https://example.org/lh", "kind": "html", "model": "m sha256:0",
             "reviewed": False, "n": 1, "content": 0, "boilerplate": 1, "unlabelled": 0},
            {"id": "rail", "url": None, "kind": "text", "model": None, "reviewed": False, "n": 2,
             "content": 2, "boilerplate": 0, "unlabelled": 0}]}


def test_is_labels_file(tmp_path, labels_file, lighthouse_html):
    assert is_labels_file(labels_file)
    page = tmp_path / "p.html"
    page.write_bytes(lighthouse_html)
    crawl = tmp_path / "c.jsonl"
    crawl.write_text('{"id": 1, "html": "<p>x</p>"}\n')
    empty = tmp_path / "e.jsonl"
    empty.write_text("")
    assert not any(map(is_labels_file, [page, crawl, empty, tmp_path, tmp_path / "missing"]))


def test_review_cli_usage_errors(tmp_path, labels_file, tiny_models):
    runner = CliRunner()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(labels_file.read_text().replace('"kind":"text"', '"kind":"pdf"'))
    r = runner.invoke(app, ["review", str(bad), "--no-browser"])
    assert r.exit_code == 2 and "kind must be 'html' or 'text'" in r.output
    r = runner.invoke(app, ["review", str(labels_file), str(labels_file), "--no-browser"])
    assert r.exit_code == 2 and "one labels file at a time" in r.output
    r = runner.invoke(app, ["review", str(tmp_path / "missing.html"), "--no-browser",
                            "--model", str(tiny_models[0])])
    assert r.exit_code == 2 and "no such file" in r.output


def test_review_cli_serves_predictions_read_only(tmp_path, tiny_models, tiny_extractor, lighthouse_html):
    page = tmp_path / "lighthouse.html"
    page.write_bytes(lighthouse_html)
    proc = subprocess.Popen(
        [sys.executable, "-m", "boilerclf.cli", "review", str(page), "--port", "0",
         "--model", str(tiny_models[0])],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**{k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")},
             "OMP_NUM_THREADS": "1"})
    try:
        first = proc.stderr.readline()
        m = re.search(r"open http://127\.0\.0\.1:(\d+)/", first)
        assert m, first
        assert "1 page, read-only" in first

        class Srv:
            port = int(m.group(1))
        st = call(Srv, "GET", "/api/state")[1]
        assert st["readonly"] and st["file"] is None and [p["id"] for p in st["pages"]] == ["lighthouse.html"]
        got = call(Srv, "GET", "/api/page?i=0")[1]
        want = tiny_extractor.classify(lighthouse_html)
        assert [ln["label"] for ln in got["lines"]] == [int(ln.label) for ln in want.lines]
        assert call(Srv, "POST", "/api/page?i=0", {"id": "lighthouse.html", "labels": []})[0] == 403
    finally:
        proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        rc = proc.wait(timeout=20)
    assert rc == 0 and time.monotonic() - t0 < 10
    rest = proc.stderr.read()
    assert "no display: open the URL in a browser yourself" in rest and "stopped" in rest
    proc.stderr.close()


def test_reasons_of_a_line(serve, labels_file, tiny_models):
    from boilerclf.features.table import page_features
    from boilerclf.model.files import load
    from boilerclf.model.reasons import STAGE1_NAMES, STAGE2_NAMES

    models = {"html": load(tiny_models[0])[0], "text": load(tiny_models[1])[0]}
    asked = []
    server = serve(Review.open(labels_file, model_for=lambda kind: asked.append(kind) or models[kind]))
    status, r = call(server, "GET", "/api/reasons?i=0&line=5")
    assert status == 200, r
    rec = labelsfile.read_labels(labels_file)[0]
    X = page_features(labelsfile.source_lines(rec), 0)
    assert r["i"] == 5 and r["score"] == pytest.approx(models["html"].decision_scores(X)[5], abs=1e-4)
    assert r["stage"] in ("stage 1", "stage 2") and 1 <= len(r["reasons"]) <= 6
    names = STAGE2_NAMES if r["stage"] == "stage 2" else STAGE1_NAMES
    assert all(x["feature"] in names for x in r["reasons"])
    effects = [abs(x["effect"]) for x in r["reasons"]]
    assert effects == sorted(effects, reverse=True) and effects[0] > 0
    assert call(server, "GET", "/api/reasons?i=0&line=6")[0] == 200 and asked == ["html"]  # loaded once
    status, r = call(server, "GET", "/api/reasons?i=1&line=0")  # the text page: the text model
    assert status == 200 and asked == ["html", "text"]
    for q in ("i=0&line=999", "i=5&line=0", "i=0", "line=0"):
        assert call(server, "GET", f"/api/reasons?{q}")[0] == 404, q
    # lines that no longer match the page's source: no reasons, said why
    recs = labelsfile.read_labels(labels_file)
    recs[0]["lines"][1]["text"] = "edited by hand"
    labelsfile.write_labels(labels_file, recs)
    status, r = call(server, "GET", "/api/reasons?i=0&line=1")
    assert status == 409 and "differ" in r["error"]
