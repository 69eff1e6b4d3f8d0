"""Dead letters: packet sets that cannot be imported, kept whole with the reason.

Three kinds of destination, one interface (:class:`DeadLetterQueue`):

* a **directory** (a path, or ``file:///path``): one sub-directory per letter holding the
  parts as packet files and ``letter.json`` with the reason;
* a **RabbitMQ dead-letter exchange** and its queue, or a **Kafka topic**: any broker URL.
  Each part is one message; headers carry the letter's id, reason and kind.

A letter leaves the queue only when it is replayed successfully or purged. Brokers that
acknowledge positionally (Kafka offsets) cannot remove one entry from the middle, so
the entries kept are published again before the old positions are committed.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tdtp_core import audit
from tdtp_core.brokers import headers as H
from tdtp_core.brokers.base import ack_all, reject_all, selective_ack
from tdtp_core.errors import TdtpError
from tdtp_core.protocols import Adapter, Broker, Message
from tdtp_core.resilience import ResilienceConfig

log = logging.getLogger("tdtp.brokers")

LETTER_ID = "tdtp-dlq-id"
REASON = "tdtp-dlq-reason"
KIND = "tdtp-dlq-kind"
TIME = "tdtp-dlq-time"
SOURCE = "tdtp-dlq-source"
INDEX = "tdtp-dlq-index"
COUNT = "tdtp-dlq-count"
_MAX_REASON = 2000


@dataclass
class DeadLetter:
    """One packet set (or one unreadable message) that could not be imported."""

    id: str
    reason: str
    kind: str
    time: str
    source: str
    table: str = ""
    batch_id: str = ""
    message_ids: list[str] = field(default_factory=list)
    #: The bodies; a lazy sequence (the listener's spool) is read one part at a time.
    parts: Sequence[bytes] = field(default_factory=list, repr=False)

    def summary(self) -> dict[str, Any]:
        """Everything but the packet bytes."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "parts"}
        out["message_ids"] = list(self.message_ids)
        out["part_count"] = len(self.parts)
        out["bytes"] = sum(len(p) for p in self.parts)
        return out


def new_letter(parts: Sequence[bytes], *, reason: str, kind: str, source: str,
               table: str = "", batch_id: str = "",
               message_ids: Sequence[str] = ()) -> DeadLetter:
    now = datetime.now(UTC)
    return DeadLetter(
        id=f"dlq-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}",
        reason=" ".join(reason.split())[:_MAX_REASON],
        kind=kind, time=now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        source=source, table=table, batch_id=batch_id,
        # Kept as given: a lazy sequence is read only while the letter is stored.
        message_ids=list(message_ids), parts=parts,
    )


class DeadLetterQueue(Protocol):
    """Where dead letters are kept; ``location`` is safe to show (no password)."""

    location: str

    def put(self, letter: DeadLetter) -> None: ...

    def entries(self) -> list[DeadLetter]: ...

    def settle(self, remove: Callable[[DeadLetter], bool]) -> list[DeadLetter]:
        """Offer every entry to ``remove``; those it accepts leave the queue (returned)."""
        ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------- directory


