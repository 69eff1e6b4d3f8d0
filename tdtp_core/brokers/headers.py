"""What travels next to each packet part as message headers (framework §4.5).

One packet part is one message; its body is the complete packet XML. The headers repeat
what a consumer needs before parsing (MessageID, part number, total parts, table) and the
content hashes: the packet's own v1.4 hash and ``<Data>`` checksum when it has them, and
always ``tdtp-body-xxh3`` over the whole body, so a message damaged in transit is caught
and dead-lettered instead of being imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import xxhash

from tdtp_core.errors import IntegrityError
from tdtp_core.packet.model import batch_id_of

MESSAGE_ID = "tdtp-message-id"
BATCH_ID = "tdtp-batch-id"
PART = "tdtp-part"
TOTAL_PARTS = "tdtp-total-parts"
TABLE = "tdtp-table"
ROWS = "tdtp-rows"
BODY_XXH3 = "tdtp-body-xxh3"
PACKET_XXH3 = "tdtp-packet-xxh3"
DATA_CHECKSUM = "tdtp-data-checksum"
CONTENT_TYPE = "content-type"
PROTOCOL = "protocol"


@dataclass(frozen=True)
class PartKey:
    """Where a message belongs: its set (batch id), part number and the set's size."""

    message_id: str
    batch_id: str
    part: int
    total: int
    table: str
    rows: int = 0


def body_hash(body: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(body)


def part_headers(body: bytes) -> dict[str, str]:
    """The headers of one packet part (reads only the packet's head)."""
    from tdtp_core.packet import inspect_packet

    info = inspect_packet(body)
    h = info.header
    headers = {
        CONTENT_TYPE: "application/xml",
        PROTOCOL: "tdtp",
        MESSAGE_ID: h.message_id,
        BATCH_ID: h.batch_id,
        PART: str(max(h.part_number, 1)),
        TOTAL_PARTS: str(max(h.total_parts, 1)),
        TABLE: h.table_name,
        ROWS: str(h.records_in_part),
        BODY_XXH3: body_hash(body),
    }
    if info.root_xxh3:
        headers[PACKET_XXH3] = info.root_xxh3
    if info.data.checksum:
        headers[DATA_CHECKSUM] = info.data.checksum
    return headers


def part_key(body: bytes, headers: Mapping[str, str]) -> PartKey:
    """The message's place in its set: from our headers, or from the packet's head for
    messages other producers (the Go reference) sent without them."""
    try:
        if MESSAGE_ID in headers and PART in headers and TOTAL_PARTS in headers:
            mid = headers[MESSAGE_ID]
            return PartKey(mid, headers.get(BATCH_ID) or batch_id_of(mid),
                           int(headers[PART]), int(headers[TOTAL_PARTS]),
                           headers.get(TABLE, ""), int(headers.get(ROWS) or 0))
    except ValueError:
        pass  # damaged headers: the packet itself decides
    from tdtp_core.packet import inspect_packet

    h = inspect_packet(body).header
    return PartKey(h.message_id, h.batch_id, max(h.part_number, 1), max(h.total_parts, 1),
                   h.table_name, h.records_in_part)


def check_body(body: bytes, headers: Mapping[str, str], where: str) -> None:
    """Raise ``IntegrityError`` if the body does not match its ``tdtp-body-xxh3``."""
    if headers.get(BODY_XXH3):
        check_digest(body_hash(body), headers, where)


def check_digest(digest: str, headers: Mapping[str, str], where: str) -> None:
    """:func:`check_body` for a body hashed already (when it was spooled to disk)."""
    expected = headers.get(BODY_XXH3)
    if expected and digest != expected:
        raise IntegrityError("message body does not match its tdtp-body-xxh3 header "
                             "(damaged in transit)").at(where)

