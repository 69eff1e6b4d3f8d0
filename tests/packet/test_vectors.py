"""Wire-format vectors from the spec: row escaping (§2.1), XML text (§2.2–2.3, EXPECTED.md
"Row-level vectors"), the writer's byte form (§1.3, §1.14), canonical schema (§6.2),
integrity (§6.4), checksum (§4.3), compact (§5.2), part naming (§3.4), newlines, and the
per-type cell texts (§2.5)."""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xxhash

from tdtp_core import (
    NODATE,
    DictionaryEntry,
    Field,
    PacketError,
    Schema,
    SpecialValues,
    TableStream,
    read_packets,
    write_packets,
)
from tdtp_core.packet import encode_packets, parse_packet
from tdtp_core.packet import integrity as integ
from tdtp_core.packet.encode import decode_row, escape_cell, join_row
from tdtp_core.packet.schema_xml import schema_xml
from tdtp_core.packet.writer import part_path
from tdtp_core.packet.xmlform import escape_a

from .support import PROLOG, assert_rows_equal, sizes

ONE_TEXT = '<Field name="v" type="TEXT"></Field>'

# ----------------------------------------------------------------- §2.1 row strings

DECODE_VECTORS = [
    ("value1|value2|value3", ["value1", "value2", "value3"]),
    ("path\\|to\\|file|value2|value3", ["path|to|file", "value2", "value3"]),
    ("C:\\\\Windows\\\\System32|value2", ["C:\\Windows\\System32", "value2"]),
    ("C:\\\\path\\|to\\|file|value2", ["C:\\path|to|file", "value2"]),
    ("|value2||value4", ["", "value2", "", "value4"]),
    ("single", ["single"]),
    ("value1\\", ["value1\\"]),
    ("value1\\\\", ["value1\\"]),
    ("value1\\|value2", ["value1|value2"]),
    ("value1\\\\\\|value2", ["value1\\|value2"]),
    ("|||", ["", "", "", ""]),
    ("", [""]),
    ("a\\nb", ["a\nb"]),
    ("\\t|\\r|\\x", ["t", "r", "x"]),
    ("raw\nlf|x", ["raw\nlf", "x"]),
]

ENCODE_VECTORS = [
    ("simple value", "simple value"),
    ("path|to|file", "path\\|to\\|file"),
    ("C:\\Windows\\System32", "C:\\\\Windows\\\\System32"),
    ("C:\\path|to|file", "C:\\\\path\\|to\\|file"),
    ("value\\|with\\|escaped", "value\\\\\\|with\\\\\\|escaped"),
    ("", ""),
    ("line1\nline2", "line1\\nline2"),
]


@pytest.mark.parametrize(("row", "cells"), DECODE_VECTORS)
def test_decode_row_vector(row: str, cells: list[str]) -> None:
    assert decode_row(row) == cells


@pytest.mark.parametrize(("cell", "escaped"), ENCODE_VECTORS)
def test_escape_cell_vector(cell: str, escaped: str) -> None:
    assert escape_cell(cell) == escaped


@pytest.mark.parametrize(("cell", "escaped"), ENCODE_VECTORS)
def test_escaped_cell_decodes_back(cell: str, escaped: str) -> None:
    assert decode_row(escaped) == [cell]


def test_join_row_joins_escaped_cells() -> None:
    assert join_row(["a|b", "c\\", "", "d\ne"]) == "a\\|b|c\\\\||d\\ne"


@pytest.mark.parametrize(("row", "cells"), DECODE_VECTORS)
def test_decode_vector_through_the_reader(
    make_packet: Callable[..., bytes], row: str, cells: list[str]
) -> None:
    """The same vectors read from a packet whose schema has as many TEXT fields."""
    fields = "".join(f'<Field name="f{i}" type="TEXT"></Field>' for i in range(len(cells)))
    xml_row = row.replace("&", "&amp;").replace("<", "&lt;")
    rows = read_packets(make_packet(rows=[xml_row], fields=fields)).rows()
    assert rows == [tuple(cells)]


# ------------------------------------------------------- §2.2–2.3 XML text in <R>

ENTITY_ACCEPTED = [
    ("plain", "plain"),
    ("a&lt;b", "a<b"),
    ("a&gt;b", "a>b"),
    ("a&amp;b", "a&b"),
    ("a&quot;b", 'a"b'),
    ("a&apos;b", "a'b"),
    ("&#60;&#62;", "<>"),
    ("&#x3C;&#x3e;", "<>"),
    ("&amp;amp;", "&amp;"),
    ("&#1055;", "П"),
    ("&#x44F;", "я"),
    ("&#65;", "A"),
    ("&#128512;", "\U0001f600"),
    ("&#x1F600;", "\U0001f600"),
    ("&#xFFFD;", "\ufffd"),
    ("&#34;x&#39;", "\"x'"),
    ("a&#xD;b", "a\rb"),
    ("a&#xD;&#xA;b", "a\r\nb"),
    ("tab\there", "tab\there"),
]

ENTITY_REJECTED = [
    "a&nbsp;b",
    "a&b",
    "&#xZZ;",
    "&#;",
    "&",
    "&#x;",
    "&#0;",
    "&#1;",
    "&#xD800;",
    "&#xFFFE;",
    "&#x110000;",
    "&#99999999999;",
    "&#12z;",
    "&#xg;",
    "&#3C;",
    "a<b",
]


@pytest.mark.parametrize(("text", "value"), ENTITY_ACCEPTED)
def test_xml_text_in_row_is_decoded(
    make_packet: Callable[..., bytes], text: str, value: str
) -> None:
    assert read_packets(make_packet(rows=[text], fields=ONE_TEXT)).rows() == [(value,)]


