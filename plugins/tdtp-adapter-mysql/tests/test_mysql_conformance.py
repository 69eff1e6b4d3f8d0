"""The MySQL/MariaDB adapter passes tdtp's adapter conformance suite on the live server
(skipped without it, failed under CI=true)."""

from __future__ import annotations

import pytest

from tdtp_core.testing import AdapterConformance, services

pytestmark = pytest.mark.mariadb
mariadb_url = services.mariadb_url  # the server fixture: skips, or fails under CI=true


class TestMysqlConformance(AdapterConformance):
    plugin = "tdtp_adapter_mysql"
    component = "mysql"

    @pytest.fixture
    def adapter_url(self, mariadb_url: str) -> str:
        return mariadb_url
