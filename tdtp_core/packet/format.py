"""The packet file as a ``Format``, so packets and CSV/XLSX files are chosen alike."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tdtp_core import read_packets, write_packets
from tdtp_core.formats import check_options
from tdtp_core.stream import TableStream


def _accepted(function: Callable[..., Any]) -> list[str]:
    return [
        p.name for p in inspect.signature(function).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]


class PacketFormat:
    """TDTP packet files (``.tdtp.xml``, ``.xml``, ``.tdtp``), one or many parts."""

    name = "tdtp"
    extensions = (".tdtp.xml", ".xml", ".tdtp")

    def read(self, paths: Sequence[Path], **options: Any) -> TableStream:
        check_options(self.name, options, _accepted(read_packets))
        return read_packets(*paths, **options)

    def write(self, stream: TableStream, path: Path, **options: Any) -> list[Path]:
        """Write parts; a stream read from a packet keeps its type, addressing and query."""
        check_options(self.name, options, _accepted(write_packets))
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        header = stream.header
        if header is not None:
            options.setdefault("packet_type", header.packet_type)
            options.setdefault("in_reply_to", header.in_reply_to)
            options.setdefault("sender", header.sender)
            options.setdefault("recipient", header.recipient)
        if stream.query is not None:
            options.setdefault("query", stream.query)
            options.setdefault("query_context", stream.query_context)
        return write_packets(stream, path, **options)
