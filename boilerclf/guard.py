"""Markup guard: bound what the HTML parser builds, before it parses.

lexbor's tree builder is quadratic in two hostile shapes (measured with
selectolax 1.0.2 on this machine): the depth of the stack of open elements
(each ``<div>``, ``<p>``, ``<li>``... searches it: 40,000 nested ``<div>`` take
9 s to parse, 100,000 take 70 s) and the number of distinct attributes of one
element (each new one is compared with all the others: 40,000 take 15 s,
100,000 take 90 s).  Real pages are nowhere near either (browsers cap the DOM
depth at 512 too), so :func:`guard` reads the markup once, in linear time,
with an approximate model of the HTML tokenizer and tree builder, and returns
the spans to delete before parsing:

* a start tag that would open an element deeper than ``max_depth`` is deleted
  (its text stays, one level up: the page is flattened there, as Blink and
  WebKit flatten it at depth 512);
* the attributes of an element after its first ``max_attrs`` are deleted.

The model errs towards over-estimating the depth: an end tag closes an
element only where the parser would close it at least as far (scopes as in the
HTML standard), an element the parser may ignore is counted anyway, and no
markup the parser reads is skipped (raw text of ``script``, ``style``,
``textarea``... is skipped only outside ``svg``/``math``; comments end where
lexbor ends them).  Elements closed implicitly (``p``, ``li``, ``dt``/``dd``,
``td``/``th``, ``tr``, ``option``...) are closed as the parser closes them, so
legacy pages with unclosed paragraphs, items or cells are not flattened.

This module is the reference; ``boilerclf._cguard`` is the same scan compiled
(used by :func:`apply` when built; tests check both give the same spans).
"""
from __future__ import annotations

import re

#: Default nesting depth past which start tags are dropped (as in Blink and WebKit).
MAX_DEPTH = 512
#: Default number of attributes kept per element.
MAX_ATTRS = 256

_WS = "\t\n\f\r "
VOID = frozenset((
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img",
    "image", "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
))
#: Elements whose content is raw text (outside svg/math).
RAW = frozenset(("script", "style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"))
#: Start tags never pushed: the parser merges them into existing elements.
NO_PUSH = frozenset(("html", "head", "body", "frameset"))
#: End tags that never close anything.
NO_POP = frozenset(("html", "head", "body", "br", "frameset"))
FOREIGN = frozenset(("svg", "math"))
#: HTML start tags that leave svg/math content (the HTML standard's list, less font).
BREAKOUT = frozenset((
    "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em",
    "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing",
    "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong",
    "strike", "sub", "sup", "table", "tt", "u", "ul", "var",
))
HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
#: The HTML standard's "special" elements (and the svg/math integration points).
SPECIAL = frozenset((
    "address", "applet", "area", "article", "aside", "base", "basefont", "bgsound",
    "blockquote", "body", "br", "button", "caption", "center", "col", "colgroup", "dd",
    "details", "dir", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure", "footer",
    "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup",
    "hr", "html", "iframe", "img", "input", "keygen", "li", "link", "listing", "main", "marquee",
    "menu", "meta", "nav", "noembed", "noframes", "noscript", "object", "ol", "p", "param",
    "plaintext", "pre", "script", "search", "section", "select", "source", "style", "summary",
    "table", "tbody", "td", "template", "textarea", "tfoot", "th", "thead", "title", "tr",
    "track", "ul", "wbr", "xmp", "mi", "mo", "mn", "ms", "mtext", "annotation-xml",
    "foreignobject", "desc",
))
SCOPE = frozenset((
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
    "mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc", "title",
))
BUTTON_SCOPE = SCOPE | {"button"}
LIST_SCOPE = SCOPE | {"ol", "ul"}
TABLE_SCOPE = frozenset(("html", "table", "template"))
#: Start tags that close an open p (in button scope); not table (quirks mode keeps the p).
P_CLOSERS = frozenset((
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "li", "listing", "main", "menu", "nav", "ol", "p", "pre",
    "search", "section", "summary", "ul", "dd", "dt", "xmp",
))
_ITEM_STOP = SPECIAL - {"address", "div", "p"}
_TABLE_PARTS = frozenset(("table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption", "colgroup"))
_RUBY = frozenset(("rb", "rp", "rt", "rtc"))
# start tag -> (names it closes when found, names that stop the search)
_CLOSES: dict[str, tuple[frozenset, frozenset]] = {
    "li": (frozenset(("li",)), _ITEM_STOP),
    "dd": (frozenset(("dd", "dt")), _ITEM_STOP),
    "dt": (frozenset(("dd", "dt")), _ITEM_STOP),
    "td": (frozenset(("td", "th")), TABLE_SCOPE),
    "th": (frozenset(("td", "th")), TABLE_SCOPE),
    "tr": (frozenset(("tr",)), TABLE_SCOPE),
    "tbody": (frozenset(("tbody", "thead", "tfoot")), TABLE_SCOPE),
    "thead": (frozenset(("tbody", "thead", "tfoot")), TABLE_SCOPE),
    "tfoot": (frozenset(("tbody", "thead", "tfoot")), TABLE_SCOPE),
    "a": (frozenset(("a",)), SPECIAL),
    "nobr": (frozenset(("nobr",)), SPECIAL),
    "button": (frozenset(("button",)), SCOPE),
}
# start tag -> names it pops while they are the current node
_POPS_TOP: dict[str, frozenset] = {
    "option": frozenset(("option",)), "optgroup": frozenset(("option",)),
    "rb": _RUBY, "rtc": _RUBY, "rp": frozenset(("rb", "rp", "rt")),
    "rt": frozenset(("rb", "rp", "rt")),
    **{h: HEADINGS for h in HEADINGS},
}
_LOWER = {c: c + 32 for c in range(65, 91)}
_raw_end_re: dict[str, re.Pattern] = {}


