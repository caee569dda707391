"""Pure price-time-priority matching engine for one market, on integer ticks and lots.

No I/O and no clock: every call takes `now` (Unix ns) from the caller. Funds are not the
engine's business: before an order goes live it asks `EngineHooks.admit` (the ledger) with
the exact fills it is about to make, and it reports every state change through
`EngineHooks.on_event` as it happens, so the ledger always sees a consistent book.

Units: prices are integers of the market's price decimals, quantities integers of its quantity
decimals ("lots"). Quote amounts are handled as `price * lots` (scale 10**(pd+qd)), so they are
exact; the wire's price-scale quote integers are `price * lots // 10**qd`.

Rules (documented choices where the protocol is silent):

* Price-time priority; FIFO within a level. Execution is at the maker's price.
* Limit TIF: GTC rests; GTD rests and expires once a command's time reaches `timestamp_ns`
  (checked on every call that carries `now`, including `expire`); IOC never rests; IOC with
  `fill_or_kill` is all-or-nothing, checked before anything changes. Post-only is rejected if
  it would cross the opposite best price (any owner).
* Market by base quantity: `max_sellable_amount` caps the quote notional of the fills (the quote
  spent by a buy, the quote received by a sell). Market by quote quantity: fills whole lots while
  the next lot fits in the remaining quote amount at the current level, and stops at the first
  level where it does not; `max_sellable_quantity` caps the base quantity of the fills. A market
  order's unfilled rest is cancelled (Removed/Canceled); FOK needs the whole quantity (for quote
  orders: the walk must stop only because the quote amount is used up).
* A user may have at most MAX_OPEN_ORDERS live plus pending orders per market.
* Self-trade prevention: a taker never trades with a resting order of the same user; that
  resting order is cancelled (Removed/SelfTradePrevented) and matching continues.
* Triggers: PriceAbove fires when the last trade price is >= the trigger price, PriceBelow when
  it is <= (evaluated on arming and after every trade; nothing fires before the first trade;
  orders touched together fire in acceptance order, each re-checked just before it fires).
  A fired order is then processed as a new order of its own type (funds are checked then).
  With `parent_order_id`, the child only arms once the parent (same user, same market) is
  completely filled; if the parent ends any other way, the child is cancelled. A child whose
  parent already completed arms at once.
* Replace restates the lifetime terms: `new_quantity >= filled`; a price change or quantity
  increase loses time priority (the order re-enters as a taker and may match), a pure decrease
  keeps it. `timestamp_ns` must exceed the current authorization revision (initially the
  creation time) and becomes the new revision. Only limit orders can be replaced; a live
  order cannot be given a trigger again, a pending one can (null = fire now).
* Amend only reduces (filled < new_quantity < quantity), keeps priority, and requires
  `expected_authorization_revision` to equal the current revision (null before any change).

Stable reject codes (venue-wide; status = HTTP status of the error envelope). Every order code
classifies as tpluspy `OrderRejected` under spec §7.2; *_NOT_FOUND ones as `NotFoundError`.

=================================  ======  ====================================================
code                               status  when
=================================  ======  ====================================================
INVALID_ORDER_FORMAT               400     a field has the wrong JSON type / shape  (exchange)
INVALID_ORDER_ID                   400     order_id empty or longer than 24 bytes   (exchange)
INVALID_ORDER_SIDE                 400     side is not "Buy" or "Sell"               (exchange)
INVALID_ORDER_DECIMALS             400     book decimals differ from the market's   (exchange)
INVALID_ORDER_PROTOCOL_VERSION     400     protocol_version != 1                    (exchange)
INVALID_ORDER_FEE_RATE             400     max_trading_fees_rate below the applicable rate
                                           (maker rate for post-only, else taker)   (exchange)
INVALID_ORDER_QUANTITY             400     quantity <= 0, below min size, or bad new_quantity
INVALID_ORDER_PRICE                400     limit/trigger price not positive
INVALID_ORDER_TICK_SIZE            400     price not a multiple of the tick size
INVALID_ORDER_EXPIRED              400     GTD timestamp_ns not in the future
INVALID_ORDER_MARKET_DETAILS       400     market order with mismatched caps or zero quantity
INVALID_ORDER_PARENT               400     parent order unknown to this user/market, or ended
                                           other than Completed
INVALID_ORDER_TRIGGER              400     new trigger for an order that is already live
INVALID_ORDER_TYPE                 400     replace/amend of a market order
POST_ONLY_WOULD_CROSS              400     post-only order (or its replace) would take liquidity
FOK_NOT_FILLED                     400     fill-or-kill cannot fill completely
DUPLICATE_ORDER                    400     order id already used by this user (live or recent)
INVALID_ORDER_TOO_MANY_OPEN        400     the user already has MAX_OPEN_ORDERS in this market
INSUFFICIENT_MARGIN_BALANCE        400     spot balance short for fills + resting hold (ledger)
INSUFFICIENT_MARGIN                400     margin target: available margin short      (ledger)
REDUCE_ONLY_NO_POSITION            400     reduce-only with nothing to reduce         (ledger)
REDUCE_ONLY_WOULD_INCREASE         400     reduce-only on the side that grows the position
REDUCE_ONLY_EXCEEDS_POSITION       400     reduce-only larger than the position / balance
ORDER_REJECTED_STALE_REVISION      409     replace timestamp_ns not after the revision, or
                                           amend expected_authorization_revision stale
ORDER_NOT_FOUND                    404     cancel/replace/amend of an unknown or ended order
MARKET_NOT_FOUND                   404     no market for the asset                  (exchange)
USER_NOT_FOUND                     404     account never funded                     (exchange)
INSUFFICIENT_BALANCE               400     transfer / close-position settlement short (ledger)
INVALID_TRANSFER                   400     same or out-of-range sub-account, amount <= 0
ASSET_NOT_FOUND                    404     transfer of an unknown asset               (ledger)
POSITION_NOT_FOUND                 404     close-position without a position          (ledger)
POSITION_NOT_FLAT                  400     close-position while the base is not zero  (ledger)
NONCE_INVALID                      400     transfer/close nonce not above the last one (exchange)
INVALID_REQUEST                    400     malformed transfer/close/funding command (exchange)
=================================  ======  ====================================================
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

GTC = "GTC"
GTD = "GTD"
IOC = "IOC"

COMPLETED = "Completed"
CANCELED = "Canceled"
EXPIRED = "Expired"
REJECTED = "Rejected"
SELF_TRADE_PREVENTED = "SelfTradePrevented"

PENDING = "pending"  # waiting for a trigger or a parent
LIVE = "live"  # being matched or resting on the book
DONE = "done"

MAX_OPEN_ORDERS = 1_000
"""Live plus pending orders one user may have in one market (bounds trigger and book work)."""

FINISHED_MEMORY = 2_000
"""How many finished order keys an engine remembers (duplicate detection, parent lookups)."""


class RejectError(Exception):
    """A stable reject code with a human message, raised by validation."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message
        self.ack: dict[str, Any] | None = None  # set by the exchange for its reply


