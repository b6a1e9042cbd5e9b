"""Cleaning on a Dask cluster (``boilerclf[dask]``): one LocalCluster of 2 worker
processes for the whole module.

The cluster must give exactly what a local ``boilerclf clean`` gives, on JSONL
and WARC corpora built here (with pages that fail), and a worker killed in the
middle of a task must cost nothing: Dask re-runs its task, no output is lost
or written twice.
"""
from __future__ import annotations

import gzip
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import dask.bag as db
import dask.dataframe as dd
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import SchedulerPlugin
from test_batch import build_warc  # the WARC with a corrupt record and a cp1252 page
from typer.testing import CliRunner

from boilerclf import Extractor, ModelError
from boilerclf.batch import cluster as dask_clean
from boilerclf.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def corpus(tmp_path, lighthouse_html, library_html, rail_html, rail_text):
    """JSONL (with bad lines), JSONL.gz, WARC.gz (corrupt record) and single pages,
    one of them a truncated .html.gz that only fails in the worker."""
    d = tmp_path / "in"
    (d / "pages").mkdir(parents=True)
    recs = [{"id": "lh", "url": "http://a.example/lh", "html": lighthouse_html.decode()},
            {"id": "lib", "url": "http://a.example/lib", "html": library_html.decode()},
            {"url": "http://a.example/rail", "html": rail_html}]
    text = "".join(json.dumps(r) + "\n" for r in recs)
    (d / "a.jsonl").write_text(text + "{not json\n" + json.dumps({"id": "nohtml"}) + "\n", encoding="utf-8")
    (d / "b.jsonl.gz").write_bytes(gzip.compress(text.encode()))
    build_warc(d / "c.warc.gz", lighthouse_html, library_html, gz=True)
    (d / "pages" / "lh.html").write_bytes(lighthouse_html)
    (d / "pages" / "broken.html.gz").write_bytes(gzip.compress(library_html)[:300])
    (d / "pages" / "rail.txt").write_text(rail_text, encoding="utf-8")
    return d


# ------------------------------------------------------------------ the CLI

def test_cli_on_the_cluster_gives_the_local_output(tmp_path, client, corpus, model_args):
    """JSONL and WARC inputs; jsonl (with lines) and txt outputs; errors file and exit code."""
    address = client.scheduler.address
    runs = {}
    for engine in ("local", "dask"):
        o = tmp_path / engine
        extra = ["--jobs", "1"] if engine == "local" else ["--dask", address]
        r1 = runner.invoke(app, ["clean", str(corpus), "-f", "jsonl", "--lines", "-o", str(o / "all.jsonl"),
                                 "--batch-size", "2", *model_args, *extra])
        r2 = runner.invoke(app, ["clean", str(corpus), "-o", str(o / "txt"), *model_args, *extra])
        runs[engine] = (r1.exit_code, r2.exit_code, files(o), r1.stderr.splitlines()[-1].split(";")[0])
    assert runs["dask"] == runs["local"]
    code1, code2, out, summary = runs["dask"]
    assert (code1, code2) == (1, 1)  # some pages failed, the job did not
    assert summary == "15 pages in: 11 cleaned, 0 empty, 4 failed"
    errs = jsonl(tmp_path / "dask" / "all.errors.jsonl")
    assert [(Path(e["source"]).name, e["stage"]) for e in errs] == [
        ("a.jsonl", "read"), ("a.jsonl", "read"), ("c.warc.gz", "read"), ("broken.html.gz", "read")]
    assert "not valid JSON" in errs[0]["reason"] and "missing" in errs[1]["reason"]
    assert "corrupt WARC record" in errs[2]["reason"]
    assert "truncated or corrupt gzip" in errs[3]["reason"]  # failed in a worker, not in the reader
    assert len(jsonl(tmp_path / "dask" / "all.jsonl")) == 11
    assert sum(1 for k in out if k.startswith("txt/") and k.endswith(".txt")) == 11


