"""What a page says of itself: title, author, date, site name, language and address.

Read from the page's markup: ``<meta>`` tags of the head (Open Graph,
``article:*``, ``name=author``, ``citation_*``, Dublin Core, Parse.ly,
Sailthru...), its JSON-LD scripts (``headline``, ``author``, ``datePublished``,
``publisher``, ``inLanguage``, inside ``@graph`` too), ``<html lang>``,
``<link rel=canonical>``, the first ``<time datetime>``, and the byline and
date lines near the headline among the page's lines ("By Jane Doe",
"Von ...", "Par ...").

Two halves: :func:`read_head`, :func:`time_datetime` and
:func:`boilerclf.parse.html.ld_types` collect the raw values while the page
is parsed (:mod:`boilerclf.parse.html`, bounded work per page);
:func:`page_metadata` turns them into a :class:`Metadata` when it is asked for
(JSON parsing and date reading happen only then).  A leaf module: hostile
values are cut to :data:`MAX_VALUE` characters, JSON-LD scripts to
:data:`MAX_LD_CHARS`, malformed JSON is skipped.
"""
from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass

#: Characters kept of one value (a tag's content, a JSON-LD string).
MAX_VALUE = 500
#: Elements of the head (its children: ``<meta>``, ``<title>``, ``<link>``...) read at most.
MAX_HEAD_NODES = 2_000
#: JSON-LD scripts kept per page at most, characters of each (longer ones are skipped:
#: a cut JSON document does not parse), and JSON objects visited in all.
MAX_LD_SCRIPTS, MAX_LD_CHARS, MAX_LD_NODES = 8, 100_000, 2_000
#: Lines read around the headline for a byline: before it, after it; a date as
#: shown is read up to :data:`DATE_AFTER` lines after it.
BYLINE_BEFORE, BYLINE_AFTER, DATE_AFTER = 4, 30, 12


@dataclass(frozen=True)
class Metadata:
    """What a page says of itself; "" for what it does not say.

    For HTML pages, from its markup (meta tags, JSON-LD, ``<time>``,
    ``<html lang>``, ``<link rel=canonical>``) and the byline near its
    headline; for plain text, the title (the first line) only.
    """

    #: The page's headline as shown on it: ``Result.title`` when that is an ``<h1>``,
    #: else the markup's title (``og:title``, JSON-LD, ``<title>``) without the site's name.
    title: str = ""
    #: The author or authors, "; " between names.
    author: str = ""
    #: The publication date, ``YYYY-MM-DD`` (``YYYY-MM`` or ``YYYY`` when only that is known).
    date: str = ""
    #: The site's or publisher's name (``og:site_name``, the JSON-LD publisher).
    site_name: str = ""
    #: The page's language as the markup tags it (``<html lang>``, ``og:locale``...), e.g. "en-US".
    language: str = ""
    #: The page's canonical address (``<link rel=canonical>``, else ``og:url``).
    url: str = ""

    def as_dict(self) -> dict[str, str]:
        """The fields as a dict (the JSONL record's ``metadata``)."""
        return {"title": self.title, "author": self.author, "date": self.date,
                "site_name": self.site_name, "language": self.language, "url": self.url}


# -- reading while parsing ---------------------------------------------------
#: The ``<meta>`` keys (``property``, ``name`` or ``itemprop``, lower-cased) that are kept.
HEAD_KEYS = frozenset((
    "og:title", "og:site_name", "og:url", "og:locale", "og:type", "twitter:title",
    "application-name", "apple-mobile-web-app-title",
    "author", "article:author", "og:article:author", "byl", "dc.creator", "dc.creator.aut",
    "dcterms.creator", "citation_author", "parsely-author", "sailthru.author", "twitter:creator",
    "article:published_time", "og:article:published_time", "datepublished", "date",
    "pubdate", "publishdate", "publish-date", "publish_date", "published_time", "article.published",
    "dc.date", "dc.date.issued", "dcterms.date", "dcterms.issued", "dcterms.created",
    "citation_publication_date", "citation_date", "citation_online_date", "parsely-pub-date",
    "sailthru.date", "article:modified_time", "datemodified", "dc.date.modified", "last-modified",
    "parsely-title", "sailthru.title", "citation_title", "dc.title", "title", "headline",
    "dc.language", "language", "content-language", "citation_language",
    "dc.publisher", "citation_journal_title", "publisher",
))


