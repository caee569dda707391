"""Live views: `tplus book SYMBOL --watch` and `tplus order list --watch`.

Several resilient streams feed one small state object; every change marks the view dirty
and a `LiveDriver` redraws at most 20 times a second (never when nothing changed). On a
terminal the view is a Rich `Live` with keys read in cbreak mode (`+`/`-` depth, `q` quit;
the terminal is restored on exit). When stdout is not a terminal the same state is written
as NDJSON snapshots, one envelope per (throttled) change. Imported lazily by book_watch.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tplus_cli.client.book import OrderBook
from tplus_cli.client.book_feed import BookUpdate, book_feed, fetch_snapshot
from tplus_cli.client.errors import ClientError
from tplus_cli.client.stream import Backoff, ResilientStream, StreamStatus, retry_setup
from tplus_cli.commands._streaming import symbol_map
from tplus_cli.errors import AuthError, Interrupted
from tplus_cli.render import console, stream_lines
from tplus_cli.render.book_view import (
    MAX_DEPTH,
    BookView,
    LiveDriver,
    book_renderable,
    book_snapshot_json,
)
from tplus_cli.render.book_view import clamp_depth as _clamp

if TYPE_CHECKING:
    from tplus_cli.client.api import TplusClient
    from tplus_cli.client.wire import OrderInfo
    from tplus_cli.runtime import Runtime

MAX_FPS = 20.0
STALE_AFTER_S = 60.0


def connection_text(status: StreamStatus) -> tuple[str, bool]:
    """What the view shows for a lifecycle change, and whether the book is live."""
    if status.state == "resynced":
        return "live", True
    if status.state == "reconnecting" and status.delay is not None:
        return f"reconnecting in {status.delay:.1f}s (attempt {status.attempt})", False
    if status.state == "resyncing":
        return f"resyncing: {status.reason}", False
    if status.state == "connected":
        return "syncing", False
    return status.state.replace("_", " "), False


def own_levels(orders: list[OrderInfo]) -> dict[tuple[str, Decimal], Decimal]:
    """Remaining size of our resting limit orders per (bid|ask, price)."""
    mine: dict[tuple[str, Decimal], Decimal] = {}
    for order in orders:
        price = order.price
        if price is None or not order.is_open:
            continue
        key = ("bid" if order.side.lower() == "buy" else "ask", price)
        mine[key] = mine.get(key, Decimal(0)) + order.remaining_quantity
    return mine


@dataclass
class WatchState:
    """Everything the book view shows; mutated by the feeds, read by the renderer."""

    symbol: str
    depth: int
    book: OrderBook | None = None
    connection: str = "connecting"
    live: bool = False
    last_price: Decimal | None = None
    change_24h: Decimal | None = None
    change_pct_24h: Decimal | None = None
    own: dict[tuple[str, Decimal], Decimal] = field(default_factory=dict)
    price_places: int | None = None
    size_places: int | None = None

    def view(self, *, keys_hint: bool = True, max_depth: int | None = None) -> BookView:
        """The current state as the pure view model (depth capped at `max_depth` if given)."""
        book = self.book
        depth = _clamp(self.depth if max_depth is None else min(self.depth, max_depth))
        return BookView(
            self.symbol,
            bids=book.bids(depth) if book is not None else [],
            asks=book.asks(depth) if book is not None else [],
            depth=depth,
            connection=self.connection,
            live=self.live,
            sequence=book.sequence if book is not None else None,
            last_price=self.last_price,
            change_24h=self.change_24h,
            change_pct_24h=self.change_pct_24h,
            own=dict(self.own),
            price_places=self.price_places,
            size_places=self.size_places,
            keys_hint=keys_hint,
        )

    def apply_ticker(self, data: Any) -> None:
        """Take last price and 24 h change from a Ticker frame or model."""
        for attr, key in (
            ("last_price", "last_price"),
            ("change_24h", "price_change_24h"),
            ("change_pct_24h", "price_change_pct_24h"),
        ):
            value = data.get(key) if isinstance(data, dict) else getattr(data, key, None)
            if value is not None:
                setattr(self, attr, Decimal(str(value)))


class NdjsonSink:
    """A LiveLike that writes each redraw as one NDJSON envelope (stdout is not a terminal)."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.seq = 0

    def update(self, renderable: Any, *, refresh: bool = False) -> None:
        """Write the current state as the next envelope (None: nothing to show yet)."""
        if renderable is None:
            return
        self.seq += 1
        line = stream_lines.envelope(self.stream, self.seq, datetime.now(UTC), renderable)
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


