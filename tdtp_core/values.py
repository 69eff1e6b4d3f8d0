"""Cell text <-> Python values, one column at a time.

Converters work on whole columns of a batch so the common case runs inside C loops
(``map(int, cells)``); only columns that hold NULLs, markers or odd values take the
per-cell path. Encoders return the cell texts plus a bit set of the special values they
met, which the writer turns into ``<SpecialValues>`` for the part (spec §5.4).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import repeat
from operator import attrgetter
from typing import Any

from tdtp_core.errors import SchemaError
from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DATE_KINDS,
    DECIMAL,
    INF_MARKER,
    INTEGER,
    NAN_MARKER,
    NEG_INF_MARKER,
    NO_DATE_MARKER,
    NODATE,
    NULL_MARKER,
    REAL,
    Field,
)
from tdtp_core.xmlchars import INVALID_XML_CHARS

#: Stands for NULL inside encoded rows until the part's Null marker is chosen.
NULL_SENTINEL = "\x02"

HAS_NULL = 1
HAS_NAN = 2
HAS_INF = 4
HAS_NEG_INF = 8
HAS_NO_DATE = 16
#: A text column holds the literal Null marker as a value: the part needs another marker.
HAS_MARKER_TEXT = 32

Decoder = Callable[[Sequence[str]], list[Any]]
Encoder = Callable[[Sequence[Any]], tuple[list[str], int]]


class CellError(SchemaError):
    """A cell that does not parse as its field's type; ``index`` is its row in the batch."""

    def __init__(self, index: int, field: Field, text: str, reason: str) -> None:
        shown = text if len(text) <= 60 else text[:57] + "..."
        super().__init__(f"field {field.name!r}: {reason} (value: {shown!r})")
        self.index = index
        self.field_name = field.name


# ---------------------------------------------------------------------------- parsing


# The reference's accepted syntaxes (spec §2.5), checked before Python's more lenient
# converters see the text (int() takes "1_000" and " 5", fromisoformat takes "20240105").
_INT = r"[+-]?[0-9]+"
_FLOAT = (r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
          r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN])")
_HEX_FLOAT = r"[+-]?0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_CLOCK = r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
_RFC3339 = rf"{_DATE}T{_CLOCK}(?:Z|[+-][0-9]{{2}}:[0-9]{{2}})"
_TIMESTAMP = rf"{_DATE}(?:[T ]{_CLOCK}(?:Z|[+-][0-9]{{2}}:[0-9]{{2}})?)?"

_INT_RE = re.compile(_INT)
_FLOAT_RE = re.compile(_FLOAT)
_HEX_FLOAT_RE = re.compile(_HEX_FLOAT)
_DATE_RE = re.compile(_DATE)
_RFC3339_RE = re.compile(_RFC3339)
_TIMESTAMP_RE = re.compile(_TIMESTAMP)


def _column_pattern(cell: str) -> re.Pattern[str]:
    """Matches a whole column joined with U+0000: one regex call checks every cell."""
    return re.compile(f"(?:{cell})(?:\x00(?:{cell}))*")


_INT64 = (-(2**63), 2**63 - 1)


def _parse_int(text: str) -> int:
    if not _INT_RE.fullmatch(text):
        raise ValueError(text)
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        raise ValueError(f"out of the signed 64-bit range: {text}")
    return value


def _parse_real(text: str) -> float:
    if _FLOAT_RE.fullmatch(text):
        value = float(text)
        if value in (math.inf, -math.inf) and text.lstrip("+-")[:1] not in "iI":
            raise ValueError(f"out of range: {text}")
        return value
    if _HEX_FLOAT_RE.fullmatch(text):
        return float.fromhex(text)
    raise ValueError(text)


def _parse_decimal(text: str) -> Decimal:
    if not _FLOAT_RE.fullmatch(text):
        raise ValueError(text)
    return Decimal(text)


_BOOLS = {"1": True, "0": False, "true": True, "false": False, "TRUE": True, "FALSE": False,
          "True": True, "False": False}


def _parse_bool(text: str) -> bool:
    try:
        return _BOOLS[text]
    except KeyError:
        raise ValueError(text) from None


