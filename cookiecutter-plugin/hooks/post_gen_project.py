"""Keep only the chosen kind's component module and test (documented in
sdk-docs/plugin-guide.md, "The baked file set")."""

from pathlib import Path

KINDS = ("adapter", "broker", "codec", "format", "processor")
KIND = "{{ cookiecutter.kind }}"
MODULE = Path("{{ cookiecutter.__module }}")

for other in KINDS:
    if other != KIND:
        (MODULE / f"{other}.py").unlink()
        (Path("tests") / f"test_{other}.py").unlink()
