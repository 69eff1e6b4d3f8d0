"""The built-in CSV format: canonical cell text, sidecar schemas, options, streaming."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.formats.csv import CsvFormat
from tdtp_core.plugins import PluginHost
from tdtp_core.stream import TableStream
from tdtp_core.types import Field, Schema

SCHEMA = Schema([
    Field("id", "INTEGER", key=True),
    Field("name", "TEXT"),
    Field("price", "DECIMAL", precision=8, scale=2),
    Field("ok", "BOOLEAN"),
    Field("at", "TIMESTAMP", timezone="UTC"),
    Field("raw", "BLOB"),
])
ROWS = [
    (1, "plain", Decimal("1.5"), True, datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC), b"\x00\xff"),
    (2, 'quote " and, comma', None, False, None, None),
    (3, "line\nbreak", Decimal("-0.01"), None, datetime(2024, 1, 1, tzinfo=UTC), b""),
]


@pytest.fixture
def csv_format() -> CsvFormat:
    return CsvFormat()


def stream(rows: list[tuple[object, ...]] = ROWS, schema: Schema = SCHEMA) -> TableStream:
    return TableStream.from_rows(schema, rows, table="items", batch_size=2)


@pytest.fixture
def written(csv_format: CsvFormat, tmp_path: Path) -> Path:
    [path] = csv_format.write(stream(), tmp_path / "items.csv", schema_sidecar=True)
    return path


def test_values_written_as_canonical_cell_text(csv_format: CsvFormat, tmp_path: Path) -> None:
    [path] = csv_format.write(stream(), tmp_path / "items.csv")
    assert path.read_text(encoding="utf-8") == (
        "id,name,price,ok,at,raw\n"
        "1,plain,1.50,1,2024-05-06T07:08:09Z,AP8=\n"
        '2,"quote "" and, comma",,0,,\n'
        '3,"line\nbreak",-0.01,,2024-01-01T00:00:00Z,\n'
    )


def test_round_trip_through_sidecar_keeps_types(csv_format: CsvFormat, written: Path) -> None:
    # BLOB b"" and NULL both write an empty cell; a non-text empty cell reads as NULL.
    expected = [*ROWS[:2], (*ROWS[2][:5], None)]
    assert csv_format.read([written]).rows() == expected


def test_sidecar_names_table_and_types(written: Path) -> None:
    sidecar = json.loads(written.with_name("items.csv.schema.json").read_text(encoding="utf-8"))
    assert sidecar["table"] == "items"
    assert sidecar["fields"][2] == {"name": "price", "type": "DECIMAL", "precision": 8,
                                    "scale": 2}


def test_read_without_sidecar_infers_types(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("id,name,born\n1,Ann,2001-02-03\n2,,\n", encoding="utf-8")
    read = csv_format.read([path])
    assert [f.type for f in read.schema] == ["INTEGER", "TEXT", "DATE"]
    assert (read.table, read.rows()) == ("people", [(1, "Ann", date(2001, 2, 3)),
                                                    (2, "", None)])


def test_inference_sees_every_batch(csv_format: CsvFormat, tmp_path: Path) -> None:
    # A text in the last row makes the column TEXT, though the first batches hold numbers.
    path = tmp_path / "late.csv"
    path.write_text("code\n" + "".join(f"{i}\n" for i in range(9)) + "A1\n", encoding="utf-8")
    read = csv_format.read([path], batch_size=2)
    assert read.schema[0].type == "TEXT"
    assert read.rows()[-1] == ("A1",)


def test_empty_cell_of_an_inferred_number_is_null(csv_format: CsvFormat,
                                                  tmp_path: Path) -> None:
    path = tmp_path / "fix.csv"
    path.write_text("id,age\n1,31\n2,\n", encoding="utf-8")
    assert csv_format.read([path]).rows() == [(1, 31), (2, None)]


def test_sidecar_is_written_by_default(csv_format: CsvFormat, tmp_path: Path) -> None:
    [path] = csv_format.write(stream(), tmp_path / "items.csv")
    assert csv_format.read([path]).schema == SCHEMA


def test_no_sidecar_option_removes_a_stale_one(csv_format: CsvFormat, written: Path) -> None:
    csv_format.write(stream(), written, schema_sidecar=False)
    assert sorted(p.name for p in written.parent.iterdir()) == ["items.csv"]


def test_schema_option_names_the_schema_file(csv_format: CsvFormat, tmp_path: Path) -> None:
    schema_file = tmp_path / "types.json"
    [path] = csv_format.write(stream(), tmp_path / "items.csv", schema=schema_file)
    assert not (tmp_path / "items.csv.schema.json").exists()
    assert csv_format.read([path], schema=schema_file).rows()[0] == ROWS[0]


def test_missing_schema_file_is_config_error(csv_format: CsvFormat, written: Path) -> None:
    with pytest.raises(ConfigError, match="no such schema file"):
        csv_format.read([written], schema=written.with_name("nope.json"))


def test_no_header_writes_only_rows(csv_format: CsvFormat, tmp_path: Path) -> None:
    schema = Schema([Field("a", "INTEGER"), Field("b", "TEXT")])
    [path] = csv_format.write(stream([(1, "x")], schema), tmp_path / "n.csv", header=False)
    assert path.read_text(encoding="utf-8") == "1,x\n"


def test_no_header_round_trip_through_sidecar(csv_format: CsvFormat, tmp_path: Path) -> None:
    [path] = csv_format.write(stream(), tmp_path / "items.csv", header=False)
    back = csv_format.read([path], header=False)
    assert (back.schema, back.rows()) == (SCHEMA, [*ROWS[:2], (*ROWS[2][:5], None)])


def test_no_header_without_schema_names_columns(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("1,Ann\n2,Bob\n", encoding="utf-8")
    read = csv_format.read([path], header=False)
    assert [(f.name, f.type) for f in read.schema] == [("column1", "INTEGER"),
                                                      ("column2", "TEXT")]
    assert read.rows() == [(1, "Ann"), (2, "Bob")]


def test_headerless_file_read_with_header_hints_the_option(
    csv_format: CsvFormat, tmp_path: Path
) -> None:
    [path] = csv_format.write(stream(), tmp_path / "items.csv", header=False)
    with pytest.raises(SchemaError, match="without a header row needs header=False"):
        csv_format.read([path])


def test_quoting_none_keeps_quotes_as_text(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('name\n"Ann"\n', encoding="utf-8")
    assert csv_format.read([path], quoting="none").rows() == [('"Ann"',)]


def test_quoting_none_refuses_a_cell_with_the_delimiter(
    csv_format: CsvFormat, tmp_path: Path
) -> None:
    with pytest.raises(SchemaError, match=r"row 2: field 'name' holds the delimiter"):
        csv_format.write(stream(), tmp_path / "q.csv", quoting="none")
    assert list(tmp_path.iterdir()) == []


def test_read_streams_in_batches(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("n\n" + "".join(f"{i}\n" for i in range(5)), encoding="utf-8")
    sizes = [len(b) for b in csv_format.read([path], batch_size=2).batches()]
    assert sizes == [2, 2, 1]


def test_read_concatenates_files_with_one_header(csv_format: CsvFormat, tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("x\n1\n", encoding="utf-8")
    second.write_text("x\n2\n", encoding="utf-8")
    assert csv_format.read([first, second]).rows() == [(1,), (2,)]


def test_read_rejects_files_with_other_header(csv_format: CsvFormat, tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("x\n1\n", encoding="utf-8")
    second.write_text("y\n2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="header differs"):
        csv_format.read([first, second]).rows()


def test_read_skips_blank_lines(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("x,y\n1,2\n\n3,4\n\n", encoding="utf-8")
    assert csv_format.read([path]).rows() == [(1, 2), (3, 4)]


def test_read_skips_utf8_bom(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffname\nÄ\n".encode())
    assert csv_format.read([path]).schema.names == ["name"]


def test_bad_cell_names_file_line_and_field(csv_format: CsvFormat, written: Path) -> None:
    lines = written.read_text(encoding="utf-8").splitlines(keepends=True)
    written.write_text("".join([*lines[:2], "x" + lines[2], *lines[3:]]), encoding="utf-8")
    with pytest.raises(SchemaError, match=r"items\.csv: line 3: field 'id': invalid integer"):
        csv_format.read([written]).rows()


def test_wrong_cell_count_names_line(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text("a,b\n1,2\n3\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"w\.csv: line 3: 1 cells, the header has 2"):
        csv_format.read([path]).rows()


def test_sidecar_not_matching_header_rejected(csv_format: CsvFormat, written: Path) -> None:
    written.write_text("id,other\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="do not match the header"):
        csv_format.read([written])


def test_wrong_encoding_names_file_and_option(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "win.csv"
    path.write_bytes("name\nЖанна\n".encode("cp1251"))
    with pytest.raises(SchemaError, match=r"win\.csv: not utf-8 text \(byte 0xc6\); name the "
                                          r"file's encoding"):
        csv_format.read([path]).rows()


def test_empty_file_rejected(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(SchemaError, match="expected a header row"):
        csv_format.read([path])


def test_duplicate_header_rejected(csv_format: CsvFormat, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("a,a\n1,2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="appears twice"):
        csv_format.read([path])


@pytest.mark.parametrize(("given", "used"), [(";", ";"), ("\\t", "\t"), ("tab", "\t")])
def test_delimiter_option(csv_format: CsvFormat, tmp_path: Path, given: str, used: str) -> None:
    [path] = csv_format.write(stream(ROWS[:1]), tmp_path / "d.csv", delimiter=given)
    assert path.read_text(encoding="utf-8").splitlines()[0] == used.join(SCHEMA.names)


def test_quoting_all(csv_format: CsvFormat, tmp_path: Path) -> None:
    schema = Schema([Field("a", "INTEGER"), Field("b", "TEXT")])
    [path] = csv_format.write(stream([(1, "x")], schema), tmp_path / "q.csv", quoting="all")
    assert path.read_text(encoding="utf-8") == '"a","b"\n"1","x"\n'


def test_encoding_option(csv_format: CsvFormat, tmp_path: Path) -> None:
    schema = Schema([Field("city", "TEXT")])
    [path] = csv_format.write(stream([("Москва",)], schema), tmp_path / "c.csv",
                              encoding="cp1251")
    assert path.read_bytes() == "city\nМосква\n".encode("cp1251")


def test_unencodable_text_fails_and_leaves_no_file(csv_format: CsvFormat, tmp_path: Path) -> None:
    schema = Schema([Field("city", "TEXT")])
    target = tmp_path / "c.csv"
    with pytest.raises(SchemaError, match="cannot be written in latin-1"):
        csv_format.write(stream([("Москва",)], schema), target, encoding="latin-1")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options",
    [{"compress": "zstd"}, {"delimiter": ";;"}, {"quoting": "never"}, {"encoding": "klingon"}],
)
def test_bad_write_option_is_config_error(
    csv_format: CsvFormat, tmp_path: Path, options: dict[str, str]
) -> None:
    with pytest.raises(ConfigError):
        csv_format.write(stream(), tmp_path / "x.csv", **options)


def test_registered_as_builtin_format() -> None:
    assert isinstance(PluginHost().format_for_path("report.CSV"), CsvFormat)
