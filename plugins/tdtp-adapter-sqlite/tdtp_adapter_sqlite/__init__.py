"""tdtp plugin: the SQLite adapter. Registers an import string only; nothing heavy loads."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_adapters(registry: Registrar) -> None:
    registry.add("sqlite", "tdtp_adapter_sqlite.adapter:SqliteAdapter", schemes=("sqlite",))
