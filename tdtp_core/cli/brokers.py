"""``tdtp send``, ``listen``, ``receive``, ``dlq`` and ``audit``: packets over brokers.

Broker URLs: ``amqp://user:password@host:5672/%2F?queue=orders`` (RabbitMQ) and
``kafka://host:9092/orders?group=importers`` (Kafka); a name from ``tdtp.yaml``'s
``connections:`` works too, so passwords stay out of shell history.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tdtp_core.cli import options
from tdtp_core.cli import processor_options as po
from tdtp_core.errors import ConfigError

if TYPE_CHECKING:
    from tdtp_core.resilience import ResilienceConfig

# ----------------------------------------------------------------- shared options

BrokerUrl = Annotated[str, typer.Argument(
    metavar="BROKER_URL", help="amqp://…?queue=NAME or kafka://host:port/TOPIC, or a name "
                               "from tdtp.yaml.")]
TargetUrl = Annotated[str, typer.Argument(
    metavar="TARGET_URL", help="Database URL (or tdtp.yaml name) to import into.")]
DlqLocation = Annotated[str, typer.Argument(
    metavar="DLQ", help="Dead-letter queue: a directory, or a broker URL "
                        "(default of a listener: <queue>.dlq / <topic>.dlq).")]
Retries = Annotated[int | None, typer.Option(
    "--retries", min=1, rich_help_panel="Resilience",
    help="Attempts per call for transient failures, the first included "
         "(default: tdtp.yaml resilience.retry, else 5).")]
RetryTime = Annotated[float | None, typer.Option(
    "--retry-time", min=0, metavar="SECONDS", rich_help_panel="Resilience",
    help="Give up retrying a call after this long (0: attempts only).")]
BreakerThreshold = Annotated[int | None, typer.Option(
    "--breaker-threshold", min=1, rich_help_panel="Resilience",
    help="Consecutive transient failures that open an endpoint's circuit.")]
BreakerCooldown = Annotated[float | None, typer.Option(
    "--breaker-cooldown", min=0.001, metavar="SECONDS", rich_help_panel="Resilience",
    help="How long an open circuit fails fast before one probe is let through.")]
Ids = Annotated[list[str] | None, typer.Option(
    "--id", metavar="ID", help="Only this dead letter (repeat for several).")]


def _url(name_or_url: str) -> str:
    from tdtp_core.config import resolve_url

    return resolve_url(name_or_url)


def _resilience(retries: int | None, retry_time: float | None,
                threshold: int | None, cooldown: float | None) -> ResilienceConfig:
    from tdtp_core.resilience import load_resilience

    return load_resilience().override(retries=retries, retry_max_time=retry_time,
                                      breaker_threshold=threshold,
                                      breaker_cooldown=cooldown)


def _logging(quiet: bool) -> None:
    """Progress and warnings of the broker machinery on stderr, one line each."""
    logger = logging.getLogger("tdtp")
    if not any(getattr(h, "_tdtp_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("tdtp: %(message)s"))
        handler._tdtp_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def _emit(data: Any, json_out: bool, text: str, quiet: bool) -> None:
    if json_out:
        typer.echo(json.dumps(data, indent=2, default=str))
    elif not quiet:
        typer.echo(text)


# ------------------------------------------------------------------------ commands


def send(
    args: Annotated[list[str], typer.Argument(
        metavar="PACKET... BROKER_URL",
        help="Packet files (a part or base name brings its whole set), then the broker.")],
    retries: Retries = None,
    retry_time: RetryTime = None,
    breaker_threshold: BreakerThreshold = None,
    breaker_cooldown: BreakerCooldown = None,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Publish packets to a broker, one message per part.

    Each publish waits for the broker's confirmation and is retried (with a reconnect) if
    the broker goes away. Parts larger than the broker's message limit are re-written
    smaller first.

    With processors (--mask …) the packets are decoded, processed and re-encoded;
    without, their bytes are sent as they are.

    Example: tdtp send orders.tdtp.xml "amqp://app:secret@mq:5672/%2F?queue=orders"
    """
    from tdtp_core.brokers.sending import send_packets, send_stream

    chain = po.processor_chain(mask, normalize, validate, process)
    if len(args) < 2:
        raise typer.BadParameter("give at least one packet and the broker URL")
    *packets, broker = args
    _logging(quiet)
    resilience = _resilience(retries, retry_time, breaker_threshold, breaker_cooldown)
    if len(chain):
        from tdtp_core import read_packets
        from tdtp_core.processors import apply

        result = send_stream(apply(read_packets(*packets), chain), _url(broker),
                             resilience=resilience, source=packets[0])
    else:
        result = send_packets(packets, _url(broker), resilience=resilience)
    _emit(result.as_dict(), json_out,
          f"sent {result.messages} message(s), {result.rows} row(s) in "
          f"{len(result.sets)} set(s) to {result.broker}", quiet)


