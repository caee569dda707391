"""Bad input is refused locally with a clear InvalidInput, before any request is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from spec_fake import BASE, SEED, T0, SpecFake

from tplus_cli.client import TplusClient
from tplus_cli.client.errors import InvalidInput

pytestmark = pytest.mark.anyio

Call = Callable[[TplusClient], Awaitable[Any]]
D = Decimal

# (case id, call, words the message must contain). None of these needs the market.
COLD: list[tuple[str, Call, str]] = [
    ("float quantity", lambda c: c.place_limit("200", "buy", 1.5, D("500")), "float"),
    ("float price", lambda c: c.place_limit("200", "buy", D("1"), 500.0), "float"),
    ("negative quantity", lambda c: c.place_limit("200", "buy", D("-1"), D("500")), "positive"),
    ("zero quantity", lambda c: c.place_market("200", "sell", D("0")), "positive"),
    ("zero price", lambda c: c.place_limit("200", "buy", D("1"), "0"), "positive"),
    ("junk number", lambda c: c.place_limit("200", "buy", "1.2.3", D("500")), "quantity"),
    ("nan", lambda c: c.place_limit("200", "buy", "NaN", D("500")), "quantity"),
    ("bool quantity", lambda c: c.place_limit("200", "buy", True, D("500")), "quantity"),
    ("bad side", lambda c: c.place_limit("200", "ask", D("1"), D("500")), "side"),
    ("price on market", lambda c: c.place_market("200", "buy", D("1"), price=D("500")), "no price"),
    (
        "quote qty with quote cap",
        lambda c: c.place_market("200", "buy", D("100"), quote=True, max_sellable_amount=D("5")),
        "pairs only with a base quantity",
    ),
    (
        "base qty with base cap",
        lambda c: c.place_market("200", "sell", D("1"), max_sellable_quantity=D("1")),
        "pairs only with a quote quantity",
    ),
    ("malformed asset", lambda c: c.place_limit("BTC-PERP!", "buy", D("1"), D("5")), "asset"),
    ("raw chain id", lambda c: c.place_limit("0xab@42161", "buy", D("1"), D("5")), "asset"),
    (
        "long order id",
        lambda c: c.place_limit("200", "buy", D("1"), D("5"), order_id="x" * 25),
        "24",
    ),
    (
        "negative sub-account",
        lambda c: c.place_market("200", "buy", D("1"), sub_account=-1),
        "sub-account",
    ),
    ("fee rate", lambda c: c.place_market("200", "buy", D("1"), max_fee_rate=2_000_000), "ppm"),
    (
        "both triggers",
        lambda c: c.place_limit(
            "200", "buy", D("1"), D("5"), trigger_above=D("6"), trigger_below=D("4")
        ),
        "at most one",
    ),
    ("tif", lambda c: c.place_limit("200", "buy", D("1"), D("5"), tif="day"), "time in force"),
    (
        "gtd without expiry",
        lambda c: c.place_limit("200", "buy", D("1"), D("5"), tif="gtd"),
        "expiry",
    ),
    ("until on gtc", lambda c: c.place_limit("200", "buy", D("1"), D("5"), until_ns=T0 + 1), "gtd"),
    (
        "post-only ioc",
        lambda c: c.place_limit("200", "buy", D("1"), D("5"), tif="ioc", post_only=True),
        "post-only",
    ),
    ("float transfer", lambda c: c.transfer("0", 10.0, 0, 1), "float"),
    ("same sub-account", lambda c: c.transfer("0", D("10"), 1, 1), "same"),
]

# These need the market's decimals (served once, then cached); no write may follow.
WARM: list[tuple[str, Call, str]] = [
    (
        "excess quantity precision",
        lambda c: c.place_limit("200", "buy", D("1.0001"), D("500")),
        "0.001",
    ),
    ("excess price precision", lambda c: c.place_limit("200", "buy", D("1"), D("500.001")), "0.01"),
    ("below min size", lambda c: c.place_market("200", "buy", D("0.0001")), "0.001"),
    (
        "trigger precision",
        lambda c: c.place_limit("200", "sell", D("1"), D("5"), trigger_above=D("6.001")),
        "0.01",
    ),
    (
        "gtd in the past",
        lambda c: c.place_limit("200", "buy", D("1"), D("5"), tif="gtd", until_ns=T0 - 1),
        "past",
    ),
    ("unknown market", lambda c: c.place_limit("999", "buy", D("1"), D("5")), "unknown asset"),
    ("transfer precision", lambda c: c.transfer("0", D("1e-19"), 0, 1), "amount"),
]


@pytest.mark.parametrize(("case", "call", "words"), COLD, ids=[c[0] for c in COLD])
async def test_refused_before_anything_is_sent(case: str, call: Call, words: str) -> None:
    """The transport sees no request at all."""
    fake = SpecFake()
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0) as c:
        with pytest.raises(InvalidInput) as info:
            await call(c)
    assert words in str(info.value), str(info.value)
    assert fake.requests == []


@pytest.mark.parametrize(("case", "call", "words"), WARM, ids=[c[0] for c in WARM])
async def test_refused_before_the_write_is_sent(case: str, call: Call, words: str) -> None:
    """Only the market lookup may happen; no create/transfer reaches the venue."""
    fake = SpecFake()
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0) as c:
        await c.market("200")
        fake.requests.clear()
        with pytest.raises(InvalidInput) as info:
            await call(c)
    assert words in str(info.value), str(info.value)
    assert all(r.method == "GET" for r in fake.requests)


async def test_amend_can_only_reduce() -> None:
    """Growing an order by amend is refused locally (use replace)."""
    fake = SpecFake()
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0) as c:
        await c.place_limit("200", "buy", D("1"), D("500"), order_id="amend-me")
        with pytest.raises(InvalidInput, match="only reduce"):
            await c.amend("amend-me", "200", D("2"))
    assert not any(r.url.path == "/orders/amend" for r in fake.requests)
