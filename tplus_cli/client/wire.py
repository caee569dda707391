"""Typed views of T+ JSON responses: frozen dataclasses, Decimals in human units, no I/O.

Parsers are tolerant: unknown extra keys are ignored, decimals may be JSON strings or numbers
(responses are decoded with `parse_float=Decimal`, so no float ever appears), and `0x`-hex
U256 strings are accepted where the spec warns they occur. Missing required keys raise
`WireError`. Pure: the venue may import this module, so it must not import httpx.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tplus_cli.client.wire_account import (
    Balance,
    CloseAllOrder,
    CloseAllPreview,
    Inventory,
    MarginAccount,
    MarginBalance,
    MarginInfo,
    MarginPosition,
    MarginWarning,
    Position,
    Solvency,
    inventory_amount,
    parse_close_all,
    parse_inventory,
    parse_margin,
    parse_position,
    parse_solvency,
)
from tplus_cli.client.wire_values import (
    INVENTORY_SCALE,
    WireError,
    dec,
    integer,
    items_of,
    opt_dec,
    opt_int,
    require,
    scaled,
)

# Order status is free text (spec §5.3); anything not known to be final counts as open.
TERMINAL_STATUSES = frozenset(
    {"filled", "completed", "closed", "canceled", "cancelled", "expired", "rejected", "removed"}
)


# --- markets and assets ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """One registry asset from the symbol map: index string → symbol."""

    index: str
    symbol: str
    name: str | None = None
    asset_class: str | None = None
    representations: tuple[str, ...] = ()


def parse_asset_info(key: str, obj: Mapping[str, Any]) -> AssetInfo:
    """Parse one `symbol_map` entry."""
    reps = obj.get("representations") or ()
    return AssetInfo(
        index=str(obj.get("index", key)),
        symbol=str(require(obj, "symbol", "symbol_map entry")),
        name=obj.get("name"),
        asset_class=obj.get("asset_class"),
        representations=tuple(str(r) for r in reps),
    )


@dataclass(frozen=True, slots=True)
class Market:
    """A book's configuration; fee rates are ppm of the lowest volume tier."""

    asset_id: str
    symbol: str | None
    price_decimals: int
    quantity_decimals: int
    tick_size: Decimal
    min_order_size: Decimal | None
    taker_fee_rate: int | None
    maker_fee_rate: int | None
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)


def parse_market(obj: Mapping[str, Any], symbol: str | None = None) -> Market:
    """Parse `GET /market/{asset}` or a `/markets` item."""
    pd = integer(require(obj, "book_price_decimals", "market"), "book_price_decimals")
    qd = integer(require(obj, "book_quantity_decimals", "market"), "book_quantity_decimals")
    tick = opt_dec(obj.get("tick_size"), "tick_size")
    taker = maker = None
    schedule = obj.get("fee_schedule")
    tiers = schedule.get("global") if isinstance(schedule, Mapping) else None
    if isinstance(tiers, list) and tiers:
        first = min(tiers, key=lambda t: dec(t.get("min_rolling_volume_usd", 0)))
        taker = opt_int(first.get("taker_fee_rate"), "taker_fee_rate")
        maker = opt_int(first.get("maker_fee_rate"), "maker_fee_rate")
    return Market(
        asset_id=str(require(obj, "asset_id", "market")),
        symbol=symbol,
        price_decimals=pd,
        quantity_decimals=qd,
        tick_size=tick if tick is not None else Decimal(1).scaleb(-pd),
        min_order_size=opt_dec(obj.get("min_order_size"), "min_order_size"),
        taker_fee_rate=taker,
        maker_fee_rate=maker,
        raw=dict(obj),
    )


# --- books, trades, tickers, klines --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookLevel:
    """One price level in human units."""

    price: Decimal
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """A depth snapshot or diff: levels best-first as sent, plus the sequence number."""

    asset_id: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    sequence: int


