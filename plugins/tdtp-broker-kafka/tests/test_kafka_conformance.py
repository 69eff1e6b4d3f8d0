"""The Kafka broker passes tdtp's broker conformance suite on a Tansu broker the test
session starts (skipped without it, failed under CI=true)."""

from __future__ import annotations

import pytest

from tdtp_core.testing import BrokerConformance

pytestmark = pytest.mark.kafka


class TestKafkaConformance(BrokerConformance):
    plugin = "tdtp_broker_kafka"
    component = "kafka"

    @pytest.fixture
    def broker_url(self, kafka_topic: str) -> str:
        return kafka_topic
