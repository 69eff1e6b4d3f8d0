"""Text form → query: the spec's examples, every operator, precedence, errors."""

from __future__ import annotations

import re

import pytest

from tdtp_core.errors import QueryError
from tdtp_core.tdtql import Filter, Group, OrderItem, Query, parse


def filters_xml(where: str | list[str]) -> str:
    """The ``<Filters>…</Filters>`` part of the query XML."""
    xml = parse(where=where).to_xml()
    match = re.search(r"<Filters>.*</Filters>", xml)
    assert match, xml
    return match.group()


def f(field: str, op: str, value: str = "", value2: str = "") -> str:
    v2 = f' value2="{value2}"' if value2 else ""
    return f'<Filter field="{field}" operator="{op}" value="{value}"{v2}></Filter>'


def and_(*body: str) -> str:
    return "<And>" + "".join(body) + "</And>"


def or_(*body: str) -> str:
    return "<Or>" + "".join(body) + "</Or>"


def top(group: str) -> str:
    return f"<Filters>{group}</Filters>"


# --------------------------------------------------------------- spec §8.4 examples


@pytest.mark.parametrize(("where", "expected"), [
    ("status = 'active'", top(and_(f("status", "eq", "active")))),
    ("age > 18", top(and_(f("age", "gt", "18")))),
    ("role != 'admin'", top(and_(f("role", "ne", "admin")))),
    ("score >= 90", top(and_(f("score", "gte", "90")))),
    ("score <= 50", top(and_(f("score", "lte", "50")))),
    ("role IN (1,2,3)", top(and_(f("role", "in", "1,2,3")))),
    ("status IN ('active','pending')", top(and_(f("status", "in", "active,pending")))),
    ("age BETWEEN 18 AND 65", top(and_(f("age", "between", "18", "65")))),
    ("deleted_at IS NULL", top(and_(f("deleted_at", "is_null")))),
    ("email IS NOT NULL", top(and_(f("email", "is_not_null")))),
    ("age > 18 AND status = 1", top(and_(f("age", "gt", "18"), f("status", "eq", "1")))),
    ("status = 1 OR status = 2", top(or_(f("status", "eq", "1"), f("status", "eq", "2")))),
    (
        "IsActive = 1 AND (Balance > 1000 OR VIP = 1) AND City IN ('Moscow','SPb')",
        top(and_(f("IsActive", "eq", "1"), f("City", "in", "Moscow,SPb"),
                 or_(f("Balance", "gt", "1000"), f("VIP", "eq", "1")))),
    ),
])
def test_spec_example(where: str, expected: str) -> None:
    assert filters_xml(where) == expected


def test_several_where_flags_and_together() -> None:
    assert filters_xml(["age > 18", "status = 'active'", "role IN (1,2,3)"]) == top(and_(
        f("age", "gt", "18"), f("status", "eq", "active"), f("role", "in", "1,2,3")
    ))


def test_an_or_flag_nests_under_the_and_of_several_flags() -> None:
    assert filters_xml(["a = 1 OR b = 2", "c = 3"]) == top(and_(
        f("c", "eq", "3"), or_(f("a", "eq", "1"), f("b", "eq", "2"))
    ))


def test_one_or_flag_stays_a_top_level_or() -> None:
    assert filters_xml(["a = 1 OR b = 2", "  "]) == top(or_(f("a", "eq", "1"), f("b", "eq", "2")))


def test_blank_where_means_no_filters() -> None:
    assert parse(where=["", "   "]).filters is None


def test_order_by_several_fields() -> None:
    xml = parse(order_by="name ASC, age DESC").to_xml()
    assert ('<OrderBy><Field name="name" direction="ASC"></Field>'
            '<Field name="age" direction="DESC"></Field></OrderBy>') in xml


def test_order_by_one_field_uses_attributes() -> None:
    assert '<OrderBy field="name" direction="ASC"></OrderBy>' in parse(order_by="name").to_xml()


def test_negative_limit_is_kept() -> None:
    assert "<Limit>-50</Limit>" in parse(limit=-50).to_xml()


