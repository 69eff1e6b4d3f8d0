"""The TDTQL text form's tokens.

Differs from the reference lexer on purpose (DECISIONS 9): a quote inside a string is
doubled SQL-style (``'O''Brien'``) and a backslash is an ordinary character; unterminated
strings and identifiers are errors; unquoted identifiers may be any Unicode word. Keywords
are recognised by the parser, case-insensitively, so ``And`` is ``AND``.

Bad input ends the token list with an ERROR token rather than raising: the parser reports
it when it gets there, so an earlier syntax error comes first and an unexpected character
is reported with what the parser expected in its place.
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
    ERROR = "error"  # text: what is wrong; unexpected: the one character that is


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # the name, the string's content, the number or operator as written
    pos: int  # 1-based character position of the token's first character
    unexpected: str = ""  # ERROR for a character no token starts with: that character

    def describe(self) -> str:
        """How an error message names this token."""
        if self.kind is Kind.END:
            return "the end of the input"
        if self.kind is Kind.ERROR:
            return self.text
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


class _Unterminated(Exception):
    """A quoted token runs to the end of the input."""


def _quoted(text: str, start: int) -> tuple[str, int]:
    """Content of the quoted token opening at ``start`` (doubled closer = one closer)."""
    closer = _CLOSERS[text[start]]
    parts: list[str] = []
    i = start + 1
    while True:
        end = text.find(closer, i)
        if end < 0:
            raise _Unterminated
        parts.append(text[i:end])
        if text.startswith(closer, end + 1):
            parts.append(closer)
            i = end + 2
        else:
            return "".join(parts), end + 1


def _error(tokens: list[Token], pos: int, message: str, n: int,
           unexpected: str = "") -> list[Token]:
    tokens.append(Token(Kind.ERROR, message, pos, unexpected))
    tokens.append(Token(Kind.END, "", n + 1))
    return tokens


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one END token (after an ERROR token where
    the input stops making tokens)."""
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
                    return _error(tokens, start + 1, "'!' must be followed by '='", n)
                op = ch
            append(Token(Kind.OP, op, start + 1))
            i += len(op)
        elif ch in _CLOSERS:
            try:
                value, i = _quoted(text, i)
            except _Unterminated:
                what = "string" if ch == "'" else "quoted name"
                return _error(tokens, start + 1,
                              f"unterminated {what}: missing {_CLOSERS[ch]}", n)
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
            return _error(tokens, start + 1, f"unexpected character {ch!r}", n, ch)
    append(Token(Kind.END, "", n + 1))
    return tokens
