"""Measured gain of site profiles and site retraining (writes benchmarks/RETRAIN.md).

Sites are groups of pages of one host in the shared datasets: the host comes
from the ground-truth URL, else from the page's canonical / og:url link or its
Wayback Machine address.  Sites with at least ``--min-pages`` pages are used.

For every site and every repeat, :func:`held_count` random pages (a half,
at most all but ``POOL + 1``) are held back; the others are the candidates a
user would label.  Two pools of ``POOL`` pages are taken among the
candidates: the first of a random order of them (the random pool) and the
ones :func:`boilerclf.suggest_pages` picks from the base model's scores, as
``boilerclf label --suggest`` does (the suggested pool; the first K picks are
its best K).  Both are scored on the same held-back pages.  On the held-back
pages, scored against the dataset's gold text with the benchmark's F1
(:mod:`boilerclf.metrics`), we report:

* the base model alone;
* the base model with a site profile learned from the random pool's pages
  only (unlabelled; the held-back pages are unseen), and from all the site's
  pages (the held-back pages included, as ``boilerclf profile`` on a crawl of
  the site would do: it needs no labels);
* a :class:`~boilerclf.model.site.SiteModel` trained on the first 1, 3 and 5
  pages of the random pool (``siteK``) and of the suggested pool (``suggK``),
  labels from the gold (as :mod:`boilerclf.labels.gold` aligns them), alone
  and (random pool) with the pool profile;
* with 3 and 5 labelled pages, the gated site model (``siteK_gated``,
  ``suggK_gated``): what ``boilerclf train --base --add`` writes, the site
  model at the blend weight :mod:`boilerclf.retrain.gate` chooses by
  leave-one-page-out over the labelled pages, or the base alone when no blend
  beats it there.

The base model of a dataset's sites is trained WITHOUT that dataset
(leave-that-dataset-out) as the shipped model is (stage shortcuts, headline
lines unlabelled, the snippet sets with trafilatura pseudo labels) but with
150,000 training lines and the shipped model's threshold, so the sites are
unseen; the shipped model, which saw every set, is reported beside it.
``--train-bases`` trains the bases (about 5 min each on one core).  Site
models are fitted with scikit-learn's weighted binning made exact-and-faster
by ``benchmarks/fastbin.py`` (``--sklearn-binning`` to keep its own).  Then::

    OMP_NUM_THREADS=1 python benchmarks/retrain.py --cache ../cache/lines \\
        --bases ../cache/retrain_bases --peers ../cache/peers \\
        --sets cleanportaleval,dragnet,wcxb_dev --train-bases
    OMP_NUM_THREADS=1 python benchmarks/retrain.py --cache ../cache/lines \\
        --bases ../cache/retrain_bases --sets dragnet --json-out dragnet.json   # one set per run
    OMP_NUM_THREADS=1 python benchmarks/retrain.py --cache ../cache/lines \\
        --bases ../cache/retrain_bases --sets wcxb_dev --min-pages 6 --json-out wcxb.json
    python benchmarks/retrain.py --bases ../cache/retrain_bases --json-in cpe.json dragnet.json wcxb.json \\
        --json-out benchmarks/retrain_results.json --write-md benchmarks/RETRAIN.md

(``--cache-digest`` reads line caches made by an earlier commit whose parse
and feature code are the same.)
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from boilerclf_training import build, datasets

from boilerclf import metrics, suggest_pages
from boilerclf.decide import decision
from boilerclf.decide.profile import SiteProfile
from boilerclf.model import site as site_mod
from boilerclf.model.files import load, load_model
from boilerclf.model.site import SiteModel
from boilerclf.retrain import gate
from boilerclf.retrain.pages import LabelledPages

POOL = 5
NOTES = "<!-- notes: hand-written below, kept by --write-md -->"
N_LABELLED = (1, 3, 5)
GATED = (3, 5)  # the gate needs 2 labelled pages or more
SETS = ("cleanportaleval", "dragnet", "wcxb_dev")
_URL_RES = [
    re.compile(r'<link[^>]+rel=["\']canonical["\'][^>]*href=["\'](https?://[^"\']+)', re.I),
    re.compile(r'property=["\']og:url["\'][^>]*content=["\'](https?://[^"\']+)', re.I),
    re.compile(r'web(?:-beta)?\.archive\.org/web/\d+[a-z_]*/(https?://[^"\'\s]+)', re.I),
]


def host_of(url: str) -> str:
    h = urlparse(url).netloc.lower().split(":")[0]
    return h[4:] if h.startswith("www.") else h


def page_host(ds_dir: Path, pid: str, gold_url: str | None) -> str | None:
    if gold_url:
        return host_of(gold_url)
    html = gzip.open(ds_dir / "html" / f"{pid}.html.gz").read().decode("utf-8", "replace")
    for rx in _URL_RES:
        m = rx.search(html)
        if m and "archive.org" not in host_of(m.group(1)):
            return host_of(m.group(1))
    return None


def sites(root: Path, name: str, min_pages: int) -> dict[str, list[str]]:
    gold = datasets.load_gold(root / name)
    by = defaultdict(list)
    for pid in datasets.page_ids(root / name):
        if pid in gold:
            h = page_host(root / name, pid, gold[pid].get("url"))
            if h:
                by[h].append(pid)
    return {h: sorted(p) for h, p in sorted(by.items()) if len(p) >= min_pages}


class SitePages:
    """The cached lines of a site's pages (html mode)."""

    def __init__(self, part: build.Part, pids: list[str]):
        index = {p: i for i, p in enumerate(part.ids)}
        self.pids = pids
        pages = part.X[:, 0].astype(np.int64)
        bounds = np.searchsorted(pages, np.arange(len(part.ids) + 1))
        self.X = {p: part.X[bounds[index[p]]:bounds[index[p] + 1]] for p in pids}
        self.y = {p: (part.cov[bounds[index[p]]:bounds[index[p] + 1]] >= 0.5).astype(np.int64) for p in pids}
        self.texts = {p: part.texts[index[p]] for p in pids}
        self.gold = {p: part.gold[p] for p in pids}

    def labelled(self, pids: list[str]) -> LabelledPages:
        """The pages ``pids`` as a user's labelled pages (labels from the gold, no markup codes)."""
        return LabelledPages(self.matrix(pids), np.concatenate([self.y[p] for p in pids]),
                             [list(self.texts[p]) for p in pids], list(pids))

    def matrix(self, pids: list[str]) -> np.ndarray:
        Xs = []
        for j, p in enumerate(pids):
            X = self.X[p].copy()
            X[:, 0] = j
            Xs.append(X)
        return np.concatenate(Xs)

    def f1(self, pids: list[str], scores: np.ndarray, thr: float | str) -> float:
        """F1 of the pages ``pids`` (rows of ``scores`` in that order) at ``thr``
        (a number or "auto", :mod:`boilerclf.decide.decision`)."""
        keep = decision.keep(decision.parse(thr), scores, self.matrix(pids))
        pred, row = {}, 0
        for p in pids:
            k = keep[row:row + len(self.texts[p])]
            row += len(self.texts[p])
            pred[p] = "\n".join(t for t, v in zip(self.texts[p], k) if v)
        return metrics.evaluate({p: self.gold[p] for p in pids}, pred)["f1"]


