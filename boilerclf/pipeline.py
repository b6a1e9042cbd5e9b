"""Scores to output: the predictor that runs the whole pipeline.

:class:`Extractor` holds a loaded model and runs source → lines → features →
model → output for one page or for a stream of pages; a batch of pages goes
through the model in one call.
"""
from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from boilerclf.decide import decision as _decision
from boilerclf.decide import rules as _cues
from boilerclf.decide.keep import kept_lines
from boilerclf.decide.profile import SiteProfile, load_profile
from boilerclf.features.table import FEATURE_NAMES, batch_features
from boilerclf.model.files import load_model
from boilerclf.model.scores import LineScores, SiteScores
from boilerclf.parse import html as html_mod
from boilerclf.parse import lines as _lines
from boilerclf.parse import markup as _markup
from boilerclf.parse import metadata as _metadata
from boilerclf.parse import text as text_mod
from boilerclf.parse.decode import InputError, looks_like_html, page_text_utf8

#: Presets, the precision / balanced / recall knob: thresholds chosen per page
#: (:mod:`boilerclf.decide.decision`) with recall weighed 0.3, 1 and 3 times precision.
PRESETS = {"precision": _decision.Auto(0.3), "balanced": _decision.Auto(1.0),
           "recall": _decision.Auto(3.0)}
#: Default cap on the bytes of one page (characters for str input); longer input is cut there.
MAX_BYTES = 20_000_000
#: Default cap on the DOM nodes walked per page (lines.MAX_NODES); the rest is ignored.
MAX_NODES = _lines.MAX_NODES


class PageTimeout(InputError, TimeoutError):
    """A page ran over its time budget (the ``timeout`` of :class:`Extractor`,
    :func:`boilerclf.extract`...): the page gets no result.

    Raised between the stages of the pipeline (decoding, markup guard, parsing
    and DOM walk, features, model), never in the middle of one: lexbor cannot
    be interrupted, but every stage takes time linear in the page (bounded by
    ``max_bytes``), so a page ends soon after its budget.  It is an
    :class:`InputError` (so code that skips bad pages skips it too) and a
    :class:`TimeoutError`.
    """


@dataclass
class Line:
    """One classified line."""

    text: str
    label: bool
    score: float
    tag: str = ""
    features: dict[str, float] | None = None