def test_zero_limit_and_offset_are_left_out() -> None:
    assert parse(limit=0, offset=0).to_xml() == '<Query language="TDTQL" version="1.0"></Query>'


def test_negative_offset_is_an_error() -> None:
    with pytest.raises(QueryError, match="offset"):
        parse(offset=-1)


# --------------------------------------------------------------------- operators


@pytest.mark.parametrize(("text", "op"), [
    ("=", "eq"), ("!=", "ne"), ("<>", "ne"), ("<", "lt"), ("<=", "lte"), (">", "gt"),
    (">=", "gte"),
])
def test_comparison_operator(text: str, op: str) -> None:
    assert parse(where=f"x {text} 5").filters == Group("And", (Filter("x", op, "5"),))


@pytest.mark.parametrize(("where", "expected"), [
    ("x LIKE 'a%'", Filter("x", "like", "a%")),
    ("x NOT LIKE 'a_'", Filter("x", "not_like", "a_")),
    ("x NOT IN (1, 2)", Filter("x", "not_in", "1,2")),
    ("x IS NULL", Filter("x", "is_null")),
    ("x IS NOT NULL", Filter("x", "is_not_null")),
    ("x BETWEEN '2024-01-01' AND '2024-12-31'",
     Filter("x", "between", "2024-01-01", "2024-12-31")),
])
def test_predicate(where: str, expected: Filter) -> None:
    assert parse(where=where).filters == Group("And", (expected,))


def test_not_between_becomes_below_or_above() -> None:
    assert filters_xml("x NOT BETWEEN 1 AND 5") == top(or_(f("x", "lt", "1"), f("x", "gt", "5")))


def test_numbers_keep_their_text() -> None:
    assert parse(where="x = -3.50").filters == Group("And", (Filter("x", "eq", "-3.50"),))


def test_bare_word_is_a_text_value() -> None:
    assert parse(where="status = active").filters == Group("And", (Filter("status", "eq",
                                                                            "active"),))


def test_doubled_quote_in_string() -> None:
    assert parse(where="name = 'O''Brien'").filters == Group(
        "And", (Filter("name", "eq", "O'Brien"),)
    )


def test_backslash_is_an_ordinary_character() -> None:
    assert parse(where=r"p = 'C:\dir\'").filters == Group("And", (Filter("p", "eq", "C:\\dir\\"),))


@pytest.mark.parametrize(("where", "name"), [
    ('"Birth Date" = 1', "Birth Date"),
    ('"say ""hi""" = 1', 'say "hi"'),
    ("[Total Cost $] = 1", "Total Cost $"),
    ("[a]]b] = 1", "a]b"),
    ('"Имя" = 1', "Имя"),
    ("Имя = 1", "Имя"),
    ('"and" = 1', "and"),
    ("_internal = 1", "_internal"),
])
def test_field_names(where: str, name: str) -> None:
    assert parse(where=where).filters == Group("And", (Filter(name, "eq", "1"),))


def test_in_list_item_with_a_comma_becomes_equalities() -> None:
    # "a,b,c" would split into three items when read back from XML (spec §8.4)
    assert filters_xml("x IN ('a,b', 'c')") == top(or_(f("x", "eq", "a,b"), f("x", "eq", "c")))


def test_not_in_item_with_edge_blanks_becomes_inequalities() -> None:
    assert filters_xml("x NOT IN (' a', 'b')") == top(and_(f("x", "ne", " a"), f("x", "ne", "b")))


# --------------------------------------------------------- precedence and groups


