"""``<Query>`` and ``<QueryContext>`` ⇄ Python, in the reference's exact byte form.

Writer rules (spec §1.10–1.11): language/version always written; in a group the filters
first, then nested ``<And>``, then nested ``<Or>``; ``value`` always written, ``value2``
only when non-empty; one sort key as ``OrderBy`` attributes, several as ``<Field>``
children; ``Limit``/``Offset``/``NextOffset`` left out when 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from tdtp_core.errors import QueryError
from tdtp_core.packet.xmlform import INVALID_XML_CHARS, element, text_element
from tdtp_core.tdtql.ast import Filter, Group, GroupKind, OrderItem
from tdtp_core.tdtql.query import ExecutionResults, Query, QueryContext

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_TRUE = frozenset({"1", "t", "T", "true", "TRUE", "True"})
_FALSE = frozenset({"0", "f", "F", "false", "FALSE", "False"})


# ------------------------------------------------------------------------- writing


def _safe(text: str) -> str:
    """Refuse what XML 1.0 cannot carry rather than let it turn into U+FFFD (DECISIONS 2)."""
    bad = INVALID_XML_CHARS.search(text)
    if bad:
        raise QueryError(
            f"query text {text!r} holds character U+{ord(bad.group()):04X}, "
            "which a packet cannot carry"
        )
    return text


def _filter_xml(f: Filter) -> str:
    return element("Filter", [
        ("field", _safe(f.field)),
        ("operator", _safe(f.operator)),
        ("value", _safe(f.value)),
        ("value2", _safe(f.value2) if f.value2 else None),
    ])


def _group_xml(group: Group) -> str:
    body = "".join(map(_filter_xml, group.filters))
    body += "".join(_group_xml(g) for g in group.groups if g.kind == "And")
    body += "".join(_group_xml(g) for g in group.groups if g.kind == "Or")
    return element(group.kind, (), body)


def _order_xml(items: tuple[OrderItem, ...]) -> str:
    if len(items) == 1:
        item = items[0]
        return element("OrderBy", [("field", _safe(item.field)), ("direction", item.direction)])
    return element("OrderBy", (), "".join(
        element("Field", [("name", _safe(i.field)), ("direction", i.direction)]) for i in items
    ))


def query_to_xml(query: Query, tag: str = "Query") -> str:
    body = ""
    if query.fields:
        body += element("Fields", (), "".join(
            text_element("Field", _safe(name)) for name in query.fields
        ))
    if query.filters is not None:
        body += element("Filters", (), _group_xml(query.filters))
    if query.order_by:
        body += _order_xml(query.order_by)
    if query.limit:
        body += text_element("Limit", str(query.limit))
    if query.offset:
        body += text_element("Offset", str(query.offset))
    attrs = [("language", _safe(query.language)), ("version", _safe(query.version))]
    return element(tag, attrs, body)


def context_to_xml(query: Query | None, results: ExecutionResults) -> str:
    body = "" if query is None else query_to_xml(query, "OriginalQuery")
    numbers = (
        text_element("TotalRecordsInTable", str(results.total_records))
        + text_element("RecordsAfterFilters", str(results.matched_records))
        + text_element("RecordsReturned", str(results.returned_records))
        + text_element("MoreDataAvailable", "true" if results.more_available else "false")
    )
    if results.next_offset:
        numbers += text_element("NextOffset", str(results.next_offset))
    return element("QueryContext", (), body + element("ExecutionResults", (), numbers))


# ------------------------------------------------------------------------- reading


def _root(source: etree._Element | str | bytes, tags: tuple[str, ...]) -> etree._Element:
    if isinstance(source, str | bytes):
        data = source.encode("utf-8") if isinstance(source, str) else source
        try:
            source = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise QueryError(f"invalid {tags[0]} XML: {exc}") from None
    if source.tag not in tags:
        raise QueryError(f"expected a <{tags[0]}> element, found <{source.tag}>")
    return source


def _children(el: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Child elements named ``tag`` (comments and processing instructions skipped)."""
    return (child for child in el if child.tag == tag)


def _first(el: etree._Element, tag: str) -> etree._Element | None:
    return next(_children(el, tag), None)


def _int(el: etree._Element) -> int:
    text = (el.text or "").strip()
    if not text:
        return 0
    if not _INTEGER.fullmatch(text):
        raise QueryError(f"<{el.tag}> must be an integer, found {text!r}")
    return int(text)


def _group(el: etree._Element, kind: GroupKind) -> Group:
    filters = tuple(
        Filter(f.get("field", ""), f.get("operator", ""), f.get("value", ""), f.get("value2", ""))
        for f in _children(el, "Filter")
    )
    groups = tuple(_group(g, "And") for g in _children(el, "And"))
    groups += tuple(_group(g, "Or") for g in _children(el, "Or"))
    return Group(kind, filters, groups)


def _filters(el: etree._Element) -> Group | None:
    """The top group: ``<And>`` wins over ``<Or>`` as in the reference (spec §1.10)."""
    for kind in ("And", "Or"):
        top = _first(el, kind)
        if top is not None:
            return _group(top, kind)
    return None


def _order_by(el: etree._Element) -> tuple[OrderItem, ...]:
    def item(name: str | None, direction: str | None) -> OrderItem:
        return OrderItem(name or "", (direction or "").strip().upper() == "DESC")

    keys = tuple(item(f.get("name"), f.get("direction")) for f in _children(el, "Field"))
    if keys:
        return keys
    name = el.get("field")
    return (item(name, el.get("direction")),) if name else ()


def _query(el: etree._Element) -> Query:
    fields_el = _first(el, "Fields")
    filters_el = _first(el, "Filters")
    order_el = _first(el, "OrderBy")
    limit_el = _first(el, "Limit")
    offset_el = _first(el, "Offset")
    return Query(
        filters=None if filters_el is None else _filters(filters_el),
        order_by=() if order_el is None else _order_by(order_el),
        limit=0 if limit_el is None else _int(limit_el),
        offset=0 if offset_el is None else _int(offset_el),
        fields=() if fields_el is None else tuple(
            (f.text or "").strip() for f in _children(fields_el, "Field")
        ),
        language=el.get("language", "TDTQL"),
        version=el.get("version", "1.0"),
    )


def query_from_xml(source: etree._Element | str | bytes) -> Query:
    return _query(_root(source, ("Query", "OriginalQuery")))


def _bool(el: etree._Element) -> bool:
    text = (el.text or "").strip()
    if text in _TRUE:
        return True
    if text in _FALSE or not text:
        return False
    raise QueryError(f"<{el.tag}> must be true or false, found {text!r}")


def context_from_xml(source: etree._Element | str | bytes) -> QueryContext:
    el = _root(source, ("QueryContext",))
    original = _first(el, "OriginalQuery")
    results_el = _first(el, "ExecutionResults")
    results = None
    if results_el is not None:
        def number(tag: str) -> int:
            child = _first(results_el, tag)
            return 0 if child is None else _int(child)

        more = _first(results_el, "MoreDataAvailable")
        results = ExecutionResults(
            total_records=number("TotalRecordsInTable"),
            matched_records=number("RecordsAfterFilters"),
            returned_records=number("RecordsReturned"),
            more_available=more is not None and _bool(more),
            next_offset=number("NextOffset"),
        )
    return QueryContext(None if original is None else _query(original), results)
