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

Invalid bytes never raise: they are replaced with U+FFFD.
"""
from __future__ import annotations

import codecs
import re

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
    page's own declaration but not over a BOM.  Never raises on bad bytes.
    """
    if isinstance(data, str):
        return data
    if not data:
        return ""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(name, "replace")
    hinted = _codec(charset)
    if hinted:
        return data.decode(hinted, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start >= len(data) - 3 and e.reason == "unexpected end of data":
            # valid UTF-8 cut inside its last character (a page cut at max_bytes)
            return data[: e.start].decode("utf-8") + "\ufffd"
    declared = declared_charset(data)
    if declared and declared not in ("utf-8", "utf-16-le", "utf-16-be", "utf-16", "utf-32"):
        return data.decode(declared, "replace")
    if declared == "utf-8" and _mostly_utf8(data):
        return data.decode("utf-8", "replace")
    detected = _detect(data)
    return data.decode(detected or "cp1252", "replace")


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
