"""Writes (spec §3): each signed-operation vector rebuilt through the client's public methods.

Human Decimals go in; the request that reaches the (spec-shaped) server must equal the
vector's body, byte for byte. The clock is scripted like the vector generator's:
T0, T0+1 ms, ... per operation.
"""

from __future__ import annotations

import json
import uuid
from collections import deque
from decimal import Decimal
from typing import Any

import httpx
import pytest
from spec_fake import BASE, EXAMPLES, SEED, T0, VECTORS, SpecFake

from tplus_cli.client import TplusClient, signing
from tplus_cli.client.errors import Rejected
from tplus_cli.client.units import from_book_units
from tplus_cli.client.wire import OrderAck, PreparedRequest

pytestmark = pytest.mark.anyio

OPS: dict[str, dict[str, Any]] = {op["name"]: op for op in VECTORS["signed_operations"]}
PD, QD = 2, 3
MS = 1_000_000
LIMITS = [n for n in OPS if n.startswith("limit_") and "delegated" not in n]
MARKETS = [n for n in OPS if n.startswith("market_")]


class ScriptedClock:
    """Returns queued timestamps (one per read), then T0."""

    def __init__(self) -> None:
        self.queue: deque[int] = deque()

    def script(self, *values: int) -> None:
        self.queue = deque(values)

    def __call__(self) -> int:
        return self.queue.popleft() if self.queue else T0


async def open_client(fake: SpecFake) -> tuple[TplusClient, ScriptedClock]:
    """A keyed client, already authenticated and with market 200 cached (no clock use left)."""
    clock = ScriptedClock()
    client = TplusClient(BASE, seed=SEED, transport=fake.transport(), clock_ns=clock)
    client._session._clock_ns = lambda: T0  # token freshness reads its own clock in these tests
    await client.market("200")
    await client.solvency()
    fake.requests.clear()
    return client, clock


def sent(fake: SpecFake, path: str) -> httpx.Request:
    [request] = [r for r in fake.requests if r.url.path == path]
    return request


def assert_body(request: httpx.Request, op: dict[str, Any]) -> None:
    """Same JSON and the same bytes as tpluspy sent."""
    assert json.loads(request.content) == op["http_request"]["body_json"]
    assert request.content.decode() == op["http_request"]["body"]
    assert request.method == op["http_request"]["method"]


def price(raw: int) -> Decimal:
    return from_book_units(raw, PD)


def qty(raw: int) -> Decimal:
    return from_book_units(raw, QD)


def trigger_kwargs(trigger: dict[str, Any] | None) -> dict[str, Any]:
    if trigger is None:
        return {}
    ((kind, body),) = trigger["condition"].items()
    key = "trigger_above" if kind == "PriceAbove" else "trigger_below"
    return {key: price(body["price"]), "parent_order_id": trigger["parent_order_id"]}


def common_kwargs(inputs: dict[str, Any]) -> dict[str, Any]:
    kw: dict[str, Any] = trigger_kwargs(inputs.get("trigger"))
    if "order_id" in inputs:
        kw["order_id"] = inputs["order_id"]
    if "target" in inputs:
        kw["sub_account"] = inputs["target"]["account"]
        kw["is_spot"] = inputs["target"]["is_spot"]
    if "max_trading_fees_rate" in inputs:
        kw["max_fee_rate"] = inputs["max_trading_fees_rate"]
    return kw


def limit_kwargs(inputs: dict[str, Any]) -> dict[str, Any]:
    kw = common_kwargs(inputs)
    if "reduce_only" in inputs:
        kw["reduce_only"] = inputs["reduce_only"]
    ((kind, tif),) = (inputs.get("time_in_force") or {"GTC": {"post_only": False}}).items()
    if kind == "GTC":
        kw.update(tif="gtc", post_only=tif["post_only"])
    elif kind == "GTD":
        kw.update(tif="gtd", post_only=tif["post_only"], until_ns=tif["timestamp_ns"])
    else:
        kw["tif"] = "fok" if tif["fill_or_kill"] else "ioc"
    return kw


