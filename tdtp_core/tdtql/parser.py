"""TDTQL text → query: the ``--where`` condition and the ``--order-by`` list.

Grammar (SQL precedence: OR < AND < NOT; comparisons are atomic)::

    condition  := or_expr END
    or_expr    := and_expr { OR and_expr }
    and_expr   := not_expr { AND not_expr }
    not_expr   := NOT not_expr | "(" or_expr ")" | predicate
    predicate  := field IS [NOT] NULL
                | field [NOT] IN "(" value { "," value } ")"
                | field [NOT] BETWEEN value AND value
                | field [NOT] LIKE value
                | field ("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") value
    value      := string | number | name | word        -- a bare word is text: status = active
    order_by   := field [ASC | DESC] { "," field [ASC | DESC] } END

Unlike the reference, leftover input is an error, and ``NOT LIKE``/``NOT BETWEEN`` and a
``NOT`` before any predicate or parenthesis are accepted (DECISIONS 9).
"""

from __future__ import annotations

from collections.abc import Sequence

from tdtp_core.errors import QueryError
from tdtp_core.tdtql.ast import (
    BoolOp,
    Expr,
    Filter,
    GroupKind,
    InList,
    Not,
    OrderItem,
    to_filters,
)
from tdtp_core.tdtql.lexer import Kind, Token, syntax_error, tokenize
from tdtp_core.tdtql.query import Query

