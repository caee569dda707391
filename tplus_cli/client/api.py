"""TplusClient: the async T+ client (OMS + MDS on one origin), wire-compatible with tpluspy 0.6.0.

Reads retry with backoff; creates and replaces are never re-sent: a lost answer is settled
by looking the order id up. Human Decimals in, human Decimals out; book-unit ints on the wire.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal

import httpx

from tplus_cli.client import assets as asset_ids
from tplus_cli.client import orders as build
from tplus_cli.client import signing, units, ws
from tplus_cli.client.auth import Session
from tplus_cli.client.errors import (
    AmbiguousOutcome,
    AuthFailed,
    ClientError,
    InvalidInput,
    NotFound,
    Rejected,
    ServerError,
    Unavailable,
    error_from_response,
)
from tplus_cli.client.retry import NO_RETRY, RetryPolicy, retrying
from tplus_cli.client.transport import Query, decode_body, make_http, query_bool, send
from tplus_cli.client.wire import (
    AccountEvent,
    AssetInfo,
    BookSnapshot,
    CloseAllPreview,
    Inventory,
    Kline,
    MarginInfo,
    Market,
    OrderAck,
    OrderEvent,
    OrderInfo,
    Position,
    PreparedRequest,
    Solvency,
    Ticker,
    Trade,
    UserTrade,
    WireError,
    items_of,
    parse_account_event,
    parse_ack,
    parse_asset_info,
    parse_book,
    parse_close_all,
    parse_inventory,
    parse_kline,
    parse_margin,
    parse_market,
    parse_order,
    parse_order_event,
    parse_position,
    parse_solvency,
    parse_ticker,
    parse_trade,
    parse_user_trade,
)

Auth = Literal["R", "O", "-"]
MAX_PAGES = 50
_SYMBOL = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,31}")
CREATE_PATH = "/orders/create"
BATCH_CREATE_PATH = "/orders/batch-create"


class TplusClient:
    """Async context manager speaking the T+ protocol to a network venue or an injected transport."""

    def __init__(
        self,
        base_url: str,
        *,
        seed: bytes | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        ws_connect: ws.WsConnect | None = None,
        timeout: float = 10.0,
        clock_ns: Callable[[], int] = time.time_ns,
        retry: RetryPolicy | None = None,
        auth_cosigners: Sequence[bytes] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = make_http(self.base_url, transport=transport, timeout=timeout)
        self._ws_connect = ws_connect or ws.websockets_connect
        self._clock = clock_ns
        self._retry = retry or RetryPolicy()
        self._session = Session(seed, clock_ns=clock_ns, cosigners=auth_cosigners)
        self._seed = seed
        self._markets: dict[str, Market] = {}
        self._assets: dict[str, AssetInfo] | None = None
        self._revisions: dict[str, int] = {}
        self._last_nonce_ms = 0

    @property
    def public_key(self) -> str | None:
        """The account public key (hex), or None for an anonymous client."""
        return self._session.public_key

    async def __aenter__(self) -> TplusClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._http.aclose()

    # --- plumbing ---------------------------------------------------------------------------

    def _pk(self) -> str:
        if self.public_key is None:
            raise AuthFailed("this call needs an account key, and none is configured")
        return self.public_key

    async def _auth_headers(self, auth: Auth, rejected: str | None = None) -> dict[str, str]:
        if auth == "-" or (auth == "O" and not self._session.has_key):
            return {}
        if auth == "R":
            return await self._session.headers(self._http, rejected=rejected)
        try:  # "O": authenticate opportunistically, fall back to anonymous (spec §4.3)
            return await self._session.headers(self._http, rejected=rejected)
        except ClientError:
            return {}

    async def _call(
        self, method: str, path: str, *, auth: Auth, query: Query = (), body: Any = None
    ) -> Any:
        """One request with the single 401/403 re-auth retry (spec §4.4); errors per §7.2."""
        headers = await self._auth_headers(auth)
        response = await send(self._http, method, path, query=query, body=body, headers=headers)
        if response.status_code in (401, 403) and headers:
            rejected = headers["Authorization"].removeprefix("Bearer ")
            headers = await self._auth_headers(auth, rejected=rejected)
            response = await send(self._http, method, path, query=query, body=body, headers=headers)
        if not response.is_success:
            raise error_from_response(response.status_code, response.content, response.headers)
        return decode_body(response)

    async def _read(self, path: str, *, auth: Auth, query: Query = ()) -> Any:
        return await retrying(self._retry, lambda: self._call("GET", path, auth=auth, query=query))

    # --- markets and assets -------------------------------------------------------------

    async def markets(self) -> list[Market]:
        """All markets with symbols, paging `/markets?include_symbol_map=true`."""
        found: list[Market] = []
        symbols: dict[str, AssetInfo] = {}
        page = 0
        for _ in range(MAX_PAGES):
            query = [("include_symbol_map", "true"), ("page", str(page)), ("limit", "1000")]
            payload = await self._read("/markets", auth="O", query=query)
            for key, entry in (payload.get("symbol_map") or {}).items():
                symbols[str(key)] = parse_asset_info(str(key), entry)
            raw_markets = items_of(payload, "markets")
            found.extend(parse_market(m) for m in raw_markets)
            if not payload.get("has_next_page"):
                break
            page = int(payload.get("next_page") or page + 1)
        self._assets = symbols
        named = [self._named(m) for m in found]
        self._markets.update({m.asset_id: m for m in named})
        return named

    def _named(self, market: Market) -> Market:
        info = (self._assets or {}).get(market.asset_id)
        if info is None or market.symbol == info.symbol:
            return market
        return parse_market(market.raw, symbol=info.symbol)

    async def assets(self) -> dict[str, AssetInfo]:
        """Index string → asset info, from the markets' symbol map (fetched once)."""
        if self._assets is None:
            await self.markets()
        return dict(self._assets or {})

    async def resolve_asset(self, ref: str | int) -> str:
        """ "BTC" | "btc" | "2" | "addr@chain" → wire asset id; malformed → InvalidInput, unknown → NotFound."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            ref = str(ref)
        if not isinstance(ref, str) or not ref.strip():
            raise InvalidInput(f"asset must be a symbol, an index or address@chain, got {ref!r}")
        ref = ref.strip()
        if (ref.isascii() and ref.isdecimal()) or "@" in ref:
            try:
                return asset_ids.normalize_asset_id(ref)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
        if not _SYMBOL.fullmatch(ref):
            raise InvalidInput(f"asset {ref!r}: expected a symbol, an index or address@chain")
        wanted = ref.upper()
        for index, info in sorted((await self.assets()).items(), key=lambda kv: kv[0]):
            names = {info.symbol.upper(), *(r.upper() for r in info.representations)}
            if wanted in names:
                return index
        raise NotFound(f"unknown asset {ref!r}", code="ASSET_NOT_FOUND")

    async def market(self, asset: str | int) -> Market:
        """The market of `asset` (cached for the client's lifetime, like tpluspy)."""
        asset_id = await self.resolve_asset(asset)
        cached = self._markets.get(asset_id)
        if cached is not None:
            return self._named(cached)
        payload = await self._read(f"/market/{asset_id}", auth="O")
        market = self._named(parse_market(payload))
        self._markets[asset_id] = market
        return market

    async def _trading_market(self, asset: str | int) -> Market:
        """market() for order entry: an unknown asset is bad input, not a venue failure."""
        try:
            return await self.market(asset)
        except NotFound as exc:
            raise InvalidInput(f"unknown asset {asset!r}: {exc.message}") from None

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
        """Parse OrderResponse rows with their market decimals; malformed rows are dropped (§5.3)."""
        out: list[OrderInfo] = []
        for row in rows:
            try:
                asset = str(row["base_asset"])
                market = await self.market(asset)
                out.append(parse_order(row, market.price_decimals, market.quantity_decimals))
            except (KeyError, TypeError, WireError, InvalidInput):
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
            if exc.code is None and asset is None:
                raise
            return []
        orders = await self._orders_from(rows)
        return [o for o in orders if o.is_open] if open_only else orders

    async def find_order(self, order_id: str, asset: str | int | None = None) -> OrderInfo | None:
        """Our order with this id (searching one book if `asset` is given), or None."""
        for order in await self.user_orders(asset):
            if order.order_id == order_id:
                return order
        return None

    async def inventory(self) -> Inventory:
        """Balances per sub-account and asset (human units); an unknown user has none."""
        try:
            payload = await self._read(f"/inventory/user/{self._pk()}", auth="R")
        except NotFound as exc:
            if exc.code is None:
                raise
            return Inventory(())
        return parse_inventory(payload)

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
        try:
            payload = await self._read(f"/solvency/user/{self._pk()}", auth="R")
        except NotFound as exc:
            if exc.code is None:
                raise
            return Solvency({})
        return parse_solvency(payload)

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

    # --- order entry --------------------------------------------------------------------------

    def _signing_seed(self) -> bytes:
        if self._seed is None:
            raise AuthFailed("placing orders needs an account key, and none is configured")
        return self._seed

    def _create_request(
        self,
        market: Market,
        order_id: str | None,
        build_order: Callable[[str, int], dict[str, Any]],
    ) -> PreparedRequest:
        seed = self._signing_seed()
        oid = build.check_order_id(order_id) if order_id is not None else signing.new_order_id()
        order = build_order(oid, self._clock())
        sigs = signing.sign_object(order, master=seed)
        body = signing.create_body(order, sigs, self._clock())
        return PreparedRequest("POST", CREATE_PATH, body, oid)

    async def prepare_limit(
        self,
        asset: str | int,
        side: str,
        quantity: Decimal | str | int,
        price: Decimal | str | int,
        *,
        tif: build.Tif = "gtc",
        until_ns: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        trigger_above: Decimal | str | None = None,
        trigger_below: Decimal | str | None = None,
        parent_order_id: str | None = None,
        order_id: str | None = None,
        sub_account: int = 1,
        is_spot: bool = True,
        max_fee_rate: int = signing.DEFAULT_MAX_TRADING_FEES_RATE,
    ) -> PreparedRequest:
        """Validate, convert and sign a limit order; nothing is sent."""
        wire_side = build.side_of(side)
        build.check_sub_account(sub_account)
        build.check_fee_rate(max_fee_rate)
        if order_id is not None:
            build.check_order_id(order_id)
        build.positive(quantity, "quantity")
        build.positive(price, "price")
        for name, value in (("trigger_above", trigger_above), ("trigger_below", trigger_below)):
            if value is not None:
                build.positive(value, name)
        if trigger_above is not None and trigger_below is not None:
            raise InvalidInput("give at most one of trigger_above / trigger_below")
        build.tif_object(tif, until_ns=until_ns, post_only=post_only, now_ns=None)
        market = await self._trading_market(asset)
        qty = build.quantity_int(market, quantity)
        px = build.price_int(market, price)
        trig = build.trigger(market, trigger_above, trigger_below, parent_order_id)

        def order(oid: str, now: int) -> dict[str, Any]:
            tif_obj = build.tif_object(tif, until_ns=until_ns, post_only=post_only, now_ns=now)
            return signing.order_object(
                signer=self._pk(),
                order_id=oid,
                base_asset=market.asset_id,
                price_decimals=market.price_decimals,
                quantity_decimals=market.quantity_decimals,
                details=signing.limit_details(px, qty, tif_obj),
                side=wire_side,
                trigger=trig,
                creation_timestamp_ns=now,
                target=signing.target_object(sub_account, is_spot),
                reduce_only=reduce_only,
                max_trading_fees_rate=max_fee_rate,
            )

        return self._create_request(market, order_id, order)

    async def prepare_market(
        self,
        asset: str | int,
        side: str,
        quantity: Decimal | str | int,
        *,
        quote: bool = False,
        max_sellable_amount: Decimal | str | None = None,
        max_sellable_quantity: Decimal | str | None = None,
        fill_or_kill: bool = False,
        trigger_above: Decimal | str | None = None,
        trigger_below: Decimal | str | None = None,
        parent_order_id: str | None = None,
        order_id: str | None = None,
        sub_account: int = 1,
        is_spot: bool = True,
        max_fee_rate: int = signing.DEFAULT_MAX_TRADING_FEES_RATE,
        price: object = None,
    ) -> PreparedRequest:
        """Validate, convert and sign a market order sized in base (default) or quote units.

        `max_sellable_amount` caps the quote spent (base-sized orders only);
        `max_sellable_quantity` caps the base sold (quote-sized orders only). `price` exists
        only to refuse it clearly: market orders take no price.
        """
        if price is not None:
            raise InvalidInput("a market order takes no price (use a limit order)")
        wire_side = build.side_of(side)
        build.check_sub_account(sub_account)
        build.check_fee_rate(max_fee_rate)
        if order_id is not None:
            build.check_order_id(order_id)
        if quote and max_sellable_amount is not None:
            raise InvalidInput("max_sellable_amount (a quote cap) pairs only with a base quantity")
        if not quote and max_sellable_quantity is not None:
            raise InvalidInput(
                "max_sellable_quantity (a base cap) pairs only with a quote quantity"
            )
        build.positive(quantity, "quantity" if not quote else "quote quantity")
        for name, value in (
            ("max_sellable_amount", max_sellable_amount),
            ("max_sellable_quantity", max_sellable_quantity),
            ("trigger_above", trigger_above),
            ("trigger_below", trigger_below),
        ):
            if value is not None:
                build.positive(value, name)
        market = await self._trading_market(asset)
        pd, qd = market.price_decimals, market.quantity_decimals
        if quote:
            details = signing.market_details(
                quote_quantity=build.book_int(quantity, pd, "quote quantity"),
                max_sellable_quantity=None
                if max_sellable_quantity is None
                else build.book_int(max_sellable_quantity, qd, "max_sellable_quantity"),
                fill_or_kill=fill_or_kill,
            )
        else:
            details = signing.market_details(
                base_quantity=build.quantity_int(market, quantity),
                max_sellable_amount=None
                if max_sellable_amount is None
                else build.book_int(max_sellable_amount, pd, "max_sellable_amount"),
                fill_or_kill=fill_or_kill,
            )
        trig = build.trigger(market, trigger_above, trigger_below, parent_order_id)

        def order(oid: str, now: int) -> dict[str, Any]:
            return signing.order_object(
                signer=self._pk(),
                order_id=oid,
                base_asset=market.asset_id,
                price_decimals=pd,
                quantity_decimals=qd,
                details=details,
                side=wire_side,
                trigger=trig,
                creation_timestamp_ns=now,
                target=signing.target_object(sub_account, is_spot),
                reduce_only=False,
                max_trading_fees_rate=max_fee_rate,
            )

        return self._create_request(market, order_id, order)

    async def submit(self, prep: PreparedRequest) -> OrderAck:
        """Send a prepared create (or replace); a lost answer is settled by lookup, never re-sent."""
        asset = _asset_of(prep)
        try:
            payload = await self._call(prep.method, prep.path, auth="R", body=prep.body)
        except (Unavailable, ServerError) as exc:
            if prep.order_id is None:
                raise
            return await self._settle(prep, asset, exc)
        except ClientError as exc:
            raise _as_rejection(exc, prep.order_id) from None
        return parse_ack(payload)

    async def _settle(self, prep: PreparedRequest, asset: str, cause: ClientError) -> OrderAck:
        """After an uncertain create/replace: placed → ack, not placed → raise, unknown → Ambiguous."""
        assert prep.order_id is not None
        oid = prep.order_id
        if isinstance(cause, Unavailable) and not cause.maybe_delivered:
            raise Unavailable(
                f"order {oid} was not sent ({cause.message}); safe to retry", code=cause.code
            ) from cause
        try:
            live = await self.find_order(oid, asset)
        except ClientError as lookup:
            raise AmbiguousOutcome(
                f"order {oid}: {cause.message}, and the follow-up lookup failed ({lookup}); "
                f"check with `orders get {oid}` before retrying",
                order_id=oid,
                retryable=False,
            ) from cause
        request = prep.body.get("request")
        if isinstance(request, dict):  # replace: did the new terms take effect?
            applied = live is not None and (
                live.authorization_revision == request["timestamp_ns"]
                or (
                    live.limit_price_raw == request["new_price_limit"]
                    and live.quantity_raw == request["new_quantity"]
                )
            )
        else:
            applied = live is not None
        if applied:
            return OrderAck(oid, "Received", reason=f"confirmed by lookup after: {cause.message}")
        if isinstance(cause, Unavailable):
            raise Unavailable(
                f"order {oid} was not placed (checked after: {cause.message}); safe to retry",
                code=cause.code,
            ) from cause
        raise cause

    async def place_limit(
        self, asset: str | int, side: str, quantity: Any, price: Any, **kw: Any
    ) -> OrderAck:
        """prepare_limit() + submit()."""
        return await self.submit(await self.prepare_limit(asset, side, quantity, price, **kw))

    async def place_market(self, asset: str | int, side: str, quantity: Any, **kw: Any) -> OrderAck:
        """prepare_market() + submit()."""
        return await self.submit(await self.prepare_market(asset, side, quantity, **kw))

    async def batch_create(self, preps: Sequence[PreparedRequest]) -> list[OrderAck]:
        """Submit several prepared creates in one request; a lost answer is settled per id."""
        if not preps or any(p.path != CREATE_PATH for p in preps):
            raise InvalidInput("batch_create takes one or more prepared creates")
        body = {"orders": [dict(p.body) for p in preps]}
        try:
            payload = await self._call("POST", BATCH_CREATE_PATH, auth="R", body=body)
        except (Unavailable, ServerError) as exc:
            return [await self._settle_in_batch(p, exc) for p in preps]
        return [parse_ack(r) for r in items_of(payload, "results")]

    async def _settle_in_batch(self, prep: PreparedRequest, cause: ClientError) -> OrderAck:
        try:
            return await self._settle(prep, _asset_of(prep), cause)
        except Unavailable as exc:
            return OrderAck(prep.order_id or "", "Rejected", reason=exc.message)

    async def cancel(self, order_id: str, asset: str | int | None = None) -> OrderAck:
        """Cancel one order (finding its book when `asset` is None); retried like a read."""
        seed = self._signing_seed()
        build.check_order_id(order_id)
        if asset is None:
            live = await self.find_order(order_id)
            if live is None:
                raise NotFound(f"no order {order_id!r} for this account", code="ORDER_NOT_FOUND")
            asset_id = live.asset_id
        else:
            asset_id = await self.resolve_asset(asset)
        obj = signing.cancel_object(order_id=order_id, asset_id=asset_id, signer=self._pk())
        body = signing.cancel_body(obj, signing.sign_object(obj, master=seed), self._clock())
        payload = await retrying(
            self._retry, lambda: self._call("DELETE", "/orders/cancel", auth="R", body=body)
        )
        return parse_ack(payload)

    async def prepare_replace(
        self,
        order_id: str,
        asset: str | int,
        *,
        price: Decimal | str | None = None,
        quantity: Decimal | str | None = None,
        trigger_above: Decimal | str | None = None,
        trigger_below: Decimal | str | None = None,
        clear_trigger: bool = False,
    ) -> PreparedRequest:
        """Sign a replace restating the full terms; unchanged price/quantity/trigger come from the live order.

        `quantity` is the new lifetime total (not the remaining part). The trigger is kept
        unless a new one is given or `clear_trigger` is set.
        """
        seed = self._signing_seed()
        build.check_order_id(order_id)
        if price is None and quantity is None and trigger_above is None and trigger_below is None:
            if not clear_trigger:
                raise InvalidInput("replace needs a new price, quantity or trigger")
        if clear_trigger and (trigger_above is not None or trigger_below is not None):
            raise InvalidInput("clear_trigger contradicts a new trigger")
        for name, value in (
            ("price", price),
            ("quantity", quantity),
            ("trigger_above", trigger_above),
            ("trigger_below", trigger_below),
        ):
            if value is not None:
                build.positive(value, name)
        market = await self._trading_market(asset)
        new_px = None if price is None else build.price_int(market, price)
        new_qty = None if quantity is None else build.quantity_int(market, quantity)
        new_trig = build.trigger(market, trigger_above, trigger_below, None)
        live = await self.find_order(order_id, market.asset_id)
        if live is None:
            raise NotFound(
                f"no live order {order_id!r} on {market.asset_id}", code="ORDER_NOT_FOUND"
            )
        if new_px is None:
            if live.limit_price_raw is None:
                raise InvalidInput(f"order {order_id} has no limit price; give one")
            new_px = live.limit_price_raw
        condition: dict[str, Any] | None
        if new_trig is not None:
            condition = new_trig["condition"]
        elif clear_trigger:
            condition = None
        elif live.trigger_above_raw is not None:
            condition = signing.price_above(live.trigger_above_raw)
        elif live.trigger_below_raw is not None:
            condition = signing.price_below(live.trigger_below_raw)
        else:
            condition = None
        request = signing.replace_object(
            order_id=order_id,
            base_asset=market.asset_id,
            timestamp_ns=self._clock(),
            new_price_limit=new_px,
            new_quantity=live.quantity_raw if new_qty is None else new_qty,
            new_trigger=condition,
            book_quantity_decimals=market.quantity_decimals,
            book_price_decimals=market.price_decimals,
        )
        sigs = signing.sign_object(request, master=seed)
        body = signing.replace_body(request, self._pk(), sigs, self._clock())
        return PreparedRequest("PATCH", "/orders/replace", body, order_id)

    async def replace(self, order_id: str, asset: str | int, **terms: Any) -> OrderAck:
        """prepare_replace() + submit(); remembers the new authorization revision for amend()."""
        prep = await self.prepare_replace(order_id, asset, **terms)
        ack = await self.submit(prep)
        if ack.accepted:
            self._revisions[order_id] = prep.body["request"]["timestamp_ns"]
        return ack

    async def batch_replace(self, preps: Sequence[PreparedRequest]) -> list[OrderAck]:
        """Submit up to 50 prepared replaces (unique ids) in one request; never re-sent."""
        ids = [p.order_id for p in preps]
        if not preps or len(preps) > 50 or len(set(ids)) != len(ids):
            raise InvalidInput("batch_replace takes 1..50 prepared replaces with unique order ids")
        if any(p.path != "/orders/replace" for p in preps):
            raise InvalidInput("batch_replace takes prepared replaces only")
        body = {"replaces": [dict(p.body) for p in preps]}
        try:
            payload = await self._call("PATCH", "/orders/batch-replace", auth="R", body=body)
        except (Unavailable, ServerError) as exc:
            return [await self._settle_in_batch(p, exc) for p in preps]
        acks = [parse_ack(r) for r in items_of(payload, "results")]
        for prep, ack in zip(preps, acks, strict=False):
            if ack.accepted and prep.order_id is not None:
                self._revisions[prep.order_id] = prep.body["request"]["timestamp_ns"]
        return acks

    async def amend(self, order_id: str, asset: str | int, quantity: Decimal | str) -> OrderAck:
        """Reduce an order's lifetime-total quantity (unsigned; bearer session only).

        expected_authorization_revision: the revision the venue reports for the order if it
        does (`authorization_revision` on the order row), else the timestamp of the last
        replace/amend this client made, else null (original signed terms).
        """
        build.check_order_id(order_id)
        build.positive(quantity, "quantity")
        market = await self._trading_market(asset)
        new_qty = build.quantity_int(market, quantity)
        live = await self.find_order(order_id, market.asset_id)
        if live is None:
            raise NotFound(
                f"no live order {order_id!r} on {market.asset_id}", code="ORDER_NOT_FOUND"
            )
        if new_qty >= live.quantity_raw:
            raise InvalidInput(
                f"amend can only reduce the quantity (now {live.quantity}); use replace to grow it"
            )
        revision = live.authorization_revision or self._revisions.get(order_id)
        now = self._clock()
        body = signing.amend_body(
            order_id=order_id,
            base_asset=market.asset_id,
            new_quantity=new_qty,
            book_quantity_decimals=market.quantity_decimals,
            expected_authorization_revision=revision,
            timestamp_ns=now,
            user_id=self._pk(),
        )
        ack = parse_ack(await self._call("PATCH", "/orders/amend", auth="R", body=body))
        if ack.accepted:
            self._revisions[order_id] = now
        return ack

    # --- account transfers --------------------------------------------------------------

    def _nonce_ms(self, nonce: int | None) -> int:
        if nonce is not None:
            return nonce
        self._last_nonce_ms = max(self._last_nonce_ms + 1, self._clock() // 1_000_000)
        return self._last_nonce_ms

    async def _signed_inner(self, path: str, inner: dict[str, Any]) -> dict[str, Any]:
        sigs = signing.sign_object(inner, master=self._signing_seed(), ensure_ascii=True)
        try:
            payload = await self._call("POST", path, auth="R", body=signing.inner_body(inner, sigs))
        except Unavailable as exc:
            if not exc.maybe_delivered:
                raise
            raise AmbiguousOutcome(
                f"{path}: {exc.message}; the outcome is unknown, check balances before retrying",
                order_id=None,
            ) from exc
        return payload if isinstance(payload, dict) else {"result": payload}

    async def transfer(
        self,
        asset: str | int,
        amount: Decimal | str,
        source: int,
        target: int,
        *,
        nonce: int | None = None,
    ) -> dict[str, Any]:
        """Move `amount` (human units) of `asset` between sub-accounts; returns the venue's reply."""
        build.check_sub_account(source)
        build.check_sub_account(target)
        if source == target:
            raise InvalidInput("source and target sub-accounts are the same")
        build.positive(amount, "amount")
        try:
            raw = units.to_inventory_units(amount, what="amount")
        except units.UnitsError as exc:
            raise InvalidInput(str(exc)) from None
        asset_id = await self.resolve_asset(asset)
        inner = signing.transfer_object(
            user=self._pk(),
            source_index=source,
            target_index=target,
            transfer_asset=asset_id,
            transfer_amount=raw,
            nonce=self._nonce_ms(nonce),
        )
        return await self._signed_inner("/account/transfer/sub-account", inner)

    async def close_position(
        self, asset: str | int, sub_account: int, *, nonce: int | None = None
    ) -> dict[str, Any]:
        """Settle a margin position's realized PnL into spot and remove it (not a trade)."""
        build.check_sub_account(sub_account)
        asset_id = await self.resolve_asset(asset)
        inner = signing.close_position_object(
            user=self._pk(),
            account=sub_account,
            asset_identifier=asset_id,
            nonce=self._nonce_ms(nonce),
        )
        return await self._signed_inner("/account/transfer/close-position", inner)

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


def _as_rejection(error: ClientError, order_id: str | None) -> ClientError:
    """A write refused with an unclassified 4xx (e.g. INSUFFICIENT_BALANCE) is a rejection."""
    if type(error) is not ClientError or error.status is None or not 400 <= error.status < 500:
        return error
    return Rejected(
        error.message,
        order_id=order_id,
        code=error.code,
        status=error.status,
        retryable=False,
        details=error.details,
    )


def _asset_of(prep: PreparedRequest) -> str:
    """The book a prepared create/replace targets."""
    body = prep.body
    if "order" in body:
        return str(body["order"]["base_asset"])
    if "request" in body:
        return str(body["request"]["base_asset"])
    raise InvalidInput(f"not an order request: {prep.method} {prep.path}")


__all__ = ["NO_RETRY", "RetryPolicy", "TplusClient"]
