"""The ``{{ cookiecutter.name }}`` processor: tdtp's conformance suite, then its own behaviour."""

from collections.abc import Callable
from typing import Any, ClassVar

from tdtp_core.stream import TableStream
from tdtp_core.testing import ProcessorConformance

from {{ cookiecutter.__module }}.processor import {{ cookiecutter.__class }}


class Test{{ cookiecutter.__class }}(ProcessorConformance):
    plugin = "{{ cookiecutter.__module }}"
    component = "{{ cookiecutter.name }}"
    config: ClassVar[dict[str, Any]] = {"fields": ["txt"]}


def test_upper_cases_the_chosen_fields(tdtp_stream: Callable[..., TableStream]) -> None:
    stream = tdtp_stream([(1, "ada", "x"), (2, None, "y")])
    out = {{ cookiecutter.__class }}({"fields": ["c2"]}).process(stream)
    assert out.rows() == [(1, "ADA", "x"), (2, None, "y")]