@dataclass
class Result:
    """The classified lines of one page.

    ``truncated``: the page ran over a limit of the :class:`Extractor` (bytes,
    DOM nodes, nesting depth, attributes per element) and was cut or flattened.
    """

    lines: list[Line]
    #: The page's headline as shown: the line the features place the title on
    #: (HTML; ``<title>`` itself when no line matches it), else the first line of a text page.
    title: str = ""
    kind: str = "html"
    truncated: bool = False
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: The page's threshold: lines scored at or above it are kept (with
    #: ``"auto"``, :mod:`boilerclf.decide.decision`, it differs from page to page).
    threshold: float = _decision.EMPTY_PAGE_THRESHOLD
    #: The index of the headline line in ``lines`` (HTML), -1 for none: it is
    #: kept or not by ``include_title``, whatever its score.
    headline: int = -1
    #: The page's type (HTML, with the shipped page-type model: "article",
    #: "forum", "product", "collection", "listing", "documentation" or
    #: "service"; "" when unknown) and the model's probability of each type.
    page_type: str = ""
    page_type_scores: dict[str, float] = field(default_factory=dict)
    #: Whether :attr:`markdown` and :attr:`html` show links and images (the
    #: ``links`` and ``images`` options of the :class:`Extractor`).
    links: bool = False
    images: bool = False
    #: The HTML the lines were made from, read again (only) for :attr:`markdown`
    #: and :attr:`html`; None for a text page.
    source: str | None = field(default=None, repr=False, compare=False)
    #: The DOM node cap the lines were made with (the walk for markdown uses it too).
    max_nodes: int = field(default=MAX_NODES, repr=False, compare=False)
    #: What the page's markup says of it, as read while parsing (the raw values
    #: :attr:`metadata` is made of: :attr:`boilerclf.parse.lines.Lines.head` and
    #: the lines near the headline).
    markup: dict = field(default_factory=dict, repr=False, compare=False)

    @functools.cached_property
    def metadata(self) -> _metadata.Metadata:
        """Title, author, date, site name, language and address of the page
        (:class:`boilerclf.parse.metadata.Metadata`), read from its markup on
        first use; a text page's has its title only."""
        if self.kind != "html":
            return _metadata.Metadata(title=self.title)
        tag = self.lines[self.headline].tag if 0 <= self.headline < len(self.lines) else ""
        return _metadata.page_metadata(self.markup, self.title, self.markup.get("window"), tag)

    @property
    def text(self) -> str:
        """The kept lines, one per line (the headline among them only with
        ``include_title=True``)."""
        return "\n".join(line.text for line in self.lines if line.label)

    @property
    def markdown(self) -> str:
        """The kept lines as markdown: headings, paragraphs, lists (nested),
        tables, code blocks, quotes, and links and images when the
        :class:`Extractor` was asked for them (see :meth:`to_markdown`)."""
        return self.to_markdown()

    @property
    def html(self) -> str:
        """The kept lines as clean HTML blocks (see :meth:`to_html`)."""
        return self.to_html()

    def to_markdown(self, *, links: bool | None = None, images: bool | None = None,
                    url: str | None = None) -> str:
        """The kept lines as markdown (:mod:`boilerclf.output.markdown`).

        Only kept lines are shown, with the structure of the page around them:
        ``#`` headings by level, paragraphs separated by blank lines, ``-`` and
        ``1.`` list items (nested), tables of data as GitHub tables (the first
        row as header), ``pre`` as fenced code blocks, ``>`` quotes.  ``links``
        (``[text](url)``) and ``images`` (``![alt](src)``) default to the
        Extractor's options (off).  Relative addresses are resolved against
        the page's ``<base href>``, its address ``url`` when given, else its
        canonical address.  A text page gives its headings, list items and
        paragraphs.
        """
        from boilerclf.output.markdown import to_markdown

        return to_markdown(self, links, images, url)

    def to_html(self, *, links: bool | None = None, images: bool | None = None, url: str | None = None,
                document: bool = False) -> str:
        """The kept lines as clean, minimal HTML (:mod:`boilerclf.output.html`):
        the blocks of :meth:`to_markdown` as ``h1``-``h6``, ``p``, lists,
        tables, ``pre``/``code`` and ``blockquote``, escaped, with no attribute
        but ``href``, ``src`` and ``alt``; ``url`` as in :meth:`to_markdown`;
        ``document``: a whole page with the title."""
        from boilerclf.output.html import to_html

        return to_html(self, links, images, url, document=document)


def check_limit(name: str, value: int) -> int:
    """``value`` if it is a positive integer, else ``ValueError`` naming the limit."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return int(value)


def check_timeout(timeout: float | None) -> float | None:
    """``timeout`` if it is None or a positive number of seconds, else ``ValueError``."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float, np.integer, np.floating)) \
            or not timeout > 0 or math.isnan(timeout):
        raise ValueError(f"timeout must be a positive number of seconds or None, not {timeout!r}")
    return float(timeout)


def check_deadline(deadline: float | None, stage: str) -> None:
    """Raise :class:`PageTimeout` if ``deadline`` (``time.monotonic()``) has passed."""
    if deadline is not None and time.monotonic() > deadline:
        raise PageTimeout(f"the page ran over its time budget ({stage} ended past it)")


def resolve_threshold(threshold: float | str | _decision.Auto | None,
                      default: float | str | _decision.Auto) -> float | _decision.Auto:
    """The decision for a ``threshold`` argument: a number, "auto" (also
    "auto:<recall weight>"), a preset name ("precision", "balanced", "recall"),
    or None for ``default`` (the model's own)."""
    if threshold is None:
        threshold = default
    if isinstance(threshold, str) and threshold in PRESETS:
        return PRESETS[threshold]
    try:
        return _decision.parse(threshold)
    except ValueError:
        raise ValueError(f"threshold must be a number from 0 to 1, 'auto' or one of {sorted(PRESETS)}, "
                         f"not {threshold!r}") from None


