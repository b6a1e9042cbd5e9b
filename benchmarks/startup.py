"""Start-up cost: what a short job pays before and around its first page.

Each case is a fresh process, run ``--runs`` times in turns (one run of every
case, then the next round), pinned to one core with ``--cpu``; the table gives
the median and the best wall time and the median CPU time (user + system) of
the process.  Cases: the bare interpreter, ``import boilerclf``, one page
through ``boilerclf.extract``, ``boilerclf clean`` of one file, and the
peers' import + one page (trafilatura, turbohtml) when installed.

    python benchmarks/startup.py --page PAGE.html[.gz] --cpu 0 --runs 15 \\
        --write-md benchmarks/STARTUP.md
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cases(page: Path, out: Path) -> list[tuple[str, list[str]]]:
    py = sys.executable
    read = f"open({str(page)!r}, 'rb').read()"
    got = [
        ("python (interpreter only)", [py, "-c", "pass"]),
        ("import boilerclf", [py, "-c", "import boilerclf"]),
        ("import boilerclf + extract one page", [py, "-c", f"import boilerclf; boilerclf.extract({read})"]),
    ]
    cli = shutil.which("boilerclf")
    if cli:
        got.append(("boilerclf clean one.html (CLI, default --jobs)", [cli, "clean", str(page), "-q", "-o", str(out)]))
        got.append(("boilerclf clean one.html --jobs 1", [cli, "clean", str(page), "-q", "-j", "1", "-o", str(out)]))
    if importlib.util.find_spec("trafilatura"):
        got.append(("import trafilatura + extract one page",
                    [py, "-c", f"import trafilatura; trafilatura.extract({read})"]))
    if importlib.util.find_spec("turbohtml"):
        got.append(("import turbohtml + main_text of one page",
                    [py, "-c", f"import turbohtml; turbohtml.parse({read}, detect_encoding=True).main_text()"]))
    return got


def run_once(argv: list[str], cpu: int | None) -> tuple[float, float]:
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--page", type=Path, required=True, help="an HTML page (.html or .html.gz)")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--cpu", type=int, default=None, help="pin every run to this core")
    ap.add_argument("--write-md", type=Path, default=None)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="boilerclf-startup-"))
    page = tmp / "one.html"
    raw = a.page.read_bytes()
    page.write_bytes(gzip.decompress(raw) if a.page.suffix == ".gz" else raw)
    todo = cases(page, tmp / "out")
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in todo}
    load0 = os.getloadavg()
    t0 = time.time()
    for _ in range(a.runs):
        for name, argv in todo:
            times[name].append(run_once(argv, a.cpu))
            shutil.rmtree(tmp / "out", ignore_errors=True)
    load1 = os.getloadavg()
    rows = []
    for name, _ in todo:
        walls = [w for w, _ in times[name]]
        cpus = [c for _, c in times[name]]
        rows.append(f"| {name} | {statistics.median(walls):.3f} | {min(walls):.3f} | {statistics.median(cpus):.3f} |")
    import boilerclf  # the version under test

    lines = [
        "# Start-up",
        "",
        f"Command: `python benchmarks/startup.py --page {a.page} --runs {a.runs}"
        + (f" --cpu {a.cpu}" if a.cpu is not None else "") + "`",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(t0))} (took {time.time() - t0:.0f} s); "
        f"python {platform.python_version()}, boilerclf {getattr(boilerclf, '__version__', '?')}; "
        f"page {len(page.read_bytes()) / 1024:.1f} KB; load average at start {load0[0]:.2f}, at end {load1[0]:.2f}.",
        "",
        "Each case is a fresh process, run in turns with the others; wall and CPU (user + system) seconds "
        f"over {a.runs} runs.",
        "",
        "| case | median wall s | best wall s | median CPU s |",
        "|---|---:|---:|---:|",
        *rows,
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if a.write_md:
        old = a.write_md.read_text() if a.write_md.exists() else ""
        keep = old.split("<!-- end of generated table -->", 1)[1] if "<!-- end of generated table -->" in old else ""
        a.write_md.write_text(text + "<!-- end of generated table -->" + keep)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
