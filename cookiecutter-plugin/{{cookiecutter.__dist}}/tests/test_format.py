"""The ``{{ cookiecutter.name }}`` format: tdtp's conformance suite, then a file by hand."""

from pathlib import Path

from tdtp_core.testing import FormatConformance

from {{ cookiecutter.__module }}.format import {{ cookiecutter.__class }}


class Test{{ cookiecutter.__class }}(FormatConformance):
    plugin = "{{ cookiecutter.__module }}"
    component = "{{ cookiecutter.name }}"


def test_reads_plain_json_lines_without_a_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "people.jsonl"
    path.write_text('{"id": 1, "name": "Ada"}\n\n{"id": 2, "name": null}\n', encoding="utf-8")
    stream = {{ cookiecutter.__class }}().read([path])
    assert stream.table == "people" and stream.schema.names == ["id", "name"]
    assert stream.rows() == [("1", "Ada"), ("2", None)]
