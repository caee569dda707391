"""Pure order building: human Decimal inputs + a Market → the signed-object dicts of spec §3.

Everything here runs before a request exists, so every refusal is an InvalidInput that
names the field and, for precision, the step the market allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from tplus_cli.client import signing, units
from tplus_cli.client.errors import InvalidInput
from tplus_cli.client.wire import Market

Tif = Literal["gtc", "gtd", "ioc", "fok"]
TIFS = ("gtc", "gtd", "ioc", "fok")


def human(value: object, what: str) -> Decimal:
    """Parse a human number (Decimal, int or numeric string); floats and junk are InvalidInput."""
    if isinstance(value, float):
        raise InvalidInput(f"{what}: floats are not accepted for money; pass a string or Decimal")
    try:
        return units.parse_decimal(value, what=what)  # type: ignore[arg-type]
    except (units.UnitsError, TypeError) as exc:
        raise InvalidInput(f"{what}: {exc}") from None


def positive(value: object, what: str) -> Decimal:
    """human() that must also be > 0 (quantities, prices, caps)."""
    number = human(value, what)
    if number <= 0:
        raise InvalidInput(f"{what} must be positive, got {number}")
    return number


def book_int(value: object, decimals: int, what: str, *, positive_only: bool = True) -> int:
    """Human value → exact book-unit int; excess precision is InvalidInput naming the step."""
    number = positive(value, what) if positive_only else human(value, what)
    try:
        return units.to_book_units(number, decimals, what=what)
    except units.UnitsError as exc:
        raise InvalidInput(str(exc)) from None


def price_int(market: Market, value: object, what: str = "price") -> int:
    """A price in book units, also checked against the market's tick size."""
    raw = book_int(value, market.price_decimals, what)
    tick = units.to_book_units(market.tick_size, market.price_decimals, what="tick_size")
    if tick > 1 and raw % tick:
        raise InvalidInput(f"{what} {value} is not a multiple of the tick size {market.tick_size}")
    return raw


def quantity_int(market: Market, value: object, what: str = "quantity") -> int:
    """A base quantity in book units, also checked against the market's minimum order size."""
    raw = book_int(value, market.quantity_decimals, what)
    if market.min_order_size is not None and human(value, what) < market.min_order_size:
        raise InvalidInput(
            f"{what} {value} is below the minimum order size {market.min_order_size}"
        )
    return raw


def side_of(side: str) -> str:
    """'buy'/'sell' (any case) → 'Buy'/'Sell'; anything else is InvalidInput (never a silent Buy)."""
    if not isinstance(side, str) or side.lower() not in ("buy", "sell"):
        raise InvalidInput(f"side must be 'buy' or 'sell', got {side!r}")
    return "Buy" if side.lower() == "buy" else "Sell"


def check_order_id(order_id: str) -> str:
    """Caller-chosen ids are used verbatim but must be 1..24 UTF-8 bytes (spec §3.14)."""
    if not isinstance(order_id, str) or not 0 < len(order_id.encode()) <= 24:
        raise InvalidInput(f"order id must be 1 to 24 UTF-8 bytes, got {order_id!r}")
    return order_id


def trigger(
    market: Market,
    above: object | None,
    below: object | None,
    parent_order_id: str | None,
) -> dict[str, Any] | None:
    """The create-order trigger object (or None); at most one of above/below."""
    if above is not None and below is not None:
        raise InvalidInput("give at most one of trigger_above / trigger_below")
    if above is None and below is None:
        if parent_order_id is not None:
            raise InvalidInput("parent_order_id needs a trigger (trigger_above or trigger_below)")
        return None
    if above is not None:
        condition = signing.price_above(price_int(market, above, "trigger_above"))
    else:
        condition = signing.price_below(price_int(market, below, "trigger_below"))
    return signing.trigger_object(condition, parent_order_id)


def tif_object(
    tif: str, *, until_ns: int | None, post_only: bool, now_ns: int | None
) -> Mapping[str, Any]:
    """The TIF union for a limit order; refuses contradictions (and a past expiry given `now_ns`)."""
    if tif not in TIFS:
        raise InvalidInput(f"time in force must be one of {', '.join(TIFS)}, got {tif!r}")
    if tif != "gtd" and until_ns is not None:
        raise InvalidInput("an expiry (until) only applies to gtd orders")
    if tif in ("ioc", "fok") and post_only:
        raise InvalidInput("post-only cannot be combined with ioc/fok")
    if tif == "gtc":
        return signing.tif_gtc(post_only)
    if tif == "gtd":
        if until_ns is None or isinstance(until_ns, bool) or not isinstance(until_ns, int):
            raise InvalidInput("a gtd order needs an expiry timestamp (until_ns)")
        if now_ns is not None and until_ns <= now_ns:
            raise InvalidInput("the gtd expiry is in the past")
        return signing.tif_gtd(post_only, until_ns)
    return signing.tif_ioc(fill_or_kill=tif == "fok")


def check_sub_account(sub_account: int) -> int:
    """Sub-account indexes are non-negative ints."""
    if isinstance(sub_account, bool) or not isinstance(sub_account, int) or sub_account < 0:
        raise InvalidInput(f"sub-account must be a non-negative integer, got {sub_account!r}")
    return sub_account


def check_fee_rate(rate: int) -> int:
    """`max_trading_fees_rate` is ppm: an int from 0 to 1_000_000."""
    if isinstance(rate, bool) or not isinstance(rate, int) or not 0 <= rate <= 1_000_000:
        raise InvalidInput(f"max fee rate must be an integer ppm in 0..1000000, got {rate!r}")
    return rate