def _parse_date(text: str) -> date | object:
    if text == NO_DATE_MARKER:
        return NODATE
    if _DATE_RE.fullmatch(text):
        return date.fromisoformat(text)
    if _RFC3339_RE.fullmatch(text):
        # RFC 3339 date-time: keep its local calendar date (spec §2.5).
        return datetime.fromisoformat(text).date()
    raise ValueError(text)


def _datetime_parser(aware: bool) -> Callable[[str], datetime]:
    def fromiso(text: str) -> datetime:
        if not _TIMESTAMP_RE.fullmatch(text):
            raise ValueError(text)
        return datetime.fromisoformat(text)

    if aware:
        def parse(text: str) -> datetime:
            value = fromiso(text)
            if value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value if value.tzinfo is UTC else value.astimezone(UTC)
    else:
        def parse(text: str) -> datetime:
            value = fromiso(text)
            if value.tzinfo is None:
                return value
            return value.astimezone(UTC).replace(tzinfo=None)

    return parse


def _parse_time(text: str) -> time:
    body = text
    if "T" in body:  # the reference's 0000-01-01T08:00:00Z / 0001-01-01T… forms
        body = body.split("T", 1)[1]
    if body.endswith(("Z", "z")):
        body = body[:-1]
    try:
        return time.fromisoformat(body)
    except ValueError:
        for fmt in ("%I:%M:%S %p", "%I:%M %p"):
            try:
                return datetime.strptime(body, fmt).time()
            except ValueError:
                pass
        raise


def _parse_blob(text: str) -> bytes:
    if "\r" in text or "\n" in text:
        text = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(text) from exc


_REASONS = {
    INTEGER: "invalid integer value",
    REAL: "invalid float value",
    DECIMAL: "invalid decimal value",
    BOOLEAN: "boolean must be 0 or 1",
    DATE: "invalid date format, expected YYYY-MM-DD",
    BLOB: "invalid base64 encoding",
}


def text_parser(field: Field) -> Callable[[str], Any] | None:
    """The converter for one non-empty, non-marker cell; None when the text is the value."""
    if field.is_time:
        return _parse_time
    kind = field.kind
    if kind == INTEGER:
        return _parse_int
    if kind == REAL:
        return _parse_real
    if kind == DECIMAL:
        return _parse_decimal
    if kind == BOOLEAN:
        return _parse_bool
    if kind == DATE:
        return _parse_date
    if kind in DATE_KINDS:
        return _datetime_parser(aware=bool(field.timezone))
    if kind == BLOB:
        return _parse_blob
    return None


def _reason(field: Field) -> str:
    if field.is_time:
        return "invalid time format, expected HH:MM:SS"
    if field.kind in DATE_KINDS and field.kind != DATE:
        return "invalid timestamp format, expected RFC3339"
    return _REASONS.get(field.kind, "invalid value")


def special_values_map(field: Field) -> dict[str, Any]:
    """Marker text -> Python value for the markers this field declares (spec §5.5)."""
    sv = field.special_values
    if not sv:
        return {}
    floaty = field.kind in (REAL, DECIMAL)
    out: dict[str, Any] = {}
    make: Callable[[str], Any] = Decimal if field.kind == DECIMAL else float
    # Reverse decoding order so that the earlier kinds win when markers coincide.
    for kind, marker in reversed(list(sv.markers())):
        if kind == "null":
            out[marker] = None
        elif kind == "no_date":
            out[marker] = NODATE if field.kind in DATE_KINDS else None
        elif kind == "nan" and floaty:
            out[marker] = make("NaN")
        elif kind == "infinity":
            out[marker] = make("Infinity") if floaty else None
        elif kind == "neg_infinity":
            out[marker] = make("-Infinity") if floaty else None
    return out


