"""A classified page rendered as the output formats: text, markdown, HTML, a JSONL record."""
from __future__ import annotations

import json

from boilerclf.output.html import to_html
from boilerclf.output.markdown import to_markdown

__all__ = ["render", "to_html", "to_markdown"]


def render(result, page: tuple, fmt: str, with_lines: bool) -> tuple[str, int, int, int]:
    """``(output text, lines, kept lines, chars)`` of one classified page.

    ``page`` is ``(id, url, source)``; ``fmt`` "record" gives the JSONL record as a dict.
    """
    text = result.text
    n_kept = sum(1 for ln in result.lines if ln.label)
    counts = (len(result.lines), n_kept, len(text))
    if fmt == "txt":
        return text + "\n", *counts
    rid, url, source = page
    if fmt == "markdown":
        return to_markdown(result, url=url or None) + "\n", *counts
    if fmt == "html":
        return to_html(result, url=url or None, document=True) + "\n", *counts
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
