"""Table streams ↔ pandas DataFrames, keeping types and NULLs apart (``tdtp-core[pandas]``).

======================  ========================================  ======================
TDTP                    DataFrame column                          back (no saved schema)
======================  ========================================  ======================
INTEGER                 ``Int64`` (nullable)                      INTEGER
REAL                    ``Float64``: NULL is <NA>, NaN stays NaN  REAL
DECIMAL                 ``object`` of ``Decimal`` (exact), or     DECIMAL (scale from
                        ``Float64`` with ``decimal="float"``      the values) / REAL
TEXT                    ``string`` (<NA> for NULL)                TEXT
BOOLEAN                 ``boolean`` (nullable)                    BOOLEAN
DATE                    ``datetime64[s]``                         TIMESTAMP
TIMESTAMP               ``datetime64[us]``; ``datetime64[us,      TIMESTAMP (with UTC)
                        UTC]`` when the field has a time zone
time of day             ``object`` of ``datetime.time``           TIMESTAMP(time)
BLOB                    ``object`` of ``bytes``                   BLOB
======================  ========================================  ======================

``to_dataframe`` stores the schema in ``df.attrs["tdtp"]``; ``from_dataframe`` uses it for
every column whose dtype still fits, so a frame made by ``to_dataframe`` comes back with
its exact types (DATE, DECIMAL precision and scale, keys). Losses: the protocol's "no
date" value becomes NaT (read back as NULL); ``decimal="float"`` rounds to doubles;
``datetime64[ns]`` columns keep microseconds. In columns pandas made (``float64``,
``object``), NaN, NaT and <NA> are NULL.

This module imports pandas; ``import tdtp_core`` does not (the names resolve lazily).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, overload

from tdtp_core.errors import ConfigError, SchemaError
from tdtp_core.formats.schema_json import schema_from_dict, schema_to_dict
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, TableStream
from tdtp_core.types import (
    BLOB,
    BOOLEAN,
    DATE,
    DATE_KINDS,
    DECIMAL,
    INTEGER,
    NODATE,
    REAL,
    TEXT,
    TIMESTAMP,
    Field,
    Schema,
)

if TYPE_CHECKING:
    import pandas as pd

ATTRS_KEY = "tdtp"
_NONE: Any = None  # ``na_value=None`` (the stubs do not allow it, pandas does)
DecimalMode = Literal["object", "float"]

# ------------------------------------------------------------------ stream → frame


def _array_builder(field: Field, decimal: DecimalMode) -> Callable[[list[Any]], Any]:
    """Python values of one field → the pandas array for its column."""
    import numpy as np
    import pandas as pd

    def floats(values: list[Any]) -> Any:
        mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
        data = np.fromiter((0.0 if v is None else float(v) for v in values), dtype="float64",
                           count=len(values))
        return pd.arrays.FloatingArray(data, mask)

    def objects(values: list[Any]) -> Any:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    if field.is_time:
        return objects
    kind = field.kind
    if kind == INTEGER:
        def integers(values: list[Any]) -> Any:
            try:
                return pd.array(values, dtype="Int64")
            except (OverflowError, TypeError):  # beyond int64: exact Python ints
                return objects(values)

        return integers
    if kind == REAL or (kind == DECIMAL and decimal == "float"):
        return floats
    if kind == TEXT:
        return lambda values: pd.array(values, dtype=pd.StringDtype())
    if kind == BOOLEAN:
        return lambda values: pd.array(values, dtype="boolean")
    if kind == DATE:
        return lambda values: np.array([None if v is NODATE else v for v in values],
                                       dtype="datetime64[s]")
    if kind in DATE_KINDS:
        if field.timezone:
            def aware(values: list[Any]) -> Any:
                naive = np.array(
                    [None if v is None or v is NODATE else v.astimezone(UTC).replace(tzinfo=None)
                     for v in values], dtype="datetime64[us]")
                return pd.DatetimeIndex(naive).tz_localize("UTC").array

            return aware
        return lambda values: np.array([None if v is NODATE else v for v in values],
                                       dtype="datetime64[us]")
    return objects  # DECIMAL as Decimal objects, BLOB as bytes


def _frame(schema: Schema, table: str, columns: list[list[Any]],
           builders: list[Callable[[list[Any]], Any]]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(
        {f.name: build(col) for f, build, col in zip(schema, builders, columns, strict=True)},
        columns=schema.names,
    )
    frame.attrs[ATTRS_KEY] = schema_to_dict(schema, table)
    return frame


@overload
def to_dataframe(stream: TableStream, *, chunksize: None = None,
                 decimal: DecimalMode = "object") -> pd.DataFrame: ...


@overload
def to_dataframe(stream: TableStream, *, chunksize: int,
                 decimal: DecimalMode = "object") -> Iterator[pd.DataFrame]: ...


def to_dataframe(stream: TableStream, *, chunksize: int | None = None,
                 decimal: DecimalMode = "object") -> pd.DataFrame | Iterator[pd.DataFrame]:
    """The stream as one DataFrame, or an iterator of frames of at most ``chunksize`` rows.

    ``decimal="float"`` gives DECIMAL columns as ``Float64`` (rounded to doubles) instead
    of exact ``Decimal`` objects.
    """
    if decimal not in ("object", "float"):
        raise ConfigError(f"decimal must be 'object' or 'float', got {decimal!r}")
    if chunksize is not None and chunksize <= 0:
        raise ConfigError(f"chunksize must be positive, got {chunksize}")
    schema = stream.schema
    builders = [_array_builder(f, decimal) for f in schema]
    chunks = _chunks(stream, chunksize)
    if chunksize is not None:
        return (_frame(schema, stream.table, cols, builders) for cols in chunks)
    return _frame(schema, stream.table, next(chunks, [[] for _ in schema]), builders)


def _chunks(stream: TableStream, size: int | None) -> Iterator[list[list[Any]]]:
    """Columns of ``size`` rows at a time (all rows in one when ``size`` is None)."""
    width = len(stream.schema)
    columns: list[list[Any]] = [[] for _ in range(width)]
    count = 0
    for batch in stream.batches():
        start = 0
        while start < len(batch):
            take = len(batch) - start if size is None else min(size - count, len(batch) - start)
            part = batch[start:start + take]
            for column, values in zip(columns, zip(*part, strict=True), strict=True):
                column.extend(values)
            count += take
            start += take
            if size is not None and count == size:
                yield columns
                columns, count = [[] for _ in range(width)], 0
    if count or size is None:
        yield columns


# ------------------------------------------------------------------ frame → stream


def _missing(value: Any) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float) and value != value)


def _plain(value: Any) -> Any:
    """numpy scalars and pandas Timestamps as the Python values they stand for."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