def _raw_end(text: str, i: int, name: str) -> int:
    """Position of the ``</name`` that ends raw text starting at ``i``, or -1."""
    rx = _raw_end_re.get(name)
    if rx is None:
        rx = _raw_end_re[name] = re.compile("</" + name + "[\t\n\f\r />]", re.IGNORECASE)
    m = rx.search(text, i)
    return m.start() if m else -1


def guard(text: str, max_depth: int = MAX_DEPTH, max_attrs: int = MAX_ATTRS) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of ``text`` to delete, sorted and disjoint (see module docstring)."""
    n = len(text)
    cuts: list[tuple[int, int]] = []
    stack: list[str] = []
    foreign = 0  # svg / math elements on the stack
    i = 0

    def pop_to(k: int) -> None:
        nonlocal foreign
        while len(stack) > k:
            if stack.pop() in FOREIGN:
                foreign -= 1

    def find(names: frozenset, stop: frozenset) -> int:
        for k in range(len(stack) - 1, -1, -1):
            if stack[k] in names:
                return k
            if stack[k] in stop:
                return -1
        return -1

    while True:
        i = text.find("<", i)
        if i < 0 or i + 1 >= n:
            break
        t0 = i
        c = text[i + 1]
        if c == "!":
            if text.startswith("<!--", i):
                j = i + 4
                if text.startswith(">", j):
                    i = j + 1
                    continue
                if text.startswith("->", j):
                    i = j + 2
                    continue
                e1 = text.find("-->", j)
                e2 = text.find("--!>", j, e1 if e1 >= 0 else n)
                if e1 < 0 and e2 < 0:
                    break
                i = e2 + 4 if e2 >= 0 else e1 + 3
                continue
            j = text.find(">", i + 2)  # doctype, CDATA (in svg too: that over-estimates), bogus
            if j < 0:
                break
            i = j + 1
            continue
        if c == "?":
            j = text.find(">", i + 2)
            if j < 0:
                break
            i = j + 1
            continue
        end_tag = c == "/"
        if end_tag:
            if i + 2 >= n:
                break
            c = text[i + 2]
            if c == ">":
                i += 3
                continue
            if not ("a" <= c <= "z" or "A" <= c <= "Z"):
                j = text.find(">", i + 2)
                if j < 0:
                    break
                i = j + 1
                continue
            j = i + 2
        elif "a" <= c <= "z" or "A" <= c <= "Z":
            j = i + 1
        else:
            i += 1
            continue
        # the tag name, then the attributes as the tokenizer reads them
        k = j
        while k < n and text[k] not in _WS and text[k] != "/" and text[k] != ">":
            k += 1
        name = text[j:k].translate(_LOWER)
        n_attrs = 0
        cut_from = -1
        self_closing = False
        j = k
        while True:
            while j < n and (text[j] in _WS or text[j] == "/"):
                self_closing = text[j] == "/"
                j += 1
            if j >= n or text[j] == ">":
                break
            self_closing = False
            start = j
            j += 1  # the first character of a name may be '='
            while j < n and text[j] not in _WS and text[j] != "/" and text[j] != ">" and text[j] != "=":
                j += 1
            while j < n and text[j] in _WS:
                j += 1
            if j < n and text[j] == "=":
                j += 1
                while j < n and text[j] in _WS:
                    j += 1
                if j < n and (text[j] == '"' or text[j] == "'"):
                    q = text.find(text[j], j + 1)
                    j = n if q < 0 else q + 1
                else:
                    while j < n and text[j] not in _WS and text[j] != ">":
                        j += 1
            n_attrs += 1
            if n_attrs == max_attrs + 1:
                cut_from = start
        end = j  # the '>', or n: the tag runs to the end and the parser drops it
        i = end + 1
        if end_tag:
            if j < n and name not in NO_POP:
                if name == "form":
                    k = find(frozenset(("form",)), SCOPE)
                    if k >= 0:  # only the form itself leaves the stack
                        if stack.pop(k) in FOREIGN:
                            foreign -= 1
                    continue
                if name == "p":
                    stop = BUTTON_SCOPE
                elif name == "li":
                    stop = LIST_SCOPE
                elif name in _TABLE_PARTS:
                    stop = TABLE_SCOPE
                elif name in SPECIAL:
                    stop = SCOPE
                else:
                    stop = SPECIAL
                k = find(frozenset((name,)), stop)
                if k >= 0:
                    pop_to(k)
            if cut_from >= 0:
                cuts.append((cut_from, end))
            if j >= n:
                break
            continue
        if j >= n:  # an unfinished start tag: the parser drops it
            if cut_from >= 0:
                cuts.append((cut_from, end))
            break
        if foreign and name in BREAKOUT:
            k = 0
            while stack[k] not in FOREIGN:
                k += 1
            pop_to(k)
        pushed = True
        if name in NO_PUSH or name in VOID or (self_closing and (foreign or name in FOREIGN)):
            pushed = False
        elif not foreign and (name in RAW or name == "plaintext"):
            pushed = False
        elif name == "form" and "form" in stack:
            pushed = False
        if pushed:
            if name in P_CLOSERS:
                k = find(frozenset(("p",)), BUTTON_SCOPE)
                if k >= 0:
                    pop_to(k)
            top = _POPS_TOP.get(name)
            while top is not None and stack and stack[-1] in top:
                pop_to(len(stack) - 1)
            rule = _CLOSES.get(name)
            if rule is not None:
                k = find(*rule)
                if k >= 0:
                    pop_to(k)
            if len(stack) >= max_depth:
                cuts.append((t0, end + 1))
                continue
            stack.append(name)
            if name in FOREIGN:
                foreign += 1
        if cut_from >= 0:
            cuts.append((cut_from, end))
        if not pushed and not foreign and name in RAW:
            k = _raw_end(text, i, name)
            if k < 0:
                break
            i = k
        elif not pushed and not foreign and name == "plaintext":
            break
    return cuts


def apply(text: str, max_depth: int = MAX_DEPTH, max_attrs: int = MAX_ATTRS) -> tuple[str, bool]:
    """``(text with the guard's spans deleted, whether any were)``."""
    if len(text) <= 2 * max_attrs and text.count("<") <= max_depth:  # nothing can run over
        return text, False
    cuts = _guard_fast(text, max_depth, max_attrs)
    if not cuts:
        return text, False
    parts = []
    prev = 0
    for a, b in cuts:
        parts.append(text[prev:a])
        prev = b
    parts.append(text[prev:])
    return "".join(parts), True


try:
    from ._cguard import guard as _guard_fast
except ImportError:  # the extension is not built: the reference scan (slower)
    _guard_fast = guard
