"""The extra reads (one asset's positions, multisig, open interest, MDS history, basis, names)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from spec_fake import BASE, EXAMPLES, PK, SEED, T0, VECTORS, SpecFake, envelope
from test_ws_basic import FakeWs, frames_for

from tplus_cli.client import TplusClient
from tplus_cli.client.errors import NotFound, ServerError
from tplus_cli.client.wire import parse_position
from tplus_cli.client.wire_user import DEFAULT_MULTISIG, MultisigConfig, parse_historical_order
from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.embedded import open_embedded

pytestmark = pytest.mark.anyio

Route = Callable[[httpx.Request], httpx.Response]


def client(fake: SpecFake) -> TplusClient:
    return TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0)


def answering(fake: SpecFake, path: str, response: httpx.Response) -> None:
    """Make the fake answer `path` (any query) with `response`; other paths as usual."""
    original: Route = fake._route

    def route(request: httpx.Request) -> httpx.Response:
        return response if request.url.path == path else original(request)

    fake._route = route  # type: ignore[method-assign]


async def test_asset_positions_parse_the_vector_body() -> None:
    """`/positions/{pk}/{asset}` answers a bare list; rows equal the vector's, in human units."""
    fake = SpecFake()
    async with client(fake) as c:
        [position] = await c.asset_positions("WBTC", sub_account=1)
        other = await c.asset_positions("0")
    expected = VECTORS["reads"]["get_user_position_for_asset"]["client_return_value"]
    assert [position] == [parse_position(p) for p in expected]
    assert (position.side, position.size, position.margin) == (
        "long",
        Decimal("1.5"),
        Decimal("76.50"),
    )
    assert other == []
    assert ("GET", f"/positions/{PK}/200?sub_account=1") in fake.seen()


async def test_asset_positions_of_an_unknown_user_are_empty() -> None:
    """USER_NOT_FOUND means no positions yet (spec §5.9)."""
    fake = SpecFake()
    answering(fake, f"/positions/{PK}/200", envelope(404, "USER_NOT_FOUND", "no user"))
    async with client(fake) as c:
        assert await c.asset_positions("200") == []


async def test_multisig_config_parses_weights_and_thresholds() -> None:
    """Signers stay raw (key forms vary); thresholds are ints."""
    signer = {"signer": {"Ed25519": [1] * 32}, "weight": 2}
    body = {
        "master_weight": 1,
        "signers": [signer],
        "thresholds": {"low": 1, "medium": 2, "high": 3},
    }
    fake = SpecFake()
    answering(fake, f"/multisig/config/{PK}", httpx.Response(200, json=body))
    async with client(fake) as c:
        config = await c.multisig_config()
    assert config == MultisigConfig(master_weight=1, signers=(signer,), low=1, medium=2, high=3)


async def test_multisig_config_defaults_when_none_is_stored() -> None:
    """A NotFound envelope is the spec §2.6 default; a bare 404 (no envelope) is an error."""
    vector = VECTORS["reads"]["get_multisig_config"]["client_return_value"]
    default = MultisigConfig(
        master_weight=vector["master_weight"],
        signers=tuple(vector["signers"]),
        **vector["thresholds"],
    )
    assert DEFAULT_MULTISIG == default
    fake = SpecFake()
    answering(fake, f"/multisig/config/{PK}", envelope(404, "USER_NOT_FOUND", "no user"))
    async with client(fake) as c:
        assert await c.multisig_config() == DEFAULT_MULTISIG
    fake = SpecFake()
    answering(fake, f"/multisig/config/{PK}", httpx.Response(404, text="Not Found"))
    async with client(fake) as c:
        with pytest.raises(NotFound):
            await c.multisig_config()


async def test_open_interest_is_exact_and_anonymous() -> None:
    """Long/short come back as exact Decimals; no key needed; null sides stay None."""
    fake = SpecFake()
    async with TplusClient(BASE, transport=fake.transport()) as c:
        oi = await c.open_interest("wbtc")
    assert (oi.asset_id, oi.long, oi.short) == ("200", Decimal("120.5"), Decimal("118.0"))
    assert oi.timestamp_ns == T0
    fake = SpecFake()
    answering(
        fake, "/openinterest/200", httpx.Response(200, json={"asset_id": "200", "long": None})
    )
    async with TplusClient(BASE, transport=fake.transport()) as c:
        empty = await c.open_interest("200")
    assert (empty.long, empty.short, empty.timestamp_ns) == (None, None, None)


async def test_mds_order_history_rows_and_query_order() -> None:
    """HistoricalUserOrder rows (human units) parse; filters go out in the spec §6 order."""
    page = {"orders": [EXAMPLES["hist_user_order"]], "has_next_page": False, "next_page": None}
    fake = SpecFake()
    fake.canned[f"/orders/user/{PK}/200"] = page
    async with client(fake) as c:
        [order] = await c.mds_order_history(
            "200",
            sub_account=1,
            start_ns=T0,
            end_ns=T0 + 1,
            side="buy",
            status="partial",
            page=0,
            limit=20,
        )
    assert order == parse_historical_order(EXAMPLES["hist_user_order"])
    assert (order.price, order.quantity, order.filled_quantity) == (
        Decimal("500.00"),
        Decimal("1.500"),
        Decimal("0.500"),
    )
    assert (order.sub_account, order.is_spot, order.status) == (1, True, "partial")
    query = (
        f"sub_account=1&start_time={T0}&end_time={T0 + 1}&side=buy&status=partial&page=0&limit=20"
    )
    assert ("GET", f"/orders/user/{PK}/200?{query}") in fake.seen()


