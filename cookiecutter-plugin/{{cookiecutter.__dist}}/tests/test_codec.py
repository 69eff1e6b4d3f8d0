"""The ``{{ cookiecutter.name }}`` codec: tdtp's conformance suite, then a packet written with it."""

from collections.abc import Callable
from pathlib import Path

from tdtp_core.packet import read_packets
from tdtp_core.plugins import PluginHost, PluginInfo
from tdtp_core.testing import CodecConformance


class Test{{ cookiecutter.__class }}(CodecConformance):
    plugin = "{{ cookiecutter.__module }}"
    component = "{{ cookiecutter.name }}"


def test_packet_round_trip(tdtp_packet: Callable[..., list[Path]]) -> None:
    paths = tdtp_packet([(1, "Ada"), (2, "Grace")], compress="{{ cookiecutter.name }}")
    assert b'compression="{{ cookiecutter.name }}"' in paths[0].read_bytes()
    assert read_packets(*paths).rows() == [(1, "Ada"), (2, "Grace")]


def test_registered(tdtp_host: PluginHost, register_plugin: Callable[..., PluginInfo]) -> None:
    register_plugin("{{ cookiecutter.__module }}")
    assert tdtp_host.codec("{{ cookiecutter.name }}").name == "{{ cookiecutter.name }}"
