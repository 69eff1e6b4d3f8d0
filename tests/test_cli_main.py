"""The ``tdtp`` command: lazy commands, startup time, errors, and show/verify/convert."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import typer

from tdtp_core import Field, Schema, TableStream, read_packets, write_packets
from tdtp_core.cli.main import CORE_COMMANDS
from tdtp_core.cli.options import parse_size
from tests.conftest import Result
from tests.plugin_support import CODEC_PLUGIN, FakeDists, clean_plugin_env, fake_dists_in

COMMAND_PLUGIN = """
from tdtp_core.hookspecs import hookimpl

@hookimpl
def tdtp_register_commands(registry):
    registry.add("hello", "IMPL:app", help="Say hello from a plugin.")
    registry.add("interrupt", "IMPL:interrupt", help="Act like Ctrl-C.")
    registry.add("fail", "IMPL:fail", help="Raise a query error.")
"""

COMMAND_IMPL = """
import typer
from tdtp_core.errors import QueryError

app = typer.Typer()

@app.command()
def hello(name: str = "world") -> None:
    typer.echo(f"hello {name}")

def interrupt() -> None:
    raise KeyboardInterrupt

def fail() -> None:
    raise QueryError("unexpected token 'AND'\\nat position 7", where="--where")
"""

BROKEN_PLUGIN = "raise ImportError('needs libfoo')\n"

USERS = Schema([
    Field("id", "INTEGER", key=True),
    Field("name", "TEXT"),
    Field("balance", "DECIMAL", precision=10, scale=2),
    Field("joined", "DATE"),
])
USER_ROWS = [
    (1, "Alice", Decimal("10.50"), date(2024, 1, 2)),
    (2, "Bob", None, date(2024, 2, 3)),
    (3, "Carol, Jr.", Decimal("-3.00"), None),
]


@pytest.fixture(autouse=True)
def _plugin_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from clean_plugin_env(monkeypatch)


@pytest.fixture
def fake_dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDists]:
    yield from fake_dists_in(tmp_path, monkeypatch)


@pytest.fixture
def command_plugin(fake_dists: FakeDists) -> str:
    """Install a plugin with commands; returns the (not yet imported) command module."""
    impl = fake_dists.module(COMMAND_IMPL)
    fake_dists.dist("tdtp-cli-hello", COMMAND_PLUGIN.replace("IMPL", impl))
    return impl


def write_users(path: Path, **options: object) -> list[Path]:
    stream = TableStream.from_rows(USERS, USER_ROWS, table="users")
    return write_packets(stream, path, **options)  # type: ignore[arg-type]


@pytest.fixture
def users_packet(tmp_path: Path) -> Path:
    return write_users(tmp_path / "users.tdtp.xml")[0]


def run_python(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                            text=True, env=env, check=False)
    return time.perf_counter() - start, result.stdout


RUN_MAIN = "from tdtp_core.cli.main import main; main()"


# ------------------------------------------------------------ startup and laziness


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\nfrom tdtp_core.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('lxml', 'sqlalchemy', 'rich', 'pandas', 'zstandard')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))"
    )
    assert "LOADED []" in run_python(code)[1]


def test_help_lists_every_core_command(tdtp: Callable[..., Result]) -> None:
    listed = tdtp("--help").out
    assert all(f"  {name} " in listed for name in CORE_COMMANDS)


def test_help_documents_exit_codes(tdtp: Callable[..., Result]) -> None:
    assert "Exit codes: 0 ok, 1 error, 2 usage/config, 3 packet, 4 integrity" in tdtp("-h").out


def test_plugin_command_listed_without_importing_it(
    tdtp: Callable[..., Result], command_plugin: str
) -> None:
    assert re.search(r"\n  hello +Say hello from a plugin\.\n", tdtp("--help").out)
    assert command_plugin not in sys.modules


def test_plugin_command_runs(tdtp: Callable[..., Result], command_plugin: str) -> None:
    result = tdtp("hello", "--name", "tdtp")
    assert (result.code, result.out) == (0, "hello tdtp\n")


def test_core_command_module_imported_only_when_run() -> None:
    code = (
        "import sys\nfrom tdtp_core.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED', 'tdtp_core.cli.packets' in sys.modules)"
    )
    assert "LOADED False" in run_python(code)[1]


@pytest.mark.parametrize("module", sorted({c.module for c in CORE_COMMANDS.values()}))
def test_core_module_registers_exactly_its_listed_commands(module: str) -> None:
    app = typer.Typer()
    importlib.import_module(module).register(app)
    registered = {info.name for info in app.registered_commands}
    registered |= {info.name for info in app.registered_groups}  # e.g. ``tdtp dlq list``
    assert registered == {name for name, c in CORE_COMMANDS.items() if c.module == module}


def test_plugin_claiming_core_command_is_reported_in_strict_mode(
    tdtp: Callable[..., Result], fake_dists: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dists.dist("tdtp-cli-show", COMMAND_PLUGIN.replace('"hello"', '"show"'))
    monkeypatch.setenv("TDTP_PLUGINS_STRICT", "1")
    result = tdtp("--help")
    assert result.code == 9
    assert "'show' is registered by both tdtp-core and tdtp-cli-show" in result.err


def test_version(tdtp: Callable[..., Result]) -> None:
    assert tdtp("--version").out.startswith("tdtp ")


# ------------------------------------------------------------------------ errors


def test_tdtp_error_is_one_line_with_its_kind(
    tdtp: Callable[..., Result], command_plugin: str
) -> None:
    result = tdtp("fail")
    assert result.err == "tdtp: query error: --where: unexpected token 'AND' at position 7\n"


def test_tdtp_error_exits_with_its_code(tdtp: Callable[..., Result], command_plugin: str) -> None:
    assert tdtp("fail").code == 6


def test_keyboard_interrupt_exits_130(tdtp: Callable[..., Result], command_plugin: str) -> None:
    assert tdtp("interrupt").code == 130


def test_unknown_command_is_usage_error(tdtp: Callable[..., Result]) -> None:
    assert tdtp("frobnicate").code == 2


def test_console_script_error_has_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tdtp.xml"
    bad.write_text("<not a packet", encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", RUN_MAIN, "verify", str(bad)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 3
    assert result.stderr.startswith("tdtp: packet error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------- plugins


def test_plugins_json_shows_provenance(tdtp: Callable[..., Result], fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN, version="1.2.3")
    listed = {p["distribution"]: p for p in json.loads(tdtp("plugins", "--json").out)}
    assert listed["tdtp-codec-rev"] == {
        "distribution": "tdtp-codec-rev", "version": "1.2.3", "entry_point": "rev",
        "status": "ok", "error": None, "components": {"codecs": ["rev"]},
    }


def test_plugins_json_shows_failed_plugin_and_error(
    tdtp: Callable[..., Result], fake_dists: FakeDists
) -> None:
    fake_dists.dist("tdtp-codec-broken", BROKEN_PLUGIN)
    listed = {p["distribution"]: p for p in json.loads(tdtp("plugins", "--json").out)}
    assert listed["tdtp-codec-broken"]["status"] == "failed"
    assert "needs libfoo" in listed["tdtp-codec-broken"]["error"]


def test_plugins_json_shows_denied_plugin(
    tdtp: Callable[..., Result], fake_dists: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN)
    monkeypatch.setenv("TDTP_PLUGINS_DENY", "rev")
    listed = {p["distribution"]: p for p in json.loads(tdtp("plugins", "--json").out)}
    assert listed["tdtp-codec-rev"]["status"] == "denied"


def test_plugins_text_lists_core(tdtp: Callable[..., Result]) -> None:
    out = tdtp("plugins").out
    assert "tdtp-core" in out and "formats: csv, tdtp" in out


def test_broken_plugin_leaves_other_commands_working(
    tdtp: Callable[..., Result], fake_dists: FakeDists, users_packet: Path, tmp_path: Path
) -> None:
    fake_dists.dist("tdtp-codec-broken", BROKEN_PLUGIN)
    result = tdtp("convert", users_packet, "-o", tmp_path / "u.csv")
    assert result.code == 0
    assert result.err.count("tdtp: warning: plugin 'broken'") == 1


# ------------------------------------------------------------------------ options


@pytest.mark.parametrize(
    ("text", "size"),
    [("1900000", 1900000), ("512KB", 512 * 1024), ("1MB", 1 << 20), ("2k", 2048),
     ("1 MiB", 1 << 20), ("10B", 10)],
)
def test_part_size_accepts_bytes_and_suffixes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["1.5MB", "MB", "0", "-1", "1TB", ""])
def test_part_size_rejects_nonsense(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_size(text)


# ----------------------------------------------------------------------- verify


def test_verify_prints_ok_summary(tdtp: Callable[..., Result], users_packet: Path) -> None:
    result = tdtp("verify", users_packet)
    assert result.code == 0
    assert result.out == f"OK {users_packet}: table users, 1 part(s), 3 row(s)\n"


def test_verify_tampered_packet_fails_with_integrity_code(
    tdtp: Callable[..., Result], tmp_path: Path
) -> None:
    [packet] = write_users(tmp_path / "u.tdtp.xml", integrity=True)
    packet.write_text(packet.read_text(encoding="utf-8").replace("Alice", "Alicx"),
                      encoding="utf-8")
    result = tdtp("verify", packet)
    assert result.code == 4
    assert result.err.startswith("tdtp: integrity error: ") and result.err.count("\n") == 1


def test_verify_incomplete_part_set_fails(tdtp: Callable[..., Result], tmp_path: Path) -> None:
    stream = TableStream.from_rows(USERS, USER_ROWS * 100, table="users")
    parts = write_packets(stream, tmp_path / "big.tdtp.xml", part_size=4096)
    parts[1].unlink()
    result = tdtp("verify", parts[0])
    assert result.code == 3
    assert parts[1].name in result.err


def test_verify_checks_every_set_and_reports_each_failure(
    tdtp: Callable[..., Result], users_packet: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.tdtp.xml"
    bad.write_text("<nope/>", encoding="utf-8")
    result = tdtp("verify", bad, users_packet)
    assert result.code == 3
    assert result.out.startswith(f"OK {users_packet}")
    assert result.err.startswith(f"tdtp: packet error: {bad}")


def test_verify_json(tdtp: Callable[..., Result], users_packet: Path) -> None:
    [entry] = json.loads(tdtp("verify", "--json", users_packet).out)
    assert (entry["ok"], entry["rows"], entry["parts"]) == (True, 3, 1)


# ------------------------------------------------------------------------- show


def test_show_json_has_header_schema_and_rows(
    tdtp: Callable[..., Result], users_packet: Path
) -> None:
    [shown] = json.loads(tdtp("show", "--json", users_packet).out)
    assert (shown["table"], shown["type"], shown["parts"]) == ("users", "reference", 1)
    assert [f["name"] for f in shown["schema"]] == ["id", "name", "balance", "joined"]
    assert shown["rows"][1] == ["2", "Bob", None, "2024-02-03"]


def test_show_limits_rows(tdtp: Callable[..., Result], users_packet: Path) -> None:
    [shown] = json.loads(tdtp("show", "--json", "--rows", "1", users_packet).out)
    assert shown["rows"] == [["1", "Alice", "10.50", "2024-01-02"]]


def test_show_text_has_table_and_fields(tdtp: Callable[..., Result], users_packet: Path) -> None:
    out = tdtp("show", users_packet).out
    assert "table: users" in out and "balance" in out and "Carol, Jr." in out


# ---------------------------------------------------------------------- convert


def test_convert_to_csv(tdtp: Callable[..., Result], users_packet: Path, tmp_path: Path) -> None:
    out = tmp_path / "users.csv"
    assert tdtp("convert", users_packet, "-o", out, "-q").code == 0
    assert out.read_text(encoding="utf-8") == (
        "id,name,balance,joined\n1,Alice,10.50,2024-01-02\n2,Bob,,2024-02-03\n"
        '3,"Carol, Jr.",-3.00,\n'
    )


def test_convert_compresses_with_zstd(
    tdtp: Callable[..., Result], users_packet: Path, tmp_path: Path
) -> None:
    out = tmp_path / "z.tdtp.xml"
    assert tdtp("convert", users_packet, "-o", out, "--compress", "zstd").code == 0
    assert 'compression="zstd"' in out.read_text(encoding="utf-8")
    assert read_packets(out).rows() == USER_ROWS


def test_convert_splits_by_part_size(
    tdtp: Callable[..., Result], tmp_path: Path
) -> None:
    stream = TableStream.from_rows(USERS, USER_ROWS * 100, table="users")
    [source] = write_packets(stream, tmp_path / "all.tdtp.xml")
    result = tdtp("convert", source, "-o", tmp_path / "out" / "p.tdtp.xml", "--part-size",
                  "4KB", "--json")
    outputs = json.loads(result.out)["outputs"]
    assert len(outputs) > 1
    assert len(read_packets(outputs[0]).rows()) == 300


def test_convert_keeps_packet_type_and_reply(
    tdtp: Callable[..., Result], tmp_path: Path
) -> None:
    [source] = write_users(tmp_path / "r.tdtp.xml", packet_type="response", in_reply_to="REQ-1")
    out = tmp_path / "r2.tdtp.xml"
    tdtp("convert", source, "-o", out)
    header = read_packets(out).header
    assert header is not None
    assert (header.packet_type, header.in_reply_to) == ("response", "REQ-1")


def test_convert_packet_option_on_csv_is_config_error(
    tdtp: Callable[..., Result], users_packet: Path, tmp_path: Path
) -> None:
    result = tdtp("convert", users_packet, "-o", tmp_path / "u.csv", "--compress", "zstd")
    assert result.code == 2
    assert "csv files do not support" in result.err


def test_convert_with_denied_codec_names_plugin(
    tdtp: Callable[..., Result], users_packet: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TDTP_PLUGINS_DENY", "tdtp-codec-zstd")
    result = tdtp("convert", users_packet, "-o", tmp_path / "z.xml", "--compress", "zstd")
    assert result.code == 9
    assert "compression 'zstd' needs the plugin tdtp-codec-zstd" in result.err


def test_convert_csv_with_sidecar_to_packet(
    tdtp: Callable[..., Result], users_packet: Path, tmp_path: Path
) -> None:
    csv_file = tmp_path / "users.csv"
    from tdtp_core.formats.csv import CsvFormat

    CsvFormat().write(read_packets(users_packet), csv_file, schema_sidecar=True)
    tdtp("convert", csv_file, "-o", tmp_path / "back.tdtp.xml")
    assert read_packets(tmp_path / "back.tdtp.xml").rows() == USER_ROWS
