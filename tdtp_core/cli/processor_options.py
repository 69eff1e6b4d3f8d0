"""The processor options every data-moving command shares, and their order.

Processors run in the order the user gave them (DECISIONS 14), across option kinds:
``--mask a:hash:s --validate rules.yaml --mask b:card`` masks ``a``, validates, then masks
``b``. Click groups the values of each option, so the command must be registered with
``cls=ProcessingCommand``, which records the options' command-line order::

    from tdtp_core.cli import processor_options as po
    from tdtp_core.processors import apply

    def export(..., mask: po.Mask = None, normalize: po.Normalize = None,
               validate: po.Validate = None, process: po.Process = None) -> None:
        chain = po.processor_chain(mask, normalize, validate, process)  # before any I/O
        stream = apply(stream, chain)

    app.command("export", cls=po.ProcessingCommand)(export)
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

if TYPE_CHECKING:
    from tdtp_core.processors.chain import ProcessorChain

_PANEL = "Processors (run in the order given)"
#: ``ctx.meta`` key: the processor options as (kind, value) pairs in command-line order.
ORDER_KEY = "tdtp.processor_options"
#: The running command's recorded processor options (set by ``ProcessingCommand``).
_RECORDED: ContextVar[list[tuple[str, str]] | None] = ContextVar(ORDER_KEY, default=None)
_FLAGS = {"--mask": "mask", "--normalize": "normalize", "--validate": "validate",
          "--process": "process"}

Mask = Annotated[
    list[str] | None,
    typer.Option(
        "--mask", metavar="FIELD:KIND[:ARGS]", rich_help_panel=_PANEL,
        help="Mask a field: email, phone, card, password, partial[:FIRST:LAST], "
             "fixed[:TEXT], hash[:SALT], null (also the reference's partial, middle, "
             "stars, first2_last2), or F1,F2 to choose by field name. Repeatable.",
    ),
]
Normalize = Annotated[
    list[str] | None,
    typer.Option(
        "--normalize", metavar="FIELD:KIND|RULES.yaml", rich_help_panel=_PANEL,
        help="Normalize a field: phone, e164[:REGION], email, date[:FORMAT], whitespace, "
             "uppercase, lowercase; or a YAML file of 'fields:'. Repeatable.",
    ),
]
Validate = Annotated[
    list[str] | None,
    typer.Option(
        "--validate", metavar="RULES.yaml", rich_help_panel=_PANEL,
        help="Check rows against a YAML rule file; each rule fails the run, drops the "
             "row or routes it to a reject packet. Repeatable.",
    ),
]
Process = Annotated[
    list[str] | None,
    typer.Option(
        "--process", metavar="NAME[:JSON]", rich_help_panel=_PANEL,
        help="Run any installed processor with a JSON object as its config. Repeatable.",
    ),
]


class ProcessingCommand(TyperCommand):
    """A command that records the order of its processor options while it runs."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        original = list(args)
        rest = super().parse_args(ctx, args)
        opts, _, order = self.make_parser(ctx).parse_args(args=original)
        pending = {name: list(values) for name, values in opts.items()
                   if isinstance(values, list)}
        recorded: list[tuple[str, str]] = []
        for param in order:
            kind = next((_FLAGS[o] for o in getattr(param, "opts", ()) if o in _FLAGS), None)
            if kind is not None and param.name is not None and pending.get(param.name):
                recorded.append((kind, pending[param.name].pop(0)))
        ctx.meta[ORDER_KEY] = recorded
        return rest

    def invoke(self, ctx: Any) -> Any:
        token = _RECORDED.set(ctx.meta.get(ORDER_KEY))
        try:
            return super().invoke(ctx)
        finally:
            _RECORDED.reset(token)


def processor_chain(
    mask: list[str] | None = None,
    normalize: list[str] | None = None,
    validate: list[str] | None = None,
    process: list[str] | None = None,
) -> ProcessorChain:
    """The chain for this command's processor options, in command-line order.

    Build it before reading or writing anything, so a bad rule file or a missing plugin
    stops the command before any data moves.
    """
    from tdtp_core.processors import build_chain

    recorded = _RECORDED.get()
    order: list[str] | None = None
    if recorded is not None:
        order = [kind for kind, _ in recorded]
    elif sum(1 for values in (mask, normalize, validate, process) if values) > 1:
        raise RuntimeError(
            "processor options of several kinds need the command registered with "
            "cls=ProcessingCommand, which records their order"
        )
    return build_chain(mask=mask, normalize=normalize, validate=validate, process=process,
                       order=order)
