"""What each `tplus order` command does against the venue, as coroutines returning rows.

The command functions in order.py parse and confirm; these talk to the client. A create's id
is fixed before sending and is never re-sent blindly (the client settles a lost answer by
lookup and raises AmbiguousOutcome when it cannot, which the boundary turns into exit 8).
A 200 "Rejected" acknowledgement is still a rejection here: exit 5 with the venue's reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tplus_cli.errors import RejectedError

if TYPE_CHECKING:
    import asyncio
    from decimal import Decimal

    from tplus_cli.client.api import TplusClient
    from tplus_cli.client.wire import OrderAck, OrderInfo, PreparedRequest
    from tplus_cli.commands._order_input import OrderPlan
    from tplus_cli.runtime import Runtime

Row = dict[str, Any]

CANCEL_ALL_CONCURRENCY = 8
"""At most this many cancels in flight during cancel-all (bounded, not one by one)."""


def check_ack(ack: OrderAck, what: str) -> None:
    """Raise RejectedError (exit 5) unless the venue took the operation."""
    if not ack.accepted:
        raise RejectedError(
            f"{what} {ack.order_id} rejected: {ack.reason or 'no reason given'}",
            code=ack.reason or "REJECTED",
            details={"order_id": ack.order_id},
        )


async def symbols_of(client: TplusClient) -> dict[str, str]:
    """Asset id → symbol, for display."""
    return {k: a.symbol for k, a in (await client.assets()).items()}


def _not_found(order_id: str) -> Exception:
    from tplus_cli.client.errors import NotFound

    return NotFound(f"no order {order_id} for this account", code="ORDER_NOT_FOUND")


async def _order_row(client: TplusClient, order_id: str, asset: str | None) -> Row | None:
    """The order as `order show` renders it, or None if the venue does not list it."""
    from tplus_cli.render.trading import order_row

    order = await client.find_order(order_id, asset)
    return None if order is None else order_row(order, await symbols_of(client))


async def _asset_of_order(client: TplusClient, order_id: str, symbol: str | None) -> str:
    """The order's book: from --symbol, else found among the account's orders."""
    if symbol is not None:
        return await client.resolve_asset(symbol)
    order = await client.find_order(order_id)
    if order is None:
        raise _not_found(order_id)
    return order.asset_id


async def _prepare(
    client: TplusClient, asset: str, plan: OrderPlan, client_id: str | None, sub_account: int
) -> PreparedRequest:
    common: dict[str, Any] = {
        "trigger_above": plan.trigger_above,
        "trigger_below": plan.trigger_below,
        "order_id": client_id,
        "sub_account": sub_account,
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


async def dry_run(
    rt: Runtime, symbol: str, plan: OrderPlan, client_id: str | None, sub_account: int
) -> Row:
    """The signed create request exactly as it would be sent: {method, path, body}."""
    async with rt.client(signing=True) as client:
        asset = await client.resolve_asset(symbol)
        prep = await _prepare(client, asset, plan, client_id, sub_account)
    return {"method": prep.method, "path": prep.path, "body": prep.body}


async def place(
    rt: Runtime, symbol: str, plan: OrderPlan, client_id: str | None, sub_account: int
) -> Row:
    """Sign and send one order; return it as listed afterwards (status, filled so far)."""
    async with rt.client(signing=True) as client:
        asset = await client.resolve_asset(symbol)
        prep = await _prepare(client, asset, plan, client_id, sub_account)
        ack = await client.submit(prep)
        check_ack(ack, "order")
        row = await _order_row(client, ack.order_id, asset)
        symbols = await symbols_of(client)
    if row is not None:
        return row
    # Not listed (yet): report what we sent and what the venue acknowledged.
    return {
        "order_id": ack.order_id,
        "symbol": symbols.get(asset, asset),
        "asset_id": asset,
        "side": plan.side,
        "type": plan.kind,
        "price": plan.price,
        "quantity": plan.quantity,
        "status": ack.status.lower(),
        "tif": plan.tif,
    }


async def cancel(rt: Runtime, order_id: str, symbol: str | None) -> Row:
    """Cancel one order (the client finds its book when no symbol is given)."""
    async with rt.client(signing=True) as client:
        asset = None if symbol is None else await client.resolve_asset(symbol)
        ack = await client.cancel(order_id, asset)
        check_ack(ack, "cancel of")
    return {"order_id": ack.order_id, "status": "cancelled"}


async def replace(
    rt: Runtime,
    order_id: str,
    symbol: str | None,
    price: Decimal | None,
    quantity: Decimal | None,
) -> Row:
    """Replace price and/or quantity; the client restates unchanged terms from the live order."""
    async with rt.client(signing=True) as client:
        asset = await _asset_of_order(client, order_id, symbol)
        ack = await client.replace(order_id, asset, price=price, quantity=quantity)
        check_ack(ack, "replace of")
        row = await _order_row(client, order_id, asset)
    return row or {"order_id": order_id, "status": ack.status.lower()}


async def amend(rt: Runtime, order_id: str, symbol: str | None, quantity: Decimal) -> Row:
    """Reduce the lifetime-total quantity, keeping the order's place in the queue."""
    async with rt.client(signing=True) as client:
        asset = await _asset_of_order(client, order_id, symbol)
        ack = await client.amend(order_id, asset, quantity)
        check_ack(ack, "amend of")
        row = await _order_row(client, order_id, asset)
    return row or {"order_id": order_id, "status": ack.status.lower()}


