"""Fixtures for the packet engine tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tdtp_core import Field, Schema

from .support import build_packet


@pytest.fixture(scope="session")
def make_packet() -> Callable[..., bytes]:
    """Build a hand-made packet (see ``support.build_packet`` for the knobs)."""
    return build_packet


@pytest.fixture
def packet_file(tmp_path: Path) -> Callable[..., Path]:
    """Write packet bytes to a file in ``tmp_path`` and return its path."""

    def write(data: bytes, name: str = "packet.tdtp.xml") -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return write


def _zstd_codec() -> Any:
    from tdtp_core.errors import TdtpError
    from tdtp_core.plugins import get_host

    try:
        return get_host().codec("zstd")
    except TdtpError as exc:
        pytest.skip(f"zstd codec plugin not available: {exc}")


@pytest.fixture(scope="session")
def zstd_codec() -> Any:
    """The zstd codec from the plugin host; tests needing it skip when it is missing."""
    return _zstd_codec()


@pytest.fixture(scope="session")
def users_schema() -> Schema:
    """The schema of spec §1.14: ``id INTEGER key``, ``name TEXT length=100``."""
    return Schema([Field("id", "INTEGER", key=True), Field("name", "TEXT", length=100)])
