"""Read models of accounts: inventory, margin, solvency, positions, close-all, open interest.

All figures are derived from the ledger's real balances and positions, valued at the mark
(last trade, else the market's reference price). Risk is deliberately simple but consistent:
initial margin = |position value| / max leverage, maintenance = half of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tplus_cli.venue.ledger import Ledger, Mark
from tplus_cli.venue.markets import (
    INVENTORY_DECIMALS,
    MarketConfig,
    fmt_inventory,
    fmt_units,
    pow10,
)


def _lot(config: MarketConfig) -> int:
    return pow10(INVENTORY_DECIMALS - config.quantity_decimals)


def _credit_split(value: int) -> dict[str, str]:
    return {"credits": str(max(value, 0)), "liabilities": str(max(-value, 0))}


def _asset_key(item: tuple[str, int]) -> tuple[int, str]:
    asset = item[0]
    return (int(asset), asset) if asset.isdigit() else (1 << 30, asset)


class AccountViews:
    """JSON views of one ledger (callers check that the user exists first)."""

    def __init__(self, ledger: Ledger, configs: Mapping[str, MarketConfig], mark: Mark) -> None:
        self.ledger = ledger
        self.configs = configs
        self.mark = mark

    def _value(self, asset: str, base: int) -> int:
        price, decimals = self.mark(asset)
        return base * price // pow10(decimals)

    def inventory(self, user: str) -> dict[str, Any]:
        """The inventory object (spec §5.4), plus `held` amounts per sub-account."""
        accounts: dict[str, Any] = {}
        for index, account in sorted(self.ledger.subs(user).items()):
            accounts[str(index)] = {
                "kind": "spot" if index == 0 else "cross_margin",
                "spot": {a: str(v) for a, v in sorted(account.spot.items(), key=_asset_key)},
                "held": {a: str(v) for a, v in sorted(account.held.items())},
                "margins": {
                    asset: {"base": _credit_split(p.base), "quote": _credit_split(p.quote)}
                    for asset, p in sorted(account.positions.items())
                },
            }
        return {"accounts": accounts, "is_mm": user in self.ledger.market_makers}

    def _margin_account(self, user: str, index: int, positions: bool) -> dict[str, Any]:
        ledger, mark = self.ledger, self.mark
        equity = ledger.equity(user, index, mark)
        utilized = ledger.utilized_margin(user, index, mark)
        maintenance = ledger.maintenance_margin(user, index, mark)
        available = ledger.available_margin(user, index, mark)
        held = ledger.subs(user)[index].positions
        upnl = sum(p.quote + self._value(a, p.base) for a, p in held.items())
        gross = sum(abs(self._value(a, p.base)) for a, p in held.items())
        leverage = gross * 100 // equity if equity > 0 else 0
        data: dict[str, Any] = {
            "account_equity": fmt_inventory(equity),
            "available_margin": fmt_inventory(available),
            "utilized_margin": fmt_inventory(utilized),
            "maintenance_margin_surplus": fmt_inventory(equity - maintenance),
            "mm_requirement": fmt_inventory(maintenance),
            "account_leverage": fmt_units(leverage, 2),
            "is_solvent": equity >= maintenance,
            "is_liquidatable": equity < maintenance,
            "total_upnl": fmt_inventory(upnl),
            "im_surplus": fmt_inventory(equity - utilized),
            "net_apy": None,
            "margin_calls": [],
            "netting": None,
        }
        if positions:
            data["positions"] = [
                {k: p[k] for k in ("asset_id", "side", "size", "notional_value", "margin")}
                for p in self._rows(user, index)
            ]
        return data

    def margin(self, user: str, sub_account: int | None, positions: bool) -> dict[str, Any]:
        """UserMarginInfo (spec §5.5): one sub-account, or every one but spot 0."""
        subs = self.ledger.subs(user)
        indexes = [sub_account] if sub_account is not None else sorted(i for i in subs if i)
        return {
            "accounts": {str(i): self._margin_account(user, i, positions) for i in indexes},
            "warnings": [],
        }

    def solvency(self, user: str) -> dict[str, Any]:
        """Solvency per sub-account: distance = equity - maintenance margin."""
        ledger, mark = self.ledger, self.mark
        accounts = {}
        for index in sorted(ledger.subs(user)):
            equity = ledger.equity(user, index, mark)
            maintenance = ledger.maintenance_margin(user, index, mark)
            accounts[str(index)] = {
                "is_solvent": equity >= maintenance,
                "distance_from_liquidation": fmt_inventory(equity - maintenance),
            }
        return {"accounts": accounts}

    def _rows(self, user: str, index: int) -> list[dict[str, Any]]:
        account = self.ledger.subs(user)[index]
        rows: list[dict[str, Any]] = []
        for asset, p in sorted(account.positions.items()):
            config = self.configs[asset]
            mark_price, decimals = self.mark(asset)
            value = self._value(asset, p.base)
            entry = (-p.quote) * pow10(decimals) // p.base if p.base else None
            rows.append(
                {
                    "asset_id": asset,
                    "sub_account_index": index,
                    "name": "Margin" if index == 1 else ("Main" if index == 0 else f"Sub {index}"),
                    "side": "long" if p.base > 0 else ("short" if p.base < 0 else "closed"),
                    "size": config.qty_str(abs(p.base) // _lot(config)),
                    "entry_price": config.price_str(entry) if entry is not None else None,
                    "mark_price": config.price_str(mark_price),
                    "unrealized_pnl": fmt_inventory(p.quote + value),
                    "notional_value": fmt_inventory(abs(value)),
                    "margin": fmt_inventory(abs(value) // config.max_leverage),
                    "leverage": str(config.max_leverage),
                    "liquidation_price": None,
                    "base_credits": config.qty_str(max(p.base, 0) // _lot(config)),
                    "base_liabilities": config.qty_str(max(-p.base, 0) // _lot(config)),
                    "quote_credits": fmt_inventory(max(p.quote, 0)),
                    "quote_liabilities": fmt_inventory(max(-p.quote, 0)),
                }
            )
        return rows

    def positions(
        self, user: str, sub_account: int | None, asset: str | None
    ) -> list[dict[str, Any]]:
        """Position rows (spec §5.6); entry price is the break-even price, fees included."""
        rows: list[dict[str, Any]] = []
        for index in sorted(self.ledger.subs(user)):
            if sub_account is None or index == sub_account:
                rows.extend(
                    r for r in self._rows(user, index) if asset is None or r["asset_id"] == asset
                )
        for row in rows:
            del row["notional_value"]
        return rows

    def close_all(self, user: str, sub_account: int) -> dict[str, Any]:
        """CloseAllPreview (spec §5.7): one unsigned reduce-only order per open position."""
        account = self.ledger.subs(user).get(sub_account)
        orders = []
        for asset, p in sorted(account.positions.items() if account is not None else []):
            if p.base == 0:
                continue
            config = self.configs[asset]
            orders.append(
                {
                    "asset_id": asset,
                    "side": "Sell" if p.base > 0 else "Buy",
                    "quantity": abs(p.base) // _lot(config),
                    "suggested_max_sellable_amount": None,
                    "oracle_price": config.price_str(self.mark(asset)[0]),
                    "book_price_decimals": config.price_decimals,
                    "book_quantity_decimals": config.quantity_decimals,
                    "sub_account_index": sub_account,
                    "reduce_only": True,
                }
            )
        return {"orders": orders, "errors": {}}

    def open_interest(self, config: MarketConfig, now: int) -> dict[str, Any]:
        """OpenInterest: total long and short margin positions in one market."""
        long = short = 0
        for _, _, account in self.ledger.iter_accounts():
            position = account.positions.get(config.asset_id)
            if position is not None:
                long += max(position.base, 0)
                short += max(-position.base, 0)
        return {
            "asset_id": config.asset_id,
            "long": config.qty_str(long // _lot(config)),
            "short": config.qty_str(short // _lot(config)),
            "timestamp_ns": now,
        }
