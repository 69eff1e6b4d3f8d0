"""Queries back in their text form (``tdtp show``): the text parses to the same query."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tdtp_core import write_packets
from tdtp_core.tdtql import Filter, Group, parse
from tdtp_core.tdtql.requests import answer_request, build_request
from tdtp_core.tdtql.text import describe_query, order_by_text, where_text
from tests.conftest import Result

from .conftest import people


@pytest.mark.parametrize("where", [
    "a = 1", "a != 'x' AND b < 2 AND c <= 3 AND d > 4 AND e >= 5",
    "a = 1 OR b = 2 AND (c = 3 OR d IS NULL)", "NOT (a = 1 OR b IS NOT NULL)",
    "a IN (1, 'two', '') AND b NOT IN ('x')", "a BETWEEN 1 AND 'z'", "a NOT BETWEEN 1 AND 2",
    "a LIKE 'O''B%' OR a NOT LIKE '_'", "\"odd name\" = 'v' AND \"and\" = 1 AND [x\"y] = 2",
    "Имя = 'Ёж' AND _x = 1", "\"desc\" = 1", "a = 'x, y'",
])
def test_where_text_parses_back_to_the_same_filters(where: str) -> None:
    filters = parse(where=where).filters
    assert filters is not None
    assert parse(where=where_text(filters)).filters == filters


def test_values_are_quoted_and_names_only_when_needed() -> None:
    filters = parse(where="city = Paris AND \"my field\" IN (1, 2)").filters
    assert filters is not None
    assert where_text(filters) == "city = 'Paris' AND \"my field\" IN ('1', '2')"


def test_order_by_text_parses_back() -> None:
    order = parse(order_by="name, \"Birth Date\" desc, ASC").order_by
    assert order_by_text(order) == 'name ASC, "Birth Date" DESC, "ASC" ASC'
    assert parse(order_by=order_by_text(order)).order_by == order


def test_hand_written_operator_is_shown_as_written() -> None:
    assert where_text(Group("And", (Filter("a", "~=", "1"),))) == "a ~= '1'"


def test_empty_groups_say_what_they_keep() -> None:
    assert where_text(Group("Or")) == "(empty OR: no row)"


def test_describe_query_lists_only_what_is_set() -> None:
    assert describe_query(parse(order_by="id", limit=-3)) == {"order_by": "id ASC",
                                                               "limit": -3}


# ---------------------------------------------------------------------- tdtp show


@pytest.fixture
def request_path(tmp_path: Path) -> Path:
    query = parse(where="balance > 0 AND city != 'Rome'", order_by="id DESC", limit=2)
    return build_request("people", query, tmp_path / "req.tdtp.xml")


def test_show_prints_a_requests_query(tdtp: Callable[..., Result], request_path: Path) -> None:
    out = tdtp("show", request_path).out
    assert "  where: balance > '0' AND city != 'Rome'\n" in out
    assert "  order by: id DESC\n  limit: 2\n" in out


def test_show_prints_what_a_response_answered(tdtp: Callable[..., Result], request_path: Path,
                                              tmp_path: Path) -> None:
    source = write_packets(people(), tmp_path / "people.tdtp.xml")[0]
    (response,) = answer_request(request_path, source, tmp_path / "resp.tdtp.xml")
    out = tdtp("show", response, "--rows", "0").out
    assert "  answered where: balance > '0' AND city != 'Rome'\n" in out
    assert "  results: 2 returned of 3 matched (6 in the table), more from offset 2\n" in out


def test_show_json_has_the_query(tdtp: Callable[..., Result], request_path: Path) -> None:
    (shown,) = json.loads(tdtp("show", request_path, "--json").out)
    assert shown["query"] == {"where": "balance > '0' AND city != 'Rome'",
                              "order_by": "id DESC", "limit": 2}
    assert "query_context" not in shown


def test_help_says_answer_reads_packets_too(tdtp: Callable[..., Result]) -> None:
    assert "Answer a request packet from packets or a database." in tdtp("--help").out
