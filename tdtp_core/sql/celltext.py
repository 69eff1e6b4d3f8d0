"""Driver values straight to packet cell text, a column at a time, for the export lane.

The typed path turns what a driver returns into the stream's Python values (a reader)
and the packet writer turns those into text (an encoder): for SQLite's NUMERIC stored as
REAL that is ``float → Decimal → str``, for its DATETIME text ``str → datetime → str``.
These converters go from the driver value to the final text in whole-column string
operations instead. Each proves, for the whole column, that its shortcut gives exactly
the text the typed path would, and returns None otherwise; the caller then takes the
typed path for that column, so odd values keep their exact conversion or error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from operator import itemgetter
from typing import Any

from tdtp_core.types import BOOLEAN, DATE, DECIMAL, TIMESTAMP, Field
from tdtp_core.values import HAS_NULL, NULL_SENTINEL

#: One column's driver values (None for NULL) to (cell texts, flags), or None when the
#: shortcut does not apply exactly.
CellEncoder = Callable[[Sequence[Any]], tuple[list[str], int] | None]
#: The same for the non-NULL values of a column.
_Present = Callable[[Sequence[Any]], list[str] | None]
#: A column's non-NULL packet cell texts → what the driver binds, or None when the
#: shortcut does not apply to every cell exactly (see ``checks.WriteColumn``).
CellBinder = Callable[[Sequence[str]], Sequence[Any] | None]

_SEP = "\x00"
_NUMBER_TYPES = frozenset({int, float})
_BOOL_VALUES = frozenset({0, 1})
_date_part = itemgetter(slice(0, 10))

# ISO text whose meaning ``datetime.fromisoformat`` and ``date.fromisoformat`` agree on
# with these shortcuts; anything else (zones, 7+ fraction digits, 24:00) goes typed.
_DAY = r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"


def _column(cell: str) -> re.Pattern[str]:
    """Matches a whole column joined with U+0000 (one regex call checks every cell)."""
    return re.compile(f"(?:{cell})(?:\x00(?:{cell}))*")


_DATES = _column(_DAY)
_NAIVE_TIMESTAMPS = _column(f"{_DAY}[ T]{_CLOCK}")
_FRACTION_ZEROS = re.compile("(\\.[0-9]*?)0+(?=\x00)")


def with_nulls(present: _Present) -> CellEncoder:
    """Lift a converter of non-NULL values to a column that may hold NULLs."""

    def encode(values: Sequence[Any]) -> tuple[list[str], int] | None:
        if None not in values:
            texts = present(values)
            return None if texts is None else (texts, 0)
        texts = present([v for v in values if v is not None])
        if texts is None:
            return None
        it = iter(texts)
        return [NULL_SENTINEL if v is None else next(it) for v in values], HAS_NULL

    return encode


def _valid_days(cells: Sequence[str]) -> bool:
    """Every distinct ``YYYY-MM-DD`` prefix is a real day (a column has few of them)."""
    try:
        for day in set(map(_date_part, cells)):
            date.fromisoformat(day)
    except ValueError:
        return False
    return True


def decimal_from_numbers(scale: int, *, within_scale: bool = False) -> CellEncoder:
    """DECIMAL from ``int``/``float`` (SQLite keeps NUMERIC as either): the typed path's
    ``format(Decimal(repr(v)), "f")`` padded to ``scale`` fraction digits.

    ``"%.{scale}f"`` gives that text when it reads back as the same number and the
    numbers are small enough that floats are closer together than ``10**-scale`` (then
    only one such text reads back as the value, and ``repr`` padded is that text).
    Otherwise ``repr`` is padded by a regex, cell by cell where it is short.
    ``within_scale``: a typed path that rounds floats to the scale (the pipeline
    workspace) is only matched when no cell has more fraction digits than the scale.
    """
    fixed = f"%.{scale}f".__mod__
    limit = 2.0**52 / 10**scale
    exact = _column(f"-?[0-9]+\\.[0-9]{{{scale}}}")
    # A cell with fewer fraction digits than the scale (or none): it gets zeros.
    short = re.compile(f"\x00(-?[0-9]+(?:\\.[0-9]{{0,{max(scale - 1, 0)}}})?)(?=\x00)")

    def pad(m: re.Match[str]) -> str:
        text = m.group(1)
        dot = text.find(".")
        if dot < 0:
            return f"\x00{text}.{'0' * scale}"
        return f"\x00{text}{'0' * (scale - (len(text) - dot - 1))}"

    def present(values: Sequence[Any]) -> list[str] | None:
        if not set(map(type, values)) <= _NUMBER_TYPES:
            return None
        if scale and values and max(map(abs, values)) < limit:
            texts = list(map(fixed, values))
            if list(map(float, texts)) == list(values):
                return texts
        texts = list(map(repr, values))
        joined = _SEP.join(texts)
        if "e" in joined or "n" in joined:  # exponents, inf, nan: the typed path
            return None
        if not scale:
            return None if within_scale and "." in joined else texts
        if exact.fullmatch(joined):
            return texts
        padded = short.sub(pad, f"\x00{joined}\x00")[1:-1]
        if within_scale and not exact.fullmatch(padded):
            return None
        return padded.split(_SEP)

    return with_nulls(present)


def _bools_from_ints(values: Sequence[Any]) -> list[str] | None:
    """BOOLEAN stored as 0/1 integers: "0"/"1", as ``to_bool`` then the encoder give."""
    if set(values) <= _BOOL_VALUES and set(map(type, values)) <= {int, bool}:
        return list(map(int.__repr__, values))
    return None


bool_from_ints = with_nulls(_bools_from_ints)


def _dates_from_text(values: Sequence[Any]) -> list[str] | None:
    """DATE kept as ``YYYY-MM-DD`` text is already its cell text."""
    if set(map(type, values)) <= {str} and _DATES.fullmatch(_SEP.join(values)) \
            and _valid_days(values):
        return list(values)
    return None


date_from_text = with_nulls(_dates_from_text)


def _timestamps_from_text(values: Sequence[Any]) -> list[str] | None:
    """A zone-less ``YYYY-MM-DD HH:MM:SS[.ffffff]`` text read as UTC: RFC 3339 with
    ``Z`` and the fraction's trailing zeros trimmed, as ``timestamp_text`` writes it."""
    if not set(map(type, values)) <= {str}:
        return None
    joined = _SEP.join(values)
    if not _NAIVE_TIMESTAMPS.fullmatch(joined) or not _valid_days(values):
        return None
    joined = joined.replace(" ", "T") + _SEP
    if "." in joined:
        joined = _FRACTION_ZEROS.sub(r"\1", joined).replace("." + _SEP, _SEP)
    return joined.replace(_SEP, "Z" + _SEP)[:-1].split(_SEP)