class Extractor:
    """A reusable, picklable extractor: the models load once, lazily.

    After the model, rules cap some lines' scores below every preset (see
    :mod:`boilerclf.decide.rules`): cross-reference lines, and in HTML the lines of
    hidden elements (``hidden``, ``display: none``) and of readers' comment
    sections.

    Parameters
    ----------
    model, text_model : path, optional
        Model files for HTML and plain-text input (default: the shipped ones).
    threshold : float, "auto" or preset name, optional
        Score at or above which a line is kept: a number, "auto" (a threshold
        per page chosen from the page's scores, :mod:`boilerclf.decide.decision`),
        or a preset, "precision", "balanced" (= "auto") or "recall".
        Default: the model's own (the shipped HTML model's is "auto").
    max_bytes : int
        Bytes of a page read at most (characters for str input; default
        20,000,000): the rest of a longer page is ignored.
    max_nodes : int
        DOM nodes walked at most per HTML page (default 200,000): the rest of
        the page is ignored.
    max_depth, max_attrs : int
        Elements nested deeper than ``max_depth`` (default 512) are flattened
        into their ancestor at that depth; attributes after an element's first
        ``max_attrs`` (default 256) are ignored (see :mod:`boilerclf.parse.guard`).
    site_profile : path or :class:`~boilerclf.decide.profile.SiteProfile`, optional
        Lines that repeat across the site's pages (``boilerclf profile``);
        their scores are damped after the model (see :mod:`boilerclf.decide.profile`).
    xref_rule : bool, default True
        Cap the score of cross-reference lines ("See also: …", "Read more: …",
        "Related: …", see :mod:`boilerclf.decide.rules`) below every preset, so they
        are dropped whatever the model says.
    comments : bool, default False
        Keep readers' comment sections to the model's judgement.  By default
        the lines of a comment section (an element whose class or id starts
        with "comment", a Disqus thread; not inside an ``<article>``; in plain
        text, the lines from a heading such as "12 Comments" after the article
        on) are capped below every preset, as the article convention wants (see
        :mod:`boilerclf.decide.rules`).
    trusted : bool, default False
        Also accept legacy joblib/pickle model files.  Reading one runs code
        stored in it: set this only for files whose origin you trust.
    timeout : float, optional
        Seconds (wall clock) one page may take in :meth:`lines`, :meth:`classify`
        and :meth:`extract` (each also takes its own ``timeout``); past it they
        raise :class:`PageTimeout`.  Default None: no limit.
    include_title : bool, default False
        Keep an HTML page's headline (``Result.title``) in the main text, in its
        place.  By default the body comes without it, as most extractors and
        benchmarks of today's pages give it; whatever the model scores it.
    page_types : bool, default True
        Tell each HTML page's type in :meth:`classify` (``Result.page_type``)
        with the shipped page-type model (:mod:`boilerclf.model.pagetype`).
    links, images : bool, default False
        Show links as ``[text](url)`` and images as ``![alt](src)`` in
        ``Result.markdown`` (``<a href>`` and ``<img>`` in ``Result.html``).
        Off by default: for retrieval and language-model corpora, addresses
        are tokens that carry little meaning; the link's text stays either way.

    A page that runs over any limit is still classified, and its
    :class:`Result` says ``truncated``.  Limits must be positive integers
    (``ValueError`` otherwise).
    """

    def __init__(self, model: str | Path | None = None, text_model: str | Path | None = None,
                 threshold: float | str | None = None, max_bytes: int = MAX_BYTES,
                 max_nodes: int = MAX_NODES, max_depth: int = _markup.MAX_DEPTH,
                 max_attrs: int = _markup.MAX_ATTRS,
                 site_profile: str | Path | SiteProfile | None = None, trusted: bool = False,
                 xref_rule: bool = True, comments: bool = False, timeout: float | None = None,
                 include_title: bool = False, page_types: bool = True, links: bool = False,
                 images: bool = False):
        self.model = model
        self.text_model = text_model
        if threshold is not None:
            resolve_threshold(threshold, 0.5)  # a bad threshold fails here, not at the first page
        self.threshold = threshold
        self.max_bytes = check_limit("max_bytes", max_bytes)
        self.max_nodes = check_limit("max_nodes", max_nodes)
        self.max_depth = check_limit("max_depth", max_depth)
        self.max_attrs = check_limit("max_attrs", max_attrs)
        self.site_profile = load_profile(site_profile)
        self.trusted = trusted
        self.xref_rule = bool(xref_rule)
        self.comments = bool(comments)
        self.timeout = check_timeout(timeout)
        self.include_title = bool(include_title)
        self.page_types = bool(page_types)
        self.links = bool(links)
        self.images = bool(images)

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def model_for(self, kind: str) -> tuple[LineScores | SiteScores, float | _decision.Auto]:
        """The model of ``kind`` ("html" or "text") and its decision, loaded once."""
        attr = "_m_" + kind
        got = self.__dict__.get(attr)
        if got is None:
            path = self.model if kind == "html" else self.text_model
            model, _ = load_model(path, kind, trusted=getattr(self, "trusted", False))
            got = (model, resolve_threshold(self.threshold, model.threshold))
            self.__dict__[attr] = got
        return got

    # -- one page -----------------------------------------------------------
    def lines(self, page: str | bytes, kind: str | None = None, charset: str | None = None, *,
              timeout: float | None = None) -> _lines.Lines:
        """Split a page into lines (kind "html", "text" or None to detect).

        ``timeout``: seconds for this page (default: the Extractor's), else
        :class:`PageTimeout`."""
        return self._lines(page, kind, charset, self._deadline(timeout))

    def _deadline(self, timeout: float | None) -> float | None:
        timeout = check_timeout(timeout) if timeout is not None else getattr(self, "timeout", None)
        return None if timeout is None else time.monotonic() + timeout

    def _lines(self, page: str | bytes, kind: str | None, charset: str | None,
               deadline: float | None) -> _lines.Lines:
        if kind not in (None, "html", "text"):
            raise InputError(f"kind must be 'html' or 'text', not {kind!r}")
        if charset is not None and not isinstance(charset, str):
            raise InputError(f"charset must be a str or None, not {type(charset).__name__}")
        page, cut, utf8 = page_text_utf8(page, charset, self.max_bytes)
        check_deadline(deadline, "decoding")
        if kind is None:
            kind = "html" if looks_like_html(page) else "text"
        if kind == "html":
            text, guarded, utf8 = html_mod.guarded_text(page, charset, self.max_depth, self.max_attrs, utf8)
            check_deadline(deadline, "the markup guard")
            out = html_mod.parse_lines(text, guarded, utf8, max_nodes=self.max_nodes)
        else:
            out = text_mod.text_lines(page)
        check_deadline(deadline, "parsing")
        out.truncated = out.truncated or cut
        return out

    def classify(self, page: str | bytes, kind: str | None = None, *, features: bool = False,
                 charset: str | None = None, timeout: float | None = None) -> Result:
        """Classify every line of a page (see :class:`Result`); ``timeout`` as in :meth:`lines`."""
        deadline = self._deadline(timeout)
        return self._results([self._lines(page, kind, charset, deadline)], features, deadline)[0]

    def extract(self, page: str | bytes, kind: str | None = None, charset: str | None = None, *,
                timeout: float | None = None) -> str:
        """The main text of a page (``classify(page).text``, without building a
        :class:`Line` per line); ``timeout`` as in :meth:`lines`."""
        deadline = self._deadline(timeout)
        return self._texts([self._lines(page, kind, charset, deadline)], deadline)[0]

    # -- many pages ---------------------------------------------------------
    def page_type_model(self):
        """The page-type model (:mod:`boilerclf.model.pagetype`), loaded once; None when
        there is none (``Extractor(page_types=False)``, or no shipped page-type model)."""
        got = self.__dict__.get("_pagetype_model", False)
        if got is False:
            got = None
            if getattr(self, "page_types", True):
                from boilerclf.model import pagetype
                from boilerclf.model.files import ModelError, shipped_model_path

                try:
                    got = pagetype.load(shipped_model_path(pagetype.SHIPPED_PAGETYPE))[0]
                except ModelError:  # not shipped here
                    got = None
            self.__dict__["_pagetype_model"] = got
        return got

    def _score(self, pages: list[_lines.Lines], *, features: bool = False, deadline: float | None = None,
               page_types: bool = False
               ) -> list[tuple[np.ndarray, float, np.ndarray, np.ndarray | None, int, dict] | None]:
        """Per page ``(scores, threshold, kept, feature matrix if asked,
        headline line or -1, page-type probabilities if asked)``, None for a page without lines; pages of one kind
        go through the model in one call.  The scores are final: cross-reference
        rule and site profile applied; the threshold is the page's own (chosen
        from its scores for "auto"); ``kept`` is :func:`kept_lines`' decision."""
        out: list = [None] * len(pages)
        for kind in ("html", "text"):
            nonempty = [i for i, p in enumerate(pages) if p.kind == kind and len(p)]
            if not nonempty:
                continue
            model, thr = self.model_for(kind)
            X = batch_features([pages[i] for i in nonempty])
            check_deadline(deadline, "the features")
            with _one_thread():
                raw = model.decision_scores(X)
            check_deadline(deadline, "the model")
            texts = list(itertools.chain.from_iterable(pages[i].texts for i in nonempty))
            markup = None
            if kind == "html":
                markup = _cues.markup_codes(np.concatenate([pages[i].hints for i in nonempty]),
                                           np.concatenate([pages[i].flags for i in nonempty]),
                                           comments=getattr(self, "comments", False))
            kept = kept_lines(raw, X, texts, thr, markup=markup, xref_rule=getattr(self, "xref_rule", True),
                              profile=self.site_profile,
                              headline=getattr(self, "include_title", False) if kind == "html" else None,
                              comment_tail=kind == "text" and not getattr(self, "comments", False))
            heads = kept.headlines.tolist()
            types: list[dict] = [{} for _ in nonempty]
            ptm = self.page_type_model() if page_types and kind == "html" else None
            if ptm is not None:
                from boilerclf.features.page import page_vectors

                proba = ptm.predict_proba(page_vectors(X, [html_mod.page_meta(pages[i]) for i in nonempty]))
                proba = proba.tolist()
                types = [dict(zip(ptm.classes_.tolist(), pr)) for pr in proba]
            for j, (i, a, b) in enumerate(zip(nonempty, kept.starts[:-1].tolist(), kept.starts[1:].tolist())):
                out[i] = (kept.scores[a:b], float(kept.thresholds[a]), kept.keep[a:b],
                          X[a:b] if features else None, heads[j] - a if heads[j] >= 0 else -1, types[j])
        return out

    def classify_lines(self, pages: list[_lines.Lines], *, features: bool = False) -> list[Result]:
        """Classify already-split pages; pages of one kind go through the model in one call."""
        return self._results(pages, features, None)

    def _results(self, pages: list[_lines.Lines], features: bool, deadline: float | None) -> list[Result]:
        results = []
        sources = [p.source for p in pages]  # the page-type model lets go of them
        links, images = getattr(self, "links", False), getattr(self, "images", False)
        for p, src, got in zip(pages, sources,
                               self._score(pages, features=features, deadline=deadline, page_types=True)):
            check_deadline(deadline, "the model")
            markup = page_markup(p, -1 if got is None else got[4])
            if got is None:
                results.append(Result([], p.title, p.kind, p.truncated, links=links, images=images, markup=markup))
                continue
            s, thr, keep, feats, head, types = got
            # Python scalars from whole arrays: per-element numpy scalars cost
            # about as much as the tree predictor
            tags = [_lines.BLOCK_TAGS[tg] for tg in p.tag.tolist()]
            keep = keep.tolist()
            if features:
                out = [Line(t, k, sc, tg, dict(zip(FEATURE_NAMES, f)))
                       for t, k, sc, tg, f in zip(p.texts, keep, s.tolist(), tags, feats.tolist())]
            else:
                out = [Line(t, k, sc, tg) for t, k, sc, tg in zip(p.texts, keep, s.tolist(), tags)]
            title = p.texts[head] if head >= 0 and p.kind == "html" else p.title
            results.append(Result(out, title, p.kind, p.truncated, s, thr, head if p.kind == "html" else -1,
                                  max(types, key=types.get) if types else "", types, links, images,
                                  src if p.kind == "html" else None, self.max_nodes, markup))
        return results

    def texts_of(self, pages: list[_lines.Lines]) -> list[str]:
        """The main text of already-split pages (what ``classify_lines(...)[i].text``
        gives, without building a :class:`Line` per line)."""
        return self._texts(pages, None)

    def _texts(self, pages: list[_lines.Lines], deadline: float | None) -> list[str]:
        return ["" if got is None else "\n".join(itertools.compress(p.texts, got[2].tolist()))
                for p, got in zip(pages, self._score(pages, deadline=deadline))]

    def extract_many(self, pages: Iterable[str | bytes], *, kind: str | None = None,
                     batch_size: int = 64, n_jobs: int = 1) -> Iterator[str]:
        """Main texts of many pages, streamed in input order.

        Pages go through the model ``batch_size`` at a time; with ``n_jobs > 1``
        batches are spread over worker processes (each loads the model once).
        Workers forked from this process get a list or tuple of pages with the
        fork, not through a pipe (faster; they read it as it was when they
        started); any other iterable is read lazily and sent batch by batch.
        """
        if n_jobs <= 1:
            for batch in _batched(pages, batch_size):
                yield from self._extract_batch(batch, kind)
            return
        from boilerclf.processes import WorkerPool, start_context

        # workers fork from this process when it runs no other thread (they
        # start in milliseconds, with the model code imported and the models
        # loaded); otherwise
        # from a forkserver, as a child of a process that already runs OpenMP
        # threads can hang in them.  A list or tuple of pages reaches forked
        # workers with the fork itself: they are sent index ranges, not the
        # pages (no pickling, no pipe).
        ctx = start_context(initial=True)
        shared = pages if type(pages) in (list, tuple) and ctx.get_start_method() == "fork" else None
        pool = WorkerPool(n_jobs, functools.partial(_setup_worker, self, shared), _run_job, ctx=ctx)
        ok = False
        try:
            pool.wait_ready()
            if shared is not None:
                step = max(1, batch_size)
                jobs: Iterator[tuple] = (("range", i, i + step, kind)
                                         for i in range(0, len(shared), step))
            else:
                jobs = (("pages", batch, kind) for batch in _batched(pages, batch_size))
            done: dict[int, list[str]] = {}
            sent = next_out = 0
            exhausted = False
            while True:
                for w in pool.idle():
                    if exhausted or sent - next_out >= 2 * n_jobs:
                        break
                    job = next(jobs, None)
                    if job is None:
                        exhausted = True
                        break
                    pool.submit(w, sent, job)
                    sent += 1
                while next_out in done:
                    yield from done.pop(next_out)
                    next_out += 1
                if exhausted and next_out == sent:
                    break
                for i, texts in pool.poll(1.0):
                    done[i] = texts
            ok = True
        finally:
            pool.close(kill=not ok)

    def _extract_batch(self, batch: list, kind: str | None) -> list[str]:
        return self.texts_of([self.lines(p, kind) for p in batch])


