"""Units: exact Decimal ↔ integer conversion, strict parsing, precision errors naming the step."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tplus_cli.client import units as u

decimals = st.integers(min_value=0, max_value=18)
book_ints = st.integers(min_value=1, max_value=u.BOOK_UNITS_MAX)


def test_spec_example() -> None:
    """Spec §9.2: pd=2, qd=3, buying 1.5 at 500.00 → quantity 1500, limit_price 50000."""
    assert u.to_book_units("1.5", 3, what="quantity") == 1500
    assert u.to_book_units(Decimal("500.00"), 2, what="price") == 50000
    assert u.to_book_units(7, 0, what="quantity") == 7
    assert u.from_book_units(1500, 3) == Decimal("1.5")
    assert str(u.from_book_units(1500, 3)) == "1.500"


@pytest.mark.parametrize(("places", "text"), [(0, "1"), (1, "0.1"), (3, "0.001"), (8, "1E-8")])
def test_step(places: int, text: str) -> None:
    """The step is one unit at the given places."""
    assert u.step(places) == Decimal(text)


def test_precision_error_names_step() -> None:
    """Excess precision is refused and the message names the allowed step."""
    with pytest.raises(u.PrecisionError) as info:
        u.to_book_units("1.2345", 3, what="quantity")
    assert "0.001" in str(info.value) and "quantity" in str(info.value)
    assert info.value.step == Decimal("0.001")
    with pytest.raises(u.PrecisionError, match="step 1"):
        u.to_book_units("2.5", 0, what="quantity")


@pytest.mark.parametrize(
    "bad",
    [
        1.5,
        0.0,
        True,
        False,
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "1_000",
        "",
        "  ",
        "1,5",
        "0x10",
        "1e99999",
        "١٢",
        "½",
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        None,
        [1],
    ],
)
def test_refused_inputs(bad: Any) -> None:
    """Floats, bools, non-finite values, junk and non-ASCII digits are refused with UnitsError."""
    with pytest.raises(u.UnitsError):
        u.to_book_units(bad, 3, what="price")


@pytest.mark.parametrize("bad", ["0", "-1", "-0.001", 0, Decimal("-0")])
def test_positive_by_default(bad: Any) -> None:
    """Book and inventory conversions demand > 0 unless the caller allows other signs."""
    with pytest.raises(u.UnitsError, match="greater than zero"):
        u.to_book_units(bad, 3, what="quantity")
    with pytest.raises(u.UnitsError, match="greater than zero"):
        u.to_inventory_units(bad, what="amount")


def test_negative_and_zero_when_allowed() -> None:
    """positive=False allows zero and negatives (e.g. PnL, balance deltas)."""
    assert u.to_book_units("-1.25", 2, what="pnl", positive=False) == -125
    assert u.to_book_units("0", 2, what="pnl", positive=False) == 0
    assert u.to_inventory_units("-0.5", what="delta", positive=False) == -(5 * 10**17)


def test_parse_decimal() -> None:
    """Strict parsing keeps the exact value; signs are unrestricted unless positive=True."""
    assert u.parse_decimal(" 1.50 ", what="x") == Decimal("1.50")
    assert u.parse_decimal("-2e3", what="x") == Decimal("-2000")
    assert u.parse_decimal(".5", what="x") == Decimal("0.5")
    assert u.parse_decimal(0, what="x") == 0
    with pytest.raises(u.UnitsError, match="greater than zero"):
        u.parse_decimal("0", what="x", positive=True)


def test_rounding_modes() -> None:
    """An explicit rounding replaces the precision error (for computed values like caps)."""
    assert u.to_book_units("1.2345", 3, what="q", rounding=ROUND_DOWN) == 1234
    assert u.to_book_units("1.2345", 3, what="q", rounding=ROUND_UP) == 1235
    neg = {"what": "q", "positive": False}
    assert u.to_book_units("-1.2345", 3, rounding=ROUND_FLOOR, **neg) == -1235  # type: ignore[arg-type]
    assert u.to_book_units("-1.2345", 3, rounding=ROUND_CEILING, **neg) == -1234  # type: ignore[arg-type]
    assert u.to_book_units("0.00001", 3, what="q", rounding=ROUND_UP) == 1
    with pytest.raises(u.UnitsError, match="rounds to zero"):
        u.to_book_units("0.0001", 3, what="q", rounding=ROUND_DOWN)
    with pytest.raises(u.UnitsError, match="rounding"):
        u.to_book_units("1", 3, what="q", rounding="ROUND_HALF_UP")


def test_range_limits() -> None:
    """Book units fit u64, inventory units U256; tiny exponents do not blow up."""
    assert u.to_book_units(str(u.BOOK_UNITS_MAX), 0, what="q") == u.BOOK_UNITS_MAX
    with pytest.raises(u.UnitsError, match="too large"):
        u.to_book_units(str(u.BOOK_UNITS_MAX + 1), 0, what="q")
    with pytest.raises(u.PrecisionError):
        u.to_book_units("1e-9999", 3, what="q")
    with pytest.raises(u.UnitsError):
        u.to_book_units("1", 31, what="q")
    with pytest.raises(u.UnitsError):
        u.to_book_units("1", True, what="q")  # type: ignore[arg-type]


def test_no_context_rounding_beyond_28_digits() -> None:
    """Values longer than Decimal's default 28-digit context survive exactly."""
    big = "123456789012345678901234567890.123456789012345678"
    units = u.to_inventory_units(big, what="amount")
    assert units == 123456789012345678901234567890123456789012345678
    assert str(u.from_inventory_units(units)) == big


def test_inventory_strings() -> None:
    """Inventory amounts arrive as decimal strings or 0x-hex U256 strings."""
    assert u.from_inventory_units("1000000000000000000") == Decimal(1)
    assert u.from_inventory_units("0x0de0b6b3a7640000") == Decimal(1)
    assert u.parse_inventory_integer("-5") == -5
    for bad in ("1.5", "0x", "abc", "", "0x" + "f" * 65):
        with pytest.raises(u.UnitsError):
            u.parse_inventory_integer(bad)


@given(book_ints, decimals)
def test_int_round_trip(units: int, places: int) -> None:
    """int → Decimal → int is the identity."""
    assert u.to_book_units(u.from_book_units(units, places), places, what="x") == units


@given(
    st.decimals(
        allow_nan=False,
        allow_infinity=False,
        places=6,
        min_value=Decimal("0.000001"),
        max_value=Decimal(10**12),
    )
)
def test_decimal_round_trip(value: Decimal) -> None:
    """Decimal → int → Decimal is the identity when the value fits the step, also via its string."""
    units = u.to_book_units(value, 6, what="x")
    assert u.from_book_units(units, 6) == value
    assert u.to_book_units(str(value), 6, what="x") == units


@given(book_ints, st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=9))
def test_excess_precision_always_refused(units: int, places: int, extra_digit: int) -> None:
    """Appending one more nonzero digit past the step raises PrecisionError naming that step."""
    text = f"{u.from_book_units(units, places):f}{'' if places else '.'}{extra_digit}"
    with pytest.raises(u.PrecisionError) as info:
        u.to_book_units(text, places, what="x")
    assert info.value.step == u.step(places)
    assert u.to_book_units(text, places, what="x", rounding=ROUND_DOWN) == units
