"""The live book feed: resilient depth stream + snapshots → always-consistent books."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from streamfakes import CLOSE, HANG, FakeDial, VirtualTime, collect

from tplus_cli.client.book import DepthUpdate, parse_depth
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
