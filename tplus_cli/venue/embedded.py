"""The venue in-process: an httpx transport calling `Venue.handle` (no sockets, no ports) and a
WebSocket stand-in that tails the store's events table, so a stream in one process sees orders
placed from another.

The store lives at `<data_dir>/venue/venue.sqlite3`. If a `tplus venue serve` process owns
that store, `open_embedded` refuses with `StoreOwnedError` (a clear message naming the
server's URL) instead of writing behind the server's back; the caller should talk to the
server. Several embedded users of one store are fine: writes serialize in SQLite and every
request first replays what other processes committed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tplus_cli.venue.clock import Clock, SystemClock
from tplus_cli.venue.handlers import Venue
from tplus_cli.venue.owner import StoreOwnedError, current_owner
from tplus_cli.venue.protocol import ApiRequest, ApiResponse
from tplus_cli.venue.store import Store
from tplus_cli.venue.streams import Subscription

POLL_INTERVAL_S = 0.05  # how often an embedded stream looks for new events


def store_path(data_dir: Path) -> Path:
    """Where the embedded venue keeps its SQLite store inside the tplus data dir."""
    return Path(data_dir) / "venue" / "venue.sqlite3"


class StreamClosed(Exception):
    """The embedded stream ended: `clean` when closed by either side on purpose."""

    def __init__(self, clean: bool, reason: str = "") -> None:
        super().__init__(reason or ("stream closed" if clean else "stream failed"))
        self.clean = clean


class HandshakeRejected(Exception):
    """The venue refused a stream handshake; `status` is the HTTP status (401, 403, 404)."""

    def __init__(self, response: ApiResponse) -> None:
        body = response.json()
        err = body.get("error", {}) if isinstance(body, dict) else {}
        message = err.get("message", "") if isinstance(err, dict) else ""
        super().__init__(f"stream handshake rejected with HTTP {response.status}: {message}")
        self.status = response.status
        self.status_code = response.status
        self.body = response.body


class _VenueTransport(httpx.AsyncBaseTransport):
    """httpx transport that answers every request from `Venue.handle` in this process."""

    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        req = ApiRequest(
            method=request.method,
            path=request.url.path,
            query=dict(request.url.params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        resp = self._venue.handle(req)
        return httpx.Response(
            resp.status, headers=dict(resp.headers), content=resp.body, request=request
        )


@dataclass
class EmbeddedConnection:
    """One embedded stream: polls the events table past its cursor and yields text frames."""

    venue: Venue
    sub: Subscription
    cursor: int
    _pending: deque[str] = field(default_factory=deque)
    _closed: bool = False

    async def recv(self) -> str:
        """The next frame; raises StreamClosed(clean=True) after close()."""
        while not self._pending:
            if self._closed:
                raise StreamClosed(True)
            self.venue.tick()
            rows = self.venue.store.events_after(self.cursor, self.sub.channels, limit=500)
            for row in rows:
                self.cursor = row.id
                frame = self.sub.frame(row.payload)
                if frame is not None:
                    self._pending.append(frame)
            if not self._pending:
                await asyncio.sleep(POLL_INTERVAL_S)
        return self._pending.popleft()

    async def close(self) -> None:
        """Stop the stream; a pending or later recv() raises StreamClosed(clean=True)."""
        self._closed = True
        self._pending.clear()


class EmbeddedVenue:
    """A Venue on a local store plus the two seams the client takes: transport and ws_connect."""

    def __init__(self, db_path: Path, *, clock: Clock | None = None, simulate: bool = True) -> None:
        owner = current_owner(db_path)
        if owner is not None:
            raise StoreOwnedError(db_path, owner)
        self.db_path = db_path
        self.store = Store(db_path)
        self.venue = Venue(self.store, clock or SystemClock(), simulate=simulate)

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport serving requests in-process (give it to TplusClient)."""
        return _VenueTransport(self.venue)

    def ws_connect(
        self, url: str, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[EmbeddedConnection]:
        """WsConnect: authenticate the handshake like the server would, then tail the store."""
        return _connect(self.venue, url, headers)

    def handle(self, req: ApiRequest) -> ApiResponse:
        """Answer one request directly (tests and scripts)."""
        return self.venue.handle(req)

    def close(self) -> None:
        """Close the store connection (the journal is already committed)."""
        self.store.close()

    def __enter__(self) -> EmbeddedVenue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@asynccontextmanager
async def _connect(
    venue: Venue, url: str, headers: Mapping[str, str]
) -> AsyncIterator[EmbeddedConnection]:
    path = urlsplit(url).path or url
    opened = venue.open_stream(path, {k.lower(): v for k, v in headers.items()})
    if isinstance(opened, ApiResponse):
        raise HandshakeRejected(opened)
    conn = EmbeddedConnection(venue, opened, venue.last_event_id())
    try:
        yield conn
    finally:
        await conn.close()


def open_embedded(
    data_dir: Path, *, clock: Clock | None = None, simulate: bool = True
) -> EmbeddedVenue:
    """Open (creating if needed) the embedded venue of a tplus data dir."""
    return EmbeddedVenue(store_path(data_dir), clock=clock, simulate=simulate)
