"""A live order book: a resilient depth-diff stream plus snapshots, assembled per spec §8.5.

`book_feed` drives `BookAssembler` from a `ResilientStream` of depth diffs: on every
(re)connect it discards the book and fetches a fresh snapshot while diffs buffer; on a gap,
duplicate or failed check it resyncs from a new snapshot on the same connection; a snapshot
that cannot be fetched (or keeps failing) forces a reconnect, which backs off. It yields
`BookUpdate`s (the live book after each change) interleaved with the stream's `StreamStatus`
items, including `resyncing`/`resynced`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from tplus_cli.client.book import (
    BookAssembler,
    BookFormatError,
    DepthUpdate,
    OrderBook,
    Outcome,
    parse_depth,
)
from tplus_cli.client.errors import ClientError
from tplus_cli.client.stream import Frame, ResilientStream, StreamStatus

FetchSnapshot = Callable[[], Awaitable[DepthUpdate]]


class _Level(Protocol):
    @property
    def price(self) -> Decimal: ...

    @property
    def quantity(self) -> Decimal: ...


class _Snapshot(Protocol):
    @property
    def bids(self) -> Sequence[_Level]: ...

    @property
    def asks(self) -> Sequence[_Level]: ...

    @property
    def sequence(self) -> int: ...


class SnapshotSource(Protocol):
    """Anything with TplusClient's `orderbook(asset)`."""

    async def orderbook(self, asset: str) -> _Snapshot: ...


async def fetch_snapshot(client: SnapshotSource, asset: str) -> DepthUpdate:
    """`GET /marketdepth/{asset}` as a DepthUpdate, the assembler's snapshot input."""
    snap = await client.orderbook(asset)
    return DepthUpdate(
        tuple((lv.price, lv.quantity) for lv in snap.bids),
        tuple((lv.price, lv.quantity) for lv in snap.asks),
        snap.sequence,
    )


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """The book after a change; `diff` is None when it was just (re)built from a snapshot.

    `book` is the feed's live object: read it before asking for the next item, never mutate it.
    """

    book: OrderBook
    diff: DepthUpdate | None


BookItem = BookUpdate | StreamStatus


async def book_feed(
    stream: ResilientStream, fetch_snapshot: FetchSnapshot, *, max_failed_resyncs: int = 3
) -> AsyncGenerator[BookItem, None]:
    """Yield a consistent book after every applied diff or resync, plus lifecycle statuses."""
    feed = _Feed(stream, fetch_snapshot, max_failed_resyncs)
    try:
        async for item in feed.run():
            yield item
    finally:
        await feed.close()


class _Feed:
    """State of one `book_feed` run: the assembler, the pending snapshot and stream reads."""

    def __init__(self, stream: ResilientStream, fetch: FetchSnapshot, max_failed: int) -> None:
        self.stream = stream
        self.fetch = fetch
        self.max_failed = max_failed
        self.asm = BookAssembler()
        self.items = stream.__aiter__()
        self.snapshot: asyncio.Task[DepthUpdate] | None = None
        self.pending: asyncio.Task[Any] | None = None
        self.failed = 0
        self.connections = 0

    async def run(self) -> AsyncIterator[BookItem]:
        while True:
            if self.snapshot is None and self.pending is None:
                # Fast path (no snapshot in flight): read the stream directly, no extra task.
                try:
                    item = await anext(self.items)
                except StopAsyncIteration:
                    return
                for out in self._on_item(item):
                    yield out
                continue
            if self.pending is None:
                self.pending = asyncio.ensure_future(anext(self.items))
            waits: set[asyncio.Future[Any]] = {self.pending}
            if self.snapshot is not None:
                waits.add(self.snapshot)
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if self.snapshot is not None and self.snapshot in done:
                fetched, self.snapshot = self.snapshot, None
                for out in self._on_snapshot(fetched):
                    yield out
            if self.pending in done:
                read, self.pending = self.pending, None
                try:
                    item = read.result()
                except StopAsyncIteration:
                    return
                for out in self._on_item(item):
                    yield out

    def _on_item(self, item: Frame | StreamStatus) -> list[BookItem]:
        if isinstance(item, StreamStatus):
            if item.state in ("connected", "disconnected"):
                self._cancel_snapshot()
                self.asm.reset("initial" if self.connections == 0 else "reconnect")
                if item.state == "connected":
                    self.connections += 1
                    self._start_snapshot()
            return [item]
        try:
            diff = parse_depth(item.data)
        except BookFormatError as exc:
            self.asm.reset(f"malformed depth frame: {exc}")
            return self._resync()
        outcome = self.asm.on_diff(diff)
        if outcome is Outcome.APPLIED:
            return [BookUpdate(self.asm.book, diff)]
        if outcome is Outcome.RESYNC:
            return self._resync()
        return []

    def _resync(self) -> list[BookItem]:
        reason = self.asm.resync_reason or "resync"
        if self.snapshot is None:
            self._start_snapshot()
        return [self.stream.status("resyncing", reason=reason)]

    def _on_snapshot(self, task: asyncio.Task[DepthUpdate]) -> list[BookItem]:
        reason = self.asm.resync_reason or "resync"
        try:
            snapshot = task.result()
        except (ClientError, BookFormatError, OSError) as exc:
            self.stream.reconnect(f"snapshot failed: {exc}")
            return []
        if self.asm.on_snapshot(snapshot) is Outcome.SYNCED:
            self.failed = 0
            return [
                self.stream.status("resynced", reason=reason),
                BookUpdate(self.asm.book, None),
            ]
        self.failed += 1
        if self.failed >= self.max_failed:
            self.failed = 0
            self.stream.reconnect(f"book would not sync: {self.asm.resync_reason}")
            return []
        return self._resync()

    def _start_snapshot(self) -> None:
        self.snapshot = asyncio.ensure_future(self.fetch())

    def _cancel_snapshot(self) -> None:
        if self.snapshot is not None:
            self.snapshot.cancel()
            self.snapshot = None

    async def close(self) -> None:
        """Cancel outstanding work and close the underlying stream."""
        for task in (self.snapshot, self.pending):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self.snapshot = self.pending = None
        aclose = getattr(self.items, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
