"""Balances, holds, fees, paper funding, transfers and margin positions of the local venue.

All amounts are 18-decimal inventory integers. Every credit has a matching debit, so per asset
`sum(balances) + sum(position amounts) + fees collected == total funded` holds exactly
(`Ledger.total` / `Ledger.minted`). Holds are reservations inside balances (held <= balance).

Spot targets (`is_spot: true`) trade the sub-account's spot balances: a resting buy holds its
quote notional plus the maker fee, a resting sell holds its base quantity; immediate fills are
paid at admission. Margin targets (`is_spot: false`) trade a per-asset position (signed base
and quote amounts, fees charged to the quote side); they need
`notional / max_leverage + fee` of available margin, where equity values spot balances and
positions at the mark (last trade, else the reference price). Fees are taken in USDC into the
fee account: the taker/maker rate in ppm times the exact notional, rounded down.

Reduce-only: on a margin target the order must shrink an existing position and not exceed it
(REDUCE_ONLY_NO_POSITION / REDUCE_ONLY_WOULD_INCREASE / REDUCE_ONLY_EXCEEDS_POSITION); on a spot
target only a sell is allowed and it may not exceed the base balance available.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tplus_cli.venue.engine import Order, PlanItem
from tplus_cli.venue.markets import PPM, QUOTE_ASSET, MarketConfig, pow10

MARGIN_KEY = "margin"
"""Pseudo-asset under which a margin order's reservation is held."""

MAX_SUB_ACCOUNT = 255

Mark = Callable[[str], tuple[int, int]]
"""asset id → (mark price integer, price decimals); the quote asset is (1, 0)."""


class UnknownUser(KeyError):
    """The account has never been funded on this venue (maps to 404 USER_NOT_FOUND)."""


