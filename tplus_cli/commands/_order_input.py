"""Pure checks of order-entry input: amounts, --until, and which order the flags describe.

Everything here runs before any key is loaded or request built, so a bad command line fails
fast with a usage error (exit 2) that names the flag. Only stdlib and tplus_cli.errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from tplus_cli.errors import UsageError

Side = Literal["buy", "sell"]
Tif = Literal["gtc", "gtd", "ioc", "fok"]

_NS = 1_000_000_000
_UNIT_NS = {"s": _NS, "m": 60 * _NS, "h": 3600 * _NS, "d": 86400 * _NS, "w": 7 * 86400 * _NS}
_DURATION = re.compile(r"(\d+)([smhdw])")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_amount(text: str, *, what: str, allow_zero: bool = False) -> Decimal:
    """A positive decimal in human units, exactly as typed ("0.01", "65000.5"); never a float."""
    raw = text.strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise UsageError(f"{what}: not a number: {text!r}") from None
    if not value.is_finite() or "e" in raw.lower():
        raise UsageError(f"{what}: not a plain decimal number: {text!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise UsageError(f"{what} must be greater than zero, got {text}")
    return value


def parse_duration_ns(text: str) -> int | None:
    """Nanoseconds in a relative duration such as 30s, 5m, 2h, 1d or 1h30m; None if not one."""
    spec = text.strip().lower()
    if not spec or _DURATION.sub("", spec):
        return None
    return sum(int(n) * _UNIT_NS[unit] for n, unit in _DURATION.findall(spec))


def datetime_ns(moment: datetime) -> int:
    """Exact Unix nanoseconds of an aware datetime (integer arithmetic, no float seconds)."""
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * _NS + delta.microseconds * 1000


def parse_until(text: str, now_ns: int) -> int:
    """The GTD expiry in Unix ns from ISO-8601 (UTC unless an offset is given) or 30s/5m/2h/1d."""
    duration = parse_duration_ns(text)
    if duration is not None:
        expiry = now_ns + duration
    else:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise UsageError(
                f"--until: expected ISO-8601 (2026-12-31T12:00Z) or a duration (30s, 5m, 2h, 1d),"
                f" got {text!r}"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        expiry = datetime_ns(moment)
    if expiry <= now_ns:
        raise UsageError(f"--until must be in the future, got {text!r}")
    return expiry


@dataclass(frozen=True)
class OrderPlan:
    """A validated place request: which client call to make and with what terms."""

    kind: Literal["limit", "market"]
    side: Side
    quantity: Decimal
    price: Decimal | None
    tif: Tif
    until_ns: int | None
    post_only: bool
    reduce_only: bool
    quote: bool
    max_slippage: Decimal | None
    trigger_above: Decimal | None
    trigger_below: Decimal | None

    def describe(self, symbol: str) -> str:
        """One human line, used in confirmations: `buy 0.01 BTC @ 65000 (limit gtc)`."""
        amount = (
            f"{symbol} worth {self.quantity} quote" if self.quote else f"{self.quantity} {symbol}"
        )
        at = f" @ {self.price}" if self.price is not None else " at market"
        trig = ""
        if self.trigger_above is not None:
            trig = f", stop above {self.trigger_above}"
        elif self.trigger_below is not None:
            trig = f", stop below {self.trigger_below}"
        flags = "".join(
            f", {name}"
            for name, on in (("post-only", self.post_only), ("reduce-only", self.reduce_only))
            if on
        )
        return f"{self.side} {amount}{at} ({self.kind} {self.tif}{trig}{flags})"


def plan_order(
    *,
    side: str,
    quantity: str,
    price: str | None,
    market: bool,
    tif: str | None,
    until: str | None,
    post_only: bool,
    reduce_only: bool,
    quote: bool,
    max_slippage: str | None,
    stop_above: str | None,
    stop_below: str | None,
    now_ns: int,
) -> OrderPlan:
    """Check the place flags together and settle the order type and time in force."""
    side_l = _side(side)
    if (price is None) == (not market):
        raise UsageError("give exactly one of --price P (limit) or --market")
    if stop_above is not None and stop_below is not None:
        raise UsageError("give at most one of --stop-above and --stop-below")
    qty = parse_amount(quantity, what="quantity")
    trig_above = None if stop_above is None else parse_amount(stop_above, what="--stop-above")
    trig_below = None if stop_below is None else parse_amount(stop_below, what="--stop-below")
    tif_l = None if tif is None else _tif(tif)
    if price is None:
        return _plan_market(
            side_l,
            qty,
            tif_l,
            until,
            post_only,
            reduce_only,
            quote,
            max_slippage,
            trig_above,
            trig_below,
        )
    if quote:
        raise UsageError("--quote applies to --market orders only")
    if max_slippage is not None:
        raise UsageError("--max-slippage applies to --market orders only")
    limit = parse_amount(price, what="--price")
    until_ns = None if until is None else parse_until(until, now_ns)
    if until_ns is not None and tif_l not in (None, "gtd"):
        raise UsageError(f"--until implies --tif gtd; it cannot be combined with --tif {tif_l}")
    resolved: Tif = "gtd" if until_ns is not None else (tif_l or "gtc")
    if resolved == "gtd" and until_ns is None:
        raise UsageError("--tif gtd needs --until TIME (ISO-8601 or 30s/5m/2h/1d)")
    if post_only and resolved in ("ioc", "fok"):
        raise UsageError(f"--post-only cannot be combined with --tif {resolved}")
    return OrderPlan(
        "limit",
        side_l,
        qty,
        limit,
        resolved,
        until_ns,
        post_only,
        reduce_only,
        False,
        None,
        trig_above,
        trig_below,
    )


def _side(text: str) -> Side:
    lowered = text.strip().lower()
    if lowered == "buy":
        return "buy"
    if lowered == "sell":
        return "sell"
    raise UsageError(f"side must be buy or sell, got {text!r}")


def _tif(text: str) -> Tif:
    lowered = text.strip().lower()
    for tif in ("gtc", "gtd", "ioc", "fok"):
        if lowered == tif:
            return tif
    raise UsageError(f"--tif must be gtc, gtd, ioc or fok, got {text!r}")


def _plan_market(
    side: Side,
    qty: Decimal,
    tif: Tif | None,
    until: str | None,
    post_only: bool,
    reduce_only: bool,
    quote: bool,
    max_slippage: str | None,
    trig_above: Decimal | None,
    trig_below: Decimal | None,
) -> OrderPlan:
    if tif not in (None, "ioc", "fok"):
        raise UsageError(f"market orders are ioc or fok; --tif {tif} needs --price")
    if until is not None:
        raise UsageError("--until needs a limit order (--price P)")
    if post_only:
        raise UsageError("--post-only needs a limit order (--price P)")
    if reduce_only:
        raise UsageError("--reduce-only needs a limit order (--price P)")
    slip = None if max_slippage is None else parse_amount(max_slippage, what="--max-slippage")
    return OrderPlan(
        "market",
        side,
        qty,
        None,
        "fok" if tif == "fok" else "ioc",
        None,
        False,
        False,
        quote,
        slip,
        trig_above,
        trig_below,
    )
