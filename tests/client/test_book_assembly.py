"""Order-book assembly from snapshot + sequenced diffs (spec §8.5)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tplus_cli.client.book import (
    BookAssembler,
    BookFormatError,
    DepthUpdate,
    Level,
    OrderBook,
    Outcome,
    parse_depth,
    top_of_book,
)

D = Decimal


def upd(
    seq: int, bids: Sequence[tuple[str, str]] = (), asks: Sequence[tuple[str, str]] = ()
) -> DepthUpdate:
    return DepthUpdate(
        tuple((D(p), D(q)) for p, q in bids), tuple((D(p), D(q)) for p, q in asks), seq
    )


SNAP = upd(
    41, bids=[("501.25", "2.0"), ("501.0", "4.5")], asks=[("501.75", "1.25"), ("502.0", "3.0")]
)


def synced(snapshot: DepthUpdate = SNAP) -> BookAssembler:
    asm = BookAssembler()
    assert asm.on_snapshot(snapshot) is Outcome.SYNCED
    return asm


def test_parse_depth_accepts_spec_example_numbers_and_strings() -> None:
    """The spec's snapshot example parses to exact Decimals; numeric strings do too."""
    frame = {"asks": [[501.75, 1.25], [502.0, 3.0]], "bids": [[501.25, 2.0]], "sequence_number": 41}
    got = parse_depth(frame)
    assert got.sequence == 41
    assert got.asks == ((D("501.75"), D("1.25")), (D("502.0"), D("3.0")))
    assert parse_depth({"bids": [["0.1", "3"]], "asks": []}).bids == ((D("0.1"), D(3)),)


def test_parse_depth_defaults_missing_sequence_to_zero() -> None:
    """A snapshot without sequence_number counts as sequence 0 (§8.5)."""
    assert parse_depth({"bids": [], "asks": []}).sequence == 0


@pytest.mark.parametrize(
    "frame",
    [
        {"bids": [[1]], "asks": []},
        {"bids": [["x", "1"]], "asks": []},
        {"bids": [["1", "NaN"]], "asks": []},
        {"bids": [[True, "1"]], "asks": []},
        {"bids": "no", "asks": []},
        {"bids": [], "asks": [], "sequence_number": "7"},
    ],
)
def test_parse_depth_rejects_malformed(frame: dict[str, object]) -> None:
    """Malformed levels or sequence numbers raise BookFormatError, never a half-parsed book."""
    with pytest.raises(BookFormatError):
        parse_depth(frame)


def test_diff_sets_absolute_size_and_zero_deletes() -> None:
    """The spec vector: [501.25, 0] deletes the bid; other levels set absolute sizes."""
    asm = synced()
    out = asm.on_diff(upd(42, bids=[("501.25", "0"), ("501.0", "1.5")], asks=[("503", "2")]))
    assert out is Outcome.APPLIED
    assert asm.book.bids() == [(D("501.0"), D("1.5"))]
    assert asm.book.asks() == [(D("501.75"), D("1.25")), (D("502.0"), D("3.0")), (D(503), D(2))]
    assert asm.book.sequence == 42


def test_buffered_diffs_at_or_below_snapshot_are_dropped_rest_applied() -> None:
    """Diffs buffered before the snapshot: <= S dropped, > S applied in order."""
    asm = BookAssembler()
    for diff in (
        upd(40, bids=[("1", "9")]),
        upd(41, bids=[("2", "9")]),
        upd(42, bids=[("501.0", "7")]),
    ):
        assert asm.on_diff(diff) is Outcome.BUFFERED
    assert asm.on_snapshot(SNAP) is Outcome.SYNCED
    assert asm.book.bids() == [(D("501.25"), D("2.0")), (D("501.0"), D("7"))]
    assert asm.book.sequence == 42


def test_in_flight_diffs_older_than_snapshot_are_dropped_after_sync() -> None:
    """A diff that arrives after the snapshot but is not newer than it is ignored."""
    asm = synced()
    assert asm.on_diff(upd(40, bids=[("9", "9")])) is Outcome.DROPPED
    assert asm.on_diff(upd(42, bids=[("500", "1")])) is Outcome.APPLIED


def test_gap_requests_resync_and_keeps_the_newer_diff() -> None:
    """A skipped sequence number discards the book; the newer diff waits for the next snapshot."""
    asm = synced()
    assert asm.on_diff(upd(43, asks=[("600", "1")])) is Outcome.RESYNC
    assert not asm.synced and asm.resync_reason and "gap" in asm.resync_reason
    assert len(asm.book) == 0
    fresh = upd(42, bids=[("500", "1")], asks=[("501", "1")])
    assert asm.on_snapshot(fresh) is Outcome.SYNCED
    assert asm.book.asks() == [(D(501), D(1)), (D(600), D(1))]


