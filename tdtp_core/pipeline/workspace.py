"""The workspace: an SQLite database the sources are loaded into and the transform runs in.

SQLite knows five storage classes; TDTP has more types. So each column is declared with
the affinity its values need plus a tag naming its TDTP field in a registry
(``"BLOB tdtp7"``), and values are stored so that they come back exactly:

==========================  ==================================================
TDTP type                   stored as (column affinity)
==========================  ==================================================
INTEGER, BOOLEAN            integer (INTEGER), booleans as 0/1
REAL                        real, NaN as the text ``NaN`` (SQLite would make it NULL)
DECIMAL                     real when the float is the same number, else the exact
                            text (no affinity, so SQLite never rounds it)
TEXT                        text: an empty string stays an empty string
DATE / TIMESTAMP / TIME     ISO text (``YYYY-MM-DD HH:MM:SS[.ffffff]``, UTC for zoned
                            fields), which SQLite's date functions read and which
                            sorts in time order; "no date" as ``0000-00-00``
BLOB                        blob
==========================  ==================================================

A transform result column that is a column of a source or of an earlier step (directly,
or through an alias, a subquery or a CTE) has that column's declared type, which SQLite
reports for a view over the statement: the tag gives back the full TDTP field (DECIMAL
scale, time zone, ...). Computed columns take the type of the values they hold (or the
one the step's ``types`` gives). User SQL runs read-only: an authorizer refuses anything
but reading, so ``ATTACH``, ``PRAGMA`` or writes cannot happen from a pipeline file.
"""

from __future__ import annotations

import math
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Context, Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from tdtp_core.errors import ConfigError, QueryError, SchemaError
from tdtp_core.packet.encode import RowEncoder
from tdtp_core.pipeline import sqlite_copy
from tdtp_core.pipeline.sqlite_copy import file_uri, quote
from tdtp_core.sql import celltext, convert, parallel, rowtext
from tdtp_core.sql.lanes import ColumnReaders, PacketRows
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, EncodedRows, TableStream
from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DATE_KINDS,
    DECIMAL,
    INTEGER,
    NO_DATE_MARKER,
    NODATE,
    REAL,
    TEXT,
    TIMESTAMP,
    Field,
    Schema,
    canonical_type,
    is_known_type,
)
from tdtp_core.values import parse_value

_TAG = re.compile(r"\btdtp(\d+)$")
#: Compound SELECTs give their result the declared types of the first arm only.
_COMPOUND = re.compile(r"\b(union|intersect|except)\b", re.IGNORECASE)
_DUPLICATE = re.compile(r"^(.*):(\d+)$")
_TYPE_TEXT = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PROBE = "tdtp_probe"
_READ_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                           sqlite3.SQLITE_RECURSIVE})
_DENIED_FUNCTIONS = frozenset({"load_extension"})
#: Storage classes each kind of column may hold and still be read as its field.
_FITS: dict[str, frozenset[str]] = {
    INTEGER: frozenset({"integer"}), BOOLEAN: frozenset({"integer"}),
    REAL: frozenset({"real", "integer", "text"}), DECIMAL: frozenset({"real", "integer", "text"}),
    TEXT: frozenset({"text"}), BLOB: frozenset({"blob"}),
}
_TEXT_CLASSES = frozenset({"text"})
#: The workspace's page cache: what it holds in memory before spilling to its file.
_CACHE_KIB = 16_384
#: Room for any DECIMAL(38, s) when rounding to a scale.
_WIDE = Context(prec=80)


@dataclass(frozen=True)
class Step:
    """One transform statement and the workspace table its result becomes."""

    result_table: str
    sql: str
    key: tuple[str, ...] = ()
    types: Mapping[str, Field] = field(default_factory=dict)
    where: str = ""


