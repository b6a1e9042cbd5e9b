#!/usr/bin/env python3
"""Peer extractors (the libraries boilerclf is compared against) and a runner.

Registry
--------
``PEERS: dict[str, Callable[[bytes], str]]`` maps a peer name to a function
that takes the raw page bytes (exactly as stored, undecoded) and returns the
extracted main text, or ``''`` on any failure (exceptions are caught).

* ``trafilatura``          trafilatura.extract(raw, include_comments=False),
                           every other setting at its default.
* ``trafilatura_comments`` the same with include_comments=True (trafilatura's
                           own default).
* ``readability``          readability-lxml ``Document(raw).summary()``, the
                           summary HTML turned into text with lxml: one line
                           per block element (p, div, h1-h6, li, br, ...),
                           whitespace collapsed inside lines, empty lines
                           dropped.
* ``justext``              non-boilerplate paragraphs joined by newlines.
                           Stoplist choice: the page's declared language
                           (``<html lang=..>``, else ``<meta
                           http-equiv=content-language>``) when jusText has a
                           stoplist for it; English when the page declares no
                           language (most full-gold sets are English news);
                           jusText's language-independent mode (empty
                           stoplist, stopwords_low = stopwords_high = 0) when
                           the page declares a language jusText has no
                           stoplist for (e.g. zh, ja).  Other parameters are
                           jusText's defaults.
* ``boilerpy3``            ``ArticleExtractor(raise_on_failure=False)
                           .get_content(text)``; boilerpy3 needs ``str``, so the
                           bytes are decoded with resiliparse's
                           detect_encoding (meta charset, else uchardet) +
                           bytes_to_str.
* ``resiliparse``          ``extract_plain_text(HTMLTree.parse_from_bytes(raw,
                           detect_encoding(raw, from_html_meta=True)),
                           main_content=True)``.

``load_dataset(name) -> (ids, {id: bytes}, gold)``: ``gold`` is the
ground-truth dict, or for ``trafilatura_eval`` the snippets dict.

CLI
---
::

    python benchmarks/peers.py --datasets all --peers all --cache ../cache/peers

runs each peer on each dataset (peers outer loop, in registry order, so the
trafilatura runs finish first), writes ``CACHE/<peer>/<dataset>.json`` as
``{id: {"articleBody": text}}`` (skipped when it already exists) plus
``CACHE/<peer>/<dataset>.meta.json`` (timings, errors, timeouts), then scores
every cached prediction into ``CACHE/scores.json``::

    {dataset: {peer: {precision, recall, f1, n_pages}}}            # full gold
    {"trafilatura_eval": {peer: {snippet_accuracy, n_snippets, ...}}}

Time limit: pages are handed one at a time to ONE worker process (started
with fork, sequential, so still one core busy); if a page takes longer than
``--timeout`` seconds (default 30) the worker is killed and restarted and the
page gets ``''``.  This also covers hangs inside C code (regex, lxml) that a
thread or SIGALRM could not interrupt.

Snippet accuracy (trafilatura_eval) follows trafilatura's own evaluation
(tests/comparison_small.py, ``evaluate_result``): a "with" snippet is right if
it is a substring of the output, a "without" snippet is right if it is not;
accuracy = right / (number of with + without snippets); "comments" snippets
are not scored.  ``snippet_accuracy_ws`` is the same after collapsing runs of
whitespace to one space in both snippet and output (shows how much is lost to
line-break placement only).
"""
from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import multiprocessing as mp
import os
import re
import time
from pathlib import Path
from typing import Callable

DATASETS_DIR = Path(os.environ.get("BOILERCLF_DATASETS",
                                   "../shared/datasets"))
SCORE_PY = Path(os.environ.get("BOILERCLF_SCORE_PY",
                               "../shared/tools/score.py"))
SNIPPET_SET = "trafilatura_eval"
ALL_DATASETS = ["dragnet", "cleaneval", "cleanportaleval", "canola",
                "utomo_big5", "utomo_chaos", "readability",
                "tiptopjaw_wceb2026_llm", "webmainbench_sample",
                SNIPPET_SET]


# --------------------------------------------------------------------------
# data

