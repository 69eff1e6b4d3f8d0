"""A query back in its text form, to show what a request asks or a response answered.

The text parses back to the same filters (``parse(where=where_text(g)).filters == g``
for groups the parser itself builds): values are always quoted, field names quoted when
they are not plain words or are keywords.
"""

from __future__ import annotations

from typing import Any

from tdtp_core.errors import QueryError
from tdtp_core.tdtql.ast import Filter, Group, OrderItem, canonical_operator
from tdtp_core.tdtql.literals import list_items
from tdtp_core.tdtql.parser import RESERVED
from tdtp_core.tdtql.query import Query, QueryContext

_SYMBOLS = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_ORDER_WORDS = frozenset({"ASC", "DESC"})


def _name(name: str) -> str:
    plain = bool(name) and (name[0].isalpha() or name[0] == "_") \
        and all(c.isalnum() or c == "_" for c in name)
    if plain and name.upper() not in RESERVED | _ORDER_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def _value(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _condition(f: Filter) -> str:
    field = _name(f.field)
    try:
        op = canonical_operator(f.operator)
    except QueryError:  # a hand-written packet's own operator: shown as it is
        return f"{field} {f.operator} {_value(f.value)}"
    if op in _SYMBOLS:
        return f"{field} {_SYMBOLS[op]} {_value(f.value)}"
    if op in ("is_null", "is_not_null"):
        return f"{field} IS {'NOT ' if op == 'is_not_null' else ''}NULL"
    if op in ("in", "not_in"):
        items = ", ".join(map(_value, list_items(f.value)))
        return f"{field} {'NOT ' if op == 'not_in' else ''}IN ({items})"
    if op == "between":
        return f"{field} BETWEEN {_value(f.value)} AND {_value(f.value2)}"
    return f"{field} {'NOT ' if op == 'not_like' else ''}LIKE {_value(f.value)}"


def where_text(group: Group) -> str:
    """``group`` as a ``--where`` condition; nested groups in parentheses."""
    parts = [_condition(f) for f in group.filters]
    parts += [f"({where_text(g)})" for g in group.groups]
    if not parts:  # the XML form allows them: an empty AND keeps every row, an OR none
        return "(no condition: every row)" if group.kind == "And" else "(empty OR: no row)"
    return f" {group.kind.upper()} ".join(parts)


def order_by_text(items: tuple[OrderItem, ...]) -> str:
    """Sort keys as an ``--order-by`` list."""
    return ", ".join(f"{_name(item.field)} {item.direction}" for item in items)


def describe_query(query: Query) -> dict[str, Any]:
    """The parts a query has, as text: where, order_by, limit, offset, fields."""
    out: dict[str, Any] = {}
    if query.filters is not None:
        out["where"] = where_text(query.filters)
    if query.order_by:
        out["order_by"] = order_by_text(query.order_by)
    if query.limit:
        out["limit"] = query.limit
    if query.offset:
        out["offset"] = query.offset
    if query.fields:
        out["fields"] = list(query.fields)
    return out


def describe_context(context: QueryContext) -> dict[str, Any]:
    """A response's ``QueryContext``: the query it answered and the counts it reports."""
    out: dict[str, Any] = {}
    if context.original_query is not None:
        out["query"] = describe_query(context.original_query)
    r = context.results
    if r is not None:
        out.update(total_records=r.total_records, matched_records=r.matched_records,
                   returned_records=r.returned_records, more_available=r.more_available,
                   next_offset=r.next_offset)
    return out
