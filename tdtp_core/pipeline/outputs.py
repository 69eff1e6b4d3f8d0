"""Pipeline outputs: packet files, XLSX/CSV files, a database import, a broker.

Files are written into a staging directory beside their destination and renamed into
place only once every output of the run has succeeded, so a failed run leaves no new
files; a database import is one transaction (DECISIONS 12); broker parts are published
one message each, retried behind the endpoint's circuit breaker.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tdtp_core.errors import ConfigError
from tdtp_core.pipeline.schema import KeyProblem
from tdtp_core.pipeline.sources import resolve_location

if TYPE_CHECKING:
    from tdtp_core.resilience import ResilienceConfig
    from tdtp_core.stream import TableStream

FILE_TYPES = ("tdtp", "xlsx", "csv")
BROKER_TYPES = ("rabbitmq", "kafka", "broker")
OUTPUT_TYPES = (*FILE_TYPES, "database", *BROKER_TYPES)
_PACKET_KEYS = frozenset({"compress", "compress_level", "integrity", "compact", "fixed_fields",
                          "part_size"})
_KEYS: dict[str, frozenset[str]] = {
    "tdtp": frozenset({"destination", "format"}) | _PACKET_KEYS,
    "xlsx": frozenset({"destination", "sheet", "options"}),
    "csv": frozenset({"destination", "options"}),
    "database": frozenset({"url", "table", "strategy", "create"}),
    **dict.fromkeys(BROKER_TYPES, frozenset({"url"}) | _PACKET_KEYS),
}
_SCHEMES = {"rabbitmq": ("amqp", "amqps"), "kafka": ("kafka",)}
_SIZE = re.compile(r"^\s*(\d+)\s*(?:([KMG])(?:i?B)?|B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


@dataclass
class OutputSpec:
    """One checked ``outputs[]`` entry."""

    index: int
    type: str
    result_table: str
    where: str
    destination: Path | None = None
    url: str = ""
    table: str | None = None
    strategy: str = "replace"
    create: bool = False
    sheet: str | None = None
    #: Packet writer options (compress, integrity, compact, fixed_fields, part_size).
    packet: dict[str, Any] = field(default_factory=dict)
    #: Options of the file format (CSV delimiter, XLSX header_types, ...).
    options: dict[str, Any] = field(default_factory=dict)
    #: Written instead when this output fails (framework §8.7.5); never nested.
    fallback: OutputSpec | None = None

    @property
    def target(self) -> str:
        """Where the output goes, password masked."""
        from tdtp_core.sql.urls import mask_url

        if self.destination is not None:
            return str(self.destination)
        suffix = f" (table {self.table or self.result_table})" if self.type == "database" else ""
        return mask_url(self.url) + suffix


def parse_size(value: int | str) -> int:
    """Bytes from ``1900000``, ``"512KB"`` or ``"2MB"`` (1024-based)."""
    if isinstance(value, int):
        size = value
    else:
        m = _SIZE.match(value)
        if not m:
            raise ConfigError(f"{value!r} is not a size; use bytes or e.g. 512KB, 2MB")
        size = int(m.group(1)) * _UNITS[(m.group(2) or "").upper()]
    if size <= 0:
        raise ConfigError("the size must be positive")
    return size


def build_output(raw: Mapping[str, Any], *, index: int, where: str, base: Path,
                 default_table: str, tables: Mapping[str, str],
                 fallback: bool = False) -> OutputSpec:
    """The spec of one schema-valid output entry (without its ``fallback``, which the
    caller builds the same way with ``fallback=True``); ``KeyProblem`` names a wrong
    key."""
    from tdtp_core.plugins import get_host

    kind = str(raw["type"]).lower()  # case-insensitive (framework §12.1)
    if kind not in OUTPUT_TYPES:
        raise KeyProblem(("type",), f"unsupported output type '{kind}', must be one of: "
                                    f"{', '.join(OUTPUT_TYPES)}")
    if fallback and "fallback" in raw:
        raise KeyProblem(("fallback",), "nested fallback is not supported (only one level "
                                        "allowed)")
    allowed = _KEYS[kind] | {"type", "result_table", "fallback"}
    for key in raw:
        if key not in allowed:
            raise KeyProblem((key,), f"'{key}' is not an option of a {kind} output (options: "
                                     f"{', '.join(sorted(allowed))})")
    required = "url" if kind == "database" or kind in BROKER_TYPES else "destination"
    if required not in raw:
        raise KeyProblem((), f"a {kind} output needs '{required}'")
    wanted = str(raw.get("result_table", default_table))
    table = tables.get(wanted.casefold())
    if table is None:
        raise KeyProblem(("result_table" if "result_table" in raw else "type",),
                         f"no source or transform result is named '{wanted}' (tables: "
                         f"{', '.join(sorted(tables.values()))})")
    spec = OutputSpec(index=index, type=kind, result_table=table, where=where,
                      table=raw.get("table"), strategy=str(raw.get("strategy", "replace")),
                      create=bool(raw.get("create", False)), sheet=raw.get("sheet"),
                      options=dict(raw.get("options") or {}))
    if "destination" in raw:
        spec.destination = base / str(raw["destination"])
    if "url" in raw:
        try:
            spec.url = resolve_location(str(raw["url"]), base)
        except ConfigError as exc:
            raise KeyProblem(("url",), exc.message) from None
        schemes = _SCHEMES.get(kind)
        scheme = spec.url.partition("://")[0].lower()
        if schemes is not None and scheme not in schemes:
            raise KeyProblem(("url",), f"a {kind} output needs a {schemes[0]}:// URL, got "
                                       f"{scheme}://")
    for key in _PACKET_KEYS & set(raw):
        value = raw[key]
        if key == "compress":
            value = ("zstd" if value else None) if isinstance(value, bool) else value.lower()
            codecs = get_host().codecs
            if value is not None and value not in codecs:
                known = ", ".join(sorted(codecs.names())) or "none installed"
                raise KeyProblem((key,), f"unknown codec '{value}' (installed: {known})")
        elif key == "part_size":
            try:
                value = parse_size(value)
            except ConfigError as exc:
                raise KeyProblem((key,), exc.message) from None
        spec.packet[key] = value
    return spec


# --------------------------------------------------------------------------- writing


class Staging:
    """Files written beside their destinations under a hidden directory, moved into
    place by :meth:`commit` (rename on one file system) or removed by :meth:`discard`."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(4)
        self._dirs: list[Path] = []
        self._moves: list[tuple[Path, Path]] = []

    def directory(self, destination: Path, index: int) -> Path:
        """A fresh directory on ``destination``'s file system for one output's files."""
        parent = destination.parent
        parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        root = parent / f".tdtp-stage-{self.token}"
        if root not in self._dirs:
            self._dirs.append(root)
        stage = root / str(index)
        stage.mkdir(parents=True)
        return stage

    def add(self, stage: Path, final_dir: Path) -> list[Path]:
        """Every file written into ``stage``, to be moved into ``final_dir``; their final
        paths."""
        finals = []
        for staged in sorted(stage.iterdir(), key=_in_part_order):
            final = final_dir / staged.name
            self._moves.append((staged, final))
            finals.append(final)
        return finals

    def commit(self) -> None:
        for staged, final in self._moves:
            staged.replace(final)
        self.discard()

    def discard(self) -> None:
        for directory in self._dirs:
            shutil.rmtree(directory, ignore_errors=True)
        self._dirs.clear()


