"""Database commands: ``export``, ``import``, ``copy``, ``list``, ``inspect``, ``sync``,
``demo``.

A database is named by a SQLAlchemy URL or by a connection name from ``tdtp.yaml``;
its password never appears in output (``mask_url``). Summaries go to stdout, one line
each, or as one JSON object with ``--json``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tdtp_core import audit
from tdtp_core.cli import files, options
from tdtp_core.cli import processor_options as po
from tdtp_core.cli.progress import row_progress
from tdtp_core.errors import ConfigError
from tdtp_core.processors import apply
from tdtp_core.sql.urls import mask_url

if TYPE_CHECKING:
    from tdtp_core.packet.writer import PartResult
    from tdtp_core.protocols import Adapter, ImportResult
    from tdtp_core.sql import SqlAdapter
    from tdtp_core.stream import TableStream
    from tdtp_core.tdtql import Query

Url = Annotated[str, typer.Argument(metavar="URL",
                                    help="Database URL or a connection name from tdtp.yaml.")]
Table = Annotated[str, typer.Argument(metavar="TABLE", help="Table or view ([schema.]name).")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Packet file to write.")]
Create = Annotated[bool, typer.Option("--create",
                                      help="Create the table from the schema if missing.")]
Views = Annotated[bool, typer.Option("--views", help="List views instead of tables.")]


def open_adapter(url: str) -> Adapter:
    """The adapter for a URL or named connection (the plugin chosen by the scheme)."""
    from tdtp_core.config import resolve_url
    from tdtp_core.plugins import get_host

    return get_host().adapter_for_url(resolve_url(url))


def _sql_adapter(adapter: Adapter, what: str) -> SqlAdapter:
    from tdtp_core.sql import SqlAdapter

    if not isinstance(adapter, SqlAdapter):
        raise ConfigError(f"{what} needs a SQL database adapter, not {type(adapter).__name__}")
    return adapter


def _query(where: list[str] | None, order_by: str | None, limit: int | None,
           offset: int | None) -> Query | None:
    if not (where or order_by or limit or offset):
        return None
    from tdtp_core.tdtql import parse

    return parse(where=where, order_by=order_by, limit=limit, offset=offset)


class _Counter:
    """Counts the rows flowing through a stream and moves its progress bar; it watches
    (``stream.progress``) rather than wraps, so the stream keeps its fast lanes."""

    def __init__(self, advance: Callable[[int], None] | None = None) -> None:
        self.rows = 0
        self._advance = advance

    def __call__(self, rows: int) -> None:
        self.rows += rows
        if self._advance is not None:
            self._advance(rows)

    def watch(self, stream: TableStream) -> TableStream:
        stream.progress = self
        return stream


def _expected_rows(adapter: Adapter, table: str, stream: TableStream,
                   sql: str | None) -> int | None:
    """How many rows an export will send, for its progress bar (None: unknown)."""
    context = stream.query_context
    if context is not None and context.results is not None:
        return context.results.returned_records
    if sql is not None or stream.query is not None:
        return None
    return adapter.inspect(table).row_count


def _packet_rows(stream: TableStream) -> int | None:
    """Rows a packet set holds by its headers (None when a part does not say)."""
    counts = [p.header.records_in_part for p in stream.metadata.get("parts", [])]
    return sum(counts) if counts and all(counts) else None


def _say(summary: dict[str, Any], line: str, *, quiet: bool, json_out: bool) -> None:
    if json_out:
        typer.echo(json.dumps(summary, default=str))
    elif not quiet:
        typer.echo(line)


def _write(stream: TableStream, output: Path, *, query: Query | None = None,
           compress: str | None = None, compress_level: int = 3, integrity: bool = False,
           compact: bool = False, fixed_fields: str | None = None,
           part_size: int | None = None) -> list[PartResult]:
    from tdtp_core.packet.model import DIRECT_EXPORT
    from tdtp_core.packet.writer import WriteOptions, write_packet_files

    return write_packet_files(stream, output, WriteOptions(
        compress=compress, compress_level=compress_level,
        integrity=integrity, compact=compact, fixed_fields=options.split_names(fixed_fields),
        part_size=part_size, packet_type="response" if query else "reference",
        in_reply_to=DIRECT_EXPORT if query else None, query=query,
        query_context=stream.query_context if query else None,
    ))


def _audit_parts(entry: audit.AuditEntry, parts: list[PartResult]) -> None:
    """Record MessageIDs and hashes (never cell values) of what was written."""
    entry.message_ids = [p.message_id for p in parts]
    for p in parts:
        if p.hashes is not None:
            entry.hashes[p.message_id] = p.hashes.packet


def export(
    url: Url,
    table: Table,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Packet file to write.")] = None,
    to: Annotated[str | None, typer.Option(
        "--to", metavar="BROKER_URL",
        help="Publish the packets to a broker instead of writing files.")] = None,
    sql: Annotated[str | None, typer.Option(
        "--query", metavar="SELECT",
        help="Export the result of this read-only SELECT; TABLE names the packet.")] = None,
    where: options.Where = None,
    order_by: options.OrderBy = None,
    limit: options.Limit = None,
    offset: options.Offset = None,
    compress: options.Compress = None,
    compress_level: options.CompressLevel = 3,
    integrity: options.Integrity = False,
    compact: options.Compact = False,
    fixed_fields: options.FixedFields = None,
    part_size: options.PartSize = None,
    sheet: options.Sheet = None,
    csv_delimiter: options.CsvDelimiter = None,
    csv_quoting: options.CsvQuoting = None,
    csv_encoding: options.CsvEncoding = None,
    csv_no_header: options.CsvNoHeader = False,
    csv_schema: options.CsvSchema = None,
    csv_no_schema: options.CsvNoSchema = False,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Export a table (filtered, sorted and paged by the database) to packet files, a
    CSV file or a workbook (by the extension of --output), or straight to a broker.

    Examples:

      tdtp export sqlite:///shop.db orders -o orders.tdtp.xml

      tdtp export shop orders -o big.tdtp.xml --where "total > 100" --compress zstd

      tdtp export shop report -o r.tdtp.xml --query "SELECT id, total FROM orders"

      tdtp export shop orders -o orders.csv --csv-delimiter ";"

      tdtp export shop orders --to "amqp://guest:guest@localhost/%2F?queue=orders"
    """
    chain = po.processor_chain(mask, normalize, validate, process)
    if (output is None) == (to is None):
        raise ConfigError("give exactly one of --output FILE and --to BROKER_URL")
    csv = files.CsvOptions(csv_delimiter, csv_quoting, csv_encoding, csv_no_header,
                           csv_schema, csv_no_schema)
    sink = files.format_of(output) if output is not None else None
    csv.check_used(sink.name if sink is not None else "broker")
    if sheet and not files.holds_sheets(sink):
        raise ConfigError("--sheet names a workbook sheet, and the output is no workbook")
    adapter = open_adapter(url)
    query = _query(where, order_by, limit, offset)
    if sql is not None:
        if query is not None:
            raise ConfigError("--query cannot be combined with --where/--order-by/--limit/"
                              "--offset: put them in the SELECT")
        stream = _sql_adapter(adapter, "--query").read_sql(sql, table=table)
    else:
        stream = adapter.read(table, query)
    stream = apply(stream, chain)
    with row_progress(f"export {stream.table}",
                      lambda: _expected_rows(adapter, table, stream, sql),
                      quiet=quiet) as advance:
        counter = _Counter(advance)
        if to is not None:
            from tdtp_core.brokers import send_stream
            from tdtp_core.resilience import load_resilience

            sent = send_stream(counter.watch(stream), to, resilience=load_resilience(),
                               source=mask_url(url), compress=compress,
                               compress_level=compress_level, integrity=integrity,
                               compact=compact, fixed_fields=options.split_names(fixed_fields),
                               part_size=part_size)
        else:
            assert output is not None and sink is not None
            with audit.operation("export", source=mask_url(url), target=str(output),
                                 table=stream.table) as entry:
                if sink.name == files.PACKET:
                    parts = _write(counter.watch(stream), output, query=query,
                                   compress=compress, compress_level=compress_level,
                                   integrity=integrity, compact=compact,
                                   fixed_fields=fixed_fields, part_size=part_size)
                    _audit_parts(entry, parts)
                    written = [p.path for p in parts if p.path is not None]
                else:
                    packet = files.packet_options(
                        compress=compress, compress_level=compress_level,
                        integrity=integrity, compact=compact,
                        fixed_fields=options.split_names(fixed_fields), part_size=part_size)
                    written = sink.write(counter.watch(stream), output, **files.write_options(
                        sink, packet, sheet=sheet, csv=csv))
                entry.rows = counter.rows
    if to is not None:
        _say(sent.as_dict(), f"Sent {counter.rows} row(s) of {stream.table} to "
             f"{mask_url(to)} as {sent.messages} message(s)", quiet=quiet, json_out=json_out)
        return
    paths = [str(p) for p in written]
    _say({"table": stream.table, "rows": counter.rows, "files": paths},
         f"Exported {counter.rows} row(s) of {stream.table} to {', '.join(paths)}",
         quiet=quiet, json_out=json_out)


