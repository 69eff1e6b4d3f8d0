"""The run summary: rows per stage, durations, output paths and hashes, the error.

Printed after every run and written as JSON with ``--summary-json`` (success or not), so
a scheduler can tell what a run did without parsing logs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tdtp_core.errors import TdtpError


@dataclass
class SourceResult:
    name: str
    kind: str
    location: str
    #: pending, loaded, skipped, failed or cancelled (another source failed first).
    status: str = "pending"
    rows: int = 0
    duration_ms: float = 0.0
    error: str | None = None


@dataclass
class StepResult:
    result_table: str
    rows: int = 0
    duration_ms: float = 0.0


@dataclass
class OutputResult:
    index: int
    type: str
    target: str
    result_table: str
    #: not run, written, written to fallback, failed, rolled back (a later output
    #: failed), or dry run.
    status: str = "not run"
    #: Where the rows went instead, and why, when the output's fallback was written.
    fallback: str | None = None
    primary_error: str | None = None
    rows: int = 0
    files: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    error: str | None = None


@dataclass
class RunSummary:
    """What one run (or dry run) did; ``exception`` is the error that ended it."""

    pipeline: str
    version: str
    file: str
    dry_run: bool
    started_at: str
    variables: dict[str, str] = field(default_factory=dict)
    status: str = "running"
    finished_at: str = ""
    duration_ms: float = 0.0
    sources: list[SourceResult] = field(default_factory=list)
    transform: list[StepResult] = field(default_factory=list)
    processors: list[str] = field(default_factory=list)
    processed_rows: dict[str, int] = field(default_factory=dict)
    outputs: list[OutputResult] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    exit_code: int = 0
    exception: TdtpError | None = field(default=None, repr=False, compare=False)

    def fail(self, exc: TdtpError) -> None:
        self.status = "failed"
        self.exception = exc
        self.error = str(exc)
        self.error_kind = exc.kind
        self.exit_code = exc.exit_code

    def raise_for_error(self) -> None:
        if self.exception is not None:
            raise self.exception

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("exception")
        return data

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n",
                              encoding="utf-8")

    def lines(self) -> list[str]:
        """The human-readable report."""
        head = "dry run" if self.dry_run and self.status == "succeeded" else self.status
        out = [f"pipeline {self.pipeline} {self.version}: {head} in "
               f"{self.duration_ms / 1000:.2f}s"]
        for s in self.sources:
            line = (f"  source {s.name}: {s.status}, {s.rows} row(s) from {s.location} "
                    f"({s.duration_ms / 1000:.2f}s)")
            out.append(line + (f": {s.error}" if s.error else ""))
        for t in self.transform:
            out.append(f"  transform {t.result_table}: {t.rows} row(s) "
                       f"({t.duration_ms / 1000:.2f}s)")
        if self.processors:
            rows = ", ".join(f"{t} {n} row(s)" for t, n in self.processed_rows.items())
            out.append(f"  processors {', '.join(self.processors)}: {rows}")
        for o in self.outputs:
            line = f"  output {o.index + 1} {o.type} {o.target}: {o.status}, {o.rows} row(s)"
            if o.files:
                line += f", {len(o.files)} file(s)"
            if o.message_ids:
                line += f", {len(o.message_ids)} message(s)"
            out.append(line + (f": {o.error}" if o.error else ""))
            if o.fallback is not None:
                out.append(f"    instead of {o.target} ({o.primary_error}): {o.fallback}")
            out.extend(f"    {path}  {o.hashes.get(path, '')}".rstrip() for path in o.files)
        if self.error:
            out.append(f"  error: {self.error}")
        return out
