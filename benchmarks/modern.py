#!/usr/bin/env python3
"""Modern pages: the shipped boilerclf model beside its peers on wcxb_dev, per page type.

One run:

* runs the peers (``benchmarks/peers.py``'s registry, plus turbohtml's main-content
  extraction when turbohtml is installed) on wcxb_dev, tiptopjaw_wceb2026_llm,
  webmainbench_sample and trafilatura_eval, caching their outputs under
  ``--peers-cache`` in peers.py's format (``CACHE/<peer>/<dataset>.json``; a cached
  file is reused);
* runs the shipped boilerclf HTML model (``Extractor()``, its default threshold, and
  ``Extractor(threshold="auto")``) on the three full-gold sets;
* scores wcxb_dev with WCXB's word-level metric (``shared/tools/word_score.py``,
  per page type) and with the shingle metric (``boilerclf.metrics``), the two other
  sets with the shingle metric, and trafilatura_eval with snippet accuracy
  (``benchmarks/quality.py``'s way: boilerclf's number is the training report's,
  from an HTML model trained without trafilatura_eval);
* writes per-page scores to ``benchmarks/results/modern_<date>.json`` and the tables
  to ``--write-md`` (text after ``<!-- end of generated tables -->`` is kept).

    python benchmarks/modern.py --datasets ../shared/datasets --peers-cache ../cache/peers \\
        --write-md benchmarks/MODERN.md
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import importlib.metadata as md  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

WCXB = "wcxb_dev"
TIPTOP = "tiptopjaw_wceb2026_llm"
WMB = "webmainbench_sample"
SNIP = "trafilatura_eval"
FULL_SETS = [WCXB, TIPTOP, WMB]
MARKER = "<!-- end of generated tables -->"
TURBOHTML_VERSION = "1.15"

PEER_LABEL = {
    "trafilatura": "trafilatura",
    "trafilatura_comments": "trafilatura (comments)",
    "readability": "readability-lxml",
    "resiliparse": "resiliparse",
    "justext": "jusText",
    "boilerpy3": "boilerpy3",
    "turbohtml": "turbohtml",
}
OURS = {"boilerclf": "boilerclf (default)", "boilerclf_auto": 'boilerclf (threshold="auto")'}


def log(msg: str) -> None:
    print(time.strftime("%H:%M:%S"), msg, flush=True)


def _turbohtml(raw: bytes) -> str:
    """turbohtml's main content as plain text: ``parse(raw).main_text()`` (= ``article().text``;
    the bytes' encoding sniffed by turbohtml, with its frequency-scored candidates)."""
    import turbohtml
    return turbohtml.parse(raw, detect_encoding=True).main_text() or ""


