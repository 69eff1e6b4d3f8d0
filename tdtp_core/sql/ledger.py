"""The import ledger: which packet MessageIDs a database has already taken in.

The ledger row is written in the same transaction as the imported rows, so a packet set
redelivered or imported twice is recognised and skipped (DECISIONS 13), and a failed
import leaves no ledger row behind. The row is inserted *before* the data so that on
databases with row locks a concurrent import of the same set waits, then fails on the
primary key and reports the set as a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tdtp_core.packet.model import batch_id_of
from tdtp_core.stream import TableStream

LEDGER_TABLE = "tdtp_import_ledger"

_metadata = sa.MetaData()
ledger = sa.Table(
    LEDGER_TABLE,
    _metadata,
    sa.Column("message_id", sa.String(255), primary_key=True, autoincrement=False),
    sa.Column("batch_id", sa.String(255), nullable=False),
    sa.Column("table_name", sa.String(255), nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("strategy", sa.String(16), nullable=False),
    sa.Column("imported_at", sa.DateTime, nullable=False),
)


def message_ids(stream: TableStream) -> list[str]:
    """Every MessageID of the set a stream was read from; empty for database streams."""
    ids = stream.metadata.get("message_ids")
    if ids:
        return [str(i) for i in ids]
    if stream.header is not None and stream.header.message_id:
        return [stream.header.message_id]
    return []


def ensure(conn: Connection) -> None:
    ledger.create(conn, checkfirst=True)


def imported(conn: Connection, ids: Sequence[str]) -> set[str]:
    """The subset of ``ids`` the ledger already holds."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        query = sa.select(ledger.c.message_id).where(ledger.c.message_id.in_(chunk))
        found.update(conn.execute(query).scalars())
    return found


def claim(conn: Connection, ids: Sequence[str], *, table: str, strategy: str) -> None:
    """Insert the set's ledger rows (replacing earlier ones, for a forced re-import)."""
    conn.execute(sa.delete(ledger).where(ledger.c.message_id.in_(list(ids))))
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(
        sa.insert(ledger),
        [
            {"message_id": i, "batch_id": batch_id_of(i), "table_name": table,
             "row_count": 0, "strategy": strategy, "imported_at": now}
            for i in ids
        ],
    )


def settle(conn: Connection, ids: Sequence[str], rows: int) -> None:
    """Record how many rows the set brought, once they are written."""
    conn.execute(
        sa.update(ledger).where(ledger.c.message_id.in_(list(ids))).values(row_count=rows)
    )
