"""Streaming packet writer: batches in, parts out (spec §3, §4, §5, §6; DECISIONS 1–8a).

Rows are encoded a batch at a time, column by column, and gathered into the current part
until its byte budget is reached. A closed part is finished at once (compact, special
values, integrity, compression) and its body appended to one staging file; only the
header waits for the end, because ``TotalParts`` is not known before then. Memory is
bounded by one part, whatever the table size.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate, repeat
from operator import add
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tdtp_core.errors import PacketError, SchemaError, TdtpError
from tdtp_core.packet import compact as compact_mod
from tdtp_core.packet import integrity
from tdtp_core.packet.encode import (
    CELL_SEP,
    NEEDS_XML_ESCAPE,
    RowEncoder,
    Rows,
    as_text,
    batch_size,
    join_part,
    row_sizes,
    xml_escape_rows,
)
from tdtp_core.packet.model import (
    PACKET_TYPES,
    PROTOCOL,
    AlarmDetails,
    PipelineContext,
    message_id_for,
    new_batch_id,
)
from tdtp_core.packet.schema_xml import schema_xml
from tdtp_core.packet.xmlform import element, escape_a, text_element
from tdtp_core.types import (
    DATE_KINDS,
    FLOAT_KINDS,
    INF_MARKER,
    NAN_MARKER,
    NEG_INF_MARKER,
    NO_DATE_MARKER,
    NULL_MARKER,
    Field,
    Schema,
    SpecialValues,
)
from tdtp_core.values import (
    HAS_INF,
    HAS_MARKER_TEXT,
    HAS_NAN,
    HAS_NEG_INF,
    HAS_NO_DATE,
    HAS_NULL,
    timestamp_text,
)

if TYPE_CHECKING:
    from tdtp_core.protocols import Codec
    from tdtp_core.stream import TableStream
    from tdtp_core.tdtql.query import Query, QueryContext

#: Plain bytes per part by default: what the reference's default limit of 3,800,000
#: "units" (2 × bytes) produces, so the reference can consume our parts (DECISIONS 8a).
DEFAULT_PART_SIZE = 1_900_000
PROLOG = '<?xml version="1.0" encoding="UTF-8"?>\n'
_PARTED_TYPES = {"reference", "delta", "response", "error"}


@dataclass
class WriteOptions:
    """How packets are written; the CLI options map one to one onto these."""

    packet_type: str = "reference"
    compress: str | None = None
    compress_level: int = 3
    integrity: bool = False
    compact: bool = False
    fixed_fields: Sequence[str] | None = None
    part_size: int | None = None
    in_reply_to: str | None = None
    sender: str | None = None
    recipient: str | None = None
    query: Query | None = None
    query_context: QueryContext | None = None
    alarm: AlarmDetails | None = None
    #: Pipeline name, version and variables embedded in every part (spec §1.12).
    pipeline: PipelineContext | None = None
    message_id: str | None = None
    #: Write U+FFFD for characters XML cannot carry instead of failing (DECISIONS 2).
    replace_invalid: bool = False

    def __post_init__(self) -> None:
        if self.packet_type not in PACKET_TYPES:
            raise PacketError(f"unknown packet type {self.packet_type!r}")
        if self.packet_type == "response" and not self.in_reply_to:
            self.in_reply_to = "DirectExport"
        if self.part_size is not None and self.part_size <= 0:
            raise PacketError(f"part size must be positive, got {self.part_size}")
        if not 1 <= self.compress_level <= 22:
            raise PacketError(f"compression level must be 1..22, got {self.compress_level}")


@dataclass
class StagedPart:
    """A finished part whose header is written once the number of parts is known."""

    number: int
    message_id: str
    version: str
    root_xxh3: str | None
    rows: int
    timestamp: str
    offset: int
    length: int
    hashes: integrity.Hashes | None = None


@dataclass
class PartResult:
    """What was written for one part: where, its MessageID, rows and hashes."""

    path: Path | None
    message_id: str
    part_number: int
    total_parts: int
    rows: int
    hashes: integrity.Hashes | None
    size: int = 0


@dataclass
class _Pending:
    rows: list[str | bytes] = field(default_factory=list)
    size: int = 0
    flags: list[int] = field(default_factory=list)


class PacketWriter:
    """Encode a table into packet parts; use :func:`write_packets` for files."""

    def __init__(
        self,
        schema: Schema,
        table: str,
        options: WriteOptions | None = None,
        *,
        codec: Codec | None = None,
    ) -> None:
        self.options = opts = options or WriteOptions()
        if not table:
            raise PacketError("a packet needs a table name")  # DECISIONS 7
        self.table = table
        self.schema = schema
        self.part_schema = schema
        self.fixed: list[int] = []
        if opts.compact and schema.fields:
            self.part_schema, self.fixed = compact_mod.resolve_fixed(schema, opts.fixed_fields)
        self.codec = codec
        if opts.compress and codec is None:
            from tdtp_core.plugins import get_host

            self.codec = get_host().codec(opts.compress)
        self.row_encoder = RowEncoder(schema.fields, table,
                                      replace_invalid=opts.replace_invalid)
        entries = schema.dictionary or ()
        self.dictionary: tuple[dict[str, str], set[str]] | None = (
            ({e.full: e.short for e in entries}, {e.short for e in entries}) if entries else None
        )
        self.batch_id = opts.message_id or new_batch_id(opts.packet_type)
        self.parted = opts.packet_type in _PARTED_TYPES and opts.message_id is None
        self.part_size = opts.part_size or DEFAULT_PART_SIZE
        self.budget = self.part_size - self._envelope_size()
        if self.budget <= 0:
            raise PacketError(
                f"part size {self.part_size} bytes is too small for the header and schema "
                f"of table {table!r} (they take {self.part_size - self.budget} bytes)"
            )
        self._row_budget = self.budget
        self.rows_written = 0
        self.parts: list[StagedPart] = []
        self._pending = _Pending(flags=[0] * len(schema.fields))
        self._staging: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self._staged_bytes = 0

    # ------------------------------------------------------------------ encoding

    def write_batch(self, batch: Sequence[Sequence[Any]]) -> None:
        """Encode rows and close parts as they fill."""
        if not batch:
            return
        nf = len(self.schema.fields)
        if nf == 0:
            raise PacketError(f"table {self.table!r} has rows but no fields")
        base = self.rows_written + len(self._pending.rows)
        try:
            columns = list(zip(*batch, strict=True))
        except ValueError:
            for i, row in enumerate(batch):
                if len(row) != nf:
                    raise SchemaError(
                        f"row {base + i + 1} has {len(row)} values, the schema has {nf} fields"
                    ).at(f"table {self.table!r}") from None
            raise
        if len(columns) != nf:
            raise SchemaError(
                f"rows have {len(columns)} values, the schema has {nf} fields"
            ).at(f"table {self.table!r}")
        rows, flags = self.row_encoder.encode(
            columns, base, self._contract if self.dictionary else None)
        self._add(rows, flags)

    def write_rows(self, rows: Rows, flags: Sequence[int]) -> None:
        """Add rows that a :class:`~tdtp_core.packet.encode.RowEncoder` for this schema
        made elsewhere (a worker process, a database's bulk text), with its flags."""
        if self.dictionary:
            raise PacketError("pre-encoded rows cannot use a dictionary schema")
        if rows:
            self._add(rows, list(flags))

    def _add(self, rows: Rows, flags: list[int]) -> None:
        # Row cost in the written packet: its text and "<R></R>". Most batches fit the
        # pending part whole: one count for the batch, no row by row sizes.
        total = batch_size(rows) + 7 * len(rows)
        pending = self._pending
        if pending.size + total <= self._row_budget:
            pending.flags = [a | b for a, b in zip(pending.flags, flags, strict=True)]
            pending.rows.extend(rows)
            pending.size += total
            return
        sizes = list(map(add, row_sizes(rows), repeat(7)))  # each row and its <R></R>
        start = 0
        n = len(rows)
        while start < n:
            pending = self._pending
            pending.flags = [a | b for a, b in zip(pending.flags, flags, strict=True)]
            acc = list(accumulate(sizes[start:], initial=pending.size))
            fit = bisect_right(acc, self._row_budget) - 1
            if fit <= 0:
                if pending.rows:  # the pending part is full: close it, then go on
                    self._close_part()
                    continue
                fit = 1  # a row larger than the budget travels alone
            pending.rows.extend(rows[start : start + fit])
            pending.size = acc[fit]
            start += fit
            if start < n:
                self._close_part()

    def _contract(self, cells: list[str], index: int, base: int) -> list[str]:
        """Write dictionary values as their tokens (spec §6.7); a value that *is* a
        token would be expanded on read, so it is refused."""
        assert self.dictionary is not None
        fulls, shorts = self.dictionary
        out = []
        for row, cell in enumerate(cells):
            token = fulls.get(cell)
            if token is not None:
                out.append(token)
            elif cell in shorts:
                raise SchemaError(
                    f"field {self.schema.fields[index].name!r}: value {cell!r} equals a "
                    "dictionary token and would be read back as its full value"
                ).at(f"table {self.table!r} row {base + row + 1}")
            else:
                out.append(cell)
        return out

    @staticmethod
    def _size_of(rows: Sequence[str | bytes]) -> int:
        return sum(row_sizes(rows)) + 7 * len(rows)

    def _close_part(self) -> None:
        """Finish the pending rows as a part; rows that do not fit stay pending."""
        rows, flags = self._pending.rows, self._pending.flags
        body, staged = self._finish_part(rows, flags)
        envelope = self.part_size - self.budget
        if rows and self._pending.size:
            # Learn how much XML escaping (or compression) changes the row bytes, so
            # later parts fit the first time.
            inflation = (staged.length - envelope) / self._pending.size
            self._row_budget = int(self.budget / max(1.0, inflation * 1.02))
        carry: list[str | bytes] = []
        while staged.length > self.part_size and len(rows) > 1:
            keep = max(1, int(len(rows) * self.part_size / staged.length * 0.97))
            carry = rows[keep:] + carry
            rows = rows[:keep]
            body, staged = self._finish_part(rows, flags)
        staged.offset = self._staged_bytes
        self._staging.write(body)
        self._staged_bytes += len(body)
        self.parts.append(staged)
        self.rows_written += staged.rows
        self._pending = _Pending(
            rows=carry,
            size=self._size_of(carry),
            flags=list(flags) if carry else [0] * len(self.schema.fields),
        )

    def _part_schema(self, flags: Sequence[int]) -> tuple[Schema, str]:
        """The part's schema with the special values its rows use (spec §5.4).

        Every TEXT field but a key declares the Null marker, NULLs or not: without one,
        a v1.0 packet's empty TEXT cells are the legacy NULL to queries (spec §2.4), and
        ours are empty strings."""
        fields_flags = [
            (f, fl | HAS_NULL if f.is_text and not f.key else fl)
            for f, fl in zip(self.part_schema.fields, flags, strict=True)
        ]
        null_marker = NULL_MARKER
        if any(fl & HAS_MARKER_TEXT and fl & HAS_NULL for _, fl in fields_flags):
            null_marker = f"[NULL:{secrets.token_hex(4)}]"
        fields: list[Field] = []
        for f, fl in fields_flags:
            sv = None
            if fl & (HAS_NULL | HAS_NAN | HAS_INF | HAS_NEG_INF | HAS_NO_DATE):
                sv = SpecialValues(
                    null=null_marker if fl & HAS_NULL else None,
                    infinity=INF_MARKER if fl & HAS_INF else None,
                    neg_infinity=NEG_INF_MARKER if fl & HAS_NEG_INF else None,
                    nan=NAN_MARKER if fl & HAS_NAN else None,
                    no_date=NO_DATE_MARKER if fl & HAS_NO_DATE else None,
                )
            fields.append(f if f.special_values == sv else f.replace(special_values=sv))
        return self.part_schema.with_fields(fields), null_marker

    def _finish_part(self, rows: list[str | bytes],
                     flags: Sequence[int]) -> tuple[bytes, StagedPart]:
        opts = self.options
        number = len(self.parts) + 1
        message_id = message_id_for(opts.packet_type, self.batch_id, number) if self.parted \
            else self.batch_id
        schema, null_marker = self._part_schema(flags)
        version = "1.4" if schema.dictionary else "1.0"
        compact_applied = False
        if self.fixed and rows:
            cells = [r.split(CELL_SEP) for r in as_text(rows)]
            if compact_mod.compact_cells(cells, self.fixed):
                rows = [CELL_SEP.join(c) for c in cells]
                compact_applied = True
                version = "1.3.1"
        data = join_part(rows, null_marker) if rows else b""
        hashes = None
        if opts.integrity:
            hashes = integrity.compute(message_id, schema, data, len(rows))
            version = "1.4"
        data_attrs: list[tuple[str, str]] = []
        if opts.compress and rows:
            assert self.codec is not None
            frame = self.codec.compress(data, level=opts.compress_level)
            b64 = base64.b64encode(frame).decode("ascii")
            data_attrs += [("compression", opts.compress), ("checksum", integrity.checksum(b64))]
            rows_xml = f"<R>{b64}</R>".encode("ascii")
        elif rows:
            if any(f & NEEDS_XML_ESCAPE for f in flags):
                data = xml_escape_rows(data)
            rows_xml = b"<R>" + data.replace(b"\n", b"</R><R>") + b"</R>"
        else:
            rows_xml = b""
        if hashes is not None:
            data_attrs.append(("xxh3", hashes.data))
        if compact_applied:
            data_attrs.append(("compact", "true"))
        data_open = "<Data" + "".join(f' {k}="{escape_a(v)}"' for k, v in data_attrs) + ">"
        head = schema_xml(schema, xxh3=hashes.schema if hashes else None) + data_open
        tail = "</Data>" + (_alarm_xml(opts.alarm) if opts.alarm is not None else "") \
            + "</DataPacket>"
        body = b"".join((head.encode("utf-8"), rows_xml, tail.encode("utf-8")))
        staged = StagedPart(
            number=number,
            message_id=message_id,
            version=version,
            root_xxh3=hashes.packet if hashes else None,
            rows=len(rows),
            timestamp=timestamp_text(datetime.now(UTC)),
            offset=0,
            length=len(body) + self._head_size,
            hashes=hashes,
        )
        return body, staged

    # ------------------------------------------------------------------ envelope

    def _header_xml(self, part: StagedPart, total: int) -> str:
        opts = self.options
        out = [
            "<Header>",
            text_element("Type", opts.packet_type),
            text_element("TableName", self.table),
            text_element("MessageID", part.message_id),
            text_element("InReplyTo", opts.in_reply_to or None),
        ]
        if self.parted:
            out.append(f"<PartNumber>{part.number}</PartNumber><TotalParts>{total}</TotalParts>")
            if part.rows:
                out.append(f"<RecordsInPart>{part.rows}</RecordsInPart>")
        out.append(text_element("Timestamp", part.timestamp))
        out.append(text_element("Sender", opts.sender or None))
        out.append(text_element("Recipient", opts.recipient or None))
        out.append("</Header>")
        return "".join(out)

    def _head(self, part: StagedPart, total: int, context_xml: str = "") -> bytes:
        """Everything before ``<Schema>``. The QueryContext of part 1 is rendered only
        when parts are emitted: an in-memory query knows its counts only once its rows
        have all been written."""
        xxh3 = f' xxh3="{part.root_xxh3}"' if part.root_xxh3 else ""
        root = f'<DataPacket protocol="{PROTOCOL}" version="{part.version}"{xxh3}>'
        return (PROLOG + root + self._header_xml(part, total) + self._query_xml
                + context_xml + self._pipeline_xml).encode("utf-8")

    def _envelope_size(self) -> int:
        """Bytes a part takes besides its rows, at most (worst-case attributes)."""
        opts = self.options
        self._query_xml = opts.query.to_xml() if opts.query is not None else ""
        self._pipeline_xml = _pipeline_xml(opts.pipeline) if opts.pipeline else ""
        context_allowance = 0
        if opts.query_context is not None:
            original = opts.query_context.original_query
            # <QueryContext><OriginalQuery …>same content as a Query</OriginalQuery>
            # <ExecutionResults>five counts</ExecutionResults></QueryContext>
            context_allowance = 600 + (len(original.to_xml().encode()) if original else 0)
        probe = StagedPart(
            number=999_999, message_id=f"{self.batch_id}-P999999", version="1.3.1",
            root_xxh3="0" * 32, rows=999_999_999,
            timestamp="2000-01-01T00:00:00.000000Z", offset=0, length=0,
        )
        self._head_size = len(self._head(probe, 999_999)) + context_allowance
        worst = [HAS_NULL | HAS_NAN | HAS_INF | HAS_NEG_INF | HAS_NO_DATE
                 if f.kind in FLOAT_KINDS or f.kind in DATE_KINDS else HAS_NULL
                 for f in self.part_schema.fields]
        schema, _ = self._part_schema(worst)
        size = len(schema_xml(schema, xxh3="0" * 32).encode("utf-8")) + 40  # "[NULL:…]" slack
        if opts.alarm is not None:
            size += len(_alarm_xml(opts.alarm).encode("utf-8"))
        data_tags = ('<Data compression="zstd" checksum="0000000000000000" '
                     f'xxh3="{"0" * 32}" compact="true"></Data></DataPacket>')
        return self._head_size + size + len(data_tags)

    # ------------------------------------------------------------------ output

    def finish(self) -> list[StagedPart]:
        """Close the last part (an empty table still makes one empty part)."""
        if not self.parts and not self._pending.rows:
            self._close_part()
        while self._pending.rows:
            self._close_part()
        return self.parts

    def emit(self) -> Iterator[tuple[StagedPart, int, bytes]]:
        """(part, total, packet bytes) for each finished part, in order."""
        total = len(self.parts)
        for part in self.parts:
            self._staging.seek(part.offset)
            body_len = part.length - self._head_size
            body = self._staging.read(body_len)
            context = self.options.query_context
            context_xml = context.to_xml() if context is not None and part.number == 1 else ""
            yield part, total, self._head(part, total, context_xml) + body

    def close(self) -> None:
        self._staging.close()

    def __enter__(self) -> PacketWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pipeline_xml(context: PipelineContext) -> str:
    """``<PipelineContext>`` between QueryContext and Schema (the reference parses it but
    never writes it; we write it so ``--expect-var`` style checks can work)."""
    pipeline = element("Pipeline", [("name", context.name), ("version", context.version)])
    variables = ""
    if context.variables:
        variables = element("Variables", (), "".join(
            element("Var", [("name", n), ("value", v)]) for n, v in context.variables))
    return f"<PipelineContext>{pipeline}{variables}</PipelineContext>"


def _alarm_xml(alarm: AlarmDetails) -> str:
    parts = [
        "<AlarmDetails>",
        text_element("Severity", alarm.severity),
        text_element("Code", alarm.code),
        text_element("Message", alarm.message),
        text_element("ServerMode", alarm.server_mode),
    ]
    if alarm.affected_records:
        parts.append(f"<AffectedRecords>{alarm.affected_records}</AffectedRecords>")
    parts.append("</AlarmDetails>")
    return "".join(parts)


def part_path(path: Path, number: int, total: int) -> Path:
    """``users.tdtp.xml`` → ``users.tdtp_part_2_of_3.xml`` (spec §3.4)."""
    if total == 1:
        return path
    stem, ext = os.path.splitext(path.name)
    return path.with_name(f"{stem}_part_{number}_of_{total}{ext}")


def encode_stream(stream: TableStream, options: WriteOptions) -> PacketWriter:
    """Consume a stream into a writer holding its finished parts."""
    writer = PacketWriter(stream.schema, stream.table, options)
    try:
        encoded = None if writer.dictionary else stream.encoded_rows(
            replace_invalid=options.replace_invalid)
        if encoded is not None:
            for chunk in encoded:
                writer.write_rows(chunk.rows, chunk.flags)
        else:
            for batch in stream.batches():
                writer.write_batch(batch)
        writer.finish()
    except BaseException:
        writer.close()
        raise
    return writer


def write_packets(
    stream: TableStream,
    path: str | os.PathLike[str],
    *,
    compress: str | None = None,
    compress_level: int = 3,
    integrity: bool = False,
    compact: bool = False,
    fixed_fields: Sequence[str] | None = None,
    part_size: int | None = None,
    packet_type: str = "reference",
    in_reply_to: str | None = None,
    sender: str | None = None,
    recipient: str | None = None,
    query: Query | None = None,
    query_context: QueryContext | None = None,
    alarm: AlarmDetails | None = None,
    replace_invalid: bool = False,
) -> list[Path]:
    """Write a table as one packet file per part and return their paths.

    One part keeps the name as given; several are named ``{base}_part_{n}_of_{N}{ext}``.
    Nothing is left behind on failure: parts are written to temporary names and renamed
    only once all of them are complete.
    """
    results = write_packet_files(
        stream, path, WriteOptions(
            packet_type=packet_type, compress=compress, compress_level=compress_level,
            integrity=integrity, compact=compact, fixed_fields=fixed_fields,
            part_size=part_size, in_reply_to=in_reply_to, sender=sender,
            recipient=recipient, query=query, query_context=query_context, alarm=alarm,
            replace_invalid=replace_invalid,
        ),
    )
    return [r.path for r in results if r.path is not None]


def write_packet_files(
    stream: TableStream, path: str | os.PathLike[str], options: WriteOptions
) -> list[PartResult]:
    """:func:`write_packets` returning per-part details (MessageIDs, hashes, sizes)."""
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise TdtpError(f"output directory {str(target.parent)!r} does not exist")
    with encode_stream(stream, options) as writer:
        return save_parts(writer, target)


def save_parts(writer: PacketWriter, path: str | os.PathLike[str]) -> list[PartResult]:
    """Write a finished writer's parts as files: temporary names, renamed only once all
    of them are complete, so a failure leaves nothing behind."""
    target = Path(path)
    results: list[PartResult] = []
    temps: list[tuple[Path, Path]] = []
    try:
        for part, total, data in writer.emit():
            final = part_path(target, part.number, total)
            tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
            temps.append((tmp, final))
            tmp.write_bytes(data)
            results.append(PartResult(final, part.message_id, part.number, total,
                                      part.rows, part.hashes, len(data)))
        for tmp, final in temps:
            os.replace(tmp, final)
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        raise
    return results


def encode_packets(stream: TableStream, **options: Any) -> list[bytes]:
    """The parts of a table as packet bytes, in order: for brokers and small tables."""
    with encode_stream(stream, WriteOptions(**options)) as writer:
        return [data for _, _, data in writer.emit()]
