"""Row progress on stderr for long transfers (design §5), only when it is a terminal.

Rich is imported only when a bar is actually shown. The bar refreshes from the rows
callback, never from a thread of its own, so forking export workers stays safe.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Seconds between redraws: often enough to look live, rarely enough to cost nothing.
REFRESH = 0.1


@contextmanager
def row_progress(label: str, total: Callable[[], int | None], *,
                 quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A callback counting rows into a bar titled ``label``; ``total()`` (only called
    when a bar is shown: it may cost a query) gives its length when known. None when
    quiet or when stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    length = total()
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("rows"), TimeElapsedColumn()]
    if length:
        columns.append(TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), auto_refresh=False,
                  transient=True) as bar:
        task = bar.add_task(label, total=length or None)
        shown = 0.0

        def advance(rows: int) -> None:
            nonlocal shown
            bar.update(task, advance=rows)
            now = time.monotonic()
            if now - shown >= REFRESH:
                shown = now
                bar.refresh()

        yield advance
