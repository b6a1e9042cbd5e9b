#!/usr/bin/env python3
"""Time HTML parsers on real pages, single process.

    python benchmarks/parsers.py [--datasets tiptopjaw_wceb2026_llm,dragnet]
                                 [--repeat 3] [--json OUT]

Pages are loaded with peers.load_dataset and decoded to ``str`` first
(peers.decode_html: resiliparse meta-charset / uchardet detection), and a
leading ``<?xml ...?>`` declaration is stripped (lxml refuses ``str`` input
that carries an encoding declaration); decoding is not timed.

Measured per parser, best wall time of ``--repeat`` passes over all pages,
after one untimed warm-up pass over the first 50 pages:

* ``parse``         build the tree only;
* ``parse+walk``    build the tree, then visit every node reading its tag and
                    its text: lxml ``for el in root.iter(): el.tag, el.text,
                    el.tail``; selectolax ``for n in root.traverse(
                    include_text=True): n.tag, n.text_content``.

Parsers: ``lxml.html.document_fromstring``, selectolax ``LexborHTMLParser``,
selectolax ``HTMLParser`` (Modest).  selectolax >= 1.0 removed the Modest
backend (importing selectolax.parser raises ImportError); the row is then
reported as unavailable -- run this script with an older selectolax (e.g. a
venv with ``selectolax==0.4.13``) to measure it.  MB/s counts the UTF-8 size
of the decoded strings.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


def load_pages(datasets):
    docs = []
    for ds in datasets:
        ids, pages, _ = peers.load_dataset(ds)
        for pid in ids:
            docs.append(_XML_DECL.sub("", peers.decode_html(pages[pid]), 1))
    return docs


def lxml_parse(s):
    import lxml.html
    return lxml.html.document_fromstring(s)


def lxml_walk(s):
    import lxml.html
    root = lxml.html.document_fromstring(s)
    n = 0
    for el in root.iter():
        el.tag
        el.text
        el.tail
        n += 1
    return n


def _selectolax_fns(cls):
    def parse(s):
        return cls(s)

    def walk(s):
        root = cls(s).root
        n = 0
        if root is None:
            return 0
        for node in root.traverse(include_text=True):
            node.tag
            node.text_content
            n += 1
        return n
    return parse, walk


def parsers():
    import lxml
    import selectolax
    out = {"lxml.html.document_fromstring":
           (lxml_parse, lxml_walk, "lxml " + lxml.__version__)}
    from selectolax.lexbor import LexborHTMLParser
    p, w = _selectolax_fns(LexborHTMLParser)
    out["selectolax LexborHTMLParser"] = (p, w, "selectolax "
                                          + selectolax.__version__)
    try:
        from selectolax.parser import HTMLParser
        p, w = _selectolax_fns(HTMLParser)
        out["selectolax HTMLParser (Modest)"] = (p, w, "selectolax "
                                                 + selectolax.__version__)
    except ImportError:
        out["selectolax HTMLParser (Modest)"] = (
            None, None, f"unavailable in selectolax {selectolax.__version__}")
    return out


def time_fn(fn, docs, repeat):
    for s in docs[:50]:  # warm-up
        fn(s)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for s in docs:
            fn(s)
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="tiptopjaw_wceb2026_llm,dragnet")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    docs = load_pages(args.datasets.split(","))
    mb = sum(len(s.encode("utf8")) for s in docs) / 1e6
    print(f"{len(docs)} pages, {mb:.1f} MB (UTF-8), python "
          f"{platform.python_version()}, best of {args.repeat}")
    rows = []
    print("| parser | version | op | seconds | pages/s | MB/s |")
    print("|---|---|---|---|---|---|")
    for name, (parse, walk, version) in parsers().items():
        for op, fn in (("parse", parse), ("parse+walk", walk)):
            if fn is None:
                print(f"| {name} | {version} | {op} | - | - | - |")
                rows.append({"parser": name, "version": version, "op": op})
                continue
            secs = time_fn(fn, docs, args.repeat)
            r = {"parser": name, "version": version, "op": op,
                 "seconds": secs, "pages_per_s": len(docs) / secs,
                 "mb_per_s": mb / secs}
            rows.append(r)
            print(f"| {name} | {version} | {op} | {secs:.2f} | "
                  f"{r['pages_per_s']:.0f} | {r['mb_per_s']:.1f} |",
                  flush=True)
    if args.json:
        args.json.write_text(json.dumps({"n_pages": len(docs), "mb": mb,
                                         "datasets": args.datasets,
                                         "date": time.strftime("%Y-%m-%d"),
                                         "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