def test_cli_refusals(tmp_path, client, corpus, model_args):
    address = client.scheduler.address
    r = runner.invoke(app, ["clean", "-", "--dask", address, *model_args], input=b"<p>x</p>")
    assert r.exit_code == 2 and "stdin" in r.stderr
    r = runner.invoke(app, ["clean", str(corpus), "--dask", "local:zero", *model_args])
    assert r.exit_code == 2
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a model")
    r = runner.invoke(app, ["clean", str(corpus), "-o", str(tmp_path / "o"), "--dask", address,
                            "--model", str(bad), "--input-kind", "html"])
    assert r.exit_code == 2 and "bad.joblib" in r.stderr
    assert not (tmp_path / "o").exists()
    assert not client.run_on_scheduler(lambda dask_scheduler: [  # the plugin did not stay behind
        n for n in dask_scheduler.worker_plugins if n.startswith("boilerclf")])


def test_cli_resume_on_the_cluster(tmp_path, client, corpus, model_args):
    out = tmp_path / "o.jsonl"
    args = ["clean", str(corpus), "-f", "jsonl", "-o", str(out), "--dask", client.scheduler.address, *model_args]
    assert runner.invoke(app, args).exit_code == 1
    want = out.read_bytes()
    lines = want.splitlines(keepends=True)
    out.with_name("o.jsonl.tmp").write_bytes(b"".join(lines[:4]))  # as if stopped after 4 records
    out.unlink()
    r = runner.invoke(app, [*args, "--resume"])
    assert r.exit_code == 1 and "4 skipped" in r.stderr
    assert out.read_bytes() == want


# ------------------------------------------------------------------ bags, dataframes, files

def test_clean_bag_and_dataframe(client, tiny_extractor, lighthouse_html, library_html, rail_text):
    pages = [{"id": "lh", "url": "u1", "html": lighthouse_html}, {"id": "lib", "html": library_html.decode()},
             {"id": "none"}, {"id": "rail", "html": rail_text}]
    recs = dask_clean.clean_bag(db.from_sequence(pages, npartitions=2), tiny_extractor).compute()
    assert [r["id"] for r in recs] == ["lh", "lib", "none", "rail"]
    for r, p in zip(recs, pages):
        if "html" not in p:
            assert r["text"] is None and r["error"]["stage"] == "read"
            continue
        want = tiny_extractor.classify(p["html"])
        assert r["error"] is None and r["text"] == want.text and r["title"] == want.title
        assert r["counts"] == {"lines": len(want.lines), "kept": sum(x.label for x in want.lines),
                               "chars": len(want.text)}
    assert recs[0]["url"] == "u1" and recs[3]["text"]  # plain text detected
    raw = dask_clean.clean_bag(db.from_sequence([library_html], npartitions=1), tiny_extractor,
                               lines=True).compute()
    assert raw[0]["text"] == tiny_extractor.extract(library_html) and raw[0]["lines"]

    df = dd.from_pandas(pd.DataFrame({"page": [p.get("html") for p in pages], "n": range(4)}),
                        npartitions=2)
    got = dask_clean.clean_dataframe(df, "page", tiny_extractor, counts=True,
                                     error_column="error").compute()
    assert list(got.columns) == ["page", "n", "text", "lines", "kept", "chars", "error"]
    assert got["text"][0] == tiny_extractor.extract(lighthouse_html)
    assert got["text"][3] == tiny_extractor.extract(rail_text)
    assert pd.isna(got["text"][2]) and got["error"][2] == "read: page missing" and pd.isna(got["lines"][2])
    assert got["chars"][1] == len(tiny_extractor.extract(library_html)) and pd.isna(got["error"][1])