def load_dataset(name: str, datasets_dir: Path | str = DATASETS_DIR):
    """Return (sorted ids, {id: raw html bytes}, gold).

    gold = ground-truth.json ({id: {"articleBody", "url", ...}}), or for the
    snippet set snippets.json ({id: {"with": [...], "without": [...], ...}}).
    Only ids that have both an HTML file and a gold entry are returned.
    """
    d = Path(datasets_dir) / name
    gold_file = d / ("snippets.json" if name == SNIPPET_SET
                     else "ground-truth.json")
    with open(gold_file, encoding="utf8") as f:
        gold = json.load(f)
    pages = {}
    for p in (d / "html").glob("*.html.gz"):
        pid = p.name[:-len(".html.gz")]
        if pid in gold:
            with gzip.open(p, "rb") as f:
                pages[pid] = f.read()
    ids = sorted(pages)
    return ids, pages, {k: gold[k] for k in ids}


# --------------------------------------------------------------------------
# peers (raw functions raise; the registry wraps them to return '' instead)

def _trafilatura(raw: bytes) -> str:
    import trafilatura
    return trafilatura.extract(raw, include_comments=False) or ""


def _trafilatura_comments(raw: bytes) -> str:
    import trafilatura
    return trafilatura.extract(raw, include_comments=True) or ""


_BLOCK_TAGS = frozenset("""address article aside blockquote body br caption
center dd details dialog div dl dt fieldset figcaption figure footer form h1
h2 h3 h4 h5 h6 header hr html li main nav ol p pre section summary table tbody
td tfoot th thead tr ul""".split())
_SKIP_TAGS = frozenset(["script", "style", "noscript", "template"])
_WS = re.compile(r"\s+")


def html_fragment_to_text(html: str) -> str:
    """Text of an HTML string: one line per block element, no empty lines."""
    import lxml.html
    from lxml import etree
    if not html or not html.strip():
        return ""
    root = lxml.html.fromstring(html)
    parts: list[str] = []
    skip = 0
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else None  # None: comment/PI
        if event == "start":
            if tag in _SKIP_TAGS or tag is None:
                skip += 1
                continue
            if skip:
                continue
            if tag in _BLOCK_TAGS:
                parts.append("\n")
            if el.text:
                parts.append(_WS.sub(" ", el.text))
        else:
            if tag in _SKIP_TAGS or tag is None:
                skip -= 1
            elif not skip and tag in _BLOCK_TAGS:
                parts.append("\n")
            if not skip and el.tail and el is not root:
                parts.append(_WS.sub(" ", el.tail))
    lines = (ln.strip() for ln in "".join(parts).split("\n"))
    return "\n".join(ln for ln in lines if ln)


def _readability(raw: bytes) -> str:
    from readability import Document
    return html_fragment_to_text(Document(raw).summary())


_ISO_TO_JUSTEXT = {
    "af": "Afrikaans", "sq": "Albanian", "ar": "Arabic", "hy": "Armenian",
    "az": "Azerbaijani", "eu": "Basque", "be": "Belarusian", "bn": "Bengali",
    "bs": "Bosnian", "br": "Breton", "bg": "Bulgarian", "ca": "Catalan",
    "hr": "Croatian", "cs": "Czech", "da": "Danish", "nl": "Dutch",
    "en": "English", "eo": "Esperanto", "et": "Estonian", "fi": "Finnish",
    "fr": "French", "gl": "Galician", "ka": "Georgian", "de": "German",
    "el": "Greek", "gu": "Gujarati", "ht": "Haitian", "he": "Hebrew",
    "iw": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "is": "Icelandic",
    "id": "Indonesian", "ga": "Irish", "it": "Italian", "jv": "Javanese",
    "kn": "Kannada", "kk": "Kazakh", "ko": "Korean", "ku": "Kurdish",
    "ky": "Kyrgyz", "la": "Latin", "lv": "Latvian", "lt": "Lithuanian",
    "lb": "Luxembourgish", "mk": "Macedonian", "ms": "Malay",
    "ml": "Malayalam", "mt": "Maltese", "mr": "Marathi", "ne": "Nepali",
    "nb": "Norwegian_Bokmal", "no": "Norwegian_Bokmal",
    "nn": "Norwegian_Nynorsk", "oc": "Occitan", "fa": "Persian",
    "pl": "Polish", "pt": "Portuguese", "qu": "Quechua", "ro": "Romanian",
    "ru": "Russian", "sr": "Serbian", "sk": "Slovak", "sl": "Slovenian",
    "es": "Spanish", "su": "Sundanese", "sw": "Swahili", "sv": "Swedish",
    "tl": "Tagalog", "ta": "Tamil", "te": "Telugu", "tr": "Turkish",
    "tk": "Turkmen", "uk": "Ukrainian", "ur": "Urdu", "uz": "Uzbek",
    "vi": "Vietnamese", "cy": "Welsh", "fy": "West_Frisian", "yo": "Yoruba",
    "eng": "English", "deu": "German", "ger": "German", "fra": "French",
    "fre": "French", "spa": "Spanish", "ita": "Italian", "pol": "Polish",
    "por": "Portuguese", "nld": "Dutch", "rus": "Russian",
}
_HTML_LANG = re.compile(rb"<html\b[^>]*?\b(?:xml:)?lang\s*=\s*[\"']?"
                        rb"([A-Za-z]{2,3})\b", re.I)
