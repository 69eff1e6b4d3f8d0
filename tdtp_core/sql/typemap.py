"""The contract between the shared SQL adapter and one database's type mapping.

Each plugin's ``types.py`` subclasses :class:`TypeMap` with the table of protocol §9 for
its database, both ways, and says which driver values need converting. Conversions are
per value but only for the columns that need them; the rest pass through untouched.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.types import TypeEngine

from tdtp_core.sql.celltext import CellBinder, CellEncoder
from tdtp_core.types import Field

#: Driver value (never None) → the stream's Python value for the field.
Reader = Callable[[Any], Any]
#: Stream value of the target field's kind (never None) → what the driver binds.
Binder = Callable[[Any], Any]

_PARAMS = re.compile(r"\(([^()]*)\)")
_TAIL = re.compile(r"\s+(COLLATE|CHARACTER SET|CHARSET)\s+.*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NativeType:
    """A column's type as the database declares it: ``NUMERIC(10, 2)`` → base + params."""

    text: str
    base: str
    params: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> NativeType:
        """Split a declared type; the base is upper-cased with the parentheses removed."""
        clean = _TAIL.sub("", text.strip())
        params: list[int] = []
        for group in _PARAMS.findall(clean):
            for item in group.split(","):
                item = item.strip()
                if item.isdigit():
                    params.append(int(item))
                elif item.upper() == "MAX":
                    params.append(-1)
        base = " ".join(_PARAMS.sub("", clean).upper().split())
        return cls(text, base, tuple(params))

    @property
    def length(self) -> int | None:
        return self.params[0] if len(self.params) == 1 and self.params[0] > 0 else None

    @property
    def precision_scale(self) -> tuple[int | None, int | None]:
        if len(self.params) >= 2:
            return self.params[0], self.params[1]
        if len(self.params) == 1:
            return self.params[0], 0
        return None, None


class TypeMap(ABC):
    """One database's mapping between native column types and TDTP fields."""

    @abstractmethod
    def to_field(self, name: str, native: NativeType, *, key: bool = False) -> Field:
        """The TDTP field for a column of this native type (protocol §9, native → TDTP)."""

    @abstractmethod
    def to_column_type(self, field: Field) -> TypeEngine[Any]:
        """The column type ``CREATE TABLE`` uses for a packet field (TDTP → native)."""

    def column_comment(self, field: Field) -> str | None:
        """A comment for the column ``CREATE TABLE`` makes for ``field``, recording what
        the native type cannot hold (read back by :meth:`annotate`); None: no comment."""
        return None

    def annotate(self, field: Field, comment: str | None) -> Field:
        """The field of a column whose comment is ``comment``: ``field`` (what
        :meth:`to_field` made) with what :meth:`column_comment` recorded applied."""
        return field

    def reader(self, field: Field, native: NativeType) -> Reader | None:
        """How to turn this column's driver values into stream values; None: as they are."""
        return None

    def binder(self, field: Field, native: NativeType) -> Binder | None:
        """How to turn stream values into what the driver binds; None: as they are."""
        return None

    def cell_binder(self, field: Field, native: NativeType) -> CellBinder | None:
        """A shortcut from packet cell text to what the driver binds for this column,
        giving exactly ``binder(decoded value)``; None: decode, then the binder."""
        return None

    def lane_code(self, field: Field, native: NativeType | None) -> str | None:
        """The kind code of this column in the adapter's compiled import lane, if it has
        one (see :mod:`~tdtp_core.sql.rowlanes`): how the C code writes or binds a cell
        so that the database stores what ``binder(decoded value)`` stores; None: the
        typed path."""
        return None

    def cell_encoder(self, field: Field, native: NativeType) -> CellEncoder | None:
        """A shortcut from this column's driver values to packet cell text for the export
        lane (see :mod:`~tdtp_core.sql.celltext`); None: reader, then the encoder."""
        return None
