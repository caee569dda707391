"""Test doubles for streams: virtual time (no real sleeps) and a scripted WebSocket dialer."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class VirtualTime:
    """A clock and sleep that advance only when every task is blocked (autojump)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._counter), fut))
        await fut

    async def _settle(self) -> None:
        for _ in range(50):
            await asyncio.sleep(0)

    def run(self, coro: Awaitable[T], *, max_jumps: int = 10_000) -> T:
        """Run `coro` to completion, jumping the clock to the next sleeper whenever idle."""

        async def main() -> T:
            task = asyncio.ensure_future(coro)
            for _ in range(max_jumps):
                await self._settle()
                if task.done():
                    return task.result()
                while self._sleepers and self._sleepers[0][2].done():
                    heapq.heappop(self._sleepers)
                if not self._sleepers:
                    task.cancel()
                    raise AssertionError("deadlock: every task waits and nothing sleeps")
                when, _, fut = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                fut.set_result(None)
            task.cancel()
            raise AssertionError("virtual time ran too long")

        return asyncio.run(main())


class StreamClosed(Exception):
    """Stand-in with the client's name: the connection closed (clean or not)."""


HANG = "<hang>"  # script end: block until the stream closes us
CLOSE = "<close>"  # script end: the server closes the connection


class FakeConnection:
    """One scripted connection: frames (str), ("sleep", s) pauses, then HANG/CLOSE/an exception."""

    def __init__(self, script: list[Any], vt: VirtualTime) -> None:
        self._script = list(script)
        self._vt = vt
        self.closed = False
        self._closing: asyncio.Future[None] | None = None

    async def recv(self) -> str:
        """Like a real connection: once close() is called a pending or later recv() raises."""
        while self._script:
            if self.closed:
                raise StreamClosed("closed by client")
            step = self._script.pop(0)
            if isinstance(step, tuple) and step[0] == "sleep":
                await self._vt.sleep(step[1])
                continue
            if step == HANG:
                self._script.insert(0, HANG)
                self._closing = asyncio.get_running_loop().create_future()
                await self._closing
                raise StreamClosed("closed by client")
            if step == CLOSE:
                raise StreamClosed("closed by server")
            if isinstance(step, BaseException):
                raise step
            assert isinstance(step, str)
            return step
        raise StreamClosed("script exhausted")

    async def close(self) -> None:
        self.closed = True
        if self._closing is not None and not self._closing.done():
            self._closing.set_result(None)


class FakeDial:
    """Dialer over a list of scripts: an exception means the handshake fails with it."""

    def __init__(self, scripts: Iterable[Any], vt: VirtualTime) -> None:
        self._scripts = list(scripts)
        self._vt = vt
        self.refresh_flags: list[bool] = []
        self.connections: list[FakeConnection] = []
        self.on_connect: Callable[[int], None] | None = None

    def __call__(self, refresh_auth: bool) -> Any:
        return self._open(refresh_auth)

    @asynccontextmanager
    async def _open(self, refresh_auth: bool) -> AsyncIterator[FakeConnection]:
        self.refresh_flags.append(refresh_auth)
        script = self._scripts.pop(0) if self._scripts else ConnectionRefusedError("refused")
        if isinstance(script, BaseException):
            raise script
        conn = FakeConnection(script, self._vt)
        self.connections.append(conn)
        if self.on_connect is not None:
            self.on_connect(len(self.connections))
        try:
            yield conn
        finally:
            await conn.close()


async def collect(items: AsyncIterator[T], limit: int) -> list[T]:
    """The first `limit` items of an async iterator (then close it)."""
    out: list[T] = []
    try:
        async for item in items:
            out.append(item)
            if len(out) >= limit:
                break
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()
    return out
