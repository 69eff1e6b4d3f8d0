"""``<Query>`` and ``<QueryContext>`` XML: reading what the reference writes, byte-exact."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from tdtp_core.errors import QueryError, TdtpError
from tdtp_core.tdtql import ExecutionResults, Filter, Group, OrderItem, Query, QueryContext, parse


def element_text(fixtures_dir: Path, name: str, tag: str) -> str:
    """``<tag>…</tag>`` exactly as the fixture file spells it, pretty-printing removed
    (what the reference writer emits: Go marshal form)."""
    text = (fixtures_dir / "extracted" / name).read_text(encoding="utf-8")
    match = re.search(f"<{tag}[ >].*</{tag}>", text, re.DOTALL)
    assert match, tag
    return re.sub(r">\s+<", "><", match.group())


def test_spec_request_query_reads(fixtures_dir: Path) -> None:
    query = Query.from_xml(element_text(fixtures_dir, "spec_request.tdtp.xml", "Query"))
    assert query == Query(
        filters=Group("And", (Filter("balance", "gte", "1000"), Filter("is_active", "eq", "1"))),
        order_by=(OrderItem("balance", True),),
        limit=100,
    )


def test_spec_request_query_rewrites_byte_identically(fixtures_dir: Path) -> None:
    xml = element_text(fixtures_dir, "spec_request.tdtp.xml", "Query")
    assert Query.from_xml(xml).to_xml() == xml


def test_spec_response_context_rewrites_byte_identically(fixtures_dir: Path) -> None:
    xml = element_text(fixtures_dir, "spec_response.tdtp.xml", "QueryContext")
    context = QueryContext.from_xml(xml)
    assert context.results == ExecutionResults(1000, 2, 2, False)
    assert context.to_xml() == xml


def test_query_reads_from_an_lxml_element(fixtures_dir: Path) -> None:
    root = etree.parse(str(fixtures_dir / "extracted" / "spec_request.tdtp.xml")).getroot()
    element = root.find("Query")
    assert element is not None
    assert Query.from_xml(element).limit == 100


def test_text_query_matches_the_spec_request() -> None:
    query = parse(where="balance >= 1000 AND is_active = 1", order_by="balance DESC", limit=100)
    assert query.to_xml() == (
        '<Query language="TDTQL" version="1.0"><Filters><And>'
        '<Filter field="balance" operator="gte" value="1000"></Filter>'
        '<Filter field="is_active" operator="eq" value="1"></Filter>'
        '</And></Filters><OrderBy field="balance" direction="DESC"></OrderBy>'
        "<Limit>100</Limit></Query>"
    )


REFERENCE_STYLE = [
    # multi-field order, offset, projection, nested groups both ways, value2
    '<Query language="TDTQL" version="1.0"><Fields><Field>id</Field><Field>Birth Date</Field>'
    '</Fields><Filters><Or><Filter field="a" operator="between" value="1" value2="5"></Filter>'
    '<And><Filter field="b" operator="is_null" value=""></Filter>'
    '<Or><Filter field="c" operator="like" value="x%"></Filter>'
    '<Filter field="c" operator="not_in" value="p,q"></Filter></Or></And>'
    '<And><Filter field="d" operator="ne" value="&lt;&amp;&#34;&#39;&#xA;"></Filter></And>'
    '</Or></Filters><OrderBy><Field name="a" direction="ASC"></Field>'
    '<Field name="b" direction="DESC"></Field></OrderBy><Limit>-5</Limit><Offset>10</Offset>'
    "</Query>",
    '<Query language="" version=""></Query>',
    '<Query language="TDTQL" version="1.0"><Filters><And></And></Filters></Query>',
]


@pytest.mark.parametrize("xml", REFERENCE_STYLE)
def test_reference_style_xml_round_trips(xml: str) -> None:
    assert Query.from_xml(xml).to_xml() == xml


def test_round_trip_of_parsed_text_queries() -> None:
    query = parse(where="NOT (a = 'x' OR b BETWEEN 1 AND 2) OR c IN ('a,b', 'c')",
                  order_by="a, b desc", limit=-3, offset=4)
    assert Query.from_xml(query.to_xml()) == query


def test_lowercase_desc_sorts_descending() -> None:
    query = Query.from_xml('<Query><OrderBy field="x" direction="desc"></OrderBy></Query>')
    assert query.order_by == (OrderItem("x", True),)


def test_and_wins_over_or_at_the_top() -> None:
    query = Query.from_xml(
        '<Query><Filters><Or><Filter field="a" operator="eq" value="1"/></Or>'
        '<And><Filter field="b" operator="eq" value="2"/></And></Filters></Query>'
    )
    assert query.filters == Group("And", (Filter("b", "eq", "2"),))


def test_missing_attributes_default() -> None:
    query = Query.from_xml("<Query><Filters><And><Filter field='a' operator='is_null'/>"
                           "</And></Filters></Query>")
    assert query.filters == Group("And", (Filter("a", "is_null"),))
    assert (query.language, query.version) == ("TDTQL", "1.0")


def test_comments_and_unknown_elements_are_ignored() -> None:
    query = Query.from_xml(
        "<Query><!-- note --><Hint>x</Hint><Limit> 7 </Limit><Fields><!-- c --></Fields></Query>"
    )
    assert query == Query(limit=7)


def test_original_query_element_reads_as_a_query() -> None:
    assert Query.from_xml('<OriginalQuery><Limit>3</Limit></OriginalQuery>') == Query(limit=3)


@pytest.mark.parametrize(("xml", "message"), [
    ("<Query><Limit>ten</Limit></Query>", "<Limit> must be an integer"),
    ("<Query><Offset>1.5</Offset></Query>", "<Offset> must be an integer"),
    ("<Filters/>", "expected a <Query> element"),
    ("<Query>", "invalid Query XML"),
])
def test_bad_query_xml(xml: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        Query.from_xml(xml)


def test_characters_xml_cannot_carry_are_refused() -> None:
    with pytest.raises(QueryError, match=r"U\+0001"):
        parse(where="a = 'x\x01'").to_xml()


def test_context_with_next_offset() -> None:
    context = QueryContext(parse(limit=3), ExecutionResults(8, 8, 3, True, 3))
    assert context.to_xml() == (
        '<QueryContext><OriginalQuery language="TDTQL" version="1.0"><Limit>3</Limit>'
        "</OriginalQuery><ExecutionResults><TotalRecordsInTable>8</TotalRecordsInTable>"
        "<RecordsAfterFilters>8</RecordsAfterFilters><RecordsReturned>3</RecordsReturned>"
        "<MoreDataAvailable>true</MoreDataAvailable><NextOffset>3</NextOffset>"
        "</ExecutionResults></QueryContext>"
    )
    assert QueryContext.from_xml(context.to_xml()) == context


def test_context_without_results_cannot_be_written() -> None:
    with pytest.raises(TdtpError, match="read to the end"):
        QueryContext(parse(limit=3)).to_xml()


def test_context_reads_go_booleans_and_filter_statistics() -> None:
    context = QueryContext.from_xml(
        "<QueryContext><ExecutionResults><TotalRecordsInTable>5</TotalRecordsInTable>"
        "<MoreDataAvailable>1</MoreDataAvailable></ExecutionResults>"
        '<FilterStatistics><Filter field="a" recordsMatched="3"/></FilterStatistics>'
        "</QueryContext>"
    )
    assert context == QueryContext(None, ExecutionResults(5, 0, 0, True))
