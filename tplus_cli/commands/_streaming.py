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
from tplus_cli.render.jsonout import parse_fields
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
        fields: list[str] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.ndjson = ndjson
        self.status_events = status_events
        self.line = line
        self.notice = notice
        self.fields = fields
        self.now = now
        self.seq = 0
        self.status_seq = 0

    def data(self, payload: Any) -> None:
        """Emit one data item, flushed at once (only the --fields keys of an object, if given)."""
        self.seq += 1
        if self.fields is not None and isinstance(payload, dict):
            payload = {name: payload.get(name) for name in self.fields}
            if not self.ndjson:
                shown = "  ".join(f"{k}={stream_lines.compact(v)}" for k, v in payload.items())
                _write(shown)
                return
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


@dataclass(frozen=True)
class StreamRequest:
    """Which stream a `tplus stream` command asked for, with its per-kind options."""

    kind: str  # orders | trades | book | klines | ticker | user-trades | events
    symbol: str | None = None
    depth: int = 10
    diffs: bool = False
    finalized: bool = False
    interval: str = "1"

    @property
    def authenticated(self) -> bool:
        """Private streams need the key (and the token's user)."""
        return self.kind in ("orders", "user-trades", "events")


@dataclass(frozen=True)
class _Route:
    path: str
    line: LineFn
    to_data: Callable[[Any], Iterable[Any]] = frames_data


def _route(
    req: StreamRequest, pk: str | None, asset: str | None, symbols: dict[str, str]
) -> _Route:
    """Path, line view and payload extraction of a plain (non-book) stream."""
    if req.kind == "orders":
        return _Route("/orders", stream_lines.order_event_line)
    if req.kind == "trades":
        picker = frames_data if asset is None else _only_asset(asset)
        return _Route("/trades", stream_lines.trade_line(symbols), picker)
    if req.kind == "ticker":
        return _Route(f"/ticker/ws/{asset}", stream_lines.ticker_line)
    if req.kind == "klines":
        from tplus_cli.client.klines import KlineAggregator, interval_seconds

        agg = KlineAggregator(interval_seconds(req.interval))
        return _Route(
            f"/klines/diff/{asset}",
            stream_lines.kline_line,
            lambda i: agg.update_all(frames_data(i)),
        )
    if req.kind == "user-trades":
        path = f"/trades/user/{pk}" if req.finalized else f"/trades/user/events/{pk}"
        return _Route(path, stream_lines.user_trade_line)
    if req.kind == "events":
        return _Route(f"/account/events/{pk}", stream_lines.account_event_line)
    raise UsageError(f"unknown stream {req.kind!r}")


async def follow(rt: Runtime, req: StreamRequest, opts: FollowOptions) -> None:
    """Run one `tplus stream KIND` to completion (count/duration) or failure."""
    ndjson = is_ndjson(rt)
    async with rt.client(signing=req.authenticated) as client:
        name = req.kind if req.symbol is None else f"{req.kind} {req.symbol}"
        out = StreamOutput(
            req.kind,
            ndjson=ndjson,
            status_events=opts.status_events,
            line=stream_lines.compact,
            notice=rt.notice,
            fields=parse_fields(rt.options.fields),
        )
        asset: str | None = None
        if req.symbol is not None:
            ref = req.symbol
            asset = await retry_setup(
                name,
                lambda: client.resolve_asset(ref),
                backoff=opts.backoff,
                max_retries=opts.max_retries,
                on_status=out.status,
            )
        symbols = await symbol_map(client) if (asset is not None or not ndjson) else {}
        if asset is not None:
            name = f"{req.kind} {symbols.get(asset, req.symbol)}"
        if req.kind == "book":
            assert asset is not None
            book_asset = asset
            stream = resilient(client, name, f"/marketdepth/diff/{asset}", False, opts)
            out.line = stream_lines.book_line
            book_data = BookData(asset, symbols.get(asset, asset), req.depth, req.diffs)
            feed = book_feed(stream, lambda: fetch_snapshot(client, book_asset))
            await pump(feed, out, opts, book_data)
            return
        route = _route(req, client.public_key, asset, symbols)
        out.line = route.line
        stream = resilient(client, name, route.path, req.authenticated, opts)
        await pump(stream.__aiter__(), out, opts, route.to_data)


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
