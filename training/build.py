"""Datasets to cached line matrices with labels.

For each dataset folder the cache holds, per mode (``html``, and
``text:<dumper>`` for each text dumper asked for): the feature matrix of every
page (page ids made unique across the cache), the lines' gold coverage (see
:mod:`boilerclf.labels.gold`), the lines' texts and the page ids.  The text
modes use whole-page text dumps of the same pages
(:mod:`boilerclf_training.dumps`), split into lines as ``extract_text`` splits
them.  A cache file is keyed by the feature schema, the dumpers and a digest of
the code that makes it, so a retrain-and-evaluate loop only re-parses what
changed.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np

import boilerclf
from boilerclf.decide import keep
from boilerclf.decide import rules as cues
from boilerclf.features import table as features
from boilerclf.labels import gold as labels
from boilerclf.parse import html as html_mod
from boilerclf.parse import lines
from boilerclf.parse import text as text_mod
from boilerclf.parse.lines import Lines

from . import datasets, dumps

#: The text dumpers a cache holds unless asked otherwise.
DEFAULT_DUMPERS = ("render",)


def text_mode(dumper: str) -> str:
    """The mode key of a dumper's text part (``"text:html-text"``)."""
    return f"text:{dumper}"


#: Compiled sources whose code makes the cached matrices (beside the modules they accelerate).
_COMPILED = ((html_mod, "_cwalk.pyx"), (features, "_cfeat.pyx"))


def markup_of(page: Lines) -> np.ndarray:
    """What the markup says of a page's lines (:func:`boilerclf.decide.rules.markup_codes`;
    nothing for text pages)."""
    if page.kind != "html":
        return np.zeros(len(page), dtype=np.uint8)
    return cues.markup_codes(page.hints, page.flags)


