"""Static configuration of the local venue: assets, markets, fee schedules and paper funding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INVENTORY_DECIMALS = 18
"""Balances, holds, transfers and fees are integers with 18 decimals (clearing-engine units)."""

QUOTE_ASSET = "0"
"""Every local market is quoted in USDC, asset index 0."""

FEE_ACCOUNT = "0" * 64
"""The account that collects trading fees, so that every asset is conserved exactly."""

PPM = 1_000_000


def pow10(n: int) -> int:
    """10**n as an int (n >= 0), typed for mypy."""
    if n < 0:
        raise ValueError("negative exponent")
    return int(10**n)


def fmt_units(value: int, decimals: int) -> str:
    """Render an integer of `decimals` implied places as an exact decimal string ("0.500")."""
    sign = "-" if value < 0 else ""
    digits = str(abs(value))
    if decimals <= 0:
        return sign + digits
    digits = digits.rjust(decimals + 1, "0")
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"


def fmt_inventory(value: int, places: int = 6) -> str:
    """Render an 18-decimal inventory integer with `places` decimals, truncating toward zero."""
    scale = pow10(INVENTORY_DECIMALS - places)
    truncated = abs(value) // scale
    return fmt_units(-truncated if value < 0 else truncated, places)


@dataclass(frozen=True)
class AssetInfo:
    """One row of the asset table served as `symbol_map` (spec §5.2)."""

    index: int
    symbol: str
    name: str
    asset_class: str
    representations: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the `symbol_map` entry in wire form."""
        return {
            "index": self.index,
            "symbol": self.symbol,
            "name": self.name,
            "asset_class": self.asset_class,
            "representations": list(self.representations),
        }


@dataclass(frozen=True)
class MarketConfig:
    """One spot/perp book: base asset against USDC, with book decimals, tick, size and fees.

    Prices are integers of `price_decimals` places, quantities integers of `quantity_decimals`
    places ("lots"); `tick_size` is in price integers and `min_lots` in quantity integers.
    Fee rates are ppm. `reference_price` seeds the simulator and the mark price before any trade.
    """

    asset_id: str
    symbol: str
    name: str
    price_decimals: int
    quantity_decimals: int
    tick_size: int
    min_lots: int
    taker_fee_ppm: int
    maker_fee_ppm: int
    max_leverage: int
    reference_price: int

    def __post_init__(self) -> None:
        if self.price_decimals + self.quantity_decimals > INVENTORY_DECIMALS:
            raise ValueError("price_decimals + quantity_decimals must not exceed 18")
        if self.tick_size <= 0 or self.min_lots <= 0 or self.max_leverage <= 0:
            raise ValueError("tick_size, min_lots and max_leverage must be positive")
        if not 0 <= self.maker_fee_ppm <= self.taker_fee_ppm < PPM:
            raise ValueError("fee rates must satisfy 0 <= maker <= taker < 1_000_000 ppm")

    @property
    def lot_scale(self) -> int:
        """10**quantity_decimals: converts price*lots to the price scale."""
        return pow10(self.quantity_decimals)

    def lots_to_inventory(self, lots: int) -> int:
        """Base quantity in lots → 18-decimal inventory units (exact)."""
        return lots * pow10(INVENTORY_DECIMALS - self.quantity_decimals)

    def notional_to_inventory(self, price_times_lots: int) -> int:
        """Quote notional price*lots (scale 10**(pd+qd)) → 18-decimal inventory units (exact)."""
        return price_times_lots * pow10(
            INVENTORY_DECIMALS - self.price_decimals - self.quantity_decimals
        )

    def price_str(self, price: int) -> str:
        """Human decimal string of a price integer."""
        return fmt_units(price, self.price_decimals)

    def qty_str(self, lots: int) -> str:
        """Human decimal string of a quantity integer."""
        return fmt_units(lots, self.quantity_decimals)

    def to_json(self) -> dict[str, Any]:
        """Return the market object of `GET /market/{asset}` (spec §5.2)."""
        return {
            "asset_id": self.asset_id,
            "symbol": self.symbol,
            "book_price_decimals": self.price_decimals,
            "book_quantity_decimals": self.quantity_decimals,
            "max_leverage": str(self.max_leverage),
            "current_long_max_leverage": str(self.max_leverage),
            "current_short_max_leverage": str(self.max_leverage),
            "isolated_only": False,
            "min_order_size": self.qty_str(self.min_lots),
            "tick_size": self.price_str(self.tick_size),
            "fee_schedule": {
                "fee_account": FEE_ACCOUNT,
                "global": [
                    {
                        "min_rolling_volume_usd": 0,
                        "taker_fee_rate": self.taker_fee_ppm,
                        "maker_fee_rate": self.maker_fee_ppm,
                        "maker_rebate_rate_of_taker_fee": None,
                    }
                ],
                "per_asset": [],
            },
        }


ASSETS: tuple[AssetInfo, ...] = (
    AssetInfo(0, "USDC", "USD Coin", "USD", ("USDC", "USDT")),
    AssetInfo(1, "ETH", "Ether", "Crypto", ("ETH", "WETH")),
    AssetInfo(2, "BTC", "Bitcoin", "Crypto", ("BTC", "WBTC")),
    AssetInfo(3, "SOL", "Solana", "Crypto", ("SOL",)),
)
"""Canonical local assets (index → symbol), shared by every part of tplus."""

DEFAULT_MARKETS: tuple[MarketConfig, ...] = (
    MarketConfig("1", "ETH", "Ether", 2, 4, 1, 10, 500, 200, 20, 3_400_00),
    MarketConfig("2", "BTC", "Bitcoin", 1, 5, 1, 10, 500, 200, 20, 65_000_0),
    MarketConfig("3", "SOL", "Solana", 3, 2, 1, 1, 500, 200, 10, 150_000),
)
"""ETH 0.01 tick / 0.0001 step; BTC 0.1 tick / 0.00001 step; SOL 0.001 tick / 0.01 step."""


def _units(amount: int, decimals: int = 0) -> int:
    """Whole units (optionally with decimals already applied) → inventory units."""
    return amount * pow10(INVENTORY_DECIMALS - decimals)


@dataclass(frozen=True)
class FundingConfig:
    """Paper money credited once to every new local account.

    Orders default to target {account 1, is_spot true} (tpluspy's default), so both the spot
    sub-account 0 and the margin sub-account 1 are funded with the same spot balances:
    100,000 USDC, 10 ETH, 1 BTC and 100 SOL each.
    """

    grants: Mapping[int, Mapping[str, int]] = field(
        default_factory=lambda: {
            sub: {"0": _units(100_000), "1": _units(10), "2": _units(1), "3": _units(100)}
            for sub in (0, 1)
        }
    )

    def to_json(self) -> dict[str, dict[str, str]]:
        """Return the grants as {sub: {asset: amount string}}."""
        return {
            str(sub): {asset: str(v) for asset, v in assets.items()}
            for sub, assets in self.grants.items()
        }

    @staticmethod
    def from_json(data: Mapping[str, Mapping[str, str]]) -> FundingConfig:
        """Inverse of to_json."""
        return FundingConfig(
            {int(sub): {a: int(v) for a, v in assets.items()} for sub, assets in data.items()}
        )


DEFAULT_FUNDING = FundingConfig()


def asset_table(markets: tuple[MarketConfig, ...] = DEFAULT_MARKETS) -> dict[str, AssetInfo]:
    """Return the assets that the given markets use, keyed by index string."""
    used = {QUOTE_ASSET} | {m.asset_id for m in markets}
    return {str(a.index): a for a in ASSETS if str(a.index) in used}
