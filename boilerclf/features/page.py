"""Page features: one vector per page, for the page-type model.

A page's vector is made of

* the mean of its lines' features (:mod:`boilerclf.features.table`), once per
  line and once weighted by the lines' characters, for the columns that
  describe a line by itself (not its neighbours, containers or position), and
  the page's size in lines and characters;
* what the page says of itself (:attr:`boilerclf.parse.lines.Lines.meta`): its
  ``og:type``, the schema.org types of its JSON-LD, and the words of its
  address's path (the ``url`` a caller gives, else the page's canonical one).

Everything is computed on the batch's feature matrix: one matrix product per
page over its contiguous rows (a column-wise sum over rows is several times
slower), so the cost per page is a few microseconds.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import numpy as np

from boilerclf.features.table import FEATURE_NAMES

_SKIP = ("page", "line", "nchars", "pos_line", "pos_char", "head_dist", "head_chars", "head_sections")
#: The line-feature columns averaged per page.
LINE_COLUMNS = [n for n in FEATURE_NAMES if n not in _SKIP and not n.startswith(("anc", "prev", "next"))]
_COLS = np.array([FEATURE_NAMES.index(n) for n in LINE_COLUMNS])
_C_CHARS = FEATURE_NAMES.index("chars")

#: ``og:type`` values with a column of their own ("" = none given).
OG_TYPES = ("article", "product", "website", "profile", "video", "book", "place", "business", "blog", "")
#: schema.org types (JSON-LD ``@type``, lower-cased) with a column of their own.
LD_TYPES = ("article", "newsarticle", "blogposting", "reportage", "product", "offer", "aggregateoffer",
            "discussionforumposting", "qapage", "question", "answer", "comment", "collectionpage",
            "itemlist", "listitem", "searchresultspage", "techarticle", "apireference", "howto", "faqpage",
            "service", "localbusiness", "organization", "professionalservice", "webpage", "website",
            "breadcrumblist", "event", "recipe", "softwareapplication", "person", "review",
            "aggregaterating", "imageobject", "videoobject", "jobposting", "store", "course")
#: Words of an address's path with a column of their own.
URL_WORDS = ("product", "products", "p", "dp", "item", "shop", "store", "buy", "docs", "doc",
             "documentation", "api", "reference", "guide", "guides", "manual", "learn", "tutorial",
             "forum", "forums", "thread", "threads", "topic", "topics", "t", "questions", "q",
             "community", "discussion", "category", "categories", "collections", "collection", "c",
             "tag", "tags", "search", "list", "blog", "news", "article", "articles", "story", "post",
             "posts", "services", "service", "solutions", "about", "pricing", "contact", "wiki", "help",
             "support", "kb", "r", "comments")
_URL_INDEX = {w: i for i, w in enumerate(URL_WORDS)}
_LD_INDEX = {w: i for i, w in enumerate(LD_TYPES)}
_OG_INDEX = {w: i for i, w in enumerate(OG_TYPES)}
_PATH_SPLIT = re.compile(r"[/\-_.?=&+,;:%]+")
_YEAR = re.compile(r"(?:19|20)\d\d")

#: The names of a page vector's columns, in order.
PAGE_FEATURE_NAMES = ([f"mean_{n}" for n in LINE_COLUMNS] + [f"wmean_{n}" for n in LINE_COLUMNS]
                      + ["log_lines", "log_chars"] + [f"og_{t or 'none'}" for t in OG_TYPES]
                      + [f"ld_{t}" for t in LD_TYPES] + [f"url_{w}" for w in URL_WORDS]
                      + ["url_depth", "url_numbers", "url_year"])


def meta_vector(meta: dict, url: str | None = None) -> np.ndarray:
    """The columns of a page vector that come from what the page says of itself."""
    og = np.zeros(len(OG_TYPES))
    i = _OG_INDEX.get((meta or {}).get("og_type") or "")
    if i is not None:
        og[i] = 1
    ld = np.zeros(len(LD_TYPES))
    for t in (meta or {}).get("ld_types") or ():
        j = _LD_INDEX.get(t)
        if j is not None:
            ld[j] = 1
    words = np.zeros(len(URL_WORDS))
    try:
        path = urlsplit(url or (meta or {}).get("url") or "").path.lower()
    except ValueError:  # a malformed address says nothing
        path = ""
    parts = [p for p in _PATH_SPLIT.split(path) if p]
    for p in parts:
        j = _URL_INDEX.get(p)
        if j is not None:
            words[j] = 1
    tail = [len(parts), sum(p.isdigit() for p in parts), any(_YEAR.fullmatch(p) for p in parts)]
    return np.concatenate([og, ld, words, np.array(tail, dtype=np.float64)])


def page_vectors(X: np.ndarray, metas: list[dict], urls: list[str | None] | None = None) -> np.ndarray:
    """One row of :data:`PAGE_FEATURE_NAMES` per page of a batch's feature
    matrix ``X`` (page ids ``0..len(metas)-1`` in column 0, as
    :func:`boilerclf.features.table.batch_features` makes it); ``metas`` and
    ``urls`` are the pages' :attr:`~boilerclf.parse.lines.Lines.meta` and
    caller-given addresses."""
    n = len(metas)
    page = X[:, 0].astype(np.int64) if len(X) else np.zeros(0, np.int64)
    bounds = np.searchsorted(page, np.arange(n + 1)).tolist()  # the rows of a page are contiguous
    chars = np.expm1(X[:, _C_CHARS])
    sums = np.zeros((n, 2, X.shape[1]))
    for i in range(n):  # per page, one matrix product (BLAS) gives its plain and weighted sums
        a, b = bounds[i], bounds[i + 1]
        if b > a:
            sums[i] = np.vstack([np.ones(b - a, np.float32), chars[a:b]]) @ X[a:b]
    count = np.diff(bounds).astype(np.float64)
    weight = np.bincount(page, weights=chars, minlength=n)
    means = sums[:, 0, _COLS] / np.maximum(count, 1)[:, None]
    wmeans = sums[:, 1, _COLS] / np.maximum(weight, 1)[:, None]
    urls = urls or [None] * n
    meta = np.array([meta_vector(m, u) for m, u in zip(metas, urls)]).reshape(n, -1)
    return np.hstack([means, wmeans, np.log1p(count)[:, None], np.log1p(weight)[:, None], meta])
