"""Fixtures shared by the whole core test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The checkout's root directory (where ``pyproject.toml`` lives)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def fixtures_dir(repo_root: Path) -> Path:
    """The shared interoperability fixtures: ``../shared/fixtures`` next to the repo."""
    path = (repo_root / ".." / "shared" / "fixtures").resolve()
    if not path.is_dir():
        pytest.skip(f"interoperability fixtures not found at {path}")
    return path
