"""Property tests: any table of any TDTP types survives write → read exactly, with every
writer option (compression, integrity, compact with fixed fields, many small parts) and
with the parts handed back in any order."""

from __future__ import annotations

import random
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tdtp_core import NODATE, Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.packet import PacketWriter, WriteOptions, encode_packets, inspect_packet
from tdtp_core.packet.encode import RowEncoder
from tdtp_core.stream import EncodedRows

from .support import assert_rows_equal

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Characters XML 1.0 cannot carry (DECISIONS 2); surrogates are excluded by the codec.
_NOT_XML = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])) + "\ufffe\uffff"
XML_CHARS = st.characters(codec="utf-8", exclude_characters=_NOT_XML)
TRICKY_TEXT = [
    "", " ", "|", "||", "\\", "\\\\", "a\\", "\\n", "\\|", "\n", "\r", "\r\n", "\t",
    "a|b\\c\nd\re\r\nf\tg", "&", "<", ">", '"', "'", "&amp;", "&#xD;", "<R>x</R>", "]]>",
    "[NULL]", "[NULL:0]", "NaN", "INF", "-INF", "0000-00-00", "\U0001f600", "𝄞 clef",
    "\u0085\u2028\u2029", "\ufeff", "\ufffd", "\uf701", "кириллица", " lead", "trail ",
]
texts = st.text(XML_CHARS, max_size=16) | st.sampled_from(TRICKY_TEXT)
names = st.text(XML_CHARS, min_size=1, max_size=8).filter(lambda s: not s.startswith("_"))
offsets = st.sampled_from([UTC, timezone(timedelta(hours=3)), timezone(timedelta(hours=-5,
                                                                                  minutes=-30))])


@dataclass(frozen=True)
class Kind:
    """One column kind: how to build its field and draw its values."""

    label: str
    field: Any  # Callable[[str, DrawFn], Field]
    values: Any  # Callable[[Field], SearchStrategy]


def _decimal_field(name: str, draw: Any) -> Field:
    scale = draw(st.integers(0, 10))
    precision = draw(st.integers(max(scale, 1), 38))
    return Field(name, "DECIMAL", precision=precision, scale=scale or None)


def _decimal_values(field: Field) -> st.SearchStrategy[Any]:
    scale = field.scale or 0
    limit = Decimal(10) ** ((field.precision or 18) - scale) - 1
    finite = st.decimals(min_value=-limit, max_value=limit, places=scale,
                         allow_nan=False, allow_infinity=False)
    return finite | st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])


KINDS = [
    Kind("INTEGER", lambda n, d: Field(n, "INTEGER", key=d(st.booleans())),
         lambda f: st.integers(-(2**63), 2**63 - 1) | st.sampled_from([-(2**63), 2**63 - 1])),
    Kind("REAL", lambda n, d: Field(n, "REAL"),
         lambda f: st.floats(allow_nan=True, allow_infinity=True)),
    Kind("FLOAT", lambda n, d: Field(n, "FLOAT"), lambda f: st.floats(width=32)),
    Kind("DECIMAL", _decimal_field, _decimal_values),
    Kind("TEXT", lambda n, d: Field(n, "TEXT", length=d(st.sampled_from([None, 100, -1]))),
         lambda f: texts),
    Kind("VARCHAR", lambda n, d: Field(n, "VARCHAR", subtype="nvarchar"), lambda f: texts),
    Kind("BOOLEAN", lambda n, d: Field(n, "BOOLEAN"), lambda f: st.booleans()),
    Kind("DATE", lambda n, d: Field(n, "DATE"), lambda f: st.dates() | st.just(NODATE)),
    Kind("TIMESTAMP_TZ", lambda n, d: Field(n, "TIMESTAMP", timezone="UTC"),
         lambda f: st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31),
                                timezones=offsets) | st.just(NODATE)),
    Kind("TIMESTAMP", lambda n, d: Field(n, "TIMESTAMP"),
         lambda f: st.datetimes() | st.just(NODATE)),
    Kind("DATETIME_TZ", lambda n, d: Field(n, "DATETIME", timezone="+03:00"),
         lambda f: st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31),
                                timezones=st.just(UTC))),
    Kind("TIME", lambda n, d: Field(n, "TIMESTAMP", subtype="time"), lambda f: st.times()),
    Kind("TEXT_TIME", lambda n, d: Field(n, "TEXT", subtype="time"), lambda f: st.times()),
    Kind("BLOB", lambda n, d: Field(n, "BLOB"), lambda f: st.binary(max_size=24)),
]


