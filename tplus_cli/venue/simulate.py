"""Seedable market activity so the local books, trades and streams are alive.

`Simulator(seed).step(exchange, now_ns)` returns Commands (it changes nothing itself): a market
maker keeps a ladder of post-only limit orders on both sides of a reference price that walks
randomly, and a taker occasionally crosses the spread with an IOC market order. The output is
a pure function of (seed, exchange state, now_ns, the previous step time), so the journal
replays it exactly; randomness is drawn per (seed, market, step index), never from a shared
stream, so a restarted simulator carries on where the last one stopped. However long the gap
since the previous call, one call does one re-quote (the walk advances by up to `max_steps`
increments) and at most `max_steps` taker orders: bounded work.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tplus_cli.client.signing import (
    limit_details,
    market_details,
    order_object,
    public_key_hex,
    sign,
    signing_bytes,
    target_object,
    tif_gtc,
)
from tplus_cli.venue.commands import CancelOrder, Command, CreateOrder, EnsureUser
from tplus_cli.venue.markets import DEFAULT_MARKETS, INVENTORY_DECIMALS, MarketConfig, pow10

if TYPE_CHECKING:
    from tplus_cli.venue.exchange import Exchange

STEP_NS = 2_000_000_000
"""One simulation step: a re-quote and a chance of taker flow, every 2 seconds of venue time."""

SIM_FUNDING = str(10**9 * pow10(INVENTORY_DECIMALS))
"""Each simulated account gets 10^9 units of every asset in sub-account 1 (its order target)."""


def _seed(seed: int, role: str) -> bytes:
    return hashlib.sha256(f"tplus-sim:{seed}:{role}".encode()).digest()


class Simulator:
    """A market maker and a taker, each with its own paper account derived from the seed."""

    def __init__(
        self,
        seed: int = 0,
        *,
        markets: Sequence[MarketConfig] = DEFAULT_MARKETS,
        levels: int = 5,
        taker_probability: float = 0.35,
        max_steps: int = 30,
        step_ns: int = STEP_NS,
    ) -> None:
        self.seed = seed
        self.markets = tuple(markets)
        self.levels = levels
        self.taker_probability = taker_probability
        self.max_steps = max_steps
        self.step_ns = step_ns
        self._maker_seed = _seed(seed, "maker")
        self._taker_seed = _seed(seed, "taker")
        self.maker = public_key_hex(self._maker_seed)
        self.taker = public_key_hex(self._taker_seed)
        self._last_step: int | None = None

    def _rng(self, asset: str, step: int) -> random.Random:
        digest = hashlib.sha256(f"{self.seed}:{asset}:{step}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))

    def step(self, exchange: Exchange, now_ns: int) -> list[Command]:
        """The commands for everything due at now_ns (empty if no step boundary passed)."""
        step = now_ns // self.step_ns
        if self._last_step is not None and step <= self._last_step:
            return []
        elapsed = 1 if self._last_step is None else min(step - self._last_step, self.max_steps)
        self._last_step = step
        commands: list[Command] = []
        grants = {"1": dict.fromkeys(("0", *[m.asset_id for m in self.markets]), SIM_FUNDING)}
        for user in (self.maker, self.taker):
            if not exchange.has_user(user):
                commands.append(
                    EnsureUser(now_ns, user, grants, market_maker=user == self.maker, history=False)
                )
        for config in self.markets:
            if exchange.market(config.asset_id) is None:
                continue
            rng = self._rng(config.asset_id, step)
            commands.extend(self._quote(exchange, config, rng, elapsed, step, now_ns))
            commands.extend(self._take(config, rng, elapsed, step, now_ns))
        return commands

    # ----------------------------------------------------------------- maker

    def _center(self, exchange: Exchange, config: MarketConfig) -> int:
        """The current reference: mid of the maker's quotes, else last trade, else configured."""
        live = exchange.live_orders(self.maker, config.asset_id)
        bids = [o.price for o in live if o.is_buy]
        asks = [o.price for o in live if not o.is_buy]
        if bids and asks:
            return (max(bids) + min(asks)) // 2
        last = exchange.mark(config.asset_id)[0]
        return last if last > 0 else config.reference_price

    @staticmethod
    def _unit(config: MarketConfig) -> int:
        """Ladder spacing: about one basis point of the reference price, on the tick grid."""
        raw = max(config.tick_size, config.reference_price // 10_000)
        return raw - raw % config.tick_size

    def _lots(self, config: MarketConfig, price: int, rng: random.Random) -> int:
        """A level size worth roughly 2,000-6,000 USDC, on the lot grid, at least the minimum."""
        usd = rng.randint(2_000, 6_000)
        lots = usd * pow10(config.price_decimals + config.quantity_decimals) // price
        return max(config.min_lots, lots)

    def _quote(
        self,
        exchange: Exchange,
        config: MarketConfig,
        rng: random.Random,
        elapsed: int,
        step: int,
        now: int,
    ) -> list[Command]:
        unit = self._unit(config)
        center = self._center(exchange, config)
        center += unit * sum(rng.choice((-1, 0, 0, 1)) for _ in range(elapsed))
        low = max(config.reference_price // 5, unit * (self.levels + 2))
        center = max(low, min(center, config.reference_price * 5))
        center -= center % config.tick_size
        wanted = {(True, center - unit * (i + 1)) for i in range(self.levels)}
        wanted |= {(False, center + unit * (i + 1)) for i in range(self.levels)}
        commands: list[Command] = []
        have: set[tuple[bool, int]] = set()
        for order in exchange.live_orders(self.maker, config.asset_id):
            key = (order.is_buy, order.price)
            if key in wanted and key not in have:
                have.add(key)
            else:
                commands.append(CancelOrder(now, self.maker, config.asset_id, order.order_id))
        for n, (is_buy, price) in enumerate(sorted(wanted - have)):
            lots = self._lots(config, price, rng)
            order_id = f"m{step:x}.{config.asset_id}.{n}"
            commands.append(
                self._create(
                    self._maker_seed,
                    self.maker,
                    config,
                    order_id,
                    "Buy" if is_buy else "Sell",
                    limit_details(price, lots, tif_gtc(post_only=True)),
                    now,
                )
            )
        return commands

    # ----------------------------------------------------------------- taker

    def _take(
        self, config: MarketConfig, rng: random.Random, elapsed: int, step: int, now: int
    ) -> list[Command]:
        commands: list[Command] = []
        for n in range(elapsed):
            if rng.random() >= self.taker_probability:
                continue
            lots = self._lots(config, config.reference_price, rng) // rng.randint(1, 4)
            side = rng.choice(("Buy", "Sell"))
            commands.append(
                self._create(
                    self._taker_seed,
                    self.taker,
                    config,
                    f"t{step:x}.{config.asset_id}.{n}",
                    side,
                    market_details(base_quantity=max(config.min_lots, lots)),
                    now,
                )
            )
        return commands

    @staticmethod
    def _create(
        seed: bytes,
        user: str,
        config: MarketConfig,
        order_id: str,
        side: str,
        details: dict[str, object],
        now: int,
    ) -> CreateOrder:
        order = order_object(
            signer=user,
            order_id=order_id,
            base_asset=config.asset_id,
            price_decimals=config.price_decimals,
            quantity_decimals=config.quantity_decimals,
            details=details,
            side=side,
            creation_timestamp_ns=now,
            target=target_object(1, True),
        )
        return CreateOrder(now, order, tuple(sign(seed, signing_bytes(order))))
