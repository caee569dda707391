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

from rich.console import RenderableType
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
    """The whole view as one Rich renderable (pure: same input, same output).

    The ladder is laid out here as fixed-width styled lines rather than a rich Table: a
    40-row Table costs ~40 ms to measure and render, the lines a small fraction of that,
    which keeps redraws cheap under a fast feed.
    """
    depth = clamp_depth(view.depth)
    bids, asks = list(view.bids[:depth]), list(view.asks[:depth])
    largest = max((s for _, s in [*bids, *asks]), default=Decimal(0))
    rows: list[tuple[str, str, str, str, str, str]] = []  # side colour + 5 cells
    ask_rows = [
        _cells(view, "ask", price, size, total, largest, ascii_only)
        for (price, size), total in zip(asks, _cumulative(asks), strict=True)
    ]
    rows.extend(("red", *cells) for cells in reversed(ask_rows))
    spread_at = len(rows)
    rows.extend(
        ("green", *_cells(view, "bid", price, size, total, largest, ascii_only))
        for (price, size), total in zip(bids, _cumulative(bids), strict=True)
    )
    head = ("", "Price", "Size", "Total", "Depth", "Mine")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(6)]
    widths[4] = max(widths[4], BAR_WIDTH)
    text = header_line(view)
    text.append("\n")
    text.append(_line(head, widths).rstrip(), style="bold")
    for index, row in enumerate(rows):
        if index == spread_at:
            _spread(text, view, bids, asks, widths)
        _ladder_row(text, row, widths)
    if spread_at == len(rows):
        _spread(text, view, bids, asks, widths)
    hidden = hidden_own(view, bids, asks)
    if hidden:
        listed = ", ".join(f"{side} {view.price(p)} x {view.size(q)}" for side, p, q in hidden)
        text.append(f"\nmine outside the view: {listed}", style="bold")
    if view.keys_hint:
        text.append(f"\ndepth {depth}  +/- change depth  q quit", style="dim")
    return text


def hidden_own(
    view: BookView, bids: Sequence[Level], asks: Sequence[Level]
) -> list[tuple[str, Decimal, Decimal]]:
    """Our resting orders at levels the current depth does not show (nearest first)."""
    shown = {("bid", p) for p, _ in bids} | {("ask", p) for p, _ in asks}
    hidden = [(side, p, q) for (side, p), q in view.own.items() if (side, p) not in shown]
    return sorted(hidden, key=lambda h: (h[0], -h[1] if h[0] == "bid" else h[1]))


def _cells(
    view: BookView,
    side: str,
    price: Decimal,
    size: Decimal,
    total: Decimal,
    largest: Decimal,
    ascii_only: bool,
) -> tuple[str, str, str, str, str]:
    mine = view.own.get((side, price))
    return (
        view.price(price),
        view.size(size),
        view.size(total),
        _bar(size, largest, ascii_only),
        f"< mine {view.size(mine)}" if mine is not None else "",
    )


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    """Price/Size/Total right-aligned, Depth/Mine left-aligned, two spaces apart."""
    return "  ".join(
        [
            cells[1].rjust(widths[1]),
            cells[2].rjust(widths[2]),
            cells[3].rjust(widths[3]),
            cells[4].ljust(widths[4]),
            cells[5],
        ]
    )


def _ladder_row(text: Text, row: tuple[str, ...], widths: Sequence[int]) -> None:
    colour = row[0]
    text.append("\n")
    text.append(row[1].rjust(widths[1]), style=colour)
    text.append("  " + row[2].rjust(widths[2]) + "  ")
    text.append(row[3].rjust(widths[3]), style="dim")
    text.append("  ")
    if row[5]:
        text.append(row[4].ljust(widths[4]), style=colour)
        text.append("  " + row[5], style="bold")
    else:
        text.append(row[4], style=colour)


def _spread(
    text: Text, view: BookView, bids: Sequence[Level], asks: Sequence[Level], widths: Sequence[int]
) -> None:
    indent = " " * (widths[1] + widths[2] + widths[3] + 6)
    text.append("\n" + indent)
    text.append(f"-- {spread_line(view, bids, asks)} --", style="bold")


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
