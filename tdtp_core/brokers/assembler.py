"""Collect the parts of a packet set from a stream of messages (framework §4.5).

Parts of several sets may interleave, arrive twice (a sender's retry after a lost
publisher confirm, a redelivery) or never complete (a sender that died half-way). The
assembler keys parts by batch id; a set is handed out once every part is there, with
duplicates attached so they are acknowledged together. A set still incomplete after
``timeout`` seconds is handed out by :meth:`BatchAssembler.expired`, for the caller to
dead-letter whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tdtp_core.brokers.headers import PartKey, part_key
from tdtp_core.errors import PacketError
from tdtp_core.protocols import Message


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
        return [self.parts[n][1].body for n in sorted(self.parts)]

    @property
    def message_ids(self) -> list[str]:
        return [self.parts[n][0].message_id for n in sorted(self.parts)]

    @property
    def rows(self) -> int:
        return sum(key.rows for key, _ in self.parts.values())


class BatchAssembler:
    """Group messages into complete part sets; ``timeout=None`` waits forever."""

    def __init__(self, timeout: float | None = 300.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self._clock = clock
        self._sets: dict[str, PartSet] = {}

    def add(self, message: Message, key: PartKey | None = None) -> PartSet | None:
        """Take one message; return its set when this message completed it.

        Raises ``PacketError`` when the message is not a readable packet part.
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
            pending.duplicates.append(message)
        else:
            pending.parts[key.part] = (key, message)
        if pending.complete:
            del self._sets[key.batch_id]
            return pending
        return None

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
