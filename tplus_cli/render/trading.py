"""Pure builders for the trading commands: book ladder, spread and mid, as plain data.

Commands hand wire models in and get rows (dicts of str/int/Decimal/bool/None) out, so one
emitter renders them as a table, JSON, NDJSON or CSV. Nothing here does I/O or rounds money.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, Inexact, localcontext
from typing import TYPE_CHECKING, Any, Protocol

from tplus_cli.client.wire import Balance, MarginAccount, Market, OrderInfo, UserTrade
from tplus_cli.render.tables import Column

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text


class Level(Protocol):
    """One price level, as the client's BookLevel exposes it (human-unit Decimals)."""

    @property
    def price(self) -> Decimal: ...

    @property
    def quantity(self) -> Decimal: ...


@dataclass(frozen=True)
class LadderLevel:
    """A book level with the size accumulated from the best price outwards."""

    side: str
    price: Decimal
    quantity: Decimal
    cumulative: Decimal


@dataclass(frozen=True)
class BookView:
    """A depth-limited snapshot ready to render: asks and bids both ordered best first."""

    symbol: str
    asset_id: str
    sequence: int
    asks: tuple[LadderLevel, ...]
    bids: tuple[LadderLevel, ...]

    @property
    def best_bid(self) -> Decimal | None:
        """Highest bid, or None on an empty side."""
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """Lowest ask, or None on an empty side."""
        return self.asks[0].price if self.asks else None

    @property
    def spread(self) -> Decimal | None:
        """Best ask minus best bid (exact), or None when a side is empty."""
        if self.best_bid is None or self.best_ask is None:
            return None
        return self.best_ask - self.best_bid

    @property
    def mid(self) -> Decimal | None:
        """Midpoint of the best prices (exact: halving a finite decimal never rounds)."""
        if self.best_bid is None or self.best_ask is None:
            return None
        with localcontext() as ctx:
            ctx.prec = 200  # far above any book's digits; Inexact would raise, never round
            ctx.traps[Inexact] = True
            return (self.best_bid + self.best_ask) / 2

    def to_json(self) -> dict[str, Any]:
        """The `-o json` object: metadata, both sides best first, spread and mid."""
        return {
            "symbol": self.symbol,
            "asset_id": self.asset_id,
            "sequence": self.sequence,
            "best_bid": self.best_bid,
            "best_ask": self.best_ask,
            "spread": self.spread,
            "mid": self.mid,
            "asks": [_level_json(lv) for lv in self.asks],
            "bids": [_level_json(lv) for lv in self.bids],
        }

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows for ndjson/csv: asks then bids, each side best first."""
        return [_level_row(lv) for lv in (*self.asks, *self.bids)]

    def ladder(self) -> list[dict[str, Any]]:
        """Rows in ladder order for a table: asks highest first, then bids highest first."""
        return [_level_row(lv) for lv in (*reversed(self.asks), *self.bids)]


BOOK_COLUMNS = ("side", "price", "quantity", "cumulative")


def _level_json(level: LadderLevel) -> dict[str, Any]:
    return {"price": level.price, "quantity": level.quantity, "cumulative": level.cumulative}


def _level_row(level: LadderLevel) -> dict[str, Any]:
    return {"side": level.side, **_level_json(level)}


def _accumulate(side: str, levels: Sequence[Level], depth: int) -> tuple[LadderLevel, ...]:
    total = Decimal(0)
    out: list[LadderLevel] = []
    for level in levels[:depth]:
        total += level.quantity
        out.append(LadderLevel(side, level.price, level.quantity, total))
    return tuple(out)


def book_view(
    *,
    symbol: str,
    asset_id: str,
    sequence: int,
    bids: Sequence[Level],
    asks: Sequence[Level],
    depth: int,
) -> BookView:
    """Sort each side best first, cut it to `depth` levels and accumulate sizes."""
    best_bids = sorted(bids, key=lambda lv: lv.price, reverse=True)
    best_asks = sorted(asks, key=lambda lv: lv.price)
    return BookView(
        symbol=symbol,
        asset_id=asset_id,
        sequence=sequence,
        asks=_accumulate("ask", best_asks, depth),
        bids=_accumulate("bid", best_bids, depth),
    )


def book_summary(view: BookView) -> str:
    """The one line under the ladder: spread and mid, or why there are none."""
    if view.spread is None or view.mid is None:
        return "spread: - (one side of the book is empty)"
    return f"spread: {view.spread}  mid: {view.mid}"


# --- rows for the list commands --------------------------------------------------------------


def iso_ns(ns: int | None) -> str | None:
    """Unix ns as ISO-8601 UTC with millisecond precision (what a human scans); None stays None."""
    if ns is None:
        return None
    seconds, rem = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rem // 1_000_000:03d}Z"


def ppm_percent(ppm: int | None) -> Decimal | None:
    """A ppm fee rate as a percentage, exactly: 500 ppm → 0.05."""
    return None if ppm is None else Decimal(ppm).scaleb(-4).normalize()


def symbol_of(asset_id: str, symbols: Mapping[str, str]) -> str:
    """The display symbol of an asset id, falling back to the id itself."""
    return symbols.get(asset_id, asset_id)


MARKET_COLUMNS = (
    Column("symbol"),
    Column("asset_id", "id"),
    Column("tick_size", "tick", "right"),
    Column("min_order_size", "min size", "right"),
    Column("price_decimals", "px dp", "right"),
    Column("quantity_decimals", "qty dp", "right"),
    Column("taker_fee_pct", "taker %", "right"),
    Column("maker_fee_pct", "maker %", "right"),
)
"""Table columns for markets; every row key is also available to --fields and json."""


def market_row(market: Market, symbols: Mapping[str, str]) -> dict[str, Any]:
    """One market: decimals, tick, minimum size and fee rates (percent of notional)."""
    return {
        "symbol": market.symbol or symbol_of(market.asset_id, symbols),
        "asset_id": market.asset_id,
        "tick_size": market.tick_size,
        "min_order_size": market.min_order_size,
        "price_decimals": market.price_decimals,
        "quantity_decimals": market.quantity_decimals,
        "taker_fee_pct": ppm_percent(market.taker_fee_rate),
        "maker_fee_pct": ppm_percent(market.maker_fee_rate),
    }


ORDER_COLUMNS = ("order_id", "symbol", "side", "type", "price", "quantity", "filled", "status")
"""Table columns for orders (json/csv carry every key of order_row, e.g. tif and created)."""


def _order_type(order: OrderInfo) -> str:
    kind = "limit" if order.limit_price_raw is not None else "market"
    if order.trigger_above_raw is not None or order.trigger_below_raw is not None:
        kind = f"stop-{kind}"
    return kind


def _order_tif(order: OrderInfo) -> str:
    if order.is_fok:
        return "fok"
    if order.is_ioc:
        return "ioc"
    return "gtd" if order.good_until_ns is not None else "gtc"


def order_status(status: str, canceled: bool = False) -> str:
    """The venue's status in snake case ("PartiallyFilled" → "partially_filled"), one spelling
    of cancelled whatever the venue uses."""
    if canceled:
        return "cancelled"
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", status.strip()).lower()
    return "cancelled" if snake == "canceled" else snake


def order_row(order: OrderInfo, symbols: Mapping[str, str]) -> dict[str, Any]:
    """One order in human units, with type/tif/status spelled as the CLI flags spell them."""
    return {
        "order_id": order.order_id,
        "symbol": symbol_of(order.asset_id, symbols),
        "asset_id": order.asset_id,
        "side": order.side.lower(),
        "type": _order_type(order),
        "price": order.price,
        "quantity": order.quantity,
        "filled": order.filled_quantity,
        "remaining": order.remaining_quantity,
        "status": order_status(order.status, order.canceled),
        "tif": _order_tif(order),
        "good_until": iso_ns(order.good_until_ns),
        "trigger_above": order.trigger_above,
        "trigger_below": order.trigger_below,
        "reduce_only": order.is_reduce_only,
        "created": iso_ns(order.timestamp_ns),
        "timestamp_ns": order.timestamp_ns,
    }


TRADE_COLUMNS = ("time", "symbol", "side", "price", "quantity", "fee", "role")
"""Table columns for fills (json/csv also carry order_id, trade_id, status, sub_account)."""


def trade_row(trade: UserTrade, symbols: Mapping[str, str]) -> dict[str, Any]:
    """One of our fills: our side, maker/taker role and the fee charged (negative = rebate)."""
    return {
        "time": iso_ns(trade.timestamp_ns),
        "symbol": symbol_of(trade.asset_id, symbols),
        "asset_id": trade.asset_id,
        "side": "buy" if trade.is_buyer else "sell",
        "price": trade.price,
        "quantity": trade.quantity,
        "fee": trade.trading_fee,
        "role": "maker" if trade.is_maker else "taker",
        "order_id": trade.order_id,
        "trade_id": trade.trade_id,
        "status": trade.status.lower(),
        "sub_account": trade.sub_account,
        "timestamp_ns": trade.timestamp_ns,
    }


BALANCE_COLUMNS = ("sub_account", "symbol", "available", "held", "total")


def balance_row(balance: Balance, symbols: Mapping[str, str]) -> dict[str, Any]:
    """One asset of one sub-account: available, held by open orders, and total."""
    held = balance.held if balance.held is not None else balance.total - balance.available
    return {
        "sub_account": balance.sub_account,
        "asset_id": balance.asset_id,
        "symbol": symbol_of(balance.asset_id, symbols),
        "available": balance.available,
        "held": held,
        "total": balance.total,
    }


def ladder_table(view: BookView) -> Table:
    """The book as a ladder: asks highest first above a rule, then bids (summary printed after)."""
    from rich.table import Table

    table = Table(
        title=f"{view.symbol} order book (seq {view.sequence})",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for name in BOOK_COLUMNS:
        table.add_column(name, justify="left" if name == "side" else "right")
    for level in reversed(view.asks):
        table.add_row(*_ladder_cells(level, "red"))
    table.add_section()
    for level in view.bids:
        table.add_row(*_ladder_cells(level, "green"))
    return table


def _ladder_cells(level: LadderLevel, style: str) -> list[Text]:
    from rich.text import Text

    cells = (level.side, level.price, level.quantity, level.cumulative)
    return [Text(format(c, "f") if isinstance(c, Decimal) else c, style=style) for c in cells]


SUMMARY_COLUMNS = (
    "sub_account",
    "kind",
    "equity",
    "available_margin",
    "utilized_margin",
    "unrealized_pnl",
    "is_solvent",
    "distance_from_liquidation",
)


def account_summary_row(
    sub_account: int,
    kind: str | None,
    margin: MarginAccount | None,
    solvency: tuple[bool, Decimal | None] | None,
) -> dict[str, Any]:
    """Margin health and solvency of one sub-account (None where the venue reports nothing)."""
    solvent = solvency[0] if solvency else (margin.is_solvent if margin else None)
    return {
        "sub_account": sub_account,
        "kind": kind,
        "equity": margin.account_equity if margin else None,
        "available_margin": margin.available_margin if margin else None,
        "utilized_margin": margin.utilized_margin if margin else None,
        "unrealized_pnl": margin.total_upnl if margin else None,
        "is_solvent": solvent,
        "is_liquidatable": margin.is_liquidatable if margin else None,
        "distance_from_liquidation": solvency[1] if solvency else None,
    }


def summary_line(row: Mapping[str, Any]) -> str:
    """One human line per sub-account under the balances table (zero margin use omitted)."""
    head = f"sub-account {row['sub_account']}"
    if row.get("kind"):
        head += f" ({row['kind']})"
    parts = []
    for key, label in (
        ("equity", "equity"),
        ("available_margin", "available"),
        ("utilized_margin", "used"),
        ("unrealized_pnl", "uPnL"),
    ):
        value = row.get(key)
        if value is not None and (key == "equity" or value != 0):
            parts.append(f"{label} {_short(value)}")
    if row.get("is_solvent") is not None:
        parts.append("solvent" if row["is_solvent"] else "NOT SOLVENT")
    return f"{head}: {', '.join(parts)}" if parts else head


def _short(value: Any) -> str:
    """Fixed-point text without trailing fractional zeros (display only; the value is exact)."""
    if not isinstance(value, Decimal):
        return str(value)
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
