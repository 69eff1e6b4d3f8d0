"""The plugin host: discovery, isolation, strict mode, clashes, allow/deny, lookups."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tdtp_core import hookspecs
from tdtp_core.errors import ConfigError, PluginError, PluginNotFound
from tdtp_core.plugins import PluginHost, get_host
from tests.plugin_support import CODEC_PLUGIN, FakeDists, clean_plugin_env, fake_dists_in

BROKEN_IMPORT = "raise ImportError('needs libfoo')\n"

RAISING_HOOK = """
from tdtp_core.hookspecs import hookimpl

@hookimpl
def tdtp_register_codecs(registry):
    registry.add("early", "MODULE:Nothing")

@hookimpl
def tdtp_register_formats(registry):
    raise RuntimeError("boom")
"""

LAZY_TARGET = """
from tdtp_core.hookspecs import hookimpl

@hookimpl
def tdtp_register_codecs(registry):
    registry.add("lazy", "IMPL:Codec")
"""

IMPL = """
class Codec:
    name = "lazy"
"""

URL_PLUGIN = """
from tdtp_core.hookspecs import hookimpl

@hookimpl
def tdtp_register_adapters(registry):
    registry.add("fake", "MODULE:Adapter", schemes=("fakedb", "fakesql"))

@hookimpl
def tdtp_register_brokers(registry):
    registry.add("fakemq", "MODULE:Adapter", schemes=("fakemq",))

class Adapter:
    def __init__(self, url):
        self.url = url
