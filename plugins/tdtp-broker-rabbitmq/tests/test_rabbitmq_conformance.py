"""The RabbitMQ broker passes tdtp's broker conformance suite on the live server
(skipped without it, failed under CI=true)."""

from __future__ import annotations

import pytest

from tdtp_core.testing import BrokerConformance

pytestmark = pytest.mark.rabbitmq


class TestRabbitmqConformance(BrokerConformance):
    plugin = "tdtp_broker_rabbitmq"
    component = "rabbitmq"

    @pytest.fixture
    def broker_url(self, rabbit_queue: str) -> str:
        return rabbit_queue
