"""tdtp: move tables as self-checking TDTP packets.

Importing ``tdtp_core`` is cheap: the packet engine (lxml) and optional extras such as
pandas load on first use of the names that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tdtp_core.errors import (
    AdapterError,
    BrokerError,
    ConfigError,
    IntegrityError,
    PacketError,
    PluginError,
    PluginNotFound,
    QueryError,
    SchemaError,
    TdtpError,
)
from tdtp_core.stream import TableStream
from tdtp_core.types import NODATE, DictionaryEntry, Field, Schema, SpecialValues

if TYPE_CHECKING:
    from tdtp_core.packet import inspect_packet, read_packets, verify_packets, write_packets

__version__ = "0.1.0"

_LAZY = {
    "read_packets": "tdtp_core.packet",
    "write_packets": "tdtp_core.packet",
    "inspect_packet": "tdtp_core.packet",
    "verify_packets": "tdtp_core.packet",
    "to_dataframe": "tdtp_core.dataframes",
    "from_dataframe": "tdtp_core.dataframes",
}

__all__ = [
    "NODATE",
    "AdapterError",
    "BrokerError",
    "ConfigError",
    "DictionaryEntry",
    "Field",
    "IntegrityError",
    "PacketError",
    "PluginError",
    "PluginNotFound",
    "QueryError",
    "Schema",
    "SchemaError",
    "SpecialValues",
    "TableStream",
    "TdtpError",
    "inspect_packet",
    "read_packets",
    "verify_packets",
    "write_packets",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tdtp_core' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
