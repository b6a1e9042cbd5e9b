"""Hostile input: what the web can return does not crash, hang or blow up memory.

Each page here is built in memory.  Times are measured as ratios (a page
against the same page ten times larger, best of several runs, CPU time of
this process), never as absolute seconds, so a busy machine does not fail them.
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf import Extractor, InputError, PageTimeout
from boilerclf.parse import guard, markup
from boilerclf.parse.html import html_lines

try:
    from boilerclf.parse import _cguard
except ImportError:  # pragma: no cover - the extension is built by pip install
    _cguard = None
IN_CI = os.environ.get("CI") == "true"
needs_cguard = pytest.mark.skipif(_cguard is None and not IN_CI, reason="boilerclf.parse._cguard not built")


def deep(n: int, tag: str = "div") -> str:
    return "<html><body>" + f"<{tag}>" * n + "<p>deep text at the bottom.</p>" + f"</{tag}>" * n + \
        "<p>after the deep part.</p></body></html>"


def many_attrs(n: int) -> str:
    return "<html><body><div " + " ".join(f"a{i}=v" for i in range(n)) + \
        " class=content>text of the element.</div><p>after.</p></body></html>"


PARA = ("<div class='post'><h2>A heading of the story</h2><p>Some words of a paragraph, "
        "long enough to count as text.</p><ul class=nav><li><a href='/x'>link</a></li></ul></div>\n")


# ------------------------------------------------------------------ the guard


def test_guard_flattens_deep_nesting_and_keeps_the_text():
    page = deep(100_000)
    cuts = guard.guard(page) if _cguard is None else _cguard.guard(page)
    assert len(cuts) == 100_000 - markup.MAX_DEPTH + 1  # the divs past the limit, and the p
    L = html_lines(page)
    assert L.texts == ["deep text at the bottom.", "after the deep part."]
    assert L.truncated
    assert L.depth.max() <= markup.MAX_DEPTH + 2


def test_guard_keeps_the_first_attributes():
    page = many_attrs(10_000)
    text, changed = guard.apply(page)
    assert changed and len(text) < 3000
    assert f"a{markup.MAX_ATTRS - 1}=v" in text and f"a{markup.MAX_ATTRS}=v" not in text
    L = html_lines(page)
    assert L.texts == ["text of the element.", "after."] and L.truncated


@pytest.mark.parametrize("page", [
    "<table>" + "<tr><td>cell<td><b>bold</b>" * 3000 + "</table>",     # unclosed cells and rows
    "<body>" + "<p>paragraph " * 3000,                                  # unclosed paragraphs
    "<ul>" + "<li>item " * 3000 + "</ul>",                              # unclosed items
    "<dl>" + "<dt>term<dd>definition " * 2000 + "</dl>",
    "<select>" + "<option>x" * 3000 + "</select>",
    "<div>" + "<span><a href=x>link</a></span>" * 3000 + "</div>",
    "<svg>" + "<path d='M0'/><g><circle/></g>" * 2000 + "</svg><p>after</p>",
    "<script>" + "if (a<b && c<d) { x = '<div>'; }" * 2000 + "</script><p>after</p>",
    "<!-- " + "<div>" * 3000 + " -->" + "<p>after</p>",
    "<div>" * 500 + "text" + "</div>" * 500,                            # deep, but under the limit
    "<p><b>bold that is never closed</p>" + "<p>paragraph</p>" * 3000,  # reopened in every paragraph
    "<p><font face=arial size=2>text</p>" * 3000,                       # at most three identical kept
    "<table>" + "<tr><td><font size=2><b>cell" * 3000 + "</table>",     # cleared with each cell
    "<a href=x><div>a block link</div></a>" * 2000,
    "<ul>" + "<li><a href=x>item</a> <b>x</b><i>y</i>" * 3000 + "</ul>",
    "<b><i><u><s><em><strong><tt><code>" * 7 + "text",                 # 56 formatting elements open
    "<p>" + "<a href=x>link <b>bold</a> after</b> " * 2000 + "</p>",    # misnested, closed again
])
def test_guard_leaves_ordinary_markup_alone(page):
    """Legacy markup with thousands of implicitly closed elements is not flattened."""
    assert guard.guard(page) == []
    if _cguard is not None:
        assert _cguard.guard(page) == []
    assert guard.apply(page) == (page, False)


@pytest.mark.parametrize("page", [
    "<li><ul></li>" * 2000,          # </li> outside its list scope is ignored by the parser
    "<option><div>" * 2000,           # <option> closes only a current option
    "<p><span></p>" * 2000 + "<div>x",
    "<svg><title>" + "<div>" * 2000,  # an svg integration point
    "<table><td>" + "<div><b>" * 2000,
    "<td><div></td>" * 2000,          # cells outside a table are ignored, and so are their end tags
    "<table><table></table>" + "<td><div></td>" * 2000,  # the inner table closed the outer one
    "<caption><span></caption>" * 2000,
    "<svg><font color=x>" + "<span/>" * 2000,  # a font with color leaves the svg: <span/> is not void
])
def test_guard_is_not_fooled_by_end_tags_the_parser_ignores(page):
    """The scan does not under-estimate the depth lexbor builds.

    (``</form>`` is the exception: it takes the form off lexbor's stack of open
    elements, so the tree gets deeper than the stack the guard bounds; the
    parse stays linear, see test_time_grows_linearly.)
    """
    text, _ = guard.apply(page, max_depth=100)
    assert _tree_size(text)[0] <= 100 + 3  # html, body and a text node above the guard's count


def _tree_size(text: str) -> tuple[int, int]:
    """(depth, number of nodes) of lexbor's tree of ``text``."""
    from selectolax.lexbor import LexborHTMLParser

    node, depth, size = LexborHTMLParser(text).root, 0, 0
    stack = [(node, 0)]
    while stack:
        node, d = stack.pop()
        depth = max(depth, d)
        size += 1
        child = node.child
        while child is not None:
            stack.append((child, d + 1))
            child = child.next
    return depth, size