def page_markup(p: _lines.Lines, head: int) -> dict:
    """The raw metadata of an HTML page (:attr:`Result.markup`): its
    :attr:`~boilerclf.parse.lines.Lines.head` values, JSON-LD scripts and, under
    ``"window"``, the lines near its headline line
    ``head`` (the page's first lines when it has none); {} for a text page."""
    if p.kind != "html":
        return {}
    html_mod.page_meta(p)  # reads the JSON-LD scripts (once), lets the source go
    lo = max(0, head - _metadata.BYLINE_BEFORE) if head >= 0 else 0
    hi = (head if head >= 0 else 0) + _metadata.BYLINE_AFTER + 1
    flags = (p.flags[lo:hi] & _lines.FLAG["time"]).astype(bool).tolist()
    hints = (p.hints[lo:hi] & _lines.HINT["author"]).astype(bool).tolist()
    return dict(p.head, window=[(i - max(head, 0), t, f, h) for i, t, f, h
                                in zip(range(lo, hi), p.texts[lo:hi], flags, hints) if i != head])


_controller = None


def _one_thread():
    """Limit OpenMP to one thread around a model call.

    Page-sized inputs are faster on one thread, and scikit-learn's OpenMP
    threads slow everything down badly on a busy machine;
    use ``n_jobs`` processes for parallelism instead."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="openmp")


def _batched(it: Iterable, n: int) -> Iterator[list]:
    it = iter(it)
    while batch := list(itertools.islice(it, max(1, n))):
        yield batch


def _setup_worker(ex: Extractor, pages: list | tuple | None) -> tuple:
    from boilerclf.processes import prepare_worker

    prepare_worker(ex)
    return ex, pages


def _run_job(state: tuple, job: tuple, notify) -> list[str]:
    ex, pages = state
    if job[0] == "range":
        return ex._extract_batch(list(pages[job[1]:job[2]]), job[3])
    return ex._extract_batch(job[1], job[2])
