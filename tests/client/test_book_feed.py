"""The live book feed: resilient depth stream + snapshots → always-consistent books."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from streamfakes import CLOSE, HANG, FakeDial, StreamClosed, VirtualTime, collect

from tplus_cli.client.book import DepthUpdate, Level, OrderBook, parse_depth
from tplus_cli.client.book_feed import BookUpdate, book_feed
from tplus_cli.client.errors import Unavailable
from tplus_cli.client.stream import ResilientStream, StreamStatus

D = Decimal


def diff(seq: int, bids: Any = (), asks: Any = ()) -> str:
    return json.dumps({"bids": list(bids), "asks": list(asks), "sequence_number": seq})


def snap(seq: int, bids: Any = (), asks: Any = ()) -> DepthUpdate:
    return parse_depth({"bids": list(bids), "asks": list(asks), "sequence_number": seq})


class Snapshots:
    """Scripted snapshot fetches, each taking `latency` virtual seconds."""

    def __init__(self, vt: VirtualTime, results: list[Any], latency: float = 1.0) -> None:
        self.vt, self.results, self.latency, self.calls = vt, list(results), latency, 0

    async def __call__(self) -> DepthUpdate:
        self.calls += 1
        await self.vt.sleep(self.latency)
        result = self.results.pop(0)
        if isinstance(result, BaseException):
            raise result
        assert isinstance(result, DepthUpdate)
        return result


def feed(vt: VirtualTime, scripts: list[Any], snaps: Snapshots) -> tuple[Any, FakeDial]:
    dial = FakeDial(scripts, vt)
    stream = ResilientStream(
        "book BTC", dial, sleep=vt.sleep, clock=vt.clock, rng=lambda: 1.0, stale_after=None
    )
    return book_feed(stream, snaps), dial


def kinds(items: list[Any]) -> list[str]:
    out: list[str] = []
    for item in items:
        if isinstance(item, StreamStatus):
            out.append(item.state)
        else:
            assert isinstance(item, BookUpdate)
            out.append("book" if item.diff is None else f"diff{item.diff.sequence}")
    return out


def test_diffs_during_snapshot_fetch_are_buffered_then_applied() -> None:
    """Diffs that arrive while the snapshot is in flight are kept; those <= S are dropped."""
    vt = VirtualTime()
    frames = [
        diff(10, bids=[["99", "1"]]),
        diff(11, bids=[["99", "2"]]),
        ("sleep", 2.0),
        diff(12, asks=[["101", "5"]]),
        HANG,
    ]
    snaps = Snapshots(vt, [snap(10, bids=[["99", "1"]], asks=[["101", "1"]])])
    items_iter, _ = feed(vt, [frames], snaps)
    seen: list[dict[str, Any]] = []

    async def run() -> list[Any]:
        out = []
        async for item in items_iter:
            out.append(item)
            if isinstance(item, BookUpdate):
                seen.append({"bids": item.book.bids(), "asks": item.book.asks()})
            if len(out) == 4:
                break
        await items_iter.aclose()
        return out

    items = vt.run(run())
    assert kinds(items) == ["connected", "resynced", "book", "diff12"]
    assert seen[0] == {"bids": [(D(99), D(2))], "asks": [(D(101), D(1))]}
    assert seen[1]["asks"] == [(D(101), D(5))]
    assert items[1].reason == "initial"


def test_gap_triggers_resync_on_the_same_connection() -> None:
    """A skipped sequence → `resyncing` with the reason, a new snapshot, `resynced`."""
    vt = VirtualTime()
    frames = [("sleep", 2.0), diff(6, bids=[["1", "1"]]), diff(8, bids=[["2", "1"]]), HANG]
    snaps = Snapshots(vt, [snap(5), snap(8, bids=[["2", "1"]])])
    items_iter, dial = feed(vt, [frames], snaps)
    items = vt.run(collect(items_iter, 6))
    assert kinds(items) == ["connected", "resynced", "book", "diff6", "resyncing", "resynced"]
    assert "gap" in (items[4].reason or "")
    assert len(dial.connections) == 1 and snaps.calls == 2


def test_reconnect_discards_the_book_and_resyncs() -> None:
    """After a drop the old book is never shown again: a fresh snapshot comes first."""
    vt = VirtualTime()
    scripts = [
        [("sleep", 2.0), diff(2, asks=[["5", "1"]]), CLOSE],
        [("sleep", 2.0), diff(10, asks=[["6", "1"]]), HANG],
    ]
    snaps = Snapshots(vt, [snap(1), snap(9, asks=[["7", "3"]])])
    items_iter, _ = feed(vt, scripts, snaps)
    books: list[Any] = []

    async def run() -> list[Any]:
        out = []
        async for item in items_iter:
            out.append(item)
            if isinstance(item, BookUpdate):
                books.append(item.book.asks())
            if len(out) == 10:
                break
        await items_iter.aclose()
        return out

    items = vt.run(run())
    assert kinds(items) == [
        "connected",
        "resynced",
        "book",
        "diff2",
        "disconnected",
        "reconnecting",
        "connected",
        "resynced",
        "book",
        "diff10",
    ]
    assert items[7].reason == "reconnect"
    assert books[-2:] == [[(D(7), D(3))], [(D(6), D(1)), (D(7), D(3))]]


def test_failed_snapshot_forces_a_reconnect_with_backoff() -> None:
    """A snapshot that cannot be fetched drops the connection; the redial backs off."""
    vt = VirtualTime()
    scripts = [[HANG], [HANG]]
    snaps = Snapshots(vt, [Unavailable("venue down"), snap(3)])
    items_iter, dial = feed(vt, scripts, snaps)
    items = vt.run(collect(items_iter, 6))
    assert kinds(items) == [
        "connected",
        "disconnected",
        "reconnecting",
        "connected",
        "resynced",
        "book",
    ]
    assert "snapshot failed" in (items[1].reason or "")


def test_malformed_depth_frame_resyncs() -> None:
    """A frame that is not a depth diff is never half-applied: resync."""
    vt = VirtualTime()
    frames = [("sleep", 2.0), json.dumps({"bids": "junk", "sequence_number": 2}), HANG]
    snaps = Snapshots(vt, [snap(1), snap(2)])
    items_iter, _ = feed(vt, [frames], snaps)
    items = vt.run(collect(items_iter, 5))
    assert kinds(items) == ["connected", "resynced", "book", "resyncing", "resynced"]
    assert "malformed" in (items[3].reason or "")


def test_a_book_that_never_syncs_makes_the_stream_reconnect() -> None:
    """Repeatedly crossed snapshots do not spin: after a few tries the stream redials."""
    vt = VirtualTime()
    crossed = snap(1, bids=[["10", "1"]], asks=[["9", "1"]])
    snaps = Snapshots(vt, [crossed, crossed, crossed, snap(1)])
    items_iter, dial = feed(vt, [[HANG], [HANG]], snaps)
    items = vt.run(collect(items_iter, 8))
    assert kinds(items) == [
        "connected",
        "resyncing",
        "resyncing",
        "disconnected",
        "reconnecting",
        "connected",
        "resynced",
        "book",
    ]
    assert len(dial.connections) == 2


# --- property: whatever the network does, every book shown is the venue's book at its sequence ---

bid_prices = st.integers(min_value=1, max_value=30).map(lambda n: D(n) / 4)  # 0.25 .. 7.5
ask_prices = st.integers(min_value=31, max_value=60).map(lambda n: D(n) / 4)  # 7.75 .. 15
sizes = st.integers(min_value=0, max_value=20).map(lambda n: D(n) / 2)


@st.composite
def venue_histories(draw: st.DrawFn) -> list[tuple[list[Level], list[Level]]]:
    """Uncrossed diffs that each touch at least one bid and one ask level."""
    out = []
    for _ in range(draw(st.integers(min_value=3, max_value=25))):
        bids = draw(st.lists(st.tuples(bid_prices, sizes), min_size=1, max_size=3))
        asks = draw(st.lists(st.tuples(ask_prices, sizes), min_size=1, max_size=3))
        out.append((bids, asks))
    return out


@st.composite
def connection_plans(draw: st.DrawFn) -> list[tuple[float, str, int | None]]:
    """Per connection: lifetime (s), how it ends, and which delivered frame it garbles."""
    plans = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        life = draw(st.sampled_from([0.5, 1.5, 3.0, 6.0]))
        end = draw(st.sampled_from(["close", "error", "refused"]))
        fault = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2)))
        plans.append((life, end, fault))
    return plans


class SimulatedVenue:
    """Diff s is produced at virtual time s. A connection opened at T delivers the diffs made
    while it is open (skipping or repeating one if its plan says so), then ends as planned;
    the last connection stays up. A snapshot is the venue's book when the fetch lands."""

    def __init__(
        self,
        vt: VirtualTime,
        history: list[tuple[list[Level], list[Level]]],
        plans: list[tuple[float, str, int | None]],
        fault_kind: str,
    ) -> None:
        self.vt, self.plans, self.fault_kind = vt, list(plans), fault_kind
        self.frames = [
            json.dumps(
                {
                    "bids": [[str(p), str(q)] for p, q in b],
                    "asks": [[str(p), str(q)] for p, q in a],
                    "sequence_number": s,
                }
            )
            for s, (b, a) in enumerate(history, start=1)
        ]
        book = OrderBook()
        self.states = [OrderBook.from_levels([], [], 0)]
        for s, (bids, asks) in enumerate(history, start=1):
            assert book.apply(bids, asks) is None
            self.states.append(OrderBook.from_levels(book.bids(), book.asks(), s))

    @property
    def produced(self) -> int:
        return min(len(self.frames), int(self.vt.now))

    def dial(self, _refresh: bool) -> Any:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[Any]:
        plan = self.plans.pop(0) if self.plans else (None, "hang", None)
        life, end, fault = plan
        if end == "refused":
            raise ConnectionRefusedError("refused")
        yield _PlannedConnection(self, self.vt.now, life, end, fault)

    async def snapshot(self) -> DepthUpdate:
        await self.vt.sleep(0.3)
        book = self.states[self.produced]
        return DepthUpdate(tuple(book.bids()), tuple(book.asks()), book.sequence)


