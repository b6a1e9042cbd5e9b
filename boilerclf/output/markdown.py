"""The kept blocks of a page as markdown (CommonMark, with GitHub tables).

``#`` headings by level, paragraphs separated by blank lines, ``-`` and
``1.`` lists (nested by indentation), tables with a header row (``|`` in
cells escaped), fenced code blocks that keep the code's line breaks and
indentation, ``>`` quotes; links ``[text](url)`` and images ``![alt](src)``
when the blocks hold them (:mod:`boilerclf.output.blocks`).  Text that would
read as markdown syntax where it stands (a line starting with ``# `` or
``- ``, an HTML tag) is escaped with a backslash.
"""
from __future__ import annotations

import re

from boilerclf.output.blocks import (
    Code,
    Heading,
    Image,
    Item,
    ListBlock,
    Paragraph,
    Quote,
    Table,
    page_blocks,
)

_LINE_START = re.compile(r"^(#{1,6}(?:\s|$)|[>*+-](?:\s|$)|\d{1,9}[.)](?:\s|$)|```|~~~|---|===|___|\*\*\*)")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_BRACKETS = re.compile(r"([\[\]])")
_TICKS = re.compile(r"`+")


def to_markdown(result, links: bool | None = None, images: bool | None = None,
                url: str | None = None) -> str:
    """The kept lines of ``result`` (a :class:`~boilerclf.pipeline.Result`) as
    markdown; ``links`` / ``images`` default to the result's own settings;
    ``url``: the page's address, for relative links (see
    :func:`~boilerclf.output.blocks.page_blocks`)."""
    links = getattr(result, "links", False) if links is None else links
    images = getattr(result, "images", False) if images is None else images
    return render_blocks(page_blocks(result, links, images, url))


def render_blocks(blocks: list) -> str:
    """Markdown of a list of blocks, separated by blank lines."""
    return "\n\n".join("\n".join(_block(b)) for b in blocks if not _empty(b))


def _empty(b) -> bool:
    if isinstance(b, Code):
        return not b.text
    if isinstance(b, ListBlock):
        return not b.items
    if isinstance(b, Table):
        return not b.rows and not b.caption
    return False


def _block(b) -> list[str]:
    """The lines of one block."""
    if isinstance(b, Heading):
        return ["#" * b.level + " " + _inline(b.inline, False)]
    if isinstance(b, Paragraph):
        return [_inline(b.inline, True)]
    if isinstance(b, Image):
        return [_image(b.img)]
    if isinstance(b, Code):
        longest = max((len(t) for t in _TICKS.findall(b.text)), default=0)
        fence = "`" * max(3, longest + 1)
        return [fence + b.language, *b.text.split("\n"), fence]
    if isinstance(b, Quote):
        inner = render_blocks(b.blocks).split("\n")
        return [("> " + s) if s else ">" for s in inner]
    if isinstance(b, ListBlock):
        return _list(b)
    if isinstance(b, Table):
        return _table(b)
    return []


def _list(lst: ListBlock) -> list[str]:
    tight = all(_tight(it) for it in lst.items)
    out: list[str] = []
    n = 0
    for it in lst.items:
        if not it.blocks:
            continue
        if lst.ordered:
            n = it.number if it.number else n + 1
            marker = f"{n}. "
        else:
            marker = "- "
        body = [_block(b) for b in it.blocks if not _empty(b)]
        lines: list[str] = []
        for k, blk in enumerate(body):
            if k and not (tight and isinstance(it.blocks[k], ListBlock)):
                lines.append("")
            lines.extend(blk)
        if not lines:
            continue
        if out and not tight:
            out.append("")
        pad = " " * len(marker)
        out.append(marker + lines[0])
        out.extend((pad + s) if s else "" for s in lines[1:])
    return out


def _tight(it: Item) -> bool:
    """An item of one paragraph (and lists under it): no blank lines around it."""
    paras = [b for b in it.blocks if not isinstance(b, ListBlock)]
    return len(paras) <= 1 and all(isinstance(b, (Paragraph, Heading)) for b in paras)


def _table(t: Table) -> list[str]:
    rows = []
    for r in t.rows:
        cells = []
        for c in r:
            cells.append(_inline(c.inline, False).replace("|", "\\|"))
            cells.extend([""] * (c.span - 1))
        rows.append(cells)
    out = []
    if t.caption:
        out += [_inline(t.caption, True), ""]
    if not rows:
        return out[:1]
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    out.append("| " + " | ".join(rows[0]) + " |")
    out.append("|" + "|".join([" --- "] * width) + "|")
    out.extend("| " + " | ".join(r) + " |" for r in rows[1:])
    return out


def _image(img: tuple) -> str:
    return "![" + _TAG.sub(r"\\<", _BRACKETS.sub(r"\\\1", img[1])) + "](" + _dest(img[2]) + ")"


def _dest(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C").replace(">", "%3E").replace('"', "%22")


def _inline(tokens: list, block_start: bool) -> str:
    """Markdown of inline tokens; ``block_start``: escape what would start a block."""
    out: list[str] = []
    in_link = 0
    code: list[str] | None = None
    link_dest: list[str] = []
    for t in tokens:
        if type(t) is str:
            if code is not None:
                code.append(t)
                continue
            s = _TAG.sub(r"\\<", t)
            if in_link:
                s = _BRACKETS.sub(r"\\\1", s)
            out.append(s)
            continue
        kind = t[0]
        if kind == "code":
            if code is None:
                code = []
        elif kind == "/code":
            if code is not None:
                c = "".join(code)
                ticks = "`" * (max((len(x) for x in _TICKS.findall(c)), default=0) + 1)
                pad = " " if c.startswith("`") or c.endswith("`") else ""
                out.append(ticks + pad + c + pad + ticks if c else "")
                code = None
        elif kind == "a":
            in_link += 1
            link_dest.append(t[1])
            out.append("[")
        elif kind == "/a":
            if link_dest:
                in_link -= 1
                out.append("](" + _dest(link_dest.pop()) + ")")
        elif kind == "img":
            out.append(_image(t))
    if code is not None:
        out.append("".join(code))
    s = "".join(out).strip()
    if block_start and _LINE_START.match(s):
        s = "\\" + s
    return s
