"""Brokers: move packet sets through RabbitMQ, Kafka or any broker plugin (framework §4).

``send_packets`` / ``send_stream`` publish one message per part; ``listen`` imports
complete sets and acknowledges only after the import commits; ``receive`` writes the
packets to files; ``tdtp_core.brokers.dlq`` keeps what cannot be imported. The broker
plugins build on ``tdtp_core.brokers.base``. Names load lazily, so importing this
package is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tdtp_core.brokers.assembler import BatchAssembler, PartSet
    from tdtp_core.brokers.base import BrokerBase, BrokerUnavailable
    from tdtp_core.brokers.dlq import DeadLetter, open_dlq
    from tdtp_core.brokers.listener import ListenStats, listen
    from tdtp_core.brokers.receiving import ReceiveResult, receive
    from tdtp_core.brokers.sending import SendResult, send_packets, send_stream

_LAZY = {
    "BatchAssembler": "assembler", "PartSet": "assembler",
    "BrokerBase": "base", "BrokerUnavailable": "base",
    "DeadLetter": "dlq", "open_dlq": "dlq",
    "ListenStats": "listener", "listen": "listener",
    "ReceiveResult": "receiving", "receive": "receiving",
    "SendResult": "sending", "send_packets": "sending", "send_stream": "sending",
}

__all__ = [
    "BatchAssembler",
    "BrokerBase",
    "BrokerUnavailable",
    "DeadLetter",
    "ListenStats",
    "PartSet",
    "ReceiveResult",
    "SendResult",
    "listen",
    "open_dlq",
    "receive",
    "send_packets",
    "send_stream",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tdtp_core.brokers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tdtp_core.brokers.{module}"), name)
    globals()[name] = value
    return value
