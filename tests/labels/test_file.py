"""The labels file format: records, validation, atomic writes, recomputed lines."""
from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from boilerclf.labels import file as lf
from boilerclf.parse.html import html_lines
from boilerclf.parse.text import text_lines

HTML = ("<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        "<h1>Ünïcode title</h1><p>First paragraph of the story, long enough.</p>"
        "<footer>(c) 2024</footer></body></html>")


def _rec(id="p1", **kw):
    ln = html_lines(HTML)
    return lf.page_record(id, HTML, ln.texts, labels=[0, 1, 1, 0][: len(ln)],
                          scores=[0.1, 0.9, 0.8, 0.05][: len(ln)], tags=["li", "h1", "p", "footer"],
                          url="https://example.org/a", model="m.joblib sha256:00", **kw)


def test_page_record_shape():
    rec = _rec()
    assert list(rec) == list(lf.RECORD_KEYS)
    assert rec["format"] == "boilerclf-labels/1"
    assert [ln["i"] for ln in rec["lines"]] == [0, 1, 2, 3]
    assert rec["lines"][1] == {"i": 1, "text": "Ünïcode title", "label": 1, "score": 0.9, "tag": "h1"}
    assert rec["reviewed"] is False
    bare = lf.page_record("t", "a\n\nb\n", ["a", "b"], kind="text")
    assert [(ln["label"], ln["score"], ln["tag"]) for ln in bare["lines"]] == [(None, None, "")] * 2
    with pytest.raises(lf.LabelsError, match="3 labels for 2 lines"):
        lf.page_record("t", "a\nb", ["a", "b"], kind="text", labels=[1, 0, 1])


def test_roundtrip_and_atomic_write(tmp_path):
    path = tmp_path / "labels.jsonl"
    recs = [_rec("p1"), _rec("p2", reviewed=True)]
    recs[1]["extra"] = {"kept": True}  # unknown keys survive
    lf.write_labels(path, recs)
    assert lf.read_labels(path) == recs
    raw = path.read_text(encoding="utf-8")
    assert raw.count("\n") == 2 and "Ünïcode" in raw  # one record per line, UTF-8 as is
    assert [p.name for p in tmp_path.iterdir()] == ["labels.jsonl"]  # no temp file left
    os.chmod(path, 0o640)
    recs[0]["lines"][0]["label"] = 1
    lf.write_labels(path, recs)
    assert lf.read_labels(path)[0]["lines"][0]["label"] == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_failed_write_leaves_old_file(tmp_path):
    path = tmp_path / "labels.jsonl"
    lf.write_labels(path, [_rec("p1")])
    before = path.read_bytes()
    bad = _rec("p2")
    bad["lines"][0]["label"] = 2
    with pytest.raises(lf.LabelsError, match="record 1: page 'p2': line 0: label must be 0, 1 or null"):
        lf.write_labels(path, [_rec("p1"), bad])
    with pytest.raises(lf.LabelsError, match="'p1' appears twice"):
        lf.write_labels(path, [_rec("p1"), _rec("p1")])

    class Boom:
        def __iter__(self):
            yield _rec("p3")
            raise RuntimeError("disk on fire")
    with pytest.raises(RuntimeError):
        lf.write_labels(path, Boom())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["labels.jsonl"]


def test_lone_surrogates_survive(tmp_path):
    src = "caf\udce9 ok"  # what decoding undecodable bytes with surrogateescape gives
    rec = lf.page_record("s", src, [src], kind="text")
    lf.write_labels(tmp_path / "l.jsonl", [rec])
    assert lf.read_labels(tmp_path / "l.jsonl")[0]["source"] == src


@pytest.mark.parametrize("mutate, message", [
    (lambda r: r.pop("source"), "missing key.*source"),
    (lambda r: r.update(format="boilerclf-labels/2"), "expected 'boilerclf-labels/1'"),
    (lambda r: r.update(id=""), "id must be a non-empty string"),
    (lambda r: r.update(url=3), "url must be a string or null"),
    (lambda r: r.update(kind="pdf"), "kind must be 'html' or 'text'"),
    (lambda r: r.update(source=["<p>x</p>"]), "source must be a string"),
    (lambda r: r.update(model=1), "model must be a string or null"),
    (lambda r: r.update(reviewed="yes"), "reviewed must be true or false"),
    (lambda r: r.update(lines={}), "lines must be a list"),
    (lambda r: r["lines"].__setitem__(1, [1]), "line 1 must be a JSON object"),
    (lambda r: r["lines"][2].pop("tag"), "line 2: missing key.*tag"),
    (lambda r: r["lines"][2].update(i=5), "line 2: i is 5, expected 2"),
    (lambda r: r["lines"][0].update(text=None), "line 0: text must be a string"),
    (lambda r: r["lines"][0].update(label=True), "line 0: label must be 0, 1 or null"),
    (lambda r: r["lines"][0].update(score="0.5"), "line 0: score must be a finite number"),
    (lambda r: r["lines"][0].update(score=float("nan")), "line 0: score must be a finite number"),
    (lambda r: r["lines"][0].update(tag=None), "line 0: tag must be a string"),
])
def test_validation_errors_name_the_problem(tmp_path, mutate, message):
    good = _rec("p1")
    bad = _rec("p2")
    mutate(bad)
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(lf.LabelsError, match=message) as e:
        lf.read_labels(path)
    assert f"{path} line 3" in str(e.value)


def test_read_rejects_non_json_and_duplicate_ids(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(_rec("a")) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(lf.LabelsError, match="line 2: not valid JSON"):
        lf.read_labels(path)
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(lf.LabelsError, match="line 1: a record must be a JSON object"):
        lf.read_labels(path)
    path.write_text((json.dumps(_rec("a")) + "\n") * 2, encoding="utf-8")
    with pytest.raises(lf.LabelsError, match="'a' appears twice"):
        lf.read_labels(path)


def test_source_lines_recomputes_and_checks():
    rec = _rec()
    got = lf.source_lines(rec)
    assert got.texts == [ln["text"] for ln in rec["lines"]] and got.kind == "html"
    rec["lines"][2]["text"] = "edited by hand"
    with pytest.raises(lf.LabelsError, match="differ from the file's at line 2"):
        lf.source_lines(rec)
    txt = "# Title\n\nSome body text.\n- a bullet\n"
    trec = lf.page_record("t", txt, text_lines(txt).texts, kind="text")
    assert lf.source_lines(trec).texts == ["Title", "Some body text.", "a bullet"]
    trec["lines"].pop()
    with pytest.raises(lf.LabelsError, match="3 lines recomputed, 2 in the file"):
        lf.source_lines(trec)


def test_label_array():
    rec = lf.page_record("t", "a\nb\nc", ["a", "b", "c"], kind="text", labels=[1, None, 0])
    arr = lf.label_array(rec)
    assert arr.dtype == np.int8 and arr.tolist() == [1, -1, 0]
