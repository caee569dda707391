"""`tplus venue serve`: the venue over HTTP + WebSocket on one loopback port (starlette + uvicorn).

One process owns the store while it serves (flock + owner file, see owner.py). Requests run
`Venue.handle` on the event loop thread: each is a short synchronous SQLite transaction, so
no thread pool is involved and writes are naturally serialized. Committed events reach
WebSocket subscribers through a Hub that tails the store's events table, so writes made by
any process are broadcast. Every subscriber has a bounded queue; one that falls behind is
disconnected (close code 1013) instead of buffering without limit.

Run as `python -m tplus_cli.venue.server --port 0` to get an ephemeral port; the bound
address is printed on stderr as `tplus venue listening on http://HOST:PORT`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from tplus_cli.venue.clock import SystemClock
from tplus_cli.venue.control import CONTROL_PATH, SUBPROTOCOL, handle_frame
from tplus_cli.venue.handlers import Venue
from tplus_cli.venue.owner import OwnerLock
from tplus_cli.venue.protocol import ApiError, ApiRequest, ApiResponse
from tplus_cli.venue.store import Store
from tplus_cli.venue.streams import Subscription

log = logging.getLogger("tplus.venue")

QUEUE_LIMIT = 1024  # frames buffered per subscriber before it counts as a slow consumer
PUMP_INTERVAL_S = 0.1  # how often foreign writes are looked for when nothing happens here
TICK_INTERVAL_S = 0.25  # simulator cadence
SLOW_CONSUMER_CLOSE = 1013  # "try again later"
GRACEFUL_SHUTDOWN_S = 5  # then open connections are closed: a stuck client never blocks exit
MAX_BODY_BYTES = 1 << 20  # a batch of 50 signed orders is ~60 KB
SNAPSHOT_IDLE_S = 1.0  # snapshot once order entry has been quiet this long ...
SNAPSHOT_MIN_NEW = 1000  # ... and at least this many commands are newer than the last one
SNAPSHOT_MAX_NEW = 20_000  # under unbroken load, snapshot inline anyway: replay at start <~1.5 s
SNAPSHOT_RETRY_S = 60.0  # after a failed lull snapshot (disk full?), wait before trying again


@dataclass(eq=False)
class Subscriber:
    """One open WebSocket: its subscription, first visible event id and bounded queue."""

    sub: Subscription
    after_id: int
    queue: asyncio.Queue[str | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_LIMIT)
    )
    dropped: bool = False


class Hub:
    """Fans committed events out to subscribers; wakes after local writes and periodically."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.subscribers: set[Subscriber] = set()
        self.cursor = venue.last_event_id()
        self._wake = asyncio.Event()

    def add(self, sub: Subscription) -> Subscriber:
        """Register a subscriber that sees events committed from now on."""
        if self.subscribers:
            self.pump()
        else:
            self.cursor = self.venue.last_event_id()
        s = Subscriber(sub, self.cursor)
        self.subscribers.add(s)
        return s

    def remove(self, s: Subscriber) -> None:
        """Forget a subscriber (idempotent)."""
        self.subscribers.discard(s)

    def notify(self) -> None:
        """Ask the pump task to run soon (after a local write)."""
        self._wake.set()

    def pump(self) -> None:
        """Deliver every committed event past the cursor to matching subscribers (nothing to do,
        and no query, while nobody listens: `add` moves the cursor to the head)."""
        if not self.subscribers:
            return
        while True:
            rows = self.venue.store.events_after(self.cursor, limit=1000)
            for row in rows:
                for s in list(self.subscribers):
                    if row.id <= s.after_id or s.dropped or not s.sub.matches(row.channel):
                        continue
                    frame = s.sub.frame(row.payload)
                    if frame is None:
                        continue
                    try:
                        s.queue.put_nowait(frame)
                    except asyncio.QueueFull:
                        self._drop(s)
                self.cursor = row.id
            if len(rows) < 1000:
                return

    def _drop(self, s: Subscriber) -> None:
        """Disconnect a slow consumer: clear its backlog and queue the close marker."""
        s.dropped = True
        while not s.queue.empty():
            s.queue.get_nowait()
        s.queue.put_nowait(None)
        log.warning("dropping slow stream consumer on %s", s.sub.path)

    async def run(self) -> None:
        """The pump task: runs after local writes and every PUMP_INTERVAL_S."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), PUMP_INTERVAL_S)
            self._wake.clear()
            self.pump()


class GroupCommit:
    """Order-entry requests that arrive in the same event-loop turn share one SQLite commit.

    Each request waits on a future; the first one schedules a flush for the next turn, by
    which time every request parsed in this turn has queued too. The flush runs them through
    `Venue.handle_group` (one SAVEPOINT each, one COMMIT) and only then resolves the futures,
    so no response leaves before its command is committed.
    """

    def __init__(self, venue: Venue, on_commit: Callable[[], None]) -> None:
        self.venue = venue
        self.on_commit = on_commit
        self.last_flush = 0.0  # time.monotonic() of the last group commit
        self._pending: list[tuple[ApiRequest, asyncio.Future[ApiResponse]]] = []

    def submit(self, req: ApiRequest) -> asyncio.Future[ApiResponse]:
        """Queue one command request; the future resolves after its group committed."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[ApiResponse] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((req, fut))
        return fut

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        responses = self.venue.handle_group([req for req, _ in batch])
        for (_, fut), resp in zip(batch, responses, strict=True):
            if not fut.done():
                fut.set_result(resp)
        self.last_flush = time.monotonic()
        self.on_commit()


