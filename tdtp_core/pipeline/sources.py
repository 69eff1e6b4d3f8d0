"""Pipeline sources: what each ``sources[]`` entry reads, and opening it as a table stream.

A database is read through its adapter (a table or view with its full schema, or one
read-only SELECT whose ``:name`` parameters are bound, never spliced); files through the
format registry (packet sets, CSV, XLSX); a broker gives one complete packet set, whose
messages stay unacknowledged until the run has succeeded (DECISIONS 13) and go back to
the queue otherwise.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tdtp_core.errors import AdapterError, BrokerError, ConfigError
from tdtp_core.pipeline.schema import KeyProblem
from tdtp_core.pipeline.variables import Variable, source_parameters
from tdtp_core.stream import TableStream

if TYPE_CHECKING:
    from tdtp_core.protocols import Broker, Message
    from tdtp_core.sql import SqlAdapter

#: Seconds a broker source waits for a complete packet set when no timeout is given.
BROKER_WAIT = 60.0
_ADAPTERS = threading.Lock()
_READ_ONLY = re.compile(r"^\s*(\(\s*)*(select|with|values|table)\b", re.IGNORECASE)


@dataclass
class SourceSpec:
    """One checked ``sources[]`` entry; ``kind`` is table, query, file or broker."""

    name: str
    kind: str
    where: str
    url: str = ""
    table: str = ""
    query: str = ""
    file: Path | None = None
    broker: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None
    on_error: str = "fail"

    @property
    def location(self) -> str:
        """Where the source reads from, password masked (for summaries and errors)."""
        from tdtp_core.sql.urls import mask_url

        if self.kind == "file":
            return str(self.file)
        if self.kind == "broker":
            return mask_url(self.broker)
        what = self.table if self.kind == "table" else "query"
        return f"{mask_url(self.url)} ({what})"

    @property
    def endpoint(self) -> str | None:
        """The server a retry and circuit breaker guard, if any (files have none)."""
        from tdtp_core.resilience import endpoint_of

        if self.kind in ("table", "query"):
            return endpoint_of(self.url)
        return endpoint_of(self.broker) if self.kind == "broker" else None


def absolute_sqlite(url: str, base: Path) -> str:
    """An SQLite URL whose relative file path is taken relative to ``base``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not url.lower().startswith("sqlite"):
        return url
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:") or (
            os.path.isabs(database)):
        return url
    return parsed.set(database=str((base / database).resolve())).render_as_string(
        hide_password=False)


def resolve_location(url: str, base: Path) -> str:
    """A URL or tdtp.yaml connection name, as a URL (SQLite paths made absolute)."""
    from tdtp_core.config import resolve_url

    return absolute_sqlite(resolve_url(url), base)


def build_source(raw: Mapping[str, Any], *, where: str, base: Path,
                 default_policy: str) -> SourceSpec:
    """The spec of one schema-valid source entry; ``KeyProblem`` names a wrong key."""
    name = str(raw["name"])
    spec = SourceSpec(name=name, kind="", where=where,
                      on_error=str(raw.get("on_error", default_policy)),
                      timeout=float(raw["timeout"]) if "timeout" in raw else None)
    families = [k for k in ("url", "file", "broker") if k in raw]
    if len(families) > 1:
        raise KeyProblem((families[1],), f"a source reads one thing: '{families[0]}' and "
                                         f"'{families[1]}' are both given")
    if not families:
        if "table" in raw or "query" in raw:
            raise KeyProblem((), "missing url: the database to read the table or query from")
        raise KeyProblem((), "nothing to read: give url with table or query, file, or broker")
    if "options" in raw and "file" not in raw:
        raise KeyProblem(("options",), "options are for file sources (sheet, delimiter, ...)")
    for key in ("table", "query"):
        if key in raw and "url" not in raw:
            raise KeyProblem((key,), f"'{key}' reads a database: give url, not "
                                     f"'{families[0]}'")
    if "url" in raw:
        if "table" in raw and "query" in raw:
            raise KeyProblem(("query",), "give table or query, not both")
        if "table" not in raw and "query" not in raw:
            raise KeyProblem(("url",), "a database source needs table or query")
        try:
            spec.url = resolve_location(str(raw["url"]), base)
        except ConfigError as exc:
            raise KeyProblem(("url",), exc.message) from None
        spec.kind = "table" if "table" in raw else "query"
        spec.table = str(raw.get("table", ""))
        spec.query = str(raw.get("query", ""))
    elif "file" in raw:
        spec.kind = "file"
        spec.file = base / str(raw["file"])
        spec.options = dict(raw.get("options") or {})
    else:
        spec.kind = "broker"
        try:
            spec.broker = resolve_location(str(raw["broker"]), base)
        except ConfigError as exc:
            raise KeyProblem(("broker",), exc.message) from None
        if "://" not in spec.broker:
            raise KeyProblem(("broker",), "expected a broker URL (amqp://…?queue=Q, "
                                          "kafka://host:9092/TOPIC)")
    return spec


# --------------------------------------------------------------------------- opening


@dataclass
class Settle:
    """The messages a broker source consumed: acknowledged only when the run succeeded."""

    broker: Broker
    messages: list[Message]
    others: list[Message]

    def ack(self) -> None:
        from tdtp_core.brokers.base import ack_all, reject_all

        try:
            ack_all(self.broker, self.messages)
            reject_all(self.broker, self.others, requeue=True)
        finally:
            self.broker.close()

    def release(self) -> None:
        """Give every message back to the queue (failed run, dry run)."""
        from tdtp_core.brokers.base import reject_all

        try:
            reject_all(self.broker, [*self.messages, *self.others], requeue=True)
        except BrokerError:
            pass  # the connection is gone: the broker requeues unacknowledged messages
        finally:
            self.broker.close()


