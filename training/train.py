"""Fit the models, evaluate leave-one-dataset-out, write ``models/`` and the card.

Leave-one-dataset-out (LODO): for every dataset with full gold, a model is
trained on the other datasets only and scored on that one with the benchmark's
shingle F1 (:mod:`boilerclf.metrics`), so no score comes from pages the model
was trained on.  The shipped models are then trained on all training sets.
"""
from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from boilerclf import metrics
from boilerclf.decide import decision, keep
from boilerclf.model.classifier import LineClassifier
from boilerclf.model.files import save
from boilerclf.pipeline import PRESETS

from . import build, datasets

#: Datasets used for training by default (all full-gold sets).
DEFAULT_TRAIN = None  # None = every full-gold set found


@dataclass
class Data:
    """Lines of several datasets stacked for one mode (``y`` -1: no label;
    ``w``: sample weights, None when every line weighs 1)."""

    X: np.ndarray
    y: np.ndarray
    names: list[str] = field(default_factory=list)
    w: np.ndarray | None = None


#: Weight of a labelled line of a snippet set in training.  A page of
#: trafilatura_eval has 6.5 labelled lines (its snippets' lines), a page of the
#: full-gold sets gives 148 training rows (at most 400 lines a page), so at 20
#: a snippet page weighs about as much as a gold page (weights 10 and 40 were
#: measured too: ``docs/research/model-history.md``, rounds 13 and 14).
SNIPPET_WEIGHT = 20.0

#: The peer whose output labels a snippet set's other lines (those no snippet
#: touches: 97 % of trafilatura_eval's lines), and the weight of such a line.
#: (``docs/research/model-history.md``, round 15).
PSEUDO_PEER = "trafilatura"
PSEUDO_WEIGHT = 1.0


def headline_mask(X: np.ndarray) -> np.ndarray:
    """The rows of a feature matrix that are their page's headline (:func:`boilerclf.decide.keep.headline_rows`)."""
    heads = keep.headline_rows(X, keep.page_starts(X))
    mask = np.zeros(len(X), dtype=bool)
    mask[heads[heads >= 0]] = True
    return mask


def stack(parts: dict[str, build.Part], names: list[str], *, max_lines: int = 0, seed: int = 0,
          weights: dict[str, float | np.ndarray] | None = None, rows: dict[str, np.ndarray] | None = None,
          unlabel_headline: bool = False) -> Data:
    """Stack datasets with unique page ids; with ``max_lines`` whole pages are
    subsampled to about that many lines in all.  (Pages are balanced by the
    model's ``max_lines_per_page``.)  ``weights`` gives the lines of a set a
    sample weight other than 1: one for all its lines, or an array, one per line.
    ``rows`` keeps only the rows of a set that a boolean mask marks (k-fold).
    ``unlabel_headline`` takes the label off each page's headline line: the
    decision keeps or drops it by convention (``include_title``), so a set
    whose gold keeps it must not teach the model to keep it, nor one whose
    gold leaves it out to drop it."""
    rng = np.random.default_rng(seed)
    Xs, ys, ws = [], [], []
    page_base = 0
    for n in names:
        p = parts[n]
        X = p.X.copy()
        y = p.y
        w = np.broadcast_to(np.asarray((weights or {}).get(n, 1.0), dtype=np.float64), (len(X),))
        if unlabel_headline:
            y = np.where(headline_mask(X), -1, y)
        if rows is not None and n in rows:
            X, y, w = X[rows[n]], y[rows[n]], w[rows[n]]
        n_pages = int(p.X[:, 0].max()) + 1 if len(p.X) else 0
        X[:, 0] += page_base
        page_base += n_pages
        Xs.append(X)
        ys.append(y)
        ws.append(w)
    X, y, w = np.concatenate(Xs), np.concatenate(ys), np.concatenate(ws)
    if max_lines and len(X) > max_lines:
        chosen = rng.random(page_base) < max_lines / len(X)
        m = chosen[X[:, 0].astype(np.int64)]
        X, y, w = X[m], y[m], w[m]
    return Data(X, y, list(names), None if (w == 1.0).all() else w)


def fit(data: Data, **params) -> LineClassifier:
    return LineClassifier(**params).fit(data.X, data.y, sample_weight=data.w)