_META_LANG = re.compile(rb"<meta\b[^>]*?http-equiv\s*=\s*[\"']?content-"
                        rb"language[\"']?[^>]*?content\s*=\s*[\"']?"
                        rb"([A-Za-z]{2,3})\b", re.I)


def justext_language(raw: bytes) -> str | None:
    """Declared ISO language code of the page (lower case), or None."""
    head = raw[:50000]
    m = _HTML_LANG.search(head) or _META_LANG.search(head)
    return m.group(1).decode("ascii").lower() if m else None


def _justext(raw: bytes) -> str:
    import justext
    lang = justext_language(raw)
    if lang is None:
        paras = justext.justext(raw, justext.get_stoplist("English"))
    elif lang in _ISO_TO_JUSTEXT:
        paras = justext.justext(raw, justext.get_stoplist(_ISO_TO_JUSTEXT[lang]))
    else:  # language-independent mode, as the jusText docs describe it
        paras = justext.justext(raw, frozenset(), stopwords_low=0,
                                stopwords_high=0)
    return "\n".join(p.text for p in paras if not p.is_boilerplate)


def decode_html(raw: bytes) -> str:
    """Bytes -> str the way a user of a str-only library would (resiliparse)."""
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    return bytes_to_str(raw, detect_encoding(raw, from_html_meta=True))


def _boilerpy3(raw: bytes) -> str:
    from boilerpy3 import extractors
    ex = extractors.ArticleExtractor(raise_on_failure=False)
    return ex.get_content(decode_html(raw)) or ""


def _resiliparse(raw: bytes) -> str:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.encoding import detect_encoding
    from resiliparse.parse.html import HTMLTree
    tree = HTMLTree.parse_from_bytes(raw, detect_encoding(raw,
                                                          from_html_meta=True))
    return extract_plain_text(tree, main_content=True) or ""


RAW_PEERS: dict[str, Callable[[bytes], str]] = {
    "trafilatura": _trafilatura,
    "trafilatura_comments": _trafilatura_comments,
    "readability": _readability,
    "justext": _justext,
    "boilerpy3": _boilerpy3,
    "resiliparse": _resiliparse,
}


def _safe(fn: Callable[[bytes], str]) -> Callable[[bytes], str]:
    def wrapped(raw: bytes) -> str:
        try:
            out = fn(raw)
            return out if isinstance(out, str) else ""
        except Exception:  # noqa: BLE001 - a peer failure is an empty output
            return ""
    wrapped.__name__ = fn.__name__.lstrip("_")
    wrapped.__doc__ = fn.__doc__
    return wrapped


PEERS: dict[str, Callable[[bytes], str]] = {k: _safe(v)
                                            for k, v in RAW_PEERS.items()}


# --------------------------------------------------------------------------
# runner with a per-page time limit

def _worker(conn, peer: str) -> None:
    import logging
    import warnings
    warnings.simplefilter("ignore")
    logging.disable(logging.CRITICAL)
    fn = RAW_PEERS[peer]
    while True:
        msg = conn.recv()
        if msg is None:
            return
        pid, raw = msg
        t0 = time.perf_counter()
        try:
            out = fn(raw)
            err = None
            if not isinstance(out, str):
                out = ""
        except Exception as e:  # noqa: BLE001
            out, err = "", f"{type(e).__name__}: {e}"[:300]
        conn.send((pid, out, err, time.perf_counter() - t0))


