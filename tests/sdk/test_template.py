"""The plugin template: its variables, the baked file set per kind (exactly what
sdk-docs/plugin-guide.md documents) and, baked in-process, a module that imports and
registers a working component."""

from __future__ import annotations

import importlib
import json
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from tdtp_core import protocols
from tdtp_core.plugins import PluginHost

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "cookiecutter-plugin"
GUIDE = ROOT / "sdk-docs" / "plugin-guide.md"
KINDS = ("adapter", "broker", "processor", "codec", "format")
_DOCUMENTED = re.compile(
    r"^### (\w+) — `kind=(\w+) name=(\w+)`\n\n```text\n(.*?)```", re.M | re.S)


def documented() -> dict[str, tuple[str, list[str]]]:
    """kind → (name baked, files) from the guide's "The baked file set"."""
    found: dict[str, tuple[str, list[str]]] = {}
    for match in _DOCUMENTED.finditer(GUIDE.read_text()):
        assert match[1] == match[2], f"the heading of {match[1]} bakes kind={match[2]}"
        found[match[1]] = (match[3], match[4].split())
    return found


def bake(tmp_path: Path, kind: str, name: str) -> Path:
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(tmp_path),
                             extra_context={"kind": kind, "name": name}))


def test_template_asks_exactly_kind_name_author_description() -> None:
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    assert [k for k in context if not k.startswith("_")] == [
        "kind", "name", "author", "description"]
    assert sorted(context["kind"]) == sorted(KINDS)


def current_requirement() -> str:
    """``tdtp-core>=M.m,<M+1`` for the core version in pyproject.toml."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    major, minor = (int(p) for p in version.split(".")[:2])
    return f"tdtp-core>={major}.{minor},<{major + 1}"


def test_core_requirement_is_the_current_major_version() -> None:
    requirement = json.loads((TEMPLATE / "cookiecutter.json").read_text())["__core_requirement"]
    assert requirement == current_requirement()


def test_plugin_guide_states_the_current_core_requirement() -> None:
    stated = re.findall(r"tdtp-core[<>=!~][^`\s]*", GUIDE.read_text())
    assert stated and set(stated) == {current_requirement()}


@pytest.mark.parametrize("pyproject", sorted((ROOT / "plugins").glob("*/pyproject.toml")),
                         ids=lambda p: p.parent.name)
def test_first_party_plugin_pins_the_current_major_version(pyproject: Path) -> None:
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    assert [d for d in dependencies if d.startswith("tdtp-core")] == [current_requirement()]


def test_every_kind_is_documented() -> None:
    assert sorted(documented()) == sorted(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_baked_file_set_is_the_documented_one(tmp_path: Path, kind: str) -> None:
    name, files = documented()[kind]
    baked = bake(tmp_path, kind, name)
    made = sorted(p.relative_to(tmp_path).as_posix() for p in baked.rglob("*") if p.is_file())
    assert made == sorted(files)


@pytest.mark.parametrize("name", ["Upper", "my-thing", "9lives", "a__b", "x_"])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(FailedHookException):
        bake(tmp_path, "codec", name)


@pytest.fixture
def baked_import(tmp_path: Path) -> Iterator[Path]:
    """A directory on sys.path for baked plugins; their modules are forgotten after."""
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for module in set(sys.modules) - before:
        if module.startswith("tdtp_") and not module.startswith("tdtp_core"):
            del sys.modules[module]


def _instance(kind: str, cls: Any, tmp_path: Path) -> Any:
    if kind == "processor":
        return cls({"fields": ["txt"]})
    if kind in ("adapter", "broker"):
        return cls(f"sdkcheck://{tmp_path}/{kind}")
    return cls()


PROTOCOLS = {"adapter": protocols.Adapter, "broker": protocols.Broker,
             "processor": protocols.Processor, "codec": protocols.Codec,
             "format": protocols.Format}


@pytest.mark.parametrize("kind", KINDS)
def test_baked_module_imports_and_registers_a_working_component(
    baked_import: Path, kind: str
) -> None:
    project = bake(baked_import / "src", kind, "sdkcheck")
    sys.path.insert(0, str(project))
    try:
        plugin = importlib.import_module(f"tdtp_{kind}_sdkcheck")
        host = PluginHost(autoload=False, strict=True)
        info = host.register_module(plugin, dist_name=project.name)
        assert info.components == {f"{kind}s": ["sdkcheck"]}
        cls = getattr(host, f"{kind}s").load("sdkcheck")
        component = _instance(kind, cls, baked_import)
        assert isinstance(component, PROTOCOLS[kind])
        if kind in ("adapter", "broker"):
            component.close()
    finally:
        sys.path.remove(str(project))
