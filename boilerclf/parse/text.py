"""Plain-text pages to lines: one line per non-empty text line.

The number of blank lines before each line is recorded; markdown links
``[text](url)`` count as link text, ``#`` headings and ``-``/``*`` bullets are
recognised.  Lines get containers as HTML lines do (:func:`text_containers`):
their block, their run of prose or of short lines, the page.

A dump with (almost) no blank lines may put every piece of text of the page on
a line of its own, as BeautifulSoup's ``get_text("\\n")`` does: a sentence
with a link in it comes out as three lines.  In such a dump
(:func:`fragmented`), a line that continues the one before it (that line does
not end a sentence or a clause, and this one starts with a lower-case letter or
with punctuation) is joined to it (:func:`join_fragments`).
"""
from __future__ import annotations

import re

import numpy as np

from boilerclf.parse.decode import decode
from boilerclf.parse.lines import FLAG, N_ANCESTORS, TAG_ID, Lines

_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_MD_HEAD = re.compile(r"^(#{1,6})\s+")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+")


#: A dump whose lines follow a blank line less often than this is read as
#: fragmented (:func:`fragmented`).  Dumps that break at blocks put a blank line
#: before most of their lines, BeautifulSoup's ``get_text("\\n")`` before almost none.
FRAGMENTED_BLANK_SHARE = 0.02
#: ... and has at least this many lines (a short text says too little).
FRAGMENTED_MIN_LINES = 10
_ENDS_CLAUSE = re.compile(r"[.!?:;\u2026\"\u201d\u00bb)\]\u3002\uff01\uff1f\uff1a\uff1b]\s*$")
_CONTINUES = re.compile(r"[a-z\u00df-\u00ff,.;:)\]!?%\u00bb\u201d]")
_GLUED = frozenset(",.;:)]!?%\u00bb\u201d")


def fragmented(n_lines: int, n_after_blank: int) -> bool:
    """Whether a dump of ``n_lines`` non-blank lines, ``n_after_blank`` of them
    right after a blank line, is fragmented (see the module docstring): at
    least :data:`FRAGMENTED_MIN_LINES` lines, and a blank line before fewer
    than :data:`FRAGMENTED_BLANK_SHARE` of them."""
    return n_lines >= FRAGMENTED_MIN_LINES and n_after_blank < FRAGMENTED_BLANK_SHARE * n_lines


def join_fragments(lines: list[str], gaps: list[int]) -> tuple[list[str], list[int]]:
    """Join each line that continues the one right above it (no blank line
    between; that one ends with no sentence or clause mark, this one starts
    with a lower-case letter or with punctuation) to it, with a space, or none
    before punctuation; the lines and their blank lines before."""
    out: list[str] = []
    out_gaps: list[int] = []
    for t, g in zip(lines, gaps):
        u = t.strip()
        if (out and not g and _CONTINUES.match(u) and not _ENDS_CLAUSE.search(out[-1])
                and not _MD_HEAD.match(out[-1])):
            out[-1] = out[-1] + ("" if u[0] in _GLUED else " ") + u
        else:
            out.append(t.rstrip())
            out_gaps.append(g)
    return out, out_gaps


def text_lines(text: str | bytes, *, title: str | None = None) -> Lines:
    """Split plain text (one paragraph per line, blank lines as gaps) into :class:`Lines`.

    The title defaults to the first non-empty line.
    """
    if isinstance(text, (bytes, bytearray)):
        text = decode(text)
    texts: list[str] = []
    link_l: list[int] = []
    tag_l: list[int] = []
    flag_l: list[int] = []
    gap_l: list[int] = []
    raws: list[str] = []
    gaps_in: list[int] = []
    gap = 0
    for raw in text.splitlines():
        if not raw.strip():
            gap += 1
            continue
        raws.append(raw)
        gaps_in.append(gap)
        gap = 0
    if fragmented(len(raws), sum(g > 0 for g in gaps_in)):
        raws, gaps_in = join_fragments(raws, gaps_in)
    carry = 0  # blank lines, and lines left empty, above the next line
    for raw, gap in zip(raws, gaps_in):
        tag = 0
        flags = 0
        m = _MD_HEAD.match(raw)
        if m:
            tag = TAG_ID["h1"] + len(m.group(1)) - 1
            flags |= FLAG["heading"]
            raw = raw[m.end():]
        elif _BULLET.match(raw):
            tag = TAG_ID["li"]
            flags |= FLAG["li"] | FLAG["list"]
            raw = _BULLET.sub("", raw, count=1)
        links = 0
        if "](" in raw:
            def _sub(m: re.Match) -> str:
                nonlocal links
                links += len(m.group(1).replace(" ", ""))
                return m.group(1)
            raw = _MD_LINK.sub(_sub, raw)
        s = " ".join(raw.split())
        if not s:  # a markdown link without text, say: its line counts as a blank one
            carry += gap + 1
            continue
        texts.append(s)
        link_l.append(links)
        tag_l.append(tag)
        flag_l.append(flags)
        gap_l.append(min(gap + carry, 3))
        carry = 0
    n = len(texts)
    if title is None:
        title = texts[0] if texts else ""
    gaps = np.asarray(gap_l, dtype=np.int8)
    anc_start, anc_end = text_containers(np.fromiter(map(len, texts), dtype=np.int64, count=n), gaps)
    return Lines(
        texts=texts, kind="text", title=title,
        link_chars=np.asarray(link_l, dtype=np.int32),
        tag=np.asarray(tag_l, dtype=np.int8),
        depth=np.zeros(n, dtype=np.int32),
        flags=np.asarray(flag_l, dtype=np.int32),
        hints=np.zeros(n, dtype=np.int32),
        gap_before=gaps,
        anc_start=anc_start,
        anc_end=anc_end,
    )


#: A line shorter than this (characters) is *short*: a menu item, a link, a date.
SHORT_LINE = 50
#: This many short lines in a row (a menu, a list of links) end a prose run.
SHORT_RUN = 3


def _ranges(breaks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per line, the start and end of its segment, for segments starting at
    the sorted line indices ``breaks`` (0 among them)."""
    seg = np.searchsorted(breaks, np.arange(n), side="right") - 1
    bounds = np.r_[breaks, n]
    return bounds[seg], bounds[seg + 1]


def text_containers(chars: np.ndarray, gaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The containers of plain-text lines, as line ranges ``(n, N_ANCESTORS)``
    like an HTML page's ancestors: the *block* (lines with no blank line
    between them: a paragraph, a list), the *run* (the page cut before and
    after every run of :data:`SHORT_RUN` or more short lines, so an article is
    one run and a menu another) and the whole page."""
    n = len(chars)
    start = np.zeros((n, N_ANCESTORS), dtype=np.int32)
    end = np.full((n, N_ANCESTORS), n, dtype=np.int32)
    if not n:
        return start, end
    idx = np.arange(n)
    start[:, 0], end[:, 0] = _ranges(np.flatnonzero((gaps > 0) | (idx == 0)), n)
    short = np.r_[0, (chars < SHORT_LINE).astype(np.int8), 0]
    edge = np.diff(short)
    a, b = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    long_runs = (b - a) >= SHORT_RUN
    breaks = np.sort(np.r_[0, a[long_runs], b[long_runs]])
    breaks = breaks[np.r_[True, breaks[1:] != breaks[:-1]]]
    start[:, 1], end[:, 1] = _ranges(breaks[breaks < n], n)
    return start, end
