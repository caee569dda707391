"""Live views: the pure pieces (state, own levels, connection text, stream payloads) and the
NDJSON fallback of `tplus book SYMBOL --watch` when stdout is not a terminal."""

from __future__ import annotations

import json
import signal
from decimal import Decimal

import pytest

from tplus_cli.client.book import OrderBook
from tplus_cli.client.book_feed import BookUpdate
from tplus_cli.client.stream import StreamStatus
from tplus_cli.client.wire import OrderInfo
from tplus_cli.commands._streaming import BookData, parse_duration
from tplus_cli.commands._watch import WatchState, connection_text, own_levels
from tplus_cli.errors import UsageError

from .test_stream import Proc, run_tplus

D = Decimal


def order(
    side: str, price_raw: int | None, qty: int, filled: int = 0, status: str = "open"
) -> OrderInfo:
    return OrderInfo(
        order_id=f"{side}{price_raw}{qty}",
        asset_id="2",
        side=side,
        status=status,
        price_decimals=1,
        quantity_decimals=3,
        limit_price_raw=price_raw,
        quantity_raw=qty,
        filled_quantity_raw=filled,
        canceled=False,
        timestamp_ns=1,
    )


def test_own_levels_sum_remaining_size_per_side_and_price() -> None:
    """Two buys at one price add up; fills reduce; market and closed orders are left out."""
    mine = own_levels(
        [
            order("Buy", 500000, 1000),
            order("Buy", 500000, 500, filled=200),
            order("Sell", 510000, 250),
            order("Buy", None, 100),
            order("Sell", 520000, 100, status="completed"),
        ]
    )
    assert mine == {("bid", D("50000.0")): D("1.300"), ("ask", D("51000.0")): D("0.250")}


@pytest.mark.parametrize(
    ("status", "text", "live"),
    [
        (StreamStatus("b", "resynced", reason="initial"), "live", True),
        (StreamStatus("b", "connected"), "syncing", False),
        (
            StreamStatus("b", "reconnecting", 3, delay=2.0),
            "reconnecting in 2.0s (attempt 3)",
            False,
        ),
        (StreamStatus("b", "resyncing", reason="sequence gap"), "resyncing: sequence gap", False),
        (StreamStatus("b", "gave_up"), "gave up", False),
    ],
)
def test_connection_text(status: StreamStatus, text: str, live: bool) -> None:
    """The view always says what the connection is doing."""
    assert connection_text(status) == (text, live)


def test_watch_state_view_marks_own_orders_and_takes_the_ticker() -> None:
    """State → view: levels best first, own size at its level, ticker fields as Decimals."""
    state = WatchState("BTC", depth=1)
    state.book = OrderBook.from_levels([(D(99), D(1)), (D(98), D(2))], [(D(101), D(3))], 7)
    state.own = {("bid", D(99)): D("0.5")}
    state.apply_ticker({"last_price": "100.5", "price_change_pct_24h": Decimal("-1.2")})
    view = state.view()
    assert view.bids == [(D(99), D(1))] and view.asks == [(D(101), D(3))]
    assert view.own == {("bid", D(99)): D("0.5")}
    assert (view.last_price, view.change_pct_24h, view.sequence) == (D("100.5"), D("-1.2"), 7)


def test_book_data_snapshot_and_diff_payloads() -> None:
    """`stream book` payloads: top-N snapshots, or the applied diff (full book on a resync)."""
    book = OrderBook.from_levels([(D(1), D(2)), (D("0.5"), D(1))], [(D(3), D(4))], 9)
    snap = BookData("2", "BTC", 1, diffs=False)(BookUpdate(book, None))
    assert snap == [
        {
            "symbol": "BTC",
            "asset_id": "2",
            "kind": "snapshot",
            "sequence": 9,
            "bids": [["1", "2"]],
            "asks": [["3", "4"]],
        }
    ]
    full = BookData("2", "BTC", 1, diffs=True)(BookUpdate(book, None))
    assert full[0]["bids"] == [["1", "2"], ["0.5", "1"]]  # --diffs: resync carries every level
    from tplus_cli.client.book import DepthUpdate

    diff = DepthUpdate(((D(1), D(0)),), (), 10)
    assert BookData("2", "BTC", 1, diffs=True)(BookUpdate(book, diff))[0]["kind"] == "diff"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), ("90s", 90.0), ("500ms", 0.5), ("5m", 300.0), ("1h", 3600.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    """--for accepts plain seconds and ms/s/m/h suffixes."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-1s", "0", "1d"])
def test_parse_duration_rejects(text: str) -> None:
    """Anything else is a usage error (exit 2)."""
    with pytest.raises(UsageError):
        parse_duration(text)


@pytest.mark.slow
def test_book_watch_piped_writes_ndjson_snapshots_with_own_orders() -> None:
    """Not a terminal: `book --watch` degrades to NDJSON snapshots; our order shows as "mine"."""
    assert run_tplus("order", "list", "-o", "json").returncode == 0
    watch = Proc("book", "BTC", "--watch")
    try:
        first = watch.next_json()
        assert first["stream"] == "book" and first["data"]["symbol"] == "BTC"
        assert first["data"]["connection"] == "live"  # nothing is written before the first sync
        assert isinstance(first["data"]["sequence"], int)
        placed = run_tplus(
            "order", "place", "BTC", "sell", "0.02", "--price", "77777", "-o", "json"
        )
        assert placed.returncode == 0, placed.stderr

        def shows_order(data: dict[str, object]) -> bool:
            asks = [[D(p), D(q)] for p, q in data["asks"]]  # type: ignore[attr-defined]
            return bool(data["mine"]) and [D(77777), D("0.02")] in asks

        data = watch.next_json()["data"]
        while not shows_order(data):  # the level (depth diff) and the marker (REST) race
            data = watch.next_json()["data"]
        assert data["connection"] == "live"
        assert [(m["side"], D(m["price"])) for m in data["mine"]] == [("ask", D(77777))]
        watch.popen.send_signal(signal.SIGINT)
        code, _ = watch.finish()
        assert code == 130
    finally:
        if watch.popen.poll() is None:
            watch.popen.kill()


@pytest.mark.slow
def test_order_list_watch_piped_updates_as_orders_come_and_go() -> None:
    """`order list --watch` (not a terminal): a new NDJSON list whenever our open orders change."""
    assert run_tplus("order", "list", "-o", "json").returncode == 0
    watch = Proc("order", "list", "--watch")
    try:
        first = watch.next_json()
        assert first["stream"] == "orders" and first["data"] == []
        placed = run_tplus("order", "place", "SOL", "buy", "1", "--price", "1", "-o", "json")
        assert placed.returncode == 0, placed.stderr
        order_id = json.loads(placed.stdout)["order_id"]
        rows = watch.next_json()["data"]
        while [r["order_id"] for r in rows] != [order_id]:
            rows = watch.next_json()["data"]
        assert rows[0]["symbol"] == "SOL" and rows[0]["status"] == "open"
        assert run_tplus("order", "cancel", order_id, "-o", "json").returncode == 0
        while rows:
            rows = watch.next_json()["data"]
        watch.popen.send_signal(signal.SIGINT)
        assert watch.finish()[0] == 130
    finally:
        if watch.popen.poll() is None:
            watch.popen.kill()
