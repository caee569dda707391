"""Basic streams (spec §8.1–8.3): handshake headers, URL rule, frame handling, one re-auth."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
from spec_fake import BASE, PK, SEED, T0, TOKEN, VECTORS, SpecFake

from tplus_cli.client import TplusClient
from tplus_cli.client.errors import AuthFailed, NotFound
from tplus_cli.client.transport import ws_origin, ws_url
from tplus_cli.client.ws import HandshakeRejected, StreamClosed, WsConnection

pytestmark = pytest.mark.anyio

WS = VECTORS["websocket"]


class FakeWs:
    """A WsConnect that records handshakes and plays scripted frames (no sockets)."""

    def __init__(self, frames: list[str], *, refuse: list[int] | None = None, clean: bool = True):
        self.frames = frames
        self.refuse = deque(refuse or [])
        self.clean = clean
        self.handshakes: list[tuple[str, dict[str, str]]] = []

    @asynccontextmanager
    async def __call__(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[WsConnection]:
        self.handshakes.append((url, dict(headers)))
        if self.refuse:
            status = self.refuse.popleft()
            code = "UNAUTHORIZED" if status in (401, 403) else "STREAM_NOT_FOUND"
            raise HandshakeRejected(
                status, json.dumps({"error": {"code": code, "message": "x"}}).encode()
            )
        yield _Conn(deque(self.frames), self.clean)


class _Conn:
    def __init__(self, frames: deque[str], clean: bool) -> None:
        self._frames = frames
        self._clean = clean

    async def recv(self) -> str:
        if self._frames:
            return self._frames.popleft()
        raise StreamClosed(self._clean)

    async def close(self) -> None:
        return None


def frames_for(name: str) -> list[str]:
    """Rebuild the wire frames of a websocket vector from tpluspy's parsed objects."""
    parsed = WS[name]["parsed"]
    out = []
    for item in parsed:
        if isinstance(item, list):
            out.append(json.dumps(item))
            continue
        fields = {k: v for k, v in item.items() if k not in ("__model__", "event_type")}
        if "event_type" in item:
            out.append(json.dumps({item["event_type"]: fields}))
        elif name == "stream_user_events":
            out.append(json.dumps({item["__model__"]: fields}))
        else:
            out.append(json.dumps(fields))
    return out


Helper = Callable[[TplusClient], AsyncIterator[Any]]
STREAMS: dict[str, tuple[Helper, bool]] = {
    "stream_orders": (lambda c: c.stream_orders(), True),
    "stream_user_trade_events": (lambda c: c.stream_user_trades(), True),
    "stream_user_finalized_trades": (lambda c: c.stream_user_trades(finalized=True), True),
    "stream_user_events": (lambda c: c.stream_account_events(), True),
    "stream_user_positions": (lambda c: c.stream_positions(), True),
    "stream_finalized_trades_anonymous": (lambda c: c.stream_trades(), False),
    "stream_depth_anonymous": (lambda c: c.stream_depth("200"), False),
    "stream_klines_anonymous": (lambda c: c.stream_klines("200"), False),
    "stream_ticker_anonymous": (lambda c: c.stream_ticker("200"), False),
    "stream_tickers_anonymous": (lambda c: c.stream_tickers(), False),
}


async def collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


@pytest.mark.parametrize("name", list(STREAMS))
async def test_stream_vectors(name: str) -> None:
    """Path, auth headers and Origin match the captured handshake; every frame parses."""
    helper, keyed = STREAMS[name]
    connect = FakeWs(frames_for(name))
    fake = SpecFake()
    async with TplusClient(
        "http://127.0.0.1:9",
        seed=SEED if keyed else None,
        transport=fake.transport(),
        ws_connect=connect,
        clock_ns=lambda: T0,
    ) as c:
        items = await collect(helper(c))
    [(url, headers)] = connect.handshakes
    expected = WS[name]["handshake"]
    assert url == "ws://127.0.0.1:9" + expected["path"]
    assert headers.get("Authorization") == expected["headers"].get("Authorization")
    assert headers.get("User-Id") == expected["headers"].get("User-Id")
    assert headers["Origin"] == "http://127.0.0.1:9"
    flat = [x for item in WS[name]["parsed"] for x in (item if isinstance(item, list) else [item])]
    assert len(items) == len(flat)


