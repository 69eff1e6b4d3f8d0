"""The listener end to end on both brokers: exactly once, dead letters, timeouts, files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tdtp_core.brokers import headers as H
from tdtp_core.brokers.dlq import open_dlq, replay
from tdtp_core.brokers.listener import listen
from tdtp_core.brokers.receiving import receive
from tdtp_core.brokers.sending import send_packets, send_stream
from tdtp_core.packet import write_packets
from tdtp_core.plugins import get_host
from tdtp_core.stream import TableStream
from tdtp_core.testing.services import TableJanitor

pytestmark = pytest.mark.slow


def _dlq_of(url: str) -> str:
    broker = get_host().broker_for_url(url)
    try:
        return broker.dead_letter_url()  # type: ignore[attr-defined, no-any-return]
    finally:
        broker.close()


def test_100k_rows_in_many_parts_arrive_exactly_once(
        broker_url: str, postgres_url: str, tables: TableJanitor, tmp_path: Path,
        make_stream: Callable[..., TableStream], count_rows: Callable[[str, str], int],
        audit_file: Path) -> None:
    table = tables.name(postgres_url, "bk")
    files = write_packets(make_stream(table, 100_000), tmp_path / "big.tdtp.xml",
                          part_size=64_000)
    assert len(files) > 20
    sent = send_packets([files[0]], broker_url)  # one part's name brings the whole set
    assert sent.messages == len(files) and sent.rows == 100_000

    stats = listen(broker_url, postgres_url, create=True, idle_timeout=3,
                   handle_signals=False)
    assert (stats.sets_imported, stats.rows, stats.messages) == (1, 100_000, len(files))
    assert count_rows(postgres_url, table) == 100_000

    # The same set again (a re-send, a redelivery): a no-op through the ledger.
    send_packets(files, broker_url)
    again = listen(broker_url, postgres_url, idle_timeout=3, handle_signals=False)
    assert (again.sets_imported, again.sets_duplicate) == (0, 1)
    assert count_rows(postgres_url, table) == 100_000

    outcomes = [json.loads(line)["outcome"] for line in audit_file.read_text().splitlines()
                if json.loads(line)["operation"] == "import"]
    assert outcomes == ["success", "duplicate"]


def test_interleaved_sets_are_imported_separately(
        broker_url: str, sqlite_target: str, tmp_path: Path,
        make_stream: Callable[..., TableStream],
        count_rows: Callable[[str, str], int]) -> None:
    a = write_packets(make_stream("a", 3000), tmp_path / "a.tdtp.xml", part_size=20_000)
    b = write_packets(make_stream("b", 3000), tmp_path / "b.tdtp.xml", part_size=20_000)
    assert len(a) > 2 and len(b) > 2
    mixed = [p for pair in zip(a, b, strict=False) for p in pair]
    for path in mixed:
        send_packets([path.read_bytes()], broker_url)
    stats = listen(broker_url, sqlite_target, create=True, idle_timeout=3,
                   handle_signals=False)
    assert stats.sets_imported == 2
    assert count_rows(sqlite_target, "a") == count_rows(sqlite_target, "b") == 3000


def test_damaged_message_and_constraint_violation_go_to_the_broker_dlq_and_replay(
        broker_url: str, sqlite_target: str, tmp_path: Path,
        make_stream: Callable[..., TableStream],
        count_rows: Callable[[str, str], int]) -> None:
    # A set that violates a key on import with strategy "fail".
    good = write_packets(make_stream("t", 10), tmp_path / "first.tdtp.xml")
    send_packets(good, broker_url)
    assert listen(broker_url, sqlite_target, create=True, idle_timeout=3,
                  handle_signals=False).sets_imported == 1
    clash = write_packets(make_stream("t", 10, start=5), tmp_path / "clash.tdtp.xml")
    send_packets(clash, broker_url)
    # A message damaged in transit: its body no longer matches its hash header.
    body = write_packets(make_stream("u", 5), tmp_path / "u.tdtp.xml")[0].read_bytes()
    broker = get_host().broker_for_url(broker_url)
    try:
        broker.publish(body.replace(b"name 3", b"name X"), H.part_headers(body))
    finally:
        broker.close()

    stats = listen(broker_url, sqlite_target, strategy="fail", idle_timeout=3,
                   handle_signals=False)
    assert stats.sets_dead_lettered == 2 and stats.sets_imported == 0
    dlq = _dlq_of(broker_url)
    queue = open_dlq(dlq)
    letters = {d.kind: d for d in queue.entries()}
    queue.close()
    assert set(letters) == {"integrity", "adapter"}
    assert "tdtp-body-xxh3" in letters["integrity"].reason

    # Listing does not consume: the letters are still there.
    queue = open_dlq(dlq)
    assert len(queue.entries()) == 2
    queue.close()

    # After a fix (the clashing rows removed), replay the constraint violation only.
    import sqlalchemy as sa
    engine = sa.create_engine(sqlite_target)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM t WHERE id >= 5"))
    engine.dispose()
    result = replay(dlq, sqlite_target, ids=[letters["adapter"].id], strategy="fail")
    assert result.replayed == [letters["adapter"].id] and not result.failed
    assert count_rows(sqlite_target, "t") == 15
    queue = open_dlq(dlq)
    remaining = queue.entries()
    queue.close()
    assert [d.id for d in remaining] == [letters["integrity"].id]


def test_incomplete_set_is_dead_lettered_whole_after_the_timeout(
        broker_url: str, sqlite_target: str, tmp_path: Path,
        make_stream: Callable[..., TableStream]) -> None:
    parts = write_packets(make_stream("t", 2000), tmp_path / "p.tdtp.xml", part_size=20_000)
    send_packets([p.read_bytes() for p in parts[:-1]], broker_url)  # the last part is lost
    dlq_dir = tmp_path / "dlq"
    spool_dir = tmp_path / "spool"
    stats = listen(broker_url, sqlite_target, create=True, idle_timeout=4, set_timeout=1,
                   dlq=str(dlq_dir), spool_dir=spool_dir, handle_signals=False)
    assert stats.sets_dead_lettered == 1
    (letter,) = open_dlq(str(dlq_dir)).entries()
    assert letter.kind == "incomplete" and len(letter.parts) == len(parts) - 1
    assert f"part(s) {len(parts)} of {len(parts)}" in letter.reason
    # The original bodies (read back from the spool), which is then emptied.
    assert list(letter.parts) == [p.read_bytes() for p in parts[:-1]]
    assert list(spool_dir.iterdir()) == []


def test_receive_writes_each_part_to_a_file(
        broker_url: str, tmp_path: Path, make_stream: Callable[..., TableStream]) -> None:
    from tdtp_core import read_packets

    sent = send_stream(make_stream("orders", 3000), broker_url, part_size=20_000)
    out = tmp_path / "inbox"
    result = receive(broker_url, out, idle_timeout=2)
    assert result.messages == sent.messages == len(result.files)
    assert len(read_packets(*result.files).rows()) == 3000
    # Acknowledged once written: nothing is left.
    assert receive(broker_url, tmp_path / "again", idle_timeout=1).messages == 0
