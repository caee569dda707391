"""Book ladder: ordering, depth cut, cumulative sizes, spread and mid, all exact."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tplus_cli.render.trading import LadderLevel, book_summary, book_view


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
