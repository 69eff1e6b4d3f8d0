"""``tdtp show``, ``tdtp verify`` and ``tdtp convert``: commands on packet files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tdtp_core import inspect_packet, read_packets
from tdtp_core.cli import files, options
from tdtp_core.cli import processor_options as po
from tdtp_core.cli.main import error_line
from tdtp_core.errors import ConfigError, TdtpError
from tdtp_core.formats.schema_json import schema_to_dict
from tdtp_core.processors import apply
from tdtp_core.values import format_value

if TYPE_CHECKING:
    from tdtp_core.packet.reader import PacketInfo
    from tdtp_core.stream import Batch, TableStream
    from tdtp_core.types import Schema

Packets = Annotated[
    list[Path],
    typer.Argument(
        metavar="PACKET", exists=True, dir_okay=False,
        help="Packet files; the parts of one set are read together, in any order.",
    ),
]


def packet_sets(paths: list[Path]) -> list[list[Path]]:
    """Group files by export set (MessageID base), keeping the order they were given.

    A file whose head cannot be read forms a set of its own, so reading it reports the
    problem with its name.
    """
    if len(paths) == 1:
        return [paths]  # the reader finds the other parts of a set itself
    groups: dict[str, list[Path]] = {}
    for path in paths:
        try:
            key = inspect_packet(path).header.batch_id
        except TdtpError:
            key = f"\0{path}"
        groups.setdefault(key, []).append(path)
    return list(groups.values())


def _parts(stream: TableStream) -> list[PacketInfo]:
    parts: list[PacketInfo] = stream.metadata["parts"]
    return parts


def _describe(stream: TableStream) -> dict[str, Any]:
    """What a packet set says about itself: files, header, encoding and schema."""
    parts = _parts(stream)
    first = parts[0]
    h = first.header
    return {
        "files": [p.source for p in parts],
        "protocol_version": first.version,
        "type": h.packet_type,
        "table": h.table_name,
        "message_id": h.message_id,
        "timestamp": h.timestamp_text or h.timestamp.isoformat(),
        "in_reply_to": h.in_reply_to,
        "sender": h.sender,
        "recipient": h.recipient,
        "parts": len(parts),
        "declared_rows": sum(p.header.records_in_part for p in parts),
        "compression": first.data.compression,
        "compact": first.data.compact,
        "integrity": first.root_xxh3 is not None,
        "schema": schema_to_dict(stream.schema, stream.table)["fields"],
        **_query_facts(stream),
    }


def _query_facts(stream: TableStream) -> dict[str, Any]:
    """A request's ``Query`` and a response's ``QueryContext``, as TDTQL text and counts."""
    from tdtp_core.tdtql.text import describe_context, describe_query

    facts: dict[str, Any] = {}
    if stream.query is not None:
        facts["query"] = describe_query(stream.query)
    if stream.query_context is not None:
        facts["query_context"] = describe_context(stream.query_context)
    return facts


def _query_lines(query: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(key.replace("_", " "), ", ".join(value) if key == "fields" else value)
            for key, value in query.items()]


def _context_lines(context: dict[str, Any]) -> list[tuple[str, Any]]:
    counts = (f"{context['returned_records']} returned of {context['matched_records']} "
              f"matched ({context['total_records']} in the table)"
              if "returned_records" in context else None)
    if counts and context["more_available"]:
        counts += f", more from offset {context['next_offset']}"
    answered = _query_lines(context.get("query", {}))
    return [(f"answered {label}", value) for label, value in answered] + [("results", counts)]


def _files(files: list[str]) -> str:
    """``a.xml`` or ``a_part_1_of_3.xml (+2 parts)``: one line, however many parts."""
    return files[0] if len(files) == 1 else f"{files[0]} (+{len(files) - 1} parts)"


def _cells(schema: Schema, rows: list[tuple[Any, ...]]) -> list[list[str | None]]:
    return [
        [None if v is None else format_value(f, v) for f, v in zip(schema, row, strict=True)]
        for row in rows
    ]


def show(
    packets: Packets,
    rows: Annotated[int, typer.Option("--rows", "-n", min=0, help="Rows to show.")] = 10,
    json_out: options.Json = False,
) -> None:
    """Show a packet's header, schema and first rows (and the query a request asks or a
    response answered).

    \b
    Examples:
      tdtp show users.tdtp.xml
      tdtp show users.tdtp_part_1_of_3.xml --rows 50
      tdtp show users.tdtp.xml --json --rows 0
    """
    shown = []
    for paths in packet_sets(packets):
        stream = read_packets(*paths)
        info = _describe(stream)
        info["rows"] = _cells(stream.schema, list(islice(stream, rows)))
        shown.append(info)
    if json_out:
        typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        for info in shown:
            _print_set(info)


def _print_set(info: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    console.print(Text(_files(info["files"]), style="bold"))
    facts = [
        ("table", info["table"]), ("type", info["type"]), ("message", info["message_id"]),
        ("time", info["timestamp"]), ("in reply to", info["in_reply_to"]),
        ("sender", info["sender"]), ("recipient", info["recipient"]),
        ("protocol", f"TDTP {info['protocol_version']}"), ("parts", info["parts"]),
        ("rows", info["declared_rows"]), ("compression", info["compression"]),
        ("compact", "yes" if info["compact"] else None),
        ("integrity", "xxh3" if info["integrity"] else None),
    ]
    facts += _query_lines(info.get("query", {}))
    facts += _context_lines(info["query_context"]) if "query_context" in info else []
    for label, value in facts:
        if value is not None:
            console.print(f"  {label}: {value}", highlight=False, markup=False)
    schema = Table("#", "field", "type", "attributes", title="schema", title_justify="left")
    for i, f in enumerate(info["schema"], 1):
        attrs = ", ".join(f"{k}={v}" for k, v in f.items() if k not in ("name", "type"))
        schema.add_row(str(i), f["name"], f["type"], attrs)
    console.print(schema)
    if info["rows"]:
        data = Table(*(f["name"] for f in info["schema"]),
                     title=f"first {len(info['rows'])} rows", title_justify="left")
        for row in info["rows"]:
            data.add_row(*(Text("NULL", style="dim") if c is None else Text(c) for c in row))
        console.print(data)


def verify(packets: Packets, json_out: options.Json = False) -> None:
    """Check packets: XML structure, checksums, integrity hashes, every cell, part sets.

    Prints "OK ..." per packet set; any failure prints one line naming the file, part
    and row, and the exit code tells its kind.

    \b
    Examples:
      tdtp verify users.tdtp.xml
      tdtp verify exports/*.xml
    """
    results: list[dict[str, Any]] = []
    exit_code = 0
    for paths in packet_sets(packets):
        try:
            stream = read_packets(*paths, verify=True)
            count = sum(len(batch) for batch in stream.batches())
        except TdtpError as err:
            if err.where is None:
                err.at(str(paths[0]))
            typer.echo(error_line(err), err=True)
            exit_code = exit_code or err.exit_code
            results.append({"files": [str(p) for p in paths], "ok": False,
                            "error": {"kind": err.kind, "message": str(err),
                                      "exit_code": err.exit_code}})
            continue
        info = _describe(stream)
        results.append({"files": info["files"], "ok": True, "table": info["table"],
                        "parts": info["parts"], "rows": count})
        if not json_out:
            extras = "".join(
                f", {x}" for x, on in (
                    (f"compressed {info['compression']}", info["compression"]),
                    ("compact", info["compact"]), ("xxh3 hashes", info["integrity"]),
                ) if on
            )
            typer.echo(f"OK {_files(info['files'])}: table {info['table']}, "
                       f"{info['parts']} part(s), {count} row(s){extras}")
    if json_out:
        typer.echo(json.dumps(results, indent=2, ensure_ascii=False))
    if exit_code:
        raise typer.Exit(exit_code)


def convert(
    inputs: Annotated[
        list[Path],
        typer.Argument(metavar="INPUT", exists=True, dir_okay=False,
                       help="Packet files (one or more sets), CSV files of one table, or a "
                            "workbook."),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Output file; its extension picks the format "
                     "(.tdtp.xml / .xml packets, .csv, .xlsx)."),
    ],
    compress: options.Compress = None,
    compress_level: options.CompressLevel = 3,
    integrity: options.Integrity = False,
    compact: options.Compact = False,
    fixed_fields: options.FixedFields = None,
    part_size: options.PartSize = None,
    sheet: options.Sheet = None,
    table: options.TableName = None,
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
    """Convert tables between files: re-encode packets, or packets to and from CSV and
    workbooks. Several packet sets (or every sheet of a workbook) go to one workbook, a
    sheet per table.

    \b
    Examples:
      tdtp convert users.tdtp.xml -o users.zst.tdtp.xml --compress zstd --integrity
      tdtp convert big.tdtp.xml -o parts/big.tdtp.xml --part-size 1MB
      tdtp convert users.tdtp.xml -o users.csv
      tdtp convert users.csv -o users.tdtp.xml --csv-delimiter ";" --csv-encoding cp1251
      tdtp convert orders.tdtp.xml -o orders.c.tdtp.xml --compact --fixed-fields region
      tdtp convert users.tdtp.xml -o safe.tdtp.xml --mask email:email --mask phone:phone
      tdtp convert users.tdtp.xml -o users.xlsx --sheet People
      tdtp convert users.tdtp.xml orders.tdtp.xml -o shop.xlsx
      tdtp convert book.xlsx --sheet Orders --table orders -o orders.tdtp.xml
    """
    chain = po.processor_chain(mask, normalize, validate, process)
    csv = files.CsvOptions(csv_delimiter, csv_quoting, csv_encoding, csv_no_header,
                           csv_schema, csv_no_schema)
    sink = files.format_of(output)
    csv.check_used(files.format_of(inputs[0]).name, sink.name)
    tables = files.sources(inputs, sheet=sheet, table=table, csv=csv)
    packet = files.packet_options(
        compress=compress, compress_level=compress_level, integrity=integrity,
        compact=compact, fixed_fields=options.split_names(fixed_fields), part_size=part_size)
    counter = _Counter()
    names: list[str] = []

    def opened(source: files.Source) -> TableStream:
        stream = apply(source.open(), chain)
        names.append(stream.table)
        return stream.derive(counter.count(stream.batches()))

    if len(tables) == 1:
        given = files.write_options(sink, packet, sheet=sheet, csv=csv)
        written = sink.write(opened(tables[0]), output, **given)
    else:
        book = files.multi_table_format(output, len(tables))
        if sheet:
            raise ConfigError(f"--sheet names one sheet, but the inputs hold {len(tables)} "
                              "tables: each goes to a sheet named after its table")
        given = files.write_options(book, packet, sheet=None, csv=csv)
        written = book.write_tables((opened(t) for t in tables), output, **given)
    if json_out:
        typer.echo(json.dumps({"inputs": [str(p) for p in inputs], "table": ", ".join(names),
                               "tables": names, "rows": counter.rows,
                               "outputs": [str(p) for p in written]}, indent=2))
    elif not quiet:
        typer.echo(f"Wrote {counter.rows} row(s) of {', '.join(names)} to "
                   f"{', '.join(str(p) for p in written)}")


class _Counter:
    """Counts rows as they stream past, for the summary line."""

    def __init__(self) -> None:
        self.rows = 0

    def count(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        for batch in batches:
            self.rows += len(batch)
            yield batch


def register(app: typer.Typer) -> None:
    app.command("show")(show)
    app.command("verify")(verify)
    app.command("convert", cls=po.ProcessingCommand)(convert)
