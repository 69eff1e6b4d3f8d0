"""The Python snippets of the plugin author's pages are written as a baked plugin needs
them: its `mypy --strict` refuses a function without annotations, so a copied snippet
must not introduce one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "sdk-docs"
PAGES = ["hooks.md", "plugin-guide.md", "plugins.md", "processors.md",
         "tutorial-processor.md"]
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
_DEF = re.compile(r"^[ \t]*def (\w+)\((.*?)\)([^:\n]*)", re.M | re.S)
#: Parameters that need no annotation; ``...`` stands for ones a snippet leaves out.
_BARE = {"", "self", "cls", "*", "/", "..."}


def _parameters(text: str) -> list[str]:
    """``text`` split at the commas outside brackets."""
    out, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    return [*out, text[start:]]


def unannotated(markdown: str) -> list[str]:
    """The functions of the ```python snippets lacking a parameter or return annotation."""
    found = []
    for block in _BLOCK.findall(markdown):
        for name, params, tail in _DEF.findall(block):
            bare = [p.strip() for p in _parameters(params)
                    if p.strip() not in _BARE and ":" not in p.split("=")[0]]
            if bare or "->" not in tail:
                found.append(f"{name}({params})")
    return found


def test_the_checker_finds_what_strict_mypy_refuses() -> None:
    snippet = """```python
def test_upper(tdtp_stream):
    pass

def bind(self, schema: Schema, options: dict[str, int] = {}) -> Step:
    ...

def load(path: Path):
    ...
```"""
    assert unannotated(snippet) == ["test_upper(tdtp_stream)", "load(path: Path)"]


@pytest.mark.parametrize("page", PAGES)
def test_snippet_functions_are_annotated(page: str) -> None:
    assert unannotated((DOCS / page).read_text()) == []
