"""`tplus book SYMBOL`: an order-book snapshot as a ladder with cumulative size, spread and mid."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from tplus_cli.commands import _options

if TYPE_CHECKING:
    from tplus_cli.render.trading import BookView
    from tplus_cli.runtime import Runtime


async def _snapshot(rt: Runtime, symbol: str, depth: int) -> BookView:
    from tplus_cli.render.trading import book_view

    async with rt.client() as client:
        asset = await client.resolve_asset(symbol)
        snap = await client.orderbook(asset)
        assets = await client.assets()
    info = assets.get(asset)
    return book_view(
        symbol=info.symbol if info else asset,
        asset_id=asset,
        sequence=snap.sequence,
        bids=snap.bids,
        asks=snap.asks,
        depth=depth,
    )


def _watch(rt: Runtime, symbol: str, depth: int) -> None:
    """Hand over to the live view (commands/book_watch.py, owned by the streams part)."""
    from tplus_cli.commands.book_watch import run_watch

    run_watch(rt, symbol, depth)


def _emit(rt: Runtime, view: BookView) -> None:
    from tplus_cli.render.trading import BOOK_COLUMNS, ladder_table

    fmt = rt.output_format
    if fmt == "json":
        rt.emit(view.to_json())
    elif fmt in ("ndjson", "csv") or rt.options.fields is not None:
        rt.emit(view.rows(), columns=BOOK_COLUMNS)
    else:
        from rich.text import Text

        from tplus_cli.render.console import make_console
        from tplus_cli.render.trading import book_summary

        out = make_console()
        out.print(ladder_table(view))
        out.print(Text(book_summary(view)))


def book(
    ctx: typer.Context,
    symbol: _options.SymbolArg,
    depth: int = typer.Option(
        10, "--depth", "-d", min=1, max=1000, help="Levels per side.", metavar="N"
    ),
    watch: bool = typer.Option(False, "--watch", "-w", help="Keep the view live (TTY)."),
) -> None:
    """Show an order-book snapshot: asks, bids, spread and mid.

    Example: tplus book BTC --depth 5
    """
    rt = _options.runtime(ctx)
    if watch:
        _watch(rt, symbol, depth)
        return
    _emit(rt, rt.run(_snapshot(rt, symbol, depth)))


def register(app: typer.Typer) -> None:
    """Attach `tplus book` to the root app."""
    app.command("book")(_options.command_options(book))
