"""Diff and merge of tables (packets, CSV, workbooks: any readable format)."""

from __future__ import annotations

from tdtp_core.compare.diff import DiffResult, FieldChange, RowChange, diff
from tdtp_core.compare.fields import Opener, reopenable
from tdtp_core.compare.merge import STRATEGIES, MergeResult, MergeStats, merge

__all__ = [
    "STRATEGIES",
    "DiffResult",
    "FieldChange",
    "MergeResult",
    "MergeStats",
    "Opener",
    "RowChange",
    "diff",
    "merge",
    "reopenable",
]
