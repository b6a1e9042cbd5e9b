"""Plain-text pages to lines: one line per non-empty text line.

The number of blank lines before each line is recorded; markdown links
``[text](url)`` count as link text, ``#`` headings and ``-``/``*`` bullets are
recognised.
"""
from __future__ import annotations

import re

import numpy as np

from boilerclf.parse.decode import decode
from boilerclf.parse.lines import FLAG, N_ANCESTORS, TAG_ID, Lines

_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_MD_HEAD = re.compile(r"^(#{1,6})\s+")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+")


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
    gap = 0
    for raw in text.splitlines():
        if not raw.strip():
            gap += 1
            continue
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
        if not s:
            gap += 1
            continue
        texts.append(s)
        link_l.append(links)
        tag_l.append(tag)
        flag_l.append(flags)
        gap_l.append(min(gap, 3))
        gap = 0
    n = len(texts)
    if title is None:
        title = texts[0] if texts else ""
    return Lines(
        texts=texts, kind="text", title=title,
        link_chars=np.asarray(link_l, dtype=np.int32),
        tag=np.asarray(tag_l, dtype=np.int8),
        depth=np.zeros(n, dtype=np.int32),
        flags=np.asarray(flag_l, dtype=np.int32),
        hints=np.zeros(n, dtype=np.int32),
        gap_before=np.asarray(gap_l, dtype=np.int8),
        anc_start=np.zeros((n, N_ANCESTORS), dtype=np.int32),
        anc_end=np.full((n, N_ANCESTORS), n, dtype=np.int32),
    )
