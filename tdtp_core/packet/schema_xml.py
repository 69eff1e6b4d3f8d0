"""``<Schema>`` in Go marshal form, and back.

The canonical form (spec §6.2) is what the schema hash and the part-size envelope are
computed over, so it is produced here once, byte for byte.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.errors import PacketError
from tdtp_core.packet.xmlform import escape_m
from tdtp_core.types import DictionaryEntry, Field, Schema, SpecialValues

if TYPE_CHECKING:
    from lxml.etree import _Element

_MARKER_TAGS = (
    ("Null", "null"),
    ("Infinity", "infinity"),
    ("NegInfinity", "neg_infinity"),
    ("NaN", "nan"),
    ("NoDate", "no_date"),
)
_TAG_TO_KIND = dict(_MARKER_TAGS)


def _num(name: str, value: int | None) -> str:
    return f' {name}="{value}"' if value else ""


def field_xml(f: Field) -> str:
    parts = [f'<Field name="{escape_m(f.name)}" type="{escape_m(f.type)}"',
             _num("length", f.length), _num("precision", f.precision), _num("scale", f.scale)]
    if f.key:
        parts.append(' key="true"')
    if f.timezone:
        parts.append(f' timezone="{escape_m(f.timezone)}"')
    if f.subtype:
        parts.append(f' subtype="{escape_m(f.subtype)}"')
    if f.readonly:
        parts.append(' readonly="true"')
    if f.fixed:
        parts.append(' fixed="true"')
    parts.append(">")
    sv = f.special_values
    if sv is not None:
        parts.append("<SpecialValues>")
        for tag, kind in _MARKER_TAGS:
            marker = getattr(sv, kind)
            if marker is not None:
                parts.append(f'<{tag} marker="{escape_m(marker)}"></{tag}>')
        parts.append("</SpecialValues>")
    parts.append("</Field>")
    return "".join(parts)


def schema_xml(schema: Schema, *, xxh3: str | None = None, include_text: bool = True) -> str:
    """The Go marshal form of ``<Schema>``; with ``xxh3=None`` it is the hashed canonical form."""
    body = "".join(field_xml(f) for f in schema.fields)
    if schema.dictionary is not None:
        entries = "".join(
            f'<Entry short="{escape_m(e.short)}" full="{escape_m(e.full)}"></Entry>'
            for e in schema.dictionary
        )
        body += f"<Dictionary>{entries}</Dictionary>"
    if include_text and schema.text:
        body += escape_m(schema.text)
    head = f'<Schema xxh3="{xxh3}">' if xxh3 else "<Schema>"
    return f"{head}{body}</Schema>"


def parse_int(text: str | None, what: str) -> int:
    """Integer elements and attributes: trimmed, empty → 0 (spec §1.4)."""
    if text is None:
        return 0
    stripped = text.strip()
    if not stripped:
        return 0
    try:
        if "_" in stripped:
            raise ValueError(stripped)
        return int(stripped)
    except ValueError:
        raise PacketError(f"{what} is not an integer: {text!r}") from None


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False", ""}


def parse_bool(text: str | None, what: str) -> bool:
    if text is None:
        return False
    stripped = text.strip()
    if stripped in _TRUE:
        return True
    if stripped in _FALSE:
        return False
    raise PacketError(f"{what} is not a boolean: {text!r}")


def _direct_text(el: _Element) -> str:
    """Character data directly inside an element: its text plus each child's tail."""
    pieces = [el.text or ""]
    pieces.extend(child.tail or "" for child in el)
    return "".join(pieces)


def parse_schema(el: _Element) -> tuple[Schema, str | None]:
    """A ``<Schema>`` element → (Schema, its xxh3 attribute)."""
    fields: list[Field] = []
    dictionary: list[DictionaryEntry] | None = None
    for child in el:
        tag = child.tag
        if tag == "Field":
            fields.append(_parse_field(child))
        elif tag == "Dictionary":
            dictionary = [
                DictionaryEntry(e.get("short", ""), e.get("full", ""))
                for e in child
                if e.tag == "Entry"
            ]
    return Schema(fields, dictionary, _direct_text(el)), el.get("xxh3") or None


def _parse_field(el: _Element) -> Field:
    name = el.get("name", "")
    where = f"field {name!r}"
    special: SpecialValues | None = None
    for child in el:
        if child.tag == "SpecialValues":
            markers: dict[str, str] = {}
            for m in child:
                kind = _TAG_TO_KIND.get(str(m.tag))
                if kind is not None:
                    markers[kind] = m.get("marker", "")
            special = SpecialValues(**markers)
    return Field(
        name=name,
        type=el.get("type", ""),
        length=parse_int(el.get("length"), f"{where} length") or None,
        precision=parse_int(el.get("precision"), f"{where} precision") or None,
        scale=parse_int(el.get("scale"), f"{where} scale") or None,
        key=parse_bool(el.get("key"), f"{where} key"),
        timezone=el.get("timezone") or None,
        subtype=el.get("subtype") or None,
        readonly=parse_bool(el.get("readonly"), f"{where} readonly"),
        fixed=parse_bool(el.get("fixed"), f"{where} fixed"),
        special_values=special,
    )
