"""boilerclf: a learned boilerplate detector for web pages.

A page (HTML, or plain text) is split into lines, each line gets features,
and a classifier (gradient-boosted trees fitted with scikit-learn, predicted
in compiled code: extracting needs no scikit-learn) labels it content or
boilerplate with a score::

    import boilerclf
    text = boilerclf.extract(html)                 # the main text
    for line in boilerclf.classify(html).lines:    # every line, labelled
        print(line.score, line.label, line.text)
    boilerclf.classify(html).metadata              # title, author, date, site name, language, url

For many pages, make one :class:`Extractor` and call ``extract_many``; for a
cluster, ``clean_bag``, ``clean_dataframe`` and ``clean_files`` (``boilerclf[dask]``,
see :mod:`boilerclf.batch.cluster`).
Hand-checked labels live in a labels file (:func:`read_labels`,
:func:`write_labels`, :func:`page_record`; see :mod:`boilerclf.labels.file`).
A new site is taught with a :class:`SiteProfile` (its repeated lines, from
unlabelled pages) and a :class:`SiteModel` (a model adapted with a few
labelled pages; ``boilerclf train --base --add``, written only when it beats
the model it adapts).  :func:`explain` tells why each line got its score;
:func:`suggest_pages` which pre-filled pages of a crawl to label first.
"""
from __future__ import annotations

from pathlib import Path

from boilerclf.decide import decision
from boilerclf.decide.decision import Auto
from boilerclf.decide.profile import ProfileError, SiteProfile
from boilerclf.labels.file import LabelsError, page_record, read_labels, write_labels
from boilerclf.labels.suggest import Suggestion
from boilerclf.labels.suggest import suggest as suggest_pages
from boilerclf.model.files import ModelError
from boilerclf.model.files import load_model as _load_model
from boilerclf.model.fitted import LinePredictor, SitePredictor
from boilerclf.model.reasons import LineReasons
from boilerclf.parse.html import html_lines
from boilerclf.parse.lines import Lines
from boilerclf.parse.metadata import Metadata
from boilerclf.parse.text import text_lines
from boilerclf.pipeline import (
    MAX_BYTES,
    MAX_NODES,
    PRESETS,
    Extractor,
    InputError,
    Line,
    PageTimeout,
    Result,
)

__version__ = "0.1.0"
__all__ = [
    "extract", "extract_text", "classify", "load_model", "Extractor", "Result", "Line", "Metadata",
    "Lines", "LinePredictor", "SitePredictor", "ModelError", "InputError", "PageTimeout", "PRESETS", "Auto", "decision", "html_lines",
    "text_lines", "read_labels", "write_labels", "page_record", "LabelsError", "SiteProfile",
    "ProfileError", "MAX_BYTES", "MAX_NODES", "__version__", "explain", "LineReasons",
    "suggest_pages", "Suggestion",
]  # and, imported on first use (module __getattr__): LineClassifier, SiteModel, clean_bag, ...

_default: Extractor | None = None
_DASK = ("clean_bag", "clean_dataframe", "clean_files")


def __getattr__(name: str):
    """The names that need an extra, imported on first use:
    ``boilerclf.LineClassifier`` and ``boilerclf.SiteModel``, the estimators that
    fit models (scikit-learn, ``boilerclf[train]``); ``boilerclf.clean_bag`` /
    ``clean_dataframe`` / ``clean_files``: cleaning on a Dask cluster, from
    :mod:`boilerclf.batch.cluster` (``boilerclf[dask]``); ``boilerclf.dask_clean``
    is that module."""
    if name == "LineClassifier":
        from boilerclf.model.classifier import LineClassifier

        return LineClassifier
    if name == "SiteModel":
        from boilerclf.model.site import SiteModel

        return SiteModel
    if name in _DASK or name == "dask_clean":
        from boilerclf.batch import cluster

        return cluster if name == "dask_clean" else getattr(cluster, name)
    raise AttributeError(f"module 'boilerclf' has no attribute {name!r}")


def _extractor(threshold: float | str | Auto | None, site_profile=None, max_bytes: int | None = None,
               max_nodes: int | None = None, comments: bool = False, include_title: bool = False) -> Extractor:
    global _default
    if _default is None:
        _default = Extractor()
    if (threshold is None and site_profile is None and max_bytes is None and max_nodes is None
            and not comments and not include_title):
        return _default
    from boilerclf.pipeline import resolve_threshold

    ex = Extractor(threshold=threshold, site_profile=site_profile,
                   max_bytes=MAX_BYTES if max_bytes is None else max_bytes,
                   max_nodes=MAX_NODES if max_nodes is None else max_nodes, comments=comments,
                   include_title=include_title)
    for k, v in _default.__dict__.items():  # share the loaded models, not their thresholds
        if k.startswith("_m_"):
            ex.__dict__[k] = (v[0], resolve_threshold(threshold, v[0].threshold))
    return ex


