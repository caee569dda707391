"""The venue's deterministic state machine: commands in, wire events and JSON views out.

`Exchange.apply(command)` is the only way state changes. It takes time from the command
(clamped so it never runs backwards), does no I/O, and returns an `ApplyResult` whose events
are already in spec wire form, keyed by channel:

* ``orders/<pk>``        {"Created"|"Removed"|"Replaced"|"Amended"|"Triggered"|"CreateFailed"|
                         "ReplaceFailed"|"AmendFailed"|"CancelFailed": {...}} (spec §8.3.1)
* ``user_trades/<pk>``   UserTrade: every fill is sent as "Pending" then "Confirmed" (settlement
                         is instant here; the finalized stream should forward only "Confirmed")
* ``trades/<asset>``     public Trade, ``buyer_is_maker`` set, status "Confirmed"
* ``depth/<asset>``      {"bids","asks","sequence_number"}: absolute level sizes of the levels
                         that changed in this command, "0" deletes; one sequence number per diff
* ``ticker/<asset>``     Ticker, after a trade or a change of the best bid/ask
* ``klines/<asset>``     [Timebar] (the 1-minute bar a trade updated)
* ``account/<pk>``       {"SubAccountAssetTransferred"|"PositionCleared": {...}} (spec §8.3.2)
* ``positions/<pk>``     PositionUpdate {"user_id","positions":[Position],"timestamp_ns"}, the
                         complete list, after a margin fill or a close-position

Same commands from the same snapshot give the same state and events, so the store can replay
its journal. Query methods return the JSON bodies tpluspy parses; unknown users and markets
raise `NotFound` (the handler answers 404 with its code).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from tplus_cli.venue import engine as eng
from tplus_cli.venue.accounts import AccountViews
from tplus_cli.venue.commands import (
    AmendOrder,
    CancelOrder,
    ClosePosition,
    Command,
    CreateOrder,
    EnsureUser,
    ReplaceOrder,
    Tick,
    Transfer,
    command_from_dict,
)
from tplus_cli.venue.engine import Engine, EngineEvent, Order, PlanItem, RejectError
from tplus_cli.venue.ledger import Ledger, LedgerError, UnknownUser
from tplus_cli.venue.marketdata import MarketData, parse_interval
from tplus_cli.venue.markets import (
    DEFAULT_FUNDING,
    DEFAULT_MARKETS,
    INVENTORY_DECIMALS,
    QUOTE_ASSET,
    FundingConfig,
    MarketConfig,
    asset_table,
    fmt_units,
)
from tplus_cli.venue.orderwire import (
    amended_event,
    created_event,
    failed_event,
    market_for,
    order_from_json,
    order_row,
    order_to_json,
    parse_order,
    parse_trigger_condition,
    removed_event,
    replaced_event,
    triggered_event,
)

__all__ = [
    "SNAPSHOT_FORMAT_VERSION",
    "AmendOrder",
    "ApplyResult",
    "CancelOrder",
    "ClosePosition",
    "Command",
    "CreateOrder",
    "EnsureUser",
    "Event",
    "Exchange",
    "NotFound",
    "ReplaceOrder",
    "Tick",
    "Transfer",
    "command_from_dict",
    "http_status",
]

FORMAT_VERSION = 1
SNAPSHOT_FORMAT_VERSION = FORMAT_VERSION
ORDER_HISTORY = 1_000  # finished orders kept per user for GET /orders/user
TRADE_HISTORY = 1_000  # user trades kept per user for GET /trades/user
RECENT_IDS = 5_000  # order ids per user remembered for DUPLICATE_ORDER


class NotFound(LookupError):
    """A query named an unknown user or market; `code` ends in _NOT_FOUND."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Event:
    """One stream frame: `payload` is already the wire JSON for `channel`."""

    channel: str
    payload: Any


@dataclass(frozen=True)
class ApplyResult:
    """What one command did: events in order, the OrderOperationResponse-like ack, the error."""

    events: list[Event] = field(default_factory=list)
    ack: dict[str, Any] | None = None
    error: tuple[int, str, str] | None = None


def http_status(code: str) -> int:
    """The HTTP status that goes with a stable reject code."""
    if code.endswith("_NOT_FOUND"):
        return 404
    if code.endswith("STALE_REVISION"):
        return 409
    return 400


def fmt_exact(value: int) -> str:
    """An 18-decimal inventory integer as the shortest exact decimal string."""
    text = fmt_units(value, INVENTORY_DECIMALS).rstrip("0").rstrip(".")
    return text if text not in ("", "-") else "0"