def column_decoder(field: Field) -> Decoder:
    """Build the function that turns a column of cell texts into Python values."""
    parse = text_parser(field)
    specials = special_values_map(field)
    text_like = parse is None
    # An empty cell is "" for text, NULL otherwise; a BLOB whose NULLs are marked
    # explicitly keeps "" as empty bytes (our writer relies on it, see DECISIONS notes).
    empty: Any = "" if text_like else None
    if field.kind == BLOB and specials and None in specials.values():
        empty = b""
    markers = tuple(specials)

    def slow(cells: Sequence[str]) -> list[Any]:
        out: list[Any] = []
        append = out.append
        for i, cell in enumerate(cells):
            if cell in specials:
                append(specials[cell])
            elif cell == "" or cell == "\x00":
                append(None if cell == "\x00" else empty)
            elif parse is None:
                append(cell)
            else:
                try:
                    append(parse(cell))
                except (ValueError, TypeError, OverflowError):
                    raise CellError(i, field, cell, _reason(field)) from None
        return out

    if text_like:
        def decode_text(cells: Sequence[str]) -> list[Any]:
            if "\x00" in cells:
                return slow(cells)
            if any(m in cells for m in markers):  # markers only: what slow() gives
                return list(map(specials.get, cells, cells))
            return list(cells)

        return decode_text

    assert parse is not None
    convert = parse

    def mapped(cells: Sequence[str]) -> list[Any]:
        # A converter alone may take an empty cell for a value (BLOB: b"").
        if "" in cells or "\x00" in cells:
            raise ValueError("empty cell")
        return list(map(convert, cells))

    fast = _fast_column_parser(field) or mapped

    def decode(cells: Sequence[str]) -> list[Any]:
        # A marker may look like a value ("0" as the Null marker); the fast parsers
        # refuse a column holding an empty or U+0000 cell (NULL) by themselves.
        if any(m in cells for m in markers):
            return slow(cells)
        try:
            return fast(cells)
        except (ValueError, TypeError, OverflowError, ArithmeticError, KeyError):
            return slow(cells)  # decodes NULLs, finds and names the bad cell

    return decode


_FAST: dict[str, tuple[str, Callable[[str], Any]]] = {
    INTEGER: (_INT, int),
    REAL: (_FLOAT, float),
    DECIMAL: (_FLOAT, Decimal),
    DATE: (_DATE, date.fromisoformat),
}
# What the builtin converter accepts of a text made only of these characters is exactly
# what the field's syntax above accepts (no spaces, underscores, letters but the
# exponent, non-ASCII digits), so the builtin's own check is the syntax check.
_DIGITS = b"0123456789"
_PLAIN_CHARS = {INTEGER: _DIGITS + b"+-", REAL: _DIGITS + b".+-eE", DECIMAL: _DIGITS + b".+-eE"}


def _only(text: str, chars: bytes) -> bool:
    """``text`` holds nothing but these ASCII characters (C-level passes, no regex)."""
    return text.isascii() and not text.encode("ascii").translate(None, chars)


def _fixed_shape(shape: str) -> Callable[[str, int], bool]:
    """A check that every cell of a column has ``shape`` exactly: ``9`` any ASCII digit,
    any other character itself. The column is joined with U+0000 after every cell, so
    strided slices test one position of every cell at once; with the digits deleted
    what is left must be the literals alone, so every other position is a digit."""
    width = len(shape) + 1
    literals = [(i, c) for i, c in enumerate(shape + "\x00") if c != "9"]
    skeleton = "".join(c for _, c in literals).encode("ascii")

    def matches(terminated: str, count: int) -> bool:
        if len(terminated) != width * count or not terminated.isascii():
            return False
        if any(terminated[i::width] != c * count for i, c in literals):
            return False
        return terminated.encode("ascii").translate(None, _DIGITS) == skeleton * count

    return matches


#: Dates, and the writer's timestamps of whole seconds.
_CANONICAL_DATE = _fixed_shape("9999-99-99")
_CANONICAL_INSTANT = _fixed_shape("9999-99-99T99:99:99Z")


