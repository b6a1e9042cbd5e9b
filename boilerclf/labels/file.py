"""The labels file: hand-checked line labels of pages, one JSON object per line.

``boilerclf label`` writes it (pre-filled with a model's labels), ``boilerclf
review`` shows and edits it, and retraining reads it.  Each line of the file
is one page::

    {"format": "boilerclf-labels/1",
     "id": "page-1",                  # unique in the file
     "url": "https://..." or null,
     "kind": "html" or "text",
     "source": "<html>...",           # the decoded page text
     "model": "boilerclf-html.npz sha256:ab12..." or null,
     "lines": [{"i": 0, "text": "Home", "label": 0, "score": 0.03, "tag": "li"}, ...],
     "reviewed": false}

``label`` is 1 (content), 0 (boilerplate) or null (not labelled); ``score``
is the model's score where the line was predicted, else null; ``i`` numbers
the lines 0, 1, 2, ... in page order.  ``source`` holds the whole page so that
its lines (and their features) can be recomputed exactly with the same code:
:func:`source_lines` does that and checks that the texts still match.
``reviewed`` is true once a person has gone through the page.

Keys beyond these are kept as they are.  :func:`write_labels` replaces the
file atomically (a temporary file in the same directory, then a rename), so a
reader never sees half a file.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FORMAT = "boilerclf-labels/1"
KINDS = ("html", "text")
RECORD_KEYS = ("format", "id", "url", "kind", "source", "model", "lines", "reviewed")
LINE_KEYS = ("i", "text", "label", "score", "tag")


class LabelsError(ValueError):
    """A labels file or record that does not follow the format."""


def page_record(id: str, source: str, texts: Sequence[str], *, kind: str = "html",
                url: str | None = None, labels: Sequence[int | bool | None] | None = None,
                scores: Sequence[float | None] | None = None, tags: Sequence[str] | None = None,
                model: str | None = None, reviewed: bool = False) -> dict[str, Any]:
    """One page of a labels file, validated.

    ``texts`` are the page's lines in order (as :mod:`boilerclf.parse.lines` splits
    ``source``); ``labels`` (1/0/None), ``scores`` and ``tags`` are parallel to
    them (default: unlabelled, unscored, no tag).  Scores are rounded to 4 places.
    """
    n = len(texts)
    for name, seq in (("labels", labels), ("scores", scores), ("tags", tags)):
        if seq is not None and len(seq) != n:
            raise LabelsError(f"page {id!r}: {len(seq)} {name} for {n} lines")
    lines = []
    for i, text in enumerate(texts):
        lab = None if labels is None or labels[i] is None else int(labels[i])
        sc = None if scores is None or scores[i] is None else round(float(scores[i]), 4)
        lines.append({"i": i, "text": text, "label": lab, "score": sc,
                      "tag": "" if tags is None else str(tags[i])})
    rec = {"format": FORMAT, "id": id, "url": url, "kind": kind, "source": source,
           "model": model, "lines": lines, "reviewed": bool(reviewed)}
    validate(rec)
    return rec


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def validate(rec: Any, where: str = "") -> None:
    """Check one record against the format; raises :class:`LabelsError` saying what is wrong."""
    at = f"{where}: " if where else ""
    if not isinstance(rec, dict):
        raise LabelsError(f"{at}a record must be a JSON object, not {type(rec).__name__}")
    missing = [k for k in RECORD_KEYS if k not in rec]
    if missing:
        raise LabelsError(f"{at}missing key(s) {', '.join(missing)}")
    if rec["format"] != FORMAT:
        raise LabelsError(f"{at}format is {rec['format']!r}, expected {FORMAT!r}")
    if not isinstance(rec["id"], str) or not rec["id"]:
        raise LabelsError(f"{at}id must be a non-empty string")
    at = f"{where}: page {rec['id']!r}: " if where else f"page {rec['id']!r}: "
    if rec["url"] is not None and not isinstance(rec["url"], str):
        raise LabelsError(f"{at}url must be a string or null")
    if rec["kind"] not in KINDS:
        raise LabelsError(f"{at}kind must be 'html' or 'text', not {rec['kind']!r}")
    if not isinstance(rec["source"], str):
        raise LabelsError(f"{at}source must be a string (the decoded page)")
    if rec["model"] is not None and not isinstance(rec["model"], str):
        raise LabelsError(f"{at}model must be a string or null")
    if not isinstance(rec["reviewed"], bool):
        raise LabelsError(f"{at}reviewed must be true or false")
    lines = rec["lines"]
    if not isinstance(lines, list):
        raise LabelsError(f"{at}lines must be a list")
    for j, ln in enumerate(lines):
        if not isinstance(ln, dict):
            raise LabelsError(f"{at}line {j} must be a JSON object")
        missing = [k for k in LINE_KEYS if k not in ln]
        if missing:
            raise LabelsError(f"{at}line {j}: missing key(s) {', '.join(missing)}")
        if not _is_int(ln["i"]) or ln["i"] != j:
            raise LabelsError(f"{at}line {j}: i is {ln['i']!r}, expected {j} (lines numbered 0, 1, ... in order)")
        if not isinstance(ln["text"], str):
            raise LabelsError(f"{at}line {j}: text must be a string")
        lab = ln["label"]
        if lab is not None and not (_is_int(lab) and lab in (0, 1)):
            raise LabelsError(f"{at}line {j}: label must be 0, 1 or null, not {lab!r}")
        sc = ln["score"]
        if sc is not None and (isinstance(sc, bool) or not isinstance(sc, (int, float))
                               or not math.isfinite(sc)):
            raise LabelsError(f"{at}line {j}: score must be a finite number or null, not {sc!r}")
        if not isinstance(ln["tag"], str):
            raise LabelsError(f"{at}line {j}: tag must be a string")


def _check_ids(records: Iterable[dict], where: str) -> None:
    seen: set[str] = set()
    for rec in records:
        if rec["id"] in seen:
            raise LabelsError(f"{where}: page id {rec['id']!r} appears twice")
        seen.add(rec["id"])


def read_labels(path: str | Path) -> list[dict[str, Any]]:
    """All records of a labels file, validated (blank lines are skipped).

    Raises :class:`LabelsError` naming the file and line of the first problem,
    and :class:`OSError` when the file cannot be read.
    """
    path = Path(path)
    records = []
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{path} line {lineno}"
            try:
                rec = json.loads(raw)
            except ValueError as e:
                raise LabelsError(f"{where}: not valid JSON ({e})") from None
            validate(rec, where)
            records.append(rec)
    _check_ids(records, str(path))
    return records


def _dumps(rec: dict) -> str:
    s = json.dumps(rec, ensure_ascii=False, separators=(",", ":"))
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (from undecodable bytes): escape them
        s = json.dumps(rec, ensure_ascii=True, separators=(",", ":"))
    return s


def write_labels(path: str | Path, records: Iterable[dict[str, Any]]) -> None:
    """Write records as a labels file, atomically (temporary file in the same
    directory, fsync, rename).  Every record is validated first; ids must be unique.
    An existing file keeps its permissions."""
    path = Path(path)
    records = list(records)
    for k, rec in enumerate(records):
        validate(rec, f"record {k}")
    _check_ids(records, str(path))
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for rec in records:
                f.write(_dumps(rec))
                f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def source_lines(rec: dict[str, Any]):
    """The :class:`~boilerclf.parse.lines.Lines` of a record, recomputed from its ``source``.

    Raises :class:`LabelsError` when the recomputed texts differ from the
    record's lines (the file was made by a different line splitter, or edited).
    """
    from boilerclf.parse import html as html_mod
    from boilerclf.parse import text as text_mod

    src = rec["source"]
    got = html_mod.html_lines(src) if rec["kind"] == "html" else text_mod.text_lines(src)
    want = [ln["text"] for ln in rec["lines"]]
    if got.texts != want:
        j = next((k for k, (a, b) in enumerate(zip(got.texts, want)) if a != b),
                 min(len(got.texts), len(want)))
        raise LabelsError(
            f"page {rec['id']!r}: the lines recomputed from its source differ from the file's "
            f"at line {j} ({len(got.texts)} lines recomputed, {len(want)} in the file); "
            f"relabel the page with this version of boilerclf")
    return got


def label_array(rec: dict[str, Any]):
    """The labels of a record as an int8 numpy array, -1 where unlabelled."""
    import numpy as np

    return np.fromiter((-1 if ln["label"] is None else ln["label"] for ln in rec["lines"]),
                       dtype=np.int8, count=len(rec["lines"]))
