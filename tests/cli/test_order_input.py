"""Order-entry input checks: amounts, --until and the place flag combinations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tplus_cli.commands._order_input import (
    datetime_ns,
    parse_amount,
    parse_duration_ns,
    parse_until,
    plan_order,
)
from tplus_cli.errors import ExitCode, UsageError

NOW = 1_765_000_000_123_456_789
S = 1_000_000_000


def plan(**kw: object):  # type: ignore[no-untyped-def]
    """plan_order with a plain limit buy as the baseline."""
    args: dict[str, object] = {
        "side": "buy",
        "quantity": "0.01",
        "price": "65000",
        "market": False,
        "tif": None,
        "until": None,
        "post_only": False,
        "reduce_only": False,
        "quote": False,
        "max_slippage": None,
        "stop_above": None,
        "stop_below": None,
        "now_ns": NOW,
    }
    args.update(kw)
    return plan_order(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["0.01", "65000.5", "1", "0.000000000000000001", " 2.50 "])
def test_parse_amount_keeps_the_exact_decimal(text: str) -> None:
    """Amounts come back as the exact Decimal typed, trailing zeros and all."""
    assert parse_amount(text, what="quantity") == Decimal(text.strip())
    assert format(parse_amount(text, what="quantity"), "f") == text.strip()


@pytest.mark.parametrize("text", ["-1", "0", "abc", "nan", "inf", "1e3", "", "0x10"])
def test_parse_amount_refuses_non_positive_and_junk(text: str) -> None:
    """Negative, zero, non-numbers, NaN/inf and exponent forms are usage errors."""
    with pytest.raises(UsageError) as info:
        parse_amount(text, what="quantity")
    assert info.value.exit_code == ExitCode.USAGE
    assert "quantity" in info.value.message


@given(st.decimals(min_value=Decimal("1e-18"), max_value=Decimal("1e12"), places=18))
def test_parse_amount_round_trips_any_positive_decimal(value: Decimal) -> None:
    """Every positive fixed-point decimal survives text → Decimal unchanged."""
    text = format(value, "f")
    assert parse_amount(text, what="x") == value


@pytest.mark.parametrize(
    ("text", "ns"),
    [("30s", 30 * S), ("5m", 300 * S), ("2h", 7200 * S), ("1d", 86400 * S), ("1h30m", 5400 * S)],
)
def test_durations(text: str, ns: int) -> None:
    """Relative durations add up their parts in exact nanoseconds."""
    assert parse_duration_ns(text) == ns
    assert parse_until(text, NOW) == NOW + ns


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "5m junk", "-5m"])
def test_non_durations(text: str) -> None:
    """Anything that is not number+unit groups is not a duration."""
    assert parse_duration_ns(text) is None


def test_until_iso_with_offset_and_naive_utc() -> None:
    """ISO-8601 times are exact to the microsecond; naive ones are read as UTC."""
    future = datetime.fromtimestamp(NOW // S, UTC) + timedelta(days=1, microseconds=250)
    assert parse_until(future.isoformat(), NOW) == datetime_ns(future)
    naive = future.replace(tzinfo=None).isoformat()
    assert parse_until(naive, NOW) == datetime_ns(future)
    plus2 = future.astimezone(__import__("datetime").timezone(timedelta(hours=2)))
    assert parse_until(plus2.isoformat(), NOW) == datetime_ns(future)
    assert parse_until("2100-01-01T00:00:00Z", NOW) == 4102444800 * S


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))
def test_datetime_ns_is_exact(moment: datetime) -> None:
    """datetime_ns equals the integer microsecond count times 1000 (no float seconds)."""
    aware = moment.replace(tzinfo=UTC)
    micros = (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert datetime_ns(aware) == micros * 1000


@pytest.mark.parametrize("text", ["yesterday", "2020-01-01T00:00:00Z", "0s"])
def test_until_refuses_junk_and_the_past(text: str) -> None:
    """Unparseable or non-future expiries are usage errors."""
    with pytest.raises(UsageError):
        parse_until(text, NOW)


def test_limit_defaults_to_gtc() -> None:
    """--price alone is a limit GTC order."""
    p = plan()
    assert (p.kind, p.tif, p.price, p.quantity) == (
        "limit",
        "gtc",
        Decimal("65000"),
        Decimal("0.01"),
    )
    assert p.describe("BTC") == "buy 0.01 BTC @ 65000 (limit gtc)"


def test_until_implies_gtd() -> None:
    """--until turns the order into GTD with the parsed expiry."""
    p = plan(until="5m")
    assert (p.tif, p.until_ns) == ("gtd", NOW + 300 * S)
    assert plan(until="5m", tif="GTD").tif == "gtd"


def test_market_order_flags() -> None:
    """--market gives an IOC market order; --tif fok makes it fill-or-kill; --quote is kept."""
    p = plan(price=None, market=True, quote=True, max_slippage="25.5")
    assert (p.kind, p.tif, p.quote, p.max_slippage) == ("market", "ioc", True, Decimal("25.5"))
    assert plan(price=None, market=True, tif="fok").tif == "fok"
    assert p.describe("BTC") == "buy BTC worth 0.01 quote at market (market ioc)"
    stop = plan(side="sell", stop_below="60000", post_only=True)
    assert stop.describe("ETH") == "sell 0.01 ETH @ 65000 (limit gtc, stop below 60000, post-only)"
    assert plan(side="SELL", stop_below="60000").trigger_below == Decimal("60000")


@pytest.mark.parametrize(
    ("kw", "needle"),
    [
        ({"price": None}, "exactly one of --price"),
        ({"market": True}, "exactly one of --price"),
        ({"side": "ask"}, "buy or sell"),
        ({"quantity": "-0.01"}, "greater than zero"),
        ({"price": "0"}, "greater than zero"),
        ({"tif": "day"}, "--tif must be"),
        ({"tif": "gtd"}, "needs --until"),
        ({"tif": "ioc", "until": "5m"}, "implies --tif gtd"),
        ({"tif": "fok", "post_only": True}, "--post-only cannot"),
        ({"quote": True}, "--quote applies"),
        ({"max_slippage": "1"}, "--max-slippage applies"),
        ({"stop_above": "1", "stop_below": "2"}, "at most one"),
        ({"price": None, "market": True, "tif": "gtc"}, "market orders are ioc or fok"),
        ({"price": None, "market": True, "post_only": True}, "--post-only needs"),
        ({"price": None, "market": True, "until": "5m"}, "--until needs"),
    ],
)
def test_bad_flag_combinations_are_usage_errors(kw: dict[str, object], needle: str) -> None:
    """Each contradictory or incomplete flag set is refused with a message naming the flag."""
    with pytest.raises(UsageError) as info:
        plan(**kw)
    assert needle in info.value.message