def _fast_column_parser(field: Field) -> Callable[[Sequence[str]], list[Any]] | None:
    """C-loop parsing of a clean column: a proof over the whole column that every cell
    has the reference's syntax (a character-set check where the converter is strict
    enough, a fixed shape, else one regex over the joined column), then the builtin
    converter maps it. Raises on anything else, and the caller falls back to the
    per-cell path that names the cell."""
    if field.is_time:
        return None
    kind = field.kind
    if kind == BOOLEAN:
        lookup = _BOOLS.__getitem__
        return lambda cells: list(map(lookup, cells))
    if kind in _FAST:
        cell_syntax, convert = _FAST[kind]
        column = _column_pattern(cell_syntax)
        plain = _PLAIN_CHARS.get(kind)
        shape = _CANONICAL_DATE if kind == DATE else None
        check_inf = kind == REAL
        check_range = kind == INTEGER

        def scalars(cells: Sequence[str]) -> list[Any]:
            if not cells:
                return []
            proved = (plain is not None and _only("".join(cells), plain)) or (
                shape is not None and shape("\x00".join(cells) + "\x00", len(cells)))
            if not proved and not column.fullmatch("\x00".join(cells)):
                raise ValueError("syntax")
            out = list(map(convert, cells))
            if check_inf and (math.inf in out or -math.inf in out):
                raise ValueError("infinity")  # "1e400" overflows; only "inf" may be inf
            if check_range and (min(out) < _INT64[0] or max(out) > _INT64[1]):
                raise ValueError("range")
            return out

        return scalars
    if kind in DATE_KINDS:
        column = _column_pattern(_TIMESTAMP)
        fromiso = datetime.fromisoformat
        aware = bool(field.timezone)

        def instants(cells: Sequence[str]) -> list[Any]:
            joined = "\x00".join(cells) + "\x00"
            if not _CANONICAL_INSTANT(joined, len(cells)):
                if not column.fullmatch(joined[:-1]):
                    raise ValueError("syntax")
                if joined.count("Z\x00") != len(cells):
                    raise ValueError("not all UTC")
            if aware:
                return list(map(fromiso, cells))
            return list(map(fromiso, joined.replace("Z\x00", "\x00")[:-1].split("\x00")))

        return instants
    return None


def parse_value(field: Field, text: str) -> Any:
    """One cell's text to its Python value (markers and empty-cell rules included)."""
    return column_decoder(field)([text])[0]


# --------------------------------------------------------------------------- encoding


def _real_text(value: float) -> tuple[str, int]:
    if value != value:
        return NAN_MARKER, HAS_NAN
    if value in (math.inf, -math.inf):
        return (INF_MARKER, HAS_INF) if value > 0 else (NEG_INF_MARKER, HAS_NEG_INF)
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    elif text.endswith(".0"):
        text = text[:-2]
    return text, 0


def _as_float(value: Any) -> float:
    if isinstance(value, str):
        return _parse_real(value)
    return float(value)


def _encode_real(values: Sequence[Any]) -> tuple[list[str], int]:
    try:
        texts = list(map(float.__repr__, values))
    except TypeError:
        texts = []
    else:
        joined = "\x00".join(texts)
        if "e" not in joined and "n" not in joined:
            joined = (joined + "\x00").replace(".0\x00", "\x00")
            return joined[:-1].split("\x00"), 0
    out: list[str] = []
    flags = 0
    for v in values:
        if v is None:
            out.append(NULL_SENTINEL)
            flags |= HAS_NULL
        else:
            text, flag = _real_text(_as_float(v))
            out.append(text)
            flags |= flag
    return out, flags


def _decimal_encoder(scale: int) -> Encoder:
    def text_of(value: Any) -> tuple[str, int]:
        if not isinstance(value, Decimal):
            if isinstance(value, float):
                if value != value or value in (math.inf, -math.inf):
                    return _real_text(value)
                value = Decimal(repr(value))
            else:
                value = Decimal(value)
        if not value.is_finite():
            if value.is_nan():
                return NAN_MARKER, HAS_NAN
            return (INF_MARKER, HAS_INF) if value > 0 else (NEG_INF_MARKER, HAS_NEG_INF)
        text = format(value, "f")
        if scale:
            dot = text.find(".")
            if dot < 0:
                text = f"{text}.{'0' * scale}"
            else:
                missing = scale - (len(text) - dot - 1)
                if missing > 0:
                    text += "0" * missing
        return text, 0

    # A column whose every cell already has exactly ``scale`` fraction digits (what
    # databases return for NUMERIC(p, s)) is formatted in one C loop.
    exact = re.compile(
        f"-?\\d+\\.\\d{{{scale}}}" if scale else "-?\\d+(?:\\.\\d+)?"
    )

    def encode(values: Sequence[Any]) -> tuple[list[str], int]:
        if set(map(type, values)) == {Decimal}:
            texts = list(map(format, values, repeat("f")))
            if all(map(exact.fullmatch, texts)):
                return texts, 0
        out: list[str] = []
        flags = 0
        for v in values:
            if v is None:
                out.append(NULL_SENTINEL)
                flags |= HAS_NULL
            else:
                text, flag = text_of(v)
                out.append(text)
                flags |= flag
        return out, flags

    return encode


