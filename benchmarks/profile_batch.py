"""Where the batch predictor spends its time (a benchmark, not a test).

Runs ``Extractor.extract_many(pages, kind="html", batch_size=64, n_jobs=1)``
over the first ``--pages`` dragnet pages (sorted ids) under cProfile, after an
untimed warm-up batch, and prints the share of each pipeline stage:

    python benchmarks/profile_batch.py --pages 200
    python benchmarks/profile_batch.py --pages 200 --top 25   # and the top functions

Stages are cumulative times of the pipeline's entry points (decode, the DOM
walk and, inside it, the markup guard and the class/id hint words that reach
Python, features, the model call and, inside it, the tree predictor and the
context features or the stage-2 input, the cross-reference rule), so they may overlap
only where one calls another.  Both timed passes start with empty class/id
hint caches (as on pages of sites not seen before; the caches keep a class
name's hint bits across pages), so the profiled pass is as cold as the plain
one.  cProfile adds
overhead to Python-level calls, so the shares matter more than the seconds.
Times are this process's CPU time (steadier than wall time on a shared
machine); set OMP_NUM_THREADS=1 so that is one thread's time (the batch engine
predicts on one thread anyway).
"""
from __future__ import annotations

import argparse
import cProfile
import gzip
import pstats
import sys
import time
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"

#: (label, module file suffix, function name) of the stages reported.
STAGES = [
    ("decode (bytes -> str)", "boilerclf/parse/decode.py", "decode"),
    ("lines (DOM walk)", "boilerclf/parse/lines.py", "html_lines"),
    ("  markup guard", "boilerclf/parse/guard.py", "apply"),
    ("  class/id hint words (cache misses in Python)", "boilerclf/parse/lines.py", "hint_bits"),
    ("features", "boilerclf/features/table.py", "page_features"),
    ("model call (decision_scores)", "boilerclf/model/classifier.py", "decision_scores"),
    ("  scikit-learn predict_proba", "sklearn/ensemble/_hist_gradient_boosting/gradient_boosting.py",
     "predict_proba"),
    ("  trees, both stages (FlatTrees.raw_predict)", "boilerclf/model/trees.py", "raw_predict"),
    ("    of which stage 2 (FlatTrees.predict_proba1)", "boilerclf/model/trees.py", "predict_proba1"),
    ("  context features", "boilerclf/model/classifier.py", "context_features"),
    ("  stage-2 input (features and context, compiled)", "boilerclf/model/classifier.py", "stage2_input"),
    ("cross-reference rule", "boilerclf/decide/rules.py", "cap_scores"),
]


def cold_hints() -> None:
    """Empty the class/id hint caches (the walker's and lines.py's)."""
    from boilerclf.parse import lines

    lines._hint_cache.clear()
    try:
        from boilerclf.parse import _cwalk

        _cwalk._set_hint_cache_max(100_000)  # empties the compiled walker's cache
    except ImportError:
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default=str(DATASETS / "dragnet"))
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--model", default=None, help="HTML model file (default: the shipped one)")
    ap.add_argument("--trusted-model", action="store_true", help="allow a legacy pickled model file")
    ap.add_argument("--top", type=int, default=0, help="also print the top N functions by own time")
    args = ap.parse_args(argv)

    from boilerclf import Extractor

    d = Path(args.dataset) / "html"
    files = sorted(d.glob("*.html.gz"))[: args.pages]
    raws = [gzip.decompress(f.read_bytes()) for f in files]
    kw = {"trusted": True} if args.trusted_model else {}
    ex = Extractor(model=args.model, **kw)
    t0 = time.perf_counter()
    ex.model_for("html")
    load_s = time.perf_counter() - t0
    list(ex.extract_many(raws[:64], kind="html", batch_size=64))  # warm-up, untimed

    cold_hints()
    t0 = time.process_time()
    list(ex.extract_many(raws, kind="html", batch_size=64))
    plain = time.process_time() - t0
    cold_hints()

    prof = cProfile.Profile(time.process_time)
    prof.enable()
    list(ex.extract_many(raws, kind="html", batch_size=64))
    prof.disable()
    st = pstats.Stats(prof)
    total = sum(v[2] for v in st.stats.values())  # own times add up to the profiled total
    print(f"{len(raws)} pages of {args.dataset}; model load {load_s * 1000:.0f} ms")
    print(f"without profiler: {plain:.2f} CPU s = {len(raws) / plain:.1f} pages/CPU-s "
          f"({plain / len(raws) * 1000:.2f} ms/page)")
    print(f"under cProfile: {total:.2f} CPU s")
    print(f"{'stage':46} {'CPU s':>7} {'share':>6}")
    for label, suffix, name in STAGES:
        cum = sum(v[3] for (file, _, fn), v in st.stats.items()
                  if fn == name and file.replace("\\", "/").endswith(suffix))
        if cum:
            print(f"{label:46} {cum:7.2f} {cum / total:6.1%}")
    if args.top:
        st.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
