"""Read a pipeline file: YAML with line numbers, the JSON Schema, then the rules a schema
cannot say (one kind per source, names that clash, parameters that are not variables).

Every mistake is reported as ``pipeline.yaml:12: sources[1].query: …``, all of them at
once, so a user fixes a file in one pass. The YAML is read from PyYAML's node tree rather
than ``yaml.safe_load``: lines stay known, duplicate keys are errors instead of silently
winning, ``on:``/``yes:`` keys stay text, dates stay text (a bad one such as
``2024-13-01`` is not a crash), and anchors cannot expand into a document bomb.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tdtp_core.errors import ConfigError
from tdtp_core.pipeline.outputs import OutputSpec, build_output
from tdtp_core.pipeline.schema import KeyProblem, schema_problems
from tdtp_core.pipeline.sources import SourceSpec, build_source
from tdtp_core.pipeline.variables import (
    Variable,
    has_interpolation,
    interpolate,
    source_parameters,
    typed_value,
    workspace_parameters,
)
from tdtp_core.pipeline.workspace import Step, parse_type
from tdtp_core.yamlconf import PathPart, dotted

if TYPE_CHECKING:
    from tdtp_core.protocols import Processor
    from tdtp_core.resilience import ResilienceConfig

YamlPath = tuple[PathPart, ...]

#: Nodes a document may expand to (anchors included) and how deep it may nest.
MAX_NODES = 100_000
MAX_DEPTH = 64
#: The reference's processor names → ours.
PROCESSOR_ALIASES = {"field_masker": "mask", "field_normalizer": "normalize",
                     "field_validator": "validate"}
DEFAULT_RESULT = "result"
DEFAULT_TIMEOUT = 300.0
DEFAULT_PARALLEL = 4
RESERVED_PREFIX = "tdtp_"
#: Keys holding SQL: variables reach them only as bound parameters.
_SQL_KEYS = frozenset({"query", "sql"})


class PipelineConfigError(ConfigError):
    """One or more mistakes in a pipeline file, each ``file:line: path: message``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass
class Document:
    """Parsed YAML and the line of every node, by path."""

    file: str
    data: Any
    lines: dict[YamlPath, int] = field(default_factory=dict)

    def line(self, path: Sequence[PathPart]) -> int:
        key = tuple(path)
        while key not in self.lines and key:
            key = key[:-1]
        return self.lines.get(key, 1)

    def where(self, path: Sequence[PathPart]) -> str:
        """``pipeline.yaml:12: sources[1]``."""
        return f"{self.file}:{self.line(path)}: {dotted(path)}"


class _Problem(Exception):
    def __init__(self, path: YamlPath, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.line = line


# ------------------------------------------------------------------------------ YAML

_SCALARS = "tag:yaml.org,2002:"


class _Builder:
    """Python data from a composed node tree, recording lines."""

    def __init__(self) -> None:
        import yaml

        self.constructor = yaml.constructor.SafeConstructor()
        self.lines: dict[YamlPath, int] = {}
        self.count = 0

    def build(self, node: Any, path: YamlPath, depth: int = 0) -> Any:
        import yaml

        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)
        self.count += 1
        if self.count > MAX_NODES:
            raise _Problem(path, f"the document expands to more than {MAX_NODES} nodes", line)
        if depth > MAX_DEPTH:
            raise _Problem(path, f"nested more than {MAX_DEPTH} levels deep", line)
        if isinstance(node, yaml.MappingNode):
            if node.tag != _SCALARS + "map":
                raise _Problem(path, f"unsupported YAML tag {node.tag}", line)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Problem(path, "a key must be plain text",
                                   key_node.start_mark.line + 1)
                key = str(key_node.value)
                key_line = key_node.start_mark.line + 1
                if key == "<<":
                    raise _Problem(path, "YAML merge keys (<<) are not supported", key_line)
                if key in out:
                    raise _Problem((*path, key), "the key appears twice", key_line)
                out[key] = self.build(value_node, (*path, key), depth + 1)
                self.lines[(*path, key)] = key_line
            return out
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SCALARS + "seq":
                raise _Problem(path, f"unsupported YAML tag {node.tag}", line)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self.scalar(node, path, line)

    def scalar(self, node: Any, path: YamlPath, line: int) -> Any:
        import yaml

        kind = node.tag.removeprefix(_SCALARS)
        constructors: dict[str, Callable[[Any], Any]] = {
            "bool": self.constructor.construct_yaml_bool,
            "int": self.constructor.construct_yaml_int,
            "float": self.constructor.construct_yaml_float,
        }
        if kind in ("str", "timestamp"):  # dates stay text: variables parse them typed
            return str(node.value)
        if kind == "null":
            return None
        if kind in constructors:
            try:
                return constructors[kind](node)
            except (ValueError, ArithmeticError, yaml.YAMLError):
                raise _Problem(path, f"{node.value!r} is not a valid {kind}", line) from None
        raise _Problem(path, f"unsupported YAML tag {node.tag}", line)


