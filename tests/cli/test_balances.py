"""`tplus balances` against the embedded venue: rows per asset, holds, summary, formats."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from .conftest import Tplus
from .trading_helpers import FAR_BID, ok, one_line_error, place, set_simulator


@pytest.fixture(autouse=True)
def _quiet_venue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded venue without its simulator: books and fills are only these tests'."""
    set_simulator(monkeypatch, on=False)


ROW_KEYS = ["sub_account", "asset_id", "symbol", "available", "held", "total"]


def _by_symbol(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {r["symbol"]: r for r in rows}


def test_new_account_is_funded_on_sub_account_1(tplus: Tplus) -> None:
    """A fresh paper account shows funded balances on sub-account 1 (the order default)."""
    rows = ok(tplus("balances -o json")).json()
    assert rows and all(list(r) == ROW_KEYS for r in rows)
    assert {r["sub_account"] for r in rows} == {1}
    usdc = _by_symbol(rows)["USDC"]
    assert Decimal(str(usdc["total"])) > 0
    assert Decimal(str(usdc["held"])) == 0 and usdc["available"] == usdc["total"]


def test_open_buy_holds_quote(tplus: Tplus) -> None:
    """A resting buy moves USDC from available to held; total is unchanged and exact."""
    before = _by_symbol(ok(tplus("balances -o json")).json())["USDC"]
    place(tplus, f"BTC buy 0.01 --price {FAR_BID}")
    after = _by_symbol(ok(tplus("balances -o json")).json())["USDC"]
    held = Decimal(str(after["held"]))
    assert held >= Decimal("10")  # 0.01 × 1000, plus any fee reserve
    assert after["total"] == before["total"]
    assert Decimal(str(after["available"])) + held == Decimal(str(after["total"]))


def test_all_and_single_sub_account(tplus: Tplus) -> None:
    """--all spans sub-accounts; --sub-account N shows one (empty list when it holds nothing)."""
    every = ok(tplus("balances --all -o json")).json()
    assert {r["sub_account"] for r in every} >= {0, 1}
    zero = ok(tplus("balances --sub-account 0 -o json")).json()
    assert {r["sub_account"] for r in zero} == {0}
    assert ok(tplus("balances --sub-account 7 -o json")).stdout.strip() == "[]"


def test_summary_rows(tplus: Tplus) -> None:
    """--summary gives one margin/solvency row per sub-account."""
    rows = ok(tplus("balances --summary -o json")).json()
    assert [r["sub_account"] for r in rows] == [1]
    assert rows[0]["is_solvent"] is True
    assert {"equity", "available_margin", "distance_from_liquidation"} <= set(rows[0])


def test_table_has_balances_and_a_summary_line(tplus: Tplus) -> None:
    """The table lists assets and ends with one summary line per sub-account."""
    out = ok(tplus("balances --all -o table")).stdout
    assert "USDC" in out and "available" in out and "held" in out
    assert "sub-account 1" in out and "solvent" in out


def test_ndjson_and_csv(tplus: Tplus) -> None:
    """ndjson and csv carry the same rows with the documented keys."""
    lines = ok(tplus("balances -o ndjson")).stdout.splitlines()
    assert all(list(json.loads(line)) == ROW_KEYS for line in lines)
    rows = list(csv.DictReader(io.StringIO(ok(tplus("balances -o csv")).stdout)))
    assert rows and list(rows[0]) == ROW_KEYS


def test_all_with_sub_account_is_a_usage_error(tplus: Tplus) -> None:
    """--all and --sub-account together: exit 2."""
    one_line_error(tplus("balances --all --sub-account 1"), 2)
    one_line_error(tplus("balances --sub-account -1"), 2)
