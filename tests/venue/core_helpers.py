"""Builders for venue-core tests: funded exchanges and commands in exact wire shapes."""

from __future__ import annotations

from typing import Any

from tplus_cli.client.signing import (
    limit_details,
    market_details,
    order_object,
    target_object,
    tif_gtc,
    tif_gtd,
    tif_ioc,
)
from tplus_cli.venue.commands import (
    AmendOrder,
    CancelOrder,
    ClosePosition,
    CreateOrder,
    EnsureUser,
    ReplaceOrder,
    Transfer,
)
from tplus_cli.venue.exchange import ApplyResult, Exchange
from tplus_cli.venue.markets import DEFAULT_MARKETS

A = "a1" * 32
B = "b2" * 32
C = "c3" * 32
T0 = 1_750_000_000_000_000_000
BTC = "2"  # price decimals 1, quantity decimals 5: 650000 = 65000.0, 100000 = 1 BTC
MARKETS = {m.asset_id: m for m in DEFAULT_MARKETS}
E18 = 10**18


def funded(*users: str) -> Exchange:
    """A fresh exchange with the default paper funding for each user."""
    ex = Exchange()
    for user in users:
        ex.apply(EnsureUser(T0, user))
    return ex


def _condition(trigger: tuple[str, int] | None) -> dict[str, Any] | None:
    return None if trigger is None else {trigger[0]: {"price": trigger[1]}}


def _order(
    user: str,
    oid: str,
    side: str,
    details: dict[str, Any],
    *,
    asset: str,
    trigger: tuple[str, int] | None,
    parent: str | None,
    target: tuple[int, bool],
    reduce_only: bool,
    max_fee: int,
    ts: int,
) -> CreateOrder:
    market = MARKETS[asset]
    trig = None
    if trigger is not None or parent is not None:
        trig = {"parent_order_id": parent, "condition": _condition(trigger)}
    order = order_object(
        signer=user,
        order_id=oid,
        base_asset=asset,
        price_decimals=market.price_decimals,
        quantity_decimals=market.quantity_decimals,
        details=details,
        side=side,
        trigger=trig,
        creation_timestamp_ns=ts,
        target=target_object(*target),
        reduce_only=reduce_only,
        max_trading_fees_rate=max_fee,
    )
    return CreateOrder(ts, order, tuple(range(64)))


def limit(
    user: str,
    oid: str,
    side: str,
    price: int,
    qty: int,
    *,
    asset: str = BTC,
    post_only: bool = False,
    gtd: int | None = None,
    ioc: bool = False,
    fok: bool = False,
    trigger: tuple[str, int] | None = None,
    parent: str | None = None,
    target: tuple[int, bool] = (1, True),
    reduce_only: bool = False,
    max_fee: int = 50_000,
    ts: int = T0,
) -> CreateOrder:
    """A limit create; GTC unless gtd or ioc is given."""
    if ioc:
        tif = tif_ioc(fok)
    elif gtd is not None:
        tif = tif_gtd(post_only, gtd)
    else:
        tif = tif_gtc(post_only)
    return _order(
        user,
        oid,
        side,
        limit_details(price, qty, tif),
        asset=asset,
        trigger=trigger,
        parent=parent,
        target=target,
        reduce_only=reduce_only,
        max_fee=max_fee,
        ts=ts,
    )


def market(
    user: str,
    oid: str,
    side: str,
    *,
    base: int | None = None,
    quote: int | None = None,
    max_amount: int | None = None,
    max_qty: int | None = None,
    fok: bool = False,
    asset: str = BTC,
    trigger: tuple[str, int] | None = None,
    target: tuple[int, bool] = (1, True),
    reduce_only: bool = False,
    ts: int = T0,
) -> CreateOrder:
    """A market create by base or by quote quantity."""
    details = market_details(
        base_quantity=base,
        quote_quantity=quote,
        max_sellable_amount=max_amount,
        max_sellable_quantity=max_qty,
        fill_or_kill=fok,
    )
    return _order(
        user,
        oid,
        side,
        details,
        asset=asset,
        trigger=trigger,
        parent=None,
        target=target,
        reduce_only=reduce_only,
        max_fee=50_000,
        ts=ts,
    )


def cancel(user: str, oid: str, *, asset: str = BTC, ts: int = T0) -> CancelOrder:
    """A cancel."""
    return CancelOrder(ts, user, asset, oid)


def replace(
    user: str,
    oid: str,
    price: int,
    qty: int,
    *,
    revision: int,
    trigger: tuple[str, int] | None = None,
    asset: str = BTC,
    ts: int = T0,
) -> ReplaceOrder:
    """A replace restating the lifetime terms, with `revision` as its timestamp_ns."""
    m = MARKETS[asset]
    request = {
        "order_id": oid,
        "base_asset": asset,
        "timestamp_ns": revision,
        "new_price_limit": price,
        "new_quantity": qty,
        "new_trigger": _condition(trigger),
        "book_quantity_decimals": m.quantity_decimals,
        "book_price_decimals": m.price_decimals,
        "protocol_version": 1,
    }
    return ReplaceOrder(ts, user, request)


def amend(
    user: str,
    oid: str,
    qty: int,
    *,
    expected: int | None,
    revision: int,
    asset: str = BTC,
    ts: int = T0,
) -> AmendOrder:
    """An amend (reduce only)."""
    request = {
        "order_id": oid,
        "base_asset": asset,
        "new_quantity": qty,
        "book_quantity_decimals": MARKETS[asset].quantity_decimals,
        "expected_authorization_revision": expected,
        "timestamp_ns": revision,
        "source": "User",
    }
    return AmendOrder(ts, user, request)


def transfer(
    user: str, source: int, target: int, asset: str, amount: int, nonce: int, ts: int = T0
) -> Transfer:
    """A sub-account transfer of an 18-decimal amount."""
    inner = {
        "user": user,
        "source_index": source,
        "target_index": target,
        "transfer_asset": asset,
        "transfer_amount": str(amount),
        "target_account_type": None,
        "nonce": nonce,
    }
    return Transfer(ts, inner)


def close_position(user: str, account: int, asset: str, nonce: int, ts: int = T0) -> ClosePosition:
    """A close-position request."""
    return ClosePosition(
        ts, {"user": user, "account": account, "asset_identifier": asset, "nonce": nonce}
    )


def ok(result: ApplyResult) -> ApplyResult:
    """Assert that a command was accepted and return its result."""
    assert result.error is None, result.error
    return result


def payloads(result: ApplyResult, channel: str) -> list[Any]:
    """The payloads a result sent on one channel, in order."""
    return [e.payload for e in result.events if e.channel == channel]


def variants(result: ApplyResult, user: str) -> list[str]:
    """The order-event variant names sent to one user's orders channel."""
    return [next(iter(p)) for p in payloads(result, f"orders/{user}")]


def spot(ex: Exchange, user: str, sub: int, asset: str) -> int:
    """A spot balance in inventory units."""
    return int(ex.inventory_json(user)["accounts"][str(sub)]["spot"].get(asset, "0"))


def held(ex: Exchange, user: str, sub: int, asset: str) -> int:
    """An amount held by resting orders, in inventory units."""
    return int(ex.inventory_json(user)["accounts"][str(sub)]["held"].get(asset, "0"))
