"""The readable one-line views of streamed items, and the NDJSON envelope."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from tplus_cli.render import stream_lines as sl

TS = datetime(2026, 12, 7, 6, 0, 1, 234567, tzinfo=UTC)


def test_envelope_is_compact_json_with_decimal_strings() -> None:
    """`{"stream","seq","ts","data"}` in that order; Decimals become strings, never floats."""
    line = sl.envelope("book", 3, TS, {"price": Decimal("65000.50"), "n": 1})
    assert line == (
        '{"stream":"book","seq":3,"ts":"2026-12-07T06:00:01.234Z",'
        '"data":{"price":"65000.50","n":1}}'
    )
    assert json.loads(line)["data"]["price"] == "65000.50"


def test_order_event_lines() -> None:
    """Created shows the order's id, asset, side and type; others their key fields."""
    created = {
        "Created": {
            "user_order": {
                "order_id": "abc=",
                "base_asset": "2",
                "side": "Buy",
                "details": {"Limit": {"limit_price": 1}},
            }
        }
    }
    assert sl.order_event_line(created) == "Created    abc=  asset 2  Buy Limit"
    removed = {"Removed": {"order_id": "abc=", "asset_id": "2", "reason": "Canceled"}}
    assert sl.order_event_line(removed) == "Removed     abc=  asset_id=2  reason=Canceled"
    assert sl.order_event_line([1]) == "[1]"


def test_trade_and_user_trade_lines() -> None:
    """Public trades name the taker side; our fills name side, role, fee and status."""
    trade = {"asset_id": "2", "price": "500.25", "quantity": "0.5", "buyer_is_maker": True}
    assert sl.trade_line({"2": "BTC"})(trade) == "BTC   500.25 x 0.5  taker sell"
    pending = {**trade, "status": "Pending", "buyer_is_maker": False}
    assert sl.trade_line({})(pending).endswith("taker buy  [Pending]")
    fill = {
        "asset_id": "2",
        "order_id": "o=",
        "price": "500.25",
        "quantity": "0.5",
        "is_buyer": True,
        "is_maker": True,
        "status": "Confirmed",
        "trading_fee": "0.05",
    }
    assert sl.user_trade_line(fill) == (
        "BUY  0.5 @ 500.25  asset 2  maker  fee 0.05  [Confirmed]  order o="
    )


def test_ticker_kline_account_and_book_lines() -> None:
    """Each kind has a short, stable line."""
    ticker = {
        "last_price": "501.50",
        "best_bid": {"price": "501.25"},
        "best_ask": {"price": "501.75"},
        "price_change_pct_24h": "1.31",
        "volume_24h": "9876.543",
    }
    assert sl.ticker_line(ticker) == (
        "last 501.50  bid 501.25 / ask 501.75  24h +1.31%  vol 9876.543"
    )
    kline = {
        "open": "500",
        "high": "502",
        "low": "499.75",
        "close": "501.5",
        "volume": "12.345",
        "open_timestamp_ns": 1_750_000_000_000_000_000,
    }
    assert sl.kline_line(kline) == (
        "2025-06-15T15:06:40.000Z  O 500 H 502 L 499.75 C 501.5  V 12.345"
    )
    event = {"SubAccountAssetTransferred": {"user": "u", "asset": "0", "amount": "5"}}
    assert sl.account_event_line(event) == "SubAccountAssetTransferred  asset=0  amount=5"
    book = {"kind": "snapshot", "sequence": 4, "bids": [["1", "2"]], "asks": []}
    assert sl.book_line(book) == "seq 4  bid 1 x 2 | ask -  (1 / 0 levels)"
    diff = {"kind": "diff", "sequence": 5, "bids": [["1", "0"]], "asks": []}
    assert sl.book_line(diff) == "seq 5  diff  bids 1:0  asks -"


def test_unknown_shapes_fall_back_to_compact_json() -> None:
    """Nothing is hidden: an unexpected frame is shown as JSON."""
    assert sl.ticker_line({"x": Decimal("1.0")}) == '{"x":"1.0"}'
    assert sl.kline_line("?") == '"?"'
