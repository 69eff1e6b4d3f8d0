"""The Kafka plugin: commit points, the broker contract on Tansu, message size limits."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tdtp_broker_kafka.offsets import PartitionOffsets

from tdtp_core.errors import ConfigError
from tdtp_core.plugins import get_host
from tdtp_core.protocols import Broker


def _open(url: str) -> Broker:
    return get_host().broker_for_url(url)


def test_plugin_module_imports_nothing_heavy() -> None:
    code = ("import sys, tdtp_broker_kafka; "
            "assert 'confluent_kafka' not in sys.modules, 'client imported at discovery'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_commit_point_never_passes_an_unsettled_message() -> None:
    p = PartitionOffsets()
    for offset in range(10):  # set A: 0-4, set B: 5-9
        p.delivered(offset)
    for offset in range(5, 10):
        p.settled(offset)
    assert p.commit_point() == 0  # nothing below 0 may be committed yet
    p.committed = 0
    assert p.commit_point() is None  # B is done, but A still pends at 0
    for offset in range(5):
        p.settled(offset)
    assert p.commit_point() == 10
    p.committed = 10
    for offset in range(10, 14):
        p.delivered(offset)
    p.rewind(11)  # 11.. requeued: delivered again
    p.settled(10)
    assert p.commit_point() == 11


def test_url_is_checked() -> None:
    with pytest.raises(ConfigError, match="one topic"):
        _open("kafka://127.0.0.1:9092/")
    with pytest.raises(ConfigError, match="unknown option"):
        _open("kafka://127.0.0.1:9092/t?grup=x")
    broker = _open("kafka://a:9092,b:9093/orders?group=dwh&session.timeout.ms=6000")
    assert broker.dead_letter_url() == (  # type: ignore[attr-defined]
        "kafka://a:9092,b:9093/orders.dlq?group=dwh.dlq&session.timeout.ms=6000")


def test_acks_commit_only_up_to_the_oldest_unsettled_message(kafka_topic: str) -> None:
    broker = _open(kafka_topic)
    for i in range(6):
        broker.publish(f"<m{i}/>".encode(), {"tdtp-table": "t"})
    got = list(broker.consume(timeout=2))
    assert [m.body for m in got] == [f"<m{i}/>".encode() for i in range(6)]
    broker.ack_all(got[3:])  # type: ignore[attr-defined]
    broker.close()  # m0-m2 were never settled
    again = _open(kafka_topic)
    redelivered = list(again.consume(timeout=2))
    assert [m.body for m in redelivered][:3] == [b"<m0/>", b"<m1/>", b"<m2/>"]
    again.ack_all(redelivered)  # type: ignore[attr-defined]
    again.close()
    assert list(_open(kafka_topic).consume(timeout=2)) == []


def test_rejected_message_is_read_again(kafka_topic: str) -> None:
    broker = _open(kafka_topic)
    for i in range(3):
        broker.publish(f"<m{i}/>".encode(), {})
    first = list(broker.consume(timeout=2))
    broker.ack(first[0])
    broker.reject(first[1], requeue=True)
    broker.reject(first[2], requeue=True)
    again = list(broker.consume(timeout=2))
    assert [m.body for m in again] == [b"<m1/>", b"<m2/>"]
    broker.ack_all(again)  # type: ignore[attr-defined]
    broker.close()


def test_senders_write_parts_that_fit_the_message_limit(kafka_topic: str) -> None:
    from tdtp_core import Field, Schema, TableStream, read_packets
    from tdtp_core.brokers.sending import send_stream

    limited = f"{kafka_topic}&max_message_bytes=30000"
    schema = Schema([Field("id", "INTEGER", key=True), Field("text", "TEXT")])
    stream = TableStream.from_rows(schema, ((i, "x" * 50) for i in range(5000)), table="t")
    sent = send_stream(stream, limited)  # default parts (1.9 MB) would not fit
    assert sent.messages > 5
    broker = _open(kafka_topic)
    bodies = [m.body for m in broker.consume(timeout=2)]
    broker.close()
    assert len(bodies) == sent.messages and max(map(len, bodies)) <= 30000
    assert len(read_packets(*bodies).rows()) == 5000


def test_unreachable_broker_is_transient() -> None:
    from tdtp_core.brokers.base import BrokerUnavailable

    broker = _open("kafka://127.0.0.1:1/t?timeout=2&socket.connection.setup.timeout.ms=1000")
    with pytest.raises(BrokerUnavailable):
        broker.publish(b"<x/>", {})
