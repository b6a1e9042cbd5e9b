#!/usr/bin/env python3
"""Page metadata: boilerclf's ``Result.metadata`` beside trafilatura's on wcxb_dev's gold.

wcxb_dev gives per page a gold ``title`` (the headline as shown, without the site
name), ``author`` and ``publish_date`` (``YYYY-MM-DD``; null when the page has none).
For each field, over the pages with a gold value, the share where the prediction
matches, for boilerclf and for trafilatura (``trafilatura.extract_metadata``), with
the same matching for both:

* title: the same lower-cased ``\\w+`` tokens, or one token list contained in the
  other and the shorter one has at least 80 % of the longer one's tokens;
* author: names split on ";", "&", " and ", "/", "|" and commas, credentials
  ("PhD", "MS", "RD"...) dropped, each name lower-cased ``\\w+`` tokens; a match when
  one gold name's tokens equal a predicted name's, or one contains the other
  and the shorter has two tokens or more;
* date: the same ``YYYY-MM-DD`` (a gold ``YYYY-MM`` matches a date of that month).

Also the title candidates (the headline line, ``og:title``, the JSON-LD headline,
``<title>``) so the rule for ``Result.title`` can be chosen, and per page type.

    python benchmarks/metadata.py --datasets ../shared/datasets --write-md benchmarks/METADATA.md
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from boilerclf.parse.decode import decode  # noqa: E402
from boilerclf.parse.metadata import head_titles  # noqa: E402
from boilerclf.pipeline import Extractor  # noqa: E402

FIELDS = ("title", "author", "date")
_TOKENS = re.compile(r"\w+")
_SPLIT = re.compile(r"\s*(?:;|&|\band\b|/|\||,)\s*", re.I)
_CREDENTIAL = re.compile(r"^(?:[A-Z]{1,5}|Ph\.?D\.?|M\.?D\.?|Jr\.?|Sr\.?|E-RYT \d+|[A-Z][a-z]?[A-Z]{1,4})$")


def tokens(s: str | None) -> list[str]:
    return _TOKENS.findall((s or "").lower())


def title_match(pred: str | None, gold: str) -> bool:
    p, g = tokens(pred), tokens(gold)
    if not p or not g:
        return False
    if p == g:
        return True
    short, long_ = (p, g) if len(p) <= len(g) else (g, p)
    if len(short) < 0.8 * len(long_):
        return False
    s, n = " ".join(short), " ".join(long_)
    return f" {s} " in f" {n} "


def names(s: str | None) -> list[frozenset]:
    out = []
    for part in _SPLIT.split(s or ""):
        part = part.strip()
        if not part or _CREDENTIAL.match(part):
            continue
        t = tokens(part)
        if t:
            out.append(frozenset(t))
    return out


def author_match(pred: str | None, gold: str) -> bool:
    for g in names(gold):
        for p in names(pred):
            if g == p or (min(len(g), len(p)) >= 2 and (g <= p or p <= g)):
                return True
    return False


def date_match(pred: str | None, gold: str) -> bool:
    pred = (pred or "")[:10]
    return bool(pred) and (pred == gold or (len(gold) == 7 and pred[:7] == gold))


MATCH = {"title": title_match, "author": author_match, "date": date_match}
GOLD_KEY = {"title": "title", "author": "author", "date": "publish_date"}


def load(datasets: Path, limit: int | None) -> list[tuple[str, dict, bytes]]:
    root = datasets / "wcxb_dev"
    gold = json.loads((root / "ground-truth.json").read_text())
    ids = sorted(gold)[:limit] if limit else sorted(gold)
    return [(i, gold[i], gzip.decompress((root / "html" / f"{i}.html.gz").read_bytes())) for i in ids]


def run_boilerclf(pages) -> tuple[dict, dict, float]:
    ex = Extractor()
    preds, cands = {}, {}
    t0 = time.perf_counter()
    for k in range(0, len(pages), 32):
        batch = pages[k:k + 32]
        results = ex.classify_lines([ex.lines(html, "html") for _, _, html in batch])
        for (pid, _, _), r in zip(batch, results):
            m = r.metadata
            preds[pid] = {"title": m.title, "author": m.author, "date": m.date,
                          "site_name": m.site_name, "language": m.language, "url": m.url}
            cands[pid] = dict(head_titles(r.markup), headline=r.title, metadata=m.title)
    return preds, cands, time.perf_counter() - t0


def run_trafilatura(pages, cache: Path | None) -> dict:
    if cache and cache.exists():
        return json.loads(cache.read_text())
    import trafilatura

    out = {}
    for pid, g, html in pages:
        try:
            doc = trafilatura.extract_metadata(decode(html), default_url=g.get("url"))
        except Exception:  # noqa: BLE001 - a failure counts as no metadata
            doc = None
        out[pid] = {"title": getattr(doc, "title", None), "author": getattr(doc, "author", None),
                    "date": getattr(doc, "date", None), "site_name": getattr(doc, "sitename", None)}
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(out))
    return out


def score(pages, preds: dict, field: str, by_type: bool = False) -> dict:
    hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pid, g, _ in pages:
        gold = g.get(GOLD_KEY[field])
        if not gold:
            continue
        ok = MATCH[field](preds.get(pid, {}).get(field), str(gold))
        for key in ("all", g.get("page_type", "?")) if by_type else ("all",):
            hits[key][0] += ok
            hits[key][1] += 1
    return {k: (h / n, n) for k, (h, n) in hits.items()}


def pct(x) -> str:
    return f"{100 * x[0]:.1f} %" if x else "-"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", type=Path, required=True)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--trafilatura-cache", type=Path, help="JSON file caching trafilatura's metadata")
    ap.add_argument("--write-md", type=Path)
    args = ap.parse_args(argv)
    pages = load(args.datasets, args.limit)
    ours, cands, secs = run_boilerclf(pages)
    theirs = run_trafilatura(pages, args.trafilatura_cache)
    import trafilatura

    types = sorted({g["page_type"] for _, g, _ in pages})
    md = ["# Page metadata: boilerclf vs trafilatura on wcxb_dev", "",
          f"{len(pages)} pages of wcxb_dev; boilerclf (this tree) and trafilatura {trafilatura.__version__} "
          "(`extract_metadata`). Per field, the share of pages with a gold value where the "
          "prediction matches (matching as in `benchmarks/metadata.py`'s docstring, the same "
          "for both).", "",
          "| field | pages with gold | boilerclf | trafilatura |", "| --- | ---: | ---: | ---: |"]
    res = {}
    for f in FIELDS:
        a, b = score(pages, ours, f, True), score(pages, theirs, f, True)
        res[f] = (a, b)
        md.append(f"| {f} | {a['all'][1]} | {pct(a['all'])} | {pct(b['all'])} |")
    md += ["", "Per page type (boilerclf / trafilatura; pages with a gold value):", "",
           "| page type | " + " | ".join(FIELDS) + " |", "| --- | " + " | ".join("---" for _ in FIELDS) + " |"]
    for t in types:
        cells = []
        for f in FIELDS:
            a, b = res[f]
            cells.append(f"{pct(a.get(t))} / {pct(b.get(t))} ({a.get(t, (0, 0))[1]})" if t in a else "-")
        md.append(f"| {t} | " + " | ".join(cells) + " |")
    md += ["", "Title candidates (the gold title is the headline as shown, without the site name):", "",
           "| title from | match |", "| --- | ---: |"]
    for key, label in (("metadata", "`Result.metadata.title`: the headline line if an `<h1>`, else the "
                                    "markup's title without the site name"),
                       ("headline", "the headline line (`Result.title`)"), ("og", "`og:title`"),
                       ("ld", "JSON-LD headline"), ("title", "`<title>`")):
        preds = {pid: {"title": c[key]} for pid, c in cands.items()}
        md.append(f"| {label} | {pct(score(pages, preds, 'title')['all'])} |")
    filled = {f: sum(bool(p.get(f)) for p in ours.values()) / len(ours) for f in
              ("site_name", "language", "url")}
    md += ["", "Fields without gold, share of pages where boilerclf fills them: "
           + ", ".join(f"{f} {100 * v:.0f} %" for f, v in filled.items())
           + f". boilerclf's classify + metadata: {len(pages) / secs:.0f} pages/s on this run.", "",
           "    python benchmarks/metadata.py --datasets ../shared/datasets --write-md benchmarks/METADATA.md", ""]
    text = "\n".join(md)
    print(text)
    if args.write_md:
        old = args.write_md.read_text() if args.write_md.exists() else ""
        keep = old.split("<!-- end of generated tables -->", 1)
        tail = ("<!-- end of generated tables -->" + keep[1]) if len(keep) == 2 else "<!-- end of generated tables -->\n"
        args.write_md.write_text(text + "\n" + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
