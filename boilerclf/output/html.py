"""The kept blocks of a page as clean, minimal HTML.

Only ``h1``-``h6``, ``p``, ``ul``/``ol``/``li``, ``table``/``tr``/``th``/``td``,
``pre``/``code``, ``blockquote``, ``figure``, ``a`` and ``img`` are written,
with no attribute but ``href`` (links), ``src`` and ``alt`` (images) and an
ordered list's ``start``; every text and attribute is escaped, and addresses
come from :func:`boilerclf.output.blocks.safe_url` (no ``javascript:``).  The
page's own markup is never copied: the output holds no script, style or
event handler whatever the page held.
"""
from __future__ import annotations

from html import escape

from boilerclf.output.blocks import (
    Code,
    Heading,
    Image,
    ListBlock,
    Paragraph,
    Quote,
    Table,
    page_blocks,
)


def to_html(result, links: bool | None = None, images: bool | None = None, url: str | None = None, *,
            document: bool = False) -> str:
    """The kept lines of ``result`` (a :class:`~boilerclf.pipeline.Result`) as
    HTML blocks (one per line); ``links`` / ``images`` default to the result's
    own settings; ``url``: the page's address, for relative links (see
    :func:`~boilerclf.output.blocks.page_blocks`).  ``document``: a whole page
    (doctype, UTF-8, the title)."""
    links = getattr(result, "links", False) if links is None else links
    images = getattr(result, "images", False) if images is None else images
    body = render_blocks(page_blocks(result, links, images, url))
    if not document:
        return body
    return ('<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>' + escape(result.title or "")
            + "</title>\n</head>\n<body>\n" + body + ("\n" if body else "") + "</body>\n</html>")


def render_blocks(blocks: list) -> str:
    """HTML of a list of blocks, one per line."""
    return "\n".join(s for s in (_block(b) for b in blocks) if s)


def _block(b) -> str:
    if isinstance(b, Heading):
        return f"<h{b.level}>{_inline(b.inline)}</h{b.level}>"
    if isinstance(b, Paragraph):
        return f"<p>{_inline(b.inline)}</p>"
    if isinstance(b, Image):
        return f"<figure>{_img(b.img)}</figure>"
    if isinstance(b, Code):
        return f"<pre><code>{escape(b.text, quote=False)}</code></pre>" if b.text else ""
    if isinstance(b, Quote):
        inner = render_blocks(b.blocks)
        return f"<blockquote>\n{inner}\n</blockquote>" if inner else ""
    if isinstance(b, ListBlock):
        return _list(b)
    if isinstance(b, Table):
        return _table(b)
    return ""


def _list(lst: ListBlock) -> str:
    items = []
    first = None
    for it in lst.items:
        if not it.blocks:
            continue
        if first is None:
            first = it.number
        if len(it.blocks) == 1 and isinstance(it.blocks[0], Paragraph):
            items.append(f"<li>{_inline(it.blocks[0].inline)}</li>")
        else:
            inner = render_blocks(it.blocks)
            if inner:
                items.append(f"<li>\n{inner}\n</li>")
    if not items:
        return ""
    if lst.ordered:
        start = f' start="{int(first)}"' if first and first != 1 else ""
        return f"<ol{start}>\n" + "\n".join(items) + "\n</ol>"
    return "<ul>\n" + "\n".join(items) + "\n</ul>"


def _table(t: Table) -> str:
    out = ["<table>"]
    if t.caption:
        out.append(f"<caption>{_inline(t.caption)}</caption>")
    for k, row in enumerate(t.rows):
        cells = []
        for c in row:
            tag = "th" if c.header or k == 0 else "td"
            cells.append(f"<{tag}>{_inline(c.inline)}</{tag}>" + f"<{tag}></{tag}>" * (c.span - 1))
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _img(img: tuple) -> str:
    return f'<img src="{escape(img[2])}" alt="{escape(img[1])}">'


def _inline(tokens: list) -> str:
    out: list[str] = []
    stack: list[str] = []
    for t in tokens:
        if type(t) is str:
            out.append(escape(t, quote=False))
            continue
        kind = t[0]
        if kind == "a":
            out.append(f'<a href="{escape(t[1])}">')
            stack.append("a")
        elif kind == "code":
            out.append("<code>")
            stack.append("code")
        elif kind in ("/a", "/code") and stack and stack[-1] == kind[1:]:
            out.append(f"</{stack.pop()}>")
        elif kind == "img":
            out.append(_img(t))
    while stack:
        out.append(f"</{stack.pop()}>")
    return "".join(out).strip()
