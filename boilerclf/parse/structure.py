"""The markup of an HTML page's lines that text extraction does not need.

Markdown and HTML output (:mod:`boilerclf.output`) want more of a line than its
text: the lists, table cells, quotes and ``pre`` blocks around it, its links
with their addresses, its images and inline code.  The walk that makes the
lines (:func:`boilerclf.parse.html.walk` and its compiled twin) records none of
that, so extraction pays nothing for it; :func:`line_markup` walks the page a
second time, only when such output is asked for, and gives one
:class:`LineMarkup` per line, in the order of :class:`~boilerclf.parse.lines.Lines`.

The walk splits lines exactly as the first one does (same blocks, same
``<br>`` rule, same skipped elements, same node cap); the texts it rebuilds
are compared with the page's, and a page where they differ gets None (its
output then falls back to what the lines alone say).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser

from boilerclf.parse.html import head_meta
from boilerclf.parse.lines import BLOCK, MAX_NODES, SKIP

#: Elements whose position a line records (:attr:`LineMarkup.containers`).
CONTAINERS = frozenset(("ul", "ol", "menu", "li", "blockquote", "pre", "table", "tr", "td", "th",
                        "dl", "dt", "dd", "figure"))
#: Inline elements shown as code (backticks) outside ``pre``.
INLINE_CODE = frozenset(("code", "kbd", "samp", "tt"))
_LANG = re.compile(r"(?:^|\s)(?:language|lang|highlight(?:-source)?)-(?!default\b|none\b)([A-Za-z0-9_+#.\-]{1,30})")


@dataclass
class LineMarkup:
    """What markdown and HTML output need of one line beyond its text.

    ``pieces``: the line's content in order, text (``str``, whitespace as in
    the page) and markers: ``("a", href)`` / ``("/a",)`` around a link's text,
    ``("code",)`` / ``("/code",)`` around inline code, ``("img", alt, src)``
    for an image inside the text.  ``containers``: the structural elements
    around the line, outermost first, as ``(tag, element number, info)``: for
    ``li`` its number in its list (from an ``ol``'s ``start``), for
    ``td``/``th`` ``(column, column span)``, for ``pre`` its language (``class="language-x"``,
    else ""), else 0.  ``before`` and ``after``: images
    (``("img", alt, src)``) no line holds, shown before or after the line (an
    image alone in a ``figure`` goes before the next line, or after the last
    line of its block when no line follows in it).
    """

    pieces: list
    containers: tuple
    before: list = field(default_factory=list)
    after: list = field(default_factory=list)


def _img(node) -> tuple:
    """``("img", alt, src)`` of an ``img`` (or of the ``img`` in a ``picture``)."""
    if node.tag == "picture":
        node = node.css_first("img")
        if node is None:
            return ("img", "", "")
    attrs = node.attributes
    src = ""
    for key in ("src", "data-src", "data-lazy-src", "data-original", "srcset", "data-srcset"):
        v = (attrs.get(key) or "").strip()
        if v and not v.lower().startswith("data:"):
            src = v.split(",")[0].split()[0] if key.endswith("srcset") else v
            break
    return ("img", " ".join((attrs.get("alt") or "").split()), src)


def _language(pre) -> str:
    """The language of a ``pre`` (``class="language-python"`` on it, on its
    first element or on its parent or grandparent, as in Sphinx's
    ``highlight-python``), "" for none."""
    parent = pre.parent
    for node in (pre, pre.child, parent, parent.parent if parent is not None else None):
        while node is not None and node.tag == "-text":
            node = node.next
        if node is not None:
            m = _LANG.search(node.attributes.get("class") or "")
            if m:
                return m.group(1).lower()
    return ""


def _walk(root, skip: frozenset, max_nodes: int, stop: int) -> tuple[list[str], list[LineMarkup]]:
    """The walk of :func:`boilerclf.parse.html.walk` (texts only), with each
    line's :class:`LineMarkup`; it ends early at the start of a block once it
    has more than ``stop`` lines and no table is open (whose cells would still
    count)."""
    texts: list[str] = []
    marks: list[LineMarkup] = []
    conts: list[tuple] = []  # open containers: (tag, element number, info)
    counters: list[list] = []  # per open list and table row: ["list", items] or ["row", columns] so far
    inline: list[tuple] = []  # open links and inline code: a line that starts inside them reopens them
    buf: list[str] = []  # the line's text
    pieces: list = []
    waiting: list = []  # images no line holds yet: before the next line
    block_start: list[int] = []  # per open block: the number of lines when it opened
    n_el = 0
    last_br = False

    def flush() -> None:
        nonlocal buf, pieces
        if buf:
            s = " ".join("".join(buf).split())
            if s:
                texts.append(s)
                marks.append(LineMarkup(pieces, tuple(conts), waiting[:]))
                waiting.clear()
            buf = []
        pieces = list(inline)

    # stack entries: (node, is_block, is_container, has a counter (list, row), closing marker or None)
    stack: list[tuple] = []
    node = root.child
    n_nodes = 0
    while True:
        if node is None:
            if not stack:
                break
            node, is_block, is_cont, counted, end = stack.pop()
            if end is not None:
                pieces.append(end)
                inline.pop()
            if is_block:
                flush()
                start = block_start.pop()
                if waiting and len(marks) > start:  # images after the block's last line
                    marks[-1].after.extend(waiting)
                    waiting.clear()
            if counted:
                counters.pop()
            if is_cont:
                conts.pop()
            node = node.next
            continue
        n_nodes += 1
        if n_nodes > max_nodes:
            break
        tag = node.tag
        if tag == "-text":
            s = node.text_content
            if s:
                buf.append(s)
                pieces.append(s)
                if not s.isspace():
                    last_br = False
            node = node.next
            continue
        if tag == "img" or tag == "picture":
            img = _img(node)
            if img[2]:
                if any(not b.isspace() for b in buf):
                    pieces.append(img)
                else:
                    waiting.append(img)
        if tag is None or tag in skip or tag[0] == "-":
            node = node.next
            continue
        if tag == "br":
            if last_br:
                flush()
                last_br = False
            else:
                buf.append("\n")
                pieces.append("\n")
                last_br = True
            node = node.next
            continue
        is_block = tag in BLOCK
        if is_block:
            flush()
            if len(texts) > stop and not any(c[0] == "table" for c in conts):
                return texts, marks
            last_br = False
            block_start.append(len(texts))
        is_cont = tag in CONTAINERS
        counted = False
        if is_cont:
            n_el += 1
            info = 0
            if tag == "li":
                if counters and counters[-1][0] == "list":
                    counters[-1][1] += 1
                    info = counters[-1][1]
            elif tag == "tr":
                counted = True
                counters.append(["row", 0])
            elif tag in ("ol", "ul", "menu"):
                counted = True
                start = 1
                if tag == "ol":
                    try:
                        start = max(0, min(10**9, int((node.attributes.get("start") or "1").strip())))
                    except ValueError:
                        start = 1
                counters.append(["list", start - 1])
            elif tag == "pre":
                info = _language(node)
            elif tag == "td" or tag == "th":
                try:
                    span = max(1, min(50, int((node.attributes.get("colspan") or "1").strip())))
                except ValueError:
                    span = 1
                col = 0
                if counters and counters[-1][0] == "row":
                    col = counters[-1][1]
                    counters[-1][1] += span
                info = (col, span)
            conts.append((tag, n_el, info))
        end = None
        if tag == "a":
            m = ("a", (node.attributes.get("href") or "").strip())
            end = ("/a",)
        elif tag in INLINE_CODE:
            m = ("code",)
            end = ("/code",)
        if end is not None:
            pieces.append(m)
        child = node.child
        if child is None:
            if end is not None:
                pieces.append(end)
            if is_block:
                block_start.pop()
            if counted:
                counters.pop()
            if is_cont:
                conts.pop()
            node = node.next
            continue
        if end is not None:
            inline.append(m)
        stack.append((node, is_block, is_cont, counted, end))
        node = child
    flush()
    return texts, marks


def line_markup(texts: list[str], source: str, max_nodes: int = MAX_NODES,
                stop: int | None = None) -> tuple[list[LineMarkup], str, str] | None:
    """``(one LineMarkup per line, the page's <base href>, its canonical address)``
    (``""`` for an address it does not give) of the page whose
    lines have the texts ``texts`` (of its first lines at least, up to line
    ``stop`` when given: the walk may end there), walked
    from ``source``, the HTML the lines were made from (as
    :func:`boilerclf.parse.html.parse_lines` saw it) with the same node cap;
    None when the walk does not give the same lines."""
    tree = LexborHTMLParser(source)
    root = tree.body or tree.root
    if root is None:
        return None
    need = len(texts) - 1 if stop is None else min(stop, len(texts) - 1)  # the last line that must match
    for skip in (SKIP, SKIP - {"noscript"}):  # the text of noscript counts on some pages
        got, marks = _walk(root, skip, max_nodes, len(texts) if stop is None else need)
        if len(got) > need and got == texts[:len(got)]:
            base = ""
            head = tree.head
            if head is not None:
                node = head.css_first("base[href]")
                if node is not None:
                    base = (node.attributes.get("href") or "").strip()[:2000]
            return marks, base, head_meta(tree)["url"]
    return None
