"""tdtp plugin: the Kafka broker. Registers an import string only; confluent-kafka loads on use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_brokers(registry: Registrar) -> None:
    registry.add("kafka", "tdtp_broker_kafka.broker:KafkaBroker", schemes=("kafka",))
