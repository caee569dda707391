"""Basic WebSocket streams (spec §8.1–8.3): one connection, parsed frames, no reconnection.

The WsConnect seam lets the embedded venue (or a test) replace the network: it is any
callable `(url, headers) -> async context manager yielding a WsConnection`. Failures are
recognized structurally, so a connector need not import this module (the venue may not):

* a refused upgrade is any exception with an int `status` and bytes `body`
  (e.g. `HandshakeRejected` below); it becomes the ClientError its status maps to;
* the end of a stream is any exception from `recv()` with a bool `clean`
  (e.g. `StreamClosed` below): clean ends the iteration, unclean raises StreamClosed.

Reconnection and resync live one layer up (client/stream.py, via TplusClient.dialer).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from tplus_cli.client.errors import ClientError, Unavailable, error_from_response
from tplus_cli.client.transport import ws_origin, ws_url

T = TypeVar("T")
MAX_FRAME_BYTES = 1 << 20  # 1 MiB, the websockets default tpluspy runs with
CONTROL_TYPES = frozenset({"subscriptions", "ping", "pong"})


class StreamClosed(Unavailable):
    """The stream ended: `clean` for a normal close (1000/1001), else an abnormal drop."""

    def __init__(self, clean: bool, message: str = "") -> None:
        super().__init__(
            message or ("stream closed" if clean else "stream dropped"), retryable=not clean
        )
        self.clean = clean


class HandshakeRejected(Exception):
    """The server answered the upgrade with an HTTP status instead of 101."""

    def __init__(self, status: int, body: bytes = b"") -> None:
        super().__init__(f"WebSocket handshake rejected with HTTP {status}")
        self.status = status
        self.body = body


class WsConnection(Protocol):
    """What a stream needs from an open WebSocket."""

    async def recv(self) -> str:
        """The next text frame; raises StreamClosed when the stream ends."""
        ...

    async def close(self) -> None:
        """Close politely."""
        ...


WsConnect = Callable[[str, Mapping[str, str]], AbstractAsyncContextManager[WsConnection]]
HeaderSource = Callable[[str | None], Awaitable[dict[str, str]]]

origin_of = ws_origin
url_of = ws_url


class _WebsocketsConnection:
    """Adapts a `websockets` asyncio connection to WsConnection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def recv(self) -> str:
        import websockets

        try:
            message = await self._conn.recv()
        except websockets.ConnectionClosedOK:
            raise StreamClosed(True) from None
        except websockets.ConnectionClosed as exc:
            raise StreamClosed(False, f"stream dropped: {exc}") from None
        return message if isinstance(message, str) else bytes(message).decode("utf-8", "replace")

    async def close(self) -> None:
        await self._conn.close()


@asynccontextmanager
async def websockets_connect(url: str, headers: Mapping[str, str]) -> AsyncIterator[WsConnection]:
    """Default connector on `websockets` (asyncio client, 1 MiB frames, Origin as its own field)."""
    import websockets
    from websockets.asyncio.client import connect

    extra = {k: v for k, v in headers.items() if k.lower() != "origin"}
    origin = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    try:
        conn = await connect(
            url,
            additional_headers=extra,
            origin=origin,  # type: ignore[arg-type]
            max_size=MAX_FRAME_BYTES,
            open_timeout=10,
        )
    except websockets.InvalidStatus as exc:
        raise HandshakeRejected(exc.response.status_code, bytes(exc.response.body or b"")) from None
    except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
        raise Unavailable(f"cannot open stream {url}: {exc}") from None
    try:
        yield _WebsocketsConnection(conn)
    finally:
        await conn.close()


@asynccontextmanager
async def open_stream(
    connect: WsConnect, url: str, headers: Mapping[str, str]
) -> AsyncIterator[WsConnection]:
    """One connection; a refused handshake becomes the ClientError its status maps to (§7.2)."""
    cm = connect(url, headers)
    try:
        conn = await cm.__aenter__()
    except Exception as exc:
        refusal = _refusal(exc)
        if refusal is None:
            raise
        raise error_from_response(*refusal) from None
    try:
        yield conn
    except BaseException as exc:
        if not await cm.__aexit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        await cm.__aexit__(None, None, None)


def _refusal(exc: BaseException) -> tuple[int, bytes] | None:
    """(status, body) of a refused handshake, recognized by shape (see the module docstring)."""
    status, body = getattr(exc, "status", None), getattr(exc, "body", b"")
    if isinstance(exc, ClientError) or not isinstance(status, int) or isinstance(status, bool):
        return None
    return status, body if isinstance(body, bytes) else str(body or "").encode()


def decode_frame(text: str) -> Any | None:
    """A frame's JSON (decimals exact), or None for junk and control/heartbeat frames."""
    try:
        value = json.loads(text, parse_float=Decimal)
    except ValueError:
        return None
    if isinstance(value, dict) and value.get("type") in CONTROL_TYPES:
        return None
    return value


async def frames(
    connect: WsConnect, url: str, headers: HeaderSource, *, authenticated: bool
) -> AsyncIterator[Any]:
    """Yield decoded frames until a clean close; a 401/403 handshake gets one re-auth and retry."""
    rejected: str | None = None
    for attempt in range(2):
        sent = await headers(rejected)
        try:
            async with open_stream(connect, url, sent) as conn:
                while True:
                    try:
                        text = await conn.recv()
                    except Exception as exc:
                        clean = getattr(exc, "clean", None)
                        if not isinstance(clean, bool):
                            raise
                        if clean:
                            return
                        if isinstance(exc, StreamClosed):
                            raise
                        raise StreamClosed(False, str(exc)) from exc
                    value = decode_frame(text)
                    if value is not None:
                        yield value
        except ClientError as exc:
            token = sent.get("Authorization", "").removeprefix("Bearer ")
            if exc.status in (401, 403) and attempt == 0 and (token or authenticated):
                rejected = token or None
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover


async def parsed(source: AsyncIterator[Any], parse: Callable[[Any], T]) -> AsyncIterator[T]:
    """Apply `parse` to each frame, skipping frames it rejects (the stream goes on, spec §8.2)."""
    async for frame in source:
        try:
            item = parse(frame)
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        yield item