@dataclass(slots=True, eq=False)
class Order:
    """An order as the engine sees it; `meta` carries whatever the caller wants kept with it."""

    user: str
    order_id: str
    is_buy: bool
    price: int  # limit price; 0 for market orders
    quantity: int  # lifetime base lots; 0 for quote-quantity market orders
    created_ns: int
    is_market: bool = False
    tif: str = GTC
    post_only: bool = False
    fill_or_kill: bool = False
    gtd_ns: int | None = None
    quote_quantity: int | None = None  # price scale, market by quote
    max_amount: int | None = None  # price scale, caps quote of fills (base-quantity market)
    max_lots: int | None = None  # caps base lots of fills (quote-quantity market)
    reduce_only: bool = False
    trigger_above: int | None = None
    trigger_below: int | None = None
    parent_id: str | None = None
    account: int = 1
    is_spot: bool = True
    max_fee_ppm: int = 50_000
    meta: dict[str, Any] | None = None
    # mutable state
    state: str = PENDING
    filled: int = 0
    filled_scaled: int = 0  # sum of price*lots
    fees: int = 0  # inventory units of quote paid (the ledger keeps it up to date)
    seq: int = 0
    book_seq: int = 0  # 0 = not on the book
    revision: int | None = None
    trigger_touched: bool | None = None
    updated_ns: int = 0
    end_reason: str | None = None
    reject_code: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(user, order_id): unique among an engine's orders."""
        return (self.user, self.order_id)

    @property
    def remaining(self) -> int:
        """Base lots still to fill (0 for quote-quantity market orders)."""
        return self.quantity - self.filled

    @property
    def has_condition(self) -> bool:
        """Whether the order has a price trigger."""
        return self.trigger_above is not None or self.trigger_below is not None


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution between a resting maker and an incoming taker at the maker's price."""

    maker: Order
    taker: Order
    price: int
    lots: int
    ts: int


