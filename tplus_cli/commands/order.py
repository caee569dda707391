"""`tplus order` (alias `tplus orders`): place, change, cancel and list orders.

Commands only parse flags, confirm, call the client and emit rows. Every create has its id
fixed before it is sent and is never re-sent blindly; an unconfirmed outcome surfaces from
the client as AmbiguousOutcome, which the error boundary turns into exit 8 with the id.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import typer

from tplus_cli.commands import _options
from tplus_cli.errors import RejectedError, UsageError

if TYPE_CHECKING:
    from tplus_cli.client.api import TplusClient
    from tplus_cli.client.wire import OrderAck, OrderInfo
    from tplus_cli.commands._order_input import OrderPlan
    from tplus_cli.runtime import Runtime

order_app = typer.Typer(help="Place, change, cancel and list orders.", no_args_is_help=True)

CANCEL_ALL_CONCURRENCY = 8
ACK_COLUMNS = ("order_id", "status", "symbol", "side", "type", "quantity", "price", "tif")
CANCEL_COLUMNS = ("order_id", "symbol", "side", "status", "error")


def _check_ack(ack: OrderAck, what: str) -> None:
    """A 200 "Rejected" answer is still a rejection: exit 5 with the venue's reason."""
    if not ack.accepted:
        raise RejectedError(
            f"{what} {ack.order_id} rejected: {ack.reason or 'no reason given'}",
            code=ack.reason or "REJECTED",
            details={"order_id": ack.order_id},
        )


async def _symbols(client: TplusClient) -> dict[str, str]:
    return {k: a.symbol for k, a in (await client.assets()).items()}


async def _prepare(client: TplusClient, asset: str, plan: OrderPlan, opts: dict[str, Any]) -> Any:
    common: dict[str, Any] = {
        "trigger_above": plan.trigger_above,
        "trigger_below": plan.trigger_below,
        "order_id": opts["client_id"],
        "sub_account": opts["sub_account"],
    }
    if plan.kind == "limit":
        assert plan.price is not None
        return await client.prepare_limit(
            asset,
            plan.side,
            plan.quantity,
            plan.price,
            tif=plan.tif,
            until_ns=plan.until_ns,
            post_only=plan.post_only,
            reduce_only=plan.reduce_only,
            **common,
        )
    return await client.prepare_market(
        asset,
        plan.side,
        plan.quantity,
        quote=plan.quote,
        # The slippage cap is the "max sellable" of the other unit: quote spent for a
        # base-sized order, base sold for a quote-sized one (spec §3.3 MarketDetails).
        max_sellable_amount=None if plan.quote else plan.max_slippage,
        max_sellable_quantity=plan.max_slippage if plan.quote else None,
        fill_or_kill=plan.tif == "fok",
        **common,
    )


async def _place(rt: Runtime, symbol: str, plan: OrderPlan, opts: dict[str, Any]) -> Any:
    async with rt.client(signing=True) as client:
        asset = await client.resolve_asset(symbol)
        prep = await _prepare(client, asset, plan, opts)
        if opts["dry_run"]:
            return {"method": prep.method, "path": prep.path, "body": prep.body}
        ack = await client.submit(prep)
        _check_ack(ack, "order")
        symbols = await _symbols(client)
    return {
        "order_id": ack.order_id,
        "status": ack.status.lower(),
        "symbol": symbols.get(asset, asset),
        "asset_id": asset,
        "side": plan.side,
        "type": plan.kind,
        "quantity": plan.quantity,
        "price": plan.price,
        "tif": plan.tif,
        "sub_account": opts["sub_account"],
        "reason": ack.reason,
        "processed_at_ns": ack.processed_at_ns,
    }


# Negative numbers ("-0.01") would otherwise be parsed as unknown options; let them through
# as arguments so they get the real error ("quantity must be greater than zero").
NUMERIC_ARGS = {"ignore_unknown_options": True}