def _to_response(resp: ApiResponse) -> Response:
    return Response(resp.body, status_code=resp.status, headers=dict(resp.headers))


def build_app(venue: Venue) -> ASGIApp:
    """The ASGI app: every HTTP path goes to `venue.handle`, every WS path to `venue.open_stream`."""
    hub_box: list[Hub] = []

    def notify() -> None:
        if hub_box:
            hub_box[0].notify()

    group = GroupCommit(venue, notify)

    async def http_endpoint(request: Request) -> Response:
        buf = bytearray()
        async for chunk in request.stream():
            buf += chunk
            if len(buf) > MAX_BODY_BYTES:
                too_big = ApiError(413, "PAYLOAD_TOO_LARGE", "request body over 1 MiB")
                return _to_response(too_big.response())
        body = bytes(buf)
        req = ApiRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        if venue.is_command(req.method, req.path):
            return _to_response(await group.submit(req))
        resp = venue.handle(req)
        if req.method != "GET":
            notify()
        return _to_response(resp)

    async def ws_endpoint(websocket: WebSocket) -> None:
        headers = {k.lower(): v for k, v in websocket.headers.items()}
        if websocket.url.path.rstrip("/") == CONTROL_PATH:
            await _control(websocket, venue, headers, hub_box[0])
            return
        opened = venue.open_stream(websocket.url.path, headers)
        if isinstance(opened, ApiResponse):
            await websocket.send_denial_response(_to_response(opened))
            return
        await websocket.accept()
        hub = hub_box[0]
        s = hub.add(opened)
        receiver = asyncio.ensure_future(_drain(websocket))
        try:
            while True:
                getter = asyncio.ensure_future(s.queue.get())
                done, _ = await asyncio.wait(
                    {getter, receiver}, return_when=asyncio.FIRST_COMPLETED
                )
                if receiver in done:
                    getter.cancel()
                    return
                frame = getter.result()
                if frame is None:
                    await websocket.close(SLOW_CONSUMER_CLOSE, "slow consumer")
                    return
                await websocket.send_text(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        finally:
            hub.remove(s)
            receiver.cancel()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        hub = Hub(venue)
        hub_box.append(hub)
        tasks = [asyncio.create_task(hub.run()), asyncio.create_task(_ticker(venue, hub, group))]
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    starlette_app = Starlette(
        routes=[
            Route("/{path:path}", http_endpoint, methods=methods),
            WebSocketRoute("/{path:path}", ws_endpoint),
        ],
        lifespan=lifespan,
    )
    lean = frozenset(methods)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        """REST straight from the ASGI scope (the hot path: no Request/Response objects, no
        middleware stack); WebSockets, lifespan and other methods (HEAD, OPTIONS) go through
        Starlette exactly as before."""
        if scope["type"] != "http" or scope["method"] not in lean:
            await starlette_app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:
                too_big = ApiError(413, "PAYLOAD_TOO_LARGE", "request body over 1 MiB")
                await _send(send, too_big.response())
                return
        req = ApiRequest(
            method=scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=body,
        )
        if venue.is_command(req.method, req.path):
            await _send(send, await group.submit(req))
            return
        resp = venue.handle(req)
        if req.method != "GET":
            notify()
        await _send(send, resp)

    return app


async def _send(send: Send, resp: ApiResponse) -> None:
    """Write an ApiResponse as ASGI messages (headers as Starlette's Response would set them)."""
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers.items()]
    if not any(k == b"content-length" for k, _ in headers) and not (
        resp.status < 200 or resp.status in (204, 304)
    ):
        headers.append((b"content-length", str(len(resp.body)).encode("latin-1")))
    await send({"type": "http.response.start", "status": resp.status, "headers": headers})
    await send({"type": "http.response.body", "body": resp.body})


