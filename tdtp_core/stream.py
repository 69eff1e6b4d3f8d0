"""The table stream: a schema plus an iterator of row batches.

Every component speaks it (design §1), so a database, a packet set, a workbook or a
processor chain compose freely. A stream is single-use, like a file: iterating it twice
is an error rather than a silent empty second pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from tdtp_core.errors import TdtpError
from tdtp_core.types import Schema

if TYPE_CHECKING:
    from tdtp_core.packet.model import Header
    from tdtp_core.tdtql.query import Query, QueryContext

Row = tuple[Any, ...]
Batch = list[Row]

DEFAULT_BATCH_SIZE = 5000


def batched(rows: Iterable[Sequence[Any]], size: int = DEFAULT_BATCH_SIZE) -> Iterator[Batch]:
    """Group rows into lists of at most ``size`` tuples."""
    it = iter(rows)
    while True:
        chunk = [tuple(r) for r in islice(it, size)]
        if not chunk:
            return
        yield chunk


class TableStream:
    """A table in flight: ``schema``, ``table`` and batches of row tuples.

    ``header``, ``query`` and ``query_context`` are set when the stream was read from a
    packet (the header is the first part's). ``metadata`` carries provenance a sink may
    use, e.g. the MessageIDs of the parts for the import ledger.
    """

    def __init__(
        self,
        schema: Schema,
        batches: Iterable[Batch],
        *,
        table: str = "",
        header: Header | None = None,
        query: Query | None = None,
        query_context: QueryContext | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.table = table or (header.table_name if header is not None else "")
        self.header = header
        self.query = query
        self.query_context = query_context
        self.metadata: dict[str, Any] = metadata if metadata is not None else {}
        self._batches: Iterator[Batch] | None = iter(batches)

    @classmethod
    def from_rows(
        cls,
        schema: Schema,
        rows: Iterable[Sequence[Any]],
        *,
        table: str,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> TableStream:
        """Wrap Python rows (tuples or lists, one value per field) as a stream."""
        return cls(schema, batched(rows, batch_size), table=table)

    def batches(self) -> Iterator[Batch]:
        """Yield the rows in lists; consumes the stream."""
        if self._batches is None:
            raise TdtpError(f"the stream of table {self.table!r} was already consumed")
        batches, self._batches = self._batches, None
        for batch in batches:
            if batch:
                yield batch

    def __iter__(self) -> Iterator[Row]:
        for batch in self.batches():
            yield from batch

    def rows(self) -> list[Row]:
        """All remaining rows in one list: for small tables and tests."""
        return list(self)

    def derive(
        self,
        batches: Iterable[Batch],
        *,
        schema: Schema | None = None,
        table: str | None = None,
    ) -> TableStream:
        """A new stream over other batches that keeps this one's packet context."""
        return TableStream(
            schema if schema is not None else self.schema,
            batches,
            table=table if table is not None else self.table,
            header=self.header,
            query=self.query,
            query_context=self.query_context,
            metadata=dict(self.metadata),
        )

    def map_batches(
        self, fn: Callable[[Batch], Batch], *, schema: Schema | None = None
    ) -> TableStream:
        """Apply ``fn`` to every batch lazily (processors are built on this)."""
        return self.derive((fn(b) for b in self.batches()), schema=schema)

    def __repr__(self) -> str:
        return f"TableStream(table={self.table!r}, fields={self.schema.names!r})"
