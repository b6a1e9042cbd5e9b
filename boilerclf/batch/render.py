"""A classified page rendered as the output formats: text, markdown, a JSONL record."""
from __future__ import annotations

import json
import re

_MD_ESCAPE = re.compile(r"^(#{1,6}\s|[>*+-]\s|\d{1,9}[.)]\s|```|---)")


def to_markdown(result) -> str:
    """The kept lines as markdown: ``#`` headings by level, ``- `` list items, paragraphs."""
    out: list[str] = []
    prev_li = False
    for ln in result.lines:
        if not ln.label:
            continue
        tag = ln.tag
        is_li = tag == "li"
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            s = "#" * int(tag[1]) + " " + ln.text
        elif is_li:
            s = "- " + ln.text
        else:
            s = ("\\" + ln.text) if _MD_ESCAPE.match(ln.text) else ln.text
        if out:
            out.append("\n" if (is_li and prev_li) else "\n\n")
        out.append(s)
        prev_li = is_li
    return "".join(out)


def render(result, page: tuple, fmt: str, with_lines: bool) -> tuple[str, int, int, int]:
    """``(output text, lines, kept lines, chars)`` of one classified page.

    ``page`` is ``(id, url, source)``; ``fmt`` "record" gives the JSONL record as a dict.
    """
    text = result.text
    n_kept = sum(1 for ln in result.lines if ln.label)
    counts = (len(result.lines), n_kept, len(text))
    if fmt == "txt":
        return text + "\n", *counts
    if fmt == "markdown":
        return to_markdown(result) + "\n", *counts
    rid, url, source = page
    rec = {"id": rid, "url": url, "source": source, "title": result.title, "page_type": result.page_type,
           "text": text,
           "counts": {"lines": counts[0], "kept": counts[1], "chars": counts[2]},
           "truncated": result.truncated, "metadata": result.metadata.as_dict()}
    if with_lines:
        rec["threshold"] = round(float(result.threshold), 6)  # the page's own with "auto"
        rec["headline"] = result.headline  # the index of the headline line, -1 for none
        rec["lines"] = [{"text": ln.text, "label": ln.label, "score": round(ln.score, 6),
                         "tag": ln.tag} for ln in result.lines]
    if fmt == "record":
        return rec, *counts
    return json.dumps(rec, ensure_ascii=False) + "\n", *counts