class _Runner:
    """One sequential worker process; killed and restarted on a timeout."""

    def __init__(self, peer: str, timeout: float):
        self.peer, self.timeout = peer, timeout
        self.ctx = mp.get_context("fork")
        self.proc = None
        self.conn = None

    def _start(self):
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.peer),
                                     daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent

    def _kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
        self.proc = self.conn = None

    def run(self, pid: str, raw: bytes):
        """Return (text, error or None, seconds, timed_out)."""
        if self.proc is None or not self.proc.is_alive():
            self._start()
        t0 = time.perf_counter()
        try:
            self.conn.send((pid, raw))
            if not self.conn.poll(self.timeout):
                self._kill()
                return "", "timeout", time.perf_counter() - t0, True
            _, out, err, secs = self.conn.recv()
            return out, err, secs, False
        except (EOFError, BrokenPipeError, OSError) as e:  # worker died
            self._kill()
            return "", f"worker died: {e!r}", time.perf_counter() - t0, False

    def close(self):
        if self.proc is not None:
            try:
                self.conn.send(None)
                self.proc.join(5)
            except (BrokenPipeError, OSError):
                pass
            self._kill()


def _write_json_atomic(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf8") as f:
        json.dump(obj, f, ensure_ascii=False)
    os.replace(tmp, path)


def run_peer(peer: str, dataset: str, cache: Path, timeout: float = 30.0,
             limit: int | None = None, log=print) -> Path:
    out_path = cache / peer / f"{dataset}.json"
    if out_path.exists():
        log(f"[skip] {out_path} exists")
        return out_path
    ids, pages, _ = load_dataset(dataset)
    if limit:
        ids = ids[:limit]
    runner = _Runner(peer, timeout)
    preds, errors, timeouts, times = {}, {}, [], {}
    t_start = time.perf_counter()
    try:
        for i, pid in enumerate(ids, 1):
            text, err, secs, timed_out = runner.run(pid, pages[pid])
            preds[pid] = {"articleBody": text}
            times[pid] = round(secs, 4)
            if timed_out:
                timeouts.append(pid)
            if err:
                errors[pid] = err
            if i % 250 == 0:
                log(f"  {peer}/{dataset}: {i}/{len(ids)} "
                    f"({i / (time.perf_counter() - t_start):.1f} pages/s)")
    finally:
        runner.close()
    wall = time.perf_counter() - t_start
    n_bytes = sum(len(pages[i]) for i in ids)
    slowest = sorted(times.items(), key=lambda kv: -kv[1])[:5]
    meta = {
        "peer": peer, "dataset": dataset, "n_pages": len(ids),
        "wall_seconds": round(wall, 2),
        "pages_per_s": round(len(ids) / wall, 2) if wall else None,
        "sum_page_seconds": round(sum(times.values()), 2),
        "mb": round(n_bytes / 1e6, 2),
        "n_errors": len(errors), "n_timeouts": len(timeouts),
        "n_empty": sum(1 for v in preds.values() if not v["articleBody"]),
        "timeout_s": timeout, "timeouts": timeouts, "errors": errors,
        "slowest": slowest, "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "page_seconds": times,
    }
    _write_json_atomic(cache / peer / f"{dataset}.meta.json", meta)
    _write_json_atomic(out_path, preds)
    log(f"[done] {peer}/{dataset}: {len(ids)} pages in {wall:.1f}s "
        f"({meta['pages_per_s']} pages/s), {len(errors)} errors, "
        f"{len(timeouts)} timeouts, {meta['n_empty']} empty")
    return out_path


# --------------------------------------------------------------------------
# scoring

_score_mod = None


def _score_module():
    global _score_mod
    if _score_mod is None:
        spec = importlib.util.spec_from_file_location("boilerclf_score",
                                                      SCORE_PY)
        _score_mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_score_mod)
    return _score_mod


