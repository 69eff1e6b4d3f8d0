"""The four import strategies, the one-transaction rule and the ledger, on every database."""

from __future__ import annotations

import pytest

from tdtp_core.errors import AdapterError, SchemaError
from tdtp_core.sql import LEDGER_TABLE
from tests.adapters.adapter_helpers import Db, content, create, failing_stream, stream

BASE = [(1, "one"), (2, "two")]


def test_replace_updates_existing_keys_and_keeps_other_rows(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, BASE)
    db.adapter.write(stream([(2, "TWO"), (3, "three")], t), strategy="replace")
    assert content(db.adapter, t) == [(1, "one"), (2, "TWO"), (3, "three")]


def test_replace_keeps_the_last_row_of_a_key_repeated_in_the_stream(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, BASE)
    db.adapter.write(stream([(2, "first"), (2, "last")], t, batch_size=10))
    assert content(db.adapter, t) == [(1, "one"), (2, "last")]


def test_ignore_skips_rows_whose_key_exists(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, BASE)
    db.adapter.write(stream([(2, "TWO"), (3, "three")], t), strategy="ignore")
    assert content(db.adapter, t) == [(1, "one"), (2, "two"), (3, "three")]


def test_fail_on_a_conflict_rolls_back_every_row(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, BASE)
    with pytest.raises(AdapterError, match=t):
        db.adapter.write(stream([(3, "three"), (4, "four"), (1, "dup")], t), strategy="fail")
    assert content(db.adapter, t) == BASE


def test_copy_replaces_the_whole_content(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, BASE)
    db.adapter.write(stream([(7, "seven")], t), strategy="copy")
    assert content(db.adapter, t) == [(7, "seven")]


def test_copy_that_fails_midway_leaves_the_old_content(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, BASE)
    with pytest.raises(RuntimeError):
        db.adapter.write(failing_stream([(7, "seven")], t), strategy="copy")
    assert content(db.adapter, t) == BASE


@pytest.mark.parametrize("strategy", ["replace", "ignore", "fail", "copy"])
def test_a_set_failing_in_its_second_part_writes_nothing(db: Db, strategy: str) -> None:
    t = db.new_table()
    create(db.adapter, t, BASE)
    with pytest.raises(RuntimeError):
        db.adapter.write(failing_stream([(5, "five"), (6, "six")], t), strategy=strategy)
    assert content(db.adapter, t) == BASE


def test_a_bad_value_in_a_later_batch_writes_nothing_and_names_row_and_field(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t)
    rows = [(1, "a"), (2, "b"), (None, "c")]
    with pytest.raises(SchemaError, match=r"row 3: field 'id': NULL in a NOT NULL column"):
        db.adapter.write(stream(rows, t, batch_size=2))
    assert content(db.adapter, t) == []


def test_create_builds_the_table_from_the_stream_schema(db: Db) -> None:
    t = db.new_table()
    result = db.adapter.write(stream(BASE, t), create=True)
    assert result.created
    info = db.adapter.inspect(t)
    assert [f.name for f in info.schema] == ["id", "name"]
    assert info.schema[0].key and info.row_count == 2


def test_a_missing_table_without_create_is_one_clear_error(db: Db) -> None:
    t = db.new_table()
    with pytest.raises(AdapterError, match=f"table '{t}' not found in"):
        db.adapter.write(stream(BASE, t))


def test_ledger_makes_a_second_import_of_a_set_a_no_op(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t)
    ids = [f"REF-2026-{t}-P1", f"REF-2026-{t}-P2"]
    first = db.adapter.write(stream(BASE, t, message_ids=ids))
    db.adapter.write(stream([(1, "changed")], t))  # someone edits the table
    again = db.adapter.write(stream(BASE, t, message_ids=ids))
    assert (first.rows, first.skipped_duplicate) == (2, False)
    assert (again.rows, again.skipped_duplicate) == (0, True)
    assert content(db.adapter, t) == [(1, "changed"), (2, "two")]


def test_force_reimports_a_set_the_ledger_knows(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t)
    ids = [f"REF-2026-{t}-P1"]
    db.adapter.write(stream(BASE, t, message_ids=ids))
    db.adapter.write(stream([(1, "changed")], t))
    result = db.adapter.write(stream(BASE, t, message_ids=ids), force=True)
    assert not result.skipped_duplicate
    assert content(db.adapter, t) == BASE


def test_a_failed_import_leaves_no_ledger_row(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t, BASE)
    ids = [f"REF-2026-{t}-P1"]
    with pytest.raises(AdapterError):
        db.adapter.write(stream([(1, "dup")], t, message_ids=ids), strategy="fail")
    result = db.adapter.write(stream([(3, "three")], t, message_ids=ids))
    assert not result.skipped_duplicate and result.rows == 1


def test_the_ledger_table_is_not_listed_as_user_data(db: Db) -> None:
    t = db.new_table()
    create(db.adapter, t)
    db.adapter.write(stream(BASE, t, message_ids=[f"X-{t}"]))
    names = db.adapter.list_tables()
    assert t in names and LEDGER_TABLE not in names


def test_unknown_strategy_is_refused(db: Db) -> None:
    with pytest.raises(AdapterError, match="unknown import strategy 'merge'"):
        db.adapter.write(stream(BASE, "x"), strategy="merge")


def test_only_data_packets_can_be_imported(sqlite_db: Db) -> None:
    from datetime import UTC, datetime

    from tdtp_core.packet.model import Header

    s = stream(BASE, "x")
    s.header = Header("request", "x", "REQ-2026-1", datetime.now(UTC))
    with pytest.raises(AdapterError, match="got: request"):
        sqlite_db.adapter.write(s)
