"""Auth handshake (spec §4) against the golden vectors and the spec-shaped fake server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from spec_fake import (
    BASE,
    COSIGNER_SEED,
    EXPIRY_NS,
    PK,
    SEED,
    T0,
    TOKEN,
    VECTORS,
    SpecFake,
    envelope,
)

from tplus_cli.client import TplusClient
from tplus_cli.client.errors import AuthFailed

pytestmark = pytest.mark.anyio

MATTERS = ("content-type", "accept", "authorization", "user-id")


def headers_that_matter(headers: Any) -> dict[str, str]:
    """The request headers the spec pins (lower-case names)."""
    return {k.lower(): v for k, v in dict(headers).items() if k.lower() in MATTERS}


def check_sequence(fake: SpecFake, expected: list[dict[str, Any]]) -> None:
    """The vector's requests (a prefix of ours) match: method, raw path, headers, body bytes."""
    assert len(fake.requests) >= len(expected)
    for got, want in zip(fake.requests, expected, strict=False):
        assert got.method == want["method"]
        assert got.url.raw_path.decode() == want["raw_path"]
        assert headers_that_matter(got.headers) == headers_that_matter(want["headers"])
        assert got.content.decode() == want["body"]


def client(fake: SpecFake, **kw: Any) -> TplusClient:
    return TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0, **kw)


async def test_auth_handshake_vector() -> None:
    """First authenticated call: GET /nonce → POST /auth (exact bytes) → call with Bearer + User-Id."""
    fake = SpecFake()
    async with client(fake) as c:
        await c.inventory()
    check_sequence(fake, VECTORS["auth_handshake"]["requests"])


async def test_auth_handshake_with_cosigner_vector() -> None:
    """A client-level auth cosigner adds its signature over the same nonce."""
    fake = SpecFake()
    async with client(fake, auth_cosigners=[COSIGNER_SEED]) as c:
        await c.inventory()
    check_sequence(fake, VECTORS["auth_handshake_with_cosigner"]["requests"])


async def test_numeric_nonce_is_signed_and_echoed_as_a_string() -> None:
    """`{"value": 123456789}` is signed as the ASCII digits and sent back as "123456789"."""
    fake = SpecFake(nonce=123456789)
    async with client(fake) as c:
        await c.inventory()
    check_sequence(fake, VECTORS["auth_handshake_numeric_nonce"]["requests"])


async def test_retry_after_401_vector() -> None:
    """A 401 on an authenticated call: exactly one re-auth (nonce + auth) and one resend."""
    fake = SpecFake()
    async with client(fake) as c:
        await c.inventory()  # authenticate first, as the vector's client already was
        fake.requests.clear()
        fake.live_tokens.clear()  # the server forgets the token → the next call gets a 401
        solvency = await c.solvency()
    expected = VECTORS["retry_after_401"]["requests"]
    assert [(r.method, r.url.raw_path.decode()) for r in fake.requests] == [
        (e["method"], e["raw_path"]) for e in expected
    ]
    assert [r.headers.get("authorization") for r in fake.requests] == [
        e["authorization"] for e in expected
    ]
    assert solvency.accounts[1][0] is True


async def test_second_401_is_raised_not_retried_again() -> None:
    """If the resent request is refused too, AuthFailed surfaces: no second re-auth, no loop."""
    fake = SpecFake()
    original = fake._route

    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/solvency"):
            return envelope(401, "UNAUTHORIZED", "token revoked")
        return original(request)

    fake._route = refuse  # type: ignore[method-assign]
    async with client(fake) as c:
        with pytest.raises(AuthFailed) as info:
            await c.solvency()
    assert info.value.status == 401
    solvency = ("GET", f"/solvency/user/{PK}")
    nonce, auth = ("GET", f"/nonce/{PK}"), ("POST", "/auth")
    assert fake.seen() == [nonce, auth, solvency, nonce, auth, solvency]


async def test_token_is_reused_until_sixty_seconds_before_expiry() -> None:
    """One handshake serves many calls; a token within 60 s of expiry is refreshed first."""
    now = [T0]
    fake = SpecFake()
    fake.expiry_ns = T0 + 120 * 10**9
    async with TplusClient(
        BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: now[0]
    ) as c:
        await c.inventory()
        await c.solvency()
        assert [p for _, p in fake.seen()].count("/auth") == 1
        now[0] = T0 + 60 * 10**9  # exactly 60 s left: counts as expired (now + 60 s ≥ expiry)
        await c.inventory()
    assert [p for _, p in fake.seen()].count("/auth") == 2


async def test_concurrent_calls_share_one_handshake() -> None:
    """Ten concurrent first calls perform a single nonce/auth exchange (the lock serializes)."""
    fake = SpecFake()
    async with client(fake) as c:
        await asyncio.gather(*(c.inventory() for _ in range(10)))
    paths = [p for _, p in fake.seen()]
    assert paths.count("/auth") == 1 and len(paths) == 12


async def test_public_reads_authenticate_opportunistically_and_fall_back() -> None:
    """With a key, an O endpoint carries auth; if the handshake fails it goes out anonymously."""
    fake = SpecFake()
    async with client(fake) as c:
        await c.market("200")
    assert fake.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"

    broken = SpecFake()
    broken.nonce = "something else"  # the fake verifies against a different nonce → 401
    original = broken._route

    def wrong_nonce(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/nonce/"):
            return httpx.Response(200, json={"value": "not-the-one-signed-server-side"})
        return original(request)

    broken._route = wrong_nonce  # type: ignore[method-assign]
    async with client(broken) as c:
        market = await c.market("200")
    assert market.asset_id == "200"
    last = broken.requests[-1]
    assert last.url.path == "/market/200" and "authorization" not in last.headers


async def test_anonymous_client_never_authenticates() -> None:
    """Without a key, public reads send no auth headers and private reads fail locally."""
    fake = SpecFake()
    async with TplusClient(BASE, transport=fake.transport()) as c:
        await c.orderbook("200")
        with pytest.raises(AuthFailed):
            await c.inventory()
    assert fake.seen() == [("GET", "/marketdepth/200")]
    assert "authorization" not in fake.requests[0].headers
    assert c.public_key is None


async def test_auth_failure_is_auth_failed_and_not_cached() -> None:
    """A refused /auth raises AuthFailed; the next call tries a fresh handshake."""
    fake = SpecFake()
    fake.scripted.extend(
        [
            httpx.Response(200, json={"value": "x"}),
            httpx.Response(401, json={"error": {"code": "INVALID_SIGNATURE", "message": "bad"}}),
        ]
    )
    async with client(fake) as c:
        with pytest.raises(AuthFailed) as info:
            await c.inventory()
        assert info.value.code == "INVALID_SIGNATURE"
        await c.inventory()
    assert [p for _, p in fake.seen()].count("/auth") == 2
    assert c.public_key == PK and EXPIRY_NS > T0