def read_head(tree) -> dict:
    """The raw metadata of a parsed page (a selectolax tree): the kept ``<meta>``
    values (first of each key, cut), ``<title>``, ``<html lang>``, the canonical
    link.  One pass over the head's first :data:`MAX_HEAD_NODES` children (:func:`time_datetime`
    reads the ``<time>`` elements from the source: a query would walk the whole body)."""
    out: dict[str, str] = {}
    head = tree.head
    if head is not None:
        for n, node in enumerate(head.iter()):
            if n >= MAX_HEAD_NODES:
                break
            tag = node.tag
            if tag == "meta":
                attrs = node.attributes
                key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop") \
                    or attrs.get("http-equiv")
                if not key:
                    continue
                key = key.strip().lower()[:64]
                if (key in HEAD_KEYS or "publish" in key and "date" in key) and key not in out:
                    value = " ".join((attrs.get("content") or "")[:MAX_VALUE].split())
                    if value:
                        out[key] = value
            elif tag == "title" and "<title>" not in out:
                out["<title>"] = " ".join(node.text(deep=True)[:MAX_VALUE * 2].split())[:MAX_VALUE]
            elif tag == "link" and "<canonical>" not in out \
                    and (node.attributes.get("rel") or "").strip().lower() == "canonical":
                out["<canonical>"] = (node.attributes.get("href") or "").strip()[:2000]
    root = tree.root
    if root is not None and root.tag == "html":
        lang = root.attributes.get("lang") or root.attributes.get("xml:lang")
        if lang:
            out["<lang>"] = lang.strip()[:35]
    return out


_DATETIME = re.compile(r"""\sdatetime\s*=\s*["']?([^"'>\s]{4,64})""", re.I)
#: ``<time>`` elements read at most per page for a ``datetime`` attribute.
MAX_TIME_TAGS = 8


def head_has_date(head: dict) -> bool:
    """Whether the head's tags (or the canonical address) give a publication date,
    so that the ``<time>`` elements need not be searched."""
    return any(head.get(k) for k in _DATE_KEYS) or bool(
        _URL_DATE.search((head.get("<canonical>") or head.get("og:url") or "")[:500]))


def time_datetime(text: str) -> str:
    """The ``datetime`` of the first of a page's first :data:`MAX_TIME_TAGS`
    ``<time>`` elements that has one (``text``: its source), "" for none."""
    at = text.find("<time")
    for _ in range(MAX_TIME_TAGS):
        if at < 0:
            break
        end = text.find(">", at, at + 2000)
        if end < 0:
            break
        m = _DATETIME.search(text, at + 5, end)
        if m and text[at + 5:at + 6] in " \t\n\r/":
            return m.group(1)
        at = text.find("<time", end)
    return ""


# -- JSON-LD -----------------------------------------------------------------
#: The JSON-LD types whose fields describe the page itself (lower-cased, their
#: ``...Article`` / ``...Posting`` kin too).
_PAGE_TYPES = ("article", "posting", "blogposting", "newsarticle", "webpage", "report", "review",
               "recipe", "product", "qapage", "discussionforumposting", "howto", "videoobject",
               "scholarlyarticle", "creativework", "event", "course", "faqpage", "itempage",
               "aboutpage", "collectionpage", "profilepage", "medicalwebpage")


def _text(v) -> str:
    if isinstance(v, str):
        return " ".join(v[:MAX_VALUE].split())
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return ""


def _names(v, depth: int = 0) -> list[str]:
    """Names in a JSON-LD author / publisher value: a string, an object with
    ``name``, or a list of either."""
    if depth > 3:
        return []
    if isinstance(v, str):
        s = _text(v)
        return [s] if s and not s.startswith(("http:", "https:", "/")) else []
    if isinstance(v, dict):
        n = v.get("name")
        if isinstance(n, (list, dict)):
            return _names(n, depth + 1)
        s = _text(n)
        if not s and (v.get("givenName") or v.get("familyName")):
            s = " ".join(filter(None, (_text(v.get("givenName")), _text(v.get("familyName")))))
        return [s] if s else []
    if isinstance(v, list):
        out: list[str] = []
        for x in v[:20]:
            out.extend(_names(x, depth + 1))
        return out
    return []


