"""tdtp plugin: the RabbitMQ broker. Registers an import string only; pika loads on use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_brokers(registry: Registrar) -> None:
    registry.add("rabbitmq", "tdtp_broker_rabbitmq.broker:RabbitBroker",
                 schemes=("amqp", "amqps"))
