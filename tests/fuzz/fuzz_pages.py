"""Fuzzing harness: the HTML and text front ends on arbitrary bytes.

Long runs, with atheris (coverage-guided; ``pip install -e '.[fuzz]'``, Linux
x86-64 wheels for CPython 3.8-3.11)::

    mkdir corpus && cp tests/fixtures/* corpus/       # seeds (libFuzzer adds its finds there)
    python tests/fuzz/fuzz_pages.py -max_len=65536 -timeout=20 -rss_limit_mb=4096 corpus/
    python tests/fuzz/fuzz_pages.py -runs=2000 -seed=1 corpus/   # a bounded run (.ci/run does this)

Only boilerclf and charset-normalizer are instrumented for coverage (not
numpy or scikit-learn: instrumenting them costs a minute at start-up).

The same :func:`check_one_input` runs in the test suite on a fixed number of
hypothesis examples (``tests/test_fuzz.py``), so CI exercises it without atheris.

The first byte of an input picks the front end (HTML bytes, HTML str, plain
text, detection) and a charset hint; the rest is the page.  Nothing may
escape but :class:`boilerclf.InputError`, and every result must be
well-formed: one score in [0, 1] per line, non-empty single-line texts, one
feature row per line.
"""
from __future__ import annotations

import math
import sys

import numpy as np

CHARSETS = (None, "utf-8", "shift_jis", "cp1252", "utf-16", "koi8-r", "no-such-charset", "gb18030")
KINDS = ("html", "html-str", "text", None)

#: The extractor under test; the shipped models unless a test sets its own.
EXTRACTOR = None


def _extractor():
    global EXTRACTOR
    if EXTRACTOR is None:
        from boilerclf import Extractor

        EXTRACTOR = Extractor()
    return EXTRACTOR


def check_one_input(data: bytes) -> None:
    """Run one input through lines, features and the model; assert the result is sane."""
    from boilerclf import InputError
    from boilerclf.features import page_features

    ex = _extractor()
    if not data:
        return
    mode, page = data[0], data[1:]
    kind = KINDS[mode % len(KINDS)]
    charset = CHARSETS[(mode >> 2) % len(CHARSETS)]
    if kind == "html-str":
        page, kind = page.decode("utf-8", "surrogateescape"), "html"
    try:
        lines = ex.lines(page, kind, charset)
    except InputError:
        return
    assert lines.kind in ("html", "text")
    assert all(t and "\n" not in t and t == t.strip() for t in lines.texts), lines.texts[:5]
    X = page_features(lines)
    assert X.shape[0] == len(lines) and np.isfinite(X).all()
    (result,) = ex.classify_lines([lines])
    assert len(result.lines) == len(lines)
    assert all(0.0 <= ln.score <= 1.0 and not math.isnan(ln.score) for ln in result.lines)
    assert isinstance(result.text, str)


def main(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["boilerclf", "charset_normalizer"]):  # not scikit-learn
        import boilerclf  # noqa: F401
        import boilerclf.features  # noqa: F401
    _extractor()._get("html")
    _extractor()._get("text")
    atheris.Setup(argv, check_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
