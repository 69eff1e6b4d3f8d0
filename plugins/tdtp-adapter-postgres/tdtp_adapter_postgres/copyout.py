"""``COPY … TO STDOUT`` text straight to packet rows: the PostgreSQL export lane.

COPY's text format is nearly TDTP's row syntax already: cells joined by a tab instead of
``|``, a backslash written ``\\\\`` and a line feed ``\\n`` exactly as TDTP escapes them.
So a whole batch of rows becomes packet rows with a handful of operations on one byte
string: NULLs (``\\N``) become the writer's NULL stand-in, ``|`` is escaped, tabs become
the writer's cell separator. The server renders the few types whose COPY text is not
TDTP's cell text (booleans, timestamps, numerics without a declared scale) in the
SELECT itself (:func:`lane_expression`), and flags with a control character (``FLAG``)
every value whose text needs more than that: float exponents, NaN and infinities,
dates out of Python's range.

A batch takes the string path only when it provably gives the rows the typed path
would: no flagged value, no other backslash escape, no character XML cannot carry, no
literal ``[NULL]``. Any other batch is split into cells and decoded, then encoded as the
typed path does. The string path runs in C when the plugin's optional module
(``_copytext.c``) was built: one pass over the batch instead of a check, a regex call per
NULL cell and a handful of replacements, giving the same bytes.
"""

from __future__ import annotations

import re
import select
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

import psycopg
from psycopg import pq

from tdtp_core.errors import AdapterError
from tdtp_core.packet.encode import NEEDS_XML_ESCAPE, RowEncoder
from tdtp_core.stream import EncodedRows
from tdtp_core.types import BLOB, BOOLEAN, DATE, DATE_KINDS, DECIMAL, INTEGER, REAL, Field
from tdtp_core.values import HAS_NULL, NULL_SENTINEL, CellError, column_decoder

compiled: ModuleType | None
try:
    from tdtp_adapter_postgres import _copytext as compiled
except ImportError:  # built without a C compiler
    compiled = None

#: Marks a value to be decoded rather than taken as it is (see the module docstring).
FLAG = "\x01"
_DAYS = "'0001-01-01' AND '9999-12-31 23:59:59.999999'"
#: Below these magnitudes (and from 1e-4 up) floats print without an exponent.
_POSITIONAL = {"REAL": "1e5", "FLOAT4": "1e5"}
_POSITIONAL_FLOAT8 = "1e14"

# Bytes a clean batch cannot hold: control characters (XML cannot carry them; COPY
# escapes \b \f \v itself), FLAG among them; and U+FFFE / U+FFFF.
_CONTROL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)
_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")
#: Escape pairs, matched from the left: group 1 is set for any but \\, \n and \N.
_ESCAPE_PAIR = re.compile(rb"\\(?:[\\nN]|(.))", re.DOTALL)
_NULL = re.compile(rb"\\N(?=[\x00\n]|\Z)")
_COPY_ESCAPE = re.compile(r"\\(.)")
_UNESCAPE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def copy_out(conn: psycopg.Connection[Any], sql: str, rows: int) -> Iterator[bytes]:
    """The output of ``COPY … TO STDOUT`` in chunks of ``rows`` rows, read straight
    from libpq (``PGconn.get_copy_data``): psycopg's iteration costs a generator round
    per row, twice the CPU of the read itself."""
    with conn.cursor() as cursor, cursor.copy(sql):
        pgconn = conn.pgconn
        get = pgconn.get_copy_data
        buffered = bytearray()  # copying each row frees libpq's buffer at once
        count = 0
        while True:
            size, data = get(1)
            if size > 0:
                buffered += data
                count += 1
                if count == rows:
                    yield bytes(buffered)
                    buffered.clear()
                    count = 0
            elif size == 0:  # nothing complete in libpq's buffer: wait for the socket
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            else:
                break
        # The COPY's own result first: the connection is idle again before the caller
        # sees the last rows (and may stop there).
        while (result := pgconn.get_result()) is not None:
            if result.status != pq.ExecStatus.COMMAND_OK:
                raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
        if buffered:
            yield bytes(buffered)


def lane_expression(name: str, field: Field, native: str,
                    scale_declared: bool) -> str | None:
    """How the lane's SELECT renders the column ``name`` (already quoted) of native type
    ``native`` so that its COPY text is the packet's cell text or a flagged value; None:
    the type has no place in the lane."""
    kind = field.kind
    if field.is_time or kind == BLOB:
        return None
    if field.is_text or kind == INTEGER:
        return name
    if kind == REAL:
        bound = _POSITIONAL.get(native, _POSITIONAL_FLOAT8)
        return (f"CASE WHEN abs({name}) < {bound} AND (abs({name}) >= 1e-4 OR {name} = 0) "
                f"THEN {name}::text ELSE chr(1) || {name}::text END")
    if kind == DECIMAL:
        scale = field.scale or 0
        value = name if scale_declared else \
            f"CASE WHEN scale({name}) < {scale} THEN round({name}, {scale}) ELSE {name} END"
        return (f"CASE WHEN {name} BETWEEN -1e300 AND 1e300 THEN ({value})::text "
                f"ELSE chr(1) || {name}::text END")
    if kind == BOOLEAN:
        return f"CASE WHEN {name} THEN '1' WHEN NOT {name} THEN '0' END"
    if kind == DATE:
        return (f"CASE WHEN {name} BETWEEN {_DAYS} THEN {name}::text "
                f"ELSE chr(1) || {name}::text END")
    if kind in DATE_KINDS:
        utc = f"({name} AT TIME ZONE 'UTC')" if field.timezone else name
        return (f"CASE WHEN {utc} BETWEEN {_DAYS} THEN replace({utc}::text, ' ', 'T') || 'Z' "
                f"ELSE chr(1) || {utc}::text END")
    return None


