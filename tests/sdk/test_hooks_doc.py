"""sdk-docs/hooks.md documents every hook of hookspecs.py, and every argument of each,
with a heading, a signature and an example; and no hook that does not exist."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tdtp_core import hookspecs

DOC = Path(__file__).resolve().parents[2] / "sdk-docs" / "hooks.md"
HOOKS = sorted(name for name, fn in vars(hookspecs).items()
               if inspect.isfunction(fn) and hasattr(fn, "tdtp_spec"))
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def sections(text: str, level: str) -> dict[str, str]:
    """Heading text (without backticks) → the body up to the next heading of that level."""
    parts = re.split(rf"^{level} (.+)$", text, flags=re.M)
    return {title.strip().strip("`"): body for title, body in zip(parts[1::2], parts[2::2],
                                                                    strict=True)}


def signature(fn: object) -> str:
    """``def name(arg: Type) -> Ret`` as written in the hookspec (annotations as text)."""
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {fn.__name__}({params}) -> {sig.return_annotation}"  # type: ignore[attr-defined]


def test_hookspecs_has_hooks() -> None:
    assert len(HOOKS) == 6


def test_no_stale_hooks_documented() -> None:
    documented = {t for t in sections(DOC.read_text(), "##") if t.startswith("tdtp_")}
    assert documented == set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_heading_signature_and_example(hook: str) -> None:
    body = sections(DOC.read_text(), "##").get(hook)
    assert body is not None, f"no '## `{hook}`' heading in {DOC.name}"
    blocks = _BLOCK.findall(body)
    fn = getattr(hookspecs, hook)
    assert any(signature(fn) in b for b in blocks), f"{hook}: no signature {signature(fn)!r}"
    assert any("@hookimpl" in b and f"def {hook}(" in b for b in blocks), f"{hook}: no example"


@pytest.mark.parametrize(("hook", "arg"), [
    (hook, arg) for hook in HOOKS
    for arg in inspect.signature(getattr(hookspecs, hook)).parameters])
def test_argument_has_heading_signature_and_example(hook: str, arg: str) -> None:
    body = sections(DOC.read_text(), "##")[hook]
    sub = sections(body, "###").get(arg)
    assert sub is not None, f"{hook}: no '### `{arg}`' heading"
    annotation = inspect.signature(getattr(hookspecs, hook)).parameters[arg].annotation
    blocks = _BLOCK.findall(sub)
    assert any(f"{arg}: {annotation}" in b for b in blocks), f"{hook}({arg}): no signature"
    assert any(f"{arg}." in b and "@hookimpl" in b for b in blocks), f"{hook}({arg}): no example"
