"""Kafka through confluent-kafka (framework §4.3, with the fixes DECISIONS 13 asks for).

``kafka://host:9092[,host2:9092]/TOPIC?group=NAME``. Options: ``group`` (consumer group,
default ``tdtp``), ``partitions`` (when the topic has to be created, default 1),
``max_message_bytes`` (override the limit read from the topic or broker configuration),
``timeout`` (seconds a publish may take, default 60). Dotted options are librdkafka
settings for both clients (``session.timeout.ms=6000``); ``producer.X`` / ``consumer.X``
set ``X`` for one of them only.

The producer is idempotent (``acks=all``), keys every message by table so all parts of a
table stay in one partition and in order, and waits for each delivery report. The
consumer never auto-commits: offsets are committed when the listener acknowledges, and
only up to the oldest message still unsettled (:mod:`.offsets`). The message size limit
is the topic's ``max.message.bytes`` (else the broker's ``message.max.bytes``, else
Kafka's default), which senders use to write parts that fit.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
)

from tdtp_broker_kafka.offsets import PartitionOffsets
from tdtp_core.brokers.base import BrokerBase
from tdtp_core.brokers.headers import TABLE
from tdtp_core.brokers.url import int_param
from tdtp_core.errors import BrokerError, ConfigError
from tdtp_core.protocols import Message

log = logging.getLogger("tdtp.brokers.kafka")
#: librdkafka's own chatter (configuration notes, reconnects) is for debugging only.
client_log = logging.getLogger("tdtp.brokers.kafka.client")
client_log.setLevel(logging.ERROR)

#: Kafka's default ``message.max.bytes``.
DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
_ASSIGN_WAIT = 30.0


@dataclass(frozen=True)
class _Offset:
    """A message's handle: its position, valid for the assignment it was read under."""

    generation: int
    topic: str
    partition: int
    offset: int


def _transient(error: KafkaError) -> bool:
    return bool(error.retriable()) or error.code() in (
        KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._MSG_TIMED_OUT,
        KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT, KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.NETWORK_EXCEPTION)


