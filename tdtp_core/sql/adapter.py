"""The SQLAlchemy adapter every database plugin extends.

It holds what the databases share: one engine per URL, listing and inspecting tables,
export with TDTQL pushdown in batches, and import in one transaction with the ledger,
the checks and the four strategies (DECISIONS 12). A plugin supplies its type map and
overrides the few hooks where its database has a faster or different path
(``_fetch``, ``_insert``, ``_merge``, ``_conflict_insert``, ``_create_staging``).

Exports also offer the stream's encoded lane (see :mod:`tdtp_core.stream`): rows go
from the driver to packet text column by column (:mod:`tdtp_core.sql.lanes`), and a
whole table that the database can split into key ranges read from one snapshot
(``_partitions``, ``_anchor_snapshot``, ``_join_snapshot``) is read by worker
processes on the other cores (:mod:`tdtp_core.sql.parallel`). Imports take a packet
stream's cells lane: worker processes parse and convert the parts (``checks``) while
this process binds and inserts.
"""

from __future__ import annotations

import re
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import NullType

from tdtp_core.errors import AdapterError, TdtpError
from tdtp_core.packet import rejects
from tdtp_core.packet.encode import RowEncoder
from tdtp_core.packet.model import IMPORTABLE_TYPES
from tdtp_core.protocols import ImportResult, TableInfo
from tdtp_core.sql import engines, ledger, parallel
from tdtp_core.sql.checks import WriteColumn, WritePlan
from tdtp_core.sql.infer import infer_fields, result_fixer
from tdtp_core.sql.lanes import ColumnReaders, PacketRows
from tdtp_core.sql.rowinsert import LaneBatch
from tdtp_core.sql.rowlanes import RowLane
from tdtp_core.sql.statements import STRATEGIES, count_rows, positional_sql
from tdtp_core.sql.typemap import NativeType, TypeMap
from tdtp_core.sql.urls import mask_url, parse_url, split_table_name
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, CellPart, EncodedRows, TableStream
from tdtp_core.types import Field, Schema

if TYPE_CHECKING:
    from tdtp_core.tdtql.query import Query

#: The batches an import hands to ``_insert`` / ``_merge``: whatever ``_pack`` makes of
#: each (row tuples for ``executemany`` unless a plugin packs them otherwise).
Rows = Iterable[Any]
_READ_ONLY_START = re.compile(r"^\s*(\(\s*)*(select|with|values|table|show|explain)\b",
                              re.IGNORECASE)


@dataclass(frozen=True)
class TableMeta:
    """A reflected table: its SQLAlchemy ``Table`` and a TDTP field for each of
    ``columns`` (all of the table's, or a query's projection of them)."""

    name: str
    table: sa.Table
    columns: tuple[sa.Column[Any], ...]
    fields: tuple[Field, ...]
    natives: tuple[NativeType, ...]
    is_view: bool

    @property
    def schema(self) -> Schema:
        return Schema(self.fields)

    def column_index(self, name: str) -> int | None:
        """Position of a column by exact name, else by case-insensitive name."""
        names = [c.name for c in self.columns]
        if name in names:
            return names.index(name)
        folded = [n.casefold() for n in names]
        return folded.index(name.casefold()) if name.casefold() in folded else None

    def project(self, names: Sequence[str]) -> TableMeta:
        """Only the named columns (exact names, as a pushdown gives them), in that order."""
        index = [self.column_index(n) for n in names]
        picked = [i for i in index if i is not None]
        return replace(self, columns=tuple(self.columns[i] for i in picked),
                       fields=tuple(self.fields[i] for i in picked),
                       natives=tuple(self.natives[i] for i in picked))


class _Duplicate(Exception):
    """A concurrent import claimed the same MessageIDs first."""