async def _control(websocket: WebSocket, venue: Venue, headers: dict[str, str], hub: Hub) -> None:
    """The /control order-entry socket: authenticated handshake, then request → responses."""
    try:
        venue.auth.user(headers)
    except ApiError as exc:
        await websocket.send_denial_response(_to_response(exc.response()))
        return
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    try:
        while True:
            text = await websocket.receive_text()
            for frame in handle_frame(venue, headers, text):
                await websocket.send_text(frame)
            hub.notify()
    except (WebSocketDisconnect, RuntimeError, OSError):
        return


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) client messages until the client disconnects."""
    while True:
        msg = await websocket.receive()
        if msg["type"] == "websocket.disconnect":
            return


async def _ticker(venue: Venue, hub: Hub, group: GroupCommit) -> None:
    """Let venue time pass every TICK_INTERVAL_S (GTD expiry, and the simulator when on), and
    snapshot in lulls of order entry, so a snapshot (~150 ms with thousands of resting
    orders) stalls no burst of orders."""
    retry_snapshot_at = 0.0
    while True:
        await asyncio.sleep(TICK_INTERVAL_S)
        try:
            if venue.tick():
                hub.notify()
        except Exception:  # keep serving; the store rolled back and the replica reloaded
            log.exception("simulator tick failed")
        now = time.monotonic()
        quiet = now - group.last_flush >= SNAPSHOT_IDLE_S and now >= retry_snapshot_at
        if quiet and venue.replica.unsnapshotted >= SNAPSHOT_MIN_NEW and not venue.snapshot():
            retry_snapshot_at = now + SNAPSHOT_RETRY_S  # one logged failure a minute, not 4/s


class _Server(uvicorn.Server):
    """uvicorn.Server stopped by our own SIGINT/SIGTERM handlers, installed before we announce
    the address (so an early signal is never fatal) and never re-raised after shutdown."""

    received: int | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # run() installs the handlers itself

    def on_signal(self, sig: int) -> None:
        self.received = sig
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True


def is_loopback(host: str) -> bool:
    """Whether `host` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves so port 0 resolves before we announce it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP, and without it h11's separate header/body writes stall on delayed ACKs (~40 ms).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def run(
    host: str, port: int, db_path: Path, *, simulate: bool = True, seed: int | None = None
) -> int:
    """Serve until SIGINT/SIGTERM; returns the process exit code (0, or 130 after Ctrl-C)."""
    if not is_loopback(host):
        sys.stderr.write(
            f"WARNING: binding {host} exposes the paper venue (and its free accounts) to the "
            "network. Use --host 127.0.0.1 unless you really mean it.\n"
        )
    lock = OwnerLock(db_path)  # raises StoreOwnedError if another server owns the store
    store = Store(db_path)
    try:
        venue = Venue(
            store, SystemClock(), simulate=simulate, seed=seed, snapshot_every=SNAPSHOT_MAX_NEW
        )
        sock = _bind(host, port)
        bound_host, bound_port = sock.getsockname()[:2]
        lock.publish(bound_host, bound_port)
        config = uvicorn.Config(
            build_app(venue),
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws_max_size=1 << 20,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        server = _Server(config)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.on_signal, sig)
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        sys.stderr.write(
            f"tplus venue listening on http://{url_host}:{bound_port} (store {db_path}, "
            f"simulator {'on' if simulate else 'off'})\n"
        )
        sys.stderr.flush()
        try:
            await server.serve(sockets=[sock])
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        venue.snapshot()
        sys.stderr.write("tplus venue stopped\n")
        return 130 if server.received == signal.SIGINT else 0
    finally:
        store.close()
        lock.release()


def serve(
    host: str, port: int, db_path: Path, simulate: bool = True, seed: int | None = None
) -> int:
    """Blocking entry point used by `tplus venue serve`; returns the exit code."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    return asyncio.run(run(host, port, db_path, simulate=simulate, seed=seed))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tplus_cli.venue.server`: the same server without the CLI layer."""
    parser = argparse.ArgumentParser(prog="python -m tplus_cli.venue.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--no-simulate", action="store_true")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    return serve(args.host, args.port, args.db, not args.no_simulate, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