MISNESTED = {  # formatting elements the parser reopens (the list of active formatting elements)
    "b a": lambda k: "<b><a href=x>" * k,
    "b i /b": lambda k: "<b><i>x</b>" * k,
    "b p i /b": lambda k: "<b><p><i>x</b>y</p>" * k,
    "p b i": lambda k: "<p><b><i>x</p>" * k,
    "p b distinct": lambda k: "".join(f"<p><b id={j}>x</p>" for j in range(k)),
    "p font distinct": lambda k: "".join(f"<p><font color=#{j:06x}>x</p>" for j in range(k)),
    "li a": lambda k: "<ul>" + "<li><a href=x>item" * k,
    "a div": lambda k: "<a href=x><div>x" * k,
    "b div /b": lambda k: "<b><div>x</b>" * k,
    "nobr": lambda k: "<nobr>x" * k,
    "table b": lambda k: "<table>" + "<b><tr><td>x" * k,
    "svg font": lambda k: "".join(f"<p><svg><font color={j}></p>" for j in range(k)),
    "b object /b": lambda k: "<b><object>" + "<span>" * 400 + "</b>" * k,
}


@pytest.mark.parametrize("name", sorted(MISNESTED))
def test_guard_bounds_the_formatting_elements(name):
    """Misnested formatting elements do not deepen or multiply lexbor's tree past the bounds."""
    k = 3000
    page = MISNESTED[name](k)
    text, _ = guard.apply(page, max_depth=100, max_formatting=8)
    depth, size = _tree_size(text)
    assert depth <= 100 + 8 + 3, (name, depth)
    assert size <= 40 * k + 1000, (name, size)  # reopened elements stay within the page's budget
    if _cguard is not None:
        assert _cguard.guard(page, 100, markup.MAX_ATTRS, 8) == guard.guard(page, 100, markup.MAX_ATTRS, 8)


def test_guard_drops_formatting_start_tags_past_the_bound_and_keeps_the_text():
    page = "<body>" + "<b><a href=x>link</a>" * 1000 + "end"
    cuts = guard.guard(page)
    assert cuts and all(page[a:b] in ("<b>", "<a href=x>") for a, b in cuts)
    assert 2 * 1000 - 2 * markup.MAX_FORMATTING <= len(cuts) < 2 * 1000 - markup.MAX_FORMATTING
    L = html_lines(page)
    assert "".join(L.texts).replace(" ", "") == "link" * 1000 + "end" and L.truncated


