"""RabbitMQ through pika's blocking connection (framework §4.2, without its quirks).

``amqp://user:password@host:5672/%2F?queue=orders`` (``amqps://`` for TLS). Options:
``queue`` (required), ``exchange`` and ``routing_key`` (publish through a durable direct
exchange bound to the queue; the key defaults to the queue name), ``prefetch`` (deliveries
held unacknowledged at once, 0 = unlimited; default 1000, enough for any part set the
writer makes, unlike the reference's 1 that starves multi-part imports), ``heartbeat``
(seconds) and ``connect_timeout`` (seconds).

Queues and exchanges are durable and messages persistent; every publish waits for the
broker's confirm (mandatory, so an unroutable message is an error, not a silent drop).
Deliveries are acknowledged one by one, never ``multiple``: parts of other sets held by
the same consumer must not be acknowledged by accident. A lost connection resets
everything; the next call reconnects, and deliveries of the dead channel (redelivered by
the broker) are neither acknowledged nor rejected on the new one.
"""

from __future__ import annotations

import collections
import logging
import ssl
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import pika
import pika.exceptions as px
from pika.adapters.blocking_connection import BlockingChannel

from tdtp_core.brokers.base import BrokerBase
from tdtp_core.brokers.url import int_param
from tdtp_core.errors import BrokerError, ConfigError
from tdtp_core.protocols import Message

log = logging.getLogger("tdtp.brokers.rabbitmq")

#: Failures of the connection itself: worth reconnecting and trying again.
_TRANSIENT = (px.AMQPConnectionError, px.StreamLostError, px.ConnectionClosed,
              px.ChannelWrongStateError, px.ConnectionWrongStateError, ConnectionError,
              TimeoutError)


@dataclass(frozen=True)
class _Delivery:
    """A message's handle: its delivery tag, valid only on the channel it came from."""

    generation: int
    tag: int


