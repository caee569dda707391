"""The SQLite store on its own: migrations, journal/events, snapshots and auth state."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from service_helpers import SEED_A, SEED_B, T0, Caller, error_code, open_venue

from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.handlers import Venue
from tplus_cli.venue.protocol import ApiRequest
from tplus_cli.venue.replica import Replica
from tplus_cli.venue.store import SCHEMA_VERSION, Store, StoreError


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "venue" / "venue.sqlite3"


def test_fresh_store_is_migrated_in_wal_mode(db: Path) -> None:
    with Store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.last_seq() == 0 and store.last_event_id() == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reopening_does_not_migrate_twice(db: Path) -> None:
    Store(db).close()
    with Store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_a_newer_schema_is_refused(db: Path) -> None:
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer than this tplus"):
        Store(db)


def test_append_needs_a_write_transaction(db: Path) -> None:
    with Store(db) as store, pytest.raises(StoreError):
        store.append(1, 10, {"c": 1}, [])


def test_journal_and_events_round_trip_in_order(db: Path) -> None:
    with Store(db) as store:
        with store.write():
            store.append(1, 100, {"kind": "A", "n": 10**30}, [("orders/u", {"x": 1})])
        with store.write():
            store.append(2, 200, {"kind": "B"}, [("trades/2", {"p": "1.5"}), ("depth/2", {})])
        rows = store.journal_after(0)
        assert [(r.seq, r.ts_ns, r.command) for r in rows] == [
            (1, 100, {"kind": "A", "n": 10**30}),
            (2, 200, {"kind": "B"}),
        ]
        assert store.journal_after(1, limit=5)[0].seq == 2
        assert store.last_seq() == 2 and store.last_ts_ns() == 200
        events = store.events_after(0)
        assert [(e.id, e.seq, e.channel) for e in events] == [
            (1, 1, "orders/u"),
            (2, 2, "trades/2"),
            (3, 2, "depth/2"),
        ]
        assert events[1].payload == {"p": "1.5"}


def test_event_channel_filters_exact_and_prefix(db: Path) -> None:
    with Store(db) as store:
        with store.write():
            store.append(
                1,
                1,
                {},
                [("trades/1", 1), ("trades/2", 2), ("orders/a", 3), ("orders/ab", 4)],
            )
        assert [e.payload for e in store.events_after(0, ["trades/*"])] == [1, 2]
        assert [e.payload for e in store.events_after(0, ["orders/a"])] == [3]
        assert [e.payload for e in store.events_after(1, ["orders/ab", "trades/1"])] == [4]
        assert store.events_after(0, []) == []


def test_a_sequence_gap_or_duplicate_is_refused_and_rolled_back(db: Path) -> None:
    with Store(db) as store:
        with store.write():
            store.append(1, 1, {}, [("c", 1)])
        with pytest.raises(sqlite3.IntegrityError), store.write():
            store.append(2, 2, {}, [("c", 2)])
            store.append(1, 3, {}, [])
        assert store.last_seq() == 1
        assert store.last_event_id() == 1


def test_snapshots_keep_only_the_newest(db: Path) -> None:
    with Store(db) as store:
        with store.write():
            store.save_snapshot(5, 1, {"a": 1})
        with store.write():
            store.save_snapshot(9, 2, {"a": 2})
        snap = store.latest_snapshot()
        assert snap is not None and (snap.seq, snap.format_version, snap.state) == (9, 2, {"a": 2})
        assert store.latest_snapshot(format_version=1) is None
        assert store.last_snapshot_seq() == 9


def test_nonces_are_single_use_bound_to_the_user_and_expire(db: Path) -> None:
    with Store(db) as store:
        store.put_nonce("alice", "n1", expires_ns=100, now_ns=0)
        store.put_nonce("alice", "n2", expires_ns=100, now_ns=0)
        assert not store.consume_nonce("bob", "n1", now_ns=1)
        assert store.consume_nonce("alice", "n1", now_ns=1)
        assert not store.consume_nonce("alice", "n1", now_ns=2)
        assert not store.consume_nonce("alice", "n2", now_ns=101)


def test_tokens_are_visible_to_another_connection(db: Path) -> None:
    with Store(db) as a, Store(db) as b:
        a.put_token("h", "alice", expires_ns=50, now_ns=0)
        assert b.token("h") == ("alice", 50)
        assert b.token("other") is None


def test_writers_on_two_connections_serialize(db: Path) -> None:
    with Store(db) as a, Store(db, busy_timeout_s=0.05) as b:
        with a.write():
            a.append(1, 1, {}, [])
            with pytest.raises(sqlite3.OperationalError, match="locked"), b.write():
                pass
        with b.write():
            b.append(b.last_seq() + 1, 2, {}, [])
        assert a.last_seq() == 2


def test_nested_write_is_refused(db: Path) -> None:
    with Store(db) as store, store.write(), pytest.raises(StoreError), store.write():
        pass


# ---------------------------------------------------------------------- replay through the Exchange


def _busy_day(venue: Venue, clock: StepClock, seed: int, steps: int = 60) -> list[str]:
    """Two traders place, cross, replace and cancel orders; returns every order id used."""
    rng = random.Random(seed)
    traders = [Caller(venue, SEED_A).login(), Caller(venue, SEED_B).login()]
    ids: list[str] = []
    for step in range(steps):
        clock.advance(rng.randrange(1, 400) * 1_000_000)
        who = rng.choice(traders)
        roll = rng.random()
        if roll < 0.6 or not ids:
            oid = f"o{seed}-{step}"
            side = rng.choice(["buy", "sell"])
            price = 650_000 + rng.randrange(-30, 31) * 10
            who.create(side=side, price=price, quantity=rng.randrange(10, 500), order_id=oid)
            ids.append(oid)
        elif roll < 0.8:
            who.cancel(rng.choice(ids))
        else:
            body = who.replace_body(
                rng.choice(ids), price=650_000 + rng.randrange(-30, 31) * 10, quantity=600
            )
            who.send("PATCH", "/orders/replace", body)
    return ids


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replaying_the_journal_rebuilds_the_live_state(db: Path, seed: int) -> None:
    clock = StepClock(T0)
    live = open_venue(db, clock, snapshot_every=10**9)
    _busy_day(venue=live, clock=clock, seed=seed)
    assert live.store.latest_snapshot() is None
    with Store(db) as store:
        replayed = Replica(store, snapshot_every=10**9)
        assert replayed.seq == live.replica.seq == store.last_seq()
        assert replayed.exchange.snapshot() == live.replica.exchange.snapshot()
    live.store.close()


def test_snapshot_plus_replay_equals_full_replay(db: Path) -> None:
    clock = StepClock(T0)
    live = open_venue(db, clock, snapshot_every=7)
    _busy_day(live, clock, seed=4)
    snap = live.store.latest_snapshot()
    assert snap is not None and 0 < snap.seq < live.store.last_seq()
    with Store(db) as store:
        from_snapshot = Replica(store)
        assert from_snapshot.exchange.snapshot() == live.replica.exchange.snapshot()
    # the same state rebuilt from command 1, ignoring the snapshot
    other = db.with_name("copy.sqlite3")
    with Store(db) as src, Store(other) as dst, dst.write():
        for row in src.journal_after(0):
            dst.append(row.seq, row.ts_ns, row.command, [])
    with Store(other) as store:
        assert Replica(store).exchange.snapshot() == live.replica.exchange.snapshot()
    live.store.close()


def test_restart_restores_books_balances_ids_and_sequences(db: Path) -> None:
    clock = StepClock(T0)
    first = open_venue(db, clock, snapshot_every=5)
    alice = Caller(first, SEED_A).login()
    _busy_day(first, clock, seed=5)
    orders, inventory = alice.orders(), alice.inventory()
    depth = first.handle(ApiRequest("GET", "/marketdepth/2", {}, {}, b"")).json()
    seq, last_event = first.store.last_seq(), first.store.last_event_id()
    first.snapshot()
    first.store.close()

    second = open_venue(db, clock)
    assert (second.store.last_seq(), second.store.last_event_id()) == (seq, last_event)
    again = Caller(second, SEED_A, headers=alice.headers)  # the token survived the restart
    assert again.orders() == orders and again.inventory() == inventory
    assert second.handle(ApiRequest("GET", "/marketdepth/2", {}, {}, b"")).json() == depth
    assert error_code(again.create(order_id=orders[-1]["order_id"])) == "DUPLICATE_ORDER"
    assert again.create(order_id="after-restart").status == 200
    # sequence numbers continue: the engine-refused duplicate is journaled too, then the new one
    assert [r.seq for r in second.store.journal_after(seq)] == [seq + 1, seq + 2]
    second.store.close()


def test_two_venues_on_one_file_interleave_writes_consistently(db: Path) -> None:
    clock = StepClock(T0)
    one, two = open_venue(db, clock), open_venue(db, clock)
    a1 = Caller(one, SEED_A).login()
    b2 = Caller(two, SEED_B).login()
    a2 = Caller(two, SEED_A, headers=a1.headers)  # same session seen by the other process
    for i in range(20):
        clock.advance(1_000_000)
        (a1 if i % 2 else a2).create(
            side="sell", price=650_000 + i * 10, quantity=100, order_id=f"a{i}"
        )
        b2.create(side="buy", price=650_000 + i * 5, quantity=150, order_id=f"b{i}")
    assert a1.orders() == a2.orders()
    assert (
        one.handle(ApiRequest("GET", "/trades/2", {}, {}, b"")).json()
        == two.handle(ApiRequest("GET", "/trades/2", {}, {}, b"")).json()
    )
    assert one.replica.seq == two.replica.seq == one.store.last_seq()
    assert one.replica.exchange.snapshot() == two.replica.exchange.snapshot()
    with Store(db) as store:
        assert Replica(store).exchange.snapshot() == one.replica.exchange.snapshot()
    one.store.close()
    two.store.close()


class _FailingStore(Store):
    """A real store whose next journal append fails, as a full disk would."""

    fail_next = False

    def append(self, *args: object, **kw: object) -> None:  # type: ignore[override]
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        super().append(*args, **kw)  # type: ignore[arg-type]


def test_a_failed_commit_rolls_memory_back_to_the_journal(db: Path) -> None:
    clock = StepClock(T0)
    store = _FailingStore(db)
    venue = Venue(store, clock, simulate=False)
    alice = Caller(venue, SEED_A).login()
    assert alice.create(order_id="kept").status == 200
    store.fail_next = True
    resp = alice.create(order_id="lost")
    assert (resp.status, error_code(resp)) == (500, "INTERNAL_ERROR")
    assert [o["order_id"] for o in alice.orders()] == ["kept"]
    with Store(db) as other:
        assert Replica(other).exchange.snapshot() == venue.replica.exchange.snapshot()
    assert alice.create(order_id="lost").status == 200  # the id was never used
    store.close()


def test_migrating_a_version_1_store_adds_the_event_index(db: Path) -> None:
    from tplus_cli.venue.store import MIGRATIONS

    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0])
    conn.execute("CREATE TABLE schema_version (version INTEGER)")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert store.schema_version() == SCHEMA_VERSION == 2
    names = {r[0] for r in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert "events_by_seq" in names


def test_pruned_journal_still_restarts_and_lagging_readers_catch_up(db: Path) -> None:
    clock = StepClock(T0)
    writer = open_venue(db, clock, snapshot_every=10, retain=15)
    lagging = open_venue(db, clock)  # saw nothing of what follows
    _busy_day(writer, clock, seed=6, steps=80)
    assert writer.store.first_seq() > 1  # old rows are gone
    assert writer.store.journal_after(0)[0].seq == writer.store.first_seq()
    lagging.replica.catch_up()
    assert lagging.replica.exchange.snapshot() == writer.replica.exchange.snapshot()
    with Store(db) as store:
        assert Replica(store).exchange.snapshot() == writer.replica.exchange.snapshot()
    writer.store.close()
    lagging.store.close()


def test_a_pruned_journal_without_a_readable_snapshot_is_refused(db: Path) -> None:
    clock = StepClock(T0)
    writer = open_venue(db, clock, snapshot_every=10, retain=15)
    _busy_day(writer, clock, seed=7, steps=40)
    writer.store.close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE snapshots SET format_version = format_version + 100")  # a future format
    conn.commit()
    conn.close()
    with Store(db) as store, pytest.raises(StoreError, match="venue reset"):
        Replica(store)