@dataclass
class Opened:
    """An open source: its stream, and the broker messages to settle after the run."""

    stream: TableStream
    settle: Settle | None = None


def open_source(spec: SourceSpec, variables: Mapping[str, Variable], *, batch_size: int,
                adapters: dict[str, Any], should_stop: Callable[[], bool]) -> Opened:
    """Open a source for reading; ``adapters`` caches one adapter per URL for the run."""
    from tdtp_core.plugins import get_host

    host = get_host()
    if spec.kind in ("table", "query"):
        with _ADAPTERS:  # sources are opened by several threads at once
            adapter = adapters.get(spec.url)
            if adapter is None:
                adapter = adapters[spec.url] = host.adapter_for_url(spec.url)
        if spec.kind == "table":
            stream = adapter.read(spec.table, batch_size=batch_size)
        else:
            stream = query_stream(_sql_adapter(adapter), spec.query, variables, table=spec.name,
                                  batch_size=batch_size)
        return Opened(_named(stream, spec.name))
    if spec.kind == "file":
        assert spec.file is not None
        fmt = host.format_for_path(spec.file)
        try:
            stream = fmt.read([spec.file], **spec.options)
        except ConfigError as exc:
            raise exc.at(f"{spec.where}.options") from None
        return Opened(_named(stream, spec.name))
    bodies, settle = consume_set(spec, should_stop)
    from tdtp_core.packet import read_packets

    try:
        stream = read_packets(*bodies, batch_size=batch_size)
    except BaseException:
        settle.release()
        raise
    return Opened(_named(stream, spec.name), settle)


def sqlite_file(spec: SourceSpec, adapters: Mapping[str, Any]) -> Path | None:
    """The SQLite file a table source reads through an SQL adapter, if it is one: the
    workspace can then copy the table inside SQLite (``Workspace.copy_sqlite``)."""
    from tdtp_core.sql import SqlAdapter

    adapter = adapters.get(spec.url)
    if spec.kind != "table" or not isinstance(adapter, SqlAdapter) or \
            adapter.engine.dialect.name != "sqlite":
        return None
    database = adapter.sa_url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    return path if path.is_file() else None


def _named(stream: TableStream, name: str) -> TableStream:
    stream.table = name
    return stream


def _sql_adapter(adapter: Any) -> SqlAdapter:
    from tdtp_core.sql import SqlAdapter

    if not isinstance(adapter, SqlAdapter):
        raise AdapterError(f"a query source needs a SQL database adapter, not "
                           f"{type(adapter).__name__}")
    return adapter


def query_stream(adapter: SqlAdapter, sql: str, variables: Mapping[str, Variable], *,
                 table: str, batch_size: int) -> TableStream:
    """Stream one read-only SELECT with its ``:name`` parameters bound.

    Each value is bound as the adapter binds a column of its type, so a timestamp
    compares with the stored text on SQLite and natively elsewhere.
    """
    import sqlalchemy as sa

    text = sql.strip().rstrip(";").strip()
    if not _READ_ONLY.match(text) or ";" in text:
        raise AdapterError("a source query is one read-only SELECT statement")
    params: list[sa.BindParameter[Any]] = [
        sa.bindparam(name, _bind_value(adapter, variables[name]))
        for name in source_parameters(text)]
    return adapter.read_sql(text, table=table, batch_size=batch_size, params=params)


def _bind_value(adapter: SqlAdapter, variable: Variable) -> Any:
    from sqlalchemy.exc import CompileError

    from tdtp_core.sql.typemap import NativeType

    field = variable.field
    try:
        native = adapter.types.to_column_type(field).compile(dialect=adapter.engine.dialect)
    except CompileError:
        return variable.value
    binder = adapter.types.binder(field, NativeType.parse(str(native)))
    return variable.value if binder is None else binder(variable.value)


def consume_set(spec: SourceSpec, should_stop: Callable[[], bool]) -> tuple[list[bytes], Settle]:
    """Wait (``timeout``, default 60 s) for one complete packet set on the broker."""
    from tdtp_core.brokers import headers
    from tdtp_core.brokers.assembler import BatchAssembler
    from tdtp_core.plugins import get_host

    broker = get_host().broker_for_url(spec.broker)
    wait = spec.timeout if spec.timeout is not None else BROKER_WAIT
    deadline = time.monotonic() + wait
    assembler = BatchAssembler(timeout=None)
    held: list[Message] = []
    try:
        complete = None
        while complete is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or should_stop():
                raise BrokerError(f"no complete packet set arrived at {spec.location} within "
                                  f"{wait:g}s")
            for message in broker.consume(timeout=min(1.0, remaining)):
                held.append(message)
                complete = assembler.add(message)
                if complete is not None or should_stop() or time.monotonic() > deadline:
                    break
        for key, message in complete.parts.values():
            headers.check_body(message.body, message.headers, key.message_id)
    except BaseException:
        Settle(broker, held, []).release()
        raise
    taken = {id(m) for m in complete.messages}
    return complete.bodies, Settle(broker, complete.messages,
                                   [m for m in held if id(m) not in taken])
