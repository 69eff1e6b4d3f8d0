"""Database URLs: masking passwords for display and picking the default driver.

Every message that names a database goes through :func:`mask_url`, so a password never
reaches a terminal, a log line or an error (design §4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tdtp_core.errors import ConfigError

_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@?#]*):(?P<pw>[^@/?#]*)@")
_QUERY_SECRET = re.compile(r"(?P<key>[?&;](?:password|passwd|pwd|secret|token)=)[^&;#]*",
                           re.IGNORECASE)
MASK = "***"


def mask_url(url: str) -> str:
    """The URL with any password (in the user part or the query) replaced by ``***``."""
    masked = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", url)
    return _QUERY_SECRET.sub(lambda m: f"{m['key']}{MASK}", masked)


def dialect_of(url: str) -> str:
    """The scheme's dialect part: ``postgresql`` for ``postgresql+psycopg://…``."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        scheme = url.partition(":")[0]
    return scheme.partition("+")[0].lower()


def parse_url(url: str, *, driver: str, aliases: Mapping[str, str] | None = None) -> URL:
    """Parse ``url`` and give a bare scheme the plugin's driver.

    ``postgres://`` and ``mariadb://`` style aliases are renamed to the dialect
    SQLAlchemy knows, so every spelling a user might type works out of the box.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"not a database URL: {mask_url(url)}") from exc
    name, _, explicit = parsed.drivername.partition("+")
    name = (aliases or {}).get(name, name)
    return parsed.set(drivername=f"{name}+{explicit or driver}")


def split_table_name(name: str) -> tuple[str | None, str]:
    """``schema.table`` → (schema, table); strips ``[…]``, ``"…"`` and backtick quoting."""
    parts = _split_quoted(name.strip())
    if len(parts) == 1:
        return None, parts[0]
    return ".".join(parts[:-1]), parts[-1]


def _split_quoted(name: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    close: str | None = None
    for ch in name:
        if close is not None:
            if ch == close:
                close = None
            else:
                buf.append(ch)
        elif ch in '["`':
            close = "]" if ch == "[" else ch
        elif ch == ".":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts
