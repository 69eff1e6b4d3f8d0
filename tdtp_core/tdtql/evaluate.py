"""In-memory execution: filters compiled to closures over row tuples, then sort and paging.

Semantics are SQL's (DECISIONS 10). Because the filter tree has no NOT (it is pushed down
when the text is parsed, and the XML form has none), "the condition is TRUE" is a plain
two-valued AND/OR of "this comparison is TRUE": unknown and false both drop the row. So
each comparison is compiled to a predicate that is true only when SQL would say TRUE.

Values are the stream's Python values (markers already decoded by the reader). NULL,
NaN and the "no date" marker make a comparison unknown; so does ``""`` in the TEXT fields
of legacy packets (:func:`legacy_empty_fields`), where it is the only NULL there is.
Field indexes and literals are resolved once; the per-row work is one closure call per
condition, and the conditions of the top AND are chained ``filter`` iterators (C loops),
so a row stops at the first miss.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from tdtp_core.errors import QueryError
from tdtp_core.packet.reader import version_tuple
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, Row, TableStream
from tdtp_core.tdtql.ast import Filter, Group, OrderItem, canonical_operator
from tdtp_core.tdtql.literals import (
    check_like_field,
    field_index,
    is_unknown,
    like_regex,
    list_items,
    parse_literal,
)
from tdtp_core.tdtql.query import ExecutionResults, Query, QueryContext
from tdtp_core.types import DATE_KINDS, FLOAT_KINDS, NODATE, Field, Schema
from tdtp_core.values import column_encoder

Predicate = Callable[[Row], bool]
SortKey = Callable[[Row], Any]


def _never(row: Row) -> bool:
    return False


def _always(row: Row) -> bool:
    return True


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
    "lte": operator.le, "gt": operator.gt, "gte": operator.ge,
}


def _kind_of(field: Field) -> str:
    """Which values besides None make a comparison unknown: NaN, "no date" or none."""
    if field.kind in FLOAT_KINDS:
        return "float"
    if field.kind in DATE_KINDS and not field.is_time:
        return "date"
    return "plain"


def _known(i: int, kind: str, test: Callable[[Any], bool]) -> Predicate:
    """``test(value)`` for rows whose value at ``i`` is not NULL, NaN or "no date"."""
    if kind == "float":  # v == v is false for NaN (float and Decimal alike)
        return lambda r: (v := r[i]) is not None and v == v and test(v)
    if kind == "date":
        return lambda r: (v := r[i]) is not None and v is not NODATE and test(v)
    return lambda r: (v := r[i]) is not None and test(v)


def _compare(i: int, kind: str, op: str, value: Any) -> Predicate:
    if is_unknown(value):
        return _never
    if op == "eq":  # NULL, NaN and "no date" never equal a known value
        return lambda r: r[i] == value
    cmp = _COMPARE[op]
    if kind == "float":
        return lambda r: (v := r[i]) is not None and v == v and cmp(v, value)
    if kind == "date":
        return lambda r: (v := r[i]) is not None and v is not NODATE and cmp(v, value)
    return lambda r: (v := r[i]) is not None and cmp(v, value)


def _like(i: int, field: Field, kind: str, pattern: str, negated: bool) -> Predicate:
    check_like_field(field)
    match = like_regex(pattern).fullmatch
    if field.is_text:
        if negated:
            return lambda r: (v := r[i]) is not None and match(v) is None
        return lambda r: (v := r[i]) is not None and match(v) is not None
    encode = column_encoder(field)  # INTEGER, BOOLEAN, DATE: their TDTP cell text

    def text(v: Any) -> str:
        return encode([v])[0][0]

    if negated:
        return _known(i, kind, lambda v: match(text(v)) is None)
    return _known(i, kind, lambda v: match(text(v)) is not None)


def _in(i: int, field: Field, kind: str, value: str, negated: bool) -> Predicate:
    items = [parse_literal(field, item) for item in list_items(value)]
    known = frozenset(v for v in items if not is_unknown(v))
    if not negated:
        return (lambda r: r[i] in known) if known else _never
    if any(map(is_unknown, items)):  # x NOT IN (…, NULL) is never true
        return _never
    return _known(i, kind, lambda v: v not in known)


def _is_null(i: int, kind: str, negated: bool) -> Predicate:
    test: Predicate
    if kind == "empty":
        test = lambda r: not r[i]  # noqa: E731 - None or ""
    elif kind == "date":
        test = lambda r: (v := r[i]) is None or v is NODATE  # noqa: E731
    elif negated:
        return lambda r: r[i] is not None
    else:
        return lambda r: r[i] is None
    return (lambda r: not test(r)) if negated else test


def _not_empty(i: int, test: Predicate) -> Predicate:
    """``test`` where an empty cell is NULL: such a row makes every comparison unknown."""
    if test is _never:
        return _never
    return lambda r: r[i] != "" and test(r)


def _all(preds: Sequence[Predicate]) -> Predicate:
    if len(preds) == 2:
        a, b = preds
        return lambda r: a(r) and b(r)
    if len(preds) == 3:
        a, b, c = preds
        return lambda r: a(r) and b(r) and c(r)

    def all_of(r: Row) -> bool:
        for p in preds:  # noqa: SIM110 - a loop is faster than all(<generator>) here
            if not p(r):
                return False
        return True

    return all_of


def _any(preds: Sequence[Predicate]) -> Predicate:
    if len(preds) == 2:
        a, b = preds
        return lambda r: a(r) or b(r)
    if len(preds) == 3:
        a, b, c = preds
        return lambda r: a(r) or b(r) or c(r)

    def any_of(r: Row) -> bool:
        for p in preds:  # noqa: SIM110 - a loop is faster than any(<generator>) here
            if p(r):
                return True
        return False

    return any_of


class _Compiler:
    def __init__(self, schema: Schema, empty_is_null: frozenset[int]) -> None:
        self.schema = schema
        self.empty_is_null = empty_is_null

    def condition(self, f: Filter) -> Predicate:
        op = canonical_operator(f.operator)
        i = field_index(self.schema, f.field)
        if op in ("is_null", "is_not_null"):
            return _is_null(i, self.kind(i), op == "is_not_null")
        test = self.comparison(f, op, i)
        return _not_empty(i, test) if i in self.empty_is_null else test

    def kind(self, i: int) -> str:
        return "empty" if i in self.empty_is_null else _kind_of(self.schema[i])

    def comparison(self, f: Filter, op: str, i: int) -> Predicate:
        field = self.schema[i]
        kind = _kind_of(field)
        if op in ("like", "not_like"):
            return _like(i, field, kind, f.value, op == "not_like")
        if op in ("in", "not_in"):
            return _in(i, field, kind, f.value, op == "not_in")
        if op == "between":
            low, high = parse_literal(field, f.value), parse_literal(field, f.value2)
            if is_unknown(low) or is_unknown(high):
                return _never
            return _known(i, kind, lambda v: low <= v <= high)
        return _compare(i, kind, op, parse_literal(field, f.value))

    def parts(self, group: Group) -> list[Predicate]:
        parts = [self.condition(f) for f in group.filters]
        return parts + [self.group(g) for g in group.groups]

    def group(self, group: Group) -> Predicate:
        """One predicate for a group; an empty AND is true, an empty OR false (§8.6)."""
        parts = self.parts(group)
        if group.kind == "And":
            if _never in parts:
                return _never
            parts = [p for p in parts if p is not _always]
            return parts[0] if len(parts) == 1 else _all(parts) if parts else _always
        if _always in parts:
            return _always
        parts = [p for p in parts if p is not _never]
        return parts[0] if len(parts) == 1 else _any(parts) if parts else _never


def compile_filter(filters: Group | None, schema: Schema, *,
                   empty_is_null: frozenset[int] = frozenset()) -> list[Predicate]:
    """The conditions a row must all pass (an empty list keeps every row).

    ``empty_is_null``: indexes of TEXT fields where ``""`` is NULL, for IS NULL and
    every comparison alike (see :func:`legacy_empty_fields`).
    """
    if filters is None:
        return []
    compiler = _Compiler(schema, empty_is_null)
    if filters.kind == "Or":
        top = compiler.group(filters)
        return [] if top is _always else [top]
    parts = compiler.parts(filters)
    if _never in parts:
        return [_never]
    return [p for p in parts if p is not _always]


def legacy_empty_fields(stream: TableStream) -> frozenset[int]:
    """Indexes of the TEXT fields whose empty cells are NULL to the query: the non-key
    ones that declare no Null marker in a packet older than v1.3.1 (which brought
    SpecialValues, spec §5). Such a field has no other way to write NULL (spec §2.4), and
    the reference filter reads ``""`` there as NULL. Everywhere else ``""`` is the empty
    string the reader decodes and a database stores; tdtp's writer declares a Null marker
    on every non-key TEXT field, so packets it writes are never legacy."""
    packet_schema = stream.metadata.get("packet_schema")
    version = stream.metadata.get("version")
    if not isinstance(packet_schema, Schema) or not isinstance(version, str) \
            or version_tuple(version) >= (1, 3, 1):
        return frozenset()
    legacy = {f.name for f in packet_schema if f.is_text and not f.key
              and not (f.special_values and f.special_values.null is not None)}
    return frozenset(i for i, f in enumerate(stream.schema) if f.name in legacy)


# ------------------------------------------------------------------------- sorting


def _null_safe_key(i: int, kind: str) -> SortKey:
    """A key that orders NULL first (ascending; last when reversed), NaN above +inf,
    and never compares None with a value."""
    if kind == "float":
        return lambda r: (0, 0) if (v := r[i]) is None else (1, v) if v == v else (2, 0)
    if kind == "date":
        return lambda r: (0, 0) if (v := r[i]) is None or v is NODATE else (1, v)
    if kind == "empty":
        return lambda r: (1, v) if (v := r[i]) else (0, "")
    return lambda r: ((v := r[i]) is not None, v)


def _sort_key(rows: list[Row], i: int, kind: str) -> SortKey:
    """``itemgetter`` (a C call) when the column has no NULL, NaN or "no date"."""
    column = list(map(operator.itemgetter(i), rows))
    plain = None not in column
    if plain and kind == "float":
        plain = all(v == v for v in column)
    elif plain and kind == "date":
        plain = NODATE not in column
    elif plain and kind == "empty":
        plain = "" not in column
    return operator.itemgetter(i) if plain else _null_safe_key(i, kind)


def compile_sort(order_by: Sequence[OrderItem], schema: Schema, *,
                 empty_is_null: frozenset[int] = frozenset()) -> list[tuple[int, str, bool]]:
    """(field index, value kind, descending) per sort key; ``empty_is_null`` as for
    :func:`compile_filter` (there ``""`` sorts with the NULLs)."""
    keys = []
    for item in order_by:
        i = field_index(schema, item.field)
        kind = "empty" if i in empty_is_null else _kind_of(schema[i])
        keys.append((i, kind, item.descending))
    return keys


def _sorted(rows: list[Row], keys: list[tuple[int, str, bool]]) -> list[Row]:
    """Successive stable sorts, last key first (``reverse=True`` is stable too)."""
    for i, kind, descending in reversed(keys):
        rows.sort(key=_sort_key(rows, i, kind), reverse=descending)
    return rows


# ------------------------------------------------------------------------- running


def _projection(fields: Sequence[str], schema: Schema) -> tuple[Schema, Callable[[Batch], Batch]]:
    if not fields:
        return schema, lambda batch: batch
    idx = [field_index(schema, name) for name in fields]
    out = schema.with_fields([schema[i] for i in idx])
    if len(idx) == 1:
        (j,) = idx
        return out, lambda batch: [(r[j],) for r in batch]
    get = operator.itemgetter(*idx)
    return out, lambda batch: list(map(get, batch))


class _Counts:
    __slots__ = ("matched", "total")

    def __init__(self) -> None:
        self.total = 0
        self.matched = 0


def _filtered(batches: Iterable[Batch], conditions: list[Predicate],
              counts: _Counts) -> Iterator[Batch]:
    for batch in batches:
        counts.total += len(batch)
        rows: Iterable[Row] = batch
        for condition in conditions:
            rows = filter(condition, rows)
        try:
            kept = list(rows) if conditions else batch
        except (TypeError, ArithmeticError) as exc:
            raise QueryError(f"values cannot be compared: {exc}") from None
        counts.matched += len(kept)
        yield kept


def _chunks(rows: list[Row], size: int) -> Iterator[Batch]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _paged(batches: Iterable[Batch], limit: int, offset: int) -> Iterator[Batch]:
    """Offset then limit (or tail) over unsorted batches. Reads everything, also after the
    limit is reached, so the counts are true (DECISIONS 11)."""
    skip = max(offset, 0)
    tail: deque[Row] | None = deque(maxlen=-limit) if limit < 0 else None
    remaining = limit if limit > 0 else -1
    for batch in batches:
        if skip:
            if skip >= len(batch):
                skip -= len(batch)
                continue
            batch, skip = batch[skip:], 0
        if tail is not None:
            tail.extend(batch)
        elif remaining:
            if 0 < remaining < len(batch):
                batch = batch[:remaining]
            if remaining > 0:
                remaining -= len(batch)
            yield batch
    if tail:
        yield from _chunks(list(tail), DEFAULT_BATCH_SIZE)


def _sorted_page(batches: Iterable[Batch], keys: list[tuple[int, str, bool]],
                 limit: int, offset: int) -> Iterator[Batch]:
    rows = [row for batch in batches for row in batch]
    try:
        rows = _sorted(rows, keys)
    except (TypeError, ArithmeticError) as exc:
        raise QueryError(f"values cannot be ordered: {exc}") from None
    rows = rows[max(offset, 0):]
    if limit > 0:
        rows = rows[:limit]
    elif limit < 0:
        rows = rows[limit:]
    yield from _chunks(rows, DEFAULT_BATCH_SIZE)


def execute(query: Query, stream: TableStream) -> TableStream:
    """See :meth:`Query.apply`."""
    schema = stream.schema
    legacy = legacy_empty_fields(stream)
    conditions = compile_filter(query.filters, schema, empty_is_null=legacy)
    keys = compile_sort(query.order_by, schema, empty_is_null=legacy)
    out_schema, project = _projection(query.fields, schema)
    context = QueryContext(original_query=query)
    counts = _Counts()

    def run() -> Iterator[Batch]:
        filtered = _filtered(stream.batches(), conditions, counts)
        if keys:
            pages = _sorted_page(filtered, keys, query.limit, query.offset)
        else:
            pages = _paged(filtered, query.limit, query.offset)
        for batch in pages:
            yield project(batch)
        context.results = ExecutionResults.compute(
            counts.total, counts.matched, limit=query.limit, offset=query.offset
        )

    result = stream.derive(run(), schema=out_schema)
    result.query_context = context
    return result

