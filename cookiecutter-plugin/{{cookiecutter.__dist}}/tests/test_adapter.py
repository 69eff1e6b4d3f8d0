"""The ``{{ cookiecutter.name }}`` adapter: tdtp's conformance suite, then a packet imported."""

from collections.abc import Callable
from pathlib import Path

from tdtp_core.packet import read_packets
from tdtp_core.testing import AdapterConformance

from {{ cookiecutter.__module }}.adapter import {{ cookiecutter.__class }}


class Test{{ cookiecutter.__class }}(AdapterConformance):
    plugin = "{{ cookiecutter.__module }}"
    component = "{{ cookiecutter.name }}"
    url_template = "{{ cookiecutter.name }}:///{tmp}/conformance.db"


def test_imports_a_packet(tmp_path: Path, tdtp_packet: Callable[..., list[Path]]) -> None:
    adapter = {{ cookiecutter.__class }}(f"{{ cookiecutter.name }}:///{tmp_path}/shop.db")
    try:
        paths = tdtp_packet([(1, "Ada"), (2, "Grace")], table="people")
        result = adapter.write(read_packets(*paths), create=True)
        assert result.rows == 2 and adapter.read("people").rows() == [(1, "Ada"), (2, "Grace")]
    finally:
        adapter.close()
