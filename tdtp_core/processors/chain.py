"""An ordered chain of processors, applied to a stream exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from tdtp_core.processors.specs import ProcessorSpec

if TYPE_CHECKING:
    from tdtp_core.plugins import PluginHost
    from tdtp_core.protocols import Processor
    from tdtp_core.stream import TableStream

#: ``stream.metadata`` key listing the chains already applied to a stream's data.
APPLIED_KEY = "processor_chains"


class ProcessorChain:
    """Processors run in the order given, each once, batch by batch.

    Items are specs (resolved through the plugin registry now, so a missing plugin or a
    bad config fails before any data moves) or ready processor objects.
    """

    def __init__(
        self, items: Iterable[ProcessorSpec | Processor] = (), *, host: PluginHost | None = None
    ) -> None:
        items = list(items)
        self.processors: list[Processor] = [
            item.build(host) if isinstance(item, ProcessorSpec) else item for item in items
        ]
        #: The option each processor came from (``--mask email:email``; "" for a ready
        #: object), so a caller can say which option a failing processor was.
        self.options: list[str] = [
            item.option if isinstance(item, ProcessorSpec) else "" for item in items
        ]
        self.token = uuid.uuid4().hex

    def __len__(self) -> int:
        return len(self.processors)

    def __iter__(self) -> Iterator[Processor]:
        return iter(self.processors)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.processors]

    def apply(self, stream: TableStream) -> TableStream:
        """The processed stream (lazy). A stream this chain already processed is returned
        as is, so wiring the chain into two layers of one output path cannot mask twice."""
        done: tuple[str, ...] = stream.metadata.get(APPLIED_KEY, ())
        if self.token in done or not self.processors:
            return stream
        for processor in self.processors:
            stream = processor.process(stream)
        stream.metadata[APPLIED_KEY] = (*done, self.token)
        return stream

    def __repr__(self) -> str:
        return f"ProcessorChain({self.names!r})"