@pytest.mark.parametrize("name", LIMITS)
async def test_limit_vectors(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """place_limit with human units reproduces tpluspy's create body exactly."""
    op = OPS[name]
    inputs = op["inputs"]
    if "uuid4" in inputs:
        fixed = signing.order_id_from_uuid(uuid.UUID(inputs["uuid4"]))
        monkeypatch.setattr(signing, "new_order_id", lambda: fixed)
    fake = SpecFake()
    client, clock = await open_client(fake)
    async with client:
        clock.script(*op["clock_reads_ns"])
        ack = await client.place_limit(
            "200",
            inputs["side"],
            qty(inputs["quantity"]),
            price(inputs["price"]),
            **limit_kwargs(inputs),
        )
    assert_body(sent(fake, "/orders/create"), op)
    assert ack == OrderAck(**op["client_return_value"])


@pytest.mark.parametrize("name", MARKETS)
async def test_market_vectors(name: str) -> None:
    """place_market sized in base or quote, with caps, FOK and triggers, matches the vector."""
    op = OPS[name]
    inputs = op["inputs"]
    kw = common_kwargs(inputs)
    kw["fill_or_kill"] = inputs.get("fill_or_kill", False)
    if "quote_quantity" in inputs:
        amount = price(inputs["quote_quantity"])  # quote integers use the price scale
        kw["quote"] = True
        if "max_sellable_quantity" in inputs:
            kw["max_sellable_quantity"] = qty(inputs["max_sellable_quantity"])
    else:
        amount = qty(inputs["base_quantity"])
        if "max_sellable_amount" in inputs:
            kw["max_sellable_amount"] = price(inputs["max_sellable_amount"])
    fake = SpecFake()
    client, clock = await open_client(fake)
    async with client:
        clock.script(*op["clock_reads_ns"])
        ack = await client.place_market("200", inputs["side"], amount, **kw)
    assert_body(sent(fake, "/orders/create"), op)
    assert ack.status == "Received"


def seed_order(fake: SpecFake, order_id: str, limit: int = 50000, quantity: int = 1500) -> None:
    row = dict(EXAMPLES["order_response"])
    row.update(order_id=order_id, limit_price=str(limit), quantity=str(quantity))
    fake.orders[order_id] = row
    fake.revisions[order_id] = None


async def test_cancel_vector() -> None:
    """cancel(order_id, asset) signs {order_id, asset_id, signer, protocol_version}."""
    op = OPS["cancel"]
    fake = SpecFake()
    seed_order(fake, op["inputs"]["order_id"])
    client, clock = await open_client(fake)
    async with client:
        clock.script(*op["clock_reads_ns"])
        ack = await client.cancel(op["inputs"]["order_id"], "200")
    assert_body(sent(fake, "/orders/cancel"), op)
    assert ack.accepted


async def test_cancel_finds_the_asset_when_not_given() -> None:
    """Without an asset, cancel looks the order up first and cancels on its book."""
    op = OPS["cancel"]
    fake = SpecFake()
    seed_order(fake, op["inputs"]["order_id"])
    client, clock = await open_client(fake)
    async with client:
        clock.script(*op["clock_reads_ns"])
        await client.cancel(op["inputs"]["order_id"])
    assert_body(sent(fake, "/orders/cancel"), op)


@pytest.mark.parametrize("name", ["replace_no_trigger", "replace_trigger_above"])
async def test_replace_vectors(name: str) -> None:
    """replace() restates full terms (from human price/quantity) and signs them."""
    op = OPS[name]
    inputs = op["inputs"]
    fake = SpecFake()
    seed_order(fake, inputs["original_order_id"])
    kw: dict[str, Any] = {}
    if inputs.get("new_trigger"):
        kw["trigger_above"] = price(inputs["new_trigger"]["PriceAbove"]["price"])
    client, clock = await open_client(fake)
    async with client:
        clock.script(*op["clock_reads_ns"])
        ack = await client.replace(
            inputs["original_order_id"],
            "200",
            price=price(inputs["new_price"]),
            quantity=qty(inputs["new_quantity"]),
            **kw,
        )
    assert_body(sent(fake, "/orders/replace"), op)
    assert ack.accepted


async def test_replace_trigger_below_is_sent_as_price_below() -> None:
    """Unlike tpluspy 0.6.0, a below-trigger is signed and sent as PriceBelow."""
    op = OPS["replace_trigger_below_BUG"]
    inputs = op["inputs"]
    fake = SpecFake()
    seed_order(fake, inputs["original_order_id"])
    client, clock = await open_client(fake)
    async with client:
        clock.script(*op["clock_reads_ns"])
        await client.replace(
            inputs["original_order_id"],
            "200",
            price=price(inputs["new_price"]),
            quantity=qty(inputs["new_quantity"]),
            trigger_below=price(48000),
        )
    body = json.loads(sent(fake, "/orders/replace").content)
    correct = op["what_a_correct_client_would_sign"]
    assert signing.canonical_json(body["request"]) == correct
    assert signing.verify(body["signer"], correct.encode(), body["signature"])
    assert {k: v for k, v in body.items() if k not in ("request", "signature")} == {
        k: v
        for k, v in op["http_request"]["body_json"].items()
        if k not in ("request", "signature")
    }


async def test_replace_keeps_unchanged_terms_and_trigger_from_the_live_order() -> None:
    """A price-only replace restates the live lifetime quantity and the live trigger."""
    fake = SpecFake()
    seed_order(fake, "keep-me", limit=50000, quantity=1500)
    fake.orders["keep-me"]["trigger_below_price"] = "45000"
    client, clock = await open_client(fake)
    async with client:
        await client.replace("keep-me", "200", price=Decimal("499.5"))
    request = json.loads(sent(fake, "/orders/replace").content)["request"]
    assert request["new_price_limit"] == 49950 and request["new_quantity"] == 1500
    assert request["new_trigger"] == {"PriceBelow": {"price": 45000}}


async def test_amend_vector_uses_the_last_replace_as_revision() -> None:
    """After a replace at T0, amend sends expected_authorization_revision = T0 (and the fake agrees)."""
    op = OPS["amend_unsigned"]
    inputs = op["inputs"]
    fake = SpecFake()
    seed_order(fake, inputs["order_id"])
    client, clock = await open_client(fake)
    async with client:
        clock.script(T0, T0 + MS)
        await client.replace(inputs["order_id"], "200", price=Decimal("501"), quantity=Decimal(2))
        clock.script(*op["clock_reads_ns"])
        ack = await client.amend(inputs["order_id"], "200", qty(inputs["new_quantity"]))
    assert_body(sent(fake, "/orders/amend"), op)
    assert ack.accepted


async def test_amend_of_an_original_order_sends_null_revision() -> None:
    """An order still on its signed terms is amended with expected_authorization_revision null."""
    fake = SpecFake()
    seed_order(fake, "fresh")
    client, _ = await open_client(fake)
    async with client:
        ack = await client.amend("fresh", "200", Decimal("1"))
    body = json.loads(sent(fake, "/orders/amend").content)
    assert body["request"]["expected_authorization_revision"] is None and ack.accepted


async def test_batch_create_vector() -> None:
    """Two prepared creates go out as one {"orders": [...]} body."""
    op = OPS["batch_create"]
    [first, second] = op["http_request"]["body_json"]["orders"]
    fake = SpecFake()
    client, clock = await open_client(fake)
    async with client:
        clock.script(T0, T0 + MS, T0 + 10 * MS, T0 + 11 * MS)
        preps = [
            await client.prepare_limit(
                "200", "buy", Decimal("0.1"), Decimal("500"), order_id=first["order"]["order_id"]
            ),
            await client.prepare_limit(
                "200",
                "sell",
                Decimal("0.2"),
                Decimal("501"),
                post_only=True,
                order_id=second["order"]["order_id"],
            ),
        ]
        acks = await client.batch_create(preps)
    assert_body(sent(fake, "/orders/batch-create"), op)
    assert [a.order_id for a in acks] == [first["order"]["order_id"], second["order"]["order_id"]]


async def test_batch_replace_vector() -> None:
    """Two prepared replaces go out as one {"replaces": [...]} body."""
    op = OPS["batch_replace"]
    items = op["http_request"]["body_json"]["replaces"]
    fake = SpecFake()
    for item in items:
        seed_order(fake, item["request"]["order_id"])
    client, clock = await open_client(fake)
    async with client:
        preps: list[PreparedRequest] = []
        for i, item in enumerate(items):
            clock.script(T0 + 10 * i * MS, T0 + (10 * i + 1) * MS)
            request = item["request"]
            preps.append(
                await client.prepare_replace(
                    request["order_id"],
                    "200",
                    price=price(request["new_price_limit"]),
                    quantity=qty(request["new_quantity"]),
                )
            )
        acks = await client.batch_replace(preps)
    assert_body(sent(fake, "/orders/batch-replace"), op)
    assert all(a.accepted for a in acks)


async def test_transfer_vector() -> None:
    """1000 USDC (human) → "1000000000000000000000" inventory units, nonce = clock in ms."""
    op = OPS["sub_account_transfer"]
    fake = SpecFake()
    client, clock = await open_client(fake)
    async with client:
        clock.script(*op["clock_reads_ns"])
        reply = await client.transfer("0", Decimal("1000"), 0, 1)
    assert_body(sent(fake, "/account/transfer/sub-account"), op)
    assert reply == {"success": True}


async def test_close_position_vector() -> None:
    """close_position signs {user, account, asset_identifier, nonce} with the given nonce."""
    op = OPS["close_position"]
    fake = SpecFake()
    client, _ = await open_client(fake)
    async with client:
        reply = await client.close_position("200", 1, nonce=4242)
    assert_body(sent(fake, "/account/transfer/close-position"), op)
    assert reply == {"success": True}


async def test_transfer_nonces_increase_even_within_one_millisecond() -> None:
    """Two transfers in the same millisecond still get strictly increasing nonces."""
    fake = SpecFake()
    client, _ = await open_client(fake)
    async with client:
        await client.transfer("0", Decimal("1"), 0, 1)
        await client.transfer("0", Decimal("1"), 1, 0)
    nonces = [json.loads(r.content)["inner"]["nonce"] for r in fake.requests if r.method == "POST"]
    assert nonces == [T0 // MS, T0 // MS + 1]


async def test_venue_rejection_raises_rejected_with_the_order_id() -> None:
    """A duplicate id is refused by the venue: Rejected, with the code and our order id."""
    fake = SpecFake()
    seed_order(fake, "dup-id")
    client, _ = await open_client(fake)
    async with client:
        with pytest.raises(Rejected) as info:
            await client.place_limit("200", "buy", Decimal("1"), Decimal("500"), order_id="dup-id")
    assert info.value.code == "DUPLICATE_ORDER" and info.value.order_id == "dup-id"


async def test_unclassified_4xx_on_a_write_is_a_rejection() -> None:
    """INSUFFICIENT_BALANCE is a plain ClientError under §7.2, but on order entry it is Rejected."""
    fake = SpecFake()
    client, _ = await open_client(fake)
    fake.scripted.append(
        httpx.Response(400, json={"error": {"code": "INSUFFICIENT_BALANCE", "message": "poor"}})
    )
    async with client:
        with pytest.raises(Rejected) as info:
            await client.place_limit("200", "buy", Decimal("1"), Decimal("500"), order_id="x1")
    assert info.value.code == "INSUFFICIENT_BALANCE" and info.value.order_id == "x1"


async def test_stale_amend_revision_is_a_rejection() -> None:
    """The venue's 409 for a stale revision (someone else replaced the order) is Rejected."""
    fake = SpecFake()
    seed_order(fake, "raced")
    fake.revisions["raced"] = T0 - 5  # replaced elsewhere: we still believe it is original
    client, _ = await open_client(fake)
    async with client:
        with pytest.raises(Rejected) as info:
            await client.amend("raced", "200", Decimal("1"))
    assert info.value.status == 409 and info.value.order_id == "raced"
