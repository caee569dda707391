"""Kline intervals and client-side aggregation of the 1-minute bars the kline stream sends.

`/klines/diff/{asset}` carries the 1-minute Timebar each trade updated. For a longer
interval (5m, 1h, 1D ...) the bars of the current window are combined here: open of the
first minute, close of the last, high/low extremes, summed volume. Seconds intervals and
months cannot be built from minute bars and are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

MINUTE_NS = 60 * 1_000_000_000
_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}


class IntervalError(ValueError):
    """An interval the stream cannot produce."""


def interval_seconds(text: str) -> int:
    """`1`, `5`, `60` (minutes), `5m`, `4h`, `1D`, `1W` → seconds; a multiple of one minute."""
    raw = text.strip()
    if raw.endswith("M") and raw[:-1].isdigit():
        raise IntervalError("month klines cannot be built from the 1-minute stream")
    lowered = raw.lower()
    if lowered.isdigit():
        seconds = int(lowered) * 60
    elif lowered[:-1].isdigit() and lowered[-1] in _UNITS:
        seconds = int(lowered[:-1]) * _UNITS[lowered[-1]]
    elif lowered[:-1].isdigit() and lowered[-1] == "s":
        raise IntervalError("second klines cannot be built from the 1-minute stream")
    else:
        raise IntervalError(f"unknown kline interval {text!r} (e.g. 1, 5m, 1h, 1D)")
    if seconds <= 0:
        raise IntervalError("interval must be positive")
    return seconds


class KlineAggregator:
    """Folds 1-minute Timebar updates into bars of `seconds` (a multiple of 60)."""

    def __init__(self, seconds: int) -> None:
        self.window_ns = seconds * 1_000_000_000
        self._minutes: dict[int, Mapping[str, Any]] = {}

    def update(self, bar: Mapping[str, Any]) -> dict[str, Any]:
        """Record one minute bar; return the aggregated bar of its window (Timebar shape)."""
        if self.window_ns <= MINUTE_NS:
            return dict(bar)
        opened = int(bar["open_timestamp_ns"])
        start = opened - opened % self.window_ns
        self._minutes = {t: b for t, b in self._minutes.items() if t >= start}
        self._minutes[opened] = bar
        bars = [self._minutes[t] for t in sorted(self._minutes)]
        return {
            "open": bars[0]["open"],
            "close": bars[-1]["close"],
            "low": min(Decimal(str(b["low"])) for b in bars),
            "high": max(Decimal(str(b["high"])) for b in bars),
            "volume": sum((Decimal(str(b["volume"])) for b in bars), Decimal(0)),
            "open_timestamp_ns": start,
            "close_timestamp_ns": start + self.window_ns,
        }

    def update_all(self, bars: Iterable[Any]) -> list[dict[str, Any]]:
        """Aggregate each bar of a frame (non-bar items are skipped)."""
        return [self.update(b) for b in bars if isinstance(b, Mapping) and "open_timestamp_ns" in b]
