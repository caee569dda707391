"""Exact Decimal ↔ integer conversion for book units and 18-decimal inventory units (spec §9.2).

Money is never a float: floats and bools are refused, strings are parsed strictly, and the
scaling is pure integer arithmetic (no Decimal context, so no silent rounding at 28 digits).
Excess precision is an error naming the allowed step unless the caller picks a rounding.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_UP, Decimal

INVENTORY_DECIMALS = 18
MAX_DECIMALS = 30
BOOK_UNITS_MAX = 2**64 - 1  # book integers are u64 on the server
INVENTORY_UNITS_MAX = 2**256 - 1  # inventory amounts are U256
ROUNDINGS = (ROUND_DOWN, ROUND_UP, ROUND_FLOOR, ROUND_CEILING)

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)


class UnitsError(ValueError):
    """A value that is not an exact, finite, in-range decimal number."""


class PrecisionError(UnitsError):
    """A value finer than the allowed step; `step` is the smallest allowed increment."""

    def __init__(self, message: str, step: Decimal) -> None:
        super().__init__(message)
        self.step = step


def step(decimals: int) -> Decimal:
    """The smallest increment at `decimals` places: 3 → Decimal("0.001"), 0 → Decimal("1")."""
    return Decimal((0, (1,), -_decimals(decimals)))


def _decimals(decimals: int) -> int:
    """A decimal-places count: an int in 0..MAX_DECIMALS."""
    if type(decimals) is not int or not 0 <= decimals <= MAX_DECIMALS:
        raise UnitsError(f"decimals must be an integer in 0..{MAX_DECIMALS}, got {decimals!r}")
    return decimals


def parse_decimal(value: str | int | Decimal, *, what: str, positive: bool = False) -> Decimal:
    """Parse user or wire input exactly; refuses floats, bools, NaN, infinities and junk text.

    With `positive=True` the value must also be > 0.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise UnitsError(f"{what}: {type(value).__name__} is not accepted, give a decimal string")
    if isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise UnitsError(f"{what}: must be a finite number")
        result = value
    elif isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text) is None:
            raise UnitsError(f"{what}: {value!r} is not a decimal number")
        result = Decimal(text)
    else:
        raise UnitsError(f"{what}: expected a decimal string, got {type(value).__name__}")
    if positive and result <= 0:
        raise UnitsError(f"{what}: must be greater than zero")
    return result


def _pow10(n: int) -> int:
    """10**n for n >= 0, typed as int (mypy types `int ** int` as Any)."""
    result: int = 10**n
    return result


def _scale(value: Decimal, decimals: int, *, what: str, rounding: str | None) -> int:
    """value × 10^decimals as an exact int, or rounded as asked, by integer arithmetic only."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite: parse_decimal refused NaN and infinities
    coefficient = int("".join(map(str, digits)) or "0")
    shift = exponent + decimals
    if coefficient == 0:
        return 0
    if shift >= 0:
        if shift > 80:  # far beyond any U256: refuse before building a huge power of ten
            raise UnitsError(f"{what}: {value} is too large")
        magnitude = coefficient * _pow10(shift)
    elif -shift > len(digits):  # nonzero and smaller than one unit: cannot divide evenly
        magnitude = _rounded(0, 1, sign, value, decimals, what=what, rounding=rounding)
    else:
        quotient, remainder = divmod(coefficient, _pow10(-shift))
        magnitude = _rounded(
            quotient, remainder, sign, value, decimals, what=what, rounding=rounding
        )
    return -magnitude if sign else magnitude


def _rounded(
    quotient: int,
    remainder: int,
    sign: int,
    value: Decimal,
    decimals: int,
    *,
    what: str,
    rounding: str | None,
) -> int:
    """Apply `rounding` to a magnitude with a nonzero-or-zero remainder."""
    if remainder == 0:
        return quotient
    if rounding is None:
        allowed = step(decimals)
        raise PrecisionError(
            f"{what}: {value} has more decimal places than allowed (step {allowed:f})", allowed
        )
    away = (
        rounding == ROUND_UP
        or (rounding == ROUND_CEILING and not sign)
        or (rounding == ROUND_FLOOR and sign)
    )
    return quotient + 1 if away else quotient


def _to_units(
    value: str | int | Decimal,
    decimals: int,
    *,
    what: str,
    positive: bool,
    rounding: str | None,
    maximum: int,
) -> int:
    """Shared body of the book and inventory conversions."""
    if rounding is not None and rounding not in ROUNDINGS:
        raise UnitsError(f"rounding must be one of {', '.join(ROUNDINGS)}")
    number = parse_decimal(value, what=what, positive=positive)
    units = _scale(number, _decimals(decimals), what=what, rounding=rounding)
    if positive and units <= 0:
        raise UnitsError(f"{what}: {number} rounds to zero (step {step(decimals):f})")
    if abs(units) > maximum:
        raise UnitsError(f"{what}: {number} is too large")
    return units


def to_book_units(
    value: str | int | Decimal,
    decimals: int,
    *,
    what: str,
    positive: bool = True,
    rounding: str | None = None,
) -> int:
    """Human units → book integer (value × 10^decimals), exact unless a `rounding` is given.

    By default the value must be > 0 (prices and quantities); pass `positive=False` to allow
    zero and negative values. Excess precision raises PrecisionError naming the step.
    """
    return _to_units(
        value, decimals, what=what, positive=positive, rounding=rounding, maximum=BOOK_UNITS_MAX
    )


def from_book_units(value: int, decimals: int) -> Decimal:
    """Book integer → exact human Decimal at the market's scale (1500, 3 → Decimal("1.500"))."""
    if type(value) is not int:
        raise UnitsError(f"book units must be an integer, got {type(value).__name__}")
    sign, digits, _ = Decimal(value).as_tuple()
    return Decimal((sign, digits, -_decimals(decimals)))


def to_inventory_units(
    value: str | int | Decimal, *, what: str, positive: bool = True, rounding: str | None = None
) -> int:
    """Human amount → 18-decimal inventory integer (transfers, withdrawals, balances)."""
    return _to_units(
        value,
        INVENTORY_DECIMALS,
        what=what,
        positive=positive,
        rounding=rounding,
        maximum=INVENTORY_UNITS_MAX,
    )


def from_inventory_units(value: int | str) -> Decimal:
    """18-decimal inventory integer (or its decimal / 0x-hex string form) → exact human Decimal."""
    if isinstance(value, str):
        value = parse_inventory_integer(value)
    return from_book_units(value, INVENTORY_DECIMALS)


def parse_inventory_integer(text: str) -> int:
    """An inventory amount string as servers send it: decimal, or `0x`-hex U256 (spec §11.14)."""
    body = text.strip()
    negative = body.startswith("-")
    digits = body[1:] if negative else body
    if digits[:2] in ("0x", "0X") and re.fullmatch(r"[0-9a-fA-F]{1,64}", digits[2:]):
        number = int(digits[2:], 16)
    elif re.fullmatch(r"[0-9]{1,80}", digits):
        number = int(digits)
    else:
        raise UnitsError(f"inventory amount {text!r}: expected a decimal or 0x-hex integer")
    return -number if negative else number