async def list_orders(rt: Runtime, symbol: str | None, open_only: bool) -> list[Row]:
    """The account's orders, oldest first."""
    from tplus_cli.render.trading import order_row

    async with rt.client(signing=True) as client:
        asset = None if symbol is None else await client.resolve_asset(symbol)
        orders = await client.user_orders(asset, open_only=open_only)
        symbols = await symbols_of(client)
    orders = sorted(orders, key=lambda o: (o.timestamp_ns, o.order_id))
    return [order_row(o, symbols) for o in orders]


async def show(rt: Runtime, order_id: str) -> Row:
    """One order by id, or NotFound (exit 2)."""
    async with rt.client(signing=True) as client:
        row = await _order_row(client, order_id, None)
    if row is None:
        raise _not_found(order_id)
    return row


def cancel_all_summary(orders: list[OrderInfo], symbols: dict[str, str]) -> str:
    """What cancel-all is about to do, e.g. `Cancel 3 open orders (BTC: 2, ETH: 1)?`."""
    counts: dict[str, int] = {}
    for o in orders:
        name = symbols.get(o.asset_id, o.asset_id)
        counts[name] = counts.get(name, 0) + 1
    per = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items()))
    noun = "order" if len(orders) == 1 else "orders"
    return f"Cancel {len(orders)} open {noun} ({per})?"


async def _cancel_one(
    client: TplusClient, order: OrderInfo, symbols: dict[str, str], gate: asyncio.Semaphore
) -> Row:
    from tplus_cli.client.errors import ClientError

    row: Row = {
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


async def cancel_all(rt: Runtime, symbol: str | None, side: str | None) -> list[Row]:
    """Confirm, then cancel every matching open order concurrently; one row per order."""
    import asyncio

    async with rt.client(signing=True) as client:
        asset = None if symbol is None else await client.resolve_asset(symbol)
        orders = sorted(
            (
                o
                for o in await client.user_orders(asset, open_only=True)
                if o.is_open and (side is None or o.side.lower() == side)
            ),
            key=lambda o: (o.timestamp_ns, o.order_id),
        )
        if not orders:
            rt.notice("No open orders to cancel.")
            return []
        symbols = await symbols_of(client)
        rt.confirm(cancel_all_summary(orders, symbols))
        gate = asyncio.Semaphore(CANCEL_ALL_CONCURRENCY)
        rows = await asyncio.gather(*(_cancel_one(client, o, symbols, gate) for o in orders))
    return list(rows)
