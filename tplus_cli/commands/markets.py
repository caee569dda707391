"""`tplus markets`: list the venue's books and show one with its decimals, tick and fees."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tplus_cli.commands import _options

if TYPE_CHECKING:
    from tplus_cli.runtime import Runtime

markets_app = typer.Typer(
    help="List markets and show their decimals, tick size, minimum size and fees.",
    no_args_is_help=False,
    invoke_without_command=True,
)


async def _rows(rt: Runtime, symbol: str | None) -> list[dict[str, object]]:
    from tplus_cli.render.trading import market_row

    async with rt.client() as client:
        symbols = {k: a.symbol for k, a in (await client.assets()).items()}
        if symbol is None:
            markets = await client.markets()
        else:
            markets = [await client.market(await client.resolve_asset(symbol))]
    return [market_row(m, symbols) for m in markets]


def _emit_list(ctx: typer.Context) -> None:
    from tplus_cli.render.trading import MARKET_COLUMNS

    rt = _options.runtime(ctx)
    rt.emit(rt.run(_rows(rt, None)), columns=MARKET_COLUMNS, title="Markets")


@markets_app.callback()
@_options.command_options
def markets(ctx: typer.Context) -> None:
    """List markets (same as `tplus markets list`).

    Example: tplus markets -o json
    """
    if ctx.invoked_subcommand is None:
        _emit_list(ctx)


@markets_app.command("list")
@_options.command_options
def list_markets(ctx: typer.Context) -> None:
    """List every market with its tick size, min size and fees.

    Example: tplus markets list --fields symbol,tick_size
    """
    _emit_list(ctx)


@markets_app.command("show")
@_options.command_options
def show_market(
    ctx: typer.Context,
    symbol: _options.SymbolArg,
) -> None:
    """Show one market's decimals, tick size, min size and fees.

    Example: tplus markets show BTC
    """
    from tplus_cli.render.trading import MARKET_COLUMNS

    rt = _options.runtime(ctx)
    rt.emit(rt.run(_rows(rt, symbol))[0], columns=MARKET_COLUMNS)


def register(app: typer.Typer) -> None:
    """Attach `tplus markets` to the root app."""
    app.add_typer(markets_app, name="markets")