def read_document(text: str, file: str) -> Document:
    """Parse YAML text; any problem is a ``PipelineConfigError`` naming the line."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = exc.problem or exc.context or "invalid YAML"
        raise PipelineConfigError([f"{file}:{line}: invalid YAML: {reason}"]) from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()
        raise PipelineConfigError(
            [f"{file}:1: invalid YAML: {first[0] if first else 'unreadable'}"]) from None
    except RecursionError:
        raise PipelineConfigError([f"{file}:1: invalid YAML: nested too deeply"]) from None
    if node is None:
        raise PipelineConfigError([f"{file}:1: the file is empty"])
    builder = _Builder()
    try:
        data = builder.build(node, ())
    except _Problem as problem:
        line = problem.line or builder.lines.get(problem.path, 1)
        raise PipelineConfigError(
            [f"{file}:{line}: {dotted(problem.path)}: {problem.message}"]) from None
    return Document(file, data, builder.lines)


# -------------------------------------------------------------------------- pipeline


@dataclass
class Pipeline:
    """A checked pipeline, variables resolved: what the runner runs."""

    file: Path
    name: str
    version: str
    description: str
    variables: dict[str, Variable]
    sources: list[SourceSpec]
    workspace_path: Path | None
    steps: list[Step]
    transform_timeout: float
    processors: list[ProcessorItem]
    outputs: list[OutputSpec]
    resilience: ResilienceConfig
    parallel: int
    batch_size: int



@dataclass(frozen=True)
class ProcessorItem:
    """A configured processor and where the file declares it."""

    processor: Processor
    where: str


class _Checker:
    """Collects problems with their lines instead of stopping at the first."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.problems: list[tuple[int, str]] = []

    def add(self, path: Sequence[PathPart], message: str) -> None:
        self.problems.append((self.doc.line(path), f"{self.doc.where(path)}: {message}"))

    def fail_if_any(self) -> None:
        if self.problems:
            ordered = sorted(dict.fromkeys(self.problems), key=lambda p: p[0])
            raise PipelineConfigError([text for _, text in ordered])


def load_pipeline(path: str | os.PathLike[str], *, variables: Mapping[str, str] | None = None,
                  env: Mapping[str, str] | None = None) -> Pipeline:
    """Read and check a pipeline file; ``variables`` are the ``--var`` values."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"pipeline file {str(file)!r} not found") from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", where=str(file)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", where=str(file)) from None
    return parse_pipeline(text, file=file, variables=variables, env=env)


def parse_pipeline(text: str, *, file: str | os.PathLike[str] = "pipeline.yaml",
                   variables: Mapping[str, str] | None = None,
                   env: Mapping[str, str] | None = None) -> Pipeline:
    """Check pipeline YAML text; relative paths are relative to ``file``'s directory."""
    path = Path(file)
    doc = read_document(text, str(file))
    check = _Checker(doc)
    if not isinstance(doc.data, dict):
        check.add((), "a pipeline is a mapping (name, sources, transform, outputs, ...)")
        check.fail_if_any()
    for problem_path, message in schema_problems(doc.data):
        check.add(problem_path, message)
    check.fail_if_any()
    return _Build(doc, check, path, dict(variables or {}),
                  os.environ if env is None else env).pipeline()


