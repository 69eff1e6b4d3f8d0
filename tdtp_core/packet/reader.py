"""Hardened streaming packet reader (spec §1, §4.2, §5.2, §6.5, §10.1; Appendix A).

Each part is parsed with lxml ``iterparse`` (no DTD, no entities, no network, bounded
nodes) and its row strings are held only until the part is checked: structure, checksum,
decompression, integrity, then compact and dictionary expansion. Rows are then decoded
column by column in chunks and handed out, so memory stays at about one part.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lxml import etree

from tdtp_core.errors import IntegrityError, PacketError, SchemaError, TdtpError
from tdtp_core.packet import compact as compact_mod
from tdtp_core.packet import integrity
from tdtp_core.packet.encode import CellCountError, restore_column, split_columns
from tdtp_core.packet.model import (
    PACKET_TYPES,
    PROTOCOL,
    AlarmDetails,
    DataInfo,
    Header,
    PipelineContext,
    batch_id_of,
)
from tdtp_core.packet.schema_xml import parse_bool, parse_int, parse_schema
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, CellColumns, TableStream
from tdtp_core.types import Schema

if TYPE_CHECKING:
    from lxml.etree import _Element

    from tdtp_core.tdtql.query import Query, QueryContext

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes]

MAX_SCHEMA_BYTES = 1_048_576
MAX_DECOMPRESSED_BYTES = 268_435_456
_DECODE_CHUNK = 8192
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_PART_NAME = re.compile(r"^(.+)_part_(\d+)_of_(\d+)(\..+)$")
_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Tolerant mode writes a raw control character c inside <R> as SHIELD + chr(BASE + c) and
# a real SHIELD as two, so reading back is exact for every text.
_PRIVATE_BASE = 0xF700
_SHIELD = "\uf8ff"
_SHIELD_BYTES = _SHIELD.encode()
_ROW_ELEMENT = re.compile(rb"(<R>)(.*?)(</R>)", re.DOTALL)
_SHIELDED = re.compile(f"{_SHIELD}(.)", re.DOTALL)


def version_tuple(version: str) -> tuple[int, ...]:
    """Versions compare numerically (DECISIONS 4): ``1.10`` is newer than ``1.4``."""
    return tuple(int(p) for p in re.findall(r"\d+", version)) or (0,)


def is_legacy(version: str) -> bool:
    return version_tuple(version) <= (1, 3, 1)


@dataclass
class PacketInfo:
    """One parsed part: everything but decoded values."""

    source: str
    version: str
    root_xxh3: str | None
    header: Header
    schema: Schema
    schema_xxh3: str | None
    data: DataInfo
    query_element: _Element | None = None
    query_context_element: _Element | None = None
    alarm: AlarmDetails | None = None
    pipeline: PipelineContext | None = None
    #: Row strings as read (``None`` when only the head was scanned).
    rows: list[str] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        h = self.header
        return f"{self.source} part {h.part_number}" if h.total_parts > 1 else self.source

    def query(self) -> Query | None:
        if self.query_element is None:
            return None
        from tdtp_core.tdtql.query import Query

        try:
            return Query.from_xml(self.query_element)
        except TdtpError as exc:
            raise exc.at(self.source) from None

    def query_context(self) -> QueryContext | None:
        if self.query_context_element is None:
            return None
        from tdtp_core.tdtql.query import QueryContext

        try:
            return QueryContext.from_xml(self.query_context_element)
        except TdtpError as exc:
            raise exc.at(self.source) from None


# -------------------------------------------------------------------------- sources


def _name_of(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    if isinstance(source, bytes | bytearray | memoryview):
        return "<bytes>"
    return str(getattr(source, "name", "<stream>"))


def _open(source: Source, tolerant: bool) -> IO[bytes]:
    if isinstance(source, str | os.PathLike):
        try:
            fh: IO[bytes] = open(source, "rb")  # noqa: SIM115 - closed by the caller
        except FileNotFoundError:
            raise PacketError("no such file").at(os.fspath(source)) from None
        except OSError as exc:
            raise PacketError(f"cannot read: {exc.strerror}").at(os.fspath(source)) from None
    elif isinstance(source, bytes | bytearray | memoryview):
        fh = io.BytesIO(bytes(source))
    else:
        fh = source
    if tolerant:
        raw = fh.read()
        fh.close()
        fh = io.BytesIO(_ROW_ELEMENT.sub(_shield_controls, raw))
    return fh


def _shield_controls(m: re.Match[bytes]) -> bytes:
    """Inside one ``<R>``: double the shield character, and write each raw control
    character as the shield followed by its private-use stand-in (reversible)."""
    body = m.group(2).replace(_SHIELD_BYTES, _SHIELD_BYTES * 2)
    body = _RAW_CONTROL.sub(
        lambda c: _SHIELD_BYTES + chr(_PRIVATE_BASE + c.group()[0]).encode(), body)
    return m.group(1) + body + m.group(3)


def discover_parts(path: Path) -> list[Path]:
    """The files of a multi-part set from one of them or its base name (spec §3.5)."""
    m = _PART_NAME.match(path.name)
    if m:
        base, _, total, ext = m.groups()
        return [path.with_name(f"{base}_part_{i}_of_{total}{ext}")
                for i in range(1, int(total) + 1)]
    if path.exists():
        return [path]
    stem, ext = os.path.splitext(path.name)
    matches = sorted(path.parent.glob(f"{glob_escape(stem)}_part_1_of_*{glob_escape(ext)}"))
    if len(matches) == 1:
        return discover_parts(matches[0])
    return [path]


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


# --------------------------------------------------------------------------- parsing


def _parse_timestamp(text: str | None, where: str) -> datetime:
    value = (text or "").strip()
    if not value:
        raise PacketError("Header/Timestamp is missing").at(where)
    if not _RFC3339.match(value):
        raise PacketError(f"Header/Timestamp is not RFC 3339: {value!r}").at(where)
    parsed = datetime.fromisoformat(value)
    if parsed.year == 1 and parsed.month == 1 and parsed.day == 1 and not parsed.hour:
        raise PacketError("Header/Timestamp is missing (zero time)").at(where)
    return parsed


def _parse_header(el: _Element, where: str) -> Header:
    values: dict[str, str] = {}
    for child in el:
        if isinstance(child.tag, str):
            values[child.tag] = child.text or ""
    ts_text = values.get("Timestamp")
    return Header(
        packet_type=values.get("Type", ""),
        table_name=values.get("TableName", ""),
        message_id=values.get("MessageID", ""),
        in_reply_to=values.get("InReplyTo") or None,
        part_number=parse_int(values.get("PartNumber"), "Header/PartNumber"),
        total_parts=parse_int(values.get("TotalParts"), "Header/TotalParts"),
        records_in_part=parse_int(values.get("RecordsInPart"), "Header/RecordsInPart"),
        timestamp=_parse_timestamp(ts_text, where),
        sender=values.get("Sender") or None,
        recipient=values.get("Recipient") or None,
        timestamp_text=ts_text,
    )


def _parse_alarm(el: _Element) -> AlarmDetails:
    values = {c.tag: c.text or "" for c in el if isinstance(c.tag, str)}
    return AlarmDetails(
        severity=values.get("Severity", ""),
        code=values.get("Code", ""),
        message=values.get("Message", ""),
        server_mode=values.get("ServerMode") or None,
        affected_records=parse_int(values.get("AffectedRecords"), "AlarmDetails/AffectedRecords"),
    )


def _parse_pipeline(el: _Element) -> PipelineContext:
    name, version = "", None
    variables: list[tuple[str, str]] = []
    for child in el:
        if child.tag == "Pipeline":
            name, version = child.get("name", ""), child.get("version")
        elif child.tag == "Variables":
            variables = [(v.get("name", ""), v.get("value", "")) for v in child if v.tag == "Var"]
    return PipelineContext(name, version, tuple(variables))


def _data_info(el: _Element) -> DataInfo:
    return DataInfo(
        compression=el.get("compression") or None,
        checksum=el.get("checksum") or None,
        xxh3=el.get("xxh3") or None,
        compact=parse_bool(el.get("compact"), "Data/compact"),
        tail=parse_bool(el.get("tail"), "Data/tail"),
        carry=el.get("carry"),
        encryption=el.get("encryption") or None,
        seen=True,
    )


_DECLARATION = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


def _check_declaration(fh: IO[bytes], name: str) -> None:
    """Only UTF-8 documents (spec §1.1): read the declaration before lxml decodes."""
    head = fh.read(512)
    fh.seek(0)
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PacketError("encoding must be UTF-8, not UTF-16").at(name)
    m = _DECLARATION.match(head)
    if m and m.group(1).decode("ascii", "replace").upper().replace("_", "-") not in (
        "UTF-8", "UTF8",
    ):
        raise PacketError(
            f"encoding must be UTF-8, not {m.group(1).decode('ascii', 'replace')}"
        ).at(name)


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    """libxml2's first complaint with its position (iterparse's own message is often
    just "no element found")."""
    errors: list[Any] = list(exc.error_log or ())  # type: ignore[arg-type]
    if errors:
        first = errors[0]
        return f"{first.message.strip()} (line {first.line}, column {first.column})"
    return f"{exc.msg} (line {exc.lineno})" if exc.lineno else str(exc.msg)


def data_seen(data: DataInfo) -> bool:
    return data.seen


def parse_packet(source: Source, *, head_only: bool = False, tolerant: bool = False) -> PacketInfo:
    """Parse one packet; with ``head_only`` stop at ``<Data>`` (header and schema only)."""
    name = _name_of(source)
    fh = _open(source, tolerant)
    try:
        _check_declaration(fh, name)
        etree.clear_error_log()
        return _parse_stream(fh, name, head_only=head_only)
    except etree.XMLSyntaxError as exc:
        raise PacketError(f"not well-formed XML: {_syntax_message(exc)}").at(name) from None
    except TdtpError as exc:
        if not exc.where or name not in exc.where:
            exc.at(name)
        raise
    finally:
        if fh is not source:
            fh.close()


def _parse_stream(fh: IO[bytes], name: str, *, head_only: bool) -> PacketInfo:
    context = etree.iterparse(
        fh,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    root: _Element | None = None
    header_el: _Element | None = None
    schema: Schema | None = None
    schema_xxh3: str | None = None
    data = DataInfo()
    info: dict[str, Any] = {}
    rows: list[str] = []
    append = rows.append
    depth = 0
    in_data = False
    for event, el in context:
        if event == "start":
            depth += 1
            if root is None:
                root = el
                _check_document(el, name)
            elif depth == 2 and el.tag == "Data":
                in_data = True
                data = _data_info(el)
                if head_only and schema is not None and header_el is not None:
                    break
            continue
        depth -= 1
        if in_data:
            if depth == 2 and el.tag == "R" and not head_only:
                append(el.text or "")
                if len(rows) % 4096 == 0:
                    parent = el.getparent()
                    if parent is not None:
                        del parent[:-1]
            elif depth == 1 and el.tag == "Data":
                in_data = False
                el.clear()
            continue
        if depth != 1:
            continue
        tag = el.tag
        if tag == "Header":
            header_el = el
            if head_only and schema is not None and data_seen(data):
                break
        elif tag == "Schema":
            if len(etree.tostring(el)) > MAX_SCHEMA_BYTES:
                raise PacketError(
                    f"schema is over {MAX_SCHEMA_BYTES} bytes, refusing to parse"
                ).at(name)
            schema, schema_xxh3 = parse_schema(el)
            if head_only and header_el is not None and data_seen(data):
                break
        elif tag == "Query":
            info["query_element"] = el
        elif tag == "QueryContext":
            info["query_context_element"] = el
        elif tag == "AlarmDetails":
            info["alarm"] = _parse_alarm(el)
        elif tag == "PipelineContext":
            info["pipeline"] = _parse_pipeline(el)
    if root is None:
        raise PacketError("empty document").at(name)
    if header_el is None:
        raise PacketError("missing <Header>").at(name)
    header = _parse_header(header_el, name)
    packet = PacketInfo(
        source=name,
        version=root.get("version", ""),
        root_xxh3=root.get("xxh3") or None,
        header=header,
        schema=schema if schema is not None else Schema(),
        schema_xxh3=schema_xxh3,
        data=data,
        rows=None if head_only else rows,
        **info,
    )
    _validate_structure(packet, root)
    return packet


def _check_document(root: _Element, name: str) -> None:
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", None) or docinfo.internalDTD is not None:
        raise PacketError("document type declarations (DTD) are not allowed").at(name)
    if docinfo.xml_version not in (None, "1.0"):
        raise PacketError(f"XML version must be 1.0, not {docinfo.xml_version}").at(name)
    if root.get("protocol") != PROTOCOL:
        raise PacketError(f"invalid protocol: {root.get('protocol')!r}").at(name)


def _validate_structure(p: PacketInfo, root: _Element) -> None:
    """The reader's structural rules (spec §10.1, with DECISIONS 5)."""
    where = p.source
    h = p.header
    if not p.version:
        raise PacketError("version is empty").at(where)
    if not h.packet_type:
        raise PacketError("Header/Type is missing").at(where)
    if h.packet_type not in PACKET_TYPES:
        raise PacketError(f"invalid message type: {h.packet_type}").at(where)
    if not h.table_name:
        raise PacketError("Header/TableName is missing").at(where)
    if not h.message_id:
        raise PacketError("Header/MessageID is missing").at(where)
    if h.packet_type == "response" and not h.in_reply_to:
        p.warnings.append("response packet without InReplyTo")
        if p.rows is not None:  # warn once: on the full parse, not the head scan
            warnings.warn(f"{where}: response packet without InReplyTo", stacklevel=4)
    if (h.part_number or h.total_parts) and not (1 <= h.part_number <= h.total_parts):
        raise PacketError(
            f"PartNumber {h.part_number} is not within 1..TotalParts ({h.total_parts})"
        ).at(where)
    if p.data.encryption or root.find("Schema[@encryption]") is not None:
        raise PacketError("encrypted packets (v1.5) are not supported").at(where)
    if p.rows is None:
        return
    if p.rows and not p.schema.fields:
        raise PacketError("schema is required when data is present").at(where)
    if (h.records_in_part and not p.data.compression and is_legacy(p.version)
            and h.records_in_part != len(p.rows)):
        raise PacketError(
            f"RecordsInPart mismatch: header declares {h.records_in_part} rows, "
            f"<Data> contains {len(p.rows)}"
        ).at(where)


