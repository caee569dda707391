"""Typed views of the per-user extras: MDS history and basis, names, multisig, position stream.

Same rules as wire.py: frozen dataclasses, exact Decimals in human units, unknown keys
ignored, missing required keys raise WireError. Pure (no httpx), like the other wire modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tplus_cli.client.wire_account import Position, parse_position
from tplus_cli.client.wire_values import (
    WireError,
    dec,
    integer,
    items_of,
    opt_dec,
    opt_int,
    require,
)


@dataclass(frozen=True, slots=True)
class OpenInterest:
    """Long and short open interest of one market (base units); null sides stay None."""

    asset_id: str
    long: Decimal | None
    short: Decimal | None
    timestamp_ns: int | None


def parse_open_interest(obj: Mapping[str, Any]) -> OpenInterest:
    """Parse `GET /openinterest/{asset}` (MDS)."""
    return OpenInterest(
        asset_id=str(require(obj, "asset_id", "open interest")),
        long=opt_dec(obj.get("long"), "long"),
        short=opt_dec(obj.get("short"), "short"),
        timestamp_ns=opt_int(obj.get("timestamp_ns"), "timestamp_ns"),
    )


@dataclass(frozen=True, slots=True)
class HistoricalOrder:
    """One MDS order-history row (HistoricalUserOrder): human units, not book integers."""

    order_id: str
    asset_id: str
    sub_account: int
    is_spot: bool
    side: str
    status: str
    canceled: bool
    timestamp_ns: int
    price: Decimal | None
    quantity: Decimal | None
    amount: Decimal | None
    filled_quantity: Decimal
    filled_amount: Decimal
    trading_fees: Decimal
    last_update_timestamp_ns: int | None = None
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)


def parse_historical_order(obj: Mapping[str, Any]) -> HistoricalOrder:
    """Parse a HistoricalUserOrder; `account_index`/`is_spot` are required, so an OMS row fails."""
    w = "historical order"
    return HistoricalOrder(
        order_id=str(require(obj, "order_id", w)),
        asset_id=str(require(obj, "base_asset", w)),
        sub_account=integer(require(obj, "account_index", w), "account_index"),
        is_spot=bool(require(obj, "is_spot", w)),
        side=str(require(obj, "side", w)),
        status=str(require(obj, "status", w)),
        canceled=bool(require(obj, "canceled", w)),
        timestamp_ns=integer(require(obj, "timestamp_ns", w), "timestamp_ns"),
        price=opt_dec(require(obj, "limit_price", w), "limit_price"),
        quantity=opt_dec(require(obj, "quantity", w), "quantity"),
        amount=opt_dec(require(obj, "amount", w), "amount"),
        filled_quantity=dec(require(obj, "confirmed_filled_quantity", w), "filled quantity"),
        filled_amount=dec(require(obj, "confirmed_filled_amount", w), "filled amount"),
        trading_fees=dec(require(obj, "confirmed_trading_fees_amount", w), "trading fees"),
        last_update_timestamp_ns=opt_int(obj.get("last_update_timestamp_ns"), "last update"),
        raw=dict(obj),
    )


@dataclass(frozen=True, slots=True)
class PositionBasis:
    """Cost basis of one holding (spot or margin), human units; `side` is None for spot."""

    sub_account: int
    asset_id: str
    domain: str
    quantity: Decimal
    cost: Decimal
    side: str | None = None
    entry_price: Decimal | None = None
    avg_acquisition_price: Decimal | None = None
    mark_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None


def parse_position_basis(obj: Mapping[str, Any]) -> PositionBasis:
    """Parse a PositionBasis row (`GET /positions/user/{pk}/basis`, MDS)."""
    w = "position basis"
    return PositionBasis(
        sub_account=integer(require(obj, "sub_account", w), "sub_account"),
        asset_id=str(require(obj, "asset_id", w)),
        domain=str(require(obj, "domain", w)),
        quantity=dec(require(obj, "quantity", w), "quantity"),
        cost=dec(require(obj, "cost", w), "cost"),
        side=obj.get("side"),
        entry_price=opt_dec(obj.get("entry_price"), "entry_price"),
        avg_acquisition_price=opt_dec(obj.get("avg_acquisition_price"), "avg_acquisition_price"),
        mark_price=opt_dec(obj.get("mark_price"), "mark_price"),
        unrealized_pnl=opt_dec(obj.get("unrealized_pnl"), "unrealized_pnl"),
    )


@dataclass(frozen=True, slots=True)
class SubAccountName:
    """A user-chosen sub-account name."""

    sub_account: int
    name: str


def parse_sub_account_names(obj: Any) -> list[SubAccountName]:
    """Parse `GET /sub-accounts/user/{pk}` (`{"names": [...]}` or a bare list)."""
    return [
        SubAccountName(
            integer(require(row, "account_index", "sub-account name"), "account_index"),
            str(require(row, "name", "sub-account name")),
        )
        for row in items_of(obj, "names")
    ]


@dataclass(frozen=True, slots=True)
class MultisigConfig:
    """Signer weights and thresholds; `signers` kept as sent (their key forms vary, spec §2.6)."""

    master_weight: int = 1
    signers: tuple[Any, ...] = ()
    low: int = 1
    medium: int = 1
    high: int = 1


DEFAULT_MULTISIG = MultisigConfig()  # spec §2.6: master weight 1, no signers, thresholds 1


def parse_multisig_config(obj: Mapping[str, Any]) -> MultisigConfig:
    """Parse `GET /multisig/config/{pk}`."""
    w = "multisig config"
    thresholds = require(obj, "thresholds", w)
    signers = require(obj, "signers", w)
    if not isinstance(signers, list) or not isinstance(thresholds, Mapping):
        raise WireError(f"{w}: signers must be a list and thresholds an object")
    return MultisigConfig(
        master_weight=integer(require(obj, "master_weight", w), "master_weight"),
        signers=tuple(signers),
        low=integer(require(thresholds, "low", w), "low"),
        medium=integer(require(thresholds, "medium", w), "medium"),
        high=integer(require(thresholds, "high", w), "high"),
    )


@dataclass(frozen=True, slots=True)
class PositionUpdate:
    """One `/positions/ws/{pk}` frame: a complete snapshot of the user's positions."""

    user_id: str
    positions: tuple[Position, ...]
    timestamp_ns: int | None


def parse_position_update(obj: Mapping[str, Any]) -> PositionUpdate:
    """Parse a PositionUpdate frame."""
    w = "position update"
    rows = require(obj, "positions", w)
    if not isinstance(rows, list):
        raise WireError(f"{w}: positions must be a list")
    return PositionUpdate(
        user_id=str(require(obj, "user_id", w)),
        positions=tuple(parse_position(p) for p in rows),
        timestamp_ns=opt_int(obj.get("timestamp_ns"), "timestamp_ns"),
    )
