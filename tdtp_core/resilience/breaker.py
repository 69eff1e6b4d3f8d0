"""Circuit breakers, one per endpoint, living as long as the process (DECISIONS 18).

The Go reference builds its breaker for one call, so its thresholds never take effect in
a long-running listener. Here breakers sit in a module-level registry keyed by endpoint
(scheme, host, port, database or vhost; never credentials): a listener, a pipeline or a
server that keeps calling a dead database fails fast after ``threshold`` consecutive
transient failures, and lets one probe through every ``cooldown`` seconds.

Only transient failures count: a bad packet says nothing about the endpoint's health.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from tdtp_core.errors import TdtpError
from tdtp_core.resilience.config import BreakerConfig

T = TypeVar("T")
log = logging.getLogger("tdtp.resilience")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class CircuitOpenError(TdtpError):
    """An endpoint's circuit is open: the call was not attempted."""

    kind = "circuit"

    def __init__(self, endpoint: str, retry_after: float) -> None:
        super().__init__(
            f"circuit breaker for {endpoint} is open after repeated failures; "
            f"next attempt in {retry_after:.1f}s")
        self.endpoint = endpoint
        self.retry_after = retry_after


class CircuitBreaker:
    """Closed → open after ``threshold`` consecutive failures → half-open after
    ``cooldown`` → closed after ``success_threshold`` successful probes (or open again)."""

    def __init__(self, endpoint: str, config: BreakerConfig | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.endpoint = endpoint
        self.config = config or BreakerConfig()
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._successes = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            self._cool()
            return self._state

    def retry_after(self) -> float:
        """Seconds until a probe may go through (0 unless open)."""
        with self._lock:
            self._cool()
            if self._state != OPEN:
                return 0.0
            return max(0.0, self._opened_at + self.config.cooldown - self._clock())

    def _cool(self) -> None:
        if self._state == OPEN and self._clock() >= self._opened_at + self.config.cooldown:
            self._move(HALF_OPEN)

    def _move(self, state: str) -> None:
        log.warning("circuit breaker [%s]: %s -> %s", self.endpoint, self._state, state)
        self._state = state
        self._failures = self._successes = 0
        self._probing = False
        if state == OPEN:
            self._opened_at = self._clock()

    def before(self) -> None:
        """Admit a call or raise :class:`CircuitOpenError` (half-open: one probe at a time)."""
        with self._lock:
            if not self.config.enabled:
                return
            self._cool()
            if self._state == OPEN or (self._state == HALF_OPEN and self._probing):
                wait = max(0.0, self._opened_at + self.config.cooldown - self._clock())
                raise CircuitOpenError(self.endpoint, wait)
            if self._state == HALF_OPEN:
                self._probing = True

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            if self._state == HALF_OPEN:
                self._probing = False
                self._successes += 1
                if self._successes >= self.config.success_threshold:
                    self._move(CLOSED)

    def failure(self) -> None:
        with self._lock:
            if not self.config.enabled:
                return
            self._failures += 1
            if self._state == HALF_OPEN or (
                    self._state == CLOSED and self._failures >= self.config.threshold):
                self._move(OPEN)

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` through the breaker; transient failures count against the endpoint."""
        from tdtp_core.resilience.retry import is_transient

        self.before()
        try:
            result = fn()
        except Exception as exc:
            if is_transient(exc):
                self.failure()
            else:
                self.success()  # the endpoint answered; the call itself was wrong
            raise
        except BaseException:
            with self._lock:
                self._probing = False  # interrupted: no verdict on the endpoint
            raise
        self.success()
        return result

    def reset(self) -> None:
        with self._lock:
            self._state = CLOSED
            self._failures = self._successes = 0
            self._probing = False

    def __repr__(self) -> str:
        return (f"CircuitBreaker({self.endpoint} state={self.state} "
                f"failures={self._failures}/{self.config.threshold})")


_registry: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def endpoint_of(url: str) -> str:
    """The part of a URL that names one server and database/vhost, without credentials."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url.split("?", 1)[0]
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def breaker_for(endpoint: str, config: BreakerConfig | None = None) -> CircuitBreaker:
    """The process-wide breaker of ``endpoint``; ``config`` (if given) replaces its settings."""
    with _registry_lock:
        breaker = _registry.get(endpoint)
        if breaker is None:
            breaker = _registry[endpoint] = CircuitBreaker(endpoint, config)
        elif config is not None:
            breaker.config = config
        return breaker


def reset_breakers() -> None:
    """Forget every breaker (tests, or a server reloading its configuration)."""
    with _registry_lock:
        _registry.clear()
