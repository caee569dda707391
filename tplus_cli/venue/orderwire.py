"""Translation between wire orders (spec §3.3, §5.3, §8.3.1) and engine orders."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from tplus_cli.venue import engine as eng
from tplus_cli.venue.engine import Order, RejectError
from tplus_cli.venue.markets import INVENTORY_DECIMALS, MarketConfig, pow10

MAX_ORDER_ID_BYTES = 24
MAX_SUB_ACCOUNT = 255


def _bad(message: str) -> RejectError:
    return RejectError("INVALID_ORDER_FORMAT", message)


def _int(d: Mapping[str, Any], key: str, *, optional: bool = False) -> int | None:
    value = d.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"{key} must be an integer")
    return value


def _req_int(d: Mapping[str, Any], key: str) -> int:
    value = _int(d, key)
    assert value is not None
    return value


def _bool(d: Mapping[str, Any], key: str) -> bool:
    value = d.get(key)
    if not isinstance(value, bool):
        raise _bad(f"{key} must be a boolean")
    return value


def _obj(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(f"{what} must be an object")
    return value


def _variant(value: Any, what: str) -> tuple[str, Mapping[str, Any]]:
    obj = _obj(value, what)
    if len(obj) != 1:
        raise _bad(f"{what} must have exactly one variant")
    ((name, body),) = obj.items()
    return str(name), _obj(body, f"{what}.{name}")


def parse_trigger_condition(value: Any) -> tuple[str, int] | None:
    """{"PriceAbove":{"price":n}} / {"PriceBelow":...} / null → (kind, price) or None."""
    if value is None:
        return None
    kind, body = _variant(value, "trigger condition")
    if kind not in ("PriceAbove", "PriceBelow"):
        raise _bad("trigger condition must be PriceAbove or PriceBelow")
    return kind, _req_int(body, "price")


def market_for(markets: Mapping[str, MarketConfig], asset: Any) -> MarketConfig:
    """The market of a base asset id, or a MARKET_NOT_FOUND refusal."""
    market = markets.get(str(asset))
    if market is None:
        raise RejectError("MARKET_NOT_FOUND", f"no market for asset {asset!r}")
    return market


def parse_order(
    d: Mapping[str, Any], markets: Mapping[str, MarketConfig], signature: list[int]
) -> tuple[MarketConfig, Order]:
    """Validate a canonical signed Order object and build the engine order from it."""
    signer, order_id = d.get("signer"), d.get("order_id")
    if not isinstance(signer, str) or not signer:
        raise _bad("signer must be a string")
    if not isinstance(order_id, str) or not order_id:
        raise _bad("order_id must be a non-empty string")
    if len(order_id.encode()) > MAX_ORDER_ID_BYTES:
        raise RejectError("INVALID_ORDER_ID", "order_id is longer than 24 bytes")
    market = market_for(markets, d.get("base_asset"))
    if d.get("protocol_version") != 1:
        raise RejectError("INVALID_ORDER_PROTOCOL_VERSION", "protocol_version must be 1")
    if (
        _int(d, "book_price_decimals") != market.price_decimals
        or _int(d, "book_quantity_decimals") != market.quantity_decimals
    ):
        raise RejectError(
            "INVALID_ORDER_DECIMALS",
            f"market {market.asset_id} uses price decimals {market.price_decimals} "
            f"and quantity decimals {market.quantity_decimals}",
        )
    side = d.get("side")
    if side not in ("Buy", "Sell"):
        raise RejectError("INVALID_ORDER_SIDE", "side must be Buy or Sell")
    target = _obj(d.get("target"), "target")
    account = _req_int(target, "account")
    if not 0 <= account <= MAX_SUB_ACCOUNT:
        raise _bad("target.account out of range")
    max_fee = _req_int(d, "max_trading_fees_rate")
    order = Order(
        user=signer,
        order_id=order_id,
        is_buy=side == "Buy",
        price=0,
        quantity=0,
        created_ns=_req_int(d, "creation_timestamp_ns"),
        reduce_only=_bool(d, "reduce_only"),
        account=account,
        is_spot=_bool(target, "is_spot"),
        max_fee_ppm=max_fee,
        meta={"order": dict(d), "signature": list(signature)},
    )
    kind, details = _variant(d.get("details"), "details")
    if kind == "Limit":
        order.price = _req_int(details, "limit_price")
        order.quantity = _req_int(details, "quantity")
        tif, body = _variant(details.get("time_in_force"), "time_in_force")
        if tif == "GTC":
            order.tif, order.post_only = eng.GTC, _bool(body, "post_only")
        elif tif == "GTD":
            order.tif, order.post_only = eng.GTD, _bool(body, "post_only")
            order.gtd_ns = _req_int(body, "timestamp_ns")
        elif tif == "IOC":
            order.tif, order.fill_or_kill = eng.IOC, _bool(body, "fill_or_kill")
        else:
            raise _bad("time_in_force must be GTC, GTD or IOC")
    elif kind == "Market":
        order.is_market = True
        order.fill_or_kill = _bool(details, "fill_or_kill")
        qkind, qbody = _variant(details.get("quantity"), "quantity")
        if qkind == "BaseAsset":
            order.quantity = _req_int(qbody, "quantity")
            order.max_amount = _int(qbody, "max_sellable_amount", optional=True)
        elif qkind == "QuoteAsset":
            order.quote_quantity = _req_int(qbody, "quantity")
            order.max_lots = _int(qbody, "max_sellable_quantity", optional=True)
        else:
            raise _bad("market quantity must be BaseAsset or QuoteAsset")
    else:
        raise _bad("details must be Limit or Market")
    trigger = d.get("trigger")
    if trigger is not None:
        trig = _obj(trigger, "trigger")
        parent = trig.get("parent_order_id")
        if parent is not None and not isinstance(parent, str):
            raise _bad("trigger.parent_order_id must be a string or null")
        condition = parse_trigger_condition(trig.get("condition"))
        if condition is None and parent is None:
            raise _bad("trigger needs a condition or a parent_order_id")
        order.parent_id = parent
        if condition is not None:
            if condition[0] == "PriceAbove":
                order.trigger_above = condition[1]
            else:
                order.trigger_below = condition[1]
    applicable = market.maker_fee_ppm if order.post_only else market.taker_fee_ppm
    if max_fee < applicable:
        raise RejectError(
            "INVALID_ORDER_FEE_RATE",
            f"max_trading_fees_rate {max_fee} ppm is below the market's {applicable} ppm",
        )
    return market, order


# --------------------------------------------------------------------- rows and events


def status_of(order: Order) -> str:
    """Human order status for OrderResponse rows."""
    if order.state == eng.PENDING:
        return "Pending"
    if order.state == eng.LIVE:
        return "PartiallyFilled" if order.filled else "Open"
    return {
        eng.COMPLETED: "Filled",
        eng.CANCELED: "Canceled",
        eng.SELF_TRADE_PREVENTED: "Canceled",
        eng.EXPIRED: "Expired",
        eng.REJECTED: "Rejected",
    }.get(order.end_reason or "", "Canceled")


def _opt(value: int | None) -> str | None:
    return None if value is None else str(value)


def fee_in_price_scale(market: MarketConfig, fee_inventory: int) -> int:
    """Inventory USDC → quote integer of the market's price scale (rounded down)."""
    return fee_inventory // pow10(INVENTORY_DECIMALS - market.price_decimals)


