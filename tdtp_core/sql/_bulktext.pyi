"""Types of the compiled module built from ``_bulktext.c``."""


def copy_rows(rows: list[str] | list[bytes], sources: tuple[int, ...], codes: str,
              nullable: tuple[bool, ...], limits: tuple[int, ...],
              markers: tuple[tuple[tuple[bytes, bool], ...], ...], /) -> tuple[bytes, int]: ...