@pytest.mark.parametrize("text", ENTITY_REJECTED)
def test_bad_xml_text_in_row_is_rejected(
    make_packet: Callable[..., bytes], packet_file: Callable[..., Path], text: str
) -> None:
    path = packet_file(make_packet(rows=[text], fields=ONE_TEXT))
    with pytest.raises(PacketError, match="not well-formed") as exc_info:
        read_packets(path).rows()
    assert str(path) in str(exc_info.value)


DATA_SHAPES = [
    ("empty Data", "<Data></Data>", []),
    ("self-closing Data", "<Data/>", []),
    ("whitespace between rows", "<Data>\n  <R>a</R>\n  <R>b</R>\n</Data>", [("a",), ("b",)]),
    ("empty R", "<Data><R></R></Data>", [("",)]),
    ("self-closing R", "<Data><R/></Data>", [("",)]),
    ("CDATA", "<Data><R><![CDATA[a<b&c|]]></R></Data>", [("a<b&c", "")]),
    ("CDATA mixed with text", "<Data><R>x<![CDATA[<]]>y</R></Data>", [("x<y",)]),
    ("comments between rows", "<Data><!-- c --><R>a</R><!-- d --></Data>", [("a",)]),
    ("comment inside a row", "<Data><R>a<!-- x -->b</R></Data>", [("ab",)]),
    ("processing instruction", "<Data><?pi x?><R>a</R></Data>", [("a",)]),
    ("unknown element in Data", "<Data><R>a</R><Note>n</Note></Data>", [("a",)]),
]


@pytest.mark.parametrize("feed", [None, 1, 9, 100])  # the parser's block size
@pytest.mark.parametrize(("data", "rows"), [c[1:] for c in DATA_SHAPES],
                         ids=[c[0] for c in DATA_SHAPES])
def test_reader_accepts_data_shape(
    make_packet: Callable[..., bytes], data: str, rows: list[tuple[str, ...]],
    feed: int | None
) -> None:
    fields = ONE_TEXT
    if rows and len(rows[0]) == 2:
        fields += '<Field name="w" type="TEXT"></Field>'
    packet = make_packet(rows=[], fields=fields, records=False).replace(
        b"<Data></Data>", data.encode())
    with sizes(feed=feed):
        assert read_packets(packet).rows() == rows


def test_table_and_field_named_data(make_packet: Callable[..., bytes]) -> None:
    fields = '<Field name="Data" type="TEXT"></Field><Field name="R" type="INTEGER"></Field>'
    stream = read_packets(make_packet(table="Data", fields=fields, rows=["x|1"]))
    assert stream.table == "Data"
    assert stream.schema.names == ["Data", "R"]
    assert stream.rows() == [("x", 1)]


def test_unknown_elements_and_attributes_are_ignored(make_packet: Callable[..., bytes]) -> None:
    packet = make_packet(
        root_attrs=' extra="1"', schema_attrs=' note="x"', data_attrs=' future="y"',
        header_extra="<Priority>high</Priority>",
        before_schema="<Extension><R>not a row</R></Extension>",
        fields='<Field name="id" type="INTEGER" colour="red"></Field>', rows=["1"],
    )
    assert read_packets(packet).rows() == [(1,)]


def test_root_children_in_any_order(make_packet: Callable[..., bytes]) -> None:
    """Spec §1.3: readers accept the root's child elements in any order."""
    text = make_packet(rows=["1|Alice"]).decode()
    start, data = text.index("<Header>"), text.index("<Data>")
    end = text.index("</DataPacket>")
    reordered = text[:start] + text[data:end] + text[start:data] + text[end:]
    assert read_packets(reordered.encode()).rows() == [(1, "Alice")]


def test_xml_declaration_is_optional(make_packet: Callable[..., bytes]) -> None:
    assert read_packets(make_packet(prolog="")).rows() == [(1, "Alice"), (2, "Bob")]


def test_root_element_name_is_not_checked(make_packet: Callable[..., bytes]) -> None:
    assert len(read_packets(make_packet(root_tag="TDTP")).rows()) == 2


def test_duplicate_header_element_last_wins(make_packet: Callable[..., bytes]) -> None:
    packet = make_packet(header_extra="<TableName>second</TableName>")
    assert read_packets(packet).header.table_name == "second"


def test_header_integers_are_trimmed(make_packet: Callable[..., bytes]) -> None:
    header = ("<Type>reference</Type><TableName>t</TableName><MessageID>m-P1</MessageID>"
              "<PartNumber> 1 </PartNumber><TotalParts>\n1\n</TotalParts>"
              "<RecordsInPart> 2</RecordsInPart><Timestamp>2026-01-01T00:00:00Z</Timestamp>")
    header_info = read_packets(make_packet(header=header)).header
    assert (header_info.part_number, header_info.total_parts, header_info.records_in_part) == (
        1, 1, 2)


@pytest.mark.parametrize("spelling", ["1", "t", "T", "TRUE", "true", "True", " true "])
def test_boolean_attribute_spellings(make_packet: Callable[..., bytes], spelling: str) -> None:
    fields = f'<Field name="id" type="INTEGER" key="{spelling}"></Field>'
    stream = read_packets(make_packet(fields=fields, rows=["1"]))
    assert stream.schema.fields[0].key is True


def test_text_is_not_trimmed(make_packet: Callable[..., bytes]) -> None:
    stream = read_packets(make_packet(table=" spaced ", rows=["  a  "], fields=ONE_TEXT))
    assert stream.table == " spaced "
    assert stream.rows() == [("  a  ",)]