def test_gap_between_snapshot_and_buffer_requests_resync() -> None:
    """If the first buffered diff after S is not S+1 the snapshot is too old: resync."""
    asm = BookAssembler()
    asm.on_diff(upd(45, bids=[("1", "1")]))
    assert asm.on_snapshot(SNAP) is Outcome.RESYNC
    assert asm.resync_reason and "expected 42, got 45" in asm.resync_reason


def test_duplicate_requests_resync() -> None:
    """Seeing an already-applied sequence number again is treated as a broken feed."""
    asm = synced()
    asm.on_diff(upd(42, bids=[("500", "1")]))
    asm.on_diff(upd(43, bids=[("500", "2")]))
    assert asm.on_diff(upd(43, bids=[("500", "2")])) is Outcome.RESYNC
    assert asm.resync_reason and "duplicate" in asm.resync_reason


def test_crossed_book_requests_resync() -> None:
    """A diff that would cross the book (bid >= ask) discards it."""
    asm = synced()
    assert asm.on_diff(upd(42, bids=[("501.75", "1")])) is Outcome.RESYNC
    assert asm.resync_reason and "crossed" in asm.resync_reason


def test_negative_size_requests_resync() -> None:
    """A negative size is never installed."""
    asm = synced()
    assert asm.on_diff(upd(42, asks=[("700", "-1")])) is Outcome.RESYNC


def test_crossed_snapshot_is_rejected() -> None:
    """A snapshot that is itself crossed is not accepted."""
    asm = BookAssembler()
    assert asm.on_snapshot(upd(5, bids=[("10", "1")], asks=[("9", "1")])) is Outcome.RESYNC
    assert not asm.synced


def test_reset_after_reconnect_buffers_until_the_next_snapshot() -> None:
    """reset() (a reconnect) empties the book and buffers until a snapshot lands."""
    asm = synced()
    asm.reset("reconnect")
    assert asm.on_diff(upd(50)) is Outcome.BUFFERED
    assert len(asm.book) == 0
    assert asm.on_snapshot(upd(49, bids=[("1", "1")])) is Outcome.SYNCED
    assert asm.book.sequence == 50


def test_buffer_is_bounded() -> None:
    """Waiting forever for a snapshot cannot grow memory without bound."""
    asm = BookAssembler(max_buffer=3)
    for seq in range(1, 4):
        assert asm.on_diff(upd(seq)) is Outcome.BUFFERED
    assert asm.on_diff(upd(4)) is Outcome.RESYNC


def test_top_of_book_renders_decimal_strings() -> None:
    """The JSON view keeps decimals as exact strings."""
    book = synced().book
    assert top_of_book(book, 1) == {
        "sequence": 41,
        "bids": [["501.25", "2.0"]],
        "asks": [["501.75", "1.25"]],
    }


# --- property: any snapshot point + the following diffs reproduce the reference book ---

prices = st.integers(min_value=1, max_value=60).map(lambda n: D(n) / 4)
HALF = D("7.5")
sizes = st.integers(min_value=0, max_value=20).map(lambda n: D(n) / 2)


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[list[Level], list[Level]]]:
    """A sequence of uncrossed diffs: bids stay at or below 7.5, asks above 7.5."""
    steps = draw(st.integers(min_value=1, max_value=40))
    out = []
    for _ in range(steps):
        bids = [
            (p, q) for p, q in draw(st.lists(st.tuples(prices, sizes), max_size=4)) if p <= HALF
        ]
        asks = [(p, q) for p, q in draw(st.lists(st.tuples(prices, sizes), max_size=4)) if p > HALF]
        out.append((bids, asks))
    return out


@settings(max_examples=150, deadline=None)
@given(history=histories(), data=st.data())
def test_snapshot_anywhere_then_diffs_equals_reference(
    history: list[tuple[list[Level], list[Level]]], data: st.DataObject
) -> None:
    """Whatever diffs were buffered around the snapshot, the assembled book equals the truth."""
    reference = OrderBook()
    states = [OrderBook.from_levels([], [], 0)]
    diffs = []
    for seq, (bids, asks) in enumerate(history, start=1):
        assert reference.apply(bids, asks) is None
        diffs.append(DepthUpdate(tuple(bids), tuple(asks), seq))
        states.append(OrderBook.from_levels(reference.bids(), reference.asks(), seq))
    snap_at = data.draw(st.integers(0, len(history)), label="snapshot sequence")
    buffered_from = data.draw(st.integers(1, snap_at + 1), label="first buffered diff")
    snap_book = states[snap_at]
    snapshot = DepthUpdate(tuple(snap_book.bids()), tuple(snap_book.asks()), snap_at)
    asm = BookAssembler()
    for diff in diffs[buffered_from - 1 : snap_at + 1]:
        assert asm.on_diff(diff) is Outcome.BUFFERED
    assert asm.on_snapshot(snapshot) is Outcome.SYNCED
    for diff in diffs[snap_at + 1 :]:
        assert asm.on_diff(diff) is Outcome.APPLIED
    assert asm.book == reference
    assert asm.book.sequence == len(history)
    assert asm.book.bids() == sorted(reference.bids(), reverse=True)