# --------------------------------------------------------------------- row recovery


def _decompress(p: PacketInfo, rows: list[str]) -> list[str]:
    where = p.where
    if len(rows) != 1:
        raise PacketError(
            f"compressed packet should have exactly 1 row, has {len(rows)}"
        ).at(where)
    text = rows[0]
    if p.data.checksum and integrity.checksum(text) != p.data.checksum:
        raise IntegrityError("data corruption detected: checksum mismatch").at(where)
    try:
        frame = base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raise PacketError("compressed data is not valid Base64").at(where) from None
    from tdtp_core.plugins import get_host

    codec = get_host().codec(p.data.compression or "")
    try:
        payload = codec.decompress(frame, max_output=MAX_DECOMPRESSED_BYTES)
    except TdtpError as exc:
        raise exc.at(where) from None
    try:
        decoded = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise PacketError("decompressed rows are not valid UTF-8").at(where) from None
    # A compressed part always has at least one row (empty tables are never compressed),
    # so an empty payload is one empty row (spec §4.2: keep empty rows).
    out = decoded.split("\n")
    h = p.header
    if h.records_in_part and is_legacy(p.version) and h.records_in_part != len(out):
        raise PacketError(
            f"RecordsInPart mismatch after decompression: header declares "
            f"{h.records_in_part} rows, data holds {len(out)}"
        ).at(where)
    return out