def parse_type(column: str, text: str) -> Field:
    """A TDTP field from ``DECIMAL(12,2)``, ``TEXT``, ``TIMESTAMPTZ``, ``TIME``, ..."""
    m = _TYPE_TEXT.match(text)
    base = m.group(1).upper() if m else ""
    if base == "TIME":
        return Field(column, TIMESTAMP, subtype="time")
    if base == "TIMESTAMPTZ":
        return Field(column, TIMESTAMP, timezone="UTC")
    if m is None or not is_known_type(base):
        raise ConfigError(f"{text!r} is not a TDTP type (INTEGER, REAL, DECIMAL(p,s), TEXT, "
                          "BOOLEAN, DATE, TIMESTAMP, TIMESTAMPTZ, TIME, BLOB)")
    kind = canonical_type(base)
    first = int(m.group(2)) if m.group(2) else None
    second = int(m.group(3)) if m.group(3) else None
    if kind == DECIMAL:
        result = Field(column, DECIMAL, precision=first or 18,
                       scale=second if second is not None else (0 if first else 2))
    elif kind == TEXT:
        result = Field(column, TEXT, length=first)
    else:
        result = Field(column, kind)
    try:
        Schema([result]).validate()
    except SchemaError as exc:
        raise ConfigError(exc.message) from None
    return result


# ----------------------------------------------------------------------- storage


def _is_timestamp(f: Field) -> bool:
    return f.kind in DATE_KINDS and f.kind != DATE and not f.is_time


def _affinity(f: Field) -> str:
    if f.is_time or f.kind in (TEXT, DATE) or _is_timestamp(f):
        return "TEXT"
    return {INTEGER: "INTEGER", BOOLEAN: "INTEGER", REAL: "REAL"}.get(f.kind, "BLOB")


def float_text(value: float) -> str:
    """Shortest text that reads back as the same float, never in exponent form."""
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
    return text[:-2] if text.endswith(".0") else text


def _decimal_storage(value: Any) -> Any:
    if isinstance(value, float):
        return "NaN" if value != value else value
    number = value if isinstance(value, Decimal) else Decimal(value)
    if number.is_nan():
        return "NaN"
    as_float = float(number)
    if math.isinf(as_float) or Decimal(repr(as_float)) == number:
        return as_float
    return str(number)


def _timestamp_storage(value: Any) -> str:
    if value is NODATE:
        return NO_DATE_MARKER
    if isinstance(value, datetime):
        return convert.datetime_to_utc_text(value)
    return datetime(value.year, value.month, value.day).isoformat(sep=" ")


def _date_storage(value: Any) -> str:
    if value is NODATE:
        return NO_DATE_MARKER
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _time_storage(value: Any) -> str:
    return (value.time() if isinstance(value, datetime) else value).replace(
        tzinfo=None).isoformat()


def _real_storage(value: Any) -> Any:
    number = float(value)
    return "NaN" if number != number else number


def encoder(f: Field) -> Callable[[Any], Any]:
    """Python value (never None) → what the workspace stores for ``f``."""
    if f.is_time:
        store: Callable[[Any], Any] = _time_storage
    elif f.kind == TEXT:
        return lambda v: v if type(v) is str else str(v)
    elif f.kind == INTEGER:
        store = int
    elif f.kind == BOOLEAN:
        store = lambda v: 1 if v else 0  # noqa: E731
    elif f.kind == REAL:
        store = _real_storage
    elif f.kind == DECIMAL:
        store = _decimal_storage
    elif f.kind == DATE:
        store = _date_storage
    elif _is_timestamp(f):
        store = _timestamp_storage
    else:
        return lambda v: v if type(v) is bytes else convert.to_bytes(v)

    def encode(value: Any) -> Any:
        if isinstance(value, str):  # cell text from a raw path: parse it as its field
            value = parse_value(f, value)
            if value is None:
                return None
        return store(value)

    return encode


def _to_int(value: Any) -> int:
    if isinstance(value, str):
        return int(value.strip())
    return convert.to_int(value)


def _to_text(value: Any) -> str:
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _to_float(value: Any) -> float:
    return float(value)


def _decimal_reader(scale: int | None) -> Callable[[Any], Decimal]:
    """Exact text as it is; a float (stored, or computed by SQL such as ``sum()``) as the
    nearest decimal of the field's scale, since its extra digits are float noise."""
    quantum = None if scale is None else Decimal(1).scaleb(-scale)

    def read(value: Any) -> Decimal:
        if isinstance(value, float):
            if not math.isfinite(value):
                return Decimal(str(value))
            number = Decimal(repr(value))
            return number if quantum is None else number.quantize(quantum, context=_WIDE)
        return Decimal(value)

    return read