@dataclass
class Table:
    name: str
    schema: Schema
    rows: list[tuple[Any, ...]]
    #: How many rows the writer gets at a time (batch boundaries matter for parts).
    batch_size: int = 7

    def stream(self) -> TableStream:
        return TableStream.from_rows(self.schema, self.rows, table=self.name,
                                     batch_size=self.batch_size)


@st.composite
def tables(draw: Any, *, max_rows: int = 25, runs_in_first: bool = False) -> Table:
    """A table of 1–6 random columns with NULLs anywhere.

    ``runs_in_first`` makes the first column repeat values in runs, as fixed fields do.
    """
    table = draw(st.text(XML_CHARS, min_size=1, max_size=12))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    field_names = draw(st.lists(names, min_size=len(kinds), max_size=len(kinds), unique=True))
    fields = [k.field(n, draw) for k, n in zip(kinds, field_names, strict=True)]
    columns = [k.values(f) | st.none() for k, f in zip(kinds, fields, strict=True)]
    rows = draw(st.lists(st.tuples(*columns), max_size=max_rows))
    if runs_in_first and rows:
        pool = draw(st.lists(columns[0], min_size=1, max_size=3))
        rows = [(pool[i * len(pool) // len(rows)], *row[1:]) for i, row in enumerate(rows)]
    return Table(table, Schema(fields), rows, draw(st.sampled_from([1, 2, 7, 5000])))


#: Known hard cases, always tried first.
EMPTY_TEXT_ROW = Table("t", Schema([Field("v", "TEXT")]), [("",)])
EMPTY_BLOB_ROW = Table("t", Schema([Field("v", "BLOB")]), [(b"",)])
NULL_TEXT_SPLIT = Table("t", Schema([Field("v", "TEXT")]), [("[NULL]",), (None,)], batch_size=1)
BIG_ROWS = Table("t", Schema([Field("id", "INTEGER"), Field("v", "TEXT")]),
                 [(i, "x" * 40) for i in range(5)], batch_size=2)


def envelope(table: Table, **options: Any) -> int:
    """Bytes a part of this table takes besides its rows (the writer's own estimate)."""
    with PacketWriter(table.schema, table.name, WriteOptions(**options)) as writer:
        return writer.part_size - writer.budget


def assert_survives(table: Table, parts: list[Any]) -> None:
    stream = read_packets(*parts)
    assert stream.table == table.name
    assert stream.schema == table.schema
    assert_rows_equal(table.rows, stream.rows())


# ---------------------------------------------------------------------------- tests


@SETTINGS
@example(EMPTY_TEXT_ROW)
@example(EMPTY_BLOB_ROW)
@example(NULL_TEXT_SPLIT)
@given(tables())
def test_plain_round_trip(table: Table) -> None:
    parts = encode_packets(table.stream())
    assert len(parts) == 1
    assert_survives(table, parts)


@SETTINGS
@example(EMPTY_TEXT_ROW)
@example(EMPTY_BLOB_ROW)
@given(tables())
def test_compressed_round_trip(zstd_codec: Any, table: Table) -> None:
    assert_survives(table, encode_packets(table.stream(), compress="zstd", compress_level=1))


@SETTINGS
@example(EMPTY_TEXT_ROW)
@given(tables())
def test_integrity_round_trip(table: Table) -> None:
    parts = encode_packets(table.stream(), integrity=True)
    assert inspect_packet(parts[0]).root_xxh3
    assert_survives(table, parts)


@SETTINGS
@given(tables(runs_in_first=True))
def test_compact_round_trip(table: Table) -> None:
    fixed = [table.schema.fields[0].name]
    assert_survives(table, encode_packets(table.stream(), compact=True, fixed_fields=fixed))


@SETTINGS
@example(BIG_ROWS, 1, random.Random(0))
@given(tables(runs_in_first=True), st.integers(1, 800), st.randoms(use_true_random=False))
def test_many_parts_in_any_order(table: Table, extra: int, rnd: random.Random) -> None:
    part_size = envelope(table) + extra
    parts = encode_packets(table.stream(), part_size=part_size)
    assert all(len(p) <= part_size for p in parts if inspect_packet(p).header.records_in_part > 1)
    rnd.shuffle(parts)
    assert_survives(table, parts)


# Not shrunk: the single-option tests above shrink the same failures far faster.
@settings(SETTINGS, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(tables(runs_in_first=True), st.integers(1, 800), st.randoms(use_true_random=False))
def test_every_option_at_once(
    zstd_codec: Any, table: Table, extra: int, rnd: random.Random
) -> None:
    options = dict(compress="zstd", compress_level=1, integrity=True, compact=True,
                   fixed_fields=[table.schema.fields[0].name])
    parts = encode_packets(table.stream(), part_size=envelope(table, **options) + extra,
                           **options)
    rnd.shuffle(parts)
    assert_survives(table, parts)


# Files are slow to shrink over; the in-memory tests above shrink the same failures.
@settings(SETTINGS, max_examples=40, phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(tables(max_rows=40), st.randoms(use_true_random=False))
def test_part_files_in_any_order_and_by_discovery(table: Table, rnd: random.Random) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "table.tdtp.xml"
        paths = write_packets(table.stream(), target, part_size=envelope(table) + 300)
        shuffled = list(paths)
        rnd.shuffle(shuffled)
        assert_survives(table, shuffled)
        assert_survives(table, [rnd.choice(paths)])
        if len(paths) > 1:
            assert_survives(table, [target])


@pytest.mark.parametrize("batch_size", [1, 3, 5000])
def test_batch_size_does_not_change_rows(batch_size: int) -> None:
    table = Table("t", Schema([Field("id", "INTEGER"), Field("v", "TEXT")]),
                  [(i, f"v{i}") for i in range(23)])
    parts = encode_packets(table.stream(), part_size=envelope(table) + 60)
    rows = table.rows
    assert len(parts) > 2
    stream = read_packets(*parts, batch_size=batch_size)
    batches = list(stream.batches())
    assert [r for b in batches for r in b] == rows
    assert all(len(b) == batch_size for b in batches[:-1])


@settings(SETTINGS, max_examples=40)
@given(st.lists(texts, min_size=1, max_size=60), st.integers(1, 25), st.integers(0, 400))
def test_parts_do_not_depend_on_how_rows_are_batched(cells: list[str], batch_size: int,
                                                     extra: int) -> None:
    """The writer cuts parts at the same rows whether a batch fits the part whole or
    has to be split row by row."""
    schema = Schema([Field("id", "INTEGER"), Field("v", "TEXT")])
    table = Table("t", schema, [(i, t) for i, t in enumerate(cells)])

    def bodies(size: int) -> list[bytes]:
        stream = TableStream.from_rows(schema, table.rows, table="t", batch_size=size)
        parts = encode_packets(stream, part_size=envelope(table) + 120 + extra,
                               message_id="BATCHES")
        # A text holding the literal [NULL] makes the writer pick a random marker, for
        # the rest of the batch it came in: which marker a part declares may differ.
        return [re.sub(rb'marker="\[NULL(:[0-9a-f]{8})?\]"', b'marker="NULL"',
                       p[p.index(b"<Schema"):]) for p in parts]

    assert bodies(batch_size) == bodies(1)


@settings(SETTINGS, max_examples=40)
@given(tables(runs_in_first=True), st.integers(1, 7), st.integers(0, 400),
       st.sampled_from(["text", "utf-8", "mixed"]), st.booleans())
def test_rows_given_as_utf8_make_the_same_packets(
        table: Table, batch_size: int, extra: int, form: str, compact: bool) -> None:
    """A lane may hand the writer its rows as UTF-8 bytes (all of a batch, batches of
    either kind in one part): the packets are those of the same rows as text."""
    encoder = RowEncoder(table.schema.fields, table.name)

    def lane(as_bytes: bool | None) -> TableStream:
        def encoded(replace_invalid: bool) -> Iterator[EncodedRows]:
            for n, start in enumerate(range(0, len(table.rows), batch_size)):
                batch = table.rows[start:start + batch_size]
                rows, flags = encoder.encode(list(zip(*batch, strict=True)), start)
                utf8 = as_bytes if as_bytes is not None else n % 2 == 1
                yield EncodedRows([r.encode() for r in rows] if utf8 else rows, flags)

        return TableStream(table.schema, iter(()), table=table.name, encoded=encoded)

    options: dict[str, Any] = dict(compact=True, fixed_fields=[table.schema.fields[0].name]) \
        if compact else {}

    def bodies(stream: TableStream) -> list[bytes]:
        parts = encode_packets(stream, part_size=envelope(table, **options) + 120 + extra,
                               message_id="FORMS", **options)
        # A text holding the literal [NULL] makes the writer pick a random marker.
        return [re.sub(rb"\[NULL:[0-9a-f]{8}\]", b"[NULL:random]", p[p.index(b"<Schema"):])
                for p in parts]

    given_form = {"text": False, "utf-8": True, "mixed": None}[form]
    assert bodies(lane(given_form)) == bodies(lane(False))