def extract(html: str | bytes, *, url: str | None = None, threshold: float | str | Auto | None = None,
            charset: str | None = None, site_profile: str | Path | SiteProfile | None = None,
            max_bytes: int | None = None, max_nodes: int | None = None, comments: bool = False,
            timeout: float | None = None, include_title: bool = False) -> str:
    """The main text of an HTML page (str, or bytes in any charset).

    ``threshold`` is a score in 0..1, "auto" (a threshold chosen per page from
    its own scores, :mod:`boilerclf.decide.decision`; the shipped model's default) or
    a preset ("precision", "balanced" = "auto", "recall"); ``charset`` a hint
    such as the HTTP header's.  ``site_profile`` is a site profile (file or
    :class:`SiteProfile`, see ``boilerclf profile``) whose repeated lines are
    damped.  ``url`` is accepted for API stability
    and currently unused by the model.  ``max_bytes`` (default
    :data:`MAX_BYTES`, characters for str input) and ``max_nodes`` (default
    :data:`MAX_NODES`) cap the work on one page: the rest of a longer page is
    ignored (see :class:`Extractor`).  Readers' comment sections are dropped
    unless ``comments=True`` (then the model judges their lines).  The
    page's headline is left out of the body unless ``include_title=True``
    (then it stays in its place); ``classify(html).title`` gives it.

    ``timeout`` is a time budget for the page in seconds (wall clock; default
    None, no limit): past it, :class:`PageTimeout` is raised instead of
    returning, soon after the budget (the page is checked between the stages
    of the pipeline, each linear in the page's size).  ``PageTimeout`` is an
    :class:`InputError` and a ``TimeoutError``: a crawler that skips the pages
    it cannot read, ``except InputError``, skips these too.
    """
    return _extractor(threshold, site_profile, max_bytes, max_nodes, comments, include_title).extract(
        html, "html", charset, timeout=timeout)


def extract_text(text: str | bytes, *, threshold: float | str | Auto | None = None,
                 site_profile: str | Path | SiteProfile | None = None,
                 max_bytes: int | None = None, timeout: float | None = None, comments: bool = False) -> str:
    """The main text of an already-extracted plain-text page (one paragraph per line);
    ``timeout`` as in :func:`extract`.  A readers' comment section (from a
    heading such as "12 Comments" after the article to the end of the page)
    is dropped unless ``comments=True`` (then the model judges its lines)."""
    return _extractor(threshold, site_profile, max_bytes, None, comments).extract(text, "text", timeout=timeout)


def classify(page: str | bytes, *, kind: str | None = None, threshold: float | str | Auto | None = None,
             features: bool = False, charset: str | None = None,
             site_profile: str | Path | SiteProfile | None = None, max_bytes: int | None = None,
             max_nodes: int | None = None, comments: bool = False, timeout: float | None = None,
             include_title: bool = False) -> Result:
    """Every line of a page with its label and score (and features on request).

    ``kind`` is "html", "text" or None to detect it; ``site_profile``, the
    limits, ``comments``, ``timeout`` and ``include_title`` as in :func:`extract`;
    ``Result.truncated`` says whether the page ran over a limit.
    """
    return _extractor(threshold, site_profile, max_bytes, max_nodes, comments, include_title).classify(
        page, kind, features=features, charset=charset, timeout=timeout)


def load_model(path: str | Path, *, trusted: bool = False) -> LinePredictor | SitePredictor:
    """Load a model file (arrays + JSON, never unpickled), checking its feature schema.

    The model predicts (``decision_scores``, ``predict``, ``threshold``) without
    scikit-learn: a :class:`LinePredictor`, or a :class:`SitePredictor` for a site
    model; ``sklearn.base.clone`` of it is the :class:`LineClassifier` (or
    :class:`SiteModel`) with its settings, to train again.

    Raises :class:`ModelError` with a clear message for a file that does not
    fit.  A legacy joblib/pickle model file is refused unless ``trusted=True``:
    reading one runs code stored in it, so set that only for files whose
    origin you trust (and convert them with ``boilerclf convert-model``).
    """
    return _load_model(path, trusted=trusted)[0]


def explain(page: str | bytes, model: str | Path | LinePredictor | SitePredictor | None = None, *,
            kind: str = "html") -> tuple[Lines, LineReasons]:
    """Why each line of a page got its score: the page's :class:`Lines` and their
    :class:`LineReasons` (``reasons.top(i)``: line ``i``'s strongest inputs, with
    their values and their effects in log-odds, + towards content).

    ``page`` is HTML (``kind="html"``) or plain text (``kind="text"``);
    ``model`` a model file, a loaded model or None (the shipped model of
    ``kind``).  See :mod:`boilerclf.model.reasons` for the method.
    """
    from boilerclf.features.table import page_features
    from boilerclf.model.reasons import line_reasons

    if kind not in ("html", "text"):
        raise ValueError(f"kind must be 'html' or 'text', not {kind!r}")
    if model is None or isinstance(model, (str, Path)):
        model = _load_model(model, kind)[0]
    if isinstance(page, bytes):
        page = page.decode("utf-8", "replace")
    lines = html_lines(page) if kind == "html" else text_lines(page)
    return lines, line_reasons(model, page_features(lines, 0))
