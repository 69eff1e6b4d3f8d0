"""The table stream: a schema plus an iterator of row batches.

Every component speaks it (design §1), so a database, a packet set, a workbook or a
processor chain compose freely. A stream is single-use, like a file: iterating it twice
is an error rather than a silent empty second pass.

A source may also offer a *lane* that skips Python values where both ends speak text:
a database export can hand the packet writer finished rows (:class:`EncodedRows`), a
packet reader can hand a database import the cells' text (:class:`CellColumns`). A
consumer takes a lane when offered and falls back to :meth:`TableStream.batches`; any
derived stream (processors) offers batches only, so transformations always see values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from tdtp_core.errors import TdtpError
from tdtp_core.types import Field, Schema
from tdtp_core.values import CellError, Decoder, column_decoder

if TYPE_CHECKING:
    from tdtp_core.packet.model import Header
    from tdtp_core.tdtql.query import Query, QueryContext

_T = TypeVar("_T", bound=Sized)
Row = tuple[Any, ...]
Batch = list[Row]

DEFAULT_BATCH_SIZE = 5000


@dataclass(slots=True)
class EncodedRows:
    """A batch already encoded the way ``PacketWriter.write_batch`` would encode it (see
    ``packet.encode.RowEncoder``): rows in separator form and each field's flags. The rows
    are text, or UTF-8 bytes when the source has them so (no decoding only to encode
    again); one batch is all one or all the other."""

    rows: list[str] | list[bytes]
    flags: list[int]

    def __len__(self) -> int:
        return len(self.rows)


class CellColumns:
    """A batch as a packet carries it, one list of cell texts per field: escapes
    resolved, empty cells and special-value markers not decoded. ``schema`` is the
    part's own, whose special values say which texts are markers; ``where`` names the
    part and ``first_row`` is the batch's first row in it, for error messages.

    ``rows``: the batch's row strings as the packet carries them (escapes not resolved),
    when the consumer asked the reader for them (a compiled lane binds straight from
    them); the columns are then split from the rows on first use.
    """

    __slots__ = ("_columns", "first_row", "rows", "schema", "where")

    def __init__(self, columns: list[Sequence[str]] | None, schema: Schema, where: str = "",
                 first_row: int = 0, *, rows: list[str] | None = None) -> None:
        if columns is None and rows is None:
            raise ValueError("CellColumns needs columns or rows")
        self._columns = columns
        self.schema = schema
        self.where = where
        self.first_row = first_row
        self.rows = rows

    @property
    def columns(self) -> list[Sequence[str]]:
        if self._columns is None:
            from tdtp_core.packet.encode import text_columns  # the packet engine needs us

            assert self.rows is not None
            self._columns = text_columns(self.rows, len(self.schema.fields))
        return self._columns

    def __len__(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        return len(self.columns[0]) if self.columns else 0

    def decode(self, index: int) -> list[Any]:
        """One column as Python values; a bad cell names the part, row and field."""
        try:
            return _decoder(self.schema.fields[index])(self.columns[index])
        except CellError as exc:
            raise exc.at(f"{self.where} row {self.first_row + exc.index + 1}") from None


@lru_cache(maxsize=256)
def _decoder(field: Field) -> Decoder:
    return column_decoder(field)


class CellPart(Protocol):
    """One part of a packet set as cell batches; callable in a worker process too.
    ``rows=True`` asks for the row strings as well (:attr:`CellColumns.rows`), where
    the part can keep them."""

    def __call__(self, *, rows: bool = False) -> Iterator[CellColumns]: ...


#: Makes the encoded lane: called with the writer's ``replace_invalid`` option.
EncodedLane = Callable[[bool], Iterable[EncodedRows]]


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
    use, e.g. the MessageIDs of the parts for the import ledger. ``encoded`` and
    ``cells`` are the optional lanes (see the module's docstring); ``progress``, when
    set, is told the size of every batch that passes, whichever way it is taken.
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
        encoded: EncodedLane | None = None,
        cells: Sequence[CellPart] | None = None,
    ) -> None:
        self.schema = schema
        self.table = table or (header.table_name if header is not None else "")
        self.header = header
        self.query = query
        self.query_context = query_context
        self.metadata: dict[str, Any] = metadata if metadata is not None else {}
        self.progress: Callable[[int], None] | None = None
        self._batches: Iterator[Batch] | None = iter(batches)
        self._encoded = encoded
        self._cells = cells

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

    def _take(self) -> Iterator[Batch]:
        if self._batches is None:
            raise TdtpError(f"the stream of table {self.table!r} was already consumed")
        batches, self._batches = self._batches, None
        self._encoded = self._cells = None
        return batches

    def batches(self) -> Iterator[Batch]:
        """Yield the rows in lists; consumes the stream."""
        yield from _counted(self._take(), self.progress)

    def encoded_rows(self, *, replace_invalid: bool = False) -> Iterator[EncodedRows] | None:
        """The rows already encoded for a packet writer when the source offers that lane
        (then the stream is consumed), else None and the stream is left as it was."""
        if self._encoded is None:
            return None
        lane = self._encoded
        self._take()
        return _counted(iter(lane(replace_invalid)), self.progress)

    def cell_parts(self) -> list[CellPart] | None:
        """The packet's parts as cell batches when the source offers that lane (then the
        stream is consumed), else None and the stream is left as it was. Parts may be
        read in other processes, so the consumer reports rows with :meth:`advance`."""
        if self._cells is None:
            return None
        parts = list(self._cells)
        self._take()
        return parts

    def advance(self, rows: int) -> None:
        """Report rows consumed through :meth:`cell_parts` to ``progress``."""
        if self.progress is not None and rows:
            self.progress(rows)

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


def _counted(items: Iterator[_T], progress: Callable[[int], None] | None) -> Iterator[_T]:
    """The non-empty items, each reported to ``progress`` by its number of rows."""
    for item in items:
        n = len(item)
        if n:
            if progress is not None:
                progress(n)
            yield item
