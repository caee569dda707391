"""Streams that never silently die: reconnect, re-authenticate, detect staleness, report it all.

`ResilientStream` wraps a dialer (one WebSocket connection per call) in a reconnect loop:

* jittered exponential backoff, 0.5 s doubling to a 30 s cap, reset once a connection has
  stayed up for a healthy period;
* a handshake refused with 401/403 triggers one immediate re-authentication and redial
  (spec §8.1); refused again, the stream fails with `AuthFailed`;
* no frame (data or heartbeat) for `stale_after` seconds while waiting counts as a dead
  connection and forces a reconnect (off by default: a quiet stream is not a dead one unless
  the server sends heartbeats; dead TCP peers are caught by protocol pings anyway);
* lifecycle changes are yielded in-band as `StreamStatus` items, in order with the data;
* after `max_retries` consecutive failed attempts the stream raises `StreamGaveUp`.

Sleep, clock and randomness are injected so tests run in virtual time with no real sleeps.
Frames are parsed with `parse_float=Decimal`; control frames (`{"type": "ping"|"pong"|
"subscriptions"}`) and non-JSON frames are skipped as spec §8.2 says.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar

from tplus_cli.client.errors import AuthFailed, ClientError, Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

State = Literal["connected", "disconnected", "reconnecting", "resyncing", "resynced", "gave_up"]
CONTROL_TYPES = frozenset({"subscriptions", "ping", "pong"})


class Connection(Protocol):
    """What the stream needs from one WebSocket connection (the client's WsConnection)."""

    async def recv(self) -> str: ...

    async def close(self) -> None: ...


Dial = Callable[[bool], AbstractAsyncContextManager[Connection]]
"""Open one connection; the argument asks for fresh authentication first (after a 401/403)."""


class StreamGaveUp(Unavailable):
    """The stream could not (re)connect within `max_retries` consecutive attempts."""

    def __init__(self, stream: str, attempts: int, last_error: str) -> None:
        super().__init__(
            f"stream {stream}: gave up after {attempts} failed attempts (last: {last_error})",
            code="STREAM_GAVE_UP",
            retryable=False,
        )
        self.stream = stream
        self.attempts = attempts
        self.last_error = last_error


@dataclass(frozen=True, slots=True)
class Backoff:
    """Reconnect delays: `base` doubling to `cap`, equal jitter, reset after `healthy_after` up."""

    base: float = 0.5
    cap: float = 30.0
    healthy_after: float = 30.0

    def delay(self, attempt: int, rng: Callable[[], float]) -> float:
        """Seconds before reconnect attempt `attempt` (1-based): in [ceiling/2, ceiling]."""
        ceiling = min(self.cap, self.base * 2.0 ** min(attempt - 1, 64))
        return ceiling * (0.5 + 0.5 * rng())


@dataclass(frozen=True, slots=True)
class StreamStatus:
    """A lifecycle change of a stream, yielded in order with its data frames."""

    stream: str
    state: State
    attempt: int = 0
    delay: float | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (delay as a string of seconds so no float leaks into output)."""
        out: dict[str, Any] = {"stream": self.stream, "state": self.state, "attempt": self.attempt}
        if self.delay is not None:
            out["delay_s"] = f"{self.delay:.3f}"
        if self.reason is not None:
            out["reason"] = self.reason
        return out

    def describe(self) -> str:
        """One human line for stderr."""
        text = f"{self.stream}: {self.state}"
        if self.state == "reconnecting" and self.delay is not None:
            text += f" in {self.delay:.1f}s (attempt {self.attempt})"
        if self.reason:
            text += f" ({self.reason})"
        return text


@dataclass(frozen=True, slots=True)
class Frame:
    """One parsed data frame (JSON numbers as Decimal)."""

    data: Any


StreamItem = Frame | StreamStatus


class _Wake(Exception):
    """Internal: the wait for a frame was interrupted (stale connection or reconnect request)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def decode_frame(text: str | bytes) -> Frame | None:
    """A data frame, or None for control/heartbeat frames and non-JSON junk (spec §8.2)."""
    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError:
        log.warning("skipping a non-JSON stream frame (%d bytes)", len(text))
        return None
    if isinstance(data, dict) and data.get("type") in CONTROL_TYPES:
        return None
    return Frame(data)


def is_auth_refusal(exc: BaseException) -> bool:
    """A handshake refused for identity (401/403): worth one re-authentication."""
    return isinstance(exc, AuthFailed) or getattr(exc, "status", None) in (401, 403)


def is_transient(exc: BaseException) -> bool:
    """Errors worth reconnecting after; anything else (a bug, a 404 path) is raised."""
    if isinstance(exc, ClientError):
        return exc.retryable or isinstance(exc, Unavailable)
    if isinstance(exc, OSError | TimeoutError | EOFError):
        return True
    status = getattr(exc, "status", None)
    if isinstance(status, int) and (status >= 500 or status == 429):
        return True
    # StreamClosed and the websockets library's errors, matched without importing them here.
    return any(
        cls.__name__ in ("StreamClosed", "WebSocketException", "InvalidHandshake")
        for cls in type(exc).__mro__
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class ResilientStream:
    """Async-iterate `Frame | StreamStatus` items from `dial`, reconnecting as needed, forever.

    Iteration ends only when the consumer stops, on `StreamGaveUp`, on a second auth refusal
    in a row, or on a non-transient error (e.g. the path does not exist).
    """

    name: str
    dial: Dial
    backoff: Backoff = field(default_factory=Backoff)
    max_retries: int | None = None
    stale_after: float | None = None  # off: servers without heartbeats go quiet legitimately
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    rng: Callable[[], float] = random.random
    _wake: asyncio.Future[str] | None = field(default=None, init=False, repr=False)
    _last: float = field(default=0.0, init=False, repr=False)
    _waiting: bool = field(default=False, init=False, repr=False)
    _conn: Connection | None = field(default=None, init=False, repr=False)
    _closer: asyncio.Future[None] | None = field(default=None, init=False, repr=False)

    def reconnect(self, reason: str) -> None:
        """Ask the running iteration to drop its connection and redial (e.g. a failed resync)."""
        self._interrupt(reason)

    def status(self, state: State, attempt: int = 0, **kw: Any) -> StreamStatus:
        """Build a status item for this stream (also used by layers above, e.g. `resynced`)."""
        return StreamStatus(self.name, state, attempt, **kw)

    async def __aiter__(self) -> AsyncGenerator[StreamItem, None]:
        failures = 0  # consecutive attempts that did not stay up for a healthy period
        refresh_auth = False
        auth_retried = False
        while True:
            connected_at: float | None = None
            reason = "connection closed"
            try:
                async with self.dial(refresh_auth) as conn:
                    refresh_auth = False
                    connected_at = self.clock()
                    yield self.status("connected", failures)
                    async with contextlib.aclosing(self._frames(conn)) as frames:
                        async for frame in frames:
                            yield frame
            except _Wake as wake:
                reason = wake.reason
            except Exception as exc:
                if is_auth_refusal(exc):
                    if auth_retried:
                        raise
                    auth_retried = refresh_auth = True
                    yield self.status("reconnecting", failures, delay=0.0, reason=_describe(exc))
                    continue
                if not is_transient(exc):
                    raise
                reason = _describe(exc)
            if connected_at is not None:
                auth_retried = False
                yield self.status("disconnected", failures, reason=reason)
                if self.clock() - connected_at >= self.backoff.healthy_after:
                    failures = 0
            failures += 1
            if self.max_retries is not None and failures > self.max_retries:
                yield self.status("gave_up", failures, reason=reason)
                raise StreamGaveUp(self.name, failures, reason)
            delay = self.backoff.delay(failures, self.rng)
            yield self.status("reconnecting", failures, delay=delay, reason=reason)
            await self.sleep(delay)

    async def _frames(self, conn: Connection) -> AsyncGenerator[Frame, None]:
        """Data frames of one connection until it closes, goes stale or a reconnect is asked."""
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[str] = loop.create_future()
        self._wake, self._conn = wake, conn
        self._last = self.clock()
        watchdog = loop.create_task(self._watch(wake)) if self.stale_after else None
        try:
            while True:
                text = await self._next_text(conn, wake)
                frame = decode_frame(text)
                if frame is not None:
                    yield frame
        finally:
            self._wake = self._conn = None
            for task in (watchdog, self._closer):
                if task is not None and not task.done():
                    task.cancel()
                if task is not None:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            self._closer = None

    def _interrupt(self, reason: str) -> None:
        """Fire `wake` and close the connection, which ends a pending recv() (WsConnection contract)."""
        wake, conn = self._wake, self._conn
        if wake is None or wake.done() or conn is None:
            return
        wake.set_result(reason)
        self._closer = asyncio.ensure_future(conn.close())

    async def _next_text(self, conn: Connection, wake: asyncio.Future[str]) -> str:
        """The next raw frame; raise _Wake if the connection was closed on purpose."""
        if wake.done():
            raise _Wake(wake.result())
        self._last = self.clock()
        self._waiting = True
        try:
            return await conn.recv()
        except Exception:
            if wake.done():
                raise _Wake(wake.result()) from None
            raise
        finally:
            self._waiting = False

    async def _watch(self, wake: asyncio.Future[str]) -> None:
        """Interrupt a wait for the next frame that has lasted `stale_after` seconds."""
        assert self.stale_after is not None
        while not wake.done():
            remaining = self._last + self.stale_after - self.clock()
            if remaining <= 0 and self._waiting:
                self._interrupt(f"no frame for {self.stale_after:g}s")
                return
            await self.sleep(remaining if remaining > 0 else self.stale_after)


async def retry_setup(
    name: str,
    call: Callable[[], Awaitable[T]],
    *,
    backoff: Backoff,
    max_retries: int | None,
    on_status: Callable[[StreamStatus], None],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: Callable[[], float] = random.random,
) -> T:
    """Run a stream's setup read (e.g. resolving the asset) under the stream's retry policy."""
    failures = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            failures += 1
            reason = _describe(exc)
            if max_retries is not None and failures > max_retries:
                on_status(StreamStatus(name, "gave_up", failures, reason=reason))
                raise StreamGaveUp(name, failures, reason) from None
            delay = backoff.delay(failures, rng)
            on_status(StreamStatus(name, "reconnecting", failures, delay=delay, reason=reason))
            await sleep(delay)


async def data_frames(
    items: AsyncIterator[StreamItem], on_status: Callable[[StreamStatus], None]
) -> AsyncGenerator[Any, None]:
    """Just the data of a stream, with lifecycle changes sent to a callback instead."""
    async for item in items:
        if isinstance(item, StreamStatus):
            on_status(item)
        else:
            yield item.data
