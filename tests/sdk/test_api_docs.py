"""sdk-docs/api/ is what sdk-docs/gen_api.py makes from the docstrings now."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "sdk-docs" / "gen_api.py"


def test_api_reference_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_api", SCRIPT)
    assert spec is not None and spec.loader is not None
    gen_api = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_api)
    stale = gen_api.stale()
    assert not stale, f"regenerate with: python sdk-docs/gen_api.py (stale: {stale})"
