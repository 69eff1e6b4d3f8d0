"""The byte forms the reference writes: Go marshal escaping and its element shapes.

Hashes cover the Go marshal form of ``<Schema>`` byte for byte (spec §6.2), and part sizes
are measured on what is written, so these helpers are the only way XML text leaves tdtp.
"""

from __future__ import annotations

from collections.abc import Iterable

from tdtp_core.xmlchars import INVALID_XML_CHARS

__all__ = ["INVALID_XML_CHARS", "element", "escape_a", "escape_m", "text_element"]

_M_TABLE = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;",
    "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;",
})
_A_TABLE = str.maketrans({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
    "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;",
})


def escape_m(text: str) -> str:
    """Go ``encoding/xml`` escaping (spec §1.3 "M"): invalid characters become U+FFFD."""
    if INVALID_XML_CHARS.search(text):
        text = INVALID_XML_CHARS.sub("\ufffd", text)
    return text.translate(_M_TABLE)


def escape_a(text: str) -> str:
    """Escaping of the hand-written root and ``<Data>`` attributes (spec §1.3 "A")."""
    if INVALID_XML_CHARS.search(text):
        text = INVALID_XML_CHARS.sub("\ufffd", text)
    return text.translate(_A_TABLE)


def element(tag: str, attrs: Iterable[tuple[str, str | None]] = (), body: str = "") -> str:
    """``<tag a="v">body</tag>`` in Go marshal form: attributes with value None are left out."""
    attr_text = "".join(f' {k}="{escape_m(v)}"' for k, v in attrs if v is not None)
    return f"<{tag}{attr_text}>{body}</{tag}>"


def text_element(tag: str, text: str | None) -> str:
    """A child element holding text; omitted when the text is None."""
    if text is None:
        return ""
    return f"<{tag}>{escape_m(text)}</{tag}>"
