"""A corpus of bad packets: each is rejected with the right error class, a message that
says what is wrong, and where (file, part, row, field). Also the write-side refusals
and the tolerant reader (DECISIONS 2)."""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import xxhash

from tdtp_core import (
    Field,
    IntegrityError,
    PacketError,
    Schema,
    SchemaError,
    TableStream,
    TdtpError,
    read_packets,
    write_packets,
)
from tdtp_core.packet import encode_packets

from .support import PROLOG, TWO_FIELDS

Build = Callable[..., bytes]
WriteFile = Callable[..., Path]


def _read_all(*sources: Any, **options: Any) -> list[tuple[Any, ...]]:
    return read_packets(*sources, **options).rows()


def _assert_rejected(
    path: Path, error: type[Exception], message: str, *more: str, **options: Any
) -> TdtpError:
    with pytest.raises(error) as exc_info:
        _read_all(path, **options)
    text = str(exc_info.value)
    assert message in text, text
    assert str(path) in text, f"location missing: {text}"
    for piece in more:
        assert piece in text, text
    return exc_info.value  # type: ignore[return-value]


# ------------------------------------------------------------------- XML-level damage


def test_truncated_file(make_packet: Build, packet_file: WriteFile) -> None:
    path = packet_file(make_packet()[:150])
    _assert_rejected(path, PacketError, "not well-formed", "line 2")


def test_truncated_inside_data(make_packet: Build, packet_file: WriteFile) -> None:
    data = make_packet()
    path = packet_file(data[: data.index(b"</Data>")])
    _assert_rejected(path, PacketError, "not well-formed")


def test_empty_file(packet_file: WriteFile) -> None:
    _assert_rejected(packet_file(b""), PacketError, "not well-formed")


def test_not_xml_at_all(packet_file: WriteFile) -> None:
    _assert_rejected(packet_file(b"<not valid xml"), PacketError, "not well-formed")


def test_missing_file(tmp_path: Path) -> None:
    _assert_rejected(tmp_path / "nope.tdtp.xml", PacketError, "no such file")


def test_invalid_utf8(make_packet: Build, packet_file: WriteFile) -> None:
    path = packet_file(make_packet().replace(b"Alice", b"Al\xffce"))
    _assert_rejected(path, PacketError, "not well-formed", "line 2")


def test_raw_control_character_is_not_well_formed(
    make_packet: Build, packet_file: WriteFile
) -> None:
    path = packet_file(make_packet(rows=["1|a\x01b"]))
    _assert_rejected(path, PacketError, "not well-formed", "line 2")


@pytest.mark.parametrize("entity", ["&nbsp;", "&foo;"])
def test_undefined_entity_error_names_the_entity_and_line(
    make_packet: Build, packet_file: WriteFile, entity: str
) -> None:
    path = packet_file(make_packet(rows=[f"1|{entity}"]))
    _assert_rejected(path, PacketError, "not well-formed", entity.strip("&;"), "line 2")


def test_xml_error_message_is_about_this_document(
    make_packet: Build, packet_file: WriteFile
) -> None:
    """An earlier bad document must not leak its error into the next one's message."""
    with pytest.raises(PacketError, match="first"):
        _read_all(make_packet(rows=["1|&first;"]))
    path = packet_file(make_packet(rows=["1|Alice", "2|&second;"]))
    error = _assert_rejected(path, PacketError, "second")
    assert "first" not in str(error)


@pytest.mark.parametrize("encoding", ["ISO-8859-1", "windows-1251", "US-ASCII"])
def test_non_utf8_encoding_declaration(
    make_packet: Build, packet_file: WriteFile, encoding: str
) -> None:
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>\n'
    path = packet_file(make_packet(prolog=prolog))
    _assert_rejected(path, PacketError, "UTF-8")


def test_latin1_document_is_not_silently_misread(
    make_packet: Build, packet_file: WriteFile
) -> None:
    prolog = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    data = make_packet(prolog=prolog).replace(b"Alice", "Müller".encode("latin-1"))
    _assert_rejected(packet_file(data), PacketError, "UTF-8")


