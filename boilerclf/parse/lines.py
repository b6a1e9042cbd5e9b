"""What a line is: the :class:`Lines` of a page and the vocabulary they use.

A page becomes one line per text block (:mod:`boilerclf.parse.html`) or per
line of plain text (:mod:`boilerclf.parse.text`).  Everything the features
need is kept as whole arrays in :class:`Lines`: texts, block tags, link text,
DOM depth, flags of the structural elements around a line (``nav``,
``footer``, ...), *hints* read from the class and id of its ancestors
(``menu``, ``comment``, ``share``...), and the ranges of its block element and
of its nearest ancestors (``anc_start``/``anc_end``).  Because lines are
emitted in document order, the lines under any element form a contiguous
range, which lets the features and the model's context pass aggregate over
containers with prefix sums.

A leaf module: the tag, flag and hint tables here are read by the Python
walker and by the compiled one (``_cwalk.pyx``) alike.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

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
BLOCK = frozenset(BLOCK_TAGS[1:]) - {"br", "label", "time"}
SKIP = frozenset((
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
TAG_FLAG = {
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
# finditer does.  Equal to finditer over _HINT_RE (tests/parse/test_lines.py).
_HINT_WORDS = re.compile("|".join(r"(?P<h%d>%s)" % (i, words) for i, (_, words) in enumerate(HINTS)))
_HINT_SEP = re.compile(r"[\s_\-:]")
_hint_cache: dict[str, int] = {}
#: Bytes of a class/id string that :func:`hint_bits` reads (and the walkers cache).
HINT_BYTES = 1024

#: The id prefix of the blocks a streaming React page sends hidden and moves
#: into place with a script (``<div hidden id="S:0">``): their ``hidden``
#: attribute does not hide them from a reader, so it does not count.
STREAMED_ID = "S:"

#: A bit of ``Lines.hints`` above the :data:`HINTS` groups, not a feature: the
#: line is inside a readers'-comment section, an element whose class or id
#: *starts* with "comment" (not "commentary"), a Disqus thread, or an
#: "article-comments" / "post-comments" block.  This is trafilatura's rule; a
#: comment word later in the value (the Guardian's "tonal--tone-comment"
#: articles) does not count.  A shop's customer reviews count as comments: a
#: class or id that starts with "reviews" ("product-reviews",
#: "customer-reviews", ...) or with a review widget's name (Yotpo, Judge.me,
#: Bazaarvoice, ...); a post's "category-reviews" class does not.  The
#: extractor caps such lines after the model
#: (:func:`boilerclf.decide.rules.markup_codes`).
COMMENT_SECTION = 1 << 30
COMMENT_SECTION_RE = re.compile(r"^(?:comment(?!ary)|comol|disqus_thread|dsq-comments)|(?:article|post)-comments"
                                r"|^(?:product-|customer-|user-|pdp-|ratings?-(?:and-)?)?reviews(?=$|[\s_-])"
                                r"|^(?:yotpo|jdgm|spr-review|stamped-review|okereview|bv-review|bvrr)")


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
        bits = hint_search(low) | (COMMENT_SECTION if COMMENT_SECTION_RE.search(low) else 0)
        if len(_hint_cache) > 100_000:
            _hint_cache.clear()
        _hint_cache[attr] = bits
    return bits


def hint_search_py(s: str) -> int:
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


HINT_ALTERNATIVES = _hint_alternatives()  # also checks the words for both searches


#: The hint search :func:`hint_bits` uses: the regex search above, or the same
#: search compiled, once :mod:`boilerclf.parse.html` has loaded the compiled walker.
hint_search = hint_search_py


def use_hint_search(search) -> None:
    """Make :func:`hint_bits` use ``search`` (the compiled hint table's), which
    gives the bits of :func:`hint_search_py` for every string."""
    global hint_search
    hint_search = search
    _hint_cache.clear()


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
    #: What an HTML page says of itself (:func:`boilerclf.parse.html.page_meta`):
    #: ``og_type`` (str), ``url`` (its canonical or ``og:url`` address) and,
    #: once read, ``ld_types`` (the JSON-LD ``@type`` values, lower-cased).
    meta: dict = field(default_factory=dict)
    #: The raw metadata of an HTML page's markup (:mod:`boilerclf.parse.metadata`:
    #: ``<meta>`` values, ``<title>``, ``<html lang>``..., and once
    #: :func:`boilerclf.parse.html.page_meta` has read the source, its JSON-LD scripts).
    head: dict = field(default_factory=dict, repr=False)
    #: The HTML source until :func:`boilerclf.parse.html.page_meta` has read it.
    source: str | None = field(default=None, repr=False)

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