def decoder(f: Field, classes: frozenset[str]) -> Callable[[Any], Any] | None:
    """Stored value (never None) → the Python value of ``f``; None when stored as is."""
    if f.is_time:
        return convert.time_from_db
    if f.kind == DATE:
        return convert.date_from_db
    if _is_timestamp(f):
        return convert.aware_from_db if f.timezone else convert.naive_from_db
    if f.kind == BOOLEAN:
        return convert.to_bool
    if f.kind == REAL:
        return None if classes <= {"real"} else _to_float
    if f.kind == DECIMAL:
        return _decimal_reader(f.scale)
    if f.kind == INTEGER:
        return None if classes <= {"integer"} else _to_int
    if f.kind == TEXT:
        return None if classes <= _TEXT_CLASSES else _to_text
    return None if classes <= {"blob"} else convert.to_bytes


def _inferred(name: str, classes: frozenset[str]) -> Field:
    """The field of a computed column, from the storage classes its values have."""
    if not classes or classes == {"text"}:
        return Field(name, TEXT)
    if classes == {"integer"}:
        return Field(name, INTEGER)
    if classes <= {"integer", "real"}:
        return Field(name, REAL)
    if classes == {"blob"}:
        return Field(name, BLOB)
    if "blob" in classes:
        raise QueryError(f"column {name!r} mixes binary and other values: CAST it")
    return Field(name, TEXT)


def _fits(f: Field, classes: frozenset[str]) -> bool:
    allowed = _FITS.get(f.kind, _TEXT_CLASSES)
    return classes <= allowed


def statement(sql: str) -> str:
    """A transform statement without the trailing semicolon(s)."""
    return sql.strip().rstrip(";").rstrip()


# ------------------------------------------------------------------------ workspace


@dataclass
class _Table:
    name: str
    schema: Schema
    decoders: list[Callable[[Any], Any] | None]


