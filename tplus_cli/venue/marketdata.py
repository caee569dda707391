"""Per-market public data: recent trades, 1-minute bars, tickers and kline aggregation."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping
from typing import Any

from tplus_cli.venue.markets import MarketConfig, fmt_units

SECOND_NS = 1_000_000_000
MINUTE_NS = 60 * SECOND_NS
DAY_NS = 24 * 60 * MINUTE_NS
BAR_MEMORY = 7 * 24 * 60  # one week of 1-minute bars
TRADE_MEMORY = 1_000  # public trades kept for GET /trades
TICK_MEMORY = 5_000  # (ts, price, lots) kept for second-interval klines

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_interval(text: str) -> int:
    """Kline interval → seconds: `1S 5S 15S 30S`, bare minutes, `1D 3D 1W 1M`, or `5m 4h 1d`.

    Only `1M` (a month, counted as 30 days) is case-sensitive; `1m` is a minute.
    """
    raw = text.strip()
    if raw == "1M":
        return 30 * 86_400
    if raw.isdigit():
        seconds = int(raw) * 60
    else:
        number, unit = raw[:-1], raw[-1:].lower()
        if not number.isdigit() or unit not in _UNITS:
            raise ValueError(f"unknown kline interval {text!r}")
        seconds = int(number) * _UNITS[unit]
    if seconds <= 0:
        raise ValueError(f"unknown kline interval {text!r}")
    return seconds


class MarketData:
    """Trades, bars and 24h statistics of one market, built from the fills it sees."""

    def __init__(self, config: MarketConfig) -> None:
        self.config = config
        self.trades: deque[dict[str, Any]] = deque(maxlen=TRADE_MEMORY)
        self.ticks: deque[tuple[int, int, int]] = deque(maxlen=TICK_MEMORY)
        self.bars: deque[list[int]] = deque(maxlen=BAR_MEMORY)  # [open_ns, o, h, l, c, lots]
        self.last_price: int | None = None
        self.depth_sequence = 0
        self._cache_key: tuple[int, int, int] | None = None
        self._cache: tuple[int, int, int, int] | None = None

    def record(self, ts: int, price: int, lots: int, trade: dict[str, Any]) -> list[int]:
        """Add one fill; return the 1-minute bar it updated."""
        self.trades.append(trade)
        self.ticks.append((ts, price, lots))
        self.last_price = price
        start = ts - ts % MINUTE_NS
        bars = self.bars
        if bars and bars[-1][0] == start:
            bar = bars[-1]
            bar[2] = max(bar[2], price)
            bar[3] = min(bar[3], price)
            bar[4] = price
            bar[5] += lots
        elif bars and bars[-1][0] > start:  # a late fill: fold it into the newest bar
            bar = bars[-1]
            bar[5] += lots
        else:
            bar = [start, price, price, price, price, lots]
            bars.append(bar)
        return bar

    def timebar(self, bar: list[int], interval_ns: int = MINUTE_NS) -> dict[str, Any]:
        """One bar in wire form (human decimal strings)."""
        c = self.config
        return {
            "open": c.price_str(bar[1]),
            "close": c.price_str(bar[4]),
            "low": c.price_str(bar[3]),
            "high": c.price_str(bar[2]),
            "volume": c.qty_str(bar[5]),
            "open_timestamp_ns": bar[0],
            "close_timestamp_ns": bar[0] + interval_ns,
        }

    def ticker(
        self, now: int, best_bid: tuple[int, int] | None, best_ask: tuple[int, int] | None
    ) -> dict[str, Any]:
        """The Ticker object (spec §6) over the last 24 hours of bars."""
        c = self.config
        window = self._window(now)
        volume = window[1] if window is not None else 0
        last = self.last_price
        ticker: dict[str, Any] = {
            "asset_id": c.asset_id,
            "last_price": c.price_str(last) if last is not None else None,
            "mark_price": c.price_str(last if last is not None else c.reference_price),
            "index_price": None,
            "best_bid": _side(c, best_bid),
            "best_ask": _side(c, best_ask),
            "volume_24h": c.qty_str(volume),
            "high_24h": None,
            "low_24h": None,
            "price_change_24h": None,
            "price_change_pct_24h": None,
            "timestamp_ns": now,
        }
        if window is not None and last is not None:
            first, _, high, low = window
            change = last - first
            ticker["high_24h"] = c.price_str(high)
            ticker["low_24h"] = c.price_str(low)
            ticker["price_change_24h"] = c.price_str(change)
            hundredths = abs(change) * 10_000 // first
            ticker["price_change_pct_24h"] = fmt_units(-hundredths if change < 0 else hundredths, 2)
        return ticker

    def _window(self, now: int) -> tuple[int, int, int, int] | None:
        """(first open, volume, high, low) of the bars of the last 24 hours, or None.

        Only the newest bar ever changes, so the older bars' totals are cached per
        (window start, newest bar): a ticker costs O(1) except once per minute.
        """
        bars = self.bars
        if not bars:
            return None
        since = now - DAY_NS
        start = since - since % MINUTE_NS
        newest = bars[-1]
        key = (start, newest[0], len(bars))
        if self._cache_key != key:
            older = [bar for bar in itertools.islice(bars, len(bars) - 1) if bar[0] >= start]
            self._cache = (
                (
                    older[0][1],
                    sum(b[5] for b in older),
                    max(b[2] for b in older),
                    min(b[3] for b in older),
                )
                if older
                else None
            )
            self._cache_key = key
        cached = self._cache
        if newest[0] < start:
            return cached
        if cached is None:
            return (newest[1], newest[5], newest[2], newest[3])
        first, volume, high, low = cached
        return (first, volume + newest[5], max(high, newest[2]), min(low, newest[3]))

    def klines(
        self, interval_s: int, *, end_ns: int | None, page: int, limit: int
    ) -> dict[str, Any]:
        """Bars of `interval_s` seconds, newest page first, ascending inside a page."""
        interval_ns = interval_s * SECOND_NS
        buckets: dict[int, list[int]] = {}
        if interval_s % 60 == 0:
            source = ((bar[0], bar[1], bar[2], bar[3], bar[4], bar[5]) for bar in self.bars)
        else:
            source = ((ts, p, p, p, p, lots) for ts, p, lots in self.ticks)
        for start, o, h, low, close, lots in source:
            if end_ns is not None and start > end_ns:
                continue
            key = start - start % interval_ns
            bucket = buckets.get(key)
            if bucket is None:
                buckets[key] = [key, o, h, low, close, lots]
            else:
                bucket[2] = max(bucket[2], h)
                bucket[3] = min(bucket[3], low)
                bucket[4] = close
                bucket[5] += lots
        ordered = [buckets[k] for k in sorted(buckets, reverse=True)]
        chunk = ordered[page * limit : (page + 1) * limit]
        has_next = len(ordered) > (page + 1) * limit
        return {
            "items": [self.timebar(bar, interval_ns) for bar in reversed(chunk)],
            "has_next_page": has_next,
            "next_page": page + 1 if has_next else None,
            "truncated_before_ns": None,
        }

    def to_json(self) -> dict[str, Any]:
        """JSON-safe state."""
        return {
            "trades": list(self.trades),
            "ticks": [list(t) for t in self.ticks],
            "bars": [list(b) for b in self.bars],
            "last_price": self.last_price,
            "depth_sequence": self.depth_sequence,
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Inverse of to_json, into this (fresh) object."""
        self.trades.extend(dict(t) for t in data["trades"])
        self.ticks.extend((int(a), int(b), int(c)) for a, b, c in data["ticks"])
        self.bars.extend([int(x) for x in bar] for bar in data["bars"])
        self.last_price = data["last_price"]
        self.depth_sequence = int(data["depth_sequence"])


def _side(config: MarketConfig, level: tuple[int, int] | None) -> dict[str, str] | None:
    if level is None:
        return None
    return {"price": config.price_str(level[0]), "size": config.qty_str(level[1])}
