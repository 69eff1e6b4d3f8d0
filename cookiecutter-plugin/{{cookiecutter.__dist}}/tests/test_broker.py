"""The ``{{ cookiecutter.name }}`` broker: tdtp's conformance suite, then its dead letters."""

from pathlib import Path

from tdtp_core.testing import BrokerConformance

from {{ cookiecutter.__module }}.broker import {{ cookiecutter.__class }}


class Test{{ cookiecutter.__class }}(BrokerConformance):
    plugin = "{{ cookiecutter.__module }}"
    component = "{{ cookiecutter.name }}"
    url_template = "{{ cookiecutter.name }}://{tmp}/{queue}"


def test_rejected_message_goes_to_dead(tmp_path: Path) -> None:
    broker = {{ cookiecutter.__class }}(f"{{ cookiecutter.name }}://{tmp_path}/q")
    broker.publish(b"bad part", {})
    (message,) = broker.consume(timeout=0)
    broker.reject(message, requeue=False)
    assert [p.read_bytes() for p in (tmp_path / "q" / "dead").iterdir()] == [b"{}\nbad part"]
    assert list(broker.consume(timeout=0)) == []