@dataclass
class RecoveredPart:
    """A part's cells as text columns, checked and expanded, ready for typed decoding."""

    part: PacketInfo
    schema: Schema
    columns: list[list[str]]
    rows: int
    #: Columns may hold the placeholders of ``split_columns`` (restored per chunk).
    escaped: bool


def recover_rows(p: PacketInfo, *, verify: bool = True) -> RecoveredPart:
    """Decompress, verify, split and compact-expand one part's rows (Appendix A order)."""
    assert p.rows is not None
    rows = p.rows
    if p.data.compression and rows:
        rows = _decompress(p, rows)
    if verify and p.root_xxh3 and not is_legacy(p.version):
        try:
            integrity.verify(
                p.header.message_id, p.schema, "\n".join(rows), len(rows),
                schema_xxh3=p.schema_xxh3, data_xxh3=p.data.xxh3, packet_xxh3=p.root_xxh3,
            )
        except IntegrityError as exc:
            raise exc.at(p.where) from None
    nf = len(p.schema.fields)
    try:
        columns, escaped = split_columns(rows, nf, pad=p.data.compact)
    except CellCountError as exc:
        raise SchemaError(f"expected {nf} values, got {exc.count}").at(
            f"{p.where} row {exc.index + 1}") from None
    if p.data.compact:
        try:
            compact_mod.expand(columns, p.schema, carry=p.data.carry, tail=p.data.tail)
        except PacketError as exc:
            raise exc.at(p.where) from None
    return RecoveredPart(p, p.schema, columns, len(rows), escaped)