class Workspace:
    """One run's SQLite database; used from the thread that created it."""

    def __init__(self, path: Path | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE
                 ) -> None:
        self.path = path
        self.batch_size = batch_size
        if path is not None:
            _remove_old(path)
        try:
            # No path: SQLite's temporary database, held in its page cache and spilled
            # to an anonymous file beyond it, so memory stays flat however large.
            self.conn = sqlite3.connect("" if path is None else file_uri(path), uri=True)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot create the workspace {path}: {exc}") from None
        self.conn.isolation_level = None
        for pragma in ("PRAGMA journal_mode = MEMORY", "PRAGMA synchronous = OFF",
                       "PRAGMA foreign_keys = OFF", f"PRAGMA cache_size = -{_CACHE_KIB}"):
            self.conn.execute(pragma)
        self._fields: list[Field] = []
        #: The storage classes each declared column holds (by its tag number).
        self._held: list[frozenset[str]] = []
        self._tables: dict[str, _Table] = {}

    # --------------------------------------------------------------------- tables

    def _declare(self, f: Field) -> str:
        self._fields.append(f)
        self._held.append(_canonical_classes(f))
        return f"{_affinity(f)} tdtp{len(self._fields) - 1}"

    def has(self, table: str) -> bool:
        return table.casefold() in self._tables

    def schema(self, table: str) -> Schema:
        return self._table(table).schema

    def _table(self, table: str) -> _Table:
        try:
            return self._tables[table.casefold()]
        except KeyError:
            raise QueryError(f"no table {table!r} in the workspace") from None

    def create(self, table: str, schema: Schema) -> None:
        """(Re)create ``table`` for rows of ``schema``."""
        schema.validate()
        self.drop(table)
        columns = ", ".join(f"{quote(f.name)} {quote(self._declare(f))}" for f in schema)
        self.conn.execute(f"CREATE TABLE {quote(table)} ({columns})")
        decoders = [decoder(f, _canonical_classes(f)) for f in schema]
        self._tables[table.casefold()] = _Table(table, schema, decoders)

    def drop(self, table: str) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {quote(table)}")
        self._tables.pop(table.casefold(), None)

    def inserter(self, table: str) -> Callable[[Batch], None]:
        """A function inserting batches of Python rows into ``table``."""
        entry = self._table(table)
        encoders = [encoder(f) for f in entry.schema]
        sql = (f"INSERT INTO {quote(entry.name)} VALUES "
               f"({', '.join('?' * len(entry.schema))})")

        def insert(batch: Batch) -> None:
            columns: list[Sequence[Any]] = list(zip(*batch, strict=True))
            for i, encode in enumerate(encoders):
                columns[i] = [None if v is None else encode(v) for v in columns[i]]
            try:
                self.conn.executemany(sql, zip(*columns, strict=True))
            except (sqlite3.Error, OverflowError) as exc:
                raise SchemaError(f"cannot store a row of {entry.name!r} in the workspace: "
                                  f"{exc}") from None

        return insert

    def copy_sqlite(self, table: str, path: Path, source: str, columns: Sequence[str]
                    ) -> int | None:
        """Fill the just-created ``table`` from ``source`` in the SQLite file ``path``
        inside SQLite (see :mod:`~tdtp_core.pipeline.sqlite_copy`); the rows copied, or
        None when the rows must come through :meth:`inserter` instead. An open
        transaction is committed first (SQLite attaches only outside one), then resumed."""
        entry = self._table(table)
        resume = self.conn.in_transaction
        if resume:
            self.commit()
        try:
            return sqlite_copy.copy_table(self.conn, path, entry.name, source, columns,
                                          entry.schema.fields)
        finally:
            if resume:
                self.begin()

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def count(self, table: str) -> int:
        row = self.conn.execute(f"SELECT count(*) FROM {quote(self._table(table).name)}")
        return int(row.fetchone()[0])

    def read(self, table: str) -> TableStream:
        """Stream a workspace table's rows in insertion order, as TDTP values."""
        entry = self._table(table)

        def fetch() -> Iterator[list[Any]]:
            cursor = self.conn.execute(f"SELECT * FROM {quote(entry.name)} ORDER BY rowid")
            try:
                while rows := cursor.fetchmany(self.batch_size):
                    yield rows
            finally:
                cursor.close()

        def batches() -> Iterator[Batch]:
            for rows in fetch():
                yield _decode(rows, entry)

        def encoded(replace_invalid: bool) -> Iterator[EncodedRows]:
            make = PacketRows(
                ColumnReaders(entry.name, entry.schema.names, entry.schema.fields,
                              entry.decoders),
                [celltext.from_sqlite_storage(f, rounds_to_scale=True)
                 for f in entry.schema],
                RowEncoder(entry.schema.fields, entry.name, replace_invalid=replace_invalid))
            job = self._ranges(entry, make)
            if job is not None:
                yield from parallel.run_ordered(job, parallel.available_workers(),
                                                lambda: None, len)
                return
            yield from _encoded_rows(self.conn, f"SELECT * FROM {quote(entry.name)} ORDER BY rowid",
                                     (), entry.schema.fields, make, self.batch_size, 0)

        return TableStream(entry.schema, batches(), table=entry.name, encoded=encoded)

    def _ranges(self, entry: _Table, make: PacketRows) -> _RangeRead | None:
        """The parallel plan of reading a large table out as packet rows, or None."""
        low, high, count = self.conn.execute(
            f"SELECT min(rowid), max(rowid), count(*) FROM {quote(entry.name)}").fetchone()
        if count < parallel.MIN_ROWS or parallel.available_workers() < 2:
            return None
        bounds = [*range(low, high + 1, self.batch_size), high + 1]
        return _RangeRead(self.conn, entry, list(pairwise(bounds)), make, self.batch_size)

    def store(self, table: str, stream: TableStream) -> int:
        """Materialise a stream as a workspace table; returns its row count."""
        self.create(table, stream.schema)
        insert = self.inserter(table)
        rows = 0
        self.begin()
        try:
            for batch in stream.batches():
                insert(batch)
                rows += len(batch)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.commit()
        return rows

    # ------------------------------------------------------------------- transform

    def bind(self, params: Mapping[str, tuple[Field, Any]]) -> dict[str, Any]:
        """Variable values as the workspace stores them, so comparisons match columns."""
        return {name: None if value is None else encoder(f)(value)
                for name, (f, value) in params.items()}

    def run_step(self, step: Step, params: Mapping[str, Any], *, deadline: float | None = None
                 ) -> int:
        """Run one transform statement into its result table; returns the row count."""
        from tdtp_core.pipeline.variables import without_parameters

        sql = statement(step.sql)
        try:
            self.conn.execute(f"CREATE TEMP VIEW {_PROBE} AS {without_parameters(sql)}")
            try:
                probe = self.conn.execute(f"PRAGMA temp.table_info({_PROBE})").fetchall()
            finally:
                self.conn.execute(f"DROP VIEW IF EXISTS temp.{_PROBE}")
        except sqlite3.Error as exc:
            raise QueryError(f"{exc}", where=step.where) from None
        names = [str(row[1]) for row in probe]
        for name in names:
            m = _DUPLICATE.match(name)
            if m and m.group(1) in names:
                raise QueryError(f"the result has two columns named {m.group(1)!r}: alias one "
                                 "of them (AS ...)", where=step.where)
        planned: list[Field | None] = []
        known: dict[int, frozenset[str]] = {}
        simple = not _COMPOUND.search(sql)
        for i, (name, row) in enumerate(zip(names, probe, strict=True)):
            given = step.types.get(name)
            tag = _TAG.search(str(row[2] or ""))
            if given is not None:
                planned.append(given.replace(name=name))
            elif tag is not None:
                source = self._fields[int(tag.group(1))].replace(name=name, key=False)
                planned.append(source)
                if simple and source.kind != REAL:
                    known[i] = self._held[int(tag.group(1))]
            else:
                planned.append(None)
        self.drop(step.result_table)
        declared = [self._declare(f or Field(n, BLOB)) for f, n in zip(planned, names,
                                                                         strict=True)]
        columns = ", ".join(f"{quote(n)} {quote(d)}" for n, d in zip(names, declared,
                                                                     strict=True))
        target = step.result_table
        self.conn.execute(f"CREATE TABLE {quote(target)} ({columns})")
        self._execute_user(f"INSERT INTO {quote(target)} {sql}", params, target, deadline,
                           step.where)
        classes = self._classes(target, names, known)
        fields: list[Field] = []
        for i, (f, name) in enumerate(zip(planned, names, strict=True)):
            try:
                final = f if f is not None and _fits(f, classes[i]) else _inferred(name,
                                                                                classes[i])
            except QueryError as exc:
                raise exc.at(step.where) from None
            fields.append(final)
        keys = {k.casefold() for k in step.key}
        missing = keys - {n.casefold() for n in names}
        if missing:
            raise QueryError(f"key field(s) {', '.join(sorted(missing))} are not columns of "
                             f"the result ({', '.join(names)})", where=step.where)
        fields = [f.replace(key=f.name.casefold() in keys) for f in fields]
        for f, held, declared_type in zip(fields, classes, declared, strict=True):
            tag = _TAG.search(declared_type)
            assert tag is not None
            self._fields[int(tag.group(1))] = f
            self._held[int(tag.group(1))] = held
        schema = Schema(fields)
        self._tables[target.casefold()] = _Table(
            target, schema, [decoder(f, c) for f, c in zip(fields, classes, strict=True)])
        return self.count(target)

    def _classes(self, table: str, names: Sequence[str],
                 known: Mapping[int, frozenset[str]]) -> list[frozenset[str]]:
        """The storage classes each result column holds; ``known`` ones are not scanned.

        A column that is a column of a source or an earlier result (its declared type
        carries the tag) holds what that column holds, unless a compound SELECT adds
        other rows under the first arm's declared types. A REAL
        column is scanned anyway: knowing it holds no NaN text spares every value the
        decoder."""
        scan = [i for i in range(len(names)) if i not in known]
        found: dict[int, frozenset[str]] = dict(known)
        if scan:
            parts = ", ".join(f"group_concat(DISTINCT typeof({quote(names[i])}))"
                              for i in scan)
            row = self.conn.execute(f"SELECT {parts} FROM {quote(table)}").fetchone()
            for i, text in zip(scan, row, strict=True):
                found[i] = frozenset(c for c in (text or "").split(",") if c and c != "null")
        return [found[i] for i in range(len(names))]

    def _execute_user(self, sql: str, params: Mapping[str, Any], target: str,
                      deadline: float | None, where: str) -> None:
        def authorize(action: int, arg1: str | None, arg2: str | None, db: str | None,
                      source: str | None) -> int:
            if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
                return sqlite3.SQLITE_DENY
            if action in _READ_ACTIONS:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_INSERT and arg1 == target:
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY

        def interrupt() -> int:
            return 1 if deadline is not None and time.monotonic() > deadline else 0

        self.conn.set_authorizer(authorize)
        self.conn.set_progress_handler(interrupt, 10_000)
        try:
            self.conn.execute(sql, dict(params))
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if text == "interrupted":
                text = "the transform ran past its timeout"
            elif "not authorized" in text:
                text = ("not authorized: transform SQL may only read the workspace (one "
                        "SELECT or WITH ... SELECT statement)")
            raise QueryError(text, where=where) from None
        except (sqlite3.ProgrammingError, sqlite3.Warning) as exc:
            raise QueryError(str(exc), where=where) from None
        finally:
            self.conn.set_authorizer(None)
            self.conn.set_progress_handler(None, 0)

    def close(self) -> None:
        self.conn.close()
        if self.path is not None:
            _remove_old(self.path)