@order_app.command("place", context_settings=NUMERIC_ARGS)
@_options.command_options
def place(
    ctx: typer.Context,
    symbol: _options.SymbolArg,
    side: str = typer.Argument(..., help="buy or sell."),
    quantity: str = typer.Argument(..., help="Base quantity in human units (0.01)."),
    price: str | None = typer.Option(None, "--price", help="Limit price (limit order)."),
    market: bool = typer.Option(False, "--market", help="Market order (no price)."),
    tif: str | None = typer.Option(None, "--tif", help="gtc (default), gtd, ioc or fok."),
    until: str | None = typer.Option(
        None, "--until", help="Expiry: ISO-8601 or 30s/5m/2h/1d; implies gtd."
    ),
    post_only: bool = typer.Option(False, "--post-only", help="Reject if it would take."),
    reduce_only: bool = typer.Option(False, "--reduce-only", help="Only reduce a position."),
    quote: bool = typer.Option(False, "--quote", help="QTY is in quote units (market only)."),
    max_slippage: str | None = typer.Option(
        None,
        "--max-slippage",
        help="Market only: cap on the quote spent (or, with --quote, the base sold).",
    ),
    stop_above: str | None = typer.Option(None, "--stop-above", help="Trigger at or above P."),
    stop_below: str | None = typer.Option(None, "--stop-below", help="Trigger at or below P."),
    client_id: str | None = typer.Option(None, "--client-id", help="Fix the order id (≤24 bytes)."),
    sub_account: int = typer.Option(1, "--sub-account", min=0, help="Target sub-account."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print the signed request; send nothing."
    ),
) -> None:
    """Place a limit or market order.

    Example: tplus order place BTC buy 0.01 --price 65000
    """
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
    if not dry_run:
        rt.confirm_write(f"Place {plan.describe(symbol)} on sub-account {sub_account}?")
    opts = {"client_id": client_id, "sub_account": sub_account, "dry_run": dry_run}
    result = rt.run(_place(rt, symbol, plan, opts))
    if dry_run:
        _print_request(result)
    else:
        rt.emit(result, columns=ACK_COLUMNS)


def _print_request(request: dict[str, Any]) -> None:
    """--dry-run output: the request as JSON whatever -o says (it is meant to be piped/read)."""
    import sys

    from tplus_cli.render.jsonout import dumps_json

    sys.stdout.write(dumps_json(request) + "\n")


async def _resolve_order_asset(client: TplusClient, order_id: str, symbol: str | None) -> str:
    """The order's asset: from --symbol, else looked up among the user's orders."""
    if symbol is not None:
        return await client.resolve_asset(symbol)
    order = await client.find_order(order_id)
    if order is None:
        from tplus_cli.client.errors import NotFound

        raise NotFound(f"no order {order_id}", code="ORDER_NOT_FOUND")
    return order.asset_id


async def _cancel(rt: Runtime, order_id: str, symbol: str | None) -> dict[str, Any]:
    async with rt.client(signing=True) as client:
        asset = None if symbol is None else await client.resolve_asset(symbol)
        ack = await client.cancel(order_id, asset)
        _check_ack(ack, "cancel of")
    return {"order_id": ack.order_id, "status": "cancelled", "reason": ack.reason}


@order_app.command("cancel")
@_options.command_options
def cancel(
    ctx: typer.Context,
    order_id: str = typer.Argument(..., help="The order id to cancel."),
    symbol: _options.SymbolOpt = None,
) -> None:
    """Cancel one order (its market is looked up if not given).

    Example: tplus order cancel 'whYvUPcmRXScelNpu06Fng=='
    """
    rt = _options.runtime(ctx)
    rt.confirm_write(f"Cancel order {order_id}?")
    rt.emit(rt.run(_cancel(rt, order_id, symbol)), columns=("order_id", "status"))


async def _replace(
    rt: Runtime, order_id: str, symbol: str | None, price: Any, quantity: Any
) -> dict[str, Any]:
    async with rt.client(signing=True) as client:
        asset = await _resolve_order_asset(client, order_id, symbol)
        ack = await client.replace(order_id, asset, price=price, quantity=quantity)
        _check_ack(ack, "replace of")
        order = await client.find_order(order_id)
        symbols = await _symbols(client)
    return _after_change(ack, order, symbols)


