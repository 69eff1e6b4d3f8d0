"""Incremental export: the rows whose tracking column passed the last run's watermark.

The watermark is kept as the canonical TDTP text of the column's type and parsed back
into a typed value, which the database compares as a bound parameter (DECISIONS 16,
§12.8–12.10). The new watermark is the greatest value the run exported, compared as
values (``25`` after ``9``, instants across zones). The state file is JSON, written
atomically (temporary file, then rename) and only after the packets are on disk, so a
failed run exports the same rows again rather than losing them. A run with no new rows
writes nothing and leaves the state alone (§12.11).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tdtp_core.errors import ConfigError
from tdtp_core.sql.adapter import SqlAdapter
from tdtp_core.stream import DEFAULT_BATCH_SIZE, Batch, TableStream
from tdtp_core.types import NODATE
from tdtp_core.values import format_value, parse_value

STATE_FILE = ".tdtp-sync.json"

Writer = Callable[[TableStream, Path], list[Path]]


@dataclass
class SyncResult:
    """What one run did; ``watermark`` is the canonical text saved for the next run."""

    table: str
    tracking_column: str
    rows: int = 0
    files: list[Path] = field(default_factory=list)
    previous: str | None = None
    watermark: str | None = None
    state_file: Path | None = None

    @property
    def first_run(self) -> bool:
        return self.previous is None


def load_state(path: Path) -> dict[str, Any]:
    """The state file's entries by table; a missing file is an empty state."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read sync state: {exc}", where=str(path)) from exc
    if not isinstance(data, dict):
        raise ConfigError("sync state is not a JSON object", where=str(path))
    return data


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write the whole state to a temporary file beside ``path``, then rename it over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(state, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def output_path(out_dir: Path, table: str, now: datetime) -> Path:
    """``<table>_<UTC time>.tdtp.xml``: each run its own file, in run order by name."""
    safe = re.sub(r"[^\w.-]+", "_", table)
    return out_dir / f"{safe}_{now.strftime('%Y%m%dT%H%M%S%fZ')}.tdtp.xml"


def sync_table(
    adapter: SqlAdapter,
    table: str,
    tracking_column: str,
    out_dir: Path,
    write: Writer,
    *,
    state_file: Path | None = None,
    reset: bool = False,
    limit: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> SyncResult:
    """Export the rows added since the last run into ``out_dir`` and move the watermark."""
    state_path = state_file or out_dir / STATE_FILE
    state = load_state(state_path)
    schema = adapter.schema(table)
    tracked = schema.field(tracking_column)
    entry = None if reset else state.get(table)
    previous = entry.get("last_sync_value") if isinstance(entry, dict) else None
    after = parse_value(tracked, previous) if previous not in (None, "") else None
    result = SyncResult(table, tracked.name, previous=previous or None, state_file=state_path)

    stream = adapter.read_after(table, tracked.name, after, limit=limit, batch_size=batch_size)
    batches = stream.batches()
    first = next(batches, None)
    if first is None:
        result.watermark = result.previous
        return result

    index = stream.schema.index(tracked.name)
    highest: list[Any] = []

    def watched() -> Iterator[Batch]:
        for batch in _chain(first, batches):
            values = [r[index] for r in batch if r[index] is not None and r[index] is not NODATE]
            if values:
                top = max(values)
                if not highest or top > highest[0]:
                    highest[:] = [top]
            result.rows += len(batch)
            yield batch

    now = datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    result.files = write(stream.derive(watched()), output_path(out_dir, table, now))
    if not highest:
        result.watermark = result.previous
        return result
    result.watermark = format_value(tracked, highest[0])
    state[table] = {
        "table_name": table,
        "tracking_column": tracked.name,
        "tracking_type": tracked.type,
        "last_sync_value": result.watermark,
        "last_sync_time": now.isoformat(),
        "records_exported": result.rows,
        "source": adapter.display_url,
    }
    save_state(state_path, state)
    return result


def _chain(first: Batch, rest: Iterator[Batch]) -> Iterator[Batch]:
    yield first
    yield from rest
