#!/usr/bin/env python3
"""The same WARC.gz of pages through every way of running boilerclf, and through
datatrove's trafilatura step (a benchmark, not a test).

    python benchmarks/pipelines.py ../shared/datasets/wcxb_dev [--pages 600] \\
        [--write-md benchmarks/PIPELINES.md]

The pages of a shared dataset (the first ``--pages`` ids, sorted) are packed
into one WARC.gz of HTTP responses (``scale.pack``).  Each run below starts in
its own subprocess pinned to one core (``taskset -c 1`` where it exists),
and its wall time is measured from the outside, start-up included; the
library rows also say how long their import and model load took.

* ``extract_many (library)``: the WARC's HTML bodies, read and decoded into
  memory before the clock starts, through ``Extractor().extract_many(...,
  n_jobs=1)``: the floor the other rows are compared with;
* ``extract per page (library)``: the same bodies, ``Extractor().extract`` one
  page at a time;
* ``boilerclf clean --jobs 1 -f jsonl``: the command line on the WARC.gz;
* ``datatrove + boilerclf``: datatrove's ``WarcReader`` -> ``Boilerclf``
  (``boilerclf.batch.datatrove_step``) -> ``JsonlWriter``, one task, one worker;
* ``datatrove + trafilatura``: the same with datatrove's own ``Trafilatura``
  step (its defaults: ``favour_precision=True``, ``timeout=1``).

Reported: wall seconds, pages/s over the whole run, and each row's time
against ``extract_many``'s.  Best of ``--repeat`` runs (default 2).  The
library rows' start-up includes reading and decompressing the WARC, which
the command line and datatrove do while they extract.  Needs datatrove's
WARC reader dependencies (``pip install datatrove faust-cchardet python-magic``).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from scale import pack  # noqa: E402

LIBRARY = r"""
import sys, time, json
t0 = time.perf_counter()
from warcio.archiveiterator import ArchiveIterator
bodies = []
with open(sys.argv[1], "rb") as f:
    for rec in ArchiveIterator(f):
        if rec.rec_type == "response":
            bodies.append(rec.content_stream().read())
import boilerclf
ex = boilerclf.Extractor()
ex.extract(bodies[0], "html")
ready = time.perf_counter()
if sys.argv[2] == "batch":
    out = list(ex.extract_many(bodies, kind="html", n_jobs=1))
else:
    out = [ex.extract(b, "html") for b in bodies]
done = time.perf_counter()
print(json.dumps({"pages": len(bodies), "start": ready - t0, "work": done - ready}))
"""

DATATROVE = r"""
import sys, time
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.writers import JsonlWriter
if sys.argv[3] == "boilerclf":
    from boilerclf.batch.datatrove_step import Boilerclf
    step = Boilerclf(timeout=1, batch_size=64)
else:
    from datatrove.pipeline.extractors import Trafilatura
    step = Trafilatura(timeout=1)
LocalPipelineExecutor(pipeline=[WarcReader(sys.argv[1]), step, JsonlWriter(sys.argv[2])],
                      tasks=1, workers=1, logging_dir=sys.argv[2] + "-logs").run()
"""


def pinned(cmd: list[str]) -> list[str]:
    return (["taskset", "-c", "1"] if shutil.which("taskset") and os.cpu_count() and os.cpu_count() > 1
            else []) + cmd


def run(cmd: list[str], env: dict) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(pinned(cmd), capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if r.returncode:
        raise SystemExit(f"{cmd[:3]} failed: {r.stderr.strip().splitlines()[-1:]}")
    return wall, r.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--pages", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--write-md", type=Path)
    a = ap.parse_args()
    exe = shutil.which("boilerclf") or sys.exit("boilerclf is not installed")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="boilerclf-pipelines-") as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        n = pack(a.dataset, tmp / "in", 1, a.pages)
        warc = tmp / "in" / "part0.warc.gz"
        mb = warc.stat().st_size / 1e6
        print(f"{n} pages, one WARC.gz of {mb:.1f} MB")
        runs = {
            "extract_many (library)": [sys.executable, "-c", LIBRARY, str(warc), "batch"],
            "extract per page (library)": [sys.executable, "-c", LIBRARY, str(warc), "page"],
            "boilerclf clean --jobs 1 -f jsonl": [exe, "clean", str(warc), "-f", "jsonl", "--jobs", "1", "-q",
                                                  "-o", str(tmp / "clean.jsonl")],
            "datatrove + boilerclf": [sys.executable, "-c", DATATROVE, str(tmp / "in"), str(tmp / "dt-b"),
                                      "boilerclf"],
            "datatrove + trafilatura": [sys.executable, "-c", DATATROVE, str(tmp / "in"), str(tmp / "dt-t"),
                                        "trafilatura"],
        }
        for name, cmd in runs.items():
            best = None
            for i in range(a.repeat):
                for out in ("clean.jsonl", "dt-b", "dt-t", "dt-b-logs", "dt-t-logs"):
                    p = tmp / out
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
                wall, stdout = run(cmd, env)
                info = json.loads(stdout) if "library" in name else {}
                if best is None or wall < best["wall"]:
                    best = {"wall": wall, **info}
            rows[name] = best
            print(f"{name:36s} {best['wall']:7.2f} s  {n / best['wall']:7.1f} pages/s", flush=True)
    floor = rows["extract_many (library)"]["wall"]
    lines = [
        "# The same pages through each way of running boilerclf",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by "
        f"`python benchmarks/pipelines.py <datasets>/{a.dataset.name} --pages {a.pages} "
        f"--repeat {a.repeat}` (see its docstring). {n} pages of {a.dataset.name} in one WARC.gz of {mb:.1f} MB; "
        "each run a fresh process on one core, wall time from the outside (start-up included), best of "
        f"{a.repeat}.  The machine may be shared: compare rows of this run, not runs.",
        "",
        "| run | wall s | pages/s | × extract_many's wall | start-up s (reading the WARC, import, model) | extraction s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        start = f"{r['start']:.2f}" if "start" in r else ""
        work = f"{r['work']:.2f}" if "work" in r else ""
        lines.append(f"| {name} | {r['wall']:.2f} | {n / r['wall']:.1f} | {r['wall'] / floor:.2f}× | {start} | {work} |")
    lines.append("")
    text = "\n".join(lines)
    print(text)
    if a.write_md:
        a.write_md.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