async def test_order_events_normalize_variants() -> None:
    """External tagging in any case/underscore spelling, and the legacy `type` form."""
    frames = [
        json.dumps({"Created": {"user_order": {"order_id": "a", "base_asset": "200"}}}),
        json.dumps({"create_failed": {"order_id": "b", "user_id": PK}}),
        json.dumps({"type": "removed", "order_id": "c", "asset_id": "200", "reason": "Canceled"}),
    ]
    async with TplusClient(
        BASE, seed=SEED, transport=SpecFake().transport(), ws_connect=FakeWs(frames)
    ) as c:
        events = await collect(c.stream_orders())
    assert [(e.kind, e.order_id, e.asset_id) for e in events] == [
        ("CREATED", "a", "200"),
        ("CREATEFAILED", "b", None),
        ("REMOVED", "c", "200"),
    ]


async def test_control_junk_and_unparsable_frames_are_skipped() -> None:
    """Heartbeats, non-JSON and rejected frames are skipped; the stream goes on (spec §8.2)."""
    trade = VECTORS["ws_parser_checks"]["Trade"]
    frames = [
        '{"type":"ping"}',
        '{"type":"subscriptions","paths":["/trades"]}',
        "not json",
        json.dumps({"asset_id": "200"}),  # a Trade without its required keys
        json.dumps(trade),
        '{"type":"pong"}',
    ]
    async with TplusClient(BASE, ws_connect=FakeWs(frames)) as c:
        raw = await collect(c.stream("/trades", auth=False))
        trades = await collect(c.stream_trades())
    assert len(raw) == 2  # the bad Trade is valid JSON, so the raw stream yields it
    assert [t.trade_id for t in trades] == [trade["trade_id"]]


async def test_abnormal_close_raises() -> None:
    """A dropped stream raises StreamClosed(clean=False) (retryable) instead of ending quietly."""
    async with TplusClient(BASE, ws_connect=FakeWs(['{"a":1}'], clean=False)) as c:
        with pytest.raises(StreamClosed) as info:
            await collect(c.stream("/trades", auth=False))
    assert not info.value.clean and info.value.retryable


async def test_handshake_401_reauths_once() -> None:
    """A 401 handshake: a fresh token, one reconnect; a second refusal raises AuthFailed."""
    fake = SpecFake()
    connect = FakeWs([], refuse=[401])
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), ws_connect=connect) as c:
        assert await collect(c.stream("/orders", auth=True)) == []
        assert [p for _, p in fake.seen()].count("/auth") == 2
        connect.refuse.extend([401, 403])
        with pytest.raises(AuthFailed):
            await collect(c.stream("/orders", auth=True))
    assert len(connect.handshakes) == 4


async def test_other_handshake_refusals_map_to_client_errors() -> None:
    """A 404 handshake is NotFound, not retried."""
    connect = FakeWs([], refuse=[404])
    async with TplusClient(BASE, ws_connect=connect) as c:
        with pytest.raises(NotFound):
            await collect(c.stream("/nope", auth=False))
    assert len(connect.handshakes) == 1


async def test_dialer_refreshes_the_token_on_request() -> None:
    """dialer(path)(refresh_auth=True) replaces the token before connecting (for stream.py)."""
    fake = SpecFake()
    connect = FakeWs(['{"x":1}'])
    async with TplusClient(BASE, seed=SEED, transport=fake.transport(), ws_connect=connect) as c:
        dial = c.dialer("/orders", auth=True)
        async with dial(False) as conn:
            assert await conn.recv() == '{"x":1}'
        async with dial(True):
            pass
    assert [p for _, p in fake.seen()].count("/auth") == 2
    assert connect.handshakes[0][1]["Authorization"] == f"Bearer {TOKEN}"


