"""The RabbitMQ plugin against a real server: the broker contract and tdtp's extras."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tdtp_core.brokers.base import BrokerUnavailable
from tdtp_core.errors import BrokerError, ConfigError
from tdtp_core.plugins import get_host
from tdtp_core.protocols import Broker


def _open(url: str) -> Broker:
    return get_host().broker_for_url(url)


def test_plugin_module_imports_nothing_heavy() -> None:
    code = ("import sys, tdtp_broker_rabbitmq; "
            "assert 'pika' not in sys.modules, 'pika imported at discovery'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_url_options_are_checked_and_passwords_masked() -> None:
    with pytest.raises(ConfigError, match="names no queue") as info:
        _open("amqp://app:topsecret@mq/%2F")
    assert "topsecret" not in str(info.value)
    with pytest.raises(ConfigError, match="unknown option"):
        _open("amqp://mq/%2F?queue=q&prefetc=5")
    broker = _open("amqp://app:pw@mq:5673/sales?queue=orders&exchange=ex")
    assert isinstance(broker, Broker)
    assert broker.dead_letter_url() == (  # type: ignore[attr-defined]
        "amqp://app:pw@mq:5673/sales?queue=orders.dlq&exchange=orders.dlx&prefetch=0")


def test_unreachable_server_is_transient_and_masked() -> None:
    broker = _open("amqp://app:topsecret@127.0.0.1:1/%2F?queue=q&connect_timeout=1")
    with pytest.raises(BrokerUnavailable) as info:
        broker.publish(b"<x/>", {})
    assert "topsecret" not in str(info.value) and "127.0.0.1:1" in str(info.value)


def test_wrong_password_is_not_retried(rabbitmq_url: str) -> None:
    url = rabbitmq_url.replace("guest:guest", "guest:wrong") + "?queue=q"
    with pytest.raises(BrokerError) as info:
        _open(url).publish(b"<x/>", {})
    assert not isinstance(info.value, BrokerUnavailable) and "wrong" not in str(info.value)


def test_ack_reject_and_close_settle_messages(rabbit_queue: str) -> None:
    broker = _open(rabbit_queue)
    for i in range(4):
        broker.publish(f"<m{i}/>".encode(), {"n": str(i)})
    first = list(broker.consume(timeout=1))
    assert [m.body for m in first] == [b"<m0/>", b"<m1/>", b"<m2/>", b"<m3/>"]
    assert first[2].headers == {"n": "2"}
    broker.ack(first[0])
    broker.reject(first[1], requeue=False)  # dropped (dead-lettered by the caller)
    broker.reject(first[2], requeue=True)
    again = list(broker.consume(timeout=1))
    assert [m.body for m in again] == [b"<m2/>"]
    broker.close()  # m2 (redelivered, unacked) and m3 go back to the queue
    other = _open(rabbit_queue)
    rest = list(other.consume(timeout=1))
    assert sorted(m.body for m in rest) == [b"<m2/>", b"<m3/>"]
    other.ack_all(rest)  # type: ignore[attr-defined]
    other.close()
    assert list(_open(rabbit_queue).consume(timeout=0.5)) == []


def test_prefetch_holds_a_whole_set_unacknowledged(rabbit_queue: str) -> None:
    broker = _open(rabbit_queue)
    for i in range(50):
        broker.publish(b"<p/>", {"i": str(i)})
    held = list(broker.consume(timeout=1))
    assert len(held) == 50  # the reference's prefetch of 1 would stop at one
    broker.ack_all(held)  # type: ignore[attr-defined]
    broker.close()


def test_dead_letter_exchange_routes_to_its_queue(rabbit_queue: str) -> None:
    broker = _open(rabbit_queue)
    dlq = _open(broker.dead_letter_url())  # type: ignore[attr-defined]
    dlq.publish(b"<dead/>", {"tdtp-dlq-reason": "why"})
    (message,) = list(dlq.consume(timeout=1))
    assert message.body == b"<dead/>" and message.headers["tdtp-dlq-reason"] == "why"
    dlq.ack(message)
    dlq.close()
    broker.close()


def test_an_existing_non_durable_queue_is_used_as_it_is(rabbitmq_url: str,
                                                         rabbit_queue: str) -> None:
    import pika

    queue = rabbit_queue.rpartition("queue=")[2]
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    connection.channel().queue_declare(queue, durable=False)
    connection.close()
    broker = _open(rabbit_queue)
    broker.publish(b"<x/>", {})
    (message,) = list(broker.consume(timeout=1))
    broker.ack(message)
    broker.close()
