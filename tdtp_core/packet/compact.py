"""v1.3.1 compact format: fixed fields carried forward over empty cells (spec §5)."""

from __future__ import annotations

from collections.abc import Sequence

from tdtp_core.errors import PacketError
from tdtp_core.packet.encode import decode_row
from tdtp_core.types import Field, Schema


def resolve_fixed(schema: Schema, names: Sequence[str] | None) -> tuple[Schema, list[int]]:
    """Mark fixed fields (spec §5.1): the explicit list, else every ``_``-prefixed name.

    A ``_name`` field becomes ``name fixed="true"``. Returns the new schema and the fixed
    positions (empty when nothing qualifies: the caller writes a plain packet).
    """
    wanted = set(names or ())
    if not wanted:
        wanted = {f.name for f in schema.fields if f.name.startswith("_")}
    fields: list[Field] = []
    positions: list[int] = []
    for i, f in enumerate(schema.fields):
        stripped = f.name[1:] if f.name.startswith("_") else f.name
        if f.name in wanted or stripped in wanted:
            fields.append(f.replace(name=stripped, fixed=True))
            positions.append(i)
        else:
            fields.append(f)
    names_after = [f.name for f in fields]
    if len(set(names_after)) != len(names_after):
        raise PacketError(
            "compact: dropping the '_' prefix makes two fields share a name "
            f"({', '.join(names_after)})"
        )
    return schema.with_fields(fields), positions


def compact_cells(rows: list[list[str]], fixed: Sequence[int]) -> bool:
    """Blank fixed cells equal to the previous row's, in place.

    Returns False (rows untouched) when a fixed value turns empty after a non-empty one:
    the format cannot say that, so the caller writes this part in plain form instead.
    """
    for i in fixed:
        seen_value = False
        for row in rows:
            if row[i] != "":
                seen_value = True
            elif seen_value:
                return False
    for i in fixed:
        prev: str | None = None
        for row in rows:
            v = row[i]
            if v == prev:
                row[i] = ""
            else:
                prev = v
    return True


class Expander:
    """Fills the gaps of fixed columns in place, run after run (spec §5.2,
    ``ExpandCompactRows``): an empty cell takes its field's last value, carried across
    runs and starting from the ``carry`` attribute."""

    def __init__(self, schema: Schema, carry: str | None) -> None:
        self.fields = schema.fields
        self.fixed = [i for i, f in enumerate(schema.fields) if f.fixed]
        init = decode_row(carry) if carry else []
        self.state = {i: init[i] if i < len(init) else "" for i in self.fixed}
        #: The first fixed field empty in the last row seen: an error in a ``tail`` part.
        self.gap: str | None = None

    def expand(self, columns: list[list[str]]) -> None:
        if not self.fixed or not columns or not columns[0]:
            return
        self.gap = next((self.fields[i].name for i in self.fixed if columns[i][-1] == ""),
                        None)
        for i in self.fixed:
            col = columns[i]
            state = self.state[i]
            for j, v in enumerate(col):
                if v:
                    state = v
                else:
                    col[j] = state
            self.state[i] = state