def _in_part_order(path: Path) -> list[Any]:
    """``x_part_2_of_10`` before ``x_part_10_of_10``: numbers compare as numbers."""
    return [int(t) if t.isdigit() else t for t in re.split(r"([0-9]+)", path.name)]


@dataclass
class Written:
    """What one output did."""

    rows: int = 0
    files: list[Path] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)


def write_output(spec: OutputSpec, make_stream: Callable[[], TableStream], *,
                 staging: Staging, resilience: ResilienceConfig, source: str) -> Written:
    """Write one output from a fresh stream of its (processed) table."""
    if spec.type in FILE_TYPES:
        return _write_file(spec, make_stream(), staging)
    if spec.type == "database":
        return _write_database(spec, make_stream, resilience)
    from tdtp_core.brokers import send_stream

    sent = send_stream(make_stream(), spec.url, resilience=resilience, source=source,
                       **spec.packet)
    return Written(rows=sent.rows, message_ids=[i for s in sent.sets for i in s.message_ids])


def _write_file(spec: OutputSpec, stream: TableStream, staging: Staging) -> Written:
    import xxhash

    from tdtp_core.packet import WriteOptions, write_packet_files
    from tdtp_core.plugins import get_host

    assert spec.destination is not None
    stage = staging.directory(spec.destination, spec.index)
    written = Written()
    counted = _counting(stream, written)
    if spec.type == "tdtp":
        results = write_packet_files(counted, stage / spec.destination.name,
                                     WriteOptions(**spec.packet))
        packet_hashes = {r.path.name: r.hashes.packet for r in results
                         if r.path is not None and r.hashes is not None}
    else:
        options = dict(spec.options)
        if spec.sheet is not None:
            options["sheet"] = spec.sheet
        try:
            get_host().format(spec.type).write(counted, stage / spec.destination.name,
                                               **options)
        except ConfigError as exc:
            raise exc.at(f"{spec.where}.options") from None
        packet_hashes = {}
    for final in staging.add(stage, spec.destination.parent):
        written.files.append(final)
        data = (stage / final.name).read_bytes()
        written.hashes[str(final)] = "xxh3:" + xxhash.xxh3_128_hexdigest(data)
        if final.name in packet_hashes:
            written.hashes[str(final)] += f" packet:{packet_hashes[final.name]}"
    return written


def _write_database(spec: OutputSpec, make_stream: Callable[[], TableStream],
                    resilience: ResilienceConfig) -> Written:
    from tdtp_core.plugins import get_host
    from tdtp_core.resilience import endpoint_of, guard

    adapter = get_host().adapter_for_url(spec.url)
    try:
        result = guard(endpoint_of(spec.url), lambda: adapter.write(
            make_stream(), table=spec.table or spec.result_table, strategy=spec.strategy,
            create=spec.create), resilience, what=f"import into {spec.target}")
    finally:
        adapter.close()
    return Written(rows=result.rows)


def _counting(stream: TableStream, written: Written) -> TableStream:
    """Count the rows as the writer takes them, on whichever lane it takes."""
    told = stream.progress

    def count(rows: int) -> None:
        written.rows += rows
        if told is not None:
            told(rows)

    stream.progress = count
    return stream
