"""Ledger: funding, transfers, holds, fee settlement, admission and margin arithmetic."""

from __future__ import annotations

import pytest

from tplus_cli.venue.engine import Order
from tplus_cli.venue.ledger import MARGIN_KEY, Ledger, LedgerError, UnknownUser
from tplus_cli.venue.markets import DEFAULT_FUNDING, MarketConfig, fmt_inventory, fmt_units

E18 = 10**18
# price decimals 2, quantity decimals 3; taker 500 ppm, maker 200 ppm; 10x
MKT = MarketConfig("200", "TST", "Test", 2, 3, 1, 1, 500, 200, 10, 500_00)
MARKETS = {"200": MKT}


def mark(asset: str) -> tuple[int, int]:
    return (1, 0) if asset == "0" else (510_00, 2)


def ledger_with(*users: str) -> Ledger:
    ledger = Ledger(MARKETS)
    for user in users:
        ledger.ensure_user(user, {1: {"0": 10_000 * E18, "200": 5 * E18}})
    return ledger


def order(user: str, is_buy: bool, price: int, qty: int, *, spot: bool = True) -> Order:
    return Order(user, f"{user}{price}{qty}", is_buy, price, qty, 1, is_spot=spot)


def test_funding_is_once_and_counted() -> None:
    ledger = Ledger(MARKETS)
    assert ledger.ensure_user("u", DEFAULT_FUNDING.grants) is True
    assert ledger.ensure_user("u", DEFAULT_FUNDING.grants) is False
    assert ledger.minted["0"] == 200_000 * E18
    assert ledger.total("0") == ledger.minted["0"]
    with pytest.raises(UnknownUser):
        ledger.subs("nobody")


@pytest.mark.parametrize(
    ("source", "target", "asset", "amount", "code"),
    [
        (1, 1, "0", 1, "INVALID_TRANSFER"),
        (1, 300, "0", 1, "INVALID_TRANSFER"),
        (1, 2, "0", 0, "INVALID_TRANSFER"),
        (1, 2, "77", 1, "ASSET_NOT_FOUND"),
        (1, 2, "0", 10_001 * E18, "INSUFFICIENT_BALANCE"),
        (4, 2, "0", 1, "INSUFFICIENT_BALANCE"),
    ],
)
def test_transfer_refusals(source: int, target: int, asset: str, amount: int, code: str) -> None:
    ledger = ledger_with("u")
    with pytest.raises(LedgerError) as info:
        ledger.transfer("u", source, target, asset, amount)
    assert info.value.code == code


def test_transfer_respects_holds() -> None:
    ledger = ledger_with("u")
    sell = order("u", False, 500_00, 4_000)  # 4 units of 5 held
    sell.book_seq = 1
    ledger.refresh_hold(MKT, sell)
    with pytest.raises(LedgerError):
        ledger.transfer("u", 1, 0, "200", 2 * E18)
    ledger.transfer("u", 1, 0, "200", E18)
    assert ledger.sub("u", 0).spot["200"] == E18


