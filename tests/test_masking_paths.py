"""Masking is never skipped: every command that moves data applies ``--mask`` (DECISIONS
14). Each test runs one command with a secret e-mail column and proves that no secret
reaches what the command wrote — packet bytes, CSV, a database table or a broker queue.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.cli.main import main
from tdtp_core.testing.brokers import rabbit_queue, rabbitmq_url  # noqa: F401 - fixtures

SECRETS = [f"person{i}@secret.example" for i in range(1, 6)]
SCHEMA = Schema([Field("id", "INTEGER", key=True), Field("email", "TEXT")])
ROWS = [(i, email) for i, email in enumerate(SECRETS, 1)]
MASK = ("--mask", "email:hash:pepper")


def run(*args: str) -> None:
    """Run ``tdtp ARGS`` and insist it succeeded."""
    try:
        main(list(args))
    except SystemExit as exc:
        assert not exc.code, f"tdtp {' '.join(args)} exited {exc.code}"


def assert_no_secret(data: bytes | str) -> None:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, f"unmasked values reached the output: {leaked}"


def files_text(paths: list[Path]) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in paths)


def table_text(db: Path, table: str = "people") -> str:
    with sqlite3.connect(db) as con:
        return repr(con.execute(f'SELECT * FROM "{table}"').fetchall())


@pytest.fixture
def source_db(tmp_path: Path) -> Path:
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT)")
        con.executemany("INSERT INTO people VALUES (?, ?)", ROWS)
    return db


@pytest.fixture
def packet(tmp_path: Path) -> Path:
    path = tmp_path / "people.tdtp.xml"
    write_packets(TableStream.from_rows(SCHEMA, ROWS, table="people"), path)
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def test_export_masks(source_db: Path, out: Path) -> None:
    run("export", f"sqlite:///{source_db}", "people", "-o", str(out / "p.tdtp.xml"), *MASK)
    assert_no_secret(files_text(list(out.iterdir())))


def test_import_masks(packet: Path, tmp_path: Path) -> None:
    target = tmp_path / "dst.db"
    run("import", str(packet), f"sqlite:///{target}", "--create", *MASK)
    assert_no_secret(table_text(target))


def test_copy_masks(source_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "dst.db"
    run("copy", f"sqlite:///{source_db}", "people", f"sqlite:///{target}", "--create", *MASK)
    assert_no_secret(table_text(target))


def test_sync_masks(source_db: Path, out: Path) -> None:
    run("sync", f"sqlite:///{source_db}", "people", "--tracking-column", "id", "-o", str(out),
        *MASK)
    assert_no_secret(files_text([p for p in out.iterdir() if p.suffix == ".xml"]))


def test_convert_to_packet_masks(packet: Path, out: Path) -> None:
    run("convert", str(packet), "-o", str(out / "c.tdtp.xml"), *MASK)
    assert_no_secret(files_text(list(out.iterdir())))


def test_convert_to_csv_masks(packet: Path, out: Path) -> None:
    run("convert", str(packet), "-o", str(out / "c.csv"), *MASK)
    assert_no_secret(files_text(list(out.iterdir())))


def test_filter_masks(packet: Path, out: Path) -> None:
    run("filter", str(packet), "--where", "id > 0", "-o", str(out / "f.tdtp.xml"), *MASK)
    assert_no_secret(files_text(list(out.iterdir())))


def test_answer_masks(packet: Path, tmp_path: Path, out: Path) -> None:
    request = tmp_path / "req.tdtp.xml"
    run("request", "people", "--where", "id > 0", "-o", str(request))
    run("answer", str(request), str(packet), "-o", str(out / "resp.tdtp.xml"), *MASK)
    assert_no_secret(files_text(list(out.iterdir())))


def test_masked_rows_are_still_all_there(packet: Path, out: Path) -> None:
    """The masking tests above would pass on an empty output; this one would not."""
    run("convert", str(packet), "-o", str(out / "c.tdtp.xml"), *MASK)
    rows = read_packets(out / "c.tdtp.xml").rows()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert all(r[1] and r[1] not in SECRETS for r in rows)


@pytest.fixture
def queue(rabbit_queue: str) -> Iterator[str]:  # noqa: F811 - fixture chaining
    yield rabbit_queue


def _drain(queue_url: str, folder: Path) -> str:
    run("receive", queue_url, "-o", str(folder), "--idle-timeout", "2")
    return files_text([p for p in folder.iterdir() if p.is_file()])


def test_export_to_broker_masks(source_db: Path, queue: str, out: Path) -> None:
    run("export", f"sqlite:///{source_db}", "people", "--to", queue, *MASK)
    assert_no_secret(_drain(queue, out))


def test_send_masks(packet: Path, queue: str, out: Path) -> None:
    run("send", str(packet), queue, *MASK)
    assert_no_secret(_drain(queue, out))


def test_listen_masks(packet: Path, queue: str, tmp_path: Path) -> None:
    run("send", str(packet), queue)
    target = tmp_path / "dst.db"
    run("listen", queue, f"sqlite:///{target}", "--create", "--max-messages", "1",
        "--idle-timeout", "5", *MASK)
    assert_no_secret(table_text(target))
