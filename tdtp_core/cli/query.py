"""``tdtp filter``, ``tdtp request`` and ``tdtp answer``: TDTQL queries on packet files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tdtp_core import inspect_packet, read_packets
from tdtp_core.cli import options
from tdtp_core.cli import processor_options as po
from tdtp_core.cli.packets import Packets
from tdtp_core.plugins import get_host
from tdtp_core.processors import apply
from tdtp_core.tdtql import parse
from tdtp_core.tdtql.query import ExecutionResults
from tdtp_core.tdtql.requests import answer_request, build_request, write_response

Output = Annotated[
    Path,
    typer.Option("--output", "-o", help="Output file; .csv writes CSV, else packets."),
]


def _packet_options(
    compress: str | None, compress_level: int, integrity: bool, part_size: int | None
) -> dict[str, Any]:
    given = {"compress": compress, "integrity": integrity or None, "part_size": part_size}
    if compress:
        given["compress_level"] = compress_level
    return {k: v for k, v in given.items() if v is not None}


def _report(table: str, results: ExecutionResults | None, written: list[Path],
            quiet: bool, json_out: bool, **extra: Any) -> None:
    numbers = {
        "total_records": results.total_records if results else None,
        "matched_records": results.matched_records if results else None,
        "returned_records": results.returned_records if results else None,
        "more_available": results.more_available if results else None,
        "next_offset": results.next_offset if results else None,
    }
    outputs = [str(p) for p in written]
    if json_out:
        typer.echo(json.dumps({"table": table, **extra, **numbers, "outputs": outputs},
                              indent=2, ensure_ascii=False))
    elif not quiet:
        counts = ""
        if results is not None:
            counts = (f"{results.returned_records} of {results.matched_records} matching "
                      f"row(s) ({results.total_records} read) ")
            if results.more_available:
                counts += f"[more from --offset {results.next_offset}] "
        typer.echo(f"Wrote {counts}of {table} to {', '.join(outputs)}")


def filter_packets(
    packets: Packets,
    output: Output,
    where: options.Where = None,
    order_by: options.OrderBy = None,
    limit: options.Limit = None,
    offset: options.Offset = None,
    compress: options.Compress = None,
    compress_level: options.CompressLevel = 3,
    integrity: options.Integrity = False,
    part_size: options.PartSize = None,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Filter, sort and page the rows of a packet set into a response packet (or CSV).

    Conditions: = != <> < <= > >=, [NOT] IN (…), [NOT] BETWEEN a AND b,
    [NOT] LIKE 'a%_' (case-sensitive), IS [NOT] NULL, AND, OR, NOT, parentheses.
    Strings in single quotes ('O''Brien'); odd field names in "…" or […].

    \b
    Examples:
      tdtp filter users.tdtp.xml -w "Balance > 1000 AND City = 'Moscow'" -o rich.tdtp.xml
      tdtp filter users.tdtp.xml -w "City IN ('Omsk', 'SPb')" -w "NOT IsActive = 1" -o x.csv
      tdtp filter big.tdtp.xml --order-by "CreatedAt DESC, ID" --limit 100 -o top.tdtp.xml
    """
    chain = po.processor_chain(mask, normalize, validate, process)
    query = parse(where=where, order_by=order_by, limit=limit, offset=offset)
    stream = read_packets(*packets)
    result = apply(query.apply(stream), chain)
    fmt = get_host().format_for_path(output)
    given = _packet_options(compress, compress_level, integrity, part_size)
    if fmt.name == "tdtp":
        written = write_response(result, output, **given)
    else:
        written = fmt.write(result, output, **given)
    _report(stream.table, result.query_context.results if result.query_context else None,
            written, quiet, json_out)


def request(
    table: Annotated[str, typer.Argument(help="The table the request asks for.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Request packet to write.")],
    where: options.Where = None,
    order_by: options.OrderBy = None,
    limit: options.Limit = None,
    offset: options.Offset = None,
    sender: Annotated[str | None, typer.Option(help="Header Sender.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Header Recipient.")] = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Write a request packet: a table name and a TDTQL query, no rows.

    \b
    Examples:
      tdtp request users -w "balance >= 1000" --order-by "balance DESC" --limit 100 \\
          --sender ClientApp --recipient ServerDB -o req.tdtp.xml
    """
    query = parse(where=where, order_by=order_by, limit=limit, offset=offset)
    path = build_request(table, query, output, sender=sender, recipient=recipient)
    if json_out:
        typer.echo(json.dumps({"table": table, "query": query.to_xml(),
                               "outputs": [str(path)]}, indent=2, ensure_ascii=False))
    elif not quiet:
        typer.echo(f"Wrote a request for {table} to {path}")


def answer(
    request_packet: Annotated[
        Path, typer.Argument(metavar="REQUEST", exists=True, dir_okay=False,
                             help="The request packet.")
    ],
    sources: Annotated[
        list[str], typer.Argument(metavar="SOURCE",
                                  help="Packet files holding the table, or a database URL.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Response packet to write.")],
    compress: options.Compress = None,
    compress_level: options.CompressLevel = 3,
    integrity: options.Integrity = False,
    part_size: options.PartSize = None,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Answer a request packet: run its query on packet files or in a database (as SQL)
    and write the response packet.

    \b
    Examples:
      tdtp answer req.tdtp.xml users.tdtp.xml -o resp.tdtp.xml
      tdtp answer req.tdtp.xml sqlite:///shop.db -o resp.tdtp.xml
    """
    chain = po.processor_chain(mask, normalize, validate, process)
    given = _packet_options(compress, compress_level, integrity, part_size)
    source = sources[0] if len(sources) == 1 and "://" in sources[0] else \
        [Path(s) for s in sources]
    written = answer_request(request_packet, source, output,
                             process=lambda result: apply(result, chain), **given)
    head = inspect_packet(written[0])
    context = head.query_context()
    _report(head.header.table_name, context.results if context else None, written, quiet,
            json_out, in_reply_to=head.header.in_reply_to)


def register(app: typer.Typer) -> None:
    app.command("filter", cls=po.ProcessingCommand)(filter_packets)
    app.command("request")(request)
    app.command("answer", cls=po.ProcessingCommand)(answer)
