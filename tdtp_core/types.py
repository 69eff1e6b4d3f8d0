"""TDTP types, fields and schemas.

A :class:`Field` keeps the type string exactly as a packet spelled it (``FLOAT``,
``VARCHAR``) so a packet re-written by us hashes like the original; ``Field.kind`` is the
canonical type every conversion dispatches on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from tdtp_core.errors import SchemaError

INTEGER: Final = "INTEGER"
REAL: Final = "REAL"
DECIMAL: Final = "DECIMAL"
TEXT: Final = "TEXT"
BOOLEAN: Final = "BOOLEAN"
DATE: Final = "DATE"
DATETIME: Final = "DATETIME"
TIMESTAMP: Final = "TIMESTAMP"
BLOB: Final = "BLOB"

CANONICAL_TYPES: Final = (INTEGER, REAL, DECIMAL, TEXT, BOOLEAN, DATE, DATETIME, TIMESTAMP, BLOB)

_SYNONYMS: Final = {
    "INT": INTEGER,
    "FLOAT": REAL,
    "DOUBLE": REAL,
    "VARCHAR": TEXT,
    "CHAR": TEXT,
    "STRING": TEXT,
    "BOOL": BOOLEAN,
}

#: Types whose empty cell is an empty string rather than NULL (spec §2.4).
TEXT_KINDS: Final = frozenset({TEXT})
#: Kinds whose values order by instant.
DATE_KINDS: Final = frozenset({DATE, DATETIME, TIMESTAMP})
FLOAT_KINDS: Final = frozenset({REAL, DECIMAL})

#: Canonical SpecialValues markers written by the reference (spec §5.4).
NULL_MARKER: Final = "[NULL]"
NAN_MARKER: Final = "NaN"
INF_MARKER: Final = "INF"
NEG_INF_MARKER: Final = "-INF"
NO_DATE_MARKER: Final = "0000-00-00"


class _NoDate:
    """The protocol's "no date" marker value (MySQL ``0000-00-00``, MSSQL sentinels)."""

    _instance: _NoDate | None = None

    def __new__(cls) -> _NoDate:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NODATE"

    def __reduce__(self) -> str:
        return "NODATE"


NODATE: Final = _NoDate()


def canonical_type(type_name: str) -> str:
    """Map a packet's type spelling to its canonical TDTP type.

    The reference is case-sensitive; we read lower-case spellings too (a legacy fixture
    declares ``string``). Unknown types are carried as TEXT so their cells survive.
    """
    upper = type_name.strip().upper()
    if upper in CANONICAL_TYPES:
        return upper
    return _SYNONYMS.get(upper, TEXT)


def is_known_type(type_name: str) -> bool:
    upper = type_name.strip().upper()
    return upper in CANONICAL_TYPES or upper in _SYNONYMS


@dataclass(frozen=True, slots=True)
class SpecialValues:
    """Markers standing for NULL, ±infinity, NaN and "no date" in one field's cells."""

    null: str | None = None
    infinity: str | None = None
    neg_infinity: str | None = None
    nan: str | None = None
    no_date: str | None = None

    def markers(self) -> Iterator[tuple[str, str]]:
        """(kind, marker) pairs in the protocol's decoding order (spec §5.5)."""
        for kind in ("null", "no_date", "infinity", "neg_infinity", "nan"):
            marker = getattr(self, kind)
            if marker is not None:
                yield kind, marker

    def __bool__(self) -> bool:
        return any(m is not None for _, m in self.markers())


@dataclass(frozen=True, slots=True)
class Field:
    """One column: its name, TDTP type and the attributes the protocol carries."""

    name: str
    type: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    key: bool = False
    timezone: str | None = None
    subtype: str | None = None
    fixed: bool = False
    special_values: SpecialValues | None = None
    readonly: bool = False
    kind: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", canonical_type(self.type))

    @property
    def is_text(self) -> bool:
        return self.kind in TEXT_KINDS

    @property
    def is_time(self) -> bool:
        """A time of day: PostgreSQL ``time`` (TIMESTAMP) or MSSQL ``TIME`` (TEXT)."""
        return self.subtype == "time"

    def replace(self, **changes: object) -> Field:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class DictionaryEntry:
    short: str
    full: str


@dataclass(frozen=True, slots=True)
class Schema:
    """An ordered list of fields, plus the v1.4 dictionary when a packet has one.

    ``text`` is character data found directly inside ``<Schema>`` on read; the reference
    hashes it, so verification must too (DECISIONS 4). We never write it.
    """

    fields: tuple[Field, ...]
    dictionary: tuple[DictionaryEntry, ...] | None = None
    text: str = ""

    def __init__(
        self,
        fields: Iterable[Field] = (),
        dictionary: Iterable[DictionaryEntry] | None = None,
        text: str = "",
    ) -> None:
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(
            self, "dictionary", None if dictionary is None else tuple(dictionary)
        )
        object.__setattr__(self, "text", text)

    def __len__(self) -> int:
        return len(self.fields)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __getitem__(self, index: int) -> Field:
        return self.fields[index]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def key_fields(self) -> list[Field]:
        return [f for f in self.fields if f.key]

    def index(self, name: str) -> int:
        """Position of a field by exact name, else by case-insensitive name."""
        for i, f in enumerate(self.fields):
            if f.name == name:
                return i
        folded = name.casefold()
        for i, f in enumerate(self.fields):
            if f.name.casefold() == folded:
                return i
        raise SchemaError(f"no field {name!r} in schema ({', '.join(self.names)})")

    def field(self, name: str) -> Field:
        return self.fields[self.index(name)]

    def with_fields(self, fields: Sequence[Field]) -> Schema:
        return Schema(fields, self.dictionary)

    def compatible_with(self, other: Schema) -> bool:
        """The reference's part-set rule: same count, names and types by position."""
        if len(self.fields) != len(other.fields):
            return False
        pairs = zip(self.fields, other.fields, strict=True)
        return all(a.name == b.name and a.type == b.type for a, b in pairs)

    def validate(self) -> None:
        """Schema rules of spec §10.2: fields present, named, unique, typed, sane decimals."""
        if not self.fields:
            raise SchemaError("schema has no fields")
        seen: set[str] = set()
        for f in self.fields:
            if not f.name:
                raise SchemaError("a field has an empty name")
            if f.name in seen:
                raise SchemaError(f"field {f.name!r} appears twice")
            seen.add(f.name)
            if not is_known_type(f.type):
                raise SchemaError(f"field {f.name!r} has unknown type {f.type!r}")
            if f.kind == DECIMAL:
                p = f.precision or 18
                s = f.scale or 0
                if not 1 <= p <= 38 or not 0 <= s <= p:
                    raise SchemaError(
                        f"field {f.name!r}: DECIMAL({p},{s}) needs 1 <= precision <= 38 "
                        "and 0 <= scale <= precision"
                    )
