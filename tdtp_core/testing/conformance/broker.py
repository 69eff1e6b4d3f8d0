"""The broker suite: messages arrive in order with their headers, an acknowledged
message is gone, and one that was never acknowledged comes back to the next consumer."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tdtp_core.protocols import Broker, Message
from tdtp_core.testing.conformance._base import Conformance


class Clients:
    """The broker clients a test opened, so each is closed exactly once."""

    def __init__(self, connect: Callable[[], Broker]) -> None:
        self._connect = connect
        self._open: list[Broker] = []

    def open(self) -> Broker:
        broker = self._connect()
        self._open.append(broker)
        return broker

    def close(self, broker: Broker) -> None:
        self._open.remove(broker)
        broker.close()

    def close_all(self) -> None:
        while self._open:
            self.close(self._open[-1])


class BrokerConformance(Conformance):
    """Subclass it with a URL template (``{tmp}``: the test's temporary directory,
    ``{queue}``: a fresh queue name), or override the ``broker_url`` fixture::

        class TestRabbit(BrokerConformance):
            plugin = "tdtp_broker_rabbitmq"
            component = "rabbitmq"

            @pytest.fixture
            def broker_url(self, rabbit_queue: str) -> str:
                return rabbit_queue
    """

    kind = "brokers"
    url_template: ClassVar[str] = ""
    #: Seconds ``consume`` may wait for a message that was published.
    timeout: ClassVar[float] = 10.0
    #: Seconds of silence after which the queue is taken to be empty.
    idle: ClassVar[float] = 1.0

    @pytest.fixture
    def broker_url(self, tmp_path: Path) -> str:
        if not self.url_template:
            pytest.fail(f"{type(self).__name__}: set url_template or override the "
                        "broker_url fixture", pytrace=False)
        return self.url_template.format(tmp=tmp_path.as_posix(),
                                        queue=f"conformance-{secrets.token_hex(4)}")

    @pytest.fixture
    def clients(self, broker_url: str) -> Iterator[Clients]:
        """``clients.open()`` connects another client to the queue; all are closed after."""
        opened = Clients(lambda: self.component_class()(broker_url))
        yield opened
        opened.close_all()

    def take(self, broker: Broker, count: int, timeout: float | None = None) -> list[Message]:
        """Up to ``count`` messages, waiting at most ``timeout`` seconds of silence."""
        got: list[Message] = []
        if count == 0:
            return got
        for message in broker.consume(timeout=self.timeout if timeout is None else timeout):
            got.append(message)
            if len(got) == count:
                break
        return got

    def test_is_a_broker_chosen_by_its_url(self, broker_url: str) -> None:
        broker = self.plugin_host().broker_for_url(broker_url)
        try:
            assert isinstance(broker, Broker)
            assert type(broker) is self.component_class()
        finally:
            broker.close()

    def test_delivers_in_order_with_headers(self, clients: Clients) -> None:
        sender, receiver = clients.open(), clients.open()
        for n in range(3):
            sender.publish(b"part %d" % n, {"x-part": str(n)})
        got = self.take(receiver, 3)
        assert [m.body for m in got] == [b"part 0", b"part 1", b"part 2"]
        assert [m.headers.get("x-part") for m in got] == ["0", "1", "2"]
        for message in got:
            receiver.ack(message)

    def test_acknowledged_message_is_not_delivered_again(
        self, clients: Clients
    ) -> None:
        sender, first = clients.open(), clients.open()
        sender.publish(b"once", {})
        (message,) = self.take(first, 1)
        first.ack(message)
        clients.close(first)
        assert self.take(clients.open(), 1, timeout=self.idle) == []

    def test_unacknowledged_message_is_redelivered(self, clients: Clients) -> None:
        sender, first = clients.open(), clients.open()
        sender.publish(b"again", {"x-part": "1"})
        assert len(self.take(first, 1)) == 1
        clients.close(first)  # without ack: a crashed or stopped consumer
        second = clients.open()
        (redelivered,) = self.take(second, 1)
        assert redelivered.body == b"again"
        assert redelivered.headers.get("x-part") == "1"
        second.ack(redelivered)
