"""Exact JSON value parsing shared by the wire models: Decimals, ints and U256s, never floats."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

INVENTORY_SCALE = Decimal(10) ** 18


class WireError(ValueError):
    """A response did not have the shape the spec promises."""


def dec(value: Any, what: str = "value") -> Decimal:
    """A Decimal from a JSON string/int/Decimal; floats and bools are refused (money is exact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise WireError(f"{what}: refusing {type(value).__name__} {value!r}")
    if isinstance(value, Decimal | int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise WireError(f"{what}: not a decimal: {value!r}") from None
        if result.is_finite():
            return result
    raise WireError(f"{what}: not a decimal: {value!r}")


def opt_dec(value: Any, what: str = "value") -> Decimal | None:
    """Like dec() but None stays None."""
    return None if value is None else dec(value, what)


def integer(value: Any, what: str = "value") -> int:
    """An int from a JSON int, integral Decimal, decimal string or `0x`-hex (U256) string."""
    if isinstance(value, bool):
        raise WireError(f"{what}: refusing bool")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lower().startswith("0x"):
        try:
            return int(value.strip(), 16)
        except ValueError:
            raise WireError(f"{what}: bad hex {value!r}") from None
    number = dec(value, what)
    if number != number.to_integral_value():
        raise WireError(f"{what}: not an integer: {value!r}")
    return int(number)


def opt_int(value: Any, what: str = "value") -> int | None:
    """Like integer() but None stays None."""
    return None if value is None else integer(value, what)


def scaled(raw: int | None, decimals: int) -> Decimal | None:
    """Book-unit int → human Decimal (exact)."""
    return None if raw is None else Decimal(raw).scaleb(-decimals)


def require(obj: Mapping[str, Any], key: str, what: str) -> Any:
    if not isinstance(obj, Mapping):
        raise WireError(f"{what}: expected an object, got {type(obj).__name__}")
    if key not in obj:
        raise WireError(f"{what}: missing {key!r}")
    return obj[key]


def items_of(payload: Any, key: str) -> list[Any]:
    """The list of a paged envelope (`{key: [...]}`) or a bare list."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, Mapping) and isinstance(payload.get(key), list):
        return list(payload[key])
    raise WireError(f"expected a list or an object with {key!r}")
