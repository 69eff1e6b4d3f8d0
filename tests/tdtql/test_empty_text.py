"""An empty TEXT cell is the empty string, not NULL, in packets tdtp writes: a filter
answered from the packet keeps the rows the database would (issue #3 audit repro)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from tdtp_core import read_packets
from tests.conftest import Result


@pytest.fixture
def empty_text_db(tmp_path: Path) -> str:
    """SQLite ``t(id, c)`` holding ``(1, '')`` and ``(2, 'x')``: no NULL at all."""
    url = f"sqlite:///{tmp_path / 'e.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, c TEXT)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1, ''), (2, 'x')")
    engine.dispose()
    return url


@pytest.fixture
def exported(tdtp: Callable[..., Result], empty_text_db: str, tmp_path: Path) -> Path:
    out = tmp_path / "t.tdtp.xml"
    result = tdtp("export", empty_text_db, "t", "-o", out)
    assert result.code == 0, result.err
    return out


QUERIES = [("c IS NULL", []), ("c IS NOT NULL", [1, 2]), ("c = ''", [1]),
           ("c < 'a'", [1]), ("c LIKE ''", [1])]


@pytest.mark.parametrize(("where", "expected"), QUERIES)
def test_filter_on_exported_packet(tdtp: Callable[..., Result], exported: Path,
                                   tmp_path: Path, where: str, expected: list[int]) -> None:
    out = tmp_path / "f.tdtp.xml"
    result = tdtp("filter", exported, "-w", where, "-o", out)
    assert result.code == 0, result.err
    assert [r[0] for r in read_packets(out)] == expected


@pytest.mark.parametrize(("where", "expected"), QUERIES)
def test_answer_from_packet_equals_answer_from_database(
        tdtp: Callable[..., Result], exported: Path, empty_text_db: str, tmp_path: Path,
        where: str, expected: list[int]) -> None:
    req = tmp_path / "req.tdtp.xml"
    assert tdtp("request", "t", "-w", where, "--order-by", "id", "-o", req).code == 0
    answers = []
    for source, name in ((exported, "p.tdtp.xml"), (empty_text_db, "d.tdtp.xml")):
        result = tdtp("answer", req, source, "-o", tmp_path / name)
        assert result.code == 0, result.err
        answers.append([r[0] for r in read_packets(tmp_path / name)])
    assert answers == [expected, expected]


def test_reference_legacy_packet_keeps_its_convention(fixtures_dir: Path,
                                                      tdtp: Callable[..., Result],
                                                      tmp_path: Path) -> None:
    """users_nullable (v1.0, no Null marker) still reads ``""`` as NULL (spec §2.4)."""
    out = tmp_path / "f.tdtp.xml"
    result = tdtp("filter", fixtures_dir / "users_nullable.tdtp.xml", "-w", "City = ''",
                  "-o", out)
    assert result.code == 0, result.err
    assert read_packets(out).rows() == []