class DirectoryDeadLetters:
    """Letters as directories: ``<id>/letter.json`` and ``<id>/part-0001.tdtp.xml`` …"""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.location = str(self.path)

    def put(self, letter: DeadLetter) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".{letter.id}.tmp"
        tmp.mkdir()
        try:
            for i, body in enumerate(letter.parts, 1):
                _write_synced(tmp / f"part-{i:04d}.tdtp.xml", body)
            _write_synced(tmp / "letter.json",
                          json.dumps(letter.summary(), indent=2).encode("utf-8"))
            os.replace(tmp, self.path / letter.id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _load(self, folder: Path) -> DeadLetter:
        try:
            meta = json.loads((folder / "letter.json").read_text(encoding="utf-8"))
            parts = [p.read_bytes() for p in sorted(folder.glob("part-*.tdtp.xml"))]
            return DeadLetter(
                id=folder.name, reason=str(meta.get("reason", "")),
                kind=str(meta.get("kind", "")), time=str(meta.get("time", "")),
                source=str(meta.get("source", "")), table=str(meta.get("table", "")),
                batch_id=str(meta.get("batch_id", "")),
                message_ids=[str(m) for m in meta.get("message_ids", [])], parts=parts)
        except (OSError, ValueError) as exc:
            raise TdtpError(f"unreadable dead letter: {exc}").at(str(folder)) from exc

    def entries(self) -> list[DeadLetter]:
        if not self.path.is_dir():
            return []
        folders = [p for p in self.path.iterdir()
                   if p.is_dir() and not p.name.startswith(".")]
        return sorted((self._load(p) for p in folders), key=lambda d: (d.time, d.id))

    def settle(self, remove: Callable[[DeadLetter], bool]) -> list[DeadLetter]:
        removed = []
        for letter in self.entries():
            if remove(letter):
                shutil.rmtree(self.path / letter.id)
                removed.append(letter)
        return removed

    def close(self) -> None:
        """Nothing to release."""


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


# ------------------------------------------------------------------------------ broker


class BrokerDeadLetters:
    """Letters as messages on a broker queue or topic (one message per part)."""

    def __init__(self, broker: Broker, *, location: str, idle: float = 2.0) -> None:
        self.broker = broker
        self.location = location
        self.idle = idle

    def put(self, letter: DeadLetter) -> None:
        for i, body in enumerate(letter.parts, 1):
            try:
                headers = H.part_headers(body)
            except TdtpError:
                headers = {H.BODY_XXH3: H.body_hash(body)}
            headers.update({
                LETTER_ID: letter.id, REASON: letter.reason, KIND: letter.kind,
                TIME: letter.time, SOURCE: letter.source, INDEX: str(i),
                COUNT: str(len(letter.parts)),
            })
            if letter.table:
                headers.setdefault(H.TABLE, letter.table)
            self.broker.publish(body, headers)

    def _drain(self) -> list[tuple[DeadLetter, list[Message]]]:
        """Every letter now in the queue, with its messages (not yet settled)."""
        letters: dict[str, tuple[DeadLetter, dict[int, bytes], list[Message]]] = {}
        for message in self.broker.consume(timeout=self.idle):
            h = message.headers
            letter_id = h.get(LETTER_ID) or f"msg-{H.body_hash(message.body)[:16]}"
            if letter_id not in letters:
                letter = DeadLetter(
                    id=letter_id,
                    reason=h.get(REASON, "dead-lettered by the broker (no reason recorded)"),
                    kind=h.get(KIND, "unknown"), time=h.get(TIME, ""),
                    source=h.get(SOURCE, ""), table=h.get(H.TABLE, ""),
                    batch_id=h.get(H.BATCH_ID, ""))
                letters[letter_id] = (letter, {}, [])
            letter, parts, messages = letters[letter_id]
            messages.append(message)
            try:
                index = int(h.get(INDEX, "1"))
            except ValueError:
                index = len(parts) + 1
            if index not in parts:
                parts[index] = message.body
                if h.get(H.MESSAGE_ID):
                    letter.message_ids.append(h[H.MESSAGE_ID])
        out = []
        for letter, parts, messages in letters.values():
            letter.parts = [parts[i] for i in sorted(parts)]
            out.append((letter, messages))
        return out

    def entries(self) -> list[DeadLetter]:
        drained = self._drain()
        reject_all(self.broker, (m for _, ms in drained for m in ms), requeue=True)
        return [letter for letter, _ in drained]

    def settle(self, remove: Callable[[DeadLetter], bool]) -> list[DeadLetter]:
        drained = self._drain()
        removed: list[DeadLetter] = []
        kept: list[tuple[DeadLetter, list[Message]]] = []
        try:
            for letter, messages in drained:
                if remove(letter):
                    removed.append(letter)
                else:
                    kept.append((letter, messages))
        except BaseException:
            reject_all(self.broker, (m for _, ms in drained for m in ms), requeue=True)
            raise
        gone = {letter.id for letter in removed}
        done = [m for letter, ms in drained if letter.id in gone for m in ms]
        if selective_ack(self.broker) or not removed:
            ack_all(self.broker, done)
            reject_all(self.broker, (m for _, ms in kept for m in ms), requeue=True)
        else:
            for letter, _ in kept:
                self.put(letter)  # keep it: positions can only be committed in order
            ack_all(self.broker, [m for _, ms in drained for m in ms])
        return removed

    def close(self) -> None:
        self.broker.close()


def open_dlq(location: str) -> DeadLetterQueue:
    """A directory path (or ``file:///path``), or a broker URL of a dead-letter queue."""
    if location.startswith("file://"):
        return DirectoryDeadLetters(location[len("file://"):])
    if "://" not in location:
        return DirectoryDeadLetters(location)
    from tdtp_core.plugins import get_host

    broker = get_host().broker_for_url(location)
    display = getattr(broker, "display_url", None)
    if not isinstance(display, str):
        from tdtp_core.sql.urls import mask_url

        display = mask_url(location)
    return BrokerDeadLetters(broker, location=display)



# ------------------------------------------------------------------- replay and purge


@dataclass
class ReplayResult:
    replayed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"replayed": self.replayed, "failed": self.failed}


