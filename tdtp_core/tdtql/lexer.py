"""The TDTQL text form's tokens.

Differs from the reference lexer on purpose (DECISIONS 9): a quote inside a string is
doubled SQL-style (``'O''Brien'``) and a backslash is an ordinary character; unterminated
strings and identifiers are errors; unquoted identifiers may be any Unicode word. Keywords
are recognised by the parser, case-insensitively, so ``And`` is ``AND``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tdtp_core.errors import QueryError


class Kind(enum.Enum):
    WORD = "word"  # an unquoted identifier or keyword
    NAME = "name"  # a quoted identifier: "…" or […]
    STRING = "string"
    NUMBER = "number"
    OP = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # the name, the string's content, the number or operator as written
    pos: int  # 1-based character position of the token's first character

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind is Kind.END:
            return "the end of the input"
        if self.kind is Kind.STRING:
            return f"string {_quote(self.text)}"
        if self.kind is Kind.NUMBER:
            return f"number {self.text}"
        if self.kind is Kind.NAME:
            return f"name {_quote(self.text)}"
        return _quote(self.text)

    def is_keyword(self, word: str) -> bool:
        return self.kind is Kind.WORD and self.text.upper() == word


def _quote(text: str) -> str:
    shown = text if len(text) <= 40 else text[:37] + "..."
    return "'" + shown + "'"


def syntax_error(pos: int, message: str, label: str) -> QueryError:
    return QueryError(f"syntax error at position {pos}: {message}", where=label)


_TWO_CHAR_OPS = ("!=", "<>", "<=", ">=")
_CLOSERS = {"'": "'", '"': '"', "[": "]"}


def _is_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _quoted(text: str, start: int, label: str) -> tuple[str, int]:
    """Content of the quoted token opening at ``start`` (doubled closer = one closer)."""
    closer = _CLOSERS[text[start]]
    parts: list[str] = []
    i = start + 1
    while True:
        end = text.find(closer, i)
        if end < 0:
            what = "string" if closer == "'" else "quoted name"
            raise syntax_error(start + 1, f"unterminated {what}: missing {closer}", label)
        parts.append(text[i:end])
        if text.startswith(closer, end + 1):
            parts.append(closer)
            i = end + 2
        else:
            return "".join(parts), end + 1


def tokenize(text: str, label: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one END token."""
    tokens: list[Token] = []
    append = tokens.append
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in "(),":
            kind = {"(": Kind.LPAREN, ")": Kind.RPAREN, ",": Kind.COMMA}[ch]
            append(Token(kind, ch, start + 1))
            i += 1
        elif ch in "=<>!":
            op = text[i : i + 2]
            if op not in _TWO_CHAR_OPS:
                if ch == "!":
                    raise syntax_error(start + 1, "'!' must be followed by '='", label)
                op = ch
            append(Token(Kind.OP, op, start + 1))
            i += len(op)
        elif ch in _CLOSERS:
            value, i = _quoted(text, i, label)
            append(Token(Kind.STRING if ch == "'" else Kind.NAME, value, start + 1))
        elif _is_digit(ch) or (ch == "-" and i + 1 < n and _is_digit(text[i + 1])):
            i += 1
            while i < n and _is_digit(text[i]):
                i += 1
            if i < n and text[i] == ".":
                i += 1
                while i < n and _is_digit(text[i]):
                    i += 1
            append(Token(Kind.NUMBER, text[start:i], start + 1))
        elif ch.isalpha() or ch == "_":
            i += 1
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            append(Token(Kind.WORD, text[start:i], start + 1))
        else:
            raise syntax_error(start + 1, f"unexpected character {ch!r}", label)
    append(Token(Kind.END, "", n + 1))
    return tokens
