"""boilerclf: a learned boilerplate detector for web pages.

A page (HTML, or plain text) is split into lines, each line gets features,
and a scikit-learn classifier labels it content or boilerplate with a score::

    import boilerclf
    text = boilerclf.extract(html)                 # the main text
    for line in boilerclf.classify(html).lines:    # every line, labelled
        print(line.score, line.label, line.text)

For many pages, make one :class:`Extractor` and call ``extract_many``.
"""
from __future__ import annotations

from pathlib import Path

from .extract import MAX_BYTES, MAX_NODES, PRESETS, Extractor, InputError, Line, Result
from .extract import load_model as _load_model
from .lines import Lines, html_lines, text_lines
from .model import LineClassifier, ModelError

__version__ = "0.1.0"
__all__ = [
    "extract", "extract_text", "classify", "load_model", "Extractor", "Result", "Line",
    "Lines", "LineClassifier", "ModelError", "InputError", "PRESETS", "html_lines",
    "text_lines", "MAX_BYTES", "MAX_NODES", "__version__",
]

_default: Extractor | None = None


def _extractor(threshold: float | str | None, max_bytes: int | None = None,
               max_nodes: int | None = None) -> Extractor:
    global _default
    if _default is None:
        _default = Extractor()
    if threshold is None and max_bytes is None and max_nodes is None:
        return _default
    from .extract import resolve_threshold

    ex = Extractor(threshold=threshold, max_bytes=MAX_BYTES if max_bytes is None else max_bytes,
                   max_nodes=MAX_NODES if max_nodes is None else max_nodes)
    for k, v in _default.__dict__.items():  # share the loaded models, not their thresholds
        if k.startswith("_m_"):
            ex.__dict__[k] = (v[0], resolve_threshold(threshold, v[0].threshold))
    return ex


def extract(html: str | bytes, *, url: str | None = None, threshold: float | str | None = None,
            charset: str | None = None, max_bytes: int | None = None,
            max_nodes: int | None = None) -> str:
    """The main text of an HTML page (str, or bytes in any charset).

    ``threshold`` is a score in 0..1 or a preset ("precision", "balanced",
    "recall"); ``charset`` a hint such as the HTTP header's.  ``url`` is
    accepted for API stability and currently unused by the model.
    ``max_bytes`` (default :data:`MAX_BYTES`, characters for str input) and
    ``max_nodes`` (default :data:`MAX_NODES`) cap the work on one page: the
    rest of a longer page is ignored (see :class:`Extractor`).
    """
    return _extractor(threshold, max_bytes, max_nodes).extract(html, "html", charset)


def extract_text(text: str | bytes, *, threshold: float | str | None = None,
                 max_bytes: int | None = None) -> str:
    """The main text of an already-extracted plain-text page (one paragraph per line)."""
    return _extractor(threshold, max_bytes).extract(text, "text")


def classify(page: str | bytes, *, kind: str | None = None, threshold: float | str | None = None,
             features: bool = False, charset: str | None = None, max_bytes: int | None = None,
             max_nodes: int | None = None) -> Result:
    """Every line of a page with its label and score (and features on request).

    ``kind`` is "html", "text" or None to detect it.  Limits as in
    :func:`extract`; ``Result.truncated`` says whether the page ran over one.
    """
    return _extractor(threshold, max_bytes, max_nodes).classify(page, kind, features=features,
                                                                charset=charset)


def load_model(path: str | Path) -> LineClassifier:
    """Load a model file, checking its schema and scikit-learn version.

    Raises :class:`ModelError` with a clear message for a file that does not fit.
    """
    return _load_model(path)[0]
