"""`tplus book SYMBOL` against the embedded venue: ladder order, cumulative size, spread, mid."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from .conftest import Tplus
from .trading_helpers import FAR_ASK, FAR_BID, ok, one_line_error, place, set_simulator


@pytest.fixture(autouse=True)
def _quiet_venue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded venue without its simulator: books and fills are only these tests'."""
    set_simulator(monkeypatch, on=False)


def test_book_json_has_both_sides_best_first_with_cumulative(tplus: Tplus) -> None:
    """-o json: bids descending, asks ascending, running totals, spread = ask - bid, exact mid."""
    place(tplus, f"BTC buy 0.5 --price {FAR_BID}")
    place(tplus, f"BTC sell 0.25 --price {FAR_ASK}")
    doc = ok(tplus("book BTC --depth 1000 -o json")).json()
    assert (doc["symbol"], doc["asset_id"]) == ("BTC", "2")
    bids = [Decimal(lv["price"]) for lv in doc["bids"]]
    asks = [Decimal(lv["price"]) for lv in doc["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert Decimal(FAR_BID) in bids and Decimal(FAR_ASK) in asks
    for side in (doc["bids"], doc["asks"]):
        running = Decimal(0)
        for level in side:
            running += Decimal(level["quantity"])
            assert Decimal(level["cumulative"]) == running
    best_bid, best_ask = Decimal(doc["best_bid"]), Decimal(doc["best_ask"])
    assert Decimal(doc["spread"]) == best_ask - best_bid
    assert Decimal(doc["mid"]) * 2 == best_ask + best_bid


def test_depth_limits_levels(tplus: Tplus) -> None:
    """--depth N returns at most N levels per side."""
    for price in ("1000", "1001", "1002"):
        place(tplus, f"BTC buy 0.01 --price {price}")
    doc = ok(tplus("book BTC --depth 2 -o json")).json()
    assert len(doc["bids"]) <= 2 and len(doc["asks"]) <= 2


def test_table_is_a_ladder_with_spread_line(tplus: Tplus) -> None:
    """The table lists asks above bids, highest price first, with spread and mid under it."""
    place(tplus, f"BTC buy 0.01 --price {FAR_BID}")
    place(tplus, f"BTC sell 0.01 --price {FAR_ASK}")
    out = ok(tplus("book BTC --depth 1000 -o table")).stdout
    assert "BTC order book" in out and "spread:" in out and "mid:" in out
    ask_at = out.index(FAR_ASK)
    bid_at = out.index(f" {FAR_BID}")
    assert ask_at < bid_at
    sides = [line.split()[0] for line in out.splitlines() if line.split()[:1] in (["ask"], ["bid"])]
    assert sides == sorted(sides)  # every ask line comes before every bid line


def test_ndjson_and_csv_rows(tplus: Tplus) -> None:
    """ndjson/csv give one row per level with side, price, quantity and cumulative."""
    place(tplus, "SOL buy 1 --price 1")
    lines = ok(tplus("book SOL -o ndjson")).stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert all(set(r) == {"side", "price", "quantity", "cumulative"} for r in rows)
    assert any(r["side"] == "bid" for r in rows)
    table = list(csv.DictReader(io.StringIO(ok(tplus("book SOL -o csv")).stdout)))
    assert table and set(table[0]) == {"side", "price", "quantity", "cumulative"}


@pytest.mark.parametrize("args", ["book DOGE", "book BTC --depth 0", "book"])
def test_bad_input_is_exit_2(tplus: Tplus, args: str) -> None:
    """Unknown symbol, a zero depth or a missing symbol: one error line, exit 2."""
    one_line_error(tplus(args), 2)
