"""The PostgreSQL adapter passes tdtp's adapter conformance suite on the live server
(skipped without it, failed under CI=true)."""

from __future__ import annotations

import pytest

from tdtp_core.testing import AdapterConformance, services

pytestmark = pytest.mark.postgres
postgres_url = services.postgres_url  # the server fixture: skips, or fails under CI=true


class TestPostgresConformance(AdapterConformance):
    plugin = "tdtp_adapter_postgres"
    component = "postgresql"

    @pytest.fixture
    def adapter_url(self, postgres_url: str) -> str:
        return postgres_url