def _is_broker_url(url: str) -> bool:
    from tdtp_core.plugins import get_host

    scheme = url.partition("://")[0].split("+", 1)[0].lower()
    return "://" in url and any(scheme in c.schemes for c in get_host().brokers)


def replay(location: str, target: str, *, ids: Sequence[str] | None = None,
           table: str | None = None, strategy: str = "replace", create: bool = False,
           resilience: ResilienceConfig | None = None) -> ReplayResult:
    """Import dead letters into a database, or publish them to a broker, after a fix.

    A letter leaves the dead-letter queue only when its replay succeeded; one that fails
    again stays, and the new reason is reported. ``ids`` limits the replay to those
    letters.
    """
    from tdtp_core.sql.urls import mask_url

    wanted = set(ids) if ids else None
    result = ReplayResult()
    queue = open_dlq(location)
    to_broker = _is_broker_url(target)
    adapter: Adapter | None = None
    if not to_broker:
        from tdtp_core.plugins import get_host

        adapter = get_host().adapter_for_url(target)

    def attempt(letter: DeadLetter) -> bool:
        if wanted is not None and letter.id not in wanted:
            return False
        try:
            with audit.operation("replay", source=queue.location, target=mask_url(target),
                                 table=table or letter.table,
                                 message_ids=letter.message_ids,
                                 details={"dead_letter": letter.id}) as entry:
                if to_broker:
                    from tdtp_core.brokers.sending import send_packets

                    entry.rows = send_packets(letter.parts, target,
                                              resilience=resilience).rows
                else:
                    assert adapter is not None
                    entry.rows = _import_letter(adapter, letter, target, table=table,
                                                strategy=strategy, create=create,
                                                resilience=resilience)
        except TdtpError as exc:
            result.failed[letter.id] = str(exc)
            return False
        result.replayed.append(letter.id)
        return True

    try:
        queue.settle(attempt)
    finally:
        queue.close()
        if adapter is not None:
            adapter.close()
    return result


def _import_letter(adapter: Adapter, letter: DeadLetter, target: str, *, table: str | None,
                   strategy: str, create: bool, resilience: ResilienceConfig | None) -> int:
    from tdtp_core.packet import read_packets
    from tdtp_core.resilience import endpoint_of, guard

    def run() -> int:
        stream = read_packets(*letter.parts)
        return adapter.write(stream, table=table, strategy=strategy, create=create).rows

    return guard(endpoint_of(target), run, resilience, what=f"replay of {letter.id}")


def purge(location: str, ids: Sequence[str] | None = None) -> list[str]:
    """Delete dead letters (all of them when ``ids`` is None); returns the ids removed."""
    wanted = set(ids) if ids is not None else None
    queue = open_dlq(location)
    try:
        removed = queue.settle(lambda d: wanted is None or d.id in wanted)
    finally:
        queue.close()
    for letter in removed:
        audit.record("purge", source=queue.location, table=letter.table,
                     message_ids=letter.message_ids, details={"dead_letter": letter.id})
    return [letter.id for letter in removed]
