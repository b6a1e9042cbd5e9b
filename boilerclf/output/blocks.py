"""The kept lines of a classified page as a tree of blocks, for markdown and HTML.

:func:`page_blocks` groups the kept lines of a :class:`~boilerclf.pipeline.Result`
into headings, paragraphs, lists (nested, numbered), tables, code blocks,
quotes and images, from the markup of each line (:mod:`boilerclf.parse.structure`,
read again from the page only here).  Only kept lines make blocks: a table
shows its kept cells, a list its kept items.

Inline content is a list of tokens: text (``str``, whitespace collapsed as in
the line's text), ``("a", url)`` / ``("/a",)`` around a link, ``("code",)`` /
``("/code",)`` around inline code and ``("img", alt, src)``.  Links and images
are there only when asked for, with addresses that are safe to show
(:func:`safe_url`): a link to ``javascript:`` (or any scheme but http, https,
mailto, ftp and tel) or to an anchor of the page keeps its text only.

A table is shown as a table when it holds data: no table inside it, no
heading, at most :data:`MAX_CELL_LINES` lines per cell, two cells at least;
a layout table's lines are shown as the blocks they are.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from boilerclf.parse.lines import MAX_NODES
from boilerclf.parse.structure import line_markup

#: Lines of a table cell at most for the table to be shown as a table.
MAX_CELL_LINES = 4
SAFE_SCHEMES = frozenset(("http", "https", "mailto", "ftp", "tel"))
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_CTRL = re.compile(r"[\x00-\x20\x7f]+")
_HEADINGS = {f"h{i}": i for i in range(1, 7)}


@dataclass
class Heading:
    level: int
    inline: list


@dataclass
class Paragraph:
    inline: list


@dataclass
class Code:
    """A ``pre`` block: its text with its line breaks and indentation, and its
    language when the page names it (``class="language-python"``)."""

    text: str
    language: str = ""


@dataclass
class Image:
    """An image shown on its own (``("img", alt, src)``)."""

    img: tuple


@dataclass
class Item:
    number: int
    blocks: list = field(default_factory=list)


@dataclass
class ListBlock:
    ordered: bool
    items: list = field(default_factory=list)


@dataclass
class Quote:
    blocks: list = field(default_factory=list)


@dataclass
class Cell:
    inline: list
    header: bool = False
    span: int = 1
    column: int = 0


@dataclass
class Table:
    """Rows of cells in order; the first row is the header row."""

    rows: list = field(default_factory=list)
    caption: list = field(default_factory=list)
    _rows: dict = field(default_factory=dict, repr=False)


def safe_url(href: str, base: str = "") -> str | None:
    """``href`` as an address safe to show (resolved against ``base``), or None: an empty address, an anchor of the page
    (``#...``) or a scheme other than :data:`SAFE_SCHEMES` (``javascript:``,
    ``data:``, ...; control characters and spaces a browser would skip in the
    scheme are skipped here too)."""
    href = href.strip()
    if not href or href.startswith("#") or len(href) > 4000:
        return None
    m = _SCHEME.match(_CTRL.sub("", href))
    if m:
        if m.group(1).lower() not in SAFE_SCHEMES:
            return None
        return _CTRL.sub(lambda c: "%20" if c.group() == " " else "", href)
    if _CTRL.sub("", href)[:1] in ("", "\\"):
        return None
    if base:
        try:
            href = urljoin(base, href)
        except ValueError:
            return None
        m = _SCHEME.match(_CTRL.sub("", href))
        if m and m.group(1).lower() not in SAFE_SCHEMES:
            return None
    return _CTRL.sub(lambda c: "%20" if c.group() == " " else "", href)


def inline_tokens(pieces: list, text: str, links: bool, images: bool, base: str) -> list:
    """The inline tokens of a line (see module docstring) from its pieces
    (:class:`~boilerclf.parse.structure.LineMarkup`); the plain ``text`` when
    their text is not the line's."""
    out: list = []
    plain: list[str] = []
    pending = False  # a space is owed before the next word
    opened: list = []  # per open marker of the pieces: its token, or None when not shown

    def space() -> None:
        k = len(out)  # a space owed at an opening marker goes before it
        while k and type(out[k - 1]) is tuple and out[k - 1][0] in ("a", "code"):
            k -= 1
        out.insert(k, " ")
        plain.append(" ")

    for p in pieces:
        if type(p) is str:
            words = p.split()
            if not words:
                pending = pending or bool(p and plain)
                continue
            if (pending or p[0].isspace()) and plain:
                space()
            s = " ".join(words)
            out.append(s)
            plain.append(s)
            pending = p[-1].isspace()
            continue
        kind = p[0]
        if kind == "a" or kind == "code":
            tok = ("code",) if kind == "code" else None
            if kind == "a" and links:
                url = safe_url(p[1], base)
                tok = ("a", url) if url else None
            opened.append(tok)
            if tok:
                out.append(tok)
        elif kind == "/a" or kind == "/code":
            if opened:
                tok = opened.pop()
                if tok:
                    out.append(("/" + tok[0],))
        elif kind == "img" and images:
            src = safe_url(p[2], base)
            if src:
                if pending and plain:
                    space()
                    pending = False
                out.append(("img", p[1], src))
    while opened:
        tok = opened.pop()
        if tok:
            out.append(("/" + tok[0],))
    if "".join(plain) != text:
        return [text]
    return _drop_empty(out)


