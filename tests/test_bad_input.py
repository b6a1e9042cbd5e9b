"""Bad input never crashes or hangs: it gives an empty result or the documented error."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from boilerclf import InputError
from boilerclf.cli import app
from boilerclf.features.table import page_features
from boilerclf.parse.html import html_lines
from boilerclf.parse.text import text_lines

RNG = random.Random(20240514)
RANDOM_BYTES = bytes(RNG.randrange(256) for _ in range(20_000))


@pytest.mark.parametrize("page", [b"", "", b"   \n\t ", "\n\n\n"])
@pytest.mark.parametrize("kind", [None, "html", "text"])
def test_empty_input_gives_empty_result(tiny_extractor, page, kind):
    r = tiny_extractor.classify(page, kind)
    assert r.lines == [] and r.text == ""
    assert tiny_extractor.extract(page, kind) == ""


@pytest.mark.parametrize("page", [
    "<html><head><title>Only a title</title></head></html>",
    "<html></html>",
    "<!DOCTYPE html>",
    "<html><head><meta charset='utf-8'><script>var a = '<p>not text</p>';</script></head></html>",
    "<html><body><script>document.write('x')</script><style>p{}</style></body></html>",
    "<html><body><img src='a.png' alt='picture'><input value='v'></body></html>",
])
def test_page_without_body_text(tiny_extractor, page):
    r = tiny_extractor.classify(page, "html")
    assert r.lines == [] and r.text == ""
    assert tiny_extractor.extract(page.encode("utf-8")) == ""


def test_title_only_page_keeps_its_title(tiny_extractor):
    r = tiny_extractor.classify("<html><head><title>Only a title</title></head></html>")
    assert r.title == "Only a title" and r.lines == []


@pytest.mark.parametrize("kind", [None, "html", "text"])
def test_random_binary_bytes(tiny_extractor, timeout_run, kind):
    out = timeout_run(lambda: tiny_extractor.extract(RANDOM_BYTES, kind), 60)
    assert isinstance(out, str)


def test_invalid_utf8(tiny_extractor, lighthouse_html):
    broken = lighthouse_html.replace(b"restoration plan", b"restoration \xff\xfe\xc3 plan")
    broken = broken.replace(b"The council said", b"The council \xed\xa0\x80 said")  # a UTF-8 surrogate
    r = tiny_extractor.classify(broken)
    assert len(r.lines) == len(html_lines(lighthouse_html))
    assert any("restoration" in ln.text and "plan" in ln.text for ln in r.lines)
    assert isinstance(tiny_extractor.extract(b"plain \xff\xfe text \x80", "text"), str)


def test_nul_bytes(tiny_extractor):
    html = b"<html><body><p>before\x00after with some words in it.</p>\x00<p>next</p></body></html>"
    L = html_lines(html)
    assert L.texts == ["before\ufffdafter with some words in it.", "\ufffd", "next"]  # NUL -> U+FFFD
    assert tiny_extractor.classify(html).lines[0].text == "before\ufffdafter with some words in it."
    r = tiny_extractor.classify("line one\x00\nline two\n", "text")
    assert [ln.text for ln in r.lines] == ["line one\x00", "line two"]
    assert page_features(text_lines("\x00\x00\n\x00")).shape[0] == 2


def test_deeply_nested_divs_do_not_raise(tiny_extractor, timeout_run):
    n = 50_000
    page = "<html><body>" + "<div>" * n + "<p>deep text in the middle of it all.</p>" + "</div>" * n + \
        "<p>after</p></body></html>"
    r = timeout_run(lambda: tiny_extractor.classify(page), 120)
    assert [ln.text for ln in r.lines] == ["deep text in the middle of it all.", "after"]


@pytest.mark.parametrize("tag", ["b", "span", "a", "li", "p", "table"])
def test_many_nested_or_unclosed_elements(tiny_extractor, timeout_run, tag):
    page = "<html><body>" + f"<{tag}>x " * 5000 + "</body></html>"
    r = timeout_run(lambda: tiny_extractor.classify(page), 120)
    assert isinstance(r.text, str)
    assert sum(ln.text.count("x") for ln in r.lines) == 5000  # no text lost, none duplicated


def test_huge_single_line(tiny_extractor, timeout_run):
    page = "<p>" + "word " * 200_000 + "</p>"
    r = timeout_run(lambda: tiny_extractor.classify(page), 120)
    assert len(r.lines) == 1 and r.lines[0].text.count("word") == 200_000


@pytest.mark.parametrize("page", [None, 42, 3.5, ["<p>x</p>"], {"html": "x"}])
def test_non_text_input_raises_input_error(tiny_extractor, page):
    with pytest.raises(InputError):
        tiny_extractor.extract(page)
    assert issubclass(InputError, ValueError)


def test_memoryview_and_bytearray(tiny_extractor, lighthouse_html):
    want = tiny_extractor.extract(lighthouse_html)
    assert tiny_extractor.extract(bytearray(lighthouse_html)) == want
    assert tiny_extractor.extract(memoryview(lighthouse_html)) == want


def test_cli_survives_bad_files(tmp_path, tiny_models):
    d = tmp_path / "bad"
    d.mkdir()
    (d / "empty.html").write_bytes(b"")
    (d / "binary.bin").write_bytes(RANDOM_BYTES[:3000])
    (d / "nobody.html").write_bytes(b"<html><head><title>t</title></head></html>")
    (d / "nul.html").write_bytes(b"<p>a\x00b</p>")
    r = CliRunner().invoke(app, ["clean", str(d), "--model", str(tiny_models[0]),
                                 "--text-model", str(tiny_models[1])])
    assert r.exit_code == 0, r.output
    assert r.stdout.count("==> ") == 4


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list("<>/ =\"'abpdivlr!-\n\x00&;#\u00e9\u65e5")) | st.characters(),
               max_size=300))
def test_arbitrary_markup_never_raises(tiny_extractor, page):
    L = html_lines(page)
    X = page_features(L)
    assert X.shape[0] == len(L)
    assert isinstance(tiny_extractor.extract(page, "html"), str)
    assert isinstance(tiny_extractor.extract(page, "text"), str)


def test_utf16_page_is_detected_as_html(tiny_extractor):
    import codecs

    page = "<!DOCTYPE html><html><body><p>Caf\u00e9 \u201cquoted\u201d text.</p></body></html>"
    data = codecs.BOM_UTF16_LE + page.encode("utf-16-le")
    r = tiny_extractor.classify(data)
    assert r.kind == "html" and [ln.text for ln in r.lines] == ["Caf\u00e9 \u201cquoted\u201d text."]
