"""The shared server fixtures skip without a server, but fail under ``CI=true``."""

from __future__ import annotations

import pytest

from tdtp_core.testing.services import check_server

NOWHERE = "postgresql+psycopg://u:pw@127.0.0.1:1/x"


def test_an_unreachable_server_skips_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"u:\*\*\*@127.0.0.1:1/x is not reachable"):
        check_server(NOWHERE)


def test_under_ci_an_unreachable_server_fails_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        check_server(NOWHERE)
