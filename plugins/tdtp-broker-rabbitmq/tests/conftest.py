from tdtp_core.testing.brokers import rabbit_queue, rabbitmq_url  # noqa: F401 - fixtures
