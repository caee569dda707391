"""Order-book assembly from a snapshot plus sequenced depth diffs (spec §8.5), pure and sans-I/O.

The procedure, which `BookAssembler` enforces step by step:

1. After (re)connecting, diffs are buffered while a snapshot is fetched.
2. The snapshot (sequence S) replaces the book; buffered diffs with sequence <= S are dropped
   and the rest are applied in order.
3. Each `[price, qty]` SETS the absolute resting size at that price; qty 0 deletes the level.
4. Sequence numbers must go up by exactly one. A gap, a duplicate, a reconnect, or a book
   that fails its checks (crossed, negative size) discards the book: the caller fetches a
   fresh snapshot while new diffs are buffered again.

Prices and sizes are `Decimal` throughout; nothing here does I/O or reads a clock.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

Level = tuple[Decimal, Decimal]
"""One price level: (price, absolute resting size), human units."""

_ZERO = Decimal(0)


class BookFormatError(ValueError):
    """A depth frame or snapshot that does not have the §8.5 shape."""


@dataclass(frozen=True, slots=True)
class DepthUpdate:
    """A depth diff or a snapshot: both are bids, asks and a sequence number (§8.5)."""

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    sequence: int


def _decimal(value: Any, what: str) -> Decimal:
    """A price or size from a wire level; floats go through their shortest repr, never binary."""
    if isinstance(value, bool):
        raise BookFormatError(f"{what} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise BookFormatError(f"{what} is not a decimal: {value!r}") from None
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise BookFormatError(f"{what} must be a number, got {type(value).__name__}")
    if not result.is_finite():
        raise BookFormatError(f"{what} is not finite: {value!r}")
    return result


def _levels(raw: Any, side: str) -> tuple[Level, ...]:
    """Parse a `[[price, qty], ...]` list."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise BookFormatError(f"{side} must be a list of [price, quantity] pairs")
    out: list[Level] = []
    for item in raw:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise BookFormatError(f"{side} level must be [price, quantity], got {item!r}")
        out.append((_decimal(item[0], f"{side} price"), _decimal(item[1], f"{side} quantity")))
    return tuple(out)


def parse_depth(frame: Mapping[str, Any]) -> DepthUpdate:
    """Parse a `{"bids","asks","sequence_number"}` frame or snapshot; missing sequence means 0."""
    if not isinstance(frame, Mapping):
        raise BookFormatError("depth frame must be a JSON object")
    seq = frame.get("sequence_number", 0)
    if seq is None:
        seq = 0
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise BookFormatError(f"sequence_number must be an integer, got {seq!r}")
    return DepthUpdate(_levels(frame.get("bids"), "bids"), _levels(frame.get("asks"), "asks"), seq)


class _Ladder:
    """One side of the book: size by price plus an ascending price list for O(log n) top access."""

    __slots__ = ("sizes", "prices")

    def __init__(self) -> None:
        self.sizes: dict[Decimal, Decimal] = {}
        self.prices: list[Decimal] = []

    def set(self, price: Decimal, size: Decimal) -> None:
        """Set the absolute size at `price`; zero removes the level."""
        sizes = self.sizes
        if size == _ZERO:
            if sizes.pop(price, None) is not None:
                prices = self.prices
                del prices[bisect.bisect_left(prices, price)]
            return
        if price not in sizes:
            bisect.insort(self.prices, price)
        sizes[price] = size


class OrderBook:
    """An aggregated price-level book with the sequence number of the last update applied."""

    __slots__ = ("_bids", "_asks", "sequence")

    def __init__(self) -> None:
        self._bids = _Ladder()
        self._asks = _Ladder()
        self.sequence = 0

    @classmethod
    def from_levels(
        cls, bids: Iterable[Level], asks: Iterable[Level], sequence: int = 0
    ) -> OrderBook:
        """Build a book from absolute levels (a snapshot)."""
        book = cls()
        book.apply(bids, asks)
        book.sequence = sequence
        return book

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> str | None:
        """Set the given levels; return why the book is now invalid, or None if it is sound."""
        negative = False
        for ladder, levels in ((self._bids, bids), (self._asks, asks)):
            for price, size in levels:
                if size < _ZERO or price <= _ZERO:
                    negative = True
                ladder.set(price, size)
        if negative:
            return "negative size or non-positive price"
        bid, ask = self.best_bid(), self.best_ask()
        if bid is not None and ask is not None and bid >= ask:
            return f"crossed book (bid {bid} >= ask {ask})"
        return None

    def best_bid(self) -> Decimal | None:
        """Highest bid price, if any."""
        prices = self._bids.prices
        return prices[-1] if prices else None

    def best_ask(self) -> Decimal | None:
        """Lowest ask price, if any."""
        prices = self._asks.prices
        return prices[0] if prices else None

    def bids(self, depth: int | None = None) -> list[Level]:
        """Bids best first (highest price first), at most `depth` levels."""
        prices = self._bids.prices
        chosen = prices[::-1] if depth is None else prices[: -depth - 1 : -1] if depth else []
        sizes = self._bids.sizes
        return [(p, sizes[p]) for p in chosen]

    def asks(self, depth: int | None = None) -> list[Level]:
        """Asks best first (lowest price first), at most `depth` levels."""
        prices = self._asks.prices
        chosen = prices if depth is None else prices[:depth]
        sizes = self._asks.sizes
        return [(p, sizes[p]) for p in chosen]

    def size_at(self, side: str, price: Decimal) -> Decimal:
        """Resting size at `price` on "bid"/"ask" (zero when the level is empty)."""
        ladder = self._bids if side == "bid" else self._asks
        return ladder.sizes.get(price, _ZERO)

    def __len__(self) -> int:
        return len(self._bids.prices) + len(self._asks.prices)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrderBook):
            return NotImplemented
        return self._bids.sizes == other._bids.sizes and self._asks.sizes == other._asks.sizes

    __hash__ = None  # type: ignore[assignment]


