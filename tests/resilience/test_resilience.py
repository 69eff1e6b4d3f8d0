"""Retry only what may pass, a breaker per endpoint that outlives calls, the config."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tdtp_core.brokers.base import BrokerUnavailable
from tdtp_core.errors import (
    AdapterError,
    BrokerError,
    ConfigError,
    IntegrityError,
    PacketError,
    SchemaError,
)
from tdtp_core.resilience import (
    BreakerConfig,
    CircuitBreaker,
    CircuitOpenError,
    ResilienceConfig,
    RetryPolicy,
    breaker_for,
    endpoint_of,
    guard,
    is_transient,
    load_resilience,
    parse_resilience,
    reset_breakers,
    retry_call,
)

FAST = RetryPolicy(max_attempts=4, initial_wait=0.001, max_wait=0.01, max_time=5)


def _wrapped(cause: BaseException) -> AdapterError:
    try:
        raise cause
    except BaseException as exc:
        try:
            raise AdapterError("import failed") from exc
        except AdapterError as err:
            return err


def _db_error(cls: type[sa.exc.DBAPIError], orig: Exception) -> AdapterError:
    return _wrapped(cls("INSERT …", {}, orig))


class _PgError(Exception):
    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("error", "transient"), [
    (PacketError("bad escape"), False),
    (IntegrityError("hash mismatch"), False),
    (SchemaError("field x"), False),
    (ConfigError("bad URL"), False),
    (BrokerUnavailable("connection lost"), True),
    (BrokerError("access refused"), False),
    (ConnectionRefusedError(), True),
    (TimeoutError(), True),
    (_wrapped(ConnectionResetError()), True),
    (_db_error(sa.exc.OperationalError, _PgError("server closed the connection", None)), True),
    (_db_error(sa.exc.OperationalError, _PgError("terminating connection", "57P01")), True),
    (_db_error(sa.exc.OperationalError, _PgError("deadlock detected", "40P01")), True),
    (_db_error(sa.exc.IntegrityError, _PgError("duplicate key", "23505")), False),
    (_db_error(sa.exc.DataError, _PgError("invalid input syntax", "22P02")), False),
    (_db_error(sa.exc.ProgrammingError, _PgError("no such column", "42703")), False),
    (AdapterError("table 'x' not found"), False),
    (CircuitOpenError("db", 1.0), False),
])
def test_only_transient_errors_are_transient(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_sqlite_locked_is_transient_but_missing_table_is_not() -> None:
    import sqlite3

    locked = _db_error(sa.exc.OperationalError, sqlite3.OperationalError("database is locked"))
    missing = _db_error(sa.exc.OperationalError, sqlite3.OperationalError("no such table: t"))
    assert is_transient(locked) and not is_transient(missing)


@pytest.mark.parametrize("error", [PacketError("p"), IntegrityError("i"), SchemaError("s"),
                                   _db_error(sa.exc.IntegrityError, _PgError("dup", "23505"))])
def test_retries_never_repeat_a_non_transient_error(error: Exception) -> None:
    calls = []

    def fail() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        retry_call(fail, FAST)
    assert len(calls) == 1


def test_transient_errors_are_retried_up_to_the_attempts() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise BrokerUnavailable("gone")
        return "ok"

    assert retry_call(flaky, FAST) == "ok" and len(calls) == 3
    calls.clear()

    def down() -> None:
        calls.append(1)
        _down()

    with pytest.raises(BrokerUnavailable):
        retry_call(down, FAST)
    assert len(calls) == FAST.max_attempts


def test_retries_are_bounded_by_total_time() -> None:
    import time

    policy = RetryPolicy(max_attempts=0, initial_wait=0.05, max_wait=0.05, max_time=0.3)
    start = time.monotonic()
    with pytest.raises(BrokerUnavailable):
        retry_call(_down, policy)
    assert time.monotonic() - start < 2


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _down() -> None:
    raise BrokerUnavailable("down")


def _bad_packet() -> None:
    raise PacketError("bad")


def test_breaker_opens_fails_fast_and_half_opens_after_the_cooldown() -> None:
    clock = _Clock()
    breaker = CircuitBreaker("amqp://mq:5672/", BreakerConfig(threshold=3, cooldown=10),
                             clock=clock)
    calls = []

    def down() -> None:
        calls.append(1)
        _down()

    for _ in range(3):
        with pytest.raises(BrokerUnavailable):
            breaker.call(down)
    assert breaker.state == "open" and len(calls) == 3
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(down)
    assert len(calls) == 3 and info.value.retry_after == pytest.approx(10)
    clock.now += 10
    assert breaker.state == "half-open"
    with pytest.raises(BrokerUnavailable):
        breaker.call(down)  # the probe fails: open again
    assert breaker.state == "open" and len(calls) == 4
    clock.now += 10
    assert breaker.call(lambda: "up") == "up"
    assert breaker.state == "closed"


def test_bad_data_does_not_count_against_the_endpoint() -> None:
    breaker = CircuitBreaker("pg", BreakerConfig(threshold=2, cooldown=10))
    for _ in range(5):
        with pytest.raises(PacketError):
            breaker.call(_bad_packet)
    assert breaker.state == "closed"


def test_breaker_state_outlives_calls_per_endpoint() -> None:
    reset_breakers()
    config = ResilienceConfig(RetryPolicy(max_attempts=1), BreakerConfig(threshold=2,
                                                                         cooldown=60))
    endpoint = endpoint_of("postgresql://app:secret@db:5432/sales?sslmode=require")
    assert endpoint == "postgresql://db:5432/sales"
    for _ in range(2):
        with pytest.raises(BrokerUnavailable):
            guard(endpoint, _down, config)
    with pytest.raises(CircuitOpenError):
        guard(endpoint, lambda: "never called", config)
    assert breaker_for(endpoint).state == "open"
    assert guard("postgresql://other:5432/sales", lambda: "ok", config) == "ok"
    reset_breakers()


def test_retry_waits_for_the_probe_of_an_open_circuit() -> None:
    reset_breakers()
    config = ResilienceConfig(
        RetryPolicy(max_attempts=10, initial_wait=0.001, max_wait=0.01, max_time=10),
        BreakerConfig(threshold=1, cooldown=0.2))
    calls = []

    def recovers() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise BrokerUnavailable("blip")
        return "ok"

    assert guard("mq", recovers, config) == "ok"
    assert len(calls) == 2  # the open circuit was waited out, not hammered
    reset_breakers()


def test_config_from_tdtp_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "tdtp.yaml"
    file.write_text(
        "resilience:\n"
        "  retry: {max_attempts: 7, initial_wait_ms: 250, max_wait: 5, max_time: 60}\n"
        "  circuit_breaker: {threshold: 4, timeout: 15, success_threshold: 2}\n")
    monkeypatch.setenv("TDTP_CONFIG", str(file))
    config = load_resilience()
    assert config.retry == RetryPolicy(max_attempts=7, initial_wait=0.25, max_wait=5,
                                       max_time=60)
    assert config.breaker == BreakerConfig(threshold=4, cooldown=15, success_threshold=2)
    changed = config.override(retries=2, breaker_cooldown=3)
    assert changed.retry.max_attempts == 2 and changed.breaker.cooldown == 3


@pytest.mark.parametrize("section", [
    {"retry": {"max_attemps": 3}},
    {"retrys": {}},
    {"circuit_breaker": {"threshold": 0}},
    {"retry": {"initial_wait": 5, "max_wait": 1}},
    {"retry": {"max_attempts": "three"}},
])
def test_config_mistakes_are_errors(section: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        parse_resilience(section)