def _ld_objects(scripts: tuple[str, ...]) -> list[dict]:
    """The JSON-LD objects of the page, ``@graph`` lists and nesting flattened
    (top-level objects first), at most :data:`MAX_LD_NODES`."""
    out: list[dict] = []
    for raw in scripts:
        raw = raw.strip()
        if raw.startswith("<!--"):
            raw = raw[4:].rsplit("-->", 1)[0]
        try:
            doc = json.loads(raw, strict=False)
        except (ValueError, RecursionError):
            continue
        todo = deque([doc])
        while todo and len(out) < MAX_LD_NODES:
            x = todo.popleft()
            if isinstance(x, list):
                todo.extend(x[:200])
            elif isinstance(x, dict):
                out.append(x)
                g = x.get("@graph")
                if isinstance(g, (list, dict)):
                    todo.extend(g[:200] if isinstance(g, list) else [g])
                mp = x.get("mainEntity") or x.get("mainEntityOfPage")
                if isinstance(mp, dict) and "@type" in mp:
                    todo.append(mp)
    return out


def _types(obj: dict) -> list[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return [t.rsplit("/", 1)[-1].lower()]
    if isinstance(t, list):
        return [x.rsplit("/", 1)[-1].lower() for x in t[:10] if isinstance(x, str)]
    return []


def ld_fields(scripts: tuple[str, ...]) -> dict[str, str]:
    """Title, author, date, site name and language from a page's JSON-LD scripts."""
    objs = _ld_objects(scripts)
    main: list[dict] = []
    other: list[dict] = []
    site = ""
    for o in objs:
        ts = _types(o)
        if any(t.endswith(("article", "posting")) or t in _PAGE_TYPES for t in ts):
            main.append(o)
        elif "website" in ts and not site:
            site = _text(o.get("name"))
        else:
            other.append(o)
    # article-like objects before web pages
    main.sort(key=lambda o: 0 if any(t.endswith(("article", "posting")) for t in _types(o)) else 1)
    out: dict[str, str] = {}
    for o in main + other:
        if "title" not in out:
            s = _text(o.get("headline")) or (_text(o.get("name")) if o in main else "")
            if s:
                out["title"] = s
        if "author" not in out:
            names = _names(o.get("author")) or _names(o.get("creator"))
            if names:
                out["author"] = "; ".join(dict.fromkeys(names))
        if "date" not in out:
            s = _text(o.get("datePublished")) or _text(o.get("dateCreated")) or _text(o.get("uploadDate"))
            if s:
                out["date"] = s
        if "modified" not in out and _text(o.get("dateModified")):
            out["modified"] = _text(o.get("dateModified"))
        if "site_name" not in out:
            pub = _names(o.get("publisher"))
            if pub:
                out["site_name"] = pub[0]
        if "language" not in out:
            lang = o.get("inLanguage")
            s = _text(lang) or (_text(lang.get("name")) if isinstance(lang, dict) else "")
            if s:
                out["language"] = s
    if site and "site_name" not in out:
        out["site_name"] = site
    return out


# -- dates -------------------------------------------------------------------
_MONTHS = {}
for _i, _names_of in enumerate((
        "january jan januar janvier enero gennaio januari janeiro jän",
        "february feb februar février fevrier febrero febbraio februari fevereiro",
        "march mar märz maerz mars marzo maart março",
        "april apr avril abril aprile",
        "may mai mayo maggio mei maio",
        "june jun juni juin junio giugno junho",
        "july jul juli juillet julio luglio julho",
        "august aug août aout agosto augustus",
        "september sep sept septembre septiembre settembre setembro",
        "october oct oktober octobre octubre ottobre outubro okt",
        "november nov novembre noviembre novembro",
        "december dec dezember décembre decembre diciembre dicembre dezembro dez"), 1):
    for _n in _names_of.split():
        _MONTHS.setdefault(_n, _i)
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO = re.compile(r"((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_COMPACT = re.compile(r"^((?:19|20)\d\d)(\d\d)(\d\d)(?:$|[T\s])")
_MDY = re.compile(r"\b(%s)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b" % _MONTH, re.I)
_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\.?\s+(?:de\s+)?(%s)\.?,?\s+(?:de\s+)?((?:19|20)\d\d)\b" % _MONTH, re.I)
_YEAR = re.compile(r"(?:19|20)\d\d")
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](\d\d)[/-](\d\d)(?:/|$|-|\.)")
_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})([./])(\d{1,2})\2((?:19|20)\d\d)(?!\d)")


def _ymd(y: int, m: int, d: int) -> str:
    if 1 <= m <= 12 and 1 <= d <= 31:
        return f"{y:04d}-{m:02d}-{d:02d}"
    return ""


