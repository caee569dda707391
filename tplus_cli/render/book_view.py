"""The live order-book view: a pure renderable plus an event-driven, throttled redraw driver.

`book_renderable(view)` turns a `BookView` (plain data) into a Rich renderable with no I/O:
asks above bids with size bars and cumulative depth, spread and mid between them, last trade
and 24 h change, the caller's own resting orders marked at their levels, and the connection
state. `LiveDriver` redraws a `Live(auto_refresh=False)` only when something changed, at most
`max_fps` times a second, so a fast feed never turns into a redraw storm.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

Level = tuple[Decimal, Decimal]
MIN_DEPTH, MAX_DEPTH = 1, 50
BAR_WIDTH = 20


@dataclass(frozen=True, slots=True)
class BookView:
    """Everything the view shows, as plain data (human-unit Decimals)."""

    symbol: str
    bids: Sequence[Level]  # best first
    asks: Sequence[Level]  # best first
    depth: int
    connection: str = "connecting"
    live: bool = False
    sequence: int | None = None
    last_price: Decimal | None = None
    change_24h: Decimal | None = None
    change_pct_24h: Decimal | None = None
    own: Mapping[tuple[str, Decimal], Decimal] = field(default_factory=dict)  # (bid|ask, price)
    price_places: int | None = None  # the market's decimals, for aligned columns
    size_places: int | None = None
    keys_hint: bool = True

    def price(self, value: Decimal) -> str:
        """A price shown with the market's decimals (exact: Decimal formatting, no float)."""
        return _fixed(value, self.price_places)

    def size(self, value: Decimal) -> str:
        """A size shown with the market's quantity decimals."""
        return _fixed(value, self.size_places)


def _fixed(value: Decimal, places: int | None) -> str:
    if places is None or value != value.quantize(Decimal(1).scaleb(-places)):
        return str(value)
    return f"{value:.{places}f}"


def clamp_depth(depth: int) -> int:
    """Depth kept within what fits a terminal."""
    return max(MIN_DEPTH, min(MAX_DEPTH, depth))


def _bar(size: Decimal, largest: Decimal, ascii_only: bool) -> str:
    if largest <= 0 or size <= 0:
        return ""
    cells = max(1, int(size * BAR_WIDTH / largest))
    return ("#" if ascii_only else "█") * min(cells, BAR_WIDTH)


def _cumulative(levels: Sequence[Level]) -> list[Decimal]:
    total, out = Decimal(0), []
    for _, size in levels:
        total += size
        out.append(total)
    return out


def _signed(value: Decimal) -> str:
    return f"+{value}" if value > 0 else str(value)


def header_line(view: BookView) -> Text:
    """Symbol, last trade, 24 h change and the connection state."""
    text = Text()
    text.append(view.symbol, style="bold")
    if view.last_price is not None:
        text.append(f"  last {view.price(view.last_price)}")
    if view.change_24h is not None or view.change_pct_24h is not None:
        parts = []
        if view.change_24h is not None:
            parts.append(_signed(view.change_24h))
        if view.change_pct_24h is not None:
            parts.append(f"({_signed(view.change_pct_24h)}%)")
        change = view.change_pct_24h if view.change_pct_24h is not None else view.change_24h
        style = "green" if change is not None and change > 0 else "red" if change else ""
        text.append("  24h " + " ".join(parts), style=style)
    state_style = "green" if view.live else "yellow"
    text.append(f"  [{view.connection}]", style=state_style)
    if view.sequence is not None:
        text.append(f"  seq {view.sequence}", style="dim")
    return text


def spread_line(view: BookView, bids: Sequence[Level], asks: Sequence[Level]) -> str:
    """`spread X  mid Y` from the best levels, or a note when a side is empty."""
    if not bids or not asks:
        return "one-sided book" if bids or asks else "empty book"
    best_bid, best_ask = bids[0][0], asks[0][0]
    mid = (best_bid + best_ask) / 2
    return f"spread {view.price(best_ask - best_bid)}  mid {mid}"


