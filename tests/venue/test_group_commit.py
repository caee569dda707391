"""Group commit: many order-entry requests, one SQLite transaction, each still all-or-nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from service_helpers import SEED_A, SEED_B, T0, Caller, error_code

from tplus_cli.venue.clock import StepClock
from tplus_cli.venue.handlers import Venue
from tplus_cli.venue.protocol import ApiRequest
from tplus_cli.venue.replica import Replica
from tplus_cli.venue.store import Store, StoreError


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "venue" / "venue.sqlite3"


class _FlakyStore(Store):
    """Fails the journal write of chosen order ids, or the group's COMMIT."""

    fail_ids: frozenset[str] = frozenset()
    fail_commit = False

    def append(self, seq: int, ts_ns: int, command: Any, events: Any) -> None:
        order = command.get("order", {}) if isinstance(command, dict) else {}
        if order.get("order_id") in self.fail_ids:
            # half-written on purpose: the journal row lands, then the events write fails
            super().append(seq, ts_ns, command, [])
            raise OSError("disk full")
        super().append(seq, ts_ns, command, events)

    def group(self) -> Any:
        inner = super().group()
        store = self

        class _Group:
            def __enter__(self) -> None:
                inner.__enter__()

            def __exit__(self, *exc: Any) -> Any:
                if store.fail_commit and exc[0] is None:
                    store._conn.execute("ROLLBACK")  # what a refused COMMIT leaves behind
                    refused = OSError("commit refused")
                    inner.__exit__(OSError, refused, None)
                    raise refused
                return inner.__exit__(*exc)

        return _Group()


def _req(caller: Caller, order_id: str, **kw: Any) -> ApiRequest:
    import json

    body = json.dumps(caller.limit_body(order_id=order_id, **kw)).encode()
    hdrs = {k.lower(): v for k, v in caller.headers.items()}
    return ApiRequest("POST", "/orders/create", {}, hdrs, body)


def _ids(caller: Caller) -> list[str]:
    return [o["order_id"] for o in caller.orders()]


def _journal_rows(db: Path) -> int:
    """Committed journal rows as another connection sees them (never waits for the lock)."""
    reader = sqlite3.connect(str(db), timeout=0)
    try:
        return int(reader.execute("SELECT COUNT(*) FROM journal").fetchone()[0])
    finally:
        reader.close()


def _same_as_a_fresh_replay(db: Path, venue: Venue) -> None:
    with Store(db) as other:
        assert Replica(other).exchange.snapshot() == venue.replica.exchange.snapshot()


def test_a_group_answers_each_request_and_commits_once(db: Path) -> None:
    venue = Venue(Store(db), StepClock(T0), simulate=False)
    alice, bob = Caller(venue, SEED_A).login(), Caller(venue, SEED_B).login()
    reqs = [_req(alice, "a1"), _req(bob, "b1", side="sell", price=600_000), _req(alice, "a1")]
    before = venue.store.last_seq()
    responses = venue.handle_group(reqs)
    assert [r.status for r in responses[:2]] == [200, 200]
    assert error_code(responses[2]) == "DUPLICATE_ORDER"  # sees the first, uncommitted yet
    assert venue.store.last_seq() == before + 3  # the refusal is journaled like any command
    assert _ids(alice) == ["a1"] and alice.orders(open_only=True) == []  # b1 filled it
    _same_as_a_fresh_replay(db, venue)
    venue.store.close()


def test_a_failed_unit_rolls_back_alone(db: Path) -> None:
    store = _FlakyStore(db)
    venue = Venue(store, StepClock(T0), simulate=False)
    alice = Caller(venue, SEED_A).login()
    store.fail_ids = frozenset({"bad"})
    responses = venue.handle_group([_req(alice, "x"), _req(alice, "bad"), _req(alice, "y")])
    assert [r.status for r in responses] == [200, 500, 200]
    assert error_code(responses[1]) == "INTERNAL_ERROR"
    assert sorted(_ids(alice)) == ["x", "y"]
    _same_as_a_fresh_replay(db, venue)
    store.fail_ids = frozenset()
    assert alice.create(order_id="bad").status == 200  # the id was never used
    store.close()


def test_a_refused_commit_fails_every_request_and_keeps_memory_equal_to_the_store(
    db: Path,
) -> None:
    store = _FlakyStore(db)
    venue = Venue(store, StepClock(T0), simulate=False)
    alice = Caller(venue, SEED_A).login()
    assert alice.create(order_id="kept").status == 200
    store.fail_commit = True
    responses = venue.handle_group([_req(alice, "p"), _req(alice, "q")])
    assert [(r.status, error_code(r)) for r in responses] == [(500, "INTERNAL_ERROR")] * 2
    assert responses[0].json()["error"]["retryable"] is True
    store.fail_commit = False
    assert _ids(alice) == ["kept"]
    _same_as_a_fresh_replay(db, venue)
    store.close()


def test_nothing_is_visible_to_other_connections_before_the_group_commits(db: Path) -> None:
    store = Store(db)
    seen: list[int] = []
    with store.group():
        with store.write():
            store.append(1, T0, {"kind": "x"}, [("c", {"n": 1})])
        seen.append(_journal_rows(db))
    seen.append(_journal_rows(db))
    assert seen == [0, 1]
    with pytest.raises(StoreError), store.group(), store.group():
        pass
    with pytest.raises(StoreError), store.write(), store.group():
        pass
    store.close()


def test_a_group_blocks_other_writers_until_it_commits(db: Path) -> None:
    store = Store(db)
    with store.group():
        blocked = sqlite3.connect(str(db), timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            blocked.execute("BEGIN IMMEDIATE")
        blocked.close()
    store.close()
