"""The live book view: pure renderable (golden text) and the throttled redraw driver."""

from __future__ import annotations

import asyncio
import io
from decimal import Decimal

from rich.console import Console, RenderableType
from rich.live import Live

from tplus_cli.render.book_view import (
    BookView,
    LiveDriver,
    Throttle,
    book_renderable,
    book_snapshot_json,
    clamp_depth,
)

D = Decimal

VIEW = BookView(
    "BTC",
    bids=[(D("65000.0"), D("2.0")), (D("64999.5"), D("0.5"))],
    asks=[(D("65001.0"), D("1.25")), (D("65002.0"), D("3"))],
    depth=10,
    connection="live",
    live=True,
    sequence=42,
    last_price=D("65000.5"),
    change_24h=D("120.5"),
    change_pct_24h=D("0.19"),
    own={("bid", D("64999.5")): D("0.5")},
    price_places=1,
    size_places=3,
)


def text_of(renderable: RenderableType, width: int = 100) -> str:
    console = Console(
        file=io.StringIO(), width=width, no_color=True, force_terminal=False, record=True
    )
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def test_golden_view() -> None:
    """Asks above bids, bars by size, cumulative depth, spread/mid, own order marked."""
    assert text_of(book_renderable(VIEW, ascii_only=True)) == "\n".join(
        [
            "BTC  last 65000.5  24h +120.5 (+0.19%)  [live]  seq 42",
            "  Price   Size  Total  Depth                 Mine",
            "65002.0  3.000  4.250  ####################",
            "65001.0  1.250  1.250  ########",
            "                       -- spread 1.0  mid 65000.5 --",
            "65000.0  2.000  2.000  #############",
            "64999.5  0.500  2.500  ###                   < mine 0.500",
            "depth 10  +/- change depth  q quit",
        ]
    )


def test_depth_limits_rows_and_is_clamped() -> None:
    """Only `depth` levels per side are shown; depth stays within 1..50."""
    out = text_of(book_renderable(BookView(**{**_fields(VIEW), "depth": 1}), ascii_only=True))
    prices = [line.split()[0] for line in out.splitlines()[2:-1] if line[:1].isdigit()]
    assert prices == ["65001.0", "65000.0"]
    assert "mine outside the view: bid 64999.5 x 0.500" in out
    assert (clamp_depth(0), clamp_depth(7), clamp_depth(500)) == (1, 7, 50)


def test_own_orders_beyond_the_depth_are_listed_not_lost() -> None:
    """An order deeper than the view is named under the ladder, nearest first."""
    own = {
        ("bid", D("64999.5")): D("0.5"),
        ("bid", D("60000")): D("1"),
        ("bid", D("61000")): D("2"),
        ("ask", D("70000")): D("3"),
    }
    view = BookView(**{**_fields(VIEW), "own": own})
    lines = text_of(book_renderable(view, ascii_only=True)).splitlines()
    assert lines[-2] == (
        "mine outside the view: ask 70000.0 x 3.000, bid 61000.0 x 2.000, bid 60000.0 x 1.000"
    )
    assert "< mine 0.500" in lines[-3]


def test_empty_and_one_sided_books_say_so() -> None:
    """No crash and a clear note when a side (or everything) is missing."""
    empty = BookView("ETH", bids=[], asks=[], depth=5, connection="reconnecting in 1.0s")
    out = text_of(book_renderable(empty))
    assert "empty book" in out and "[reconnecting in 1.0s]" in out
    one = BookView("ETH", bids=[(D(1), D(1))], asks=[], depth=5)
    assert "one-sided book" in text_of(book_renderable(one))


def test_off_grid_values_are_shown_exactly() -> None:
    """A value finer than the market's decimals is never rounded for display."""
    view = BookView("X", bids=[(D("1.05"), D("1"))], asks=[], depth=5, price_places=1)
    assert "1.05" in text_of(book_renderable(view))


def test_snapshot_json_is_decimal_strings() -> None:
    """The NDJSON fallback keeps prices and sizes as exact strings."""
    doc = book_snapshot_json(VIEW)
    assert doc["bids"][0] == ["65000.0", "2.0"]
    assert doc["mine"] == [{"side": "bid", "price": "64999.5", "quantity": "0.5"}]
    assert doc["last_price"] == "65000.5" and doc["sequence"] == 42


def _fields(view: BookView) -> dict[str, object]:
    return {name: getattr(view, name) for name in view.__slots__}


class FakeTime:
    """A clock moved by the test; sleep yields until the test has moved it far enough."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        target = self.now + seconds
        while self.now < target - 1e-12:  # noqa: ASYNC110 - the test moves the clock
            await asyncio.sleep(0)


class RecordingLive:
    def __init__(self) -> None:
        self.frames: list[tuple[float, RenderableType]] = []
        self.time: FakeTime | None = None

    def update(self, renderable: RenderableType, *, refresh: bool = False) -> None:
        assert refresh
        self.frames.append((self.time.now if self.time else 0.0, renderable))


def test_throttle_draws_only_when_dirty_and_not_too_often() -> None:
    """wait_time: None when clean, 0 for the first draw, the rest of the interval after."""
    t = FakeTime()
    th = Throttle(0.05, t.clock)
    assert th.wait_time() == 0.0
    th.drawn()
    assert th.wait_time() is None
    th.dirty = True
    t.now = 0.02
    assert abs((th.wait_time() or 0) - 0.03) < 1e-9
    t.now = 0.5
    assert th.wait_time() == 0.0


def test_driver_coalesces_a_fast_feed_to_at_most_max_fps() -> None:
    """1,000 changes over one (virtual) second → ~20 redraws, never two within 50 ms."""
    t = FakeTime()
    live = RecordingLive()
    live.time = t
    driver = LiveDriver(live, lambda: "frame", max_fps=20, sleep=t.sleep, clock=t.clock)

    async def feed() -> None:
        runner = asyncio.ensure_future(driver.run())
        for _ in range(1000):
            t.now += 0.001
            driver.changed()
            await asyncio.sleep(0)
        for _ in range(5):
            await asyncio.sleep(0)
        runner.cancel()

    asyncio.run(feed())
    times = [at for at, _ in live.frames]
    assert 15 <= len(times) <= 21
    assert all(b - a >= 0.05 - 1e-9 for a, b in zip(times, times[1:], strict=False))


def test_driver_does_not_redraw_when_nothing_changed() -> None:
    """After the first frame an idle view is never redrawn."""
    t = FakeTime()
    live = RecordingLive()
    driver = LiveDriver(live, lambda: "x", sleep=t.sleep, clock=t.clock)

    async def idle() -> None:
        runner = asyncio.ensure_future(driver.run())
        for _ in range(50):
            await asyncio.sleep(0)
        runner.cancel()

    asyncio.run(idle())
    assert driver.draws == 1


def test_driver_with_a_real_live_writes_the_view() -> None:
    """Driving rich's Live (auto_refresh off) puts the book on the terminal."""
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=True, no_color=True)
    with Live(console=console, auto_refresh=False, transient=False) as live:
        driver = LiveDriver(live, lambda: book_renderable(VIEW))
        driver.draw_now()
    assert "< mine 0.500" in out.getvalue()
    assert driver.draws == 1