def import_packets(
    args: Annotated[list[str], typer.Argument(
        metavar="PACKET... URL", help="Packet files (parts of a set in any order), then the "
                                      "database URL or connection name.")],
    table: Annotated[str | None, typer.Option(
        "--table", help="Import into this table instead of the packet's.")] = None,
    strategy: options.StrategyOption = options.Strategy.REPLACE,
    create: Create = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Import even a packet set the ledger says is already imported.")
    ] = False,
    sheet: options.Sheet = None,
    csv_delimiter: options.CsvDelimiter = None,
    csv_quoting: options.CsvQuoting = None,
    csv_encoding: options.CsvEncoding = None,
    csv_no_header: options.CsvNoHeader = False,
    csv_schema: options.CsvSchema = None,
    csv_no_schema: options.CsvNoSchema = False,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Import packets, CSV files or a workbook into tables: each packet set (each sheet)
    in one transaction, all or nothing.

    A workbook with several sheets imports every visible sheet into the table of its
    name, unless --sheet picks one. A set already imported (its MessageIDs are in the
    target's tdtp_import_ledger table) is skipped unless --force. A reject packet
    (--validate's on_error: reject) imports as rows of its table, the reject_* fields
    left out.

    Examples:

      tdtp import orders.tdtp.xml sqlite:///copy.db --create

      tdtp import orders_part_*_of_3.tdtp.xml shop --strategy copy

      tdtp import people.csv shop --table people --csv-delimiter ";" --create

      tdtp import book.xlsx sqlite:///shop.db --create

      tdtp import book.xlsx sqlite:///shop.db --sheet Orders --table orders --create
    """
    from tdtp_core.packet.rejects import table_rows

    chain = po.processor_chain(mask, normalize, validate, process)
    if len(args) < 2:
        raise typer.BadParameter("give at least one packet file and a database URL")
    *names, url = args
    paths = [Path(f) for f in names]
    for path in paths:
        if not path.is_file():
            raise typer.BadParameter(f"packet file {path} not found")
    csv = files.CsvOptions(csv_delimiter, csv_quoting, csv_encoding, csv_no_header,
                           csv_schema, csv_no_schema)
    csv.check_used(files.format_of(paths[0]).name)
    tables = files.sources(paths, sheet=sheet, table=table, csv=csv)
    adapter = open_adapter(url)
    results: list[ImportResult] = []
    for source in tables:
        with audit.operation("import", source=source.label, target=mask_url(url)) as entry:
            # A reject packet as rows of its table, before any processor sees them (so
            # --validate checks the table's fields and rejects them without the reject
            # fields twice).
            stream = apply(table_rows(source.open()), chain)
            entry.table = table or stream.table
            with row_progress(f"import {entry.table}", partial(_packet_rows, stream),
                              quiet=quiet) as advance:
                stream.progress = advance
                result = adapter.write(stream, table=table, strategy=str(strategy.value),
                                       create=create, force=force)
            entry.rows = result.rows
            entry.message_ids = list(result.message_ids)
            entry.details["strategy"] = result.strategy
            if result.skipped_duplicate:
                entry.outcome = "duplicate"
        results.append(result)
        if not json_out and not quiet:
            typer.echo(_import_line(result))
    if json_out:
        typer.echo(json.dumps([_result_dict(r) for r in results]))


def _import_line(result: ImportResult) -> str:
    ids = ", ".join(result.message_ids[:1]) + (" …" if len(result.message_ids) > 1 else "")
    if result.skipped_duplicate:
        return f"Skipped {ids}: already imported into {result.table} (use --force)"
    made = " (table created)" if result.created else ""
    return f"Imported {result.rows} row(s) into {result.table}{made} [{result.strategy}]"


def _result_dict(result: ImportResult) -> dict[str, Any]:
    return {"table": result.table, "rows": result.rows, "strategy": result.strategy,
            "created": result.created, "skipped_duplicate": result.skipped_duplicate,
            "message_ids": list(result.message_ids)}


def copy(
    source: Annotated[str, typer.Argument(metavar="SRC_URL", help="Source database.")],
    table: Table,
    target: Annotated[str, typer.Argument(metavar="DST_URL", help="Target database.")],
    to_table: Annotated[str | None, typer.Option(
        "--to-table", help="Target table name (default: the same).")] = None,
    strategy: options.StrategyOption = options.Strategy.REPLACE,
    create: Create = False,
    where: options.Where = None,
    order_by: options.OrderBy = None,
    limit: options.Limit = None,
    offset: options.Offset = None,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Copy a table between databases, streaming rows (no packet files), atomically.

    Example:

      tdtp copy sqlite:///shop.db orders postgresql://app@db/shop --create
    """
    chain = po.processor_chain(mask, normalize, validate, process)
    src = open_adapter(source)
    dst = open_adapter(target)
    stream = apply(src.read(table, _query(where, order_by, limit, offset)), chain)
    name = to_table or stream.table.rpartition(".")[2]
    with audit.operation("copy", source=mask_url(source), target=mask_url(target),
                         table=name) as entry, \
            row_progress(f"copy {stream.table}",
                         lambda: _expected_rows(src, table, stream, None),
                         quiet=quiet) as advance:
        stream.progress = advance
        result = dst.write(stream, table=name, strategy=str(strategy.value), create=create)
        entry.rows = result.rows
    _say(_result_dict(result), _import_line(result), quiet=quiet, json_out=json_out)


def list_tables(url: Url, views: Views = False, json_out: options.Json = False) -> None:
    """List the tables (or views) of a database; other schemas as schema.name."""
    names = open_adapter(url).list_tables(views=views)
    if json_out:
        typer.echo(json.dumps(names))
    else:
        for name in names:
            typer.echo(name)


def inspect(url: Url, table: Table, json_out: options.Json = False) -> None:
    """Show a table's columns: native and TDTP types, keys, nullability, row count."""
    info = open_adapter(url).inspect(table)
    columns = [
        {"name": f.name, "type": f.type, "native_type": info.native_types.get(f.name),
         "nullable": info.nullable.get(f.name), "key": f.key, "length": f.length,
         "precision": f.precision, "scale": f.scale, "subtype": f.subtype,
         "timezone": f.timezone}
        for f in info.schema
    ]
    if json_out:
        typer.echo(json.dumps({"table": info.name, "view": info.is_view,
                               "rows": info.row_count, "columns": columns}))
        return
    kind = "view" if info.is_view else "table"
    typer.echo(f"{kind} {info.name}: {info.row_count} row(s)")
    width = max(len(f.name) for f in info.schema)
    for f in info.schema:
        tdtp = f.type + (f"({f.subtype})" if f.subtype else "")
        flags = " ".join(x for x in ("KEY" if f.key else "",
                                     "" if info.nullable.get(f.name, True) else "NOT NULL") if x)
        native = info.native_types.get(f.name, "")
        typer.echo(f"  {f.name:<{width}}  {native:<28} {tdtp:<22} {flags}".rstrip())


def sync(
    url: Url,
    table: Table,
    tracking_column: Annotated[str, typer.Option(
        "--tracking-column", "-t", help="Column that grows with every change (id, time).")],
    out_dir: Annotated[Path, typer.Option(
        "--output", "-o", file_okay=False, help="Directory for the packets and the state.")],
    reset: Annotated[bool, typer.Option(
        "--reset", help="Forget the watermark: export everything again.")] = False,
    state_file: Annotated[Path | None, typer.Option(
        "--state-file", help="Where the watermark is kept (default DIR/.tdtp-sync.json).")
    ] = None,
    limit: Annotated[int | None, typer.Option(
        "--limit", "-l", min=1, help="Export at most N rows per run.")] = None,
    compress: options.Compress = None,
    integrity: options.Integrity = False,
    part_size: options.PartSize = None,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Export the rows added since the last run (first run: all) and move the watermark.

    Example:

      tdtp sync shop orders --tracking-column updated_at -o exports/
    """
    from tdtp_core.sql.sync import sync_table

    chain = po.processor_chain(mask, normalize, validate, process)
    adapter = _sql_adapter(open_adapter(url), "sync")

    def write(stream: TableStream, path: Path) -> list[Path]:
        parts = _write(apply(stream, chain), path, compress=compress, integrity=integrity,
                       part_size=part_size)
        return [p.path for p in parts if p.path is not None]

    result = sync_table(adapter, table, tracking_column, out_dir, write,
                        state_file=state_file, reset=reset, limit=limit)
    summary = {"table": result.table, "rows": result.rows,
               "files": [str(p) for p in result.files], "previous": result.previous,
               "watermark": result.watermark, "first_run": result.first_run}
    if result.rows == 0:
        line = "No new changes to sync"
    else:
        line = (f"Synced {result.rows} row(s) of {result.table} to "
                f"{', '.join(str(p) for p in result.files)}; watermark {result.watermark}")
    _say(summary, line, quiet=quiet, json_out=json_out)


def demo(
    directory: Annotated[Path | None, typer.Argument(
        metavar="[DIR]", file_okay=False, help="Where to create the demo (default: temp).")
    ] = None,
) -> None:
    """Create a sample SQLite database, export a filtered table with compression and
    integrity hashes, import it into a second database, and say what happened."""
    where = directory or Path(tempfile.mkdtemp(prefix="tdtp-demo-"))
    where.mkdir(parents=True, exist_ok=True)
    source = f"sqlite:///{where / 'shop.db'}"
    target = f"sqlite:///{where / 'copy.db'}"
    rows = build_demo(open_adapter(source))
    typer.echo(f"1. Created {where / 'shop.db'}: table orders with {rows} rows")
    query = _query(["total > 100"], "id", None, None)
    compress = _available_codec("zstd")
    packet = where / "orders.tdtp.xml"
    counter = _Counter()
    parts = _write(counter.watch(open_adapter(source).read("orders", query)), packet,
                   query=query, compress=compress, integrity=True)
    paths = [p.path for p in parts if p.path is not None]
    how = f"{compress}-compressed" if compress else "uncompressed (no zstd codec installed)"
    typer.echo(f"2. Exported {counter.rows} orders with total > 100 to {paths[0]} "
               f"({how}, with xxh3 integrity hashes)")
    from tdtp_core import read_packets

    result = open_adapter(target).write(read_packets(*paths), create=True)
    typer.echo(f"3. Imported {result.rows} row(s) into {where / 'copy.db'} table "
               f"{result.table} in one transaction, recorded in tdtp_import_ledger")
    again = open_adapter(target).write(read_packets(*paths))
    typer.echo("4. Imported the same packet again: "
               + ("skipped, the ledger knew its MessageID" if again.skipped_duplicate
                  else f"{again.rows} row(s) written"))
    typer.echo(f"Try: tdtp inspect {target} orders")


def build_demo(adapter: Adapter, rows: int = 200) -> int:
    """Fill table ``orders`` with ``rows`` deterministic sample orders (replacing any)."""
    from datetime import date, datetime, timedelta
    from decimal import Decimal

    from tdtp_core.stream import TableStream
    from tdtp_core.types import Field, Schema

    schema = Schema([
        Field("id", "INTEGER", key=True), Field("customer", "TEXT"),
        Field("total", "DECIMAL", precision=10, scale=2), Field("paid", "BOOLEAN"),
        Field("ordered", "DATE"), Field("updated_at", "TIMESTAMP", timezone="UTC"),
        Field("note", "TEXT"),
    ])
    names = ["Ada", "Grace", "Linus", "Zoë", "Ωmega Ltd", "O'Brien & Sons"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    data = [
        (i, names[i % len(names)], Decimal(i * 7919 % 25000) / 100, i % 3 != 0,
         date(2026, 1, 1) + timedelta(days=i % 90), start + timedelta(minutes=37 * i),
         None if i % 5 else f"note | {i}")
        for i in range(1, rows + 1)
    ]
    adapter.write(TableStream.from_rows(schema, data, table="orders"), strategy="copy",
                  create=True)
    return rows


def _available_codec(name: str) -> str | None:
    from tdtp_core.plugins import get_host

    return name if name in get_host().codecs else None


def register(app: typer.Typer) -> None:
    app.command("export", cls=po.ProcessingCommand)(export)
    app.command("import", cls=po.ProcessingCommand)(import_packets)
    app.command("copy", cls=po.ProcessingCommand)(copy)
    app.command("list")(list_tables)
    app.command("inspect")(inspect)
    app.command("sync", cls=po.ProcessingCommand)(sync)
    app.command("demo")(demo)