def _unshield(m: re.Match[str]) -> str:
    c = m.group(1)
    return c if c == _SHIELD else chr(ord(c) - _PRIVATE_BASE)


def _restore_controls(text: str) -> str:
    return _SHIELDED.sub(_unshield, text) if _SHIELD in text else text


def _text_columns(rec: RecoveredPart, start: int, stop: int, tolerant: bool) -> list[Any]:
    columns: list[Any] = [col[start:stop] for col in rec.columns]
    if rec.escaped:
        columns = [restore_column(c) for c in columns]
    if rec.schema.dictionary:
        lookup = {e.short: e.full for e in rec.schema.dictionary}
        columns = [[lookup.get(c, c) for c in col] for col in columns]
    if tolerant:
        columns = [[_restore_controls(c) for c in col] for col in columns]
    return columns


def cell_batches(
    rec: RecoveredPart, *, tolerant: bool = False, batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[CellColumns]:
    """A part's cell texts in batches, column-wise, with what decoding them needs."""
    step = batch_size if batch_size > 0 else _DECODE_CHUNK
    for start in range(0, rec.rows, step):
        yield CellColumns(_text_columns(rec, start, start + step, tolerant), rec.schema,
                          rec.part.where, start)


def decode_cells(
    rec: RecoveredPart, *, tolerant: bool = False, raw: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[Batch]:
    """Typed rows in batches (cell texts with ``raw``); a bad value names part, row and
    field."""
    for cells in cell_batches(rec, tolerant=tolerant, batch_size=batch_size):
        if raw:
            yield list(zip(*cells.columns, strict=False))
        else:
            yield list(zip(*(cells.decode(i) for i in range(len(cells.columns))),
                           strict=False))


# ------------------------------------------------------------------------- sessions


def _check_session(parts: Sequence[PacketInfo]) -> list[PacketInfo]:
    """Multi-part checks (spec §3.5): one set, one schema, every part exactly once."""
    first = parts[0]
    total = first.header.total_parts
    if len(parts) == 1 and total <= 1:
        return list(parts)
    batch = batch_id_of(first.header.message_id)
    seen: dict[int, PacketInfo] = {}
    for p in parts:
        h = p.header
        if batch_id_of(h.message_id) != batch:
            raise PacketError(
                f"batch mismatch: {h.message_id} is not part of {batch} "
                "(parts from different export sessions mixed together)"
            ).at(p.source)
        if not p.schema.compatible_with(first.schema):
            raise PacketError(f"schema differs from {first.source}").at(p.source)
        if h.total_parts != total:
            raise PacketError(
                f"TotalParts {h.total_parts} differs from {total} in {first.source}"
            ).at(p.source)
        if (h.in_reply_to or first.header.in_reply_to) and \
                h.in_reply_to != first.header.in_reply_to:
            raise PacketError("InReplyTo differs between parts").at(p.source)
        if h.part_number in seen:
            raise PacketError(
                f"part {h.part_number} given twice (also {seen[h.part_number].source})"
            ).at(p.source)
        seen[h.part_number] = p
    missing = sorted(set(range(1, max(total, 1) + 1)) - set(seen))
    if missing:
        raise PacketError(
            f"incomplete part set {batch}: missing part(s) {', '.join(map(str, missing))} "
            f"of {total}"
        ).at(first.source)
    return [seen[n] for n in sorted(seen)]


def _table_schema(schema: Schema) -> Schema:
    """The table's schema without the packet's encoding details (markers, fixed)."""
    return Schema(
        [f.replace(special_values=None, fixed=False) for f in schema.fields],
        None,
    )


def read_packets(
    *sources: Source,
    verify: bool = True,
    tolerant: bool = False,
    raw: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> TableStream:
    """Read one packet or a multi-part set (in any order) as a typed table stream.

    Paths to one part of a set, or to the set's base name, find the other parts. Each
    part is fully checked before any of its rows is handed out; a later part that fails
    raises while iterating, so consumers must treat the stream as one transaction (the
    adapters do). ``tolerant`` reads reference files holding raw control characters;
    ``raw`` yields cell texts as the packet carries them (markers not decoded), for
    packet-to-packet paths that need no Python values.
    """
    if not sources:
        raise PacketError("no packet given")
    expanded: list[Source] = list(sources)
    if len(sources) == 1 and isinstance(sources[0], str | os.PathLike):
        expanded = list(discover_parts(Path(sources[0])))
    in_memory = [
        s if isinstance(s, str | os.PathLike | bytes | bytearray | memoryview) else s.read()
        for s in expanded
    ]
    heads = [parse_packet(s, head_only=True, tolerant=tolerant) for s in in_memory]
    ordered = _check_session(heads)
    first = ordered[0]
    by_source = {id(h): s for h, s in zip(heads, in_memory, strict=True)}
    message_ids = [h.header.message_id for h in ordered]

    def recovered(head: PacketInfo) -> RecoveredPart:
        part = parse_packet(by_source[id(head)], tolerant=tolerant)
        part.source = head.source
        return recover_rows(part, verify=verify)

    def batches() -> Iterator[Batch]:
        for head in ordered:
            yield from decode_cells(recovered(head), tolerant=tolerant, raw=raw,
                                    batch_size=batch_size)

    def cells(head: PacketInfo) -> Iterator[CellColumns]:
        return cell_batches(recovered(head), tolerant=tolerant, batch_size=batch_size)

    return TableStream(
        _table_schema(first.schema),
        _rebatch(batches(), batch_size),
        header=first.header,
        query=first.query(),
        query_context=first.query_context(),
        metadata={
            "message_ids": message_ids,
            "sources": [h.source for h in ordered],
            "parts": ordered,
            "version": first.version,
            "packet_schema": first.schema,
            "alarm": first.alarm,
            "pipeline": first.pipeline,
        },
        cells=None if raw else [partial(cells, head) for head in ordered],
    )


def _rebatch(batches: Iterator[Batch], size: int) -> Iterator[Batch]:
    """Even out batch sizes across part boundaries."""
    if size <= 0:
        yield from batches
        return
    buf: Batch = []
    for batch in batches:
        if not buf and len(batch) == size:
            yield batch
            continue
        buf.extend(batch)
        while len(buf) >= size:
            yield buf[:size]
            buf = buf[size:]
    if buf:
        yield buf


def inspect_packet(source: Source, *, tolerant: bool = False) -> PacketInfo:
    """Header, schema and ``<Data>`` attributes of one packet, without decoding rows."""
    return parse_packet(source, head_only=True, tolerant=tolerant)


def verify_packets(*sources: Source, tolerant: bool = False) -> list[PacketInfo]:
    """Fully check a packet or part set (structure, checksums, hashes, cells) and
    return its parts; raises the first problem found."""
    stream = read_packets(*sources, tolerant=tolerant)
    for _ in stream.batches():
        pass
    parts: list[PacketInfo] = stream.metadata["parts"]
    return parts
