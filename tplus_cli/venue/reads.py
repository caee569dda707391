"""Read endpoints: markets, orders, balances, positions and MDS market data (spec §5, §6).

Container types follow spec §10.1.6: bare lists where tpluspy insists on them, page
envelopes with flattened PageMeta elsewhere. Per-user reads answer only the caller's own
account (403 otherwise) and 404 USER_NOT_FOUND for an account the venue has never seen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tplus_cli.venue.context import Ctx, asset_param, paginate
from tplus_cli.venue.markets import asset_table
from tplus_cli.venue.protocol import ApiError

if TYPE_CHECKING:
    from tplus_cli.venue.exchange import Exchange
    from tplus_cli.venue.handlers import Venue

MAX_LIMIT = 1000


def _ex(v: Venue) -> Exchange:
    return v.replica.exchange


def _asset(v: Venue, raw: str) -> str:
    """A path asset that names a market, as its canonical id; else 404 MARKET_NOT_FOUND."""
    asset = asset_param(raw)
    _ex(v).market_json(asset)  # raises NotFound(MARKET_NOT_FOUND) for an unknown market
    return asset


def _known_user(v: Venue, ctx: Ctx) -> str:
    """The {pk} of a per-user read: the caller's own, and known to the venue."""
    user = ctx.own_pk()
    if not _ex(v).has_user(user):
        raise ApiError(404, "USER_NOT_FOUND", "the venue has never seen this account")
    return user


def _page(ctx: Ctx, default_limit: int = MAX_LIMIT) -> tuple[int, int]:
    return ctx.q_int("page", 0), ctx.q_int("limit", default_limit, lo=1, hi=MAX_LIMIT)


def health(v: Venue, ctx: Ctx) -> object:
    """GET /health: liveness plus the journal head."""
    return {"status": "ok", "seq": v.replica.seq, "time_ns": ctx.now_ns}


# ---------------------------------------------------------------------- markets


def market(v: Venue, ctx: Ctx) -> object:
    """GET /market/{asset}."""
    return _ex(v).market_json(_asset(v, ctx.params["asset"]))


def market_create(v: Venue, ctx: Ctx) -> object:
    """POST /market/create: idempotent; answers the existing market (no new markets locally)."""
    asset = ctx.body().get("asset_id")
    if not isinstance(asset, str | int) or isinstance(asset, bool):
        raise ApiError(400, "INVALID_REQUEST", "asset_id must be an asset id string")
    return _ex(v).market_json(_asset(v, str(asset)))


def markets(v: Venue, ctx: Ctx) -> object:
    """GET /markets?include_symbol_map=&page=&limit=."""
    page, limit = _page(ctx)
    return _ex(v).markets_json(
        include_symbol_map=ctx.q_bool("include_symbol_map"), page=page, limit=limit
    )


def registry_assets(v: Venue, ctx: Ctx) -> object:
    """GET /registry/assets: index → symbol info."""
    return {k: a.to_json() for k, a in asset_table().items()}


# ---------------------------------------------------------------------- orders


def user_orders_page(v: Venue, ctx: Ctx) -> object:
    """GET /orders/user/{pk}?page=&limit=: OMS page envelope of OrderResponse rows."""
    user = _known_user(v, ctx)
    rows = _ex(v).user_orders_json(user, None, ctx.q_bool("open_only"))
    chunk, meta = paginate(rows, *_page(ctx))
    return {"orders": chunk, "total_orders": len(rows), **meta}


def user_orders_for_book(v: Venue, ctx: Ctx) -> object:
    """GET /orders/user/{pk}/{asset}: a bare list (spec §5.3)."""
    user = _known_user(v, ctx)
    rows = _ex(v).user_orders_json(user, _asset(v, ctx.params["asset"]), ctx.q_bool("open_only"))
    chunk, _ = paginate(rows, *_page(ctx))
    return chunk


# ---------------------------------------------------------------------- accounts


def inventory(v: Venue, ctx: Ctx) -> object:
    """GET /inventory/user/{pk}."""
    return _ex(v).inventory_json(_known_user(v, ctx))


def solvency(v: Venue, ctx: Ctx) -> object:
    """GET /solvency/user/{pk}."""
    return _ex(v).solvency_json(_known_user(v, ctx))


