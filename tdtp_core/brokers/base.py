"""What both broker plugins share, so neither copies the other (issue #6).

The contract a plugin implements is ``tdtp_core.protocols.Broker``; this module adds the
pieces core relies on beyond it and a base class that provides them:

* after ``consume`` raises, every delivery not yet acknowledged will be delivered again
  (RabbitMQ requeues on channel loss, Kafka restarts from the committed offset);
* ``selective_ack``: whether messages can be acknowledged one by one (RabbitMQ) or only
  up to a position (Kafka offsets); the dead-letter queue keeps entries accordingly;
* ``ack_all``: acknowledge a whole part set at once (one offset commit on Kafka);
* ``max_message_bytes``: the largest message the broker takes, so senders write parts
  that fit instead of failing;
* ``dead_letter_url()``: where this queue's dead letters go by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from tdtp_core.brokers.url import BrokerAddress, parse_broker_url
from tdtp_core.errors import BrokerError
from tdtp_core.protocols import Broker, Message


class BrokerUnavailable(BrokerError):
    """The broker cannot be reached or dropped the connection: worth retrying."""

    transient = True


class BrokerBase:
    """Base of the broker plugins: URL parsing, masked errors and the extras above."""

    #: Query options the URL may carry.
    options: ClassVar[frozenset[str]] = frozenset()
    #: Whether dotted client settings (``?session.timeout.ms=6000``) pass through.
    passthrough: ClassVar[bool] = False
    selective_ack: ClassVar[bool] = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.address: BrokerAddress = parse_broker_url(
            url, known=self.options, passthrough=self.passthrough)

    @property
    def display_url(self) -> str:
        return self.address.display

    @property
    def max_message_bytes(self) -> int | None:
        return None

    def dead_letter_url(self) -> str:
        raise NotImplementedError

    def error(self, action: str, exc: BaseException, *, transient: bool) -> BrokerError:
        """One masked line naming the broker and what failed."""
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
        detail = self.address.redact(lines[0]) if lines else type(exc).__name__
        cls = BrokerUnavailable if transient else BrokerError
        return cls(f"{action} failed at {self.display_url}: {detail}")

    def ack(self, message: Message) -> None:
        raise NotImplementedError

    def ack_all(self, messages: Sequence[Message]) -> None:
        for message in messages:
            self.ack(message)

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> BrokerBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ack_all(broker: Broker, messages: Sequence[Message]) -> None:
    """Acknowledge ``messages`` together where the broker can, else one by one."""
    many = getattr(broker, "ack_all", None)
    if callable(many):
        many(messages)
        return
    for message in messages:
        broker.ack(message)


def selective_ack(broker: Broker) -> bool:
    return bool(getattr(broker, "selective_ack", True))


def max_message_bytes(broker: Broker) -> int | None:
    value = getattr(broker, "max_message_bytes", None)
    return value if isinstance(value, int) and value > 0 else None


def dead_letter_url(broker: Broker) -> str | None:
    method = getattr(broker, "dead_letter_url", None)
    if not callable(method):
        return None
    try:
        url = method()
    except NotImplementedError:
        return None
    return url if isinstance(url, str) else None


def reject_all(broker: Broker, messages: Iterable[Message], *, requeue: bool) -> None:
    for message in messages:
        broker.reject(message, requeue=requeue)
