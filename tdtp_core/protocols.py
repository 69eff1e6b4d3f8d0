"""What each kind of plugin component provides, as structural types.

A plugin needs no tdtp base class to satisfy these (base classes in ``tdtp_core.sql`` and
friends only save work); ``tdtp_core.testing`` checks conformance at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from tdtp_core.stream import TableStream
    from tdtp_core.tdtql.query import Query
    from tdtp_core.types import Schema


@runtime_checkable
class Codec(Protocol):
    """Compresses the joined row text of a part (``Data@compression``)."""

    name: str

    def compress(self, data: bytes, *, level: int = 3) -> bytes: ...

    def decompress(self, data: bytes, *, max_output: int) -> bytes:
        """Decode every frame; raise ``PacketError`` past ``max_output`` bytes."""
        ...


@runtime_checkable
class Format(Protocol):
    """A file format tables can be read from and written to (CSV, XLSX, the packet)."""

    name: str
    extensions: Sequence[str]

    def read(self, paths: Sequence[Path], **options: Any) -> TableStream: ...

    def write(self, stream: TableStream, path: Path, **options: Any) -> list[Path]: ...


@runtime_checkable
class MultiTableFormat(Format, Protocol):
    """A format one file of which holds several tables (XLSX: a sheet each). The CLI
    writes several tables into one such file (``tdtp convert a.xml b.xml -o two.xlsx``)
    and imports every table of one (``tdtp import book.xlsx URL``)."""

    def table_names(self, path: Path) -> list[str]:
        """The tables ``read_table`` reads by default, in file order."""
        ...

    def read_table(self, path: Path, name: str, **options: Any) -> TableStream:
        """One table of the file, by a name from ``table_names``."""
        ...

    def write_tables(self, streams: Iterable[TableStream], path: Path,
                     **options: Any) -> list[Path]:
        """One file holding every stream, each under its table name."""
        ...


@dataclass
class TableInfo:
    """What ``tdtp inspect`` shows about one table or view."""

    name: str
    schema: Schema
    row_count: int | None = None
    is_view: bool = False
    nullable: Mapping[str, bool] = field(default_factory=dict)
    native_types: Mapping[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    """What an import did: rows written, or that the packet set was already imported."""

    table: str
    rows: int = 0
    message_ids: Sequence[str] = ()
    skipped_duplicate: bool = False
    strategy: str = "replace"
    created: bool = False


@runtime_checkable
class Adapter(Protocol):
    """A database, addressed by a SQLAlchemy URL."""

    url: str

    def list_tables(self, *, views: bool = False) -> list[str]: ...

    def inspect(self, table: str) -> TableInfo: ...

    def read(
        self, table: str, query: Query | None = None, *, batch_size: int = 5000
    ) -> TableStream: ...

    def write(
        self,
        stream: TableStream,
        *,
        table: str | None = None,
        strategy: str = "replace",
        create: bool = False,
        force: bool = False,
    ) -> ImportResult: ...

    def close(self) -> None: ...


@dataclass
class Message:
    """One broker message: a packet part and the headers that travel with it."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Broker-specific handle used to acknowledge or reject this message.
    token: Any = None


@runtime_checkable
class Broker(Protocol):
    """A message broker queue or topic, addressed by URL."""

    url: str

    def publish(self, body: bytes, headers: Mapping[str, str]) -> None: ...

    def consume(self, *, timeout: float | None = None) -> Iterator[Message]: ...

    def ack(self, message: Message) -> None: ...

    def reject(self, message: Message, *, requeue: bool) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class Processor(Protocol):
    """Maps a table stream to a table stream, batch by batch."""

    name: str
    #: JSON Schema of the dict the processor is configured with.
    config_schema: Mapping[str, Any]

    def process(self, stream: TableStream) -> TableStream: ...
