"""The venue as a real server process on a loopback port: REST, WebSocket, ownership, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from service_helpers import SEED_A, ServerProcess
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from tplus_cli.client import signing
from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.embedded import EmbeddedVenue
from tplus_cli.venue.handlers import Venue
from tplus_cli.venue.owner import StoreOwnedError, current_owner, owner_path
from tplus_cli.venue.server import QUEUE_LIMIT, SNAPSHOT_MIN_NEW, Hub, is_loopback
from tplus_cli.venue.store import Store
from tplus_cli.venue.streams import Subscription

pytestmark = pytest.mark.slow
PK = signing.public_key_hex(SEED_A)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(tmp_path / "venue.sqlite3", "--no-simulate")
    yield srv
    srv.stop()


def _login(http: httpx.Client) -> dict[str, str]:
    nonce = http.get(f"/nonce/{PK}").json()["value"]
    sig = signing.sign(SEED_A, signing.auth_message(nonce))
    token = http.post("/auth", json=signing.auth_body(PK, nonce, signing.Signatures(sig, [])))
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['token']}", "User-Id": PK}


def _order_body(order_id: str, lots: int = 1_000) -> dict[str, object]:
    now = time.time_ns()
    order = signing.order_object(
        signer=PK,
        order_id=order_id,
        base_asset="2",
        price_decimals=1,
        quantity_decimals=5,
        details=signing.limit_details(600_000, lots),
        side="buy",
        creation_timestamp_ns=now,
    )
    return signing.create_body(order, signing.sign_object(order, master=SEED_A), now)


def test_rest_and_the_user_order_stream(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/health").json()["status"] == "ok"
        headers = _login(http)

        async def stream_one_order() -> dict[str, object]:
            ws_url = server.url.replace("http://", "ws://") + "/orders"
            async with websockets.connect(ws_url, additional_headers=headers) as ws:
                resp = await asyncio.to_thread(
                    http.post, "/orders/create", json=_order_body("srv-1"), headers=headers
                )
                assert resp.status_code == 200, resp.text
                frame: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), 10))
                return frame

        frame = asyncio.run(stream_one_order())
        assert frame["Created"]["user_order"]["order_id"] == "srv-1"  # type: ignore[index]
        rows = http.get(f"/orders/user/{PK}/2", headers=headers).json()
        assert [r["order_id"] for r in rows] == ["srv-1"]


def test_a_lull_after_a_burst_of_orders_brings_a_snapshot(server: ServerProcess) -> None:
    """Snapshots wait for order entry to pause (none stalls a burst) and then cover it all."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        headers = _login(http)
        for i in range(SNAPSHOT_MIN_NEW):
            resp = http.post("/orders/create", json=_order_body(f"b-{i}", 10), headers=headers)
            assert resp.status_code == 200, resp.text
    db = f"file:{server.db}?mode=ro"
    with contextlib.closing(sqlite3.connect(db, uri=True)) as conn:
        burst_end = conn.execute("SELECT MAX(seq) FROM journal").fetchone()[0]
        assert burst_end > SNAPSHOT_MIN_NEW
        deadline = time.monotonic() + 30  # a bound on waiting, not a speed assertion
        while time.monotonic() < deadline:
            snap = conn.execute("SELECT MAX(seq) FROM snapshots").fetchone()[0]
            if snap is not None and snap >= burst_end:
                break
            time.sleep(0.1)
        assert snap is not None and snap >= burst_end, (snap, burst_end)