@contextlib.contextmanager
def key_reader(on_key: Callable[[str], None]) -> Iterator[bool]:
    """Deliver single key presses from a terminal stdin (cbreak mode); restore it on exit."""
    if not console.stdin_isatty():
        yield False
        return
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    loop = asyncio.get_running_loop()

    def readable() -> None:
        data = os.read(fd, 64)
        for ch in data.decode("utf-8", "ignore"):
            on_key(ch)

    tty.setcbreak(fd)
    loop.add_reader(fd, readable)
    try:
        yield True
    finally:
        loop.remove_reader(fd)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def terminal_session(
    watch: Watch, on_key: Callable[[str], None], on_resize: Callable[[], None]
) -> Iterator[None]:
    """Keys in cbreak mode, a redraw on resize (SIGWINCH), and a clean stop on SIGTERM/SIGHUP:
    whatever ends the view, the terminal is restored."""
    import signal

    loop = asyncio.get_running_loop()
    handlers = {
        signal.SIGWINCH: on_resize,
        signal.SIGTERM: watch.terminate,
        signal.SIGHUP: watch.terminate,
    }
    with key_reader(on_key):
        for sig, callback in handlers.items():
            loop.add_signal_handler(sig, callback)
        try:
            yield
        finally:
            for sig in handlers:
                loop.remove_signal_handler(sig)


def track_size(term: Any) -> int:
    """Follow the real terminal size (not LINES/COLUMNS frozen at start); returns the rows."""
    try:
        columns, rows = os.get_terminal_size(sys.stdout.fileno())
    except (OSError, ValueError):
        return int(term.size.height)
    if (columns, rows) != tuple(term.size):
        term.size = (columns, rows)
    return rows


