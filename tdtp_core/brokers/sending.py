"""Publish packets to a broker: one message per part, each publish retried on its own.

A broker that restarts in the middle of a send costs one retried message, not the whole
set: parts already confirmed stay queued, the unconfirmed one is published again after
reconnecting (a second copy, if the first did arrive, is settled with its set by the
listener). Parts larger than the broker's message limit are re-written smaller first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tdtp_core import audit
from tdtp_core.brokers import headers as H
from tdtp_core.brokers.base import max_message_bytes
from tdtp_core.errors import PacketError
from tdtp_core.protocols import Broker
from tdtp_core.resilience import ResilienceConfig, endpoint_of, guard
from tdtp_core.stream import TableStream

log = logging.getLogger("tdtp.brokers")

#: Bytes kept free below a broker's message limit for headers, key and record framing.
HEADROOM = 8192

PacketSource = str | os.PathLike[str] | bytes


@dataclass
class SentSet:
    batch_id: str
    table: str
    message_ids: list[str]
    rows: int
    bytes: int


@dataclass
class SendResult:
    """What was published, set by set."""

    broker: str
    sets: list[SentSet] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(len(s.message_ids) for s in self.sets)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.sets)

    def as_dict(self) -> dict[str, Any]:
        return {"broker": self.broker, "messages": self.messages, "rows": self.rows,
                "sets": [vars(s) for s in self.sets]}


def _display(broker: Broker, url: str) -> str:
    shown = getattr(broker, "display_url", None)
    if isinstance(shown, str):
        return shown
    from tdtp_core.sql.urls import mask_url

    return mask_url(url)


def _load_sources(sources: Sequence[PacketSource]) -> list[tuple[str, bytes]]:
    """(name, bytes) of every part; a path to one part or a set's base name brings the
    whole set, as for ``tdtp import``."""
    from tdtp_core.packet.reader import discover_parts

    out: list[tuple[str, bytes]] = []
    for source in sources:
        if isinstance(source, bytes):
            out.append(("<bytes>", source))
            continue
        for path in discover_parts(Path(source)):
            try:
                out.append((str(path), path.read_bytes()))
            except OSError as exc:
                raise PacketError(f"cannot read: {exc.strerror}").at(str(path)) from exc
    return out


def _group(parts: list[tuple[str, bytes]]) -> list[list[tuple[str, bytes]]]:
    """Parts grouped by set (batch id), in the order given; duplicates dropped."""
    sets: dict[str, dict[str, tuple[str, bytes]]] = {}
    for name, body in parts:
        try:
            key = H.part_key(body, {})
        except PacketError as exc:
            raise exc.at(name) from None
        sets.setdefault(key.batch_id, {}).setdefault(key.message_id, (name, body))
    return [list(group.values()) for group in sets.values()]


def _resplit(bodies: list[bytes], limit: int) -> list[bytes]:
    """The set re-written with parts of at most ``limit`` bytes (new MessageIDs)."""
    from tdtp_core.packet import encode_packets, inspect_packet, read_packets

    first = inspect_packet(bodies[0])
    stream = read_packets(*bodies)
    h = first.header
    fixed = [f.name for f in first.schema.fields if f.fixed]
    log.warning("parts of %s are larger than the broker's limit of %d bytes; "
                "re-writing them smaller", h.batch_id, limit)
    return encode_packets(
        stream, packet_type=h.packet_type, compress=first.data.compression,
        integrity=first.root_xxh3 is not None, compact=first.data.compact,
        fixed_fields=fixed or None, part_size=limit, in_reply_to=h.in_reply_to,
        sender=h.sender, recipient=h.recipient, query=stream.query,
        query_context=stream.query_context)


class _Publisher:
    """Publishes parts through the broker endpoint's breaker and retry policy."""

    def __init__(self, broker_url: str, resilience: ResilienceConfig | None) -> None:
        from tdtp_core.plugins import get_host

        self.broker = get_host().broker_for_url(broker_url)
        self.display = _display(self.broker, broker_url)
        self.endpoint = endpoint_of(broker_url)
        self.resilience = resilience
        self.result = SendResult(self.display)

    @property
    def part_limit(self) -> int | None:
        limit = max_message_bytes(self.broker)
        return None if limit is None else max(limit - HEADROOM, 4096)

    def publish_set(self, bodies: Iterable[bytes], source: str) -> SentSet:
        """Publish one set's parts in order, with one audit entry for the set."""
        with audit.operation("send", source=source, target=self.display) as entry:
            sent = SentSet("", "", [], 0, 0)
            for body in bodies:
                headers = H.part_headers(body)
                self._publish(body, headers)
                sent.batch_id = headers[H.BATCH_ID]
                sent.table = headers[H.TABLE]
                sent.message_ids.append(headers[H.MESSAGE_ID])
                sent.rows += int(headers[H.ROWS])
                sent.bytes += len(body)
                entry.hashes[headers[H.MESSAGE_ID]] = (
                    headers.get(H.PACKET_XXH3) or headers[H.BODY_XXH3])
                entry.table, entry.message_ids, entry.rows = (
                    sent.table, sent.message_ids, sent.rows)
            entry.details["bytes"] = sent.bytes
        self.result.sets.append(sent)
        return sent

    def _publish(self, body: bytes, headers: dict[str, str]) -> None:
        guard(self.endpoint, lambda: self.broker.publish(body, headers), self.resilience,
              what=f"publish of {headers[H.MESSAGE_ID]}")

    def close(self) -> None:
        self.broker.close()


def send_packets(sources: Sequence[PacketSource], broker_url: str, *,
                 resilience: ResilienceConfig | None = None) -> SendResult:
    """Publish packet files (or packet bytes) to ``broker_url``, one message per part."""
    publisher = _Publisher(broker_url, resilience)
    try:
        for group in _group(_load_sources(sources)):
            bodies = [body for _, body in group]
            limit = publisher.part_limit
            if limit is not None and any(len(b) > limit for b in bodies):
                bodies = _resplit(bodies, limit)
            publisher.publish_set(bodies, source=group[0][0])
    finally:
        publisher.close()
    return publisher.result


def send_stream(stream: TableStream, broker_url: str, *,
                resilience: ResilienceConfig | None = None, source: str | None = None,
                **write_options: Any) -> SendResult:
    """Encode a table stream as packet parts that fit the broker and publish them.

    ``write_options`` are those of ``tdtp_core.packet.encode_packets`` (``compress``,
    ``integrity``, ``part_size`` …); ``part_size`` is lowered to the broker's limit.
    ``source`` names where the rows come from in the audit log (default: the table).
    Parts are staged on disk by the writer, so memory stays at about one part.
    """
    from tdtp_core.packet.writer import DEFAULT_PART_SIZE, WriteOptions, encode_stream

    publisher = _Publisher(broker_url, resilience)
    try:
        limit = publisher.part_limit
        if limit is not None:
            write_options["part_size"] = min(
                write_options.get("part_size") or DEFAULT_PART_SIZE, limit)
        with encode_stream(stream, WriteOptions(**write_options)) as writer:
            def parts() -> Iterator[bytes]:
                for _, _, data in writer.emit():
                    yield data

            publisher.publish_set(parts(), source=source or stream.table)
    finally:
        publisher.close()
    return publisher.result

