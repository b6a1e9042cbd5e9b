"""Measured gain of site profiles and site retraining (writes benchmarks/RETRAIN.md).

Sites are groups of pages of one host in the shared datasets: the host comes
from the ground-truth URL, else from the page's canonical / og:url link or its
Wayback Machine address.  Sites with at least ``--min-pages`` pages are used.

For every site and every repeat (a random order of its pages), the first
``POOL`` pages are the ones a user would label and the rest are held back.
On the held-back pages, scored against the dataset's gold text with the
benchmark's F1 (:mod:`boilerclf.metrics`), we report:

* the base model alone;
* the base model with a site profile learned from the pool's pages only
  (unlabelled; the held-back pages are unseen), and from all the site's pages
  (the held-back pages included, as ``boilerclf profile`` on a crawl of the
  site would do: it needs no labels);
* a :class:`~boilerclf.model.site.SiteModel` trained on 1, 3 and 5 labelled pool
  pages (labels from the gold, as :mod:`boilerclf.labels.gold` aligns them), alone
  and with the pool profile.

The base model of a dataset's sites is trained WITHOUT that dataset
(leave-that-dataset-out, reduced settings: 150,000 training lines, the
shipped model's threshold), so the sites are unseen; the shipped model,
which saw every set, is reported beside it.  ``--train-bases`` trains the bases (about 2.5 min each on
one core), then::

    OMP_NUM_THREADS=1 python benchmarks/retrain.py --cache /work/cache/lines \\
        --bases /work/cache/retrain_bases --train-bases
    OMP_NUM_THREADS=1 python benchmarks/retrain.py --cache /work/cache/lines \\
        --bases /work/cache/retrain_bases --sets dragnet --json-out dragnet.json   # one set per run
    python benchmarks/retrain.py --bases . --json-in cpe.json dragnet.json --write-md benchmarks/RETRAIN.md
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from boilerclf_training import build, datasets

from boilerclf import metrics
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
SETS = ("cleanportaleval", "dragnet")
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


def run_site(site: SitePages, base, shipped, repeats: int, seed: int, unbalanced: bool = True,
             labelled: tuple[int, ...] = N_LABELLED) -> dict:
    rng = np.random.default_rng(seed)
    rows = defaultdict(list)
    for _ in range(repeats):
        order = list(rng.permutation(site.pids))
        pool, held = order[:POOL], order[POOL:]
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
        for k in labelled:
            lab = pool[:k]
            y = np.concatenate([site.y[p] for p in lab])
            if len(np.unique(y)) < 2:  # a page with no content (or no boilerplate) line
                s_site = s_base  # no site model can be made: the base decides
                m_thr = thr
            else:
                m = SiteModel(base, threshold=site_thr).fit(site.matrix(lab), y)
                s_site = m.decision_scores(Xh)
                m_thr = m.threshold
            rows[f"site{k}"].append(site.f1(held, s_site, m_thr))
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
                data = site.labelled(lab)
                if len(np.unique(data.y)) < 2:
                    est = None
                else:
                    est = gate.estimate(base, data, k=k, make=lambda b: SiteModel(b, threshold=site_thr))
                if est is None or not est.beats_base:
                    rows[f"site{k}_gated"].append(rows["base"][-1])
                else:
                    g = SiteModel(base, threshold=site_thr, weight=est.weight).fit(data.X, data.y)
                    rows[f"site{k}_gated"].append(site.f1(held, g.decision_scores(Xh), site_thr))
                rows[f"site{k}_gate_weight"].append(0.0 if est is None else est.weight)
                rows[f"site{k}_gate_estimate"].append(0.0 if est is None else est.gain())
    return {k: float(np.mean(v)) for k, v in rows.items()}


COLS = [("shipped", "shipped model (saw the set)"), ("base", "base"),
        ("profile_pool", "+ profile (5 pool pages)"), ("profile_all", "+ profile (all pages)"),
        ("site1", "1 labelled"), ("site3", "3 labelled"), ("site5", "5 labelled"),
        ("site3_gated", "3 labelled, gated"), ("site5_gated", "5 labelled, gated"),
        ("site1_profile_pool", "1 labelled + profile (pool)"),
        ("site5_profile_pool", "5 labelled + profile (pool)")]


def _base_threshold(args) -> str:
    """The bases' threshold, from a base file's header (the shipped model's if none is there)."""
    for p in sorted(Path(args.bases).glob("base-no-*.npz")):
        return str(load(p)[1].get("params", {}).get("threshold"))
    return str(load_model(None, "html")[0].threshold)


def to_md(res: dict, args) -> str:
    sets = sorted({ds for ds, _ in res})
    out = ["# Teaching boilerclf a site: measured gain", "",
           "Generated by `benchmarks/retrain.py` (see its docstring for the protocol). "
           f"Sites: hosts with at least {args.min_pages} pages in the shared sets "
           f"{', '.join(sets)}; per site {args.repeats} random splits into {POOL} pool pages "
           "(the ones a user labels or profiles) and the held-back rest; F1 is the benchmark's "
           "shingle F1 of the held-back pages against the dataset's gold, averaged over the splits. "
           "Base = a model trained without the site's dataset (leave-that-dataset-out, "
           f"150,000 training lines instead of all, threshold {_base_threshold(args)}), so the site is unseen; "
           "the shipped model (which was trained on these pages' dataset, so the sites are NOT "
           "unseen for it) is shown for reference only.", "",
           "## Summary", "",
           "| condition | " + " | ".join(f"{ds} ({sum(d == ds for d, _ in res)} sites)" for ds in sets)
           + " | all sites | sites better / worse than base (by > 0.005) |",
           "|---|" + "---|" * (len(sets) + 2)]
    cols = [(c, name) for c, name in COLS if all(c in r for _, r in res.values())]
    for c, name in cols:
        cells = [f"{np.mean([r[c] for (d, _), (_, r) in res.items() if d == ds]):.3f}" for ds in sets]
        allc = [r[c] for _, r in res.values()]
        diff = [r[c] - r["base"] for _, r in res.values()]
        bw = "–" if c == "base" else f"{sum(d > 0.005 for d in diff)} / {sum(d < -0.005 for d in diff)}"
        out.append(f"| {name} | " + " | ".join(cells) + f" | {np.mean(allc):.3f} | {bw} |")
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
            "layer fitted without per-page weights (every labelled line weighs the same).", "",
            "| variant | mean F1 |", "|---|---|"]
    for k in sorted(allv):
        if len(allv[k]) < len(res):
            continue  # not measured on every site
        out.append(f"| `{k}` | {np.mean(allv[k]):.3f} |")
    return "\n".join(out) + "\n"


