"""Kline intervals and aggregation of the 1-minute stream into longer bars."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tplus_cli.client.klines import IntervalError, KlineAggregator, interval_seconds

M = 60 * 1_000_000_000


def bar(minute: int, o: str, h: str, lo: str, c: str, v: str) -> dict[str, object]:
    return {
        "open": o,
        "high": h,
        "low": lo,
        "close": c,
        "volume": v,
        "open_timestamp_ns": minute * M,
        "close_timestamp_ns": (minute + 1) * M,
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1", 60),
        ("5", 300),
        ("60", 3600),
        ("5m", 300),
        ("4h", 14400),
        ("1D", 86400),
        ("1d", 86400),
        ("1W", 604800),
    ],
)
def test_interval_spellings(text: str, seconds: int) -> None:
    """Bare minutes and suffixed forms as the MDS accepts them."""
    assert interval_seconds(text) == seconds


@pytest.mark.parametrize("text", ["1S", "30s", "1M", "0", "x", "5y", ""])
def test_intervals_the_minute_stream_cannot_make(text: str) -> None:
    """Seconds, months, zero and junk are refused."""
    with pytest.raises(IntervalError):
        interval_seconds(text)


def test_one_minute_passes_bars_through() -> None:
    """At the stream's own interval nothing is combined."""
    b = bar(3, "1", "2", "0.5", "1.5", "10")
    assert KlineAggregator(60).update(b) == b


def test_five_minute_bar_combines_the_minutes_of_its_window() -> None:
    """Open of the first minute, close of the last, extremes, summed volume; window-aligned."""
    agg = KlineAggregator(300)
    agg.update(bar(5, "100", "105", "99", "104", "1.5"))
    agg.update(bar(6, "104", "110", "103", "108", "2.25"))
    out = agg.update(bar(6, "104", "111", "101", "107", "3"))  # minute 6 updated again
    assert out == {
        "open": "100",
        "close": "107",
        "low": Decimal("99"),
        "high": Decimal("111"),
        "volume": Decimal("4.5"),
        "open_timestamp_ns": 5 * M,
        "close_timestamp_ns": 10 * M,
    }


def test_a_new_window_starts_fresh() -> None:
    """Minutes of the previous window do not leak into the next bar."""
    agg = KlineAggregator(300)
    agg.update(bar(9, "1", "9", "1", "9", "5"))
    out = agg.update(bar(10, "9", "10", "8", "10", "1"))
    assert out["open"] == "9" and out["volume"] == Decimal(1)
    assert out["open_timestamp_ns"] == 10 * M


def test_update_all_skips_non_bars() -> None:
    """A frame item that is not a Timebar is ignored, not a crash."""
    agg = KlineAggregator(60)
    assert agg.update_all([{"nope": 1}, bar(1, "1", "1", "1", "1", "1")]) == [
        bar(1, "1", "1", "1", "1", "1")
    ]
