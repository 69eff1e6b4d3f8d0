"""The query a packet carries (``<Query>``) and the results a response reports.

Executors and XML live in sibling modules imported on first use, so importing this module
(the packet reader does, for every packet) pulls in neither lxml parsing nor SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tdtp_core.errors import TdtpError
from tdtp_core.tdtql.ast import Group, OrderItem

if TYPE_CHECKING:
    import sqlalchemy
    from lxml import etree

    from tdtp_core.stream import TableStream
    from tdtp_core.tdtql.sql import SqlPushdown
    from tdtp_core.types import Schema

    XmlSource = etree._Element | str | bytes


@dataclass(frozen=True, slots=True)
class Query:
    """A TDTQL query: filters, sort keys, paging and an optional column projection.

    ``limit`` 0 means none and a negative limit keeps the last ``-limit`` rows;
    ``language``/``version`` are kept as read so a query re-writes byte for byte.
    """

    filters: Group | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int = 0
    offset: int = 0
    fields: tuple[str, ...] = ()
    language: str = "TDTQL"
    version: str = "1.0"

    def to_xml(self) -> str:
        """The ``<Query>`` element in Go marshal form (no XML declaration)."""
        from tdtp_core.tdtql.xml import query_to_xml

        return query_to_xml(self)

    @classmethod
    def from_xml(cls, source: XmlSource) -> Query:
        """Read a ``<Query>`` (or ``<OriginalQuery>``) element or its text."""
        from tdtp_core.tdtql.xml import query_from_xml

        return query_from_xml(source)

    def apply(self, stream: TableStream) -> TableStream:
        """Run the query over ``stream`` in memory, batch by batch.

        Field names and literals are checked now; the returned stream's
        ``query_context.results`` is filled once it has been read to the end.
        """
        from tdtp_core.tdtql.evaluate import execute

        return execute(self, stream)

    def to_sqlalchemy(
        self, table: sqlalchemy.Table, *, schema: Schema | None = None
    ) -> SqlPushdown:
        """The query as SQLAlchemy clauses over ``table`` (values always bound).

        ``schema`` types the literals when the caller has the TDTP schema; otherwise the
        column types decide.
        """
        from tdtp_core.tdtql.sql import compile_pushdown

        return compile_pushdown(self, table, schema)


@dataclass(frozen=True, slots=True)
class ExecutionResults:
    """``<ExecutionResults>``; names as the reference's Python binding spells them."""

    total_records: int
    matched_records: int
    returned_records: int
    more_available: bool
    next_offset: int = 0

    @classmethod
    def compute(cls, total: int, matched: int, *, limit: int, offset: int) -> ExecutionResults:
        """Paging arithmetic of spec §8.8 from the two counts before paging."""
        offset = max(offset, 0)
        after = max(matched - offset, 0)
        if 0 < limit < after:
            return cls(total, matched, limit, True, offset + limit)
        if limit < 0 and -limit < after:
            return cls(total, matched, -limit, False)
        return cls(total, matched, after, False)


@dataclass(slots=True)
class QueryContext:
    """``<QueryContext>`` of a response: the query that ran and what it returned.

    ``results`` stays None until an in-memory execution has been read to the end.
    """

    original_query: Query | None = None
    results: ExecutionResults | None = None

    def to_xml(self) -> str:
        """The ``<QueryContext>`` element in Go marshal form."""
        if self.results is None:
            raise TdtpError(
                "the query results are known only after the filtered stream was read "
                "to the end"
            )
        from tdtp_core.tdtql.xml import context_to_xml

        return context_to_xml(self.original_query, self.results)

    @classmethod
    def from_xml(cls, source: XmlSource) -> QueryContext:
        """Read a ``<QueryContext>`` element or its text."""
        from tdtp_core.tdtql.xml import context_from_xml

        return context_from_xml(source)