def order_row(market: MarketConfig, order: Order) -> dict[str, Any]:
    """The OMS OrderResponse row (spec §5.3), book-unit integers as strings."""
    return {
        "order_id": order.order_id,
        "base_asset": market.asset_id,
        "side": "Buy" if order.is_buy else "Sell",
        "limit_price": None if order.is_market else str(order.price),
        "quantity": None if order.quote_quantity is not None else str(order.quantity),
        "amount": _opt(order.quote_quantity),
        "max_sellable_amount": _opt(order.max_amount),
        "max_sellable_quantity": _opt(order.max_lots),
        "confirmed_filled_quantity": str(order.filled),
        "pending_filled_quantity": "0",
        "confirmed_filled_amount": str(order.filled_scaled // market.lot_scale),
        "pending_filled_amount": "0",
        "confirmed_trading_fees_amount": str(fee_in_price_scale(market, order.fees)),
        "pending_trading_fees_amount": "0",
        "good_until_timestamp_ns": order.gtd_ns,
        "timestamp_ns": order.created_ns,
        "in_flight": False,
        "canceled": order.end_reason in (eng.CANCELED, eng.SELF_TRADE_PREVENTED, eng.EXPIRED),
        "status": status_of(order),
        "trigger_above_price": _opt(order.trigger_above),
        "trigger_below_price": _opt(order.trigger_below),
        "trigger_touched": order.trigger_touched,
        "parent_id": order.parent_id,
        "last_update_timestamp_ns": order.updated_ns,
        "is_immediate_or_cancel": order.tif == eng.IOC,
        "is_fill_or_kill": order.fill_or_kill,
        "is_liquidation": False,
        "is_auto_deleverage": False,
        "is_reduce_only": order.reduce_only,
        "trigger_enabled_quantity": None,
        "is_post_only": order.post_only,
        "account_index": order.account,
        "is_spot": order.is_spot,
        "authorization_revision": order.revision,
        "end_reason": order.end_reason,
        "reject_code": order.reject_code,
    }


def created_event(order: Order, ts: int) -> dict[str, Any]:
    """{"Created": …} echoing the signed order."""
    return {
        "Created": {
            "user_order": (order.meta or {}).get("order"),
            "signature": (order.meta or {}).get("signature", []),
            "book_timestamp_ns": ts,
            "is_liquidation": False,
            "is_auto_deleverage": False,
        }
    }


def removed_event(market: MarketConfig, order: Order, reason: str, ts: int) -> dict[str, Any]:
    """{"Removed": …} with the fill totals."""
    amount = order.filled_scaled // market.lot_scale
    return {
        "Removed": {
            "order_id": order.order_id,
            "asset_id": market.asset_id,
            "user_id": order.user,
            "timestamp_ns": ts,
            "reason": reason,
            "filled_quantity": order.filled,
            "confirmed_quantity": order.filled,
            "filled_amount": amount,
            "confirmed_amount": amount,
            "book_quantity_decimals": market.quantity_decimals,
        }
    }


def replaced_event(market: MarketConfig, order: Order, ts: int) -> dict[str, Any]:
    """{"Replaced": …} with the new effective terms."""
    return {
        "Replaced": {
            "order_id": order.order_id,
            "asset_id": market.asset_id,
            "user_id": order.user,
            "new_quantity": order.quantity,
            "new_price": order.price,
            "timestamp_ns": ts,
            "authorization_revision": order.revision,
        }
    }


def amended_event(market: MarketConfig, order: Order, ts: int) -> dict[str, Any]:
    """{"Amended": …} with the reduced lifetime quantity."""
    return {
        "Amended": {
            "order_id": order.order_id,
            "asset_id": market.asset_id,
            "user_id": order.user,
            "new_quantity": order.quantity,
            "remaining_quantity": order.remaining,
            "authorization_revision": order.revision,
            "book_quantity_decimals": market.quantity_decimals,
            "timestamp_ns": ts,
        }
    }


def triggered_event(market: MarketConfig, order: Order, ts: int) -> dict[str, Any]:
    """{"Triggered": …} when a pending order fires."""
    return {
        "Triggered": {
            "order_id": order.order_id,
            "asset_id": market.asset_id,
            "user_id": order.user,
            "timestamp_ns": ts,
            "quantity": order.quantity,
            "trigger_touched": bool(order.trigger_touched),
        }
    }


def failed_event(variant: str, order_id: str, user: str, reason: str) -> dict[str, Any]:
    """{"CreateFailed"|"ReplaceFailed"|"AmendFailed"|"CancelFailed": …}."""
    return {variant: {"order_id": order_id, "user_id": user, "reason": reason}}


# --------------------------------------------------------------------- snapshots

_FIELDS = tuple(f.name for f in dataclasses.fields(Order))


def order_to_json(order: Order) -> dict[str, Any]:
    """Every field of an engine order, JSON-safe."""
    return {name: getattr(order, name) for name in _FIELDS}


def order_from_json(data: Mapping[str, Any]) -> Order:
    """Inverse of order_to_json."""
    return Order(**{name: data[name] for name in _FIELDS})
