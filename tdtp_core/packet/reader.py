"""Hardened streaming packet reader (spec §1, §4.2, §5.2, §6.5, §10.1; Appendix A).

Each part is parsed with lxml's pull parser (no DTD, no entities, no network, bounded
nodes), fed a block at a time; after each block the texts of the finished ``<R>``
elements are taken in bulk and the elements deleted, so Python does no work per row and
the tree never holds more than a block. Row strings are split into cell columns a run
at a time and the whole part is checked (structure, checksum, decompression, integrity,
cell counts, compact expansion) before any of its rows is handed out; the runs are held
for that while they are small, and a larger part is read a second time, so memory does
not grow with the part. Rows are then decoded column by column and handed out.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from lxml import etree

from tdtp_core.errors import IntegrityError, PacketError, SchemaError, TdtpError
from tdtp_core.packet import compact as compact_mod
from tdtp_core.packet import integrity, rowdecode
from tdtp_core.packet.encode import (
    CellCountError,
    check_cells,
    restore_column,
    split_columns,
)
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
#: Bytes handed to the parser at a time: the tree holds at most this much of ``<Data>``.
_FEED_BYTES = 65_536
#: Rows go from the parser to the splitter in runs of a batch, or of this many when the
#: caller does not batch.
_RUN_ROWS = 8_192
#: A part of at most this many cells is held from its checks to its decoding; a larger
#: one is read twice (checked, then decoded) so that memory stays bounded.
_HOLD_CELLS = 524_288
#: The only elements the parser reports: the envelope (and the usual root, so that a bad
#: root is refused before anything else is read). Rows never raise an event.
_ENVELOPE = ("DataPacket", "Header", "Schema", "Query", "QueryContext", "AlarmDetails",
             "PipelineContext", "Data")
_HARDENED: dict[str, Any] = {
    "resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
    "remove_comments": True, "remove_pis": True, "collect_ids": False,
}
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


def _located(exc: TdtpError, name: str) -> TdtpError:
    """The error with the file named, unless its location already names it."""
    return exc if exc.where and name in exc.where else exc.at(name)


class _Scan:
    """One pass of the pull parser over a packet: the envelope as its elements end, the
    row strings a block at a time (see the module's docstring)."""

    def __init__(self, source: Source, name: str, *, tolerant: bool,
                 head_only: bool = False) -> None:
        self.source = source
        self.name = name
        self.tolerant = tolerant
        self.head_only = head_only
        self.root: _Element | None = None
        self.header_el: _Element | None = None
        self.schema: Schema | None = None
        self.schema_xxh3: str | None = None
        self.data = DataInfo()
        self.info: dict[str, Any] = {}
        #: ``<R>`` elements met so far.
        self.rows = 0
        #: The header, schema or ``<Data>`` came after rows: rows read before that were
        #: read under an envelope that is not the packet's.
        self.late = False

    def texts(self) -> Iterator[list[str]]:
        """The row strings of every ``<Data>`` under the root, in document order."""
        fh = _open(self.source, self.tolerant)
        try:
            _check_declaration(fh, self.name)
            etree.clear_error_log()
            yield from self._feed(fh)
        except etree.XMLSyntaxError as exc:
            raise PacketError(f"not well-formed XML: {_syntax_message(exc)}").at(
                self.name) from None
        except TdtpError as exc:
            raise _located(exc, self.name) from None
        finally:
            if fh is not self.source:
                fh.close()

    def _feed(self, fh: IO[bytes]) -> Iterator[list[str]]:
        parser = etree.XMLPullParser(events=("start", "end"), tag=_ENVELOPE, **_HARDENED)
        data: _Element | None = None
        while True:
            block = fh.read(_FEED_BYTES)
            failed: etree.XMLSyntaxError | None = None
            try:
                if block:
                    parser.feed(block)
                else:
                    root = parser.close()
                    if self.root is None:
                        self._begin(root)
            except etree.XMLSyntaxError as exc:
                failed = exc  # the events before the damage still count (a DTD, first)
            for event, item in parser.read_events():
                el = cast("_Element", item)  # start and end events carry elements
                if self.root is None:
                    self._begin(el.getroottree().getroot())
                if el.getparent() is not self.root:
                    continue
                if event == "start":
                    if el.tag == "Data":
                        data = el
                        self.data = _data_info(el)
                        self.late = self.late or self.rows > 0
                elif el.tag == "Data":
                    texts = self._take(el, closed=True)
                    data = None
                    if texts:
                        yield texts
                else:
                    self._envelope(el)
                if (self.head_only and self.header_el is not None
                        and self.schema is not None and self.data.seen):
                    return
            if failed is not None:
                raise failed
            if data is not None:
                texts = self._take(data, closed=False)
                if texts:
                    yield texts
            if not block:
                return

    def _take(self, data: _Element, *, closed: bool) -> list[str]:
        """The texts of ``data``'s finished ``<R>`` children, which are then deleted; an
        unfinished last child (the parser is inside it) stays for the next block."""
        last = next(data.iterchildren(reversed=True), None)
        if last is None:
            return []
        texts = [] if self.head_only else [r.text or "" for r in data.iterchildren("R")]
        if closed:
            data.clear()
        else:
            if texts and last.tag == "R":
                texts.pop()
            del data[:-1]
        self.rows += len(texts)
        return texts

    def _begin(self, root: _Element) -> None:
        self.root = root
        _check_document(root, self.name)

    def _envelope(self, el: _Element) -> None:
        """A child of the root has ended."""
        tag = el.tag
        if tag == "Header":
            self.header_el = el
            self.late = self.late or self.rows > 0
        elif tag == "Schema":
            if len(etree.tostring(el)) > MAX_SCHEMA_BYTES:
                raise PacketError(
                    f"schema is over {MAX_SCHEMA_BYTES} bytes, refusing to parse"
                ).at(self.name)
            self.schema, self.schema_xxh3 = parse_schema(el)
            self.late = self.late or self.rows > 0
        elif tag == "Query":
            self.info["query_element"] = el
        elif tag == "QueryContext":
            self.info["query_context_element"] = el
        elif tag == "AlarmDetails":
            self.info["alarm"] = _parse_alarm(el)
        elif tag == "PipelineContext":
            self.info["pipeline"] = _parse_pipeline(el)

    def packet(self, rows: list[str] | None = None) -> PacketInfo:
        """The packet as scanned so far (``rows`` only for :func:`parse_packet`)."""
        if self.root is None:
            raise PacketError("empty document").at(self.name)
        if self.header_el is None:
            raise PacketError("missing <Header>").at(self.name)
        try:
            header = _parse_header(self.header_el, self.name)
        except TdtpError as exc:
            raise _located(exc, self.name) from None
        return PacketInfo(
            source=self.name,
            version=self.root.get("version", ""),
            root_xxh3=self.root.get("xxh3") or None,
            header=header,
            schema=self.schema if self.schema is not None else Schema(),
            schema_xxh3=self.schema_xxh3,
            data=self.data,
            rows=rows,
            **self.info,
        )


def parse_packet(source: Source, *, head_only: bool = False, tolerant: bool = False) -> PacketInfo:
    """Parse one packet; with ``head_only`` stop at ``<Data>`` (header and schema only)."""
    scan = _Scan(source, _name_of(source), tolerant=tolerant, head_only=head_only)
    rows: list[str] = []
    for texts in scan.texts():
        rows += texts
    packet = scan.packet(None if head_only else rows)
    assert scan.root is not None
    _validate_structure(packet, scan.root, None if head_only else len(rows))
    return packet


def _check_document(root: _Element, name: str) -> None:
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", None) or docinfo.internalDTD is not None:
        raise PacketError("document type declarations (DTD) are not allowed").at(name)
    if docinfo.xml_version not in (None, "1.0"):
        raise PacketError(f"XML version must be 1.0, not {docinfo.xml_version}").at(name)
    if root.get("protocol") != PROTOCOL:
        raise PacketError(f"invalid protocol: {root.get('protocol')!r}").at(name)


def _validate_structure(p: PacketInfo, root: _Element, rows: int | None) -> None:
    """The reader's structural rules (spec §10.1, with DECISIONS 5); ``rows`` is the
    number of ``<R>`` elements, None for a head scan."""
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
        if rows is not None:  # warn once: on the full parse, not the head scan
            warnings.warn(f"{where}: response packet without InReplyTo", stacklevel=4)
    if (h.part_number or h.total_parts) and not (1 <= h.part_number <= h.total_parts):
        raise PacketError(
            f"PartNumber {h.part_number} is not within 1..TotalParts ({h.total_parts})"
        ).at(where)
    if p.data.encryption or root.find("Schema[@encryption]") is not None:
        raise PacketError("encrypted packets (v1.5) are not supported").at(where)
    if rows is None:
        return
    if rows and not p.schema.fields:
        raise PacketError("schema is required when data is present").at(where)
    if (h.records_in_part and not p.data.compression and is_legacy(p.version)
            and h.records_in_part != rows):
        raise PacketError(
            f"RecordsInPart mismatch: header declares {h.records_in_part} rows, "
            f"<Data> contains {rows}"
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
class _Run:
    """Consecutive rows of a part as text columns, split and compact-expanded, as typed
    rows when the compiled decoder took them (:mod:`tdtp_core.packet.rowdecode`), or as
    the row strings themselves when the consumer asked for them."""

    columns: list[list[str]]
    #: Columns may hold the placeholders of ``split_columns`` (restored per batch).
    escaped: bool
    #: The run's first row in its part (0-based), for error messages.
    first_row: int
    rows: list[tuple[Any, ...]] | None = None
    texts: list[str] | None = None

    def __len__(self) -> int:
        if self.rows is not None:
            return len(self.rows)
        if self.texts is not None:
            return len(self.texts)
        return len(self.columns[0]) if self.columns else 0


def _even(blocks: Iterable[list[str]], size: int) -> Iterator[list[str]]:
    """Regroup lists of rows into lists of exactly ``size`` (the last may be shorter)."""
    pending: list[str] = []
    for block in blocks:
        pending += block
        if len(pending) >= size:
            cut = len(pending) - len(pending) % size
            for start in range(0, cut, size):
                yield pending[start:start + size]
            pending = pending[cut:]
    if pending:
        yield pending


class _PartCheck:
    """Every check of one part in Appendix A's order, fed its rows a run at a time.

    A problem met while rows stream by (a row with the wrong number of cells) is held
    until the part has ended, so the error raised is the one the reference's order names
    first. The split runs are kept for decoding while they fit :data:`_HOLD_CELLS`.
    """

    def __init__(self, p: PacketInfo, verify: bool, run_rows: int, *,
                 typed: bool = False, texts: bool = False) -> None:
        """``p`` is the envelope the rows are read under (its rows are not used);
        ``typed``: runs go to typed rows, so the compiled decoder may make them;
        ``texts``: runs keep their row strings unsplit where they are plain (no compact
        gaps, no dictionary)."""
        self.run_rows = run_rows
        self.fields = len(p.schema.fields)
        self.pad = p.data.compact
        self.carry = p.data.carry
        self.schema = p.schema
        self.hash = (integrity.DataHash(p.header.message_id)
                     if verify and p.root_xxh3 and not is_legacy(p.version) else None)
        self.expander = compact_mod.Expander(p.schema, p.data.carry) if p.data.compact else None
        self.decoder = rowdecode.decoder_for(p.schema) if typed and not p.data.compact else None
        self.texts = texts and not p.data.compact and not p.schema.dictionary
        #: The single ``<R>`` of a compressed part, decompressed once the part is read.
        self.compressed: list[str] | None = [] if p.data.compression else None
        self.rows = 0
        self.kept: list[_Run] | None = []
        self.bad_row: CellCountError | None = None

    def add(self, texts: list[str]) -> None:
        if self.compressed is not None:
            self.compressed += texts
            self.rows += len(texts)
        else:
            self._add(texts)

    def _add(self, texts: list[str]) -> None:
        first = self.rows
        self.rows += len(texts)
        if self.hash is not None:
            self.hash.update(texts)
        if self.bad_row is not None or not self.fields:
            return  # the part fails: only the checks that come before go on
        try:
            if self.kept is None and self.expander is None:
                check_cells(texts, self.fields, pad=self.pad)  # split when read again
                return
            run = self.split(texts, first)
        except CellCountError as exc:
            self.bad_row = CellCountError(first + exc.index, exc.count)
            self.kept = None
            return
        if self.kept is not None:
            # A compressed part is in memory anyway, and could not be read again cheaply.
            if self.rows * self.fields > _HOLD_CELLS and self.compressed is None:
                self.kept = None
            else:
                self.kept.append(run)

    def split(self, texts: list[str], first: int) -> _Run:
        if self.texts:
            check_cells(texts, self.fields)
            return _Run([], False, first, texts=texts)
        if self.decoder is not None:
            rows = self.decoder.decode(texts)
            if rows is not None:
                return _Run([], False, first, rows)
        columns, escaped = split_columns(texts, self.fields, pad=self.pad)
        if self.expander is not None:
            self.expander.expand(columns)
        return _Run(columns, escaped, first)

    def finish(self, p: PacketInfo, root: _Element) -> None:
        """Raise the part's first problem, if any."""
        _validate_structure(p, root, self.rows)
        if self.compressed:
            rows = _decompress(p, self.compressed)
            self.compressed = []
            self.rows = 0
            for start in range(0, len(rows), self.run_rows):
                self._add(rows[start:start + self.run_rows])
        if self.hash is not None:
            assert p.root_xxh3 is not None
            try:
                integrity.verify(p.header.message_id, p.schema, self.hash.hexdigest(),
                                 schema_xxh3=p.schema_xxh3, data_xxh3=p.data.xxh3,
                                 packet_xxh3=p.root_xxh3)
            except IntegrityError as exc:
                raise exc.at(p.where) from None
        if self.bad_row is not None:
            raise SchemaError(f"expected {self.fields} values, got {self.bad_row.count}").at(
                f"{p.where} row {self.bad_row.index + 1}")
        if self.expander is not None and p.data.tail and self.expander.gap is not None:
            raise PacketError(
                f"compact tail row: fixed field {self.expander.gap!r} is empty").at(p.where)

    def restart(self) -> None:
        """Before the rows are read again to be decoded."""
        self.rows = 0
        self.hash = None
        if self.expander is not None:
            self.expander = compact_mod.Expander(self.schema, self.carry)


class _Part:
    """One part of a packet set, read and checked lazily: :meth:`runs` checks the whole
    part before it yields the first run, then :attr:`packet` is the part as read."""

    def __init__(self, source: Source, name: str, *, verify: bool, tolerant: bool,
                 run_rows: int, typed: bool = False, texts: bool = False) -> None:
        self.source = source
        self.name = name
        self.verify = verify
        self.tolerant = tolerant
        self.run_rows = run_rows
        #: Runs become typed rows (the compiled decoder may make them; not when tolerant,
        #: whose cells need control characters restored).
        self.typed = typed and not tolerant
        #: Runs keep their row strings (not when tolerant: control characters).
        self.texts = texts and not tolerant
        self.packet: PacketInfo | None = None

    def _texts(self) -> Iterator[list[str]]:
        """The part's rows in runs, from a fresh reading."""
        return _even(_Scan(self.source, self.name, tolerant=self.tolerant).texts(),
                     self.run_rows)

    def runs(self) -> Iterator[_Run]:
        """The part's rows as split runs, once all of the part is checked: the runs the
        check kept, or those of a second reading when the part was too big to hold."""
        scan = _Scan(self.source, self.name, tolerant=self.tolerant)
        check: _PartCheck | None = None
        for texts in _even(scan.texts(), self.run_rows):
            if check is None and not scan.late:
                check = self._early_check(scan)
            if check is not None:
                check.add(texts)
        packet = scan.packet()
        assert scan.root is not None
        if check is None or scan.late:
            # Rows came before the envelope was complete: check again under the packet's.
            check = _PartCheck(packet, self.verify, self.run_rows, typed=self.typed,
                               texts=self.texts)
            if scan.rows:
                for texts in self._texts():
                    check.add(texts)
        check.finish(packet, scan.root)
        self.packet = packet
        if check.kept is not None:
            kept = check.kept[::-1]
            check.kept = None
            while kept:
                yield kept.pop()  # each run is freed once decoded
            return
        rows = check.rows
        check.restart()
        changed = PacketError("the file changed while it was read").at(packet.where)
        for texts in self._texts():
            try:
                run = check.split(texts, check.rows)
            except CellCountError:
                raise changed from None
            yield run
            check.rows += len(texts)
        if check.rows != rows:
            raise changed

    def _early_check(self, scan: _Scan) -> _PartCheck | None:
        """A check under the envelope read so far, when it is complete."""
        if scan.header_el is None or scan.schema is None or not scan.data.seen:
            scan.late = True
            return None
        try:
            envelope = scan.packet()
        except TdtpError:
            scan.late = True  # the final parse of the envelope raises it, if it stays
            return None
        return _PartCheck(envelope, self.verify, self.run_rows, typed=self.typed,
                          texts=self.texts)


def _unshield(m: re.Match[str]) -> str:
    c = m.group(1)
    return c if c == _SHIELD else chr(ord(c) - _PRIVATE_BASE)


def _restore_controls(text: str) -> str:
    return _SHIELDED.sub(_unshield, text) if _SHIELD in text else text


def _text_columns(run: _Run, schema: Schema, start: int, stop: int,
                  tolerant: bool) -> list[Any]:
    columns: list[Any] = (run.columns if start == 0 and stop >= len(run)
                          else [col[start:stop] for col in run.columns])
    if run.escaped:
        columns = [restore_column(c) for c in columns]
    if schema.dictionary:
        lookup = {e.short: e.full for e in schema.dictionary}
        columns = [[lookup.get(c, c) for c in col] for col in columns]
    if tolerant:
        columns = [[_restore_controls(c) for c in col] for col in columns]
    return columns


def _run_cells(part: _Part, run: _Run, *, tolerant: bool,
               step: int) -> Iterator[CellColumns]:
    """A run's cell texts in batches, column-wise, with what decoding them needs."""
    p = part.packet
    assert p is not None
    if run.texts is not None:
        for start in range(0, len(run), step):
            yield CellColumns(None, p.schema, p.where, run.first_row + start,
                              rows=run.texts[start:start + step])
        return
    for start in range(0, len(run), step):
        yield CellColumns(_text_columns(run, p.schema, start, start + step, tolerant),
                          p.schema, p.where, run.first_row + start)


def _cell_batches(part: _Part, *, tolerant: bool, batch_size: int) -> Iterator[CellColumns]:
    """A part's cell texts in batches, column-wise, with what decoding them needs (and
    the row strings, when the part keeps them)."""
    step = batch_size if batch_size > 0 else part.run_rows
    for run in part.runs():
        yield from _run_cells(part, run, tolerant=tolerant, step=step)


def _decoded(part: _Part, *, tolerant: bool, raw: bool, batch_size: int) -> Iterator[Batch]:
    """Typed rows in batches (cell texts with ``raw``); a bad value names part, row and
    field."""
    step = batch_size if batch_size > 0 else part.run_rows
    for run in part.runs():
        if run.rows is not None:  # decoded in C
            for start in range(0, len(run.rows), step):
                yield run.rows[start:start + step]
            continue
        for cells in _run_cells(part, run, tolerant=tolerant, step=step):
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
    run_rows = batch_size if batch_size > 0 else _RUN_ROWS

    def part(head: PacketInfo, *, typed: bool = False, texts: bool = False) -> _Part:
        return _Part(by_source[id(head)], head.source, verify=verify, tolerant=tolerant,
                     run_rows=run_rows, typed=typed, texts=texts)

    def batches() -> Iterator[Batch]:
        for head in ordered:
            yield from _decoded(part(head, typed=not raw), tolerant=tolerant, raw=raw,
                                batch_size=batch_size)

    def cells(head: PacketInfo, *, rows: bool = False) -> Iterator[CellColumns]:
        return _cell_batches(part(head, texts=rows), tolerant=tolerant, batch_size=batch_size)

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