def _drop_empty(tokens: list) -> list:
    """Tokens without links and inline code that hold no text."""
    out: list = []
    for t in tokens:
        if type(t) is tuple and t[0] in ("/a", "/code") and out and type(out[-1]) is tuple \
                and out[-1][0] == t[0][1:]:
            out.pop()
            continue
        out.append(t)
    return out


def _data_tables(marks: list) -> set[int]:
    """Element numbers of the tables shown as tables (see module docstring)."""
    bad: set[int] = set()
    cells: dict[int, dict[int, int]] = {}
    for m in marks:
        tables = [c for c in m.containers if c[0] == "table"]
        if not tables:
            continue
        for t in tables[:-1]:
            bad.add(t[1])
        t = tables[-1][1]
        per = cells.setdefault(t, {})
        after = m.containers[m.containers.index(tables[-1]) + 1:]
        cell = next((c[1] for c in after if c[0] in ("td", "th")), 0)
        if any(c[0] == "pre" for c in after):
            bad.add(t)
        per[cell] = per.get(cell, 0) + 1
    ok = set()
    for t, per in cells.items():
        n_cells = sum(1 for c in per if c)
        if t not in bad and n_cells >= 2 and max(per.values()) <= MAX_CELL_LINES:
            ok.add(t)
    return ok


def page_blocks(result, links: bool = False, images: bool = False, url: str | None = None) -> list:
    """The blocks of the kept lines of ``result`` (a :class:`~boilerclf.pipeline.Result`).

    Relative addresses are resolved against the page's ``<base href>`` (itself
    resolved against ``url``), else ``url`` (the page's address, when known),
    else the canonical address the page gives; left relative without any."""
    lines = result.lines
    got = None
    source = getattr(result, "source", None)
    last = max((i for i, ln in enumerate(lines) if ln.label), default=-1)
    if last < 0:
        return []
    if result.kind == "html" and source:
        got = line_markup([ln.text for ln in lines], source, getattr(result, "max_nodes", MAX_NODES), last)
    if got is None:  # what the lines alone say: headings and list items
        return _plain_blocks(lines)
    marks, base_href, canonical = got
    base = url if url and url.lower().startswith(("http://", "https://")) else canonical
    if base_href:
        try:
            base = urljoin(base, base_href) if base else base_href
        except ValueError:
            pass
    tables = _data_tables(marks)
    for ln, m in zip(lines, marks):  # a heading in a table: a layout table
        if ln.tag not in _HEADINGS:
            continue
        for c in m.containers:
            if c[0] == "table":
                tables.discard(c[1])
    doc: list = []
    stack: list[tuple] = []  # (key, node) of the open containers
    for i, (ln, m) in enumerate(zip(lines, marks)):
        if not ln.label:
            continue
        path = _path(m.containers, tables)
        k = 0
        while k < len(stack) and k < len(path) and stack[k][0] == path[k]:
            k += 1
        del stack[k:]
        for key in path[k:]:
            parent = stack[-1][1] if stack else None
            node = _open(key, parent, doc)
            stack.append((key, node))
        inner = stack[-1][1] if stack else None
        if images:
            for img in m.before:
                _add_image(inner, img, base, doc)
        if isinstance(inner, Code):
            raw = "".join(p for p in m.pieces if type(p) is str)
            inner.text = raw if not inner.text else inner.text + "\n" + raw
        else:
            toks = inline_tokens(m.pieces, ln.text, links, images, base)
            if isinstance(inner, (Cell, Table)):
                target = inner.inline if isinstance(inner, Cell) else inner.caption
                if target:
                    target.append(" ")
                target.extend(toks)
            else:
                level = _HEADINGS.get(ln.tag, 0)
                block = Heading(level, toks) if level and not isinstance(inner, Item) else Paragraph(toks)
                _blocks_of(inner, doc).append(block)
        if images:
            for img in m.after:
                _add_image(inner, img, base, doc)
    for node in _walk_nodes(doc):
        if isinstance(node, Code):
            node.text = _trim_code(node.text)
        elif isinstance(node, Table):
            node.rows = [_fill(list(r.values())) for r in node._rows.values()]
            node._rows = {}
    return doc


