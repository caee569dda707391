"""`tplus transfer ASSET AMOUNT --from N --to M` against the embedded venue."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import Tplus
from .trading_helpers import FORMATS, has_record, ok, one_line_error, set_simulator


@pytest.fixture(autouse=True)
def _quiet_venue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embedded venue without its simulator: books and fills are only these tests'."""
    set_simulator(monkeypatch, on=False)


def _usdc(tplus: Tplus, sub: int) -> Decimal:
    rows = ok(tplus(f"balances --sub-account {sub} -o json")).json()
    return sum((Decimal(r["total"]) for r in rows if r["symbol"] == "USDC"), Decimal(0))


def test_transfer_moves_exact_amounts(tplus: Tplus) -> None:
    """A confirmed transfer moves exactly AMOUNT from one sub-account to the other."""
    a0, a1 = _usdc(tplus, 0), _usdc(tplus, 1)
    doc = ok(tplus("transfer USDC 1234.567891 --from 0 --to 1 --yes -o json")).json()
    assert (doc["symbol"], doc["amount"], doc["from_sub_account"], doc["to_sub_account"]) == (
        "USDC",
        "1234.567891",
        0,
        1,
    )
    assert _usdc(tplus, 0) == a0 - Decimal("1234.567891")
    assert _usdc(tplus, 1) == a1 + Decimal("1234.567891")


def test_transfer_asks_first(tplus: Tplus) -> None:
    """Without --yes and no TTY nothing moves and the summary is in the error (exit 2)."""
    before = _usdc(tplus, 0)
    message = one_line_error(tplus("transfer USDC 5 --from 0 --to 1"), 2)
    assert "Transfer 5 USDC from sub-account 0 to 1" in message
    assert _usdc(tplus, 0) == before


def test_transfer_table_output(tplus: Tplus) -> None:
    """The table shows the moved amount and both sub-accounts."""
    out = ok(tplus("transfer 2 0.5 --from 1 --to 0 --yes -o table")).stdout
    assert "BTC" in out and "0.5" in out and "done" in out


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ("USDC 5 --from 0 --to 0", 2),
        ("USDC -5 --from 0 --to 1", 2),
        ("USDC 0.0000000000000000001 --from 0 --to 1", 2),  # finer than 18 decimals
        ("DOGE 5 --from 0 --to 1", 2),
        ("USDC 5 --from 0", 2),
        ("USDC 999999999 --from 0 --to 1", 5),
    ],
)
def test_bad_transfers(tplus: Tplus, args: str, code: int) -> None:
    """Same account, bad amount, unknown asset, a missing flag or no funds: one error line."""
    one_line_error(tplus(f"transfer {args} --yes"), code)


@pytest.mark.parametrize("fmt", FORMATS)
def test_transfer_in_every_format(tplus: Tplus, fmt: str) -> None:
    """The transfer receipt renders in every output format."""
    out = ok(tplus(f"transfer SOL 1.5 --from 0 --to 1 --yes -o {fmt}")).stdout
    assert has_record(fmt, out, symbol="SOL", amount="1.5", status="done")