def test_oversized_body_is_refused(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        resp = http.post("/orders/create", content=b"x" * (2 << 20))
        assert resp.status_code == 413
        assert resp.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_stream_handshake_with_a_bad_token_is_401(server: ServerProcess) -> None:
    async def attempt() -> int:
        ws_url = server.url.replace("http://", "ws://") + "/orders"
        headers = {"Authorization": "Bearer nope", "User-Id": PK}
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(ws_url, additional_headers=headers):
                pass
        return refused.value.response.status_code

    assert asyncio.run(attempt()) == 401


def test_owner_file_status_and_embedded_refusal(server: ServerProcess) -> None:
    owner = current_owner(server.db)
    assert owner is not None and (owner.pid, owner.port) == (server.proc.pid, server.port)
    with pytest.raises(StoreOwnedError, match=str(server.port)):
        EmbeddedVenue(server.db)
    import subprocess

    status = subprocess.run(
        [
            sys.executable,
            "-m",
            "tplus_cli.app",
            "venue",
            "status",
            "--db",
            str(server.db),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(status.stdout)["owner"]["port"] == server.port


def test_sigterm_shuts_down_cleanly_and_releases_the_store(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "venue.sqlite3", "--no-simulate")
    assert owner_path(srv.db).exists()
    assert srv.stop(signal.SIGTERM) == 0
    assert any("stopped" in line for line in srv.log)
    assert not owner_path(srv.db).exists()
    assert current_owner(srv.db) is None
    EmbeddedVenue(srv.db).close()


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "venue.sqlite3", "--no-simulate")
    assert srv.stop(signal.SIGINT) == 130


def test_a_second_server_on_the_same_store_is_refused(server: ServerProcess) -> None:
    with pytest.raises(RuntimeError, match="in use by `tplus venue serve`"):
        ServerProcess(server.db, "--no-simulate")


def test_loopback_detection() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def test_slow_consumer_is_dropped_not_buffered(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store(tmp_path / "venue.sqlite3")
        venue = Venue(store, StepClock(1_750_000_000_000_000_000), simulate=False)
        hub = Hub(venue)
        slow = hub.add(Subscription("/trades", ("t/*",)))
        with store.write():
            store.append(1, 1, {}, [("t/1", {"n": i}) for i in range(QUEUE_LIMIT + 5)])
        hub.pump()
        assert slow.dropped
        assert slow.queue.qsize() == 1 and slow.queue.get_nowait() is None
        store.close()

    asyncio.run(scenario())


def test_simulated_market_streams_public_frames(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "venue.sqlite3", "--seed", "7")
    try:

        async def first_frames() -> tuple[object, object]:
            base = srv.url.replace("http://", "ws://")
            async with (
                websockets.connect(base + "/marketdepth/diff/2") as depth,
                websockets.connect(base + "/tickers/ws") as tickers,
            ):
                d = json.loads(await asyncio.wait_for(depth.recv(), 15))
                t = json.loads(await asyncio.wait_for(tickers.recv(), 15))
                return d, t

        diff, batch = asyncio.run(first_frames())
        assert isinstance(diff, dict) and {"bids", "asks", "sequence_number"} <= set(diff)
        assert isinstance(batch, list) and batch and "asset_id" in batch[0]
        with httpx.Client(base_url=srv.url, timeout=10) as http:
            book = http.get("/marketdepth/2").json()
            assert book["bids"] and book["asks"]
    finally:
        assert srv.stop() == 0


def test_control_socket_orders_with_the_rest_handlers(server: ServerProcess) -> None:
    ws_url = server.url.replace("http://", "ws://") + "/control"
    with httpx.Client(base_url=server.url, timeout=10) as http:
        headers = _login(http)

    async def session() -> list[dict[str, object]]:
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(ws_url, subprotocols=[Subprotocol("tplus.ws.v1")]):
                pass
        assert refused.value.response.status_code == 401
        async with websockets.connect(
            ws_url,
            additional_headers=headers,
            subprotocols=[Subprotocol("tplus.ws.v1")],
        ) as ws:
            assert ws.subprotocol == "tplus.ws.v1"
            body = _order_body("ctl-1")
            await ws.send(json.dumps({"request_id": "r1", "data": {"CreateOrderRequest": body}}))
            await ws.send(json.dumps({"request_id": "r2", "data": {"CreateOrderRequest": body}}))
            await ws.send(json.dumps({"request_id": "r3", "data": {"Nope": {}}}))
            return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]

    ok, duplicate, unknown = asyncio.run(session())
    assert ok == {
        "request_id": "r1",
        "data": {
            "CreateOrderResponse": {
                "response": {
                    "order_id": "ctl-1",
                    "status": "Received",
                    "reason": None,
                    "processed_at_ns": ok["data"]["CreateOrderResponse"]["response"][
                        "processed_at_ns"
                    ],  # type: ignore[index]
                },
                "asset_id": "2",
            }
        },
    }
    assert duplicate["request_id"] == "r2"
    assert duplicate["error"]["code"] == "DUPLICATE_ORDER"  # type: ignore[index]
    assert unknown["error"]["code"] == "INVALID_REQUEST"  # type: ignore[index]