class _Market:
    """One market's engine, public data and the hooks that tie its engine to the exchange."""

    def __init__(self, exchange: Exchange, config: MarketConfig) -> None:
        self.exchange = exchange
        self.config = config
        self.data = MarketData(config)
        self.engine = Engine(
            tick_size=config.tick_size,
            min_lots=config.min_lots,
            lot_scale=config.lot_scale,
            hooks=self,
        )
        self.top: tuple[int | None, int | None, int, int] = (None, None, 0, 0)
        self.traded = False
        self.bar: list[int] | None = None

    def admit(self, order: Order, plan: list[PlanItem], rest: int) -> str | None:
        """Ask the ledger (EngineHooks)."""
        ex = self.exchange
        return ex.ledger.admit(self.config, order, plan, rest, ex.mark)

    def on_event(self, event: EngineEvent) -> None:
        """Apply an engine event to the ledger and turn it into wire events (EngineHooks)."""
        self.exchange._on_engine_event(self, event)


class Exchange:
    """All markets, accounts and histories of the local venue."""

    def __init__(
        self,
        markets: Sequence[MarketConfig] = DEFAULT_MARKETS,
        funding: FundingConfig = DEFAULT_FUNDING,
    ) -> None:
        self.configs = {m.asset_id: m for m in markets}
        self.funding = funding
        self.ledger = Ledger(self.configs)
        self.markets = {m.asset_id: _Market(self, m) for m in markets}
        self.now = 0
        self.trade_id = 0
        self.orders: dict[str, OrderedDict[tuple[str, str], Order]] = {}
        self.finished: dict[str, deque[tuple[str, str]]] = {}
        self.user_trades: dict[str, deque[dict[str, Any]]] = {}
        self.recent_ids: dict[str, OrderedDict[str, None]] = {}
        self.no_history: set[str] = set()  # accounts that keep no finished orders or trades
        self.nonces: dict[str, int] = {}
        self.last_tick_ns = 0
        self._events: list[Event] = []
        self._position_users: set[str] = set()
        self._views = AccountViews(self.ledger, self.configs, self.mark)

    # ================================================================= commands

    def apply(self, command: Command) -> ApplyResult:
        """Apply one command at max(now, command.ts_ns); never raises for a refused request."""
        now = max(self.now, command.ts_ns)
        self.now = now
        self._events = []
        for market in self.markets.values():
            market.engine.expire(now)
        ack: dict[str, Any] | None = None
        error: tuple[int, str, str] | None = None
        try:
            ack = self._dispatch(command, now)
        except RejectError as err:
            error = (http_status(err.code), err.code, err.message)
            ack = err.ack
        except LedgerError as err:
            error = (err.status, err.code, err.message)
        except UnknownUser as err:
            error = (404, "USER_NOT_FOUND", f"unknown user {err.args[0]}")
        self._flush(now)
        events, self._events = self._events, []
        return ApplyResult(events, ack, error)

    def _dispatch(self, command: Command, now: int) -> dict[str, Any] | None:
        if isinstance(command, CreateOrder):
            return self._create(command, now)
        if isinstance(command, CancelOrder):
            return self._cancel(command, now)
        if isinstance(command, ReplaceOrder):
            return self._replace(command, now)
        if isinstance(command, AmendOrder):
            return self._amend(command, now)
        if isinstance(command, Transfer):
            return self._transfer(command, now)
        if isinstance(command, ClosePosition):
            return self._close_position(command, now)
        if isinstance(command, EnsureUser):
            return self._ensure_user(command)
        if isinstance(command, Tick):
            self.last_tick_ns = now
            return None
        raise TypeError(f"not a command: {command!r}")

    @staticmethod
    def _ack(order_id: str, now: int, code: str | None = None) -> dict[str, Any]:
        return {
            "order_id": order_id,
            "status": "Received" if code is None else "Rejected",
            "reason": code,
            "processed_at_ns": now,
        }

    def _refuse(
        self, err: RejectError, variant: str, order_id: str, user: str, now: int
    ) -> NoReturn:
        """Emit the *Failed event for a refusal and re-raise it with a Rejected ack."""
        if user:
            self._emit(f"orders/{user}", failed_event(variant, order_id, user, err.code))
        err.ack = self._ack(order_id, now, err.code)
        raise err

    def _create(self, command: CreateOrder, now: int) -> dict[str, Any]:
        raw = command.order
        order_id = raw.get("order_id") if isinstance(raw.get("order_id"), str) else ""
        user = raw.get("signer") if isinstance(raw.get("signer"), str) else ""
        try:
            config, order = parse_order(raw, self.configs, list(command.signature))
            if not self.ledger.has_user(order.user):
                raise RejectError("USER_NOT_FOUND", "unknown user: fund it first")
            if order.order_id in self.recent_ids.get(order.user, ()):
                raise RejectError("DUPLICATE_ORDER", "order id already used")
        except RejectError as err:
            self._refuse(err, "CreateFailed", str(order_id), str(user), now)
        refusal = self.markets[config.asset_id].engine.submit(order, now)
        if refusal is not None:
            refusal.ack = self._ack(order.order_id, now, refusal.code)
            raise refusal
        ids = self.recent_ids.setdefault(order.user, OrderedDict())
        ids[order.order_id] = None
        if len(ids) > RECENT_IDS:
            ids.popitem(last=False)
        return self._ack(order.order_id, now)

    def _cancel(self, command: CancelOrder, now: int) -> dict[str, Any]:
        try:
            market = self.markets[market_for(self.configs, command.asset).asset_id]
            refusal = market.engine.cancel(command.user, command.order_id, now)
            if refusal is not None:
                raise refusal
        except RejectError as err:
            self._refuse(err, "CancelFailed", command.order_id, command.user, now)
        return self._ack(command.order_id, now)

    def _replace(self, command: ReplaceOrder, now: int) -> dict[str, Any]:
        req = command.request
        order_id = str(req.get("order_id", ""))
        try:
            config = market_for(self.configs, req.get("base_asset"))
            if req.get("protocol_version") != 1:
                raise RejectError("INVALID_ORDER_PROTOCOL_VERSION", "protocol_version must be 1")
            if (
                req.get("book_price_decimals") != config.price_decimals
                or req.get("book_quantity_decimals") != config.quantity_decimals
            ):
                raise RejectError("INVALID_ORDER_DECIMALS", "decimals do not match the market")
            price, quantity, revision = (
                req.get("new_price_limit"),
                req.get("new_quantity"),
                req.get("timestamp_ns"),
            )
            if not all(_is_int(v) for v in (price, quantity, revision)):
                raise RejectError("INVALID_ORDER_FORMAT", "replace fields must be integers")
            assert isinstance(price, int) and isinstance(quantity, int)
            assert isinstance(revision, int)
            refusal = self.markets[config.asset_id].engine.replace(
                command.user,
                order_id,
                new_price=price,
                new_quantity=quantity,
                new_trigger=parse_trigger_condition(req.get("new_trigger")),
                revision=revision,
                now=now,
            )
            if refusal is not None:
                raise refusal
        except RejectError as err:
            self._refuse(err, "ReplaceFailed", order_id, command.user, now)
        return self._ack(order_id, now)

    def _amend(self, command: AmendOrder, now: int) -> dict[str, Any]:
        req = command.request
        order_id = str(req.get("order_id", ""))
        try:
            config = market_for(self.configs, req.get("base_asset"))
            if req.get("book_quantity_decimals") != config.quantity_decimals:
                raise RejectError("INVALID_ORDER_DECIMALS", "decimals do not match the market")
            quantity = req.get("new_quantity")
            expected = req.get("expected_authorization_revision")
            revision = req.get("timestamp_ns")
            if not _is_int(quantity) or not (expected is None or _is_int(expected)):
                raise RejectError("INVALID_ORDER_FORMAT", "amend fields must be integers")
            assert isinstance(quantity, int)
            refusal = self.markets[config.asset_id].engine.amend(
                command.user,
                order_id,
                new_quantity=quantity,
                expected_revision=expected,
                revision=revision if isinstance(revision, int) else now,
                now=now,
            )
            if refusal is not None:
                raise refusal
        except RejectError as err:
            self._refuse(err, "AmendFailed", order_id, command.user, now)
        return self._ack(order_id, now)

    def _check_nonce(self, user: str, nonce: Any) -> None:
        if not _is_int(nonce) or nonce <= self.nonces.get(user, -1):
            raise LedgerError(400, "NONCE_INVALID", "nonce must increase for every request")
        self.nonces[user] = nonce

    def _transfer(self, command: Transfer, now: int) -> dict[str, Any]:
        inner = command.inner
        user = str(inner.get("user", ""))
        self.ledger.subs(user)
        source, target = inner.get("source_index"), inner.get("target_index")
        asset, amount_text = str(inner.get("transfer_asset", "")), inner.get("transfer_amount")
        if not (_is_int(source) and _is_int(target)) or not _is_decimal(amount_text):
            raise LedgerError(400, "INVALID_TRANSFER", "malformed transfer")
        assert isinstance(source, int) and isinstance(target, int)
        amount = int(str(amount_text))
        self._check_nonce(user, inner.get("nonce"))
        self.ledger.transfer(user, source, target, asset, amount)
        event = {
            "SubAccountAssetTransferred": {
                "user": user,
                "source_sub_account_index": source,
                "target_sub_account_index": target,
                "asset": asset,
                "amount": str(amount),
                "timestamp_ns": now,
            }
        }
        self._emit(f"account/{user}", event)
        return {"success": True, **event["SubAccountAssetTransferred"]}

    def _close_position(self, command: ClosePosition, now: int) -> dict[str, Any]:
        inner = command.inner
        user = str(inner.get("user", ""))
        self.ledger.subs(user)
        index, asset = inner.get("account"), str(inner.get("asset_identifier", ""))
        if not _is_int(index):
            raise LedgerError(400, "INVALID_REQUEST", "account must be an integer")
        assert isinstance(index, int)
        if asset not in self.configs:
            raise LedgerError(404, "MARKET_NOT_FOUND", f"no market for asset {asset}")
        self._check_nonce(user, inner.get("nonce"))
        settled = self.ledger.close_position(user, index, asset)
        self._position_users.add(user)
        event = {
            "PositionCleared": {
                "user": user,
                "sub_account_index": index,
                "asset": asset,
                "timestamp_ns": now,
            }
        }
        self._emit(f"account/{user}", event)
        return {"success": True, "settled_quote_amount": str(settled), **event["PositionCleared"]}

    def _ensure_user(self, command: EnsureUser) -> dict[str, Any]:
        if command.grants is None:
            grants: Mapping[int, Mapping[str, int]] = self.funding.grants
        else:
            try:
                grants = FundingConfig.from_json(command.grants).grants
            except (ValueError, TypeError, AttributeError):
                raise LedgerError(400, "INVALID_REQUEST", "malformed funding grants") from None
            if any(v < 0 for assets in grants.values() for v in assets.values()):
                raise LedgerError(400, "INVALID_REQUEST", "funding grants must not be negative")
        created = self.ledger.ensure_user(command.user, grants, market_maker=command.market_maker)
        if created and not command.history:
            self.no_history.add(command.user)
        return {"user": command.user, "created": created}

    # ================================================================= engine events

    def _emit(self, channel: str, payload: Any) -> None:
        self._events.append(Event(channel, payload))

    def _on_engine_event(self, market: _Market, event: EngineEvent) -> None:
        config = market.config
        if isinstance(event, eng.Fill):
            self._on_fill(market, event)
            return
        order = event.order
        channel = f"orders/{order.user}"
        if isinstance(event, eng.Accepted):
            self.orders.setdefault(order.user, OrderedDict())[(config.asset_id, order.order_id)] = (
                order
            )
            self._emit(channel, created_event(order, event.ts))
        elif isinstance(event, eng.Rejected):
            self._emit(
                channel, failed_event("CreateFailed", order.order_id, order.user, event.code)
            )
        elif isinstance(event, eng.Rested):
            self.ledger.refresh_hold(config, order)
        elif isinstance(event, eng.Removed):
            self.ledger.refresh_hold(config, order)
            self._emit(channel, removed_event(config, order, event.reason, event.ts))
            self._retire(order.user, (config.asset_id, order.order_id))
        elif isinstance(event, eng.Triggered):
            self._emit(channel, triggered_event(config, order, event.ts))
        elif isinstance(event, eng.Replaced):
            self.ledger.refresh_hold(config, order)
            self._emit(channel, replaced_event(config, order, event.ts))
        elif isinstance(event, eng.Amended):
            self.ledger.refresh_hold(config, order)
            self._emit(channel, amended_event(config, order, event.ts))

    def _retire(self, user: str, key: tuple[str, str]) -> None:
        """Remember a finished order for listings, forgetting the oldest beyond the limit."""
        if user in self.no_history:
            self.orders[user].pop(key, None)
            return
        order = self.orders[user].get(key)
        if order is not None:
            order.meta = None  # the signed order was echoed in Created; listings do not need it
        queue = self.finished.setdefault(user, deque())
        queue.append(key)
        if len(queue) > ORDER_HISTORY:
            self.orders[user].pop(queue.popleft(), None)

    def _on_fill(self, market: _Market, fill: eng.Fill) -> None:
        config = market.config
        maker, taker = fill.maker, fill.taker
        maker_fee, taker_fee = self.ledger.settle(config, maker, taker, fill.price, fill.lots)
        self.ledger.refresh_hold(config, maker)
        self.trade_id += 1
        price, quantity = config.price_str(fill.price), config.qty_str(fill.lots)
        trade = {
            "asset_id": config.asset_id,
            "trade_id": self.trade_id,
            "order_id": taker.order_id,
            "price": price,
            "quantity": quantity,
            "timestamp_ns": fill.ts,
            "buyer_is_maker": maker.is_buy,
            "status": "Confirmed",
        }
        market.bar = market.data.record(fill.ts, fill.price, fill.lots, trade)
        market.traded = True
        self._emit(f"trades/{config.asset_id}", trade)
        for order, is_maker, fee in ((maker, True, maker_fee), (taker, False, taker_fee)):
            if not order.is_spot:
                self._position_users.add(order.user)
            user_trade = {
                "asset_id": config.asset_id,
                "trade_id": self.trade_id,
                "order_id": order.order_id,
                "price": price,
                "quantity": quantity,
                "timestamp_ns": fill.ts,
                "is_maker": is_maker,
                "is_buyer": order.is_buy,
                "status": "Pending",
                "rollback_reason": None,
                "is_liquidation": False,
                "is_auto_deleverage": False,
                "sub_account": order.account,
                "trading_fee": fmt_exact(fee),
            }
            self._emit(f"user_trades/{order.user}", user_trade)
            confirmed = {**user_trade, "status": "Confirmed"}
            self._emit(f"user_trades/{order.user}", confirmed)
            if order.user not in self.no_history:
                history = self.user_trades.setdefault(order.user, deque(maxlen=TRADE_HISTORY))
                history.append(confirmed)

    def _flush(self, now: int) -> None:
        """Emit one depth diff, ticker and kline frame per market that changed, then positions."""
        self._flush_markets()
        for user in sorted(self._position_users):
            update = {
                "user_id": user,
                "positions": self._views.positions(user, None, None),
                "timestamp_ns": now,
            }
            self._emit(f"positions/{user}", update)
        self._position_users.clear()

    def _flush_markets(self) -> None:
        for asset, market in self.markets.items():
            config, engine = market.config, market.engine
            bids, asks = engine.take_dirty()
            if bids or asks:
                market.data.depth_sequence += 1
                self._emit(
                    f"depth/{asset}",
                    {
                        "bids": [
                            [config.price_str(p), config.qty_str(engine.level_total(True, p))]
                            for p in sorted(bids, reverse=True)
                        ],
                        "asks": [
                            [config.price_str(p), config.qty_str(engine.level_total(False, p))]
                            for p in sorted(asks)
                        ],
                        "sequence_number": market.data.depth_sequence,
                    },
                )
            top = self._top(market)
            if market.traded or top != market.top:
                market.top = top
                self._emit(f"ticker/{asset}", self.ticker_json(asset))
            if market.bar is not None:
                self._emit(f"klines/{asset}", [market.data.timebar(market.bar)])
            market.traded, market.bar = False, None

    @staticmethod
    def _top(market: _Market) -> tuple[int | None, int | None, int, int]:
        engine = market.engine
        bid, ask = engine.best_bid(), engine.best_ask()
        return (
            bid,
            ask,
            engine.level_total(True, bid) if bid is not None else 0,
            engine.level_total(False, ask) if ask is not None else 0,
        )

    # ================================================================= prices

    def mark(self, asset: str) -> tuple[int, int]:
        """(mark price integer, price decimals) of an asset: last trade, else reference."""
        if asset == QUOTE_ASSET:
            return (1, 0)
        market = self.markets.get(asset)
        if market is None:
            return (0, 0)
        last = market.engine.last_price
        config = market.config
        return (last if last is not None else config.reference_price, config.price_decimals)

    # ================================================================= queries

    def _market(self, asset: str) -> _Market:
        market = self.markets.get(str(asset))
        if market is None:
            raise NotFound("MARKET_NOT_FOUND", f"no market for asset {asset}")
        return market

    def _user(self, user: str) -> None:
        if not self.ledger.has_user(user):
            raise NotFound("USER_NOT_FOUND", f"unknown user {user}")

    def has_user(self, user: str) -> bool:
        """Whether the account has been funded."""
        return self.ledger.has_user(user)

    def user_count(self) -> int:
        """Number of accounts (the fee account is not one)."""
        return len(self.ledger.users)

    def market(self, asset: str) -> MarketConfig | None:
        """The configuration of a market, or None."""
        return self.configs.get(str(asset))

    def market_json(self, asset: str) -> dict[str, Any]:
        """GET /market/{asset}; NotFound(MARKET_NOT_FOUND) for an unknown market."""
        return self._market(asset).config.to_json()

    def markets_json(
        self, *, include_symbol_map: bool = True, page: int = 0, limit: int = 1000
    ) -> dict[str, Any]:
        """GET /markets: one page of market objects, with the symbol map if asked."""
        configs = sorted(self.configs.values(), key=lambda c: int(c.asset_id))
        limit = max(1, limit)
        chunk = configs[page * limit : (page + 1) * limit]
        total_pages = (len(configs) + limit - 1) // limit
        has_next = page + 1 < total_pages
        symbol_map = (
            {k: a.to_json() for k, a in asset_table(tuple(configs)).items()}
            if include_symbol_map
            else None
        )
        return {
            "markets": [c.to_json() for c in chunk],
            "symbol_map": symbol_map,
            "total_markets": len(configs),
            "page": page,
            "limit": limit,
            "total_pages": total_pages,
            "cursor_size": len(chunk),
            "has_next_page": has_next,
            "next_page": page + 1 if has_next else None,
        }

    def book_json(self, asset: str, depth: int | None = None) -> dict[str, Any]:
        """GET /marketdepth/{asset}: human decimal strings, best first, with the sequence."""
        market = self._market(asset)
        config = market.config
        bids, asks = market.engine.depth(depth)
        return {
            "asks": [[config.price_str(p), config.qty_str(q)] for p, q in asks],
            "bids": [[config.price_str(p), config.qty_str(q)] for p, q in bids],
            "sequence_number": market.data.depth_sequence,
        }

    def user_orders_json(
        self, user: str, asset: str | None = None, open_only: bool = False
    ) -> list[dict[str, Any]]:
        """OrderResponse rows of a user, newest first (live and recently finished)."""
        self._user(user)
        if asset is not None:
            self._market(asset)
        rows: list[dict[str, Any]] = []
        for (order_asset, _), order in reversed(self.orders.get(user, {}).items()):
            if asset is not None and order_asset != str(asset):
                continue
            if open_only and order.state == eng.DONE:
                continue
            rows.append(order_row(self.configs[order_asset], order))
        return rows

    def find_order(self, user: str, order_id: str) -> dict[str, Any] | None:
        """One OrderResponse row by id in any market, or None."""
        for (asset, oid), order in self.orders.get(user, {}).items():
            if oid == order_id:
                return order_row(self.configs[asset], order)
        return None

    def live_orders(self, user: str, asset: str) -> list[Order]:
        """A user's live and pending engine orders in one market, oldest first."""
        engine = self._market(asset).engine
        return sorted((o for (u, _), o in engine.orders.items() if u == user), key=lambda o: o.seq)

    def inventory_json(self, user: str) -> dict[str, Any]:
        """GET /inventory/user/{pk}: balances per sub-account in 18-decimal strings."""
        self._user(user)
        return self._views.inventory(user)

    def margin_json(
        self, user: str, sub_account: int | None = None, include_positions: bool = False
    ) -> dict[str, Any]:
        """GET /margin/user/{pk}: risk figures per sub-account (all but spot 0 unless asked)."""
        self._user(user)
        if sub_account is not None and sub_account not in self.ledger.subs(user):
            raise NotFound("SUB_ACCOUNT_NOT_FOUND", f"no sub-account {sub_account}")
        return self._views.margin(user, sub_account, include_positions)

    def solvency_json(self, user: str) -> dict[str, Any]:
        """GET /solvency/user/{pk}."""
        self._user(user)
        return self._views.solvency(user)

    def positions_json(
        self, user: str, sub_account: int | None = None, asset: str | None = None
    ) -> dict[str, Any]:
        """GET /positions/{pk}[/{asset}]: margin positions as a single page."""
        self._user(user)
        rows = self._views.positions(user, sub_account, asset)
        return {
            "positions": rows,
            "total_positions": len(rows),
            "page": 0,
            "limit": max(1, len(rows)),
            "total_pages": 1,
            "cursor_size": len(rows),
            "has_next_page": False,
            "next_page": None,
        }

    def close_all_json(self, user: str, sub_account: int) -> dict[str, Any]:
        """GET /positions/close-all/{pk}/{sub}: unsigned reduce-only orders closing everything."""
        self._user(user)
        return self._views.close_all(user, sub_account)

    def trades_json(
        self, asset: str | None = None, limit: int = 100, page: int = 0
    ) -> list[dict[str, Any]]:
        """GET /trades[/{asset}]: public trades, newest first."""
        if asset is not None:
            trades = list(self._market(asset).data.trades)
        else:
            trades = [t for m in self.markets.values() for t in m.data.trades]
            trades.sort(key=lambda t: t["trade_id"])
        trades.reverse()
        return trades[page * limit : (page + 1) * limit]

    def user_trades_json(
        self,
        user: str,
        asset: str | None = None,
        *,
        sub_account: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        side: str | None = None,
        page: int = 0,
        limit: int = 100,
    ) -> dict[str, Any]:
        """GET /trades/user/{pk}[/{asset}]: HistoricalUserTrade rows, newest first, paged."""
        self._user(user)
        wanted_buy = None if side is None else side.lower() == "buy"
        rows = [
            t
            for t in reversed(self.user_trades.get(user, ()))
            if (asset is None or t["asset_id"] == str(asset))
            and (sub_account is None or t["sub_account"] == sub_account)
            and (start_time is None or t["timestamp_ns"] >= start_time)
            and (end_time is None or t["timestamp_ns"] <= end_time)
            and (wanted_buy is None or t["is_buyer"] == wanted_buy)
        ]
        chunk = rows[page * limit : (page + 1) * limit]
        has_next = len(rows) > (page + 1) * limit
        return {
            "trades": chunk,
            "has_next_page": has_next,
            "next_page": page + 1 if has_next else None,
        }

    def ticker_json(self, asset: str) -> dict[str, Any]:
        """GET /ticker/{asset}."""
        market = self._market(asset)
        bid, ask, bid_size, ask_size = self._top(market)
        return market.data.ticker(
            self.now,
            (bid, bid_size) if bid is not None else None,
            (ask, ask_size) if ask is not None else None,
        )

    def tickers_json(self) -> list[dict[str, Any]]:
        """GET /tickers."""
        return [self.ticker_json(asset) for asset in self.markets]

    def klines_json(
        self,
        asset: str,
        interval: str = "1",
        *,
        end_timestamp_ns: int | None = None,
        page: int = 0,
        limit: int = 500,
    ) -> dict[str, Any]:
        """GET /klines/{asset}; an unknown interval raises ValueError."""
        market = self._market(asset)
        seconds = parse_interval(interval)
        return market.data.klines(seconds, end_ns=end_timestamp_ns, page=page, limit=max(1, limit))

    def open_interest_json(self, asset: str) -> dict[str, Any]:
        """GET /openinterest/{asset}: total long and short margin positions."""
        return self._views.open_interest(self._market(asset).config, self.now)

    # ================================================================= snapshots

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-safe data, with a format_version."""
        markets: dict[str, Any] = {}
        for asset, market in self.markets.items():
            engine = market.engine
            markets[asset] = {
                "seq": engine._seq,
                "book_seq": engine._book_seq,
                "last_price": engine.last_price,
                "finished": [[u, o, r] for (u, o), r in engine.finished.items()],
                "live": [order_to_json(o) for o in sorted(engine.orders.values(), key=_seq)],
                "data": market.data.to_json(),
                "top": list(market.top),
            }
        return {
            "format_version": FORMAT_VERSION,
            "now": self.now,
            "trade_id": self.trade_id,
            "markets_config": [_config_json(c) for c in self.configs.values()],
            "funding": self.funding.to_json(),
            "ledger": self.ledger.to_json(),
            "markets": markets,
            "finished_orders": {
                user: [order_to_json(self.orders[user][key]) | {"_asset": key[0]} for key in queue]
                for user, queue in sorted(self.finished.items())
            },
            "user_order_keys": {
                user: [list(k) for k in orders] for user, orders in sorted(self.orders.items())
            },
            "user_trades": {u: list(t) for u, t in sorted(self.user_trades.items())},
            "recent_ids": {u: list(ids) for u, ids in sorted(self.recent_ids.items())},
            "no_history": sorted(self.no_history),
            "nonces": dict(sorted(self.nonces.items())),
            "last_tick_ns": self.last_tick_ns,
        }

    @classmethod
    def restore(cls, data: Mapping[str, Any]) -> Exchange:
        """Rebuild an exchange from snapshot(); ValueError on an unknown format_version."""
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported snapshot format_version {data.get('format_version')!r}")
        configs = [MarketConfig(**c) for c in data["markets_config"]]
        ex = cls(configs, FundingConfig.from_json(data["funding"]))
        ex.now = int(data["now"])
        ex.trade_id = int(data["trade_id"])
        ex.ledger = Ledger.from_json(ex.configs, data["ledger"])
        ex._views = AccountViews(ex.ledger, ex.configs, ex.mark)
        by_key: dict[tuple[str, str, str], Order] = {}
        for asset, state in data["markets"].items():
            market = ex.markets[asset]
            engine = market.engine
            engine._seq, engine._book_seq = int(state["seq"]), int(state["book_seq"])
            engine.last_price = state["last_price"]
            for user, oid, reason in state["finished"]:
                engine.remember((user, oid), reason)
            market.data.load(state["data"])
            top = state["top"]
            market.top = (top[0], top[1], int(top[2]), int(top[3]))
            live = [order_from_json(o) for o in state["live"]]
            for order in live:
                engine.orders[order.key] = order
                by_key[(asset, order.user, order.order_id)] = order
            _rebuild_engine(engine, live)
            for order in live:
                ex.ledger.refresh_hold(market.config, order)
        for user, rows in data["finished_orders"].items():
            for row in rows:
                row = dict(row)
                asset = row.pop("_asset")
                by_key[(asset, user, row["order_id"])] = order_from_json(row)
        for user, keys in data["user_order_keys"].items():
            orders = ex.orders.setdefault(user, OrderedDict())
            for asset, oid in keys:
                orders[(asset, oid)] = by_key[(asset, user, oid)]
        for user, rows in data["finished_orders"].items():
            ex.finished[user] = deque((row["_asset"], row["order_id"]) for row in rows)
        for user, trades in data["user_trades"].items():
            ex.user_trades[user] = deque((dict(t) for t in trades), maxlen=TRADE_HISTORY)
        for user, ids in data["recent_ids"].items():
            ex.recent_ids[user] = OrderedDict((i, None) for i in ids)
        ex.no_history = set(data.get("no_history", ()))  # absent before it existed
        ex.nonces = {u: int(n) for u, n in data["nonces"].items()}
        ex.last_tick_ns = int(data["last_tick_ns"])
        for market in ex.markets.values():
            market.engine.take_dirty()
        return ex

    def conservation(self) -> dict[str, tuple[int, int]]:
        """Per asset (total now held anywhere, total ever funded): the two must be equal."""
        assets = set(self.ledger.minted) | set(self.ledger.fees)
        return {a: (self.ledger.total(a), self.ledger.minted.get(a, 0)) for a in sorted(assets)}


def _rebuild_engine(engine: Engine, live: list[Order]) -> None:
    """Put restored orders back in their levels, trigger lists and expiry heap."""
    import heapq

    for order in sorted((o for o in live if o.book_seq), key=lambda o: o.book_seq):
        book, prices = (
            (engine.bids, engine.bid_prices) if order.is_buy else (engine.asks, engine.ask_prices)
        )
        level = book.get(order.price)
        if level is None:
            level = book[order.price] = eng.Level()
            prices.append(order.price)
        level.entries.append((order.book_seq, order))
        level.total += order.remaining
    engine.bid_prices.sort()
    engine.ask_prices.sort()
    for order in live:
        engine.open_counts[order.user] = engine.open_counts.get(order.user, 0) + 1
    for order in sorted(live, key=_seq):
        if order.gtd_ns is not None:
            heapq.heappush(engine.expiries, (order.gtd_ns, order.seq, order))
        if order.state != eng.PENDING:
            continue
        parent = engine.orders.get((order.user, order.parent_id)) if order.parent_id else None
        if parent is not None:
            engine.children.setdefault(parent.key, []).append(order)
        elif order.has_condition:
            engine.armed[order.key] = order


def _seq(order: Order) -> int:
    return order.seq


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_decimal(value: Any) -> bool:
    return isinstance(value, str) and value.isdigit() and len(value) <= 78


def _config_json(config: MarketConfig) -> dict[str, Any]:
    return {
        "asset_id": config.asset_id,
        "symbol": config.symbol,
        "name": config.name,
        "price_decimals": config.price_decimals,
        "quantity_decimals": config.quantity_decimals,
        "tick_size": config.tick_size,
        "min_lots": config.min_lots,
        "taker_fee_ppm": config.taker_fee_ppm,
        "maker_fee_ppm": config.maker_fee_ppm,
        "max_leverage": config.max_leverage,
        "reference_price": config.reference_price,
    }