def test_xml_version_other_than_1_0(make_packet: Build, packet_file: WriteFile) -> None:
    path = packet_file(make_packet(prolog='<?xml version="1.1" encoding="UTF-8"?>\n'))
    _assert_rejected(path, PacketError, "XML version must be 1.0")


# -------------------------------------------------------------- DTD and entity tricks

LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{"&lol;" * 10 if i == 1 else f"&lol{i - 1};" * 10}">'
              for i in range(1, 10))
    + "]>\n"
)


@pytest.fixture
def silent_server() -> Iterator[tuple[str, socket.socket]]:
    """A listening socket that must never see a connection (no network fetches)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    yield url, server
    server.close()


def _assert_nobody_connected(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        server.accept()


@pytest.mark.parametrize("where", ["row", "table name"])
def test_billion_laughs_is_rejected_fast(
    make_packet: Build, packet_file: WriteFile, where: str
) -> None:
    kwargs = {"rows": ["1|&lol9;"]} if where == "row" else {"table": "&lol9;"}
    path = packet_file(make_packet(prolog=PROLOG + LAUGHS, **kwargs))
    started = time.monotonic()
    error = _assert_rejected(path, PacketError, "DTD")
    assert time.monotonic() - started < 2
    assert "lollol" not in str(error)


def test_external_file_entity_is_never_read(
    make_packet: Build, packet_file: WriteFile, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    doctype = f'<!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n'
    path = packet_file(make_packet(prolog=PROLOG + doctype, rows=["1|&x;"]))
    error = _assert_rejected(path, PacketError, "DTD")
    assert "TOP-SECRET" not in str(error)


def test_etc_passwd_entity_is_rejected(make_packet: Build, packet_file: WriteFile) -> None:
    doctype = '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    path = packet_file(make_packet(prolog=PROLOG + doctype, table="&x;", rows=["1|&x;"]))
    error = _assert_rejected(path, PacketError, "DTD")
    assert "root:" not in str(error)


def test_parameter_entity_is_never_fetched(
    make_packet: Build, packet_file: WriteFile, silent_server: tuple[str, socket.socket]
) -> None:
    url, server = silent_server
    doctype = f'<!DOCTYPE d [<!ENTITY % p SYSTEM "{url}/evil.dtd"> %p;]>\n'
    path = packet_file(make_packet(prolog=PROLOG + doctype))
    _assert_rejected(path, PacketError, "DTD")
    _assert_nobody_connected(server)


def test_external_dtd_is_never_fetched(
    make_packet: Build, packet_file: WriteFile, silent_server: tuple[str, socket.socket]
) -> None:
    url, server = silent_server
    path = packet_file(make_packet(prolog=PROLOG + f'<!DOCTYPE d SYSTEM "{url}/x.dtd">\n'))
    _assert_rejected(path, PacketError, "DTD")
    _assert_nobody_connected(server)


def test_external_http_entity_is_never_fetched(
    make_packet: Build, packet_file: WriteFile, silent_server: tuple[str, socket.socket]
) -> None:
    url, server = silent_server
    doctype = f'<!DOCTYPE d [<!ENTITY x SYSTEM "{url}/x">]>\n'
    path = packet_file(make_packet(prolog=PROLOG + doctype, rows=["1|&x;"]))
    _assert_rejected(path, PacketError, "DTD")
    _assert_nobody_connected(server)


def test_harmless_internal_dtd_is_still_rejected(
    make_packet: Build, packet_file: WriteFile
) -> None:
    path = packet_file(make_packet(prolog=PROLOG + "<!DOCTYPE DataPacket>\n"))
    _assert_rejected(path, PacketError, "DTD")


# ------------------------------------------------------------------ structure (§10.1)

STRUCTURE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("wrong protocol", {"protocol": "TDTX"}, "invalid protocol"),
    ("missing protocol", {"protocol": None}, "invalid protocol"),
    ("empty version", {"version": ""}, "version is empty"),
    ("unknown packet type", {"packet_type": "snapshot"}, "invalid message type: snapshot"),
    ("uppercase packet type", {"packet_type": "REFERENCE"}, "invalid message type: REFERENCE"),
    ("missing type", {"packet_type": ""}, "Header/Type is missing"),
    ("missing table name", {"table": ""}, "Header/TableName is missing"),
    ("missing message id", {"message_id": ""}, "Header/MessageID is missing"),
    ("missing timestamp", {"timestamp": None}, "Header/Timestamp is missing"),
    ("zero timestamp", {"timestamp": "0001-01-01T00:00:00Z"}, "Header/Timestamp is missing"),
    ("timestamp without zone", {"timestamp": "2026-01-01T00:00:00"}, "Header/Timestamp"),
    ("timestamp with space", {"timestamp": "2026-01-01 00:00:00Z"}, "Header/Timestamp"),
    ("timestamp garbage", {"timestamp": "yesterday"}, "Header/Timestamp"),
    ("empty header", {"header": ""}, "is missing"),
    ("bad part number", {"header_extra": "<PartNumber>one</PartNumber>"},
     "Header/PartNumber is not an integer"),
    ("part beyond total", {"part": (3, 2)}, "PartNumber 3 is not within 1..TotalParts (2)"),
    ("part zero of two", {"part": (0, 2)}, "PartNumber 0 is not within"),
    ("records mismatch", {"records": 3}, "RecordsInPart mismatch: header declares 3 rows, "
     "<Data> contains 2"),
    ("records mismatch 1.3.1", {"records": 1, "version": "1.3.1"}, "RecordsInPart mismatch"),
    ("rows without schema", {"fields": ""}, "schema is required when data is present"),
    ("bad boolean attribute", {"fields": '<Field name="id" type="INTEGER" key="yes"/>',
                               "rows": ["1"]}, "key is not a boolean"),
    ("bad integer attribute", {"fields": '<Field name="id" type="TEXT" length="ten"/>',
                               "rows": ["1"]}, "length is not an integer"),
    ("bad compact flag", {"data_attrs": ' compact="maybe"'}, "Data/compact is not a boolean"),
    ("encrypted data", {"data_attrs": ' encryption="aes-256-gcm"', "rows": ["AAAA"],
                        "records": False}, "not supported"),
    ("encrypted schema", {"schema_attrs": ' encryption="aes-256-gcm"'}, "not supported"),
]


@pytest.mark.parametrize(("overrides", "message"), [c[1:] for c in STRUCTURE_CASES],
                         ids=[c[0] for c in STRUCTURE_CASES])
def test_structural_error(
    make_packet: Build, packet_file: WriteFile, overrides: dict[str, Any], message: str
) -> None:
    path = packet_file(make_packet(**overrides))
    error = _assert_rejected(path, PacketError, message)
    assert not isinstance(error, IntegrityError)


def test_missing_header_element(make_packet: Build, packet_file: WriteFile) -> None:
    data = make_packet()
    start, end = data.index(b"<Header>"), data.index(b"</Header>") + len(b"</Header>")
    path = packet_file(data[:start] + data[end:])
    _assert_rejected(path, PacketError, "missing <Header>")


def test_oversized_schema_is_refused(make_packet: Build, packet_file: WriteFile) -> None:
    fields = TWO_FIELDS + "".join(
        f'<Field name="f{i}_{"x" * 100}" type="TEXT"></Field>' for i in range(10_000))
    path = packet_file(make_packet(fields=fields, rows=[]))
    _assert_rejected(path, PacketError, "refusing to parse")


def test_response_without_in_reply_to_is_accepted_with_warning(make_packet: Build) -> None:
    with pytest.warns(UserWarning, match="InReplyTo"):
        rows = _read_all(make_packet(packet_type="response"))
    assert len(rows) == 2


def test_response_without_in_reply_to_warns_once(make_packet: Build) -> None:
    with pytest.warns(UserWarning, match="InReplyTo") as record:
        _read_all(make_packet(packet_type="response"))
    assert len([w for w in record if "InReplyTo" in str(w.message)]) == 1


# ---------------------------------------------------------------- rows and cells


@pytest.mark.parametrize(("row", "count"), [("2|Bob|extra", 3), ("2", 1), ("2|a\\|b|c", 3)])
def test_wrong_field_count(
    make_packet: Build, packet_file: WriteFile, row: str, count: int
) -> None:
    path = packet_file(make_packet(rows=["1|Alice", row]))
    _assert_rejected(path, SchemaError, f"expected 2 values, got {count}", "row 2")


def test_backslash_escapes_are_not_errors(make_packet: Build) -> None:
    """``\\x`` decodes to ``x`` for any x (spec §2.1); a lone trailing ``\\`` is kept."""
    rows = _read_all(make_packet(rows=["1|a\\xb\\tc", "2|end\\"]))
    assert rows == [(1, "axbtc"), (2, "end\\")]


BAD_CELLS = [
    ("BOOLEAN", "yes", "boolean must be 0 or 1"),
    ("BOOLEAN", "2", "boolean must be 0 or 1"),
    ("BOOLEAN", " 1", "boolean must be 0 or 1"),
    ("INTEGER", "12a", "invalid integer value"),
    ("INTEGER", "1.5", "invalid integer value"),
    ("INTEGER", "1_000", "invalid integer value"),
    ("INTEGER", "9223372036854775808", "invalid integer value"),
    ("INTEGER", "-9223372036854775809", "invalid integer value"),
    ("INTEGER", "١٢", "invalid integer value"),
    ("INTEGER", " 12", "invalid integer value"),
    ("REAL", "abc", "invalid float value"),
    ("REAL", "1e400", "invalid float value"),
    ("REAL", "1_0", "invalid float value"),
    ("REAL", " 1.5", "invalid float value"),
    ("DECIMAL", "abc", "invalid decimal value"),
    ("DECIMAL", "1,5", "invalid decimal value"),
    ("DATE", "2024-02-30", "invalid date format"),
    ("DATE", "2024-1-5", "invalid date format"),
    ("DATE", "15.01.2024", "invalid date format"),
    ("DATE", "20240105", "invalid date format"),
    ("DATE", "2024-W01-1", "invalid date format"),
    ("DATE", "2024-01-15T10:00:00", "invalid date format"),
    ("TIMESTAMP", "yesterday", "invalid timestamp format"),
    ("TIMESTAMP", "2025-13-01T00:00:00Z", "invalid timestamp format"),
    ("TIMESTAMP", "20250115T103000", "invalid timestamp format"),
    ("TIMESTAMP", "2025-01-15T10", "invalid timestamp format"),
    ("BLOB", "not base64!", "invalid base64 encoding"),
    ("BLOB", "QUI", "invalid base64 encoding"),
    ("BLOB", "QU JD", "invalid base64 encoding"),
    ("BLOB", "QUJD-_==", "invalid base64 encoding"),
]


@pytest.mark.parametrize(("type_", "text", "reason"), BAD_CELLS,
                         ids=[f"{t}-{x!r}" for t, x, _ in BAD_CELLS])
def test_bad_cell_names_row_and_field(
    make_packet: Build, packet_file: WriteFile, type_: str, text: str, reason: str
) -> None:
    fields = f'<Field name="id" type="INTEGER"></Field><Field name="v" type="{type_}"></Field>'
    path = packet_file(make_packet(fields=fields, rows=["1|", f"2|{text}", "3|"]))
    _assert_rejected(path, SchemaError, reason, "row 2", "field 'v'")


def test_bad_time_cell(make_packet: Build, packet_file: WriteFile) -> None:
    fields = '<Field name="t" type="TIMESTAMP" subtype="time"></Field>'
    path = packet_file(make_packet(fields=fields, rows=["08:00:00", "25:99"]))
    _assert_rejected(path, SchemaError, "invalid time format", "row 2", "field 't'")


def test_bad_cell_row_number_counts_across_batches(
    make_packet: Build, packet_file: WriteFile
) -> None:
    rows = [f"{i}|x" for i in range(1, 20_001)] + ["oops|x"]
    path = packet_file(make_packet(rows=rows))
    _assert_rejected(path, SchemaError, "invalid integer value", "row 20001", "field 'id'",
                     batch_size=1000)


def test_non_text_empty_key_cell_reads_as_null(make_packet: Build) -> None:
    assert _read_all(make_packet(rows=["|Alice"])) == [(None, "Alice")]


# ------------------------------------------------------------------- integrity


@pytest.fixture
def stamped(users_schema: Schema) -> bytes:
    stream = TableStream.from_rows(users_schema, [(1, "Alice"), (2, "Bob")], table="users")
    (data,) = encode_packets(stream, integrity=True)
    return data


def _retag(data: bytes, attr_owner: bytes, value: bytes) -> bytes:
    """Replace the xxh3 attribute value on the tag starting with ``attr_owner``."""
    start = data.index(attr_owner)
    at = data.index(b'xxh3="', start) + 6
    return data[:at] + value + data[at + 32:]


TAMPERS: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("row text", lambda d: d.replace(b"<R>2|Bob</R>", b"<R>2|Rob</R>"), "data hash mismatch"),
    ("row removed", lambda d: d.replace(b"<R>2|Bob</R>", b""), "data hash mismatch"),
    ("row added", lambda d: d.replace(b"</Data>", b"<R>3|Eve</R></Data>"),
     "data hash mismatch"),
    ("field attribute", lambda d: d.replace(b'length="100"', b'length="101"'),
     "schema hash mismatch"),
    ("field name", lambda d: d.replace(b'name="name"', b'name="nome"'), "schema hash mismatch"),
    ("message id salt", lambda d: d.replace(b"-P1</MessageID>", b"-P9</MessageID>"),
     "schema hash mismatch"),
    ("schema hash", lambda d: _retag(d, b"<Schema", b"0" * 32), "schema hash mismatch"),
    ("data hash", lambda d: _retag(d, b"<Data ", b"0" * 32), "data hash mismatch"),
    ("packet hash", lambda d: _retag(d, b"<DataPacket", b"0" * 32), "packet hash mismatch"),
    ("data hash removed", lambda d: d.replace(b"<Data xxh3=", b"<Data x-xxh3="),
     "data hash mismatch"),
]


@pytest.mark.parametrize(("tamper", "message"), [t[1:] for t in TAMPERS],
                         ids=[t[0] for t in TAMPERS])
def test_tampered_integrity_packet(
    stamped: bytes, packet_file: WriteFile, tamper: Callable[[bytes], bytes], message: str
) -> None:
    tampered = tamper(stamped)
    assert tampered != stamped
    _assert_rejected(packet_file(tampered), IntegrityError, message)


def test_tampered_packet_reads_without_verification(
    stamped: bytes, packet_file: WriteFile
) -> None:
    path = packet_file(stamped.replace(b"<R>2|Bob</R>", b"<R>2|Rob</R>"))
    assert _read_all(path, verify=False) == [(1, "Alice"), (2, "Rob")]


def test_verify_packets_reports_tampering(stamped: bytes) -> None:
    from tdtp_core import verify_packets

    with pytest.raises(IntegrityError, match="data hash mismatch"):
        verify_packets(stamped.replace(b"<R>2|Bob</R>", b"<R>2|Rob</R>"))


# --------------------------------------------------------------- compression (§4.2)


def _compressed(make_packet: Build, text: str, *, checksum: str | None = "auto",
                **overrides: Any) -> bytes:
    if checksum == "auto":
        checksum = xxhash.xxh3_64_hexdigest(text.encode())
    attrs = ' compression="zstd"' + (f' checksum="{checksum}"' if checksum else "")
    overrides.setdefault("records", False)
    return make_packet(rows=[text], data_attrs=attrs, **overrides)


def test_wrong_checksum(make_packet: Build, packet_file: WriteFile) -> None:
    path = packet_file(_compressed(make_packet, "KLUv/QBYAQAA", checksum="0123456789abcdef"))
    _assert_rejected(path, IntegrityError, "checksum mismatch")


def test_compressed_packet_with_two_rows(make_packet: Build, packet_file: WriteFile) -> None:
    path = packet_file(make_packet(rows=["KLUv", "KLUv"], records=False,
                                   data_attrs=' compression="zstd"'))
    _assert_rejected(path, PacketError, "compressed packet should have exactly 1 row, has 2")


def test_compressed_text_not_base64(make_packet: Build, packet_file: WriteFile) -> None:
    path = packet_file(_compressed(make_packet, "not*base64"))
    _assert_rejected(path, PacketError, "not valid Base64")


def test_compressed_data_not_zstd(
    make_packet: Build, packet_file: WriteFile, zstd_codec: Any
) -> None:
    path = packet_file(_compressed(make_packet, base64.b64encode(b"garbage!" * 4).decode()))
    _assert_rejected(path, PacketError, "zstd")


def test_truncated_zstd_frame(make_packet: Build, packet_file: WriteFile, zstd_codec: Any) -> None:
    frame = zstd_codec.compress(b"1|Alice\n2|Bob" * 50)
    path = packet_file(_compressed(make_packet, base64.b64encode(frame[:-6]).decode()))
    _assert_rejected(path, PacketError, "zstd")


def test_decompressed_rows_not_utf8(
    make_packet: Build, packet_file: WriteFile, zstd_codec: Any
) -> None:
    text = base64.b64encode(zstd_codec.compress(b"1|\xff\xfe")).decode()
    _assert_rejected(packet_file(_compressed(make_packet, text)), PacketError, "UTF-8")


def test_records_in_part_mismatch_after_decompression(
    make_packet: Build, packet_file: WriteFile, zstd_codec: Any
) -> None:
    text = base64.b64encode(zstd_codec.compress(b"1|Alice\n2|Bob")).decode()
    path = packet_file(_compressed(make_packet, text, records=5))
    _assert_rejected(path, PacketError, "RecordsInPart mismatch after decompression")


def test_unsupported_compression(make_packet: Build, packet_file: WriteFile) -> None:
    path = packet_file(make_packet(rows=["AAAA"], records=False,
                                   data_attrs=' compression="kanzi"'))
    with pytest.raises(TdtpError, match="kanzi"):
        _read_all(path)


def _zeros_frame(size: int, *, declare_size: bool) -> bytes:
    import zstandard

    compressor = zstandard.ZstdCompressor(level=19, write_content_size=declare_size)
    obj = compressor.compressobj(size=size if declare_size else -1)
    chunk = bytes(1 << 20)
    pieces = [obj.compress(chunk) for _ in range(size >> 20)]
    pieces.append(obj.compress(bytes(size & ((1 << 20) - 1))))
    pieces.append(obj.flush())
    return b"".join(pieces)


@pytest.mark.parametrize("declare_size", [True, False], ids=["with size", "without size"])
def test_decompression_bomb_over_the_cap(
    make_packet: Build, packet_file: WriteFile, zstd_codec: Any, declare_size: bool
) -> None:
    frame = _zeros_frame(256 * 1024 * 1024 + 1024, declare_size=declare_size)
    assert len(frame) < 64 * 1024
    path = packet_file(_compressed(make_packet, base64.b64encode(frame).decode()))
    _assert_rejected(path, PacketError, "268435456")


# ---------------------------------------------------------------- part sets (§3.5)


@pytest.fixture
def part_of(make_packet: Build) -> Callable[..., bytes]:
    """Part ``n`` of ``total`` of one export (batch ``REF-2026-0000abcd``)."""

    def build(n: int, total: int, **overrides: Any) -> bytes:
        overrides.setdefault("message_id", f"REF-2026-0000abcd-P{n}")
        overrides.setdefault("rows", [f"{n}|row {n}"])
        return make_packet(part=(n, total), **overrides)

    return build


def _files(tmp_path: Path, *parts: bytes) -> list[Path]:
    paths = []
    for i, data in enumerate(parts):
        path = tmp_path / f"given{i + 1}.xml"
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_part_set_in_any_order(part_of: Callable[..., bytes]) -> None:
    rows = _read_all(part_of(3, 3), part_of(1, 3), part_of(2, 3))
    assert rows == [(1, "row 1"), (2, "row 2"), (3, "row 3")]


def test_part_set_from_different_exports(part_of: Callable[..., bytes], tmp_path: Path) -> None:
    first, second = _files(tmp_path, part_of(1, 2),
                           part_of(2, 2, message_id="REF-2026-ffffffff-P2"))
    with pytest.raises(PacketError, match="batch mismatch") as exc_info:
        _read_all(first, second)
    assert str(second) in str(exc_info.value)


def test_part_set_with_different_schema(part_of: Callable[..., bytes], tmp_path: Path) -> None:
    other = TWO_FIELDS.replace('type="TEXT"', 'type="INTEGER"')
    first, second = _files(tmp_path, part_of(1, 2), part_of(2, 2, fields=other))
    with pytest.raises(PacketError, match="schema differs") as exc_info:
        _read_all(first, second)
    assert str(second) in str(exc_info.value)


def test_part_set_with_duplicated_part(part_of: Callable[..., bytes], tmp_path: Path) -> None:
    paths = _files(tmp_path, part_of(1, 2), part_of(1, 2), part_of(2, 2))
    with pytest.raises(PacketError, match="part 1 given twice") as exc_info:
        _read_all(*paths)
    assert str(paths[1]) in str(exc_info.value)


def test_part_set_with_missing_part(part_of: Callable[..., bytes], tmp_path: Path) -> None:
    paths = _files(tmp_path, part_of(1, 3), part_of(3, 3))
    with pytest.raises(PacketError, match=r"missing part\(s\) 2 of 3") as exc_info:
        _read_all(*paths)
    assert "REF-2026-0000abcd" in str(exc_info.value)


def test_single_part_of_a_set(part_of: Callable[..., bytes]) -> None:
    with pytest.raises(PacketError, match=r"missing part\(s\) 2 of 2"):
        _read_all(part_of(1, 2))


def test_part_set_with_total_parts_mismatch(
    part_of: Callable[..., bytes], tmp_path: Path
) -> None:
    first, second = _files(tmp_path, part_of(1, 2), part_of(2, 3))
    with pytest.raises(PacketError, match="TotalParts 3 differs from 2") as exc_info:
        _read_all(first, second)
    assert str(second) in str(exc_info.value)


def test_part_set_with_different_in_reply_to(
    part_of: Callable[..., bytes], tmp_path: Path
) -> None:
    first, second = _files(
        tmp_path,
        part_of(1, 2, packet_type="response", header_extra="<InReplyTo>REQ-1</InReplyTo>"),
        part_of(2, 2, packet_type="response", header_extra="<InReplyTo>REQ-2</InReplyTo>"),
    )
    with pytest.raises(PacketError, match="InReplyTo differs"):
        _read_all(first, second)


def test_part_file_missing_from_discovered_set(users_schema: Schema, tmp_path: Path) -> None:
    rows = [(i, "x" * 300) for i in range(100)]
    paths = write_packets(TableStream.from_rows(users_schema, rows, table="users"),
                          tmp_path / "users.tdtp.xml", part_size=10_000)
    assert len(paths) >= 3
    paths[1].unlink()
    with pytest.raises(PacketError, match="no such file") as exc_info:
        _read_all(paths[0])
    assert paths[1].name in str(exc_info.value)


def test_later_part_failure_names_the_part(
    part_of: Callable[..., bytes], tmp_path: Path
) -> None:
    paths = _files(tmp_path, part_of(1, 2), part_of(2, 2, rows=["x|bad"]))
    with pytest.raises(SchemaError, match="invalid integer value") as exc_info:
        _read_all(*paths)
    assert str(paths[1]) in str(exc_info.value)
    assert "part 2" in str(exc_info.value)


# ------------------------------------------------------------- writing bad values

INVALID_CHARS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\ufffe", "\uffff", "\ud800",
                 "\udfff"]


@pytest.fixture
def text_table() -> Schema:
    return Schema([Field("id", "INTEGER"), Field("name", "TEXT")])


@pytest.mark.parametrize("char", INVALID_CHARS, ids=[f"U+{ord(c):04X}" for c in INVALID_CHARS])
def test_invalid_character_on_write_names_table_row_field(
    text_table: Schema, tmp_path: Path, char: str
) -> None:
    rows = [(1, "ok"), (2, "fine"), (3, f"bad{char}value")]
    with pytest.raises(SchemaError) as exc_info:
        write_packets(TableStream.from_rows(text_table, rows, table="users"),
                      tmp_path / "out.tdtp.xml")
    text = str(exc_info.value)
    for piece in ("'users'", "row 3", "'name'", f"U+{ord(char):04X}"):
        assert piece in text, text
    assert list(tmp_path.iterdir()) == []


def test_invalid_character_row_counts_across_batches(text_table: Schema) -> None:
    rows = [(i, "ok") for i in range(10)] + [(10, "\x01")]
    with pytest.raises(SchemaError, match="row 11"):
        encode_packets(TableStream.from_rows(text_table, rows, table="t", batch_size=3))


@pytest.mark.parametrize("char", INVALID_CHARS, ids=[f"U+{ord(c):04X}" for c in INVALID_CHARS])
def test_replace_invalid_writes_replacement_character(
    text_table: Schema, tmp_path: Path, char: str
) -> None:
    stream = TableStream.from_rows(text_table, [(1, f"a{char}b")], table="users")
    (path,) = write_packets(stream, tmp_path / "out.tdtp.xml", replace_invalid=True)
    assert _read_all(path) == [(1, "a\ufffdb")]


def test_wrong_value_count_on_write(text_table: Schema) -> None:
    with pytest.raises(SchemaError, match="row 2 has 3 values") as exc_info:
        encode_packets(TableStream.from_rows(text_table, [(1, "a"), (2, "b", "c")], table="t"))
    assert "'t'" in str(exc_info.value)


def test_wrong_value_type_on_write_names_table_row_field(text_table: Schema) -> None:
    with pytest.raises(SchemaError) as exc_info:
        encode_packets(TableStream.from_rows(text_table, [(1, "a"), ("two", "b")], table="t"))
    text = str(exc_info.value)
    for piece in ("'t'", "row 2", "'id'"):
        assert piece in text, text


def test_too_small_part_size_is_refused(text_table: Schema) -> None:
    with pytest.raises(PacketError, match="too small"):
        encode_packets(TableStream.from_rows(text_table, [(1, "a")], table="t"), part_size=100)


def test_unknown_packet_type_on_write(text_table: Schema) -> None:
    with pytest.raises(PacketError, match="unknown packet type"):
        encode_packets(TableStream.from_rows(text_table, [], table="t"), packet_type="snapshot")


def test_table_name_is_required_on_write(text_table: Schema) -> None:
    with pytest.raises(PacketError, match="table name"):
        encode_packets(TableStream.from_rows(text_table, [], table=""))


# --------------------------------------------------------------- tolerant reading


def test_tolerant_read_keeps_raw_control_characters(make_packet: Build) -> None:
    data = make_packet(rows=["1|a\x01b\x1fc", "2|\x08"])
    assert _read_all(data, tolerant=True) == [(1, "a\x01b\x1fc"), (2, "\x08")]


def test_tolerant_read_raw_nul_cell_is_null(make_packet: Build) -> None:
    fields = '<Field name="id" type="INTEGER"></Field><Field name="name" type="TEXT"></Field>'
    data = make_packet(fields=fields, rows=["1|\x00", "\x00|x"])
    assert _read_all(data, tolerant=True) == [(1, None), (None, "x")]


def test_tolerant_read_does_not_alter_valid_packets(make_packet: Build) -> None:
    """Private-use characters are ordinary data and must come back unchanged."""
    value = "a\uf700\uf701\uf71fb"
    data = make_packet(rows=[f"1|{value}"])
    assert _read_all(data) == [(1, value)]
    assert _read_all(data, tolerant=True) == [(1, value)]


def test_tolerant_read_still_rejects_other_damage(make_packet: Build) -> None:
    with pytest.raises(PacketError, match="not well-formed"):
        _read_all(make_packet(rows=["1|a&b\x01"]), tolerant=True)


def test_default_read_of_raw_nul_fails(make_packet: Build) -> None:
    with pytest.raises(PacketError, match="not well-formed"):
        _read_all(make_packet(rows=["1|\x00"]))