class _RangeRead:
    """A workspace table's rowid ranges as tasks for :func:`parallel.run_ordered`.

    The forked workers read through the connection they inherit (a temporary or
    in-memory database has no name to open again); nothing writes to the workspace
    while they run, so each sees the same pages.
    """

    def __init__(self, conn: sqlite3.Connection, entry: _Table, ranges: list[tuple[int, int]],
                 make: PacketRows, batch_size: int) -> None:
        self.conn = conn
        self.fields = entry.schema.fields
        self.sql = (f"SELECT * FROM {quote(entry.name)} WHERE rowid >= ? AND rowid < ? "
                    "ORDER BY rowid")
        self.ranges = ranges
        self.tasks = len(ranges)
        self.make = make
        self.batch_size = batch_size

    def open(self) -> None:
        """Nothing to join: the inherited connection is the snapshot."""

    def run(self, task: int, first_row: int) -> Iterator[EncodedRows]:
        return _encoded_rows(self.conn, self.sql, self.ranges[task], self.fields, self.make,
                             self.batch_size, first_row)


def _encoded_rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any],
                  fields: Sequence[Field], make: PacketRows, batch_size: int,
                  first_row: int) -> Iterator[EncodedRows]:
    """A workspace SELECT as packet rows: rendered in C (:mod:`tdtp_core.sql.rowtext`)
    where the compiled module takes it, else through ``make``."""
    rendered = rowtext.encoded_batches(conn, sql, params, fields, make, batch_size, first_row)
    if rendered is not None:
        yield from rendered
        return
    cursor = conn.execute(sql, params)
    try:
        while rows := cursor.fetchmany(batch_size):
            yield make(rows, first_row)
            first_row += len(rows)
    finally:
        cursor.close()


