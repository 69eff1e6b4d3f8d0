"""Retry, circuit breaking and their configuration (framework §7, DECISIONS 18).

:func:`guard` is what callers use: ``retry(breaker(call))`` for one endpoint. The breaker
outlives the call, so a listener that keeps failing against a dead database stops hammering
it; the retry stops at the first non-transient error, and while the circuit is open it
waits for the probe instead of calling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from tdtp_core.resilience.breaker import (
    CircuitBreaker,
    CircuitOpenError,
    breaker_for,
    endpoint_of,
    reset_breakers,
)
from tdtp_core.resilience.config import (
    BreakerConfig,
    ResilienceConfig,
    RetryPolicy,
    load_resilience,
    parse_resilience,
)
from tdtp_core.resilience.retry import is_transient, retry_call

T = TypeVar("T")

__all__ = [
    "BreakerConfig",
    "CircuitBreaker",
    "CircuitOpenError",
    "ResilienceConfig",
    "RetryPolicy",
    "breaker_for",
    "endpoint_of",
    "guard",
    "is_transient",
    "load_resilience",
    "parse_resilience",
    "reset_breakers",
    "retry_call",
]


def guard(endpoint: str, fn: Callable[[], T], config: ResilienceConfig | None = None, *,
          what: str | None = None, stop_event: threading.Event | None = None) -> T:
    """Call ``fn`` against ``endpoint`` through its breaker, retrying transient failures."""
    config = config or ResilienceConfig()
    breaker = breaker_for(endpoint, config.breaker)
    return retry_call(lambda: breaker.call(fn), config.retry, what=what or endpoint,
                      stop_event=stop_event)
