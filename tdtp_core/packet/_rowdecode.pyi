"""Types of the compiled module built from ``_rowdecode.c``."""

from typing import Any

class RowDecoder:
    def __init__(self, kinds: str, markers: tuple[dict[str, Any], ...]) -> None: ...
    def decode(self, rows: list[str], /) -> list[tuple[Any, ...]] | None: ...
