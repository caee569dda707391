"""Fault injection: a real `tplus venue serve`, a TCP proxy that breaks things, a book that survives.

The proxy sits between the streaming client and the venue. It drops every WebSocket
connection, delays frames, and swallows one depth diff (a skipped sequence number). After
each fault the client must report the lifecycle (disconnected → reconnecting → connected →
resynced, or resyncing → resynced on the gap) and converge; at the end its assembled book
must equal the venue's own snapshot, level for level, at the same sequence number.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tplus_cli.client.api import TplusClient
from tplus_cli.client.book import OrderBook
from tplus_cli.client.book_feed import BookUpdate, book_feed, fetch_snapshot
from tplus_cli.client.stream import Backoff, ResilientStream, StreamStatus

pytestmark = pytest.mark.slow

TIMEOUT = 30.0 * float(os.environ.get("TPLUS_TEST_TIMEOUT_FACTOR", "1"))
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")


@pytest.fixture
def venue_port(tmp_path: Path) -> Iterator[int]:
    """`tplus venue serve --port 0 --no-simulate` on its own store; yields the bound port."""
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tplus_cli.app", "venue", "serve", "--port", "0", "--no-simulate"]
        + ["--db", str(tmp_path / "venue.sqlite3")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    port: list[int] = []
    ready = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            found = LISTENING.search(line)
            if found and not port:
                port.append(int(found.group(1)))
                ready.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert ready.wait(TIMEOUT), "venue did not announce its port"
        yield port[0]
    finally:
        proc.terminate()
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()


class FaultProxy:
    """Loopback TCP proxy; for WebSocket connections it parses server frames so it can
    delay them or drop one depth diff. Compression is stripped from the handshake so
    frames can be dropped without breaking a deflate context."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.delay = 0.0
        self.drop_next_depth = False
        self.dropped_frames = 0
        self.websockets: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.drop_websockets()
        if self.server is not None:
            self.server.close()

    def drop_websockets(self) -> None:
        """Abort every open WebSocket connection (an abnormal close for the client)."""
        for writer in list(self.websockets):
            writer.transport.abort()
        self.websockets.clear()

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        try:
            ureader, uwriter = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            cwriter.transport.abort()
            return
        head = await creader.readuntil(b"\r\n\r\n")
        upgrade = b"upgrade: websocket" in head.lower()
        if upgrade:
            lines = head.split(b"\r\n")
            head = b"\r\n".join(
                ln for ln in lines if not ln.lower().startswith(b"sec-websocket-extensions")
            )
            self.websockets.add(cwriter)
        uwriter.write(head)
        up = asyncio.ensure_future(self._pipe(creader, uwriter))
        down = asyncio.ensure_future(
            self._frames(ureader, cwriter) if upgrade else self._pipe(ureader, cwriter)
        )
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
        for writer in (cwriter, uwriter):
            writer.transport.abort()
        self.websockets.discard(cwriter)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def _frames(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            writer.write(await reader.readuntil(b"\r\n\r\n"))  # the 101 response
            while True:
                header = await reader.readexactly(2)
                size = header[1] & 0x7F
                extra = b""
                if size == 126:
                    extra = await reader.readexactly(2)
                    size = int.from_bytes(extra, "big")
                elif size == 127:
                    extra = await reader.readexactly(8)
                    size = int.from_bytes(extra, "big")
                payload = await reader.readexactly(size)
                is_text = header[0] & 0x0F == 1
                if is_text and self.drop_next_depth and b'"sequence_number"' in payload:
                    self.drop_next_depth = False
                    self.dropped_frames += 1
                    continue
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(header + extra + payload)
                await writer.drain()


class Follower:
    """Runs the resilient book feed through the proxy and records what it saw."""

    def __init__(self, client: TplusClient, asset: str) -> None:
        stream = ResilientStream(
            "book BTC",
            client.dialer(f"/marketdepth/diff/{asset}", auth=False),
            backoff=Backoff(base=0.1),
        )
        self.items = book_feed(stream, lambda: fetch_snapshot(client, asset))
        self.book: OrderBook | None = None
        self.statuses: list[StreamStatus] = []
        self.changed = asyncio.Condition()
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        async for item in self.items:
            async with self.changed:
                if isinstance(item, BookUpdate):
                    self.book = item.book
                else:
                    self.statuses.append(item)
                self.changed.notify_all()

    def states(self) -> list[str]:
        return [s.state for s in self.statuses]

    async def until(self, ok: Callable[[], bool], what: str) -> None:
        """Wait (bounded) until `ok()` holds after some item arrived."""

        async def wait() -> None:
            async with self.changed:
                await self.changed.wait_for(ok)

        try:
            await asyncio.wait_for(wait(), TIMEOUT)
        except TimeoutError:
            raise AssertionError(
                f"timed out waiting for {what}; statuses {self.states()}"
            ) from None

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.items.aclose()


async def _synced_with(follower: Follower, venue: TplusClient, asset: str) -> None:
    """Wait until the follower's book is at the venue's current sequence and equals it."""
    snap = await venue.orderbook(asset)
    truth = OrderBook.from_levels(
        [(lv.price, lv.quantity) for lv in snap.bids],
        [(lv.price, lv.quantity) for lv in snap.asks],
        snap.sequence,
    )
    await follower.until(
        lambda: follower.book is not None and follower.book.sequence == snap.sequence,
        f"sequence {snap.sequence}",
    )
    assert follower.book == truth
    assert follower.book.bids() == truth.bids() and follower.book.asks() == truth.asks()


def test_book_survives_drops_delays_and_a_skipped_sequence(venue_port: int) -> None:
    """Every fault is survived, reported, and the final book equals the venue's snapshot."""

    async def scenario() -> None:
        proxy = FaultProxy(venue_port)
        await proxy.start()
        seed = os.urandom(32)
        async with (
            TplusClient(f"http://127.0.0.1:{venue_port}", seed=seed) as trader,
            TplusClient(f"http://127.0.0.1:{proxy.port}") as watcher,
        ):
            asset = await trader.resolve_asset("BTC")
            place: Callable[[str, str, str], Awaitable[object]] = lambda side, qty, px: (  # noqa: E731
                trader.place_limit(asset, side, Decimal(qty), Decimal(px))
            )
            follower = Follower(watcher, asset)
            try:
                await follower.until(lambda: "resynced" in follower.states(), "first sync")
                await place("buy", "0.01", "50000")
                await place("sell", "0.02", "52000")
                await _synced_with(follower, trader, asset)

                # 1. every WebSocket connection dropped
                seen = len(follower.statuses)
                proxy.drop_websockets()
                await follower.until(
                    lambda: follower.states()[seen:][-1:] == ["resynced"], "recovery from a drop"
                )
                assert follower.states()[seen:] == [
                    "disconnected",
                    "reconnecting",
                    "connected",
                    "resynced",
                ]
                assert follower.statuses[-1].reason == "reconnect"
                await place("buy", "0.03", "50500")
                await _synced_with(follower, trader, asset)

                # 2. frames delayed
                proxy.delay = 0.02
                for i in range(5):
                    await place("sell", "0.01", str(52500 + i * 10))
                await _synced_with(follower, trader, asset)
                proxy.delay = 0.0

                # 3. one depth diff swallowed: a sequence gap → resync on the same connection
                seen = len(follower.statuses)
                proxy.drop_next_depth = True
                await place("buy", "0.04", "49000")
                await place("buy", "0.05", "48000")
                await follower.until(
                    lambda: follower.states()[seen:][-1:] == ["resynced"], "resync after a gap"
                )
                assert follower.states()[seen:] == ["resyncing", "resynced"]
                assert "gap" in (follower.statuses[seen].reason or "")
                assert proxy.dropped_frames == 1

                # 4. drop again while orders keep coming, then converge
                proxy.drop_websockets()
                await place("sell", "0.06", "53000")
                await place("buy", "0.01", "50000")
                await _synced_with(follower, trader, asset)
            finally:
                await follower.stop()
                await proxy.close()

    asyncio.run(scenario())
