"""Whole-page text dumps: HTML turned into plain text as scrapers do it.

The text model learns from pages as users feed them to ``extract_text``: the
whole visible text of a page, menus, teasers and footer included, one block
per line, made by the HTML-to-text tools people use.  Each dumper here turns
an HTML page into such a dump; :mod:`boilerclf_training.build` splits every
dump into lines and labels them from the page's gold, as for HTML.

=============  ==========================================================
``render``     boilerclf's own HTML lines, a blank line between blocks
               (:func:`render_text`)
``html-text``  html-text's ``extract_text(html, guess_layout=True)``
``inscriptis`` inscriptis' ``get_text`` (indented lists, table cells on one
               line)
``lxml``       lxml's text content with a line break at every block element
               (the source's own line breaks read as spaces)
``bs4``        BeautifulSoup's ``get_text("\\n", strip=True)``: every text
               node on a line of its own
=============  ==========================================================

trafilatura's ``html2txt`` is not among them: it joins a page's text into
one line, which leaves a line classifier nothing to choose between.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable

from boilerclf.parse.lines import TAG_ID, Lines

_SPLIT_TAGS = {TAG_ID[t] for t in ("li", "td", "th", "dd", "dt", "br", "tr")}


def render_text(page: Lines) -> str:
    """Plain-text rendering of HTML lines: a blank line between blocks except
    between list items and table cells, as text dumps of pages look."""
    out: list[str] = []
    for i, t in enumerate(page.texts):
        if i and not (int(page.tag[i]) in _SPLIT_TAGS and int(page.tag[i - 1]) in _SPLIT_TAGS):
            out.append("")
        out.append(t)
    return "\n".join(out)


def _html_text(html: str) -> str:
    import html_text

    return html_text.extract_text(html, guess_layout=True)


def _inscriptis(html: str) -> str:
    import inscriptis

    return inscriptis.get_text(html)


#: Block elements after which the ``lxml`` dump breaks the line.
_BLOCKS = frozenset("""address article aside blockquote br dd details dialog div dl dt fieldset figcaption
figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table td th tr ul
title""".split())


def _lxml(html: str) -> str:
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return ""
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    out: list[str] = []

    def walk(el) -> None:
        block = isinstance(el.tag, str) and el.tag in _BLOCKS
        if block:
            out.append("\x00")
        if isinstance(el.tag, str) and el.text:
            out.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                out.append(child.tail)
        if block:
            out.append("\x00")

    walk(root)
    # the source's own line breaks are spaces; a block boundary breaks the line
    return "\n".join(" ".join(ln.split()) for ln in "".join(out).split("\x00"))


def _bs4(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for bad in soup(["script", "style", "noscript", "template"]):
        bad.decompose()
    return soup.get_text("\n", strip=True)


#: Dumper name -> (function of the HTML text, the module it needs or None).
DUMPERS: dict[str, tuple[Callable[[str], str] | None, str | None]] = {
    "render": (None, None),  # made from the parsed lines (render_text)
    "html-text": (_html_text, "html_text"),
    "inscriptis": (_inscriptis, "inscriptis"),
    "lxml": (_lxml, "lxml"),
    "bs4": (_bs4, "bs4"),
}


def in_order(names) -> list[str]:
    """``names`` of dumpers in the order of :data:`DUMPERS` (a report's JSON keys
    come back sorted), names that are not dumpers last."""
    order = list(DUMPERS)
    return sorted(names, key=lambda d: order.index(d) if d in order else len(order))


def available(names: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """The dumpers of ``names`` (default: all of :data:`DUMPERS`) whose package is
    installed; ``ValueError`` for a name that is not a dumper."""
    names = list(DUMPERS) if names is None else list(names)
    bad = [n for n in names if n not in DUMPERS]
    if bad:
        raise ValueError(f"unknown dumper(s) {', '.join(bad)}; known: {', '.join(DUMPERS)}")
    return [n for n in names if DUMPERS[n][1] is None or importlib.util.find_spec(DUMPERS[n][1]) is not None]


def dump(name: str, html: str, lines: Lines | None = None) -> str:
    """The dump of a page by dumper ``name`` (``render`` needs the page's HTML
    ``lines``); an empty string when the dumper fails on the page."""
    fn, _ = DUMPERS[name]
    if fn is None:
        return render_text(lines) if lines is not None else ""
    try:
        return fn(html) or ""
    except Exception:  # a dumper's failure on one page is an empty dump, as a scraper would get
        return ""