def _after_change(
    ack: OrderAck, order: OrderInfo | None, symbols: dict[str, str]
) -> dict[str, Any]:
    from tplus_cli.render.trading import order_row

    if order is None:
        return {"order_id": ack.order_id, "status": ack.status.lower()}
    return order_row(order, symbols)


@order_app.command("replace")
@_options.command_options
def replace(
    ctx: typer.Context,
    order_id: str = typer.Argument(..., help="The order id to replace."),
    price: str | None = typer.Option(None, "--price", help="New limit price."),
    qty: str | None = typer.Option(None, "--qty", help="New lifetime-total quantity."),
    symbol: _options.SymbolOpt = None,
) -> None:
    """Replace an order's price and/or quantity (others kept).

    Example: tplus order replace 'whYvUPcmRXScelNpu06Fng==' --price 64900
    """
    from tplus_cli.commands._order_input import parse_amount
    from tplus_cli.render.trading import ORDER_COLUMNS

    if price is None and qty is None:
        raise UsageError("give --price and/or --qty")
    new_price = None if price is None else parse_amount(price, what="--price")
    new_qty = None if qty is None else parse_amount(qty, what="--qty")
    rt = _options.runtime(ctx)
    terms = ", ".join(
        t for t in (price and f"price {new_price}", qty and f"quantity {new_qty}") if t
    )
    rt.confirm_write(f"Replace order {order_id} with {terms}?")
    rt.emit(rt.run(_replace(rt, order_id, symbol, new_price, new_qty)), columns=ORDER_COLUMNS)


async def _amend(rt: Runtime, order_id: str, symbol: str | None, quantity: Any) -> dict[str, Any]:
    async with rt.client(signing=True) as client:
        asset = await _resolve_order_asset(client, order_id, symbol)
        ack = await client.amend(order_id, asset, quantity)
        _check_ack(ack, "amend of")
        order = await client.find_order(order_id)
        symbols = await _symbols(client)
    return _after_change(ack, order, symbols)


@order_app.command("amend")
@_options.command_options
def amend(
    ctx: typer.Context,
    order_id: str = typer.Argument(..., help="The order id to amend."),
    qty: str = typer.Option(..., "--qty", help="New, smaller lifetime-total quantity."),
    symbol: _options.SymbolOpt = None,
) -> None:
    """Reduce an order's quantity without losing its place.

    Example: tplus order amend 'whYvUPcmRXScelNpu06Fng==' --qty 0.005
    """
    from tplus_cli.commands._order_input import parse_amount
    from tplus_cli.render.trading import ORDER_COLUMNS

    new_qty = parse_amount(qty, what="--qty")
    rt = _options.runtime(ctx)
    rt.confirm_write(f"Amend order {order_id} to quantity {new_qty}?")
    rt.emit(rt.run(_amend(rt, order_id, symbol, new_qty)), columns=ORDER_COLUMNS)


async def _list(rt: Runtime, symbol: str | None, open_only: bool) -> list[dict[str, Any]]:
    from tplus_cli.render.trading import order_row

    async with rt.client(signing=True) as client:
        asset = None if symbol is None else await client.resolve_asset(symbol)
        orders = await client.user_orders(asset, open_only=open_only)
        symbols = await _symbols(client)
    orders = sorted(orders, key=lambda o: (o.timestamp_ns, o.order_id))
    return [order_row(o, symbols) for o in orders]


@order_app.command("list")
@_options.command_options
def list_orders(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help="Only orders still on the book."),
    symbol: _options.SymbolOpt = None,
) -> None:
    """List your orders, oldest first.

    Example: tplus order list --open -o json
    """
    from tplus_cli.render.trading import ORDER_COLUMNS

    rt = _options.runtime(ctx)
    rt.emit(rt.run(_list(rt, symbol, open_only)), columns=ORDER_COLUMNS)


