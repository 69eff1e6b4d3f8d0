"""pandas: dtypes of every TDTP type, NULLs in every column type, round trips with and
without the saved schema, chunks, frames pandas made, and that tdtp_core stays light."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")

import tdtp_core  # noqa: E402
from tdtp_core import NODATE, Field, Schema, TableStream  # noqa: E402
from tdtp_core.errors import ConfigError, SchemaError  # noqa: E402

TYPES = Schema([
    Field("id", "INTEGER", key=True),
    Field("name", "TEXT", length=40),
    Field("amount", "DECIMAL", precision=20, scale=2),
    Field("score", "REAL"),
    Field("active", "BOOLEAN"),
    Field("born", "DATE"),
    Field("seen", "TIMESTAMP", timezone="UTC"),
    Field("local", "TIMESTAMP"),
    Field("alarm", "TIMESTAMP", subtype="time"),
    Field("photo", "BLOB"),
])
ROWS: list[tuple[Any, ...]] = [
    (1, "Ada", Decimal("1500.50"), 1.5, True, date(2024, 1, 2),
     datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), datetime(1850, 1, 1, 0, 0, 0, 1),
     time(1, 2, 3, 4), b"\x00\x01"),
    (2, "", Decimal("123456789012345678.99"), float("nan"), False, date(1, 1, 1),
     datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(1, 1, 1), time(0), b""),
    (3, None, None, None, None, None, None, None, None, None),
    (None, "x", Decimal("-0.01"), float("-inf"), None, date(9999, 12, 31), None,
     datetime(2024, 5, 6, 7, 8, 9), None, None),
]
DTYPES = {
    "id": "Int64", "name": "string", "amount": "object", "score": "Float64",
    "active": "boolean", "born": "datetime64[s]", "seen": "datetime64[us, UTC]",
    "local": "datetime64[us]", "alarm": "object", "photo": "object",
}


def stream(rows: list[tuple[Any, ...]] = ROWS, schema: Schema = TYPES) -> TableStream:
    return TableStream.from_rows(schema, rows, table="things", batch_size=3)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and a != a:
        return isinstance(b, float) and b != b
    return bool(a == b) and type(a) is type(b)


def assert_rows(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert all(same(x, y) for x, y in zip(g, w, strict=True)), (g, w)


def test_dtypes() -> None:
    df = tdtp_core.to_dataframe(stream())
    assert {c: str(t) for c, t in df.dtypes.items()} == DTYPES
    assert list(df.columns) == TYPES.names


def test_nulls_in_every_column_type() -> None:
    df = tdtp_core.to_dataframe(stream())
    assert df.iloc[2, 1:].isna().all()
    assert df["id"].isna().tolist() == [False, False, False, True]
    # NaN is a value, NULL is <NA>: both survive, apart.
    assert df["score"].isna().tolist() == [False, False, True, False]
    assert np.isnan(df["score"].to_numpy(dtype="float64", na_value=0.0)[1])
    assert df["name"].tolist()[1] == "" and df["name"].isna().tolist()[1:3] == [False, True]
    assert df["photo"].tolist()[1] == b""


def test_values() -> None:
    df = tdtp_core.to_dataframe(stream())
    first = df.iloc[0]
    assert first["amount"] == Decimal("1500.50") and isinstance(first["amount"], Decimal)
    assert first["seen"] == pd.Timestamp("2024-01-02T03:04:05.123456Z")
    assert first["born"] == pd.Timestamp("2024-01-02")
    assert first["alarm"] == time(1, 2, 3, 4)


def test_round_trip_with_saved_schema() -> None:
    df = tdtp_core.to_dataframe(stream())
    back = tdtp_core.from_dataframe(df)
    assert back.schema == TYPES
    assert back.table == "things"
    assert_rows(back.rows(), ROWS)


def test_round_trip_without_saved_schema() -> None:
    df = tdtp_core.to_dataframe(stream())
    df.attrs.clear()
    back = tdtp_core.from_dataframe(df, table="again", key="id")
    assert back.table == "again"
    assert [(f.name, f.type, f.key, f.timezone, f.subtype) for f in back.schema] == [
        ("id", "INTEGER", True, None, None), ("name", "TEXT", False, None, None),
        ("amount", "DECIMAL", False, None, None), ("score", "REAL", False, None, None),
        ("active", "BOOLEAN", False, None, None), ("born", "TIMESTAMP", False, None, None),
        ("seen", "TIMESTAMP", False, "UTC", None), ("local", "TIMESTAMP", False, None, None),
        ("alarm", "TIMESTAMP", False, None, "time"), ("photo", "BLOB", False, None, None),
    ]
    assert (back.schema[2].precision, back.schema[2].scale) == (20, 2)
    rows = back.rows()
    assert rows[0][5] == datetime(2024, 1, 2)  # a DATE comes back as a midnight TIMESTAMP
    assert_rows([r[:5] + r[6:] for r in rows], [r[:5] + r[6:] for r in ROWS])


def test_decimal_as_float() -> None:
    df = tdtp_core.to_dataframe(stream(), decimal="float")
    assert str(df["amount"].dtype) == "Float64"
    assert df["amount"].tolist()[0] == 1500.5 and df["amount"].isna().tolist()[2]
    back = tdtp_core.from_dataframe(df).rows()
    assert back[0][2] == Decimal("1500.5") and back[2][2] is None
    with pytest.raises(ConfigError):
        tdtp_core.to_dataframe(stream(), decimal="exact")  # type: ignore[call-overload]


def test_chunks() -> None:
    rows = [(i, f"n{i}") for i in range(11)]
    schema = Schema([Field("id", "INTEGER"), Field("name", "TEXT")])
    chunks = list(tdtp_core.to_dataframe(stream(rows, schema), chunksize=4))
    assert [len(c) for c in chunks] == [4, 4, 3]
    assert chunks[2]["id"].tolist() == [8, 9, 10]
    assert all(str(c["id"].dtype) == "Int64" for c in chunks)
    assert list(tdtp_core.to_dataframe(stream([], schema), chunksize=4)) == []
    with pytest.raises(ConfigError):
        tdtp_core.to_dataframe(stream(rows, schema), chunksize=0)


def test_empty_stream_keeps_columns_and_dtypes() -> None:
    df = tdtp_core.to_dataframe(stream([]))
    assert len(df) == 0 and {c: str(t) for c, t in df.dtypes.items()} == DTYPES


def test_no_date_becomes_nat() -> None:
    schema = Schema([Field("d", "DATE")])
    df = tdtp_core.to_dataframe(stream([(NODATE,), (date(2024, 1, 1),)], schema))
    assert df["d"].isna().tolist() == [True, False]


def test_frame_made_by_pandas() -> None:
    df = pd.DataFrame({
        "i": [1, 2, 3],
        "ni": pd.array([1, None, 3], dtype="Int64"),
        "f": [1.5, np.nan, 2.0],
        "b": [True, False, True],
        "nb": pd.array([True, None, False], dtype="boolean"),
        "s": ["a", None, "c"],
        "dt": pd.to_datetime(["2024-01-01 10:00", None, "2024-01-03 00:00"]),
        "tz": pd.to_datetime(["2024-01-01 10:00+02:00", None, "2024-01-03 00:00+00:00"], utc=True),
        "obj_dec": [Decimal("1.5"), None, Decimal("-20.125")],
        "obj_date": [date(2024, 1, 1), None, date(2024, 1, 3)],
        "obj_bytes": [b"a", None, b""],
        "mixed": [1, "two", 3.5],
        "cat": pd.Categorical(["x", "y", "x"]),
    })
    stream = tdtp_core.from_dataframe(df)
    assert stream.table == "data"
    assert [(f.name, f.type) for f in stream.schema] == [
        ("i", "INTEGER"), ("ni", "INTEGER"), ("f", "REAL"), ("b", "BOOLEAN"),
        ("nb", "BOOLEAN"), ("s", "TEXT"), ("dt", "TIMESTAMP"), ("tz", "TIMESTAMP"),
        ("obj_dec", "DECIMAL"), ("obj_date", "DATE"), ("obj_bytes", "BLOB"), ("mixed", "TEXT"),
        ("cat", "TEXT"),
    ]
    assert stream.schema.field("tz").timezone == "UTC"
    assert (stream.schema.field("obj_dec").precision, stream.schema.field("obj_dec").scale) \
        == (5, 3)
    rows = stream.rows()
    assert rows[0] == (1, 1, 1.5, True, True, "a", datetime(2024, 1, 1, 10),
                       datetime(2024, 1, 1, 8, tzinfo=UTC), Decimal("1.5"), date(2024, 1, 1),
                       b"a", "1", "x")
    assert rows[1] == (2, None, None, False, None, None, None, None, None, None, None,
                       "two", "y")
    assert all(type(v) is int for v in (rows[0][0], rows[0][1]))


def test_written_as_packet(tmp_path: Any) -> None:
    df = tdtp_core.to_dataframe(stream())
    paths = tdtp_core.write_packets(tdtp_core.from_dataframe(df), tmp_path / "t.tdtp.xml")
    assert_rows(tdtp_core.read_packets(*paths).rows(), ROWS)


def test_from_dataframe_streams_in_batches() -> None:
    df = pd.DataFrame({"i": range(10)})
    batches = list(tdtp_core.from_dataframe(df, batch_size=4).batches())
    assert [len(b) for b in batches] == [4, 4, 2]


def test_key_must_be_a_column() -> None:
    with pytest.raises(SchemaError, match="key field"):
        tdtp_core.from_dataframe(pd.DataFrame({"a": [1]}), key=["id"])


def test_importing_tdtp_core_does_not_import_pandas() -> None:
    code = ("import sys, tdtp_core; print('pandas' in sys.modules); "
            "s = tdtp_core.TableStream.from_rows(tdtp_core.Schema([tdtp_core.Field('a', 'TEXT')]),"
            " [], table='t'); tdtp_core.to_dataframe(s); print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "True"]
