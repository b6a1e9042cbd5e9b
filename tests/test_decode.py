"""boilerclf.decode: bytes to text."""
from __future__ import annotations

import codecs
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf.decode import declared_charset, decode
from boilerclf.lines import html_lines

CURLY = "\u201cCaf\u00e9 cr\u00e8me\u201d \u2013 na\u00efve \u2018quotes\u2019"


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body><p>{body}</p></body></html>"


def test_str_is_returned_unchanged():
    s = page(CURLY)
    assert decode(s) is s


@pytest.mark.parametrize("data", [b"", bytearray()])
def test_empty_bytes_give_empty_text(data):
    assert decode(bytes(data)) == ""


@pytest.mark.parametrize("bom,codec", [
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
])
def test_bom_decodes_and_is_stripped(bom, codec):
    text = page(CURLY)
    out = decode(bom + text.encode(codec))
    assert out == text  # BOM removed, content intact


def test_bom_wins_over_charset_hint_and_declaration():
    text = page(CURLY, '<meta charset="iso-8859-1">')
    out = decode(codecs.BOM_UTF8 + text.encode("utf-8"), charset="shift_jis")
    assert CURLY in out


def test_strict_utf8_without_meta_keeps_curly_quotes():
    data = page(CURLY).encode("utf-8")
    assert b"charset" not in data
    assert CURLY in decode(data)
    assert html_lines(data).texts == [CURLY]


def test_valid_utf8_wins_over_a_wrong_latin1_declaration():
    # a page that is valid UTF-8 is UTF-8 in practice, whatever it declares
    data = page(CURLY, '<meta charset="iso-8859-1">').encode("utf-8")
    assert CURLY in decode(data)


@pytest.mark.parametrize("meta", [
    '<meta charset="windows-1252">',
    '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
    "<meta charset=iso-8859-1>",
    '<meta charset="ISO-8859-1">',
    '<meta charset="latin1">',
])
def test_declared_cp1252_family(meta):
    # 0x93/0x94 are curly quotes in cp1252 (WHATWG maps iso-8859-1 to it)
    data = page(CURLY, meta).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    out = decode(data)
    assert CURLY in out
    assert "\ufffd" not in out


def test_declared_shift_jis_page():
    ja = "\u65e5\u672c\u8a9e\u306e\u8a18\u4e8b\u3067\u3059\u3002\u6771\u4eac\u306e\u5929\u6c17\u306f\u6674\u308c\u3002"
    data = page(ja, '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">').encode("shift_jis")
    assert declared_charset(data) == "shift_jis"
    out = decode(data)
    assert ja in out
    assert html_lines(data).texts == [ja]


def test_xml_declaration_is_read():
    data = b'<?xml version="1.0" encoding="windows-1252"?><html><body><p>\x93x\x94</p></body></html>'
    assert declared_charset(data) == "cp1252"
    assert "\u201cx\u201d" in decode(data)


def test_declaration_after_4k_is_ignored():
    data = b"<!-- " + b"x" * 5000 + b' --><meta charset="shift_jis">'
    assert declared_charset(data) is None


def test_unknown_declared_charset_is_none():
    assert declared_charset(b'<meta charset="no-such-codec">') is None


def test_charset_hint_is_used():
    data = "caf\u00e9 na\u00efve".encode("cp1252")
    assert decode(data, charset="windows-1252") == "caf\u00e9 na\u00efve"
    # a hint wins over strict UTF-8 detection
    assert decode("caf\u00e9".encode("utf-8"), charset="iso-8859-1") == "caf\u00c3\u00a9"


def test_unknown_charset_hint_is_ignored():
    assert decode("caf\u00e9".encode("utf-8"), charset="bogus-charset") == "caf\u00e9"


def test_invalid_bytes_are_replaced_not_raised():
    # declared UTF-8 with a broken sequence, and a hint that cannot decode the bytes
    out = decode(b'<meta charset="utf-8"><p>ok \xff\xfe\xc3 ok</p>')
    assert isinstance(out, str) and "ok" in out
    out = decode(b"\x81\x82\x83abc\xff", charset="utf-8")
    assert out.endswith("abc\ufffd") and "\ufffd" in out


def test_random_bytes_never_raise():
    rng = random.Random(1234)
    for n in (1, 7, 100, 3000):
        data = bytes(rng.randrange(256) for _ in range(n))
        assert isinstance(decode(data), str)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([None, "utf-8", "shift_jis", "cp1252", "nope"]))
def test_decode_total(data, hint):
    assert isinstance(decode(data, charset=hint), str)