@pytest.mark.parametrize(("where", "expected"), [
    # AND binds tighter than OR
    ("a = 1 OR b = 2 AND c = 3",
     top(or_(f("a", "eq", "1"), and_(f("b", "eq", "2"), f("c", "eq", "3"))))),
    ("a = 1 AND b = 2 OR c = 3",
     top(or_(f("c", "eq", "3"), and_(f("a", "eq", "1"), f("b", "eq", "2"))))),
    ("(a = 1 OR b = 2) AND c = 3",
     top(and_(f("c", "eq", "3"), or_(f("a", "eq", "1"), f("b", "eq", "2"))))),
    ("a = 1 OR (b = 2 AND c = 3)",
     top(or_(f("a", "eq", "1"), and_(f("b", "eq", "2"), f("c", "eq", "3"))))),
    ("a = 1 AND b = 2 AND c = 3",
     top(and_(f("a", "eq", "1"), f("b", "eq", "2"), f("c", "eq", "3")))),
    ("((a = 1))", top(and_(f("a", "eq", "1")))),
])
def test_precedence(where: str, expected: str) -> None:
    assert filters_xml(where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    # the reference writes these with the parent's group type, i.e. the wrong meaning
    ("(a = 1 OR b = 2)", top(or_(f("a", "eq", "1"), f("b", "eq", "2")))),
    ("(a = 1 AND b = 2) AND c = 3",
     top(and_(f("a", "eq", "1"), f("b", "eq", "2"), f("c", "eq", "3")))),
    ("a = 1 AND (b = 2 AND c = 3)",
     top(and_(f("a", "eq", "1"), f("b", "eq", "2"), f("c", "eq", "3")))),
    ("(a = 1 OR b = 2) OR c = 3",
     top(or_(f("a", "eq", "1"), f("b", "eq", "2"), f("c", "eq", "3")))),
    ("a = 1 OR (b = 2 OR c = 3)",
     top(or_(f("a", "eq", "1"), f("b", "eq", "2"), f("c", "eq", "3")))),
])
def test_groups_mean_what_the_parentheses_say(where: str, expected: str) -> None:
    assert filters_xml(where) == expected


def test_writer_puts_filters_then_and_groups_then_or_groups() -> None:
    where = "(a = 1 OR b = 2) AND x = 0 AND ((c = 3 AND d = 4) OR e = 5)"
    assert filters_xml(where) == top(and_(
        f("x", "eq", "0"),
        or_(f("a", "eq", "1"), f("b", "eq", "2")),
        or_(f("e", "eq", "5"), and_(f("c", "eq", "3"), f("d", "eq", "4"))),
    ))


# -------------------------------------------------------------------- NOT lowering


@pytest.mark.parametrize(("where", "expected"), [
    ("NOT a = 1", top(and_(f("a", "ne", "1")))),
    ("NOT a != 1", top(and_(f("a", "eq", "1")))),
    ("NOT a < 1", top(and_(f("a", "gte", "1")))),
    ("NOT a <= 1", top(and_(f("a", "gt", "1")))),
    ("NOT a > 1", top(and_(f("a", "lte", "1")))),
    ("NOT a >= 1", top(and_(f("a", "lt", "1")))),
    ("NOT a IN (1,2)", top(and_(f("a", "not_in", "1,2")))),
    ("NOT a NOT IN (1,2)", top(and_(f("a", "in", "1,2")))),
    ("NOT a LIKE 'x%'", top(and_(f("a", "not_like", "x%")))),
    ("NOT a IS NULL", top(and_(f("a", "is_not_null")))),
    ("NOT a BETWEEN 1 AND 5", top(or_(f("a", "lt", "1"), f("a", "gt", "5")))),
    ("NOT NOT a = 1", top(and_(f("a", "eq", "1")))),
    ("NOT (a = 1 AND b = 2)", top(or_(f("a", "ne", "1"), f("b", "ne", "2")))),
    ("NOT (a = 1 OR b = 2)", top(and_(f("a", "ne", "1"), f("b", "ne", "2")))),
    ("NOT (a = 1 OR b BETWEEN 1 AND 2) AND c = 3",
     top(and_(f("a", "ne", "1"), f("c", "eq", "3"), or_(f("b", "lt", "1"), f("b", "gt", "2"))))),
    ("NOT (a = 1 AND NOT (b = 2 OR c = 3))",
     top(or_(f("a", "ne", "1"), f("b", "eq", "2"), f("c", "eq", "3")))),
])
def test_not_is_pushed_down(where: str, expected: str) -> None:
    assert filters_xml(where) == expected


