"""Pure builders for the trading commands: book ladder, spread and mid, as plain data.

Commands hand wire models in and get rows (dicts of str/int/Decimal/bool/None) out, so one
emitter renders them as a table, JSON, NDJSON or CSV. Nothing here does I/O or rounds money.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, Inexact, localcontext
from typing import Any, Protocol


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
