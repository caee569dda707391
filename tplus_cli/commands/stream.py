"""`tplus stream ...`: follow live venue streams as NDJSON (piped) or readable lines (terminal).

Every line on stdout is one envelope `{"stream","seq","ts","data"}` when not on a terminal
(or with -o json/ndjson); decimals are strings and each line is flushed as it is written.
Streams reconnect on their own (backoff 0.5 s doubling to 30 s) and say so on stderr (or as
`{"stream":"status",...}` lines with --status-events). By default a stream retries forever;
`--max-retries N` makes it give up after N consecutive failed attempts (exit 6).
`--count N` / `--for 30s` end it with exit 0; Ctrl-C exits 130.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tplus_cli.commands import _options
from tplus_cli.errors import UsageError

if TYPE_CHECKING:
    from tplus_cli.commands._streaming import FollowOptions, StreamRequest

stream_app = typer.Typer(
    name="stream",
    help="Follow live streams (orders, trades, book, klines, ticker, fills, account events).",
    no_args_is_help=True,
)

CountOpt = Annotated[
    int | None, typer.Option("--count", "-n", min=1, help="Stop after N items (exit 0).")
]
ForOpt = Annotated[
    str | None,
    typer.Option("--for", metavar="DURATION", help="Stop after a while: 30s, 500ms, 5m, 1h."),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        min=0,
        help="Give up (exit 6) after N consecutive failed reconnects. Default: retry forever.",
    ),
]
StatusOpt = Annotated[
    bool,
    typer.Option(
        "--status-events", help='Write connection changes to stdout as {"stream":"status"} lines.'
    ),
]
StaleOpt = Annotated[
    float | None,
    typer.Option(
        "--stale-after",
        min=0,
        metavar="SECONDS",
        help="Reconnect when no frame arrives for this long (0 = never). "
        "Default: 60 for book (a quiet book then just resyncs), never for the others.",
    ),
]


def _opts(
    count: int | None,
    duration: str | None,
    max_retries: int | None,
    status_events: bool,
    stale_after: float | None,
    default_stale: float | None,
) -> FollowOptions:
    from tplus_cli.commands._streaming import FollowOptions, parse_duration

    stale = default_stale if stale_after is None else (stale_after or None)
    return FollowOptions(
        count=count,
        duration=None if duration is None else parse_duration(duration),
        max_retries=max_retries,
        status_events=status_events,
        stale_after=stale,
    )


def _request(
    kind: str,
    *,
    symbol: str | None = None,
    depth: int = 10,
    diffs: bool = False,
    finalized: bool = False,
    interval: str = "1",
) -> StreamRequest:
    from tplus_cli.commands._streaming import StreamRequest

    return StreamRequest(kind, symbol, depth, diffs, finalized, interval)


def _run(ctx: typer.Context, req: StreamRequest, opts: FollowOptions) -> None:
    from tplus_cli.commands._streaming import follow

    rt = _options.runtime(ctx)
    rt.run(follow(rt, req, opts))


@stream_app.command("orders")
@_options.command_options
def orders(
    ctx: typer.Context,
    count: CountOpt = None,
    duration: ForOpt = None,
    max_retries: RetriesOpt = None,
    status_events: StatusOpt = False,
    stale_after: StaleOpt = None,
) -> None:
    """Your order events (created, replaced, removed ...) as they happen.

    Example: tplus stream orders | jq -c .data
    """
    _run(
        ctx,
        _request("orders"),
        _opts(count, duration, max_retries, status_events, stale_after, None),
    )


@stream_app.command("trades")
@_options.command_options
def trades(
    ctx: typer.Context,
    symbol: Annotated[
        str | None,
        typer.Argument(help="Only this asset.", autocompletion=_options.complete_symbol),
    ] = None,
    count: CountOpt = None,
    duration: ForOpt = None,
    max_retries: RetriesOpt = None,
    status_events: StatusOpt = False,
    stale_after: StaleOpt = None,
) -> None:
    """Public trades, all markets or one.

    Example: tplus stream trades BTC --count 10
    """
    opts = _opts(count, duration, max_retries, status_events, stale_after, None)
    _run(ctx, _request("trades", symbol=symbol), opts)


@stream_app.command("book")
@_options.command_options
def book(
    ctx: typer.Context,
    symbol: _options.SymbolArg,
    depth: Annotated[
        int, typer.Option("--depth", "-d", min=1, max=1000, help="Levels per side.")
    ] = 10,
    diffs: Annotated[
        bool,
        typer.Option("--diffs", help="Emit applied diffs (and a full snapshot on each resync)."),
    ] = False,
    count: CountOpt = None,
    duration: ForOpt = None,
    max_retries: RetriesOpt = None,
    status_events: StatusOpt = False,
    stale_after: StaleOpt = None,
) -> None:
    """The assembled order book (snapshot + sequenced diffs, resynced on any gap).

    Example: tplus stream book BTC --depth 5 --count 3
    """
    opts = _opts(count, duration, max_retries, status_events, stale_after, 60.0)
    _run(ctx, _request("book", symbol=symbol, depth=depth, diffs=diffs), opts)


@stream_app.command("klines")
@_options.command_options
def klines(
    ctx: typer.Context,
    symbol: _options.SymbolArg,
    interval: Annotated[
        str, typer.Option("--interval", "-i", help="Bar length: 1 (minute), 5m, 1h, 1D ...")
    ] = "1",
    count: CountOpt = None,
    duration: ForOpt = None,
    max_retries: RetriesOpt = None,
    status_events: StatusOpt = False,
    stale_after: StaleOpt = None,
) -> None:
    """Candles of one market, updated on every trade.

    Example: tplus stream klines BTC --interval 5m
    """
    from tplus_cli.client.klines import IntervalError, interval_seconds

    try:
        interval_seconds(interval)
    except IntervalError as exc:
        raise UsageError(str(exc)) from None
    opts = _opts(count, duration, max_retries, status_events, stale_after, None)
    _run(ctx, _request("klines", symbol=symbol, interval=interval), opts)


@stream_app.command("ticker")
@_options.command_options
def ticker(
    ctx: typer.Context,
    symbol: _options.SymbolArg,
    count: CountOpt = None,
    duration: ForOpt = None,
    max_retries: RetriesOpt = None,
    status_events: StatusOpt = False,
    stale_after: StaleOpt = None,
) -> None:
    """24 h ticker updates of one market.

    Example: tplus stream ticker ETH --for 1m
    """
    opts = _opts(count, duration, max_retries, status_events, stale_after, None)
    _run(ctx, _request("ticker", symbol=symbol), opts)


@stream_app.command("user-trades")
@_options.command_options
def user_trades(
    ctx: typer.Context,
    finalized: Annotated[
        bool, typer.Option("--finalized", help="Only finalized fills (no Pending).")
    ] = False,
    count: CountOpt = None,
    duration: ForOpt = None,
    max_retries: RetriesOpt = None,
    status_events: StatusOpt = False,
    stale_after: StaleOpt = None,
) -> None:
    """Your fills (every status, or finalized only).

    Example: tplus stream user-trades --finalized
    """
    opts = _opts(count, duration, max_retries, status_events, stale_after, None)
    _run(ctx, _request("user-trades", finalized=finalized), opts)


@stream_app.command("events")
@_options.command_options
def events(
    ctx: typer.Context,
    count: CountOpt = None,
    duration: ForOpt = None,
    max_retries: RetriesOpt = None,
    status_events: StatusOpt = False,
    stale_after: StaleOpt = None,
) -> None:
    """Account activity: deposits, withdrawals, transfers, margin calls.

    Example: tplus stream events -o ndjson
    """
    _run(
        ctx,
        _request("events"),
        _opts(count, duration, max_retries, status_events, stale_after, None),
    )


def register(app: typer.Typer) -> None:
    """Attach `tplus stream` to the root app."""
    app.add_typer(stream_app, name="stream")
