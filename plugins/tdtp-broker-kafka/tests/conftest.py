from tdtp_core.testing.brokers import kafka_bootstrap, kafka_topic  # noqa: F401 - fixtures
