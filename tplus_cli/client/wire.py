"""Typed views of T+ JSON responses: frozen dataclasses, Decimals in human units, no I/O.

Parsers are tolerant: unknown extra keys are ignored, decimals may be JSON strings or numbers
(responses are decoded with `parse_float=Decimal`, so no float ever appears), and `0x`-hex
U256 strings are accepted where the spec warns they occur. Missing required keys raise
`WireError`. Pure: the venue may import this module, so it must not import httpx.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

INVENTORY_SCALE = Decimal(10) ** 18
# Order status is free text (spec §5.3); anything not known to be final counts as open.
TERMINAL_STATUSES = frozenset(
    {"filled", "completed", "closed", "canceled", "cancelled", "expired", "rejected", "removed"}
)


class WireError(ValueError):
    """A response did not have the shape the spec promises."""


def dec(value: Any, what: str = "value") -> Decimal:
    """A Decimal from a JSON string/int/Decimal; floats and bools are refused (money is exact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise WireError(f"{what}: refusing {type(value).__name__} {value!r}")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise WireError(f"{what}: not a decimal: {value!r}") from None
        if result.is_finite():
            return result
    raise WireError(f"{what}: not a decimal: {value!r}")


def opt_dec(value: Any, what: str = "value") -> Decimal | None:
    """Like dec() but None stays None."""
    return None if value is None else dec(value, what)


def integer(value: Any, what: str = "value") -> int:
    """An int from a JSON int, integral Decimal, decimal string or `0x`-hex (U256) string."""
    if isinstance(value, bool):
        raise WireError(f"{what}: refusing bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lower().startswith("0x"):
        try:
            return int(value.strip(), 16)
        except ValueError:
            raise WireError(f"{what}: bad hex {value!r}") from None
    number = dec(value, what)
    if number != number.to_integral_value():
        raise WireError(f"{what}: not an integer: {value!r}")
    return int(number)


def opt_int(value: Any, what: str = "value") -> int | None:
    """Like integer() but None stays None."""
    return None if value is None else integer(value, what)


def scaled(raw: int | None, decimals: int) -> Decimal | None:
    """Book-unit int → human Decimal (exact)."""
    return None if raw is None else Decimal(raw).scaleb(-decimals)


def _req(obj: Mapping[str, Any], key: str, what: str) -> Any:
    if not isinstance(obj, Mapping):
        raise WireError(f"{what}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise WireError(f"{what}: missing {key!r}")
    return obj[key]


def items_of(payload: Any, key: str) -> list[Any]:
    """The list of a paged envelope (`{key: [...]}`) or a bare list."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, Mapping) and isinstance(payload.get(key), list):
        return list(payload[key])
    raise WireError(f"expected a list or an object with {key!r}")


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
        symbol=str(_req(obj, "symbol", "symbol_map entry")),
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
    pd = integer(_req(obj, "book_price_decimals", "market"), "book_price_decimals")
    qd = integer(_req(obj, "book_quantity_decimals", "market"), "book_quantity_decimals")
    tick = opt_dec(obj.get("tick_size"), "tick_size")
    taker = maker = None
    schedule = obj.get("fee_schedule")
    tiers = schedule.get("global") if isinstance(schedule, Mapping) else None
    if isinstance(tiers, list) and tiers:
        first = min(tiers, key=lambda t: dec(t.get("min_rolling_volume_usd", 0)))
        taker = opt_int(first.get("taker_fee_rate"), "taker_fee_rate")
        maker = opt_int(first.get("maker_fee_rate"), "maker_fee_rate")
    return Market(
        asset_id=str(_req(obj, "asset_id", "market")),
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
        asset_id=str(_req(obj, "asset_id", "trade")),
        trade_id=integer(_req(obj, "trade_id", "trade"), "trade_id"),
        price=dec(_req(obj, "price", "trade"), "price"),
        quantity=dec(_req(obj, "quantity", "trade"), "quantity"),
        timestamp_ns=integer(_req(obj, "timestamp_ns", "trade"), "timestamp_ns"),
        buyer_is_maker=bool(_req(obj, "buyer_is_maker", "trade")),
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
        asset_id=str(_req(obj, "asset_id", w)),
        order_id=str(_req(obj, "order_id", w)),
        price=dec(_req(obj, "price", w), "price"),
        quantity=dec(_req(obj, "quantity", w), "quantity"),
        timestamp_ns=integer(_req(obj, "timestamp_ns", w), "timestamp_ns"),
        is_maker=bool(_req(obj, "is_maker", w)),
        is_buyer=bool(_req(obj, "is_buyer", w)),
        status=str(_req(obj, "status", w)),
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
        asset_id=str(_req(obj, "asset_id", "ticker")),
        volume_24h=dec(_req(obj, "volume_24h", "ticker"), "volume_24h"),
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
        open_timestamp_ns=integer(_req(obj, "open_timestamp_ns", "kline"), "open_timestamp_ns"),
        close_timestamp_ns=integer(_req(obj, "close_timestamp_ns", "kline"), "close_ts"),
        open=dec(_req(obj, "open", "kline"), "open"),
        high=dec(_req(obj, "high", "kline"), "high"),
        low=dec(_req(obj, "low", "kline"), "low"),
        close=dec(_req(obj, "close", "kline"), "close"),
        volume=dec(_req(obj, "volume", "kline"), "volume"),
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
    status = str(_req(obj, "status", "order ack"))
    if status not in ("Received", "Rejected"):
        raise WireError(f"order ack: unknown status {status!r}")
    reason = obj.get("reason")
    return OrderAck(
        order_id=str(_req(obj, "order_id", "order ack")),
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
        order_id=str(_req(obj, "order_id", w)),
        asset_id=str(_req(obj, "base_asset", w)),
        side=str(_req(obj, "side", w)),
        status=str(_req(obj, "status", w)),
        price_decimals=price_decimals,
        quantity_decimals=quantity_decimals,
        limit_price_raw=opt_int(_req(obj, "limit_price", w), "limit_price"),
        quantity_raw=integer(_req(obj, "quantity", w), "quantity"),
        filled_quantity_raw=filled,
        canceled=bool(obj.get("canceled", False)),
        timestamp_ns=integer(_req(obj, "timestamp_ns", w), "timestamp_ns"),
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


# --- accounts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Balance:
    """One spot balance of one sub-account, human units (from 18-decimal inventory ints)."""

    sub_account: int
    asset_id: str
    available: Decimal
    total: Decimal
    held: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MarginBalance:
    """Credits/liabilities of one margin position in a sub-account, human units."""

    sub_account: int
    asset_id: str
    base_credits: Decimal
    base_liabilities: Decimal
    quote_credits: Decimal
    quote_liabilities: Decimal


@dataclass(frozen=True, slots=True)
class Inventory:
    """All balances of a user: `kinds` maps sub-account → spot/cross_margin/isolated_margin."""

    balances: tuple[Balance, ...]
    margins: tuple[MarginBalance, ...] = ()
    kinds: Mapping[int, str] = field(default_factory=dict)
    is_mm: bool = False


def inventory_amount(value: Any, what: str = "amount") -> Decimal:
    """An 18-decimal inventory int (decimal or `0x`-hex string) → human Decimal."""
    return Decimal(integer(value, what)) / INVENTORY_SCALE


def _balance(sub: int, asset: str, value: Any) -> Balance:
    if isinstance(value, Mapping):
        total = value.get("total")
        avail = value.get("available", total)
        held = value.get("held")
        a = inventory_amount(avail, "available")
        h = None if held is None else inventory_amount(held, "held")
        t = inventory_amount(total, "total") if total is not None else a + (h or 0)
        return Balance(sub, asset, available=a, total=t, held=h)
    amount = inventory_amount(value)
    return Balance(sub, asset, available=amount, total=amount)


def parse_inventory(obj: Mapping[str, Any]) -> Inventory:
    """Parse `GET /inventory/user/{pk}`; spot values may be plain amounts or {available,held,total},
    and an account may carry a sibling `held` map (spot balance includes what is held)."""
    accounts = obj.get("accounts") or {}
    balances: list[Balance] = []
    margins: list[MarginBalance] = []
    kinds: dict[int, str] = {}
    for key, account in accounts.items():
        sub = integer(key, "sub-account")
        kinds[sub] = str(account.get("kind", "spot"))
        holds = account.get("held")  # the local venue's sibling map: asset -> reserved amount
        for asset, value in (account.get("spot") or {}).items():
            balance = _balance(sub, str(asset), value)
            if balance.held is None and isinstance(holds, Mapping):
                held = inventory_amount(holds.get(asset, 0), "held")
                balance = Balance(sub, balance.asset_id, balance.total - held, balance.total, held)
            balances.append(balance)
        for asset, legs in (account.get("margins") or {}).items():
            base = legs.get("base") or legs.get("asset") or {}
            quote = legs.get("quote") or {}
            margins.append(
                MarginBalance(
                    sub,
                    str(asset),
                    inventory_amount(base.get("credits", 0)),
                    inventory_amount(base.get("liabilities", 0)),
                    inventory_amount(quote.get("credits", 0)),
                    inventory_amount(quote.get("liabilities", 0)),
                )
            )
    balances.sort(key=lambda b: (b.sub_account, b.asset_id))
    return Inventory(tuple(balances), tuple(margins), kinds, bool(obj.get("is_mm", False)))


@dataclass(frozen=True, slots=True)
class MarginPosition:
    """A position line inside a margin account summary."""

    asset_id: str
    side: str
    size: Decimal
    notional_value: Decimal | None
    margin: Decimal | None


@dataclass(frozen=True, slots=True)
class MarginAccount:
    """Margin health of one sub-account, human units (USD)."""

    sub_account: int
    account_equity: Decimal
    available_margin: Decimal
    utilized_margin: Decimal
    maintenance_margin_surplus: Decimal
    is_solvent: bool
    is_liquidatable: bool
    total_upnl: Decimal
    mm_requirement: Decimal | None = None
    account_leverage: Decimal | None = None
    positions: tuple[MarginPosition, ...] = ()


@dataclass(frozen=True, slots=True)
class MarginWarning:
    """A non-fatal note from the margin engine (e.g. a missing price)."""

    sub_account: int | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class MarginInfo:
    """`GET /margin/user/{pk}`: per sub-account health plus warnings."""

    accounts: tuple[MarginAccount, ...]
    warnings: tuple[MarginWarning, ...] = ()


def parse_margin(obj: Mapping[str, Any]) -> MarginInfo:
    """Parse UserMarginInfo."""
    accounts = []
    for key, a in (obj.get("accounts") or {}).items():
        positions = tuple(
            MarginPosition(
                asset_id=str(p.get("asset_id")),
                side=str(p.get("side", "")).lower(),
                size=dec(p.get("size"), "size"),
                notional_value=opt_dec(p.get("notional_value")),
                margin=opt_dec(p.get("margin")),
            )
            for p in (a.get("positions") or ())
        )
        w = "margin account"
        accounts.append(
            MarginAccount(
                sub_account=integer(key, "sub-account"),
                account_equity=dec(_req(a, "account_equity", w)),
                available_margin=dec(_req(a, "available_margin", w)),
                utilized_margin=dec(_req(a, "utilized_margin", w)),
                maintenance_margin_surplus=dec(_req(a, "maintenance_margin_surplus", w)),
                is_solvent=bool(_req(a, "is_solvent", w)),
                is_liquidatable=bool(_req(a, "is_liquidatable", w)),
                total_upnl=dec(_req(a, "total_upnl", w)),
                mm_requirement=opt_dec(a.get("mm_requirement")),
                account_leverage=opt_dec(a.get("account_leverage")),
                positions=positions,
            )
        )
    warnings = tuple(
        MarginWarning(opt_int(w.get("sub_account")), str(w.get("code")), str(w.get("message")))
        for w in (obj.get("warnings") or ())
    )
    accounts.sort(key=lambda a: a.sub_account)
    return MarginInfo(tuple(accounts), warnings)


@dataclass(frozen=True, slots=True)
class Solvency:
    """Per sub-account solvency: `accounts[i] = (is_solvent, distance_from_liquidation)`."""

    accounts: Mapping[int, tuple[bool, Decimal | None]]


def parse_solvency(obj: Mapping[str, Any]) -> Solvency:
    """Parse `GET /solvency/user/{pk}`."""
    return Solvency(
        {
            integer(k, "sub-account"): (
                bool(v.get("is_solvent")),
                opt_dec(v.get("distance_from_liquidation")),
            )
            for k, v in (obj.get("accounts") or {}).items()
        }
    )


@dataclass(frozen=True, slots=True)
class Position:
    """An open (or just closed) margin position, human units."""

    asset_id: str
    sub_account: int
    side: str
    size: Decimal
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    margin: Decimal | None = None
    leverage: Decimal | None = None
    liquidation_price: Decimal | None = None
    name: str | None = None


def parse_position(obj: Mapping[str, Any]) -> Position:
    """Parse a Position row."""
    return Position(
        asset_id=str(_req(obj, "asset_id", "position")),
        sub_account=integer(_req(obj, "sub_account_index", "position"), "sub_account_index"),
        side=str(_req(obj, "side", "position")),
        size=dec(_req(obj, "size", "position"), "size"),
        entry_price=opt_dec(obj.get("entry_price")),
        mark_price=opt_dec(obj.get("mark_price")),
        unrealized_pnl=opt_dec(obj.get("unrealized_pnl")),
        margin=opt_dec(obj.get("margin")),
        leverage=opt_dec(obj.get("leverage")),
        liquidation_price=opt_dec(obj.get("liquidation_price")),
        name=obj.get("name"),
    )


@dataclass(frozen=True, slots=True)
class CloseAllOrder:
    """One unsigned order suggested by the close-all preview (quantity in book units)."""

    asset_id: str
    side: str
    quantity_raw: int
    price_decimals: int
    quantity_decimals: int
    sub_account: int
    reduce_only: bool
    oracle_price: Decimal | None = None
    suggested_max_sellable_amount: int | None = None

    @property
    def quantity(self) -> Decimal:
        """Human base quantity."""
        return Decimal(self.quantity_raw).scaleb(-self.quantity_decimals)


@dataclass(frozen=True, slots=True)
class CloseAllPreview:
    """Orders that would flatten a sub-account, plus per-asset errors."""

    orders: tuple[CloseAllOrder, ...]
    errors: Mapping[str, str]


def parse_close_all(obj: Mapping[str, Any]) -> CloseAllPreview:
    """Parse `GET /positions/close-all/{pk}/{sub}`."""
    orders = tuple(
        CloseAllOrder(
            asset_id=str(_req(o, "asset_id", "close-all order")),
            side=str(_req(o, "side", "close-all order")),
            quantity_raw=integer(_req(o, "quantity", "close-all order"), "quantity"),
            price_decimals=integer(o.get("book_price_decimals", 0)),
            quantity_decimals=integer(o.get("book_quantity_decimals", 0)),
            sub_account=integer(o.get("sub_account_index", 0)),
            reduce_only=bool(o.get("reduce_only", True)),
            oracle_price=opt_dec(o.get("oracle_price")),
            suggested_max_sellable_amount=opt_int(o.get("suggested_max_sellable_amount")),
        )
        for o in (obj.get("orders") or ())
    )
    errors = {str(k): str(v) for k, v in (obj.get("errors") or {}).items()}
    return CloseAllPreview(orders, errors)


# --- stream events -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An `/orders` stream event: `kind` is the normalized variant (CREATED, REMOVED, ...)."""

    kind: str
    order_id: str | None
    asset_id: str | None
    data: Mapping[str, Any]


def _variant(obj: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    if "type" in obj and isinstance(obj["type"], str):
        return obj["type"], obj
    if len(obj) == 1:
        name, data = next(iter(obj.items()))
        if isinstance(data, Mapping):
            return str(name), data
    raise WireError("event: expected one externally tagged variant")


def parse_order_event(obj: Mapping[str, Any]) -> OrderEvent:
    """Parse an order event (external tagging, or the legacy internal `type` form)."""
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


def parse_list(payload: Any, key: str, parse: Any) -> list[Any]:
    """Parse each row of a list/paged payload with `parse`, raising on a malformed row."""
    rows: Sequence[Any] = items_of(payload, key)
    return [parse(row) for row in rows]