def _code_digest() -> str:
    """A digest of the code that makes a cache: the Python modules of the
    pipeline up to the features and the compiled walker and feature pass."""
    h = hashlib.sha256()
    for mod in (lines, html_mod, text_mod, boilerclf.parse.guard, boilerclf.parse.markup, features, labels, cues,
                boilerclf.parse.decode, keep):
        h.update(Path(mod.__file__).read_bytes())
    for mod, name in _COMPILED:
        src = Path(mod.__file__).with_name(name)
        if src.exists():
            h.update(src.read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(Path(dumps.__file__).read_bytes())
    return h.hexdigest()[:12]


@dataclass
class Part:
    """Cached lines of one dataset in one mode."""

    X: np.ndarray          # features (page column = index into ``ids``)
    cov: np.ndarray        # gold coverage per line (snippet sets: 1, 0, NaN = no label)
    texts: list[list[str]]  # per page, its lines' texts
    ids: list[str]         # page ids
    gold: dict[str, str]   # gold text per page id
    markup: np.ndarray | None = None  # what the markup says of HTML lines (rules.markup_codes)

    @property
    def y(self) -> np.ndarray:
        """1 content, 0 boilerplate, -1 no label (a NaN coverage: a line no
        snippet of a snippet set touches)."""
        return np.where(np.isnan(self.cov), -1, self.cov >= 0.5).astype(np.int64)


def _one(args: tuple[str, str, str, tuple[str, ...]]) -> tuple:
    pid, ds_dir, gold, dumpers = args
    html = datasets.read_html(ds_dir, pid)
    hl = html_mod.html_lines(html)
    pages = [hl]
    if dumpers:
        src = boilerclf.parse.decode.decode(html)
        # a dump is split as extract_text splits a user's text: its title is its first line
        pages += [text_mod.text_lines(dumps.dump(d, src, hl)) for d in dumpers]
    out = []
    for L in pages:
        X = features.page_features(L)
        out.append((X, labels.coverage(L.texts, gold), L.texts, markup_of(L)))
    return pid, out


def build(ds_dir: str | Path, cache_dir: str | Path, n_jobs: int = 1,
          dumpers: tuple[str, ...] = DEFAULT_DUMPERS) -> dict[str, Part]:
    """Cached :class:`Part` per mode for one dataset: ``"html"``, and
    ``"text:<dumper>"`` (:func:`text_mode`) for each of ``dumpers``
    (:data:`boilerclf_training.dumps.DUMPERS`)."""
    ds_dir = Path(ds_dir)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    dumpers = tuple(dumpers)
    tag = hashlib.sha256(",".join(dumpers).encode()).hexdigest()[:6]
    path = cache_dir / f"{ds_dir.name}.s{features.SCHEMA_VERSION}.{_code_digest()}.{tag}.joblib"
    if path.exists():
        return {mode: Part(**d) for mode, d in joblib.load(path).items()}
    gold = {k: (v.get("articleBody") or "") for k, v in datasets.load_gold(ds_dir).items()}
    ids = [p for p in datasets.page_ids(ds_dir) if p in gold]
    jobs = [(p, str(ds_dir), gold[p], dumpers) for p in ids]
    if n_jobs > 1:
        with ProcessPoolExecutor(n_jobs) as ex:
            results = list(ex.map(_one, jobs, chunksize=8))
    else:
        results = [_one(j) for j in jobs]
    parts = {}
    for m, mode in enumerate(("html", *map(text_mode, dumpers))):
        Xs, covs, texts, markup = [], [], [], []
        for i, (pid, out) in enumerate(results):
            X, cov, t, c = out[m]
            X[:, 0] = i
            Xs.append(X)
            covs.append(cov)
            texts.append(t)
            markup.append(c)
        parts[mode] = Part(np.concatenate(Xs), np.concatenate(covs), texts,
                           [r[0] for r in results], {p: gold[p] for p in ids}, np.concatenate(markup))
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    joblib.dump({mode: vars(p) for mode, p in parts.items()}, tmp)
    tmp.replace(path)
    return parts


def _one_snippets(args: tuple[str, str, dict]) -> tuple:
    pid, ds_dir, sn = args
    hl = html_mod.html_lines(datasets.read_html(ds_dir, pid))
    y = labels.snippet_labels(hl.texts, sn.get("with") or [], sn.get("without") or [])
    cov = np.where(y < 0, np.nan, y).astype(np.float32)
    return pid, features.page_features(hl), cov, hl.texts, markup_of(hl)


def build_snippets(ds_dir: str | Path, cache_dir: str | Path, n_jobs: int = 1) -> Part:
    """Cached HTML :class:`Part` of a snippet set: the lines that hold a "with"
    snippet are labelled content, those that hold a "without" snippet
    boilerplate, the others have no label (NaN coverage; see
    :func:`boilerclf.labels.gold.snippet_labels`).  ``gold`` is empty."""
    ds_dir = Path(ds_dir)
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{ds_dir.name}.snippets.s{features.SCHEMA_VERSION}.{_code_digest()}.joblib"
    if path.exists():
        return Part(**joblib.load(path))
    snippets = datasets.load_snippets(ds_dir)
    jobs = [(p, str(ds_dir), snippets[p]) for p in datasets.page_ids(ds_dir) if p in snippets]
    if n_jobs > 1:
        with ProcessPoolExecutor(n_jobs) as ex:
            results = list(ex.map(_one_snippets, jobs, chunksize=16))
    else:
        results = [_one_snippets(j) for j in jobs]
    for i, r in enumerate(results):
        r[1][:, 0] = i
    part = Part(np.concatenate([r[1] for r in results]), np.concatenate([r[2] for r in results]),
                [r[3] for r in results], [r[0] for r in results], {},
                np.concatenate([r[4] for r in results]))
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    joblib.dump(vars(part), tmp)
    tmp.replace(path)
    return part


def pseudo_labelled(part: Part, peer_texts: dict[str, str]) -> tuple[Part, np.ndarray]:
    """A snippet set's :class:`Part` whose unlabelled lines (NaN coverage: no
    snippet touches them) take their coverage by a peer extractor's output for
    their page (``peer_texts``: page id -> text, as a gold text is used for a
    full-gold set), and the mask of the lines so labelled.  Snippet labels
    stay as they are; a page missing from ``peer_texts`` keeps its NaNs."""
    cov = part.cov.astype(np.float32, copy=True)
    pages = part.X[:, 0].astype(np.int64)
    bounds = np.searchsorted(pages, np.arange(len(part.ids) + 1))
    for i, pid in enumerate(part.ids):
        if pid not in peer_texts:
            continue
        lo, hi = bounds[i], bounds[i + 1]
        seg = cov[lo:hi]
        free = np.isnan(seg)
        if free.any():
            seg[free] = labels.coverage(part.texts[i], peer_texts[pid] or "")[free]
    mask = np.isnan(part.cov) & ~np.isnan(cov)
    return Part(part.X, cov, part.texts, part.ids, part.gold, part.markup), mask


def mixed(parts: dict[str, Part], seed: int = 0) -> Part:
    """One :class:`Part` of a dataset's pages, each page taken from one of the
    dumpers' parts (``parts``: dumper -> its part of the same pages), chosen at
    random: the text model sees every page once, in every dumper's manner."""
    names = list(parts)
    first = parts[names[0]]
    choice = np.random.default_rng(seed).integers(len(names), size=len(first.ids))
    rows = [choice[p.X[:, 0].astype(np.int64)] == k for k, p in enumerate(parts.values())]
    X = np.concatenate([p.X[m] for p, m in zip(parts.values(), rows)])
    order = np.argsort(X[:, 0], kind="stable")
    cat = [np.concatenate([getattr(p, f)[m] for p, m in zip(parts.values(), rows)])[order]
           for f in ("cov", "markup")]
    texts = [parts[names[choice[i]]].texts[i] for i in range(len(first.ids))]
    return Part(X[order], cat[0], texts, list(first.ids), first.gold, cat[1])