async def test_mds_order_history_refuses_an_oms_answer() -> None:
    """Where the colliding path reaches the OMS (spec §11.10), the error says so."""
    fake = SpecFake()
    fake.orders["x"] = dict(EXAMPLES["order_response"])
    async with client(fake) as c:
        with pytest.raises(ServerError, match="11.10"):
            await c.mds_order_history()


async def test_position_basis_and_sub_account_names() -> None:
    """Basis rows (spot side None) and names, with the per-asset basis path."""
    fake = SpecFake()
    async with client(fake) as c:
        [basis] = await c.position_basis("200", sub_account=1)
        names = await c.sub_account_names()
    assert (basis.domain, basis.side, basis.cost) == ("margin", "long", Decimal("750.00"))
    assert basis.unrealized_pnl == Decimal("15.00")
    assert [(n.sub_account, n.name) for n in names] == [(2, "Scalper")]
    assert ("GET", f"/positions/user/{PK}/basis/200?sub_account=1") in fake.seen()


VARIANTS = {
    "structured *_NOT_FOUND": envelope(404, "USER_NOT_FOUND", "no user"),
    "legacy 404 with body []": httpx.Response(404, json=[]),
}


async def test_orders_for_book_404_variants() -> None:
    """Each 404 variant of the vector gives its recorded result (spec §7.3).

    The vector's tpluspy call sends no query; ours always pages (`page`, `limit`), the
    other form §5.3 allows, so the query is compared with that form instead.
    """
    entry = VECTORS["reads"]["orders_for_book_404_variants"]
    assert len(entry["requests"]) == len(entry["results"]) == len(VARIANTS)
    for response, want, expected in zip(
        VARIANTS.values(), entry["requests"], entry["results"], strict=True
    ):
        fake = SpecFake()
        answering(fake, want["path"], response)
        async with client(fake) as c:
            await c.solvency()  # authenticate first, as the vector's client already was
            fake.requests.clear()
            assert await c.user_orders("200") == expected
        [request] = [r for r in fake.requests if r.url.path == want["path"]]
        assert request.method == want["method"]
        assert request.url.query == b"page=0&limit=1000"
        assert request.headers["authorization"] == want["headers"]["Authorization"]
        assert request.headers["user-id"] == want["headers"]["User-Id"]


@pytest.mark.parametrize("body", [b"Not Found", b'{"detail":"no route"}', b"[1]"])
async def test_other_bare_404_bodies_on_the_book_listing_raise(body: bytes) -> None:
    """Only the exact legacy `[]` means 'no orders'; any other bare 404 re-raises (spec §7.3)."""
    fake = SpecFake()
    answering(fake, f"/orders/user/{PK}/200", httpx.Response(404, content=body))
    async with client(fake) as c:
        with pytest.raises(NotFound):
            await c.user_orders("200")


async def test_position_stream_yields_complete_snapshots() -> None:
    """`/positions/ws/{pk}` frames become PositionUpdate snapshots of typed positions."""
    vector = VECTORS["websocket"]["stream_user_positions"]["parsed"][0]
    connect = FakeWs(frames_for("stream_user_positions"))
    async with TplusClient(
        BASE, seed=SEED, transport=SpecFake().transport(), ws_connect=connect
    ) as c:
        [update] = [u async for u in c.stream_positions()]
    assert update.user_id == PK and update.timestamp_ns == vector["timestamp_ns"]
    assert update.positions == tuple(parse_position(p) for p in vector["positions"])
    assert connect.handshakes[0][0].endswith(f"/positions/ws/{PK}")


def test_parsers_refuse_missing_keys() -> None:
    """A history row without `account_index` (an OMS row) is a WireError, not a silent default."""
    row: dict[str, Any] = dict(EXAMPLES["hist_user_order"])
    del row["account_index"]
    with pytest.raises(ValueError, match="account_index"):
        parse_historical_order(row)


async def test_the_local_venue_serves_the_oms_extras(tmp_path: Path) -> None:
    """The embedded venue answers positions per asset, multisig config and open interest."""
    with open_embedded(tmp_path / "data", clock=StepClock(T0), simulate=False) as venue:
        async with TplusClient("http://venue", seed=SEED, transport=venue.transport()) as c:
            assert await c.asset_positions("BTC", sub_account=1) == []  # a new user has none
            assert await c.multisig_config() == DEFAULT_MULTISIG
            oi = await c.open_interest("BTC")
    assert (oi.asset_id, oi.long, oi.short, oi.timestamp_ns) == ("2", 0, 0, T0)
