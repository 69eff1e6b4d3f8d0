"""The audit log: one structured entry per export, import, send, receive and failure.

Use it around an operation::

    from tdtp_core import audit

    with audit.operation("import", source=path, target=url, table=name) as entry:
        result = adapter.write(stream, table=name)
        entry.rows, entry.message_ids = result.rows, list(result.message_ids)

The entry is written when the block ends, with its duration, and with the scrubbed error
if the block raised (the exception propagates). ``audit.record(...)`` writes one entry
directly. Sinks come from ``tdtp.yaml`` (``audit:``) or the environment on first use
(:mod:`tdtp_core.audit.config`), or from :func:`configure`; with none configured entries
go nowhere. Entries never contain cell values (:mod:`tdtp_core.audit.entry`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from tdtp_core.audit.appenders import Appender, AuditFilter, JsonLinesAppender, SqlAppender
from tdtp_core.audit.config import AuditConfig, load_audit, parse_audit
from tdtp_core.audit.entry import AuditEntry, default_actor, sanitize_error

__all__ = [
    "Appender",
    "AuditConfig",
    "AuditEntry",
    "AuditFilter",
    "AuditLog",
    "JsonLinesAppender",
    "SqlAppender",
    "configure",
    "get_log",
    "load_audit",
    "operation",
    "parse_audit",
    "record",
    "sanitize_error",
]

log = logging.getLogger("tdtp.audit")


class AuditLog:
    """Writes each entry to every appender; an appender's failure is reported, not raised."""

    def __init__(self, appenders: Sequence[Appender] = (), *, actor: str | None = None) -> None:
        self.appenders = list(appenders)
        self.actor = actor
        self._reported: set[str] = set()
        self._lock = threading.Lock()

    def record(self, entry: AuditEntry) -> None:
        if entry.actor is None:
            entry.actor = self.actor or default_actor()
        data = entry.to_dict()
        for appender in self.appenders:
            try:
                appender.write(data)
            except Exception as exc:  # the audited operation must not fail with its log
                self._report(appender, exc)

    def _report(self, appender: Appender, exc: Exception) -> None:
        message = f"audit log write to {appender.location} failed: {sanitize_error(str(exc))}"
        with self._lock:
            if message in self._reported:
                return
            self._reported.add(message)
        sys.stderr.write(f"tdtp: warning: {message}\n")

    def close(self) -> None:
        for appender in self.appenders:
            appender.close()


def from_config(config: AuditConfig) -> AuditLog:
    if not config.enabled:
        return AuditLog()
    appenders: list[Appender] = []
    if config.file:
        appenders.append(JsonLinesAppender(
            config.file, max_bytes=int(config.max_size_mb * 1024 * 1024) or 100 * 1024 * 1024,
            backups=config.backups))
    if config.database:
        appenders.append(SqlAppender(config.database, table=config.table))
    return AuditLog(appenders, actor=config.actor)


_log: AuditLog | None = None
_log_lock = threading.Lock()


def configure(appenders: Sequence[Appender] | AuditConfig | None = None, *,
              actor: str | None = None) -> AuditLog:
    """Replace the process's audit log (``None``: read the configuration again)."""
    global _log
    with _log_lock:
        if _log is not None:
            _log.close()
        if appenders is None:
            _log = from_config(load_audit())
        elif isinstance(appenders, AuditConfig):
            _log = from_config(appenders)
        else:
            _log = AuditLog(appenders, actor=actor)
        return _log


def get_log() -> AuditLog:
    """The process's audit log, built from the configuration on first use."""
    global _log
    with _log_lock:
        if _log is None:
            _log = from_config(load_audit())
        return _log


def record(operation: str, **fields: Any) -> AuditEntry:
    """Write one entry now (``fields`` as :class:`AuditEntry`'s) and return it."""
    entry = AuditEntry(operation, **fields)
    get_log().record(entry)
    return entry


@contextmanager
def operation(name: str, **fields: Any) -> Iterator[AuditEntry]:
    """Time the block and write its entry at the end; a raised error marks it failed."""
    entry = AuditEntry(name, **fields)
    start = time.monotonic()
    try:
        yield entry
    except BaseException as exc:
        if entry.outcome == "success":
            entry.fail(exc, "interrupted" if isinstance(exc, KeyboardInterrupt) else "failure")
        raise
    finally:
        entry.duration_ms = (time.monotonic() - start) * 1000
        get_log().record(entry)
