"""YAML configuration files checked against a JSON Schema, with errors that name the line.

A rule file mistake must be one line a user can act on (design §6), e.g.
``rules.yaml: line 7: rules.age: 'rang:0-150' does not match ...``. YAML nodes keep their
line numbers, so every JSON path into the loaded data can be traced back to its line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tdtp_core.errors import ConfigError

PathPart = str | int


def dotted(path: Sequence[PathPart]) -> str:
    """``("rules", "sku", 0)`` → ``rules.sku[0]`` (``$`` for the document itself)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "$"


@dataclass
class YamlDocument:
    """A loaded YAML file: its data and the line of every node, by path."""

    path: Path
    data: Any
    lines: dict[tuple[PathPart, ...], int] = field(default_factory=dict)

    def line_of(self, path: Sequence[PathPart]) -> int:
        """The line of the deepest node on ``path`` that the file has (1-based)."""
        key = tuple(path)
        while key not in self.lines and key:
            key = key[:-1]
        return self.lines.get(key, 1)

    def error(self, path: Sequence[PathPart], message: str) -> ConfigError:
        return ConfigError(f"line {self.line_of(path)}: {dotted(path)}: {message}",
                           where=str(self.path))


def _record_lines(node: Any, path: tuple[PathPart, ...], lines: dict[tuple[PathPart, ...], int]
                  ) -> None:
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            _record_lines(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, (*path, i), lines)


def load_yaml(path: str | Path, schema: Mapping[str, Any] | None = None) -> YamlDocument:
    """Read ``path``; if ``schema`` is given, validate the data against it.

    Any problem (unreadable file, YAML syntax, schema violation) raises ``ConfigError``
    naming the file, the line and the key.
    """
    import yaml

    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", where=str(source)
                          ) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", where=str(source)) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigError(f"{line}invalid YAML: {exc.problem or exc.context}",
                          where=str(source)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", where=str(source)) from None
    doc = YamlDocument(source, data)
    if node is not None:
        _record_lines(node, (), doc.lines)
    if schema is not None:
        problem = schema_problem(schema, data)
        if problem is not None:
            raise doc.error(*problem)
    return doc


def schema_problem(schema: Mapping[str, Any], data: Any) -> tuple[list[PathPart], str] | None:
    """The most relevant JSON Schema violation in ``data`` as (path, message), or None."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema).iter_errors(data))
    if error is None:
        return None
    return list(error.absolute_path), error.message