def _add_image(inner, img: tuple, base: str, doc: list) -> None:
    src = safe_url(img[2], base)
    if not src or isinstance(inner, Code):
        return
    if isinstance(inner, Cell):
        inner.inline.append(("img", img[1], src))
    elif not isinstance(inner, Table):
        _blocks_of(inner, doc).append(Image(("img", img[1], src)))


def _path(containers: tuple, tables: set[int]) -> list[tuple]:
    """The containers of a line that make blocks: quotes, lists and items,
    a data table with its row and cell, a ``pre``; inside a cell or a ``pre``
    nothing more."""
    path: list[tuple] = []
    in_list = False
    skip_table = False
    for tag, num, info in containers:
        if tag == "blockquote":
            path.append(("quote", num, 0))
            in_list = False
        elif tag in ("ul", "ol", "menu"):
            path.append(("list", num, tag == "ol"))
            in_list = True
        elif tag == "li":
            if not in_list:
                path.append(("list", -num, False))
            path.append(("item", num, info))
            in_list = False
        elif tag == "pre":
            path.append(("pre", num, info))
            return path
        elif tag == "table":
            skip_table = num not in tables
            if not skip_table:
                path.append(("table", num, 0))
        elif tag == "tr" and not skip_table and path and path[-1][0] == "table":
            path.append(("row", num, 0))
        elif tag in ("td", "th") and not skip_table and path and path[-1][0] == "row":
            path.append(("cell", num, (tag == "th", info)))
            return path
    return path


def _open(key: tuple, parent, doc: list):
    kind, num, info = key
    if kind == "quote":
        node = Quote()
    elif kind == "list":
        node = ListBlock(bool(info))
    elif kind == "item":
        node = Item(info)
        if isinstance(parent, ListBlock):
            parent.items.append(node)
            return node
        parent = _ensure_list(parent, doc)
        parent.items.append(node)
        return node
    elif kind == "pre":
        node = Code("", info)
    elif kind == "table":
        node = Table()
    elif kind == "row":
        node = parent._rows.setdefault(num, {}) if isinstance(parent, Table) else {}
        return node
    else:  # cell
        if isinstance(parent, dict):
            node = parent.setdefault(num, Cell([], info[0], info[1][1], info[1][0]))
            return node
        return Cell([])
    if isinstance(parent, ListBlock):  # text of a list outside its items: an item of its own
        item = Item(0)
        parent.items.append(item)
        item.blocks.append(node)
    else:
        _blocks_of(parent, doc).append(node)
    return node


def _ensure_list(parent, doc: list) -> ListBlock:
    lst = ListBlock(False)
    _blocks_of(parent, doc).append(lst)
    return lst


def _blocks_of(node, doc: list) -> list:
    if isinstance(node, (Item, Quote)):
        return node.blocks
    if isinstance(node, ListBlock):
        item = Item(0)
        node.items.append(item)
        return item.blocks
    return doc


def _walk_nodes(blocks: list):
    for b in blocks:
        yield b
        if isinstance(b, Quote):
            yield from _walk_nodes(b.blocks)
        elif isinstance(b, ListBlock):
            for it in b.items:
                yield from _walk_nodes(it.blocks)


def _fill(cells: list) -> list:
    """A row's cells with empty ones where the page's row has cells without a kept line."""
    out: list = []
    at = 0
    for c in sorted(cells, key=lambda c: c.column):
        if c.column > at:
            out.extend(Cell([]) for _ in range(c.column - at))
        out.append(c)
        at = max(at, c.column) + c.span
    return out


def _trim_code(text: str) -> str:
    """A code block's text without blank lines around it and trailing spaces."""
    rows = [r.rstrip() for r in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while rows and not rows[0]:
        rows.pop(0)
    while rows and not rows[-1]:
        rows.pop()
    return "\n".join(rows)


def _plain_blocks(lines: list) -> list:
    """Blocks from the lines alone (text pages, or HTML whose markup is not at
    hand): headings by level, runs of list items as lists, paragraphs."""
    doc: list = []
    for ln in lines:
        if not ln.label:
            continue
        level = _HEADINGS.get(ln.tag, 0)
        if level:
            doc.append(Heading(level, [ln.text]))
        elif ln.tag == "li":
            if not doc or not isinstance(doc[-1], ListBlock):
                doc.append(ListBlock(False))
            doc[-1].items.append(Item(0, [Paragraph([ln.text])]))
        else:
            doc.append(Paragraph([ln.text]))
    return doc