@pytest.mark.parametrize("version", ["1.10", "2.0"])
def test_versions_compare_numerically(make_packet: Callable[..., bytes], version: str) -> None:
    """DECISIONS 4: ``1.10`` is newer than ``1.3.1``, so no legacy RecordsInPart check."""
    packet = make_packet(version=version, records=5)
    assert len(read_packets(packet).rows()) == 2


def test_legacy_version_checks_records_in_part(make_packet: Callable[..., bytes]) -> None:
    with pytest.raises(PacketError, match="RecordsInPart mismatch"):
        read_packets(make_packet(version="1.3.1", records=5)).rows()


# ---------------------------------------------------------- §1.3 / §1.14 writer form


@pytest.fixture
def users_packet(users_schema: Schema) -> str:
    stream = TableStream.from_rows(users_schema, [(1, "Alice"), (2, "Bob")], table="users")
    (data,) = encode_packets(stream)
    return data.decode("utf-8")


def test_written_packet_starts_with_prolog_line(users_packet: str) -> None:
    assert users_packet.startswith(PROLOG)


def test_written_packet_is_one_line_after_prolog(users_packet: str) -> None:
    assert users_packet.count("\n") == 1
    assert not users_packet.endswith("\n")
    assert users_packet.endswith("</DataPacket>")