timestamp_from_text = with_nulls(_timestamps_from_text)


def from_sqlite_storage(field: Field, *, rounds_to_scale: bool = False) -> CellEncoder | None:
    """The shortcut for a column kept the SQLite way (NUMERIC as ``int``/``float``,
    booleans as 0/1, dates and UTC timestamps as ISO text), as both the SQLite adapter
    and the pipeline workspace store them. ``rounds_to_scale``: the typed path rounds
    floats to the field's scale (the workspace's does)."""
    if field.is_time:
        return None
    if field.kind == DECIMAL:
        return decimal_from_numbers(field.scale or 0,
                                    within_scale=rounds_to_scale and field.scale is not None)
    if field.kind == BOOLEAN:
        return bool_from_ints
    if field.kind == DATE:
        return date_from_text
    if field.kind == TIMESTAMP and field.timezone == "UTC":
        return timestamp_from_text
    return None


# ------------------------------------------------------------ cell text to bind values
# The import direction (``TypeMap.cell_binder``): non-NULL cells of a clean column to
# exactly what ``binder(decoded value)`` would bind (or, for a database that reads text,
# to text it reads as that value), or None.


def _passthrough(pattern: re.Pattern[str], days: bool = False) -> CellBinder:
    """Cells that all match ``pattern`` (and are real days) bind as they are."""

    def bind(cells: Sequence[str]) -> Sequence[str] | None:
        if pattern.fullmatch(_SEP.join(cells)) and (not days or _valid_days(cells)):
            return cells
        return None

    return bind


#: Canonical decimals: ``format(Decimal(cell), "f")`` is the cell, and a server parses
#: the cell to the number Python's ``float``/``Decimal`` would.
decimal_text = _passthrough(_column(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"))
#: Integers of at most 18 digits, canonical: always in the signed 64-bit range.
integer_text = _passthrough(_column(r"-?(?:0|[1-9][0-9]{0,17})"))
#: The protocol's own booleans.
boolean_text = _passthrough(_column("[01]"))
#: ``YYYY-MM-DD`` real days: ``date.isoformat()`` of themselves.
date_text = _passthrough(_DATES, days=True)
#: RFC 3339 UTC instants (``…Z``), as a server that reads ISO 8601 takes them.
rfc3339_utc_text = _passthrough(_column(f"{_DAY}T{_CLOCK}Z"), days=True)

_FRACTION = re.compile("\\.([0-9]{1,6})(?=\x00)")


def _microseconds(m: re.Match[str]) -> str:
    digits = m.group(1)
    return "" if digits.count("0") == len(digits) else f".{digits:0<6}"


def utc_text(cells: Sequence[str]) -> Sequence[str] | None:
    """RFC 3339 UTC cells as ``YYYY-MM-DD HH:MM:SS[.ffffff]``, the UTC text
    ``datetime.isoformat(sep=" ")`` gives (six fraction digits, or none if zero)."""
    if rfc3339_utc_text(cells) is None:
        return None
    joined = (_SEP.join(cells) + _SEP).replace("Z" + _SEP, _SEP).replace("T", " ")
    if "." in joined:
        joined = _FRACTION.sub(_microseconds, joined)
    return joined[:-1].split(_SEP)