def snippet_accuracy(snippets: dict, pred: dict) -> dict:
    """trafilatura's evaluate_result convention (see module docstring)."""
    right = right_ws = total = 0
    tp = fn = fp = tn = 0

    def ws(s):
        return _WS.sub(" ", s).strip()

    for pid, item in snippets.items():
        out = ((pred.get(pid) or {}).get("articleBody")) or ""
        out_ws = ws(out)
        for s in item.get("with") or []:
            total += 1
            if s in out:
                right += 1
                tp += 1
            else:
                fn += 1
            right_ws += ws(s) in out_ws
        for s in item.get("without") or []:
            total += 1
            if s not in out:
                right += 1
                tn += 1
            else:
                fp += 1
            right_ws += ws(s) not in out_ws
    prec = tp / (tp + fp) if tp + fp else float("nan")
    rec = tp / (tp + fn) if tp + fn else float("nan")
    return {"snippet_accuracy": right / total if total else float("nan"),
            "snippet_accuracy_ws": right_ws / total if total else float("nan"),
            "n_snippets": total, "n_pages": len(snippets),
            "tp": tp, "fn": fn, "fp": fp, "tn": tn,
            "snippet_precision": prec, "snippet_recall": rec}


def score_prediction(dataset: str, pred: dict, gold: dict | None = None):
    if gold is None:
        _, _, gold = load_dataset(dataset)
    if dataset == SNIPPET_SET:
        return snippet_accuracy(gold, pred)
    m = _score_module().evaluate(gold, pred, n_bootstrap=0)
    return {"precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
            "n_pages": m["n_pages"], "n_missing": m["n_missing"],
            "n_empty_pred": m["n_empty_pred"]}


def score_cache(cache: Path, datasets=ALL_DATASETS, peers=None) -> dict:
    """Score every cached prediction file; merge into CACHE/scores.json."""
    peers = list(peers or PEERS)
    path = cache / "scores.json"
    scores = {}
    if path.exists():
        with open(path, encoding="utf8") as f:
            scores = json.load(f)
    for ds in datasets:
        gold = None
        for peer in peers:
            f = cache / peer / f"{ds}.json"
            if not f.exists():
                continue
            if gold is None:
                gold = load_dataset(ds)[2]
            with open(f, encoding="utf8") as fh:
                pred = json.load(fh)
            scores.setdefault(ds, {})[peer] = score_prediction(ds, pred, gold)
    _write_json_atomic(path, scores)
    return scores


def format_table(scores: dict) -> str:
    peers = list(PEERS)
    full = [d for d in ALL_DATASETS if d in scores and d != SNIPPET_SET]
    full += [d for d in scores if d not in full and d != SNIPPET_SET]
    lines = ["| dataset | " + " | ".join(peers) + " |",
             "|---|" + "---|" * len(peers)]
    for d in full:
        cells = []
        for p in peers:
            m = scores[d].get(p)
            cells.append(f"{m['f1']:.3f}" if m else "-")
        lines.append(f"| {d} (F1) | " + " | ".join(cells) + " |")
    if SNIPPET_SET in scores:
        cells = []
        for p in peers:
            m = scores[SNIPPET_SET].get(p)
            cells.append(f"{m['snippet_accuracy']:.3f}" if m else "-")
        lines.append(f"| {SNIPPET_SET} (snippet acc.) | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------

def _names(arg: str, universe) -> list[str]:
    if arg == "all":
        return list(universe)
    names = [x.strip() for x in arg.split(",") if x.strip()]
    bad = [n for n in names if n not in universe]
    if bad:
        raise SystemExit(f"unknown: {bad}; choose from {list(universe)}")
    return names


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run peer extractors on the "
                                 "datasets, cache outputs, score them.")
    ap.add_argument("--datasets", default="all",
                    help="comma list or 'all' (%s)" % ",".join(ALL_DATASETS))
    ap.add_argument("--peers", default="all",
                    help="comma list or 'all' (%s)" % ",".join(PEERS))
    ap.add_argument("--cache", default="../cache/peers", type=Path)
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="per-page time limit in seconds")
    ap.add_argument("--limit", type=int, default=None,
                    help="only the first N pages per dataset (for testing; "
                    "use a separate --cache!)")
    ap.add_argument("--score-only", action="store_true")
    args = ap.parse_args(argv)
    datasets = _names(args.datasets, ALL_DATASETS)
    peers = _names(args.peers, PEERS)

    def log(msg):
        print(time.strftime("%H:%M:%S"), msg, flush=True)

    if not args.score_only:
        for peer in peers:
            for ds in datasets:
                run_peer(peer, ds, args.cache, args.timeout, args.limit, log)
    scores = score_cache(args.cache)
    log(f"scores written to {args.cache / 'scores.json'}")
    print(format_table(scores))


if __name__ == "__main__":
    main()
