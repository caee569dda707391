"""Matching rules of the pure engine: order types, TIFs, priority, replace/amend, STP, triggers."""

from __future__ import annotations

from typing import Any

import pytest

from tplus_cli.venue import engine as eng
from tplus_cli.venue.engine import Engine, EngineEvent, Order, PlanItem


class Recorder:
    """EngineHooks that admits everything (or refuses chosen users) and records events."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.events: list[EngineEvent] = []
        self.refuse = refuse or set()

    def admit(self, order: Order, plan: list[PlanItem], rest: int) -> str | None:
        return "INSUFFICIENT_MARGIN_BALANCE" if order.user in self.refuse else None

    def on_event(self, event: EngineEvent) -> None:
        self.events.append(event)

    def fills(self) -> list[tuple[str, str, int, int]]:
        return [
            (e.maker.order_id, e.taker.order_id, e.price, e.lots)
            for e in self.events
            if isinstance(e, eng.Fill)
        ]

    def removed(self) -> dict[str, str]:
        return {e.order.order_id: e.reason for e in self.events if isinstance(e, eng.Removed)}


def make(user: str, oid: str, side: str, price: int, qty: int, ts: int = 1, **kw: Any) -> Order:
    return Order(user, oid, side == "buy", price, qty, ts, **kw)


def mkt(user: str, oid: str, side: str, qty: int = 0, **kw: Any) -> Order:
    return Order(user, oid, side == "buy", 0, qty, 1, is_market=True, **kw)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def book(rec: Recorder) -> Engine:
    return Engine(tick_size=5, min_lots=2, lot_scale=100, hooks=rec)


def test_non_crossing_orders_rest_best_first(book: Engine) -> None:
    for i, (side, price) in enumerate([("buy", 95), ("buy", 100), ("sell", 110), ("sell", 105)]):
        assert book.submit(make("a", f"o{i}", side, price, 10), 1) is None
    assert book.depth() == ([(100, 10), (95, 10)], [(105, 10), (110, 10)])
    assert book.best_bid() == 100 and book.best_ask() == 105


def test_crossing_limit_fills_at_maker_price_and_rests_remainder(
    book: Engine, rec: Recorder
) -> None:
    book.submit(make("a", "s1", "sell", 100, 4), 1)
    book.submit(make("a", "s2", "sell", 105, 4), 1)
    book.submit(make("b", "b1", "buy", 110, 10), 2)
    assert rec.fills() == [("s1", "b1", 100, 4), ("s2", "b1", 105, 4)]
    assert book.depth() == ([(110, 2)], [])
    assert rec.removed() == {"s1": eng.COMPLETED, "s2": eng.COMPLETED}
    assert book.get("b", "b1") is not None and book.get("b", "b1").filled == 8  # type: ignore[union-attr]


def test_price_time_priority_fifo_within_level(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "late_better", "sell", 100, 4), 1)
    book.submit(make("c", "first", "sell", 105, 4), 1)
    book.submit(make("d", "second", "sell", 105, 4), 1)
    book.submit(make("b", "t", "buy", 105, 10), 2)
    assert rec.fills() == [
        ("late_better", "t", 100, 4),
        ("first", "t", 105, 4),
        ("second", "t", 105, 2),
    ]
    assert [o.order_id for o in book.level_orders(False, 105)] == ["second"]


@pytest.mark.parametrize(
    ("tif", "fok", "expect_code", "expect_fills", "expect_depth"),
    [
        (eng.IOC, False, None, [("s", "t", 100, 4)], ([], [])),
        (eng.IOC, True, "FOK_NOT_FILLED", [], ([], [(100, 4)])),
        (eng.GTC, False, None, [("s", "t", 100, 4)], ([(100, 6)], [])),
    ],
)
def test_time_in_force(
    book: Engine,
    rec: Recorder,
    tif: str,
    fok: bool,
    expect_code: str | None,
    expect_fills: list[Any],
    expect_depth: Any,
) -> None:
    book.submit(make("a", "s", "sell", 100, 4), 1)
    refusal = book.submit(make("b", "t", "buy", 100, 10, tif=tif, fill_or_kill=fok), 2)
    assert (refusal.code if refusal else None) == expect_code
    assert rec.fills() == expect_fills
    assert book.depth() == expect_depth


def test_fok_that_can_fill_fills_completely(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "s", "sell", 100, 10), 1)
    assert book.submit(make("b", "t", "buy", 100, 6, tif=eng.IOC, fill_or_kill=True), 2) is None
    assert rec.fills() == [("s", "t", 100, 6)]
    assert rec.removed()["t"] == eng.COMPLETED


def test_ioc_remainder_is_cancelled(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "s", "sell", 100, 4), 1)
    book.submit(make("b", "t", "buy", 100, 10, tif=eng.IOC), 2)
    assert rec.removed()["t"] == eng.CANCELED


@pytest.mark.parametrize(("price", "rejected"), [(100, True), (105, True), (95, False)])
def test_post_only(book: Engine, price: int, rejected: bool) -> None:
    book.submit(make("a", "s", "sell", 100, 4), 1)
    refusal = book.submit(make("b", "p", "buy", price, 4, post_only=True), 2)
    assert (refusal is not None) == rejected
    if refusal is not None:
        assert refusal.code == "POST_ONLY_WOULD_CROSS"
        assert book.depth() == ([], [(100, 4)])


def test_gtd_expires_when_time_reaches_it(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "g", "buy", 100, 4, tif=eng.GTD, gtd_ns=50), 10)
    book.expire(49)
    assert book.depth() == ([(100, 4)], [])
    book.expire(50)
    assert book.depth() == ([], [])
    assert rec.removed() == {"g": eng.EXPIRED}


def test_gtd_expiry_is_checked_before_matching(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "g", "sell", 100, 4, tif=eng.GTD, gtd_ns=50), 10)
    book.submit(make("b", "t", "buy", 100, 4), 60)
    assert rec.fills() == []
    assert book.depth() == ([(100, 4)], [])


@pytest.mark.parametrize(
    ("order", "code"),
    [
        (make("a", "x", "buy", 101, 4), "INVALID_ORDER_TICK_SIZE"),
        (make("a", "x", "buy", 0, 4), "INVALID_ORDER_PRICE"),
        (make("a", "x", "buy", 100, 1), "INVALID_ORDER_QUANTITY"),
        (make("a", "x", "buy", 100, 4, tif=eng.GTD, gtd_ns=5), "INVALID_ORDER_EXPIRED"),
        (mkt("a", "x", "buy", 0), "INVALID_ORDER_MARKET_DETAILS"),
        (mkt("a", "x", "buy", 4, max_lots=3), "INVALID_ORDER_MARKET_DETAILS"),
        (mkt("a", "x", "buy", quote_quantity=0), "INVALID_ORDER_MARKET_DETAILS"),
        (make("a", "x", "buy", 100, 4, trigger_above=7), "INVALID_ORDER_TICK_SIZE"),
        (make("a", "x", "buy", 100, 4, parent_id="nope"), "INVALID_ORDER_PARENT"),
    ],
)
def test_validation_rejects_with_stable_codes(book: Engine, order: Order, code: str) -> None:
    refusal = book.submit(order, 10)
    assert refusal is not None and refusal.code == code
    assert book.depth() == ([], []) and book.orders == {}


def test_duplicate_order_id_is_rejected_even_after_it_finished(book: Engine) -> None:
    book.submit(make("a", "x", "buy", 100, 4), 1)
    book.cancel("a", "x", 2)
    refusal = book.submit(make("a", "x", "buy", 100, 4), 3)
    assert refusal is not None and refusal.code == "DUPLICATE_ORDER"
    assert book.submit(make("b", "x", "buy", 100, 4), 3) is None  # ids are per user


def test_ledger_refusal_changes_nothing() -> None:
    rec = Recorder(refuse={"poor"})
    book = Engine(hooks=rec)
    book.submit(make("a", "s", "sell", 100, 4), 1)
    refusal = book.submit(make("poor", "t", "buy", 100, 4), 2)
    assert refusal is not None and refusal.code == "INSUFFICIENT_MARGIN_BALANCE"
    assert book.depth() == ([], [(100, 4)])
    assert rec.fills() == []


# ---------------------------------------------------------------------- market orders


def _ladder(book: Engine) -> None:
    book.submit(make("a", "s1", "sell", 100, 4), 1)
    book.submit(make("a", "s2", "sell", 110, 4), 1)
    book.submit(make("a", "s3", "sell", 120, 4), 1)


@pytest.mark.parametrize(
    ("order", "fills", "reason"),
    [
        (mkt("b", "m", "buy", 6), [("s1", "m", 100, 4), ("s2", "m", 110, 2)], eng.COMPLETED),
        (
            mkt("b", "m", "buy", 20),
            [("s1", "m", 100, 4), ("s2", "m", 110, 4), ("s3", "m", 120, 4)],
            eng.CANCELED,
        ),
        # max_sellable_amount 7 (price scale; notional = price*lots/100): 4 @100 = 4, 2 @110 = 2.2
        (
            mkt("b", "m", "buy", 10, max_amount=7),
            [("s1", "m", 100, 4), ("s2", "m", 110, 2)],
            eng.CANCELED,
        ),
        # spend 7 quote: 4 @100 (4), then 2 @110 (2.2), 0.8 left < one lot at 110 (1.1)
        (
            mkt("b", "m", "buy", quote_quantity=7),
            [("s1", "m", 100, 4), ("s2", "m", 110, 2)],
            eng.COMPLETED,
        ),
        (
            mkt("b", "m", "buy", quote_quantity=10_000, max_lots=5),
            [("s1", "m", 100, 4), ("s2", "m", 110, 1)],
            eng.CANCELED,
        ),
    ],
)
def test_market_orders_walk_the_book_with_caps(
    book: Engine, rec: Recorder, order: Order, fills: list[Any], reason: str
) -> None:
    _ladder(book)
    assert book.submit(order, 2) is None
    assert rec.fills() == fills
    assert rec.removed()["m"] == reason


def test_market_order_on_empty_book_is_cancelled(book: Engine, rec: Recorder) -> None:
    assert book.submit(mkt("b", "m", "sell", 4), 2) is None
    assert rec.removed() == {"m": eng.CANCELED}


def test_market_fill_or_kill_needs_whole_quantity(book: Engine, rec: Recorder) -> None:
    _ladder(book)
    refusal = book.submit(mkt("b", "m", "buy", 13, fill_or_kill=True), 2)
    assert refusal is not None and refusal.code == "FOK_NOT_FILLED"
    assert rec.fills() == []
    assert book.submit(mkt("b", "m2", "buy", 12, fill_or_kill=True), 2) is None


def test_market_sell_by_quote_amount(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "b1", "buy", 100, 4), 1)
    book.submit(make("a", "b2", "buy", 90, 10), 1)
    assert book.submit(mkt("b", "m", "sell", quote_quantity=6), 2) is None
    # 4 lots @100 = 4 quote, then 2 left → 2 lots @90 (1.8), 0.2 left < one lot
    assert rec.fills() == [("b1", "m", 100, 4), ("b2", "m", 90, 2)]


# ---------------------------------------------------------------------- self-trade prevention


def test_self_trade_cancels_resting_own_order_and_continues(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "own", "sell", 100, 4), 1)
    book.submit(make("c", "other", "sell", 100, 4), 1)
    book.submit(make("a", "t", "buy", 100, 4), 2)
    assert rec.removed()["own"] == eng.SELF_TRADE_PREVENTED
    assert rec.fills() == [("other", "t", 100, 4)]
    assert book.depth() == ([], [])


def test_self_trade_does_not_cancel_beyond_the_fill(book: Engine, rec: Recorder) -> None:
    book.submit(make("c", "other", "sell", 100, 4), 1)
    book.submit(make("a", "own", "sell", 100, 4), 1)
    book.submit(make("a", "t", "buy", 100, 4), 2)
    assert "own" not in rec.removed()
    assert book.depth() == ([], [(100, 4)])


# ---------------------------------------------------------------------- replace and amend


def _two_bids(book: Engine) -> None:
    book.submit(make("a", "x", "buy", 100, 10), 1)
    book.submit(make("c", "y", "buy", 100, 10), 1)


def test_replace_decrease_keeps_priority(book: Engine) -> None:
    _two_bids(book)
    err = book.replace("a", "x", new_price=100, new_quantity=6, new_trigger=None, revision=5, now=5)
    assert err is None
    assert [o.order_id for o in book.level_orders(True, 100)] == ["x", "y"]
    assert book.depth() == ([(100, 16)], [])


@pytest.mark.parametrize(("price", "qty"), [(100, 12), (95, 10)])
def test_replace_increase_or_reprice_loses_priority(book: Engine, price: int, qty: int) -> None:
    _two_bids(book)
    err = book.replace(
        "a", "x", new_price=price, new_quantity=qty, new_trigger=None, revision=5, now=5
    )
    assert err is None
    if price == 100:
        assert [o.order_id for o in book.level_orders(True, 100)] == ["y", "x"]
    else:
        assert [o.order_id for o in book.level_orders(True, 95)] == ["x"]
    order = book.get("a", "x")
    assert order is not None and order.quantity == qty and order.revision == 5


def test_replace_quantity_is_lifetime_total(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "x", "buy", 100, 10), 1)
    book.submit(make("b", "s", "sell", 100, 4), 2)
    err = book.replace("a", "x", new_price=100, new_quantity=3, new_trigger=None, revision=5, now=5)
    assert err is not None and err.code == "INVALID_ORDER_QUANTITY"
    assert (
        book.replace("a", "x", new_price=100, new_quantity=6, new_trigger=None, revision=6, now=6)
        is None
    )
    assert book.depth() == ([(100, 2)], [])
    assert (
        book.replace("a", "x", new_price=100, new_quantity=4, new_trigger=None, revision=7, now=7)
        is None
    )
    assert rec.removed()["x"] == eng.COMPLETED


def test_replace_that_crosses_matches(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "x", "buy", 90, 10), 1)
    book.submit(make("b", "s", "sell", 100, 4), 1)
    assert (
        book.replace("a", "x", new_price=100, new_quantity=10, new_trigger=None, revision=5, now=5)
        is None
    )
    assert rec.fills() == [("s", "x", 100, 4)]
    assert book.depth() == ([(100, 6)], [])


def test_replace_needs_a_newer_revision_and_a_live_order(book: Engine) -> None:
    book.submit(make("a", "x", "buy", 90, 10, ts=100), 100)
    stale = book.replace(
        "a", "x", new_price=95, new_quantity=10, new_trigger=None, revision=100, now=101
    )
    assert stale is not None and stale.code == "ORDER_REJECTED_STALE_REVISION"
    assert (
        book.replace(
            "a", "x", new_price=95, new_quantity=10, new_trigger=None, revision=150, now=150
        )
        is None
    )
    replay = book.replace(
        "a", "x", new_price=90, new_quantity=10, new_trigger=None, revision=150, now=151
    )
    assert replay is not None and replay.code == "ORDER_REJECTED_STALE_REVISION"
    missing = book.replace(
        "a", "zz", new_price=90, new_quantity=10, new_trigger=None, revision=200, now=200
    )
    assert missing is not None and missing.code == "ORDER_NOT_FOUND"


def test_replace_post_only_that_would_cross_is_refused(book: Engine) -> None:
    book.submit(make("a", "x", "buy", 90, 10, post_only=True), 1)
    book.submit(make("b", "s", "sell", 100, 4), 1)
    err = book.replace(
        "a", "x", new_price=100, new_quantity=10, new_trigger=None, revision=5, now=5
    )
    assert err is not None and err.code == "POST_ONLY_WOULD_CROSS"
    assert book.depth() == ([(90, 10)], [(100, 4)])


def test_amend_reduces_in_place_with_revision_check(book: Engine) -> None:
    _two_bids(book)
    assert book.amend("a", "x", new_quantity=4, expected_revision=None, revision=10, now=10) is None
    assert [o.order_id for o in book.level_orders(True, 100)] == ["x", "y"]
    assert book.depth() == ([(100, 14)], [])
    stale = book.amend("a", "x", new_quantity=2, expected_revision=None, revision=11, now=11)
    assert stale is not None and stale.code == "ORDER_REJECTED_STALE_REVISION"
    assert book.amend("a", "x", new_quantity=2, expected_revision=10, revision=12, now=12) is None


@pytest.mark.parametrize("qty", [10, 12, 0])
def test_amend_only_reduces_and_never_to_zero(book: Engine, qty: int) -> None:
    book.submit(make("a", "x", "buy", 100, 10), 1)
    err = book.amend("a", "x", new_quantity=qty, expected_revision=None, revision=5, now=5)
    assert err is not None and err.code == "INVALID_ORDER_QUANTITY"


def test_cancel(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "x", "buy", 100, 10), 1)
    assert book.cancel("a", "x", 2) is None
    assert rec.removed() == {"x": eng.CANCELED}
    again = book.cancel("a", "x", 3)
    assert again is not None and again.code == "ORDER_NOT_FOUND"
    assert book.cancel("b", "x", 3) is not None  # another user's id is not yours


# ---------------------------------------------------------------------- triggers


def _trade_at(book: Engine, price: int, tag: str) -> None:
    book.submit(make("mm", f"s{tag}", "sell", price, 2), 1)
    book.submit(make("tk", f"b{tag}", "buy", price, 2), 1)


def test_stop_below_rests_until_touched_then_fires(book: Engine, rec: Recorder) -> None:
    _trade_at(book, 100, "1")
    book.submit(make("mm", "bid", "buy", 80, 10), 1)
    assert book.submit(mkt("a", "stop", "sell", 4, trigger_below=90), 2) is None
    assert book.get("a", "stop") is not None and book.get("a", "stop").state == eng.PENDING  # type: ignore[union-attr]
    _trade_at(book, 95, "2")
    assert ("bid", "stop", 80, 4) not in rec.fills()
    _trade_at(book, 90, "3")
    assert ("bid", "stop", 80, 4) in rec.fills()
    assert any(isinstance(e, eng.Triggered) and e.order.order_id == "stop" for e in rec.events)


def test_trigger_above_fires_at_once_when_already_touched(book: Engine, rec: Recorder) -> None:
    _trade_at(book, 100, "1")
    book.submit(make("a", "tp", "buy", 100, 4, trigger_above=100), 2)
    assert book.depth() == ([(100, 4)], [])


def test_no_trigger_fires_before_the_first_trade(book: Engine) -> None:
    book.submit(make("a", "tp", "buy", 100, 4, trigger_above=5), 2)
    assert book.depth() == ([], [])


def test_child_arms_only_when_parent_completes(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "parent", "buy", 100, 4), 1)
    book.submit(make("a", "child", "sell", 150, 4, parent_id="parent"), 1)
    assert book.depth() == ([(100, 4)], [])
    book.submit(make("b", "s", "sell", 100, 2), 2)
    assert book.depth() == ([(100, 2)], [])  # partially filled parent: child still waits
    book.submit(make("b", "s2", "sell", 100, 2), 3)
    assert book.depth() == ([], [(150, 4)])


def test_child_is_cancelled_when_parent_is_cancelled(book: Engine, rec: Recorder) -> None:
    book.submit(make("a", "parent", "buy", 100, 4), 1)
    book.submit(make("a", "child", "sell", 150, 4, parent_id="parent", trigger_above=150), 1)
    book.cancel("a", "parent", 2)
    assert rec.removed() == {"parent": eng.CANCELED, "child": eng.CANCELED}


def test_fired_order_refused_by_ledger_ends_rejected() -> None:
    rec = Recorder(refuse={"poor"})
    book = Engine(hooks=rec)
    book.submit(make("mm", "s", "sell", 100, 2), 1)
    book.submit(make("tk", "b", "buy", 100, 2), 1)
    assert book.submit(make("poor", "t", "buy", 100, 4, trigger_below=100), 2) is None
    assert rec.removed()["t"] == eng.REJECTED
    assert book.orders == {}


def test_replace_can_move_a_pending_trigger(book: Engine) -> None:
    _trade_at(book, 100, "1")
    book.submit(make("a", "t", "buy", 100, 4, trigger_below=90), 2)
    assert (
        book.replace(
            "a",
            "t",
            new_price=100,
            new_quantity=4,
            new_trigger=("PriceBelow", 100),
            revision=5,
            now=5,
        )
        is None
    )
    assert book.depth() == ([(100, 4)], [])
    err = book.replace(
        "a", "t", new_price=100, new_quantity=4, new_trigger=("PriceAbove", 100), revision=6, now=6
    )
    assert err is not None and err.code == "INVALID_ORDER_TRIGGER"


# ---------------------------------------------------------------------- configuration


def test_step_clock_is_deterministic_and_monotonic() -> None:
    from tplus_cli.venue.clock import StepClock

    clock = StepClock(100, step_ns=5)
    assert [clock.now_ns(), clock.now_ns()] == [100, 105]
    assert clock.advance(10) == 120
    clock.set(200)
    assert clock.now_ns() == 200
    with pytest.raises(ValueError):
        clock.set(150)
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_default_markets_have_realistic_grids() -> None:
    from tplus_cli.venue.markets import DEFAULT_MARKETS, asset_table

    by_symbol = {m.symbol: m.to_json() for m in DEFAULT_MARKETS}
    assert {s: (j["tick_size"], j["min_order_size"]) for s, j in by_symbol.items()} == {
        "ETH": ("0.01", "0.0010"),
        "BTC": ("0.1", "0.00010"),
        "SOL": ("0.001", "0.01"),
    }
    assert set(by_symbol["BTC"]) >= {
        "asset_id",
        "book_price_decimals",
        "book_quantity_decimals",
        "max_leverage",
        "min_order_size",
        "tick_size",
        "fee_schedule",
    }
    assert list(asset_table()) == ["0", "1", "2", "3"]


@pytest.mark.parametrize("finish", ["complete", "cancel"])
def test_long_parent_chains_do_not_recurse(rec: Recorder, finish: str) -> None:
    book = Engine(hooks=rec, max_open_orders=None)
    book.submit(make("a", "c0", "buy", 100, 1), 1)
    links = 3_000  # far deeper than Python's recursion limit
    for i in range(1, links + 1):
        assert book.submit(mkt("a", f"c{i}", "buy", 1, parent_id=f"c{i - 1}"), 1) is None
    if finish == "cancel":
        book.cancel("a", "c0", 2)
        assert set(rec.removed().values()) == {eng.CANCELED} and len(rec.removed()) == links + 1
    else:
        book.submit(make("mm", "ask", "sell", 100, links + 1), 2)
        assert len(rec.fills()) == links + 1
        removed = rec.removed()
        assert all(removed[f"c{i}"] == eng.COMPLETED for i in range(links + 1))
    assert book.orders.keys() <= {("mm", "ask")}


def test_open_orders_per_user_are_capped(rec: Recorder) -> None:
    book = Engine(hooks=rec, max_open_orders=3)
    for i in range(3):
        assert book.submit(make("a", f"o{i}", "buy", 100 - i, 1), 1) is None
    refusal = book.submit(make("a", "o3", "buy", 90, 1), 1)
    assert refusal is not None and refusal.code == "INVALID_ORDER_TOO_MANY_OPEN"
    assert book.submit(make("b", "o3", "buy", 90, 1), 1) is None  # per user
    book.cancel("a", "o0", 2)
    assert book.submit(make("a", "o4", "buy", 90, 1), 2) is None
