"""Throughput of the pure matching engine and of the Exchange state machine (ops/s).

Usage: .venv/bin/python bench/engine_rate.py [--ops N] [--seed S]

Engine target: >= 100,000 operations/s on a 2-core machine. An operation is one submit
(a limit order around a drifting mid: most rest, about a third cross and fill one or more
makers) or one cancel of a random live order. The workload is generated before the clock
starts. The Exchange figure adds the ledger, holds, fees and wire events per command
(signatures are the handler's job and are not included). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import time

from tplus_cli.venue.commands import CancelOrder, Command, CreateOrder, EnsureUser
from tplus_cli.venue.engine import Engine, Order
from tplus_cli.venue.exchange import Exchange

ENGINE_TARGET = 100_000


def _workload(n: int, seed: int) -> list[tuple[bool, str, bool, int, int]]:
    """(is_cancel, order id, is_buy, price, lots) tuples; cancels name an earlier order."""
    rng = random.Random(seed)
    mid = 10_000
    ops: list[tuple[bool, str, bool, int, int]] = []
    for i in range(n):
        if i and rng.random() < 0.25:
            ops.append((True, f"o{rng.randrange(i)}", False, 0, 0))
            continue
        mid = max(1_000, mid + rng.choice((-1, 0, 1)))
        is_buy = rng.random() < 0.5
        offset = rng.randint(-3, 12)  # negative offsets cross the spread
        price = mid - offset if is_buy else mid + offset
        ops.append((False, f"o{i}", is_buy, price, rng.randint(1, 20)))
    return ops


def bench_engine(n: int = 200_000, seed: int = 1) -> float:
    """Run n engine operations and return operations per second."""
    ops = _workload(n, seed)
    engine = Engine(max_open_orders=None)  # the book grows to tens of thousands of orders
    users = ("a", "b", "c", "d")
    start = time.perf_counter()
    for i, (is_cancel, oid, is_buy, price, lots) in enumerate(ops):
        if is_cancel:
            engine.cancel(users[int(oid[1:]) & 3], oid, i)
        else:
            engine.submit(Order(users[i & 3], oid, is_buy, price, lots, i), i)
    elapsed = time.perf_counter() - start
    return n / elapsed


def _exchange_commands(n: int, seed: int) -> list[Command]:
    users = [f"{c:064x}" for c in range(1, 17)]  # stays under the per-user open-order cap
    commands: list[Command] = [EnsureUser(0, u) for u in users]
    for i, (is_cancel, oid, is_buy, price, lots) in enumerate(_workload(n, seed)):
        user = users[(int(oid[1:]) if is_cancel else i) % 16]
        if is_cancel:
            commands.append(CancelOrder(i, user, "3", oid))
            continue
        order = {
            "signer": user,
            "order_id": oid,
            "base_asset": "3",
            "book_price_decimals": 3,
            "book_quantity_decimals": 2,
            "details": {
                "Limit": {
                    "limit_price": price * 15,
                    "quantity": lots,
                    "time_in_force": {"GTC": {"post_only": False}},
                }
            },
            "side": "Buy" if is_buy else "Sell",
            "trigger": None,
            "creation_timestamp_ns": i,
            "target": {"account": 1, "is_spot": True},
            "reduce_only": False,
            "max_trading_fees_rate": 50_000,
            "protocol_version": 1,
        }
        commands.append(CreateOrder(i, order, ()))
    return commands


def bench_exchange(n: int = 50_000, seed: int = 1) -> float:
    """Apply n order commands to an Exchange (SOL market) and return commands per second."""
    commands = _exchange_commands(n, seed)
    exchange = Exchange()
    start = time.perf_counter()
    for command in commands:
        exchange.apply(command)
    elapsed = time.perf_counter() - start
    return len(commands) / elapsed


def main() -> None:
    """Print the engine and exchange rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rate = bench_engine(args.ops, args.seed)
    verdict = "meets" if rate >= ENGINE_TARGET else "BELOW"
    print(f"engine:   {rate:12,.0f} ops/s  ({verdict} target {ENGINE_TARGET:,})")
    print(f"exchange: {bench_exchange(max(1, args.ops // 4), args.seed):12,.0f} commands/s")


if __name__ == "__main__":
    main()
