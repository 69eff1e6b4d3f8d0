"""Masking is never skipped: every command that moves data applies ``--mask`` (DECISIONS
14). Each test runs one command with a secret e-mail column and proves both that no
secret reaches what the command wrote (packet bytes, CSV, a workbook, a database table or
a broker queue) and that every row arrived masked, so an empty output cannot pass.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.cli.main import main
from tdtp_core.testing.brokers import rabbit_queue, rabbitmq_url  # noqa: F401 - fixtures

SECRETS = [f"person{i}@secret.example" for i in range(1, 6)]
SCHEMA = Schema([Field("id", "INTEGER", key=True), Field("email", "TEXT")])
ROWS = [(i, email) for i, email in enumerate(SECRETS, 1)]
MASK = ("--mask", "email:hash:pepper")
#: ROWS as ``email:hash:pepper`` masks them: HMAC-SHA256 keyed "pepper", 16 hex digits.
MASKED = [(1, "efa74ec8d8bfdf1f"), (2, "5c0ce410763e6af7"), (3, "d9f8530c001c24ba"),
          (4, "0834b006ad0548dd"), (5, "7958701c429c40a4")]


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


def table_rows(db: Path, table: str = "people") -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute(f'SELECT id, email FROM "{table}" ORDER BY id').fetchall()


def packet_rows(paths: list[Path]) -> list[tuple[Any, ...]]:
    """The rows of every packet file given, in id order."""
    return sorted(row for path in paths for row in read_packets(path))


def assert_masked_table(db: Path) -> None:
    rows = table_rows(db)
    assert_no_secret(repr(rows))
    assert rows == MASKED


def assert_masked_packets(paths: list[Path]) -> None:
    assert_no_secret(files_text(paths))
    assert packet_rows(paths) == MASKED


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
    assert_masked_packets(list(out.iterdir()))


def test_import_masks(packet: Path, tmp_path: Path) -> None:
    target = tmp_path / "dst.db"
    run("import", str(packet), f"sqlite:///{target}", "--create", *MASK)
    assert_masked_table(target)


def test_copy_masks(source_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "dst.db"
    run("copy", f"sqlite:///{source_db}", "people", f"sqlite:///{target}", "--create", *MASK)
    assert_masked_table(target)


def test_sync_masks(source_db: Path, out: Path) -> None:
    run("sync", f"sqlite:///{source_db}", "people", "--tracking-column", "id", "-o", str(out),
        *MASK)
    assert_masked_packets([p for p in out.iterdir() if p.suffix == ".xml"])


def test_convert_to_packet_masks(packet: Path, out: Path) -> None:
    run("convert", str(packet), "-o", str(out / "c.tdtp.xml"), *MASK)
    assert_masked_packets(list(out.iterdir()))


def test_convert_to_csv_masks(packet: Path, out: Path) -> None:
    run("convert", str(packet), "-o", str(out / "c.csv"), *MASK)
    assert_no_secret(files_text(list(out.iterdir())))
    with open(out / "c.csv", newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [["id", "email"]] + [[str(i), v] for i, v in MASKED]


def test_filter_masks(packet: Path, out: Path) -> None:
    run("filter", str(packet), "--where", "id > 0", "-o", str(out / "f.tdtp.xml"), *MASK)
    assert_masked_packets(list(out.iterdir()))


def test_answer_masks(packet: Path, tmp_path: Path, out: Path) -> None:
    request = tmp_path / "req.tdtp.xml"
    run("request", "people", "--where", "id > 0", "-o", str(request))
    run("answer", str(request), str(packet), "-o", str(out / "resp.tdtp.xml"), *MASK)
    assert_masked_packets(list(out.iterdir()))


@pytest.fixture
def queue(rabbit_queue: str) -> Iterator[str]:  # noqa: F811 - fixture chaining
    yield rabbit_queue


def _drain(queue_url: str, folder: Path) -> list[Path]:
    """Receive every packet waiting on the queue into ``folder``; their paths."""
    run("receive", queue_url, "-o", str(folder), "--idle-timeout", "2")
    return [p for p in folder.iterdir() if p.is_file()]


def test_export_to_broker_masks(source_db: Path, queue: str, out: Path) -> None:
    run("export", f"sqlite:///{source_db}", "people", "--to", queue, *MASK)
    assert_masked_packets(_drain(queue, out))


def test_send_masks(packet: Path, queue: str, out: Path) -> None:
    run("send", str(packet), queue, *MASK)
    assert_masked_packets(_drain(queue, out))


def test_listen_masks(packet: Path, queue: str, tmp_path: Path) -> None:
    run("send", str(packet), queue)
    target = tmp_path / "dst.db"
    run("listen", queue, f"sqlite:///{target}", "--create", "--max-messages", "1",
        "--idle-timeout", "5", *MASK)
    assert_masked_table(target)


# ------------------------------------------------------------------ workbooks and CSV


def test_convert_to_xlsx_masks(packet: Path, out: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    run("convert", str(packet), "-o", str(out / "c.xlsx"), *MASK)
    book = openpyxl.load_workbook(out / "c.xlsx", read_only=True)
    every_cell = [row for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    assert_no_secret(repr(every_cell))  # the hidden schema sheet included
    assert list(book["people"].iter_rows(min_row=2, values_only=True)) == MASKED


def test_import_xlsx_masks(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "people"
    sheet.append(["id", "email"])
    for row in ROWS:
        sheet.append(list(row))
    book.save(tmp_path / "book.xlsx")
    target = tmp_path / "dst.db"
    run("import", str(tmp_path / "book.xlsx"), f"sqlite:///{target}", "--create", *MASK)
    assert_masked_table(target)


def test_import_csv_masks(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("id,email\n" + "".join(f"{i},{e}\n" for i, e in ROWS), encoding="utf-8")
    target = tmp_path / "dst.db"
    with sqlite3.connect(target) as con:  # CSV without a sidecar reads every field as TEXT
        con.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT)")
    run("import", str(source), f"sqlite:///{target}", *MASK)
    assert_masked_table(target)
