"""`tplus markets [list] | show SYMBOL` against the embedded venue."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest

from .conftest import Tplus
from .trading_helpers import FORMATS, has_record, ok, one_line_error, set_simulator


@pytest.fixture(autouse=True)
def _quiet_venue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded venue without its simulator: books and fills are only these tests'."""
    set_simulator(monkeypatch, on=False)


def test_markets_alone_lists_every_market_as_json(tplus: Tplus) -> None:
    """`tplus markets` lists BTC, ETH and SOL with decimals, tick, min size and fee rates."""
    rows = ok(tplus("markets -o json")).json()
    by_symbol = {r["symbol"]: r for r in rows}
    assert set(by_symbol) >= {"BTC", "ETH", "SOL"}
    btc = by_symbol["BTC"]
    assert btc["asset_id"] == "2"
    assert Decimal(btc["tick_size"]) == Decimal("0.1")
    assert Decimal(btc["min_order_size"]) == Decimal("0.0001")
    assert (btc["price_decimals"], btc["quantity_decimals"]) == (1, 5)
    assert (btc["taker_fee_pct"], btc["maker_fee_pct"]) == ("0.05", "0.02")
    assert ok(tplus("markets list -o json")).json() == rows


def test_markets_table_and_global_option_position(tplus: Tplus) -> None:
    """The table names each market; -o works before the group as well as after it."""
    out = ok(tplus("markets -o table")).stdout
    assert "BTC" in out and "min size" in out and "0.1" in out
    assert ok(tplus("-o table markets")).stdout == out


def test_markets_ndjson_csv_and_fields(tplus: Tplus) -> None:
    """ndjson is one object per line; csv has a header; --fields picks columns in order."""
    lines = ok(tplus("markets -o ndjson")).stdout.splitlines()
    assert {json.loads(line)["symbol"] for line in lines} >= {"BTC", "ETH", "SOL"}
    rows = list(csv.DictReader(io.StringIO(ok(tplus("markets -o csv")).stdout)))
    assert {r["symbol"] for r in rows} >= {"BTC", "ETH", "SOL"}
    picked = ok(tplus("markets -o json --fields symbol,tick_size")).json()
    assert all(list(r) == ["symbol", "tick_size"] for r in picked)


@pytest.mark.parametrize("ref", ["BTC", "btc", "2"])
def test_show_resolves_symbol_case_and_index(tplus: Tplus, ref: str) -> None:
    """`markets show` accepts a symbol in any case or the registry index."""
    doc = ok(tplus(f"markets show {ref} -o json")).json()
    assert (doc["symbol"], doc["asset_id"], doc["tick_size"]) == ("BTC", "2", "0.1")


def test_show_table_is_a_record(tplus: Tplus) -> None:
    """A single market renders as field/value lines."""
    out = ok(tplus("markets show ETH -o table")).stdout
    assert "ETH" in out and "min size" in out and "0.01" in out


def test_show_unknown_symbol_is_a_usage_error(tplus: Tplus) -> None:
    """An unknown symbol is one error line and exit 2."""
    message = one_line_error(tplus("markets show DOGE"), 2)
    assert "DOGE" in message
    one_line_error(tplus("markets show DOGE -o table"), 2)


@pytest.mark.parametrize("fmt", FORMATS)
def test_show_in_every_format(tplus: Tplus, fmt: str) -> None:
    """`markets show` renders one record in every output format."""
    out = ok(tplus(f"markets show SOL -o {fmt}")).stdout
    assert has_record(fmt, out, symbol="SOL", asset_id="3", tick_size="0.001")
