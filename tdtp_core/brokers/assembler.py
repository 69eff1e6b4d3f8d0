"""Collect the parts of a packet set from a stream of messages (framework §4.5).

Parts of several sets may interleave, arrive twice (a sender's retry after a lost
publisher confirm, a redelivery) or never complete (a sender that died half-way). The
assembler keys parts by batch id; a set is handed out once every part is there, with
duplicates attached so they are acknowledged together. A set still incomplete after
``timeout`` seconds is handed out by :meth:`BatchAssembler.expired`, for the caller to
dead-letter whole.

With a :class:`~tdtp_core.brokers.spool.Spool`, each body goes to a file as it arrives
and the set keeps of each message only its broker handle and hash headers (what settling
needs), so memory does not grow with the set; the caller calls :meth:`PartSet.release`
once the set is settled. Without one, bodies stay in the messages (pipelines, tests).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tdtp_core.brokers import spool as sp
from tdtp_core.brokers.headers import (
    BODY_XXH3,
    PACKET_XXH3,
    PartKey,
    body_hash,
    check_body,
    check_digest,
    part_key,
)
from tdtp_core.errors import PacketError
from tdtp_core.protocols import Message

#: The headers a spooled part keeps (see :meth:`BatchAssembler._held`).
_KEPT_HEADERS = (BODY_XXH3, PACKET_XXH3)


@dataclass
class PartSet:
    """The messages of one packet set (batch id) seen so far."""

    batch_id: str
    total: int
    table: str
    first_seen: float
    parts: dict[int, tuple[PartKey, Message]] = field(default_factory=dict)
    #: Second copies of parts already held: acknowledged with the set.
    duplicates: list[Message] = field(default_factory=list)
    #: Where the bodies are when spooled (the messages in ``parts`` then carry none).
    spooled: dict[int, sp.SpooledBody] = field(default_factory=dict)
    directory: Path | None = None

    @property
    def complete(self) -> bool:
        return len(self.parts) >= self.total

    @property
    def missing(self) -> list[int]:
        return [n for n in range(1, self.total + 1) if n not in self.parts]

    @property
    def messages(self) -> list[Message]:
        """Every message to settle for this set: parts in order, then duplicates."""
        return [self.parts[n][1] for n in sorted(self.parts)] + self.duplicates

    @property
    def bodies(self) -> list[bytes]:
        """Every body in memory at once; large sets use :attr:`sources` instead."""
        return list(self.part_bodies)

    @property
    def part_bodies(self) -> Sequence[bytes]:
        """The bodies in part order, read from the spool one at a time when spooled."""
        if self.spooled:
            return sp.SpooledBodies([self.spooled[n] for n in sorted(self.parts)])
        return [self.parts[n][1].body for n in sorted(self.parts)]

    @property
    def sources(self) -> list[bytes | Path]:
        """What the packet reader reads: the spooled files, or the bodies."""
        if self.spooled:
            return [self.spooled[n].path for n in sorted(self.parts)]
        return [self.parts[n][1].body for n in sorted(self.parts)]

    @property
    def message_ids(self) -> list[str]:
        return [self.parts[n][0].message_id for n in sorted(self.parts)]

    @property
    def rows(self) -> int:
        return sum(key.rows for key, _ in self.parts.values())

    def body_hash(self, part: int) -> str:
        """``tdtp-body-xxh3`` of one part's body (taken while spooling, when spooled)."""
        spooled = self.spooled.get(part)
        return spooled.xxh3 if spooled is not None else body_hash(self.parts[part][1].body)

    def check_bodies(self) -> None:
        """Raise ``IntegrityError`` for the first body that does not match its hash
        header (damaged in transit)."""
        for n in sorted(self.parts):
            key, message = self.parts[n]
            spooled = self.spooled.get(n)
            if spooled is None:
                check_body(message.body, message.headers, key.message_id)
            else:
                check_digest(spooled.xxh3, message.headers, key.message_id)

    def release(self) -> None:
        """Remove the spooled bodies (a no-op when not spooled)."""
        directory, self.directory = self.directory, None
        sp.release(directory)


class BatchAssembler:
    """Group messages into complete part sets; ``timeout=None`` waits forever."""

    def __init__(self, timeout: float | None = 300.0, *,
                 clock: Callable[[], float] = time.monotonic,
                 spool: sp.Spool | None = None) -> None:
        self.timeout = timeout
        self._clock = clock
        self._spool = spool
        self._sets: dict[str, PartSet] = {}

    def add(self, message: Message, key: PartKey | None = None) -> PartSet | None:
        """Take one message; return its set when this message completed it.

        Raises ``PacketError`` when the message is not a readable packet part, and
        ``TdtpError`` when its body cannot be spooled (the message is then not held).
        """
        key = key or part_key(message.body, message.headers)
        if not 1 <= key.part <= key.total:
            raise PacketError(f"part number {key.part} is outside 1..{key.total}").at(
                key.message_id)
        pending = self._sets.get(key.batch_id)
        if pending is None:
            pending = PartSet(key.batch_id, key.total, key.table, self._clock())
            self._sets[key.batch_id] = pending
        if key.part in pending.parts or key.part > pending.total:
            pending.duplicates.append(self._held(message))
        else:
            if self._spool is not None:
                try:
                    if pending.directory is None:
                        pending.directory = self._spool.new_set(key.batch_id)
                    pending.spooled[key.part] = self._spool.write(
                        pending.directory, key.part, message.body)
                except BaseException:
                    if not pending.parts:
                        del self._sets[key.batch_id]
                        pending.release()
                    raise
            pending.parts[key.part] = (key, self._held(message))
        if pending.complete:
            del self._sets[key.batch_id]
            return pending
        return None

    def _held(self, message: Message) -> Message:
        """What a set keeps of a message: all of it, or when spooling only the broker's
        handle (for acknowledging) and the hash headers (for checking and auditing), so
        that a set of many parts costs little more than its files."""
        if self._spool is None:
            return message
        kept = {k: message.headers[k] for k in _KEPT_HEADERS if k in message.headers}
        return dataclasses.replace(message, body=b"", headers=kept)

    def expired(self) -> list[PartSet]:
        """Remove and return the sets that waited longer than ``timeout``."""
        if self.timeout is None:
            return []
        limit = self._clock() - self.timeout
        old = [s for s in self._sets.values() if s.first_seen <= limit]
        for s in old:
            del self._sets[s.batch_id]
        return old

    def drain(self) -> list[PartSet]:
        """Remove and return every incomplete set (at shutdown, or after a lost connection)."""
        sets = list(self._sets.values())
        self._sets.clear()
        return sets

    def __len__(self) -> int:
        return len(self._sets)