class RabbitBroker(BrokerBase):
    """A durable RabbitMQ queue: ``Broker`` protocol plus tdtp's broker extras."""

    options: ClassVar[frozenset[str]] = frozenset(
        {"queue", "exchange", "routing_key", "prefetch", "heartbeat", "connect_timeout"})

    def __init__(self, url: str) -> None:
        super().__init__(url)
        a = self.address
        self.queue = a.params.get("queue") or ""
        if not self.queue:
            raise ConfigError(f"RabbitMQ URL {self.display_url} names no queue (?queue=NAME)")
        self.exchange = a.params.get("exchange", "")
        self.routing_key = a.params.get("routing_key") or self.queue
        self.prefetch = int_param(a, "prefetch", 1000)
        self.heartbeat = int_param(a, "heartbeat", 60)
        self.connect_timeout = int_param(a, "connect_timeout", 10, minimum=1)
        self.vhost = a.path or "/"
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self._generation = 0
        self._consuming = False
        self._deliveries: collections.deque[Message] = collections.deque()

    # ------------------------------------------------------------------ connection

    def _parameters(self) -> pika.ConnectionParameters:
        a = self.address
        tls = a.scheme == "amqps"
        credentials = pika.PlainCredentials(a.username or "guest", a.password or "guest")
        return pika.ConnectionParameters(
            host=a.host, port=a.port or (5671 if tls else 5672), virtual_host=self.vhost,
            credentials=credentials, heartbeat=self.heartbeat,
            blocked_connection_timeout=self.connect_timeout * 3,
            socket_timeout=self.connect_timeout, connection_attempts=1,
            stack_timeout=self.connect_timeout * 2,
            ssl_options=pika.SSLOptions(ssl.create_default_context(), a.host) if tls else None,
        )

    def _open(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._reset()
        try:
            connection = pika.BlockingConnection(self._parameters())
        except px.ProbableAuthenticationError as exc:
            raise self.error("login", exc, transient=False) from exc
        except px.ProbableAccessDeniedError as exc:
            raise self.error("opening vhost " + repr(self.vhost), exc, transient=False) from exc
        except (*_TRANSIENT, OSError) as exc:
            raise self.error("connection", exc, transient=True) from exc
        self._connection = connection
        self._generation += 1
        try:
            channel = connection.channel()
            channel = self._declare(channel)
            channel.confirm_delivery()
        except BrokerError:
            self._reset()
            raise
        except _TRANSIENT as exc:
            self._reset()
            raise self.error("channel setup", exc, transient=True) from exc
        self._channel = channel
        return channel

    def _declare(self, channel: BlockingChannel) -> BlockingChannel:
        """Declare the queue durable; a queue that exists with other settings (the
        reference declares them non-durable) is used as it is."""
        assert self._connection is not None
        try:
            channel.queue_declare(self.queue, durable=True)
        except px.ChannelClosedByBroker as exc:
            if exc.reply_code != 406:
                raise self.error(f"declaring queue {self.queue!r}", exc,
                                 transient=False) from exc
            log.warning("queue %r exists with other settings; using it as it is", self.queue)
            channel = self._connection.channel()
            try:
                channel.queue_declare(self.queue, passive=True)
            except px.ChannelClosedByBroker as err:
                raise self.error(f"declaring queue {self.queue!r}", err,
                                 transient=False) from err
        if self.exchange:
            try:
                channel.exchange_declare(self.exchange, exchange_type="direct", durable=True)
                channel.queue_bind(self.queue, self.exchange, routing_key=self.routing_key)
            except px.ChannelClosedByBroker as exc:
                raise self.error(f"declaring exchange {self.exchange!r}", exc,
                                 transient=False) from exc
        return channel

    def _reset(self) -> None:
        """Forget the connection; deliveries not acknowledged will come again."""
        connection, self._connection, self._channel = self._connection, None, None
        self._consuming = False
        self._deliveries.clear()
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except (*_TRANSIENT, px.AMQPError):
                pass  # already going away

    def _broken(self, action: str, exc: BaseException) -> BrokerError:
        self._reset()
        return self.error(action, exc, transient=True)

    # --------------------------------------------------------------------- publish

    def publish(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Publish persistently and wait for the broker's confirm."""
        channel = self._open()
        properties = pika.BasicProperties(
            content_type="application/xml", delivery_mode=pika.DeliveryMode.Persistent,
            headers=dict(headers), message_id=headers.get("tdtp-message-id"),
            timestamp=int(datetime.now(UTC).timestamp()))
        try:
            channel.basic_publish(self.exchange, self.routing_key if self.exchange else
                                  self.queue, body, properties, mandatory=True)
        except px.UnroutableError as exc:
            raise self.error("publish (message unroutable)", exc, transient=False) from exc
        except px.NackError as exc:
            raise self.error("publish (broker refused the message)", exc,
                             transient=True) from exc
        except (*_TRANSIENT, px.ChannelClosed) as exc:
            raise self._broken("publish", exc) from exc

    # --------------------------------------------------------------------- consume

    def _on_message(self, channel: BlockingChannel, method: Any,
                    properties: pika.BasicProperties, body: bytes) -> None:
        headers = {str(k): v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                   for k, v in (properties.headers or {}).items()}
        self._deliveries.append(
            Message(body, headers, _Delivery(self._generation, method.delivery_tag)))

    def consume(self, *, timeout: float | None = None) -> Iterator[Message]:
        """Yield deliveries until none arrives for ``timeout`` seconds (None: forever)."""
        channel = self._open()
        if not self._consuming:
            try:
                channel.basic_qos(prefetch_count=self.prefetch)
                channel.basic_consume(self.queue, self._on_message, auto_ack=False)
            except px.ChannelClosedByBroker as exc:
                self._reset()
                raise self.error(f"consuming from {self.queue!r}", exc,
                                 transient=exc.reply_code not in (403, 404)) from exc
            except _TRANSIENT as exc:
                raise self._broken("consume", exc) from exc
            self._consuming = True
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._deliveries:
                yield self._deliveries.popleft()
                deadline = None if timeout is None else time.monotonic() + timeout
                continue
            remaining = 1.0 if deadline is None else deadline - time.monotonic()
            if remaining <= 0:
                return
            connection = self._connection
            if connection is None:
                raise self.error("consume", ConnectionError("connection lost"), transient=True)
            try:
                connection.process_data_events(time_limit=min(remaining, 0.5))
            except (*_TRANSIENT, px.ChannelClosed) as exc:
                raise self._broken("consume", exc) from exc

    def _settle(self, message: Message, action: str, requeue: bool = False) -> None:
        token = message.token
        if not isinstance(token, _Delivery):
            raise BrokerError(f"{action}: not a message received from {self.display_url}")
        if token.generation != self._generation or self._channel is None:
            return  # its channel died: the broker has requeued it already
        try:
            if action == "ack":
                self._channel.basic_ack(token.tag)
            else:
                self._channel.basic_nack(token.tag, requeue=requeue)
        except (*_TRANSIENT, px.ChannelClosed) as exc:
            raise self._broken(action, exc) from exc

    def ack(self, message: Message) -> None:
        self._settle(message, "ack")

    def reject(self, message: Message, *, requeue: bool) -> None:
        self._settle(message, "reject", requeue)

    def close(self) -> None:
        """Close the connection; unacknowledged deliveries return to the queue."""
        self._reset()

    # ----------------------------------------------------------------------- extras

    def dead_letter_url(self) -> str:
        """``<queue>.dlq`` behind the dead-letter exchange ``<queue>.dlx``."""
        return self.address.with_changes(
            queue=f"{self.queue}.dlq", exchange=f"{self.queue}.dlx", routing_key=None,
            prefetch="0")