async def _show(rt: Runtime, order_id: str) -> dict[str, Any]:
    from tplus_cli.render.trading import order_row

    async with rt.client(signing=True) as client:
        order = await client.find_order(order_id)
        if order is None:
            from tplus_cli.client.errors import NotFound

            raise NotFound(f"no order {order_id}", code="ORDER_NOT_FOUND")
        symbols = await _symbols(client)
    return order_row(order, symbols)


@order_app.command("show")
@_options.command_options
def show(
    ctx: typer.Context,
    order_id: str = typer.Argument(..., help="The order id."),
) -> None:
    """Show one order with its fills, status and terms.

    Example: tplus order show 'whYvUPcmRXScelNpu06Fng=='
    """
    rt = _options.runtime(ctx)
    rt.emit(rt.run(_show(rt, order_id)))


async def _cancel_one(
    client: TplusClient, order: OrderInfo, symbols: dict[str, str], gate: Any
) -> dict[str, Any]:
    from tplus_cli.client.errors import ClientError

    row: dict[str, Any] = {
        "order_id": order.order_id,
        "symbol": symbols.get(order.asset_id, order.asset_id),
        "side": order.side.lower(),
        "status": "cancelled",
        "error": None,
    }
    async with gate:
        try:
            ack = await client.cancel(order.order_id, order.asset_id)
        except ClientError as exc:
            return {**row, "status": "failed", "error": str(exc)}
    if not ack.accepted:
        return {**row, "status": "failed", "error": ack.reason or "rejected"}
    return row


def _cancel_summary(orders: list[OrderInfo], symbols: dict[str, str]) -> str:
    counts: dict[str, int] = {}
    for o in orders:
        name = symbols.get(o.asset_id, o.asset_id)
        counts[name] = counts.get(name, 0) + 1
    per = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items()))
    noun = "order" if len(orders) == 1 else "orders"
    return f"Cancel {len(orders)} open {noun} ({per})?"


async def _cancel_all(rt: Runtime, symbol: str | None, side: str | None) -> list[dict[str, Any]]:
    import asyncio

    async with rt.client(signing=True) as client:
        asset = None if symbol is None else await client.resolve_asset(symbol)
        orders = await client.user_orders(asset, open_only=True)
        orders = [o for o in orders if o.is_open and (side is None or o.side.lower() == side)]
        if not orders:
            rt.notice("No open orders to cancel.")
            return []
        symbols = await _symbols(client)
        rt.confirm(_cancel_summary(orders, symbols))
        gate = asyncio.Semaphore(CANCEL_ALL_CONCURRENCY)
        return list(await asyncio.gather(*(_cancel_one(client, o, symbols, gate) for o in orders)))


@order_app.command("cancel-all")
@_options.command_options
def cancel_all(
    ctx: typer.Context,
    symbol: _options.SymbolOpt = None,
    side: str | None = typer.Option(None, "--side", help="Only buy or only sell orders."),
) -> None:
    """Cancel every open order (asks first; one row per order).

    Example: tplus order cancel-all --symbol BTC --yes
    """
    side_l = None if side is None else side.lower()
    if side_l not in (None, "buy", "sell"):
        raise UsageError(f"--side must be buy or sell, got {side!r}")
    rt = _options.runtime(ctx)
    rows = rt.run(_cancel_all(rt, symbol, side_l))
    rt.emit(rows, columns=CANCEL_COLUMNS)
    failed = [r for r in rows if r["status"] != "cancelled"]
    if failed:
        raise RejectedError(
            f"{len(failed)} of {len(rows)} cancels failed",
            code="CANCEL_FAILED",
            details={"order_ids": [r["order_id"] for r in failed]},
        )


def register(app: typer.Typer) -> None:
    """Attach `tplus order` and its hidden alias `tplus orders`."""
    app.add_typer(order_app, name="order")
    app.add_typer(order_app, name="orders", hidden=True)
