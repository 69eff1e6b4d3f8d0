"""Fixtures shared by the whole core test suite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tdtp_core.cli.main import main

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


@dataclass
class Result:
    """What one ``tdtp`` command run in-process gave."""

    code: int
    out: str
    err: str


#: The ``tdtp`` fixture: run ``tdtp ARGS…`` in-process.
Run = Callable[..., Result]


@pytest.fixture
def tdtp(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``tdtp ARGS`` in-process through ``main()``, as the console script does: the
    exit code and the captured output."""

    def run(*args: object) -> Result:
        with pytest.raises(SystemExit) as exited:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        code = exited.value.code
        return Result(code if isinstance(code, int) else 0, captured.out, captured.err)

    return run
