"""Value converters the type maps of several databases share.

Readers take what a driver returns for a column and give the stream's Python value;
binders go the other way. They are picked once per column, so each runs only on the
columns whose driver does not already speak the stream's types.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tdtp_core.types import NODATE

UTC = UTC


def to_bool(value: Any) -> bool:
    """0/1 integers (SQLite, MySQL ``TINYINT(1)``) as booleans."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "y", "yes")
    return bool(value)


def to_decimal(value: Any) -> Decimal:
    """Exact decimals from what a loosely typed column holds (SQLite NUMERIC: int/float/text)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def to_float(value: Any) -> float:
    return float(value)


def to_int(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return int(value)


def to_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def to_text(value: Any) -> str:
    """UUIDs, JSON documents, network addresses and arrays as their text form."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8")
    return str(value)


def date_from_db(value: Any) -> Any:
    """A DATE stored as text (SQLite) or a zero date (MySQL) as a date or ``NODATE``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if text.startswith("0000-00-00"):
        return NODATE
    if len(text) == 10:
        return date.fromisoformat(text)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def aware_from_db(value: Any) -> Any:
    """A timestamp the database keeps in UTC (text or naive) as an aware UTC datetime."""
    if not isinstance(value, datetime):
        text = str(value).strip()
        if text.startswith("0000-00-00"):
            return NODATE
        value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def naive_from_db(value: Any) -> Any:
    """A timestamp without zone (text or datetime) as a naive datetime."""
    if not isinstance(value, datetime):
        text = str(value).strip()
        if text.startswith("0000-00-00"):
            return NODATE
        value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def time_from_db(value: Any) -> time:
    """A time of day from text (SQLite), a timedelta (MySQL) or a time."""
    if isinstance(value, time):
        return value
    if isinstance(value, timedelta):
        seconds = value.days * 86400 + value.seconds
        return time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60, value.microseconds)
    if isinstance(value, datetime):
        return value.time()
    return time.fromisoformat(str(value).strip())


# ------------------------------------------------------------------------------ binders


def date_to_text(value: date) -> str:
    return value.isoformat()


def datetime_to_utc_text(value: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS[.ffffff]`` in UTC: the text SQLite's date functions read."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ")


def datetime_to_naive_utc(value: datetime) -> datetime:
    """Aware values as naive UTC, for columns that keep UTC by convention (MySQL)."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def time_to_text(value: time) -> str:
    return value.replace(tzinfo=None).isoformat()


def decimal_to_text(value: Decimal) -> str | None:
    return None if not value.is_finite() else format(value, "f")


def finite_or_none(value: float) -> float | None:
    """NaN and ±infinity become NULL where the database cannot store them (spec §3.5.2)."""
    return value if math.isfinite(value) else None


def decimal_finite_or_none(value: Decimal) -> Decimal | None:
    return value if value.is_finite() else None
