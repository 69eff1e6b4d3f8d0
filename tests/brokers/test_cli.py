"""The commands as a user runs them: send, listen, receive, dlq, audit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tdtp_core.packet import write_packets
from tdtp_core.stream import TableStream

CLI = [sys.executable, "-c", "from tdtp_core.cli.main import main; main()"]


def _tdtp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_send_listen_receive_dlq_and_audit(
        rabbit_queue: str, tmp_path: Path, make_stream: Callable[..., TableStream],
        count_rows: Callable[[str, str], int]) -> None:
    env = {"TDTP_AUDIT_FILE": str(tmp_path / "audit.jsonl")}
    target = f"sqlite:///{tmp_path / 'target.db'}"
    files = write_packets(make_stream("orders", 2000), tmp_path / "o.tdtp.xml",
                          part_size=20_000)
    sent = _tdtp("send", str(files[0]), rabbit_queue, "--json", env=env)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["messages"] == len(files)

    # No table and no --create: the set is dead-lettered to a directory.
    dlq = tmp_path / "dlq"
    run = _tdtp("listen", rabbit_queue, target, "--idle-timeout", "2", "--dlq", str(dlq),
                "--json", env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["sets_dead_lettered"] == 1

    listed = _tdtp("dlq", "list", str(dlq), "--json")
    (letter,) = json.loads(listed.stdout)
    assert letter["table"] == "orders" and letter["part_count"] == len(files)
    shown = _tdtp("dlq", "show", str(dlq), letter["id"])
    assert "REF-" in shown.stdout and "rows=" in shown.stdout

    failed = _tdtp("dlq", "replay", str(dlq), target, env=env)
    assert failed.returncode == 1 and "still failing" in failed.stderr
    replayed = _tdtp("dlq", "replay", str(dlq), target, "--create", env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert count_rows(target, "orders") == 2000
    assert json.loads(_tdtp("dlq", "list", str(dlq), "--json").stdout) == []

    # Send again, and fetch the packets as files instead.
    assert _tdtp("send", *map(str, files), rabbit_queue, "-q", env=env).returncode == 0
    inbox = tmp_path / "inbox"
    got = _tdtp("receive", rabbit_queue, "-o", str(inbox), "--idle-timeout", "2", env=env)
    assert got.returncode == 0, got.stderr
    assert len(list(inbox.glob("orders_*.tdtp_part_*_of_*.xml"))) == len(files)

    shown = _tdtp("audit", "show", "--file", str(tmp_path / "audit.jsonl"), "--json")
    ops = [(e["operation"], e["outcome"]) for e in json.loads(shown.stdout)]
    assert ops[0] == ("send", "success") and ("import", "dead-lettered") in ops
    assert ("replay", "success") in ops and ops.count(("receive", "success")) == len(files)
    only = _tdtp("audit", "show", "--file", str(tmp_path / "audit.jsonl"),
                 "--operation", "replay", "--outcome", "failure")
    assert only.stdout.count("replay failure") == 1


def test_passwords_never_show_in_broker_errors(tmp_path: Path,
                                               make_stream: Callable[..., TableStream]) -> None:
    pytest.importorskip("pika")
    files = write_packets(make_stream("t", 3), tmp_path / "t.tdtp.xml")
    url = "amqp://app:s3cr%40t-pw@127.0.0.1:1/%2F?queue=q"
    run = _tdtp("send", str(files[0]), url, "--retries", "1")
    assert run.returncode == 8, run.stderr
    assert "s3cr" not in run.stderr and "***" in run.stderr
    bad = _tdtp("listen", "amqp://app:s3cr3t@127.0.0.1:1/%2F", "sqlite:///x.db")
    assert bad.returncode == 2 and "s3cr3t" not in bad.stderr and "queue" in bad.stderr


def test_dlq_purge_needs_ids_or_all(tmp_path: Path) -> None:
    run = _tdtp("dlq", "purge", str(tmp_path))
    assert run.returncode == 2 and "--all" in run.stderr
    assert _tdtp("dlq", "purge", str(tmp_path), "--all").returncode == 0