def test_written_packet_matches_the_reference_form(users_packet: str) -> None:
    """Spec §1.14 byte for byte, except the random MessageID, the clock and the Null
    marker every non-key TEXT field declares (so its empty cells are not legacy NULLs)."""
    year = datetime.now(UTC).year
    expected = re.escape(
        PROLOG
        + '<DataPacket protocol="TDTP" version="1.0"><Header><Type>reference</Type>'
        "<TableName>users</TableName><MessageID>@ID@</MessageID><PartNumber>1</PartNumber>"
        "<TotalParts>1</TotalParts><RecordsInPart>2</RecordsInPart>"
        "<Timestamp>@TS@</Timestamp></Header>"
        '<Schema><Field name="id" type="INTEGER" key="true"></Field>'
        '<Field name="name" type="TEXT" length="100">'
        '<SpecialValues><Null marker="[NULL]"></Null></SpecialValues></Field></Schema>'
        "<Data><R>1|Alice</R><R>2|Bob</R></Data></DataPacket>"
    )
    expected = expected.replace("@ID@", rf"REF-({year}|{year - 1})-[0-9a-f]{{8}}-P1")
    expected = expected.replace("@TS@", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z")
    assert re.fullmatch(expected, users_packet), users_packet


def test_written_packet_has_rows_in_reference_form(users_packet: str) -> None:
    assert "<R>1|Alice</R><R>2|Bob</R>" in users_packet


def test_written_fields_use_go_marshal_form(users_packet: str) -> None:
    assert "<Field/>" not in users_packet and "/>" not in users_packet


def test_written_children_in_reference_order(users_schema: Schema) -> None:
    from tdtp_core.packet.model import AlarmDetails

    stream = TableStream.from_rows(users_schema, [(1, "a")], table="t")
    (data,) = encode_packets(stream, packet_type="alarm", alarm=AlarmDetails(
        "error", "E1", "boom", affected_records=3))
    text = data.decode()
    order = [text.index(tag) for tag in ("<Header>", "<Schema>", "<Data>", "<AlarmDetails>")]
    assert order == sorted(order)
    assert ("<AlarmDetails><Severity>error</Severity><Code>E1</Code><Message>boom</Message>"
            "<AffectedRecords>3</AffectedRecords></AlarmDetails></DataPacket>") in text


def test_in_reply_to_is_written_after_message_id(users_schema: Schema) -> None:
    stream = TableStream.from_rows(users_schema, [(1, "a")], table="t")
    (data,) = encode_packets(stream, packet_type="response", in_reply_to="REQ-2026-00000001")
    assert re.search(rb"</MessageID><InReplyTo>REQ-2026-00000001</InReplyTo><PartNumber>", data)
    assert re.search(rb"<MessageID>RESP-\d{4}-[0-9a-f]{8}-P1</MessageID>", data)


def test_header_text_uses_go_escaping(users_schema: Schema) -> None:
    stream = TableStream.from_rows(users_schema, [], table="a&b<c>\"d'\te")
    (data,) = encode_packets(stream)
    assert b"<TableName>a&amp;b&lt;c&gt;&#34;d&#39;&#x9;e</TableName>" in data


def test_empty_table_is_one_packet_without_records(users_schema: Schema) -> None:
    (data,) = encode_packets(TableStream.from_rows(users_schema, [], table="t"))
    assert b"<PartNumber>1</PartNumber><TotalParts>1</TotalParts><Timestamp>" in data
    assert b"RecordsInPart" not in data
    assert data.endswith(b"<Data></Data></DataPacket>")


# ------------------------------------------------------------ §6.2 canonical schema


def test_schema_xml_example() -> None:
    schema = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT", length=100)])
    assert schema_xml(schema) == (
        '<Schema><Field name="id" type="INTEGER" key="true"></Field>'
        '<Field name="name" type="TEXT" length="100"></Field></Schema>'
    )


def test_schema_xml_attribute_order() -> None:
    f = Field("x", "DECIMAL", length=-1, precision=10, scale=2, key=True, timezone="UTC",
              subtype="money", readonly=True, fixed=True)
    assert schema_xml(Schema([f])) == (
        '<Schema><Field name="x" type="DECIMAL" length="-1" precision="10" scale="2" '
        'key="true" timezone="UTC" subtype="money" readonly="true" fixed="true">'
        "</Field></Schema>"
    )


def test_schema_xml_special_values_in_order() -> None:
    sv = SpecialValues(null="[NULL]", infinity="INF", neg_infinity="-INF", nan="NaN",
                       no_date="0000-00-00")
    assert schema_xml(Schema([Field("r", "REAL", special_values=sv)])) == (
        '<Schema><Field name="r" type="REAL"><SpecialValues><Null marker="[NULL]"></Null>'
        '<Infinity marker="INF"></Infinity><NegInfinity marker="-INF"></NegInfinity>'
        '<NaN marker="NaN"></NaN><NoDate marker="0000-00-00"></NoDate></SpecialValues>'
        "</Field></Schema>"
    )


def test_schema_xml_empty_special_values_and_dictionary() -> None:
    schema = Schema([Field("a", "TEXT", special_values=SpecialValues())], dictionary=[])
    assert schema_xml(schema) == (
        '<Schema><Field name="a" type="TEXT"><SpecialValues></SpecialValues></Field>'
        "<Dictionary></Dictionary></Schema>"
    )


def test_schema_xml_dictionary_entries() -> None:
    schema = Schema([Field("a", "TEXT")], dictionary=[DictionaryEntry("@MRC", "http://x?a=1&b")])
    assert schema_xml(schema).endswith(
        '<Dictionary><Entry short="@MRC" full="http://x?a=1&amp;b"></Entry></Dictionary>'
        "</Schema>"
    )


def test_schema_xml_uses_go_escaping() -> None:
    schema = Schema([Field("a\"b'c&d<e>f\tg\nh\ri\x01", "TEXT")])
    assert schema_xml(schema) == (
        '<Schema><Field name="a&#34;b&#39;c&amp;d&lt;e&gt;f&#x9;g&#xA;h&#xD;i\ufffd" '
        'type="TEXT"></Field></Schema>'
    )


# ------------------------------------------------------------------ §6.4 integrity

VECTOR_ID = "REF-2026-a1b2c3d4-P1"
VECTOR_SCHEMA = ('<Schema><Field name="id" type="INTEGER" key="true"></Field>'
                 '<Field name="name" type="TEXT" length="100"></Field></Schema>')
SCHEMA_XXH3 = "6541676831aea269d3c698f82762a16e"
DATA_XXH3 = "f52c51de656e29e4df706524183a0615"
PACKET_XXH3 = "378a0dcdbc66a0b51851a201c3fa1cf2"


def test_integrity_worked_vector(users_schema: Schema) -> None:
    hashes = integ.compute(VECTOR_ID, users_schema, "1|Alice\n2|Bob", 2)
    assert (hashes.schema, hashes.data, hashes.packet) == (SCHEMA_XXH3, DATA_XXH3, PACKET_XXH3)


def test_integrity_vector_matches_plain_xxhash() -> None:
    salt = VECTOR_ID.encode()
    assert xxhash.xxh3_128_hexdigest(salt + VECTOR_SCHEMA.encode()) == SCHEMA_XXH3
    assert xxhash.xxh3_128_hexdigest(salt + b"1|Alice\n2|Bob\n") == DATA_XXH3
    assert xxhash.xxh3_128_hexdigest(f"{SCHEMA_XXH3}|{DATA_XXH3}".encode()) == PACKET_XXH3


def test_data_hash_of_zero_rows_is_hash_of_salt() -> None:
    assert integ.data_hash(VECTOR_ID, "", 0) == xxhash.xxh3_128_hexdigest(VECTOR_ID.encode())


def _stamped(make_packet: Callable[..., bytes], **overrides: Any) -> bytes:
    args: dict[str, Any] = dict(
        version="1.4", message_id=VECTOR_ID, root_attrs=f' xxh3="{PACKET_XXH3}"',
        schema_attrs=f' xxh3="{SCHEMA_XXH3}"', data_attrs=f' xxh3="{DATA_XXH3}"',
    )
    args.update(overrides)
    return make_packet(**args)


def test_stamped_vector_packet_verifies(make_packet: Callable[..., bytes]) -> None:
    assert read_packets(_stamped(make_packet)).rows() == [(1, "Alice"), (2, "Bob")]


def test_stamped_vector_with_tampered_row_fails(make_packet: Callable[..., bytes]) -> None:
    from tdtp_core import IntegrityError

    with pytest.raises(IntegrityError, match="data hash mismatch"):
        read_packets(_stamped(make_packet, rows=["1|Alice", "2|Rob"])).rows()


def test_pretty_printed_schema_text_is_hashed(make_packet: Callable[..., bytes]) -> None:
    """DECISIONS 4: character data directly inside <Schema> is hashed, escaped."""
    fields = ('\n  <Field name="id" type="INTEGER" key="true"/>'
              '\n  <Field name="name" type="TEXT" length="100"/>\n')
    canonical = VECTOR_SCHEMA.replace("</Schema>", "&#xA;  &#xA;  &#xA;</Schema>")
    s = xxhash.xxh3_128_hexdigest(VECTOR_ID.encode() + canonical.encode())
    p = xxhash.xxh3_128_hexdigest(f"{s}|{DATA_XXH3}".encode())
    packet = _stamped(make_packet, fields=fields, schema_attrs=f' xxh3="{s}"',
                      root_attrs=f' xxh3="{p}"')
    assert read_packets(packet).rows() == [(1, "Alice"), (2, "Bob")]


def test_written_integrity_packet_hashes_its_rows(users_schema: Schema) -> None:
    stream = TableStream.from_rows(users_schema, [(1, "Alice"), (2, "Bob")], table="users")
    (data,) = encode_packets(stream, integrity=True)
    info = parse_packet(data)
    salt = info.header.message_id.encode()
    assert info.version == "1.4"
    written_schema = VECTOR_SCHEMA.replace(
        '"100"></Field>', '"100"><SpecialValues><Null marker="[NULL]"></Null></SpecialValues>'
        '</Field>')
    assert info.schema_xxh3 == xxhash.xxh3_128_hexdigest(salt + written_schema.encode())
    assert info.data.xxh3 == xxhash.xxh3_128_hexdigest(salt + b"1|Alice\n2|Bob\n")
    assert info.root_xxh3 == xxhash.xxh3_128_hexdigest(
        f"{info.schema_xxh3}|{info.data.xxh3}".encode())


# -------------------------------------------------------------------- §4.3 checksum


def test_checksum_vector_of_users_compressed(fixtures_dir: Path) -> None:
    """XXH3-64 of the 540-char Base64 text is ``e2b360724ab6acf5``."""
    info = parse_packet(fixtures_dir / "users_compressed.tdtp.xml")
    assert info.rows is not None and len(info.rows) == 1
    assert len(info.rows[0]) == 540
    assert integ.checksum(info.rows[0]) == "e2b360724ab6acf5"


def test_checksummed_users_compressed_reads(
    fixtures_dir: Path, zstd_codec: Any
) -> None:
    data = (fixtures_dir / "users_compressed.tdtp.xml").read_bytes()
    data = data.replace(b'<Data compression="zstd">',
                        b'<Data compression="zstd" checksum="e2b360724ab6acf5">')
    assert len(read_packets(data).rows()) == 10


def test_written_compressed_packet_form(users_schema: Schema, zstd_codec: Any) -> None:
    rows = [(i, f"name {i}") for i in range(50)]
    (data,) = encode_packets(TableStream.from_rows(users_schema, rows, table="t"),
                             compress="zstd")
    info = parse_packet(data)
    assert info.version == "1.0"
    assert info.header.records_in_part == 50
    assert info.rows is not None and len(info.rows) == 1
    assert info.data.checksum == xxhash.xxh3_64_hexdigest(info.rows[0].encode())
    payload = zstd_codec.decompress(base64.b64decode(info.rows[0]), max_output=1 << 20)
    assert payload.decode().split("\n") == [f"{i}|name {i}" for i in range(50)]


def test_concatenated_zstd_frames_are_all_decoded(
    make_packet: Callable[..., bytes], zstd_codec: Any
) -> None:
    frames = zstd_codec.compress(b"1|Alice\n") + zstd_codec.compress(b"2|Bob")
    text = base64.b64encode(frames).decode()
    packet = make_packet(rows=[text], records=2, data_attrs=' compression="zstd"')
    assert read_packets(packet).rows() == [(1, "Alice"), (2, "Bob")]


def test_base64_with_line_breaks_is_accepted(
    make_packet: Callable[..., bytes], zstd_codec: Any
) -> None:
    payload = "\n".join(f"{i}|name {i}" for i in range(40)).encode()
    text = base64.encodebytes(zstd_codec.compress(payload)).decode()
    assert "\n" in text
    packet = make_packet(rows=[text], records=40, data_attrs=' compression="zstd"')
    assert len(read_packets(packet).rows()) == 40


# ------------------------------------------------------------------ §5.2 compact

DEPT_EMP = Schema([Field("DeptID", "TEXT"), Field("DeptName", "TEXT"), Field("Location", "TEXT"),
                   Field("EmpID", "TEXT"), Field("Name", "TEXT"), Field("Salary", "INTEGER")])
DEPT_EMP_ROWS = [
    ("D1", "Sales", "Moscow", "E1", "Alice", 50000),
    ("D1", "Sales", "Moscow", "E2", "Bob", 55000),
    ("D1", "Sales", "Moscow", "E3", "Carol", 60000),
    ("D2", "IT", "SPb", "E4", "Dave", 70000),
    ("D2", "IT", "SPb", "E5", "Eve", 75000),
    ("D3", "HR", "Kazan", "E6", "Frank", 45000),
]
DEPT_EMP_COMPACT = [
    "D1|Sales|Moscow|E1|Alice|50000",
    "|||E2|Bob|55000",
    "|||E3|Carol|60000",
    "D2|IT|SPb|E4|Dave|70000",
    "|||E5|Eve|75000",
    "D3|HR|Kazan|E6|Frank|45000",
]


def _written_rows(data: bytes) -> list[str]:
    info = parse_packet(data)
    assert info.rows is not None
    return info.rows


def test_compact_encoding_worked_example() -> None:
    stream = TableStream.from_rows(DEPT_EMP, DEPT_EMP_ROWS, table="dept_emp")
    (data,) = encode_packets(stream, compact=True,
                             fixed_fields=["DeptID", "DeptName", "Location"])
    assert _written_rows(data) == DEPT_EMP_COMPACT
    info = parse_packet(data)
    assert info.version == "1.3.1" and info.data.compact is True
    assert [f.name for f in info.schema.fields if f.fixed] == ["DeptID", "DeptName", "Location"]


def test_compact_worked_example_reads_back() -> None:
    stream = TableStream.from_rows(DEPT_EMP, DEPT_EMP_ROWS, table="dept_emp")
    (data,) = encode_packets(stream, compact=True,
                             fixed_fields=["DeptID", "DeptName", "Location"])
    assert read_packets(data).rows() == DEPT_EMP_ROWS


def test_compact_tracks_fixed_fields_independently() -> None:
    schema = Schema([Field("a", "INTEGER"), Field("b", "TEXT"), Field("c", "TEXT")])
    rows = [(1, "x", "r1"), (1, "y", "r2"), (2, "y", "r3")]
    (data,) = encode_packets(TableStream.from_rows(schema, rows, table="t"),
                             compact=True, fixed_fields=["a", "b"])
    assert _written_rows(data) == ["1|x|r1", "|y|r2", "2||r3"]


def test_compact_underscore_field_is_renamed_and_fixed() -> None:
    schema = Schema([Field("_dept", "TEXT"), Field("name", "TEXT")])
    rows = [("Sales", "Ann"), ("Sales", "Bob"), ("Sales", "Cara"), ("IT", "Dan"), ("IT", "Eve")]
    (data,) = encode_packets(TableStream.from_rows(schema, rows, table="t"), compact=True)
    assert b'<Field name="dept" type="TEXT" fixed="true"><SpecialValues>' in data
    assert b"<R>Sales|Ann</R><R>|Bob</R>" in data
    stream = read_packets(data)
    assert stream.schema.names == ["dept", "name"]
    assert stream.rows() == rows


def test_compact_without_fixed_fields_writes_plain_packet() -> None:
    schema = Schema([Field("a", "TEXT"), Field("b", "TEXT")])
    (data,) = encode_packets(TableStream.from_rows(schema, [("x", "y"), ("x", "z")], table="t"),
                             compact=True)
    info = parse_packet(data)
    assert info.data.compact is False and info.version == "1.0"
    assert info.rows == ["x|y", "x|z"]


COMPACT_FIELDS = ('<Field name="dept_id" type="INTEGER" fixed="true"></Field>'
                  '<Field name="dept_name" type="TEXT" fixed="true"></Field>'
                  '<Field name="emp_id" type="INTEGER"></Field>')


def test_compact_carry_attribute_example(make_packet: Callable[..., bytes]) -> None:
    packet = make_packet(version="1.3.1", fields=COMPACT_FIELDS, rows=["||104", "||105"],
                         data_attrs=' compact="true" carry="10|Sales|"')
    assert read_packets(packet).rows() == [(10, "Sales", 104), (10, "Sales", 105)]


def test_compact_carry_attribute_keeps_cr_lf_tab(make_packet: Callable[..., bytes]) -> None:
    fields = ('<Field name="f" type="TEXT" fixed="true"></Field>'
              '<Field name="g" type="TEXT" fixed="true"></Field><Field name="h" type="TEXT"/>')
    carry = escape_a("a\r\nb\tc|d")
    assert carry == "a&#xD;&#xA;b&#x9;c|d"
    packet = make_packet(version="1.3.1", fields=fields, rows=["||x"],
                         data_attrs=f' compact="true" carry="{carry}"')
    assert read_packets(packet).rows() == [("a\r\nb\tc", "d", "x")]


def test_compact_tail_snapshot_is_accepted(make_packet: Callable[..., bytes]) -> None:
    packet = make_packet(version="1.3.1", fields=COMPACT_FIELDS,
                         rows=["10|Sales|101", "||102", "10|Sales|103"],
                         data_attrs=' compact="true" tail="true"')
    assert read_packets(packet).rows() == [(10, "Sales", 101), (10, "Sales", 102),
                                           (10, "Sales", 103)]


def test_compact_tail_with_gap_is_an_error(
    make_packet: Callable[..., bytes], packet_file: Callable[..., Path]
) -> None:
    path = packet_file(make_packet(version="1.3.1", fields=COMPACT_FIELDS,
                                   rows=["10|Sales|101", "10||102"],
                                   data_attrs=' compact="true" tail="true"'))
    with pytest.raises(PacketError, match="compact tail row: fixed field 'dept_name' is empty") \
            as exc_info:
        read_packets(path).rows()
    assert str(path) in str(exc_info.value)


def test_compact_first_row_empty_fixed_value_stays_empty(
    make_packet: Callable[..., bytes]
) -> None:
    fields = '<Field name="f" type="TEXT" fixed="true"></Field><Field name="g" type="TEXT"/>'
    packet = make_packet(version="1.3.1", fields=fields, rows=["|a", "|b"],
                         data_attrs=' compact="true"')
    assert read_packets(packet).rows() == [("", "a"), ("", "b")]


# ------------------------------------------------------------------- §3.4 naming


def test_part_path_uses_last_extension_only() -> None:
    assert part_path(Path("out/users.tdtp.xml"), 1, 3) == Path("out/users.tdtp_part_1_of_3.xml")


def test_part_path_single_part_keeps_name() -> None:
    assert part_path(Path("users.tdtp.xml"), 1, 1) == Path("users.tdtp.xml")


def test_written_parts_are_named_by_number(users_schema: Schema, tmp_path: Path) -> None:
    rows = [(i, "x" * 200) for i in range(200)]
    paths = write_packets(TableStream.from_rows(users_schema, rows, table="users"),
                          tmp_path / "users.tdtp.xml", part_size=8000)
    n = len(paths)
    assert n > 2
    assert [p.name for p in paths] == [f"users.tdtp_part_{i}_of_{n}.xml" for i in range(1, n + 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


# ------------------------------------------------------------------- newlines

NEWLINE_VALUES = [
    "windows\r\nstyle",
    "unix\nstyle",
    "lone\rcarriage",
    "mixed\r\nand\nand\rall",
    "trailing\r\n",
    "\r\nleading",
    "кириллица\r\nз переносом",
]


@pytest.fixture
def newline_file(tmp_path: Path) -> Path:
    schema = Schema([Field("id", "INTEGER"), Field("v", "TEXT")])
    rows = list(enumerate(NEWLINE_VALUES))
    (path,) = write_packets(TableStream.from_rows(schema, rows, table="t"),
                            tmp_path / "nl.tdtp.xml")
    return path


def test_newline_values_survive_round_trip(newline_file: Path) -> None:
    assert [v for _, v in read_packets(newline_file)] == NEWLINE_VALUES


def test_written_file_has_no_raw_cr(newline_file: Path) -> None:
    data = newline_file.read_bytes()
    assert b"\r" not in data
    assert b"&#xD;" in data


def test_written_rows_escape_lf(newline_file: Path) -> None:
    data = newline_file.read_bytes()
    assert data.count(b"\n") == 1
    assert b"<R>1|unix\\nstyle</R>" in data


# ---------------------------------------------------------- §2.5 cell texts, written

WRITE_CELLS = [
    (Field("v", "INTEGER"), -9223372036854775808, "-9223372036854775808"),
    (Field("v", "INTEGER"), 0, "0"),
    (Field("v", "REAL"), 0.1, "0.1"),
    (Field("v", "REAL"), 3.14, "3.14"),
    (Field("v", "REAL"), 100.0, "100"),
    (Field("v", "REAL"), 1e21, "1000000000000000000000"),
    (Field("v", "REAL"), 1e-7, "0.0000001"),
    (Field("v", "REAL"), -0.0, "-0"),
    (Field("v", "REAL"), math.nan, "NaN"),
    (Field("v", "REAL"), math.inf, "INF"),
    (Field("v", "REAL"), -math.inf, "-INF"),
    (Field("v", "DECIMAL", precision=18, scale=2), Decimal("1500.5"), "1500.50"),
    (Field("v", "DECIMAL", precision=18, scale=2), Decimal("2300"), "2300.00"),
    (Field("v", "DECIMAL", precision=38, scale=10),
     Decimal("1234567890123456789012345678.0123456789"),
     "1234567890123456789012345678.0123456789"),
    (Field("v", "BOOLEAN"), True, "1"),
    (Field("v", "BOOLEAN"), False, "0"),
    (Field("v", "DATE"), date(2024, 1, 15), "2024-01-15"),
    (Field("v", "DATE"), NODATE, "0000-00-00"),
    (Field("v", "TIMESTAMP", timezone="UTC"), datetime(2025, 1, 15, 10, 30, tzinfo=UTC),
     "2025-01-15T10:30:00Z"),
    (Field("v", "TIMESTAMP", timezone="UTC"),
     datetime(2025, 1, 15, 10, 30, 0, 500000, tzinfo=UTC), "2025-01-15T10:30:00.5Z"),
    (Field("v", "TIMESTAMP", timezone="+03:00"),
     datetime.fromisoformat("2025-01-15T13:30:00+03:00"), "2025-01-15T10:30:00Z"),
    (Field("v", "TIMESTAMP"), datetime(2025, 1, 15, 10, 30, 0, 123), "2025-01-15T10:30:00.000123Z"),
    (Field("v", "TIMESTAMP", subtype="time"), time(8, 0), "08:00:00"),
    (Field("v", "TIMESTAMP", subtype="time"), time(8, 0, 1, 250000), "08:00:01.250000"),
    (Field("v", "BLOB"), b"\x00\xff", "AP8="),
    (Field("v", "TEXT"), "a|b\\c", "a\\|b\\\\c"),
    (Field("v", "TEXT"), "<&>\"'", "&lt;&amp;&gt;\"'"),
]


@pytest.mark.parametrize(("field", "value", "text"), WRITE_CELLS,
                         ids=[f"{f.type}-{t}" for f, _, t in WRITE_CELLS])
def test_written_cell_text(field: Field, value: Any, text: str) -> None:
    (data,) = encode_packets(TableStream.from_rows(Schema([field]), [(value,)], table="t"))
    match = re.search(rb"<R>(.*)</R>", data)
    assert match is not None
    assert match.group(1).decode() == text


def test_written_special_value_markers() -> None:
    schema = Schema([Field("r", "REAL"), Field("d", "DATE"), Field("t", "TEXT")])
    rows = [(math.nan, NODATE, None), (math.inf, date(2024, 1, 1), "x"), (-math.inf, None, "")]
    (data,) = encode_packets(TableStream.from_rows(schema, rows, table="t"))
    info = parse_packet(data)
    r, d, t = info.schema.fields
    assert r.special_values == SpecialValues(infinity="INF", neg_infinity="-INF", nan="NaN")
    assert d.special_values == SpecialValues(null="[NULL]", no_date="0000-00-00")
    assert t.special_values == SpecialValues(null="[NULL]")
    assert info.rows == ["NaN|0000-00-00|[NULL]", "INF|2024-01-01|x", "-INF|[NULL]|"]


# ---------------------------------------------------------- §2.5 cell texts, read

READ_CELLS = [
    ("INTEGER", "", "+5", 5),
    ("INTEGER", "", "-9223372036854775808", -9223372036854775808),
    ("REAL", "", "0x1p-2", 0.25),
    ("REAL", "", "1e3", 1000.0),
    ("REAL", "", "inf", math.inf),
    ("REAL", "", "-Infinity", -math.inf),
    ("REAL", "", "+Inf", math.inf),
    ("DECIMAL", ' precision="18" scale="2"', "1500.5", Decimal("1500.5")),
    ("DECIMAL", ' precision="18" scale="2"', "1500", Decimal("1500")),
    ("BOOLEAN", "", "1", True),
    ("BOOLEAN", "", "0", False),
    ("BOOLEAN", "", "true", True),
    ("BOOLEAN", "", "false", False),
    ("DATE", "", "2024-02-29", date(2024, 2, 29)),
    ("DATE", "", "2024-01-15T23:30:00-05:00", date(2024, 1, 15)),
    ("TIMESTAMP", ' timezone="UTC"', "2025-01-15 10:30:00", datetime(2025, 1, 15, 10, 30,
                                                                      tzinfo=UTC)),
    ("TIMESTAMP", ' timezone="UTC"', "2025-01-15T10:30:00", datetime(2025, 1, 15, 10, 30,
                                                                      tzinfo=UTC)),
    ("TIMESTAMP", ' timezone="UTC"', "2025-01-15T13:30:00+03:00",
     datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),
    ("TIMESTAMP", ' timezone="UTC"', "2025-01-15", datetime(2025, 1, 15, tzinfo=UTC)),
    ("TIMESTAMP", ' timezone="UTC"', "2025-01-15T10:30:00.123456789Z",
     datetime(2025, 1, 15, 10, 30, 0, 123456, tzinfo=UTC)),
    ("TIMESTAMP", "", "2025-01-15T10:30:00Z", datetime(2025, 1, 15, 10, 30)),
    ("DATETIME", "", "2025-01-15T10:30:00+02:00", datetime(2025, 1, 15, 8, 30)),
    ("TIMESTAMP", ' subtype="time"', "08:00:00", time(8, 0)),
    ("TIMESTAMP", ' subtype="time"', "08:00:00.5", time(8, 0, 0, 500000)),
    ("TIMESTAMP", ' subtype="time"', "08:00", time(8, 0)),
    ("TIMESTAMP", ' subtype="time"', "0000-01-01T08:00:00Z", time(8, 0)),
    ("TIMESTAMP", ' subtype="time"', "0001-01-01T08:00:00Z", time(8, 0)),
    ("TIMESTAMP", ' subtype="time"', "08:00:00 PM", time(20, 0)),
    ("TEXT", ' subtype="time"', "08:00:00", time(8, 0)),
    ("BLOB", "", "QUJD", b"ABC"),
    ("BLOB", "", "QU\nJD", b"ABC"),
    ("INTEGER", "", "", None),
    ("TEXT", "", "", ""),
    ("VARCHAR", "", "x", "x"),
    ("INT", "", "7", 7),
    ("FLOAT", "", "1.5", 1.5),
    ("BOOL", "", "1", True),
]


@pytest.mark.parametrize(("type_", "attrs", "text", "value"), READ_CELLS,
                         ids=[f"{t}{a}-{x!r}" for t, a, x, _ in READ_CELLS])
def test_read_cell_value(
    make_packet: Callable[..., bytes], type_: str, attrs: str, text: str, value: Any
) -> None:
    fields = f'<Field name="v" type="{type_}"{attrs}></Field>'
    rows = read_packets(make_packet(fields=fields, rows=[text])).rows()
    assert_rows_equal([(value,)], rows)


# ------------------------------------------------- §2.4 empty TEXT versus NULL, written


def _written_schema(rows: list[tuple[Any, ...]], key: bool = False) -> Any:
    schema = Schema([Field("id", "INTEGER"), Field("c", "TEXT", key=key)])
    (data,) = encode_packets(TableStream.from_rows(schema, rows, table="t"))
    return parse_packet(data).schema.fields[1]


def test_text_without_nulls_declares_the_null_marker() -> None:
    """Without a marker a v1.0 packet's ``""`` is the legacy NULL to queries."""
    assert _written_schema([(1, ""), (2, "x")]).special_values == SpecialValues(null="[NULL]")


def test_text_key_declares_no_null_marker() -> None:
    assert _written_schema([(1, ""), (2, "x")], key=True).special_values is None


def test_marker_text_without_nulls_reads_back_as_text() -> None:
    """The declared marker must not turn a literal ``[NULL]`` cell into NULL."""
    schema = Schema([Field("id", "INTEGER"), Field("c", "TEXT")])
    rows = [(1, "[NULL]"), (2, "")]
    data = encode_packets(TableStream.from_rows(schema, rows, table="t"))
    assert read_packets(*data).rows() == rows


# ------------------------------------------------------- §6.7 dictionary, DECISIONS 7

DICT_FIELDS = ('<Field name="id" type="INTEGER"></Field><Field name="v" type="TEXT"></Field>'
               '<Dictionary><Entry short="@A" full="Alpha|Be\\ta"></Entry></Dictionary>')


def test_dictionary_tokens_expand_whole_cells_only(make_packet: Callable[..., bytes]) -> None:
    packet = make_packet(version="1.4", fields=DICT_FIELDS,
                         rows=["1|@A", "2|x@A", "3|@AB", "4|@a"])
    assert read_packets(packet).rows() == [
        (1, "Alpha|Be\\ta"), (2, "x@A"), (3, "@AB"), (4, "@a")]


def test_written_dictionary_survives_special_values() -> None:
    schema = Schema([Field("id", "INTEGER"), Field("v", "TEXT")],
                    dictionary=[DictionaryEntry("@A", "Alpha")])
    (data,) = encode_packets(TableStream.from_rows(schema, [(1, None), (2, "Alpha")],
                                                   table="t"))
    info = parse_packet(data)
    assert info.version == "1.4"
    assert info.schema.dictionary == (DictionaryEntry("@A", "Alpha"),)
    assert info.schema.fields[1].special_values == SpecialValues(null="[NULL]")


def test_cell_equal_to_a_dictionary_token_is_not_silently_changed() -> None:
    """A literal ``@A`` cell must read back as ``@A``, or the write must refuse it."""
    from tdtp_core import TdtpError

    schema = Schema([Field("id", "INTEGER"), Field("v", "TEXT")],
                    dictionary=[DictionaryEntry("@A", "Alpha")])
    rows = [(1, "Alpha"), (2, "@A")]
    try:
        parts = encode_packets(TableStream.from_rows(schema, rows, table="t"))
    except TdtpError:
        return
    assert read_packets(*parts).rows() == rows
