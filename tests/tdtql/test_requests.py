"""Request and response packets, through the Python API and the ``tdtp`` commands."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.errors import PacketError, QueryError
from tdtp_core.tdtql import ExecutionResults, parse
from tdtp_core.tdtql.requests import answer_request, build_request, write_response
from tests.conftest import Result

from .conftest import people


@pytest.fixture
def people_packet(tmp_path: Path) -> Path:
    return write_packets(people(), tmp_path / "people.tdtp.xml")[0]


@pytest.fixture
def request_packet(tmp_path: Path) -> Path:
    query = parse(where="balance > 0 AND NOT city = 'Rome'", order_by="balance DESC", limit=2)
    return build_request("people", query, tmp_path / "req.tdtp.xml", sender="Client",
                         recipient="Server")


def test_request_packet_carries_the_query(request_packet: Path) -> None:
    stream = read_packets(request_packet)
    assert stream.header is not None
    assert (stream.header.packet_type, stream.table) == ("request", "people")
    assert (stream.header.sender, stream.header.recipient) == ("Client", "Server")
    assert stream.query == parse(where="balance > 0 AND city != 'Rome'", order_by="balance DESC",
                                 limit=2)
    assert stream.rows() == []


def test_answer_writes_a_response_to_the_request(request_packet: Path, people_packet: Path,
                                                 tmp_path: Path) -> None:
    paths = answer_request(request_packet, people_packet, tmp_path / "resp.tdtp.xml")
    response = read_packets(*paths)
    request = read_packets(request_packet)
    assert response.header is not None and request.header is not None
    assert response.header.packet_type == "response"
    assert response.header.in_reply_to == request.header.message_id
    assert (response.header.sender, response.header.recipient) == ("Server", "Client")
    assert response.query_context is not None
    assert response.query_context.original_query == request.query
    assert response.query_context.results == ExecutionResults(6, 3, 2, True, 2)
    assert [r[0] for r in response] == [1, 2]


def test_answer_over_multi_part_packets(tmp_path: Path) -> None:
    schema = Schema([Field("id", "INTEGER"), Field("note", "TEXT")])
    rows = [(i, f"note {i} " + "x" * 60) for i in range(300)]
    source = write_packets(TableStream.from_rows(schema, rows, table="notes"),
                           tmp_path / "notes.tdtp.xml", part_size=8000)
    ask = build_request("notes", parse(where="id >= 10", order_by="id DESC"),
                        tmp_path / "req.tdtp.xml")
    paths = answer_request(ask, source, tmp_path / "resp.tdtp.xml", part_size=8000)
    assert len(source) > 1 and len(paths) > 1
    response = read_packets(*paths)
    assert response.query_context is not None
    assert response.query_context.results == ExecutionResults(300, 290, 290, False)
    assert [r[0] for r in response] == list(range(299, 9, -1))


def test_answer_needs_a_request(people_packet: Path, tmp_path: Path) -> None:
    with pytest.raises(PacketError, match="expected a request packet, got a 'reference'"):
        answer_request(people_packet, people_packet, tmp_path / "resp.tdtp.xml")


def test_answer_needs_the_table_asked_for(people_packet: Path, tmp_path: Path) -> None:
    other = build_request("orders", parse(limit=1), tmp_path / "req.tdtp.xml")
    with pytest.raises(PacketError, match="asks for table 'orders'"):
        answer_request(other, people_packet, tmp_path / "resp.tdtp.xml")


def test_answer_reports_a_bad_query_before_writing(people_packet: Path, tmp_path: Path) -> None:
    bad = build_request("people", parse(where="nope = 1"), tmp_path / "req.tdtp.xml")
    with pytest.raises(QueryError, match="nope"):
        answer_request(bad, people_packet, tmp_path / "resp.tdtp.xml")
    assert not (tmp_path / "resp.tdtp.xml").exists()


def test_direct_response_replies_to_direct_export(tmp_path: Path) -> None:
    result = parse(where="id > 4").apply(people())
    response = read_packets(*write_response(result, tmp_path / "out.tdtp.xml"))
    assert response.header is not None
    assert response.header.in_reply_to == "DirectExport"
    assert response.query_context is not None
    assert response.query_context.results == ExecutionResults(6, 2, 2, False)


# ----------------------------------------------------------------------- the CLI


def test_cli_filter_writes_a_response(tdtp: Callable[..., Result], people_packet: Path,
                                      tmp_path: Path) -> None:
    out = tmp_path / "f.tdtp.xml"
    result = tdtp("filter", people_packet, "-w", "balance > 0", "--where", "NOT active = 0",
                  "--order-by", "id desc", "-l", "1", "-o", out)
    assert result.code == 0, result.err
    assert "1 of 2 matching row(s) (6 read)" in result.out
    response = read_packets(out)
    assert response.header is not None and response.header.in_reply_to == "DirectExport"
    assert [r[0] for r in response] == [5]


def test_cli_filter_to_csv(tdtp: Callable[..., Result], people_packet: Path,
                           tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    result = tdtp("filter", people_packet, "-w", "city LIKE '%is'", "-o", out, "--json")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert (summary["matched_records"], summary["returned_records"]) == (2, 2)
    with out.open(newline="", encoding="utf-8") as fh:
        assert [row[0] for row in csv.reader(fh)] == ["id", "1", "4"]


@pytest.mark.parametrize(("where", "message"), [
    ("balance >>> 1", "query error: where: syntax error at position 10"),
    ("nope = 1", "query error: field 'nope' not found"),
])
def test_cli_filter_errors(tdtp: Callable[..., Result], people_packet: Path, tmp_path: Path,
                           where: str, message: str) -> None:
    result = tdtp("filter", people_packet, "-w", where, "-o", tmp_path / "x.tdtp.xml")
    assert result.code == 6
    assert message in result.err


def test_cli_request_and_answer(tdtp: Callable[..., Result], people_packet: Path,
                                tmp_path: Path) -> None:
    req, resp = tmp_path / "req.tdtp.xml", tmp_path / "resp.tdtp.xml"
    made = tdtp("request", "people", "-w", "id IN (2, 4, 6)", "--order-by", "id DESC",
                "--sender", "A", "--recipient", "B", "-o", req)
    assert made.code == 0, made.err
    answered = tdtp("answer", req, people_packet, "-o", resp, "--json")
    assert answered.code == 0, answered.err
    summary = json.loads(answered.out)
    assert summary["in_reply_to"] == read_packets(req).header.message_id  # type: ignore[union-attr]
    assert summary["returned_records"] == 3
    assert [r[0] for r in read_packets(resp)] == [6, 4, 2]


@pytest.fixture
def shop_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    users = sa.Table("users", meta, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("name", sa.String(20)))
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(users.insert(), [{"id": 1, "name": "Ann"}, {"id": 2, "name": "al"},
                                      {"id": 3, "name": "Al"}, {"id": 4, "name": "Bo"}])
    engine.dispose()
    return url


def test_answer_from_a_database(shop_db: str, tmp_path: Path) -> None:
    ask = build_request("users", parse(where="name LIKE 'A%'", order_by="id DESC"),
                        tmp_path / "req.tdtp.xml", sender="C", recipient="S")
    response = read_packets(*answer_request(ask, shop_db, tmp_path / "resp.tdtp.xml"))
    assert response.header is not None
    assert (response.header.sender, response.header.recipient) == ("S", "C")
    assert response.query_context is not None
    assert response.query_context.results == ExecutionResults(4, 2, 2, False)
    assert response.rows() == [(3, "Al"), (1, "Ann")]


def test_cli_answer_from_a_database(tdtp: Callable[..., Result], shop_db: str,
                                    tmp_path: Path) -> None:
    req, resp = tmp_path / "req.tdtp.xml", tmp_path / "resp.tdtp.xml"
    assert tdtp("request", "users", "--limit", "-1", "-o", req).code == 0
    answered = tdtp("answer", req, shop_db, "-o", resp)
    assert answered.code == 0, answered.err
    assert "1 of 4 matching row(s)" in answered.out
    assert read_packets(resp).rows() == [(4, "Bo")]
