"""`tplus trades`: your own fills (price, size, side, maker/taker, fee), oldest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from tplus_cli.commands import _options

if TYPE_CHECKING:
    from tplus_cli.runtime import Runtime


async def _rows(rt: Runtime, symbol: str | None, limit: int) -> list[dict[str, Any]]:
    from tplus_cli.render.trading import trade_row

    async with rt.client(signing=True) as client:
        asset = None if symbol is None else await client.resolve_asset(symbol)
        fills = await client.user_trades(asset, limit=limit)
        symbols = {k: a.symbol for k, a in (await client.assets()).items()}
    # The venue pages newest first; keep the newest `limit` and show them in time order.
    newest = sorted(fills, key=lambda t: (t.timestamp_ns, t.trade_id or 0), reverse=True)[:limit]
    return [trade_row(t, symbols) for t in reversed(newest)]


def trades(
    ctx: typer.Context,
    symbol: _options.SymbolOpt = None,
    limit: int = typer.Option(
        50, "--limit", "-n", min=1, max=1000, help="Most recent N fills.", metavar="N"
    ),
) -> None:
    """List your fills, oldest first (the most recent N).

    Example: tplus trades --symbol BTC --limit 20
    """
    from tplus_cli.render.trading import TRADE_COLUMNS

    rt = _options.runtime(ctx)
    rt.emit(rt.run(_rows(rt, symbol, limit)), columns=TRADE_COLUMNS)


def register(app: typer.Typer) -> None:
    """Attach `tplus trades` to the root app."""
    app.command("trades")(_options.command_options(trades))