class SqlAdapter:
    """Base of the database adapters: ``Cls(url)`` satisfies ``protocols.Adapter``."""

    #: Registry name of the plugin, also the key of its engine cache.
    name: ClassVar[str] = "sql"
    #: DBAPI driver used when the URL names none (``postgresql://`` → psycopg).
    driver: ClassVar[str] = ""
    #: URL dialect spellings SQLAlchemy does not know, renamed (``postgres`` → ``postgresql``).
    aliases: ClassVar[Mapping[str, str]] = {}
    #: Schemas that never hold user tables.
    system_schemas: ClassVar[frozenset[str]] = frozenset()
    #: Whether CREATE TABLE may run inside the import transaction (not on MySQL).
    transactional_ddl: ClassVar[bool] = True
    #: Whether ``_pack`` runs in the import's worker processes (when what it makes is
    #: cheaper to send between processes than the bound columns, e.g. COPY text).
    pack_in_workers: ClassVar[bool] = False
    #: Name prefix and CREATE prefixes of the session-temporary staging tables.
    staging_name: ClassVar[str] = "tdtp_stage_"
    staging_prefixes: ClassVar[tuple[str, ...]] = ("TEMPORARY",)
    types: ClassVar[TypeMap]

    def __init__(self, url: str) -> None:
        self.url = url
        self.sa_url = parse_url(url, driver=self.driver, aliases=self.aliases)
        self.display_url = mask_url(url)

    # ------------------------------------------------------------------ engine & errors

    @property
    def engine(self) -> Engine:
        return engines.cached_engine(self.name, self._url_key, self._build_engine)

    @property
    def _url_key(self) -> str:
        return self.sa_url.render_as_string(hide_password=False)

    def _build_engine(self) -> Engine:
        with self._errors("open"):
            engine = sa.create_engine(self.sa_url, **self.engine_options())
        self.configure_engine(engine)
        return engine

    def engine_options(self) -> dict[str, Any]:
        """Keyword arguments for ``create_engine`` (pool sizes, driver arguments)."""
        return {"pool_pre_ping": True}

    def configure_engine(self, engine: Engine) -> None:
        """Install connection events (session settings, pragmas) on a new engine."""

    def close(self) -> None:
        engines.dispose(self.name, self._url_key)

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn driver and SQLAlchemy failures into one masked line naming the database."""
        try:
            yield
        except TdtpError:
            raise
        except sa.exc.DBAPIError as exc:
            raise self._error(action, exc.orig if exc.orig is not None else exc) from exc
        except (sa.exc.SQLAlchemyError, ImportError) as exc:
            raise self._error(action, exc) from exc
        except Exception as exc:
            if isinstance(exc, self._driver_errors()):  # raw driver use (COPY)
                raise self._error(action, exc) from exc
            raise

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        """The DBAPI's own exception base, for statements run on the raw driver."""
        engine = engines.peek(self.name, self._url_key)
        dbapi = getattr(engine.dialect, "loaded_dbapi", None) if engine else None
        error = getattr(dbapi, "Error", None)
        return (error,) if isinstance(error, type) else ()

    def _error(self, action: str, cause: BaseException) -> AdapterError:
        lines = [ln.strip() for ln in str(cause).strip().splitlines() if ln.strip()]
        detail = mask_url(lines[0]) if lines else type(cause).__name__
        return AdapterError(f"{action} failed at {self.display_url}: {detail}")

    # ------------------------------------------------------------------ tables

    def list_tables(self, *, views: bool = False) -> list[str]:
        """Tables (or views) of the default schema, then ``schema.name`` of the others."""
        with self._errors("list tables"), self.engine.connect() as conn:
            insp = sa.inspect(conn)
            get = insp.get_view_names if views else insp.get_table_names
            names = sorted(n for n in get() if n != ledger.LEDGER_TABLE)
            for schema in self._other_schemas(conn):
                names += sorted(f"{schema}.{n}" for n in get(schema=schema))
            return names

    def _other_schemas(self, conn: Connection) -> list[str]:
        """User schemas besides the default one, for databases that have schemas."""
        if not self.system_schemas:
            return []
        insp = sa.inspect(conn)
        default = insp.default_schema_name
        return sorted(
            s for s in insp.get_schema_names()
            if s != default and s.lower() not in self.system_schemas
            and not s.lower().startswith(("pg_temp", "pg_toast"))
        )

    def schema(self, table: str) -> Schema:
        """The TDTP schema of a table or view, without counting its rows."""
        with self._errors(f"inspect table {table!r}"), self.engine.connect() as conn:
            return self._meta(conn, table).schema

    def inspect(self, table: str) -> TableInfo:
        with self._errors(f"inspect table {table!r}"), self.engine.connect() as conn:
            meta = self._meta(conn, table)
            rows = conn.execute(count_rows(meta.table)).scalar_one()
            return TableInfo(
                name=meta.name,
                schema=meta.schema,
                row_count=int(rows),
                is_view=meta.is_view,
                nullable={c.name: bool(c.nullable) and not c.primary_key
                          for c in meta.table.columns},
                native_types={c.name: n.text for c, n in zip(meta.table.columns, meta.natives,
                                                              strict=True)},
            )

    def _find(self, conn: Connection, name: str) -> tuple[str | None, str, bool] | None:
        """(schema, table, is_view) of ``name``, matched exactly, else case-insensitively."""
        schema, table = split_table_name(name)
        insp = sa.inspect(conn)
        try:
            candidates = [(n, False) for n in insp.get_table_names(schema=schema)]
            candidates += [(n, True) for n in insp.get_view_names(schema=schema)]
        except sa.exc.SQLAlchemyError:
            return None
        for n, is_view in candidates:
            if n == table:
                return schema, n, is_view
        folded = [(n, v) for n, v in candidates if n.casefold() == table.casefold()]
        if len(folded) == 1:
            return schema, folded[0][0], folded[0][1]
        return None

    def _meta(self, conn: Connection, name: str) -> TableMeta:
        found = self._find(conn, name)
        if found is None:
            raise AdapterError(f"table {name!r} not found in {self.display_url}")
        schema, table, is_view = found
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            reflected = sa.Table(table, sa.MetaData(), schema=schema, autoload_with=conn)
        natives = tuple(NativeType.parse(t) for t in self._native_types(conn, reflected))
        keys = {c.name for c in reflected.primary_key.columns}
        fields = tuple(
            self.types.annotate(self.types.to_field(c.name, n, key=c.name in keys), c.comment)
            for c, n in zip(reflected.columns, natives, strict=True)
        )
        shown = f"{schema}.{table}" if schema else table
        return TableMeta(shown, reflected, tuple(reflected.columns), fields, natives, is_view)

    def _native_types(self, conn: Connection, table: sa.Table) -> list[str]:
        """Each column's declared type as text, for the type map."""
        out = []
        for column in table.columns:
            try:
                out.append(column.type.compile(dialect=conn.dialect))
            except sa.exc.CompileError:
                out.append(getattr(column.type, "__visit_name__", "").upper())
        return out

    # ------------------------------------------------------------------ export

    def read(
        self, table: str, query: Query | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> TableStream:
        """Stream a table, with the query's filter, order and paging run by the database.

        With a query the stream carries a ``QueryContext`` whose counts come from the
        database: the whole table and the true number of rows the filter matched.
        """
        from tdtp_core.tdtql import QueryContext
        from tdtp_core.tdtql.query import ExecutionResults

        with self._errors(f"read table {table!r}"), self.engine.connect() as conn:
            meta = self._meta(conn, table)
            if query is None:
                return self._stream(meta, self._select(meta), batch_size, whole=True)
            pushdown = query.to_sqlalchemy(meta.table, schema=meta.schema)
            if pushdown.columns:
                meta = meta.project(pushdown.columns)
            total = conn.execute(count_rows(meta.table)).scalar_one()
            matched = conn.execute(pushdown.count(self._select(meta))).scalar_one()
        context = QueryContext(query, ExecutionResults.compute(
            int(total), int(matched), limit=query.limit, offset=query.offset))
        stream = self._stream(meta, pushdown.apply(self._select(meta)), batch_size)
        stream.query, stream.query_context = query, context
        return stream

    def read_after(
        self,
        table: str,
        column: str,
        after: Any,
        *,
        limit: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> TableStream:
        """Rows whose ``column`` is greater than ``after`` (all when None), in its order.

        The watermark is bound as a parameter typed by the column (DECISIONS 16), so the
        database compares values, never text against a native column.
        """
        with self._errors(f"read table {table!r}"), self.engine.connect() as conn:
            meta = self._meta(conn, table)
        index = meta.column_index(column)
        if index is None:
            raise AdapterError(f"tracking column {column!r} not found in table {meta.name!r}")
        tracked = meta.columns[index]
        select = self._select(meta)
        if after is not None:
            select = select.where(tracked > sa.bindparam("watermark", after, type_=tracked.type))
        select = select.order_by(tracked.asc())
        if limit:
            select = select.limit(limit)
        return self._stream(meta, select, batch_size)

    def read_sql(
        self, sql: str, *, table: str = "query_result", batch_size: int = DEFAULT_BATCH_SIZE,
        params: Sequence[sa.BindParameter[Any]] | None = None,
    ) -> TableStream:
        """Stream the result of a read-only SELECT; its schema comes from the result.

        With ``params=None`` the text goes to the driver as written (a ``:`` in a literal
        is just a character); with a sequence, it is a SQLAlchemy ``text()`` whose
        ``:name`` placeholders are bound to those parameters.
        """
        text = sql.strip().rstrip(";").strip()
        if not _READ_ONLY_START.match(text) or ";" in text:
            raise AdapterError("--query takes one read-only SELECT statement")
        conn = self.engine.connect()
        try:
            with self._errors("run query"):
                self._begin_read_only(conn)
                streaming = conn.execution_options(stream_results=True)
                result = (streaming.exec_driver_sql(text) if params is None
                          else streaming.execute(sa.text(text).bindparams(*params)))
                first = [tuple(r) for r in result.fetchmany(batch_size)]
                description = result.cursor.description if result.cursor else None
                names = list(result.keys())
                fields = infer_fields(names, first, self._describe(conn, description))
        except BaseException:
            conn.close()
            raise
        fix = result_fixer(fields, first)

        def batches() -> Iterator[Batch]:
            try:
                with self._errors("run query"):
                    if first:
                        yield fix(first)
                    while rows := result.fetchmany(batch_size):
                        yield fix([tuple(r) for r in rows])
            finally:
                conn.close()

        return TableStream(Schema(fields), batches(), table=table)

    def _begin_read_only(self, conn: Connection) -> None:
        """Make the connection's next transaction read-only, where the database can."""

    def _describe(self, conn: Connection, description: Any) -> list[Field | None]:
        """Fields from the driver's cursor description, where it tells the types."""
        return []

    def _select(self, meta: TableMeta) -> sa.Select[Any]:
        """``SELECT`` every column with no result processing: the readers convert."""
        return sa.select(
            *(self._column_expression(c, f, n).label(c.name)
              for c, f, n in zip(meta.columns, meta.fields, meta.natives, strict=True))
        ).select_from(meta.table)

    def _column_expression(
        self, column: sa.Column[Any], field: Field, native: NativeType
    ) -> sa.ColumnElement[Any]:
        """How a column is selected; a plugin may cast types its driver cannot carry."""
        return sa.type_coerce(column, NullType())

    def _stream(self, meta: TableMeta, select: sa.Select[Any], batch_size: int, *,
                whole: bool = False) -> TableStream:
        """The rows of ``select`` as batches of values, with the encoded lane; ``whole``:
        the select reads the entire table in its natural order (it may be split)."""
        readers = self._readers(meta)

        def batches() -> Iterator[Batch]:
            with self._errors(f"read table {meta.name!r}"), self.engine.connect() as conn:
                for rows in self._fetch(conn, meta, select, batch_size):
                    yield readers.rows(rows)

        def encoded(replace_invalid: bool) -> Iterator[EncodedRows]:
            return self._encoded(meta, select, batch_size, replace_invalid, whole=whole)

        return TableStream(meta.schema, batches(), table=meta.name, encoded=encoded)

    def _fetch(
        self, conn: Connection, meta: TableMeta, select: sa.Select[Any], batch_size: int
    ) -> Iterator[Sequence[Sequence[Any]]]:
        """Run the SELECT and yield driver rows in lists of ``batch_size``."""
        result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(
            select)
        yield from result.partitions(batch_size)

    def _readers(self, meta: TableMeta) -> ColumnReaders:
        return ColumnReaders(
            meta.name, [c.name for c in meta.columns], meta.fields,
            [self.types.reader(f, n) for f, n in zip(meta.fields, meta.natives, strict=True)])

    def _packet_rows(self, meta: TableMeta, replace_invalid: bool) -> PacketRows:
        """Driver rows of ``meta`` to packet rows, with the type map's shortcuts."""
        return PacketRows(
            self._readers(meta),
            [self.types.cell_encoder(f, n) for f, n in zip(meta.fields, meta.natives,
                                                           strict=True)],
            RowEncoder(meta.fields, meta.name, replace_invalid=replace_invalid))

    def _encoded(self, meta: TableMeta, select: sa.Select[Any], batch_size: int,
                 replace_invalid: bool, *, whole: bool) -> Iterator[EncodedRows]:
        """The export lane: the select's rows encoded for the packet writer, by worker
        processes over the table's key ranges when it can be split, else here."""
        make = self._packet_rows(meta, replace_invalid)
        workers = parallel.available_workers() if whole else 1
        if workers > 1:
            with self._errors(f"read table {meta.name!r}"):
                job = self._split(meta, select, make, batch_size, workers)
            if job is not None:
                try:
                    with self._errors(f"read table {meta.name!r}"):
                        yield from parallel.run_ordered(job, workers, job.release, len)
                finally:
                    job.release()
                return
        with self._errors(f"read table {meta.name!r}"), self.engine.connect() as conn:
            yield from self._encode_select(conn, meta, select, make, batch_size, 0)

    def _encode_select(self, conn: Connection, meta: TableMeta, select: sa.Select[Any],
                       make: PacketRows, batch_size: int,
                       first_row: int) -> Iterator[EncodedRows]:
        """The export lane's batches of one SELECT; a plugin may render them natively
        (keeping ``make`` for what it cannot render exactly)."""
        for rows in self._fetch(conn, meta, select, batch_size):
            yield make(rows, first_row)
            first_row += len(rows)

    def _split(self, meta: TableMeta, select: sa.Select[Any], make: PacketRows,
               batch_size: int, workers: int) -> _RangeExport | None:
        """The parallel plan of a whole-table export, or None (too small, no ranges,
        no shared snapshot)."""
        anchor = self.engine.connect()
        try:
            ranges = self._partitions(anchor, meta, batch_size, parallel.MIN_ROWS)
            anchor.rollback()  # the snapshot is pinned by a transaction of its own
            token = self._anchor_snapshot(anchor) if len(ranges) >= workers else None
        except BaseException:
            anchor.close()
            raise
        if token is None:
            anchor.close()
            return None
        return _RangeExport(self, meta, [select.where(r) for r in ranges], make,
                            batch_size, anchor, token)

    def _partitions(self, conn: Connection, meta: TableMeta, batch_size: int,
                    min_rows: int) -> list[sa.ColumnElement[bool]]:
        """Conditions splitting the whole table into consecutive key ranges (about a
        batch each) which, read in order, give its rows in the order a plain SELECT
        does; none when the table has fewer than ``min_rows`` rows or cannot be split."""
        return []

    def _anchor_snapshot(self, conn: Connection) -> str | None:
        """Pin the database state the workers will read (on ``conn``, kept open until
        they all joined it); return what they need to join it, or None if impossible."""
        return None

    def _join_snapshot(self, conn: Connection, token: str) -> None:
        """In a worker: read from the state :meth:`_anchor_snapshot` pinned."""

    # ------------------------------------------------------------------ import

    def write(
        self,
        stream: TableStream,
        *,
        table: str | None = None,
        strategy: str = "replace",
        create: bool = False,
        force: bool = False,
    ) -> ImportResult:
        """Import a stream in one transaction: every row of every part, or none."""
        if strategy not in STRATEGIES:
            raise AdapterError(
                f"unknown import strategy {strategy!r} (use one of {', '.join(STRATEGIES)})")
        name = table or stream.table
        if not name:
            raise AdapterError("the stream names no table: give one (--table)")
        stream = rejects.table_rows(stream)
        kind = stream.header.packet_type if stream.header is not None else None
        if (kind is not None and kind not in IMPORTABLE_TYPES
                and not stream.metadata.get(rejects.FROM_REJECT_PACKET)):
            why = (" (not a reject packet: its fields do not start with "
                   f"{', '.join(f.name for f in rejects.REJECT_FIELDS)})"
                   if kind == rejects.REJECT_PACKET_TYPE else "")
            raise AdapterError(f"can only import {', '.join(IMPORTABLE_TYPES)} packets "
                               f"and reject packets, got: {kind}{why}")
        ids = ledger.message_ids(stream)
        result = ImportResult(table=name, message_ids=tuple(ids), strategy=strategy)
        action = f"import into table {name!r}"
        try:
            with self._errors(action):
                if ids:
                    with self.engine.begin() as conn:
                        ledger.ensure(conn)
                if create and not self.transactional_ddl:
                    with self.engine.begin() as conn:
                        result.created = self._create_missing(conn, name, stream.schema)
                with self._write_connection() as conn, conn.begin():
                    if ids and not force and set(ids) <= ledger.imported(conn, ids):
                        result.skipped_duplicate = True
                        return result
                    if ids:
                        self._claim(conn, ids, name, strategy)
                    if create and self.transactional_ddl:
                        result.created = self._create_missing(conn, name, stream.schema)
                    meta = self._meta(conn, name)
                    result.table = meta.name
                    result.rows = self._load(conn, meta, stream, strategy)
                    if ids:
                        ledger.settle(conn, ids, result.rows)
        except _Duplicate:
            result.skipped_duplicate = True
            result.rows = 0
        return result

    def _claim(self, conn: Connection, ids: Sequence[str], table: str, strategy: str) -> None:
        try:
            ledger.claim(conn, ids, table=table, strategy=strategy)
        except sa.exc.IntegrityError:
            raise _Duplicate from None

    @contextmanager
    def _write_connection(self) -> Iterator[Connection]:
        """A connection for one import transaction."""
        with self.engine.connect() as conn:
            yield conn

    def _create_missing(self, conn: Connection, name: str, schema: Schema) -> bool:
        """CREATE TABLE from the packet schema unless the table exists; True if created."""
        if self._find(conn, name) is not None:
            return False
        schema.validate()
        db_schema, table = split_table_name(name)
        columns = [
            sa.Column(f.name, self.types.to_column_type(f), primary_key=f.key,
                      nullable=not f.key, autoincrement=False,
                      comment=self.types.column_comment(f))
            for f in schema
        ]
        sa.Table(table, sa.MetaData(), *columns, schema=db_schema,
                 **self.create_options()).create(conn)
        return True

    def create_options(self) -> dict[str, Any]:
        """Dialect keyword arguments for tables we create (MySQL charset and engine)."""
        return {}

    def _plan(self, meta: TableMeta, stream: TableStream) -> WritePlan:
        columns: list[tuple[int, WriteColumn]] = []
        for i, src in enumerate(stream.schema):
            j = meta.column_index(src.name)
            if j is None:
                raise AdapterError(
                    f"field {src.name!r} has no column in table {meta.name!r} "
                    f"(columns: {', '.join(c.name for c in meta.columns)})"
                )
            column = meta.columns[j]
            dst = meta.fields[j]
            columns.append((j, WriteColumn(
                source=i, name=column.name, src=src, dst=dst,
                nullable=bool(column.nullable) and not column.primary_key,
                binder=self.types.binder(dst, meta.natives[j]),
                shortcut=self.types.cell_binder(dst, meta.natives[j]),
                native=meta.natives[j],
            )))
        columns.sort(key=lambda item: item[0])  # placeholders follow the table's order
        return WritePlan(meta.name, [c for _, c in columns], stream)

    def _load(self, conn: Connection, meta: TableMeta, stream: TableStream,
              strategy: str) -> int:
        plan = self._plan(meta, stream)
        target = meta.table
        names = [c.name for c in plan.columns]
        rows = self._bound_rows(plan, stream, self._row_lane(conn, meta, plan))
        keys = [c.name for c in target.primary_key.columns]
        if not set(keys) <= set(names):
            keys = []
        if strategy == "copy":
            stage = self._create_staging(conn, target, names)
            self._insert(conn, stage, names, rows)
            self._swap(conn, target, stage, names)
        elif strategy == "fail" or not keys:
            self._insert(conn, target, names, rows)
        else:
            self._merge(conn, target, names, keys, rows, strategy)
        return plan.rows

    def _row_lane(self, conn: Connection, meta: TableMeta, plan: WritePlan) -> RowLane | None:
        """A compiled lane that takes the packet's row strings (see
        :mod:`~tdtp_core.sql.rowlanes`), or None: every batch is bound in Python."""
        return None

    def _bound_rows(self, plan: WritePlan, stream: TableStream,
                    lane: RowLane | None = None) -> Iterator[Any]:
        """The stream's rows checked, bound and packed (``_pack``), in batches, or what
        the adapter's ``lane`` makes of their row strings. From a packet's cells, parts
        are read by worker processes (in order) while the caller inserts."""
        parts = stream.cell_parts()
        if parts is None:
            for batch in stream.batches():
                yield self._pack(plan.prepare_columns(batch))
            return
        workers = parallel.available_workers()
        total = 0
        if workers > 1 and len(parts) > 1:
            job = _PartImport(plan, parts, self._pack if self.pack_in_workers else None,
                              lane)
            for rows, item, laned in parallel.run_ordered(
                    job, min(workers, len(parts)), _nothing, _batch_rows):
                stream.advance(rows)
                if laned:
                    assert lane is not None
                    yield lane.finish(item, total)
                else:
                    yield item if self.pack_in_workers else self._pack(item)
                total += rows
            plan.rows = total
            return
        for part in parts:
            for cells in part(rows=lane is not None):
                stream.advance(len(cells))
                if lane is not None and cells.rows is not None:
                    yield lane.finish(lane.prepare(cells, total), total)
                else:
                    plan.rows = total
                    yield self._pack(plan.prepare_cells(cells))
                total += len(cells)
        plan.rows = total

    def _pack(self, columns: list[Sequence[Any]]) -> Any:
        """One batch of bound columns (target order) as ``_insert`` / ``_merge`` take it:
        row tuples for ``executemany``."""
        return list(zip(*columns, strict=True))

    def _executemany(self, conn: Connection, stmt: Any, columns: Sequence[str],
                     rows: Rows) -> None:
        sql = positional_sql(stmt, conn.dialect, columns)
        for batch in rows:
            if isinstance(batch, LaneBatch):
                batch.lane.insert(conn, sql, batch)
            elif batch:
                conn.exec_driver_sql(sql, batch)

    def _insert(self, conn: Connection, table: sa.Table, columns: Sequence[str],
                rows: Rows) -> None:
        """Plain INSERT of every row (``fail``, tables without a key, staging loads)."""
        self._executemany(conn, sa.insert(table), columns, rows)

    def _merge(self, conn: Connection, table: sa.Table, columns: Sequence[str],
               keys: Sequence[str], rows: Rows, strategy: str) -> None:
        """``replace`` (upsert) or ``ignore`` (skip existing keys) of every row."""
        self._executemany(conn, self._conflict_insert(table, columns, keys, strategy),
                          columns, rows)

    def _conflict_insert(self, table: sa.Table, columns: Sequence[str],
                         keys: Sequence[str], strategy: str) -> Any:
        """The dialect's INSERT that updates (replace) or skips (ignore) existing keys."""
        raise NotImplementedError(f"{type(self).__name__} has no upsert statement")

    def _create_staging(self, conn: Connection, target: sa.Table,
                        columns: Sequence[str]) -> sa.Table:
        """A session-temporary table with the target's column types."""
        stage = sa.Table(
            f"{self.staging_name}{secrets.token_hex(6)}", sa.MetaData(),
            *(sa.Column(c, target.c[c].type) for c in columns),
            prefixes=list(self.staging_prefixes),
        )
        stage.create(conn)
        return stage

    def _swap(self, conn: Connection, target: sa.Table, stage: sa.Table,
              columns: Sequence[str]) -> None:
        """Replace the target's content by the staging table's, inside the transaction.

        The rows move rather than the tables being renamed, so the target keeps its
        indexes, grants, triggers and dependent views, and on MySQL no DDL commits
        the transaction half-way.
        """
        conn.execute(sa.delete(target))
        conn.execute(sa.insert(target).from_select(
            list(columns), sa.select(*(stage.c[c] for c in columns))))
        stage.drop(conn)


def _batch_rows(item: tuple[int, Any, bool]) -> int:
    return item[0]


def _nothing() -> None:
    """No snapshot to release: a packet's parts are files."""


class _PartImport:
    """A packet set's parts as tasks for :func:`parallel.run_ordered`: each yields the
    bound columns of its batches."""

    def __init__(self, plan: WritePlan, parts: list[CellPart],
                 pack: Callable[[list[Sequence[Any]]], Any] | None,
                 lane: RowLane | None = None) -> None:
        self.plan = plan
        self.parts = parts
        self.pack = pack
        self.lane = lane
        self.tasks = len(parts)

    def open(self) -> None:
        """Nothing to join: the parts are read from their sources."""

    def run(self, task: int, first_row: int) -> Iterator[tuple[int, Any, bool]]:
        """(rows, bound columns or their packed form, False) per batch of the part, or
        (rows, what the lane prepared, True)."""
        lane = self.lane
        start = first_row  # row numbers of errors, when rerun here
        for cells in self.parts[task](rows=lane is not None):
            self.plan.rows = start
            if lane is not None and cells.rows is not None:
                yield len(cells), lane.prepare(cells, start), True
            else:
                columns = self.plan.prepare_cells(cells)
                yield len(cells), self.pack(columns) if self.pack is not None else columns, \
                    False
            start += len(cells)


class _RangeExport:
    """A whole-table export as key-range tasks for :func:`parallel.run_ordered`."""

    def __init__(self, adapter: SqlAdapter, meta: TableMeta, selects: list[sa.Select[Any]],
                 make: PacketRows, batch_size: int, anchor: Connection, token: str) -> None:
        self.adapter = adapter
        self.meta = meta
        self.selects = selects
        self.tasks = len(selects)
        self.make = make
        self.batch_size = batch_size
        self.anchor: Connection | None = anchor
        self.token = token
        self.conn: Connection | None = None

    def release(self) -> None:
        if self.anchor is not None:
            self.anchor.close()
            self.anchor = None

    def open(self) -> None:
        # A forked child must not touch the parent's pooled connections.
        self.adapter.engine.dispose(close=False)
        self.anchor = None
        self.conn = self.adapter.engine.connect()
        self.adapter._join_snapshot(self.conn, self.token)

    def run(self, task: int, first_row: int) -> Iterator[EncodedRows]:
        context: AbstractContextManager[Connection] = (
            nullcontext(self.conn) if self.conn is not None else self.adapter.engine.connect())
        with context as conn:
            yield from self.adapter._encode_select(conn, self.meta, self.selects[task],
                                                   self.make, self.batch_size, first_row)