class _Build:
    """Turns schema-valid data into a :class:`Pipeline`, collecting the problems."""

    def __init__(self, doc: Document, check: _Checker, file: Path, given: dict[str, str],
                 env: Mapping[str, str]) -> None:
        self.doc, self.check, self.file, self.given, self.env = doc, check, file, given, env
        self.data: dict[str, Any] = doc.data
        self.base = file.parent

    def pipeline(self) -> Pipeline:
        from tdtp_core.resilience import load_resilience, parse_resilience

        variables = self.variables()
        self.check.fail_if_any()
        data = self.interpolated(self.data, (), variables)
        self.check.fail_if_any()
        policy = (data.get("error_handling") or {}).get("on_source_error", "fail")
        sources = [self.source(s, i, variables, "skip" if policy == "continue" else policy)
                   for i, s in enumerate(data["sources"])]
        self.unique([s.name for s in sources], "sources", "name", "source")
        steps, timeout = self.transform(data["transform"], variables, sources)
        tables = {s.name.casefold(): s.name for s in sources}
        tables.update({s.result_table.casefold(): s.result_table for s in steps}
                      or {DEFAULT_RESULT: DEFAULT_RESULT})  # no cascade from a bad transform
        processors = self.processors(data.get("processors") or [])
        outputs = [self.output(o, i, steps[-1].result_table if steps else DEFAULT_RESULT,
                               tables) for i, o in enumerate(data["outputs"])]
        workspace = self.workspace(data.get("workspace") or {})
        performance = data.get("performance") or {}
        parallel = performance.get("parallel_sources", DEFAULT_PARALLEL)
        if isinstance(parallel, bool):
            parallel = DEFAULT_PARALLEL if parallel else 1
        resilience: ResilienceConfig | None = None
        try:
            resilience = (parse_resilience(data["resilience"]) if "resilience" in data
                          else load_resilience())
        except ConfigError as exc:
            self.check.add(("resilience",), exc.message)
        self.check.fail_if_any()
        assert resilience is not None
        version = data.get("version", "1.0")
        return Pipeline(
            file=self.file, name=data["name"],
            version=version if isinstance(version, str) else str(version),
            description=data.get("description", ""), variables=variables, sources=sources,
            workspace_path=workspace, steps=steps, transform_timeout=timeout,
            processors=processors, outputs=outputs, resilience=resilience,
            parallel=int(parallel), batch_size=int(performance.get("batch_size", 5000)),
        )

    # ------------------------------------------------------------------- variables

    def variables(self) -> dict[str, Variable]:
        declared: dict[str, Any] = self.data.get("variables") or {}
        out: dict[str, Variable] = {}
        for name in self.given:
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                self.check.add(("variables",), f"--var {name}: no such variable is declared "
                                               f"(declared: {known})")
        for name, spec in declared.items():
            path: YamlPath = ("variables", name)
            type_name = spec["type"]
            if name in self.given:
                raw: Any = self.given[name]
                origin = f"--var {name}"
            elif "default" in spec:
                raw = spec["default"]
                path = (*path, "default")
                origin = "default"
                if isinstance(raw, str):
                    try:
                        raw = interpolate(raw, {}, self.env)
                    except ConfigError as exc:
                        self.check.add(path, exc.message)
                        continue
            else:
                self.check.add(path, f"variable '{name}' needs a value: give --var "
                                     f"{name}=VALUE or a default")
                continue
            try:
                text, value, fld = typed_value(type_name, raw)
            except ConfigError as exc:
                self.check.add(path, f"{origin}: {exc.message}")
                continue
            out[name] = Variable(name, type_name, text, value, fld.replace(name=name))
        return out

    def interpolated(self, value: Any, path: YamlPath, variables: Mapping[str, Variable]
                     ) -> Any:
        """``value`` with ``${NAME}`` replaced in every string but SQL and defaults."""
        if isinstance(value, dict):
            if path == ("variables",):
                return value
            return {k: self.interpolated(v, (*path, k), variables) for k, v in value.items()}
        if isinstance(value, list):
            return [self.interpolated(v, (*path, i), variables) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        if path and path[-1] in _SQL_KEYS:
            found = has_interpolation(value)
            if found is not None:
                self.check.add(path, f"{found} would splice text into SQL; variables reach "
                                     "SQL only as bound parameters (:name)")
            return value
        try:
            return interpolate(value, variables, self.env)
        except ConfigError as exc:
            self.check.add(path, exc.message)
            return value

    def check_parameters(self, path: YamlPath, names: Sequence[str],
                         variables: Mapping[str, Variable]) -> None:
        for name in names:
            bare = name[1:]
            if not name.startswith(":") or not bare:
                self.check.add(path, f"parameter {name}: write variables as :name")
            elif bare not in variables:
                known = ", ".join(f":{v}" for v in sorted(variables)) or "none declared"
                self.check.add(path, f"parameter :{bare} is not a declared variable "
                                     f"(variables: {known})")

    # --------------------------------------------------------------------- sections

    def unique(self, names: Sequence[str], section: str, key: str, noun: str) -> None:
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            folded = name.casefold()
            if folded.startswith(RESERVED_PREFIX):
                self.check.add((section, i, key), f"names starting with '{RESERVED_PREFIX}' "
                                                   "are reserved for tdtp's own tables")
            if folded in seen:
                self.check.add((section, i, key), f"{noun} '{name}' is already defined at "
                                                   f"{section}[{seen[folded]}]")
            seen.setdefault(folded, i)

    def source(self, raw: dict[str, Any], i: int, variables: Mapping[str, Variable],
               policy: str) -> SourceSpec:
        path: YamlPath = ("sources", i)
        if "query" in raw:
            self.check_parameters((*path, "query"), [f":{n}" for n in
                                                     source_parameters(raw["query"])],
                                  variables)
        try:
            return build_source(raw, where=self.doc.where(path), base=self.base,
                                default_policy=policy)
        except KeyProblem as problem:
            self.check.add((*path, *problem.keys), problem.message)
        except ConfigError as exc:
            self.check.add(path, exc.message)
        return SourceSpec(name=raw["name"], kind="invalid", where=self.doc.where(path))

    def transform(self, raw: dict[str, Any], variables: Mapping[str, Variable],
                  sources: Sequence[SourceSpec]) -> tuple[list[Step], float]:
        path: YamlPath = ("transform",)
        timeout = float(raw.get("timeout", DEFAULT_TIMEOUT))
        if "steps" in raw:
            for key in ("sql", "result_table", "key", "types"):
                if key in raw:
                    self.check.add((*path, key), "goes into each step when steps are given")
            items = [(s, (*path, "steps", j)) for j, s in enumerate(raw["steps"])]
        elif "sql" in raw:
            items = [(raw, path)]
        else:
            self.check.add(path, "needs sql (one statement) or steps")
            return [], timeout
        steps: list[Step] = []
        for j, (step, step_path) in enumerate(items):
            last = j == len(items) - 1
            name = step.get("result_table", DEFAULT_RESULT if last else f"step{j + 1}")
            if "result_table" not in step and not last:
                self.check.add(step_path, "needs result_table: later steps and outputs read "
                                          "the step's result by that name")
            sql = step["sql"]
            self.check_parameters((*step_path, "sql"), workspace_parameters(sql), variables)
            types = {}
            for column, text in (step.get("types") or {}).items():
                try:
                    types[column] = parse_type(column, text)
                except ConfigError as exc:
                    self.check.add((*step_path, "types", column), exc.message)
            steps.append(Step(name, sql, tuple(step.get("key") or ()), types,
                              self.doc.where(step_path)))
        names = [s.name for s in sources] + [s.result_table for s in steps]
        for j, step in enumerate(steps):
            folded = step.result_table.casefold()
            step_path = (*path, "steps", j) if "steps" in raw else path
            if folded.startswith(RESERVED_PREFIX):
                self.check.add((*step_path, "result_table"),
                               f"names starting with '{RESERVED_PREFIX}' are reserved")
            if [n.casefold() for n in names].count(folded) > 1:
                self.check.add((*step_path, "result_table"),
                               f"'{step.result_table}' is already the name of a source or "
                               "another step")
        return steps, timeout

    def processors(self, raw: list[dict[str, Any]]) -> list[ProcessorItem]:
        from tdtp_core.plugins import get_host
        from tdtp_core.processors import ProcessorConfigError, ProcessorSpec

        host = get_host()
        out: list[ProcessorItem] = []
        for i, item in enumerate(raw):
            path: YamlPath = ("processors", i)
            name = PROCESSOR_ALIASES.get(item["type"], item["type"])
            if name not in host.processors:
                known = ", ".join(sorted(host.processors.names())) or "none installed"
                self.check.add((*path, "type"), f"unknown processor '{item['type']}' "
                                                f"(installed: {known})")
                continue
            params = dict(item.get("params") or {})
            try:
                processor = ProcessorSpec(name, params).build(host)
            except ProcessorConfigError as exc:
                self.check.add((*path, "params", *exc.path), exc.detail)
                continue
            except ConfigError as exc:
                self.check.add((*path, "params"), exc.message)
                continue
            out.append(ProcessorItem(processor, self.doc.where(path)))
        return out

    def output(self, raw: dict[str, Any], i: int, default_table: str,
               tables: Mapping[str, str]) -> OutputSpec:
        path: YamlPath = ("outputs", i)
        spec = self._output(raw, i, path, default_table, tables, fallback=False)
        if "fallback" in raw:
            spec.fallback = self._output(raw["fallback"], i, (*path, "fallback"),
                                         spec.result_table, tables, fallback=True)
        return spec

    def _output(self, raw: dict[str, Any], i: int, path: YamlPath, default_table: str,
                tables: Mapping[str, str], *, fallback: bool) -> OutputSpec:
        try:
            return build_output(raw, index=i, where=self.doc.where(path), base=self.base,
                                default_table=default_table, tables=tables,
                                fallback=fallback)
        except KeyProblem as problem:
            self.check.add((*path, *problem.keys), problem.message)
        except ConfigError as exc:
            self.check.add(path, exc.message)
        return OutputSpec(index=i, type="invalid", result_table=default_table,
                          where=self.doc.where(path))

    def workspace(self, raw: dict[str, Any]) -> Path | None:
        mode = raw.get("mode", "file" if "path" in raw else "memory")
        if mode == "file" and "path" not in raw:
            self.check.add(("workspace", "mode"), "mode file needs a path")
            return None
        if mode == "memory":
            if "path" in raw:
                self.check.add(("workspace", "path"), "a path makes a file workspace; "
                                                      "remove 'mode: memory'")
            return None
        return self.base / str(raw["path"])