def iso_date(value: str, *, text: bool = False) -> str:
    """``YYYY-MM-DD`` of a date value: ISO-like (``2025-09-04T10:00``,
    ``2025/09/04``, ``20250904``) and, with ``text=True`` (dates as shown),
    "September 4, 2025", "4 Sept. 2025", "4. März 2025", "04.09.2025" (day
    first) or "09/04/2025" (month first); "" when none is found."""
    value = value[:200]
    if not _YEAR.search(value):  # no year, no date: the cheap test first
        return ""
    m = _ISO.search(value)
    if m:
        return _ymd(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _COMPACT.match(value.strip())
    if m:
        return _ymd(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _MDY.search(value)
    if m:
        return _ymd(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
    m = _DMY.search(value)
    if m:
        return _ymd(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    if text:
        m = _NUMERIC.search(value)
        if m:
            a, b, y = int(m.group(1)), int(m.group(3)), int(m.group(4))
            if m.group(2) == "/" and a <= 12:  # 09/04/2025: month first
                return _ymd(y, a, b)
            return _ymd(y, b, a)
    return ""


# -- authors and bylines -----------------------------------------------------
_BYLINE = re.compile(r"^\s*(?:written\s+|posted\s+|published\s+|reviewed\s+|authored\s+)?"
                     r"(?:by|von|par|por|di|door|av|af|autor:?|author:?|auteur:?)\s+"
                     r"(?P<name>[^\W\d_][\w.'’\- ]{1,60}?)"
                     r"(?=\s*(?:$|[|,;·•–—(]|\s-\s|\bon\b|\bam\b|\ble\b|\bupdated\b|\bpublished\b|\bin\b"
                     r"|\d|\bfor\b|\band\b|&|\bund\b|\bet\b|\by\b))", re.I)
_AND = re.compile(r"\s*(?:,|&|\band\b|\bund\b|\bet\b)\s*", re.I)
_NOT_NAME = re.compile(r"^(?:the|a|an|admin|staff|editor|editors|team|us|me|our|this|that|date|"
                       r"category|email|clicking|using|continuing)$", re.I)


def byline_author(line: str) -> str:
    """The author names of a byline line ("By Jane Doe and John Roe | May 3"):
    "; " between names, "" when the line is no byline."""
    if len(line) > 200:
        return ""
    m = _BYLINE.match(line)
    if not m:
        return ""
    first = m.group("name").strip(" .-")
    names = [first]
    rest = line[m.end("name"):]
    extra = re.match(r"\s*(?:&|\band\b|\bund\b|\bet\b|\by\b)\s*([^\W\d_][\w.'’\- ]{1,60}?)(?=\s*(?:$|[|,;·•–—(&]|\d|\band\b|\bon\b))",
                     rest, re.I)
    if extra:
        names.append(extra.group(1).strip(" .-"))
    names = [n for n in names if n and not _NOT_NAME.match(n.split()[0]) and len(n.split()) <= 5]
    return "; ".join(names)


def _author_value(value: str) -> str:
    """An author from a meta tag: not a URL nor a handle."""
    if not value or value.startswith(("http:", "https:", "www.", "/")):
        return ""
    return value.lstrip("@") if " " in value else value


# -- the whole -----------------------------------------------------------------
_AUTHOR_KEYS = ("author", "article:author", "og:article:author", "parsely-author", "sailthru.author",
                "citation_author", "dc.creator", "dc.creator.aut", "dcterms.creator", "byl")
_DATE_KEYS = ("article:published_time", "og:article:published_time", "datepublished",
              "citation_publication_date", "citation_date", "citation_online_date", "parsely-pub-date",
              "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date",
              "dcterms.created", "pubdate", "publishdate", "publish-date", "publish_date", "published_time",
              "article.published", "date")
_LANG_KEYS = ("content-language", "dc.language", "language", "citation_language")


_LABEL = re.compile(r"^\s*(?:(?:recipe|article|post|story|words|text|written|posted|reviewed)\s+by|by|author|"
                    r"authors|written|autor|auteur|von|par)\s*:?\s*$", re.I)
_LABELLED = re.compile(r"^\s*(?:(?:recipe|article|post|story|words|text)\s+by|author|autor|auteur)\s*:?\s+", re.I)
_NAME_LINE = re.compile(r"^[^\W\d_][\w.'’\- ]{1,60}$")


def _hinted_author(window: list[tuple]) -> str:
    """An author from the lines in an author/byline element near the headline:
    "By" then the name on the next line, "Recipe by PJ Hamel", a bare name."""
    after_label = False
    for _, text, _, hinted in window:
        if not hinted:
            after_label = False
            continue
        if _LABEL.match(text):
            after_label = True
            continue
        name = byline_author(text) or byline_author("by " + _LABELLED.sub("", text, count=1)) \
            if _LABELLED.match(text) else byline_author(text)
        if not name and (after_label or len(text.split()) <= 4) and _NAME_LINE.match(text) \
                and not _NOT_NAME.match(text.split()[0]):
            name = text.strip()
        if name:
            return name
        after_label = False
    return ""


_TITLE_SEP = re.compile(r"\s+[|\-–—·•:/]{1,2}\s+")


def strip_site_name(title: str, site: str = "") -> str:
    """A markup title without the site's name: "Plant bulbs now | Garden Weekly"
    gives "Plant bulbs now" (the part that is not ``site``, else the longest part)."""
    parts = [p.strip() for p in _TITLE_SEP.split(title[:MAX_VALUE]) if p.strip()]
    if len(parts) <= 1:
        return title.strip()
    if site:
        keep = [p for p in parts if p.lower() != site.lower()]
        if len(keep) == 1:
            return keep[0]
    return max(parts, key=len)


def page_metadata(head: dict, title: str, window: list[tuple] | None = None,
                  headline_tag: str = "h1") -> Metadata:
    """The :class:`Metadata` of a page from what :func:`read_head`,
    :func:`time_datetime` and :func:`boilerclf.parse.html.ld_types` collected
    (``head``; the JSON-LD scripts under ``"ld_json"``, ``<time>`` under ``"<time>"``),
    its headline as shown (``title``) and the lines near the headline
    (``window``: ``(offset from the headline, text, inside <time>, inside an
    author element)``, in order).  When the headline line is no ``<h1>``
    (``headline_tag``), the markup's title (``og:title``, the JSON-LD headline,
    ``<title>``, without the site's name) is taken instead: on wcxb_dev it
    matches the headline as shown more often there (``benchmarks/METADATA.md``)."""
    ld = ld_fields(head.get("ld_json") or ())
    window = window or []
    site = (head.get("og:site_name") or ld.get("site_name") or head.get("application-name")
            or head.get("apple-mobile-web-app-title") or head.get("dc.publisher") or "")

    author = ld.get("author", "")
    if not author:
        for k in _AUTHOR_KEYS:
            author = _author_value(head.get(k, ""))
            if author:
                break
    if not author or author.lower() == site.lower() or " " not in author and author.islower():
        # none, or the site's name / a user handle: a byline shown on the page says better
        shown = next((a for a in map(byline_author, (w[1] for w in window)) if a), "") \
            or _hinted_author(window)
        author = shown or author

    url = head.get("<canonical>") or head.get("og:url") or ""
    m = _URL_DATE.search(url[:500])
    date = _ymd(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else ""  # /2025/09/04/
    values = [head.get(k, "") for k in _DATE_KEYS] + [ld.get("date", ""), head.get("<time>", "")]
    for value in values:
        if date:
            break
        date = iso_date(value) if value else ""
    if not date:  # as shown near the headline, in <time> lines first
        for _, text, _, _ in sorted(window, key=lambda w: (w[0] > DATE_AFTER, not w[2])):
            date = iso_date(text, text=True)
            if date:
                break
    values = [v for k, v in head.items() if "publish" in k and "date" in k]
    values += [ld.get("modified", ""), head.get("article:modified_time", "")]
    for value in values:
        if date:
            break
        date = iso_date(value) if value else ""

    if headline_tag != "h1":
        marked = head.get("og:title") or ld.get("title") or head.get("<title>") or ""
        if marked:
            title = strip_site_name(marked, site)

    lang = head.get("<lang>") or ld.get("language") or next(
        (head[k] for k in _LANG_KEYS if head.get(k)), "") or head.get("og:locale", "").replace("_", "-")
    return Metadata(title=title, author=author[:MAX_VALUE], date=date, site_name=site[:MAX_VALUE],
                    language=lang.split(",")[0].strip()[:35], url=url[:2000])


def head_titles(head: dict) -> dict[str, str]:
    """The page's titles as its markup gives them: ``og`` (``og:title``), ``ld``
    (JSON-LD headline), ``title`` (``<title>``), for comparison with the headline."""
    return {"og": head.get("og:title", ""), "ld": ld_fields(head.get("ld_json") or ()).get("title", ""),
            "title": head.get("<title>", "")}