#: Decisions scored in LODO (report keys are their strings): fixed thresholds,
#: "auto" (a threshold per page, :mod:`boilerclf.decide.decision`) and the presets.
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7,
              *dict.fromkeys(str(d) for d in PRESETS.values()))

#: Sets with fewer pages than this do not vote on the shipped threshold: on
#: webmainbench_sample (5 pages) one page moves the set's F1 by 0.1, which
#: moved the 9-set macro's best threshold from 0.35 to 0.45 (2026-11-23) while
#: the eight larger sets were best at 0.3-0.35.
MIN_PAGES_FOR_THRESHOLD = 20


def pick_threshold(by_thr: dict[float | str, dict[str, dict]], pages: dict[str, int],
                   min_pages: int = MIN_PAGES_FOR_THRESHOLD
                   ) -> tuple[float | str, dict[float | str, float], list[str]]:
    """The threshold (a number or "auto") of best macro F1 over the sets with at
    least ``min_pages`` pages (all sets if none has), that macro per threshold,
    and those sets (the voters).  The presets' decisions ("auto:0.3", ...) are
    scored but not candidates.  Macros equal to three decimals are broken
    towards "auto", then towards 0.5."""
    voters = [n for n, k in pages.items() if k >= min_pages] or list(pages)
    macro = {t: float(np.mean([v[n]["f1"] for n in voters])) for t, v in by_thr.items()
             if isinstance(t, float) or t == "auto"}
    best = max(macro, key=lambda t: (round(macro[t], 3), -abs(t - 0.5) if isinstance(t, float) else 1.0))
    return best, macro, voters

#: Prediction shortcuts per mode (``LineClassifier`` parameters, stored in the
#: model file): stage 1 stops after 30 trees for a line scored below 0.05 so
#: far, and such lines skip stage 2 (``docs/research/model-history.md``,
#: "Prediction shortcuts"); the text model keeps every tree.
SHORTCUTS = {"html": {"exit_trees": 30, "exit_score": 0.05, "cascade": 0.05}, "text": {}}
# Both models keep LineClassifier's 150 trees per stage: 300 for the HTML model
# lowered the leave-one-dataset-out macro (``docs/research/model-history.md``, round 11).


def _lodo_fold(mp: dict, others: list[str], name: str, max_lines: int, params: dict,
               weights: dict[str, float | np.ndarray] | None = None, rows: dict | None = None,
               unlabel_headline: bool = False, score_rows: np.ndarray | None = None,
               score_X: list[np.ndarray] | None = None) -> np.ndarray | list[np.ndarray]:
    """Train on ``others`` (``rows``: masks of their rows, as in :func:`stack`);
    the line scores of ``name`` (only its ``score_rows``, if given), or, with
    ``score_X``, the line scores of each of those matrices."""
    model = fit(stack(mp, others, max_lines=max_lines, weights=weights, rows=rows,
                      unlabel_headline=unlabel_headline), **params)
    if score_X is not None:
        return [model.decision_scores(X) for X in score_X]
    X = mp[name].X if score_rows is None else mp[name].X[score_rows]
    return model.decision_scores(X)


def domain_folds(gold: dict[str, dict], ids: list[str], key: str, k: int = 5, seed: int = 0) -> np.ndarray:
    """A fold number (0..k-1) per page of ``ids``, the pages of one site (the
    gold's ``key``, else the URL's host) always in the same fold."""
    from urllib.parse import urlsplit

    def site(pid: str) -> str:
        g = gold.get(pid) or {}
        return str(g.get(key) or urlsplit(g.get("url") or "").hostname or pid)

    sites = sorted({site(p) for p in ids})
    order = np.random.default_rng(seed).permutation(len(sites))
    fold_of = {s: int(order[i]) % k for i, s in enumerate(sites)}
    return np.array([fold_of[site(p)] for p in ids], dtype=np.int64)


