"""Pages to lines: the second step of the pipeline.

An HTML page becomes one line per text block, in one pass over the DOM that
selectolax's lexbor parser builds.  Block-level elements (``p``, ``div``,
``li``, ``td``, headings, ...) start and end lines; inline elements (``a``,
``span``, ``b``, ...) are merged into their block; two ``<br>`` in a row end a
line.  The text of ``script``, ``style``, ``noscript``, ``template``, ``svg``,
``iframe`` and form controls is dropped.

A plain-text page becomes one line per non-empty text line, with the number of
blank lines before it recorded; markdown links ``[text](url)`` count as link
text, ``#`` headings and ``-``/``*`` bullets are recognised.

Everything the features need is kept as whole arrays in :class:`Lines`.
Because lines are emitted in document order, the lines under any element form
a contiguous range; each line stores the ranges of its block element and of
its nearest ancestors (``anc_start``/``anc_end``), which lets the features and
the model's context pass aggregate over containers with prefix sums.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
from selectolax.lexbor import LexborHTMLParser

from boilerclf.parse import guard as _guard
from boilerclf.parse import markup as _markup
from boilerclf.parse.decode import decode

#: Number of container levels kept per line: its block element and 4 ancestors.
N_ANCESTORS = 5
#: Default cap on DOM nodes walked per page; the rest of the page is ignored.
MAX_NODES = 200_000

# Block tags, in the order of their ids (id 0 = no block / text mode).
BLOCK_TAGS = (
    "", "p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "dd", "dt", "dl", "section", "article", "header",
    "footer", "nav", "aside", "ul", "ol", "table", "tr", "tbody", "thead",
    "tfoot", "caption", "figure", "figcaption", "main", "address", "form",
    "fieldset", "legend", "details", "summary", "center", "body", "html",
    "hr", "menu", "hgroup", "label", "time", "br",
)
TAG_ID = {t: i for i, t in enumerate(BLOCK_TAGS)}
TAG_ID["html"] = TAG_ID["body"]
_BLOCK = frozenset(BLOCK_TAGS[1:]) - {"br", "label", "time"}
_SKIP = frozenset((
    "script", "style", "noscript", "template", "svg", "iframe", "select",
    "textarea", "button", "input", "option", "optgroup", "object", "embed",
    "canvas", "math", "video", "audio", "head", "title", "meta", "link",
    "datalist", "dialog", "map", "picture", "source", "track", "frameset",
    "frame", "img",
))

# Context bits: the line sits inside such an element.
CONTEXT_FLAGS = (
    "nav", "header", "footer", "aside", "form", "li", "table", "blockquote",
    "pre", "figure", "article", "main", "a_block", "heading", "p", "list",
    "dl", "address", "hidden", "time", "label",
)
FLAG = {name: 1 << i for i, name in enumerate(CONTEXT_FLAGS)}
_TAG_FLAG = {
    "nav": FLAG["nav"], "header": FLAG["header"], "footer": FLAG["footer"],
    "aside": FLAG["aside"], "form": FLAG["form"], "li": FLAG["li"],
    "table": FLAG["table"], "blockquote": FLAG["blockquote"],
    "pre": FLAG["pre"], "figure": FLAG["figure"], "figcaption": FLAG["figure"],
    "article": FLAG["article"], "main": FLAG["main"],
    "h1": FLAG["heading"], "h2": FLAG["heading"], "h3": FLAG["heading"],
    "h4": FLAG["heading"], "h5": FLAG["heading"], "h6": FLAG["heading"],
    "p": FLAG["p"], "ul": FLAG["list"], "ol": FLAG["list"], "menu": FLAG["list"],
    "dl": FLAG["dl"], "address": FLAG["address"], "time": FLAG["time"],
    "label": FLAG["label"],
}

# Class / id hints: a bit per group of words found in an ancestor's class or id.
HINTS = (
    ("nav", r"nav|menu|menue|topbar|toolbar|skip"),
    ("footer", r"foot|copyright|legal|colophon"),
    ("comment", r"comment|disqus|reply|respond|discussion|reaction"),
    ("share", r"share|sharing|social|facebook|twitter|whatsapp|linkedin|pinterest|print|email"),
    ("related", r"related|recommend|more|also|read-?next|teaser|trending|popular|most-|outbrain|taboola|further"),
    ("sidebar", r"sidebar|side-bar|widget|aside|rail|column-right|col-right"),
    ("breadcrumb", r"breadcrumb|crumbs|pagination|pager|paging"),
    ("promo", r"promo|sponsor|advert|ads?(?=$|[\s_\-:\d])|banner|affiliate|marketing|commercial|dfp|gpt"),
    ("cookie", r"cookie|consent|gdpr|privacy|notice|popup|modal|overlay"),
    ("newsletter", r"newsletter|subscri|signup|sign-up|register|login|account|paywall|cta"),
    ("header", r"header|masthead|topnav|brand|logo"),
    ("author", r"author|byline|bio|profile|contributor|writer"),
    ("caption", r"caption|credit|photo|image|gallery|media|figure|video"),
    ("tags", r"tags?|topics?|categor|keyword|label"),
    ("content", r"article|content|story|entry|post|text|body|main|blog|prose|rich"),
    ("meta", r"meta|date|time|publish|updated|info|dateline"),
    ("hidden", r"hidden|hide|sr-only|visually-hidden|screen-reader|offscreen|collapse"),
    ("title", r"title|headline|heading|hed|kicker"),
    ("lead", r"lead|intro|summary|standfirst|dek|excerpt|abstract|description"),
    ("search", r"search|form|input|button|btn"),
)
HINT = {name: 1 << i for i, (name, _) in enumerate(HINTS)}
_HINT_RE = re.compile("|".join(
    r"(?P<h%d>(?:^|[\s_\-:])(?:%s))" % (i, words) for i, (_, words) in enumerate(HINTS)))
# The same search, fast: a match of _HINT_RE can only start at the string's
# start or at a separator, so only those positions are tried, with the words
# alone (the groups in the same order), skipping separators inside a match as
# finditer does.  Equal to finditer over _HINT_RE (tests/test_lines.py).
_HINT_WORDS = re.compile("|".join(r"(?P<h%d>%s)" % (i, words) for i, (_, words) in enumerate(HINTS)))
_HINT_SEP = re.compile(r"[\s_\-:]")
_hint_cache: dict[str, int] = {}
#: Bytes of a class/id string that :func:`hint_bits` reads (and the walkers cache).
HINT_BYTES = 1024

#: A bit of ``Lines.hints`` above the :data:`HINTS` groups, not a feature: the
#: line is inside a readers'-comment section, an element whose class or id
#: *starts* with "comment" (not "commentary"), a Disqus thread, or an
#: "article-comments" / "post-comments" block.  This is trafilatura's rule; a
#: comment word later in the value (the Guardian's "tonal--tone-comment"
#: articles) does not count.  The extractor caps such lines after the model
#: (:func:`boilerclf.decide.rules.markup_mask`).
COMMENT_SECTION = 1 << 30
_COMMENT_SECTION_RE = re.compile(r"^(?:comment(?!ary)|comol|disqus_thread|dsq-comments)|(?:article|post)-comments")


def hint_bits(attr: str) -> int:
    """Hint bits of a class/id string (cached: class names repeat a lot).

    Only the first :data:`HINT_BYTES` bytes (UTF-8) of the string count: a
    hostile page's megabyte-long class attribute costs no more than a normal one.
    """
    if len(attr) > HINT_BYTES // 4:
        raw = attr.encode("utf-8", "surrogatepass")
        if len(raw) > HINT_BYTES:
            attr = raw[:HINT_BYTES].decode("utf-8", "replace")
    bits = _hint_cache.get(attr)
    if bits is None:
        low = attr.lower()
        bits = _hint_search(low) | (COMMENT_SECTION if _COMMENT_SECTION_RE.search(low) else 0)
        if len(_hint_cache) > 100_000:
            _hint_cache.clear()
        _hint_cache[attr] = bits
    return bits


def _hint_search_py(s: str) -> int:
    """Bits of the hint groups that ``_HINT_RE.finditer(s)`` matches (see above;
    no hint word starts with a separator, :func:`_hint_alternatives` checks it,
    so at a leading separator the regex's start branch fails too)."""
    bits = end = 0
    m = _HINT_WORDS.match(s)
    if m:
        bits, end = 1 << int(m.lastgroup[1:]), m.end()
    for sep in _HINT_SEP.finditer(s, end):
        if sep.start() >= end:
            m = _HINT_WORDS.match(s, sep.end())
            if m:
                bits |= 1 << int(m.lastgroup[1:])
                end = m.end()
    return bits


_LOOKAHEAD = r"(?=$|[\s_\-:\d])"


def _hint_alternatives() -> list[tuple[int, str, bool]]:
    """The words of :data:`HINTS` as ``(group, literal, lookahead)`` in the order
    the regex tries them: an optional character ``c?`` gives the literal with
    ``c`` first, then without (greedy); ``lookahead`` marks the one lookahead
    the words use.  Raises ``ValueError`` on any other regex syntax."""
    def expand(alt: str) -> list[str]:
        i = alt.find("?")
        if i < 0:
            return [alt]
        return [alt[:i] + t for t in expand(alt[i + 1:])] + [alt[:i - 1] + t for t in expand(alt[i + 1:])]

    out = []
    for g, (_, words) in enumerate(HINTS):
        for alt in words.replace(_LOOKAHEAD, "\0").split("|"):
            look = alt.endswith("\0")
            alt = alt.rstrip("\0")
            for lit in expand(alt):
                if set(lit) & set("()[]{}*+.\\^$|?"):
                    raise ValueError(f"hint word {alt!r} is not a literal with optional characters")
                if not lit or _HINT_SEP.match(lit):  # the start rule of both searches needs this
                    raise ValueError(f"hint word {alt!r} is empty or starts with a separator")
                out.append((g, lit, look))
    return out


_HINT_ALTERNATIVES = _hint_alternatives()  # also checks the words for both searches

#: The selectolax release whose lexbor struct layout the compiled walker
#: (``boilerclf/parse/_cwalk.pyx``) reads; with any other, pages take the Python walker.
FAST_SELECTOLAX = "1.0.2"


class SlowPathWarning(RuntimeWarning):
    """The compiled DOM walker cannot be used: HTML pages go through the Python
    walker, and extraction is about 2x slower (see :func:`slow_path_reason`)."""


def _selectolax_version() -> str:
    import selectolax

    return str(getattr(selectolax, "__version__", "of unknown version"))


def _load_fast() -> tuple:
    """``(walk, HintTable, None)`` from the compiled walker, or ``(None, None, reason)``
    when it cannot be used (another selectolax, or the extension did not load)."""
    found = _selectolax_version()
    if found != FAST_SELECTOLAX:
        return None, None, (f"selectolax {found} is installed, the fast HTML walker needs selectolax "
                            f"{FAST_SELECTOLAX} (pip install selectolax=={FAST_SELECTOLAX})")
    try:
        from boilerclf.parse._cwalk import HintTable, walk
    except ImportError as e:
        return None, None, f"the compiled HTML walker did not load ({e}); reinstall boilerclf"
    return walk, HintTable, None


_fast_walk, _HintTable, _slow_reason = _load_fast()
_slow_warned = False


def slow_path_reason() -> str | None:
    """Why HTML pages go through the slow Python walker in this process (about
    2x slower extraction), or None when the compiled walker is used."""
    return _slow_reason


def warn_slow_path() -> None:
    """Warn, once per process, with a :class:`SlowPathWarning` when HTML pages
    go through the slow Python walker.  :func:`html_lines` calls it; calling it
    earlier (as the command line does) moves the warning there."""
    global _slow_warned
    if _slow_reason is None or _slow_warned:
        return
    _slow_warned = True
    warnings.warn(SlowPathWarning(f"boilerclf runs about 2x slower: {_slow_reason}"), stacklevel=3)


# compiled (boilerclf/parse/_cwalk.pyx); the regex search above stays the reference
_hint_search = _hint_search_py if _HintTable is None else _HintTable(_HINT_ALTERNATIVES).search


@dataclass
class Lines:
    """The lines of one page, as parallel arrays (one entry per line)."""

    texts: list[str]
    kind: str = "html"  # "html" or "text"
    title: str = ""
    link_chars: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    tag: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    depth: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    flags: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    hints: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    gap_before: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    anc_start: np.ndarray = field(default_factory=lambda: np.zeros((0, N_ANCESTORS), np.int32))
    anc_end: np.ndarray = field(default_factory=lambda: np.zeros((0, N_ANCESTORS), np.int32))
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def heading_level(self) -> np.ndarray:
        """1-6 for h1-h6 blocks (or markdown headings), else 0."""
        t = self.tag.astype(np.int16) - TAG_ID["h1"] + 1
        return np.where((t >= 1) & (t <= 6), t, 0).astype(np.int8)

    def subset(self, keep: np.ndarray) -> list[str]:
        """Texts of the lines where ``keep`` is true."""
        return [t for t, k in zip(self.texts, keep) if k]


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
    if not _slow_warned and _slow_reason is not None:
        warn_slow_path()
    text = decode(html, charset) if isinstance(html, (bytes, bytearray)) else html
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    text, guarded = _guard.apply(text, max_depth, max_attrs)
    tree = LexborHTMLParser(text)
    title = _meta_title(tree)
    root = tree.body or tree.root
    if root is None:
        return Lines([], title=title, truncated=guarded)
    lines = _walk_fast(root, title, _SKIP, max_nodes)
    if sum(map(len, lines.texts)) < 200 and tree.css_first("noscript") is not None:
        # pages that serve their text to crawlers inside <noscript> (e.g. Discourse)
        alt = _walk_fast(root, title, _SKIP - {"noscript"}, max_nodes)
        if sum(map(len, alt.texts)) > sum(map(len, lines.texts)):
            lines = alt
    lines.truncated = lines.truncated or guarded
    return lines


def _walk(root, title: str, skip: frozenset, max_nodes: int) -> Lines:
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
        flags = cur_flags | _TAG_FLAG.get(tag, 0)
        hints = cur_hints
        if attrs:
            a = attrs.get("class")
            if a:
                hints |= hint_bits(a)
            a = attrs.get("id")
            if a:
                hints |= hint_bits(a)
            if "hidden" in attrs or "display:none" in (attrs.get("style") or "").replace(" ", ""):
                flags |= FLAG["hidden"]
        is_block = tag in _BLOCK
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
_walk_fast = _walk if _fast_walk is None else _fast_walk


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
