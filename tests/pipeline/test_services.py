"""End to end on real servers: SQLite, PostgreSQL and MariaDB joined in one workspace,
written to files, a database and RabbitMQ; broker sources; masking on every output."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tdtp_core import Field, Schema, TableStream, read_packets
from tdtp_core.errors import QueryError
from tdtp_core.plugins import get_host
from tdtp_core.testing.services import TableJanitor
from tests.pipeline.conftest import Run

CUSTOMERS = Schema([Field("customer", "TEXT", key=True), Field("email", "TEXT"),
                    Field("vip", "BOOLEAN")])
CREDIT = Schema([Field("customer", "TEXT", key=True),
                 Field("credit", "DECIMAL", precision=12, scale=2),
                 Field("checked_at", "TIMESTAMP", timezone="UTC")])


def put(url: str, table: str, schema: Schema, rows: list[tuple[object, ...]]) -> None:
    adapter = get_host().adapter_for_url(url)
    adapter.write(TableStream.from_rows(schema, rows, table=table), create=True)
    adapter.close()


def drain(url: str) -> list[bytes]:
    """Every message waiting on a queue, acknowledged."""
    broker = get_host().broker_for_url(url)
    bodies = []
    try:
        for message in broker.consume(timeout=3):
            bodies.append(message.body)
            broker.ack(message)
    finally:
        broker.close()
    return bodies


@pytest.fixture
def three_databases(demo_db: str, postgres_url: str, mariadb_url: str,
                    tables: TableJanitor) -> dict[str, str]:
    pg_table, my_table = tables.name(postgres_url, "cust"), tables.name(mariadb_url, "credit")
    put(postgres_url, pg_table, CUSTOMERS, [
        ("Ada", "ada@example.com", True), ("Grace", "grace@example.com", False),
        ("Linus", "linus@example.org", True)])
    put(mariadb_url, my_table, CREDIT, [
        ("Ada", Decimal("1000.50"), datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)),
        ("Grace", Decimal("250.00"), datetime(2026, 3, 2, tzinfo=UTC)),
        ("Linus", Decimal("0.01"), datetime(2026, 3, 3, tzinfo=UTC))])
    return {"sqlite": demo_db, "pg": postgres_url, "pg_table": pg_table,
            "my": mariadb_url, "my_table": my_table}


JOINED = """
name: three-databases
variables:
  min_credit: {{type: decimal, default: "1.00"}}
sources:
  - {{name: orders, url: "{sqlite}", table: orders}}
  - {{name: customers, url: "{pg}", table: {pg_table}}}
  - name: credit
    url: "{my}"
    query: SELECT customer, credit, checked_at FROM {my_table} WHERE credit >= :min_credit
transform:
  key: [customer]
  types: {{total: "DECIMAL(12,2)"}}
  sql: |
    SELECT c.customer, c.email, c.vip, k.credit, k.checked_at,
           count(o.id) AS orders, sum(o.total) AS total
    FROM customers c
    JOIN credit k ON k.customer = c.customer
    JOIN orders o ON o.customer = c.customer
    GROUP BY c.customer, c.email, c.vip, k.credit, k.checked_at
    ORDER BY c.customer
processors:
  - {{type: mask, params: {{fields: {{email: email}}}}}}
outputs:
  - {{type: tdtp, destination: out/joined.tdtp.xml, compress: true, integrity: true}}
  - {{type: database, url: "{pg}", table: {target}, create: true, strategy: replace}}
  - {{type: rabbitmq, url: "{queue}"}}
