"""The normalisers, as functions of one non-empty text value.

A value a normaliser cannot handle is returned unchanged, as the reference does (framework
spec §5.3); ``phone``, ``email``, ``whitespace``, ``uppercase``, ``lowercase`` and ``date``
without a format give the reference's exact output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

Normalizer = Callable[[str], str]

_NOT_PHONE = re.compile(r"[^\d+]")
_DAY_FIRST = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{2,4})")
_TIME_DIRECTIVES = re.compile(r"%[HIMSfpzZ]")


def phone(value: str) -> str:
    """Reference ``phone``: digits only, one leading ``+`` dropped, at least 7 left:
    ``+1 (555) 123-4567`` → ``15551234567``."""
    cleaned = _NOT_PHONE.sub("", value)
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    return cleaned if len(cleaned) >= 7 else value


def e164(region: str | None) -> Normalizer:
    """E.164 (``+15551234567``); numbers without a country code are read as ``region``'s
    (an ISO 3166 code such as ``GB``). Numbers that are not possible stay unchanged."""
    import phonenumbers

    def normalize(value: str) -> str:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            return value
        if not phonenumbers.is_possible_number(number):
            return value
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    return normalize


def known_region(region: str) -> bool:
    """True for a region ``phonenumbers`` knows (``GB``, ``us``): any other would leave
    every number without a country code unchanged, silently."""
    import phonenumbers

    return region.upper() in phonenumbers.SUPPORTED_REGIONS


def email(value: str) -> str:
    """Trimmed and lower-cased, if it has an ``@`` and a ``.``."""
    cleaned = value.strip().lower()
    return cleaned if "@" in cleaned and "." in cleaned else value


def whitespace(value: str) -> str:
    """Trimmed, every run of whitespace (newlines included) one space."""
    return " ".join(value.split())


def uppercase(value: str) -> str:
    return value.upper()


def lowercase(value: str) -> str:
    return value.lower()


def day_first_date(value: str) -> str:
    """Reference ``date``: ``D.M.Y``, ``D/M/Y`` or ``D-M-Y`` to ``YYYY-MM-DD``; a two-digit
    year is 20YY: ``15/03/24`` → ``2024-03-15``. No range check, as in the reference."""
    match = _DAY_FIRST.fullmatch(value)
    if match is None:
        return value
    day, month, year = match.groups()
    if len(year) == 2:
        year = "20" + year
    return f"{year}-{month.zfill(2)}-{day.zfill(2)}"


def date_with_format(fmt: str) -> Normalizer:
    """``date:FORMAT`` (``strptime`` codes, e.g. ``%m/%d/%Y``) to ISO 8601: ``YYYY-MM-DD``,
    or ``YYYY-MM-DDTHH:MM:SS[.ffffff][±HH:MM]`` when the format reads a time."""
    with_time = _TIME_DIRECTIVES.search(fmt) is not None

    def normalize(value: str) -> str:
        try:
            parsed = datetime.strptime(value.strip(), fmt)
        except ValueError:
            return value
        return parsed.isoformat() if with_time else parsed.date().isoformat()

    return normalize


SIMPLE: dict[str, Normalizer] = {
    "phone": phone,
    "email": email,
    "whitespace": whitespace,
    "uppercase": uppercase,
    "lowercase": lowercase,
}