"""


@pytest.fixture(autouse=True)
def _plugin_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from clean_plugin_env(monkeypatch)


@pytest.fixture
def fake_dists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDists]:
    yield from fake_dists_in(tmp_path, monkeypatch)


def plugin_named(host: PluginHost, dist: str) -> SimpleNamespace:
    [info] = [p for p in host.plugins if p.dist == dist]
    return SimpleNamespace(**info.as_dict())


def module_plugin(**hooks: object) -> SimpleNamespace:
    """A plugin object built from hook functions (marked as hookimpls)."""
    return SimpleNamespace(**{name: hookspecs.hookimpl(fn) for name, fn in hooks.items()})


# ------------------------------------------------------------------ discovery


def test_entry_point_plugin_provides_component(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN)
    assert PluginHost().codec("rev").compress(b"abc") == b"cba"


def test_component_records_distribution_and_version(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN, version="2.5.1")
    component = PluginHost().codecs.get("rev")
    assert (component.dist, component.version) == ("tdtp-codec-rev", "2.5.1")


def test_builtin_formats_registered_like_plugins() -> None:
    info = plugin_named(PluginHost(), "tdtp-core")
    assert info.entry_point == "builtin"
    assert info.components["formats"] == ["csv", "tdtp"]


def test_component_imported_only_on_first_use(fake_dists: FakeDists) -> None:
    impl = fake_dists.module(IMPL)
    fake_dists.dist("tdtp-codec-lazy", LAZY_TARGET.replace("IMPL", impl))
    host = PluginHost()
    assert impl not in sys.modules
    assert host.codecs.load("lazy").name == "lazy"
    assert impl in sys.modules


def test_component_loaded_once(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN)
    host = PluginHost()
    assert host.codecs.load("rev") is host.codecs.load("rev")


def test_names_are_case_insensitive(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN)
    assert PluginHost().codecs.get("REV").name == "rev"


def test_get_host_is_process_wide() -> None:
    assert get_host() is get_host()


# ------------------------------------------------------------------ isolation


def test_broken_import_disables_only_that_plugin(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-broken", BROKEN_IMPORT)
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN)
    host = PluginHost()
    assert host.codec("rev").decompress(b"ba", max_output=9) == b"ab"
    info = plugin_named(host, "tdtp-codec-broken")
    assert info.status == "failed"
    assert "needs libfoo" in info.error


def test_broken_plugin_warns_once_on_stderr(
    fake_dists: FakeDists, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_dists.dist("tdtp-codec-broken", BROKEN_IMPORT)
    host = PluginHost()
    with pytest.raises(PluginNotFound):
        host.codec("broken")
    warnings = [line for line in capsys.readouterr().err.splitlines() if "broken" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("tdtp: warning: plugin 'broken' (tdtp-codec-broken 1.0)")


def test_raising_hook_drops_all_of_that_plugins_components(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-raising", RAISING_HOOK)
    host = PluginHost()
    assert "early" not in host.codecs
    assert "boom" in plugin_named(host, "tdtp-codec-raising").error


def test_malformed_target_disables_plugin() -> None:
    host = PluginHost(autoload=False)
    plugin = module_plugin(tdtp_register_codecs=lambda registry: registry.add("x", "not a path"))
    info = host.register_module(plugin, dist_name="tdtp-codec-x")
    assert info.status == "failed"
    assert "target must be 'module:attribute'" in (info.error or "")


def test_misspelt_hook_disables_plugin() -> None:
    host = PluginHost(autoload=False)
    info = host.register_module(
        module_plugin(tdtp_register_codec=lambda registry: None), dist_name="tdtp-codec-typo"
    )
    assert (info.status, info.error) == ("failed", "unknown hook(s) tdtp_register_codec")


def test_component_failing_to_import_raises_plugin_error() -> None:
    host = PluginHost(autoload=False)
    plugin = module_plugin(
        tdtp_register_codecs=lambda registry: registry.add("ghost", "tdtp_no_such_mod:Codec")
    )
    host.register_module(plugin, dist_name="tdtp-codec-ghost", version="0.3")
    with pytest.raises(PluginError, match=r"'ghost' from tdtp-codec-ghost 0\.3 cannot be imported"):
        host.codec("ghost")


# ---------------------------------------------------------------- strict mode


def test_strict_mode_raises_on_broken_plugin(
    fake_dists: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dists.dist("tdtp-codec-broken", BROKEN_IMPORT)
    monkeypatch.setenv("TDTP_PLUGINS_STRICT", "1")
    with pytest.raises(PluginError, match=r"tdtp-codec-broken 1\.0.*needs libfoo"):
        PluginHost()


def test_strict_mode_raises_on_raising_hook() -> None:
    def hook(registry: object) -> None:
        raise ValueError("bad config")

    host = PluginHost(autoload=False, strict=True)
    with pytest.raises(PluginError, match="bad config"):
        host.register_module(module_plugin(tdtp_register_codecs=hook), dist_name="tdtp-x")


# -------------------------------------------------------------------- clashes


def test_clashing_name_is_unusable_and_names_both_dists(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-one", CODEC_PLUGIN)
    fake_dists.dist("tdtp-codec-two", CODEC_PLUGIN)
    with pytest.raises(PluginError, match="registered by both tdtp-codec-one and tdtp-codec-two"):
        PluginHost().codec("rev")


def test_clash_marks_both_plugins(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-one", CODEC_PLUGIN)
    fake_dists.dist("tdtp-codec-two", CODEC_PLUGIN)
    host = PluginHost()
    assert {plugin_named(host, d).status for d in ("tdtp-codec-one", "tdtp-codec-two")} == {
        "conflict"
    }


def test_clash_leaves_other_components_working(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-one", CODEC_PLUGIN)
    fake_dists.dist("tdtp-codec-two", CODEC_PLUGIN)
    fake_dists.dist("tdtp-codec-other", CODEC_PLUGIN, name="other")
    assert PluginHost().codec("other").compress(b"xy") == b"yx"


def test_clash_in_strict_mode_raises_at_discovery(
    fake_dists: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dists.dist("tdtp-codec-one", CODEC_PLUGIN)
    fake_dists.dist("tdtp-codec-two", CODEC_PLUGIN)
    monkeypatch.setenv("TDTP_PLUGINS_STRICT", "1")
    with pytest.raises(PluginError, match="tdtp-codec-one and tdtp-codec-two"):
        PluginHost()


# ----------------------------------------------------------------- allow/deny


def test_deny_by_distribution_name_skips_import(
    fake_dists: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN)
    monkeypatch.setenv("TDTP_PLUGINS_DENY", "tdtp_codec_rev")
    host = PluginHost()
    assert plugin_named(host, "tdtp-codec-rev").status == "denied"
    assert module not in sys.modules


def test_deny_by_entry_point_name(fake_dists: FakeDists, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN, entry_point="reverser")
    monkeypatch.setenv("TDTP_PLUGINS_DENY", "other, reverser")
    assert "rev" not in PluginHost().codecs


def test_allow_list_loads_only_listed_plugins(
    fake_dists: FakeDists, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN)
    fake_dists.dist("tdtp-codec-other", CODEC_PLUGIN, name="other")
    monkeypatch.setenv("TDTP_PLUGINS_ALLOW", "tdtp-codec-rev")
    host = PluginHost()
    assert "rev" in host.codecs
    assert plugin_named(host, "tdtp-codec-other").status == "denied"


def test_allow_list_keeps_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TDTP_PLUGINS_ALLOW", "tdtp-codec-zstd")
    assert "csv" in PluginHost().formats


def test_deny_wins_over_allow(fake_dists: FakeDists, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN)
    monkeypatch.setenv("TDTP_PLUGINS_ALLOW", "tdtp-codec-rev")
    monkeypatch.setenv("TDTP_PLUGINS_DENY", "tdtp-codec-rev")
    assert "rev" not in PluginHost().codecs


# ----------------------------------------------------------- missing plugins


def test_missing_known_codec_names_package() -> None:
    with pytest.raises(PluginNotFound) as err:
        PluginHost(autoload=False).codec("zstd")
    assert str(err.value) == (
        "compression 'zstd' needs the plugin tdtp-codec-zstd: pip install tdtp-codec-zstd"
    )


@pytest.mark.parametrize(
    ("url", "package"),
    [
        ("sqlite:///demo.db", "tdtp-adapter-sqlite"),
        ("postgres://u:pw@host/db", "tdtp-adapter-postgres"),
        ("postgresql+psycopg://host/db", "tdtp-adapter-postgres"),
        ("mariadb+pymysql://host/db", "tdtp-adapter-mysql"),
        ("mssql+pyodbc://host/db", "tdtp-adapter-mssql"),
    ],
)
def test_missing_adapter_names_package(url: str, package: str) -> None:
    with pytest.raises(PluginNotFound, match=f"needs the plugin {package}: pip install {package}"):
        PluginHost(autoload=False).adapter_for_url(url)


@pytest.mark.parametrize(
    ("url", "package"),
    [("amqp://guest@host/q", "tdtp-broker-rabbitmq"), ("kafka://host:9092/t", "tdtp-broker-kafka")],
)
def test_missing_broker_names_package(url: str, package: str) -> None:
    with pytest.raises(PluginNotFound, match=f"broker '.*' needs the plugin {package}"):
        PluginHost(autoload=False).broker_for_url(url)


@pytest.mark.parametrize("name", ["mask", "normalize", "validate"])
def test_missing_processor_names_package(name: str) -> None:
    with pytest.raises(PluginNotFound, match=f"pip install tdtp-processor-{name}$"):
        PluginHost(autoload=False).processors.load(name)


def test_missing_xlsx_format_names_package() -> None:
    with pytest.raises(PluginNotFound, match="pip install tdtp-format-xlsx"):
        PluginHost(autoload=False).format_for_path("book.XLSX")


def test_unknown_component_lists_available(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-codec-rev", CODEC_PLUGIN)
    with pytest.raises(PluginNotFound, match=r"no plugin provides compression 'lz4' .*rev"):
        PluginHost().codec("lz4")


def test_missing_component_of_denied_plugin_says_so() -> None:
    host = PluginHost(autoload=False, deny=["tdtp-codec-zstd"])
    host.register_module(module_plugin(), dist_name="tdtp-codec-zstd")
    with pytest.raises(PluginNotFound, match="which is disabled by TDTP_PLUGINS_DENY"):
        host.codec("zstd")


def test_missing_component_of_failed_plugin_says_so() -> None:
    def hook(registry: object) -> None:
        raise RuntimeError("no libzstd")

    host = PluginHost(autoload=False)
    host.register_module(module_plugin(tdtp_register_codecs=hook), dist_name="tdtp-codec-zstd")
    with pytest.raises(PluginNotFound, match=r"which failed to load: .*no libzstd"):
        host.codec("zstd")


# ------------------------------------------------------------------- lookups


def test_adapter_chosen_by_url_dialect(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-adapter-fake", URL_PLUGIN)
    adapter = PluginHost().adapter_for_url("fakesql+driver://u@h/db")
    assert adapter.url == "fakesql+driver://u@h/db"


def test_broker_chosen_by_url_scheme(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-broker-fake", URL_PLUGIN)
    assert PluginHost().broker_for_url("fakemq://h/queue").url == "fakemq://h/queue"


def test_scheme_claimed_twice_names_both_dists(fake_dists: FakeDists) -> None:
    fake_dists.dist("tdtp-adapter-one", URL_PLUGIN)
    fake_dists.dist("tdtp-adapter-two", URL_PLUGIN.replace('"fake"', '"fake2"'))
    with pytest.raises(PluginError, match=r"tdtp-adapter-one .*tdtp-adapter-two"):
        PluginHost().adapter_for_url("fakedb://h/db")


def test_url_without_scheme_is_config_error_with_password_masked() -> None:
    with pytest.raises(ConfigError) as err:
        PluginHost(autoload=False).adapter_for_url("user:secret@host/db")
    assert "secret" not in str(err.value)


@pytest.mark.parametrize(
    ("filename", "fmt"),
    [("a.tdtp.xml", "tdtp"), ("a_part_1_of_2.xml", "tdtp"), ("a.TDTP", "tdtp"),
     ("a.tdtp.xml.csv", "csv")],
)
def test_format_chosen_by_longest_extension(filename: str, fmt: str) -> None:
    assert PluginHost().format_for_path(filename).name == fmt


def test_path_without_extension_is_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot tell the file format of 'out'"):
        PluginHost().format_for_path("out")
