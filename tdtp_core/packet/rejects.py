"""Reject packets: rows a validator refused, with the reason, kept so they can be fixed and
imported again.

A reject packet is an ``error``-type packet whose schema starts with :data:`REJECT_FIELDS`
(where and why the row failed), followed by the rejected row's own fields unchanged and
named after the validated table. The layout lives in core, not in the ``validate``
plugin that writes it, because every importer must recognise it: :func:`table_rows` turns
such a packet back into rows of its table, and any other stream passes through as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.types import INTEGER, TEXT, Field, Schema

if TYPE_CHECKING:
    from tdtp_core.stream import Batch, TableStream

__all__ = [
    "FROM_REJECT_PACKET",
    "REJECT_FIELDS",
    "REJECT_PACKET_TYPE",
    "is_reject_packet",
    "is_reject_schema",
    "table_rows",
]

#: The packet type a reject packet is written with.
REJECT_PACKET_TYPE = "error"
#: The reject packet's leading fields; the rejected row's own fields follow unchanged.
REJECT_FIELDS = (
    Field("reject_row", INTEGER),       # 1-based row number in the validated stream
    Field("reject_field", TEXT),        # the first failing field
    Field("reject_rule", TEXT),         # its rule, as written (range:0-150)
    Field("reject_value", TEXT),        # its value as cell text (NULL for NULL)
    Field("reject_message", TEXT),      # every failure of the row, "; "-separated
)
#: ``stream.metadata`` key set on the rows :func:`table_rows` took out of a reject packet,
#: so an importer accepts them although the header still says ``error``.
FROM_REJECT_PACKET = "from_reject_packet"


def is_reject_schema(schema: Schema) -> bool:
    """True when ``schema`` starts with :data:`REJECT_FIELDS` (same names and types) and
    has at least one field of the table after them."""
    lead = schema.fields[:len(REJECT_FIELDS)]
    return len(schema) > len(REJECT_FIELDS) and all(
        a.name == b.name and a.type == b.type for a, b in zip(lead, REJECT_FIELDS, strict=True))


def is_reject_packet(stream: TableStream) -> bool:
    """True for a stream read from a reject packet: type ``error``, reject fields first."""
    header = stream.header
    return (header is not None and header.packet_type == REJECT_PACKET_TYPE
            and is_reject_schema(stream.schema))


def table_rows(stream: TableStream) -> TableStream:
    """A reject packet's rows as rows of the table it names (the reject fields left out,
    key flags kept); any other stream is returned unchanged. Lazy, batch by batch."""
    if not is_reject_packet(stream):
        return stream
    skip = len(REJECT_FIELDS)

    def strip(batch: Batch) -> Batch:
        return [row[skip:] for row in batch]

    rows = stream.map_batches(strip, schema=stream.schema.with_fields(stream.schema.fields[skip:]))
    rows.metadata[FROM_REJECT_PACKET] = True
    return rows