def kfold_scores(mp: dict, others: list[str], name: str, folds: np.ndarray, max_lines: int, params: dict,
                 weights: dict | None = None, unlabel_headline: bool = False, n_jobs: int = 1,
                 score_parts: list[build.Part] | None = None) -> np.ndarray | list[np.ndarray]:
    """Out-of-fold line scores of set ``name``: each fold scored by a model
    trained on ``others`` and the other folds of ``name`` (``folds``: one
    fold number per page of ``name``).  With ``score_parts`` (other parts of
    the same pages: the text dumps), the out-of-fold scores of each of them."""
    from joblib import Parallel, delayed

    page_fold = folds[mp[name].X[:, 0].astype(np.int64)]
    targets = score_parts if score_parts is not None else [mp[name]]
    target_fold = [folds[p.X[:, 0].astype(np.int64)] for p in targets]
    ks = sorted(set(folds.tolist()))
    got = Parallel(n_jobs=n_jobs)(
        delayed(_lodo_fold)(mp, others + [name], name, max_lines, params, weights, {name: page_fold != f},
                            unlabel_headline, None, [p.X[tf == f] for p, tf in zip(targets, target_fold)])
        for f in ks)
    outs = [np.empty(len(tf), dtype=np.float64) for tf in target_fold]
    for f, scs in zip(ks, got):
        for out, tf, sc in zip(outs, target_fold, scs):
            out[tf == f] = sc
    return outs if score_parts is not None else outs[0]


def texts_at(part: build.Part, scores: np.ndarray, threshold: float | str,
             headline: bool | None = None, *, kind: str = "html") -> dict[str, str]:
    """Predicted main text per page id, the lines kept at ``threshold`` (a
    number, or "auto"), through :func:`boilerclf.decide.keep.kept_lines`, the
    function :class:`boilerclf.Extractor` uses: the same rules after the model,
    the same per-page thresholds, the same text for the same scores.
    ``headline``: the Extractor's ``include_title`` for HTML parts (None: the
    headline line is left to its score, as for text pages); ``kind``: the
    part's, "text" for a text dump (its comment sections capped as the
    Extractor does)."""
    texts = [t for page in part.texts for t in page]
    got = keep.kept_lines(scores, part.X, texts, decision.parse(threshold), markup=part.markup,
                          headline=headline, comment_tail=kind == "text")
    return keep.page_texts(got, texts, part.ids)


def convention(name: str, mode: str) -> bool | None:
    """The headline decision a set is scored with: its gold's convention for
    HTML (:func:`training.datasets.headline_kept`), the model's call for text."""
    return datasets.headline_kept(name) if mode == "html" else None


def snippet_accuracy(part: build.Part, snippets: dict[str, dict], scores: np.ndarray,
                     threshold: float | str, headline: bool | None = False) -> dict:
    """trafilatura_eval's metric (:func:`boilerclf.metrics.snippet_accuracy`)
    on a snippet set's cached lines scored ``scores`` (the headline dropped, as
    the library's default does)."""
    return metrics.snippet_accuracy(snippets, texts_at(part, scores, threshold, headline))


def predict_texts(model: LineClassifier, part: build.Part, threshold: float | str | None = None
                  ) -> dict[str, str]:
    """Predicted main text per page id of a cached dataset."""
    thr = model.threshold if threshold is None else threshold
    return texts_at(part, model.decision_scores(part.X), thr)


def score_part(model: LineClassifier, part: build.Part, threshold: float | str | None = None) -> dict:
    pred = predict_texts(model, part, threshold)
    return metrics.evaluate(part.gold, pred)


def peer_texts(root: Path, name: str, peers_cache: Path | None, peer: str, ids: list[str]
               ) -> dict[str, str] | None:
    """A peer extractor's output text per page of a dataset, from a predictions
    cache (``<peer>/<name>.json``, as ``benchmarks/quality.py`` writes it),
    computing and caching trafilatura's (``include_comments=False``, as in
    ``benchmarks/peers.py``) on the pages ``ids`` when missing and trafilatura
    is installed; None when neither (:func:`peer_output_missing`)."""
    path = peers_cache / peer / f"{name}.json" if peers_cache else None
    if path is not None and path.exists():
        return {k: (v or {}).get("articleBody") or "" for k, v in json.loads(path.read_text()).items()}
    if peer != "trafilatura":
        return None
    try:
        import trafilatura
    except ImportError:
        return None
    pred = {}
    for pid in ids:
        try:
            pred[pid] = trafilatura.extract(datasets.read_html(root / name, pid), include_comments=False) or ""
        except Exception:
            pred[pid] = ""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({k: {"articleBody": v} for k, v in pred.items()}))
    return pred


