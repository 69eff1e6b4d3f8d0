"""The database commands end to end, through ``tdtp_core.cli.main.main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tdtp_core.cli.main import main
from tests.adapters.adapter_helpers import Db, content, create


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``tdtp ARGS``: exit code, stdout, stderr."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_export_then_import_copies_the_filtered_rows(
    sqlite_db: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(i, f"n{i}") for i in range(1, 11)])
    packet = tmp_path / "out.tdtp.xml"
    code, out, _ = run(capsys, "export", sqlite_db.url, t, "-o", str(packet),
                       "--where", "id > 7", "--compress", "zstd", "--integrity")
    assert code == 0 and "Exported 3 row(s)" in out
    target = f"sqlite:///{tmp_path / 'b.db'}"
    code, out, _ = run(capsys, "import", str(packet), target, "--create", "--json")
    assert code == 0 and json.loads(out)[0]["rows"] == 3
    code, out, _ = run(capsys, "import", str(packet), target)
    assert code == 0 and out.startswith("Skipped")


def test_export_query_reads_a_select(sqlite_db: Db, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(1, "a"), (2, "b")])
    packet = tmp_path / "q.tdtp.xml"
    code, out, _ = run(capsys, "export", sqlite_db.url, "report", "-o", str(packet),
                       "--query", f"SELECT name FROM {t} WHERE id = 2", "--json")
    assert code == 0 and json.loads(out)["rows"] == 1
    from tdtp_core import read_packets

    assert read_packets(packet).rows() == [("b",)]


def test_copy_streams_between_databases(sqlite_db: Db, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(1, "a"), (2, "b")])
    target = f"sqlite:///{tmp_path / 'c.db'}"
    code, out, _ = run(capsys, "copy", sqlite_db.url, t, target, "--create")
    assert code == 0 and "Imported 2 row(s)" in out
    from tdtp_core.plugins import get_host

    assert content(get_host().adapter_for_url(target), t) == [(1, "a"), (2, "b")]  # type: ignore[arg-type]


def test_list_and_inspect(sqlite_db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(1, "a")])
    assert run(capsys, "list", sqlite_db.url, "--json")[1].strip() == json.dumps([t])
    code, out, _ = run(capsys, "inspect", sqlite_db.url, t, "--json")
    info = json.loads(out)
    assert code == 0 and info["rows"] == 1
    assert [(c["name"], c["type"], c["key"]) for c in info["columns"]] == [
        ("id", "INTEGER", True), ("name", "TEXT", False)]


def test_sync_twice(sqlite_db: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(1, "a")])
    args = ("sync", sqlite_db.url, t, "--tracking-column", "id", "-o", str(tmp_path / "s"))
    assert "Synced 1 row(s)" in run(capsys, *args)[1]
    assert "No new changes to sync" in run(capsys, *args)[1]


def test_unknown_table_is_one_error_line(sqlite_db: Db,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "inspect", sqlite_db.url, "missing_table")
    assert code == 7
    assert err.strip() == (f"tdtp: adapter error: table 'missing_table' not found in "
                           f"{sqlite_db.url}")


def test_passwords_never_reach_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "list", "mysql://app:hunter2@127.0.0.1:1/x")
    assert code == 7 and "hunter2" not in out + err and "app:***@" in err


def test_named_connection_from_tdtp_yaml(
    sqlite_db: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    t = sqlite_db.new_table()
    create(sqlite_db.adapter, t, [(1, "a")])
    (tmp_path / "tdtp.yaml").write_text("connections:\n  shop: ${SHOP_URL}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOP_URL", sqlite_db.url)
    assert t in run(capsys, "list", "shop")[1].split()


def test_demo_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", str(tmp_path / "demo"))
    assert code == 0
    assert "Imported" in out and "skipped, the ledger knew its MessageID" in out
    assert (tmp_path / "demo" / "copy.db").is_file()
