"""TDTQL syntax trees: the text form's expressions and the XML form's filter groups.

The parser produces :data:`Expr` (with ``NOT`` and IN lists); :func:`lower` turns it into
the :class:`Group`/:class:`Filter` tree that ``<Filters>`` carries and that both executors
(in memory and SQL) run. Lowering pushes ``NOT`` down with De Morgan, because the XML form
has no negation (spec §8.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from tdtp_core.errors import QueryError

GroupKind = Literal["And", "Or"]

#: Operators the XML form defines (spec §8.5).
OPERATORS: Final = frozenset({
    "eq", "ne", "lt", "lte", "gt", "gte", "between", "in", "not_in",
    "like", "not_like", "is_null", "is_not_null",
})

#: Symbolic spellings found in hand-written XML; the reference rejects them, we read them.
_ALIASES: Final = {
    "=": "eq", "==": "eq", "!=": "ne", "<>": "ne",
    "<": "lt", "<=": "lte", ">": "gt", ">=": "gte",
}

#: The operator meaning "not (op)", exact under SQL's three-valued logic: a comparison
#: that is unknown (NULL) stays unknown when negated, and NOT of unknown is unknown.
_NEGATED: Final = {
    "eq": "ne", "ne": "eq", "lt": "gte", "gte": "lt", "gt": "lte", "lte": "gt",
    "in": "not_in", "not_in": "in", "like": "not_like", "not_like": "like",
    "is_null": "is_not_null", "is_not_null": "is_null",
}


def canonical_operator(operator: str) -> str:
    """The XML operator name for ``operator``; an unknown one is a QueryError."""
    name = operator.strip().lower()
    name = _ALIASES.get(name, name)
    if name not in OPERATORS:
        raise QueryError(f"unknown operator {operator!r}")
    return name


@dataclass(frozen=True, slots=True)
class Filter:
    """One ``<Filter>``: a condition on one field, values as the text the XML carries."""

    field: str
    operator: str
    value: str = ""
    value2: str = ""


@dataclass(frozen=True, slots=True)
class Group:
    """An ``<And>`` or ``<Or>``: its filters, then its nested groups (XML writer order)."""

    kind: GroupKind
    filters: tuple[Filter, ...] = ()
    groups: tuple[Group, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One sort key; ``descending`` also for a lowercase ``desc`` in hand-written XML."""

    field: str
    descending: bool = False

    @property
    def direction(self) -> str:
        return "DESC" if self.descending else "ASC"


# --------------------------------------------------------------- text-form expressions


@dataclass(frozen=True, slots=True)
class InList:
    """``field [NOT] IN (…)`` before lowering: items stay separate until we know they
    survive the XML form's comma-joined ``value`` (spec §8.4)."""

    field: str
    items: tuple[str, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class BoolOp:
    kind: GroupKind
    operands: tuple[Expr, ...]


Expr = Filter | InList | Not | BoolOp


def _flip(kind: GroupKind) -> GroupKind:
    return "Or" if kind == "And" else "And"


def _group(kind: GroupKind, parts: Sequence[Filter | Group]) -> Filter | Group:
    """Join parts under ``kind``, merging child groups of the same kind (``a AND (b AND c)``
    is one AND) so every nested group really has the other kind."""
    filters: list[Filter] = []
    groups: list[Group] = []
    for part in parts:
        if isinstance(part, Filter):
            filters.append(part)
        elif part.kind == kind:
            filters.extend(part.filters)
            groups.extend(part.groups)
        else:
            groups.append(part)
    if len(filters) == 1 and not groups:
        return filters[0]
    if not filters and len(groups) == 1:
        return groups[0]
    return Group(kind, tuple(filters), tuple(groups))


def _negate(f: Filter) -> Filter | Group:
    if f.operator == "between":  # NOT (lo <= x <= hi)  ==  x < lo OR x > hi
        return Group("Or", (Filter(f.field, "lt", f.value), Filter(f.field, "gt", f.value2)))
    return Filter(f.field, _NEGATED[f.operator], f.value, f.value2)


def _lower_in(node: InList) -> Filter | Group:
    # The XML value is split on "," and each item trimmed, so an item holding a comma or
    # edge blanks would change meaning there: spell such a list as = / <> conditions,
    # which is the same thing in SQL (x IN (a, b)  ==  x = a OR x = b).
    if all("," not in item and item == item.strip() for item in node.items):
        return Filter(node.field, "not_in" if node.negated else "in", ",".join(node.items))
    if node.negated:
        return _group("And", [Filter(node.field, "ne", item) for item in node.items])
    return _group("Or", [Filter(node.field, "eq", item) for item in node.items])


def lower(expr: Expr, negate: bool = False) -> Filter | Group:
    """The expression as filters and groups with ``NOT`` pushed down (De Morgan)."""
    if isinstance(expr, Not):
        return lower(expr.operand, not negate)
    if isinstance(expr, BoolOp):
        kind = _flip(expr.kind) if negate else expr.kind
        return _group(kind, [lower(e, negate) for e in expr.operands])
    if isinstance(expr, InList):
        return _lower_in(InList(expr.field, expr.items, expr.negated != negate))
    return _negate(expr) if negate else expr


def to_filters(expr: Expr) -> Group:
    """The top ``<Filters>`` group: an ``<Or>`` only when the condition is an OR."""
    lowered = lower(expr)
    return Group("And", (lowered,)) if isinstance(lowered, Filter) else lowered