def _levels(raw: Any, what: str) -> tuple[BookLevel, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise WireError(f"{what}: expected a list")
    out = []
    for level in raw:
        if not isinstance(level, list | tuple) or len(level) < 2:
            raise WireError(f"{what}: bad level {level!r}")
        out.append(BookLevel(dec(level[0], "price"), dec(level[1], "quantity")))
    return tuple(out)


def parse_book(obj: Mapping[str, Any], asset_id: str) -> BookSnapshot:
    """Parse a `/marketdepth` snapshot or a `/marketdepth/diff` frame."""
    if not isinstance(obj, Mapping):
        raise WireError("depth: expected an object")
    return BookSnapshot(
        asset_id=asset_id,
        bids=_levels(obj.get("bids"), "bids"),
        asks=_levels(obj.get("asks"), "asks"),
        sequence=integer(obj.get("sequence_number") or 0, "sequence_number"),
    )


@dataclass(frozen=True, slots=True)
class Trade:
    """A public trade (human units); `buyer_is_maker` tells the aggressor side."""

    asset_id: str
    trade_id: int
    price: Decimal
    quantity: Decimal
    timestamp_ns: int
    buyer_is_maker: bool
    status: str = "Confirmed"
    order_id: str | None = None


def parse_trade(obj: Mapping[str, Any]) -> Trade:
    """Parse an MDS Trade."""
    return Trade(
        asset_id=str(require(obj, "asset_id", "trade")),
        trade_id=integer(require(obj, "trade_id", "trade"), "trade_id"),
        price=dec(require(obj, "price", "trade"), "price"),
        quantity=dec(require(obj, "quantity", "trade"), "quantity"),
        timestamp_ns=integer(require(obj, "timestamp_ns", "trade"), "timestamp_ns"),
        buyer_is_maker=bool(require(obj, "buyer_is_maker", "trade")),
        status=str(obj.get("status") or "Confirmed"),
        order_id=obj.get("order_id"),
    )


@dataclass(frozen=True, slots=True)
class UserTrade:
    """One of our fills (stream or history); `trading_fee` in USD, negative = rebate."""

    asset_id: str
    order_id: str
    price: Decimal
    quantity: Decimal
    timestamp_ns: int
    is_maker: bool
    is_buyer: bool
    status: str
    trade_id: int | None = None
    rollback_reason: str | None = None
    is_liquidation: bool = False
    sub_account: int | None = None
    trading_fee: Decimal | None = None


def parse_user_trade(obj: Mapping[str, Any]) -> UserTrade:
    """Parse a UserTrade frame or a HistoricalUserTrade row."""
    w = "user trade"
    return UserTrade(
        asset_id=str(require(obj, "asset_id", w)),
        order_id=str(require(obj, "order_id", w)),
        price=dec(require(obj, "price", w), "price"),
        quantity=dec(require(obj, "quantity", w), "quantity"),
        timestamp_ns=integer(require(obj, "timestamp_ns", w), "timestamp_ns"),
        is_maker=bool(require(obj, "is_maker", w)),
        is_buyer=bool(require(obj, "is_buyer", w)),
        status=str(require(obj, "status", w)),
        trade_id=opt_int(obj.get("trade_id"), "trade_id"),
        rollback_reason=obj.get("rollback_reason"),
        is_liquidation=bool(obj.get("is_liquidation", False)),
        sub_account=opt_int(obj.get("sub_account"), "sub_account"),
        trading_fee=opt_dec(obj.get("trading_fee"), "trading_fee"),
    )


@dataclass(frozen=True, slots=True)
class Ticker:
    """24 h market summary in human units."""

    asset_id: str
    volume_24h: Decimal
    timestamp_ns: int | None
    last_price: Decimal | None = None
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    best_bid: BookLevel | None = None
    best_ask: BookLevel | None = None
    high_24h: Decimal | None = None
    low_24h: Decimal | None = None
    price_change_24h: Decimal | None = None
    price_change_pct_24h: Decimal | None = None


def _quote(obj: Any) -> BookLevel | None:
    if not isinstance(obj, Mapping):
        return None
    return BookLevel(dec(obj.get("price"), "price"), dec(obj.get("size"), "size"))


def parse_ticker(obj: Mapping[str, Any]) -> Ticker:
    """Parse an MDS Ticker."""
    return Ticker(
        asset_id=str(require(obj, "asset_id", "ticker")),
        volume_24h=dec(require(obj, "volume_24h", "ticker"), "volume_24h"),
        timestamp_ns=opt_int(obj.get("timestamp_ns"), "timestamp_ns"),
        last_price=opt_dec(obj.get("last_price")),
        mark_price=opt_dec(obj.get("mark_price")),
        index_price=opt_dec(obj.get("index_price")),
        best_bid=_quote(obj.get("best_bid")),
        best_ask=_quote(obj.get("best_ask")),
        high_24h=opt_dec(obj.get("high_24h")),
        low_24h=opt_dec(obj.get("low_24h")),
        price_change_24h=opt_dec(obj.get("price_change_24h")),
        price_change_pct_24h=opt_dec(obj.get("price_change_pct_24h")),
    )


@dataclass(frozen=True, slots=True)
class Kline:
    """One OHLCV bar in human units."""

    open_timestamp_ns: int
    close_timestamp_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def parse_kline(obj: Mapping[str, Any]) -> Kline:
    """Parse a Timebar."""
    return Kline(
        open_timestamp_ns=integer(require(obj, "open_timestamp_ns", "kline"), "open_timestamp_ns"),
        close_timestamp_ns=integer(require(obj, "close_timestamp_ns", "kline"), "close_ts"),
        open=dec(require(obj, "open", "kline"), "open"),
        high=dec(require(obj, "high", "kline"), "high"),
        low=dec(require(obj, "low", "kline"), "low"),
        close=dec(require(obj, "close", "kline"), "close"),
        volume=dec(require(obj, "volume", "kline"), "volume"),
    )


# --- orders ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderAck:
    """The venue's answer to a create/cancel/replace/amend: "Received" or "Rejected"."""

    order_id: str
    status: str
    reason: str | None = None
    processed_at_ns: int | None = None

    @property
    def accepted(self) -> bool:
        """True when the venue took the operation."""
        return self.status == "Received"


def parse_ack(obj: Mapping[str, Any]) -> OrderAck:
    """Parse an OrderOperationResponse or a batch result row."""
    status = str(require(obj, "status", "order ack"))
    if status not in ("Received", "Rejected"):
        raise WireError(f"order ack: unknown status {status!r}")
    reason = obj.get("reason")
    return OrderAck(
        order_id=str(require(obj, "order_id", "order ack")),
        status=status,
        reason=None if reason is None else str(reason),
        processed_at_ns=opt_int(obj.get("processed_at_ns"), "processed_at_ns"),
    )


@dataclass(frozen=True, slots=True)
class OrderInfo:
    """An order as listed by the OMS: raw book-unit ints and human Decimals side by side."""

    order_id: str
    asset_id: str
    side: str
    status: str
    price_decimals: int
    quantity_decimals: int
    limit_price_raw: int | None
    quantity_raw: int
    filled_quantity_raw: int
    canceled: bool
    timestamp_ns: int
    last_update_timestamp_ns: int | None = None
    good_until_ns: int | None = None
    trigger_above_raw: int | None = None
    trigger_below_raw: int | None = None
    parent_id: str | None = None
    is_reduce_only: bool = False
    is_ioc: bool = False
    is_fok: bool = False
    authorization_revision: int | None = None
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def price(self) -> Decimal | None:
        """Limit price in quote per base (None for market orders)."""
        return scaled(self.limit_price_raw, self.price_decimals)

    @property
    def quantity(self) -> Decimal:
        """Lifetime-total base quantity."""
        return Decimal(self.quantity_raw).scaleb(-self.quantity_decimals)

    @property
    def filled_quantity(self) -> Decimal:
        """Confirmed plus pending filled base quantity."""
        return Decimal(self.filled_quantity_raw).scaleb(-self.quantity_decimals)

    @property
    def remaining_quantity(self) -> Decimal:
        """What is left to fill."""
        return self.quantity - self.filled_quantity

    @property
    def trigger_above(self) -> Decimal | None:
        """Trigger price (fires when the price rises to it)."""
        return scaled(self.trigger_above_raw, self.price_decimals)

    @property
    def trigger_below(self) -> Decimal | None:
        """Trigger price (fires when the price falls to it)."""
        return scaled(self.trigger_below_raw, self.price_decimals)

    @property
    def is_open(self) -> bool:
        """Still resting (or waiting for its trigger) on the book."""
        return not self.canceled and self.status.lower() not in TERMINAL_STATUSES


def parse_order(obj: Mapping[str, Any], price_decimals: int, quantity_decimals: int) -> OrderInfo:
    """Parse an OMS OrderResponse whose ints are book units of the given market."""
    w = "order"
    filled = integer(obj.get("confirmed_filled_quantity") or 0, "confirmed_filled_quantity")
    filled += integer(obj.get("pending_filled_quantity") or 0, "pending_filled_quantity")
    revision = obj.get("authorization_revision", obj.get("last_authorization_revision"))
    return OrderInfo(
        order_id=str(require(obj, "order_id", w)),
        asset_id=str(require(obj, "base_asset", w)),
        side=str(require(obj, "side", w)),
        status=str(require(obj, "status", w)),
        price_decimals=price_decimals,
        quantity_decimals=quantity_decimals,
        limit_price_raw=opt_int(require(obj, "limit_price", w), "limit_price"),
        quantity_raw=integer(require(obj, "quantity", w), "quantity"),
        filled_quantity_raw=filled,
        canceled=bool(obj.get("canceled", False)),
        timestamp_ns=integer(require(obj, "timestamp_ns", w), "timestamp_ns"),
        last_update_timestamp_ns=opt_int(obj.get("last_update_timestamp_ns")),
        good_until_ns=opt_int(obj.get("good_until_timestamp_ns")),
        trigger_above_raw=opt_int(obj.get("trigger_above_price")),
        trigger_below_raw=opt_int(obj.get("trigger_below_price")),
        parent_id=obj.get("parent_id"),
        is_reduce_only=bool(obj.get("is_reduce_only", False)),
        is_ioc=bool(obj.get("is_immediate_or_cancel", False)),
        is_fok=bool(obj.get("is_fill_or_kill", False)),
        authorization_revision=opt_int(revision, "authorization_revision"),
        raw=dict(obj),
    )


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A fully built (and signed) write, ready to send; `order_id` is fixed before sending."""

    method: str
    path: str
    body: Mapping[str, Any]
    order_id: str | None = None


# --- stream events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An `/orders` stream event: `kind` is the normalized variant (CREATED, REMOVED, ...)."""

    kind: str
    order_id: str | None
    asset_id: str | None
    data: Mapping[str, Any]


def _variant(obj: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    for tag in ("type", "event_type"):  # legacy internal tagging; tpluspy accepts both keys
        if isinstance(obj.get(tag), str):
            return obj[tag], obj
    if len(obj) == 1:
        name, data = next(iter(obj.items()))
        if isinstance(data, Mapping):
            return str(name), data
    raise WireError("event: expected one externally tagged variant")


def parse_order_event(obj: Mapping[str, Any]) -> OrderEvent:
    """Parse an order event (external tagging, or the legacy internal `type`/`event_type` form)."""
    name, data = _variant(obj)
    kind = name.replace("_", "").upper()
    order = data.get("user_order")
    if isinstance(order, Mapping):
        order_id, asset = order.get("order_id"), order.get("base_asset")
    else:
        order_id, asset = data.get("order_id"), data.get("asset_id")
    return OrderEvent(kind, order_id, None if asset is None else str(asset), dict(data))


@dataclass(frozen=True, slots=True)
class AccountEvent:
    """A `/account/events` frame: `kind` is the variant name as sent."""

    kind: str
    data: Mapping[str, Any]


def parse_account_event(obj: Mapping[str, Any]) -> AccountEvent:
    """Parse a UserActivityEvent (external tagging required)."""
    if len(obj) != 1:
        raise WireError("account event: expected exactly one variant key")
    name, data = next(iter(obj.items()))
    if not isinstance(data, Mapping):
        raise WireError("account event: variant body must be an object")
    return AccountEvent(str(name), dict(data))


__all__ = [
    "AccountEvent",
    "AssetInfo",
    "Balance",
    "BookLevel",
    "BookSnapshot",
    "CloseAllOrder",
    "CloseAllPreview",
    "INVENTORY_SCALE",
    "Inventory",
    "Kline",
    "MarginAccount",
    "MarginBalance",
    "MarginInfo",
    "MarginPosition",
    "MarginWarning",
    "Market",
    "OrderAck",
    "OrderEvent",
    "OrderInfo",
    "Position",
    "PreparedRequest",
    "Solvency",
    "TERMINAL_STATUSES",
    "Ticker",
    "Trade",
    "UserTrade",
    "WireError",
    "dec",
    "integer",
    "inventory_amount",
    "items_of",
    "opt_dec",
    "opt_int",
    "parse_account_event",
    "parse_ack",
    "parse_asset_info",
    "parse_book",
    "parse_close_all",
    "parse_inventory",
    "parse_kline",
    "parse_margin",
    "parse_market",
    "parse_order",
    "parse_order_event",
    "parse_position",
    "parse_solvency",
    "parse_ticker",
    "parse_trade",
    "parse_user_trade",
    "require",
    "scaled",
]
