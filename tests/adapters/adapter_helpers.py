"""Small builders shared by the adapter tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tdtp_core.sql import SqlAdapter
from tdtp_core.stream import Batch, TableStream
from tdtp_core.types import Field, Schema


@dataclass
class Db:
    """A database under test: its URL, its adapter and a source of unique table names."""

    kind: str
    url: str
    adapter: SqlAdapter
    new_table: Callable[[], str]


PEOPLE = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])


def stream(rows: Sequence[tuple[Any, ...]], table: str, schema: Schema = PEOPLE, *,
           message_ids: Sequence[str] = (), batch_size: int = 2) -> TableStream:
    """Rows as a stream in small batches; ``message_ids`` make it a packet set's stream."""
    s = TableStream.from_rows(schema, rows, table=table, batch_size=batch_size)
    if message_ids:
        s.metadata["message_ids"] = list(message_ids)
    return s


def failing_stream(rows: Sequence[tuple[Any, ...]], table: str,
                   schema: Schema = PEOPLE) -> TableStream:
    """A stream whose first batch arrives, then the source breaks (a bad later part)."""

    def batches() -> Iterator[Batch]:
        yield [tuple(r) for r in rows]
        raise RuntimeError("part 2 is broken")

    return TableStream(schema, batches(), table=table)


def content(adapter: SqlAdapter, table: str) -> list[tuple[Any, ...]]:
    """The table's rows ordered by the first column."""
    return sorted(adapter.read(table).rows(), key=lambda r: r[0])


def create(adapter: SqlAdapter, table: str, rows: Sequence[tuple[Any, ...]] = (),
           schema: Schema = PEOPLE) -> None:
    adapter.write(stream(rows, table, schema), create=True, strategy="fail")


def run_sql(adapter: SqlAdapter, sql: str) -> None:
    with adapter.engine.begin() as conn:
        conn.execute(sa.text(sql))
