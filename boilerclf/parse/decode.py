"""Bytes to text: the first step of the pipeline.

Order, chosen by measurement (see FIELD-NOTES: a UTF-8 page decoded as Latin-1
cost 0.05 F1 on unseen news pages):

1. a byte-order mark (UTF-8, UTF-16, UTF-32);
2. a charset given by the caller (e.g. the HTTP ``Content-Type`` header);
3. strict UTF-8, when the bytes decode as UTF-8 without error (a page that is
   valid UTF-8 and not pure ASCII is UTF-8 in practice, whatever it declares),
   an incomplete last character aside (a page cut at its size limit);
4. the charset the page declares (``<meta charset>``, ``http-equiv`` or the XML
   declaration), looked for in the first 4 KiB;
5. detection with charset-normalizer on the first 64 KiB;
6. cp1252 with replacement as the last resort.

Invalid bytes never raise: they are replaced with U+FFFD.  Bytes without a
BOM that are plainly not text raise :class:`boilerclf.InputError` before
steps 2-6 (:func:`not_text`): a file format known by its first bytes (an
executable, a PDF document, an archive or office document, an image,
compressed data), or a start with many NUL or control bytes that is not
UTF-16 or UTF-32 text.
"""
from __future__ import annotations

import codecs
import re


class InputError(ValueError):
    """Input that cannot be turned into a page (e.g. bytes that are not text at all)."""


_DECLARED_RE = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""",
    re.IGNORECASE,
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels the WHATWG encoding standard maps to another codec.
_ALIASES = {
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "us-ascii": "cp1252", "ascii": "cp1252", "iso8859-1": "cp1252",
    "x-sjis": "shift_jis", "gb2312": "gb18030", "gbk": "gb18030",
    "x-gbk": "gb18030", "iso-8859-9": "cp1254", "tis-620": "cp874",
    "ks_c_5601-1987": "euc-kr", "utf8": "utf-8", "unicode": "utf-16-le",
}


# Python codecs that are no charset of the web (a page or header naming one is ignored).
_NOT_WEB = frozenset(("unicode-escape", "raw-unicode-escape", "punycode", "utf-7"))


def _codec(label: str | None) -> str | None:
    """Return a Python codec name for an encoding label, or None if unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
        "".encode(info.name)  # some codecs exist but are no text encodings (base64, rot13)
        b"x".decode(info.name, "replace")  # ... or refuse "replace" (idna)
    except (LookupError, ValueError, UnicodeError, TypeError):  # ValueError: a NUL in the label
        return None
    return None if info.name in _NOT_WEB else info.name


def declared_charset(data: bytes) -> str | None:
    """The codec a page declares in its first 4 KiB, or None."""
    m = _DECLARED_RE.search(data[:4096])
    if not m:
        return None
    label = (m.group(1) or m.group(2) or b"").decode("ascii", "replace")
    return _codec(label)


def decode(data: bytes | str, charset: str | None = None) -> str:
    """Decode page bytes to text (see module docstring for the order).

    ``charset`` is a hint such as an HTTP header's charset; it wins over the
    page's own declaration but not over a BOM.  Never raises on bad bytes in
    text; raises :class:`boilerclf.InputError` (a ``ValueError``) for bytes
    that are plainly not text (:func:`not_text`), with a one-line message such
    as "not a text or HTML page (looks like a PDF document)".
    """
    return decode_utf8(data, charset)[0]


def decode_utf8(data: bytes | str, charset: str | None = None) -> tuple[str, bool]:
    """``(decode(data, charset), exact)``: ``exact`` is True when the text is
    ``data`` read as valid UTF-8 from its first byte to its last (no BOM, no
    hint, nothing replaced), so that ``data`` is the text's UTF-8 encoding and
    a parser that wants UTF-8 bytes can take ``data`` as it is."""
    if isinstance(data, str):
        return data, False
    if not data:
        return "", False
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(name, "replace"), False
    what = not_text(data)
    if what is not None:
        raise InputError(f"not a text or HTML page (looks like {what})")
    return _decoded(data, charset)