def peer_output_missing(names: list[str], peers_cache: str | Path | None, peer: str) -> str | None:
    """Why :func:`peer_texts` would have no output of ``peer`` for some of
    ``names`` (not in ``peers_cache``, and not trafilatura installed here), or
    None when it has output for all."""
    missing = [n for n in names if peers_cache is None or not (Path(peers_cache) / peer / f"{n}.json").is_file()]
    if not missing or (peer == "trafilatura" and importlib.util.find_spec("trafilatura") is not None):
        return None
    return (f"no output of {peer} on {', '.join(missing)} in the peers cache (<peer>/<set>.json, as "
            "benchmarks/quality.py writes them)"
            + (", and trafilatura is not installed (pip install -e '.[bench]')" if peer == "trafilatura" else ""))


def peer_scores(root: Path, name: str, peers_cache: Path | None, peer: str = "trafilatura") -> dict | None:
    """The peer's score on a dataset (:func:`peer_texts`; None when it has no output)."""
    gold = {k: (v.get("articleBody") or "") for k, v in datasets.load_gold(root / name).items()}
    pred = peer_texts(root, name, peers_cache, peer, [p for p in datasets.page_ids(root / name) if p in gold])
    return None if pred is None else metrics.evaluate(gold, pred)


def mean_metrics(ms: list[dict]) -> dict:
    """The mean of scores (precision, recall, F1) over several evaluations."""
    return {k: float(np.mean([m[k] for m in ms])) for k in ("precision", "recall", "f1")} | {
        "n_pages": ms[0]["n_pages"]}


def text_lodo(by_dumper: dict[str, dict[str, build.Part]], scores: dict[str, list[np.ndarray]], report: dict,
              cache_dir: str | Path, log=print) -> dict:
    """Score the text model's LODO line scores of each held-out set on every
    dumper's dump of it (``scores[set]``: one array per dumper, in the order of
    ``by_dumper[set]``): per dumper and threshold into ``report["lodo"][set]``
    (``text_dumpers_by_threshold``, and ``text_keep_all``, every line kept);
    returns the mean over dumpers per threshold and set, as :func:`run`
    scores a mode."""
    by_thr: dict = {t: {} for t in THRESHOLDS}
    for n, scs in scores.items():
        per: dict = {}
        keep_all = {}
        for (d, part), sc in zip(by_dumper[n].items(), scs):
            per[d] = {str(t): metrics.evaluate(part.gold, texts_at(part, sc, t, kind="text")) for t in THRESHOLDS}
            keep_all[d] = metrics.evaluate(part.gold, {pid: "\n".join(t) for pid, t in zip(part.ids, part.texts)})
        entry = report["lodo"].setdefault(n, {})
        entry["text_dumpers_by_threshold"] = per
        entry["text_keep_all"] = keep_all
        for t in THRESHOLDS:
            by_thr[t][n] = mean_metrics([per[d][str(t)] for d in per])
        log(f"LODO text {n}: " + ", ".join(f"{d} {per[d]['auto']['f1']:.3f} (all {keep_all[d]['f1']:.3f})"
                                           for d in per) + " (F1 at auto)")
    return by_thr


