"""Reads (spec §5, §6): paths and query order as in the golden vectors, canned bodies parsed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from spec_fake import BASE, EXAMPLES, PK, SEED, T0, TOKEN, VECTORS, SpecFake, envelope

from tplus_cli.client import TplusClient
from tplus_cli.client.errors import InvalidInput, NotFound
from tplus_cli.client.wire import BookLevel

pytestmark = pytest.mark.anyio

Call = Callable[[TplusClient], Awaitable[Any]]
ADDRESS = "0x62622E77D1349Face943C6e7D5c01C61465FE1dc@00000000000000a4b1"

# vector name → (the call that makes it, does the vector's client have a key?)
READS: dict[str, tuple[Call, bool]] = {
    "get_market": (lambda c: c.market("200"), True),
    "get_market_address_form": (lambda c: c.market(ADDRESS), True),
    "get_markets": (lambda c: c.markets(), True),
    "get_user_orders_page": (lambda c: c.user_orders(), True),
    "get_user_orders_for_book_open_only": (lambda c: c.user_orders("200", open_only=True), True),
    "get_user_positions_page": (lambda c: c.positions(1), True),
    "get_user_solvency": (lambda c: c.solvency(), True),
    "get_user_margin_info": (lambda c: c.margin(1), True),
    "get_close_all_positions_preview": (lambda c: c.close_all_preview(1), True),
    "get_user_position_for_asset": (lambda c: c.asset_positions("200", sub_account=1), True),
    "get_multisig_config": (lambda c: c.multisig_config(), True),
}
MDS_READS: dict[str, tuple[Call, bool]] = {
    "get_orderbook_snapshot": (lambda c: c.orderbook("200"), False),
    "get_klines": (lambda c: c.klines("200", interval="60", limit=500, end_ns=T0), False),
    "get_ticker": (lambda c: c.ticker("200"), False),
    "get_tickers": (lambda c: c.tickers(), False),
    "get_trades_for_asset": (lambda c: c.trades("200", limit=50), False),
    "get_user_trades_for_asset_authenticated": (
        lambda c: c.user_trades(
            "200",
            sub_account=1,
            start_ns=T0,
            end_ns=T0 + 10**12,
            side="buy",
            status="confirmed",
            limit=50,
        ),
        True,
    ),
    "get_open_interest": (lambda c: c.open_interest("200"), False),
    "get_user_orders_mds": (lambda c: c.mds_order_history(limit=20), True),
    "get_user_position_basis": (lambda c: c.position_basis(sub_account=1), True),
    "get_sub_account_names": (lambda c: c.sub_account_names(), True),
}
# The MDS answers `/orders/user/{pk}` with history rows; the spec fake, like the local
# venue, routes that colliding path to the OMS (spec §11.10), so the MDS body is canned.
MDS_CANNED: dict[str, dict[str, Any]] = {
    "get_user_orders_mds": {
        f"/orders/user/{PK}": VECTORS["mds_reads"]["get_user_orders_mds"]["client_return_value"]
    },
}


def fake_with_market_at(path_asset: str) -> SpecFake:
    fake = SpecFake()
    fake.markets[path_asset] = {**fake.markets["200"], "asset_id": path_asset}
    return fake


def wire(request: httpx.Request) -> tuple[str, str, str | None, str | None]:
    return (
        request.method,
        request.url.raw_path.decode(),
        request.headers.get("authorization"),
        request.headers.get("user-id"),
    )


def expected_wire(entry: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (r["method"], r["raw_path"], r["headers"].get("Authorization"), r["headers"].get("User-Id"))
        for r in entry["requests"]
        if not (r["raw_path"].startswith("/nonce/") or r["raw_path"] == "/auth")
    ]


@pytest.mark.parametrize("name", [*READS, *MDS_READS])
async def test_read_matches_vector(name: str) -> None:
    """Method, raw path (query order included) and auth headers match; the body parses."""
    entry = VECTORS["reads"].get(name) or VECTORS["mds_reads"][name]
    call, keyed = READS.get(name) or MDS_READS[name]
    fake = fake_with_market_at(entry.get("normalized_asset_id", "200"))
    fake.canned.update(MDS_CANNED.get(name, {}))
    async with TplusClient(
        BASE, seed=SEED if keyed else None, transport=fake.transport(), clock_ns=lambda: T0
    ) as c:
        if keyed:
            await c.solvency()  # authenticate first, as the vector's client already was
            fake.requests.clear()
        result = await call(c)
    if name in ("get_market", "get_market_address_form"):
        assert [wire(r) for r in fake.requests] == expected_wire(entry)
    else:  # order listings also fetch /market/{asset} once, for the decimals
        got = [wire(r) for r in fake.requests if not r.url.path.startswith("/market/")]
        assert got == expected_wire(entry)
    assert result is not None


async def test_parsed_values_are_exact_decimals() -> None:
    """Numbers (even JSON floats like 501.75) arrive as exact Decimals in human units."""
    fake = SpecFake()
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0) as c:
        book = await c.orderbook("200")
        ticker = await c.ticker("200")
        [bar] = await c.klines("200", interval="60")
        [trade] = await c.trades("200")
        inventory = await c.inventory()
        margin = await c.margin(1)
        [position] = await c.positions(1)
        preview = await c.close_all_preview(1)
        [fill] = await c.user_trades()
    assert book.bids[0] == BookLevel(Decimal("501.25"), Decimal("2.0")) and book.sequence == 41
    assert book.asks[0].price == Decimal("501.75")
    assert ticker.best_bid == BookLevel(Decimal("501.25"), Decimal("2.000"))
    assert ticker.volume_24h == Decimal("9876.543")
    assert bar.close == Decimal("501.50") and bar.open_timestamp_ns == T0
    assert trade.price == Decimal("500.25") and trade.buyer_is_maker is False
    by_key = {(b.sub_account, b.asset_id): b.total for b in inventory.balances}
    assert by_key[(0, "0")] == Decimal(1000) and by_key[(0, "200")] == Decimal("2.5")
    assert inventory.kinds == {0: "spot", 1: "cross_margin"}
    assert inventory.margins[0].quote_liabilities == Decimal(750)
    assert margin.accounts[0].account_equity == Decimal("15000.0")
    assert margin.accounts[0].positions[0].side == "long"
    assert margin.warnings[0].code == "SPOT_PRICE_UNAVAILABLE"
    assert position.size == Decimal("1.5") and position.liquidation_price == Decimal("455.10")
    assert preview.orders[0].quantity == Decimal("1.500") and preview.errors == {
        "3": "no oracle price"
    }
    assert fill.trading_fee == Decimal("0.05") and fill.is_maker


async def test_markets_carry_symbols_fees_and_ticks() -> None:
    """/markets gives symbols (from the symbol map), tick size, min size and ppm fee rates."""
    fake = SpecFake()
    async with TplusClient(BASE, transport=fake.transport()) as c:
        [market] = await c.markets()
        assets = await c.assets()
        assert await c.resolve_asset("wbtc") == "200"
        assert await c.resolve_asset("USDC") == "0"
        assert await c.resolve_asset(200) == "200"
        with pytest.raises(NotFound):
            await c.resolve_asset("DOGE")
        with pytest.raises(InvalidInput):
            await c.resolve_asset("BTC-PERP!")
        again = await c.market("WBTC")
    assert market.symbol == "WBTC" and again.symbol == "WBTC"
    assert market.tick_size == Decimal("0.01") and market.min_order_size == Decimal("0.001")
    assert (market.taker_fee_rate, market.maker_fee_rate) == (500, 200)
    assert assets["0"].symbol == "USDC"
    assert fake.seen().count(("GET", "/markets?include_symbol_map=true&page=0&limit=1000")) == 1
    assert ("GET", "/market/200") not in fake.seen()  # served from the /markets cache


async def test_inventory_accepts_hex_u256_and_detailed_balances() -> None:
    """Spot values may be 0x-hex U256 strings or {available, held, total} objects."""
    fake = SpecFake()
    fake.canned[f"/inventory/user/{PK}"] = {
        "accounts": {
            "1": {
                "kind": "spot",
                "spot": {
                    "0": "0xde0b6b3a7640000",
                    "1": {"available": "500000000000000000", "held": "250000000000000000"},
                },
            }
        }
    }
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0) as c:
        inventory = await c.inventory()
    usdc, eth = inventory.balances
    assert usdc.total == Decimal(1) and usdc.held is None
    assert (eth.available, eth.held, eth.total) == (
        Decimal("0.5"),
        Decimal("0.25"),
        Decimal("0.75"),
    )


async def test_unknown_user_reads_are_empty() -> None:
    """USER_NOT_FOUND on orders/inventory/solvency/positions means 'nothing yet' (spec §5.9)."""
    fake = SpecFake()
    original = fake._route

    def unknown(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(("/orders/user", "/inventory", "/solvency", "/positions")):
            return envelope(404, "USER_NOT_FOUND", "no user")
        return original(request)

    fake._route = unknown  # type: ignore[method-assign]
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0) as c:
        assert await c.user_orders() == []
        assert await c.user_orders("200") == []
        assert (await c.inventory()).balances == ()
        assert (await c.solvency()).accounts == {}
        assert await c.positions() == []


async def test_legacy_404_with_empty_list_means_no_orders() -> None:
    """`404` + body `[]` on /orders/user/{pk}/{asset} is 'no orders' (spec §7.3)."""
    fake = SpecFake()
    original = fake._route

    def legacy(request: httpx.Request) -> httpx.Response:
        if request.url.path == f"/orders/user/{PK}/200":
            return httpx.Response(404, json=[])
        return original(request)

    fake._route = legacy  # type: ignore[method-assign]
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0) as c:
        assert await c.user_orders("200") == []


async def test_orders_parse_into_raw_and_human_units() -> None:
    """OrderResponse book ints become OrderInfo with raw ints and human Decimals side by side."""
    fake = SpecFake()
    fake.orders["x"] = dict(EXAMPLES["order_response"])
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0) as c:
        [order] = await c.user_orders()
        found = await c.find_order(order.order_id)
        missing = await c.find_order("nope")
    assert (order.limit_price_raw, order.quantity_raw) == (50000, 1500)
    assert (order.price, order.quantity) == (Decimal("500.00"), Decimal("1.500"))
    assert order.filled_quantity == Decimal("0.500") and order.remaining_quantity == Decimal(
        "1.000"
    )
    assert order.is_open and found == order and missing is None
    assert fake.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


async def test_base_url_path_prefix_is_kept_for_rest() -> None:
    """A base URL with a path keeps the prefix on every REST call (spec §1.2)."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(200, json=EXAMPLES["ticker"])

    async with TplusClient("https://gw.test/api/", transport=httpx.MockTransport(handler)) as c:
        await c.ticker("200")
    assert seen == ["/api/ticker/200"]


async def test_malformed_or_unknown_market_rows_are_dropped() -> None:
    """Rows failing validation, or on a market the venue no longer knows, are skipped (§5.3)."""
    fake = SpecFake()
    fake.orders["good"] = {**EXAMPLES["order_response"], "order_id": "good"}
    fake.orders["no-qty"] = {
        k: v for k, v in EXAMPLES["order_response"].items() if k != "quantity"
    } | {"order_id": "no-qty"}
    fake.orders["gone"] = {**EXAMPLES["order_response"], "order_id": "gone", "base_asset": "999"}
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=lambda: T0) as c:
        orders = await c.user_orders()
    assert [o.order_id for o in orders] == ["good"]
