"""Column type inference shared by CSV and XLSX: the narrowest type that holds every
value, the same answer cell by cell as for a whole batch, and never a type the decoder
would then refuse."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from tdtp_core.formats.inference import ColumnGuess
from tdtp_core.types import Field
from tdtp_core.values import column_decoder

TEXTS: list[tuple[list[str], Field]] = [
    (["1", "-2", "0"], Field("c", "INTEGER")),
    (["1.50", "2", "-0.125"], Field("c", "DECIMAL", precision=18, scale=3)),
    (["1" * 30 + ".5"], Field("c", "DECIMAL", precision=31, scale=1)),
    (["9223372036854775808"], Field("c", "DECIMAL", precision=19, scale=0)),
    (["1e3", "2", "2.5"], Field("c", "REAL")),
    (["NaN", "1.5", "-INF"], Field("c", "REAL")),
    (["true", "False", "TRUE"], Field("c", "BOOLEAN")),
    (["2024-01-02", "1999-12-31"], Field("c", "DATE")),
    (["2024-01-02", "2024-01-02 10:00:00"], Field("c", "TIMESTAMP")),
    (["2024-01-02T10:00:00Z", "2024-01-02T10:00:00.5+02:00"],
     Field("c", "TIMESTAMP", timezone="UTC")),
    (["10:30:00", "23:59:59.250"], Field("c", "TIMESTAMP", subtype="time")),
    (["", ""], Field("c", "TEXT")),
    (["NaN"], Field("c", "TEXT")),
    (["007", "8"], Field("c", "TEXT")),
    (["+5"], Field("c", "TEXT")),
    ([".5"], Field("c", "TEXT")),
    (["1e999"], Field("c", "TEXT")),
    (["2024-02-30"], Field("c", "TEXT")),
    (["1", "yes"], Field("c", "TEXT")),
    (["1", "true"], Field("c", "TEXT")),
    (["2024-01-02", "10:00:00"], Field("c", "TEXT")),
]


def guessed(texts: list[str], *, one_by_one: bool = False) -> Field:
    guess = ColumnGuess()
    for chunk in ([[t] for t in texts] if one_by_one else [texts]):
        guess.add_texts(chunk)
    return guess.field("c")


@pytest.mark.parametrize(("texts", "field"), TEXTS)
def test_texts_give_the_narrowest_type(texts: list[str], field: Field) -> None:
    assert guessed(texts) == field


@pytest.mark.parametrize(("texts", "field"), TEXTS)
def test_cell_by_cell_gives_the_same_type(texts: list[str], field: Field) -> None:
    assert guessed(texts, one_by_one=True) == field


@pytest.mark.parametrize(("texts", "field"), TEXTS)
def test_inferred_type_decodes_every_cell(texts: list[str], field: Field) -> None:
    assert len(column_decoder(guessed(texts))(texts)) == len(texts)


def test_empty_cells_do_not_change_the_type() -> None:
    assert guessed(["", "12", ""]) == Field("c", "INTEGER")


@pytest.mark.parametrize(("values", "field"), [
    ([1, 2], Field("c", "INTEGER")),
    ([1, 2.5, None], Field("c", "REAL")),
    ([Decimal("1.25"), 3], Field("c", "DECIMAL", precision=18, scale=2)),
    ([True, False], Field("c", "BOOLEAN")),
    ([date(2024, 1, 2), datetime(2024, 1, 3)], Field("c", "DATE")),
    ([date(2024, 1, 2), datetime(2024, 1, 3, 4, 5)], Field("c", "TIMESTAMP")),
    ([datetime(2024, 1, 3, 4, 5, tzinfo=UTC)], Field("c", "TIMESTAMP", timezone="UTC")),
    ([time(1, 2)], Field("c", "TIMESTAMP", subtype="time")),
    ([1, "x"], Field("c", "TEXT")),
    ([True, 1], Field("c", "TEXT")),
])
def test_python_values_give_the_narrowest_type(values: list[Any], field: Field) -> None:
    guess = ColumnGuess()
    guess.add_values(values)
    assert guess.field("c") == field


def test_a_text_settles_the_column() -> None:
    guess = ColumnGuess()
    guess.add_texts(["1", "x"])
    guess.add_texts(["2"])
    assert guess.settled and guess.field("c") == Field("c", "TEXT")
