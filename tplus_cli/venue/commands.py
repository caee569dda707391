"""The commands that change venue state: frozen, JSON-safe, journaled and replayed verbatim."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class CreateOrder:
    """A verified create: the canonical signed Order object (spec §3.3) and its signature."""

    kind: ClassVar[str] = "CreateOrder"
    ts_ns: int
    order: Mapping[str, Any]
    signature: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "type": self.kind,
            "ts_ns": self.ts_ns,
            "order": dict(self.order),
            "signature": list(self.signature),
        }


@dataclass(frozen=True)
class CancelOrder:
    """A verified cancel of one order of `user` in market `asset`."""

    kind: ClassVar[str] = "CancelOrder"
    ts_ns: int
    user: str
    asset: str
    order_id: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "type": self.kind,
            "ts_ns": self.ts_ns,
            "user": self.user,
            "asset": self.asset,
            "order_id": self.order_id,
        }


@dataclass(frozen=True)
class ReplaceOrder:
    """A verified replace: `request` is the signed ReplaceOrder object (spec §3.6)."""

    kind: ClassVar[str] = "ReplaceOrder"
    ts_ns: int
    user: str
    request: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "type": self.kind,
            "ts_ns": self.ts_ns,
            "user": self.user,
            "request": dict(self.request),
        }


@dataclass(frozen=True)
class AmendOrder:
    """An authenticated amend: `request` is the amend request object (spec §3.7)."""

    kind: ClassVar[str] = "AmendOrder"
    ts_ns: int
    user: str
    request: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "type": self.kind,
            "ts_ns": self.ts_ns,
            "user": self.user,
            "request": dict(self.request),
        }


@dataclass(frozen=True)
class Transfer:
    """A verified sub-account transfer: `inner` is the signed object of spec §3.9."""

    kind: ClassVar[str] = "Transfer"
    ts_ns: int
    inner: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"type": self.kind, "ts_ns": self.ts_ns, "inner": dict(self.inner)}


@dataclass(frozen=True)
class ClosePosition:
    """A verified close-position: `inner` is the signed object of spec §3.10."""

    kind: ClassVar[str] = "ClosePosition"
    ts_ns: int
    inner: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"type": self.kind, "ts_ns": self.ts_ns, "inner": dict(self.inner)}


@dataclass(frozen=True)
class EnsureUser:
    """Create and fund an account once (paper money); a no-op for a known account.

    `grants` maps sub-account index strings to {asset id: inventory amount string}; None means
    the exchange's FundingConfig. `history=False` makes an account that keeps no finished
    orders or trades (the simulator's bots: nobody lists them, and snapshots stay small).
    """

    kind: ClassVar[str] = "EnsureUser"
    ts_ns: int
    user: str
    grants: Mapping[str, Mapping[str, str]] | None = None
    market_maker: bool = False
    history: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        grants = (
            None
            if self.grants is None
            else {sub: dict(assets) for sub, assets in self.grants.items()}
        )
        return {
            "type": self.kind,
            "ts_ns": self.ts_ns,
            "user": self.user,
            "grants": grants,
            "market_maker": self.market_maker,
            "history": self.history,
        }


@dataclass(frozen=True)
class Tick:
    """Let time pass: expires GTD orders whose time has come."""

    kind: ClassVar[str] = "Tick"
    ts_ns: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"type": self.kind, "ts_ns": self.ts_ns}


Command = (
    CreateOrder
    | CancelOrder
    | ReplaceOrder
    | AmendOrder
    | Transfer
    | ClosePosition
    | EnsureUser
    | Tick
)


def command_from_dict(data: Mapping[str, Any]) -> Command:
    """Rebuild a command from its to_dict() form; ValueError on anything else."""
    try:
        kind = data["type"]
        ts = int(data["ts_ns"])
        if kind == CreateOrder.kind:
            return CreateOrder(ts, dict(data["order"]), tuple(int(x) for x in data["signature"]))
        if kind == CancelOrder.kind:
            return CancelOrder(ts, str(data["user"]), str(data["asset"]), str(data["order_id"]))
        if kind == ReplaceOrder.kind:
            return ReplaceOrder(ts, str(data["user"]), dict(data["request"]))
        if kind == AmendOrder.kind:
            return AmendOrder(ts, str(data["user"]), dict(data["request"]))
        if kind == Transfer.kind:
            return Transfer(ts, dict(data["inner"]))
        if kind == ClosePosition.kind:
            return ClosePosition(ts, dict(data["inner"]))
        if kind == EnsureUser.kind:
            grants = data.get("grants")
            return EnsureUser(
                ts,
                str(data["user"]),
                None if grants is None else {str(k): dict(v) for k, v in grants.items()},
                bool(data.get("market_maker", False)),
                bool(data.get("history", True)),
            )
        if kind == Tick.kind:
            return Tick(ts)
    except (KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"malformed command: {err}") from None
    raise ValueError(f"unknown command type {data.get('type')!r}")
