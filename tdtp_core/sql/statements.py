"""Statement builders more than one dialect shares, kept out of the plugins."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import ClauseElement

STRATEGIES = ("replace", "ignore", "fail", "copy")


class OnConflictInsert(Protocol):
    """The ``INSERT … ON CONFLICT`` construct of the PostgreSQL and SQLite dialects."""

    @property
    def excluded(self) -> Any: ...

    def on_conflict_do_nothing(self, *, index_elements: Sequence[str]) -> Any: ...

    def on_conflict_do_update(
        self, *, index_elements: Sequence[str], set_: dict[str, Any]
    ) -> Any: ...


def on_conflict(
    stmt: OnConflictInsert, columns: Sequence[str], keys: Sequence[str], strategy: str
) -> Any:
    """``replace`` → update the non-key columns; ``ignore`` (or nothing to update) → skip."""
    updates = {c: stmt.excluded[c] for c in columns if c not in keys}
    if strategy == "ignore" or not updates:
        return stmt.on_conflict_do_nothing(index_elements=list(keys))
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)


def positional_sql(
    stmt: ClauseElement, dialect: Dialect, columns: Sequence[str] | None = None
) -> str:
    """Compile ``stmt`` with positional placeholders in ``columns`` order.

    The rows of the hot path are tuples; binding them positionally lets the driver's
    ``executemany`` take them as they are, with no dict per row.
    """
    positional = dialect
    if not dialect.positional:
        positional = copy.copy(dialect)
        positional.paramstyle = "format"
        positional.positional = True
    compiled = stmt.compile(dialect=positional, column_keys=list(columns or ()) or None)
    order = list(getattr(compiled, "positiontup", None) or ())
    if columns is not None and order != list(columns):
        raise AssertionError(f"placeholders {order} do not follow columns {list(columns)}")
    return str(compiled)


def count_rows(table: sa.FromClause) -> sa.Select[Any]:
    return sa.select(sa.func.count()).select_from(table)
