"""Invariants over random command sequences (hypothesis): book, FIFO, conservation, replay."""

from __future__ import annotations

import json
from typing import Any

from core_helpers import BTC, T0, A, B, C, amend, cancel, limit, market, replace
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tplus_cli.venue import engine as eng
from tplus_cli.venue.commands import Command, EnsureUser, Tick
from tplus_cli.venue.engine import Engine, Order
from tplus_cli.venue.exchange import Exchange

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------- pure engine

engine_ops = st.lists(
    st.tuples(
        st.sampled_from(["limit", "limit", "limit", "market", "cancel", "replace", "amend"]),
        st.integers(0, 2),  # user
        st.booleans(),  # is_buy
        st.integers(90, 110),  # price
        st.integers(1, 30),  # quantity
        st.sampled_from([eng.GTC, eng.GTC, eng.IOC, eng.GTD]),
        st.booleans(),  # post_only / fill_or_kill
    ),
    min_size=8,
    max_size=60,
)


def check_book(engine: Engine) -> None:
    """Not crossed; level totals match live orders; FIFO by book sequence; no empty level."""
    bid, ask = engine.best_bid(), engine.best_ask()
    assert bid is None or ask is None or bid < ask
    for is_buy, book, prices in (
        (True, engine.bids, engine.bid_prices),
        (False, engine.asks, engine.ask_prices),
    ):
        assert sorted(book) == prices
        for price, level in book.items():
            orders = list(level.live())
            assert orders, "empty level left on the book"
            assert level.total == sum(o.remaining for o in orders) > 0
            seqs = [o.book_seq for o in orders]
            assert seqs == sorted(seqs)
            assert all(o.price == price and o.is_buy == is_buy for o in orders)
            assert all(o.state == eng.LIVE and o.remaining > 0 for o in orders)
    counts: dict[str, int] = {}
    for user, _ in engine.orders:
        counts[user] = counts.get(user, 0) + 1
    assert engine.open_counts == counts
    resting = {o.key for lvl in (*engine.bids.values(), *engine.asks.values()) for o in lvl.live()}
    assert resting <= engine.orders.keys()
    assert not resting & engine.finished.keys()


@SETTINGS
@given(engine_ops)
def test_engine_book_invariants(ops: list[tuple[Any, ...]]) -> None:
    engine = Engine(tick_size=1, min_lots=1, lot_scale=10)
    users = ("u0", "u1", "u2")
    for now, (kind, u, is_buy, price, qty, tif, flag) in enumerate(ops, start=1):
        user, oid = users[u], f"o{now}"
        target = f"o{max(1, now - qty)}"
        if kind == "limit":
            order = Order(user, oid, is_buy, price, qty, now, tif=tif, gtd_ns=now + qty)
            order.post_only = flag and tif != eng.IOC
            order.fill_or_kill = flag and tif == eng.IOC
            engine.submit(order, now)
        elif kind == "market":
            engine.submit(Order(user, oid, is_buy, 0, qty, now, is_market=True), now)
        elif kind == "cancel":
            engine.cancel(user, target, now)
        elif kind == "replace":
            engine.replace(
                user,
                target,
                new_price=price,
                new_quantity=qty,
                new_trigger=None,
                revision=now,
                now=now,
            )
        else:
            live = engine.get(user, target)
            engine.amend(
                user,
                target,
                new_quantity=qty,
                expected_revision=live.revision if live else None,
                revision=now,
                now=now,
            )
        check_book(engine)


# ---------------------------------------------------------------------- whole exchange

USERS = (A, B, C)
exchange_ops = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "limit",
                "limit",
                "limit",
                "limit",
                "market",
                "mquote",
                "cancel",
                "replace",
                "amend",
                "tick",
                "stop",
            ]
        ),
        st.integers(0, 2),  # user
        st.booleans(),  # buy
        st.integers(-20, 20),  # price offset in 0.1 steps around 65000.0
        st.integers(10, 80_000),  # lots (0.0001 .. 0.8 BTC)
        st.booleans(),  # margin target
        st.booleans(),  # post-only / IOC / reduce-only flag
    ),
    min_size=8,
    max_size=40,
)