_OBJECT_KINDS: tuple[tuple[type | tuple[type, ...], Field], ...] = (
    (bool, Field("", BOOLEAN)),
    (int, Field("", INTEGER)),
    (float, Field("", REAL)),
    (Decimal, Field("", DECIMAL)),
    (str, Field("", TEXT)),
    ((bytes, bytearray, memoryview), Field("", BLOB)),
    (datetime, Field("", TIMESTAMP)),
    (date, Field("", DATE)),
    (time, Field("", TIMESTAMP, subtype="time")),
)


def _object_field(name: str, values: Sequence[Any]) -> Field:
    """The type of an ``object`` column from its values (TEXT when they differ)."""
    present = [_plain(v) for v in values if not _missing(v)]
    for types, field in _OBJECT_KINDS:
        if present and all(type(v) is types or (isinstance(types, tuple) and
                                                isinstance(v, types)) for v in present):
            if field.kind == DECIMAL:
                return _decimal_field(name, present)
            if field.kind == TIMESTAMP and not field.is_time and any(
                    v.tzinfo is not None for v in present):
                return Field(name, TIMESTAMP, timezone="UTC")
            return field.replace(name=name)
    return Field(name, TEXT)


def _decimal_field(name: str, values: list[Decimal]) -> Field:
    finite = [v.as_tuple() for v in values if v.is_finite()]
    scale = max((max(-int(t.exponent), 0) for t in finite), default=0)
    whole = max((len(t.digits) + int(t.exponent) for t in finite), default=1)
    return Field(name, DECIMAL, precision=min(max(whole, 1) + scale, 38), scale=scale)


def _inferred_field(name: str, column: pd.Series) -> Field:
    import pandas as pd

    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return Field(name, BOOLEAN)
    if pd.api.types.is_integer_dtype(dtype):
        return Field(name, INTEGER)
    if pd.api.types.is_float_dtype(dtype):
        return Field(name, REAL)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return Field(name, TIMESTAMP, timezone="UTC")
    if pd.api.types.is_datetime64_dtype(dtype):
        return Field(name, TIMESTAMP)
    if isinstance(dtype, pd.StringDtype):
        return Field(name, TEXT)
    if isinstance(dtype, pd.CategoricalDtype):
        return _object_field(name, column.astype(object).tolist())
    if pd.api.types.is_object_dtype(dtype):
        return _object_field(name, column.tolist())
    return Field(name, TEXT)


