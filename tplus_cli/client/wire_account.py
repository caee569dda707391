"""Typed views of account responses (inventory, margin, solvency, positions), human units."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tplus_cli.client.wire_values import (
    INVENTORY_SCALE,
    dec,
    integer,
    opt_dec,
    opt_int,
    require,
)


@dataclass(frozen=True, slots=True)
class Balance:
    """One spot balance of one sub-account, human units (from 18-decimal inventory ints)."""

    sub_account: int
    asset_id: str
    available: Decimal
    total: Decimal
    held: Decimal | None = None


@dataclass(frozen=True, slots=True)
class MarginBalance:
    """Credits/liabilities of one margin position in a sub-account, human units."""

    sub_account: int
    asset_id: str
    base_credits: Decimal
    base_liabilities: Decimal
    quote_credits: Decimal
    quote_liabilities: Decimal


@dataclass(frozen=True, slots=True)
class Inventory:
    """All balances of a user: `kinds` maps sub-account → spot/cross_margin/isolated_margin."""

    balances: tuple[Balance, ...]
    margins: tuple[MarginBalance, ...] = ()
    kinds: Mapping[int, str] = field(default_factory=dict)
    is_mm: bool = False


def inventory_amount(value: Any, what: str = "amount") -> Decimal:
    """An 18-decimal inventory int (decimal or `0x`-hex string) → human Decimal."""
    return Decimal(integer(value, what)) / INVENTORY_SCALE


def _balance(sub: int, asset: str, value: Any) -> Balance:
    if isinstance(value, Mapping):
        total = value.get("total")
        avail = value.get("available", total)
        held = value.get("held")
        a = inventory_amount(avail, "available")
        h = None if held is None else inventory_amount(held, "held")
        t = inventory_amount(total, "total") if total is not None else a + (h or 0)
        return Balance(sub, asset, available=a, total=t, held=h)
    amount = inventory_amount(value)
    return Balance(sub, asset, available=amount, total=amount)


def parse_inventory(obj: Mapping[str, Any]) -> Inventory:
    """Parse `GET /inventory/user/{pk}`; spot values may be plain amounts or {available,held,total},
    and an account may carry a sibling `held` map (spot balance includes what is held)."""
    accounts = obj.get("accounts") or {}
    balances: list[Balance] = []
    margins: list[MarginBalance] = []
    kinds: dict[int, str] = {}
    for key, account in accounts.items():
        sub = integer(key, "sub-account")
        kinds[sub] = str(account.get("kind", "spot"))
        holds = account.get("held")  # the local venue's sibling map: asset -> reserved amount
        for asset, value in (account.get("spot") or {}).items():
            balance = _balance(sub, str(asset), value)
            if balance.held is None and isinstance(holds, Mapping):
                held = inventory_amount(holds.get(asset, 0), "held")
                balance = Balance(sub, balance.asset_id, balance.total - held, balance.total, held)
            balances.append(balance)
        for asset, legs in (account.get("margins") or {}).items():
            base = legs.get("base") or legs.get("asset") or {}
            quote = legs.get("quote") or {}
            margins.append(
                MarginBalance(
                    sub,
                    str(asset),
                    inventory_amount(base.get("credits", 0)),
                    inventory_amount(base.get("liabilities", 0)),
                    inventory_amount(quote.get("credits", 0)),
                    inventory_amount(quote.get("liabilities", 0)),
                )
            )
    balances.sort(key=lambda b: (b.sub_account, b.asset_id))
    return Inventory(tuple(balances), tuple(margins), kinds, bool(obj.get("is_mm", False)))


@dataclass(frozen=True, slots=True)
class MarginPosition:
    """A position line inside a margin account summary."""

    asset_id: str
    side: str
    size: Decimal
    notional_value: Decimal | None
    margin: Decimal | None


@dataclass(frozen=True, slots=True)
class MarginAccount:
    """Margin health of one sub-account, human units (USD)."""

    sub_account: int
    account_equity: Decimal
    available_margin: Decimal
    utilized_margin: Decimal
    maintenance_margin_surplus: Decimal
    is_solvent: bool
    is_liquidatable: bool
    total_upnl: Decimal
    mm_requirement: Decimal | None = None
    account_leverage: Decimal | None = None
    positions: tuple[MarginPosition, ...] = ()


@dataclass(frozen=True, slots=True)
class MarginWarning:
    """A non-fatal note from the margin engine (e.g. a missing price)."""

    sub_account: int | None
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class MarginInfo:
    """`GET /margin/user/{pk}`: per sub-account health plus warnings."""

    accounts: tuple[MarginAccount, ...]
    warnings: tuple[MarginWarning, ...] = ()


def parse_margin(obj: Mapping[str, Any]) -> MarginInfo:
    """Parse UserMarginInfo."""
    accounts = []
    for key, a in (obj.get("accounts") or {}).items():
        positions = tuple(
            MarginPosition(
                asset_id=str(p.get("asset_id")),
                side=str(p.get("side", "")).lower(),
                size=dec(p.get("size"), "size"),
                notional_value=opt_dec(p.get("notional_value")),
                margin=opt_dec(p.get("margin")),
            )
            for p in (a.get("positions") or ())
        )
        w = "margin account"
        accounts.append(
            MarginAccount(
                sub_account=integer(key, "sub-account"),
                account_equity=dec(require(a, "account_equity", w)),
                available_margin=dec(require(a, "available_margin", w)),
                utilized_margin=dec(require(a, "utilized_margin", w)),
                maintenance_margin_surplus=dec(require(a, "maintenance_margin_surplus", w)),
                is_solvent=bool(require(a, "is_solvent", w)),
                is_liquidatable=bool(require(a, "is_liquidatable", w)),
                total_upnl=dec(require(a, "total_upnl", w)),
                mm_requirement=opt_dec(a.get("mm_requirement")),
                account_leverage=opt_dec(a.get("account_leverage")),
                positions=positions,
            )
        )
    warnings = tuple(
        MarginWarning(opt_int(w.get("sub_account")), str(w.get("code")), str(w.get("message")))
        for w in (obj.get("warnings") or ())
    )
    accounts.sort(key=lambda a: a.sub_account)
    return MarginInfo(tuple(accounts), warnings)


@dataclass(frozen=True, slots=True)
class Solvency:
    """Per sub-account solvency: `accounts[i] = (is_solvent, distance_from_liquidation)`."""

    accounts: Mapping[int, tuple[bool, Decimal | None]]


def parse_solvency(obj: Mapping[str, Any]) -> Solvency:
    """Parse `GET /solvency/user/{pk}`."""
    return Solvency(
        {
            integer(k, "sub-account"): (
                bool(v.get("is_solvent")),
                opt_dec(v.get("distance_from_liquidation")),
            )
            for k, v in (obj.get("accounts") or {}).items()
        }
    )


@dataclass(frozen=True, slots=True)
class Position:
    """An open (or just closed) margin position, human units."""

    asset_id: str
    sub_account: int
    side: str
    size: Decimal
    entry_price: Decimal | None = None
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    margin: Decimal | None = None
    leverage: Decimal | None = None
    liquidation_price: Decimal | None = None
    name: str | None = None


def parse_position(obj: Mapping[str, Any]) -> Position:
    """Parse a Position row."""
    return Position(
        asset_id=str(require(obj, "asset_id", "position")),
        sub_account=integer(require(obj, "sub_account_index", "position"), "sub_account_index"),
        side=str(require(obj, "side", "position")),
        size=dec(require(obj, "size", "position"), "size"),
        entry_price=opt_dec(obj.get("entry_price")),
        mark_price=opt_dec(obj.get("mark_price")),
        unrealized_pnl=opt_dec(obj.get("unrealized_pnl")),
        margin=opt_dec(obj.get("margin")),
        leverage=opt_dec(obj.get("leverage")),
        liquidation_price=opt_dec(obj.get("liquidation_price")),
        name=obj.get("name"),
    )


@dataclass(frozen=True, slots=True)
class CloseAllOrder:
    """One unsigned order suggested by the close-all preview (quantity in book units)."""

    asset_id: str
    side: str
    quantity_raw: int
    price_decimals: int
    quantity_decimals: int
    sub_account: int
    reduce_only: bool
    oracle_price: Decimal | None = None
    suggested_max_sellable_amount: int | None = None

    @property
    def quantity(self) -> Decimal:
        """Human base quantity."""
        return Decimal(self.quantity_raw).scaleb(-self.quantity_decimals)


@dataclass(frozen=True, slots=True)
class CloseAllPreview:
    """Orders that would flatten a sub-account, plus per-asset errors."""

    orders: tuple[CloseAllOrder, ...]
    errors: Mapping[str, str]


def parse_close_all(obj: Mapping[str, Any]) -> CloseAllPreview:
    """Parse `GET /positions/close-all/{pk}/{sub}`."""
    orders = tuple(
        CloseAllOrder(
            asset_id=str(require(o, "asset_id", "close-all order")),
            side=str(require(o, "side", "close-all order")),
            quantity_raw=integer(require(o, "quantity", "close-all order"), "quantity"),
            price_decimals=integer(o.get("book_price_decimals", 0)),
            quantity_decimals=integer(o.get("book_quantity_decimals", 0)),
            sub_account=integer(o.get("sub_account_index", 0)),
            reduce_only=bool(o.get("reduce_only", True)),
            oracle_price=opt_dec(o.get("oracle_price")),
            suggested_max_sellable_amount=opt_int(o.get("suggested_max_sellable_amount")),
        )
        for o in (obj.get("orders") or ())
    )
    errors = {str(k): str(v) for k, v in (obj.get("errors") or {}).items()}
    return CloseAllPreview(orders, errors)
