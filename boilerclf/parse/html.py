"""HTML pages to lines: one pass over the DOM that lexbor (selectolax) builds.

Block-level elements (``p``, ``div``, ``li``, ``td``, headings, ...) start
and end lines; inline elements (``a``, ``span``, ``b``, ...) are merged into
their block; two ``<br>`` in a row end a line.  The text of ``script``,
``style``, ``noscript``, ``template``, ``svg``, ``iframe`` and form controls
is dropped.  The markup guard (:mod:`boilerclf.parse.guard`) bounds what the
parser builds first.  The walk is compiled (``_cwalk.pyx``); :func:`walk` here
is the reference and the fallback when the extension cannot be used.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from selectolax.lexbor import LexborHTMLParser

from boilerclf.parse import guard as _guard
from boilerclf.parse import lines as _lines
from boilerclf.parse import markup as _markup
from boilerclf.parse import metadata as _metadata
from boilerclf.parse.decode import decode_utf8
from boilerclf.parse.lines import (
    BLOCK,
    FLAG,
    HINT_ALTERNATIVES,
    MAX_NODES,
    N_ANCESTORS,
    SKIP,
    STREAMED_ID,
    TAG_FLAG,
    TAG_ID,
    Lines,
    hint_bits,
)

#: Set in the child process that checks an unverified selectolax (it must not start another).
CHILD_ENV = "BOILERCLF_WALKER_SELFCHECK"


class SlowPathWarning(RuntimeWarning):
    """The compiled DOM walker cannot be used: HTML pages go through the Python
    walker, and extraction is about 2x slower (see :func:`slow_path_reason`)."""


def _selectolax_version() -> str:
    import selectolax

    return str(getattr(selectolax, "__version__", "of unknown version"))


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "boilerclf"


def check_layout_in_child(version: str, extension: str) -> str | None:
    """Run the compiled walker's layout check (``_cwalk.selfcheck``) in a child
    process, for a selectolax release it was not verified with: None when the
    layout matches, else why not.  The answer is kept in the user's cache
    directory, keyed by the selectolax release and the extension file, so the
    child runs once per upgrade."""
    try:
        st = os.stat(extension)
        key = f"{version}-{st.st_size}-{int(st.st_mtime)}"
    except OSError:
        key = None
    mark = _cache_dir() / f"walker-layout-{key}.txt" if key and re.fullmatch(r"[\w.+-]+", key) else None
    if mark is not None:
        try:
            said = mark.read_text(encoding="utf-8")
            return None if said == "ok" else said
        except OSError:
            pass
    try:
        done = subprocess.run([sys.executable, "-c", "from boilerclf.parse._cwalk import selfcheck; selfcheck()"],
                              env={**os.environ, CHILD_ENV: "1"}, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"the compiled HTML walker's check of selectolax {version} did not run ({e})"
    if done.returncode == 0:
        reason = None
    else:
        why = (done.stderr.strip().splitlines() or [""])[-1][:200]
        if done.returncode < 0:
            why = f"the check crashed (signal {-done.returncode})"
        reason = f"the compiled HTML walker cannot read selectolax {version}'s lexbor: {why}"
    if mark is not None:
        try:
            mark.parent.mkdir(parents=True, exist_ok=True)
            mark.write_text(reason or "ok", encoding="utf-8")
        except OSError:
            pass
    return reason


def load_fast_walker() -> tuple:
    """``(walk, HintTable, None)`` from the compiled walker, or ``(None, None, reason)``
    when it cannot be used (the extension did not load, or it cannot read the
    installed selectolax's lexbor structs)."""
    try:
        import boilerclf.parse._cwalk as _cwalk
    except ImportError as e:
        return None, None, f"the compiled HTML walker did not load ({e}); reinstall boilerclf"
    found = _selectolax_version()
    if os.environ.get(CHILD_ENV):
        return None, None, "checking the compiled walker's layout"
    if found in _cwalk.VERIFIED_SELECTOLAX:
        try:
            _cwalk.selfcheck()
        except ImportError as e:
            return None, None, str(e)
    else:
        reason = check_layout_in_child(found, _cwalk.__file__)
        if reason is not None:
            verified = ", ".join(_cwalk.VERIFIED_SELECTOLAX)
            return None, None, f"{reason} (pip install 'selectolax>=1.0,<1.1'; verified with {verified})"
    walk_c, unsupported = _cwalk.walk_c, _cwalk.Unsupported

    def fast_walk(root, title: str, skip: frozenset, max_nodes: int) -> Lines:
        try:
            return walk_c(root, title, skip, max_nodes)
        except unsupported:  # a page the compiled walk cannot reproduce exactly
            return walk(root, title, skip, max_nodes)

    return fast_walk, _cwalk.HintTable, None


_fast_walk, _HintTable, slow_reason = load_fast_walker()
slow_warned = False


def slow_path_reason() -> str | None:
    """Why HTML pages go through the slow Python walker in this process (about
    2x slower extraction), or None when the compiled walker is used."""
    return slow_reason


def warn_slow_path() -> None:
    """Warn, once per process, with a :class:`SlowPathWarning` when HTML pages
    go through the slow Python walker.  :func:`html_lines` calls it; calling it
    earlier (as the command line does) moves the warning there."""
    global slow_warned
    if slow_reason is None or slow_warned:
        return
    slow_warned = True
    warnings.warn(SlowPathWarning(f"boilerclf runs about 2x slower: {slow_reason}"), stacklevel=3)

if _HintTable is not None:  # the hint search compiled too; the regex search stays the reference
    _lines.use_hint_search(_HintTable(HINT_ALTERNATIVES).search)


def _meta_title(tree: LexborHTMLParser) -> str:
    head = tree.head
    if head is None:
        return ""
    node = head.css_first('meta[property="og:title"]')
    if node is not None:
        content = (node.attributes.get("content") or "").strip()
        if content:
            return content
    node = head.css_first("title")
    if node is not None:
        return " ".join(node.text(deep=True).split())
    return ""


_LD_TYPE = re.compile(r'\s*:\s*(\[[^\]]{0,2000}\]|"[^"]{1,80}")')  # after '"@type"'
#: ``@type`` values read per page at most.
MAX_LD_TYPES = 64
_LD_NAME = re.compile(r'"([^"]{1,80})"')
#: JSON-LD scripts read per page at most, and characters of each.
MAX_LD_SCRIPTS, MAX_LD_CHARS = 16, 200_000


def head_meta(tree: LexborHTMLParser) -> dict:
    """What a parsed page's head says of it: its ``og:type`` and its address
    (``<link rel=canonical>``, else ``og:url``)."""
    og, url = "", ""
    head = tree.head
    if head is not None:
        node = head.css_first('meta[property="og:type"]')
        if node is not None:
            og = (node.attributes.get("content") or "").strip().lower()[:80]
        node = head.css_first('link[rel="canonical"]') or head.css_first('meta[property="og:url"]')
        if node is not None:
            url = (node.attributes.get("href") or node.attributes.get("content") or "").strip()[:2000]
    return {"og_type": og, "url": url}


def ld_types(text: str, scripts: list[str] | None = None) -> tuple[str, ...]:
    """The ``@type`` values of a page's JSON-LD scripts (``text``: its source),
    lower-cased, in order, each once; found by substring search (a CSS query
    walks the whole tree).  The scripts' own text is appended to ``scripts``
    when it is given, in the same pass (those of at most
    :data:`boilerclf.parse.metadata.MAX_LD_CHARS` characters, the first
    :data:`~boilerclf.parse.metadata.MAX_LD_SCRIPTS`)."""
    types: dict[str, None] = {}
    at = text.find("application/ld+json")
    for _ in range(MAX_LD_SCRIPTS):
        if at < 0:
            break
        start = text.find(">", at)
        end = text.find("</script", start) if start >= 0 else -1
        if end < 0:
            break
        if scripts is not None and end - start - 1 <= _metadata.MAX_LD_CHARS \
                and len(scripts) < _metadata.MAX_LD_SCRIPTS:
            scripts.append(text[start + 1:end])
        stop = min(end, start + MAX_LD_CHARS)
        pos = text.find('"@type"', start, stop)
        while pos >= 0 and len(types) < MAX_LD_TYPES:
            m = _LD_TYPE.match(text, pos + 7, stop)
            if m:
                for name in _LD_NAME.findall(m.group(1)):
                    types[name.rsplit("/", 1)[-1].lower()] = None
            pos = text.find('"@type"', pos + 7, stop)
        at = text.find("application/ld+json", end)
    return tuple(types)


def page_meta(lines: Lines) -> dict:
    """What an HTML page says of itself (:attr:`Lines.meta`), its JSON-LD types
    read from its source on first use (the page-type model needs them); the
    JSON-LD scripts themselves go to ``lines.head["ld_json"]`` in the same
    read and, when the head's tags give no date, the first ``<time datetime>``
    (:mod:`boilerclf.parse.metadata`); then the source is let go."""
    meta = lines.meta
    if "ld_types" not in meta:
        scripts: list[str] = []
        meta["ld_types"] = ld_types(lines.source, scripts) if lines.source else ()
        lines.head["ld_json"] = tuple(scripts)
        if lines.source and not _metadata.head_has_date(lines.head):
            lines.head["<time>"] = _metadata.time_datetime(lines.source)
        lines.source = None
    return meta


def html_lines(html: str | bytes, *, charset: str | None = None,
               max_nodes: int = MAX_NODES, max_depth: int = _markup.MAX_DEPTH,
               max_attrs: int = _markup.MAX_ATTRS) -> Lines:
    """Split an HTML page into :class:`Lines` (see module docstring).

    Bytes are decoded with :func:`boilerclf.parse.decode.decode`.  Pages with more
    than ``max_nodes`` DOM nodes are truncated there; elements nested deeper
    than ``max_depth`` are flattened into their ancestor at that depth and
    attributes after an element's first ``max_attrs`` are ignored (see
    :mod:`boilerclf.parse.guard`).  Either sets ``Lines.truncated``.  When the
    compiled walker cannot be used (:func:`slow_path_reason`), the first call
    in a process warns with a :class:`SlowPathWarning`; bytes that are plainly
    not text raise :class:`boilerclf.InputError` (:func:`boilerclf.parse.decode.not_text`).
    """
    return parse_lines(*guarded_text(html, charset, max_depth, max_attrs), max_nodes=max_nodes)


def guarded_text(html: str | bytes, charset: str | None = None, max_depth: int = _markup.MAX_DEPTH,
                 max_attrs: int = _markup.MAX_ATTRS, utf8: bytes | None = None) -> tuple[str, bool, bytes | None]:
    """The first half of :func:`html_lines`: the page as the parser will see it
    (decoded, NULs replaced, the guard's spans deleted), whether the guard cut
    any, and the page's UTF-8 bytes when they are exactly that text's encoding
    (the parser then takes them as they are instead of encoding the text
    again).  ``utf8``: a str page's UTF-8 bytes, when the caller kept them
    (:func:`boilerclf.parse.decode.page_text_utf8`)."""
    if isinstance(html, (bytes, bytearray)):
        text, exact = decode_utf8(html, charset)
        utf8 = bytes(html) if exact else None
    else:
        text = html
    if "\x00" in text:
        text, utf8 = text.replace("\x00", "\ufffd"), None
    text, guarded = _guard.apply(text, max_depth, max_attrs)
    return text, guarded, None if guarded else utf8


def parse_lines(text: str, guarded: bool = False, utf8: bytes | None = None, *,
                max_nodes: int = MAX_NODES) -> Lines:
    """The second half of :func:`html_lines`: parse a :func:`guarded_text` and
    walk it (``utf8``: the text's UTF-8 encoding, when the caller has it)."""
    if not slow_warned and slow_reason is not None:
        warn_slow_path()
    tree = LexborHTMLParser(utf8 if utf8 is not None else text)
    title = _meta_title(tree)
    root = tree.body or tree.root
    if root is None:
        return Lines([], title=title, truncated=guarded)
    lines = active_walk(root, title, SKIP, max_nodes)
    if sum(map(len, lines.texts)) < 200 and tree.css_first("noscript") is not None:
        # pages that serve their text to crawlers inside <noscript> (e.g. Discourse)
        alt = active_walk(root, title, SKIP - {"noscript"}, max_nodes)
        if sum(map(len, alt.texts)) > sum(map(len, lines.texts)):
            lines = alt
    lines.truncated = lines.truncated or guarded
    lines.meta = head_meta(tree)
    lines.head = _metadata.read_head(tree)
    lines.source = text
    return lines


def walk(root, title: str, skip: frozenset, max_nodes: int) -> Lines:
    """The one DOM pass: lines with their markup facts (see module docstring)."""
    texts: list[str] = []
    link_l: list[int] = []
    tag_l: list[int] = []
    depth_l: list[int] = []
    flag_l: list[int] = []
    hint_l: list[int] = []
    anc_l: list[tuple] = []

    el_start: list[int] = [0]  # element 0 = the whole page
    el_end: list[int] = [0]
    blocks: list[int] = [0]  # open block elements (element ids)
    block_tags: list[int] = [TAG_ID["body"]]
    buf: list[str] = []
    link_buf = 0
    line_flags = 0
    line_hints = 0
    in_link = 0
    last_br = False
    pad = (0,) * N_ANCESTORS

    def flush() -> None:
        nonlocal buf, link_buf, line_flags, line_hints
        if buf:
            s = " ".join("".join(buf).split())
            if s:
                texts.append(s)
                link_l.append(link_buf)
                tag_l.append(block_tags[-1])
                depth_l.append(len(stack))
                flag_l.append(line_flags)
                hint_l.append(line_hints)
                anc = blocks[:-N_ANCESTORS - 1:-1]
                anc_l.append(tuple(anc) + pad[len(anc):])
            buf = []
        link_buf = 0
        line_flags = 0
        line_hints = 0

    # stack entries: (node, flags, hints, is_block, is_link)
    stack: list[tuple] = []
    cur_flags = 0
    cur_hints = 0
    node = root.child
    n_nodes = 0
    truncated = False
    while True:
        if node is None:
            if not stack:
                break
            node, cur_flags, cur_hints, is_block, is_link = stack.pop()
            if is_block:
                flush()
                el_end[blocks.pop()] = len(texts)
                block_tags.pop()
            if is_link:
                in_link -= 1
            node = node.next
            continue
        n_nodes += 1
        if n_nodes > max_nodes:
            truncated = True
            break
        tag = node.tag
        if tag == "-text":
            s = node.text_content
            if s:
                buf.append(s)
                if not s.isspace():
                    line_flags |= cur_flags
                    line_hints |= cur_hints
                    last_br = False
                    if in_link:
                        link_buf += len(s) - s.count(" ") - s.count("\n")
            node = node.next
            continue
        if tag is None or tag in skip or tag[0] == "-":
            node = node.next
            continue
        if tag == "br":
            if last_br:
                flush()
                last_br = False
            else:
                buf.append("\n")
                last_br = True
            node = node.next
            continue
        attrs = node.attributes
        flags = cur_flags | TAG_FLAG.get(tag, 0)
        hints = cur_hints
        if attrs:
            a = attrs.get("class")
            if a:
                hints |= hint_bits(a)
            a = attrs.get("id")
            if a:
                hints |= hint_bits(a)
            if ("hidden" in attrs and not (a or "").startswith(STREAMED_ID)
                    or "display:none" in (attrs.get("style") or "").replace(" ", "")):
                flags |= FLAG["hidden"]
        is_block = tag in BLOCK
        is_link = tag == "a"
        if is_block:
            flush()
            last_br = False
            blocks.append(len(el_start))
            el_start.append(len(texts))
            el_end.append(len(texts))
            block_tags.append(TAG_ID.get(tag, TAG_ID["div"]))
        if is_link:
            in_link += 1
            if flags & FLAG["li"] or is_block:
                flags |= FLAG["a_block"]
        child = node.child
        if child is None:
            if is_block:
                el_end[blocks.pop()] = len(texts)
                block_tags.pop()
            if is_link:
                in_link -= 1
            node = node.next
            continue
        stack.append((node, cur_flags, cur_hints, is_block, is_link))
        cur_flags, cur_hints = flags, hints
        node = child
    flush()
    n = len(texts)
    el_end[0] = n
    # close what a truncated walk left open
    for e in blocks[1:]:
        el_end[e] = n
    anc = np.asarray(anc_l, dtype=np.int32).reshape(n, N_ANCESTORS)
    starts = np.asarray(el_start, dtype=np.int32)
    ends = np.asarray(el_end, dtype=np.int32)
    tags = np.asarray(tag_l, dtype=np.int8)
    if not title:
        h1 = np.flatnonzero(tags == TAG_ID["h1"])
        if len(h1):
            title = texts[h1[0]]
    return Lines(
        texts=texts, kind="html", title=title,
        link_chars=np.asarray(link_l, dtype=np.int32),
        tag=tags,
        depth=np.asarray(depth_l, dtype=np.int32),
        flags=np.asarray(flag_l, dtype=np.int32),
        hints=np.asarray(hint_l, dtype=np.int32),
        gap_before=np.zeros(n, dtype=np.int8),
        anc_start=starts[anc], anc_end=ends[anc], truncated=truncated,
    )


# The same walk compiled (boilerclf/parse/_cwalk.pyx, built by pip install); _walk above
# stays the reference and the fallback when the extension cannot be used
# (slow_path_reason says why; html_lines warns once with a SlowPathWarning).
active_walk = walk if _fast_walk is None else _fast_walk