#: A saved field is kept when the column's inferred kind is one of these.
_FITS = {
    INTEGER: {INTEGER},
    REAL: {REAL},
    DECIMAL: {DECIMAL, REAL},
    TEXT: {TEXT},
    BOOLEAN: {BOOLEAN},
    DATE: {DATE, TIMESTAMP},
    TIMESTAMP: {TIMESTAMP},
    "DATETIME": {TIMESTAMP},
    BLOB: {BLOB},
}


def _schema(df: pd.DataFrame, key: Sequence[str]) -> tuple[str | None, Schema]:
    saved_table: str | None = None
    saved: dict[str, Field] = {}
    attrs = df.attrs.get(ATTRS_KEY)
    if attrs is not None:
        try:
            saved_table, saved_schema = schema_from_dict(attrs)
            saved = {f.name: f for f in saved_schema}
        except SchemaError:
            saved = {}
    fields: list[Field] = []
    for name in df.columns:
        if not isinstance(name, str):
            raise SchemaError(f"column names must be strings, got {name!r}")
        inferred = _inferred_field(name, df[name])
        old = saved.get(name)
        if old is not None and inferred.kind in _FITS.get(old.kind, set()) and (
                inferred.is_time == old.is_time):
            field = old
        else:
            field = inferred
        fields.append(field.replace(key=name in key) if key else field)
    unknown = sorted(set(key) - set(df.columns))
    if unknown:
        raise SchemaError(f"key field(s) {', '.join(unknown)} not in the DataFrame "
                          f"(columns: {', '.join(map(str, df.columns))})")
    schema = Schema(fields)
    schema.validate()
    return saved_table, schema


def _column_values(field: Field, column: pd.Series) -> list[Any]:
    """One column of a DataFrame slice as the field's Python values."""
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = column.dt.tz_convert("UTC").dt.tz_localize(None)
        stamps = naive.to_numpy().astype("datetime64[us]").tolist()
        if field.kind == DATE:
            return [None if v is None else v.date() for v in stamps]
        return [None if v is None else v.replace(tzinfo=UTC) if field.timezone else v
                for v in stamps]
    if pd.api.types.is_datetime64_dtype(dtype):
        stamps = column.to_numpy().astype("datetime64[us]").tolist()
        if field.kind == DATE:
            return [None if v is None else v.date() for v in stamps]
        if field.timezone:
            return [None if v is None else v.replace(tzinfo=UTC) for v in stamps]
        return list(stamps)
    if isinstance(dtype, pd.Float32Dtype | pd.Float64Dtype):  # NaN is a value, <NA> NULL
        numbers = column.to_numpy(dtype="float64", na_value=0.0).tolist()
        nulls = column.isna().tolist()
        floats = [None if null else v for v, null in zip(numbers, nulls, strict=True)]
        return floats if field.kind == REAL else _column_kind(field, floats)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(
            dtype, pd.CategoricalDtype):
        values = column.to_numpy(dtype=object, na_value=_NONE).tolist()
    else:
        values = column.tolist()
    return _column_kind(field, [None if _missing(v) else _plain(v) for v in values])


def _column_kind(field: Field, out: list[Any]) -> list[Any]:
    """Plain Python values made to fit the field's type."""
    kind = field.kind
    if field.is_time:
        return out
    if kind == DECIMAL:
        return [None if v is None else v if isinstance(v, Decimal) else Decimal(repr(v))
                for v in out]
    if kind == TEXT:
        return [v if v is None or isinstance(v, str) else str(v) for v in out]
    if kind == REAL:
        return [None if v is None else float(v) for v in out]
    if kind == BLOB:
        return [None if v is None else bytes(v) for v in out]
    if kind in DATE_KINDS and field.timezone:
        return [None if v is None else v.astimezone(UTC) if v.tzinfo else v.replace(tzinfo=UTC)
                for v in out]
    return out


def from_dataframe(df: pd.DataFrame, *, table: str | None = None,
                   key: str | Sequence[str] | None = None,
                   batch_size: int = DEFAULT_BATCH_SIZE) -> TableStream:
    """A DataFrame as a table stream, converted a batch at a time as it is read.

    ``table`` defaults to the name saved by :func:`to_dataframe`, else ``data``; ``key``
    names the key field(s) (default: the saved keys, if any).
    """
    keys = [key] if isinstance(key, str) else list(key or ())
    saved_table, schema = _schema(df, keys)
    fields = list(schema)

    def batches() -> Iterator[Batch]:
        for start in range(0, len(df), batch_size):
            part = df.iloc[start:start + batch_size]
            columns = [_column_values(f, part[f.name]) for f in fields]
            yield list(zip(*columns, strict=True))

    return TableStream(schema, batches(), table=table or saved_table or "data")


__all__ = ["from_dataframe", "to_dataframe"]
