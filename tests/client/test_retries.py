"""Retry policy: reads back off (honouring Retry-After); creates are settled by lookup, never re-sent."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from spec_fake import BASE, PK, SEED, T0, SpecFake, envelope

from tplus_cli.client import TplusClient
from tplus_cli.client.errors import AmbiguousOutcome, ServerError, Unavailable
from tplus_cli.client.retry import RetryPolicy

pytestmark = pytest.mark.anyio

ORDERS = f"/orders/user/{PK}/200"


class Sleeps:
    """An injectable sleep that records instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make(fake: SpecFake, sleeps: Sleeps, attempts: int = 4) -> TplusClient:
    policy = RetryPolicy(attempts=attempts, sleep=sleeps, rng=lambda: 1.0)
    return TplusClient(
        BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0, retry=policy
    )


def fail_on(method: str, path: str, exc: type[httpx.TransportError]) -> object:
    """A hook raising `exc` for matching requests (others pass)."""

    def hook(request: httpx.Request) -> None:
        if request.method == method and request.url.path == path:
            raise exc("simulated", request=request)

    return hook


def creates(fake: SpecFake) -> int:
    return sum(1 for r in fake.requests if r.url.path == "/orders/create")


async def place(client: TplusClient, order_id: str = "retry-1") -> object:
    return await client.place_limit("200", "buy", Decimal("1"), Decimal("500"), order_id=order_id)


async def test_timeout_after_the_venue_accepted_reports_placed() -> None:
    """The reply is lost after the order was created: one order exists and we report it placed."""
    fake, sleeps = SpecFake(), Sleeps()
    fake.after = fail_on("POST", "/orders/create", httpx.ReadTimeout)
    async with make(fake, sleeps) as c:
        ack = await place(c)
    assert ack.order_id == "retry-1" and ack.status == "Received"  # type: ignore[attr-defined]
    assert creates(fake) == 1 and list(fake.orders) == ["retry-1"]
    assert sleeps.calls == [RetryPolicy().settle_delay]  # waited once before looking it up
    assert ("GET", ORDERS + "?page=0&limit=1000") in fake.seen()


async def test_connection_refused_means_not_sent_and_safe_to_retry() -> None:
    """Nothing reached the venue: Unavailable, retryable, no lookup, no order."""
    fake, sleeps = SpecFake(), Sleeps()
    fake.before = fail_on("POST", "/orders/create", httpx.ConnectError)
    async with make(fake, sleeps) as c:
        with pytest.raises(Unavailable) as info:
            await place(c)
    assert info.value.retryable and "safe to retry" in str(info.value)
    assert creates(fake) == 0 and fake.orders == {}
    assert not any(p.startswith("/orders/user") for _, p in fake.seen())


async def test_dropped_before_processing_is_checked_and_reported_not_placed() -> None:
    """The connection drops and the venue never saw it: the lookup proves 'not placed'."""
    fake, sleeps = SpecFake(), Sleeps()
    fake.before = fail_on("POST", "/orders/create", httpx.ReadError)
    async with make(fake, sleeps) as c:
        with pytest.raises(Unavailable) as info:
            await place(c)
    assert "not placed" in str(info.value) and info.value.retryable
    assert fake.orders == {} and ("GET", ORDERS + "?page=0&limit=1000") in fake.seen()


async def test_lookup_failure_is_ambiguous_with_the_order_id() -> None:
    """Reply lost and the lookup fails too: AmbiguousOutcome naming the id; no second create."""
    fake, sleeps = SpecFake(), Sleeps()
    create_timeout = fail_on("POST", "/orders/create", httpx.ReadTimeout)
    lookup_down = fail_on("GET", ORDERS, httpx.ConnectError)

    def after(request: httpx.Request) -> None:
        create_timeout(request)  # type: ignore[operator]
        fake.before = lookup_down

    fake.after = after
    async with make(fake, sleeps, attempts=3) as c:
        with pytest.raises(AmbiguousOutcome) as info:
            await place(c, "amb-1")
    assert info.value.order_id == "amb-1" and not info.value.retryable
    assert creates(fake) == 1
    assert sleeps.calls == [0.5, 0.25, 0.5]  # settle once, then the lookup itself was retried