class CopyRows:
    """Batches of the lane's COPY text rows to packet rows (see the module docstring)."""

    def __init__(self, table: str, fields: Sequence[Field], nullable: Sequence[bool],
                 encoder: RowEncoder) -> None:
        self.table = table
        self.fields = list(fields)
        self.nullable = frozenset(i for i, n in enumerate(nullable) if n)
        self.nullable_bytes = bytes(1 if n else 0 for n in nullable)
        self.encoder = encoder
        # Cell texts to values as a packet reader decodes them (text stays text).
        self.decoders = [column_decoder(f.replace(special_values=None)) for f in fields]

    def __call__(self, chunk: bytes, first_row: int = 0) -> EncodedRows:
        """One batch: the rows as COPY sent them, each ending with a line feed."""
        data = chunk[:-1]
        if compiled is not None:
            made = compiled.packet_rows(data, self.nullable_bytes)
            if made is not None:
                return EncodedRows(*made)
        elif _clean(data):
            return self._rows(data)
        return self._cells(data.decode("utf-8"), first_row)

    def _rows(self, data: bytes) -> EncodedRows:
        flags = [0] * len(self.fields)
        if b"&" in data or b"<" in data or b">" in data:
            flags[0] |= NEEDS_XML_ESCAPE  # the writer asks whether any column has it
        data = data.replace(b"\t", b"\x00")
        if b"\\N" in data:
            data = self._nulls(data, flags)
        if b"|" in data:
            data = data.replace(b"|", b"\\|")
        return EncodedRows(data.split(b"\n"), flags)  # UTF-8: the writer takes it so

    def _nulls(self, data: bytes, flags: list[int]) -> bytes:
        """NULL cells to the writer's stand-in, flagging each column that has one."""
        unseen = set(self.nullable)
        sentinel = NULL_SENTINEL.encode("ascii")

        def null(m: re.Match[bytes]) -> bytes:
            at = m.start()
            if at and data[at - 1] not in b"\x00\n":
                return b"\\N"  # the end of an escaped backslash followed by N
            if unseen:
                column = data.count(b"\x00", data.rfind(b"\n", 0, at) + 1, at)
                if column in unseen:
                    unseen.discard(column)
                    flags[column] |= HAS_NULL
            return sentinel

        return _NULL.sub(null, data)

    def _cells(self, text: str, first_row: int) -> EncodedRows:
        """The decoding path: COPY cells to values, then the writer's own encoding."""
        nf = len(self.fields)
        flat = text.replace("\n", "\t").split("\t") if text else []
        columns: list[Sequence[Any]] = []
        for i in range(nf):
            cells = [None if c == "\\N" else c for c in flat[i::nf]]
            if any(c is not None and "\\" in c for c in cells):
                cells = [None if c is None else _COPY_ESCAPE.sub(_copy_char, c) for c in cells]
            columns.append(self._decode(i, cells))
        rows, flags = self.encoder.encode(columns, first_row)
        return EncodedRows(rows, flags)

    def _decode(self, index: int, cells: list[str | None]) -> Sequence[Any]:
        field = self.fields[index]
        present = [c for c in cells if c is not None]
        if not field.is_text:  # the server's flags; in text, FLAG is the value's own
            present = [c[1:] if c.startswith(FLAG) else c for c in present]
        try:
            values = self.decoders[index](present)
        except CellError as exc:
            raise self._unreadable(field, present[exc.index], str(exc)) from None
        if len(present) == len(cells):
            return values
        it = iter(values)
        return [None if c is None else next(it) for c in cells]

    def _unreadable(self, field: Field, value: str, reason: str) -> AdapterError:
        return AdapterError(f"table {self.table!r}, column {field.name!r}: cannot read "
                            f"{value!r} as {field.type} ({reason})")


def _copy_char(m: re.Match[str]) -> str:
    return _UNESCAPE.get(m.group(1), m.group(1))


def _clean(data: bytes) -> bool:
    """Whether a batch can take the string path (see the module docstring)."""
    if data.translate(None, _NOT_CONTROL) or b"[NULL]" in data:
        return False
    if b"\xef\xbf" in data and any(s in data for s in _NONCHARACTERS):  # one scan, mostly
        return False
    return not (b"\\" in data and any(_ESCAPE_PAIR.findall(data)))