def _decoded(data: bytes, charset: str | None) -> tuple[str, bool]:
    hinted = _codec(charset)
    if hinted:
        return data.decode(hinted, "replace"), False
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError as e:
        if e.start >= len(data) - 3 and e.reason == "unexpected end of data":
            # valid UTF-8 cut inside its last character (a page cut at max_bytes)
            return data[: e.start].decode("utf-8") + "\ufffd", False
    declared = declared_charset(data)
    if declared and declared not in ("utf-8", "utf-16-le", "utf-16-be", "utf-16", "utf-32"):
        return data.decode(declared, "replace"), False
    if declared == "utf-8" and _mostly_utf8(data):
        return data.decode("utf-8", "replace"), False
    detected = _detect(data)
    return data.decode(detected or "cp1252", "replace"), False


def _mostly_utf8(data: bytes) -> bool:
    """True when a page declared UTF-8 has only a few invalid sequences."""
    text = data[:65536].decode("utf-8", "replace")
    return text.count("\ufffd") * 200 < len(text)


def _detect(data: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - optional dependency
        return None
    best = from_bytes(data[:65536]).best()
    return _codec(best.encoding) if best is not None else None


# ----------------------------------------------------------- not text at all

#: Bytes at the start of a page that :func:`not_text` reads.
SNIFF_BYTES = 8192
# (first bytes, what the file is); checked in order, at offset 0
_MAGIC = (
    (b"\x7fELF", "an ELF executable or library"),
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office document in the old format (.doc, .xls, .ppt)"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\x1f\x8b\x08", "gzip-compressed data; decompress it first"),
    (b"\xfd7zXZ\x00", "xz-compressed data; decompress it first"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data; decompress it first"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x00asm", "a WebAssembly module"),
    (b"\xfe\xed\xfa\xce", "a Mach-O executable or library"),
    (b"\xfe\xed\xfa\xcf", "a Mach-O executable or library"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable or library"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable or library"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x93NUMPY", "a NumPy array file"),
    (b"\x1a\x45\xdf\xa3", "a Matroska or WebM video"),
    (b"OggS\x00", "an Ogg audio or video file"),
)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# a member name near the start of a ZIP file that tells what the file is
_ZIP_KINDS = (
    (b"mimetypeapplication/epub+zip", "an EPUB e-book"),
    (b"mimetypeapplication/vnd.oasis.opendocument", "an OpenDocument file (.odt, .ods, .odp)"),
    (b"word/", "a Word document (.docx)"),
    (b"xl/", "an Excel workbook (.xlsx)"),
    (b"ppt/", "a PowerPoint presentation (.pptx)"),
    (b"[Content_Types].xml", "an Office document (.docx, .xlsx, .pptx)"),
    (b"META-INF/", "a Java archive (.jar)"),
)
_RIFF = {b"WEBP": "a WebP image", b"WAVE": "a WAV audio file", b"AVI ": "an AVI video"}
_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")
_JPEG = re.compile(rb"\xff\xd8\xff[\xc0-\xfe]")
# the version, then a screen descriptor of 7 bytes, one of them at least not a printable character
_GIF = re.compile(rb"GIF8[79]a(?=.{0,6}[\x00-\x08\x0e-\x1f\x7f-\xff])", re.DOTALL)
#: A page is read as binary data only with at least this many NUL bytes (or
#: twice as many control bytes) among the bytes :func:`not_text` reads.
MIN_NULS = 100
# C0 control bytes that text does not use (tab, line feed, vertical tab, form
# feed, carriage return and escape, used by ISO-2022 charsets, are text), and DEL
_CONTROL = bytes([*range(0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f\ufffd]")


def not_text(data: bytes) -> str | None:
    """What ``data`` looks like when it is plainly not a text or HTML page
    (e.g. "a PDF document"), else None.

    Two tests on the first :data:`SNIFF_BYTES` bytes: the first bytes of a
    known binary format (executables, PDF, ZIP and office documents, images,
    compressed data, ...), then the share of NUL and control bytes: over 5%
    NUL bytes or 20% control bytes (random bytes have 0.4% and 10.5%), unless
    the bytes read as UTF-16 or UTF-32 text.  Trailing NUL bytes (padding)
    are not counted, and a start with fewer than :data:`MIN_NULS` NUL bytes and
    twice as many control bytes is text: a page with a few stray NUL bytes, or
    a short one, is still read as text.
    """
    head = bytes(data[:SNIFF_BYTES])
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if head.startswith(_ZIP):
        return next((what for mark, what in _ZIP_KINDS if mark in head), "a ZIP archive")
    if head.startswith(b"\xca\xfe\xba\xbe") and len(head) >= 8:
        # Java class files and Mach-O universal binaries share these bytes; a class file
        # goes on with its version (45 and up), a universal binary with its few architectures
        return "a Java class file" if int.from_bytes(head[4:8], "big") >= 45 else "a Mach-O executable or library"
    if head.startswith(b"MZ") and len(head) >= 64:
        pe = int.from_bytes(head[60:64], "little")  # where the PE header starts
        if head[pe:pe + 4] == b"PE\x00\x00" or b"This program cannot be run in DOS mode" in head[:1024]:
            return "a Windows executable or library"
    if _JPEG.match(head):
        return "a JPEG image"
    if _GIF.match(head):
        return "a GIF image"
    if head.startswith(b"RIFF") and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if _BZIP2.match(head):
        return "bzip2-compressed data; decompress it first"
    sample = head.rstrip(b"\x00")
    if not sample:
        return "binary data (only NUL bytes)" if len(head) >= MIN_NULS else None
    n = len(sample)
    nuls = sample.count(0)
    controls = n - len(sample.translate(None, _CONTROL))
    if not ((nuls >= MIN_NULS and nuls * 20 > n) or (controls >= 2 * MIN_NULS and controls * 5 > n)):
        return None
    if _wide_text(sample):
        return None
    return f"binary data ({controls / n:.0%} of its first {n} bytes are NUL or control bytes)"


def _wide_text(data: bytes) -> bool:
    """True when ``data`` reads as UTF-16 or UTF-32 text without a BOM: its NUL
    bytes are the high bytes of its characters (in UTF-16 nearly all on one
    side of each byte pair, in UTF-32 the two high bytes of nearly every
    character), and the text has few control characters."""
    n = len(data)
    even, odd = data[0::2].count(0), data[1::2].count(0)
    quarter = [data[r::4].count(0) >= 0.9 * (n // 4) for r in range(4)]
    codecs_ = []
    if odd >= 9 * even:
        codecs_.append(("utf-16-le", 2))
    if even >= 9 * odd:
        codecs_.append(("utf-16-be", 2))
    if quarter[2] and quarter[3]:
        codecs_.append(("utf-32-le", 4))
    if quarter[0] and quarter[1]:
        codecs_.append(("utf-32-be", 4))
    for codec, width in codecs_:
        text = data[: n - n % width].decode(codec, "replace")
        if text and len(_CONTROL_CHARS.findall(text)) * 20 <= len(text):
            return True
    return False


def page_text(page: str | bytes | bytearray | memoryview, charset: str | None = None,
              max_bytes: int | None = None) -> tuple[str, bool]:
    """The front door: a page as text, ``(text, cut)``, decoded once.

    Bytes are cut at ``max_bytes`` and decoded with :func:`decode`; a str is
    cut at ``max_bytes`` characters.  ``cut`` says whether the page was longer.
    Anything else is an :class:`InputError`.
    """
    text, cut, _ = page_text_utf8(page, charset, max_bytes)
    return text, cut


def page_text_utf8(page: str | bytes | bytearray | memoryview, charset: str | None = None,
                   max_bytes: int | None = None) -> tuple[str, bool, bytes | None]:
    """:func:`page_text` and, third, the page's bytes when they are exactly the
    text's UTF-8 encoding (:func:`decode_utf8`), else None."""
    if isinstance(page, (bytes, bytearray, memoryview)):
        cut = max_bytes is not None and len(page) > max_bytes
        data = bytes(page[:max_bytes] if cut else page)
        text, exact = decode_utf8(data, charset)
        return text, cut, data if exact else None
    if isinstance(page, str):
        cut = max_bytes is not None and len(page) > max_bytes
        return (page[:max_bytes] if cut else page), cut, None
    raise InputError(f"a page must be str or bytes, not {type(page).__name__}")


def looks_like_html(text: str) -> bool:
    """Guess whether a page's text is HTML (a tag near the start) or plain text."""
    low = text[:2048].lower()
    return ("<html" in low or "<!doctype" in low or "<body" in low or "<div" in low
            or "<p>" in low or "<head" in low or "<meta" in low)
