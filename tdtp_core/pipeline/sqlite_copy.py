"""Loading a table of an SQLite file into the workspace inside SQLite, without Python values.

A table source on an SQLite file would otherwise travel driver value → Python value →
workspace storage, one value at a time. Most SQLite tables already hold what the
workspace would store (integers, reals, ISO text: the SQLite adapter writes exactly
that), so the workspace attaches the file read-only and copies the table with one
``INSERT … SELECT``. Every value is checked on the way: a value the typed path would
store differently (an integer in a DECIMAL column becomes a real; a date written
``2024-1-5``, a zone offset, a float in a TEXT column, ...) makes the copy stop, and the
source takes the typed path instead. So the copy only ever stores what that path would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote as quote_uri

from tdtp_core.sql import native
from tdtp_core.types import BLOB, BOOLEAN, DATE, DATE_KINDS, DECIMAL, INTEGER, REAL, TEXT, Field

ALIAS = "tdtp_source"
#: Integers a float holds exactly (2**53): the typed path stores them as reals.
_EXACT_INT = 9007199254740992
_NOT_STORED_AS_IS = "tdtp_not_stored_as_is"
_ISO_FRACTION = "[0-9][0-9][0-9][0-9][0-9][0-9]"


def _refuse() -> None:
    """Ends the copy: SQLite reports it as an error of the statement."""
    raise ValueError("a value needs the typed path")


def _stored(f: Field, c: str) -> tuple[str, str] | None:
    """(condition, stored expression) for a non-NULL value ``c`` of ``f``; None when the
    field's values always need the typed path (a time of day). A date function with a
    modifier normalises (``2024-02-30`` → ``2024-03-01``), without one it echoes."""
    kind = f.kind
    if f.is_time:
        return None
    if kind == INTEGER:
        return f"typeof({c}) = 'integer'", c
    if kind == BOOLEAN:
        return f"typeof({c}) = 'integer' AND {c} IN (0, 1)", c
    if kind in (REAL, DECIMAL):
        return (f"typeof({c}) = 'real' OR (typeof({c}) = 'integer' AND {c} BETWEEN "
                f"-{_EXACT_INT} AND {_EXACT_INT})",
                f"CAST({c} AS REAL)")
    if kind == TEXT:
        return f"typeof({c}) = 'text'", c
    if kind == BLOB:
        return f"typeof({c}) = 'blob'", c
    if kind == DATE:
        return f"typeof({c}) = 'text' AND length({c}) = 10 AND {c} >= '0001' AND " \
               f"date({c}, '+0 days') = {c}", c
    if kind in DATE_KINDS:
        whole = f"substr({c}, 1, 19)"
        fraction = (f"length({c}) = 26 AND substr({c}, 20, 1) = '.' AND "
                    f"substr({c}, 21) GLOB '{_ISO_FRACTION}' AND substr({c}, 21) <> '000000'")
        return (f"typeof({c}) = 'text' AND {c} >= '0001' AND "
                f"datetime({whole}, '+0 days') = {whole} AND "
                f"(length({c}) = 19 OR ({fraction}))", c)
    return None


def copy_statement(target: str, source: str, columns: Sequence[str],
                   fields: Sequence[Field], *, compiled: bool = False) -> str | None:
    """``INSERT INTO target SELECT …`` from the attached file's ``source``, or None.

    ``compiled``: the checks are one call per row of the C function
    ``tdtp_stored_as_is`` (:mod:`tdtp_core.sql.native`) instead of SQL expressions per
    value, which cost SQLite more than the copy itself.
    """
    selected = []
    for column, f in zip(columns, fields, strict=True):
        c = quote(column)
        stored = _stored(f, c)
        if stored is None:
            return None
        condition, value = stored
        selected.append(value if compiled else
                        f"CASE WHEN {c} IS NULL THEN NULL WHEN {condition} THEN {value} "
                        f"ELSE {_NOT_STORED_AS_IS}() END")
    sql = (f"INSERT INTO main.{quote(target)} SELECT {', '.join(selected)} "
           f"FROM {ALIAS}.{quote(source)}")
    if not compiled:
        return sql
    codes = "".join(_CODES.get(f.kind, "T") for f in fields)  # "T": date kinds but DATE
    return f"{sql} WHERE {_STORED_AS_IS}('{codes}', {', '.join(map(quote, columns))})"


def copy_table(conn: sqlite3.Connection, path: Path, target: str, source: str,
               columns: Sequence[str], fields: Sequence[Field]) -> int | None:
    """Copy ``source`` of the SQLite file at ``path`` into the (empty) ``target``; the
    rows copied, or None (nothing copied) when any value needs the typed path or the
    file cannot be read this way. Runs outside any transaction of ``conn``."""
    module = native.for_connection(conn) if len(columns) < _MAX_ARGS else None
    sql = copy_statement(target, source, columns, fields, compiled=module is not None)
    if sql is None:
        return None
    uri = f"{file_uri(path)}?mode=ro"
    try:
        conn.execute(f"ATTACH DATABASE ? AS {ALIAS}", (uri,))
    except sqlite3.Error:
        return None
    if module is not None:
        module.stored_as_is_function(conn, True)
    else:
        conn.create_function(_NOT_STORED_AS_IS, 0, _refuse)
    try:
        conn.execute("BEGIN")
        try:
            rows = conn.execute(sql).rowcount
        except sqlite3.Error:
            conn.execute("ROLLBACK")
            return None
        conn.execute("COMMIT")
        return rows
    finally:
        if module is not None:
            module.stored_as_is_function(conn, False)
        else:
            conn.create_function(_NOT_STORED_AS_IS, 0, None)
        conn.execute(f"DETACH DATABASE {ALIAS}")


#: The C check's code for each kind (the same checks as :func:`_stored`).
_CODES = {INTEGER: "i", BOOLEAN: "b", REAL: "f", DECIMAL: "f", TEXT: "s", BLOB: "x",
          DATE: "D"}
_STORED_AS_IS = "tdtp_stored_as_is"
#: SQLite's limit on a function's arguments (127), the kind codes being one of them.
_MAX_ARGS = 127


def file_uri(path: Path) -> str:
    """An SQLite URI for ``path`` (a name with ``?`` or ``#`` stays a name)."""
    return f"file:{quote_uri(str(path.resolve()))}"


def quote(name: str) -> str:
    """An SQLite identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'