def test_guard_keeps_a_bounded_number_of_attributes_per_page():
    page = "<p>text</p>" + "<img a=1 b=2 c=3>" * 100
    cuts = guard.guard(page, max_page_attrs=50)
    assert len(cuts) == 100 - 50 // 3 and cuts[0] == (page.index("c=3", 11 + 17 * 16), page.index(">", 11 + 17 * 16))
    assert markup.attr_budget(len(page)) == markup.ATTR_FLOOR + len(page) // markup.ATTR_RATIO
    big = "<p>text</p>" + ("<img " + " ".join(f"a{i}=v" for i in range(256)) + ">") * 2000
    text, changed = guard.apply(big)
    assert changed and text.count("=") == markup.attr_budget(len(big))


MARKUP = st.lists(st.sampled_from(list("<>/!-=\"' \nabdiptrlsvgfomhcxyz[]?")) | st.sampled_from(
    ["<div>", "</div>", "<p>", "<li>", "</li>", "<ul>", "<table>", "<td>", "<tr>", "<svg>", "</svg>",
     "<script>", "</script>", "<!--", "-->", "--!>", "<form>", "</form>", "<option>", "<title>",
     "<math>", "<b>", "</b>", "<a href=x>", "</a>", "<![CDATA[", "]]>", "<plaintext>", "<textarea>",
     "<DIV CLASS=x>", "</SCRIPT >", "/>", "\u65e5", "\U0001f600", "<br/>",
     # misnested formatting elements, markers and the elements that reopen them
     "<i>", "</i>", "<nobr>", "</nobr>", "<font color=1>", "<font face=x>", "<font x=1>", "</font>",
     "<b id=1>", "<b id=2>", "<B CLASS=x>", "<a>", "<strong>", "<em>", "</em>", "<u>", "<s>", "<tt>",
     "<object>", "</object>", "<marquee>", "</marquee>", "<template>", "</template>", "<caption>",
     "<th>", "</td>", "</table>", "</br>", "<span>", "</span>", "<h1>", "<img>", "x"]),
    max_size=80).map("".join)


@needs_cguard
@settings(max_examples=300, deadline=None)
@given(MARKUP, st.integers(1, 6), st.integers(0, 4), st.integers(0, 8), st.sampled_from([None, 0, 1, 3, 10]))
def test_compiled_guard_matches_the_reference(page, max_depth, max_attrs, max_formatting, page_attrs):
    assert _cguard.guard(page, max_depth, max_attrs, max_formatting, page_attrs) == \
        guard.guard(page, max_depth, max_attrs, max_formatting, page_attrs)


@settings(max_examples=150, deadline=None)
@given(MARKUP, st.integers(1, 6), st.integers(0, 4), st.integers(0, 8))
def test_guard_spans_are_sorted_disjoint_and_inside(page, max_depth, max_attrs, max_formatting):
    cuts = guard.guard(page, max_depth, max_attrs, max_formatting)
    prev = 0
    for a, b in cuts:
        assert prev <= a < b <= len(page)
        prev = b
    text, changed = guard.apply(page, max_depth, max_attrs, max_formatting)
    assert changed == bool(cuts) or len(page) <= 2 * max_attrs
    assert isinstance(html_lines(text).texts, list)


# ------------------------------------------------------------------ hostile pages


def test_hundred_thousand_nested_elements(tiny_extractor, timeout_run):
    for tag in ("div", "span", "table", "li", "blockquote"):
        r = timeout_run(lambda: tiny_extractor.classify(deep(100_000, tag)), 60)
        assert "deep text at the bottom." in [ln.text for ln in r.lines], tag


def test_a_million_attributes(tiny_extractor, timeout_run):
    page = many_attrs(1_000_000)
    assert len(page) > 8_000_000
    r = timeout_run(lambda: tiny_extractor.classify(page), 60)
    assert [ln.text for ln in r.lines] == ["text of the element.", "after."] and r.truncated


