"""Incremental sync (framework §3.7, regressions §12.8–12.11, DECISIONS 16)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tdtp_core import read_packets, write_packets
from tdtp_core.sql.sync import STATE_FILE, SyncResult, sync_table
from tdtp_core.stream import TableStream
from tdtp_core.types import Field, Schema
from tests.adapters.adapter_helpers import Db, create, stream

STAMPED = Schema([Field("id", "INTEGER", key=True), Field("at", "TIMESTAMP", timezone="UTC")])


def _write(s: TableStream, path: Path) -> list[Path]:
    return write_packets(s, path)


def _sync(db: Db, table: str, column: str, out: Path, **kw: object) -> SyncResult:
    return sync_table(db.adapter, table, column, out, _write, **kw)  # type: ignore[arg-type]


def _ids(result: SyncResult) -> list[int]:
    return [r[0] for path in result.files for r in read_packets(path).rows()]


def test_second_run_exports_only_rows_added_in_between(db: Db, tmp_path: Path) -> None:
    t = db.new_table()
    create(db.adapter, t, [(1, "a"), (2, "b")])
    first = _sync(db, t, "id", tmp_path)
    db.adapter.write(stream([(3, "c")], t))
    second = _sync(db, t, "id", tmp_path)
    assert first.first_run and _ids(first) == [1, 2]
    assert (second.previous, _ids(second), second.watermark) == ("2", [3], "3")


def test_integer_watermark_compares_as_numbers(db: Db, tmp_path: Path) -> None:
    t = db.new_table()
    create(db.adapter, t, [(9, "a"), (25, "b")])
    assert _sync(db, t, "id", tmp_path).watermark == "25"
    db.adapter.write(stream([(100, "c")], t))
    assert _ids(_sync(db, t, "id", tmp_path)) == [100]


def test_sub_second_timestamps_are_not_exported_again(db: Db, tmp_path: Path) -> None:
    t = db.new_table()
    at = datetime(2026, 6, 16, 11, 38, 11, 528770, tzinfo=UTC)
    create(db.adapter, t, [(1, at)], STAMPED)
    first = _sync(db, t, "at", tmp_path)
    assert first.watermark == "2026-06-16T11:38:11.52877Z"
    later = datetime(2026, 6, 16, 11, 38, 11, 900000, tzinfo=UTC)
    db.adapter.write(stream([(2, later)], t, STAMPED))
    assert _ids(_sync(db, t, "at", tmp_path)) == [2]


def test_a_run_without_new_rows_writes_nothing_and_keeps_the_state(
    db: Db, tmp_path: Path
) -> None:
    t = db.new_table()
    create(db.adapter, t, [(1, "a")])
    _sync(db, t, "id", tmp_path)
    state = (tmp_path / STATE_FILE).read_bytes()
    again = _sync(db, t, "id", tmp_path)
    assert (again.rows, again.files, again.watermark) == (0, [], "1")
    assert (tmp_path / STATE_FILE).read_bytes() == state


def test_state_is_json_written_atomically_and_private(sqlite_db: Db, tmp_path: Path) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(1, "a")])
    _sync(sqlite_db, t, "ID", tmp_path)
    entry = json.loads((tmp_path / STATE_FILE).read_text())[t]
    assert entry["last_sync_value"] == "1" and entry["tracking_column"] == "id"
    assert stat.S_IMODE(os.stat(tmp_path / STATE_FILE).st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [STATE_FILE]


def test_reset_exports_everything_again(sqlite_db: Db, tmp_path: Path) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(1, "a"), (2, "b")])
    _sync(sqlite_db, t, "id", tmp_path)
    assert _ids(_sync(sqlite_db, t, "id", tmp_path, reset=True)) == [1, 2]


def test_limit_spreads_a_first_sync_over_several_runs(sqlite_db: Db, tmp_path: Path) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(i, "x") for i in range(1, 6)])
    runs = [_ids(_sync(sqlite_db, t, "id", tmp_path, limit=2)) for _ in range(4)]
    assert runs == [[1, 2], [3, 4], [5], []]


def test_a_failed_write_keeps_the_old_watermark(sqlite_db: Db, tmp_path: Path) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(1, "a")])
    _sync(sqlite_db, t, "id", tmp_path)
    sqlite_db.adapter.write(stream([(2, "b")], t))

    def broken(s: TableStream, path: Path) -> list[Path]:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        sync_table(sqlite_db.adapter, t, "id", tmp_path, broken)
    assert _ids(_sync(sqlite_db, t, "id", tmp_path)) == [2]
