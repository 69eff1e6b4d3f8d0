"""The masks, as functions of one non-empty text value.

The four reference patterns reproduce the Go masker's output exactly (framework spec
§5.2), counting characters where Go counts bytes (identical for ASCII text).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable

Mask = Callable[[str], str]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_NOT_KEPT_BY_STARS = re.compile(r"[^ \-().\/]")
_DIGITS = frozenset("0123456789")


def partial(value: str) -> str:
    """Reference ``partial``: ``john.doe@example.com`` → ``j***@example.com``,
    ``Hello World`` → ``H***d``, two characters or fewer → ``***``."""
    match = _EMAIL.fullmatch(value)
    if match is not None:
        return f"{value[0]}***@{match.group(1)}"
    if len(value) <= 2:
        return "***"
    return f"{value[0]}***{value[-1]}"


def middle(value: str) -> str:
    """Reference ``middle`` (phones): the middle digits become ``X``, other characters stay.

    With D digits: D ≤ 4 → every character is ``X``; else k = 4 if D ≥ 8 else D // 2,
    and digits k+1 … D−k are replaced: ``+1 (555) 123-4567`` → ``+1 (555) XXX-4567``.
    """
    digits = sum(1 for c in value if c in _DIGITS)
    if digits <= 4:
        return "X" * len(value)
    keep = 4 if digits >= 8 else digits // 2
    out: list[str] = []
    seen = 0
    for c in value:
        if c in _DIGITS:
            seen += 1
            if keep < seen <= digits - keep:
                out.append("X")
                continue
        out.append(c)
    return "".join(out)


def stars(value: str) -> str:
    """Reference ``stars``: all but space, ``-``, ``(``, ``)``, ``.``, ``/`` become ``*``."""
    return _NOT_KEPT_BY_STARS.sub("*", value)


def first2_last2(value: str) -> str:
    """Reference ``first2_last2`` (cards): ``1234 567890`` → ``12** ****90``.

    Spaces are ignored for the count and kept in place; four characters or fewer
    become all ``*``.
    """
    compact = value.replace(" ", "")
    if len(compact) <= 4:
        return "*" * len(value)
    masked = compact[:2] + "*" * (len(compact) - 4) + compact[-2:]
    if len(compact) == len(value):
        return masked
    rest = iter(masked)
    return "".join(" " if c == " " else next(rest) for c in value)


def keep_ends(first: int, last: int) -> Mask:
    """``partial:FIRST:LAST``: keep that many characters at each end, ``*`` for each one
    between; a value no longer than FIRST + LAST becomes all ``*``."""

    def mask(value: str) -> str:
        n = len(value)
        if n <= first + last:
            return "*" * n
        return value[:first] + "*" * (n - first - last) + value[n - last:]

    return mask


def fixed(text: str) -> Mask:
    """Every value becomes ``text``: hides content and length."""

    def mask(value: str) -> str:
        return text

    return mask


def salted_hash(salt: str, length: int) -> Mask:
    """HMAC-SHA256 keyed by ``salt``, as the first ``length`` hex digits: equal inputs
    give equal outputs (joins still work), and without the salt nobody can rebuild the
    value from a dictionary of likely inputs."""
    key = salt.encode("utf-8")

    def mask(value: str) -> str:
        return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256
                        ).hexdigest()[:length]

    return mask


#: The reference's choice of pattern for ``--mask f1,f2`` (first match on the lower-cased
#: field name, else ``partial``).
_AUTO = (
    (("email",), "partial"),
    (("phone", "mobile"), "middle"),
    (("card", "credit"), "first2_last2"),
    (("passport", "ssn"), "stars"),
)


def auto_kind(field_name: str) -> str:
    name = field_name.lower()
    for needles, kind in _AUTO:
        if any(n in name for n in needles):
            return kind
    return "partial"
