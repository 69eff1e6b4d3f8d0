"""From command-line option strings to processor specs, and from specs to a chain.

=================================  ============================================
``--mask FIELD:KIND[:ARGS]``       processor ``mask``, ``{"fields": {FIELD: "KIND[:ARGS]"}}``
``--mask F1,F2``                   the reference's form: a mask chosen by field name
``--normalize FIELD:KIND[:ARG]``   processor ``normalize``, ``{"fields": {FIELD: …}}``
``--normalize RULES.yaml``         the reference's rule file (``fields:`` mapping)
``--validate RULES.yaml``          processor ``validate`` configured by the file
``--process NAME[:JSON]``          any registered processor, JSON object as config
=================================  ============================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tdtp_core.errors import ConfigError
from tdtp_core.processors.base import ProcessorConfigError
from tdtp_core.yamlconf import load_yaml

if TYPE_CHECKING:
    from tdtp_core.plugins import PluginHost
    from tdtp_core.processors.chain import ProcessorChain
    from tdtp_core.protocols import Processor

#: The option kinds, by the option that gives them.
KINDS = ("mask", "normalize", "validate", "process")
#: Order used when the caller cannot say in which order the options were given:
#: clean the data, check it, then hide what must not leave.
DEFAULT_ORDER = ("normalize", "validate", "mask", "process")


@dataclass(frozen=True)
class ProcessorSpec:
    """A registered processor's name and its config, inline or from a YAML file."""

    name: str
    config: Mapping[str, Any] | None = None
    file: Path | None = None
    #: The option text this came from (``--mask email:email``), for error messages.
    option: str = ""

    def build(self, host: PluginHost | None = None) -> Processor:
        """Resolve the processor through the registry and configure it."""
        if host is None:
            from tdtp_core.plugins import get_host

            host = get_host()
        cls = host.processors.load(self.name)
        if self.file is not None:
            doc = load_yaml(self.file, cls.config_schema)
            try:
                return cls(doc.data)  # type: ignore[no-any-return]
            except ProcessorConfigError as exc:
                raise doc.error(exc.path, exc.detail) from None
        try:
            return cls(dict(self.config or {}))  # type: ignore[no-any-return]
        except ConfigError as exc:
            raise (exc.at(self.option) if self.option else exc) from None


def _is_rule_file(text: str) -> bool:
    return text.lower().endswith((".yaml", ".yml"))


def _field_rule(option: str, text: str) -> tuple[str, str]:
    name, sep, rule = text.partition(":")
    if not sep or not name.strip() or not rule:
        raise ConfigError(f"expected FIELD:KIND, got {text!r}", where=option)
    return name.strip(), rule


def parse_mask(text: str) -> ProcessorSpec:
    option = f"--mask {text}"
    if ":" not in text:
        names = [n.strip() for n in text.split(",") if n.strip()]
        if not names:
            raise ConfigError("no field named", where=option)
        return ProcessorSpec("mask", {"fields": dict.fromkeys(names, "auto")}, option=option)
    name, rule = _field_rule(option, text)
    return ProcessorSpec("mask", {"fields": {name: rule}}, option=option)


def parse_normalize(text: str) -> ProcessorSpec:
    option = f"--normalize {text}"
    if _is_rule_file(text):
        return ProcessorSpec("normalize", file=Path(text), option=option)
    name, rule = _field_rule(option, text)
    return ProcessorSpec("normalize", {"fields": {name: rule}}, option=option)


def parse_validate(text: str) -> ProcessorSpec:
    return ProcessorSpec("validate", file=Path(text), option=f"--validate {text}")


def parse_process(text: str) -> ProcessorSpec:
    option = f"--process {text}"
    name, sep, raw = text.partition(":")
    name = name.strip()
    if not name:
        raise ConfigError("expected NAME or NAME:JSON", where=option)
    config: Any = {}
    if sep:
        try:
            config = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON config: {exc.msg} at column {exc.colno}",
                              where=option) from None
        if not isinstance(config, dict):
            raise ConfigError("the config must be a JSON object", where=option)
    return ProcessorSpec(name, config, option=option)


_PARSERS = {
    "mask": parse_mask,
    "normalize": parse_normalize,
    "validate": parse_validate,
    "process": parse_process,
}


def _joined(first: ProcessorSpec, then: ProcessorSpec) -> ProcessorSpec | None:
    """Adjacent ``--mask`` (or ``--normalize``) options on different fields as one
    processor, so each batch is transposed once however many fields are masked."""
    if (first.name != then.name or first.name not in ("mask", "normalize")
            or first.config is None or then.config is None):
        return None
    a, b = first.config["fields"], then.config["fields"]
    if set(a) & set(b):
        return None
    return ProcessorSpec(first.name, {"fields": {**a, **b}},
                         option=f"{first.option}, {then.option}")


def parse_option(kind: str, text: str) -> ProcessorSpec:
    """One option value of the given kind (``mask``, ``normalize``, ``validate``, ``process``)."""
    return _PARSERS[kind](text)


def build_chain(
    *,
    mask: Sequence[str] | None = None,
    normalize: Sequence[str] | None = None,
    validate: Sequence[str] | None = None,
    process: Sequence[str] | None = None,
    order: Sequence[str] | None = None,
    host: PluginHost | None = None,
) -> ProcessorChain:
    """The chain for the processor options of a command.

    ``order`` lists the kind of every option value in command-line order (``["mask",
    "validate", "mask"]``), which the CLI records (``ProcessingCommand``); values of one
    kind are taken from their list in turn. Without it, kinds run in ``DEFAULT_ORDER``.
    """
    from tdtp_core.processors.chain import ProcessorChain

    values = {"mask": list(mask or ()), "normalize": list(normalize or ()),
              "validate": list(validate or ()), "process": list(process or ())}
    if order is None:
        order = [kind for kind in DEFAULT_ORDER for _ in values[kind]]
    counts = {kind: 0 for kind in KINDS}
    specs: list[ProcessorSpec] = []
    for kind in order:
        index = counts[kind]
        if index >= len(values[kind]):
            raise ValueError(f"order names more {kind} options than were given")
        counts[kind] += 1
        spec = parse_option(kind, values[kind][index])
        joined = _joined(specs[-1], spec) if specs else None
        if joined is not None:
            specs[-1] = joined
        else:
            specs.append(spec)
    unused = [kind for kind in KINDS if counts[kind] != len(values[kind])]
    if unused:
        raise ValueError(f"order does not account for every {unused[0]} option")
    return ProcessorChain(specs, host=host)