def test_clean_files_one_output_per_input(tmp_path, client, corpus, tiny_extractor, model_args):
    inputs = [corpus / "a.jsonl", corpus / "b.jsonl.gz", corpus / "c.warc.gz"]
    out = tmp_path / "out"
    reports = dask_clean.clean_files(inputs, out, tiny_extractor, client=client)
    assert [r.output.name for r in reports] == ["a.jsonl", "b.jsonl", "c.jsonl"]
    assert [(r.pages, r.cleaned, r.failed, r.other_records) for r in reports] == [
        (5, 3, 2, 0), (3, 3, 0, 0), (4, 3, 1, 2)]
    assert sorted(files(out)) == ["a.errors.jsonl", "a.jsonl", "b.jsonl", "c.errors.jsonl", "c.jsonl"]
    for inp, rep in zip(inputs, reports):  # each output = a local run of boilerclf clean on that file
        ref = tmp_path / "ref" / rep.output.name
        runner.invoke(app, ["clean", str(inp), "-f", "jsonl", "-o", str(ref), "--jobs", "1", *model_args])
        assert rep.output.read_bytes() == ref.read_bytes()
    # resume: an existing output is complete (written atomically), so its input is skipped
    (out / "b.jsonl").unlink()
    mtime = (out / "a.jsonl").stat().st_mtime_ns
    again = dask_clean.clean_files(inputs, out, tiny_extractor, client=client, resume=True)
    assert [r.skipped for r in again] == [True, False, True]
    assert (out / "a.jsonl").stat().st_mtime_ns == mtime and (out / "b.jsonl").is_file()
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="bad.joblib"):  # at once, not once per file
        dask_clean.clean_files(inputs, tmp_path / "o2", Extractor(model=bad), client=client)
    assert not (tmp_path / "o2").exists()


# ------------------------------------------------------------------ a worker dies mid-run

class _Starts(SchedulerPlugin):
    """Counts, on the scheduler, how often each task was started on a worker."""

    name = "test-starts"

    def __init__(self):
        self.starts: dict[str, int] = {}

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "processing":
            k = str(key)
            self.starts[k] = self.starts.get(k, 0) + 1


def test_killed_worker_loses_and_duplicates_nothing(tmp_path, client, tiny_extractor, lighthouse_html,
                                                    library_html):
    d = tmp_path / "crawl"
    d.mkdir()
    want: dict[str, list[tuple[str, str]]] = {}
    for f in range(4):
        recs = []
        for i in range(30):
            base = (lighthouse_html if i % 2 else library_html).decode()
            recs.append({"id": f"f{f}-{i}", "html": base.replace("<body>", f"<body><p>Page {f}/{i}.</p>", 1)})
        (d / f"part{f}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
        want[f"part{f}.jsonl"] = [(r["id"], tiny_extractor.extract(r["html"])) for r in recs]
    client.register_plugin(_Starts())
    inputs = sorted(d.iterdir())
    out = tmp_path / "out"
    box: dict = {}
    t = threading.Thread(target=lambda: box.update(
        reports=dask_clean.clean_files(inputs, out, tiny_extractor, client=client, batch_size=1)))
    t.start()
    victim = None
    t0 = time.monotonic()
    while victim is None and t.is_alive() and time.monotonic() - t0 < 60:
        for addr, keys in client.processing().items():
            if any("_clean_file" in str(k) for k in keys):
                victim = addr
                break
        else:
            time.sleep(0.02)
    assert victim is not None, "no task ever ran"
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    t.join(120)
    assert not t.is_alive()
    starts = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.plugins["test-starts"].starts)
    assert max(v for k, v in starts.items() if "_clean_file" in k) >= 2  # a task really was re-run
    reports = box["reports"]
    assert all(r.error is None and r.failed == 0 for r in reports)
    assert sorted(files(out)) == sorted(want)  # no .tmp left behind
    for name, recs in want.items():
        got = jsonl(out / name)
        assert [(g["id"], g["text"]) for g in got] == recs  # each page once, in order
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it
    assert pid not in client.run(os.getpid).values()


def test_dotted_input_name_stays_inside_out_on_the_cluster(tmp_path, client, model_args):
    c, v = tmp_path / "c", tmp_path / "v"
    c.mkdir()
    (v / "out").mkdir(parents=True)
    (v / "con.txt").write_text("precious\n")
    (c / "...jsonl").write_text(json.dumps({"id": "con", "html": "<p>x</p>"}) + "\n")
    r = runner.invoke(app, ["clean", str(c), "--out", str(v / "out"), "--dask", client.scheduler.address,
                            *model_args])
    assert r.exit_code == 0, r.output
    assert (v / "con.txt").read_text() == "precious\n"
    assert sorted(files(v / "out")) == ["__/con.txt"]