def _int_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float) and value.is_integer():
        return int.__repr__(int(value))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int.__repr__(int(value))
    if isinstance(value, str):
        return int.__repr__(_parse_int(value))
    raise TypeError(f"not an integer: {value!r}")


def _encode_int(values: Sequence[Any]) -> tuple[list[str], int]:
    try:
        return list(map(int.__repr__, values)), 0
    except TypeError:
        pass
    flags = 0
    out: list[str] = []
    for v in values:
        if v is None:
            out.append(NULL_SENTINEL)
            flags = HAS_NULL
        else:
            out.append(_int_text(v))
    return out, flags


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


_STR_OR_NONE = frozenset({str, type(None)})


class InvalidCharacterError(CellError):
    """Text holding a character XML 1.0 cannot carry (DECISIONS 2)."""


def _text_encoder(field: Field, replace_invalid: bool) -> Encoder:
    def encode(values: Sequence[Any]) -> tuple[list[str], int]:
        types = set(map(type, values))
        if types <= {str}:
            out: list[str] = list(values)
            flags = 0
            joined = "".join(out)
        elif types <= _STR_OR_NONE:  # text with NULLs: no call per value
            out = [NULL_SENTINEL if v is None else v for v in values]
            flags = HAS_NULL
            joined = "".join(filter(None, values))
        else:
            flags = HAS_NULL if type(None) in types else 0
            out = [NULL_SENTINEL if v is None else _text_of(v) for v in values]
            joined = "".join(v for v in out if v is not NULL_SENTINEL)
        # Printable text holds no control character; the regex runs only otherwise.
        if not joined.isprintable() and INVALID_XML_CHARS.search(joined):
            for i, v in enumerate(out):
                if v is not NULL_SENTINEL and INVALID_XML_CHARS.search(v):
                    if not replace_invalid:
                        bad = INVALID_XML_CHARS.search(v)
                        assert bad is not None
                        raise InvalidCharacterError(
                            i, field, v,
                            f"character U+{ord(bad.group()):04X} cannot be written to XML "
                            "(use the replace option to write U+FFFD instead)",
                        )
                    out[i] = INVALID_XML_CHARS.sub("\ufffd", v)
        if NULL_MARKER in out:
            flags |= HAS_MARKER_TEXT
        return out, flags

    return encode


def _encode_bool(values: Sequence[Any]) -> tuple[list[str], int]:
    flags = 0
    out: list[str] = []
    for v in values:
        if v is None:
            out.append(NULL_SENTINEL)
            flags = HAS_NULL
        elif isinstance(v, str):
            out.append("1" if _parse_bool(v) else "0")
        else:
            out.append("1" if v else "0")
    return out, flags


def _date_text(value: Any) -> tuple[str, int]:
    if value is NODATE:
        return NO_DATE_MARKER, HAS_NO_DATE
    if isinstance(value, date):
        return date.isoformat(value), 0
    if isinstance(value, str):
        parsed = _parse_date(value)
        return _date_text(parsed)
    raise TypeError(f"not a date: {value!r}")


def _encode_date(values: Sequence[Any]) -> tuple[list[str], int]:
    try:
        return list(map(date.isoformat, values)), 0
    except TypeError:
        pass
    flags = 0
    out: list[str] = []
    for v in values:
        if v is None:
            out.append(NULL_SENTINEL)
            flags |= HAS_NULL
        else:
            text, flag = _date_text(v)
            out.append(text)
            flags |= flag
    return out, flags


