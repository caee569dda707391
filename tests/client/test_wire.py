"""Pure parsing and conversion: exact numbers in every accepted form, tolerant shapes."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spec_fake import EXAMPLES

from tplus_cli.client import orders as build
from tplus_cli.client.errors import InvalidInput
from tplus_cli.client.wire import (
    WireError,
    dec,
    integer,
    inventory_amount,
    parse_ack,
    parse_market,
    parse_order,
    parse_order_event,
)

U256 = st.integers(min_value=0, max_value=2**256 - 1)
DECIMALS = st.integers(min_value=0, max_value=18)


@given(U256)
def test_integers_parse_from_int_decimal_string_and_hex(n: int) -> None:
    """A U256 arrives as a JSON int, a decimal string or a 0x-hex string: same value."""
    assert (
        integer(n) == integer(str(n)) == integer(hex(n)) == integer("0x" + hex(n)[2:].upper()) == n
    )


@given(st.decimals(allow_nan=False, allow_infinity=False, places=8))
def test_decimals_survive_json_exactly(value: Decimal) -> None:
    """A decimal sent as a JSON string or number parses to the same exact Decimal."""
    assert dec(str(value)) == value
    assert dec(json.loads(f'{{"v": {value}}}', parse_float=Decimal)["v"]) == value


@given(st.integers(min_value=1, max_value=2**64 - 1), DECIMALS)
def test_book_units_round_trip(raw: int, decimals: int) -> None:
    """human → book int is exact and inverts the scaling used when parsing orders."""
    human = Decimal(raw).scaleb(-decimals)
    assert build.book_int(human, decimals, "quantity") == raw
    assert build.book_int(str(human), decimals, "quantity") == raw


@given(st.integers(min_value=0, max_value=2**60), DECIMALS)
def test_excess_precision_names_the_step(raw: int, decimals: int) -> None:
    """One digit finer than the market allows is refused, naming the field and the step."""
    finer = Decimal(raw * 10 + 1).scaleb(-(decimals + 1))
    with pytest.raises(InvalidInput) as info:
        build.book_int(finer, decimals, "price")
    step = f"{Decimal(1).scaleb(-decimals):f}"
    assert "price" in str(info.value) and step in str(info.value)


@pytest.mark.parametrize("bad", [1.5, True, "NaN", "inf", "1,5", "", None, [1]])
def test_dec_refuses_floats_and_junk(bad: object) -> None:
    """Floats, bools and non-numbers never become money."""
    with pytest.raises(WireError):
        dec(bad)


def test_inventory_amounts_are_18_decimal() -> None:
    """1e18 inventory units is one token, in decimal or hex form."""
    assert inventory_amount("1000000000000000000") == inventory_amount("0xde0b6b3a7640000") == 1


def test_order_parsing_tolerates_extra_keys_and_number_forms() -> None:
    """Unknown keys are ignored; decimal fields may be JSON numbers or strings."""
    row = {**EXAMPLES["order_response"], "limit_price": 50000, "quantity": "1500", "brand_new": 1}
    order = parse_order(row, 2, 3)
    assert order.price == Decimal("500.00") and order.quantity == Decimal("1.500")
    with pytest.raises(WireError):
        parse_order({k: v for k, v in row.items() if k != "quantity"}, 2, 3)


def test_market_defaults_tick_to_the_price_step() -> None:
    """A market without tick_size ticks at 10^-price_decimals; fees are None without a schedule."""
    market = parse_market({"asset_id": "7", "book_price_decimals": 3, "book_quantity_decimals": 1})
    assert market.tick_size == Decimal("0.001") and market.taker_fee_rate is None


def test_ack_status_is_validated() -> None:
    """OrderOperationResponse status is Received or Rejected; anything else is a wire error."""
    assert parse_ack({"order_id": "a", "status": "Rejected", "reason": "x"}).accepted is False
    with pytest.raises(WireError):
        parse_ack({"order_id": "a", "status": "Maybe"})


def test_order_event_needs_one_variant() -> None:
    """A frame with two variant keys is not an order event."""
    with pytest.raises(WireError):
        parse_order_event({"Created": {}, "Removed": {}})


@pytest.mark.parametrize(
    ("status", "canceled", "open_"),
    [
        ("Open", False, True),
        ("PartiallyFilled", False, True),
        ("Pending", False, True),
        ("Filled", False, False),
        ("Canceled", True, False),
        ("Expired", False, False),
    ],
)
def test_open_means_not_final(status: str, canceled: bool, open_: bool) -> None:
    """Status is free text: anything not known to be final is open."""
    row = {**EXAMPLES["order_response"], "status": status, "canceled": canceled}
    assert parse_order(row, 2, 3).is_open is open_