def test_not_binds_to_one_predicate() -> None:
    assert filters_xml("NOT a = 1 AND b = 2") == top(and_(f("a", "ne", "1"), f("b", "eq", "2")))


# ----------------------------------------------------------------- keyword case


@pytest.mark.parametrize("where", [
    "a = 1 And b = 2", "a = 1 and b = 2", "a = 1 AND b = 2", "a = 1 aNd b = 2",
])
def test_keywords_ignore_case(where: str) -> None:
    assert filters_xml(where) == top(and_(f("a", "eq", "1"), f("b", "eq", "2")))


def test_mixed_case_predicate_keywords() -> None:
    assert parse(where="x Not Between 1 And 2 oR y is not null").filters == parse(
        where="x NOT BETWEEN 1 AND 2 OR y IS NOT NULL"
    ).filters


def test_order_direction_ignores_case() -> None:
    assert parse(order_by="a desc, b Asc, c").order_by == (
        OrderItem("a", True), OrderItem("b", False), OrderItem("c", False)
    )


def test_order_by_quoted_names() -> None:
    assert parse(order_by='"Birth Date" DESC, [x,y]').order_by == (
        OrderItem("Birth Date", True), OrderItem("x,y", False)
    )


def test_empty_query() -> None:
    assert parse() == Query()


# ------------------------------------------------------------------ syntax errors


@pytest.mark.parametrize(("where", "message"), [
    ("a = 1 garbage", "position 7: expected AND, OR or the end of the condition, found 'garbage'"),
    ("a = 1 And", "position 10: expected a field name, NOT or '(', found the end of the input"),
    ("%%% garbage $$$", "position 1: unexpected character '%'; expected a field name, NOT or '('"),
    ("INVALID @@@ CLAUSE", "position 9: unexpected character '@'; expected a comparison"),
    ("a = 'x", "position 5: unterminated string"),
    ('"a = 1', "position 1: unterminated quoted name"),
    ("[a = 1", "position 1: unterminated quoted name"),
    ("a IN ()", "position 7: expected a value"),
    ("a IN (1, 2", "position 11: expected ',' or ')' in the IN list"),
    ("a = NULL", "position 5: NULL is not a value"),
    ("(a = 1", "position 7: expected ')'"),
    ("a = 1)", "position 6: expected AND, OR or the end of the condition, found ')'"),
    ("a NOT = 1", "position 7: expected IN, BETWEEN or LIKE after NOT"),
    ("a == 1", "position 4: expected a value"),
    ("a ! 1", "position 3: '!' must be followed by '='"),
    ("a BETWEEN 1 OR 2", "position 13: expected AND between the two BETWEEN bounds"),
    ("a IS 1", "position 6: expected NULL or NOT NULL"),
    ("and = 1", 'position 1: expected a field name (quote a field named and: "and")'),
    ("a", "position 2: expected a comparison"),
    ("1 = a", "position 1: expected a field name"),
    ("a = .5", "position 5: unexpected character '.'; expected a value (a 'string', a number"),
    ("a = = %", "position 5: expected a value"),  # the first error, not the later '%'
    ("a = = 'x", "position 5: expected a value"),
    ("a = 1 ORDER BY a", "position 7: expected AND, OR or the end of the condition"),
])
def test_syntax_error_names_position_and_expectation(where: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(where=where)
    assert f"syntax error at {message}" in str(info.value)


def test_error_names_which_where_flag() -> None:
    with pytest.raises(QueryError, match=r"^where #2: syntax error at position 3"):
        parse(where=["a = 1", "b ! 2"])


@pytest.mark.parametrize(("order_by", "message"), [
    ("name ASC,", "position 10: expected a field name, found the end of the input"),
    ("name sideways", "position 6: expected ASC, DESC, ',' or the end of the list"),
    ("name; x", "position 5: unexpected character ';'; expected ASC, DESC, ',' or the end"),
    (", name", "position 1: expected a field name"),
])
def test_order_by_syntax_errors(order_by: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(order_by=order_by)
    assert f"order_by: syntax error at {message}" in str(info.value)
