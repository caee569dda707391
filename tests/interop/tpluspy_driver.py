"""Drive the local venue with the official tpluspy 0.6.0 client, unmodified.

Run by tpluspy's own interpreter (never imported by the test suite's Python):

    <tpluspy python> tpluspy_driver.py http://127.0.0.1:PORT

Every step asserts what tpluspy parsed; the last line on stdout is `INTEROP OK {...}`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from tplus.client.market_data import MarketDataClient
from tplus.client.orderbook import OrderBookClient
from tplus.model.asset_identifier import AssetIdentifier
from tplus.utils.user import User

MAKER_KEY = "11" * 32
TAKER_KEY = "22" * 32
BTC = AssetIdentifier("2")
USDC = AssetIdentifier("0")


def received(resp: Any) -> bool:
    """Whether an OrderOperationResponse says Received (status is an enum)."""
    return getattr(resp.status, "value", resp.status) == "Received"


def check(condition: bool, what: str) -> None:
    """Fail loudly with a readable message (asserts may be stripped with -O)."""
    if not condition:
        raise SystemExit(f"INTEROP FAILED: {what}")


async def collect_order_events(
    client: OrderBookClient, into: list[Any], ready: asyncio.Event
) -> None:
    """Consume the authenticated /orders stream until cancelled."""
    stream = client.stream_orders()
    ready.set()
    async for event in stream:
        into.append(event)


async def run(url: str) -> dict[str, Any]:
    maker, taker = User(private_key=MAKER_KEY), User(private_key=TAKER_KEY)
    ob = OrderBookClient(url, default_user=maker)
    ob_taker = OrderBookClient(url, default_user=taker)
    md = MarketDataClient(url, default_user=maker)
    summary: dict[str, Any] = {}

    market = await ob.get_market(BTC)
    check(
        (market.book_price_decimals, market.book_quantity_decimals) == (1, 5),
        f"market decimals {market}",
    )
    markets = await ob.get_markets(include_symbol_map=True)
    summary["markets"] = len(markets.markets)

    book = await md.get_orderbook_snapshot(BTC)
    check(book.bids == [] and book.asks == [], f"fresh book should be empty: {book}")

    # the stream starts before any order so it sees every event of the maker
    events: list[Any] = []
    ready = asyncio.Event()
    streamer = asyncio.create_task(collect_order_events(ob, events, ready))
    await ready.wait()
    await asyncio.sleep(0.3)  # let the WebSocket handshake finish before the first order

    resting = await ob.create_limit_order(quantity=2_000, price=650_000, side="Sell", asset_id=BTC)
    check(received(resting), f"limit create: {resting}")
    below = await ob.create_limit_order(quantity=1_000, price=600_000, side="Buy", asset_id=BTC)
    check(below.order_id != resting.order_id, "distinct order ids")

    book = await md.get_orderbook_snapshot(BTC)
    check(book.asks == [[65000.0, 0.02]], f"ask level after create: {book.asks}")
    check(book.bids == [[60000.0, 0.01]], f"bid level after create: {book.bids}")

    market_buy = await ob_taker.create_market_order(side="Buy", base_quantity=500, asset_id=BTC)
    check(received(market_buy), f"market create: {market_buy}")
    book = await md.get_orderbook_snapshot(BTC)
    check(book.asks == [[65000.0, 0.015]], f"market order filled against the ask: {book.asks}")

    replaced, revision = await ob.replace_order(
        resting.order_id, BTC, new_quantity=1_800, new_price=651_000
    )
    check(received(replaced), f"replace: {replaced}")
    check(revision > 0, "replace returns the new revision")

    cancelled = await ob.cancel_order(below.order_id, BTC)
    check(received(cancelled), f"cancel: {cancelled}")

    orders, raw = await ob.get_user_orders()
    ids = {o.order_id for o in orders}
    check({resting.order_id, below.order_id} <= ids, f"get_user_orders: {ids}")
    summary["user_orders"] = len(orders)

    open_orders = await ob.get_open_orders_for_book(BTC)
    check([o.order_id for o in open_orders] == [resting.order_id], f"open orders: {open_orders}")
    check(int(open_orders[0].confirmed_filled_quantity) == 500, f"fill recorded: {open_orders[0]}")

    inventory = await ob.get_user_inventory()
    check("accounts" in inventory and "0" in inventory["accounts"], f"inventory: {inventory}")
    before = int(inventory["accounts"]["0"]["spot"]["0"])
    transfer = await ob.request_transfer_to_subaccount(0, 1, USDC, 10**21)
    check(isinstance(transfer, dict), f"transfer: {transfer}")
    after = int((await ob.get_user_inventory())["accounts"]["0"]["spot"]["0"])
    check(before - after == 10**21, f"transfer moved {before - after}")

    for _ in range(100):  # the stream is asynchronous: wait (bounded) for the last event
        if any(
            type(e).__name__ == "OrderCanceledEvent"
            or "REMOVED" in str(getattr(e, "event_type", ""))
            for e in events
        ):
            break
        await asyncio.sleep(0.05)
    streamer.cancel()
    kinds = [str(getattr(e, "event_type", type(e).__name__)) for e in events]
    check("CREATED" in kinds, f"stream saw Created: {kinds}")
    check("REPLACED" in kinds, f"stream saw Replaced: {kinds}")
    check("REMOVED" in kinds or "CANCELED" in kinds, f"stream saw the cancel: {kinds}")
    summary["stream_events"] = kinds

    # the same order flow over the /control WebSocket (spec §8.4)
    ctl = OrderBookClient(url, default_user=taker, use_ws_control=True)
    placed = await ctl.create_limit_order(quantity=300, price=640_000, side="Buy", asset_id=BTC)
    check(received(placed), f"control create: {placed}")
    moved, _ = await ctl.replace_order(placed.order_id, BTC, new_quantity=300, new_price=641_000)
    check(received(moved), f"control replace: {moved}")
    gone = await ctl.cancel_order(placed.order_id, BTC)
    check(received(gone), f"control cancel: {gone}")
    try:
        await ctl.cancel_order(placed.order_id, BTC)
        check(False, "cancelling twice over /control must fail")
    except Exception as exc:  # tpluspy maps the error frame to its exception tree
        check("ORDER_NOT_FOUND" in str(exc), f"control error frame: {exc!r}")
    prepared = [
        (await ctl.prepare_limit_order_request(BTC, 630_000 + i, 100, "Buy", None, None))[1]
        for i in range(2)
    ]
    batch = await ctl.send_multiple_orders(prepared)
    statuses = [getattr(s.status, "value", s.status) for s in batch.batch_order_status]
    check(statuses == ["Received", "Received"], f"control batch: {batch}")
    summary["control"] = "create, replace, cancel, error, batch"

    for client in (ob, ob_taker, md, ctl):
        close = getattr(client, "close", None)
        if close is not None:
            await close()
    return summary


def main() -> None:
    summary = asyncio.run(run(sys.argv[1]))
    print("INTEROP OK " + json.dumps(summary))


if __name__ == "__main__":
    main()