def margin(v: Venue, ctx: Ctx) -> object:
    """GET /margin/user/{pk}?sub_account=&include_positions=."""
    user = _known_user(v, ctx)
    return _ex(v).margin_json(
        user, ctx.q_opt_int("sub_account", hi=255), ctx.q_bool("include_positions")
    )


def positions(v: Venue, ctx: Ctx) -> object:
    """GET /positions/{pk}[/{asset}]?sub_account=&page=&limit=: positions page."""
    user = _known_user(v, ctx)
    asset = _asset(v, ctx.params["asset"]) if "asset" in ctx.params else None
    rows = _ex(v).positions_json(user, ctx.q_opt_int("sub_account", hi=255), asset)["positions"]
    chunk, meta = paginate(rows, *_page(ctx))
    return {"positions": chunk, "total_positions": len(rows), **meta}


def close_all_preview(v: Venue, ctx: Ctx) -> object:
    """GET /positions/close-all/{pk}/{sub}: unsigned reduce-only orders closing every position."""
    user = _known_user(v, ctx)
    try:
        sub = int(ctx.params["sub"])
    except ValueError:
        raise ApiError(400, "INVALID_REQUEST", "sub-account must be an integer") from None
    return _ex(v).close_all_json(user, sub)


def multisig_config(v: Venue, ctx: Ctx) -> object:
    """GET /multisig/config/{pk}: the default configuration (no multisig on the local venue)."""
    ctx.own_pk()
    return {"master_weight": 1, "signers": [], "thresholds": {"low": 1, "medium": 1, "high": 1}}


def multisig_signers(v: Venue, ctx: Ctx) -> object:
    """POST /multisig/signers: no additional signers are ever registered locally."""
    return []


# ---------------------------------------------------------------------- market data


def depth(v: Venue, ctx: Ctx) -> object:
    """GET /marketdepth/{asset}: snapshot with the diff stream's sequence number."""
    return _ex(v).book_json(_asset(v, ctx.params["asset"]), ctx.q_opt_int("depth", hi=MAX_LIMIT))


def klines(v: Venue, ctx: Ctx) -> object:
    """GET /klines/{asset}?end_timestamp_ns=&interval=&page=&limit=."""
    asset = _asset(v, ctx.params["asset"])
    page, limit = _page(ctx, 500)
    try:
        return _ex(v).klines_json(
            asset,
            ctx.req.query.get("interval") or "1",
            end_timestamp_ns=ctx.q_opt_int("end_timestamp_ns", hi=2**63),
            page=page,
            limit=limit,
        )
    except ValueError as exc:
        raise ApiError(400, "INVALID_REQUEST", str(exc)) from None


def ticker(v: Venue, ctx: Ctx) -> object:
    """GET /ticker/{asset}."""
    return _ex(v).ticker_json(_asset(v, ctx.params["asset"]))


def tickers(v: Venue, ctx: Ctx) -> object:
    """GET /tickers: a list."""
    return _ex(v).tickers_json()


def trades(v: Venue, ctx: Ctx) -> object:
    """GET /trades and /trades/{asset}?page=&limit=: a bare list, newest first."""
    asset = _asset(v, ctx.params["asset"]) if "asset" in ctx.params else None
    page, limit = _page(ctx, 100)
    return _ex(v).trades_json(asset, limit, page)


def user_trades(v: Venue, ctx: Ctx) -> object:
    """GET /trades/user/{pk}[/{asset}]: MDS history page of HistoricalUserTrade rows."""
    user = _known_user(v, ctx)
    asset = _asset(v, ctx.params["asset"]) if "asset" in ctx.params else None
    page, limit = _page(ctx, 100)
    side = (ctx.req.query.get("side") or "").lower()
    return _ex(v).user_trades_json(
        user,
        asset,
        sub_account=ctx.q_opt_int("sub_account", hi=255),
        start_time=ctx.q_opt_int("start_time", hi=2**63),
        end_time=ctx.q_opt_int("end_time", hi=2**63),
        side=side if side in ("buy", "sell") else None,
        page=page,
        limit=limit,
    )


def open_interest(v: Venue, ctx: Ctx) -> object:
    """GET /openinterest/{asset}."""
    return _ex(v).open_interest_json(_asset(v, ctx.params["asset"]))


def open_interest_all(v: Venue, ctx: Ctx) -> object:
    """GET /openinterest: a list."""
    return [_ex(v).open_interest_json(t["asset_id"]) for t in _ex(v).tickers_json()]
