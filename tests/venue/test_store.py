"""The SQLite store on its own: migrations, journal/events, snapshots and auth state."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

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
