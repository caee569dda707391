"""`tplus order` (hidden alias `tplus orders`): place, change, cancel and list orders.

Thin: check flags (commands/_order_input.py), confirm, run the flow (commands/_order_flows.py)
and emit rows (render/trading.py). Writes confirm on live profiles; cancel-all always asks.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import typer

from tplus_cli.commands import _options
from tplus_cli.errors import RejectedError, UsageError

if TYPE_CHECKING:
    from tplus_cli.runtime import Runtime

order_app = typer.Typer(help="Place, change, cancel and list orders.", no_args_is_help=True)

CANCEL_COLUMNS = ("order_id", "symbol", "side", "status", "error")

# Negative numbers ("-0.01") would otherwise be parsed as unknown options; let them through
# as arguments so they get the real error ("quantity must be greater than zero").
NUMERIC_ARGS: dict[str, Any] = {"ignore_unknown_options": True}

OrderIdArg = typer.Argument(..., help="The order id (as printed by place or list).")


def _emit_order(rt: Runtime, row: dict[str, Any]) -> None:
    from tplus_cli.render.trading import ORDER_COLUMNS

    rt.emit(row, columns=ORDER_COLUMNS)


@order_app.command("place", context_settings=NUMERIC_ARGS)
@_options.command_options
def place(
    ctx: typer.Context,
    symbol: _options.SymbolArg,
    side: str = typer.Argument(..., help="buy or sell."),
    quantity: str = typer.Argument(..., help="Base quantity in human units (0.01)."),
    price: str | None = typer.Option(
        None, "--price", help="Limit price (a limit order).", metavar="PRICE"
    ),
    market: bool = typer.Option(False, "--market", help="Market order (no price)."),
    tif: str | None = typer.Option(
        None, "--tif", help="Time in force (default gtc).", metavar="gtc|gtd|ioc|fok"
    ),
    until: str | None = typer.Option(
        None, "--until", help="Expiry: ISO-8601 or 30s/5m/2h/1d; implies gtd.", metavar="TIME"
    ),
    post_only: bool = typer.Option(False, "--post-only", help="Reject if it would take."),
    reduce_only: bool = typer.Option(False, "--reduce-only", help="Only reduce a position."),
    quote: bool = typer.Option(False, "--quote", help="QTY is in quote units (market only)."),
    max_slippage: str | None = typer.Option(
        None,
        "--max-slippage",
        metavar="AMOUNT",
        help="Market only: cap on the quote spent (or, with --quote, the base sold).",
    ),
    stop_above: str | None = typer.Option(
        None, "--stop-above", help="Trigger when the price rises to P.", metavar="P"
    ),
    stop_below: str | None = typer.Option(
        None, "--stop-below", help="Trigger when the price falls to P.", metavar="P"
    ),
    client_id: str | None = typer.Option(
        None, "--client-id", help="Fix the order id (≤24 bytes).", metavar="ID"
    ),
    sub_account: int = typer.Option(
        1, "--sub-account", min=0, help="Target sub-account.", metavar="N"
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the signed request; send nothing."
    ),
) -> None:
    """Place a limit or market order.

    Example: tplus order place BTC buy 0.01 --price 65000
    """
    from tplus_cli.commands import _order_flows as flows
    from tplus_cli.commands._order_input import plan_order

    plan = plan_order(
        side=side,
        quantity=quantity,
        price=price,
        market=market,
        tif=tif,
        until=until,
        post_only=post_only,
        reduce_only=reduce_only,
        quote=quote,
        max_slippage=max_slippage,
        stop_above=stop_above,
        stop_below=stop_below,
        now_ns=time.time_ns(),
    )
    if client_id is not None and not 0 < len(client_id.encode()) <= 24:
        raise UsageError("--client-id must be 1 to 24 bytes")
    rt = _options.runtime(ctx)
    if dry_run:
        request = rt.run(flows.dry_run(rt, symbol, plan, client_id, sub_account))
        _print_request(request, compact=rt.output_format == "ndjson")
        return
    rt.confirm_write(f"Place {plan.describe(symbol)} on sub-account {sub_account}?")
    row = rt.run(flows.place(rt, symbol, plan, client_id, sub_account))
    if row.get("status") == "cancelled" and not row.get("filled"):
        rt.notice(f"Order {row['order_id']} ended with nothing filled (no match at that price).")
    _emit_order(rt, row)


def _print_request(request: dict[str, Any], *, compact: bool) -> None:
    """--dry-run output: the request as JSON whatever -o says (one line under -o ndjson)."""
    import sys

    from tplus_cli.render.jsonout import dumps_json, iter_ndjson

    text = next(iter_ndjson([request])) if compact else dumps_json(request)
    sys.stdout.write(text + "\n")


@order_app.command("cancel")
@_options.command_options
def cancel(
    ctx: typer.Context, order_id: str = OrderIdArg, symbol: _options.SymbolOpt = None
) -> None:
    """Cancel one order (its market is looked up if not given).

    Example: tplus order cancel 'whYvUPcmRXScelNpu06Fng=='
    """
    from tplus_cli.commands import _order_flows as flows

    rt = _options.runtime(ctx)
    rt.confirm_write(f"Cancel order {order_id}?")
    rt.emit(rt.run(flows.cancel(rt, order_id, symbol)), columns=("order_id", "status"))


@order_app.command("replace")
@_options.command_options
def replace(
    ctx: typer.Context,
    order_id: str = OrderIdArg,
    price: str | None = typer.Option(None, "--price", help="New limit price.", metavar="PRICE"),
    qty: str | None = typer.Option(
        None, "--qty", help="New lifetime-total quantity.", metavar="QTY"
    ),
    symbol: _options.SymbolOpt = None,
) -> None:
    """Replace an order's price and/or quantity (others kept).

    Example: tplus order replace 'whYvUPcmRXScelNpu06Fng==' --price 64900
    """
    from tplus_cli.commands import _order_flows as flows
    from tplus_cli.commands._order_input import parse_amount

    if price is None and qty is None:
        raise UsageError("give --price and/or --qty")
    new_price = None if price is None else parse_amount(price, what="--price")
    new_qty = None if qty is None else parse_amount(qty, what="--qty")
    terms = [f"price {new_price}"] if new_price is not None else []
    terms += [f"quantity {new_qty}"] if new_qty is not None else []
    rt = _options.runtime(ctx)
    rt.confirm_write(f"Replace order {order_id} with {' and '.join(terms)}?")
    _emit_order(rt, rt.run(flows.replace(rt, order_id, symbol, new_price, new_qty)))


@order_app.command("amend")
@_options.command_options
def amend(
    ctx: typer.Context,
    order_id: str = OrderIdArg,
    qty: str = typer.Option(
        ..., "--qty", help="New, smaller lifetime-total quantity.", metavar="QTY"
    ),
    symbol: _options.SymbolOpt = None,
) -> None:
    """Reduce an order's quantity without losing its place.

    Example: tplus order amend 'whYvUPcmRXScelNpu06Fng==' --qty 0.005
    """
    from tplus_cli.commands import _order_flows as flows
    from tplus_cli.commands._order_input import parse_amount

    new_qty = parse_amount(qty, what="--qty")
    rt = _options.runtime(ctx)
    rt.confirm_write(f"Amend order {order_id} to quantity {new_qty}?")
    _emit_order(rt, rt.run(flows.amend(rt, order_id, symbol, new_qty)))


@order_app.command("list")
@_options.command_options
def list_orders(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help="Only orders still on the book."),
    symbol: _options.SymbolOpt = None,
    watch: bool = typer.Option(False, "--watch", "-w", help="Keep the open orders live."),
) -> None:
    """List your orders, oldest first.

    Example: tplus order list --open -o json
    """
    from tplus_cli.render.trading import ORDER_COLUMNS

    rt = _options.runtime(ctx)
    if watch:
        from tplus_cli.commands.book_watch import run_orders_watch

        run_orders_watch(rt, symbol)
        return
    from tplus_cli.commands import _order_flows as flows

    rt.emit(rt.run(flows.list_orders(rt, symbol, open_only)), columns=ORDER_COLUMNS)


@order_app.command("show")
@_options.command_options
def show(ctx: typer.Context, order_id: str = OrderIdArg) -> None:
    """Show one order with its fills, status and terms.

    Example: tplus order show 'whYvUPcmRXScelNpu06Fng=='
    """
    from tplus_cli.commands import _order_flows as flows

    rt = _options.runtime(ctx)
    rt.emit(rt.run(flows.show(rt, order_id)))


@order_app.command("cancel-all")
@_options.command_options
def cancel_all(
    ctx: typer.Context,
    symbol: _options.SymbolOpt = None,
    side: str | None = typer.Option(
        None, "--side", help="Only buy or only sell orders.", metavar="buy|sell"
    ),
) -> None:
    """Cancel every open order (asks first; one row per order).

    Example: tplus order cancel-all --symbol BTC --yes
    """
    from tplus_cli.commands import _order_flows as flows

    side_l = None if side is None else side.strip().lower()
    if side_l not in (None, "buy", "sell"):
        raise UsageError(f"--side must be buy or sell, got {side!r}")
    rt = _options.runtime(ctx)
    rows = rt.run(flows.cancel_all(rt, symbol, side_l))
    failed = [r for r in rows if r["status"] != "cancelled"]
    if rows or rt.output_format != "table":  # an empty table was already explained on stderr
        rt.emit(rows, columns=CANCEL_COLUMNS if failed else CANCEL_COLUMNS[:-1])
    if failed:
        raise RejectedError(
            f"{len(failed)} of {len(rows)} cancels failed",
            code="CANCEL_FAILED",
            details={"order_ids": [r["order_id"] for r in failed]},
        )


def register(app: typer.Typer) -> None:
    """Attach `tplus order` and its hidden alias `tplus orders` (the same sub-app)."""
    app.add_typer(order_app, name="order")
    app.add_typer(order_app, name="orders", hidden=True)