def profiled(prof: SiteProfile, site: SitePages, pids: list[str], scores: np.ndarray) -> np.ndarray:
    out, row = [], 0
    for p in pids:
        n = len(site.texts[p])
        out.append(prof.apply(scores[row:row + n], site.texts[p]))
        row += n
    return np.concatenate(out)


def held_count(n: int) -> int:
    """Pages held back of a site of ``n`` pages: a half (rounded down), but at
    most ``n - POOL - 1`` so that the pool is chosen among ``POOL + 1`` pages or
    more; at least 1."""
    return max(1, min(n // 2, n - POOL - 1))


def suggested(site: SitePages, base, pids: list[str], n: int) -> list[str]:
    """The ``n`` pages of ``pids`` that :func:`boilerclf.suggest_pages` picks, best first,
    from records pre-filled with the base model's scores (as ``boilerclf label --suggest``)."""
    scores = base.decision_scores(site.matrix(pids))
    records, row = [], 0
    for p in pids:
        t = site.texts[p]
        records.append({"id": p, "lines": [{"text": x, "score": float(v)}
                                           for x, v in zip(t, scores[row:row + len(t)])]})
        row += len(t)
    return [s.id for s in suggest_pages(records, n)]


def site_scores(site: SitePages, base, lab: list[str], Xh: np.ndarray, site_thr) -> tuple[np.ndarray, object]:
    """Held-back scores and threshold of the site model fitted on the pages ``lab``
    (the base's when their lines are all of one class: no site model can be made)."""
    y = np.concatenate([site.y[p] for p in lab])
    if len(np.unique(y)) < 2:
        return base.decision_scores(Xh), base.threshold
    m = SiteModel(base, threshold=site_thr).fit(site.matrix(lab), y)
    return m.decision_scores(Xh), m.threshold


def gated_f1(site: SitePages, base, lab: list[str], held: list[str], Xh: np.ndarray, site_thr,
             base_f1: float) -> tuple[float, object]:
    """Held-back F1 of what ``boilerclf train --base --add`` writes from the pages ``lab``:
    the site model at the blend weight the gate chooses, or the base when it chooses none."""
    data = site.labelled(lab)
    est = None if len(np.unique(data.y)) < 2 else gate.estimate(
        base, data, k=len(lab), make=lambda b: SiteModel(b, threshold=site_thr))
    if est is None or not est.beats_base:
        return base_f1, est
    g = SiteModel(base, threshold=site_thr, weight=est.weight).fit(data.X, data.y)
    return site.f1(held, g.decision_scores(Xh), site_thr), est


def stricter(est, min_gain: float) -> float:
    """The blend weight the gate would choose with ``min_gain`` (from the same estimate; no refit)."""
    if est is None:
        return 0.0
    means = est.blend_f1.mean(axis=0)
    return float(est.weights[est.best]) if means[est.best] - est.base_f1.mean() > min_gain else 0.0


def run_site(site: SitePages, base, shipped, repeats: int, seed: int, unbalanced: bool = True,
             labelled: tuple[int, ...] = N_LABELLED, suggest: bool = True,
             min_gains: tuple[float, ...] = ()) -> dict:
    """One site's mean held-back F1 per condition over ``repeats`` splits.

    Each split holds back :func:`held_count` random pages; the pool is the
    first ``POOL`` pages of a random order of the others (``siteK``: its first
    K pages labelled) and, with ``suggest``, the ``POOL`` pages that
    :func:`boilerclf.suggest_pages` picks among those same others
    (``suggK``: its first K picks labelled), so both are scored on the same
    held-back pages."""
    rng = np.random.default_rng(seed)
    rows = defaultdict(list)
    n_held = held_count(len(site.pids))
    for _ in range(repeats):
        order = list(rng.permutation(site.pids))
        held, rest = order[:n_held], order[n_held:]
        pool = rest[:POOL]
        Xh = site.matrix(held)
        thr = base.threshold
        site_thr = site_mod.default_threshold(base)  # what `boilerclf train --base` gives a site model
        s_base = base.decision_scores(Xh)
        rows["base"].append(site.f1(held, s_base, thr))
        rows["shipped"].append(site.f1(held, shipped.decision_scores(Xh), shipped.threshold))
        prof_pool = SiteProfile.from_pages([site.texts[p] for p in pool])
        prof_all = SiteProfile.from_pages([site.texts[p] for p in order])
        rows["profile_pool"].append(site.f1(held, profiled(prof_pool, site, held, s_base), thr))
        rows["profile_all"].append(site.f1(held, profiled(prof_all, site, held, s_base), thr))
        for ms in (0.3, 0.8):
            pr = SiteProfile(prof_all.n_pages, prof_all.counts, ms)
            rows[f"profile_all_ms{ms}"].append(site.f1(held, profiled(pr, site, held, s_base), thr))
        sugg = suggested(site, base, rest, POOL) if suggest else []
        for k in labelled:
            lab = pool[:k]
            s_site, m_thr = site_scores(site, base, lab, Xh, site_thr)
            rows[f"site{k}"].append(site.f1(held, s_site, m_thr))
            y = np.concatenate([site.y[p] for p in lab])
            if not unbalanced:
                pass
            elif len(np.unique(y)) >= 2:
                s_unb = SiteModel(base, threshold=site_thr, balance_pages=False).fit(site.matrix(lab), y
                                                                               ).decision_scores(Xh)
                rows[f"site{k}_unbalanced"].append(site.f1(held, s_unb, site_thr))
            else:
                rows[f"site{k}_unbalanced"].append(site.f1(held, s_site, m_thr))
            rows[f"site{k}_t0.5"].append(site.f1(held, s_site, 0.5))
            rows[f"site{k}_auto"].append(site.f1(held, s_site, "auto"))
            rows[f"site{k}_profile_pool"].append(site.f1(held, profiled(prof_pool, site, held, s_site), m_thr))
            if k in GATED:  # what `boilerclf train --base --add` now writes: the gate's blend, or nothing
                f, est = gated_f1(site, base, lab, held, Xh, site_thr, rows["base"][-1])
                rows[f"site{k}_gated"].append(f)
                rows[f"site{k}_gate_weight"].append(0.0 if est is None else est.weight)
                rows[f"site{k}_gate_estimate"].append(0.0 if est is None else est.gain())
                for mg in min_gains:  # a stricter gate: the blend must beat the base by more than mg
                    w = stricter(est, mg)
                    if w == (0.0 if est is None else est.weight):
                        rows[f"site{k}_gated_min{mg:g}"].append(f)
                    elif w == 0.0:
                        rows[f"site{k}_gated_min{mg:g}"].append(rows["base"][-1])
                    else:
                        g = SiteModel(base, threshold=site_thr, weight=w).fit(site.matrix(lab),
                                                                               site.labelled(lab).y)
                        rows[f"site{k}_gated_min{mg:g}"].append(site.f1(held, g.decision_scores(Xh), site_thr))
            if suggest:
                s_sug, g_thr = site_scores(site, base, sugg[:k], Xh, site_thr)
                rows[f"sugg{k}"].append(site.f1(held, s_sug, g_thr))
                if k in GATED:
                    rows[f"sugg{k}_gated"].append(
                        gated_f1(site, base, sugg[:k], held, Xh, site_thr, rows["base"][-1])[0])
    return {k: float(np.mean(v)) for k, v in rows.items()}


COLS = [("shipped", "shipped model (saw the set)"), ("base", "base"),
        ("profile_pool", "+ profile (5 pool pages)"), ("profile_all", "+ profile (all pages)"),
        ("site1", "1 labelled"), ("site3", "3 labelled"), ("site5", "5 labelled"),
        ("site3_gated", "3 labelled, gated"), ("site5_gated", "5 labelled, gated"),
        ("sugg1", "1 suggested"), ("sugg3", "3 suggested"), ("sugg5", "5 suggested"),
        ("sugg3_gated", "3 suggested, gated"), ("sugg5_gated", "5 suggested, gated"),
        ("site1_profile_pool", "1 labelled + profile (pool)"),
        ("site5_profile_pool", "5 labelled + profile (pool)")]


def _base_threshold(args) -> str:
    """The bases' threshold, from a base file's header (the shipped model's if none is there)."""
    for p in sorted(Path(args.bases).glob("base-no-*.npz")):
        return str(load(p)[1].get("params", {}).get("threshold"))
    return str(load_model(None, "html")[0].threshold)


def _mean(res: dict, c: str, ds: str | None = None) -> float:
    return float(np.mean([r[c] for (d, _), (_, r) in res.items() if ds is None or d == ds]))


def to_md(res: dict, args, meta: dict | None = None) -> str:
    """The markdown tables; ``meta``: per set, how it was run (``min_pages``,
    ``repeats``, ``labelled``, ``command``), from the JSON files."""
    meta = meta or {}
    sets = sorted({ds for ds, _ in res})
    n_sites = len(res)
    runs = [f"- {ds}: {sum(d == ds for d, _ in res)} sites (hosts with at least "
            f"{meta.get(ds, {}).get('min_pages', args.min_pages)} pages), "
            f"{meta.get(ds, {}).get('repeats', args.repeats)} splits per site" for ds in sets]
    cmds = [m["command"] for ds, m in sorted(meta.items()) if "command" in m]
    out = ["# Teaching boilerclf a site: measured gain", "",
           "Generated by `benchmarks/retrain.py` (see its docstring for the protocol). "
           "Sites are the hosts of a shared set with enough pages (host from the gold URL, else from "
           "the page's canonical / og:url link or its Wayback address). Per site and split, "
           "a random half of the pages is held back (at most all but "
           f"{POOL + 1}, at least 1); the others are the candidates a user would label. "
           f"The random pool is {POOL} random candidates (\"K labelled\": its first K), the suggested "
           f"pool the {POOL} candidates that `boilerclf.suggest_pages` (`boilerclf label --suggest`) "
           "picks from the base model's scores (\"K suggested\": its first K picks), so both are "
           "scored on the same held-back pages. F1 is the benchmark's shingle F1 of the held-back "
           "pages against the dataset's gold, averaged over the splits, then over the sites. "
           "Labels of the labelled pages come from the gold. Base = a model trained without the site's "
           "dataset (leave-that-dataset-out, the shipped model's recipe with 150,000 training lines "
           f"instead of all, threshold {_base_threshold(args)}), so the site is unseen; the shipped model "
           "(which was trained on these pages' dataset, so the sites are NOT unseen for it) is shown "
           "for reference only. \"Gated\": what `boilerclf train --base --add` writes, the site model "
           "at the blend weight the gate (`boilerclf/retrain/gate.py`) chooses by leave-one-page-out "
           "over the labelled pages, or the base alone when no blend beats it there.", "",
           "Runs:", "", *runs, ""]
    if cmds:
        out += ["Commands:", "", "```", *cmds, "```", ""]
    out += ["## Summary", "",
            "| condition | " + " | ".join(f"{ds} ({sum(d == ds for d, _ in res)} sites)" for ds in sets)
            + f" | all {n_sites} sites | sites better / worse than base (by > 0.005) "
            "| sites worse than base at all / by > 0.01 |",
            "|---|" + "---|" * (len(sets) + 3)]
    cols = [(c, name) for c, name in COLS if all(c in r for _, r in res.values())]
    for c, name in cols:
        cells = [f"{_mean(res, c, ds):.3f}" for ds in sets]
        diff = [r[c] - r["base"] for _, r in res.values()]
        bw = "–" if c == "base" else f"{sum(d > 0.005 for d in diff)} / {sum(d < -0.005 for d in diff)}"
        worse = "–" if c == "base" else f"{sum(d < 0 for d in diff)} / {sum(d < -0.01 for d in diff)}"
        out.append(f"| {name} | " + " | ".join(cells) + f" | {_mean(res, c):.3f} | {bw} | {worse} |")
    ks = [k for k in N_LABELLED if all(f"sugg{k}" in r and f"site{k}" in r for _, r in res.values())]
    if ks:
        out += ["", "## Suggested vs random pages", "",
                "Mean held-back F1 over all sites; gain per labelled page = (F1 - base F1) / K, "
                "averaged over the sites. The last column counts the sites where the suggested pages "
                f"beat the random ones (or lose to them) by > 0.005. Where a site has only {POOL} "
                f"candidates, the {POOL} suggested pages are the {POOL} random ones.", "",
                "| labelled pages | random | suggested | gain per page, random | gain per page, suggested "
                "| sites suggested better / worse |", "|---|---|---|---|---|---|"]
        for k in ks:
            rd = [r[f"site{k}"] for _, r in res.values()]
            sg = [r[f"sugg{k}"] for _, r in res.values()]
            b = [r["base"] for _, r in res.values()]
            d = np.subtract(sg, rd)
            out.append(f"| {k} | {np.mean(rd):.3f} | {np.mean(sg):.3f} | {np.mean(np.subtract(rd, b)) / k:+.4f} "
                       f"| {np.mean(np.subtract(sg, b)) / k:+.4f} | {int((d > 0.005).sum())} / {int((d < -0.005).sum())} |")
    out += ["", "## Per site", "",
            "| set | site | pages | " + " | ".join(c[1] for c in cols) + " |",
            "|---|---|---|" + "---|" * len(cols)]
    allv = defaultdict(list)
    for (ds, host), (n, r) in res.items():
        out.append(f"| {ds} | {host} | {n} | " + " | ".join(f"{r[c]:.3f}" for c, _ in cols) + " |")
        for k, v in r.items():
            allv[k].append(v)
    out += ["", "## Variants", "",
            "Mean over all sites. `profile_all_msX`: the all-pages profile with `min_share` X "
            "(default 0.5); `siteK_t0.5`, `siteK_auto`: the site model at threshold 0.5 or `auto` instead of "
            f"its default ({site_mod.SITE_THRESHOLD} when the base's is `auto`, `boilerclf/model/site.py`); "
            "`siteK_profile_pool`: the site model with the pool profile; `siteK_unbalanced`: the site "
            "layer fitted without per-page weights (every labelled line weighs the same); "
            "`siteK_gate_weight`: the blend weight the gate chose (0: the base alone); "
            "`siteK_gate_estimate`: the gate's leave-one-page-out estimate of the best blend's gain.", "",
            "| variant | mean |", "|---|---|"]
    for k in sorted(allv):
        if len(allv[k]) < len(res):
            continue  # not measured on every site
        out.append(f"| `{k}` | {np.mean(allv[k]):.3f} |")
    return "\n".join(out) + "\n"


def train_bases(root: Path, cache: Path, out: Path, held_out: list[str], max_lines: int = 150_000,
                peers: Path | None = None) -> None:
    """``base-no-<set>.npz``: the HTML model trained as the shipped one is
    (:func:`boilerclf_training.train.run`: its stage shortcuts, headline lines
    unlabelled, the snippet sets at their weight with the other lines of their
    pages labelled by trafilatura's output from ``peers``) on every other
    full-gold set, with ``max_lines`` training lines and the shipped HTML
    model's threshold (so site models made from it default to the same
    decision as ``boilerclf train --base`` on the shipped model)."""
    from boilerclf_training import train as tr

    from boilerclf.model.files import save

    out.mkdir(parents=True, exist_ok=True)
    sets = datasets.gold_sets(root)
    mp = {n: build.build(root / n, cache)["html"] for n in sets}
    weights = {}
    for n in datasets.snippet_sets(root):
        snip = build.build_snippets(root / n, cache)
        texts = tr.peer_texts(root, n, peers, tr.PSEUDO_PEER, snip.ids)
        if texts is None:
            raise SystemExit(f"no {tr.PSEUDO_PEER} output for {n} in {peers} (--peers)")
        mp[n], pseudo = build.pseudo_labelled(snip, texts)
        weights[n] = np.where(pseudo, tr.PSEUDO_WEIGHT, tr.SNIPPET_WEIGHT)
    thr = load_model(None, "html")[0].threshold
    params = {**tr.SHORTCUTS["html"], "threshold": thr}
    for held in held_out:
        t0 = time.time()
        others = [s for s in sets if s != held] + list(weights)
        m = tr.fit(tr.stack(mp, others, max_lines=max_lines, weights=weights, unlabel_headline=True), **params)
        save(m, out / f"base-no-{held}.npz", kind="html", train_sets=others,
             params={**params, "max_lines": max_lines},
             note=f"leave-{held}-out base, the shipped recipe with reduced settings")
        print(f"base without {held}: {time.time() - t0:.0f}s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path("../shared/datasets"))
    ap.add_argument("--cache", type=Path, default=Path(".cache/lines"))
    ap.add_argument("--bases", type=Path, required=True, help="Folder of base-no-<set>.npz models.")
    ap.add_argument("--min-pages", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--labelled", default=",".join(map(str, N_LABELLED)),
                    help="Numbers of labelled pages to measure (comma-separated; fewer is faster).")
    ap.add_argument("--gate-min-gain", default="", help="Also score stricter gates: the blend must beat the "
                    "base on the labelled pages by more than each of these (comma-separated; siteK_gated_minX).")
    ap.add_argument("--no-suggest", action="store_true", help="Skip the suggested pools (faster).")
    ap.add_argument("--no-unbalanced", action="store_true", help="Skip the siteK_unbalanced variant (faster).")
    ap.add_argument("--train-bases", action="store_true", help="Train the leave-that-set-out bases into --bases.")
    ap.add_argument("--peers", type=Path, help="Peers cache (<peer>/<set>.json) for the snippet sets' pseudo "
                    "labels of --train-bases (trafilatura computes them when missing).")
    ap.add_argument("--sklearn-binning", action="store_true", help="Keep scikit-learn's own weighted "
                    "binning (slow) instead of benchmarks/fastbin.py's exact vectorised one.")
    ap.add_argument("--cache-digest", help="Use the line caches made under this code digest "
                    "(training/build.py _code_digest) instead of the current one, when the parse and "
                    "feature code have not changed since.")
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--json-in", type=Path, nargs="+", help="Only rewrite the markdown from --json-out files "
                    "of earlier runs (e.g. one per --sets).")
    ap.add_argument("--write-md", type=Path, help="Write the tables; hand-written notes after "
                    f"'{NOTES}' in an existing file are kept.")
    args = ap.parse_args()
    if args.cache_digest:
        build._code_digest = lambda: args.cache_digest
    if not args.sklearn_binning and not args.json_in:
        import fastbin  # beside this script

        print("binning:", "vectorised (benchmarks/fastbin.py)" if fastbin.patch() else
              "scikit-learn's own (fastbin's self-check failed or its code changed)", flush=True)
    if args.train_bases:
        train_bases(args.root, args.cache, args.bases, args.sets.split(","), peers=args.peers)
        return
    res, meta = {}, {}
    for path in args.json_in or []:
        data = json.loads(path.read_text())
        if "results" in data:
            meta.update(data.get("meta", {}))
            data = data["results"]
        for key, r in data.items():
            res[tuple(key.split("/", 1))] = (r.pop("pages"), r)
    shipped = None if args.json_in else load_model(None, "html")[0]
    labelled = tuple(int(x) for x in args.labelled.split(","))
    for ds in ([] if args.json_in else args.sets.split(",")):
        t0 = time.time()
        base, _ = load(args.bases / f"base-no-{ds}.npz")
        part = build.build(args.root / ds, args.cache)["html"]
        for j, (host, pids) in enumerate(sites(args.root, ds, args.min_pages).items()):
            r = run_site(SitePages(part, pids), base, shipped, args.repeats, seed=j,
                         unbalanced=not args.no_unbalanced, labelled=labelled, suggest=not args.no_suggest,
                         min_gains=tuple(float(x) for x in args.gate_min_gain.split(",") if x))
            res[(ds, host)] = (len(pids), r)
            print(ds, host, len(pids), " ".join(f"{k}={v:.3f}" for k, v in r.items() if "_" not in k
                                                 or k.startswith("profile")), f"({time.time() - t0:.0f}s)",
                  flush=True)
        meta[ds] = {"min_pages": args.min_pages, "repeats": args.repeats, "labelled": list(labelled),
                    "command": "OMP_NUM_THREADS=1 python benchmarks/retrain.py " + " ".join(sys.argv[1:])}
        print(f"{ds}: {time.time() - t0:.0f}s", flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps({"meta": meta, "results": {
            f"{d}/{h}": {"pages": n, **r} for (d, h), (n, r) in res.items()}}, indent=1))
    if args.write_md:
        old = args.write_md.read_text() if args.write_md.exists() else ""
        notes = old[old.index(NOTES):] if NOTES in old else NOTES + "\n"
        args.write_md.write_text(to_md(res, args, meta) + "\n" + notes)

if __name__ == "__main__":
    main()