def build(ops: list[tuple[Any, ...]]) -> list[Command]:
    """Turn drawn tuples into commands (deterministically; invalid ones get rejected)."""
    commands: list[Command] = [EnsureUser(T0, u) for u in USERS]
    own: dict[str, list[str]] = {u: ["none"] for u in USERS}
    for i, (kind, u, buy, offset, lots, margin, flag) in enumerate(ops, start=1):
        user, oid, ts = USERS[u], f"o{i}", T0 + i * 1_000_000_000
        side = "Buy" if buy else "Sell"
        price = 650_000 + offset * 10
        target = (1, not margin)
        victim = own[user][-1 - lots % min(3, len(own[user]))]
        own[user].append(oid)
        if kind == "limit":
            commands.append(
                limit(
                    user,
                    oid,
                    side,
                    price,
                    lots,
                    post_only=flag and lots % 2 == 0,
                    ioc=flag and lots % 2 == 1,
                    gtd=ts + 3_000_000_000 if lots % 7 == 0 else None,
                    target=target,
                    reduce_only=flag and lots % 3 == 0,
                    ts=ts,
                )
            )
        elif kind == "market":
            commands.append(
                market(
                    user,
                    oid,
                    side,
                    base=lots,
                    fok=flag,
                    target=target,
                    ts=ts,
                    reduce_only=flag and margin,
                )
            )
        elif kind == "mquote":
            commands.append(
                market(
                    user,
                    oid,
                    side,
                    quote=lots * 7,
                    max_qty=lots if flag else None,
                    target=target,
                    ts=ts,
                )
            )
        elif kind == "stop":
            condition = ("PriceBelow" if buy else "PriceAbove", price)
            commands.append(
                limit(user, oid, side, price, lots, trigger=condition, target=target, ts=ts)
            )
        elif kind == "cancel":
            commands.append(cancel(user, victim, ts=ts))
        elif kind == "replace":
            commands.append(replace(user, victim, price, lots, revision=ts, ts=ts))
        elif kind == "amend":
            expected = None if flag else ts - 1_000_000_000  # right only after a replace just now
            commands.append(amend(user, victim, lots // 2, expected=expected, revision=ts, ts=ts))
        else:
            commands.append(Tick(ts + lots * 100_000))
    return commands


def check_exchange(ex: Exchange) -> None:
    """Conservation per asset, holds within balances, and each book sound."""
    for asset, (now, funded) in ex.conservation().items():
        assert now == funded, asset
    expected_holds: dict[tuple[str, int, str], int] = {}
    for market_ in ex.markets.values():
        check_book(market_.engine)
        for order in market_.engine.orders.values():
            hold = ex.ledger.hold_for(market_.config, order)
            if hold is not None and hold.amount:
                key = (hold.user, hold.sub, hold.asset)
                expected_holds[key] = expected_holds.get(key, 0) + hold.amount
    for user, index, account in ex.ledger.iter_accounts():
        for asset, amount in account.held.items():
            assert amount == expected_holds.pop((user, index, asset))
            if asset != "margin":
                assert 0 < amount <= account.spot.get(asset, 0)
        assert all(v >= 0 for v in account.spot.values())
    assert expected_holds == {}


@SETTINGS
@given(exchange_ops)
def test_exchange_invariants_and_replay(ops: list[tuple[Any, ...]]) -> None:
    commands = build(ops)
    live = Exchange()
    results = []
    for command in commands:
        results.append(live.apply(command))
        check_exchange(live)
    snapshot = json.loads(json.dumps(live.snapshot()))
    restored = Exchange.restore(snapshot)
    assert restored.snapshot() == live.snapshot()
    check_exchange(restored)
    replayed = Exchange()
    assert [replayed.apply(c) for c in commands] == results
    assert replayed.snapshot() == live.snapshot()
    assert replayed.book_json(BTC) == live.book_json(BTC)


@SETTINGS
@given(exchange_ops, st.integers(0, 40))
def test_restore_mid_session_then_continue(ops: list[tuple[Any, ...]], cut: int) -> None:
    commands = build(ops)
    cut = min(cut, len(commands))
    live = Exchange()
    for command in commands[:cut]:
        live.apply(command)
    restored = Exchange.restore(json.loads(json.dumps(live.snapshot())))
    for command in commands[cut:]:
        assert restored.apply(command) == live.apply(command)
    assert restored.snapshot() == live.snapshot()


# ---------------------------------------------------------------------- hostile input

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
ORDER_KEYS = list(limit(A, "k", "Buy", 650_000, 1_000).order)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ORDER_KEYS + ["replace", "amend", "transfer", "close", "fund"]),
            json_values,
        ),
        max_size=12,
    )
)
def test_malformed_commands_are_refused_never_raised(edits: list[tuple[str, Any]]) -> None:
    from core_helpers import close_position, transfer

    from tplus_cli.venue.commands import (
        AmendOrder,
        ClosePosition,
        CreateOrder,
        ReplaceOrder,
        Transfer,
    )

    ex = Exchange()
    ex.apply(EnsureUser(T0, A))
    for i, (key, value) in enumerate(edits):
        base: Command
        if key == "replace":
            base = ReplaceOrder(
                T0, A, {**replace(A, "k", 1, 1, revision=T0 + i).request, "new_trigger": value}
            )
        elif key == "amend":
            base = AmendOrder(
                T0,
                A,
                {**amend(A, "k", 1, expected=None, revision=T0).request, "new_quantity": value},
            )
        elif key == "transfer":
            base = Transfer(
                T0, {**transfer(A, 0, 1, "0", 1, nonce=i).inner, "transfer_amount": value}
            )
        elif key == "close":
            base = ClosePosition(T0, {**close_position(A, 1, BTC, nonce=i).inner, "account": value})
        elif key == "fund":
            base = EnsureUser(
                T0, f"{i:064x}", {"1": {"0": value}} if not isinstance(value, dict) else value
            )  # type: ignore[dict-item]
        else:
            good = limit(A, f"k{i}", "Buy", 600_000, 1_000)
            base = CreateOrder(T0, {**good.order, key: value}, good.signature)
        result = ex.apply(base)
        assert result.error is None or isinstance(result.error[1], str)
        check_exchange(ex)


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, 3 * 86_400), st.integers(1, 1_000), st.integers(1, 50)),
        max_size=40,
    ),
    st.integers(0, 4 * 86_400),
)
def test_cached_24h_ticker_matches_brute_force(
    fills: list[tuple[int, int, int]], extra_s: int
) -> None:
    from tplus_cli.venue.marketdata import DAY_NS, MINUTE_NS, MarketData
    from tplus_cli.venue.markets import DEFAULT_MARKETS

    data = MarketData(DEFAULT_MARKETS[1])
    now = T0
    for offset_s, price, lots in sorted(fills):
        now = T0 + offset_s * 1_000_000_000
        data.record(now, price, lots, {})
        data.ticker(now, None, None)  # warm the cache at many points in time
    later = now + extra_s * 1_000_000_000
    got = data.ticker(later, None, None)
    start = (later - DAY_NS) - (later - DAY_NS) % MINUTE_NS
    window = [bar for bar in data.bars if bar[0] >= start]
    config = DEFAULT_MARKETS[1]
    assert got["volume_24h"] == config.qty_str(sum(b[5] for b in window))
    if window:
        assert got["high_24h"] == config.price_str(max(b[2] for b in window))
        assert got["low_24h"] == config.price_str(min(b[3] for b in window))
        assert got["price_change_24h"] == config.price_str(data.last_price - window[0][1])  # type: ignore[operator]
    else:
        assert got["high_24h"] is None
