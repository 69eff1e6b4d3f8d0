"""v1.4 integrity: xxh3-128 over schema and rows, salted with the MessageID (spec §6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import xxhash

from tdtp_core.errors import IntegrityError
from tdtp_core.packet.schema_xml import schema_xml
from tdtp_core.types import Schema


@dataclass(frozen=True, slots=True)
class Hashes:
    schema: str
    data: str
    packet: str


def schema_hash(message_id: str, schema: Schema) -> str:
    return xxhash.xxh3_128_hexdigest(message_id.encode() + schema_xml(schema).encode())


def data_hash(message_id: str, rows_text: str | bytes, row_count: int) -> str:
    """``rows_text`` is the row strings joined by LF (no trailing LF), or its UTF-8."""
    payload = message_id.encode()
    if row_count:
        data = rows_text if isinstance(rows_text, bytes) else rows_text.encode()
        payload += data + b"\n"
    return xxhash.xxh3_128_hexdigest(payload)


def packet_hash(schema_hex: str, data_hex: str) -> str:
    return xxhash.xxh3_128_hexdigest(f"{schema_hex}|{data_hex}".encode())


def compute(message_id: str, schema: Schema, rows_text: str | bytes,
            row_count: int) -> Hashes:
    s = schema_hash(message_id, schema)
    d = data_hash(message_id, rows_text, row_count)
    return Hashes(s, d, packet_hash(s, d))


class DataHash:
    """:func:`data_hash` fed the rows a run at a time, so a part need not be held."""

    def __init__(self, message_id: str) -> None:
        self._hash = xxhash.xxh3_128(message_id.encode())

    def update(self, rows: Sequence[str]) -> None:
        if rows:
            self._hash.update("\n".join(rows).encode())
            self._hash.update(b"\n")

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def verify(
    message_id: str,
    schema: Schema,
    data_hex: str,
    *,
    schema_xxh3: str | None,
    data_xxh3: str | None,
    packet_xxh3: str,
) -> None:
    """Check in the reference's order; the first mismatch is the error (spec §6.5).
    ``data_hex`` is the rows' :func:`data_hash`."""
    schema_hex = schema_hash(message_id, schema)
    if schema_hex != (schema_xxh3 or ""):
        raise IntegrityError("integrity: schema hash mismatch")
    if data_hex != (data_xxh3 or ""):
        raise IntegrityError("integrity: data hash mismatch")
    if packet_hash(schema_hex, data_hex) != packet_xxh3:
        raise IntegrityError("integrity: packet hash mismatch")


def checksum(text: str) -> str:
    """``Data@checksum``: XXH3-64 of the compressed row's Base64 text (spec §4.3)."""
    return xxhash.xxh3_64_hexdigest(text.encode("ascii"))
