#!/usr/bin/env python3
"""Cost per page against page size: is boilerclf linear in the page?  (A benchmark, not a test.)

    python benchmarks/size_scaling.py --datasets ../shared/datasets --write-md benchmarks/SIZE_SCALING.md

On one core, for every page of the chosen sets (default: wcxb_dev, today's pages
of seven types, and dragnet, 2011-12 news), it times ``Extractor().extract(page,
"html")`` and the bare lexbor parse of the same decoded text, each the best of
``--repeat`` runs, and fits time = a + b x size by least squares.  It writes a
PNG of ms/page against page size (``benchmarks/size_scaling.png``; needs
matplotlib, in the ``bench`` extra) and the fit to ``--write-md``.
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares ``y = a + b x``: ``(a, b, R²)``."""
    b, a = np.polyfit(x, y, 1)
    r2 = 1 - ((y - (a + b * x)) ** 2).sum() / max(((y - y.mean()) ** 2).sum(), 1e-12)
    return float(a), float(b), float(r2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=str(HERE.parent.parent / "shared" / "datasets"))
    ap.add_argument("--sets", default="wcxb_dev,dragnet")
    ap.add_argument("--pages", type=int, default=400, help="first N page ids of each set (sorted)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: the last one)")
    ap.add_argument("--png", default=str(HERE / "size_scaling.png"))
    ap.add_argument("--write-md", default=None)
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    from selectolax.lexbor import LexborHTMLParser

    from boilerclf import Extractor
    from boilerclf.parse.decode import decode

    ex = Extractor()
    rows = []
    for name in args.sets.split(","):
        d = Path(args.datasets) / name / "html"
        for f in sorted(d.glob("*.html.gz"))[: args.pages]:
            raw = gzip.decompress(f.read_bytes())
            text = decode(raw)
            ex.extract(raw, "html")  # warm
            t_ex = best_of(lambda: ex.extract(raw, "html"), args.repeat)
            t_parse = best_of(lambda: LexborHTMLParser(text), args.repeat)
            rows.append((name, f.name[: -len(".html.gz")], len(raw), t_ex, t_parse))
    kb = np.array([r[2] for r in rows]) / 1e3
    ms = np.array([r[3] for r in rows]) * 1e3
    parse_ms = np.array([r[4] for r in rows]) * 1e3
    a, b, r2 = fit(kb, ms)
    pa, pb, pr2 = fit(kb, parse_ms)
    big = kb >= np.quantile(kb, 0.9)
    ratio_small = float(np.median(ms[~big] / kb[~big]))
    ratio_big = float(np.median(ms[big] / kb[big]))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
        for name, color in zip(args.sets.split(","), ("tab:blue", "tab:orange", "tab:green")):
            m = np.array([r[0] == name for r in rows])
            ax.scatter(kb[m], ms[m], s=8, alpha=0.6, color=color, label=f"boilerclf extract, {name}")
        ax.scatter(kb, parse_ms, s=5, alpha=0.4, color="grey", label="lexbor parse alone")
        xs = np.linspace(0, kb.max(), 50)
        ax.plot(xs, a + b * xs, color="black", lw=1, label=f"fit: {a:.2f} ms + {b * 1000:.2f} ms/MB (R² {r2:.2f})")
        ax.set_xlabel("page size (KB of HTML)")
        ax.set_ylabel("ms per page (best of %d, one core)" % args.repeat)
        ax.legend(fontsize=7, loc="upper left")
        ax.set_title("boilerclf: cost per page against page size")
        fig.tight_layout()
        fig.savefig(args.png)
        png = Path(args.png)
    except ImportError:
        png = None
    res = {"pages": len(rows), "sets": args.sets.split(","), "fit_ms": {"a": a, "b_per_kb": b, "r2": r2},
           "parse_fit_ms": {"a": pa, "b_per_kb": pb, "r2": pr2},
           "ms_per_kb_median": {"below_p90": ratio_small, "top_10pct": ratio_big},
           "max_kb": float(kb.max())}
    print(json.dumps(res, indent=1))
    if args.write_md:
        cmd = "python benchmarks/" + " ".join([Path(sys.argv[0]).name] + sys.argv[1:])
        md = f"""# Cost per page against page size

Generated {time.strftime('%Y-%m-%d')} by `{cmd}`: {len(rows)} pages ({', '.join(res['sets'])}, the first
{args.pages} ids of each), one core, each page timed as the best of {args.repeat} runs of
`Extractor().extract(page, "html")` (decoding included) and of the lexbor parse alone.

| | fixed cost a | per KB b | R² of a + b x size |
|---|---|---|---|
| boilerclf extract | {a:.2f} ms | {b * 1000:.1f} µs | {r2:.2f} |
| lexbor parse | {pa:.2f} ms | {pb * 1000:.1f} µs | {pr2:.2f} |

Median time per KB: {ratio_small * 1000:.1f} µs on the pages below the 90th percentile of size,
{ratio_big * 1000:.1f} µs on the largest tenth (up to {kb.max():.0f} KB): the cost per KB does not
grow with the page.{f" Plot: `{png.name}`." if png else ""}
"""
        Path(args.write_md).write_text(md)


if __name__ == "__main__":
    main()