class Outcome(enum.Enum):
    """What feeding one diff or snapshot into a `BookAssembler` did."""

    BUFFERED = "buffered"  # waiting for a snapshot; kept for later
    APPLIED = "applied"  # book changed and is consistent
    DROPPED = "dropped"  # older than the snapshot; ignored as §8.5 says
    SYNCED = "synced"  # snapshot applied (plus any buffered diffs); book consistent
    RESYNC = "resync"  # book discarded; fetch a fresh snapshot (reason in `resync_reason`)


class BookAssembler:
    """Snapshot + sequenced diffs → a consistent book, or a request to resync (§8.5)."""

    __slots__ = ("book", "synced", "resync_reason", "_buffer", "_max_buffer", "_snapshot_seq")

    def __init__(self, *, max_buffer: int = 10_000) -> None:
        self.book = OrderBook()
        self.synced = False
        self.resync_reason: str | None = "initial"
        self._buffer: list[DepthUpdate] = []
        self._max_buffer = max_buffer
        self._snapshot_seq = 0

    def reset(self, reason: str) -> None:
        """Discard the book and buffer diffs until the next snapshot (after a reconnect, a gap...)."""
        self.book = OrderBook()
        self.synced = False
        self.resync_reason = reason
        self._buffer.clear()

    def on_diff(self, diff: DepthUpdate) -> Outcome:
        """Feed one diff; RESYNC means the caller must fetch a new snapshot."""
        if not self.synced:
            if len(self._buffer) >= self._max_buffer:
                self.reset("too many diffs buffered while waiting for a snapshot")
                return Outcome.RESYNC
            self._buffer.append(diff)
            return Outcome.BUFFERED
        seq = diff.sequence
        last = self.book.sequence
        if seq == last + 1:
            return self._apply(diff)
        if seq <= self._snapshot_seq:
            return Outcome.DROPPED  # in flight when the snapshot was taken
        if seq <= last:
            self._resync(f"duplicate sequence {seq} (last applied {last})", keep=None)
        else:
            self._resync(f"sequence gap: expected {last + 1}, got {seq}", keep=diff)
        return Outcome.RESYNC

    def on_snapshot(self, snapshot: DepthUpdate) -> Outcome:
        """Install a snapshot, then replay buffered diffs newer than it, in order."""
        pending = sorted(self._buffer, key=lambda d: d.sequence)
        self._buffer.clear()
        self.book = OrderBook()
        problem = self.book.apply(snapshot.bids, snapshot.asks)
        self.book.sequence = self._snapshot_seq = snapshot.sequence
        if problem is not None:
            self._resync(f"snapshot rejected: {problem}", keep=None)
            self._buffer.extend(pending)
            return Outcome.RESYNC
        self.synced = True
        for diff in pending:
            if diff.sequence <= snapshot.sequence:
                continue
            outcome = self.on_diff(diff)
            if outcome is Outcome.RESYNC:
                return outcome
        self.resync_reason = None
        return Outcome.SYNCED

    def _apply(self, diff: DepthUpdate) -> Outcome:
        problem = self.book.apply(diff.bids, diff.asks)
        self.book.sequence = diff.sequence
        if problem is not None:
            self._resync(f"after sequence {diff.sequence}: {problem}", keep=None)
            return Outcome.RESYNC
        return Outcome.APPLIED

    def _resync(self, reason: str, keep: DepthUpdate | None) -> None:
        self.reset(reason)
        if keep is not None:
            self._buffer.append(keep)


def top_of_book(book: OrderBook, depth: int) -> dict[str, Any]:
    """The top `depth` levels per side as JSON-ready human decimal strings (the NDJSON shape)."""
    return {
        "sequence": book.sequence,
        "bids": [[str(p), str(q)] for p, q in book.bids(depth)],
        "asks": [[str(p), str(q)] for p, q in book.asks(depth)],
    }


def levels_from_pairs(pairs: Sequence[Sequence[Any]], side: str) -> tuple[Level, ...]:
    """Parse `[[price, qty], ...]` (numbers or numeric strings) into Decimal levels."""
    return _levels(list(pairs), side)
