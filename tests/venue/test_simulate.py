"""The simulator: deterministic per seed and clock, keeps books two-sided, bounded catch-up."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from core_helpers import BTC, A, limit

from tplus_cli.venue.commands import Command, CreateOrder, EnsureUser
from tplus_cli.venue.exchange import Exchange
from tplus_cli.venue.simulate import STEP_NS, Simulator

T0 = 1_750_000_000_000_000_000


def run(
    sim: Simulator, ex: Exchange, steps: int, start: int = T0
) -> tuple[list[Command], Counter[str]]:
    commands: list[Command] = []
    outcomes: Counter[str] = Counter()
    for i in range(steps):
        for command in sim.step(ex, start + i * STEP_NS):
            result = ex.apply(command)
            commands.append(command)
            outcomes[result.error[1] if result.error else "ok"] += 1
            outcomes["trades"] += sum(1 for e in result.events if e.channel.startswith("trades/"))
    return commands, outcomes


def test_books_stay_two_sided_and_trade() -> None:
    ex = Exchange()
    _, outcomes = run(Simulator(3), ex, 120)
    assert set(outcomes) <= {"ok", "trades"}, outcomes
    assert outcomes["trades"] > 0
    for asset in ("1", "2", "3"):
        book = ex.book_json(asset)
        assert len(book["bids"]) == 5 and len(book["asks"]) == 5
        assert book["bids"][0][0] < book["asks"][0][0]
    assert all(now == funded for now, funded in ex.conservation().values())


def test_same_seed_same_clock_same_history() -> None:
    first, second = Exchange(), Exchange()
    commands_a, _ = run(Simulator(11), first, 40)
    commands_b, _ = run(Simulator(11), second, 40)
    assert commands_a == commands_b
    assert first.snapshot() == second.snapshot()
    commands_c, _ = run(Simulator(12), Exchange(), 40)
    assert commands_c != commands_a


def test_restarted_simulator_carries_on_without_duplicates() -> None:
    ex = Exchange()
    run(Simulator(5), ex, 20)
    _, outcomes = run(Simulator(5), ex, 20, start=T0 + 20 * STEP_NS)
    assert set(outcomes) <= {"ok", "trades"}, outcomes


def test_steps_only_on_new_boundaries_and_catch_up_is_bounded() -> None:
    ex = Exchange()
    sim = Simulator(1, max_steps=10)
    run(sim, ex, 3)
    assert sim.step(ex, T0 + 2 * STEP_NS) == []
    assert sim.step(ex, T0 + 2 * STEP_NS + 1) == []
    later = sim.step(ex, T0 + 10**9 * STEP_NS)
    takers = [
        c for c in later if isinstance(c, CreateOrder) and c.order["order_id"].startswith("t")
    ]
    assert len(takers) <= 3 * 10
    assert len(later) <= 3 * (10 + 10 + 10)  # per market: cancels + new levels + takers


def test_simulated_accounts_are_market_makers_with_their_own_keys() -> None:
    ex = Exchange()
    sim = Simulator(9)
    run(sim, ex, 1)
    assert sim.maker != sim.taker and len(sim.maker) == 64
    assert ex.inventory_json(sim.maker)["is_mm"] is True
    assert ex.inventory_json(sim.taker)["is_mm"] is False
    assert Simulator(9).maker == sim.maker and Simulator(10).maker != sim.maker


def test_simulated_accounts_keep_no_history_but_users_do() -> None:
    """Bots list only live orders and keep no trades (snapshots stay small); a user who
    trades with them keeps both, and the no-history set survives a snapshot round trip."""
    ex = Exchange()
    sim = Simulator(4)
    run(sim, ex, 2)
    ex.apply(EnsureUser(T0, A))
    best_ask = Decimal(ex.book_json(BTC)["asks"][0][0])
    take = limit(A, "take-1", "buy", int(best_ask * 10), 100, ts=T0 + 1)  # 0.001 BTC
    assert ex.apply(take).error is None
    run(sim, ex, 60, start=T0 + 2 * STEP_NS)
    assert {sim.maker, sim.taker} == ex.no_history
    for bot in (sim.maker, sim.taker):
        assert all(row["status"] not in ("Filled", "Cancelled") for row in ex.user_orders_json(bot))
        assert bot not in ex.user_trades
    assert [t["order_id"] for t in ex.user_trades[A]] == ["take-1"]
    assert [r["order_id"] for r in ex.user_orders_json(A)] == ["take-1"]
    state = ex.snapshot()
    assert state["no_history"] == sorted((sim.maker, sim.taker))
    assert Exchange.restore(state).snapshot() == state
