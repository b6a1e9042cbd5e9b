"""Labelled dataset folders: ``<name>/html/<id>.html.gz`` + ``ground-truth.json``."""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

#: Sets whose gold is not a full article text (scored by snippets instead).
SNIPPET_SETS = frozenset({"trafilatura_eval"})

#: Licences as stated in the sets' SOURCE.md, for the model card.
LICENCES = {
    "dragnet": "AGPLv3 (data)",
    "cleaneval": "none stated",
    "cleanportaleval": "none stated",
    "canola": "CC BY-SA 4.0",
    "utomo_big5": "research use only",
    "utomo_chaos": "research use only",
    "readability": "Apache-2.0",
    "tiptopjaw_wceb2026_llm": "Apache-2.0",
    "webmainbench_sample": "Apache-2.0",
    "trafilatura_eval": "Apache-2.0",
    "wcxb_dev": "CC-BY-4.0",
}


#: Sets whose gold keeps the page's headline, each scored with it in the main
#: text (``include_title=True``); the other sets' golds leave it out (the share
#: of each set's golds that hold the headline line: ``docs/research/model-history.md``,
#: "The headline convention of each set").
HEADLINE_IN_GOLD = frozenset({"cleaneval", "cleanportaleval", "dragnet", "utomo_big5", "utomo_chaos",
                              "webmainbench_sample"})

#: Sets scored by domain-grouped k-fold as well as leave-one-dataset-out (the
#: shipped model trains on them): the gold key that names a page's site.
KFOLD_SETS = {"wcxb_dev": "domain"}


def headline_kept(name: str) -> bool:
    """Whether the gold of set ``name`` keeps the page's headline (:data:`HEADLINE_IN_GOLD`)."""
    return name in HEADLINE_IN_GOLD


def gold_sets(root: str | Path) -> list[str]:
    """Names of the dataset folders under ``root`` that have full gold text."""
    root = Path(root)
    return sorted(p.parent.name for p in root.glob("*/ground-truth.json")
                  if p.parent.name not in SNIPPET_SETS)


def snippet_sets(root: str | Path) -> list[str]:
    """Names of the dataset folders under ``root`` labelled by snippets
    (``snippets.json``: ``{id: {"with": [...], "without": [...]}}``) and not
    by full gold (a folder with both is a gold set: :func:`gold_sets`)."""
    gold = set(gold_sets(root))
    return sorted(p.parent.name for p in Path(root).glob("*/snippets.json") if p.parent.name not in gold)


def resolve_snippet_sets(root: str | Path, names: list[str] | None) -> list[str]:
    """``names`` checked to be snippet sets under ``root`` (``ValueError``
    names the missing ``snippets.json``), or every snippet set for None."""
    if names is None:
        return snippet_sets(root)
    for n in names:
        if not (Path(root) / n / "snippets.json").is_file():
            raise ValueError(f"snippet set {n!r}: no {Path(root) / n / 'snippets.json'}")
    return list(names)


def load_snippets(ds_dir: str | Path) -> dict[str, dict]:
    with open(Path(ds_dir) / "snippets.json", encoding="utf-8") as f:
        return json.load(f)


def load_gold(ds_dir: str | Path) -> dict[str, dict]:
    with open(Path(ds_dir) / "ground-truth.json", encoding="utf-8") as f:
        return json.load(f)


def page_ids(ds_dir: str | Path) -> list[str]:
    """Ids of the pages with HTML in a dataset folder, sorted."""
    return sorted(p.name[: -len(".html.gz")] for p in (Path(ds_dir) / "html").glob("*.html.gz"))


def read_html(ds_dir: str | Path, page_id: str) -> bytes:
    with gzip.open(Path(ds_dir) / "html" / f"{page_id}.html.gz") as f:
        return f.read()


def iter_pages(ds_dir: str | Path) -> Iterator[tuple[str, bytes, str]]:
    """``(id, html bytes, gold text)`` for every gold page with HTML."""
    gold = load_gold(ds_dir)
    for pid in page_ids(ds_dir):
        if pid in gold:
            yield pid, read_html(ds_dir, pid), gold[pid].get("articleBody") or ""
