"""The HTML tree builder's tables, as the markup guard models them.

Element sets and rules of the HTML standard's tree construction (void and
raw-text elements, scopes, the elements that close an open ``p``, the active
formatting elements and their markers, ...) and the guard's bounds.  A leaf
module: the reference scan (:mod:`boilerclf.parse.guard`) and its compiled
twin (``_cguard.pyx``) both read their tables here.
"""
from __future__ import annotations

MAX_DEPTH = 512
#: Default number of attributes kept per element.
MAX_ATTRS = 256
#: Default number of formatting elements (``b``, ``a``, ``font``...) open or waiting
#: to be reopened, past which their start tags are dropped.
MAX_FORMATTING = 64
#: Formatting elements the parser may reopen on a page of ``n`` characters:
#: ``REBUILD_FLOOR + n // REBUILD_RATIO`` (past it, every formatting start tag is dropped).
REBUILD_FLOOR = 10_000
REBUILD_RATIO = 16
#: Attributes kept on a page of ``n`` characters: ``ATTR_FLOOR + n // ATTR_RATIO`` (the
#: parser keeps each in a few hundred bytes; past it, attributes are dropped).
ATTR_FLOOR = 50_000
ATTR_RATIO = 16

WS = "\t\n\f\r "
VOID = frozenset((
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img",
    "image", "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
))
#: Elements whose content is raw text (outside svg/math).
RAW = frozenset(("script", "style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"))
#: Start tags never pushed: the parser merges them into existing elements.
NO_PUSH = frozenset(("html", "head", "body", "frameset"))
#: End tags that never close anything.
NO_POP = frozenset(("html", "head", "body", "br", "frameset"))
FOREIGN = frozenset(("svg", "math"))
#: HTML start tags that leave svg/math content (the HTML standard's list, less font).
BREAKOUT = frozenset((
    "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em",
    "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing",
    "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong",
    "strike", "sub", "sup", "table", "tt", "u", "ul", "var",
))
HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
#: The HTML standard's "special" elements (and the svg/math integration points).
SPECIAL = frozenset((
    "address", "applet", "area", "article", "aside", "base", "basefont", "bgsound",
    "blockquote", "body", "br", "button", "caption", "center", "col", "colgroup", "dd",
    "details", "dir", "div", "dl", "dt", "embed", "fieldset", "figcaption", "figure", "footer",
    "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup",
    "hr", "html", "iframe", "img", "input", "keygen", "li", "link", "listing", "main", "marquee",
    "menu", "meta", "nav", "noembed", "noframes", "noscript", "object", "ol", "p", "param",
    "plaintext", "pre", "script", "search", "section", "select", "source", "style", "summary",
    "table", "tbody", "td", "template", "textarea", "tfoot", "th", "thead", "title", "tr",
    "track", "ul", "wbr", "xmp", "mi", "mo", "mn", "ms", "mtext", "annotation-xml",
    "foreignobject", "desc",
))
SCOPE = frozenset((
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template",
    "mi", "mo", "mn", "ms", "mtext", "annotation-xml", "foreignobject", "desc", "title",
))
BUTTON_SCOPE = SCOPE | {"button"}
LIST_SCOPE = SCOPE | {"ol", "ul"}
TABLE_SCOPE = frozenset(("html", "table", "template"))
#: Start tags that close an open p (in button scope); not table (quirks mode keeps the p).
P_CLOSERS = frozenset((
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
    "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "li", "listing", "main", "menu", "nav", "ol", "p", "pre",
    "search", "section", "summary", "ul", "dd", "dt", "xmp",
))
#: The HTML standard's formatting elements (kept on the list of active formatting elements).
FORMATTING = frozenset((
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
))
#: Elements that put a marker on that list (td, th and caption in a table only).
MARKERS = frozenset(("applet", "caption", "marquee", "object", "td", "th", "template"))
#: Start tags the parser ignores outside a table (or template).
TABLE_START = frozenset(("caption", "colgroup", "tbody", "td", "tfoot", "th", "thead", "tr"))
TABLE_CONTEXT = frozenset(("table", "template"))
#: Start tags that do not reopen the formatting elements closed before them (all others do, and text).
NO_REBUILD = (P_CLOSERS - {"xmp"}) | HEADINGS | TABLE_START | NO_PUSH | frozenset((
    "base", "basefont", "bgsound", "col", "frame", "hr", "iframe", "link", "meta", "noembed",
    "noframes", "param", "plaintext", "rb", "rp", "rt", "rtc", "script", "source", "style",
    "table", "template", "textarea", "title", "track",
))
#: Attributes that make a font element leave svg/math content.
FONT_BREAKOUT_ATTRS = frozenset(("color", "face", "size"))
MARK = -2
ITEM_STOP = SPECIAL - {"address", "div", "p"}
TABLE_PARTS = frozenset(("table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption", "colgroup"))
RUBY = frozenset(("rb", "rp", "rt", "rtc"))
TABLE_MODE = frozenset(("table", "tbody", "thead", "tfoot", "tr"))
# start tag -> (names it closes when found, names that stop the search)
CLOSES: dict[str, tuple[frozenset, frozenset]] = {
    "li": (frozenset(("li",)), ITEM_STOP),
    "dd": (frozenset(("dd", "dt")), ITEM_STOP),
    "dt": (frozenset(("dd", "dt")), ITEM_STOP),
    "td": (frozenset(("td", "th")), TABLE_SCOPE),
    "th": (frozenset(("td", "th")), TABLE_SCOPE),
    "tr": (frozenset(("tr",)), TABLE_SCOPE),
    "tbody": (frozenset(("tbody", "thead", "tfoot")), TABLE_SCOPE),
    "thead": (frozenset(("tbody", "thead", "tfoot")), TABLE_SCOPE),
    "tfoot": (frozenset(("tbody", "thead", "tfoot")), TABLE_SCOPE),
    "button": (frozenset(("button",)), SCOPE),
}
# start tag -> names it pops while they are the current node
POPS_TOP: dict[str, frozenset] = {
    "option": frozenset(("option",)), "optgroup": frozenset(("option",)),
    "rb": RUBY, "rtc": RUBY, "rp": frozenset(("rb", "rp", "rt")),
    "rt": frozenset(("rb", "rp", "rt")),
    **{h: HEADINGS for h in HEADINGS},
}


def attr_budget(n: int) -> int:
    """Attributes kept on a page of ``n`` characters."""
    return ATTR_FLOOR + n // ATTR_RATIO


def rebuild_budget(n: int) -> int:
    """Formatting elements the parser may rebuild on a page of ``n`` characters."""
    return REBUILD_FLOOR + n // REBUILD_RATIO
