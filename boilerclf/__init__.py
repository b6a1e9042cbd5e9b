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

from .extract import PRESETS, Extractor, InputError, Line, Result
from .extract import load_model as _load_model
from .lines import Lines, html_lines, text_lines
from .model import LineClassifier, ModelError

__version__ = "0.1.0"
__all__ = [
    "extract", "extract_text", "classify", "load_model", "Extractor", "Result", "Line",
    "Lines", "LineClassifier", "ModelError", "InputError", "PRESETS", "html_lines",
    "text_lines", "__version__",
]

_default: Extractor | None = None


def _extractor(threshold: float | str | None) -> Extractor:
    global _default
    if _default is None:
        _default = Extractor()
    if threshold is None:
        return _default
    from .extract import resolve_threshold

    ex = Extractor(threshold=threshold)
    for k, v in _default.__dict__.items():  # share the loaded models, not their thresholds
        if k.startswith("_m_"):
            ex.__dict__[k] = (v[0], resolve_threshold(threshold, v[0].threshold))
    return ex


def extract(html: str | bytes, *, url: str | None = None, threshold: float | str | None = None,
            charset: str | None = None) -> str:
    """The main text of an HTML page (str, or bytes in any charset).

    ``threshold`` is a score in 0..1 or a preset ("precision", "balanced",
    "recall"); ``charset`` a hint such as the HTTP header's.  ``url`` is
    accepted for API stability and currently unused by the model.
    """
    return _extractor(threshold).extract(html, "html", charset)


def extract_text(text: str | bytes, *, threshold: float | str | None = None) -> str:
    """The main text of an already-extracted plain-text page (one paragraph per line)."""
    return _extractor(threshold).extract(text, "text")


def classify(page: str | bytes, *, kind: str | None = None, threshold: float | str | None = None,
             features: bool = False, charset: str | None = None) -> Result:
    """Every line of a page with its label and score (and features on request).

    ``kind`` is "html", "text" or None to detect it.
    """
    return _extractor(threshold).classify(page, kind, features=features, charset=charset)


def load_model(path: str | Path, *, trusted: bool = False) -> LineClassifier:
    """Load a model file (arrays + JSON, never unpickled), checking its feature schema.

    Raises :class:`ModelError` with a clear message for a file that does not
    fit.  A legacy joblib/pickle model file is refused unless ``trusted=True``:
    reading one runs code stored in it, so set that only for files whose
    origin you trust (and convert them with ``boilerclf convert-model``).
    """
    return _load_model(path, trusted=trusted)[0]