def load_word_score(path: Path):
    spec = importlib.util.spec_from_file_location("wcxb_word_score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def version(dist: str) -> str:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"


def first_line(text: str) -> str:
    return next((ln for ln in (text or "").split("\n") if ln.strip()), "")


def title_start(text: str, title: str, tokens) -> tuple[bool, bool]:
    """(exact, lenient): the text's first non-empty line is the title (same lower-cased
    \\w+ tokens); lenient also when one of the two token lists starts with the other
    (at least two tokens shared)."""
    a, b = tokens(first_line(text)), tokens(title)
    if not a or not b:
        return False, False
    exact = a == b
    n = min(len(a), len(b))
    return exact, exact or (n >= 2 and a[:n] == b[:n])


def drop_title_line(text: str, title: str, tokens) -> str:
    lines = (text or "").split("\n")
    for i, ln in enumerate(lines):
        if ln.strip():
            if title_start(ln, title, tokens)[1]:
                return "\n".join(lines[i + 1:])
            break
    return text


def shingle_page(metrics, gold: str, pred: str) -> dict:
    p, r, f = metrics.page_prf(*metrics.page_counts(gold, pred))
    return {"p": p, "r": r, "f1": f}


def f3(x) -> str:
    return "–" if x is None or x != x else f"{x:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--peers-cache", default=str(REPO.parent / "cache" / "peers"))
    ap.add_argument("--word-score", default=None,
                    help="WCXB's word_score.py (default: DATASETS/../tools/word_score.py)")
    ap.add_argument("--report", default=str(REPO / "models" / "training_report.json"))
    ap.add_argument("--timeout", type=float, default=30.0, help="per-page limit for a peer (s)")
    ap.add_argument("--heldout", default=None,
                    help="wcxb_dev texts held out by training's domain-grouped k-fold "
                         "(CACHE/heldout/wcxb_dev.html.json, written by `boilerclf train`): boilerclf's "
                         "wcxb_dev numbers when the shipped model trained on wcxb_dev")
    ap.add_argument("--write-md", default=None)
    ap.add_argument("--results", default=str(HERE / "results"),
                    help="folder for modern_<date>.json (per-page scores)")
    args = ap.parse_args()
    t_run = time.perf_counter()
    date = time.strftime("%Y-%m-%d")
    root = Path(args.datasets).resolve()
    cache = Path(args.peers_cache).resolve()
    # peers.load_dataset reads this at import time
    os.environ["BOILERCLF_DATASETS"] = str(root)
    import peers as peers_mod
    import quality

    from boilerclf import Extractor, metrics

    ws = load_word_score(Path(args.word_score) if args.word_score else root.parent / "tools" / "word_score.py")
    report = json.loads(Path(args.report).read_text())
    failures: list[str] = []

    # ---- peers (cached in peers.py's format)
    peer_names = list(peers_mod.RAW_PEERS)
    turbo_v = version("turbohtml")
    if turbo_v.startswith(TURBOHTML_VERSION + "."):
        peers_mod.RAW_PEERS["turbohtml"] = _turbohtml  # the forked worker inherits it
        peer_names.append("turbohtml")
    else:
        failures.append(f"turbohtml {TURBOHTML_VERSION}.x not installed ({turbo_v}): not run")
    order = [p for p in ["trafilatura", "trafilatura_comments", "readability", "resiliparse",
                         "justext", "boilerpy3", "turbohtml"] if p in peer_names]
    cached_before = {}
    for peer in order:
        for ds in FULL_SETS + [SNIP]:
            cached_before[(peer, ds)] = (cache / peer / f"{ds}.json").exists()
            peers_mod.run_peer(peer, ds, cache, args.timeout, None, log)
    peer_meta = {}
    for peer in order:
        for ds in FULL_SETS + [SNIP]:
            m = json.loads((cache / peer / f"{ds}.meta.json").read_text())
            peer_meta[f"{peer}/{ds}"] = {k: m[k] for k in ("n_pages", "wall_seconds", "pages_per_s",
                                                           "n_errors", "n_timeouts", "n_empty", "date")}
            if m["n_errors"] or m["n_timeouts"]:
                failures.append(f"{peer} on {ds}: {m['n_errors']} errors, {m['n_timeouts']} timeouts "
                                f"(scored as empty outputs)")

    # ---- boilerclf (shipped model), never cached
    trained_on_wcxb = WCXB in (report.get("train_sets") or [])
    if trained_on_wcxb and not args.heldout:
        sys.exit("the shipped model trained on wcxb_dev: give --heldout (its k-fold held-out texts)")
    data = {ds: peers_mod.load_dataset(ds) for ds in FULL_SETS}
    preds: dict[str, dict[str, dict[str, str]]] = {}
    timing = {}
    ours = (("boilerclf", {}),) if trained_on_wcxb else (("boilerclf", {}), ("boilerclf_auto", {"threshold": "auto"}))
    for name, kw in ours:
        ex = Extractor(**kw)
        for ds in FULL_SETS:
            ids, pages, _ = data[ds]
            t0 = time.perf_counter()
            out = list(ex.extract_many([pages[i] for i in ids], kind="html"))
            timing[f"{name}/{ds}"] = round(time.perf_counter() - t0, 2)
            preds.setdefault(name, {})[ds] = dict(zip(ids, out))
            log(f"[done] {name}/{ds}: {len(ids)} pages in {timing[f'{name}/{ds}']}s")
    if trained_on_wcxb:
        held = json.loads(Path(args.heldout).read_text())
        preds["boilerclf"][WCXB] = {k: (held.get(k) or {}).get("articleBody") or "" for k in data[WCXB][0]}
        OURS.pop("boilerclf_auto", None)
        OURS["boilerclf"] = f"boilerclf ({report['kfold'][WCXB]['folds']['k']}-fold by site)"
    for peer in order:
        for ds in FULL_SETS:
            raw = json.loads((cache / peer / f"{ds}.json").read_text())
            preds.setdefault(peer, {})[ds] = {k: (v or {}).get("articleBody") or "" for k, v in raw.items()}
    systems = list(OURS) + order
    same_default_auto = "boilerclf_auto" in preds and all(
        preds["boilerclf"][ds] == preds["boilerclf_auto"][ds] for ds in FULL_SETS)

    # ---- scores
    gold_txt = {ds: {k: (v.get("articleBody") or "") for k, v in data[ds][2].items()} for ds in FULL_SETS}
    wgold = data[WCXB][2]
    # word metric aggregates: word_score.py's own score() on prediction files
    with tempfile.TemporaryDirectory() as td:
        files = []
        for s in systems:
            f = Path(td) / f"{s}.json"
            f.write_text(json.dumps({k: {"articleBody": v} for k, v in preds[s][WCXB].items()}))
            files.append(str(f))
        ws.score(str(root / WCXB), files, str(Path(td) / "word.json"))
        word = json.loads((Path(td) / "word.json").read_text())
    types = [t for t in ws.TYPES if t in word[systems[0]]]
    shingle, shingle_type, per_page = {}, {}, {}
    for s in systems:
        shingle[s] = {ds: metrics.evaluate(gold_txt[ds], preds[s][ds]) for ds in FULL_SETS}
        shingle_type[s] = {t: metrics.evaluate({k: g for k, g in gold_txt[WCXB].items()
                                                if wgold[k].get("page_type") == t}, preds[s][WCXB])
                           for t in types}
        pp = per_page[s] = {}
        for ds in FULL_SETS:
            pp[ds] = {}
            for k, g in gold_txt[ds].items():
                pred = preds[s][ds].get(k, "")
                row = {"shingle": shingle_page(metrics, g, pred), "words_out": len(ws.tokens(pred))}
                if ds == WCXB:
                    wp, wr, wf = ws.word_prf(pred, g)
                    row["word"] = {"p": wp, "r": wr, "f1": wf,
                                   "with": ws.snip(pred, wgold[k].get("with")),
                                   "without": ws.snip(pred, wgold[k].get("without"))}
                pp[ds][k] = row
    # word_score.py's aggregate == the mean of its per-page values (a check, not a second metric)
    for s in systems:
        mean = sum(r["word"]["f1"] for r in per_page[s][WCXB].values()) / len(per_page[s][WCXB])
        if abs(mean - word[s]["all"]["f1"]) > 1e-9:
            failures.append(f"{s}: per-page word F1 mean {mean} != word_score.py {word[s]['all']['f1']}")

    # snippet accuracy (trafilatura_eval), as quality.py computes it
    held_snip = ((report.get("snippets") or {}).get(SNIP) or {}).get("snippet_accuracy")
    snip_row = quality.snippet_row(root, cache, held_snip)
    if "turbohtml" in order:
        snip_row["turbohtml"] = peers_mod.snippet_accuracy(
            peers_mod.load_dataset(SNIP)[2],
            json.loads((cache / "turbohtml" / f"{SNIP}.json").read_text()))["snippet_accuracy"]
    trained_on_snip = SNIP in ((report.get("snippet_sets") or {}).get("sets") or [])
    train_sets = report.get("train_sets") or []
    lodo = report.get("lodo") or {}

    # ---- modern macro
    def macro_row(f_wcxb, f_tip, f_wmb, sn):
        m3 = (f_wcxb + f_tip + f_wmb) / 3
        m4 = (f_wcxb + f_tip + f_wmb + sn) / 4 if sn is not None else None
        return {"wcxb_dev": f_wcxb, TIPTOP: f_tip, WMB: f_wmb, "macro3": m3, SNIP: sn, "macro4": m4}

    macro = {}
    for s in systems:
        sn = held_snip if s in OURS else snip_row.get(s)
        macro[s] = macro_row(shingle[s][WCXB]["f1"], shingle[s][TIPTOP]["f1"], shingle[s][WMB]["f1"], sn)
    held_row = None
    if TIPTOP in lodo and WMB in lodo:
        held_row = macro_row(shingle["boilerclf"][WCXB]["f1"], lodo[TIPTOP]["html"]["f1"],
                             lodo[WMB]["html"]["f1"], held_snip)

    # ---- error analysis (boilerclf default vs trafilatura on wcxb_dev, word F1)
    ppb, ppt = per_page["boilerclf"][WCXB], per_page["trafilatura"][WCXB]
    gaps = sorted(ppb, key=lambda k: (ppb[k]["word"]["f1"] - ppt[k]["word"]["f1"], k))
    worst = gaps[:10]
    n_behind = sum(1 for k in ppb if ppt[k]["word"]["f1"] - ppb[k]["word"]["f1"] > 0.1)
    n_ahead = sum(1 for k in ppb if ppb[k]["word"]["f1"] - ppt[k]["word"]["f1"] > 0.1)
    # headline convention
    titled = [k for k, v in wgold.items() if (v.get("title") or "").strip() and gold_txt[WCXB][k].strip()]
    heads = {}
    for who, texts in [("gold", gold_txt[WCXB])] + [(s, preds[s][WCXB]) for s in ["boilerclf", "trafilatura"]]:
        st = [title_start(texts.get(k, ""), wgold[k]["title"], ws.tokens) for k in titled]
        heads[who] = {"exact": sum(a for a, _ in st) / len(st), "lenient": sum(b for _, b in st) / len(st),
                      "n": len(st)}
    # what the headline costs boilerclf: its outputs with a leading title line removed (scoring only)
    no_head = {k: (drop_title_line(v, wgold[k].get("title") or "", ws.tokens)
                   if (wgold[k].get("title") or "").strip() else v)
               for k, v in preds["boilerclf"][WCXB].items()}
    n_dropped = sum(1 for k in no_head if no_head[k] != preds["boilerclf"][WCXB][k])
    nh_word = sum(ws.word_prf(no_head[k], gold_txt[WCXB][k])[2] for k in gold_txt[WCXB]) / len(gold_txt[WCXB])
    nh_shingle = metrics.evaluate(gold_txt[WCXB], no_head)
    head_cost = {"n_pages_title_line_removed": n_dropped, "word_f1": nh_word, "shingle": nh_shingle}

    wall = time.perf_counter() - t_run
    log(f"run took {wall:.0f}s")

    # ---- versions
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    digests = json.loads((REPO / "models" / "digests.json").read_text())
    versions = {
        "python": sys.version.split()[0],
        "boilerclf": f"{version('boilerclf')} (commit {commit}, boilerclf-html.npz "
                     f"{digests.get('boilerclf-html.npz', '')[:16]})",
        "trafilatura": version("trafilatura"), "readability-lxml": version("readability-lxml"),
        "resiliparse": version("resiliparse"), "jusText": version("justext"),
        "boilerpy3": version("boilerpy3"), "turbohtml": turbo_v, "lxml": version("lxml"),
    }

    # ---- raw results
    rnd = lambda x: round(x, 4) if isinstance(x, float) else x  # noqa: E731
    out_json = Path(args.results) / f"modern_{date}.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps({
        "date": date, "command": "python " + " ".join(sys.argv), "run_seconds": round(wall, 1),
        "versions": versions, "train_sets": train_sets, "snippet_training_sets":
            (report.get("snippet_sets") or {}).get("sets"),
        "same_output_default_and_auto": same_default_auto, "failures": failures,
        "peer_runs": peer_meta, "peer_cached_before_run": {f"{p}/{d}": v for (p, d), v in cached_before.items()},
        "boilerclf_seconds": timing,
        "word": word, "shingle": {s: {ds: {k: rnd(v) for k, v in m.items()} for ds, m in shingle[s].items()}
                                  for s in systems},
        "shingle_by_type": {s: {t: {k: rnd(v) for k, v in m.items()} for t, m in shingle_type[s].items()}
                            for s in systems},
        "snippet_accuracy": snip_row, "macro": macro, "macro_boilerclf_held_out": held_row,
        "headline": heads, "headline_removed_boilerclf": {"n_pages": n_dropped, "word_f1": nh_word,
                                                         "shingle_f1": nh_shingle["f1"]},
        "page_type": {k: v.get("page_type") for k, v in wgold.items()},
        "per_page": {s: {ds: {k: {m: ({a: rnd(b) for a, b in v.items()} if isinstance(v, dict) else v)
                                  for m, v in row.items()} for k, row in pp.items()}
                         for ds, pp in per_page[s].items()} for s in systems},
    }, ensure_ascii=False))
    log(f"per-page scores written to {out_json}")

    # ---- markdown
    label = {**OURS, **PEER_LABEL}
    n_type = {t: word[systems[0]][t]["n"] for t in types}
    L = []
    L.append("| system | **all** (%d) | " % word[systems[0]]["all"]["n"]
             + " | ".join(f"{t} ({n_type[t]})" for t in types) + " |")
    L.append("|---|" + "---|" * (1 + len(types)))
    for s in systems:
        L.append(f"| {label[s]} | **{f3(word[s]['all']['f1'])}** | "
                 + " | ".join(f3(word[s][t]["f1"]) for t in types) + " |")
    t_word = "\n".join(L)
    L = ["| system | **all** | " + " | ".join(types) + " |", "|---|" + "---|" * (1 + len(types))]
    for s in systems:
        L.append(f"| {label[s]} | **{f3(shingle[s][WCXB]['f1'])}** | "
                 + " | ".join(f3(shingle_type[s][t]["f1"]) for t in types) + " |")
    t_shingle_type = "\n".join(L)
    L = ["| system | word P | word R | **word F1** | shingle P | shingle R | **shingle F1** | "
         "with-snippets found | without-snippets found | empty outputs |", "|---|" + "---|" * 9]
    for s in systems:
        w, sh = word[s]["all"], shingle[s][WCXB]
        n_empty = sum(1 for v in preds[s][WCXB].values() if not ws.tokens(v))
        L.append(f"| {label[s]} | {f3(w['precision'])} | {f3(w['recall'])} | **{f3(w['f1'])}** | "
                 f"{f3(sh['precision'])} | {f3(sh['recall'])} | **{f3(sh['f1'])}** | {f3(w['with'])} | "
                 f"{f3(w['without'])} | {n_empty} |")
    t_overall = "\n".join(L)
    L = ["| system | wcxb_dev | tiptopjaw | webmainbench_sample | **macro (3 sets)** | "
         "trafilatura_eval snippet acc. | **macro (4)** |", "|---|" + "---|" * 6]
    for s in systems:
        m = macro[s]
        mark = " ¹" if s in OURS else ""
        L.append(f"| {label[s]} | {f3(m['wcxb_dev'])} | {f3(m[TIPTOP])}{mark} | {f3(m[WMB])}{mark} | "
                 f"**{f3(m['macro3'])}**{mark} | {f3(m[SNIP])}{' ²' if s in OURS else ''} | "
                 f"**{f3(m['macro4'])}**{mark} |")
    if held_row:
        m = held_row
        L.append(f"| boilerclf, held-out only ³ | {f3(m['wcxb_dev'])} | {f3(m[TIPTOP])} | {f3(m[WMB])} | "
                 f"**{f3(m['macro3'])}** | {f3(m[SNIP])} ² | **{f3(m['macro4'])}** |")
    t_macro = "\n".join(L)
    L = ["| page | type | gold words | boilerclf word F1 (P / R) | trafilatura word F1 (P / R) | "
         "boilerclf shingle F1 | trafilatura shingle F1 | boilerclf words out | trafilatura words out |",
         "|---|" + "---|" * 8]
    for k in worst:
        b, t = ppb[k], ppt[k]
        L.append(f"| {k} | {wgold[k].get('page_type')} | {len(ws.tokens(gold_txt[WCXB][k]))} | "
                 f"{b['word']['f1']:.2f} ({b['word']['p']:.2f} / {b['word']['r']:.2f}) | "
                 f"{t['word']['f1']:.2f} ({t['word']['p']:.2f} / {t['word']['r']:.2f}) | "
                 f"{b['shingle']['f1']:.2f} | {t['shingle']['f1']:.2f} | {b['words_out']} | {t['words_out']} |")
    t_worst = "\n".join(L)
    hb, hg, ht = heads["boilerclf"], heads["gold"], heads["trafilatura"]
    nb = word["boilerclf"]["all"]["f1"]
    not_trained = WCXB not in train_sets and WCXB not in ((report.get("snippet_sets") or {}).get("sets") or [])
    cmd = "python " + " ".join(sys.argv)
    n_fresh = sum(1 for v in cached_before.values() if not v)
    ver = ", ".join(f"{k} {v}" for k, v in versions.items())
    peers_txt = ", ".join(label[p] for p in order)
    text = f"""# Modern pages (wcxb_dev)

Generated {date} by `{cmd}` ({wall / 60:.1f} min for this run; {n_fresh} of {len(cached_before)} peer runs
(peer x set) made in it, the others read from the cache in peers.py's format). Versions: {ver}.

Systems: the shipped boilerclf HTML model (`Extractor()`, its default threshold{"" if "boilerclf_auto" not in OURS else '; and `Extractor(threshold="auto")`'}{", which gives the same output on every page: the shipped model's default is `auto`" if same_default_auto else ""}),
and {peers_txt} as run by `benchmarks/peers.py`{"; turbohtml: `turbohtml.parse(raw, detect_encoding=True).main_text()`, its main-content extraction" if "turbohtml" in order else ""}.
Metrics: WCXB's word-level P / R / F1 (`shared/tools/word_score.py`: lower-cased words as a multiset, per page,
averaged over pages) and the shingle P / R / F1 of all the shared sets (`boilerclf.metrics`, = `shared/tools/score.py`).

Held out: {"the shipped model never trained on wcxb_dev" if not_trained else "the shipped model trains on wcxb_dev; its wcxb_dev numbers here are those of the domain-grouped k-fold of training (each page scored by a model trained on every other set and on the wcxb_dev sites of the other folds, same recipe and threshold, `--heldout`)"} (`models/training_report.json`,
train sets: {", ".join(train_sets)}; snippet set: {", ".join((report.get("snippet_sets") or {}).get("sets") or []) or "none"}).
tiptopjaw_wceb2026_llm and webmainbench_sample are training sets of the shipped model: its numbers on them are not held out.

## wcxb_dev, word F1 per page type (pages per type in brackets)

{t_word}

Shingle F1 per page type:

{t_shingle_type}

## wcxb_dev, overall

{t_overall}

"with" / "without" snippets: the share of each page's must-contain / must-not-contain snippets found in the
output, averaged over pages (word_score.py; lower is better for "without").

## Modern macro (shingle F1)

{t_macro}

Macro (3 sets): mean of the shingle F1 on wcxb_dev, tiptopjaw_wceb2026_llm and webmainbench_sample (5 pages).
Macro (4): the same with trafilatura_eval snippet accuracy as the fourth term, as `benchmarks/quality.py` computes it.
¹ not held out: the shipped model trained on tiptopjaw_wceb2026_llm and webmainbench_sample.
² {"the training report's snippet accuracy of an HTML model trained without trafilatura_eval (the shipped model trains on its snippets), as in QUALITY.md" if trained_on_snip else "the shipped model's"}.
³ wcxb_dev: the shipped model; tiptopjaw and webmainbench: the leave-one-dataset-out scores in `models/training_report.json` (a model trained without that set, threshold `auto`).

## Error analysis (boilerclf default vs trafilatura, wcxb_dev)

The 10 pages where boilerclf's word F1 is furthest below trafilatura's. Over all {len(ppb)} pages boilerclf is
more than 0.1 word F1 behind trafilatura on {n_behind} and more than 0.1 ahead on {n_ahead}.

{t_worst}

Headline convention: of the {hg['n']} wcxb_dev pages with a gold title and a non-empty gold, the gold text
starts with the title line on {hg['exact']:.1%} ({hg['lenient']:.1%} counting a line that starts with the
title or that the title starts with); boilerclf's output on {hb['exact']:.1%} ({hb['lenient']:.1%});
trafilatura's on {ht['exact']:.1%} ({ht['lenient']:.1%}). Scored with a leading title line removed
({n_dropped} pages; scoring only, not a setting), boilerclf's word F1 would be {nh_word:.3f} (as shipped
{nb:.3f}) and its shingle F1 {nh_shingle['f1']:.3f} (as shipped {shingle['boilerclf'][WCXB]['f1']:.3f}).

Per-page scores of every system: `{os.path.relpath(out_json, REPO)}`.
{("Failures: " + "; ".join(failures) + ".") if failures else ""}
{MARKER}"""
    print(text)
    if args.write_md:
        mdp = Path(args.write_md)
        prev = mdp.read_text() if mdp.exists() else ""
        keep = prev.split(MARKER, 1)[1] if MARKER in prev else "\n"
        mdp.write_text(re.sub(r"\n{3,}", "\n\n", text) + keep)


if __name__ == "__main__":
    main()
