"""tdtp plugin: the ``{{ cookiecutter.name }}`` {{ cookiecutter.kind }}.

Only the hook lives here. tdtp imports this module at every start, so it must import
nothing heavy; the component's own module is imported the first time it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tdtp_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tdtp_core.plugins import Registrar


@hookimpl
def tdtp_register_{{ cookiecutter.kind }}s(registry: Registrar) -> None:
    registry.add(
        "{{ cookiecutter.name }}",
        "{{ cookiecutter.__module }}.{{ cookiecutter.kind }}:{{ cookiecutter.__class }}",
{%- if cookiecutter.kind in ("adapter", "broker") %}
        schemes=("{{ cookiecutter.name }}",),
{%- elif cookiecutter.kind == "format" %}
        extensions=(".jsonl",),
{%- endif %}
    )