def fit_depth(rows: int) -> int:
    """Levels per side that fit `rows` terminal lines (header, column names, spread, 2 footers)."""
    return max(1, (rows - 5) // 2)


class Watch:
    """Runs a set of feed tasks plus the redraw driver until `q`, Ctrl-C or a fatal error."""

    def __init__(self) -> None:
        self.quit = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.terminated = False

    def terminate(self) -> None:
        """Stop because of a termination signal (the view still cleans up, then exits 130)."""
        self.terminated = True
        self.quit.set()

    def start(self, coro: Awaitable[None]) -> None:
        """Run `coro` as part of the view; its failure ends the view with that error."""
        self.tasks.append(asyncio.ensure_future(coro))

    async def run(self) -> None:
        """Wait for quit or the first task to fail; always cancel the rest."""
        quitter = asyncio.ensure_future(self.quit.wait())
        try:
            done, _ = await asyncio.wait(
                [quitter, *self.tasks], return_when=asyncio.FIRST_COMPLETED
            )
            for task in done:
                if task is not quitter and not task.cancelled():
                    task.result()  # re-raise a failed feed (e.g. StreamGaveUp → exit 6)
        finally:
            for task in [quitter, *self.tasks]:
                task.cancel()
            for task in [quitter, *self.tasks]:
                with contextlib.suppress(BaseException):
                    await task
        if self.terminated:
            raise Interrupted("terminated by a signal")


def _stream(
    client: TplusClient, name: str, path: str, *, auth: bool, stale: float | None
) -> ResilientStream:
    """A stream that retries forever (a view reports outages, it does not give up)."""
    return ResilientStream(
        name, client.dialer(path, auth=auth), backoff=Backoff(), stale_after=stale
    )


async def _follow_frames(
    stream: ResilientStream,
    on_frame: Callable[[Any], None],
    on_connected: Callable[[], None] | None = None,
) -> None:
    """Feed a stream's data to `on_frame`; `on_connected` runs after every (re)connect."""
    async for item in stream:
        if not isinstance(item, StreamStatus):
            on_frame(item.data)
        elif item.state == "connected" and on_connected is not None:
            on_connected()


class Refresher:
    """Coalesces "something changed" signals into one REST re-read at a time."""

    def __init__(self, fetch: Callable[[], Awaitable[None]]) -> None:
        self.fetch = fetch
        self.wanted = asyncio.Event()
        self.wanted.set()

    def poke(self, _data: Any = None) -> None:
        """Ask for a re-read (coalesced with any already pending)."""
        self.wanted.set()

    async def run(self) -> None:
        """Re-read whenever poked; a failed read waits for the next poke (streams report outages)."""
        while True:
            await self.wanted.wait()
            self.wanted.clear()
            with contextlib.suppress(ClientError):
                await self.fetch()


def _own_orders_feeds(client: TplusClient, watch: Watch, refresher: Refresher, label: str) -> None:
    """Re-read our open orders whenever an order event or a fill arrives, and after every
    (re)connect of those streams: events missed while disconnected are covered by the re-read."""
    pk = client.public_key
    watch.start(refresher.run())
    watch.start(
        _follow_frames(
            _stream(client, f"orders {label}", "/orders", auth=True, stale=None),
            refresher.poke,
            refresher.poke,
        )
    )
    watch.start(
        _follow_frames(
            _stream(client, f"fills {label}", f"/trades/user/events/{pk}", auth=True, stale=None),
            refresher.poke,
            refresher.poke,
        )
    )


async def watch_book(rt: Runtime, symbol: str, depth: int) -> None:
    """The live book view (TTY) or NDJSON snapshots (piped) until `q` / Ctrl-C."""
    tty = console.stdout_isatty() and rt.output_format == "table"
    try:
        rt.signing_seed()  # loads (or, on the paper venue, creates) the key own orders need
        signing = True
    except AuthError:
        signing = False  # no key: the book still shows, without "mine" markers
    async with rt.client(signing=signing) as client:
        asset = await retry_setup(
            f"book {symbol}",
            lambda: client.resolve_asset(symbol),
            backoff=Backoff(),
            max_retries=None,
            on_status=lambda s: rt.notice(f"book {s.describe()}"),
        )
        label = (await symbol_map(client)).get(asset, symbol.upper())
        state = WatchState(label, depth)
        with contextlib.suppress(ClientError):
            market = await client.market(asset)
            state.price_places, state.size_places = market.price_decimals, market.quantity_decimals
        await _run_book_view(rt, client, asset, state, tty, signing)


async def _run_book_view(
    rt: Runtime, client: TplusClient, asset: str, state: WatchState, tty: bool, signing: bool
) -> None:
    watch = Watch()
    live_cm: Any
    if tty:
        from rich.live import Live

        term = console.make_console()
        live_cm = Live(console=term, auto_refresh=False, transient=False)
        ascii_only = not (sys.stdout.encoding or "").lower().startswith("utf")

        def render() -> Any:
            view = state.view(max_depth=fit_depth(track_size(term)))
            return book_renderable(view, ascii_only=ascii_only)

        def max_depth() -> int:
            return fit_depth(track_size(term))
    else:
        live_cm = contextlib.nullcontext(NdjsonSink("book"))

        def render() -> Any:
            if state.book is None:
                return None  # no empty "book" line before the first snapshot lands
            return book_snapshot_json(state.view(keys_hint=False))

        def max_depth() -> int:
            return MAX_DEPTH

    with live_cm as live:
        driver: LiveDriver[Any] = LiveDriver(live, render, max_fps=MAX_FPS)

        async def book() -> None:
            stream = _stream(
                client,
                f"book {state.symbol}",
                f"/marketdepth/diff/{asset}",
                auth=False,
                stale=STALE_AFTER_S,
            )
            async for item in book_feed(stream, lambda: fetch_snapshot(client, asset)):
                if isinstance(item, BookUpdate):
                    state.book = item.book
                else:
                    state.connection, state.live = connection_text(item)
                driver.changed()

        async def ticker() -> None:
            with contextlib.suppress(ClientError):
                state.apply_ticker(await client.ticker(asset))
                driver.changed()

            def on_frame(data: Any) -> None:
                state.apply_ticker(data)
                driver.changed()

            await _follow_frames(
                _stream(client, "ticker", f"/ticker/ws/{asset}", auth=False, stale=None), on_frame
            )

        async def mine() -> None:
            state.own = own_levels(await client.user_orders(asset, open_only=True))
            driver.changed()

        def on_key(ch: str) -> None:
            if ch in "qQ":
                watch.quit.set()
            elif ch in "+=":
                state.depth = _clamp(min(state.depth + 1, max_depth()))
                driver.changed()
            elif ch in "-_":
                state.depth = _clamp(state.depth - 1)
                driver.changed()

        watch.start(book())
        watch.start(ticker())
        if signing:
            _own_orders_feeds(client, watch, Refresher(mine), state.symbol)
        watch.start(driver.run())
        with terminal_session(watch, on_key, driver.changed) if tty else contextlib.nullcontext():
            await watch.run()


async def watch_orders(rt: Runtime, symbol: str | None) -> None:
    """Open orders, re-read on every order event or fill: a live table or NDJSON lists."""
    from tplus_cli.render import tables
    from tplus_cli.render.trading import ORDER_COLUMNS, order_row

    tty = console.stdout_isatty() and rt.output_format == "table"
    async with rt.client(signing=True) as client:
        asset = None
        if symbol is not None:
            asset = await client.resolve_asset(symbol)
        symbols = await symbol_map(client)
        rows: list[dict[str, Any]] = []

        async def fetch() -> None:
            nonlocal rows
            orders = await client.user_orders(asset, open_only=True)
            fresh = [
                order_row(o, symbols)
                for o in sorted(orders, key=lambda o: (o.timestamp_ns, o.order_id))
            ]
            if fresh != rows or driver.draws == 0:
                rows = fresh
                driver.changed()

        watch = Watch()
        live_cm: Any
        if tty:
            from rich.console import Group
            from rich.live import Live
            from rich.text import Text

            term = console.make_console()
            live_cm = Live(console=term, auto_refresh=False, transient=False)
            specs = tables.as_columns(list(ORDER_COLUMNS))

            def render() -> Any:
                track_size(term)
                title = f"Open orders{' ' + symbol.upper() if symbol else ''} (live)"
                body = (
                    tables.build_table(rows, specs, title=title)
                    if rows
                    else Text("No open orders.")
                )
                return Group(body, Text("q quit", style="dim"))
        else:
            live_cm = contextlib.nullcontext(NdjsonSink("orders"))

            def render() -> Any:
                return rows

        with live_cm as live:
            driver: LiveDriver[Any] = LiveDriver(live, render, max_fps=MAX_FPS)
            driver.throttle.dirty = False  # first draw once the first read is in
            refresher = Refresher(fetch)
            _own_orders_feeds(client, watch, refresher, symbol or "all")
            watch.start(driver.run())

            def on_key(ch: str) -> None:
                if ch in "qQ":
                    watch.quit.set()

            with (
                terminal_session(watch, on_key, driver.changed) if tty else contextlib.nullcontext()
            ):
                await watch.run()
