"""What `tplus stream ...` runs: a resilient stream per kind, written as NDJSON or lines.

Imported lazily by `commands/stream.py` and `commands/book_watch.py` (it pulls in the client).
Output: NDJSON envelopes `{"stream","seq","ts","data"}` unless the output is a table on a
terminal, then one readable line per item. Lifecycle changes go to stderr, or onto stdout as
`{"stream":"status",...}` lines with --status-events. `--count` / `--for` end with exit 0;
a stream that gives up raises StreamGaveUp (exit 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tplus_cli.client.book import top_of_book
from tplus_cli.client.book_feed import BookUpdate, book_feed, fetch_snapshot
from tplus_cli.client.errors import ClientError
from tplus_cli.client.stream import (
    Backoff,
    Frame,
    ResilientStream,
    StreamStatus,
    retry_setup,
)
from tplus_cli.errors import UsageError
from tplus_cli.render import stream_lines
from tplus_cli.render.stream_lines import LineFn

if TYPE_CHECKING:
    from tplus_cli.client.api import TplusClient
    from tplus_cli.runtime import Runtime


@dataclass(frozen=True)
class FollowOptions:
    """Options every `tplus stream` command shares."""

    count: int | None = None
    duration: float | None = None
    max_retries: int | None = None
    status_events: bool = False
    stale_after: float | None = None
    backoff: Backoff = Backoff()


def parse_duration(text: str) -> float:
    """`90`, `90s`, `500ms`, `5m`, `1h` → seconds (> 0)."""
    raw = text.strip().lower()
    units = (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0))
    scale = 1.0
    for suffix, factor in units:
        if raw.endswith(suffix):
            raw, scale = raw[: -len(suffix)], factor
            break
    try:
        value = float(raw) * scale
    except ValueError:
        raise UsageError(f"bad duration {text!r}", hint="use e.g. 30s, 500ms, 5m, 1h") from None
    if not value > 0:
        raise UsageError(f"duration must be positive, got {text!r}")
    return value


class StreamOutput:
    """Writes one stream's items to stdout (NDJSON or lines) and statuses where they belong."""

    def __init__(
        self,
        name: str,
        *,
        ndjson: bool,
        status_events: bool,
        line: LineFn,
        notice: Callable[[str], None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.ndjson = ndjson
        self.status_events = status_events
        self.line = line
        self.notice = notice
        self.now = now
        self.seq = 0
        self.status_seq = 0

    def data(self, payload: Any) -> None:
        """Emit one data item, flushed at once."""
        self.seq += 1
        if self.ndjson:
            _write(stream_lines.envelope(self.name, self.seq, self.now(), payload))
        else:
            _write(self.line(payload))

    def status(self, status: StreamStatus) -> None:
        """Emit a lifecycle change (stderr unless --status-events)."""
        if not self.status_events:
            self.notice(f"stream {status.describe()}")
            return
        self.status_seq += 1
        if self.ndjson:
            _write(stream_lines.envelope("status", self.status_seq, self.now(), status.to_json()))
        else:
            _write(f"-- {status.describe()}")


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def is_ndjson(rt: Runtime) -> bool:
    """NDJSON unless the output is a table (auto on a terminal); csv is refused for streams."""
    fmt = rt.output_format
    if fmt == "csv":
        raise UsageError("streams are written as NDJSON or lines", hint="use -o ndjson or -o json")
    return fmt != "table"


async def pump(
    items: AsyncIterator[Frame | StreamStatus | BookUpdate],
    out: StreamOutput,
    opts: FollowOptions,
    to_data: Callable[[Any], Iterable[Any]],
) -> None:
    """Write items until --count data items or --for elapses (then return normally)."""

    async def consume() -> None:
        async for item in items:
            if isinstance(item, StreamStatus):
                out.status(item)
                continue
            for payload in to_data(item):
                out.data(payload)
                if opts.count is not None and out.seq >= opts.count:
                    return

    try:
        if opts.duration is None:
            await consume()
        else:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(opts.duration):
                    await consume()
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            await aclose()


def resilient(
    client: TplusClient, name: str, path: str, auth: bool, opts: FollowOptions
) -> ResilientStream:
    """A reconnecting stream on `path` with the command's retry and staleness settings."""
    return ResilientStream(
        name,
        client.dialer(path, auth=auth),
        backoff=opts.backoff,
        max_retries=opts.max_retries,
        stale_after=opts.stale_after,
    )


def frames_data(item: Any) -> list[Any]:
    """Data of a plain frame (a JSON array frame is one item per element)."""
    data = item.data
    return list(data) if isinstance(data, list) else [data]


async def symbol_map(client: TplusClient) -> dict[str, str]:
    """Asset id → symbol for readable lines; best effort (an empty map if markets fail)."""
    try:
        return {key: info.symbol for key, info in (await client.assets()).items()}
    except ClientError:
        return {}


async def follow(
    rt: Runtime,
    kind: str,
    opts: FollowOptions,
    *,
    symbol: str | None = None,
    depth: int = 10,
    diffs: bool = False,
    finalized: bool = False,
    interval: str | None = None,
) -> None:
    """Run one `tplus stream KIND` to completion (count/duration) or failure."""
    ndjson = is_ndjson(rt)
    auth = kind in ("orders", "user-trades", "events")
    async with rt.client(signing=auth) as client:
        name = kind if symbol is None else f"{kind} {symbol}"
        out = StreamOutput(
            kind,
            ndjson=ndjson,
            status_events=opts.status_events,
            line=stream_lines.compact,
            notice=rt.notice,
        )
        asset: str | None = None
        if symbol is not None:
            asset = await retry_setup(
                name,
                lambda: client.resolve_asset(symbol),
                backoff=opts.backoff,
                max_retries=opts.max_retries,
                on_status=out.status,
            )
        symbols = await symbol_map(client) if (asset is not None or not ndjson) else {}
        label = symbols.get(asset, symbol) if asset is not None and symbol else None
        if label:
            name = f"{kind} {label}"
        to_data: Callable[[Any], Iterable[Any]] = frames_data
        if kind == "book":
            assert asset is not None
            stream = resilient(client, name, f"/marketdepth/diff/{asset}", False, opts)
            out.line = stream_lines.book_line
            book_data = BookData(asset, label or asset, depth, diffs)
            feed = book_feed(stream, lambda: fetch_snapshot(client, asset))
            await pump(feed, out, opts, book_data)
            return
        if kind == "orders":
            path, out.line = "/orders", stream_lines.order_event_line
        elif kind == "trades":
            path, out.line = "/trades", stream_lines.trade_line(symbols)
            if asset is not None:
                to_data = _only_asset(asset)
        elif kind == "ticker":
            path, out.line = f"/ticker/ws/{asset}", stream_lines.ticker_line
        elif kind == "klines":
            from tplus_cli.client.klines import KlineAggregator, interval_seconds

            path, out.line = f"/klines/diff/{asset}", stream_lines.kline_line
            agg = KlineAggregator(interval_seconds(interval or "1"))
            to_data = lambda item: agg.update_all(frames_data(item))  # noqa: E731
        elif kind == "user-trades":
            pk = client.public_key
            path = f"/trades/user/{pk}" if finalized else f"/trades/user/events/{pk}"
            out.line = stream_lines.user_trade_line
        elif kind == "events":
            path, out.line = f"/account/events/{client.public_key}", stream_lines.account_event_line
        else:  # pragma: no cover - the command layer only passes known kinds
            raise UsageError(f"unknown stream {kind!r}")
        stream = resilient(client, name, path, auth, opts)
        await pump(stream.__aiter__(), out, opts, to_data)


def _only_asset(asset: str) -> Callable[[Any], Iterable[Any]]:
    def pick(item: Any) -> list[Any]:
        return [
            d for d in frames_data(item) if isinstance(d, dict) and str(d.get("asset_id")) == asset
        ]

    return pick


@dataclass(frozen=True)
class BookData:
    """Turns book-feed updates into the `stream book` payloads (top-N snapshots or diffs)."""

    asset: str
    symbol: str
    depth: int
    diffs: bool

    def __call__(self, item: Any) -> list[dict[str, Any]]:
        if not isinstance(item, BookUpdate):
            return []
        head = {"symbol": self.symbol, "asset_id": self.asset}
        if self.diffs and item.diff is not None:
            diff = item.diff
            return [
                {
                    **head,
                    "kind": "diff",
                    "sequence": diff.sequence,
                    "bids": [[str(p), str(q)] for p, q in diff.bids],
                    "asks": [[str(p), str(q)] for p, q in diff.asks],
                }
            ]
        depth = None if self.diffs else self.depth
        top = top_of_book(item.book, depth if depth is not None else len(item.book))
        return [{**head, "kind": "snapshot", **top}]