@pytest.mark.parametrize(
    ("is_buy", "spot", "asset", "amount"),
    [
        (True, True, "0", (1_000 * E18) * 1_000_200 // 1_000_000),  # 2 @ 500.00 + maker fee
        (False, True, "200", 2 * E18),
        (True, False, MARGIN_KEY, 100 * E18 + 200 * E18 // 1_000),  # notional/10 + fee
    ],
)
def test_hold_for_resting_orders(is_buy: bool, spot: bool, asset: str, amount: int) -> None:
    ledger = ledger_with("u")
    resting = order("u", is_buy, 500_00, 2_000, spot=spot)
    assert ledger.hold_for(MKT, resting) is None  # not on the book yet
    resting.book_seq = 7
    hold = ledger.hold_for(MKT, resting)
    assert hold is not None and (hold.asset, hold.amount) == (asset, amount)
    ledger.refresh_hold(MKT, resting)
    assert ledger.sub("u", 1).held[asset] == amount
    resting.book_seq = 0
    ledger.refresh_hold(MKT, resting)
    assert ledger.sub("u", 1).held == {}


def test_settle_spot_fill_conserves_every_asset() -> None:
    ledger = ledger_with("m", "t")
    maker = order("m", False, 500_00, 3_000)
    taker = order("t", True, 510_00, 3_000)
    maker_fee, taker_fee = ledger.settle(MKT, maker, taker, 500_00, 1_500)
    assert (maker_fee, taker_fee) == (750 * E18 * 200 // 1_000_000, 750 * E18 * 500 // 1_000_000)
    assert ledger.sub("t", 1).spot["0"] == 10_000 * E18 - 750 * E18 - taker_fee
    assert ledger.sub("m", 1).spot["0"] == 10_000 * E18 + 750 * E18 - maker_fee
    assert ledger.sub("t", 1).spot["200"] == 5 * E18 + 15 * E18 // 10
    assert maker.fees == maker_fee and taker.fees == taker_fee
    for asset in ("0", "200"):
        assert ledger.total(asset) == ledger.minted[asset]


def test_settle_margin_fill_builds_a_position() -> None:
    ledger = ledger_with("m", "t")
    maker = order("m", False, 500_00, 2_000)
    taker = order("t", True, 500_00, 2_000, spot=False)
    ledger.settle(MKT, maker, taker, 500_00, 2_000)
    position = ledger.sub("t", 1).positions["200"]
    fee = 1_000 * E18 * 500 // 1_000_000
    assert (position.base, position.quote) == (2 * E18, -1_000 * E18 - fee)
    # equity: 10000 USDC + 5 units at 510 + position (-1000.5 + 2 * 510)
    assert ledger.equity("t", 1, mark) == 10_000 * E18 + 5 * 510 * E18 + 20 * E18 - fee
    assert ledger.utilized_margin("t", 1, mark) == 102 * E18
    assert ledger.maintenance_margin("t", 1, mark) == 51 * E18
    assert ledger.total("0") == ledger.minted["0"] and ledger.total("200") == ledger.minted["200"]


def test_admit_spot_and_margin() -> None:
    ledger = ledger_with("u")
    buy = order("u", True, 500_00, 20_000)  # 10000 USDC + fee: too much
    assert ledger.admit(MKT, buy, [], 20_000, mark) == "INSUFFICIENT_MARGIN_BALANCE"
    assert ledger.admit(MKT, order("u", True, 500_00, 19_000), [], 19_000, mark) is None
    assert ledger.admit(MKT, order("u", False, 500_00, 6_000), [], 6_000, mark) is not None
    big = order("u", True, 500_00, 500_000, spot=False)  # 250k notional / 10 = 25k margin
    assert ledger.admit(MKT, big, [], 500_000, mark) == "INSUFFICIENT_MARGIN"
    fits = order("u", True, 500_00, 200_000, spot=False)  # 10k margin of 12.55k equity
    assert ledger.admit(MKT, fits, [], 200_000, mark) is None


def test_close_position_needs_a_flat_position() -> None:
    ledger = ledger_with("u", "m")
    with pytest.raises(LedgerError) as info:
        ledger.close_position("u", 1, "200")
    assert info.value.code == "POSITION_NOT_FOUND"
    buy = order("u", True, 500_00, 1_000, spot=False)
    sell = order("u", False, 520_00, 1_000, spot=False)
    ledger.settle(MKT, order("m", False, 500_00, 1_000), buy, 500_00, 1_000)
    with pytest.raises(LedgerError) as info:
        ledger.close_position("u", 1, "200")
    assert info.value.code == "POSITION_NOT_FLAT"
    ledger.settle(MKT, order("m", True, 520_00, 1_000), sell, 520_00, 1_000)
    settled = ledger.close_position("u", 1, "200")
    assert settled == 20 * E18 - (500 + 520) * E18 * 500 // 1_000_000
    assert "200" not in ledger.sub("u", 1).positions
    assert ledger.total("0") == ledger.minted["0"]


def test_snapshot_round_trip() -> None:
    ledger = ledger_with("u", "m")
    ledger.settle(
        MKT,
        order("m", False, 500_00, 1_000),
        order("u", True, 500_00, 1_000, spot=False),
        500_00,
        1_000,
    )
    again = Ledger.from_json(MARKETS, ledger.to_json())
    assert again.to_json() == ledger.to_json()


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [(0, 3, "0.000"), (5, 3, "0.005"), (-1234, 2, "-12.34"), (7, 0, "7"), (123456, 1, "12345.6")],
)
def test_fmt_units(value: int, decimals: int, text: str) -> None:
    assert fmt_units(value, decimals) == text


def test_fmt_inventory_truncates() -> None:
    assert fmt_inventory(1_234_567_890_123_456_789) == "1.234567"
    assert fmt_inventory(-1_234_567_890_123_456_789) == "-1.234567"


def test_reducing_a_margin_position_needs_no_new_margin() -> None:
    ledger = ledger_with("u", "m")
    ledger.sub("u", 1).spot = {"0": 1_000 * E18}  # small collateral: 10x → 10k notional
    long = order("u", True, 500_00, 18_000, spot=False)  # 9000 notional → 900 margin
    assert ledger.admit(MKT, long, [], 18_000, mark) is None
    ledger.settle(MKT, order("m", False, 500_00, 18_000), long, 500_00, 18_000)
    # equity 1000 + 18 * 510 - 9004.5 = 1175.5; utilized 918 → 257.5 available
    more = order("u", True, 500_00, 8_000, spot=False)  # 400 margin
    assert ledger.admit(MKT, more, [], 8_000, mark) == "INSUFFICIENT_MARGIN"
    close = order("u", False, 500_00, 18_000, spot=False)
    assert ledger.admit(MKT, close, [], 18_000, mark) is None
    flip = order("u", False, 500_00, 60_000, spot=False)  # closes 18, opens 42 short: too much
    assert ledger.admit(MKT, flip, [], 60_000, mark) == "INSUFFICIENT_MARGIN"
