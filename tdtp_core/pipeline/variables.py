"""Typed pipeline variables, ``${NAME}`` interpolation and the SQL parameters they feed.

A variable reaches SQL only as a bound parameter (``:name``), never as text spliced into
a statement, so a value cannot change what a query does. Everywhere else (URLs, paths,
queue names) ``${NAME}`` is replaced by the variable's text, or an environment variable's
(``${NAME:-default}`` when it may be unset).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.types import (
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    REAL,
    TEXT,
    TIMESTAMP,
    Field,
)
from tdtp_core.values import parse_value

#: Declared type → the TDTP field a value of it is parsed (and bound) as.
TYPES: dict[str, Field] = {
    "string": Field("value", TEXT),
    "integer": Field("value", INTEGER),
    "number": Field("value", REAL),
    "decimal": Field("value", DECIMAL, precision=38),
    "boolean": Field("value", BOOLEAN),
    "date": Field("value", DATE),
    "timestamp": Field("value", TIMESTAMP),
    "time": Field("value", TIMESTAMP, subtype="time"),
}

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_ZONE = re.compile(r"(?:Z|z|[+-]\d{2}:\d{2})$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Variable:
    """A variable's resolved value: ``text`` as given, ``value`` as a Python value."""

    name: str
    type: str
    text: str
    value: Any
    field: Field


def typed_value(type_name: str, raw: object) -> tuple[str, Any, Field]:
    """(text, value, field) of a raw value (``--var`` text or a YAML scalar).

    Raises ``ConfigError`` with a short reason when the value does not fit the type.
    """
    base = TYPES[type_name]
    if isinstance(raw, bool):
        if type_name != "boolean":
            raise ConfigError(f"expected a {type_name}, got {str(raw).lower()}")
        return ("true" if raw else "false"), raw, base.replace(name="value")
    text = repr(raw) if isinstance(raw, float) and type_name == "decimal" else str(raw)
    if type_name == "string":
        if not isinstance(raw, str):
            raise ConfigError(f"expected a string, got {text} (quote it)")
        return text, text, base
    field = base
    if type_name == "timestamp" and _ZONE.search(text.strip()):
        field = base.replace(timezone="UTC")
    stripped = text.strip()
    if not stripped:
        raise ConfigError(f"expected a {type_name}, got an empty value")
    try:
        value = parse_value(field, stripped)
    except (SchemaError, ValueError, ArithmeticError):
        raise ConfigError(f"{text!r} is not a valid {type_name}") from None
    if type_name == "decimal" and isinstance(value, Decimal) and not value.is_finite():
        raise ConfigError(f"{text!r} is not a finite decimal")
    return stripped, value, field


def parse_assignment(text: str) -> tuple[str, str]:
    """``name=value`` of one ``--var`` option."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not NAME.match(name):
        raise ConfigError(f"--var expects NAME=VALUE, got {text!r}")
    return name, value


def interpolate(text: str, variables: Mapping[str, Variable], env: Mapping[str, str]) -> str:
    """``${NAME}`` replaced by a variable's text, else the environment's value."""

    def sub(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables:
            return variables[name].text
        value = env.get(name)
        if value is not None:
            return value
        if default is not None:
            return default
        raise ConfigError(f"${{{name}}} is neither a declared variable nor a set "
                          f"environment variable (write ${{{name}:-default}} for a default)")

    return _INTERPOLATION.sub(sub, text)


def has_interpolation(text: str) -> str | None:
    """The first ``${…}`` of ``text``, if any (forbidden in SQL)."""
    match = _INTERPOLATION.search(text) or re.search(r"\$\{", text)
    return match.group(0) if match else None


# ------------------------------------------------------------------------- parameters

#: How SQLAlchemy's ``text()`` finds bind parameters (what a source query binds).
_SA_PARAM = re.compile(r"(?<![:\w\x5c]):(\w+)(?!:)")


def source_parameters(sql: str) -> list[str]:
    """The ``:name`` parameters of a source query, as SQLAlchemy will bind them."""
    return list(dict.fromkeys(_SA_PARAM.findall(sql)))


@dataclass(frozen=True)
class Token:
    """A parameter in SQL text and where it starts."""

    text: str
    start: int


def sqlite_tokens(sql: str) -> Iterator[Token]:
    """Parameters of SQLite SQL (``:a``, ``@a``, ``$a``, ``?``, ``?1``), skipping string
    literals, quoted identifiers and comments as SQLite's tokenizer does."""
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in "'\"`":
            end = sql.find(ch, i + 1)
            while end != -1 and end + 1 < n and sql[end + 1] == ch:
                end = sql.find(ch, end + 2)
            i = n if end == -1 else end + 1
        elif ch == "[":
            end = sql.find("]", i + 1)
            i = n if end == -1 else end + 1
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end + 1
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end == -1 else end + 2
        elif ch == "?":
            j = i + 1
            while j < n and sql[j].isdigit():
                j += 1
            yield Token(sql[i:j], i)
            i = j
        elif ch in ":@$" and i + 1 < n and (sql[i + 1].isalnum() or sql[i + 1] == "_"):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] in "_$"):
                j += 1
            yield Token(sql[i:j], i)
            i = j
        else:
            i += 1


def workspace_parameters(sql: str) -> list[str]:
    """Every parameter token of workspace SQL (``:name`` and the forms we refuse)."""
    return list(dict.fromkeys(t.text for t in sqlite_tokens(sql)))


def without_parameters(sql: str) -> str:
    """``sql`` with each parameter replaced by ``NULL``: only to ask SQLite for the result
    columns' declared types (a view cannot hold parameters); never executed for data."""
    out: list[str] = []
    last = 0
    for token in sqlite_tokens(sql):
        out.append(sql[last:token.start])
        out.append("NULL")
        last = token.start + len(token.text)
    out.append(sql[last:])
    return "".join(out)
