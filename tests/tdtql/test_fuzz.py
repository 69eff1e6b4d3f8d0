"""Fuzzing: whatever text comes in, the parser answers with a query or a QueryError."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from tdtp_core.errors import QueryError
from tdtp_core.tdtql import Query, parse

#: Pieces of real syntax, so the fuzzer gets past the first token often.
TOKENS = st.sampled_from([
    "a", "b", "x1", '"q r"', "[s t]", "'v'", "'O''B'", "12", "-3.5", "=", "!=", "<>", "<",
    "<=", ">", ">=", "(", ")", ",", "AND", "or", "Not", "IN", "BETWEEN", "LIKE", "IS",
    "NULL", "ASC", "desc", "!", "'", '"', "[", "]", "%", "_", ".", "\x00", "é",
])
TEXTS = st.text() | st.lists(TOKENS, max_size=12).map(" ".join)


@settings(max_examples=1500, deadline=None)
@given(where=TEXTS)
def test_where_parses_or_raises_query_error(where: str) -> None:
    try:
        query = parse(where=where)
    except QueryError as exc:
        assert "syntax error at position" in str(exc) or "NULL is not a value" in str(exc)
    else:
        assert query.filters is not None or not where.strip()


@settings(max_examples=800, deadline=None)
@given(order_by=TEXTS)
def test_order_by_parses_or_raises_query_error(order_by: str) -> None:
    with contextlib.suppress(QueryError):
        parse(order_by=order_by)


@settings(max_examples=800, deadline=None)
@given(where=TEXTS)
def test_parsed_queries_survive_their_xml(where: str) -> None:
    try:
        query = parse(where=where)
        xml = query.to_xml()
    except QueryError:
        return
    assert Query.from_xml(xml) == query


@settings(max_examples=500, deadline=None)
@given(xml=st.text() | st.builds("<Query>{}</Query>".format, st.text()))
def test_query_xml_reads_or_raises_query_error(xml: str) -> None:
    with contextlib.suppress(QueryError):
        Query.from_xml(xml)