def timestamp_text(value: datetime) -> str:
    """RFC 3339 in UTC with ``Z`` and the fraction's trailing zeros trimmed (spec §1.5)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text = value.isoformat()
    if value.microsecond:
        text = text.rstrip("0")
    return text + "Z"


def _timestamp_of(value: Any) -> tuple[str, int]:
    if value is NODATE:
        return NO_DATE_MARKER, HAS_NO_DATE
    if isinstance(value, datetime):
        return timestamp_text(value), 0
    if isinstance(value, date):
        return timestamp_text(datetime(value.year, value.month, value.day)), 0
    if isinstance(value, str):
        return timestamp_text(_datetime_parser(aware=False)(value)), 0
    raise TypeError(f"not a timestamp: {value!r}")


_FRACTION_ZEROS = re.compile("(\\.\\d*?)0+Z")
_tzinfo = attrgetter("tzinfo")


def _encode_timestamp(values: Sequence[Any]) -> tuple[list[str], int]:
    # Fast path: a column of plain datetimes, all naive or all UTC, formatted in C loops.
    if set(map(type, values)) == {datetime}:
        zones = set(map(_tzinfo, values))
        if zones == {None} or zones == {UTC}:
            joined = "\x00".join(map(datetime.isoformat, values)) + "\x00"
            if zones == {UTC}:
                joined = joined.replace("+00:00\x00", "Z\x00")
            else:
                joined = joined.replace("\x00", "Z\x00")
            if "." in joined:
                joined = _FRACTION_ZEROS.sub(r"\1Z", joined)
            return joined[:-1].split("\x00"), 0
    flags = 0
    out: list[str] = []
    for v in values:
        if v is None:
            out.append(NULL_SENTINEL)
            flags |= HAS_NULL
        else:
            text, flag = _timestamp_of(v)
            out.append(text)
            flags |= flag
    return out, flags


def _time_of(value: Any) -> str:
    if isinstance(value, time):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, datetime):
        return value.time().isoformat()
    if isinstance(value, str):
        return _parse_time(value).isoformat()
    raise TypeError(f"not a time of day: {value!r}")


def _encode_time(values: Sequence[Any]) -> tuple[list[str], int]:
    flags = 0
    out: list[str] = []
    for v in values:
        if v is None:
            out.append(NULL_SENTINEL)
            flags = HAS_NULL
        else:
            out.append(_time_of(v))
    return out, flags


def _encode_blob(values: Sequence[Any]) -> tuple[list[str], int]:
    flags = 0
    out: list[str] = []
    b64 = base64.b64encode
    for v in values:
        if v is None:
            out.append(NULL_SENTINEL)
            flags = HAS_NULL
        else:
            if isinstance(v, str):
                v = v.encode("utf-8")
            elif not v:
                flags = HAS_NULL  # "" must read back as b"", which needs a declared marker
            out.append(b64(v).decode("ascii"))
    return out, flags


def column_encoder(field: Field, *, replace_invalid: bool = False) -> Encoder:
    """Build the function that turns a column of Python values into cell texts.

    ``replace_invalid`` writes U+FFFD for characters XML cannot carry instead of failing.
    """
    if field.is_time:
        return _encode_time
    kind = field.kind
    if kind == INTEGER:
        return _encode_int
    if kind == REAL:
        return _encode_real
    if kind == DECIMAL:
        return _decimal_encoder(field.scale or 0)
    if kind == BOOLEAN:
        return _encode_bool
    if kind == DATE:
        return _encode_date
    if kind in DATE_KINDS:
        return _encode_timestamp
    if kind == BLOB:
        return _encode_blob
    return _text_encoder(field, replace_invalid)


def format_value(field: Field, value: Any) -> str:
    """One Python value as canonical cell text; NULL as the empty string."""
    if value is None:
        return ""
    texts, _ = column_encoder(field)([value])
    return texts[0]


def column_texts(field: Field, *, replace_invalid: bool = False
                 ) -> Callable[[Sequence[Any]], list[str | None]]:
    """A column's values as their canonical cell texts (``1500.50``, ``2024-01-31``), NULL
    as None: what text rules and comparisons see of a field that is not TEXT."""
    encode = column_encoder(field, replace_invalid=replace_invalid)

    def texts(values: Sequence[Any]) -> list[str | None]:
        out, flags = encode(values)
        if flags & HAS_NULL:
            return [None if t == NULL_SENTINEL else t for t in out]
        return list(out)

    return texts