def test_url_rule() -> None:
    """https→wss, else ws; host:port kept; the base URL's path dropped (spec §1.3)."""
    assert ws_url("https://gw.test:8443/api/v1", "/orders") == "wss://gw.test:8443/orders"
    assert ws_url("http://127.0.0.1:8000/", "/trades") == "ws://127.0.0.1:8000/trades"
    assert ws_origin("https://gw.test:8443/api") == "https://gw.test:8443"


async def test_real_websocket_handshake_and_frames() -> None:
    """Over a real socket: headers as captured, control frames skipped, clean close ends."""
    from websockets.asyncio.server import ServerConnection, serve
    from websockets.http11 import Request, Response

    seen: list[tuple[str, dict[str, str]]] = []
    refusals = [401]

    def process_request(conn: ServerConnection, request: Request) -> Response | None:
        seen.append((request.path, dict(request.headers.raw_items())))
        if refusals:
            refusals.pop()
            return conn.respond(401, "stale token\n")
        return None

    async def handler(conn: ServerConnection) -> None:
        await conn.send('{"type":"ping"}')
        await conn.send("garbage")
        await conn.send(json.dumps(VECTORS["ws_parser_checks"]["UserTrade"]))
        await conn.close()

    async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        port = server.sockets[0].getsockname()[1]
        fake = SpecFake(prefix="/prefix")
        base = f"http://127.0.0.1:{port}/prefix"
        async with TplusClient(base, seed=SEED, transport=fake.transport()) as c:
            trades = await collect(c.stream_user_trades())
    assert [t.status for t in trades] == ["Pending"]
    assert [path for path, _ in seen] == [f"/trades/user/events/{PK}"] * 2
    headers = seen[-1][1]
    assert headers["Authorization"] == f"Bearer {TOKEN}" and headers["User-Id"] == PK
    assert headers["Origin"] == f"http://127.0.0.1:{port}"
    assert [p for _, p in fake.seen()].count("/prefix/auth") == 2  # REST keeps the prefix


class ForeignClosed(Exception):
    """A connector's own end-of-stream exception (the venue cannot import client code)."""

    def __init__(self, clean: bool) -> None:
        super().__init__("closed")
        self.clean = clean


class ForeignRefusal(Exception):
    """A connector's own handshake refusal."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class ForeignWs:
    """Like FakeWs, but raising exception types that are not ws.py's."""

    def __init__(self, *, refuse: int | None = None, clean: bool = True) -> None:
        self.refuse, self.clean = refuse, clean
        self.calls = 0

    @asynccontextmanager
    async def __call__(self, url: str, headers: Mapping[str, str]) -> AsyncIterator[WsConnection]:
        self.calls += 1
        if self.refuse is not None and self.calls == 1:
            raise ForeignRefusal(self.refuse, b'{"error":{"code":"UNAUTHORIZED","message":"x"}}')
        clean = self.clean

        class Conn:
            sent = False

            async def recv(self) -> str:
                if not self.sent:
                    self.sent = True
                    return '{"n":1}'
                raise ForeignClosed(clean)

            async def close(self) -> None:
                return None

        yield Conn()


async def test_connector_failures_are_recognized_by_shape() -> None:
    """Foreign close/refusal exceptions work like ws.py's: clean end, drop, one re-auth."""
    fake = SpecFake()
    async with TplusClient(
        BASE, seed=SEED, transport=fake.transport(), ws_connect=ForeignWs(refuse=401)
    ) as c:
        assert await collect(c.stream("/orders", auth=True)) == [{"n": 1}]
    assert [p for _, p in fake.seen()].count("/auth") == 2
    async with TplusClient(BASE, ws_connect=ForeignWs(clean=False)) as c:
        with pytest.raises(StreamClosed) as info:
            await collect(c.stream("/trades", auth=False))
    assert not info.value.clean