class LedgerError(Exception):
    """A refused ledger operation with a stable code and HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Position:
    """A margin position in one base asset: signed base amount and signed quote amount."""

    base: int = 0
    quote: int = 0


@dataclass
class SubAccount:
    """One numbered sub-account: spot balances, their holds, margin positions and reservations."""

    spot: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)

    def available(self, asset: str) -> int:
        """Balance not reserved by resting orders."""
        return self.spot.get(asset, 0) - self.held.get(asset, 0)


@dataclass(frozen=True)
class Hold:
    """What one resting order reserves."""

    user: str
    sub: int
    asset: str
    amount: int


def _value(amount: int, mark: tuple[int, int]) -> int:
    """Inventory amount of an asset → inventory USDC at a mark price, rounded down."""
    price, decimals = mark
    return amount * price // pow10(decimals)


class Ledger:
    """Every account's balances and positions, the fee account, and the order holds."""

    def __init__(self, markets: Mapping[str, MarketConfig]) -> None:
        self.markets = dict(markets)
        self.users: dict[str, dict[int, SubAccount]] = {}
        self.minted: dict[str, int] = {}
        self.fees: dict[str, int] = {}
        self.holds: dict[tuple[str, str, str], Hold] = {}  # (asset, user, order_id)
        self.market_makers: set[str] = set()

    # ----------------------------------------------------------------- accounts

    def has_user(self, user: str) -> bool:
        """Whether the account exists."""
        return user in self.users

    def subs(self, user: str) -> dict[int, SubAccount]:
        """The account's sub-accounts; raise UnknownUser if it has none."""
        try:
            return self.users[user]
        except KeyError:
            raise UnknownUser(user) from None

    def sub(self, user: str, index: int) -> SubAccount:
        """One sub-account, created empty on first use."""
        subs = self.subs(user)
        account = subs.get(index)
        if account is None:
            account = subs[index] = SubAccount()
        return account

    def ensure_user(
        self, user: str, grants: Mapping[int, Mapping[str, int]], *, market_maker: bool = False
    ) -> bool:
        """Create and fund an account once; return whether it was created."""
        if user in self.users:
            return False
        self.users[user] = {}
        if market_maker:
            self.market_makers.add(user)
        for index, assets in sorted(grants.items()):
            account = self.sub(user, index)
            for asset, amount in sorted(assets.items()):
                if amount < 0:
                    raise ValueError("grants must not be negative")
                account.spot[asset] = account.spot.get(asset, 0) + amount
                self.minted[asset] = self.minted.get(asset, 0) + amount
        return True

    def transfer(self, user: str, source: int, target: int, asset: str, amount: int) -> None:
        """Move an amount between two sub-accounts of one account."""
        if source == target:
            raise LedgerError(400, "INVALID_TRANSFER", "source and target sub-account are equal")
        if not (0 <= source <= MAX_SUB_ACCOUNT and 0 <= target <= MAX_SUB_ACCOUNT):
            raise LedgerError(400, "INVALID_TRANSFER", "sub-account index out of range")
        if amount <= 0:
            raise LedgerError(400, "INVALID_TRANSFER", "amount must be positive")
        if asset != QUOTE_ASSET and asset not in self.markets:
            raise LedgerError(404, "ASSET_NOT_FOUND", f"unknown asset {asset}")
        src = self.subs(user).get(source)
        if src is None or src.available(asset) < amount:
            raise LedgerError(400, "INSUFFICIENT_BALANCE", "not enough available balance")
        dst = self.sub(user, target)
        src.spot[asset] -= amount
        dst.spot[asset] = dst.spot.get(asset, 0) + amount

    def close_position(self, user: str, index: int, asset: str) -> int:
        """Settle a flat margin position's quote amount into spot USDC; return it."""
        account = self.subs(user).get(index)
        position = account.positions.get(asset) if account is not None else None
        if account is None or position is None:
            raise LedgerError(404, "POSITION_NOT_FOUND", "no position in this sub-account")
        if position.base != 0:
            raise LedgerError(
                400, "POSITION_NOT_FLAT", "trade the position to zero (reduce-only) first"
            )
        if position.quote < 0 and account.available(QUOTE_ASSET) < -position.quote:
            raise LedgerError(400, "INSUFFICIENT_BALANCE", "not enough USDC to settle the loss")
        account.spot[QUOTE_ASSET] = account.spot.get(QUOTE_ASSET, 0) + position.quote
        del account.positions[asset]
        return position.quote

    # ----------------------------------------------------------------- orders

    def hold_for(self, market: MarketConfig, order: Order) -> Hold | None:
        """What a resting order must reserve (None when it does not rest)."""
        if not order.book_seq:
            return None
        rest = order.remaining
        if order.is_spot and not order.is_buy:
            return Hold(order.user, order.account, market.asset_id, market.lots_to_inventory(rest))
        notional = market.notional_to_inventory(order.price * rest)
        fee = notional * market.maker_fee_ppm // PPM
        if order.is_spot:
            return Hold(order.user, order.account, QUOTE_ASSET, notional + fee)
        return Hold(order.user, order.account, MARGIN_KEY, notional // market.max_leverage + fee)

    def refresh_hold(self, market: MarketConfig, order: Order) -> None:
        """Bring an order's reservation in line with its current state."""
        key = (market.asset_id, order.user, order.order_id)
        old = self.holds.pop(key, None)
        if old is not None:
            held = self.users[old.user][old.sub].held
            held[old.asset] -= old.amount
            if not held[old.asset]:
                del held[old.asset]
        new = self.hold_for(market, order)
        if new is not None and new.amount:
            self.holds[key] = new
            held = self.sub(new.user, new.sub).held
            held[new.asset] = held.get(new.asset, 0) + new.amount

    def current_hold(self, market: MarketConfig, order: Order) -> int:
        """The amount an order reserves right now (0 if none)."""
        hold = self.holds.get((market.asset_id, order.user, order.order_id))
        return hold.amount if hold is not None else 0

    def admit(
        self, market: MarketConfig, order: Order, plan: list[PlanItem], rest: int, mark: Mark
    ) -> str | None:
        """Check funds and reduce-only for these fills plus `rest` resting lots; None = ok."""
        subs = self.users.get(order.user)
        if subs is None:
            return "INSUFFICIENT_MARGIN_BALANCE"
        account = subs.get(order.account) or SubAccount()
        lots = sum(item[1] for item in plan)
        total_lots = lots + rest
        if order.reduce_only:
            # the whole order must fit in the position, not only what fills right now
            requested = order.remaining if order.quote_quantity is None else total_lots
            code = self._reduce_only(market, order, account, requested)
            if code is not None:
                return code
        own = self.current_hold(market, order)
        if order.is_spot and not order.is_buy:
            need = market.lots_to_inventory(total_lots)
            return None if need <= account.available(market.asset_id) + own else _short(order)
        taker_fees = 0
        notional = 0
        for _, item_lots, price in plan:
            if item_lots:
                fill = market.notional_to_inventory(item_lots * price)
                notional += fill
                taker_fees += fill * market.taker_fee_ppm // PPM
        rest_notional = market.notional_to_inventory(order.price * rest)
        rest_fee = rest_notional * market.maker_fee_ppm // PPM
        if order.is_spot:
            need = notional + taker_fees + rest_notional + rest_fee
            return None if need <= account.available(QUOTE_ASSET) + own else _short(order)
        # the part that shrinks an opposite position needs no new margin, so closing always fits
        position = account.positions.get(market.asset_id)
        total = market.lots_to_inventory(total_lots)
        reducing = 0
        if position is not None and position.base and (position.base < 0) == order.is_buy:
            reducing = min(abs(position.base), total)
        if total and reducing == total:
            return None  # a pure reduction lowers risk: always allowed (fees hit the position)
        growing = (notional + rest_notional) * (total - reducing) // total if total else 0
        need = growing // market.max_leverage + taker_fees + rest_fee
        if need <= self.available_margin(order.user, order.account, mark) + own:
            return None
        return "INSUFFICIENT_MARGIN"

    def _reduce_only(
        self, market: MarketConfig, order: Order, account: SubAccount, lots: int
    ) -> str | None:
        amount = market.lots_to_inventory(lots)
        if order.is_spot:
            if order.is_buy or account.available(market.asset_id) <= 0:
                return "REDUCE_ONLY_NO_POSITION"
            if amount > account.available(market.asset_id) + self.current_hold(market, order):
                return "REDUCE_ONLY_EXCEEDS_POSITION"
            return None
        position = account.positions.get(market.asset_id)
        if position is None or position.base == 0:
            return "REDUCE_ONLY_NO_POSITION"
        if (position.base > 0) == order.is_buy:
            return "REDUCE_ONLY_WOULD_INCREASE"
        if amount > abs(position.base):
            return "REDUCE_ONLY_EXCEEDS_POSITION"
        return None

    def settle(
        self, market: MarketConfig, maker: Order, taker: Order, price: int, lots: int
    ) -> tuple[int, int]:
        """Move the money of one fill and collect both fees; return (maker fee, taker fee)."""
        notional = market.notional_to_inventory(price * lots)
        base = market.lots_to_inventory(lots)
        maker_fee = notional * market.maker_fee_ppm // PPM
        taker_fee = notional * market.taker_fee_ppm // PPM
        for order, fee in ((maker, maker_fee), (taker, taker_fee)):
            account = self.sub(order.user, order.account)
            sign = 1 if order.is_buy else -1
            if order.is_spot:
                spot = account.spot
                spot[market.asset_id] = spot.get(market.asset_id, 0) + sign * base
                spot[QUOTE_ASSET] = spot.get(QUOTE_ASSET, 0) - sign * notional - fee
            else:
                position = account.positions.get(market.asset_id)
                if position is None:
                    position = account.positions[market.asset_id] = Position()
                position.base += sign * base
                position.quote -= sign * notional + fee
            order.fees += fee
        self.fees[QUOTE_ASSET] = self.fees.get(QUOTE_ASSET, 0) + maker_fee + taker_fee
        return maker_fee, taker_fee

    # ----------------------------------------------------------------- risk

    def equity(self, user: str, index: int, mark: Mark) -> int:
        """Spot balances plus positions of one sub-account, valued in inventory USDC."""
        account = self.subs(user).get(index)
        if account is None:
            return 0
        total = 0
        for asset, amount in account.spot.items():
            total += amount if asset == QUOTE_ASSET else _value(amount, mark(asset))
        for asset, position in account.positions.items():
            total += position.quote + _value(position.base, mark(asset))
        return total

    def utilized_margin(self, user: str, index: int, mark: Mark) -> int:
        """Initial margin of the open positions: |base value| / max leverage."""
        account = self.subs(user).get(index)
        if account is None:
            return 0
        return sum(
            abs(_value(p.base, mark(a))) // self.markets[a].max_leverage
            for a, p in account.positions.items()
        )

    def maintenance_margin(self, user: str, index: int, mark: Mark) -> int:
        """Half the initial margin: the line below which the sub-account is liquidatable."""
        return self.utilized_margin(user, index, mark) // 2

    def available_margin(self, user: str, index: int, mark: Mark) -> int:
        """Equity less utilized margin and reservations of resting margin orders."""
        account = self.subs(user).get(index)
        reserved = account.held.get(MARGIN_KEY, 0) if account is not None else 0
        return self.equity(user, index, mark) - self.utilized_margin(user, index, mark) - reserved

    # ----------------------------------------------------------------- conservation

    def total(self, asset: str) -> int:
        """Everything that exists of one asset: balances, position amounts and fees."""
        total = self.fees.get(asset, 0)
        for subs in self.users.values():
            for account in subs.values():
                total += account.spot.get(asset, 0)
                if asset == QUOTE_ASSET:
                    total += sum(p.quote for p in account.positions.values())
                elif asset in account.positions:
                    total += account.positions[asset].base
        return total

    # ----------------------------------------------------------------- snapshot

    def to_json(self) -> dict[str, Any]:
        """JSON-safe state (holds are derived from the orders and rebuilt on restore)."""
        return {
            "users": {
                user: {
                    str(i): {
                        "spot": {a: str(v) for a, v in sorted(acc.spot.items())},
                        "positions": {
                            a: [str(p.base), str(p.quote)] for a, p in sorted(acc.positions.items())
                        },
                    }
                    for i, acc in sorted(subs.items())
                }
                for user, subs in sorted(self.users.items())
            },
            "minted": {a: str(v) for a, v in sorted(self.minted.items())},
            "fees": {a: str(v) for a, v in sorted(self.fees.items())},
            "market_makers": sorted(self.market_makers),
        }

    @classmethod
    def from_json(cls, markets: Mapping[str, MarketConfig], data: Mapping[str, Any]) -> Ledger:
        """Inverse of to_json (call refresh_hold for every resting order afterwards)."""
        ledger = cls(markets)
        for user, subs in data["users"].items():
            ledger.users[user] = {}
            for index, acc in subs.items():
                account = ledger.sub(user, int(index))
                account.spot = {a: int(v) for a, v in acc["spot"].items()}
                account.positions = {
                    a: Position(int(b), int(q)) for a, (b, q) in acc["positions"].items()
                }
        ledger.minted = {a: int(v) for a, v in data["minted"].items()}
        ledger.fees = {a: int(v) for a, v in data["fees"].items()}
        ledger.market_makers = set(data.get("market_makers", []))
        return ledger

    def iter_accounts(self) -> Iterable[tuple[str, int, SubAccount]]:
        """Every (user, index, sub-account), in a stable order."""
        for user in sorted(self.users):
            for index in sorted(self.users[user]):
                yield user, index, self.users[user][index]


def _short(order: Order) -> str:
    return "INSUFFICIENT_MARGIN_BALANCE"
