"""Request and response packets: ask for rows with a query, answer from packets or SQL.

A ``request`` packet carries a table name and a ``<Query>`` and no rows; its answer is a
``response`` packet whose ``InReplyTo`` is the request's MessageID and whose first part
carries a ``<QueryContext>`` (the query as run and its counts). Reading a response needs
nothing here: the packet reader exposes ``stream.query_context``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tdtp_core.errors import PacketError, QueryError
from tdtp_core.packet.model import DIRECT_EXPORT
from tdtp_core.stream import TableStream
from tdtp_core.tdtql.query import Query
from tdtp_core.types import Schema

PathLike = str | os.PathLike[str]


def build_request(
    table: str,
    query: Query,
    path: PathLike,
    *,
    sender: str | None = None,
    recipient: str | None = None,
) -> Path:
    """Write a request packet asking for ``query`` over ``table``; returns its path."""
    from tdtp_core.packet import write_packets

    paths = write_packets(
        TableStream(Schema(), [], table=table), path, packet_type="request",
        query=query, sender=sender, recipient=recipient,
    )
    return paths[0]


def write_response(
    result: TableStream,
    path: PathLike,
    *,
    in_reply_to: str = DIRECT_EXPORT,
    sender: str | None = None,
    recipient: str | None = None,
    **options: Any,
) -> list[Path]:
    """Write a query's result stream (from :meth:`Query.apply` or an adapter's
    ``read(table, query)``) as a ``response`` packet set.

    ``options`` are further :func:`write_packets` options (compress, part_size, …).
    """
    from tdtp_core.packet import write_packets

    return write_packets(
        result, path, packet_type="response", in_reply_to=in_reply_to, sender=sender,
        recipient=recipient, query_context=result.query_context, **options,
    )


def _open(source: TableStream | PathLike) -> TableStream:
    if isinstance(source, TableStream):
        return source
    from tdtp_core.packet import read_packets

    return read_packets(source)


def _is_url(source: object) -> bool:
    return isinstance(source, str) and "://" in source


def answer_request(
    request: TableStream | PathLike,
    sources: TableStream | PathLike | Sequence[PathLike],
    out_path: PathLike,
    *,
    process: Callable[[TableStream], TableStream] | None = None,
    **options: Any,
) -> list[Path]:
    """Run a request packet's query and write the response to the request's sender.

    ``sources`` is the packet set holding the table (paths or a stream), or a database
    URL, where the query runs as SQL on the table the request names. ``process`` runs on
    the result before it is written (the processor chain: masking never skipped).
    """
    req = _open(request)
    header = req.header
    if header is None or header.packet_type != "request":
        kind = "no packet" if header is None else f"a {header.packet_type!r} packet"
        raise PacketError(f"expected a request packet, got {kind}")
    query = req.query
    if query is None:
        raise QueryError(f"request {header.message_id} carries no <Query>")

    def reply(result: TableStream) -> list[Path]:
        if process is not None:
            result = process(result)
        return write_response(result, out_path, in_reply_to=header.message_id,
                              sender=header.recipient, recipient=header.sender, **options)

    if _is_url(sources):
        from tdtp_core.plugins import get_host

        adapter = get_host().adapter_for_url(str(sources))
        try:
            return reply(adapter.read(header.table_name, query))
        finally:
            adapter.close()
    if isinstance(sources, TableStream):
        data = sources
    else:
        from tdtp_core.packet import read_packets

        paths = [sources] if isinstance(sources, str | os.PathLike) else list(sources)
        data = read_packets(*paths)
    if data.table.casefold() != header.table_name.casefold():
        raise PacketError(
            f"request {header.message_id} asks for table {header.table_name!r}, "
            f"the packets hold {data.table!r}"
        )
    return reply(query.apply(data))