def run(root: str | Path, out_dir: str | Path, *, cache_dir: str | Path, train_sets: list[str] | None = None,
        eval_sets: list[str] | None = None, lodo: bool = True, peers_cache: str | Path | None = None,
        max_lines: int = 0, n_jobs: int = 1, log=print, params: dict | None = None,
        thresholds: dict[str, float] | None = None, snippet_sets: list[str] | None = None,
        snippet_weight: float = SNIPPET_WEIGHT, pseudo_peer: str | None = PSEUDO_PEER,
        pseudo_weight: float = PSEUDO_WEIGHT, kfold: int = 5, kfold_modes: tuple[str, ...] = ("html", "text"),
        modes: tuple[str, ...] = ("html", "text"), dumpers: tuple[str, ...] = build.DEFAULT_DUMPERS) -> dict:
    """Build caches, run LODO, fit and save the HTML and text models, write the card.

    Each model ships with the threshold of best macro LODO F1 over the sets of
    at least :data:`MIN_PAGES_FOR_THRESHOLD` pages (:func:`pick_threshold`), unless
    ``thresholds`` names one for its mode (recorded in the report as ``set``).

    ``snippet_sets`` (default: every set under ``root`` with ``snippets.json``;
    ``[]`` for none) add their snippet-labelled lines to the HTML model's
    training, in every LODO fold and in the shipped fit, at ``snippet_weight``
    per line (:data:`SNIPPET_WEIGHT`).  Each snippet set's snippet accuracy is
    measured with a model trained without it (report ``"snippets"``).

    With ``pseudo_peer`` (default :data:`PSEUDO_PEER`; None for none), the
    snippet sets' other lines are labelled by that peer's output for their page
    (:func:`peer_texts`, :func:`boilerclf_training.build.pseudo_labelled`) and
    weigh ``pseudo_weight`` each.  ``ValueError`` (before any page is read) when
    the peer's output is neither in ``peers_cache`` nor computable
    (:func:`peer_output_missing`).  ``modes``: the models to train ("html",
    "text").

    The text model learns from whole-page text dumps of the same pages, made
    by each of ``dumpers`` (:mod:`boilerclf_training.dumps`): every page once,
    by one dumper chosen at random (:func:`boilerclf_training.build.mixed`).
    Its LODO scores each held-out set's dumps by every dumper (report
    ``lodo[set]["text_dumpers"]``, with ``text_keep_all``: every line kept);
    ``lodo[set]["text"]`` and the text threshold are the mean over dumpers.

    The sets of :data:`training.datasets.KFOLD_SETS` that are training sets are
    also scored by ``kfold``-fold cross-validation grouped by site (in the
    ``kfold_modes``): each fold by a model trained on every other set and the
    set's other folds, as the shipped model is (report ``"kfold"``; their
    held-out texts go to ``cache_dir/heldout/<set>.<mode>.json``).  HTML sets
    are scored with their gold's headline convention (:func:`convention`) and
    the HTML model learns nothing from headline lines (:func:`stack`).
    """
    root = Path(root)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    all_sets = datasets.gold_sets(root)
    train_sets = train_sets or all_sets
    eval_sets = eval_sets or all_sets
    snippet_sets = datasets.resolve_snippet_sets(root, snippet_sets)
    params = params or {}
    why = peer_output_missing(snippet_sets, peers_cache, pseudo_peer) if pseudo_peer else None
    if why:
        raise ValueError(f"pseudo labels: {why}")
    parts = {}
    for n in sorted(set(train_sets) | set(eval_sets)):
        t0 = time.time()
        parts[n] = build.build(root / n, cache_dir, n_jobs=n_jobs,
                               dumpers=tuple(dumpers) if "text" in modes else ())
        log(f"lines of {n}: {len(parts[n]['html'].X)} ({time.time() - t0:.0f}s)")
    snip = {}
    for n in snippet_sets:
        t0 = time.time()
        snip[n] = build.build_snippets(root / n, cache_dir, n_jobs=n_jobs)
        log(f"lines of {n} (snippets): {len(snip[n].X)}, labelled {int((snip[n].y >= 0).sum())} "
            f"({time.time() - t0:.0f}s)")
    pseudo = {}
    for n in snip if pseudo_peer else ():
        texts = peer_texts(root, n, Path(peers_cache) if peers_cache else None, pseudo_peer, snip[n].ids)
        snip[n], pseudo[n] = build.pseudo_labelled(snip[n], texts)
        log(f"pseudo labels of {n} from {pseudo_peer}: {int(pseudo[n].sum())} lines, "
            f"{float((snip[n].cov[pseudo[n]] >= 0.5).mean()) if pseudo[n].any() else 0.0:.3f} content")
    from .card import _git_commit

    report: dict = {"train_sets": train_sets, "lodo": {}, "params": params, "commit": _git_commit()}
    if snip:
        report["snippet_sets"] = {"sets": snippet_sets, "weight": snippet_weight, "mode": "html"}
    if pseudo:
        report["snippet_sets"]["pseudo_labels"] = {
            "peer": pseudo_peer, "weight": pseudo_weight, "lines": {n: int(m.sum()) for n, m in pseudo.items()}}
    kfold_out: dict[tuple[str, str], np.ndarray] = {}
    kfold_text: dict[str, tuple[list[np.ndarray], dict]] = {}  # per set: its dumpers' scores, their report
    for mode in modes:
        by_dumper = {n: {d: parts[n][build.text_mode(d)] for d in dumpers} for n in parts} if mode == "text" else {}
        mp = {n: build.mixed(by_dumper[n]) for n in parts} if mode == "text" else {n: parts[n][mode] for n in parts}
        extra = list(snip) if mode == "html" else []
        mp.update({n: snip[n] for n in extra})
        weights = {n: np.where(pseudo[n], pseudo_weight, snippet_weight) if n in pseudo else snippet_weight
                   for n in extra}
        fixed = (thresholds or {}).get(mode)
        mparams = {**SHORTCUTS.get(mode, {}), **params}
        if lodo:
            from joblib import Parallel, delayed

            t0 = time.time()
            unlabel = mode == "html"
            score_X = ({n: [by_dumper[n][d].X for d in dumpers] for n in eval_sets} if mode == "text"
                       else dict.fromkeys(eval_sets))
            scores = Parallel(n_jobs=n_jobs)(
                delayed(_lodo_fold)(mp, [s for s in train_sets if s != n] + extra, n, max_lines, mparams,
                                    weights, None, unlabel, None, score_X[n])
                for n in eval_sets)
            if mode == "text":
                by_thr = text_lodo(by_dumper, dict(zip(eval_sets, scores)), report, cache_dir, log)
            else:
                by_thr = {t: {n: metrics.evaluate(mp[n].gold, texts_at(mp[n], sc, t, convention(n, mode)))
                              for n, sc in zip(eval_sets, scores)} for t in THRESHOLDS}
            for n, key in datasets.KFOLD_SETS.items():
                if n not in train_sets or n not in eval_sets or mode not in kfold_modes:
                    continue
                t1 = time.time()
                folds = domain_folds(datasets.load_gold(root / n), mp[n].ids, key, k=kfold)
                if mode == "text":  # every dumper's dumps of each fold, by the fold's model
                    scs = kfold_scores(mp, [s for s in train_sets if s != n] + extra, n, folds, max_lines,
                                       mparams, weights, unlabel, n_jobs, list(by_dumper[n].values()))
                    kf_report = {"lodo": {}}
                    kf_by = text_lodo({n: by_dumper[n]}, {n: scs}, kf_report, cache_dir, log=lambda s: None)
                    kf = {t: kf_by[t][n] for t in THRESHOLDS}
                    kfold_text[n] = (scs, kf_report["lodo"][n])
                else:
                    sc = kfold_scores(mp, [s for s in train_sets if s != n] + extra, n, folds, max_lines, mparams,
                                      weights, unlabel, n_jobs)
                    kf = {t: metrics.evaluate(mp[n].gold, texts_at(mp[n], sc, t, convention(n, mode)))
                          for t in THRESHOLDS}
                report.setdefault("kfold", {}).setdefault(n, {})[mode + "_by_threshold"] = {
                    str(t): v for t, v in kf.items()}
                report["kfold"][n]["folds"] = {"k": kfold, "group": key}
                if mode != "text":
                    kfold_out[(n, mode)] = sc
                log(f"k-fold {mode} {n} ({kfold} folds by {key}, {time.time() - t1:.0f}s): "
                    f"F1 at auto {kf['auto']['f1']:.3f}")
            macro = {t: float(np.mean([m["f1"] for m in v.values()])) for t, v in by_thr.items()}
            best, voted, voters = pick_threshold(by_thr, {n: len(mp[n].gold) for n in eval_sets})
            report.setdefault("thresholds", {})[mode] = {  # keys as strings (JSON): "0.35", "auto"
                "macro_f1": {str(t): v for t, v in macro.items()}, "best": best,
                "voters_macro_f1": {str(t): v for t, v in voted.items()}, "voters": voters}
            shown = fixed if fixed in THRESHOLDS else best  # per-set rows at the shipped threshold
            for n, scs in zip(eval_sets, scores) if mode == "text" else ():
                entry = report["lodo"][n]
                entry["text_dumpers"] = {d: v[str(shown)] for d, v in entry["text_dumpers_by_threshold"].items()}
                for (d, part), sc in zip(by_dumper[n].items(), scs):  # held-out texts, per page type tables
                    path = Path(cache_dir) / "heldout" / f"{n}.text-{d}.lodo.json"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps({k: {"articleBody": v}
                                                for k, v in texts_at(part, sc, shown, kind="text").items()}))
            for n in eval_sets:
                report["lodo"].setdefault(n, {})[mode] = m = by_thr[shown][n]
                report["lodo"][n][mode + "_by_threshold"] = {str(t): by_thr[t][n] for t in THRESHOLDS}
                log(f"LODO {mode} {n}: P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f}")
            log(f"LODO {mode} done ({time.time() - t0:.0f}s); threshold {best} "
                f"(macro F1 {macro[best]:.3f}, at 0.5: {macro[0.5]:.3f}; over the sets "
                f"of {MIN_PAGES_FOR_THRESHOLD}+ pages {voted[best]:.4f})")
        if fixed is not None:
            report.setdefault("thresholds", {}).setdefault(mode, {})["set"] = fixed
        thr = fixed if fixed is not None else (best if lodo else None)
        mode_params = mparams if thr is None else {**mparams, "threshold": thr}
        if lodo:
            for (n, m), sc in kfold_out.items():  # held-out texts, for the benchmarks' per-type tables
                if m == mode:
                    report["kfold"][n][mode] = report["kfold"][n][mode + "_by_threshold"][str(shown)]
                    held = texts_at(mp[n], sc, thr, convention(n, mode))
                    path = Path(cache_dir) / "heldout" / f"{n}.{mode}.json"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps({k: {"articleBody": v} for k, v in held.items()}))
                    log(f"held-out {mode} texts of {n} (k-fold, threshold {thr}): {path}")
            for n, (scs, per) in kfold_text.items() if mode == "text" else ():
                kf = report["kfold"][n]
                kf["text"] = kf["text_by_threshold"][str(shown)]
                kf["text_dumpers"] = {d: v[str(shown)] for d, v in per["text_dumpers_by_threshold"].items()}
                kf["text_keep_all"] = per["text_keep_all"]
                for (d, part), sc in zip(by_dumper[n].items(), scs):
                    path = Path(cache_dir) / "heldout" / f"{n}.text-{d}.json"
                    path.write_text(json.dumps({k: {"articleBody": v}
                                                for k, v in texts_at(part, sc, thr, kind="text").items()}))
                log(f"held-out text texts of {n} (k-fold, threshold {thr}, per dumper): "
                    f"{Path(cache_dir) / 'heldout'}/{n}.text-<dumper>.json")
            for n in extra:  # snippet accuracy of a model that has not seen the set
                t0 = time.time()
                sc = _lodo_fold(mp, train_sets + [s for s in extra if s != n], n, max_lines, mparams, weights,
                                None, mode == "html")
                held = snippet_accuracy(snip[n], datasets.load_snippets(root / n), sc, thr,
                                        False if mode == "html" else None)
                report.setdefault("snippets", {})[n] = {**held, "mode": mode, "trained_without": n}
                log(f"snippet accuracy {mode} {n} (model trained without it): "
                    f"{held['snippet_accuracy']:.4f} of {held['n_snippets']} ({time.time() - t0:.0f}s)")
        model = fit(stack(mp, train_sets + extra, max_lines=max_lines, weights=weights,
                          unlabel_headline=mode == "html"), **mode_params)
        head = save(model, out_dir / f"boilerclf-{mode}.npz", kind=mode, train_sets=train_sets + extra,
                    lodo={n: v.get(mode) for n, v in report["lodo"].items()},
                    trained=time.strftime("%Y-%m-%d"), params=mode_params)
        report[f"{mode}_header"] = head
        log(f"wrote {out_dir / f'boilerclf-{mode}.npz'}")
    if lodo:
        for n in eval_sets:
            report["lodo"][n]["trafilatura"] = peer_scores(
                root, n, Path(peers_cache) if peers_cache else None)
    log("to ship these models, copy them to models/ and rebuild (pip install -e . or python setup.py "
        "build_ext --inplace): the build compiles the shipped models' trees (boilerclf/model/codegen.py)")
    return report