async def test_500_not_retryable_on_create_is_not_resent() -> None:
    """A 500 with retryable:false: exactly one create, lookup says absent, ServerError raised."""
    fake, sleeps = SpecFake(), Sleeps()
    async with make(fake, sleeps) as c:
        await c.market(
            "200"
        )  # authenticate and cache the market: the scripted reply hits the create
        fake.scripted.append(envelope(500, "INTERNAL_ERROR", "boom", retryable=False))
        with pytest.raises(ServerError) as info:
            await place(c)
    assert not info.value.retryable and creates(fake) == 1 and fake.orders == {}
    assert sleeps.calls == []


async def test_5xx_after_the_order_landed_reports_placed() -> None:
    """A 502 from a proxy although the venue stored the order: the lookup finds it."""
    fake, sleeps = SpecFake(), Sleeps()
    original = fake._route

    def proxy(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if request.url.path == "/orders/create":
            return httpx.Response(502, text="Bad Gateway")
        return response

    fake._route = proxy  # type: ignore[method-assign]
    async with make(fake, sleeps) as c:
        ack = await place(c, "gw-1")
    assert ack.status == "Received" and creates(fake) == 1  # type: ignore[attr-defined]


async def test_429_retry_after_is_honoured_on_reads() -> None:
    """A read refused with 429 + Retry-After: 3 sleeps 3 s, then succeeds."""
    fake, sleeps = SpecFake(), Sleeps()
    fake.scripted.append(
        httpx.Response(
            429,
            headers={"Retry-After": "3"},
            json={"error": {"code": "RATE_LIMITED", "message": "slow down"}},
        )
    )
    async with TplusClient(
        BASE, transport=fake.transport(), retry=RetryPolicy(sleep=sleeps, rng=lambda: 0.0)
    ) as c:
        tickers = await c.tickers()
    assert sleeps.calls == [3.0] and len(tickers) == 1


async def test_reads_back_off_exponentially_and_give_up() -> None:
    """503s: attempts are bounded, delays double (with jitter in [50 %, 100 %] of the step)."""
    fake, sleeps = SpecFake(), Sleeps()
    fake.scripted.extend([envelope(503, "UNAVAILABLE", "later")] * 4)
    policy = RetryPolicy(attempts=4, base_delay=0.5, sleep=sleeps, rng=lambda: 0.0)
    async with TplusClient(BASE, transport=fake.transport(), retry=policy) as c:
        with pytest.raises(ServerError):
            await c.tickers()
    assert sleeps.calls == [0.25, 0.5, 1.0] and len(fake.requests) == 4


async def test_non_retryable_read_error_is_not_retried() -> None:
    """The envelope's retryable:false stops retries even for a 5xx read."""
    fake, sleeps = SpecFake(), Sleeps()
    fake.scripted.append(envelope(500, "INTERNAL_ERROR", "broken", retryable=False))
    async with TplusClient(BASE, transport=fake.transport(), retry=RetryPolicy(sleep=sleeps)) as c:
        with pytest.raises(ServerError):
            await c.tickers()
    assert sleeps.calls == [] and len(fake.requests) == 1


async def test_cancel_is_retried_after_a_lost_request() -> None:
    """A cancel that never reached the venue is resent (cancels are idempotent)."""
    fake, sleeps = SpecFake(), Sleeps()
    async with make(fake, sleeps) as c:
        await place(c, "to-cancel")
        attempts = []

        def drop_first(request: httpx.Request) -> None:
            if request.url.path == "/orders/cancel":
                attempts.append(1)
                if len(attempts) == 1:
                    raise httpx.ConnectError("down", request=request)

        fake.before = drop_first
        ack = await c.cancel("to-cancel", "200")
    assert ack.accepted and fake.orders["to-cancel"]["canceled"] and len(sleeps.calls) == 1


async def test_replace_timeout_after_apply_is_confirmed_by_lookup() -> None:
    """A replace whose reply is lost is settled by reading the order's terms back."""
    fake, sleeps = SpecFake(), Sleeps()
    async with make(fake, sleeps) as c:
        await place(c, "rep-1")
        fake.after = fail_on("PATCH", "/orders/replace", httpx.ReadTimeout)
        ack = await c.replace("rep-1", "200", price=Decimal("505"))
    assert ack.accepted and fake.orders["rep-1"]["limit_price"] == "50500"
    assert sum(1 for r in fake.requests if r.url.path == "/orders/replace") == 1


def test_delay_is_capped_and_never_zero() -> None:
    """Backoff stays within [step/2, step] and under max_delay; Retry-After is capped too."""
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0, rng=lambda: 0.0)
    error = ServerError("x")
    assert [policy.delay(n, error) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert RetryPolicy(rng=lambda: 1.0, max_delay=4.0).delay(10, error) == 4.0
