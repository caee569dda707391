"""The embedded venue: httpx transport without sockets, streams that tail the store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from service_helpers import SEED_A, T0

from tplus_cli.client import signing
from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.embedded import (
    EmbeddedVenue,
    HandshakeRejected,
    StreamClosed,
    open_embedded,
    store_path,
)
from tplus_cli.venue.owner import OwnerLock, StoreOwnedError

PK = signing.public_key_hex(SEED_A)


async def _login(http: httpx.AsyncClient) -> dict[str, str]:
    nonce = (await http.get(f"/nonce/{PK}")).json()["value"]
    sig = signing.sign(SEED_A, signing.auth_message(nonce))
    body = signing.auth_body(PK, nonce, signing.Signatures(sig, []))
    token = (await http.post("/auth", json=body)).json()["token"]
    return {"Authorization": f"Bearer {token}", "User-Id": PK}


def _order(order_id: str, now: int, tif: dict[str, object] | None = None) -> dict[str, object]:
    order = signing.order_object(
        signer=PK,
        order_id=order_id,
        base_asset="2",
        price_decimals=1,
        quantity_decimals=5,
        details=signing.limit_details(600_000, 1_000, tif),
        side="buy",
        creation_timestamp_ns=now,
    )
    return signing.create_body(order, signing.sign_object(order, master=SEED_A), now)


def _venue(tmp_path: Path, clock: StepClock, simulate: bool = False) -> EmbeddedVenue:
    return open_embedded(tmp_path / "data", clock=clock, simulate=simulate)


def test_store_lives_in_the_data_dir(tmp_path: Path) -> None:
    with _venue(tmp_path, StepClock(T0)) as ev:
        assert ev.db_path == store_path(tmp_path / "data")
        assert ev.db_path == tmp_path / "data" / "venue" / "venue.sqlite3"
        assert ev.db_path.exists()


def test_transport_serves_the_full_auth_and_order_flow(tmp_path: Path) -> None:
    clock = StepClock(T0)

    async def scenario() -> None:
        with _venue(tmp_path, clock) as ev:
            async with httpx.AsyncClient(transport=ev.transport(), base_url="http://venue") as http:
                markets = (await http.get("/markets", params={"include_symbol_map": "true"})).json()
                assert markets["symbol_map"]["2"]["symbol"] == "BTC"
                headers = await _login(http)
                resp = await http.post("/orders/create", json=_order("emb-1", T0), headers=headers)
                assert resp.status_code == 200 and resp.json()["status"] == "Received"
                rows = (await http.get(f"/orders/user/{PK}/2", headers=headers)).json()
                assert [r["order_id"] for r in rows] == ["emb-1"]
                resp = await http.request(
                    "DELETE", "/orders/cancel", content=b"{}", headers=headers
                )
                assert resp.status_code == 400
                assert resp.json()["error"]["code"] == "INVALID_ORDER_FORMAT"

    asyncio.run(scenario())


def test_a_stream_sees_orders_placed_through_another_store_connection(tmp_path: Path) -> None:
    clock = StepClock(T0)

    async def scenario() -> None:
        with _venue(tmp_path, clock) as reader, _venue(tmp_path, clock) as writer:
            async with httpx.AsyncClient(transport=writer.transport(), base_url="http://w") as http:
                headers = await _login(http)
                async with reader.ws_connect("ws://venue/orders", headers) as conn:
                    resp = await http.post(
                        "/orders/create", json=_order("seen-1", T0), headers=headers
                    )
                    assert resp.status_code == 200
                    frame = json.loads(await asyncio.wait_for(conn.recv(), 10))
                    assert frame["Created"]["user_order"]["order_id"] == "seen-1"
                    await conn.close()
                    with pytest.raises(StreamClosed) as closed:
                        await conn.recv()
                    assert closed.value.clean

    asyncio.run(scenario())


def test_stream_handshake_refusal_carries_the_status(tmp_path: Path) -> None:
    async def scenario() -> None:
        with _venue(tmp_path, StepClock(T0)) as ev:
            with pytest.raises(HandshakeRejected) as refused:
                async with ev.ws_connect("ws://venue/orders", {"Authorization": "Bearer x"}):
                    pass
            assert refused.value.status == 401

    asyncio.run(scenario())


def test_public_stream_needs_no_auth(tmp_path: Path) -> None:
    async def scenario() -> None:
        with _venue(tmp_path, StepClock(T0)) as ev:
            async with ev.ws_connect("ws://venue/marketdepth/diff/2", {}) as conn:
                assert conn.sub.channels == ("depth/2",)

    asyncio.run(scenario())


def test_time_moves_on_use_so_gtd_orders_expire(tmp_path: Path) -> None:
    clock = StepClock(T0)

    async def scenario() -> None:
        with _venue(tmp_path, clock, simulate=True) as ev:
            async with httpx.AsyncClient(transport=ev.transport(), base_url="http://venue") as http:
                headers = await _login(http)
                gtd = signing.tif_gtd(False, T0 + 10**9)
                resp = await http.post(
                    "/orders/create", json=_order("gtd", T0, gtd), headers=headers
                )
                assert resp.status_code == 200
                clock.advance(2 * 10**9)
                rows = (
                    await http.get(
                        f"/orders/user/{PK}/2", params={"open_only": "true"}, headers=headers
                    )
                ).json()
                assert rows == []

    asyncio.run(scenario())


def test_a_served_store_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = store_path(tmp_path / "data")
    lock = OwnerLock(db)
    lock.publish("127.0.0.1", 8123)
    try:
        with pytest.raises(StoreOwnedError, match=r"http://127\.0\.0\.1:8123"):
            _venue(tmp_path, StepClock(T0))
    finally:
        lock.release()
    _venue(tmp_path, StepClock(T0)).close()


def test_simulated_books_are_never_empty_nor_frozen_and_catch_up_is_bounded(
    tmp_path: Path,
) -> None:
    clock = StepClock(T0)

    async def scenario() -> None:
        with _venue(tmp_path, clock, simulate=True) as ev:
            async with httpx.AsyncClient(transport=ev.transport(), base_url="http://venue") as http:
                first = (await http.get("/marketdepth/2")).json()
                assert first["bids"] and first["asks"]
                clock.advance(10 * 10**9)
                later = (await http.get("/marketdepth/2")).json()
                assert later["sequence_number"] > first["sequence_number"]
                before = ev.store.last_seq()
                clock.advance(3 * 3600 * 10**9)  # hours away: one bounded catch-up step
                assert (await http.get("/marketdepth/2")).json()["asks"]
                assert 0 < ev.store.last_seq() - before < 1_000

    asyncio.run(scenario())


def test_two_embedded_processes_never_simulate_the_same_step_twice(tmp_path: Path) -> None:
    clock = StepClock(T0)
    with (
        _venue(tmp_path, clock, simulate=True) as one,
        _venue(tmp_path, clock, simulate=True) as two,
    ):
        assert one.venue.tick()
        assert not two.venue.tick()  # the same instant: already ticked by the other process
        clock.advance(300_000_000)
        assert two.venue.tick() and not one.venue.tick()
        ticks = [r for r in one.store.journal_after(0) if r.command["type"] == "Tick"]
        assert len(ticks) == 2
