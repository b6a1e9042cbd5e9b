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
text, detection) and a charset hint; the rest is the page.  With its high bit
set, the page is the rest after the second byte repeated (second byte x 16 + 1
times, up to :data:`MAX_REPEAT` bytes): short inputs then make long runs of
misnested markup, such as ``<b><a href=x>`` or ``<p><font color=1>x</p>``,
which the parser repairs with work that grows with the run.  :data:`SEEDS`
and :data:`DICTIONARY` start the fuzzer on such runs (``main`` adds them to
the first corpus directory and passes the dictionary to libFuzzer unless it
is given ``-dict=``).

Nothing may escape but :class:`boilerclf.InputError`, every page must be
split within :data:`TIME_BUDGET` seconds, and every result must be
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
#: Seconds a page may take to be split into lines (far above what a linear parse of
#: MAX_REPEAT bytes takes: a page past it is a hang).
TIME_BUDGET = 20.0
#: Bytes of a page made by repetition, at most.
MAX_REPEAT = 1 << 18
REPEAT = 0x80

#: Markup the parser repairs: formatting elements (kept on its list of active
#: formatting elements and reopened after implicit closes), the elements that
#: close them implicitly, markers (cells, object, marquee, template) and svg.
DICTIONARY = (
    b"<a href=x>", b"</a>", b"<a>", b"<b>", b"</b>", b"<i>", b"</i>", b"<u>", b"<s>", b"<em>", b"</em>",
    b"<strong>", b"<small>", b"<big>", b"<tt>", b"<code>", b"<strike>", b"<nobr>", b"</nobr>",
    b"<font color=1>", b"<font face=x>", b"</font>", b"<b id=1>", b"<b class=x>", b"<p>", b"</p>",
    b"<div>", b"</div>", b"<li>", b"<ul>", b"<table>", b"<tr>", b"<td>", b"</td>", b"<caption>",
    b"<object>", b"</object>", b"<marquee>", b"<template>", b"<svg>", b"</svg>", b"<span>", b"</br>",
    b"<h1>", b"<form>", b"</form>", b"x",
)
#: Inputs in repeat mode (see the module docstring) for misnesting shapes.
SEEDS = tuple(bytes([REPEAT | mode, reps]) + unit for mode, reps, unit in (
    (0, 255, b"<b><a href=x>"),
    (1, 255, b"<b><i>x</b>"),
    (0, 200, b"<p><b><i>x</p>"),
    (4, 255, b"<b><p><i>x</b>y</p>"),
    (0, 255, b"<a href=x><div>x"),
    (3, 255, b"<ul><li><a href=x>item"),
    (0, 255, b"<nobr>x"),
    (0, 255, b"<table><b><tr><td>x"),
    (1, 255, b"<td><div></td>"),
    (0, 255, b"<p><svg><font color=1></p>"),
    (0, 255, b"<b><div>x</b>"),
))


def _extractor():
    global EXTRACTOR
    if EXTRACTOR is None:
        from boilerclf import Extractor

        EXTRACTOR = Extractor()
    return EXTRACTOR


def check_one_input(data: bytes) -> None:
    """Run one input through lines, features and the model; assert the result is sane."""
    from boilerclf import InputError, PageTimeout
    from boilerclf.features.table import page_features

    ex = _extractor()
    if not data:
        return
    mode, page = data[0], data[1:]
    if mode & REPEAT and len(page) > 1:
        unit = page[1:]
        page = unit * min(page[0] * 16 + 1, MAX_REPEAT // len(unit))
    kind = KINDS[mode % len(KINDS)]
    charset = CHARSETS[(mode >> 2) % len(CHARSETS)]
    if kind == "html-str":
        page, kind = page.decode("utf-8", "surrogateescape"), "html"
    try:
        lines = ex.lines(page, kind, charset, timeout=TIME_BUDGET)
    except PageTimeout:
        raise AssertionError(f"a page of {len(page)} bytes took over {TIME_BUDGET} s") from None
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
        import boilerclf.features.table  # noqa: F401
    _extractor().model_for("html")
    _extractor().model_for("text")
    argv = add_seeds(argv)
    atheris.Setup(argv, check_one_input)
    atheris.Fuzz()


def add_seeds(argv: list[str]) -> list[str]:
    """Write :data:`SEEDS` into the first corpus directory of a libFuzzer command
    line, and pass :data:`DICTIONARY` with ``-dict=`` unless one is given."""
    import os
    import tempfile

    dirs = [a for a in argv[1:] if not a.startswith("-") and os.path.isdir(a)]
    if dirs:
        for k, seed in enumerate(SEEDS):
            with open(os.path.join(dirs[0], f"seed-misnested-{k}"), "wb") as f:
                f.write(seed)
    if not any(a.startswith("-dict=") for a in argv):
        path = os.path.join(tempfile.gettempdir(), "boilerclf-fuzz-misnested.dict")  # rewritten each run
        with open(path, "w") as f:
            f.writelines('"' + "".join(f"\\x{b:02x}" for b in token) + '"\n' for token in DICTIONARY)
        argv = argv + [f"-dict={path}"]
    return argv


if __name__ == "__main__":
    main(sys.argv)
