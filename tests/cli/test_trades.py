"""`tplus trades` against the embedded venue: own fills with side, role and fee."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from .conftest import Tplus
from .trading_helpers import ok, one_line_error, place, set_simulator


@pytest.fixture(autouse=True)
def _quiet_venue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded venue without its simulator: books and fills are only these tests'."""
    set_simulator(monkeypatch, on=False)


def _cross(tplus: Tplus) -> str:
    """A second account rests a sell; our buy takes it. Return our (taker) order id."""
    if "maker" not in tplus("keys list -o json").stdout:
        ok(tplus("keys new maker"))
    ok(tplus("--key maker order place BTC sell 0.001 --price 60000"))
    return place(tplus, "BTC buy 0.001 --price 60000 --tif ioc")["order_id"]


def test_no_fills_is_an_empty_list(tplus: Tplus) -> None:
    """Before any trade, json is [] and ndjson is empty."""
    assert ok(tplus("trades -o json")).stdout.strip() == "[]"
    assert ok(tplus("trades -o ndjson")).stdout == ""


def test_a_fill_shows_up_with_side_role_and_fee(tplus: Tplus) -> None:
    """A taker buy appears as our fill: side buy, role taker, exact price and quantity."""
    order_id = _cross(tplus)
    rows = ok(tplus("trades -o json")).json()
    mine = [r for r in rows if r["order_id"] == order_id]
    assert mine, rows
    assert {r["side"] for r in mine} == {"buy"} and {r["role"] for r in mine} == {"taker"}
    assert sum(Decimal(r["quantity"]) for r in mine) == Decimal("0.001")
    assert {Decimal(r["price"]) for r in mine} == {Decimal("60000")}
    # taker fee 0.05% of 60 USDC notional, exactly
    assert sum(Decimal(r["fee"]) for r in mine) == Decimal("0.03")
    assert all(r["symbol"] == "BTC" for r in mine)


def test_filters_limit_and_formats(tplus: Tplus) -> None:
    """--symbol filters, --limit caps, table/ndjson/csv render the same fills."""
    _cross(tplus)
    _cross(tplus)
    assert ok(tplus("trades --symbol ETH -o json")).json() == []
    assert len(ok(tplus("trades --limit 1 -o json")).json()) == 1
    lines = ok(tplus("trades --symbol BTC -o ndjson")).stdout.splitlines()
    assert lines and all(json.loads(line)["symbol"] == "BTC" for line in lines)
    rows = list(csv.DictReader(io.StringIO(ok(tplus("trades -o csv")).stdout)))
    assert rows and "fee" in rows[0]
    assert "BTC" in ok(tplus("trades -o table")).stdout


def test_bad_input(tplus: Tplus) -> None:
    """Unknown symbol and a zero limit are usage errors."""
    one_line_error(tplus("trades --symbol DOGE"), 2)
    one_line_error(tplus("trades --limit 0"), 2)
