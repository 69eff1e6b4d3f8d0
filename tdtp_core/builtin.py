"""Core's own plugin (entry point ``builtin``): registered exactly like external ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_formats(registry: Registrar) -> None:
    registry.add(
        "tdtp", "tdtp_core.packet.format:PacketFormat", extensions=(".tdtp.xml", ".xml", ".tdtp")
    )
    registry.add("csv", "tdtp_core.formats.csv:CsvFormat", extensions=(".csv",))


@hookimpl
def tdtp_register_processors(registry: Registrar) -> None:
    registry.add("drop", "tdtp_core.processors.fields:DropProcessor")
