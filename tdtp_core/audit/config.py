"""The ``audit:`` section of ``tdtp.yaml`` and the environment variables that add sinks.

::

    audit:
      enabled: true              # default true once the section exists
      file: audit.jsonl          # JSON lines, rotated
      max_size_mb: 100
      backups: 5
      database: postgresql://auditor:${AUDIT_PASSWORD}@db/audit
      table: tdtp_audit_log
      actor: nightly-sync        # default: $TDTP_ACTOR or the OS user

``TDTP_AUDIT_FILE`` and ``TDTP_AUDIT_DB`` add a file or a database sink without a file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tdtp_core.errors import ConfigError

FILE_ENV = "TDTP_AUDIT_FILE"
DB_ENV = "TDTP_AUDIT_DB"
_KEYS = {"enabled", "file", "max_size_mb", "backups", "database", "table", "actor"}


@dataclass(frozen=True)
class AuditConfig:
    enabled: bool = False
    file: str | None = None
    max_size_mb: float = 100.0
    backups: int = 5
    database: str | None = None
    table: str = "tdtp_audit_log"
    actor: str | None = None


def parse_audit(section: Any, *, where: str = "audit") -> AuditConfig:
    """Build the settings from the parsed ``audit:`` mapping, then apply the environment."""
    values: dict[str, Any] = {}
    if section is not None:
        if not isinstance(section, Mapping):
            raise ConfigError("expected a mapping", where=where)
        unknown = set(section) - _KEYS
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                              f"(known: {', '.join(sorted(_KEYS))})", where=where)
        values = {"enabled": True, **section}
        if not isinstance(values["enabled"], bool):
            raise ConfigError("enabled must be true or false", where=where)
        for key in ("max_size_mb", "backups"):
            if key in values and (isinstance(values[key], bool)
                                  or not isinstance(values[key], int | float)
                                  or values[key] < 0):
                raise ConfigError(f"{key} must be a number >= 0", where=where)
        for key in ("file", "database", "table", "actor"):
            if key in values and values[key] is not None and not isinstance(values[key], str):
                raise ConfigError(f"{key} must be a string", where=where)
        values["backups"] = int(values.get("backups", 5))
    if os.environ.get(FILE_ENV):
        values.update(enabled=True, file=os.environ[FILE_ENV])
    if os.environ.get(DB_ENV):
        values.update(enabled=True, database=os.environ[DB_ENV])
    return AuditConfig(**values)


def load_audit(path: str | os.PathLike[str] | None = None) -> AuditConfig:
    from tdtp_core.resilience.config import read_section

    section, where = read_section("audit", path)
    return parse_audit(section, where=where)
