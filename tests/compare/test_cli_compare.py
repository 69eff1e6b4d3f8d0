"""``tdtp diff`` and ``tdtp merge``: reports, exit codes, compressed and multi-part
inputs, mixed formats, processors on the output, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.cli.main import main
from tdtp_core.formats.csv import CsvFormat

USERS = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT"),
                Field("email", "TEXT")])
A_ROWS = [(1, "Alice", "alice@x.io"), (2, "Bob", "bob@x.io"), (3, "Carol", "carol@x.io")]
B_ROWS = [(1, "Alice", "alice@x.io"), (2, "Bob", "bob@y.io"), (4, "Dave", "dave@x.io")]


def tdtp(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main([str(a) for a in args])
    code = exited.value.code
    captured = capsys.readouterr()
    return (code if isinstance(code, int) else 0), captured.out, captured.err


def packet(path: Path, rows: list[tuple[Any, ...]], **options: Any) -> Path:
    return write_packets(TableStream.from_rows(USERS, rows, table="users"), path,
                         **options)[0]


@pytest.fixture
def a(tmp_path: Path) -> Path:
    return packet(tmp_path / "a.tdtp.xml", A_ROWS)


@pytest.fixture
def b(tmp_path: Path) -> Path:
    return packet(tmp_path / "b.tdtp.xml", B_ROWS, compress="zstd")


def test_diff_text_report_exits_zero(capsys: pytest.CaptureFixture[str], a: Path, b: Path
                                     ) -> None:
    code, out, _ = tdtp(capsys, "diff", a, b)
    assert code == 0
    assert out.endswith("~ Key: 2\n  [2] email: 'bob@x.io' → 'bob@y.io'\n\n✗ Files differ\n")
    assert "+ 4 | Dave | dave@x.io" in out
    code, out, _ = tdtp(capsys, "diff", a, a)
    assert code == 0 and out.endswith("\n✓ Files are identical\n")


def test_diff_json(capsys: pytest.CaptureFixture[str], a: Path, b: Path) -> None:
    code, out, _ = tdtp(capsys, "diff", a, b, "--json")
    report = json.loads(out)
    assert code == 0 and report["a"] == str(a) and report["equal"] is False
    assert report["stats"]["ModifiedCount"] == 1


def test_diff_multipart_compressed_against_csv(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    rows = [(i, f"n{i}", f"{i}@x.io") for i in range(1, 400)]
    parts = write_packets(TableStream.from_rows(USERS, rows, table="users"),
                          tmp_path / "big.tdtp.xml", compress="zstd", part_size=4000)
    assert len(parts) > 2
    changed = [(i, n, e.replace("x.io", "y.io") if i == 200 else e) for i, n, e in rows]
    CsvFormat().write(TableStream.from_rows(USERS, changed, table="users"),
                      tmp_path / "big.csv", schema_sidecar=True)
    code, out, _ = tdtp(capsys, "diff", parts[1], tmp_path / "big.csv", "--json")
    report = json.loads(out)
    assert code == 0, out
    assert report["stats"]["TotalInA"] == 399 and report["stats"]["UnchangedCount"] == 398
    assert report["modified"] == [{"key": {"id": "200"}, "changes": {
        "email": {"old": "200@x.io", "new": "200@y.io"}}}]


def test_diff_key_and_ignore_options(capsys: pytest.CaptureFixture[str], a: Path, b: Path
                                     ) -> None:
    _, out, _ = tdtp(capsys, "diff", a, b, "--key", "name", "--ignore", "email,id", "--json")
    report = json.loads(out)
    assert report["key_fields"] == ["name"]
    assert report["stats"]["UnchangedCount"] == 2 and "modified" not in report


def test_diff_masks_both_sides(capsys: pytest.CaptureFixture[str], a: Path, b: Path) -> None:
    code, out, _ = tdtp(capsys, "diff", a, b, "--mask", "email:email")
    assert code == 0
    assert "[2] email: 'b***@x.io' → 'b***@y.io'" in out
    assert "alice@x.io" not in out and "dave@x.io" not in out


def test_diff_schema_mismatch_is_one_line(capsys: pytest.CaptureFixture[str], a: Path,
                                          tmp_path: Path) -> None:
    other = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])
    path = write_packets(TableStream.from_rows(other, [], table="users"),
                         tmp_path / "o.tdtp.xml")[0]
    code, _, err = tdtp(capsys, "diff", a, path)
    assert code == 5
    assert err == "tdtp: schema error: the tables' fields differ: email only in A\n"


def test_merge_writes_packet_and_report(capsys: pytest.CaptureFixture[str], a: Path, b: Path,
                                        tmp_path: Path) -> None:
    out_path = tmp_path / "m.tdtp.xml"
    code, out, _ = tdtp(capsys, "merge", a, b, "-o", out_path)
    assert code == 0, out
    assert out.startswith("=== Merge Statistics ===\nPackets merged: 2\nTotal rows in:  6\n")
    assert out.endswith(f"\n✓ Merged file saved to: {out_path}\n")
    merged = read_packets(out_path)
    assert merged.header is not None and merged.header.packet_type == "reference"
    assert merged.table == "users"
    assert merged.rows() == [*A_ROWS, (4, "Dave", "dave@x.io")]


def test_merge_right_wins_json_compressed_output(capsys: pytest.CaptureFixture[str], a: Path,
                                                 b: Path, tmp_path: Path) -> None:
    out_path = tmp_path / "m.tdtp.xml"
    code, out, _ = tdtp(capsys, "merge", a, b, "-o", out_path, "--strategy", "right-wins",
                        "--compress", "zstd", "--json")
    summary = json.loads(out)
    assert code == 0
    assert summary["files"] == [str(a), str(b)]
    assert (summary["rows_out"], summary["conflicts"], summary["resolution"]) == (
        4, 1, "used_new")
    assert read_packets(out_path).rows() == [(3, "Carol", "carol@x.io"), *B_ROWS]


def test_merge_applies_processors_once(capsys: pytest.CaptureFixture[str], a: Path, b: Path,
                                       tmp_path: Path) -> None:
    out_path = tmp_path / "m.csv"
    code, _, _ = tdtp(capsys, "merge", a, b, "-o", out_path, "--normalize", "name:uppercase",
                      "--mask", "email:email", "--quiet")
    assert code == 0
    assert out_path.read_text(encoding="utf-8").splitlines() == [
        "id,name,email", "1,ALICE,a***@x.io", "2,BOB,b***@x.io", "3,CAROL,c***@x.io",
        "4,DAVE,d***@x.io"]


def test_merge_errors(capsys: pytest.CaptureFixture[str], a: Path, b: Path,
                      tmp_path: Path) -> None:
    code, _, err = tdtp(capsys, "merge", a, "-o", tmp_path / "m.tdtp.xml")
    assert code == 2 and "merge needs at least two tables" in err
    code, _, err = tdtp(capsys, "merge", a, b, "-o", tmp_path / "m.tdtp.xml", "-s", "both")
    assert code == 2 and "unknown merge strategy 'both'" in err
    code, _, err = tdtp(capsys, "merge", a, b, "-o", tmp_path / "m.tdtp.xml",
                        "--mask", "email:emial")
    assert code == 2 and "unknown mask kind 'emial'" in err
    assert not (tmp_path / "m.tdtp.xml").exists()
