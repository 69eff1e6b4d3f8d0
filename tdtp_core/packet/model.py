"""The parts of a packet other than its rows: header, alarm details, pipeline context."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from tdtp_core.values import timestamp_text

PROTOCOL = "TDTP"
PACKET_TYPES = ("reference", "delta", "request", "response", "alarm", "error")
IMPORTABLE_TYPES = ("reference", "delta", "response")
DIRECT_EXPORT = "DirectExport"

_PREFIX = {"reference": "REF", "delta": "REF", "response": "RESP", "request": "REQ",
           "alarm": "ALARM", "error": "ERR"}
_PARTED = {"reference", "delta", "response", "error"}


def new_batch_id(packet_type: str) -> str:
    """``REF-2026-1a2b3c4d``: the reference's MessageID base for one export (spec §1.6)."""
    year = datetime.now(UTC).year
    return f"{_PREFIX.get(packet_type, 'REF')}-{year}-{secrets.token_hex(4)}"


def message_id_for(packet_type: str, batch_id: str, part: int) -> str:
    return f"{batch_id}-P{part}" if packet_type in _PARTED else batch_id


def new_uuid() -> str:
    return str(uuid.uuid4())


def batch_id_of(message_id: str) -> str:
    """The MessageID before its last ``-P`` (spec §1.6): shared by all parts of a set."""
    cut = message_id.rfind("-P")
    return message_id[:cut] if cut > 0 else message_id


def format_header_timestamp(value: datetime) -> str:
    return timestamp_text(value)


@dataclass(frozen=True, slots=True)
class Header:
    packet_type: str
    table_name: str
    message_id: str
    timestamp: datetime
    in_reply_to: str | None = None
    part_number: int = 0
    total_parts: int = 0
    records_in_part: int = 0
    sender: str | None = None
    recipient: str | None = None
    #: The Timestamp text as read, kept so nanoseconds survive a re-write.
    timestamp_text: str | None = field(default=None, compare=False)

    @property
    def batch_id(self) -> str:
        return batch_id_of(self.message_id)

    def replace(self, **changes: object) -> Header:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AlarmDetails:
    severity: str
    code: str
    message: str
    server_mode: str | None = None
    affected_records: int = 0


@dataclass(frozen=True, slots=True)
class PipelineContext:
    name: str
    version: str | None = None
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class DataInfo:
    """``<Data>`` attributes as read (before decompression and expansion)."""

    compression: str | None = None
    checksum: str | None = None
    xxh3: str | None = None
    compact: bool = False
    tail: bool = False
    carry: str | None = None
    encryption: str | None = None
    #: Whether a ``<Data>`` element was met (head-only parses stop after it).
    seen: bool = False
