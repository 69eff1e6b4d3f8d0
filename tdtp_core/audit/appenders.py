"""Where audit entries go: a JSON-lines file with size rotation, and a database table.

Both can be read back (``tdtp audit show``) with the same filter. An appender that fails
never fails the operation it records: the log reports it once on stderr and carries on.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass
class AuditFilter:
    """Which entries ``tdtp audit show`` lists (``None`` matches anything)."""

    operation: str | None = None
    outcome: str | None = None
    table: str | None = None
    message_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None

    def matches(self, entry: dict[str, Any]) -> bool:
        if self.operation and entry.get("operation") != self.operation:
            return False
        if self.outcome and entry.get("outcome") != self.outcome:
            return False
        if self.table and entry.get("table") != self.table:
            return False
        if self.actor and entry.get("actor") != self.actor:
            return False
        if self.message_id and not any(
                self.message_id in str(m) for m in entry.get("message_ids") or ()):
            return False
        when = _parse_time(str(entry.get("time", "")))
        if self.since and (when is None or when < _aware(self.since)):
            return False
        return not (self.until and (when is None or when > _aware(self.until)))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _parse_time(text: str) -> datetime | None:
    try:
        return _aware(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


class Appender(Protocol):
    location: str

    def write(self, entry: dict[str, Any]) -> None: ...

    def query(self, flt: AuditFilter) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


def _newest(entries: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    return entries[-limit:] if limit else entries


class JsonLinesAppender:
    """One JSON object per line; ``file`` → ``file.1`` … ``file.N`` past ``max_bytes``."""

    def __init__(self, path: str | os.PathLike[str], *, max_bytes: int = 100 * 1024 * 1024,
                 backups: int = 5) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                _lock_file(fd)
                if os.fstat(fd).st_size and \
                        os.fstat(fd).st_size + len(line) > self.max_bytes:
                    self._rotate()
                    os.close(fd)
                    fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                    _lock_file(fd)
                os.write(fd, line)
            finally:
                os.close(fd)

    def _rotate(self) -> None:
        if self.backups <= 0:
            self.path.unlink(missing_ok=True)
            return
        for i in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{i}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{i + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))

    def files(self) -> list[Path]:
        """Oldest first: the backups, then the current file."""
        backups = [self.path.with_name(f"{self.path.name}.{i}")
                   for i in range(self.backups, 0, -1)]
        return [p for p in [*backups, self.path] if p.exists()]

    def entries(self) -> Iterator[dict[str, Any]]:
        for file in self.files():
            with open(file, encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if line:
                        try:
                            yield json.loads(line)
                        except ValueError:
                            continue  # a line cut short by a crash

    def query(self, flt: AuditFilter) -> list[dict[str, Any]]:
        return _newest([e for e in self.entries() if flt.matches(e)], flt.limit)

    def close(self) -> None:
        """Every write opens and closes the file: nothing to release."""


def _lock_file(fd: int) -> None:
    """Serialise writers of other processes (a listener and a CLI) on one file."""
    try:
        import fcntl
    except ImportError:  # Windows: appends of one short line are atomic enough
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


class SqlAppender:
    """Entries as rows of a table (created when missing) in any SQLAlchemy database.

    Use a database, or at least credentials, other than the audited one's, so an audited
    process cannot rewrite its own trail.
    """

    def __init__(self, url: str, *, table: str = "tdtp_audit_log") -> None:
        import sqlalchemy as sa

        from tdtp_core.sql.urls import mask_url

        self.location = f"{mask_url(url)} table {table}"
        self._url = url
        self._engine: Any = None
        meta = sa.MetaData()
        self.table = sa.Table(
            table, meta,
            sa.Column("id", sa.String(96), primary_key=True),
            sa.Column("time", sa.DateTime(timezone=True), nullable=False, index=True),
            sa.Column("actor", sa.String(255)),
            sa.Column("operation", sa.String(32), nullable=False, index=True),
            sa.Column("outcome", sa.String(32), nullable=False),
            sa.Column("source", sa.Text),
            sa.Column("target", sa.Text),
            sa.Column("table_name", sa.String(255), index=True),
            sa.Column("message_ids", sa.Text),
            sa.Column("rows", sa.BigInteger),
            sa.Column("hashes", sa.Text),
            sa.Column("duration_ms", sa.Float),
            sa.Column("error", sa.Text),
            sa.Column("error_kind", sa.String(64)),
            sa.Column("details", sa.Text),
        )
        self._created = False

    @property
    def engine(self) -> Any:
        if self._engine is None:
            import sqlalchemy as sa

            from tdtp_core.sql.urls import dialect_of, parse_url

            drivers = {"postgresql": "psycopg", "postgres": "psycopg", "mysql": "pymysql",
                       "mariadb": "pymysql"}
            url = parse_url(self._url, driver=drivers.get(dialect_of(self._url), ""),
                            aliases={"postgres": "postgresql", "mariadb": "mysql"})
            if url.drivername.endswith("+"):
                url = url.set(drivername=url.drivername[:-1])
            self._engine = sa.create_engine(url, pool_pre_ping=True)
        return self._engine

    def _ensure(self, conn: Any) -> None:
        if not self._created:
            self.table.create(conn, checkfirst=True)
            self._created = True

    def write(self, entry: dict[str, Any]) -> None:
        row = dict(entry)
        row["table_name"] = row.pop("table")
        row["time"] = _parse_time(str(row["time"]))
        for key in ("message_ids", "hashes", "details"):
            row[key] = json.dumps(row[key], ensure_ascii=False)
        with self.engine.begin() as conn:
            self._ensure(conn)
            conn.execute(self.table.insert(), [row])

    def query(self, flt: AuditFilter) -> list[dict[str, Any]]:
        import sqlalchemy as sa

        t = self.table
        stmt = sa.select(t)
        for column, value in ((t.c.operation, flt.operation), (t.c.outcome, flt.outcome),
                              (t.c.table_name, flt.table), (t.c.actor, flt.actor)):
            if value:
                stmt = stmt.where(column == value)
        if flt.since:
            stmt = stmt.where(t.c.time >= _aware(flt.since))
        if flt.until:
            stmt = stmt.where(t.c.time <= _aware(flt.until))
        if flt.message_id:
            stmt = stmt.where(t.c.message_ids.contains(flt.message_id, autoescape=True))
        stmt = stmt.order_by(t.c.time.desc(), t.c.id.desc())
        if flt.limit:
            stmt = stmt.limit(flt.limit)
        with self.engine.begin() as conn:
            self._ensure(conn)
            rows = conn.execute(stmt).mappings().all()
        out = []
        for r in reversed(rows):
            entry = dict(r)
            entry["table"] = entry.pop("table_name")
            when = entry["time"]
            if isinstance(when, datetime):
                entry["time"] = _aware(when).astimezone(UTC).isoformat(
                    timespec="microseconds").replace("+00:00", "Z")
            for key in ("message_ids", "hashes", "details"):
                entry[key] = json.loads(entry[key]) if entry[key] else None
            out.append(entry)
        return out

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
