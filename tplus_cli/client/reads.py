"""Read-only calls: market data (MDS) and account state (OMS), all retried with backoff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from tplus_cli.client import orders as build
from tplus_cli.client.base import MAX_PAGES, ClientBase
from tplus_cli.client.errors import (
    InvalidInput,
    NotFound,
    ServerError,
)
from tplus_cli.client.transport import query_bool
from tplus_cli.client.wire import (
    BookSnapshot,
    CloseAllPreview,
    Inventory,
    Kline,
    MarginInfo,
    OrderInfo,
    Position,
    Solvency,
    Ticker,
    Trade,
    UserTrade,
    WireError,
    items_of,
    parse_book,
    parse_close_all,
    parse_inventory,
    parse_kline,
    parse_margin,
    parse_order,
    parse_position,
    parse_solvency,
    parse_ticker,
    parse_trade,
    parse_user_trade,
)


class Reader(ClientBase):
    """Market data and account reads; Decimals in human units."""

    # --- market data (MDS) -------------------------------------------------------------

    async def orderbook(self, asset: str | int) -> BookSnapshot:
        """Depth snapshot in human units with its sequence number."""
        asset_id = await self.resolve_asset(asset)
        return parse_book(await self._read(f"/marketdepth/{asset_id}", auth="O"), asset_id)

    async def ticker(self, asset: str | int) -> Ticker:
        """24 h summary of one market."""
        asset_id = await self.resolve_asset(asset)
        return parse_ticker(await self._read(f"/ticker/{asset_id}", auth="O"))

    async def tickers(self) -> list[Ticker]:
        """24 h summaries of every market."""
        payload = await self._read("/tickers", auth="O")
        if not isinstance(payload, list):
            raise ServerError("/tickers did not return a list", retryable=False)
        return [parse_ticker(t) for t in payload]

    async def klines(
        self,
        asset: str | int,
        *,
        interval: str = "1",
        limit: int | None = None,
        end_ns: int | None = None,
    ) -> list[Kline]:
        """OHLCV bars; `interval` as the MDS spells it (`1`, `60`, `1D`, `5m`...)."""
        asset_id = await self.resolve_asset(asset)
        query: list[tuple[str, str]] = []
        if end_ns is not None:
            query.append(("end_timestamp_ns", str(end_ns)))
        query.append(("interval", interval))
        if limit is not None:
            query += [("page", "0"), ("limit", str(limit))]
        payload = await self._read(f"/klines/{asset_id}", auth="O", query=query)
        return [parse_kline(k) for k in items_of(payload, "items")]

    async def trades(self, asset: str | int | None = None, *, limit: int = 50) -> list[Trade]:
        """Recent public trades, newest as the venue orders them."""
        path = "/trades" if asset is None else f"/trades/{await self.resolve_asset(asset)}"
        payload = await self._read(path, auth="O", query=[("page", "0"), ("limit", str(limit))])
        return [parse_trade(t) for t in items_of(payload, "trades")]

    async def user_trades(
        self,
        asset: str | int | None = None,
        *,
        limit: int | None = None,
        sub_account: int | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
        side: Literal["buy", "sell"] | None = None,
        status: str | None = None,
    ) -> list[UserTrade]:
        """Our fill history (MDS), optionally filtered."""
        pk = self._pk()
        path = f"/trades/user/{pk}"
        if asset is not None:
            path += f"/{await self.resolve_asset(asset)}"
        query: list[tuple[str, str]] = []
        for key, value in (
            ("sub_account", sub_account),
            ("start_time", start_ns),
            ("end_time", end_ns),
            ("side", side),
            ("status", status),
        ):
            if value is not None:
                query.append((key, str(value)))
        if limit is not None:
            query += [("page", "0"), ("limit", str(limit))]
        payload = await self._read(path, auth="R", query=query)
        return [parse_user_trade(t) for t in items_of(payload, "trades")]

    # --- orders and account (OMS) ----------------------------------------------------------

    async def _orders_from(self, rows: Sequence[Any]) -> list[OrderInfo]:
        """Parse OrderResponse rows with their market decimals; malformed or unknown-market rows are dropped (§5.3)."""
        out: list[OrderInfo] = []
        for row in rows:
            try:
                asset = str(row["base_asset"])
                market = await self.market(asset)
                out.append(parse_order(row, market.price_decimals, market.quantity_decimals))
            except (KeyError, TypeError, WireError, InvalidInput, NotFound):
                continue
        return out

    async def user_orders(
        self, asset: str | int | None = None, *, open_only: bool = False
    ) -> list[OrderInfo]:
        """Our orders (all books, or one), paging until done; an unknown user has none."""
        pk = self._pk()
        rows: list[Any] = []
        try:
            if asset is None:
                page = 0
                for _ in range(MAX_PAGES):
                    query = [("page", str(page)), ("limit", "100")]
                    payload = await self._read(f"/orders/user/{pk}", auth="R", query=query)
                    rows += items_of(payload, "orders")
                    if isinstance(payload, list) or not payload.get("has_next_page"):
                        break
                    page = int(payload.get("next_page") or page + 1)
            else:
                asset_id = await self.resolve_asset(asset)
                for page in range(MAX_PAGES):
                    query = [("page", str(page)), ("limit", "1000")]
                    if open_only:
                        query.append(("open_only", query_bool(True)))
                    batch = await self._read(f"/orders/user/{pk}/{asset_id}", auth="R", query=query)
                    if not isinstance(batch, list):
                        raise ServerError(f"/orders/user/…/{asset_id} did not return a list")
                    rows += batch
                    if len(batch) < 1000:
                        break
        except NotFound as exc:
            if exc.code is None and (asset is None or not _legacy_no_orders(exc)):
                raise
            return []
        orders = await self._orders_from(rows)
        if open_only and asset is None:  # the per-book listing was already filtered by the venue
            return [o for o in orders if o.is_open]
        return orders

    async def find_order(self, order_id: str, asset: str | int | None = None) -> OrderInfo | None:
        """Our order with this id (searching one book if `asset` is given), or None."""
        for order in await self.user_orders(asset):
            if order.order_id == order_id:
                return order
        return None

    async def inventory(self) -> Inventory:
        """Balances per sub-account and asset (human units); an unknown user has none."""
        payload = await self._read_stored(f"/inventory/user/{self._pk()}", auth="R")
        return Inventory(()) if payload is None else parse_inventory(payload)

    async def margin(self, sub_account: int | None = None) -> MarginInfo:
        """Margin health per sub-account, with positions."""
        query: list[tuple[str, str]] = []
        if sub_account is not None:
            query.append(("sub_account", str(build.check_sub_account(sub_account))))
        query.append(("include_positions", "true"))
        payload = await self._read(f"/margin/user/{self._pk()}", auth="R", query=query)
        return parse_margin(payload)

    async def solvency(self) -> Solvency:
        """Per sub-account solvency; an unknown user has no accounts."""
        payload = await self._read_stored(f"/solvency/user/{self._pk()}", auth="R")
        return Solvency({}) if payload is None else parse_solvency(payload)

    async def positions(self, sub_account: int | None = None) -> list[Position]:
        """Open margin positions (all sub-accounts, or one)."""
        pk = self._pk()
        rows: list[Any] = []
        page = 0
        try:
            for _ in range(MAX_PAGES):
                query: list[tuple[str, str]] = []
                if sub_account is not None:
                    query.append(("sub_account", str(build.check_sub_account(sub_account))))
                query += [("page", str(page)), ("limit", "100")]
                payload = await self._read(f"/positions/{pk}", auth="R", query=query)
                rows += items_of(payload, "positions")
                if isinstance(payload, list) or not payload.get("has_next_page"):
                    break
                page = int(payload.get("next_page") or page + 1)
        except NotFound as exc:
            if exc.code is None:
                raise
            return []
        return [parse_position(p) for p in rows]

    async def close_all_preview(self, sub_account: int) -> CloseAllPreview:
        """The unsigned orders that would flatten `sub_account`."""
        sub = build.check_sub_account(sub_account)
        payload = await self._read(f"/positions/close-all/{self._pk()}/{sub}", auth="R")
        return parse_close_all(payload)


def _legacy_no_orders(exc: NotFound) -> bool:
    """The legacy OMS's `404` + JSON body `[]` on a per-book listing: no orders (spec §7.3)."""
    body = exc.message.removeprefix(f"HTTP {exc.status}:").strip()
    return exc.status == 404 and body == "[]"
