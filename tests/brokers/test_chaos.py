"""Failures in the middle: a killed listener, a restarted RabbitMQ, a database away."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tdtp_core.brokers.listener import Listener
from tdtp_core.brokers.sending import send_packets, send_stream
from tdtp_core.packet import write_packets
from tdtp_core.resilience import (
    BreakerConfig,
    ResilienceConfig,
    RetryPolicy,
    breaker_for,
    endpoint_of,
)
from tdtp_core.stream import TableStream
from tdtp_core.testing.brokers import free_port, rabbitmqctl, wait_for_rabbitmq
from tdtp_core.testing.services import TableJanitor
from tests.brokers.conftest import SCHEMA, rows

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-c", "from tdtp_core.cli.main import main; main()"]


def _ledger(url: str, batch: str) -> int:
    from tdtp_core.sql.urls import parse_url

    engine = sa.create_engine(parse_url(url, driver="psycopg"), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM tdtp_import_ledger WHERE batch_id = :b"),
                {"b": batch}).scalar_one())
    finally:
        engine.dispose()


def _listener(broker: str, target: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TDTP_PLUGINS_STRICT": "1"}
    return subprocess.Popen([*CLI, "listen", broker, target, "--create", "--quiet", *extra],
                            env=env, stderr=subprocess.PIPE)


def test_listener_killed_mid_set_loses_and_doubles_nothing(
        broker_url: str, postgres_url: str, tables: TableJanitor, tmp_path: Path,
        make_stream: Callable[..., TableStream],
        count_rows: Callable[[str, str], int]) -> None:
    table = tables.name(postgres_url, "chaos")
    parts = write_packets(make_stream(table, 100_000), tmp_path / "c.tdtp.xml",
                          part_size=32_000)
    half = len(parts) // 2
    batch = send_packets([p.read_bytes() for p in parts[:half]], broker_url).sets[0].batch_id

    # Killed while holding half a set, unacknowledged.
    proc = _listener(broker_url, postgres_url)
    time.sleep(8 if broker_url.startswith("kafka") else 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    send_packets([p.read_bytes() for p in parts[half:]], broker_url)

    # Killed at random moments: receiving, importing, acknowledging.
    rng = random.Random(6)
    for _ in range(3):
        proc = _listener(broker_url, postgres_url)
        time.sleep(rng.uniform(1.0, 7.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

    proc = _listener(broker_url, postgres_url, "--idle-timeout", "4")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert count_rows(postgres_url, table) == 100_000
    assert _ledger(postgres_url, batch) == len(parts)


def test_rabbitmq_restarted_in_the_middle_of_a_send(
        rabbit_queue: str, rabbitmq_url: str, postgres_url: str, tables: TableJanitor,
        count_rows: Callable[[str, str], int], caplog: pytest.LogCaptureFixture) -> None:
    table = tables.name(postgres_url, "restart")
    patient = ResilienceConfig(
        RetryPolicy(max_attempts=0, initial_wait=0.2, max_wait=2, max_time=180),
        BreakerConfig(threshold=1000, cooldown=1))
    restarted = threading.Event()

    def restart_later() -> None:
        try:
            time.sleep(2)
            rabbitmqctl("start_app")
            wait_for_rabbitmq(rabbitmq_url)
        finally:
            restarted.set()

    def source() -> Iterator[tuple[object, ...]]:
        """Stops the broker itself once 40,000 rows are out, so the rest of the send
        meets a dead broker every time, on any machine speed."""
        data = rows(100_000)
        yield from data[:40_000]
        try:
            rabbitmqctl("stop_app")
        finally:
            threading.Thread(target=restart_later, daemon=True).start()
        yield from data[40_000:]

    try:
        with caplog.at_level(logging.WARNING, logger="tdtp.resilience"):
            sent = send_stream(TableStream.from_rows(SCHEMA, source(), table=table),
                               rabbit_queue, part_size=8_000, resilience=patient)
    finally:
        assert restarted.wait(180), "RabbitMQ did not come back"
    assert any("retrying" in r.getMessage() for r in caplog.records)
    assert sent.rows == 100_000
    listener = Listener(rabbit_queue, postgres_url, create=True, idle_timeout=3)
    stats = listener.run(handle_signals=False)
    assert stats.sets_imported == 1
    assert count_rows(postgres_url, table) == 100_000


class TcpProxy:
    """A TCP forwarder to a database that the test can take away and bring back."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._conns.clear()


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_database_away_leaves_the_set_queued_until_it_is_back(
        broker_url: str, postgres_url: str, tables: TableJanitor,
        make_stream: Callable[..., TableStream], count_rows: Callable[[str, str], int],
        tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    real = make_url(postgres_url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    via_proxy = real.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False)
    table = tables.name(postgres_url, "outage")
    send_stream(make_stream(table, 5000), broker_url, part_size=20_000)

    config = ResilienceConfig(
        RetryPolicy(max_attempts=3, initial_wait=0.05, max_wait=0.2, max_time=5),
        BreakerConfig(threshold=2, cooldown=1))
    stop = threading.Event()
    listener = Listener(broker_url, via_proxy, create=True, resilience=config,
                        stop_event=stop, dlq=str(tmp_path / "dlq"))
    thread = threading.Thread(target=listener.run, kwargs={"handle_signals": False},
                              daemon=True)
    thread.start()  # the database is away: nothing listens on the proxy's port
    try:
        _wait(lambda: listener.stats.sets_requeued >= 2, 120, "the set to be requeued")
        assert count_rows(postgres_url, table) == 0
        assert listener.stats.sets_imported == listener.stats.sets_dead_lettered == 0
        assert breaker_for(endpoint_of(via_proxy)).state in ("open", "half-open")
        proxy.start()
        _wait(lambda: listener.stats.sets_imported == 1, 120, "the import after recovery")
    finally:
        stop.set()
        thread.join(60)
        proxy.stop()
        listener.adapter.close()
    assert count_rows(postgres_url, table) == 5000
    assert listener.stats.sets_dead_lettered == 0
    assert not (tmp_path / "dlq").exists()


def test_sigterm_finishes_the_current_set_then_exits_cleanly(
        rabbit_queue: str, postgres_url: str, tables: TableJanitor,
        make_stream: Callable[..., TableStream],
        count_rows: Callable[[str, str], int]) -> None:
    tables_ = [tables.name(postgres_url, "term") for _ in range(3)]
    for table in tables_:
        send_stream(make_stream(table, 30_000), rabbit_queue, part_size=32_000)
    proc = subprocess.Popen([*CLI, "listen", rabbit_queue, postgres_url, "--create"],
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # stop right after the first set is imported
        if "imported" in line:
            break
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopped by signal" in err or "finishing the current set" in err
    counts = [count_rows(postgres_url, t) for t in tables_]
    assert all(c in (0, 30_000) for c in counts) and counts.count(30_000) >= 1
    # Whatever was not imported is still queued, whole.
    Listener(rabbit_queue, postgres_url, create=True, idle_timeout=3).run(handle_signals=False)
    assert [count_rows(postgres_url, t) for t in tables_] == [30_000] * 3
