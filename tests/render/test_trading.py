"""Book ladder: ordering, depth cut, cumulative sizes, spread and mid, all exact."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tplus_cli.client.wire import Balance, MarginAccount, Market, OrderInfo, UserTrade
from tplus_cli.render.trading import (
    LadderLevel,
    account_summary_row,
    balance_row,
    book_summary,
    book_view,
    iso_ns,
    market_row,
    order_row,
    order_status,
    ppm_percent,
    summary_line,
    trade_row,
)


class L:
    """A minimal BookLevel stand-in (the render layer only needs price and quantity)."""

    def __init__(self, price: str, quantity: str) -> None:
        self.price = Decimal(price)
        self.quantity = Decimal(quantity)


def view(bids: list[L], asks: list[L], depth: int = 10):  # type: ignore[no-untyped-def]
    return book_view(symbol="BTC", asset_id="2", sequence=7, bids=bids, asks=asks, depth=depth)


def test_ladder_orders_sides_and_accumulates() -> None:
    """Asks and bids come best first with running totals; the ladder shows asks highest first."""
    v = view(
        bids=[L("64990", "0.5"), L("65000", "0.25"), L("64980", "1")],
        asks=[L("65020", "2"), L("65010.5", "0.1")],
    )
    assert [lv.price for lv in v.asks] == [Decimal("65010.5"), Decimal("65020")]
    assert [lv.cumulative for lv in v.asks] == [Decimal("0.1"), Decimal("2.1")]
    assert [lv.price for lv in v.bids] == [Decimal("65000"), Decimal("64990"), Decimal("64980")]
    assert [lv.cumulative for lv in v.bids] == [Decimal("0.25"), Decimal("0.75"), Decimal("1.75")]
    assert [r["price"] for r in v.ladder()] == [
        Decimal("65020"),
        Decimal("65010.5"),
        Decimal("65000"),
        Decimal("64990"),
        Decimal("64980"),
    ]
    assert (v.spread, v.mid) == (Decimal("10.5"), Decimal("65005.25"))
    assert book_summary(v) == "spread: 10.5  mid: 65005.25"
    doc = v.to_json()
    assert doc["asks"][0] == {
        "price": Decimal("65010.5"),
        "quantity": Decimal("0.1"),
        "cumulative": Decimal("0.1"),
    }
    assert [r["side"] for r in v.rows()] == ["ask", "ask", "bid", "bid", "bid"]


def test_depth_cuts_each_side() -> None:
    """--depth N keeps the N best levels of each side."""
    v = view(
        bids=[L(str(p), "1") for p in range(1, 10)],
        asks=[L(str(p), "1") for p in range(20, 30)],
        depth=3,
    )
    assert [lv.price for lv in v.bids] == [Decimal(9), Decimal(8), Decimal(7)]
    assert [lv.price for lv in v.asks] == [Decimal(20), Decimal(21), Decimal(22)]


def test_empty_side_has_no_spread() -> None:
    """With one side empty there is no spread or mid, and the summary says why."""
    v = view(bids=[L("1", "1")], asks=[])
    assert (v.spread, v.mid, v.best_ask) == (None, None, None)
    assert "empty" in book_summary(v)
    assert view([], []).to_json()["bids"] == []


prices = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1e15"), places=8)
sizes = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("1e9"), places=8)


@given(
    st.lists(st.tuples(prices, sizes), max_size=20),
    st.lists(st.tuples(prices, sizes), max_size=20),
    st.integers(1, 25),
)
def test_ladder_invariants(
    bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]], depth: int
) -> None:
    """Best-first order, running totals equal prefix sums, and the mid is exactly halfway."""
    v = view([L(str(p), str(q)) for p, q in bids], [L(str(p), str(q)) for p, q in asks], depth)
    for side, reverse in ((v.bids, True), (v.asks, False)):
        assert len(side) <= depth
        ps = [lv.price for lv in side]
        assert ps == sorted(ps, reverse=reverse)
        running = Decimal(0)
        for lv in side:
            running += lv.quantity
            assert isinstance(lv, LadderLevel) and lv.cumulative == running
    if v.mid is not None:
        assert v.best_ask is not None and v.best_bid is not None
        assert v.mid * 2 == v.best_ask + v.best_bid


@pytest.mark.parametrize(
    ("status", "canceled", "shown"),
    [
        ("Open", False, "open"),
        ("PartiallyFilled", False, "partially_filled"),
        ("Canceled", False, "cancelled"),
        ("Open", True, "cancelled"),
        ("Filled", False, "filled"),
    ],
)
def test_order_status_spelling(status: str, canceled: bool, shown: str) -> None:
    """Venue statuses become snake case with one spelling of cancelled."""
    assert order_status(status, canceled) == shown


SYMBOLS = {"0": "USDC", "2": "BTC"}


def test_market_row_fees_are_exact_percentages() -> None:
    """ppm fee rates become exact percentages; symbol comes from the market or the map."""
    m = Market("2", None, 1, 5, Decimal("0.1"), Decimal("0.0001"), 500, 200)
    row = market_row(m, SYMBOLS)
    assert (row["symbol"], row["taker_fee_pct"], row["maker_fee_pct"]) == (
        "BTC",
        Decimal("0.05"),
        Decimal("0.02"),
    )
    assert ppm_percent(None) is None and ppm_percent(1) == Decimal("0.0001")


def test_order_row_human_units_type_and_tif() -> None:
    """Book ints become human Decimals; stop/limit, gtd/ioc/fok and times are spelled out."""
    o = OrderInfo(
        "id1", "2", "Buy", "PartiallyFilled", 1, 5, 650000, 1000, 250, False,
        1_750_000_000_123_456_789, good_until_ns=1_750_000_060_000_000_000,
        trigger_below_raw=600000,
    )  # fmt: skip
    row = order_row(o, SYMBOLS)
    assert (row["price"], row["quantity"], row["filled"], row["remaining"]) == (
        Decimal("65000.0"),
        Decimal("0.01000"),
        Decimal("0.00250"),
        Decimal("0.00750"),
    )
    assert (row["side"], row["type"], row["tif"], row["status"]) == (
        "buy",
        "stop-limit",
        "gtd",
        "partially_filled",
    )
    assert row["created"] == "2025-06-15T15:06:40.123Z"
    assert row["trigger_below"] == Decimal("60000.0")
    market = OrderInfo("id2", "9", "Sell", "Open", 2, 3, None, 5, 0, False, 0, is_fok=True)
    assert (order_row(market, SYMBOLS)["type"], order_row(market, SYMBOLS)["symbol"]) == (
        "market",
        "9",
    )
    assert order_row(market, SYMBOLS)["tif"] == "fok"


def test_trade_balance_and_summary_rows() -> None:
    """Fills show our side and role; balances derive held; the summary line reads well."""
    t = UserTrade("2", "o", Decimal("65000"), Decimal("0.001"), 0, True, False, "Confirmed",
                  trading_fee=Decimal("-0.01"))  # fmt: skip
    row = trade_row(t, SYMBOLS)
    assert (row["side"], row["role"], row["fee"], row["status"]) == (
        "sell",
        "maker",
        Decimal("-0.01"),
        "confirmed",
    )
    b = balance_row(Balance(1, "0", Decimal("90"), Decimal("100")), SYMBOLS)
    assert (b["symbol"], b["held"]) == ("USDC", Decimal("10"))
    margin = MarginAccount(
        1, Decimal("100.5"), Decimal("90"), Decimal("10.5"), Decimal("80"), True, False,
        Decimal("0"),
    )  # fmt: skip
    summary = account_summary_row(1, "cross_margin", margin, (True, Decimal("99")))
    assert summary["distance_from_liquidation"] == Decimal("99")
    assert summary_line(summary) == (
        "sub-account 1 (cross_margin): equity 100.5, available 90, used 10.5, solvent"
    )
    idle = {**summary, "equity": Decimal("213991.175000"), "utilized_margin": Decimal("0.000")}
    assert summary_line(idle) == (
        "sub-account 1 (cross_margin): equity 213991.175, available 90, solvent"
    )
    bare = account_summary_row(0, "spot", None, None)
    assert summary_line(bare) == "sub-account 0 (spot)"
    assert iso_ns(None) is None and iso_ns(0) == "1970-01-01T00:00:00.000Z"
