"""One audit entry: who did what to which table, with which packets, and how it went.

An entry never holds a cell value. Callers pass only names, counts, MessageIDs and
hashes, and error texts are scrubbed before they are kept: database drivers like to quote
the offending value (``invalid input syntax for type integer: "abc"``, ``Key (email)=
(ada@example.com) already exists``), so every quoted literal and key-value pair is masked.
"""

from __future__ import annotations

import getpass
import itertools
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tdtp_core.sql.urls import mask_url

Scalar = str | int | float | bool | None

_QUOTED = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`")
_KEY_VALUE = re.compile(r"(\([^()]*\))=\((?:[^()]|\([^()]*\))*\)")
_DETAIL = re.compile(r"\b(DETAIL|HINT|CONTEXT):.*", re.DOTALL)
_ELIDED = "…"
_PROCESS_TAG = secrets.token_hex(4)
_SEQUENCE = itertools.count(1)


def sanitize_error(text: str) -> str:
    """An error text safe for the audit log: one line, no password, no quoted values."""
    text = _DETAIL.sub("", mask_url(text))
    text = _KEY_VALUE.sub(rf"\1=({_ELIDED})", text)
    text = _QUOTED.sub(lambda m: f"{m.group()[0]}{_ELIDED}{m.group()[-1]}", text)
    return " ".join(text.split())[:1000]


def default_actor() -> str:
    """``$TDTP_ACTOR``, else the operating-system user."""
    actor = os.environ.get("TDTP_ACTOR")
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _new_id() -> str:
    return f"audit-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{_PROCESS_TAG}-{next(_SEQUENCE)}"


@dataclass
class AuditEntry:
    """What one operation did. ``outcome``: success, failure, duplicate (a packet set the
    target had already imported), dead-lettered, requeued (left for a later retry)."""

    operation: str
    source: str | None = None
    target: str | None = None
    table: str | None = None
    message_ids: list[str] = field(default_factory=list)
    rows: int | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    outcome: str = "success"
    duration_ms: float = 0.0
    error: str | None = None
    error_kind: str | None = None
    details: dict[str, Scalar] = field(default_factory=dict)
    #: Filled by the log: its configured actor, else :func:`default_actor`.
    actor: str | None = None
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str = field(default_factory=_new_id)

    def fail(self, exc: BaseException, outcome: str = "failure") -> None:
        """Record ``exc`` (scrubbed) as the reason the operation did not succeed."""
        self.outcome = outcome
        self.error = sanitize_error(str(exc)) or type(exc).__name__
        self.error_kind = str(getattr(exc, "kind", "") or type(exc).__name__)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with URLs masked and the error scrubbed once more."""
        return {
            "id": self.id,
            "time": self.time.astimezone(UTC).isoformat(timespec="microseconds")
                    .replace("+00:00", "Z"),
            "actor": self.actor,
            "operation": self.operation,
            "outcome": self.outcome,
            "source": mask_url(self.source) if self.source else None,
            "target": mask_url(self.target) if self.target else None,
            "table": self.table,
            "message_ids": list(self.message_ids),
            "rows": self.rows,
            "hashes": dict(self.hashes),
            "duration_ms": round(self.duration_ms, 3),
            "error": sanitize_error(self.error) if self.error else None,
            "error_kind": self.error_kind,
            "details": {k: v for k, v in self.details.items()
                        if v is None or isinstance(v, str | int | float | bool)},
        }
