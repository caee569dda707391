"""Typed stream helpers over ws.py: one connection each, parsed frames, no reconnection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from tplus_cli.client import ws
from tplus_cli.client.reads_user import UserReader
from tplus_cli.client.wire import (
    AccountEvent,
    BookSnapshot,
    Kline,
    OrderEvent,
    Ticker,
    Trade,
    UserTrade,
    items_of,
    parse_account_event,
    parse_book,
    parse_kline,
    parse_order_event,
    parse_ticker,
    parse_trade,
    parse_user_trade,
)
from tplus_cli.client.wire_user import PositionUpdate, parse_position_update


class Feeds(UserReader):
    """WebSocket streams: raw frames, typed helpers and the dialer seam for client/stream.py."""

    # --- streams ------------------------------------------------------------------------

    async def ws_headers(self, *, auth: bool, rejected: str | None = None) -> dict[str, str]:
        """Handshake headers: Origin always; Authorization/User-Id for auth streams (or when keyed)."""
        headers = {"Origin": ws.origin_of(self.base_url)}
        headers.update(await self._auth_headers("R" if auth else "O", rejected=rejected))
        return headers

    def stream(self, path: str, *, auth: bool) -> AsyncIterator[Any]:
        """Parsed JSON frames of one stream (control frames and junk skipped); see ws.py."""
        return ws.frames(
            self._ws_connect,
            ws.url_of(self.base_url, path),
            lambda rejected: self.ws_headers(auth=auth, rejected=rejected),
            authenticated=auth,
        )

    def dialer(
        self, path: str, *, auth: bool
    ) -> Callable[[bool], AbstractAsyncContextManager[ws.WsConnection]]:
        """A `dial(refresh_auth)` for the reconnecting layer (client/stream.py): one connection per call.

        `refresh_auth=True` replaces the current token first (after a 401/403 handshake);
        a refused handshake raises the ClientError its status maps to.
        """
        url = ws.url_of(self.base_url, path)

        @asynccontextmanager
        async def dial(refresh_auth: bool) -> AsyncIterator[ws.WsConnection]:
            rejected = self._session.current_token if refresh_auth else None
            headers = await self.ws_headers(auth=auth, rejected=rejected)
            async with ws.open_stream(self._ws_connect, url, headers) as conn:
                yield conn

        return dial

    async def stream_orders(self) -> AsyncIterator[OrderEvent]:
        """Our order lifecycle events (`/orders`)."""
        async for frame in ws.parsed(self.stream("/orders", auth=True), parse_order_event):
            yield frame

    async def stream_trades(self, asset: str | int | None = None) -> AsyncIterator[Trade]:
        """Public finalized trades (`/trades`), optionally filtered to one asset."""
        wanted = None if asset is None else await self.resolve_asset(asset)
        async for trade in ws.parsed(self.stream("/trades", auth=False), parse_trade):
            if wanted is None or trade.asset_id == wanted:
                yield trade

    async def stream_depth(self, asset: str | int) -> AsyncIterator[BookSnapshot]:
        """Order-book diffs (`/marketdepth/diff/{asset}`); apply per spec §8.5."""
        asset_id = await self.resolve_asset(asset)
        frames = self.stream(f"/marketdepth/diff/{asset_id}", auth=False)
        async for diff in ws.parsed(frames, lambda f: parse_book(f, asset_id)):
            yield diff

    async def stream_klines(self, asset: str | int) -> AsyncIterator[Kline]:
        """Kline updates (`/klines/diff/{asset}`), one bar at a time."""
        asset_id = await self.resolve_asset(asset)
        frames = self.stream(f"/klines/diff/{asset_id}", auth=False)
        async for bars in ws.parsed(
            frames, lambda f: [parse_kline(k) for k in items_of(f, "items")]
        ):
            for bar in bars:
                yield bar

    async def stream_ticker(self, asset: str | int) -> AsyncIterator[Ticker]:
        """Ticker updates of one market (`/ticker/ws/{asset}`)."""
        asset_id = await self.resolve_asset(asset)
        async for t in ws.parsed(self.stream(f"/ticker/ws/{asset_id}", auth=False), parse_ticker):
            yield t

    async def stream_tickers(self) -> AsyncIterator[Ticker]:
        """Ticker updates of every market that changed (`/tickers/ws`), one ticker at a time."""
        frames = self.stream("/tickers/ws", auth=False)
        async for batch in ws.parsed(
            frames, lambda f: [parse_ticker(t) for t in items_of(f, "tickers")]
        ):
            for t in batch:
                yield t

    async def stream_user_trades(self, *, finalized: bool = False) -> AsyncIterator[UserTrade]:
        """Our fills: every status (`/trades/user/events/{pk}`) or finalized only."""
        pk = self._pk()
        path = f"/trades/user/{pk}" if finalized else f"/trades/user/events/{pk}"
        async for t in ws.parsed(self.stream(path, auth=True), parse_user_trade):
            yield t

    async def stream_account_events(self) -> AsyncIterator[AccountEvent]:
        """Deposits, withdrawals, transfers, margin calls (`/account/events/{pk}`)."""
        path = f"/account/events/{self._pk()}"
        async for e in ws.parsed(self.stream(path, auth=True), parse_account_event):
            yield e

    async def stream_positions(self) -> AsyncIterator[PositionUpdate]:
        """Complete snapshots of our positions, one per change (`/positions/ws/{pk}`)."""
        path = f"/positions/ws/{self._pk()}"
        async for update in ws.parsed(self.stream(path, auth=True), parse_position_update):
            yield update