def listen(
    broker: BrokerUrl,
    target: TargetUrl,
    table: Annotated[str | None, typer.Option(
        "--table", "-t", help="Import into this table instead of the packets' own.")] = None,
    strategy: options.StrategyOption = options.Strategy.REPLACE,
    create: Annotated[bool, typer.Option(
        "--create", help="Create the table from the packet schema if missing.")] = False,
    max_messages: Annotated[int | None, typer.Option(
        "--max-messages", min=1, help="Stop after N messages.")] = None,
    idle_timeout: Annotated[float | None, typer.Option(
        "--idle-timeout", min=0, metavar="SECONDS",
        help="Stop when no message arrived for this long (default: run until "
             "Ctrl-C/SIGTERM).")] = None,
    dlq: Annotated[str | None, typer.Option(
        "--dlq", metavar="DIR|URL",
        help="Dead-letter destination (default: the broker's <queue>.dlq / "
             "<topic>.dlq).")] = None,
    set_timeout: Annotated[float, typer.Option(
        "--set-timeout", min=1, metavar="SECONDS",
        help="Dead-letter a part set still incomplete after this long.")] = 300.0,
    retries: Retries = None,
    retry_time: RetryTime = None,
    breaker_threshold: BreakerThreshold = None,
    breaker_cooldown: BreakerCooldown = None,
    mask: po.Mask = None,
    normalize: po.Normalize = None,
    validate: po.Validate = None,
    process: po.Process = None,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Import packet sets from a broker as they arrive, exactly once in effect.

    A set is acknowledged only after its import committed; a redelivered set is
    skipped through the target's import ledger. Sets that cannot be imported go, with
    the reason, to the dead-letter queue. Ctrl-C or SIGTERM finish the current set,
    then stop.

    Example: tdtp listen "kafka://kafka:9092/orders?group=dwh" postgresql://dwh/sales
    """
    from tdtp_core.brokers.listener import listen as run

    chain = po.processor_chain(mask, normalize, validate, process)
    _logging(quiet)
    stats = run(_url(broker), _url(target), table=table, strategy=strategy.value,
                create=create, max_messages=max_messages, idle_timeout=idle_timeout,
                dlq=dlq, set_timeout=set_timeout, processors=list(chain),
                resilience=_resilience(retries, retry_time, breaker_threshold,
                                       breaker_cooldown))
    _emit(stats.as_dict(), json_out,
          f"{stats.sets_imported} set(s) imported ({stats.rows} rows), "
          f"{stats.sets_duplicate} duplicate, {stats.sets_dead_lettered} dead-lettered, "
          f"{stats.sets_requeued} left for retry; stopped by {stats.stopped_by}", quiet)


def receive(
    broker: BrokerUrl,
    output: Annotated[Path, typer.Option(
        "--output", "-o", file_okay=False, help="Directory to write the packets to.")],
    max_messages: Annotated[int | None, typer.Option(
        "--max-messages", min=1, help="Stop after N messages.")] = None,
    idle_timeout: Annotated[float, typer.Option(
        "--idle-timeout", min=0, metavar="SECONDS",
        help="Stop when no message arrived for this long.")] = 5.0,
    quiet: options.Quiet = False,
    json_out: options.Json = False,
) -> None:
    """Write the packets waiting on a broker to files, acknowledging each once written.

    Example: tdtp receive "amqp://mq/%2F?queue=orders" -o inbox/
    """
    from tdtp_core.brokers.receiving import receive as run

    _logging(quiet)
    result = run(_url(broker), output, max_messages=max_messages, idle_timeout=idle_timeout)
    _emit(result.as_dict(), json_out,
          f"wrote {len(result.files)} packet file(s) to {output}"
          + (f" ({result.damaged} damaged)" if result.damaged else ""), quiet)


# -------------------------------------------------------------------------------- dlq

dlq_app = typer.Typer(help="Inspect, replay and purge dead letters.",
                      no_args_is_help=True, rich_markup_mode=None)


@dlq_app.command("list")
def dlq_list(location: DlqLocation, json_out: options.Json = False) -> None:
    """List dead letters: id, time, table, parts and reason."""
    from tdtp_core.brokers.dlq import open_dlq

    queue = open_dlq(location)
    try:
        letters = queue.entries()
    finally:
        queue.close()
    if json_out:
        typer.echo(json.dumps([d.summary() for d in letters], indent=2))
        return
    if not letters:
        typer.echo(f"no dead letters in {queue.location}")
    for d in letters:
        typer.echo(f"{d.id}  {d.time}  {d.table or '-'}  {len(d.parts)} part(s)  "
                   f"[{d.kind}] {d.reason}")


@dlq_app.command("show")
def dlq_show(location: DlqLocation,
             letter_id: Annotated[str, typer.Argument(metavar="ID")],
             json_out: options.Json = False) -> None:
    """Show one dead letter: the reason, and the header of each part."""
    from tdtp_core.brokers.dlq import open_dlq
    from tdtp_core.errors import TdtpError
    from tdtp_core.packet import inspect_packet

    queue = open_dlq(location)
    try:
        letter = next((d for d in queue.entries() if d.id == letter_id), None)
    finally:
        queue.close()
    if letter is None:
        raise ConfigError(f"no dead letter {letter_id!r} in {queue.location}")
    info = letter.summary()
    parts = []
    for body in letter.parts:
        try:
            h = inspect_packet(body).header
            parts.append({"message_id": h.message_id, "part": h.part_number,
                          "total_parts": h.total_parts, "table": h.table_name,
                          "rows": h.records_in_part, "bytes": len(body)})
        except TdtpError as exc:
            parts.append({"error": str(exc), "bytes": len(body)})
    info["parts"] = parts
    if json_out:
        typer.echo(json.dumps(info, indent=2))
        return
    for key, value in info.items():
        if key != "parts":
            typer.echo(f"{key}: {value}")
    for p in parts:
        typer.echo("  " + ", ".join(f"{k}={v}" for k, v in p.items()))


@dlq_app.command("replay")
def dlq_replay(
    location: DlqLocation,
    target: Annotated[str, typer.Argument(
        metavar="TARGET", help="Database URL to import into, or a broker URL to publish "
                               "to again (e.g. the listener's queue).")],
    ids: Ids = None,
    table: Annotated[str | None, typer.Option("--table", "-t")] = None,
    strategy: options.StrategyOption = options.Strategy.REPLACE,
    create: Annotated[bool, typer.Option("--create")] = False,
    retries: Retries = None,
    retry_time: RetryTime = None,
    json_out: options.Json = False,
) -> None:
    """Re-import dead letters after a fix; each leaves the queue only if it succeeds."""
    from tdtp_core.brokers.dlq import replay

    result = replay(location, _url(target), ids=ids, table=table,
                    strategy=strategy.value, create=create,
                    resilience=_resilience(retries, retry_time, None, None))
    if json_out:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    else:
        typer.echo(f"replayed {len(result.replayed)} dead letter(s)")
        for letter_id, reason in result.failed.items():
            typer.echo(f"still failing: {letter_id}: {reason}", err=True)
    if result.failed or (ids and len(result.replayed) < len(set(ids))):
        raise typer.Exit(1)


@dlq_app.command("purge")
def dlq_purge(
    location: DlqLocation,
    ids: Ids = None,
    everything: Annotated[bool, typer.Option("--all", help="Delete every dead letter.")] = False,
    json_out: options.Json = False,
) -> None:
    """Delete dead letters: those named with --id, or --all."""
    from tdtp_core.brokers.dlq import purge

    if not ids and not everything:
        raise typer.BadParameter("name the dead letters to delete (--id ID) or give --all")
    removed = purge(location, None if everything else ids)
    if json_out:
        typer.echo(json.dumps({"purged": removed}, indent=2))
    else:
        typer.echo(f"purged {len(removed)} dead letter(s)")


# ------------------------------------------------------------------------------ audit

audit_app = typer.Typer(help="Read the audit log.", no_args_is_help=True,
                        rich_markup_mode=None)


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date or time") from None


@audit_app.command("show")
def audit_show(
    file: Annotated[Path | None, typer.Option(
        "--file", dir_okay=False, help="JSON-lines audit file (default: tdtp.yaml audit.file)."
    )] = None,
    db: Annotated[str | None, typer.Option(
        "--db", metavar="URL", help="Audit database (default: tdtp.yaml audit.database).")
    ] = None,
    db_table: Annotated[str, typer.Option("--db-table")] = "tdtp_audit_log",
    operation: Annotated[str | None, typer.Option(
        "--operation", help="export, import, send, receive, replay, purge …")] = None,
    outcome: Annotated[str | None, typer.Option(
        "--outcome", help="success, failure, duplicate, dead-lettered, requeued …")] = None,
    table: Annotated[str | None, typer.Option("--table", "-t")] = None,
    message_id: Annotated[str | None, typer.Option(
        "--message-id", help="Entries naming this MessageID (or part of it).")] = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
    since: Annotated[str | None, typer.Option("--since", help="ISO date/time.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="ISO date/time.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Newest N (0: all).")] = 50,
    json_out: options.Json = False,
) -> None:
    """Show audit entries, oldest first, filtered."""
    from tdtp_core import audit

    flt = audit.AuditFilter(operation=operation, outcome=outcome, table=table,
                            message_id=message_id, actor=actor, since=_when(since),
                            until=_when(until), limit=limit or None)
    source: audit.Appender
    if file is not None:
        source = audit.JsonLinesAppender(file)
    elif db is not None:
        source = audit.SqlAppender(_url(db), table=db_table)
    else:
        config = audit.load_audit()
        if config.file:
            source = audit.JsonLinesAppender(config.file, backups=config.backups)
        elif config.database:
            source = audit.SqlAppender(config.database, table=config.table)
        else:
            raise ConfigError("no audit log configured: give --file or --db, or set "
                              "audit.file / audit.database in tdtp.yaml")
    try:
        entries = source.query(flt)
    finally:
        source.close()
    if json_out:
        typer.echo(json.dumps(entries, indent=2, default=str))
        return
    for e in entries:
        rows = "" if e.get("rows") is None else f" rows={e['rows']}"
        ids = e.get("message_ids") or []
        mids = f" {ids[0]}" + (f" (+{len(ids) - 1})" if len(ids) > 1 else "") if ids else ""
        error = f" error={e['error']}" if e.get("error") else ""
        typer.echo(f"{e['time']} {e['actor']} {e['operation']} {e['outcome']} "
                   f"{e.get('table') or '-'}{mids}{rows} "
                   f"{e.get('duration_ms', 0):.0f}ms{error}")


def register(app: typer.Typer) -> None:
    app.command("send", cls=po.ProcessingCommand)(send)
    app.command("listen", cls=po.ProcessingCommand)(listen)
    app.command("receive")(receive)
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(audit_app, name="audit")
