"""Scaling of ``boilerclf clean`` on Dask: pages/s at 1 and 2 workers (benchmarks/SCALE.md).

Packs the pages of a dataset folder (``html/<id>.html.gz``) into a few WARC.gz
files in a temporary directory (never in the repository), then runs
``boilerclf clean DIR -f jsonl -o OUT`` with each engine a few times and keeps
the best run (the machine is shared)::

    OMP_NUM_THREADS=1 python benchmarks/scale.py ../shared/datasets/dragnet --files 8 --repeat 3

Each run is a fresh ``boilerclf`` process; its summary line gives the startup
(worker processes, or LocalCluster and model plugin) and the pages/s after it.
"""
from __future__ import annotations

import argparse
import gzip
import io
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENGINES = {"jobs1": ["--jobs", "1"], "jobs2": ["--jobs", "2"],
           "dask1": ["--dask", "local:1"], "dask2": ["--dask", "local:2"]}


def pack(dataset: Path, out: Path, n_files: int, limit: int = 0) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pages = sorted((dataset / "html").glob("*.html.gz"))
    pages = pages[:limit] if limit else pages
    for i in range(n_files):
        with open(out / f"part{i}.warc.gz", "wb") as f:
            w = WARCWriter(f, gzip=True)
            for p in pages[i::n_files]:
                http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
                w.write_record(w.create_warc_record(f"http://bench.example/{p.name[:-8]}", "response",
                                                    payload=io.BytesIO(gzip.decompress(p.read_bytes())),
                                                    http_headers=http))
    return len(pages)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--pages", type=int, default=0, help="only the first N pages (0: all)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", default=",".join(ENGINES))
    a = ap.parse_args()
    exe = shutil.which("boilerclf") or sys.exit("boilerclf is not installed")
    with tempfile.TemporaryDirectory(prefix="boilerclf-scale-") as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        n = pack(a.dataset, tmp / "in", a.files, a.pages)
        print(f"{n} pages in {a.files} WARC.gz files")
        outputs = {}
        for name in a.engines.split(","):
            runs = []
            for _ in range(a.repeat):
                out = tmp / f"{name}.jsonl"
                t0 = time.monotonic()
                r = subprocess.run([exe, "clean", str(tmp / "in"), "-f", "jsonl", "-o", str(out),
                                    *ENGINES[name]], capture_output=True, text=True)
                wall = time.monotonic() - t0
                line = r.stderr.strip().splitlines()[-1]
                m = re.search(r"startup ([\d.]+) s, then ([\d.]+) pages/s", line)
                runs.append((float(m.group(2)), wall, float(m.group(1))))
                outputs[name] = out.read_bytes()
            rate = max(r[0] for r in runs)
            wall = min(r[1] for r in runs)
            startup = min(r[2] for r in runs)
            print(f"{name:6} {' '.join(ENGINES[name]):16} best of {a.repeat}: {rate:6.1f} pages/s after "
                  f"startup (startup {startup:.1f} s); wall {wall:.1f} s = {n / wall:.1f} pages/s", flush=True)
        ref = next(iter(outputs.values()))
        print("outputs identical:", all(v == ref for v in outputs.values()))


if __name__ == "__main__":
    main()
