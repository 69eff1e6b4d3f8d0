"""Which offset of a partition may be committed while sets are still in flight.

Kafka commits a position, not a message: committing offset N says every message below N
is done. Parts of several sets interleave in one partition, so the commit point is the
lowest offset delivered but not yet settled (or, with none, the next offset to read).
A requeued message moves the point back to it: the consumer seeks there and everything
from it is delivered again.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PartitionOffsets:
    pending: set[int] = field(default_factory=set)
    #: The offset after the highest delivered message (the consumer's position).
    position: int = -1
    committed: int = -1

    def delivered(self, offset: int) -> None:
        self.pending.add(offset)
        self.position = max(self.position, offset + 1)

    def settled(self, offset: int) -> None:
        self.pending.discard(offset)

    def rewind(self, offset: int) -> None:
        """Everything from ``offset`` on will be delivered again."""
        self.pending = {o for o in self.pending if o < offset}
        self.position = min(self.position, offset)

    def commit_point(self) -> int | None:
        """The offset to commit now, if it moved forward."""
        point = min(self.pending) if self.pending else self.position
        return point if point > self.committed else None