def _canonical_classes(f: Field) -> frozenset[str]:
    """The storage classes the encoder gives a field's values."""
    return _FITS.get(f.kind, _TEXT_CLASSES) if f.kind not in (REAL, DECIMAL) else (
        frozenset({"real", "text"}))


def _decode(rows: list[Any], entry: _Table) -> Batch:
    if not any(entry.decoders):
        return [tuple(r) for r in rows]
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
    for i, decode in enumerate(entry.decoders):
        if decode is None:
            continue
        try:
            columns[i] = [None if v is None else decode(v) for v in columns[i]]
        except (ValueError, TypeError, ArithmeticError) as exc:
            f = entry.schema[i]
            raise QueryError(f"table {entry.name!r}, column {f.name!r}: a value does not read "
                             f"as {f.type} ({exc})") from None
    return list(zip(*columns, strict=True))


def _remove_old(path: Path) -> None:
    """Delete a previous run's workspace file, refusing to delete anything else."""
    if path.exists():
        with path.open("rb") as fh:
            head = fh.read(len(_SQLITE_MAGIC))
        if head and head != _SQLITE_MAGIC:
            raise ConfigError(f"workspace path {path} exists and is not an SQLite database; "
                              "refusing to overwrite it")
        path.unlink()
    for suffix in ("-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