def test_a_50_mb_page_is_cut_at_max_bytes(tiny_models, timeout_run):
    page = ("<html><body>" + PARA * (50_000_000 // len(PARA))).encode()
    assert len(page) > 49_000_000
    ex = Extractor(model=tiny_models[0], text_model=tiny_models[1])
    L = timeout_run(lambda: ex.lines(page), 120)
    assert L.truncated and len(L) > 1000
    small = Extractor(model=tiny_models[0], text_model=tiny_models[1], max_bytes=100_000)
    r = small.classify(page)
    assert r.truncated and 0 < len(r.lines) <= 3 * (100_000 // len(PARA) + 1)


@pytest.mark.parametrize("page", [
    "<p>before</p><!-- unclosed comment " + "<p>hidden</p>" * 1000,
    "<p>before</p><![CDATA[ <p>x</p> " * 1000,
    "<p>before</p><svg><![CDATA[ " + "<p>x</p>" * 1000,
    "<p>before</p><script>" + "var s = '<p>not text</p>';" * 10_000,
    "<p>before</p><style>" + "p { color: red }" * 10_000,
    "<p>before</p><textarea>" + "<p>x</p>" * 1000,
    "<p>before</p><plaintext>" + "<p>x</p>" * 1000,
    "<p>before</p><title>" + "<p>x</p>" * 1000,
    "<p>before</p><!DOCTYPE " + "x" * 100_000,
    "<p>before</p><?xml " + "y" * 100_000,
    "<p>before</p><div class=\"" + "z" * 1_000_000,
    "<p>before</p><a href='" + "q" * 1_000_000 + "'>link</a>",
])
def test_unclosed_constructs(tiny_extractor, timeout_run, page):
    r = timeout_run(lambda: tiny_extractor.classify(page), 60)
    assert r.lines[0].text == "before"
    assert all("\n" not in ln.text for ln in r.lines)


def test_a_page_that_is_only_a_script(tiny_extractor):
    for page in ("<script>" + "document.write('<p>hi</p>');" * 5000 + "</script>",
                 "<html><head><script src=app.js></script></head><body><script>boot()</script></body></html>",
                 b"<script>" + b"\x00\xff" * 1000):
        r = tiny_extractor.classify(page, "html")
        assert r.lines == [] and r.text == ""


def test_nul_bytes_everywhere(tiny_extractor):
    page = b"<html\x00><bo\x00dy><p cla\x00ss='a\x00'>te\x00xt</p>\x00<\x00p>x</p></body></html>"
    r = tiny_extractor.classify(page)
    assert all("\x00" not in ln.text for ln in r.lines)
    assert any("te\ufffdxt" in ln.text for ln in r.lines)


RTL = "<html dir=rtl><body><p>\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 " \
      "\u0647\u0630\u0647 \u0641\u0642\u0631\u0629 \u0639\u0631\u0628\u064a\u0629.</p>" \
      "<p>\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd\u202e reversed\u202c \u200f</p></body></html>"
CJK = "<html><body><p>\u65e5\u672c\u8a9e\u306e\u6587\u7ae0\u3067\u3059\u3002\u3053\u308c\u306f" \
      "\u30c6\u30b9\u30c8\u3002</p><p>\u4e2d\u6587\u6bb5\u843d\uff0c\ud55c\uad6d\uc5b4 \ubb38\uc7a5." \
      "</p></body></html>"


@pytest.mark.parametrize("page", [RTL, CJK])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "gb18030", "str"])
def test_right_to_left_and_cjk_text(tiny_extractor, page, encoding):
    want = html_lines(page).texts
    assert len(want) == 2
    data = page if encoding == "str" else page.encode(encoding)
    charset = None if encoding in ("str", "utf-8", "utf-16") else encoding
    assert [ln.text for ln in tiny_extractor.classify(data, charset=charset).lines] == want


@pytest.mark.parametrize("declared,actual", [
    ("shift_jis", "utf-8"),      # declares one charset, is UTF-8
    ("utf-8", "cp1252"),         # declares UTF-8, is Windows-1252
    ("utf-16", "utf-8"),         # declares UTF-16 without a BOM
    ("x-no-such-charset", "utf-8"),
    ("iso-8859-1", "utf-8"),
])
def test_mislabelled_encodings(tiny_extractor, declared, actual):
    text = "Caf\u00e9 cr\u00e8me na\u00efve \u00fcber stra\u00dfe \u2014 les \u00e9l\u00e8ves."
    page = f"<html><head><meta charset={declared}></head><body><p>{text}</p></body></html>"
    data = page.encode(actual, "replace")
    r = tiny_extractor.classify(data)
    got = r.lines[0].text
    if actual == "utf-8":
        assert got == text
    else:
        assert isinstance(got, str) and "Caf" in got


def test_invalid_charset_hints_never_raise(tiny_extractor, lighthouse_html):
    for hint in ("", "utf-7", "x" * 1000, "\x00", "utf-32", "base64", "rot13", "idna"):
        assert isinstance(tiny_extractor.extract(lighthouse_html, charset=hint), str)


@pytest.mark.parametrize("kwargs", [{"charset": 5}, {"charset": b"utf-8"}, {"kind": 5}, {"kind": "pdf"}])
def test_bad_arguments_are_input_errors(tiny_extractor, kwargs):
    with pytest.raises(InputError):
        tiny_extractor.classify(b"<p>hello</p>", **kwargs)


def test_utf8_cut_inside_a_character_stays_utf8(tiny_models):
    page = ("<p>" + "\u65e5\u672c\u8a9e" * 200 + "</p>").encode()
    ex = Extractor(model=tiny_models[0], text_model=tiny_models[1], max_bytes=len(page) - 6)
    (line,) = ex.classify(page).lines
    assert line.text.startswith("\u65e5\u672c\u8a9e") and "\u00e6" not in line.text


# ------------------------------------------------------------------ time and memory


def _cpu(fn, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def _misnested(name: str, k: int) -> str:
    return "<html><body>" + MISNESTED[name](10_000 * k)


SCALING = {
    "ordinary": lambda k: "<html><body>" + PARA * (120 * k) + "</body></html>",
    "nested": lambda k: deep(10_000 * k),
    "attributes": lambda k: many_attrs(20_000 * k),
    "unclosed": lambda k: "<body>" + "<p>para <b>bold</b>" * (2_000 * k) + "<div>" * (200 * k),
    "one long line": lambda k: "<p>" + "word " * (20_000 * k) + "</p>",
    "form trick": lambda k: "<form><div></form>" * (2_000 * k) + "<p>x</p>",
    "list trick": lambda k: "<li><ul></li>" * (2_000 * k) + "<p>x</p>",
    "cell trick": lambda k: "<td><div></td>" * (2_000 * k) + "<p>x</p>",
    "table trick": lambda k: "<table><table></table>" + "<td><div></td>" * (2_000 * k) + "<p>x</p>",
    **{"misnested " + name: functools.partial(_misnested, name) for name in MISNESTED},
}


@pytest.mark.parametrize("name", sorted(SCALING))
def test_time_grows_linearly(tiny_extractor, name):
    """Ten times the page costs about ten times the time (quadratic would be 100x)."""
    small, big = SCALING[name](1), SCALING[name](10)
    tiny_extractor.classify(small)  # warm up
    # small and big measured in turns, best of 3 each: a busy machine (other jobs sharing the core's
    # caches) slows both alike instead of one of them
    t_small = t_big = float("inf")
    for _ in range(3):
        t_small = min(t_small, _cpu(lambda: tiny_extractor.classify(small), runs=1))
        t_big = min(t_big, _cpu(lambda: tiny_extractor.classify(big), runs=1))
    t_small = max(t_small, 1e-3)
    assert t_big / t_small < 30, f"{name}: {t_big:.3f}s vs {t_small:.3f}s"


def test_text_time_grows_linearly(tiny_extractor):
    small = "Title line\n\n" + "A paragraph of plain text, [a link](http://x) and more.\n\n- item\n" * 500
    big = small * 10
    tiny_extractor.classify(small, "text")
    ratio = _cpu(lambda: tiny_extractor.classify(big, "text"), 2) / \
        max(_cpu(lambda: tiny_extractor.classify(small, "text")), 1e-3)
    assert ratio < 30


_MEASURE = r"""
import json, sys, tracemalloc
def rss(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
from boilerclf import Extractor
html_model, text_model, size, cap = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
unit = %r
page = ("<html><body>" + unit * (size // len(unit))).encode()
ex = Extractor(model=html_model, text_model=text_model, max_bytes=cap)
ex.classify(b"<p>warm up the model</p>")
base = rss("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
r = ex.classify(page)
print(json.dumps({"peak": rss("VmHWM:") - base, "lines": len(r.lines), "truncated": r.truncated}))
""" % PARA


def _peak(models, size: int, cap: int) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(models[0]), str(models[1]), str(size), str(cap)],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux /proc to reset peak RSS")
def test_memory_is_bounded_by_max_bytes(tiny_models):
    """Peak memory depends on max_bytes, not on the size of the page."""
    cap = 500_000
    small = _peak(tiny_models, 2 * cap, cap)
    huge = _peak(tiny_models, 60 * cap, cap)  # a 30 MB page
    assert small["truncated"] and huge["truncated"] and small["lines"] == huge["lines"]
    assert huge["peak"] < 1.5 * small["peak"] + 20e6, (small, huge)
    assert huge["peak"] < 150 * cap, huge  # about 90 bytes per input byte measured


_MEASURE_PAGE = r"""
import json, sys
def rss(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
from boilerclf import Extractor
html_model, text_model, shape, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if shape == "attributes":  # img tags with 256 attributes each
    unit = "<img " + " ".join(f"a{i}=v" for i in range(256)) + ">"
    page = "<html><body><p>text</p>" + unit * (size // len(unit))
else:  # formatting elements with distinct attributes, reopened in every paragraph
    page = "<html><body>" + "".join(f"<p><font color=#{j:06x}>x</p>" for j in range(size // 30))
page = page.encode()
ex = Extractor(model=html_model, text_model=text_model)
ex.classify(b"<p>warm up the model</p>")
base = rss("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current RSS
r = ex.classify(page)
print(json.dumps({"peak": rss("VmHWM:") - base, "size": len(page), "truncated": r.truncated}))
"""


@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK), reason="needs Linux /proc to reset peak RSS")
@pytest.mark.parametrize("shape,size,per_byte", [
    ("attributes", 8_000_000, 25),   # 256 attributes per element, past the page's attribute budget
    ("formatting", 100_000, 400),    # would reopen every earlier font in every paragraph
])
def test_memory_is_bounded_on_markup_floods(tiny_models, shape, size, per_byte):
    """Peak memory is a small multiple of the page, whatever its markup makes lexbor build."""
    out = subprocess.run([sys.executable, "-c", _MEASURE_PAGE, str(tiny_models[0]), str(tiny_models[1]), shape,
                          str(size)], check=False, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["truncated"] and got["peak"] < per_byte * got["size"] + 30e6, got


def test_a_time_budget_per_page(tiny_models, tiny_extractor):
    page = "<html><body>" + PARA * 20_000  # 3 MB
    ex = Extractor(model=tiny_models[0], text_model=tiny_models[1], timeout=1e-4)
    for call in (ex.classify, ex.extract, ex.lines):
        t = time.monotonic()
        with pytest.raises(PageTimeout) as err:
            call(page)
        assert time.monotonic() - t < 30  # one stage past the budget, not the whole page
    assert isinstance(err.value, InputError) and isinstance(err.value, TimeoutError)
    with pytest.raises(PageTimeout):  # per call, over an Extractor without one
        tiny_extractor.extract(page.encode(), timeout=1e-4)
    with pytest.raises(PageTimeout):
        tiny_extractor.classify(page, "html", timeout=1e-4)
    # a budget that is not hit changes nothing
    want = tiny_extractor.classify(PARA * 10)
    got = tiny_extractor.classify(PARA * 10, timeout=60)
    assert [ln.text for ln in got.lines] == [ln.text for ln in want.lines] and list(got.scores) == list(want.scores)
    assert ex.extract(PARA * 10, timeout=60) == tiny_extractor.extract(PARA * 10)
    guarded = "<html><body>" + "<div>" * 600 + "<p>deep</p>"
    assert tiny_extractor.classify(guarded, timeout=60).truncated
    for bad in (0, -1, float("nan"), "1", True):
        with pytest.raises(ValueError):
            Extractor(timeout=bad)
        with pytest.raises(ValueError):
            tiny_extractor.classify(PARA, timeout=bad)


def test_the_public_functions_take_a_time_budget():
    import boilerclf

    page = "<html><body>" + PARA * 20_000
    for call in (boilerclf.extract, boilerclf.classify, boilerclf.extract_text):
        with pytest.raises(PageTimeout):
            call(page, timeout=1e-4)
    assert boilerclf.extract(PARA * 5, timeout=60) == boilerclf.extract(PARA * 5)


ALL_CODECS = sorted(set(__import__("encodings.aliases").aliases.aliases.values()) | {"\x00", "", "x" * 300})


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(ALL_CODECS))
def test_any_charset_label_decodes_any_bytes(data, label):
    """A charset hint (an HTTP header, a WARC record) naming any Python codec never raises."""
    from boilerclf.parse.decode import decode, not_text

    if not_text(data) is None:
        assert isinstance(decode(data, label), str)
    else:  # bytes that are plainly not text (a file signature) are refused as such
        with pytest.raises(InputError):
            decode(data, label)
    assert isinstance(decode(b"<meta charset=" + label.encode("latin-1", "replace") + b">" + data), str)