@dataclass(frozen=True, slots=True)
class Accepted:
    """The order passed validation and exists (live or pending)."""

    order: Order
    ts: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """The order was refused before anything changed."""

    order: Order
    code: str
    message: str
    ts: int


@dataclass(frozen=True, slots=True)
class Rested:
    """The order was placed on the book (first time, or again after losing priority)."""

    order: Order
    ts: int


@dataclass(frozen=True, slots=True)
class Removed:
    """The order left the engine for good: Completed, Canceled, Expired, Rejected, SelfTradePrevented."""

    order: Order
    reason: str
    ts: int


@dataclass(frozen=True, slots=True)
class Triggered:
    """A pending order's trigger (or parent) fired and it is now processed as a new order."""

    order: Order
    ts: int


@dataclass(frozen=True, slots=True)
class Replaced:
    """The order's effective terms were restated."""

    order: Order
    ts: int


@dataclass(frozen=True, slots=True)
class Amended:
    """The order's lifetime quantity was reduced in place."""

    order: Order
    ts: int


EngineEvent = Accepted | Rejected | Rested | Removed | Triggered | Replaced | Amended | Fill

PlanItem = tuple[Order, int, int]
"""(maker, lots, price); lots == 0 means the maker is cancelled by self-trade prevention."""


class EngineHooks(Protocol):
    """What the engine needs from its owner: a funds check and a live event sink."""

    def admit(self, order: Order, plan: list[PlanItem], rest: int) -> str | None:
        """Return a reject code if `order` may not make these fills and rest `rest` lots."""
        ...

    def on_event(self, event: EngineEvent) -> None:
        """Observe one state change, in order, as it happens."""
        ...


class NullHooks:
    """Admits everything and ignores events (benchmarks, pure engine tests)."""

    def admit(self, order: Order, plan: list[PlanItem], rest: int) -> str | None:
        """Admit every order."""
        return None

    def on_event(self, event: EngineEvent) -> None:
        """Ignore the event."""


class Level:
    """One price level: a FIFO of (book_seq, order) entries and the live total quantity."""

    __slots__ = ("entries", "total")

    def __init__(self) -> None:
        self.entries: deque[tuple[int, Order]] = deque()
        self.total = 0

    def live(self) -> Iterator[Order]:
        """Iterate the live orders in time priority (stale entries are skipped)."""
        for seq, order in self.entries:
            if order.book_seq == seq:
                yield order


@dataclass(slots=True)
class Plan:
    """The fills an incoming order would make, computed without changing anything."""

    items: list[PlanItem]
    lots: int
    scaled: int
    complete: bool