def book_renderable(view: BookView, *, ascii_only: bool = False) -> RenderableType:
    """The whole view as one Rich renderable (pure: same input, same output)."""
    depth = clamp_depth(view.depth)
    bids, asks = list(view.bids[:depth]), list(view.asks[:depth])
    largest = max((s for _, s in [*bids, *asks]), default=Decimal(0))
    table = Table(box=None, pad_edge=False, show_edge=False, expand=False)
    table.add_column("Price", justify="right", no_wrap=True)
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Total", justify="right", no_wrap=True)
    table.add_column("Depth", justify="left", no_wrap=True, min_width=BAR_WIDTH)
    table.add_column("Mine", justify="left", no_wrap=True)
    ask_totals = _cumulative(asks)
    for (price, size), total in reversed(list(zip(asks, ask_totals, strict=True))):
        table.add_row(*_row(view, "ask", price, size, total, largest, ascii_only, "red"))
    table.add_row("", "", "", Text(f"-- {spread_line(view, bids, asks)} --", style="bold"), "")
    for (price, size), total in zip(bids, _cumulative(bids), strict=True):
        table.add_row(*_row(view, "bid", price, size, total, largest, ascii_only, "green"))
    parts: list[RenderableType] = [header_line(view), table]
    if view.keys_hint:
        parts.append(Text(f"depth {depth}  +/- change depth  q quit", style="dim"))
    return Group(*parts)


def _row(
    view: BookView,
    side: str,
    price: Decimal,
    size: Decimal,
    total: Decimal,
    largest: Decimal,
    ascii_only: bool,
    colour: str,
) -> tuple[Text, Text, Text, Text, Text]:
    mine = view.own.get((side, price))
    return (
        Text(view.price(price), style=colour),
        Text(view.size(size)),
        Text(view.size(total), style="dim"),
        Text(_bar(size, largest, ascii_only), style=colour),
        Text(f"< mine {view.size(mine)}" if mine is not None else "", style="bold"),
    )


def book_snapshot_json(view: BookView) -> dict[str, Any]:
    """The NDJSON form of the view (used when stdout is not a terminal)."""
    depth = clamp_depth(view.depth)
    return {
        "symbol": view.symbol,
        "sequence": view.sequence,
        "bids": [[str(p), str(q)] for p, q in view.bids[:depth]],
        "asks": [[str(p), str(q)] for p, q in view.asks[:depth]],
        "last_price": None if view.last_price is None else str(view.last_price),
        "change_pct_24h": None if view.change_pct_24h is None else str(view.change_pct_24h),
        "mine": [
            {"side": side, "price": str(price), "quantity": str(qty)}
            for (side, price), qty in sorted(view.own.items())
        ],
        "connection": view.connection,
    }


# --- the throttled driver --------------------------------------------------------------------


T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class LiveLike(Protocol[T_contra]):
    """The part of `rich.live.Live` the driver uses (an NDJSON writer can stand in)."""

    def update(self, renderable: T_contra, *, refresh: bool = False) -> None: ...


@dataclass
class Throttle:
    """Redraw policy: only when dirty, and no sooner than `min_interval` after the last draw."""

    min_interval: float
    clock: Callable[[], float] = time.monotonic
    dirty: bool = True
    last: float | None = None

    def wait_time(self) -> float | None:
        """None: nothing to draw; 0: draw now; else seconds to wait before drawing."""
        if not self.dirty:
            return None
        if self.last is None:
            return 0.0
        return max(0.0, self.last + self.min_interval - self.clock())

    def drawn(self) -> None:
        """Record a redraw."""
        self.dirty = False
        self.last = self.clock()


class LiveDriver(Generic[T]):
    """Redraw `live` from `render()` when `changed()` was called, throttled to `max_fps`."""

    def __init__(
        self,
        live: LiveLike[T],
        render: Callable[[], T],
        *,
        max_fps: float = 20.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._live = live
        self._render = render
        self._sleep = sleep
        self.throttle = Throttle(1.0 / max_fps, clock)
        self._wake = asyncio.Event()
        self.draws = 0

    def changed(self) -> None:
        """Something the view shows changed: schedule a redraw."""
        self.throttle.dirty = True
        self._wake.set()

    def draw_now(self) -> None:
        """Redraw immediately (first frame, resize, key press)."""
        self._live.update(self._render(), refresh=True)
        self.throttle.drawn()
        self.draws += 1

    async def run(self) -> None:
        """Redraw loop; runs until cancelled."""
        while True:
            wait = self.throttle.wait_time()
            if wait is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            if wait > 0:
                await self._sleep(wait)
            self.draw_now()
