"""Retries for transient failures only, on tenacity: exponential backoff, full jitter.

What is transient: a lost or refused connection, a timeout, a database that is starting,
shutting down, out of resources or chose this transaction as a deadlock victim, a broker
that went away. What is never retried: bad data (``PacketError``, ``SchemaError``, the
packet ``IntegrityError``), a wrong query or configuration, a constraint violation. An
open circuit is not a failure of the call: retries wait until its probe is due (within the
policy's bounds) instead of counting against the endpoint.
"""

from __future__ import annotations

import errno
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import tenacity

from tdtp_core.errors import (
    ConfigError,
    PacketError,
    PluginError,
    PluginNotFound,
    QueryError,
    SchemaError,
)
from tdtp_core.resilience.breaker import CircuitOpenError
from tdtp_core.resilience.config import RetryPolicy

T = TypeVar("T")
log = logging.getLogger("tdtp.resilience")

_PERMANENT = (PacketError, SchemaError, QueryError, ConfigError, PluginNotFound, PluginError,
              CircuitOpenError)
_NETWORK_ERRNOS = frozenset({
    errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH,
    errno.ENETUNREACH, errno.ENETDOWN, errno.ETIMEDOUT, errno.EPIPE,
})
#: SQLSTATE classes of failures that may pass: connection, transaction rollback
#: (serialization, deadlock), insufficient resources, operator intervention, system error.
_TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57", "58"})
_TRANSIENT_SQLSTATES = frozenset({"55P03", "55006", "HYT00", "HYT01"})
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "busy",
                     "unable to open database")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _sqlstate(error: Any) -> str | None:
    for attr in ("sqlstate", "pgcode"):
        value = getattr(error, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def _classify_sqlalchemy(exc: BaseException) -> bool | None:
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None or not isinstance(exc, sa_exc.SQLAlchemyError):
        return None
    if isinstance(exc, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = _sqlstate(exc.orig)
    if code is not None:
        return code[:2] in _TRANSIENT_SQLSTATE_CLASSES or code in _TRANSIENT_SQLSTATES
    if isinstance(exc, sa_exc.InterfaceError):
        return True
    if isinstance(exc, sa_exc.OperationalError):
        if type(exc.orig).__module__.startswith("sqlite3"):
            text = str(exc.orig).lower()
            return any(marker in text for marker in _SQLITE_TRANSIENT)
        return True
    return False


def _classify(exc: BaseException) -> bool | None:
    explicit = getattr(exc, "transient", None)
    if isinstance(explicit, bool):
        return explicit
    verdict = _classify_sqlalchemy(exc)
    if verdict is not None:
        return verdict
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return True
    return None


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` may pass if the same call is tried again later."""
    if isinstance(exc, _PERMANENT):
        return False
    for link in _chain(exc):
        if isinstance(link, _PERMANENT) and link is not exc:
            return False
        verdict = _classify(link)
        if verdict is not None:
            return verdict
    return False


def retry_call(
    fn: Callable[[], T],
    policy: RetryPolicy | None = None,
    *,
    what: str = "call",
    stop_event: threading.Event | None = None,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Call ``fn``, retrying transient failures by ``policy``; re-raise the last error.

    ``stop_event`` (a shutdown request) ends the waiting early and gives up.
    """
    policy = policy or RetryPolicy()
    if not policy.enabled or policy.max_attempts == 1:
        return fn()
    stop: Any = tenacity.stop_never
    if policy.max_attempts:
        stop = tenacity.stop_after_attempt(policy.max_attempts)
    if policy.max_time:
        stop = stop | tenacity.stop_after_delay(policy.max_time)
    if stop_event is not None:
        event = stop_event
        stop = stop | (lambda _state: event.is_set())

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning("%s failed (attempt %d), retrying in %.1fs: %s",
                    what, state.attempt_number, delay, exc)
        if on_retry is not None and exc is not None:
            on_retry(state.attempt_number, exc, delay)

    def sleep(seconds: float) -> None:
        if stop_event is not None:
            stop_event.wait(seconds)
        else:
            threading.Event().wait(seconds)

    backoff = tenacity.wait_random_exponential(
        multiplier=policy.initial_wait, max=policy.max_wait, exp_base=policy.multiplier)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        delay = float(backoff(state))
        if isinstance(exc, CircuitOpenError):
            delay = max(delay, exc.retry_after)  # no point asking before the probe is due
        return delay

    retrying = tenacity.Retrying(
        stop=stop,
        wait=wait,
        retry=tenacity.retry_if_exception(
            lambda exc: is_transient(exc) or isinstance(exc, CircuitOpenError)),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    return retrying(fn)
