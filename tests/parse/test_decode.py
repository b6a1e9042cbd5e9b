"""boilerclf.parse.decode: bytes to text."""
from __future__ import annotations

import codecs
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boilerclf import InputError
from boilerclf.parse.decode import declared_charset, decode, not_text
from boilerclf.parse.html import html_lines

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
    """Any bytes give text, but bytes that are plainly not text give InputError, whatever the hint."""
    if not_text(data) is None:
        assert isinstance(decode(data, charset=hint), str)
    else:
        with pytest.raises(InputError, match=r"^not a text or HTML page \(looks like "):
            decode(data, charset=hint)


# ------------------------------------------------------------ not text at all

def _zip(names: list[str]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in names:
            z.writestr(n, "<xml/>")
    return buf.getvalue()


def _elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(300)


def _pe() -> bytes:
    head = bytearray(b"MZ\x90\x00" + bytes(56) + (128).to_bytes(4, "little"))
    head += b"\x0e\x1f\xba\x0e\x00\xb4\t\xcd!This program cannot be run in DOS mode.\r\r\n$"
    head += bytes(128 - len(head)) + b"PE\x00\x00" + bytes(200)
    return bytes(head)


BINARIES = [
    (_elf(), "an ELF executable"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "a PDF document"),
    (_zip(["[Content_Types].xml", "word/document.xml"]), "a Word document"),
    (_zip(["[Content_Types].xml", "xl/workbook.xml"]), "an Excel workbook"),
    (_zip(["mimetype", "META-INF/container.xml"]).replace(b"mimetype", b"mimetype", 1), "a Java archive"),
    (_zip(["notes.txt"]), "a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old format"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(30), "a PNG image"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(30), "a JPEG image"),
    (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "a GIF image"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(30), "a WebP image"),
    (__import__("gzip").compress(b"<p>a page</p>"), "gzip-compressed data; decompress it first"),
    (b"\x00asm\x01\x00\x00\x00", "a WebAssembly module"),
    (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(100), "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(100), "a Mach-O executable"),  # universal binary, 2 archs
    (b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + bytes(100), "a Java class file"),  # class file, version 65
    (_pe(), "a Windows executable"),
    (b"SQLite format 3\x00" + bytes(100), "an SQLite database"),
    # no known format: records of a 32-bit number and a float, as many data files are
    (b"".join(__import__("struct").pack("<Id", i, i / 7) for i in range(600)), "binary data"),
    (bytes(5000), "binary data (only NUL bytes)"),
]


@pytest.mark.parametrize("data,what", BINARIES, ids=[w for _, w in BINARIES])
def test_plainly_binary_bytes_raise_input_error(data, what):
    assert what in not_text(data)
    for hint in (None, "utf-8", "utf-16"):
        with pytest.raises(InputError) as e:
            decode(data, hint)
        msg = str(e.value)
        assert msg.startswith("not a text or HTML page (looks like ") and what in msg
        assert "\n" not in msg
    assert issubclass(InputError, ValueError)


def _text_pages() -> list[tuple[bytes, str]]:
    page_ = page(CURLY + " \u4e00\u4e8c\u4e09 \u4e2d\u6587 \u043a\u0438\u0440\u0438\u043b\u043b\u0438\u0446\u0430") * 60
    rng = random.Random(20240514)
    out = [(page_.encode(c), f"{c} without BOM") for c in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")]
    out += [(("\u4e2d\u6587\u5b57" * 3000).encode("utf-16-le"), "CJK UTF-16 without BOM")]
    out += [
        (bytes(rng.randrange(256) for _ in range(20_000)), "random bytes"),
        (b"<p>before\x00after with some words in it.</p>\x00<p>next</p>", "a few NUL bytes"),
        (page_.encode("utf-8") + bytes(20_000), "NUL padding after the page"),
        (b"<script>" + b"\x00\xff" * 1000, "NUL bytes in every other place"),
        (b"GIF89a is a picture format\n" * 3, "text about a format"),
        (b"MZ is a prefix, and this is text\n" * 10, "text that starts with MZ"),
        (page_.encode("iso-2022-jp", "replace"), "ISO-2022-JP (escape bytes)"),
        (b"\x1f\x8b", "two bytes"),
    ]
    return out


@pytest.mark.parametrize("data,name", _text_pages(), ids=[n for _, n in _text_pages()])
def test_text_is_not_taken_for_binary(data, name):
    assert not_text(data) is None
    assert isinstance(decode(data), str)


def test_utf16_page_without_bom_still_decodes():
    text = page(CURLY)
    assert decode(text.encode("utf-16-le")).startswith("<html>")
    assert CURLY in decode(text.encode("utf-16-le"))


def test_only_the_start_is_read():
    # a page is text or not by its first bytes: a PDF quoted later in a page is no PDF
    assert not_text(page("x" * 10_000).encode() + b"%PDF-1.7" + bytes(10_000)) is None


# ------------------------------------------------ the parser takes valid UTF-8 bytes as they are

@pytest.mark.parametrize("data, charset, exact", [
    ("<p>Caf\u00e9 \u201cquoted\u201d \U0001f600</p>".encode(), None, True),
    (b"<p>plain ascii</p>", None, True),
    ("<p>Caf\u00e9</p>".encode(), "utf-8", False),              # a hint: decoded the hint's way
    ("<p>Caf\u00e9</p>".encode("cp1252"), None, False),         # not UTF-8
    (b"\xef\xbb\xbf<p>bom</p>", None, False),                   # the BOM is not text
    ("<p>Caf\u00e9</p>".encode()[:-6] + b"\xc3", None, False),  # cut inside a character
])
def test_decode_utf8_says_when_the_bytes_are_the_text(data, charset, exact):
    from boilerclf.parse.decode import decode_utf8

    text, got = decode_utf8(data, charset)
    assert text == decode(data, charset) and got is exact
    if exact:
        assert text.encode("utf-8") == data


def test_guarded_text_hands_the_parser_the_page_bytes_only_when_they_are_its_text():
    from boilerclf.parse import html as html_mod

    page = "<html><body><p>Caf\u00e9 au lait, \u201cquoted\u201d.</p></body></html>".encode()
    text, guarded, utf8 = html_mod.guarded_text(page)
    assert not guarded and utf8 == page and text == page.decode()
    assert html_mod.guarded_text(page.replace(b"au", b"a\x00u"))[2] is None       # NUL replaced
    assert html_mod.guarded_text(page.decode().encode("cp1252"))[2] is None       # decoded as cp1252
    deep = b"<html><body>" + b"<div>" * 3000 + b"deep text" + b"</div>" * 3000 + b"</body></html>"
    text, guarded, utf8 = html_mod.guarded_text(deep)
    assert guarded and utf8 is None                                                # the guard cut spans


def test_bytes_and_their_text_give_the_same_lines():
    """A UTF-8 page parsed from its own bytes gives what its decoded text gives."""
    from pathlib import Path

    import boilerclf

    ex = boilerclf.Extractor()
    pages = [p.read_bytes() for p in sorted((Path(__file__).parent.parent / "fixtures").glob("*.html"))]
    assert len(pages) >= 5
    for raw in pages:
        a, b = ex.classify(raw, "html"), ex.classify(decode(raw), "html")
        assert [ln.text for ln in a.lines] == [ln.text for ln in b.lines]
        assert a.scores.tolist() == b.scores.tolist() and a.text == b.text
