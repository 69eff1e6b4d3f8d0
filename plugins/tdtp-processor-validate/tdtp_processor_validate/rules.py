"""Validation rules. Each checks one column of a batch and names the rows that fail.

Rules see a value's canonical cell text (``1500.50``, ``2024-01-31``), NULL as the empty
text, as the reference's validator sees cells; ``range`` compares typed numbers exactly.
The failure details are the reference's (framework spec §5.4), with two fixes
(DECISIONS 15): ``length`` counts characters, and ``range`` bounds may be negative.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tdtp_core.types import FLOAT_KINDS, INTEGER, Field

#: (values, texts, rows before this batch) → [(index in batch, failure detail)].
#: ``texts`` are the cell texts with NULL as "".
Check = Callable[[Sequence[Any], Sequence[str], int], list[tuple[int, str]]]

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_RANGE = re.compile(rf"\s*({_NUMBER})\s*-\s*({_NUMBER})\s*", re.ASCII)
_IS_NUMBER = re.compile(_NUMBER, re.ASCII)
_LENGTH = re.compile(r"\s*(\d+)\s*-\s*(\d+)\s*", re.ASCII)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_NOT_PHONE = re.compile(r"[^0-9+]")
_PHONE = re.compile(r"\+?[0-9]{7,15}")
_URL = re.compile(r"https?://[A-Za-z0-9.-]+(\.[A-Za-z]{2,})?(/.*)?")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


class RuleError(ValueError):
    """A rule that cannot be built (unknown type, bad parameter)."""


@dataclass(frozen=True)
class Rule:
    """One configured rule of one field."""

    text: str
    kind: str
    policy: str
    bind: Callable[[Field], Check]
    message: str | None = None
    allow_empty: bool = False


def _each(test: Callable[[str], str | None]) -> Callable[[Field], Check]:
    """A rule that judges each cell text on its own."""

    def check(values: Sequence[Any], texts: Sequence[str], base: int) -> list[tuple[int, str]]:
        return [(i, d) for i, t in enumerate(texts) if (d := test(t)) is not None]

    return lambda field: check


def _quote(text: str) -> str:
    return f"'{text}'"


def required(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    def check(values: Sequence[Any], texts: Sequence[str], base: int) -> list[tuple[int, str]]:
        pairs = enumerate(zip(values, texts, strict=True))
        return [(i, "field is required but empty") for i, (v, t) in pairs
                if v is None or not t.strip()]

    return lambda field: check


def regex(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    pattern = options.get("pattern", param)
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise RuleError(f"invalid regex pattern '{pattern}': {exc}") from None
    return _each(lambda t: None if compiled.search(t) else
                 f"value '{t}' does not match pattern '{pattern}'")


def _bounds(param: str, options: Mapping[str, Any], pattern: re.Pattern[str], what: str
            ) -> tuple[str | None, str | None]:
    if "min" in options or "max" in options:
        low, high = options.get("min"), options.get("max")
        return (None if low is None else str(low)), (None if high is None else str(high))
    match = pattern.fullmatch(param)
    if match is None:
        raise RuleError(f"expected {what}, got '{param}'")
    return match.group(1), match.group(2)


def value_range(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    """``range:MIN-MAX`` (``range:-10--5`` works) or ``min:``/``max:`` (either may be
    left out); numbers compare exactly, so ``0.1`` is not above ``0.1``."""
    low_text, high_text = _bounds(param, options, _RANGE, "range:MIN-MAX")
    try:
        low = None if low_text is None else Decimal(low_text)
        high = None if high_text is None else Decimal(high_text)
    except InvalidOperation:
        raise RuleError(f"range bounds must be numbers, got {low_text!r} and {high_text!r}"
                        ) from None
    shown = f"[{'-inf' if low is None else low_text}, {'inf' if high is None else high_text}]"

    def bind(field: Field) -> Check:
        typed = field.kind == INTEGER or field.kind in FLOAT_KINDS

        def check(values: Sequence[Any], texts: Sequence[str], base: int
                  ) -> list[tuple[int, str]]:
            out: list[tuple[int, str]] = []
            for i, (v, t) in enumerate(zip(values, texts, strict=True)):
                number: Any = v if typed and v is not None else (
                    Decimal(t) if _IS_NUMBER.fullmatch(t) else None)
                if number is None or number != number:  # NULL, text or NaN
                    out.append((i, f"value '{t}' is not a valid number"))
                elif (low is not None and number < low) or (high is not None and number > high):
                    out.append((i, f"value {t} is out of range {shown}"))
            return out

        return check

    return bind


def length(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    """``length:MIN-MAX`` in characters (the reference counts UTF-8 bytes)."""
    low_text, high_text = _bounds(param, options, _LENGTH, "length:MIN-MAX")
    low = int(low_text) if low_text is not None else 0
    high = int(high_text) if high_text is not None else None
    shown = f"[{low}, {high if high is not None else 'inf'}]"
    return _each(lambda t: None if low <= len(t) and (high is None or len(t) <= high) else
                 f"length {len(t)} is out of range {shown}")


def one_of(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    """``enum:a,b,c`` (items trimmed, the value not) or ``values: [a, b, c]``."""
    items = ([str(v) for v in options["values"]] if "values" in options
             else [item.strip() for item in param.split(",")])
    allowed = frozenset(items)
    listed = ",".join(items)
    return _each(lambda t: None if t in allowed else
                 f"value '{t}' is not in allowed list [{listed}]")


def email(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    return _each(lambda t: None if _EMAIL.fullmatch(t) else f"invalid email format: '{t}'")


def phone(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    return _each(lambda t: None if _PHONE.fullmatch(_NOT_PHONE.sub("", t)) else
                 f"invalid phone format: '{t}'")


def url(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    return _each(lambda t: None if _URL.fullmatch(t) else f"invalid URL format: '{t}'")


def _iso_date(t: str) -> str | None:
    match = _ISO_DATE.fullmatch(t)
    if match is None:
        return f"invalid date format: '{t}' (expected YYYY-MM-DD)"
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        return f"invalid month: {month}"
    if not 1 <= day <= 31:
        return f"invalid day: {day}"
    if not 1900 <= year <= 2100:
        return f"invalid year: {year}"
    return None


def date(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    """``date``: the reference's ``YYYY-MM-DD`` check (month, day ≤ 31, year 1900–2100);
    ``date:FORMAT`` (``strptime`` codes): the text must parse with that format."""
    fmt = options.get("format", param)
    if not fmt:
        return _each(_iso_date)

    def test(t: str) -> str | None:
        try:
            datetime.strptime(t, fmt)
        except ValueError:
            return f"invalid date format: '{t}' (expected {fmt})"
        return None

    return _each(test)


def unique(param: str, options: Mapping[str, Any]) -> Callable[[Field], Check]:
    """No value twice in the stream (NULLs ignored, as SQL does). Holds every distinct
    value of the field seen so far, with the row where it first appeared."""

    def bind(field: Field) -> Check:
        seen: dict[str, int] = {}

        def check(values: Sequence[Any], texts: Sequence[str], base: int
                  ) -> list[tuple[int, str]]:
            out: list[tuple[int, str]] = []
            for i, (v, t) in enumerate(zip(values, texts, strict=True)):
                if v is None:
                    continue
                first = seen.setdefault(t, base + i + 1)
                if first != base + i + 1:
                    out.append((i, f"value '{t}' is not unique (first in row {first})"))
            return out

        return check

    return bind


BUILDERS: dict[str, Callable[[str, Mapping[str, Any]], Callable[[Field], Check]]] = {
    "required": required,
    "regex": regex,
    "range": value_range,
    "length": length,
    "enum": one_of,
    "one_of": one_of,
    "email": email,
    "phone": phone,
    "url": url,
    "date": date,
    "unique": unique,
}


def build_rule(spec: str | Mapping[str, Any], default_policy: str, default_allow_empty: bool
               ) -> Rule:
    """A rule from its string form ``type[:param]`` or its object form."""
    options: Mapping[str, Any] = {} if isinstance(spec, str) else spec
    text = spec if isinstance(spec, str) else str(spec["type"])
    kind, _, param = text.partition(":")
    builder = BUILDERS.get(kind.strip())
    if builder is None:
        raise RuleError(f"unknown validation rule type: {kind} (types: {', '.join(BUILDERS)})")
    return Rule(
        text=text,
        kind=kind.strip(),
        policy=POLICIES[options.get("on_error", default_policy)],
        bind=builder(param, options),
        message=options.get("error"),
        allow_empty=bool(options.get("allow_empty", default_allow_empty)),
    )


#: What each ``on_error`` value does with a failing row (``filter`` is the reference's
#: name for ``drop``), and which wins when one row fails several rules.
POLICIES = {"fail": "fail", "reject": "reject", "drop": "drop", "filter": "drop", "warn": "warn"}
SEVERITY = {"warn": 0, "drop": 1, "reject": 2, "fail": 3}
