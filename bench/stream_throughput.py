"""Streams benchmark: depth diffs applied per second, and live-view redraws under a 1,000 diffs/s feed.

Targets: >= 20,000 diffs/s applied; >= 10 redraws/s while 1,000 diffs/s arrive, with bounded
memory (tracemalloc peak and max RSS are printed). Run: .venv/bin/python bench/stream_throughput.py
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import platform
import random
import resource
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live

from tplus_cli.client.book import BookAssembler, DepthUpdate, Outcome, parse_depth
from tplus_cli.client.book_feed import BookUpdate, book_feed
from tplus_cli.client.stream import ResilientStream
from tplus_cli.render.book_view import BookView, LiveDriver, book_renderable

MID = 65_000
TICK = Decimal("0.5")


def frames(n: int, seed: int = 7) -> list[str]:
    """`n` realistic depth diffs (1-3 levels per side, near the touch) as JSON text frames."""
    rng = random.Random(seed)
    out = []
    for seq in range(1, n + 1):
        bids = [
            [str(MID - TICK * rng.randint(1, 400)), str(Decimal(rng.randint(0, 500)) / 100)]
            for _ in range(rng.randint(1, 3))
        ]
        asks = [
            [str(MID + TICK * rng.randint(1, 400)), str(Decimal(rng.randint(0, 500)) / 100)]
            for _ in range(rng.randint(1, 3))
        ]
        out.append(json.dumps({"bids": bids, "asks": asks, "sequence_number": seq}))
    return out


def seeded() -> BookAssembler:
    asm = BookAssembler()
    bids = tuple((MID - TICK * i, Decimal(1)) for i in range(1, 401))
    asks = tuple((MID + TICK * i, Decimal(1)) for i in range(1, 401))
    assert asm.on_snapshot(DepthUpdate(bids, asks, 0)) is Outcome.SYNCED
    return asm


def bench_apply(n: int) -> tuple[float, float]:
    """(diffs/s applying pre-parsed diffs, diffs/s parsing JSON text + applying)."""
    texts = frames(n)
    parsed = [parse_depth(json.loads(t, parse_float=Decimal)) for t in texts]
    asm = seeded()
    start = time.perf_counter()
    for diff in parsed:
        asm.on_diff(diff)
    apply_rate = n / (time.perf_counter() - start)
    asm = seeded()
    start = time.perf_counter()
    for text in texts:
        asm.on_diff(parse_depth(json.loads(text, parse_float=Decimal)))
    full_rate = n / (time.perf_counter() - start)
    return apply_rate, full_rate


class MemoryConnection:
    """An in-memory WebSocket: frames from a list, then the stream hangs."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = iter(texts)

    async def recv(self) -> str:
        for text in self.texts:
            return text
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable")

    async def close(self) -> None:
        return None


def bench_stream_stack(n: int) -> float:
    """Diffs/s through ResilientStream + book_feed (frame decode, sequencing, resync logic)."""
    texts = frames(n)

    @asynccontextmanager
    async def dial(_refresh: bool) -> AsyncIterator[MemoryConnection]:
        yield MemoryConnection(texts)

    async def snapshot() -> DepthUpdate:
        return DepthUpdate((), (), 0)

    async def run() -> float:
        feed = book_feed(ResilientStream("bench", dial), snapshot)
        count = 0
        start = 0.0
        async for item in feed:
            if isinstance(item, BookUpdate):
                if item.diff is None:
                    start = time.perf_counter()
                    continue
                count += 1
                if count == n:
                    break
        await feed.aclose()
        return n / (time.perf_counter() - start)

    return asyncio.run(run())


def bench_live_view(seconds: float, diffs_per_s: int, max_fps: float) -> dict[str, float]:
    """Feed `diffs_per_s` into a book driving a real rich Live (to /dev/null); count redraws."""
    texts = frames(int(seconds * diffs_per_s) + 10, seed=11)

    async def run(sink: TextIO) -> dict[str, float]:
        asm = seeded()
        console = Console(file=sink, width=120, height=40, force_terminal=True)
        with Live(console=console, auto_refresh=False) as live:

            def render() -> object:
                book = asm.book
                view = BookView(
                    "BTC", book.bids(20), book.asks(20), 20, "live", True, book.sequence
                )
                return book_renderable(view)

            driver: LiveDriver[Any] = LiveDriver(live, render, max_fps=max_fps)
            redraw = asyncio.ensure_future(driver.run())
            start = time.perf_counter()
            applied = 0
            batch = max(1, diffs_per_s // 100)  # arrive in 10 ms bursts
            it = iter(texts)
            while time.perf_counter() - start < seconds:
                for _ in range(batch):
                    asm.on_diff(parse_depth(json.loads(next(it), parse_float=Decimal)))
                    applied += 1
                driver.changed()
                target = start + applied / diffs_per_s
                await asyncio.sleep(max(0.0, target - time.perf_counter()))
            elapsed = time.perf_counter() - start
            redraw.cancel()
        return {"redraws_per_s": driver.draws / elapsed, "diffs_per_s": applied / elapsed}

    with open(os.devnull, "w") as sink:
        return asyncio.run(run(sink))


def bench_render_ceiling(frames_n: int = 200) -> float:
    """Full renders/s of a 20-level view (what the view could do with no throttle)."""
    asm = seeded()
    console = Console(file=io.StringIO(), width=120, force_terminal=True)
    view = BookView("BTC", asm.book.bids(20), asm.book.asks(20), 20, "live", True, 0)
    start = time.perf_counter()
    for _ in range(frames_n):
        console.print(book_renderable(view))
        console.file = io.StringIO()
    return frames_n / (time.perf_counter() - start)


def main() -> None:
    print(f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()}")
    print(f"python: {platform.python_version()} ({platform.python_implementation()})")
    # The live view runs first so max RSS reflects it, not the big diff lists built below.
    tracemalloc.start()
    live = bench_live_view(seconds=5.0, diffs_per_s=1_000, max_fps=20.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"live view: {live['redraws_per_s']:.1f} redraws/s at {live['diffs_per_s']:,.0f} diffs/s "
        "(target >= 10 redraws/s; capped at 20; under tracemalloc)"
    )
    print(f"live view memory: tracemalloc peak {peak / 1e6:.1f} MB, max RSS {rss_mb:.1f} MB")
    untraced = bench_live_view(seconds=3.0, diffs_per_s=1_000, max_fps=20.0)
    print(f"live view (no tracemalloc): {untraced['redraws_per_s']:.1f} redraws/s")
    print(f"render ceiling: {bench_render_ceiling():,.0f} full 20-level renders/s (unthrottled)")
    apply_rate, full_rate = bench_apply(200_000)
    print(f"assembly: {apply_rate:,.0f} diffs/s applied (pre-parsed), target >= 20,000")
    print(f"assembly: {full_rate:,.0f} diffs/s parsed from JSON text + applied")
    stack = bench_stream_stack(50_000)
    print(
        f"stream stack: {stack:,.0f} diffs/s through ResilientStream + book_feed (in-memory socket)"
    )


if __name__ == "__main__":
    main()