class KafkaBroker(BrokerBase):
    """A Kafka topic: ``Broker`` protocol plus tdtp's broker extras."""

    options: ClassVar[frozenset[str]] = frozenset(
        {"group", "partitions", "max_message_bytes", "timeout"})
    passthrough: ClassVar[bool] = True
    selective_ack: ClassVar[bool] = False

    def __init__(self, url: str) -> None:
        super().__init__(url)
        a = self.address
        self.topic = a.path.strip("/")
        if not self.topic or "/" in self.topic:
            raise ConfigError(f"Kafka URL {self.display_url} must name one topic "
                              "(kafka://host:9092/TOPIC)")
        self.group = a.params.get("group") or "tdtp"
        self.partitions = int_param(a, "partitions", 1, minimum=1)
        self.timeout = int_param(a, "timeout", 60, minimum=1)
        self._limit_override = int_param(a, "max_message_bytes", 0)
        self._limit: int | None = None
        self.bootstrap = ",".join(f"{h}:{p or 9092}" for h, p in a.hosts)
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._topic_ready = False
        self._generation = 0
        self._assigned = False
        self._offsets: dict[int, PartitionOffsets] = {}

    # ----------------------------------------------------------------------- config

    def _settings(self, role: str) -> dict[str, Any]:
        own = f"{role}."
        other = "consumer." if role == "producer" else "producer."
        settings: dict[str, Any] = {}
        for key, value in self.address.params.items():
            if "." not in key or key.startswith(other):
                continue
            settings[key.removeprefix(own)] = value
        return settings

    def _base(self) -> dict[str, Any]:
        return {"bootstrap.servers": self.bootstrap, "logger": client_log}

    def _admin(self) -> AdminClient:
        return AdminClient(self._base())

    def _ensure_topic(self) -> None:
        """Create the topic when missing (one partition unless ``partitions`` says more)."""
        if self._topic_ready:
            return
        admin = self._admin()  # must outlive the futures below
        futures = admin.create_topics(
            [NewTopic(self.topic, num_partitions=self.partitions, replication_factor=-1)],
            request_timeout=self.timeout)
        try:
            futures[self.topic].result(timeout=self.timeout)
        except KafkaException as exc:
            error = exc.args[0]
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                pass
            elif error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
                log.info("not allowed to create topic %r; assuming it exists", self.topic)
            else:
                raise self.error(f"creating topic {self.topic!r}", exc,
                                 transient=_transient(error)) from exc
        except TimeoutError as exc:
            raise self.error("connection", TimeoutError(
                f"no answer within {self.timeout}s"), transient=True) from exc
        self._topic_ready = True

    @property
    def max_message_bytes(self) -> int:
        """The topic's message size limit (asked once per broker object)."""
        if self._limit_override:
            return self._limit_override
        if self._limit is None:
            self._limit = self._discover_limit()
        return self._limit

    def _discover_limit(self) -> int:
        admin = self._admin()
        resources = [(ConfigResource("topic", self.topic), "max.message.bytes")]
        try:
            brokers = admin.list_topics(timeout=5).brokers
            if brokers:
                resources.append((ConfigResource("broker", str(min(brokers))),
                                  "message.max.bytes"))
        except KafkaException:
            pass  # the topic's setting may still be readable
        for resource, key in resources:
            try:
                configs = admin.describe_configs([resource], request_timeout=5)[resource]
                entry = configs.result(timeout=5).get(key)
            except (KafkaException, TimeoutError, ValueError, TypeError):
                continue
            if entry is not None and str(entry.value).isdigit():
                return int(entry.value)
        return DEFAULT_MAX_MESSAGE_BYTES

    # ---------------------------------------------------------------------- publish

    def _producer_client(self) -> Producer:
        if self._producer is None:
            self._ensure_topic()
            settings = {
                **self._base(),
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "message.max.bytes": max(self.max_message_bytes, 1_000_000),
                "delivery.timeout.ms": self.timeout * 1000,
                **self._settings("producer"),
            }
            self._producer = Producer(settings)
        return self._producer

    def publish(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Produce one message and wait for its delivery report."""
        producer = self._producer_client()
        outcome: list[KafkaError | None] = []
        try:
            producer.produce(
                self.topic, value=body, key=(headers.get(TABLE) or "").encode("utf-8"),
                headers=[(k, v.encode("utf-8")) for k, v in headers.items()],
                on_delivery=lambda err, _msg: outcome.append(err))
        except BufferError as exc:
            raise self.error("publish (producer queue full)", exc, transient=True) from exc
        except KafkaException as exc:
            error = exc.args[0]
            raise self._size_error(error) if error.code() == KafkaError.MSG_SIZE_TOO_LARGE \
                else self.error("publish", exc, transient=_transient(error)) from exc
        producer.flush(self.timeout + 5)
        if not outcome:
            raise self.error("publish", TimeoutError(
                f"no delivery report within {self.timeout}s"), transient=True)
        error = outcome[0]
        if error is not None:
            if error.code() == KafkaError.MSG_SIZE_TOO_LARGE:
                raise self._size_error(error)
            raise self.error("publish", KafkaException(error), transient=_transient(error))

    def _size_error(self, error: KafkaError) -> BrokerError:
        return BrokerError(
            f"publish failed at {self.display_url}: message larger than the topic's limit "
            f"of {self.max_message_bytes} bytes ({error.str()}); write smaller parts "
            "(--part-size) or raise the topic's max.message.bytes")

    # ---------------------------------------------------------------------- consume

    def _consumer_client(self) -> Consumer:
        if self._consumer is None:
            self._ensure_topic()
            settings = {
                **self._base(),
                "group.id": self.group,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 1000,
                **self._settings("consumer"),
            }
            try:
                consumer = Consumer(settings)
                consumer.subscribe([self.topic], on_assign=self._on_assign,
                                   on_revoke=self._on_revoke, on_lost=self._on_revoke)
            except KafkaException as exc:
                raise self.error("subscribe", exc, transient=_transient(exc.args[0])) from exc
            self._consumer = consumer
        return self._consumer

    def _on_assign(self, consumer: Consumer, partitions: Sequence[TopicPartition]) -> None:
        self._generation += 1
        self._offsets = {}
        # An empty share (members that died but whose sessions have not expired yet hold
        # the partitions) is not yet a reason to start counting idle time.
        self._assigned = bool(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: Sequence[TopicPartition]) -> None:
        # Messages read under the old assignment are not ours to commit any more; the
        # next owner reads them again from the committed offset.
        self._generation += 1
        self._offsets = {}
        self._assigned = False

    def consume(self, *, timeout: float | None = None) -> Iterator[Message]:
        """Yield messages until none arrives for ``timeout`` seconds (None: forever).

        The idle clock starts once the group has assigned this consumer a partition (or
        after 30 s), so joining the group does not count as idle time."""
        consumer = self._consumer_client()
        started = time.monotonic()
        deadline: float | None = None
        while True:
            now = time.monotonic()
            if timeout is not None and deadline is None and (
                    self._assigned or now - started > _ASSIGN_WAIT):
                deadline = now + timeout
            if deadline is not None and now >= deadline:
                return
            wait = 0.5 if deadline is None else min(0.5, deadline - now)
            try:
                record = consumer.poll(max(wait, 0.01))
            except KafkaException as exc:
                raise self._lost("consume", exc) from exc
            if record is None:
                continue
            error = record.error()
            if error is not None:
                if error.fatal():
                    raise self._lost("consume", KafkaException(error))
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("consume from %s: %s", self.display_url, error.str())
                continue
            partition, offset = record.partition() or 0, record.offset() or 0
            self._offsets.setdefault(partition, PartitionOffsets()).delivered(offset)
            headers = {str(k): v.decode("utf-8", "replace") if isinstance(v, bytes) else
                       str(v or "") for k, v in list(record.headers() or [])}
            value = record.value()
            yield Message(value if isinstance(value, bytes) else b"", headers,
                          _Offset(self._generation, record.topic() or self.topic,
                                  partition, offset))
            if timeout is not None:
                deadline = time.monotonic() + timeout

    def _lost(self, action: str, exc: KafkaException) -> BrokerError:
        """Drop the consumer; a new one resumes from the committed offsets."""
        consumer, self._consumer = self._consumer, None
        self._offsets, self._assigned = {}, False
        if consumer is not None:
            with contextlib.suppress(KafkaException, RuntimeError):  # already broken
                consumer.close()
        return self.error(action, exc, transient=True)

    def _current(self, message: Message) -> _Offset | None:
        token = message.token
        if not isinstance(token, _Offset):
            raise BrokerError(f"not a message received from {self.display_url}")
        return token if token.generation == self._generation else None

    def ack(self, message: Message) -> None:
        self.ack_all([message])

    def ack_all(self, messages: Sequence[Message]) -> None:
        """Mark the messages settled and commit each partition's new safe point once."""
        touched: set[int] = set()
        for message in messages:
            token = self._current(message)
            if token is not None and token.partition in self._offsets:
                self._offsets[token.partition].settled(token.offset)
                touched.add(token.partition)
        self._commit(touched)

    def reject(self, message: Message, *, requeue: bool) -> None:
        """``requeue``: read it again (seek back); otherwise it counts as settled (the
        caller has dead-lettered it)."""
        token = self._current(message)
        if token is None or token.partition not in self._offsets:
            return
        if not requeue:
            self.ack(message)
            return
        state = self._offsets[token.partition]
        if token.offset >= state.position:
            return  # already rewound to an earlier message: this one comes again too
        state.rewind(token.offset)
        assert self._consumer is not None
        try:
            self._consumer.seek(TopicPartition(token.topic, token.partition, token.offset))
        except KafkaException as exc:
            raise self._lost("seek", exc) from exc

    def _commit(self, partitions: set[int]) -> None:
        points = []
        for partition in sorted(partitions):
            state = self._offsets[partition]
            point = state.commit_point()
            if point is not None:
                points.append((partition, point, state))
        if not points or self._consumer is None:
            return
        try:
            self._consumer.commit(
                offsets=[TopicPartition(self.topic, p, o) for p, o, _ in points],
                asynchronous=False)
        except KafkaException as exc:
            raise self.error("commit", exc, transient=True) from exc
        for _, point, state in points:
            state.committed = point

    def close(self) -> None:
        """Leave the group (uncommitted messages are read again) and flush the producer."""
        consumer, self._consumer = self._consumer, None
        producer, self._producer = self._producer, None
        self._offsets, self._assigned = {}, False
        if consumer is not None:
            try:
                consumer.close()
            except (KafkaException, RuntimeError) as exc:
                log.warning("closing the consumer of %s: %s", self.display_url,
                            self.address.redact(str(exc)))
        if producer is not None:
            producer.flush(10)

    # ----------------------------------------------------------------------- extras

    def dead_letter_url(self) -> str:
        """The topic ``<topic>.dlq``, read by the group ``<group>.dlq``."""
        return self.address.with_changes(path=f"{self.topic}.dlq", group=f"{self.group}.dlq")