class _PlannedConnection:
    def __init__(
        self, venue: SimulatedVenue, opened: float, life: float | None, end: str, fault: int | None
    ) -> None:
        self.venue, self.end, self.fault = venue, end, fault
        self.until = None if life is None else opened + life
        self.next_seq = int(opened) + 1  # diffs made after the connection opened
        self.delivered = 0
        self.repeat: str | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def recv(self) -> str:
        vt = self.venue.vt
        if self.repeat is not None:
            text, self.repeat = self.repeat, None
            return text
        while True:
            if self.closed.done():
                raise StreamClosed("closed")
            s = self.next_seq
            due = float(s) if s <= len(self.venue.frames) else None
            if self.until is not None and (due is None or due >= self.until):
                if vt.now < self.until:
                    await vt.sleep(self.until - vt.now)
                raise (
                    StreamClosed("planned end")
                    if self.end == "close"
                    else ConnectionResetError("reset")
                )
            if due is None:
                await self.closed  # the last connection idles until closed
                continue
            if vt.now < due:
                await vt.sleep(due - vt.now)
                continue
            self.next_seq += 1
            text = self.venue.frames[s - 1]
            index, self.delivered = self.delivered, self.delivered + 1
            if index == self.fault:
                if self.venue.fault_kind == "skip":
                    continue
                self.repeat = text
            return text

    async def close(self) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


@settings(max_examples=100, deadline=None)
@given(
    history=venue_histories(),
    plans=connection_plans(),
    fault_kind=st.sampled_from(["skip", "repeat"]),
)
def test_every_book_shown_is_the_venues_book_at_that_sequence(
    history: list[tuple[list[Level], list[Level]]],
    plans: list[tuple[float, str, int | None]],
    fault_kind: str,
) -> None:
    """Drops, refusals, skipped and repeated frames: no inconsistent book is ever yielded,
    and the feed converges to the venue's final book."""
    vt = VirtualTime()
    venue = SimulatedVenue(vt, history, plans, fault_kind)
    stream = ResilientStream("p", venue.dial, sleep=vt.sleep, clock=vt.clock, rng=lambda: 0.5)
    final = len(history)

    async def run() -> OrderBook:
        async for item in book_feed(stream, venue.snapshot):
            if isinstance(item, BookUpdate):
                seq = item.book.sequence
                assert item.book == venue.states[seq], f"book at {seq} differs from the venue's"
                if seq == final:
                    return item.book
        raise AssertionError("feed ended")

    assert vt.run(run()).bids() == venue.states[final].bids()