#: Words that cannot name a field or be a bare value in a condition; quote them ("in").
RESERVED = frozenset({"AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "IS", "NULL"})

_COMPARISONS = {"=": "eq", "!=": "ne", "<>": "ne", "<": "lt", "<=": "lte", ">": "gt",
                ">=": "gte"}


class _Parser:
    def __init__(self, text: str, label: str) -> None:
        self.tokens = tokenize(text)
        self.label = label
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind is not Kind.END:
            self.i += 1
        return tok

    def error(self, expected: str) -> QueryError:
        tok = self.tok
        if tok.kind is Kind.ERROR and tok.unexpected:
            return syntax_error(tok.pos, f"{tok.text}; expected {expected}", self.label)
        if tok.kind is Kind.ERROR:
            return syntax_error(tok.pos, tok.text, self.label)
        return syntax_error(tok.pos, f"expected {expected}, found {tok.describe()}", self.label)

    def accept(self, word: str) -> bool:
        if self.tok.is_keyword(word):
            self.i += 1
            return True
        return False

    def expect_kind(self, kind: Kind, expected: str) -> Token:
        if self.tok.kind is not kind:
            raise self.error(expected)
        return self.advance()

    # ---------------------------------------------------------------- conditions

    def condition(self) -> Expr:
        expr = self.or_expr()
        if self.tok.kind is not Kind.END:
            raise self.error("AND, OR or the end of the condition")
        return expr

    def _chain(self, kind: GroupKind) -> Expr:
        word = kind.upper()
        sub = self.and_expr if kind == "Or" else self.not_expr
        operands = [sub()]
        while self.accept(word):
            operands.append(sub())
        return operands[0] if len(operands) == 1 else BoolOp(kind, tuple(operands))

    def or_expr(self) -> Expr:
        return self._chain("Or")

    def and_expr(self) -> Expr:
        return self._chain("And")

    def not_expr(self) -> Expr:
        if self.accept("NOT"):
            return Not(self.not_expr())
        if self.tok.kind is Kind.LPAREN:
            self.advance()
            expr = self.or_expr()
            self.expect_kind(Kind.RPAREN, "')' or AND/OR")
            return expr
        return self.predicate()

    def field_name(self) -> str:
        tok = self.tok
        if tok.kind is Kind.NAME and tok.text:
            return self.advance().text
        if tok.kind is Kind.WORD and tok.text.upper() not in RESERVED:
            return self.advance().text
        if tok.kind is Kind.WORD:
            raise self.error(f'a field name (quote a field named {tok.text}: "{tok.text}")')
        raise self.error("a field name, NOT or '('")

    def value(self) -> str:
        tok = self.tok
        if tok.kind in (Kind.STRING, Kind.NUMBER, Kind.NAME):
            return self.advance().text
        if tok.kind is Kind.WORD:
            upper = tok.text.upper()
            if upper == "NULL":
                raise syntax_error(
                    tok.pos, "NULL is not a value: use IS NULL or IS NOT NULL", self.label
                )
            if upper not in RESERVED:
                return self.advance().text
        raise self.error("a value (a 'string', a number or a word)")

    def predicate(self) -> Expr:
        field = self.field_name()
        if self.accept("IS"):
            negated = self.accept("NOT")
            if not self.accept("NULL"):
                raise self.error("NULL" if negated else "NULL or NOT NULL")
            return Filter(field, "is_not_null" if negated else "is_null")
        negated = self.accept("NOT")
        if self.accept("IN"):
            return InList(field, self.in_list(), negated)
        if self.accept("BETWEEN"):
            low = self.value()
            if not self.accept("AND"):
                raise self.error("AND between the two BETWEEN bounds")
            between = Filter(field, "between", low, self.value())
            return Not(between) if negated else between
        if self.accept("LIKE"):
            return Filter(field, "not_like" if negated else "like", self.value())
        if negated:
            raise self.error("IN, BETWEEN or LIKE after NOT")
        if self.tok.kind is not Kind.OP:
            raise self.error(
                f"a comparison (= != <> < <= > >=), IN, BETWEEN, LIKE or IS after {field!r}"
            )
        op = _COMPARISONS[self.advance().text]
        return Filter(field, op, self.value())

    def in_list(self) -> tuple[str, ...]:
        self.expect_kind(Kind.LPAREN, "'(' opening the IN list")
        items = [self.value()]
        while self.tok.kind is Kind.COMMA:
            self.advance()
            items.append(self.value())
        self.expect_kind(Kind.RPAREN, "',' or ')' in the IN list")
        return tuple(items)

    # ------------------------------------------------------------------ ordering

    def order_by(self) -> tuple[OrderItem, ...]:
        items: list[OrderItem] = []
        while True:
            tok = self.tok
            if tok.kind not in (Kind.WORD, Kind.NAME) or not tok.text:
                raise self.error("a field name")
            name = self.advance().text
            descending = False
            if self.accept("DESC"):
                descending = True
            else:
                self.accept("ASC")
            items.append(OrderItem(name, descending))
            if self.tok.kind is Kind.END:
                return tuple(items)
            if self.tok.kind is not Kind.COMMA:
                raise self.error("ASC, DESC, ',' or the end of the list")
            self.advance()


def parse_condition(text: str, label: str = "where") -> Expr:
    """Parse one ``--where`` condition; ``label`` names it in errors."""
    return _Parser(text, label).condition()


def parse_order_by(text: str, label: str = "order_by") -> tuple[OrderItem, ...]:
    """Parse an ``--order-by`` list such as ``name ASC, age desc``."""
    return _Parser(text, label).order_by()


def _texts(value: str | Sequence[str] | None) -> list[str]:
    """Non-blank texts of a repeatable option (a blank ``--where ""`` is skipped)."""
    if value is None:
        return []
    texts = [value] if isinstance(value, str) else list(value)
    return [t for t in texts if t.strip()]


def parse(
    where: str | Sequence[str] | None = None,
    order_by: str | Sequence[str] | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> Query:
    """Build a query from the text options; several ``where`` texts are ANDed (spec §8.4).

    ``limit`` < 0 keeps the last ``-limit`` rows; 0 or None means no limit.
    """
    conditions = _texts(where)
    many = len(conditions) > 1
    exprs = [
        parse_condition(text, f"where #{n}" if many else "where")
        for n, text in enumerate(conditions, 1)
    ]
    filters = None
    if exprs:
        filters = to_filters(exprs[0] if len(exprs) == 1 else BoolOp("And", tuple(exprs)))
    keys = tuple(item for text in _texts(order_by) for item in parse_order_by(text))
    if offset is not None and offset < 0:
        raise QueryError(f"offset must not be negative, got {offset}")
    return Query(filters=filters, order_by=keys, limit=limit or 0, offset=offset or 0)
