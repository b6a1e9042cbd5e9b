"""boilerclf as a datatrove step: a real local pipeline (JSONL reader -> boilerclf
-> JSONL writer) gives the library's texts, in order, and datatrove's statistics."""
from __future__ import annotations

import gzip
import json

import pytest

pytest.importorskip("datatrove", reason="the datatrove extra is not installed")

from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from boilerclf.batch.datatrove_step import Boilerclf  # noqa: E402


def test_a_local_pipeline_gives_the_library_texts(tmp_path, tiny_models, tiny_extractor, lighthouse_html,
                                                  library_html, rail_html):
    pages = {"lighthouse": lighthouse_html.decode("utf-8"), "library": library_html.decode("utf-8"),
             "rail": rail_html, "empty": "<html><head><title>Nothing here</title></head><body><script>x()</script></body></html>"}
    src = tmp_path / "in"
    src.mkdir()
    with gzip.open(src / "crawl.jsonl.gz", "wt", encoding="utf-8") as f:
        for pid, html in pages.items():
            f.write(json.dumps({"id": pid, "html": html}) + "\n")
    step = Boilerclf(model=tiny_models[0], batch_size=2, timeout=30)
    LocalPipelineExecutor(
        pipeline=[JsonlReader(str(src), text_key="html"), step, JsonlWriter(str(tmp_path / "out"))],
        tasks=1, workers=1, logging_dir=str(tmp_path / "logs"), start_method="fork",
    ).run()
    (out,) = (tmp_path / "out").glob("*.jsonl*")
    with gzip.open(out, "rt", encoding="utf-8") if out.suffix == ".gz" else open(out) as f:
        got = {r["id"]: r["text"] for r in map(json.loads, f)}
    want = {pid: tiny_extractor.extract(html, "html") for pid, html in pages.items()}
    assert want["lighthouse"] and want["library"]
    assert got == {pid: text for pid, text in want.items() if text}  # empty pages are dropped
    stats = json.loads((tmp_path / "logs" / "stats.json").read_text())
    mine = next(s for s in stats if s["name"].endswith(Boilerclf.name))
    counts = {k: v["total"] if isinstance(v, dict) else v for k, v in mine["stats"].items()}
    assert counts["total"] == 4 and counts["extracted"] == 4 and counts["forwarded"] == len(got) == 3
    assert counts["dropped"] == 1  # the page without text


def test_the_per_document_interface_is_the_library_extract(tiny_models, tiny_extractor, lighthouse_html):
    html = lighthouse_html.decode("utf-8")
    assert Boilerclf(model=tiny_models[0]).extract(html) == tiny_extractor.extract(html, "html")


def test_a_page_over_its_time_budget_is_counted_and_dropped(tiny_models, lighthouse_html):
    from datatrove.data import Document

    step = Boilerclf(model=tiny_models[0], timeout=1e-9)
    out = list(step.run([Document(text=lighthouse_html.decode("utf-8"), id="a")]))
    assert out == [] and step.stats["timeout"].total == 1