class Engine:
    """The order book and matching rules of one market."""

    def __init__(
        self,
        *,
        tick_size: int = 1,
        min_lots: int = 1,
        lot_scale: int = 1,
        hooks: EngineHooks | None = None,
        max_open_orders: int | None = MAX_OPEN_ORDERS,
    ) -> None:
        self.tick_size = tick_size
        self.max_open_orders = max_open_orders
        self.min_lots = min_lots
        self.lot_scale = lot_scale
        self.hooks: EngineHooks = hooks if hooks is not None else NullHooks()
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        self.bid_prices: list[int] = []  # ascending; best bid is the last
        self.ask_prices: list[int] = []  # ascending; best ask is the first
        self.orders: dict[tuple[str, str], Order] = {}  # live and pending
        self.finished: dict[tuple[str, str], str] = {}  # key → end reason, oldest first
        self._finished_order: deque[tuple[str, str]] = deque()
        self._quiet = isinstance(self.hooks, NullHooks)  # skip building events nobody reads
        self.armed: dict[tuple[str, str], Order] = {}  # pending with a condition, parent done
        self.ready: list[Order] = []  # released children without a condition, fired next
        self.children: dict[tuple[str, str], list[Order]] = {}
        self.expiries: list[tuple[int, int, Order]] = []
        self.last_price: int | None = None
        self.dirty_bids: set[int] = set()
        self.dirty_asks: set[int] = set()
        self._seq = 0
        self._book_seq = 0
        self.open_counts: dict[str, int] = {}

    # ----------------------------------------------------------------- queries

    def best_bid(self) -> int | None:
        """Highest resting buy price, if any."""
        return self.bid_prices[-1] if self.bid_prices else None

    def best_ask(self) -> int | None:
        """Lowest resting sell price, if any."""
        return self.ask_prices[0] if self.ask_prices else None

    def depth(
        self, levels: int | None = None
    ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Return (bids best-first, asks best-first) as (price, total lots) pairs."""
        bid_prices = self.bid_prices[::-1]
        ask_prices = self.ask_prices
        if levels is not None:
            bid_prices = bid_prices[:levels]
            ask_prices = ask_prices[:levels]
        return (
            [(p, self.bids[p].total) for p in bid_prices],
            [(p, self.asks[p].total) for p in ask_prices],
        )

    def level_total(self, is_buy: bool, price: int) -> int:
        """Total resting lots at one price on one side (0 if the level is empty)."""
        level = (self.bids if is_buy else self.asks).get(price)
        return level.total if level is not None else 0

    def level_orders(self, is_buy: bool, price: int) -> list[Order]:
        """Live orders of one level in time priority."""
        level = (self.bids if is_buy else self.asks).get(price)
        return list(level.live()) if level is not None else []

    def get(self, user: str, order_id: str) -> Order | None:
        """Return a live or pending order."""
        return self.orders.get((user, order_id))

    def take_dirty(self) -> tuple[set[int], set[int]]:
        """Return and clear the bid and ask prices whose totals changed since the last call."""
        bids, asks = self.dirty_bids, self.dirty_asks
        self.dirty_bids, self.dirty_asks = set(), set()
        return bids, asks

    # ----------------------------------------------------------------- commands

    def expire(self, now: int) -> None:
        """Expire every GTD order whose timestamp_ns is <= now."""
        heap = self.expiries
        while heap and heap[0][0] <= now:
            _, _, order = heapq.heappop(heap)
            if order.state != DONE:
                self._finish(order, EXPIRED, now)

    def submit(self, order: Order, now: int) -> RejectError | None:
        """Validate and process a new order; return the refusal, or None if accepted."""
        self.expire(now)
        try:
            self._validate(order, now)
        except RejectError as err:
            return self._reject(order, err, now)
        parent: Order | None = None
        if order.parent_id is not None:
            parent = self.orders.get((order.user, order.parent_id))
            reason = self.finished.get((order.user, order.parent_id))
            if parent is None and reason != COMPLETED:
                return self._reject(
                    order,
                    RejectError("INVALID_ORDER_PARENT", "parent order unknown or not filled"),
                    now,
                )
        if order.has_condition or parent is not None:
            self._accept(order, now)
            if parent is not None:
                self.children.setdefault(parent.key, []).append(order)
            else:
                self._arm(order)
            self._run_triggers(now)
            return None
        refusal = self._go_live(order, now, new=True)
        self._run_triggers(now)
        return refusal

    def cancel(self, user: str, order_id: str, now: int) -> RejectError | None:
        """Cancel a live or pending order; refuse with ORDER_NOT_FOUND if there is none."""
        self.expire(now)
        order = self.orders.get((user, order_id))
        if order is None:
            return RejectError("ORDER_NOT_FOUND", "no live order with this id")
        self._finish(order, CANCELED, now)
        return None

    def replace(
        self,
        user: str,
        order_id: str,
        *,
        new_price: int,
        new_quantity: int,
        new_trigger: tuple[str, int] | None,
        revision: int,
        now: int,
    ) -> RejectError | None:
        """Restate a limit order's lifetime terms (spec §3.6); return the refusal, if any."""
        self.expire(now)
        order = self.orders.get((user, order_id))
        if order is None:
            return RejectError("ORDER_NOT_FOUND", "no live order with this id")
        current = order.revision if order.revision is not None else order.created_ns
        if revision <= current:
            return RejectError(
                "ORDER_REJECTED_STALE_REVISION", "replace timestamp_ns is not after the revision"
            )
        if order.is_market:
            return RejectError("INVALID_ORDER_TYPE", "only limit orders can be replaced")
        try:
            self._check_price(new_price, "limit price")
            if new_trigger is not None:
                self._check_price(new_trigger[1], "trigger price")
            if new_quantity < order.filled or new_quantity <= 0:
                raise RejectError(
                    "INVALID_ORDER_QUANTITY", "new_quantity must be >= the filled quantity"
                )
        except RejectError as err:
            return err
        above, below = _trigger_prices(new_trigger)
        if order.state == PENDING:
            order.price, order.quantity = new_price, new_quantity
            order.trigger_above, order.trigger_below = above, below
            order.revision, order.updated_ns = revision, now
            self.hooks.on_event(Replaced(order, now))
            if order.key in self.armed:
                del self.armed[order.key]
                self._arm(order)
            self._run_triggers(now)
            return None
        if new_trigger is not None:
            return RejectError("INVALID_ORDER_TRIGGER", "a live order cannot get a new trigger")
        if new_price == order.price and new_quantity <= order.quantity:
            delta = order.quantity - new_quantity
            order.quantity, order.revision, order.updated_ns = new_quantity, revision, now
            self._shrink(order, delta)
            self.hooks.on_event(Replaced(order, now))
            if order.remaining == 0:
                self._finish(order, COMPLETED, now)
                self._run_triggers(now)
            return None
        old = (order.price, order.quantity)
        if order.post_only and self._would_cross(order.is_buy, new_price):
            return RejectError("POST_ONLY_WOULD_CROSS", "replaced price would take liquidity")
        order.price, order.quantity = new_price, new_quantity
        plan = self._plan(order)
        code = self.hooks.admit(order, plan.items, order.remaining - plan.lots)
        if code is not None:
            order.price, order.quantity = old
            return RejectError(code, "replace refused by the ledger")
        self._unlink(order, old[0], old[1] - order.filled)
        order.revision, order.updated_ns = revision, now
        self.hooks.on_event(Replaced(order, now))
        self._execute(order, plan, now)
        self._after_match(order, now, plan.complete)
        self._run_triggers(now)
        return None

    def amend(
        self,
        user: str,
        order_id: str,
        *,
        new_quantity: int,
        expected_revision: int | None,
        revision: int,
        now: int,
    ) -> RejectError | None:
        """Reduce a live or pending order's lifetime quantity in place (spec §3.7)."""
        self.expire(now)
        order = self.orders.get((user, order_id))
        if order is None:
            return RejectError("ORDER_NOT_FOUND", "no live order with this id")
        if expected_revision != order.revision:
            return RejectError(
                "ORDER_REJECTED_STALE_REVISION", "expected_authorization_revision is stale"
            )
        if order.is_market:
            return RejectError("INVALID_ORDER_TYPE", "market orders cannot be amended")
        if not order.filled < new_quantity < order.quantity:
            return RejectError(
                "INVALID_ORDER_QUANTITY", "amend must reduce to more than the filled quantity"
            )
        delta = order.quantity - new_quantity
        order.quantity, order.revision, order.updated_ns = new_quantity, revision, now
        if order.book_seq:
            self._shrink(order, delta)
        self.hooks.on_event(Amended(order, now))
        return None

    # ----------------------------------------------------------------- validation

    def _check_price(self, price: int, what: str) -> None:
        if price <= 0:
            raise RejectError("INVALID_ORDER_PRICE", f"{what} must be positive")
        if price % self.tick_size:
            raise RejectError("INVALID_ORDER_TICK_SIZE", f"{what} is not a multiple of the tick")

    def _validate(self, order: Order, now: int) -> None:
        key = (order.user, order.order_id)
        if key in self.orders or key in self.finished:
            raise RejectError("DUPLICATE_ORDER", "order id already used")
        limit = self.max_open_orders
        if limit is not None and self.open_counts.get(order.user, 0) >= limit:
            raise RejectError(
                "INVALID_ORDER_TOO_MANY_OPEN", f"at most {limit} open orders per market"
            )
        if order.is_market:
            if order.quote_quantity is not None:
                if order.quote_quantity <= 0 or order.quantity or order.max_amount is not None:
                    raise RejectError("INVALID_ORDER_MARKET_DETAILS", "bad quote-quantity order")
            elif order.max_lots is not None or order.quantity <= 0:
                raise RejectError("INVALID_ORDER_MARKET_DETAILS", "bad base-quantity order")
            if order.quantity and order.quantity < self.min_lots:
                raise RejectError("INVALID_ORDER_QUANTITY", "quantity below the minimum size")
        else:
            if order.quantity < self.min_lots:
                raise RejectError("INVALID_ORDER_QUANTITY", "quantity below the minimum size")
            self._check_price(order.price, "limit price")
            if order.tif == GTD and (order.gtd_ns is None or order.gtd_ns <= now):
                raise RejectError("INVALID_ORDER_EXPIRED", "GTD timestamp_ns is not in the future")
        for trigger in (order.trigger_above, order.trigger_below):
            if trigger is not None:
                self._check_price(trigger, "trigger price")

    def _would_cross(self, is_buy: bool, price: int) -> bool:
        if is_buy:
            return bool(self.ask_prices) and self.ask_prices[0] <= price
        return bool(self.bid_prices) and self.bid_prices[-1] >= price

    # ----------------------------------------------------------------- lifecycle

    def _reject(self, order: Order, err: RejectError, now: int) -> RejectError:
        order.state, order.reject_code, order.end_reason = DONE, err.code, REJECTED
        order.updated_ns = now
        self.hooks.on_event(Rejected(order, err.code, err.message, now))
        return err

    def _accept(self, order: Order, now: int) -> None:
        self._seq += 1
        order.seq = self._seq
        order.updated_ns = now
        order.state = PENDING
        self.orders[(order.user, order.order_id)] = order
        self.open_counts[order.user] = self.open_counts.get(order.user, 0) + 1
        if order.gtd_ns is not None:
            heapq.heappush(self.expiries, (order.gtd_ns, order.seq, order))
        if not self._quiet:
            self.hooks.on_event(Accepted(order, now))

    def _go_live(self, order: Order, now: int, *, new: bool) -> RejectError | None:
        """Match and maybe rest an order; `new` = still to be accepted (reject on failure)."""
        is_buy, price = order.is_buy, order.price
        if order.is_market:
            crosses = True
        elif is_buy:
            crosses = bool(self.ask_prices) and self.ask_prices[0] <= price
        else:
            crosses = bool(self.bid_prices) and self.bid_prices[-1] >= price
        if crosses and order.post_only:
            err = RejectError("POST_ONLY_WOULD_CROSS", "post-only order would take liquidity")
            return self._reject(order, err, now) if new else self._fail(order, err, now)
        plan = self._plan(order) if crosses else _NO_FILLS
        if order.fill_or_kill and not plan.complete:
            err = RejectError("FOK_NOT_FILLED", "fill-or-kill order cannot fill completely")
            return self._reject(order, err, now) if new else self._fail(order, err, now)
        if not self._quiet:
            rests = not order.is_market and order.tif != IOC
            rest = order.quantity - order.filled - plan.lots if rests else 0
            code = self.hooks.admit(order, plan.items, rest)
            if code is not None:
                err = RejectError(code, "refused by the ledger")
                return self._reject(order, err, now) if new else self._fail(order, err, now)
        if new:
            self._accept(order, now)
        order.state = LIVE
        if plan.items:
            self._execute(order, plan, now)
        if order.is_market:
            self._finish(order, COMPLETED if plan.complete else CANCELED, now)
        else:
            self._after_match(order, now, plan.complete)
        return None

    def _fail(self, order: Order, err: RejectError, now: int) -> RejectError:
        """A pending order that fired could not go live: it ends as Rejected."""
        order.reject_code = err.code
        self._finish(order, REJECTED, now)
        return err

    def _after_match(self, order: Order, now: int, complete: bool) -> None:
        """Rest the remainder of a limit GTC/GTD order, or end the order."""
        if order.state == DONE:
            return
        if order.is_market:
            self._finish(order, COMPLETED if complete else CANCELED, now)
        elif order.quantity == order.filled:
            self._finish(order, COMPLETED, now)
        elif order.tif == IOC:
            self._finish(order, CANCELED, now)
        elif not order.book_seq:
            self._rest(order, now)

    def _rest(self, order: Order, now: int) -> None:
        self._book_seq += 1
        order.book_seq = self._book_seq
        if order.is_buy:
            book, prices, dirty = self.bids, self.bid_prices, self.dirty_bids
        else:
            book, prices, dirty = self.asks, self.ask_prices, self.dirty_asks
        level = book.get(order.price)
        if level is None:
            level = book[order.price] = Level()
            insort(prices, order.price)
        level.entries.append((order.book_seq, order))
        level.total += order.quantity - order.filled
        dirty.add(order.price)
        order.updated_ns = now
        if not self._quiet:
            self.hooks.on_event(Rested(order, now))

    def _unlink(self, order: Order, price: int, remaining: int) -> None:
        """Take a resting order (with `remaining` lots in the level) off its level (no event)."""
        if not order.book_seq:
            return
        if order.is_buy:
            book, prices, dirty = self.bids, self.bid_prices, self.dirty_bids
        else:
            book, prices, dirty = self.asks, self.ask_prices, self.dirty_asks
        level = book[price]
        level.total -= remaining
        order.book_seq = 0
        dirty.add(price)
        self._tidy(level, book, prices, price)

    def _shrink(self, order: Order, delta: int) -> None:
        """A resting order's quantity went down by delta lots, keeping its priority."""
        if not order.book_seq or not delta:
            return
        if order.is_buy:
            self.bids[order.price].total -= delta
            self.dirty_bids.add(order.price)
        else:
            self.asks[order.price].total -= delta
            self.dirty_asks.add(order.price)

    @staticmethod
    def _tidy(level: Level, book: dict[int, Level], prices: list[int], price: int) -> None:
        if level.total == 0:
            del book[price]
            del prices[bisect_left(prices, price)]
            return
        entries = level.entries
        while entries and entries[0][1].book_seq != entries[0][0]:
            entries.popleft()

    def _finish(self, order: Order, reason: str, now: int) -> None:
        """End an order for good; cancel its pending children or queue them to arm.

        Iterative on purpose: a long chain of parent/child orders must not recurse.
        """
        work = [(order, reason)]
        while work:
            current, why = work.pop()
            if current.book_seq:
                # a fully filled maker still sits in its level with remaining 0
                self._unlink(current, current.price, current.quantity - current.filled)
            current.state, current.end_reason, current.updated_ns = DONE, why, now
            key = (current.user, current.order_id)
            if self.orders.pop(key, None) is not None:
                left = self.open_counts[current.user] - 1
                if left:
                    self.open_counts[current.user] = left
                else:
                    del self.open_counts[current.user]
            if self.armed:
                self.armed.pop(key, None)
            self.remember(key, why)
            if not self._quiet:
                self.hooks.on_event(Removed(current, why, now))
            if not self.children:
                continue
            for child in self.children.pop(key, []):
                if child.state != PENDING:
                    continue
                if why == COMPLETED:
                    self._arm(child)
                else:
                    work.append((child, CANCELED))

    def remember(self, key: tuple[str, str], reason: str) -> None:
        """Record how an order ended, forgetting the oldest beyond FINISHED_MEMORY."""
        self.finished[key] = reason
        self._finished_order.append(key)
        if len(self._finished_order) > FINISHED_MEMORY:
            self.finished.pop(self._finished_order.popleft(), None)

    def _arm(self, order: Order) -> None:
        """A pending order whose parent (if any) completed: wait for its price, or fire next.

        Firing happens in _run_triggers, which every matching entry point calls last.
        """
        if order.has_condition:
            self.armed[order.key] = order
        else:
            self.ready.append(order)

    def _touched(self, order: Order) -> bool:
        last = self.last_price
        if last is None:
            return False
        if order.trigger_above is not None and last >= order.trigger_above:
            return True
        return order.trigger_below is not None and last <= order.trigger_below

    def _run_triggers(self, now: int) -> None:
        """Fire released children, then armed orders whose condition holds, until none is left."""
        while self.ready or self.armed:
            if self.ready:
                self.ready.sort(key=_by_seq)
                order = self.ready.pop(0)
                if order.state == PENDING:
                    self._fire(order, now, touched=False)
                continue
            touched = sorted((o for o in self.armed.values() if self._touched(o)), key=_by_seq)
            if not touched:
                return
            for order in touched:  # one round; each is re-checked, as earlier fires move prices
                if order.key in self.armed and self._touched(order):
                    del self.armed[order.key]
                    self._fire(order, now, touched=True)
                    if self.ready:
                        break

    def _fire(self, order: Order, now: int, *, touched: bool) -> None:
        order.trigger_touched = touched
        order.updated_ns = now
        self.hooks.on_event(Triggered(order, now))
        self._go_live(order, now, new=False)

    # ----------------------------------------------------------------- matching

    def _plan(self, taker: Order) -> Plan:
        """Walk the opposite side and list the fills the taker would make (no changes)."""
        is_buy = taker.is_buy
        scale = self.lot_scale
        if is_buy:
            book, prices = self.asks, self.ask_prices
            order_iter: Iterator[int] = iter(prices)
        else:
            book, prices = self.bids, self.bid_prices
            order_iter = reversed(prices)
        limit = None if taker.is_market else taker.price
        by_quote = taker.quote_quantity is not None
        lots_left = taker.quantity - taker.filled
        quote_left = (taker.quote_quantity or 0) * scale - taker.filled_scaled
        has_amount_cap = taker.max_amount is not None
        amount_left = (taker.max_amount or 0) * scale - taker.filled_scaled
        has_lot_cap = taker.max_lots is not None
        cap_left = (taker.max_lots or 0) - taker.filled
        items: list[PlanItem] = []
        lots = 0
        scaled = 0
        complete = not by_quote and lots_left <= 0
        user = taker.user
        for price in order_iter:
            if complete or (limit is not None and (price > limit if is_buy else price < limit)):
                break
            stop = False
            for seq, maker in book[price].entries:
                if maker.book_seq != seq:
                    continue
                own_bound = quote_left // price if by_quote else lots_left
                if own_bound <= 0:
                    complete = True
                    break
                bound = own_bound
                if has_amount_cap:
                    bound = min(bound, amount_left // price)
                if has_lot_cap:
                    bound = min(bound, cap_left)
                if bound <= 0:
                    stop = True
                    break
                if maker.user == user:
                    items.append((maker, 0, price))
                    continue
                room = maker.quantity - maker.filled
                take = room if room < bound else bound
                items.append((maker, take, price))
                lots += take
                scaled += take * price
                lots_left -= take
                quote_left -= take * price
                amount_left -= take * price
                cap_left -= take
                if take < room:
                    stop = True
                    complete = take == own_bound
                    break
            if stop:
                break
        if not by_quote and lots_left <= 0:
            complete = True
        return Plan(items, lots, scaled, complete)

    def _execute(self, taker: Order, plan: Plan, now: int) -> None:
        """Apply a plan: cancel self-trade makers and make the fills, in walk order."""
        hooks = self.hooks
        quiet = self._quiet
        for maker, lots, price in plan.items:
            if lots == 0:
                if maker.state != DONE:
                    self._finish(maker, SELF_TRADE_PREVENTED, now)
                continue
            maker.filled += lots
            maker.filled_scaled += lots * price
            maker.updated_ns = now
            taker.filled += lots
            taker.filled_scaled += lots * price
            taker.updated_ns = now
            if maker.is_buy:
                self.bids[price].total -= lots
                self.dirty_bids.add(price)
            else:
                self.asks[price].total -= lots
                self.dirty_asks.add(price)
            self.last_price = price
            if not quiet:
                hooks.on_event(Fill(maker, taker, price, lots, now))
            if maker.filled == maker.quantity:
                self._finish(maker, COMPLETED, now)


_NO_FILLS = Plan([], 0, 0, False)
"""The plan of a limit order that does not cross (never mutated)."""


def _by_seq(order: Order) -> int:
    return order.seq


def _trigger_prices(trigger: tuple[str, int] | None) -> tuple[int | None, int | None]:
    if trigger is None:
        return None, None
    kind, price = trigger
    return (price, None) if kind == "PriceAbove" else (None, price)
