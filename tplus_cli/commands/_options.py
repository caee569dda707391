"""Options every command shares, and the way a command gets its Runtime.

`-o/--output`, `--fields` and `--yes` work before AND after the subcommand
(`tplus -o json order list` == `tplus order list -o json`); the per-command value wins.
Decorate each command with `@command_options` (under `@app.command()`), take a
`ctx: typer.Context` parameter and call `runtime(ctx)`:

    @group.command("list")
    @command_options
    def list_orders(ctx: typer.Context, symbol: SymbolArg = None) -> None:
        "List open orders.  Example: tplus order list BTC -o json"
        rt = runtime(ctx)
        ...

Completion helpers: `SymbolArg`/`SymbolOpt` complete asset symbols from a static list (no
venue import); `KeyNameArg` completes key names from config_dir()/keys.toml.
Only typer, typing and the stdlib are imported here (this module loads on every TAB).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_type_hints

import typer

if TYPE_CHECKING:
    from tplus_cli.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])

# Canonical local assets (contracts: 0 USDC quote, 1 ETH, 2 BTC, 3 SOL).
KNOWN_SYMBOLS = ("BTC", "ETH", "SOL", "USDC")


class OutputFormat(StrEnum):
    """Values of -o/--output."""

    auto = "auto"
    table = "table"
    json = "json"
    ndjson = "ndjson"
    csv = "csv"


OUTPUT_HELP = "Output: auto (table on a TTY, json when piped), table, json, ndjson, csv. \\[env: TPLUS_OUTPUT]"
FIELDS_HELP = "Comma-separated fields to show, in this order (every output format)."
YES_HELP = "Answer yes to confirmations (required for live/destructive writes without a TTY)."

OutputOpt = Annotated[
    OutputFormat | None,
    typer.Option("-o", "--output", help=OUTPUT_HELP, case_sensitive=False, show_default=False),
]
FieldsOpt = Annotated[str | None, typer.Option("--fields", help=FIELDS_HELP, metavar="A,B,C")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help=YES_HELP)]


def complete_symbol(incomplete: str) -> list[str]:
    """Asset symbols starting with what was typed, in the case it was typed (`b` -> `btc`)."""
    prefix = incomplete.upper()
    matches = [s for s in KNOWN_SYMBOLS if s.startswith(prefix)]
    # Typer filters case-sensitively and assets resolve case-insensitively, so echo the case.
    return [s.lower() for s in matches] if incomplete.islower() else matches


def complete_key_name(incomplete: str) -> list[str]:
    """Key names from keys.toml (no keyring lookup, no secrets)."""
    import os
    import tomllib
    from pathlib import Path

    base = os.environ.get("TPLUS_CONFIG_DIR") or os.path.join(
        os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config"), "tplus"
    )
    try:
        with open(os.path.join(base, "keys.toml"), "rb") as fh:
            names = list(tomllib.load(fh))
    except (OSError, tomllib.TOMLDecodeError):
        names = []
    return [n for n in sorted(names) if n.startswith(incomplete)]


SymbolArg = Annotated[
    str,
    typer.Argument(
        help="Asset: symbol (BTC), index (2) or address@chain.", autocompletion=complete_symbol
    ),
]
SymbolOpt = Annotated[
    str | None,
    typer.Option(
        "--symbol",
        "-s",
        help="Asset: symbol, index or address@chain.",
        autocompletion=complete_symbol,
    ),
]
KeyNameArg = Annotated[str, typer.Argument(help="Key name.", autocompletion=complete_key_name)]


def runtime(ctx: typer.Context) -> Runtime:
    """The invocation's Runtime (built by the root callback; built here if absent, e.g. in tests)."""
    from tplus_cli.runtime import Runtime

    root = ctx.find_root()
    if not isinstance(root.obj, Runtime):
        root.obj = Runtime()
    obj = ctx.obj if isinstance(ctx.obj, Runtime) else root.obj
    assert isinstance(obj, Runtime)
    return obj


def _ctx_param_name(sig: inspect.Signature, hints: dict[str, Any]) -> str | None:
    for name in sig.parameters:
        if hints.get(name) is typer.Context:
            return name
    return None


def command_options(func: F) -> F:
    """Add -o/--output, --fields and --yes to a command; their values override the globals."""
    hints = get_type_hints(func, include_extras=True)
    sig = inspect.signature(func)
    ctx_name = _ctx_param_name(sig, hints)
    params = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values()
    ]
    kw = inspect.Parameter.KEYWORD_ONLY
    extra = [
        inspect.Parameter("tplus_output_", kw, annotation=OutputOpt, default=None),
        inspect.Parameter("tplus_fields_", kw, annotation=FieldsOpt, default=None),
        inspect.Parameter("tplus_yes_", kw, annotation=YesOpt, default=False),
    ]
    if ctx_name is None:
        extra.append(inspect.Parameter("tplus_ctx_", kw, annotation=typer.Context))
    ctx_index = list(sig.parameters).index(ctx_name) if ctx_name is not None else -1
    positional = [p for p in params if p.kind is not kw]
    keyword = [p for p in params if p.kind is kw]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        output: OutputFormat | None = kwargs.pop("tplus_output_", None)
        fields: str | None = kwargs.pop("tplus_fields_", None)
        yes: bool = kwargs.pop("tplus_yes_", False)
        if ctx_name is None:
            ctx = kwargs.pop("tplus_ctx_")
        elif ctx_name in kwargs:
            ctx = kwargs[ctx_name]
        else:  # called directly, e.g. `list_markets(ctx)` from a group callback
            ctx = args[ctx_index]
        runtime(ctx).apply_command_options(
            output=output.value if output is not None else None, fields=fields, yes=yes
        )
        return func(*args, **kwargs)

    new_params = [*positional, *keyword, *extra]
    wrapper.__signature__ = sig.replace(parameters=new_params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in new_params}
    if sig.return_annotation is not inspect.Signature.empty:
        wrapper.__annotations__["return"] = hints.get("return", sig.return_annotation)
    return wrapper  # type: ignore[return-value]
