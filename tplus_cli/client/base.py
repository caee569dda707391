"""The client core: HTTP plumbing (auth per endpoint class, the single 401 retry), markets and assets."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from tplus_cli.client import assets as asset_ids
from tplus_cli.client import ws
from tplus_cli.client.auth import Session
from tplus_cli.client.errors import (
    AuthFailed,
    ClientError,
    InvalidInput,
    NotFound,
    error_from_response,
)
from tplus_cli.client.retry import RetryPolicy, retrying
from tplus_cli.client.transport import Query, decode_body, make_http, send
from tplus_cli.client.wire import (
    AssetInfo,
    Market,
    items_of,
    parse_asset_info,
    parse_market,
)

Auth = Literal["R", "O", "-"]
MAX_PAGES = 50
_SYMBOL = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,31}")


class ClientBase:
    """Connection, session and market/asset caches shared by every part of TplusClient."""

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

    async def __aenter__(self) -> Self:
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

    async def _read_stored(self, path: str, *, auth: Auth, query: Query = ()) -> Any | None:
        """A read of per-user state: None when the venue says nothing is stored (a NotFound
        with a code, e.g. an unknown user); a bare 404 (wrong path) still raises."""
        try:
            return await self._read(path, auth=auth, query=query)
        except NotFound as exc:
            if exc.code is None:
                raise
            return None

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
        """Symbol (any case), index or address@chain → wire asset id.

        Malformed references are InvalidInput (no request); unknown symbols are NotFound.
        """
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
