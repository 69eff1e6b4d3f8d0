"""The ``resilience:`` section of ``tdtp.yaml``: retry and circuit-breaker settings.

::

    resilience:
      retry:
        enabled: true
        max_attempts: 5        # total attempts, the first included; 0 = bounded by time only
        initial_wait: 0.5      # seconds (or initial_wait_ms)
        max_wait: 30           # seconds, cap of one wait (or max_wait_ms)
        max_time: 120          # seconds, cap of all attempts together; 0 = no cap
        multiplier: 2.0
      circuit_breaker:
        enabled: true
        threshold: 5           # consecutive transient failures that open the circuit
        cooldown: 30           # seconds open before one probe is let through (alias: timeout)
        success_threshold: 1   # successful probes that close it again

Unlike the reference, unknown keys are an error: a typo must not silently switch a
safety net off. Command options override the file (:meth:`ResilienceConfig.override`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tdtp_core.errors import ConfigError


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by total time."""

    enabled: bool = True
    max_attempts: int = 5
    initial_wait: float = 0.5
    max_wait: float = 30.0
    max_time: float = 120.0
    multiplier: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 0:
            raise ConfigError("retry.max_attempts must be 0 (no limit) or more")
        if self.initial_wait < 0 or self.max_wait < self.initial_wait:
            raise ConfigError("retry waits must satisfy 0 <= initial_wait <= max_wait")
        if self.max_time < 0:
            raise ConfigError("retry.max_time must be 0 (no limit) or more")
        if self.max_attempts == 0 and self.max_time == 0 and self.enabled:
            raise ConfigError("retry needs max_attempts or max_time: it would never give up")
        if self.multiplier < 1:
            raise ConfigError("retry.multiplier must be at least 1")


@dataclass(frozen=True)
class BreakerConfig:
    """When a circuit opens, and how long it stays open before a probe."""

    enabled: bool = True
    threshold: int = 5
    cooldown: float = 30.0
    success_threshold: int = 1

    def __post_init__(self) -> None:
        if self.threshold <= 0:
            raise ConfigError("circuit_breaker.threshold must be positive")
        if self.cooldown <= 0:
            raise ConfigError("circuit_breaker.cooldown must be positive")
        if self.success_threshold <= 0:
            raise ConfigError("circuit_breaker.success_threshold must be positive")


@dataclass(frozen=True)
class ResilienceConfig:
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)

    def override(self, *, retries: int | None = None, retry_max_time: float | None = None,
                 breaker_threshold: int | None = None,
                 breaker_cooldown: float | None = None) -> ResilienceConfig:
        """Apply command-line options (``None`` keeps the file's value)."""
        retry, breaker = self.retry, self.breaker
        if retries is not None:
            retry = replace(retry, max_attempts=retries)
        if retry_max_time is not None:
            retry = replace(retry, max_time=retry_max_time)
        if breaker_threshold is not None:
            breaker = replace(breaker, threshold=breaker_threshold)
        if breaker_cooldown is not None:
            breaker = replace(breaker, cooldown=breaker_cooldown)
        return ResilienceConfig(retry, breaker)


_RETRY_KEYS: dict[str, tuple[str, float]] = {
    "enabled": ("enabled", 1), "max_attempts": ("max_attempts", 1),
    "initial_wait": ("initial_wait", 1), "initial_wait_ms": ("initial_wait", 0.001),
    "max_wait": ("max_wait", 1), "max_wait_ms": ("max_wait", 0.001),
    "max_time": ("max_time", 1), "multiplier": ("multiplier", 1),
}
_BREAKER_KEYS: dict[str, tuple[str, float]] = {
    "enabled": ("enabled", 1), "threshold": ("threshold", 1),
    "cooldown": ("cooldown", 1), "timeout": ("cooldown", 1),
    "success_threshold": ("success_threshold", 1),
}


def _fields(raw: Any, keys: Mapping[str, tuple[str, float]], where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError("expected a mapping", where=where)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in keys:
            raise ConfigError(
                f"unknown key {key!r} (known: {', '.join(sorted(keys))})", where=where)
        name, scale = keys[key]
        if name == "enabled":
            if not isinstance(value, bool):
                raise ConfigError(f"{key} must be true or false", where=where)
            out[name] = value
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key} must be a number, got {value!r}", where=where)
        elif name in ("max_attempts", "threshold", "success_threshold"):
            if int(value) != value:
                raise ConfigError(f"{key} must be a whole number", where=where)
            out[name] = int(value)
        else:
            out[name] = float(value) * scale
    return out


def parse_resilience(section: Any, *, where: str = "resilience") -> ResilienceConfig:
    """Build the settings from the parsed ``resilience:`` mapping (``None`` = defaults)."""
    if section is None:
        return ResilienceConfig()
    if not isinstance(section, Mapping):
        raise ConfigError("expected a mapping", where=where)
    unknown = set(section) - {"retry", "circuit_breaker"}
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                          "(known: circuit_breaker, retry)", where=where)
    retry = RetryPolicy(**_fields(section.get("retry"), _RETRY_KEYS, f"{where}.retry"))
    breaker = BreakerConfig(**_fields(section.get("circuit_breaker"), _BREAKER_KEYS,
                                      f"{where}.circuit_breaker"))
    return ResilienceConfig(retry, breaker)


def read_section(name: str, path: str | os.PathLike[str] | None = None) -> tuple[Any, str]:
    """One top-level section of ``tdtp.yaml`` (``None`` when absent) and where it is.

    ``${VAR}`` references inside the section's strings are expanded like connection URLs.
    """
    import yaml

    from tdtp_core.config import config_path, interpolate

    file = Path(path) if path is not None else config_path()
    if not file.is_file():
        if path is not None:
            raise ConfigError(f"configuration file {file} not found")
        return None, name
    try:
        data: Any = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {str(exc).splitlines()[0]}", where=str(file)) from exc
    if not isinstance(data, Mapping):
        raise ConfigError("expected a mapping at the top level", where=str(file))
    where = f"{file}: {name}"

    def expand(value: Any) -> Any:
        if isinstance(value, str):
            return interpolate(value, os.environ, where=where)
        if isinstance(value, Mapping):
            return {k: expand(v) for k, v in value.items()}
        if isinstance(value, list):
            return [expand(v) for v in value]
        return value

    return expand(data.get(name)), where


def load_resilience(path: str | os.PathLike[str] | None = None) -> ResilienceConfig:
    """The ``resilience:`` section of ``tdtp.yaml`` (defaults when absent)."""
    section, where = read_section("resilience", path)
    return parse_resilience(section, where=where)
