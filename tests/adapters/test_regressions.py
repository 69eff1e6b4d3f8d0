"""Regression items of framework §12 that concern import and the adapters."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tdtp_core import read_packets, write_packets
from tdtp_core.errors import AdapterError, PacketError, SchemaError
from tdtp_core.packet.reader import parse_packet
from tdtp_core.types import Field, Schema
from tests.adapters.adapter_helpers import Db, content, create, run_sql, stream

NAMED = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])


def _export_parts(db: Db, table: str, out: Path, rows: int = 300) -> list[Path]:
    create(db.adapter, table, [(i, f"name {i:04d} " + "x" * 80) for i in range(rows)])
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_packets(db.adapter.read(table), out, part_size=8 * 1024, integrity=True)


def _raw_sqlite(url: str) -> sqlite3.Connection:
    return sqlite3.connect(url.removeprefix("sqlite:///"))


# §12.3 ------------------------------------------------------------------------------


def test_a_part_from_another_export_is_rejected_before_any_write(
    sqlite_db: Db, tmp_path: Path
) -> None:
    src = sqlite_db.new_table()
    first = _export_parts(sqlite_db, src, tmp_path / "a" / "t.tdtp.xml")
    (tmp_path / "b").mkdir()
    second = write_packets(sqlite_db.adapter.read(src), tmp_path / "b" / "t.tdtp.xml",
                           part_size=8 * 1024)
    assert len(first) >= 3
    target = sqlite_db.new_table()
    create(sqlite_db.adapter, target, [(1, "keep")])
    mixed = [first[0], second[1], *first[2:]]
    with pytest.raises(PacketError, match="batch mismatch"):
        sqlite_db.adapter.write(read_packets(*mixed), table=target)
    assert content(sqlite_db.adapter, target) == [(1, "keep")]


def test_a_missing_part_is_named_and_nothing_is_written(sqlite_db: Db, tmp_path: Path) -> None:
    parts = _export_parts(sqlite_db, sqlite_db.new_table(), tmp_path / "t.tdtp.xml")
    target = sqlite_db.new_table()
    with pytest.raises(PacketError, match=r"missing part\(s\) 2 of"):
        sqlite_db.adapter.write(read_packets(parts[0], *parts[2:]), table=target, create=True)
    assert target not in sqlite_db.adapter.list_tables()


def test_a_part_failing_verification_midway_rolls_back_the_set(
    db: Db, tmp_path: Path
) -> None:
    parts = _export_parts(db, db.new_table(), tmp_path / "t.tdtp.xml")
    broken = tmp_path / "broken"
    broken.mkdir()
    copies = [Path(shutil.copy(p, broken / p.name)) for p in parts]
    text = copies[1].read_text(encoding="utf-8")
    copies[1].write_text(text.replace("name 0", "NAME 0", 1), encoding="utf-8")
    target = db.new_table()
    create(db.adapter, target, [(1, "keep")])
    with pytest.raises(PacketError):
        db.adapter.write(read_packets(*copies), table=target)
    assert content(db.adapter, target) == [(1, "keep")]


def test_a_part_set_imported_twice_is_skipped_by_the_ledger(db: Db, tmp_path: Path) -> None:
    parts = _export_parts(db, db.new_table(), tmp_path / "t.tdtp.xml", rows=120)
    target = db.new_table()
    first = db.adapter.write(read_packets(*parts), table=target, create=True)
    again = db.adapter.write(read_packets(*reversed(parts)), table=target)
    ids = {parse_packet(p).header.message_id for p in parts}
    assert first.rows == 120 and set(first.message_ids) == ids
    assert again.skipped_duplicate and again.rows == 0


# §12.4 ------------------------------------------------------------------------------


def test_sqlite_dates_and_datetimes_are_read_from_their_text(
    sqlite_db: Db, tmp_path: Path
) -> None:
    t = sqlite_db.new_table()
    with _raw_sqlite(sqlite_db.url) as conn:
        conn.execute(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, d DATE, ts DATETIME)")
        conn.execute(f"INSERT INTO {t} VALUES (1, '1990-05-15', '2026-06-16 11:38:11'),"
                     "(2, NULL, '2026-06-16 11:38:11.817+03:00')")
    rows = content(sqlite_db.adapter, t)
    assert rows == [(1, date(1990, 5, 15), datetime(2026, 6, 16, 11, 38, 11, tzinfo=UTC)),
                    (2, None, datetime(2026, 6, 16, 8, 38, 11, 817000, tzinfo=UTC))]
    (path,) = write_packets(sqlite_db.adapter.read(t), tmp_path / "d.tdtp.xml")
    text = path.read_text(encoding="utf-8")
    assert "1990-05-15|2026-06-16T11:38:11Z" in text


def test_a_date_given_as_rfc3339_is_stored_as_a_plain_date_in_sqlite(sqlite_db: Db) -> None:
    t = sqlite_db.new_table()
    schema = Schema([Field("id", "INTEGER", key=True), Field("d", "DATE")])
    create(sqlite_db.adapter, t, schema=schema)
    packet_like = Schema([Field("id", "INTEGER", key=True), Field("d", "TEXT")])
    sqlite_db.adapter.write(stream([(1, "1990-05-15T00:00:00Z")], t, packet_like))
    with _raw_sqlite(sqlite_db.url) as conn:
        assert conn.execute(f"SELECT d FROM {t}").fetchall() == [("1990-05-15",)]


# §12.5 ------------------------------------------------------------------------------


def test_empty_text_goes_into_a_not_null_column_as_empty(db: Db) -> None:
    t = db.new_table()
    run_sql(db.adapter, f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    db.adapter.write(stream([(1, "")], t))
    assert content(db.adapter, t) == [(1, "")]


def test_empty_text_into_an_integer_column_is_null(sqlite_db: Db) -> None:
    # A CSV file read without a schema gives TEXT fields; their empty cells mean NULL
    # to a column of any other type.
    t = sqlite_db.new_table()
    run_sql(sqlite_db.adapter, f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, age INTEGER)")
    texts = Schema([Field("id", "TEXT"), Field("age", "TEXT")])
    sqlite_db.adapter.write(stream([("1", ""), ("2", "40")], t, texts))
    assert content(sqlite_db.adapter, t) == [(1, None), (2, 40)]


def test_null_into_a_not_null_column_names_the_field(sqlite_db: Db) -> None:
    t = sqlite_db.new_table()
    with _raw_sqlite(sqlite_db.url) as conn:
        conn.execute(f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    with pytest.raises(SchemaError, match="field 'name': NULL in a NOT NULL column"):
        sqlite_db.adapter.write(stream([(1, "a"), (2, None)], t))


def test_empty_string_and_null_survive_a_packet_round_trip(db: Db, tmp_path: Path) -> None:
    t, back = db.new_table(), db.new_table()
    create(db.adapter, t, [(1, ""), (2, None), (3, "x")])
    paths = write_packets(db.adapter.read(t), tmp_path / "e.tdtp.xml")
    db.adapter.write(read_packets(*paths), table=back, create=True)
    assert content(db.adapter, back) == [(1, ""), (2, None), (3, "x")]


def test_text_longer_than_the_column_is_refused_with_its_row(db: Db) -> None:
    t = db.new_table()
    run_sql(db.adapter, f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, code VARCHAR(3))")
    schema = Schema([Field("id", "INTEGER", key=True), Field("code", "TEXT")])
    with pytest.raises(SchemaError, match=r"row 2: field 'code': text length 4 exceeds 3"):
        db.adapter.write(stream([(1, "abc"), (2, "abcd")], t, schema))


# §12.12 -----------------------------------------------------------------------------


def test_a_compressed_export_imports_every_row(db: Db, tmp_path: Path) -> None:
    t, back = db.new_table(), db.new_table()
    rows = [(i, f"row {i} " * 20) for i in range(200)]
    create(db.adapter, t, rows)
    paths = write_packets(db.adapter.read(t), tmp_path / "c.tdtp.xml", compress="zstd")
    assert 'compression="zstd"' in paths[0].read_text(encoding="utf-8")
    db.adapter.write(read_packets(*paths), table=back, create=True)
    assert content(db.adapter, back) == rows


# §12.15 -----------------------------------------------------------------------------


def test_two_concurrent_imports_into_one_sqlite_file_both_succeed(sqlite_db: Db) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t)
    errors: list[BaseException] = []

    def load(start: int) -> None:
        try:
            rows = [(start + i, "x" * 50) for i in range(5000)]
            sqlite_db.adapter.write(stream(rows, t, batch_size=500))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(n * 100000,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(content(sqlite_db.adapter, t)) == 10000


# errors ------------------------------------------------------------------------------


def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    from tdtp_core.plugins import get_host

    adapter = get_host().adapter_for_url("postgresql://bob:s3cret@127.0.0.1:1/nowhere")
    with pytest.raises(AdapterError) as err:
        adapter.list_tables()
    message = str(err.value)
    assert "s3cret" not in message and "bob:***@127.0.0.1:1" in message
    assert "\n" not in message
