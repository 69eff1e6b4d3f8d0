"""Part-set assembly, the directory dead-letter queue and the audit log (no broker)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from tdtp_core import audit
from tdtp_core.brokers import headers as H
from tdtp_core.brokers.assembler import BatchAssembler
from tdtp_core.brokers.dlq import DirectoryDeadLetters, new_letter, purge, replay
from tdtp_core.errors import PacketError
from tdtp_core.packet import encode_packets
from tdtp_core.protocols import Message
from tdtp_core.stream import TableStream


def _messages(stream: TableStream, part_size: int = 4000) -> list[Message]:
    return [Message(b, H.part_headers(b), token=i)
            for i, b in enumerate(encode_packets(stream, part_size=part_size))]


class _Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_interleaved_duplicated_sets_complete_separately(
        make_stream: Callable[..., TableStream]) -> None:
    a, b = _messages(make_stream("a", 300)), _messages(make_stream("b", 300))
    assert len(a) > 2 and len(b) > 2
    assembler = BatchAssembler(timeout=None)
    done = []
    for msg in [a[1], b[0], a[1], *reversed(a[2:]), *b[1:], a[0]]:
        complete = assembler.add(msg)
        if complete is not None:
            done.append(complete)
    assert [s.table for s in done] == ["b", "a"]
    assert done[1].bodies == [m.body for m in a]
    assert len(done[1].messages) == len(a) + 1  # the second copy is settled with the set
    assert len(assembler) == 0


def test_headerless_messages_are_placed_from_the_packet(
        make_stream: Callable[..., TableStream]) -> None:
    msgs = [Message(m.body, {}) for m in _messages(make_stream("a", 300))]
    assembler = BatchAssembler()
    results = [assembler.add(m) for m in msgs]
    assert results[-1] is not None and results[-1].message_ids[0].endswith("-P1")


def test_incomplete_sets_expire(make_stream: Callable[..., TableStream]) -> None:
    clock = _Clock()
    assembler = BatchAssembler(timeout=10, clock=clock)
    msgs = _messages(make_stream("a", 300))
    assembler.add(msgs[0])
    clock.now = 5
    assert assembler.expired() == []
    clock.now = 10
    (expired,) = assembler.expired()
    assert expired.missing == list(range(2, len(msgs) + 1)) and len(assembler) == 0


def test_a_message_that_is_not_a_packet_is_refused() -> None:
    with pytest.raises(PacketError):
        BatchAssembler().add(Message(b"hello", {}))


def test_directory_dlq_round_trip_through_replay(
        tmp_path: Path, make_stream: Callable[..., TableStream], sqlite_target: str,
        count_rows: Callable[[str, str], int], audit_file: Path) -> None:
    dlq = DirectoryDeadLetters(tmp_path / "dlq")
    parts = encode_packets(make_stream("t", 500), part_size=8000)
    letter = new_letter(parts, reason="table 't' not found", kind="adapter",
                        source="amqp://mq/%2F?queue=q", table="t", batch_id="REF-1",
                        message_ids=["REF-1-P1"])
    dlq.put(letter)
    broken = new_letter([b"<not a packet"], reason="bad", kind="packet", source="x")
    dlq.put(broken)
    (first, second) = sorted(dlq.entries(), key=lambda d: d.kind)
    assert first.id == letter.id and first.parts == parts and second.parts == [b"<not a packet"]

    # Without the table (no --create) the replay fails and the letter stays.
    result = replay(str(tmp_path / "dlq"), sqlite_target, ids=[letter.id])
    assert result.replayed == [] and letter.id in result.failed
    assert len(dlq.entries()) == 2
    result = replay(str(tmp_path / "dlq"), sqlite_target, ids=[letter.id], create=True)
    assert result.replayed == [letter.id]
    assert count_rows(sqlite_target, "t") == 500
    assert [d.id for d in dlq.entries()] == [broken.id]
    assert purge(str(tmp_path / "dlq")) == [broken.id]
    assert dlq.entries() == []
    ops = [(e["operation"], e["outcome"]) for e in map(json.loads,
                                                        audit_file.read_text().splitlines())]
    assert ops == [("replay", "failure"), ("replay", "success"), ("purge", "success")]


SECRETS = ("secret-ada", "secret-grace", "4111-1111")


def test_audit_entries_never_contain_cell_values(
        tmp_path: Path, make_stream: Callable[..., TableStream]) -> None:
    """Drivers quote the offending value in their errors; the audit log must not."""
    from tdtp_core.sql.urls import parse_url

    db = tmp_path / "audit.db"
    sink = audit.SqlAppender(f"sqlite:///{db}")
    file = tmp_path / "audit.jsonl"
    audit.configure([audit.JsonLinesAppender(file), sink])
    target = f"sqlite:///{tmp_path / 'target.db'}"
    engine = sa.create_engine(parse_url(target, driver="pysqlite"))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL "
                             "CHECK (name NOT LIKE 'secret-%'), amount NUMERIC)"))
    engine.dispose()
    dlq = DirectoryDeadLetters(tmp_path / "dlq")
    schema = make_stream("t", 0).schema
    stream = TableStream.from_rows(schema, [(1, SECRETS[0], 1), (2, SECRETS[1], 2)], table="t")
    dlq.put(new_letter(encode_packets(stream), reason="test", kind="adapter", source="q"))
    result = replay(str(tmp_path / "dlq"), target)
    assert result.failed  # the CHECK constraint refused the rows
    for message in (
        f'invalid input syntax for type integer: "{SECRETS[0]}"',
        f"Key (email)=({SECRETS[1]}) already exists.",
        f"value '{SECRETS[2]}' is too long DETAIL: Failing row contains ({SECRETS[0]}).",
    ):
        with audit.operation("import", table="t") as entry:
            entry.fail(AssertionError(message))
    audit.record("send", source="postgresql://app:hunter2@db/sales", table="t",
                 message_ids=["REF-1-P1"], rows=2)
    rows = sink.query(audit.AuditFilter())
    sink.close()
    text = file.read_text() + json.dumps(rows)
    assert len(rows) == 5
    for value in (*SECRETS, "hunter2"):
        assert value not in text
    assert '"error":"invalid input syntax for type integer: \\"…\\""' in file.read_text()


def test_audit_file_rotates_and_filters(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    sink = audit.JsonLinesAppender(path, max_bytes=2000, backups=2)
    audit.configure([sink])
    for i in range(30):
        audit.record("import" if i % 2 else "send", table=f"t{i % 3}",
                     message_ids=[f"REF-{i}-P1"], rows=i)
    assert path.with_name("a.jsonl.1").exists() and path.with_name("a.jsonl.2").exists()
    assert not path.with_name("a.jsonl.3").exists()
    imports = sink.query(audit.AuditFilter(operation="import", table="t1"))
    assert imports and all(e["operation"] == "import" and e["table"] == "t1" for e in imports)
    newest = sink.query(audit.AuditFilter(limit=3))
    assert [e["rows"] for e in newest] == [27, 28, 29]
    assert [e["rows"] for e in sink.query(audit.AuditFilter(message_id="REF-29-"))] == [29]


def test_audit_failure_never_fails_the_operation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    audit.configure([audit.JsonLinesAppender(blocked / "audit.jsonl")])
    with audit.operation("export", table="t") as entry:
        entry.rows = 3
    assert "audit log write" in capsys.readouterr().err