"""


@pytest.mark.postgres
@pytest.mark.mariadb
@pytest.mark.rabbitmq
def test_three_databases_joined_to_files_database_and_rabbitmq(
        run: Run, three_databases: dict[str, str], tables: TableJanitor, rabbit_queue: str,
        tmp_path: Path) -> None:
    target = tables.name(three_databases["pg"], "joined")
    summary = run(JOINED.format(**three_databases, target=target, queue=rabbit_queue))
    summary.raise_for_error()
    assert [s.rows for s in summary.sources] == [200, 3, 2]  # Linus' credit is too small
    # MySQL describes a query's DATETIME without a zone: the UTC wall clock comes back
    expected = [("Ada", "a***@example.com", True, Decimal("1000.50"),
                 datetime(2026, 3, 1, 12, 0, 0, 250000)),
                ("Grace", "g***@example.com", False, Decimal("250.00"),
                 datetime(2026, 3, 2))]

    packet = read_packets(tmp_path / "out/joined.tdtp.xml")
    assert [(f.name, f.type) for f in packet.schema] == [
        ("customer", "TEXT"), ("email", "TEXT"), ("vip", "BOOLEAN"), ("credit", "DECIMAL"),
        ("checked_at", "TIMESTAMP"), ("orders", "INTEGER"), ("total", "DECIMAL")]
    rows = packet.rows()
    assert [r[:5] for r in rows] == expected
    assert packet.schema.field("credit").scale == 2 and packet.schema[0].key

    adapter = get_host().adapter_for_url(three_databases["pg"])
    imported = sorted(adapter.read(target).rows())
    adapter.close()
    assert [r[:5] for r in imported] == expected
    assert [r[5:] for r in imported] == [r[5:] for r in rows]

    sent = read_packets(*drain(rabbit_queue)).rows()
    assert sent == rows
    assert summary.outputs[2].message_ids and summary.outputs[1].rows == 2


@pytest.mark.rabbitmq
def test_a_broker_source_is_acknowledged_only_after_success(run: Run, rabbit_queue: str,
                                                            tmp_path: Path) -> None:
    from tdtp_core.brokers import send_stream

    schema = Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT")])
    send_stream(TableStream.from_rows(schema, [(i, f"n{i}") for i in range(500)],
                                      table="items"), rabbit_queue, part_size=4096)
    text = f"""
        name: from-queue
        sources: [{{name: items, broker: "{rabbit_queue}", timeout: 10}}]
        transform: {{sql: SELECT * FROM items WHERE id < LIMIT_}}
        outputs: [{{type: csv, destination: out/items.csv}}]
        """
    failed = run(text.replace("LIMIT_", "nope"))
    assert isinstance(failed.exception, QueryError)
    retried = run(text.replace("LIMIT_", "10"), dry_run=True)  # gives the set back too
    retried.raise_for_error()
    assert retried.sources[0].rows == 500
    done = run(text.replace("LIMIT_", "10"))
    done.raise_for_error()
    assert done.sources[0].rows == 500 and done.outputs[0].rows == 10
    assert drain(rabbit_queue) == []  # acknowledged


@pytest.mark.rabbitmq
def test_an_empty_queue_fails_the_source_after_its_timeout(run: Run, rabbit_queue: str
                                                           ) -> None:
    summary = run(f"""
        name: empty
        sources: [{{name: items, broker: "{rabbit_queue}", timeout: 1}}]
        transform: {{sql: SELECT * FROM items}}
        outputs: [{{type: csv, destination: out.csv}}]
        """)
    assert summary.exit_code == 8
    assert "no complete packet set arrived" in (summary.error or "")


MASKED_OUTPUTS = {
    "tdtp": "{type: tdtp, destination: out/m.tdtp.xml, compress: true}",
    "xlsx": "{type: xlsx, destination: out/m.xlsx}",
    "csv": "{type: csv, destination: out/m.csv}",
    "database": "{type: database, url: 'sqlite:///m.db', table: m, create: true}",
    "rabbitmq": "{type: rabbitmq, url: 'QUEUE'}",
}


@pytest.mark.parametrize("kind", list(MASKED_OUTPUTS))
def test_masking_applies_on_every_output_type(kind: str, run: Run, tmp_path: Path,
                                              request: pytest.FixtureRequest) -> None:
    output = MASKED_OUTPUTS[kind]
    queue = ""
    if kind == "rabbitmq":
        queue = request.getfixturevalue("rabbit_queue")
        output = output.replace("QUEUE", queue)
    (tmp_path / "people.csv").write_text(
        "id,email,card\n1,john.doe@example.com,4111111111111111\n", encoding="utf-8")
    summary = run(f"""
        name: mask-{kind}
        sources: [{{name: people, file: people.csv}}]
        transform: {{sql: SELECT * FROM people}}
        processors:
          - {{type: mask, params: {{fields: {{email: email, card: card}}}}}}
        outputs: [{output}]
        """)
    summary.raise_for_error()
    if kind == "tdtp":
        rows = read_packets(tmp_path / "out/m.tdtp.xml").rows()
    elif kind in ("xlsx", "csv"):
        rows = get_host().format(kind).read([tmp_path / f"out/m.{kind}"]).rows()
    elif kind == "database":
        adapter = get_host().adapter_for_url("sqlite:///m.db")
        rows = adapter.read("m").rows()
        adapter.close()
    else:
        rows = read_packets(*drain(queue)).rows()
    assert [tuple(str(v) for v in r) for r in rows] == [
        ("1", "j***@example.com", "41************11")]