def train_bases(root: Path, cache: Path, out: Path, held_out: list[str], max_lines: int = 150_000) -> None:
    """``base-no-<set>.npz``: the HTML model trained on every other full-gold set,
    with the shipped HTML model's threshold (so site models made from it
    default to the same decision as ``boilerclf train --base`` on the shipped model)."""
    from boilerclf_training import train as tr

    from boilerclf.model.files import save

    out.mkdir(parents=True, exist_ok=True)
    sets = datasets.gold_sets(root)
    parts = {n: build.build(root / n, cache)["html"] for n in sets}
    thr = load_model(None, "html")[0].threshold
    for held in held_out:
        t0 = time.time()
        others = [s for s in sets if s != held]
        m = tr.fit(tr.stack(parts, others, max_lines=max_lines), threshold=thr)
        save(m, out / f"base-no-{held}.npz", kind="html", train_sets=others,
             params={"threshold": thr, "max_lines": max_lines},
             note=f"leave-{held}-out base, reduced settings")
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
    ap.add_argument("--no-unbalanced", action="store_true", help="Skip the siteK_unbalanced variant (faster).")
    ap.add_argument("--train-bases", action="store_true", help="Train the leave-that-set-out bases into --bases.")
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--json-in", type=Path, nargs="+", help="Only rewrite the markdown from --json-out files "
                    "of earlier runs (e.g. one per --sets).")
    ap.add_argument("--write-md", type=Path, help="Write the tables; hand-written notes after "
                    f"'{NOTES}' in an existing file are kept.")
    args = ap.parse_args()
    if args.train_bases:
        train_bases(args.root, args.cache, args.bases, args.sets.split(","))
        return
    res = {}
    for path in args.json_in or []:
        for key, r in json.loads(path.read_text()).items():
            res[tuple(key.split("/", 1))] = (r.pop("pages"), r)
    shipped = None if args.json_in else load_model(None, "html")[0]
    for ds in ([] if args.json_in else args.sets.split(",")):
        t0 = time.time()
        base, _ = load(args.bases / f"base-no-{ds}.npz")
        part = build.build(args.root / ds, args.cache)["html"]
        for j, (host, pids) in enumerate(sites(args.root, ds, args.min_pages).items()):
            r = run_site(SitePages(part, pids), base, shipped, args.repeats, seed=j,
                         unbalanced=not args.no_unbalanced,
                         labelled=tuple(int(x) for x in args.labelled.split(",")))
            res[(ds, host)] = (len(pids), r)
            print(ds, host, len(pids), " ".join(f"{k}={v:.3f}" for k, v in r.items() if "_" not in k
                                                 or k.startswith("profile")), flush=True)
        print(f"{ds}: {time.time() - t0:.0f}s", flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps({f"{d}/{h}": {"pages": n, **r} for (d, h), (n, r) in res.items()},
                                            indent=1))
    if args.write_md:
        old = args.write_md.read_text() if args.write_md.exists() else ""
        notes = old[old.index(NOTES):] if NOTES in old else NOTES + "\n"
        args.write_md.write_text(to_md(res, args) + "\n" + notes)


if __name__ == "__main__":
    main()
